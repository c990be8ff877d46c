//! `consumption.csv` and `rejects.csv`, each from its rows.

use crate::model::period::Month;
use crate::model::records::Text;
use crate::model::reject::Reject;
use crate::render::csv::{Cell, CsvDoc};
use crate::view::Figure;
use crate::view::Look;
use crate::view::bridge::BridgeRow;
use crate::view::consumption::ConsumptionRow;

/// A money cell: a printed figure with 2 decimals.
pub fn money(amount: Figure) -> Cell {
    Cell::Num(amount.plain())
}

/// Rows of `consumption.csv`, added to `doc`: [`consumption_doc`] for the file's first rows, or
/// [`CsvDoc::continued`] for rows that follow them.
pub fn consumption(mut doc: CsvDoc, rows: &[ConsumptionRow], month: Month) -> Vec<u8> {
    for c in rows {
        doc.row([
            Cell::from(month.to_string()),
            Cell::from(c.account_id),
            Cell::from(c.account_name),
            Cell::from(c.product),
            Cell::from(c.currency),
            money(c.usage_period),
            money(c.deduction_period),
            money(c.difference),
            money(c.not_deducted),
        ]);
    }
    doc.finish()
}

/// `consumption.csv`'s header, for [`consumption`] to add rows to.
pub fn consumption_doc() -> CsvDoc {
    CsvDoc::new(&[
        "period",
        "account_id",
        "account_name",
        "product",
        "currency",
        "usage_period_amount",
        "deduction_period_amount",
        "difference",
        "not_deducted_amount",
    ])
}

/// `bridge.csv`: each statement's walk from its customers' consoles to its rebate base, one row
/// per partner, customer and currency (R10; see [`crate::view::bridge`]). The rows add up to the
/// walk printed on the partner's statement.
pub fn bridge(rows: &[(Text, Text, BridgeRow)], look: &Look, month: Month) -> Vec<u8> {
    let mut doc = CsvDoc::new(&[
        "period",
        "partner_id",
        "account_id",
        "account_name",
        "currency",
        "deduction_period_amount",
        "deducted_for_other_months",
        "prepaid_ahead",
        "deducted_later",
        "not_deducted_yet",
        "rounding_to_usage",
        "usage_period_amount",
        "outside_link_amount",
        "rounding_to_base",
        "rebate_base_amount",
    ]);
    let period = month.to_string();
    for (partner, currency, r) in rows {
        doc.row([
            Cell::from(period.as_str()),
            Cell::from(&**partner),
            Cell::from(&*r.account_id),
            Cell::from(look.account_name(&r.account_id)),
            Cell::from(&**currency),
            money(r.deduction_period),
            money(r.other_months),
            money(r.deducted_before),
            money(r.deducted_later),
            money(r.never_deducted),
            money(r.rounding_to_usage),
            money(r.usage_period),
            money(r.outside_link),
            money(r.rounding_to_base),
            money(r.rebate_base),
        ]);
    }
    doc.finish()
}

/// `rejects.csv`: every input row that was not used, in file and line order.
pub fn rejects(rejects: &[Reject]) -> Vec<u8> {
    let mut doc = CsvDoc::new(&["file", "line", "column", "value", "reason"]);
    for x in rejects {
        doc.row([
            Cell::from(x.file),
            Cell::Num(x.line.to_string()),
            Cell::from(x.column.as_str()),
            Cell::from(x.value.as_str()),
            Cell::from(x.reason.as_str()),
        ]);
    }
    doc.finish()
}
