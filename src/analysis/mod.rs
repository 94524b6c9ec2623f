//! The study of domain.md §3: which analyses `bonemet run` performs, on which patients, with
//! which groups, and which published figure (§4, F1–F11) each estimate stands beside.
//!
//! Every analysis is declared here in the domain's words and computed by `crate::stats`; the
//! result is the [`model::RunSummary`] the report renders. Estimates are never adjusted toward
//! the literature: the side-by-side table only says whether the published value lies in the
//! cohort's 95% interval. Time is in months (days / 30.4375).

pub mod model;

use chrono::NaiveDate;

use crate::classify::{
    BoneMetsTiming, HistologyGroup, MetastaticPattern, MolecularSubgroup, NtxClass,
    PatientClassification,
};
use crate::ingest::TableBalance;
use crate::schema::vocab::{
    BoneAgent, EventType, Histology, Kras, NStage, Sex, Stage, VitalStatus, Vocabulary,
};
use crate::schema::Cohort;
use crate::stats::cox::{coxph_with, CoxOptions, Ties};
use crate::stats::km::{ConfType, KaplanMeier};
use crate::stats::logistic::LogisticFit;
use crate::stats::logrank::survdiff;
use crate::stats::proportion::{clopper_pearson, wilson};
use crate::stats::two_by_two;
use crate::study::StudySettings;
use model::*;

/// Days per month (365.25 / 12), as domain.md fixes it.
pub const DAYS_PER_MONTH: f64 = 30.4375;

/// Times at which survival is reported, months.
const SURVIVAL_MONTHS: [f64; 3] = [6.0, 12.0, 24.0];

/// Horizon of the restricted mean survival time, months.
const RMST_MONTHS: f64 = 24.0;

/// Per-patient facts every analysis draws on.
struct Patients<'a> {
    cohort: &'a Cohort,
    classified: &'a [PatientClassification],
    /// SRE types (and hypercalcaemia) each patient had, from the events table.
    event_types: Vec<u8>,
}

impl Patients<'_> {
    fn n(&self) -> usize {
        self.classified.len()
    }
    /// The end of follow-up: death (last contact when its date is missing) or last contact.
    fn follow_up_end(&self, i: usize) -> NaiveDate {
        let p = &self.cohort.patients;
        if p.vital_status[i] == VitalStatus::Dead {
            p.death_date[i].unwrap_or(p.last_contact_date[i])
        } else {
            p.last_contact_date[i]
        }
    }
    /// The start of the bone-metastatic period (the diagnosis when bone disease is unknown).
    fn bone_start(&self, i: usize) -> NaiveDate {
        let p = &self.cohort.patients;
        p.bone_mets_date[i].unwrap_or(p.diagnosis_date[i])
    }
    fn os_months(&self, i: usize) -> f64 {
        months_between(
            self.cohort.patients.diagnosis_date[i],
            self.follow_up_end(i),
        )
    }
    /// `rows` grouped by bone-targeted agent (not recorded first, then the contract's order).
    fn by_bone_agent(&self, rows: &[usize]) -> Breakdown {
        let agent = &self.cohort.patients.bone_agent;
        breakdown(
            rows,
            |i| agent[i].map(|a| a.index()),
            |a| a.map_or("not recorded".into(), |k| BoneAgent::ALL[k].as_str().into()),
        )
    }
    fn dead(&self, i: usize) -> bool {
        self.cohort.patients.vital_status[i] == VitalStatus::Dead
    }
    fn bone_ever(&self, i: usize) -> bool {
        self.cohort.patients.bone_mets_date[i].is_some()
    }
    fn bone_at_diagnosis(&self, i: usize) -> bool {
        self.classified[i].baseline.bone_mets_timing == BoneMetsTiming::Synchronous
    }
    fn stage_iv(&self, i: usize) -> bool {
        matches!(
            self.cohort.patients.stage[i],
            Some(Stage::Iva | Stage::Ivb | Stage::Iv)
        )
    }
    fn non_squamous_nsclc(&self, i: usize) -> bool {
        !matches!(
            self.cohort.patients.histology[i],
            Histology::Squamous | Histology::SmallCell
        )
    }
    fn subgroup(&self, i: usize) -> MolecularSubgroup {
        self.classified[i].baseline.molecular_subgroup
    }
    fn untreated_bone(&self, i: usize) -> bool {
        self.bone_ever(i) && self.cohort.patients.bone_agent[i] == Some(BoneAgent::None)
    }
    fn had(&self, i: usize, event: EventType) -> bool {
        self.event_types[i] & (1 << event.index()) != 0
    }
    fn any_sre(&self, i: usize) -> bool {
        self.classified[i].sre.any()
    }
    /// Whether a weight-bearing bone is involved (C7), when assessable.
    fn weight_bearing(&self, i: usize) -> Option<bool> {
        self.classified[i]
            .baseline
            .weight_bearing
            .as_ref()
            .ok()
            .map(|s| !s.is_empty())
    }
    /// The patients with bone metastases.
    fn bone_patients(&self) -> Vec<usize> {
        (0..self.n()).filter(|&i| self.bone_ever(i)).collect()
    }
}

fn months_between(from: NaiveDate, to: NaiveDate) -> f64 {
    (to - from).num_days() as f64 / DAYS_PER_MONTH
}

/// A proportion k/n in one group, with its suppression applied.
fn proportion(d: &Disclosure, group: &str, k: u64, n: u64) -> ProportionJson {
    let (mut w, mut e) = (Estimate::NONE, Estimate::NONE);
    if n > 0 && !d.hides_split(k, n) {
        if let Ok(p) = wilson(k, n, 0.95, false) {
            w = Estimate {
                estimate: Some(p.estimate),
                lower: Some(p.lower),
                upper: Some(p.upper),
            };
        }
        if let Ok(p) = clopper_pearson(k, n, 0.95) {
            e = Estimate {
                estimate: Some(p.estimate),
                lower: Some(p.lower),
                upper: Some(p.upper),
            };
        }
    }
    ProportionJson {
        group: group.to_string(),
        n: d.count(n),
        events: d.count(k),
        wilson: w,
        exact: e,
    }
}

/// Counts of `outcome` among `rows`.
fn count(rows: &[usize], outcome: &dyn Fn(usize) -> bool) -> (u64, u64) {
    let k = rows.iter().filter(|&&i| outcome(i)).count() as u64;
    (k, rows.len() as u64)
}

/// The groups of a breakdown, in a fixed order, with their rows.
type Breakdown = Vec<(String, Vec<usize>)>;

fn breakdown<K: Ord + Clone>(
    rows: &[usize],
    key: impl Fn(usize) -> K,
    name: impl Fn(&K) -> String,
) -> Breakdown {
    let mut groups: std::collections::BTreeMap<K, Vec<usize>> = Default::default();
    for &i in rows {
        groups.entry(key(i)).or_default().push(i);
    }
    groups.into_iter().map(|(k, v)| (name(&k), v)).collect()
}

fn incidence(
    d: &Disclosure,
    id: &str,
    outcome: &str,
    population: &str,
    by: &str,
    groups: &Breakdown,
    event: &dyn Fn(usize) -> bool,
) -> IncidenceJson {
    IncidenceJson {
        id: id.into(),
        outcome: outcome.into(),
        population: population.into(),
        by: by.into(),
        groups: groups
            .iter()
            .map(|(name, rows)| {
                let (k, n) = count(rows, event);
                proportion(d, name, k, n)
            })
            .collect(),
    }
}

/// Exposed vs reference odds ratio of `event`.
fn association(
    d: &Disclosure,
    id: &str,
    comparison: &str,
    population: &str,
    (exposed_name, exposed): (&str, &[usize]),
    (reference_name, reference): (&str, &[usize]),
    event: &dyn Fn(usize) -> bool,
) -> AssociationJson {
    let (a, n1) = count(exposed, event);
    let (c, n0) = count(reference, event);
    let hidden = d.hides_split(a, n1) || d.hides_split(c, n0);
    let table = if hidden {
        None
    } else {
        two_by_two::analyse(a, n1 - a, c, n0 - c, 0.95).ok()
    };
    let interval = |i: &two_by_two::Interval| Estimate {
        estimate: finite(i.estimate),
        lower: finite(i.lower),
        upper: finite(i.upper),
    };
    AssociationJson {
        id: id.into(),
        comparison: comparison.into(),
        population: population.into(),
        exposed: proportion(d, exposed_name, a, n1),
        reference: proportion(d, reference_name, c, n0),
        odds_ratio: table
            .as_ref()
            .map_or(Estimate::NONE, |t| interval(&t.odds_ratio)),
        exact_odds_ratio: table.as_ref().map_or(Estimate::NONE, |t| Estimate {
            estimate: finite(t.fisher.odds_ratio),
            lower: finite(t.fisher.lower),
            upper: finite(t.fisher.upper),
        }),
        risk_ratio: table
            .as_ref()
            .map_or(Estimate::NONE, |t| interval(&t.risk_ratio)),
        fisher_p: table.as_ref().map(|t| t.fisher.p),
        chisq_p: table.as_ref().and_then(|t| finite(t.chisq.p)),
    }
}

fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

/// Kaplan–Meier per group (log-log CIs), log-rank between them, and with two groups the Cox
/// hazard ratio of the first against the second.
fn survival(
    d: &Disclosure,
    id: &str,
    endpoint: &str,
    population: &str,
    groups: &Breakdown,
    time_event: &dyn Fn(usize) -> (f64, bool),
) -> SurvivalJson {
    survival_stratified(d, id, endpoint, population, groups, time_event, None)
}

/// A survival analysis to run, once its rows are chosen.
type SurvivalJob<'a> = Box<dyn Fn() -> SurvivalJson + Send + Sync + 'a>;

/// A stratification of a survival comparison: its name and each patient's stratum.
type Strata<'a> = (&'a str, &'a dyn Fn(usize) -> usize);

/// [`survival`] with the log-rank test and the Cox model stratified (separate baseline
/// hazards per stratum, as `survdiff(... + strata(s))` and `coxph(... + strata(s))`).
fn survival_stratified(
    d: &Disclosure,
    id: &str,
    endpoint: &str,
    population: &str,
    groups: &Breakdown,
    time_event: &dyn Fn(usize) -> (f64, bool),
    strata: Option<Strata>,
) -> SurvivalJson {
    let mut out = Vec::new();
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
        let hidden = d.hides(rows.len() as u64) || d.hides(deaths);
        let km = if hidden || rows.is_empty() {
            None
        } else {
            KaplanMeier::fit(&t, &e, None, 0.95, ConfType::LogLog).ok()
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
                .at_times(&SURVIVAL_MONTHS)
                .iter()
                .map(|a| SurvivalAtJson {
                    months: a.time,
                    n_risk: d.count(a.n_risk as u64),
                    survival: if d.hides(a.n_risk as u64) {
                        Estimate::NONE
                    } else {
                        Estimate {
                            estimate: Some(a.survival),
                            lower: a.lower,
                            upper: a.upper,
                        }
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
                    })
                    .collect(),
                risk_table(d, &t, |m| km.n_risk(m)),
            ),
            None => (Vec::new(), Vec::new()),
        };
        let rmst_24_months = km
            .as_ref()
            .and_then(|km| crate::stats::rmst::rmst(km, RMST_MONTHS).ok())
            .map_or(Estimate::NONE, |r| {
                let z = crate::stats::km::z_for(0.95);
                Estimate {
                    estimate: Some(r.estimate),
                    lower: Some(r.estimate - z * r.std_err),
                    upper: Some(r.estimate + z * r.std_err),
                }
            });
        out.push(SurvivalGroupJson {
            group: name.clone(),
            n: d.count(rows.len() as u64),
            events: d.count(deaths),
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
            .ok()
        })
        .flatten()
        .map(|t| TestJson::new(t.chisq, t.df, t.p));
    let hazard_ratio = (shown && groups.len() == 2)
        .then(|| {
            // Cox sweeps from the latest time down, ties in row order.
            let descending = descending_ties_in_row_order(&all_t, &ascending);
            let all_t = gather(&all_t, &descending);
            let all_e = gather(&all_e, &descending);
            let first: Vec<f64> = descending
                .iter()
                .map(|&k| f64::from(u8::from(all_g[k] == 0)))
                .collect();
            let all_s = strata.map(|_| gather(&all_s, &descending));
            let s = all_s.as_deref();
            // The hazard ratio alone: no concordance.
            let options = CoxOptions {
                concordance: false,
                ..CoxOptions::new(Ties::Efron)
            };
            coxph_with(&all_t, &all_e, None, vec![first], s, options).ok()
        })
        .flatten()
        .map(|fit| {
            let (hr, lower, upper) = fit.hazard_ratio(0, 0.95);
            TermJson {
                term: format!("{} vs {}", groups[0].0, groups[1].0),
                ratio: Estimate {
                    estimate: Some(hr),
                    lower: Some(lower),
                    upper: Some(upper),
                },
                p: fit.p[0],
            }
        });
    SurvivalJson {
        id: id.into(),
        endpoint: endpoint.into(),
        population: population.into(),
        stratified_by: strata.map(|(name, _)| name.to_string()),
        groups: out,
        logrank,
        hazard_ratio,
    }
}

/// The rows by time ascending, ties in row order, and each group's rows in that order (row k
/// in group `group[k]` of `groups`).
fn time_order(time: &[f64], group: &[usize], groups: usize) -> (Vec<usize>, Vec<Vec<usize>>) {
    let ascending = crate::stats::order_by(time);
    let mut group_order: Vec<Vec<usize>> = vec![Vec::new(); groups];
    for &k in &ascending {
        group_order[group[k]].push(k);
    }
    (ascending, group_order)
}

/// `values` in `order`.
fn gather<T: Copy>(values: &[T], order: &[usize]) -> Vec<T> {
    order.iter().map(|&k| values[k]).collect()
}

/// The rows by time descending, ties in row order, from their order by time ascending (ties in
/// row order): the runs of equal times in reverse, each run as it was.
fn descending_ties_in_row_order(time: &[f64], ascending: &[usize]) -> Vec<usize> {
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

/// Months at which the number at risk is tabulated under a chart: every 6 months up to the
/// last time observed, at most 10 years.
fn risk_table(d: &Disclosure, times: &[f64], n_risk: impl Fn(f64) -> f64) -> Vec<AtRiskJson> {
    let last = times.iter().copied().fold(0.0, f64::max).min(120.0);
    (0..)
        .map(|k| 6.0 * f64::from(k))
        .take_while(|&m| m <= last)
        .map(|m| AtRiskJson {
            months: m,
            n_risk: d.count(n_risk(m) as u64),
        })
        .collect()
}

/// Cumulative incidence with its 95% interval on the log(−log) scale (the estimate stays in
/// (0, 1)), from the Aalen–Johansen estimate and cmprsk's variance.
fn cif_interval(estimate: f64, variance: f64) -> (Option<f64>, Option<f64>) {
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

/// Time to first SRE from the bone-metastasis diagnosis, death without an SRE competing, by
/// `groups`; an SRE dated before the bone diagnosis (a revealing event) counts at time 0.
fn sre_incidence(
    d: &Disclosure,
    p: &Patients,
    id: &str,
    by: &str,
    groups: &Breakdown,
) -> CompetingRiskJson {
    use crate::stats::cuminc::{cumulative_incidence, gray_test};
    let mut revealing = 0u64;
    // (months, status): 1 first SRE, 2 death first, 0 censored.
    let timing = |i: usize, revealing: &mut u64| -> (f64, u32) {
        let start = p.bone_start(i);
        if let Some((date, _)) = p.classified[i].sre.first {
            if date < start {
                *revealing += 1;
            }
            return (months_between(start, date).max(0.0), 1);
        }
        (
            months_between(start, p.follow_up_end(i)).max(0.0),
            if p.dead(i) { 2 } else { 0 },
        )
    };
    let (mut all_t, mut all_s, mut all_g) = (Vec::new(), Vec::new(), Vec::new());
    for (g, (_, rows)) in groups.iter().enumerate() {
        for &i in rows {
            let (t, s) = timing(i, &mut revealing);
            all_t.push(t);
            all_s.push(s);
        }
        all_g.extend(std::iter::repeat_n(g, rows.len()));
    }
    // One sort by time for every group's curve and Gray's test (see `survival_stratified`).
    let (ascending, group_order) = time_order(&all_t, &all_g, groups.len());
    let mut out = Vec::new();
    for (g, (name, rows)) in groups.iter().enumerate() {
        let t = gather(&all_t, &group_order[g]);
        let s = gather(&all_s, &group_order[g]);
        let events = s.iter().filter(|&&x| x == 1).count() as u64;
        let competing = s.iter().filter(|&&x| x == 2).count() as u64;
        let hidden = d.hides(rows.len() as u64) || d.hides(events);
        let cif = if hidden || rows.is_empty() {
            None
        } else {
            cumulative_incidence(&t, &s, 1).ok()
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
                        }
                    })
                    .collect(),
                SURVIVAL_MONTHS
                    .iter()
                    .map(|&m| {
                        let n_risk = t.iter().filter(|&&x| x >= m).count() as u64;
                        SurvivalAtJson {
                            months: m,
                            n_risk: d.count(n_risk),
                            survival: match c.at(m) {
                                Some((e, v)) if !d.hides(n_risk) => {
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
                risk_table(d, &t, |m| t.iter().filter(|&&x| x >= m).count() as f64),
            ),
            None => (Vec::new(), Vec::new(), Vec::new()),
        };
        out.push(CifGroupJson {
            group: name.clone(),
            n: d.count(rows.len() as u64),
            events: d.count(events),
            competing: d.count(competing),
            at_months,
            curve,
            at_risk,
        });
    }
    let shown = out
        .iter()
        .all(|g| !g.n.is_suppressed() && !g.events.is_suppressed());
    let gray = (shown && groups.len() > 1)
        .then(|| {
            let (t, s, g) = (
                gather(&all_t, &ascending),
                gather(&all_s, &ascending),
                gather(&all_g, &ascending),
            );
            gray_test(&t, &s, 1, &g, None, 0.0).ok()
        })
        .flatten()
        .map(|t| TestJson::new(t.chisq, t.df, t.p));
    CompetingRiskJson {
        id: id.into(),
        endpoint: "months from bone-metastasis diagnosis to first SRE; death without SRE competing"
            .into(),
        population: "patients with bone metastases".into(),
        by: by.into(),
        groups: out,
        gray_test: gray,
        revealing_sres: d.count(revealing),
    }
}

/// Skeletal morbidity rate: SREs (after the merge window) per patient-year from the
/// bone-metastasis diagnosis to death or last contact, with the exact Poisson 95% CI
/// (chi-square quantiles: [χ²(0.025; 2k)/2, χ²(0.975; 2k + 2)/2] / person-years).
fn sre_rates(d: &Disclosure, p: &Patients, by: &str, groups: &Breakdown) -> RatesJson {
    use crate::stats::rate::exact_poisson_rate;
    let rows = groups
        .iter()
        .map(|(name, rows)| {
            let events: u64 = rows
                .iter()
                .map(|&i| u64::from(p.classified[i].sre.count))
                .sum();
            let person_years: f64 = rows
                .iter()
                .map(|&i| {
                    ((p.follow_up_end(i) - p.bone_start(i)).num_days().max(0) as f64) / 365.25
                })
                .sum();
            let hidden = d.hides(rows.len() as u64) || d.hides(events);
            let rate = match exact_poisson_rate(events, person_years, 0.95) {
                Ok(r) if !hidden => Estimate {
                    estimate: Some(r.estimate),
                    lower: Some(r.lower),
                    upper: Some(r.upper),
                },
                _ => Estimate::NONE,
            };
            RateJson {
                group: name.clone(),
                patients: d.count(rows.len() as u64),
                events: d.count(events),
                person_years: (!hidden).then_some(person_years),
                rate,
            }
        })
        .collect();
    RatesJson {
        id: format!("sre_rate_by_{}", by.replace([' ', '-'], "_")),
        measure:
            "SREs per patient-year from the bone-metastasis diagnosis (skeletal morbidity rate)"
                .into(),
        population: "patients with bone metastases".into(),
        by: by.into(),
        groups: rows,
    }
}

/// The highest corrected calcium of each patient (baseline and labs), in 0.1 mmol/L bins, with
/// the study's thresholds.
fn calcium_distribution(
    d: &Disclosure,
    p: &Patients,
    settings: &StudySettings,
) -> DistributionJson {
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
    let quartiles =
        (n > 0 && !d.hides(n as u64)).then(|| [quantile(0.25), quantile(0.5), quantile(0.75)]);
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
        n: d.count(n as u64),
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
                    count: d.count(c),
                }
            })
            .collect(),
    }
}

/// Adjusted odds ratios of bone metastases at diagnosis (domain.md §3: sex, age, size, N,
/// histology, molecular subgroup), among patients with every covariate recorded.
fn risk_factor_model(d: &Disclosure, p: &Patients) -> ModelJson {
    let pt = &p.cohort.patients;
    let rows: Vec<usize> = (0..p.n())
        .filter(|&i| {
            pt.tumor_size_mm[i].is_some() && matches!(pt.n_stage[i], Some(s) if s != NStage::Nx)
        })
        .collect();
    let outcome: Vec<bool> = rows.iter().map(|&i| p.bone_at_diagnosis(i)).collect();
    let mut names = vec![
        "sex=m".to_string(),
        "age (per 10 years)".into(),
        "tumour size > 20 mm".into(),
        "N1-N3".into(),
        "non-bone metastatic site at diagnosis".into(),
    ];
    let mut columns: Vec<Vec<f64>> = vec![
        rows.iter()
            .map(|&i| f64::from(u8::from(pt.sex[i] == Sex::Male)))
            .collect(),
        rows.iter()
            .map(|&i| f64::from(pt.age_at_diagnosis[i]) / 10.0)
            .collect(),
        rows.iter()
            .map(|&i| f64::from(u8::from(pt.tumor_size_mm[i].is_some_and(|s| s > 20.0))))
            .collect(),
        rows.iter()
            .map(|&i| f64::from(u8::from(!matches!(pt.n_stage[i], Some(NStage::N0)))))
            .collect(),
        rows.iter()
            .map(|&i| {
                f64::from(u8::from(matches!(
                    p.classified[i].baseline.metastatic_pattern,
                    MetastaticPattern::VisceralOnly | MetastaticPattern::BoneAndVisceral
                )))
            })
            .collect(),
    ];
    for group in [
        HistologyGroup::Squamous,
        HistologyGroup::OtherNsclc,
        HistologyGroup::SmallCell,
        HistologyGroup::Other,
    ] {
        names.push(format!("histology={} (vs adenocarcinoma)", group.as_str()));
        columns.push(
            rows.iter()
                .map(|&i| f64::from(u8::from(p.classified[i].baseline.histology_group == group)))
                .collect(),
        );
    }
    type Family = fn(MolecularSubgroup) -> bool;
    let families: [(&str, Family); 4] = [
        ("EGFR-mutant", |m| m.is_egfr()),
        ("ALK-rearranged", |m| m == MolecularSubgroup::Alk),
        ("KRAS-mutant", |m| m.is_kras()),
        ("incompletely tested", |m| {
            m == MolecularSubgroup::IncompletelyTested
        }),
    ];
    for (name, is) in families {
        names.push(format!("molecular={name} (vs triple-negative)"));
        columns.push(
            rows.iter()
                .map(|&i| f64::from(u8::from(is(p.subgroup(i)))))
                .collect(),
        );
    }
    let (names, columns) = varying_columns(names, columns);
    let events = outcome.iter().filter(|e| **e).count() as u64;
    let n = rows.len() as u64;
    let mut model = ModelJson {
        id: "risk_factors_bone_at_diagnosis".into(),
        model: "logistic regression of bone metastases at diagnosis".into(),
        population: "patients with tumour size and N stage recorded".into(),
        ratio: "odds ratio".into(),
        variance: "model-based".into(),
        n: d.count(n),
        intervals: None,
        n_dropped_missing: d.count((p.n() - rows.len()) as u64),
        events: d.count(events),
        terms: Vec::new(),
        not_fitted: None,
    };
    if d.hides_split(events, n) {
        model.not_fitted = Some("suppressed: a count below the disclosure threshold".into());
        return model;
    }
    match LogisticFit::fit_columns(&outcome, columns, &names) {
        Ok(fit) => {
            for (j, name) in names.iter().enumerate() {
                // Coefficient j + 1: the intercept comes first.
                let (lower, upper) = fit.wald_interval(j + 1, 0.95);
                model.terms.push(TermJson {
                    term: name.clone(),
                    ratio: Estimate {
                        estimate: Some(fit.coef[j + 1].exp()),
                        lower: Some(lower.exp()),
                        upper: Some(upper.exp()),
                    },
                    p: fit.p[j + 1],
                });
            }
        }
        Err(e) => model.not_fitted = Some(e.to_string()),
    }
    model
}

/// The design's columns that vary, with their names: a level nobody has (or everybody has)
/// would make the design singular.
fn varying_columns(names: Vec<String>, columns: Vec<Vec<f64>>) -> (Vec<String>, Vec<Vec<f64>>) {
    names
        .into_iter()
        .zip(columns)
        .filter(|(_, c)| c.iter().any(|&v| v != c[0]))
        .unzip()
}

/// An interval of a patient's time at risk of an SRE, in days (counting-process form).
#[derive(Debug, Clone, Copy, PartialEq)]
struct RiskInterval {
    from: f64,
    to: f64,
    /// Whether an SRE ends the interval.
    sre: bool,
    /// Whether the patient had an SRE before the interval.
    after_first: bool,
}

/// A patient's intervals between SREs, from the SREs' days (from the bone-metastasis diagnosis,
/// in date order) and the last day of follow-up. An SRE on day k happens by the end of day k
/// (time k + 1), so one on the day of the diagnosis, or dated before it (day 0), ends a first
/// interval of one day; SREs on one day count once (their order is unknown); one dated after
/// the end of follow-up counts on its last day.
fn recurrent_intervals(sre_days: impl Iterator<Item = i64>, last_day: i64) -> Vec<RiskInterval> {
    let mut intervals = Vec::new();
    let mut previous: Option<i64> = None;
    let start = |previous: Option<i64>| previous.map_or(0.0, |k| (k + 1) as f64);
    for day in sre_days {
        let day = day.clamp(0, last_day);
        if previous == Some(day) {
            continue;
        }
        intervals.push(RiskInterval {
            from: start(previous),
            to: (day + 1) as f64,
            sre: true,
            after_first: previous.is_some(),
        });
        previous = Some(day);
    }
    if previous != Some(last_day) {
        intervals.push(RiskInterval {
            from: start(previous),
            to: (last_day + 1) as f64,
            sre: false,
            after_first: previous.is_some(),
        });
    }
    intervals
}

/// Recurrent SREs as multiple events (domain.md §3: Andersen–Gill): a Cox model in
/// counting-process form, one row per interval between a patient's SREs from the
/// bone-metastasis diagnosis to death or last contact, with a variance robust to the
/// correlation of one patient's intervals ([`recurrent_intervals`]). The term "after a first
/// SRE" is the hazard of a further SRE once a patient has had one, against the hazard of a
/// first.
fn recurrent_sre_model(
    d: &Disclosure,
    p: &Patients,
    bone_patients: &[usize],
    settings: &StudySettings,
) -> ModelJson {
    use crate::classify::{sre::counted_sres, Histories};
    let histories = Histories::of_events(p.cohort);
    let events = &p.cohort.events;
    let agent = &p.cohort.patients.bone_agent;
    let agents: Vec<BoneAgent> = BoneAgent::ALL
        .iter()
        .copied()
        .filter(|&a| a != BoneAgent::None)
        .collect();
    let mut names = vec!["after a first SRE (vs before any)".to_string()];
    names.extend(
        agents
            .iter()
            .map(|a| format!("bone agent={} (vs none)", a.as_str())),
    );
    names.push("weight-bearing bone involved".into());
    let mut columns: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
    let (mut entry, mut exit, mut event, mut cluster) = (vec![], vec![], vec![], vec![]);
    let (mut patients, mut dropped, mut sres) = (0u64, 0u64, 0u64);
    for &i in bone_patients {
        let (Some(agent), Some(weight_bearing)) = (agent[i], p.weight_bearing(i)) else {
            dropped += 1;
            continue;
        };
        patients += 1;
        let start = p.bone_start(i);
        let last_day = (p.follow_up_end(i) - start).num_days().max(0);
        let patient_events = histories.events(i).iter().map(|&e| {
            let e = e as usize;
            (events.event_date[e], events.event_type[e])
        });
        let sre_days =
            counted_sres(patient_events, settings).map(|(date, _)| (date - start).num_days());
        for interval in recurrent_intervals(sre_days, last_day) {
            entry.push(interval.from);
            exit.push(interval.to);
            event.push(interval.sre);
            cluster.push(i);
            sres += u64::from(interval.sre);
            columns[0].push(f64::from(u8::from(interval.after_first)));
            for (k, a) in agents.iter().enumerate() {
                columns[1 + k].push(f64::from(u8::from(agent == *a)));
            }
            columns[1 + agents.len()].push(f64::from(u8::from(weight_bearing)));
        }
    }
    let mut model = ModelJson {
        id: "recurrent_sres".into(),
        model: "Andersen–Gill model of recurrent SREs (Cox, Efron ties)".into(),
        population: "patients with bone metastases, from the bone-metastasis diagnosis to death or last contact".into(),
        ratio: "hazard ratio".into(),
        variance: "robust, clustered by patient".into(),
        n: d.count(patients),
        intervals: Some(d.count(exit.len() as u64)),
        n_dropped_missing: d.count(dropped),
        events: d.count(sres),
        terms: Vec::new(),
        not_fitted: None,
    };
    if d.hides(patients) || d.hides(sres) {
        model.not_fitted = Some("suppressed: a count below the disclosure threshold".into());
        return model;
    }
    let (names, columns) = varying_columns(names, columns);
    // The hazard ratios with the robust variance; the concordance is not reported.
    let options = CoxOptions {
        ties: Ties::Efron,
        cluster: Some(&cluster),
        concordance: false,
    };
    let fit = coxph_with(&exit, &event, Some(&entry), &columns, None, options);
    match fit {
        Ok(fit) => {
            for (j, name) in names.iter().enumerate() {
                let (Some((hr, lower, upper)), Some(robust)) =
                    (fit.robust_hazard_ratio(j, 0.95), &fit.robust)
                else {
                    continue;
                };
                model.terms.push(TermJson {
                    term: name.clone(),
                    ratio: Estimate {
                        estimate: finite(hr),
                        lower: finite(lower),
                        upper: finite(upper),
                    },
                    p: robust.p[j],
                });
            }
        }
        Err(e) => model.not_fitted = Some(e.to_string()),
    }
    model
}

/// The cohort section: balance, follow-up, missingness.
fn cohort_section(d: &Disclosure, p: &Patients, balance: &[TableBalance]) -> CohortJson {
    let n = p.n();
    let pt = &p.cohort.patients;
    // Reverse Kaplan–Meier: follow-up is the time to censoring, death censoring it.
    let (t, alive): (Vec<f64>, Vec<bool>) = (0..n).map(|i| (p.os_months(i), !p.dead(i))).unzip();
    let follow_up = KaplanMeier::fit(&t, &alive, None, 0.95, ConfType::LogLog)
        .ok()
        .map_or(Estimate::NONE, |km| {
            let m = km.median();
            Estimate {
                estimate: m.estimate,
                lower: m.lower,
                upper: m.upper,
            }
        });
    let person_years = t.iter().sum::<f64>() * DAYS_PER_MONTH / 365.25;
    let deaths = (0..n).filter(|&i| p.dead(i)).count() as u64;
    let missing = |name: &str, k: usize| {
        let count = d.count(k as u64);
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
        patients: d.count(n as u64),
        deaths: d.count(deaths),
        follow_up_months: follow_up,
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

/// Runs every analysis of the study on a validated, classified cohort. `min_cell` is the
/// disclosure threshold (0 disables it).
pub fn analyse(
    cohort: &Cohort,
    classified: &[PatientClassification],
    balance: &[TableBalance],
    settings: &StudySettings,
    min_cell: u64,
) -> RunSummary {
    let d = Disclosure::new(min_cell);
    let mut event_types = vec![0u8; classified.len()];
    for e in 0..cohort.events.len() {
        event_types[cohort.events.patient[e] as usize] |= 1 << cohort.events.event_type[e].index();
    }
    let p = Patients {
        cohort,
        classified,
        event_types,
    };
    // The regression models (the costliest analyses) run beside all the others, and the
    // survival analyses beside each other; each analysis is a pure function of its rows and
    // sums in a fixed order, so the results do not depend on the threads.
    let bone_patients = p.bone_patients();
    let (models, mut summary) = rayon::join(
        || regression_models(&d, &p, &bone_patients, settings),
        || descriptive_analyses(&d, &p, &bone_patients, balance, settings),
    );
    let sre_types = summary
        .incidence
        .iter()
        .find(|a| a.id == "sre_types_untreated")
        .map_or(&[][..], |a| &a.groups[..]);
    summary.published = published_figures(
        &d,
        &p,
        &summary.incidence,
        &[
            &summary.associations[0],
            &summary.associations[1],
            &summary.associations[2],
        ],
        &summary.survival,
        &models[0],
        sre_types,
    );
    summary.models = models;
    summary.suppressed_counts = d.hidden();
    summary
}

/// The adjusted logistic model of bone metastases at diagnosis (F10) and the Andersen–Gill
/// model of recurrent SREs, fitted side by side.
fn regression_models(
    d: &Disclosure,
    p: &Patients,
    bone_patients: &[usize],
    settings: &StudySettings,
) -> Vec<ModelJson> {
    let (logistic, recurrent) = rayon::join(
        || risk_factor_model(d, p),
        || recurrent_sre_model(d, p, bone_patients, settings),
    );
    vec![logistic, recurrent]
}

/// Every analysis but the regression models and the published figures: the summary with
/// those left empty.
fn descriptive_analyses(
    d: &Disclosure,
    p: &Patients,
    bone_patients: &[usize],
    balance: &[TableBalance],
    settings: &StudySettings,
) -> RunSummary {
    use rayon::prelude::*;
    let cohort = p.cohort;
    let pt = &cohort.patients;
    let n = p.n();
    let all: Vec<usize> = (0..n).collect();
    let cohort_json = cohort_section(d, p, balance);

    // Breakdowns of every patient.
    let overall: Breakdown = vec![("all".into(), all.clone())];
    let by_subgroup = |rows: &[usize]| breakdown(rows, |i| p.subgroup(i), |m| m.as_str().into());
    let by_histology = breakdown(
        &all,
        |i| p.classified[i].baseline.histology_group,
        |h| h.as_str().into(),
    );
    let by_sex = breakdown(&all, |i| pt.sex[i], |s| s.as_str().into());
    let by_risk = breakdown(
        &all,
        |i| {
            p.classified[i]
                .baseline
                .risk_factor_count
                .as_ref()
                .ok()
                .copied()
        },
        |r| r.map_or("not assessable".into(), |k| format!("{k} risk factors")),
    );
    let bone_ever = |i: usize| p.bone_ever(i);
    let bone_dx = |i: usize| p.bone_at_diagnosis(i);
    let mut incidence_json = Vec::new();
    for (id, outcome, event) in [
        (
            "bone_mets_ever",
            "bone metastases at any time",
            &bone_ever as &dyn Fn(usize) -> bool,
        ),
        (
            "bone_mets_at_diagnosis",
            "bone metastases at diagnosis (synchronous)",
            &bone_dx,
        ),
    ] {
        for (by, groups) in [
            ("overall", &overall),
            ("molecular subgroup", &by_subgroup(&all)),
            ("histology", &by_histology),
            ("sex", &by_sex),
            ("risk profile (C10)", &by_risk),
        ] {
            incidence_json.push(incidence(
                d,
                &format!("{id}_by_{}", by.split(' ').next().unwrap_or(by)),
                outcome,
                "all patients",
                by,
                groups,
                event,
            ));
        }
    }
    // Kuijpers' population (F3–F6): stage IV non-squamous NSCLC.
    let iv_ns: Vec<usize> = all
        .iter()
        .copied()
        .filter(|&i| p.stage_iv(i) && p.non_squamous_nsclc(i))
        .collect();
    let iv_ns_name = "stage IV non-squamous NSCLC";
    incidence_json.push(incidence(
        d,
        "bone_mets_at_diagnosis_stage_iv_non_squamous",
        "bone metastases at diagnosis (synchronous)",
        iv_ns_name,
        "molecular subgroup",
        &[
            vec![("all".to_string(), iv_ns.clone())],
            by_subgroup(&iv_ns),
        ]
        .concat(),
        &bone_dx,
    ));
    // SREs among bone-metastatic patients without a bone-targeted agent (F8, F9).
    let untreated: Vec<usize> = all
        .iter()
        .copied()
        .filter(|&i| p.untreated_bone(i))
        .collect();
    let untreated_name = "patients with bone metastases and no bone-targeted agent";
    let sre_types: [(&str, EventType); 4] = [
        ("pathologic fracture", EventType::PathologicFracture),
        ("radiotherapy to bone", EventType::RadiotherapyBone),
        ("surgery to bone", EventType::BoneSurgery),
        ("spinal cord compression", EventType::SpinalCordCompression),
    ];
    let any_sre = |i: usize| p.any_sre(i);
    let mut sre_groups = vec![incidence(
        d,
        "sre_any_untreated",
        "at least one SRE",
        untreated_name,
        "overall",
        &vec![("all".into(), untreated.clone())],
        &any_sre,
    )
    .groups
    .remove(0)];
    sre_groups[0].group = "any SRE".into();
    for (name, kind) in sre_types {
        let (k, m) = count(&untreated, &|i| p.had(i, kind));
        sre_groups.push(proportion(d, name, k, m));
    }
    incidence_json.push(IncidenceJson {
        id: "sre_types_untreated".into(),
        outcome: "patients with each SRE type".into(),
        population: untreated_name.into(),
        by: "SRE type".into(),
        groups: sre_groups.clone(),
    });
    let by_agent = p.by_bone_agent(bone_patients);
    incidence_json.push(incidence(
        d,
        "sre_any_by_bone_agent",
        "at least one SRE",
        "patients with bone metastases",
        "bone-targeted agent",
        &by_agent,
        &any_sre,
    ));
    // Hypercalcaemia: a corrected calcium above the crisis threshold at any time.
    let measured: Vec<usize> = all
        .iter()
        .copied()
        .filter(|&i| p.classified[i].calcium.worst.is_some())
        .collect();
    let crisis = |i: usize| p.classified[i].calcium.first_crisis_date.is_some();
    let by_agent_measured = p.by_bone_agent(&measured);
    incidence_json.push(incidence(
        d,
        "hypercalcaemic_crisis_by_bone_agent",
        "corrected calcium > 3.5 mmol/L at any time (laboratory crisis)",
        "patients with a corrected calcium",
        "bone-targeted agent",
        &[
            vec![("all".to_string(), measured.clone())],
            by_agent_measured,
        ]
        .concat(),
        &crisis,
    ));

    // Associations (F3, F4, F11, weight-bearing involvement).
    let egfr: Vec<usize> = iv_ns
        .iter()
        .copied()
        .filter(|&i| p.subgroup(i).is_egfr())
        .collect();
    let tn: Vec<usize> = iv_ns
        .iter()
        .copied()
        .filter(|&i| p.subgroup(i) == MolecularSubgroup::TripleNegative)
        .collect();
    let g12a: Vec<usize> = iv_ns
        .iter()
        .copied()
        .filter(|&i| p.subgroup(i) == MolecularSubgroup::KrasG12a)
        .collect();
    let bone_population = format!("{iv_ns_name}; outcome: bone metastases at diagnosis");
    let f3 = association(
        d,
        "F3",
        "EGFR-mutant vs triple-negative",
        &bone_population,
        ("EGFR-mutant", &egfr),
        ("triple-negative", &tn),
        &bone_dx,
    );
    let f4 = association(
        d,
        "F4",
        "KRAS G12A vs triple-negative",
        &bone_population,
        ("KRAS G12A", &g12a),
        ("triple-negative", &tn),
        &bone_dx,
    );
    let ntx = |i: usize| p.classified[i].baseline.ntx_class.as_ref().ok().copied();
    let ntx_high: Vec<usize> = untreated
        .iter()
        .copied()
        .filter(|&i| ntx(i) == Some(NtxClass::High))
        .collect();
    let ntx_low: Vec<usize> = untreated
        .iter()
        .copied()
        .filter(|&i| matches!(ntx(i), Some(NtxClass::Low | NtxClass::Moderate)))
        .collect();
    let f11 = association(
        d,
        "F11",
        "NTX >= 100 vs < 100 nmol BCE/mmol creatinine",
        &format!("{untreated_name}; outcome: at least one SRE"),
        ("NTX >= 100", &ntx_high),
        ("NTX < 100", &ntx_low),
        &any_sre,
    );
    let weight_bearing = |i: usize| p.weight_bearing(i);
    let wb_yes: Vec<usize> = bone_patients
        .iter()
        .copied()
        .filter(|&i| weight_bearing(i) == Some(true))
        .collect();
    let wb_no: Vec<usize> = bone_patients
        .iter()
        .copied()
        .filter(|&i| weight_bearing(i) == Some(false))
        .collect();
    let wb = association(
        d,
        "sre_weight_bearing",
        "weight-bearing bone involved vs not",
        "patients with bone metastases; outcome: at least one SRE",
        ("weight-bearing", &wb_yes),
        ("no weight-bearing", &wb_no),
        &any_sre,
    );

    // Survival, months from diagnosis.
    let os = |i: usize| (p.os_months(i), p.dead(i));
    let pattern_groups = breakdown(
        &all,
        |i| p.classified[i].baseline.metastatic_pattern,
        |m| m.as_str().into(),
    );
    let with_without = |rows: &[usize]| -> Breakdown {
        vec![
            (
                "bone metastases at diagnosis".into(),
                rows.iter()
                    .copied()
                    .filter(|&i| p.bone_at_diagnosis(i))
                    .collect(),
            ),
            (
                "no bone metastases at diagnosis".into(),
                rows.iter()
                    .copied()
                    .filter(|&i| !p.bone_at_diagnosis(i))
                    .collect(),
            ),
        ]
    };
    let kras_mut: Vec<usize> = iv_ns
        .iter()
        .copied()
        .filter(|&i| p.subgroup(i).is_kras())
        .collect();
    let bone_adeno: Vec<usize> = bone_patients
        .iter()
        .copied()
        .filter(|&i| pt.histology[i] == Histology::Adenocarcinoma)
        .collect();
    let kras_groups: Breakdown = vec![
        (
            "KRAS wild type".into(),
            bone_adeno
                .iter()
                .copied()
                .filter(|&i| pt.kras[i] == Some(Kras::WildType))
                .collect(),
        ),
        (
            "KRAS mutant".into(),
            bone_adeno
                .iter()
                .copied()
                .filter(|&i| p.subgroup(i).is_kras())
                .collect(),
        ),
    ];
    let os_name = "overall survival from diagnosis (months)";
    // The survival analyses (the costliest here) are collected as jobs and run in parallel at
    // the end, in this order whatever the threads: each is a pure function of its rows.
    let mut survival_jobs: Vec<SurvivalJob> = Vec::new();
    survival_jobs.push(Box::new(move || {
        survival(
            d,
            "os_by_metastatic_pattern",
            os_name,
            "all patients",
            &pattern_groups,
            &os,
        )
    }));
    let (f5_population, f5_groups) = (format!("EGFR-mutant {iv_ns_name}"), with_without(&egfr));
    survival_jobs.push(Box::new(move || {
        survival(d, "F5", os_name, &f5_population, &f5_groups, &os)
    }));
    let (f6_population, f6_groups) = (format!("KRAS-mutant {iv_ns_name}"), with_without(&kras_mut));
    survival_jobs.push(Box::new(move || {
        survival(d, "F6", os_name, &f6_population, &f6_groups, &os)
    }));
    survival_jobs.push(Box::new(move || {
        survival(
            d,
            "F7",
            os_name,
            "adenocarcinoma with bone metastases",
            &kras_groups,
            &os,
        )
    }));
    let weight_bearing_groups = breakdown(bone_patients, weight_bearing, |w| match w {
        Some(true) => "weight-bearing bone involved".into(),
        Some(false) => "no weight-bearing bone".into(),
        None => "not assessable".into(),
    });
    let sre_cumulative_incidence = [
        ("first_sre_by_bone_agent", "bone-targeted agent", &by_agent),
        (
            "first_sre_by_weight_bearing",
            "weight-bearing involvement",
            &weight_bearing_groups,
        ),
    ]
    .par_iter()
    .map(|(id, by, groups)| sre_incidence(d, p, id, by, groups))
    .collect();
    let corrected_calcium = calcium_distribution(d, p, settings);
    let bone_overall: Breakdown = vec![("all".into(), bone_patients.to_vec())];
    let rates = vec![
        sre_rates(d, p, "overall", &bone_overall),
        sre_rates(d, p, "bone-targeted agent", &by_agent),
    ];
    // A second SRE after a first (domain.md §3: one SRE raises the risk of the next).
    let first_sre: Vec<usize> = bone_patients
        .iter()
        .copied()
        .filter(|&i| p.any_sre(i))
        .collect();
    let by_agent_first = p.by_bone_agent(&first_sre);
    incidence_json.push(incidence(
        d,
        "second_sre_after_first",
        "a second SRE",
        "patients with bone metastases and a first SRE",
        "bone-targeted agent",
        &[
            vec![("all".to_string(), first_sre.clone())],
            by_agent_first.clone(),
        ]
        .concat(),
        &|i| p.classified[i].sre.second_date.is_some(),
    ));
    // Overall survival from the bone-metastasis diagnosis, by molecular family.
    let os_from_bone = |i: usize| {
        let to_bone = months_between(pt.diagnosis_date[i], p.bone_start(i));
        (p.os_months(i) - to_bone, p.dead(i))
    };
    let family = |i: usize| {
        let m = p.subgroup(i);
        if m.is_egfr() {
            0
        } else if m == MolecularSubgroup::Alk {
            1
        } else if m.is_kras() {
            2
        } else if m == MolecularSubgroup::TripleNegative {
            3
        } else {
            4
        }
    };
    let families = breakdown(bone_patients, family, |k| {
        [
            "EGFR-mutant",
            "ALK-rearranged",
            "KRAS-mutant",
            "triple-negative",
            "incompletely tested",
        ][*k]
            .into()
    });
    // NTX class and death (F11: a higher risk of death with NTX >= 100).
    let ntx_groups: Breakdown = vec![
        (
            "NTX >= 100".into(),
            bone_patients
                .iter()
                .copied()
                .filter(|&i| ntx(i) == Some(NtxClass::High))
                .collect(),
        ),
        (
            "NTX < 100".into(),
            bone_patients
                .iter()
                .copied()
                .filter(|&i| matches!(ntx(i), Some(NtxClass::Low | NtxClass::Moderate)))
                .collect(),
        ),
    ];
    survival_jobs.push(Box::new(move || {
        survival(
            d,
            "os_from_bone_by_ntx",
            "overall survival from bone-metastasis diagnosis (months)",
            "patients with bone metastases and a baseline NTX",
            &ntx_groups,
            &os_from_bone,
        )
    }));
    // Time from a first SRE to a second (death and last contact censor), by bone agent.
    let to_second = |i: usize| {
        let first = p.classified[i]
            .sre
            .first
            .map_or(pt.diagnosis_date[i], |(date, _)| date);
        match p.classified[i].sre.second_date {
            Some(second) => (months_between(first, second).max(0.0), true),
            None => (months_between(first, p.follow_up_end(i)).max(0.0), false),
        }
    };
    survival_jobs.push(Box::new(move || {
        survival(
            d,
            "second_sre_after_first",
            "months from the first SRE to a second (death and last contact censor)",
            "patients with bone metastases and a first SRE",
            &by_agent_first,
            &to_second,
        )
    }));
    // Bone metastases at diagnosis and survival in stage IV non-squamous NSCLC, within
    // molecular families (the comparison F5 and F6 make family by family, pooled).
    let (stratified_population, stratified_groups) = (
        format!("{iv_ns_name}, stratified by molecular family"),
        with_without(&iv_ns),
    );
    survival_jobs.push(Box::new(move || {
        let family_of = |i: usize| family(i);
        survival_stratified(
            d,
            "os_by_bone_at_diagnosis_stratified",
            os_name,
            &stratified_population,
            &stratified_groups,
            &os,
            Some(("molecular family", &family_of)),
        )
    }));
    survival_jobs.push(Box::new(move || {
        survival(
            d,
            "os_from_bone_by_molecular_family",
            "overall survival from bone-metastasis diagnosis (months)",
            "patients with bone metastases",
            &families,
            &os_from_bone,
        )
    }));
    let survival_json = survival_jobs.par_iter().map(|job| job()).collect();
    RunSummary {
        bonemet_version: env!("CARGO_PKG_VERSION"),
        min_cell: d.min_cell,
        suppressed_counts: 0,
        cohort: cohort_json,
        incidence: incidence_json,
        // F3, F4 and F11 first: the published figures take them from here.
        associations: vec![f3, f4, f11, wb],
        models: Vec::new(),
        survival: survival_json,
        sre_cumulative_incidence,
        sre_rates: rates,
        corrected_calcium,
        published: Vec::new(),
    }
}

/// A published figure's row.
struct Row<'a> {
    id: &'a str,
    figure: &'a str,
    measure: &'a str,
    literature: Option<f64>,
    literature_text: &'a str,
    source: &'a str,
}

fn row(r: Row, cohort: Estimate, n: impl Into<Option<Count>>, note: &str) -> PublishedJson {
    let n = n.into();
    let literature_in_ci = match (r.literature, cohort.lower, cohort.upper) {
        (Some(v), Some(lo), Some(hi)) => Some(lo <= v && v <= hi),
        _ => None,
    };
    PublishedJson {
        id: r.id.into(),
        figure: r.figure.into(),
        measure: r.measure.into(),
        literature: r.literature,
        literature_text: r.literature_text.into(),
        source: r.source.into(),
        cohort,
        n,
        literature_in_ci,
        note: note.into(),
    }
}

/// F1–F11 beside the cohort's own estimates (domain.md §4).
fn published_figures(
    d: &Disclosure,
    p: &Patients,
    incidence: &[IncidenceJson],
    associations: &[&AssociationJson; 3],
    survival: &[SurvivalJson],
    model: &ModelJson,
    sre: &[ProportionJson],
) -> Vec<PublishedJson> {
    let find = |id: &str| incidence.iter().find(|x| x.id == id);
    let group = |id: &str, name: &str| {
        find(id)
            .and_then(|x| x.groups.iter().find(|g| g.group == name))
            .cloned()
    };
    let wilson = |g: &Option<ProportionJson>| {
        g.as_ref()
            .map_or((Estimate::NONE, Count::Shown(0)), |g| (g.wilson, g.n))
    };
    let median = |id: &str, k: usize| {
        survival
            .iter()
            .find(|s| s.id == id)
            .and_then(|s| s.groups.get(k))
            .map_or((Estimate::NONE, Count::Shown(0)), |g| {
                (g.median_months, g.n)
            })
    };
    let [f3, f4, f11] = associations;
    let n_of = |a: &AssociationJson| match (a.exposed.n, a.reference.n) {
        (Count::Shown(x), Count::Shown(y)) => Count::Shown(x + y),
        _ => Count::Suppressed(d.min_cell),
    };
    let kuijpers = "Kuijpers 2018 [14]";
    let mut out = Vec::new();
    let (e, n) = wilson(&group("bone_mets_ever_by_overall", "all"));
    out.push(row(
        Row {
            id: "F1",
            figure: "bone metastases in lung cancer (incidence)",
            measure: "share of patients with bone metastases at any time",
            literature: Some(0.36),
            literature_text: "about 36% (30-40%)",
            source: "Coleman 2006 [5]",
        },
        e,
        n,
        "cumulative over follow-up; Wilson 95% CI",
    ));
    out.push(row(
        Row {
            id: "F2",
            figure: "bone metastases at autopsy",
            measure: "share at autopsy",
            literature: Some(0.52),
            literature_text: "52%",
            source: "Nottebaert 1989 [6]",
        },
        Estimate::NONE,
        None,
        "not estimable: a registry records clinically diagnosed metastases, not autopsy findings",
    ));
    let iv = "bone_mets_at_diagnosis_stage_iv_non_squamous";
    let (e, n) = (f3.exposed.wilson, f3.exposed.n);
    out.push(row(Row { id: "F3", figure: "stage IV non-squamous NSCLC at diagnosis, bone metastases, EGFR-mutant vs triple-negative", measure: "EGFR-mutant: share with bone metastases", literature: Some(0.538), literature_text: "53.8%", source: kuijpers }, e, n, "Wilson 95% CI"));
    let (e, n) = (f3.reference.wilson, f3.reference.n);
    out.push(row(
        Row {
            id: "F3",
            figure: "",
            measure: "triple-negative: share with bone metastases",
            literature: Some(0.315),
            literature_text: "31.5%",
            source: kuijpers,
        },
        e,
        n,
        "Wilson 95% CI",
    ));
    out.push(row(
        Row {
            id: "F3",
            figure: "",
            measure: "odds ratio EGFR-mutant vs triple-negative",
            literature: Some(2.55),
            literature_text: "2.55 (1.80-3.62)",
            source: kuijpers,
        },
        f3.odds_ratio,
        n_of(f3),
        "crude odds ratio, Woolf 95% CI",
    ));
    let (e, n) = wilson(&group(iv, "all"));
    out.push(row(
        Row {
            id: "F3",
            figure: "",
            measure: "all stage IV non-squamous: share with bone metastases",
            literature: Some(0.34),
            literature_text: "34%",
            source: kuijpers,
        },
        e,
        n,
        "Wilson 95% CI",
    ));
    let (e, n) = (f4.exposed.wilson, f4.exposed.n);
    out.push(row(
        Row {
            id: "F4",
            figure: "same registry, KRAS G12A vs triple-negative",
            measure: "KRAS G12A: share with bone metastases",
            literature: Some(0.429),
            literature_text: "42.9%",
            source: kuijpers,
        },
        e,
        n,
        "Wilson 95% CI",
    ));
    out.push(row(
        Row {
            id: "F4",
            figure: "",
            measure: "odds ratio KRAS G12A vs triple-negative",
            literature: Some(2.26),
            literature_text: "2.26 (1.33-3.81)",
            source: kuijpers,
        },
        f4.odds_ratio,
        n_of(f4),
        "crude odds ratio (the published one is adjusted), Woolf 95% CI",
    ));
    let (e, n) = median("F5", 0);
    out.push(row(
        Row {
            id: "F5",
            figure: "EGFR-mutant, median OS with and without bone metastases",
            measure: "median OS with bone metastases (months)",
            literature: Some(18.5),
            literature_text: "18.5 months",
            source: kuijpers,
        },
        e,
        n,
        "Kaplan-Meier, log-log 95% CI",
    ));
    let (e, n) = median("F5", 1);
    out.push(row(
        Row {
            id: "F5",
            figure: "",
            measure: "median OS without bone metastases (months)",
            literature: Some(17.8),
            literature_text: "17.8 months",
            source: kuijpers,
        },
        e,
        n,
        "Kaplan-Meier, log-log 95% CI",
    ));
    let (e, n) = median("F6", 1);
    out.push(row(
        Row {
            id: "F6",
            figure: "KRAS-mutant, median OS without vs with bone metastases",
            measure: "median OS without bone metastases (months)",
            literature: Some(9.8),
            literature_text: "9.8 months",
            source: kuijpers,
        },
        e,
        n,
        "Kaplan-Meier, log-log 95% CI",
    ));
    let (e, n) = median("F6", 0);
    out.push(row(
        Row {
            id: "F6",
            figure: "",
            measure: "median OS with bone metastases (months)",
            literature: Some(6.8),
            literature_text: "6.8 months",
            source: kuijpers,
        },
        e,
        n,
        "Kaplan-Meier, log-log 95% CI",
    ));
    let lohinai = "Lohinai 2017 [15]";
    let (e, n) = median("F7", 0);
    out.push(row(
        Row {
            id: "F7",
            figure: "bone-metastatic adenocarcinoma, median OS KRAS wild-type vs mutant",
            measure: "median OS, KRAS wild type (months)",
            literature: Some(9.7),
            literature_text: "9.7 months",
            source: lohinai,
        },
        e,
        n,
        "Kaplan-Meier, log-log 95% CI",
    ));
    let (e, n) = median("F7", 1);
    out.push(row(
        Row {
            id: "F7",
            figure: "",
            measure: "median OS, KRAS mutant (months)",
            literature: Some(3.7),
            literature_text: "3.7 months",
            source: lohinai,
        },
        e,
        n,
        "Kaplan-Meier, log-log 95% CI",
    ));
    let f7 = survival.iter().find(|s| s.id == "F7");
    let hr = f7
        .and_then(|s| s.hazard_ratio.as_ref())
        .map_or(Estimate::NONE, |t| t.ratio);
    let f7_n = f7.map_or(Count::Shown(0), |s| match (s.groups[0].n, s.groups[1].n) {
        (Count::Shown(x), Count::Shown(y)) => Count::Shown(x + y),
        _ => Count::Suppressed(d.min_cell),
    });
    out.push(row(
        Row {
            id: "F7",
            figure: "",
            measure: "hazard ratio KRAS wild type vs mutant",
            literature: Some(0.49),
            literature_text: "HR 0.49 (0.31-0.79), p = 0.003",
            source: lohinai,
        },
        hr,
        f7_n,
        "Cox, Efron ties, Wald 95% CI",
    ));
    let coleman = "Coleman [22]";
    let any = &sre[0];
    out.push(row(
        Row {
            id: "F8",
            figure: "patients with bone lesions and >= 1 SRE without bone-targeted treatment",
            measure: "share with at least one SRE",
            literature: Some(0.50),
            literature_text: "about 50%",
            source: coleman,
        },
        any.wilson,
        any.n,
        "Wilson 95% CI",
    ));
    let rosen = "Rosen 2004 [23]";
    for (k, (measure, value, text)) in [
        ("any SRE", 0.48, "48%"),
        ("pathologic fracture", 0.22, "22%"),
        ("radiotherapy to bone", 0.34, "34%"),
        ("surgery to bone", 0.05, "5%"),
        ("spinal cord compression", 0.04, "4%"),
    ]
    .into_iter()
    .enumerate()
    {
        let g = &sre[k];
        out.push(row(
            Row {
                id: "F9",
                figure: if k == 0 {
                    "NSCLC with bone metastases, share of patients with each SRE type"
                } else {
                    ""
                },
                measure,
                literature: Some(value),
                literature_text: text,
                source: rosen,
            },
            g.wilson,
            g.n,
            "Wilson 95% CI; a patient can have several types",
        ));
    }
    let zhang = "Zhang 2019 [7]";
    let pt = &p.cohort.patients;
    let all: Vec<usize> = (0..p.n()).collect();
    let bone_dx = |i: usize| p.bone_at_diagnosis(i);
    let (k, m) = count(&all, &bone_dx);
    let overall = proportion(d, "all", k, m);
    out.push(row(
        Row {
            id: "F10",
            figure: "risk factors for bone metastases (SEER 2010-2014)",
            measure: "share with bone metastases at diagnosis",
            literature: Some(0.209),
            literature_text: "20.9%",
            source: zhang,
        },
        overall.wilson,
        overall.n,
        "all stages; Wilson 95% CI",
    ));
    for (histology, value, text) in [
        (Histology::Adenocarcinoma, 0.244, "24.4%"),
        (Histology::Squamous, 0.125, "12.5%"),
        (Histology::SmallCell, 0.247, "24.7%"),
        (Histology::LargeCell, 0.195, "19.5%"),
        (Histology::NsclcNos, 0.194, "19.4%"),
    ] {
        let rows: Vec<usize> = all
            .iter()
            .copied()
            .filter(|&i| pt.histology[i] == histology)
            .collect();
        let (k, m) = count(&rows, &bone_dx);
        let g = proportion(d, histology.as_str(), k, m);
        out.push(row(
            Row {
                id: "F10",
                figure: "",
                measure: &format!(
                    "{}: share with bone metastases at diagnosis",
                    histology.as_str()
                ),
                literature: Some(value),
                literature_text: text,
                source: zhang,
            },
            g.wilson,
            g.n,
            "Wilson 95% CI",
        ));
    }
    for (term, measure) in [
        ("sex=m", "male sex: adjusted odds ratio"),
        ("tumour size > 20 mm", "tumour > 20 mm: adjusted odds ratio"),
        ("N1-N3", "nodal involvement: adjusted odds ratio"),
        (
            "non-bone metastatic site at diagnosis",
            "other metastatic sites: adjusted odds ratio",
        ),
    ] {
        let t = model.terms.iter().find(|t| t.term == term);
        let e = t.map_or(Estimate::NONE, |t| t.ratio);
        let note = match (e.lower, e.upper) {
            (Some(lo), _) if lo > 1.0 => {
                "raises the odds, as published (logistic regression, Wald 95% CI)"
            }
            (_, Some(hi)) if hi < 1.0 => "lowers the odds, against the published direction",
            (Some(_), Some(_)) => "no clear direction (the 95% CI spans 1)",
            _ => "not estimable",
        };
        out.push(row(
            Row {
                id: "F10",
                figure: "",
                measure,
                literature: None,
                literature_text: "raises the risk",
                source: zhang,
            },
            e,
            model.n,
            note,
        ));
    }
    let brown = "Brown 2005 [20]; Coleman 2005";
    out.push(row(
        Row {
            id: "F11",
            figure: "urinary NTX >= 100 vs < 100 nmol/mmol creatinine",
            measure: "relative risk of at least one SRE",
            literature: Some(1.79),
            literature_text: "RR 1.79 (1.15-2.79)",
            source: brown,
        },
        f11.risk_ratio,
        n_of(f11),
        "patients with bone metastases and no bone-targeted agent; log-scale 95% CI",
    ));
    out
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

    fn intervals(days: &[i64], last_day: i64) -> Vec<(f64, f64, bool, bool)> {
        recurrent_intervals(days.iter().copied(), last_day)
            .into_iter()
            .map(|i| (i.from, i.to, i.sre, i.after_first))
            .collect()
    }

    #[test]
    fn recurrent_intervals_split_follow_up_at_each_sre_day() {
        // No SRE: one censored interval over the whole follow-up.
        assert_eq!(intervals(&[], 99), [(0.0, 100.0, false, false)]);
        // Two SREs, then censoring.
        assert_eq!(
            intervals(&[10, 30], 99),
            [
                (0.0, 11.0, true, false),
                (11.0, 31.0, true, true),
                (31.0, 100.0, false, true)
            ]
        );
        // An SRE before the diagnosis counts on day 0; two on one day count once; an SRE on
        // the last day leaves no censored interval.
        assert_eq!(
            intervals(&[-5, 0, 7, 7, 20], 20),
            [
                (0.0, 1.0, true, false),
                (1.0, 8.0, true, true),
                (8.0, 21.0, true, true)
            ]
        );
        // After the end of follow-up: on its last day.
        assert_eq!(intervals(&[50], 20), [(0.0, 21.0, true, false)]);
    }
}
