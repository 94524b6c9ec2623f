//! Patient rows looked up by patient_id without copying the ids: a hash table of row indices
//! into the patients' id column (4 bytes an entry, so a million patients stay cache-friendly).

use std::hash::BuildHasher;

use hashbrown::HashTable;

/// Rows of an id column, by id.
#[derive(Debug, Clone, Default)]
pub struct IdTable {
    table: HashTable<u32>,
    hasher: foldhash::fast::FixedState,
}

impl IdTable {
    /// Indexes `ids`; returns the table and every row whose id an earlier row already has.
    pub fn build(ids: &[String]) -> (Self, Vec<u32>) {
        let mut table = Self {
            table: HashTable::with_capacity(ids.len()),
            hasher: foldhash::fast::FixedState::default(),
        };
        let mut repeats = Vec::new();
        for (row, id) in ids.iter().enumerate() {
            let hash = table.hasher.hash_one(id.as_str());
            let row = row as u32;
            match table.table.find(hash, |&other| ids[other as usize] == *id) {
                Some(_) => repeats.push(row),
                None => {
                    table.table.insert_unique(hash, row, |&r| {
                        table.hasher.hash_one(ids[r as usize].as_str())
                    });
                }
            }
        }
        (table, repeats)
    }

    /// The first row of `ids` holding `id`, if any (`ids` must be the column it was built on).
    pub fn get(&self, ids: &[String], id: &str) -> Option<u32> {
        let hash = self.hasher.hash_one(id);
        self.table
            .find(hash, |&row| ids[row as usize] == id)
            .copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_rows_and_reports_repeats() {
        let ids: Vec<String> = ["a", "b", "a", "c", "b"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let (table, repeats) = IdTable::build(&ids);
        assert_eq!(repeats, [2, 4]);
        assert_eq!(table.get(&ids, "a"), Some(0));
        assert_eq!(table.get(&ids, "c"), Some(3));
        assert_eq!(table.get(&ids, "z"), None);
    }
}
