//! Human-readable output: the summary `validate` prints, and the report of `bonemet run`
//! ([`run`]).

pub mod flow;
pub mod run;

use std::io::Write;

use crate::commands::{QualityGate, TableRecord};
use crate::io::CohortFiles;
use crate::schema::Table;

/// Writes the validation summary: rows per table, rejections per reason, the gate's verdict.
pub fn write_validation_summary(
    out: &mut dyn Write,
    files: &CohortFiles,
    tables: &[TableRecord],
    gate: &QualityGate,
) -> std::io::Result<()> {
    let path_of = |table: Table| {
        match table {
            Table::Patients => Some(&files.patients),
            Table::Events => files.events.as_ref(),
            Table::Labs => files.labs.as_ref(),
        }
        .map(|p| p.display().to_string())
        .unwrap_or_default()
    };
    writeln!(
        out,
        "{:<9} {:>10} {:>10} {:>10} {:>8}  file",
        "table", "read", "accepted", "rejected", "share"
    )?;
    for t in tables {
        writeln!(
            out,
            "{:<9} {:>10} {:>10} {:>10} {:>7.2}%  {}",
            t.table.as_str(),
            t.rows_read,
            t.rows_accepted,
            t.rows_rejected,
            100.0 * t.rejected_share,
            path_of(t.table)
        )?;
    }
    let any = tables.iter().any(|t| !t.rejections_by_reason.is_empty());
    if any {
        writeln!(
            out,
            "\nrejections by reason (a row can break several rules):"
        )?;
        for t in tables {
            for (reason, count) in &t.rejections_by_reason {
                writeln!(
                    out,
                    "  {:<9} {:<30} {:>10}",
                    t.table.as_str(),
                    reason,
                    count
                )?;
            }
        }
    }
    if gate.passed {
        writeln!(
            out,
            "\nquality gate: passed (every table at or under {:.2}% rejected)",
            100.0 * gate.max_rejected_share
        )
    } else {
        let names: Vec<&str> = gate.failed_tables.iter().map(|t| t.as_str()).collect();
        writeln!(
            out,
            "\nquality gate: FAILED: rejected share above {:.2}% in {}",
            100.0 * gate.max_rejected_share,
            names.join(", ")
        )
    }
}
