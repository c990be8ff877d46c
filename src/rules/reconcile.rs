//! R7 Reconciliation: the cloud's bills against the reseller's meter and the discount rules.
//!
//! ## What it does
//! Usage records and bills are matched on account, product, sub-product, resource and currency.
//! A bill of cycle `hour`, `day`, `week` or `month` covers the records whose `[start, end)` lies
//! inside its `[charge_start, charge_end)`, and is expected to list Σ quantity × unit_price of them.
//! On metered resources (a key with any usage record) it reports `amount_mismatch`,
//! `unbilled_usage`, `bill_without_usage` and `duplicate_bill`; on every bill line it reports
//! `payable_mismatch`, `discount_mismatch`, `voucher_on_hosted_child` and `hosted_non_credit`.
//! Differences up to `reconcile_tolerance` are ignored.
//!
//! A record that straddles two bills lies inside neither: it is `unbilled_usage`, and each bill is
//! compared with the records it covers whole. Matching looks at every bill, whatever its month, so a
//! record is never called unbilled because its bill belongs to another month.
//!
//! ## How it stays fast
//! Records are grouped by key and sorted by start; each bill finds its records with one binary
//! search and a scan of the records that start inside its window. No record is compared with a
//! bill of another key.

use rust_decimal::Decimal;
use rustc_hash::FxHashMap;

use crate::model::period::Period;
use crate::model::records::*;
use crate::model::time::Timestamp;
use crate::rules::relations::Discounts;
use crate::rules::rollup::Rollup;

/// The kinds of finding, in SPEC order.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    AmountMismatch,
    UnbilledUsage,
    BillWithoutUsage,
    DuplicateBill,
    PayableMismatch,
    DiscountMismatch,
    VoucherOnHostedChild,
    HostedNonCredit,
}

impl Kind {
    pub const ALL: [Kind; 8] = [
        Kind::AmountMismatch,
        Kind::UnbilledUsage,
        Kind::BillWithoutUsage,
        Kind::DuplicateBill,
        Kind::PayableMismatch,
        Kind::DiscountMismatch,
        Kind::VoucherOnHostedChild,
        Kind::HostedNonCredit,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::AmountMismatch => "amount_mismatch",
            Kind::UnbilledUsage => "unbilled_usage",
            Kind::BillWithoutUsage => "bill_without_usage",
            Kind::DuplicateBill => "duplicate_bill",
            Kind::PayableMismatch => "payable_mismatch",
            Kind::DiscountMismatch => "discount_mismatch",
            Kind::VoucherOnHostedChild => "voucher_on_hosted_child",
            Kind::HostedNonCredit => "hosted_non_credit",
        }
    }
}

/// One finding, with exact amounts: `expected` is the meter's or the rule's side, `billed` the
/// bill's.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    pub kind: Kind,
    pub account_id: Text,
    pub product: Text,
    pub sub_product: Text,
    pub resource_id: Text,
    pub currency: Text,
    pub window_start: Timestamp,
    pub window_end: Timestamp,
    pub bill_ids: Vec<Id>,
    pub usage_ids: Vec<Id>,
    pub expected: Decimal,
    pub billed: Decimal,
}

impl Finding {
    pub fn difference(&self) -> Decimal {
        self.billed - self.expected
    }
}

type Key<'a> = (&'a str, &'a str, &'a str, &'a str, &'a str);

fn bill_key(b: &BillLine) -> Key<'_> {
    (
        &b.account_id,
        &b.product,
        &b.sub_product,
        &b.resource_id,
        &b.currency,
    )
}

fn usage_key(u: &UsageRecord) -> Key<'_> {
    (
        &u.account_id,
        &u.product,
        &u.sub_product,
        &u.resource_id,
        &u.currency,
    )
}

/// What reconciliation reads.
pub struct ReconcileInput<'a> {
    pub bills: &'a [BillLine],
    pub usage: &'a [UsageRecord],
    pub rollup: &'a Rollup<'a>,
    pub discounts: &'a Discounts<'a>,
}

/// Every finding for the month, most money first.
pub fn reconcile(input: &ReconcileInput, period: &Period, tolerance: Decimal) -> Vec<Finding> {
    let beyond = |d: Decimal| d.abs() > tolerance;
    let mut findings = Vec::new();

    let usage = input.usage;
    // Records by key, as places in `usage`, sorted by start.
    let mut records: FxHashMap<Key, Vec<usize>> = FxHashMap::default();
    for (i, u) in usage.iter().enumerate() {
        records.entry(usage_key(u)).or_default().push(i);
    }
    for list in records.values_mut() {
        list.sort_by_key(|&i| (usage[i].start, usage[i].end));
    }
    // Whether each usage record lies inside some bill.
    let mut covered = vec![false; usage.len()];
    // Metered bills by key, for duplicates.
    let mut metered_bills: FxHashMap<Key, Vec<&BillLine>> = FxHashMap::default();

    for b in input.bills {
        let in_scope = period.contains(b.charge_start);
        if b.billing_cycle != BillingCycle::Once
            && let Some(list) = records.get(&bill_key(b))
        {
            metered_bills.entry(bill_key(b)).or_default().push(b);
            let first = list.partition_point(|&i| usage[i].start < b.charge_start);
            let inside: Vec<&UsageRecord> = list[first..]
                .iter()
                .take_while(|&&i| usage[i].start < b.charge_end)
                .filter(|&&i| usage[i].end <= b.charge_end)
                .map(|&i| {
                    covered[i] = true;
                    &usage[i]
                })
                .collect();
            if in_scope {
                let expected: Decimal = inside.iter().map(|u| u.quantity * u.unit_price).sum();
                if inside.is_empty() {
                    if b.list_amount > Decimal::ZERO {
                        findings.push(bill_finding(
                            Kind::BillWithoutUsage,
                            b,
                            Decimal::ZERO,
                            b.list_amount,
                        ));
                    }
                } else if beyond(b.list_amount - expected) {
                    let mut f = bill_finding(Kind::AmountMismatch, b, expected, b.list_amount);
                    f.usage_ids = inside.iter().map(|u| u.usage_id.clone()).collect();
                    findings.push(f);
                }
            }
        }
        if !in_scope {
            continue;
        }
        let expected_payable = b.list_amount - b.discount_amount - b.voucher_amount;
        if beyond(b.payable_amount - expected_payable) {
            findings.push(bill_finding(
                Kind::PayableMismatch,
                b,
                expected_payable,
                b.payable_amount,
            ));
        }
        let rolled_to = input.rollup.rolled_to(b);
        let rate = input.discounts.expected(b, rolled_to);
        let expected_discount = b.list_amount * rate;
        if beyond(b.discount_amount - expected_discount) {
            findings.push(bill_finding(
                Kind::DiscountMismatch,
                b,
                expected_discount,
                b.discount_amount,
            ));
        }
        if rolled_to.is_some() {
            if beyond(b.voucher_amount) {
                findings.push(bill_finding(
                    Kind::VoucherOnHostedChild,
                    b,
                    Decimal::ZERO,
                    b.voucher_amount,
                ));
            }
            if b.paid_with != PaidWith::Credit {
                findings.push(bill_finding(
                    Kind::HostedNonCredit,
                    b,
                    Decimal::ZERO,
                    b.payable_amount,
                ));
            }
        }
    }

    let unbilled = usage
        .iter()
        .zip(&covered)
        .filter(|(u, covered)| !**covered && period.contains(u.start));
    for (u, _) in unbilled {
        findings.push(Finding {
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
        });
    }

    for (key, mut bills) in metered_bills {
        bills.sort_by_key(|b| (b.charge_start, b.charge_end, b.line));
        for group in overlapping_groups(&bills) {
            if group.len() < 2 || !group.iter().any(|b| period.contains(b.charge_start)) {
                continue;
            }
            let start = group
                .iter()
                .map(|b| b.charge_start)
                .min()
                .unwrap_or(group[0].charge_start);
            let end = group
                .iter()
                .map(|b| b.charge_end)
                .max()
                .unwrap_or(group[0].charge_end);
            let list = records.get(&key).map_or(&[][..], Vec::as_slice);
            let inside: Vec<&UsageRecord> = list
                .iter()
                .map(|&i| &usage[i])
                .filter(|u| {
                    group
                        .iter()
                        .any(|b| b.charge_start <= u.start && u.end <= b.charge_end)
                })
                .collect();
            let first = group[0];
            findings.push(Finding {
                kind: Kind::DuplicateBill,
                account_id: first.account_id.clone(),
                product: first.product.clone(),
                sub_product: first.sub_product.clone(),
                resource_id: first.resource_id.clone(),
                currency: first.currency.clone(),
                window_start: start,
                window_end: end,
                bill_ids: group.iter().map(|b| b.bill_id.clone()).collect(),
                usage_ids: inside.iter().map(|u| u.usage_id.clone()).collect(),
                expected: inside.iter().map(|u| u.quantity * u.unit_price).sum(),
                billed: group.iter().map(|b| b.list_amount).sum(),
            });
        }
    }

    findings.sort_by(|a, b| {
        b.difference()
            .abs()
            .cmp(&a.difference().abs())
            .then(a.kind.cmp(&b.kind))
            .then_with(|| a.bill_ids.cmp(&b.bill_ids))
            .then_with(|| a.usage_ids.cmp(&b.usage_ids))
    });
    findings
}

/// Splits bills sorted by start into groups connected by overlapping windows.
fn overlapping_groups<'a>(bills: &[&'a BillLine]) -> Vec<Vec<&'a BillLine>> {
    let mut groups: Vec<Vec<&BillLine>> = Vec::new();
    let mut reach = Timestamp(i64::MIN);
    for b in bills {
        match groups.last_mut() {
            Some(g) if b.charge_start < reach => {
                g.push(b);
                reach = reach.max(b.charge_end);
            }
            _ => {
                groups.push(vec![b]);
                reach = b.charge_end;
            }
        }
    }
    groups
}

fn bill_finding(kind: Kind, b: &BillLine, expected: Decimal, billed: Decimal) -> Finding {
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
