//! The stage: the folder the three commands of a sharded run share, and its files' formats.
//!
//! ```text
//! STAGE/split.json            what `settle split` read and how it cut the accounts
//! STAGE/lines/<I>.bin         shard I's bill lines, as binary records ([`super::records`])
//! STAGE/partials/<I>.json     what `settle run --shard I/N` found, exact and unrounded
//! ```
//!
//! Each JSON file carries [`FORMAT`], which also covers the lines' layout; a command refuses a file of another format (exit 2), so that
//! a stage written by one version of settle is never half read by another. A partial names the
//! SHA-256 of the `split.json` it was settled from, so that a merge never mixes two splits.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::digest::sha256_hex;
use crate::error::Error;
use crate::ingest::input::InputFile;
use crate::ingest::lines::Lines;
use crate::ingest::{Dataset, schema};
use crate::model::reject::Reject;
use crate::rules::month::Finished;

/// The version of the stage's files. Raise it whenever a stage file's shape or meaning changes.
pub const FORMAT: u32 = 1;

/// `split.json`.
#[derive(Serialize, Deserialize)]
pub struct Split {
    pub format: u32,
    /// The dataset's name, as the period folder names it.
    pub dataset: String,
    /// The dataset folder, as an absolute path: every shard and the merge read its small tables
    /// and `usage.csv` from there, so it must be the same path on every machine (a shared volume).
    pub inputs: PathBuf,
    pub period: String,
    pub as_of: Option<String>,
    pub shards: usize,
    /// Where each shard but the first starts: shard `i + 1` takes the account ids from
    /// `starts[i]` (included) up to the next start, compared as text.
    pub starts: Vec<String>,
    /// Every input file: its SHA-256 and rows in, used and rejected.
    pub files: Vec<FileRow>,
    /// Each shard's bill lines and their payable, per currency.
    pub per_shard: Vec<ShardFacts>,
    /// What reading `bills.csv` found, and its rejects: recorded once, here.
    pub bills: StoredInput,
    pub rejects: Vec<StoredReject>,
}

/// One input file, as the manifest reports it.
#[derive(Serialize, Deserialize, PartialEq, Eq, Debug)]
pub struct FileRow {
    pub file: String,
    pub sha256: Option<String>,
    pub rows_in: u64,
    pub rows_used: u64,
    pub rows_rejected: u64,
}

/// One shard's share of the bill lines.
#[derive(Serialize, Deserialize, Default, Clone, Debug)]
pub struct ShardFacts {
    pub lines: u64,
    /// Σ payable of its lines, per currency.
    pub payable: BTreeMap<String, Decimal>,
}

/// An [`InputFile`] of `bills.csv` as the stage holds it.
#[derive(Serialize, Deserialize)]
pub struct StoredInput {
    pub sha256: Option<String>,
    pub rows: u64,
    pub unknown_columns: Vec<String>,
    pub lines: Lines,
}

impl StoredInput {
    pub fn of(input: &InputFile) -> StoredInput {
        StoredInput {
            sha256: input.sha256.clone(),
            rows: input.rows,
            unknown_columns: input.unknown_columns.clone(),
            lines: input.lines.clone(),
        }
    }

    pub fn input(&self) -> InputFile {
        InputFile {
            spec: schema::BILLS,
            sha256: self.sha256.clone(),
            rows: self.rows,
            unknown_columns: self.unknown_columns.clone(),
            lines: self.lines.clone(),
            export: None,
        }
    }
}

/// A [`Reject`] as the stage holds it.
#[derive(Serialize, Deserialize)]
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

    pub fn reject(&self) -> Result<Reject, Error> {
        let file = schema::ALL
            .iter()
            .find(|s| s.name == self.file)
            .map(|s| s.name)
            .ok_or_else(|| damaged(Path::new("split.json"), "a reject names no input file"))?;
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
    /// The SHA-256 of the `split.json` the shard was settled from.
    pub split: String,
    /// The bill lines it folded.
    pub lines: u64,
    pub finished: Finished,
}

pub fn split_path(stage: &Path) -> PathBuf {
    stage.join("split.json")
}

pub fn lines_path(stage: &Path, shard: usize) -> PathBuf {
    stage.join("lines").join(format!("{shard}.bin"))
}

pub fn partial_path(stage: &Path, shard: usize) -> PathBuf {
    stage.join("partials").join(format!("{shard}.json"))
}

/// Reads `split.json`, and its SHA-256.
pub fn read_split(stage: &Path) -> Result<(Split, String), Error> {
    let path = split_path(stage);
    let bytes = std::fs::read(&path).map_err(|e| {
        Error::Invocation(format!(
            "no split in `{}`: {e}\nhint: run `settle split --out {}` first",
            stage.display(),
            stage.display()
        ))
    })?;
    let split: Split = parse(&path, &bytes)?;
    Ok((split, sha256_hex(&bytes)))
}

/// A stage file, refused unless it is of this version's [`FORMAT`].
pub fn parse<T: serde::de::DeserializeOwned>(path: &Path, bytes: &[u8]) -> Result<T, Error> {
    #[derive(Deserialize)]
    struct Version {
        format: u32,
    }
    let version: Version =
        serde_json::from_slice(bytes).map_err(|e| damaged(path, &e.to_string()))?;
    if version.format != FORMAT {
        return Err(Error::Invocation(format!(
            "`{}` is of stage format {}, and this settle reads format {FORMAT}\nhint: split and settle the month again with one version of settle",
            path.display(),
            version.format
        )));
    }
    serde_json::from_slice(bytes).map_err(|e| damaged(path, &e.to_string()))
}

/// The error of a stage file that cannot be read.
pub fn damaged(path: &Path, why: &str) -> Error {
    Error::Invocation(format!(
        "`{}` is not a stage file settle can read: {why}\nhint: run the command that writes it again (`settle split`, or `settle run --shard` for a partial)",
        path.display()
    ))
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
/// same SHA-256 for every file it has read so far (all but `bills.csv`, which the split alone
/// reads).
pub fn same_inputs(data: &Dataset, split: &Split) -> Result<(), Error> {
    for row in crate::view::inputs::rows(&data.inputs, &data.rejects) {
        let recorded = split.files.iter().find(|f| f.file == row.file);
        if recorded.map(|f| &f.sha256) != Some(&row.sha256) {
            return Err(Error::Invocation(format!(
                "`{}` in `{}` has changed since the split: the stage is of other inputs\nhint: split the month again (`settle split`), then settle every shard and merge",
                row.file,
                split.inputs.display()
            )));
        }
    }
    Ok(())
}
