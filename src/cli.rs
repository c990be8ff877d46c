//! Command-line arguments, and turning them into a validated request for the pipeline.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::model::period::Month;
use crate::pipeline::RunConfig;

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
    /// Compute one month and write every output to OUT/<dataset>/<period>/
    Run(RunArgs),
    /// Check a dataset and report rejected rows; writes nothing
    Validate(ValidateArgs),
    /// Generate a synthetic dataset for benchmarks (deterministic for a given seed)
    Gen(GenArgs),
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
    #[arg(long, value_name = "DIR")]
    pub inputs: PathBuf,

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

    /// The PDF templates folder (layout, labels, company block, font)
    /// [default: ./templates if present, else the built-in templates]
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,

    /// Write the CSV outputs only, without the PDF documents
    #[arg(long)]
    pub no_pdf: bool,
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
            inputs: self.inputs,
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
