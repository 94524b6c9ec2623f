//! Seeded random cohorts built directly as typed tables, for property tests: every optional
//! input is sometimes missing, values straddle the classifiers' thresholds, and events and labs
//! are listed in a random order.

use bonemet::schema::vocab::*;
use bonemet::schema::{Cohort, EventRecord, LabRecord, PatientRecord};
use chrono::{Duration, NaiveDate, NaiveDateTime};

/// The library's seeded generator (SplitMix64), with the draws these tests need.
pub struct Rng(bonemet::synth::model::Rng);

impl Rng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Self(bonemet::synth::model::Rng::for_patient(seed, 0))
    }
    pub fn next(&mut self) -> u64 {
        self.0.next_u64()
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
    /// A value drawn by `draw`, missing with probability `p_missing`.
    fn maybe<T>(&mut self, p_missing: f64, draw: impl FnOnce(&mut Self) -> T) -> Option<T> {
        let value = draw(self);
        (!self.chance(p_missing)).then_some(value)
    }
    fn sites<T: Vocabulary>(&mut self, max: u64) -> SiteSet<T> {
        (0..self.below(max + 1))
            .map(|_| self.pick(T::ALL))
            .collect()
    }
}

/// A cohort of `n` patients with events and labs.
pub fn random_cohort(n: usize, seed: u64) -> Cohort {
    let mut rng = Rng::new(seed);
    let mut cohort = Cohort::default();
    let epoch = NaiveDate::from_ymd_opt(2018, 1, 1).unwrap();
    let mut events = Vec::new();
    let mut labs = Vec::new();
    for p in 0..n {
        let diagnosis = epoch + Duration::days(rng.below(1500) as i64);
        let follow_up = rng.below(1200) as i64;
        let last = diagnosis + Duration::days(follow_up);
        let dead = rng.chance(0.6);
        let bone = rng.chance(0.4);
        let bone_date = diagnosis + Duration::days(rng.below(follow_up as u64 + 1) as i64 / 3 - 5);
        let bone_date = bone_date.min(last);
        let time = |rng: &mut Rng, day: NaiveDate| -> NaiveDateTime {
            day.and_hms_opt(7 + rng.below(4) as u32, rng.pick(&[0, 0, 30, 59]), 0)
                .unwrap()
        };
        let ctx_time = time(&mut rng, diagnosis);
        cohort.patients.push(PatientRecord {
            patient_id: format!("R{seed}-{p:06}"),
            sex: rng.pick(Sex::ALL),
            age_at_diagnosis: 18 + rng.below(90) as u8,
            diagnosis_date: diagnosis,
            histology: rng.pick(Histology::ALL),
            stage: rng.maybe(0.2, |rng| rng.pick(Stage::ALL)),
            tumor_size_mm: rng.maybe(0.2, |rng| rng.pick(&[5.0, 19.9, 20.0, 20.1, 45.0])),
            n_stage: rng.maybe(0.2, |rng| rng.pick(NStage::ALL)),
            egfr: rng.maybe(0.15, |rng| rng.pick(Egfr::ALL)),
            alk: rng.maybe(0.15, |rng| rng.pick(Alk::ALL)),
            kras: rng.maybe(0.15, |rng| rng.pick(Kras::ALL)),
            ecog: rng.maybe(0.3, |rng| rng.below(5) as u8),
            bone_mets_date: bone.then_some(bone_date),
            bone_sites: if bone {
                rng.maybe(0.2, |rng| rng.sites(4))
            } else {
                None
            },
            bone_lesion_count: if bone {
                rng.maybe(0.2, |rng| 1 + rng.below(8) as u32)
            } else {
                None
            },
            visceral_sites: rng.maybe(0.3, |rng| rng.sites(3)),
            visceral_mets_date: None,
            calcium: rng.maybe(0.2, |rng| {
                rng.pick(&[2.0, 2.2, 2.45, 2.6, 3.0, 3.47, 3.5, 3.6])
            }),
            calcium_unit: CalciumUnit::MmolL,
            albumin: rng.maybe(0.2, |rng| rng.pick(&[25.0, 36.0, 38.8, 40.0, 44.0])),
            albumin_unit: AlbuminUnit::GL,
            ntx: rng.maybe(0.4, |rng| rng.pick(&[20.0, 49.9, 50.0, 99.9, 100.0, 180.0])),
            ctx: rng.maybe(0.4, |rng| 100.0 + rng.below(900) as f64),
            ctx_sampled_at: rng.maybe(0.2, |_| ctx_time),
            ctx_fasting: rng.maybe(0.2, |rng| rng.chance(0.7)),
            bone_agent: rng.maybe(0.2, |rng| rng.pick(BoneAgent::ALL)),
            bone_agent_start: None,
            first_line: None,
            smi_cm2_m2: None,
            last_contact_date: last,
            vital_status: if dead {
                VitalStatus::Dead
            } else {
                VitalStatus::Alive
            },
            death_date: dead.then_some(last),
            source_line: p as u64 + 2,
            extra: Vec::new(),
        });
        for _ in 0..rng.below(if bone { 6 } else { 2 }) {
            let day = diagnosis + Duration::days(rng.below(follow_up as u64 + 1) as i64);
            events.push(EventRecord {
                patient: p as u32,
                event_date: day,
                event_type: rng.pick(EventType::ALL),
                site: None,
                source_line: 0,
                extra: Vec::new(),
            });
        }
        for _ in 0..rng.below(4) {
            let day = diagnosis + Duration::days(rng.below(follow_up as u64 + 1) as i64);
            let at = time(&mut rng, day);
            let calcium = rng.pick(&[2.3, 2.9, 3.6, 3.9]);
            labs.push(lab(p, at, Analyte::Calcium, calcium, LabUnit::MmolL, None));
            if rng.chance(0.8) {
                labs.push(lab(
                    p,
                    at,
                    Analyte::Albumin,
                    rng.pick(&[3.0, 3.8]),
                    LabUnit::GDl,
                    None,
                ));
            }
            if rng.chance(0.5) {
                let fasting = rng.maybe(0.2, |rng| rng.chance(0.7));
                labs.push(lab(p, at, Analyte::Ctx, 300.0, LabUnit::NgL, fasting));
            }
            if rng.chance(0.3) {
                events.push(EventRecord {
                    patient: p as u32,
                    event_date: day,
                    event_type: EventType::Hypercalcemia,
                    site: None,
                    source_line: 0,
                    extra: Vec::new(),
                });
            }
        }
    }
    // Registries list events and labs in any order.
    shuffle(&mut rng, &mut events);
    shuffle(&mut rng, &mut labs);
    for (i, mut e) in events.into_iter().enumerate() {
        e.source_line = i as u64 + 2;
        cohort.events.push(e);
    }
    for (i, mut l) in labs.into_iter().enumerate() {
        l.source_line = i as u64 + 2;
        cohort.labs.push(l);
    }
    cohort
}

fn lab(
    p: usize,
    at: NaiveDateTime,
    analyte: Analyte,
    value: f64,
    unit: LabUnit,
    fasting: Option<bool>,
) -> LabRecord {
    LabRecord {
        patient: p as u32,
        sampled_at: at,
        analyte,
        value,
        unit,
        fasting,
        source_line: 0,
        extra: Vec::new(),
    }
}

fn shuffle<T>(rng: &mut Rng, items: &mut [T]) {
    for i in (1..items.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        items.swap(i, j);
    }
}

/// Patients `range` of a cohort with their events and labs (patient indices renumbered).
pub fn shard(cohort: &Cohort, range: std::ops::Range<usize>) -> Cohort {
    let mut out = Cohort::default();
    for p in range.clone() {
        out.patients.push(cohort.patients.row(p));
    }
    let start = range.start as u32;
    for i in 0..cohort.events.len() {
        if range.contains(&(cohort.events.patient[i] as usize)) {
            let mut e = cohort.events.row(i);
            e.patient -= start;
            out.events.push(e);
        }
    }
    for i in 0..cohort.labs.len() {
        if range.contains(&(cohort.labs.patient[i] as usize)) {
            let mut l = cohort.labs.row(i);
            l.patient -= start;
            out.labs.push(l);
        }
    }
    out
}
