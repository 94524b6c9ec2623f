//! The `classify` command: validate a cohort, run the classifiers C1–C10 over every accepted
//! patient, and write `classified.parquet|csv` (one row per patient, the contract columns of
//! docs/outputs.md), `rejected.csv` and `run.json`.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::{
    create_out_dir, table_records, write_rejected_and_record, QualityGate, RunRecord, RunSettings,
    SettingsFile, StudyRecord,
};
use crate::classify::{classify_cohort, Assessed, PatientClassification, Threads};
use crate::error::Result;
use crate::ingest::{ingest, Ingested};
use crate::io::{
    write_batched, CohortFiles, LoadedMapping, OutputColumn, OutputFormat, OutputTable,
};
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
    /// The study settings file, if any (else the defaults `bonemet classify --help` lists).
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

/// Builds one output column.
type ColumnBuilder<'a> = Box<dyn Fn() -> OutputColumn + Send + Sync + 'a>;

/// The classified-patients table: patient_id and every classifier output, typed, with a
/// reasons column for each classifier that can be not assessable. Columns are built in
/// parallel, each an independent pass over the classifications.
pub fn classified_table(
    cohort: &Cohort,
    classified: &[PatientClassification],
    settings: &StudySettings,
    rows: std::ops::Range<usize>,
) -> OutputTable {
    use crate::classify::calcaemia;
    use rayon::prelude::*;
    type Of<T> = fn(&PatientClassification) -> Option<T>;
    let c = &classified[rows.clone()];
    let patient_id = &cohort.patients.patient_id[rows.clone()];
    let ctx = &cohort.patients.ctx[rows];
    let float = |name: &'static str, f: Of<f64>| -> ColumnBuilder<'_> {
        Box::new(move || OutputColumn::float(name, c.iter().map(f)))
    };
    let int = |name: &'static str, f: Of<i64>| -> ColumnBuilder<'_> {
        Box::new(move || OutputColumn::int(name, c.iter().map(f)))
    };
    let boolean = |name: &'static str, f: Of<bool>| -> ColumnBuilder<'_> {
        Box::new(move || OutputColumn::boolean(name, c.iter().map(f)))
    };
    let label = |name: &'static str, f: Of<&'static str>| -> ColumnBuilder<'_> {
        Box::new(move || OutputColumn::text(name, c.iter().map(f)))
    };
    let text = |name: &'static str, f: Of<String>| -> ColumnBuilder<'_> {
        Box::new(move || OutputColumn::text(name, c.iter().map(f)))
    };
    let date = |name: &'static str, f: Of<chrono::NaiveDate>| -> ColumnBuilder<'_> {
        Box::new(move || OutputColumn::date(name, c.iter().map(f)))
    };
    // Columns that depend on the settings or on the cohort.
    let class_of = move |v: f64| calcaemia::calcaemia_class(v, settings).as_str();
    let grade_of = move |v: f64| i64::from(calcaemia::ctcae_grade(v, settings));
    let builders: Vec<ColumnBuilder<'_>> = vec![
        Box::new(|| OutputColumn::text("patient_id", patient_id.iter().map(Some))),
        // C1, C2 at baseline.
        float("corrected_calcium_mmol_l", |c| {
            value(&c.baseline.corrected_calcium)
        }),
        Box::new(move || {
            OutputColumn::text(
                "calcaemia_class",
                c.iter()
                    .map(|c| value(&c.baseline.corrected_calcium).map(class_of)),
            )
        }),
        Box::new(move || {
            OutputColumn::int(
                "calcaemia_ctcae_grade",
                c.iter()
                    .map(|c| value(&c.baseline.corrected_calcium).map(grade_of)),
            )
        }),
        text("corrected_calcium_reasons", |c| {
            reasons(&c.baseline.corrected_calcium)
        }),
        // C1, C2 over follow-up (baseline and labs).
        boolean("hypercalcaemic_crisis", |c| {
            (c.calcium.values > 0).then_some(c.calcium.first_crisis_date.is_some())
        }),
        date("first_crisis_date", |c| c.calcium.first_crisis_date),
        float("worst_corrected_calcium_mmol_l", |c| c.calcium.worst),
        Box::new(move || {
            OutputColumn::text(
                "worst_calcaemia_class",
                c.iter().map(|c| c.calcium.worst.map(class_of)),
            )
        }),
        int("corrected_calcium_values", |c| {
            Some(i64::from(c.calcium.values))
        }),
        int("lab_crisis_dates_without_event", |c| {
            Some(i64::from(c.calcium.lab_crisis_dates_without_event))
        }),
        // C3, C4, C5, C6.
        label("molecular_subgroup", |c| {
            Some(c.baseline.molecular_subgroup.as_str())
        }),
        label("histology_group", |c| {
            Some(c.baseline.histology_group.as_str())
        }),
        label("metastatic_pattern", |c| {
            Some(c.baseline.metastatic_pattern.as_str())
        }),
        label("bone_mets_timing", |c| {
            Some(c.baseline.bone_mets_timing.as_str())
        }),
        label("m_category", |c| Some(c.baseline.m_category.as_str())),
        boolean("oligometastatic", |c| value(&c.baseline.oligometastatic)),
        text("oligometastatic_reasons", |c| {
            reasons(&c.baseline.oligometastatic)
        }),
        // C7.
        boolean("weight_bearing_involved", |c| {
            value(&c.baseline.weight_bearing).map(|s| !s.is_empty())
        }),
        text("weight_bearing_sites", |c| {
            value(&c.baseline.weight_bearing).map(|s| s.to_list_string())
        }),
        text("weight_bearing_reasons", |c| {
            reasons(&c.baseline.weight_bearing)
        }),
        // C9.
        label("ntx_class", |c| {
            value(&c.baseline.ntx_class).map(|n| n.as_str())
        }),
        text("ntx_reasons", |c| reasons(&c.baseline.ntx_class)),
        boolean("ctx_valid", |c| value(&c.baseline.ctx_valid)),
        text("ctx_reasons", |c| reasons(&c.baseline.ctx_valid)),
        Box::new(move || {
            OutputColumn::float(
                "ctx_valid_ng_l",
                c.iter()
                    .zip(ctx)
                    .map(|(c, v)| v.filter(|_| value(&c.baseline.ctx_valid) == Some(true))),
            )
        }),
        int("ctx_lab_samples_valid", |c| {
            Some(i64::from(c.ctx_lab_samples_valid))
        }),
        int("ctx_lab_samples_invalid", |c| {
            Some(i64::from(c.ctx_lab_samples_invalid))
        }),
        // C8.
        boolean("any_sre", |c| Some(c.sre.any())),
        int("sre_count", |c| Some(i64::from(c.sre.count))),
        label("first_sre_type", |c| {
            c.sre.first.map(|(_, kind)| kind.as_str())
        }),
        date("first_sre_date", |c| c.sre.first.map(|(d, _)| d)),
        date("second_sre_date", |c| c.sre.second_date),
        float("sre_per_patient_year", |c| value(&c.sre.per_patient_year)),
        text("sre_rate_reasons", |c| reasons(&c.sre.per_patient_year)),
        int("sre_events_merged", |c| {
            Some(i64::from(c.sre.merged_events))
        }),
        // C10.
        int("risk_factor_count", |c| {
            value(&c.baseline.risk_factor_count).map(i64::from)
        }),
        text("risk_factor_reasons", |c| {
            reasons(&c.baseline.risk_factor_count)
        }),
    ];
    let columns: Vec<OutputColumn> = builders.into_par_iter().map(|build| build()).collect();
    let mut table = OutputTable::new();
    for column in columns {
        table.push(column);
    }
    table
}

/// A cohort validated under a study's settings: what `classify` and `run` start from.
pub struct Validated {
    /// The study settings in force.
    pub settings: StudySettings,
    /// The cohort and its rejections.
    pub ingested: Ingested,
    /// The quality gate's verdict.
    pub gate: QualityGate,
    /// The settings as run.json records them.
    pub run_settings: RunSettings,
}

impl Validated {
    /// Loads the study settings and the mapping, then ingests and validates the cohort.
    pub fn load(
        files: &CohortFiles,
        mapping: Option<&Path>,
        study: Option<&Path>,
        max_rejected_share: f64,
    ) -> Result<Self> {
        let settings = StudySettings::load(study)?;
        let mapping = LoadedMapping::load(mapping)?;
        let run_settings = RunSettings {
            mapping: SettingsFile::of(mapping.path.as_deref())?,
            max_rejected_share,
            study: Some(StudyRecord {
                file: SettingsFile::of(study)?,
                settings: settings.clone(),
            }),
            output_format: None,
        };
        let ingested = ingest(files, &mapping)?;
        let gate = QualityGate::evaluate(&ingested.balance, max_rejected_share);
        Ok(Self {
            settings,
            ingested,
            gate,
            run_settings,
        })
    }

    /// The run record of `command`, listing `outputs`.
    pub fn record(&self, command: &'static str, outputs: Vec<String>) -> RunRecord {
        RunRecord {
            bonemet_version: env!("CARGO_PKG_VERSION"),
            command,
            inputs: self.ingested.inputs.clone(),
            settings: self.run_settings.clone(),
            tables: table_records(&self.ingested),
            quality_gate: self.gate.clone(),
            outputs,
        }
    }

    /// Writes the classified-patients table to each `(path, format)`, with bonemet's version
    /// and the study settings in the Parquet metadata, in row batches (the table is never
    /// whole in memory).
    pub fn write_classified(
        &self,
        classified: &[PatientClassification],
        targets: &[(PathBuf, OutputFormat)],
    ) -> Result<()> {
        let metadata = [
            (
                "bonemet.version".to_string(),
                env!("CARGO_PKG_VERSION").to_string(),
            ),
            (
                "bonemet.study_settings".to_string(),
                serde_json::to_string(&self.settings).unwrap_or_default(),
            ),
        ];
        write_batched(targets, &metadata, classified.len(), |rows| {
            classified_table(&self.ingested.cohort, classified, &self.settings, rows)
        })
    }
}

/// Runs `classify`, writing the summary to `summary`. A failed quality gate is not an error:
/// outputs are written and the outcome says so.
pub fn classify(config: &ClassifyConfig, summary: &mut dyn Write) -> Result<ClassifyOutcome> {
    let validated = Validated::load(
        &config.files,
        config.mapping.as_deref(),
        config.study.as_deref(),
        config.max_rejected_share,
    )?;
    let classified = classify_cohort(
        &validated.ingested.cohort,
        &validated.settings,
        config.threads,
    )?;
    let classified_name = format!("classified.{}", config.format.extension());
    let mut record = validated.record(
        "classify",
        vec![classified_name.clone(), "rejected.csv".into()],
    );
    record.settings.output_format = Some(config.format);
    create_out_dir(&config.out_dir)?;
    validated.write_classified(
        &classified,
        &[(config.out_dir.join(&classified_name), config.format)],
    )?;
    write_rejected_and_record(&config.out_dir, &validated.ingested, &record)?;

    let _ = crate::report::write_validation_summary(
        summary,
        &config.files,
        &record.tables,
        &validated.gate,
    );
    let _ = writeln!(
        summary,
        "classified {} patients -> {}",
        classified.len(),
        config.out_dir.join(&classified_name).display()
    );
    let Validated { ingested, gate, .. } = validated;
    Ok(ClassifyOutcome {
        ingested,
        classified,
        gate,
    })
}
