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
        let mut numbers = Vec::with_capacity(column.len());
        each_chunk(column, &mut numbers).map_err(|e| self.polars_error(e))?;
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
            let mut coder = NumberCoder {
                codes: &mut codes,
                row: 0,
                small: [Categories::MISSING; SMALL_CODES],
                seen: Default::default(),
                distinct: Vec::new(),
            };
            each_chunk(column, &mut coder).map_err(|e| self.polars_error(e))?;
            let distinct = coder.distinct;
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

/// Whole numbers below this are coded by [`Frame::categories`] through a table.
const SMALL_CODES: usize = 256;

/// A number as [`Frame::numbers`] gives it: infinities (which polars parses from "inf") are
/// missing, as non-numbers are.
fn finite_or_nan(v: f64) -> f64 {
    if v.is_finite() {
        v
    } else {
        f64::NAN
    }
}

/// What is done with each chunk of a numeric column ([`each_chunk`]), its values as `f64`.
trait ChunkVisitor {
    /// A chunk without nulls (the usual case): plain values, no validity check per value.
    fn whole(&mut self, values: impl Iterator<Item = f64>);
    /// A chunk with nulls (`None`).
    fn with_nulls(&mut self, values: impl Iterator<Item = Option<f64>>);
}

/// [`Frame::numbers`]: the values appended, a null or a non-finite value as NaN.
impl ChunkVisitor for Vec<f64> {
    fn whole(&mut self, values: impl Iterator<Item = f64>) {
        self.extend(values.map(finite_or_nan));
    }

    fn with_nulls(&mut self, values: impl Iterator<Item = Option<f64>>) {
        self.extend(values.map(|v| v.map_or(f64::NAN, finite_or_nan)));
    }
}

/// Hands the chunks of a numeric column (polars parses a CSV in several) to `visitor` in row
/// order. 64-bit floats and integers (what polars infers from a CSV) are read in place; other
/// types are cast first.
fn each_chunk(column: &Column, visitor: &mut impl ChunkVisitor) -> PolarsResult<()> {
    match column.dtype() {
        DataType::Float64 => each_chunk_of(column.f64()?, |v| v, visitor),
        // As polars' cast converts (round to nearest beyond 2^53).
        DataType::Int64 => each_chunk_of(column.i64()?, |v| v as f64, visitor),
        _ => {
            let cast = column.cast(&DataType::Float64)?;
            each_chunk_of(cast.f64()?, |v| v, visitor)
        }
    }
    Ok(())
}

/// [`each_chunk`] for one numeric type, `to_f64` converting its values.
fn each_chunk_of<T: PolarsNumericType>(
    values: &ChunkedArray<T>,
    to_f64: impl Fn(T::Native) -> f64 + Copy,
    visitor: &mut impl ChunkVisitor,
) {
    for array in values.downcast_iter() {
        if array.validity().is_none_or(|v| v.unset_bits() == 0) {
            visitor.whole(array.values().iter().map(|&v| to_f64(v)));
        } else {
            visitor.with_nulls(array.iter().map(|v| v.map(|&v| to_f64(v))));
        }
    }
}

/// [`Frame::categories`] of a numeric column: each row's provisional code, in order of first
/// appearance, keyed by the value's bits (−0 as 0); small whole numbers (the usual codes: 0/1,
/// group numbers) through a table instead of the hash map.
struct NumberCoder<'a> {
    codes: &'a mut [u32],
    /// Next row.
    row: usize,
    small: [u32; SMALL_CODES],
    seen: foldhash::HashMap<u64, u32>,
    /// Each distinct value with the first row holding it.
    distinct: Vec<(f64, usize)>,
}

impl NumberCoder<'_> {
    fn code(&mut self, v: f64) {
        let (row, next) = (self.row, self.distinct.len() as u32);
        let small_index = v as usize; // saturating: a negative number gives 0
        self.codes[row] = if small_index < SMALL_CODES && small_index as f64 == v {
            let code = &mut self.small[small_index];
            if *code == Categories::MISSING {
                *code = next;
                self.distinct.push((v, row));
            }
            *code
        } else {
            let v = if v == 0.0 { 0.0 } else { v };
            *self.seen.entry(v.to_bits()).or_insert_with(|| {
                self.distinct.push((v, row));
                next
            })
        };
    }
}

impl ChunkVisitor for NumberCoder<'_> {
    fn whole(&mut self, values: impl Iterator<Item = f64>) {
        for v in values {
            if !v.is_nan() {
                self.code(v);
            }
            self.row += 1;
        }
    }

    fn with_nulls(&mut self, values: impl Iterator<Item = Option<f64>>) {
        for v in values {
            if let Some(v) = v.filter(|v| !v.is_nan()) {
                self.code(v);
            }
            self.row += 1;
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A frame read from CSV text (polars infers the types: integers, floats, text).
    fn frame(csv: &str) -> (tempfile::TempDir, Frame) {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("table.csv");
        std::fs::write(&path, csv).expect("write CSV");
        let frame = Frame::read_columns(&path, &["whole", "real", "code"]).expect("read");
        (dir, frame)
    }

    fn same(a: &[f64], b: &[f64]) -> bool {
        a.len() == b.len()
            && a.iter()
                .zip(b)
                .all(|(x, y)| x == y || (x.is_nan() && y.is_nan()))
    }

    #[test]
    fn numbers_from_integer_and_float_columns_with_missing_cells() {
        let (_dir, f) = frame("whole,real,code\n3,1.5,a\n,-0.25,b\n-7,inf,\n9007199254740993,,c\n");
        // 2^53 + 1 has no f64: rounded to nearest, as polars' cast does.
        let whole = f.numbers("whole").unwrap();
        assert!(
            same(&whole, &[3.0, f64::NAN, -7.0, 9007199254740992.0]),
            "{whole:?}"
        );
        // Infinity and empty cells are missing.
        let real = f.numbers("real").unwrap();
        assert!(same(&real, &[1.5, -0.25, f64::NAN, f64::NAN]), "{real:?}");
    }

    #[test]
    fn numeric_categories_small_whole_numbers_and_others_in_numeric_order() {
        // Small whole numbers go through the table, the others (negative, fractional, large)
        // through the hash map; −0 is 0; levels sorted by value, named as polars prints them.
        let csv = "whole,real,code\n\
                   1,0.0,x\n300,2.5,x\n,-0.0,x\n-2,,x\n1,1e300,x\n0,2.5,x\n300,-1.5,x\n";
        let (_dir, f) = frame(csv);
        let whole = f.categories("whole").unwrap();
        assert_eq!(whole.levels, ["-2", "0", "1", "300"]);
        let m = Categories::MISSING;
        assert_eq!(whole.codes, [2, 3, m, 0, 2, 1, 3]);
        let real = f.categories("real").unwrap();
        assert_eq!(real.levels, ["-1.5", "0.0", "2.5", "1e+300"]);
        assert_eq!(real.codes, [1, 2, 1, m, 3, 2, 0]);
    }
}
