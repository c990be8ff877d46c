//! Cloud bill exports as bill lines: a dataset's `exports/` folder in place of `bills.csv`.
//!
//! A finance team has the month's export from the cloud console (Alibaba 账单明细, Tencent
//! 明细账单, Huawei 资源详单) or a FOCUS export (AWS, Azure, OCI), as `*.csv`, `*.csv.gz` or
//! `*.parquet`, often split in several files. [`discover`] finds them and recognises each file's
//! format from its header or Parquet schema ([`header`]); one module per format maps a row to
//! the same typed [`BillLine`] that `bills.csv` gives ([`focus`], [`alibaba`], [`tencent`],
//! [`huawei`]), each stating its columns and its few real differences as data and sharing the
//! readings of [`mapping`], and [`Bills`] folds those lines into the month's rules batch by batch,
//! exactly as [`crate::ingest::reader::big::Bills`] does for `bills.csv`. Every rule, reject,
//! manifest entry and
//! conservation check therefore works on exports unchanged.
//!
//! An export row has no `bill_id`: its id is the file's path below `exports/` and the row's
//! physical line (`part1.csv:17`), or for Parquet its row number (`part2.parquet#16`), which is
//! unique and stable for the same file.

pub mod alibaba;
pub mod delivery;
pub mod focus;
pub mod foreign;
pub mod header;
pub mod huawei;
pub mod mapping;
#[cfg(feature = "parquet")]
pub mod parquet;
pub mod source;
pub mod tencent;
pub mod values;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rust_decimal::Decimal;

use crate::config::{ExportFormat, ExportSettings};
use crate::error::DatasetError;
use crate::ingest::Reject;
use crate::ingest::batches::Batches;
use crate::ingest::cell::{Cell, CellError};
use crate::ingest::input::InputFile;
use crate::ingest::lines::Lines;
use crate::ingest::parse::Context;
use crate::ingest::schema::FileSpec;
use crate::model::fold::Fold;
use crate::model::records::*;
use crate::model::time::Zone;
use crate::progress::Progress;
use header::Columns;
pub(crate) use mapping::fields;
pub use mapping::{Charge, Cx, Field, Names, Need, Outcome, Row, Window, is_subtotal, pick};

/// A build without the `parquet` feature: a Parquet export stops the run with a hint.
#[cfg(not(feature = "parquet"))]
mod parquet {
    use std::path::Path;

    use crate::error::DatasetError;
    use crate::ingest::exports::{ExportFile, RawRow};

    pub fn columns(_: &Path, name: &'static str) -> Result<Vec<String>, DatasetError> {
        Err(DatasetError::NoParquet { file: name })
    }

    pub fn read(
        file: &ExportFile,
        _: &mut dyn FnMut(RawRow),
    ) -> Result<(String, crate::ingest::lines::Lines), DatasetError> {
        Err(DatasetError::NoParquet { file: file.name })
    }
}

/// The folder inside a dataset that holds the exports.
pub const FOLDER: &str = "exports";

/// A row mapped to what it means.
pub type LineFn = for<'r> fn(&Row<'r>, &mut Cx) -> Result<Outcome<'r>, CellError>;

/// One export format: the fields its mapping reads, the columns that tell it apart, and the
/// mapping.
pub struct Format {
    pub kind: ExportFormat,
    /// The format's name in messages (`FOCUS`, `Alibaba`).
    pub title: &'static str,
    pub fields: &'static [Field],
    /// Columns only this format has; a header with most of one format's is that format.
    pub telling: &'static [&'static str],
    pub line: LineFn,
    /// The fields the mapping reads only as amounts, times or months (or tests for null), never
    /// as text: a Parquet reader hands their `decimal`, `timestamp` and `date` columns over
    /// typed ([`values::Typed`]), without making text to parse back.
    pub typed: &'static [usize],
    /// Whether the mapping reads the row's first cell ([`Row::first`], for subtotal rows).
    pub first: bool,
    /// The account id a row's cells (as a source gives them) name, as the mapping reads it, for
    /// a look before mapping the row; `None` when the format does not say, or only the mapping
    /// can.
    pub account_of: for<'a> fn(&[&'a str]) -> Option<&'a str>,
}

/// Each format's mapping; the formats and their order are [`ExportFormat::ALL`].
pub fn format(kind: ExportFormat) -> &'static Format {
    match kind {
        ExportFormat::Focus => &focus::FORMAT,
        ExportFormat::Alibaba => &alibaba::FORMAT,
        ExportFormat::Tencent => &tencent::FORMAT,
        ExportFormat::Huawei => &huawei::FORMAT,
    }
}

/// Every format, in the order of [`ExportFormat::ALL`].
fn formats() -> impl Iterator<Item = &'static Format> {
    ExportFormat::ALL.iter().map(|&k| format(k))
}

/// How an export file is stored.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Csv,
    CsvGz,
    Parquet,
}

/// One export file, its format recognised and its columns matched to the format's fields.
pub struct ExportFile {
    /// `exports/<file name>`, as rejects and the manifest name it.
    pub name: &'static str,
    /// The file's path below `exports/`, the first part of each row's `bill_id`.
    pub base: String,
    pub path: PathBuf,
    pub kind: Kind,
    pub format: &'static Format,
    /// `false` when `settle.toml` pinned the format.
    pub recognised: bool,
    /// For each field, the file column that holds it.
    pub columns: Vec<Option<usize>>,
    /// For each field, the column's name as the file writes it, or `(none)`.
    pub names: Vec<&'static str>,
    /// Every column of the header, as the file writes it.
    pub header: Vec<String>,
    pub currency: Option<Text>,
}

impl ExportFile {
    /// Which export column feeds each contract column: `(feeds, column)`, for the columns found.
    pub fn mapping(&self) -> Vec<(&'static str, &'static str)> {
        self.format
            .fields
            .iter()
            .zip(&self.columns)
            .zip(&self.names)
            .filter(|((_, c), _)| c.is_some())
            .map(|((f, _), n)| (f.feeds, *n))
            .collect()
    }
}

/// What reading an export file found, for the manifest and `settle validate`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportFacts {
    pub format: ExportFormat,
    pub recognised: bool,
    pub mapping: Vec<(&'static str, &'static str)>,
    /// Rows that are not charges (FOCUS `Tax`, subtotal rows): used by that rule, not as lines.
    pub not_charges: u64,
    /// Lines marked `ChargeClass = Correction`.
    pub corrections: u64,
}

/// The export files of a dataset, in file-name order.
pub struct Exports {
    pub files: Vec<ExportFile>,
}

/// A name for the rest of the run: export file names are few and live as long as it.
fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

/// Finds and recognises the files below `dir/exports/`, at any depth, or `None` when the folder
/// is absent.
pub fn discover(dir: &Path, settings: &ExportSettings) -> Result<Option<Exports>, DatasetError> {
    let folder = dir.join(FOLDER);
    if !folder.is_dir() {
        return Ok(None);
    }
    let paths = delivery::walk(&folder)?;
    if paths.is_empty() {
        return Err(DatasetError::NoExports { dir: folder });
    }
    let mut files = Vec::with_capacity(paths.len());
    for delivery::Found {
        relative: base,
        path,
        kind,
    } in paths
    {
        let name = leak(format!("{FOLDER}/{base}"));
        let header = match kind {
            Kind::Parquet => parquet::columns(&path, name)?,
            _ => source::header(&path, kind, name)?,
        };
        let columns = Columns::new(&header);
        let (format, recognised) = match settings.format {
            Some(pinned) => (format(pinned), false),
            None => (recognise(&columns, name)?, true),
        };
        files.push(matched(
            name, base, path, kind, format, recognised, &columns, settings,
        )?);
    }
    Ok(Some(Exports { files }))
}

/// The format whose telling columns the header has most of, at least two and more than any
/// other's.
fn recognise(columns: &Columns, name: &'static str) -> Result<&'static Format, DatasetError> {
    let mut scores: Vec<(usize, &'static Format)> = formats()
        .map(|f| (f.telling.iter().filter(|t| columns.has(t)).count(), f))
        .collect();
    scores.sort_by_key(|(s, _)| std::cmp::Reverse(*s));
    let telling = |f: &Format| {
        f.telling
            .iter()
            .filter(|t| columns.has(t))
            .map(|t| format!("`{t}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match scores.as_slice() {
        // A header with the telling columns of two formats is not guessed at.
        [(best, f), (next, g), ..] if *best >= 2 && *next >= 2 => Err(DatasetError::TwoFormats {
            file: name,
            first: format!("{} ({})", f.title, telling(f)),
            second: format!("{} ({})", g.title, telling(g)),
            pin: f.kind.as_str(),
        }),
        [(best, f), (next, _), ..] if *best >= 2 && best > next => Ok(*f),
        _ => match foreign::recognise(columns) {
            Some(foreign) => Err(DatasetError::ForeignExport {
                file: name,
                what: foreign.what,
                columns: listing(columns),
                instead: foreign.instead,
            }),
            None => Err(unknown(columns, name)),
        },
    }
}

/// The error for a header that is no export settle knows.
fn unknown(columns: &Columns, name: &'static str) -> DatasetError {
    DatasetError::UnknownExport {
        file: name,
        columns: listing(columns),
        kinds: titles(),
        telling: formats()
            .map(|f| {
                let t: Vec<String> = f.telling.iter().take(4).map(|t| format!("`{t}`")).collect();
                format!("{} ({})", f.kind.as_str(), t.join(", "))
            })
            .collect::<Vec<_>>()
            .join("; "),
    }
}

/// The columns a header has, for a message: all of them, or the first
/// [`LISTED`] and how many more.
fn listing(columns: &Columns) -> String {
    let shown: Vec<&str> = columns
        .raw
        .iter()
        .take(LISTED)
        .map(String::as_str)
        .collect();
    match columns.len().saturating_sub(LISTED) {
        0 => shown.join(", "),
        more => format!("{}, and {more} more", shown.join(", ")),
    }
}

/// How many of a refused header's columns a message lists.
const LISTED: usize = 40;

/// The formats' names for messages: `FOCUS, Alibaba, Tencent and Huawei`.
fn titles() -> String {
    let titles: Vec<&str> = formats().map(|f| f.title).collect();
    match titles.split_last() {
        Some((last, [])) => last.to_string(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    }
}

#[allow(clippy::too_many_arguments)]
fn matched(
    name: &'static str,
    base: String,
    path: PathBuf,
    kind: Kind,
    format: &'static Format,
    recognised: bool,
    columns: &Columns,
    settings: &ExportSettings,
) -> Result<ExportFile, DatasetError> {
    let mut found = Vec::with_capacity(format.fields.len());
    let mut names = Vec::with_capacity(format.fields.len());
    // Each money column's unit, where it names a currency: `(column, currency)`.
    let mut units: Vec<(&str, String)> = Vec::new();
    for field in format.fields {
        let hits = field
            .names
            .iter()
            .map(|n| columns.find_all(n))
            .find(|h| !h.is_empty())
            .unwrap_or_default();
        if hits.len() > 1 {
            return Err(DatasetError::ExportColumnTwice {
                file: name,
                feeds: field.feeds,
                columns: hits
                    .iter()
                    .map(|h| format!("`{}` (column {})", columns.raw[h.index], h.index + 1))
                    .collect::<Vec<_>>()
                    .join(" and "),
            });
        }
        let hit = hits.into_iter().next();
        let missing = match field.need {
            Need::Yes => true,
            Need::Account => settings.account_id.is_none(),
            Need::No => false,
        };
        match hit {
            Some(h) => {
                if let Some(c) = h.suffix.as_deref().and_then(header::suffix_currency) {
                    units.push((columns.raw[h.index].as_str(), c));
                }
                names.push(leak(columns.raw[h.index].clone()));
                found.push(Some(h.index));
            }
            None if missing && !recognised && field.need == Need::Yes => {
                let absent: Vec<String> = format
                    .telling
                    .iter()
                    .filter(|t| !columns.has(t))
                    .map(|t| format!("`{t}`"))
                    .collect();
                return Err(if absent.is_empty() {
                    missing_column(name, format, field)
                } else {
                    DatasetError::PinnedMismatch {
                        file: name,
                        format: format.title,
                        missing: absent.join(", "),
                    }
                });
            }
            None if missing => return Err(missing_column(name, format, field)),
            None => {
                names.push(leak(format!("({})", field.names[0])));
                found.push(None);
            }
        }
    }
    if let Some((other, c)) = units.iter().find(|(_, c)| *c != units[0].1) {
        let (first, f) = &units[0];
        return Err(DatasetError::ExportUnits {
            file: name,
            columns: format!("`{first}` says {f}, `{other}` says {c}"),
        });
    }
    let currency = units.into_iter().next().map(|(_, c)| c);
    Ok(ExportFile {
        name,
        base,
        path,
        kind,
        format,
        recognised,
        columns: found,
        names,
        header: columns.raw.clone(),
        currency: currency.map(Text::from),
    })
}

/// One row as a source reads it: its place, and the cells of the format's fields (then the
/// row's first cell), or why it could not be split.
pub enum RawRow<'a> {
    /// `typed` holds, in the order of `values`, the typed value of each cell that has one (see
    /// [`Format::typed`]), or nothing when no cell has.
    Values {
        line: Line,
        values: &'a [&'a str],
        typed: &'a [values::Typed],
    },
    Bad {
        line: Line,
        reason: String,
    },
}

impl ExportFile {
    /// The file columns a reader must give, in field order, then the first column.
    pub fn wanted(&self) -> Vec<Option<usize>> {
        let mut w = self.columns.clone();
        w.push(Some(0));
        w
    }

    /// Reads every row, handing each to `visit`; returns the file's SHA-256 and its lines.
    fn read(&self, visit: &mut dyn FnMut(RawRow)) -> Result<(String, Lines), DatasetError> {
        match self.kind {
            Kind::Parquet => parquet::read(self, visit),
            _ => source::read(self, visit),
        }
    }

    /// A row's id: the file name and its line (CSV) or row number (Parquet).
    fn bill_id(&self, line: Line) -> Id {
        let mut id = Id::from(self.base.as_str());
        id.push(if self.kind == Kind::Parquet { '#' } else { ':' });
        id.push_str(&line.to_string());
        id
    }

    fn cx(&self, zone: &Zone, settings: &ExportSettings) -> Cx {
        Cx {
            zone: zone.clone(),
            utc: Zone::new(chrono_tz::UTC),
            currency: self.currency.clone(),
            account: settings.account_id.as_deref().map(Text::from),
            names: Names::of(self.format.fields),
        }
    }

    /// Maps one row's cells: what it is, or why it cannot be used.
    fn map<'r>(
        &self,
        values: &'r [&'r str],
        typed: &'r [values::Typed],
        cx: &mut Cx,
    ) -> Result<Outcome<'r>, CellError> {
        let cells = self
            .names
            .iter()
            .zip(values)
            .map(|(&column, &v)| Cell {
                column,
                value: mapping::value(v),
            })
            .collect();
        let row = Row {
            cells,
            typed,
            first: values.last().copied().unwrap_or(""),
        };
        let outcome = (self.format.line)(&row, cx)?;
        if let Outcome::Charge(c) = &outcome
            && c.window.end < c.window.start
        {
            return Err(row.fail(c.window.end_cell, "the charge window ends before it starts"));
        }
        Ok(outcome)
    }
}

/// Turns a mapped charge into the typed bill line the rules fold, checking its account against
/// the known ones.
fn bill_line(
    file: &ExportFile,
    line: Line,
    c: Charge,
    known: &Known,
) -> Result<BillLine, CellError> {
    let Some((account_id, place)) = known.find(&c.account_id) else {
        let field = file.columns.iter().position(Option::is_some).unwrap_or(0);
        return Err(CellError {
            column: file.names[field],
            value: c.account_id.to_string(),
            reason: "unknown account: not in `accounts.csv`".into(),
        });
    };
    Ok(BillLine {
        line,
        bill_id: file.bill_id(line),
        account_id,
        account: place,
        product: c.product,
        sub_product: c.sub_product,
        resource_id: Id::from(c.resource_id),
        payment_mode: c.payment_mode,
        billing_cycle: c.billing_cycle,
        charge_start: c.window.start,
        charge_end: c.window.end,
        deducted_at: c.deducted_at,
        list_amount: c.list_amount,
        discount_amount: c.discount_amount,
        voucher_amount: c.voucher_amount,
        payable_amount: c.payable_amount,
        payment_status: c.payment_status,
        paid_with: c.paid_with,
        currency: c.currency,
        correction: c.correction,
    })
}

impl Exports {
    /// The accounts the exports name, for a dataset without `accounts.csv`: each id with the
    /// first name a row gives it (else the id). Their discount rate and title kind are unknown,
    /// which the rules are told (see `Dataset::accounts_from_exports`).
    pub fn accounts(
        &self,
        zone: &Zone,
        settings: &ExportSettings,
        progress: &dyn Progress,
    ) -> Result<Vec<Account>, DatasetError> {
        let mut names: BTreeMap<Text, String> = BTreeMap::new();
        for file in &self.files {
            progress.stage(&format!("reading {} for its accounts", file.name));
            let mut cx = file.cx(zone, settings);
            file.read(&mut |row| {
                let RawRow::Values { values, typed, .. } = row else {
                    return;
                };
                // A row of an account already named changes nothing, charge or not: only the
                // rows of the others are mapped.
                if let Some(id) = (file.format.account_of)(values)
                    && names.get(id).is_some_and(|n| !n.is_empty())
                {
                    return;
                }
                if let Ok(Outcome::Charge(c)) = file.map(values, typed, &mut cx) {
                    let name = names.entry(c.account_id).or_default();
                    if name.is_empty() {
                        name.push_str(c.account_name);
                    }
                }
            })?;
        }
        Ok(names
            .into_iter()
            .map(|(id, name)| {
                let name = if name.is_empty() {
                    id.clone()
                } else {
                    Text::from(name)
                };
                Account {
                    line: 0,
                    account_id: id,
                    account_name: name.clone(),
                    entity_name: name,
                    title_kind: TitleKind::Enterprise,
                    discount_rate: Decimal::ZERO,
                }
            })
            .collect())
    }

    /// A FOCUS export's times are UTC; in a dataset whose `timezone` is not, its months are
    /// cut at that zone's midnight, not at UTC's, which the run says once.
    pub fn warnings(&self, zone: chrono_tz::Tz) -> Vec<String> {
        let focus = self
            .files
            .iter()
            .filter(|f| f.format.kind == ExportFormat::Focus)
            .count();
        if focus == 0 || zone == chrono_tz::UTC {
            return Vec::new();
        }
        vec![format!(
            "{focus} FOCUS export file(s) hold UTC times, and the dataset's `timezone` is \
             `{zone}`: the month is cut at midnight in `{zone}`, so a charge of the month's first \
             or last hours in UTC may fall in the month beside it; set `timezone = \"UTC\"` in \
             `settle.toml` to cut months as the cloud's own bill does"
        )]
    }

    /// About how many rows the files hold, to plan the batches: a CSV row is some 300 bytes,
    /// a Parquet row some 60.
    fn estimated_rows(&self) -> u64 {
        self.files
            .iter()
            .map(|f| {
                let bytes = std::fs::metadata(&f.path).map_or(0, |m| m.len());
                match f.kind {
                    Kind::Csv => bytes / 300,
                    Kind::CsvGz | Kind::Parquet => bytes / 60,
                }
            })
            .sum()
    }
}

/// The exports, read batch by batch like [`crate::ingest::reader::big::Bills`]: fold every batch with
/// [`Bills::fold`], then [`Bills::finish`] gives each file's facts and rejects. Ids are unique
/// by construction, so no batch is ever folded again.
pub struct Bills<'c> {
    exports: &'c Exports,
    cx: &'c Context,
    settings: &'c ExportSettings,
    batches: Batches,
    inputs: Vec<InputFile>,
    rejects: Vec<Reject>,
}

impl<'c> Bills<'c> {
    pub fn open(
        exports: &'c Exports,
        cx: &'c Context,
        settings: &'c ExportSettings,
        lines_per_batch: u64,
    ) -> Bills<'c> {
        Bills {
            batches: Batches::plan(&cx.accounts, exports.estimated_rows(), lines_per_batch),
            exports,
            cx,
            settings,
            inputs: Vec::new(),
            rejects: Vec::new(),
        }
    }

    pub fn batches(&self) -> &Batches {
        &self.batches
    }

    /// Folds the lines of batch `index`'s accounts, file after file. The first batch counts
    /// every file's rows and reports its rejects.
    pub fn fold<F: Fold>(
        &mut self,
        index: usize,
        make: impl Fn() -> F,
        progress: &dyn Progress,
    ) -> Result<F, DatasetError> {
        let mut all = make();
        let first = index == 0;
        for file in &self.exports.files {
            progress.stage(&format!("reading {} and applying the rules", file.name));
            let mut fold = make();
            let mut cx = file.cx(&self.cx.zone, self.settings);
            let (mut rows, mut not_charges, mut corrections) = (0u64, 0u64, 0u64);
            let mut rejects = Vec::new();
            let (sha256, lines) = file.read(&mut |row| {
                rows += 1;
                let (line, values, typed) = match row {
                    RawRow::Values {
                        line,
                        values,
                        typed,
                    } => (line, values, typed),
                    RawRow::Bad { line, reason } => {
                        if first {
                            rejects.push(Reject {
                                file: file.name,
                                line,
                                column: String::new(),
                                value: String::new(),
                                reason,
                            });
                        }
                        return;
                    }
                };
                let mapped = file.map(values, typed, &mut cx).and_then(|o| match o {
                    Outcome::NotCharge => Ok(None),
                    Outcome::Charge(c) => bill_line(file, line, c, &self.cx.accounts).map(Some),
                });
                match mapped {
                    Ok(Some(b)) => {
                        corrections += u64::from(b.correction);
                        if self.batches.of(&b.account_id) == index {
                            fold.add(&b);
                        }
                    }
                    Ok(None) => not_charges += 1,
                    Err(e) if first => rejects.push(e.reject(file.name, line)),
                    Err(_) => {}
                }
            })?;
            all.merge(fold, 0);
            if first {
                self.rejects.append(&mut rejects);
                self.inputs.push(InputFile {
                    spec: FileSpec {
                        name: file.name,
                        required: false,
                        columns: &[],
                    },
                    sha256: Some(sha256),
                    rows,
                    unknown_columns: Vec::new(),
                    lines,
                    export: Some(Box::new(ExportFacts {
                        format: file.format.kind,
                        recognised: file.recognised,
                        mapping: file.mapping(),
                        not_charges,
                        corrections,
                    })),
                });
            }
        }
        Ok(all)
    }

    /// Each file's facts, and the rejects in file and line order.
    pub fn finish(self) -> (Vec<InputFile>, Vec<Reject>) {
        let mut rejects = self.rejects;
        let order: Vec<&str> = self.exports.files.iter().map(|f| f.name).collect();
        rejects.sort_by_key(|r| (order.iter().position(|n| *n == r.file), r.line));
        (self.inputs, rejects)
    }
}

/// The error for a file that has no column for a field its format needs.
fn missing_column(name: &'static str, format: &Format, field: &Field) -> DatasetError {
    DatasetError::ExportColumn {
        file: name,
        format: format.kind.as_str(),
        feeds: field.feeds,
        names: field
            .names
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(" or "),
        account: field.need == Need::Account,
    }
}
