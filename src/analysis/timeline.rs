//! Each patient's follow-up as day numbers: the inputs of every time-to-event analysis of the
//! plan (docs/analysis-plan.md, "Time, day by day"), derived once per patient.
//!
//! Kaplan–Meier and cumulative incidences take months from the origin, an event dated before
//! it at 0. Cox models and person-time take whole days, day k being the interval (k, k + 1]:
//! an event on day k happens at time k + 1, and the bone agent started on day a begins at
//! a + 1, so an SRE on the day the agent starts happened untreated.

use chrono::NaiveDate;

use crate::classify::sre::counted_sres;
use crate::classify::{BoneMetsTiming, Histories, PatientClassification};
use crate::schema::vocab::{BoneAgent, BoneSite, EventType, Stage, VitalStatus};
use crate::schema::Cohort;
use crate::study::StudySettings;

/// Days per month (365.25 / 12).
pub const DAYS_PER_MONTH: f64 = 30.4375;

/// Days per year, for person-time.
pub const DAYS_PER_YEAR: f64 = 365.25;

/// Months from a day number (negative days, events before the origin, count at 0).
pub fn months(day: i64) -> f64 {
    day.max(0) as f64 / DAYS_PER_MONTH
}

/// The time of an event or censoring on day `day` in the whole-day convention of the Cox
/// models: day k is the interval (k, k + 1]; a day before the origin is day 0.
pub fn cox_time(day: i64) -> f64 {
    (day.max(0) + 1) as f64
}

/// The bone-targeted agent as the plan can use it: known untreated, started on a day (from the
/// bone-metastasis diagnosis; negative when before it), or unusable with its reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentExposure {
    /// `bone_agent = none`: untreated over the whole follow-up.
    Never,
    /// An agent started on this day after the bone-metastasis diagnosis (negative: before).
    StartsOn(i64),
    /// An agent is recorded without a start date: its exposure over time is unknown.
    NoStartDate,
    /// `bone_agent` is not recorded.
    NotRecorded,
}

impl AgentExposure {
    /// Why a patient with this exposure is left out of a time-varying analysis, if so.
    pub fn unusable(self) -> Option<&'static str> {
        match self {
            AgentExposure::NotRecorded => Some("bone-targeted agent not recorded"),
            AgentExposure::NoStartDate => Some("bone-targeted agent without a start date"),
            _ => None,
        }
    }

    /// The day up to which the patient is known untreated, for the analyses censored at the
    /// agent's start (A8, A11): `None` for the whole follow-up, or the reason the patient has
    /// no known untreated time.
    pub fn untreated_until(self) -> Result<Option<i64>, &'static str> {
        match self {
            AgentExposure::Never => Ok(None),
            AgentExposure::StartsOn(a) if a > 0 => Ok(Some(a)),
            AgentExposure::StartsOn(_) => {
                Err("bone-targeted agent started on or before the bone-metastasis diagnosis")
            }
            other => Err(other.unusable().unwrap_or("")),
        }
    }

    /// Whether the agent had started by day `day` (inclusive).
    pub fn started_by(self, day: i64) -> bool {
        matches!(self, AgentExposure::StartsOn(a) if a <= day)
    }

    /// The Cox time at which the patient becomes treated (`None`: never), in the whole-day
    /// convention: from 0 when the agent started before the origin, a + 1 when on day a ≥ 0.
    pub fn treated_from(self) -> Option<f64> {
        match self {
            AgentExposure::StartsOn(a) if a < 0 => Some(0.0),
            AgentExposure::StartsOn(a) => Some((a + 1) as f64),
            _ => None,
        }
    }
}

/// The SRE kinds whose first occurrence A8 and F9 follow: each type, and fractures split
/// into vertebral and non-vertebral.
pub const SRE_KINDS: [SreKind; 6] = [
    SreKind::Type(EventType::PathologicFracture),
    SreKind::VertebralFracture,
    SreKind::NonVertebralFracture,
    SreKind::Type(EventType::RadiotherapyBone),
    SreKind::Type(EventType::BoneSurgery),
    SreKind::Type(EventType::SpinalCordCompression),
];

/// A kind of SRE followed on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SreKind {
    /// Any event of this type.
    Type(EventType),
    /// A pathological fracture at a spinal site (cervical, thoracic, lumbar spine, sacrum).
    VertebralFracture,
    /// A pathological fracture elsewhere, or with no site recorded.
    NonVertebralFracture,
}

impl SreKind {
    /// The kind's name in the report and in keys.
    pub fn name(self) -> &'static str {
        match self {
            SreKind::Type(EventType::PathologicFracture) => "pathologic fracture",
            SreKind::Type(EventType::RadiotherapyBone) => "radiotherapy to bone",
            SreKind::Type(EventType::BoneSurgery) => "surgery to bone",
            SreKind::Type(EventType::SpinalCordCompression) => "spinal cord compression",
            SreKind::Type(EventType::Hypercalcemia) => "hypercalcaemia",
            SreKind::VertebralFracture => "vertebral fracture",
            SreKind::NonVertebralFracture => "non-vertebral fracture",
        }
    }

    fn matches(self, event_type: EventType, site: Option<BoneSite>) -> bool {
        let spinal = matches!(
            site,
            Some(
                BoneSite::SpineCervical
                    | BoneSite::SpineThoracic
                    | BoneSite::SpineLumbar
                    | BoneSite::Sacrum
            )
        );
        match self {
            SreKind::Type(t) => t == event_type,
            SreKind::VertebralFracture => event_type == EventType::PathologicFracture && spinal,
            SreKind::NonVertebralFracture => event_type == EventType::PathologicFracture && !spinal,
        }
    }
}

/// One patient's follow-up as day numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct Timeline {
    /// Whether follow-up ends in death.
    pub dead: bool,
    /// Last day of follow-up (death, else last contact) from the lung-cancer diagnosis.
    pub end_from_diagnosis: i64,
    /// Bone-metastasis diagnosis from the lung-cancer diagnosis (negative when dated before).
    pub bone_from_diagnosis: Option<i64>,
    /// Synchronous bone disease (C5), or a bone diagnosis dated before the lung cancer's.
    pub bone_at_diagnosis: bool,
    /// The following are from the bone-metastasis diagnosis (empty without bone disease).
    /// Last day of follow-up.
    pub end_from_bone: i64,
    /// Every counted SRE's day (after the merge window), in date order; negative days are
    /// revealing SREs.
    pub sre_days: Vec<i64>,
    /// The day of the first occurrence of each of [`SRE_KINDS`] (days fit in 32 bits: the
    /// struct is one per patient).
    pub first_of_kind: [Option<i32>; 6],
    /// The bone agent.
    pub agent: AgentExposure,
    /// The NTX sample at the bone-metastasis diagnosis (nearest within ±30 days): its value and
    /// its day from the bone diagnosis.
    pub ntx_at_bone: Option<NtxSample>,
    /// Days from the diagnosis of each laboratory hypercalcaemic crisis (distinct days).
    pub crisis_days: Vec<i64>,
}

impl Timeline {
    /// The first SRE's day from the bone diagnosis.
    pub fn first_sre(&self) -> Option<i64> {
        self.sre_days.first().copied()
    }

    /// The second SRE's day: the first counted SRE on a later day than the first.
    pub fn second_sre(&self) -> Option<i64> {
        let first = self.first_sre()?;
        self.sre_days.iter().copied().find(|&d| d > first)
    }
}

/// The NTX sample that dates the marker at the bone diagnosis (A11).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NtxSample {
    /// nmol BCE/mmol creatinine.
    pub value: f64,
    /// Day of the sample from the bone-metastasis diagnosis (negative: before it).
    pub day: i64,
}

impl NtxSample {
    /// The day from which the NTX class is known: the later of the bone diagnosis (day 0) and
    /// the sample. Analyses by NTX class count time from it, so that no patient is grouped by a
    /// value measured after their time origin.
    pub fn origin(self) -> i64 {
        self.day.max(0)
    }
}

/// NTX samples within this many days of the bone-metastasis diagnosis date it (A11).
pub const NTX_WINDOW_DAYS: i64 = 30;

/// Every patient's timeline, in patient order.
pub fn timelines(
    cohort: &Cohort,
    histories: &Histories,
    classified: &[PatientClassification],
    settings: &StudySettings,
) -> Vec<Timeline> {
    use rayon::prelude::*;
    (0..classified.len())
        .into_par_iter()
        .map(|i| timeline(cohort, histories, &classified[i], i, settings))
        .collect()
}

fn timeline(
    cohort: &Cohort,
    histories: &Histories,
    classified: &PatientClassification,
    i: usize,
    settings: &StudySettings,
) -> Timeline {
    let pt = &cohort.patients;
    let diagnosis = pt.diagnosis_date[i];
    let dead = pt.vital_status[i] == VitalStatus::Dead;
    let end = if dead {
        pt.death_date[i].unwrap_or(pt.last_contact_date[i])
    } else {
        pt.last_contact_date[i]
    };
    let days = |from: NaiveDate, to: NaiveDate| (to - from).num_days();
    let bone = pt.bone_mets_date[i];
    let events = &cohort.events;
    let (mut sre_days, mut first_of_kind) = (Vec::new(), [None; 6]);
    let (mut agent, mut ntx_at_bone) = (AgentExposure::NotRecorded, None);
    if let Some(bone) = bone {
        let rows = histories.events(i);
        let counted: Vec<(NaiveDate, EventType)> = counted_sres(
            rows.iter().map(|&e| {
                let e = e as usize;
                (events.event_date[e], events.event_type[e])
            }),
            settings,
        )
        .collect();
        sre_days = counted.iter().map(|&(date, _)| days(bone, date)).collect();
        // A kind's first occurrence among the counted SREs (the merge window comes first);
        // the site, which the merge rule does not read, from the event's row.
        for &e in rows {
            let e = e as usize;
            let (date, kind) = (events.event_date[e], events.event_type[e]);
            if !counted.contains(&(date, kind)) {
                continue;
            }
            for (k, sre_kind) in SRE_KINDS.iter().enumerate() {
                if first_of_kind[k].is_none() && sre_kind.matches(kind, events.site[e]) {
                    first_of_kind[k] = i32::try_from(days(bone, date)).ok();
                }
            }
        }
        agent = match (pt.bone_agent[i], pt.bone_agent_start[i]) {
            (None, _) => AgentExposure::NotRecorded,
            (Some(BoneAgent::None), _) => AgentExposure::Never,
            (Some(_), None) => AgentExposure::NoStartDate,
            (Some(_), Some(start)) => AgentExposure::StartsOn(days(bone, start)),
        };
        ntx_at_bone = ntx_near(cohort, histories, i, bone);
    }
    let crisis_days = crisis_days(cohort, histories, classified, i, settings)
        .into_iter()
        .map(|d| days(diagnosis, d))
        .collect();
    Timeline {
        dead,
        end_from_diagnosis: days(diagnosis, end),
        bone_from_diagnosis: bone.map(|b| days(diagnosis, b)),
        bone_at_diagnosis: classified.baseline.bone_mets_timing == BoneMetsTiming::Synchronous
            || bone.is_some_and(|b| b < diagnosis),
        end_from_bone: bone.map_or(0, |b| days(b, end)),
        sre_days,
        first_of_kind,
        agent,
        ntx_at_bone,
        crisis_days,
    }
}

/// The NTX sample nearest to the bone-metastasis diagnosis within ±[`NTX_WINDOW_DAYS`]: a lab
/// sample, or the baseline value (dated at the lung-cancer diagnosis); the earlier on a tie.
fn ntx_near(
    cohort: &Cohort,
    histories: &Histories,
    i: usize,
    bone: NaiveDate,
) -> Option<NtxSample> {
    use crate::schema::vocab::Analyte;
    let labs = &cohort.labs;
    let baseline = cohort.patients.ntx[i].map(|v| (cohort.patients.diagnosis_date[i], v));
    let samples = histories.labs(i).iter().filter_map(|&r| {
        let r = r as usize;
        (labs.analyte[r] == Analyte::Ntx).then(|| (labs.sampled_at[r].date(), labs.value[r]))
    });
    baseline
        .into_iter()
        .chain(samples)
        .filter(|(date, _)| (*date - bone).num_days().abs() <= NTX_WINDOW_DAYS)
        .min_by_key(|(date, _)| ((*date - bone).num_days().abs(), *date))
        .map(|(date, value)| NtxSample {
            value,
            day: (date - bone).num_days(),
        })
}

/// The distinct days of a laboratory hypercalcaemic crisis (C2 over follow-up).
fn crisis_days(
    cohort: &Cohort,
    histories: &Histories,
    classified: &PatientClassification,
    i: usize,
    settings: &StudySettings,
) -> Vec<NaiveDate> {
    if classified.calcium.first_crisis_date.is_none() {
        return Vec::new();
    }
    crate::classify::crisis_dates(
        cohort,
        histories,
        i,
        classified.baseline.corrected_calcium,
        settings,
    )
}

/// Person-time and events split at the start of the bone agent, in the whole-day convention:
/// follow-up from day 0 to day `end` is `end + 1` days, untreated up to the agent's day a
/// (a + 1 days when a ≥ 0, none when the agent started before the origin); an event on day k
/// is untreated when the agent never started or k ≤ a. `event_days` before day 0 are not
/// counted. Returns ([untreated, treated] days, [untreated, treated] events).
pub fn split_person_time(
    end: i64,
    event_days: &[i64],
    agent: AgentExposure,
) -> ([i64; 2], [u64; 2]) {
    let total = end.max(0) + 1;
    let untreated_days = match agent {
        AgentExposure::StartsOn(a) if a < 0 => 0,
        AgentExposure::StartsOn(a) => (a + 1).min(total),
        _ => total,
    };
    let mut events = [0u64; 2];
    for &k in event_days.iter().filter(|&&k| k >= 0) {
        let untreated = match agent {
            AgentExposure::StartsOn(a) => k <= a,
            _ => true,
        };
        events[usize::from(!untreated)] += 1;
    }
    ([untreated_days, total - untreated_days], events)
}

/// Advanced disease: stage III or IV at diagnosis.
pub fn advanced(stage: Option<Stage>) -> bool {
    matches!(
        stage,
        Some(Stage::Iii | Stage::Iv | Stage::Iva | Stage::Ivb)
    )
}

/// Stage IV (M1) at diagnosis.
pub fn stage_iv(stage: Option<Stage>) -> bool {
    matches!(stage, Some(Stage::Iv | Stage::Iva | Stage::Ivb))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_agent_splits_follow_up_the_day_after_it_starts() {
        assert_eq!(AgentExposure::StartsOn(10).treated_from(), Some(11.0));
        assert_eq!(AgentExposure::StartsOn(0).treated_from(), Some(1.0));
        assert_eq!(AgentExposure::StartsOn(-3).treated_from(), Some(0.0));
        assert_eq!(AgentExposure::Never.treated_from(), None);
        assert_eq!(AgentExposure::StartsOn(10).untreated_until(), Ok(Some(10)));
        assert!(AgentExposure::StartsOn(0).untreated_until().is_err());
        assert!(AgentExposure::NoStartDate.untreated_until().is_err());
        assert_eq!(AgentExposure::Never.untreated_until(), Ok(None));
        assert_eq!(cox_time(-4), 1.0);
        assert_eq!(cox_time(0), 1.0);
        assert_eq!(cox_time(9), 10.0);
        assert!((months(61) - 61.0 / 30.4375).abs() < 1e-15);
        assert_eq!(months(-2), 0.0);
    }

    #[test]
    fn person_time_splits_the_day_after_the_agent_starts() {
        // Agent on day 10, follow-up to day 99: 11 untreated days, 89 treated; the SRE on day
        // 10 is untreated, the one on day 11 treated, the revealing one is not counted.
        let (days, events) = split_person_time(99, &[-3, 10, 11, 50], AgentExposure::StartsOn(10));
        assert_eq!(days, [11, 89]);
        assert_eq!(events, [1, 2]);
        let (days, events) = split_person_time(99, &[0], AgentExposure::StartsOn(-5));
        assert_eq!((days, events), ([0, 100], [0, 1]));
        let (days, events) = split_person_time(0, &[0], AgentExposure::Never);
        assert_eq!((days, events), ([1, 0], [1, 0]));
        // An agent started after follow-up ended: all untreated.
        let (days, _) = split_person_time(20, &[], AgentExposure::StartsOn(40));
        assert_eq!(days, [21, 0]);
    }
}
