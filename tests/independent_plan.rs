//! F1, F7, F8 and F9 of `bonemet run` recomputed by an independent minimal implementation.
//!
//! A synthetic cohort is written with `bonemet synth` and analysed with `bonemet run`; the test
//! then reads the cohort's own CSV files and recomputes the published rows from
//! docs/analysis-plan.md alone, with estimators written here on purpose (no code from
//! `src/analysis` or `src/stats`):
//!
//! - an Aalen–Johansen cumulative incidence with the variance of `cmprsk::cuminc` (Gray's
//!   `cinc` recursion) and the log(−log) interval,
//! - a Kaplan–Meier median with `survfit`'s log-log interval and its midpoint rule,
//! - a one-covariate Cox model (Efron ties) fitted by Newton–Raphson, with its Wald interval.
//!
//! Every estimate, interval bound and n must equal the run's to 1e-9.

use std::collections::HashMap;
use std::path::Path;

use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::Value;

use crate::minimal_stats::Z95;

/// Days per month (docs/analysis-plan.md: months are days / 30.4375).
const MONTH: f64 = 30.4375;
/// A fixed run timestamp, as tests/run.rs uses.
const EPOCH: &str = "1795996800";
const TOL: f64 = 1e-9;

// ---------------------------------------------------------------------------------------------
// The cohort, read from the CSV files as they are (every column as text).

#[derive(Deserialize)]
struct PatientRow {
    patient_id: String,
    diagnosis_date: String,
    histology: String,
    stage: String,
    egfr: String,
    alk: String,
    kras: String,
    bone_mets_date: String,
    bone_agent: String,
    bone_agent_start: String,
    last_contact_date: String,
    vital_status: String,
    death_date: String,
}

#[derive(Deserialize)]
struct EventRow {
    patient_id: String,
    event_date: String,
    event_type: String,
}

struct Patient {
    id: String,
    diagnosis: NaiveDate,
    histology: String,
    stage: String,
    egfr: String,
    alk: String,
    kras: String,
    bone: Option<NaiveDate>,
    agent: Option<String>,
    agent_start: Option<NaiveDate>,
    dead: bool,
    /// Follow-up end: death for the dead, last contact for the living.
    end: NaiveDate,
    /// (date, event type) of the patient's events.
    events: Vec<(NaiveDate, String)>,
}

fn date(s: &str) -> Option<NaiveDate> {
    (!s.trim().is_empty())
        .then(|| NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").expect("ISO date"))
}

fn text(s: &str) -> String {
    s.trim().to_lowercase()
}

fn read_cohort(dir: &Path) -> Vec<Patient> {
    let mut events: HashMap<String, Vec<(NaiveDate, String)>> = HashMap::new();
    let mut reader = csv::Reader::from_path(dir.join("events.csv")).unwrap();
    for row in reader.deserialize::<EventRow>() {
        let row = row.unwrap();
        events
            .entry(row.patient_id)
            .or_default()
            .push((date(&row.event_date).unwrap(), text(&row.event_type)));
    }
    let mut reader = csv::Reader::from_path(dir.join("patients.csv")).unwrap();
    reader
        .deserialize::<PatientRow>()
        .map(|row| {
            let r = row.unwrap();
            let dead = text(&r.vital_status) == "dead";
            let end = if dead {
                date(&r.death_date).unwrap()
            } else {
                date(&r.last_contact_date).unwrap()
            };
            Patient {
                events: events.remove(&r.patient_id).unwrap_or_default(),
                id: r.patient_id,
                diagnosis: date(&r.diagnosis_date).unwrap(),
                histology: text(&r.histology),
                stage: text(&r.stage),
                egfr: text(&r.egfr),
                alk: text(&r.alk),
                kras: text(&r.kras),
                bone: date(&r.bone_mets_date),
                agent: Some(text(&r.bone_agent)).filter(|s| !s.is_empty()),
                agent_start: date(&r.bone_agent_start),
                dead,
                end,
            }
        })
        .collect()
}

fn days(from: NaiveDate, to: NaiveDate) -> i64 {
    (to - from).num_days()
}

/// Months from `origin` to `at`, an event before the origin counting at 0.
fn months(origin: NaiveDate, at: NaiveDate) -> f64 {
    days(origin, at).max(0) as f64 / MONTH
}

// ---------------------------------------------------------------------------------------------
// Minimal estimators (independent re-implementations, written for this test).

/// Causes of an observation in a competing-risks sample.
const CENSORED: u8 = 0;
const EVENT: u8 = 1;
const COMPETING: u8 = 2;

/// Aalen–Johansen cumulative incidence of cause 1 at `horizon`, with its variance as
/// `cmprsk::cuminc` computes it (Gray's recursion: the variance is updated at the times of
/// the cause of interest and read, like the estimate, from the last one at or before the
/// horizon). `None` past the last follow-up time. Returns (F, variance).
fn aalen_johansen(mut data: Vec<(f64, u8)>, horizon: f64) -> Option<(f64, f64)> {
    data.sort_by(|a, b| a.0.total_cmp(&b.0));
    if data.last()?.0 < horizon {
        return None;
    }
    let n = data.len();
    let (mut surv, mut f, mut var) = (1.0f64, 0.0f64, 0.0f64);
    let (mut v1, mut v2, mut v3) = (0.0f64, 0.0f64, 0.0f64);
    let mut i = 0;
    while i < n && data[i].0 <= horizon {
        let t = data[i].0;
        let at_risk = (n - i) as f64;
        let (mut d1, mut d2) = (0.0f64, 0.0f64);
        while i < n && data[i].0 == t {
            match data[i].1 {
                EVENT => d1 += 1.0,
                COMPETING => d2 += 1.0,
                _ => {}
            }
            i += 1;
        }
        if d1 + d2 == 0.0 {
            continue;
        }
        let surv_after = surv * (at_risk - d1 - d2) / at_risk;
        f += surv * d1 / at_risk;
        // Each cause's term of the delta-method variance (ties weighted as in cinc).
        for (d, is_event) in [(d2, false), (d1, true)] {
            if d == 0.0 || (!is_event && surv_after <= 0.0) {
                continue;
            }
            let ties = if d > 1.0 {
                1.0 - (d - 1.0) / (at_risk - 1.0)
            } else {
                1.0
            };
            let w = surv * surv * ties * d / (at_risk * at_risk);
            let a = if surv_after > 0.0 {
                1.0 / surv_after
            } else {
                0.0
            };
            let b = if is_event {
                1.0 + a * f
            } else {
                f / surv_after
            };
            v1 += b * b * w;
            v2 += a * b * w;
            v3 += a * a * w;
        }
        if d1 > 0.0 {
            var = v1 + f * f * v3 - 2.0 * f * v2;
        }
        surv = surv_after;
    }
    Some((f, var))
}

/// The log(−log) 95% interval of a cumulative incidence `f` with variance `var`.
fn cif_interval(f: f64, var: f64) -> (f64, f64) {
    if f <= 0.0 || f >= 1.0 {
        return (f, f);
    }
    let k = Z95 * var.sqrt() / (f * f.ln());
    (f.powf((-k).exp()), f.powf(k.exp()))
}

/// `survfit`'s rule for where a curve `(time, value)` reaches 0.5: the first time with value
/// < 0.5 + tolerance; when that value is 0.5 (within tolerance) and the curve later drops
/// below it, the midpoint of the two times. Undefined values (`None`) are skipped.
fn first_half(curve: &[(f64, Option<f64>)]) -> Option<f64> {
    let tol = f64::EPSILON.sqrt();
    let kept: Vec<(f64, f64)> = curve
        .iter()
        .filter_map(|&(t, y)| y.filter(|&y| y < 0.5 + tol).map(|y| (t, y)))
        .collect();
    let &(t1, y1) = kept.first()?;
    if (y1 - 0.5).abs() < tol {
        if let Some(&(t2, _)) = kept.iter().find(|&&(_, y)| y < y1) {
            return Some((t1 + t2) / 2.0);
        }
    }
    Some(t1)
}

/// Kaplan–Meier median with the log-log 95% interval (`survfit(conf.type = "log-log")`):
/// Greenwood's variance of log S, the interval of S on the log(−log) scale, and the median
/// and its bounds where S and its limits reach 0.5. (time, died) per patient.
fn km_median_loglog(mut data: Vec<(f64, bool)>) -> (Option<f64>, Option<f64>, Option<f64>) {
    data.sort_by(|a, b| a.0.total_cmp(&b.0));
    let n = data.len();
    let (mut s, mut greenwood) = (1.0f64, 0.0f64);
    let (mut est, mut lower, mut upper) = (Vec::new(), Vec::new(), Vec::new());
    let mut i = 0;
    while i < n {
        let t = data[i].0;
        let at_risk = (n - i) as f64;
        let mut deaths = 0.0;
        while i < n && data[i].0 == t {
            deaths += f64::from(u8::from(data[i].1));
            i += 1;
        }
        if deaths == 0.0 {
            continue;
        }
        s *= 1.0 - deaths / at_risk;
        let (lo, hi) = if s > 0.0 && s < 1.0 {
            greenwood += deaths / (at_risk * (at_risk - deaths));
            let k = Z95 * greenwood.sqrt() / s.ln();
            // S^exp(±z·se/log S): log S < 0, so exp(−k) > 1 gives the lower limit.
            (Some(s.powf((-k).exp())), Some(s.powf(k.exp())))
        } else {
            (None, None)
        };
        est.push((t, Some(s)));
        lower.push((t, lo));
        upper.push((t, hi));
    }
    (first_half(&est), first_half(&lower), first_half(&upper))
}

/// One-covariate Cox model with Efron's ties, by Newton–Raphson from 0: (hazard ratio, lower,
/// upper) with the Wald 95% interval. `(time, died, x)` per patient.
fn cox_efron(mut data: Vec<(i64, bool, f64)>) -> (f64, f64, f64) {
    // Latest first: the risk set of a time is everyone read so far plus the tied group.
    data.sort_by_key(|r| std::cmp::Reverse(r.0));
    let mut beta = 0.0f64;
    let mut info = 0.0;
    for _ in 0..50 {
        let (mut score, mut inf) = (0.0f64, 0.0f64);
        let (mut s0, mut s1, mut s2) = (0.0f64, 0.0f64, 0.0f64);
        let mut i = 0;
        while i < data.len() {
            let t = data[i].0;
            let (mut d, mut d0, mut d1, mut d2) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
            while i < data.len() && data[i].0 == t {
                let (_, died, x) = data[i];
                let r = (beta * x).exp();
                s0 += r;
                s1 += r * x;
                s2 += r * x * x;
                if died {
                    d += 1.0;
                    d0 += r;
                    d1 += r * x;
                    d2 += r * x * x;
                    score += x;
                }
                i += 1;
            }
            for l in 0..d as usize {
                let frac = l as f64 / d;
                let (a0, a1, a2) = (s0 - frac * d0, s1 - frac * d1, s2 - frac * d2);
                score -= a1 / a0;
                inf += a2 / a0 - (a1 / a0) * (a1 / a0);
            }
        }
        let step = score / inf;
        beta += step;
        info = inf;
        if step.abs() < 1e-12 {
            break;
        }
    }
    let se = 1.0 / info.sqrt();
    (beta.exp(), (beta - Z95 * se).exp(), (beta + Z95 * se).exp())
}

// ---------------------------------------------------------------------------------------------
// The plan's populations and outcomes (docs/analysis-plan.md).

const SRE_TYPES: [&str; 4] = [
    "pathologic_fracture",
    "radiotherapy_bone",
    "bone_surgery",
    "spinal_cord_compression",
];

fn is_advanced(p: &Patient) -> bool {
    ["iii", "iv", "iva", "ivb"].contains(&p.stage.as_str())
}

fn is_nsclc(p: &Patient) -> bool {
    ["adenocarcinoma", "squamous", "large_cell", "nsclc_nos"].contains(&p.histology.as_str())
}

/// F1: bone metastases from diagnosis in advanced disease, synchronous (≤ 30 days after the
/// diagnosis, or before it) at 0, death without bone metastases competing.
fn f1_sample(cohort: &[Patient]) -> Vec<(f64, u8)> {
    cohort
        .iter()
        .filter(|p| is_advanced(p))
        .map(|p| match p.bone {
            Some(b) if days(p.diagnosis, b) <= 30 => (0.0, EVENT),
            Some(b) => (months(p.diagnosis, b), EVENT),
            None if p.dead => (months(p.diagnosis, p.end), COMPETING),
            None => (months(p.diagnosis, p.end), CENSORED),
        })
        .collect()
}

/// F7: adenocarcinoma with bone metastases, no EGFR mutation, no ALK rearrangement; KRAS
/// wild type (x = 1) or mutant (x = 0). (id, days from the bone diagnosis, died, x).
fn f7_sample(cohort: &[Patient]) -> Vec<(&str, i64, bool, f64)> {
    cohort
        .iter()
        .filter(|p| p.histology == "adenocarcinoma" && p.bone.is_some())
        .filter(|p| !["exon19_del", "l858r", "other_mutation"].contains(&p.egfr.as_str()))
        .filter(|p| p.alk != "rearranged")
        .filter_map(|p| {
            let x = match p.kras.as_str() {
                "wild_type" => 1.0,
                "g12a" | "g12c" | "g12d" | "g12v" | "other_mutation" => 0.0,
                _ => return None,
            };
            Some((p.id.as_str(), days(p.bone.unwrap(), p.end), p.dead, x))
        })
        .collect()
}

/// F8/F9: untreated follow-up from the bone diagnosis, censored at the agent's start; `None`
/// for a patient left out (no bone metastases, agent not recorded, agent without a start
/// date, agent started on or before the bone diagnosis). The outcome is the first event
/// whose type is in `types` (an event before the bone diagnosis at 0); an event on the day
/// the agent starts or on the day of death counts as the event; death competes.
fn untreated(p: &Patient, types: &[&str], censor_shift_days: i64) -> Option<(f64, u8)> {
    let bone = p.bone?;
    let agent = p.agent.as_deref()?;
    let stop = if agent == "none" {
        None
    } else {
        let start = p.agent_start?;
        if start <= bone {
            return None;
        }
        Some(start + chrono::Duration::days(censor_shift_days))
    };
    let last = stop.map_or(p.end, |s| s.min(p.end));
    let first = p
        .events
        .iter()
        .filter(|(d, ty)| types.contains(&ty.as_str()) && *d <= last)
        .map(|(d, _)| *d)
        .min();
    Some(match first {
        Some(d) => (months(bone, d), EVENT),
        None if p.dead && p.end <= last => (months(bone, p.end), COMPETING),
        None => (months(bone, last), CENSORED),
    })
}

// ---------------------------------------------------------------------------------------------

/// (estimate, lower, upper, n) of each published row of a run.
fn published(summary: &Value) -> HashMap<String, [Option<f64>; 4]> {
    summary["published"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let f = |k: &str| r[k].as_f64();
            (
                r["key"].as_str().unwrap().to_string(),
                [f("estimate"), f("lower"), f("upper"), f("n")],
            )
        })
        .collect()
}

fn close(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => (a - b).abs() <= TOL,
        (None, None) => true,
        _ => false,
    }
}

/// The test's own numbers for every compared key: (estimate, lower, upper, n).
fn independent(cohort: &[Patient], censor_shift_days: i64) -> Vec<(String, [Option<f64>; 4])> {
    let mut out = Vec::new();
    let mut cif = |key: &str, sample: Vec<(f64, u8)>, horizon: f64| {
        let n = sample.len() as f64;
        let (lo, hi, est) = match aalen_johansen(sample, horizon) {
            Some((f, var)) => {
                let (lo, hi) = cif_interval(f, var);
                (Some(lo), Some(hi), Some(f))
            }
            None => (None, None, None),
        };
        out.push((key.to_string(), [est, lo, hi, Some(n)]));
    };
    cif("F1.cumulative_incidence", f1_sample(cohort), 24.0);

    let untreated_all = |types: &[&str], nsclc: bool| -> Vec<(f64, u8)> {
        cohort
            .iter()
            .filter(|p| !nsclc || is_nsclc(p))
            .filter_map(|p| untreated(p, types, censor_shift_days))
            .collect()
    };
    cif("F8.first_sre", untreated_all(&SRE_TYPES, false), 21.0);
    cif("F9.any_sre", untreated_all(&SRE_TYPES, true), 21.0);
    for ty in SRE_TYPES {
        cif(&format!("F9.{ty}"), untreated_all(&[ty], true), 21.0);
    }

    let f7 = f7_sample(cohort);
    for (key, x) in [
        ("F7.median_kras_wild_type", 1.0),
        ("F7.median_kras_mutant", 0.0),
    ] {
        let group: Vec<(f64, bool)> = f7
            .iter()
            .filter(|r| r.3 == x)
            .map(|r| (r.1 as f64 / MONTH, r.2))
            .collect();
        let n = group.len() as f64;
        let (m, lo, hi) = km_median_loglog(group);
        out.push((key.to_string(), [m, lo, hi, Some(n)]));
    }
    let (hr, lo, hi) = cox_efron(f7.iter().map(|r| (r.1, r.2, r.3)).collect());
    out.push((
        "F7.hazard_ratio".to_string(),
        [Some(hr), Some(lo), Some(hi), Some(f7.len() as f64)],
    ));
    out
}

/// Differences between the test's numbers and the run's, one line each.
fn disagreements(
    ours: &[(String, [Option<f64>; 4])],
    run: &HashMap<String, [Option<f64>; 4]>,
) -> Vec<String> {
    let names = ["estimate", "lower", "upper", "n"];
    let mut out = Vec::new();
    for (key, values) in ours {
        let theirs = run
            .get(key)
            .unwrap_or_else(|| panic!("{key} not published"));
        for c in 0..4 {
            if !close(values[c], theirs[c]) {
                out.push(format!(
                    "{key}.{}: test {:?}, run {:?}",
                    names[c], values[c], theirs[c]
                ));
            }
        }
    }
    out
}

/// Puts the plan's edge cases into a synthetic cohort, each on a patient picked from the data
/// (deterministically), so that the comparison covers them whatever the generator draws:
/// bone metastases exactly 30 and 31 days after the diagnosis and before it; an SRE on the
/// day of death; an SRE on the day the agent starts; an agent started on the day of death; a
/// revealing SRE; an unrecorded EGFR in the KRAS-mutant group and an unrecorded KRAS.
fn add_edge_cases(dir: &Path) {
    let mut reader = csv::Reader::from_path(dir.join("patients.csv")).unwrap();
    let header = reader.headers().unwrap().clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let mut rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    let mut events: Vec<Vec<String>> = csv::Reader::from_path(dir.join("events.csv"))
        .unwrap()
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    let (id, diag, stage, hist, kras, egfr, bone, agent, start, status, death, last) = (
        col("patient_id"),
        col("diagnosis_date"),
        col("stage"),
        col("histology"),
        col("kras"),
        col("egfr"),
        col("bone_mets_date"),
        col("bone_agent"),
        col("bone_agent_start"),
        col("vital_status"),
        col("death_date"),
        col("last_contact_date"),
    );
    let with_events: std::collections::HashSet<String> =
        events.iter().map(|e| e[0].clone()).collect();
    let mut used = std::collections::HashSet::new();
    // The first unused patient meeting `rule`.
    let mut pick = |rows: &[Vec<String>], rule: &dyn Fn(&[String]) -> bool| -> usize {
        let i = (0..rows.len())
            .find(|&i| !used.contains(&i) && rule(&rows[i]))
            .expect("the synthetic cohort has a patient for each edge case");
        used.insert(i);
        i
    };
    let d = |s: &str| date(s);
    let shift = |s: &str, k: i64| (d(s).unwrap() + chrono::Duration::days(k)).to_string();
    let no_events = |r: &[String]| !with_events.contains(&r[id]);
    let dead = |r: &[String]| r[status] == "dead" && r[death] == r[last];
    let metachronous = |r: &[String]| {
        ["iii", "iv", "iva", "ivb"].contains(&r[stage].as_str())
            && d(&r[bone]).is_some_and(|b| days(d(&r[diag]).unwrap(), b) > 60)
    };
    let treated_later = |r: &[String]| {
        !["", "none"].contains(&r[agent].as_str())
            && matches!((d(&r[bone]), d(&r[start])), (Some(b), Some(s)) if s > b)
    };
    // Synchronous bone disease: the window's last day, the day after it, before the diagnosis.
    for k in [30, 31, -10] {
        let i = pick(&rows, &metachronous);
        rows[i][bone] = shift(&rows[i][diag], k);
    }
    // An SRE on the day of death (counts as the SRE), untreated patient.
    let i = pick(&rows, &|r| {
        r[agent] == "none" && !r[bone].is_empty() && dead(r) && no_events(r)
    });
    events.push(vec![
        rows[i][id].clone(),
        rows[i][death].clone(),
        "radiotherapy_bone".into(),
        String::new(),
    ]);
    // An SRE on the day the agent starts (counts untreated).
    let i = pick(&rows, &|r| treated_later(r) && no_events(r));
    events.push(vec![
        rows[i][id].clone(),
        rows[i][start].clone(),
        "pathologic_fracture".into(),
        "femur".into(),
    ]);
    // Death on the day the agent starts (death counts).
    let i = pick(&rows, &|r| {
        treated_later(r) && dead(r) && no_events(r) && r[start] < r[death]
    });
    rows[i][start] = rows[i][death].clone();
    // A revealing SRE, dated between the diagnosis and the bone diagnosis.
    let i = pick(&rows, &|r| {
        no_events(r) && d(&r[bone]).is_some_and(|b| days(d(&r[diag]).unwrap(), b) >= 10)
    });
    events.push(vec![
        rows[i][id].clone(),
        shift(&rows[i][diag], 1),
        "spinal_cord_compression".into(),
        "spine_thoracic".into(),
    ]);
    // KRAS groups: an unrecorded EGFR stays in the mutant group; an unrecorded KRAS is in
    // neither.
    let f7 = |r: &[String]| r[hist] == "adenocarcinoma" && !r[bone].is_empty();
    let i = pick(&rows, &|r| {
        f7(r) && r[kras] == "g12c" && r[egfr] == "wild_type"
    });
    rows[i][egfr] = String::new();
    let i = pick(&rows, &|r| f7(r) && r[kras] == "wild_type");
    rows[i][kras] = String::new();

    let mut writer = csv::Writer::from_path(dir.join("patients.csv")).unwrap();
    writer.write_record(&header).unwrap();
    for r in &rows {
        writer.write_record(r).unwrap();
    }
    writer.flush().unwrap();
    let mut writer = csv::Writer::from_path(dir.join("events.csv")).unwrap();
    writer
        .write_record(["patient_id", "event_date", "event_type", "site"])
        .unwrap();
    for e in &events {
        writer.write_record(e).unwrap();
    }
    writer.flush().unwrap();
}

#[test]
fn f1_f7_f8_f9_equal_an_independent_minimal_computation() {
    let tmp = tempfile::tempdir().unwrap();
    let cohort_dir = tmp.path().join("cohort");
    let out = tmp.path().join("out");
    let bin = env!("CARGO_BIN_EXE_bonemet");
    let synth = std::process::Command::new(bin)
        .args(["synth", "--patients", "3500", "--seed", "11", "--out"])
        .arg(&cohort_dir)
        .output()
        .unwrap();
    assert!(
        synth.status.success(),
        "{}",
        String::from_utf8_lossy(&synth.stderr)
    );
    add_edge_cases(&cohort_dir);
    let run = std::process::Command::new(bin)
        .arg("run")
        .arg(&cohort_dir)
        .arg("--out")
        .arg(&out)
        .args(["--min-cell", "0"])
        .env("SOURCE_DATE_EPOCH", EPOCH)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let summary: Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    // The test reads the CSV files as they are: every row must have been analysed.
    for table in summary["cohort"]["tables"].as_array().unwrap() {
        assert_eq!(table["rejected"], 0, "{table}");
    }
    let run_values = published(&summary);
    let cohort = read_cohort(&cohort_dir);

    let ours = independent(&cohort, 0);
    let diffs = disagreements(&ours, &run_values);
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
    // The comparison is not vacuous: every number is there, and the estimates are not trivial.
    for (key, values) in &ours {
        assert!(values.iter().all(Option::is_some), "{key}: {values:?}");
        assert!(values[0].unwrap() > 0.0, "{key}");
    }

    // Sensitivity of the comparison: censoring one day after the agent's start (an SRE or a
    // death on day start + 1 counted untreated) changes F8 and F9, and the check notices.
    let shifted = independent(&cohort, 1);
    let diffs = disagreements(&shifted, &run_values);
    assert!(
        diffs.iter().any(|d| d.starts_with("F8.first_sre.estimate")),
        "{diffs:?}"
    );
}

/// The minimal estimators on small hand examples, against R 4 (survival, cmprsk):
///
/// ```r
/// t <- c(1, 2, 2, 3, 4, 5, 6, 6, 7, 8, 9)
/// timepoints(cuminc(t, c(1, 2, 0, 1, 2, 1, 2, 0, 1, 0, 2)), c(6.5, 7))
/// quantile(survfit(Surv(1:4, rep(1, 4)) ~ 1, conf.type = "log-log"), 0.5)
/// quantile(survfit(Surv(t, c(1, 1, 0, 1, 1, 1, 1, 0, 1, 0, 1)) ~ 1, conf.type = "log-log"), 0.5)
/// d <- data.frame(t = c(t, 3), e = c(1, 1, 0, 1, 1, 1, 1, 0, 1, 0, 1, 1),
///                 x = c(0, 1, 0, 1, 0, 1, 0, 1, 1, 0, 0, 1))
/// m <- coxph(Surv(t, e) ~ x, d, ties = "efron"); exp(c(coef(m), confint(m)))
/// ```
#[test]
fn the_minimal_estimators_match_r_on_hand_examples() {
    let t = [1.0, 2.0, 2.0, 3.0, 4.0, 5.0, 6.0, 6.0, 7.0, 8.0, 9.0];
    let cause = [1, 2, 0, 1, 2, 1, 2, 0, 1, 0, 2];
    let sample = |swap: bool| -> Vec<(f64, u8)> {
        t.iter()
            .zip(cause)
            .map(|(&t, c)| (t, if swap && c > 0 { 3 - c } else { c }))
            .collect()
    };
    let near = |a: f64, b: f64| (a - b).abs() < 1e-12;
    // cmprsk reads the variance at the last time of the cause of interest: the competing
    // death at 6 does not move cause 1's variance at 6.5, and moves cause 2's.
    let (f, v) = aalen_johansen(sample(false), 6.5).unwrap();
    assert!(
        near(f, 0.295454545454545) && near(v, 0.0239153156097150),
        "{f} {v}"
    );
    let (f, v) = aalen_johansen(sample(false), 7.0).unwrap();
    assert!(
        near(f, 0.431818181818182) && near(v, 0.0362759699265381),
        "{f} {v}"
    );
    let (f, v) = aalen_johansen(sample(true), 6.5).unwrap();
    assert!(
        near(f, 0.295454545454545) && near(v, 0.0245173353432282),
        "{f} {v}"
    );
    assert!(aalen_johansen(sample(false), 9.5).is_none());

    // S = .5 exactly from 2 to 3: the median is the midpoint; the upper limit never reaches .5.
    let all_die: Vec<(f64, bool)> = (1..=4).map(|t| (f64::from(t), true)).collect();
    assert_eq!(km_median_loglog(all_die), (Some(2.5), Some(1.0), None));
    let died = [1, 1, 0, 1, 1, 1, 1, 0, 1, 0, 1];
    let km: Vec<(f64, bool)> = t.iter().zip(died).map(|(&t, d)| (t, d == 1)).collect();
    assert_eq!(km_median_loglog(km), (Some(6.0), Some(2.0), None));

    let x = [0, 1, 0, 1, 0, 1, 0, 1, 1, 0, 0, 1];
    let cox: Vec<(i64, bool, f64)> = t
        .iter()
        .chain([3.0].iter())
        .zip(died.iter().chain([1].iter()))
        .zip(x)
        .map(|((&t, &d), x)| (t as i64, d == 1, f64::from(x)))
        .collect();
    let (hr, lo, hi) = cox_efron(cox);
    assert!((hr - 1.902096232001214).abs() < 1e-9, "{hr}");
    assert!((lo - 0.447820905927711).abs() < 1e-9, "{lo}");
    assert!((hi - 8.079055774089387).abs() < 1e-9, "{hi}");
}
