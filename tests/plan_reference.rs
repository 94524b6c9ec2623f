//! `bonemet run` on the plan fixture (`tests/data/plan_cohort/`, every edge convention of
//! docs/analysis-plan.md present) against R: `tests/reference/plan_cohort.R` computes, from the
//! same CSVs and the written conventions alone, the counting-process Cox model with the
//! time-varying agent (survival::tmerge + coxph), the cumulative incidences at horizons with
//! revealing SREs at 0 and censoring at the agent's start (cmprsk::cuminc + timepoints), the
//! landmark analysis, A3's bone-metastasis incidence and A9's split rates (poisson.test).
//! Values in `tests/data/reference/plan_cohort.json`.

use serde_json::Value;

use crate::util::repo;

/// Agreement with R, as everywhere in the statistics tests.
const TOL: f64 = 1e-6;

fn close(got: f64, want: f64, what: &str) {
    assert!(
        (got - want).abs() <= TOL * want.abs().max(1.0),
        "{what}: bonemet {got}, R {want}"
    );
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("a number: {v}"))
}

/// The run's summary and R's values.
fn run_and_reference() -> (Value, Value) {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("plan");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_bonemet"))
        .args([
            "run",
            repo("tests/data/plan_cohort").to_str().unwrap(),
            "--out",
        ])
        .arg(&out)
        .args(["--min-cell", "0"])
        .env("SOURCE_DATE_EPOCH", "1795996800")
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let summary =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    let reference = serde_json::from_slice(
        &std::fs::read(repo("tests/data/reference/plan_cohort.json")).unwrap(),
    )
    .unwrap();
    (summary, reference)
}

fn find<'a>(list: &'a Value, id: &str) -> &'a Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == id)
        .unwrap_or_else(|| panic!("{id} in the summary"))
}

/// A Cox term's coefficient and standard error, from its hazard ratio and Wald interval.
fn coef_se(term: &Value) -> (f64, f64) {
    let r = &term["ratio"];
    let z = 1.959963984540054;
    (
        f(&r["estimate"]).ln(),
        (f(&r["upper"]).ln() - f(&r["lower"]).ln()) / (2.0 * z),
    )
}

/// The log(−log) interval of a cumulative incidence from its estimate and variance.
fn cif_interval(e: f64, v: f64) -> (f64, f64) {
    let z = 1.959963984540054;
    let scale = z * v.sqrt() / (e * e.ln()).abs();
    (e.powf(scale.exp()), e.powf((-scale).exp()))
}

/// Each group's cumulative incidence at R's times, with the interval R's variance gives.
fn same_curve(group: &Value, times: &Value, est: &Value, var: &Value, what: &str) {
    for (k, t) in times.as_array().unwrap().iter().enumerate() {
        let at = group["at_months"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["months"].as_f64() == t.as_f64())
            .unwrap_or_else(|| panic!("{what} at {t}"));
        if est[k].is_null() {
            assert!(
                at["survival"]["estimate"].is_null(),
                "{what} at {t}: R has none"
            );
            continue;
        }
        let (e, v) = (f(&est[k]), f(&var[k]));
        close(f(&at["survival"]["estimate"]), e, &format!("{what} at {t}"));
        if e > 0.0 && e < 1.0 && v > 0.0 {
            let (lo, hi) = cif_interval(e, v);
            close(
                f(&at["survival"]["lower"]),
                lo,
                &format!("{what} lower at {t}"),
            );
            close(
                f(&at["survival"]["upper"]),
                hi,
                &format!("{what} upper at {t}"),
            );
        }
    }
}

#[test]
fn the_time_varying_agent_model_equals_coxph_on_tmerge_rows() {
    let (s, r) = run_and_reference();
    let r = &r["a7_time_varying"];
    let m = find(&s["models"], "first_sre_cause_specific");
    assert_eq!(m["n"], r["population"]["patients"]);
    assert_eq!(m["intervals"], r["cox"]["n"]);
    assert_eq!(m["events"], r["cox"]["events"]);
    for (k, term) in m["terms"].as_array().unwrap().iter().enumerate() {
        let (coef, se) = coef_se(term);
        close(coef, f(&r["cox"]["coef"][k]), "coef");
        close(se, f(&r["cox"]["se"][k]), "se");
    }
}

#[test]
fn the_untreated_risk_equals_cuminc_censored_at_the_agent() {
    let (s, r) = run_and_reference();
    let a8 = &r["a8"];
    for (id, part) in [
        ("sre_untreated", &a8["all"]),
        ("sre_untreated_nsclc", &a8["nsclc"]),
    ] {
        let c = find(&s["cumulative_incidence"], id);
        let first = &part["first_sre"];
        assert_eq!(c["groups"][0]["n"], first["n"], "{id}");
        assert_eq!(c["groups"][0]["events"], first["events"], "{id}");
        assert_eq!(c["groups"][0]["competing"], first["deaths"], "{id}");
        assert_eq!(c["events_at_origin"], first["revealing"], "{id}");
        same_curve(
            &c["groups"][0],
            &first["times"],
            &first["event"]["est"],
            &first["event"]["var"],
            id,
        );
    }
    for (id, key) in [
        (
            "sre_untreated_nsclc_pathologic_fracture",
            "pathologic_fracture",
        ),
        (
            "sre_untreated_nsclc_radiotherapy_to_bone",
            "radiotherapy_bone",
        ),
        ("sre_untreated_nsclc_surgery_to_bone", "bone_surgery"),
        (
            "sre_untreated_nsclc_spinal_cord_compression",
            "spinal_cord_compression",
        ),
        (
            "sre_untreated_nsclc_vertebral_fracture",
            "pathologic_fracture_vertebral",
        ),
        (
            "sre_untreated_nsclc_non_vertebral_fracture",
            "pathologic_fracture_non_vertebral",
        ),
    ] {
        let c = find(&s["cumulative_incidence"], id);
        let t = &a8["nsclc"]["types"][key];
        assert_eq!(c["groups"][0]["events"], t["events"], "{id}");
        same_curve(
            &c["groups"][0],
            &t["times"],
            &t["event"]["est"],
            &t["event"]["var"],
            id,
        );
    }
    // The analysis declares its exclusions as R counted them.
    let declared = find(&s["analyses"], "A8");
    assert_eq!(declared["n"], a8["all"]["n"]);
}

#[test]
fn the_landmark_analysis_equals_r() {
    let (s, r) = run_and_reference();
    let r = &r["a7_landmark"];
    let c = find(&s["cumulative_incidence"], "first_sre_landmark");
    for (k, key) in [(0, "treated"), (1, "untreated")] {
        let g = &c["groups"][k];
        assert_eq!(g["n"], r[key]["n"], "{key}");
        assert_eq!(g["events"], r[key]["sre"], "{key}");
        same_curve(g, &r["times"], &r[key]["sre_est"], &r[key]["sre_var"], key);
    }
    close(
        f(&c["gray_test"]["chisq"]),
        f(&r["gray"]["sre"]["stat"]),
        "Gray",
    );
    let m = find(&s["models"], "first_sre_landmark_cause_specific");
    let (coef, se) = coef_se(&m["terms"][0]);
    close(coef, f(&r["cox"]["coef"]), "landmark coef");
    close(se, f(&r["cox"]["se"]), "landmark se");
}

#[test]
fn bone_metastasis_incidence_and_split_rates_equal_r() {
    let (s, r) = run_and_reference();
    for (id, key) in [
        ("bone_metachronous_advanced", "metachronous_risk"),
        ("bone_all_advanced", "all_advanced"),
    ] {
        let c = find(&s["cumulative_incidence"], id);
        let part = &r["a3"][key];
        assert_eq!(c["groups"][0]["n"], part["n"], "{id}");
        same_curve(
            &c["groups"][0],
            &part["times"],
            &part["bone"]["est"],
            &part["bone"]["var"],
            id,
        );
    }
    let rates = find(&s["rates"], "sre_rate_by_agent");
    for (k, key) in [(0, "treated"), (1, "untreated")] {
        let g = &rates["groups"][k];
        assert_eq!(g["events"], r["a9"][key]["events"], "{key}");
        close(f(&g["person_years"]), f(&r["a9"][key]["person_years"]), key);
        close(f(&g["rate"]["lower"]), f(&r["a9"][key]["lower"]), key);
        close(f(&g["rate"]["upper"]), f(&r["a9"][key]["upper"]), key);
    }
    let rr = &r["a9"]["rate_ratio"];
    close(
        f(&rates["rate_ratio"]["estimate"]),
        f(&rr["estimate"]),
        "rate ratio",
    );
    close(
        f(&rates["rate_ratio"]["lower"]),
        f(&rr["lower"]),
        "rate ratio lower",
    );
    close(
        f(&rates["rate_ratio"]["upper"]),
        f(&rr["upper"]),
        "rate ratio upper",
    );
}

/// Table 1 (A1) against `tests/reference/table_one.R`: the cells as tableone prints them and
/// the standardised mean differences.
#[test]
fn table_one_equals_r() {
    let (s, _) = run_and_reference();
    let r: Value = serde_json::from_slice(
        &std::fs::read(repo("tests/data/reference/table_one.json")).unwrap(),
    )
    .unwrap();
    let t = &s["table_one"];
    assert_eq!(t["n"], r["n"]);
    let row = |variable: &str, level: &str| {
        t["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["variable"] == variable && x["level"] == level)
            .unwrap_or_else(|| panic!("{variable} {level}"))
            .clone()
    };
    for (variable, level, key) in [
        ("age at diagnosis, years", "median (IQR)", "age"),
        ("tumour size, mm", "median (IQR)", "tumour_size"),
        ("sex", "m", "sex_m"),
    ] {
        let x = row(variable, level);
        assert_eq!(x["cells"], r[key]["cells"], "{variable}");
        close(f(&x["smd"]), f(&r[key]["smd"]), variable);
    }
    for k in 0..5 {
        let x = row("ECOG", &k.to_string());
        assert_eq!(x["cells"], r["ecog"]["cells"][k], "ECOG {k}");
    }
    close(f(&row("ECOG", "0")["smd"]), f(&r["ecog"]["smd"]), "ECOG");
    close(f(&row("stage", "i")["smd"]), f(&r["stage"]["smd"]), "stage");
}
