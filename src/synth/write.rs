//! Streaming writers for generated tables: CSV through the csv crate, Parquet through polars'
//! batched writer (typed columns; all text when defects are injected, since a defect is text
//! that breaks its column's type). Chunks are written in patient order, so bytes do not depend
//! on threads.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::model::Cell;
use crate::error::{Error, Result};
use crate::io::OutputFormat;

/// Appends a cell's text as the CSV contract writes it. Numbers are already rounded to their
/// decimals, so they print from a scaled integer (exact, and far cheaper than float formatting).
pub fn push_cell(out: &mut Vec<u8>, cell: &Cell) {
    use chrono::{Datelike, Timelike};
    use std::io::Write as _;
    // Writing to a Vec cannot fail.
    let _ = match cell {
        Cell::Null => Ok(()),
        Cell::Text(s) => {
            push_text(out, s);
            Ok(())
        }
        Cell::Label(s) => {
            push_text(out, s);
            Ok(())
        }
        Cell::PatientId(i) => write!(out, "S{i:08}"),
        Cell::Int(v) => write!(out, "{v}"),
        Cell::Num(v, 0) => write!(out, "{}", v.round() as i64),
        Cell::Num(v, decimals) => {
            let scale = 10i64.pow(u32::from(*decimals));
            let scaled = (v * scale as f64).round() as i64;
            let sign = if scaled < 0 { "-" } else { "" };
            let (int, frac) = (scaled.abs() / scale, scaled.abs() % scale);
            write!(
                out,
                "{sign}{int}.{frac:0width$}",
                width = usize::from(*decimals)
            )
        }
        Cell::Date(d) => write!(out, "{:04}-{:02}-{:02}", d.year(), d.month(), d.day()),
        Cell::DateTime(t) => write!(
            out,
            "{:04}-{:02}-{:02}T{:02}:{:02}",
            t.year(),
            t.month(),
            t.day(),
            t.hour(),
            t.minute()
        ),
        Cell::Bool(b) => write!(out, "{b}"),
    };
}

/// Appends text, quoted (RFC 4180) when it holds a delimiter, quote or line break.
fn push_text(out: &mut Vec<u8>, text: &str) {
    if text
        .bytes()
        .any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r'))
    {
        out.push(b'"');
        out.extend_from_slice(text.replace('"', "\"\"").as_bytes());
        out.push(b'"');
    } else {
        out.extend_from_slice(text.as_bytes());
    }
}

/// A cell's text (unquoted).
pub fn cell_text(cell: &Cell) -> String {
    match cell {
        Cell::Text(s) => s.clone(),
        Cell::Label(s) => (*s).to_string(),
        _ => {
            let mut out = Vec::new();
            push_cell(&mut out, cell);
            String::from_utf8_lossy(&out).into_owned()
        }
    }
}

/// Appends a CSV record.
fn push_record(out: &mut Vec<u8>, row: &[Cell]) {
    for (i, cell) in row.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_cell(out, cell);
    }
    out.push(b'\n');
}

enum Sink {
    Csv(BufWriter<File>),
    Parquet(Box<polars::io::parquet::write::BatchedWriter<BufWriter<File>>>),
}

/// One table being written.
pub struct TableSink {
    path: PathBuf,
    columns: &'static [&'static str],
    typed: bool,
    sink: Option<Sink>,
    rows: u64,
    format: OutputFormat,
}

fn write_err(path: &Path, message: impl ToString) -> Error {
    Error::Write {
        path: path.to_path_buf(),
        source: std::io::Error::other(message.to_string()),
    }
}

impl TableSink {
    /// Creates `path`; `typed` asks for typed Parquet columns (`sample` gives each column's type).
    pub fn create(
        path: &Path,
        columns: &'static [&'static str],
        format: OutputFormat,
        typed: bool,
    ) -> Result<Self> {
        let file = File::create(path).map_err(|source| Error::Write {
            path: path.to_path_buf(),
            source,
        })?;
        let sink = match format {
            OutputFormat::Csv => {
                let mut writer = BufWriter::new(file);
                std::io::Write::write_all(
                    &mut writer,
                    format!("{}\n", columns.join(",")).as_bytes(),
                )
                .map_err(|e| write_err(path, e))?;
                Some(Sink::Csv(writer))
            }
            // The Parquet writer needs the schema, known from the first chunk.
            OutputFormat::Parquet => None,
        };
        Ok(Self {
            path: path.to_path_buf(),
            columns,
            typed,
            sink,
            rows: 0,
            format,
        })
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// The source line (CSV, header = 1) or row number (Parquet) the next row will have.
    pub fn next_line(&self) -> u64 {
        self.rows
            + if self.format == OutputFormat::Csv {
                2
            } else {
                1
            }
    }

    /// The typed polars column of one column of rows.
    fn column(&self, index: usize, rows: &[&[Cell]], kind: &Cell) -> Column {
        let name: PlSmallStr = self.columns[index].into();
        let cells = rows.iter().map(|r| &r[index]);
        if !self.typed {
            let text = cells.map(|c| (!matches!(c, Cell::Null)).then(|| cell_text(c)));
            return StringChunked::from_iter_options(name, text).into_column();
        }
        match kind {
            Cell::Int(_) => Int64Chunked::from_iter_options(
                name,
                cells.map(|c| match c {
                    Cell::Int(v) => Some(*v),
                    _ => None,
                }),
            )
            .into_column(),
            Cell::Num(..) => Float64Chunked::from_iter_options(
                name,
                cells.map(|c| match c {
                    Cell::Num(v, _) => Some(*v),
                    _ => None,
                }),
            )
            .into_column(),
            Cell::Bool(_) => BooleanChunked::from_iter_options(
                name,
                cells.map(|c| match c {
                    Cell::Bool(v) => Some(*v),
                    _ => None,
                }),
            )
            .into_column(),
            Cell::Date(_) => {
                let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
                Int32Chunked::from_iter_options(
                    name,
                    cells.map(|c| match c {
                        Cell::Date(d) => Some((*d - epoch).num_days() as i32),
                        _ => None,
                    }),
                )
                .into_date()
                .into_column()
            }
            Cell::DateTime(_) => Int64Chunked::from_iter_options(
                name,
                cells.map(|c| match c {
                    Cell::DateTime(t) => Some(t.and_utc().timestamp_millis()),
                    _ => None,
                }),
            )
            .into_datetime(TimeUnit::Milliseconds, None)
            .into_column(),
            _ => StringChunked::from_iter_options(
                name,
                cells.map(|c| (!matches!(c, Cell::Null)).then(|| cell_text(c))),
            )
            .into_column(),
        }
    }

    /// Appends rows. `kinds` gives each column's cell kind (its type in typed Parquet). Rows
    /// are formatted (CSV) or columns built (Parquet) in parallel; bytes follow row order.
    pub fn write(&mut self, rows: &[&[Cell]], kinds: &[Cell]) -> Result<()> {
        use rayon::prelude::*;
        if rows.is_empty() {
            return Ok(());
        }
        if self.format == OutputFormat::Parquet && self.sink.is_none() {
            let frame = self.frame(rows, kinds)?;
            let file = File::create(&self.path).map_err(|source| Error::Write {
                path: self.path.clone(),
                source,
            })?;
            let writer = ParquetWriter::new(BufWriter::new(file))
                .with_compression(ParquetCompression::Lz4Raw)
                .batched(frame.schema())
                .map_err(|e| write_err(&self.path, e))?;
            self.sink = Some(Sink::Parquet(Box::new(writer)));
        }
        match &mut self.sink {
            Some(Sink::Csv(writer)) => {
                let blocks: Vec<Vec<u8>> = rows
                    .par_chunks(1024)
                    .map(|block| {
                        let mut out = Vec::with_capacity(block.len() * 128);
                        for row in block {
                            push_record(&mut out, row);
                        }
                        out
                    })
                    .collect();
                for block in blocks {
                    std::io::Write::write_all(writer, &block)
                        .map_err(|e| write_err(&self.path, e))?;
                }
            }
            Some(Sink::Parquet(_)) => {
                let frame = self.frame(rows, kinds)?;
                if let Some(Sink::Parquet(writer)) = &mut self.sink {
                    writer
                        .write_batch(&frame)
                        .map_err(|e| write_err(&self.path, e))?;
                }
            }
            None => return Err(write_err(&self.path, "writer not open")),
        }
        self.rows += rows.len() as u64;
        Ok(())
    }

    fn frame(&self, rows: &[&[Cell]], kinds: &[Cell]) -> Result<DataFrame> {
        use rayon::prelude::*;
        let columns = (0..self.columns.len())
            .into_par_iter()
            .map(|i| self.column(i, rows, &kinds[i]))
            .collect();
        DataFrame::new(rows.len(), columns).map_err(|e| write_err(&self.path, e))
    }

    /// Flushes and closes the file. A Parquet table with no row is written empty (text columns).
    pub fn finish(mut self) -> Result<()> {
        if self.format == OutputFormat::Parquet && self.sink.is_none() {
            let columns = self
                .columns
                .iter()
                .map(|c| Column::new_empty((*c).into(), &DataType::String))
                .collect();
            let mut frame = DataFrame::new(0, columns).map_err(|e| write_err(&self.path, e))?;
            let file = File::create(&self.path).map_err(|source| Error::Write {
                path: self.path.clone(),
                source,
            })?;
            ParquetWriter::new(BufWriter::new(file))
                .finish(&mut frame)
                .map_err(|e| write_err(&self.path, e))?;
            return Ok(());
        }
        match self.sink.take() {
            Some(Sink::Csv(mut writer)) => {
                std::io::Write::flush(&mut writer).map_err(|source| Error::Write {
                    path: self.path.clone(),
                    source,
                })
            }
            Some(Sink::Parquet(writer)) => writer
                .finish()
                .map(|_| ())
                .map_err(|e| write_err(&self.path, e)),
            None => Ok(()),
        }
    }
}
