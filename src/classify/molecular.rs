//! C3 — molecular subgroup from EGFR, ALK and KRAS status.
//!
//! Precedence when a tumour has several alterations: EGFR, then ALK, then KRAS
//! (docs/clinical-definitions.md, C3). Triple-negative means all three genes tested and wild type / negative; any untested
//! (or unrecorded) gene with no alteration found gives `incompletely_tested`.

use crate::schema::vocab::{Alk, Egfr, Kras};

/// Molecular subgroup (output spellings are a contract).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MolecularSubgroup {
    /// EGFR exon 19 deletion.
    EgfrExon19Del,
    /// EGFR L858R.
    EgfrL858r,
    /// Another EGFR mutation.
    EgfrOther,
    /// ALK rearrangement.
    Alk,
    /// KRAS G12A.
    KrasG12a,
    /// KRAS G12C.
    KrasG12c,
    /// KRAS G12D.
    KrasG12d,
    /// KRAS G12V.
    KrasG12v,
    /// Another KRAS mutation.
    KrasOther,
    /// EGFR, ALK and KRAS all tested, none altered.
    TripleNegative,
    /// No alteration found, but at least one gene not tested.
    IncompletelyTested,
}

impl MolecularSubgroup {
    /// Every subgroup, in output order.
    pub const ALL: [MolecularSubgroup; 11] = [
        Self::EgfrExon19Del,
        Self::EgfrL858r,
        Self::EgfrOther,
        Self::Alk,
        Self::KrasG12a,
        Self::KrasG12c,
        Self::KrasG12d,
        Self::KrasG12v,
        Self::KrasOther,
        Self::TripleNegative,
        Self::IncompletelyTested,
    ];
    /// Output spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EgfrExon19Del => "egfr_exon19_del",
            Self::EgfrL858r => "egfr_l858r",
            Self::EgfrOther => "egfr_other",
            Self::Alk => "alk",
            Self::KrasG12a => "kras_g12a",
            Self::KrasG12c => "kras_g12c",
            Self::KrasG12d => "kras_g12d",
            Self::KrasG12v => "kras_g12v",
            Self::KrasOther => "kras_other",
            Self::TripleNegative => "triple_negative",
            Self::IncompletelyTested => "incompletely_tested",
        }
    }
    /// Whether the subgroup is EGFR-mutant.
    pub fn is_egfr(self) -> bool {
        matches!(
            self,
            Self::EgfrExon19Del | Self::EgfrL858r | Self::EgfrOther
        )
    }
    /// Whether the subgroup is KRAS-mutant.
    pub fn is_kras(self) -> bool {
        matches!(
            self,
            Self::KrasG12a | Self::KrasG12c | Self::KrasG12d | Self::KrasG12v | Self::KrasOther
        )
    }
}

/// C3: the subgroup of a tumour (`None` = not recorded, treated as not tested).
pub fn molecular_subgroup(
    egfr: Option<Egfr>,
    alk: Option<Alk>,
    kras: Option<Kras>,
) -> MolecularSubgroup {
    use MolecularSubgroup as M;
    match egfr {
        Some(Egfr::Exon19Del) => return M::EgfrExon19Del,
        Some(Egfr::L858r) => return M::EgfrL858r,
        Some(Egfr::OtherMutation) => return M::EgfrOther,
        _ => {}
    }
    if alk == Some(Alk::Rearranged) {
        return M::Alk;
    }
    match kras {
        Some(Kras::G12a) => return M::KrasG12a,
        Some(Kras::G12c) => return M::KrasG12c,
        Some(Kras::G12d) => return M::KrasG12d,
        Some(Kras::G12v) => return M::KrasG12v,
        Some(Kras::OtherMutation) => return M::KrasOther,
        _ => {}
    }
    if egfr == Some(Egfr::WildType) && alk == Some(Alk::Negative) && kras == Some(Kras::WildType) {
        M::TripleNegative
    } else {
        M::IncompletelyTested
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::vocab::Vocabulary;

    /// Every combination of the three genes (with "not recorded"), against an independent
    /// statement of the rule.
    #[test]
    fn every_combination_follows_the_precedence_rule() {
        let egfrs: Vec<Option<Egfr>> = std::iter::once(None)
            .chain(Egfr::ALL.iter().copied().map(Some))
            .collect();
        let alks: Vec<Option<Alk>> = std::iter::once(None)
            .chain(Alk::ALL.iter().copied().map(Some))
            .collect();
        let krases: Vec<Option<Kras>> = std::iter::once(None)
            .chain(Kras::ALL.iter().copied().map(Some))
            .collect();
        let mut seen = std::collections::BTreeSet::new();
        for &e in &egfrs {
            for &a in &alks {
                for &k in &krases {
                    let got = molecular_subgroup(e, a, k);
                    seen.insert(got);
                    let egfr_mutant =
                        matches!(e, Some(Egfr::Exon19Del | Egfr::L858r | Egfr::OtherMutation));
                    let kras_mutant = matches!(
                        k,
                        Some(
                            Kras::G12a | Kras::G12c | Kras::G12d | Kras::G12v | Kras::OtherMutation
                        )
                    );
                    if egfr_mutant {
                        assert!(got.is_egfr(), "{e:?} {a:?} {k:?}");
                    } else if a == Some(Alk::Rearranged) {
                        assert_eq!(got, MolecularSubgroup::Alk);
                    } else if kras_mutant {
                        assert!(got.is_kras(), "{e:?} {a:?} {k:?}");
                    } else if e == Some(Egfr::WildType)
                        && a == Some(Alk::Negative)
                        && k == Some(Kras::WildType)
                    {
                        assert_eq!(got, MolecularSubgroup::TripleNegative);
                    } else {
                        assert_eq!(
                            got,
                            MolecularSubgroup::IncompletelyTested,
                            "{e:?} {a:?} {k:?}"
                        );
                    }
                }
            }
        }
        assert_eq!(
            seen.len(),
            MolecularSubgroup::ALL.len(),
            "every subgroup is reachable"
        );
    }

    #[test]
    fn co_alterations_and_untested_genes() {
        use MolecularSubgroup as M;
        // EGFR wins over ALK and KRAS; ALK over KRAS.
        assert_eq!(
            molecular_subgroup(Some(Egfr::L858r), Some(Alk::Rearranged), Some(Kras::G12c)),
            M::EgfrL858r
        );
        assert_eq!(
            molecular_subgroup(
                Some(Egfr::WildType),
                Some(Alk::Rearranged),
                Some(Kras::G12a)
            ),
            M::Alk
        );
        // An alteration found settles the subgroup even if another gene was not tested.
        assert_eq!(
            molecular_subgroup(Some(Egfr::NotTested), None, Some(Kras::G12a)),
            M::KrasG12a
        );
        // No alteration and one gene untested or unrecorded.
        assert_eq!(
            molecular_subgroup(
                Some(Egfr::WildType),
                Some(Alk::Negative),
                Some(Kras::NotTested)
            ),
            M::IncompletelyTested
        );
        assert_eq!(
            molecular_subgroup(Some(Egfr::WildType), None, Some(Kras::WildType)),
            M::IncompletelyTested
        );
        assert_eq!(
            molecular_subgroup(
                Some(Egfr::WildType),
                Some(Alk::Negative),
                Some(Kras::WildType)
            ),
            M::TripleNegative
        );
    }
}
