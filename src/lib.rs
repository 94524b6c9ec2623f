//! bonemet: a batch pipeline for the epidemiology of bone metastases in lung cancer.
//!
//! Data flows one way: [`io`] reads a cohort's files → [`schema`] validates every row into a
//! typed [`schema::Cohort`] (rejected rows kept with their reasons) → [`classify`] applies the
//! clinical classifiers to every patient → later stages analyse, plot and report. [`ingest`]
//! drives the first two; [`commands`] are what the binary runs.

pub mod analysis;
pub mod classify;
pub mod commands;
pub mod error;
pub mod ingest;
pub mod io;
pub mod plot;
pub mod report;
pub mod schema;
pub mod stats;
pub mod study;
pub mod synth;

pub use error::{Error, Result};
