//! Entry points for the fuzzers: the row splitter, the cell parsers, a whole small dataset, and
//! each cloud export format's reader (FOCUS CSV, Alibaba, Tencent, Huawei, and FOCUS Parquet).
//!
//! `fuzz/` (run with `make fuzz`, under AFL++) hands each input to one of these, and
//! `tests/fuzz_corpus.rs` replays the committed corpus through them in `make test`. Each takes
//! any bytes, must never panic, and checks what must hold whatever the input: a parsed value
//! prints and parses back to itself, every physical line of a file is accounted for, a run either
//! writes a whole folder whose money balances or stops with a dataset error (exit code 2 or 3),
//! never with an internal one; an export file is refused, or each of its rows is a bill line,
//! a row set aside or a reject, and every bill line is folded by exactly one batch.

use std::path::{Path, PathBuf};

use crate::config::{ExportFormat, ExportSettings};
use crate::ingest::cell::Cell;
use crate::ingest::exports::{self, Exports};
use crate::ingest::parse::{self, Context};
use crate::ingest::reader::big;
use crate::ingest::schema::{self, FileSpec};
use crate::ingest::{lines::Lines, small};
use crate::model::fold::Fold;
use crate::model::money::parse_decimal;
use crate::model::period::Month;
use crate::model::records::*;
use crate::model::time::{EARLIEST, LATEST, parse_timestamp};
use crate::pipeline::{self, RunConfig};
use crate::progress::Quiet;

/// A folder of this process's own for the files the targets write.
fn scratch() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("settle-fuzz-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    dir
}

fn check_lines(lines: &Lines, rows: u64, what: &str) {
    assert!(
        lines.header + rows + lines.continued <= lines.total,
        "{what}: {lines:?} with {rows} rows accounts for more lines than the file has"
    );
}

/// The row splitter: `data` after `usage.csv`'s header, read by the big files' reader and by
/// the small files' reader. Both count lines soundly, and when no `\r` can make them see line
/// ends differently they take the same rows and reject the same lines.
pub fn rows(data: &[u8]) {
    let dir = scratch().join("rows");
    let _ = std::fs::create_dir_all(&dir);
    let spec: &'static FileSpec = &schema::USAGE;
    let mut file = spec.columns.join(",").into_bytes();
    file.push(b'\n');
    file.extend_from_slice(data);
    if std::fs::write(dir.join(spec.name), &file).is_err() {
        return;
    }
    let mut cx = Context::new(chrono_tz::Asia::Shanghai);
    cx.accounts = std::sync::Arc::new(["a", "acc-1"].into_iter().map(Text::from).collect());
    let big = big::check(&dir, spec, &cx, parse::usage, &Quiet);
    let small = small::read(&dir, spec, &mut cx, parse::usage);
    let (Ok(big), Ok(small)) = (big, small) else {
        return;
    };
    check_lines(&big.input.lines, big.input.rows, "big reader");
    check_lines(&small.input.lines, small.input.rows, "small reader");
    if !data.contains(&b'\r') {
        assert_eq!(
            big.input.rows, small.input.rows,
            "both readers take the same rows"
        );
        assert_eq!(big.input.lines.total, small.input.lines.total);
    }
}

/// The cell parsers: decimals, timestamps in three zones, months and every enum, on each line
/// of `data`. What parses prints and parses back to the same value.
pub fn cells(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for value in text.split('\n').take(64) {
        let cell = Cell {
            column: "amount",
            value,
        };
        if let Ok(d) = parse_decimal(value) {
            assert_eq!(
                parse_decimal(&d.to_string()),
                Ok(d),
                "`{value}` prints back"
            );
        }
        if let Ok(d) = cell.decimal() {
            assert!(crate::model::bounds::fits(d));
        }
        let _ = cell.rate();
        let _ = cell.non_negative();
        let _ = cell.currency();
        let _ = cell.boolean();
        for tz in [
            chrono_tz::Asia::Shanghai,
            chrono_tz::Europe::Berlin,
            chrono_tz::UTC,
        ] {
            if let Ok(t) = parse_timestamp(value, tz) {
                // RFC 3339 offsets have whole minutes, and a zone's early local mean time may
                // not (Shanghai's was +08:05:43), so a time prints back to within a minute.
                let printed = t.format_rfc3339(tz);
                // Within a day of the bounds, a zone's local mean time with its seconds cut off
                // may print back just outside them.
                let day = 86_400;
                if !(EARLIEST + day..LATEST - day).contains(&t.0) {
                    continue;
                }
                let back = parse_timestamp(&printed, tz).map(|b| (b.0 - t.0).abs());
                assert!(
                    matches!(back, Ok(0..60)),
                    "`{value}` prints back: {printed}"
                );
                let _ = t.format_local(tz);
                let _ = t.add_local_days(3650, tz);
            }
        }
        if let Ok(m) = value.parse::<Month>() {
            assert_eq!(m.to_string().parse::<Month>(), Ok(m));
            let _ = crate::model::period::Period::new(m, chrono_tz::Europe::Berlin);
        }
        let _ = (
            PaymentMode::parse(value),
            BillingCycle::parse(value),
            PaymentStatus::parse(value),
            PaidWith::parse(value),
            TitleKind::parse(value),
            InvoiceKind::parse(value),
            LinkType::parse(value),
            RelationKind::parse(value),
            InvoiceBy::parse(value),
            ModeFilter::parse(value),
            OrderStatus::parse(value),
        );
    }
}

/// The files of a dataset, as the `dataset` target reads them: sections that each start with a
/// line `--- <file name>`.
pub fn sections(data: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = Vec::new();
    for line in data.split_inclusive(|&b| b == b'\n') {
        match line.strip_prefix(b"--- ") {
            Some(name) => out.push((String::from_utf8_lossy(name).trim().to_string(), Vec::new())),
            None => {
                if let Some((_, body)) = out.last_mut() {
                    body.extend_from_slice(line);
                }
            }
        }
    }
    out
}

/// A whole small run of the dataset in `data` (see [`sections`]) for October 2026, its PDFs
/// rendered when the input's length is a multiple of 4. The run writes a whole folder whose
/// rows and money add up, or stops with exit code 2 or 3.
pub fn dataset(data: &[u8]) {
    let root = scratch().join("dataset");
    let _ = std::fs::remove_dir_all(&root);
    let inputs = root.join("ds");
    if std::fs::create_dir_all(&inputs).is_err() {
        return;
    }
    for (name, body) in sections(data) {
        if name == "settle.toml" || schema::ALL.iter().any(|s| s.name == name) {
            let _ = std::fs::write(inputs.join(&name), body);
        }
    }
    let cfg = RunConfig {
        inputs: inputs.clone(),
        out: root.join("out"),
        period: "2026-10".parse().ok(),
        as_of: None,
        strict: data.first() == Some(&b'!'),
        templates: None,
        no_pdf: !data.len().is_multiple_of(4),
        lines_per_batch: crate::ingest::batches::LINES_PER_BATCH,
    };
    match pipeline::run(&cfg, &Quiet) {
        Ok(summary) => check_folder(&summary.folder),
        Err(f) => assert!(f.error.exit_code() != 1, "an internal error: {}", f.error),
    }
    let _ = std::fs::remove_dir_all(&root);
}

/// Rows in = used + rejected, lines add up, and every currency's money balances.
fn check_folder(folder: &Path) {
    let bytes = std::fs::read(folder.join("manifest.json")).expect("the run wrote its manifest");
    let m: serde_json::Value = serde_json::from_slice(&bytes).expect("the manifest is JSON");
    let n = |v: &serde_json::Value, k: &str| v[k].as_u64().unwrap_or(0);
    for i in m["inputs"].as_array().into_iter().flatten() {
        assert_eq!(
            n(i, "rows_in"),
            n(i, "rows_used") + n(i, "rows_rejected"),
            "{i}"
        );
        assert_eq!(
            n(i, "lines"),
            n(i, "header_lines") + n(i, "rows_in") + n(i, "continued_lines") + n(i, "blank_lines"),
            "{i}"
        );
    }
    for c in m["conservation"].as_array().into_iter().flatten() {
        assert_eq!(c["balanced"], true, "money is conserved: {c}");
    }
    for o in m["outputs"].as_array().into_iter().flatten() {
        let file = o["file"].as_str().unwrap_or_default();
        assert!(folder.join(file).is_file(), "`{file}` is written");
    }
}

/// A FOCUS export as CSV (AWS, Azure, OCI): `data` is the file, stored as `.csv.gz` when it
/// starts with gzip's magic bytes, else as `.csv`. See [`export`].
pub fn focus_csv(data: &[u8]) {
    export(data, "focus", ExportFormat::Focus);
}

/// An Alibaba 账单明细 export (CSV or gzip CSV). See [`export`].
pub fn alibaba(data: &[u8]) {
    export(data, "alibaba", ExportFormat::Alibaba);
}

/// A Tencent 明细账单 export (CSV or gzip CSV). See [`export`].
pub fn tencent(data: &[u8]) {
    export(data, "tencent", ExportFormat::Tencent);
}

/// A Huawei 资源详单 export (CSV or gzip CSV). See [`export`].
pub fn huawei(data: &[u8]) {
    export(data, "huawei", ExportFormat::Huawei);
}

/// A FOCUS export as Parquet: `data` is the file, read through polars. Without the `parquet`
/// feature the file is refused with its hint, which is checked too.
pub fn parquet(data: &[u8]) {
    export_file(data, "focus.parquet", ExportFormat::Focus);
}

/// The name an export's bytes are stored under: gzip CSV when they start as gzip does.
fn csv_name(data: &[u8], stem: &str) -> String {
    if data.starts_with(&[0x1f, 0x8b]) {
        format!("{stem}.csv.gz")
    } else {
        format!("{stem}.csv")
    }
}

/// One export file holding `data`, read as a run reads it: its header recognised (any format),
/// then read again with the format pinned to `format` and an account for files that name none.
/// Each read either refuses the file with a dataset error (exit code 2), or gives every row as a
/// bill line, a row that is no charge, or a reject, with its lines accounted for.
fn export(data: &[u8], stem: &str, format: ExportFormat) {
    export_file(data, &csv_name(data, stem), format);
}

fn export_file(data: &[u8], name: &str, format: ExportFormat) {
    let root = scratch().join(format!("export-{name}"));
    let _ = std::fs::remove_dir_all(&root);
    let folder = root.join(exports::FOLDER);
    if std::fs::create_dir_all(&folder).is_err() || std::fs::write(folder.join(name), data).is_err()
    {
        return;
    }
    let pinned = ExportSettings {
        format: Some(format),
        account_id: Some("acc-fuzz".into()),
    };
    for settings in [ExportSettings::default(), pinned] {
        match exports::discover(&root, &settings) {
            Ok(Some(found)) => read_exports(&found, &settings),
            Ok(None) => panic!("the `exports/` folder was written"),
            Err(e) => assert!(
                crate::error::Error::Dataset(e).exit_code() == 2,
                "a refused export is a dataset error"
            ),
        }
    }
    let _ = std::fs::remove_dir_all(&root);
    // A process per input (a replay, AFL++ without persistent mode) leaves no folder behind.
    let _ = std::fs::remove_dir(scratch());
}

/// Bill lines counted, and checked as each is folded.
#[derive(Default)]
struct Counted(u64);

impl Fold for Counted {
    fn add(&mut self, bill: &BillLine) {
        assert!(
            bill.charge_start <= bill.charge_end,
            "{}: the charge window ends before it starts",
            bill.bill_id
        );
        assert!(!bill.bill_id.is_empty(), "a bill line has an id");
        self.0 += 1;
    }

    fn merge(&mut self, other: Self, _: Line) {
        self.0 += other.0;
    }
}

/// Reads the exports' accounts, then folds their lines in batches of about one line each, so
/// that several batches share the accounts: every row is counted once, as a bill line of exactly
/// one batch, a row that is no charge, or a reject.
fn read_exports(found: &Exports, settings: &ExportSettings) {
    let zone = crate::model::time::Zone::new(chrono_tz::Asia::Shanghai);
    let Ok(accounts) = found.accounts(&zone, settings, &Quiet) else {
        return;
    };
    let mut cx = Context::new(chrono_tz::Asia::Shanghai);
    cx.accounts = std::sync::Arc::new(accounts.into_iter().map(|a| a.account_id).collect());
    let mut bills = exports::Bills::open(found, &cx, settings, 1);
    let mut lines = 0;
    for index in 0..bills.batches().count() {
        match bills.fold(index, Counted::default, &Quiet) {
            Ok(folded) => lines += folded.0,
            Err(e) => {
                assert!(crate::error::Error::Dataset(e).exit_code() == 2);
                return;
            }
        }
    }
    let (inputs, rejects) = bills.finish();
    let rows: u64 = inputs.iter().map(|i| i.rows).sum();
    let not_charges: u64 = inputs
        .iter()
        .filter_map(|i| i.export.as_ref())
        .map(|e| e.not_charges)
        .sum();
    assert_eq!(
        rows,
        lines + not_charges + rejects.len() as u64,
        "every row is a bill line, no charge, or a reject"
    );
    for (input, file) in inputs.iter().zip(&found.files) {
        if file.kind != exports::Kind::Parquet {
            check_lines(&input.lines, input.rows, file.name);
        }
    }
}
