//! The mapping file (`--mapping FILE`, TOML): how a registry's own extract maps onto the input
//! contract without editing the data (docs/input-contract.md, "Column mapping"). Per table: `rename` source columns to contract names,
//! `recode` values of a column (matched trimmed and case-insensitively), and `units`, the
//! default unit of a measurement when its unit cell is empty.
//!
//! ```toml
//! [patients.rename]
//! "Patient ID" = "patient_id"
//! [patients.recode]
//! sex = { "1" = "m", "2" = "f" }
//! [patients.units]
//! calcium = "mg/dl"
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};

/// A whole mapping file.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// Free text: which registry and extract this mapping is for.
    #[serde(default)]
    pub description: Option<String>,
    /// Mapping of the patients table.
    #[serde(default)]
    pub patients: TableMapping,
    /// Mapping of the events table.
    #[serde(default)]
    pub events: TableMapping,
    /// Mapping of the labs table.
    #[serde(default)]
    pub labs: TableMapping,
}

/// How one table's columns and values map onto the contract.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TableMapping {
    /// Source column name → contract column name.
    #[serde(default)]
    pub rename: BTreeMap<String, String>,
    /// Contract column → (source value → contract value).
    #[serde(default)]
    pub recode: BTreeMap<String, BTreeMap<String, String>>,
    /// Measurement → default unit when the unit cell is empty (patients: `calcium`,
    /// `albumin`; labs: an analyte).
    #[serde(default)]
    pub units: BTreeMap<String, String>,
}

impl Mapping {
    /// Reads and parses a mapping file; TOML errors name the line and column.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
        toml::from_str(&text).map_err(|e| Error::Mapping {
            path: path.to_path_buf(),
            message: e.to_string().trim_end().to_string(),
        })
    }
}

/// A mapping together with the file it came from (for messages and run.json).
#[derive(Debug, Clone, Default)]
pub struct LoadedMapping {
    /// The file, when one was given.
    pub path: Option<PathBuf>,
    /// Its content (empty when no file was given).
    pub mapping: Mapping,
}

impl LoadedMapping {
    /// Loads `path`, or the empty mapping when `None`.
    pub fn load(path: Option<&Path>) -> Result<Self> {
        match path {
            None => Ok(Self::default()),
            Some(p) => Ok(Self {
                path: Some(p.to_path_buf()),
                mapping: Mapping::load(p)?,
            }),
        }
    }

    /// An error about this mapping's content.
    pub fn error(&self, message: String) -> Error {
        Error::Mapping {
            path: self
                .path
                .clone()
                .unwrap_or_else(|| PathBuf::from("<mapping>")),
            message,
        }
    }
}
