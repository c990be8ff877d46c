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
//! Each finding is one function in [`findings`], which says when it is raised and with which
//! amounts; this module matches records to bills and hands each function what it judges.
//!
//! ## How it stays fast
//! Records are grouped by key and sorted by start; each bill finds its records with one binary
//! search and a scan of the records that start inside its window. No record is compared with a
//! bill of another key.

use rust_decimal::Decimal;
use rustc_hash::FxHashMap;

use crate::model::period::{InMonth, Period};
use crate::model::records::*;
use crate::model::time::Timestamp;
use crate::rules::accounts::{self, Master, Resolved};
use crate::rules::discounts;

mod findings;

/// The kinds of finding, in the contract's order.
#[derive(
    Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
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
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Finding {
    pub kind: Kind,
    pub account_id: Text,
    pub product: Text,
    pub sub_product: Text,
    #[serde(with = "crate::model::records::id_text")]
    pub resource_id: Id,
    pub currency: Text,
    pub window_start: Timestamp,
    pub window_end: Timestamp,
    #[serde(with = "crate::model::records::ids_text")]
    pub bill_ids: Vec<Id>,
    #[serde(with = "crate::model::records::ids_text")]
    pub usage_ids: Vec<Id>,
    pub expected: Decimal,
    pub billed: Decimal,
}

impl Finding {
    pub fn difference(&self) -> Decimal {
        self.billed - self.expected
    }
}

/// A resource: account, product, sub-product and currency by [`Text::id`], and the resource id,
/// which is too varied to be worth interning.
type Key<'a> = (usize, usize, usize, &'a str, usize);

fn bill_key(b: &BillLine) -> Key<'_> {
    (
        b.account_id.id(),
        b.product.id(),
        b.sub_product.id(),
        &b.resource_id,
        b.currency.id(),
    )
}

fn usage_key(u: &UsageRecord) -> Key<'_> {
    (
        u.account_id.id(),
        u.product.id(),
        u.sub_product.id(),
        &u.resource_id,
        u.currency.id(),
    )
}

/// The meter, indexed for matching: each metered resource's records, as places in `usage`, sorted
/// by start. Also what the per-line checks need.
pub struct Meter<'a> {
    usage: &'a [UsageRecord],
    /// Each metered resource's place.
    resources: FxHashMap<Key<'a>, u32>,
    /// The records as places in `usage`, by resource place, then start and end.
    records: Vec<u32>,
    /// Where each resource place's records start in `records`, and one more for the end.
    bounds: Vec<u32>,
    period: &'a Period,
    tolerance: Decimal,
}

impl<'a> Meter<'a> {
    pub fn new(usage: &'a [UsageRecord], period: &'a Period, tolerance: Decimal) -> Self {
        let mut resources: FxHashMap<Key<'a>, u32> = FxHashMap::default();
        assert!(
            u32::try_from(usage.len()).is_ok(),
            "fewer than 4 billion usage records"
        );
        let mut places: Vec<u32> = Vec::with_capacity(usage.len());
        for u in usage {
            let next = resources.len() as u32;
            places.push(*resources.entry(usage_key(u)).or_insert(next));
        }
        let mut records: Vec<u32> = (0..usage.len() as u32).collect();
        records.sort_unstable_by_key(|&i| {
            let u = &usage[i as usize];
            (places[i as usize], u.start, u.end, i)
        });
        let mut bounds = Vec::with_capacity(resources.len() + 1);
        for (at, &i) in records.iter().enumerate() {
            if bounds.len() <= places[i as usize] as usize {
                bounds.push(at as u32);
            }
        }
        bounds.push(records.len() as u32);
        Meter {
            usage,
            resources,
            records,
            bounds,
            period,
            tolerance,
        }
    }

    /// A metered resource's records, as places in `usage`, sorted by start and end.
    fn list(&self, place: u32) -> &[u32] {
        let place = place as usize;
        &self.records[self.bounds[place] as usize..self.bounds[place + 1] as usize]
    }
}

/// A bill line on a metered resource, kept for finding duplicates.
#[derive(Clone, Debug)]
struct Metered {
    /// The resource's place in the [`Meter`].
    place: u32,
    start: Timestamp,
    end: Timestamp,
    line: Line,
    bill_id: Id,
    list_amount: Decimal,
    /// Whether the bill was used in the month: a duplicate group is the month's if one of its
    /// bills is.
    used: bool,
}

/// The running reconciliation over some bill lines: the findings so far, which usage records some
/// bill covers, and the metered bills. These are kept in one list, not a list per resource, so
/// that a month with millions of them does not also hold a growing list and a table entry for each
/// resource; [`Matches::finish`] sorts them by resource.
pub struct Matches {
    findings: Vec<Finding>,
    covered: Vec<bool>,
    metered: Vec<Metered>,
}

impl Matches {
    pub fn new(meter: &Meter) -> Self {
        Matches {
            findings: Vec::new(),
            covered: vec![false; meter.usage.len()],
            metered: Vec::new(),
        }
    }

    /// Checks one bill line of `account`, placed at `placed`; `rolled_to` is the master R3 moved
    /// it to.
    pub fn add(
        &mut self,
        meter: &Meter,
        account: &Resolved,
        b: &BillLine,
        placed: InMonth,
        rolled_to: Option<&Master>,
    ) {
        let usage = meter.usage;
        let in_scope = placed.used;
        if b.billing_cycle != BillingCycle::Once
            && account.may_be_metered(accounts::metered_bits(
                &b.product,
                &b.sub_product,
                &b.resource_id,
                &b.currency,
            ))
            && let Some(&place) = meter.resources.get(&bill_key(b))
        {
            let list = meter.list(place);
            self.metered.push(Metered {
                place,
                start: b.charge_start,
                end: b.charge_end,
                line: b.line,
                bill_id: b.bill_id.clone(),
                list_amount: b.list_amount,
                used: in_scope,
            });
            let first = list.partition_point(|&i| usage[i as usize].start < b.charge_start);
            let inside: Vec<&UsageRecord> = list[first..]
                .iter()
                .map(|&i| i as usize)
                .take_while(|&i| usage[i].start < b.charge_end)
                .filter(|&i| usage[i].end <= b.charge_end)
                .map(|i| {
                    self.covered[i] = true;
                    &usage[i]
                })
                .collect();
            if in_scope {
                let found = findings::bill_without_usage(b, &inside)
                    .or_else(|| findings::amount_mismatch(b, &inside, meter.tolerance));
                self.findings.extend(found);
            }
        }
        if !in_scope {
            return;
        }
        let rate = discounts::expected(account, b, rolled_to);
        let hosted = rolled_to.is_some();
        self.findings.extend(
            [
                findings::payable_mismatch(b, meter.tolerance),
                rate.and_then(|rate| findings::discount_mismatch(b, rate, meter.tolerance)),
                findings::voucher_on_hosted_child(b, hosted, meter.tolerance),
                findings::hosted_non_credit(b, hosted),
            ]
            .into_iter()
            .flatten(),
        );
    }

    /// Appends the matches of a later pass, whose line numbers count from `lines_before`.
    pub fn merge(&mut self, mut later: Matches, lines_before: Line) {
        self.findings.append(&mut later.findings);
        for (mine, theirs) in self.covered.iter_mut().zip(later.covered) {
            *mine |= theirs;
        }
        for b in &mut later.metered {
            b.line += lines_before;
        }
        if self.metered.is_empty() {
            self.metered = later.metered;
        } else {
            self.metered.append(&mut later.metered);
        }
    }

    /// Every finding for the month, most money first: the per-line ones, then the usage no bill
    /// covers and the duplicate bills.
    pub fn finish(self, meter: &Meter) -> Vec<Finding> {
        let Matches {
            findings: mut found,
            covered,
            mut metered,
        } = self;
        let usage = meter.usage;
        let period = meter.period;
        let unbilled = usage
            .iter()
            .zip(&covered)
            .filter(|(u, covered)| !**covered && period.contains(u.start));
        found.extend(unbilled.map(|(u, _)| findings::unbilled_usage(u)));

        metered.sort_unstable_by_key(|b| (b.place, b.start, b.end, b.line));
        for bills in metered.chunk_by(|a, b| a.place == b.place) {
            if bills.len() < 2 {
                continue;
            }
            let list = meter.list(bills[0].place);
            let Some(resource) = list.first().map(|&i| &usage[i as usize]) else {
                continue;
            };
            for group in overlapping_groups(bills) {
                if group.len() < 2 || !group.iter().any(|b| b.used) {
                    continue;
                }
                let inside: Vec<&UsageRecord> = list
                    .iter()
                    .map(|&i| &usage[i as usize])
                    .filter(|u| group.iter().any(|b| b.start <= u.start && u.end <= b.end))
                    .collect();
                found.push(findings::duplicate_bill(resource, group, &inside));
            }
        }

        found.sort_by(most_money_first);
        found
    }
}

/// The order of findings: most money first, then by kind, bills and usage records.
fn most_money_first(a: &Finding, b: &Finding) -> std::cmp::Ordering {
    b.difference()
        .abs()
        .cmp(&a.difference().abs())
        .then(a.kind.cmp(&b.kind))
        .then_with(|| a.bill_ids.cmp(&b.bill_ids))
        .then_with(|| a.usage_ids.cmp(&b.usage_ids))
}

/// Adds `later`'s findings, over other accounts, to `findings`, in their order.
pub fn merge(findings: &mut Vec<Finding>, later: Vec<Finding>) {
    findings.extend(later);
    findings.sort_by(most_money_first);
}

/// Splits bills sorted by start into groups connected by overlapping windows.
fn overlapping_groups(bills: &[Metered]) -> Vec<&[Metered]> {
    let mut groups: Vec<&[Metered]> = Vec::new();
    let (mut from, mut reach) = (0, Timestamp(i64::MIN));
    for (i, b) in bills.iter().enumerate() {
        if i > from && b.start >= reach {
            groups.push(&bills[from..i]);
            from = i;
        }
        reach = if i == from { b.end } else { reach.max(b.end) };
    }
    if from < bills.len() {
        groups.push(&bills[from..]);
    }
    groups
}
