//! `invoices.csv` and `invoices_summary.csv`: the invoice list of R6.

use std::collections::BTreeMap;

use chrono_tz::Tz;
use rust_decimal::Decimal;

use crate::model::money::format_2dp;
use crate::render::csv::{Cell, CsvDoc};
use crate::rules::invoices::Invoice;

/// `invoices.csv`, in list order.
pub fn list(invoices: &[Invoice], tz: Tz) -> Vec<u8> {
    let mut doc = CsvDoc::new(&[
        "source",
        "reference",
        "issuer",
        "recipient_account_id",
        "title",
        "invoice_kind",
        "amount",
        "currency",
        "due_date",
        "shipping",
        "status",
    ]);
    for i in invoices {
        doc.row([
            Cell::from(i.source.as_str()),
            Cell::from(i.reference.as_str()),
            Cell::from(i.issuer.as_str()),
            Cell::from(i.recipient_account_id.as_ref()),
            Cell::from(i.title.as_ref()),
            Cell::from(i.invoice_kind.as_str()),
            Cell::Num(format_2dp(i.amount)),
            Cell::from(i.currency.as_ref()),
            Cell::from(i.due_date.map(|d| d.format_local(tz)).unwrap_or_default()),
            Cell::from(i.shipping.map(|s| s.as_str()).unwrap_or_default()),
            Cell::from(i.status.as_str()),
        ]);
    }
    doc.finish()
}

/// `invoices_summary.csv`: per issuer, status and currency, the count and the amount.
pub fn summary(invoices: &[Invoice]) -> Vec<u8> {
    let mut rows: BTreeMap<(&str, &str, &str), (usize, Decimal)> = BTreeMap::new();
    for i in invoices {
        let row = rows
            .entry((&i.issuer, i.status.as_str(), &i.currency))
            .or_default();
        row.0 += 1;
        row.1 += i.amount;
    }
    let mut doc = CsvDoc::new(&["issuer", "status", "currency", "count", "amount"]);
    for ((issuer, status, currency), (count, amount)) in rows {
        doc.row([
            Cell::from(issuer),
            Cell::from(status),
            Cell::from(currency),
            Cell::Num(count.to_string()),
            Cell::Num(format_2dp(amount)),
        ]);
    }
    doc.finish()
}
