//! Each input file's facts as reported: present or not, its SHA-256, rows in, used and rejected.
//! `manifest.json` and `settle validate` print these same rows.

use serde::Serialize;

use crate::ingest::input::InputFile;
use crate::model::reject::Reject;

#[derive(Serialize)]
pub struct InputRow {
    pub file: &'static str,
    pub present: bool,
    pub sha256: Option<String>,
    pub rows_in: u64,
    pub rows_used: u64,
    pub rows_rejected: u64,
    /// Physical lines: `lines = header_lines + rows_in + continued_lines + blank_lines`.
    pub lines: u64,
    pub header_lines: u64,
    /// Lines that continue a row inside a quoted cell.
    pub continued_lines: u64,
    /// Lines that hold no row.
    pub blank_lines: u64,
    pub unknown_columns: Vec<String>,
    /// Export files only.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub export: Option<ExportRow>,
}

/// What is reported of an export file besides its rows.
#[derive(Serialize)]
pub struct ExportRow {
    /// One of [`crate::config::ExportFormat::NAMES`].
    pub format: &'static str,
    /// `header` when recognised from the file's columns, `settle.toml` when pinned there.
    pub format_from: &'static str,
    /// Of the rows used, those that are not charges (FOCUS `Tax`, subtotal rows): set aside by
    /// that rule rather than folded as bill lines.
    pub rows_not_charges: u64,
    /// Of the rows used, the lines marked as corrections (FOCUS `ChargeClass = Correction`).
    pub rows_corrections: u64,
    /// Which export column fed each contract column, for `settle validate`.
    #[serde(skip)]
    pub mapping: Vec<(&'static str, &'static str)>,
}

/// One row per input file, rows used being the rows in less the file's rejects.
pub fn rows(inputs: &[InputFile], rejects: &[Reject]) -> Vec<InputRow> {
    inputs
        .iter()
        .map(|i| {
            let rejected = rejects.iter().filter(|r| r.file == i.spec.name).count() as u64;
            InputRow {
                file: i.spec.name,
                present: i.sha256.is_some(),
                sha256: i.sha256.clone(),
                rows_in: i.rows,
                rows_used: i.rows - rejected,
                rows_rejected: rejected,
                lines: i.lines.total,
                header_lines: i.lines.header,
                continued_lines: i.lines.continued,
                blank_lines: i.lines.blank(i.rows),
                unknown_columns: i.unknown_columns.clone(),
                export: i.export.as_ref().map(|e| ExportRow {
                    format: e.format.as_str(),
                    format_from: if e.recognised {
                        "header"
                    } else {
                        "settle.toml"
                    },
                    rows_not_charges: e.not_charges,
                    rows_corrections: e.corrections,
                    mapping: e.mapping.clone(),
                }),
            }
        })
        .collect()
}
