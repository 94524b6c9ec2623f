//! Argument parsing (clap) and exit codes. Clap types stay here: each command's arguments are
//! checked into the library's configuration before anything runs.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use bonemet::classify::Threads;
use bonemet::commands::classify::{classify, ClassifyConfig};
use bonemet::commands::validate::{validate, ValidateConfig};
use bonemet::commands::{check_share, QualityGate, DEFAULT_MAX_REJECTED_SHARE};
use bonemet::io::CohortFiles;
use bonemet::io::OutputFormat;

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
Parquet. The input contract is docs/input-contract.md (summarised in README.md); the clinical \
definitions are docs/clinical-definitions.md, the statistical methods docs/methods.md.\n\n\
Exit codes: 0 success; 2 the run could not happen (bad arguments, unreadable file, missing \
required column); 3 the run happened but a quality gate failed (too many rejected rows)."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The main job: validate, classify, analyse and report a cohort into one directory.
    #[command(
        after_help = "Writes DIR/report.html (self-contained), report.md, summary.json (every number \
of the report; docs/outputs.md), tables/ (Parquet and CSV: classified patients, the analysis \
plan as run, Table 1, shares, cumulative incidences, survival, curves, rates, models, the \
published figures beside the cohort's with their difference, Holm p and verdict), charts/ (SVG \
and PNG: survival and cumulative incidence curves with numbers at risk, forest plots, SRE \
types, corrected calcium), rejected.csv and run.json. The analyses A1-A12 follow the plan of \
docs/analysis-plan.md (no group defined after its time origin; risks over follow-up as \
cumulative incidences with death competing); study.toml sets its horizons, SRE horizon and \
landmark (bonemet classify --help lists the keys). DIR \
appears whole or not at all: the run writes beside it (.DIR.partial-PID) and swaps it in at \
the end. It replaces DIR only when DIR is absent, empty or an earlier run's output (its \
run.json); a directory with other files, a file or a symbolic link is refused (exit 2) and \
left untouched unless --force. While a run writes DIR, .DIR.lock beside it holds its process \
id: a second run into the same DIR exits 2; a lock or temporary directory left by a killed run \
is cleaned up by the next run. Disclosure control covers every aggregate output at once \
(docs/analysis-plan.md): counts from 1 to --min-cell - 1 read <N; a count that would let a small \
one be worked out by subtraction (beside a shown total, n - events, dropped patients) reads \
suppressed; figures made from a hidden count are left out; curves and at-risk tables stop below \
N at risk and merge steps of fewer than N events; histogram bins are fixed. \
tables/classified.* and rejected.csv are patient-level and not for release. Progress goes to stderr on a terminal; --json-log writes one JSON object \
per stage event to stderr. Set SOURCE_DATE_EPOCH to fix the run timestamp.\n\n\
Examples:\n  \
bonemet run data/demo --out reports/demo\n  \
bonemet run registry/ --mapping data/mappings/seer-style.toml --study study.toml --out /srv/reports/nightly --json-log\n  \
bonemet run data/demo --out reports/demo --min-cell 10 --threads 1"
    )]
    Run(RunArgs),
    /// Validate a cohort against the input contract and account for every row.
    #[command(after_help = "Examples:\n  \
bonemet validate data/demo\n  \
bonemet validate data/demo --out reports/demo-validate\n  \
bonemet validate --patients extract/pts.parquet --events extract/sre.csv --mapping data/mappings/seer-style.toml --out out/\n  \
bonemet validate data/demo --max-rejected-share 0.01 --out out/   # exit 3 above 1% rejected")]
    Validate(ValidateArgs),
    /// Validate a cohort, then apply the clinical classifiers C1-C10 to every patient.
    #[command(
        after_help = "Writes DIR/classified.parquet (or .csv): one row per accepted patient, \
patient_id and every classifier output as its own typed column, with a reasons column for each \
classifier that can be not assessable (docs/outputs.md; the classifiers: docs/clinical-definitions.md); DIR/rejected.csv; DIR/run.json \
(inputs, every study setting in force, row balance). Output is identical whatever --threads.\n\n\
Examples:\n  \
bonemet classify data/demo --out reports/demo-classify\n  \
bonemet classify data/demo --study study.toml --format csv --out out/\n  \
bonemet classify extract/ --mapping data/mappings/seer-style.toml --threads 1 --out out/\n\n\
study.toml (every key optional; defaults shown; docs/methods.md says what each changes):\n  \
corrected_calcium_formula = \"review\"   # or \"payne\"\n  \
correct_only_below_40 = false\n  \
calcium_normal_low_mmol_l = 2.2\n  \
calcium_normal_high_mmol_l = 2.6\n  \
grading_scheme = \"severity\"           # or \"ctcae5\"\n  \
crisis_threshold_mmol_l = 3.5\n  \
hypercalcaemia_is_sre = false\n  \
sre_merge_window_days = 0\n  \
ntx_moderate_from = 50.0\n  \
ntx_high_from = 100.0\n  \
ctx_sampling_before_hour = 9\n  \
synchronous_window_days = 30\n  \
oligometastatic_max_metastases = 5\n  \
oligometastatic_max_organs = 3\n  \
tumor_size_cutoff_mm = 20.0\n\n\
Keys of the analysis plan (bonemet run; docs/analysis-plan.md):\n  \
horizons_months = [6.0, 12.0, 24.0]   # survival and cumulative incidences read here\n  \
sre_horizon_months = 21.0             # F8-F9: the placebo-controlled trials' duration\n  \
landmark_months = 3.0                 # the bone agent's landmark after bone diagnosis\n  \
consistent_half_width_share = 0.25    # published figures: the 'consistent' precision rule"
    )]
    Classify(ClassifyArgs),
    /// Write a calibrated synthetic registry cohort (patients, events, labs) with known truth.
    #[command(
        after_help = "The epidemiology follows the published figures F1-F11 (docs/clinical-definitions.md; \
docs/synthetic-cohort.md lists every parameter and its source). The same seed and arguments \
give byte-identical files on any machine and thread count. DIR/synth.json records the \
arguments and row counts; with --defect-rate, DIR/defects.csv lists every injected contract \
violation and the rows it takes down (table, line, column, defect).\n\n\
Examples:\n  \
bonemet synth --patients 5000 --seed 20261129 --out data/demo\n  \
bonemet synth --patients 1000000 --seed 1 --format parquet --out /tmp/cohort-1m\n  \
bonemet synth --patients 20000 --seed 7 --defect-rate 0.01 --out /tmp/defective"
    )]
    Synth(SynthArgs),
    /// Kaplan-Meier, log-rank, Cox and competing-risks analyses of any survival table (CSV or
    /// Parquet), as JSON.
    #[command(
        after_help = "Rows missing any used column are dropped and counted (n_dropped_missing), as R's \
na.omit. Without --by the Kaplan-Meier has one group named all; logrank appears with --by (and \
--strata), cox with --covariates, cif (cumulative incidence per group, Gray's test with --by) \
with --competing-value, and fine_gray with --competing-value and --covariates. Warnings R would \
give (no event, a coefficient that may be infinite) go to stderr and to the JSON's warnings. Factors are dummy-coded against the first level in sorted \
order unless --reference says otherwise; a factor term is named COL=LEVEL. Undefined values \
(an upper limit never reached) are null. Keys are documented in docs/outputs.md; the estimators \
and the R functions they match in docs/methods.md.\n\n\
Examples:\n  \
bonemet survival lung.csv --time time --event status --event-value 2 --by sex --times 180,365\n  \
bonemet survival os.parquet --time months --event dead --covariates sex,age,ecog --factor sex --reference sex=m\n  \
bonemet survival lung.csv --time time --event status --event-value 2 --by sex --strata ph.ecog --rmst-tau 730 --out result.json\n  \
bonemet survival mgus2.csv --time etime --event event --competing-value 2 --by sex --covariates age,sex --factor sex --times 120,240"
    )]
    Survival(SurvivalArgs),
}

#[derive(Debug, Args)]
struct SurvivalArgs {
    /// The table (CSV or Parquet, by extension).
    #[arg(value_name = "DATA")]
    data: PathBuf,
    /// Column of follow-up times (exit times with --entry).
    #[arg(long, value_name = "COL")]
    time: String,
    /// Column marking the event.
    #[arg(long, value_name = "COL")]
    event: String,
    /// The event column's value that marks the event (true is accepted for 1); others censor.
    #[arg(long, value_name = "V", default_value = "1")]
    event_value: String,
    /// The event column's value that marks a competing event: adds the cumulative incidence
    /// of the event per group, Gray's test and (with --covariates) a Fine-Gray model. The
    /// KM, log-rank and Cox analyses treat competing events as censored.
    #[arg(long, value_name = "V")]
    competing_value: Option<String>,
    /// Column of entry times (delayed entry: at risk on (entry, time]; a row whose entry is not
    /// before its time is dropped as missing, as R's Surv() makes it NA).
    #[arg(long, value_name = "COL")]
    entry: Option<String>,
    /// Column defining groups: a curve per group and the log-rank test between them.
    #[arg(long, value_name = "COL")]
    by: Option<String>,
    /// Column of strata for the log-rank test and the Cox model.
    #[arg(long, value_name = "COL")]
    strata: Option<String>,
    /// Column of clusters for the Cox model (e.g. a patient id with one row per interval
    /// between recurrent events, Andersen-Gill): robust standard errors, z, p, intervals and
    /// Wald test, as coxph(... + cluster(COL)).
    #[arg(long, value_name = "COL")]
    cluster: Option<String>,
    /// Cox model covariates, comma-separated.
    #[arg(long, value_name = "A,B,C", value_delimiter = ',')]
    covariates: Vec<String>,
    /// A covariate to dummy-code (repeat for several).
    #[arg(long, value_name = "COL")]
    factor: Vec<String>,
    /// Reference level of a factor, COL=LEVEL (repeat for several).
    #[arg(long, value_name = "COL=LEVEL")]
    reference: Vec<String>,
    /// Ties in the Cox model.
    #[arg(long, value_enum, default_value = "efron")]
    ties: TiesArg,
    /// Scale of the Kaplan-Meier confidence intervals (R's default: log).
    #[arg(long, value_enum, default_value = "log")]
    conf_type: ConfTypeArg,
    /// Times at which to report survival, comma-separated.
    #[arg(long, value_name = "T1,T2", value_delimiter = ',')]
    times: Vec<f64>,
    /// Horizon of the restricted mean survival time.
    #[arg(long, value_name = "T")]
    rmst_tau: Option<f64>,
    /// Print the JSON on stdout (the default without --out).
    #[arg(long)]
    json: bool,
    /// Write the JSON to this file.
    #[arg(long, value_name = "FILE.json")]
    out: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum TiesArg {
    Efron,
    Breslow,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum ConfTypeArg {
    Log,
    #[value(name = "log-log")]
    LogLog,
    Plain,
}

fn run_survival(args: &SurvivalArgs) -> bonemet::Result<ExitStatus> {
    use bonemet::commands::survival::{survival, SurvivalConfig};
    let mut references = std::collections::BTreeMap::new();
    for r in &args.reference {
        let (col, level) = r.split_once('=').ok_or_else(|| bonemet::Error::Setting {
            name: "--reference".into(),
            message: format!("'{r}' is not COL=LEVEL"),
        })?;
        references.insert(col.to_string(), level.to_string());
    }
    let mut sorted = args.times.clone();
    sorted.sort_by(f64::total_cmp);
    let config = SurvivalConfig {
        data: args.data.clone(),
        time: args.time.clone(),
        event: args.event.clone(),
        event_value: args.event_value.clone(),
        competing_value: args.competing_value.clone(),
        entry: args.entry.clone(),
        by: args.by.clone(),
        strata: args.strata.clone(),
        cluster: args.cluster.clone(),
        covariates: args.covariates.clone(),
        factors: args.factor.clone(),
        references,
        ties: match args.ties {
            TiesArg::Efron => bonemet::stats::cox::Ties::Efron,
            TiesArg::Breslow => bonemet::stats::cox::Ties::Breslow,
        },
        conf_type: match args.conf_type {
            ConfTypeArg::Log => bonemet::stats::km::ConfType::Log,
            ConfTypeArg::LogLog => bonemet::stats::km::ConfType::LogLog,
            ConfTypeArg::Plain => bonemet::stats::km::ConfType::Plain,
        },
        times: sorted,
        rmst_tau: args.rmst_tau,
    };
    let result = survival(&config)?;
    for warning in result.warnings() {
        eprintln!("warning: {warning}");
    }
    let text = serde_json::to_string_pretty(&result).map_err(|e| bonemet::Error::Setting {
        name: "json".into(),
        message: e.to_string(),
    })?;
    match &args.out {
        Some(path) => bonemet::commands::write_file(path, |out| writeln!(out, "{text}"))?,
        None => {
            let _ = writeln!(std::io::stdout().lock(), "{text}");
        }
    }
    let _ = args.json;
    Ok(ExitStatus::Success)
}

#[derive(Debug, Args)]
struct SynthArgs {
    /// Number of patients.
    #[arg(long, value_name = "N")]
    patients: u64,
    /// Random seed.
    #[arg(long, value_name = "S", default_value_t = 1)]
    seed: u64,
    /// Output directory (created if missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Format of the tables.
    #[arg(long, value_enum, default_value = "csv")]
    format: FormatArg,
    /// Share of rows given a contract violation (0 to 1), recorded in DIR/defects.csv.
    #[arg(long, value_name = "F", default_value_t = 0.0)]
    defect_rate: f64,
}

fn run_synth(args: &SynthArgs) -> bonemet::Result<ExitStatus> {
    let config = bonemet::synth::SynthConfig {
        patients: args.patients,
        seed: args.seed,
        out_dir: args.out.clone(),
        format: args.format.into(),
        defect_rate: check_share("--defect-rate", args.defect_rate)?,
        progress: true,
    };
    let summary = bonemet::synth::synthesize(&config)?;
    // Through a writer: a closed stdout (`| head`) is not a panic, and not an error.
    let _ = writeln!(
        std::io::stdout().lock(),
        "wrote {} patients, {} events, {} lab rows{} to {}",
        summary.patients,
        summary.events,
        summary.labs,
        if summary.defects > 0 {
            format!(", {} defect records", summary.defects)
        } else {
            String::new()
        },
        args.out.display()
    );
    Ok(ExitStatus::Success)
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

/// Format of result tables.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum FormatArg {
    Parquet,
    Csv,
}

impl From<FormatArg> for OutputFormat {
    fn from(format: FormatArg) -> Self {
        match format {
            FormatArg::Parquet => OutputFormat::Parquet,
            FormatArg::Csv => OutputFormat::Csv,
        }
    }
}

#[derive(Debug, Args)]
struct ClassifyArgs {
    #[command(flatten)]
    cohort: CohortArgs,
    /// Study settings (TOML; every key optional; keys and defaults in docs/methods.md).
    #[arg(long, value_name = "FILE")]
    study: Option<PathBuf>,
    /// Output directory (created if missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Format of DIR/classified.*.
    #[arg(long, value_enum, default_value = "parquet")]
    format: FormatArg,
    /// Threads for the classifiers (default: one per core; 1 runs without a thread pool).
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// Exit with code 3 when any table's rejected share of rows is above F (0 to 1).
    #[arg(long, value_name = "F", default_value_t = DEFAULT_MAX_REJECTED_SHARE)]
    max_rejected_share: f64,
}

impl ClassifyArgs {
    fn config(&self) -> bonemet::Result<ClassifyConfig> {
        Ok(ClassifyConfig {
            files: self.cohort.files()?,
            mapping: self.cohort.mapping.clone(),
            study: self.study.clone(),
            out_dir: self.out.clone(),
            format: self.format.into(),
            threads: self.threads.map_or(Threads::All, Threads::Exactly),
            max_rejected_share: check_share("--max-rejected-share", self.max_rejected_share)?,
        })
    }
}

/// The exit status a quality gate's verdict calls for.
fn gate_status(gate: &QualityGate) -> ExitStatus {
    if gate.passed {
        ExitStatus::Success
    } else {
        ExitStatus::GateFailed
    }
}

fn run_classify(args: &ClassifyArgs) -> bonemet::Result<ExitStatus> {
    let config = args.config()?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let outcome = classify(&config, &mut out)?;
    let _ = out.flush();
    Ok(gate_status(&outcome.gate))
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
    Ok(gate_status(&outcome.gate))
}

#[derive(Debug, Args)]
struct RunArgs {
    #[command(flatten)]
    cohort: CohortArgs,
    /// Study settings (TOML; every key optional; keys and defaults in docs/methods.md).
    #[arg(long, value_name = "FILE")]
    study: Option<PathBuf>,
    /// Output directory: absent, empty, or an earlier run's output (replaced as a whole when
    /// the run succeeds); anything else is refused unless --force.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Replace DIR even when bonemet did not write it (its files are deleted).
    #[arg(long)]
    force: bool,
    /// Threads for the classifiers (default: one per core; 1 runs without a thread pool).
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// Exit with code 3 when any table's rejected share of rows is above F (0 to 1).
    #[arg(long, value_name = "F", default_value_t = DEFAULT_MAX_REJECTED_SHARE)]
    max_rejected_share: f64,
    /// Disclosure control: counts from 1 to N-1 read <N, with complementary suppression,
    /// curves cut below N at risk (0 turns it off).
    #[arg(long, value_name = "N", default_value_t = 5)]
    min_cell: u64,
    /// Write each stage's start and end as a JSON line on stderr.
    #[arg(long)]
    json_log: bool,
}

/// The run's timestamp: SOURCE_DATE_EPOCH when set (reproducible runs), else now; UTC.
fn run_timestamp() -> String {
    let seconds = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64)
        });
    chrono::DateTime::from_timestamp(seconds, 0).map_or_else(
        || seconds.to_string(),
        |t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
    )
}

fn run_run(args: &RunArgs) -> bonemet::Result<ExitStatus> {
    use bonemet::commands::run::{run, RunConfig, Stage};
    use std::io::IsTerminal;
    let config = RunConfig {
        files: args.cohort.files()?,
        mapping: args.cohort.mapping.clone(),
        study: args.study.clone(),
        out_dir: args.out.clone(),
        force: args.force,
        threads: args.threads.map_or(Threads::All, Threads::Exactly),
        max_rejected_share: check_share("--max-rejected-share", args.max_rejected_share)?,
        min_cell: args.min_cell,
        timestamp: run_timestamp(),
    };
    let terminal = std::io::stderr().is_terminal();
    let mut progress = |event: &bonemet::commands::run::StageEvent| {
        // The stage events are also where the binary tends the allocator: what validation
        // freed is given back before the analyses allocate (see release_freed_memory).
        if event.stage == Stage::Validate && event.event == "end" {
            crate::release_freed_memory();
        }
        if args.json_log {
            if let Ok(line) = serde_json::to_string(event) {
                eprintln!("{line}");
            }
        } else if terminal {
            let stage = serde_json::to_string(&event.stage).unwrap_or_default();
            eprintln!(
                "[{:>7.2} s] {} {}",
                event.elapsed_s,
                stage.trim_matches('"'),
                if event.event == "start" {
                    "..."
                } else {
                    "done"
                }
            );
        }
    };
    let outcome = run(&config, &mut progress)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let _ = writeln!(
        out,
        "report written to {} ({} published figures beside the cohort's estimates; {} counts hidden by disclosure control at --min-cell {})",
        args.out.join("report.html").display(),
        outcome.summary.published.len(),
        outcome.summary.suppressed_counts,
        args.min_cell
    );
    let _ = out.flush();
    Ok(gate_status(&outcome.gate))
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Run(args) => run_run(args),
        Command::Validate(args) => run_validate(args),
        Command::Classify(args) => run_classify(args),
        Command::Synth(args) => run_synth(args),
        Command::Survival(args) => {
            crate::keep_freed_memory();
            run_survival(args)
        }
    };
    match result {
        Ok(status) => status.into(),
        Err(error) => {
            report_error(&error);
            ExitStatus::Failure.into()
        }
    }
}
