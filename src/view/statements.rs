//! A partner's rebate statement (R5) as printed: `statements.csv`'s row and
//! `statements/<partner_id>`'s lines and totals block.

use rust_decimal::Decimal;

use crate::model::records::{InvoiceKind, PaymentMode};
use crate::rules::rates::RateSource;
use crate::rules::rebate::{PayoutStatus, RebateLine, Statement};
use crate::view::numbers::{DocKind, number};
use crate::view::{Figure, Look};

/// One statement line.
pub struct LineRow<'a> {
    pub account_id: &'a str,
    pub account_name: &'a str,
    pub product: &'a str,
    pub sub_product: &'a str,
    pub payment_mode: PaymentMode,
    pub base_amount: Figure,
    pub rate: Decimal,
    pub rate_source: RateSource,
    pub rebate_amount: Figure,
}

/// A figure of the totals block, by the key its label is found under.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum TotalKey {
    RebateTotal,
    RoundingAdjustment,
    TaxDeduction,
    NetRebate,
    PayoutStatus,
    PayableNow,
}

impl TotalKey {
    /// The key in `statements/<id>.csv`'s `account_id` column and in `templates/labels.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            TotalKey::RebateTotal => "rebate_total",
            TotalKey::RoundingAdjustment => "rounding_adjustment",
            TotalKey::TaxDeduction => "tax_deduction",
            TotalKey::NetRebate => "net_rebate",
            TotalKey::PayoutStatus => "payout_status",
            TotalKey::PayableNow => "payable_now",
        }
    }
}

/// The value of one figure of the totals block.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Total {
    Amount(Figure),
    Status(PayoutStatus),
}

/// One partner's statement in one currency: `statements.csv`'s row.
pub struct Summary<'a> {
    /// The partner's statement of the month: one number for all its currencies.
    pub document_no: String,
    pub partner_id: &'a str,
    pub partner_name: &'a str,
    pub currency: &'a str,
    pub rebate_total: Figure,
    pub tax_deduction: Figure,
    pub net_rebate: Figure,
    pub payout_status: PayoutStatus,
    pub payable_now: Figure,
}

/// One partner's statement in one currency, with its lines and totals block.
pub struct StatementView<'a> {
    pub summary: Summary<'a>,
    pub tier: &'a str,
    pub invoice_kind: InvoiceKind,
    /// The rate of the tax deduction, for a partner that issues ordinary invoices.
    pub tax_rate: Option<Decimal>,
    /// The partner's arrears at the end of the month, for a withheld statement (R5).
    pub arrears: Option<Figure>,
    pub lines: Vec<LineRow<'a>>,
    /// The totals block in print order; the rounding adjustment only when it is not zero.
    pub totals: Vec<(TotalKey, Total)>,
}

/// The row `statements.csv` prints for `s`.
pub fn summary<'a>(s: &'a Statement, look: &Look<'a>) -> Summary<'a> {
    Summary {
        document_no: number(DocKind::Statement, look.period.month, &[&s.partner_id]),
        partner_id: &s.partner_id,
        partner_name: look
            .partners
            .get(&s.partner_id)
            .map_or("", |p| &p.partner_name),
        currency: &s.currency,
        rebate_total: look.round(s.total),
        tax_deduction: look.round(s.tax_deduction),
        net_rebate: look.round(s.net),
        payout_status: s.status,
        payable_now: look.round(s.payable_now),
    }
}

/// The statement `s` as printed. Its total is the sum of its printed line rebates (R5); where
/// the rounded exact total differs, the difference is a `rounding_adjustment`, not paid (R8).
/// `ordinary_tax_rate` is `settle.toml`'s `ordinary_invoice_tax_rate`.
pub fn statement<'a>(
    s: &'a Statement,
    look: &Look<'a>,
    ordinary_tax_rate: Decimal,
) -> StatementView<'a> {
    let lines: Vec<LineRow> = s.lines.iter().map(|l| line(l, look)).collect();
    let summary = summary(s, look);
    let exact: Decimal = s.lines.iter().map(RebateLine::rebate).sum();
    let adjustment = look.round(exact) - summary.rebate_total;
    let mut totals = vec![(TotalKey::RebateTotal, Total::Amount(summary.rebate_total))];
    if !adjustment.is_zero() {
        totals.push((TotalKey::RoundingAdjustment, Total::Amount(adjustment)));
    }
    totals.extend([
        (TotalKey::TaxDeduction, Total::Amount(summary.tax_deduction)),
        (TotalKey::NetRebate, Total::Amount(summary.net_rebate)),
        (TotalKey::PayoutStatus, Total::Status(summary.payout_status)),
        (TotalKey::PayableNow, Total::Amount(summary.payable_now)),
    ]);
    let partner = look.partners.get(&s.partner_id);
    let invoice_kind = partner.map_or(InvoiceKind::Special, |p| p.invoice_kind);
    let arrears = partner
        .filter(|_| s.status == PayoutStatus::WithheldArrears)
        .map(|p| look.round(p.arrears_amount));
    StatementView {
        summary,
        tier: partner.map_or("", |p| &p.tier),
        invoice_kind,
        tax_rate: (invoice_kind == InvoiceKind::Ordinary).then_some(ordinary_tax_rate),
        arrears,
        lines,
        totals,
    }
}

fn line<'a>(l: &'a RebateLine, look: &Look<'a>) -> LineRow<'a> {
    LineRow {
        account_id: &l.account_id,
        account_name: look.account_name(&l.account_id),
        product: &l.product,
        sub_product: &l.sub_product,
        payment_mode: l.payment_mode,
        base_amount: look.round(l.base),
        rate: l.rate,
        rate_source: l.source,
        rebate_amount: look.round(l.rebate()),
    }
}
