//! Raw records as read from a source file, before any typing: the bytes of each field, the
//! record's source line, and its field count. CSV and Parquet both arrive in this form, so one
//! validator serves both and they reject identically.

/// A batch of raw records stored contiguously (one allocation per batch, not per field).
#[derive(Debug, Default, Clone)]
pub struct RawChunk {
    bytes: Vec<u8>,
    /// End offset in `bytes` of every field, records one after another.
    field_ends: Vec<usize>,
    /// End index in `field_ends` of every record.
    record_ends: Vec<usize>,
    /// Source line of each record's first line (CSV) or 1-based row number (Parquet).
    lines: Vec<u64>,
}

impl RawChunk {
    /// An empty chunk with room for `records` records.
    pub fn with_capacity(records: usize, bytes: usize) -> Self {
        Self {
            bytes: Vec::with_capacity(bytes),
            field_ends: Vec::new(),
            record_ends: Vec::with_capacity(records),
            lines: Vec::with_capacity(records),
        }
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

    /// Number of records.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// Whether the chunk holds no record.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Bytes held, for sizing chunks.
    pub fn byte_len(&self) -> usize {
        self.bytes.len()
    }

    /// Source line (CSV) or row number (Parquet) of record `row`.
    pub fn line(&self, row: usize) -> u64 {
        self.lines[row]
    }

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
        self.field_range(row).len()
    }

    /// Field `col` of record `row`, or `None` past the record's end.
    pub fn field(&self, row: usize, col: usize) -> Option<&[u8]> {
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
        Some(&self.bytes[start..self.field_ends[index]])
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

    #[test]
    fn fields_and_widths_round_trip() {
        let mut chunk = RawChunk::default();
        chunk.push_field(b"a");
        chunk.push_field(b"");
        chunk.end_record(2);
        chunk.push_field(b"ccc");
        chunk.end_record(4);
        assert_eq!(chunk.len(), 2);
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
}
