//! `settle split [--part K/M]`: the dataset's bill files read once, by one process or by `M`,
//! each part's bill lines written to the stage in runs sorted by account.
//!
//! A part is a group of the bill files: for a dataset with `exports/`, the export files are
//! dealt into `M` groups of about as many bytes ([`groups`]), which every part computes alike
//! from the list of files and their sizes, and which it records, so that parts of two listings
//! are never merged. Every check a run makes of an export is local to its file (its SHA-256, its
//! rows in, used and rejected, its rejects; an export row's id is its file and line, unique by
//! construction), so the parts' manifests put together say what one run's would.
//!
//! A dataset with `bills.csv` is one group: part 0 reads the file whole, and the other parts
//! record that they read nothing. Three checks of a run need the whole file at once, and are why
//! it is not cut into byte ranges yet: a `bill_id` is a duplicate when any earlier row of the
//! month has it, whichever part holds that row; a row's line number counts the lines of every
//! byte before it; and the manifest's SHA-256 is of the whole file, which cannot be put together
//! from the SHA-256 of its pieces (docs/cli.md, "A month on many machines", says how it could
//! be).
//!
//! No part cuts the shards: it cannot know the lines the other parts find for an account. Each
//! batch of its accounts is written as a run sorted by account, with every account's lines and
//! bytes; the shards and the merge cut the accounts from the counts of every part alike
//! ([`super::stage::Stage`]).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use rust_decimal::Decimal;
use rustc_hash::FxHashMap;

use crate::error::Error;
use crate::ingest::input::InputFile;
use crate::ingest::{Dataset, schema};
use crate::model::fold::Fold;
use crate::model::period::Month;
use crate::model::records::{BillLine, Line, Text};
use crate::model::reject::Reject;
use crate::pipeline::{self, Known, Request, RunConfig};
use crate::progress::Progress;
use crate::shard::PartOf;
use crate::shard::records;
use crate::shard::stage::{self, FORMAT, Part, Run, StoredInput, StoredReject};

/// A `settle split` request.
#[derive(Clone, Debug)]
pub struct SplitConfig {
    pub inputs: PathBuf,
    pub period: Month,
    pub as_of: Option<String>,
    pub shards: usize,
    /// Which group of the bill files to read: `0/1` for all of them.
    pub part: PartOf,
    /// Bill lines per batch of accounts, each written as one run ([`crate::ingest::batches::LINES_PER_BATCH`] for a run).
    pub lines_per_batch: u64,
    /// The stage folder.
    pub out: PathBuf,
}

/// Reads the part's bill files, writes their lines and then `parts/<K>.json` into the stage,
/// and returns what it recorded.
pub fn split(cfg: &SplitConfig, progress: &dyn Progress) -> Result<Part, Error> {
    let run = RunConfig {
        inputs: cfg.inputs.clone(),
        out: cfg.out.clone(),
        period: Some(cfg.period),
        as_of: cfg.as_of.clone(),
        strict: false,
        templates: None,
        no_pdf: true,
        lines_per_batch: cfg.lines_per_batch,
    };
    let Request { settings, .. } = Request::new(&run, &mut Known::of(&run))?;
    let mut data = pipeline::load(&cfg.inputs, settings, progress)?;
    let stage = &cfg.out;
    clear(stage, cfg.part)?;

    let bill_files = bill_files(&data);
    let group = groups(&bill_files, cfg.part.count);
    // Only this part's bill files are read: the others are left to their parts.
    let reads = match &mut data.exports {
        Some(exports) => {
            let mut i = 0;
            exports.files.retain(|_| {
                i += 1;
                group[i - 1] == cfg.part.index
            });
            true
        }
        None => cfg.part.index == 0,
    };
    let path = stage::lines_path(stage, cfg.part.index);
    let written = if reads {
        progress.stage("reading the bill lines and writing them by account");
        write_runs(&data, &path, cfg.lines_per_batch, progress)?
    } else {
        write_nothing(&path)?
    };
    let Written {
        runs,
        lines,
        payable,
        inputs,
        rejects,
    } = written;
    data.add_bills(inputs.clone(), rejects);

    let files = stage::file_rows(&data);
    // The rows used of the bill files are the lines written, and the export rows that are no
    // charge (tax, subtotals).
    let used: u64 = files
        .iter()
        .filter(|f| f.is_bills())
        .map(|f| f.rows_used)
        .sum();
    let not_charges: u64 = inputs
        .iter()
        .filter_map(|i| i.export.as_ref())
        .map(|e| e.not_charges)
        .sum();
    if used != lines + not_charges {
        return Err(Error::Internal(format!(
            "the part holds {lines} bill lines and {not_charges} rows that are no charge, not the {used} rows used of its files\nhint: this is a fault in settle: report it with the dataset"
        )));
    }
    let inputs_dir = cfg
        .inputs
        .canonicalize()
        .unwrap_or_else(|_| cfg.inputs.clone());
    let part = Part {
        format: FORMAT,
        part: cfg.part.index,
        parts: cfg.part.count,
        dataset: data.name.clone(),
        inputs: inputs_dir,
        period: cfg.period.to_string(),
        as_of: cfg.as_of.clone(),
        shards: cfg.shards,
        bill_files,
        files,
        bills: inputs.iter().map(StoredInput::of).collect(),
        rejects: data
            .rejects
            .iter()
            .filter(|r| r.file == schema::BILLS.name || r.file.starts_with("exports/"))
            .map(StoredReject::of)
            .collect(),
        lines,
        payable,
        runs,
    };
    let mut json = serde_json::to_vec(&part).map_err(|e| {
        Error::Internal(format!(
            "the manifest of part {} cannot be made: {e}",
            cfg.part
        ))
    })?;
    json.push(b'\n');
    stage::write_whole(&stage::part_path(stage, cfg.part.index), &json)?;
    Ok(part)
}

/// Removes what a new split makes stale. A split of one part starts the stage afresh; part `K`
/// of `M` removes its own files, and parts numbered `M` or more (of a split into more parts):
/// the other parts of its split may be written already, and a merge finds any that are not of
/// this split by their manifests.
fn clear(stage: &Path, part: PartOf) -> Result<(), Error> {
    let remove = |path: PathBuf, dir: bool| {
        let done = if dir {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        match done {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(Error::Output { path, source: e })
            }
            _ => Ok(()),
        }
    };
    if part.count == 1 {
        for dir in ["parts", "lines", "partials"] {
            remove(stage.join(dir), true)?;
        }
        return Ok(());
    }
    remove(stage::part_path(stage, part.index), false)?;
    remove(stage::lines_path(stage, part.index), false)?;
    if let Ok(entries) = std::fs::read_dir(stage::parts_dir(stage)) {
        for entry in entries.flatten() {
            let k = entry
                .file_name()
                .to_str()
                .and_then(|n| n.strip_suffix(".json"))
                .and_then(|n| n.parse::<usize>().ok());
            if k.is_some_and(|k| k >= part.count) {
                remove(entry.path(), false)?;
            }
        }
    }
    Ok(())
}

/// The dataset's bill files and their sizes: its exports, in the order it reads them, or
/// `bills.csv`.
fn bill_files(data: &Dataset) -> Vec<(String, u64)> {
    let size = |p: &Path| std::fs::metadata(p).map_or(0, |m| m.len());
    match &data.exports {
        Some(exports) => exports
            .files
            .iter()
            .map(|f| (f.name.to_string(), size(&f.path)))
            .collect(),
        None => vec![(
            schema::BILLS.name.to_string(),
            size(&data.dir().join(schema::BILLS.name)),
        )],
    }
}

/// The part each bill file goes to: the biggest first, each to the part with the fewest bytes
/// so far (the lowest such part on a tie), so that the parts read about as much; every part
/// computes the same from the same list.
pub fn groups(files: &[(String, u64)], parts: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..files.len()).collect();
    order.sort_by(|&a, &b| {
        files[b]
            .1
            .cmp(&files[a].1)
            .then(files[a].0.cmp(&files[b].0))
    });
    let mut bytes = vec![0u64; parts.max(1)];
    let mut group = vec![0; files.len()];
    for i in order {
        let (least, _) = bytes
            .iter()
            .enumerate()
            .min_by_key(|&(k, b)| (*b, k))
            .unwrap_or((0, &0));
        group[i] = least;
        bytes[least] += files[i].1.max(1);
    }
    group
}

/// What writing a part's lines found.
struct Written {
    runs: Vec<Run>,
    lines: u64,
    payable: std::collections::BTreeMap<String, rust_decimal::Decimal>,
    inputs: Vec<InputFile>,
    rejects: Vec<Reject>,
}

/// The lines of a part with no bill file to read.
fn write_nothing(path: &Path) -> Result<Written, Error> {
    stage::write_whole(path, &[])?;
    Ok(Written {
        runs: Vec::new(),
        lines: 0,
        payable: Default::default(),
        inputs: Vec::new(),
        rejects: Vec::new(),
    })
}

/// Writes the part's lines as binary records ([`records`]): each batch of accounts as a run,
/// sorted by account.
fn write_runs(
    data: &Dataset,
    path: &Path,
    lines_per_batch: u64,
    progress: &dyn Progress,
) -> Result<Written, Error> {
    let mut bills = data.bills(lines_per_batch)?;
    let fail = |source| Error::Output {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(fail)?;
    }
    loop {
        // Each read starts the file again: a read that found duplicate `bill_id`s is followed
        // by one without them.
        let mut file = Counted {
            inner: BufWriter::with_capacity(1 << 20, File::create(path).map_err(fail)?),
            bytes: 0,
        };
        let mut runs = Vec::with_capacity(bills.batches().count());
        let mut lines = 0u64;
        let mut payable: FxHashMap<Text, Decimal> = FxHashMap::default();
        for index in 0..bills.batches().count() {
            let batch = bills.fold(index, Collect::default, progress)?;
            for (currency, amount) in &batch.payable {
                *payable.entry(currency.clone()).or_default() += amount;
            }
            let run = batch.write(&mut file).map_err(fail)?;
            lines += run.accounts.iter().map(|a| a.1).sum::<u64>();
            runs.push(run);
        }
        if !bills.again(progress)? {
            let file = file.inner.into_inner().map_err(|e| fail(e.into_error()))?;
            file.sync_all().map_err(fail)?;
            let (inputs, rejects) = bills.finish();
            return Ok(Written {
                runs,
                lines,
                payable: payable
                    .into_iter()
                    .map(|(c, amount)| (c.to_string(), amount))
                    .collect(),
                inputs,
                rejects,
            });
        }
    }
}

/// A writer that counts the bytes written through it.
struct Counted<W> {
    inner: W,
    bytes: u64,
}

impl<W: Write> Write for Counted<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// A batch's lines as records ([`records`]), in the order read: each core's in chunks of bytes,
/// put one after another as the folds are merged, with each record's account, place and length.
/// A record's line number counts from its chunk's `shift`, which a fold learns only when it is
/// merged after the lines before it. Records are some 130 bytes where a [`BillLine`] held in
/// memory is twice that, and merging moves no bytes.
#[derive(Default)]
struct Collect {
    chunks: Vec<Chunk>,
    /// Whether a fold was merged in since the last chunk was started: lines added after it are
    /// not shifted, so they start a chunk of their own.
    merged: bool,
    payable: FxHashMap<Text, Decimal>,
}

#[derive(Default)]
struct Chunk {
    bytes: Vec<u8>,
    /// Each record's account, and where it starts in `bytes` (it ends where the next starts).
    records: Vec<(Text, usize)>,
    shift: Line,
}

impl Chunk {
    fn record(&self, i: usize) -> &[u8] {
        let from = self.records[i].1;
        let to = self.records.get(i + 1).map_or(self.bytes.len(), |r| r.1);
        &self.bytes[from..to]
    }
}

impl Fold for Collect {
    fn add(&mut self, b: &BillLine) {
        if self.merged || self.chunks.is_empty() {
            self.chunks.push(Chunk::default());
            self.merged = false;
        }
        let Some(chunk) = self.chunks.last_mut() else {
            return;
        };
        chunk
            .records
            .push((b.account_id.clone(), chunk.bytes.len()));
        // Writing to memory cannot fail.
        let _ = records::write(&mut chunk.bytes, b);
        *self.payable.entry(b.currency.clone()).or_default() += b.payable_amount;
    }

    fn merge(&mut self, other: Self, lines_before: Line) {
        self.chunks.extend(other.chunks.into_iter().map(|mut c| {
            c.shift += lines_before;
            c
        }));
        self.merged = true;
        for (currency, amount) in other.payable {
            *self.payable.entry(currency).or_default() += amount;
        }
    }
}

impl Collect {
    /// Writes the batch's records as one run, sorted by account (an account's lines in the
    /// order read), each with its line number shifted.
    fn write(&self, file: &mut Counted<impl Write>) -> std::io::Result<Run> {
        // Accounts ranked by id once, so that the sort compares numbers, not text.
        let mut accounts: Vec<Text> = Vec::new();
        let mut rank: FxHashMap<usize, u32> = FxHashMap::default();
        for (account, _) in self.chunks.iter().flat_map(|c| &c.records) {
            rank.entry(account.id()).or_insert_with(|| {
                accounts.push(account.clone());
                0
            });
        }
        let mut by_id: Vec<usize> = (0..accounts.len()).collect();
        by_id.sort_unstable_by(|&a, &b| accounts[a].cmp(&accounts[b]));
        for (r, &i) in by_id.iter().enumerate() {
            rank.insert(accounts[i].id(), r as u32);
        }
        let mut order: Vec<(u32, u32, u32)> = Vec::new();
        for (c, chunk) in self.chunks.iter().enumerate() {
            order.extend(
                (0..chunk.records.len())
                    .map(|i| (rank[&chunk.records[i].0.id()], c as u32, i as u32)),
            );
        }
        // Stable: in the order read within an account.
        order.sort_by_key(|o| o.0);
        let mut run = Run {
            offset: file.bytes,
            accounts: Vec::new(),
        };
        for same in order.chunk_by(|a, b| a.0 == b.0) {
            let from = file.bytes;
            for &(_, c, i) in same {
                let chunk = &self.chunks[c as usize];
                let record = chunk.record(i as usize);
                let (line, rest) = record.split_at(8);
                let mut number = [0u8; 8];
                number.copy_from_slice(line);
                let shifted = u64::from_le_bytes(number) + chunk.shift;
                file.write_all(&shifted.to_le_bytes())?;
                file.write_all(rest)?;
            }
            let account = accounts[by_id[same[0].0 as usize]].clone();
            run.accounts
                .push((account, same.len() as u64, file.bytes - from));
        }
        Ok(run)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(sizes: &[u64]) -> Vec<(String, u64)> {
        sizes
            .iter()
            .enumerate()
            .map(|(i, &s)| (format!("exports/{i}.csv"), s))
            .collect()
    }

    #[test]
    fn export_files_are_dealt_by_bytes() {
        assert_eq!(groups(&files(&[10, 10, 10]), 1), [0, 0, 0]);
        // The biggest file alone; the others share the second part.
        assert_eq!(groups(&files(&[30, 10, 10, 10]), 2), [0, 1, 1, 1]);
        assert_eq!(groups(&files(&[5, 5, 5, 5]), 2), [0, 1, 0, 1]);
        // More parts than files: the last parts read nothing.
        assert_eq!(groups(&files(&[7, 9]), 4), [1, 0]);
        assert!(groups(&files(&[]), 3).is_empty());
    }
}
