//! Argument parsing (clap) and exit codes. Clap types stay here: each command's arguments are
//! checked into the library's configuration before anything runs.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use bonemet::io::CohortFiles;
use bonemet::validate::{check_share, validate, ValidateConfig, DEFAULT_MAX_REJECTED_SHARE};

/// Exit codes a scheduler can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ExitStatus {
    /// The run happened and passed its quality gates.
    Success = 0,
    /// The run could not happen: bad arguments, unreadable input, missing required column.
    Failure = 2,
    /// The run happened but a quality gate failed (too many rejected rows).
    GateFailed = 3,
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> Self {
        ExitCode::from(status as u8)
    }
}

#[derive(Debug, Parser)]
#[command(
    name = "bonemet",
    version,
    about = "Epidemiology of bone metastases in lung cancer, from a registry-style cohort.",
    long_about = "Epidemiology of bone metastases in lung cancer, from a registry-style cohort.\n\n\
A cohort is a patients table (required) with optional events and labs tables, each CSV or \
Parquet. The input contract is in docs/ (schema) and summarised in README.md.\n\n\
Exit codes: 0 success; 2 the run could not happen (bad arguments, unreadable file, missing \
required column); 3 the run happened but a quality gate failed (too many rejected rows)."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Validate a cohort against the input contract and account for every row.
    #[command(after_help = "Examples:\n  \
bonemet validate data/demo\n  \
bonemet validate data/demo --out reports/demo-validate\n  \
bonemet validate --patients extract/pts.parquet --events extract/sre.csv --mapping data/mappings/seer-style.toml --out out/\n  \
bonemet validate data/demo --max-rejected-share 0.01 --out out/   # exit 3 above 1% rejected")]
    Validate(ValidateArgs),
}

/// Where the cohort's tables are.
#[derive(Debug, Args)]
struct CohortArgs {
    /// Cohort directory holding patients.csv|parquet and optionally events.* and labs.*
    #[arg(value_name = "COHORT", required_unless_present = "patients")]
    cohort: Option<PathBuf>,
    /// Patients table (CSV or Parquet, by extension); overrides the one in COHORT.
    #[arg(long, value_name = "FILE")]
    patients: Option<PathBuf>,
    /// Events table (skeletal and calcaemic events); overrides the one in COHORT.
    #[arg(long, value_name = "FILE")]
    events: Option<PathBuf>,
    /// Labs table (long format measurements); overrides the one in COHORT.
    #[arg(long, value_name = "FILE")]
    labs: Option<PathBuf>,
    /// Mapping file (TOML): rename columns, recode values, set default units.
    /// See data/mappings/seer-style.toml.
    #[arg(long, value_name = "FILE")]
    mapping: Option<PathBuf>,
}

impl CohortArgs {
    fn files(&self) -> bonemet::Result<CohortFiles> {
        CohortFiles::resolve(
            self.cohort.as_deref(),
            self.patients.as_deref(),
            self.events.as_deref(),
            self.labs.as_deref(),
        )
    }
}

#[derive(Debug, Args)]
struct ValidateArgs {
    #[command(flatten)]
    cohort: CohortArgs,
    /// Write DIR/rejected.csv (every broken rule of every rejected row) and DIR/run.json
    /// (inputs with SHA-256, settings, row balance). Without it nothing is written.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Exit with code 3 when any table's rejected share of rows is above F (0 to 1).
    #[arg(long, value_name = "F", default_value_t = DEFAULT_MAX_REJECTED_SHARE)]
    max_rejected_share: f64,
}

impl ValidateArgs {
    fn config(&self) -> bonemet::Result<ValidateConfig> {
        Ok(ValidateConfig {
            files: self.cohort.files()?,
            mapping: self.cohort.mapping.clone(),
            out_dir: self.out.clone(),
            max_rejected_share: check_share("--max-rejected-share", self.max_rejected_share)?,
        })
    }
}

/// Prints an error and its causes on stderr.
fn report_error(error: &dyn std::error::Error) {
    let mut message = format!("error: {error}");
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(&format!("\n  caused by: {text}"));
        }
        source = cause.source();
    }
    eprintln!("{message}");
}

fn run_validate(args: &ValidateArgs) -> bonemet::Result<ExitStatus> {
    let config = args.config()?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let outcome = validate(&config, &mut out)?;
    let _ = out.flush();
    if outcome.gate.passed {
        Ok(ExitStatus::Success)
    } else {
        Ok(ExitStatus::GateFailed)
    }
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Validate(args) => run_validate(args),
    };
    match result {
        Ok(status) => status.into(),
        Err(error) => {
            report_error(&error);
            ExitStatus::Failure.into()
        }
    }
}
