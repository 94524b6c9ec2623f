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

/// Text of a cell as the CSV contract writes it.
pub fn cell_text(cell: &Cell) -> String {
    match cell {
        Cell::Null => String::new(),
        Cell::Text(s) => s.clone(),
        Cell::Label(s) => (*s).to_string(),
        Cell::Int(v) => v.to_string(),
        Cell::Num(v, decimals) => format!("{v:.prec$}", prec = usize::from(*decimals)),
        Cell::Date(d) => d.format("%Y-%m-%d").to_string(),
        Cell::DateTime(t) => t.format("%Y-%m-%dT%H:%M").to_string(),
        Cell::Bool(b) => b.to_string(),
    }
}

enum Sink {
    Csv(Box<csv::Writer<BufWriter<File>>>),
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
                let mut writer = csv::Writer::from_writer(BufWriter::new(file));
                writer
                    .write_record(columns)
                    .map_err(|e| write_err(path, e))?;
                Some(Sink::Csv(Box::new(writer)))
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
    fn column(&self, index: usize, rows: &[Vec<Cell>], kind: &Cell) -> Column {
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

    /// Appends rows. `kinds` gives each column's cell kind (its type in typed Parquet).
    pub fn write(&mut self, rows: &[Vec<Cell>], kinds: &[Cell]) -> Result<()> {
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
                for row in rows {
                    writer
                        .write_record(row.iter().map(cell_text))
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

    fn frame(&self, rows: &[Vec<Cell>], kinds: &[Cell]) -> Result<DataFrame> {
        let columns = (0..self.columns.len())
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
            Some(Sink::Csv(mut writer)) => writer.flush().map_err(|source| Error::Write {
                path: self.path.clone(),
                source,
            }),
            Some(Sink::Parquet(writer)) => writer
                .finish()
                .map(|_| ())
                .map_err(|e| write_err(&self.path, e)),
            None => Ok(()),
        }
    }
}
