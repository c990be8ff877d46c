//! `settle split`: the dataset read once, its accounts cut into shards, each shard's bill lines
//! written to the stage.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use rustc_hash::FxHashMap;

use crate::error::Error;
use crate::ingest::batches::{Batches, LINES_PER_BATCH};
use crate::ingest::input::InputFile;
use crate::ingest::{Dataset, schema};
use crate::model::fold::Fold;
use crate::model::period::Month;
use crate::model::records::{BillLine, Line, Text};
use crate::model::reject::Reject;
use crate::pipeline::{self, Known, Request, RunConfig};
use crate::progress::Progress;
use crate::shard::records;
use crate::shard::stage::{self, FORMAT, ShardFacts, Split, StoredInput, StoredReject};

/// A `settle split` request.
#[derive(Clone, Debug)]
pub struct SplitConfig {
    pub inputs: PathBuf,
    pub period: Month,
    pub as_of: Option<String>,
    pub shards: usize,
    /// The stage folder.
    pub out: PathBuf,
}

/// Reads the dataset, cuts its accounts into `cfg.shards` ranges of about as many bill lines,
/// writes each range's lines and then `split.json` into the stage, and returns what it recorded.
pub fn split(cfg: &SplitConfig, progress: &dyn Progress) -> Result<Split, Error> {
    let run = RunConfig {
        inputs: cfg.inputs.clone(),
        out: cfg.out.clone(),
        period: Some(cfg.period),
        as_of: cfg.as_of.clone(),
        strict: false,
        templates: None,
        no_pdf: true,
        lines_per_batch: LINES_PER_BATCH,
    };
    let Request { settings, .. } = Request::new(&run, &mut Known::of(&run))?;
    let mut data = pipeline::load(&cfg.inputs, settings, progress)?;
    if data.exports.is_some() {
        return Err(Error::Invocation(format!(
            "`{}` gives its bill lines as exports: a sharded run reads `bills.csv` only, for now\nhint: settle this month on one machine with `settle run`",
            cfg.inputs.display()
        )));
    }
    let stage = &cfg.out;
    // A new split makes every earlier shard's lines and results stale.
    for old in [stage.join("lines"), stage.join("partials")] {
        match std::fs::remove_dir_all(&old) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(Error::Output {
                    path: old,
                    source: e,
                });
            }
            _ => {}
        }
    }
    let _ = std::fs::remove_file(stage::split_path(stage));

    progress.stage("reading bills.csv to count each account's lines");
    let starts = cut(&count(&data, progress)?, cfg.shards);
    let shards = Batches::starting_at(starts.iter().map(|s| Box::from(s.as_str())).collect());
    progress.stage("reading bills.csv and writing each shard's lines");
    let (per_shard, inputs, rejects) = write_lines(&data, &shards, cfg.shards, stage, progress)?;
    data.add_bills(inputs, rejects);

    let files = stage::file_rows(&data);
    let bills = files.iter().find(|f| f.file == schema::BILLS.name);
    let folded: u64 = per_shard.iter().map(|s| s.lines).sum();
    if bills.is_none_or(|b| b.rows_used != folded) {
        return Err(Error::Internal(format!(
            "the shards hold {folded} bill lines, not the rows used of `bills.csv`\nhint: this is a fault in settle: report it with the dataset"
        )));
    }
    let inputs = cfg
        .inputs
        .canonicalize()
        .unwrap_or_else(|_| cfg.inputs.clone());
    let split = Split {
        format: FORMAT,
        dataset: data.name.clone(),
        inputs,
        period: cfg.period.to_string(),
        as_of: cfg.as_of.clone(),
        shards: cfg.shards,
        starts,
        files,
        per_shard,
        bills: bills_input(&data)?,
        rejects: data
            .rejects
            .iter()
            .filter(|r| r.file == schema::BILLS.name)
            .map(StoredReject::of)
            .collect(),
    };
    let mut json = serde_json::to_vec_pretty(&split)
        .map_err(|e| Error::Internal(format!("`split.json` cannot be made: {e}")))?;
    json.push(b'\n');
    stage::write_whole(&stage::split_path(stage), &json)?;
    Ok(split)
}

/// What reading `bills.csv` found.
fn bills_input(data: &Dataset) -> Result<StoredInput, Error> {
    data.inputs
        .iter()
        .find(|i| i.spec.name == schema::BILLS.name)
        .map(StoredInput::of)
        .ok_or_else(|| Error::Internal("`bills.csv` was not read".into()))
}

/// Each account's bill lines, over the rows a run uses.
fn count(data: &Dataset, progress: &dyn Progress) -> Result<FxHashMap<Text, u64>, Error> {
    let mut bills = data.bills(LINES_PER_BATCH)?;
    loop {
        let mut counts = FxHashMap::default();
        for index in 0..bills.batches().count() {
            let found = bills.fold(index, Count::default, progress)?;
            for (account, n) in found.0 {
                *counts.entry(account).or_default() += n;
            }
        }
        if !bills.again(progress)? {
            return Ok(counts);
        }
    }
}

/// Where each shard but the first starts: the accounts in the order of their ids, cut where the
/// lines before an account first reach the next `k / shards` of all the lines. One account is
/// never cut, so a shard may hold more than its share, and a shard may be empty.
fn cut(counts: &FxHashMap<Text, u64>, shards: usize) -> Vec<String> {
    let mut accounts: Vec<(&Text, u64)> = counts.iter().map(|(a, n)| (a, *n)).collect();
    accounts.sort_unstable();
    let total: u64 = accounts.iter().map(|a| a.1).sum();
    let n = shards as u64;
    let mut starts = Vec::with_capacity(shards.saturating_sub(1));
    let mut before = 0u64;
    for (account, lines) in &accounts {
        while starts.len() + 1 < shards
            && before > 0
            && before * n >= (starts.len() as u64 + 1) * total
        {
            starts.push(account.to_string());
        }
        before += lines;
    }
    // Shards past the last cut hold no line: they start where the last one does.
    let last = starts.last().cloned().unwrap_or_default();
    starts.resize(shards.saturating_sub(1), last);
    starts
}

/// What writing the shards' lines found: each shard's facts, and what reading `bills.csv` found.
type Written = (Vec<ShardFacts>, Vec<InputFile>, Vec<Reject>);

/// Writes each shard's lines as binary records ([`records`]).
fn write_lines(
    data: &Dataset,
    shards: &Batches,
    count: usize,
    stage: &Path,
    progress: &dyn Progress,
) -> Result<Written, Error> {
    let mut bills = data.bills(LINES_PER_BATCH)?;
    loop {
        // Each read starts the files again: a read that found duplicate `bill_id`s is followed
        // by one without them.
        let mut files = (0..count)
            .map(|i| {
                let path = stage::lines_path(stage, i);
                let fail = |source| Error::Output {
                    path: path.clone(),
                    source,
                };
                std::fs::create_dir_all(stage.join("lines")).map_err(fail)?;
                let file = File::create(&path).map_err(fail)?;
                Ok((path, BufWriter::with_capacity(1 << 20, file)))
            })
            .collect::<Result<Vec<_>, Error>>()?;
        let mut facts = vec![ShardFacts::default(); count];
        for index in 0..bills.batches().count() {
            let sorted = bills.fold(
                index,
                || Sort {
                    shards,
                    lines: vec![Vec::new(); count],
                },
                progress,
            )?;
            for (i, lines) in sorted.lines.into_iter().enumerate() {
                let (path, file) = &mut files[i];
                for b in lines {
                    let fail = |e: std::io::Error| Error::Output {
                        path: path.clone(),
                        source: e,
                    };
                    records::write(file, &b).map_err(fail)?;
                    facts[i].lines += 1;
                    *facts[i].payable.entry(b.currency.to_string()).or_default() +=
                        b.payable_amount;
                }
            }
        }
        if !bills.again(progress)? {
            for (path, file) in files {
                let fail = |source| Error::Output {
                    path: path.clone(),
                    source,
                };
                let file = file.into_inner().map_err(|e| fail(e.into_error()))?;
                file.sync_all().map_err(fail)?;
            }
            let (inputs, rejects) = bills.finish();
            return Ok((facts, inputs, rejects));
        }
    }
}

/// Counts each account's lines.
#[derive(Default)]
struct Count(FxHashMap<Text, u64>);

impl Fold for Count {
    fn add(&mut self, b: &BillLine) {
        *self.0.entry(b.account_id.clone()).or_default() += 1;
    }

    fn merge(&mut self, other: Self, _: Line) {
        for (account, n) in other.0 {
            *self.0.entry(account).or_default() += n;
        }
    }
}

/// Sorts lines into their shards, in the order they were read.
struct Sort<'b> {
    shards: &'b Batches,
    lines: Vec<Vec<BillLine>>,
}

impl Fold for Sort<'_> {
    fn add(&mut self, b: &BillLine) {
        let shard = self.shards.of(&b.account_id);
        self.lines[shard].push(b.clone());
    }

    fn merge(&mut self, other: Self, lines_before: Line) {
        for (mine, theirs) in self.lines.iter_mut().zip(other.lines) {
            mine.extend(theirs.into_iter().map(|mut b| {
                b.line += lines_before;
                b
            }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(accounts: &[(&str, u64)]) -> FxHashMap<Text, u64> {
        accounts.iter().map(|&(a, n)| (Text::from(a), n)).collect()
    }

    #[test]
    fn shards_are_cut_by_lines_in_account_order() {
        let even = counts(&[("d", 10), ("a", 10), ("c", 10), ("b", 10)]);
        assert_eq!(cut(&even, 2), ["c"]);
        assert_eq!(cut(&even, 4), ["b", "c", "d"]);
        // A big account takes a shard of its own; the others share the rest by lines.
        let big = counts(&[("a", 30), ("b", 10), ("c", 10), ("d", 10)]);
        assert_eq!(cut(&big, 3), ["b", "c"]);
    }

    #[test]
    fn more_shards_than_accounts_leaves_shards_empty() {
        let two = counts(&[("a", 5), ("b", 5)]);
        let starts = cut(&two, 4);
        assert_eq!(starts, ["b", "b", "b"]);
        let shards = Batches::starting_at(starts.iter().map(|s| Box::from(s.as_str())).collect());
        assert_eq!((shards.of("a"), shards.of("b")), (0, 3));
        assert_eq!(
            cut(&counts(&[]), 3),
            ["", ""],
            "no lines: one shard takes every account"
        );
        assert!(cut(&two, 1).is_empty());
    }
}
