//! The `validate` command: ingest a cohort, apply the rejected-share quality gate, print the
//! summary and, with an output directory, write `rejected.csv` and `run.json`.

use std::io::Write;
use std::path::PathBuf;

use super::{
    create_out_dir, table_records, write_rejected_and_record, QualityGate, RunRecord, RunSettings,
    SettingsFile,
};
use crate::error::Result;
use crate::ingest::{ingest, Ingested};
use crate::io::{CohortFiles, LoadedMapping};

/// What `validate` needs, already checked.
#[derive(Debug, Clone)]
pub struct ValidateConfig {
    /// The cohort's files.
    pub files: CohortFiles,
    /// The mapping file, if any.
    pub mapping: Option<PathBuf>,
    /// Where to write `rejected.csv` and `run.json` (nothing is written without it).
    pub out_dir: Option<PathBuf>,
    /// Cap on the rejected share of any table, in [0, 1].
    pub max_rejected_share: f64,
}

/// The outcome of `validate`.
#[derive(Debug, Clone)]
pub struct ValidateOutcome {
    /// The cohort and its rejections.
    pub ingested: Ingested,
    /// The quality gate's verdict (a failed gate means exit code 3).
    pub gate: QualityGate,
}

/// Runs `validate`, writing the summary to `summary` and, with an output directory, the
/// rejected table and run record. A failed quality gate is not an error: see the outcome.
pub fn validate(config: &ValidateConfig, summary: &mut dyn Write) -> Result<ValidateOutcome> {
    let mapping = LoadedMapping::load(config.mapping.as_deref())?;
    let ingested = ingest(&config.files, &mapping)?;
    let gate = QualityGate::evaluate(&ingested.balance, config.max_rejected_share);
    let tables = table_records(&ingested);
    if let Some(dir) = &config.out_dir {
        let record = RunRecord {
            bonemet_version: env!("CARGO_PKG_VERSION"),
            command: "validate",
            inputs: ingested.inputs.clone(),
            settings: RunSettings {
                mapping: SettingsFile::of(mapping.path.as_deref())?,
                max_rejected_share: config.max_rejected_share,
                study: None,
                output_format: None,
            },
            tables: tables.clone(),
            quality_gate: gate.clone(),
            outputs: vec!["rejected.csv".into()],
        };
        create_out_dir(dir)?;
        write_rejected_and_record(dir, &ingested, &record)?;
    }
    let _ = crate::report::write_validation_summary(summary, &config.files, &tables, &gate);
    Ok(ValidateOutcome { ingested, gate })
}
