//! Fuzz target `study_toml`: the bytes as study.toml (--study) of the hand-written cohort (src/harness.rs).
#![no_main]

use bonemet_fuzz::harness::Surface;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| bonemet_fuzz::check(Surface::StudyToml, data));
