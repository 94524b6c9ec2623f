//! The fixture cohort breaks every contract rule; validation must reject exactly the expected
//! rows, identically from CSV and Parquet.

use bonemet::schema::vocab::*;
use bonemet::schema::Table;

use crate::util::*;

const TABLES: [&str; 3] = ["patients", "events", "labs"];

fn expected_keys() -> Vec<(String, u64, String, String, String)> {
    let mut reader = csv::Reader::from_path(data("fixture/expected_rejections.csv")).unwrap();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (
                r[0].to_string(),
                r[1].parse().unwrap(),
                r[2].to_string(),
                r[3].to_string(),
                r[4].to_string(),
            )
        })
        .collect()
}

#[test]
fn csv_fixture_rejections_are_exactly_the_expected_ones() {
    let ingested = ingest_dir(&data("fixture"), None).unwrap();
    let actual = rejection_keys(&ingested);
    let expected = expected_keys();
    for (a, e) in actual.iter().zip(&expected) {
        assert_eq!(a, e);
    }
    assert_eq!(actual.len(), expected.len(), "{actual:#?}");
}

#[test]
fn every_row_reason_of_the_contract_is_exercised() {
    let ingested = ingest_dir(&data("fixture"), None).unwrap();
    let seen: std::collections::BTreeSet<&str> = ingested
        .rejections
        .iter()
        .map(|r| r.reason.code())
        .collect();
    for reason in bonemet::schema::Reason::ALL {
        // These two cannot be written in Parquet; tests/bad_input.rs covers them.
        if matches!(reason.code(), "ragged_row" | "invalid_utf8") {
            continue;
        }
        assert!(
            seen.contains(reason.code()),
            "no fixture row breaks {reason}"
        );
    }
}

#[test]
fn fixture_rows_balance() {
    let ingested = ingest_dir(&data("fixture"), None).unwrap();
    let balance: Vec<(Table, u64, u64, u64)> = ingested
        .balance
        .iter()
        .map(|b| (b.table, b.rows_read, b.rows_accepted, b.rows_rejected))
        .collect();
    assert_eq!(
        balance,
        [
            (Table::Patients, 33, 5, 28),
            (Table::Events, 13, 3, 10),
            (Table::Labs, 15, 3, 12),
        ]
    );
    let c = &ingested.cohort;
    assert_eq!(c.patients.patient_id, ["P01", "P02", "P28", "P29", "P30"]);
    assert_eq!(c.events.len(), 3);
    assert_eq!(c.labs.len(), 3);
}

#[test]
fn accepted_values_are_typed_and_normalised() {
    let ingested = ingest_dir(&data("fixture"), None).unwrap();
    let p = &ingested.cohort.patients;
    let p28 = p.row(2);
    assert_eq!(p28.patient_id, "P28");
    assert_eq!(p28.sex, Sex::Male);
    assert_eq!(p28.histology, Histology::Adenocarcinoma);
    assert_eq!(p28.stage, Some(Stage::Iva));
    let sites = p28.bone_sites.unwrap();
    assert_eq!(sites.to_list_string(), "pelvis;femur");
    assert_eq!(
        p28.ctx_sampled_at.unwrap().to_string(),
        "2021-01-15 08:30:00"
    );
    assert_eq!(
        p28.calcium_unit,
        CalciumUnit::MmolL,
        "contract default unit"
    );
    let p29 = p.row(3);
    assert_eq!(p29.calcium, Some(10.4));
    assert_eq!(p29.calcium_unit, CalciumUnit::MgDl);
    assert_eq!(p29.albumin_unit, AlbuminUnit::GDl);
    let p01 = p.row(0);
    assert_eq!(p01.extra, vec![Some("complete record".into())]);
    assert_eq!(p.extra_names, ["registry_note"]);
    assert_eq!(
        p01.death_date,
        p01.death_date.and(Some(p01.last_contact_date))
    );
    let e = &ingested.cohort.events;
    assert_eq!(
        e.patient,
        [0, 0, 4],
        "events point at rows of the accepted patients"
    );
    assert_eq!(e.event_type[2], EventType::Hypercalcemia);
    let l = &ingested.cohort.labs;
    assert_eq!(
        l.analyte,
        [Analyte::Calcium, Analyte::Albumin, Analyte::Ctx]
    );
    assert_eq!(l.value[2], 0.0);
}

#[test]
fn rejections_name_the_value_and_keep_the_raw_record() {
    let ingested = ingest_dir(&data("fixture"), None).unwrap();
    let find = |line: u64, column: &str| {
        ingested
            .rejections
            .iter()
            .find(|r| r.table == Table::Patients && r.line == line && r.column == column)
            .unwrap()
    };
    let age = find(6, "age_at_diagnosis");
    assert_eq!(
        age.message,
        "age_at_diagnosis 'sixty' is not a whole number; expected whole years, 18-110"
    );
    let calcium = find(18, "calcium");
    let raw: serde_json::Value = serde_json::from_str(&calcium.raw).unwrap();
    assert_eq!(raw["calcium"], "high");
    assert_eq!(raw["patient_id"], "P17");
    assert_eq!(
        raw["stage"],
        serde_json::Value::Null,
        "empty cells are null"
    );
    assert_eq!(raw.as_object().unwrap().len(), 33, "every source column");
    // A duplicate accepted at first is re-read for its raw record.
    let dup = find(26, "patient_id");
    assert_eq!(dup.reason.code(), "duplicate_patient_id");
    assert!(dup.raw.contains("\"patient_id\":\"P25\""), "{}", dup.raw);
    assert!(dup.message.contains("appears on 2 rows"));
}

#[test]
fn parquet_fixture_gives_identical_cohort_and_rejections() {
    let from_csv = ingest_dir(&data("fixture"), None).unwrap();
    let from_parquet = ingest_dir(&data("fixture_parquet"), None).unwrap();
    // CSV lines count the header as line 1; Parquet rows count from 1.
    let mut csv_cohort = from_csv.cohort.clone();
    for line in csv_cohort
        .patients
        .source_line
        .iter_mut()
        .chain(csv_cohort.events.source_line.iter_mut())
        .chain(csv_cohort.labs.source_line.iter_mut())
    {
        *line -= 1;
    }
    assert_eq!(csv_cohort, from_parquet.cohort);
    assert_eq!(from_csv.rejections.len(), from_parquet.rejections.len());
    for (c, p) in from_csv.rejections.iter().zip(&from_parquet.rejections) {
        assert_eq!(c.line - 1, p.line);
        assert_eq!(
            (
                c.table,
                &c.patient_id,
                &c.column,
                c.reason,
                &c.message,
                &c.raw
            ),
            (
                p.table,
                &p.patient_id,
                &p.column,
                p.reason,
                &p.message,
                &p.raw
            )
        );
    }
    let rows = |i: &bonemet::ingest::Ingested| {
        i.balance
            .iter()
            .map(|b| (b.rows_read, b.rows_accepted, b.rows_rejected))
            .collect::<Vec<_>>()
    };
    assert_eq!(rows(&from_csv), rows(&from_parquet));
}

#[test]
fn committed_parquet_fixture_matches_the_csv() {
    for table in TABLES {
        let expected = csv_as_typed_frame(&data(&format!("fixture/{table}.csv")));
        let committed = read_parquet(&data(&format!("fixture_parquet/{table}.parquet")));
        assert!(
            expected.equals_missing(&committed),
            "{table}: run `just fixtures` to regenerate"
        );
    }
    let patients = read_parquet(&data("fixture_parquet/patients.parquet"));
    let dtype = |name: &str| patients.column(name).unwrap().dtype().clone();
    assert_eq!(dtype("ecog"), polars::prelude::DataType::Int64);
    assert_eq!(dtype("bone_agent_start"), polars::prelude::DataType::String);
    assert_eq!(dtype("death_date"), polars::prelude::DataType::Date);
}

/// Writes `tests/data/fixture_parquet/` from the CSV fixture. Run with `just fixtures`.
#[test]
#[ignore]
fn regenerate_parquet_fixture() {
    let dir = data("fixture_parquet");
    std::fs::create_dir_all(&dir).unwrap();
    for table in TABLES {
        let mut frame = csv_as_typed_frame(&data(&format!("fixture/{table}.csv")));
        write_parquet(&mut frame, &dir.join(format!("{table}.parquet")));
    }
}
