//! C8 — skeletal-related events (SREs) per patient.
//!
//! SRE types (the review's definition): palliative radiotherapy to bone, pathological fracture,
//! orthopaedic surgery to bone, spinal cord compression, and — when the study says so —
//! hypercalcaemia of malignancy (default: counted separately, as in the zoledronic-acid trials'
//! primary analyses). Trials count events of one patient within a window as one SRE: an event
//! within `sre_merge_window_days` of the previous *counted* SRE is folded into it (0: every
//! event counts). The skeletal morbidity rate is SREs per patient-year over the SRE risk
//! period: from `bone_mets_date` when known, else from `diagnosis_date`, to
//! `last_contact_date` (years of 365.25 days).

use chrono::NaiveDate;

use super::not_assessable::{Assessed, MissingInput, NotAssessable};
use crate::schema::vocab::EventType;
use crate::study::StudySettings;

/// Days in a year, for rates per patient-year.
pub const DAYS_PER_YEAR: f64 = 365.25;

/// Whether an event of this type is an SRE under the study settings.
pub fn is_sre(event_type: EventType, settings: &StudySettings) -> bool {
    event_type != EventType::Hypercalcemia || settings.hypercalcaemia_is_sre
}

/// A patient's SREs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SreSummary {
    /// SREs counted (after merging).
    pub count: u32,
    /// Date and type of the first SRE.
    pub first: Option<(NaiveDate, EventType)>,
    /// Date of the second SRE.
    pub second_date: Option<NaiveDate>,
    /// Events folded into a previous SRE by the merge window.
    pub merged_events: u32,
    /// SREs per patient-year of the risk period.
    pub per_patient_year: Assessed<f64>,
}

impl SreSummary {
    /// Whether the patient had at least one SRE.
    pub fn any(&self) -> bool {
        self.count > 0
    }
}

/// A patient's counted SREs in date order: the events that are SREs under the study settings,
/// less those the merge window folds into the previous counted SRE. See [`counted_sres`].
#[derive(Debug, Clone)]
pub struct CountedSres<'a, I> {
    events: I,
    settings: &'a StudySettings,
    window: i64,
    last_counted: Option<NaiveDate>,
    /// Events folded into a previous SRE so far.
    pub merged: u32,
}

impl<I: Iterator<Item = (NaiveDate, EventType)>> Iterator for CountedSres<'_, I> {
    type Item = (NaiveDate, EventType);

    fn next(&mut self) -> Option<Self::Item> {
        for (date, event_type) in self.events.by_ref() {
            if !is_sre(event_type, self.settings) {
                continue;
            }
            if let Some(previous) = self.last_counted {
                if self.window > 0 && (date - previous).num_days() <= self.window {
                    self.merged += 1;
                    continue;
                }
            }
            self.last_counted = Some(date);
            return Some((date, event_type));
        }
        None
    }
}

/// The SREs counted among one patient's events, given in date order (ties in source order):
/// an event within `sre_merge_window_days` of the previous counted SRE is folded into it.
pub fn counted_sres<I: IntoIterator<Item = (NaiveDate, EventType)>>(
    events: I,
    settings: &StudySettings,
) -> CountedSres<'_, I::IntoIter> {
    CountedSres {
        events: events.into_iter(),
        settings,
        window: i64::from(settings.sre_merge_window_days),
        last_counted: None,
        merged: 0,
    }
}

/// C8 over one patient's events, given in date order (ties in source order).
pub fn summarise_sres(
    events: impl IntoIterator<Item = (NaiveDate, EventType)>,
    risk_start: NaiveDate,
    last_contact: NaiveDate,
    settings: &StudySettings,
) -> SreSummary {
    let mut count = 0u32;
    let mut first = None;
    let mut second_date = None;
    let mut counted = counted_sres(events, settings);
    for (date, event_type) in counted.by_ref() {
        count += 1;
        match count {
            1 => first = Some((date, event_type)),
            2 => second_date = Some(date),
            _ => {}
        }
    }
    let merged_events = counted.merged;
    let days = (last_contact - risk_start).num_days();
    let per_patient_year = if days > 0 {
        Ok(f64::from(count) / (days as f64 / DAYS_PER_YEAR))
    } else {
        Err(NotAssessable::because(MissingInput::NoFollowUp))
    };
    SreSummary {
        count,
        first,
        second_date,
        merged_events,
        per_patient_year,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use EventType::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn every_event_counts_by_default_and_hypercalcaemia_is_apart() {
        let s = StudySettings::default();
        let events = [
            (d("2021-02-01"), RadiotherapyBone),
            (d("2021-02-01"), PathologicFracture),
            (d("2021-03-01"), Hypercalcemia),
            (d("2021-06-01"), BoneSurgery),
        ];
        let summary = summarise_sres(events, d("2021-01-01"), d("2022-01-01"), &s);
        assert_eq!(summary.count, 3);
        assert_eq!(summary.first, Some((d("2021-02-01"), RadiotherapyBone)));
        assert_eq!(summary.second_date, Some(d("2021-02-01")));
        // 3 SREs over 365 days.
        assert!((summary.per_patient_year.unwrap() - 3.0 / (365.0 / 365.25)).abs() < 1e-12);
        let with_hcm = StudySettings {
            hypercalcaemia_is_sre: true,
            ..StudySettings::default()
        };
        assert_eq!(
            summarise_sres(events, d("2021-01-01"), d("2022-01-01"), &with_hcm).count,
            4
        );
    }

    #[test]
    fn the_merge_window_folds_events_into_the_previous_counted_sre() {
        let s = StudySettings {
            sre_merge_window_days: 21,
            ..StudySettings::default()
        };
        let events = [
            (d("2021-02-01"), SpinalCordCompression),
            (d("2021-02-22"), RadiotherapyBone), // day 21: merged
            (d("2021-03-10"), RadiotherapyBone), // 37 days after the counted SRE: counted
            (d("2021-03-31"), BoneSurgery),      // day 21 after it: merged
            (d("2021-04-01"), BoneSurgery),      // day 22: counted
        ];
        let summary = summarise_sres(events, d("2021-01-01"), d("2022-01-01"), &s);
        assert_eq!(summary.count, 3);
        assert_eq!(summary.merged_events, 2);
        assert_eq!(
            summary.first,
            Some((d("2021-02-01"), SpinalCordCompression))
        );
        assert_eq!(summary.second_date, Some(d("2021-03-10")));
    }

    #[test]
    fn no_events_and_no_follow_up() {
        let s = StudySettings::default();
        let none = summarise_sres([], d("2021-01-01"), d("2021-07-02"), &s);
        assert!(!none.any());
        assert_eq!(none.per_patient_year, Ok(0.0));
        let zero = summarise_sres([], d("2021-01-01"), d("2021-01-01"), &s);
        assert_eq!(zero.per_patient_year.unwrap_err().codes(), "no_follow_up");
    }
}
