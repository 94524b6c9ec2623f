//! `bonemet survival`: Kaplan–Meier (per group), log-rank, Cox, and with a competing event
//! cumulative incidence, Gray's test and Fine–Gray analyses of any survival table (CSV or
//! Parquet), written as one JSON document whose keys are a contract (docs/outputs.md). Rows
//! missing any used column are dropped and counted, as R's na.omit.
//!
//! Columns are read as numbers or as category codes (no string per row), so a 10-million-row
//! table costs little more than its numeric columns.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::io::frame::{Categories, ColumnUse, Frame};
use crate::stats::cox::{coxph_with, CoxOptions, GlobalTest, Ties};
use crate::stats::cuminc::{cumulative_incidence, gray_test};
use crate::stats::fine_gray::fine_gray;
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
    /// The event column's value that marks a competing event (cumulative incidence, Gray's
    /// test and Fine–Gray); without it, and for the KM, log-rank and Cox analyses, every
    /// other value censors.
    pub competing_value: Option<String>,
    /// Entry-time column (delayed entry).
    pub entry: Option<String>,
    /// Grouping column (KM per group, log-rank between groups).
    pub by: Option<String>,
    /// Stratification column (log-rank and Cox).
    pub strata: Option<String>,
    /// Cluster column (Cox): the robust (sandwich) variance for correlated rows, e.g. one
    /// patient's intervals between recurrent events (Andersen–Gill).
    pub cluster: Option<String>,
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
    /// With --cluster: the robust standard error, which z, p and the interval then use.
    #[serde(skip_serializing_if = "Option::is_none")]
    robust_se: Option<f64>,
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

/// Concordance with survival's standard error.
#[derive(Debug, Clone, Serialize)]
pub struct ConcordanceJson {
    estimate: f64,
    std_err: f64,
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
    /// Harrell's C with its standard error (asked for on every fit here).
    concordance: Option<ConcordanceJson>,
    /// With --cluster: the number of clusters (`wald_test` then uses the robust variance, as
    /// coxph's does).
    #[serde(skip_serializing_if = "Option::is_none")]
    clusters: Option<usize>,
}

/// Cumulative incidence at a requested time (null after the group's last time, as
/// `cmprsk::timepoints` gives NA).
#[derive(Debug, Clone, Serialize)]
pub struct CifAtTimeJson {
    time: f64,
    estimate: Option<f64>,
    variance: Option<f64>,
}

/// One step of a cumulative incidence curve.
#[derive(Debug, Clone, Serialize)]
pub struct CifPointJson {
    time: f64,
    estimate: f64,
    variance: f64,
}

/// The cumulative incidence of the event in one group.
#[derive(Debug, Clone, Serialize)]
pub struct CifGroupJson {
    group: String,
    n: usize,
    events: usize,
    competing: usize,
    at_times: Vec<CifAtTimeJson>,
    curve: Vec<CifPointJson>,
}

/// The competing-risks section: cumulative incidence per group and Gray's test.
#[derive(Debug, Clone, Serialize)]
pub struct CifJson {
    groups: Vec<CifGroupJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    gray_test: Option<TestJson>,
}

/// One Fine–Gray term.
#[derive(Debug, Clone, Serialize)]
pub struct FineGrayTermJson {
    term: String,
    coef: f64,
    shr: f64,
    se: f64,
    z: f64,
    p: f64,
    shr_lower: f64,
    shr_upper: f64,
}

/// The Fine–Gray section.
#[derive(Debug, Clone, Serialize)]
pub struct FineGrayJson {
    n: usize,
    events: usize,
    competing: usize,
    converged: bool,
    terms: Vec<FineGrayTermJson>,
    loglik_null: f64,
    loglik: f64,
    lr_test: TestJson,
}

/// The whole result (a contract).
#[derive(Debug, Clone, Serialize)]
pub struct SurvivalJson {
    n: usize,
    n_dropped_missing: usize,
    events: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    competing_events: Option<usize>,
    km: KmJson,
    #[serde(skip_serializing_if = "Option::is_none")]
    logrank: Option<LogRankJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cox: Option<CoxJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cif: Option<CifJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fine_gray: Option<FineGrayJson>,
    /// What R would warn about (no event of the given value, a coefficient that may be
    /// infinite, no convergence).
    warnings: Vec<String>,
}

impl SurvivalJson {
    /// The warnings, for the command to print on stderr.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }
}

/// An estimator's failure, with its own error variant (not a setting's).
fn stats_error(what: &str, e: crate::stats::StatsError) -> Error {
    Error::Estimator {
        estimator: what.to_string(),
        source: e,
    }
}

fn setting(name: &str, message: String) -> Error {
    Error::Setting {
        name: name.to_string(),
        message,
    }
}

fn test_json(g: &GlobalTest) -> TestJson {
    TestJson {
        chisq: g.chisq,
        df: g.df,
        p: g.p,
    }
}

/// Whether a level of the event column is the value `wanted` (numerically equal, the same
/// text, or `true` for `1`).
fn is_value(level: &str, wanted: &str) -> bool {
    level == wanted
        || (wanted == "1" && level.eq_ignore_ascii_case("true"))
        || level
            .parse::<f64>()
            .ok()
            .zip(wanted.parse::<f64>().ok())
            .is_some_and(|(a, b)| a == b)
}

/// A category column restricted to the kept rows: the levels present there (in sorted
/// order) and each kept row's 0-based code.
fn compact(categories: &Categories, rows: &[u32]) -> (Vec<String>, Vec<usize>) {
    use rayon::prelude::*;
    let mut present = vec![false; categories.levels.len()];
    for &r in rows {
        present[categories.codes[r as usize] as usize] = true;
    }
    let mut new_code = vec![usize::MAX; present.len()];
    let mut levels = Vec::new();
    for (k, level) in categories.levels.iter().enumerate() {
        if present[k] {
            new_code[k] = levels.len();
            levels.push(level.clone());
        }
    }
    let codes = rows
        .par_iter()
        .map(|&r| new_code[categories.codes[r as usize] as usize])
        .collect();
    (levels, codes)
}

/// A model covariate as read.
enum Covariate {
    Numeric(Vec<f64>),
    Factor(Categories),
}

/// The design matrix shared by the Cox and Fine–Gray models: numeric columns as they are,
/// factors dummy-coded against their reference level.
fn design(
    config: &SurvivalConfig,
    covariates: Vec<(String, Covariate)>,
    rows: &[u32],
) -> Result<(Vec<String>, Vec<Vec<f64>>)> {
    use rayon::prelude::*;
    // Each covariate's columns built side by side, then laid out in the covariates' order.
    let per_covariate: Vec<Vec<(String, Vec<f64>)>> = covariates
        .into_par_iter()
        .map(|(name, covariate)| -> Result<_> {
            Ok(match covariate {
                Covariate::Numeric(values) => vec![(name, kept(values, rows))],
                Covariate::Factor(categories) => {
                    let (levels, codes) = compact(&categories, rows);
                    let reference = match config.references.get(&name) {
                        Some(r) => levels.iter().position(|l| l == r).ok_or_else(|| {
                            setting(
                                "--reference",
                                format!(
                                    "{name} has no level '{r}' (levels: {})",
                                    levels.join(", ")
                                ),
                            )
                        })?,
                        None => 0,
                    };
                    levels
                        .iter()
                        .enumerate()
                        .filter(|(k, _)| *k != reference)
                        .map(|(k, level)| {
                            (
                                format!("{name}={level}"),
                                codes.iter().map(|&c| f64::from(u8::from(c == k))).collect(),
                            )
                        })
                        .collect()
                }
            })
        })
        .collect::<Vec<Result<_>>>()
        // The first failing covariate in the command's order, whatever the threads.
        .into_iter()
        .collect::<Result<_>>()?;
    Ok(per_covariate.into_iter().flatten().unzip())
}

/// `values` at the kept `rows` (ascending, as na.omit keeps them): the vector itself when
/// every row is kept, with no copy.
fn kept<T: Copy>(values: Vec<T>, rows: &[u32]) -> Vec<T> {
    if rows.len() == values.len() {
        values
    } else {
        rows.iter().map(|&r| values[r as usize]).collect()
    }
}

/// A warning for each numeric column (time, entry, numeric covariates) holding text that is
/// not a number: read as missing, as an empty cell is, but said, being more likely a data
/// error than a gap.
fn text_in_numeric_columns(config: &SurvivalConfig, frame: &Frame) -> Result<Vec<String>> {
    let numeric_columns = [Some(&config.time), config.entry.as_ref()]
        .into_iter()
        .flatten()
        .chain(
            config
                .covariates
                .iter()
                .filter(|c| !config.factors.contains(c)),
        );
    let csv = matches!(
        crate::io::Format::from_path(&config.data)?,
        crate::io::Format::Csv
    );
    let mut warnings = Vec::new();
    for column in numeric_columns {
        if let Some(found) = frame.not_numbers(column)? {
            // The header is line 1 of a CSV file.
            let place = if csv {
                format!("line {}", found.first_row + 2)
            } else {
                format!("row {}", found.first_row + 1)
            };
            warnings.push(format!(
                "{column}: cells with text that is not a number, read as missing: {} (the \
                 first at {place}: '{}')",
                found.count, found.first_text
            ));
        }
    }
    Ok(warnings)
}

/// Runs the analyses.
pub fn survival(config: &SurvivalConfig) -> Result<SurvivalJson> {
    let competing_value = config.competing_value.as_deref();
    if competing_value.is_some() && config.entry.is_some() {
        return Err(setting(
            "--competing-value",
            "cumulative incidence and Fine-Gray regression (cmprsk) have no delayed entry: \
             drop --entry or --competing-value"
                .into(),
        ));
    }
    if competing_value.is_some() && config.strata.is_some() && !config.covariates.is_empty() {
        return Err(setting(
            "--competing-value",
            "Fine-Gray regression (cmprsk::crr) has no strata: drop --strata, or --covariates \
             to keep the stratified Gray's test"
                .into(),
        ));
    }
    if config.cluster.is_some() && config.covariates.is_empty() {
        return Err(setting(
            "--cluster",
            "clusters give the Cox model its robust variance: add --covariates".into(),
        ));
    }
    if config.cluster.is_some() && competing_value.is_some() {
        return Err(setting(
            "--cluster",
            "Fine-Gray regression (cmprsk::crr) has no clusters: drop --cluster or \
             --competing-value"
                .into(),
        ));
    }
    for f in &config.factors {
        if !config.covariates.contains(f) {
            return Err(setting(
                "--factor",
                format!("{f} is not among --covariates"),
            ));
        }
    }
    let is_factor = |c: &String| config.factors.contains(c);
    let wanted: Vec<(&str, ColumnUse)> = [(&config.time, ColumnUse::Numbers)]
        .into_iter()
        .chain([(&config.event, ColumnUse::Categories)])
        .chain(config.entry.iter().map(|c| (c, ColumnUse::Numbers)))
        .chain(
            [&config.by, &config.cluster, &config.strata]
                .into_iter()
                .flatten()
                .map(|c| (c, ColumnUse::Categories)),
        )
        .chain(config.covariates.iter().map(|c| {
            let use_as = if is_factor(c) {
                ColumnUse::Categories
            } else {
                ColumnUse::Numbers
            };
            (c, use_as)
        }))
        .map(|(c, use_as)| (c.as_str(), use_as))
        .collect();
    // The columns used, each once, in the command's order (for messages).
    let mut used: Vec<&str> = Vec::new();
    for &(column, _) in &wanted {
        if !used.contains(&column) {
            used.push(column);
        }
    }
    // Every column read at once, in parallel, straight into the vectors below.
    let mut frame = Frame::read(&config.data, &wanted)?;
    let n_all = frame.height();
    let time = frame.numbers(&config.time)?;
    let event = frame.categories(&config.event)?;
    let entry = config
        .entry
        .as_deref()
        .map(|c| frame.numbers(c))
        .transpose()?;
    let mut categories = |c: &Option<String>| c.as_deref().map(|c| frame.categories(c)).transpose();
    let by = categories(&config.by)?;
    let cluster = categories(&config.cluster)?;
    let strata = categories(&config.strata)?;
    let covariates: Vec<(String, Covariate)> = config
        .covariates
        .iter()
        .map(|c| {
            let covariate = if is_factor(c) {
                Covariate::Factor(frame.categories(c)?)
            } else {
                Covariate::Numeric(frame.numbers(c)?)
            };
            Ok((c.clone(), covariate))
        })
        .collect::<Result<_>>()?;
    let text_warnings = text_in_numeric_columns(config, &frame)?;
    drop(frame);
    // Intervals that end at or before they start: R's Surv(entry, time, event) makes them NA
    // (with a warning), so na.omit drops them with the missing rows.
    let empty_interval = |i: usize| entry.as_ref().is_some_and(|e| e[i] >= time[i]);
    let empty_intervals = match &entry {
        Some(_) => {
            use rayon::prelude::*;
            (0..n_all)
                .into_par_iter()
                .filter(|&i| empty_interval(i))
                .count()
        }
        None => 0,
    };
    // na.omit over every used column.
    let rows: Vec<u32> = {
        use rayon::prelude::*;
        let numbers: Vec<&[f64]> = [Some(&time), entry.as_ref()]
            .into_iter()
            .flatten()
            .chain(covariates.iter().filter_map(|(_, c)| match c {
                Covariate::Numeric(v) => Some(v),
                Covariate::Factor(_) => None,
            }))
            .map(Vec::as_slice)
            .collect();
        let codes: Vec<&[u32]> = [Some(&event), by.as_ref(), strata.as_ref(), cluster.as_ref()]
            .into_iter()
            .flatten()
            .chain(covariates.iter().filter_map(|(_, c)| match c {
                Covariate::Numeric(_) => None,
                Covariate::Factor(f) => Some(f),
            }))
            .map(|c| c.codes.as_slice())
            .collect();
        // Whether any cell is missing, one column per task: a plain scan each (the usual
        // answer is no, and then every row is kept without a check per row).
        let any_missing = numbers.par_iter().any(|v| v.iter().any(|x| x.is_nan()))
            || codes.par_iter().any(|c| c.contains(&Categories::MISSING));
        if !any_missing && empty_intervals == 0 {
            (0..n_all as u32).into_par_iter().collect()
        } else {
            (0..n_all)
                .into_par_iter()
                .filter(|&i| {
                    !empty_interval(i)
                        && numbers.iter().all(|v| !v[i].is_nan())
                        && codes.iter().all(|c| c[i] != Categories::MISSING)
                })
                .map(|i| i as u32)
                .collect()
        }
    };
    if rows.is_empty() {
        let mut reason = format!(
            "none of its {n_all} rows has a value in every column the analysis uses ({})",
            used.join(", ")
        );
        if empty_intervals > 0 {
            reason += &format!(" and an entry before its exit ({empty_intervals} rows do not)");
        }
        return Err(Error::NothingToAnalyse {
            path: config.data.clone(),
            reason,
        });
    }
    // What each level of the event column means: 1 event, 2 competing, 0 censored.
    let mut meaning = Vec::with_capacity(event.levels.len());
    for level in &event.levels {
        let is_event = is_value(level, &config.event_value);
        let is_competing = competing_value.is_some_and(|c| is_value(level, c));
        if is_event && is_competing {
            return Err(setting(
                "--competing-value",
                format!(
                    "the value '{level}' of {} would be both the event and the competing event",
                    config.event
                ),
            ));
        }
        meaning.push(if is_event {
            1u32
        } else if is_competing {
            2
        } else {
            0
        });
    }
    let (status, ev, events, competing_events) = {
        use rayon::prelude::*;
        let status: Vec<u32> = rows
            .par_iter()
            .map(|&r| meaning[event.codes[r as usize] as usize])
            .collect();
        let ev: Vec<bool> = status.par_iter().map(|&s| s == 1).collect();
        let count = |value: u32| status.par_iter().filter(|&&s| s == value).count();
        let (events, competing) = (count(1), count(2));
        (status, ev, events, competing)
    };
    let t = kept(time, &rows);
    let en = entry.map(|e| kept(e, &rows));
    let mut warnings = text_warnings;
    if empty_intervals > 0 {
        warnings.push(format!(
            "rows whose entry time ({}) is not before their exit time ({}), dropped as \
             missing as R's Surv() makes them NA: {empty_intervals}",
            config.entry.as_deref().unwrap_or_default(),
            config.time
        ));
    }
    let values = || event.levels.join(", ");
    if events == 0 {
        warnings.push(format!(
            "no row has the event value '{}' in {} (values: {})",
            config.event_value,
            config.event,
            values()
        ));
    }
    if let Some(c) = competing_value {
        if competing_events == 0 {
            warnings.push(format!(
                "no row has the competing value '{c}' in {} (values: {})",
                config.event,
                values()
            ));
        }
    }
    let strata_codes: Option<Vec<usize>> = strata.as_ref().map(|s| compact(s, &rows).1);
    let cluster_codes: Option<Vec<usize>> = cluster.as_ref().map(|c| compact(c, &rows).1);
    let (names, mut columns) = design(config, covariates, &rows)?;
    // Without competing risks the Cox model is the covariates' one reader: they are handed
    // over and sorted in their own memory (no second copy of them is made). With them, the
    // Fine–Gray model reads them too, and the Cox model borrows them.
    let covariates_for_cox: Cow<[Vec<f64>]> = match competing_value {
        None => Cow::Owned(std::mem::take(&mut columns)),
        Some(_) => Cow::Borrowed(&columns),
    };
    // The KM curves and log-rank test (with the competing-risks analyses) on one core, the Cox
    // model on the other: independent, and each deterministic. The groups are made in the
    // first lane, beside the Cox model's setup: the Cox model does not read them.
    let (left, right) = rayon::join(
        || -> Result<_> {
            let (levels, group_codes) = match &by {
                Some(b) => compact(b, &rows),
                None => (vec![String::new()], vec![0; rows.len()]),
            };
            let group_name = |level: &str| match &config.by {
                Some(by) => format!("{by}={level}"),
                None => "all".to_string(),
            };
            // Row indices (into the kept rows) of each group, ascending: one stable counting sort.
            let (grouped, group_starts) =
                crate::stats::group_by_key(0..group_codes.len(), |k| group_codes[k], levels.len());
            let group_rows: Vec<&[usize]> = group_starts
                .windows(2)
                .map(|w| &grouped[w[0]..w[1]])
                .collect();
            let mut fine_gray_warnings = Vec::new();
            let mut groups = Vec::new();
            for (level, idx) in levels.iter().zip(&group_rows) {
                let gt: Vec<f64> = idx.iter().map(|&k| t[k]).collect();
                let ge: Vec<bool> = idx.iter().map(|&k| ev[k]).collect();
                let gen: Option<Vec<f64>> =
                    en.as_ref().map(|e| idx.iter().map(|&k| e[k]).collect());
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
                    group: group_name(level),
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
            let logrank = match (&by, &en) {
                (Some(_), None) if levels.len() > 1 => {
                    let test = survdiff(&t, &ev, &group_codes, strata_codes.as_deref(), 0.0)
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
            let (cif, fine_gray_json) = if competing_value.is_some() {
                let mut cif_groups = Vec::new();
                for (level, idx) in levels.iter().zip(&group_rows) {
                    let gt: Vec<f64> = idx.iter().map(|&k| t[k]).collect();
                    let gs: Vec<u32> = idx.iter().map(|&k| status[k]).collect();
                    let curve =
                        cumulative_incidence(&gt, &gs, 1).map_err(|e| stats_error("cif", e))?;
                    cif_groups.push(CifGroupJson {
                        group: group_name(level),
                        n: idx.len(),
                        events: gs.iter().filter(|&&s| s == 1).count(),
                        competing: gs.iter().filter(|&&s| s == 2).count(),
                        at_times: config
                            .times
                            .iter()
                            .map(|&time| {
                                let at = curve.at(time);
                                CifAtTimeJson {
                                    time,
                                    estimate: at.map(|a| a.0),
                                    variance: at.map(|a| a.1),
                                }
                            })
                            .collect(),
                        curve: (0..curve.times.len())
                            .map(|k| CifPointJson {
                                time: curve.times[k],
                                estimate: curve.estimate[k],
                                variance: curve.variance[k],
                            })
                            .collect(),
                    });
                }
                let gray = if levels.len() > 1 {
                    let test =
                        gray_test(&t, &status, 1, &group_codes, strata_codes.as_deref(), 0.0)
                            .map_err(|e| stats_error("gray_test", e))?;
                    Some(TestJson {
                        chisq: test.chisq,
                        df: test.df,
                        p: test.p,
                    })
                } else {
                    None
                };
                let fg = if columns.is_empty() {
                    None
                } else {
                    let fit = fine_gray(&t, &status, 1, &columns)
                        .map_err(|e| stats_error("fine_gray", e))?;
                    if !fit.converged {
                        fine_gray_warnings.push("fine_gray: did not converge".into());
                    }
                    Some(FineGrayJson {
                        n: fit.n,
                        events: fit.events,
                        competing: fit.competing,
                        converged: fit.converged,
                        terms: names
                            .iter()
                            .enumerate()
                            .map(|(j, name)| {
                                let (shr, lo, hi) = fit.hazard_ratio(j, 0.95);
                                FineGrayTermJson {
                                    term: name.clone(),
                                    coef: fit.coef[j],
                                    shr,
                                    se: fit.se[j],
                                    z: fit.z[j],
                                    p: fit.p[j],
                                    shr_lower: lo,
                                    shr_upper: hi,
                                }
                            })
                            .collect(),
                        loglik_null: fit.loglik_null,
                        loglik: fit.loglik,
                        lr_test: test_json(&fit.lr_test),
                    })
                };
                (
                    Some(CifJson {
                        groups: cif_groups,
                        gray_test: gray,
                    }),
                    fg,
                )
            } else {
                (None, None)
            };
            Ok((groups, logrank, cif, fine_gray_json, fine_gray_warnings))
        },
        || -> Result<_> {
            let mut cox_warnings = Vec::new();
            let cox = if names.is_empty() {
                None
            } else {
                let options = CoxOptions {
                    cluster: cluster_codes.as_deref(),
                    ..CoxOptions::new(config.ties)
                };
                let fit = coxph_with(
                    &t,
                    &ev,
                    en.as_deref(),
                    covariates_for_cox,
                    strata_codes.as_deref(),
                    options,
                )
                .map_err(|e| match e {
                    // The fit cannot tell which terms are collinear: it names them all.
                    crate::stats::StatsError::SingularDesign(terms) if terms.is_empty() => {
                        stats_error(
                            "cox",
                            crate::stats::StatsError::SingularDesign(names.clone()),
                        )
                    }
                    e => stats_error("cox", e),
                })?;
                let robust = fit.robust.as_ref();
                if !fit.converged {
                    cox_warnings.push("cox: ran out of iterations and did not converge".into());
                }
                let infinite: Vec<&str> = names
                    .iter()
                    .zip(&fit.may_be_infinite)
                    .filter(|(_, inf)| **inf)
                    .map(|(n, _)| n.as_str())
                    .collect();
                if !infinite.is_empty() {
                    cox_warnings.push(format!(
                        "cox: loglik converged before {}; coefficient may be infinite",
                        infinite.join(", ")
                    ));
                }
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
                            let (hr, lo, hi) = fit
                                .robust_hazard_ratio(j, 0.95)
                                .unwrap_or_else(|| fit.hazard_ratio(j, 0.95));
                            TermJson {
                                term: name.clone(),
                                coef: fit.coef[j],
                                hr,
                                se: fit.se[j],
                                robust_se: robust.map(|r| r.se[j]),
                                z: robust.map_or(fit.z[j], |r| r.z[j]),
                                p: robust.map_or(fit.p[j], |r| r.p[j]),
                                hr_lower: lo,
                                hr_upper: hi,
                            }
                        })
                        .collect(),
                    loglik_null: fit.loglik_null,
                    loglik: fit.loglik,
                    lr_test: test_json(&fit.lr_test),
                    wald_test: test_json(robust.map_or(&fit.wald_test, |r| &r.wald_test)),
                    score_test: test_json(&fit.score_test),
                    concordance: fit.concordance.map(|c| ConcordanceJson {
                        estimate: c.estimate,
                        std_err: c.std_err,
                    }),
                    clusters: robust.map(|r| r.clusters),
                })
            };
            Ok((cox, cox_warnings))
        },
    );
    let (groups, logrank, cif, fine_gray_json, fine_gray_warnings) = left?;
    let (cox, cox_warnings) = right?;
    warnings.extend(cox_warnings);
    warnings.extend(fine_gray_warnings);
    Ok(SurvivalJson {
        n: rows.len(),
        n_dropped_missing: n_all - rows.len(),
        events,
        competing_events: competing_value.map(|_| competing_events),
        km: KmJson { groups },
        logrank,
        cox,
        cif,
        fine_gray: fine_gray_json,
        warnings,
    })
}
