//! The command line: help, exit codes, what is written and when.

use crate::util::*;

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}
fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn help_explains_every_flag_with_examples() {
    let out = bonemet(&["validate", "--help"]);
    assert!(out.status.success());
    let help = stdout(&out);
    for flag in [
        "--patients",
        "--events",
        "--labs",
        "--mapping",
        "--out",
        "--max-rejected-share",
        "Examples:",
    ] {
        assert!(help.contains(flag), "help lacks {flag}:\n{help}");
    }
    let top = stdout(&bonemet(&["--help"]));
    assert!(top.contains("Exit codes: 0 success; 2"), "{top}");
}

#[test]
fn validate_the_demo_cohort_writes_rejected_and_run_record() {
    let out_dir = tempfile::tempdir().unwrap();
    let out_path = out_dir.path().join("v");
    let demo = repo("data/demo");
    let out = bonemet(&[
        "validate",
        demo.to_str().unwrap(),
        "--out",
        out_path.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let summary = stdout(&out);
    assert!(
        summary.contains("patients") && summary.contains("quality gate: passed"),
        "{summary}"
    );
    let rejected = std::fs::read_to_string(out_path.join("rejected.csv")).unwrap();
    assert_eq!(
        rejected,
        "table,line,patient_id,column,reason,message,raw\n"
    );
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out_path.join("run.json")).unwrap()).unwrap();
    assert_eq!(run["command"], "validate");
    assert_eq!(run["bonemet_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(run["inputs"][0]["table"], "patients");
    assert_eq!(run["inputs"][0]["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(run["settings"]["max_rejected_share"], 0.05);
    for table in run["tables"].as_array().unwrap() {
        let read = table["rows_read"].as_u64().unwrap();
        let accepted = table["rows_accepted"].as_u64().unwrap();
        let rejected = table["rows_rejected"].as_u64().unwrap();
        assert_eq!(read, accepted + rejected);
    }
}

#[test]
fn the_sha256_of_each_input_is_that_of_its_bytes() {
    let out_dir = tempfile::tempdir().unwrap();
    let demo = data("hand_cohort");
    let out = bonemet(&[
        "validate",
        demo.to_str().unwrap(),
        "--out",
        out_dir.path().to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.path().join("run.json")).unwrap())
            .unwrap();
    // `sha256sum tests/data/hand_cohort/events.csv`, computed when the file was written.
    assert_eq!(
        run["inputs"][1]["sha256"],
        "9f860f123825b3926ddd02f4b2cb89d53a2d27c8de119ea2ea40c5827da19775"
    );
    assert_eq!(run["inputs"][1]["size_bytes"], 734);
}

#[test]
fn too_many_rejected_rows_exit_3_after_writing_outputs() {
    let out_dir = tempfile::tempdir().unwrap();
    let fixture = data("fixture");
    let out = bonemet(&[
        "validate",
        fixture.to_str().unwrap(),
        "--out",
        out_dir.path().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stdout(&out).contains("quality gate: FAILED"));
    let rejected = std::fs::read_to_string(out_dir.path().join("rejected.csv")).unwrap();
    let mut reader = csv::Reader::from_reader(rejected.as_bytes());
    assert_eq!(
        reader.records().count(),
        69,
        "one row per rule of expected_rejections.csv"
    );
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.path().join("run.json")).unwrap())
            .unwrap();
    assert_eq!(run["quality_gate"]["passed"], false);
    assert_eq!(
        run["tables"][0]["rejections_by_reason"]["duplicate_patient_id"],
        4
    );
    // A cap of 1 passes the same cohort.
    let out = bonemet(&[
        "validate",
        fixture.to_str().unwrap(),
        "--max-rejected-share",
        "1",
    ]);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn a_run_that_cannot_happen_exits_2_and_writes_nothing() {
    let out_dir = tempfile::tempdir().unwrap();
    let target = out_dir.path().join("never");
    let cohort = tempfile::tempdir().unwrap();
    write(cohort.path(), "patients.csv", "patient_id,sex\nA,m\n");
    let out = bonemet(&[
        "validate",
        cohort.path().to_str().unwrap(),
        "--out",
        target.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("patients.csv, line 1: missing required column 'age_at_diagnosis'"),
        "{err}"
    );
    assert!(
        !target.exists(),
        "nothing is written when the run cannot happen"
    );
    // Bad arguments are exit 2 too.
    assert_eq!(bonemet(&["validate"]).status.code(), Some(2));
    let demo = repo("data/demo");
    let out = bonemet(&[
        "validate",
        demo.to_str().unwrap(),
        "--max-rejected-share",
        "5",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("expected a number from 0 to 1"));
    let out = bonemet(&["validate", "/no/such/cohort"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("/no/such/cohort: not a directory"));
}

#[test]
fn tables_can_be_named_one_by_one() {
    let fixture = data("fixture");
    let parquet = data("fixture_parquet");
    let out = bonemet(&[
        "validate",
        "--patients",
        fixture.join("patients.csv").to_str().unwrap(),
        "--labs",
        parquet.join("labs.parquet").to_str().unwrap(),
        "--max-rejected-share",
        "1",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let summary = stdout(&out);
    assert!(
        summary.contains("labs.parquet") && !summary.contains("events"),
        "{summary}"
    );
}

/// `bonemet synth` into a closed pipe (`| head -c0`) is not a panic: its summary line goes
/// through a writer whose error is not fatal.
#[test]
fn synth_into_a_closed_pipe_does_not_panic() {
    let tmp = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_bonemet"))
        .args(["synth", "--patients", "50", "--seed", "1", "--out"])
        .arg(tmp.path().join("cohort"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
