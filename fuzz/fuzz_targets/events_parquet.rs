//! Fuzz target `events_parquet`: the bytes as events.parquet, read beside the fixture's other two tables (src/harness.rs).
#![no_main]

use bonemet_fuzz::harness::Surface;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| bonemet_fuzz::check(Surface::EventsParquet, data));
