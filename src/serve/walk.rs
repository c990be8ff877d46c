//! A statement's walk from its customers' consoles to its rebate base (R10, seed 002 FAQ 5), as a
//! card of the month's page: what a partner asks first ("why does my statement not match what
//! my customers' consoles show?"), answered where it reads its statement.
//!
//! Input: the period's `bridge.csv` (one row per partner, customer and currency; its columns in
//! [docs/outputs.md](../../docs/outputs.md)). Output: per currency, the partner's steps summed
//! over its customers. Each row adds up as printed, so their sums do too: the card's steps add up
//! to its totals exactly. `bridge.csv` itself stays finance's; a partner sees only its own sums.

use std::collections::BTreeMap;
use std::io::Read;

use rust_decimal::Decimal;

use super::statements::decimal;
use super::totals::{columns, each};

/// The walk's steps, in `bridge.csv`'s order: the column, how it enters the walk, and its label.
pub const STEPS: [(&str, Step, &str, &str); 10] = [
    (
        "deduction_period_amount",
        Step::Start,
        "客户本月扣费金额（控制台）",
        "Customers' deduction-period payable (their consoles)",
    ),
    (
        "deducted_for_other_months",
        Step::Minus,
        "其他月份用量、本月扣费",
        "Deducted this month for other months' usage",
    ),
    (
        "prepaid_ahead",
        Step::Plus,
        "本月用量、提前预付",
        "Used this month, prepaid ahead",
    ),
    (
        "deducted_later",
        Step::Plus,
        "本月用量、次月扣费",
        "Used this month, deducted later",
    ),
    (
        "not_deducted_yet",
        Step::Plus,
        "本月用量、尚未扣费",
        "Used this month, not deducted yet",
    ),
    (
        "rounding_to_usage",
        Step::Plus,
        "逐项取整差异",
        "Rounding of the steps",
    ),
    (
        "usage_period_amount",
        Step::Total,
        "本月用量应付金额",
        "Usage-period payable",
    ),
    (
        "outside_link_amount",
        Step::Minus,
        "不在本伙伴关联期内",
        "Outside the partner's link",
    ),
    (
        "rounding_to_base",
        Step::Plus,
        "逐项取整差异",
        "Rounding of the steps",
    ),
    ("rebate_base_amount", Step::Total, "返佣基数", "Rebate base"),
];

/// How a step enters the walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Start,
    Plus,
    Minus,
    Total,
}

impl Step {
    pub fn sign(self) -> &'static str {
        match self {
            Step::Start => "",
            Step::Plus => "+",
            Step::Minus => "−",
            Step::Total => "=",
        }
    }
}

/// One currency's walk: each step's amount, in [`STEPS`]' order.
pub type Walk = [Decimal; STEPS.len()];

/// The walk of `partner`'s statement per currency, summed from `bridge.csv`; `None` if the file
/// does not parse or lacks a column (the page then shows no walk rather than a wrong one).
pub fn of_partner<R: Read>(input: R, partner: &str) -> Option<BTreeMap<String, Walk>> {
    let mut names = vec!["partner_id", "currency"];
    names.extend(STEPS.iter().map(|s| s.0));
    let (reader, at) = columns(input, &names)?;
    let mut out: BTreeMap<String, Walk> = BTreeMap::new();
    each(reader, &at, |c| {
        if super::statements::unguard(c[0]) != partner {
            return Some(());
        }
        let walk = out.entry(c[1].to_string()).or_default();
        for (sum, cell) in walk.iter_mut().zip(&c[2..]) {
            *sum += decimal(cell)?;
        }
        Some(())
    })?;
    Some(out)
}

/// Whether the rebate base starts from the deduction-period figure (`rebate_basis =
/// "deduction"`) rather than the usage-period one, as the walk's figures say.
pub fn from_deduction(w: &Walk) -> bool {
    let (deduction, usage, outside, rounding, base) = (w[0], w[6], w[7], w[8], w[9]);
    usage - outside + rounding != base && deduction - outside + rounding == base
}

#[cfg(test)]
mod tests {
    use super::*;

    const BRIDGE: &str = "period,partner_id,account_id,account_name,currency,deduction_period_amount,deducted_for_other_months,prepaid_ahead,deducted_later,not_deducted_yet,rounding_to_usage,usage_period_amount,outside_link_amount,rounding_to_base,rebate_base_amount
2026-10,p-01,acc-1001,A,CNY,100.00,10.00,0.00,5.00,0.00,0.01,95.01,20.00,0.00,75.01
2026-10,p-01,acc-1002,B,CNY,50.00,0.00,0.00,0.00,1.00,0.00,51.00,0.00,0.00,51.00
2026-10,p-01,acc-1003,C,USD,1.00,0.00,0.00,0.00,0.00,0.00,1.00,0.00,0.00,1.00
2026-10,p-02,acc-1004,D,CNY,7.00,0.00,0.00,0.00,0.00,0.00,7.00,0.00,0.00,7.00
";

    #[test]
    fn a_partners_walk_sums_its_customers_per_currency_and_adds_up() {
        let walks = of_partner(BRIDGE.as_bytes(), "p-01").expect("parses");
        assert_eq!(walks.keys().collect::<Vec<_>>(), ["CNY", "USD"]);
        let cny = walks["CNY"];
        let d = |s: &str| s.parse::<Decimal>().expect("decimal");
        assert_eq!(cny[0], d("150.00"));
        assert_eq!(cny[6], d("146.01"));
        assert_eq!(cny[9], d("126.01"));
        assert_eq!(cny[0] - cny[1] + cny[2] + cny[3] + cny[4] + cny[5], cny[6]);
        assert_eq!(cny[6] - cny[7] + cny[8], cny[9]);
        assert!(!from_deduction(&cny));
        assert!(
            of_partner(BRIDGE.as_bytes(), "p-99")
                .expect("parses")
                .is_empty()
        );
        assert!(of_partner("partner_id,currency\np-01,CNY\n".as_bytes(), "p-01").is_none());
    }
}
