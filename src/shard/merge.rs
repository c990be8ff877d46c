//! `settle merge --stage STAGE --out OUT`: the shards' exact results put together, and the period
//! folder written by the run's own writer.

use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::ingest::schema;
use crate::output::Staging;
use crate::pipeline::{self, Folding, Known, Over, Request, RunSummary};
use crate::progress::Progress;
use crate::shard::stage::{self, Partial, Split};

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
    let (split, sha256) = stage::read_split(stage)?;
    whole(&split, stage)?;
    let mut run = super::settle::run_config(&split, stage)?;
    run.out = cfg.out.clone();
    run.templates = cfg.templates.clone();
    run.no_pdf = cfg.no_pdf;
    let mut known = Known::of(&run);
    let Request {
        settings,
        period,
        templates,
    } = Request::new(&run, &mut known)?;
    let mut data = pipeline::load(&split.inputs, settings, progress)?;
    stage::same_inputs(&data, &split)?;
    if data.name != split.dataset {
        return Err(stage::damaged(
            &stage::split_path(stage),
            &format!("it is of dataset `{}`, not `{}`", split.dataset, data.name),
        ));
    }
    let rejects = split
        .rejects
        .iter()
        .map(stage::StoredReject::reject)
        .collect::<Result<Vec<_>, Error>>()?;
    data.add_bills(vec![split.bills.input()], rejects);
    let folder = cfg.out.join(&data.name).join(period.month.to_string());
    let staging = Staging::new(&Over::target(&folder))?;
    // Read with the lock held: over a month of record, a merge writes its restatement, if any.
    let over = Over::of(&folder);
    let (results, streamed) = {
        let mut folding = Folding::new(&data, &period, &staging, split.shards)?;
        for shard in 0..split.shards {
            progress.stage(&format!("merging shard {shard} of {}", split.shards));
            folding.add(partial(&split, &sha256, stage, shard)?.finished)?;
        }
        folding.finish()?
    };
    pipeline::review(&mut data, &results, period.month, false, &mut known)?;
    let settled = pipeline::settle(&data, results, &period);
    pipeline::finish(
        data, settled, streamed, &period, templates, staging, &over, &mut known, progress,
    )
}

/// Checks that every shard has written its partial, and that the split's bill rows add up: rows
/// in = rows used + rows rejected, and the rows used are the shards' lines.
fn whole(split: &Split, stage: &Path) -> Result<(), Error> {
    let missing: Vec<String> = (0..split.shards)
        .filter(|&i| !stage::partial_path(stage, i).is_file())
        .map(|i| format!("{i}/{}", split.shards))
        .collect();
    if !missing.is_empty() {
        return Err(Error::Invocation(format!(
            "`{}` is incomplete: shard(s) {} of {} have not been settled\nhint: run `settle run --shard I/{} --stage {}` for each, then merge again",
            stage.display(),
            missing.join(", "),
            split.shards,
            split.shards,
            stage.display()
        )));
    }
    let lines: u64 = split.per_shard.iter().map(|s| s.lines).sum();
    let adds_up = split.per_shard.len() == split.shards
        && split.starts.len() + 1 == split.shards
        && split.files.iter().any(|f| {
            f.file == schema::BILLS.name
                && f.rows_in == f.rows_used + f.rows_rejected
                && f.rows_used == lines
                && f.rows_rejected == split.rejects.len() as u64
        });
    if !adds_up {
        return Err(stage::damaged(
            &stage::split_path(stage),
            "its rows of `bills.csv` do not add up to the shards' lines and the rejects",
        ));
    }
    Ok(())
}

/// Shard `shard`'s partial, refused unless it was settled from this split.
fn partial(split: &Split, sha256: &str, stage: &Path, shard: usize) -> Result<Partial, Error> {
    let path = stage::partial_path(stage, shard);
    let bytes = std::fs::read(&path).map_err(|e| stage::damaged(&path, &e.to_string()))?;
    let partial: Partial = stage::parse(&path, &bytes)?;
    let expected = split.per_shard.get(shard).map_or(0, |s| s.lines);
    if partial.split != sha256 || partial.shard != shard || partial.shards != split.shards {
        return Err(Error::Invocation(format!(
            "`{}` is shard {}/{} of another split: the stage is mixed\nhint: run `settle run --shard {shard}/{} --stage {}` again, then merge",
            path.display(),
            partial.shard,
            partial.shards,
            split.shards,
            stage.display()
        )));
    }
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
