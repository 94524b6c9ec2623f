//! The generative model: one patient at a time, from a random stream seeded by (seed, patient
//! index) alone, so the cohort is the same whatever the chunking or thread count. Rows are
//! typed [`Cell`]s; the writer formats them.

use chrono::{Duration, NaiveDate, NaiveDateTime};

use super::calibrate;
use super::params::{Params, PARAMS};
use crate::classify::m_category::{m_category, SitesAtDiagnosis};
use crate::classify::MCategory;
use crate::schema::vocab::{BoneSite, SiteSet, VisceralSite, Vocabulary};

/// Days per month (docs/analysis-plan.md: months are days / 30.4375).
pub const DAYS_PER_MONTH: f64 = 30.4375;

/// SplitMix64 (Steele et al. 2014): small, fast, well mixed; one stream per patient.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// The stream of patient `index` under `seed`.
    pub fn for_patient(seed: u64, index: u64) -> Self {
        let mut rng = Rng(seed ^ 0x5EED_0000_0000_0000);
        let mixed = rng.next_u64() ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        Rng(mixed)
    }
    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform on [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    /// Uniform integer in [0, n).
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.unit()) * n as f64) as u64 % n.max(1)
    }
    /// Index drawn from weights.
    pub fn weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut u = self.unit() * total;
        for (i, w) in weights.iter().enumerate() {
            if u < *w {
                return i;
            }
            u -= w;
        }
        weights.len() - 1
    }
    /// Exponential with the given rate.
    pub fn exponential(&mut self, rate: f64) -> f64 {
        -(1.0 - self.unit()).ln() / rate
    }
    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.unit();
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

/// A typed cell of a generated row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Empty.
    Null,
    /// Text.
    Text(String),
    /// A synthetic patient id, written `S` and eight digits (formatted only when written, so
    /// that the id repeated on every event and lab row costs no allocation).
    PatientId(u64),
    /// A vocabulary value.
    Label(&'static str),
    /// A whole number.
    Int(i64),
    /// A decimal with a fixed number of decimals.
    Num(f64, u8),
    /// A date.
    Date(NaiveDate),
    /// A local date-time (minutes).
    DateTime(NaiveDateTime),
    /// A boolean.
    Bool(bool),
}

/// Subgroups with their own bone-at-diagnosis target and survival.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Group {
    Egfr,
    Alk,
    KrasG12a,
    KrasOther,
    TripleNegative,
    IncompletelyTested,
    Squamous,
    SmallCell,
}

const GROUPS: [Group; 8] = [
    Group::Egfr,
    Group::Alk,
    Group::KrasG12a,
    Group::KrasOther,
    Group::TripleNegative,
    Group::IncompletelyTested,
    Group::Squamous,
    Group::SmallCell,
];

/// The model with its calibrated constants.
#[derive(Debug, Clone)]
pub struct Model {
    p: Params,
    intercept: [f64; 8],
    /// Base death rate per month, stage IV, by group and bone status at diagnosis (without:
    /// the rate before any metachronous bone metastases).
    death_rate_iv: [[f64; 2]; 8],
    /// Base death rate per month after metachronous bone metastases, by group.
    death_rate_after_bone: [f64; 8],
    /// Death rate per month, stages I–III (no metastasis at diagnosis), before bone metastases.
    death_rate_early: [f64; 3],
    /// The mean SRE modifier (NTX × weight-bearing) over bone-metastatic patients, so that
    /// the calibrated hazards are those of the average patient.
    sre_modifier_mean: f64,
}

impl Model {
    /// Calibrates the model.
    pub fn new(p: Params) -> Self {
        let t = p.bone_at_diagnosis;
        let targets = [
            t.egfr,
            t.alk,
            t.kras_g12a,
            t.kras_other,
            t.triple_negative,
            t.incompletely_tested,
            t.squamous,
            t.small_cell,
        ];
        let intercept = targets.map(|target| calibrate::bone_intercept(&p, target));
        let m = p.median_os_stage_iv;
        let hr = p.visceral_hazard_ratio;
        let g12a_share = p.kras_types[0];
        let mut death_rate_iv = [[0.0; 2]; 8];
        for (i, group) in GROUPS.iter().enumerate() {
            let (_, with) = medians(&m, *group);
            // With bone: the median is that of the KRAS-mutant group as a whole for the two
            // KRAS groups (F6 is stated for KRAS-mutant patients), so mix their visceral shares.
            let visceral = match group {
                Group::KrasG12a | Group::KrasOther => {
                    let share = |g: usize, w: f64| {
                        let pb = calibrate::covariate_cells(&p)
                            .iter()
                            .map(|(x, cw)| {
                                cw * calibrate::expit(
                                    intercept[g] + calibrate::covariate_logit(&p, *x),
                                )
                            })
                            .sum::<f64>();
                        (
                            w * pb * calibrate::visceral_given_bone(&p, intercept[g]),
                            w * pb,
                        )
                    };
                    let (a, b) = share(2, g12a_share);
                    let (c, d) = share(3, 1.0 - g12a_share);
                    (a + c) / (b + d)
                }
                _ => calibrate::visceral_given_bone(&p, intercept[i]),
            };
            death_rate_iv[i][1] = calibrate::death_rate_for_median(with, visceral, hr);
        }
        let mut death_rate_after_bone = [0.0; 8];
        let delay = p.shapes.metachronous_after_days as f64 / DAYS_PER_MONTH;
        for (i, group) in GROUPS.iter().enumerate() {
            let factor = match group {
                Group::KrasG12a | Group::KrasOther => p.post_bone_hazard_ratio_kras,
                _ => 1.0,
            };
            death_rate_after_bone[i] = death_rate_iv[i][1] * factor;
            // Without bone at diagnosis every stage IV patient has a visceral site: the rate
            // before bone metastases gives the whole course the median without bone disease.
            let (without, _) = medians(&m, *group);
            death_rate_iv[i][0] = calibrate::death_rate_before_bone(
                without,
                p.metachronous_rate_by_stage[3],
                death_rate_after_bone[i] * hr,
                delay,
            ) / hr;
        }
        let death_rate_early = p.median_os_early.map(|months| 2f64.ln() / months);
        let h = p.ntx_high_share;
        let w = p.shapes.weight_bearing;
        let sre_modifier_mean =
            (1.0 - h + h * p.sre_hr_ntx_high) * (1.0 - w + w * p.sre_hr_weight_bearing);
        Self {
            p,
            intercept,
            death_rate_iv,
            death_rate_after_bone,
            death_rate_early,
            sre_modifier_mean,
        }
    }

    /// The model's parameters.
    pub fn params(&self) -> &Params {
        &self.p
    }
}

/// A subgroup's stage IV median OS targets, months (without, with bone at diagnosis).
fn medians(m: &super::params::MedianTargets, group: Group) -> (f64, f64) {
    match group {
        Group::Egfr => m.egfr,
        Group::Alk => m.alk,
        Group::KrasG12a | Group::KrasOther => m.kras,
        Group::TripleNegative => m.triple_negative,
        Group::IncompletelyTested => m.incompletely_tested,
        Group::Squamous => m.squamous,
        Group::SmallCell => m.small_cell,
    }
}

impl Default for Model {
    fn default() -> Self {
        Self::new(PARAMS)
    }
}

const WEIGHT_BEARING: [BoneSite; 7] = [
    BoneSite::SpineThoracic,
    BoneSite::SpineLumbar,
    BoneSite::Pelvis,
    BoneSite::Femur,
    BoneSite::SpineCervical,
    BoneSite::Sacrum,
    BoneSite::Tibia,
];
const OTHER_BONES: [BoneSite; 6] = [
    BoneSite::Ribs,
    BoneSite::Humerus,
    BoneSite::Skull,
    BoneSite::Sternum,
    BoneSite::Scapula,
    BoneSite::Other,
];
const EXTRATHORACIC: [VisceralSite; 5] = [
    VisceralSite::Liver,
    VisceralSite::Brain,
    VisceralSite::Adrenal,
    VisceralSite::DistantNodes,
    VisceralSite::Other,
];
const INTRATHORACIC: [VisceralSite; 3] = [
    VisceralSite::Pleura,
    VisceralSite::ContralateralLung,
    VisceralSite::Pericardium,
];

/// One generated patient with its events and labs.
#[derive(Debug, Clone)]
pub struct Generated {
    /// The patients row, in [`PATIENT_COLUMNS`] order.
    pub patient: Vec<Cell>,
    /// Events rows, in [`EVENT_COLUMNS`] order.
    pub events: Vec<Vec<Cell>>,
    /// Labs rows, in [`LAB_COLUMNS`] order.
    pub labs: Vec<Vec<Cell>>,
}

/// Columns of the generated patients table (the input contract's).
pub const PATIENT_COLUMNS: [&str; 32] = [
    "patient_id",
    "sex",
    "age_at_diagnosis",
    "diagnosis_date",
    "histology",
    "stage",
    "tumor_size_mm",
    "n_stage",
    "egfr",
    "alk",
    "kras",
    "ecog",
    "bone_mets_date",
    "bone_sites",
    "bone_lesion_count",
    "visceral_sites",
    "visceral_mets_date",
    "calcium",
    "calcium_unit",
    "albumin",
    "albumin_unit",
    "ntx",
    "ctx",
    "ctx_sampled_at",
    "ctx_fasting",
    "bone_agent",
    "bone_agent_start",
    "first_line",
    "smi_cm2_m2",
    "last_contact_date",
    "vital_status",
    "death_date",
];
/// Columns of the generated events table.
pub const EVENT_COLUMNS: [&str; 4] = ["patient_id", "event_date", "event_type", "site"];
/// Columns of the generated labs table.
pub const LAB_COLUMNS: [&str; 6] = [
    "patient_id",
    "sampled_at",
    "analyte",
    "value",
    "unit",
    "fasting",
];

fn opt<T>(value: Option<T>, cell: impl FnOnce(T) -> Cell) -> Cell {
    value.map_or(Cell::Null, cell)
}

fn day_within(rng: &mut Rng, from: NaiveDate, to: NaiveDate) -> NaiveDate {
    let span = (to - from).num_days().max(0) as u64;
    from + Duration::days(rng.below(span + 1) as i64)
}

fn at_time(day: NaiveDate, hour: u32, minute: u32) -> NaiveDateTime {
    day.and_hms_opt(hour, minute, 0).unwrap_or_default()
}

fn round_to(value: f64, decimals: u8) -> f64 {
    let scale = 10f64.powi(i32::from(decimals));
    (value * scale).round() / scale
}

/// What the bone course of one patient depends on.
struct BoneCourse {
    id: u64,
    diagnosis: NaiveDate,
    bone_day: NaiveDate,
    last_contact: NaiveDate,
    metachronous: bool,
    ntx_high: bool,
    weight_bearing: bool,
    sites: SiteSet<BoneSite>,
}

const SRE_TYPES: [&str; 4] = [
    "pathologic_fracture",
    "radiotherapy_bone",
    "bone_surgery",
    "spinal_cord_compression",
];
const SPINAL: [BoneSite; 4] = [
    BoneSite::SpineCervical,
    BoneSite::SpineThoracic,
    BoneSite::SpineLumbar,
    BoneSite::Sacrum,
];

impl Model {
    /// The course after bone metastases: the bone agent (policy, start) and the SREs in
    /// continuous time from `bone_mets_date` (months), each type's first occurrence from its
    /// own hazard (× NTX, weight-bearing, and the agent's hazard ratio once started), further
    /// SREs after the first at a higher rate, and a revealing SRE for some metachronous
    /// patients. Returns the agent recorded (empty when not recorded) and its start date.
    fn bone_course(
        &self,
        rng: &mut Rng,
        c: &BoneCourse,
        events: &mut Vec<Vec<Cell>>,
    ) -> (Option<&'static str>, Option<NaiveDate>) {
        let p = &self.p;
        let sh = &p.shapes;
        let modifier = if c.ntx_high { p.sre_hr_ntx_high } else { 1.0 }
            * if c.weight_bearing {
                p.sre_hr_weight_bearing
            } else {
                1.0
            }
            / self.sre_modifier_mean;
        let follow_up = (c.last_contact - c.bone_day).num_days() as f64 / DAYS_PER_MONTH;
        let revealing = (c.metachronous && rng.chance(p.revealing_share * modifier))
            .then(|| [0, 3][rng.weighted(&p.revealing_types)]);
        // Untreated times of each type's first occurrence (unit exponentials kept for the
        // change of hazard at the agent's start).
        let unit: [f64; 4] = std::array::from_fn(|_| rng.exponential(1.0));
        let untreated: [f64; 4] = std::array::from_fn(|t| unit[t] / (p.sre_hazard[t] * modifier));
        let first_untreated = if revealing.is_some() {
            0.0
        } else {
            untreated.iter().copied().fold(f64::INFINITY, f64::min)
        };
        // The agent: its policy, kind and (planned or indicated) start, months from bone.
        let policy = rng.weighted(&p.agent_policy);
        let kind = rng.weighted(&p.agent_kinds);
        let indicated =
            first_untreated + rng.below(sh.indication_within_days + 1) as f64 / DAYS_PER_MONTH;
        let planned = if rng.chance(p.agent_same_day) {
            0.0
        } else {
            (sh.agent_delay_days.0 + rng.exponential(1.0 / sh.agent_delay_days.1)) / DAYS_PER_MONTH
        };
        let start = match policy {
            2 => planned.min(indicated),
            3 => indicated,
            _ => f64::INFINITY,
        };
        // Whole days: a start after the end of follow-up is no start.
        let start_day = (start * DAYS_PER_MONTH).floor();
        let started = start_day <= follow_up * DAYS_PER_MONTH;
        let hr = if started { p.sre_hr_agent[kind] } else { 1.0 };
        let start = if started {
            start_day / DAYS_PER_MONTH
        } else {
            f64::INFINITY
        };
        let treated = |t: f64| {
            if t <= start {
                t
            } else {
                start + (t - start) / hr
            }
        };
        let day_of = |t: f64| c.bone_day + Duration::days((t * DAYS_PER_MONTH).floor() as i64);
        let site_among = |rng: &mut Rng, only_spinal: bool| {
            let sites: Vec<BoneSite> = c
                .sites
                .iter()
                .filter(|s| !only_spinal || SPINAL.contains(s))
                .collect();
            (!sites.is_empty()).then(|| sites[rng.below(sites.len() as u64) as usize])
        };
        let mut sres: Vec<(f64, NaiveDate, usize)> = Vec::new();
        if let Some(t) = revealing {
            let before = 1 + rng.below(sh.revealing_within_days) as i64;
            let day = (c.bone_day - Duration::days(before)).max(c.diagnosis);
            sres.push((0.0, day, t));
        }
        for (t, &time) in untreated.iter().enumerate() {
            if revealing == Some(t) {
                continue;
            }
            let at = treated(time);
            if at <= follow_up {
                sres.push((at, day_of(at), t));
            }
        }
        sres.sort_by(|a, b| a.0.total_cmp(&b.0));
        // After the first SRE, further ones at a higher rate, of types already had.
        if let Some(&(first, _, _)) = sres.first() {
            let mut at = first;
            for _ in 0..40 {
                let rate = p.sre_repeat_rate * modifier * if at >= start { hr } else { 1.0 };
                at += rng.exponential(rate);
                if at > follow_up {
                    break;
                }
                let had: Vec<usize> = sres
                    .iter()
                    .filter(|(t, _, _)| *t <= at)
                    .map(|(_, _, k)| *k)
                    .collect();
                let k = had[rng.below(had.len() as u64) as usize];
                sres.push((at, day_of(at), k));
            }
        }
        for (_, day, t) in sres {
            let site = match t {
                3 => site_among(rng, true),
                _ => site_among(rng, false),
            };
            events.push(vec![
                Cell::PatientId(c.id),
                Cell::Date(day.min(c.last_contact)),
                Cell::Label(SRE_TYPES[t]),
                site.map_or(Cell::Null, |s| Cell::Label(s.as_str())),
            ]);
        }
        let label = [
            "none",
            "zoledronic_acid",
            "denosumab",
            "other_bisphosphonate",
        ];
        match (policy, started) {
            (0, _) => (None, None),
            (_, false) => (Some(label[0]), None),
            (_, true) => {
                let date = (!rng.chance(p.agent_no_start_date)).then(|| day_of(start));
                (Some(label[kind + 1]), date.map(|d| d.min(c.last_contact)))
            }
        }
    }

    /// Generates patient `index` of the cohort seeded `seed`.
    pub fn patient(&self, seed: u64, index: u64) -> Generated {
        let p = &self.p;
        let mut rng = Rng::for_patient(seed, index);
        let id = index;
        let male = rng.chance(p.male);
        let age = (p.age_mean + p.age_sd * rng.normal())
            .round()
            .clamp(p.shapes.age_range.0, p.shapes.age_range.1) as i64;
        let (start_year, end_year) = p.accrual_years;
        let accrual_start = NaiveDate::from_ymd_opt(start_year, 1, 1).unwrap_or_default();
        let accrual_end = NaiveDate::from_ymd_opt(end_year, 12, 31).unwrap_or_default();
        let study_end = NaiveDate::from_ymd_opt(p.study_end_year, 12, 31).unwrap_or_default();
        let diagnosis = day_within(&mut rng, accrual_start, accrual_end);
        let histology_weights: Vec<f64> = p.histology.iter().map(|(_, w)| *w).collect();
        let histology = p.histology[rng.weighted(&histology_weights)].0;
        let small_cell = histology == "small_cell";
        let squamous = histology == "squamous";
        let stage = rng.weighted(if small_cell {
            &p.stage_sclc
        } else {
            &p.stage_nsclc
        });
        let size = round_to(
            p.tumor_size_min_mm + rng.exponential(1.0 / p.tumor_size_mean_excess_mm),
            1,
        );
        let n_index = rng.weighted(&p.n_stage);
        let n_stage = ["n0", "n1", "n2", "n3", "nx"][n_index];
        let nodes = (1..=3).contains(&n_index);

        // Molecular profile (non-squamous NSCLC tested; others mostly not).
        let (egfr, alk, kras, group) = if squamous || small_cell {
            let group = if squamous {
                Group::Squamous
            } else {
                Group::SmallCell
            };
            ("not_tested", "not_tested", "not_tested", group)
        } else if !rng.chance(p.tested) {
            let egfr = if rng.chance(p.shapes.untested_egfr_wild_type) {
                "wild_type"
            } else {
                "not_tested"
            };
            (egfr, "not_tested", "not_tested", Group::IncompletelyTested)
        } else if rng.chance(p.egfr_mutant) {
            let kind = ["exon19_del", "l858r", "other_mutation"][rng.weighted(&p.egfr_types)];
            (kind, "negative", "wild_type", Group::Egfr)
        } else if rng.chance(p.alk_rearranged) {
            ("wild_type", "rearranged", "wild_type", Group::Alk)
        } else if rng.chance(p.kras_mutant) {
            let k = rng.weighted(&p.kras_types);
            let kind = ["g12a", "g12c", "g12d", "g12v", "other_mutation"][k];
            let group = if k == 0 {
                Group::KrasG12a
            } else {
                Group::KrasOther
            };
            ("wild_type", "negative", kind, group)
        } else {
            ("wild_type", "negative", "wild_type", Group::TripleNegative)
        };
        let g = GROUPS.iter().position(|x| *x == group).unwrap_or(0);

        // Metastases at diagnosis (stage IV only).
        let stage_iv = stage == 3;
        let mut visceral: SiteSet<VisceralSite> = SiteSet::new();
        let mut bone_at_diagnosis = false;
        if stage_iv {
            let visceral_drawn = rng.chance(p.visceral_at_diagnosis);
            let x = [male, size > 20.0, nodes, visceral_drawn];
            let logit = self.intercept[g] + calibrate::covariate_logit(p, x);
            bone_at_diagnosis = rng.chance(calibrate::expit(logit));
            if visceral_drawn {
                for _ in 0..(1 + rng.below(p.shapes.visceral_sites_extra)) {
                    visceral.insert(EXTRATHORACIC[rng.weighted(&p.shapes.extrathoracic_weights)]);
                }
            } else if !bone_at_diagnosis {
                // Stage IV needs a metastatic site: an intrathoracic one (M1a).
                visceral.insert(INTRATHORACIC[rng.below(3) as usize]);
            }
        }

        // Survival, metachronous bone metastases and follow-up (months from diagnosis):
        // death hazard before bone metastases, then the hazard after them; the bone hazard
        // starts after the synchronous window and competes with death.
        let visceral_hr = if visceral.is_empty() {
            1.0
        } else {
            p.visceral_hazard_ratio
        };
        let sclc_early = if small_cell {
            p.shapes.small_cell_early_hazard_ratio
        } else {
            1.0
        };
        let (rate_before, rate_after) = if stage_iv && bone_at_diagnosis {
            let rate = self.death_rate_iv[g][1] * visceral_hr;
            (rate, rate)
        } else if stage_iv {
            (
                self.death_rate_iv[g][0] * visceral_hr,
                self.death_rate_after_bone[g] * visceral_hr,
            )
        } else {
            (
                self.death_rate_early[stage.min(2)] * sclc_early,
                self.death_rate_after_bone[g],
            )
        };
        let death_untouched = rng.exponential(rate_before);
        let after_days = p.shapes.metachronous_after_days;
        let bone_draw = rng.exponential(p.metachronous_rate_by_stage[stage]);
        let after_bone = rng.exponential(rate_after);
        let bone_months = after_days as f64 / DAYS_PER_MONTH + bone_draw;
        let metachronous_months =
            (!bone_at_diagnosis && bone_months < death_untouched).then_some(bone_months);
        let death_months = metachronous_months.map_or(death_untouched, |b| b + after_bone);
        let death_day = diagnosis + Duration::days((death_months * DAYS_PER_MONTH).round() as i64);
        let lost_day = diagnosis
            + Duration::days(
                (rng.exponential(p.loss_to_follow_up_per_year) * 365.25).round() as i64,
            );
        let last_contact = death_day.min(lost_day).min(study_end);
        let dead = death_day <= lost_day && death_day <= study_end;

        // Bone metastases: at diagnosis, or later if before the end of follow-up.
        let bone_date = if bone_at_diagnosis {
            Some(
                diagnosis + Duration::days(rng.below(p.shapes.synchronous_bone_within_days) as i64),
            )
            .map(|d| d.min(last_contact))
        } else {
            metachronous_months
                .map(|_| {
                    (diagnosis + Duration::days(after_days + (bone_draw * DAYS_PER_MONTH) as i64))
                        .min(death_day)
                })
                .filter(|d| *d <= last_contact)
        };
        let metachronous = bone_date.is_some() && !bone_at_diagnosis;
        let weight_bearing = bone_date.is_some() && rng.chance(p.shapes.weight_bearing);
        let (bone_sites, lesions) = match bone_date {
            None => (None, None),
            Some(_) => {
                let sh = &p.shapes;
                let lesions = 1
                    + rng.below(sh.lesions_few)
                    + if rng.chance(sh.lesions_many_chance) {
                        rng.below(sh.lesions_many)
                    } else {
                        0
                    };
                let mut sites: SiteSet<BoneSite> = SiteSet::new();
                let n_sites = 1 + rng.below(lesions.min(3));
                if weight_bearing {
                    sites.insert(
                        WEIGHT_BEARING[rng.weighted(&p.shapes.weight_bearing_site_weights)],
                    );
                }
                while (sites.len() as u64) < n_sites {
                    if weight_bearing && rng.chance(sh.further_site_weight_bearing) {
                        sites.insert(
                            WEIGHT_BEARING[rng.weighted(&p.shapes.weight_bearing_site_weights)],
                        );
                    } else {
                        sites.insert(OTHER_BONES[rng.weighted(&p.shapes.other_bone_weights)]);
                    }
                }
                (Some(sites), Some(lesions))
            }
        };
        let stage_label = if stage_iv {
            let sites = SitesAtDiagnosis {
                bone: bone_at_diagnosis,
                bone_lesion_count: lesions.map(|l| l as u32),
                visceral,
            };
            match m_category(&sites) {
                MCategory::M1c => "ivb",
                MCategory::Unknown => "iv",
                _ => "iva",
            }
        } else {
            ["i", "ii", "iii"][stage]
        };

        // Bone-targeted agent, markers, SREs.
        let mut events = Vec::new();
        let mut labs = Vec::new();
        // NTX class at bone diagnosis; the baseline NTX (at diagnosis) reflects it only for
        // synchronous disease.
        let ntx_high = bone_date.is_some() && rng.chance(p.ntx_high_share);
        let sh = &p.shapes;
        let ntx_bone_value = |rng: &mut Rng| {
            if ntx_high {
                100.0 + rng.exponential(1.0 / sh.ntx_high_mean_excess)
            } else {
                sh.ntx_low_bone.0 + rng.unit() * sh.ntx_low_bone.1
            }
        };
        let ntx_value = if bone_at_diagnosis {
            ntx_bone_value(&mut rng)
        } else {
            sh.ntx_no_bone.0 + rng.unit() * sh.ntx_no_bone.1
        };
        let ntx = (!rng.chance(p.lab_missing)).then_some(round_to(ntx_value, 1));
        let mut ntx_at_bone = None;
        let (agent, agent_start) = if let Some(bone_day) = bone_date {
            if rng.chance(p.ntx_at_bone_sample) {
                let day = (bone_day + Duration::days(rng.below(61) as i64 - 30))
                    .clamp(diagnosis, last_contact);
                let at = at_time(day, 7 + rng.below(4) as u32, rng.below(60) as u32);
                ntx_at_bone = Some((at, round_to(ntx_bone_value(&mut rng), 1)));
            }
            let course = BoneCourse {
                id,
                diagnosis,
                bone_day,
                last_contact,
                metachronous,
                ntx_high,
                weight_bearing,
                sites: bone_sites.unwrap_or_default(),
            };
            self.bone_course(&mut rng, &course, &mut events)
        } else {
            (Some("none"), None)
        };

        // Calcium: baseline in the patients table and as a lab pair; follow-up pairs; crises.
        let mg_dl = rng.chance(p.shapes.calcium_mg_dl);
        let calcium_mmol = round_to(
            p.shapes.baseline_calcium.0
                + rng.unit() * p.shapes.baseline_calcium.1
                + if bone_date.is_some() {
                    p.shapes.bone_calcium_shift
                } else {
                    0.0
                },
            2,
        );
        let albumin_g_l = round_to(
            p.shapes.baseline_albumin.0 + rng.unit() * p.shapes.baseline_albumin.1,
            0,
        );
        let baseline_missing = rng.chance(p.lab_missing);
        let (calcium_cell, calcium_unit, albumin_cell, albumin_unit) = if baseline_missing {
            (Cell::Null, Cell::Null, Cell::Null, Cell::Null)
        } else if mg_dl {
            (
                Cell::Num(round_to(calcium_mmol * 4.008, 2), 2),
                Cell::Label("mg/dl"),
                Cell::Num(round_to(albumin_g_l / 10.0, 1), 1),
                Cell::Label("g/dl"),
            )
        } else {
            (
                Cell::Num(calcium_mmol, 2),
                Cell::Label("mmol/l"),
                Cell::Num(albumin_g_l, 0),
                Cell::Label("g/l"),
            )
        };
        let lab = |at: NaiveDateTime,
                   analyte: &'static str,
                   value: f64,
                   decimals: u8,
                   unit: &'static str,
                   fasting: Option<bool>| {
            vec![
                Cell::PatientId(id),
                Cell::DateTime(at),
                Cell::Label(analyte),
                Cell::Num(value, decimals),
                Cell::Label(unit),
                opt(fasting, Cell::Bool),
            ]
        };
        if !baseline_missing {
            let at = at_time(diagnosis, 8, 0);
            labs.push(lab(at, "calcium", calcium_mmol, 2, "mmol/l", Some(true)));
            labs.push(lab(at, "albumin", albumin_g_l, 0, "g/l", Some(true)));
        }
        for _ in 0..rng.weighted(&p.shapes.follow_up_pairs) {
            let day = day_within(&mut rng, diagnosis, last_contact);
            let at = at_time(day, 7 + rng.below(4) as u32, rng.below(60) as u32);
            labs.push(lab(
                at,
                "calcium",
                round_to(
                    p.shapes.follow_up_calcium.0 + rng.unit() * p.shapes.follow_up_calcium.1,
                    2,
                ),
                2,
                "mmol/l",
                None,
            ));
            labs.push(lab(
                at,
                "albumin",
                round_to(
                    p.shapes.follow_up_albumin.0 + rng.unit() * p.shapes.follow_up_albumin.1,
                    0,
                ),
                0,
                "g/l",
                None,
            ));
        }
        let crisis_chance = match (bone_date.is_some(), agent.unwrap_or("none")) {
            (true, "none") => p.crisis[0],
            (true, _) => p.crisis[1],
            _ => p.crisis[2],
        };
        if rng.chance(crisis_chance) {
            let day = day_within(&mut rng, diagnosis, last_contact);
            let at = at_time(day, 10, 0);
            // Corrected ≥ 3.4 + (40 − 34) / 40 = 3.55 mmol/L: a crisis under either formula.
            labs.push(lab(
                at,
                "calcium",
                round_to(
                    p.shapes.crisis_calcium.0 + rng.unit() * p.shapes.crisis_calcium.1,
                    2,
                ),
                2,
                "mmol/l",
                Some(false),
            ));
            labs.push(lab(
                at,
                "albumin",
                round_to(
                    p.shapes.crisis_albumin.0 + rng.unit() * p.shapes.crisis_albumin.1,
                    0,
                ),
                0,
                "g/l",
                Some(false),
            ));
            if rng.chance(p.crisis_event_recorded) {
                events.push(vec![
                    Cell::PatientId(id),
                    Cell::Date(day),
                    Cell::Label("hypercalcemia"),
                    Cell::Null,
                ]);
            }
        }

        if let Some((at, value)) = ntx_at_bone {
            labs.push(lab(at, "ntx", value, 1, "nmol_bce/mmol_creat", None));
        }

        // CTX: sampled within two weeks of diagnosis, sometimes late or not fasting.
        let ctx_day = (diagnosis + Duration::days(rng.below(14) as i64)).min(last_contact);
        let late = rng.chance(p.ctx_late);
        let ctx_at = if late {
            at_time(ctx_day, 9 + rng.below(3) as u32, rng.below(60) as u32)
        } else {
            at_time(ctx_day, 7 + rng.below(2) as u32, rng.below(60) as u32)
        };
        let ctx_fasting = !rng.chance(p.ctx_not_fasting);
        let ctx_value = round_to(
            if bone_date.is_some() {
                p.shapes.ctx_bone.0 + rng.unit() * p.shapes.ctx_bone.1
            } else {
                p.shapes.ctx_no_bone.0 + rng.unit() * p.shapes.ctx_no_bone.1
            },
            0,
        );
        let ctx = (!rng.chance(p.lab_missing)).then_some(ctx_value);
        if ctx.is_some() {
            labs.push(lab(ctx_at, "ctx", ctx_value, 0, "ng/l", Some(ctx_fasting)));
        }
        events.sort_by_key(|row| match row[1] {
            Cell::Date(d) => d,
            _ => diagnosis,
        });
        labs.sort_by_key(|row| match row[1] {
            Cell::DateTime(t) => t,
            _ => at_time(diagnosis, 0, 0),
        });

        let ecog = if stage_iv {
            rng.weighted(&p.shapes.ecog_stage_iv)
        } else {
            rng.weighted(&p.shapes.ecog_early)
        };
        let first_line = match (stage_iv, group) {
            (false, _) => {
                ["none", "chemotherapy", "other"][rng.weighted(&p.shapes.first_line_early)]
            }
            (true, Group::Egfr) => "egfr_tki",
            (true, Group::Alk) => "alk_tki",
            (true, Group::SmallCell) => "chemo_immunotherapy",
            (true, _) => ["chemo_immunotherapy", "immunotherapy", "chemotherapy"]
                [rng.weighted(&p.shapes.first_line_stage_iv)],
        };
        let (smi_men, smi_women, smi_sd) = p.shapes.smi;
        let smi = round_to(
            if male { smi_men } else { smi_women } + smi_sd * rng.normal(),
            1,
        )
        .max(20.0);
        let patient = vec![
            Cell::PatientId(id),
            Cell::Label(if male { "m" } else { "f" }),
            Cell::Int(age),
            Cell::Date(diagnosis),
            Cell::Label(histology),
            Cell::Label(stage_label),
            Cell::Num(size, 1),
            Cell::Label(n_stage),
            Cell::Label(egfr),
            Cell::Label(alk),
            Cell::Label(kras),
            Cell::Int(ecog as i64),
            opt(bone_date, Cell::Date),
            opt(bone_sites, |s| Cell::Text(s.to_list_string())),
            opt(lesions, |l| Cell::Int(l as i64)),
            if visceral.is_empty() {
                Cell::Null
            } else {
                Cell::Text(visceral.to_list_string())
            },
            Cell::Null,
            calcium_cell,
            calcium_unit,
            albumin_cell,
            albumin_unit,
            opt(ntx, |v| Cell::Num(v, 1)),
            opt(ctx, |v| Cell::Num(v, 0)),
            if ctx.is_some() {
                Cell::DateTime(ctx_at)
            } else {
                Cell::Null
            },
            if ctx.is_some() {
                Cell::Bool(ctx_fasting)
            } else {
                Cell::Null
            },
            opt(agent, Cell::Label),
            opt(agent_start, Cell::Date),
            Cell::Label(first_line),
            Cell::Num(smi, 1),
            Cell::Date(last_contact),
            Cell::Label(if dead { "dead" } else { "alive" }),
            if dead {
                Cell::Date(last_contact)
            } else {
                Cell::Null
            },
        ];
        Generated {
            patient,
            events,
            labs,
        }
    }
}
