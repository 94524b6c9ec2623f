//! C2 — calcaemia class on corrected calcium (mmol/L).
//!
//! Severity scheme (default): below the normal range `low`; within it `normal`; above it
//! `mild` ≤ 3.0, `moderate` > 3.0 to ≤ 3.5, `severe` > 3.5. CTCAE v5 (laboratory part):
//! grade 1 > ULN to ≤ 2.9, grade 2 > 2.9 to ≤ 3.1, grade 3 > 3.1 to ≤ 3.4, grade 4 > 3.4
//! (lower bounds exclusive, upper inclusive). A corrected calcium above the crisis threshold
//! (3.5) is an acute hypercalcaemic crisis — a laboratory flag in registry data.

use crate::study::StudySettings;

/// Calcaemia class (severity scheme).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CalcaemiaClass {
    /// Below the normal range.
    Low,
    /// Within the normal range.
    Normal,
    /// Above the upper limit of normal, ≤ 3.0 mmol/L.
    Mild,
    /// > 3.0 to ≤ 3.5 mmol/L.
    Moderate,
    /// > 3.5 mmol/L.
    Severe,
}

impl CalcaemiaClass {
    /// Output spelling (a contract).
    pub fn as_str(self) -> &'static str {
        match self {
            CalcaemiaClass::Low => "low",
            CalcaemiaClass::Normal => "normal",
            CalcaemiaClass::Mild => "mild",
            CalcaemiaClass::Moderate => "moderate",
            CalcaemiaClass::Severe => "severe",
        }
    }
    /// Severity rank for "worst over follow-up": hypercalcaemia grades outrank normal, and
    /// normal outranks low (low calcium is not the concern of this study).
    pub fn severity(self) -> u8 {
        match self {
            CalcaemiaClass::Low => 0,
            CalcaemiaClass::Normal => 1,
            CalcaemiaClass::Mild => 2,
            CalcaemiaClass::Moderate => 3,
            CalcaemiaClass::Severe => 4,
        }
    }
}

/// The severity class of a corrected calcium.
pub fn calcaemia_class(corrected_mmol_l: f64, settings: &StudySettings) -> CalcaemiaClass {
    if corrected_mmol_l < settings.calcium_normal_low_mmol_l {
        CalcaemiaClass::Low
    } else if corrected_mmol_l <= settings.calcium_normal_high_mmol_l {
        CalcaemiaClass::Normal
    } else if corrected_mmol_l <= 3.0 {
        CalcaemiaClass::Mild
    } else if corrected_mmol_l <= 3.5 {
        CalcaemiaClass::Moderate
    } else {
        CalcaemiaClass::Severe
    }
}

/// CTCAE v5 hypercalcaemia grade (0 when not above the upper limit of normal).
pub fn ctcae_grade(corrected_mmol_l: f64, settings: &StudySettings) -> u8 {
    if corrected_mmol_l <= settings.calcium_normal_high_mmol_l {
        0
    } else if corrected_mmol_l <= 2.9 {
        1
    } else if corrected_mmol_l <= 3.1 {
        2
    } else if corrected_mmol_l <= 3.4 {
        3
    } else {
        4
    }
}

/// Whether a corrected calcium is a hypercalcaemic crisis (strictly above the threshold).
pub fn is_crisis(corrected_mmol_l: f64, settings: &StudySettings) -> bool {
    corrected_mmol_l > settings.crisis_threshold_mmol_l
}

#[cfg(test)]
mod tests {
    use super::*;
    use CalcaemiaClass::*;

    const EPS: f64 = 1e-9;

    #[test]
    fn severity_boundaries_at_just_below_and_just_above() {
        let s = StudySettings::default();
        let cases = [
            (2.20 - EPS, Low),
            (2.20, Normal),
            (2.60, Normal),
            (2.60 + EPS, Mild),
            (3.0, Mild),
            (3.0 + EPS, Moderate),
            (3.5, Moderate),
            (3.5 + EPS, Severe),
        ];
        for (value, class) in cases {
            assert_eq!(calcaemia_class(value, &s), class, "{value}");
        }
    }

    #[test]
    fn crisis_is_strictly_above_three_and_a_half() {
        let s = StudySettings::default();
        assert!(!is_crisis(3.5, &s));
        assert!(is_crisis(3.5 + EPS, &s));
        assert!(!is_crisis(3.5 - EPS, &s));
    }

    #[test]
    fn ctcae_grades_have_exclusive_lower_and_inclusive_upper_bounds() {
        let s = StudySettings::default();
        let cases = [
            (2.60, 0),
            (2.60 + EPS, 1),
            (2.9, 1),
            (2.9 + EPS, 2),
            (3.1, 2),
            (3.1 + EPS, 3),
            (3.4, 3),
            (3.4 + EPS, 4),
        ];
        for (value, grade) in cases {
            assert_eq!(ctcae_grade(value, &s), grade, "{value}");
        }
    }

    #[test]
    fn the_normal_range_is_a_setting() {
        let s = StudySettings {
            calcium_normal_low_mmol_l: 2.10,
            calcium_normal_high_mmol_l: 2.55,
            ..StudySettings::default()
        };
        assert_eq!(calcaemia_class(2.15, &s), Normal);
        assert_eq!(calcaemia_class(2.58, &s), Mild);
        assert_eq!(ctcae_grade(2.58, &s), 1);
    }
}
