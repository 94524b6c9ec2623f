//! The contract's columns per table (docs/input-contract.md, "patients", "events", "labs"):
//! name, whether the file must have the column, and what its values are, for messages.

/// One contract column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColumnSpec {
    /// Name in the contract.
    pub name: &'static str,
    /// Whether a file lacking the column cannot be used at all (exit 2).
    pub required: bool,
    /// What the values are, for people.
    pub expected: &'static str,
}

macro_rules! contract_columns {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => ($col:literal, $required:expr, $expected:literal)),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name { $(#[doc = $col] $variant),+ }
        impl $name {
            /// Every column of the table, in this enum's order.
            pub const SPECS: &'static [ColumnSpec] = &[
                $(ColumnSpec { name: $col, required: $required, expected: $expected }),+
            ];
            /// Every column name, in order.
            pub const NAMES: &'static [&'static str] = &[$($col),+];
            /// This column's spec.
            pub fn spec(self) -> &'static ColumnSpec {
                &Self::SPECS[self as usize]
            }
            /// Index of this column in [`Self::SPECS`].
            pub fn index(self) -> usize {
                self as usize
            }
        }
    };
}

contract_columns!(
    /// Columns of the patients table.
    PatientColumn {
        PatientId => ("patient_id", true, "a unique, non-empty identifier"),
        Sex => ("sex", true, "one of m, f"),
        AgeAtDiagnosis => ("age_at_diagnosis", true, "whole years, 18-110"),
        DiagnosisDate => ("diagnosis_date", true, "an ISO date YYYY-MM-DD"),
        Histology => ("histology", true, "one of adenocarcinoma, squamous, large_cell, nsclc_nos, small_cell, other"),
        Stage => ("stage", false, "one of i, ii, iii, iva, ivb, iv"),
        TumorSizeMm => ("tumor_size_mm", false, "a number of millimetres > 0"),
        NStage => ("n_stage", false, "one of n0, n1, n2, n3, nx"),
        Egfr => ("egfr", false, "one of wild_type, exon19_del, l858r, other_mutation, not_tested"),
        Alk => ("alk", false, "one of negative, rearranged, not_tested"),
        Kras => ("kras", false, "one of wild_type, g12a, g12c, g12d, g12v, other_mutation, not_tested"),
        Ecog => ("ecog", false, "a whole number 0-4"),
        BoneMetsDate => ("bone_mets_date", false, "an ISO date YYYY-MM-DD, not after last_contact_date"),
        BoneSites => ("bone_sites", false, "a ;-separated list of spine_cervical, spine_thoracic, spine_lumbar, sacrum, pelvis, femur, humerus, tibia, ribs, sternum, scapula, skull, other"),
        BoneLesionCount => ("bone_lesion_count", false, "a whole number >= 0"),
        VisceralSites => ("visceral_sites", false, "a ;-separated list of liver, contralateral_lung, pleura, pericardium, brain, adrenal, distant_nodes, other"),
        VisceralMetsDate => ("visceral_mets_date", false, "an ISO date YYYY-MM-DD, not after last_contact_date"),
        Calcium => ("calcium", false, "a number > 0, in calcium_unit"),
        CalciumUnit => ("calcium_unit", false, "one of mmol/l, mg/dl"),
        Albumin => ("albumin", false, "a number > 0, in albumin_unit"),
        AlbuminUnit => ("albumin_unit", false, "one of g/l, g/dl"),
        Ntx => ("ntx", false, "a number >= 0 (nmol BCE/mmol creatinine)"),
        Ctx => ("ctx", false, "a number >= 0 (ng/L)"),
        CtxSampledAt => ("ctx_sampled_at", false, "an ISO date-time YYYY-MM-DDTHH:MM"),
        CtxFasting => ("ctx_fasting", false, "true/false, yes/no or 1/0"),
        BoneAgent => ("bone_agent", false, "one of none, zoledronic_acid, denosumab, other_bisphosphonate"),
        BoneAgentStart => ("bone_agent_start", false, "an ISO date YYYY-MM-DD"),
        FirstLine => ("first_line", false, "one of chemotherapy, egfr_tki, alk_tki, immunotherapy, chemo_immunotherapy, other, none"),
        SmiCm2M2 => ("smi_cm2_m2", false, "a number > 0 (cm2/m2)"),
        LastContactDate => ("last_contact_date", true, "an ISO date YYYY-MM-DD, not before diagnosis_date"),
        VitalStatus => ("vital_status", true, "one of alive, dead"),
        DeathDate => ("death_date", false, "an ISO date YYYY-MM-DD, not before diagnosis_date; required when dead"),
    }
);

contract_columns!(
    /// Columns of the events table.
    EventColumn {
        PatientId => ("patient_id", true, "a patient_id of the patients table"),
        EventDate => ("event_date", true, "an ISO date YYYY-MM-DD within the patient's follow-up"),
        EventType => ("event_type", true, "one of radiotherapy_bone, pathologic_fracture, bone_surgery, spinal_cord_compression, hypercalcemia"),
        Site => ("site", false, "a bone_sites value"),
    }
);

contract_columns!(
    /// Columns of the labs table.
    LabColumn {
        PatientId => ("patient_id", true, "a patient_id of the patients table"),
        SampledAt => ("sampled_at", true, "an ISO date-time YYYY-MM-DDTHH:MM"),
        Analyte => ("analyte", true, "one of calcium, albumin, ntx, ctx"),
        Value => ("value", true, "a number >= 0 (> 0 for calcium and albumin)"),
        Unit => ("unit", true, "one of mmol/l, mg/dl, g/l, g/dl, nmol_bce/mmol_creat, ng/l, matching the analyte"),
        Fasting => ("fasting", false, "true/false, yes/no or 1/0"),
    }
);
