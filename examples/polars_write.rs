//! Floor for the run benchmark's write stage: polars alone writing a table that is already in
//! memory (a run's `tables/classified.parquet`, read untimed) to Parquet (LZ4, as bonemet
//! writes it) and to CSV, the two files `bonemet run` must write for the patient-level table.
//! Prints the wall time of each write and their sum as JSON.
//!
//! Usage: cargo run --release --example polars_write -- CLASSIFIED.parquet SCRATCH_DIR

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;
use std::time::Instant;

use polars::prelude::*;

fn main() -> PolarsResult<()> {
    let mut args = std::env::args().skip(1);
    let (Some(input), Some(scratch)) = (args.next(), args.next()) else {
        eprintln!("usage: polars_write CLASSIFIED.parquet SCRATCH_DIR");
        std::process::exit(2);
    };
    let scratch = PathBuf::from(scratch);
    let mut frame = ParquetReader::new(File::open(&input)?).finish()?;
    let start = Instant::now();
    let mut out = BufWriter::new(File::create(scratch.join("floor.parquet"))?);
    ParquetWriter::new(&mut out)
        .with_compression(ParquetCompression::Lz4Raw)
        .finish(&mut frame)?;
    drop(out);
    let parquet = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let mut out = BufWriter::new(File::create(scratch.join("floor.csv"))?);
    CsvWriter::new(&mut out)
        .include_header(true)
        .finish(&mut frame)?;
    drop(out);
    let csv = start.elapsed().as_secs_f64();
    println!(
        "{{\"parquet_seconds\": {parquet:.4}, \"csv_seconds\": {csv:.4}, \"seconds\": {:.4}, \"rows\": {}, \"columns\": {}}}",
        parquet + csv,
        frame.height(),
        frame.width()
    );
    Ok(())
}
