//! `settle run --shard I/N --stage STAGE`: one shard's lines through every rule, its exact results
//! written to the stage.

use std::io::BufReader;
use std::path::Path;

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
use crate::shard::stage::{self, FORMAT, Partial, Split};
use crate::shard::{ShardOf, records};

/// Lines one core folds before its pass is merged with the next core's.
const LINES_PER_CHUNK: usize = 1 << 16;

/// Settles shard `shard` of the stage and writes its partial; returns the lines it folded.
pub fn settle(stage: &Path, shard: ShardOf, progress: &dyn Progress) -> Result<u64, Error> {
    let (split, sha256) = stage::read_split(stage)?;
    if split.shards != shard.count {
        return Err(Error::Invocation(format!(
            "`{}` was split into {} shards, not {}\nhint: run `--shard I/{}` for I from 0 to {}",
            stage.display(),
            split.shards,
            shard.count,
            split.shards,
            split.shards - 1
        )));
    }
    let run = run_config(&split, stage)?;
    let Request {
        settings, period, ..
    } = Request::new(&run, &mut Known::of(&run))?;
    let data = pipeline::load(&split.inputs, settings, progress)?;
    stage::same_inputs(&data, &split)?;
    let shards = Batches::starting_at(split.starts.iter().map(|s| Box::from(s.as_str())).collect());
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
    let path = stage::lines_path(stage, shard.index);
    let lines = read_lines(&path, data.accounts_known())?;
    let expected = split.per_shard.get(shard.index).map_or(0, |s| s.lines);
    if lines.len() as u64 != expected {
        return Err(stage::damaged(
            &path,
            &format!("it holds {} lines, the split wrote {expected}", lines.len()),
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
        split: sha256,
        lines: expected,
        finished: pass.finish(),
    };
    let json = serde_json::to_vec(&partial)
        .map_err(|e| Error::Internal(format!("a partial cannot be made: {e}")))?;
    stage::write_whole(&stage::partial_path(stage, shard.index), &json)?;
    Ok(expected)
}

/// The run the split was made for: its dataset, month and `--as-of`.
pub(super) fn run_config(split: &Split, stage: &Path) -> Result<RunConfig, Error> {
    let period: Month = split
        .period
        .parse()
        .map_err(|e: String| stage::damaged(&stage::split_path(stage), &e))?;
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

/// A shard's bill lines, as the split wrote them, each with its account's place among `known`.
fn read_lines(path: &Path, known: &Accounts) -> Result<Vec<BillLine>, Error> {
    let file = std::fs::File::open(path).map_err(|e| {
        Error::Invocation(format!(
            "cannot read `{}`: {e}\nhint: split the month again (`settle split`)",
            path.display()
        ))
    })?;
    let mut r = BufReader::with_capacity(1 << 20, file);
    let mut lines = Vec::new();
    while let Some(mut line) =
        records::read(&mut r).map_err(|e| stage::damaged(path, &e.to_string()))?
    {
        if let Some((_, place)) = known.find(&line.account_id) {
            line.account = place;
        }
        lines.push(line);
    }
    Ok(lines)
}
