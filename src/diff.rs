//! `settle diff A B`: what changed between two period folders, document by document.
//!
//! Finance uses it to see what a restatement changes against the month of record; engineers use
//! it to review a golden-file change, or two versions of settle on the same inputs. Both want the
//! same answer: for each document, the rows added, removed and changed, with the figures on both
//! sides, and the money that moved, per currency.
//!
//! A CSV's rows are matched by their key: every column that is neither a figure (an amount, a
//! count) nor an attribute of the row (a name, a title, a reason, a status). Rows that share a
//! key are matched in file order. Other files (PDFs, workbooks) are compared by their bytes, and
//! `manifest.json` by its top-level fields, leaving out the list of outputs that the other
//! documents already account for.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::Write;
use std::path::{Path, PathBuf};

use rust_decimal::Decimal;

/// Why two folders cannot be compared: exit 2.
#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    #[error(
        "`{}` is not a period folder\nhint: pass two folders that `settle run` wrote, for example `outputs/demo/2026-10`",
        .0.display()
    )]
    NotAPeriod(PathBuf),
    #[error("`{}` cannot be read: {source}", .path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("`{}` is not a CSV settle wrote: {message}", .path.display())]
    Csv { path: PathBuf, message: String },
}

/// How a row changed.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Change {
    Added,
    Removed,
    Changed,
}

impl Change {
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Added => "added",
            Change::Removed => "removed",
            Change::Changed => "changed",
        }
    }
}

/// One cell that differs; `difference` is B − A where both sides are figures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cell {
    pub column: String,
    pub a: String,
    pub b: String,
    pub difference: Option<Decimal>,
}

/// A row added, removed or changed, named by its key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    pub change: Change,
    pub key: String,
    pub currency: String,
    pub cells: Vec<Cell>,
}

/// What changed in one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileChange {
    /// Only in B.
    Added,
    /// Only in A.
    Removed,
    /// A file that is not a CSV, whose bytes differ.
    Bytes,
    /// `manifest.json`'s top-level fields that differ.
    Manifest(Vec<String>),
    /// A CSV's rows, and the money they moved: (currency, column) → B − A.
    Rows {
        rows: Vec<Row>,
        moved: BTreeMap<(String, String), Decimal>,
    },
}

/// Every file that differs, by its path in the folder; `same` counts the files that do not.
#[derive(Debug, Default)]
pub struct Report {
    pub files: Vec<(String, FileChange)>,
    pub same: usize,
}

impl Report {
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

/// Compares period folder `a` with period folder `b`.
pub fn compare(a: &Path, b: &Path) -> Result<Report, DiffError> {
    let (left, right) = (files(a)?, files(b)?);
    let names: BTreeSet<&String> = left.iter().chain(&right).collect();
    let mut report = Report::default();
    for name in names {
        let change = match (left.contains(name), right.contains(name)) {
            (true, false) => Some(FileChange::Removed),
            (false, true) => Some(FileChange::Added),
            _ => {
                let (x, y) = (read(&a.join(name))?, read(&b.join(name))?);
                if x == y {
                    None
                } else if name.ends_with(".csv") {
                    Some(rows(&a.join(name), &x, &y)?)
                } else if name == "manifest.json" {
                    Some(FileChange::Manifest(manifest_fields(&x, &y)))
                } else {
                    Some(FileChange::Bytes)
                }
            }
        };
        match change {
            Some(change) => report.files.push((name.clone(), change)),
            None => report.same += 1,
        }
    }
    Ok(report)
}

/// The files of a period folder, as paths relative to it, sorted.
fn files(dir: &Path) -> Result<BTreeSet<String>, DiffError> {
    if !dir.join("manifest.json").is_file() {
        return Err(DiffError::NotAPeriod(dir.to_path_buf()));
    }
    let mut out = BTreeSet::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let here = dir.join(&rel);
        let entries = std::fs::read_dir(&here).map_err(|source| DiffError::Read {
            path: here.clone(),
            source,
        })?;
        for entry in entries {
            let entry = entry.map_err(|source| DiffError::Read {
                path: here.clone(),
                source,
            })?;
            let path = rel.join(entry.file_name());
            if entry.path().is_dir() {
                stack.push(path);
            } else {
                out.insert(path.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    Ok(out)
}

fn read(path: &Path) -> Result<Vec<u8>, DiffError> {
    std::fs::read(path).map_err(|source| DiffError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// The top-level fields of two manifests that differ, but `outputs`.
fn manifest_fields(a: &[u8], b: &[u8]) -> Vec<String> {
    let parse = |bytes: &[u8]| {
        serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(bytes)
            .unwrap_or_default()
    };
    let (a, b) = (parse(a), parse(b));
    let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    keys.into_iter()
        .filter(|k| k.as_str() != "outputs" && a.get(*k) != b.get(*k))
        .cloned()
        .collect()
}

/// Whether a column holds a figure: an amount, a difference or a count.
pub fn is_figure(column: &str) -> bool {
    column.ends_with("amount")
        || matches!(
            column,
            "difference"
                | "rebate_total"
                | "tax_deduction"
                | "net_rebate"
                | "payable_now"
                | "lines"
                | "count"
                | "expected_discount"
        )
}

/// Whether a column describes its row rather than naming it: a change there is a changed row,
/// not a removed one and an added one.
pub fn is_attribute(file: &str, column: &str) -> bool {
    matches!(
        column,
        "account_name"
            | "partner_name"
            | "title"
            | "reason"
            | "payout_status"
            | "shipping"
            | "due_date"
            | "invoice_kind"
            | "value"
    ) || (column == "status" && !file.starts_with("rollups"))
}

/// A CSV read whole: its header and its rows.
struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

fn table(path: &Path, bytes: &[u8]) -> Result<Table, DiffError> {
    let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    let bad = |e: csv::Error| DiffError::Csv {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
    let header = reader
        .headers()
        .map_err(bad)?
        .iter()
        .map(String::from)
        .collect();
    let rows = reader
        .records()
        .map(|r| r.map(|r| r.iter().map(String::from).collect()).map_err(bad))
        .collect::<Result<_, _>>()?;
    Ok(Table { header, rows })
}

/// A row of A and its match in B; `None` where it is only on one side.
pub type Pair = (Option<Vec<String>>, Option<Vec<String>>);

/// Two versions of one CSV, their rows matched: the columns of both (A's, then B's new ones),
/// which of them are the key, and each row as a pair of A's and B's version (`None` where the
/// row is only on one side), every row laid out in `columns`' order.
pub struct Paired {
    pub columns: Vec<String>,
    pub keys: Vec<usize>,
    pub pairs: Vec<Pair>,
}

impl Paired {
    /// Matches the rows of `a` and `b` by their key: the columns that `is_key` keeps. Rows that
    /// share a key are matched in file order. B's rows come first, in B's order, then the rows
    /// only in A.
    pub fn new(
        path: &Path,
        a: &[u8],
        b: &[u8],
        is_key: impl Fn(&str) -> bool,
    ) -> Result<Paired, DiffError> {
        let (mut a, mut b) = (table(path, a)?, table(path, b)?);
        let mut columns: Vec<String> = a.header.clone();
        columns.extend(b.header.iter().filter(|c| !a.header.contains(c)).cloned());
        let keys: Vec<usize> = (0..columns.len())
            .filter(|&i| is_key(&columns[i]))
            .collect();
        let lay = |t: &Table, row: Vec<String>| -> Vec<String> {
            columns
                .iter()
                .map(|c| {
                    t.header
                        .iter()
                        .position(|h| h == c)
                        .and_then(|i| row.get(i))
                        .cloned()
                        .unwrap_or_default()
                })
                .collect()
        };
        let key_of =
            |row: &[String]| -> Vec<String> { keys.iter().map(|&k| row[k].clone()).collect() };
        let mut left: BTreeMap<Vec<String>, VecDeque<Vec<String>>> = BTreeMap::new();
        for row in std::mem::take(&mut a.rows) {
            let row = lay(&a, row);
            left.entry(key_of(&row)).or_default().push_back(row);
        }
        let mut pairs = Vec::new();
        for row in std::mem::take(&mut b.rows) {
            let row = lay(&b, row);
            let old = left.get_mut(&key_of(&row)).and_then(VecDeque::pop_front);
            pairs.push((old, Some(row)));
        }
        for rest in left.into_values() {
            pairs.extend(rest.into_iter().map(|old| (Some(old), None)));
        }
        Ok(Paired {
            columns,
            keys,
            pairs,
        })
    }

    /// A row's key, its key cells joined.
    pub fn key(&self, row: &[String]) -> String {
        let parts: Vec<&str> = self.keys.iter().map(|&k| row[k].as_str()).collect();
        parts.join(" · ")
    }

    /// The cell of `row` in `column`, or "" where there is no such column.
    pub fn cell<'r>(&self, row: &'r [String], column: &str) -> &'r str {
        self.columns
            .iter()
            .position(|c| c == column)
            .map_or("", |i| row[i].as_str())
    }
}

/// A figure's cell as a number: an empty cell is 0; text is not a number.
fn number(v: &str) -> Option<Decimal> {
    if v.is_empty() {
        Some(Decimal::ZERO)
    } else {
        v.parse().ok()
    }
}

/// B − A, with as many decimals as the figures have; `None` where a side is not a number.
pub fn difference(a: &str, b: &str) -> Option<Decimal> {
    let (x, y) = (number(a)?, number(b)?);
    let mut d = y - x;
    d.rescale(x.scale().max(y.scale()));
    Some(d)
}

/// The rows of two versions of one CSV that differ.
fn rows(path: &Path, a: &[u8], b: &[u8]) -> Result<FileChange, DiffError> {
    let file = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let paired = Paired::new(path, a, b, |c| !is_figure(c) && !is_attribute(&file, c))?;
    let mut out = Vec::new();
    let mut moved: BTreeMap<(String, String), Decimal> = BTreeMap::new();
    for (x, y) in &paired.pairs {
        let (change, key) = match (x, y) {
            (Some(_), Some(r)) => (Change::Changed, paired.key(r)),
            (None, Some(r)) => (Change::Added, paired.key(r)),
            (Some(r), None) => (Change::Removed, paired.key(r)),
            (None, None) => continue,
        };
        let currency = y
            .as_deref()
            .or(x.as_deref())
            .map(|r| paired.cell(r, "currency").to_string())
            .unwrap_or_default();
        let mut cells = Vec::new();
        for (i, column) in paired.columns.iter().enumerate() {
            if paired.keys.contains(&i) {
                continue;
            }
            let va = x.as_ref().map(|r| r[i].clone()).unwrap_or_default();
            let vb = y.as_ref().map(|r| r[i].clone()).unwrap_or_default();
            if va == vb {
                continue;
            }
            let difference = if is_figure(column) {
                difference(&va, &vb)
            } else {
                None
            };
            if let Some(d) = difference {
                *moved.entry((currency.clone(), column.clone())).or_default() += d;
            }
            cells.push(Cell {
                column: column.clone(),
                a: va,
                b: vb,
                difference,
            });
        }
        if change != Change::Changed || !cells.is_empty() {
            out.push(Row {
                change,
                key,
                currency,
                cells,
            });
        }
    }
    out.sort_by(|x, y| (x.change, &x.key).cmp(&(y.change, &y.key)));
    moved.retain(|_, d| !d.is_zero());
    Ok(FileChange::Rows { rows: out, moved })
}

/// A difference with its sign: `+1.00`, `-0.50`.
fn signed(d: Decimal) -> String {
    if d.is_sign_negative() {
        d.to_string()
    } else {
        format!("+{d}")
    }
}

/// The report for a terminal.
pub fn text(report: &Report, a: &Path, b: &Path) -> String {
    let mut out = format!("A  {}\nB  {}\n", a.display(), b.display());
    if report.is_empty() {
        let _ = writeln!(out, "\nthe same: {} file(s), every byte", report.same);
        return out;
    }
    for (name, change) in &report.files {
        out.push('\n');
        match change {
            FileChange::Added => {
                let _ = writeln!(out, "{name}: only in B");
            }
            FileChange::Removed => {
                let _ = writeln!(out, "{name}: only in A");
            }
            FileChange::Bytes => {
                let _ = writeln!(out, "{name}: the bytes differ");
            }
            FileChange::Manifest(fields) => {
                let _ = writeln!(out, "{name}: fields differ: {}", fields.join(", "));
            }
            FileChange::Rows { rows, moved } => {
                let count = |c: Change| rows.iter().filter(|r| r.change == c).count();
                let _ = writeln!(
                    out,
                    "{name}: {} added, {} removed, {} changed",
                    count(Change::Added),
                    count(Change::Removed),
                    count(Change::Changed)
                );
                for row in rows {
                    let _ = writeln!(out, "  {:<8} {}", row.change.as_str(), row.key);
                    for c in &row.cells {
                        let difference = c.difference.map(signed).unwrap_or_default();
                        let _ = writeln!(
                            out,
                            "           {:<24} {:>14} → {:<14} {difference}",
                            c.column, c.a, c.b
                        );
                    }
                }
                for ((currency, column), d) in moved {
                    let _ = writeln!(
                        out,
                        "  moved    {currency:<4} {column:<24} {:>14}",
                        signed(*d)
                    );
                }
            }
        }
    }
    let _ = writeln!(
        out,
        "\n{} file(s) differ, {} the same",
        report.files.len(),
        report.same
    );
    out
}

/// The report as CSV: one row per changed cell (or per added, removed or differing file).
pub fn csv(report: &Report) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut put = |cells: [&str; 8]| {
        let _ = w.write_record(cells);
    };
    put([
        "document",
        "change",
        "key",
        "column",
        "a",
        "b",
        "difference",
        "currency",
    ]);
    for (name, change) in &report.files {
        match change {
            FileChange::Added => put([name, "added", "", "", "", "", "", ""]),
            FileChange::Removed => put([name, "removed", "", "", "", "", "", ""]),
            FileChange::Bytes => put([name, "changed", "", "", "", "", "", ""]),
            FileChange::Manifest(fields) => {
                for f in fields {
                    put([name, "changed", "", f, "", "", "", ""]);
                }
            }
            FileChange::Rows { rows, .. } => {
                for row in rows {
                    for c in &row.cells {
                        let d = c.difference.map(|d| d.to_string()).unwrap_or_default();
                        put([
                            name,
                            row.change.as_str(),
                            &row.key,
                            &c.column,
                            &c.a,
                            &c.b,
                            &d,
                            &row.currency,
                        ]);
                    }
                }
            }
        }
    }
    w.into_inner().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows_of(a: &str, b: &str) -> (Vec<Row>, BTreeMap<(String, String), Decimal>) {
        match rows(Path::new("statements.csv"), a.as_bytes(), b.as_bytes()).expect("csv") {
            FileChange::Rows { rows, moved } => (rows, moved),
            other => panic!("{other:?}"),
        }
    }

    const HEADER: &str = "partner_id,partner_name,currency,rebate_total,payout_status\n";

    #[test]
    fn a_changed_figure_is_one_changed_row_with_its_difference() {
        let a = format!("\u{feff}{HEADER}p-01,P,CNY,10.00,payable\np-02,Q,CNY,1.00,payable\n");
        let b = format!("{HEADER}p-01,P,CNY,12.50,payable\np-02,Q,CNY,1.00,payable\n");
        let (rows, moved) = rows_of(&a, &b);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].change, Change::Changed);
        assert_eq!(rows[0].key, "p-01 · CNY");
        assert_eq!(rows[0].cells[0].difference, Some(Decimal::new(250, 2)));
        assert_eq!(
            moved,
            [(("CNY".into(), "rebate_total".into()), Decimal::new(250, 2))].into()
        );
    }

    #[test]
    fn rows_only_on_one_side_are_added_or_removed_and_move_their_money() {
        let a = format!("{HEADER}p-01,P,CNY,10.00,payable\n");
        let b = format!("{HEADER}p-02,Q,USD,3.00,withheld_arrears\n");
        let (rows, moved) = rows_of(&a, &b);
        let changes: Vec<(Change, &str)> = rows.iter().map(|r| (r.change, &*r.key)).collect();
        assert_eq!(
            changes,
            [
                (Change::Added, "p-02 · USD"),
                (Change::Removed, "p-01 · CNY")
            ]
        );
        assert_eq!(
            moved[&("CNY".into(), "rebate_total".into())],
            Decimal::new(-1000, 2)
        );
        assert_eq!(
            moved[&("USD".into(), "rebate_total".into())],
            Decimal::new(300, 2)
        );
    }

    #[test]
    fn an_attribute_change_keeps_the_row_and_moves_no_money() {
        let a = format!("{HEADER}p-01,P,CNY,10.00,payable\n");
        let b = format!("{HEADER}p-01,P,CNY,10.00,withheld_arrears\n");
        let (rows, moved) = rows_of(&a, &b);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].cells[0].column, "payout_status");
        assert_eq!(rows[0].cells[0].difference, None);
        assert!(moved.is_empty());
    }
}
