//! The pipeline: ingest → periods → rules → render → output, in that order and only that order.
//!
//! This is the one place that decides which stage runs when. Each stage is a function of the
//! previous stage's result. Only [`crate::output`] writes into the output folder; the one other
//! writer, [`crate::runs`], keeps scratch files in a folder [`crate::output::Staging`] gives it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::checks;
use crate::config::RebateBasis;
use crate::error::Error;
use crate::ingest::batches::LINES_PER_BATCH;
use crate::ingest::big::Batch;
use crate::ingest::{self, Dataset, Reject};
use crate::manifest::{self, Ledger, Manifest};
use crate::model::period::{Month, Period};
use crate::model::records::{Account, Partner, Text, UsageRecord};
use crate::model::time::{Timestamp, parse_timestamp};
use crate::output::{OutputFile, Staging};
use crate::progress::Progress;
use crate::render::csv::CsvDoc;
use crate::render::pdf::Font;
use crate::render::rollups::DetailRow;
use crate::render::template::Templates;
use crate::render::{self, documents, statements::file_stem, tables};
use crate::rules::invoices::{self, InvoiceInput, InvoiceTerms, Issuers};
use crate::rules::month::{Pass, Results, Tables};
use crate::rules::rebate::{self, Rates, RebateInput, SettleTerms, Statement};
use crate::rules::reconcile::Meter;
use crate::rules::relations::Discounts;
use crate::rules::rollup::{Hosting, Rollup};
use crate::runs::Runs;
use rayon::prelude::*;

/// Statements made and written at once: enough to keep both cores busy, few enough that their
/// lines are a small part of the month's.
const PARTNERS_AT_ONCE: usize = 32;

/// One PDF to render besides the statements.
enum PdfJob<'a> {
    Rollup(&'a str, &'a [DetailRow<'a>]),
    Invoices,
    Reconciliation,
}

/// A validated `settle run` request.
#[derive(Clone, Debug)]
pub struct RunConfig {
    pub inputs: PathBuf,
    pub out: PathBuf,
    pub period: Option<Month>,
    pub as_of: Option<String>,
    pub strict: bool,
    /// Where the PDF templates are; `None` uses `./templates` if present, else the built-in ones.
    pub templates: Option<PathBuf>,
    /// Skip the PDF documents.
    pub no_pdf: bool,
    /// About how many bill lines the rules hold at once: see [`crate::ingest::batches`].
    pub lines_per_batch: u64,
}

/// What a finished run reports back.
#[derive(Debug)]
pub struct RunSummary {
    pub folder: PathBuf,
    pub files: usize,
    pub rejects: Vec<Reject>,
    pub warnings: Vec<String>,
    /// The reconciliation summary, as `manifest.json` holds it.
    pub reconciliation: Vec<manifest::FindingSummary>,
}

/// The month to run and the instant statuses are judged at.
pub struct Clock {
    pub period: Period,
    pub as_of: Timestamp,
}

impl Clock {
    pub fn resolve(
        data: &Dataset,
        month: Option<Month>,
        as_of: Option<&str>,
    ) -> Result<Clock, Error> {
        let tz = data.settings.timezone;
        // The only wall-clock read: which month "last month" is, when `--period` is not given.
        let month = month.unwrap_or_else(|| {
            Month::of(chrono::Utc::now().with_timezone(&tz).date_naive()).previous()
        });
        let period = Period::new(month, tz);
        let as_of = match as_of {
            None => period.end,
            Some(s) => parse_timestamp(s, tz)
                .map_err(|r| Error::Invocation(format!("`--as-of` `{s}`: {r}")))?,
        };
        Ok(Clock { period, as_of })
    }
}

/// `settle run`: every output of one period, written atomically.
pub fn run(cfg: &RunConfig, progress: &dyn Progress) -> Result<RunSummary, Error> {
    // Templates first, so that a bad one fails before a long read.
    let templates = if cfg.no_pdf {
        None
    } else {
        let default = Path::new("templates");
        let dir = cfg
            .templates
            .as_deref()
            .or(default.join("layout.toml").is_file().then_some(default));
        Some(Templates::load(dir)?)
    };
    let mut data = ingest::load(&cfg.inputs, progress)?;
    checks::apply(&mut data)?;
    let clock = Clock::resolve(&data, cfg.period, cfg.as_of.as_deref())?;
    let folder = cfg
        .out
        .join(&data.name)
        .join(clock.period.month.to_string());
    let staging = Staging::new(&folder)?;
    let (month, streamed) = apply_rules(
        &mut data,
        &clock.period,
        cfg.lines_per_batch,
        &staging,
        progress,
    )?;
    if cfg.strict && !data.rejects.is_empty() {
        return Err(Error::Strict {
            rejects: data.rejects,
        });
    }
    let (files, reconciliation) = render_all(
        &data,
        month,
        streamed,
        &clock,
        templates.as_ref(),
        &staging,
        progress,
    )?;
    staging.commit()?;
    Ok(RunSummary {
        reconciliation,
        folder,
        files,
        warnings: warnings(&data),
        rejects: data.rejects,
    })
}

/// What the rules hand on as each batch finishes, so that it is never all held: `consumption.csv`,
/// written batch by batch (each batch's rows are sorted by account, and the batches come in
/// account order); the statement lines, in runs; and what both attribute, for the conservation
/// checks.
pub struct Streamed {
    consumption: manifest::OutputEntry,
    statement_lines: Runs,
    ledger: Ledger,
}

/// The month's rules over every bill line, batch by batch; what reading `bills.csv` found joins
/// the dataset's inputs and rejects. The results are all but the consumption rows and the
/// statement lines, which are handed on as each batch finishes.
fn apply_rules(
    data: &mut Dataset,
    period: &Period,
    lines_per_batch: u64,
    staging: &Staging,
    progress: &dyn Progress,
) -> Result<(Results, Streamed), Error> {
    let mut bills = data.bills(lines_per_batch)?;
    let basis = match data.settings.rebate_basis {
        RebateBasis::Usage => "usage_period",
        RebateBasis::Deduction => "deduction_period",
    };
    let (month, file, statement_lines, ledger) = loop {
        let mut month = Results::default();
        let mut file = staging.create("consumption.csv")?;
        let count = bills.batches().count();
        let mut statement_lines = Runs::new((count > 1).then(|| staging.scratch()).transpose()?);
        let mut ledger = Ledger::default();
        for index in 0..count {
            let which = which_batch(index, count, bills.is_again());
            let batch = Batch {
                batches: bills.batches(),
                index,
            };
            progress.stage(&format!("reading usage.csv{which}"));
            let usage = data.usage(batch, progress)?;
            let tables = tables(data, &usage, period);
            progress.stage(&format!("reading bills.csv and applying the rules{which}"));
            let pass = bills.fold(index, || Pass::new(&tables), progress)?;
            progress.stage(&format!("finishing the rules{which}"));
            let finished = pass.finish();
            for c in &finished.consumption {
                ledger.attributed(
                    &c.currency,
                    "usage_period",
                    "consumption.usage_period",
                    c.usage_period,
                );
                ledger.attributed(
                    &c.currency,
                    "deduction_period",
                    "consumption.deduction_period",
                    c.deduction_period,
                );
            }
            let doc = if index == 0 {
                tables::consumption_doc()
            } else {
                CsvDoc::continued()
            };
            file.write(&tables::consumption(
                doc,
                &finished.consumption,
                period.month,
                data,
            ))?;
            for l in &finished.statement_lines {
                ledger.attributed(&l.currency, basis, "statements", l.base);
            }
            statement_lines.push(finished.statement_lines)?;
            month.merge(finished.results);
        }
        if !bills.again(progress)? {
            break (month, file, statement_lines, ledger);
        }
    };
    let (input, rejects) = bills.finish();
    data.add_bills(input, rejects);
    let streamed = Streamed {
        consumption: file.finish()?,
        statement_lines,
        ledger,
    };
    Ok((month, streamed))
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

/// `settle validate`: the dataset checked, nothing written.
pub fn validate(inputs: &Path, progress: &dyn Progress) -> Result<Dataset, Error> {
    let mut data = ingest::load(inputs, progress)?;
    checks::apply(&mut data)?;
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

fn invoice_input(data: &Dataset) -> InvoiceInput<'_> {
    InvoiceInput {
        accounts: &data.accounts,
        links: &data.links,
        relations: &data.relations,
        requests: &data.requests,
    }
}

/// Indexes the checked tables, and one batch's `usage`, for the pass over its bill lines.
fn tables<'a>(data: &'a Dataset, usage: &'a [UsageRecord], period: &Period) -> Tables<'a> {
    let tz = data.settings.timezone;
    Tables {
        period: *period,
        rates: Rates::new(
            &RebateInput {
                links: &data.links,
                partners: &data.partners,
                rates: &data.rates,
                specials: &data.specials,
            },
            period,
            data.settings.rebate_basis,
        ),
        hosting: Hosting::new(&data.relations, &data.accounts, period, tz),
        issuers: Issuers::new(&invoice_input(data), period),
        meter: Meter::new(
            usage,
            Discounts::new(&data.relations, own_terms(data)),
            period,
            data.settings.reconcile_tolerance,
        ),
    }
}

/// The accounts whose own discount rate is known: none when they were taken from the exports,
/// so that no line is expected at a rate nobody gave.
fn own_terms(data: &Dataset) -> &BTreeMap<Text, Account> {
    static UNKNOWN: BTreeMap<Text, Account> = BTreeMap::new();
    if data.accounts_from_exports {
        &UNKNOWN
    } else {
        &data.accounts
    }
}

/// One warning per input file that has columns SPEC does not know, and one when the accounts
/// were taken from the exports.
pub fn warnings(data: &Dataset) -> Vec<String> {
    let from_exports = data.accounts_from_exports.then(|| {
        format!(
            "`accounts.csv` is absent: the {} account(s) the exports name are used, without \
             their own discount rates or invoice title kinds, so no `discount_mismatch` is \
             judged against an account's own rate",
            data.accounts.len()
        )
    });
    from_exports
        .into_iter()
        .chain(
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
        )
        .collect()
}

/// Renders the month's results into every output file in `staging`, the manifest last, and
/// returns how many there are. PDFs are rendered, in parallel, when `templates` are given. Each
/// file is written as soon as it is made, and the statements are made a few partners at a time.
fn render_all(
    data: &Dataset,
    month: Results,
    streamed: Streamed,
    clock: &Clock,
    templates: Option<&Templates>,
    staging: &Staging,
    progress: &dyn Progress,
) -> Result<(usize, Vec<manifest::FindingSummary>), Error> {
    let tz = data.settings.timezone;
    let period = &clock.period;
    let Results {
        selected,
        unlinked,
        rollups,
        invoices,
        findings,
    } = month;
    let Streamed {
        consumption,
        mut statement_lines,
        mut ledger,
    } = streamed;
    for (currency, used, deducted) in selected.by_currency.values() {
        if let Some(used) = used {
            ledger.source(currency, "usage_period", *used);
        }
        if let Some(deducted) = deducted {
            ledger.source(currency, "deduction_period", *deducted);
        }
    }
    let basis = match data.settings.rebate_basis {
        RebateBasis::Usage => "usage_period",
        RebateBasis::Deduction => "deduction_period",
    };
    for (currency, amount) in &unlinked {
        ledger.attributed(currency, basis, "statements", *amount);
    }
    let invoices = invoices::invoices(
        invoices,
        &invoice_input(data),
        period,
        clock.as_of,
        &InvoiceTerms {
            rounding: data.settings.rounding,
            cod_threshold: data.settings.cod_threshold,
            invoice_due_days: data.settings.invoice_due_days,
            base_currency: data.settings.base_currency.as_str().into(),
            tz,
        },
    );
    let font = templates.map(Font::new).transpose()?;
    let pdf = templates
        .zip(font.as_ref())
        .map(|(templates, font)| documents::Context {
            templates,
            font,
            data,
            month: period.month,
            as_of: clock.as_of,
        });

    progress.stage("writing the CSVs");
    // Each CSV goes to disk as soon as it is made, so that no two are held at once.
    let mut outputs: Vec<manifest::OutputEntry> = vec![consumption];
    let mut write = |path: String, bytes: Vec<u8>| -> Result<(), Error> {
        let file = OutputFile::new(path, bytes);
        staging.write(&file)?;
        outputs.push(file.entry());
        Ok(())
    };
    write("rejects.csv".into(), tables::rejects(&data.rejects))?;
    let rollup = Rollup::concat(rollups);
    let rollup_groups = render::rollups::groups(&rollup.lines);
    write(
        "rollups.csv".into(),
        render::rollups::summary(&rollup_groups, data),
    )?;
    write("invoices.csv".into(), render::invoices::list(&invoices, tz))?;
    write(
        "reconciliation.csv".into(),
        render::reconciliation::findings(&findings, data.settings.rounding, tz),
    )?;
    write(
        "invoices_summary.csv".into(),
        render::invoices::summary(&invoices),
    )?;
    let mut by_master: BTreeMap<&str, Vec<&render::rollups::Group>> = BTreeMap::new();
    for g in &rollup_groups {
        by_master.entry(g.master_id).or_default().push(g);
    }
    let rollup_rows: Vec<(&str, Vec<DetailRow>)> = by_master
        .into_iter()
        .map(|(master, groups)| (master, render::rollups::detail_rows(&groups, data)))
        .collect();
    for (master, rows) in &rollup_rows {
        write(
            format!("rollups/{}.csv", file_stem(master)),
            render::rollups::detail(rows),
        )?;
    }

    progress.stage("writing the statements");
    if pdf.is_some() {
        progress.work(data.partners.len() as u64);
    }
    let terms = SettleTerms {
        rounding: data.settings.rounding,
        ordinary_invoice_tax_rate: data.settings.ordinary_invoice_tax_rate,
        base_currency: data.settings.base_currency.as_str().into(),
    };
    let partners: Vec<&Partner> = data.partners.values().collect();
    let mut settled: Vec<Statement> = Vec::with_capacity(partners.len());
    for chunk in partners.chunks(PARTNERS_AT_ONCE) {
        let mut statements = Vec::with_capacity(chunk.len());
        for partner in chunk {
            let lines = statement_lines.take(&partner.partner_id)?;
            statements.push(rebate::settle(partner, lines, &terms));
        }
        let files: Vec<Vec<manifest::OutputEntry>> = chunk
            .par_iter()
            .zip(&statements)
            .map(|(partner, list)| {
                let list: Vec<&Statement> = list.iter().collect();
                let id = &partner.partner_id;
                let mut files = vec![OutputFile::new(
                    format!("statements/{}.csv", file_stem(id)),
                    render::statements::detail(&list, data),
                )];
                if let Some(cx) = &pdf {
                    files.push(OutputFile::new(
                        format!("statements/{}.pdf", file_stem(id)),
                        documents::statement(cx, id, &list),
                    ));
                    progress.advance(1);
                }
                files
                    .iter()
                    .map(|f| staging.write(f).map(|()| f.entry()))
                    .collect()
            })
            .collect::<Result<_, Error>>()?;
        outputs.extend(files.into_iter().flatten());
        // statements.csv needs each statement's totals, not its lines.
        settled.extend(statements.into_iter().flatten().map(|s| Statement {
            lines: Vec::new(),
            ..s
        }));
    }
    outputs.push({
        let file = OutputFile::new(
            "statements.csv",
            render::statements::summary(&settled, period.month, data),
        );
        staging.write(&file)?;
        file.entry()
    });

    if let Some(cx) = &pdf {
        progress.stage("rendering PDFs");
        let jobs: Vec<PdfJob> = rollup_rows
            .iter()
            .map(|(m, rows)| PdfJob::Rollup(m, rows))
            .chain([PdfJob::Invoices, PdfJob::Reconciliation])
            .collect();
        progress.work(jobs.len() as u64);
        let pdfs: Vec<manifest::OutputEntry> = jobs
            .par_iter()
            .map(|job| {
                let file = match job {
                    PdfJob::Rollup(m, rows) => OutputFile::new(
                        format!("rollups/{}.pdf", file_stem(m)),
                        documents::rollup(cx, m, rows),
                    ),
                    PdfJob::Invoices => {
                        OutputFile::new("invoices.pdf", documents::invoices(cx, &invoices))
                    }
                    PdfJob::Reconciliation => OutputFile::new(
                        "reconciliation.pdf",
                        documents::reconciliation(cx, &findings),
                    ),
                };
                staging.write(&file)?;
                progress.advance(1);
                Ok(file.entry())
            })
            .collect::<Result<_, Error>>()?;
        outputs.extend(pdfs);
    }
    progress.stage("writing manifest.json");
    outputs.sort_by(|a, b| a.file.cmp(&b.file));
    let count = outputs.len() + 1;

    let summary = manifest::findings_summary(&findings, data.settings.rounding);
    let manifest = Manifest {
        tool: "settle",
        version: env!("CARGO_PKG_VERSION"),
        dataset: &data.name,
        period: period.month.to_string(),
        period_start: period.start.format_rfc3339(tz),
        period_end: period.end.format_rfc3339(tz),
        as_of: clock.as_of.format_rfc3339(tz),
        settings: &data.settings,
        accounts_from: data.accounts_from_exports.then_some("exports"),
        inputs: manifest::inputs(data),
        outputs,
        conservation: ledger.checks(),
        reconciliation: &summary,
    };
    let mut json = serde_json::to_vec_pretty(&manifest).unwrap_or_default();
    json.push(b'\n');
    staging.write(&OutputFile::new("manifest.json", json))?;
    Ok((count, summary))
}
