//! `reconciliation.csv`: the findings of R7, most money first, made a chunk of rows at a time.

use crate::model::records::Id;
use crate::render::csv::{Cell, CsvDoc};
use crate::render::tables::money;
use crate::view::reconciliation::FindingRow;

/// The header, to start the file; [`findings`] adds rows to it, or to continuations of it.
pub fn findings_doc() -> CsvDoc {
    CsvDoc::new(&[
        "finding",
        "account_id",
        "product",
        "sub_product",
        "resource_id",
        "window_start",
        "window_end",
        "bill_ids",
        "usage_ids",
        "expected_amount",
        "billed_amount",
        "difference",
        "currency",
    ])
}

/// One row per finding, appended to `doc`.
pub fn findings<'a>(mut doc: CsvDoc, rows: impl IntoIterator<Item = FindingRow<'a>>) -> Vec<u8> {
    let join = |ids: &[Id]| ids.iter().map(|i| i.as_ref()).collect::<Vec<_>>().join(";");
    for f in rows {
        doc.row([
            Cell::from(f.kind.as_str()),
            Cell::from(f.account_id),
            Cell::from(f.product),
            Cell::from(f.sub_product),
            Cell::from(f.resource_id),
            Cell::from(f.window_start.as_str()),
            Cell::from(f.window_end.as_str()),
            Cell::from(join(f.bill_ids)),
            Cell::from(join(f.usage_ids)),
            money(f.expected),
            money(f.billed),
            money(f.difference),
            Cell::from(f.currency),
        ]);
    }
    doc.finish()
}
