//! The walk from the customers' consoles to the rebate base (R10, seed 002 FAQ 5), as printed.
//!
//! A partner asks why its statement does not match what its customers' consoles show for the
//! month. The console shows what was deducted in the month; the statement counts what was used
//! in it (under the usage basis), and only the lines the partner's link covers. The walk goes from
//! one figure to the other in steps a clerk can read aloud:
//!
//! ```text
//!   deduction-period payable            what the consoles show for the month
//! − deducted for other months' usage    last month's post-paid usage, deducted this month
//! + prepaid ahead                       used this month, deducted before it began
//! + deducted later                      used this month, deducted after it ended
//! + not deducted yet                    used this month, no deduction at all
//! = usage-period payable
//! − outside the partner's link          lines before the link began, or under another partner
//! = rebate base
//! ```
//!
//! Under the deduction basis the walk runs the other way: from the usage-period payable to the
//! deduction-period payable, minus the lines outside the link.
//!
//! Every step is a printed figure and the steps add up as printed. The consoles' and the usage
//! figures are sums of `consumption.csv`'s printed rows, and the rebate base the sum of the
//! statement's printed `base_amount`s. Each step between them is its exact sum, rounded. Figures
//! rounded one by one can miss their printed total by a cent, so a rounding step stands before
//! each total (`rounding_to_usage`, `rounding_to_base`), shown even when 0, rather than hide the
//! cent in another step.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use crate::model::basis::Basis;
use crate::model::records::Text;
use crate::rules::consumption::Consumption;
use crate::rules::rebate::Statement;
use crate::view::{Figure, Look};

/// One account's console figures in one currency: exact, and as `consumption.csv` prints them
/// (each row rounded, then summed).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Console {
    pub deduction_exact: Decimal,
    pub usage_exact: Decimal,
    pub before_exact: Decimal,
    pub later_exact: Decimal,
    pub never_exact: Decimal,
    pub deduction_period: Figure,
    pub usage_period: Figure,
}

/// The console figures of the accounts that have a partner, by account and currency.
pub type Consoles = BTreeMap<(Text, Text), Console>;

/// Adds one batch's consumption rows to `consoles`, for the accounts `keep` says have a partner.
pub fn add_consoles(
    consoles: &mut Consoles,
    rows: &[Consumption],
    look: &Look,
    keep: impl Fn(&Text) -> bool,
) {
    for c in rows.iter().filter(|c| keep(&c.account_id)) {
        let e = consoles
            .entry((c.account_id.clone(), c.currency.clone()))
            .or_default();
        e.deduction_exact += c.deduction_period;
        e.usage_exact += c.usage_period;
        e.before_exact += c.deducted_before;
        e.later_exact += c.deducted_later();
        e.never_exact += c.never_deducted;
        e.deduction_period += look.round(c.deduction_period);
        e.usage_period += look.round(c.usage_period);
    }
}

/// One customer's walk on one of its partner's statements: a row of `bridge.csv`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BridgeRow {
    pub account_id: Text,
    pub deduction_period: Figure,
    pub other_months: Figure,
    pub deducted_before: Figure,
    pub deducted_later: Figure,
    pub never_deducted: Figure,
    /// What rounding each figure on its own leaves between the steps above and the next total.
    pub rounding_to_usage: Figure,
    pub usage_period: Figure,
    pub outside_link: Figure,
    pub rounding_to_base: Figure,
    pub rebate_base: Figure,
}

impl BridgeRow {
    fn add(&mut self, o: &BridgeRow) {
        self.deduction_period += o.deduction_period;
        self.other_months += o.other_months;
        self.deducted_before += o.deducted_before;
        self.deducted_later += o.deducted_later;
        self.never_deducted += o.never_deducted;
        self.rounding_to_usage += o.rounding_to_usage;
        self.usage_period += o.usage_period;
        self.outside_link += o.outside_link;
        self.rounding_to_base += o.rounding_to_base;
        self.rebate_base += o.rebate_base;
    }
}

/// A statement's walk: its customers' rows, their sum, and on from the base to the total.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Walk {
    pub currency: Text,
    pub basis: Basis,
    pub customers: Vec<BridgeRow>,
    /// The customers' rows added up.
    pub sum: BridgeRow,
    /// Σ base × rate over the statement's lines, exact.
    pub rebate_exact: Decimal,
    /// The printed total minus `rebate_exact`: each line rounded to 2 decimals.
    pub rounding: Decimal,
    /// The statement's total, as printed.
    pub total: Figure,
}

/// One printed step of a walk: the label key, and the amount as it enters the sum (negative
/// when it is taken off); a result (`= …`) is the sum of the steps above it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub key: &'static str,
    pub amount: Decimal,
    pub result: bool,
}

/// The walk as printed steps (R10), the same on the PDF and in the workbook: from the consoles'
/// figure to the usage figure and on to the rebate base under the usage basis, the other way
/// under the deduction basis; then the rebate at the rates and its rounding to the printed total.
pub fn steps(w: &Walk) -> Vec<Step> {
    let s = &w.sum;
    let add = |key, f: Figure| Step {
        key,
        amount: f.value(),
        result: false,
    };
    let take = |key, f: Figure| Step {
        key,
        amount: -f.value(),
        result: false,
    };
    let result = |key, amount: Decimal| Step {
        key,
        amount,
        result: true,
    };
    let mut out = match w.basis {
        Basis::Usage => vec![
            add("walk_deduction", s.deduction_period),
            take("walk_other_months", s.other_months),
            add("walk_prepaid", s.deducted_before),
            add("walk_later", s.deducted_later),
            add("walk_never", s.never_deducted),
            add("walk_rounding", s.rounding_to_usage),
            result("walk_usage", s.usage_period.value()),
        ],
        Basis::Deduction => vec![
            add("walk_usage", s.usage_period),
            take("walk_prepaid", s.deducted_before),
            take("walk_later", s.deducted_later),
            take("walk_never", s.never_deducted),
            take("walk_rounding", s.rounding_to_usage),
            add("walk_other_months", s.other_months),
            result("walk_deduction", s.deduction_period.value()),
        ],
    };
    out.extend([
        take("walk_outside", s.outside_link),
        add("walk_rounding", s.rounding_to_base),
        result("walk_base", s.rebate_base.value()),
        Step {
            key: "walk_exact",
            amount: w.rebate_exact,
            result: false,
        },
        Step {
            key: "walk_rounding_2dp",
            amount: w.rounding,
            result: false,
        },
        result("rebate_total", w.total.value()),
    ]);
    out
}

/// The walk of `statement`, whose customers are `customers` (the accounts linked to its partner
/// in the month; the accounts of its lines are added).
pub fn walk(statement: &Statement, customers: &[Text], consoles: &Consoles, look: &Look) -> Walk {
    // Each customer's base: exact, and as the statement prints it (each line rounded).
    let mut bases: BTreeMap<Text, (Decimal, Figure)> = customers
        .iter()
        .map(|a| (a.clone(), (Decimal::ZERO, Figure::ZERO)))
        .collect();
    for l in &statement.lines {
        let b = bases.entry(l.account_id.clone()).or_default();
        b.0 += l.base;
        b.1 += look.round(l.base);
    }
    let basis = look.period.basis;
    let mut rows = Vec::new();
    let mut sum = BridgeRow::default();
    for (account, (base_exact, base)) in bases {
        let c = consoles
            .get(&(account.clone(), statement.currency.clone()))
            .copied()
            .unwrap_or_default();
        if c == Console::default() && base_exact.is_zero() && base.is_zero() {
            continue;
        }
        let elsewhere = c.before_exact + c.later_exact + c.never_exact;
        let (before, later, never) = (
            look.round(c.before_exact),
            look.round(c.later_exact),
            look.round(c.never_exact),
        );
        let other_months = look.round(c.deduction_exact - (c.usage_exact - elsewhere));
        let (counted, counted_exact) = match basis {
            Basis::Usage => (c.usage_period, c.usage_exact),
            Basis::Deduction => (c.deduction_period, c.deduction_exact),
        };
        let outside_link = look.round(counted_exact - base_exact);
        let row = BridgeRow {
            account_id: account,
            deduction_period: c.deduction_period,
            other_months,
            deducted_before: before,
            deducted_later: later,
            never_deducted: never,
            rounding_to_usage: c.usage_period
                - (c.deduction_period - other_months + before + later + never),
            usage_period: c.usage_period,
            outside_link,
            rounding_to_base: base - (counted - outside_link),
            rebate_base: base,
        };
        sum.add(&row);
        rows.push(row);
    }
    let rebate_exact: Decimal = statement.lines.iter().map(|l| l.rebate()).sum();
    Walk {
        currency: statement.currency.clone(),
        basis,
        customers: rows,
        sum,
        rebate_exact,
        rounding: statement.total - rebate_exact,
        total: look.round(statement.total),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::period::Period;
    use crate::model::records::PaymentMode;
    use crate::rules::rates::RateSource;
    use crate::rules::rebate::{PayoutStatus, RebateLine};

    fn d(s: &str) -> Decimal {
        s.parse().expect("a decimal")
    }

    fn consumption(account: &str, product: &str, used: &str, deducted: &str) -> Consumption {
        Consumption {
            account_id: account.into(),
            product: product.into(),
            currency: "CNY".into(),
            usage_period: d(used),
            deduction_period: d(deducted),
            not_deducted: d("0.005"),
            never_deducted: d("0"),
            deducted_before: d("0"),
        }
    }

    fn line(account: &str, base: &str, rate: &str) -> RebateLine {
        RebateLine {
            partner_id: "p1".into(),
            currency: "CNY".into(),
            account_id: account.into(),
            product: "cvm".into(),
            sub_product: "".into(),
            payment_mode: PaymentMode::Postpaid,
            rate: d(rate),
            source: RateSource::Base,
            base: d(base),
            lines: 1,
        }
    }

    /// Every step adds up as printed, though each figure was rounded on its own.
    #[test]
    fn the_steps_add_up_as_printed() {
        let period = Period::new(
            "2026-10".parse().expect("a month"),
            chrono_tz::Asia::Shanghai,
        );
        let (accounts, partners) = (BTreeMap::new(), BTreeMap::new());
        let look = Look {
            accounts: &accounts,
            partners: &partners,
            period: &period,
        };
        let mut consoles = Consoles::new();
        add_consoles(
            &mut consoles,
            &[
                consumption("a", "cvm", "100.005", "80.004"),
                consumption("a", "cdn", "10.005", "0"),
                consumption("b", "cvm", "7", "9"),
            ],
            &look,
            |_| true,
        );
        // `a` changed partner mid-month: 60.00 of its usage is the statement's.
        let lines = vec![line("a", "60.004", "0.1"), line("b", "7", "0.05")];
        let total = lines.iter().map(|l| look.round(l.rebate()).value()).sum();
        let statement = Statement {
            partner_id: "p1".into(),
            currency: "CNY".into(),
            lines,
            total,
            tax_deduction: Decimal::ZERO,
            net: total,
            status: PayoutStatus::Payable,
            payable_now: total,
        };
        let w = walk(&statement, &["a".into(), "b".into()], &consoles, &look);
        let s = &w.sum;
        assert_eq!(s.deduction_period.value(), d("89.00"));
        assert_eq!(
            s.deduction_period - s.other_months
                + s.deducted_before
                + s.deducted_later
                + s.never_deducted
                + s.rounding_to_usage,
            s.usage_period
        );
        assert_eq!(
            s.usage_period - s.outside_link + s.rounding_to_base,
            s.rebate_base
        );
        // 110.01 used by `a`, 60.00 of it the statement's: 50.01 outside, to the cent.
        assert_eq!(s.outside_link.value(), d("50.01"));
        assert_eq!(s.rebate_base.value(), d("67.00"));
        assert_eq!(w.rebate_exact + w.rounding, w.total.value());
        assert_eq!(w.total.value(), d("6.35"));
    }
}
