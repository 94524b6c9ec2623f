//! bonemet: a batch pipeline for the epidemiology of bone metastases in lung cancer.
//!
//! Data flows one way: [`io`] reads a cohort's files → [`schema`] validates every row into a
//! typed [`schema::Cohort`] (rejected rows kept with their reasons) → later stages classify,
//! analyse, plot and report. [`ingest`] drives the first two; [`validate`] is the command
//! built on them.

pub mod error;
pub mod ingest;
pub mod io;
pub mod report;
pub mod schema;
pub mod validate;

pub use error::{Error, Result};
