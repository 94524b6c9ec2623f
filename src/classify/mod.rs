//! The clinical classifiers C1–C10 (docs/clinical-definitions.md), one file each, as pure
//! functions of typed inputs; and their run over every patient of a validated cohort, in parallel (rayon) or
//! sequentially, with the same result in the same order either way.
//!
//! A classifier that lacks an input returns [`NotAssessable`] with every reason, never a
//! default number.

pub mod calcaemia;
pub mod corrected_calcium;
pub mod histology;
pub mod m_category;
pub mod metastatic_pattern;
pub mod molecular;
pub mod not_assessable;
pub mod resorption;
pub mod risk_profile;
pub mod sre;
pub mod weight_bearing;

use chrono::NaiveDate;
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::schema::vocab::{Analyte, BoneSite, EventType, SiteSet};
use crate::schema::Cohort;
use crate::study::StudySettings;

pub use calcaemia::CalcaemiaClass;
pub use histology::HistologyGroup;
pub use m_category::MCategory;
pub use metastatic_pattern::{BoneMetsTiming, MetastaticPattern};
pub use molecular::MolecularSubgroup;
pub use not_assessable::{Assessed, MissingInput, NotAssessable};
pub use resorption::NtxClass;
pub use sre::SreSummary;

/// Classifiers that need only the patients table (C1–C7, C9, C10).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BaselineClassification {
    /// C1: baseline corrected calcium, mmol/L.
    pub corrected_calcium: Assessed<f64>,
    /// C4.
    pub histology_group: HistologyGroup,
    /// C3.
    pub molecular_subgroup: MolecularSubgroup,
    /// C5: timing of bone disease.
    pub bone_mets_timing: BoneMetsTiming,
    /// C5: pattern at diagnosis.
    pub metastatic_pattern: MetastaticPattern,
    /// C6.
    pub m_category: MCategory,
    /// C6.
    pub oligometastatic: Assessed<bool>,
    /// C7: the weight-bearing bones involved (empty: none).
    pub weight_bearing: Assessed<SiteSet<BoneSite>>,
    /// C9: baseline NTX class.
    pub ntx_class: Assessed<NtxClass>,
    /// C9: whether the baseline CTX sample is valid.
    pub ctx_valid: Assessed<bool>,
    /// C10.
    pub risk_factor_count: Assessed<u8>,
}

/// Corrected calcium over follow-up: the baseline value and every same-day calcium–albumin
/// pair of the labs table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CalciumHistory {
    /// Corrected-calcium values available (baseline and lab pairs).
    pub values: u32,
    /// The highest corrected calcium, mmol/L.
    pub worst: Option<f64>,
    /// First date with a corrected calcium above the crisis threshold (baseline values are
    /// dated at diagnosis).
    pub first_crisis_date: Option<NaiveDate>,
    /// Lab crisis dates with no hypercalcaemia event on the same date: crises found only in labs.
    pub lab_crisis_dates_without_event: u32,
}

/// Everything classify computes for one patient.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PatientClassification {
    /// C1–C7, C9, C10 on the patients table.
    pub baseline: BaselineClassification,
    /// C1/C2 over follow-up, from the labs table.
    pub calcium: CalciumHistory,
    /// C8 from the events table.
    pub sre: SreSummary,
    /// C9 on the CTX samples of the labs table: valid samples.
    pub ctx_lab_samples_valid: u32,
    /// C9: invalid samples (not fasting, or drawn at or after the cut-off hour).
    pub ctx_lab_samples_invalid: u32,
}

/// C1–C7, C9, C10 for patient `p`: no events, no labs, no allocation.
pub fn classify_baseline(
    cohort: &Cohort,
    p: usize,
    settings: &StudySettings,
) -> BaselineClassification {
    let pt = &cohort.patients;
    let corrected_calcium = corrected_calcium::baseline_corrected_calcium(
        pt.calcium[p],
        pt.calcium_unit[p],
        pt.albumin[p],
        pt.albumin_unit[p],
        settings,
    );
    let timing = metastatic_pattern::bone_mets_timing(
        pt.diagnosis_date[p],
        pt.bone_mets_date[p],
        settings.synchronous_window_days,
    );
    let visceral = pt.visceral_sites[p].unwrap_or_default();
    let sites = m_category::SitesAtDiagnosis {
        bone: timing == BoneMetsTiming::Synchronous,
        bone_lesion_count: pt.bone_lesion_count[p],
        visceral,
    };
    let ctx_valid = match pt.ctx[p] {
        None => Err(NotAssessable::because(MissingInput::CtxMissing)),
        Some(_) => resorption::ctx_sample_valid(pt.ctx_sampled_at[p], pt.ctx_fasting[p], settings),
    };
    BaselineClassification {
        corrected_calcium,
        histology_group: histology::histology_group(pt.histology[p]),
        molecular_subgroup: molecular::molecular_subgroup(pt.egfr[p], pt.alk[p], pt.kras[p]),
        bone_mets_timing: timing,
        metastatic_pattern: metastatic_pattern::metastatic_pattern(timing, pt.visceral_sites[p]),
        m_category: m_category::m_category(&sites),
        oligometastatic: m_category::oligometastatic(&sites, settings),
        weight_bearing: weight_bearing::weight_bearing_involvement(
            pt.bone_mets_date[p].is_some(),
            pt.bone_sites[p],
        ),
        ntx_class: pt.ntx[p]
            .map(|ntx| resorption::ntx_class(ntx, settings))
            .ok_or(NotAssessable::because(MissingInput::NtxMissing)),
        ctx_valid,
        risk_factor_count: risk_profile::risk_factor_count(
            pt.sex[p],
            pt.tumor_size_mm[p],
            pt.n_stage[p],
            visceral.len(),
            settings,
        ),
    }
}

/// Each patient's rows of the events and labs tables, in date order (ties in source order).
#[derive(Debug, Clone)]
pub struct Histories {
    event_starts: Vec<u32>,
    event_rows: Vec<u32>,
    lab_starts: Vec<u32>,
    lab_rows: Vec<u32>,
}

/// Groups row indices by patient (counting sort: stable, O(n)), each group then sorted by `key`.
fn group_by_patient<K: Ord>(
    patients: usize,
    owners: &[u32],
    key: impl Fn(u32) -> K,
) -> (Vec<u32>, Vec<u32>) {
    let mut starts = vec![0u32; patients + 1];
    for &p in owners {
        starts[p as usize + 1] += 1;
    }
    for i in 0..patients {
        starts[i + 1] += starts[i];
    }
    let mut next = starts.clone();
    let mut rows = vec![0u32; owners.len()];
    for (row, &p) in owners.iter().enumerate() {
        rows[next[p as usize] as usize] = row as u32;
        next[p as usize] += 1;
    }
    for p in 0..patients {
        let group = &mut rows[starts[p] as usize..starts[p + 1] as usize];
        if group.len() > 1 {
            // Stable: rows of equal key keep source order.
            group.sort_by_key(|&r| key(r));
        }
    }
    (starts, rows)
}

impl Histories {
    /// Indexes a cohort's events and labs by patient.
    pub fn new(cohort: &Cohort) -> Self {
        let labs = &cohort.labs;
        let (lab_starts, lab_rows) = group_by_patient(cohort.patients.len(), &labs.patient, |r| {
            labs.sampled_at[r as usize]
        });
        Self {
            lab_starts,
            lab_rows,
            ..Self::of_events(cohort)
        }
    }

    /// Indexes a cohort's events alone by patient (no labs).
    pub fn of_events(cohort: &Cohort) -> Self {
        let n = cohort.patients.len();
        let events = &cohort.events;
        let (event_starts, event_rows) =
            group_by_patient(n, &events.patient, |r| events.event_date[r as usize]);
        Self {
            event_starts,
            event_rows,
            lab_starts: vec![0; n + 1],
            lab_rows: Vec::new(),
        }
    }

    /// Rows of the events table for patient `p`, by date.
    pub fn events(&self, p: usize) -> &[u32] {
        &self.event_rows[self.event_starts[p] as usize..self.event_starts[p + 1] as usize]
    }

    /// Rows of the labs table for patient `p`, by sampling time.
    pub fn labs(&self, p: usize) -> &[u32] {
        &self.lab_rows[self.lab_starts[p] as usize..self.lab_starts[p + 1] as usize]
    }
}

/// Every corrected calcium of patient `p` with its date and whether it comes from the labs:
/// the baseline value (dated at diagnosis), then each lab calcium paired with the same day's
/// albumin closest in time.
fn corrected_calcium_values(
    cohort: &Cohort,
    histories: &Histories,
    p: usize,
    baseline: Assessed<f64>,
    settings: &StudySettings,
    mut note: impl FnMut(f64, NaiveDate, bool),
) {
    let labs = &cohort.labs;
    let rows = histories.labs(p);
    if let Ok(value) = baseline {
        note(value, cohort.patients.diagnosis_date[p], false);
    }
    for &ca in rows {
        let ca = ca as usize;
        if labs.analyte[ca] != Analyte::Calcium {
            continue;
        }
        let Some(calcium) = corrected_calcium::lab_calcium_mmol_l(labs.value[ca], labs.unit[ca])
        else {
            continue;
        };
        let when = labs.sampled_at[ca];
        let albumin = rows
            .iter()
            .map(|&a| a as usize)
            .filter(|&a| {
                labs.analyte[a] == Analyte::Albumin && labs.sampled_at[a].date() == when.date()
            })
            .min_by_key(|&a| (labs.sampled_at[a] - when).num_seconds().abs())
            .and_then(|a| corrected_calcium::lab_albumin_g_l(labs.value[a], labs.unit[a]));
        if let Some(albumin) = albumin {
            note(
                corrected_calcium::corrected_calcium(calcium, albumin, settings),
                when.date(),
                true,
            );
        }
    }
}

/// The distinct days on which patient `p` had a laboratory hypercalcaemic crisis (C2: a
/// corrected calcium above the crisis threshold, baseline or labs), in date order.
pub fn crisis_dates(
    cohort: &Cohort,
    histories: &Histories,
    p: usize,
    baseline: Assessed<f64>,
    settings: &StudySettings,
) -> Vec<NaiveDate> {
    let mut dates = Vec::new();
    corrected_calcium_values(
        cohort,
        histories,
        p,
        baseline,
        settings,
        |value, date, _| {
            if calcaemia::is_crisis(value, settings) {
                dates.push(date);
            }
        },
    );
    dates.sort_unstable();
    dates.dedup();
    dates
}

/// C1/C2 over the labs: each calcium paired with the same day's albumin closest in time.
fn calcium_history(
    cohort: &Cohort,
    histories: &Histories,
    p: usize,
    baseline: Assessed<f64>,
    settings: &StudySettings,
) -> CalciumHistory {
    let mut values = 0u32;
    let mut worst: Option<f64> = None;
    let mut crisis_dates: Vec<NaiveDate> = Vec::new();
    let mut first_crisis_date = None;
    corrected_calcium_values(
        cohort,
        histories,
        p,
        baseline,
        settings,
        |value, date, from_labs| {
            values += 1;
            worst = Some(worst.map_or(value, |w: f64| w.max(value)));
            if calcaemia::is_crisis(value, settings) {
                first_crisis_date =
                    Some(first_crisis_date.map_or(date, |d: NaiveDate| d.min(date)));
                if from_labs && !crisis_dates.contains(&date) {
                    crisis_dates.push(date);
                }
            }
        },
    );
    let events = &cohort.events;
    let hypercalcaemia_on = |date: NaiveDate| {
        histories.events(p).iter().any(|&e| {
            events.event_type[e as usize] == EventType::Hypercalcemia
                && events.event_date[e as usize] == date
        })
    };
    let lab_crisis_dates_without_event = crisis_dates
        .iter()
        .filter(|d| !hypercalcaemia_on(**d))
        .count() as u32;
    CalciumHistory {
        values,
        worst,
        first_crisis_date,
        lab_crisis_dates_without_event,
    }
}

/// Every classifier for patient `p`.
pub fn classify_patient(
    cohort: &Cohort,
    histories: &Histories,
    p: usize,
    settings: &StudySettings,
) -> PatientClassification {
    let baseline = classify_baseline(cohort, p, settings);
    let calcium = calcium_history(cohort, histories, p, baseline.corrected_calcium, settings);
    let pt = &cohort.patients;
    let events = &cohort.events;
    let sre = sre::summarise_sres(
        histories
            .events(p)
            .iter()
            .map(|&e| (events.event_date[e as usize], events.event_type[e as usize])),
        pt.bone_mets_date[p].unwrap_or(pt.diagnosis_date[p]),
        pt.last_contact_date[p],
        settings,
    );
    let labs = &cohort.labs;
    let (mut valid, mut invalid) = (0, 0);
    for &r in histories.labs(p) {
        let r = r as usize;
        if labs.analyte[r] == Analyte::Ctx {
            match resorption::ctx_sample_valid(Some(labs.sampled_at[r]), labs.fasting[r], settings)
            {
                Ok(true) => valid += 1,
                Ok(false) => invalid += 1,
                Err(_) => {}
            }
        }
    }
    PatientClassification {
        baseline,
        calcium,
        sre,
        ctx_lab_samples_valid: valid,
        ctx_lab_samples_invalid: invalid,
    }
}

/// How many threads classify uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Threads {
    /// Rayon's global pool (one thread per core).
    All,
    /// Exactly this many: 1 runs on the calling thread without a pool.
    Exactly(usize),
}

/// Classifies every patient of a cohort, in patient order whatever the thread count.
pub fn classify_cohort(
    cohort: &Cohort,
    settings: &StudySettings,
    threads: Threads,
) -> Result<Vec<PatientClassification>> {
    classify_cohort_with(cohort, &Histories::new(cohort), settings, threads)
}

/// [`classify_cohort`] with the cohort's histories already indexed (the run indexes them once
/// for the classifiers and the analyses).
pub fn classify_cohort_with(
    cohort: &Cohort,
    histories: &Histories,
    settings: &StudySettings,
    threads: Threads,
) -> Result<Vec<PatientClassification>> {
    let n = cohort.patients.len();
    let one = |p: usize| classify_patient(cohort, histories, p, settings);
    match threads {
        Threads::Exactly(0) => Err(Error::Setting {
            name: "--threads".into(),
            message: "0 threads: expected 1 or more".into(),
        }),
        Threads::Exactly(1) => Ok((0..n).map(one).collect()),
        Threads::All => Ok((0..n).into_par_iter().with_min_len(1024).map(one).collect()),
        Threads::Exactly(k) => {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(k)
                .build()
                .map_err(|e| Error::Setting {
                    name: "--threads".into(),
                    message: e.to_string(),
                })?;
            Ok(pool.install(|| (0..n).into_par_iter().with_min_len(1024).map(one).collect()))
        }
    }
}
