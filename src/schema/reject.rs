//! Rejected rows: the stable reason codes of the input contract and the `rejected.csv` table
//! (docs/input-contract.md, "Rejected rows" and "Reason codes").

use std::collections::BTreeMap;
use std::fmt;
use std::io::Write;

/// The three tables of a cohort.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Table {
    /// One row per patient (required).
    Patients,
    /// One row per skeletal or calcaemic event (optional).
    Events,
    /// One row per laboratory measurement (optional).
    Labs,
}

impl Table {
    /// All tables, in processing order.
    pub const ALL: [Table; 3] = [Table::Patients, Table::Events, Table::Labs];
    /// The table's name in files and outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            Table::Patients => "patients",
            Table::Events => "events",
            Table::Labs => "labs",
        }
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

macro_rules! reasons {
    ($($variant:ident = $code:literal : $doc:literal),+ $(,)?) => {
        /// Why a row was rejected: a stable snake_case code (a contract: scripts count them).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum Reason { $(#[doc = $doc] $variant),+ }
        impl Reason {
            /// Every reason, in documentation order.
            pub const ALL: &'static [Reason] = &[$(Reason::$variant),+];
            /// The stable code written to `rejected.csv`.
            pub fn code(self) -> &'static str {
                match self { $(Reason::$variant => $code),+ }
            }
            /// One line on what the code means.
            pub fn description(self) -> &'static str {
                match self { $(Reason::$variant => $doc),+ }
            }
        }
    };
}

reasons! {
    RaggedRow = "ragged_row": "the record has more or fewer fields than the header",
    InvalidUtf8 = "invalid_utf8": "the cell is not valid UTF-8 text",
    MissingValue = "missing_value": "a required cell is empty",
    InvalidValue = "invalid_value": "the value is not in the column's vocabulary",
    NotANumber = "not_a_number": "the cell is not a number",
    NotAnInteger = "not_an_integer": "the cell is not a whole number",
    InvalidDate = "invalid_date": "the cell is not an ISO date YYYY-MM-DD",
    InvalidDatetime = "invalid_datetime": "the cell is not an ISO date-time YYYY-MM-DDTHH:MM",
    InvalidBoolean = "invalid_boolean": "the cell is not true/false, yes/no or 1/0",
    OutOfRange = "out_of_range": "the value is outside the column's allowed range",
    DuplicatePatientId = "duplicate_patient_id": "the patient_id appears on more than one row; every such row is rejected",
    DeathDateMissing = "death_date_missing": "vital_status is dead but death_date is empty",
    DeathDateWhenAlive = "death_date_when_alive": "vital_status is alive but a death_date is given",
    DeathBeforeDiagnosis = "death_before_diagnosis": "death_date is before diagnosis_date",
    LastContactBeforeDiagnosis = "last_contact_before_diagnosis": "last_contact_date is before diagnosis_date",
    LastContactAfterDeath = "last_contact_after_death": "last_contact_date is after death_date",
    DateAfterLastContact = "date_after_last_contact": "a metastasis date is after last_contact_date",
    EventBeforeDiagnosis = "event_before_diagnosis": "event_date is before the patient's diagnosis_date",
    EventAfterLastContact = "event_after_last_contact": "event_date is after the patient's last_contact_date",
    UnitMismatch = "unit_mismatch": "the unit is not one in which the analyte is reported",
    UnknownPatient = "unknown_patient": "the patient_id is not in the patients table",
    PatientRejected = "patient_rejected": "the patient's own row was rejected, so its events and labs are too",
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// One broken rule of one source row. A row breaking several rules gives several rejections.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejection {
    /// Table of the row.
    pub table: Table,
    /// 1-based source line of the record's first line (header = 1); for Parquet the 1-based row.
    pub line: u64,
    /// The row's patient_id as written (empty when missing).
    pub patient_id: String,
    /// The column as named in the source file; empty when the rule spans columns.
    pub column: String,
    /// Stable code.
    pub reason: Reason,
    /// For people: what was found and what was expected.
    pub message: String,
    /// The record's original fields as a JSON object (source column names; empty cells null).
    pub raw: String,
}

/// The header of `rejected.csv` (a contract).
pub const REJECTED_COLUMNS: [&str; 7] = [
    "table",
    "line",
    "patient_id",
    "column",
    "reason",
    "message",
    "raw",
];

/// Writes rejections as `rejected.csv`.
pub fn write_rejected_csv(rejections: &[Rejection], out: &mut dyn Write) -> std::io::Result<()> {
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(REJECTED_COLUMNS)?;
    for r in rejections {
        writer.write_record([
            r.table.as_str(),
            &r.line.to_string(),
            &r.patient_id,
            &r.column,
            r.reason.code(),
            &r.message,
            &r.raw,
        ])?;
    }
    writer.flush()
}

/// Rejections counted per reason code, in code order (for summaries and run.json).
pub fn count_by_reason<'a>(
    rejections: impl IntoIterator<Item = &'a Rejection>,
) -> BTreeMap<&'static str, u64> {
    let mut counts = BTreeMap::new();
    for r in rejections {
        *counts.entry(r.reason.code()).or_insert(0) += 1;
    }
    counts
}
