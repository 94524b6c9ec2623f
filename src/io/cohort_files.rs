//! Locating a cohort's table files: a directory holding `patients.csv|parquet` and optionally
//! `events.*` and `labs.*`, or files named one by one.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The files of one cohort.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CohortFiles {
    /// Patients table (required).
    pub patients: PathBuf,
    /// Events table, if any.
    pub events: Option<PathBuf>,
    /// Labs table, if any.
    pub labs: Option<PathBuf>,
}

const EXTENSIONS: [&str; 3] = ["csv", "parquet", "pq"];

/// The one `NAME.csv|parquet|pq` in `dir`, if any; an error if several.
fn find_table(dir: &Path, name: &str) -> Result<Option<PathBuf>> {
    let found: Vec<PathBuf> = EXTENSIONS
        .iter()
        .map(|ext| dir.join(format!("{name}.{ext}")))
        .filter(|p| p.is_file())
        .collect();
    match found.len() {
        0 => Ok(None),
        1 => Ok(found.into_iter().next()),
        _ => Err(Error::Cohort {
            path: dir.to_path_buf(),
            message: format!(
                "holds more than one {name} table ({}); keep one or name it with --{name}",
                found
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }),
    }
}

impl CohortFiles {
    /// Resolves a cohort from an optional directory and optional per-table overrides.
    pub fn resolve(
        dir: Option<&Path>,
        patients: Option<&Path>,
        events: Option<&Path>,
        labs: Option<&Path>,
    ) -> Result<Self> {
        let (mut found_patients, mut found_events, mut found_labs) = (None, None, None);
        if let Some(dir) = dir {
            if !dir.is_dir() {
                return Err(Error::Cohort {
                    path: dir.to_path_buf(),
                    message: "not a directory: name a cohort directory holding patients.csv or patients.parquet, or use --patients".into(),
                });
            }
            found_patients = find_table(dir, "patients")?;
            found_events = find_table(dir, "events")?;
            found_labs = find_table(dir, "labs")?;
        }
        let patients = patients
            .map(Path::to_path_buf)
            .or(found_patients)
            .ok_or_else(|| Error::Cohort {
                path: dir.map_or_else(|| PathBuf::from("."), Path::to_path_buf),
                message: "no patients table: expected patients.csv or patients.parquet in the cohort directory, or --patients FILE".into(),
            })?;
        Ok(Self {
            patients,
            events: events.map(Path::to_path_buf).or(found_events),
            labs: labs.map(Path::to_path_buf).or(found_labs),
        })
    }
}
