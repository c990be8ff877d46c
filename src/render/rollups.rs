//! `rollups.csv` and `rollups/<master_id>.csv`: the hosting rollup of R3, from its rows.

use crate::render::csv::{Cell, CsvDoc};
use crate::render::tables::money;
use crate::view::rollups::{DetailRow, MasterView, RowKind, SummaryRow};

/// `rollups.csv`: one row per group.
pub fn summary(rows: &[SummaryRow]) -> Vec<u8> {
    let mut doc = CsvDoc::new(&[
        "document_no",
        "master_id",
        "child_id",
        "product",
        "currency",
        "status",
        "reason",
        "lines",
        "list_amount",
        "discount_amount",
        "payable_amount",
    ]);
    for g in rows {
        doc.row([
            Cell::from(g.document_no.as_str()),
            Cell::from(g.master_id),
            Cell::from(g.child_id),
            Cell::from(g.product),
            Cell::from(g.currency),
            Cell::from(g.status.as_str()),
            Cell::from(g.reason.as_str()),
            Cell::Num(g.lines.to_string()),
            money(g.list_amount),
            money(g.discount_amount),
            money(g.payable_amount),
        ]);
    }
    doc.finish()
}

/// A row's amounts as cells; an adjustment or invoice total has a payable alone.
fn payable_only(row: &DetailRow) -> [Cell; 4] {
    let cells = row.amounts.map(money);
    match row.kind {
        RowKind::RoundingAdjustment | RowKind::InvoiceTotal => {
            let [_, _, payable, _] = cells;
            [Cell::from(""), Cell::from(""), payable, Cell::from("")]
        }
        _ => cells,
    }
}

/// `rollups/<master_id>.csv`: every row carries the document's number.
pub fn detail(master: &MasterView) -> Vec<u8> {
    let mut doc = CsvDoc::new(&[
        "document_no",
        "row_kind",
        "child_id",
        "product",
        "currency",
        "status",
        "reason",
        "bill_id",
        "billing_cycle",
        "charge_start",
        "charge_end",
        "lines",
        "list_amount",
        "discount_amount",
        "payable_amount",
        "expected_discount",
    ]);
    for row in &master.rows {
        let [list, discount, payable, expected] = payable_only(row);
        doc.row([
            Cell::from(master.document_no.as_str()),
            Cell::from(row.kind.as_str()),
            Cell::from(row.child_id),
            Cell::from(row.product),
            Cell::from(row.currency),
            Cell::from(row.status.as_str()),
            Cell::from(row.reason.as_str()),
            Cell::from(row.bill_id),
            Cell::from(row.billing_cycle),
            Cell::from(row.charge_start.as_str()),
            Cell::from(row.charge_end.as_str()),
            Cell::Num(row.lines.map(|n| n.to_string()).unwrap_or_default()),
            list,
            discount,
            payable,
            expected,
        ]);
    }
    doc.finish()
}
