//! The CSV tables SPEC defines, one function per file, each returning the file's bytes.

use crate::ingest::{Dataset, Reject};
use crate::model::money::{Rounding, format_2dp, round};
use crate::model::period::Month;
use crate::render::csv::{Cell, CsvDoc};
use crate::rules::consumption::Consumption;

/// A money cell: rounded by the dataset's policy, printed with 2 decimals.
pub fn money(amount: rust_decimal::Decimal, rounding: Rounding) -> Cell {
    Cell::Num(format_2dp(round(amount, rounding)))
}

/// Rows of `consumption.csv`, added to `doc`: [`consumption_doc`] for the file's first rows, or
/// [`CsvDoc::continued`] for rows that follow them. The difference is printed usage minus printed
/// deduction, so each row adds up as printed (R8).
pub fn consumption(mut doc: CsvDoc, rows: &[Consumption], month: Month, data: &Dataset) -> Vec<u8> {
    let r = data.settings.rounding;
    for c in rows {
        let name = data
            .accounts
            .get(&c.account_id)
            .map_or("", |a| &a.account_name);
        let (usage, deduction) = (round(c.usage_period, r), round(c.deduction_period, r));
        doc.row([
            Cell::from(month.to_string()),
            Cell::from(c.account_id.as_ref()),
            Cell::from(name),
            Cell::from(c.product.as_ref()),
            Cell::from(c.currency.as_ref()),
            Cell::Num(format_2dp(usage)),
            Cell::Num(format_2dp(deduction)),
            Cell::Num(format_2dp(usage - deduction)),
            money(c.not_deducted, r),
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
