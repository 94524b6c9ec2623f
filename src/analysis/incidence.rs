//! Prevalence and incidence: bone metastases at diagnosis (A2, a share at a fixed moment) and
//! over follow-up (A3, the Aalen–Johansen cumulative incidence with death competing), the
//! hypercalcaemic crisis at diagnosis, over follow-up and per person-year (A12); with the
//! cohort and Table 1 (A1), which share their population.

use super::estimators::*;
use super::model::*;
use super::plan::{analysis, Population};
use super::timeline::{self, months, split_person_time, AgentExposure, DAYS_PER_YEAR};
use super::{cohort, Study, FAMILIES, TRIPLE_NEGATIVE};
use crate::classify::{calcaemia, HistologyGroup, MetastaticPattern, MolecularSubgroup};
use crate::ingest::TableBalance;
use crate::schema::vocab::{BoneAgent, Histology, NStage, Sex, Vocabulary};
use crate::stats::proportion::clopper_pearson;
use crate::stats::rate::exact_poisson_rate;

/// A1–A3 and the cohort.
pub struct Prevalence {
    /// A1 declared.
    pub a1: AnalysisJson,
    /// A2 declared.
    pub a2: AnalysisJson,
    /// A3 declared.
    pub a3: AnalysisJson,
    /// The cohort section.
    pub cohort: CohortJson,
    /// Table 1.
    pub table_one: TableOneJson,
    /// Shares of bone metastases at diagnosis.
    pub incidence: Vec<IncidenceJson>,
    /// F3 and F4's crude odds ratios.
    pub associations: Vec<AssociationJson>,
    /// A3's cumulative incidences.
    pub cumulative: Vec<CompetingRiskJson>,
    /// The adjusted logistic models.
    pub models: Vec<ModelJson>,
}

/// Stage IV non-squamous NSCLC: the population of Kuijpers 2018 (F3–F6).
pub const KUIJPERS_POPULATION: &str = "stage IV non-squamous NSCLC";

/// A1, A2 and A3.
pub fn prevalence(s: &Study, balance: &[TableBalance]) -> Prevalence {
    // The parts are independent: Table 1, the adjusted logistic model (the costliest), A2's
    // shares and odds ratios, A3's cumulative incidences and the cohort section run side by
    // side; each is a pure function of its rows, so the results do not depend on the threads.
    let all: Vec<usize> = (0..s.n()).collect();
    let (((table_one, population), risk_model), ((shares, (a3, cumulative)), cohort_json)) =
        rayon::join(
            || rayon::join(|| cohort::table_one(s), || risk_factor_model(s, &all)),
            || {
                rayon::join(
                    || rayon::join(|| bone_at_diagnosis(s, &all), || bone_cumulative(s)),
                    || cohort::cohort_section(s, balance),
                )
            },
        );
    let (incidence, associations, mut models) = shares;
    models.insert(0, risk_model);
    Prevalence {
        a1: population.declare(analysis("A1")),
        a2: population.declare(analysis("A2")),
        a3,
        cohort: cohort_json,
        table_one,
        incidence,
        associations,
        cumulative,
        models,
    }
}

/// A2's shares at diagnosis, F3/F4's crude odds ratios and their adjusted models.
fn bone_at_diagnosis(
    s: &Study,
    rows: &[usize],
) -> (Vec<IncidenceJson>, Vec<AssociationJson>, Vec<ModelJson>) {
    let pt = &s.cohort.patients;
    // A2: bone metastases at diagnosis, a state at a fixed moment: a share.
    let bone_dx = |i: usize| s.bone_at_diagnosis(i);
    let outcome = "bone metastases at diagnosis (synchronous)";
    // Groups keyed by a small code (in the classifier's order), named once per group.
    let share = |id: &str, by: &str, key: &dyn Fn(usize) -> u8, name: &dyn Fn(u8) -> String| {
        incidence_by(
            ("A2", id),
            outcome,
            "all patients",
            by,
            rows,
            key,
            name,
            &bone_dx,
        )
    };
    let mut incidence_json = vec![
        share("bone_at_diagnosis_overall", "overall", &|_| 0, &|_| {
            "all".into()
        }),
        share(
            "bone_at_diagnosis_by_molecular",
            "molecular subgroup",
            &|i| s.subgroup(i) as u8,
            &|k| MolecularSubgroup::ALL[usize::from(k)].as_str().into(),
        ),
        share(
            "bone_at_diagnosis_by_histology",
            "histology",
            &|i| s.histology_group(i) as u8,
            &|k| HISTOLOGY_GROUPS[usize::from(k)].as_str().into(),
        ),
        // F10's histologies as the registry records them (C4 groups large-cell and NSCLC NOS).
        share(
            "bone_at_diagnosis_by_recorded_histology",
            "histology as recorded",
            &|i| pt.histology[i].index() as u8,
            &|k| Histology::ALL[usize::from(k)].as_str().into(),
        ),
        share(
            "bone_at_diagnosis_by_sex",
            "sex",
            &|i| pt.sex[i].index() as u8,
            &|k| Sex::ALL[usize::from(k)].as_str().into(),
        ),
        share(
            "bone_at_diagnosis_by_risk_profile",
            "risk profile (C10)",
            // Not assessable first, then 0-4 risk factors.
            &|i| {
                s.classified[i]
                    .baseline
                    .risk_factor_count
                    .map_or(0, |k| k + 1)
            },
            &|k| match k {
                0 => "not assessable".into(),
                k => format!("{} risk factors", k - 1),
            },
        ),
    ];
    let by_subgroup = |rows: &[usize]| breakdown(rows, |i| s.subgroup(i), |m| m.as_str().into());
    let iv_ns: Vec<usize> = rows
        .iter()
        .copied()
        .filter(|&i| s.stage_iv(i) && s.non_squamous_nsclc(i))
        .collect();
    incidence_json.push(incidence(
        ("A2", "bone_at_diagnosis_stage_iv_non_squamous"),
        outcome,
        KUIJPERS_POPULATION,
        "molecular subgroup",
        &[
            vec![("all".to_string(), iv_ns.clone())],
            by_subgroup(&iv_ns),
        ]
        .concat(),
        &bone_dx,
    ));
    let among = |is: &dyn Fn(MolecularSubgroup) -> bool| -> Vec<usize> {
        iv_ns
            .iter()
            .copied()
            .filter(|&i| is(s.subgroup(i)))
            .collect()
    };
    let egfr = among(&|m| m.is_egfr());
    let triple_negative = among(&|m| m == MolecularSubgroup::TripleNegative);
    let g12a = among(&|m| m == MolecularSubgroup::KrasG12a);
    let population = format!("{KUIJPERS_POPULATION}; outcome: bone metastases at diagnosis");
    let f3 = association(
        ("A2", "F3"),
        "EGFR-mutant vs triple-negative",
        &population,
        ("EGFR-mutant", &egfr),
        ("triple-negative", &triple_negative),
        &bone_dx,
    );
    let f4 = association(
        ("A2", "F4"),
        "KRAS G12A vs triple-negative",
        &population,
        ("KRAS G12A", &g12a),
        ("triple-negative", &triple_negative),
        &bone_dx,
    );
    let mut models = Vec::new();
    for (id, name, exposed) in [
        ("F3_adjusted", "EGFR-mutant", &egfr),
        ("F4_adjusted", "KRAS G12A", &g12a),
    ] {
        models.push(exposure_model(s, id, name, exposed, &triple_negative));
    }

    (incidence_json, vec![f3, f4], models)
}

/// A3: bone metastases over follow-up in advanced disease, death competing.
fn bone_cumulative(s: &Study) -> (AnalysisJson, Vec<CompetingRiskJson>) {
    let pt = &s.cohort.patients;
    let by_subgroup = |rows: &[usize]| breakdown(rows, |i| s.subgroup(i), |m| m.as_str().into());
    let advanced = Population::select(0..s.n(), |i| match pt.stage[i] {
        None => Err("stage not recorded"),
        Some(stage) if !timeline::advanced(Some(stage)) => Err("stage I-II"),
        _ => Ok(()),
    });
    let metachronous_risk = advanced.refine(|i| {
        if s.bone_at_diagnosis(i) {
            Err("bone metastases at diagnosis")
        } else {
            Ok(())
        }
    });
    let a3 = advanced.declare(analysis("A3"));
    let bone_timing = |i: usize| -> (f64, u32) {
        let t = &s.timelines[i];
        match t.bone_from_diagnosis {
            Some(_) if t.bone_at_diagnosis => (0.0, 1),
            Some(b) => (months(b), 1),
            None => (months(t.end_from_diagnosis), if t.dead { 2 } else { 0 }),
        }
    };
    let horizons = &s.settings.horizons_months;
    let endpoint = "months from the lung-cancer diagnosis; death without bone metastases competing; last contact censors";
    let metachronous = "advanced disease (stage III-IV) without bone metastases at diagnosis";
    let synchronous = advanced
        .rows
        .iter()
        .filter(|&&i| s.bone_at_diagnosis(i))
        .count() as u64;
    let m = &metachronous_risk.rows;
    let mut cumulative_json = Vec::new();
    // The metachronous risk overall and by A2's baseline groups, with Gray's tests.
    for (id, by, groups) in [
        (
            "bone_metachronous_advanced",
            "overall",
            vec![("all".to_string(), m.clone())],
        ),
        (
            "bone_metachronous_advanced_by_molecular",
            "molecular subgroup",
            by_subgroup(m),
        ),
        (
            "bone_metachronous_advanced_by_histology",
            "histology",
            breakdown(m, |i| s.histology_group(i), |h| h.as_str().into()),
        ),
        (
            "bone_metachronous_advanced_by_sex",
            "sex",
            breakdown(m, |i| pt.sex[i], |v| v.as_str().into()),
        ),
        (
            "bone_metachronous_advanced_by_risk_profile",
            "risk profile (C10)",
            breakdown(
                m,
                |i| {
                    s.classified[i]
                        .baseline
                        .risk_factor_count
                        .as_ref()
                        .ok()
                        .copied()
                },
                |r| r.map_or("not assessable".into(), |k| format!("{k} risk factors")),
            ),
        ),
    ] {
        cumulative_json.push(cumulative(
            &CifSpec {
                analysis: "A3",
                id,
                outcome: "bone metastases after diagnosis (metachronous)",
                endpoint,
                population: metachronous,
                by,
                horizons,
            },
            &groups,
            &bone_timing,
            0,
        ));
    }
    cumulative_json.push(cumulative(
        &CifSpec {
            analysis: "A3",
            id: "bone_all_advanced",
            outcome: "bone metastases (synchronous counted at 0)",
            endpoint,
            population: "advanced disease (stage III-IV)",
            by: "overall",
            horizons: &with_horizon(horizons, 24.0),
        },
        &vec![("all".to_string(), advanced.rows.clone())],
        &bone_timing,
        synchronous,
    ));
    (a3, cumulative_json)
}

/// A model's skeleton: the fit fills its terms, events and why it is not fitted.
pub fn model_json(
    (analysis, id): (&'static str, &str),
    model: &str,
    adjustment: &str,
    population: &str,
    (n, dropped): (u64, u64),
) -> ModelJson {
    let ratio = if model.starts_with("logistic") {
        "odds ratio"
    } else {
        "hazard ratio"
    };
    ModelJson {
        id: id.into(),
        analysis,
        adjustment: adjustment.into(),
        model: model.into(),
        population: population.into(),
        ratio: ratio.into(),
        variance: "model-based".into(),
        n: Count::Shown(n),
        intervals: None,
        n_dropped_missing: Count::Shown(dropped),
        events: Count::Shown(0),
        terms: Vec::new(),
        constant_terms: Vec::new(),
        not_fitted: None,
    }
}

/// A2: adjusted odds ratios of bone metastases at diagnosis (sex, age, size, N, non-bone
/// sites, histology, molecular subgroup) among patients with every covariate recorded.
fn risk_factor_model(s: &Study, all: &[usize]) -> ModelJson {
    let pt = &s.cohort.patients;
    let rows: Vec<usize> = all
        .iter()
        .copied()
        .filter(|&i| {
            pt.tumor_size_mm[i].is_some() && matches!(pt.n_stage[i], Some(n) if n != NStage::Nx)
        })
        .collect();
    let mut model = model_json(
        ("A2", "risk_factors_bone_at_diagnosis"),
        "logistic regression of bone metastases at diagnosis",
        "adjusted for sex, age, tumour size > 20 mm, N1-N3, non-bone metastatic sites, histology and molecular subgroup (C3)",
        "patients with tumour size and N stage recorded",
        (rows.len() as u64, (all.len() - rows.len()) as u64),
    );
    let size = |i: usize| pt.tumor_size_mm[i].is_some_and(|v| v > 20.0);
    let nodes = |i: usize| !matches!(pt.n_stage[i], Some(NStage::N0));
    let sites = |i: usize| {
        matches!(
            s.classified[i].baseline.metastatic_pattern,
            MetastaticPattern::VisceralOnly | MetastaticPattern::BoneAndVisceral
        )
    };
    // Patients with equal covariates share a design row: one code per pattern.
    let pattern = |i: usize| {
        u64::from(pt.sex[i] == Sex::Male)
            | u64::from(pt.age_at_diagnosis[i]) << 1
            | u64::from(size(i)) << 9
            | u64::from(nodes(i)) << 10
            | u64::from(sites(i)) << 11
            | (s.histology_group(i) as u64) << 12
            | (s.subgroup(i) as u64) << 16
    };
    fit_logistic_by_pattern(
        &mut model,
        &rows,
        |i| s.bone_at_diagnosis(i),
        pattern,
        |design, rows| {
            design.numeric("sex=m", rows, |i| {
                f64::from(u8::from(pt.sex[i] == Sex::Male))
            });
            design.numeric("age (per 10 years)", rows, |i| {
                f64::from(pt.age_at_diagnosis[i]) / 10.0
            });
            design.numeric("tumour size > 20 mm", rows, |i| {
                f64::from(u8::from(size(i)))
            });
            design.numeric("N1-N3", rows, |i| f64::from(u8::from(nodes(i))));
            design.numeric("non-bone metastatic site at diagnosis", rows, |i| {
                f64::from(u8::from(sites(i)))
            });
            histology_factor(s, design, rows);
            subgroup_factor(s, design, rows);
        },
    );
    model
}

/// The histology groups in their order (C4).
const HISTOLOGY_GROUPS: [HistologyGroup; 5] = [
    HistologyGroup::Adenocarcinoma,
    HistologyGroup::Squamous,
    HistologyGroup::OtherNsclc,
    HistologyGroup::SmallCell,
    HistologyGroup::Other,
];

/// Histology group as a factor, adenocarcinoma the reference.
pub fn histology_factor(s: &Study, design: &mut Design, rows: &[usize]) {
    design.factor(
        "histology",
        &[
            (HistologyGroup::Adenocarcinoma, "adenocarcinoma"),
            (HistologyGroup::Squamous, "squamous"),
            (HistologyGroup::OtherNsclc, "other NSCLC"),
            (HistologyGroup::SmallCell, "small-cell"),
            (HistologyGroup::Other, "other"),
        ],
        HistologyGroup::Adenocarcinoma,
        rows,
        |i| s.histology_group(i),
    );
}

/// Molecular subgroup (C3) as a factor, triple-negative the reference.
pub fn subgroup_factor(s: &Study, design: &mut Design, rows: &[usize]) {
    let levels: Vec<(MolecularSubgroup, &str)> = MolecularSubgroup::ALL
        .iter()
        .map(|&m| (m, m.as_str()))
        .collect();
    design.factor(
        "molecular",
        &levels,
        MolecularSubgroup::TripleNegative,
        rows,
        |i| s.subgroup(i),
    );
}

/// Molecular family as a factor, triple-negative the reference.
pub fn family_factor(s: &Study, design: &mut Design, rows: &[usize]) {
    design.factor("molecular", &FAMILIES, TRIPLE_NEGATIVE, rows, |i| {
        s.family(i)
    });
}

/// ECOG as a factor (0, 1, 2, 3-4), 0 the reference. Every row must have ECOG recorded (the
/// callers leave out the others and count them): a missing value would otherwise read as the
/// reference level.
pub fn ecog_factor(s: &Study, design: &mut Design, rows: &[usize]) {
    let pt = &s.cohort.patients;
    debug_assert!(rows.iter().all(|&i| pt.ecog[i].is_some()));
    design.factor(
        "ECOG",
        &[(0u8, "0"), (1, "1"), (2, "2"), (3, "3-4")],
        0,
        rows,
        |i| pt.ecog[i].map_or(0, |e| e.min(3)),
    );
}

/// F3/F4 adjusted (age, sex, ECOG): the exposed subgroup against triple-negative among stage
/// IV non-squamous NSCLC with ECOG recorded.
fn exposure_model(
    s: &Study,
    id: &str,
    exposed_name: &str,
    exposed: &[usize],
    reference: &[usize],
) -> ModelJson {
    let pt = &s.cohort.patients;
    let candidates: Vec<usize> = exposed.iter().chain(reference).copied().collect();
    let rows: Vec<usize> = candidates
        .iter()
        .copied()
        .filter(|&i| pt.ecog[i].is_some())
        .collect();
    let mut model = model_json(
        ("A2", id),
        "logistic regression of bone metastases at diagnosis",
        "adjusted for age, sex and ECOG",
        &format!("{KUIJPERS_POPULATION}, {exposed_name} or triple-negative, ECOG recorded"),
        (rows.len() as u64, (candidates.len() - rows.len()) as u64),
    );
    let is_exposed: std::collections::HashSet<usize> = exposed.iter().copied().collect();
    let exposure = |i: usize| is_exposed.contains(&i);
    // Patients with equal covariates share a design row: one code per pattern.
    let pattern = |i: usize| {
        u64::from(exposure(i))
            | u64::from(pt.age_at_diagnosis[i]) << 1
            | u64::from(pt.sex[i] == Sex::Male) << 9
            | u64::from(pt.ecog[i].unwrap_or(0)) << 10
    };
    fit_logistic_by_pattern(
        &mut model,
        &rows,
        |i| s.bone_at_diagnosis(i),
        pattern,
        |design, rows| {
            design.numeric(&format!("{exposed_name} (vs triple-negative)"), rows, |i| {
                f64::from(u8::from(exposure(i)))
            });
            design.numeric("age (per 10 years)", rows, |i| {
                f64::from(pt.age_at_diagnosis[i]) / 10.0
            });
            design.numeric("sex=m", rows, |i| {
                f64::from(u8::from(pt.sex[i] == Sex::Male))
            });
            ecog_factor(s, design, rows);
        },
    );
    model
}

/// Rates of events split into untreated and treated person-time, with the exact conditional
/// rate ratio treated vs untreated (R's `poisson.test(c(x1, x0), c(T1, T0))`).
pub fn split_rates(
    (analysis, id): (&'static str, &str),
    measure: &str,
    population: &str,
    rows: &[usize],
    split: impl Fn(usize) -> ([i64; 2], [u64; 2]),
) -> RatesJson {
    let (mut days, mut events, mut patients) = ([0i64; 2], [0u64; 2], [0u64; 2]);
    for &i in rows {
        let (dd, ee) = split(i);
        for k in 0..2 {
            days[k] += dd[k];
            events[k] += ee[k];
            patients[k] += u64::from(dd[k] > 0);
        }
    }
    let years = days.map(|x| x as f64 / DAYS_PER_YEAR);
    let row = |k: usize, name: &str| {
        let rate = match exact_poisson_rate(events[k], years[k], 0.95) {
            Ok(r) => Estimate::new(r.estimate, Some(r.lower), Some(r.upper)),
            _ => Estimate::NONE,
        };
        RateJson {
            group: name.into(),
            patients: Count::Shown(patients[k]),
            events: Count::Shown(events[k]),
            person_years: Some(years[k]),
            rate,
        }
    };
    let groups = vec![
        row(1, "treated person-time"),
        row(0, "untreated person-time"),
    ];
    let shown = groups.iter().all(|g| g.rate.estimate.is_some());
    let rate_ratio = shown
        .then(|| {
            let total = events[0] + events[1];
            let p = clopper_pearson(events[1], total, 0.95).ok()?;
            let scale = years[0] / years[1];
            let odds = |x: f64| {
                if x >= 1.0 {
                    f64::INFINITY
                } else {
                    x / (1.0 - x) * scale
                }
            };
            Some(Estimate {
                estimate: finite(odds(p.estimate)),
                lower: finite(odds(p.lower)),
                upper: finite(odds(p.upper)),
            })
        })
        .flatten();
    RatesJson {
        id: id.into(),
        analysis,
        measure: measure.into(),
        population: population.into(),
        by: "bone-targeted agent (person-time split at its start)".into(),
        groups,
        rate_ratio,
    }
}

/// A12 and its results.
pub struct Calcaemia {
    /// A12 declared.
    pub declared: AnalysisJson,
    /// A crisis at diagnosis.
    pub at_diagnosis: IncidenceJson,
    /// The first crisis over follow-up, death competing.
    pub cumulative: CompetingRiskJson,
    /// Crises per person-year, untreated vs treated.
    pub rates: RatesJson,
}

/// A12: the laboratory hypercalcaemic crisis.
pub fn calcaemia(s: &Study) -> Calcaemia {
    let pt = &s.cohort.patients;
    let all = Population::select(0..s.n(), |_| Ok(()));
    let measured: Vec<usize> = all
        .rows
        .iter()
        .copied()
        .filter(|&i| s.classified[i].baseline.corrected_calcium.is_ok())
        .collect();
    let at_diagnosis = incidence(
        ("A12", "crisis_at_diagnosis"),
        "corrected calcium above the crisis threshold at diagnosis (laboratory crisis)",
        "patients with a baseline corrected calcium",
        "overall",
        &vec![("all".to_string(), measured)],
        &|i| {
            s.classified[i]
                .baseline
                .corrected_calcium
                .as_ref()
                .is_ok_and(|&v| calcaemia::is_crisis(v, s.settings))
        },
    );
    let timing = |i: usize| -> (f64, u32) {
        let t = &s.timelines[i];
        match t.crisis_days.first() {
            Some(&k) if k <= t.end_from_diagnosis => (months(k), 1),
            _ => (months(t.end_from_diagnosis), if t.dead { 2 } else { 0 }),
        }
    };
    let at_zero = all
        .rows
        .iter()
        .filter(|&&i| s.timelines[i].crisis_days.first().is_some_and(|&k| k <= 0))
        .count() as u64;
    let cumulative = cumulative(
        &CifSpec {
            analysis: "A12",
            id: "first_crisis",
            outcome: "first laboratory hypercalcaemic crisis",
            endpoint: "months from the lung-cancer diagnosis; death without a crisis competing; last contact censors",
            population: "all patients",
            by: "overall",
            horizons: &s.settings.horizons_months,
        },
        &vec![("all".to_string(), all.rows.clone())],
        &timing,
        at_zero,
    );
    // Crises per person-year from diagnosis, the agent's start dated from the diagnosis.
    let agent_from_diagnosis = |i: usize| match (pt.bone_agent[i], pt.bone_agent_start[i]) {
        (None, _) => AgentExposure::NotRecorded,
        (Some(BoneAgent::None), _) => AgentExposure::Never,
        (Some(_), None) => AgentExposure::NoStartDate,
        (Some(_), Some(start)) => {
            AgentExposure::StartsOn((start - pt.diagnosis_date[i]).num_days())
        }
    };
    let usable = all.refine(|i| match agent_from_diagnosis(i).unusable() {
        Some(reason) => Err(reason),
        None => Ok(()),
    });
    let rates = split_rates(
        ("A12", "crisis_rate_by_agent"),
        "laboratory crises (distinct days) per patient-year from diagnosis",
        "patients with a usable bone-agent record",
        &usable.rows,
        |i| {
            let t = &s.timelines[i];
            split_person_time(
                t.end_from_diagnosis,
                &t.crisis_days,
                agent_from_diagnosis(i),
            )
        },
    );
    Calcaemia {
        declared: all.declare(analysis("A12")),
        at_diagnosis,
        cumulative,
        rates,
    }
}
