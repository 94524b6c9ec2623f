//! Where each contract column sits in a source file, after the mapping's renames, and how to
//! read a cell of it after the mapping's recodes. The raw record itself is never altered, so
//! rejected rows are written as they were read.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::mapping::TableMapping;
use super::raw::{raw_json, RawChunk, TypedCell};
use crate::error::{Error, Result};

/// A cell as the validator sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell<'a> {
    /// Empty (after trimming), or the column is absent.
    Missing,
    /// Trimmed text, recoded when the mapping says so.
    Text(&'a str),
    /// Bytes that are not UTF-8.
    NotUtf8,
}

/// A cell's text after the mapping's recode of its column (kept out of the common path).
#[inline(never)]
fn recoded<'a>(table: &'a HashMap<String, String>, text: &'a str) -> Cell<'a> {
    match table.get(&text.to_lowercase()) {
        Some(mapped) if mapped.trim_ascii().is_empty() => Cell::Missing,
        Some(mapped) => Cell::Text(mapped.trim_ascii()),
        None => Cell::Text(text),
    }
}

/// The columns of one source table matched against the contract columns of that table.
#[derive(Debug, Clone)]
pub struct TableLayout {
    path: PathBuf,
    source_names: Vec<String>,
    /// For each contract column (by index), its position in the source.
    positions: Vec<Option<usize>>,
    /// For each contract column, lower-cased source value → contract value.
    recodes: Vec<Option<HashMap<String, String>>>,
    /// Source positions of columns outside the contract, carried through untouched.
    extra_positions: Vec<usize>,
}

impl TableLayout {
    /// Matches `source_names` (the file's header) against `contract` (the table's contract
    /// columns, in the validator's order), applying `mapping`. Fails on a duplicate column
    /// (after renames) or a recode of a column outside the contract.
    pub fn new(
        path: &Path,
        source_names: &[String],
        contract: &[&str],
        mapping: &TableMapping,
    ) -> Result<Self> {
        let renamed: Vec<String> = source_names
            .iter()
            .map(|name| {
                mapping
                    .rename
                    .get(name)
                    .cloned()
                    .unwrap_or_else(|| name.clone())
            })
            .collect();
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (i, name) in renamed.iter().enumerate() {
            if let Some(first) = seen.insert(name.as_str(), i) {
                return Err(Error::DuplicateColumn {
                    path: path.to_path_buf(),
                    column: name.clone(),
                    first: first + 1,
                    second: i + 1,
                });
            }
        }
        let positions: Vec<Option<usize>> = contract
            .iter()
            .map(|c| renamed.iter().position(|n| n == c))
            .collect();
        let mut recodes = vec![None; contract.len()];
        for (column, values) in &mapping.recode {
            let Some(index) = contract.iter().position(|c| c == column) else {
                return Err(Error::Mapping {
                    path: path.to_path_buf(),
                    message: format!(
                        "recode names column '{column}', which is not a contract column of this table (expected one of: {})",
                        contract.join(", ")
                    ),
                });
            };
            let table: HashMap<String, String> = values
                .iter()
                .map(|(from, to)| (from.trim().to_lowercase(), to.clone()))
                .collect();
            recodes[index] = Some(table);
        }
        let extra_positions = (0..renamed.len())
            .filter(|i| !positions.contains(&Some(*i)))
            .collect();
        Ok(Self {
            path: path.to_path_buf(),
            source_names: source_names.to_vec(),
            positions,
            recodes,
            extra_positions,
        })
    }

    /// The source file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether contract column `col` is present in the source.
    pub fn has(&self, col: usize) -> bool {
        self.positions[col].is_some()
    }

    /// The name of contract column `col` in the source file, if present.
    pub fn source_name(&self, col: usize) -> Option<&str> {
        self.positions[col].map(|p| self.source_names[p].as_str())
    }

    /// Source names of the columns outside the contract.
    pub fn extra_names(&self) -> Vec<String> {
        self.extra_positions
            .iter()
            .map(|&p| self.source_names[p].clone())
            .collect()
    }

    /// Contract column `col` of record `row`, trimmed and recoded.
    #[inline(always)]
    pub fn cell<'a>(&'a self, chunk: &'a RawChunk, row: usize, col: usize) -> Cell<'a> {
        let Some(field) = self.positions[col].and_then(|p| chunk.field_str(row, p)) else {
            return Cell::Missing;
        };
        let Some(text) = field else {
            return Cell::NotUtf8;
        };
        // Most cells start and end on a visible character: nothing to trim (ASCII whitespace
        // is at or below b' ').
        let text = match text.as_bytes() {
            [only] if *only > b' ' => text,
            [first, .., last] if *first > b' ' && *last > b' ' => text,
            _ => text.trim_ascii(),
        };
        if text.is_empty() {
            return Cell::Missing;
        }
        match &self.recodes[col] {
            Some(table) => recoded(table, text),
            None => Cell::Text(text),
        }
    }

    /// Contract column `col` of record `row` as its value, when the source holds it as a
    /// number or boolean (Parquet) and the mapping does not recode it; `None` otherwise (read
    /// it with [`TableLayout::cell`]).
    #[inline]
    pub fn typed_cell(&self, chunk: &RawChunk, row: usize, col: usize) -> Option<TypedCell> {
        if self.recodes[col].is_some() {
            return None;
        }
        chunk.typed_field(row, self.positions[col]?)
    }

    /// Number of columns in the source header.
    pub fn header_len(&self) -> usize {
        self.source_names.len()
    }

    /// Whether record `row` has exactly as many fields as the header.
    pub fn is_ragged(&self, chunk: &RawChunk, row: usize) -> bool {
        chunk.width(row) != self.source_names.len()
    }

    /// The untouched cells of the columns outside the contract (empty → `None`).
    pub fn extra_cells(&self, chunk: &RawChunk, row: usize) -> Vec<Option<Box<str>>> {
        self.extra_positions
            .iter()
            .map(|&p| {
                chunk
                    .field(row, p)
                    .filter(|b| !b.is_empty())
                    .map(|b| String::from_utf8_lossy(b).into())
            })
            .collect()
    }

    /// The record's original fields as a JSON object.
    pub fn raw_json(&self, chunk: &RawChunk, row: usize) -> String {
        raw_json(&self.source_names, chunk.fields(row))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every cell shape the trimming shortcut and the full trim must agree on: padded, one
    /// character, blank, tab- and CR-padded, empty; and a recode applied to the trimmed text.
    #[test]
    fn cells_are_trimmed_whatever_their_length_and_recoded_after() {
        let cells: [&[u8]; 8] = [b" m ", b"f", b" ", b"\tx", b"y\r", b"", b"ab", b" Yes"];
        let mut chunk = RawChunk::default();
        for cell in cells {
            chunk.push_field(cell);
        }
        chunk.end_record(2);
        chunk.seal();
        let names: Vec<String> = (0..cells.len()).map(|i| format!("c{i}")).collect();
        let contract: Vec<&str> = names.iter().map(String::as_str).collect();
        let mut mapping = TableMapping::default();
        mapping.recode.insert(
            "c7".into(),
            [("yes".to_string(), "true".to_string())].into(),
        );
        let layout = TableLayout::new(Path::new("t.csv"), &names, &contract, &mapping)
            .expect("a valid layout");
        let read: Vec<Cell> = (0..cells.len())
            .map(|c| layout.cell(&chunk, 0, c))
            .collect();
        assert_eq!(
            read,
            [
                Cell::Text("m"),
                Cell::Text("f"),
                Cell::Missing,
                Cell::Text("x"),
                Cell::Text("y"),
                Cell::Missing,
                Cell::Text("ab"),
                Cell::Text("true"),
            ]
        );
    }
}
