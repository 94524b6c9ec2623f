//! `bonemet run` end to end on the demo cohort: every published figure present, deterministic
//! bytes (twice, and with 1 or 2 threads), a failed run leaves nothing, disclosure control
//! hides every small count, the HTML is self-contained, and the Markdown report is the
//! reviewed snapshot.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::util::{bonemet, repo};

/// A fixed run timestamp, so the report header is stable.
const EPOCH: &str = "1795996800"; // 2026-11-30T00:00:00Z

fn run(out: &Path, extra: &[&str]) -> std::process::Output {
    run_on(&repo("data/demo"), out, extra)
}

/// `bonemet run COHORT --out OUT EXTRA...` with the run timestamp fixed.
fn run_on(cohort: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "run",
        cohort.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    std::process::Command::new(env!("CARGO_BIN_EXE_bonemet"))
        .args(&args)
        .env("SOURCE_DATE_EPOCH", EPOCH)
        .output()
        .expect("the bonemet binary runs")
}

/// Every file under `dir` with its bytes; run.json with its stage timings masked.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let name = path.strip_prefix(dir).unwrap().display().to_string();
            let mut bytes = std::fs::read(&path).unwrap();
            if name == "run.json" {
                let mut json: Value = serde_json::from_slice(&bytes).unwrap();
                json["stage_seconds"] = Value::Null;
                bytes = serde_json::to_vec(&json).unwrap();
            }
            out.insert(name, bytes);
        }
    }
    out
}

fn summary(dir: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join("summary.json")).unwrap()).unwrap()
}

#[test]
fn the_demo_run_writes_every_output_with_every_published_figure() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("demo");
    let result = run(&out, &[]);
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    for name in [
        "report.html",
        "report.md",
        "summary.json",
        "rejected.csv",
        "run.json",
        "tables/classified.parquet",
        "tables/classified.csv",
        "tables/published.parquet",
        "tables/published.csv",
        "tables/incidence.csv",
        "tables/survival.csv",
        "tables/models.csv",
        "tables/km_curves.parquet",
        "tables/cif_curves.csv",
        "tables/rates.csv",
        "tables/table_one.csv",
        "tables/table_one.parquet",
        "tables/analyses.csv",
        "tables/cumulative_incidence.csv",
        "charts/km_F5.svg",
        "charts/km_F5.png",
        "charts/cif_first_sre_by_weight_bearing.png",
        "charts/cif_sre_untreated.png",
        "charts/km_F7.svg",
        "charts/forest_odds_ratios.svg",
        "charts/sre_types.png",
        "charts/corrected_calcium.svg",
        "charts/forest_recurrent_sres.svg",
        "charts/forest_risk_factors_bone_at_diagnosis.svg",
        "charts/forest_F5_adjusted.png",
    ] {
        assert!(out.join(name).is_file(), "{name} missing");
    }
    // Each output is one file: no chart is drawn twice under one name (and so overwritten),
    // and the report links each chart once.
    let record: Value =
        serde_json::from_slice(&std::fs::read(out.join("run.json")).unwrap()).unwrap();
    let outputs: Vec<&str> = record["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o.as_str().unwrap())
        .collect();
    let unique: std::collections::BTreeSet<&str> = outputs.iter().copied().collect();
    assert_eq!(unique.len(), outputs.len(), "{outputs:?}");
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    let links: Vec<&str> = md.lines().filter(|l| l.starts_with("![")).collect();
    let unique_links: std::collections::BTreeSet<&str> = links.iter().copied().collect();
    assert_eq!(unique_links.len(), links.len());
    let s = summary(&out);
    // The curve tables hold every step of the summary's curves.
    for (table, key) in [
        ("km_curves", "survival"),
        ("cif_curves", "cumulative_incidence"),
    ] {
        let steps: usize = s[key]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|a| a["groups"].as_array().unwrap())
            .map(|g| g["curve"].as_array().unwrap().len())
            .sum();
        let csv = std::fs::read_to_string(out.join(format!("tables/{table}.csv"))).unwrap();
        assert!(steps > 0);
        assert_eq!(csv.lines().count(), steps + 1, "{table}");
    }
    // Recurrent SREs as multiple events (Andersen–Gill, robust variance, the agent
    // time-varying): every term has a ratio with its interval, and a further SRE is more
    // likely once a patient has had one.
    let recurrent = s["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == "recurrent_sres")
        .expect("the Andersen-Gill model");
    assert_eq!(recurrent["variance"], "robust, clustered by patient");
    assert_eq!(recurrent["analysis"], "A10");
    let terms = recurrent["terms"].as_array().unwrap();
    assert_eq!(terms.len(), 3, "{recurrent}");
    assert!(terms
        .iter()
        .all(|t| t["ratio"]["lower"].as_f64().unwrap() < t["ratio"]["upper"].as_f64().unwrap()));
    assert_eq!(terms[0]["term"], "after a first SRE (vs before any)");
    assert!(terms[0]["ratio"]["lower"].as_f64().unwrap() > 1.0);
    assert_eq!(terms[1]["term"], "bone-targeted agent (time-varying)");
    // The plan: A1-A12 declared in order with their populations and exclusions.
    let analyses = s["analyses"].as_array().unwrap();
    let ids: Vec<&str> = analyses.iter().map(|a| a["id"].as_str().unwrap()).collect();
    let expected: Vec<String> = (1..=12).map(|k| format!("A{k}")).collect();
    assert_eq!(ids, expected);
    for a in analyses {
        for field in [
            "name",
            "population",
            "exposure",
            "outcome",
            "origin",
            "censoring",
            "competing",
            "estimator",
        ] {
            assert!(
                a[field].as_str().is_some_and(|t| !t.is_empty()),
                "{field} of {a}"
            );
        }
        assert!(a["n"].as_u64().unwrap() > 0, "{a}");
        assert!(a["excluded"].is_array());
    }
    // A8's untreated risk leaves out the patients treated from the bone diagnosis, by reason.
    let a8 = &analyses[7];
    assert!(a8["excluded"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["reason"]
            == "bone-targeted agent started on or before the bone-metastasis diagnosis"));
    // Every published row: a unique key, its analysis, and a verdict of the rule.
    let published = s["published"].as_array().unwrap();
    let mut keys: Vec<&str> = published
        .iter()
        .map(|r| r["key"].as_str().unwrap())
        .collect();
    for key in [
        "F1.cumulative_incidence",
        "F3.egfr",
        "F3.triple_negative",
        "F3.odds_ratio",
        "F4.kras_g12a",
        "F4.odds_ratio_crude",
        "F4.odds_ratio_adjusted",
        "F5.median_bone",
        "F5.median_no_bone",
        "F6.median_bone",
        "F6.median_no_bone",
        "F7.median_kras_wild_type",
        "F7.median_kras_mutant",
        "F7.hazard_ratio",
        "F8.first_sre",
        "F9.any_sre",
        "F9.pathologic_fracture",
        "F9.radiotherapy_bone",
        "F9.bone_surgery",
        "F9.spinal_cord_compression",
        "F10.at_diagnosis",
        "F11.hazard_ratio",
    ] {
        assert!(keys.contains(&key), "{key} missing");
    }
    keys.sort_unstable();
    let n = keys.len();
    keys.dedup();
    assert_eq!(keys.len(), n, "keys are unique");
    for k in 1..=11 {
        assert!(
            published
                .iter()
                .any(|r| r["id"] == format!("F{k}").as_str()),
            "F{k} missing"
        );
    }
    for r in published {
        let verdict = r["verdict"].as_str().unwrap();
        assert!(
            ["differs", "consistent", "imprecise", "not_estimated"].contains(&verdict),
            "{r}"
        );
        assert_eq!(verdict == "not_estimated", r["estimate"].is_null(), "{r}");
        if let (Some(p), Some(holm)) = (r["p"].as_f64(), r["p_holm"].as_f64()) {
            assert!(holm >= p && holm <= 1.0, "{r}");
            // A direction row differs when significantly against the published direction.
            let against = r["scale"] != "direction" || r["estimate"].as_f64().unwrap() < 1.0;
            assert_eq!(verdict == "differs", holm < 0.05 && against, "{r}");
        }
        if r["estimate"].is_f64() && r["scale"] != "direction" {
            assert!(r["difference"]["estimate"].is_f64(), "{r}");
            assert!(r["analysis"].as_str().unwrap().starts_with('A'), "{r}");
        }
    }
    // Shares and cumulative incidences are fractions, medians months.
    let f8 = published
        .iter()
        .find(|r| r["key"] == "F8.first_sre")
        .unwrap();
    assert!((0.0..1.0).contains(&f8["estimate"].as_f64().unwrap()));
    // Table 1 and the Methods are in the report.
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    for heading in [
        "## Table 1 (A1)",
        "## Methods",
        "## A8. Skeletal-related events without a bone-targeted agent",
    ] {
        assert!(report.contains(heading), "{heading}");
    }
    assert_eq!(s["table_one"]["columns"].as_array().unwrap().len(), 3);
    // The cohort section accounts for every row.
    assert_eq!(s["cohort"]["patients"], 5000);
    let run_json: Value =
        serde_json::from_slice(&std::fs::read(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(run_json["command"], "run");
    assert_eq!(run_json["run_timestamp"], "2026-11-30T00:00:00Z");
    assert!(run_json["inputs"][0]["sha256"].as_str().unwrap().len() == 64);
    // No patient identifier in the report or the summary.
    let ids: Vec<String> = std::fs::read_to_string(repo("data/demo/patients.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().to_string())
        .collect();
    for name in ["report.md", "report.html", "summary.json"] {
        let text = std::fs::read_to_string(out.join(name)).unwrap();
        assert!(
            !ids.iter().any(|id| text.contains(id.as_str())),
            "{name} holds a patient id"
        );
    }
}

#[test]
fn runs_are_byte_identical_twice_and_with_one_or_two_threads() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        tmp.path().join("a"),
        tmp.path().join("b"),
        tmp.path().join("c"),
    );
    assert!(run(&a, &["--threads", "1"]).status.success());
    assert!(run(&b, &["--threads", "2"]).status.success());
    assert!(run(&c, &["--threads", "2"]).status.success());
    let (fa, fb, fc) = (files(&a), files(&b), files(&c));
    assert_eq!(fa.keys().collect::<Vec<_>>(), fb.keys().collect::<Vec<_>>());
    for (name, bytes) in &fa {
        assert!(bytes == &fb[name], "{name} differs between 1 and 2 threads");
        assert!(fb[name] == fc[name], "{name} differs between two runs");
    }
}

#[test]
fn a_failed_run_leaves_no_directory_and_keeps_the_previous_one() {
    let tmp = tempfile::tempdir().unwrap();
    let cohort = tmp.path().join("cohort");
    std::fs::create_dir(&cohort).unwrap();
    std::fs::copy(repo("data/demo/patients.csv"), cohort.join("patients.csv")).unwrap();
    // An events file that is not text: the run cannot happen.
    std::fs::write(cohort.join("events.csv"), [0u8, 159, 146, 150, 0, 1, 2]).unwrap();
    let out = tmp.path().join("reports").join("nightly");
    let result = run_on(&cohort, &out, &[]);
    assert_eq!(
        result.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    assert!(!out.exists());
    // A previous report stays in place when the next run fails, and nothing else is left.
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("report.md"), "yesterday").unwrap();
    let result = run_on(&cohort, &out, &[]);
    assert_eq!(result.status.code(), Some(2));
    assert_eq!(
        std::fs::read_to_string(out.join("report.md")).unwrap(),
        "yesterday"
    );
    let left: Vec<_> = std::fs::read_dir(out.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, vec![std::ffi::OsString::from("nightly")]);
}

/// Every count field of the summary, with where it was found.
fn counts<'a>(v: &'a Value, path: String, out: &mut Vec<(String, &'a Value)>) {
    match v {
        Value::Object(map) => {
            for (k, x) in map {
                let here = format!("{path}.{k}");
                // The plan's declarations name the competing event in words.
                let declaration = path.starts_with(".analyses[") && !path.contains("excluded");
                // Table 1's cells are text ("n (%)"); a hidden one is the marker alone ("—"
                // in a count row: not shown at all; in a median row: no median).
                if k == "cells" {
                    let median = map.get("level").and_then(Value::as_str) == Some("median (IQR)");
                    out.extend(
                        x.as_array()
                            .unwrap()
                            .iter()
                            .filter(|c| {
                                c.as_str().is_some_and(|c| {
                                    c.starts_with('<') || c == "suppressed" || (c == "—" && !median)
                                })
                            })
                            .map(|c| (here.clone(), c)),
                    );
                    continue;
                }
                if !(declaration && k == "competing")
                    && [
                        "n",
                        "events",
                        "deaths",
                        "patients",
                        "missing",
                        "n_risk",
                        "count",
                        "competing",
                        "events_at_origin",
                        "intervals",
                        "n_dropped_missing",
                    ]
                    .contains(&k.as_str())
                {
                    match x {
                        // Table 1's patients per column.
                        Value::Array(items) => out.extend(
                            items
                                .iter()
                                .enumerate()
                                .map(|(i, c)| (format!("{here}[{i}]"), c)),
                        ),
                        _ => out.push((here.clone(), x)),
                    }
                }
                counts(x, here, out);
            }
        }
        Value::Array(items) => {
            for (i, x) in items.iter().enumerate() {
                counts(x, format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn disclosure_control_hides_every_count_below_the_threshold() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("strict");
    assert!(run(&out, &["--min-cell", "200"]).status.success());
    let s = summary(&out);
    let mut found = Vec::new();
    counts(&s, String::new(), &mut found);
    assert!(found.len() > 100);
    let mut hidden = 0;
    for (path, v) in &found {
        // The published rows repeat counts of the results (and sum two of them).
        let repeated = path.starts_with(".published");
        match v {
            Value::Number(n) => {
                let n = n.as_u64().unwrap();
                assert!(n == 0 || n >= 200, "{path} = {n} is below the threshold");
            }
            Value::String(s) => {
                // A small count, one withheld to protect it, or one not shown at all.
                assert!(s == "<200" || s == "suppressed" || s == "—", "{path}: {s}");
                hidden += u64::from(!repeated);
            }
            // Not shown at all; or a published row without a population.
            Value::Null => hidden += u64::from(!repeated),
            other => panic!("{path}: {other}"),
        }
    }
    assert!(hidden > 0);
    // A hidden count's proportion is not shown either.
    for a in s["incidence"].as_array().unwrap() {
        for g in a["groups"].as_array().unwrap() {
            if g["events"].is_string() || g["n"].is_string() {
                assert!(g["wilson"]["estimate"].is_null(), "{g}");
            }
        }
    }
    // The summary counts every count it hides, wherever it is shown.
    let suppressed = s["suppressed_counts"].as_u64().unwrap();
    assert!(suppressed > 0);
    assert_eq!(suppressed, hidden);
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("shown as <200"), "the report says so");
    assert!(report.contains("What disclosure control hid, and why"));
    // --min-cell 0 turns it off.
    let open = tmp.path().join("open");
    assert!(run(&open, &["--min-cell", "0"]).status.success());
    assert_eq!(summary(&open)["suppressed_counts"], 0);
}

#[test]
fn the_html_report_is_self_contained_and_well_formed() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("demo");
    assert!(run(&out, &[]).status.success());
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    for forbidden in ["<script", "src=", "http://", "https://", "@import", "url("] {
        assert!(!html.contains(forbidden), "{forbidden} in report.html");
    }
    // Links are to the page's own sections, and each leads somewhere.
    let links: Vec<&str> = html
        .split("href=\"")
        .skip(1)
        .map(|rest| &rest[..rest.find('"').unwrap()])
        .collect();
    assert!(links.len() > 20);
    for link in &links {
        let target = link.strip_prefix('#').unwrap_or_else(|| panic!("{link}"));
        assert!(
            html.contains(&format!("id=\"{target}\"")),
            "{link} leads nowhere"
        );
    }
    // Findings first, then the contents, the flow, Table 1, the published figures, the
    // analyses, the Methods, disclosure and the run's inputs.
    let order = [
        "<h1>",
        "id=\"key-findings\"",
        "<nav",
        "id=\"patient-flow\"",
        "id=\"table-1-a1\"",
        "id=\"published-figures-beside-the-cohort\"",
        "id=\"a2-bone-metastases-at-diagnosis\"",
        "id=\"a12-hypercalcaemia\"",
        "id=\"methods\"",
        "id=\"disclosure-control\"",
        "<footer",
    ];
    let at: Vec<usize> = order
        .iter()
        .map(|m| html.find(m).unwrap_or_else(|| panic!("{m} missing")))
        .collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{order:?} out of order");
    assert!(html.contains("aria-label=\"Patient flow\""));
    // The footer names each input with its SHA-256.
    let record: Value =
        serde_json::from_slice(&std::fs::read(out.join("run.json")).unwrap()).unwrap();
    for input in record["inputs"].as_array().unwrap() {
        assert!(html.contains(input["sha256"].as_str().unwrap()));
    }
    // Every element opened is closed, in order (void elements: meta and self-closed SVG).
    let mut stack: Vec<String> = Vec::new();
    let mut rest = html.as_str();
    while let Some(start) = rest.find('<') {
        let end = rest[start..].find('>').unwrap() + start;
        let tag = &rest[start + 1..end];
        rest = &rest[end + 1..];
        if tag.starts_with('!') || tag.starts_with("meta") || tag.ends_with('/') {
            continue;
        }
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        if tag.starts_with('/') {
            assert_eq!(
                stack.pop().as_deref(),
                Some(name.as_str()),
                "unbalanced </{name}>"
            );
        } else {
            stack.push(name);
        }
    }
    assert!(stack.is_empty(), "unclosed: {stack:?}");
    // The charts are inline SVG with their text; the Markdown links the PNGs beside it.
    assert!(html.matches("<svg ").count() >= 10);
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    for line in md.lines().filter(|l| l.starts_with("![")) {
        let target = line.split("](").nth(1).unwrap().trim_end_matches(')');
        assert!(out.join(target).is_file(), "{target}");
    }
    // The Markdown keeps the HTML's order of sections.
    let md_sections: Vec<&str> = md
        .lines()
        .filter_map(|l| l.strip_prefix("## "))
        .filter(|t| *t != "Contents")
        .collect();
    let html_sections: Vec<String> = html
        .split("<h2>")
        .skip(1)
        .map(|rest| rest[..rest.find("</h2>").unwrap()].replace("&amp;", "&"))
        .filter(|t| t != "Contents")
        .collect();
    assert_eq!(md_sections, html_sections);
}

#[test]
fn the_demo_report_matches_its_reviewed_snapshot() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("demo");
    assert!(run(&out, &[]).status.success());
    for (file, snapshot) in [
        ("report.md", "snapshots/run_demo_report.md"),
        ("summary.json", "snapshots/run_demo_summary.json"),
    ] {
        let actual = std::fs::read_to_string(out.join(file))
            .unwrap()
            .replace(env!("CARGO_PKG_VERSION"), "VERSION")
            // The report names its inputs by the path given: the checkout's, wherever it is.
            .replace(env!("CARGO_MANIFEST_DIR"), "REPO");
        crate::util::assert_snapshot(&actual, snapshot);
    }
}

/// End to end on a 200,000-patient synthetic cohort whose truth is known (the calibrated
/// figures of docs/synthetic-cohort.md): every published row is present and each calibrated
/// figure lies within its simultaneous interval. The interval is the report's 95% interval
/// widened to a family-wise 95% level over the figures checked (Bonferroni): with a dozen
/// one-by-one 95% intervals, some true value falls outside one in most seeds, which says
/// nothing about bias (the synth recovery test explains and measures this).
#[test]
fn a_200000_patient_run_recovers_the_calibrated_figures() {
    use statrs::distribution::{ContinuousCDF, Normal};
    let tmp = tempfile::tempdir().unwrap();
    let cohort = tmp.path().join("cohort");
    let made = bonemet(&[
        "synth",
        "--patients",
        "200000",
        "--seed",
        "20261129",
        "--format",
        "parquet",
        "--out",
        cohort.to_str().unwrap(),
    ]);
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let out = tmp.path().join("run");
    let result = run_on(&cohort, &out, &[]);
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let s = summary(&out);
    let published = s["published"].as_array().unwrap();
    // (key, the model's truth): the figures the synthetic model is calibrated to, each
    // estimated by the plan (docs/synthetic-cohort.md: F8 and F9 are the model's values,
    // measured on two 2,000,000-patient cohorts, between the published 50% and 48%).
    let truths = [
        ("F1.cumulative_incidence", 0.362),
        ("F3.egfr", 0.538),
        ("F3.triple_negative", 0.315),
        ("F3.all", 0.342),
        ("F4.kras_g12a", 0.429),
        ("F5.median_bone", 18.5),
        ("F5.median_no_bone", 17.8),
        ("F6.median_no_bone", 9.8),
        ("F6.median_bone", 6.8),
        ("F7.median_kras_wild_type", 9.7),
        ("F7.median_kras_mutant", 3.7),
        ("F8.first_sre", 0.480),
        ("F9.any_sre", 0.492),
        ("F9.pathologic_fracture", 0.222),
        ("F9.radiotherapy_bone", 0.351),
        ("F9.bone_surgery", 0.051),
        ("F9.spinal_cord_compression", 0.042),
        ("F11.hazard_ratio", 1.79),
    ];
    let normal = Normal::standard();
    let z95 = normal.inverse_cdf(0.975);
    let z = normal.inverse_cdf(1.0 - 0.05 / (2.0 * truths.len() as f64));
    for (key, truth) in truths {
        let row = published
            .iter()
            .find(|r| r["key"] == key)
            .unwrap_or_else(|| panic!("{key} missing"));
        let (e, lo, hi) = (
            row["estimate"].as_f64().unwrap(),
            row["lower"].as_f64().unwrap(),
            row["upper"].as_f64().unwrap(),
        );
        // Widen each side of the interval from 95% to the simultaneous level; ratios on the
        // log scale, where their intervals are symmetric.
        let log = row["scale"] == "ratio";
        let f = |x: f64| if log { x.ln() } else { x };
        let (lower, upper) = (
            f(e) - (f(e) - f(lo)) * z / z95,
            f(e) + (f(hi) - f(e)) * z / z95,
        );
        println!("{key}: truth {truth}, estimate {e:.4} [{lo:.4}, {hi:.4}]");
        assert!(
            lower <= f(truth) && f(truth) <= upper,
            "{key}: truth {truth} outside the simultaneous interval of {e}"
        );
    }
    for k in 1..=11 {
        assert!(published
            .iter()
            .any(|r| r["id"] == format!("F{k}").as_str()));
    }
}

/// A cohort above the rejected-share cap: the run happens, every output is written and the
/// exit code is 3 (as validate's); a tiny cohort (5 patients) is reported with every count
/// suppressed rather than failing.
#[test]
fn a_failed_quality_gate_writes_the_report_and_exits_3() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("fixture");
    let fixture = crate::util::data("fixture");
    let result = run_on(&fixture, &out, &[]);
    assert_eq!(
        result.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    for name in [
        "report.html",
        "report.md",
        "summary.json",
        "rejected.csv",
        "run.json",
    ] {
        assert!(out.join(name).is_file(), "{name}");
    }
    let s = summary(&out);
    // Five accepted patients: at the threshold, so shown; their deaths are fewer and hidden.
    assert_eq!(s["cohort"]["patients"], 5);
    assert!(s["suppressed_counts"].as_u64().unwrap() > 0);
    let run_json: Value =
        serde_json::from_slice(&std::fs::read(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(run_json["quality_gate"]["passed"], false);
}

/// Everything in `dir`'s parent but `dir` itself: what a run left beside its output.
fn beside(dir: &Path) -> Vec<String> {
    let name = dir.file_name().unwrap().to_string_lossy().to_string();
    let mut left: Vec<String> = std::fs::read_dir(dir.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| *n != name)
        .collect();
    left.sort();
    left
}

/// A directory, file or link bonemet did not write is refused with exit 2, naming DIR and
/// --force, and left untouched; --force replaces it; a previous run's output is replaced
/// without it.
#[test]
fn run_replaces_only_what_it_wrote_unless_forced() {
    let tmp = tempfile::tempdir().unwrap();
    let mine = tmp.path().join("mine");
    std::fs::create_dir(&mine).unwrap();
    std::fs::write(mine.join("notes.txt"), "keep").unwrap();
    let file = tmp.path().join("afile");
    std::fs::write(&file, "keep").unwrap();
    let target = tmp.path().join("elsewhere");
    std::fs::create_dir(&target).unwrap();
    std::fs::write(target.join("notes.txt"), "keep").unwrap();
    let link = tmp.path().join("link");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    for out in [&mine, &file, &link] {
        let result = run(out, &[]);
        assert_eq!(result.status.code(), Some(2), "{}", out.display());
        let stderr = String::from_utf8_lossy(&result.stderr);
        assert!(
            stderr.contains(&out.display().to_string()) && stderr.contains("--force"),
            "{stderr}"
        );
    }
    assert_eq!(
        std::fs::read_to_string(mine.join("notes.txt")).unwrap(),
        "keep"
    );
    assert_eq!(std::fs::read_dir(&mine).unwrap().count(), 1);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "keep");
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(std::fs::read_dir(&target).unwrap().count(), 1);
    // Nothing was left beside them: no lock, no temporary directory.
    let mut expected = vec!["afile", "elsewhere", "link", "mine"];
    expected.sort_unstable();
    let mut all: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    all.sort();
    assert_eq!(all, expected);
    // --force replaces the directory; the next run replaces its own output without it.
    assert!(run(&mine, &["--force"]).status.success());
    assert!(!mine.join("notes.txt").exists() && mine.join("report.html").is_file());
    assert!(run(&mine, &[]).status.success());
    assert!(beside(&mine).iter().all(|n| !n.starts_with(".mine")));
}

/// A second run into a DIR that a live run is writing exits 2; a lock left by a killed run
/// is taken over.
#[test]
fn a_second_run_into_the_same_directory_is_refused_while_the_first_writes() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("nightly");
    // This test process stands for a live run holding the lock.
    let lock = tmp.path().join(".nightly.lock");
    std::fs::write(&lock, std::process::id().to_string()).unwrap();
    let result = run(&out, &[]);
    assert_eq!(result.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(
        stderr.contains("is being written by another bonemet run"),
        "{stderr}"
    );
    assert!(!out.exists());
    // A lock whose process has ended is stale.
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let dead = child.id();
    child.wait().unwrap();
    std::fs::write(&lock, dead.to_string()).unwrap();
    assert!(run(&out, &[]).status.success());
    assert!(!lock.exists(), "the run releases its lock");
}

/// A run killed at any moment (SIGKILL) leaves the previous report whole, and the next run
/// cleans up what it left beside it.
#[test]
fn a_killed_run_leaves_the_previous_report_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("report");
    assert!(run(&out, &[]).status.success());
    let whole = |dir: &Path| {
        ["report.html", "report.md", "summary.json", "run.json"]
            .iter()
            .all(|f| dir.join(f).is_file())
            && serde_json::from_slice::<Value>(&std::fs::read(dir.join("summary.json")).unwrap())
                .is_ok()
    };
    for delay_ms in [50, 400, 1200, 2500, 3500, 4500] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_bonemet"))
            .args(["run", repo("data/demo").to_str().unwrap(), "--out"])
            .arg(&out)
            .env("SOURCE_DATE_EPOCH", EPOCH)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
        assert!(whole(&out), "after a kill at {delay_ms} ms");
    }
    // The next run cleans up the killed runs' lock and temporary directories.
    assert!(run(&out, &[]).status.success());
    assert!(whole(&out));
    assert_eq!(beside(&out), Vec::<String>::new());
}

#[test]
fn a_cohort_with_no_accepted_patient_says_why_its_follow_up_is_not_estimated() {
    let tmp = tempfile::tempdir().unwrap();
    let cohort = tmp.path().join("cohort");
    std::fs::create_dir(&cohort).unwrap();
    let demo = std::fs::read_to_string(repo("data/demo/patients.csv")).unwrap();
    let mut lines = demo.lines();
    let header = lines.next().unwrap();
    // One patient whose diagnosis date is not a date: rejected, so nobody is left.
    let row = lines.next().unwrap().replacen(",2", ",x2", 1);
    std::fs::write(cohort.join("patients.csv"), format!("{header}\n{row}\n")).unwrap();
    let out = tmp.path().join("out");
    let result = run_on(&cohort, &out, &["--max-rejected-share", "1"]);
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let s = summary(&out);
    assert_eq!(s["cohort"]["patients"], 0);
    assert!(s["cohort"]["follow_up_months"]["estimate"].is_null());
    let why = s["cohort"]["follow_up_not_estimated"].as_str().unwrap();
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains(&format!("not estimated: {why}")), "{why}");
}
