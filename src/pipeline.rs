//! The pipeline: load → check → fold → settle → view → write, in that order and only that order.
//!
//! This is the one place that decides which stage runs when. Each stage is a function of the
//! previous stage's result:
//! - [`Request::new`] checks the invocation at the boundary (the dataset folder, `settle.toml`,
//!   `--period`, `--as-of`, the templates) before any input is read;
//! - [`load`] reads the dataset ([`crate::ingest`]) and applies the cross-table checks
//!   ([`crate::checks`]);
//! - [`fold`] passes every bill line through the month's rules ([`crate::rules::month`]), batch by
//!   batch, writing `consumption.csv` and keeping the statement lines as each batch finishes;
//! - [`settle`] finishes the rules that need the whole month (R3's rollup, R6's list);
//! - [`write`] turns each result into its view ([`crate::view`]), renders it and writes it, the
//!   statements a few partners at a time, the manifest last.
//!
//! Only [`crate::output`] writes into the output folder; the one other writer, [`crate::runs`],
//! keeps scratch files in a folder [`crate::output::Staging`] gives it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::checks;
use crate::config::Settings;
use crate::error::RecordError;
use crate::error::{DatasetError, Error};
use crate::explain;
use crate::ingest::batches::LINES_PER_BATCH;
use crate::ingest::reader::big::Batch;
use crate::ingest::{self, Dataset};
use crate::layout::file_stem;
use crate::manifest::{
    Attribution, CLOSED, Closing, DRAFT, FindingSummary, Ledger, Manifest, OutputEntry, Recorded,
};
use crate::model::basis::Basis;
use crate::model::period::{Month, Period};
use crate::model::records::{Partner, Text, Window};
use crate::model::reject::Reject;
use crate::model::time::parse_timestamp;
use crate::output::{Appending, OutputFile, Staging};
use crate::progress::Progress;
use crate::record;
use crate::render::csv::CsvDoc;
use crate::render::pdf::Font;
use crate::render::template::Templates;
use crate::render::{self, documents, tables};
use crate::restate;
use crate::rules::invoices::{self, Invoice, InvoiceTerms};
use crate::rules::month::{Finished, Inputs, Pass, Results, Tables};
use crate::rules::rebate;
use crate::rules::rollup::Rollup;
use crate::runs::Runs;
use crate::view::bridge::Consoles;
use crate::view::{self, Look, numbers};

/// Statements made and written at once: enough to keep both cores busy, few enough that their
/// lines are a small part of the month's.
const PARTNERS_AT_ONCE: usize = 32;
/// How many findings `reconciliation.csv` formats at a time.
const ROWS_AT_ONCE: usize = 4096;

/// A `settle run` request, as the command line gives it.
#[derive(Clone, Debug)]
pub struct RunConfig {
    pub inputs: PathBuf,
    pub out: PathBuf,
    pub period: Option<Month>,
    pub as_of: Option<String>,
    pub strict: bool,
    /// Where the PDF templates are; `None` uses `templates/` beside the binary if present, else
    /// the built-in ones (never a folder of the working directory).
    pub templates: Option<PathBuf>,
    /// Skip the PDF documents.
    pub no_pdf: bool,
    /// About how many bill lines the rules hold at once: see [`crate::ingest::batches`].
    pub lines_per_batch: u64,
}

/// A `settle close` request: the month's run, and what closing it records (R9).
#[derive(Clone, Debug)]
pub struct CloseConfig {
    pub run: RunConfig,
    /// `YYYY-MM-DD`, checked.
    pub issued_on: String,
    /// `--by`; `None` takes the `USER` environment variable.
    pub by: Option<String>,
    /// Close a month in which no bill line falls.
    pub allow_empty: bool,
}

/// What a finished run reports back.
#[derive(Debug)]
pub struct RunSummary {
    pub folder: PathBuf,
    pub files: usize,
    /// The period is a closed month of record and the current inputs give the same documents:
    /// nothing was written.
    pub unchanged: bool,
    pub rejects: Vec<Reject>,
    pub warnings: Vec<String>,
    /// The reconciliation summary, as `manifest.json` holds it.
    pub reconciliation: Vec<FindingSummary>,
}

/// A request checked at the boundary: nothing downstream checks the invocation again.
pub struct Request {
    /// `settle.toml`, handed to [`load`], which keeps it with the dataset.
    pub settings: Settings,
    /// The month, built once: every stage takes it by reference.
    pub period: Period,
    /// `None` under `--no-pdf`.
    pub templates: Option<Templates>,
}

impl Request {
    /// Checks the dataset folder, `settle.toml`, the month, `--as-of` and the templates, so that
    /// a bad invocation fails before a long read. What it learns on the way (the month, once
    /// the timezone is known) goes into `known`, also when a later check fails.
    pub fn new(cfg: &RunConfig, known: &mut Known) -> Result<Request, Error> {
        if !cfg.inputs.is_dir() {
            return Err(DatasetError::NotAFolder(cfg.inputs.clone()).into());
        }
        let settings = Settings::load(&cfg.inputs)?;
        let tz = settings.timezone;
        // The only wall-clock read: which month "last month" is, when `--period` is not given.
        let month = cfg.period.unwrap_or_else(|| {
            Month::of(chrono::Utc::now().with_timezone(&tz).date_naive()).previous()
        });
        known.period = Some(month);
        let as_of = match cfg.as_of.as_deref() {
            None => None,
            Some(s) => Some(
                parse_timestamp(s, tz)
                    .map_err(|r| Error::Invocation(format!("`--as-of` `{s}`: {r}")))?,
            ),
        };
        let period = Period::new(month, tz).settled(
            settings.rebate_basis,
            settings.rounding,
            as_of,
            settings.base_currency.as_str().into(),
        );
        let templates = if cfg.no_pdf {
            None
        } else {
            Some(Templates::find(cfg.templates.as_deref())?)
        };
        Ok(Request {
            settings,
            period,
            templates,
        })
    }
}

/// What a run knows of itself so far: which dataset and month, and the warnings it has printed.
/// A failed run reports it, so that `--json` and the logs say which month failed.
#[derive(Debug, Default)]
pub struct Known {
    /// The dataset folder's name, known from the invocation.
    pub dataset: Option<String>,
    /// The month, from `--period`, or from the dataset's timezone once `settle.toml` is read.
    pub period: Option<Month>,
    pub warnings: Vec<String>,
}

impl Known {
    /// What the invocation alone says.
    pub fn of(cfg: &RunConfig) -> Known {
        Known {
            dataset: Some(ingest::dataset_name(&cfg.inputs)),
            period: cfg.period,
            warnings: Vec::new(),
        }
    }
}

/// A run that failed, and what it knew by then.
#[derive(Debug)]
pub struct Failure {
    pub error: Error,
    pub known: Known,
}

/// `settle run`: every output of one period, written atomically, as a draft. On a closed month
/// it writes nothing: it says whether the current inputs would change a document of record.
pub fn run(cfg: &RunConfig, progress: &dyn Progress) -> Result<RunSummary, Box<Failure>> {
    let mut known = Known::of(cfg);
    run_known(cfg, None, progress, &mut known).map_err(|error| Box::new(Failure { error, known }))
}

/// `settle close`: the month run again, compared with the reviewed draft, and written in its
/// place as the month of record, sealed (R9).
pub fn close(cfg: &CloseConfig, progress: &dyn Progress) -> Result<RunSummary, Box<Failure>> {
    let mut known = Known::of(&cfg.run);
    run_known(&cfg.run, Some(cfg), progress, &mut known)
        .map_err(|error| Box::new(Failure { error, known }))
}

fn run_known(
    cfg: &RunConfig,
    close: Option<&CloseConfig>,
    progress: &dyn Progress,
    known: &mut Known,
) -> Result<RunSummary, Error> {
    if close.is_some() && cfg.period.is_none() {
        return Err(RecordError::NoPeriod.into());
    }
    let mut request = Request::new(cfg, known)?;
    let month = request.period.month;
    let folder = cfg
        .out
        .join(ingest::dataset_name(&cfg.inputs))
        .join(month.to_string());
    let before = Recorded::read(&folder);
    let target = Over::target(&folder);
    if close.is_some() {
        if request.settings.issuer.is_none() {
            return Err(RecordError::NoIssuer.into());
        }
        // A closed month with no restatement draft: there is nothing to close.
        if target != folder && !target.exists() {
            return Err(RecordError::AlreadyClosed {
                period: month.to_string(),
                folder,
            }
            .into());
        }
        record_to_close(Recorded::read(&target).as_ref(), month, &target)?;
    }
    // A close, or a run on a closed month, judges the invoices as of when the draft did,
    // unless `--as-of` says otherwise.
    let recorded_as_of = before
        .as_ref()
        .filter(|r| close.is_some() || r.is_closed())
        .and_then(|r| r.as_of.clone());
    if let (None, Some(as_of)) = (&cfg.as_of, recorded_as_of) {
        let again = RunConfig {
            as_of: Some(as_of),
            ..cfg.clone()
        };
        request = Request::new(&again, known)?;
    }
    let Request {
        settings,
        period,
        templates,
    } = request;
    let mut data = load(&cfg.inputs, settings, progress)?;
    let staging = Staging::new(&target)?;
    // Read again with the lock held: what is closed stays closed.
    let mut over = Over::of(&folder);
    if let Some(c) = close {
        over.closing = Some(Closing {
            issued_on: c.issued_on.clone(),
            closed_by: closer(c.by.as_deref())?,
            draft_manifest_sha256: record_to_close(
                Recorded::read(&over.target).as_ref(),
                month,
                &over.target,
            )?
            .sha256
            .clone(),
        });
    }
    let (results, streamed) = fold(&mut data, &period, cfg, &staging, progress)?;
    if results.selected.by_currency.is_empty() && close.is_some_and(|c| !c.allow_empty) {
        return Err(RecordError::EmptyMonth {
            period: month.to_string(),
        }
        .into());
    }
    review(&mut data, &results, period.month, cfg.strict, known)?;
    let settled = settle(&data, results, &period);
    finish(
        data, settled, streamed, &period, templates, staging, &over, known, progress,
    )
}

/// Where a run writes, over its period folder (R9): a draft of the month, or, once the month is
/// closed, a draft of its next restatement; closed, with `settle close`.
pub struct Over {
    /// The folder written: the period folder, or the restatement's.
    pub target: PathBuf,
    /// The month is closed: the run writes a restatement, if anything changed.
    pub restating: Option<restate::Chain>,
    /// `settle close`: the draft in `target` becomes of record, if nothing differs from it.
    pub closing: Option<Closing>,
}

impl Over {
    /// What a run writes over the period folder `folder`.
    pub fn of(folder: &Path) -> Over {
        let restating = Recorded::read(folder)
            .filter(Recorded::is_closed)
            .map(|_| restate::Chain::of(folder));
        Over {
            target: restating
                .as_ref()
                .map_or_else(|| folder.to_path_buf(), |c| c.target.clone()),
            restating,
            closing: None,
        }
    }

    /// The folder a run over `folder` writes.
    pub fn target(folder: &Path) -> PathBuf {
        Over::of(folder).target
    }
}

/// The warnings of a month read and folded, and `--strict`'s refusal: for `settle run` and a
/// sharded run's `settle merge`.
pub fn review(
    data: &mut Dataset,
    results: &Results,
    month: Month,
    strict_run: bool,
    known: &mut Known,
) -> Result<(), Error> {
    known.warnings = warnings(data);
    if results.selected.by_currency.is_empty() {
        known.warnings.push(empty_month(month));
    }
    if strict_run {
        strict(data)?;
    }
    if !data.rejects.is_empty() {
        known.warnings.push(format!(
            "{} row(s) rejected; see rejects.csv",
            data.rejects.len()
        ));
    }
    Ok(())
}

/// Writes the period folder from the month's settled results and commits it: the one writer of
/// `settle run`, `settle close` and a sharded run's `settle merge`. Over a closed month it writes
/// the restatement, or nothing when no document changes.
#[allow(clippy::too_many_arguments)]
pub fn finish(
    data: Dataset,
    settled: Settled,
    streamed: Streamed,
    period: &Period,
    templates: Option<Templates>,
    staging: Staging,
    over: &Over,
    known: &mut Known,
    progress: &dyn Progress,
) -> Result<RunSummary, Error> {
    // The font is read once, for the month's documents and a restatement's.
    let font = templates.as_ref().map(Font::new).transpose()?;
    // A restatement's month is written as a draft: the restatement is what is closed.
    let closing = over.closing.as_ref().filter(|_| over.restating.is_none());
    let (files, reconciliation) = write(
        &data,
        settled,
        streamed,
        period,
        templates.as_ref(),
        font.as_ref(),
        closing,
        &staging,
        progress,
    )?;
    let mut unchanged = false;
    if let Some(chain) = &over.restating {
        progress.stage("comparing with the month of record");
        let cx = context(
            &data,
            period,
            templates.as_ref(),
            font.as_ref(),
            over.closing.as_ref(),
        );
        unchanged = !restate::write(
            chain,
            &staging,
            &data.name,
            data.dir(),
            period.month,
            over.closing.as_ref(),
            cx.as_ref(),
        )?;
    }
    if unchanged && over.target.exists() {
        known.warnings.push(format!(
            "`{}` is a restatement draft of an earlier run, which the current inputs no longer give: review it, and remove it if it is not to be closed",
            over.target.display()
        ));
    }
    if over.closing.is_some() {
        progress.stage("comparing with the reviewed draft");
        same_as_draft(&over.target, &staging, period.month)?;
        record::keep_inputs(data.dir(), &staging)?;
        staging.commit_sealed()?;
    } else if !unchanged {
        staging.commit()?;
    }
    Ok(RunSummary {
        reconciliation,
        // Nothing changed: the month as it stands is what the run names.
        folder: match (&over.restating, unchanged) {
            (Some(chain), true) => chain.base.clone(),
            _ => over.target.clone(),
        },
        files,
        unchanged,
        warnings: std::mem::take(&mut known.warnings),
        rejects: data.rejects,
    })
}

/// Checks the month (or restatement) written into `staging` against the reviewed draft in
/// `folder`, for `settle close`: its documents and manifest.
fn same_as_draft(folder: &Path, staging: &Staging, month: Month) -> Result<(), Error> {
    let report = record::differences(folder, staging.folder(), true)?;
    if report.is_empty() {
        return Ok(());
    }
    Err(RecordError::DraftDiffers {
        period: month.to_string(),
        folder: folder.to_path_buf(),
        differences: record::describe(&report),
    }
    .into())
}

/// The draft `settle close` closes: there must be one, and it must not be closed already.
fn record_to_close<'r>(
    record: Option<&'r Recorded>,
    month: Month,
    folder: &Path,
) -> Result<&'r Recorded, RecordError> {
    match record {
        None => Err(RecordError::NoDraft {
            period: month.to_string(),
            folder: folder.to_path_buf(),
        }),
        Some(r) if r.is_closed() => Err(RecordError::AlreadyClosed {
            period: month.to_string(),
            folder: folder.to_path_buf(),
        }),
        Some(r) => Ok(r),
    }
}

/// Who closes the month: `--by`, else the `USER` of the process.
fn closer(by: Option<&str>) -> Result<String, RecordError> {
    by.map(str::to_string)
        .or_else(|| std::env::var("USER").ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .ok_or(RecordError::NoCloser)
}

/// Reads the dataset and applies the cross-table checks: rows they reject join the rejects.
pub fn load(dir: &Path, settings: Settings, progress: &dyn Progress) -> Result<Dataset, Error> {
    let mut data = ingest::load(dir, settings, progress)?;
    checks::apply(&mut data)?;
    Ok(data)
}

/// What the rules hand on as each batch finishes, so that it is never all held: `consumption.csv`,
/// written batch by batch (each batch's rows are sorted by account, and the batches come in
/// account order); the statement lines, in runs; and what both attribute, for the conservation
/// checks.
pub struct Streamed {
    consumption: OutputEntry,
    statement_lines: Runs,
    ledger: Ledger,
    /// The console figures of every account with a partner, for the statements' walks (R10).
    consoles: Consoles,
}

/// The month's rules over every bill line, batch by batch; what reading `bills.csv` found joins
/// the dataset's inputs and rejects. The results are all but the consumption rows and the
/// statement lines, which are handed on as each batch finishes.
fn fold(
    data: &mut Dataset,
    period: &Period,
    cfg: &RunConfig,
    staging: &Staging,
    progress: &dyn Progress,
) -> Result<(Results, Streamed), Error> {
    let mut bills = data.bills(cfg.lines_per_batch)?;
    bills.scatter(|| staging.scratch())?;
    let world = world(data);
    let folded = loop {
        let count = bills.batches().count();
        let mut folding = Folding::new(data, period, staging, count)?;
        for index in 0..count {
            let which = which_batch(index, count, bills.is_again());
            let batch = Batch {
                batches: bills.batches(),
                index,
            };
            progress.stage(&format!("reading usage.csv{which}"));
            let usage = data.usage(batch, progress)?;
            let tables = Tables::new(&world, &usage, period);
            progress.stage(&format!("reading bills.csv and applying the rules{which}"));
            crate::fault::pause("read");
            let pass = bills.fold(index, || Pass::new(&tables), progress)?;
            progress.stage(&format!("finishing the rules{which}"));
            folding.add(pass.finish())?;
        }
        if !bills.again(progress)? {
            break folding.finish()?;
        }
    };
    let (input, rejects) = bills.finish();
    data.add_bills(input, rejects);
    Ok(folded)
}

/// The month's results as its batches of accounts finish, one after another in account order:
/// each batch's consumption rows are written, its statement lines kept as a run, and the rest
/// merged. `settle merge` hands it a sharded run's shards the same way, as batches.
pub struct Folding<'d> {
    look: Look<'d>,
    linked: rustc_hash::FxHashSet<usize>,
    month: Month,
    results: Results,
    file: Appending,
    batches: usize,
    statement_lines: Runs,
    ledger: Ledger,
    consoles: Consoles,
}

impl<'d> Folding<'d> {
    /// Ready for `count` batches.
    pub fn new(
        data: &'d Dataset,
        period: &'d Period,
        staging: &Staging,
        count: usize,
    ) -> Result<Folding<'d>, Error> {
        Ok(Folding {
            look: look(data, period),
            linked: data.links.iter().map(|l| l.account_id.id()).collect(),
            month: period.month,
            results: Results::default(),
            file: staging.create("consumption.csv")?,
            batches: 0,
            statement_lines: Runs::new((count > 1).then(|| staging.scratch()).transpose()?),
            ledger: Ledger::default(),
            consoles: Consoles::new(),
        })
    }

    /// Adds the next batch's results.
    pub fn add(&mut self, finished: Finished) -> Result<(), Error> {
        let basis = self.look.period.basis;
        for c in &finished.consumption {
            let ledger = &mut self.ledger;
            ledger.attributed(&c.currency, Attribution::ConsumptionUsage, c.usage_period);
            ledger.attributed(
                &c.currency,
                Attribution::ConsumptionDeduction,
                c.deduction_period,
            );
        }
        let doc = if self.batches == 0 {
            tables::consumption_doc()
        } else {
            CsvDoc::continued()
        };
        self.batches += 1;
        let linked = &self.linked;
        view::bridge::add_consoles(&mut self.consoles, &finished.consumption, &self.look, |a| {
            linked.contains(&a.id())
        });
        let rows = view::consumption::rows(&finished.consumption, &self.look);
        self.file
            .append(&tables::consumption(doc, &rows, self.month))?;
        for l in &finished.statement_lines {
            self.ledger
                .attributed(&l.currency, Attribution::Statements(basis), l.base);
        }
        self.statement_lines.push(finished.statement_lines)?;
        self.results.merge(finished.results);
        Ok(())
    }

    /// The month's results, and what was handed on.
    pub fn finish(self) -> Result<(Results, Streamed), Error> {
        let streamed = Streamed {
            consumption: self.file.finish()?,
            statement_lines: self.statement_lines,
            ledger: self.ledger,
            consoles: self.consoles,
        };
        Ok((self.results, streamed))
    }
}

/// What a stage message adds to say which batch it is in: nothing for a month of one batch.
fn which_batch(index: usize, count: usize, again: bool) -> String {
    let of = if count > 1 {
        format!(" (batch {} of {count})", index + 1)
    } else {
        String::new()
    };
    let again = if again {
        ", again without the duplicate bill_ids"
    } else {
        ""
    };
    format!("{of}{again}")
}

/// The month's results once the rules that need every line are finished.
pub struct Settled {
    results: Results,
    rollup: Rollup,
    invoices: Vec<Invoice>,
}

/// Finishes R3's rollup (one per batch, put together) and R6's invoice list.
pub fn settle(data: &Dataset, mut results: Results, period: &Period) -> Settled {
    let rollup = Rollup::concat(std::mem::take(&mut results.rollups));
    let invoices = invoices::invoices(
        std::mem::take(&mut results.invoices),
        &world(data).invoice_input(),
        period,
        &InvoiceTerms {
            cod_threshold: data.settings.cod_threshold,
            invoice_due_days: data.settings.invoice_due_days,
        },
    );
    Settled {
        results,
        rollup,
        invoices,
    }
}

/// What the documents are printed with, when there are templates: dated `closing`'s issue date,
/// or a draft.
fn context<'a>(
    data: &'a Dataset,
    period: &'a Period,
    templates: Option<&'a Templates>,
    font: Option<&'a Font>,
    closing: Option<&'a Closing>,
) -> Option<documents::Context<'a>> {
    Some(documents::Context {
        templates: templates?,
        font: font?,
        period,
        issuer: data.settings.issuer.as_ref(),
        issued_on: closing.map(|c| c.issued_on.as_str()),
    })
}

/// Writes every output into `staging`, each as soon as it is made and from its view, the
/// statements a few partners at a time and the manifest last; returns how many files there are
/// and the reconciliation summary.
#[allow(clippy::too_many_arguments)]
fn write(
    data: &Dataset,
    settled: Settled,
    streamed: Streamed,
    period: &Period,
    templates: Option<&Templates>,
    font: Option<&Font>,
    closing: Option<&Closing>,
    staging: &Staging,
    progress: &dyn Progress,
) -> Result<(usize, Vec<FindingSummary>), Error> {
    let look = look(data, period);
    let Settled {
        results,
        rollup,
        invoices,
    } = settled;
    let Streamed {
        consumption,
        mut statement_lines,
        mut ledger,
        consoles,
    } = streamed;
    conserve(&mut ledger, &results, period.basis);
    let pdf = context(data, period, templates, font, closing);
    let mut out = Written {
        staging,
        outputs: vec![consumption],
    };

    progress.stage("writing the CSVs");
    out.write("rejects.csv", tables::rejects(&data.rejects))?;
    let groups = view::rollups::groups(&rollup.lines);
    let masters = view::rollups::masters(&groups, &look);
    out.write(
        "rollups.csv",
        render::rollups::summary(&view::rollups::summary(&groups, &look)),
    )?;
    for m in &masters {
        let path = format!("rollups/{}.csv", file_stem(m.master_id));
        out.write(&path, render::rollups::detail(m))?;
    }
    let invoice_rows = view::invoices::rows(&invoices, &look);
    numbers::unique(invoice_rows.iter().map(|r| {
        (
            r.document_no.as_str(),
            format!("the invoice {}", r.reference),
        )
    }))
    .and_then(|()| {
        numbers::unique(masters.iter().map(|m| {
            (
                m.document_no.as_str(),
                format!("the rollup {}", m.master_id),
            )
        }))
    })
    .map_err(Error::Internal)?;
    out.write("invoices.csv", render::invoices::list(&invoice_rows))?;
    out.write(
        "invoices_summary.csv",
        render::invoices::summary(&view::invoices::summary(&invoice_rows)),
    )?;
    let findings = || view::reconciliation::rows(&results.findings, &look);
    let summary = view::reconciliation::summary(findings());
    let mut csv = staging.create_new("reconciliation.csv")?;
    let mut rows = findings();
    let mut doc = Some(render::reconciliation::findings_doc());
    loop {
        let chunk: Vec<_> = rows.by_ref().take(ROWS_AT_ONCE).collect();
        let last = chunk.len() < ROWS_AT_ONCE;
        let doc = doc.take().unwrap_or_else(CsvDoc::continued);
        csv.append(&render::reconciliation::findings(doc, chunk))?;
        if last {
            break;
        }
    }
    let findings_csv = csv.finish()?;
    let findings_sha256 = findings_csv.sha256.clone();
    out.outputs.push(findings_csv);

    crate::fault::pause("render");
    write_statements(
        data,
        period,
        Lines {
            runs: &mut statement_lines,
            consoles: &consoles,
        },
        &look,
        pdf.as_ref(),
        &mut out,
        progress,
    )?;

    let usage_compared = data
        .inputs
        .iter()
        .any(|i| i.spec.name == ingest::schema::USAGE.name && i.sha256.is_some());
    if let Some(cx) = &pdf {
        progress.stage("rendering PDFs");
        progress.work(masters.len() as u64 + 2);
        let rollups: Vec<OutputEntry> = masters
            .par_iter()
            .map(|m| {
                let path = format!("rollups/{}.pdf", file_stem(m.master_id));
                let entry = write_pdf(staging, &path, |out| documents::rollup(cx, m, out))?;
                progress.advance(1);
                Ok(entry)
            })
            .collect::<Result<_, Error>>()?;
        out.outputs.extend(rollups);
        let (list, report) = rayon::join(
            || {
                write_pdf(staging, "invoices.pdf", |out| {
                    documents::invoices(cx, &invoice_rows, out)
                })
            },
            || {
                let accounts = view::reconciliation::accounts(findings(), documents::TOP_ACCOUNTS);
                let report = documents::Report {
                    usage_compared,
                    kinds: &summary,
                    accounts: &accounts,
                    csv_rows: results.findings.len(),
                    csv_sha256: &findings_sha256,
                };
                write_pdf(staging, "reconciliation.pdf", |out| {
                    documents::reconciliation(cx, &report, findings(), out)
                })
            },
        );
        out.outputs.extend([list?, report?]);
        progress.advance(2);
        progress.stage("writing workbook.xlsx");
        out.write("workbook.xlsx", month_workbook(cx, staging)?)?;
    }
    let summary: Vec<FindingSummary> = summary.iter().map(FindingSummary::from).collect();
    progress.stage("writing manifest.json");
    let count = write_manifest(
        data,
        period,
        out.outputs,
        &ledger,
        &summary,
        templates,
        closing,
        staging,
    )?;
    Ok((count, summary))
}

/// `workbook.xlsx`: a sheet per CSV of the month, read back from the files written.
fn month_workbook(cx: &documents::Context, staging: &Staging) -> Result<Vec<u8>, Error> {
    const SHEETS: [(&str, &str); 8] = [
        ("sheet_statements", "statements.csv"),
        ("sheet_consumption", "consumption.csv"),
        ("sheet_rollups", "rollups.csv"),
        ("sheet_invoices", "invoices.csv"),
        ("sheet_invoices_summary", "invoices_summary.csv"),
        ("sheet_reconciliation", "reconciliation.csv"),
        ("sheet_bridge", "bridge.csv"),
        ("sheet_rejects", "rejects.csv"),
    ];
    let tables = SHEETS
        .iter()
        .map(|&(sheet, file)| {
            Ok(render::workbook::Table {
                sheet,
                file: file.to_string(),
                csv: std::io::BufReader::new(staging.open(file)?),
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    render::workbook::month(cx, tables).map_err(|e| Error::Internal(e.to_string()))
}

/// The outputs written so far, and where they go.
struct Written<'s> {
    staging: &'s Staging,
    outputs: Vec<OutputEntry>,
}

impl Written<'_> {
    fn write(&mut self, path: &str, bytes: Vec<u8>) -> Result<(), Error> {
        let entry = write_file(self.staging, path.to_string(), bytes)?;
        self.outputs.push(entry);
        Ok(())
    }
}

/// Writes a PDF into `staging` as `render` lays it out, page by page.
fn write_pdf(
    staging: &Staging,
    path: &str,
    render: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> Result<OutputEntry, Error> {
    let mut file = staging.create_new(path)?;
    if let Err(e) = render(&mut file) {
        return Err(file.failed(e));
    }
    file.finish()
}

fn write_file(staging: &Staging, path: String, bytes: Vec<u8>) -> Result<OutputEntry, Error> {
    let file = OutputFile::new(path, bytes);
    staging.write(&file)?;
    Ok(file.entry())
}

/// What the statements are made from: the month's statement lines, kept in runs, and the
/// consoles' figures their walks start from.
struct Lines<'s> {
    runs: &'s mut Runs,
    consoles: &'s Consoles,
}

/// R5's settlement, partner by partner: each partner's lines are read back from the runs, settled,
/// turned into its statements' view and written (CSV, and PDF with templates), a few partners at
/// a time; `statements.csv` last, from every statement's summary row.
fn write_statements(
    data: &Dataset,
    period: &Period,
    lines: Lines,
    look: &Look,
    pdf: Option<&documents::Context>,
    out: &mut Written,
    progress: &dyn Progress,
) -> Result<(), Error> {
    progress.stage("writing the statements");
    if pdf.is_some() {
        progress.work(data.partners.len() as u64);
    }
    let partners: Vec<&Partner> = data.partners.values().collect();
    let numbers: Vec<(String, String)> = partners
        .iter()
        .map(|p| {
            let key = [p.partner_id.as_ref()];
            let n = numbers::number(numbers::DocKind::Statement, period.month, &key);
            (n, format!("the statement of {}", p.partner_id))
        })
        .collect();
    numbers::unique(numbers.iter().map(|(n, what)| (n.as_str(), what.clone())))
        .map_err(Error::Internal)?;
    let mut summaries = Vec::with_capacity(partners.len());
    let customers = customers(data, period);
    let mut bridge = Vec::new();
    for chunk in partners.chunks(PARTNERS_AT_ONCE) {
        let statements = chunk
            .iter()
            .map(|p| {
                let lines = lines.runs.take(&p.partner_id)?;
                Ok(rebate::settle(
                    p,
                    lines,
                    period,
                    data.settings.ordinary_invoice_tax_rate,
                ))
            })
            .collect::<Result<Vec<_>, Error>>()?;
        // Each statement's walk from its customers' consoles (R10): printed on its PDF, and
        // each customer's row in `bridge.csv`.
        let walks: Vec<Vec<view::bridge::Walk>> = statements
            .iter()
            .map(|list| {
                list.iter()
                    .map(|s| {
                        let linked = customers.get(&s.partner_id).map_or(&[][..], Vec::as_slice);
                        view::bridge::walk(s, linked, lines.consoles, look)
                    })
                    .collect()
            })
            .collect();
        let files: Vec<Vec<OutputEntry>> = chunk
            .par_iter()
            .zip(&statements)
            .zip(&walks)
            .map(|((partner, list), walks)| {
                let views: Vec<_> = list
                    .iter()
                    .map(|s| {
                        let rate = data.settings.ordinary_invoice_tax_rate;
                        view::statements::statement(s, look, rate)
                    })
                    .collect();
                let stem = file_stem(&partner.partner_id);
                let csv = render::statements::detail(&views);
                let path = format!("statements/{stem}.csv");
                let book = pdf
                    .map(|cx| render::workbook::statement(cx, &csv, &views, walks, &path))
                    .transpose()
                    .map_err(|e| Error::Internal(e.to_string()))?;
                let mut files = vec![write_file(out.staging, path, csv)?];
                if let Some(book) = book {
                    files.push(write_file(
                        out.staging,
                        format!("statements/{stem}.xlsx"),
                        book,
                    )?);
                }
                if let Some(cx) = pdf {
                    files.push(write_pdf(
                        out.staging,
                        &format!("statements/{stem}.pdf"),
                        |file| documents::statement(cx, &partner.partner_id, &views, walks, file),
                    )?);
                    progress.advance(1);
                }
                Ok(files)
            })
            .collect::<Result<_, Error>>()?;
        out.outputs.extend(files.into_iter().flatten());
        for (s, walk) in statements.iter().flatten().zip(walks.into_iter().flatten()) {
            let (partner, currency) = (&s.partner_id, &walk.currency);
            bridge.extend(
                walk.customers
                    .into_iter()
                    .map(|row| (partner.clone(), currency.clone(), row)),
            );
        }
        // statements.csv needs each statement's summary row, not its lines.
        summaries.extend(statements.into_iter().flatten().map(|s| rebate::Statement {
            lines: Vec::new(),
            ..s
        }));
    }
    let rows: Vec<_> = summaries
        .iter()
        .map(|s| view::statements::summary(s, look))
        .collect();
    out.write(
        "statements.csv",
        render::statements::summary(&rows, period.month),
    )?;
    out.write("bridge.csv", tables::bridge(&bridge, look, period.month))
}

/// Each partner's customers in the month: the accounts whose link to it is in force at some
/// time in the month, sorted.
fn customers(data: &Dataset, period: &Period) -> BTreeMap<Text, Vec<Text>> {
    let month = Window {
        from: period.start,
        to: Some(period.end),
    };
    let mut out: BTreeMap<Text, Vec<Text>> = BTreeMap::new();
    for l in data.links.iter().filter(|l| l.window.overlaps(&month)) {
        out.entry(l.partner_id.clone())
            .or_default()
            .push(l.account_id.clone());
    }
    for accounts in out.values_mut() {
        accounts.sort();
        accounts.dedup();
    }
    out
}

/// The source side of the conservation checks, and what no statement attributes: the payable of
/// counted lines whose account had no partner link.
fn conserve(ledger: &mut Ledger, results: &Results, basis: Basis) {
    for (currency, used, deducted) in results.selected.by_currency.values() {
        if let Some(used) = used {
            ledger.source(currency, Basis::Usage, *used);
        }
        if let Some(deducted) = deducted {
            ledger.source(currency, Basis::Deduction, *deducted);
        }
    }
    for (currency, amount) in &results.unlinked {
        ledger.attributed(currency, Attribution::Statements(basis), *amount);
    }
}

/// Writes `manifest.json`, listing `outputs`, and returns how many files the period holds.
#[allow(clippy::too_many_arguments)]
fn write_manifest(
    data: &Dataset,
    period: &Period,
    mut outputs: Vec<OutputEntry>,
    ledger: &Ledger,
    summary: &[FindingSummary],
    templates: Option<&Templates>,
    closing: Option<&Closing>,
    staging: &Staging,
) -> Result<usize, Error> {
    let skewed;
    let ledger = if crate::fault::injected("unbalance") {
        let mut copy = ledger.clone();
        copy.skew();
        skewed = copy;
        &skewed
    } else {
        ledger
    };
    // The run's own proof that no money was lost: acted on, not only printed. The period folder
    // is still staged, so failing here leaves the previous outputs as they were.
    if let Some(imbalance) = ledger.imbalance() {
        return Err(Error::Internal(format!(
            "{imbalance}; no outputs were written\nhint: this is a fault in settle, not in the dataset: report it with the dataset and the command line; the period's previous outputs, if any, are kept"
        )));
    }
    let tz = period.tz;
    outputs.sort_by(|a, b| a.file.cmp(&b.file));
    let count = outputs.len() + 1;
    let manifest = Manifest {
        tool: "settle",
        version: env!("CARGO_PKG_VERSION"),
        dataset: &data.name,
        period: period.month.to_string(),
        period_start: period.start.format_rfc3339(tz),
        period_end: period.end.format_rfc3339(tz),
        as_of: period.as_of.format_rfc3339(tz),
        state: if closing.is_some() { CLOSED } else { DRAFT },
        closing,
        settings: &data.settings,
        accounts_from: data.accounts_from_exports.then_some("exports"),
        inputs: view::inputs::rows(&data.inputs, &data.rejects),
        outputs,
        conservation: ledger.checks(),
        reconciliation: summary,
        templates: templates.map(|t| &t.sha256),
    };
    let mut json = serde_json::to_vec_pretty(&manifest)
        .map_err(|e| Error::Internal(format!("`manifest.json` cannot be made: {e}")))?;
    json.push(b'\n');
    staging.write(&OutputFile::new("manifest.json", json))?;
    Ok(count)
}

/// `settle validate`: the dataset checked, nothing written.
pub fn validate(inputs: &Path, progress: &dyn Progress) -> Result<Dataset, Error> {
    if !inputs.is_dir() {
        return Err(DatasetError::NotAFolder(inputs.to_path_buf()).into());
    }
    let mut data = load(inputs, Settings::load(inputs)?, progress)?;
    let mut bills = data.bills(LINES_PER_BATCH)?;
    loop {
        let count = bills.batches().count();
        for index in 0..count {
            let which = which_batch(index, count, bills.is_again());
            progress.stage(&format!("reading bills.csv{which}"));
            bills.fold(index, || (), progress)?;
        }
        if !bills.again(progress)? {
            break;
        }
    }
    let (input, rejects) = bills.finish();
    data.add_bills(input, rejects);
    Ok(data)
}

/// The names every view of this dataset joins in, and the month.
fn look<'a>(data: &'a Dataset, period: &'a Period) -> Look<'a> {
    Look {
        accounts: &data.accounts,
        partners: &data.partners,
        period,
    }
}

/// The checked tables the rules read.
pub fn world(data: &Dataset) -> Inputs<'_> {
    Inputs {
        known: data.accounts_known(),
        accounts: &data.accounts,
        partners: &data.partners,
        links: &data.links,
        relations: &data.relations,
        rates: &data.rates,
        specials: &data.specials,
        requests: &data.requests,
        // No account's own rate is known when they were taken from the exports.
        own_rates: !data.accounts_from_exports,
        reconcile_tolerance: data.settings.reconcile_tolerance,
    }
}

/// `--strict`, for `run` and `validate`: the dataset's rejects and its folded rows stop the run
/// (exit 3), so that nothing unexpected passes.
pub fn strict(data: &mut Dataset) -> Result<(), Error> {
    let folded = folded_rows(data);
    if folded.is_empty() && data.rejects.is_empty() {
        return Ok(());
    }
    let mut rejects = std::mem::take(&mut data.rejects);
    rejects.extend(folded);
    Err(Error::Strict { rejects })
}

/// Under `--strict`, a row whose quoted cell spans lines is a reject like any other: a stray `"`
/// folds the lines after it into one valid row, and their amounts are lost without a reject.
/// Without `--strict` each stays a warning ([`warnings`]). One reject per kept span, and one for
/// the count of the others.
fn folded_rows(data: &Dataset) -> Vec<Reject> {
    let mut out = Vec::new();
    for i in &data.inputs {
        let lines = &i.lines;
        for s in &lines.spans {
            out.push(Reject {
                file: i.spec.name,
                line: s.line,
                column: s.column.clone(),
                value: String::new(),
                reason: format!(
                    "a quoted cell spans {} lines (to line {}), so they are read as one row; look for a stray `\"`",
                    s.lines,
                    s.line + s.lines - 1
                ),
            });
        }
        let more = lines.spanning_rows - lines.spans.len() as u64;
        if more > 0
            && let Some(last) = lines.spans.last()
        {
            out.push(Reject {
                file: i.spec.name,
                line: last.line,
                column: String::new(),
                value: String::new(),
                reason: format!(
                    "and {more} more row(s) after this one with a quoted cell that spans lines"
                ),
            });
        }
    }
    out
}

/// The warning for a month in which no bill line falls, used or deducted: almost always exports
/// that are missing or stale, which would otherwise publish a zero statement to every partner.
pub fn empty_month(month: Month) -> String {
    format!(
        "no bill line was used or deducted in {month}: every statement is 0; check that the \
         month's bill exports are complete before sending anything"
    )
}

/// One warning when `settle.toml` names no issuer, one when the accounts were taken from the
/// exports, the exports' own (a FOCUS export in a zone other than UTC), one per input file that
/// has columns the contract does not know, then one per row whose quoted cell spans lines.
pub fn warnings(data: &Dataset) -> Vec<String> {
    let from_exports = data.accounts_from_exports.then(|| {
        format!(
            "`accounts.csv` is absent: the {} account(s) the exports name are used, without \
             their own discount rates or invoice title kinds, so no `discount_mismatch` is \
             judged against an account's own rate",
            data.accounts.len()
        )
    });
    let no_issuer = data.settings.issuer.is_none().then(|| {
        "`settle.toml` has no `[issuer]`: the documents say that no issuer is configured, and \
         no partner can be asked for an invoice; add `[issuer]` (docs/inputs.md)"
            .to_string()
    });
    let mut warnings: Vec<String> = no_issuer.into_iter().chain(from_exports).collect();
    if let Some(exports) = &data.exports {
        warnings.extend(exports.warnings(data.settings.timezone));
    }
    warnings.extend(
        data.inputs
            .iter()
            .filter(|i| !i.unknown_columns.is_empty())
            .map(|i| {
                let names: Vec<String> =
                    i.unknown_columns.iter().map(|c| format!("`{c}`")).collect();
                format!(
                    "`{}`: unknown column(s) {} ignored",
                    i.spec.name,
                    names.join(", ")
                )
            }),
    );
    for i in &data.inputs {
        warnings.extend(i.lines.warnings(i.spec.name));
    }
    warnings
}

/// A `settle explain` request, as the command line gives it.
#[derive(Clone, Debug)]
pub struct ExplainConfig {
    pub inputs: PathBuf,
    /// Where the run wrote the period folder, whose `manifest.json` the inputs are checked
    /// against.
    pub out: PathBuf,
    pub period: Option<Month>,
    pub ask: explain::Ask,
}

/// What `settle explain` found: the lines behind the figure, grouped as the document prints them.
pub struct Explained {
    /// What is behind a figure that no bill line is: a marketplace invoice's request.
    pub note: Option<String>,
    pub groups: Vec<explain::Group>,
    pub period: Period,
    /// Whether the bill lines came from `exports/`, whose ids name their file and row.
    pub exports: bool,
}

/// `settle explain`: reads the inputs once, as the run did, checks that they are the ones the
/// period's `manifest.json` was written from, and keeps the bill lines behind the figure asked
/// about.
pub fn explain(cfg: &ExplainConfig, progress: &dyn Progress) -> Result<Explained, Error> {
    let run = RunConfig {
        inputs: cfg.inputs.clone(),
        out: cfg.out.clone(),
        period: cfg.period,
        as_of: None,
        strict: false,
        templates: None,
        no_pdf: true,
        lines_per_batch: LINES_PER_BATCH,
    };
    let Request {
        settings, period, ..
    } = Request::new(&run, &mut Known::of(&run))?;
    let folder = cfg
        .out
        .join(ingest::dataset_name(&cfg.inputs))
        .join(period.month.to_string());
    let manifest: serde_json::Value = std::fs::read(folder.join("manifest.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| {
            Error::Invocation(format!(
                "no run of {} under `{}`: `settle explain` explains the figures a run printed\nhint: run `settle run` for the month first, or pass its `--out`",
                period.month,
                cfg.out.display()
            ))
        })?;
    let question = match &cfg.ask {
        explain::Ask::Figure(q) => q.clone(),
        explain::Ask::Invoice(number) => {
            let list = folder.join("invoices.csv");
            let bytes = std::fs::read(&list).map_err(|source| Error::Output {
                path: list.clone(),
                source,
            })?;
            let found = explain::Invoice::find(&bytes, number).map_err(|e| {
                Error::Invocation(format!("`{}` cannot be read: {e}", list.display()))
            })?;
            explain::Question::Invoice(found.ok_or_else(|| {
                Error::Invocation(format!(
                    "no invoice numbered `{number}` in `{}`\nhint: the numbers are its `document_no` column",
                    list.display()
                ))
            })?)
        }
    };
    let mut data = load(&cfg.inputs, settings, progress)?;
    let world = world(&data);
    let tables = Tables::new(&world, &[], &period);
    // A partner's lines are among its customers' accounts: only those are resolved.
    let accounts: Option<rustc_hash::FxHashSet<usize>> =
        explain::asks_partner(&question).map(|p| {
            data.links
                .iter()
                .filter(|l| &*l.partner_id == p)
                .map(|l| l.account_id.id())
                .collect()
        });
    let mut bills = data.bills(LINES_PER_BATCH)?;
    let kept = loop {
        let mut kept = Vec::new();
        let count = bills.batches().count();
        for index in 0..count {
            progress.stage(&format!(
                "reading bills.csv{}",
                which_batch(index, count, bills.is_again())
            ));
            let collect = bills.fold(
                index,
                || Collect {
                    tables: &tables,
                    question: &question,
                    accounts: accounts.as_ref(),
                    kept: Vec::new(),
                },
                progress,
            )?;
            kept.extend(collect.kept);
        }
        if !bills.again(progress)? {
            break kept;
        }
    };
    let (input, rejects) = bills.finish();
    drop(tables);
    data.add_bills(input, rejects);
    for row in view::inputs::rows(&data.inputs, &data.rejects) {
        let recorded = manifest["inputs"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|i| i["file"] == row.file)
            .and_then(|i| i["sha256"].as_str());
        if recorded != row.sha256.as_deref() {
            return Err(Error::Invocation(format!(
                "`{}` has changed since the run of {} wrote `{}`: the figures there are not this file's\nhint: explain a run of the current inputs: `settle run` the month again first",
                row.file,
                period.month,
                folder.join("manifest.json").display()
            )));
        }
    }
    let note = match &question {
        explain::Question::Invoice(i)
            if i.source == crate::rules::invoices::Source::Marketplace =>
        {
            let request = data.requests.iter().find(|r| *r.request_id == *i.reference);
            Some(match request {
                Some(r) => format!(
                    "{} is the marketplace invoice that provider {} was asked for by request {} \
                     (invoice_requests.csv line {}): {} {}; no bill line is behind it",
                    i.number, r.provider_id, r.request_id, r.line, r.amount, i.currency
                ),
                None => format!(
                    "{} is the marketplace invoice of request {}; no bill line is behind it",
                    i.number, i.reference
                ),
            })
        }
        _ => None,
    };
    let groups = explain::groups(&question, kept, &period);
    Ok(Explained {
        note,
        groups,
        period,
        exports: data.exports.is_some(),
    })
}

/// The fold of `settle explain`: the lines the question is about, and how the month places them.
struct Collect<'t, 'a> {
    tables: &'t Tables<'a>,
    question: &'t explain::Question,
    /// For a partner's statement, its customers' accounts.
    accounts: Option<&'t rustc_hash::FxHashSet<usize>>,
    kept: Vec<explain::Kept>,
}

impl crate::model::fold::Fold for Collect<'_, '_> {
    fn add(&mut self, b: &crate::model::records::BillLine) {
        if self
            .accounts
            .is_some_and(|a| !a.contains(&b.account_id.id()))
            || !explain::fits(self.question, b)
        {
            return;
        }
        let period = self.tables.period;
        let at = period.place(b);
        if let explain::Question::Invoice(invoice) = self.question {
            let account = self.tables.accounts.of(b);
            let rolled_to = (invoice.source == crate::rules::invoices::Source::Hosting)
                .then(|| crate::rules::rollup::Rollup::default().add(b, account, at, period.tz))
                .flatten();
            let on = invoices::on(account, b, at, rolled_to.map(|m| m.id()));
            if invoice.holds(&b.currency, on.into_iter().flatten()) {
                self.kept.push(explain::Kept {
                    bill: b.clone(),
                    at,
                    rate: None,
                });
            }
            return;
        }
        let rate = match explain::asks_partner(self.question) {
            Some(partner) => {
                let Some(r) = self.tables.rates.resolve(b, self.tables.accounts.of(b)) else {
                    return;
                };
                if !period.counted(at) || &**r.partner != partner {
                    return;
                }
                Some((*r.rate, r.source))
            }
            None if at.any() => None,
            None => return,
        };
        self.kept.push(explain::Kept {
            bill: b.clone(),
            at,
            rate,
        });
    }

    fn merge(&mut self, other: Self, lines_before: crate::model::records::Line) {
        self.kept.extend(other.kept.into_iter().map(|mut k| {
            k.bill.line += lines_before;
            k
        }));
    }
}
