//! The big files, read in [`Batches`] of accounts, so that memory does not grow with the month.
//!
//! Neither file is held whole. `usage.csv` is read once to check it, then once per batch for the
//! records of the batch's accounts, which the meter indexes. `bills.csv` is read once: each core
//! reads it whole and folds the lines of its own accounts of the first batch straight into a
//! [`Fold`] (the month's rules), so memory grows with the groups one batch keeps, and no group is
//! kept on two cores. The lines of the other batches' accounts are written, split, to scratch
//! files ([`scatter`]), one per batch and core, which each later batch reads instead of the file.
//!
//! A `bill_id` or `usage_id` must be unique, and the first row of an id is the one used. A fold
//! cannot take a line back, so a read keeps only a 64-bit hash of each id (for `bills.csv`, each
//! batch the hashes of one class of ids, over all accounts). When two hashes agree (a duplicate,
//! or by rare chance two ids), the rows behind them are read again to find the true duplicates.
//! The meter is checked before any batch; bills found duplicate after the batches are folded once
//! more without the later rows. Every bill row's id is hashed, whether or not the row parses, so
//! a bad row that repeats a good row's id costs that second read, which then finds nothing.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hash::{BuildHasher, Hash};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use rustc_hash::{FxBuildHasher, FxHashSet};

use crate::error::DatasetError;
use crate::ingest::batches::Batches;
use crate::ingest::cell::CellError;
use crate::ingest::input::InputFile;
use crate::ingest::lines::Lines;
use crate::ingest::parse::{self, Context, Row};
use crate::ingest::reader::plan::{Part, Sink, Source, Split, Whole};
use crate::ingest::reader::scatter::{self, Scatter, Written};
use crate::ingest::schema::{self, FileSpec};
use crate::model::fold::Fold;
use crate::model::records::{HasLine, Line};
use crate::model::reject::Reject;
use crate::progress::Progress;

/// Where a big file's id is: its first contract column.
const ID: usize = 0;
/// Where a big file's account is: its second contract column.
const ACCOUNT: usize = 1;

/// What checking a big file found: its facts, its rejects (rows that do not parse, and later rows
/// of an id), and the byte offsets of the later rows, which no batch reads.
pub struct Checked {
    pub input: InputFile,
    pub rejects: Vec<Reject>,
    pub skip: FxHashSet<u64>,
}

/// Reads every row of a big file whose records are read again by batch ([`read_batch`]), and
/// checks that its ids are unique. An absent optional file gives no rows.
pub fn check<T: Send>(
    dir: &Path,
    spec: &'static FileSpec,
    cx: &Context,
    parse: fn(&Row, &mut Context) -> Result<T, CellError>,
    progress: &dyn Progress,
) -> Result<Checked, DatasetError> {
    let Some(source) = Source::open(dir, spec)? else {
        return Ok(Checked {
            input: absent(spec),
            rejects: Vec::new(),
            skip: FxHashSet::default(),
        });
    };
    let (parts, sha256) = source.read(
        Split::Segments,
        || Check {
            file: spec.name,
            cx: cx.clone(),
            parse,
            ids: Vec::new(),
            rejects: Vec::new(),
        },
        progress,
    )?;
    let input = input(&source, &parts, sha256);
    let mut rejects = Vec::new();
    let mut ids = Vec::new();
    for part in parts {
        let mut later = part.sink.rejects;
        shift(&mut later, part.first_line);
        rejects.append(&mut later);
        ids.push(part.sink.ids);
    }
    let clashes = clashes(ids);
    let mut skip = FxHashSet::default();
    if !clashes.is_empty() {
        progress.stage(&format!(
            "reading {} again to find duplicate {}s",
            spec.name, spec.columns[ID]
        ));
        let found = duplicates(
            &source,
            cx,
            &clashes,
            |row, cx| parse(row, cx).is_ok(),
            progress,
        )?;
        skip = found.0;
        rejects.extend(found.1);
    }
    Ok(Checked {
        input,
        rejects,
        skip,
    })
}

/// Hashes the id of each row that parses, and rejects the others.
struct Check<T> {
    file: &'static str,
    cx: Context,
    parse: fn(&Row, &mut Context) -> Result<T, CellError>,
    ids: Vec<u64>,
    rejects: Vec<Reject>,
}

impl<T: Send> Sink for Check<T> {
    fn row(&mut self, row: &Row, _offset: u64) {
        match (self.parse)(row, &mut self.cx) {
            Ok(_) => self.ids.push(id_hash(row.values[ID].trim())),
            Err(e) => self.rejects.push(e.reject(self.file, row.line)),
        }
    }

    fn reject(&mut self, reject: Reject) {
        self.rejects.push(reject);
    }
}

/// The records of one batch's accounts in a checked file, in file order, without the rows
/// `skip` names. Their rejects were reported by [`check`].
pub fn read_batch<T: HasLine + Send>(
    dir: &Path,
    spec: &'static FileSpec,
    cx: &Context,
    parse: fn(&Row, &mut Context) -> Result<T, CellError>,
    batch: Batch,
    skip: &FxHashSet<u64>,
    progress: &dyn Progress,
) -> Result<Vec<T>, DatasetError> {
    let Some(source) = Source::open(dir, spec)? else {
        return Ok(Vec::new());
    };
    let parts = source.read_again(
        Split::Segments,
        || Collect {
            cx: cx.clone(),
            parse,
            batch,
            skip,
            records: Vec::new(),
        },
        progress,
    )?;
    let mut records = Vec::with_capacity(parts.iter().map(|p| p.sink.records.len()).sum());
    for part in parts {
        let mut later = part.sink.records;
        for r in &mut later {
            *r.line_mut() += part.first_line;
        }
        records.append(&mut later);
    }
    Ok(records)
}

/// Keeps the records of one batch that parse.
struct Collect<'k, T> {
    cx: Context,
    parse: fn(&Row, &mut Context) -> Result<T, CellError>,
    batch: Batch<'k>,
    skip: &'k FxHashSet<u64>,
    records: Vec<T>,
}

impl<T: Send> Sink for Collect<'_, T> {
    fn row(&mut self, row: &Row, offset: u64) {
        if !self.batch.takes(row.values[ACCOUNT]) || self.skip.contains(&offset) {
            return;
        }
        if let Ok(r) = (self.parse)(row, &mut self.cx) {
            self.records.push(r);
        }
    }

    fn reject(&mut self, _: Reject) {}
}

/// One batch of [`Batches`].
#[derive(Copy, Clone)]
pub struct Batch<'b> {
    pub batches: &'b Batches,
    pub index: usize,
}

impl Batch<'_> {
    /// Whether the account in a row's `account_id` cell is in this batch.
    fn takes(&self, account: &str) -> bool {
        self.batches.of(account.trim()) == self.index
    }

    /// The class of an id's hash: each batch checks one class of them for duplicates.
    fn class(&self, hash: u64) -> usize {
        (hash % self.batches.count() as u64) as usize
    }
}

/// How `bills.csv` is shared between the cores: by account, so that each core's fold holds the
/// groups of its own accounts only, and no group is held twice.
const BY_ACCOUNT: Split = Split::Shards { column: ACCOUNT };

/// `bills.csv`, read batch by batch. Fold every batch with [`Bills::fold`], then ask
/// [`Bills::again`] whether duplicate `bill_id`s were found, in which case every batch must be
/// folded again; then [`Bills::finish`] gives the file's facts and rejects.
pub struct Bills<'c> {
    source: Source,
    cx: &'c Context,
    batches: Batches,
    /// Rows the file holds, as estimated before reading it.
    estimated_rows: u64,
    input: Option<InputFile>,
    rejects: Vec<Reject>,
    /// `bill_id` hashes held by more than one row, found by the batches so far.
    clashes: FxHashSet<u64>,
    /// Once duplicates are found: the offsets of their later rows, and their rejects.
    skip: FxHashSet<u64>,
    duplicates: Vec<Reject>,
    /// For a month of several batches: where the first read writes the other batches' lines.
    scatter: Option<Scatter>,
    /// The scratch files the first read wrote, and the line their records' lines count from.
    scattered: Written,
    first_line: Line,
}

impl<'c> Bills<'c> {
    /// Opens `bills.csv` and cuts its accounts into batches of about `lines_per_batch` lines.
    pub fn open(dir: &Path, cx: &'c Context, lines_per_batch: u64) -> Result<Self, DatasetError> {
        let spec = &schema::BILLS;
        let source = Source::open(dir, spec)?.ok_or_else(|| DatasetError::MissingFile {
            dir: dir.to_path_buf(),
            file: spec.name,
        })?;
        let estimated_rows = source.estimated_rows()?;
        Ok(Bills {
            batches: Batches::plan(&cx.accounts, estimated_rows, lines_per_batch),
            source,
            cx,
            estimated_rows,
            input: None,
            rejects: Vec::new(),
            clashes: FxHashSet::default(),
            skip: FxHashSet::default(),
            duplicates: Vec::new(),
            scatter: None,
            scattered: Written::default(),
            first_line: 0,
        })
    }

    /// For a month of several batches, has the first read write the other batches' lines to
    /// scratch files in the folder `dir` gives, which the later batches read instead of
    /// `bills.csv`. A month of one batch asks for no folder.
    pub fn scatter<E>(&mut self, dir: impl FnOnce() -> Result<PathBuf, E>) -> Result<(), E> {
        if self.batches.count() > 1 {
            self.scatter = Some(Scatter::new(dir()?));
        }
        Ok(())
    }

    pub fn batches(&self) -> &Batches {
        &self.batches
    }

    /// Whether the batches are being folded again, without duplicate rows.
    pub fn is_again(&self) -> bool {
        !self.skip.is_empty()
    }

    /// Folds the lines of batch `index`'s accounts into folds made by `make`, one per core.
    pub fn fold<F: Fold>(
        &mut self,
        index: usize,
        make: impl Fn() -> F + Sync,
        progress: &dyn Progress,
    ) -> Result<F, DatasetError> {
        let batch = Batch {
            batches: &self.batches,
            index,
        };
        let first = !self.is_again();
        // A later batch of a scattered month reads its lines from the scratch files, and the
        // hashes of its class of ids with them.
        let from_scratch = index > 0 && self.scatter.is_some();
        let spill = first && index == 0;
        // Each core keeps the id hashes of about its share of one class; reserving that share up
        // front spares the list a last doubling, tens of megabytes at ten million lines.
        let share = self.estimated_rows
            / rayon::current_num_threads().max(1) as u64
            / self.batches.count() as u64;
        let count = self.batches.count();
        let scatter = self.scatter.as_ref();
        let sink = || BillSink {
            cx: self.cx.clone(),
            fold: make(),
            rejects: Vec::new(),
            ids: (first && !from_scratch).then(|| Vec::with_capacity(share as usize)),
            spill: scatter.filter(|_| spill).map(|s| s.writer(count)),
            skip: &self.skip,
            batch,
        };
        let mut parts: Vec<(BillSink<F>, Line)> = if from_scratch {
            let paths = self
                .scattered
                .records
                .get(index)
                .cloned()
                .unwrap_or_default();
            if first {
                let ids = self.scattered.ids.get(index).cloned().unwrap_or_default();
                self.clashes.extend(clashes(scatter::read_ids(&ids)?));
            }
            progress.work(
                paths
                    .iter()
                    .filter_map(|p| p.metadata().ok())
                    .map(|m| m.len())
                    .sum(),
            );
            let first_line = self.first_line;
            paths
                .par_iter()
                .map(|path| {
                    let mut s = sink();
                    scatter::read_records(
                        path,
                        schema::BILLS.columns,
                        |row, offset| s.row(row, offset),
                        |n| progress.advance(n),
                    )?;
                    Ok((s, first_line))
                })
                .collect::<Result<_, DatasetError>>()?
        } else {
            let parts = match self.input {
                None => {
                    let (parts, sha256) = self.source.read(BY_ACCOUNT, sink, progress)?;
                    self.input = Some(input(&self.source, &parts, sha256));
                    self.first_line = parts.first().map_or(0, |p| p.first_line);
                    parts
                }
                Some(_) => self.source.read_again(BY_ACCOUNT, sink, progress)?,
            };
            parts.into_iter().map(|p| (p.sink, p.first_line)).collect()
        };
        if first {
            let lists = parts.iter_mut().filter_map(|p| p.0.ids.take()).collect();
            self.clashes.extend(clashes(lists));
        }
        for (sink, _) in &mut parts {
            if let Some(writer) = sink.spill.take() {
                self.scattered.merge(writer.finish()?);
            }
        }
        let mut fold = make();
        for (sink, first_line) in parts {
            fold.merge(sink.fold, first_line);
            let mut later = sink.rejects;
            shift(&mut later, first_line);
            self.rejects.append(&mut later);
        }
        Ok(fold)
    }

    /// Once every batch is folded: whether some rows repeat a `bill_id` and every batch must be
    /// folded again, without those rows.
    pub fn again(&mut self, progress: &dyn Progress) -> Result<bool, DatasetError> {
        if self.is_again() || self.clashes.is_empty() {
            return Ok(false);
        }
        progress.stage("reading bills.csv again to find duplicate bill_ids");
        let clashes = std::mem::take(&mut self.clashes);
        let (skip, duplicates) = duplicates(
            &self.source,
            self.cx,
            &clashes,
            |row, cx| parse::bill(row, cx).is_ok(),
            progress,
        )?;
        if skip.is_empty() {
            return Ok(false);
        }
        self.skip = skip;
        self.duplicates = duplicates;
        self.rejects.clear();
        Ok(true)
    }

    /// The file's facts, and its rejects in line order.
    pub fn finish(self) -> (InputFile, Vec<Reject>) {
        let mut rejects = self.rejects;
        rejects.extend(self.duplicates);
        rejects.sort_by_key(|r| r.line);
        let input = self.input.unwrap_or_else(|| absent(self.source.spec));
        (input, rejects)
    }
}

struct BillSink<'s, F> {
    cx: Context,
    fold: F,
    rejects: Vec<Reject>,
    /// On the first read of each batch, the hash of each `bill_id` of the batch's class.
    ids: Option<Vec<u64>>,
    /// On the first read of a scattered month: where the other batches' lines and hashes go.
    spill: Option<scatter::Writer>,
    /// Offsets of rows not to use: later rows of a duplicate `bill_id`.
    skip: &'s FxHashSet<u64>,
    batch: Batch<'s>,
}

impl<F: Fold> BillSink<'_, F> {
    /// Keeps the row's id hash if it is of this batch's class (or spills it to its class's
    /// scratch file), and gives the batch of the row's account.
    fn keep(&mut self, id: &str, account: &str) -> usize {
        if let Some(ids) = &mut self.ids {
            let hash = id_hash(id.trim());
            let class = self.batch.class(hash);
            if class == self.batch.index {
                ids.push(hash);
            } else if let Some(spill) = &mut self.spill {
                spill.id(class, hash);
            }
        }
        self.batch.batches.of(account.trim())
    }
}

impl<F: Fold> Sink for BillSink<'_, F> {
    fn row(&mut self, row: &Row, offset: u64) {
        // Later batches saw the row in `glance`; the first read of a scattered month writes
        // the other batches' rows to their scratch files.
        if self.checks_all() {
            let batch = self.keep(row.values[ID], row.values[ACCOUNT]);
            if batch != self.batch.index {
                if let Some(spill) = &mut self.spill {
                    spill.record(batch, row, offset);
                }
                return;
            }
        }
        if self.skip.contains(&offset) {
            return;
        }
        match parse::bill(row, &mut self.cx) {
            Ok(b) => self.fold.add(&b),
            Err(e) => self.rejects.push(e.reject(schema::BILLS.name, row.line)),
        }
    }

    /// A row that could not be split: the first batch reports it.
    fn reject(&mut self, reject: Reject) {
        if self.batch.index == 0 {
            self.rejects.push(reject);
        }
    }

    /// The first batch checks every row, and the first read of it counts them; the others
    /// need only the rows of their own accounts.
    fn checks_all(&self) -> bool {
        self.batch.index == 0
    }

    fn glance(&mut self, id: &str, account: &str) -> bool {
        self.keep(id, account) == self.batch.index
    }
}

/// Reads a file again for the rows whose id hash is among `clashes` and that `parses` accepts,
/// and finds which of them repeat an id: their offsets, and a reject for each naming the row used.
fn duplicates(
    source: &Source,
    cx: &Context,
    clashes: &FxHashSet<u64>,
    parses: impl Fn(&Row, &mut Context) -> bool + Sync,
    progress: &dyn Progress,
) -> Result<(FxHashSet<u64>, Vec<Reject>), DatasetError> {
    let found = source.read_again(
        Split::Segments,
        || Clashing {
            cx: cx.clone(),
            clashes,
            parses: &parses,
            rows: Vec::new(),
        },
        progress,
    )?;
    let mut rows: Vec<(String, u64, Line)> = found
        .into_iter()
        .flat_map(|part| {
            let first = part.first_line;
            part.sink
                .rows
                .into_iter()
                .map(move |(id, offset, line)| (id, offset, line + first))
        })
        .collect();
    rows.sort_unstable();
    let mut skip = FxHashSet::default();
    let mut rejects = Vec::new();
    for group in rows.chunk_by(|a, b| a.0 == b.0) {
        let (_, _, used) = &group[0];
        for (id, offset, line) in &group[1..] {
            skip.insert(*offset);
            rejects.push(Reject::duplicate(
                source.spec.name,
                *line,
                source.spec.columns[ID],
                id,
                *used,
            ));
        }
    }
    Ok((skip, rejects))
}

/// Finds the used rows whose id hash clashes: (id, offset, line in its part).
struct Clashing<'s, P> {
    cx: Context,
    clashes: &'s FxHashSet<u64>,
    parses: &'s P,
    rows: Vec<(String, u64, Line)>,
}

impl<P: Fn(&Row, &mut Context) -> bool + Sync> Sink for Clashing<'_, P> {
    fn row(&mut self, row: &Row, offset: u64) {
        let id = row.values[ID].trim();
        if self.clashes.contains(&id_hash(id)) && (self.parses)(row, &mut self.cx) {
            self.rows.push((id.to_string(), offset, row.line));
        }
    }

    fn reject(&mut self, _: Reject) {}
}

/// The hashes that occur more than once in all of `lists`. Each list is sorted in place and the
/// lists are merged as they stand, so no hash is copied: at a hundred million lines they are the
/// biggest thing the read keeps.
fn clashes(mut lists: Vec<Vec<u64>>) -> FxHashSet<u64> {
    lists.par_iter_mut().for_each(|l| l.sort_unstable());
    let mut next: BinaryHeap<Reverse<(u64, usize, usize)>> = lists
        .iter()
        .enumerate()
        .filter_map(|(i, l)| l.first().map(|&h| Reverse((h, i, 0))))
        .collect();
    let mut clashes = FxHashSet::default();
    let mut last = None;
    while let Some(Reverse((h, list, at))) = next.pop() {
        if last == Some(h) {
            clashes.insert(h);
        }
        last = Some(h);
        if let Some(&after) = lists[list].get(at + 1) {
            next.push(Reverse((after, list, at + 1)));
        }
    }
    clashes
}

fn id_hash(id: &str) -> u64 {
    let mut h = FxBuildHasher.build_hasher();
    id.hash(&mut h);
    std::hash::Hasher::finish(&h)
}

fn shift(rejects: &mut [Reject], by: Line) {
    for r in rejects {
        r.line += by;
    }
}

fn input<S>(source: &Source, parts: &[Part<S>], whole: Whole) -> InputFile {
    let mut lines = Lines {
        total: whole.lines,
        header: source.header_lines(),
        ..Lines::default()
    };
    for p in parts {
        lines.merge(p.lines.clone());
    }
    InputFile {
        spec: *source.spec,
        sha256: Some(whole.sha256),
        rows: parts.iter().map(|p| p.rows).sum(),
        unknown_columns: source.header.unknown.clone(),
        lines,
        export: None,
    }
}

fn absent(spec: &FileSpec) -> InputFile {
    InputFile {
        spec: *spec,
        sha256: None,
        rows: 0,
        unknown_columns: Vec::new(),
        lines: Lines::default(),
        export: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::records::BillLine;
    use rust_decimal::Decimal;

    /// Counts lines and sums payable, keeping every line number it saw.
    #[derive(Default)]
    struct Count {
        lines: Vec<Line>,
        payable: Decimal,
    }

    impl Fold for Count {
        fn add(&mut self, b: &BillLine) {
            self.lines.push(b.line);
            self.payable += b.payable_amount;
        }
        fn merge(&mut self, later: Self, lines_before: Line) {
            self.lines
                .extend(later.lines.iter().map(|l| l + lines_before));
            self.payable += later.payable;
        }
    }

    #[test]
    fn clashes_within_and_across_lists() {
        let found = clashes(vec![vec![9, 1, 5, 1], vec![7, 5, 3], vec![2, 3, 8]]);
        let mut found: Vec<u64> = found.into_iter().collect();
        found.sort_unstable();
        assert_eq!(found, vec![1, 3, 5]);
        assert!(clashes(vec![vec![1, 2], vec![3], vec![]]).is_empty());
    }

    /// Folds every batch, and again if duplicates are found, as the pipeline does.
    /// With `scratch`, the later batches read the lines the first read scattered there.
    fn fold_all(
        dir: &Path,
        cx: &Context,
        lines_per_batch: u64,
        scratch: Option<PathBuf>,
    ) -> (Count, InputFile, Vec<Reject>) {
        let quiet = &crate::progress::Quiet;
        let mut bills = Bills::open(dir, cx, lines_per_batch).unwrap();
        if let Some(scratch) = scratch {
            std::fs::create_dir_all(&scratch).unwrap();
            bills.scatter(|| Ok::<_, ()>(scratch)).unwrap();
        }
        loop {
            let mut all = Count::default();
            for index in 0..bills.batches().count() {
                all.merge(bills.fold(index, Count::default, quiet).unwrap(), 0);
            }
            if !bills.again(quiet).unwrap() {
                let (input, rejects) = bills.finish();
                return (all, input, rejects);
            }
        }
    }

    /// A file big enough to be read by several cores, with duplicate `bill_id`s far from their
    /// first rows: the later rows are rejected, and the lines around them keep
    /// their numbers, whether the accounts are read in one batch or in three (where later
    /// batches glance at rows, and split only their own, or read the rows the first batch
    /// scattered to scratch files).
    #[test]
    fn duplicates_across_cores_and_batches() {
        let dir = std::env::temp_dir().join(format!("settle-big-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let rows = 120_000;
        let mut text = schema::BILLS.columns.join(",") + "\n";
        for i in 0..rows {
            // Two later rows repeat an id: one on an account of the first batch, one on an
            // account of the last (read from scratch files when the month is scattered).
            let id = match i {
                _ if i == rows - 10 => 7,
                _ if i == rows - 6 => 4,
                _ => i,
            };
            // Some rows have quotes, and are split by `quoted::split` rather than at commas.
            let product = if i % 1000 == 3 { "\"cvm\"" } else { "cvm" };
            text += &format!(
                "b{id},acc{},{product},,r{i},postpaid,hour,2026-10-01 00:00:00,2026-10-01 01:00:00,,\
                 1.00,0,0,1.00,paid,cash,CNY\n",
                i % 5
            );
        }
        assert!(text.len() as u64 > 8 << 20, "more than one core reads");
        std::fs::write(dir.join(schema::BILLS.name), &text).unwrap();
        let mut cx = Context::new(chrono_tz::Asia::Shanghai);
        cx.accounts = std::sync::Arc::new(
            (0..5)
                .map(|a| crate::model::records::Text::from(format!("acc{a}")))
                .collect(),
        );
        let scratch = dir.join("scratch");
        for (lines_per_batch, batches, scatter) in
            [(u64::MAX, 1, false), (50_000, 3, false), (50_000, 3, true)]
        {
            let bills = Bills::open(&dir, &cx, lines_per_batch).unwrap();
            assert_eq!(bills.batches().count(), batches);
            let into = scatter.then(|| scratch.clone());
            let (fold, input, rejects) = fold_all(&dir, &cx, lines_per_batch, into);

            let duplicate_lines = [(rows - 10 + 2) as Line, (rows - 6 + 2) as Line];
            assert_eq!(input.rows, rows as u64);
            assert_eq!(fold.lines.len(), rows - 2);
            let mut lines = fold.lines;
            lines.sort_unstable();
            assert_eq!(fold.payable, Decimal::from(rows as u64 - 2));
            let expected: Vec<Line> = (2..rows as Line + 2)
                .filter(|l| !duplicate_lines.contains(l))
                .collect();
            assert_eq!(lines, expected);
            let found: Vec<(Line, &str)> = rejects
                .iter()
                .map(|r| (r.line, r.reason.as_str()))
                .collect();
            assert_eq!(
                found,
                [
                    (
                        duplicate_lines[0],
                        "duplicate `bill_id`; the row on line 9 is used"
                    ),
                    (
                        duplicate_lines[1],
                        "duplicate `bill_id`; the row on line 6 is used"
                    ),
                ]
            );
            if scatter {
                let files = std::fs::read_dir(&scratch).unwrap().count();
                assert!(files >= 4, "lines and hashes of two batches: {files} files");
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// The id and account columns the batches read are where the big files have them.
    #[test]
    fn id_and_account_columns() {
        for spec in [&schema::BILLS, &schema::USAGE] {
            assert!(spec.columns[ID].ends_with("_id"));
            assert_eq!(spec.columns[ACCOUNT], "account_id");
        }
    }
}
