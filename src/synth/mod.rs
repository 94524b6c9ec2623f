//! Calibrated synthetic registry cohorts (`bonemet synth`): patients, events and labs tables
//! that satisfy the input contract (docs/input-contract.md) and whose epidemiology follows the
//! published figures F1–F11 (docs/clinical-definitions.md), with known truth; optionally with
//! contract violations injected at a rate and recorded. The model is in [`model`], its
//! parameters in [`params`], the solved constants in
//! [`calibrate`]; docs/synthetic-cohort.md describes it.
//!
//! Generation streams in chunks: patients of a chunk are generated in parallel, each from its
//! own random stream, and written in order, so the bytes depend only on the arguments.

pub mod calibrate;
pub mod defects;
pub mod model;
pub mod params;
pub mod write;

use std::io::IsTerminal;
use std::path::PathBuf;

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::io::OutputFormat;
use defects::{inject, Defect};
use model::{Cell, Generated, Model, Rng, EVENT_COLUMNS, LAB_COLUMNS, PATIENT_COLUMNS};
use write::TableSink;

/// Patients generated per chunk.
pub const CHUNK_PATIENTS: u64 = 16_384;

/// What `synth` makes.
#[derive(Debug, Clone)]
pub struct SynthConfig {
    /// Number of patients.
    pub patients: u64,
    /// Random seed.
    pub seed: u64,
    /// Output directory.
    pub out_dir: PathBuf,
    /// CSV or Parquet.
    pub format: OutputFormat,
    /// Share of rows given a contract violation (0 to 1).
    pub defect_rate: f64,
    /// Show a progress bar on stderr (only when it is a terminal).
    pub progress: bool,
}

/// Rows written per table, and defects injected.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SynthSummary {
    /// bonemet's version.
    pub bonemet_version: &'static str,
    /// The seed.
    pub seed: u64,
    /// The format.
    pub format: OutputFormat,
    /// The defect rate.
    pub defect_rate: f64,
    /// Patients rows.
    pub patients: u64,
    /// Events rows.
    pub events: u64,
    /// Labs rows.
    pub labs: u64,
    /// Defects recorded (injected rows and the rows they take down).
    pub defects: u64,
}

/// A row kind per column, for typed Parquet: the first non-null cell seen of each column in
/// a representative generated patient set.
fn column_kinds(model: &Model, seed: u64) -> [Vec<Cell>; 3] {
    let mut patient = vec![Cell::Null; PATIENT_COLUMNS.len()];
    let mut event = vec![Cell::Null; EVENT_COLUMNS.len()];
    let mut lab = vec![Cell::Null; LAB_COLUMNS.len()];
    // Types are fixed by the model; scanning patients until every column has a value finds them.
    for index in 0..100_000u64 {
        let g = model.patient(seed, index);
        let fill = |kinds: &mut Vec<Cell>, row: &[Cell]| {
            for (k, c) in kinds.iter_mut().zip(row) {
                if matches!(k, Cell::Null) && !matches!(c, Cell::Null) {
                    *k = c.clone();
                }
            }
        };
        fill(&mut patient, &g.patient);
        for row in &g.events {
            fill(&mut event, row);
        }
        for row in &g.labs {
            fill(&mut lab, row);
        }
        let complete = |k: &Vec<Cell>| k.iter().all(|c| !matches!(c, Cell::Null));
        // visceral_mets_date is never generated: leave it text.
        if patient
            .iter()
            .enumerate()
            .all(|(i, c)| i == 16 || !matches!(c, Cell::Null))
            && complete(&event)
            && complete(&lab)
        {
            break;
        }
    }
    [patient, event, lab]
}

/// Generates a cohort into `config.out_dir`.
pub fn synthesize(config: &SynthConfig) -> Result<SynthSummary> {
    if !(0.0..=1.0).contains(&config.defect_rate) {
        return Err(Error::Setting {
            name: "--defect-rate".into(),
            message: format!("{} is not a share: expected 0 to 1", config.defect_rate),
        });
    }
    std::fs::create_dir_all(&config.out_dir).map_err(|source| Error::Write {
        path: config.out_dir.clone(),
        source,
    })?;
    let model = Model::default();
    let ext = config.format.extension();
    let typed = config.defect_rate == 0.0;
    let kinds = column_kinds(&model, config.seed);
    let dir = &config.out_dir;
    let mut patients = TableSink::create(
        &dir.join(format!("patients.{ext}")),
        &PATIENT_COLUMNS,
        config.format,
        typed,
    )?;
    let mut events = TableSink::create(
        &dir.join(format!("events.{ext}")),
        &EVENT_COLUMNS,
        config.format,
        typed,
    )?;
    let mut labs = TableSink::create(
        &dir.join(format!("labs.{ext}")),
        &LAB_COLUMNS,
        config.format,
        typed,
    )?;
    let mut defects: Vec<Defect> = Vec::new();
    let bar = if config.progress && std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(config.patients);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{prefix} [{bar:40}] {pos}/{len} patients, {per_sec}, eta {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar.set_prefix("synth");
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    let mut start = 0u64;
    while start < config.patients {
        let end = (start + CHUNK_PATIENTS).min(config.patients);
        let mut chunk: Vec<Generated> = (start..end)
            .into_par_iter()
            .map(|i| model.patient(config.seed, i))
            .collect();
        if config.defect_rate > 0.0 {
            record_defects(
                &mut chunk,
                start,
                config,
                &patients,
                &events,
                &labs,
                &mut defects,
            );
        }
        let patient_rows: Vec<&[Cell]> = chunk.iter().map(|g| g.patient.as_slice()).collect();
        let event_rows: Vec<&[Cell]> = chunk
            .iter()
            .flat_map(|g| g.events.iter().map(Vec::as_slice))
            .collect();
        let lab_rows: Vec<&[Cell]> = chunk
            .iter()
            .flat_map(|g| g.labs.iter().map(Vec::as_slice))
            .collect();
        patients.write(&patient_rows, &kinds[0])?;
        events.write(&event_rows, &kinds[1])?;
        labs.write(&lab_rows, &kinds[2])?;
        drop((patient_rows, event_rows, lab_rows));
        // Freeing a chunk's many small rows is work too: share it between the threads.
        chunk.into_par_iter().for_each(drop);
        bar.inc(end - start);
        start = end;
    }
    bar.finish_and_clear();
    let summary = SynthSummary {
        bonemet_version: env!("CARGO_PKG_VERSION"),
        seed: config.seed,
        format: config.format,
        defect_rate: config.defect_rate,
        patients: patients.rows(),
        events: events.rows(),
        labs: labs.rows(),
        defects: defects.len() as u64,
    };
    patients.finish()?;
    events.finish()?;
    labs.finish()?;
    if config.defect_rate > 0.0 {
        defects.sort();
        let path = dir.join("defects.csv");
        crate::commands::write_file(&path, |out| {
            let mut w = csv::Writer::from_writer(out);
            w.write_record(["table", "line", "column", "defect"])?;
            for d in &defects {
                w.write_record([d.table, &d.line.to_string(), d.column, d.kind])?;
            }
            w.flush()
        })?;
    }
    crate::commands::write_file(&dir.join("synth.json"), |out| {
        serde_json::to_writer_pretty(&mut *out, &summary).map_err(std::io::Error::other)?;
        std::io::Write::write_all(out, b"\n")
    })?;
    Ok(summary)
}

/// Injects defects into a chunk and records them with the rows they take down, at the line
/// numbers the rows will have once written.
fn record_defects(
    chunk: &mut [Generated],
    start: u64,
    config: &SynthConfig,
    patients: &TableSink,
    events: &TableSink,
    labs: &TableSink,
    defects: &mut Vec<Defect>,
) {
    // A duplicated id copies the previous row's id as written (after its own defect, if any).
    let mut injected = Vec::with_capacity(chunk.len());
    for k in 0..chunk.len() {
        let previous = (k > 0).then(|| write::cell_text(&chunk[k - 1].patient[0]));
        let mut rng = Rng::for_patient(config.seed ^ 0xDEFEC7, start + k as u64);
        injected.push(inject(
            &mut chunk[k],
            &mut rng,
            config.defect_rate,
            previous.as_deref(),
        ));
    }
    // A patient's rows fall with it; a duplicated id takes down the patient it copies too.
    let mut rejected = vec![false; chunk.len()];
    for (k, d) in injected.iter().enumerate() {
        if let Some((_, kind)) = d.patient {
            rejected[k] = true;
            if kind == "duplicate_patient_id" && k > 0 {
                rejected[k - 1] = true;
            }
        }
    }
    let (mut p_line, mut e_line, mut l_line) =
        (patients.next_line(), events.next_line(), labs.next_line());
    for (k, g) in chunk.iter().enumerate() {
        match injected[k].patient {
            Some((col, kind)) => defects.push(Defect {
                table: "patients",
                line: p_line,
                column: PATIENT_COLUMNS[col],
                kind,
            }),
            None if rejected[k] => defects.push(Defect {
                table: "patients",
                line: p_line,
                column: "patient_id",
                kind: "duplicate_patient_id",
            }),
            None => {}
        }
        let duplicated_away = matches!(injected[k].patient, Some((_, "duplicate_patient_id")));
        let cascade = if duplicated_away {
            "unknown_patient"
        } else {
            "patient_rejected"
        };
        for (rows, own, table, columns, line) in [
            (
                &g.events,
                &injected[k].events,
                "events",
                &EVENT_COLUMNS[..],
                &mut e_line,
            ),
            (
                &g.labs,
                &injected[k].labs,
                "labs",
                &LAB_COLUMNS[..],
                &mut l_line,
            ),
        ] {
            for own_defect in own.iter().take(rows.len()) {
                if let Some((col, kind)) = *own_defect {
                    defects.push(Defect {
                        table,
                        line: *line,
                        column: columns[col],
                        kind,
                    });
                }
                if rejected[k] {
                    defects.push(Defect {
                        table,
                        line: *line,
                        column: "patient_id",
                        kind: cascade,
                    });
                }
                *line += 1;
            }
        }
        p_line += 1;
    }
}
