//! R6 Invoice lists: every invoice someone must issue for the month.
//!
//! ## What it does
//! Gathers four sources into one list:
//! - **resale**: the partner invoices each resale customer for its payable consumption in the
//!   month, per currency (a line belongs to the resale link in force at its `charge_start`);
//! - **hosting**: the cloud issues one merged invoice to each master for its children's rolled-up
//!   lines;
//! - **management** with `invoice_by = master`: the master issues one invoice per child, with the
//!   child's title, for the child's lines that start while the relation is in force;
//! - **marketplace**: provider invoice requests made before the month's end and not issued before
//!   its start, with a due date and shipping, judged at `as_of`.
//!
//! ## Why
//! Seeds 000, 001, 003 and 004: who invoices whom depends on the link or relation, a total of 0
//! needs no invoice, only enterprises get special VAT invoices, and marketplace invoices are due
//! within `invoice_due_days` and ship cash-on-delivery at or below `cod_threshold`.

use std::collections::BTreeMap;

use chrono_tz::Tz;
use rust_decimal::Decimal;
use rustc_hash::FxHashMap;

use crate::model::money::{Rounding, round};
use crate::model::period::Period;
use crate::model::records::*;
use crate::model::time::Timestamp;

/// Where an invoice comes from, in list order.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Source {
    Resale,
    Hosting,
    Management,
    Marketplace,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Resale => "resale",
            Source::Hosting => "hosting",
            Source::Management => "management",
            Source::Marketplace => "marketplace",
        }
    }
}

/// An invoice's status, judged at `as_of`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    ToIssue,
    Issued,
    Overdue,
    NotNeeded,
    Refunded,
    BlockedArrears,
    RejectedTitle,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::ToIssue => "to_issue",
            Status::Issued => "issued",
            Status::Overdue => "overdue",
            Status::NotNeeded => "not_needed",
            Status::Refunded => "refunded",
            Status::BlockedArrears => "blocked_arrears",
            Status::RejectedTitle => "rejected_title",
        }
    }
}

/// Who ships a marketplace invoice.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Shipping {
    /// Cash on delivery: the customer pays the courier.
    Cod,
    Provider,
}

impl Shipping {
    pub fn as_str(self) -> &'static str {
        match self {
            Shipping::Cod => "cod",
            Shipping::Provider => "provider",
        }
    }
}

/// One invoice to issue. `amount` is already rounded to 2 dp.
#[derive(Clone, Debug, PartialEq)]
pub struct Invoice {
    pub source: Source,
    pub reference: String,
    pub issuer: String,
    pub recipient_account_id: Text,
    pub title: Text,
    pub invoice_kind: InvoiceKind,
    pub amount: Decimal,
    pub currency: Text,
    pub due_date: Option<Timestamp>,
    pub shipping: Option<Shipping>,
    pub status: Status,
}

/// What the invoice list needs besides the bill lines.
pub struct InvoiceInput<'a> {
    pub accounts: &'a BTreeMap<Text, Account>,
    pub links: &'a [PartnerLink],
    pub relations: &'a [Relation],
    pub requests: &'a [InvoiceRequest],
}

/// What the invoice list needs from `settle.toml`.
pub struct InvoiceTerms {
    pub rounding: Rounding,
    pub cod_threshold: Decimal,
    pub invoice_due_days: i64,
    pub base_currency: Text,
    pub tz: Tz,
}

/// The kind an account's title allows: an individual never gets a special VAT invoice.
fn kind_for(account: Option<&Account>) -> InvoiceKind {
    match account.map(|a| a.title_kind) {
        Some(TitleKind::Individual) => InvoiceKind::Ordinary,
        _ => InvoiceKind::Special,
    }
}

/// An invoice's identity before it is printed: source, and the ids of the issuing partner or master
/// (0 for the cloud), the recipient and the currency.
type SumKey = (Source, usize, usize, usize);
/// The issuing partner or master, the recipient, the currency, and the exact Σ payable.
type Sum = (Option<Text>, Text, Text, Decimal);

/// Who invoices a bill line: the resale links and the management relations invoiced by the
/// master, by account.
pub struct Issuers<'a> {
    resale: FxHashMap<usize, Vec<&'a PartnerLink>>,
    managed: FxHashMap<usize, Vec<&'a Relation>>,
    period: Period,
}

impl<'a> Issuers<'a> {
    pub fn new(input: &InvoiceInput<'a>, period: &Period) -> Self {
        let mut resale: FxHashMap<usize, Vec<&PartnerLink>> = FxHashMap::default();
        for l in input
            .links
            .iter()
            .filter(|l| l.link_type == LinkType::Resale)
        {
            resale.entry(l.account_id.id()).or_default().push(l);
        }
        let mut managed: FxHashMap<usize, Vec<&Relation>> = FxHashMap::default();
        for r in input
            .relations
            .iter()
            .filter(|r| r.kind == RelationKind::Management && r.invoice_by == InvoiceBy::Master)
        {
            managed.entry(r.child_id.id()).or_default().push(r);
        }
        Issuers {
            resale,
            managed,
            period: *period,
        }
    }
}

/// The running invoice sums over some bill lines.
#[derive(Default)]
pub struct Sums {
    sums: FxHashMap<SumKey, Sum>,
}

impl Sums {
    /// Adds a bill line to every invoice it belongs on; `rolled_to` is the master R3 moved it to.
    pub fn add(&mut self, issuers: &Issuers, b: &BillLine, rolled_to: Option<&Text>) {
        let at = b.charge_start;
        if !issuers.period.contains(at) {
            return;
        }
        if let Some(link) = issuers
            .resale
            .get(&b.account_id.id())
            .and_then(|ls| ls.iter().find(|l| l.window.contains(at)))
        {
            self.add_to(Source::Resale, Some(&link.partner_id), &b.account_id, b);
        }
        if let Some(master) = rolled_to {
            self.add_to(Source::Hosting, None, master, b);
        }
        if let Some(r) = issuers
            .managed
            .get(&b.account_id.id())
            .and_then(|rs| rs.iter().find(|r| r.window.contains(at)))
        {
            self.add_to(Source::Management, Some(&r.master_id), &b.account_id, b);
        }
    }

    fn add_to(&mut self, source: Source, by: Option<&Text>, recipient: &Text, b: &BillLine) {
        let key = (
            source,
            by.map_or(0, Text::id),
            recipient.id(),
            b.currency.id(),
        );
        self.sums
            .entry(key)
            .or_insert_with(|| {
                (
                    by.cloned(),
                    recipient.clone(),
                    b.currency.clone(),
                    Decimal::ZERO,
                )
            })
            .3 += b.payable_amount;
    }

    pub fn merge(&mut self, other: Sums) {
        for (key, sum) in other.sums {
            let amount = sum.3;
            self.sums
                .entry(key)
                .and_modify(|s| s.3 += amount)
                .or_insert(sum);
        }
    }
}

/// Every invoice for the month, sorted by source, issuer, recipient, currency and reference.
pub fn invoices(
    sums: Sums,
    input: &InvoiceInput,
    period: &Period,
    as_of: Timestamp,
    terms: &InvoiceTerms,
) -> Vec<Invoice> {
    let mut out = Vec::new();
    for ((source, ..), (by, recipient, currency, exact)) in sums.sums {
        let issuer = match (source, by) {
            (Source::Resale, Some(by)) => format!("partner:{by}"),
            (Source::Management, Some(by)) => format!("account:{by}"),
            _ => "cloud".to_string(),
        };
        let account = input.accounts.get(&recipient);
        let amount = round(exact, terms.rounding);
        out.push(Invoice {
            source,
            reference: recipient.to_string(),
            issuer,
            title: account.map(|a| a.entity_name.clone()).unwrap_or_default(),
            invoice_kind: kind_for(account),
            recipient_account_id: recipient,
            amount,
            currency,
            due_date: None,
            shipping: None,
            status: if amount.is_zero() {
                Status::NotNeeded
            } else {
                Status::ToIssue
            },
        });
    }
    for r in input.requests {
        let requested_in_time = r.requested_at < period.end;
        let issued_before = r.issued_at.is_some_and(|t| t < period.start);
        if !requested_in_time || issued_before {
            continue;
        }
        let due = r
            .requested_at
            .add_local_days(terms.invoice_due_days, terms.tz);
        let amount = round(r.amount, terms.rounding);
        let status = if r.order_status == OrderStatus::Refunded {
            Status::Refunded
        } else if r.order_status == OrderStatus::Arrears {
            Status::BlockedArrears
        } else if r.invoice_kind == InvoiceKind::Special && r.title_kind == TitleKind::Individual {
            Status::RejectedTitle
        } else if amount.is_zero() {
            Status::NotNeeded
        } else if r.issued_at.is_some_and(|t| t < as_of) {
            Status::Issued
        } else if due < as_of {
            Status::Overdue
        } else {
            Status::ToIssue
        };
        out.push(Invoice {
            source: Source::Marketplace,
            reference: r.request_id.to_string(),
            issuer: format!("provider:{}", r.provider_id),
            recipient_account_id: r.account_id.clone(),
            title: r.title.clone(),
            invoice_kind: r.invoice_kind,
            amount,
            currency: terms.base_currency.clone(),
            due_date: Some(due),
            shipping: Some(if r.amount <= terms.cod_threshold {
                Shipping::Cod
            } else {
                Shipping::Provider
            }),
            status,
        });
    }
    out.sort_by(|a, b| {
        (
            a.source,
            &a.issuer,
            &a.recipient_account_id,
            &a.currency,
            &a.reference,
        )
            .cmp(&(
                b.source,
                &b.issuer,
                &b.recipient_account_id,
                &b.currency,
                &b.reference,
            ))
    });
    out
}
