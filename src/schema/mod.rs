//! The input contract (docs/input-contract.md) as types: vocabularies, the contract's columns,
//! value parsers, the row rules, the typed cohort they produce, and the rejected-row model.

pub mod cohort;
pub mod columns;
pub mod id_table;
pub mod reject;
pub mod validate;
pub mod values;
pub mod vocab;

pub use cohort::{Cohort, EventRecord, Events, LabRecord, Labs, PatientRecord, Patients};
pub use reject::{Reason, Rejection, Table};
