//! The fuzz targets' shared code: the harness (also compiled into the main crate's replay test)
//! and one harness per process for the targets.

use std::path::Path;
use std::sync::OnceLock;

pub mod harness;

use harness::{Harness, Surface};

/// Runs `data` as `surface` through the harness of this process (its temporary directory is
/// left behind when libFuzzer exits the process). The study settings also draw the charts
/// (their thresholds and horizons are drawn); the tables, for speed, do not.
pub fn check(surface: Surface, data: &[u8]) {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS
        .get_or_init(|| {
            let harness = Harness::new(repo());
            if surface == Surface::StudyToml {
                harness.with_charts()
            } else {
                harness
            }
        })
        .check(surface, data);
}

/// The repository root: the fuzz crate's parent.
fn repo() -> &'static Path {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR"));
    fuzz.parent().unwrap_or(fuzz)
}
