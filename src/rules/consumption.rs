//! R2 Consumption: each account's spend by usage period and by deduction period.
//!
//! ## What it does
//! For every account, product and currency it sums `payable_amount` twice: over the lines whose
//! usage period (month of `charge_start`) is the run's month, and over the lines whose deduction
//! period (month of `deducted_at`) is. It also gives the part of the month's usage that has no
//! `deducted_at` at all.
//!
//! ## Why
//! The partner's statement counts by usage period while the customer console shows deductions, so
//! the two differ every month by post-paid usage that is deducted a month later (seed 002, FAQ 5).
//! Showing both, and their difference, answers "why don't these agree?".

use rust_decimal::Decimal;
use rustc_hash::FxHashMap;

use crate::model::period::Period;
use crate::model::records::{BillLine, Text};

/// One row of `consumption.csv`, with exact (unrounded) sums.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Consumption {
    pub account_id: Text,
    pub product: Text,
    pub currency: Text,
    /// Σ payable of lines used in the month.
    pub usage_period: Decimal,
    /// Σ payable of lines deducted in the month.
    pub deduction_period: Decimal,
    /// Σ payable of lines used in the month and not deducted by its end: `deducted_at` empty, or
    /// in a later month.
    pub not_deducted: Decimal,
}

/// The running sums of R2 over some bill lines: one pass adds lines, and passes over different
/// lines merge.
#[derive(Debug, Default)]
pub struct Sums {
    rows: FxHashMap<(usize, usize, usize), Consumption>,
}

impl Sums {
    pub fn add(&mut self, b: &BillLine, period: &Period) {
        let used = period.contains(b.charge_start);
        let deducted = b.deducted_at.is_some_and(|t| period.contains(t));
        if !used && !deducted {
            return;
        }
        let row = self
            .rows
            .entry((b.account_id.id(), b.product.id(), b.currency.id()))
            .or_insert_with(|| Consumption {
                account_id: b.account_id.clone(),
                product: b.product.clone(),
                currency: b.currency.clone(),
                ..Consumption::default()
            });
        if used {
            row.usage_period += b.payable_amount;
            if b.deducted_at.is_none_or(|t| t >= period.end) {
                row.not_deducted += b.payable_amount;
            }
        }
        if deducted {
            row.deduction_period += b.payable_amount;
        }
    }

    pub fn merge(&mut self, other: Sums) {
        for (key, c) in other.rows {
            let (used, deducted, not_deducted) =
                (c.usage_period, c.deduction_period, c.not_deducted);
            self.rows
                .entry(key)
                .and_modify(|row| {
                    row.usage_period += used;
                    row.deduction_period += deducted;
                    row.not_deducted += not_deducted;
                })
                .or_insert(c);
        }
    }

    /// Rows sorted by account, product and currency: one for each key with a line in either
    /// period.
    pub fn finish(self) -> Vec<Consumption> {
        let mut rows: Vec<Consumption> = self.rows.into_values().collect();
        rows.sort_unstable_by(|a, b| {
            (&a.account_id, &a.product, &a.currency).cmp(&(&b.account_id, &b.product, &b.currency))
        });
        rows
    }
}

/// R2 over `bills`: [`Sums`] of every line.
pub fn consumption(bills: &[BillLine], period: &Period) -> Vec<Consumption> {
    let mut sums = Sums::default();
    for b in bills {
        sums.add(b, period);
    }
    sums.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::records::*;
    use crate::model::time::{Timestamp, parse_timestamp};

    const SH: chrono_tz::Tz = chrono_tz::Asia::Shanghai;

    fn ts(s: &str) -> Timestamp {
        parse_timestamp(s, SH).unwrap()
    }

    fn line(account: &str, start: &str, deducted: Option<&str>, payable: &str) -> BillLine {
        BillLine {
            line: 2,
            bill_id: "b".into(),
            account_id: account.into(),
            product: "cvm".into(),
            sub_product: "".into(),
            resource_id: "".into(),
            payment_mode: PaymentMode::Postpaid,
            billing_cycle: BillingCycle::Month,
            charge_start: ts(start),
            charge_end: ts(start),
            deducted_at: deducted.map(ts),
            list_amount: payable.parse().unwrap(),
            discount_amount: Decimal::ZERO,
            voucher_amount: Decimal::ZERO,
            payable_amount: payable.parse().unwrap(),
            payment_status: PaymentStatus::Paid,
            paid_with: PaidWith::Cash,
            currency: "CNY".into(),
        }
    }

    /// Seed 002, FAQ 5: January's post-paid usage is deducted on 1 February, so it is January's
    /// usage and February's deduction.
    #[test]
    fn january_usage_deducted_in_february() {
        let bills = [line("a", "2026-01-10", Some("2026-02-01 03:00:00"), "100")];
        let jan = consumption(&bills, &Period::new("2026-01".parse().unwrap(), SH));
        let feb = consumption(&bills, &Period::new("2026-02".parse().unwrap(), SH));
        assert_eq!(
            (jan[0].usage_period, jan[0].deduction_period),
            (Decimal::from(100), Decimal::ZERO)
        );
        assert_eq!(
            (feb[0].usage_period, feb[0].deduction_period),
            (Decimal::ZERO, Decimal::from(100))
        );
        assert_eq!(
            jan[0].not_deducted,
            Decimal::from(100),
            "not deducted when January ended"
        );
        assert_eq!(feb[0].not_deducted, Decimal::ZERO);
    }

    #[test]
    fn not_deducted_and_zero_rows() {
        let bills = [
            line("a", "2026-10-05", None, "7.5"),
            line("b", "2026-10-05", Some("2026-10-06"), "5"),
            line("b", "2026-10-06", Some("2026-10-07"), "-5"),
            line("c", "2026-09-05", None, "9"),
        ];
        let rows = consumption(&bills, &Period::new("2026-10".parse().unwrap(), SH));
        assert_eq!(rows.len(), 2, "account c has no line in either period");
        assert_eq!(rows[0].not_deducted, "7.5".parse::<Decimal>().unwrap());
        assert_eq!(rows[1].account_id.as_ref(), "b");
        assert_eq!(
            rows[1].usage_period,
            Decimal::ZERO,
            "a refund nets to zero and the row stays"
        );
    }
}
