//! Baseline for the ingestion benchmark: polars alone reading a cohort's CSV (or Parquet)
//! files into memory with inferred types, as a user of polars would. Prints the wall time
//! and the in-memory size of the frames (polars' `estimated_size`) as JSON.
//!
//! Usage: cargo run --release --example polars_read -- COHORT_DIR

use std::path::Path;
use std::time::Instant;

use polars::prelude::*;

fn read(path: &Path) -> PolarsResult<DataFrame> {
    if path.extension().is_some_and(|e| e == "parquet") {
        ParquetReader::new(std::fs::File::open(path)?).finish()
    } else {
        CsvReadOptions::default()
            .with_infer_schema_length(Some(10_000))
            .try_into_reader_with_file_path(Some(path.to_path_buf()))?
            .finish()
    }
}

fn main() -> PolarsResult<()> {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "target/bench/cohort".into());
    let start = Instant::now();
    let mut bytes = 0;
    let mut rows = Vec::new();
    for table in ["patients", "events", "labs"] {
        for ext in ["csv", "parquet"] {
            let path = Path::new(&dir).join(format!("{table}.{ext}"));
            if path.exists() {
                let frame = read(&path)?;
                bytes += frame.estimated_size();
                rows.push(frame.height());
            }
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    println!("{{\"seconds\": {seconds:.4}, \"in_memory_bytes\": {bytes}, \"rows\": {rows:?}}}");
    Ok(())
}
