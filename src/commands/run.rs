//! `bonemet run`: validate → classify → analyse → report, into one output directory that
//! appears whole or not at all.
//!
//! Everything is written into a temporary directory beside DIR and renamed into place at the
//! end, so that a failed run (an unreadable file, a full disk) never leaves a half-written
//! report, and a nightly job's previous report stays until the new one is complete. The
//! outputs are deterministic: same input and settings, same bytes, except the run timestamp
//! (run.json and the report header) and the stage timings in run.json.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;

use super::classify::Validated;
use super::{write_file, write_json, write_rejected, QualityGate, RunRecord};
use crate::analysis::analyse;
use crate::analysis::model::{Count, CurvePointJson, Estimate, RunSummary};
use crate::classify::{classify_cohort_with, Histories, Threads};
use crate::error::{Error, Result};
use crate::io::{out_dir, CohortFiles, OutputColumn, OutputFormat, OutputTable};
use crate::plot::draw_charts;
use crate::report::flow::flow_svg;
use crate::report::run::{write_html, write_markdown, RunIdentity};

/// What `run` needs, already checked.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// The cohort's files.
    pub files: CohortFiles,
    /// The mapping file, if any.
    pub mapping: Option<PathBuf>,
    /// The study settings file, if any.
    pub study: Option<PathBuf>,
    /// Output directory (replaced as a whole when the run succeeds).
    pub out_dir: PathBuf,
    /// Replace the output directory even when bonemet did not write it.
    pub force: bool,
    /// Threads for the classifiers.
    pub threads: Threads,
    /// Cap on the rejected share of any table.
    pub max_rejected_share: f64,
    /// Disclosure threshold: counts from 1 to min_cell − 1 are suppressed (0: off).
    pub min_cell: u64,
    /// The run's timestamp as written in run.json and the report header (UTC, RFC 3339).
    pub timestamp: String,
}

/// A pipeline stage, as progress and `--json-log` report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Reading and validating the input tables.
    Validate,
    /// The classifiers C1–C10.
    Classify,
    /// The study's analyses.
    Analyse,
    /// Tables, summary and report, written and moved into place.
    Write,
}

/// A stage starting or finishing.
#[derive(Debug, Clone, Serialize)]
pub struct StageEvent {
    /// Which stage.
    pub stage: Stage,
    /// `start` or `end`.
    pub event: &'static str,
    /// Seconds since the run started.
    pub elapsed_s: f64,
}

/// The outcome of a run.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// The result model.
    pub summary: RunSummary,
    /// The quality gate (failed: exit code 3; outputs are written).
    pub gate: QualityGate,
}

/// run.json of `run`: the common record plus the run's timestamp and stage timings.
#[derive(Debug, Clone, Serialize)]
struct RunJson<'a> {
    #[serde(flatten)]
    record: &'a RunRecord,
    run_timestamp: &'a str,
    min_cell: u64,
    stage_seconds: Vec<(Stage, f64)>,
}

/// Removes a directory on drop unless disarmed: the temporary output of a failed run.
struct Scratch(Option<PathBuf>);

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Some(dir) = self.0.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

fn write_err(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Write {
        path: path.to_path_buf(),
        source,
    }
}

/// Runs the pipeline. `progress` hears each stage start and end.
pub fn run(config: &RunConfig, progress: &mut dyn FnMut(&StageEvent)) -> Result<RunOutcome> {
    let clock = Instant::now();
    let mut timings = Vec::new();
    let mut stage_start = 0.0;
    let mut emit = |stage: Stage, event: &'static str, timings: &mut Vec<(Stage, f64)>| {
        let elapsed_s = clock.elapsed().as_secs_f64();
        if event == "start" {
            stage_start = elapsed_s;
        } else {
            timings.push((stage, elapsed_s - stage_start));
        }
        progress(&StageEvent {
            stage,
            event,
            elapsed_s,
        });
    };

    // The output directory first: refused before any work when bonemet did not write it,
    // locked against a second run, and cleared of what a killed run left beside it.
    out_dir::check_replaceable(&config.out_dir, config.force)?;
    let _lock = out_dir::OutputLock::acquire(&config.out_dir)?;
    out_dir::clean_up_after_killed_runs(&config.out_dir)?;

    emit(Stage::Validate, "start", &mut timings);
    let mut validated = Validated::load(
        &config.files,
        config.mapping.as_deref(),
        config.study.as_deref(),
        config.max_rejected_share,
    )?;
    let (ingested, settings) = (&validated.ingested, &validated.settings);
    emit(Stage::Validate, "end", &mut timings);

    emit(Stage::Classify, "start", &mut timings);
    // Each patient's events and labs, indexed once for the classifiers and the analyses.
    let histories = Histories::new(&ingested.cohort);
    let classified = classify_cohort_with(&ingested.cohort, &histories, settings, config.threads)?;
    emit(Stage::Classify, "end", &mut timings);

    emit(Stage::Analyse, "start", &mut timings);
    let summary = analyse(
        &ingested.cohort,
        &histories,
        &classified,
        &ingested.balance,
        settings,
        config.min_cell,
    );
    emit(Stage::Analyse, "end", &mut timings);

    emit(Stage::Write, "start", &mut timings);
    let out_dir = &config.out_dir;
    let scratch_dir = out_dir::scratch_dir(out_dir);
    if scratch_dir.exists() {
        std::fs::remove_dir_all(&scratch_dir).map_err(write_err(&scratch_dir))?;
    }
    let mut scratch = Scratch(Some(scratch_dir.clone()));
    let tables_dir = scratch_dir.join("tables");
    std::fs::create_dir_all(&tables_dir).map_err(write_err(&tables_dir))?;

    let mut outputs = vec![
        "report.html".to_string(),
        "report.md".into(),
        "summary.json".into(),
        "rejected.csv".into(),
    ];
    // The patient-level table first, in row batches (never whole in memory); then the typed
    // cohort and the classifications are released, before the other writers run.
    let classified_files: Vec<(PathBuf, OutputFormat)> = [OutputFormat::Parquet, OutputFormat::Csv]
        .map(|format| {
            (
                tables_dir.join(format!("classified.{}", format.extension())),
                format,
            )
        })
        .into();
    let (written, charts) = rayon::join(
        || validated.write_classified(&classified, &classified_files),
        || draw_charts(&summary, &scratch_dir.join("charts")),
    );
    written?;
    let charts = charts?;
    drop(classified);
    drop(std::mem::take(&mut validated.ingested.cohort));
    let ingested = &validated.ingested;
    // The other tables (each file independent) and summary.json: written in parallel; the file
    // list keeps a fixed order whatever finishes first.
    let tables = [
        ("published", published_table(&summary)),
        ("incidence", incidence_table(&summary)),
        ("survival", survival_table(&summary)),
        (
            "km_curves",
            curves_table(
                each_group(&summary.survival, |a| &a.groups)
                    .into_iter()
                    .map(|(a, g)| (&a.id, &g.group, &g.curve[..])),
            ),
        ),
        (
            "cif_curves",
            curves_table(
                each_group(&summary.cumulative_incidence, |a| &a.groups)
                    .into_iter()
                    .map(|(a, g)| (&a.id, &g.group, &g.curve[..])),
            ),
        ),
        ("rates", rates_table(&summary)),
        ("models", models_table(&summary)),
        ("cumulative_incidence", cumulative_table(&summary)),
        ("table_one", table_one_table(&summary)),
        ("analyses", analyses_table(&summary)),
    ];
    let jobs: Vec<(String, &OutputTable, OutputFormat)> = tables
        .iter()
        .flat_map(|(stem, table)| {
            [OutputFormat::Parquet, OutputFormat::Csv]
                .map(|format| (format!("{stem}.{}", format.extension()), table, format))
        })
        .collect();
    outputs.extend(
        classified_files
            .iter()
            .map(|(_, format)| format!("tables/classified.{}", format.extension())),
    );
    {
        use rayon::prelude::*;
        jobs.par_iter().try_for_each(|(file, table, format)| {
            (*table).clone().write(&tables_dir.join(file), *format)
        })?;
    }
    write_json(&scratch_dir.join("summary.json"), &summary)?;
    outputs.extend(jobs.iter().map(|(file, _, _)| format!("tables/{file}")));
    for c in &charts {
        outputs.push(format!("charts/{}.svg", c.name));
        outputs.push(format!("charts/{}.png", c.name));
    }
    outputs.push("charts/flow.svg".into());
    let record = validated.record("run", outputs);
    let identity = run_identity(config, &record);
    let flow = scratch_dir.join("charts").join("flow.svg");
    std::fs::write(&flow, flow_svg(&summary, &identity)).map_err(write_err(&flow))?;
    write_file(&scratch_dir.join("report.md"), |out| {
        write_markdown(&summary, &identity, &charts, out)
    })?;
    write_file(&scratch_dir.join("report.html"), |out| {
        write_html(&summary, &identity, &charts, out)
    })?;
    write_rejected(&scratch_dir, ingested)?;
    emit(Stage::Write, "end", &mut timings);
    let run_json = RunJson {
        record: &record,
        run_timestamp: &config.timestamp,
        min_cell: config.min_cell,
        stage_seconds: timings,
    };
    write_json(&scratch_dir.join("run.json"), &run_json)?;
    // Into place: swapped with the previous report (which is then removed).
    out_dir::swap_into_place(&scratch_dir, out_dir)?;
    scratch.0 = None;
    Ok(RunOutcome {
        summary,
        gate: validated.gate,
    })
}

/// What the report says of the run: the cohort, its inputs and settings files with their
/// hashes, and the rejected rows by reason (as run.json records them).
fn run_identity(config: &RunConfig, record: &RunRecord) -> RunIdentity {
    let cohort = config
        .files
        .patients
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(&config.files.patients)
        .display()
        .to_string();
    let file = |what: &str, f: &crate::commands::SettingsFile| {
        (
            what.to_string(),
            f.path.display().to_string(),
            f.sha256.clone(),
        )
    };
    let mut settings_files = Vec::new();
    if let Some(f) = &record.settings.mapping {
        settings_files.push(file("mapping", f));
    }
    if let Some(f) = record.settings.study.as_ref().and_then(|s| s.file.as_ref()) {
        settings_files.push(file("study", f));
    }
    RunIdentity {
        timestamp: config.timestamp.clone(),
        cohort,
        inputs: record
            .inputs
            .iter()
            .map(|i| {
                (
                    i.table.as_str().to_string(),
                    i.file.path.display().to_string(),
                    i.file.sha256.clone(),
                )
            })
            .collect(),
        settings_files,
        rejections: record
            .tables
            .iter()
            .flat_map(|t| {
                t.rejections_by_reason
                    .iter()
                    .map(|(reason, rows)| (t.table.as_str().to_string(), reason.to_string(), *rows))
            })
            .collect(),
    }
}

fn count_value(c: &Count) -> Option<i64> {
    match c {
        Count::Shown(n) => Some(*n as i64),
        Count::Suppressed(_) | Count::Withheld | Count::NotShown => None,
    }
}

fn count_suppressed(c: &Count) -> Option<bool> {
    Some(c.is_suppressed())
}

/// Columns estimate, lower, upper with a prefix.
fn estimate_columns(table: &mut OutputTable, prefix: &str, values: &[Estimate]) {
    let name = |s: &str| {
        if prefix.is_empty() {
            s.to_string()
        } else {
            format!("{prefix}_{s}")
        }
    };
    table.push(OutputColumn::float(
        &name("estimate"),
        values.iter().map(|e| e.estimate),
    ));
    table.push(OutputColumn::float(
        &name("lower"),
        values.iter().map(|e| e.lower),
    ));
    table.push(OutputColumn::float(
        &name("upper"),
        values.iter().map(|e| e.upper),
    ));
}

/// The side-by-side table of F1–F11, one row per key.
fn published_table(s: &RunSummary) -> OutputTable {
    let p = &s.published;
    let mut t = OutputTable::new();
    for (name, column) in [
        ("key", p.iter().map(|r| &r.key).collect::<Vec<_>>()),
        ("id", p.iter().map(|r| &r.id).collect()),
        ("analysis", p.iter().map(|r| &r.analysis).collect()),
        ("measure", p.iter().map(|r| &r.measure).collect()),
        ("scale", p.iter().map(|r| &r.scale).collect()),
    ] {
        t.push(OutputColumn::text(name, column.into_iter().map(Some)));
    }
    t.push(OutputColumn::float(
        "literature",
        p.iter().map(|r| r.literature),
    ));
    t.push(OutputColumn::float(
        "literature_lower",
        p.iter().map(|r| r.literature_lower),
    ));
    t.push(OutputColumn::float(
        "literature_upper",
        p.iter().map(|r| r.literature_upper),
    ));
    t.push(OutputColumn::text(
        "literature_text",
        p.iter().map(|r| Some(&r.literature_text)),
    ));
    t.push(OutputColumn::text(
        "source",
        p.iter().map(|r| Some(&r.source)),
    ));
    let cohort: Vec<Estimate> = p
        .iter()
        .map(|r| Estimate {
            estimate: r.estimate,
            lower: r.lower,
            upper: r.upper,
        })
        .collect();
    estimate_columns(&mut t, "", &cohort);
    t.push(OutputColumn::int(
        "n",
        p.iter().map(|r| r.n.as_ref().and_then(count_value)),
    ));
    t.push(OutputColumn::boolean(
        "n_suppressed",
        p.iter().map(|r| r.n.as_ref().and_then(count_suppressed)),
    ));
    estimate_columns(
        &mut t,
        "difference",
        &p.iter().map(|r| r.difference).collect::<Vec<_>>(),
    );
    t.push(OutputColumn::float("p", p.iter().map(|r| r.p)));
    t.push(OutputColumn::float("p_holm", p.iter().map(|r| r.p_holm)));
    t.push(OutputColumn::text(
        "verdict",
        p.iter().map(|r| Some(&r.verdict)),
    ));
    t.push(OutputColumn::text("note", p.iter().map(|r| Some(&r.note))));
    t
}

/// Table 1 (A1), long format: `variable, level`, one column per group, `smd`.
fn table_one_table(s: &RunSummary) -> OutputTable {
    let one = &s.table_one;
    let mut t = OutputTable::new();
    t.push(OutputColumn::text(
        "variable",
        one.rows.iter().map(|r| Some(&r.variable)),
    ));
    t.push(OutputColumn::text(
        "level",
        one.rows.iter().map(|r| Some(&r.level)),
    ));
    for (k, name) in one.columns.iter().enumerate() {
        t.push(OutputColumn::text(
            &name.replace(' ', "_"),
            one.rows.iter().map(|r| r.cells.get(k)),
        ));
    }
    t.push(OutputColumn::float("smd", one.rows.iter().map(|r| r.smd)));
    t
}

/// The analysis plan as run: one row per analysis and exclusion reason.
fn analyses_table(s: &RunSummary) -> OutputTable {
    // (analysis, name, exclusion reason, n, excluded).
    type Row<'a> = (&'a str, &'a str, &'a str, Option<i64>, Option<i64>);
    let mut rows: Vec<Row> = Vec::new();
    for a in &s.analyses {
        rows.push((a.declared.id, a.declared.name, "", count_value(&a.n), None));
        for e in &a.excluded {
            rows.push((
                a.declared.id,
                a.declared.name,
                &e.reason,
                count_value(&a.n),
                count_value(&e.n),
            ));
        }
    }
    let mut t = OutputTable::new();
    t.push(OutputColumn::text(
        "analysis",
        rows.iter().map(|r| Some(r.0)),
    ));
    t.push(OutputColumn::text("name", rows.iter().map(|r| Some(r.1))));
    t.push(OutputColumn::text(
        "excluded_reason",
        rows.iter().map(|r| Some(r.2)),
    ));
    t.push(OutputColumn::int("n", rows.iter().map(|r| r.3)));
    t.push(OutputColumn::int("excluded", rows.iter().map(|r| r.4)));
    t
}

/// Every cumulative incidence at its horizons: `analysis, id, outcome, group, months, n_risk,
/// estimate/lower/upper`.
fn cumulative_table(s: &RunSummary) -> OutputTable {
    let rows: Vec<_> = each_group(&s.cumulative_incidence, |a| &a.groups)
        .into_iter()
        .flat_map(|(a, g)| g.at_months.iter().map(move |at| (a, g, at)))
        .collect();
    let mut t = OutputTable::new();
    t.push(OutputColumn::text(
        "analysis",
        rows.iter().map(|r| Some(r.0.analysis)),
    ));
    t.push(OutputColumn::text("id", rows.iter().map(|r| Some(&r.0.id))));
    t.push(OutputColumn::text(
        "outcome",
        rows.iter().map(|r| Some(&r.0.outcome)),
    ));
    t.push(OutputColumn::text(
        "group",
        rows.iter().map(|r| Some(&r.1.group)),
    ));
    t.push(OutputColumn::float(
        "months",
        rows.iter().map(|r| Some(r.2.months)),
    ));
    t.push(OutputColumn::int(
        "n_risk",
        rows.iter().map(|r| count_value(&r.2.n_risk)),
    ));
    estimate_columns(
        &mut t,
        "",
        &rows.iter().map(|r| r.2.survival).collect::<Vec<_>>(),
    );
    t
}

/// Each group of each analysis with its analysis: the rows of a table with a row per group.
fn each_group<'a, A, G>(
    analyses: &'a [A],
    groups: impl Fn(&'a A) -> &'a [G],
) -> Vec<(&'a A, &'a G)> {
    analyses
        .iter()
        .flat_map(|a| groups(a).iter().map(move |g| (a, g)))
        .collect()
}

/// Every proportion of every incidence analysis, one row per group.
fn incidence_table(s: &RunSummary) -> OutputTable {
    let rows = each_group(&s.incidence, |a| &a.groups);
    let mut t = OutputTable::new();
    t.push(OutputColumn::text(
        "analysis",
        rows.iter().map(|(a, _)| Some(&a.id)),
    ));
    t.push(OutputColumn::text(
        "outcome",
        rows.iter().map(|(a, _)| Some(&a.outcome)),
    ));
    t.push(OutputColumn::text(
        "population",
        rows.iter().map(|(a, _)| Some(&a.population)),
    ));
    t.push(OutputColumn::text(
        "by",
        rows.iter().map(|(a, _)| Some(&a.by)),
    ));
    t.push(OutputColumn::text(
        "group",
        rows.iter().map(|(_, g)| Some(&g.group)),
    ));
    t.push(OutputColumn::int(
        "n",
        rows.iter().map(|(_, g)| count_value(&g.n)),
    ));
    t.push(OutputColumn::int(
        "events",
        rows.iter().map(|(_, g)| count_value(&g.events)),
    ));
    t.push(OutputColumn::boolean(
        "suppressed",
        rows.iter().map(|(_, g)| {
            Some(g.n.is_suppressed() || g.events.is_suppressed() || g.wilson.estimate.is_none())
        }),
    ));
    estimate_columns(
        &mut t,
        "wilson",
        &rows.iter().map(|(_, g)| g.wilson).collect::<Vec<_>>(),
    );
    estimate_columns(
        &mut t,
        "exact",
        &rows.iter().map(|(_, g)| g.exact).collect::<Vec<_>>(),
    );
    t
}

/// Kaplan–Meier summaries per group of every survival analysis.
fn survival_table(s: &RunSummary) -> OutputTable {
    let rows = each_group(&s.survival, |a| &a.groups);
    let mut t = OutputTable::new();
    t.push(OutputColumn::text(
        "analysis",
        rows.iter().map(|(a, _)| Some(&a.id)),
    ));
    t.push(OutputColumn::text(
        "population",
        rows.iter().map(|(a, _)| Some(&a.population)),
    ));
    t.push(OutputColumn::text(
        "group",
        rows.iter().map(|(_, g)| Some(&g.group)),
    ));
    t.push(OutputColumn::int(
        "n",
        rows.iter().map(|(_, g)| count_value(&g.n)),
    ));
    t.push(OutputColumn::int(
        "deaths",
        rows.iter().map(|(_, g)| count_value(&g.events)),
    ));
    estimate_columns(
        &mut t,
        "median_months",
        &rows
            .iter()
            .map(|(_, g)| g.median_months)
            .collect::<Vec<_>>(),
    );
    for (k, months) in s.settings.horizons_months.iter().enumerate() {
        let at: Vec<Estimate> = rows
            .iter()
            .map(|(_, g)| g.at_months.get(k).map_or(Estimate::NONE, |a| a.survival))
            .collect();
        estimate_columns(&mut t, &format!("survival_{months}m"), &at);
    }
    t.push(OutputColumn::float(
        "logrank_p",
        rows.iter().map(|(a, _)| a.logrank.as_ref().map(|l| l.p)),
    ));
    t
}

/// The steps of curves, long format: `analysis, group, months, estimate, lower, upper`, from
/// each group's (analysis, group, curve) (a suppressed group has no step).
fn curves_table<'a>(
    groups: impl Iterator<Item = (&'a String, &'a String, &'a [CurvePointJson])>,
) -> OutputTable {
    let rows: Vec<(&String, &String, &CurvePointJson)> = groups
        .flat_map(|(analysis, group, curve)| curve.iter().map(move |p| (analysis, group, p)))
        .collect();
    let mut t = OutputTable::new();
    t.push(OutputColumn::text(
        "analysis",
        rows.iter().map(|r| Some(r.0)),
    ));
    t.push(OutputColumn::text("group", rows.iter().map(|r| Some(r.1))));
    t.push(OutputColumn::float(
        "months",
        rows.iter().map(|r| Some(r.2.months)),
    ));
    t.push(OutputColumn::float(
        "estimate",
        rows.iter().map(|r| Some(r.2.estimate)),
    ));
    t.push(OutputColumn::float("lower", rows.iter().map(|r| r.2.lower)));
    t.push(OutputColumn::float("upper", rows.iter().map(|r| r.2.upper)));
    t
}

/// The event rates: `analysis, group, patients, events, person_years,
/// rate_estimate/lower/upper`.
fn rates_table(s: &RunSummary) -> OutputTable {
    let rows = each_group(&s.rates, |a| &a.groups);
    let mut t = OutputTable::new();
    t.push(OutputColumn::text(
        "analysis",
        rows.iter().map(|(a, _)| Some(&a.id)),
    ));
    t.push(OutputColumn::text(
        "group",
        rows.iter().map(|(_, g)| Some(&g.group)),
    ));
    t.push(OutputColumn::int(
        "patients",
        rows.iter().map(|(_, g)| count_value(&g.patients)),
    ));
    t.push(OutputColumn::int(
        "events",
        rows.iter().map(|(_, g)| count_value(&g.events)),
    ));
    t.push(OutputColumn::float(
        "person_years",
        rows.iter().map(|(_, g)| g.person_years),
    ));
    estimate_columns(
        &mut t,
        "rate",
        &rows.iter().map(|(_, g)| g.rate).collect::<Vec<_>>(),
    );
    t
}

/// Terms of the regression models and the survival hazard ratios.
fn models_table(s: &RunSummary) -> OutputTable {
    let mut rows: Vec<(String, String, Estimate, f64)> = Vec::new();
    for m in &s.models {
        for term in &m.terms {
            rows.push((m.id.clone(), term.term.clone(), term.ratio, term.p));
        }
    }
    for r in &s.rates {
        if let Some(ratio) = r.rate_ratio {
            rows.push((
                r.id.clone(),
                "rate ratio treated vs untreated".into(),
                ratio,
                f64::NAN,
            ));
        }
    }
    for a in &s.survival {
        if let Some(h) = &a.hazard_ratio {
            rows.push((
                a.id.clone(),
                format!("hazard ratio {}", h.term),
                h.ratio,
                h.p,
            ));
        }
    }
    let mut t = OutputTable::new();
    t.push(OutputColumn::text("model", rows.iter().map(|r| Some(&r.0))));
    t.push(OutputColumn::text("term", rows.iter().map(|r| Some(&r.1))));
    estimate_columns(
        &mut t,
        "ratio",
        &rows.iter().map(|r| r.2).collect::<Vec<_>>(),
    );
    t.push(OutputColumn::float("p", rows.iter().map(|r| Some(r.3))));
    t
}
