//! Typed errors of the library: each one means "the run could not happen" and names the file,
//! line, column or setting to fix. Row-level problems are never errors: they become
//! [`crate::schema::Rejection`]s and the run goes on.

use std::path::PathBuf;

/// Why a run could not happen. The CLI maps every variant to exit code 2
/// (docs/input-contract.md, "Runs that cannot start" and "Exit codes").
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be opened or read.
    #[error("{path}: cannot read: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// An output could not be written.
    #[error("{path}: cannot write: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A file has no header row at all (zero bytes, or only a byte-order mark / blank lines).
    #[error("{path}: the file is empty: expected a header row naming the columns")]
    EmptyFile { path: PathBuf },
    /// A file named `.csv` holds binary data (for example a Parquet or spreadsheet file).
    #[error("{path}: not a text CSV file (NUL byte at byte offset {offset}); if this is Parquet, name it .parquet")]
    NotText { path: PathBuf, offset: usize },
    /// The header row is not valid UTF-8.
    #[error("{path}, line 1: the header row is not valid UTF-8 text")]
    HeaderNotUtf8 { path: PathBuf },
    /// The CSV reader failed mid-file (an I/O failure; malformed quoting is tolerated by the reader).
    #[error("{path}, line {line}: cannot parse CSV: {message}")]
    Csv {
        path: PathBuf,
        line: u64,
        message: String,
    },
    /// polars could not read a CSV file as a table (no line to point at).
    #[error("{path}: cannot read as CSV: {message}")]
    CsvTable { path: PathBuf, message: String },
    /// A Parquet file could not be decoded.
    #[error("{path}: cannot read as Parquet: {message}")]
    Parquet { path: PathBuf, message: String },
    /// A Parquet column has a type bonemet cannot turn into values (a struct, say).
    #[error("{path}, column {column}: Parquet type {dtype} cannot be read; expected {expected}")]
    UnreadableColumnType {
        path: PathBuf,
        column: String,
        dtype: String,
        expected: String,
    },
    /// A required column is absent from a table.
    #[error("{path}, line 1: missing required column '{column}' (expected {expected})")]
    MissingColumn {
        path: PathBuf,
        column: String,
        expected: String,
    },
    /// Two columns of a table have the same name (after the mapping's renames).
    #[error("{path}, line 1: column '{column}' appears more than once (columns {first} and {second}); the table is ambiguous")]
    DuplicateColumn {
        path: PathBuf,
        column: String,
        first: usize,
        second: usize,
    },
    /// The file extension does not say CSV or Parquet.
    #[error("{path}: unknown file type: expected a name ending in .csv or .parquet")]
    UnknownFormat { path: PathBuf },
    /// The cohort directory lacks a patients table, or holds two (CSV and Parquet).
    #[error("{path}: {message}")]
    Cohort { path: PathBuf, message: String },
    /// The mapping file is not valid TOML or names something that does not exist.
    #[error("{path}: invalid mapping: {message}")]
    Mapping { path: PathBuf, message: String },
    /// The study settings file is not valid TOML, names an unknown key or has a bad value.
    #[error("{path}: invalid study settings: {message}")]
    Study { path: PathBuf, message: String },
    /// A setting given on the command line or in a settings file is out of its range.
    #[error("invalid setting {name}: {message}")]
    Setting { name: String, message: String },
    /// The output directory holds something bonemet did not write: it is not replaced.
    #[error("{path} {what}: bonemet run replaces only a directory it wrote (or an absent or empty one); choose another --out, or pass --force to replace it")]
    OutputNotOurs { path: PathBuf, what: &'static str },
    /// Another run is writing the same output directory.
    #[error("{path} is being written by another bonemet run (process {pid}; lock {lock})")]
    OutputLocked {
        path: PathBuf,
        pid: u32,
        lock: PathBuf,
    },
    /// An estimator cannot run on the data it was given (a singular design, no events...).
    #[error("{estimator}: cannot estimate: {source}")]
    Estimator {
        estimator: String,
        #[source]
        source: crate::stats::StatsError,
    },
    /// No row of a table can enter an analysis (each lacks a value it uses, say).
    #[error("{path}: nothing to analyse: {reason}")]
    NothingToAnalyse { path: PathBuf, reason: String },
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
