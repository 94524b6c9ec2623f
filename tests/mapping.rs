//! Mapping files: renames, recodes and default units, and their errors.

use bonemet::io::LoadedMapping;
use bonemet::schema::vocab::*;
use bonemet::Error;

use crate::util::*;

#[test]
fn the_seer_style_mapping_reads_a_seer_style_extract() {
    let mapping = repo("data/mappings/seer-style.toml");
    let ingested = ingest_dir(&data("seer_style"), Some(&mapping)).unwrap();
    let p = &ingested.cohort.patients;
    assert_eq!(p.patient_id, ["S1", "S2", "S3"]);
    assert_eq!(p.sex, [Sex::Male, Sex::Female, Sex::Female]);
    assert_eq!(
        p.histology,
        [
            Histology::Adenocarcinoma,
            Histology::Squamous,
            Histology::SmallCell
        ]
    );
    assert_eq!(
        p.stage,
        [Some(Stage::Ivb), Some(Stage::Iii), Some(Stage::Iv)]
    );
    assert_eq!(p.calcium_unit, [CalciumUnit::MgDl; 3]);
    assert_eq!(p.albumin_unit, [AlbuminUnit::GDl; 3]);
    assert_eq!(p.extra_names, ["County"]);
    assert_eq!(p.extra_of(2), [None]);
    // S4's sex code 9 is not in the recode: it passes through and breaks the contract.
    let keys = rejection_keys(&ingested);
    assert_eq!(
        keys,
        [
            (
                "patients".into(),
                5,
                "S4".into(),
                "Sex".into(),
                "invalid_value".into()
            ),
            (
                "events".into(),
                4,
                "S4".into(),
                "Patient ID".into(),
                "patient_rejected".into()
            ),
        ]
    );
    // The rejected row is written as it was read: source names, source codes.
    let raw: serde_json::Value = serde_json::from_str(&ingested.rejections[0].raw).unwrap();
    assert_eq!(raw["Sex"], "9");
    assert_eq!(raw["Histologic Type ICD-O-3"], "8140");
    let e = &ingested.cohort.events;
    assert_eq!(
        e.event_type,
        [
            EventType::RadiotherapyBone,
            EventType::SpinalCordCompression
        ]
    );
    let l = &ingested.cohort.labs;
    assert_eq!(
        l.unit,
        [LabUnit::MgDl, LabUnit::GDl, LabUnit::MmolL],
        "default units by analyte"
    );
}

fn mapping_error(toml: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "m.toml", toml);
    let loaded = LoadedMapping::load(Some(&path));
    let result = loaded.and_then(|m| {
        let files = bonemet::io::CohortFiles::resolve(Some(&data("seer_style")), None, None, None)?;
        bonemet::ingest::ingest(&files, &m)
    });
    match result {
        Err(e @ Error::Mapping { .. }) => e.to_string(),
        other => panic!("expected a mapping error, got {other:?}"),
    }
}

#[test]
fn mapping_errors_name_what_is_wrong() {
    assert!(mapping_error("[patients.renam]\nx = \"y\"\n").contains("unknown field `renam`"));
    assert!(mapping_error("[patients.units]\ncalcium = \"g/l\"\n")
        .contains("calcium = \"g/l\" is not a unit of calcium; expected one of mmol/l, mg/dl"));
    assert!(
        mapping_error("[labs.units]\npsa = \"ng/l\"\n").contains("'psa', which is not an analyte")
    );
    assert!(
        mapping_error("[patients.recode]\ncounty = { \"a\" = \"b\" }\n")
            .contains("recode names column 'county'")
    );
    assert!(mapping_error("[events.units]\ncalcium = \"mg/dl\"\n").contains("no measurements"));
    assert!(mapping_error("[patients\n").contains("line 1"));
}

#[test]
fn a_rename_onto_an_existing_column_is_a_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "m.toml",
        "[patients.rename]\n\"County\" = \"Sex\"\n",
    );
    let err = ingest_dir(&data("seer_style"), Some(&path)).unwrap_err();
    assert!(matches!(err, Error::DuplicateColumn { .. }), "{err}");
}
