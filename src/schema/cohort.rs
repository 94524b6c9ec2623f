//! The validated cohort: typed, columnar, in memory. This is what every later stage consumes
//! (classifiers, statistics, reports); nothing downstream re-reads strings.

use chrono::{NaiveDate, NaiveDateTime};

use super::vocab::*;

/// Generates a row struct (one validated record) and its columnar table (a `Vec` per field).
macro_rules! columnar {
    (
        $(#[$row_meta:meta])* $row:ident,
        $(#[$table_meta:meta])* $table:ident {
            $($(#[$field_meta:meta])* $field:ident : $ty:ty),+ $(,)?
        }
    ) => {
        $(#[$row_meta])*
        #[derive(Debug, Clone, PartialEq)]
        pub struct $row {
            $($(#[$field_meta])* pub $field: $ty,)+
            /// Source line (CSV) or row number (Parquet) of the record.
            pub source_line: u64,
            /// Cells of the columns outside the contract, untouched.
            pub extra: Vec<Option<Box<str>>>,
        }

        $(#[$table_meta])*
        #[derive(Debug, Clone, Default, PartialEq)]
        pub struct $table {
            $($(#[$field_meta])* pub $field: Vec<$ty>,)+
            /// Source line (CSV) or row number (Parquet) of each record.
            pub source_line: Vec<u64>,
            /// Names of the columns outside the contract, carried through.
            pub extra_names: Vec<String>,
            /// Their cells, row-major, `extra_names.len()` per row: nothing at all when the
            /// source has no such column (not an empty list per row).
            pub extra: Vec<Option<Box<str>>>,
        }

        impl $table {
            /// Number of rows.
            pub fn len(&self) -> usize {
                self.source_line.len()
            }
            /// Whether the table has no row.
            pub fn is_empty(&self) -> bool {
                self.source_line.is_empty()
            }
            /// Appends one record.
            pub fn push(&mut self, record: $row) {
                $(self.$field.push(record.$field);)+
                self.source_line.push(record.source_line);
                debug_assert_eq!(record.extra.len(), self.extra_names.len());
                self.extra.extend(record.extra);
            }
            /// Record `i`, copied out.
            pub fn row(&self, i: usize) -> $row {
                $row {
                    $($field: self.$field[i].clone(),)+
                    source_line: self.source_line[i],
                    extra: self.extra_of(i).to_vec(),
                }
            }
            /// Keeps the rows whose `keep` flag is set, in order.
            pub fn retain_rows(&mut self, keep: &[bool]) {
                fn retain<T>(column: &mut Vec<T>, keep: &[bool]) {
                    let mut flags = keep.iter();
                    column.retain(|_| *flags.next().unwrap_or(&true));
                }
                $(retain(&mut self.$field, keep);)+
                retain(&mut self.source_line, keep);
                let width = self.extra_names.len();
                if width > 0 {
                    let mut rows = keep.iter();
                    let mut kept = Vec::with_capacity(self.extra.len());
                    for row in std::mem::take(&mut self.extra).chunks(width) {
                        if *rows.next().unwrap_or(&true) {
                            kept.extend_from_slice(row);
                        }
                    }
                    self.extra = kept;
                }
            }
            /// The cells of record `i` in the columns outside the contract.
            pub fn extra_of(&self, i: usize) -> &[Option<Box<str>>] {
                let width = self.extra_names.len();
                self.extra.get(i * width..(i + 1) * width).unwrap_or(&[])
            }
        }
    };
}

columnar!(
    /// One validated patient.
    PatientRecord,
    /// The patients table, one entry per accepted patient, in source order.
    Patients {
        /// Registry identifier.
        patient_id: String,
        /// Sex.
        sex: Sex,
        /// Age at diagnosis, years.
        age_at_diagnosis: u8,
        /// Date of lung cancer diagnosis: time origin of overall survival.
        diagnosis_date: NaiveDate,
        /// Histology.
        histology: Histology,
        /// Stage at diagnosis.
        stage: Option<Stage>,
        /// Tumour size, mm.
        tumor_size_mm: Option<f64>,
        /// N category.
        n_stage: Option<NStage>,
        /// EGFR status.
        egfr: Option<Egfr>,
        /// ALK status.
        alk: Option<Alk>,
        /// KRAS status.
        kras: Option<Kras>,
        /// ECOG performance status.
        ecog: Option<u8>,
        /// First diagnosis of bone metastasis.
        bone_mets_date: Option<NaiveDate>,
        /// Bones involved (None: not recorded).
        bone_sites: Option<SiteSet<BoneSite>>,
        /// Number of bone lesions.
        bone_lesion_count: Option<u32>,
        /// Non-bone metastatic sites at diagnosis (None: not recorded).
        visceral_sites: Option<SiteSet<VisceralSite>>,
        /// First visceral metastasis after diagnosis.
        visceral_mets_date: Option<NaiveDate>,
        /// Baseline total serum calcium, in `calcium_unit`.
        calcium: Option<f64>,
        /// Unit of `calcium` (the default applies when the cell is empty).
        calcium_unit: CalciumUnit,
        /// Baseline serum albumin, in `albumin_unit`.
        albumin: Option<f64>,
        /// Unit of `albumin`.
        albumin_unit: AlbuminUnit,
        /// Urinary NTX, nmol BCE/mmol creatinine.
        ntx: Option<f64>,
        /// Serum CTX, ng/L.
        ctx: Option<f64>,
        /// CTX sampling date-time (local clock).
        ctx_sampled_at: Option<NaiveDateTime>,
        /// CTX drawn fasting.
        ctx_fasting: Option<bool>,
        /// Bone-targeted agent.
        bone_agent: Option<BoneAgent>,
        /// Start of the bone-targeted agent.
        bone_agent_start: Option<NaiveDate>,
        /// First-line systemic treatment.
        first_line: Option<FirstLine>,
        /// Skeletal muscle index at L3, cm²/m².
        smi_cm2_m2: Option<f64>,
        /// Last date known alive, or date of death.
        last_contact_date: NaiveDate,
        /// Vital status.
        vital_status: VitalStatus,
        /// Date of death (present exactly when dead).
        death_date: Option<NaiveDate>,
    }
);

columnar!(
    /// One validated skeletal or calcaemic event.
    EventRecord,
    /// The events table, in source order.
    Events {
        /// Row of the patient in [`Patients`].
        patient: u32,
        /// Date of the event.
        event_date: NaiveDate,
        /// Kind of event.
        event_type: EventType,
        /// Bone involved.
        site: Option<BoneSite>,
    }
);

columnar!(
    /// One validated laboratory measurement.
    LabRecord,
    /// The labs table (long format), in source order.
    Labs {
        /// Row of the patient in [`Patients`].
        patient: u32,
        /// Sampling date-time (local clock).
        sampled_at: NaiveDateTime,
        /// What was measured.
        analyte: Analyte,
        /// The measured value, in `unit`.
        value: f64,
        /// Unit of `value`.
        unit: LabUnit,
        /// Sampled fasting.
        fasting: Option<bool>,
    }
);

/// A validated cohort: every accepted row of the three tables, typed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Cohort {
    /// Patients.
    pub patients: Patients,
    /// Skeletal and calcaemic events (empty when no events table was given).
    pub events: Events,
    /// Laboratory measurements (empty when no labs table was given).
    pub labs: Labs,
}
