//! The result model of `bonemet run` (`summary.json`): every number the report shows, from
//! which the Markdown and HTML reports are rendered. Documented in docs/outputs.md.
//!
//! The analyses fill it with every count as it is; [`super::disclosure::disclose`] then applies
//! the disclosure rules to the whole of it in one pass, before anything is written: a count
//! between 1 and `min_cell − 1` is replaced by its marker (`"<5"` for the default threshold), a
//! count that would give a hidden one away by subtraction by `"suppressed"`, and every figure
//! derived from a hidden count (a proportion, its interval, a median, a curve) by `null` with
//! the reason.

use serde::Serialize;

/// A count as reported: the number, or the suppression marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Count {
    /// Shown.
    Shown(u64),
    /// Below the disclosure threshold: serialised as `"<N"`.
    #[serde(serialize_with = "suppressed_marker")]
    Suppressed(u64),
    /// At or above the threshold (or zero) but hidden by complementary suppression, because
    /// it and the figures shown beside it would give a suppressed count away: serialised as
    /// `"suppressed"`.
    #[serde(serialize_with = "withheld_marker")]
    Withheld,
    /// Not shown at all (`null`): a count of a result where hiding counts one by one could not
    /// keep a small count from being worked out.
    #[serde(serialize_with = "not_shown_marker")]
    NotShown,
}

fn not_shown_marker<S: serde::Serializer>(s: S) -> Result<S::Ok, S::Error> {
    s.serialize_none()
}

fn withheld_marker<S: serde::Serializer>(s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str("suppressed")
}

fn suppressed_marker<S: serde::Serializer>(threshold: &u64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format!("<{threshold}"))
}

impl Count {
    /// Whether the count is hidden (below the threshold or withheld).
    pub fn is_suppressed(self) -> bool {
        !matches!(self, Count::Shown(_))
    }
    /// The number, when shown.
    pub fn shown(self) -> Option<u64> {
        match self {
            Count::Shown(n) => Some(n),
            _ => None,
        }
    }
}

impl std::fmt::Display for Count {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Count::Shown(n) => write!(f, "{n}"),
            Count::Suppressed(t) => write!(f, "<{t}"),
            Count::Withheld => write!(f, "suppressed"),
            Count::NotShown => write!(f, "—"),
        }
    }
}

/// An estimate with its 95% interval (`null` where undefined or suppressed).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Estimate {
    /// Point estimate.
    pub estimate: Option<f64>,
    /// Lower limit.
    pub lower: Option<f64>,
    /// Upper limit.
    pub upper: Option<f64>,
}

impl Estimate {
    /// An estimate with its limits.
    pub fn new(estimate: f64, lower: Option<f64>, upper: Option<f64>) -> Self {
        Self {
            estimate: Some(estimate),
            lower,
            upper,
        }
    }
    /// Nothing to show.
    pub const NONE: Estimate = Estimate {
        estimate: None,
        lower: None,
        upper: None,
    };
}

/// A table's row balance.
#[derive(Debug, Clone, Serialize)]
pub struct TableBalanceJson {
    /// patients, events or labs.
    pub table: String,
    /// Rows read.
    pub read: u64,
    /// Rows accepted.
    pub accepted: u64,
    /// Rows rejected.
    pub rejected: u64,
}

/// Missing values of one patients column among accepted patients.
#[derive(Debug, Clone, Serialize)]
pub struct MissingnessJson {
    /// Column.
    pub column: String,
    /// Patients with the value missing.
    pub missing: Count,
    /// Share of patients (null when suppressed).
    pub share: Option<f64>,
}

/// The first section of the report: what the cohort is.
#[derive(Debug, Clone, Serialize)]
pub struct CohortJson {
    /// Row balance per input table.
    pub tables: Vec<TableBalanceJson>,
    /// Accepted patients.
    pub patients: Count,
    /// Deaths among them.
    pub deaths: Count,
    /// Median follow-up in months (reverse Kaplan–Meier: death censors) with its 95% CI.
    pub follow_up_months: Estimate,
    /// Why the median follow-up is not estimated, when it is not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub follow_up_not_estimated: Option<String>,
    /// Person-years of follow-up from diagnosis.
    pub person_years: f64,
    /// Missing values per optional patients column.
    pub missingness: Vec<MissingnessJson>,
}

/// A proportion in one group.
#[derive(Debug, Clone, Serialize)]
pub struct ProportionJson {
    /// The group, `all` for everyone.
    pub group: String,
    /// Patients in the group.
    pub n: Count,
    /// Patients with the outcome.
    pub events: Count,
    /// events / n with the Wilson 95% interval.
    pub wilson: Estimate,
    /// The exact (Clopper–Pearson) 95% interval.
    pub exact: Estimate,
}

/// A proportion analysis: one outcome, one population, a breakdown.
#[derive(Debug, Clone, Serialize)]
pub struct IncidenceJson {
    /// Stable identifier.
    pub id: String,
    /// The analysis of the plan (A1–A12).
    pub analysis: &'static str,
    /// What is counted.
    pub outcome: String,
    /// Among whom.
    pub population: String,
    /// The breakdown (`overall` or a classifier).
    pub by: String,
    /// One row per group.
    pub groups: Vec<ProportionJson>,
}

/// An odds ratio between two groups.
#[derive(Debug, Clone, Serialize)]
pub struct AssociationJson {
    /// Stable identifier.
    pub id: String,
    /// The analysis of the plan (A1–A12).
    pub analysis: &'static str,
    /// Exposed vs reference.
    pub comparison: String,
    /// Among whom, and which outcome.
    pub population: String,
    /// The exposed group's proportion.
    pub exposed: ProportionJson,
    /// The reference group's proportion.
    pub reference: ProportionJson,
    /// Odds ratio with Woolf's interval.
    pub odds_ratio: Estimate,
    /// Conditional MLE odds ratio with the exact interval (as fisher.test).
    pub exact_odds_ratio: Estimate,
    /// Risk ratio with its log-scale interval.
    pub risk_ratio: Estimate,
    /// Fisher's exact test p.
    pub fisher_p: Option<f64>,
    /// Pearson chi-square p (no continuity correction).
    pub chisq_p: Option<f64>,
    /// Why the odds ratio is not estimated, when it is not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_estimated: Option<String>,
}

/// One term of a regression.
#[derive(Debug, Clone, Serialize)]
pub struct TermJson {
    /// `COL=LEVEL` for a factor level, the column name for a number.
    pub term: String,
    /// Odds or hazard ratio with its Wald 95% interval.
    pub ratio: Estimate,
    /// Wald p.
    pub p: f64,
}

/// A regression model.
#[derive(Debug, Clone, Serialize)]
pub struct ModelJson {
    /// Stable identifier.
    pub id: String,
    /// The analysis of the plan (A1–A12).
    pub analysis: &'static str,
    /// `crude` or `adjusted`, with the covariate set named.
    pub adjustment: String,
    /// What is modelled.
    pub model: String,
    /// Among whom.
    pub population: String,
    /// The ratio each term reports: `odds ratio` or `hazard ratio`.
    pub ratio: String,
    /// Where the intervals and p-values come from: `model-based` or `robust, clustered by
    /// patient`.
    pub variance: String,
    /// Patients (observations of a logistic model).
    pub n: Count,
    /// Rows of a counting-process model: one per interval between events.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub intervals: Option<Count>,
    /// Patients of the analysis's population left out of the model: a missing covariate, or
    /// no usable time (the analysis's exclusions say which).
    pub n_dropped_missing: Count,
    /// Events (outcome = 1, or SREs).
    pub events: Count,
    /// Terms.
    pub terms: Vec<TermJson>,
    /// Terms left out because they do not vary in this population.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub constant_terms: Vec<String>,
    /// Why there is no fit, when there is none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_fitted: Option<String>,
}

/// Kaplan–Meier summary of one group.
#[derive(Debug, Clone, Serialize)]
pub struct SurvivalGroupJson {
    /// The group.
    pub group: String,
    /// Patients.
    pub n: Count,
    /// Deaths.
    pub events: Count,
    /// Median survival in months with its 95% CI (log-log).
    pub median_months: Estimate,
    /// Survival at 6, 12 and 24 months with 95% CIs.
    pub at_months: Vec<SurvivalAtJson>,
    /// Restricted mean survival time up to 24 months, with its Wald 95% CI (as
    /// `print(survfit, rmean = 24)`'s estimate and SE).
    pub rmst_24_months: Estimate,
    /// The curve: one point per event time (empty when suppressed).
    pub curve: Vec<CurvePointJson>,
    /// Numbers at risk every 6 months, for the table under the chart's time axis.
    pub at_risk: Vec<AtRiskJson>,
}

/// A step of a curve: the estimate just after `months`, with its 95% CI.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct CurvePointJson {
    /// Months.
    pub months: f64,
    /// Survival or cumulative incidence.
    pub estimate: f64,
    /// Lower limit.
    pub lower: Option<f64>,
    /// Upper limit.
    pub upper: Option<f64>,
    /// Patients at risk just before the step (for disclosure control; not written).
    #[serde(skip)]
    pub n_risk: u64,
    /// Events of the curve's kind at the step (for disclosure control; not written).
    #[serde(skip)]
    pub n_events: u64,
}

/// Patients at risk at a time.
#[derive(Debug, Clone, Serialize)]
pub struct AtRiskJson {
    /// Months.
    pub months: f64,
    /// At risk.
    pub n_risk: Count,
}

/// Cumulative incidence of the first SRE in one group.
#[derive(Debug, Clone, Serialize)]
pub struct CifGroupJson {
    /// The group.
    pub group: String,
    /// Patients.
    pub n: Count,
    /// Events of interest.
    pub events: Count,
    /// Deaths before the event (the competing event).
    pub competing: Count,
    /// Cumulative incidence at the horizons with 95% CIs (log-log, as cmprsk's plot).
    pub at_months: Vec<SurvivalAtJson>,
    /// The curve (empty when suppressed).
    pub curve: Vec<CurvePointJson>,
    /// Numbers at risk every 6 months.
    pub at_risk: Vec<AtRiskJson>,
}

/// The cumulative incidence of an event with death as a competing risk, by a grouping.
#[derive(Debug, Clone, Serialize)]
pub struct CompetingRiskJson {
    /// Stable identifier.
    pub id: String,
    /// The analysis of the plan (A1–A12).
    pub analysis: &'static str,
    /// The event.
    pub outcome: String,
    /// Time origin, censoring and competing event.
    pub endpoint: String,
    /// Among whom.
    pub population: String,
    /// The grouping.
    pub by: String,
    /// Groups.
    pub groups: Vec<CifGroupJson>,
    /// Gray's test between the groups.
    pub gray_test: Option<TestJson>,
    /// Events dated before the origin and counted at time 0 (revealing SREs; synchronous
    /// bone disease in A3's all-advanced estimate).
    pub events_at_origin: Count,
    /// What is not estimated, and why (a group's curve, Gray's test).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_estimated: Vec<String>,
}

/// An event rate per patient-year in one group, with its exact (Poisson) 95% CI.
#[derive(Debug, Clone, Serialize)]
pub struct RateJson {
    /// The group.
    pub group: String,
    /// Patients.
    pub patients: Count,
    /// Events counted.
    pub events: Count,
    /// Person-years at risk (null when the group is suppressed).
    pub person_years: Option<f64>,
    /// Events per patient-year.
    pub rate: Estimate,
}

/// Rates of an event by a grouping.
#[derive(Debug, Clone, Serialize)]
pub struct RatesJson {
    /// Stable identifier.
    pub id: String,
    /// The analysis of the plan (A1–A12).
    pub analysis: &'static str,
    /// What is counted, over which time.
    pub measure: String,
    /// Among whom.
    pub population: String,
    /// The grouping.
    pub by: String,
    /// One row per group.
    pub groups: Vec<RateJson>,
    /// The rate ratio of the first group against the second, with its exact conditional 95%
    /// CI (as R's `poisson.test`), when there are two groups.
    pub rate_ratio: Option<Estimate>,
}

/// One bin of a histogram.
#[derive(Debug, Clone, Serialize)]
pub struct BinJson {
    /// Lower edge (inclusive).
    pub from: f64,
    /// Upper edge (exclusive).
    pub to: f64,
    /// Patients in the bin.
    pub count: Count,
}

/// The distribution of a value.
#[derive(Debug, Clone, Serialize)]
pub struct DistributionJson {
    /// What is counted.
    pub variable: String,
    /// Among whom.
    pub population: String,
    /// Patients with a value.
    pub n: Count,
    /// Quartiles (25th, 50th, 75th percentile).
    pub quartiles: Option<[f64; 3]>,
    /// Marked thresholds: (label, value).
    pub thresholds: Vec<(String, f64)>,
    /// Bins (a bin below the threshold shows `<N`).
    pub bins: Vec<BinJson>,
}

/// Survival at a time.
#[derive(Debug, Clone, Serialize)]
pub struct SurvivalAtJson {
    /// Months.
    pub months: f64,
    /// Patients still at risk.
    pub n_risk: Count,
    /// Survival with its 95% CI.
    pub survival: Estimate,
}

/// A survival comparison.
#[derive(Debug, Clone, Serialize)]
pub struct SurvivalJson {
    /// Stable identifier.
    pub id: String,
    /// The analysis of the plan (A1–A12).
    pub analysis: &'static str,
    /// Time scale and endpoint.
    pub endpoint: String,
    /// Among whom.
    pub population: String,
    /// The stratification of the log-rank test and Cox model, if any.
    pub stratified_by: Option<String>,
    /// Groups compared.
    pub groups: Vec<SurvivalGroupJson>,
    /// Log-rank test between the groups.
    pub logrank: Option<TestJson>,
    /// Cox hazard ratio of the groups (Efron ties), when two.
    pub hazard_ratio: Option<TermJson>,
    /// What is not estimated, and why (a group's curve, the test, the hazard ratio).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_estimated: Vec<String>,
}

/// A chi-square test.
#[derive(Debug, Clone, Serialize)]
pub struct TestJson {
    /// Statistic.
    pub chisq: f64,
    /// Degrees of freedom.
    pub df: usize,
    /// p-value.
    pub p: f64,
}

impl TestJson {
    /// A test's statistic, degrees of freedom and p.
    pub fn new(chisq: f64, df: usize, p: f64) -> Self {
        Self { chisq, df, p }
    }
}

/// One row of the side-by-side table: a published figure and the cohort's estimate of it in
/// the source's population (docs/analysis-plan.md).
#[derive(Debug, Clone, Serialize)]
pub struct PublishedJson {
    /// Unique key, e.g. `F8.first_sre`.
    pub key: String,
    /// F1 … F11.
    pub id: String,
    /// The analysis that estimates it (A1–A12).
    pub analysis: String,
    /// The figure, as published.
    pub figure: String,
    /// Which number of the figure this row compares.
    pub measure: String,
    /// `proportion` (a fraction), `cumulative_incidence` (a fraction), `median_months`,
    /// `ratio` (odds or hazard ratio), or `direction` (a ratio whose published value is a
    /// direction only).
    pub scale: String,
    /// The literature value (null when the figure is qualitative).
    pub literature: Option<f64>,
    /// The published 95% CI, where published.
    pub literature_lower: Option<f64>,
    /// Its upper limit.
    pub literature_upper: Option<f64>,
    /// The literature value as published.
    pub literature_text: String,
    /// The source.
    pub source: String,
    /// The cohort's estimate (null when not estimable or suppressed).
    pub estimate: Option<f64>,
    /// Its 95% CI.
    pub lower: Option<f64>,
    /// Upper limit.
    pub upper: Option<f64>,
    /// Patients in the analysed population after its exclusions.
    pub n: Option<Count>,
    /// Cohort minus literature (a ratio, cohort / literature, for ratios), with its 95% CI.
    pub difference: Estimate,
    /// Two-sided p-value of the difference.
    pub p: Option<f64>,
    /// Holm's adjusted p over every row with a p-value.
    pub p_holm: Option<f64>,
    /// `differs`, `consistent`, `imprecise`, or `not_estimated`.
    pub verdict: String,
    /// How the estimate was made, or why there is none.
    pub note: String,
}

/// One exclusion from an analysis's population.
#[derive(Debug, Clone, Serialize)]
pub struct ExclusionJson {
    /// Why.
    pub reason: String,
    /// Patients left out for it.
    pub n: Count,
}

/// An analysis of the plan, as declared, with the patients it analysed.
#[derive(Debug, Clone, Serialize)]
pub struct AnalysisJson {
    /// The declaration: id, name, population, exposure, outcome, origin, censoring, competing
    /// event, estimator.
    #[serde(flatten)]
    pub declared: super::plan::Analysis,
    /// Patients in the main population after its exclusions.
    pub n: Count,
    /// Patients left out, by reason.
    pub excluded: Vec<ExclusionJson>,
}

/// The study settings the analyses used (printed in the Methods).
#[derive(Debug, Clone, Serialize)]
pub struct PlanSettingsJson {
    /// Horizons of survival and cumulative incidences, months.
    pub horizons_months: Vec<f64>,
    /// Horizon of F8–F9, months.
    pub sre_horizon_months: f64,
    /// The bone-agent landmark, months after the bone-metastasis diagnosis.
    pub landmark_months: f64,
    /// The synchronous window, days.
    pub synchronous_window_days: u32,
    /// The SRE merge window, days.
    pub sre_merge_window_days: u32,
    /// Whether hypercalcaemia counts as an SRE.
    pub hypercalcaemia_is_sre: bool,
    /// The corrected-calcium formula.
    pub corrected_calcium_formula: String,
    /// The crisis threshold, mmol/L.
    pub crisis_threshold_mmol_l: f64,
    /// NTX at bone diagnosis: samples within this many days.
    pub ntx_window_days: i64,
    /// The verdict's precision rule: CI half-width at most this share of the published value.
    pub consistent_half_width_share: f64,
}

/// One row of Table 1: a variable's level (or summary) overall and in each column.
#[derive(Debug, Clone, Serialize)]
pub struct TableOneRowJson {
    /// The variable.
    pub variable: String,
    /// The level (categorical), `median (IQR)` (continuous) or `missing`.
    pub level: String,
    /// One cell per column: `n (%)` or `median (Q1–Q3)`, counts suppressed as elsewhere.
    pub cells: Vec<String>,
    /// The standardised mean difference between the two groups (on the variable's first row).
    pub smd: Option<f64>,
    /// What the cells are made of, for disclosure control to hide and render them (not
    /// written).
    #[serde(skip)]
    pub content: TableOneCells,
}

/// The numbers behind a row of Table 1, one per column.
#[derive(Debug, Clone, Default)]
pub enum TableOneCells {
    /// A level's count, shown with its share of the patients with a value (`share_of`).
    Level {
        /// Patients at the level.
        counts: Vec<Count>,
        /// Patients with a value of the variable.
        share_of: Vec<u64>,
    },
    /// Patients with the value missing.
    Missing(Vec<Count>),
    /// A median (IQR), over the patients with a value.
    Median {
        /// Patients with a value.
        with_value: Vec<u64>,
        /// The cell as printed.
        text: Vec<String>,
    },
    /// Already rendered.
    #[default]
    Rendered,
}

/// Table 1 (A1): the cohort overall and by bone metastases at diagnosis.
#[derive(Debug, Clone, Serialize)]
pub struct TableOneJson {
    /// Column headings: overall, then the groups.
    pub columns: Vec<String>,
    /// Patients per column.
    pub n: Vec<Count>,
    /// Rows.
    pub rows: Vec<TableOneRowJson>,
}

/// What disclosure control hid in a run (docs/analysis-plan.md, "Disclosure control").
#[derive(Debug, Clone, Default, Serialize)]
pub struct DisclosureJson {
    /// The threshold (0: off).
    pub min_cell: u64,
    /// Counts from 1 to `min_cell − 1`, shown as `<min_cell`.
    pub below_threshold: u64,
    /// Counts hidden by complementary suppression, shown as `suppressed`: without it, a hidden
    /// count would be a shown total minus shown counts.
    pub complementary: u64,
    /// Counts of a group or breakdown of fewer than `min_cell` patients, shown as
    /// `suppressed`: there even `<min_cell` or 0 would tell how the few patients split.
    pub few_patients: u64,
    /// Counts not shown at all (`null`), in results where hiding counts one by one could not
    /// keep a small count from being worked out.
    pub not_shown: u64,
    /// Groups, tests, models and rates whose estimates are not shown because a count they are
    /// made from is hidden.
    pub estimates_hidden: u64,
    /// Steps of curves merged into the next because they held fewer than `min_cell` events.
    pub curve_steps_merged: u64,
    /// Steps of curves cut because fewer than `min_cell` patients were at risk.
    pub curve_steps_cut: u64,
    /// Rows of at-risk tables cut because fewer than `min_cell` patients were at risk.
    pub at_risk_rows_cut: u64,
    /// Histogram bins hidden.
    pub bins_hidden: u64,
}

/// Everything a run reports (`summary.json`).
#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    /// bonemet's version.
    pub bonemet_version: &'static str,
    /// The disclosure threshold in force (0: off).
    pub min_cell: u64,
    /// Counts hidden: below the threshold or by complementary suppression.
    pub suppressed_counts: u64,
    /// What disclosure control hid, and why.
    pub disclosure: DisclosureJson,
    /// The analysis plan: A1–A12 as declared, with their populations.
    pub analyses: Vec<AnalysisJson>,
    /// The settings the analyses used.
    pub settings: PlanSettingsJson,
    /// The cohort.
    pub cohort: CohortJson,
    /// Table 1 (A1).
    pub table_one: TableOneJson,
    /// Shares at a fixed moment (bone metastases at diagnosis, a crisis at diagnosis).
    pub incidence: Vec<IncidenceJson>,
    /// Odds ratios between groups.
    pub associations: Vec<AssociationJson>,
    /// Regression models (adjusted odds ratios).
    pub models: Vec<ModelJson>,
    /// Survival comparisons.
    pub survival: Vec<SurvivalJson>,
    /// Cumulative incidences with death competing (bone metastases, SREs, crises).
    pub cumulative_incidence: Vec<CompetingRiskJson>,
    /// Event rates per patient-year (SREs, crises).
    pub rates: Vec<RatesJson>,
    /// The distribution of the highest corrected calcium.
    pub corrected_calcium: DistributionJson,
    /// Published figures beside the cohort's estimates.
    pub published: Vec<PublishedJson>,
}
