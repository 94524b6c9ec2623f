//! Reading any table (CSV or Parquet, by extension) as columns of numbers or text, for the
//! generic analysis commands. Types are inferred by polars; a missing cell is `None`.

use std::path::Path;

use polars::prelude::*;

use super::reader::Format;
use crate::error::{Error, Result};

/// A table read whole.
pub struct Frame {
    path: std::path::PathBuf,
    frame: DataFrame,
}

impl Frame {
    /// Reads `path`.
    pub fn read(path: &Path) -> Result<Self> {
        let err = |e: PolarsError| Error::Parquet {
            path: path.to_path_buf(),
            message: e.to_string(),
        };
        let frame = match Format::from_path(path)? {
            Format::Parquet => {
                let file = std::fs::File::open(path).map_err(|source| Error::Read {
                    path: path.to_path_buf(),
                    source,
                })?;
                ParquetReader::new(file).finish().map_err(err)?
            }
            Format::Csv => CsvReadOptions::default()
                .with_infer_schema_length(Some(10_000))
                .try_into_reader_with_file_path(Some(path.to_path_buf()))
                .and_then(|r| r.finish())
                .map_err(|e| Error::Csv {
                    path: path.to_path_buf(),
                    line: 0,
                    message: e.to_string(),
                })?,
        };
        Ok(Self {
            path: path.to_path_buf(),
            frame,
        })
    }

    /// Rows.
    pub fn height(&self) -> usize {
        self.frame.height()
    }

    fn column(&self, name: &str, expected: &str) -> Result<&Column> {
        self.frame.column(name).map_err(|_| Error::MissingColumn {
            path: self.path.clone(),
            column: name.to_string(),
            expected: expected.to_string(),
        })
    }

    /// A column as numbers (booleans as 0/1); text that is not a number is missing.
    pub fn numbers(&self, name: &str) -> Result<Vec<Option<f64>>> {
        let column = self.column(name, "a numeric column")?;
        let cast = column
            .cast(&DataType::Float64)
            .map_err(|e| Error::Parquet {
                path: self.path.clone(),
                message: e.to_string(),
            })?;
        let values = cast.f64().map_err(|e| Error::Parquet {
            path: self.path.clone(),
            message: e.to_string(),
        })?;
        Ok(values.iter().map(|v| v.filter(|x| x.is_finite())).collect())
    }

    /// A column as text (numbers printed as polars prints them).
    pub fn text(&self, name: &str) -> Result<Vec<Option<String>>> {
        let column = self.column(name, "a column")?;
        let cast = column.cast(&DataType::String).map_err(|e| Error::Parquet {
            path: self.path.clone(),
            message: e.to_string(),
        })?;
        let values = cast.str().map_err(|e| Error::Parquet {
            path: self.path.clone(),
            message: e.to_string(),
        })?;
        Ok(values
            .iter()
            .map(|v| v.map(str::to_string).filter(|s| !s.is_empty()))
            .collect())
    }
}
