//! A month of record (R9): what `settle close` compares between the reviewed draft and the month
//! computed again, and what `settle run` compares between a closed month and the current inputs.
//!
//! A draft and its month of record differ only where they must: the PDFs and workbooks (the
//! draft's carry the 草稿 DRAFT mark, the final ones their issue date) and the manifest's state fields
//! ([`crate::manifest::STATE_FIELDS`]) and output list. Everything else, every CSV and the
//! manifest's inputs, settings and checks, must be the same, byte for byte; [`crate::diff`]
//! says what is not.

use std::fmt::Write;
use std::path::Path;

use crate::diff::{self, FileChange, Report};
use crate::error::Error;
use crate::manifest::STATE_FIELDS;
use crate::output::fail;

/// The folder of a month of record that keeps the inputs it was computed from.
pub const INPUTS: &str = "inputs";

/// Keeps the dataset folder `inputs` in the month of record being written: every regular file,
/// as `inputs/<path>.gz` (a file delivered gzipped is kept as it was), so that a restatement can
/// say which input rows changed since ([`crate::changes`]).
pub fn keep_inputs(inputs: &Path, staging: &crate::output::Staging) -> Result<(), Error> {
    let into = staging.folder().join(INPUTS);
    for path in crate::changes::files(inputs)? {
        let from = inputs.join(&path);
        let to = into.join(format!("{path}.gz"));
        if let Some(dir) = to.parent() {
            std::fs::create_dir_all(dir).map_err(fail(dir))?;
        }
        let out = std::fs::File::create(&to).map_err(fail(&to))?;
        let mut source = std::fs::File::open(&from).map_err(fail(&from))?;
        let out = if from.extension().is_some_and(|e| e == "gz") {
            let mut out = out;
            std::io::copy(&mut source, &mut out).map_err(fail(&to))?;
            out
        } else {
            let mut gz = flate2::write::GzEncoder::new(out, flate2::Compression::fast());
            std::io::copy(&mut source, &mut gz).map_err(fail(&to))?;
            gz.finish().map_err(fail(&to))?
        };
        out.sync_all().map_err(fail(&to))?;
    }
    Ok(())
}

/// At most this many rows of each changed document are named in a refusal; `settle diff` gives
/// them all.
const ROWS_NAMED: usize = 5;

/// What differs between the period folder `record` and the folder `fresh` written again, leaving
/// out what legitimately differs between a draft and its month of record. Without `manifest`,
/// only the documents are compared (a run on a closed month asks whether a document of record
/// would change, not whether the inputs' bytes did).
pub fn differences(record: &Path, fresh: &Path, manifest: bool) -> Result<Report, Error> {
    let mut report = diff::compare(record, fresh).map_err(|e| {
        Error::Internal(format!(
            "the period folder cannot be compared with the month computed again: {e}"
        ))
    })?;
    report.files.retain_mut(|(name, change)| {
        if name.ends_with(".pdf") || name.ends_with(".xlsx") || name.starts_with("inputs/") {
            return false;
        }
        if let FileChange::Manifest(fields) = change {
            if !manifest {
                return false;
            }
            fields.retain(|f| !STATE_FIELDS.contains(&f.as_str()));
            return !fields.is_empty();
        }
        true
    });
    Ok(report)
}

/// The differences for a message: one line per document, with the first rows that changed.
pub fn describe(report: &Report) -> String {
    let mut out = String::new();
    for (name, change) in &report.files {
        match change {
            FileChange::Added => {
                let _ = writeln!(out, "  {name}: new");
            }
            FileChange::Removed => {
                let _ = writeln!(out, "  {name}: no longer written");
            }
            FileChange::Bytes => {
                let _ = writeln!(out, "  {name}: the bytes differ");
            }
            FileChange::Manifest(fields) => {
                let _ = writeln!(out, "  {name}: {} differ", fields.join(", "));
            }
            FileChange::Rows { rows, .. } => {
                let _ = writeln!(out, "  {name}: {} row(s) differ", rows.len());
                for row in rows.iter().take(ROWS_NAMED) {
                    let cells: Vec<String> = row
                        .cells
                        .iter()
                        .map(|c| format!("{} {} → {}", c.column, c.a, c.b))
                        .collect();
                    let _ = writeln!(
                        out,
                        "    {} {}{}{}",
                        row.change.as_str(),
                        row.key,
                        if cells.is_empty() { "" } else { ": " },
                        cells.join(", ")
                    );
                }
                if rows.len() > ROWS_NAMED {
                    let _ = writeln!(out, "    … and {} more", rows.len() - ROWS_NAMED);
                }
            }
        }
    }
    out
}
