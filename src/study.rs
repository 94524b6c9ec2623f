//! Study settings (`study.toml`): the clinical choices a study fixes before it looks at data.
//! Every key is optional, with the defaults listed in docs/methods.md ("Study settings", which
//! says what each key changes) and by `bonemet classify --help`; an unknown key is an error
//! naming it. The settings in force are written into every output's metadata.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Corrected-calcium formula (C1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CalciumFormula {
    /// The review's: `Ca + (40 − albumin g/L) / 40`, i.e. +0.025 mmol/L per g/L below 40.
    Review,
    /// Payne's: `Ca + 0.02 × (40 − albumin g/L)`.
    Payne,
}

/// Grading scheme for hypercalcaemia reported by the analyses (C2 computes both).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GradingScheme {
    /// Mild ≤ 3.0, moderate ≤ 3.5, severe > 3.5 mmol/L above the normal range.
    Severity,
    /// CTCAE v5 grades 1–4 (laboratory part only).
    Ctcae5,
}

/// The settings of a study. Field names are the keys of `study.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StudySettings {
    /// C1: corrected-calcium formula.
    pub corrected_calcium_formula: CalciumFormula,
    /// C1: correct only when albumin is below 40 g/L (some laboratories); default corrects
    /// both ways, as the formula is written.
    pub correct_only_below_40: bool,
    /// C2: lower limit of normal corrected calcium, mmol/L.
    pub calcium_normal_low_mmol_l: f64,
    /// C2: upper limit of normal corrected calcium, mmol/L.
    pub calcium_normal_high_mmol_l: f64,
    /// C2: the grading scheme the analyses report.
    pub grading_scheme: GradingScheme,
    /// C2: corrected calcium above this is a hypercalcaemic crisis (laboratory flag), mmol/L.
    pub crisis_threshold_mmol_l: f64,
    /// C8: whether hypercalcaemia events count as skeletal-related events.
    pub hypercalcaemia_is_sre: bool,
    /// C8: events of one patient within this many days of the previous counted SRE are one
    /// SRE (trials often use 21); 0 counts every event.
    pub sre_merge_window_days: u32,
    /// C9: NTX below this is low (nmol BCE/mmol creatinine; Coleman 2005).
    pub ntx_moderate_from: f64,
    /// C9: NTX at or above this is high.
    pub ntx_high_from: f64,
    /// C9: a CTX sample is valid only when drawn fasting and before this hour (local clock).
    pub ctx_sampling_before_hour: u32,
    /// C5: bone disease is synchronous when diagnosed at most this many days after the lung
    /// cancer diagnosis.
    pub synchronous_window_days: u32,
    /// C6: oligometastatic means at most this many metastases...
    pub oligometastatic_max_metastases: u32,
    /// C6: ...in at most this many organs (EORTC Lung Cancer Group 2019).
    pub oligometastatic_max_organs: u32,
    /// C10: a tumour larger than this is a risk factor, mm (the review's cut-off).
    pub tumor_size_cutoff_mm: f64,
    /// Analysis plan: horizons at which survival and cumulative incidences are read, months.
    pub horizons_months: Vec<f64>,
    /// Analysis plan: the horizon of the SRE figures F8–F9, months (the duration of the
    /// placebo-controlled trials).
    pub sre_horizon_months: f64,
    /// Analysis plan: the landmark for the bone-targeted agent, months after the
    /// bone-metastasis diagnosis.
    pub landmark_months: f64,
    /// Published figures: a cohort estimate not different from the published value is
    /// `consistent` when its 95% CI half-width is at most this share of the published value,
    /// `imprecise` otherwise.
    pub consistent_half_width_share: f64,
}

impl Default for StudySettings {
    fn default() -> Self {
        Self {
            corrected_calcium_formula: CalciumFormula::Review,
            correct_only_below_40: false,
            calcium_normal_low_mmol_l: 2.20,
            calcium_normal_high_mmol_l: 2.60,
            grading_scheme: GradingScheme::Severity,
            crisis_threshold_mmol_l: 3.5,
            hypercalcaemia_is_sre: false,
            sre_merge_window_days: 0,
            ntx_moderate_from: 50.0,
            ntx_high_from: 100.0,
            ctx_sampling_before_hour: 9,
            synchronous_window_days: 30,
            oligometastatic_max_metastases: 5,
            oligometastatic_max_organs: 3,
            tumor_size_cutoff_mm: 20.0,
            horizons_months: vec![6.0, 12.0, 24.0],
            sre_horizon_months: 21.0,
            landmark_months: 3.0,
            consistent_half_width_share: 0.25,
        }
    }
}

impl StudySettings {
    /// Parses `study.toml` text; `origin` names it in errors.
    pub fn from_toml(text: &str, origin: &Path) -> Result<Self> {
        let settings: Self = toml::from_str(text).map_err(|e| Error::Study {
            path: origin.to_path_buf(),
            message: e.to_string().trim_end().to_string(),
        })?;
        settings.check().map_err(|message| Error::Study {
            path: origin.to_path_buf(),
            message,
        })?;
        Ok(settings)
    }

    /// Reads `study.toml`, or the defaults when no file is given.
    pub fn load(path: Option<&Path>) -> Result<Self> {
        let Some(path) = path else {
            return Ok(Self::default());
        };
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_toml(&text, path)
    }

    /// Checks values against each other.
    fn check(&self) -> std::result::Result<(), String> {
        let positive = [
            ("calcium_normal_low_mmol_l", self.calcium_normal_low_mmol_l),
            (
                "calcium_normal_high_mmol_l",
                self.calcium_normal_high_mmol_l,
            ),
            ("crisis_threshold_mmol_l", self.crisis_threshold_mmol_l),
            ("ntx_moderate_from", self.ntx_moderate_from),
            ("ntx_high_from", self.ntx_high_from),
            ("tumor_size_cutoff_mm", self.tumor_size_cutoff_mm),
            ("sre_horizon_months", self.sre_horizon_months),
            ("landmark_months", self.landmark_months),
            (
                "consistent_half_width_share",
                self.consistent_half_width_share,
            ),
        ];
        for (name, value) in positive {
            if !(value.is_finite() && value > 0.0) {
                return Err(format!("{name} = {value}: expected a number > 0"));
            }
        }
        if self.calcium_normal_low_mmol_l >= self.calcium_normal_high_mmol_l {
            return Err(format!(
                "calcium_normal_low_mmol_l ({}) must be below calcium_normal_high_mmol_l ({})",
                self.calcium_normal_low_mmol_l, self.calcium_normal_high_mmol_l
            ));
        }
        if self.ntx_moderate_from >= self.ntx_high_from {
            return Err(format!(
                "ntx_moderate_from ({}) must be below ntx_high_from ({})",
                self.ntx_moderate_from, self.ntx_high_from
            ));
        }
        if self.horizons_months.is_empty()
            || self
                .horizons_months
                .iter()
                .any(|h| !(h.is_finite() && *h > 0.0))
            || self.horizons_months.windows(2).any(|w| w[0] >= w[1])
        {
            return Err(format!(
                "horizons_months = {:?}: expected increasing numbers > 0",
                self.horizons_months
            ));
        }
        if self.ctx_sampling_before_hour > 24 {
            return Err(format!(
                "ctx_sampling_before_hour = {}: expected an hour 0-24",
                self.ctx_sampling_before_hour
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_optional_and_unknown_keys_are_named() {
        let p = Path::new("study.toml");
        assert_eq!(
            StudySettings::from_toml("", p).unwrap(),
            StudySettings::default()
        );
        let s = StudySettings::from_toml(
            "corrected_calcium_formula = \"payne\"\nsre_merge_window_days = 21\n",
            p,
        )
        .unwrap();
        assert_eq!(s.corrected_calcium_formula, CalciumFormula::Payne);
        assert_eq!(s.sre_merge_window_days, 21);
        let err = StudySettings::from_toml("crisis_treshold = 3.4\n", p).unwrap_err();
        assert!(
            err.to_string().contains("unknown field `crisis_treshold`"),
            "{err}"
        );
        let err = StudySettings::from_toml("ntx_moderate_from = 120.0\n", p).unwrap_err();
        assert!(
            err.to_string().contains("must be below ntx_high_from"),
            "{err}"
        );
    }
}
