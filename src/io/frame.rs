//! Reading any table (CSV or Parquet, by extension) as columns of numbers or text, for the
//! generic analysis commands. Types are inferred by polars; a missing cell is NaN (numbers)
//! or [`Categories::MISSING`] (categories).

use std::path::Path;

use polars::prelude::*;

use super::reader::Format;
use crate::error::{Error, Result};

/// The columns of a table an analysis uses, read whole.
pub struct Frame {
    path: std::path::PathBuf,
    frame: DataFrame,
}

impl Frame {
    /// Reads the columns `wanted` of `path`, those of them it has (one it lacks is reported
    /// when asked for): a registry extract's other columns, often hundreds, are not parsed.
    pub fn read_columns(path: &Path, wanted: &[&str]) -> Result<Self> {
        let mut columns: Vec<String> = Vec::new();
        for w in wanted {
            if !columns.iter().any(|c| c == w) {
                columns.push(w.to_string());
            }
        }
        let frame = match Format::from_path(path)? {
            Format::Parquet => {
                let polars_error = |e: PolarsError| Error::Parquet {
                    path: path.to_path_buf(),
                    message: e.to_string(),
                };
                let file = std::fs::File::open(path).map_err(|source| Error::Read {
                    path: path.to_path_buf(),
                    source,
                })?;
                let mut reader = ParquetReader::new(file);
                let schema = reader.schema().map_err(polars_error)?;
                columns.retain(|c| schema.contains(c));
                reader
                    .with_columns(Some(columns))
                    .finish()
                    .map_err(polars_error)?
            }
            Format::Csv => {
                // A file that cannot be opened is said so, not as a CSV error.
                std::fs::File::open(path).map_err(|source| Error::Read {
                    path: path.to_path_buf(),
                    source,
                })?;
                let read = |columns: Option<Arc<[PlSmallStr]>>| {
                    CsvReadOptions::default()
                        .with_infer_schema_length(Some(10_000))
                        .with_columns(columns)
                        .try_into_reader_with_file_path(Some(path.to_path_buf()))
                        .and_then(|r| r.finish())
                };
                // Polars refuses a projection naming a column the file lacks: the whole file
                // is then read, and asking for the column names it.
                let projection = columns
                    .iter()
                    .map(|c| PlSmallStr::from(c.as_str()))
                    .collect();
                read(Some(projection))
                    .or_else(|_| read(None))
                    .map_err(|e| Error::CsvTable {
                        path: path.to_path_buf(),
                        message: e.to_string(),
                    })?
            }
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

    fn polars_error(&self, e: PolarsError) -> Error {
        Error::Parquet {
            path: self.path.clone(),
            message: e.to_string(),
        }
    }

    /// A column as numbers (booleans as 0/1); a missing cell, or text that is not a number,
    /// is NaN (8 bytes a row: a 10-million-row column is 80 MB).
    pub fn numbers(&self, name: &str) -> Result<Vec<f64>> {
        let column = self.column(name, "a numeric column")?;
        let cast = column
            .cast(&DataType::Float64)
            .map_err(|e| self.polars_error(e))?;
        let values = cast.f64().map_err(|e| self.polars_error(e))?;
        let mut numbers = Vec::with_capacity(values.len());
        each_value(values, |_, v| {
            numbers.push(v.filter(|x| x.is_finite()).unwrap_or(f64::NAN));
        });
        Ok(numbers)
    }

    /// The cells of a text column that [`Frame::numbers`] reads as missing although they
    /// hold text (not a number); `None` for a numeric column or when there are none.
    pub fn not_numbers(&self, name: &str) -> Result<Option<NotNumbers>> {
        let column = self.column(name, "a numeric column")?;
        if column.dtype() != &DataType::String {
            return Ok(None);
        }
        let cast = column
            .cast(&DataType::Float64)
            .map_err(|e| self.polars_error(e))?;
        let numbers = cast.f64().map_err(|e| self.polars_error(e))?;
        let text = column.str().map_err(|e| self.polars_error(e))?;
        let mut found: Option<NotNumbers> = None;
        for (row, (text, number)) in text.iter().zip(numbers.iter()).enumerate() {
            let Some(text) = text.filter(|t| !t.trim().is_empty() && number.is_none()) else {
                continue;
            };
            match &mut found {
                Some(f) => f.count += 1,
                None => {
                    found = Some(NotNumbers {
                        count: 1,
                        first_row: row,
                        first_text: text.to_string(),
                    })
                }
            }
        }
        Ok(found)
    }

    /// A column as categories: its distinct values (numbers in numeric order, text in byte
    /// order; named as polars prints them) and each row's code, without a string per row.
    pub fn categories(&self, name: &str) -> Result<Categories> {
        let column = self.column(name, "a column")?;
        let n = column.len();
        let mut codes = vec![Categories::MISSING; n];
        if column.dtype().is_primitive_numeric() {
            let cast = column
                .cast(&DataType::Float64)
                .map_err(|e| self.polars_error(e))?;
            let values = cast.f64().map_err(|e| self.polars_error(e))?;
            // Provisional codes in order of appearance, keyed by the value's bits (−0 as 0).
            let mut seen: foldhash::HashMap<u64, u32> = Default::default();
            let mut distinct: Vec<(f64, usize)> = Vec::new();
            each_value(values, |row, v| {
                let Some(v) = v.filter(|x| !x.is_nan()) else {
                    return;
                };
                let v = if v == 0.0 { 0.0 } else { v };
                let next = distinct.len() as u32;
                codes[row] = *seen.entry(v.to_bits()).or_insert_with(|| {
                    distinct.push((v, row));
                    next
                });
            });
            let mut order: Vec<usize> = (0..distinct.len()).collect();
            order.sort_by(|&a, &b| distinct[a].0.total_cmp(&distinct[b].0));
            // Names as polars prints the original values (integers without ".0").
            let first_rows: Vec<IdxSize> =
                order.iter().map(|&k| distinct[k].1 as IdxSize).collect();
            let named = column
                .take(&IdxCa::from_vec("rows".into(), first_rows))
                .and_then(|c| c.cast(&DataType::String))
                .map_err(|e| self.polars_error(e))?;
            let names = named.str().map_err(|e| self.polars_error(e))?;
            let levels = names
                .iter()
                .map(|v| v.unwrap_or_default().to_string())
                .collect();
            Ok(Categories::renumbered(levels, &order, codes))
        } else {
            let cast = column
                .cast(&DataType::String)
                .map_err(|e| self.polars_error(e))?;
            let values = cast.str().map_err(|e| self.polars_error(e))?;
            let mut seen: foldhash::HashMap<&str, u32> = Default::default();
            let mut distinct: Vec<&str> = Vec::new();
            for (row, v) in values.iter().enumerate() {
                let Some(v) = v.filter(|s| !s.is_empty()) else {
                    continue;
                };
                let next = distinct.len() as u32;
                let code = *seen.entry(v).or_insert_with(|| {
                    distinct.push(v);
                    next
                });
                codes[row] = code;
            }
            let mut order: Vec<usize> = (0..distinct.len()).collect();
            order.sort_by(|&a, &b| distinct[a].cmp(distinct[b]));
            let levels = order.iter().map(|&k| distinct[k].to_string()).collect();
            Ok(Categories::renumbered(levels, &order, codes))
        }
    }
}

/// Hands each row's value (`None` for a null) to `each`, in row order, chunk by chunk (polars
/// parses a CSV in several): a chunk without nulls, the usual case, is read as a plain slice
/// with no validity check per value.
fn each_value(values: &Float64Chunked, mut each: impl FnMut(usize, Option<f64>)) {
    let mut row = 0;
    for array in values.downcast_iter() {
        if array.validity().is_none_or(|v| v.unset_bits() == 0) {
            for &v in array.values().iter() {
                each(row, Some(v));
                row += 1;
            }
        } else {
            for v in array.iter() {
                each(row, v.copied());
                row += 1;
            }
        }
    }
}

/// Text that is not a number in a column read as numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct NotNumbers {
    /// Cells holding such text.
    pub count: usize,
    /// The first one's row (0-based, header not counted).
    pub first_row: usize,
    /// The first one's text.
    pub first_text: String,
}

/// A column read as categories.
#[derive(Debug, Clone, PartialEq)]
pub struct Categories {
    /// Distinct values in sorted order.
    pub levels: Vec<String>,
    /// Each row's index into `levels`, or [`Categories::MISSING`].
    pub codes: Vec<u32>,
}

impl Categories {
    /// The code of a missing cell.
    pub const MISSING: u32 = u32::MAX;

    /// `order[k]` is the provisional code of the k-th level in sorted order.
    fn renumbered(levels: Vec<String>, order: &[usize], mut codes: Vec<u32>) -> Self {
        let mut final_code = vec![0u32; order.len()];
        for (k, &provisional) in order.iter().enumerate() {
            final_code[provisional] = k as u32;
        }
        for c in codes.iter_mut().filter(|c| **c != Self::MISSING) {
            *c = final_code[*c as usize];
        }
        Self { levels, codes }
    }
}
