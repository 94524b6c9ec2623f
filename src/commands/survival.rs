//! `bonemet survival`: Kaplan–Meier (per group), log-rank and Cox analyses of any survival
//! table (CSV or Parquet), written as one JSON document whose keys are a contract
//! (docs/outputs.md). Rows missing any used column are dropped and counted, as R's na.omit.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::io::frame::Frame;
use crate::stats::cox::{coxph, Ties};
use crate::stats::km::{ConfType, KaplanMeier};
use crate::stats::logrank::survdiff;
use crate::stats::rmst::rmst;

/// What `survival` needs, already checked.
#[derive(Debug, Clone)]
pub struct SurvivalConfig {
    /// The table.
    pub data: PathBuf,
    /// Time column.
    pub time: String,
    /// Event column.
    pub event: String,
    /// The event column's value that marks the event (`true` is also accepted for `1`).
    pub event_value: String,
    /// Entry-time column (delayed entry).
    pub entry: Option<String>,
    /// Grouping column (KM per group, log-rank between groups).
    pub by: Option<String>,
    /// Stratification column (log-rank and Cox).
    pub strata: Option<String>,
    /// Cox covariates, numeric unless named in `factors`.
    pub covariates: Vec<String>,
    /// Covariates dummy-coded against a reference level.
    pub factors: Vec<String>,
    /// Reference level per factor (default: the first level in sorted order).
    pub references: BTreeMap<String, String>,
    /// Ties in the Cox model.
    pub ties: Ties,
    /// CI scale of the KM curves.
    pub conf_type: ConfType,
    /// Times at which to report survival.
    pub times: Vec<f64>,
    /// RMST horizon.
    pub rmst_tau: Option<f64>,
}

/// Survival at a requested time.
#[derive(Debug, Clone, Serialize)]
pub struct AtTimeJson {
    time: f64,
    n_risk: f64,
    survival: f64,
    std_err: f64,
    lower: Option<f64>,
    upper: Option<f64>,
}

/// One point of a curve.
#[derive(Debug, Clone, Serialize)]
pub struct CurveJson {
    time: f64,
    n_risk: f64,
    n_event: f64,
    n_censor: f64,
    survival: f64,
    std_err: f64,
    lower: Option<f64>,
    upper: Option<f64>,
}

/// RMST of a group.
#[derive(Debug, Clone, Serialize)]
pub struct RmstJson {
    tau: f64,
    estimate: f64,
    std_err: f64,
}

/// The KM summary of one group.
#[derive(Debug, Clone, Serialize)]
pub struct GroupJson {
    group: String,
    n: usize,
    events: usize,
    median: Option<f64>,
    median_lower: Option<f64>,
    median_upper: Option<f64>,
    at_times: Vec<AtTimeJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rmst: Option<RmstJson>,
    curve: Vec<CurveJson>,
}

/// The KM section.
#[derive(Debug, Clone, Serialize)]
pub struct KmJson {
    groups: Vec<GroupJson>,
}

/// The log-rank section.
#[derive(Debug, Clone, Serialize)]
pub struct LogRankJson {
    chisq: f64,
    df: usize,
    p: f64,
    observed: Vec<f64>,
    expected: Vec<f64>,
}

/// One Cox term.
#[derive(Debug, Clone, Serialize)]
pub struct TermJson {
    term: String,
    coef: f64,
    hr: f64,
    se: f64,
    z: f64,
    p: f64,
    hr_lower: f64,
    hr_upper: f64,
}

/// A global test.
#[derive(Debug, Clone, Serialize)]
pub struct TestJson {
    chisq: f64,
    df: usize,
    p: f64,
}

/// Concordance (survival's standard error is not computed yet: null).
#[derive(Debug, Clone, Serialize)]
pub struct ConcordanceJson {
    estimate: f64,
    std_err: Option<f64>,
}

/// The Cox section.
#[derive(Debug, Clone, Serialize)]
pub struct CoxJson {
    n: usize,
    events: usize,
    ties: &'static str,
    terms: Vec<TermJson>,
    loglik_null: f64,
    loglik: f64,
    lr_test: TestJson,
    wald_test: TestJson,
    score_test: TestJson,
    concordance: ConcordanceJson,
}

/// The whole result (a contract).
#[derive(Debug, Clone, Serialize)]
pub struct SurvivalJson {
    n: usize,
    n_dropped_missing: usize,
    events: usize,
    km: KmJson,
    #[serde(skip_serializing_if = "Option::is_none")]
    logrank: Option<LogRankJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cox: Option<CoxJson>,
}

fn stats_error(what: &str, e: crate::stats::StatsError) -> Error {
    Error::Setting {
        name: what.to_string(),
        message: e.to_string(),
    }
}

/// Runs the analyses.
pub fn survival(config: &SurvivalConfig) -> Result<SurvivalJson> {
    let frame = Frame::read(&config.data)?;
    let n_all = frame.height();
    let time = frame.numbers(&config.time)?;
    let event_text = frame.text(&config.event)?;
    let entry = config
        .entry
        .as_deref()
        .map(|c| frame.numbers(c))
        .transpose()?;
    let by = config.by.as_deref().map(|c| frame.text(c)).transpose()?;
    let strata = config
        .strata
        .as_deref()
        .map(|c| frame.text(c))
        .transpose()?;
    let mut numeric = Vec::new();
    let mut factor_text = Vec::new();
    for c in &config.covariates {
        if config.factors.contains(c) {
            factor_text.push((c.clone(), frame.text(c)?));
        } else {
            numeric.push((c.clone(), frame.numbers(c)?));
        }
    }
    // na.omit over every used column.
    let keep: Vec<bool> = (0..n_all)
        .map(|i| {
            time[i].is_some()
                && event_text[i].is_some()
                && entry.as_ref().is_none_or(|e| e[i].is_some())
                && by.as_ref().is_none_or(|b| b[i].is_some())
                && strata.as_ref().is_none_or(|s| s[i].is_some())
                && numeric.iter().all(|(_, v)| v[i].is_some())
                && factor_text.iter().all(|(_, v)| v[i].is_some())
        })
        .collect();
    let rows: Vec<usize> = (0..n_all).filter(|&i| keep[i]).collect();
    let value = |v: &Option<f64>| v.unwrap_or(f64::NAN);
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let t: Vec<f64> = rows.iter().map(|&i| value(&time[i])).collect();
    let is_event = |s: &str| {
        s == config.event_value
            || (config.event_value == "1" && s.eq_ignore_ascii_case("true"))
            || s.parse::<f64>()
                .ok()
                .zip(config.event_value.parse::<f64>().ok())
                .is_some_and(|(a, b)| a == b)
    };
    let ev: Vec<bool> = rows
        .iter()
        .map(|&i| is_event(&text(&event_text[i])))
        .collect();
    let en: Option<Vec<f64>> = entry
        .as_ref()
        .map(|e| rows.iter().map(|&i| value(&e[i])).collect());
    // Groups in sorted order of their values.
    let group_of: Vec<String> = match &by {
        Some(b) => rows.iter().map(|&i| text(&b[i])).collect(),
        None => vec![String::new(); rows.len()],
    };
    // Sorted distinct values (a set: a million rows hold few groups).
    let sorted_levels = |values: &[String]| -> Vec<String> {
        values
            .iter()
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .cloned()
            .collect()
    };
    let levels: Vec<String> = sorted_levels(&group_of);
    let by_name = config.by.clone().unwrap_or_default();
    let mut groups = Vec::new();
    for level in &levels {
        let idx: Vec<usize> = (0..rows.len()).filter(|&k| &group_of[k] == level).collect();
        let gt: Vec<f64> = idx.iter().map(|&k| t[k]).collect();
        let ge: Vec<bool> = idx.iter().map(|&k| ev[k]).collect();
        let gen: Option<Vec<f64>> = en.as_ref().map(|e| idx.iter().map(|&k| e[k]).collect());
        let km = KaplanMeier::fit(&gt, &ge, gen.as_deref(), 0.95, config.conf_type)
            .map_err(|e| stats_error("km", e))?;
        let median = km.median();
        let rmst_json = config
            .rmst_tau
            .map(|tau| {
                rmst(&km, tau).map(|r| RmstJson {
                    tau: r.tau,
                    estimate: r.estimate,
                    std_err: r.std_err,
                })
            })
            .transpose()
            .map_err(|e| stats_error("--rmst-tau", e))?;
        groups.push(GroupJson {
            group: if config.by.is_some() {
                format!("{by_name}={level}")
            } else {
                "all".into()
            },
            n: km.n,
            events: km.events,
            median: median.estimate,
            median_lower: median.lower,
            median_upper: median.upper,
            at_times: km
                .at_times(&config.times)
                .iter()
                .map(|a| AtTimeJson {
                    time: a.time,
                    n_risk: a.n_risk,
                    survival: a.survival,
                    std_err: a.std_err,
                    lower: a.lower,
                    upper: a.upper,
                })
                .collect(),
            rmst: rmst_json,
            curve: km
                .curve
                .iter()
                .map(|p| CurveJson {
                    time: p.time,
                    n_risk: p.n_risk,
                    n_event: p.n_event,
                    n_censor: p.n_censor,
                    survival: p.survival,
                    std_err: p.std_err_log,
                    lower: p.lower,
                    upper: p.upper,
                })
                .collect(),
        });
    }
    // 0-based codes of values in sorted order of their levels.
    let codes = |values: &[String]| -> Vec<usize> {
        let levels = sorted_levels(values);
        let index: BTreeMap<&String, usize> =
            levels.iter().enumerate().map(|(k, v)| (v, k)).collect();
        values.iter().map(|v| index[v]).collect()
    };
    let strata_codes: Option<Vec<usize>> = strata
        .as_ref()
        .map(|s| codes(&rows.iter().map(|&i| text(&s[i])).collect::<Vec<_>>()));
    let logrank = match (&by, &en) {
        (Some(_), None) if levels.len() > 1 => {
            let g = codes(&group_of);
            let test = survdiff(&t, &ev, &g, strata_codes.as_deref(), 0.0)
                .map_err(|e| stats_error("logrank", e))?;
            Some(LogRankJson {
                chisq: test.chisq,
                df: test.df,
                p: test.p,
                observed: test.observed,
                expected: test.expected,
            })
        }
        _ => None,
    };
    let cox = if config.covariates.is_empty() {
        None
    } else {
        let mut columns: Vec<Vec<f64>> = Vec::new();
        let mut names: Vec<String> = Vec::new();
        for c in &config.covariates {
            if let Some((_, values)) = factor_text.iter().find(|(n, _)| n == c) {
                let vals: Vec<String> = rows.iter().map(|&i| text(&values[i])).collect();
                let levels = sorted_levels(&vals);
                let reference = config
                    .references
                    .get(c)
                    .cloned()
                    .unwrap_or_else(|| levels[0].clone());
                if !levels.contains(&reference) {
                    return Err(Error::Setting {
                        name: "--reference".into(),
                        message: format!(
                            "{c} has no level '{reference}' (levels: {})",
                            levels.join(", ")
                        ),
                    });
                }
                for level in levels.iter().filter(|l| **l != reference) {
                    names.push(format!("{c}={level}"));
                    columns.push(
                        vals.iter()
                            .map(|v| f64::from(u8::from(v == level)))
                            .collect(),
                    );
                }
            } else if let Some((_, values)) = numeric.iter().find(|(n, _)| n == c) {
                names.push(c.clone());
                columns.push(rows.iter().map(|&i| value(&values[i])).collect());
            }
        }
        let fit = coxph(
            &t,
            &ev,
            en.as_deref(),
            &columns,
            strata_codes.as_deref(),
            config.ties,
        )
        .map_err(|e| stats_error("cox", e))?;
        let test = |g: &crate::stats::cox::GlobalTest| TestJson {
            chisq: g.chisq,
            df: g.df,
            p: g.p,
        };
        Some(CoxJson {
            n: fit.n,
            events: fit.events,
            ties: match config.ties {
                Ties::Efron => "efron",
                Ties::Breslow => "breslow",
            },
            terms: names
                .iter()
                .enumerate()
                .map(|(j, name)| {
                    let (hr, lo, hi) = fit.hazard_ratio(j, 0.95);
                    TermJson {
                        term: name.clone(),
                        coef: fit.coef[j],
                        hr,
                        se: fit.se[j],
                        z: fit.z[j],
                        p: fit.p[j],
                        hr_lower: lo,
                        hr_upper: hi,
                    }
                })
                .collect(),
            loglik_null: fit.loglik_null,
            loglik: fit.loglik,
            lr_test: test(&fit.lr_test),
            wald_test: test(&fit.wald_test),
            score_test: test(&fit.score_test),
            concordance: ConcordanceJson {
                estimate: fit.concordance.estimate,
                std_err: None,
            },
        })
    };
    Ok(SurvivalJson {
        n: rows.len(),
        n_dropped_missing: n_all - rows.len(),
        events: ev.iter().filter(|e| **e).count(),
        km: KmJson { groups },
        logrank,
        cox,
    })
}
