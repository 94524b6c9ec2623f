//! Overall survival (A4–A6): by metastatic pattern in stage IV (A4), by bone metastases at
//! diagnosis in stage IV non-squamous NSCLC (A5, F5, F6), and from the bone-metastasis
//! diagnosis by molecular family, KRAS status (F7) and NTX class (A6). Every group is known at
//! its time origin: the pattern and bone status at diagnosis, the tumour's genotype and the
//! NTX sample at the bone diagnosis.

use super::estimators::*;
use super::incidence::{
    ecog_factor, family_factor, histology_factor, model_json, subgroup_factor, KUIJPERS_POPULATION,
};
use super::model::*;
use super::plan::{analysis, Population};
use super::timeline::{cox_time, months};
use super::{Study, FAMILIES};
use crate::classify::{resorption, MetastaticPattern, NtxClass};
use crate::schema::vocab::{Histology, Sex};

/// A4–A6.
pub struct SurvivalAnalyses {
    /// A4, A5, A6 declared.
    pub declared: Vec<AnalysisJson>,
    /// The Kaplan–Meier comparisons.
    pub survival: Vec<SurvivalJson>,
    /// The Cox models.
    pub models: Vec<ModelJson>,
}

const OS_FROM_DIAGNOSIS: &str = "overall survival from the lung-cancer diagnosis (months)";
const OS_FROM_BONE: &str = "overall survival from the bone-metastasis diagnosis (months)";

/// A4–A6.
pub fn analyses(s: &Study) -> SurvivalAnalyses {
    let (a4, (a5, a6)) = rayon::join(
        || os_by_pattern(s),
        || rayon::join(|| os_bone_at_diagnosis(s), || os_from_bone(s)),
    );
    let mut out = SurvivalAnalyses {
        declared: Vec::new(),
        survival: Vec::new(),
        models: Vec::new(),
    };
    for (declared, survival, models) in [a4, a5, a6] {
        out.declared.push(declared);
        out.survival.extend(survival);
        out.models.extend(models);
    }
    out
}

type Family = (AnalysisJson, Vec<SurvivalJson>, Vec<ModelJson>);

/// A Cox model of death (from diagnosis or the bone diagnosis) over `rows` with `design`,
/// patients missing ECOG left out when the design needs it.
#[allow(clippy::too_many_arguments)]
fn death_model(
    s: &Study,
    (analysis, id): (&'static str, &str),
    adjustment: &str,
    population: &str,
    rows: &[usize],
    from_bone: bool,
    strata: Option<&dyn Fn(usize) -> usize>,
    build: &dyn Fn(&mut Design, &[usize]),
    needs_ecog: bool,
) -> ModelJson {
    let pt = &s.cohort.patients;
    let used: Vec<usize> = rows
        .iter()
        .copied()
        .filter(|&i| !needs_ecog || pt.ecog[i].is_some())
        .collect();
    let mut model = model_json(
        (analysis, id),
        "Cox model of death (Efron ties)",
        adjustment,
        population,
        (used.len() as u64, (rows.len() - used.len()) as u64),
    );
    let mut design = Design::default();
    build(&mut design, &used);
    let day = |i: usize| {
        let t = &s.timelines[i];
        if from_bone {
            t.end_from_bone
        } else {
            t.end_from_diagnosis
        }
    };
    let stop: Vec<f64> = used.iter().map(|&i| cox_time(day(i))).collect();
    let event: Vec<bool> = used.iter().map(|&i| s.timelines[i].dead).collect();
    let strata: Option<Vec<usize>> = strata.map(|f| used.iter().map(|&i| f(i)).collect());
    fit_cox(
        &mut model,
        CoxData {
            stop: &stop,
            start: None,
            event: &event,
            cluster: None,
            strata: strata.as_deref(),
        },
        design,
    );
    model
}

/// Age, sex and ECOG in a design.
fn age_sex_ecog(s: &Study, design: &mut Design, rows: &[usize]) {
    let pt = &s.cohort.patients;
    design.numeric("age (per 10 years)", rows, |i| {
        f64::from(pt.age_at_diagnosis[i]) / 10.0
    });
    design.numeric("sex=m", rows, |i| {
        f64::from(u8::from(pt.sex[i] == Sex::Male))
    });
    ecog_factor(s, design, rows);
}

/// Patients with stage IV at diagnosis who also pass `rule`.
fn stage_iv(s: &Study, rule: impl Fn(usize) -> Result<(), &'static str>) -> Population {
    Population::select(0..s.n(), |i| {
        if s.cohort.patients.stage[i].is_none() {
            Err("stage not recorded")
        } else if !s.stage_iv(i) {
            Err("not stage IV at diagnosis")
        } else {
            rule(i)
        }
    })
}

/// A4: stage IV by metastatic pattern at diagnosis.
fn os_by_pattern(s: &Study) -> Family {
    let population = stage_iv(s, |i| {
        if s.classified[i].baseline.metastatic_pattern == MetastaticPattern::None {
            Err("stage IV with no metastatic site recorded")
        } else {
            Ok(())
        }
    });
    let rows = &population.rows;
    let pattern = |i: usize| s.classified[i].baseline.metastatic_pattern;
    let groups = breakdown(rows, pattern, |m| m.as_str().into());
    let name = "stage IV at diagnosis with a metastatic site recorded";
    let survival = survival(
        &SurvivalSpec {
            analysis: "A4",
            id: "os_by_metastatic_pattern",
            endpoint: OS_FROM_DIAGNOSIS,
            population: name,
            horizons: &s.settings.horizons_months,
        },
        &groups,
        &|i| s.os(i),
        None,
    );
    let levels = [
        (MetastaticPattern::VisceralOnly, "visceral only"),
        (MetastaticPattern::BoneOnly, "bone only"),
        (MetastaticPattern::BoneAndVisceral, "bone and visceral"),
    ];
    let pattern_factor = |design: &mut Design, rows: &[usize]| {
        design.factor(
            "pattern",
            &levels,
            MetastaticPattern::VisceralOnly,
            rows,
            pattern,
        );
    };
    let crude = death_model(
        s,
        ("A4", "os_by_pattern_crude"),
        "crude, on the patients of the adjusted model (ECOG recorded)",
        name,
        rows,
        false,
        None,
        &pattern_factor,
        true,
    );
    let adjusted = death_model(
        s,
        ("A4", "os_by_pattern_adjusted"),
        "adjusted for age, sex, ECOG, histology and molecular subgroup (C3)",
        name,
        rows,
        false,
        None,
        &|design, rows| {
            pattern_factor(design, rows);
            age_sex_ecog(s, design, rows);
            histology_factor(s, design, rows);
            subgroup_factor(s, design, rows);
        },
        true,
    );
    (
        population.declare(analysis("A4")),
        vec![survival],
        vec![crude, adjusted],
    )
}

/// A5: stage IV non-squamous NSCLC by bone metastases at diagnosis (F5, F6).
fn os_bone_at_diagnosis(s: &Study) -> Family {
    let population = stage_iv(s, |i| {
        if s.non_squamous_nsclc(i) {
            Ok(())
        } else {
            Err("not non-squamous NSCLC")
        }
    });
    let rows = &population.rows;
    let with_without = |rows: &[usize]| {
        split(
            rows,
            |i| s.bone_at_diagnosis(i),
            "bone metastases at diagnosis",
            "no bone metastases at diagnosis",
        )
    };
    let egfr: Vec<usize> = rows.iter().copied().filter(|&i| s.family(i) == 0).collect();
    let kras: Vec<usize> = rows.iter().copied().filter(|&i| s.family(i) == 2).collect();
    let mut survival_json = Vec::new();
    let mut models = Vec::new();
    let bone_term = |design: &mut Design, rows: &[usize]| {
        design.numeric("bone metastases at diagnosis", rows, |i| {
            f64::from(u8::from(s.bone_at_diagnosis(i)))
        });
    };
    for (id, family, members) in [("F5", "EGFR-mutant", &egfr), ("F6", "KRAS-mutant", &kras)] {
        let name = format!("{family} {KUIJPERS_POPULATION}");
        survival_json.push(survival(
            &SurvivalSpec {
                analysis: "A5",
                id,
                endpoint: OS_FROM_DIAGNOSIS,
                population: &name,
                horizons: &s.settings.horizons_months,
            },
            &with_without(members),
            &|i| s.os(i),
            None,
        ));
        models.push(death_model(
            s,
            ("A5", &format!("{id}_adjusted")),
            "adjusted for age, sex and ECOG",
            &name,
            members,
            false,
            None,
            &|design, rows| {
                bone_term(design, rows);
                age_sex_ecog(s, design, rows);
            },
            true,
        ));
    }
    let family = |i: usize| s.family(i);
    let stratified_name = format!("{KUIJPERS_POPULATION}, stratified by molecular family");
    survival_json.push(survival(
        &SurvivalSpec {
            analysis: "A5",
            id: "os_by_bone_at_diagnosis_stratified",
            endpoint: OS_FROM_DIAGNOSIS,
            population: &stratified_name,
            horizons: &s.settings.horizons_months,
        },
        &with_without(rows),
        &|i| s.os(i),
        Some(("molecular family", &family)),
    ));
    models.push(death_model(
        s,
        ("A5", "os_by_bone_at_diagnosis_stratified_adjusted"),
        "adjusted for age, sex and ECOG; stratified by molecular family",
        &stratified_name,
        rows,
        false,
        Some(&family),
        &|design, rows| {
            bone_term(design, rows);
            age_sex_ecog(s, design, rows);
        },
        true,
    ));
    // Bone metastases at diagnosis are known only by the end of the synchronous window: the
    // same comparison from that day, among patients alive and under follow-up then (a
    // landmark), shows what the up to 30 days of immortal time weigh.
    let window = i64::from(s.settings.synchronous_window_days);
    let alive_at_window: Vec<usize> = rows
        .iter()
        .copied()
        .filter(|&i| s.timelines[i].end_from_diagnosis > window)
        .collect();
    let landmark_name = format!(
        "{KUIJPERS_POPULATION} alive {window} days after diagnosis, stratified by molecular family"
    );
    survival_json.push(survival(
        &SurvivalSpec {
            analysis: "A5",
            id: "os_by_bone_at_diagnosis_landmark",
            endpoint: "overall survival from the end of the synchronous window (months)",
            population: &landmark_name,
            horizons: &s.settings.horizons_months,
        },
        &with_without(&alive_at_window),
        &|i| {
            let t = &s.timelines[i];
            (months(t.end_from_diagnosis - window), t.dead)
        },
        Some(("molecular family", &family)),
    ));
    (population.declare(analysis("A5")), survival_json, models)
}

/// A6: from the bone-metastasis diagnosis, by molecular family, KRAS status in adenocarcinoma
/// (F7) and NTX class at bone diagnosis.
fn os_from_bone(s: &Study) -> Family {
    let pt = &s.cohort.patients;
    let population = Population::select(0..s.n(), |i| {
        if s.bone(i) {
            Ok(())
        } else {
            Err("no bone metastases")
        }
    });
    let rows = &population.rows;
    let horizons = &s.settings.horizons_months;
    let from_bone = |i: usize| s.os_from_bone(i);
    let families = breakdown(rows, |i| s.family(i), |k| FAMILIES[*k].1.into());
    let mut survival_json = vec![survival(
        &SurvivalSpec {
            analysis: "A6",
            id: "os_from_bone_by_molecular_family",
            endpoint: OS_FROM_BONE,
            population: "patients with bone metastases",
            horizons,
        },
        &families,
        &from_bone,
        None,
    )];
    // F7: KRAS wild type (first: the hazard ratio is wild type vs mutant) and KRAS-mutant, both
    // by one rule (no EGFR mutation, no ALK rearrangement, KRAS tested).
    let adeno: Vec<usize> = rows
        .iter()
        .copied()
        .filter(|&i| pt.histology[i] == Histology::Adenocarcinoma && s.kras_status(i).is_some())
        .collect();
    let kras_groups = split(
        &adeno,
        |i| s.kras_status(i) == Some(false),
        "KRAS wild type",
        "KRAS mutant",
    );
    survival_json.push(survival(
        &SurvivalSpec {
            analysis: "A6",
            id: "F7",
            endpoint: OS_FROM_BONE,
            population: "adenocarcinoma with bone metastases, KRAS tested, no EGFR mutation or ALK rearrangement",
            horizons,
        },
        &kras_groups,
        &from_bone,
        None,
    ));
    // NTX class at the bone diagnosis: time from the later of the bone diagnosis and the
    // sample, so that nobody is grouped by a value measured after their origin.
    let ntx = population.refine(|i| match s.timelines[i].ntx_at_bone {
        None => Err("no NTX sample within 30 days of the bone-metastasis diagnosis"),
        Some(sample) if sample.origin() > s.timelines[i].end_from_bone => {
            Err("follow-up ended before the NTX sample")
        }
        Some(_) => Ok(()),
    });
    let high = |i: usize| {
        s.timelines[i]
            .ntx_at_bone
            .is_some_and(|v| resorption::ntx_class(v.value, s.settings) == NtxClass::High)
    };
    let from_ntx = |i: usize| {
        let t = &s.timelines[i];
        let origin = t.ntx_at_bone.map_or(0, |v| v.origin());
        (months(t.end_from_bone - origin), t.dead)
    };
    survival_json.push(survival(
        &SurvivalSpec {
            analysis: "A6",
            id: "os_from_bone_by_ntx",
            endpoint: "overall survival from the bone-metastasis diagnosis, or from the NTX sample when later (months)",
            population:
                "patients with bone metastases and NTX within 30 days of the bone diagnosis",
            horizons,
        },
        &split(&ntx.rows, high, "NTX >= 100", "NTX < 100"),
        &from_ntx,
        None,
    ));
    // The five families in one Cox model, triple-negative the reference.
    let families_model = death_model(
        s,
        ("A6", "os_from_bone_by_family"),
        "crude",
        "patients with bone metastases",
        rows,
        true,
        None,
        &|design, rows| family_factor(s, design, rows),
        false,
    );
    (
        population.declare(analysis("A6")),
        survival_json,
        vec![families_model],
    )
}
