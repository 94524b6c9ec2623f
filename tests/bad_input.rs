//! Malformed files: none panics; each gives the rejection or the exit-2 error the contract
//! says, naming file, line and column.

use bonemet::Error;

use crate::util::*;

const HEADER: &str =
    "patient_id,sex,age_at_diagnosis,diagnosis_date,histology,last_contact_date,vital_status,death_date";

fn patients_dir(contents: impl AsRef<[u8]>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "patients.csv", contents);
    dir
}

#[test]
fn ragged_rows_are_rejected_whole_with_their_line() {
    let dir = patients_dir(format!(
        "{HEADER}\nA1,m,60,2021-01-01,squamous,2022-01-01,alive,\nA2,m,60,2021-01-01\nA3,f,61,2021-01-01,squamous,2022-01-01,alive,,surplus\n"
    ));
    let ingested = ingest_dir(dir.path(), None).unwrap();
    assert_eq!(
        rejection_keys(&ingested),
        [
            (
                "patients".into(),
                3,
                "A2".into(),
                "".into(),
                "ragged_row".into()
            ),
            (
                "patients".into(),
                4,
                "A3".into(),
                "".into(),
                "ragged_row".into()
            ),
        ]
    );
    assert_eq!(
        ingested.rejections[0].message,
        "the record has 4 fields but the header has 8"
    );
    assert!(ingested.rejections[1]
        .raw
        .ends_with(r#""_field_9":"surplus"}"#));
    assert_eq!(ingested.balance[0].rows_read, 3);
    assert_eq!(ingested.cohort.patients.len(), 1);
}

#[test]
fn an_empty_file_stops_the_run_naming_the_file() {
    let dir = patients_dir("");
    let err = ingest_dir(dir.path(), None).unwrap_err();
    assert!(matches!(err, Error::EmptyFile { .. }), "{err}");
    assert!(err.to_string().contains("patients.csv"));
    let bom_only = patients_dir("\u{feff}");
    assert!(matches!(
        ingest_dir(bom_only.path(), None),
        Err(Error::EmptyFile { .. })
    ));
}

/// The file's last record may end at the end of the file rather than at a newline: without a
/// final newline, or with a quote left open that takes the final newline into its field.
/// Either way it keeps the line it starts on, after any blank lines, and no other record's.
#[test]
fn the_last_record_keeps_its_own_line_however_the_file_ends() {
    let bad = "A1,x,60,2021-01-01,squamous,2022-01-01,alive,";
    for (body, lines) in [
        (format!("{bad}\n\"{bad}\n{bad}\n"), vec![2, 3]),
        (format!("{bad}\n\n\n\"{bad}\n"), vec![2, 5]),
        (format!("{bad}\n\n{bad}"), vec![2, 4]),
        (format!("{bad}\n\n\"{bad}"), vec![2, 4]),
        (format!("{bad}\n\n{bad}\n\n"), vec![2, 4]),
    ] {
        let dir = patients_dir(format!("{HEADER}\n{body}"));
        let ingested = ingest_dir(dir.path(), None).unwrap();
        let mut rejected: Vec<u64> = ingested.rejections.iter().map(|r| r.line).collect();
        rejected.dedup();
        assert_eq!(rejected, lines, "{body:?}");
        let b = &ingested.balance[0];
        assert_eq!((b.rows_read, b.rows_rejected), (2, 2), "{body:?}");
    }
}

#[test]
fn a_header_only_file_is_an_empty_valid_table() {
    let dir = patients_dir(format!("{HEADER}\n"));
    let ingested = ingest_dir(dir.path(), None).unwrap();
    assert_eq!(ingested.balance[0].rows_read, 0);
    assert!(ingested.rejections.is_empty());
    assert_eq!(ingested.balance[0].rejected_share(), 0.0);
}

#[test]
fn a_byte_order_mark_and_crlf_line_ends_are_read_as_plain_csv() {
    let lf = format!("{HEADER}\nA1,m,60,2021-01-01,squamous,2022-01-01,alive,\n");
    let crlf_bom = format!("\u{feff}{}", lf.replace('\n', "\r\n"));
    let plain = ingest_dir(patients_dir(&lf).path(), None).unwrap();
    let odd = ingest_dir(patients_dir(&crlf_bom).path(), None).unwrap();
    assert!(odd.rejections.is_empty(), "{:?}", odd.rejections);
    assert_eq!(plain.cohort, odd.cohort);
    assert_eq!(odd.cohort.patients.patient_id, ["A1"]);
}

#[test]
fn quoted_fields_with_commas_and_newlines_keep_line_numbers_exact() {
    let dir = patients_dir(format!(
        "{HEADER},note\nA1,m,60,2021-01-01,squamous,2022-01-01,alive,,\"one, two\nthree\"\nA2,x,60,2021-01-01,squamous,2022-01-01,alive,,\"plain\"\n"
    ));
    let ingested = ingest_dir(dir.path(), None).unwrap();
    assert_eq!(
        ingested.cohort.patients.row(0).extra,
        vec![Some("one, two\nthree".into())]
    );
    // A2 starts on line 4: its predecessor spans lines 2-3.
    assert_eq!(
        rejection_keys(&ingested),
        [(
            "patients".into(),
            4,
            "A2".into(),
            "sex".into(),
            "invalid_value".into()
        )]
    );
}

#[test]
fn a_binary_file_named_csv_stops_the_run() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        data("fixture_parquet/patients.parquet"),
        dir.path().join("patients.csv"),
    )
    .unwrap();
    let err = ingest_dir(dir.path(), None).unwrap_err();
    assert!(matches!(err, Error::NotText { .. }), "{err}");
    assert!(err.to_string().contains("not a text CSV file"));
}

#[test]
fn a_csv_file_named_parquet_stops_the_run() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "patients.parquet", format!("{HEADER}\n"));
    let err = ingest_dir(dir.path(), None).unwrap_err();
    assert!(matches!(err, Error::Parquet { .. }), "{err}");
}

#[test]
fn a_parquet_header_is_checked_from_the_schema_before_any_row() {
    use polars::prelude::*;
    let patients = |height: usize, drop: Option<&str>, null_column: bool| {
        let text = |name: &str, value: &str| Column::new(name.into(), vec![value; height]);
        let mut columns = vec![
            text("patient_id", "A1"),
            text("sex", "m"),
            Column::new("age_at_diagnosis".into(), vec![60i64; height]),
            text("diagnosis_date", "2021-01-01"),
            text("histology", "squamous"),
            text("last_contact_date", "2022-01-01"),
            text("vital_status", "alive"),
        ];
        columns.retain(|c| Some(c.name().as_str()) != drop);
        if null_column {
            columns.push(Column::full_null(
                "death_date".into(),
                height,
                &DataType::Null,
            ));
        }
        let mut frame = DataFrame::new(height, columns).unwrap();
        let dir = tempfile::tempdir().unwrap();
        write_parquet(&mut frame, &dir.path().join("patients.parquet"));
        dir
    };
    // No rows: the header alone is checked, and nothing is read or rejected.
    let ingested = ingest_dir(patients(0, None, false).path(), None).unwrap();
    assert_eq!(ingested.balance[0].rows_read, 0);
    assert!(ingested.rejections.is_empty());
    // A required column missing stops the run, with or without rows.
    for height in [0, 3] {
        let err =
            ingest_dir(patients(height, Some("vital_status"), false).path(), None).unwrap_err();
        assert!(
            matches!(&err, Error::MissingColumn { column, .. } if column == "vital_status"),
            "{err}"
        );
    }
    // A column of nulls with no type cannot be read as text.
    let err = ingest_dir(patients(3, None, true).path(), None).unwrap_err();
    assert!(
        matches!(&err, Error::UnreadableColumnType { column, .. } if column == "death_date"),
        "{err}"
    );
}

#[test]
fn invalid_utf8_in_a_cell_is_rejected_for_that_column() {
    let mut bytes = format!("{HEADER}\nA1,m,60,2021-01-01,").into_bytes();
    bytes.extend_from_slice(b"squam\xffous,2022-01-01,alive,\n");
    let ingested = ingest_dir(patients_dir(bytes).path(), None).unwrap();
    assert_eq!(
        rejection_keys(&ingested),
        [(
            "patients".into(),
            2,
            "A1".into(),
            "histology".into(),
            "invalid_utf8".into()
        )]
    );
}

#[test]
fn a_parquet_column_of_the_wrong_type_is_rejected_row_by_row() {
    use polars::prelude::*;
    let dir = tempfile::tempdir().unwrap();
    let mut frame = DataFrame::new(
        2,
        vec![
            Column::new("patient_id".into(), ["A1", "A2"]),
            Column::new("sex".into(), ["m", "f"]),
            // Ages stored as booleans, dates stored as integers (days): wrong types.
            Column::new("age_at_diagnosis".into(), [true, false]),
            Column::new("diagnosis_date".into(), [18628i64, 18629]),
            Column::new("histology".into(), ["squamous", "squamous"]),
            Column::new("last_contact_date".into(), ["2022-01-01", "2022-01-01"]),
            Column::new("vital_status".into(), ["alive", "alive"]),
            // Right types, typed: a float for size, a list of text for bone sites.
            Column::new("tumor_size_mm".into(), [31.5f64, 12.0]),
        ],
    )
    .unwrap();
    write_parquet(&mut frame, &dir.path().join("patients.parquet"));
    let ingested = ingest_dir(dir.path(), None).unwrap();
    let keys = rejection_keys(&ingested);
    assert_eq!(keys.len(), 4, "{keys:?}");
    assert_eq!(
        keys[0],
        (
            "patients".into(),
            1,
            "A1".into(),
            "age_at_diagnosis".into(),
            "not_an_integer".into()
        )
    );
    assert_eq!(
        keys[1],
        (
            "patients".into(),
            1,
            "A1".into(),
            "diagnosis_date".into(),
            "invalid_date".into()
        )
    );
    assert_eq!(keys[3].1, 2);
    assert_eq!(
        ingested.rejections[0].message,
        "age_at_diagnosis 'true' is not a whole number; expected whole years, 18-110"
    );
}

#[test]
fn parquet_lists_dates_and_floats_are_read_as_values() {
    use polars::prelude::*;
    let dir = tempfile::tempdir().unwrap();
    let sites = Series::new(
        "bone_sites".into(),
        [
            Series::new("".into(), ["femur", "pelvis"]),
            Series::new("".into(), ["ribs"]),
        ],
    );
    let days = Series::new("diagnosis_date".into(), [18628i32, 18629]).into_date();
    let mut frame = DataFrame::new(
        2,
        vec![
            Column::new("patient_id".into(), ["A1", "A2"]),
            Column::new("sex".into(), ["m", "f"]),
            Column::new("age_at_diagnosis".into(), [60i32, 61]),
            days.into(),
            Column::new("histology".into(), ["squamous", "squamous"]),
            Column::new("last_contact_date".into(), ["2022-01-01", "2022-01-01"]),
            Column::new("vital_status".into(), ["alive", "alive"]),
            Column::new("tumor_size_mm".into(), [31.5f64, 12.0]),
            sites.into(),
        ],
    )
    .unwrap();
    write_parquet(&mut frame, &dir.path().join("patients.parquet"));
    let ingested = ingest_dir(dir.path(), None).unwrap();
    assert!(ingested.rejections.is_empty(), "{:?}", ingested.rejections);
    let p = &ingested.cohort.patients;
    assert_eq!(p.diagnosis_date[0].to_string(), "2021-01-01");
    assert_eq!(p.tumor_size_mm, [Some(31.5), Some(12.0)]);
    assert_eq!(p.bone_sites[0].unwrap().to_list_string(), "pelvis;femur");
    assert_eq!(p.source_line, [1, 2]);
}

/// A corrupt Parquet file on which polars' decoder panics (a byte changed in the fixture:
/// tests/data/fuzz_regressions/patients_parquet/) stops the run naming the file (exit 2).
#[test]
fn a_corrupt_parquet_file_that_polars_panics_on_stops_the_run() {
    let regressions = data("fuzz_regressions/patients_parquet");
    for name in [
        "corrupt_column_chunk_offset.parquet",
        "corrupt_metadata_thrift_field.parquet",
        "corrupt_page_validity_length.parquet",
        "corrupt_dictionary_page.parquet",
    ] {
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(regressions.join(name), dir.path().join("patients.parquet")).unwrap();
        let err = ingest_dir(dir.path(), None).unwrap_err();
        assert!(matches!(err, Error::Parquet { .. }), "{name}: {err}");
        assert!(
            err.to_string().contains("patients.parquet")
                && err.to_string().contains("corrupt or truncated"),
            "{name}: {err}"
        );
    }
}

/// A Parquet date or date-time beyond the calendar (polars panics printing one) is rejected
/// quoting its number and unit; the column's other values read as usual.
#[test]
fn parquet_dates_beyond_the_calendar_are_rejected_quoting_their_value() {
    use polars::prelude::*;
    let dir = tempfile::tempdir().unwrap();
    let days = Series::new("diagnosis_date".into(), [18628i32, i32::MAX, 18628]).into_date();
    let sampled = Series::new(
        "ctx_sampled_at".into(),
        [Some(1_611_216_900_000i64), None, Some(i64::MIN)],
    )
    .into_datetime(TimeUnit::Milliseconds, None);
    let mut frame = DataFrame::new(
        3,
        vec![
            Column::new("patient_id".into(), ["A1", "A2", "A3"]),
            Column::new("sex".into(), ["m", "f", "f"]),
            Column::new("age_at_diagnosis".into(), [60i32, 61, 62]),
            days.into(),
            Column::new("histology".into(), ["squamous"; 3]),
            Column::new("last_contact_date".into(), ["2022-01-01"; 3]),
            Column::new("vital_status".into(), ["alive"; 3]),
            sampled.into(),
        ],
    )
    .unwrap();
    write_parquet(&mut frame, &dir.path().join("patients.parquet"));
    let ingested = ingest_dir(dir.path(), None).unwrap();
    assert_eq!(
        rejection_keys(&ingested),
        [
            (
                "patients".into(),
                2,
                "A2".into(),
                "diagnosis_date".into(),
                "invalid_date".into()
            ),
            (
                "patients".into(),
                3,
                "A3".into(),
                "ctx_sampled_at".into(),
                "invalid_datetime".into()
            ),
        ]
    );
    assert!(ingested.rejections[0]
        .message
        .contains("'2147483647 days since 1970-01-01'"));
    assert!(ingested.rejections[1]
        .message
        .contains("'-9223372036854775808 milliseconds since 1970-01-01T00:00'"));
    let p = &ingested.cohort.patients;
    assert_eq!(p.diagnosis_date[0].to_string(), "2021-01-01");
    assert_eq!(
        p.ctx_sampled_at[0].map(|t| t.to_string()).as_deref(),
        Some("2021-01-21 08:15:00")
    );
}

/// Parquet numbers and booleans are read as values, and a value its text would not give
/// (NaN, a fraction for a whole number) is rejected quoting its text, as the same cell in a
/// CSV file is; the raw record holds every cell as text.
#[test]
fn parquet_numbers_and_booleans_are_read_as_values_and_rejected_as_text() {
    use polars::prelude::*;
    let dir = tempfile::tempdir().unwrap();
    let mut frame = DataFrame::new(
        3,
        vec![
            Column::new("patient_id".into(), ["A1", "A2", "A3"]),
            Column::new("sex".into(), ["m", "f", "f"]),
            Column::new("age_at_diagnosis".into(), [Some(60.0f64), Some(61.5), None]),
            Column::new("diagnosis_date".into(), ["2021-01-01"; 3]),
            Column::new("histology".into(), ["squamous"; 3]),
            Column::new("last_contact_date".into(), ["2022-01-01"; 3]),
            Column::new("vital_status".into(), ["alive"; 3]),
            Column::new("tumor_size_mm".into(), [31.5f64, f64::NAN, -2.0]),
            Column::new("ecog".into(), [Some(1i64), Some(7), None]),
            Column::new("ntx".into(), [Some(40i32), None, Some(12)]),
            Column::new("ctx_fasting".into(), [Some(true), None, Some(false)]),
        ],
    )
    .unwrap();
    write_parquet(&mut frame, &dir.path().join("patients.parquet"));
    let ingested = ingest_dir(dir.path(), None).unwrap();
    let p = &ingested.cohort.patients;
    assert_eq!(p.patient_id, ["A1"]);
    assert_eq!(p.age_at_diagnosis, [60]);
    assert_eq!(p.tumor_size_mm, [Some(31.5)]);
    assert_eq!(p.ecog, [Some(1)]);
    assert_eq!(p.ntx, [Some(40.0)]);
    assert_eq!(p.ctx_fasting, [Some(true)]);
    let found: Vec<(u64, &str, &str, &str)> = ingested
        .rejections
        .iter()
        .map(|r| {
            (
                r.line,
                r.column.as_str(),
                r.reason.code(),
                r.message.as_str(),
            )
        })
        .collect();
    let messages = |line: u64| -> Vec<(&str, &str)> {
        found
            .iter()
            .filter(|f| f.0 == line)
            .map(|f| (f.1, f.2))
            .collect()
    };
    assert_eq!(
        messages(2),
        [
            ("age_at_diagnosis", "not_an_integer"),
            ("tumor_size_mm", "not_a_number"),
            ("ecog", "out_of_range")
        ]
    );
    assert_eq!(
        messages(3),
        [
            ("age_at_diagnosis", "missing_value"),
            ("tumor_size_mm", "out_of_range")
        ]
    );
    let message = |column: &str| {
        found
            .iter()
            .find(|f| f.1 == column && f.0 == 2)
            .map(|f| f.3)
            .unwrap()
    };
    assert!(
        message("age_at_diagnosis").starts_with("age_at_diagnosis '61.5' is not a whole number"),
        "{}",
        message("age_at_diagnosis")
    );
    assert!(
        message("tumor_size_mm").starts_with("tumor_size_mm 'NaN' is not a number"),
        "{}",
        message("tumor_size_mm")
    );
    assert!(message("ecog").starts_with("ecog 7 is out of range"));
    let raw = &ingested.rejections[0].raw;
    assert!(
        raw.contains(r#""age_at_diagnosis":"61.5""#)
            && raw.contains(r#""ecog":"7""#)
            && raw.contains(r#""ntx":null"#)
            && raw.contains(r#""ctx_fasting":null"#),
        "{raw}"
    );
    let raw = &ingested.rejections.last().unwrap().raw;
    assert!(raw.contains(r#""ctx_fasting":"false""#), "{raw}");
}

#[test]
fn duplicate_column_names_stop_the_run_naming_the_column() {
    let dir = patients_dir(format!("{HEADER},sex\n"));
    let err = ingest_dir(dir.path(), None).unwrap_err();
    assert!(matches!(err, Error::DuplicateColumn { .. }), "{err}");
    assert_eq!(
        err.to_string(),
        format!(
            "{}, line 1: column 'sex' appears more than once (columns 2 and 9); the table is ambiguous",
            dir.path().join("patients.csv").display()
        )
    );
}

#[test]
fn a_missing_required_column_stops_the_run_naming_file_and_column() {
    let dir = patients_dir(
        "patient_id,sex,age_at_diagnosis,diagnosis_date,histology,last_contact_date\n",
    );
    let err = ingest_dir(dir.path(), None).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}, line 1: missing required column 'vital_status' (expected one of alive, dead)",
            dir.path().join("patients.csv").display()
        )
    );
    // Optional tables are checked too, before any row is read.
    let dir = patients_dir(format!("{HEADER}\n"));
    write(dir.path(), "events.csv", "patient_id,event_type\n");
    let err = ingest_dir(dir.path(), None).unwrap_err();
    assert!(
        err.to_string()
            .contains("missing required column 'event_date'"),
        "{err}"
    );
}

#[test]
fn two_patients_tables_in_one_directory_are_ambiguous() {
    let dir = patients_dir(format!("{HEADER}\n"));
    std::fs::copy(
        data("fixture_parquet/patients.parquet"),
        dir.path().join("patients.parquet"),
    )
    .unwrap();
    let err = ingest_dir(dir.path(), None).unwrap_err();
    assert!(
        err.to_string().contains("more than one patients table"),
        "{err}"
    );
}

#[test]
fn blank_lines_are_not_records_and_do_not_shift_line_numbers() {
    let body = "A1,m,60,2021-01-01,squamous,2022-01-01,alive,\n\nA2,x,60,2021-01-01,squamous,2022-01-01,alive,\n\r\n";
    for text in [
        format!("{HEADER}\n{body}"),
        format!("{HEADER}\r\n{}", body.replace(",\n", ",\r\n")),
    ] {
        let ingested = ingest_dir(patients_dir(&text).path(), None).unwrap();
        assert_eq!(ingested.balance[0].rows_read, 2);
        assert_eq!(
            rejection_keys(&ingested),
            [(
                "patients".into(),
                4,
                "A2".into(),
                "sex".into(),
                "invalid_value".into()
            )],
            "{text:?}"
        );
    }
}

#[test]
fn a_last_record_without_a_final_newline_keeps_its_line() {
    let text = format!(
        "{HEADER},note\n\nA1,m,60,2021-01-01,squamous,2022-01-01,alive,,ok\nA2,x,60,2021-01-01,squamous,2022-01-01,alive,,\"two\nlines\""
    );
    let ingested = ingest_dir(patients_dir(&text).path(), None).unwrap();
    assert_eq!(
        rejection_keys(&ingested),
        [(
            "patients".into(),
            4,
            "A2".into(),
            "sex".into(),
            "invalid_value".into()
        )]
    );
    assert_eq!(ingested.cohort.patients.source_line, [3]);
}
