//! Reads the small tables (accounts, partners, links, relations, rates, requests) whole, record by
//! record through [`Records`], the splitter every reader shares, with the exact line of
//! every record. These files are small, and read whole; a record longer than
//! [`MAX_RECORD`] is refused all the same, as the big files' reader and the exports' refuse it,
//! so that the bound on a line is one for every input.

use std::path::Path;

use crate::digest::sha256_hex;
use crate::error::DatasetError;
use crate::ingest::cell::CellError;
use crate::ingest::input::{InputFile, Loaded};
use crate::ingest::lines::LineCounter;
use crate::ingest::lines::{self, Lines};
use crate::ingest::parse::{Context, Row};
use crate::ingest::presence::{self, Presence};
use crate::ingest::reader::quoted::{Found, MAX_RECORD, Records, TooLong};
use crate::ingest::schema::{FileSpec, Header};
use crate::model::reject::Reject;

/// Reads one small file. An absent optional file gives no rows.
pub fn read<T>(
    dir: &Path,
    spec: &FileSpec,
    cx: &mut Context,
    parse: fn(&Row, &mut Context) -> Result<T, CellError>,
) -> Result<Loaded<T>, DatasetError> {
    let path = dir.join(spec.name);
    let absent = presence::probe(&path)? == Presence::Absent;
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if absent && e.kind() == std::io::ErrorKind::NotFound && !spec.required => {
            return Ok(Loaded {
                records: Vec::new(),
                rejects: Vec::new(),
                input: InputFile {
                    spec: *spec,
                    sha256: None,
                    rows: 0,
                    unknown_columns: Vec::new(),
                    lines: Lines::default(),
                    export: None,
                },
            });
        }
        Err(source) => return Err(DatasetError::Io { path, source }),
    };
    let sha256 = sha256_hex(&bytes);
    let mut records = Records::new(&bytes);
    let first = records.next_record();
    let header_ends = first.as_ref().map_or(0, |r| {
        memchr::memchr_iter(b'\n', lines::trim_end(r.raw)).count()
    });
    let header = read_header(spec, first)?;
    let mut file_lines = Lines {
        total: lines::count(&bytes),
        header: 1 + header_ends as u64,
        ..Lines::default()
    };

    let mut out = Loaded {
        records: Vec::new(),
        rejects: Vec::new(),
        input: InputFile {
            spec: *spec,
            sha256: Some(sha256),
            rows: 0,
            unknown_columns: header.unknown.clone(),
            lines: Lines::default(),
            export: None,
        },
    };
    let mut lines = LineCounter::new(&bytes);
    while let Some(record) = records.next_record() {
        let line = lines.line_at(record.start as u64);
        out.input.rows += 1;
        let text = lines::trim_end(record.raw);
        if text.len() > MAX_RECORD {
            return Err(too_long(spec, line));
        }
        let line_ends = memchr::memchr_iter(b'\n', text).count() as u64;
        if line_ends > 0 {
            file_lines.spanning(line, line_ends, || {
                lines::spanning_cell(text)
                    .and_then(|i| header.names.get(i).cloned())
                    .unwrap_or_default()
            });
        }
        if record.len() != header.names.len() {
            out.rejects.push(Reject {
                file: spec.name,
                line,
                column: String::new(),
                value: String::new(),
                reason: format!(
                    "row has {} fields but the header has {}",
                    record.len(),
                    header.names.len()
                ),
            });
            continue;
        }
        let mut values: Vec<&str> = Vec::with_capacity(spec.columns.len());
        let mut bad_utf8 = None;
        for (i, &pos) in header.positions.iter().enumerate() {
            match std::str::from_utf8(record.get(pos)) {
                Ok(v) => values.push(v),
                Err(_) => {
                    bad_utf8 = Some(spec.columns[i]);
                    values.push("");
                }
            }
        }
        if let Some(column) = bad_utf8 {
            out.rejects.push(Reject {
                file: spec.name,
                line,
                column: column.into(),
                value: String::new(),
                reason: "not valid UTF-8".into(),
            });
            continue;
        }
        let row = Row {
            line,
            columns: spec.columns,
            values: &values,
        };
        match parse(&row, cx) {
            Ok(r) => out.records.push(r),
            Err(e) => out.rejects.push(e.reject(spec.name, line)),
        }
    }
    out.input.lines = file_lines;
    Ok(out)
}

/// The refusal of a record longer than [`MAX_RECORD`] that starts on `line`.
fn too_long(spec: &FileSpec, line: u64) -> DatasetError {
    DatasetError::Unreadable {
        file: spec.name,
        line,
        reason: format!("refused: {}", TooLong { line }),
    }
}

/// Checks the first record of a file against its spec; one longer than [`MAX_RECORD`] (or the
/// start of one, as the big files' reader reads it) is refused.
pub fn read_header(spec: &FileSpec, first: Option<Found<'_>>) -> Result<Header, DatasetError> {
    let Some(record) = first else {
        return Err(DatasetError::EmptyFile {
            file: spec.name,
            expected: spec.columns.join(", "),
        });
    };
    if lines::trim_end(record.raw).len() > MAX_RECORD {
        return Err(too_long(spec, 1));
    }
    let names: Vec<&str> = record
        .iter()
        .map(std::str::from_utf8)
        .collect::<Result<_, _>>()
        .map_err(|_| DatasetError::Unreadable {
            file: spec.name,
            line: 1,
            reason: "header is not valid UTF-8".into(),
        })?;
    Header::match_spec(spec, &names)
}
