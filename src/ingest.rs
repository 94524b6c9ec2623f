//! Ingest: read a cohort's files and validate every row into a typed [`Cohort`], keeping every
//! rejected row with its reasons, so that rows read = rows accepted + rows rejected per table.
//!
//! Each table streams: a reader thread parses chunks while the validator checks the previous
//! chunk's rows in parallel (rayon); results keep source order whatever the scheduling. Files
//! are opened and their headers checked before any row is read, so a missing column stops the
//! run (exit 2) before work is done.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::sync::mpsc::sync_channel;

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::io::{CohortFiles, FileFingerprint, LoadedMapping, RawChunk, TableLayout, TableReader};
use crate::schema::columns::{ColumnSpec, EventColumn, LabColumn, PatientColumn};
use crate::schema::validate::{
    validate_event, validate_lab, validate_patient, PatientIndex, UnitDefaults,
};
use crate::schema::{Cohort, Patients, Reason, Rejection, Table};

/// Rows read, accepted and rejected for one table.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TableBalance {
    /// Which table.
    pub table: Table,
    /// Records read from the file (header excluded).
    pub rows_read: u64,
    /// Records in the validated cohort.
    pub rows_accepted: u64,
    /// Records rejected (each counted once, whatever the number of rules it broke).
    pub rows_rejected: u64,
}

impl TableBalance {
    /// Rejected share of the rows read (0 for an empty table).
    pub fn rejected_share(&self) -> f64 {
        if self.rows_read == 0 {
            0.0
        } else {
            self.rows_rejected as f64 / self.rows_read as f64
        }
    }
}

/// An input file of the run.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct InputFile {
    /// Which table it holds.
    pub table: Table,
    /// Path, format, size and SHA-256.
    #[serde(flatten)]
    pub file: FileFingerprint,
}

/// The outcome of ingesting a cohort.
#[derive(Debug, Clone)]
pub struct Ingested {
    /// The accepted rows, typed.
    pub cohort: Cohort,
    /// Every broken rule of every rejected row, ordered by table, then line.
    pub rejections: Vec<Rejection>,
    /// Row balance per table present.
    pub balance: Vec<TableBalance>,
    /// The files read.
    pub inputs: Vec<InputFile>,
}

/// An opened table with its layout checked against the contract.
struct OpenTable {
    reader: TableReader,
    layout: TableLayout,
}

fn open_table(
    path: &Path,
    specs: &[ColumnSpec],
    names: &[&str],
    mapping: &crate::io::TableMapping,
    optional_columns: &[&str],
) -> Result<OpenTable> {
    let reader = TableReader::open(path)?;
    let layout = TableLayout::new(path, reader.header(), names, mapping)?;
    for (i, spec) in specs.iter().enumerate() {
        if spec.required && !layout.has(i) && !optional_columns.contains(&spec.name) {
            return Err(Error::MissingColumn {
                path: path.to_path_buf(),
                column: spec.name.to_string(),
                expected: spec.expected.to_string(),
            });
        }
    }
    Ok(OpenTable { reader, layout })
}

/// Streams a table through `validate`, handing each chunk's outcomes, in source order, to
/// `accept`. Returns the file's fingerprint and the number of records read.
fn stream_table<T: Send>(
    table: OpenTable,
    validate: impl Fn(&TableLayout, &RawChunk, usize) -> std::result::Result<T, Vec<Rejection>> + Sync,
    mut accept: impl FnMut(Vec<std::result::Result<T, Vec<Rejection>>>),
) -> Result<(FileFingerprint, u64)> {
    let OpenTable { mut reader, layout } = table;
    let (sender, receiver) = sync_channel::<Result<RawChunk>>(2);
    std::thread::scope(|scope| {
        let producer = scope.spawn(move || {
            loop {
                match reader.next_chunk() {
                    Ok(Some(chunk)) => {
                        if sender.send(Ok(chunk)).is_err() {
                            break;
                        }
                    }
                    Ok(None) => break,
                    Err(e) => {
                        let _ = sender.send(Err(e));
                        break;
                    }
                }
            }
            let read = reader.records_read();
            reader.finish().map(|fingerprint| (fingerprint, read))
        });
        let mut failure = None;
        for chunk in receiver {
            match chunk {
                Ok(chunk) => {
                    let outcomes = (0..chunk.len())
                        .into_par_iter()
                        .with_min_len(512)
                        .map(|row| validate(&layout, &chunk, row))
                        .collect();
                    accept(outcomes);
                }
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        let finished = producer
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        match failure {
            Some(e) => Err(e),
            None => finished,
        }
    })
}

/// Source-line → raw JSON for the given records of a table, by reading the file again. Used
/// only for rows found invalid after they were accepted (duplicate ids), a rare path.
fn reread_raw(
    path: &Path,
    layout: &TableLayout,
    lines: &BTreeSet<u64>,
) -> Result<HashMap<u64, String>> {
    let mut reader = TableReader::open(path)?;
    let mut found = HashMap::new();
    while found.len() < lines.len() {
        let Some(chunk) = reader.next_chunk()? else {
            break;
        };
        for row in 0..chunk.len() {
            if lines.contains(&chunk.line(row)) {
                found.insert(chunk.line(row), layout.raw_json(&chunk, row));
            }
        }
    }
    Ok(found)
}

/// Reads and validates a cohort.
pub fn ingest(files: &CohortFiles, mapping: &LoadedMapping) -> Result<Ingested> {
    let units = UnitDefaults::from_mapping(mapping)?;
    let m = &mapping.mapping;
    // Labs may omit the unit column when the mapping gives every analyte's unit.
    let lab_unit_optional: &[&str] = if units.lab.iter().all(Option::is_some) {
        &["unit"]
    } else {
        &[]
    };
    let patients_table = open_table(
        &files.patients,
        PatientColumn::SPECS,
        PatientColumn::NAMES,
        &m.patients,
        &[],
    )?;
    let events_table = files
        .events
        .as_deref()
        .map(|p| open_table(p, EventColumn::SPECS, EventColumn::NAMES, &m.events, &[]))
        .transpose()?;
    let labs_table = files
        .labs
        .as_deref()
        .map(|p| {
            open_table(
                p,
                LabColumn::SPECS,
                LabColumn::NAMES,
                &m.labs,
                lab_unit_optional,
            )
        })
        .transpose()?;

    let mut rejections = Vec::new();
    let mut balance = Vec::new();
    let mut inputs = Vec::new();

    // Patients.
    let patient_layout = patients_table.layout.clone();
    let mut patients = Patients {
        extra_names: patient_layout.extra_names(),
        ..Patients::default()
    };
    let mut patient_rejections: Vec<Rejection> = Vec::new();
    let (fingerprint, read) = stream_table(
        patients_table,
        |layout, chunk, row| validate_patient(layout, chunk, row, &units),
        |outcomes| {
            for outcome in outcomes {
                match outcome {
                    Ok(record) => patients.push(record),
                    Err(mut r) => patient_rejections.append(&mut r),
                }
            }
        },
    )?;
    let duplicates = reject_duplicate_ids(
        &fingerprint.path,
        &patient_layout,
        &mut patients,
        &mut patient_rejections,
    )?;
    let rejected_lines: BTreeSet<u64> = patient_rejections.iter().map(|r| r.line).collect();
    balance.push(TableBalance {
        table: Table::Patients,
        rows_read: read,
        rows_accepted: patients.len() as u64,
        rows_rejected: rejected_lines.len() as u64,
    });
    debug_assert!(duplicates <= rejected_lines.len());
    inputs.push(InputFile {
        table: Table::Patients,
        file: fingerprint,
    });
    let index = PatientIndex::new(
        &patients,
        patient_rejections
            .iter()
            .map(|r| r.patient_id.as_str())
            .filter(|id| !id.is_empty()),
    );

    // Events.
    let mut events = crate::schema::Events::default();
    if let Some(table) = events_table {
        events.extra_names = table.layout.extra_names();
        let mut rows_rejected = 0;
        let (fingerprint, read) = stream_table(
            table,
            |layout, chunk, row| validate_event(layout, chunk, row, &index),
            |outcomes| {
                for outcome in outcomes {
                    match outcome {
                        Ok(record) => events.push(record),
                        Err(mut r) => {
                            rows_rejected += 1;
                            rejections.append(&mut r);
                        }
                    }
                }
            },
        )?;
        balance.push(TableBalance {
            table: Table::Events,
            rows_read: read,
            rows_accepted: events.len() as u64,
            rows_rejected,
        });
        inputs.push(InputFile {
            table: Table::Events,
            file: fingerprint,
        });
    }

    // Labs.
    let mut labs = crate::schema::Labs::default();
    if let Some(table) = labs_table {
        labs.extra_names = table.layout.extra_names();
        let mut rows_rejected = 0;
        let (fingerprint, read) = stream_table(
            table,
            |layout, chunk, row| validate_lab(layout, chunk, row, &index, &units),
            |outcomes| {
                for outcome in outcomes {
                    match outcome {
                        Ok(record) => labs.push(record),
                        Err(mut r) => {
                            rows_rejected += 1;
                            rejections.append(&mut r);
                        }
                    }
                }
            },
        )?;
        balance.push(TableBalance {
            table: Table::Labs,
            rows_read: read,
            rows_accepted: labs.len() as u64,
            rows_rejected,
        });
        inputs.push(InputFile {
            table: Table::Labs,
            file: fingerprint,
        });
    }
    drop(index);

    patient_rejections.append(&mut rejections);
    let mut rejections = patient_rejections;
    // Stable: rules of one record keep the order they were checked in.
    rejections.sort_by_key(|r| (r.table, r.line));
    Ok(Ingested {
        cohort: Cohort {
            patients,
            events,
            labs,
        },
        rejections,
        balance,
        inputs,
    })
}

/// Rejects every row of every patient_id that appears more than once (the extract must say
/// which is right), removing such rows from the accepted patients. Returns the number of rows
/// so rejected.
fn reject_duplicate_ids(
    path: &Path,
    layout: &TableLayout,
    patients: &mut Patients,
    rejections: &mut Vec<Rejection>,
) -> Result<usize> {
    // Each rejected row counted once: its rules share one line.
    let mut rejected_rows: Vec<(&str, u64)> = rejections
        .iter()
        .filter(|r| !r.patient_id.is_empty())
        .map(|r| (r.patient_id.as_str(), r.line))
        .collect();
    rejected_rows.dedup_by_key(|(_, line)| *line);
    let mut counts: HashMap<&str, u32> = HashMap::with_capacity(patients.len());
    for id in patients.patient_id.iter().map(String::as_str) {
        *counts.entry(id).or_default() += 1;
    }
    for (id, _) in &rejected_rows {
        *counts.entry(id).or_default() += 1;
    }
    let is_duplicate = |id: &str| counts.get(id).is_some_and(|&n| n > 1);
    if !counts.values().any(|&n| n > 1) {
        return Ok(0);
    }
    let message = |id: &str| {
        format!(
            "patient_id '{id}' appears on {} rows; every row of a duplicated id is rejected",
            counts[id]
        )
    };
    let mut new = Vec::new();
    // Rows already rejected for other reasons: their raw JSON is at hand.
    for (id, line) in &rejected_rows {
        if is_duplicate(id) {
            let raw = rejections
                .iter()
                .find(|r| r.line == *line)
                .map(|r| r.raw.clone())
                .unwrap_or_default();
            new.push(Rejection {
                table: Table::Patients,
                line: *line,
                patient_id: id.to_string(),
                column: layout.source_name(0).unwrap_or("patient_id").to_string(),
                reason: Reason::DuplicatePatientId,
                message: message(id),
                raw,
            });
        }
    }
    // Accepted rows: read their raw records again, then drop them.
    let keep: Vec<bool> = patients
        .patient_id
        .iter()
        .map(|id| !is_duplicate(id))
        .collect();
    let lines: BTreeSet<u64> = keep
        .iter()
        .zip(&patients.source_line)
        .filter(|(k, _)| !**k)
        .map(|(_, line)| *line)
        .collect();
    let raws = reread_raw(path, layout, &lines)?;
    for (i, id) in patients.patient_id.iter().enumerate() {
        if !keep[i] {
            let line = patients.source_line[i];
            new.push(Rejection {
                table: Table::Patients,
                line,
                patient_id: id.clone(),
                column: layout.source_name(0).unwrap_or("patient_id").to_string(),
                reason: Reason::DuplicatePatientId,
                message: message(id),
                raw: raws.get(&line).cloned().unwrap_or_default(),
            });
        }
    }
    let count = new.len();
    drop(counts);
    rejections.append(&mut new);
    patients.retain_rows(&keep);
    Ok(count)
}
