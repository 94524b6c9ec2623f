//! The study of docs/analysis-plan.md: the analyses A1–A12 that `bonemet run` performs, each
//! declared once ([`plan::PLAN`]) and computed by `crate::stats`, and the published figures
//! F1–F11 set beside the cohort's estimate in the source's population ([`published`]).
//!
//! One file per family: the cohort and Table 1 ([`cohort`]), prevalence and incidence of bone
//! metastases and crises ([`incidence`]), survival ([`survival`]), skeletal-related events
//! ([`sre`]: competing risks, rates, models), the published figures ([`published`]). Every
//! time-to-event analysis reads the patients' day-level [`timeline`]. Estimates are never
//! adjusted toward the literature. Time is in months (days / 30.4375).

pub mod cohort;
pub mod disclosure;
pub mod estimators;
pub mod incidence;
pub mod model;
pub mod plan;
pub mod published;
pub mod sre;
pub mod survival;
pub mod timeline;

use crate::classify::{HistologyGroup, Histories, MolecularSubgroup, PatientClassification};
use crate::ingest::TableBalance;
use crate::schema::vocab::{Egfr, Histology, Kras};
use crate::schema::Cohort;
use crate::study::StudySettings;
use model::*;
use timeline::Timeline;

pub use timeline::DAYS_PER_MONTH;

/// What every analysis reads: the cohort, its classification and timelines, and the settings.
/// The analyses count everything; disclosure control applies to their results as a whole
/// ([`disclosure::disclose`]).
pub struct Study<'a> {
    /// The validated cohort.
    pub cohort: &'a Cohort,
    /// Each patient's classification.
    pub classified: &'a [PatientClassification],
    /// Each patient's follow-up in days.
    pub timelines: Vec<Timeline>,
    /// The study settings.
    pub settings: &'a StudySettings,
}

/// Molecular families, the groups of the survival analyses (C3 grouped).
pub const FAMILIES: [(usize, &str); 5] = [
    (0, "EGFR-mutant"),
    (1, "ALK-rearranged"),
    (2, "KRAS-mutant"),
    (3, "triple-negative"),
    (4, "incompletely tested"),
];

/// The triple-negative family: the reference level of the models.
pub const TRIPLE_NEGATIVE: usize = 3;

impl Study<'_> {
    /// Patients.
    pub fn n(&self) -> usize {
        self.classified.len()
    }
    /// C3.
    pub fn subgroup(&self, i: usize) -> MolecularSubgroup {
        self.classified[i].baseline.molecular_subgroup
    }
    /// The molecular family (index into [`FAMILIES`]).
    pub fn family(&self, i: usize) -> usize {
        let m = self.subgroup(i);
        if m.is_egfr() {
            0
        } else if m == MolecularSubgroup::Alk {
            1
        } else if m.is_kras() {
            2
        } else if m == MolecularSubgroup::TripleNegative {
            3
        } else {
            4
        }
    }
    /// C4.
    pub fn histology_group(&self, i: usize) -> HistologyGroup {
        self.classified[i].baseline.histology_group
    }
    /// NSCLC: adenocarcinoma, squamous, large-cell, NSCLC NOS.
    pub fn nsclc(&self, i: usize) -> bool {
        matches!(
            self.cohort.patients.histology[i],
            Histology::Adenocarcinoma
                | Histology::Squamous
                | Histology::LargeCell
                | Histology::NsclcNos
        )
    }
    /// Non-squamous NSCLC: adenocarcinoma, large-cell, NSCLC NOS.
    pub fn non_squamous_nsclc(&self, i: usize) -> bool {
        self.nsclc(i) && self.cohort.patients.histology[i] != Histology::Squamous
    }
    /// Stage IV at diagnosis.
    pub fn stage_iv(&self, i: usize) -> bool {
        timeline::stage_iv(self.cohort.patients.stage[i])
    }
    /// Bone metastases at diagnosis (C5 synchronous, or dated before the diagnosis).
    pub fn bone_at_diagnosis(&self, i: usize) -> bool {
        self.timelines[i].bone_at_diagnosis
    }
    /// Bone metastases at any time.
    pub fn bone(&self, i: usize) -> bool {
        self.timelines[i].bone_from_diagnosis.is_some()
    }
    /// KRAS status for the symmetric comparison (F7): `Some(true)` KRAS-mutant (C3's KRAS
    /// family), `Some(false)` KRAS tested wild type with no EGFR mutation and no ALK
    /// rearrangement found (the same rule), `None` otherwise (untested KRAS, or EGFR/ALK
    /// altered).
    pub fn kras_status(&self, i: usize) -> Option<bool> {
        let pt = &self.cohort.patients;
        let egfr_mutated = matches!(
            pt.egfr[i],
            Some(Egfr::Exon19Del | Egfr::L858r | Egfr::OtherMutation)
        );
        let alk_rearranged = pt.alk[i] == Some(crate::schema::vocab::Alk::Rearranged);
        if egfr_mutated || alk_rearranged {
            return None;
        }
        match pt.kras[i] {
            Some(Kras::WildType) => Some(false),
            Some(Kras::NotTested) | None => None,
            Some(_) => Some(true),
        }
    }
    /// Months of overall survival from diagnosis and whether it ended in death.
    pub fn os(&self, i: usize) -> (f64, bool) {
        let t = &self.timelines[i];
        (timeline::months(t.end_from_diagnosis), t.dead)
    }
    /// Months of survival from the bone-metastasis diagnosis.
    pub fn os_from_bone(&self, i: usize) -> (f64, bool) {
        let t = &self.timelines[i];
        (timeline::months(t.end_from_bone), t.dead)
    }
    /// The patients with bone metastases.
    pub fn bone_patients(&self) -> Vec<usize> {
        (0..self.n()).filter(|&i| self.bone(i)).collect()
    }
}

/// Runs every analysis of the plan on a validated, classified cohort (`histories`: its events
/// and labs indexed by patient, as the classifiers had them). `min_cell` is the disclosure
/// threshold (0 disables it).
pub fn analyse(
    cohort: &Cohort,
    histories: &Histories,
    classified: &[PatientClassification],
    balance: &[TableBalance],
    settings: &StudySettings,
    min_cell: u64,
) -> RunSummary {
    let study = Study {
        cohort,
        classified,
        timelines: timeline::timelines(cohort, histories, classified, settings),
        settings,
    };
    let s = &study;
    // The families run side by side: each analysis is a pure function of its rows and sums in
    // a fixed order, so the results do not depend on the threads.
    let ((first, survival), (sre, calcaemia)) = rayon::join(
        || {
            rayon::join(
                || incidence::prevalence(s, balance),
                || survival::analyses(s),
            )
        },
        || rayon::join(|| sre::analyses(s), || incidence::calcaemia(s)),
    );
    let mut analyses = vec![first.a1, first.a2, first.a3];
    analyses.extend(survival.declared);
    analyses.extend(sre.declared);
    analyses.push(calcaemia.declared);
    let mut incidence_json = first.incidence;
    incidence_json.push(calcaemia.at_diagnosis);
    let mut cumulative = first.cumulative;
    cumulative.extend(sre.cumulative);
    cumulative.push(calcaemia.cumulative);
    let mut models = first.models;
    models.extend(survival.models);
    models.extend(sre.models);
    let mut rates = sre.rates;
    rates.push(calcaemia.rates);
    let mut summary = RunSummary {
        bonemet_version: env!("CARGO_PKG_VERSION"),
        min_cell,
        suppressed_counts: 0,
        disclosure: DisclosureJson::default(),
        analyses,
        settings: PlanSettingsJson {
            horizons_months: settings.horizons_months.clone(),
            sre_horizon_months: settings.sre_horizon_months,
            landmark_months: settings.landmark_months,
            synchronous_window_days: settings.synchronous_window_days,
            sre_merge_window_days: settings.sre_merge_window_days,
            hypercalcaemia_is_sre: settings.hypercalcaemia_is_sre,
            corrected_calcium_formula: format!("{:?}", settings.corrected_calcium_formula)
                .to_lowercase(),
            crisis_threshold_mmol_l: settings.crisis_threshold_mmol_l,
            ntx_window_days: timeline::NTX_WINDOW_DAYS,
            consistent_half_width_share: settings.consistent_half_width_share,
        },
        cohort: first.cohort,
        table_one: first.table_one,
        incidence: incidence_json,
        associations: first.associations,
        models,
        survival: survival.survival,
        cumulative_incidence: cumulative,
        rates,
        corrected_calcium: cohort::calcium_distribution(s),
        published: Vec::new(),
    };
    disclosure::disclose(&mut summary, min_cell);
    // The published figures are read from the disclosed results: what is hidden there is not
    // compared.
    summary.published = published::published_figures(s, &summary);
    summary
}
