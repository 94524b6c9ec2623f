//! Writing result tables: typed columns → Parquet (with the run's settings as key-value
//! metadata) or CSV, through polars. Stages build an [`OutputTable`]; this module owns the
//! formats, so R, Python and spreadsheets all read the same columns.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

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

    /// The table as a polars frame (and its metadata).
    fn into_frame(self, path: &Path) -> Result<(DataFrame, Vec<(String, String)>)> {
        let height = self.height();
        let columns: Vec<Column> = self.columns.into_iter().map(|c| c.0).collect();
        let frame = DataFrame::new(height, columns).map_err(|e| write_error(path, e))?;
        Ok((frame, self.metadata))
    }

    /// Writes the table to `path` in `format`.
    pub fn write(self, path: &Path, format: OutputFormat) -> Result<()> {
        let metadata = self.metadata.clone();
        write_frames(
            &[(path.to_path_buf(), format)],
            &metadata,
            std::iter::once(self),
        )
    }
}

fn write_error(path: &Path, error: impl std::fmt::Display) -> Error {
    Error::Write {
        path: path.to_path_buf(),
        source: std::io::Error::other(error.to_string()),
    }
}

/// An open output file taking a table in row batches of one schema.
enum BatchWriter<'a> {
    Parquet(Box<polars::io::parquet::write::BatchedWriter<&'a mut BufWriter<File>>>),
    Csv(polars::io::csv::write::BatchedWriter<&'a mut BufWriter<File>>),
}

impl<'a> BatchWriter<'a> {
    /// A writer into `out` for tables shaped as `first`.
    fn new(
        out: &'a mut BufWriter<File>,
        format: OutputFormat,
        first: &DataFrame,
        metadata: Vec<(String, String)>,
    ) -> PolarsResult<Self> {
        let schema = first.schema();
        Ok(match format {
            OutputFormat::Parquet => {
                let metadata =
                    (!metadata.is_empty()).then(|| KeyValueMetadata::from_static(metadata));
                // LZ4 writes several times faster than zstd for a modestly larger file.
                Self::Parquet(Box::new(
                    ParquetWriter::new(out)
                        .with_compression(ParquetCompression::Lz4Raw)
                        .with_key_value_metadata(metadata)
                        .batched(schema)?,
                ))
            }
            OutputFormat::Csv => {
                Self::Csv(CsvWriter::new(out).include_header(true).batched(schema)?)
            }
        })
    }

    fn write(&mut self, frame: &DataFrame) -> PolarsResult<()> {
        match self {
            Self::Parquet(w) => w.write_batch(frame),
            Self::Csv(w) => w.write_batch(frame),
        }
    }

    /// Writes the footer (Parquet) or the header of an empty table (CSV).
    fn finish(self) -> PolarsResult<()> {
        match self {
            Self::Parquet(w) => w.finish().map(|_| ()),
            Self::Csv(mut w) => w.finish(),
        }
    }
}

/// Rows per batch of [`write_batched`] and per Parquet row group (polars' default row group):
/// small against a large cohort, large enough for fast columnar reads.
pub const BATCH_ROWS: usize = 512 * 512;

/// Writes one table of `rows` rows to every `(path, format)` of `targets`, built and written
/// [`BATCH_ROWS`] rows at a time by `batch(range)`, so that the whole table never sits in
/// memory: a large cohort's patient-level table costs one batch, not the cohort again. Each
/// batch goes to the files in parallel; `metadata` goes into the Parquet files.
pub fn write_batched(
    targets: &[(PathBuf, OutputFormat)],
    metadata: &[(String, String)],
    rows: usize,
    batch: impl Fn(std::ops::Range<usize>) -> OutputTable,
) -> Result<()> {
    // At least one batch, so that an empty table still has its header and schema.
    let batches = (0..rows.div_ceil(BATCH_ROWS).max(1))
        .map(|k| batch(k * BATCH_ROWS..((k + 1) * BATCH_ROWS).min(rows)));
    write_frames(targets, metadata, batches)
}

/// Writes the tables of `batches` (one schema), in order, to every target.
fn write_frames(
    targets: &[(PathBuf, OutputFormat)],
    metadata: &[(String, String)],
    mut batches: impl Iterator<Item = OutputTable>,
) -> Result<()> {
    use rayon::prelude::*;
    let (Some((first_path, _)), Some(first)) = (targets.first(), batches.next()) else {
        return Ok(());
    };
    let mut outs: Vec<BufWriter<File>> = targets
        .iter()
        .map(|(path, _)| {
            File::create(path)
                .map(BufWriter::new)
                .map_err(|source| Error::Write {
                    path: path.clone(),
                    source,
                })
        })
        .collect::<Result<_>>()?;
    let (mut frame, _) = first.into_frame(first_path)?;
    let failed = |e: PolarsError| {
        let paths: Vec<String> = targets
            .iter()
            .map(|(p, _)| p.display().to_string())
            .collect();
        write_error(Path::new(&paths.join(", ")), e)
    };
    {
        let mut writers: Vec<BatchWriter> = outs
            .iter_mut()
            .zip(targets)
            .map(|(out, (_, format))| BatchWriter::new(out, *format, &frame, metadata.to_vec()))
            .collect::<PolarsResult<_>>()
            .map_err(failed)?;
        loop {
            // A larger table goes in row-group-sized slices (zero-copy).
            for offset in (0..frame.height().max(1)).step_by(BATCH_ROWS) {
                let slice = frame.slice(offset as i64, BATCH_ROWS);
                writers
                    .par_iter_mut()
                    .try_for_each(|w| w.write(&slice))
                    .map_err(failed)?;
            }
            match batches.next() {
                Some(next) => frame = next.into_frame(first_path)?.0,
                None => break,
            }
        }
        writers
            .into_iter()
            .try_for_each(BatchWriter::finish)
            .map_err(failed)?;
    }
    for (out, (path, _)) in outs.iter_mut().zip(targets) {
        std::io::Write::flush(out).map_err(|source| Error::Write {
            path: path.clone(),
            source,
        })?;
    }
    Ok(())
}
