//! The closed vocabularies of the input contract (docs/input-contract.md), as enums.
//!
//! Input is case-insensitive; every value is normalised to the lower-case spelling of the
//! contract, which is also how outputs spell it.

use std::fmt;
use std::marker::PhantomData;

/// A closed set of values with a stable lower-case spelling.
pub trait Vocabulary: Copy + Eq + 'static {
    /// Every value, in the contract's order.
    const ALL: &'static [Self];
    /// The contract's spelling.
    fn as_str(self) -> &'static str;
    /// Position in [`Vocabulary::ALL`].
    fn index(self) -> usize;
    /// Case-insensitive parse of a trimmed value.
    fn parse(text: &str) -> Option<Self>;
    /// The accepted values, for messages: `m, f`.
    fn expected() -> String {
        let names: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
        names.join(", ")
    }
}

macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $(#[doc = $text] $variant),+
        }
        impl Vocabulary for $name {
            const ALL: &'static [Self] = &[$($name::$variant),+];
            fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
            fn index(self) -> usize {
                self as usize
            }
            fn parse(text: &str) -> Option<Self> {
                // The contract's own spelling (most cells) by a match the compiler turns into
                // a few length and word comparisons; any other case by the scan.
                match text {
                    $($text => Some($name::$variant),)+
                    _ => Self::ALL
                        .iter()
                        .copied()
                        .find(|v| v.as_str().eq_ignore_ascii_case(text)),
                }
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

vocabulary!(
    /// Sex as recorded by the registry.
    Sex { Male = "m", Female = "f" }
);
vocabulary!(
    /// Tumour histology at diagnosis.
    Histology {
        Adenocarcinoma = "adenocarcinoma",
        Squamous = "squamous",
        LargeCell = "large_cell",
        NsclcNos = "nsclc_nos",
        SmallCell = "small_cell",
        Other = "other",
    }
);
vocabulary!(
    /// Stage at diagnosis (TNM 8 groups; `iv` when IVA/IVB is not recorded).
    Stage { I = "i", Ii = "ii", Iii = "iii", Iva = "iva", Ivb = "ivb", Iv = "iv" }
);
vocabulary!(
    /// Regional lymph-node category.
    NStage { N0 = "n0", N1 = "n1", N2 = "n2", N3 = "n3", Nx = "nx" }
);
vocabulary!(
    /// EGFR status.
    Egfr {
        WildType = "wild_type",
        Exon19Del = "exon19_del",
        L858r = "l858r",
        OtherMutation = "other_mutation",
        NotTested = "not_tested",
    }
);
vocabulary!(
    /// ALK status.
    Alk { Negative = "negative", Rearranged = "rearranged", NotTested = "not_tested" }
);
vocabulary!(
    /// KRAS status.
    Kras {
        WildType = "wild_type",
        G12a = "g12a",
        G12c = "g12c",
        G12d = "g12d",
        G12v = "g12v",
        OtherMutation = "other_mutation",
        NotTested = "not_tested",
    }
);
vocabulary!(
    /// A bone holding metastases.
    BoneSite {
        SpineCervical = "spine_cervical",
        SpineThoracic = "spine_thoracic",
        SpineLumbar = "spine_lumbar",
        Sacrum = "sacrum",
        Pelvis = "pelvis",
        Femur = "femur",
        Humerus = "humerus",
        Tibia = "tibia",
        Ribs = "ribs",
        Sternum = "sternum",
        Scapula = "scapula",
        Skull = "skull",
        Other = "other",
    }
);
vocabulary!(
    /// A non-bone metastatic site at diagnosis.
    VisceralSite {
        Liver = "liver",
        ContralateralLung = "contralateral_lung",
        Pleura = "pleura",
        Pericardium = "pericardium",
        Brain = "brain",
        Adrenal = "adrenal",
        DistantNodes = "distant_nodes",
        Other = "other",
    }
);
vocabulary!(
    /// Unit of a baseline calcium value.
    CalciumUnit { MmolL = "mmol/l", MgDl = "mg/dl" }
);
vocabulary!(
    /// Unit of a baseline albumin value.
    AlbuminUnit { GL = "g/l", GDl = "g/dl" }
);
vocabulary!(
    /// Bone-targeted agent.
    BoneAgent {
        None = "none",
        ZoledronicAcid = "zoledronic_acid",
        Denosumab = "denosumab",
        OtherBisphosphonate = "other_bisphosphonate",
    }
);
vocabulary!(
    /// First-line systemic treatment.
    FirstLine {
        Chemotherapy = "chemotherapy",
        EgfrTki = "egfr_tki",
        AlkTki = "alk_tki",
        Immunotherapy = "immunotherapy",
        ChemoImmunotherapy = "chemo_immunotherapy",
        Other = "other",
        None = "none",
    }
);
vocabulary!(
    /// Vital status at last contact.
    VitalStatus { Alive = "alive", Dead = "dead" }
);
vocabulary!(
    /// A skeletal or calcaemic event.
    EventType {
        RadiotherapyBone = "radiotherapy_bone",
        PathologicFracture = "pathologic_fracture",
        BoneSurgery = "bone_surgery",
        SpinalCordCompression = "spinal_cord_compression",
        Hypercalcemia = "hypercalcemia",
    }
);
vocabulary!(
    /// A laboratory analyte.
    Analyte { Calcium = "calcium", Albumin = "albumin", Ntx = "ntx", Ctx = "ctx" }
);
vocabulary!(
    /// Unit of a laboratory measurement.
    LabUnit {
        MmolL = "mmol/l",
        MgDl = "mg/dl",
        GL = "g/l",
        GDl = "g/dl",
        NmolBcePerMmolCreat = "nmol_bce/mmol_creat",
        NgL = "ng/l",
    }
);

impl Analyte {
    /// The units in which this analyte may be reported.
    pub fn units(self) -> &'static [LabUnit] {
        match self {
            Analyte::Calcium => &[LabUnit::MmolL, LabUnit::MgDl],
            Analyte::Albumin => &[LabUnit::GL, LabUnit::GDl],
            Analyte::Ntx => &[LabUnit::NmolBcePerMmolCreat],
            Analyte::Ctx => &[LabUnit::NgL],
        }
    }
}

/// A set of values of one vocabulary (at most 32), as a bit set: `;`-separated lists such as
/// `bone_sites` without an allocation per patient.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SiteSet<T> {
    bits: u32,
    marker: PhantomData<T>,
}

impl<T: Vocabulary> Default for SiteSet<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Vocabulary> SiteSet<T> {
    /// The empty set.
    pub const fn new() -> Self {
        Self {
            bits: 0,
            marker: PhantomData,
        }
    }
    /// Adds a value.
    pub fn insert(&mut self, value: T) {
        self.bits |= 1 << value.index();
    }
    /// Whether the set holds `value`.
    pub fn contains(self, value: T) -> bool {
        self.bits & (1 << value.index()) != 0
    }
    /// Number of distinct values.
    pub fn len(self) -> usize {
        self.bits.count_ones() as usize
    }
    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.bits == 0
    }
    /// The values, in the vocabulary's order.
    pub fn iter(self) -> impl Iterator<Item = T> {
        T::ALL.iter().copied().filter(move |v| self.contains(*v))
    }
    /// The set written as the contract writes it: `femur;pelvis`.
    pub fn to_list_string(self) -> String {
        let names: Vec<&str> = self.iter().map(|v| v.as_str()).collect();
        names.join(";")
    }
}

impl<T: Vocabulary> FromIterator<T> for SiteSet<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        let mut set = Self::new();
        for v in iter {
            set.insert(v);
        }
        set
    }
}

impl<T: Vocabulary> fmt::Debug for SiteSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set()
            .entries(self.iter().map(|v| v.as_str()))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_is_case_insensitive_and_normalises() {
        assert_eq!(Sex::parse("M"), Some(Sex::Male));
        assert_eq!(Histology::parse("Small_Cell"), Some(Histology::SmallCell));
        assert_eq!(
            LabUnit::parse("NMOL_BCE/MMOL_CREAT"),
            Some(LabUnit::NmolBcePerMmolCreat)
        );
        assert_eq!(Sex::parse("male"), None);
        assert_eq!(Sex::Female.to_string(), "f");
    }

    #[test]
    fn site_sets_keep_vocabulary_order() {
        let set: SiteSet<BoneSite> = [BoneSite::Femur, BoneSite::SpineCervical, BoneSite::Femur]
            .into_iter()
            .collect();
        assert_eq!(set.len(), 2);
        assert_eq!(set.to_list_string(), "spine_cervical;femur");
        assert!(set.contains(BoneSite::Femur) && !set.contains(BoneSite::Skull));
    }
}
