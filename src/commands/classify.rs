//! The `classify` command: validate a cohort, run the classifiers C1–C10 over every accepted
//! patient, and write `classified.parquet|csv` (one row per patient, the contract columns of
//! docs/outputs.md), `rejected.csv` and `run.json`.

use std::io::Write;
use std::path::PathBuf;

use super::{
    create_out_dir, table_records, write_rejected_and_record, QualityGate, RunRecord, RunSettings,
    SettingsFile, StudyRecord,
};
use crate::classify::{classify_cohort, Assessed, PatientClassification, Threads};
use crate::error::Result;
use crate::ingest::{ingest, Ingested};
use crate::io::{CohortFiles, LoadedMapping, OutputFormat, OutputTable, Values};
use crate::schema::vocab::Vocabulary;
use crate::schema::Cohort;
use crate::study::StudySettings;

/// What `classify` needs, already checked.
#[derive(Debug, Clone)]
pub struct ClassifyConfig {
    /// The cohort's files.
    pub files: CohortFiles,
    /// The mapping file, if any.
    pub mapping: Option<PathBuf>,
    /// The study settings file, if any (else the defaults of domain.md).
    pub study: Option<PathBuf>,
    /// Output directory.
    pub out_dir: PathBuf,
    /// Format of `classified.*`.
    pub format: OutputFormat,
    /// Threads for the classifiers.
    pub threads: Threads,
    /// Cap on the rejected share of any table, in [0, 1].
    pub max_rejected_share: f64,
}

/// The outcome of `classify`.
#[derive(Debug, Clone)]
pub struct ClassifyOutcome {
    /// The cohort and its rejections.
    pub ingested: Ingested,
    /// One classification per accepted patient, in patient order.
    pub classified: Vec<PatientClassification>,
    /// The quality gate's verdict (a failed gate means exit code 3).
    pub gate: QualityGate,
}

fn value<T: Copy>(a: &Assessed<T>) -> Option<T> {
    a.as_ref().ok().copied()
}

fn reasons<T>(a: &Assessed<T>) -> Option<String> {
    a.as_ref().err().map(|why| why.codes())
}

/// The classified-patients table: patient_id and every classifier output, typed, with a
/// reasons column for each classifier that can be not assessable.
pub fn classified_table(
    cohort: &Cohort,
    classified: &[PatientClassification],
    settings: &StudySettings,
) -> OutputTable {
    use crate::classify::{calcaemia, sre::SreSummary};
    let mut t = OutputTable::new();
    let col =
        |f: &dyn Fn(&PatientClassification) -> Option<f64>| classified.iter().map(f).collect();
    let label = |f: &dyn Fn(&PatientClassification) -> Option<&'static str>| {
        Values::Label(classified.iter().map(f).collect())
    };
    let boolean = |f: &dyn Fn(&PatientClassification) -> Option<bool>| {
        Values::Bool(classified.iter().map(f).collect())
    };
    let int = |f: &dyn Fn(&PatientClassification) -> Option<i64>| {
        Values::Int(classified.iter().map(f).collect())
    };
    let text = |f: &dyn Fn(&PatientClassification) -> Option<String>| {
        Values::Text(classified.iter().map(f).collect())
    };
    let date = |f: &dyn Fn(&PatientClassification) -> Option<chrono::NaiveDate>| {
        Values::Date(classified.iter().map(f).collect())
    };
    t.push(
        "patient_id",
        Values::Text(
            cohort
                .patients
                .patient_id
                .iter()
                .cloned()
                .map(Some)
                .collect(),
        ),
    );
    // C1, C2 at baseline.
    t.push(
        "corrected_calcium_mmol_l",
        Values::Float(col(&|c| value(&c.baseline.corrected_calcium))),
    );
    t.push(
        "calcaemia_class",
        label(&|c| {
            value(&c.baseline.corrected_calcium)
                .map(|v| calcaemia::calcaemia_class(v, settings).as_str())
        }),
    );
    t.push(
        "calcaemia_ctcae_grade",
        int(&|c| {
            value(&c.baseline.corrected_calcium)
                .map(|v| i64::from(calcaemia::ctcae_grade(v, settings)))
        }),
    );
    t.push(
        "corrected_calcium_reasons",
        text(&|c| reasons(&c.baseline.corrected_calcium)),
    );
    // C1, C2 over follow-up (baseline and labs).
    t.push(
        "hypercalcaemic_crisis",
        boolean(&|c| (c.calcium.values > 0).then_some(c.calcium.first_crisis_date.is_some())),
    );
    t.push("first_crisis_date", date(&|c| c.calcium.first_crisis_date));
    t.push(
        "worst_corrected_calcium_mmol_l",
        Values::Float(col(&|c| c.calcium.worst)),
    );
    t.push(
        "worst_calcaemia_class",
        label(&|c| {
            c.calcium
                .worst
                .map(|v| calcaemia::calcaemia_class(v, settings).as_str())
        }),
    );
    t.push(
        "corrected_calcium_values",
        int(&|c| Some(i64::from(c.calcium.values))),
    );
    t.push(
        "lab_crisis_dates_without_event",
        int(&|c| Some(i64::from(c.calcium.lab_crisis_dates_without_event))),
    );
    // C3, C4, C5, C6.
    t.push(
        "molecular_subgroup",
        label(&|c| Some(c.baseline.molecular_subgroup.as_str())),
    );
    t.push(
        "histology_group",
        label(&|c| Some(c.baseline.histology_group.as_str())),
    );
    t.push(
        "metastatic_pattern",
        label(&|c| Some(c.baseline.metastatic_pattern.as_str())),
    );
    t.push(
        "bone_mets_timing",
        label(&|c| Some(c.baseline.bone_mets_timing.as_str())),
    );
    t.push(
        "m_category",
        label(&|c| Some(c.baseline.m_category.as_str())),
    );
    t.push(
        "oligometastatic",
        boolean(&|c| value(&c.baseline.oligometastatic)),
    );
    t.push(
        "oligometastatic_reasons",
        text(&|c| reasons(&c.baseline.oligometastatic)),
    );
    // C7.
    t.push(
        "weight_bearing_involved",
        boolean(&|c| value(&c.baseline.weight_bearing).map(|s| !s.is_empty())),
    );
    t.push(
        "weight_bearing_sites",
        text(&|c| value(&c.baseline.weight_bearing).map(|s| s.to_list_string())),
    );
    t.push(
        "weight_bearing_reasons",
        text(&|c| reasons(&c.baseline.weight_bearing)),
    );
    // C9.
    t.push(
        "ntx_class",
        label(&|c| value(&c.baseline.ntx_class).map(|n| n.as_str())),
    );
    t.push("ntx_reasons", text(&|c| reasons(&c.baseline.ntx_class)));
    t.push("ctx_valid", boolean(&|c| value(&c.baseline.ctx_valid)));
    t.push("ctx_reasons", text(&|c| reasons(&c.baseline.ctx_valid)));
    let ctx = &cohort.patients.ctx;
    t.push(
        "ctx_valid_ng_l",
        Values::Float(
            classified
                .iter()
                .zip(ctx)
                .map(|(c, v)| v.filter(|_| value(&c.baseline.ctx_valid) == Some(true)))
                .collect(),
        ),
    );
    t.push(
        "ctx_lab_samples_valid",
        int(&|c| Some(i64::from(c.ctx_lab_samples_valid))),
    );
    t.push(
        "ctx_lab_samples_invalid",
        int(&|c| Some(i64::from(c.ctx_lab_samples_invalid))),
    );
    // C8.
    let sre = |f: &dyn Fn(&SreSummary) -> Option<i64>| int(&|c| f(&c.sre));
    t.push("any_sre", boolean(&|c| Some(c.sre.any())));
    t.push("sre_count", sre(&|s| Some(i64::from(s.count))));
    t.push(
        "first_sre_type",
        label(&|c| c.sre.first.map(|(_, kind)| kind.as_str())),
    );
    t.push("first_sre_date", date(&|c| c.sre.first.map(|(d, _)| d)));
    t.push("second_sre_date", date(&|c| c.sre.second_date));
    t.push(
        "sre_per_patient_year",
        Values::Float(col(&|c| value(&c.sre.per_patient_year))),
    );
    t.push(
        "sre_rate_reasons",
        text(&|c| reasons(&c.sre.per_patient_year)),
    );
    t.push(
        "sre_events_merged",
        sre(&|s| Some(i64::from(s.merged_events))),
    );
    // C10.
    t.push(
        "risk_factor_count",
        int(&|c| value(&c.baseline.risk_factor_count).map(i64::from)),
    );
    t.push(
        "risk_factor_reasons",
        text(&|c| reasons(&c.baseline.risk_factor_count)),
    );
    t
}

/// Runs `classify`, writing the summary to `summary`. A failed quality gate is not an error:
/// outputs are written and the outcome says so.
pub fn classify(config: &ClassifyConfig, summary: &mut dyn Write) -> Result<ClassifyOutcome> {
    let settings = StudySettings::load(config.study.as_deref())?;
    let mapping = LoadedMapping::load(config.mapping.as_deref())?;
    let study_file = SettingsFile::of(config.study.as_deref())?;
    let mapping_file = SettingsFile::of(mapping.path.as_deref())?;
    let ingested = ingest(&config.files, &mapping)?;
    let gate = QualityGate::evaluate(&ingested.balance, config.max_rejected_share);
    let classified = classify_cohort(&ingested.cohort, &settings, config.threads)?;

    let settings_json = serde_json::to_string(&settings).unwrap_or_default();
    let mut table = classified_table(&ingested.cohort, &classified, &settings);
    table.add_metadata("bonemet.version", env!("CARGO_PKG_VERSION").to_string());
    table.add_metadata("bonemet.study_settings", settings_json);
    let classified_name = format!("classified.{}", config.format.extension());
    let tables = table_records(&ingested);
    let record = RunRecord {
        bonemet_version: env!("CARGO_PKG_VERSION"),
        command: "classify",
        inputs: ingested.inputs.clone(),
        settings: RunSettings {
            mapping: mapping_file,
            max_rejected_share: config.max_rejected_share,
            study: Some(StudyRecord {
                file: study_file,
                settings: settings.clone(),
            }),
            output_format: Some(config.format),
        },
        tables: tables.clone(),
        quality_gate: gate.clone(),
        outputs: vec![classified_name.clone(), "rejected.csv".into()],
    };
    create_out_dir(&config.out_dir)?;
    table.write(&config.out_dir.join(&classified_name), config.format)?;
    write_rejected_and_record(&config.out_dir, &ingested, &record)?;

    let _ = crate::report::write_validation_summary(summary, &config.files, &tables, &gate);
    let _ = writeln!(
        summary,
        "classified {} patients -> {}",
        classified.len(),
        config.out_dir.join(&classified_name).display()
    );
    Ok(ClassifyOutcome {
        ingested,
        classified,
        gate,
    })
}
