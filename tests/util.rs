//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use bonemet::ingest::{ingest, Ingested};
use bonemet::io::{CohortFiles, LoadedMapping};
use polars::prelude::*;

/// A path under `tests/data/`.
pub fn data(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(path)
}

/// A path under the repository root.
pub fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// Runs the `bonemet` binary.
pub fn bonemet(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bonemet"))
        .args(args)
        .output()
        .expect("the bonemet binary runs")
}

/// Ingests a cohort directory with an optional mapping file.
pub fn ingest_dir(dir: &Path, mapping: Option<&Path>) -> bonemet::Result<Ingested> {
    let files = CohortFiles::resolve(Some(dir), None, None, None)?;
    ingest(&files, &LoadedMapping::load(mapping)?)
}

/// Writes `contents` to `dir/name`, returning the path.
pub fn write(dir: &Path, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, contents).expect("test file written");
    path
}

/// (table, line, patient_id, column, reason) of every rejection, in order.
pub fn rejection_keys(ingested: &Ingested) -> Vec<(String, u64, String, String, String)> {
    ingested
        .rejections
        .iter()
        .map(|r| {
            (
                r.table.as_str().to_string(),
                r.line,
                r.patient_id.clone(),
                r.column.clone(),
                r.reason.code().to_string(),
            )
        })
        .collect()
}

/// The same rows as a CSV table, as a Parquet frame: a column whose every non-empty value is a
/// whole number, an ISO date or true/false is typed (Int64, Date, Boolean), the rest is text.
pub fn csv_as_typed_frame(csv_path: &Path) -> DataFrame {
    let mut reader = csv::Reader::from_path(csv_path).expect("fixture CSV opens");
    let header: Vec<String> = reader
        .headers()
        .expect("fixture header")
        .iter()
        .map(str::to_string)
        .collect();
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("fixture row")).collect();
    let mut columns = Vec::new();
    for (c, name) in header.iter().enumerate() {
        let cells: Vec<Option<&str>> = rows
            .iter()
            .map(|r| r.get(c).filter(|s| !s.is_empty()))
            .collect();
        let all = |f: &dyn Fn(&str) -> bool| cells.iter().flatten().all(|s| f(s));
        let name: PlSmallStr = name.as_str().into();
        let column = if all(&|s| s.parse::<i64>().is_ok()) && cells.iter().any(Option::is_some) {
            let values: Vec<Option<i64>> = cells
                .iter()
                .map(|c| c.map(|s| s.parse().unwrap()))
                .collect();
            Column::new(name, values)
        } else if all(&|s| bonemet::schema::values::parse_date(s).is_some())
            && cells.iter().any(Option::is_some)
        {
            let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
            let days: Vec<Option<i32>> = cells
                .iter()
                .map(|c| {
                    c.and_then(bonemet::schema::values::parse_date)
                        .map(|d| (d - epoch).num_days() as i32)
                })
                .collect();
            Series::new(name, days).into_date().into()
        } else if all(&|s| s == "true" || s == "false") && cells.iter().any(Option::is_some) {
            let values: Vec<Option<bool>> = cells.iter().map(|c| c.map(|s| s == "true")).collect();
            Column::new(name, values)
        } else {
            Column::new(name, cells)
        };
        columns.push(column);
    }
    DataFrame::new(rows.len(), columns).expect("frame builds")
}

/// Writes a frame as Parquet.
pub fn write_parquet(frame: &mut DataFrame, path: &Path) {
    let file = std::fs::File::create(path).expect("parquet file created");
    ParquetWriter::new(file)
        .finish(frame)
        .expect("parquet written");
}

/// Reads a Parquet file into a frame.
pub fn read_parquet(path: &Path) -> DataFrame {
    let file = std::fs::File::open(path).expect("parquet file opens");
    ParquetReader::new(file).finish().expect("parquet read")
}

/// Compares `actual` with the reviewed snapshot `tests/data/SNAPSHOT`; with
/// BONEMET_UPDATE_SNAPSHOTS set, writes `actual` there first (to accept a reviewed change).
pub fn assert_snapshot(actual: &str, snapshot: &str) {
    let path = data(snapshot);
    if std::env::var_os("BONEMET_UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, actual).expect("snapshot written");
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        actual == expected,
        "{} differs: set BONEMET_UPDATE_SNAPSHOTS=1 to accept a reviewed change",
        path.display()
    );
}
