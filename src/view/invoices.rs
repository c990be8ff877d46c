//! The invoice list (R6) as printed: `invoices.csv`'s rows and `invoices_summary.csv`'s totals.

use std::collections::BTreeMap;

use crate::model::records::InvoiceKind;
use crate::rules::invoices::{Invoice, Shipping, Source, Status};
use crate::view::numbers::{DocKind, number};
use crate::view::{Figure, Look};

/// One invoice to issue.
pub struct InvoiceRow<'a> {
    /// Its entry's number, from its source, reference, issuer, recipient and currency.
    pub document_no: String,
    pub source: Source,
    pub reference: &'a str,
    pub issuer: &'a str,
    /// The issuer's name: the partner's or the account's; empty for the cloud and providers,
    /// which the dataset does not name.
    pub issuer_name: &'a str,
    pub recipient_account_id: &'a str,
    pub title: &'a str,
    pub invoice_kind: InvoiceKind,
    pub amount: Figure,
    pub currency: &'a str,
    /// Local time, `YYYY-MM-DD HH:MM:SS`, or empty.
    pub due_date: String,
    pub shipping: Option<Shipping>,
    pub status: Status,
}

/// Per issuer, status and currency: how many invoices, and the sum of their printed amounts.
pub struct SummaryRow<'a> {
    pub issuer: &'a str,
    pub status: &'static str,
    pub currency: &'a str,
    pub count: usize,
    pub amount: Figure,
}

/// The list's rows, in list order. R6 rounds each amount before its zero test.
pub fn rows<'a>(invoices: &'a [Invoice], look: &Look<'a>) -> Vec<InvoiceRow<'a>> {
    invoices
        .iter()
        .map(|i| InvoiceRow {
            document_no: number(
                DocKind::Invoice,
                look.period.month,
                &[
                    i.source.as_str(),
                    &i.reference,
                    &i.issuer,
                    &i.recipient_account_id,
                    &i.currency,
                ],
            ),
            source: i.source,
            reference: &i.reference,
            issuer: &i.issuer,
            issuer_name: issuer_name(&i.issuer, look),
            recipient_account_id: &i.recipient_account_id,
            title: &i.title,
            invoice_kind: i.invoice_kind,
            amount: look.round(i.amount),
            currency: &i.currency,
            due_date: i
                .due_date
                .map(|d| d.format_local(look.period.tz))
                .unwrap_or_default(),
            shipping: i.shipping,
            status: i.status,
        })
        .collect()
}

/// The name of an issuer code `partner:<id>` or `account:<id>`; empty for any other.
fn issuer_name<'a>(issuer: &str, look: &Look<'a>) -> &'a str {
    match issuer.split_once(':') {
        Some(("partner", id)) => look.partners.get(id).map_or("", |p| &p.partner_name),
        Some(("account", id)) => look.account_name(id),
        _ => "",
    }
}

/// `invoices_summary.csv`'s rows, sorted by issuer, status and currency.
pub fn summary<'a>(rows: &[InvoiceRow<'a>]) -> Vec<SummaryRow<'a>> {
    let mut sums: BTreeMap<(&str, &str, &str), (usize, Figure)> = BTreeMap::new();
    for i in rows {
        let s = sums
            .entry((i.issuer, i.status.as_str(), i.currency))
            .or_default();
        s.0 += 1;
        s.1 += i.amount;
    }
    sums.into_iter()
        .map(|((issuer, status, currency), (count, amount))| SummaryRow {
            issuer,
            status,
            currency,
            count,
            amount,
        })
        .collect()
}
