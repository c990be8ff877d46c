//! Plain-text reports for the terminal: `settle validate` and the list of rejects.

use std::fmt::Write;

use crate::ingest::{Dataset, Reject};
use crate::manifest;

/// One reject on one line: `bills.csv:5: column `list_amount`, value `abc`: not a decimal`.
pub fn reject_line(r: &Reject) -> String {
    let mut s = format!("{}:{}:", r.file, r.line);
    if !r.column.is_empty() {
        let _ = write!(s, " column `{}`", r.column);
        if !r.value.is_empty() {
            let _ = write!(s, ", value `{}`", r.value);
        }
        s.push(':');
    }
    let _ = write!(s, " {}", r.reason);
    s
}

/// The report `settle validate` prints: rows per file, then every reject.
pub fn validation(data: &Dataset) -> String {
    let mut out = format!("dataset `{}`\n\n", data.name);
    let _ = writeln!(
        out,
        "{:<24} {:>10} {:>10} {:>10}",
        "file", "rows", "used", "rejected"
    );
    for i in manifest::inputs(data) {
        if i.present {
            let _ = writeln!(
                out,
                "{:<24} {:>10} {:>10} {:>10}",
                i.file, i.rows_in, i.rows_used, i.rows_rejected
            );
        } else {
            let _ = writeln!(out, "{:<24} {:>10}", i.file, "absent");
        }
        for c in &i.unknown_columns {
            let _ = writeln!(out, "  warning: unknown column `{c}` is ignored");
        }
        if let Some(e) = &i.export {
            let _ = writeln!(
                out,
                "  format: {} (from the {})",
                e.format,
                if e.format_from == "header" {
                    "header"
                } else {
                    "format pinned in settle.toml"
                }
            );
            if e.rows_not_charges > 0 {
                let _ = writeln!(
                    out,
                    "  rows that are not charges, set aside: {}",
                    e.rows_not_charges
                );
            }
            if e.rows_corrections > 0 {
                let _ = writeln!(
                    out,
                    "  corrections, kept and marked: {}",
                    e.rows_corrections
                );
            }
        }
        if let Some(facts) = data
            .inputs
            .iter()
            .find(|f| f.spec.name == i.file)
            .and_then(|f| f.export.as_ref())
        {
            let _ = writeln!(
                out,
                "  bill_id                  ← file name and line (or Parquet row)"
            );
            for (feeds, column) in &facts.mapping {
                let _ = writeln!(out, "  {feeds:<24} ← {column}");
            }
        }
    }
    if data.rejects.is_empty() {
        out.push_str("\nno rows rejected\n");
    } else {
        let _ = writeln!(out, "\n{} row(s) rejected:", data.rejects.len());
        for r in &data.rejects {
            let _ = writeln!(out, "  {}", reject_line(r));
        }
    }
    out
}
