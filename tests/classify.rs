//! `classify`: properties over random cohorts, thread-count independence, the demo snapshot,
//! settings in the outputs.

use bonemet::classify::{classify_cohort, Threads};
use bonemet::study::StudySettings;

use crate::random_cohort::{random_cohort, shard};
use crate::util::*;

#[test]
fn parallel_equals_sequential_and_shards_concatenate_to_the_whole() {
    let settings = StudySettings {
        sre_merge_window_days: 21,
        ..StudySettings::default()
    };
    for seed in [1, 2, 3] {
        let cohort = random_cohort(3000, seed);
        let sequential = classify_cohort(&cohort, &settings, Threads::Exactly(1)).unwrap();
        let parallel = classify_cohort(&cohort, &settings, Threads::Exactly(2)).unwrap();
        let global = classify_cohort(&cohort, &settings, Threads::All).unwrap();
        assert_eq!(sequential, parallel);
        assert_eq!(sequential, global);
        let mut by_shards = Vec::new();
        for range in [0..1000, 1000..1001, 1001..2500, 2500..3000] {
            by_shards
                .extend(classify_cohort(&shard(&cohort, range), &settings, Threads::All).unwrap());
        }
        assert_eq!(sequential, by_shards, "seed {seed}");
    }
}

#[test]
fn random_cohorts_reach_every_outcome_and_stay_consistent() {
    let settings = StudySettings::default();
    let cohort = random_cohort(5000, 7);
    let classified = classify_cohort(&cohort, &settings, Threads::All).unwrap();
    let mut crises = 0;
    for (p, c) in classified.iter().enumerate() {
        // A crisis date exists exactly when the worst value is above the threshold.
        assert_eq!(
            c.calcium.first_crisis_date.is_some(),
            c.calcium
                .worst
                .is_some_and(|w| w > settings.crisis_threshold_mmol_l),
        );
        crises += usize::from(c.calcium.first_crisis_date.is_some());
        // The baseline never exceeds the worst value over follow-up.
        if let (Ok(b), Some(w)) = (c.baseline.corrected_calcium, c.calcium.worst) {
            assert!(b <= w);
        }
        // The second SRE never precedes the first.
        if let (Some((first, _)), Some(second)) = (c.sre.first, c.sre.second_date) {
            assert!(first <= second);
        }
        assert_eq!(c.sre.any(), c.sre.first.is_some());
        // M0 is never oligometastatic, and never has a pattern with metastases.
        if c.baseline.m_category == bonemet::classify::MCategory::M0 {
            assert_eq!(c.baseline.oligometastatic, Ok(false));
            assert_eq!(
                c.baseline.metastatic_pattern,
                bonemet::classify::MetastaticPattern::None
            );
        }
        assert!(c.baseline.risk_factor_count.map_or(true, |n| n <= 4));
        let _ = p;
    }
    assert!(crises > 0, "some crises are generated");
}

#[test]
fn threads_do_not_change_a_byte_and_settings_are_recorded() {
    let demo = repo("data/demo");
    let dir = tempfile::tempdir().unwrap();
    let mut outputs = Vec::new();
    for (threads, format) in [
        ("1", "parquet"),
        ("2", "parquet"),
        ("1", "csv"),
        ("2", "csv"),
    ] {
        let out = dir.path().join(format!("t{threads}-{format}"));
        let result = bonemet(&[
            "classify",
            demo.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--threads",
            threads,
            "--format",
            format,
        ]);
        assert_eq!(
            result.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&result.stderr)
        );
        let bytes = std::fs::read(out.join(format!("classified.{format}"))).unwrap();
        let run = std::fs::read(out.join("run.json")).unwrap();
        outputs.push((format, bytes, run));
    }
    assert_eq!(
        outputs[0].1, outputs[1].1,
        "parquet identical for 1 and 2 threads"
    );
    assert_eq!(
        outputs[2].1, outputs[3].1,
        "csv identical for 1 and 2 threads"
    );
    assert_eq!(outputs[0].2, outputs[1].2, "run.json identical");
    let run: serde_json::Value = serde_json::from_slice(&outputs[0].2).unwrap();
    assert_eq!(run["command"], "classify");
    assert_eq!(
        run["settings"]["study"]["settings"]["corrected_calcium_formula"],
        "review"
    );
    assert_eq!(
        run["settings"]["study"]["settings"]["crisis_threshold_mmol_l"],
        3.5
    );
    assert_eq!(run["settings"]["output_format"], "parquet");
    // The Parquet file carries the settings too.
    let file = std::fs::File::open(dir.path().join("t1-parquet/classified.parquet")).unwrap();
    use polars::prelude::SerReader;
    let mut reader = polars::prelude::ParquetReader::new(file);
    let metadata = reader.get_metadata().unwrap();
    let kv = format!("{:?}", metadata.key_value_metadata());
    assert!(
        kv.contains("bonemet.study_settings") && kv.contains("sre_merge_window_days"),
        "{kv}"
    );
}

fn check_classify_snapshot(cohort: std::path::PathBuf, snapshot: &str) {
    let dir = tempfile::tempdir().unwrap();
    let out = bonemet(&[
        "classify",
        cohort.to_str().unwrap(),
        "--out",
        dir.path().to_str().unwrap(),
        "--format",
        "csv",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let actual = std::fs::read_to_string(dir.path().join("classified.csv")).unwrap();
    crate::util::assert_snapshot(&actual, snapshot);
}

/// The hand-written cohort's classification, reviewed row by row against its inputs.
#[test]
fn the_hand_cohort_classification_matches_its_reviewed_snapshot() {
    check_classify_snapshot(data("hand_cohort"), "snapshots/classify_hand_cohort.csv");
}

/// The demo cohort's classification (5,000 synthetic patients).
#[test]
fn the_demo_classification_matches_its_snapshot() {
    check_classify_snapshot(repo("data/demo"), "snapshots/classify_demo.csv");
}

#[test]
fn a_bad_study_file_stops_the_run_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let study = write(dir.path(), "study.toml", "crisis_treshold_mmol_l = 3.4\n");
    let demo = repo("data/demo");
    let out_dir = dir.path().join("out");
    let out = bonemet(&[
        "classify",
        demo.to_str().unwrap(),
        "--study",
        study.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("unknown field `crisis_treshold_mmol_l`"),
        "{err}"
    );
    assert!(!out_dir.exists());
}

#[test]
fn study_settings_change_the_classification() {
    let dir = tempfile::tempdir().unwrap();
    let study = write(
        dir.path(),
        "study.toml",
        "corrected_calcium_formula = \"payne\"\nhypercalcaemia_is_sre = true\n",
    );
    let demo = data("hand_cohort");
    let out = bonemet(&[
        "classify",
        demo.to_str().unwrap(),
        "--study",
        study.to_str().unwrap(),
        "--out",
        dir.path().to_str().unwrap(),
        "--format",
        "csv",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let text = std::fs::read_to_string(dir.path().join("classified.csv")).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().unwrap().clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    // D006: calcium 3.62, albumin 28 g/L: Payne 3.62 + 0.02 × 12 = 3.86; its hypercalcaemia
    // event on 2021-04-21 now counts as an SRE (2 SREs instead of 1).
    let d006 = rows.iter().find(|r| &r[0] == "D006").unwrap();
    assert_eq!(&d006[col("corrected_calcium_mmol_l")], "3.86");
    assert_eq!(&d006[col("sre_count")], "2");
    assert_eq!(&d006[col("first_sre_type")], "hypercalcemia");
}
