//! Reading any table (CSV or Parquet, by extension) as columns of numbers or categories, for
//! the generic analysis commands. Types are inferred by polars; a missing cell is NaN
//! (numbers) or [`Categories::MISSING`] (categories).
//!
//! The table is read in chunks of rows, in parallel, and each chunk's cells go straight to
//! their place in the analyses' columns: polars' frame of the whole table never exists beside
//! them. A CSV's chunks are parsed by polars' own chunk parser, the one its reader runs on
//! each thread, with the schema it infers. On a million rows and nine columns, reading the
//! file and filling the columns this way took less time than polars alone building its frame
//! (medians 0.133 against 0.142 s, paired runs), where reading the frame then copying out the
//! columns took 0.023 s more; `bonemet survival`'s peak RSS fell from 146 to 132 MiB.

use std::mem::MaybeUninit;
use std::ops::Range;
use std::path::{Path, PathBuf};

// Polars' chunk parser and schema inference, as its own readers use them; `_csv_read_internal`
// is public but outside polars' stable API, which is why Cargo.toml pins the polars release.
use polars::io::csv::read::_csv_read_internal::{
    cast_columns, prepare_csv_schema, read_chunk, validate_utf8,
};
use polars::io::csv::read::read_until_start_and_infer_schema_from_compressed_reader;
use polars::io::mmap::ReaderBytes;
use polars::io::utils::compression::{CompressedReader, SupportedCompression};
use polars::prelude::*;
use rayon::prelude::*;

use super::reader::Format;
use crate::error::{Error, Result};

/// Rows from which polars infers a CSV column's type.
const INFER_SCHEMA_ROWS: usize = 10_000;

/// How an analysis reads a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnUse {
    /// As numbers: [`Frame::numbers`].
    Numbers,
    /// As categories: [`Frame::categories`].
    Categories,
}

/// The columns of a table an analysis uses, read whole, each as the analysis uses it.
pub struct Frame {
    path: PathBuf,
    height: usize,
    columns: Vec<FrameColumn>,
}

/// A column of a [`Frame`] in one of its uses.
struct FrameColumn {
    name: String,
    use_as: ColumnUse,
    /// Asks still to come: the last one takes the values, the ones before copy them.
    asks_left: usize,
    /// Whether the table has the column.
    present: bool,
    /// The values, until the last ask takes them.
    values: Option<Extracted>,
    /// Read as numbers: the cells holding text that is not a number.
    not_numbers: Option<NotNumbers>,
}

/// A column's values as read.
enum Extracted {
    Numbers(Vec<f64>),
    Categories(Categories),
}

/// A column read whole: its values and, read as numbers, the text in it that is not a number.
type ReadColumn = (Extracted, Option<NotNumbers>);

impl Frame {
    /// Reads the columns `wanted` of `path`, each with its use (a column may be wanted both
    /// ways, and more than once: it is read once), those of them it has: one it lacks is
    /// reported when asked for, and the table's other columns, often hundreds in a registry
    /// extract, are not parsed.
    pub fn read(path: &Path, wanted: &[(&str, ColumnUse)]) -> Result<Self> {
        let mut columns: Vec<FrameColumn> = Vec::new();
        for &(name, use_as) in wanted {
            match columns
                .iter_mut()
                .find(|c| c.name == name && c.use_as == use_as)
            {
                Some(column) => column.asks_left += 1,
                None => columns.push(FrameColumn {
                    name: name.to_string(),
                    use_as,
                    asks_left: 1,
                    present: false,
                    values: None,
                    not_numbers: None,
                }),
            }
        }
        let specs: Vec<(&str, ColumnUse)> = columns
            .iter()
            .map(|c| (c.name.as_str(), c.use_as))
            .collect();
        let (height, read) = match Format::from_path(path)? {
            Format::Parquet => read_parquet(path, &specs, PARQUET_CHUNK_ROWS_MIN)?,
            Format::Csv => read_csv(path, &specs, None)?,
        };
        for (column, read) in columns.iter_mut().zip(read) {
            if let Some((values, not_numbers)) = read {
                column.present = true;
                column.values = Some(values);
                column.not_numbers = not_numbers;
            }
        }
        Ok(Self {
            path: path.to_path_buf(),
            height,
            columns,
        })
    }

    /// Rows.
    pub fn height(&self) -> usize {
        self.height
    }

    /// The column `name` wanted as `use_as`, if the table has it.
    fn column(&self, name: &str, use_as: ColumnUse) -> Result<usize> {
        let expected = match use_as {
            ColumnUse::Numbers => "a numeric column",
            ColumnUse::Categories => "a column",
        };
        self.columns
            .iter()
            .position(|c| c.name == name && c.use_as == use_as && c.present)
            .ok_or_else(|| Error::MissingColumn {
                path: self.path.clone(),
                column: name.to_string(),
                expected: expected.to_string(),
            })
    }

    /// The values of a column wanted as `use_as`: the last ask takes them, an earlier one
    /// copies them.
    fn take(&mut self, name: &str, use_as: ColumnUse) -> Result<Extracted> {
        let index = self.column(name, use_as)?;
        let column = &mut self.columns[index];
        column.asks_left = column.asks_left.saturating_sub(1);
        let last = column.asks_left == 0;
        let values = match &column.values {
            Some(Extracted::Numbers(v)) if !last => Some(Extracted::Numbers(v.clone())),
            Some(Extracted::Categories(c)) if !last => Some(Extracted::Categories(c.clone())),
            _ => column.values.take(),
        };
        // Asked for more often than wanted: a caller's error.
        values.ok_or_else(|| self.wrong_use(name))
    }

    /// A column wanted as numbers (booleans as 0/1); a missing cell, or text that is not a
    /// number, is NaN (8 bytes a row: a 10-million-row column is 80 MB).
    pub fn numbers(&mut self, name: &str) -> Result<Vec<f64>> {
        match self.take(name, ColumnUse::Numbers)? {
            Extracted::Numbers(values) => Ok(values),
            Extracted::Categories(_) => Err(self.wrong_use(name)),
        }
    }

    /// The cells of a column wanted as numbers that [`Frame::numbers`] reads as missing
    /// although they hold text (not a number); `None` for a numeric column or when there are
    /// none.
    pub fn not_numbers(&self, name: &str) -> Result<Option<NotNumbers>> {
        Ok(self.columns[self.column(name, ColumnUse::Numbers)?]
            .not_numbers
            .clone())
    }

    /// A column wanted as categories: its distinct values (numbers in numeric order, text in
    /// byte order; named as polars prints them) and each row's code, without a string per row.
    pub fn categories(&mut self, name: &str) -> Result<Categories> {
        match self.take(name, ColumnUse::Categories)? {
            Extracted::Categories(categories) => Ok(categories),
            Extracted::Numbers(_) => Err(self.wrong_use(name)),
        }
    }

    /// A column asked for in a use, or more often, than it was read for (a caller's error,
    /// said as missing).
    fn wrong_use(&self, name: &str) -> Error {
        Error::MissingColumn {
            path: self.path.clone(),
            column: name.to_string(),
            expected: "a column read for this use".to_string(),
        }
    }
}

/// A CSV's bytes per chunk at most, as polars' reader caps them (a chunk's text stays in
/// cache while it is parsed) ...
const CSV_CHUNK_BYTES_MAX: usize = 16 << 20;
/// ... and at least, as polars' reader has them (below, the work per chunk costs more than
/// the chunk).
const CSV_CHUNK_BYTES_MIN: usize = 4 << 10;
/// Chunks per thread, as polars' reader cuts a CSV: the threads share the work evenly.
const CHUNKS_PER_THREAD: usize = 16;

/// The `specs` columns of a CSV file, as in [`Frame::read`], and its rows. `piece_bytes`
/// sets the chunks' size in bytes (tests cut small tables into many chunks); by default as
/// polars' reader cuts them.
fn read_csv(
    path: &Path,
    specs: &[(&str, ColumnUse)],
    piece_bytes: Option<usize>,
) -> Result<(usize, Vec<Option<ReadColumn>>)> {
    let csv_error = |e: PolarsError| Error::CsvTable {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let mut file = std::fs::File::open(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let bytes = polars::io::utils::get_reader_bytes(&mut file).map_err(csv_error)?;
    if SupportedCompression::check(&bytes).is_some() {
        return Err(Error::CsvTable {
            path: path.to_path_buf(),
            message: "the file is compressed (gzip, zlib or zstd): decompress it first".into(),
        });
    }
    // A file is mapped into memory, never borrowed.
    let ReaderBytes::Owned(bytes) = bytes else {
        return Err(Error::CsvTable {
            path: path.to_path_buf(),
            message: "the file cannot be mapped into memory".into(),
        });
    };
    let options = CsvReadOptions::default().with_infer_schema_length(Some(INFER_SCHEMA_ROWS));
    let file_bytes = bytes.len();
    let mut reader = CompressedReader::try_new(bytes).map_err(csv_error)?;
    let (schema, leftover) =
        read_until_start_and_infer_schema_from_compressed_reader(&options, None, None, &mut reader)
            .map_err(csv_error)?;
    let (body, _) = reader
        .read_next_slice(&leftover, usize::MAX)
        .map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
    // Where the body starts in the file: a parse error then names the file's byte offset.
    let header_bytes = file_bytes - body.len();
    let mut schema = Arc::new(schema);
    let mut to_cast = Vec::new();
    prepare_csv_schema(&mut schema, &mut to_cast).map_err(csv_error)?;
    let present: Vec<bool> = specs.iter().map(|(c, _)| schema.contains(c)).collect();
    let mut projection: Vec<usize> = specs
        .iter()
        .filter_map(|(c, _)| schema.index_of(c))
        .collect();
    // The chunk parser wants its columns in the file's order.
    projection.sort_unstable();
    projection.dedup();
    let parse = &options.parse_options;
    let piece = piece_bytes.unwrap_or_else(|| {
        let pieces = rayon::current_num_threads() * CHUNKS_PER_THREAD;
        (body.len() / pieces).clamp(CSV_CHUNK_BYTES_MIN, CSV_CHUNK_BYTES_MAX)
    });
    let chunks = csv_chunks(&body, parse.quote_char, parse.eol_char, piece);
    let rows: Vec<usize> = chunks.iter().map(|(_, rows)| *rows).collect();
    // As polars' reader: UTF-8 is checked when the table has a text column.
    let check_utf8 = schema.iter_fields().any(|f| f.dtype().is_string());
    let read = extract(specs, &present, &rows, |k| {
        let bytes = &body[chunks[k].0.clone()];
        if check_utf8 && !validate_utf8(bytes) {
            polars_bail!(ComputeError: "invalid utf-8 sequence");
        }
        let mut chunk = read_chunk(
            bytes,
            parse,
            &schema,
            false,
            &projection,
            0,
            rows[k],
            None,
            usize::MAX,
            bytes.len(),
            Some(header_bytes + chunks[k].0.start),
        )?;
        cast_columns(&mut chunk, &to_cast, false, false)?;
        Ok(chunk)
    })
    .map_err(csv_error)?;
    Ok((rows.iter().sum(), read))
}

/// A CSV's body (its rows, after the header) cut at row ends into chunks of about `piece`
/// bytes, each with its rows. A row ends at a line end outside quotes, and the text after the
/// last line end, if any, is a row. The pieces are scanned in parallel, each for both cases
/// (it begins outside a quoted field, or inside one, as its predecessor ends), then the
/// pieces are chained from the first, which begins outside.
fn csv_chunks(
    body: &[u8],
    quote_char: Option<u8>,
    eol_char: u8,
    piece: usize,
) -> Vec<(Range<usize>, usize)> {
    let scanned: Vec<[PieceScan; 2]> = body
        .par_chunks(piece.max(1))
        .map(|bytes| scan_piece(bytes, quote_char, eol_char))
        .collect();
    let mut chunks = Vec::new();
    let (mut begin, mut inside_quotes) = (0, false);
    for (k, cases) in scanned.iter().enumerate() {
        let scan = cases[usize::from(inside_quotes)];
        inside_quotes = scan.ends_inside_quotes;
        if scan.row_ends > 0 {
            let end = k * piece.max(1) + scan.last_row_end + 1;
            chunks.push((begin..end, scan.row_ends));
            begin = end;
        }
    }
    if begin < body.len() {
        chunks.push((begin..body.len(), 1));
    }
    chunks
}

/// A piece of a CSV's body scanned for row ends, given whether it begins inside a quoted
/// field.
#[derive(Debug, Clone, Copy, PartialEq)]
struct PieceScan {
    /// Line ends outside quotes.
    row_ends: usize,
    /// The offset of the last of them (0 when there are none).
    last_row_end: usize,
    ends_inside_quotes: bool,
}

/// A piece of a CSV's body scanned as it would be if it began outside a quoted field, then
/// inside one, in one pass. Quotes only flip the state (a doubled quote in a quoted field
/// flips it twice), as polars' reader counts them. Only quotes and line ends are visited
/// (memchr); a piece without quotes has its line ends counted.
fn scan_piece(bytes: &[u8], quote_char: Option<u8>, eol_char: u8) -> [PieceScan; 2] {
    let quote = quote_char.filter(|&q| memchr::memchr(q, bytes).is_some());
    let Some(quote) = quote else {
        return [
            PieceScan {
                row_ends: memchr::memchr_iter(eol_char, bytes).count(),
                last_row_end: memchr::memrchr(eol_char, bytes).unwrap_or(0),
                ends_inside_quotes: false,
            },
            // Inside a quoted field that does not end in the piece: no row ends there.
            PieceScan {
                row_ends: 0,
                last_row_end: 0,
                ends_inside_quotes: true,
            },
        ];
    };
    // Line ends by the quotes' parity since the piece's start: even ones end rows if it
    // began outside quotes, odd ones if it began inside.
    let (mut odd, mut row_ends, mut last_row_end) = (false, [0; 2], [0; 2]);
    for at in memchr::memchr2_iter(quote, eol_char, bytes) {
        if bytes[at] == quote {
            odd = !odd;
        } else {
            row_ends[usize::from(odd)] += 1;
            last_row_end[usize::from(odd)] = at;
        }
    }
    [
        PieceScan {
            row_ends: row_ends[0],
            last_row_end: last_row_end[0],
            ends_inside_quotes: odd,
        },
        PieceScan {
            row_ends: row_ends[1],
            last_row_end: last_row_end[1],
            ends_inside_quotes: !odd,
        },
    ]
}

/// Rows per chunk of a Parquet table's frame at least, when its columns are extracted in
/// parallel.
const PARQUET_CHUNK_ROWS_MIN: usize = 1 << 16;

/// The `specs` columns of a Parquet file, as in [`Frame::read`], and its rows; its columns are
/// extracted in chunks of `chunk_rows_min` rows or more (tests cut small tables into many).
fn read_parquet(
    path: &Path,
    specs: &[(&str, ColumnUse)],
    chunk_rows_min: usize,
) -> Result<(usize, Vec<Option<ReadColumn>>)> {
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
    let present: Vec<bool> = specs.iter().map(|(c, _)| schema.contains(c)).collect();
    let mut columns: Vec<String> = Vec::new();
    for (c, _) in specs.iter().filter(|(c, _)| schema.contains(c)) {
        if !columns.iter().any(|known| known == c) {
            columns.push(c.to_string());
        }
    }
    let frame = reader
        .with_columns(Some(columns))
        .finish()
        .map_err(polars_error)?;
    // The decoded frame cut into slices (views, no copy) whose columns are extracted in
    // parallel.
    let height = frame.height();
    let chunks = (rayon::current_num_threads() * 4)
        .min(height / chunk_rows_min.max(1))
        .max(1);
    let rows: Vec<usize> = (0..chunks)
        .map(|k| height * (k + 1) / chunks - height * k / chunks)
        .collect();
    let read = extract(specs, &present, &rows, |k| {
        Ok(frame.slice((height * k / chunks) as i64, rows[k]))
    })
    .map_err(polars_error)?;
    Ok((height, read))
}

/// A chunk's share of a column: where its rows' values go.
enum Slots<'a> {
    /// The table has no such column.
    Absent,
    Numbers(&'a mut [MaybeUninit<f64>]),
    /// Each row's code among the chunk's own distinct values ([`ChunkLevels`]).
    Codes(&'a mut [MaybeUninit<u32>]),
}

/// What a chunk tells of a column beyond the values it wrote.
enum ChunkReport {
    Absent,
    /// Text that is not a number (its first row counted from the chunk's first).
    Numbers(Option<NotNumbers>),
    Categories(ChunkLevels),
}

/// A chunk's distinct values of a column read as categories, in order of first appearance
/// (its codes index them).
enum ChunkLevels {
    /// Numbers (−0 as 0) and their names as polars prints the first cell holding each.
    Numbers(Vec<(f64, String)>),
    Text(Vec<String>),
}

/// The columns `specs` (those `present`) of a table cut into chunks of `rows[k]` rows, the
/// k-th given by `chunk(k)`: the chunks are read in parallel, each writing its values into its
/// rows' place in the columns; then each column of categories has its levels gathered over the
/// chunks (in order, so the first cell holding a value is the table's first) and its codes
/// renumbered in sorted order.
fn extract(
    specs: &[(&str, ColumnUse)],
    present: &[bool],
    rows: &[usize],
    chunk: impl Fn(usize) -> PolarsResult<DataFrame> + Sync,
) -> PolarsResult<Vec<Option<ReadColumn>>> {
    if !present.iter().any(|&p| p) {
        return Ok(specs.iter().map(|_| None).collect());
    }
    let height: usize = rows.iter().sum();
    let wanted = |j: usize, use_as: ColumnUse| present[j] && specs[j].1 == use_as;
    let capacity = |j: usize, use_as: ColumnUse| if wanted(j, use_as) { height } else { 0 };
    let mut numbers: Vec<Vec<f64>> = (0..specs.len())
        .map(|j| Vec::with_capacity(capacity(j, ColumnUse::Numbers)))
        .collect();
    let mut codes: Vec<Vec<u32>> = (0..specs.len())
        .map(|j| Vec::with_capacity(capacity(j, ColumnUse::Categories)))
        .collect();
    let mut slots: Vec<Vec<Slots>> = rows.iter().map(|_| Vec::new()).collect();
    for (j, (numbers, codes)) in numbers.iter_mut().zip(&mut codes).enumerate() {
        let column: Vec<Slots> = if wanted(j, ColumnUse::Numbers) {
            split_into(numbers.spare_capacity_mut(), rows)
                .into_iter()
                .map(Slots::Numbers)
                .collect()
        } else if wanted(j, ColumnUse::Categories) {
            split_into(codes.spare_capacity_mut(), rows)
                .into_iter()
                .map(Slots::Codes)
                .collect()
        } else {
            rows.iter().map(|_| Slots::Absent).collect()
        };
        for (chunk_slots, slot) in slots.iter_mut().zip(column) {
            chunk_slots.push(slot);
        }
    }
    let reports: Vec<Vec<ChunkReport>> = slots
        .into_par_iter()
        .enumerate()
        .map(|(k, slots)| {
            let frame = chunk(k)?;
            if frame.height() != rows[k] {
                polars_bail!(ComputeError:
                    "malformed: a chunk of {} rows was read as {} rows",
                    rows[k], frame.height());
            }
            slots
                .into_iter()
                .zip(specs)
                .map(|(slots, (name, _))| match slots {
                    Slots::Absent => Ok(ChunkReport::Absent),
                    Slots::Numbers(out) => {
                        fill_numbers(frame.column(name)?, out).map(ChunkReport::Numbers)
                    }
                    Slots::Codes(out) => {
                        fill_codes(frame.column(name)?, out).map(ChunkReport::Categories)
                    }
                })
                .collect()
        })
        .collect::<PolarsResult<_>>()?;
    for (j, (numbers, codes)) in numbers.iter_mut().zip(&mut codes).enumerate() {
        // SAFETY: each chunk wrote every one of its slots of each present column
        // (`fill_numbers` and `fill_codes` fail otherwise, and then nothing is kept), and
        // the chunks' slots cover the first `height` of the column's capacity.
        unsafe {
            if wanted(j, ColumnUse::Numbers) {
                numbers.set_len(height);
            } else if wanted(j, ColumnUse::Categories) {
                codes.set_len(height);
            }
        }
    }
    Ok(gather(specs, present, rows, numbers, codes, reports))
}

/// `values` cut into consecutive pieces of `lengths` (which sum to at most its length).
fn split_into<'a, T>(mut values: &'a mut [T], lengths: &[usize]) -> Vec<&'a mut [T]> {
    lengths
        .iter()
        .map(|&n| {
            let (head, tail) = std::mem::take(&mut values).split_at_mut(n);
            values = tail;
            head
        })
        .collect()
}

/// [`extract`]'s columns made whole from the chunks' reports.
fn gather(
    specs: &[(&str, ColumnUse)],
    present: &[bool],
    rows: &[usize],
    numbers: Vec<Vec<f64>>,
    codes: Vec<Vec<u32>>,
    mut reports: Vec<Vec<ChunkReport>>,
) -> Vec<Option<ReadColumn>> {
    let firsts: Vec<usize> = rows
        .iter()
        .scan(0, |first, &n| {
            let this = *first;
            *first += n;
            Some(this)
        })
        .collect();
    let mut read = Vec::with_capacity(specs.len());
    for (j, (numbers, mut codes)) in numbers.into_iter().zip(codes).enumerate() {
        if !present[j] {
            read.push(None);
            continue;
        }
        let column_reports = reports
            .iter_mut()
            .map(|r| std::mem::replace(&mut r[j], ChunkReport::Absent));
        match specs[j].1 {
            ColumnUse::Numbers => {
                let mut not_numbers: Option<NotNumbers> = None;
                for (report, first) in column_reports.zip(&firsts) {
                    if let ChunkReport::Numbers(Some(found)) = report {
                        match &mut not_numbers {
                            Some(n) => n.count += found.count,
                            None => {
                                not_numbers = Some(NotNumbers {
                                    first_row: first + found.first_row,
                                    ..found
                                })
                            }
                        }
                    }
                }
                read.push(Some((Extracted::Numbers(numbers), not_numbers)));
            }
            ColumnUse::Categories => {
                let levels: Vec<ChunkLevels> = column_reports
                    .filter_map(|r| match r {
                        ChunkReport::Categories(levels) => Some(levels),
                        _ => None,
                    })
                    .collect();
                let (levels, final_codes) = merged_levels(levels);
                split_into(&mut codes, rows)
                    .into_par_iter()
                    .zip(&final_codes)
                    .for_each(|(codes, final_code)| {
                        for c in codes.iter_mut().filter(|c| **c != Categories::MISSING) {
                            *c = final_code[*c as usize];
                        }
                    });
                read.push(Some((
                    Extracted::Categories(Categories { levels, codes }),
                    None,
                )));
            }
        }
    }
    read
}

/// The levels of a column of categories over its chunks (`chunks`, in row order), sorted
/// (numbers by value, text by bytes), and for each chunk the final code of each of its own.
fn merged_levels(chunks: Vec<ChunkLevels>) -> (Vec<String>, Vec<Vec<u32>>) {
    // Each distinct value's number in order of first appearance, and each chunk's values by it.
    let mut numbers: Vec<(f64, String)> = Vec::new();
    let mut number_index: foldhash::HashMap<u64, u32> = Default::default();
    let mut texts: foldhash::HashMap<String, u32> = Default::default();
    let mut provisional: Vec<Vec<u32>> = Vec::with_capacity(chunks.len());
    for levels in chunks {
        provisional.push(match levels {
            ChunkLevels::Numbers(values) => values
                .into_iter()
                .map(|(v, name)| {
                    let next = numbers.len() as u32;
                    *number_index.entry(v.to_bits()).or_insert_with(|| {
                        numbers.push((v, name));
                        next
                    })
                })
                .collect(),
            ChunkLevels::Text(values) => values
                .into_iter()
                .map(|v| {
                    let next = texts.len() as u32;
                    *texts.entry(v).or_insert(next)
                })
                .collect(),
        });
    }
    // A column is numbers or text throughout (one type per column), so one of the two is empty.
    let (levels, final_of): (Vec<String>, Vec<u32>) = if texts.is_empty() {
        let mut order: Vec<usize> = (0..numbers.len()).collect();
        order.sort_by(|&a, &b| numbers[a].0.total_cmp(&numbers[b].0));
        let mut final_of = vec![0; numbers.len()];
        for (k, &p) in order.iter().enumerate() {
            final_of[p] = k as u32;
        }
        let levels = order
            .iter()
            .map(|&p| std::mem::take(&mut numbers[p].1))
            .collect();
        (levels, final_of)
    } else {
        let mut sorted: Vec<(String, u32)> = texts.into_iter().collect();
        sorted.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let mut final_of = vec![0; sorted.len()];
        for (k, (_, p)) in sorted.iter().enumerate() {
            final_of[*p as usize] = k as u32;
        }
        (sorted.into_iter().map(|(t, _)| t).collect(), final_of)
    };
    let final_codes = provisional
        .into_iter()
        .map(|p| p.into_iter().map(|p| final_of[p as usize]).collect())
        .collect();
    (levels, final_codes)
}

/// Writes a chunk's column as numbers into `out` (one slot a row); returns the text in it that
/// is not a number, if a text column. Fails unless every slot is written.
fn fill_numbers(column: &Column, out: &mut [MaybeUninit<f64>]) -> PolarsResult<Option<NotNumbers>> {
    if column.dtype() == &DataType::String {
        let cast = column.cast(&DataType::Float64)?;
        let numbers = cast.f64()?;
        let text = column.str()?;
        let mut found: Option<NotNumbers> = None;
        let mut written = 0;
        for (row, ((slot, number), text)) in out
            .iter_mut()
            .zip(numbers.iter())
            .zip(text.iter())
            .enumerate()
        {
            slot.write(number.map_or(f64::NAN, finite_or_nan));
            written += 1;
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
        all_written(written, out.len())?;
        return Ok(found);
    }
    let mut writer = NumberWriter { out, written: 0 };
    each_chunk(column, &mut writer)?;
    all_written(writer.written, writer.out.len())?;
    Ok(None)
}

/// Writes a chunk's column as categories into `out` (each row's code among the chunk's
/// distinct values, or [`Categories::MISSING`]); returns those values. Fails unless every
/// slot is written.
fn fill_codes(column: &Column, out: &mut [MaybeUninit<u32>]) -> PolarsResult<ChunkLevels> {
    let len = out.len();
    if column.dtype().is_primitive_numeric() {
        let mut coder = NumberCoder {
            out,
            written: 0,
            small: [Categories::MISSING; SMALL_CODES],
            seen: Default::default(),
            distinct: Vec::new(),
        };
        each_chunk(column, &mut coder)?;
        all_written(coder.written, len)?;
        // Names as polars prints the original values (integers without ".0").
        let first_rows: Vec<IdxSize> = coder.distinct.iter().map(|d| d.1 as IdxSize).collect();
        let named = column
            .take(&IdxCa::from_vec("rows".into(), first_rows))?
            .cast(&DataType::String)?;
        let names = named.str()?;
        Ok(ChunkLevels::Numbers(
            coder
                .distinct
                .iter()
                .zip(names.iter())
                .map(|(&(v, _), name)| (v, name.unwrap_or_default().to_string()))
                .collect(),
        ))
    } else {
        let cast = column.cast(&DataType::String)?;
        let values = cast.str()?;
        let mut seen: foldhash::HashMap<&str, u32> = Default::default();
        let mut distinct: Vec<&str> = Vec::new();
        let mut written = 0;
        for (slot, v) in out.iter_mut().zip(values.iter()) {
            written += 1;
            let Some(v) = v.filter(|s| !s.is_empty()) else {
                slot.write(Categories::MISSING);
                continue;
            };
            let next = distinct.len() as u32;
            slot.write(*seen.entry(v).or_insert_with(|| {
                distinct.push(v);
                next
            }));
        }
        all_written(written, len)?;
        Ok(ChunkLevels::Text(
            distinct.into_iter().map(str::to_string).collect(),
        ))
    }
}

/// An error unless `written` values filled all `slots`.
fn all_written(written: usize, slots: usize) -> PolarsResult<()> {
    if written != slots {
        polars_bail!(ComputeError: "a column of {written} values in a chunk of {slots} rows");
    }
    Ok(())
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

/// [`Frame::numbers`]: the values written one after another, a null or a non-finite value as
/// NaN.
struct NumberWriter<'a> {
    out: &'a mut [MaybeUninit<f64>],
    /// Slots written.
    written: usize,
}

impl NumberWriter<'_> {
    fn write(&mut self, values: impl Iterator<Item = f64>) {
        let start = self.written.min(self.out.len());
        let mut written = 0;
        for (slot, v) in self.out[start..].iter_mut().zip(values) {
            slot.write(v);
            written += 1;
        }
        self.written += written;
    }
}

impl ChunkVisitor for NumberWriter<'_> {
    fn whole(&mut self, values: impl Iterator<Item = f64>) {
        self.write(values.map(finite_or_nan));
    }

    fn with_nulls(&mut self, values: impl Iterator<Item = Option<f64>>) {
        self.write(values.map(|v| v.map_or(f64::NAN, finite_or_nan)));
    }
}

/// Hands the chunks of a numeric column (a table read in pieces has several) to `visitor` in
/// row order. 64-bit floats and integers (what polars infers from a CSV) are read in place;
/// other types are cast first.
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

/// [`Frame::categories`] of a numeric column, for one chunk: each row's code in order of first
/// appearance in the chunk, keyed by the value's bits (−0 as 0); small whole numbers (the
/// usual codes: 0/1, group numbers) through a table instead of the hash map.
struct NumberCoder<'a> {
    out: &'a mut [MaybeUninit<u32>],
    /// Slots written.
    written: usize,
    small: [u32; SMALL_CODES],
    seen: foldhash::HashMap<u64, u32>,
    /// Each distinct value with the first row (of the chunk) holding it.
    distinct: Vec<(f64, usize)>,
}

impl NumberCoder<'_> {
    /// Codes the next row's value (NaN: missing).
    fn code(&mut self, v: f64) {
        let (row, next) = (self.written, self.distinct.len() as u32);
        let code = if v.is_nan() {
            Categories::MISSING
        } else {
            // −0 is 0 (the name stays the first cell's).
            let v = if v == 0.0 { 0.0 } else { v };
            let small_index = v as usize; // saturating: a negative number gives 0
            if small_index < SMALL_CODES && small_index as f64 == v {
                let code = &mut self.small[small_index];
                if *code == Categories::MISSING {
                    *code = next;
                    self.distinct.push((v, row));
                }
                *code
            } else {
                *self.seen.entry(v.to_bits()).or_insert_with(|| {
                    self.distinct.push((v, row));
                    next
                })
            }
        };
        if let Some(slot) = self.out.get_mut(row) {
            slot.write(code);
            self.written += 1;
        }
    }
}

impl ChunkVisitor for NumberCoder<'_> {
    fn whole(&mut self, values: impl Iterator<Item = f64>) {
        for v in values {
            self.code(v);
        }
    }

    fn with_nulls(&mut self, values: impl Iterator<Item = Option<f64>>) {
        for v in values {
            self.code(v.unwrap_or(f64::NAN));
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
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A frame read from CSV text (polars infers the types: integers, floats, text).
    fn frame(csv: &str) -> (tempfile::TempDir, Frame) {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("table.csv");
        std::fs::write(&path, csv).expect("write CSV");
        let wanted = [
            ("whole", ColumnUse::Numbers),
            ("real", ColumnUse::Numbers),
            ("whole", ColumnUse::Categories),
            ("real", ColumnUse::Categories),
            ("code", ColumnUse::Categories),
        ];
        let frame = Frame::read(&path, &wanted).expect("read");
        (dir, frame)
    }

    /// A column as read, in a form that compares (numbers by their bits).
    #[derive(Debug, PartialEq)]
    enum Seen {
        Absent,
        Numbers(Vec<u64>, Option<NotNumbers>),
        Categories(Categories),
    }

    fn seen(read: Vec<Option<ReadColumn>>) -> Vec<Seen> {
        read.into_iter()
            .map(|column| match column {
                None => Seen::Absent,
                Some((Extracted::Numbers(v), not_numbers)) => {
                    Seen::Numbers(v.iter().map(|x| x.to_bits()).collect(), not_numbers)
                }
                Some((Extracted::Categories(c), _)) => Seen::Categories(c),
            })
            .collect()
    }

    /// Every column of these tables, both ways, and one they lack.
    const SPECS: [(&str, ColumnUse); 7] = [
        ("time", ColumnUse::Numbers),
        ("label", ColumnUse::Categories),
        ("label", ColumnUse::Numbers),
        ("time", ColumnUse::Categories),
        ("group", ColumnUse::Categories),
        ("absent", ColumnUse::Numbers),
        ("x", ColumnUse::Numbers),
    ];

    /// Tables whose rows a chunk boundary could split wrongly: quoted fields holding line
    /// ends, separators and quotes; blank lines (rows of missing cells, as polars reads them);
    /// Windows line ends; no line end after the last row; a row longer than many chunks; text
    /// in a numeric column; −0 before 0.
    const TABLES: [&str; 6] = [
        "time,label,group,x\n1,\"a\nb\",1,0.5\n2,\"c,d\",2,-0.0\n3,\"e\"\"f\",1,0.0\n4,plain,3,\n",
        "time,label,group,x\n1,a,1,1\n\n2,b,2,2\n\n\n3,c,1,3\n\n",
        "time,label,group,x\r\n1,a,1,1.5\r\n2,\"b\r\nc\",2,2.5\r\n3,c,1,3.5",
        "time,label,group,x\n5,\"a long label, with a comma and a \"\"quote\"\", then more text to span many chunks\",7,1\n6,z,7,2\n",
        "time,label,group,x\n1,a,g,1\n2,b,h,oops\n3,c,g,\n4,d,,4\n5,e,h,five\n",
        "time,label,group,x\n-0.0,1,1,1\n0.0,2,1,2\n,3,2,3\n2.5,,2,4\n",
    ];

    #[test]
    fn a_csv_read_in_chunks_is_read_as_polars_reads_it_whole() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("table.csv");
        for (t, table) in TABLES.iter().enumerate() {
            std::fs::write(&path, table).expect("write CSV");
            // The reference: polars' own reader, the whole file in one frame.
            let whole = CsvReadOptions::default()
                .with_infer_schema_length(Some(INFER_SCHEMA_ROWS))
                .try_into_reader_with_file_path(Some(path.clone()))
                .and_then(|r| r.finish())
                .expect("polars reads the table");
            let present: Vec<bool> = SPECS.iter().map(|(c, _)| whole.column(c).is_ok()).collect();
            let expected = seen(
                extract(&SPECS, &present, &[whole.height()], |_| Ok(whole.clone()))
                    .expect("extract"),
            );
            assert!(matches!(expected[5], Seen::Absent));
            for piece in 1..=table.len() + 1 {
                let (height, read) = read_csv(&path, &SPECS, Some(piece)).expect("read");
                assert_eq!(height, whole.height(), "table {t}, pieces of {piece} bytes");
                assert_eq!(seen(read), expected, "table {t}, pieces of {piece} bytes");
            }
            let (height, read) = read_csv(&path, &SPECS, None).expect("read");
            assert_eq!(
                (height, seen(read)),
                (whole.height(), expected),
                "table {t}"
            );
        }
    }

    #[test]
    fn a_piece_is_scanned_as_polars_counts_its_lines() {
        use polars::io::csv::read::_csv_read_internal::CountLines;
        let counter = CountLines::new(Some(b'"'), b'\n', None);
        // Every string of up to 7 bytes over quote, line end, separator and a letter, then
        // longer ones drawn from a seeded generator.
        let alphabet = [b'"', b'\n', b',', b'a'];
        let mut pieces: Vec<Vec<u8>> = Vec::new();
        for len in 0..=7u32 {
            for code in 0..4usize.pow(len) {
                pieces.push((0..len).map(|k| alphabet[code >> (2 * k) & 3]).collect());
            }
        }
        let mut state = 20261202u64;
        for _ in 0..2_000 {
            let len = (state >> 33) as usize % 200;
            pieces.push(
                (0..len)
                    .map(|_| {
                        state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
                        alphabet[(state >> 62) as usize]
                    })
                    .collect(),
            );
        }
        for piece in &pieces {
            let expected = counter.analyze_chunk(piece).map(|s| PieceScan {
                row_ends: s.newline_count,
                last_row_end: s.last_newline_offset,
                ends_inside_quotes: s.end_inside_string,
            });
            assert_eq!(
                scan_piece(piece, Some(b'"'), b'\n'),
                expected,
                "{:?}",
                String::from_utf8_lossy(piece)
            );
        }
    }

    #[test]
    fn a_parquet_table_read_in_chunks_is_read_as_in_one() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let csv = dir.path().join("table.csv");
        let parquet = dir.path().join("table.parquet");
        std::fs::write(&csv, TABLES[4]).expect("write CSV");
        let mut frame = CsvReadOptions::default()
            .try_into_reader_with_file_path(Some(csv))
            .and_then(|r| r.finish())
            .expect("read CSV");
        let file = std::fs::File::create(&parquet).expect("create");
        ParquetWriter::new(file)
            .with_row_group_size(Some(2))
            .finish(&mut frame)
            .expect("write Parquet");
        let (height, one) = read_parquet(&parquet, &SPECS, usize::MAX).expect("read");
        assert_eq!(height, 5);
        let one = seen(one);
        let Seen::Categories(groups) = &one[4] else {
            panic!("group: {:?}", one[4]);
        };
        assert_eq!(groups.levels, ["g", "h"]);
        for rows in 1..=5 {
            let (_, chunked) = read_parquet(&parquet, &SPECS, rows).expect("read");
            assert_eq!(seen(chunked), one, "chunks of {rows} rows or more");
        }
    }

    #[test]
    fn text_in_a_numeric_column_is_found_whatever_the_chunks() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("table.csv");
        std::fs::write(&path, TABLES[4]).expect("write CSV");
        for piece in [1, 7, 30, 1000] {
            let (_, read) = read_csv(&path, &SPECS, Some(piece)).expect("read");
            let Some((Extracted::Numbers(x), not_numbers)) = &read[6] else {
                panic!("x not read as numbers");
            };
            assert!(same(x, &[1.0, f64::NAN, f64::NAN, 4.0, f64::NAN]), "{x:?}");
            // Two cells hold text; the first is row 1 (0-based).
            assert_eq!(
                not_numbers,
                &Some(NotNumbers {
                    count: 2,
                    first_row: 1,
                    first_text: "oops".into()
                }),
                "pieces of {piece} bytes"
            );
        }
    }

    #[test]
    fn a_column_wanted_twice_is_read_once_and_each_ask_gets_it() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("table.csv");
        std::fs::write(&path, TABLES[4]).expect("write CSV");
        let wanted = [
            ("group", ColumnUse::Categories),
            ("group", ColumnUse::Categories),
            ("time", ColumnUse::Numbers),
        ];
        let mut frame = Frame::read(&path, &wanted).expect("read");
        let first = frame.categories("group").expect("first ask");
        assert_eq!(frame.categories("group").expect("second ask"), first);
        // Asked more often than wanted, or in a use not wanted: an error, not a panic.
        assert!(frame.categories("group").is_err());
        assert!(frame.categories("time").is_err());
        assert!(matches!(
            frame.numbers("absent"),
            Err(Error::MissingColumn { .. })
        ));
        assert_eq!(
            frame.numbers("time").expect("time"),
            [1.0, 2.0, 3.0, 4.0, 5.0]
        );
    }

    #[test]
    fn a_compressed_csv_is_refused_with_a_reason() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("table.csv");
        // A gzip header.
        std::fs::write(&path, b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03").expect("write");
        let error = Frame::read(&path, &[("time", ColumnUse::Numbers)])
            .err()
            .expect("refused");
        assert!(error.to_string().contains("compressed"), "{error}");
    }

    fn same(a: &[f64], b: &[f64]) -> bool {
        a.len() == b.len()
            && a.iter()
                .zip(b)
                .all(|(x, y)| x == y || (x.is_nan() && y.is_nan()))
    }

    #[test]
    fn numbers_from_integer_and_float_columns_with_missing_cells() {
        let (_dir, mut f) =
            frame("whole,real,code\n3,1.5,a\n,-0.25,b\n-7,inf,\n9007199254740993,,c\n");
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
        let (_dir, mut f) = frame(csv);
        let whole = f.categories("whole").unwrap();
        assert_eq!(whole.levels, ["-2", "0", "1", "300"]);
        let m = Categories::MISSING;
        assert_eq!(whole.codes, [2, 3, m, 0, 2, 1, 3]);
        let real = f.categories("real").unwrap();
        assert_eq!(real.levels, ["-1.5", "0.0", "2.5", "1e+300"]);
        assert_eq!(real.codes, [1, 2, 1, m, 3, 2, 0]);
    }
}
