//! The Excel workbooks, read back as Excel reads them (calamine): `workbook.xlsx` holds every CSV
//! of the month cell for cell, typed (ids as text, money as numbers equal to the CSV's), and each
//! `statements/<id>.xlsx` holds the statement's lines, its totals as `statements.csv` prints
//! them, and a walk whose steps add up.

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::process::Command;

use calamine::{Data, Range, Reader, Xlsx};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `settle run` with its documents on `inputs` for `period` into a fresh folder, and
/// returns the period folder.
fn run(name: &str, inputs: &Path, period: &str) -> PathBuf {
    let out = std::env::temp_dir().join(format!("settle-xlsx-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let done = Command::new(env!("CARGO_BIN_EXE_settle"))
        .args(["run", "--period", period, "--inputs"])
        .arg(inputs)
        .arg("--out")
        .arg(&out)
        .output()
        .expect("settle runs");
    assert!(
        done.status.success(),
        "settle failed: {}",
        String::from_utf8_lossy(&done.stderr)
    );
    let dataset = inputs.file_name().expect("a dataset folder");
    out.join(dataset).join(period)
}

fn open(path: &Path) -> Xlsx<Cursor<Vec<u8>>> {
    let bytes = std::fs::read(path).expect("the workbook is written");
    calamine::open_workbook_from_rs(Cursor::new(bytes)).expect("an XLSX file Excel can open")
}

fn sheet(book: &mut Xlsx<Cursor<Vec<u8>>>, name_contains: &str) -> Range<Data> {
    let name = book
        .sheet_names()
        .into_iter()
        .find(|n| n.contains(name_contains))
        .unwrap_or_else(|| panic!("no sheet named like `{name_contains}`"));
    book.worksheet_range(&name).expect("a readable sheet")
}

/// The CSV's rows, header first, without its BOM.
fn csv_rows(path: &Path) -> Vec<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_path(path)
        .expect("the CSV");
    reader
        .records()
        .map(|r| {
            r.expect("a CSV row")
                .iter()
                .map(|c| c.trim_start_matches('\u{feff}').to_string())
                .collect()
        })
        .collect()
}

/// Every data cell of `sheet` equals the CSV's: a number is the CSV's number, text is the CSV's
/// text (without the `'` the CSV puts before a leading `-`), an empty cell is an empty field.
/// The header row is the bilingual label of each CSV column.
fn assert_same(sheet: &Range<Data>, csv: &Path) {
    let rows = csv_rows(csv);
    assert_eq!(
        sheet.height(),
        rows.len(),
        "{}: the sheet and the CSV have different row counts",
        csv.display()
    );
    for (r, row) in rows.iter().enumerate().skip(1) {
        for (c, field) in row.iter().enumerate() {
            let cell = sheet.get((r, c)).unwrap_or(&Data::Empty);
            let at = format!("{} row {} column {}", csv.display(), r + 1, rows[0][c]);
            match cell {
                Data::Float(n) => {
                    let want: f64 = field
                        .parse()
                        .unwrap_or_else(|_| panic!("{at}: `{field}` is not a number"));
                    assert_eq!(*n, want, "{at}");
                }
                Data::String(s) => {
                    let field = field.strip_prefix('\'').unwrap_or(field);
                    assert_eq!(s, field, "{at}");
                }
                Data::Empty => assert!(field.is_empty(), "{at}: empty cell for `{field}`"),
                other => panic!("{at}: unexpected cell {other:?}"),
            }
        }
    }
    for (c, column) in rows[0].iter().enumerate() {
        let header = sheet
            .get((0, c))
            .map(ToString::to_string)
            .unwrap_or_default();
        assert!(
            !header.is_ascii() && header.chars().any(|ch| ch.is_ascii_alphabetic()),
            "{}: the header of `{column}` is not bilingual: `{header}`",
            csv.display()
        );
    }
}

#[test]
fn the_month_workbook_holds_every_csv_cell_for_cell() {
    let period = run("demo", &repo().join("inputs/demo"), "2026-10");
    let mut book = open(&period.join("workbook.xlsx"));
    for (name, file) in [
        ("Statements", "statements.csv"),
        ("Consumption", "consumption.csv"),
        ("Rollups", "rollups.csv"),
        ("Invoices", "invoices.csv"),
        ("Invoice totals", "invoices_summary.csv"),
        ("Reconciliation", "reconciliation.csv"),
        ("Bridge", "bridge.csv"),
        ("Rejects", "rejects.csv"),
    ] {
        assert_same(&sheet(&mut book, name), &period.join(file));
    }
    // Money is a number, never text: p-01's net rebate is summable.
    let statements = sheet(&mut book, "Statements");
    assert!(matches!(statements.get((1, 7)), Some(Data::Float(_))));
    // The about sheet names each sheet's CSV and its rows.
    let about = sheet(&mut book, "About");
    let text: Vec<String> = about.rows().flatten().map(ToString::to_string).collect();
    assert!(text.iter().any(|t| t == "reconciliation.csv"), "{text:?}");
}

#[test]
fn a_sixteen_digit_account_id_keeps_every_digit() {
    let inputs = repo().join("tests/fixtures/exports_alibaba/inputs");
    let period = run("alibaba", &inputs, "2024-09");
    let mut book = open(&period.join("workbook.xlsx"));
    let consumption = sheet(&mut book, "Consumption");
    assert_eq!(
        consumption.get((1, 1)),
        Some(&Data::String("1688000000000001".into()))
    );
    assert_same(&consumption, &period.join("consumption.csv"));
}

#[test]
fn a_statement_workbook_has_its_lines_totals_and_a_walk_that_adds_up() {
    let period = run("statement", &repo().join("inputs/demo"), "2026-10");
    let statements = csv_rows(&period.join("statements.csv"));
    for partner in ["p-01", "p-02", "p-03"] {
        let mut book = open(&period.join(format!("statements/{partner}.xlsx")));
        assert_same(
            &sheet(&mut book, "Lines"),
            &period.join(format!("statements/{partner}.csv")),
        );
        // Totals: one row per currency, equal to the partner's rows of statements.csv.
        let totals = sheet(&mut book, "Totals");
        let mine: Vec<&Vec<String>> = statements.iter().filter(|r| r[1] == partner).collect();
        // The header, a row per currency, a blank row and what the document is: a draft here.
        assert_eq!(totals.height(), mine.len() + 3, "{partner}");
        assert_eq!(
            totals.get((mine.len() + 2, 0)),
            Some(&Data::String("草稿 DRAFT".into())),
            "{partner}"
        );
        for (i, row) in mine.iter().enumerate() {
            let r = i + 1;
            assert_eq!(totals.get((r, 0)), Some(&Data::String(row[0].clone())));
            for (col, csv_col) in [(2, 5), (5, 6), (6, 7), (8, 9)] {
                let want: f64 = row[csv_col].parse().expect("money");
                assert_eq!(
                    totals.get((r, col)),
                    Some(&Data::Float(want)),
                    "{partner}: {}",
                    statements[0][csv_col]
                );
            }
        }
        // The walk: each `=` row is the sum of the steps since the last one, or since the start
        // of its currency.
        let walk = sheet(&mut book, "Walk");
        let mut sum = 0.0_f64;
        let mut currency = String::new();
        let mut results = 0;
        for row in walk.rows().skip(1) {
            let c = row[0].to_string();
            if c != currency {
                (currency, sum) = (c, 0.0);
            }
            let step = row[1].to_string();
            let Data::Float(amount) = row[2] else {
                panic!("{partner}: the step `{step}` is not a number: {:?}", row[2]);
            };
            if step.starts_with("= ") {
                assert!(
                    (sum - amount).abs() < 0.005,
                    "{partner}: {step} is {amount}, the steps add to {sum}"
                );
                results += 1;
                sum = amount;
            } else if step.contains("before rounding") {
                // The exact rebate starts its own sum: the rate times the base.
                sum = amount;
            } else {
                sum += amount;
            }
        }
        assert!(results >= 3, "{partner}: the walk has {results} results");
    }
}

#[test]
fn workbooks_are_the_same_bytes_on_every_run() {
    let a = run("again-a", &repo().join("inputs/demo"), "2026-10");
    let b = run("again-b", &repo().join("inputs/demo"), "2026-10");
    for file in ["workbook.xlsx", "statements/p-01.xlsx"] {
        assert!(
            std::fs::read(a.join(file)).expect("a") == std::fs::read(b.join(file)).expect("b"),
            "{file} differs between two runs"
        );
    }
}
