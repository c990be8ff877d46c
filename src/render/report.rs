//! Plain-text reports for the terminal: `settle validate` and the list of rejects.

use std::fmt::Write;

use crate::ingest::Dataset;

/// The report `settle validate` prints: rows per file, the rows that span lines, then every
/// reject.
pub fn validation(data: &Dataset) -> String {
    let inputs = crate::view::inputs::rows(&data.inputs, &data.rejects);
    let line_warnings: Vec<String> = data
        .inputs
        .iter()
        .flat_map(|i| i.lines.warnings(i.spec.name))
        .collect();
    let rejects = &data.rejects;
    let mut out = format!("dataset `{}`\n\n", data.name);
    let _ = writeln!(
        out,
        "{:<24} {:>10} {:>10} {:>10}",
        "file", "rows", "used", "rejected"
    );
    for i in inputs {
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
        if let Some(e) = &i.export {
            let _ = writeln!(
                out,
                "  bill_id                  ← file name and line (or Parquet row)"
            );
            for (feeds, column) in &e.mapping {
                let _ = writeln!(out, "  {feeds:<24} ← {column}");
            }
        }
    }
    for w in line_warnings {
        let _ = writeln!(out, "  warning: {}", w.replace('\n', "\n  "));
    }
    if rejects.is_empty() {
        out.push_str("\nno rows rejected\n");
    } else {
        let _ = writeln!(out, "\n{} row(s) rejected:", rejects.len());
        for r in rejects {
            let _ = writeln!(out, "  {}", r);
        }
    }
    out
}
