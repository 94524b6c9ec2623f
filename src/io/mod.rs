//! Input and output: reading table files (CSV or Parquet), the mapping file, the column
//! layout of a source table, locating a cohort's files, writing result tables, and the run's
//! output directory (what it may replace, its lock).

pub mod cohort_files;
pub mod frame;
pub mod layout;
pub mod mapping;
pub mod out_dir;
pub mod raw;
pub mod reader;
pub mod table;

pub use cohort_files::CohortFiles;
pub use layout::{Cell, TableLayout};
pub use mapping::{LoadedMapping, Mapping, TableMapping};
pub use raw::{RawChunk, TypedCell};
pub use reader::{FileFingerprint, Format, TableReader};
pub use table::{write_batched, OutputColumn, OutputFormat, OutputTable};
