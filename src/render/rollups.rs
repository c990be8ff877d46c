//! `rollups.csv` and `rollups/<master_id>.csv`: the hosting rollup of R3.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use crate::ingest::Dataset;
use crate::model::money::{format_2dp, round};
use crate::render::csv::{Cell, CsvDoc};
use crate::rules::rollup::{RollupLine, RollupStatus};

/// Lines sharing master, child, product, currency and status.
pub struct Group<'r> {
    pub master_id: &'r str,
    pub child_id: &'r str,
    pub product: &'r str,
    pub currency: &'r str,
    pub status: RollupStatus,
    pub lines: Vec<&'r RollupLine>,
}

impl Group<'_> {
    /// Distinct reasons, in line order, joined with `; `.
    fn reason(&self) -> String {
        let mut seen: Vec<&str> = Vec::new();
        for l in &self.lines {
            if !seen.contains(&l.reason.as_str()) {
                seen.push(&l.reason);
            }
        }
        seen.join("; ")
    }
}

/// Groups rollup lines (already sorted by the group key).
pub fn groups<'r>(lines: &'r [RollupLine]) -> Vec<Group<'r>> {
    let mut out: Vec<Group> = Vec::new();
    for l in lines {
        let b = &l.bill;
        match out.last_mut() {
            Some(g)
                if g.master_id == l.master_id.as_ref()
                    && g.child_id == b.account_id.as_ref()
                    && g.product == b.product.as_ref()
                    && g.currency == b.currency.as_ref()
                    && g.status == l.status =>
            {
                g.lines.push(l)
            }
            _ => out.push(Group {
                master_id: &l.master_id,
                child_id: &b.account_id,
                product: &b.product,
                currency: &b.currency,
                status: l.status,
                lines: vec![l],
            }),
        }
    }
    out
}

/// `rollups.csv`: one row per group, amounts rounded from the exact sums.
pub fn summary(groups: &[Group], data: &Dataset) -> Vec<u8> {
    let r = data.settings.rounding;
    let mut doc = CsvDoc::new(&[
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
    for g in groups {
        let sum = |f: fn(&RollupLine) -> Decimal| g.lines.iter().map(|l| f(l)).sum::<Decimal>();
        doc.row([
            Cell::from(g.master_id),
            Cell::from(g.child_id),
            Cell::from(g.product),
            Cell::from(g.currency),
            Cell::from(g.status.as_str()),
            Cell::from(g.reason()),
            Cell::Num(g.lines.len().to_string()),
            Cell::Num(format_2dp(round(sum(|l| l.bill.list_amount), r))),
            Cell::Num(format_2dp(round(sum(|l| l.bill.discount_amount), r))),
            Cell::Num(format_2dp(round(sum(|l| l.bill.payable_amount), r))),
        ]);
    }
    doc.finish()
}

/// One row of a master's rollup detail, as printed: a bill line, a group's subtotal, a total per
/// currency and status, or a total's rounding adjustment. The CSV and the PDF print these same
/// rows, so they agree to the cent.
pub struct DetailRow<'g> {
    pub kind: &'static str,
    pub child_id: &'g str,
    pub product: &'g str,
    pub currency: &'g str,
    pub status: RollupStatus,
    pub reason: String,
    pub bill_id: &'g str,
    pub billing_cycle: &'g str,
    pub charge_start: String,
    pub charge_end: String,
    pub lines: Option<usize>,
    /// list, discount, payable and expected discount, each rounded.
    pub amounts: [Decimal; 4],
}

/// A total per currency and status: lines, the sums of the printed amounts, and the exact sums.
type Total = (usize, [Decimal; 4], [Decimal; 4]);

/// The rows of `rollups/<master_id>.csv`: each group's bill lines and its subtotal, then a total
/// per currency and status. Subtotals and totals add the rounded amounts printed above them
/// (R8); a `rounding_adjustment` row follows a total that differs from the rounded exact sum.
pub fn detail_rows<'g>(groups: &[&'g Group], data: &Dataset) -> Vec<DetailRow<'g>> {
    let r = data.settings.rounding;
    let tz = data.settings.timezone;
    let amounts = |l: &RollupLine| {
        [
            l.bill.list_amount,
            l.bill.discount_amount,
            l.bill.payable_amount,
            l.expected_discount,
        ]
    };
    let mut rows = Vec::new();
    let mut totals: BTreeMap<(&str, RollupStatus), Total> = BTreeMap::new();
    for g in groups {
        let mut printed = [Decimal::ZERO; 4];
        let t = totals.entry((g.currency, g.status)).or_insert((
            0,
            [Decimal::ZERO; 4],
            [Decimal::ZERO; 4],
        ));
        t.0 += g.lines.len();
        for l in &g.lines {
            let exact = amounts(l);
            let rounded = exact.map(|d| round(d, r));
            for i in 0..4 {
                printed[i] += rounded[i];
                t.1[i] += rounded[i];
                t.2[i] += exact[i];
            }
            rows.push(DetailRow {
                kind: "line",
                child_id: g.child_id,
                product: g.product,
                currency: g.currency,
                status: g.status,
                reason: l.reason.clone(),
                bill_id: &l.bill.bill_id,
                billing_cycle: l.bill.billing_cycle.as_str(),
                charge_start: l.bill.charge_start.format_local(tz),
                charge_end: l.bill.charge_end.format_local(tz),
                lines: Some(1),
                amounts: rounded,
            });
        }
        rows.push(DetailRow {
            kind: "subtotal",
            child_id: g.child_id,
            product: g.product,
            currency: g.currency,
            status: g.status,
            reason: g.reason(),
            bill_id: "",
            billing_cycle: "",
            charge_start: String::new(),
            charge_end: String::new(),
            lines: Some(g.lines.len()),
            amounts: printed,
        });
    }
    for ((currency, status), (count, printed, exact)) in totals {
        let total = |kind, lines, amounts| DetailRow {
            kind,
            child_id: "",
            product: "",
            currency,
            status,
            reason: String::new(),
            bill_id: "",
            billing_cycle: "",
            charge_start: String::new(),
            charge_end: String::new(),
            lines,
            amounts,
        };
        rows.push(total("total", Some(count), printed));
        let diff: [Decimal; 4] = std::array::from_fn(|i| round(exact[i], r) - printed[i]);
        if diff.iter().any(|d| !d.is_zero()) {
            rows.push(total("rounding_adjustment", None, diff));
        }
    }
    rows
}

/// `rollups/<master_id>.csv`.
pub fn detail(rows: &[DetailRow]) -> Vec<u8> {
    let mut doc = CsvDoc::new(&[
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
    for row in rows {
        let [list, discount, payable, expected] = row.amounts.map(|d| Cell::Num(format_2dp(d)));
        doc.row([
            Cell::from(row.kind),
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
