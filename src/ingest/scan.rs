//! Streams the big files (`bills.csv`, `usage.csv`) through a polars CSV scan.
//!
//! polars splits and decodes the CSV on all cores and hands over batches of string columns, in
//! file order; each batch is turned into typed records by the same parse functions the small
//! files use. Only the SPEC columns are read (projection pushdown), and money never passes through
//! a float: cells stay text until `rust_decimal` parses them.
//!
//! Line numbers come from the record's index (batches arrive in file order): line = record + 2 (the header is line 1). A record with a
//! newline inside a quoted cell spans several lines, so when the file has more lines than records
//! the exact lines are recovered with one extra pass of the `csv` crate.

use std::io::Read;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use polars::prelude::*;
use sha2::{Digest, Sha256};

use crate::error::DatasetError;
use crate::ingest::cell::CellError;
use crate::ingest::parse::{Context, Row};
use crate::ingest::schema::{FileSpec, Header};
use crate::ingest::{HasLine, InputFile, LineCounter, Loaded, Reject, hex, small};
use crate::model::records::Line;

struct State<T> {
    cx: Context,
    records: Vec<T>,
    rejects: Vec<Reject>,
    rows: u64,
}

/// Reads one big file. An absent optional file gives no rows.
pub fn read<T: HasLine + Send + 'static>(
    dir: &Path,
    spec: &'static FileSpec,
    cx: &mut Context,
    parse: fn(&Row, &mut Context) -> Result<T, CellError>,
) -> Result<Loaded<T>, DatasetError> {
    let path = dir.join(spec.name);
    let io = |source| DatasetError::Io {
        path: path.clone(),
        source,
    };
    let file = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !spec.required => {
            return Ok(Loaded {
                records: Vec::new(),
                rejects: Vec::new(),
                input: InputFile {
                    spec: *spec,
                    sha256: None,
                    rows: 0,
                    unknown_columns: Vec::new(),
                },
            });
        }
        Err(e) => return Err(io(e)),
    };
    let header = {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(std::io::BufReader::new(&file));
        small::read_header(spec, reader.byte_records().next())?
    };

    let state = Arc::new(Mutex::new(State {
        cx: std::mem::replace(cx, Context::new(cx.zone.tz)),
        records: Vec::new(),
        rejects: Vec::new(),
        rows: 0,
    }));
    // Hash the file and count its lines on one thread while polars parses it on the others.
    let (digest, scanned) = std::thread::scope(|s| {
        let digest = s.spawn(|| digest_and_count_lines(&path));
        let scanned = run_scan(&path, spec, &header, state.clone(), parse);
        (digest.join(), scanned)
    });
    let (sha256, physical_lines) = digest
        .unwrap_or_else(|_| Err(std::io::Error::other("hashing thread panicked")))
        .map_err(io)?;

    let mut st = std::mem::replace(
        &mut *state.lock().unwrap_or_else(PoisonError::into_inner),
        State {
            cx: Context::new(cx.zone.tz),
            records: Vec::new(),
            rejects: Vec::new(),
            rows: 0,
        },
    );
    *cx = st.cx;
    scanned.map_err(|e| DatasetError::Unreadable {
        file: spec.name,
        line: 0,
        reason: e.to_string(),
    })?;

    if physical_lines != st.rows + 1 {
        let lines = exact_lines(&path).map_err(|e| DatasetError::Unreadable {
            file: spec.name,
            line: e.position().map_or(0, |p| p.line()),
            reason: e.to_string(),
        })?;
        let exact = |provisional: Line| {
            lines
                .get((provisional - 2) as usize)
                .copied()
                .unwrap_or(provisional)
        };
        for r in &mut st.records {
            *r.line_mut() = exact(r.line());
        }
        for r in &mut st.rejects {
            r.line = exact(r.line);
        }
    }
    Ok(Loaded {
        records: st.records,
        rejects: st.rejects,
        input: InputFile {
            spec: *spec,
            sha256: Some(sha256),
            rows: st.rows,
            unknown_columns: header.unknown,
        },
    })
}

fn run_scan<T: Send + 'static>(
    path: &Path,
    spec: &'static FileSpec,
    header: &Header,
    state: Arc<Mutex<State<T>>>,
    parse: fn(&Row, &mut Context) -> Result<T, CellError>,
) -> PolarsResult<()> {
    let schema: Schema = header
        .names
        .iter()
        .map(|n| Field::new(n.as_str().into(), DataType::String))
        .collect();
    let projection: Vec<Expr> = spec.columns.iter().copied().map(col).collect();
    let callback = PlanCallback::new(move |df: DataFrame| -> PolarsResult<bool> {
        let mut guard = state.lock().unwrap_or_else(PoisonError::into_inner);
        let st = &mut *guard;
        // Batches arrive in file order, so the rows seen so far give each record's index.
        let first_line = st.rows + 2;
        let height = df.height();
        let (records, rejects) = parse_frame(&df, spec, &mut st.cx, parse, first_line)?;
        st.records.extend(records);
        st.rejects.extend(rejects);
        st.rows += height as u64;
        Ok(false)
    });
    LazyCsvReader::new(PlRefPath::new(path.to_string_lossy().as_ref()))
        .with_has_header(true)
        .with_schema(Some(Arc::new(schema)))
        .with_truncate_ragged_lines(true)
        .finish()?
        .select(projection)
        .sink_batches(callback, true, None)?
        .collect_with_engine(Engine::Streaming)?;
    Ok(())
}

/// Parses the rows of one batch; `first_line` is the line of its first row.
fn parse_frame<T>(
    df: &DataFrame,
    spec: &'static FileSpec,
    cx: &mut Context,
    parse: fn(&Row, &mut Context) -> Result<T, CellError>,
    first_line: u64,
) -> PolarsResult<(Vec<T>, Vec<Reject>)> {
    let columns: Vec<&StringChunked> = spec
        .columns
        .iter()
        .map(|c| df.column(c).and_then(Column::str))
        .collect::<PolarsResult<_>>()?;
    let mut cells: Vec<_> = columns.iter().map(|c| c.iter()).collect();
    let mut values: Vec<&str> = Vec::with_capacity(cells.len());
    let (mut records, mut rejects) = (Vec::with_capacity(df.height()), Vec::new());
    for line in first_line..first_line + df.height() as u64 {
        values.clear();
        values.extend(cells.iter_mut().map(|c| c.next().flatten().unwrap_or("")));
        let row = Row {
            line,
            columns: spec.columns,
            values: &values,
        };
        match parse(&row, cx) {
            Ok(r) => records.push(r),
            Err(e) => rejects.push(Reject::from_cell(spec.name, line, e)),
        }
    }
    Ok((records, rejects))
}

/// The file's SHA-256 and its number of lines (a last line without `\n` counts).
fn digest_and_count_lines(path: &Path) -> std::io::Result<(String, u64)> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let (mut lines, mut last) = (0u64, b'\n');
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        lines += buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
        last = buf[n - 1];
    }
    if last != b'\n' {
        lines += 1;
    }
    Ok((hex(&hasher.finalize()), lines))
}

/// The starting line of every data record, for files where a quoted cell spans lines.
fn exact_lines(path: &Path) -> Result<Vec<Line>, csv::Error> {
    let bytes = std::fs::read(path)?;
    let mut lines = LineCounter::new(&bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(&bytes[..]);
    reader
        .byte_records()
        .map(|r| r.map(|r| lines.line_at(r.position().map_or(0, |p| p.byte()))))
        .collect()
}
