//! Input and output: reading table files (CSV or Parquet), the mapping file, the column
//! layout of a source table, and locating a cohort's files.

pub mod cohort_files;
pub mod layout;
pub mod mapping;
pub mod raw;
pub mod reader;

pub use cohort_files::CohortFiles;
pub use layout::{Cell, TableLayout};
pub use mapping::{LoadedMapping, Mapping, TableMapping};
pub use raw::RawChunk;
pub use reader::{FileFingerprint, Format, TableReader};
