//! Every parameter of the synthetic-cohort model, in one table, each with the figure it is
//! calibrated to (docs/synthetic-cohort.md explains the model). Published figures are F1–F11
//! (docs/clinical-definitions.md, with their sources); the rest are stated assumptions,
//! plausible for a Western registry, marked "assumption".

/// A probability table over labelled outcomes.
pub type Mix<T> = &'static [(T, f64)];

/// The model's parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    /// Share of men (assumption: European lung-cancer registries, ≈ 58%).
    pub male: f64,
    /// Mean and SD of age at diagnosis, years (assumption).
    pub age_mean: f64,
    /// SD of age.
    pub age_sd: f64,
    /// Histology mix (assumption; SEER-like, F10's histologies all present).
    pub histology: Mix<&'static str>,
    /// Stage at diagnosis for non-small-cell cancers: i, ii, iii, iv (assumption: about half
    /// diagnosed at stage IV).
    pub stage_nsclc: [f64; 4],
    /// Stage at diagnosis for small-cell cancers (assumption: mostly extensive disease).
    pub stage_sclc: [f64; 4],
    /// Tumour size: minimum and mean excess, mm (exponential; P(> 20 mm) = exp(−10/25) ≈ 0.67).
    pub tumor_size_min_mm: f64,
    /// Mean excess over the minimum.
    pub tumor_size_mean_excess_mm: f64,
    /// N category mix: n0, n1, n2, n3, nx (assumption).
    pub n_stage: [f64; 5],
    /// Non-squamous NSCLC: share molecularly tested for all three genes (assumption).
    pub tested: f64,
    /// Among tested: EGFR-mutant (Western non-squamous NSCLC ≈ 10–15%).
    pub egfr_mutant: f64,
    /// EGFR mutation types: exon 19 deletion, L858R, other.
    pub egfr_types: [f64; 3],
    /// Among tested EGFR wild type: ALK-rearranged (≈ 4%).
    pub alk_rearranged: f64,
    /// Among tested EGFR wild type, ALK negative: KRAS-mutant (≈ 30%).
    pub kras_mutant: f64,
    /// KRAS types: G12A, G12C, G12D, G12V, other (G12C most common; G12A rare).
    pub kras_types: [f64; 5],
    /// Stage IV: chance of a non-bone (visceral) metastatic site, before the bone draw.
    pub visceral_at_diagnosis: f64,
    /// Stage IV non-squamous: probability of bone metastases at diagnosis by subgroup:
    /// EGFR 53.8% and triple-negative 31.5% (F3, OR 2.55), KRAS G12A 42.9% (F4, OR 2.26 vs
    /// triple-negative), ALK lower (assumption 25%), other KRAS and incompletely tested 33–34%
    /// so that the overall is ≈ 34% (F3).
    pub bone_at_diagnosis: BoneTargets,
    /// Log-odds ratios of bone metastases at diagnosis (F10: male sex, larger tumour, nodal
    /// involvement and other metastatic sites raise the odds; sizes are assumptions).
    pub bone_log_or_male: f64,
    /// Tumour > 20 mm.
    pub bone_log_or_size: f64,
    /// N1–N3.
    pub bone_log_or_nodes: f64,
    /// A visceral site at diagnosis.
    pub bone_log_or_visceral: f64,
    /// Hazard of metachronous bone metastases per month, by stage i–iv, for patients without
    /// bone disease at diagnosis, from day 31 after diagnosis (so that a metachronous date is
    /// never within the 30-day synchronous window), competing with death. Stages III and IV
    /// calibrated by simulation so that A3's estimand for F1 (cumulative incidence at 24 months
    /// in stage III–IV, synchronous disease at 0, death competing) is 0.36; stages I–II
    /// assumptions.
    pub metachronous_rate_by_stage: [f64; 4],
    /// Death hazard after metachronous bone metastases relative to that of synchronous bone
    /// disease of the same subgroup, KRAS-mutant patients (calibrated by simulation so that
    /// F7's KRAS-mutant median from `bone_mets_date`, synchronous and metachronous together,
    /// is 3.7 months while F6's 6.8 months from diagnosis holds for synchronous disease; other
    /// subgroups: 1).
    pub post_bone_hazard_ratio_kras: f64,
    /// Median overall survival, months, stage IV by subgroup and bone status at diagnosis
    /// (without, with): EGFR 17.8 / 18.5 (F5), KRAS 9.8 / 6.8 (F6); triple-negative with bone
    /// 9.57, so that F7's KRAS wild type median from `bone_mets_date` is 9.7 (simulation);
    /// others assumptions. The median without bone disease is that of the whole course,
    /// metachronous bone metastases and the higher hazard after them included.
    pub median_os_stage_iv: MedianTargets,
    /// Median overall survival by stage i–iii, months (assumptions).
    pub median_os_early: [f64; 3],
    /// Hazard ratio of death with a visceral site at diagnosis (bone-only disease does better
    /// than visceral disease; assumption 1.6).
    pub visceral_hazard_ratio: f64,
    /// Diagnosis dates: first and last year of accrual.
    pub accrual_years: (i32, i32),
    /// Administrative end of study (censoring date): year-end of this year.
    pub study_end_year: i32,
    /// Loss to follow-up, per year (exponential).
    pub loss_to_follow_up_per_year: f64,
    /// Bone-targeted agent policy among patients with bone metastases: not recorded (empty
    /// `bone_agent`), never planned, planned (a start some weeks after `bone_mets_date`, or
    /// at the first SRE if earlier), started only in response to an SRE (indication)
    /// (assumption). A planned or indicated start after the end of follow-up is no agent.
    pub agent_policy: [f64; 4],
    /// The agent given: zoledronic acid, denosumab, other bisphosphonate (assumption).
    pub agent_kinds: [f64; 3],
    /// Among planned starts, the share on the day of the bone diagnosis (assumption).
    pub agent_same_day: f64,
    /// Among patients started, the share recorded without a start date (assumption).
    pub agent_no_start_date: f64,
    /// Hazard of each SRE type's first occurrence per month from `bone_mets_date`, untreated,
    /// for the average modifier (fracture, radiotherapy, surgery, cord compression):
    /// calibrated by simulation so that A8's cumulative incidences at 21 months (death
    /// competing, censored at agent start, revealing SREs at 0) are close to F9 in NSCLC (any
    /// 48%, fracture 22%, radiotherapy 34%, surgery 5%, cord compression 4%) and F8 (50%) in
    /// all histologies.
    pub sre_hazard: [f64; 4],
    /// SRE hazard ratio with NTX ≥ 100 vs < 100 at bone diagnosis (F11: 1.79).
    pub sre_hr_ntx_high: f64,
    /// Share of bone-metastatic patients with NTX ≥ 100 (assumption).
    pub ntx_high_share: f64,
    /// SRE hazard ratio with weight-bearing involvement (assumption).
    pub sre_hr_weight_bearing: f64,
    /// SRE hazard ratio once the agent has started: zoledronic acid, denosumab, other
    /// bisphosphonate (assumption, of the size the placebo-controlled and head-to-head trials
    /// report).
    pub sre_hr_agent: [f64; 3],
    /// After a first SRE, further SREs (of types the patient has had) at this rate per month
    /// times the patient's modifiers (a first SRE raises the rate of the next; assumption).
    pub sre_repeat_rate: f64,
    /// Share of metachronous patients whose bone disease was revealed by an SRE dated a few
    /// days before `bone_mets_date` (for the average modifier; assumption).
    pub revealing_share: f64,
    /// Type of a revealing SRE: pathological fracture, spinal cord compression (assumption).
    pub revealing_types: [f64; 2],
    /// Share of bone-metastatic patients with an NTX sample in the labs within ±30 days of
    /// `bone_mets_date` (assumption).
    pub ntx_at_bone_sample: f64,
    /// Hypercalcaemic crisis (corrected calcium > 3.5 mmol/L) chance: bone-metastatic without
    /// agent, with agent, others (small, concentrated in untreated bone disease).
    pub crisis: [f64; 3],
    /// Chance that a crisis found in labs also has a hypercalcaemia event row.
    pub crisis_event_recorded: f64,
    /// CTX samples: chance drawn at or after 09:00, and chance not fasting.
    pub ctx_late: f64,
    /// Not fasting.
    pub ctx_not_fasting: f64,
    /// Chance a baseline value (calcium, albumin, NTX, CTX) is missing.
    pub lab_missing: f64,
    /// Distributions of the remaining inputs (assumptions, plausible values).
    pub shapes: Shapes,
}

/// Shapes of the inputs no published figure constrains (assumptions). Uniform draws are given
/// as (lower bound, width).
#[derive(Debug, Clone, PartialEq)]
pub struct Shapes {
    /// Age at diagnosis is clipped to this range, years.
    pub age_range: (f64, f64),
    /// Incompletely tested non-squamous: chance EGFR was tested (wild type).
    pub untested_egfr_wild_type: f64,
    /// Early-stage small-cell death hazard relative to NSCLC of the same stage.
    pub small_cell_early_hazard_ratio: f64,
    /// Bone metastases at diagnosis are dated within this many days of it (< 30: synchronous).
    pub synchronous_bone_within_days: u64,
    /// Share of bone-metastatic patients with a weight-bearing bone involved (enters the SRE
    /// calibration).
    pub weight_bearing: f64,
    /// Weight-bearing bones: thoracic, lumbar spine, pelvis, femur, cervical spine, sacrum, tibia.
    pub weight_bearing_site_weights: [f64; 7],
    /// Other bones: ribs, humerus, skull, sternum, scapula, other.
    pub other_bone_weights: [f64; 6],
    /// With weight-bearing involvement, chance each further site is weight-bearing too.
    pub further_site_weight_bearing: f64,
    /// Extrathoracic visceral sites: liver, brain, adrenal, distant nodes, other.
    pub extrathoracic_weights: [f64; 5],
    /// Visceral sites drawn: 1 + uniform below this.
    pub visceral_sites_extra: u64,
    /// Bone lesions: 1 + uniform below this, plus (with the chance below) uniform below `lesions_many`.
    pub lesions_few: u64,
    /// Chance of many lesions.
    pub lesions_many_chance: f64,
    /// Extra lesions when many.
    pub lesions_many: u64,
    /// A planned agent start: this many days after `bone_mets_date` plus Exponential with
    /// the second number as mean (days).
    pub agent_delay_days: (f64, f64),
    /// An agent started in response to an SRE starts 0 to this many days after it.
    pub indication_within_days: u64,
    /// A revealing SRE is dated 1 to this many days before `bone_mets_date`.
    pub revealing_within_days: u64,
    /// Metachronous bone metastases are dated at least this many days after diagnosis.
    pub metachronous_after_days: i64,
    /// NTX ≥ 100: 100 + Exponential with this mean.
    pub ntx_high_mean_excess: f64,
    /// NTX < 100 with bone metastases, uniform.
    pub ntx_low_bone: (f64, f64),
    /// NTX without bone metastases, uniform.
    pub ntx_no_bone: (f64, f64),
    /// Share of calcium reported in mg/dL (with albumin in g/dL).
    pub calcium_mg_dl: f64,
    /// Baseline calcium, mmol/L, uniform; plus a shift with bone metastases.
    pub baseline_calcium: (f64, f64),
    /// Shift of baseline calcium with bone metastases, mmol/L.
    pub bone_calcium_shift: f64,
    /// Baseline albumin, g/L, uniform.
    pub baseline_albumin: (f64, f64),
    /// Number of follow-up calcium–albumin pairs: 0, 1, 2.
    pub follow_up_pairs: [f64; 3],
    /// Follow-up calcium, mmol/L, uniform.
    pub follow_up_calcium: (f64, f64),
    /// Follow-up albumin, g/L, uniform.
    pub follow_up_albumin: (f64, f64),
    /// Calcium in a crisis, mmol/L, uniform (with the albumin below, corrected ≥ 3.55).
    pub crisis_calcium: (f64, f64),
    /// Albumin in a crisis, g/L, uniform.
    pub crisis_albumin: (f64, f64),
    /// CTX with bone metastases, ng/L, uniform.
    pub ctx_bone: (f64, f64),
    /// CTX without, ng/L, uniform.
    pub ctx_no_bone: (f64, f64),
    /// ECOG 0–4 at stage IV.
    pub ecog_stage_iv: [f64; 5],
    /// ECOG 0–4 at stages I–III.
    pub ecog_early: [f64; 5],
    /// First line at stages I–III: none, chemotherapy, other.
    pub first_line_early: [f64; 3],
    /// First line at stage IV without a targetable alteration: chemo-immunotherapy,
    /// immunotherapy, chemotherapy.
    pub first_line_stage_iv: [f64; 3],
    /// Skeletal muscle index, cm²/m²: mean for men and women, and SD.
    pub smi: (f64, f64, f64),
}

/// Bone metastasis at diagnosis, stage IV, by subgroup (non-squamous NSCLC) or histology.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BoneTargets {
    /// EGFR-mutant.
    pub egfr: f64,
    /// ALK-rearranged.
    pub alk: f64,
    /// KRAS G12A.
    pub kras_g12a: f64,
    /// Other KRAS mutations.
    pub kras_other: f64,
    /// Triple-negative.
    pub triple_negative: f64,
    /// Incompletely tested non-squamous.
    pub incompletely_tested: f64,
    /// Squamous (assumption).
    pub squamous: f64,
    /// Small-cell (assumption).
    pub small_cell: f64,
}

/// Median overall survival (months) without and with bone metastases at diagnosis, stage IV.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MedianTargets {
    /// EGFR-mutant (F5).
    pub egfr: (f64, f64),
    /// ALK-rearranged.
    pub alk: (f64, f64),
    /// KRAS-mutant (F6).
    pub kras: (f64, f64),
    /// Triple-negative.
    pub triple_negative: (f64, f64),
    /// Incompletely tested non-squamous.
    pub incompletely_tested: (f64, f64),
    /// Squamous.
    pub squamous: (f64, f64),
    /// Small-cell.
    pub small_cell: (f64, f64),
}

/// The calibrated model.
pub const PARAMS: Params = Params {
    male: 0.58,
    age_mean: 68.0,
    age_sd: 9.5,
    histology: &[
        ("adenocarcinoma", 0.48),
        ("squamous", 0.26),
        ("large_cell", 0.03),
        ("nsclc_nos", 0.07),
        ("small_cell", 0.13),
        ("other", 0.03),
    ],
    stage_nsclc: [0.20, 0.08, 0.20, 0.52],
    stage_sclc: [0.02, 0.03, 0.25, 0.70],
    tumor_size_min_mm: 10.0,
    tumor_size_mean_excess_mm: 25.0,
    n_stage: [0.30, 0.15, 0.35, 0.15, 0.05],
    tested: 0.85,
    egfr_mutant: 0.12,
    egfr_types: [0.55, 0.35, 0.10],
    alk_rearranged: 0.04,
    kras_mutant: 0.30,
    kras_types: [0.08, 0.40, 0.15, 0.20, 0.17],
    visceral_at_diagnosis: 0.55,
    bone_at_diagnosis: BoneTargets {
        egfr: 0.538,
        alk: 0.25,
        kras_g12a: 0.429,
        kras_other: 0.33,
        triple_negative: 0.315,
        incompletely_tested: 0.34,
        squamous: 0.28,
        small_cell: 0.45,
    },
    bone_log_or_male: 0.25,
    bone_log_or_size: 0.35,
    bone_log_or_nodes: 0.30,
    bone_log_or_visceral: 0.45,
    metachronous_rate_by_stage: [0.003, 0.006, 0.008, 0.018],
    post_bone_hazard_ratio_kras: 3.7,
    median_os_stage_iv: MedianTargets {
        egfr: (17.8, 18.5),
        alk: (30.0, 24.0),
        kras: (9.8, 6.8),
        triple_negative: (11.0, 9.57),
        incompletely_tested: (10.0, 7.0),
        squamous: (9.0, 6.5),
        small_cell: (8.0, 6.0),
    },
    median_os_early: [70.0, 40.0, 20.0],
    visceral_hazard_ratio: 1.6,
    accrual_years: (2015, 2023),
    study_end_year: 2024,
    loss_to_follow_up_per_year: 0.03,
    agent_policy: [0.03, 0.30, 0.50, 0.17],
    agent_kinds: [0.55, 0.37, 0.08],
    agent_same_day: 0.10,
    agent_no_start_date: 0.04,
    sre_hazard: [0.0253, 0.0548, 0.0058, 0.0034],
    sre_hr_ntx_high: 1.79,
    ntx_high_share: 0.45,
    sre_hr_weight_bearing: 1.3,
    sre_hr_agent: [0.65, 0.55, 0.8],
    sre_repeat_rate: 0.15,
    revealing_share: 0.10,
    revealing_types: [0.75, 0.25],
    ntx_at_bone_sample: 0.6,
    crisis: [0.05, 0.01, 0.002],
    crisis_event_recorded: 0.7,
    ctx_late: 0.12,
    ctx_not_fasting: 0.08,
    lab_missing: 0.10,
    shapes: Shapes {
        age_range: (30.0, 95.0),
        untested_egfr_wild_type: 0.5,
        small_cell_early_hazard_ratio: 2.0,
        synchronous_bone_within_days: 15,
        weight_bearing: 0.75,
        weight_bearing_site_weights: [0.30, 0.25, 0.20, 0.12, 0.05, 0.05, 0.03],
        other_bone_weights: [0.45, 0.2, 0.12, 0.1, 0.08, 0.05],
        further_site_weight_bearing: 0.5,
        extrathoracic_weights: [0.30, 0.30, 0.25, 0.10, 0.05],
        visceral_sites_extra: 2,
        lesions_few: 3,
        lesions_many_chance: 0.4,
        lesions_many: 8,
        agent_delay_days: (7.0, 45.0),
        indication_within_days: 14,
        revealing_within_days: 14,
        metachronous_after_days: 31,
        ntx_high_mean_excess: 80.0,
        ntx_low_bone: (15.0, 84.9),
        ntx_no_bone: (8.0, 50.0),
        calcium_mg_dl: 0.1,
        baseline_calcium: (2.15, 0.5),
        bone_calcium_shift: 0.05,
        baseline_albumin: (30.0, 15.0),
        follow_up_pairs: [0.3, 0.4, 0.3],
        follow_up_calcium: (2.1, 0.6),
        follow_up_albumin: (28.0, 16.0),
        crisis_calcium: (3.4, 0.5),
        crisis_albumin: (28.0, 6.0),
        ctx_bone: (350.0, 900.0),
        ctx_no_bone: (150.0, 500.0),
        ecog_stage_iv: [0.2, 0.4, 0.25, 0.12, 0.03],
        ecog_early: [0.45, 0.4, 0.1, 0.04, 0.01],
        first_line_early: [0.5, 0.35, 0.15],
        first_line_stage_iv: [0.6, 0.25, 0.15],
        smi: (52.0, 41.0, 7.0),
    },
};
