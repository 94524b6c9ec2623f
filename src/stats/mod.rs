//! Estimators and tests, as pure numeric code over slices (no polars types), each matching
//! R's `survival` to 1e-6 relative on reference data (tests/stats.rs names the R call behind
//! every expected value). So far: Kaplan–Meier ([`km`]), the G-rho log-rank family
//! ([`logrank`]) and restricted mean survival ([`rmst`]).

pub mod km;
pub mod logrank;
pub mod rmst;

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
    /// Fewer than two groups have an expected count above zero.
    #[error("a test needs at least two groups with expected events")]
    TooFewGroups,
}
