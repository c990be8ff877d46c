//! `settle run --shard I/N --stage STAGE`: one shard's lines through every rule, its exact results
//! written to the stage.

use std::collections::BTreeMap;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use rust_decimal::Decimal;

use rayon::prelude::*;

use crate::error::Error;
use crate::ingest::batches::{Batches, LINES_PER_BATCH};
use crate::ingest::reader::big::Batch;
use crate::model::fold::Fold;
use crate::model::period::Month;
use crate::model::records::{BillLine, Known as Accounts};
use crate::pipeline::{self, Known, Request, RunConfig};
use crate::progress::Progress;
use crate::rules::month::{Pass, Tables};
use crate::shard::stage::{self, FORMAT, Part, Partial, Share, Stage, StageError};
use crate::shard::{ShardOf, records};

/// Lines one core folds before its pass is merged with the next core's.
const LINES_PER_CHUNK: usize = 1 << 16;

/// Settles shard `shard` of the stage and writes its partial; returns the lines it folded.
pub fn settle(stage: &Path, shard: ShardOf, progress: &dyn Progress) -> Result<u64, Error> {
    let split = Stage::read(stage)?;
    if split.shards() != shard.count {
        return Err(StageError::ShardCount {
            stage: stage.to_path_buf(),
            shards: split.shards(),
            asked: shard.count,
        }
        .into());
    }
    let run = run_config(split.first(), stage)?;
    let Request {
        settings, period, ..
    } = Request::new(&run, &mut Known::of(&run))?;
    let data = pipeline::load(&split.first().inputs, settings, progress)?;
    stage::same_inputs(&data, split.first())?;
    let shards = split.batches();
    progress.stage("reading usage.csv");
    let usage = data.usage(
        Batch {
            batches: &shards,
            index: shard.index,
        },
        progress,
    )?;
    let world = pipeline::world(&data);
    let tables = Tables::new(&world, &usage, &period);
    progress.stage("reading the shard's bill lines");
    let (mut lines, from_parts) = read_lines(stage, &split, &shards, shard.index)?;
    // Each line finds its account's place among the known accounts, as a run's reader does.
    let known: &Accounts = data.accounts_known();
    for line in &mut lines {
        if let Some((_, place)) = known.find(&line.account_id) {
            line.account = place;
        }
    }
    let expected = split.shard_lines()[shard.index];
    if lines.len() as u64 != expected {
        return Err(stage::damaged(
            &stage::lines_path(stage, 0),
            &format!(
                "the parts hold {} lines of shard {shard}, their manifests say {expected}",
                lines.len()
            ),
        ));
    }
    progress.stage("applying the rules");
    let pass = lines
        .par_chunks(LINES_PER_CHUNK)
        .map(|chunk| {
            let mut pass = Pass::new(&tables);
            chunk.iter().for_each(|b| pass.add(b));
            pass
        })
        // The lines carry their own line numbers: nothing is added to them.
        .reduce_with(|mut a, b| {
            a.merge(b, 0);
            a
        })
        .unwrap_or_else(|| Pass::new(&tables));
    let partial = Partial {
        format: FORMAT,
        shard: shard.index,
        shards: shard.count,
        split: split.sha256.clone(),
        lines: expected,
        from_parts,
        finished: pass.finish(),
    };
    let json = serde_json::to_vec(&partial)
        .map_err(|e| Error::Internal(format!("a partial cannot be made: {e}")))?;
    stage::write_whole(&stage::partial_path(stage, shard.index), &json)?;
    Ok(expected)
}

/// The run the split was made for: its dataset, month and `--as-of`.
pub(super) fn run_config(split: &Part, stage: &Path) -> Result<RunConfig, Error> {
    let period: Month = split
        .period
        .parse()
        .map_err(|e: String| stage::damaged(&stage::part_path(stage, split.part), &e))?;
    Ok(RunConfig {
        inputs: split.inputs.clone(),
        out: stage.to_path_buf(),
        period: Some(period),
        as_of: split.as_of.clone(),
        strict: false,
        templates: None,
        no_pdf: true,
        lines_per_batch: LINES_PER_BATCH,
    })
}

/// A shard's bill lines: from each run of each part, the range of bytes that holds its
/// accounts' lines; and what it read from each part.
fn read_lines(
    stage: &Path,
    split: &Stage,
    shards: &Batches,
    index: usize,
) -> Result<(Vec<BillLine>, Vec<Share>), Error> {
    let mut lines = Vec::new();
    let mut shares = Vec::with_capacity(split.parts.len());
    for part in &split.parts {
        let from = lines.len();
        read_part(stage, part, shards, index, &mut lines)?;
        let mut share = Share {
            lines: (lines.len() - from) as u64,
            payable: BTreeMap::new(),
        };
        for b in &lines[from..] {
            *share
                .payable
                .entry(b.currency.to_string())
                .or_insert(Decimal::ZERO) += b.payable_amount;
        }
        shares.push(share);
    }
    Ok((lines, shares))
}

/// Appends to `lines` the lines of shard `index` that `part` wrote.
fn read_part(
    stage: &Path,
    part: &Part,
    shards: &Batches,
    index: usize,
    lines: &mut Vec<BillLine>,
) -> Result<(), Error> {
    let path = stage::lines_path(stage, part.part);
    let broken = |e: std::io::Error| stage::damaged(&path, &e.to_string());
    let ranges: Vec<_> = part
        .runs
        .iter()
        .map(|r| r.of_shard(shards, index))
        .collect();
    if ranges.iter().all(|r| r.is_empty()) {
        return Ok(());
    }
    let mut file = std::fs::File::open(&path).map_err(broken)?;
    for (run, range) in part.runs.iter().zip(ranges) {
        if range.is_empty() {
            continue;
        }
        let before: u64 = run.accounts[..range.start].iter().map(|a| a.2).sum();
        let bytes: u64 = run.accounts[range.clone()].iter().map(|a| a.2).sum();
        let count: u64 = run.accounts[range].iter().map(|a| a.1).sum();
        file.seek(SeekFrom::Start(run.offset + before))
            .map_err(broken)?;
        let mut r = BufReader::with_capacity(1 << 20, (&mut file).take(bytes));
        let at = lines.len();
        while let Some(line) = records::read(&mut r).map_err(broken)? {
            lines.push(line);
        }
        let read = (lines.len() - at) as u64;
        if read != count {
            return Err(stage::damaged(
                &path,
                &format!("a run holds {read} lines of shard {index}, its part says {count}"),
            ));
        }
    }
    Ok(())
}
