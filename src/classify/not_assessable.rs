//! Why a classifier could not give a value: the missing or unusable inputs, as a small set so
//! that a patient missing both calcium and albumin hears about both, without an allocation.

use std::fmt;

macro_rules! missing_inputs {
    ($($variant:ident = $code:literal),+ $(,)?) => {
        /// One reason a classifier is not assessable.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum MissingInput { $(#[doc = $code] $variant),+ }
        impl MissingInput {
            /// Every reason, in output order.
            pub const ALL: &'static [MissingInput] = &[$(MissingInput::$variant),+];
            /// Stable snake_case code written in the reasons columns.
            pub fn code(self) -> &'static str {
                match self { $(MissingInput::$variant => $code),+ }
            }
        }
    };
}

missing_inputs! {
    CalciumMissing = "calcium_missing",
    AlbuminMissing = "albumin_missing",
    BoneLesionCountMissing = "bone_lesion_count_missing",
    BoneSitesMissing = "bone_sites_missing",
    TumorSizeMissing = "tumor_size_missing",
    NStageMissing = "n_stage_missing",
    NStageNx = "n_stage_nx",
    NtxMissing = "ntx_missing",
    CtxMissing = "ctx_missing",
    CtxSampleTimeMissing = "ctx_sample_time_missing",
    CtxFastingUnknown = "ctx_fasting_unknown",
    NoFollowUp = "no_follow_up",
}

/// A classifier's "not assessable" verdict with every reason that applies.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct NotAssessable {
    bits: u32,
}

impl NotAssessable {
    /// No reason yet (not itself a verdict: see [`NotAssessable::into_result`]).
    pub const fn none() -> Self {
        Self { bits: 0 }
    }
    /// One reason.
    pub fn because(reason: MissingInput) -> Self {
        let mut set = Self::none();
        set.add(reason);
        set
    }
    /// Adds a reason.
    pub fn add(&mut self, reason: MissingInput) {
        self.bits |= 1 << (reason as u32);
    }
    /// Adds `reason` when `missing`.
    pub fn add_if(&mut self, missing: bool, reason: MissingInput) {
        if missing {
            self.add(reason);
        }
    }
    /// Whether `reason` is among the reasons.
    pub fn contains(self, reason: MissingInput) -> bool {
        self.bits & (1 << (reason as u32)) != 0
    }
    /// Whether there is no reason.
    pub fn is_empty(self) -> bool {
        self.bits == 0
    }
    /// `Ok(())` when no reason was added, else `Err(self)`.
    pub fn into_result(self) -> Result<(), Self> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(self)
        }
    }
    /// The reasons, in [`MissingInput::ALL`] order.
    pub fn reasons(self) -> impl Iterator<Item = MissingInput> {
        MissingInput::ALL
            .iter()
            .copied()
            .filter(move |r| self.contains(*r))
    }
    /// The reason codes joined with `;` (the reasons column).
    pub fn codes(self) -> String {
        let codes: Vec<&str> = self.reasons().map(MissingInput::code).collect();
        codes.join(";")
    }
}

impl fmt::Debug for NotAssessable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NotAssessable({})", self.codes())
    }
}

/// A classifier's output: a value, or why not.
pub type Assessed<T> = Result<T, NotAssessable>;
