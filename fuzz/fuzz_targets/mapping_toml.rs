//! Fuzz target `mapping_toml`: the bytes as the mapping file (--mapping) of the SEER-style extract (src/harness.rs).
#![no_main]

use bonemet_fuzz::harness::Surface;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| bonemet_fuzz::check(Surface::MappingToml, data));
