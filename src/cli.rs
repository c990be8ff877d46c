//! Command-line arguments, and turning them into a validated request for the pipeline.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::model::period::Month;
use crate::pipeline::RunConfig;
use crate::serve::ServeConfig;

/// Monthly reconciliation and statements for cloud resellers.
///
/// settle reads a dataset folder (the cloud's bill exports, the reseller's usage meter and the
/// partner and account tables) and writes one month of consumption reports, rebate statements,
/// rollups, invoice lists and a reconciliation, as CSV and PDF.
#[derive(Debug, Parser)]
#[command(name = "settle", version, max_term_width = 100)]
#[command(
    after_help = "Exit codes: 0 ok · 1 internal error · 2 bad invocation or unusable dataset · \
3 rows rejected under --strict"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Compute one month and write every output to OUT/<dataset>/<period>/, as a draft
    Run(RunArgs),
    /// Close a reviewed draft: run the month again, refuse if anything differs, and write the
    /// month of record in its place, read-only from then on
    Close(CloseArgs),
    /// Check a dataset and report rejected rows; writes nothing
    Validate(ValidateArgs),
    /// Generate a synthetic dataset for benchmarks (deterministic for a given seed)
    Gen(GenArgs),
    /// Serve the settled periods under OUT to finance staff and partners, each within their scope
    Serve(ServeArgs),
    /// Compare two period folders: rows added, removed and changed per document, and the money
    /// moved per currency; exit 0 when they are the same, 1 when they differ
    Diff(DiffArgs),
    /// Print the bill lines behind a statement's lines (--partner) or a consumption row
    /// (--account with --product), with their exact sum and its rounding
    Explain(ExplainArgs),
    /// Manage the portal's users file
    Users(UsersArgs),
    /// Read a month's inputs once and write its bill lines by account under STAGE, for N shards
    /// of `settle run --shard` on many machines and `settle merge`; with --part K/M, only the
    /// K-th of M groups of the bill files, so that the split too runs on many machines
    Split(SplitArgs),
    /// Put a split month's settled shards together and write OUT/<dataset>/<period>/, the same
    /// bytes as `settle run`
    Merge(MergeArgs),
}

#[derive(Debug, Args)]
pub struct SplitArgs {
    /// The dataset folder; every shard and the merge read it again at this absolute path
    #[arg(long, value_name = "DIR")]
    pub inputs: PathBuf,

    /// The month to compute, `YYYY-MM`
    #[arg(long, value_name = "YYYY-MM", value_parser = parse_month)]
    pub period: Month,

    /// How many shards to cut the accounts into
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub shards: u16,

    /// The stage folder the shards and the merge share
    #[arg(long, value_name = "STAGE")]
    pub out: PathBuf,

    /// When invoice statuses are judged, as for `settle run` [default: the end of the period]
    #[arg(long, value_name = "TIMESTAMP")]
    pub as_of: Option<String>,

    /// Read only group K (from 0) of M groups of the bill files: the export files dealt into M
    /// groups of about as many bytes; a `bills.csv` is one group, read by part 0. Run every K
    /// from 0 to M - 1, with the same other flags, into the same STAGE [default: 0/1]
    #[arg(long, value_name = "K/M", value_parser = crate::shard::parse_part)]
    pub part: Option<crate::shard::PartOf>,
}

impl SplitArgs {
    pub fn into_config(self) -> crate::shard::SplitConfig {
        crate::shard::SplitConfig {
            inputs: self.inputs,
            period: self.period,
            as_of: self.as_of,
            shards: usize::from(self.shards),
            part: self
                .part
                .unwrap_or(crate::shard::PartOf { index: 0, count: 1 }),
            lines_per_batch: crate::ingest::batches::LINES_PER_BATCH,
            out: self.out,
        }
    }
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The stage folder `settle split` wrote and every shard settled into
    #[arg(long, value_name = "STAGE")]
    pub stage: PathBuf,

    /// Where to write: outputs go to OUT/<dataset>/<period>/
    #[arg(long, value_name = "OUT", default_value = "outputs")]
    pub out: PathBuf,

    /// The PDF templates folder, as for `settle run`
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,

    /// Write the CSV outputs only, without the PDF documents
    #[arg(long)]
    pub no_pdf: bool,
}

impl MergeArgs {
    pub fn into_config(self) -> crate::shard::MergeConfig {
        crate::shard::MergeConfig {
            stage: self.stage,
            out: self.out,
            templates: self.templates,
            no_pdf: self.no_pdf,
        }
    }
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The dataset folder the run read
    #[arg(long, value_name = "DIR")]
    pub inputs: PathBuf,

    /// The month, `YYYY-MM` [default: the previous month in the dataset's timezone]
    #[arg(long, value_name = "YYYY-MM", value_parser = parse_month)]
    pub period: Option<Month>,

    /// Where the run wrote: its `manifest.json` names the inputs' SHA-256, checked first
    #[arg(long, value_name = "OUT", default_value = "outputs")]
    pub out: PathBuf,

    /// A partner: the lines behind each of its statement lines
    #[arg(long, value_name = "ID")]
    pub partner: Option<String>,

    /// An account: with --partner, only its statement lines; with --product alone, the lines
    /// behind its consumption row, split into the walk's steps
    #[arg(long, value_name = "ID")]
    pub account: Option<String>,

    /// A product: narrows --partner, or with --account names the consumption row
    #[arg(long, value_name = "PRODUCT")]
    pub product: Option<String>,

    /// A currency: narrows --partner
    #[arg(long, value_name = "CODE", requires = "partner")]
    pub currency: Option<String>,

    /// An invoice-list entry by its number (`invoices.csv`'s `document_no`): the lines on it
    #[arg(long, value_name = "NUMBER", conflicts_with_all = ["partner", "account", "product"])]
    pub invoice: Option<String>,

    /// `text` for a person, `csv` for a spreadsheet: one row per bill line
    #[arg(long, value_name = "FORMAT", default_value = "text", value_parser = ["text", "csv"])]
    pub format: String,
}

impl ExplainArgs {
    /// The request, once the question is one settle can answer.
    pub fn into_config(self) -> Result<crate::pipeline::ExplainConfig, String> {
        use crate::explain::{Ask, Question};
        if let Some(number) = self.invoice {
            return Ok(crate::pipeline::ExplainConfig {
                inputs: self.inputs,
                out: self.out,
                period: self.period,
                ask: Ask::Invoice(number),
            });
        }
        let question = match (self.partner, self.account, self.product) {
            (Some(partner), account, product) => Question::Partner {
                partner,
                account,
                product,
                currency: self.currency,
            },
            (None, Some(account), Some(product)) => Question::Consumption { account, product },
            _ => {
                return Err(
                    "say which figure: `--partner P` for a statement, `--account A \
                            --product X` for a consumption row, or `--invoice NUMBER` for an invoice"
                        .into(),
                );
            }
        };
        Ok(crate::pipeline::ExplainConfig {
            inputs: self.inputs,
            out: self.out,
            period: self.period,
            ask: Ask::Figure(question),
        })
    }
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The first period folder, e.g. the month of record `outputs/demo/2026-10`
    #[arg(value_name = "A")]
    pub a: PathBuf,

    /// The second period folder, e.g. a restatement or another version's run
    #[arg(value_name = "B")]
    pub b: PathBuf,

    /// `text` for a person, `csv` for a spreadsheet: one row per changed cell
    #[arg(long, value_name = "FORMAT", default_value = "text", value_parser = ["text", "csv"])]
    pub format: String,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The folder `settle run --out` writes to: periods are served from OUT/<dataset>/<period>/
    #[arg(long, value_name = "OUT", default_value = "outputs")]
    pub out: PathBuf,

    /// The users file (TOML): who may sign in, with which scope
    #[arg(long, value_name = "FILE")]
    pub users: PathBuf,

    /// The address to listen on; port 0 picks a free port
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,

    /// Where to append the audit log of downloads and refusals [default: `audit.jsonl` beside
    /// the users file]
    #[arg(long, value_name = "FILE")]
    pub audit: Option<PathBuf>,

    /// Where to keep what partners answer (confirmations and disputes of their statements), as
    /// `DIR/responses/<dataset>/<period>.jsonl`, a folder the server may write (not OUT, whose
    /// months of record are read-only) [default: the audit log's folder]
    #[arg(long, value_name = "DIR")]
    pub state: Option<PathBuf>,

    /// Close a connection that has not sent a whole request head within SECONDS (a decimal, at
    /// least 0.1)
    #[arg(long, value_name = "SECONDS", default_value = "30", value_parser = seconds)]
    pub header_timeout: Duration,
}

/// `--header-timeout`: seconds, a decimal of 0.1 or more.
fn seconds(text: &str) -> Result<Duration, String> {
    match text.parse::<f64>() {
        Ok(s) if s.is_finite() && (0.1..=86_400.0).contains(&s) => Ok(Duration::from_secs_f64(s)),
        _ => Err(format!(
            "`{text}` is not a number of seconds from 0.1 to 86400\nhint: for example `--header-timeout 30`"
        )),
    }
}

impl ServeArgs {
    pub fn into_config(self) -> ServeConfig {
        ServeConfig {
            out: self.out,
            users: self.users,
            bind: self.bind,
            audit: self.audit,
            state: self.state,
            header_timeout: self.header_timeout,
        }
    }
}

#[derive(Debug, Args)]
pub struct UsersArgs {
    #[command(subcommand)]
    pub command: UsersCommand,
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Add a user with a new API token, printed once on stdout; only its SHA-256 is stored
    Add(UsersAddArgs),
    /// Remove a user; a running portal refuses their token and session at once
    Remove(UsersNameArgs),
    /// Set or replace a user's password for the browser login, read from the first line of stdin
    Passwd(UsersNameArgs),
    /// List the users: name, scope and whether they have a password (never a secret)
    List(UsersListArgs),
}

#[derive(Debug, Args)]
pub struct UsersNameArgs {
    /// The user's name
    #[arg(value_name = "NAME")]
    pub name: String,

    /// The users file
    #[arg(long, value_name = "FILE")]
    pub users: PathBuf,
}

#[derive(Debug, Args)]
pub struct UsersListArgs {
    /// The users file
    #[arg(long, value_name = "FILE")]
    pub users: PathBuf,
}

#[derive(Debug, Args)]
pub struct UsersAddArgs {
    /// The user's name (also their login name)
    #[arg(value_name = "NAME")]
    pub name: String,

    /// `finance`, `partner:<partner_id>` or `master:<account_id>`
    #[arg(long, value_name = "SCOPE")]
    pub scope: String,

    /// The users file; created if missing
    #[arg(long, value_name = "FILE")]
    pub users: PathBuf,

    /// Also set a password for the browser login, read from the first line of stdin
    #[arg(long)]
    pub password_stdin: bool,
}

#[derive(Debug, Args)]
pub struct GenArgs {
    /// Bill lines to generate
    #[arg(long, default_value_t = 1_000_000)]
    pub lines: u64,
    /// Customer accounts
    #[arg(long, default_value_t = 10_000)]
    pub accounts: u64,
    /// Partners
    #[arg(long, default_value_t = 50)]
    pub partners: u64,
    /// Random seed
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// The share of metered resources (one bill line in ten, hourly) whose bill disagrees with
    /// the meter, from 0 to 1: each such line is an `amount_mismatch` finding. 0.96 makes about
    /// 8% of the lines give a finding
    #[arg(long, default_value_t = 0.001, value_parser = share)]
    pub mismatch: f64,
    /// The folder to write the dataset into
    #[arg(value_name = "OUT")]
    pub out: PathBuf,
}

/// A share from 0 to 1, for `gen --mismatch`.
fn share(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(v) if (0.0..=1.0).contains(&v) => Ok(v),
        _ => Err(format!(
            "`{text}` is not a share from 0 to 1\nhint: write it as a decimal, e.g. `0.08` for 8%"
        )),
    }
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The dataset folder, holding `bills.csv`, `accounts.csv`, … and `settle.toml`
    #[arg(long, value_name = "DIR", required_unless_present = "shard")]
    pub inputs: Option<PathBuf>,

    /// Settle shard I (from 0) of a month split into N (`settle split`), writing its exact
    /// results into --stage for `settle merge`; no documents
    #[arg(long, value_name = "I/N", requires = "stage", conflicts_with_all = ["inputs", "period", "as_of", "strict", "json"])]
    pub shard: Option<crate::shard::ShardOf>,

    /// The stage folder of --shard
    #[arg(long, value_name = "STAGE", requires = "shard")]
    pub stage: Option<PathBuf>,

    /// The month to compute, `YYYY-MM` [default: the previous month in the dataset's timezone]
    #[arg(long, value_name = "YYYY-MM", value_parser = parse_month)]
    pub period: Option<Month>,

    /// Where to write: outputs go to OUT/<dataset>/<period>/
    #[arg(long, value_name = "OUT", default_value = "outputs")]
    pub out: PathBuf,

    /// When invoice statuses are judged: `YYYY-MM-DD HH:MM:SS`, `YYYY-MM-DD` or RFC 3339
    /// [default: the end of the period]
    #[arg(long, value_name = "TIMESTAMP")]
    pub as_of: Option<String>,

    /// Fail with exit code 3, writing nothing, if any row is rejected
    #[arg(long)]
    pub strict: bool,

    /// The PDF templates folder (layout, labels, font); the issuer is `settle.toml [issuer]`
    /// [default: `templates/` beside the binary if present, else the built-in templates]
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,

    /// Write the CSV outputs only, without the documents (PDFs and Excel workbooks)
    #[arg(long)]
    pub no_pdf: bool,

    /// Print one JSON summary of the run on stdout when it ends, also when it fails: exit code,
    /// period, rows per input, findings, outputs with their SHA-256, elapsed time
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct CloseArgs {
    #[command(flatten)]
    pub run: RunArgs,

    /// The date the documents are issued on, `YYYY-MM-DD`: printed on every page, recorded in
    /// `manifest.json`
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    pub issued_on: String,

    /// Who closes the month, recorded in `manifest.json` [default: the `USER` environment
    /// variable]
    #[arg(long, value_name = "NAME")]
    pub by: Option<String>,

    /// Close a month in which no bill line falls (refused without it)
    #[arg(long)]
    pub allow_empty: bool,
}

impl CloseArgs {
    pub fn into_config(self) -> crate::pipeline::CloseConfig {
        crate::pipeline::CloseConfig {
            run: self.run.into_config(),
            issued_on: self.issued_on,
            by: self.by,
            allow_empty: self.allow_empty,
        }
    }
}

/// `--issued-on`: a calendar date, written back as `YYYY-MM-DD`.
fn parse_date(s: &str) -> Result<String, String> {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map(|d| d.format("%Y-%m-%d").to_string())
        .map_err(|_| {
            format!("`{s}` is not a date `YYYY-MM-DD`\nhint: for example `--issued-on 2026-11-05`")
        })
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The dataset folder
    #[arg(long, value_name = "DIR")]
    pub inputs: PathBuf,

    /// Exit with code 3 if any row is rejected
    #[arg(long)]
    pub strict: bool,
}

fn parse_month(s: &str) -> Result<Month, String> {
    s.parse()
}

impl RunArgs {
    pub fn into_config(self) -> RunConfig {
        RunConfig {
            // Present unless `--shard` is, which does not make a `RunConfig`.
            inputs: self.inputs.unwrap_or_default(),
            out: self.out,
            period: self.period,
            as_of: self.as_of,
            strict: self.strict,
            templates: self.templates,
            no_pdf: self.no_pdf,
            lines_per_batch: crate::ingest::batches::LINES_PER_BATCH,
        }
    }
}
