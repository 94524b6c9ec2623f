//! Contract violations injected at a given rate (`--defect-rate`), each recorded with the rows
//! it takes down with it (the events and labs of a rejected patient), so that validation can be
//! checked to reject exactly the recorded rows.

use chrono::Duration;

use super::model::{Cell, Generated, Rng};

/// One recorded defect (a row of `defects.csv`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Defect {
    /// `patients`, `events` or `labs`.
    pub table: &'static str,
    /// Source line (CSV, header = 1) or row number (Parquet).
    pub line: u64,
    /// The column broken (`patient_id` for rows rejected with their patient).
    pub column: &'static str,
    /// The reason code validation gives for it.
    pub kind: &'static str,
}

/// Per row: the defect injected (column index, kind), if any.
pub type Injected = Option<(usize, &'static str)>;

/// What happened to one patient's rows.
#[derive(Debug, Clone, Default)]
pub struct PatientDefects {
    /// The patients row's defect.
    pub patient: Injected,
    /// Each events row's defect.
    pub events: Vec<Injected>,
    /// Each labs row's defect.
    pub labs: Vec<Injected>,
}

/// Injects defects into one generated patient at `rate` per row. `previous_id` is the id of
/// the patient before it in the same chunk (for duplicated ids).
pub fn inject(
    g: &mut Generated,
    rng: &mut Rng,
    rate: f64,
    previous_id: Option<&str>,
) -> PatientDefects {
    let mut out = PatientDefects::default();
    if rng.chance(rate) {
        let choices: &[(usize, &'static str)] = &[
            (1, "invalid_value"), // sex
            (2, "out_of_range"),  // age
            (3, "invalid_date"),  // diagnosis_date
            (6, "not_a_number"),  // tumor_size_mm
            (4, "missing_value"), // histology
            (8, "invalid_value"), // egfr
            (0, "duplicate_patient_id"),
        ];
        let mut pick = choices[rng.below(choices.len() as u64) as usize];
        if pick.1 == "duplicate_patient_id" && previous_id.is_none() {
            pick = choices[0];
        }
        let (col, kind) = pick;
        g.patient[col] = match (col, kind) {
            (0, _) => Cell::Text(previous_id.unwrap_or_default().to_string()),
            (1, _) => Cell::Text("x".into()),
            (2, _) => Cell::Text("15".into()),
            (3, _) => Cell::Text("2021-02-30".into()),
            (6, _) => Cell::Text("abc".into()),
            (4, _) => Cell::Null,
            _ => Cell::Text("positive".into()),
        };
        out.patient = Some(pick);
    }
    let diagnosis = match g.patient.get(3) {
        Some(Cell::Date(d)) => Some(*d),
        _ => None,
    };
    for row in &mut g.events {
        let mut injected = None;
        if rng.chance(rate) {
            let k = rng.below(4);
            injected = Some(match k {
                0 => {
                    row[0] = Cell::Text("UNKNOWN-PATIENT".into());
                    (0, "unknown_patient")
                }
                1 => {
                    row[2] = Cell::Text("fall".into());
                    (2, "invalid_value")
                }
                2 => {
                    row[1] = Cell::Text("2021-13-01".into());
                    (1, "invalid_date")
                }
                _ => match diagnosis {
                    Some(d) => {
                        row[1] = Cell::Date(d - Duration::days(5));
                        (1, "event_before_diagnosis")
                    }
                    None => {
                        row[2] = Cell::Text("fall".into());
                        (2, "invalid_value")
                    }
                },
            });
        }
        out.events.push(injected);
    }
    for row in &mut g.labs {
        let mut injected = None;
        if rng.chance(rate) {
            let is_calcium = matches!(row[2], Cell::Label("calcium"));
            injected = Some(match rng.below(4) {
                0 => {
                    row[4] = Cell::Label(if is_calcium { "g/l" } else { "mmol/l" });
                    (4, "unit_mismatch")
                }
                1 => {
                    row[3] = Cell::Text("n/a".into());
                    (3, "not_a_number")
                }
                2 => {
                    row[2] = Cell::Text("psa".into());
                    (2, "invalid_value")
                }
                _ => {
                    row[1] = Cell::Text("2021-03-01".into());
                    (1, "invalid_datetime")
                }
            });
        }
        out.labs.push(injected);
    }
    out
}
