//! C5 — metastatic pattern at diagnosis and the timing of bone disease.
//!
//! Bone disease is synchronous when `bone_mets_date` is at most `synchronous_window_days`
//! (30) after `diagnosis_date` (a bone metastasis found first, before the lung primary, is
//! synchronous too), metachronous when later. The pattern describes the disease at diagnosis:
//! synchronous bone disease and `visceral_sites` (every listed non-bone site counts as
//! visceral here, pleura and distant nodes included). An unrecorded site list means no site
//! known, as an empty `bone_mets_date` means no bone metastasis known (the input contract).

use chrono::NaiveDate;

use crate::schema::vocab::{SiteSet, VisceralSite};

/// When bone metastases were diagnosed (output spellings are a contract).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BoneMetsTiming {
    /// No bone metastasis known.
    None,
    /// Within the synchronous window of the lung cancer diagnosis.
    Synchronous,
    /// Later in follow-up.
    Metachronous,
}

impl BoneMetsTiming {
    /// Output spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Synchronous => "synchronous",
            Self::Metachronous => "metachronous",
        }
    }
}

/// Metastatic pattern at diagnosis (output spellings are a contract).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MetastaticPattern {
    /// No metastasis at diagnosis.
    None,
    /// Bone only.
    BoneOnly,
    /// Bone and at least one other site.
    BoneAndVisceral,
    /// Other sites, no bone.
    VisceralOnly,
}

impl MetastaticPattern {
    /// Output spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::BoneOnly => "bone_only",
            Self::BoneAndVisceral => "bone_and_visceral",
            Self::VisceralOnly => "visceral_only",
        }
    }
}

/// C5 timing.
pub fn bone_mets_timing(
    diagnosis_date: NaiveDate,
    bone_mets_date: Option<NaiveDate>,
    synchronous_window_days: u32,
) -> BoneMetsTiming {
    match bone_mets_date {
        None => BoneMetsTiming::None,
        Some(date) if (date - diagnosis_date).num_days() <= i64::from(synchronous_window_days) => {
            BoneMetsTiming::Synchronous
        }
        Some(_) => BoneMetsTiming::Metachronous,
    }
}

/// C5 pattern at diagnosis.
pub fn metastatic_pattern(
    timing: BoneMetsTiming,
    visceral_sites: Option<SiteSet<VisceralSite>>,
) -> MetastaticPattern {
    let bone = timing == BoneMetsTiming::Synchronous;
    let visceral = visceral_sites.is_some_and(|s| !s.is_empty());
    match (bone, visceral) {
        (false, false) => MetastaticPattern::None,
        (true, false) => MetastaticPattern::BoneOnly,
        (true, true) => MetastaticPattern::BoneAndVisceral,
        (false, true) => MetastaticPattern::VisceralOnly,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn the_synchronous_window_is_inclusive_at_thirty_days() {
        let dx = d("2021-01-01");
        assert_eq!(bone_mets_timing(dx, None, 30), BoneMetsTiming::None);
        assert_eq!(
            bone_mets_timing(dx, Some(d("2020-12-20")), 30),
            BoneMetsTiming::Synchronous
        );
        assert_eq!(
            bone_mets_timing(dx, Some(d("2021-01-31")), 30),
            BoneMetsTiming::Synchronous
        );
        assert_eq!(
            bone_mets_timing(dx, Some(d("2021-02-01")), 30),
            BoneMetsTiming::Metachronous
        );
        assert_eq!(
            bone_mets_timing(dx, Some(d("2021-01-15")), 7),
            BoneMetsTiming::Metachronous
        );
    }

    #[test]
    fn patterns_use_synchronous_bone_disease_only() {
        let liver: SiteSet<VisceralSite> = [VisceralSite::Liver].into_iter().collect();
        let none = Some(SiteSet::new());
        use BoneMetsTiming as T;
        use MetastaticPattern as P;
        assert_eq!(metastatic_pattern(T::None, None), P::None);
        assert_eq!(metastatic_pattern(T::None, none), P::None);
        assert_eq!(metastatic_pattern(T::Synchronous, none), P::BoneOnly);
        assert_eq!(
            metastatic_pattern(T::Synchronous, Some(liver)),
            P::BoneAndVisceral
        );
        assert_eq!(
            metastatic_pattern(T::Metachronous, Some(liver)),
            P::VisceralOnly
        );
        assert_eq!(metastatic_pattern(T::Metachronous, None), P::None);
    }
}
