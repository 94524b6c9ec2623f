//! C4 — histology group: adenocarcinoma, squamous, other non-small-cell (large-cell and
//! NSCLC not otherwise specified), small-cell, other.

use crate::schema::vocab::Histology;

/// Histology group (output spellings are a contract).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HistologyGroup {
    /// Adenocarcinoma.
    Adenocarcinoma,
    /// Squamous-cell carcinoma.
    Squamous,
    /// Large-cell carcinoma or NSCLC not otherwise specified.
    OtherNsclc,
    /// Small-cell lung cancer.
    SmallCell,
    /// Any other histology.
    Other,
}

impl HistologyGroup {
    /// Output spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Adenocarcinoma => "adenocarcinoma",
            Self::Squamous => "squamous",
            Self::OtherNsclc => "other_nsclc",
            Self::SmallCell => "small_cell",
            Self::Other => "other",
        }
    }
}

/// C4.
pub fn histology_group(histology: Histology) -> HistologyGroup {
    match histology {
        Histology::Adenocarcinoma => HistologyGroup::Adenocarcinoma,
        Histology::Squamous => HistologyGroup::Squamous,
        Histology::LargeCell | Histology::NsclcNos => HistologyGroup::OtherNsclc,
        Histology::SmallCell => HistologyGroup::SmallCell,
        Histology::Other => HistologyGroup::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::vocab::Vocabulary;

    #[test]
    fn every_histology_has_its_group() {
        let groups: Vec<&str> = Histology::ALL
            .iter()
            .map(|h| histology_group(*h).as_str())
            .collect();
        assert_eq!(
            groups,
            [
                "adenocarcinoma",
                "squamous",
                "other_nsclc",
                "other_nsclc",
                "small_cell",
                "other"
            ]
        );
    }
}
