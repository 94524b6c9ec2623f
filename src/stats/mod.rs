//! Estimators and tests, as pure numeric code over slices (no polars types), each matching
//! R's `survival` to 1e-6 relative on reference data (tests/stats.rs names the R call behind
//! every expected value). So far: Kaplan–Meier ([`km`]), the G-rho log-rank family
//! ([`logrank`]), restricted mean survival ([`rmst`]), proportions ([`proportion`]) and 2×2
//! tables ([`two_by_two`]), logistic regression ([`logistic`]), Cox regression ([`cox`]) and
//! cumulative incidence with competing risks ([`cuminc`]) and Fine–Gray regression
//! ([`fine_gray`]).

/// Row indices sorted by stratum, then by time (ascending or descending): the order every
/// risk-set sweep walks.
pub(crate) fn order_by_stratum_and_time(
    time: &[f64],
    strata: Option<&[usize]>,
    descending: bool,
) -> Vec<usize> {
    let stratum = |i: usize| strata.map_or(0, |s| s[i]);
    let mut order: Vec<usize> = (0..time.len()).collect();
    order.sort_by(|&a, &b| {
        let by_time = if descending {
            time[b].total_cmp(&time[a])
        } else {
            time[a].total_cmp(&time[b])
        };
        stratum(a).cmp(&stratum(b)).then(by_time)
    });
    order
}

/// The root of `f`, increasing on [lo, hi] with a sign change, by bisection to the last bit.
pub(crate) fn bisect_increasing(mut lo: f64, mut hi: f64, f: impl Fn(f64) -> f64) -> f64 {
    for _ in 0..2000 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if f(mid) < 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

pub mod cox;
pub mod cuminc;
pub mod fine_gray;
pub mod km;
pub mod logistic;
pub mod logrank;
pub mod proportion;
pub mod rmst;
pub mod two_by_two;

/// Why an estimator cannot run on its input.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum StatsError {
    /// Input slices differ in length.
    #[error("input columns differ in length")]
    LengthMismatch,
    /// No observation.
    #[error("no observation")]
    Empty,
    /// A time is NaN or infinite.
    #[error("a time is not a finite number")]
    NotFinite,
    /// With delayed entry, an entry time is not before its exit time.
    #[error("an entry time is not before its exit time")]
    EntryNotBeforeExit,
    /// A confidence level outside (0, 1).
    #[error("confidence level {0} is not in (0, 1)")]
    ConfLevel(f64),
    /// A restriction time that is not positive.
    #[error("restriction time {0} is not > 0")]
    Horizon(f64),
    /// A table cell is negative or every margin is empty.
    #[error("the table is degenerate: {0}")]
    DegenerateTable(&'static str),
    /// The design matrix is singular: these terms are combinations of earlier ones.
    #[error("singular design: {} add no information beyond the earlier terms (collinear or constant)", .0.join(", "))]
    SingularDesign(Vec<String>),
    /// The outcome is perfectly separated by these covariates: their coefficients diverge.
    #[error("separation: fitted probabilities of 0 or 1; the coefficients of {} diverge (the outcome is perfectly predicted)", .0.join(", "))]
    Separation(Vec<String>),
    /// Fewer than two groups have an expected count above zero.
    #[error("a test needs at least two groups with expected events")]
    TooFewGroups,
    /// No event of the cause being modelled.
    #[error("no event of the cause being modelled")]
    NoEvents,
}
