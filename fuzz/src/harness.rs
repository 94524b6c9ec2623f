//! What every fuzz target does with its bytes, shared with the stable replay test
//! (`tests/fuzz_replay.rs` includes this file): write them where the CLI would read them, run
//! them through the library entry points `bonemet run` uses, and check the contract.
//!
//! A table surface (`patients_csv`, ..., `labs_parquet`) writes the bytes as that table beside
//! the fixture's other two tables (`tests/data/fixture/` for CSV, `tests/data/fixture_parquet/`
//! for Parquet), so that a mutated events file is read alongside valid patients. The mapping
//! surface reads the SEER-style extract (`tests/data/seer_style/`) with the bytes as its mapping
//! file; the study surface runs the hand-written cohort (`tests/data/hand_cohort/`, every row
//! valid) under the bytes as `study.toml`. Then, as `run`
//! does: study settings, mapping, ingest and the quality gate ([`Validated::load`]); on
//! success the classifiers, the analyses, the report's Markdown and HTML, the validation
//! summary and `rejected.csv` (into memory), and with [`Harness::with_charts`] the charts.
//!
//! Checked: nothing panics (the caller catches or aborts); the outcome is an exit code of the
//! contract (0 success, 2 the run could not happen, 3 the quality gate failed), mapped as
//! `src/cli.rs` maps it; and whenever ingestion succeeds, per table, rows read = accepted +
//! rejected, the typed cohort holds exactly the accepted rows, every rejection belongs to a
//! table that was read, and `rejected.csv` parses back with one record per rejection.

use std::path::{Path, PathBuf};

use bonemet::classify::{classify_cohort_with, Histories, Threads};
use bonemet::commands::classify::Validated;
use bonemet::commands::{table_records, DEFAULT_MAX_REJECTED_SHARE};
use bonemet::ingest::{Ingested, TableBalance};
use bonemet::io::CohortFiles;
use bonemet::schema::Table;

/// An input surface: one fuzz target, one corpus directory, one kind of regression fixture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Surface {
    /// `patients.csv`.
    PatientsCsv,
    /// `events.csv`.
    EventsCsv,
    /// `labs.csv`.
    LabsCsv,
    /// `patients.parquet`.
    PatientsParquet,
    /// `events.parquet`.
    EventsParquet,
    /// `labs.parquet`.
    LabsParquet,
    /// The mapping file (`--mapping`).
    MappingToml,
    /// The study settings (`--study`).
    StudyToml,
}

impl Surface {
    /// Every surface.
    pub const ALL: [Surface; 8] = [
        Surface::PatientsCsv,
        Surface::EventsCsv,
        Surface::LabsCsv,
        Surface::PatientsParquet,
        Surface::EventsParquet,
        Surface::LabsParquet,
        Surface::MappingToml,
        Surface::StudyToml,
    ];

    /// The fuzz target's name, also the directory of its corpus and regression fixtures.
    pub fn name(self) -> &'static str {
        match self {
            Surface::PatientsCsv => "patients_csv",
            Surface::EventsCsv => "events_csv",
            Surface::LabsCsv => "labs_csv",
            Surface::PatientsParquet => "patients_parquet",
            Surface::EventsParquet => "events_parquet",
            Surface::LabsParquet => "labs_parquet",
            Surface::MappingToml => "mapping_toml",
            Surface::StudyToml => "study_toml",
        }
    }

    /// The table the bytes stand for, if a table surface.
    pub fn table(self) -> Option<Table> {
        match self {
            Surface::PatientsCsv | Surface::PatientsParquet => Some(Table::Patients),
            Surface::EventsCsv | Surface::EventsParquet => Some(Table::Events),
            Surface::LabsCsv | Surface::LabsParquet => Some(Table::Labs),
            Surface::MappingToml | Surface::StudyToml => None,
        }
    }

    /// Whether the bytes stand for a Parquet table.
    pub fn is_parquet(self) -> bool {
        matches!(
            self,
            Surface::PatientsParquet | Surface::EventsParquet | Surface::LabsParquet
        )
    }

    /// The file the bytes are written to (its extension picks the reader, as in the CLI).
    pub fn file_name(self) -> String {
        match (self.table(), self) {
            (Some(table), s) if s.is_parquet() => format!("{table}.parquet"),
            (Some(table), _) => format!("{table}.csv"),
            (None, Surface::MappingToml) => "mapping.toml".into(),
            (None, _) => "study.toml".into(),
        }
    }

    /// The valid file this surface's seed corpus and mutations start from, under the
    /// repository root `repo`.
    pub fn seed_file(self, repo: &Path) -> PathBuf {
        let data = repo.join("tests/data");
        match self {
            Surface::MappingToml => repo.join("data/mappings/seer-style.toml"),
            Surface::StudyToml => repo.join("fuzz/corpus/study_toml/defaults.toml"),
            s if s.is_parquet() => data.join("fixture_parquet").join(s.file_name()),
            s => data.join("fixture").join(s.file_name()),
        }
    }
}

/// What one input led to.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The exit code `bonemet run` would give: 0, 2 or 3.
    pub exit_code: u8,
    /// The error's message when the run could not happen (exit code 2).
    pub error: Option<String>,
    /// Row balance per table when ingestion succeeded.
    pub balance: Vec<TableBalance>,
}

/// Where a surface's bytes are written, beside the fixture files they are read with.
pub struct Harness {
    repo: PathBuf,
    dir: tempfile::TempDir,
    charts: bool,
}

impl Harness {
    /// A harness reading the fixtures of the repository at `repo`, writing under a fresh
    /// temporary directory (removed on drop).
    pub fn new(repo: &Path) -> Self {
        Self {
            repo: repo.to_path_buf(),
            dir: tempfile::Builder::new()
                .prefix("bonemet-fuzz-")
                .tempdir()
                .expect("a temporary directory for the fuzz inputs"),
            charts: false,
        }
    }

    /// This harness also draws the report's charts (SVG and PNG files, as `run` does), which
    /// takes a few tenths of a second per input in a debug build.
    pub fn with_charts(mut self) -> Self {
        self.charts = true;
        self
    }

    /// Runs `bytes` as `surface` and checks the contract; panics on a violation (a panic
    /// inside the library propagates as is).
    pub fn check(&self, surface: Surface, bytes: &[u8]) -> Outcome {
        let input = self.dir.path().join(surface.file_name());
        std::fs::write(&input, bytes).expect("the fuzz input is written");
        let data = self.repo.join("tests/data");
        let fixture = data.join(if surface.is_parquet() {
            "fixture_parquet"
        } else {
            "fixture"
        });
        let ext = if surface.is_parquet() {
            "parquet"
        } else {
            "csv"
        };
        let table_file = |table: Table| {
            if surface.table() == Some(table) {
                input.clone()
            } else if surface == Surface::MappingToml {
                data.join("seer_style").join(format!("{table}.csv"))
            } else if surface == Surface::StudyToml {
                data.join("hand_cohort").join(format!("{table}.csv"))
            } else {
                fixture.join(format!("{table}.{ext}"))
            }
        };
        let files = CohortFiles {
            patients: table_file(Table::Patients),
            events: Some(table_file(Table::Events)),
            labs: Some(table_file(Table::Labs)),
        };
        let mapping = (surface == Surface::MappingToml).then_some(input.as_path());
        let study = (surface == Surface::StudyToml).then_some(input.as_path());
        let validated = match Validated::load(&files, mapping, study, DEFAULT_MAX_REJECTED_SHARE) {
            Ok(validated) => validated,
            Err(error) => return could_not_happen(&error),
        };
        let ingested = &validated.ingested;
        check_balance(ingested);
        let tables = table_records(ingested);
        let mut summary = Vec::new();
        bonemet::report::write_validation_summary(&mut summary, &files, &tables, &validated.gate)
            .expect("the validation summary is written to memory");
        let balance = ingested.balance.clone();

        // The rest of `bonemet run`, short of writing files (and drawing charts, unless asked).
        let cohort = &ingested.cohort;
        let histories = Histories::new(cohort);
        let classified = match classify_cohort_with(
            cohort,
            &histories,
            &validated.settings,
            Threads::Exactly(1),
        ) {
            Ok(classified) => classified,
            Err(error) => return could_not_happen(&error),
        };
        let summary = bonemet::analysis::analyse(
            cohort,
            &histories,
            &classified,
            &ingested.balance,
            &validated.settings,
            5,
        );
        let charts = if self.charts {
            match bonemet::plot::draw_charts(&summary, &self.dir.path().join("charts")) {
                Ok(charts) => charts,
                Err(error) => return could_not_happen(&error),
            }
        } else {
            Vec::new()
        };
        let mut report = Vec::new();
        let identity = bonemet::report::run::RunIdentity {
            timestamp: "2026-01-01T00:00:00Z".into(),
            ..Default::default()
        };
        bonemet::report::run::write_markdown(&summary, &identity, &charts, &mut report)
            .expect("the Markdown report is written to memory");
        bonemet::report::run::write_html(&summary, &identity, &charts, &mut report)
            .expect("the HTML report is written to memory");
        serde_json::to_vec(&summary).expect("summary.json serialises");
        Outcome {
            exit_code: if validated.gate.passed { 0 } else { 3 },
            error: None,
            balance,
        }
    }
}

/// Exit code 2, with the error's message (which must say something).
fn could_not_happen(error: &bonemet::Error) -> Outcome {
    let message = error.to_string();
    assert!(
        !message.trim().is_empty(),
        "an error without a message: {error:?}"
    );
    Outcome {
        exit_code: 2,
        error: Some(message),
        balance: Vec::new(),
    }
}

/// Rows read = accepted + rejected for every table; the cohort holds the accepted rows;
/// rejections name a table that was read, a line, a reason; `rejected.csv` has them all.
pub fn check_balance(ingested: &Ingested) {
    let cohort = &ingested.cohort;
    for b in &ingested.balance {
        assert_eq!(
            b.rows_read,
            b.rows_accepted + b.rows_rejected,
            "{}: rows read != accepted + rejected ({b:?})",
            b.table
        );
        let held = match b.table {
            Table::Patients => cohort.patients.len(),
            Table::Events => cohort.events.len(),
            Table::Labs => cohort.labs.len(),
        };
        assert_eq!(
            held as u64, b.rows_accepted,
            "{}: the cohort holds {held} rows but {} were accepted",
            b.table, b.rows_accepted
        );
    }
    for r in &ingested.rejections {
        assert!(
            ingested.balance.iter().any(|b| b.table == r.table),
            "a rejection of a table not read: {r:?}"
        );
        assert!(
            r.line >= 1 && !r.message.is_empty(),
            "a rejection without line or message: {r:?}"
        );
    }
    let mut csv_bytes = Vec::new();
    bonemet::schema::reject::write_rejected_csv(&ingested.rejections, &mut csv_bytes)
        .expect("rejected.csv is written to memory");
    let mut reader = csv::ReaderBuilder::new().from_reader(&csv_bytes[..]);
    let records: Vec<csv::StringRecord> = reader
        .records()
        .collect::<Result<_, _>>()
        .expect("rejected.csv parses back");
    assert_eq!(
        records.len(),
        ingested.rejections.len(),
        "rejected.csv lost rejections"
    );
    for (record, r) in records.iter().zip(&ingested.rejections) {
        assert_eq!(record.get(0), Some(r.table.as_str()));
        assert_eq!(record.get(1), Some(r.line.to_string().as_str()));
        assert_eq!(record.get(4), Some(r.reason.code()));
    }
}
