//! CSV and gzip CSV exports: the header, and every row with its physical line.
//!
//! A file is read into memory whole (decompressed, for `.csv.gz`), so that each row's physical
//! line is known even where a quoted cell spans lines ([`crate::ingest::LineCounter`]). The
//! SHA-256 the manifest lists is of the file as it is on disk.

use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::error::DatasetError;
use crate::ingest::exports::{ExportFile, Kind, RawRow};
use crate::ingest::lines::{self, Lines};
use crate::ingest::quoted::Records;
use crate::ingest::{LineCounter, hex};
use memchr::memchr_iter;

/// The file's bytes as stored, and its text (decompressed).
fn load(path: &Path, kind: Kind, name: &'static str) -> Result<(Vec<u8>, Vec<u8>), DatasetError> {
    let io = |source| DatasetError::Io {
        path: path.to_path_buf(),
        source,
    };
    let stored = std::fs::read(path).map_err(io)?;
    let text = match kind {
        Kind::CsvGz => {
            let mut text = Vec::new();
            flate2::read::MultiGzDecoder::new(&stored[..])
                .read_to_end(&mut text)
                .map_err(|e| DatasetError::Unreadable {
                    file: name,
                    line: 0,
                    reason: format!("not a gzip file: {e}"),
                })?;
            text
        }
        _ => Vec::new(),
    };
    Ok((stored, text))
}

/// The header row of a CSV export.
pub fn header(path: &Path, kind: Kind, name: &'static str) -> Result<Vec<String>, DatasetError> {
    let (stored, text) = load(path, kind, name)?;
    let text = if kind == Kind::CsvGz { &text } else { &stored };
    match Records::new(text).next_record() {
        Some(r) => Ok(r
            .iter()
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect()),
        None => Err(DatasetError::EmptyFile {
            file: name,
            expected: "the export's header row".into(),
        }),
    }
}

/// Hands every data row of a CSV export to `visit`, with the cells of the file's fields; returns
/// the file's SHA-256 and its physical lines.
pub fn read(
    file: &ExportFile,
    visit: &mut dyn FnMut(RawRow),
) -> Result<(String, Lines), DatasetError> {
    let (stored, text) = load(&file.path, file.kind, file.name)?;
    let sha256 = hex(&Sha256::digest(&stored));
    let text = if file.kind == Kind::CsvGz {
        &text[..]
    } else {
        &stored[..]
    };
    let wanted = file.wanted();
    let mut counter = LineCounter::new(text);
    let mut records = Records::new(text);
    let (header_start, header_end) = records.next_record().map_or((0, 0), |r| (r.start, r.end));
    let header = lines::trim_end(&text[header_start..header_end]);
    let mut lines = Lines {
        total: lines::count(text),
        header: 1 + memchr_iter(b'\n', header).count() as u64,
        ..Lines::default()
    };
    while let Some(record) = records.next_record() {
        let line = counter.line_at(record.start as u64);
        let raw = lines::trim_end(&text[record.start..record.end]);
        let line_ends = memchr_iter(b'\n', raw).count() as u64;
        if line_ends > 0 {
            lines.spanning(line, line_ends, || {
                lines::spanning_cell(raw)
                    .and_then(|i| file.header.get(i).cloned())
                    .unwrap_or_default()
            });
        }
        if record.len() != file.header.len() {
            visit(RawRow::Bad {
                line,
                reason: format!(
                    "row has {} fields but the header has {}",
                    record.len(),
                    file.header.len()
                ),
            });
            continue;
        }
        let mut values: Vec<&str> = Vec::with_capacity(wanted.len());
        let mut bad = None;
        for column in &wanted {
            let cell = column.map_or(&b""[..], |c| record.get(c));
            match std::str::from_utf8(cell) {
                Ok(v) => values.push(v),
                Err(_) => {
                    bad = Some(*column);
                    break;
                }
            }
        }
        if let Some(column) = bad {
            let name = column.map_or("", |c| file.header[c].as_str());
            visit(RawRow::Bad {
                line,
                reason: format!("column `{name}` is not valid UTF-8; save the export as UTF-8"),
            });
            continue;
        }
        visit(RawRow::Values {
            line,
            values: &values,
        });
    }
    Ok((sha256, lines))
}
