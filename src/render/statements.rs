//! `statements.csv` and `statements/<partner_id>.csv`: the rebate settlement of R5, from its view.

use crate::model::period::Month;
use crate::render::csv::{Cell, CsvDoc};
use crate::render::tables::money;
use crate::view::statements::{StatementView, Summary, Total, TotalKey};

/// `statements.csv`: one row per partner and currency.
pub fn summary(rows: &[Summary], month: Month) -> Vec<u8> {
    let mut doc = CsvDoc::new(&[
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

/// `statements/<partner_id>.csv`: the partner's lines, then each currency's totals block. A
/// totals row names its figure in `account_id`, labels it in `account_name`, and puts the amount in
/// `rebate_amount`.
pub fn detail(statements: &[StatementView]) -> Vec<u8> {
    let mut doc = CsvDoc::new(&[
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
    for s in statements {
        let mut total = |key: &str, label: &str, value: Cell| {
            doc.row([
                Cell::from(key),
                Cell::from(label),
                Cell::from(""),
                Cell::from(""),
                Cell::from(""),
                Cell::from(""),
                Cell::from(""),
                Cell::from(""),
                value,
                Cell::from(s.summary.currency),
            ]);
        };
        for &(key, value) in &s.totals {
            let cell = match value {
                Total::Amount(amount) => money(amount),
                Total::Status(status) => Cell::from(status.as_str()),
            };
            total(key.as_str(), csv_label(key), cell);
        }
        total(
            "invoice_to_cloud",
            "应向云厂商开具增值税专用发票 Special VAT invoice to issue to the cloud",
            money(s.summary.net_rebate),
        );
    }
    doc.finish()
}

/// The bilingual label the CSV prints beside a totals key.
fn csv_label(key: TotalKey) -> &'static str {
    match key {
        TotalKey::RebateTotal => "返佣合计 Rebate total",
        TotalKey::RoundingAdjustment => "尾差调整 Rounding adjustment (not paid)",
        TotalKey::TaxDeduction => "税点扣除 Tax deduction",
        TotalKey::NetRebate => "应结返佣 Net rebate",
        TotalKey::PayoutStatus => "结算状态 Payout status",
        TotalKey::PayableNow => "本期应付 Payable now",
    }
}
