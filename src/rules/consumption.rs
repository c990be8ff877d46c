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

use crate::model::period::{InMonth, Period};
use crate::model::records::{BillLine, LineKey, Text};

/// One row of `consumption.csv`, with exact (unrounded) sums.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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
    /// The part of `not_deducted` with no `deducted_at` at all: not deducted yet.
    pub never_deducted: Decimal,
    /// Σ payable of lines used in the month but deducted before it began: prepaid ahead.
    pub deducted_before: Decimal,
}

impl Consumption {
    /// Used in the month and deducted in a later one.
    pub fn deducted_later(&self) -> Decimal {
        self.not_deducted - self.never_deducted
    }
}

/// The running sums of R2 over the selected lines of one [`LineKey`]. [`rows`] adds them up into
/// the rows of `consumption.csv`; a key may come more than once, with sums over different lines.
#[derive(Clone, Debug, Default)]
pub struct Sums {
    usage_period: Decimal,
    deduction_period: Decimal,
    not_deducted: Decimal,
    never_deducted: Decimal,
    deducted_before: Decimal,
}

impl Sums {
    /// Adds a line the month selects, placed at `at`.
    pub fn add(&mut self, b: &BillLine, at: InMonth, period: &Period) {
        if at.used {
            self.usage_period += b.payable_amount;
            match b.deducted_at {
                None => {
                    self.not_deducted += b.payable_amount;
                    self.never_deducted += b.payable_amount;
                }
                Some(t) if t >= period.end => self.not_deducted += b.payable_amount,
                Some(t) if t < period.start => self.deducted_before += b.payable_amount,
                Some(_) => {}
            }
        }
        if at.deducted {
            self.deduction_period += b.payable_amount;
        }
    }
}

/// The rows of `consumption.csv`, sorted by account, product and currency: one for each of them
/// with a selected line, summed over sub-products and payment modes.
pub fn rows<'s>(sums: impl IntoIterator<Item = (&'s LineKey, &'s Sums)>) -> Vec<Consumption> {
    let mut rows: Vec<Consumption> = sums
        .into_iter()
        .map(|(key, s)| Consumption {
            account_id: key.account_id.clone(),
            product: key.product.clone(),
            currency: key.currency.clone(),
            usage_period: s.usage_period,
            deduction_period: s.deduction_period,
            not_deducted: s.not_deducted,
            never_deducted: s.never_deducted,
            deducted_before: s.deducted_before,
        })
        .collect();
    super::coalesce(
        &mut rows,
        |c| (c.account_id.clone(), c.product.clone(), c.currency.clone()),
        |kept, later| {
            kept.usage_period += later.usage_period;
            kept.deduction_period += later.deduction_period;
            kept.not_deducted += later.not_deducted;
            kept.never_deducted += later.never_deducted;
            kept.deducted_before += later.deducted_before;
        },
    );
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::records::*;
    use crate::model::time::{Timestamp, parse_timestamp};
    use crate::rules::testing::{self, World};

    const SH: chrono_tz::Tz = chrono_tz::Asia::Shanghai;

    /// R2's rows of `bills` in `month`, as the month's pass makes them.
    fn fold(bills: &[BillLine], month: &str) -> Vec<Consumption> {
        let period = Period::new(month.parse().unwrap(), SH);
        World::default().fold(bills, &period).consumption
    }

    fn ts(s: &str) -> Timestamp {
        parse_timestamp(s, SH).unwrap()
    }

    fn line(account: &str, start: &str, deducted: Option<&str>, payable: &str) -> BillLine {
        BillLine {
            billing_cycle: BillingCycle::Month,
            charge_end: ts(start),
            deducted_at: deducted.map(ts),
            ..testing::bill("b", account, start, payable)
        }
    }

    /// Seed 002, FAQ 5: January's post-paid usage is deducted on 1 February, so it is January's
    /// usage and February's deduction.
    #[test]
    fn january_usage_deducted_in_february() {
        let bills = [line("a", "2026-01-10", Some("2026-02-01 03:00:00"), "100")];
        let jan = fold(&bills, "2026-01");
        let feb = fold(&bills, "2026-02");
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
        let rows = fold(&bills, "2026-10");
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
