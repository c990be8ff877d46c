//! `settle merge --stage STAGE --out OUT`: the shards' exact results put together, and the period
//! folder written by the run's own writer.

use std::path::{Path, PathBuf};

use rust_decimal::Decimal;

use crate::error::Error;
use crate::output::Staging;
use crate::pipeline::{self, Folding, Known, Over, Request, RunSummary};
use crate::progress::Progress;
use crate::shard::stage::{self, Partial, Share, Stage, StageError};

/// A `settle merge` request.
#[derive(Clone, Debug)]
pub struct MergeConfig {
    pub stage: PathBuf,
    /// Where the period folder goes: `OUT/<dataset>/<period>/`, as `settle run` writes it.
    pub out: PathBuf,
    pub templates: Option<PathBuf>,
    pub no_pdf: bool,
}

/// Checks the stage is whole and of one split, then writes the period folder, as `settle run`
/// would have written it from the same inputs.
pub fn merge(cfg: &MergeConfig, progress: &dyn Progress) -> Result<RunSummary, Error> {
    let stage = &cfg.stage;
    let split = Stage::read(stage)?;
    whole(&split, stage)?;
    let first = split.first();
    let mut run = super::settle::run_config(first, stage)?;
    run.out = cfg.out.clone();
    run.templates = cfg.templates.clone();
    run.no_pdf = cfg.no_pdf;
    let mut known = Known::of(&run);
    let Request {
        settings,
        period,
        templates,
    } = Request::new(&run, &mut known)?;
    let mut data = pipeline::load(&first.inputs, settings, progress)?;
    stage::same_inputs(&data, first)?;
    if data.name != first.dataset {
        return Err(stage::damaged(
            &stage::part_path(stage, 0),
            &format!("it is of dataset `{}`, not `{}`", first.dataset, data.name),
        ));
    }
    let (inputs, rejects) = bills(&split, &data, stage)?;
    data.add_bills(inputs, rejects);
    let folder = cfg.out.join(&data.name).join(period.month.to_string());
    let staging = Staging::new(&Over::target(&folder))?;
    // Read with the lock held: over a month of record, a merge writes its restatement, if any.
    let over = Over::of(&folder);
    let shard_lines = split.shard_lines();
    let mut read = vec![Share::default(); split.parts.len()];
    let (results, streamed) = {
        let mut folding = Folding::new(&data, &period, &staging, split.shards())?;
        for shard in 0..split.shards() {
            progress.stage(&format!("merging shard {shard} of {}", split.shards()));
            let partial = partial(&split, &shard_lines, stage, shard)?;
            for (all, share) in read.iter_mut().zip(&partial.from_parts) {
                all.lines += share.lines;
                for (currency, amount) in &share.payable {
                    *all.payable.entry(currency.clone()).or_insert(Decimal::ZERO) += *amount;
                }
            }
            folding.add(partial.finished)?;
        }
        folding.finish()?
    };
    // Every line of every part was settled once, by one shard, with its payable.
    for (part, share) in split.parts.iter().zip(&read) {
        let wrote = Share {
            lines: part.lines,
            payable: part.payable.clone(),
        };
        if *share != wrote {
            return Err(Error::Internal(format!(
                "the shards read {} lines of part {}/{} with a payable of {:?}, the part wrote {} with {:?}\nhint: this is a fault in settle: report it with the dataset",
                share.lines, part.part, part.parts, share.payable, wrote.lines, wrote.payable
            )));
        }
    }
    pipeline::review(&mut data, &results, period.month, false, &mut known)?;
    let settled = pipeline::settle(&data, results, &period);
    pipeline::finish(
        data, settled, streamed, &period, templates, staging, &over, &mut known, progress,
    )
}

/// What the parts found reading the bill files, in the order a run reads them: `bills.csv`, or
/// the exports in the dataset's order.
fn bills(split: &Stage, data: &crate::ingest::Dataset, stage: &Path) -> Result<BillsRead, Error> {
    let order = |name: &str| {
        data.exports
            .as_ref()
            .and_then(|e| e.files.iter().position(|f| f.name == name))
    };
    let mut inputs = Vec::new();
    let mut rejects = Vec::new();
    for part in &split.parts {
        let path = stage::part_path(stage, part.part);
        for stored in &part.bills {
            inputs.push((order(&stored.file), stored.input(data, &path)?));
        }
        for r in &part.rejects {
            rejects.push(r.reject(data, &path)?);
        }
    }
    inputs.sort_by_key(|(at, _)| *at);
    Ok((inputs.into_iter().map(|(_, i)| i).collect(), rejects))
}

type BillsRead = (
    Vec<crate::ingest::input::InputFile>,
    Vec<crate::model::reject::Reject>,
);

/// Checks that every shard has written its partial, and that each part's bill rows add up: rows
/// in = rows used + rows rejected for every file, and the rows used are the part's lines (and
/// the export rows that are no charge).
fn whole(split: &Stage, stage: &Path) -> Result<(), Error> {
    let shards = split.shards();
    let missing: Vec<String> = (0..shards)
        .filter(|&i| !stage::partial_path(stage, i).is_file())
        .map(|i| format!("{i}/{shards}"))
        .collect();
    if !missing.is_empty() {
        return Err(StageError::MissingShards {
            stage: stage.to_path_buf(),
            missing: missing.join(", "),
            shards,
        }
        .into());
    }
    for part in &split.parts {
        let bills: Vec<_> = part.files.iter().filter(|f| f.is_bills()).collect();
        let not_charges: u64 = part
            .bills
            .iter()
            .filter_map(|b| b.export)
            .map(|e| e.0)
            .sum();
        let used: u64 = bills.iter().map(|f| f.rows_used).sum();
        let rejected: u64 = bills.iter().map(|f| f.rows_rejected).sum();
        let adds_up = bills
            .iter()
            .all(|f| f.rows_in == f.rows_used + f.rows_rejected)
            && used == part.lines + not_charges
            && rejected == part.rejects.len() as u64
            && bills.len() == part.bills.len()
            && part
                .runs
                .iter()
                .flat_map(|r| &r.accounts)
                .map(|a| a.1)
                .sum::<u64>()
                == part.lines;
        if !adds_up {
            return Err(stage::damaged(
                &stage::part_path(stage, part.part),
                "its rows of the bill files do not add up to its lines and its rejects",
            ));
        }
    }
    Ok(())
}

/// Shard `shard`'s partial, refused unless it was settled from this split.
fn partial(split: &Stage, lines: &[u64], stage: &Path, shard: usize) -> Result<Partial, Error> {
    let path = stage::partial_path(stage, shard);
    let bytes = std::fs::read(&path).map_err(|e| stage::damaged(&path, &e.to_string()))?;
    let partial: Partial = stage::parse(&path, &bytes)?;
    let shards = split.shards();
    if partial.split != split.sha256 || partial.shard != shard || partial.shards != shards {
        return Err(StageError::OtherSplit {
            path,
            stage: stage.to_path_buf(),
            shard: partial.shard,
            shards: partial.shards,
            expected: format!("{shard}/{shards}"),
        }
        .into());
    }
    let expected = lines.get(shard).copied().unwrap_or(0);
    if partial.lines != expected {
        return Err(stage::damaged(
            &path,
            &format!(
                "it folded {} lines, the split wrote {expected}",
                partial.lines
            ),
        ));
    }
    Ok(partial)
}
