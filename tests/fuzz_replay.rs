//! Bad bytes never crash (issue #22, item 3), on stable Rust in CI: the fuzz corpus
//! (`fuzz/corpus/`), the crashers found so far (`tests/data/fuzz_regressions/`) and a few
//! thousand seeded mutations of the fixture files go through the fuzz targets' harness
//! (`fuzz/src/harness.rs`: the library entry points `bonemet run` uses), and a few dozen mutated
//! cohorts through the `bonemet` binary. For every case: no panic, no hang (each case within
//! [`CASE_LIMIT`], watched from another thread), an exit code of the contract (0, 2 or 3), and
//! rows read = accepted + rejected per table whenever the run happens. A failing case's bytes
//! are saved under `target/fuzz-replay-failures/SURFACE/` to be minimised into a regression
//! fixture. Same seeds, same cases, on every run.

#[path = "../fuzz/src/harness.rs"]
mod harness;

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use harness::{Harness, Surface};

use crate::util::*;

/// The longest one case may take (debug build, two loaded cores) before it counts as a hang.
/// The slowest case measured took well under a second.
const CASE_LIMIT: Duration = Duration::from_secs(30);

/// `n` scaled by `BONEMET_FUZZ_SCALE` (default 1): `BONEMET_FUZZ_SCALE=20 cargo test --release
/// fuzz_replay` runs twenty times the cases, new ones after the first `n`, for a longer search.
fn scaled(n: usize) -> usize {
    let scale = std::env::var("BONEMET_FUZZ_SCALE")
        .ok()
        .and_then(|s| s.parse::<usize>().ok())
        .unwrap_or(1);
    n * scale.max(1)
}

/// A case: a label saying how it was made (for the failure report), and its bytes.
type Case = (String, Vec<u8>);

/// Runs every case through `surface` on a worker thread watched by this one; fails listing
/// every case that panicked, and at once when a case overruns [`CASE_LIMIT`]. Returns the
/// outcomes' exit codes (for the callers' sanity checks).
fn replay(surface: Surface, cases: Vec<Case>) -> Vec<u8> {
    replay_with(Harness::new(&repo("")), surface, cases)
}

/// [`replay`] through `harness`.
fn replay_with(harness: Harness, surface: Surface, cases: Vec<Case>) -> Vec<u8> {
    let total = cases.len();
    let started = Instant::now();
    let (done, finished) = mpsc::channel::<(usize, Duration, Result<u8, String>)>();
    let labels: Vec<String> = cases.iter().map(|(label, _)| label.clone()).collect();
    let inputs: Vec<Vec<u8>> = cases.iter().map(|(_, bytes)| bytes.clone()).collect();
    std::thread::spawn(move || {
        for (i, (_, bytes)) in cases.into_iter().enumerate() {
            let start = Instant::now();
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                harness.check(surface, &bytes)
            }));
            let result = match outcome {
                Ok(outcome) => match (outcome.exit_code, &outcome.error) {
                    (2, Some(_)) => Ok(2),
                    (0 | 3, None) if !outcome.balance.is_empty() => Ok(outcome.exit_code),
                    (code, error) => Err(format!(
                        "exit code {code}, error {error:?}, balance {:?}",
                        outcome.balance
                    )),
                },
                Err(panic) => Err(panic_message(&panic)),
            };
            if done.send((i, start.elapsed(), result)).is_err() {
                return;
            }
        }
    });
    let mut codes = Vec::with_capacity(total);
    let mut failures = Vec::new();
    let mut slowest = (Duration::ZERO, String::new());
    for expected in 0..total {
        let (i, took, result) = match finished.recv_timeout(CASE_LIMIT) {
            Ok(message) => message,
            Err(_) => {
                let saved = save_failure(surface, &labels[expected], &inputs[expected]);
                panic!(
                    "{}: case {} did not finish within {CASE_LIMIT:?} (a hang?); input saved as {}",
                    surface.name(),
                    labels[expected],
                    saved.display()
                );
            }
        };
        if took > slowest.0 {
            slowest = (took, labels[i].clone());
        }
        match result {
            Ok(code) => codes.push(code),
            Err(why) => {
                let saved = save_failure(surface, &labels[i], &inputs[i]);
                failures.push(format!("{} ({}): {why}", labels[i], saved.display()));
            }
        }
    }
    eprintln!(
        "{}: {total} cases in {:.2} s (slowest {:.3} s: {}); exit codes 0/2/3: {}/{}/{}",
        surface.name(),
        started.elapsed().as_secs_f64(),
        slowest.0.as_secs_f64(),
        slowest.1,
        codes.iter().filter(|&&c| c == 0).count(),
        codes.iter().filter(|&&c| c == 2).count(),
        codes.iter().filter(|&&c| c == 3).count(),
    );
    assert!(
        failures.is_empty(),
        "{}: {} of {total} cases failed:\n{}",
        surface.name(),
        failures.len(),
        failures.join("\n")
    );
    codes
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    let text = panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "a panic without a message".into());
    format!("panicked: {text}")
}

/// Saves a failing input under target/fuzz-replay-failures/SURFACE/.
fn save_failure(surface: Surface, label: &str, bytes: &[u8]) -> PathBuf {
    let dir = repo("target/fuzz-replay-failures").join(surface.name());
    let _ = std::fs::create_dir_all(&dir);
    let name: String = label
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let path = dir.join(name);
    let _ = std::fs::write(&path, bytes);
    path
}

/// Every file of `dir` but README.md, sorted, as cases labelled by file name.
fn files_of(dir: &Path) -> Vec<Case> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.file_name().is_some_and(|n| n != "README.md"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).expect("a corpus file reads");
            let label = p.strip_prefix(repo("")).unwrap_or(&p).display().to_string();
            (label, bytes)
        })
        .collect()
}

#[test]
fn the_fuzz_corpus_and_the_regression_fixtures_replay_cleanly() {
    let mut replayed = 0;
    for surface in Surface::ALL {
        let mut cases = files_of(&repo("fuzz/corpus").join(surface.name()));
        assert!(
            !cases.is_empty(),
            "fuzz/corpus/{} has no seed",
            surface.name()
        );
        cases.extend(files_of(&data("fuzz_regressions").join(surface.name())));
        replayed += cases.len();
        // These few cases also draw the charts (the mutations leave that to the binary's runs).
        replay_with(Harness::new(&repo("")).with_charts(), surface, cases);
    }
    assert!(replayed >= Surface::ALL.len());
}

// ---------------------------------------------------------------------------------------------
// Mutations.

/// The seeded generator of the mutations (the library's SplitMix64): one stream per case, so
/// that a case is the same whatever the others.
struct Rng(bonemet::synth::model::Rng);

impl Rng {
    fn new(seed: u64, case: u64) -> Self {
        Self(bonemet::synth::model::Rng::for_patient(seed, case))
    }
    fn below(&mut self, n: usize) -> usize {
        (self.0.next_u64() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, p: f64) -> bool {
        self.0.chance(p)
    }
    fn pick<'a, T: ?Sized>(&mut self, items: &[&'a T]) -> &'a T {
        items[self.below(items.len())]
    }
}

/// Values a cell should never break anything with: numbers at and past every limit, dates at
/// the calendar's ends and beyond, text that is not text.
const ODD_CELLS: &[&str] = &[
    "1e308",
    "-1e308",
    "1.7976931348623157e309",
    "1e-320",
    "99999999999999999999999999",
    "9223372036854775807",
    "-9223372036854775808",
    "9223372036854775808",
    "18446744073709551616",
    "4294967295",
    "4294967296",
    "NaN",
    "nan",
    "inf",
    "-inf",
    "Infinity",
    "-0",
    "0",
    "-1",
    "0.0000001",
    "1e3",
    "0x1F",
    "1_000",
    "0000-01-01",
    "0001-01-01",
    "9999-12-31",
    "2021-02-29",
    "2020-02-29",
    "0000-00-00",
    "2021-13-01",
    "+2021-01-01",
    "2021-01-01T24:00",
    "2021-01-01T23:59:59.999999999",
    "9999-12-31T23:59",
    "0000-01-01T00:00",
    "2021-01-01 08:15:00.1234567890",
    "",
    " ",
    "\"\"",
    "é",
    "\u{feff}x",
    "dead",
    "alive",
    "m",
    "F",
    "ivb",
    "P01",
    "P02",
    "spine_thoracic;femur;;;",
    ";",
    "calcium",
    "mg/dl",
    "ntx",
    "true",
    "YES",
];

/// Byte strings to insert: delimiters, quotes, line ends, NUL, broken UTF-8, a BOM, a long run.
const ODD_BYTES: &[&[u8]] = &[
    b",",
    b"\"",
    b"\n",
    b"\r",
    b"\r\n",
    b"\0",
    b"\xff",
    b"\xc3",
    b"\xe2\x82",
    b";",
    b"\t",
    b" ",
    b"\"\"",
    b",,,,",
    b"\xef\xbb\xbf",
    b"\n\n\n",
    b"\"\n\"",
];

fn lines_of(bytes: &[u8]) -> Vec<Vec<u8>> {
    bytes
        .split_inclusive(|&b| b == b'\n')
        .map(<[u8]>::to_vec)
        .collect()
}

/// A cell of a line, as the byte range between commas (quotes ignored: a mutation may break
/// them anyway).
fn cell_range(line: &[u8], rng: &mut Rng) -> std::ops::Range<usize> {
    let end_of_text = line
        .iter()
        .rposition(|&b| b != b'\n' && b != b'\r')
        .map_or(0, |p| p + 1);
    let commas: Vec<usize> = line[..end_of_text]
        .iter()
        .enumerate()
        .filter(|(_, &b)| b == b',')
        .map(|(i, _)| i)
        .collect();
    let k = rng.below(commas.len() + 1);
    let start = if k == 0 { 0 } else { commas[k - 1] + 1 };
    let end = commas.get(k).copied().unwrap_or(end_of_text);
    start..end
}

/// Splits each line at commas (line end kept apart), for column-wise mutations.
fn split_rows(bytes: &[u8]) -> Vec<(Vec<Vec<u8>>, Vec<u8>)> {
    lines_of(bytes)
        .into_iter()
        .map(|line| {
            let text_end = line
                .iter()
                .rposition(|&b| b != b'\n' && b != b'\r')
                .map_or(0, |p| p + 1);
            let cells = line[..text_end]
                .split(|&b| b == b',')
                .map(<[u8]>::to_vec)
                .collect();
            (cells, line[text_end..].to_vec())
        })
        .collect()
}

fn join_rows(rows: Vec<(Vec<Vec<u8>>, Vec<u8>)>) -> Vec<u8> {
    let mut out = Vec::new();
    for (cells, end) in rows {
        out.extend(cells.join(&b","[..]));
        out.extend(end);
    }
    out
}

/// One mutation of a CSV file; returns its name.
fn mutate_csv(bytes: &mut Vec<u8>, rng: &mut Rng) -> &'static str {
    let len = bytes.len();
    match rng.below(24) {
        0 if len > 0 => {
            let i = rng.below(len);
            bytes[i] ^= 1 << rng.below(8);
            "flip"
        }
        1 => {
            let insert = rng.pick(ODD_BYTES);
            let at = rng.below(len + 1);
            bytes.splice(at..at, insert.iter().copied());
            "insert"
        }
        2 if len > 0 => {
            let at = rng.below(len);
            let end = (at + 1 + rng.below(16)).min(len);
            bytes.drain(at..end);
            "delete"
        }
        3 => {
            bytes.truncate(rng.below(len + 1));
            "truncate"
        }
        4 | 5 => {
            let mut lines = lines_of(bytes);
            if !lines.is_empty() {
                let line = lines[rng.below(lines.len())].clone();
                let copies = if rng.chance(0.2) { 50 } else { 1 };
                let at = rng.below(lines.len() + 1);
                lines.splice(at..at, std::iter::repeat_n(line, copies));
            }
            *bytes = lines.concat();
            "duplicate_line"
        }
        6 => {
            let mut lines = lines_of(bytes);
            if !lines.is_empty() {
                lines.remove(rng.below(lines.len()));
            }
            *bytes = lines.concat();
            "delete_line"
        }
        7 => {
            let to = *rng.pick(&[&b';', &b'\t', &b'|', &b'"']);
            if rng.chance(0.5) {
                bytes
                    .iter_mut()
                    .filter(|b| **b == b',')
                    .for_each(|b| *b = to);
            } else if let Some(i) = bytes.iter().position(|&b| b == b',') {
                let n = bytes.iter().filter(|&&b| b == b',').count();
                let k = rng.below(n);
                let at = bytes
                    .iter()
                    .enumerate()
                    .filter(|(_, &b)| b == b',')
                    .nth(k)
                    .map_or(i, |(j, _)| j);
                bytes[at] = to;
            }
            "swap_delimiter"
        }
        8..=12 => {
            // An odd value in a cell of a random line (never the header's first cell).
            let mut lines = lines_of(bytes);
            if !lines.is_empty() {
                let l = if lines.len() > 1 {
                    1 + rng.below(lines.len() - 1)
                } else {
                    0
                };
                let range = cell_range(&lines[l], rng);
                let value = rng.pick(ODD_CELLS).as_bytes().to_vec();
                lines[l].splice(range, value);
            }
            *bytes = lines.concat();
            "odd_cell"
        }
        13 => {
            let mut lines = lines_of(bytes);
            if !lines.is_empty() {
                let l = rng.below(lines.len());
                let range = cell_range(&lines[l], rng);
                let quoted = match rng.below(3) {
                    0 => [b"\"".as_slice(), &lines[l][range.clone()], b"\""].concat(),
                    1 => [b"\"".as_slice(), &lines[l][range.clone()]].concat(),
                    _ => [b"\"".as_slice(), &lines[l][range.clone()], b"\n,\""].concat(),
                };
                lines[l].splice(range, quoted);
            }
            *bytes = lines.concat();
            "quote"
        }
        14 => {
            let at = rng.below(len + 1);
            let odd = *rng.pick(&[
                &b"\xff".as_slice(),
                &b"\xc3".as_slice(),
                &b"\xed\xa0\x80".as_slice(),
            ]);
            bytes.splice(at..at, odd.iter().copied());
            "invalid_utf8"
        }
        15 => {
            bytes.splice(0..0, "\u{feff}".bytes());
            "bom"
        }
        16 => {
            let mut out = Vec::with_capacity(len + len / 20);
            for &b in bytes.iter() {
                if b == b'\n' {
                    out.push(b'\r');
                }
                out.push(b);
            }
            *bytes = out;
            "crlf"
        }
        17 => {
            bytes
                .iter_mut()
                .filter(|b| **b == b'\n')
                .for_each(|b| *b = b'\r');
            "cr_only"
        }
        18 => {
            bytes.clear();
            "empty"
        }
        19 => {
            let header_end = bytes
                .iter()
                .position(|&b| b == b'\n')
                .map_or(len, |p| p + 1);
            bytes.truncate(header_end);
            "header_only"
        }
        20 => {
            // Columns reordered in every line alike (a valid table), or in the header only.
            let mut rows = split_rows(bytes);
            let width = rows.first().map_or(0, |(cells, _)| cells.len());
            if width > 1 {
                let mut order: Vec<usize> = (0..width).collect();
                for i in (1..width).rev() {
                    order.swap(i, rng.below(i + 1));
                }
                let header_only = rng.chance(0.3);
                for (r, (cells, _)) in rows.iter_mut().enumerate() {
                    if cells.len() == width && (r == 0 || !header_only) {
                        *cells = order.iter().map(|&c| cells[c].clone()).collect();
                    }
                }
            }
            *bytes = join_rows(rows);
            "shuffle_columns"
        }
        21 => {
            // A column dropped everywhere, or one added (sometimes a duplicate name).
            let mut rows = split_rows(bytes);
            let width = rows.first().map_or(0, |(cells, _)| cells.len());
            let drop = rng.chance(0.5);
            let c = rng.below(width.max(1));
            let name = if rng.chance(0.5) {
                rows.first()
                    .and_then(|(cells, _)| cells.get(c).cloned())
                    .unwrap_or_default()
            } else {
                b"extra".to_vec()
            };
            for (r, (cells, _)) in rows.iter_mut().enumerate() {
                if drop {
                    if c < cells.len() {
                        cells.remove(c);
                    }
                } else {
                    cells.push(if r == 0 { name.clone() } else { b"x".to_vec() });
                }
            }
            *bytes = join_rows(rows);
            if drop {
                "drop_column"
            } else {
                "add_column"
            }
        }
        22 => {
            // Two rows' cells of one column swapped (dates, ids, units out of place).
            let mut rows = split_rows(bytes);
            if rows.len() > 2 {
                let (a, b) = (1 + rng.below(rows.len() - 1), 1 + rng.below(rows.len() - 1));
                let c = rng.below(rows[a].0.len().min(rows[b].0.len()).max(1));
                if c < rows[a].0.len() && c < rows[b].0.len() {
                    let cell = rows[a].0[c].clone();
                    rows[a].0[c] = std::mem::replace(&mut rows[b].0[c], cell);
                }
            }
            *bytes = join_rows(rows);
            "swap_cells"
        }
        _ => {
            // A header name padded or changed in case.
            let mut rows = split_rows(bytes);
            if let Some((cells, _)) = rows.first_mut() {
                if !cells.is_empty() {
                    let c = rng.below(cells.len());
                    cells[c] = if rng.chance(0.5) {
                        [b" ".as_slice(), &cells[c], b" "].concat()
                    } else {
                        cells[c].to_ascii_uppercase()
                    };
                }
            }
            *bytes = join_rows(rows);
            "header_name"
        }
    }
}

/// One mutation of a binary (Parquet) file, biased to its footer (the metadata).
fn mutate_binary(bytes: &mut Vec<u8>, rng: &mut Rng) -> &'static str {
    let len = bytes.len();
    if len == 0 {
        bytes.extend_from_slice(b"PAR1");
        return "magic";
    }
    // Half the positions fall in the last 2 KiB (the footer and the column chunks' ends).
    let position = |rng: &mut Rng| {
        if rng.chance(0.5) {
            len.saturating_sub(2048) + rng.below(len.min(2048))
        } else {
            rng.below(len)
        }
    };
    match rng.below(8) {
        0 | 1 => {
            let i = position(rng);
            bytes[i] ^= 1 << rng.below(8);
            "flip"
        }
        2 => {
            let i = position(rng);
            bytes[i] = *rng.pick(&[&0u8, &0xff, &0x7f, &0x80, &0x15, &0x19]);
            "set_byte"
        }
        3 if len >= 4 => {
            // A 32-bit field made huge or negative (lengths, counts, offsets).
            let i = position(rng).min(len - 4);
            let value = *rng.pick(&[&0u32, &0x7fff_ffff, &0xffff_ffff, &0x8000_0000, &1]);
            bytes[i..i + 4].copy_from_slice(&value.to_le_bytes());
            "int32"
        }
        4 => {
            bytes.truncate(position(rng));
            "truncate"
        }
        5 => {
            let at = position(rng);
            let end = (at + 1 + rng.below(32)).min(len);
            bytes.drain(at..end);
            "delete"
        }
        6 => {
            let at = position(rng);
            let insert = rng.pick(ODD_BYTES).to_vec();
            bytes.splice(at..at, insert);
            "insert"
        }
        _ => {
            // A run of bytes copied from elsewhere in the file.
            let from = rng.below(len);
            let end = (from + 1 + rng.below(64)).min(len);
            let run = bytes[from..end].to_vec();
            let at = position(rng);
            let stop = (at + run.len()).min(len);
            bytes.splice(at..stop, run);
            "copy_run"
        }
    }
}

/// `n` cases, each 1 to 3 mutations of `seed_file` chained; labels name the mutations.
fn mutations(
    surface: Surface,
    seed: u64,
    n: usize,
    mutate: fn(&mut Vec<u8>, &mut Rng) -> &'static str,
) -> Vec<Case> {
    let original = std::fs::read(surface.seed_file(&repo(""))).expect("the seed file reads");
    (0..n)
        .map(|case| {
            let mut rng = Rng::new(seed, case as u64);
            let mut bytes = original.clone();
            let mut names = Vec::new();
            for _ in 0..1 + rng.below(3) {
                names.push(mutate(&mut bytes, &mut rng));
            }
            (
                format!("{}-{case}-{}", surface.name(), names.join("+")),
                bytes,
            )
        })
        .collect()
}

fn assert_some_of_each(codes: &[u8], expected: &[u8], what: &str) {
    for code in expected {
        assert!(
            codes.contains(code),
            "{what}: no case ended with exit code {code}: the mutations miss a path"
        );
    }
}

#[test]
fn mutated_patients_csv_never_crash() {
    let codes = replay(
        Surface::PatientsCsv,
        mutations(Surface::PatientsCsv, 0x22_03_01, scaled(500), mutate_csv),
    );
    assert_some_of_each(&codes, &[2, 3], "patients.csv");
}

#[test]
fn mutated_events_csv_never_crash() {
    let codes = replay(
        Surface::EventsCsv,
        mutations(Surface::EventsCsv, 0x22_03_02, scaled(400), mutate_csv),
    );
    assert_some_of_each(&codes, &[2, 3], "events.csv");
}

#[test]
fn mutated_labs_csv_never_crash() {
    let codes = replay(
        Surface::LabsCsv,
        mutations(Surface::LabsCsv, 0x22_03_03, scaled(400), mutate_csv),
    );
    assert_some_of_each(&codes, &[2, 3], "labs.csv");
}

#[test]
fn mutated_parquet_bytes_never_crash() {
    for (surface, seed) in [
        (Surface::PatientsParquet, 0x22_03_04),
        (Surface::EventsParquet, 0x22_03_05),
        (Surface::LabsParquet, 0x22_03_06),
    ] {
        replay(
            surface,
            mutations(surface, seed, scaled(250), mutate_binary),
        );
    }
}

/// A valid Parquet file with odd column types and values: a column cast to another type (a
/// number as text or as an unsigned or 32-bit float, a date as a date-time, text as
/// binary...), made all null, given values at the types' limits (NaN, infinities, the largest
/// integers, dates millions of years away), wrapped in lists; written in one-row groups, or
/// with no row at all.
fn odd_parquet(csv: &Path, rng: &mut Rng) -> (String, Vec<u8>) {
    use polars::prelude::*;
    let frame = csv_as_typed_frame(csv);
    let height = frame.height();
    let mut columns: Vec<Column> = frame.columns().to_vec();
    let mut names = Vec::new();
    for _ in 0..1 + rng.below(3) {
        let c = rng.below(columns.len());
        let name = columns[c].name().clone();
        let series = columns[c].as_materialized_series().clone();
        let (what, new): (&str, Column) = match rng.below(10) {
            0..=2 => {
                let to = match rng.below(11) {
                    0 => DataType::Float64,
                    1 => DataType::Float32,
                    2 => DataType::Int32,
                    3 => DataType::UInt32,
                    4 => DataType::Int64,
                    5 => DataType::UInt64,
                    6 => DataType::Float32,
                    7 => DataType::Boolean,
                    8 => DataType::Date,
                    9 => DataType::Datetime(TimeUnit::Milliseconds, None),
                    _ => DataType::String,
                };
                ("cast", cast_or_null(&series, &to).into())
            }
            3 => {
                let dtype = match rng.below(4) {
                    0 => DataType::Null,
                    1 => DataType::Float64,
                    2 => DataType::Boolean,
                    _ => series.dtype().clone(),
                };
                ("all_null", Column::full_null(name, height, &dtype))
            }
            4 => {
                let values = [
                    f64::NAN,
                    f64::INFINITY,
                    f64::NEG_INFINITY,
                    -0.0,
                    1e308,
                    5e-324,
                ];
                let v: Vec<Option<f64>> = (0..height)
                    .map(|_| (!rng.chance(0.2)).then(|| values[rng.below(values.len())]))
                    .collect();
                ("odd_floats", Column::new(name, v))
            }
            5 => {
                let values = [i64::MAX, i64::MIN, 0, -1, 255, 4_294_967_296];
                let v: Vec<Option<i64>> = (0..height)
                    .map(|_| (!rng.chance(0.2)).then(|| values[rng.below(values.len())]))
                    .collect();
                ("odd_ints", Column::new(name, v))
            }
            6 => {
                let days = [i32::MAX, i32::MIN, -719_528, 2_932_896, 0];
                let v: Vec<Option<i32>> = (0..height)
                    .map(|_| (!rng.chance(0.2)).then(|| days[rng.below(days.len())]))
                    .collect();
                ("odd_dates", Series::new(name, v).into_date().into())
            }
            7 => {
                let ms = [i64::MAX, i64::MIN, -62_135_596_800_000, 253_402_300_799_000];
                let v: Vec<Option<i64>> = (0..height)
                    .map(|_| (!rng.chance(0.2)).then(|| ms[rng.below(ms.len())]))
                    .collect();
                let s = Series::new(name, v).into_datetime(TimeUnit::Milliseconds, None);
                ("odd_datetimes", s.into())
            }
            8 => {
                let text = cast_or_null(&series, &DataType::String);
                let lists: ListChunked = (0..height)
                    .map(|i| {
                        let mut item = text.slice(i as i64, 1);
                        match rng.below(3) {
                            0 => None,
                            1 => Some(item),
                            _ => {
                                // Two items: this row's and the first row's.
                                item.append(&text.slice(0, 1)).ok()?;
                                Some(item)
                            }
                        }
                    })
                    .collect();
                ("list", lists.with_name(name).into_series().into())
            }
            _ => {
                let text = cast_or_null(&series, &DataType::String);
                ("binary", cast_or_null(&text, &DataType::Binary).into())
            }
        };
        names.push(format!("{what}:{}", columns[c].name()));
        columns[c] = new;
    }
    let mut frame = DataFrame::new(height, columns).expect("the odd frame builds");
    if rng.chance(0.1) {
        frame = frame.head(Some(0));
        names.push("no_rows".into());
    }
    let mut bytes = Vec::new();
    let row_group = rng.chance(0.3).then_some(1);
    if row_group.is_some() {
        names.push("row_groups_of_1".into());
    }
    ParquetWriter::new(&mut bytes)
        .with_row_group_size(row_group)
        .finish(&mut frame)
        .expect("the odd frame is written as Parquet");
    (names.join("+"), bytes)
}

/// `series` cast to `dtype` (values that do not fit made null), or all null when polars
/// cannot cast it (or panics trying: a date beyond the calendar, made odd by an earlier step).
fn cast_or_null(
    series: &polars::prelude::Series,
    dtype: &polars::prelude::DataType,
) -> polars::prelude::Series {
    use polars::chunked_array::cast::CastOptions;
    let cast = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        series.cast_with_options(dtype, CastOptions::NonStrict)
    }));
    match cast {
        Ok(Ok(cast)) => cast,
        _ => polars::prelude::Series::full_null(series.name().clone(), series.len(), dtype),
    }
}

#[test]
fn valid_parquet_with_odd_column_types_and_values_never_crashes() {
    for (surface, seed) in [
        (Surface::PatientsParquet, 0x22_03_07),
        (Surface::EventsParquet, 0x22_03_08),
        (Surface::LabsParquet, 0x22_03_09),
    ] {
        let csv = data("fixture").join(format!("{}.csv", surface.table().unwrap()));
        let cases = (0..scaled(60) as u64)
            .map(|case| {
                let (label, bytes) = odd_parquet(&csv, &mut Rng::new(seed, case));
                (format!("{}-odd-{case}-{label}", surface.name()), bytes)
            })
            .collect();
        replay(surface, cases);
    }
}

/// The keys of study.toml and values at and past every limit of their types.
const STUDY_KEYS: &[&str] = &[
    "corrected_calcium_formula",
    "correct_only_below_40",
    "calcium_normal_low_mmol_l",
    "calcium_normal_high_mmol_l",
    "grading_scheme",
    "crisis_threshold_mmol_l",
    "hypercalcaemia_is_sre",
    "sre_merge_window_days",
    "ntx_moderate_from",
    "ntx_high_from",
    "ctx_sampling_before_hour",
    "synchronous_window_days",
    "oligometastatic_max_metastases",
    "oligometastatic_max_organs",
    "tumor_size_cutoff_mm",
    "horizons_months",
    "sre_horizon_months",
    "landmark_months",
    "consistent_half_width_share",
];

const TOML_VALUES: &[&str] = &[
    "0",
    "1",
    "-1",
    "24",
    "25",
    "4294967295",
    "4294967296",
    "9223372036854775807",
    "-9223372036854775808",
    "0.0",
    "-0.0",
    "1e-320",
    "0.0001",
    "1e6",
    "1e15",
    "1e308",
    "-1e308",
    "nan",
    "inf",
    "-inf",
    "\"payne\"",
    "\"review\"",
    "\"ctcae5\"",
    "\"PAYNE\"",
    "\"\"",
    "true",
    "[]",
    "[1e308]",
    "[0.001]",
    "[1.0, 1.0]",
    "[3.0, 2.0]",
    "[6.0, 12.0, 1e15]",
    "[1e-9, 1e300]",
    "[0.5, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0]",
    "[nan]",
    "{}",
    "1979-05-27",
];

/// Values of study.toml's keys by type: in range, at the ends of their range and past them
/// (the settings' own check refuses some: exit 2).
fn study_value(key: &str, rng: &mut Rng) -> &'static str {
    const COUNTS: &[&str] = &[
        "0",
        "1",
        "7",
        "24",
        "25",
        "365",
        "100000",
        "2147483647",
        "4294967295",
    ];
    const AMOUNTS: &[&str] = &[
        "1e-320",
        "1e-9",
        "0.001",
        "0.5",
        "1.0",
        "2.5",
        "2.6",
        "3.5",
        "50.0",
        "100.0",
        "1e6",
        "1e15",
        "1e300",
        "1.7976931348623157e308",
    ];
    const HORIZONS: &[&str] = &[
        "[1e-320]",
        "[1e-9]",
        "[0.001, 1e15]",
        "[6.0, 12.0, 24.0, 1e300]",
        "[1.7976931348623157e308]",
        "[0.5, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 600.0]",
        "[3.0, 6.0, 12.0, 24.0, 36.0, 60.0, 120.0]",
    ];
    if rng.chance(0.15) {
        return rng.pick(TOML_VALUES);
    }
    match key {
        "corrected_calcium_formula" => rng.pick(&["\"review\"", "\"payne\""]),
        "grading_scheme" => rng.pick(&["\"severity\"", "\"ctcae5\""]),
        "correct_only_below_40" | "hypercalcaemia_is_sre" => rng.pick(&["true", "false"]),
        "horizons_months" => rng.pick(HORIZONS),
        "sre_merge_window_days"
        | "ctx_sampling_before_hour"
        | "synchronous_window_days"
        | "oligometastatic_max_metastases"
        | "oligometastatic_max_organs" => rng.pick(COUNTS),
        _ => rng.pick(AMOUNTS),
    }
}

/// study.toml cases: a few keys set to values at the ends of their types, then sometimes a
/// byte-level mutation on top.
fn study_cases(seed: u64, n: usize) -> Vec<Case> {
    (0..n)
        .map(|case| {
            let mut rng = Rng::new(seed, case as u64);
            let mut text = String::new();
            let mut label = Vec::new();
            for _ in 0..1 + rng.below(5) {
                let key = rng.pick(STUDY_KEYS);
                if label.iter().any(|k| k == key) {
                    continue; // a key twice is a TOML error: one is enough of those
                }
                let value = study_value(key, &mut rng);
                text.push_str(&format!("{key} = {value}\n"));
                label.push(key.to_string());
            }
            let mut bytes = text.into_bytes();
            if rng.chance(0.15) {
                label.push(mutate_csv(&mut bytes, &mut rng).to_string());
            }
            (format!("study-{case}-{}", label.join("+")), bytes)
        })
        .collect()
}

#[test]
fn odd_study_settings_never_crash() {
    let mut cases = study_cases(0x22_03_0a, scaled(300));
    cases.extend(mutations(
        Surface::StudyToml,
        0x22_03_0b,
        scaled(60),
        mutate_csv,
    ));
    // Nesting deep enough to exhaust a recursive parser's stack.
    cases.push((
        "study-deep-arrays".into(),
        format!("horizons_months = {}", "[".repeat(100_000)).into_bytes(),
    ));
    cases.push((
        "study-deep-tables".into(),
        format!("x = {}", "{a=".repeat(100_000)).into_bytes(),
    ));
    let codes = replay(Surface::StudyToml, cases);
    assert_some_of_each(&codes, &[0, 2], "study.toml");
}

/// Mapping cases: the SEER-style mapping (or an empty one) with renames, recodes and units
/// added, changed or removed, drawn from the extract's and the contract's names and odd
/// strings; sometimes a byte-level mutation on top.
fn mapping_cases(seed: u64, n: usize) -> Vec<Case> {
    use toml::{Table, Value};
    const TABLES: &[&str] = &["patients", "events", "labs"];
    const NAMES: &[&str] = &[
        "Patient ID",
        "Sex",
        "Age at Diagnosis",
        "Date of Diagnosis",
        "Histologic Type ICD-O-3",
        "Date of Last Contact",
        "Vital Status Recode",
        "Serum Calcium",
        "Event Date",
        "Event",
        "Collected",
        "Result",
        "Units",
        "Test",
        "County",
        "patient_id",
        "sex",
        "histology",
        "stage",
        "vital_status",
        "death_date",
        "event_type",
        "site",
        "sampled_at",
        "value",
        "unit",
        "analyte",
        "fasting",
        "calcium",
        "albumin",
        "ntx",
        "ctx",
        "",
        " ",
        "é",
        "\u{0}",
    ];
    const VALUES: &[&str] = &[
        "m",
        "f",
        "1",
        "2",
        "9",
        "dead",
        "alive",
        "Dead",
        "",
        " ",
        "RT",
        "radiotherapy_bone",
        "mg/dl",
        "g/dl",
        "mmol/l",
        "g/l",
        "nmol/l",
        "ng/ml",
        "IVB",
        "ivb",
        "8140",
        "adenocarcinoma",
        "true",
        "no",
        "1e308",
        "nan",
    ];
    let seer = std::fs::read_to_string(Surface::MappingToml.seed_file(&repo(""))).unwrap();
    let seer: Table = toml::from_str(&seer).expect("the SEER-style mapping parses");
    (0..n)
        .map(|case| {
            let mut rng = Rng::new(seed, case as u64);
            let mut mapping = if rng.chance(0.7) {
                seer.clone()
            } else {
                Table::new()
            };
            let mut label = Vec::new();
            for _ in 0..1 + rng.below(4) {
                let table = rng.pick(TABLES);
                let section = rng.pick(&["rename", "recode", "units"]);
                label.push(format!("{section}.{table}"));
                let entry = mapping
                    .entry(table.to_string())
                    .or_insert_with(|| Value::Table(Table::new()));
                let Value::Table(entry) = entry else { continue };
                let part = entry
                    .entry(section.to_string())
                    .or_insert_with(|| Value::Table(Table::new()));
                let Value::Table(part) = part else { continue };
                if rng.chance(0.2) && !part.is_empty() {
                    let key = part.keys().nth(rng.below(part.len())).cloned().unwrap();
                    part.remove(&key);
                    continue;
                }
                let key = rng.pick(NAMES).to_string();
                let value = match section {
                    "rename" => Value::String(rng.pick(NAMES).to_string()),
                    "recode" => {
                        let mut values = Table::new();
                        for _ in 0..1 + rng.below(3) {
                            values.insert(
                                rng.pick(VALUES).to_string(),
                                Value::String(rng.pick(VALUES).to_string()),
                            );
                        }
                        Value::Table(values)
                    }
                    _ => Value::String(rng.pick(VALUES).to_string()),
                };
                part.insert(key, value);
            }
            let mut bytes = toml::to_string(&mapping)
                .expect("the mapping serialises")
                .into_bytes();
            if rng.chance(0.15) {
                label.push(mutate_csv(&mut bytes, &mut rng).to_string());
            }
            (format!("mapping-{case}-{}", label.join("+")), bytes)
        })
        .collect()
}

#[test]
fn odd_mappings_never_crash() {
    let mut cases = mapping_cases(0x22_03_0c, scaled(250));
    cases.extend(mutations(
        Surface::MappingToml,
        0x22_03_0d,
        scaled(100),
        mutate_csv,
    ));
    cases.push((
        "mapping-deep".into(),
        format!("description = {}", "[".repeat(100_000)).into_bytes(),
    ));
    let codes = replay(Surface::MappingToml, cases);
    assert_some_of_each(&codes, &[2, 3], "mapping");
}

/// Runs `bonemet run` with a time limit; `None` when it overran (it is killed).
fn run_with_limit(args: &[&str], limit: Duration) -> Option<std::process::Output> {
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_bonemet"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the bonemet binary starts");
    let started = Instant::now();
    loop {
        if child.try_wait().expect("the run is waited for").is_some() {
            return Some(child.wait_with_output().expect("the run's output is read"));
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn mutated_cohorts_through_bonemet_run_exit_with_a_contract_code() {
    let work = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let mut codes = Vec::new();
    for case in 0..scaled(24) as u64 {
        let mut rng = Rng::new(0x22_03_0e, case);
        let base = if case % 2 == 0 {
            "fixture"
        } else {
            "hand_cohort"
        };
        let cohort = work.path().join(format!("cohort-{case}"));
        std::fs::create_dir_all(&cohort).unwrap();
        let mut label = vec![base.to_string()];
        for table in ["patients", "events", "labs"] {
            let mut bytes = std::fs::read(data(base).join(format!("{table}.csv"))).unwrap();
            if rng.chance(0.5) {
                for _ in 0..1 + rng.below(3) {
                    label.push(format!("{table}:{}", mutate_csv(&mut bytes, &mut rng)));
                }
            }
            write(&cohort, &format!("{table}.csv"), bytes);
        }
        let out = work.path().join(format!("out-{case}"));
        let mut args = vec![
            "run".to_string(),
            cohort.display().to_string(),
            "--out".into(),
            out.display().to_string(),
            "--threads".into(),
            "1".into(),
        ];
        if case % 3 == 0 {
            let (study_label, study) =
                study_cases(0x22_03_0f, case as usize + 1).swap_remove(case as usize);
            let path = write(&cohort, "study.toml", study);
            args.extend(["--study".to_string(), path.display().to_string()]);
            label.push(study_label);
        }
        let label = label.join(" ");
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let Some(result) = run_with_limit(&args, Duration::from_secs(120)) else {
            panic!(
                "bonemet run did not finish within 120 s on {label} ({})",
                cohort.display()
            );
        };
        let stderr = String::from_utf8_lossy(&result.stderr);
        let code = result.status.code();
        assert!(
            matches!(code, Some(0 | 2 | 3)),
            "bonemet run exited {code:?} on {label}:\n{stderr}"
        );
        if code == Some(2) {
            assert!(
                stderr.contains("error:"),
                "exit 2 without an error message on {label}"
            );
            assert!(
                !out.exists(),
                "a run that could not happen wrote {} ({label})",
                out.display()
            );
        } else {
            let run: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap())
                    .unwrap();
            for table in run["tables"].as_array().unwrap() {
                let n = |key: &str| table[key].as_u64().unwrap();
                assert_eq!(
                    n("rows_read"),
                    n("rows_accepted") + n("rows_rejected"),
                    "{label}: {table}"
                );
            }
            assert_eq!(run["quality_gate"]["passed"], code == Some(0), "{label}");
        }
        codes.push(code.unwrap_or_default() as u8);
    }
    eprintln!(
        "bonemet run: {} mutated cohorts in {:.1} s; exit codes 0/2/3: {}/{}/{}",
        codes.len(),
        started.elapsed().as_secs_f64(),
        codes.iter().filter(|&&c| c == 0).count(),
        codes.iter().filter(|&&c| c == 2).count(),
        codes.iter().filter(|&&c| c == 3).count(),
    );
}
