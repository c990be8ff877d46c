//! Errors that stop a run, each with a message a user can act on.
//!
//! A bad *row* never stops a run: it becomes a [`crate::model::reject::Reject`]. These errors are for a
//! dataset that cannot be used at all, and they map to the exit codes in the contract (docs/cli.md).

use std::path::PathBuf;

use crate::model::reject::Reject;

/// A dataset that cannot be used: exit code 2.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    #[error("`{}` is not a folder\nhint: pass the dataset folder, for example `--inputs inputs/demo`", .0.display())]
    NotAFolder(PathBuf),

    #[error("required file `{file}` is missing from `{}`\nhint: every dataset needs `bills.csv` (or cloud bill exports in an `exports/` folder) and `accounts.csv`", .dir.display())]
    MissingFile { dir: PathBuf, file: &'static str },

    #[error("`{}` holds both `bills.csv` and an `exports/` folder\nhint: give the month's bill lines one way: remove `bills.csv` to read the exports, or move `exports/` out of the dataset", .dir.display())]
    BothBillSources { dir: PathBuf },

    #[error("`{}` holds no export file\nhint: put the month's bill exports there as `*.csv`, `*.csv.gz` or `*.parquet`", .dir.display())]
    NoExports { dir: PathBuf },

    #[error(
        "`{file}` is not a bill export settle knows; its columns are: {columns}\nhint: settle recognises {kinds} exports by their columns: {telling}. If the file is one of them with a header settle cannot tell, pin the format in `settle.toml`: `[exports]` then `format = \"focus\"`"
    )]
    UnknownExport {
        file: &'static str,
        columns: String,
        /// The formats settle knows, by name.
        kinds: String,
        telling: String,
    },

    #[error(
        "`{file}` has two columns for `{feeds}`: {columns}; settle cannot tell which to read\nhint: remove or rename the extra column, then run again"
    )]
    ExportColumnTwice {
        file: &'static str,
        feeds: &'static str,
        columns: String,
    },

    #[error(
        "`{file}` fits two export formats: {first}, and {second}\nhint: pin the format in `settle.toml`: `[exports]` then `format = \"{pin}\"` (or the other's name)"
    )]
    TwoFormats {
        file: &'static str,
        first: String,
        second: String,
        pin: &'static str,
    },

    #[error(
        "`{file}`'s money columns name different currencies: {columns}\nhint: an export is in one currency; export the file again, or give it a currency column"
    )]
    ExportUnits { file: &'static str, columns: String },

    #[error(
        "`{file}` ends its lines with a carriage return alone (Excel's \"CSV (Macintosh)\"), so it would read as one header line and no rows\nhint: save it again as \"CSV UTF-8\" or \"CSV (Comma delimited)\", or convert its line ends to LF or CRLF"
    )]
    CrLineEnds { file: &'static str },

    #[error(
        "`{first}` and `{second}` hold the same bytes\nhint: a file read twice counts its charges twice; the month's delivery was copied in twice, or one file was copied beside itself: remove one of them"
    )]
    SameExport { first: String, second: String },

    #[error(
        "`{manifest}` lists `{listed}`, which is not in `exports/`\nhint: the delivery is incomplete; copy the whole of it into `exports/` (or wait until the cloud has written all of it)"
    )]
    ExportListedMissing { manifest: String, listed: String },

    #[error(
        "`{file}` is not listed by the delivery's manifest `{manifest}`\nhint: it is from another delivery (an older run or assembly kept beside the latest): remove it, or the manifest if the files are right"
    )]
    ExportNotListed { file: String, manifest: String },

    #[error(
        "`{file}` is not a delivery manifest settle can read: {reason}\nhint: AWS `Manifest.json` lists `reportKeys` or `dataFiles`, Azure `manifest.json` lists `blobs`; restore it from the delivery, or remove it to read the files without it"
    )]
    ExportManifest { file: String, reason: String },

    #[error(
        "`{file}` looks like {what}, which settle does not read; its columns are: {columns}\nhint: {instead}, in `exports/`"
    )]
    ForeignExport {
        file: &'static str,
        what: &'static str,
        columns: String,
        instead: &'static str,
    },

    #[error(
        "`{file}` cannot be read as {format}, the format `settle.toml` pins: it lacks the columns that tell {format}: {missing}\nhint: pin the format the file is in, or remove `[exports] format` so that settle recognises each file by its columns"
    )]
    PinnedMismatch {
        file: &'static str,
        format: &'static str,
        missing: String,
    },

    #[error(
        "`{file}` is a Parquet export, and this build of settle reads none\nhint: build settle with its `parquet` feature (`cargo build --release --features parquet`), or give the export as `.csv` or `.csv.gz`"
    )]
    NoParquet { file: &'static str },

    #[error("`{file}` ({format} export) has no column for `{feeds}`: expected {names}{}", if *.account { "\nhint: a file for a single account may name it in `settle.toml`: `[exports]` then `account_id = \"...\"`" } else { "\nhint: export the file with that column, or pin another format in `settle.toml` (`[exports] format`)" })]
    ExportColumn {
        file: &'static str,
        format: &'static str,
        feeds: &'static str,
        names: String,
        account: bool,
    },

    #[error("`{}` is {kind}, not a regular file\nhint: settle reads each input whole from a regular file (a symbolic link to one is fine); put the data in a file of that name, or remove it if it is not meant to be there", .path.display())]
    NotAFile { path: PathBuf, kind: &'static str },

    #[error("`{}` is a symbolic link to `{}`, which does not exist\nhint: point the link at the file, or remove the link if the file is not meant to be there; a broken link is never taken as an absent file", .path.display(), .target.display())]
    DanglingLink { path: PathBuf, target: PathBuf },

    #[error("cannot read `{}`: {source}", .path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },

    /// Not the dataset's fault: exit code 1, as for the other scratch files.
    #[error("cannot write or read back the scratch file `{}`: {source}\nhint: a month of several batches keeps the later batches' bill lines there, beside the output folder, about the size of `bills.csv` in all; check that the disk has room", .path.display())]
    Scratch {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("`{file}` is empty\nhint: a CSV file needs at least its header row: {expected}")]
    EmptyFile {
        file: &'static str,
        expected: String,
    },

    #[error(
        "`{file}` has no column `{column}`\nhint: the header must name every column: {expected}"
    )]
    MissingColumn {
        file: &'static str,
        column: &'static str,
        expected: String,
    },

    #[error("`{file}` names column `{column}` twice in its header")]
    DuplicateColumn { file: &'static str, column: String },

    #[error("`{file}` line {line}: {reason}")]
    Unreadable {
        file: &'static str,
        line: u64,
        reason: String,
    },

    #[error("`settle.toml`: {message}{}", hint.as_ref().map(|h| format!("\nhint: {h}")).unwrap_or_default())]
    Settings {
        message: String,
        hint: Option<String>,
    },

    #[error("template `{}`: {message}\nhint: see `templates/README.md` for the format", .file.display())]
    Template { file: PathBuf, message: String },

    #[error("account relations form a cycle: {}\nhint: end or remove one of these relations in `account_relations.csv`", .accounts.join(" → "))]
    RelationCycle { accounts: Vec<String> },
}

/// Why `settle close` refuses to close a month, or why a command refuses to write into a month of
/// record (R9): exit code 2.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error(
        "`settle close` takes `--period`: the month to close is never guessed\nhint: for example `settle close --inputs inputs/demo --period 2026-10 --issued-on 2026-11-05`"
    )]
    NoPeriod,

    #[error("there is no draft of {period} in `{}` to close\nhint: run `settle run` for the month first (with the same `--out`), review its documents, then close it", .folder.display())]
    NoDraft { period: String, folder: PathBuf },

    #[error("{period} is already closed in `{}`: a month of record never changes\nhint: nothing needs doing; when the inputs change it, `settle run` writes a restatement draft beside it, which `settle close` then closes", .folder.display())]
    AlreadyClosed { period: String, folder: PathBuf },

    #[error(
        "`settle.toml` has no `[issuer]`: a month without an issuer cannot be closed, its documents would name no sender\nhint: add `[issuer]` (docs/inputs.md), run `settle run` again, review the new draft, then close it"
    )]
    NoIssuer,

    #[error(
        "no bill line was used or deducted in {period}: closing it would issue a zero statement to every partner\nhint: check that the month's bill exports are complete and run `settle run` again; if the month really is empty, close it with `--allow-empty`"
    )]
    EmptyMonth { period: String },

    #[error("{period} computed from the inputs now differs from the draft in `{}` that was reviewed, so it is not closed:\n{differences}hint: the inputs or settle changed since the draft was written: run `settle run` again, review the new draft, then close it", .folder.display())]
    DraftDiffers {
        period: String,
        folder: PathBuf,
        differences: String,
    },

    #[error("`{}` is a closed month of record, which nothing writes into\nhint: `settle run` on a closed month only checks it against the current inputs", .folder.display())]
    Closed { folder: PathBuf },

    #[error(
        "`--by` is not given and the `USER` environment variable is not set: settle records who closed the month\nhint: name them, for example `--by wang.li`"
    )]
    NoCloser,
}

/// Everything `settle` can fail with, and its exit code.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Dataset(#[from] DatasetError),

    #[error("invalid invocation: {0}")]
    Invocation(String),

    #[error(transparent)]
    Record(#[from] RecordError),

    #[error(transparent)]
    Stage(#[from] crate::shard::stage::StageError),

    #[error("{} row(s) were rejected and `--strict` was given; no outputs were written\n{}", .rejects.len(), list_rejects(.rejects))]
    Strict { rejects: Vec<Reject> },

    #[error("cannot write outputs to `{}`: {source}", .path.display())]
    Output {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("cannot write or read back the scratch file `{}`: {source}\nhint: a month of several batches keeps its statement lines there, beside the output folder, until the statements are written; check that the disk has room", .path.display())]
    Scratch {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// The process exit code the contract assigns to this error (docs/cli.md).
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Dataset(DatasetError::Scratch { .. }) => 1,
            Error::Dataset(_) | Error::Invocation(_) | Error::Record(_) | Error::Stage(_) => 2,
            Error::Strict { .. } => 3,
            Error::Output { .. } | Error::Scratch { .. } | Error::Internal(_) => 1,
        }
    }
}

/// The first rejects, one per line, for the `--strict` error.
fn list_rejects(rejects: &[Reject]) -> String {
    const SHOWN: usize = 20;
    let mut lines: Vec<String> = rejects
        .iter()
        .take(SHOWN)
        .map(|r| format!("  {r}"))
        .collect();
    if rejects.len() > SHOWN {
        lines.push(format!("  … and {} more", rejects.len() - SHOWN));
    }
    lines.push(
        "hint: fix these rows, or run without `--strict` to write them to `rejects.csv`".into(),
    );
    lines.join("\n")
}
