//! The `validate` command: ingest a cohort, apply the rejected-share quality gate, print the
//! summary and, with an output directory, write `rejected.csv` and `run.json`.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::ingest::{ingest, Ingested, InputFile, TableBalance};
use crate::io::reader::sha256_file;
use crate::io::{CohortFiles, LoadedMapping};
use crate::schema::reject::{count_by_reason, write_rejected_csv};
use crate::schema::Table;

/// The default cap on any table's rejected share.
pub const DEFAULT_MAX_REJECTED_SHARE: f64 = 0.05;

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

/// Checks a rejected-share cap given by a user.
pub fn check_share(name: &str, share: f64) -> Result<f64> {
    if (0.0..=1.0).contains(&share) {
        Ok(share)
    } else {
        Err(Error::Setting {
            name: name.to_string(),
            message: format!("{share} is not a share: expected a number from 0 to 1, e.g. 0.05"),
        })
    }
}

/// The rejected-share quality gate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QualityGate {
    /// The cap in force.
    pub max_rejected_share: f64,
    /// Whether every table is at or under the cap.
    pub passed: bool,
    /// Tables above the cap.
    pub failed_tables: Vec<Table>,
}

impl QualityGate {
    /// Applies the cap to each table's balance.
    pub fn evaluate(balance: &[TableBalance], max_rejected_share: f64) -> Self {
        let failed_tables: Vec<Table> = balance
            .iter()
            .filter(|b| b.rejected_share() > max_rejected_share)
            .map(|b| b.table)
            .collect();
        Self {
            max_rejected_share,
            passed: failed_tables.is_empty(),
            failed_tables,
        }
    }
}

/// The outcome of `validate`.
#[derive(Debug, Clone)]
pub struct ValidateOutcome {
    /// The cohort and its rejections.
    pub ingested: Ingested,
    /// The quality gate's verdict (a failed gate means exit code 3).
    pub gate: QualityGate,
}

/// A table's row balance and rejections per reason, as run.json records it.
#[derive(Debug, Clone, Serialize)]
pub struct TableRecord {
    /// Which table.
    pub table: Table,
    /// Records read.
    pub rows_read: u64,
    /// Records accepted.
    pub rows_accepted: u64,
    /// Records rejected.
    pub rows_rejected: u64,
    /// rows_rejected / rows_read.
    pub rejected_share: f64,
    /// Broken rules per reason code.
    pub rejections_by_reason: BTreeMap<&'static str, u64>,
}

/// The mapping file as recorded in run.json.
#[derive(Debug, Clone, Serialize)]
pub struct MappingRecord {
    /// Path as given.
    pub path: PathBuf,
    /// SHA-256 of the file.
    pub sha256: String,
}

/// Settings in force, as recorded in run.json.
#[derive(Debug, Clone, Serialize)]
pub struct ValidateSettings {
    /// The mapping applied, if any.
    pub mapping: Option<MappingRecord>,
    /// Cap on the rejected share of any table.
    pub max_rejected_share: f64,
}

/// `run.json`: what was read, with which settings, and the row balance.
#[derive(Debug, Clone, Serialize)]
pub struct RunRecord {
    /// bonemet's version.
    pub bonemet_version: &'static str,
    /// The command that ran.
    pub command: &'static str,
    /// Each input's path, format, size and SHA-256.
    pub inputs: Vec<InputFile>,
    /// Settings in force.
    pub settings: ValidateSettings,
    /// Row balance per table.
    pub tables: Vec<TableRecord>,
    /// The quality gate's verdict.
    pub quality_gate: QualityGate,
}

/// Per-table balance with rejection counts.
pub fn table_records(ingested: &Ingested) -> Vec<TableRecord> {
    ingested
        .balance
        .iter()
        .map(|b| TableRecord {
            table: b.table,
            rows_read: b.rows_read,
            rows_accepted: b.rows_accepted,
            rows_rejected: b.rows_rejected,
            rejected_share: b.rejected_share(),
            rejections_by_reason: count_by_reason(
                ingested.rejections.iter().filter(|r| r.table == b.table),
            ),
        })
        .collect()
}

/// Runs `validate`, writing the summary to `summary` and, with an output directory, the
/// rejected table and run record. A failed quality gate is not an error: see the outcome.
pub fn validate(config: &ValidateConfig, summary: &mut dyn Write) -> Result<ValidateOutcome> {
    let mapping = LoadedMapping::load(config.mapping.as_deref())?;
    let ingested = ingest(&config.files, &mapping)?;
    let gate = QualityGate::evaluate(&ingested.balance, config.max_rejected_share);
    let tables = table_records(&ingested);
    if let Some(dir) = &config.out_dir {
        let mapping_record = match &mapping.path {
            Some(path) => Some(MappingRecord {
                path: path.clone(),
                sha256: sha256_file(path)?,
            }),
            None => None,
        };
        let record = RunRecord {
            bonemet_version: env!("CARGO_PKG_VERSION"),
            command: "validate",
            inputs: ingested.inputs.clone(),
            settings: ValidateSettings {
                mapping: mapping_record,
                max_rejected_share: config.max_rejected_share,
            },
            tables: tables.clone(),
            quality_gate: gate.clone(),
        };
        write_outputs(dir, &ingested, &record)?;
    }
    let _ = crate::report::write_validation_summary(summary, &config.files, &tables, &gate);
    Ok(ValidateOutcome { ingested, gate })
}

fn write_file(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    let write_err = |source| Error::Write {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::create(path).map_err(write_err)?;
    let mut out = std::io::BufWriter::new(file);
    write(&mut out).map_err(write_err)?;
    out.flush().map_err(write_err)
}

fn write_outputs(dir: &Path, ingested: &Ingested, record: &RunRecord) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    write_file(&dir.join("rejected.csv"), |out| {
        write_rejected_csv(&ingested.rejections, out)
    })?;
    write_file(&dir.join("run.json"), |out| {
        serde_json::to_writer_pretty(&mut *out, record).map_err(std::io::Error::other)?;
        out.write_all(b"\n")
    })
}
