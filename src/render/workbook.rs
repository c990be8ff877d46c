//! The Excel workbooks: `workbook.xlsx`, the month in one file with a sheet per CSV, and
//! `statements/<partner_id>.xlsx`, one partner's statement with its lines, totals and walk.
//!
//! A CSV opened in Excel loses what finance needs: a 16-digit account id becomes `1.688E+15` and
//! its last digit, rates read `0.1` beside `0.035`, and nothing is frozen or filtered. So each
//! sheet is typed here, cell by cell: ids and codes as text, money as numbers shown at 2 decimals
//! with separators, rates as percentages, counts as whole numbers; the header row is bilingual
//! (`templates/labels.toml`, keyed by the CSV's column name), frozen, and filtered.
//!
//! A sheet is made from its CSV's bytes, read back, so every cell holds the value the CSV holds:
//! the workbook can never tell a different story. Sheets are written in constant-memory mode
//! (rows stream through a temporary file), so a month of a million findings does not sit in
//! memory. A sheet stops at Excel's 1,048,576 rows, and its last row says where it was cut and
//! that the CSV is whole. The bytes are reproducible: the document's dates are the period's
//! `as_of`, never the wall clock.

use std::io::Read;

use rust_xlsxwriter::{
    DocProperties, ExcelDateTime, Format, FormatAlign, Workbook, Worksheet, XlsxError,
};

use crate::render::documents::Context;
use crate::view::bridge::{Walk, steps};
use crate::view::statements::{StatementView, Total, TotalKey};

/// Excel's last row, counted from 0.
const EXCEL_LAST_ROW: u32 = 1_048_575;
/// Rows read ahead to size the columns before the first row is written.
const SIZING_ROWS: usize = 500;
/// No column is wider than this, in characters.
const WIDEST: usize = 60;

/// What a column holds, by its CSV name.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Kind {
    Text,
    Money,
    Count,
    Rate,
}

/// Columns of money, in every CSV; the rest are text unless [`kind`] says otherwise.
const MONEY: &[&str] = &[
    "amount",
    "arrears",
    "base_amount",
    "billed_amount",
    "deducted_for_other_months",
    "deducted_later",
    "deduction_period_amount",
    "difference",
    "discount_amount",
    "expected_amount",
    "expected_discount",
    "list_amount",
    "net_rebate",
    "not_deducted_amount",
    "not_deducted_yet",
    "outside_link_amount",
    "payable_amount",
    "payable_now",
    "prepaid_ahead",
    "rebate_amount",
    "rebate_base_amount",
    "rebate_total",
    "rounding_adjustment",
    "rounding_to_base",
    "rounding_to_usage",
    "tax_deduction",
    "usage_period_amount",
];

fn kind(column: &str) -> Kind {
    match column {
        "rate" | "tax_rate" => Kind::Rate,
        "lines" | "line" | "count" | "rows" => Kind::Count,
        c if MONEY.contains(&c) => Kind::Money,
        _ => Kind::Text,
    }
}

/// One CSV to turn into a sheet: the label key of the sheet's name, the CSV's name, its bytes.
pub struct Table<R> {
    pub sheet: &'static str,
    pub file: String,
    pub csv: R,
}

/// A sheet that was written: its name, its CSV, the CSV's rows, and the rows the sheet holds.
struct Written {
    sheet: String,
    file: String,
    rows: u64,
    shown: u64,
}

/// Why a workbook could not be made.
#[derive(Debug, thiserror::Error)]
pub enum WorkbookError {
    #[error("cannot read `{file}` back for the workbook: {source}")]
    Csv { file: String, source: csv::Error },
    #[error("`{file}` has the column `{column}`, which has no label in templates/labels.toml")]
    NoLabel { file: String, column: String },
    #[error("cannot write the workbook: {0}")]
    Xlsx(#[from] XlsxError),
}

/// The formats every sheet uses.
struct Formats {
    header: Format,
    money: Format,
    count: Format,
    rate: Format,
    note: Format,
}

impl Formats {
    fn new() -> Formats {
        Formats {
            header: Format::new()
                .set_bold()
                .set_background_color("#E8EEF4")
                .set_align(FormatAlign::Center),
            money: Format::new().set_num_format("#,##0.00"),
            count: Format::new().set_num_format("#,##0"),
            rate: Format::new().set_num_format("0.00##%"),
            note: Format::new().set_italic(),
        }
    }
}

fn new_workbook(cx: &Context) -> Result<Workbook, XlsxError> {
    let mut book = Workbook::new();
    let when = ExcelDateTime::from_timestamp(cx.period.as_of.0)?;
    let title = match cx.issuer {
        Some(i) => format!("{} · {}", i.name_zh, cx.period.month),
        None => cx.period.month.to_string(),
    };
    book.set_properties(
        &DocProperties::new()
            .set_title(&title)
            .set_author("settle")
            .set_creation_datetime(&when),
    );
    // Fast deflate: a month's sheets are large and the gain of a higher level is small.
    book.set_zip_compression_level(1);
    book.use_zip_large_file(true);
    Ok(book)
}

/// `workbook.xlsx`: a first sheet that says what the workbook is and lists every sheet with its
/// CSV and rows, then one sheet per table.
pub fn month<R: Read>(cx: &Context, tables: Vec<Table<R>>) -> Result<Vec<u8>, WorkbookError> {
    month_with_limit(cx, tables, EXCEL_LAST_ROW)
}

fn month_with_limit<R: Read>(
    cx: &Context,
    tables: Vec<Table<R>>,
    last_row: u32,
) -> Result<Vec<u8>, WorkbookError> {
    let mut book = new_workbook(cx)?;
    let f = Formats::new();
    // The first sheet is filled last, when every sheet's rows are known.
    book.add_worksheet()
        .set_name(sheet_name(cx, "sheet_about"))?;
    let mut written = Vec::with_capacity(tables.len());
    for t in tables {
        let name = sheet_name(cx, t.sheet);
        let sheet = book.add_worksheet_with_constant_memory()?;
        sheet.set_name(&name)?;
        let (rows, shown) = from_csv(cx, &f, sheet, &t.file, t.csv, last_row)?;
        written.push(Written {
            sheet: name,
            file: t.file,
            rows,
            shown,
        });
    }
    about(cx, &f, book.worksheet_from_index(0)?, &written)?;
    Ok(book.save_to_buffer()?)
}

/// `statements/<partner_id>.xlsx`: the lines (the CSV's, typed), the totals block per currency
/// (R5), and the walk per currency (R10).
pub fn statement(
    cx: &Context,
    lines_csv: &[u8],
    statements: &[StatementView],
    walks: &[Walk],
    file: &str,
) -> Result<Vec<u8>, WorkbookError> {
    let mut book = new_workbook(cx)?;
    let f = Formats::new();
    let sheet = book.add_worksheet();
    sheet.set_name(sheet_name(cx, "sheet_lines"))?;
    from_csv(cx, &f, sheet, file, lines_csv, EXCEL_LAST_ROW)?;

    let sheet = book.add_worksheet();
    sheet.set_name(sheet_name(cx, "sheet_totals"))?;
    let columns = [
        "document_no",
        "currency",
        "rebate_total",
        "rounding_adjustment",
        "tax_rate",
        "tax_deduction",
        "net_rebate",
        "payout_status",
        "payable_now",
        "arrears",
        "invoice_kind",
    ];
    header(cx, &f, sheet, file, &columns)?;
    for (i, s) in statements.iter().enumerate() {
        let row = i as u32 + 1;
        sheet.write_string(row, 0, &s.summary.document_no)?;
        sheet.write_string(row, 1, s.summary.currency)?;
        for (key, total) in &s.totals {
            let col = match key {
                TotalKey::RebateTotal => 2,
                TotalKey::RoundingAdjustment => 3,
                TotalKey::TaxDeduction => 5,
                TotalKey::NetRebate => 6,
                TotalKey::PayoutStatus => 7,
                TotalKey::PayableNow => 8,
            };
            match total {
                Total::Amount(a) => money(sheet, &f, row, col, &a.plain())?,
                Total::Status(st) => {
                    sheet.write_string(row, col, label(cx, &format!("payout_{}", st.as_str())))?;
                }
            }
        }
        if !s
            .totals
            .iter()
            .any(|(k, _)| *k == TotalKey::RoundingAdjustment)
        {
            sheet.write_number_with_format(row, 3, 0.0, &f.money)?;
        }
        if let Some(rate) = s.tax_rate {
            number(sheet, &f.rate, row, 4, &rate.to_string())?;
        }
        if let Some(a) = s.arrears {
            money(sheet, &f, row, 9, &a.plain())?;
        }
        let kind = format!("kind_{}", s.invoice_kind.as_str());
        sheet.write_string(row, 10, label(cx, &kind))?;
    }
    finish_table(sheet, statements.len() as u32, columns.len() as u16)?;
    let below = statements.len() as u32 + 2;
    sheet.write_string_with_format(below, 0, cx.state(), &f.header)?;
    fit(sheet, &columns.map(|c| width(label(cx, c))), 14)?;

    let sheet = book.add_worksheet();
    sheet.set_name(sheet_name(cx, "sheet_walk"))?;
    let columns = ["currency", "walk_step", "amount"];
    header(cx, &f, sheet, file, &columns)?;
    let mut row = 0;
    let bold_money = f.money.clone().set_bold();
    for w in walks {
        for step in steps(w) {
            row += 1;
            sheet.write_string(row, 0, w.currency.as_ref())?;
            let text = label(cx, step.key);
            let amount: f64 = step.amount.try_into().unwrap_or(0.0);
            if step.result {
                sheet.write_string_with_format(row, 1, format!("= {text}"), &f.header)?;
                sheet.write_number_with_format(row, 2, amount, &bold_money)?;
            } else {
                sheet.write_string(row, 1, text)?;
                // The exact rebate and its rounding keep every decimal they have.
                let exact = matches!(step.key, "walk_exact" | "walk_rounding_2dp");
                let format = if exact {
                    Format::new().set_num_format("#,##0.00########")
                } else {
                    f.money.clone()
                };
                sheet.write_number_with_format(row, 2, amount, &format)?;
            }
        }
    }
    sheet.set_freeze_panes(1, 0)?;
    fit(sheet, &[10, 70, 18], 10)?;
    Ok(book.save_to_buffer()?)
}

/// The about sheet of `workbook.xlsx`.
fn about(
    cx: &Context,
    f: &Formats,
    sheet: &mut Worksheet,
    written: &[Written],
) -> Result<(), WorkbookError> {
    let issuer = match cx.issuer {
        Some(i) => format!("{} {}", i.name_zh, i.name_en),
        None => label(cx, "no_issuer").to_string(),
    };
    let fields = [
        (label(cx, "issuer"), issuer),
        (label(cx, "period"), cx.period.month.to_string()),
        (
            label(cx, "basis"),
            label(cx, &format!("basis_{}", cx.period.basis)).to_string(),
        ),
        (
            label(cx, "date"),
            cx.period.as_of.format_local(cx.period.tz),
        ),
        (label(cx, "state"), cx.state()),
    ];
    for (i, (key, value)) in fields.iter().enumerate() {
        sheet.write_string_with_format(i as u32, 0, *key, &f.header)?;
        sheet.write_string(i as u32, 1, value)?;
    }
    let top = fields.len() as u32 + 1;
    sheet.write_string_with_format(top, 0, label(cx, "workbook_about"), &f.note)?;
    let columns = ["sheet", "file", "rows"];
    for (col, c) in columns.iter().enumerate() {
        sheet.write_string_with_format(top + 1, col as u16, label(cx, c), &f.header)?;
    }
    for (i, w) in written.iter().enumerate() {
        let row = top + 2 + i as u32;
        sheet.write_string(row, 0, &w.sheet)?;
        sheet.write_string(row, 1, &w.file)?;
        sheet.write_number_with_format(row, 2, w.rows as f64, &f.count)?;
        if w.shown < w.rows {
            let cut = cut_note(cx, w.shown, w.rows, &w.file);
            sheet.write_string_with_format(row, 3, cut, &f.note)?;
        }
    }
    fit(sheet, &[24, 44, 14, 60], 0)?;
    Ok(())
}

/// Writes `csv` into `sheet`: a bilingual header, then each row typed by its column. Returns the
/// CSV's rows and the rows the sheet holds, which are fewer only when the sheet was cut at
/// `last_row`.
fn from_csv(
    cx: &Context,
    f: &Formats,
    sheet: &mut Worksheet,
    file: &str,
    csv: impl Read,
    last_row: u32,
) -> Result<(u64, u64), WorkbookError> {
    let bad = |source| WorkbookError::Csv {
        file: file.to_string(),
        source,
    };
    let mut reader = csv::ReaderBuilder::new().from_reader(csv);
    let columns: Vec<String> = reader
        .headers()
        .map_err(bad)?
        .iter()
        .map(|c| c.trim_start_matches('\u{feff}').to_string())
        .collect();
    let kinds: Vec<Kind> = columns.iter().map(|c| kind(c)).collect();
    let mut records = reader.into_records();
    // Column widths go before the first row in constant-memory mode: size them from the
    // first rows.
    let mut ahead = Vec::with_capacity(SIZING_ROWS);
    for r in records.by_ref().take(SIZING_ROWS) {
        ahead.push(r.map_err(bad)?);
    }
    let mut widths: Vec<usize> = Vec::with_capacity(columns.len());
    for c in &columns {
        let text = cx
            .templates
            .labels
            .get(c)
            .ok_or_else(|| WorkbookError::NoLabel {
                file: file.to_string(),
                column: c.clone(),
            })?;
        widths.push(width(text));
    }
    for r in &ahead {
        for (w, value) in widths.iter_mut().zip(r.iter()) {
            *w = (*w).max(width(value) + 2);
        }
    }
    fit(sheet, &widths, 0)?;
    let names: Vec<&str> = columns.iter().map(String::as_str).collect();
    header(cx, f, sheet, file, &names)?;

    let mut rows: u64 = 0;
    let mut row: u32 = 0;
    let mut cut = false;
    for r in ahead.into_iter().map(Ok).chain(records) {
        let r = r.map_err(bad)?;
        rows += 1;
        if cut {
            continue;
        }
        if row + 1 == last_row {
            cut = true;
            continue;
        }
        row += 1;
        for (col, (value, kind)) in r.iter().zip(&kinds).enumerate() {
            cell(sheet, f, row, col as u16, value, *kind)?;
        }
    }
    if cut {
        let note = cut_note(cx, u64::from(row), rows, file);
        sheet.write_string_with_format(row + 1, 0, note, &f.note)?;
    }
    finish_table(sheet, row, columns.len() as u16)?;
    Ok((rows, u64::from(row)))
}

/// One cell, typed by its column. Empty cells stay empty; a text cell loses the `'` the CSV put
/// before a leading `=`, `+`, `-` or `@` (a cell of text is never a formula in a workbook).
fn cell(
    sheet: &mut Worksheet,
    f: &Formats,
    row: u32,
    col: u16,
    value: &str,
    kind: Kind,
) -> Result<(), XlsxError> {
    if value.is_empty() {
        return Ok(());
    }
    match kind {
        Kind::Money => money(sheet, f, row, col, value),
        Kind::Count => number(sheet, &f.count, row, col, value),
        Kind::Rate => number(sheet, &f.rate, row, col, value),
        Kind::Text => {
            let text = match value.strip_prefix('\'') {
                Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest,
                _ => value,
            };
            sheet.write_string(row, col, text).map(|_| ())
        }
    }
}

fn money(
    sheet: &mut Worksheet,
    f: &Formats,
    row: u32,
    col: u16,
    value: &str,
) -> Result<(), XlsxError> {
    number(sheet, &f.money, row, col, value)
}

/// A number cell; a value that is not a number (which a CSV of ours never holds in a numeric
/// column) is kept as text rather than lost.
fn number(
    sheet: &mut Worksheet,
    format: &Format,
    row: u32,
    col: u16,
    value: &str,
) -> Result<(), XlsxError> {
    match value.parse::<f64>() {
        Ok(n) => sheet
            .write_number_with_format(row, col, n, format)
            .map(|_| ()),
        Err(_) => sheet.write_string(row, col, value).map(|_| ()),
    }
}

/// The header row: each column's bilingual label.
fn header(
    cx: &Context,
    f: &Formats,
    sheet: &mut Worksheet,
    file: &str,
    columns: &[&str],
) -> Result<(), WorkbookError> {
    for (col, c) in columns.iter().enumerate() {
        let text = cx
            .templates
            .labels
            .get(*c)
            .ok_or_else(|| WorkbookError::NoLabel {
                file: file.to_string(),
                column: c.to_string(),
            })?;
        sheet.write_string_with_format(0, col as u16, text, &f.header)?;
    }
    Ok(())
}

/// The header frozen, and a filter over the header and the `rows` rows below it.
fn finish_table(sheet: &mut Worksheet, rows: u32, columns: u16) -> Result<(), XlsxError> {
    sheet.set_freeze_panes(1, 0)?;
    if columns > 0 {
        sheet.autofilter(0, 0, rows, columns - 1)?;
    }
    Ok(())
}

/// Sets each column's width in characters, at least `least`.
fn fit(sheet: &mut Worksheet, widths: &[usize], least: usize) -> Result<(), XlsxError> {
    for (col, w) in widths.iter().enumerate() {
        sheet.set_column_width(col as u16, (*w).clamp(least.max(6), WIDEST) as f64)?;
    }
    Ok(())
}

/// How wide `text` shows, in Excel's characters: a Chinese character takes two.
fn width(text: &str) -> usize {
    text.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum()
}

/// The note of a sheet cut at Excel's row limit, on the sheet and on the About sheet.
fn cut_note(cx: &Context, shown: u64, rows: u64, file: &str) -> String {
    label(cx, "sheet_cut")
        .replace("{shown}", &shown.to_string())
        .replace("{rows}", &rows.to_string())
        .replace("{file}", file)
}

fn label<'c>(cx: &'c Context, key: &str) -> &'c str {
    cx.templates.label(key)
}

/// A sheet's name from its label: Excel allows 31 characters and none of `[]:*?/\`.
fn sheet_name(cx: &Context, key: &str) -> String {
    label(cx, key)
        .chars()
        .filter(|c| !"[]:*?/\\".contains(*c))
        .take(31)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_typed_by_name() {
        assert_eq!(kind("account_id"), Kind::Text);
        assert_eq!(kind("usage_period_amount"), Kind::Money);
        assert_eq!(kind("difference"), Kind::Money);
        assert_eq!(kind("rate"), Kind::Rate);
        assert_eq!(kind("lines"), Kind::Count);
        assert_eq!(kind("document_no"), Kind::Text);
    }

    /// A sheet longer than Excel allows stops at the limit, says where, and the about sheet names
    /// the CSV's whole row count; the rows kept are the CSV's first ones.
    #[test]
    fn a_sheet_past_the_limit_is_cut_and_says_so() {
        use calamine::{Data, Reader, Xlsx};

        use crate::model::period::Period;
        use crate::render::pdf::Font;
        use crate::render::template::Templates;

        let templates = Templates::load(None).expect("the built-in templates");
        let font = Font::new(&templates).expect("the font");
        let period = Period::new(
            "2026-10".parse().expect("a month"),
            chrono_tz::Asia::Shanghai,
        );
        let cx = Context {
            templates: &templates,
            font: &font,
            period: &period,
            issuer: None,
            issued_on: None,
        };
        let mut csv = String::from("\u{feff}file,line,column,value,reason\n");
        for i in 1..=10 {
            csv.push_str(&format!("bills.csv,{i},amount,'-x{i},bad\n"));
        }
        let table = Table {
            sheet: "sheet_rejects",
            file: "rejects.csv".to_string(),
            csv: csv.as_bytes(),
        };
        let bytes = month_with_limit(&cx, vec![table], 5).expect("a workbook");
        let mut book: Xlsx<_> =
            calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).expect("an xlsx");
        let sheet = book
            .worksheet_range(&sheet_name(&cx, "sheet_rejects"))
            .expect("the rejects sheet");
        // The header, 4 rows, and the note on Excel's last row (here, the 6th).
        assert_eq!(sheet.height(), 6);
        assert_eq!(sheet.get((1, 1)), Some(&Data::Float(1.0)));
        // The CSV's guard against formulas is not needed in a cell of text.
        assert_eq!(sheet.get((4, 3)), Some(&Data::String("-x4".into())));
        let note = sheet.get((5, 0)).expect("the note").to_string();
        assert!(
            note.contains("4") && note.contains("10") && note.contains("rejects.csv"),
            "{note}"
        );
        let about = book
            .worksheet_range(&sheet_name(&cx, "sheet_about"))
            .expect("the about sheet");
        let rows: Vec<String> = about
            .rows()
            .map(|r| {
                r.iter()
                    .map(|c| c.to_string())
                    .collect::<Vec<_>>()
                    .join("|")
            })
            .collect();
        assert!(
            rows.iter().any(|r| r.contains("rejects.csv|10")),
            "{rows:?}"
        );
    }

    #[test]
    fn chinese_is_twice_as_wide() {
        assert_eq!(width("acc-1"), 5);
        assert_eq!(width("客户ID"), 6);
    }
}
