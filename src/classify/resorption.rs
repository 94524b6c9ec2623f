//! C9 — bone-resorption markers. Urinary NTX (nmol BCE/mmol creatinine): low < 50, moderate
//! 50 to < 100, high ≥ 100 (Coleman 2005). Serum CTX has a circadian rhythm and falls after
//! food, so a sample is valid only when drawn fasting and before 09:00 (the review's rule;
//! 09:00 sharp is not before 09:00).

use chrono::{NaiveDateTime, Timelike};

use super::not_assessable::{Assessed, MissingInput, NotAssessable};
use crate::study::StudySettings;

/// NTX class (output spellings are a contract).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NtxClass {
    /// Below 50.
    Low,
    /// 50 to below 100.
    Moderate,
    /// 100 or more.
    High,
}

impl NtxClass {
    /// Output spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Moderate => "moderate",
            Self::High => "high",
        }
    }
}

/// C9 NTX class.
pub fn ntx_class(ntx: f64, settings: &StudySettings) -> NtxClass {
    if ntx < settings.ntx_moderate_from {
        NtxClass::Low
    } else if ntx < settings.ntx_high_from {
        NtxClass::Moderate
    } else {
        NtxClass::High
    }
}

/// Whether a sampling time is strictly before the cut-off hour.
pub fn sampled_before_cutoff(sampled_at: NaiveDateTime, settings: &StudySettings) -> bool {
    // 08:59:59.999 is before 09:00; 09:00:00 and anything in that second is not.
    sampled_at.time().num_seconds_from_midnight() < settings.ctx_sampling_before_hour * 3600
}

/// C9: whether a CTX sample is valid (fasting and before the cut-off). A non-fasting or late
/// sample is invalid; an unknown fasting state or sampling time is not assessable.
pub fn ctx_sample_valid(
    sampled_at: Option<NaiveDateTime>,
    fasting: Option<bool>,
    settings: &StudySettings,
) -> Assessed<bool> {
    // Either known violation settles it, even with the other unknown.
    if fasting == Some(false) || sampled_at.is_some_and(|t| !sampled_before_cutoff(t, settings)) {
        return Ok(false);
    }
    let mut why = NotAssessable::none();
    why.add_if(sampled_at.is_none(), MissingInput::CtxSampleTimeMissing);
    why.add_if(fasting.is_none(), MissingInput::CtxFastingUnknown);
    why.into_result().map(|()| true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> NaiveDateTime {
        crate::schema::values::parse_datetime(s).unwrap()
    }

    #[test]
    fn ntx_boundaries() {
        let s = StudySettings::default();
        assert_eq!(ntx_class(49.999999, &s), NtxClass::Low);
        assert_eq!(ntx_class(50.0, &s), NtxClass::Moderate);
        assert_eq!(ntx_class(99.999999, &s), NtxClass::Moderate);
        assert_eq!(ntx_class(100.0, &s), NtxClass::High);
    }

    #[test]
    fn ctx_at_nine_sharp_is_not_before_nine() {
        let s = StudySettings::default();
        assert_eq!(
            ctx_sample_valid(Some(t("2021-01-01T08:59:59.999")), Some(true), &s),
            Ok(true)
        );
        assert_eq!(
            ctx_sample_valid(Some(t("2021-01-01T08:59")), Some(true), &s),
            Ok(true)
        );
        assert_eq!(
            ctx_sample_valid(Some(t("2021-01-01T09:00")), Some(true), &s),
            Ok(false)
        );
        assert_eq!(
            ctx_sample_valid(Some(t("2021-01-01T09:01")), Some(true), &s),
            Ok(false)
        );
        assert_eq!(
            ctx_sample_valid(Some(t("2021-01-01T07:00")), Some(false), &s),
            Ok(false)
        );
    }

    #[test]
    fn unknown_fasting_or_time_is_not_assessable_unless_a_rule_is_already_broken() {
        let s = StudySettings::default();
        assert_eq!(
            ctx_sample_valid(Some(t("2021-01-01T07:00")), None, &s)
                .unwrap_err()
                .codes(),
            "ctx_fasting_unknown"
        );
        assert_eq!(
            ctx_sample_valid(None, Some(true), &s).unwrap_err().codes(),
            "ctx_sample_time_missing"
        );
        assert_eq!(
            ctx_sample_valid(Some(t("2021-01-01T10:00")), None, &s),
            Ok(false)
        );
        assert_eq!(ctx_sample_valid(None, Some(false), &s), Ok(false));
    }
}
