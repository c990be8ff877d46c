//! `invoices.csv` and `invoices_summary.csv`: the invoice list of R6.

use crate::render::csv::{Cell, CsvDoc};
use crate::render::tables::money;
use crate::view::invoices::{InvoiceRow, SummaryRow};

/// `invoices.csv`, in list order.
pub fn list(rows: &[InvoiceRow]) -> Vec<u8> {
    let mut doc = CsvDoc::new(&[
        "document_no",
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
    for i in rows {
        doc.row([
            Cell::from(i.document_no.as_str()),
            Cell::from(i.source.as_str()),
            Cell::from(i.reference),
            Cell::from(i.issuer),
            Cell::from(i.recipient_account_id),
            Cell::from(i.title),
            Cell::from(i.invoice_kind.as_str()),
            money(i.amount),
            Cell::from(i.currency),
            Cell::from(i.due_date.as_str()),
            Cell::from(i.shipping.map(|s| s.as_str()).unwrap_or_default()),
            Cell::from(i.status.as_str()),
        ]);
    }
    doc.finish()
}

/// `invoices_summary.csv`: per issuer, status and currency, the count and the amount.
pub fn summary(rows: &[SummaryRow]) -> Vec<u8> {
    let mut doc = CsvDoc::new(&["issuer", "status", "currency", "count", "amount"]);
    for r in rows {
        doc.row([
            Cell::from(r.issuer),
            Cell::from(r.status),
            Cell::from(r.currency),
            Cell::Num(r.count.to_string()),
            money(r.amount),
        ]);
    }
    doc.finish()
}
