//! The commands the binary exposes, as library functions: each takes a checked configuration,
//! runs the stages, writes its outputs and returns an outcome the CLI maps to an exit code.
//! Shared here: the quality gate and the run record (`run.json`).

pub mod classify;
pub mod run;
pub mod survival;
pub mod validate;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::ingest::{Ingested, InputFile, TableBalance};
use crate::io::reader::sha256_file;
use crate::io::OutputFormat;
use crate::schema::reject::{count_by_reason, write_rejected_csv};
use crate::schema::Table;
use crate::study::StudySettings;

/// The default cap on any table's rejected share.
pub const DEFAULT_MAX_REJECTED_SHARE: f64 = 0.05;

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

/// A settings file as recorded in run.json.
#[derive(Debug, Clone, Serialize)]
pub struct SettingsFile {
    /// Path as given.
    pub path: PathBuf,
    /// SHA-256 of the file.
    pub sha256: String,
}

impl SettingsFile {
    /// Fingerprints `path`, if given.
    pub fn of(path: Option<&Path>) -> Result<Option<Self>> {
        path.map(|p| {
            Ok(Self {
                path: p.to_path_buf(),
                sha256: sha256_file(p)?,
            })
        })
        .transpose()
    }
}

/// The study settings in force, as recorded in run.json.
#[derive(Debug, Clone, Serialize)]
pub struct StudyRecord {
    /// The study file, if one was given (else every setting is the default).
    pub file: Option<SettingsFile>,
    /// Every setting, defaults included.
    pub settings: StudySettings,
}

/// Settings in force, as recorded in run.json.
#[derive(Debug, Clone, Serialize)]
pub struct RunSettings {
    /// The mapping applied, if any.
    pub mapping: Option<SettingsFile>,
    /// Cap on the rejected share of any table.
    pub max_rejected_share: f64,
    /// The study settings (commands that classify or analyse).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub study: Option<StudyRecord>,
    /// Format of the result tables (commands that write tables).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_format: Option<OutputFormat>,
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
    pub settings: RunSettings,
    /// Row balance per table.
    pub tables: Vec<TableRecord>,
    /// The quality gate's verdict.
    pub quality_gate: QualityGate,
    /// Files written in the output directory, besides run.json.
    pub outputs: Vec<String>,
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

/// Writes `path` through a buffered writer, naming the file on failure.
pub fn write_file(
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

/// Creates the output directory.
pub fn create_out_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Write {
        path: dir.to_path_buf(),
        source,
    })
}

/// Writes `DIR/rejected.csv`.
pub fn write_rejected(dir: &Path, ingested: &Ingested) -> Result<()> {
    write_file(&dir.join("rejected.csv"), |out| {
        write_rejected_csv(&ingested.rejections, out)
    })
}

/// Writes `DIR/rejected.csv` and `DIR/run.json`.
pub fn write_rejected_and_record(
    dir: &Path,
    ingested: &Ingested,
    record: &RunRecord,
) -> Result<()> {
    write_rejected(dir, ingested)?;
    write_json(&dir.join("run.json"), record)
}

/// Writes `value` as pretty JSON with a final newline.
pub fn write_json(path: &Path, value: &impl Serialize) -> Result<()> {
    write_file(path, |out| {
        serde_json::to_writer_pretty(&mut *out, value).map_err(std::io::Error::other)?;
        out.write_all(b"\n")
    })
}
