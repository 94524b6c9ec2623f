//! Reading one table file, CSV or Parquet (chosen by extension), as a stream of
//! [`RawChunk`]s, and fingerprinting it (size, SHA-256) for the run record.
//!
//! CSV goes through the `csv` crate rather than polars because the contract needs, for every
//! rejected record, its source line (records may span lines inside quotes), its raw fields,
//! and ragged records detected rather than padded. Parquet goes through polars, one row group
//! at a time: numbers and booleans are kept as values, other columns turned into text, so
//! that one validator applies the contract to both formats; the header and column types come
//! from the file's schema, so no row is decoded before they are checked. Fingerprints are
//! computed apart ([`sha256_file`]), on a thread of their own, so hashing stays off the
//! parsing path.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use polars::prelude::*;
use sha2::{Digest, Sha256};

use super::raw::{ParquetColumn, RawChunk};
use crate::error::{Error, Result};

/// Records per chunk handed to the validator.
pub const CHUNK_RECORDS: usize = 32 * 1024;

/// A table's file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Comma-separated text with a header row.
    Csv,
    /// Apache Parquet.
    Parquet,
}

impl Format {
    /// The format named by a path's extension (`.csv`, `.parquet`/`.pq`, any case).
    pub fn from_path(path: &Path) -> Result<Self> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("csv") => Ok(Format::Csv),
            Some("parquet") | Some("pq") => Ok(Format::Parquet),
            _ => Err(Error::UnknownFormat {
                path: path.to_path_buf(),
            }),
        }
    }
}

/// Identity of an input file, recorded in run.json.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FileFingerprint {
    /// The path as given.
    pub path: PathBuf,
    /// CSV or Parquet.
    pub format: Format,
    /// Size in bytes.
    pub size_bytes: u64,
    /// SHA-256 of the file's bytes, lower-case hex.
    pub sha256: String,
}

/// SHA-256 of a whole file, streamed.
pub fn sha256_file(path: &Path) -> Result<String> {
    let read_err = |source| Error::Read {
        path: path.to_path_buf(),
        source,
    };
    let mut file = File::open(path).map_err(read_err)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).map_err(read_err)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

type CsvSource = csv::Reader<std::io::Chain<std::io::Cursor<Vec<u8>>, File>>;

enum Source {
    Csv {
        reader: Box<CsvSource>,
        record: csv::ByteRecord,
        done: bool,
    },
    /// Parquet is decoded one row group at a time, so that a large file never sits whole in
    /// memory beside the rows being validated.
    Parquet {
        /// The file's metadata, parsed once.
        metadata: polars::io::parquet::metadata::FileMetadataRef,
        /// (first row, rows) of each row group still to read.
        groups: std::collections::VecDeque<(usize, usize)>,
        /// The row group being read.
        frame: DataFrame,
        /// The file row of `frame`'s first row.
        base: usize,
        /// Next row of `frame`.
        offset: usize,
    },
}

/// A table file opened for streaming: its header is known, its records come in chunks.
pub struct TableReader {
    path: PathBuf,
    format: Format,
    size_bytes: u64,
    header: Vec<String>,
    source: Source,
    records: u64,
}

impl TableReader {
    /// Opens a table and reads its header; fails (exit 2) on an unreadable, empty or binary
    /// file or an undecodable Parquet file.
    pub fn open(path: &Path) -> Result<Self> {
        let format = Format::from_path(path)?;
        let read_err = |source| Error::Read {
            path: path.to_path_buf(),
            source,
        };
        let size_bytes = std::fs::metadata(path).map_err(read_err)?.len();
        match format {
            Format::Csv => Self::open_csv(path, size_bytes),
            Format::Parquet => Self::open_parquet(path, size_bytes),
        }
    }

    fn open_csv(path: &Path, size_bytes: u64) -> Result<Self> {
        let read_err = |source| Error::Read {
            path: path.to_path_buf(),
            source,
        };
        let mut file = File::open(path).map_err(read_err)?;
        // Sniff the head for binary content before handing bytes to the CSV parser.
        let mut head = vec![0u8; 8192];
        let mut filled = 0;
        while filled < head.len() {
            let n = file.read(&mut head[filled..]).map_err(read_err)?;
            if n == 0 {
                break;
            }
            filled += n;
        }
        head.truncate(filled);
        if let Some(offset) = head.iter().position(|&b| b == 0) {
            return Err(Error::NotText {
                path: path.to_path_buf(),
                offset,
            });
        }
        let stream = std::io::Cursor::new(head).chain(file);
        // Records end at `\n` only: with the CRLF default the csv crate reports the line
        // before each record in CRLF files. The `\r` of a CRLF ending is stripped below.
        let mut reader = csv::ReaderBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .flexible(true)
            .has_headers(true)
            .buffer_capacity(1 << 18)
            .from_reader(stream);
        let header_record = reader.byte_headers().map_err(|e| csv_error(path, &e))?;
        if header_record.is_empty() || (header_record.len() == 1 && header_record[0].is_empty()) {
            return Err(Error::EmptyFile {
                path: path.to_path_buf(),
            });
        }
        let mut header = Vec::with_capacity(header_record.len());
        for name in header_record.iter() {
            let name = std::str::from_utf8(name).map_err(|_| Error::HeaderNotUtf8 {
                path: path.to_path_buf(),
            })?;
            header.push(name.trim().to_string());
        }
        Ok(Self {
            path: path.to_path_buf(),
            format: Format::Csv,
            size_bytes,
            header,
            source: Source::Csv {
                reader: Box::new(reader),
                record: csv::ByteRecord::new(),
                done: false,
            },
            records: 0,
        })
    }

    fn open_parquet(path: &Path, size_bytes: u64) -> Result<Self> {
        let parquet_err = |e: PolarsError| Error::Parquet {
            path: path.to_path_buf(),
            message: e.to_string(),
        };
        let file = File::open(path).map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
        contain_polars(path, || {
            let mut reader = ParquetReader::new(BufReader::new(file));
            let metadata = reader.get_metadata().map_err(parquet_err)?.clone();
            let mut groups = std::collections::VecDeque::new();
            let mut first = 0usize;
            for group in &metadata.row_groups {
                groups.push_back((first, group.num_rows()));
                first = first
                    .checked_add(group.num_rows())
                    .ok_or_else(|| Error::Parquet {
                        path: path.to_path_buf(),
                        message: "the row groups' row counts overflow: the metadata is corrupt"
                            .into(),
                    })?;
            }
            // The columns and their types from the file's schema: no row is decoded before
            // the header is checked (row groups are decoded as they are read, off the
            // caller's thread).
            let schema = reader.schema().map_err(parquet_err)?;
            let header = schema
                .iter_values()
                .map(|field| field.name.trim().to_string())
                .collect();
            for field in schema.iter_values() {
                check_parquet_type(path, &field.name, &DataType::from_arrow_field(field))?;
            }
            Ok(Self {
                path: path.to_path_buf(),
                format: Format::Parquet,
                size_bytes,
                header,
                source: Source::Parquet {
                    metadata,
                    groups,
                    frame: DataFrame::empty(),
                    base: 0,
                    offset: 0,
                },
                records: 0,
            })
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Column names as written in the file (trimmed).
    pub fn header(&self) -> &[String] {
        &self.header
    }

    /// Records read so far.
    pub fn records_read(&self) -> u64 {
        self.records
    }

    /// The next chunk of records, or `None` at the end of the file.
    pub fn next_chunk(&mut self) -> Result<Option<RawChunk>> {
        let mut chunk = RawChunk::with_capacity(CHUNK_RECORDS, 1 << 20);
        Ok(self.fill_chunk(&mut chunk)?.then_some(chunk))
    }

    /// Refills `chunk` (emptied first, buffers kept) with the next records; `false` at the
    /// end of the file.
    pub fn fill_chunk(&mut self, chunk: &mut RawChunk) -> Result<bool> {
        chunk.clear();
        match &mut self.source {
            Source::Csv {
                reader,
                record,
                done,
            } => {
                if *done {
                    return Ok(false);
                }
                while chunk.len() < CHUNK_RECORDS {
                    let more = reader
                        .read_byte_record(record)
                        .map_err(|e| csv_error(&self.path, &e))?;
                    if !more {
                        *done = true;
                        break;
                    }
                    let width = record.len();
                    if width == 1 && (record[0].is_empty() || &record[0] == b"\r") {
                        continue; // a blank line, not a record
                    }
                    let line = record_start_line(reader, record, &self.path, self.size_bytes)?;
                    // Fields are contiguous in the record: copy them at once, then drop the
                    // `\r` of a CRLF ending from the last field.
                    let data = record.as_slice();
                    let crlf = data.last() == Some(&b'\r');
                    let data = if crlf { &data[..data.len() - 1] } else { data };
                    let len = data.len();
                    let ends = (0..width).map(|i| record.range(i).map_or(len, |r| r.end.min(len)));
                    chunk.push_record(data, ends, line);
                }
            }
            Source::Parquet {
                metadata,
                groups,
                frame,
                base,
                offset,
            } => {
                while *offset >= frame.height() {
                    let Some(slice) = groups.pop_front() else {
                        break;
                    };
                    // Drop the finished group before decoding the next.
                    *frame = DataFrame::empty();
                    *frame = contain_polars(&self.path, || {
                        read_parquet_slice(&self.path, metadata, slice)
                    })?;
                    *base = slice.0;
                    *offset = 0;
                }
                if *offset < frame.height() {
                    let len = CHUNK_RECORDS.min(frame.height() - *offset);
                    *chunk = contain_polars(&self.path, || {
                        parquet_chunk(&self.path, frame, *base, *offset, len)
                    })?;
                    *offset += len;
                }
            }
        }
        chunk.seal();
        self.records += chunk.len() as u64;
        Ok(!chunk.is_empty())
    }

    /// The file's format.
    pub fn format(&self) -> Format {
        self.format
    }

    /// The file's size in bytes when opened.
    pub fn size_bytes(&self) -> u64 {
        self.size_bytes
    }
}

/// The source line on which `record` (just read) starts. The csv crate reports the line where
/// the read began, which precedes any blank lines it skipped before the record. A record that
/// ended at its terminator is counted back from where the read ended: one line for the
/// terminator, one per newline inside its quoted fields. The file's last record may instead end
/// at the end of the file (no final newline, or a quote left open that took the final newline
/// into its field), which the fields cannot tell apart: for it the blank lines skipped are
/// counted in the file itself, from where the read began.
fn record_start_line(
    reader: &CsvSource,
    record: &csv::ByteRecord,
    path: &Path,
    size_bytes: u64,
) -> Result<u64> {
    let start = record.position();
    let began = start.map_or(1, |p| p.line());
    let after = reader.position();
    if after.byte() < size_bytes {
        if after.line() == began + 1 {
            return Ok(began); // the usual case: one physical line, nothing skipped
        }
        let embedded: u64 = record
            .iter()
            .map(|field| field.iter().filter(|&&b| b == b'\n').count() as u64)
            .sum();
        return Ok(after.line().saturating_sub(1 + embedded).max(began));
    }
    let skipped = leading_newlines(path, start.map_or(0, |p| p.byte()))?;
    Ok(began + skipped)
}

/// The number of `\n` bytes in a row from byte `offset` of a file (the blank lines the CSV
/// reader skips before a record).
fn leading_newlines(path: &Path, offset: u64) -> Result<u64> {
    use std::io::{Seek, SeekFrom};
    let read_err = |source| Error::Read {
        path: path.to_path_buf(),
        source,
    };
    let mut file = File::open(path).map_err(read_err)?;
    file.seek(SeekFrom::Start(offset)).map_err(read_err)?;
    let mut buf = [0u8; 8192];
    let mut count = 0;
    loop {
        let n = file.read(&mut buf).map_err(read_err)?;
        if n == 0 {
            return Ok(count);
        }
        match buf[..n].iter().position(|&b| b != b'\n') {
            Some(i) => return Ok(count + i as u64),
            None => count += n as u64,
        }
    }
}

fn csv_error(path: &Path, error: &csv::Error) -> Error {
    let line = error.position().map_or(0, |p| p.line());
    Error::Csv {
        path: path.to_path_buf(),
        line,
        message: error.to_string(),
    }
}

/// Runs `decode`, a use of polars on the Parquet file `path`, turning a panic into an error
/// naming the file. polars' Parquet decoder trusts a file's metadata and page headers: on some
/// corrupt or truncated files it panics (a slice past the end of the file, a failed assertion
/// in a page decoder, a thrift field out of bounds), as the fuzz targets found; such a file is
/// then one bonemet cannot read (exit 2), not a crash. (The panic's own message still goes to
/// stderr through the panic hook before the error does.)
fn contain_polars<T>(path: &Path, decode: impl FnOnce() -> Result<T>) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(decode)).unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("no message");
        Err(Error::Parquet {
            path: path.to_path_buf(),
            message: format!(
                "the file is corrupt or truncated (polars failed decoding it: {what})"
            ),
        })
    })
}

/// Column types whose values can be written as text (everything but nested structs etc.).
fn check_parquet_type(path: &Path, name: &str, dtype: &DataType) -> Result<()> {
    let readable = match dtype {
        DataType::List(inner) => inner.is_primitive() || matches!(**inner, DataType::String),
        DataType::Null | DataType::Unknown(_) => false,
        _ => true,
    };
    if readable {
        Ok(())
    } else {
        Err(Error::UnreadableColumnType {
            path: path.to_path_buf(),
            column: name.to_string(),
            dtype: dtype.to_string(),
            expected: "a text, number, boolean, date, date-time or list-of-text column".into(),
        })
    }
}

/// Rows `first..first + rows` of a Parquet file (one row group), decoded by polars.
fn read_parquet_slice(
    path: &Path,
    metadata: &polars::io::parquet::metadata::FileMetadataRef,
    (first, rows): (usize, usize),
) -> Result<DataFrame> {
    let file = File::open(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let mut reader = ParquetReader::new(BufReader::new(file)).with_slice(Some((first, rows)));
    reader.set_metadata(metadata.clone());
    reader.finish().map_err(|e| Error::Parquet {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// Rows `offset..offset+len` of a Parquet frame (a row group whose first row is file row
/// `base`) as raw records numbered by file row; nulls become empty cells and lists become
/// `;`-separated text, as they would be written in CSV. Numbers and booleans are kept as
/// values (their text is made only if read); other columns are cast to text by polars
/// (vectorised) and read in lockstep, with no allocation per cell.
fn parquet_chunk(
    path: &Path,
    frame: &DataFrame,
    base: usize,
    offset: usize,
    len: usize,
) -> Result<RawChunk> {
    let decode_err = |e: PolarsError| Error::Parquet {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let mut columns: Vec<ParquetColumn> = Vec::with_capacity(frame.width());
    for column in frame.columns() {
        let slice = column.slice(offset as i64, len);
        if let Some(values) = ParquetColumn::from_values(slice.as_materialized_series()) {
            columns.push(values);
            continue;
        }
        let text = match slice.dtype() {
            DataType::List(_) => {
                let lists = slice.list().map_err(decode_err)?;
                let mut joined: Vec<Option<String>> = Vec::with_capacity(len);
                for item in lists.amortized_iter() {
                    joined.push(match item {
                        None => None,
                        Some(series) => {
                            let text = series
                                .as_ref()
                                .cast(&DataType::String)
                                .map_err(decode_err)?;
                            let parts: Vec<&str> =
                                text.str().map_err(decode_err)?.iter().flatten().collect();
                            Some(parts.join(";"))
                        }
                    });
                }
                StringChunked::from_iter_options(column.name().clone(), joined.into_iter())
            }
            DataType::Date | DataType::Datetime(..) => {
                temporal_text(slice.as_materialized_series()).map_err(decode_err)?
            }
            _ => slice
                .cast(&DataType::String)
                .map_err(decode_err)?
                .str()
                .map_err(decode_err)?
                .clone(),
        };
        columns.push(ParquetColumn::from_text(text));
    }
    let first_line = (base + offset + 1) as u64;
    if columns.is_empty() {
        // No column: records without fields.
        let mut chunk = RawChunk::with_capacity(len, 0);
        for row in 0..len {
            chunk.end_record(first_line + row as u64);
        }
        return Ok(chunk);
    }
    Ok(RawChunk::from_parquet_columns(columns, first_line))
}

/// A Date or Datetime column as text, as polars prints it (`%F`; `%F %T` with 3, 6 or 9
/// decimals by time unit). polars panics on a value beyond the calendar chrono represents (a
/// Date of 2^31 - 1 days, say), so such a column is printed here, each such value as its
/// number and unit (`2147483647 days since 1970-01-01`), which no date parses: its row is
/// rejected quoting the value, as CSV's would be.
fn temporal_text(column: &Series) -> PolarsResult<StringChunked> {
    use chrono::{DateTime, NaiveDate, NaiveDateTime};
    /// 0001-01-01 to 1970-01-01, in days (chrono counts days from the former).
    const EPOCH_DAYS_FROM_CE: i32 = 719_163;
    let date = |days: i32| {
        EPOCH_DAYS_FROM_CE
            .checked_add(days)
            .and_then(NaiveDate::from_num_days_from_ce_opt)
    };
    let texts: Vec<Option<String>> = match column.dtype() {
        DataType::Date => {
            let days = column.date()?.physical();
            let (min, max) = (days.min().unwrap_or(0), days.max().unwrap_or(0));
            if date(min).is_some() && date(max).is_some() {
                return column.cast(&DataType::String)?.str().cloned();
            }
            days.iter()
                .map(|d| {
                    d.map(|d| {
                        date(d).map_or_else(
                            || format!("{d} days since 1970-01-01"),
                            |date| date.format("%F").to_string(),
                        )
                    })
                })
                .collect()
        }
        DataType::Datetime(unit, _) => {
            let (to_datetime, format, name): (fn(i64) -> Option<NaiveDateTime>, _, _) = match unit {
                TimeUnit::Milliseconds => (
                    |v| DateTime::from_timestamp_millis(v).map(|t| t.naive_utc()),
                    "%F %T%.3f",
                    "milliseconds",
                ),
                TimeUnit::Microseconds => (
                    |v| DateTime::from_timestamp_micros(v).map(|t| t.naive_utc()),
                    "%F %T%.6f",
                    "microseconds",
                ),
                TimeUnit::Nanoseconds => (
                    |v| Some(DateTime::from_timestamp_nanos(v).naive_utc()),
                    "%F %T%.9f",
                    "nanoseconds",
                ),
            };
            let values = column.datetime()?.physical();
            let (min, max) = (values.min().unwrap_or(0), values.max().unwrap_or(0));
            if to_datetime(min).is_some() && to_datetime(max).is_some() {
                return column.cast(&DataType::String)?.str().cloned();
            }
            values
                .iter()
                .map(|v| {
                    v.map(|v| {
                        to_datetime(v).map_or_else(
                            || format!("{v} {name} since 1970-01-01T00:00"),
                            |t| t.format(format).to_string(),
                        )
                    })
                })
                .collect()
        }
        other => polars_bail!(InvalidOperation: "{other} is not a date or date-time type"),
    };
    Ok(StringChunked::from_iter_options(
        column.name().clone(),
        texts.into_iter(),
    ))
}
