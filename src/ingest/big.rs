//! The big files. `usage.csv` is kept whole, since reconciliation looks records up by resource.
//! `bills.csv` is never held in memory: each core reads it whole and folds the lines of its own
//! accounts straight into a [`Fold`] (the month's rules), so memory grows with the number of
//! groups the rules keep, not with lines, and no group is kept on two cores.
//!
//! A `bill_id` must be unique, and the first row of an id is the one used. A fold cannot take a
//! line back, so the read keeps only a 64-bit hash of each id. When two hashes agree (a duplicate,
//! or by rare chance two ids), the rows behind them are read again to find the true duplicates,
//! and the lines are folded once more without the later rows.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hash::{BuildHasher, Hash};
use std::path::Path;

use rayon::prelude::*;
use rustc_hash::{FxBuildHasher, FxHashSet};

use crate::error::DatasetError;
use crate::ingest::cell::CellError;
use crate::ingest::parse::{self, Context, Row};
use crate::ingest::schema::{self, FileSpec};
use crate::ingest::segments::{Part, Sink, Source, Split};
use crate::ingest::{HasLine, InputFile, Loaded, Reject};
use crate::model::records::{BillLine, Line};
use crate::progress::Progress;

/// Reads a big file whose accepted records are all kept. An absent optional file gives no rows.
pub fn read_all<T: HasLine + Send>(
    dir: &Path,
    spec: &'static FileSpec,
    cx: &Context,
    parse: fn(&Row, &mut Context) -> Result<T, CellError>,
    progress: &dyn Progress,
) -> Result<Loaded<T>, DatasetError> {
    let Some(source) = Source::open(dir, spec)? else {
        return Ok(Loaded {
            records: Vec::new(),
            rejects: Vec::new(),
            input: absent(spec),
        });
    };
    let (parts, sha256) = source.read(
        Split::Segments,
        || Collect {
            file: spec.name,
            cx: cx.clone(),
            parse,
            records: Vec::new(),
            rejects: Vec::new(),
        },
        progress,
    )?;
    let mut out = Loaded {
        records: Vec::with_capacity(parts.iter().map(|p| p.sink.records.len()).sum()),
        rejects: Vec::new(),
        input: input(&source, &parts, sha256),
    };
    for part in parts {
        let Collect {
            mut records,
            mut rejects,
            ..
        } = part.sink;
        for r in &mut records {
            *r.line_mut() += part.first_line;
        }
        shift(&mut rejects, part.first_line);
        out.records.append(&mut records);
        out.rejects.append(&mut rejects);
    }
    Ok(out)
}

struct Collect<T> {
    file: &'static str,
    cx: Context,
    parse: fn(&Row, &mut Context) -> Result<T, CellError>,
    records: Vec<T>,
    rejects: Vec<Reject>,
}

impl<T: Send> Sink for Collect<T> {
    fn row(&mut self, row: &Row, _offset: u64) {
        match (self.parse)(row, &mut self.cx) {
            Ok(r) => self.records.push(r),
            Err(e) => self.rejects.push(Reject::from_cell(self.file, row.line, e)),
        }
    }

    fn reject(&mut self, reject: Reject) {
        self.rejects.push(reject);
    }
}

/// What the bill lines are folded into: one per core, each over the lines of some accounts, then
/// merged.
pub trait Fold: Send {
    fn add(&mut self, bill: &BillLine);
    /// Adds the fold of other lines, in any order; `lines_before` is added to the line numbers
    /// it kept.
    fn merge(&mut self, other: Self, lines_before: Line);
}

/// How `bills.csv` is shared between the cores: by account, so that each core's fold holds the
/// groups of its own accounts only, and no group is held twice.
const BY_ACCOUNT: Split = Split::Shards { column: 1 };

/// Reading bills without rules, as `settle validate` does.
impl Fold for () {
    fn add(&mut self, _: &BillLine) {}
    fn merge(&mut self, _: (), _: Line) {}
}

/// `bills.csv`, folded.
pub struct Bills<F> {
    pub fold: F,
    pub rejects: Vec<Reject>,
    pub input: InputFile,
}

/// Reads `bills.csv` into folds made by `make`.
pub fn fold_bills<F: Fold>(
    dir: &Path,
    cx: &Context,
    make: impl Fn() -> F + Sync,
    progress: &dyn Progress,
) -> Result<Bills<F>, DatasetError> {
    let spec = &schema::BILLS;
    let source = Source::open(dir, spec)?.ok_or_else(|| DatasetError::MissingFile {
        dir: dir.to_path_buf(),
        file: spec.name,
    })?;
    // Each core keeps the id hash of about its share of the lines; reserving that share up front
    // spares the list a last doubling, tens of megabytes at ten million lines.
    let share = source.estimated_rows()? / rayon::current_num_threads().max(1) as u64;
    let sink = |skip, ids| BillSink {
        cx: cx.clone(),
        fold: make(),
        rejects: Vec::new(),
        ids,
        skip,
    };
    let empty = FxHashSet::default();
    let (mut parts, sha256) = source.read(
        BY_ACCOUNT,
        || sink(&empty, Some(Vec::with_capacity(share as usize))),
        progress,
    )?;
    let input = input(&source, &parts, sha256);

    let clashes = clashes(parts.iter_mut().filter_map(|p| p.sink.ids.take()).collect());
    if clashes.is_empty() {
        let (fold, rejects) = merge(make(), parts);
        return Ok(Bills {
            fold,
            rejects,
            input,
        });
    }

    // Some ids may repeat: find the rows that truly do, then fold again without the later ones.
    drop(parts);
    progress.stage("reading bills.csv again to find duplicate bill_ids");
    let found = source.read_again(
        Split::Segments,
        || Clashing {
            cx: cx.clone(),
            clashes: &clashes,
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
    let mut duplicates = Vec::new();
    let mut skip = FxHashSet::default();
    for group in rows.chunk_by(|a, b| a.0 == b.0) {
        let (_, _, used) = &group[0];
        for (id, offset, line) in &group[1..] {
            skip.insert(*offset);
            duplicates.push(Reject::duplicate(spec.name, *line, "bill_id", id, *used));
        }
    }
    progress.stage("applying the rules again without the duplicate bill_ids");
    let parts = source.read_again(BY_ACCOUNT, || sink(&skip, None), progress)?;
    let (fold, mut rejects) = merge(make(), parts);
    rejects.extend(duplicates);
    Ok(Bills {
        fold,
        rejects,
        input,
    })
}

/// Merges the cores' folds into `fold`, and their rejects in line order.
fn merge<F: Fold>(mut fold: F, parts: Vec<Part<BillSink<F>>>) -> (F, Vec<Reject>) {
    let mut rejects = Vec::new();
    for part in parts {
        fold.merge(part.sink.fold, part.first_line);
        let mut later = part.sink.rejects;
        shift(&mut later, part.first_line);
        rejects.append(&mut later);
    }
    rejects.sort_by_key(|r| r.line);
    (fold, rejects)
}

struct BillSink<'s, F> {
    cx: Context,
    fold: F,
    rejects: Vec<Reject>,
    /// A hash of each used line's `bill_id`, on the first read.
    ids: Option<Vec<u64>>,
    /// Offsets of rows not to use: later rows of a duplicate `bill_id`.
    skip: &'s FxHashSet<u64>,
}

impl<F: Fold> Sink for BillSink<'_, F> {
    fn row(&mut self, row: &Row, offset: u64) {
        if self.skip.contains(&offset) {
            return;
        }
        match parse::bill(row, &mut self.cx) {
            Ok(b) => {
                if let Some(ids) = &mut self.ids {
                    ids.push(id_hash(&b.bill_id));
                }
                self.fold.add(&b);
            }
            Err(e) => self
                .rejects
                .push(Reject::from_cell(schema::BILLS.name, row.line, e)),
        }
    }

    fn reject(&mut self, reject: Reject) {
        self.rejects.push(reject);
    }
}

/// Finds the used rows whose `bill_id` hash clashes: (id, offset, line in its part).
struct Clashing<'s> {
    cx: Context,
    clashes: &'s FxHashSet<u64>,
    rows: Vec<(String, u64, Line)>,
}

impl Sink for Clashing<'_> {
    fn row(&mut self, row: &Row, offset: u64) {
        let id = row.values[0].trim();
        if !self.clashes.contains(&id_hash(id)) {
            return;
        }
        if let Ok(b) = parse::bill(row, &mut self.cx) {
            self.rows.push((b.bill_id.to_string(), offset, row.line));
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

fn input<S>(source: &Source, parts: &[Part<S>], sha256: String) -> InputFile {
    InputFile {
        spec: *source.spec,
        sha256: Some(sha256),
        rows: parts.iter().map(|p| p.rows).sum(),
        unknown_columns: source.header.unknown.clone(),
    }
}

fn absent(spec: &FileSpec) -> InputFile {
    InputFile {
        spec: *spec,
        sha256: None,
        rows: 0,
        unknown_columns: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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

    /// A file big enough to be read by several cores, with a duplicate `bill_id` far from its
    /// first row and on another account: the later row is rejected, and the lines around it keep
    /// their numbers.
    #[test]
    fn duplicates_across_cores() {
        let dir = std::env::temp_dir().join(format!("settle-big-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let rows = 120_000;
        let mut text = schema::BILLS.columns.join(",") + "\n";
        for i in 0..rows {
            let id = if i == rows - 10 { 7 } else { i };
            text += &format!(
                "b{id},acc{},cvm,,r{i},postpaid,hour,2026-10-01 00:00:00,2026-10-01 01:00:00,,\
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
        let bills = fold_bills(&dir, &cx, Count::default, &crate::progress::Quiet).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();

        let duplicate_line = (rows - 10 + 2) as Line;
        assert_eq!(bills.input.rows, rows as u64);
        assert_eq!(bills.fold.lines.len(), rows - 1);
        let mut lines = bills.fold.lines;
        lines.sort_unstable();
        assert_eq!(bills.fold.payable, Decimal::from(rows as u64 - 1));
        let expected: Vec<Line> = (2..rows as Line + 2)
            .filter(|&l| l != duplicate_line)
            .collect();
        assert_eq!(lines, expected);
        assert_eq!(bills.rejects.len(), 1);
        assert_eq!(bills.rejects[0].line, duplicate_line);
        assert_eq!(
            bills.rejects[0].reason,
            "duplicate `bill_id`; the row on line 9 is used"
        );
    }
}
