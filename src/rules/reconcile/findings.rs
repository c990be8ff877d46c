//! R7's findings, one function each: when it is raised, and the amounts on both sides.
//!
//! Each function judges what matching hands it (a bill line and the usage records it covers
//! whole, a record no bill covers, a group of overlapping bills) and returns the finding, if any.
//! `expected` is always the meter's or the rule's side and `billed` the bill's, so `difference`
//! is billed − expected. Money differences up to `tolerance` are ignored.

use rust_decimal::Decimal;

use super::{Finding, Kind, Metered};
use crate::model::records::*;

fn beyond(difference: Decimal, tolerance: Decimal) -> bool {
    difference.abs() > tolerance
}

/// A finding about one bill line.
fn on_bill(kind: Kind, b: &BillLine, expected: Decimal, billed: Decimal) -> Finding {
    Finding {
        kind,
        account_id: b.account_id.clone(),
        product: b.product.clone(),
        sub_product: b.sub_product.clone(),
        resource_id: b.resource_id.clone(),
        currency: b.currency.clone(),
        window_start: b.charge_start,
        window_end: b.charge_end,
        bill_ids: vec![b.bill_id.clone()],
        usage_ids: Vec::new(),
        expected,
        billed,
    }
}

/// `amount_mismatch`: a metered bill's `list_amount` differs from Σ quantity × unit_price of the
/// records it covers. A bill that covers none is [`bill_without_usage`]'s to judge.
pub fn amount_mismatch(
    b: &BillLine,
    inside: &[&UsageRecord],
    tolerance: Decimal,
) -> Option<Finding> {
    if inside.is_empty() {
        return None;
    }
    let expected: Decimal = inside.iter().map(|u| u.quantity * u.unit_price).sum();
    beyond(b.list_amount - expected, tolerance).then(|| Finding {
        usage_ids: inside.iter().map(|u| u.usage_id.clone()).collect(),
        ..on_bill(Kind::AmountMismatch, b, expected, b.list_amount)
    })
}

/// `bill_without_usage`: a non-`once` bill of a metered resource, listing more than 0, covers
/// no record.
pub fn bill_without_usage(b: &BillLine, inside: &[&UsageRecord]) -> Option<Finding> {
    (inside.is_empty() && b.list_amount > Decimal::ZERO)
        .then(|| on_bill(Kind::BillWithoutUsage, b, Decimal::ZERO, b.list_amount))
}

/// `unbilled_usage`: a record of the month that no bill covers whole.
pub fn unbilled_usage(u: &UsageRecord) -> Finding {
    Finding {
        kind: Kind::UnbilledUsage,
        account_id: u.account_id.clone(),
        product: u.product.clone(),
        sub_product: u.sub_product.clone(),
        resource_id: u.resource_id.clone(),
        currency: u.currency.clone(),
        window_start: u.start,
        window_end: u.end,
        bill_ids: Vec::new(),
        usage_ids: vec![u.usage_id.clone()],
        expected: u.quantity * u.unit_price,
        billed: Decimal::ZERO,
    }
}

/// `duplicate_bill`: bills of one resource whose windows overlap, connected into one group; the
/// window spans them all, and `inside` are the records any of them covers.
pub fn duplicate_bill(
    resource: &UsageRecord,
    group: &[Metered],
    inside: &[&UsageRecord],
) -> Finding {
    let start = group
        .iter()
        .map(|b| b.start)
        .min()
        .unwrap_or(resource.start);
    let end = group.iter().map(|b| b.end).max().unwrap_or(resource.end);
    Finding {
        kind: Kind::DuplicateBill,
        account_id: resource.account_id.clone(),
        product: resource.product.clone(),
        sub_product: resource.sub_product.clone(),
        resource_id: resource.resource_id.clone(),
        currency: resource.currency.clone(),
        window_start: start,
        window_end: end,
        bill_ids: group.iter().map(|b| b.bill_id.clone()).collect(),
        usage_ids: inside.iter().map(|u| u.usage_id.clone()).collect(),
        expected: inside.iter().map(|u| u.quantity * u.unit_price).sum(),
        billed: group.iter().map(|b| b.list_amount).sum(),
    }
}

/// `payable_mismatch`: `payable_amount` ≠ list − discount − voucher.
pub fn payable_mismatch(b: &BillLine, tolerance: Decimal) -> Option<Finding> {
    let expected = b.list_amount - b.discount_amount - b.voucher_amount;
    beyond(b.payable_amount - expected, tolerance)
        .then(|| on_bill(Kind::PayableMismatch, b, expected, b.payable_amount))
}

/// `discount_mismatch`: the discount differs from list × the rate the line is expected at
/// (`rules::discounts`: R3, R4 or the account's own).
pub fn discount_mismatch(b: &BillLine, rate: Decimal, tolerance: Decimal) -> Option<Finding> {
    let expected = b.list_amount * rate;
    beyond(b.discount_amount - expected, tolerance)
        .then(|| on_bill(Kind::DiscountMismatch, b, expected, b.discount_amount))
}

/// `voucher_on_hosted_child`: a rolled-up line used a voucher, which R3 forbids.
pub fn voucher_on_hosted_child(b: &BillLine, hosted: bool, tolerance: Decimal) -> Option<Finding> {
    (hosted && beyond(b.voucher_amount, tolerance)).then(|| {
        on_bill(
            Kind::VoucherOnHostedChild,
            b,
            Decimal::ZERO,
            b.voucher_amount,
        )
    })
}

/// `hosted_non_credit`: a rolled-up line paid other than by credit. The billed side is the
/// payable so paid, against 0.
pub fn hosted_non_credit(b: &BillLine, hosted: bool) -> Option<Finding> {
    (hosted && b.paid_with != PaidWith::Credit)
        .then(|| on_bill(Kind::HostedNonCredit, b, Decimal::ZERO, b.payable_amount))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::time::{Timestamp, parse_timestamp};
    use crate::rules::testing;

    const SH: chrono_tz::Tz = chrono_tz::Asia::Shanghai;
    const TOLERANCE: Decimal = Decimal::from_parts(1, 0, 0, false, 2);

    fn ts(s: &str) -> Timestamp {
        parse_timestamp(s, SH).unwrap()
    }

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    /// A bill of 100 list, 10 discount, no voucher, 90 payable, paid in cash.
    fn bill() -> BillLine {
        BillLine {
            resource_id: "r".into(),
            deducted_at: None,
            list_amount: d("100"),
            discount_amount: d("10"),
            ..testing::bill("b1", "a", "2026-10-05", "90")
        }
    }

    fn usage(id: &str, quantity: &str, price: &str) -> UsageRecord {
        UsageRecord {
            line: 2,
            usage_id: id.into(),
            account_id: "a".into(),
            product: "cvm".into(),
            sub_product: "".into(),
            resource_id: "r".into(),
            start: ts("2026-10-05 01:00:00"),
            end: ts("2026-10-05 02:00:00"),
            quantity: d(quantity),
            unit: "h".into(),
            unit_price: d(price),
            currency: "CNY".into(),
        }
    }

    #[test]
    fn amount_mismatch_beyond_the_tolerance_names_the_records() {
        let (u1, u2) = (usage("u1", "2", "30"), usage("u2", "1", "39.99"));
        assert!(
            amount_mismatch(&bill(), &[&u1, &u2], TOLERANCE).is_none(),
            "a difference of exactly the tolerance is ignored"
        );
        let far = usage("u4", "1", "10");
        let f = amount_mismatch(&bill(), &[&u1, &far], TOLERANCE).expect("a finding");
        assert_eq!(
            (f.expected, f.billed, f.difference()),
            (d("70"), d("100"), d("30"))
        );
        assert_eq!(f.usage_ids, vec!["u1", "u4"]);
        assert_eq!(f.bill_ids, vec!["b1"]);
        assert!(amount_mismatch(&bill(), &[], TOLERANCE).is_none());
    }

    #[test]
    fn bill_without_usage_only_when_it_lists_money() {
        let f = bill_without_usage(&bill(), &[]).expect("a finding");
        assert_eq!(
            (f.kind, f.expected, f.billed),
            (Kind::BillWithoutUsage, d("0"), d("100"))
        );
        let free = BillLine {
            list_amount: Decimal::ZERO,
            ..bill()
        };
        assert!(bill_without_usage(&free, &[]).is_none());
        let u = usage("u1", "1", "1");
        assert!(bill_without_usage(&bill(), &[&u]).is_none());
    }

    #[test]
    fn unbilled_usage_expects_quantity_times_price() {
        let f = unbilled_usage(&usage("u1", "1.5", "2"));
        assert_eq!(
            (f.expected, f.billed, f.difference()),
            (d("3"), d("0"), d("-3"))
        );
        assert_eq!(f.usage_ids, vec!["u1"]);
        assert!(f.bill_ids.is_empty());
    }

    #[test]
    fn duplicate_bill_spans_the_group_and_sums_both_sides() {
        let metered = |id: &str, start: &str, end: &str| Metered {
            place: 0,
            start: ts(start),
            end: ts(end),
            line: 2,
            bill_id: id.into(),
            list_amount: d("5"),
            used: true,
        };
        let group = [
            metered("b1", "2026-10-05", "2026-10-06"),
            metered("b2", "2026-10-05 12:00:00", "2026-10-07"),
        ];
        let u = usage("u1", "1", "5");
        let f = duplicate_bill(&u, &group, &[&u]);
        assert_eq!(f.bill_ids, vec!["b1", "b2"]);
        assert_eq!(
            (f.window_start, f.window_end),
            (ts("2026-10-05"), ts("2026-10-07"))
        );
        assert_eq!((f.expected, f.billed), (d("5"), d("10")));
    }

    #[test]
    fn payable_mismatch_against_list_less_discount_and_voucher() {
        assert!(payable_mismatch(&bill(), TOLERANCE).is_none());
        let off = BillLine {
            voucher_amount: d("5"),
            ..bill()
        };
        let f = payable_mismatch(&off, TOLERANCE).expect("a finding");
        assert_eq!(
            (f.expected, f.billed, f.difference()),
            (d("85"), d("90"), d("5"))
        );
    }

    #[test]
    fn discount_mismatch_against_list_times_the_expected_rate() {
        assert!(discount_mismatch(&bill(), d("0.1"), TOLERANCE).is_none());
        let f = discount_mismatch(&bill(), d("0.2"), TOLERANCE).expect("a finding");
        assert_eq!(
            (f.expected, f.billed, f.difference()),
            (d("20"), d("10"), d("-10"))
        );
    }

    #[test]
    fn hosted_lines_take_no_voucher_and_pay_by_credit() {
        let voucher = BillLine {
            voucher_amount: d("3"),
            ..bill()
        };
        assert!(voucher_on_hosted_child(&voucher, false, TOLERANCE).is_none());
        let f = voucher_on_hosted_child(&voucher, true, TOLERANCE).expect("a finding");
        assert_eq!((f.expected, f.billed), (d("0"), d("3")));
        assert!(hosted_non_credit(&bill(), false).is_none());
        let f = hosted_non_credit(&bill(), true).expect("cash on a hosted line");
        assert_eq!(f.billed, d("90"));
        let credit = BillLine {
            paid_with: PaidWith::Credit,
            ..bill()
        };
        assert!(hosted_non_credit(&credit, true).is_none());
    }
}
