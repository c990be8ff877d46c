//! The hosting rollup (R3) as printed: `rollups.csv`'s rows and each master's
//! `rollups/<master_id>` detail with its subtotals and totals.
//!
//! One figure per thing: a group's figures are the sums of its printed (rounded) lines, in
//! `rollups.csv` as in the detail's subtotal. The rolled-up total of a currency is what the
//! hosting invoice is for, the rounded exact payable (R6): the detail prints the sum of its lines,
//! the `rounding_adjustment` (payable only, rounded exact − Σ printed lines, the one sign
//! convention of every document) and the `invoice_total` they add up to. Lines that stayed on
//! the child are on no invoice here: their total is the sum of their lines, with no adjustment.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use crate::rules::rollup::{RollupLine, RollupStatus};
use crate::view::numbers::{DocKind, number};
use crate::view::{Figure, Look};

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

/// One row of `rollups.csv`: a group, its amounts the sums of its rounded lines (the detail's
/// subtotal).
pub struct SummaryRow<'r> {
    /// The number of the master's rollup document.
    pub document_no: String,
    pub master_id: &'r str,
    pub child_id: &'r str,
    pub product: &'r str,
    pub currency: &'r str,
    pub status: RollupStatus,
    pub reason: String,
    pub lines: usize,
    pub list_amount: Figure,
    pub discount_amount: Figure,
    pub payable_amount: Figure,
}

/// `rollups.csv`'s rows, one per group.
pub fn summary<'r>(groups: &[Group<'r>], look: &Look) -> Vec<SummaryRow<'r>> {
    groups
        .iter()
        .map(|g| {
            let sum = |f: fn(&RollupLine) -> Decimal| {
                g.lines.iter().map(|l| look.round(f(l))).sum::<Figure>()
            };
            SummaryRow {
                document_no: rollup_number(g.master_id, look),
                master_id: g.master_id,
                child_id: g.child_id,
                product: g.product,
                currency: g.currency,
                status: g.status,
                reason: g.reason(),
                lines: g.lines.len(),
                list_amount: sum(|l| l.bill.list_amount),
                discount_amount: sum(|l| l.bill.discount_amount),
                payable_amount: sum(|l| l.bill.payable_amount),
            }
        })
        .collect()
}

/// The number of `master_id`'s rollup document of the month.
fn rollup_number(master_id: &str, look: &Look) -> String {
    number(DocKind::Rollup, look.period.month, &[master_id])
}

/// What a detail row is.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum RowKind {
    Line,
    Subtotal,
    Total,
    RoundingAdjustment,
    /// The rolled-up total plus its adjustment: the hosting invoice's amount.
    InvoiceTotal,
}

impl RowKind {
    /// `row_kind` in `rollups/<master_id>.csv`.
    pub fn as_str(self) -> &'static str {
        match self {
            RowKind::Line => "line",
            RowKind::Subtotal => "subtotal",
            RowKind::Total => "total",
            RowKind::RoundingAdjustment => "rounding_adjustment",
            RowKind::InvoiceTotal => "invoice_total",
        }
    }
}

/// One row of a master's rollup detail, as printed: a bill line, a group's subtotal, a total per
/// currency and status, or a total's rounding adjustment. The CSV and the PDF print these same
/// rows, so they agree to the cent.
pub struct DetailRow<'g> {
    pub kind: RowKind,
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
    /// list, discount, payable and expected discount.
    pub amounts: [Figure; 4],
}

/// One master's rollup detail.
pub struct MasterView<'g> {
    pub document_no: String,
    pub master_id: &'g str,
    pub master_name: &'g str,
    pub rows: Vec<DetailRow<'g>>,
}

/// Where the payable is among a detail row's amounts.
pub const PAYABLE: usize = 2;

/// A total per currency and status: lines, the sums of the printed amounts, and the exact sums.
type Totals = (usize, [Figure; 4], [Decimal; 4]);

/// Each master's detail, in master order.
pub fn masters<'g>(groups: &'g [Group<'g>], look: &Look<'g>) -> Vec<MasterView<'g>> {
    let mut by_master: BTreeMap<&str, Vec<&Group>> = BTreeMap::new();
    for g in groups {
        by_master.entry(g.master_id).or_default().push(g);
    }
    by_master
        .into_iter()
        .map(|(master_id, groups)| MasterView {
            document_no: rollup_number(master_id, look),
            master_id,
            master_name: look.account_name(master_id),
            rows: detail_rows(&groups, look),
        })
        .collect()
}

/// The rows of one master's detail: each group's bill lines and its subtotal, then a total per
/// currency and status. Subtotals and totals add the rounded amounts printed above them (R8); a
/// rolled-up total is followed by its payable's `rounding_adjustment` (when not zero) and the
/// `invoice_total`, the hosting invoice's amount.
fn detail_rows<'g>(groups: &[&Group<'g>], look: &Look) -> Vec<DetailRow<'g>> {
    let amounts = |l: &RollupLine| {
        [
            l.bill.list_amount,
            l.bill.discount_amount,
            l.bill.payable_amount,
            l.expected_discount,
        ]
    };
    let mut rows = Vec::new();
    let mut totals: BTreeMap<(&str, RollupStatus), Totals> = BTreeMap::new();
    for g in groups {
        let mut printed = [Figure::ZERO; 4];
        let t = totals.entry((g.currency, g.status)).or_insert((
            0,
            [Figure::ZERO; 4],
            [Decimal::ZERO; 4],
        ));
        t.0 += g.lines.len();
        for l in &g.lines {
            let exact = amounts(l);
            let rounded = exact.map(|d| look.round(d));
            for i in 0..4 {
                printed[i] += rounded[i];
                t.1[i] += rounded[i];
                t.2[i] += exact[i];
            }
            rows.push(DetailRow {
                kind: RowKind::Line,
                child_id: g.child_id,
                product: g.product,
                currency: g.currency,
                status: g.status,
                reason: l.reason.clone(),
                bill_id: &l.bill.bill_id,
                billing_cycle: l.bill.billing_cycle.as_str(),
                charge_start: l.bill.charge_start.format_local(look.period.tz),
                charge_end: l.bill.charge_end.format_local(look.period.tz),
                lines: Some(1),
                amounts: rounded,
            });
        }
        rows.push(DetailRow {
            kind: RowKind::Subtotal,
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
        rows.push(total(RowKind::Total, Some(count), printed));
        if status == RollupStatus::RolledUp {
            // Payable only: the list, discount and expected-discount cells stay empty.
            let invoice = look.round(exact[PAYABLE]);
            let adjustment = invoice - printed[PAYABLE];
            let only_payable = |f: Figure| {
                let mut amounts = [Figure::ZERO; 4];
                amounts[PAYABLE] = f;
                amounts
            };
            if !adjustment.is_zero() {
                rows.push(total(
                    RowKind::RoundingAdjustment,
                    None,
                    only_payable(adjustment),
                ));
            }
            rows.push(total(RowKind::InvoiceTotal, None, only_payable(invoice)));
        }
    }
    rows
}
