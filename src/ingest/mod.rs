//! Ingestion: a dataset folder in, typed records and rejects out.
//!
//! Every input file of the contract (docs/inputs.md) is read here and nowhere else. The small tables go through the `csv`
//! crate ([`small`]); `bills.csv` and `usage.csv`, which hold millions of lines, are read on
//! every core ([`segments`], [`big`]). Both hand each row to the same parse function
//! ([`parse`]), so a row means the same thing whichever reader carried it.
//!
//! [`load`] reads the small files and checks `usage.csv`. The bill lines are folded straight
//! into the month's rules by [`big::Bills`], once the tables the rules need are checked, and the
//! meter's records are read for one [`batches::Batches`] batch of accounts at a time: neither big
//! file is held in memory all at once.
//!
//! A dataset may give its bill lines as cloud exports in `exports/` instead of `bills.csv`
//! ([`exports`]); [`sources::Bills`] folds either the same way.
//!
//! A bad row never stops the run: it becomes a [`Reject`] naming its file, line, column, value and
//! reason. Only a dataset that cannot be used at all (a missing required file or column) is an
//! error.

pub mod batches;
pub mod cell;
pub mod exports;
pub mod input;
pub mod lines;
pub mod parse;
pub mod presence;
pub mod reader;
pub mod schema;
pub mod small;
pub mod sources;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::config::Settings;
use crate::error::DatasetError;
use crate::ingest::input::{InputFile, Loaded};
use crate::ingest::parse::Context;
use crate::ingest::reader::big;
use crate::ingest::schema::FileSpec;
use crate::model::records::*;
use crate::model::reject::Reject;
use crate::progress::Progress;

/// A whole dataset but its bill lines, checked row by row.
pub struct Dataset {
    /// Where the dataset was read from, for `bills.csv`.
    dir: PathBuf,
    /// The names the bill lines are checked against.
    cx: Context,
    pub name: String,
    pub settings: Settings,
    pub accounts: BTreeMap<Text, Account>,
    pub partners: BTreeMap<Text, Partner>,
    pub links: Vec<PartnerLink>,
    pub relations: Vec<Relation>,
    pub rates: Vec<RebateRate>,
    pub specials: Vec<SpecialRebate>,
    pub requests: Vec<InvoiceRequest>,
    /// The export files, when the dataset gives its bill lines in `exports/`.
    pub exports: Option<exports::Exports>,
    /// `accounts.csv` is absent and the accounts were taken from the exports: their discount
    /// rates and title kinds are unknown, and the checks that need them are skipped.
    pub accounts_from_exports: bool,
    /// Offsets of the `usage.csv` rows no batch reads: later rows of a `usage_id`.
    usage_skip: rustc_hash::FxHashSet<u64>,
    pub inputs: Vec<InputFile>,
    pub rejects: Vec<Reject>,
}

/// Reads and checks every input file of the dataset in `dir`, under its `settings`, but `bills.csv`: see
/// [`Dataset::bills`]. `usage.csv` is checked here and read by batch with [`Dataset::usage`].
pub fn load(
    dir: &Path,
    settings: Settings,
    progress: &dyn Progress,
) -> Result<Dataset, DatasetError> {
    if !dir.is_dir() {
        return Err(DatasetError::NotAFolder(dir.to_path_buf()));
    }
    // Every input that is there must be a regular file: a FIFO, a folder or a dangling link in
    // its place is an error naming it, never a file taken as absent (see `presence`).
    let mut present = BTreeMap::new();
    for spec in schema::ALL.iter() {
        present.insert(spec.name, presence::probe(&dir.join(spec.name))?);
    }
    let here = |spec: &FileSpec| present.get(spec.name) == Some(&presence::Presence::File);
    let exports = exports::discover(dir, &settings.exports)?;
    if exports.is_some() && here(&schema::BILLS) {
        return Err(DatasetError::BothBillSources {
            dir: dir.to_path_buf(),
        });
    }
    // Exports stand in for `bills.csv`, and may name the accounts instead of `accounts.csv`.
    let accounts_from_exports = exports.is_some() && !here(&schema::ACCOUNTS);
    for spec in schema::ALL.iter().filter(|s| s.required) {
        if exports.is_some() && (*spec == schema::BILLS || accounts_from_exports) {
            continue;
        }
        if !here(spec) {
            return Err(DatasetError::MissingFile {
                dir: dir.to_path_buf(),
                file: spec.name,
            });
        }
    }
    let mut cx = Context::new(settings.timezone);
    let mut seen = Seen::default();

    progress.stage(&format!("reading {}", schema::ACCOUNTS.name));
    let mut accounts = match &exports {
        Some(exports) if accounts_from_exports => Loaded {
            records: exports.accounts(&cx.zone, &settings.exports, progress)?,
            rejects: Vec::new(),
            input: InputFile {
                spec: schema::ACCOUNTS,
                sha256: None,
                rows: 0,
                unknown_columns: Vec::new(),
                lines: lines::Lines::default(),
                export: None,
            },
        },
        _ => small::read(dir, &schema::ACCOUNTS, &mut cx, parse::account)?,
    };
    unique(&mut accounts, |a| &*a.account_id, "account_id");
    let accounts = seen.take(accounts);
    cx.accounts = Arc::new(accounts.iter().map(|a| a.account_id.clone()).collect());

    progress.stage(&format!("reading {}", schema::PARTNERS.name));
    let mut partners = small::read(dir, &schema::PARTNERS, &mut cx, parse::partner)?;
    unique(&mut partners, |p| &*p.partner_id, "partner_id");
    let partners = seen.take(partners);
    cx.partners = Arc::new(partners.iter().map(|p| p.partner_id.clone()).collect());

    progress.stage(&format!("reading {}", schema::PARTNER_LINKS.name));
    let mut links = small::read(dir, &schema::PARTNER_LINKS, &mut cx, parse::partner_link)?;
    no_overlapping_links(&mut links);
    let links = seen.take(links);

    progress.stage(&format!("reading {}", schema::RELATIONS.name));
    let relations = seen.take(small::read(
        dir,
        &schema::RELATIONS,
        &mut cx,
        parse::relation,
    )?);
    progress.stage(&format!("reading {}", schema::REBATE_RATES.name));
    let rates = seen.take(small::read(
        dir,
        &schema::REBATE_RATES,
        &mut cx,
        parse::rebate_rate,
    )?);
    progress.stage(&format!("reading {}", schema::SPECIAL_REBATES.name));
    let specials = seen.take(small::read(
        dir,
        &schema::SPECIAL_REBATES,
        &mut cx,
        parse::special_rebate,
    )?);
    progress.stage(&format!("reading {}", schema::INVOICE_REQUESTS.name));
    let mut requests = small::read(
        dir,
        &schema::INVOICE_REQUESTS,
        &mut cx,
        parse::invoice_request,
    )?;
    unique(&mut requests, |r| &*r.request_id, "request_id");
    let requests = seen.take(requests);

    progress.stage(&format!("reading {}", schema::USAGE.name));
    let usage = big::check(dir, &schema::USAGE, &cx, parse::usage, progress)?;
    seen.inputs.push(usage.input);
    seen.rejects.extend(usage.rejects);

    let Seen {
        inputs,
        mut rejects,
    } = seen;
    sort_rejects(&mut rejects);
    Ok(Dataset {
        dir: dir.to_path_buf(),
        cx,
        name: dataset_name(dir),
        settings,
        accounts: accounts
            .into_iter()
            .map(|a| (a.account_id.clone(), a))
            .collect(),
        partners: partners
            .into_iter()
            .map(|p| (p.partner_id.clone(), p))
            .collect(),
        links,
        relations,
        rates,
        specials,
        requests,
        exports,
        accounts_from_exports,
        usage_skip: usage.skip,
        inputs,
        rejects,
    })
}

impl Dataset {
    /// The dataset folder it was read from.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The known accounts, each with the place its bill lines carry
    /// ([`crate::model::records::BillLine::account`]).
    pub fn accounts_known(&self) -> &Known {
        &self.cx.accounts
    }

    /// Opens `bills.csv`, or the exports, their accounts cut into batches of about
    /// `lines_per_batch` lines. Add what reading them finds to the dataset with
    /// [`Dataset::add_bills`].
    pub fn bills(&self, lines_per_batch: u64) -> Result<sources::Bills<'_>, DatasetError> {
        Ok(match &self.exports {
            Some(exports) => sources::Bills::Exports(exports::Bills::open(
                exports,
                &self.cx,
                &self.settings.exports,
                lines_per_batch,
            )),
            None => sources::Bills::Csv(Box::new(big::Bills::open(
                &self.dir,
                &self.cx,
                lines_per_batch,
            )?)),
        })
    }

    /// The usage records of one batch's accounts, in file order.
    pub fn usage(
        &self,
        batch: big::Batch,
        progress: &dyn Progress,
    ) -> Result<Vec<UsageRecord>, DatasetError> {
        big::read_batch(
            &self.dir,
            &schema::USAGE,
            &self.cx,
            parse::usage,
            batch,
            &self.usage_skip,
            progress,
        )
    }

    /// Adds what reading `bills.csv` (or the exports) found, its facts and its rejects, to the
    /// dataset's.
    pub fn add_bills(&mut self, inputs: Vec<InputFile>, rejects: Vec<Reject>) {
        self.inputs.extend(inputs);
        self.inputs.sort_by_key(|i| file_order(i.spec.name));
        self.rejects.extend(rejects);
        sort_rejects(&mut self.rejects);
    }
}

/// Orders rejects by file (in reading order) and line.
pub fn sort_rejects(rejects: &mut [Reject]) {
    rejects.sort_by_key(|r| {
        let export = if r.file.starts_with("exports/") {
            r.file
        } else {
            ""
        };
        (file_order(r.file), export, r.line)
    });
}

/// Where a file is reported: in the contract's reading order, export files where `bills.csv` would be.
fn file_order(name: &str) -> Option<usize> {
    let name = if name.starts_with("exports/") {
        schema::BILLS.name
    } else {
        name
    };
    schema::ALL.iter().position(|s| s.name == name)
}

/// The facts and rejects of the files read so far.
#[derive(Default)]
struct Seen {
    inputs: Vec<InputFile>,
    rejects: Vec<Reject>,
}

impl Seen {
    fn take<T>(&mut self, loaded: Loaded<T>) -> Vec<T> {
        self.inputs.push(loaded.input);
        self.rejects.extend(loaded.rejects);
        loaded.records
    }
}

/// The dataset's name: its folder's name.
pub fn dataset_name(dir: &Path) -> String {
    let canonical = dir.canonicalize().unwrap_or_else(|_| PathBuf::from(dir));
    canonical
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "dataset".into())
}

/// Keeps the first row of each id and rejects the later ones.
fn unique<T: HasLine>(loaded: &mut Loaded<T>, id: impl Fn(&T) -> &str, column: &'static str) {
    let mut seen = rustc_hash::FxHashSet::default();
    seen.reserve(loaded.records.len());
    if loaded.records.iter().all(|r| seen.insert(id(r))) {
        return;
    }
    let mut order: Vec<usize> = (0..loaded.records.len()).collect();
    order.sort_by(|&a, &b| {
        let (ra, rb) = (&loaded.records[a], &loaded.records[b]);
        id(ra).cmp(id(rb)).then(ra.line().cmp(&rb.line()))
    });
    let mut drop = vec![false; loaded.records.len()];
    let mut first: Option<usize> = None;
    for &i in &order {
        let row = &loaded.records[i];
        match first {
            Some(f) if id(&loaded.records[f]) == id(row) => {
                drop[i] = true;
                loaded.rejects.push(Reject::duplicate(
                    loaded.input.spec.name,
                    row.line(),
                    column,
                    id(row),
                    loaded.records[f].line(),
                ));
            }
            _ => first = Some(i),
        }
    }
    retain_unmarked(&mut loaded.records, &drop);
}

/// The contract (docs/rules.md): one account's link windows must not overlap. The earlier row (by line) wins.
fn no_overlapping_links(loaded: &mut Loaded<PartnerLink>) {
    let mut drop = vec![false; loaded.records.len()];
    let mut by_account: HashMap<&Text, Vec<usize>> = HashMap::new();
    for (i, l) in loaded.records.iter().enumerate() {
        by_account.entry(&l.account_id).or_default().push(i);
    }
    let mut rejects = Vec::new();
    for rows in by_account.values() {
        for (k, &i) in rows.iter().enumerate() {
            let link = &loaded.records[i];
            let clash = rows[..k]
                .iter()
                .filter(|&&j| !drop[j])
                .map(|&j| &loaded.records[j])
                .find(|earlier| earlier.window.overlaps(&link.window));
            if let Some(earlier) = clash {
                drop[i] = true;
                rejects.push(Reject {
                    file: loaded.input.spec.name,
                    line: link.line,
                    column: "linked_from".into(),
                    value: link.account_id.to_string(),
                    reason: format!(
                        "overlaps the link of the same account on line {}; one account's link windows must not overlap",
                        earlier.line
                    ),
                });
            }
        }
    }
    loaded.rejects.extend(rejects);
    retain_unmarked(&mut loaded.records, &drop);
}

fn retain_unmarked<T>(records: &mut Vec<T>, drop: &[bool]) {
    let mut i = 0;
    records.retain(|_| {
        i += 1;
        !drop[i - 1]
    });
}
