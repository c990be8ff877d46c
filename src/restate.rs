//! Restatements (R9): what a run on a closed month writes when the current inputs change a
//! document of record. The month of record is never touched; the change goes into a new folder,
//! `<period>-r<n>/`, whose documents point at the ones they correct.
//!
//! A restatement is computed against the month as it stands: the month of record, or its last
//! closed restatement, whose `restated/` holds the month that restatement made of record. The
//! run's whole month goes into `restated/` of the new folder; beside it:
//!
//! - `statements.csv` and `statements/<partner_id>.csv`: the supplementary statements (补结算单),
//!   each changed row with the figure of record, the restated figure and the difference, under a
//!   number of its own that names the statement it amends, and `statements/<partner_id>.pdf`
//!   printed from them;
//! - `invoices.csv`: a red-letter entry (红字) offsetting in full each invoice in force whose
//!   amount, title or recipient changes or that is gone, naming its number and a reason, then a
//!   new blue entry for the restated invoice;
//! - `consumption.csv`, `rollups.csv`, `reconciliation.csv`: their rows that change, figure of
//!   record, restated figure and difference, and `rollups/<master>.csv` each master's;
//! - `changes.csv`: the input rows added, removed or changed since the month of record;
//! - `manifest.json`: which folder and manifest it amends.
//!
//! The month of record plus every restatement's differences is the month the inputs now give.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use rust_decimal::Decimal;
use serde::Serialize;

use crate::diff::{self, Paired};
use crate::error::Error;
use crate::layout::file_stem;
use crate::manifest::{CLOSED, Closing, DRAFT, OutputEntry, Recorded};
use crate::model::period::Month;
use crate::output::fail;
use crate::output::{OutputFile, Staging};
use crate::record;
use crate::render::documents::{self, Context};
use crate::view::numbers::{DocKind, number};
use crate::view::supplement::{SupplementLine, SupplementTotals, SupplementView, Three};

/// The folder of the whole month, as the current inputs give it, inside a restatement.
pub const RESTATED: &str = "restated";

/// Where a run on a closed month stands: the restatement it writes and what it is computed
/// against.
#[derive(Debug, Clone)]
pub struct Chain {
    /// The restatement's number, from 1.
    pub n: u32,
    /// Its folder, `<period>-r<n>`, beside the month of record.
    pub target: PathBuf,
    /// The month of record (n = 1) or the last closed restatement.
    pub base: PathBuf,
    /// The month of record and each closed restatement, in order.
    pub closed: Vec<PathBuf>,
}

impl Chain {
    /// The chain of the closed month `record`: its closed restatements, and the next one.
    pub fn of(record: &Path) -> Chain {
        let mut closed = vec![record.to_path_buf()];
        let mut n = 1;
        loop {
            let next = folder(record, n);
            if !Recorded::read(&next).is_some_and(|r| r.is_closed()) {
                break;
            }
            closed.push(next);
            n += 1;
        }
        Chain {
            n,
            target: folder(record, n),
            base: closed
                .last()
                .cloned()
                .unwrap_or_else(|| record.to_path_buf()),
            closed,
        }
    }

    /// The folder holding the documents of the month as it stands.
    fn base_month(&self) -> PathBuf {
        if self.closed.len() == 1 {
            self.base.clone()
        } else {
            self.base.join(RESTATED)
        }
    }

    /// `r<n>`, as the numbers of its documents are keyed.
    fn tag(&self) -> String {
        format!("r{}", self.n)
    }
}

/// The folder of restatement `n` of the period folder `record`.
pub fn folder(record: &Path, n: u32) -> PathBuf {
    let name = record
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    record.with_file_name(format!("{name}-r{n}"))
}

/// The manifest of a restatement.
#[derive(Serialize)]
struct Manifest<'a> {
    tool: &'static str,
    version: &'static str,
    dataset: &'a str,
    period: String,
    restatement: u32,
    /// The folder it amends (the month of record or the restatement before), and the SHA-256
    /// of that folder's `manifest.json`.
    amends: String,
    amends_manifest_sha256: String,
    state: &'static str,
    #[serde(flatten)]
    closing: Option<&'a Closing>,
    /// The SHA-256 of `restated/manifest.json`, the whole month's.
    restated_manifest_sha256: String,
    outputs: Vec<OutputEntry>,
}

/// Turns the month written into `staging` into restatement `chain.n` when it changes a document
/// of the month as it stands: the month moves into `restated/`, and the restatement's documents
/// are written beside it. Returns `false`, leaving the staging as it was, when nothing changes.
pub fn write(
    chain: &Chain,
    staging: &Staging,
    dataset: &str,
    inputs: &Path,
    month: Month,
    closing: Option<&Closing>,
    pdf: Option<&Context>,
) -> Result<bool, Error> {
    let base = chain.base_month();
    let report = record::differences(&base, staging.folder(), false)?;
    if report.is_empty() {
        return Ok(false);
    }
    let root = staging.folder().to_path_buf();
    let restated = root.join(RESTATED);
    let entries: Vec<PathBuf> = std::fs::read_dir(&root)
        .map_err(fail(&root))?
        .map(|e| e.map(|e| e.path()).map_err(fail(&root)))
        .collect::<Result<_, _>>()?;
    std::fs::create_dir(&restated).map_err(fail(&restated))?;
    for path in entries {
        let to = restated.join(path.file_name().unwrap_or_default());
        std::fs::rename(&path, &to).map_err(fail(&path))?;
    }

    let mut outputs = Vec::new();
    let mut put = |path: String, bytes: Vec<u8>| -> Result<(), Error> {
        let file = OutputFile::new(path, bytes);
        staging.write(&file)?;
        outputs.push(file.entry());
        Ok(())
    };
    let tag = chain.tag();
    let supplement = |partner: &str| number(DocKind::Supplement, month, &[partner, &tag]);

    // The supplementary statements: a partner's totals and its lines.
    let mut supplements: BTreeMap<String, SupplementView> = BTreeMap::new();
    let totals = restated_rows(&base, &restated, "statements.csv", Some(&supplement))?;
    if let Some(t) = &totals {
        for row in parse(&t.bytes, "statements.csv")? {
            let view = supplements.entry(cell(&row, "partner_id")).or_default();
            view.totals.push(supplement_totals(&row));
        }
    }
    for name in party_files(&base, "statements")?.union(&party_files(&restated, "statements")?) {
        let file = format!("statements/{name}");
        if let Some(t) = restated_rows(&base, &restated, &file, Some(&supplement))? {
            let partner = name.trim_end_matches(".csv").to_string();
            let view = supplements.entry(partner).or_default();
            view.lines = parse(&t.bytes, &file)?
                .iter()
                .map(supplement_line)
                .collect();
            put(file, t.bytes)?;
        }
    }
    if let Some(t) = totals {
        put("statements.csv".into(), t.bytes)?;
    }
    let names = partner_names(&base, &restated)?;
    for (partner, view) in &mut supplements {
        view.number = supplement(partner);
        view.amends = names.get(partner).map(|n| n.1.clone()).unwrap_or_default();
        view.restatement = chain.n;
        view.partner_name = names.get(partner).map(|n| n.0.clone()).unwrap_or_default();
        view.partner_id = partner.clone();
    }
    if let Some(cx) = pdf {
        for (partner, view) in &supplements {
            let path = format!("statements/{}.pdf", file_stem(partner));
            let mut bytes = Vec::new();
            documents::supplement(cx, view, &mut bytes).map_err(fail(&root.join(&path)))?;
            put(path, bytes)?;
        }
    }
    for file in ["consumption.csv", "rollups.csv", "reconciliation.csv"] {
        if let Some(t) = restated_rows(&base, &restated, file, None)? {
            put(file.into(), t.bytes)?;
        }
    }
    // Each master's changed rollup rows, so that the portal shows a master the restatements
    // that concern it, as a partner its supplementary statements.
    for name in party_files(&base, "rollups")?.union(&party_files(&restated, "rollups")?) {
        let file = format!("rollups/{name}");
        if let Some(t) = restated_rows(&base, &restated, &file, None)? {
            put(file, t.bytes)?;
        }
    }
    let in_force = invoices_in_force(chain)?;
    if let Some(bytes) = red_and_blue(&in_force, &restated, chain, month)? {
        put("invoices.csv".into(), bytes)?;
    }
    put(
        "changes.csv".into(),
        crate::changes::csv(&chain.base.join(record::INPUTS), inputs)?,
    )?;

    let sha = |path: &Path| -> Result<String, Error> {
        let bytes = std::fs::read(path).map_err(fail(path))?;
        Ok(crate::digest::sha256_hex(&bytes))
    };
    outputs.sort_by(|a, b| a.file.cmp(&b.file));
    let manifest = Manifest {
        tool: "settle",
        version: env!("CARGO_PKG_VERSION"),
        dataset,
        period: month.to_string(),
        restatement: chain.n,
        amends: chain
            .base
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        amends_manifest_sha256: sha(&chain.base.join("manifest.json"))?,
        state: if closing.is_some() { CLOSED } else { DRAFT },
        closing,
        restated_manifest_sha256: sha(&restated.join("manifest.json"))?,
        outputs,
    };
    let mut json = serde_json::to_vec_pretty(&manifest)
        .map_err(|e| Error::Internal(format!("the restatement's manifest: {e}")))?;
    json.push(b'\n');
    staging.write(&OutputFile::new("manifest.json", json))?;
    Ok(true)
}

/// A cell of a row read back, or "" where there is none.
fn cell(row: &Entry, column: &str) -> String {
    row.get(column).cloned().unwrap_or_default()
}

/// The three cells of a figure in a restated row.
fn three(row: &Entry, figure: &str) -> Three {
    ["of_record", "restated", "difference"].map(|side| cell(row, &format!("{figure}_{side}")))
}

/// A currency's totals of a supplementary statement, from its row of `statements.csv`.
fn supplement_totals(row: &Entry) -> SupplementTotals {
    SupplementTotals {
        currency: cell(row, "currency"),
        figures: ["rebate_total", "tax_deduction", "net_rebate", "payable_now"]
            .into_iter()
            .map(|f| (f, three(row, f)))
            .collect(),
        status: [
            cell(row, "payout_status_of_record"),
            cell(row, "payout_status_restated"),
        ],
    }
}

/// A changed line of a supplementary statement, from its row of `statements/<id>.csv`.
fn supplement_line(row: &Entry) -> SupplementLine {
    let name = cell(row, "account_name_restated");
    SupplementLine {
        change: cell(row, "change"),
        account_id: cell(row, "account_id"),
        account_name: if name.is_empty() {
            cell(row, "account_name_of_record")
        } else {
            name
        },
        product: cell(row, "product"),
        sub_product: cell(row, "sub_product"),
        payment_mode: cell(row, "payment_mode"),
        currency: cell(row, "currency"),
        base: three(row, "base_amount"),
        rebate: three(row, "rebate_amount"),
    }
}

/// Each partner's name and statement number of record, from `statements.csv` of the month as it
/// stands, else as restated (a partner new to the month has no number of record).
fn partner_names(
    base: &Path,
    restated: &Path,
) -> Result<BTreeMap<String, (String, String)>, Error> {
    let mut out = BTreeMap::new();
    for row in entries(&restated.join("statements.csv"))? {
        out.insert(
            cell(&row, "partner_id"),
            (cell(&row, "partner_name"), String::new()),
        );
    }
    for row in entries(&base.join("statements.csv"))? {
        out.insert(
            cell(&row, "partner_id"),
            (cell(&row, "partner_name"), cell(&row, "document_no")),
        );
    }
    Ok(out)
}

/// The line files of one partner's or master's documents in a month folder (`statements/` or
/// `rollups/`), by file name.
fn party_files(month: &Path, folder: &str) -> Result<BTreeSet<String>, Error> {
    let dir = month.join(folder);
    let mut out = BTreeSet::new();
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Ok(out);
    };
    for entry in entries {
        let name = entry.map_err(fail(&dir))?.file_name();
        let name = name.to_string_lossy();
        if name.ends_with(".csv") {
            out.insert(name.into_owned());
        }
    }
    Ok(out)
}

/// A restated document: its CSV.
struct Restated {
    bytes: Vec<u8>,
}

/// The rows of `file` that differ between the month as it stands (`base`) and as restated: each
/// with `change`, its key columns, then for each figure the amount of record, the restated
/// amount and the difference, and for each other column the two values. With `renumber`, the
/// rows are a partner's supplementary statement: `document_no` is its own, `amends` the number
/// of the statement of record. `None` when no row differs.
fn restated_rows(
    base: &Path,
    restated: &Path,
    file: &str,
    renumber: Option<&dyn Fn(&str) -> String>,
) -> Result<Option<Restated>, Error> {
    let read = |dir: &Path| -> Result<Vec<u8>, Error> {
        let path = dir.join(file);
        match std::fs::read(&path) {
            Ok(b) => Ok(b),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(fail(&path)(e)),
        }
    };
    let (a, b) = (read(base)?, read(restated)?);
    if a == b {
        return Ok(None);
    }
    let name = Path::new(file)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let paired = Paired::new(&base.join(file), &a, &b, |c| {
        !diff::is_figure(c) && !diff::is_attribute(&name, c)
    })
    .map_err(|e| Error::Internal(format!("the restatement cannot compare `{file}`: {e}")))?;
    let numbered = renumber.is_some() && paired.columns.iter().any(|c| c == "document_no");
    let mut header = vec!["change".to_string()];
    if numbered {
        header.extend(["document_no".to_string(), "amends".to_string()]);
    }
    for (i, c) in paired.columns.iter().enumerate() {
        if numbered && c == "document_no" {
            continue;
        }
        if paired.keys.contains(&i) {
            header.push(c.clone());
        } else if diff::is_figure(c) {
            header.extend([
                format!("{c}_of_record"),
                format!("{c}_restated"),
                format!("{c}_difference"),
            ]);
        } else {
            header.extend([format!("{c}_of_record"), format!("{c}_restated")]);
        }
    }
    let mut out = csv::WriterBuilder::new().from_writer(Vec::from("\u{feff}".as_bytes()));
    out.write_record(&header).map_err(csv_fail(file))?;
    // The numbers of record: a supplementary statement amends the partner's statement of
    // record, whichever of its lines changed; a partner new to the month amends none.
    let of_record: BTreeSet<&str> = paired
        .pairs
        .iter()
        .filter_map(|(x, _)| x.as_deref())
        .map(|r| paired.cell(r, "document_no"))
        .collect();
    let mut written = 0;
    for (x, y) in &paired.pairs {
        if x == y {
            continue;
        }
        let change = match (x, y) {
            (Some(_), Some(_)) => diff::Change::Changed,
            (None, Some(_)) => diff::Change::Added,
            (Some(_), None) => diff::Change::Removed,
            (None, None) => continue,
        };
        let Some(any) = y.as_deref().or(x.as_deref()) else {
            continue;
        };
        let partner = paired.cell(any, "partner_id");
        let mut row = vec![change.as_str().to_string()];
        if let Some(renumber) = renumber.filter(|_| numbered) {
            let partner = if partner.is_empty() {
                name.trim_end_matches(".csv")
            } else {
                partner
            };
            row.push(renumber(partner));
            let amends = paired.cell(any, "document_no");
            let amends = if of_record.contains(amends) {
                amends
            } else {
                ""
            };
            row.push(amends.to_string());
        }
        for (i, c) in paired.columns.iter().enumerate() {
            if numbered && c == "document_no" {
                continue;
            }
            let va = x.as_ref().map_or("", |r| r[i].as_str());
            let vb = y.as_ref().map_or("", |r| r[i].as_str());
            if paired.keys.contains(&i) {
                row.push(any[i].clone());
            } else if diff::is_figure(c) {
                let d = diff::difference(va, vb).map(|d| d.to_string());
                row.extend([va.to_string(), vb.to_string(), d.unwrap_or_default()]);
            } else {
                row.extend([va.to_string(), vb.to_string()]);
            }
        }
        out.write_record(&row).map_err(csv_fail(file))?;
        written += 1;
    }
    if written == 0 {
        return Ok(None);
    }
    let bytes = out
        .into_inner()
        .map_err(|e| Error::Internal(format!("`{file}`: {e}")))?;
    Ok(Some(Restated { bytes }))
}

/// The columns that name an invoice, whatever its number: the same entry of two months has the
/// same identity.
const INVOICE_IDENTITY: [&str; 5] = [
    "source",
    "reference",
    "issuer",
    "recipient_account_id",
    "currency",
];

/// The statuses of an invoice that is issued, or is to be issued, under its number.
fn in_force(status: &str) -> bool {
    matches!(status, "to_issue" | "issued" | "overdue")
}

/// An invoice-list entry as a map from column to value.
type Entry = BTreeMap<String, String>;

/// A CSV's rows as maps from column to value; no rows when there is no file.
fn entries(path: &Path) -> Result<Vec<Entry>, Error> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(fail(path)(e)),
    };
    parse(&bytes, &path.display().to_string())
}

/// CSV bytes' rows as maps from column to value.
fn parse(bytes: &[u8], name: &str) -> Result<Vec<Entry>, Error> {
    let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new().from_reader(bytes);
    let header = reader.headers().map_err(csv_fail(name))?.clone();
    reader
        .records()
        .map(|r| {
            let r = r.map_err(csv_fail(name))?;
            Ok(header
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect())
        })
        .collect()
}

fn identity(e: &Entry) -> Vec<String> {
    INVOICE_IDENTITY
        .iter()
        .map(|c| e.get(*c).cloned().unwrap_or_default())
        .collect()
}

/// The invoices in force after the month of record and its closed restatements: the month of
/// record's entries to issue, with each restatement's red entries taken off and its blue entries
/// put on, by identity.
fn invoices_in_force(chain: &Chain) -> Result<BTreeMap<Vec<String>, Entry>, Error> {
    let mut force = BTreeMap::new();
    for (i, folder) in chain.closed.iter().enumerate() {
        for e in entries(&folder.join("invoices.csv"))? {
            if i == 0 {
                if e.get("status").is_some_and(|s| in_force(s)) {
                    force.insert(identity(&e), e);
                }
                continue;
            }
            match e.get("entry").map(String::as_str) {
                Some("red") => {
                    force.remove(&identity(&e));
                }
                Some("blue") => {
                    force.insert(identity(&e), e);
                }
                _ => {}
            }
        }
    }
    Ok(force)
}

/// Why an invoice is offset by a red-letter entry (数电票's reasons).
#[derive(Clone, Copy)]
enum Reason {
    /// 开票有误: its amount, title or recipient was wrong.
    IssuedInError,
    /// 服务终止: the month no longer has it.
    ServiceTerminated,
}

impl Reason {
    fn as_str(self) -> &'static str {
        match self {
            Reason::IssuedInError => "issued_in_error",
            Reason::ServiceTerminated => "service_terminated",
        }
    }
}

/// The restatement's invoice entries: for each invoice in force whose amount, title or kind
/// changes, a red entry offsetting it in full and a blue entry for the restated one; a red entry
/// alone for one that is gone; a blue entry for one that is new. `None` when there is none.
fn red_and_blue(
    force: &BTreeMap<Vec<String>, Entry>,
    restated: &Path,
    chain: &Chain,
    month: Month,
) -> Result<Option<Vec<u8>>, Error> {
    let fresh: BTreeMap<Vec<String>, Entry> = entries(&restated.join("invoices.csv"))?
        .into_iter()
        .filter(|e| e.get("status").is_some_and(|s| in_force(s)))
        .map(|e| (identity(&e), e))
        .collect();
    let tag = chain.tag();
    let columns = [
        "entry",
        "document_no",
        "offsets",
        "replaces",
        "reason",
        "source",
        "reference",
        "issuer",
        "recipient_account_id",
        "title",
        "invoice_kind",
        "amount",
        "currency",
        "due_date",
        "shipping",
        "status",
    ];
    let mut out = csv::WriterBuilder::new().from_writer(Vec::from("\u{feff}".as_bytes()));
    out.write_record(columns)
        .map_err(csv_fail("invoices.csv"))?;
    let mut rows = 0;
    let keys: BTreeSet<&Vec<String>> = force.keys().chain(fresh.keys()).collect();
    for key in keys {
        let (old, new) = (force.get(key), fresh.get(key));
        let same = |a: &Entry, b: &Entry| {
            ["amount", "title", "invoice_kind"]
                .iter()
                .all(|c| a.get(*c) == b.get(*c))
        };
        let reason = match (old, new) {
            (Some(a), Some(b)) if same(a, b) => continue,
            (Some(_), Some(_)) => Some(Reason::IssuedInError),
            (Some(_), None) => Some(Reason::ServiceTerminated),
            (None, Some(_)) => None,
            (None, None) => continue,
        };
        if let (Some(old), Some(reason)) = (old, reason) {
            let original = old.get("document_no").cloned().unwrap_or_default();
            let amount: Decimal = old
                .get("amount")
                .and_then(|a| a.parse().ok())
                .unwrap_or_default();
            let mut red = old.clone();
            red.insert("entry".into(), "red".into());
            red.insert(
                "document_no".into(),
                number(DocKind::RedLetter, month, &[&original, &tag]),
            );
            red.insert("offsets".into(), original);
            red.insert("replaces".into(), String::new());
            red.insert("reason".into(), reason.as_str().into());
            red.insert("amount".into(), (-amount).to_string());
            write_entry(&mut out, &columns, &red)?;
            rows += 1;
        }
        if let Some(new) = new {
            let mut blue = new.clone();
            let mut parts: Vec<&str> = key.iter().map(String::as_str).collect();
            parts.push(&tag);
            blue.insert("entry".into(), "blue".into());
            blue.insert(
                "document_no".into(),
                number(DocKind::Invoice, month, &parts),
            );
            blue.insert(
                "replaces".into(),
                old.and_then(|o| o.get("document_no").cloned())
                    .unwrap_or_default(),
            );
            blue.insert("offsets".into(), String::new());
            blue.insert("reason".into(), String::new());
            write_entry(&mut out, &columns, &blue)?;
            rows += 1;
        }
    }
    if rows == 0 {
        return Ok(None);
    }
    out.into_inner()
        .map(Some)
        .map_err(|e| Error::Internal(format!("`invoices.csv`: {e}")))
}

fn write_entry(out: &mut csv::Writer<Vec<u8>>, columns: &[&str], e: &Entry) -> Result<(), Error> {
    let row: Vec<&str> = columns
        .iter()
        .map(|c| e.get(*c).map_or("", String::as_str))
        .collect();
    out.write_record(row).map_err(csv_fail("invoices.csv"))
}

fn csv_fail(file: &str) -> impl Fn(csv::Error) -> Error + '_ {
    move |e| {
        Error::Internal(format!(
            "the restatement cannot read or write `{file}`: {e}"
        ))
    }
}
