//! Raw records as read from a source file, before any typing: the bytes of each field, the
//! record's source line, and its field count. CSV and Parquet both arrive in this form, so one
//! validator serves both and they reject identically.

use std::sync::OnceLock;

use polars::prelude::{
    ArrowDataType, ChunkedArray, DataType, NewChunkedArray, PolarsDataType, PolarsNumericType,
    Series, StringChunked, StringType,
};

/// Polars' array of text (views into shared buffers).
type TextArray = <StringType as PolarsDataType>::Array;

/// A Parquet cell read as its value, without text made and parsed back.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TypedCell {
    /// A null.
    Missing,
    /// A 64-bit float.
    Float(f64),
    /// An integer (64 or 32 bits).
    Int(i64),
    /// A boolean.
    Bool(bool),
}

/// The values of a Parquet column of numbers or booleans.
#[derive(Debug, Clone)]
enum Values {
    Float(Vec<Option<f64>>),
    Int(Vec<Option<i64>>),
    Bool(Vec<Option<bool>>),
}

/// One column of a Parquet chunk: its cells as text, as polars casts them (what CSV would
/// hold), and for numbers and booleans their values. The text of such a column is made only
/// when a cell of it is read as text (a rejected record, a column read as text), so that a
/// clean table's numbers are never printed and parsed back.
#[derive(Debug, Clone)]
pub struct ParquetColumn {
    /// The column's text as one array (a cell is read with no chunk search or type check):
    /// given for a column read as text, made on first use for a typed one.
    text: OnceLock<TextArray>,
    /// The typed column, kept to make `text` from on first use.
    source: Option<Series>,
    values: Option<Values>,
}

/// The one array of `text`, rechunked (an empty array for a column without chunks).
fn one_array(text: &StringChunked) -> TextArray {
    let text = text.rechunk();
    text.downcast_get(0)
        .cloned()
        .unwrap_or_else(|| TextArray::new_empty(ArrowDataType::Utf8View))
}

impl ParquetColumn {
    /// A column already read as text.
    pub fn from_text(text: StringChunked) -> Self {
        Self {
            text: OnceLock::from(one_array(&text)),
            source: None,
            values: None,
        }
    }

    /// A column of 64-bit floats, 64- or 32-bit integers or booleans, read as values; `None`
    /// for other types (read those as text). 32-bit floats are read as text: widened, they
    /// would not be the number their text says.
    pub fn from_values(column: &Series) -> Option<Self> {
        // A column without nulls in one chunk (the usual case) is read as a plain slice:
        // no validity check per value.
        fn collect<T: PolarsNumericType, U>(
            values: &ChunkedArray<T>,
            convert: impl Fn(T::Native) -> U,
        ) -> Vec<Option<U>> {
            match values.cont_slice() {
                Ok(slice) => slice.iter().map(|&v| Some(convert(v))).collect(),
                Err(_) => values.iter().map(|v| v.map(&convert)).collect(),
            }
        }
        let values = match column.dtype() {
            DataType::Float64 => Values::Float(collect(column.f64().ok()?, |v| v)),
            DataType::Int64 => Values::Int(collect(column.i64().ok()?, |v| v)),
            DataType::Int32 => Values::Int(collect(column.i32().ok()?, i64::from)),
            DataType::Boolean => Values::Bool(column.bool().ok()?.iter().collect()),
            _ => return None,
        };
        Some(Self {
            text: OnceLock::new(),
            source: Some(column.clone()),
            values: Some(values),
        })
    }

    /// The column as text, made on first use for a typed column.
    fn text(&self) -> &TextArray {
        self.text.get_or_init(|| {
            let len = self.source.as_ref().map_or(0, |s| s.len());
            let text = self
                .source
                .as_ref()
                .and_then(|s| s.cast(&DataType::String).ok())
                .and_then(|s| s.str().ok().cloned())
                // Numbers and booleans always cast to text; a column of nulls is the fallback
                // that cannot happen.
                .unwrap_or_else(|| {
                    StringChunked::from_iter_options(
                        "".into(),
                        std::iter::repeat_n(None::<&str>, len),
                    )
                });
            one_array(&text)
        })
    }

    fn len(&self) -> usize {
        match &self.values {
            Some(Values::Float(v)) => v.len(),
            Some(Values::Int(v)) => v.len(),
            Some(Values::Bool(v)) => v.len(),
            None => self.text().len(),
        }
    }

    /// Reads the cells of `rows` in order (see [`RawChunk::touch`]): the values, or the views
    /// of the text (16 bytes each: a text's length and, up to 12 bytes, the text itself).
    /// Returns a number that depends on every cell read (present values, or text lengths), so
    /// that the reads are not optimised away.
    fn touch(&self, rows: std::ops::Range<usize>) -> usize {
        fn present<T>(values: Option<&[Option<T>]>) -> usize {
            values.map_or(0, |v| v.iter().filter(|x| x.is_some()).count())
        }
        match &self.values {
            Some(Values::Float(v)) => present(v.get(rows)),
            Some(Values::Int(v)) => present(v.get(rows)),
            Some(Values::Bool(v)) => present(v.get(rows)),
            None => self.text.get().map_or(0, |text| {
                text.views()
                    .get(rows)
                    .map_or(0, |views| views.iter().map(|v| v.length as usize).sum())
            }),
        }
    }

    #[inline]
    fn value(&self, row: usize) -> Option<TypedCell> {
        let cell = match self.values.as_ref()? {
            Values::Float(v) => v.get(row)?.map(TypedCell::Float),
            Values::Int(v) => v.get(row)?.map(TypedCell::Int),
            Values::Bool(v) => v.get(row)?.map(TypedCell::Bool),
        };
        Some(cell.unwrap_or(TypedCell::Missing))
    }
}

/// A batch of raw records stored contiguously (one allocation per batch, not per field).
#[derive(Debug, Default, Clone)]
pub struct RawChunk {
    /// Field bytes while the chunk is built, and after [`RawChunk::seal`] when they are not
    /// valid UTF-8 as a whole.
    bytes: Vec<u8>,
    /// Field bytes after [`RawChunk::seal`] when valid UTF-8 as a whole (the usual case): one
    /// check per chunk instead of one per cell.
    text: String,
    /// End offset in `bytes` of every field, records one after another.
    field_ends: Vec<usize>,
    /// End index in `field_ends` of every record.
    record_ends: Vec<usize>,
    /// Source line of each record's first line (CSV) or 1-based row number (Parquet).
    lines: Vec<u64>,
    /// Parquet records: the fields as columns (record k is row k of each; a null is an empty
    /// field), read in place rather than copied into `bytes`.
    columns: Vec<ParquetColumn>,
}

impl RawChunk {
    /// An empty chunk with room for `records` records.
    pub fn with_capacity(records: usize, bytes: usize) -> Self {
        Self {
            bytes: Vec::with_capacity(bytes),
            text: String::new(),
            field_ends: Vec::new(),
            record_ends: Vec::with_capacity(records),
            lines: Vec::with_capacity(records),
            columns: Vec::new(),
        }
    }

    /// Records held as columns of equal length (Parquet), numbered from `first_line`.
    pub fn from_parquet_columns(columns: Vec<ParquetColumn>, first_line: u64) -> Self {
        let len = columns.first().map_or(0, ParquetColumn::len);
        Self {
            lines: (first_line..first_line + len as u64).collect(),
            columns,
            ..Self::default()
        }
    }

    /// Field `col` of record `row` as its value, when the chunk holds Parquet columns and
    /// that column holds numbers or booleans; `None` otherwise (read it as text).
    #[inline]
    pub fn typed_field(&self, row: usize, col: usize) -> Option<TypedCell> {
        self.columns.get(col)?.value(row)
    }

    /// Empties the chunk, keeping its buffers for the next batch (no fresh pages to fault in).
    pub fn clear(&mut self) {
        if self.bytes.is_empty() {
            self.bytes = std::mem::take(&mut self.text).into_bytes();
        }
        self.bytes.clear();
        self.text.clear();
        self.field_ends.clear();
        self.record_ends.clear();
        self.lines.clear();
        self.columns.clear();
    }

    /// Appends a whole record at once: `data` holds its fields back to back, `ends` their end
    /// offsets within `data`.
    pub fn push_record(&mut self, data: &[u8], ends: impl Iterator<Item = usize>, line: u64) {
        let base = self.bytes.len();
        self.bytes.extend_from_slice(data);
        self.field_ends.extend(ends.map(|end| base + end));
        self.end_record(line);
    }

    /// Appends one field to the record being built.
    pub fn push_field(&mut self, field: &[u8]) {
        self.bytes.extend_from_slice(field);
        self.field_ends.push(self.bytes.len());
    }

    /// Closes the record being built.
    pub fn end_record(&mut self, line: u64) {
        self.record_ends.push(self.field_ends.len());
        self.lines.push(line);
    }

    /// Marks the chunk complete, checking its bytes for UTF-8 once.
    pub fn seal(&mut self) {
        match String::from_utf8(std::mem::take(&mut self.bytes)) {
            Ok(text) => self.text = text,
            Err(e) => self.bytes = e.into_bytes(),
        }
    }

    /// The chunk's field bytes, wherever they are held.
    fn data(&self) -> &[u8] {
        if self.bytes.is_empty() {
            self.text.as_bytes()
        } else {
            &self.bytes
        }
    }

    /// Field `col` of record `row` as text: `None` past the record's end, `Some(None)` when
    /// the field is not UTF-8.
    #[inline(always)]
    pub fn field_str(&self, row: usize, col: usize) -> Option<Option<&str>> {
        if !self.columns.is_empty() {
            return self.column_field(row, col).map(Some);
        }
        let range = self.field_bytes_range(row, col)?;
        if self.bytes.is_empty() {
            // Fields end at ASCII delimiters, which are always character boundaries.
            Some(self.text.get(range))
        } else {
            Some(std::str::from_utf8(&self.bytes[range]).ok())
        }
    }

    /// Reads the cells of records `rows` column by column, for a validator that then reads
    /// them record by record: in a chunk held as Parquet columns, a record's cells lie in as
    /// many columns, and read a record at a time nearly every one was a cache miss (a third of
    /// validation's CPU on a Parquet patients table); read a column at a time, many loads are
    /// in flight at once, and the record-by-record reads then find them in cache. Nothing to
    /// do for records held as bytes (CSV), which lie together. Returns a number that depends
    /// on every cell read (for each column, its present values or its text lengths). Records
    /// past the chunk's end are left out.
    pub fn touch(&self, rows: std::ops::Range<usize>) -> usize {
        let rows = rows.start.min(self.len())..rows.end.min(self.len());
        self.columns.iter().map(|c| c.touch(rows.clone())).sum()
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// Whether the chunk holds no record.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Source line (CSV) or row number (Parquet) of record `row`.
    pub fn line(&self, row: usize) -> u64 {
        self.lines[row]
    }

    #[inline]
    fn field_range(&self, row: usize) -> std::ops::Range<usize> {
        let start = if row == 0 {
            0
        } else {
            self.record_ends[row - 1]
        };
        start..self.record_ends[row]
    }

    /// Number of fields record `row` has.
    pub fn width(&self, row: usize) -> usize {
        if !self.columns.is_empty() {
            return self.columns.len();
        }
        self.field_range(row).len()
    }

    /// Field `col` of record `row` of a column-held chunk.
    #[inline(always)]
    fn column_field(&self, row: usize, col: usize) -> Option<&str> {
        // The column's one array (see `ParquetColumn`): no chunk search per cell.
        Some(self.columns.get(col)?.text().get(row).unwrap_or(""))
    }

    #[inline(always)]
    fn field_bytes_range(&self, row: usize, col: usize) -> Option<std::ops::Range<usize>> {
        let range = self.field_range(row);
        if col >= range.len() {
            return None;
        }
        let index = range.start + col;
        let start = if index == 0 {
            0
        } else {
            self.field_ends[index - 1]
        };
        Some(start..self.field_ends[index])
    }

    /// Field `col` of record `row`, or `None` past the record's end.
    pub fn field(&self, row: usize, col: usize) -> Option<&[u8]> {
        if !self.columns.is_empty() {
            return self.column_field(row, col).map(str::as_bytes);
        }
        self.field_bytes_range(row, col).map(|r| &self.data()[r])
    }

    /// Every field of record `row`.
    pub fn fields(&self, row: usize) -> impl Iterator<Item = &[u8]> + '_ {
        (0..self.width(row)).filter_map(move |col| self.field(row, col))
    }
}

/// The record's original fields as a JSON object keyed by source column name; fields past
/// the header are keyed `_field_N` (1-based), empty cells are `null`.
pub fn raw_json<'a>(header: &[String], fields: impl Iterator<Item = &'a [u8]>) -> String {
    let mut map = String::from("{");
    for (i, field) in fields.enumerate() {
        if i > 0 {
            map.push(',');
        }
        let key = header
            .get(i)
            .cloned()
            .unwrap_or_else(|| format!("_field_{}", i + 1));
        map.push_str(&serde_json::Value::String(key).to_string());
        map.push(':');
        if field.is_empty() {
            map.push_str("null");
        } else {
            let text = String::from_utf8_lossy(field);
            map.push_str(&serde_json::Value::String(text.into_owned()).to_string());
        }
    }
    map.push('}');
    map
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars::prelude::NamedFrom;

    #[test]
    fn fields_and_widths_round_trip() {
        let mut chunk = RawChunk::default();
        chunk.push_field(b"a");
        chunk.push_field(b"");
        chunk.end_record(2);
        chunk.push_field(b"ccc");
        chunk.end_record(4);
        chunk.push_field(b"\xff");
        chunk.end_record(5);
        chunk.seal();
        assert_eq!(chunk.field_str(2, 0), Some(None), "not UTF-8");
        assert_eq!(chunk.field_str(1, 0), Some(Some("ccc")));
        assert_eq!(chunk.len(), 3);
        assert_eq!(chunk.width(0), 2);
        assert_eq!(chunk.field(0, 1), Some(&b""[..]));
        assert_eq!(chunk.field(1, 0), Some(&b"ccc"[..]));
        assert_eq!(chunk.field(1, 1), None);
        assert_eq!(chunk.line(1), 4);
        let header = vec!["x".to_string()];
        assert_eq!(
            raw_json(&header, chunk.fields(0)),
            r#"{"x":"a","_field_2":null}"#
        );
    }

    /// `touch` reads every cell of the records asked for (its number counts them), in a
    /// chunk held as Parquet columns; a chunk held as bytes has nothing to read ahead.
    #[test]
    fn touch_reads_the_cells_of_the_records_asked_for() {
        let text = StringChunked::from_iter_options(
            "site".into(),
            [
                Some("femur"),
                None,
                Some("a text longer than twelve"),
                Some(""),
            ]
            .into_iter(),
        );
        let numbers = Series::new("n".into(), [Some(1.5), None, Some(-2.0), Some(0.0)]);
        let columns = vec![
            ParquetColumn::from_text(text),
            ParquetColumn::from_values(&numbers).expect("floats are read as values"),
        ];
        let chunk = RawChunk::from_parquet_columns(columns, 1);
        // Text lengths 5 + 0 + 25 + 0, then 3 present numbers.
        assert_eq!(chunk.touch(0..4), 30 + 3);
        assert_eq!(chunk.touch(2..4), 25 + 2);
        // Past the end: record 3 only (no text, a number).
        assert_eq!(chunk.touch(3..9), 1);
        let mut bytes = RawChunk::with_capacity(1, 16);
        bytes.push_record(b"femur1.5", [5, 8].into_iter(), 2);
        bytes.seal();
        assert_eq!(bytes.touch(0..1), 0);
    }

    #[test]
    fn column_held_records_read_like_row_held_ones() {
        let chunk = RawChunk::from_parquet_columns(
            vec![
                ParquetColumn::from_text(StringChunked::from_iter_options(
                    "a".into(),
                    [Some("1"), None].into_iter(),
                )),
                ParquetColumn::from_text(StringChunked::from_iter_options(
                    "b".into(),
                    [Some("x"), Some("yy")].into_iter(),
                )),
            ],
            7,
        );
        assert_eq!(chunk.len(), 2);
        assert_eq!(chunk.width(1), 2);
        assert_eq!(chunk.line(1), 8);
        assert_eq!(chunk.field_str(0, 1), Some(Some("x")));
        assert_eq!(chunk.field(1, 0), Some(&b""[..]), "null: an empty field");
        assert_eq!(chunk.field(1, 2), None, "past the record's end");
        let header = vec!["a".to_string(), "b".to_string()];
        assert_eq!(raw_json(&header, chunk.fields(1)), r#"{"a":null,"b":"yy"}"#);
    }
}
