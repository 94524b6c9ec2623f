//! C1 — corrected calcium (mmol/L) from total calcium and albumin.
//!
//! The review's formula (default): `Ca + (40 − albumin g/L) / 40`, i.e. +0.025 mmol/L per g/L
//! of albumin below 40. Payne's (most US/UK calculators): `Ca + 0.02 × (40 − albumin g/L)`.
//! Units are converted first (calcium mg/dL ÷ 4.008 = mmol/L; albumin g/dL × 10 = g/L), then
//! the formula applies. Some laboratories correct only below 40 g/L: a setting.

use super::not_assessable::{Assessed, MissingInput, NotAssessable};
use crate::schema::vocab::{AlbuminUnit, CalciumUnit, LabUnit};
use crate::study::{CalciumFormula, StudySettings};

/// mg/dL of calcium per mmol/L (molar mass 40.08 g/mol).
pub const CALCIUM_MG_DL_PER_MMOL_L: f64 = 4.008;

/// Total calcium in mmol/L.
pub fn calcium_mmol_l(value: f64, unit: CalciumUnit) -> f64 {
    match unit {
        CalciumUnit::MmolL => value,
        CalciumUnit::MgDl => value / CALCIUM_MG_DL_PER_MMOL_L,
    }
}

/// Albumin in g/L.
pub fn albumin_g_l(value: f64, unit: AlbuminUnit) -> f64 {
    match unit {
        AlbuminUnit::GL => value,
        AlbuminUnit::GDl => value * 10.0,
    }
}

/// A lab calcium value in mmol/L (`None` for a unit that is not a calcium unit).
pub fn lab_calcium_mmol_l(value: f64, unit: LabUnit) -> Option<f64> {
    match unit {
        LabUnit::MmolL => Some(calcium_mmol_l(value, CalciumUnit::MmolL)),
        LabUnit::MgDl => Some(calcium_mmol_l(value, CalciumUnit::MgDl)),
        _ => None,
    }
}

/// A lab albumin value in g/L (`None` for a unit that is not an albumin unit).
pub fn lab_albumin_g_l(value: f64, unit: LabUnit) -> Option<f64> {
    match unit {
        LabUnit::GL => Some(albumin_g_l(value, AlbuminUnit::GL)),
        LabUnit::GDl => Some(albumin_g_l(value, AlbuminUnit::GDl)),
        _ => None,
    }
}

/// Corrected calcium is rounded to this many decimals of mmol/L: far below laboratory precision, yet it
/// removes binary floating-point residue, so that a value exactly on a class boundary in
/// decimal classifies as written (3.47 + (40 − 38.8)/40 is 3.50, not 3.5000000000000004 and
/// so not a crisis; Payne 1.88 + 0.02 × 16 is 2.20, not 2.1999999999999997 and so not low).
pub const CORRECTED_CALCIUM_DECIMALS: i32 = 10;

fn at_resolution(value: f64) -> f64 {
    // Dividing by an exact power of ten gives the double nearest the decimal value.
    let scale = 10f64.powi(CORRECTED_CALCIUM_DECIMALS);
    (value * scale).round() / scale
}

/// Corrected calcium, mmol/L, from calcium in mmol/L and albumin in g/L.
pub fn corrected_calcium(calcium_mmol_l: f64, albumin_g_l: f64, settings: &StudySettings) -> f64 {
    if settings.correct_only_below_40 && albumin_g_l >= 40.0 {
        return at_resolution(calcium_mmol_l);
    }
    let deficit = 40.0 - albumin_g_l;
    at_resolution(match settings.corrected_calcium_formula {
        CalciumFormula::Review => calcium_mmol_l + deficit / 40.0,
        CalciumFormula::Payne => calcium_mmol_l + 0.02 * deficit,
    })
}

/// C1 on a patient's baseline values, in their units.
pub fn baseline_corrected_calcium(
    calcium: Option<f64>,
    calcium_unit: CalciumUnit,
    albumin: Option<f64>,
    albumin_unit: AlbuminUnit,
    settings: &StudySettings,
) -> Assessed<f64> {
    let mut why = NotAssessable::none();
    why.add_if(calcium.is_none(), MissingInput::CalciumMissing);
    why.add_if(albumin.is_none(), MissingInput::AlbuminMissing);
    match (calcium, albumin) {
        (Some(ca), Some(alb)) => Ok(corrected_calcium(
            calcium_mmol_l(ca, calcium_unit),
            albumin_g_l(alb, albumin_unit),
            settings,
        )),
        _ => Err(why),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn the_worked_example_of_the_clinical_definitions() {
        // Ca 2.60 mmol/L, albumin 25 g/L: 2.975 with the review's formula, 2.90 with Payne's.
        let review = StudySettings::default();
        let payne = StudySettings {
            corrected_calcium_formula: CalciumFormula::Payne,
            ..StudySettings::default()
        };
        assert!(close(corrected_calcium(2.60, 25.0, &review), 2.975));
        assert!(close(corrected_calcium(2.60, 25.0, &payne), 2.90));
    }

    #[test]
    fn units_are_converted_before_the_formula() {
        let s = StudySettings::default();
        // 10.42 mg/dL = 2.6 mmol/L (× 4.008); 2.5 g/dL = 25 g/L.
        let v = baseline_corrected_calcium(
            Some(2.60 * 4.008),
            CalciumUnit::MgDl,
            Some(2.5),
            AlbuminUnit::GDl,
            &s,
        )
        .unwrap();
        assert!(close(v, 2.975), "{v}");
        // Payne from mg/dL and g/dL: converted first, then the mmol/L form (the mg/dL form's
        // 0.8 per g/dL is a rounding of 0.02 × 10 × 4.008 = 0.8016, so it is not used).
        let payne = StudySettings {
            corrected_calcium_formula: CalciumFormula::Payne,
            ..s
        };
        let v = baseline_corrected_calcium(
            Some(10.0),
            CalciumUnit::MgDl,
            Some(2.5),
            AlbuminUnit::GDl,
            &payne,
        )
        .unwrap();
        assert!((v - (10.0 / 4.008 + 0.02 * 15.0)).abs() < 1e-10, "{v}");
    }

    #[test]
    fn values_on_a_boundary_in_decimal_classify_as_written() {
        use crate::classify::calcaemia::{calcaemia_class, is_crisis, CalcaemiaClass};
        let review = StudySettings::default();
        let payne = StudySettings {
            corrected_calcium_formula: CalciumFormula::Payne,
            ..StudySettings::default()
        };
        let at_crisis = corrected_calcium(3.47, 38.8, &review);
        assert_eq!(at_crisis, 3.5);
        assert!(!is_crisis(at_crisis, &review));
        let at_low = corrected_calcium(1.88, 24.0, &payne);
        assert_eq!(at_low, 2.2);
        assert_eq!(calcaemia_class(at_low, &payne), CalcaemiaClass::Normal);
        assert_eq!(corrected_calcium(2.45, 36.0, &review).to_string(), "2.55");
        // The resolution keeps 1e-9 steps: 3.5 + 1e-9 is still a crisis.
        assert!(is_crisis(
            corrected_calcium(3.5 + 1e-9, 40.0, &review),
            &review
        ));
    }

    #[test]
    fn correction_below_40_only_is_a_setting() {
        let both_ways = StudySettings::default();
        let below_only = StudySettings {
            correct_only_below_40: true,
            ..StudySettings::default()
        };
        assert!(close(corrected_calcium(2.40, 44.0, &both_ways), 2.30));
        assert!(close(corrected_calcium(2.40, 44.0, &below_only), 2.40));
        assert!(close(corrected_calcium(2.40, 40.0, &below_only), 2.40));
        assert!(close(corrected_calcium(2.40, 36.0, &below_only), 2.50));
    }

    #[test]
    fn missing_inputs_are_all_named() {
        let s = StudySettings::default();
        let err = baseline_corrected_calcium(None, CalciumUnit::MmolL, None, AlbuminUnit::GL, &s)
            .unwrap_err();
        assert_eq!(err.codes(), "calcium_missing;albumin_missing");
        let err =
            baseline_corrected_calcium(Some(2.4), CalciumUnit::MmolL, None, AlbuminUnit::GL, &s)
                .unwrap_err();
        assert_eq!(err.codes(), "albumin_missing");
    }

    #[test]
    fn corrected_calcium_rises_with_calcium_and_falls_with_albumin() {
        let s = StudySettings::default();
        let mut previous = f64::NEG_INFINITY;
        for i in 0..200 {
            let ca = 1.5 + i as f64 * 0.01;
            let v = corrected_calcium(ca, 30.0, &s);
            assert!(v > previous);
            previous = v;
        }
        let mut previous = f64::INFINITY;
        for alb in 10..60 {
            let v = corrected_calcium(2.5, alb as f64, &s);
            assert!(v < previous);
            previous = v;
        }
    }
}
