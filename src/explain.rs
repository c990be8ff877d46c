//! `settle explain`: the input rows behind a printed figure (R10).
//!
//! A partner asks why a statement line is what it is; a customer asks why a consumption row is.
//! The answer is the bill lines behind the figure, each with where it came from (file and
//! physical line, or the export file and row its id names), its window, its deduction time and its
//! payable, then their exact sum, which is the figure before rounding, and the rounding.
//!
//! The lines are found by the same fold the run applies ([`crate::pipeline::explain`] reads the
//! inputs once and keeps the lines the question is about); this module groups them the way the
//! document does and prints them.

use std::collections::BTreeMap;
use std::fmt::Write;

use rust_decimal::Decimal;

use crate::model::money::{format_2dp, round};
use crate::model::period::{InMonth, Period};
use crate::model::records::{BillLine, Text};
use crate::rules::invoices::Source;
use crate::rules::rates::RateSource;

/// What to explain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Question {
    /// A partner's statement lines, optionally only an account's, a product's or a currency's.
    Partner {
        partner: String,
        account: Option<String>,
        product: Option<String>,
        currency: Option<String>,
    },
    /// A consumption row: an account's product, split into the walk's steps.
    Consumption { account: String, product: String },
    /// An invoice-list entry, by its number (`IV-…`), as the run's `invoices.csv` prints it.
    Invoice(Invoice),
}

/// What the command line asks: a figure's question, or an invoice by its number, which the
/// run's `invoices.csv` turns into a question.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ask {
    Figure(Question),
    Invoice(String),
}

/// An entry of `invoices.csv`: its number, and what the bill lines on it share.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invoice {
    pub number: String,
    pub source: Source,
    /// The issuing partner or master; `None` for the cloud.
    pub by: Option<String>,
    pub recipient: String,
    pub currency: String,
    /// The amount printed, for the answer's title.
    pub amount: String,
    /// The request id of a marketplace invoice, which no bill line is behind.
    pub reference: String,
}

impl Invoice {
    /// The entry numbered `number` in an `invoices.csv`, or `None` if there is none.
    pub fn find(invoices_csv: &[u8], number: &str) -> Result<Option<Invoice>, String> {
        let mut reader = csv::Reader::from_reader(invoices_csv);
        let headers = reader.headers().map_err(|e| e.to_string())?.clone();
        let at = |name: &str| {
            headers
                .iter()
                .position(|h| h.trim_start_matches('\u{feff}') == name)
                .ok_or_else(|| format!("`invoices.csv` has no `{name}` column"))
        };
        let [no, source, reference, issuer, recipient, amount, currency] = [
            "document_no",
            "source",
            "reference",
            "issuer",
            "recipient_account_id",
            "amount",
            "currency",
        ]
        .map(at);
        let (no, source, reference, issuer, recipient, amount, currency) = (
            no?, source?, reference?, issuer?, recipient?, amount?, currency?,
        );
        for row in reader.records() {
            let row = row.map_err(|e| e.to_string())?;
            if row.get(no) != Some(number) {
                continue;
            }
            let cell = |i: usize| row.get(i).unwrap_or_default().to_string();
            let source = match row.get(source) {
                Some("resale") => Source::Resale,
                Some("hosting") => Source::Hosting,
                Some("management") => Source::Management,
                Some("marketplace") => Source::Marketplace,
                other => return Err(format!("unknown invoice source {other:?}")),
            };
            let issuer = cell(issuer);
            let by = issuer.split_once(':').map(|(_, id)| id.to_string());
            return Ok(Some(Invoice {
                number: number.to_string(),
                source,
                by,
                recipient: cell(recipient),
                currency: cell(currency),
                amount: cell(amount),
                reference: cell(reference),
            }));
        }
        Ok(None)
    }

    /// Whether the invoices a line is on (from [`crate::rules::invoices::on`]) include
    /// this one.
    pub fn holds<'t>(
        &self,
        currency: &str,
        on: impl IntoIterator<Item = (Source, Option<&'t Text>, &'t Text)>,
    ) -> bool {
        currency == self.currency
            && on.into_iter().any(|(source, by, to)| {
                source == self.source
                    && by.map(|t| &**t) == self.by.as_deref()
                    && **to == *self.recipient
            })
    }
}

/// A bill line kept for an answer, with where the month places it and, for a statement, the
/// rate it earns.
#[derive(Clone, Debug)]
pub struct Kept {
    pub bill: BillLine,
    pub at: InMonth,
    pub rate: Option<(Decimal, RateSource)>,
}

/// One group of lines behind one printed figure.
#[derive(Clone, Debug)]
pub struct Group {
    /// What the document prints the figure beside.
    pub title: String,
    pub lines: Vec<Kept>,
    /// Σ payable of the lines: the figure before rounding.
    pub exact: Decimal,
    /// For a statement line, Σ payable × rate, before rounding.
    pub rebate: Option<Decimal>,
}

/// The walk step a consumption line falls in.
fn step(at: InMonth, b: &BillLine, period: &Period) -> &'static str {
    match (at.used, at.deducted, b.deducted_at) {
        (true, true, _) => "used and deducted in the month",
        (false, true, _) => "deducted this month for another month's usage",
        (true, false, None) => "used in the month, not deducted yet",
        (true, false, Some(t)) if t < period.start => "used in the month, prepaid ahead",
        (true, false, Some(_)) => "used in the month, deducted later",
        (false, false, _) => "outside the month",
    }
}

/// The groups of an answer, in the document's order.
pub fn groups(question: &Question, mut kept: Vec<Kept>, period: &Period) -> Vec<Group> {
    kept.sort_by(|a, b| {
        (a.bill.charge_start, a.bill.line).cmp(&(b.bill.charge_start, b.bill.line))
    });
    let mut by: BTreeMap<(String, String), Vec<Kept>> = BTreeMap::new();
    for k in kept {
        let title = match question {
            Question::Partner { .. } => {
                let (rate, source) = k.rate.unwrap_or((Decimal::ZERO, RateSource::Base));
                let b = &k.bill;
                format!(
                    "{} · {} · {} · {} · rate {} ({}) · {}",
                    b.account_id,
                    b.product,
                    if b.sub_product.is_empty() {
                        "-"
                    } else {
                        &b.sub_product
                    },
                    b.payment_mode.as_str(),
                    rate.normalize(),
                    source.as_str(),
                    b.currency
                )
            }
            Question::Consumption { .. } => {
                format!("{} · {}", k.bill.currency, step(k.at, &k.bill, period))
            }
            Question::Invoice(i) => format!(
                "{} · {} · {} → {} · {} · printed {}",
                i.number,
                i.source.as_str(),
                i.by.as_deref().unwrap_or("cloud"),
                i.recipient,
                i.currency,
                i.amount
            ),
        };
        by.entry((k.bill.currency.to_string(), title))
            .or_default()
            .push(k);
    }
    by.into_iter()
        .map(|((_, title), lines)| {
            let exact = lines.iter().map(|k| k.bill.payable_amount).sum();
            let rebate = matches!(question, Question::Partner { .. }).then(|| {
                lines
                    .iter()
                    .map(|k| k.bill.payable_amount * k.rate.map_or(Decimal::ZERO, |r| r.0))
                    .sum()
            });
            Group {
                title,
                lines,
                exact,
                rebate,
            }
        })
        .collect()
}

/// Where a line came from: `bills.csv:17`, or for an export row the file and row its id names.
fn source(b: &BillLine, exports: bool) -> String {
    if exports {
        b.bill_id.to_string()
    } else {
        format!("bills.csv:{}", b.line)
    }
}

/// The answer for a terminal: each group's lines, their exact sum and its rounding.
pub fn text(groups: &[Group], period: &Period, exports: bool) -> String {
    let mut out = String::new();
    if groups.is_empty() {
        out.push_str("no bill line of the month is behind that figure\n");
    }
    for g in groups {
        let _ = writeln!(out, "{}", g.title);
        for k in &g.lines {
            let b = &k.bill;
            let deducted = b
                .deducted_at
                .map_or_else(|| "-".to_string(), |t| t.format_local(period.tz));
            let _ = writeln!(
                out,
                "  {:<22} {:<20} {} → {}  deducted {:<19} {:>16}",
                source(b, exports),
                b.bill_id,
                b.charge_start.format_local(period.tz),
                b.charge_end.format_local(period.tz),
                deducted,
                b.payable_amount
            );
        }
        let rounded = round(g.exact, period.rounding);
        let _ = writeln!(
            out,
            "  {} line(s): Σ payable {} exact, {} printed (rounding {})",
            g.lines.len(),
            g.exact,
            format_2dp(rounded),
            rounded - g.exact
        );
        if let Some(rebate) = g.rebate {
            let r = round(rebate, period.rounding);
            let _ = writeln!(
                out,
                "  rebate: Σ payable × rate {} exact, {} printed (rounding {})",
                rebate,
                format_2dp(r),
                r - rebate
            );
        }
        out.push('\n');
    }
    out
}

/// The answer as CSV: one row per bill line, with its group.
pub fn csv(groups: &[Group], period: &Period, exports: bool) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record([
        "figure",
        "source",
        "bill_id",
        "charge_start",
        "charge_end",
        "deducted_at",
        "payable_amount",
        "currency",
    ]);
    for g in groups {
        for k in &g.lines {
            let b = &k.bill;
            let _ = w.write_record([
                g.title.as_str(),
                &source(b, exports),
                &b.bill_id,
                &b.charge_start.format_local(period.tz),
                &b.charge_end.format_local(period.tz),
                &b.deducted_at
                    .map_or_else(String::new, |t| t.format_local(period.tz)),
                &b.payable_amount.to_string(),
                &b.currency,
            ]);
        }
    }
    w.into_inner().unwrap_or_default()
}

/// Whether a question is about `partner`'s lines.
pub fn asks_partner(question: &Question) -> Option<&str> {
    match question {
        Question::Partner { partner, .. } => Some(partner),
        Question::Consumption { .. } | Question::Invoice(_) => None,
    }
}

/// Whether a line's account, product and currency fit the question's filters.
pub fn fits(question: &Question, b: &BillLine) -> bool {
    let is = |want: &Option<String>, have: &Text| want.as_deref().is_none_or(|w| w == &**have);
    match question {
        Question::Partner {
            account,
            product,
            currency,
            ..
        } => is(account, &b.account_id) && is(product, &b.product) && is(currency, &b.currency),
        Question::Consumption { account, product } => {
            *b.account_id == **account && *b.product == **product
        }
        // A hosting invoice's lines are its master's children's: R3 says which.
        Question::Invoice(i) => {
            *b.currency == *i.currency
                && (i.source == Source::Hosting || *b.account_id == *i.recipient)
        }
    }
}
