//! The stage: the folder the three commands of a sharded run share, and its files' formats.
//!
//! ```text
//! STAGE/parts/<K>.json        what `settle split --part K/M` read and wrote (the part's manifest)
//! STAGE/lines/<K>.bin         part K's bill lines, as binary records ([`super::records`]), in runs
//!                             sorted by account
//! STAGE/partials/<I>.json     what `settle run --shard I/N` found, exact and unrounded
//! ```
//!
//! The split may itself run as `M` processes (an Indexed Job), each reading one group of the
//! input files, which cannot know how many lines the others find for an account. So no part
//! cuts the shards: each writes its lines in runs sorted by account, with an index of every
//! account's lines and bytes in each run, and every reader (each shard, the merge) computes the
//! same cut from the counts of all parts, a pure function of the stage ([`Stage::cut`]). A shard
//! then reads, from each run of each part, the one contiguous range of bytes that holds its
//! accounts' lines.
//!
//! Each JSON file carries [`FORMAT`], which also covers the lines' layout; a command refuses a
//! file of another format (exit 2), so that a stage written by one version of settle is never
//! half read by another. A partial names the SHA-256 of the parts it was settled from
//! ([`Stage::sha256`]), so that a merge never mixes two splits.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use rust_decimal::Decimal;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::digest::sha256_hex;
use crate::error::Error;
use crate::ingest::batches::Batches;
use crate::ingest::exports::ExportFacts;
use crate::ingest::input::InputFile;
use crate::ingest::lines::Lines;
use crate::ingest::schema::{self, FileSpec};
use crate::ingest::{Dataset, exports};
use crate::model::records::Text;
use crate::model::reject::Reject;
use crate::rules::month::Finished;

/// The version of the stage's files. Raise it whenever a stage file's shape or meaning changes.
/// 2: the split in parts, each part's lines in runs sorted by account, the cut made by readers.
pub const FORMAT: u32 = 2;

/// Why a stage cannot be settled or merged: exit code 2, naming what to run again.
#[derive(Debug, thiserror::Error)]
pub enum StageError {
    #[error("there is no split in `{}`\nhint: run `settle split --out {}` first (with `--part K/M` for each K, if the split is cut into parts)", .stage.display(), .stage.display())]
    NoSplit { stage: PathBuf },

    #[error("`{}` is incomplete: part(s) {missing} of the split have not been written\nhint: run `settle split … --part K/{parts} --out {}` for each, then settle the shards and merge", .stage.display(), .stage.display())]
    MissingParts {
        stage: PathBuf,
        missing: String,
        parts: usize,
    },

    #[error("`{}` is mixed: {what}\nhint: split the month again, every part with the same `--inputs`, `--period`, `--as-of`, `--shards` and `--part K/M`, then settle every shard and merge", .stage.display())]
    MixedParts { stage: PathBuf, what: String },

    #[error("`{}` is incomplete: shard(s) {missing} of {shards} have not been settled\nhint: run `settle run --shard I/{shards} --stage {}` for each, then merge again", .stage.display(), .stage.display())]
    MissingShards {
        stage: PathBuf,
        missing: String,
        shards: usize,
    },

    #[error("`{}` is shard {shard}/{shards} of another split: the stage is mixed\nhint: run `settle run --shard {expected} --stage {}` again, then merge", .path.display(), .stage.display())]
    OtherSplit {
        path: PathBuf,
        stage: PathBuf,
        shard: usize,
        shards: usize,
        expected: String,
    },

    #[error("`{}` was split into {shards} shards, not {asked}\nhint: run `--shard I/{shards}` for I from 0 to {}", .stage.display(), .shards - 1)]
    ShardCount {
        stage: PathBuf,
        shards: usize,
        asked: usize,
    },

    #[error("`{}` is of stage format {found}, and this settle reads format {FORMAT}\nhint: split and settle the month again with one version of settle", .path.display())]
    Format { path: PathBuf, found: u32 },

    #[error("`{}` is not a stage file settle can read: {why}\nhint: run the command that writes it again (`settle split`, or `settle run --shard` for a partial)", .path.display())]
    Damaged { path: PathBuf, why: String },

    #[error("`{file}` in `{}` has changed since the split: the stage is of other inputs\nhint: split the month again (`settle split`), then settle every shard and merge", .inputs.display())]
    Changed { file: String, inputs: PathBuf },
}

/// `parts/<K>.json`: what one part of the split read, and where its lines are.
#[derive(Serialize, Deserialize, Clone)]
pub struct Part {
    pub format: u32,
    /// `K` of `--part K/M`.
    pub part: usize,
    /// `M`.
    pub parts: usize,
    /// The dataset's name, as the period folder names it.
    pub dataset: String,
    /// The dataset folder, as an absolute path: every shard and the merge read its small tables
    /// and `usage.csv` from there, so it must be the same path on every machine (a shared volume).
    pub inputs: PathBuf,
    pub period: String,
    pub as_of: Option<String>,
    pub shards: usize,
    /// Every bill file of the dataset and its size in bytes, from which each part took its
    /// group ([`super::split::groups`]): the parts of one split list the same.
    pub bill_files: Vec<(String, u64)>,
    /// Every input file the part read: its SHA-256 and rows in, used and rejected. The small
    /// tables are the same in every part; the bill files are the part's own.
    pub files: Vec<FileRow>,
    /// What reading the part's bill files found, and their rejects.
    pub bills: Vec<StoredInput>,
    pub rejects: Vec<StoredReject>,
    /// The bill lines the part wrote, and their payable, per currency.
    pub lines: u64,
    pub payable: BTreeMap<String, Decimal>,
    /// `lines/<K>.bin`, run by run.
    pub runs: Vec<Run>,
}

/// One run of a part's lines: every line of its accounts, sorted by account (and in the order
/// read within an account), from byte `offset` of the part's lines.
#[derive(Serialize, Deserialize, Clone, Default)]
pub struct Run {
    pub offset: u64,
    /// Each account of the run, in order, with its lines and their bytes.
    pub accounts: Vec<(Text, u64, u64)>,
}

impl Run {
    /// The range of the run's accounts that fall in shard `index`: they are consecutive, since
    /// shards are ranges of accounts in order.
    pub fn of_shard(&self, shards: &Batches, index: usize) -> std::ops::Range<usize> {
        let from = self.accounts.partition_point(|a| shards.of(&a.0) < index);
        let to = self.accounts.partition_point(|a| shards.of(&a.0) <= index);
        from..to
    }
}

/// One input file, as the manifest reports it.
#[derive(Serialize, Deserialize, PartialEq, Eq, Debug, Clone)]
pub struct FileRow {
    pub file: String,
    pub sha256: Option<String>,
    pub rows_in: u64,
    pub rows_used: u64,
    pub rows_rejected: u64,
}

impl FileRow {
    /// Whether the file gives bill lines (`bills.csv` or an export), which each part reads its
    /// own group of.
    pub fn is_bills(&self) -> bool {
        self.file == schema::BILLS.name || self.file.starts_with("exports/")
    }
}

/// An [`InputFile`] of the bill lines, as the stage holds it.
#[derive(Serialize, Deserialize, Clone)]
pub struct StoredInput {
    pub file: String,
    pub sha256: Option<String>,
    pub rows: u64,
    pub unknown_columns: Vec<String>,
    pub lines: Lines,
    /// For an export: its rows that are not charges, and its corrections (the format and
    /// mapping are read again from the file's header).
    pub export: Option<(u64, u64)>,
}

impl StoredInput {
    pub fn of(input: &InputFile) -> StoredInput {
        StoredInput {
            file: input.spec.name.to_string(),
            sha256: input.sha256.clone(),
            rows: input.rows,
            unknown_columns: input.unknown_columns.clone(),
            lines: input.lines.clone(),
            export: input
                .export
                .as_ref()
                .map(|e| (e.not_charges, e.corrections)),
        }
    }

    /// The input file as a run would have found it, from the dataset read again.
    pub fn input(&self, data: &Dataset, path: &Path) -> Result<InputFile, Error> {
        if self.file == schema::BILLS.name {
            return Ok(InputFile {
                spec: schema::BILLS,
                sha256: self.sha256.clone(),
                rows: self.rows,
                unknown_columns: self.unknown_columns.clone(),
                lines: self.lines.clone(),
                export: None,
            });
        }
        let file = export_file(data, &self.file).ok_or_else(|| StageError::Changed {
            file: self.file.clone(),
            inputs: data.dir().to_path_buf(),
        })?;
        let (not_charges, corrections) = self.export.ok_or_else(|| StageError::Damaged {
            path: path.to_path_buf(),
            why: format!("the export `{}` has no facts", self.file),
        })?;
        Ok(InputFile {
            spec: FileSpec {
                name: file.name,
                required: false,
                columns: &[],
            },
            sha256: self.sha256.clone(),
            rows: self.rows,
            unknown_columns: self.unknown_columns.clone(),
            lines: self.lines.clone(),
            export: Some(Box::new(ExportFacts {
                format: file.format.kind,
                recognised: file.recognised,
                mapping: file.mapping(),
                not_charges,
                corrections,
            })),
        })
    }
}

/// The dataset's export file of that name.
fn export_file<'d>(data: &'d Dataset, name: &str) -> Option<&'d exports::ExportFile> {
    data.exports.as_ref()?.files.iter().find(|f| f.name == name)
}

/// A [`Reject`] as the stage holds it.
#[derive(Serialize, Deserialize, Clone)]
pub struct StoredReject {
    pub file: String,
    pub line: u64,
    pub column: String,
    pub value: String,
    pub reason: String,
}

impl StoredReject {
    pub fn of(r: &Reject) -> StoredReject {
        StoredReject {
            file: r.file.to_string(),
            line: r.line,
            column: r.column.clone(),
            value: r.value.clone(),
            reason: r.reason.clone(),
        }
    }

    pub fn reject(&self, data: &Dataset, path: &Path) -> Result<Reject, Error> {
        let file = schema::ALL
            .iter()
            .map(|s| s.name)
            .find(|name| *name == self.file)
            .or_else(|| export_file(data, &self.file).map(|f| f.name))
            .ok_or_else(|| damaged(path, "a reject names no input file"))?;
        Ok(Reject {
            file,
            line: self.line,
            column: self.column.clone(),
            value: self.value.clone(),
            reason: self.reason.clone(),
        })
    }
}

/// `partials/<I>.json`: one shard's results.
#[derive(Serialize, Deserialize)]
pub struct Partial {
    pub format: u32,
    pub shard: usize,
    pub shards: usize,
    /// The SHA-256 of the parts the shard was settled from ([`Stage::sha256`]).
    pub split: String,
    /// The bill lines it folded.
    pub lines: u64,
    /// What it read from each part, in part order: the merge checks that the shards together
    /// read every line of every part once, and its payable.
    pub from_parts: Vec<Share>,
    pub finished: Finished,
}

/// The lines a shard read from one part, and their payable, per currency.
#[derive(Serialize, Deserialize, Default, Clone, PartialEq, Debug)]
pub struct Share {
    pub lines: u64,
    pub payable: BTreeMap<String, Decimal>,
}

pub fn parts_dir(stage: &Path) -> PathBuf {
    stage.join("parts")
}

pub fn part_path(stage: &Path, part: usize) -> PathBuf {
    parts_dir(stage).join(format!("{part}.json"))
}

pub fn lines_path(stage: &Path, part: usize) -> PathBuf {
    stage.join("lines").join(format!("{part}.bin"))
}

pub fn partial_path(stage: &Path, shard: usize) -> PathBuf {
    stage.join("partials").join(format!("{shard}.json"))
}

/// Every part of a split, read and checked to be of one split, and the cut they agree on.
pub struct Stage {
    pub parts: Vec<Part>,
    /// The SHA-256 of the parts' manifests, one after another: what a partial names.
    pub sha256: String,
    /// Where each shard but the first starts ([`Batches::starting_at`]).
    pub starts: Vec<String>,
}

impl Stage {
    /// Reads every part in `stage`: all `M` must be there, of one format, dataset, month and
    /// shard count, from the same small tables and the same list of bill files.
    pub fn read(stage: &Path) -> Result<Stage, Error> {
        let dir = parts_dir(stage);
        let no_split = || StageError::NoSplit {
            stage: stage.to_path_buf(),
        };
        let entries = std::fs::read_dir(&dir).map_err(|_| no_split())?;
        let mut found: BTreeMap<usize, (Part, String)> = BTreeMap::new();
        for entry in entries {
            let path = entry.map_err(|_| no_split())?.path();
            let Some(k) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".json"))
                .and_then(|n| n.parse::<usize>().ok())
            else {
                continue;
            };
            let bytes = std::fs::read(&path).map_err(|e| damaged(&path, &e.to_string()))?;
            let part: Part = parse(&path, &bytes)?;
            if part.part != k {
                return Err(damaged(&path, &format!("it is part {}", part.part)));
            }
            found.insert(k, (part, sha256_hex(&bytes)));
        }
        let Some((first, _)) = found.values().next() else {
            return Err(no_split().into());
        };
        let parts = first.parts;
        let mixed = |what: String| StageError::MixedParts {
            stage: stage.to_path_buf(),
            what,
        };
        for (k, (part, _)) in &found {
            if let Some(what) = differs(first, part) {
                return Err(mixed(format!("part {k}/{} {what}", part.parts)).into());
            }
        }
        if let Some(k) = found.keys().find(|&&k| k >= parts) {
            return Err(mixed(format!(
                "part {k} is beyond the {parts} parts of the others"
            ))
            .into());
        }
        let missing: Vec<String> = (0..parts)
            .filter(|k| !found.contains_key(k))
            .map(|k| format!("{k}/{parts}"))
            .collect();
        if !missing.is_empty() {
            return Err(StageError::MissingParts {
                stage: stage.to_path_buf(),
                missing: missing.join(", "),
                parts,
            }
            .into());
        }
        let hashes: String = found.values().map(|(_, h)| h.as_str()).collect();
        let parts: Vec<Part> = found.into_values().map(|(p, _)| p).collect();
        let starts = cut(&counts(&parts), parts[0].shards);
        Ok(Stage {
            sha256: sha256_hex(hashes.as_bytes()),
            parts,
            starts,
        })
    }

    /// The first part, which says what every part agrees on.
    pub fn first(&self) -> &Part {
        &self.parts[0]
    }

    pub fn shards(&self) -> usize {
        self.first().shards
    }

    pub fn batches(&self) -> Batches {
        Batches::starting_at(self.starts.iter().map(|s| Box::from(s.as_str())).collect())
    }

    /// Each shard's bill lines, over every part.
    pub fn shard_lines(&self) -> Vec<u64> {
        let shards = self.batches();
        let mut lines = vec![0u64; self.shards()];
        for run in self.parts.iter().flat_map(|p| &p.runs) {
            for (account, n, _) in &run.accounts {
                lines[shards.of(account)] += n;
            }
        }
        lines
    }
}

/// What makes two parts of different splits, if anything.
fn differs(a: &Part, b: &Part) -> Option<String> {
    let tables =
        |p: &Part| -> Vec<FileRow> { p.files.iter().filter(|f| !f.is_bills()).cloned().collect() };
    if a.parts != b.parts {
        Some(format!("is one of {} parts, not {}", b.parts, a.parts))
    } else if a.shards != b.shards {
        Some(format!("cuts {} shards, not {}", b.shards, a.shards))
    } else if (&a.dataset, &a.inputs, &a.period, &a.as_of)
        != (&b.dataset, &b.inputs, &b.period, &b.as_of)
    {
        Some(format!(
            "is of `{}` for {} (as of {}), not of `{}` for {} (as of {})",
            b.inputs.display(),
            b.period,
            b.as_of.as_deref().unwrap_or("the period's end"),
            a.inputs.display(),
            a.period,
            a.as_of.as_deref().unwrap_or("the period's end"),
        ))
    } else if a.bill_files != b.bill_files {
        Some("saw other bill files, or files of other sizes, than part 0".into())
    } else if tables(a) != tables(b) {
        Some("read other small tables (their SHA-256 differ) than part 0".into())
    } else {
        None
    }
}

/// Each account's bill lines, over every part.
fn counts(parts: &[Part]) -> FxHashMap<Text, u64> {
    let mut counts: FxHashMap<Text, u64> = FxHashMap::default();
    for run in parts.iter().flat_map(|p| &p.runs) {
        for (account, n, _) in &run.accounts {
            *counts.entry(account.clone()).or_default() += n;
        }
    }
    counts
}

/// Where each shard but the first starts: the accounts in the order of their ids, cut where the
/// lines before an account first reach the next `k / shards` of all the lines. One account is
/// never cut, so a shard may hold more than its share, and a shard may be empty.
pub fn cut(counts: &FxHashMap<Text, u64>, shards: usize) -> Vec<String> {
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

/// A stage file, refused unless it is of this version's [`FORMAT`]. The file is read once as
/// what it should be (a partial is the biggest file the merge reads); only when that fails, or
/// is of another format, is it read again for its format alone, to say which.
pub fn parse<T: serde::de::DeserializeOwned + Versioned>(
    path: &Path,
    bytes: &[u8],
) -> Result<T, Error> {
    #[derive(Deserialize)]
    struct Version {
        format: u32,
    }
    let parsed: Result<T, _> = serde_json::from_slice(bytes);
    if let Ok(file) = &parsed
        && file.format() == FORMAT
    {
        return parsed.map_err(|e| damaged(path, &e.to_string()));
    }
    let version: Version =
        serde_json::from_slice(bytes).map_err(|e| damaged(path, &e.to_string()))?;
    if version.format != FORMAT {
        return Err(StageError::Format {
            path: path.to_path_buf(),
            found: version.format,
        }
        .into());
    }
    parsed.map_err(|e| damaged(path, &e.to_string()))
}

/// A stage file that says its format.
pub trait Versioned {
    fn format(&self) -> u32;
}

impl Versioned for Part {
    fn format(&self) -> u32 {
        self.format
    }
}

impl Versioned for Partial {
    fn format(&self) -> u32 {
        self.format
    }
}

/// The error of a stage file that cannot be read.
pub fn damaged(path: &Path, why: &str) -> Error {
    StageError::Damaged {
        path: path.to_path_buf(),
        why: why.to_string(),
    }
    .into()
}

/// Writes `bytes` to `path` whole or not at all: a shard killed while writing leaves no partial.
pub fn write_whole(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let fail = |source| Error::Output {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(fail)?;
    }
    let temp = path.with_extension("partial-write");
    let mut file = std::fs::File::create(&temp).map_err(fail)?;
    file.write_all(bytes).map_err(fail)?;
    file.sync_all().map_err(fail)?;
    std::fs::rename(&temp, path).map_err(fail)
}

/// The input files' facts, as the split records them.
pub fn file_rows(data: &Dataset) -> Vec<FileRow> {
    crate::view::inputs::rows(&data.inputs, &data.rejects)
        .into_iter()
        .map(|r| FileRow {
            file: r.file.to_string(),
            sha256: r.sha256,
            rows_in: r.rows_in,
            rows_used: r.rows_used,
            rows_rejected: r.rows_rejected,
        })
        .collect()
}

/// Checks that the dataset, as read again by a shard or the merge, is the one the split read: the
/// same SHA-256 for every file it has read so far (all but the bill files, which the parts of
/// the split alone read).
pub fn same_inputs(data: &Dataset, part: &Part) -> Result<(), Error> {
    for row in crate::view::inputs::rows(&data.inputs, &data.rejects) {
        let recorded = part.files.iter().find(|f| f.file == row.file);
        if recorded.map(|f| &f.sha256) != Some(&row.sha256) {
            return Err(StageError::Changed {
                file: row.file.to_string(),
                inputs: part.inputs.clone(),
            }
            .into());
        }
    }
    Ok(())
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

    #[test]
    fn a_run_gives_each_shard_a_range_of_its_accounts() {
        let run = Run {
            offset: 0,
            accounts: ["a", "b", "c", "d"]
                .iter()
                .map(|&a| (Text::from(a), 1, 10))
                .collect(),
        };
        let shards = Batches::starting_at(vec![Box::from("b"), Box::from("d"), Box::from("d")]);
        assert_eq!(run.of_shard(&shards, 0), 0..1);
        assert_eq!(run.of_shard(&shards, 1), 1..3);
        assert_eq!(run.of_shard(&shards, 2), 3..3);
        assert_eq!(run.of_shard(&shards, 3), 3..4);
    }
}
