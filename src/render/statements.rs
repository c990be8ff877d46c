//! `statements.csv` and `statements/<partner_id>.csv`: the rebate settlement of R5.

use crate::ingest::Dataset;
use crate::model::money::{Rounding, format_2dp, round};
use crate::model::period::Month;
use crate::render::csv::{Cell, CsvDoc};
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};

use crate::rules::rebate::{PayoutStatus, Statement};

/// `statements.csv`: one row per partner and currency.
pub fn summary(statements: &[Statement], month: Month, data: &Dataset) -> Vec<u8> {
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
    for s in statements {
        let name = data
            .partners
            .get(&s.partner_id)
            .map_or("", |p| &p.partner_name);
        doc.row([
            Cell::from(s.partner_id.as_ref()),
            Cell::from(name),
            Cell::from(month.to_string()),
            Cell::from(s.currency.as_ref()),
            Cell::Num(format_2dp(s.total)),
            Cell::Num(format_2dp(s.tax_deduction)),
            Cell::Num(format_2dp(s.net)),
            Cell::from(s.status.as_str()),
            Cell::Num(format_2dp(s.payable_now)),
        ]);
    }
    doc.finish()
}

/// `statements/<partner_id>.csv`: the partner's lines, then each currency's totals block. A
/// totals row names its figure in `account_id`, labels it in `account_name`, and puts the amount in
/// `rebate_amount`.
pub fn detail(statements: &[&Statement], data: &Dataset) -> Vec<u8> {
    let r: Rounding = data.settings.rounding;
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
            let name = data
                .accounts
                .get(&l.account_id)
                .map_or("", |a| &a.account_name);
            doc.row([
                Cell::from(l.account_id.as_ref()),
                Cell::from(name),
                Cell::from(l.product.as_ref()),
                Cell::from(l.sub_product.as_ref()),
                Cell::from(l.payment_mode.as_str()),
                Cell::Num(format_2dp(round(l.base, r))),
                Cell::Num(l.rate.normalize().to_string()),
                Cell::from(l.source.as_str()),
                Cell::Num(format_2dp(round(l.rebate(), r))),
                Cell::from(s.currency.as_ref()),
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
                Cell::from(s.currency.as_ref()),
            ]);
        };
        for (key, value) in totals(s) {
            let cell = match value {
                Total::Amount(amount) => Cell::Num(format_2dp(amount)),
                Total::Status(status) => Cell::from(status.as_str()),
            };
            total(key, csv_label(key), cell);
        }
        total(
            "invoice_to_cloud",
            "应向云厂商开具增值税专用发票 Special VAT invoice to issue to the cloud",
            Cell::Num(format_2dp(s.net)),
        );
    }
    doc.finish()
}

/// One figure of a statement's totals block.
pub enum Total {
    Amount(Decimal),
    Status(PayoutStatus),
}

/// A statement's totals block (R5), in print order, by label key: the rounding adjustment only
/// when it is not zero. The CSV and the PDF both print these.
pub fn totals(s: &Statement) -> Vec<(&'static str, Total)> {
    let mut rows = vec![("rebate_total", Total::Amount(s.total))];
    if !s.rounding_adjustment.is_zero() {
        rows.push(("rounding_adjustment", Total::Amount(s.rounding_adjustment)));
    }
    rows.extend([
        ("tax_deduction", Total::Amount(s.tax_deduction)),
        ("net_rebate", Total::Amount(s.net)),
        ("payout_status", Total::Status(s.status)),
        ("payable_now", Total::Amount(s.payable_now)),
    ]);
    rows
}

/// The bilingual label the CSV prints beside a totals key.
fn csv_label(key: &str) -> &'static str {
    match key {
        "rebate_total" => "返佣合计 Rebate total",
        "rounding_adjustment" => "尾差调整 Rounding adjustment (not paid)",
        "tax_deduction" => "税点扣除 Tax deduction",
        "net_rebate" => "应结返佣 Net rebate",
        "payout_status" => "结算状态 Payout status",
        _ => "本期应付 Payable now",
    }
}

/// A file name from an id: letters, digits, `.`, `_` and `-` are kept, anything else becomes `_`,
/// so an id can never leave its folder. An id that needed a change also gets the first 8 hex
/// digits of its SHA-256, so that two ids never share a file (`伙伴一` and `伙伴二` both become
/// `___`).
pub fn file_stem(id: &str) -> String {
    let stem = safe_stem(id);
    if stem == id {
        return stem;
    }
    let digest = crate::ingest::hex(&Sha256::digest(id.as_bytes()));
    format!("{stem}-{}", &digest[..8])
}

fn safe_stem(id: &str) -> String {
    let stem: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if stem.trim_matches('.').is_empty() {
        format!("_{stem}")
    } else {
        stem
    }
}

#[cfg(test)]
mod tests {
    use super::file_stem;

    #[test]
    fn file_stems_stay_in_their_folder_and_never_share_a_file() {
        assert_eq!(file_stem("p-01"), "p-01");
        let (one, two) = (file_stem("伙伴一"), file_stem("伙伴二"));
        assert_ne!(one, two);
        assert!(one.starts_with("___-") && one.len() == 12, "{one}");
        for id in ["../x", "..", "a/b", "a b"] {
            let stem = file_stem(id);
            assert!(
                !stem.contains('/') && !stem.trim_matches('.').is_empty(),
                "{id} → {stem}"
            );
        }
        assert_ne!(file_stem("a/b"), file_stem("a_b"));
    }
}
