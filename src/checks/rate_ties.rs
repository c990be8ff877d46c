//! R5 rate ties: two rows that would give one line two rates at once.
//!
//! ## What it does
//! Rejects both rows of every pair of special rebates that one line could match at the same
//! specificity, in overlapping windows, with different rates; and of every pair of base rates for
//! the same tier, product and payment mode in overlapping windows with different rates.
//!
//! ## Why
//! R5: "a tie between two matches is an error". Neither row is guessed at, and because the check
//! runs before the rules, rate resolution (`rules::rates`) always has one winner.

use rust_decimal::Decimal;

use crate::ingest::schema;
use crate::model::records::*;
use crate::model::reject::Reject;

/// Two specials tie when one line could match both at the same specificity with different rates.
fn specials_tie(a: &SpecialRebate, b: &SpecialRebate) -> bool {
    fn compatible<T: PartialEq>(x: &Option<T>, y: &Option<T>) -> bool {
        match (x, y) {
            (Some(x), Some(y)) => x == y,
            _ => true,
        }
    }
    a.partner_id == b.partner_id
        && a.account_id == b.account_id
        && a.product == b.product
        && a.specificity() == b.specificity()
        && compatible(&a.sub_product, &b.sub_product)
        && compatible(&a.payment_mode, &b.payment_mode)
        && a.window.overlaps(&b.window)
        && a.rate != b.rate
}

/// Two base rates tie when they name the same tier, product and payment mode at the same time
/// with different rates.
fn rates_tie(a: &RebateRate, b: &RebateRate) -> bool {
    a.tier == b.tier
        && a.product == b.product
        && a.payment_mode == b.payment_mode
        && a.window.overlaps(&b.window)
        && a.rate != b.rate
}

/// Rejects every special rebate and base rate row that ties with another: a tie is an error, and
/// neither row is guessed at.
pub fn tie_rejects(specials: &[SpecialRebate], rates: &[RebateRate]) -> Vec<Reject> {
    let mut rejects = ties(
        specials,
        specials_tie,
        |s| s.rate,
        schema::SPECIAL_REBATES.name,
    );
    rejects.extend(ties(
        rates,
        rates_tie,
        |r| r.rate,
        schema::REBATE_RATES.name,
    ));
    rejects
}

fn ties<T: HasLine>(
    rows: &[T],
    tie: fn(&T, &T) -> bool,
    rate: fn(&T) -> Decimal,
    file: &'static str,
) -> Vec<Reject> {
    rows.iter()
        .enumerate()
        .filter_map(|(i, row)| {
            let others: Vec<String> = rows
                .iter()
                .enumerate()
                .filter(|(j, o)| *j != i && tie(row, o))
                .map(|(_, o)| o.line().to_string())
                .collect();
            (!others.is_empty()).then(|| Reject {
                file,
                line: row.line(),
                column: "rate".into(),
                value: rate(row).to_string(),
                reason: format!(
                    "ties with the row on line {}: same specificity, overlapping windows, different rates",
                    others.join(", ")
                ),
            })
        })
        .collect()
}
