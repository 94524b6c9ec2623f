//! The row rules of the input contract (docs/input-contract.md, "Row rules"): each source
//! record becomes either one typed record or the list of every rule it breaks. Pure functions of a record and, for events
//! and labs, the accepted patients; the ingest stage runs them over chunks in parallel.

use chrono::{NaiveDate, NaiveDateTime};

use super::cohort::{EventRecord, LabRecord, PatientRecord, Patients};
use super::columns::{ColumnSpec, EventColumn, LabColumn, PatientColumn};
use super::id_table::IdTable;
use super::reject::{Reason, Rejection, Table};
use super::values::{
    list_items, parse_bool, parse_date, parse_datetime, parse_integer, parse_number, whole,
};
use super::vocab::*;
use crate::error::Result;
use crate::io::{Cell, LoadedMapping, RawChunk, TableLayout, TypedCell};

/// Units that apply when a unit cell is empty: the contract's defaults, or the mapping's.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitDefaults {
    /// Unit of the patients' `calcium` (contract default mmol/L).
    pub calcium: CalciumUnit,
    /// Unit of the patients' `albumin` (contract default g/L).
    pub albumin: AlbuminUnit,
    /// Unit of a lab value whose `unit` cell is empty, per analyte (contract: none).
    pub lab: [Option<LabUnit>; 4],
}

impl Default for UnitDefaults {
    fn default() -> Self {
        Self {
            calcium: CalciumUnit::MmolL,
            albumin: AlbuminUnit::GL,
            lab: [None; 4],
        }
    }
}

impl UnitDefaults {
    /// The defaults in force under a mapping; a unit key or value outside the contract is an
    /// error naming it.
    pub fn from_mapping(loaded: &LoadedMapping) -> Result<Self> {
        let mapping = &loaded.mapping;
        let mut defaults = Self::default();
        let bad_value = |table: &str, key: &str, value: &str, expected: String| {
            loaded.error(format!(
                "[{table}.units] {key} = \"{value}\" is not a unit of {key}; expected one of {expected}"
            ))
        };
        for (key, value) in &mapping.patients.units {
            match key.as_str() {
                "calcium" => {
                    defaults.calcium = CalciumUnit::parse(value.trim()).ok_or_else(|| {
                        bad_value("patients", key, value, CalciumUnit::expected())
                    })?;
                }
                "albumin" => {
                    defaults.albumin = AlbuminUnit::parse(value.trim()).ok_or_else(|| {
                        bad_value("patients", key, value, AlbuminUnit::expected())
                    })?;
                }
                other => {
                    return Err(loaded.error(format!(
                    "[patients.units] names '{other}'; only calcium and albumin have units there"
                )))
                }
            }
        }
        for (key, value) in &mapping.labs.units {
            let analyte = Analyte::parse(key.trim()).ok_or_else(|| {
                loaded.error(format!(
                    "[labs.units] names '{key}', which is not an analyte; expected one of {}",
                    Analyte::expected()
                ))
            })?;
            let expected = || {
                let names: Vec<&str> = analyte.units().iter().map(|u| u.as_str()).collect();
                names.join(", ")
            };
            let unit = LabUnit::parse(value.trim())
                .filter(|u| analyte.units().contains(u))
                .ok_or_else(|| bad_value("labs", key, value, expected()))?;
            defaults.lab[analyte.index()] = Some(unit);
        }
        if let Some(key) = mapping.events.units.keys().next() {
            return Err(loaded.error(format!(
                "[events.units] names '{key}', but the events table has no measurements"
            )));
        }
        Ok(defaults)
    }
}

/// One broken rule, before it is turned into a [`Rejection`].
struct Problem {
    column: Option<usize>,
    reason: Reason,
    message: String,
}

/// The checks of one record, collecting every broken rule.
struct RowCheck<'a> {
    layout: &'a TableLayout,
    chunk: &'a RawChunk,
    row: usize,
    specs: &'static [ColumnSpec],
    problems: Vec<Problem>,
}

impl<'a> RowCheck<'a> {
    fn new(
        layout: &'a TableLayout,
        chunk: &'a RawChunk,
        row: usize,
        specs: &'static [ColumnSpec],
    ) -> Self {
        Self {
            layout,
            chunk,
            row,
            specs,
            problems: Vec::new(),
        }
    }

    /// The column's name as the user knows it: the source name, else the contract name.
    fn label(&self, col: usize) -> &'a str {
        self.layout.source_name(col).unwrap_or(self.specs[col].name)
    }

    fn problem(&mut self, column: Option<usize>, reason: Reason, message: String) {
        self.problems.push(Problem {
            column,
            reason,
            message,
        });
    }

    /// Records a problem when a required cell is empty.
    fn missing(&mut self, col: usize, required: bool) {
        if required {
            let spec = &self.specs[col];
            let message = format!("{} is empty; expected {}", self.label(col), spec.expected);
            self.problem(Some(col), Reason::MissingValue, message);
        }
    }

    /// A cell's value when the source holds it as a number or boolean (Parquet). Values that
    /// their text would not give (non-finite floats, a fraction for a whole number, a
    /// boolean for a number) are read through their text instead, so that the rejection
    /// quotes the cell as CSV would.
    fn value(&self, col: usize) -> Option<TypedCell> {
        self.layout.typed_cell(self.chunk, self.row, col)
    }

    /// A cell's text; records a problem when it is required and empty, or not UTF-8.
    fn text(&mut self, col: usize, required: bool) -> Option<&'a str> {
        match self.layout.cell(self.chunk, self.row, col) {
            Cell::Text(text) => Some(text),
            Cell::Missing => {
                self.missing(col, required);
                None
            }
            Cell::NotUtf8 => {
                let message = format!("{} is not valid UTF-8 text", self.label(col));
                self.problem(Some(col), Reason::InvalidUtf8, message);
                None
            }
        }
    }

    /// Parses a cell with `parse`, recording `reason` when it fails.
    fn typed<T>(
        &mut self,
        col: usize,
        required: bool,
        reason: Reason,
        what: &str,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> Option<T> {
        let text = self.text(col, required)?;
        let value = parse(text);
        if value.is_none() {
            let message = format!(
                "{} '{}' is not {}; expected {}",
                self.label(col),
                text,
                what,
                self.specs[col].expected
            );
            self.problem(Some(col), reason, message);
        }
        value
    }

    fn vocab<T: Vocabulary>(&mut self, col: usize, required: bool) -> Option<T> {
        self.typed(
            col,
            required,
            Reason::InvalidValue,
            "a known value",
            T::parse,
        )
    }

    fn date(&mut self, col: usize, required: bool) -> Option<NaiveDate> {
        self.typed(col, required, Reason::InvalidDate, "a date", parse_date)
    }

    fn datetime(&mut self, col: usize, required: bool) -> Option<NaiveDateTime> {
        self.typed(
            col,
            required,
            Reason::InvalidDatetime,
            "a date-time",
            parse_datetime,
        )
    }

    fn boolean(&mut self, col: usize) -> Option<bool> {
        match self.value(col) {
            Some(TypedCell::Missing) => None,
            Some(TypedCell::Bool(value)) => Some(value),
            _ => self.typed(col, false, Reason::InvalidBoolean, "a boolean", parse_bool),
        }
    }

    /// A number that must satisfy `in_range`.
    fn number(
        &mut self,
        col: usize,
        required: bool,
        in_range: impl FnOnce(f64) -> bool,
    ) -> Option<f64> {
        let value = match self.value(col) {
            Some(TypedCell::Missing) => {
                self.missing(col, required);
                return None;
            }
            Some(TypedCell::Float(v)) if v.is_finite() => v,
            // As its text parses: to the nearest float.
            Some(TypedCell::Int(v)) => v as f64,
            _ => self.typed(col, required, Reason::NotANumber, "a number", parse_number)?,
        };
        self.range_check(col, value, in_range(value))
    }

    /// A whole number within `min..=max`.
    fn integer(&mut self, col: usize, required: bool, min: i64, max: i64) -> Option<i64> {
        let value = match self.value(col) {
            Some(TypedCell::Missing) => {
                self.missing(col, required);
                return None;
            }
            Some(TypedCell::Int(v)) => v,
            Some(TypedCell::Float(v)) if whole(v) => v as i64,
            _ => self.typed(
                col,
                required,
                Reason::NotAnInteger,
                "a whole number",
                parse_integer,
            )?,
        };
        self.range_check(col, value, (min..=max).contains(&value))
    }

    fn range_check<T: std::fmt::Display>(&mut self, col: usize, value: T, ok: bool) -> Option<T> {
        if ok {
            return Some(value);
        }
        let message = format!(
            "{} {} is out of range; expected {}",
            self.label(col),
            value,
            self.specs[col].expected
        );
        self.problem(Some(col), Reason::OutOfRange, message);
        None
    }

    /// A `;`-separated list of vocabulary values; every unknown item is named.
    fn sites<T: Vocabulary>(&mut self, col: usize) -> Option<SiteSet<T>> {
        let text = self.text(col, false)?;
        let mut set = SiteSet::new();
        let mut unknown = Vec::new();
        for item in list_items(text) {
            match T::parse(item) {
                Some(v) => set.insert(v),
                None => unknown.push(item),
            }
        }
        if unknown.is_empty() {
            return Some(set);
        }
        let message = format!(
            "{} holds unknown item(s) '{}'; expected {}",
            self.label(col),
            unknown.join("', '"),
            self.specs[col].expected
        );
        self.problem(Some(col), Reason::InvalidValue, message);
        None
    }

    /// A rule spanning columns, or tied to one column by its date order.
    fn rule(&mut self, col: Option<usize>, reason: Reason, message: String) {
        self.problem(col, reason, message);
    }

    /// The rejections for every problem found (empty when the record is valid).
    fn into_rejections(self, table: Table, patient_id: &str) -> Vec<Rejection> {
        if self.problems.is_empty() {
            return Vec::new();
        }
        let raw = self.layout.raw_json(self.chunk, self.row);
        let line = self.chunk.line(self.row);
        self.problems
            .iter()
            .map(|p| Rejection {
                table,
                line,
                patient_id: patient_id.to_string(),
                column: p
                    .column
                    .map(|c| self.label(c).to_string())
                    .unwrap_or_default(),
                reason: p.reason,
                message: p.message.clone(),
                raw: raw.clone(),
            })
            .collect()
    }
}

/// The patient_id of a record as written (trimmed), or empty.
fn patient_id_of<'a>(layout: &'a TableLayout, chunk: &'a RawChunk, row: usize) -> &'a str {
    match layout.cell(chunk, row, 0) {
        Cell::Text(text) => text,
        _ => "",
    }
}

/// A record with the wrong number of fields: its cells cannot be trusted to sit under the
/// right column, so it is rejected as a whole.
fn ragged(layout: &TableLayout, chunk: &RawChunk, row: usize, table: Table) -> Vec<Rejection> {
    vec![Rejection {
        table,
        line: chunk.line(row),
        patient_id: patient_id_of(layout, chunk, row).to_string(),
        column: String::new(),
        reason: Reason::RaggedRow,
        message: format!(
            "the record has {} fields but the header has {}",
            chunk.width(row),
            layout.header_len()
        ),
        raw: layout.raw_json(chunk, row),
    }]
}

/// Validates one patients record.
pub fn validate_patient(
    layout: &TableLayout,
    chunk: &RawChunk,
    row: usize,
    units: &UnitDefaults,
) -> std::result::Result<PatientRecord, Vec<Rejection>> {
    use PatientColumn as P;
    if layout.is_ragged(chunk, row) {
        return Err(ragged(layout, chunk, row, Table::Patients));
    }
    let mut c = RowCheck::new(layout, chunk, row, P::SPECS);
    let patient_id = c.text(P::PatientId.index(), true);
    let sex = c.vocab::<Sex>(P::Sex.index(), true);
    let age = c.integer(P::AgeAtDiagnosis.index(), true, 18, 110);
    let diagnosis_date = c.date(P::DiagnosisDate.index(), true);
    let histology = c.vocab::<Histology>(P::Histology.index(), true);
    let stage = c.vocab::<Stage>(P::Stage.index(), false);
    let tumor_size_mm = c.number(P::TumorSizeMm.index(), false, |v| v > 0.0);
    let n_stage = c.vocab::<NStage>(P::NStage.index(), false);
    let egfr = c.vocab::<Egfr>(P::Egfr.index(), false);
    let alk = c.vocab::<Alk>(P::Alk.index(), false);
    let kras = c.vocab::<Kras>(P::Kras.index(), false);
    let ecog = c.integer(P::Ecog.index(), false, 0, 4);
    let bone_mets_date = c.date(P::BoneMetsDate.index(), false);
    let bone_sites = c.sites::<BoneSite>(P::BoneSites.index());
    let bone_lesion_count = c.integer(P::BoneLesionCount.index(), false, 0, i64::from(u32::MAX));
    let visceral_sites = c.sites::<VisceralSite>(P::VisceralSites.index());
    let visceral_mets_date = c.date(P::VisceralMetsDate.index(), false);
    let calcium = c.number(P::Calcium.index(), false, |v| v > 0.0);
    let calcium_unit = c.vocab::<CalciumUnit>(P::CalciumUnit.index(), false);
    let albumin = c.number(P::Albumin.index(), false, |v| v > 0.0);
    let albumin_unit = c.vocab::<AlbuminUnit>(P::AlbuminUnit.index(), false);
    let ntx = c.number(P::Ntx.index(), false, |v| v >= 0.0);
    let ctx = c.number(P::Ctx.index(), false, |v| v >= 0.0);
    let ctx_sampled_at = c.datetime(P::CtxSampledAt.index(), false);
    let ctx_fasting = c.boolean(P::CtxFasting.index());
    let bone_agent = c.vocab::<BoneAgent>(P::BoneAgent.index(), false);
    let bone_agent_start = c.date(P::BoneAgentStart.index(), false);
    let first_line = c.vocab::<FirstLine>(P::FirstLine.index(), false);
    let smi_cm2_m2 = c.number(P::SmiCm2M2.index(), false, |v| v > 0.0);
    let last_contact_date = c.date(P::LastContactDate.index(), true);
    let vital_status = c.vocab::<VitalStatus>(P::VitalStatus.index(), true);
    let death_date = c.date(P::DeathDate.index(), false);
    let death_cell_empty = matches!(layout.cell(chunk, row, P::DeathDate.index()), Cell::Missing);

    // Rules spanning columns, checked only on values that parsed.
    match vital_status {
        Some(VitalStatus::Dead) if death_cell_empty => c.rule(
            Some(P::DeathDate.index()),
            Reason::DeathDateMissing,
            "vital_status is dead but death_date is empty".into(),
        ),
        Some(VitalStatus::Alive) if !death_cell_empty => c.rule(
            Some(P::DeathDate.index()),
            Reason::DeathDateWhenAlive,
            "vital_status is alive but death_date is given".into(),
        ),
        _ => {}
    }
    // Dates are compared with death_date only for the dead: an alive patient's death_date
    // is already rejected as such, and comparisons with it would only repeat that.
    let death_date_if_dead = death_date.filter(|_| vital_status == Some(VitalStatus::Dead));
    if let (Some(diagnosis), Some(death)) = (diagnosis_date, death_date_if_dead) {
        if death < diagnosis {
            c.rule(
                Some(P::DeathDate.index()),
                Reason::DeathBeforeDiagnosis,
                format!("death_date {death} is before diagnosis_date {diagnosis}"),
            );
        }
    }
    if let (Some(diagnosis), Some(last)) = (diagnosis_date, last_contact_date) {
        if last < diagnosis {
            c.rule(
                Some(P::LastContactDate.index()),
                Reason::LastContactBeforeDiagnosis,
                format!("last_contact_date {last} is before diagnosis_date {diagnosis}"),
            );
        }
    }
    if let (Some(last), Some(death)) = (last_contact_date, death_date_if_dead) {
        if last > death {
            c.rule(
                Some(P::LastContactDate.index()),
                Reason::LastContactAfterDeath,
                format!("last_contact_date {last} is after death_date {death}"),
            );
        }
    }
    if let Some(last) = last_contact_date {
        for (col, date) in [
            (P::BoneMetsDate, bone_mets_date),
            (P::VisceralMetsDate, visceral_mets_date),
        ] {
            if let Some(date) = date.filter(|d| *d > last) {
                let name = col.spec().name;
                c.rule(
                    Some(col.index()),
                    Reason::DateAfterLastContact,
                    format!("{name} {date} is after last_contact_date {last}"),
                );
            }
        }
    }

    let id = patient_id.unwrap_or("");
    let rejections = c.into_rejections(Table::Patients, id);
    let (
        Some(patient_id),
        Some(sex),
        Some(age),
        Some(diagnosis_date),
        Some(histology),
        Some(last_contact_date),
        Some(vital_status),
    ) = (
        patient_id,
        sex,
        age,
        diagnosis_date,
        histology,
        last_contact_date,
        vital_status,
    )
    else {
        return Err(rejections);
    };
    if !rejections.is_empty() {
        return Err(rejections);
    }
    Ok(PatientRecord {
        patient_id: patient_id.to_string(),
        sex,
        // In range 18..=110 by the check above.
        age_at_diagnosis: age as u8,
        diagnosis_date,
        histology,
        stage,
        tumor_size_mm,
        n_stage,
        egfr,
        alk,
        kras,
        ecog: ecog.map(|e| e as u8),
        bone_mets_date,
        bone_sites,
        bone_lesion_count: bone_lesion_count.map(|n| n as u32),
        visceral_sites,
        visceral_mets_date,
        calcium,
        calcium_unit: calcium_unit.unwrap_or(units.calcium),
        albumin,
        albumin_unit: albumin_unit.unwrap_or(units.albumin),
        ntx,
        ctx,
        ctx_sampled_at,
        ctx_fasting,
        bone_agent,
        bone_agent_start,
        first_line,
        smi_cm2_m2,
        last_contact_date,
        vital_status,
        death_date,
        source_line: chunk.line(row),
        extra: layout.extra_cells(chunk, row),
    })
}

/// A fast hash set with a fixed seed (patient ids are not adversarial input).
type FastSet<K> = std::collections::HashSet<K, foldhash::fast::FixedState>;

/// The accepted patients, looked up by id, and the ids whose rows were rejected.
pub struct PatientIndex<'a> {
    patients: &'a Patients,
    accepted: IdTable,
    rejected: FastSet<&'a str>,
}

/// A lookup into a [`PatientIndex`] that remembers the last patient found: extracts usually
/// list a patient's events and labs together, so most lookups skip the hash map.
pub struct PatientLookup<'i, 'a> {
    index: &'i PatientIndex<'a>,
    last: Option<(&'a str, u32)>,
}

impl<'a> PatientIndex<'a> {
    /// Indexes `patients` (whose ids `accepted` was built on); `rejected_ids` are the ids of
    /// rejected patient rows.
    pub fn new(
        patients: &'a Patients,
        accepted: IdTable,
        rejected_ids: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        Self {
            patients,
            accepted,
            rejected: rejected_ids.into_iter().collect(),
        }
    }

    /// A lookup with an empty cache (one per worker task).
    pub fn lookup(&self) -> PatientLookup<'_, 'a> {
        PatientLookup {
            index: self,
            last: None,
        }
    }
}

impl PatientLookup<'_, '_> {
    /// Resolves the record's patient, recording why not when it cannot.
    fn resolve(&mut self, c: &mut RowCheck<'_>, id: Option<&str>) -> Option<u32> {
        let id = id?;
        if let Some((last_id, row)) = self.last {
            if last_id == id {
                return Some(row);
            }
            // Extracts are usually ordered like the patients table: try the next patient
            // before a hash lookup, which costs cache misses on a large cohort.
            let ids = &self.index.patients.patient_id;
            if let Some(next) = ids.get(row as usize + 1) {
                if next == id {
                    self.last = Some((next.as_str(), row + 1));
                    return Some(row + 1);
                }
            }
        }
        let ids = &self.index.patients.patient_id;
        if let Some(row) = self.index.accepted.get(ids, id) {
            self.last = Some((ids[row as usize].as_str(), row));
            return Some(row);
        }
        let (reason, message) = if self.index.rejected.contains(id) {
            (
                Reason::PatientRejected,
                format!("patient_id '{id}' was rejected in the patients table"),
            )
        } else {
            (
                Reason::UnknownPatient,
                format!("patient_id '{id}' is not in the patients table"),
            )
        };
        c.rule(Some(0), reason, message);
        None
    }
}

/// Validates one events record against the accepted patients.
pub fn validate_event(
    layout: &TableLayout,
    chunk: &RawChunk,
    row: usize,
    patients: &mut PatientLookup<'_, '_>,
) -> std::result::Result<EventRecord, Vec<Rejection>> {
    use EventColumn as E;
    if layout.is_ragged(chunk, row) {
        return Err(ragged(layout, chunk, row, Table::Events));
    }
    let mut c = RowCheck::new(layout, chunk, row, E::SPECS);
    let id = c.text(E::PatientId.index(), true);
    let patient = patients.resolve(&mut c, id);
    let event_date = c.date(E::EventDate.index(), true);
    let event_type = c.vocab::<EventType>(E::EventType.index(), true);
    let site = c.vocab::<BoneSite>(E::Site.index(), false);
    if let (Some(p), Some(date)) = (patient, event_date) {
        let diagnosis = patients.index.patients.diagnosis_date[p as usize];
        let last = patients.index.patients.last_contact_date[p as usize];
        if date < diagnosis {
            c.rule(
                Some(E::EventDate.index()),
                Reason::EventBeforeDiagnosis,
                format!("event_date {date} is before the patient's diagnosis_date {diagnosis}"),
            );
        } else if date > last {
            c.rule(
                Some(E::EventDate.index()),
                Reason::EventAfterLastContact,
                format!("event_date {date} is after the patient's last_contact_date {last}"),
            );
        }
    }
    let rejections = c.into_rejections(Table::Events, id.unwrap_or(""));
    match (patient, event_date, event_type) {
        (Some(patient), Some(event_date), Some(event_type)) if rejections.is_empty() => {
            Ok(EventRecord {
                patient,
                event_date,
                event_type,
                site,
                source_line: chunk.line(row),
                extra: layout.extra_cells(chunk, row),
            })
        }
        _ => Err(rejections),
    }
}

/// Validates one labs record against the accepted patients.
pub fn validate_lab(
    layout: &TableLayout,
    chunk: &RawChunk,
    row: usize,
    patients: &mut PatientLookup<'_, '_>,
    units: &UnitDefaults,
) -> std::result::Result<LabRecord, Vec<Rejection>> {
    use LabColumn as L;
    if layout.is_ragged(chunk, row) {
        return Err(ragged(layout, chunk, row, Table::Labs));
    }
    let mut c = RowCheck::new(layout, chunk, row, L::SPECS);
    let id = c.text(L::PatientId.index(), true);
    let patient = patients.resolve(&mut c, id);
    let sampled_at = c.datetime(L::SampledAt.index(), true);
    let analyte = c.vocab::<Analyte>(L::Analyte.index(), true);
    let positive = matches!(analyte, Some(Analyte::Calcium | Analyte::Albumin));
    let value = c.number(L::Value.index(), true, |v| {
        if positive {
            v > 0.0
        } else {
            v >= 0.0
        }
    });
    let default_unit = analyte.and_then(|a| units.lab[a.index()]);
    let unit = match c.vocab::<LabUnit>(L::Unit.index(), default_unit.is_none()) {
        Some(unit) => Some(unit),
        None if matches!(layout.cell(chunk, row, L::Unit.index()), Cell::Missing) => default_unit,
        None => None,
    };
    if let (Some(analyte), Some(unit)) = (analyte, unit) {
        if !analyte.units().contains(&unit) {
            let expected: Vec<&str> = analyte.units().iter().map(|u| u.as_str()).collect();
            c.rule(
                Some(L::Unit.index()),
                Reason::UnitMismatch,
                format!(
                    "unit '{unit}' is not a unit of {analyte}; expected {}",
                    expected.join(" or ")
                ),
            );
        }
    }
    let fasting = c.boolean(L::Fasting.index());
    let rejections = c.into_rejections(Table::Labs, id.unwrap_or(""));
    match (patient, sampled_at, analyte, value, unit) {
        (Some(patient), Some(sampled_at), Some(analyte), Some(value), Some(unit))
            if rejections.is_empty() =>
        {
            Ok(LabRecord {
                patient,
                sampled_at,
                analyte,
                value,
                unit,
                fasting,
                source_line: chunk.line(row),
                extra: layout.extra_cells(chunk, row),
            })
        }
        _ => Err(rejections),
    }
}
