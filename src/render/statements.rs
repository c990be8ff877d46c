//! `statements.csv` and `statements/<partner_id>.csv`: the rebate settlement of R5, from its view.

use crate::model::period::Month;
use crate::render::csv::{Cell, CsvDoc};
use crate::render::tables::money;
use crate::view::statements::{StatementView, Summary};

/// `statements.csv`: one row per partner and currency.
pub fn summary(rows: &[Summary], month: Month) -> Vec<u8> {
    let mut doc = CsvDoc::new(&[
        "document_no",
        "partner_id",
        "partner_name",
        "period",
        "currency",
        "rebate_total",
        "tax_deduction",
        "net_rebate",
        "payout_status",
        "payable_now",
    ]);
    for s in rows {
        doc.row([
            Cell::from(s.document_no.as_str()),
            Cell::from(s.partner_id),
            Cell::from(s.partner_name),
            Cell::from(month.to_string()),
            Cell::from(s.currency),
            money(s.rebate_total),
            money(s.tax_deduction),
            money(s.net_rebate),
            Cell::from(s.payout_status.as_str()),
            money(s.payable_now),
        ]);
    }
    doc.finish()
}

/// `statements/<partner_id>.csv`: the statement's number, then its lines, and nothing else: the
/// totals are the partner's rows in `statements.csv`, so a SUM over a column never counts a total
/// twice.
pub fn detail(statements: &[StatementView]) -> Vec<u8> {
    let mut doc = CsvDoc::new(&[
        "document_no",
        "account_id",
        "account_name",
        "product",
        "sub_product",
        "payment_mode",
        "base_amount",
        "rate",
        "rate_source",
        "rebate_amount",
        "currency",
    ]);
    for s in statements {
        for l in &s.lines {
            doc.row([
                Cell::from(s.summary.document_no.as_str()),
                Cell::from(l.account_id),
                Cell::from(l.account_name),
                Cell::from(l.product),
                Cell::from(l.sub_product),
                Cell::from(l.payment_mode.as_str()),
                money(l.base_amount),
                Cell::Num(l.rate.normalize().to_string()),
                Cell::from(l.rate_source.as_str()),
                money(l.rebate_amount),
                Cell::from(s.summary.currency),
            ]);
        }
    }
    doc.finish()
}
