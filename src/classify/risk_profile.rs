//! C10 — bone-metastasis risk profile: the number (0–4) of the SEER analysis' risk factors
//! (Zhang 2019 [7]) a patient has: male sex, tumour > 20 mm (the review's cut-off), nodal
//! involvement (N1–N3), and at least one non-bone metastatic site at diagnosis. Not assessable
//! when tumour size or N stage is missing, or N stage is NX.

use super::not_assessable::{Assessed, MissingInput, NotAssessable};
use crate::schema::vocab::{NStage, Sex};
use crate::study::StudySettings;

/// C10.
pub fn risk_factor_count(
    sex: Sex,
    tumor_size_mm: Option<f64>,
    n_stage: Option<NStage>,
    non_bone_sites_at_diagnosis: usize,
    settings: &StudySettings,
) -> Assessed<u8> {
    let mut why = NotAssessable::none();
    why.add_if(tumor_size_mm.is_none(), MissingInput::TumorSizeMissing);
    why.add_if(n_stage.is_none(), MissingInput::NStageMissing);
    why.add_if(n_stage == Some(NStage::Nx), MissingInput::NStageNx);
    why.into_result()?;
    let size_factor = tumor_size_mm.is_some_and(|s| s > settings.tumor_size_cutoff_mm);
    let nodal = matches!(n_stage, Some(NStage::N1 | NStage::N2 | NStage::N3));
    Ok(u8::from(sex == Sex::Male)
        + u8::from(size_factor)
        + u8::from(nodal)
        + u8::from(non_bone_sites_at_diagnosis > 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_factor_counts_once_and_twenty_millimetres_is_not_above_twenty() {
        let s = StudySettings::default();
        assert_eq!(
            risk_factor_count(Sex::Female, Some(20.0), Some(NStage::N0), 0, &s),
            Ok(0)
        );
        assert_eq!(
            risk_factor_count(Sex::Female, Some(20.000001), Some(NStage::N0), 0, &s),
            Ok(1)
        );
        assert_eq!(
            risk_factor_count(Sex::Male, Some(20.0), Some(NStage::N0), 0, &s),
            Ok(1)
        );
        assert_eq!(
            risk_factor_count(Sex::Female, Some(10.0), Some(NStage::N1), 0, &s),
            Ok(1)
        );
        assert_eq!(
            risk_factor_count(Sex::Female, Some(10.0), Some(NStage::N0), 2, &s),
            Ok(1)
        );
        assert_eq!(
            risk_factor_count(Sex::Male, Some(45.0), Some(NStage::N3), 1, &s),
            Ok(4)
        );
    }

    #[test]
    fn missing_size_or_nodal_status_is_named() {
        let s = StudySettings::default();
        assert_eq!(
            risk_factor_count(Sex::Male, None, Some(NStage::Nx), 0, &s)
                .unwrap_err()
                .codes(),
            "tumor_size_missing;n_stage_nx"
        );
        assert_eq!(
            risk_factor_count(Sex::Male, Some(30.0), None, 0, &s)
                .unwrap_err()
                .codes(),
            "n_stage_missing"
        );
    }
}
