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

/// One typed column of a result table, built straight from an iterator of values (`None` is
/// null) into columnar memory: no per-cell allocation, no intermediate vector.
#[derive(Debug, Clone)]
pub struct OutputColumn(Column);

impl OutputColumn {
    /// Floating point.
    pub fn float(name: &str, values: impl Iterator<Item = Option<f64>>) -> Self {
        Self(Float64Chunked::from_iter_options(name.into(), values).into_column())
    }
    /// Whole numbers.
    pub fn int(name: &str, values: impl Iterator<Item = Option<i64>>) -> Self {
        Self(Int64Chunked::from_iter_options(name.into(), values).into_column())
    }
    /// Booleans.
    pub fn boolean(name: &str, values: impl Iterator<Item = Option<bool>>) -> Self {
        Self(BooleanChunked::from_iter_options(name.into(), values).into_column())
    }
    /// Text (vocabulary values, identifiers, lists).
    pub fn text<S: AsRef<str>>(name: &str, values: impl Iterator<Item = Option<S>>) -> Self {
        Self(StringChunked::from_iter_options(name.into(), values).into_column())
    }
    /// Calendar dates.
    pub fn date(name: &str, values: impl Iterator<Item = Option<NaiveDate>>) -> Self {
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
        let days = values.map(|d| d.map(|d| (d - epoch).num_days() as i32));
        Self(
            Int32Chunked::from_iter_options(name.into(), days)
                .into_date()
                .into_column(),
        )
    }
    /// The column's name.
    pub fn name(&self) -> &str {
        self.0.name()
    }
}

/// A result table: named typed columns of equal length, plus metadata for Parquet.
#[derive(Debug, Clone, Default)]
pub struct OutputTable {
    columns: Vec<OutputColumn>,
    metadata: Vec<(String, String)>,
}

impl OutputTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a column.
    pub fn push(&mut self, column: OutputColumn) {
        self.columns.push(column);
    }

    /// Adds a key-value pair to the Parquet file's metadata.
    pub fn add_metadata(&mut self, key: &str, value: String) {
        self.metadata.push((key.to_string(), value));
    }

    /// Column names, in order.
    pub fn names(&self) -> Vec<&str> {
        self.columns.iter().map(OutputColumn::name).collect()
    }

    /// Number of rows.
    pub fn height(&self) -> usize {
        self.columns.first().map_or(0, |c| c.0.len())
    }

    /// Writes the table to `path` in `format`.
    pub fn write(self, path: &Path, format: OutputFormat) -> Result<()> {
        let height = self.height();
        let write_err = |message: String| Error::Write {
            path: path.to_path_buf(),
            source: std::io::Error::other(message),
        };
        let columns: Vec<Column> = self.columns.into_iter().map(|c| c.0).collect();
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
                // LZ4 writes several times faster than zstd for a modestly larger file.
                ParquetWriter::new(&mut out)
                    .with_compression(ParquetCompression::Lz4Raw)
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
