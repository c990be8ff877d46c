//! `reconciliation.csv`: the findings of R7, most money first.

use chrono_tz::Tz;

use crate::model::money::{Rounding, format_2dp, round};
use crate::render::csv::{Cell, CsvDoc};
use crate::rules::reconcile::Finding;

/// One row per finding. `difference` is printed billed minus printed expected, so each row adds
/// up as printed.
pub fn findings(findings: &[Finding], rounding: Rounding, tz: Tz) -> Vec<u8> {
    let mut doc = CsvDoc::new(&[
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
    ]);
    let join = |ids: &[crate::model::records::Id]| {
        ids.iter().map(|i| i.as_ref()).collect::<Vec<_>>().join(";")
    };
    for f in findings {
        let (expected, billed) = (round(f.expected, rounding), round(f.billed, rounding));
        doc.row([
            Cell::from(f.kind.as_str()),
            Cell::from(f.account_id.as_ref()),
            Cell::from(f.product.as_ref()),
            Cell::from(f.sub_product.as_ref()),
            Cell::from(f.resource_id.as_ref()),
            Cell::from(f.window_start.format_local(tz)),
            Cell::from(f.window_end.format_local(tz)),
            Cell::from(join(&f.bill_ids)),
            Cell::from(join(&f.usage_ids)),
            Cell::Num(format_2dp(expected)),
            Cell::Num(format_2dp(billed)),
            Cell::Num(format_2dp(billed - expected)),
            Cell::from(f.currency.as_ref()),
        ]);
    }
    doc.finish()
}
