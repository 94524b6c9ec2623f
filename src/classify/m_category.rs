//! C6 — TNM 8 M category and oligometastatic status, from the metastatic sites at diagnosis.
//!
//! M0: no metastatic site. M1a: only intrathoracic sites (contralateral lung, pleura,
//! pericardium). M1b: exactly one extrathoracic organ holding one lesion (bone with a lesion
//! count of 1, or one non-bone organ: the contract records no lesion count for those, so each
//! counts as one lesion). M1c: two or more extrathoracic organs, or bone with ≥ 2 lesions.
//! `unknown`: bone is the only extrathoracic organ and its lesion count is missing.
//! Oligometastatic (EORTC Lung Cancer Group 2019): ≤ 5 metastases (bone lesions + one per
//! non-bone site) in ≤ 3 organs (bone is one organ); not assessable without the bone lesion
//! count when bone is involved; `false` for M0 (no metastatic disease).

use super::not_assessable::{Assessed, MissingInput, NotAssessable};
use crate::schema::vocab::{SiteSet, VisceralSite};
use crate::study::StudySettings;

/// M category (output spellings are a contract).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MCategory {
    /// No distant metastasis.
    M0,
    /// Intrathoracic metastases only.
    M1a,
    /// A single extrathoracic metastasis.
    M1b,
    /// Multiple extrathoracic metastases.
    M1c,
    /// Bone is the only extrathoracic organ and its lesion count is missing.
    Unknown,
}

impl MCategory {
    /// Output spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::M0 => "m0",
            Self::M1a => "m1a",
            Self::M1b => "m1b",
            Self::M1c => "m1c",
            Self::Unknown => "unknown",
        }
    }
}

/// Metastatic sites at diagnosis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SitesAtDiagnosis {
    /// Synchronous bone metastases.
    pub bone: bool,
    /// Number of bone lesions, when recorded.
    pub bone_lesion_count: Option<u32>,
    /// Non-bone metastatic sites at diagnosis.
    pub visceral: SiteSet<VisceralSite>,
}

/// Whether a non-bone site is inside the chest (M1a territory).
pub fn is_intrathoracic(site: VisceralSite) -> bool {
    matches!(
        site,
        VisceralSite::ContralateralLung | VisceralSite::Pleura | VisceralSite::Pericardium
    )
}

/// C6 M category.
pub fn m_category(sites: &SitesAtDiagnosis) -> MCategory {
    let extrathoracic_visceral = sites
        .visceral
        .iter()
        .filter(|s| !is_intrathoracic(*s))
        .count();
    let extrathoracic_organs = extrathoracic_visceral + usize::from(sites.bone);
    match extrathoracic_organs {
        0 if sites.visceral.is_empty() => MCategory::M0,
        0 => MCategory::M1a,
        1 if sites.bone => match sites.bone_lesion_count {
            None => MCategory::Unknown,
            Some(0 | 1) => MCategory::M1b,
            Some(_) => MCategory::M1c,
        },
        1 => MCategory::M1b,
        _ => MCategory::M1c,
    }
}

/// C6 oligometastatic status.
pub fn oligometastatic(sites: &SitesAtDiagnosis, settings: &StudySettings) -> Assessed<bool> {
    let bone_lesions = if sites.bone {
        // A bone metastasis is at least one lesion, whatever the count column says.
        match sites.bone_lesion_count {
            Some(n) => n.max(1),
            None => return Err(NotAssessable::because(MissingInput::BoneLesionCountMissing)),
        }
    } else {
        0
    };
    let metastases = bone_lesions + sites.visceral.len() as u32;
    if metastases == 0 {
        return Ok(false);
    }
    let organs = sites.visceral.len() as u32 + u32::from(sites.bone);
    Ok(metastases <= settings.oligometastatic_max_metastases
        && organs <= settings.oligometastatic_max_organs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use VisceralSite::*;

    fn sites(bone: bool, count: Option<u32>, visceral: &[VisceralSite]) -> SitesAtDiagnosis {
        SitesAtDiagnosis {
            bone,
            bone_lesion_count: count,
            visceral: visceral.iter().copied().collect(),
        }
    }

    #[test]
    fn m_categories_follow_tnm8() {
        use MCategory::*;
        let cases = [
            (sites(false, None, &[]), M0),
            (sites(false, None, &[Pleura, ContralateralLung]), M1a),
            (sites(false, None, &[Pericardium]), M1a),
            (sites(true, Some(1), &[]), M1b),
            (sites(true, Some(1), &[Pleura]), M1b),
            (sites(false, None, &[Brain]), M1b),
            (sites(false, None, &[Brain, Pleura]), M1b),
            (sites(true, Some(2), &[]), M1c),
            (sites(true, Some(1), &[Liver]), M1c),
            (sites(false, None, &[Liver, Adrenal]), M1c),
            (sites(true, None, &[]), Unknown),
            (sites(true, None, &[Pleura]), Unknown),
            (sites(true, None, &[Liver]), M1c),
        ];
        for (s, expected) in cases {
            assert_eq!(m_category(&s), expected, "{s:?}");
        }
    }

    #[test]
    fn oligometastatic_limits_are_inclusive() {
        let s = StudySettings::default();
        assert_eq!(oligometastatic(&sites(false, None, &[]), &s), Ok(false));
        assert_eq!(oligometastatic(&sites(true, Some(5), &[]), &s), Ok(true));
        assert_eq!(oligometastatic(&sites(true, Some(6), &[]), &s), Ok(false));
        assert_eq!(
            oligometastatic(&sites(true, Some(3), &[Liver, Brain]), &s),
            Ok(true)
        );
        assert_eq!(
            oligometastatic(&sites(true, Some(4), &[Liver, Brain]), &s),
            Ok(false)
        );
        assert_eq!(
            oligometastatic(&sites(true, Some(1), &[Liver, Brain, Adrenal]), &s),
            Ok(false),
            "4 organs"
        );
        assert_eq!(
            oligometastatic(&sites(false, None, &[Liver, Brain, Adrenal]), &s),
            Ok(true)
        );
        let err = oligometastatic(&sites(true, None, &[]), &s).unwrap_err();
        assert_eq!(err.codes(), "bone_lesion_count_missing");
    }
}
