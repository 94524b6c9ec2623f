//! Writing result tables: typed columns → Parquet (with the run's settings as key-value
//! metadata) or CSV, through polars. Stages build an [`OutputTable`]; this module owns the
//! formats, so R, Python and spreadsheets all read the same columns.

use std::fs::File;
use std::path::Path;

use chrono::NaiveDate;
use polars::prelude::*;

use crate::error::{Error, Result};

/// File format of a result table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputFormat {
    /// Apache Parquet (typed; settings in the file's metadata).
    Parquet,
    /// Comma-separated text (dates ISO, booleans true/false, nulls empty).
    Csv,
}

impl OutputFormat {
    /// The file extension.
    pub fn extension(self) -> &'static str {
        match self {
            OutputFormat::Parquet => "parquet",
            OutputFormat::Csv => "csv",
        }
    }
}

/// One column's values, typed; `None` is null.
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    /// Free text.
    Text(Vec<Option<String>>),
    /// A vocabulary value (static spelling).
    Label(Vec<Option<&'static str>>),
    /// Floating point.
    Float(Vec<Option<f64>>),
    /// Whole numbers.
    Int(Vec<Option<i64>>),
    /// Booleans.
    Bool(Vec<Option<bool>>),
    /// Calendar dates.
    Date(Vec<Option<NaiveDate>>),
}

impl Values {
    fn len(&self) -> usize {
        match self {
            Values::Text(v) => v.len(),
            Values::Label(v) => v.len(),
            Values::Float(v) => v.len(),
            Values::Int(v) => v.len(),
            Values::Bool(v) => v.len(),
            Values::Date(v) => v.len(),
        }
    }

    fn into_column(self, name: &str) -> Column {
        let name: PlSmallStr = name.into();
        match self {
            Values::Text(v) => Column::new(name, v),
            Values::Label(v) => Column::new(name, v),
            Values::Float(v) => Column::new(name, v),
            Values::Int(v) => Column::new(name, v),
            Values::Bool(v) => Column::new(name, v),
            Values::Date(v) => {
                let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
                let days: Vec<Option<i32>> = v
                    .into_iter()
                    .map(|d| d.map(|d| (d - epoch).num_days() as i32))
                    .collect();
                Series::new(name, days).into_date().into()
            }
        }
    }
}

/// A result table: named typed columns of equal length, plus metadata for Parquet.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OutputTable {
    columns: Vec<(String, Values)>,
    metadata: Vec<(String, String)>,
}

impl OutputTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a column.
    pub fn push(&mut self, name: &str, values: Values) {
        self.columns.push((name.to_string(), values));
    }

    /// Adds a key-value pair to the Parquet file's metadata.
    pub fn add_metadata(&mut self, key: &str, value: String) {
        self.metadata.push((key.to_string(), value));
    }

    /// Column names, in order.
    pub fn names(&self) -> Vec<&str> {
        self.columns.iter().map(|(n, _)| n.as_str()).collect()
    }

    /// Number of rows.
    pub fn height(&self) -> usize {
        self.columns.first().map_or(0, |(_, v)| v.len())
    }

    /// Writes the table to `path` in `format`.
    pub fn write(self, path: &Path, format: OutputFormat) -> Result<()> {
        let height = self.height();
        let write_err = |message: String| Error::Write {
            path: path.to_path_buf(),
            source: std::io::Error::other(message),
        };
        let columns: Vec<Column> = self
            .columns
            .into_iter()
            .map(|(name, values)| values.into_column(&name))
            .collect();
        let mut frame = DataFrame::new(height, columns).map_err(|e| write_err(e.to_string()))?;
        let file = File::create(path).map_err(|source| Error::Write {
            path: path.to_path_buf(),
            source,
        })?;
        let mut out = std::io::BufWriter::new(file);
        match format {
            OutputFormat::Parquet => {
                let metadata = (!self.metadata.is_empty())
                    .then(|| KeyValueMetadata::from_static(self.metadata));
                ParquetWriter::new(&mut out)
                    .with_key_value_metadata(metadata)
                    .finish(&mut frame)
                    .map(|_| ())
            }
            OutputFormat::Csv => CsvWriter::new(&mut out)
                .include_header(true)
                .finish(&mut frame),
        }
        .map_err(|e| write_err(e.to_string()))?;
        std::io::Write::flush(&mut out).map_err(|source| Error::Write {
            path: path.to_path_buf(),
            source,
        })
    }
}
