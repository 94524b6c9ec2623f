//! The plan's estimators applied to groups of patients: proportions,
//! odds ratios, Kaplan–Meier with log-rank and Cox, Aalen–Johansen cumulative incidences with
//! Gray's test, Cox and logistic models over a named design. Every number comes from
//! `crate::stats` (tested against R); this module chooses rows, orders them once, and turns
//! the results (or the reason there is none) into the result model.

use super::model::*;
use crate::stats::cox::{coxph_with, CoxFit, CoxOptions, Ties};
use crate::stats::cuminc::{cumulative_incidence, gray_test};
use crate::stats::km::{ConfType, KaplanMeier};
use crate::stats::logistic::LogisticFit;
use crate::stats::logrank::survdiff;
use crate::stats::proportion::{clopper_pearson, wilson};
use crate::stats::two_by_two;

/// The groups of a breakdown, in a fixed order, with their rows.
pub type Breakdown = Vec<(String, Vec<usize>)>;

/// `rows` grouped by `key`, groups in key order (rows in their order within a group), named
/// by `name`.
pub fn breakdown<K: Ord + Clone>(
    rows: &[usize],
    key: impl Fn(usize) -> K,
    name: impl Fn(&K) -> String,
) -> Breakdown {
    // A stable sort of (key, row) pairs, then one group per run of equal keys: a tree lookup
    // per row costs more on a million rows.
    let mut keyed: Vec<(K, usize)> = rows.iter().map(|&i| (key(i), i)).collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    let mut groups: Breakdown = Vec::new();
    let mut start = 0;
    while start < keyed.len() {
        let end = start + keyed[start..].partition_point(|(k, _)| *k == keyed[start].0);
        groups.push((
            name(&keyed[start].0),
            keyed[start..end].iter().map(|&(_, i)| i).collect(),
        ));
        start = end;
    }
    groups
}

/// Two named groups: the rows where `is` holds, then the others.
pub fn split(rows: &[usize], is: impl Fn(usize) -> bool, yes: &str, no: &str) -> Breakdown {
    let (a, b): (Vec<usize>, Vec<usize>) = rows.iter().partition(|&&i| is(i));
    vec![(yes.to_string(), a), (no.to_string(), b)]
}

/// Why an estimate is not shown when a count is below the disclosure threshold.
pub const SUPPRESSED: &str = "suppressed: a count below the disclosure threshold";

/// A proportion k/n in one group, with its suppression applied.
pub fn proportion(group: &str, k: u64, n: u64) -> ProportionJson {
    let (mut w, mut e) = (Estimate::NONE, Estimate::NONE);
    if n > 0 {
        if let Ok(p) = wilson(k, n, 0.95, false) {
            w = Estimate::new(p.estimate, Some(p.lower), Some(p.upper));
        }
        if let Ok(p) = clopper_pearson(k, n, 0.95) {
            e = Estimate::new(p.estimate, Some(p.lower), Some(p.upper));
        }
    }
    ProportionJson {
        group: group.to_string(),
        n: Count::Shown(n),
        events: Count::Shown(k),
        wilson: w,
        exact: e,
    }
}

/// Counts of `outcome` among `rows`: (with it, all).
pub fn count(rows: &[usize], outcome: &dyn Fn(usize) -> bool) -> (u64, u64) {
    let k = rows.iter().filter(|&&i| outcome(i)).count() as u64;
    (k, rows.len() as u64)
}

/// A proportion analysis: `event` among each group.
pub fn incidence(
    (analysis, id): (&'static str, &str),
    outcome: &str,
    population: &str,
    by: &str,
    groups: &Breakdown,
    event: &dyn Fn(usize) -> bool,
) -> IncidenceJson {
    IncidenceJson {
        id: id.into(),
        analysis,
        outcome: outcome.into(),
        population: population.into(),
        by: by.into(),
        groups: groups
            .iter()
            .map(|(name, rows)| {
                let (k, n) = count(rows, event);
                proportion(name, k, n)
            })
            .collect(),
    }
}

/// A proportion analysis over the groups that `key` codes `rows` into (small codes, groups
/// in code order, named by `name`), counted in one pass without listing each group's rows.
#[allow(clippy::too_many_arguments)]
pub fn incidence_by(
    (analysis, id): (&'static str, &str),
    outcome: &str,
    population: &str,
    by: &str,
    rows: &[usize],
    key: impl Fn(usize) -> u8,
    name: impl Fn(u8) -> String,
    event: &dyn Fn(usize) -> bool,
) -> IncidenceJson {
    let mut counts = [(0u64, 0u64); 256];
    for &i in rows {
        let c = &mut counts[usize::from(key(i))];
        c.0 += u64::from(event(i));
        c.1 += 1;
    }
    IncidenceJson {
        id: id.into(),
        analysis,
        outcome: outcome.into(),
        population: population.into(),
        by: by.into(),
        groups: (0..=u8::MAX)
            .zip(counts)
            .filter(|(_, (_, n))| *n > 0)
            .map(|(k, (events, n))| proportion(&name(k), events, n))
            .collect(),
    }
}

/// Exposed vs reference odds ratio of `event` (crude: Woolf and exact intervals).
pub fn association(
    (analysis, id): (&'static str, &str),
    comparison: &str,
    population: &str,
    (exposed_name, exposed): (&str, &[usize]),
    (reference_name, reference): (&str, &[usize]),
    event: &dyn Fn(usize) -> bool,
) -> AssociationJson {
    let (a, n1) = count(exposed, event);
    let (c, n0) = count(reference, event);
    let table = two_by_two::analyse(a, n1 - a, c, n0 - c, 0.95).map_err(|e| e.to_string());
    let interval = |i: &two_by_two::Interval| Estimate {
        estimate: finite(i.estimate),
        lower: finite(i.lower),
        upper: finite(i.upper),
    };
    let t = table.as_ref().ok();
    AssociationJson {
        id: id.into(),
        analysis,
        comparison: comparison.into(),
        population: population.into(),
        exposed: proportion(exposed_name, a, n1),
        reference: proportion(reference_name, c, n0),
        odds_ratio: t.map_or(Estimate::NONE, |t| interval(&t.odds_ratio)),
        exact_odds_ratio: t.map_or(Estimate::NONE, |t| Estimate {
            estimate: finite(t.fisher.odds_ratio),
            lower: finite(t.fisher.lower),
            upper: finite(t.fisher.upper),
        }),
        risk_ratio: t.map_or(Estimate::NONE, |t| interval(&t.risk_ratio)),
        fisher_p: t.map(|t| t.fisher.p),
        chisq_p: t.and_then(|t| finite(t.chisq.p)),
        not_estimated: table.err(),
    }
}

/// `x` when finite.
pub fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

/// What a survival comparison is: its ids and words.
pub struct SurvivalSpec<'a> {
    /// Analysis id (A4…).
    pub analysis: &'static str,
    /// Result id.
    pub id: &'a str,
    /// Time scale and endpoint.
    pub endpoint: &'a str,
    /// Among whom.
    pub population: &'a str,
    /// Horizons, months.
    pub horizons: &'a [f64],
}

/// Restricted mean survival horizon, months.
const RMST_MONTHS: f64 = 24.0;

/// Kaplan–Meier per group (log-log CIs), log-rank between them (stratified by `strata` when
/// given), and with two groups the Cox hazard ratio of the first against the second.
pub fn survival(
    spec: &SurvivalSpec,
    groups: &Breakdown,
    time_event: &dyn Fn(usize) -> (f64, bool),
    strata: Option<(&str, &dyn Fn(usize) -> usize)>,
) -> SurvivalJson {
    let mut out = Vec::new();
    let mut notes = Vec::new();
    let (mut all_t, mut all_e, mut all_g) = (Vec::new(), Vec::new(), Vec::new());
    let mut all_s = Vec::new();
    for (g, (_, rows)) in groups.iter().enumerate() {
        if let Some((_, stratum)) = strata {
            all_s.extend(rows.iter().map(|&i| stratum(i)));
        }
        for &i in rows {
            let (t, e) = time_event(i);
            all_t.push(t);
            all_e.push(e);
        }
        all_g.extend(std::iter::repeat_n(g, rows.len()));
    }
    // One stable sort by time serves every estimator below: each group's curve, the log-rank
    // test and the Cox model take their rows already in the order they would sort them into
    // (ties in row order), so their sums run in the same order as on unsorted rows.
    let (ascending, group_order) = time_order(&all_t, &all_g, groups.len());
    for (g, (name, rows)) in groups.iter().enumerate() {
        let t = gather(&all_t, &group_order[g]);
        let e = gather(&all_e, &group_order[g]);
        let deaths = e.iter().filter(|x| **x).count() as u64;
        let km = if rows.is_empty() {
            notes.push(format!("{name}: no patients"));
            None
        } else {
            KaplanMeier::fit(&t, &e, None, 0.95, ConfType::LogLog)
                .map_err(|e| notes.push(format!("{name}: {e}")))
                .ok()
        };
        let median = km.as_ref().map_or(Estimate::NONE, |km| {
            let m = km.median();
            Estimate {
                estimate: m.estimate,
                lower: m.lower,
                upper: m.upper,
            }
        });
        let at_months = match &km {
            Some(km) => km
                .at_times(spec.horizons)
                .iter()
                .map(|a| SurvivalAtJson {
                    months: a.time,
                    n_risk: Count::Shown(a.n_risk as u64),
                    survival: Estimate {
                        estimate: Some(a.survival),
                        lower: a.lower,
                        upper: a.upper,
                    },
                })
                .collect(),
            None => Vec::new(),
        };
        let (curve, at_risk) = match &km {
            Some(km) => (
                km.curve
                    .iter()
                    .filter(|p| p.n_event > 0.0)
                    .map(|p| CurvePointJson {
                        months: p.time,
                        estimate: p.survival,
                        lower: p.lower,
                        upper: p.upper,
                        n_risk: p.n_risk as u64,
                        n_events: p.n_event as u64,
                    })
                    .collect(),
                risk_table(&t, |m| km.n_risk(m)),
            ),
            None => (Vec::new(), Vec::new()),
        };
        let rmst_24_months = km
            .as_ref()
            .and_then(|km| {
                crate::stats::rmst::rmst(km, RMST_MONTHS)
                    .map_err(|e| notes.push(format!("{name}: restricted mean: {e}")))
                    .ok()
            })
            .map_or(Estimate::NONE, |r| {
                let z = crate::stats::km::z_for(0.95);
                Estimate::new(
                    r.estimate,
                    Some(r.estimate - z * r.std_err),
                    Some(r.estimate + z * r.std_err),
                )
            });
        out.push(SurvivalGroupJson {
            group: name.clone(),
            n: Count::Shown(rows.len() as u64),
            events: Count::Shown(deaths),
            median_months: median,
            at_months,
            rmst_24_months,
            curve,
            at_risk,
        });
    }
    let shown = out
        .iter()
        .all(|g| !g.n.is_suppressed() && !g.events.is_suppressed());
    if !shown && groups.len() > 1 {
        notes.push(format!("log-rank and hazard ratio: {SUPPRESSED}"));
    }
    let logrank = (shown && groups.len() > 1)
        .then(|| {
            let strata = strata.map(|_| gather(&all_s, &ascending));
            survdiff(
                &gather(&all_t, &ascending),
                &gather(&all_e, &ascending),
                &gather(&all_g, &ascending),
                strata.as_deref(),
                0.0,
            )
            .map_err(|e| notes.push(format!("log-rank: {e}")))
            .ok()
        })
        .flatten()
        .map(|t| TestJson::new(t.chisq, t.df, t.p));
    let hazard_ratio = (shown && groups.len() == 2)
        .then(|| {
            // Cox sweeps from the latest time down, ties in row order.
            let descending = descending_ties_in_row_order(&all_t, &ascending);
            let t = gather(&all_t, &descending);
            let e = gather(&all_e, &descending);
            let first: Vec<f64> = descending
                .iter()
                .map(|&k| f64::from(u8::from(all_g[k] == 0)))
                .collect();
            let s = strata.map(|_| gather(&all_s, &descending));
            let options = CoxOptions {
                concordance: false,
                ..CoxOptions::new(Ties::Efron)
            };
            coxph_with(&t, &e, None, vec![first], s.as_deref(), options)
                .map_err(|e| notes.push(format!("hazard ratio: {e}")))
                .ok()
        })
        .flatten()
        .map(|fit| {
            let (hr, lower, upper) = fit.hazard_ratio(0, 0.95);
            TermJson {
                term: format!("{} vs {}", groups[0].0, groups[1].0),
                ratio: Estimate::new(hr, Some(lower), Some(upper)),
                p: fit.p[0],
            }
        });
    SurvivalJson {
        id: spec.id.into(),
        analysis: spec.analysis,
        endpoint: spec.endpoint.into(),
        population: spec.population.into(),
        stratified_by: strata.map(|(name, _)| name.to_string()),
        groups: out,
        logrank,
        hazard_ratio,
        not_estimated: notes,
    }
}

/// Horizons with `extra` added (in order, once).
pub fn with_horizon(horizons: &[f64], extra: f64) -> Vec<f64> {
    let mut h = horizons.to_vec();
    if !h.contains(&extra) {
        h.push(extra);
        h.sort_by(f64::total_cmp);
    }
    h
}

/// What a cumulative-incidence analysis is: its ids and words.
#[derive(Clone, Copy)]
pub struct CifSpec<'a> {
    /// Analysis id.
    pub analysis: &'static str,
    /// Result id.
    pub id: &'a str,
    /// The event whose cumulative incidence is estimated.
    pub outcome: &'a str,
    /// Time origin, censoring and competing event, in words.
    pub endpoint: &'a str,
    /// Among whom.
    pub population: &'a str,
    /// The grouping.
    pub by: &'a str,
    /// Horizons, months.
    pub horizons: &'a [f64],
}

/// A patient's time (months) and status for a cumulative incidence: 1 the event, 2 the
/// competing event (death), 0 censored.
pub type Timing<'a> = &'a (dyn Fn(usize) -> (f64, u32) + Sync);

/// The Aalen–Johansen cumulative incidence of status 1 per group (status 2 competing), read at
/// the horizons, with log(−log) 95% CIs from cmprsk's variance, and Gray's test between the
/// groups. `at_origin` counts the events placed at time 0 by a convention of the plan.
pub fn cumulative(
    spec: &CifSpec,
    groups: &Breakdown,
    timing: Timing,
    at_origin: u64,
) -> CompetingRiskJson {
    let (mut all_t, mut all_s, mut all_g) = (Vec::new(), Vec::new(), Vec::new());
    for (g, (_, rows)) in groups.iter().enumerate() {
        for &i in rows {
            let (t, s) = timing(i);
            all_t.push(t);
            all_s.push(s);
        }
        all_g.extend(std::iter::repeat_n(g, rows.len()));
    }
    let (ascending, group_order) = time_order(&all_t, &all_g, groups.len());
    let mut out = Vec::new();
    let mut notes = Vec::new();
    for (g, (name, rows)) in groups.iter().enumerate() {
        let t = gather(&all_t, &group_order[g]);
        let s = gather(&all_s, &group_order[g]);
        let events = s.iter().filter(|&&x| x == 1).count() as u64;
        let competing = s.iter().filter(|&&x| x == 2).count() as u64;
        let cif = if rows.is_empty() {
            notes.push(format!("{name}: no patients"));
            None
        } else {
            cumulative_incidence(&t, &s, 1)
                .map_err(|e| notes.push(format!("{name}: {e}")))
                .ok()
        };
        let at_risk_at = |m: f64| t.len() - t.partition_point(|&x| x < m);
        // Events of interest at exactly `m` (the times are sorted).
        let events_at = |m: f64| {
            let from = t.partition_point(|&x| x < m);
            let to = t.partition_point(|&x| x <= m);
            s[from..to].iter().filter(|&&x| x == 1).count() as u64
        };
        let (curve, at_months, at_risk) = match &cif {
            Some(c) => (
                (0..c.times.len())
                    .map(|k| {
                        let (lower, upper) = cif_interval(c.estimate[k], c.variance[k]);
                        CurvePointJson {
                            months: c.times[k],
                            estimate: c.estimate[k],
                            lower,
                            upper,
                            n_risk: at_risk_at(c.times[k]) as u64,
                            n_events: events_at(c.times[k]),
                        }
                    })
                    .collect(),
                spec.horizons
                    .iter()
                    .map(|&m| {
                        let n_risk = at_risk_at(m) as u64;
                        SurvivalAtJson {
                            months: m,
                            n_risk: Count::Shown(n_risk),
                            survival: match c.at(m) {
                                Some((e, v)) => {
                                    let (lower, upper) = cif_interval(e, v);
                                    Estimate {
                                        estimate: Some(e),
                                        lower,
                                        upper,
                                    }
                                }
                                _ => Estimate::NONE,
                            },
                        }
                    })
                    .collect(),
                risk_table(&t, |m| at_risk_at(m) as f64),
            ),
            None => (Vec::new(), Vec::new(), Vec::new()),
        };
        out.push(CifGroupJson {
            group: name.clone(),
            n: Count::Shown(rows.len() as u64),
            events: Count::Shown(events),
            competing: Count::Shown(competing),
            at_months,
            curve,
            at_risk,
        });
    }
    let shown = out
        .iter()
        .all(|g| !g.n.is_suppressed() && !g.events.is_suppressed());
    if !shown && groups.len() > 1 {
        notes.push(format!("Gray's test: {SUPPRESSED}"));
    }
    let gray = (shown && groups.len() > 1)
        .then(|| {
            let (t, s, g) = (
                gather(&all_t, &ascending),
                gather(&all_s, &ascending),
                gather(&all_g, &ascending),
            );
            gray_test(&t, &s, 1, &g, None, 0.0)
                .map_err(|e| notes.push(format!("Gray's test: {e}")))
                .ok()
        })
        .flatten()
        .map(|t| TestJson::new(t.chisq, t.df, t.p));
    CompetingRiskJson {
        id: spec.id.into(),
        analysis: spec.analysis,
        outcome: spec.outcome.into(),
        endpoint: spec.endpoint.into(),
        population: spec.population.into(),
        by: spec.by.into(),
        groups: out,
        gray_test: gray,
        events_at_origin: Count::Shown(at_origin),
        not_estimated: notes,
    }
}

/// The rows by time ascending, ties in row order, and each group's rows in that order.
pub fn time_order(time: &[f64], group: &[usize], groups: usize) -> (Vec<usize>, Vec<Vec<usize>>) {
    let ascending = crate::stats::order_by(time);
    let mut group_order: Vec<Vec<usize>> = vec![Vec::new(); groups];
    for &k in &ascending {
        group_order[group[k]].push(k);
    }
    (ascending, group_order)
}

/// `values` in `order`.
pub fn gather<T: Copy>(values: &[T], order: &[usize]) -> Vec<T> {
    order.iter().map(|&k| values[k]).collect()
}

/// The rows by time descending, ties in row order, from their order by time ascending (ties in
/// row order): the runs of equal times in reverse, each run as it was.
pub fn descending_ties_in_row_order(time: &[f64], ascending: &[usize]) -> Vec<usize> {
    let mut descending = Vec::with_capacity(ascending.len());
    let mut end = ascending.len();
    while end > 0 {
        let t = time[ascending[end - 1]];
        let start = ascending[..end].partition_point(|&k| time[k] < t);
        descending.extend_from_slice(&ascending[start..end]);
        end = start;
    }
    descending
}

/// Numbers at risk every 6 months up to the last time observed (at most 10 years).
fn risk_table(times: &[f64], n_risk: impl Fn(f64) -> f64) -> Vec<AtRiskJson> {
    let last = times.iter().copied().fold(0.0, f64::max).min(120.0);
    (0..)
        .map(|k| 6.0 * f64::from(k))
        .take_while(|&m| m <= last)
        .map(|m| AtRiskJson {
            months: m,
            n_risk: Count::Shown(n_risk(m) as u64),
        })
        .collect()
}

/// Cumulative incidence with its 95% interval on the log(−log) scale (the estimate stays in
/// (0, 1)), from the Aalen–Johansen estimate and cmprsk's variance.
pub fn cif_interval(estimate: f64, variance: f64) -> (Option<f64>, Option<f64>) {
    if estimate <= 0.0 || estimate >= 1.0 || variance <= 0.0 {
        return (None, None);
    }
    let z = crate::stats::km::z_for(0.95);
    let scale = z * variance.sqrt() / (estimate * estimate.ln()).abs();
    (
        Some(estimate.powf(scale.exp())),
        Some(estimate.powf((-scale).exp())),
    )
}

/// A regression design: named columns, one value per row.
#[derive(Debug, Clone, Default)]
pub struct Design {
    /// Term names, as the report prints them.
    pub names: Vec<String>,
    /// Columns.
    pub columns: Vec<Vec<f64>>,
}

impl Design {
    /// A numeric term.
    pub fn numeric(&mut self, name: &str, rows: &[usize], value: impl Fn(usize) -> f64) {
        self.names.push(name.to_string());
        self.columns.push(rows.iter().map(|&i| value(i)).collect());
    }

    /// A factor: one indicator per level but the reference, named `name=level (vs ref)`.
    pub fn factor<L: PartialEq + Copy>(
        &mut self,
        name: &str,
        levels: &[(L, &str)],
        reference: L,
        rows: &[usize],
        level: impl Fn(usize) -> L,
    ) {
        let reference_name = levels
            .iter()
            .find(|(l, _)| *l == reference)
            .map_or("reference", |(_, n)| *n);
        let others: Vec<&(L, &str)> = levels.iter().filter(|(l, _)| *l != reference).collect();
        let first = self.columns.len();
        for (_, label) in &others {
            self.names
                .push(format!("{name}={label} (vs {reference_name})"));
            self.columns.push(vec![0.0; rows.len()]);
        }
        // Each row's level read once, its indicator set: not one pass per level.
        for (r, &i) in rows.iter().enumerate() {
            let l = level(i);
            if let Some(k) = others.iter().position(|(x, _)| *x == l) {
                self.columns[first + k][r] = 1.0;
            }
        }
    }

    /// The design without the columns that do not vary (a level nobody has would make it
    /// singular), and the names of those left out.
    pub fn varying(self) -> (Design, Vec<String>) {
        let mut kept = Design::default();
        let mut dropped = Vec::new();
        for (name, c) in self.names.into_iter().zip(self.columns) {
            if c.iter().any(|&v| v != c[0]) {
                kept.names.push(name);
                kept.columns.push(c);
            } else {
                dropped.push(name);
            }
        }
        (kept, dropped)
    }
}

/// Rows of a Cox model: (start, stop] in the whole-day convention (start `None`: from 0),
/// the event, each row's cluster when the variance is robust.
pub struct CoxData<'a> {
    /// Exit times.
    pub stop: &'a [f64],
    /// Entry times (counting-process rows), if any.
    pub start: Option<&'a [f64]>,
    /// Event at exit.
    pub event: &'a [bool],
    /// Clusters for the robust variance.
    pub cluster: Option<&'a [usize]>,
    /// Strata (separate baseline hazards).
    pub strata: Option<&'a [usize]>,
}

impl<'a> CoxData<'a> {
    /// Right-censored rows (from 0 to `stop`), no clusters, no strata.
    pub fn right_censored(stop: &'a [f64], event: &'a [bool]) -> Self {
        Self {
            stop,
            start: None,
            event,
            cluster: None,
            strata: None,
        }
    }
}

impl Design {
    /// A design of one term.
    pub fn single(name: &str, column: Vec<f64>) -> Self {
        Self {
            names: vec![name.to_string()],
            columns: vec![column],
        }
    }
}

/// Fits a Cox model (Efron ties) and reports its terms as hazard ratios, or why it could not
/// be fitted; `model` is filled in place.
pub fn fit_cox(model: &mut ModelJson, data: CoxData, design: Design) {
    let events = data.event.iter().filter(|e| **e).count() as u64;
    model.events = Count::Shown(events);
    if events == 0 {
        model.not_fitted = Some("no events".into());
        return;
    }
    let (design, dropped) = design.varying();
    if !dropped.is_empty() {
        model.constant_terms = dropped;
    }
    if design.columns.is_empty() {
        model.not_fitted = Some("no covariate varies in this population".into());
        return;
    }
    let options = CoxOptions {
        ties: Ties::Efron,
        cluster: data.cluster,
        concordance: false,
    };
    let names = design.names.clone();
    match coxph_with(
        data.stop,
        data.event,
        data.start,
        design.columns,
        data.strata,
        options,
    ) {
        Ok(fit) => model.terms = cox_terms(&fit, &names),
        Err(crate::stats::StatsError::SingularDesign(terms)) if terms.is_empty() => {
            model.not_fitted = Some(format!(
                "singular design: the covariates ({}) are collinear in this population",
                names.join(", ")
            ));
        }
        Err(e) => model.not_fitted = Some(e.to_string()),
    }
}

/// A Cox fit's terms: robust intervals when the fit has clusters, model-based otherwise.
fn cox_terms(fit: &CoxFit, names: &[String]) -> Vec<TermJson> {
    names
        .iter()
        .enumerate()
        .map(|(j, name)| {
            let ((hr, lower, upper), p) = match (&fit.robust, fit.robust_hazard_ratio(j, 0.95)) {
                (Some(robust), Some(interval)) => (interval, robust.p[j]),
                _ => (fit.hazard_ratio(j, 0.95), fit.p[j]),
            };
            TermJson {
                term: name.clone(),
                ratio: Estimate {
                    estimate: finite(hr),
                    lower: finite(lower),
                    upper: finite(upper),
                },
                p,
            }
        })
        .collect()
}

/// Fits a logistic model to the patients of `rows` and reports its terms as odds ratios, or
/// why it cannot be fitted. Patients are grouped by `pattern` (a code equal for patients whose
/// design rows are equal: a cohort's covariates take few values) and `build` makes the design
/// of one patient per pattern: the binomial fit of the patterns equals the fit of one row per
/// patient, at the cost of the patterns.
pub fn fit_logistic_by_pattern(
    model: &mut ModelJson,
    rows: &[usize],
    outcome: impl Fn(usize) -> bool,
    pattern: impl Fn(usize) -> u64,
    build: impl Fn(&mut Design, &[usize]),
) {
    let mut index: foldhash::HashMap<u64, usize> = Default::default();
    let (mut first, mut successes, mut trials) = (Vec::new(), Vec::new(), Vec::new());
    for &i in rows {
        let k = *index.entry(pattern(i)).or_insert_with(|| {
            first.push(i);
            successes.push(0.0);
            trials.push(0.0);
            first.len() - 1
        });
        successes[k] += f64::from(u8::from(outcome(i)));
        trials[k] += 1.0;
    }
    let mut design = Design::default();
    build(&mut design, &first);
    fit_logistic_grouped(model, &successes, &trials, design);
}

/// Fits a logistic model to covariate patterns (`design` one row per pattern, with its
/// patients and those with the outcome) and reports its terms as odds ratios, or why not.
fn fit_logistic_grouped(model: &mut ModelJson, successes: &[f64], trials: &[f64], design: Design) {
    let events = successes.iter().sum::<f64>() as u64;
    model.events = Count::Shown(events);
    let (design, dropped) = design.varying();
    if !dropped.is_empty() {
        model.constant_terms = dropped;
    }
    if design.columns.is_empty() {
        model.not_fitted = Some("no covariate varies in this population".into());
        return;
    }
    match LogisticFit::fit_grouped(successes, trials, design.columns, &design.names) {
        Ok(fit) => {
            model.terms = design
                .names
                .iter()
                .enumerate()
                .map(|(j, name)| {
                    // Coefficient j + 1: the intercept comes first.
                    let (lower, upper) = fit.wald_interval(j + 1, 0.95);
                    TermJson {
                        term: name.clone(),
                        ratio: Estimate {
                            estimate: finite(fit.coef[j + 1].exp()),
                            lower: finite(lower.exp()),
                            upper: finite(upper.exp()),
                        },
                        p: fit.p[j + 1],
                    }
                })
                .collect();
        }
        Err(e) => model.not_fitted = Some(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descending_order_from_the_ascending_one_keeps_ties_in_row_order() {
        let time = [2.0, 1.0, 2.0, 3.0, 1.0, 2.0];
        let ascending = crate::stats::order_by(&time);
        assert_eq!(ascending, [1, 4, 0, 2, 5, 3]);
        let descending = descending_ties_in_row_order(&time, &ascending);
        assert_eq!(descending, [3, 0, 2, 5, 1, 4]);
        assert_eq!(descending, crate::stats::order_by_descending(&time));
        assert!(descending_ties_in_row_order(&[], &[]).is_empty());
    }

    #[test]
    fn a_design_leaves_out_the_levels_nobody_has_and_names_them() {
        let rows = [0, 1, 2, 3];
        let mut design = Design::default();
        design.factor("ecog", &[(0, "0"), (1, "1"), (2, "2")], 0, &rows, |i| {
            [0, 1, 1, 0][i]
        });
        design.numeric("age", &rows, |i| i as f64);
        assert_eq!(design.names, ["ecog=1 (vs 0)", "ecog=2 (vs 0)", "age"]);
        let (kept, dropped) = design.varying();
        assert_eq!(kept.names, ["ecog=1 (vs 0)", "age"]);
        assert_eq!(dropped, ["ecog=2 (vs 0)"]);
    }
}
