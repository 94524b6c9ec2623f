//! C7 — weight-bearing bone involvement: femur, tibia, spine (cervical, thoracic, lumbar),
//! sacrum, pelvis. These carry most of the fracture and cord-compression risk.

use super::not_assessable::{Assessed, MissingInput, NotAssessable};
use crate::schema::vocab::{BoneSite, SiteSet};

/// The weight-bearing bones.
pub const WEIGHT_BEARING: [BoneSite; 7] = [
    BoneSite::SpineCervical,
    BoneSite::SpineThoracic,
    BoneSite::SpineLumbar,
    BoneSite::Sacrum,
    BoneSite::Pelvis,
    BoneSite::Femur,
    BoneSite::Tibia,
];

/// The weight-bearing bones among `sites`.
pub fn weight_bearing_sites(sites: SiteSet<BoneSite>) -> SiteSet<BoneSite> {
    sites
        .iter()
        .filter(|s| WEIGHT_BEARING.contains(s))
        .collect()
}

/// C7: which weight-bearing bones are involved. Without bone metastases, none; with them but
/// no recorded sites, not assessable.
pub fn weight_bearing_involvement(
    has_bone_mets: bool,
    bone_sites: Option<SiteSet<BoneSite>>,
) -> Assessed<SiteSet<BoneSite>> {
    match bone_sites {
        Some(sites) if !sites.is_empty() => Ok(weight_bearing_sites(sites)),
        _ if !has_bone_mets => Ok(SiteSet::new()),
        _ => Err(NotAssessable::because(MissingInput::BoneSitesMissing)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::vocab::Vocabulary;

    #[test]
    fn each_bone_is_or_is_not_weight_bearing() {
        let weight_bearing: Vec<&str> = BoneSite::ALL
            .iter()
            .filter(|s| !weight_bearing_sites([**s].into_iter().collect()).is_empty())
            .map(|s| s.as_str())
            .collect();
        assert_eq!(
            weight_bearing,
            [
                "spine_cervical",
                "spine_thoracic",
                "spine_lumbar",
                "sacrum",
                "pelvis",
                "femur",
                "tibia"
            ]
        );
    }

    #[test]
    fn involvement_needs_sites_only_when_bone_disease_is_present() {
        let ribs_femur: SiteSet<BoneSite> = [BoneSite::Ribs, BoneSite::Femur].into_iter().collect();
        assert_eq!(
            weight_bearing_involvement(true, Some(ribs_femur))
                .unwrap()
                .to_list_string(),
            "femur"
        );
        assert!(weight_bearing_involvement(false, None).unwrap().is_empty());
        assert_eq!(
            weight_bearing_involvement(true, None).unwrap_err().codes(),
            "bone_sites_missing"
        );
        assert!(
            weight_bearing_involvement(true, Some([BoneSite::Skull].into_iter().collect()))
                .unwrap()
                .is_empty()
        );
    }
}
