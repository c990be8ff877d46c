//! Reads the small tables (accounts, partners, links, relations, rates, requests) with the `csv`
//! crate, which knows the exact line of every record.

use std::path::Path;

use sha2::{Digest, Sha256};

use crate::error::DatasetError;
use crate::ingest::cell::CellError;
use crate::ingest::parse::{Context, Row};
use crate::ingest::schema::{FileSpec, Header};
use crate::ingest::{InputFile, LineCounter, Loaded, Reject, hex};

/// Reads one small file. An absent optional file gives no rows.
pub fn read<T>(
    dir: &Path,
    spec: &FileSpec,
    cx: &mut Context,
    parse: fn(&Row, &mut Context) -> Result<T, CellError>,
) -> Result<Loaded<T>, DatasetError> {
    let path = dir.join(spec.name);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !spec.required => {
            return Ok(Loaded {
                records: Vec::new(),
                rejects: Vec::new(),
                input: InputFile {
                    spec: *spec,
                    sha256: None,
                    rows: 0,
                    unknown_columns: Vec::new(),
                    export: None,
                },
            });
        }
        Err(source) => return Err(DatasetError::Io { path, source }),
    };
    let sha256 = hex(&Sha256::digest(&bytes));
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(&bytes[..]);
    let mut records = reader.byte_records();
    let header = read_header(spec, records.next())?;

    let mut out = Loaded {
        records: Vec::new(),
        rejects: Vec::new(),
        input: InputFile {
            spec: *spec,
            sha256: Some(sha256),
            rows: 0,
            unknown_columns: header.unknown.clone(),
            export: None,
        },
    };
    let mut lines = LineCounter::new(&bytes);
    for record in records {
        let record = record.map_err(|e| unreadable(spec, &e))?;
        let line = lines.line_at(record.position().map_or(0, |p| p.byte()));
        out.input.rows += 1;
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
            match std::str::from_utf8(&record[pos]) {
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
            Err(e) => out.rejects.push(Reject::from_cell(spec.name, line, e)),
        }
    }
    Ok(out)
}

/// Checks the first record of a file against its spec.
pub fn read_header(
    spec: &FileSpec,
    first: Option<Result<csv::ByteRecord, csv::Error>>,
) -> Result<Header, DatasetError> {
    let expected = || spec.columns.join(", ");
    let record = match first {
        None => {
            return Err(DatasetError::EmptyFile {
                file: spec.name,
                expected: expected(),
            });
        }
        Some(r) => r.map_err(|e| unreadable(spec, &e))?,
    };
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

fn unreadable(spec: &FileSpec, e: &csv::Error) -> DatasetError {
    DatasetError::Unreadable {
        file: spec.name,
        line: e.position().map_or(0, |p| p.line()),
        reason: e.to_string(),
    }
}
