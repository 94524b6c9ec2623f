//! A1 and the cohort's description: the row balance, follow-up and missingness; Table 1
//! overall and by bone metastases at diagnosis (as R's tableone prints it: n (%) of the
//! patients with a value, median (IQR) with type-7 quantiles, missing counts, standardised
//! mean differences); the distribution of the highest corrected calcium.

use super::model::*;
use super::plan::Population;
use super::Study;
use crate::classify::HistologyGroup;
use crate::ingest::TableBalance;
use crate::schema::vocab::{BoneAgent, NStage, Sex, Stage, Vocabulary};
use crate::stats::describe::{quantile, smd_categorical, smd_continuous};
use crate::stats::km::{ConfType, KaplanMeier};

pub fn cohort_section(s: &Study, balance: &[TableBalance]) -> CohortJson {
    let p = s;
    let n = p.n();
    let pt = &p.cohort.patients;
    // Reverse Kaplan–Meier: follow-up is the time to censoring, death censoring it.
    let (t, alive): (Vec<f64>, Vec<bool>) = (0..n)
        .map(|i| {
            let (t, dead) = p.os(i);
            (t, !dead)
        })
        .unzip();
    let (follow_up, follow_up_not_estimated) =
        match KaplanMeier::fit(&t, &alive, None, 0.95, ConfType::LogLog) {
            Ok(km) => {
                let m = km.median();
                let e = Estimate {
                    estimate: m.estimate,
                    lower: m.lower,
                    upper: m.upper,
                };
                (e, None)
            }
            Err(e) => (Estimate::NONE, Some(e.to_string())),
        };
    let person_years = t.iter().sum::<f64>() * super::DAYS_PER_MONTH / 365.25;
    let deaths = (0..n).filter(|&i| p.timelines[i].dead).count() as u64;
    let missing = |name: &str, k: usize| {
        let count = Count::Shown(k as u64);
        MissingnessJson {
            column: name.into(),
            share: (!count.is_suppressed() && n > 0).then(|| k as f64 / n as f64),
            missing: count,
        }
    };
    let absent = |v: &dyn Fn(usize) -> bool| (0..n).filter(|&i| v(i)).count();
    CohortJson {
        tables: balance
            .iter()
            .map(|b| TableBalanceJson {
                table: b.table.as_str().into(),
                read: b.rows_read,
                accepted: b.rows_accepted,
                rejected: b.rows_rejected,
            })
            .collect(),
        patients: Count::Shown(n as u64),
        deaths: Count::Shown(deaths),
        follow_up_months: follow_up,
        follow_up_not_estimated,
        person_years,
        missingness: vec![
            missing("stage", absent(&|i| pt.stage[i].is_none())),
            missing("tumor_size_mm", absent(&|i| pt.tumor_size_mm[i].is_none())),
            missing("n_stage", absent(&|i| pt.n_stage[i].is_none())),
            missing("egfr", absent(&|i| pt.egfr[i].is_none())),
            missing("alk", absent(&|i| pt.alk[i].is_none())),
            missing("kras", absent(&|i| pt.kras[i].is_none())),
            missing("ecog", absent(&|i| pt.ecog[i].is_none())),
            missing(
                "bone_lesion_count",
                absent(&|i| pt.bone_mets_date[i].is_some() && pt.bone_lesion_count[i].is_none()),
            ),
            missing("calcium", absent(&|i| pt.calcium[i].is_none())),
            missing("albumin", absent(&|i| pt.albumin[i].is_none())),
            missing("ntx", absent(&|i| pt.ntx[i].is_none())),
            missing("bone_agent", absent(&|i| pt.bone_agent[i].is_none())),
        ],
    }
}

/// The highest corrected calcium of each patient (baseline and labs), in 0.1 mmol/L bins, with
/// the study's thresholds.
pub fn calcium_distribution(s: &Study) -> DistributionJson {
    let (p, settings) = (s, s.settings);
    let mut values: Vec<f64> = p
        .classified
        .iter()
        .filter_map(|c| c.calcium.worst)
        .collect();
    values.sort_by(f64::total_cmp);
    let n = values.len();
    let quantile = |q: f64| {
        // R's type 7 quantile.
        let h = (n - 1) as f64 * q;
        let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
        values[lo] + (h - lo as f64) * (values[hi] - values[lo])
    };
    let quartiles = (n > 0).then(|| [quantile(0.25), quantile(0.5), quantile(0.75)]);
    // Tenths of mmol/L as integers, so that bin edges are exact.
    let (lo, hi) = (15i64, 40i64);
    let bin_of = |v: f64| ((v * 10.0).floor() as i64).clamp(lo, hi - 1);
    let mut counts = vec![0u64; (hi - lo) as usize];
    for &v in &values {
        counts[(bin_of(v) - lo) as usize] += 1;
    }
    let first = values.first().copied().unwrap_or(1.5).min(1.5);
    let last = values.last().copied().unwrap_or(4.0).max(4.0);
    DistributionJson {
        variable: "highest corrected calcium, mmol/L".into(),
        population: "patients with a corrected calcium (baseline or labs)".into(),
        n: Count::Shown(n as u64),
        quartiles,
        thresholds: vec![
            (
                "lower normal limit".into(),
                settings.calcium_normal_low_mmol_l,
            ),
            (
                "upper normal limit".into(),
                settings.calcium_normal_high_mmol_l,
            ),
            ("moderate (> 3.0)".into(), 3.0),
            ("crisis".into(), settings.crisis_threshold_mmol_l),
        ],
        bins: counts
            .iter()
            .enumerate()
            .map(|(k, &c)| {
                let tenth = lo + k as i64;
                BinJson {
                    from: if k == 0 { first } else { tenth as f64 / 10.0 },
                    to: if tenth + 1 == hi {
                        last
                    } else {
                        (tenth + 1) as f64 / 10.0
                    },
                    count: Count::Shown(c),
                }
            })
            .collect(),
    }
}

/// A variable of Table 1.
enum Variable<'a> {
    /// A number per patient (`None`: missing).
    Continuous(&'a dyn Fn(usize) -> Option<f64>),
    /// A level per patient (`None`: missing), with the levels' names in order.
    Categorical(Vec<&'static str>, &'a dyn Fn(usize) -> Option<usize>),
}

/// A1: Table 1 of every accepted patient, overall and by bone metastases at diagnosis.
pub fn table_one(s: &Study) -> (TableOneJson, Population) {
    let pt = &s.cohort.patients;
    let population = Population::select(0..s.n(), |_| Ok(()));
    let all = &population.rows;
    // Each patient's group column: 1 with bone metastases at diagnosis, 2 without (0 is the
    // overall column, every patient's).
    let group: Vec<u8> = all
        .iter()
        .map(|&i| if s.bone_at_diagnosis(i) { 1 } else { 2 })
        .collect();
    let column_names = [
        "overall",
        "bone metastases at diagnosis",
        "no bone metastases at diagnosis",
    ];
    let mut column_n = [all.len() as u64, 0, 0];
    for &g in &group {
        column_n[usize::from(g)] += 1;
    }
    let age = |i: usize| Some(f64::from(pt.age_at_diagnosis[i]));
    let size = |i: usize| pt.tumor_size_mm[i];
    let calcium = |i: usize| {
        s.classified[i]
            .baseline
            .corrected_calcium
            .as_ref()
            .ok()
            .copied()
    };
    let sex = |i: usize| Some(pt.sex[i].index());
    let histology = |i: usize| {
        Some(match s.histology_group(i) {
            HistologyGroup::Adenocarcinoma => 0,
            HistologyGroup::Squamous => 1,
            HistologyGroup::OtherNsclc => 2,
            HistologyGroup::SmallCell => 3,
            HistologyGroup::Other => 4,
        })
    };
    let stage = |i: usize| pt.stage[i].map(|v| v.index());
    let ecog = |i: usize| pt.ecog[i].map(usize::from);
    let n_stage = |i: usize| pt.n_stage[i].map(|v| v.index());
    let family = |i: usize| Some(s.family(i));
    let pattern = |i: usize| Some(s.classified[i].baseline.metastatic_pattern as usize);
    let agent = |i: usize| pt.bone_agent[i].map(|v| v.index());
    let names = |all: &[&'static str]| all.to_vec();
    let vocab = |all: Vec<&'static str>| all;
    let variables: Vec<(&str, Variable)> = vec![
        ("age at diagnosis, years", Variable::Continuous(&age)),
        (
            "sex",
            Variable::Categorical(vocab(Sex::ALL.iter().map(|v| v.as_str()).collect()), &sex),
        ),
        (
            "histology",
            Variable::Categorical(
                names(&[
                    "adenocarcinoma",
                    "squamous",
                    "other NSCLC",
                    "small-cell",
                    "other",
                ]),
                &histology,
            ),
        ),
        (
            "stage",
            Variable::Categorical(
                vocab(Stage::ALL.iter().map(|v| v.as_str()).collect()),
                &stage,
            ),
        ),
        (
            "ECOG",
            Variable::Categorical(names(&["0", "1", "2", "3", "4"]), &ecog),
        ),
        ("tumour size, mm", Variable::Continuous(&size)),
        (
            "N stage",
            Variable::Categorical(
                vocab(NStage::ALL.iter().map(|v| v.as_str()).collect()),
                &n_stage,
            ),
        ),
        (
            "molecular family",
            Variable::Categorical(super::FAMILIES.iter().map(|(_, n)| *n).collect(), &family),
        ),
        (
            "metastatic pattern at diagnosis",
            Variable::Categorical(
                names(&["none", "bone only", "bone and visceral", "visceral only"]),
                &pattern,
            ),
        ),
        (
            "bone-targeted agent (during follow-up)",
            Variable::Categorical(
                vocab(BoneAgent::ALL.iter().map(|v| v.as_str()).collect()),
                &agent,
            ),
        ),
        (
            "corrected calcium at diagnosis, mmol/L",
            Variable::Continuous(&calcium),
        ),
    ];
    let mut rows = Vec::new();
    for (name, variable) in &variables {
        match variable {
            Variable::Continuous(value) => {
                // One pass: each value into the overall column and its group's.
                let mut per_column: Vec<(Vec<f64>, u64)> = vec![(Vec::new(), 0); 3];
                for (&i, &g) in all.iter().zip(&group) {
                    for c in [0, usize::from(g)] {
                        match value(i) {
                            Some(v) => per_column[c].0.push(v),
                            None => per_column[c].1 += 1,
                        }
                    }
                }
                let smd = smd_continuous(&per_column[1].0, &per_column[2].0);
                rows.push(TableOneRowJson {
                    variable: name.to_string(),
                    level: "median (IQR)".into(),
                    cells: Vec::new(),
                    smd,
                    content: TableOneCells::Median {
                        with_value: per_column.iter().map(|(v, _)| v.len() as u64).collect(),
                        text: per_column
                            .iter_mut()
                            .map(|(v, _)| {
                                if v.is_empty() {
                                    "—".into()
                                } else {
                                    let median = quantile(v, 0.5);
                                    let (q1, q3) = (quantile(v, 0.25), quantile(v, 0.75));
                                    format!("{median:.1} ({q1:.1}–{q3:.1})")
                                }
                            })
                            .collect(),
                    },
                });
                if per_column[0].1 > 0 {
                    rows.push(TableOneRowJson {
                        variable: name.to_string(),
                        level: "missing".into(),
                        cells: Vec::new(),
                        smd: None,
                        content: TableOneCells::Missing(
                            per_column.iter().map(|(_, m)| Count::Shown(*m)).collect(),
                        ),
                    });
                }
            }
            Variable::Categorical(levels, level) => {
                let mut counts: Vec<(Vec<u64>, u64)> = vec![(vec![0u64; levels.len()], 0); 3];
                for (&i, &g) in all.iter().zip(&group) {
                    let l = level(i);
                    for c in [0, usize::from(g)] {
                        match l {
                            Some(l) => counts[c].0[l] += 1,
                            None => counts[c].1 += 1,
                        }
                    }
                }
                let smd = smd_categorical(&counts[1].0, &counts[2].0);
                // Shares are of the patients with a value in the column.
                let share_of: Vec<u64> = counts.iter().map(|(k, _)| k.iter().sum()).collect();
                for (l, level_name) in levels.iter().enumerate() {
                    rows.push(TableOneRowJson {
                        variable: name.to_string(),
                        level: level_name.to_string(),
                        cells: Vec::new(),
                        smd: if l == 0 { smd } else { None },
                        content: TableOneCells::Level {
                            counts: counts.iter().map(|(k, _)| Count::Shown(k[l])).collect(),
                            share_of: share_of.clone(),
                        },
                    });
                }
                if counts[0].1 > 0 {
                    rows.push(TableOneRowJson {
                        variable: name.to_string(),
                        level: "missing".into(),
                        cells: Vec::new(),
                        smd: None,
                        content: TableOneCells::Missing(
                            counts.iter().map(|(_, m)| Count::Shown(*m)).collect(),
                        ),
                    });
                }
            }
        }
    }
    let table = TableOneJson {
        columns: column_names.iter().map(|n| n.to_string()).collect(),
        n: column_n.iter().map(|&n| Count::Shown(n)).collect(),
        rows,
    };
    (table, population)
}
