//! R5 Rebates: each partner's commission on its customers' consumption in the month.
//!
//! ## What it does
//! Every bill line counted in the `rebate_basis` period earns `payable × rate` for the partner
//! whose link to the line's account is in force at `charge_start`. The rate is the most specific
//! special rebate in force for that partner, account, product, sub-product and payment mode, else
//! the base rate of the partner's tier for the product (an exact payment mode beats `*`), else 0.
//! Lines that share account, product, sub-product, payment mode, rate, rate source and currency
//! form one statement line.
//!
//! ## Why
//! Seed 002: the partner is paid on actual consumption after discounts and vouchers, and special
//! approvals override the base rate for one customer during a window.
//!
//! ## How it stays fast
//! Rates and links change only at their windows' edges. For each (account, product, sub-product,
//! payment mode) the rule computes the resolution once per interval between edges, and each line
//! then costs one hash lookup and one binary search: the rate tables are never scanned per line.

use std::collections::{BTreeMap, HashMap};

use rust_decimal::Decimal;

use crate::config::RebateBasis;
use crate::ingest::Reject;
use crate::ingest::schema;
use crate::model::period::Period;
use crate::model::records::*;
use crate::model::time::Timestamp;

/// Where a line's rate came from.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RateSource {
    Base,
    Special,
}

impl RateSource {
    pub fn as_str(self) -> &'static str {
        match self {
            RateSource::Base => "base",
            RateSource::Special => "special",
        }
    }
}

/// The tables rebates are computed from.
pub struct RebateInput<'a> {
    pub bills: &'a [BillLine],
    pub links: &'a [PartnerLink],
    pub partners: &'a BTreeMap<Text, Partner>,
    pub rates: &'a [RebateRate],
    pub specials: &'a [SpecialRebate],
}

/// One statement line: bill lines grouped by everything that sets their rate, with exact sums.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RebateLine {
    pub partner_id: Text,
    pub currency: Text,
    pub account_id: Text,
    pub product: Text,
    pub sub_product: Text,
    pub payment_mode: PaymentMode,
    pub rate: Decimal,
    pub source: RateSource,
    /// Σ payable of the grouped lines.
    pub base: Decimal,
    /// Σ payable × rate, unrounded.
    pub rebate: Decimal,
    pub lines: u64,
}

/// The result of R5: statement lines sorted by partner, currency and line key, plus the rate rows
/// rejected because they tie.
#[derive(Debug, Default)]
pub struct Rebates {
    pub lines: Vec<RebateLine>,
    pub rejects: Vec<Reject>,
}

/// What a line resolves to at an instant.
#[derive(Clone, Debug, PartialEq)]
struct Resolution {
    partner: Text,
    rate: Decimal,
    source: RateSource,
}

/// (account, product, sub-product, payment mode): everything but time that a rate depends on.
type Key = (Text, Text, Text, PaymentMode);
/// A statement line's identity, in output order.
type GroupKey = (
    Text,
    Text,
    Text,
    Text,
    Text,
    PaymentMode,
    Decimal,
    RateSource,
);

pub fn rebates(input: &RebateInput, period: &Period, basis: RebateBasis) -> Rebates {
    let (specials, mut rejects) =
        without_ties(input.specials, specials_tie, schema::SPECIAL_REBATES.name);
    let (rates, base_rejects) = without_ties(input.rates, rates_tie, schema::REBATE_RATES.name);
    rejects.extend(base_rejects);
    let tables = Tables::new(input, &specials, &rates);

    let mut segments: HashMap<Key, Vec<(Timestamp, Option<Resolution>)>> = HashMap::new();
    let mut groups: BTreeMap<GroupKey, (Decimal, Decimal, u64)> = BTreeMap::new();
    for b in input.bills {
        let counted = match basis {
            RebateBasis::Usage => period.contains(b.charge_start),
            RebateBasis::Deduction => b.deducted_at.is_some_and(|t| period.contains(t)),
        };
        if !counted {
            continue;
        }
        let key = (
            b.account_id.clone(),
            b.product.clone(),
            b.sub_product.clone(),
            b.payment_mode,
        );
        let segs = segments
            .entry(key)
            .or_insert_with_key(|k| tables.segments(k));
        let i = segs.partition_point(|(start, _)| *start <= b.charge_start);
        let Some(Some(r)) = i.checked_sub(1).map(|i| &segs[i].1) else {
            continue;
        };
        let group = groups
            .entry((
                r.partner.clone(),
                b.currency.clone(),
                b.account_id.clone(),
                b.product.clone(),
                b.sub_product.clone(),
                b.payment_mode,
                r.rate,
                r.source,
            ))
            .or_default();
        group.0 += b.payable_amount;
        group.1 += b.payable_amount * r.rate;
        group.2 += 1;
    }
    let lines = groups
        .into_iter()
        .map(
            |(
                (
                    partner_id,
                    currency,
                    account_id,
                    product,
                    sub_product,
                    payment_mode,
                    rate,
                    source,
                ),
                (base, rebate, lines),
            )| {
                RebateLine {
                    partner_id,
                    currency,
                    account_id,
                    product,
                    sub_product,
                    payment_mode,
                    rate,
                    source,
                    base,
                    rebate,
                    lines,
                }
            },
        )
        .collect();
    Rebates { lines, rejects }
}

/// The rate tables, indexed for resolution.
struct Tables<'a> {
    links: HashMap<&'a Text, Vec<&'a PartnerLink>>,
    specials: HashMap<(&'a Text, &'a Text), Vec<&'a SpecialRebate>>,
    rates: HashMap<&'a Text, Vec<&'a RebateRate>>,
    partners: &'a BTreeMap<Text, Partner>,
}

impl<'a> Tables<'a> {
    fn new(
        input: &'a RebateInput,
        specials: &[&'a SpecialRebate],
        rates: &[&'a RebateRate],
    ) -> Self {
        let mut t = Tables {
            links: HashMap::new(),
            specials: HashMap::new(),
            rates: HashMap::new(),
            partners: input.partners,
        };
        for l in input.links {
            t.links.entry(&l.account_id).or_default().push(l);
        }
        for s in specials {
            t.specials
                .entry((&s.account_id, &s.product))
                .or_default()
                .push(s);
        }
        for r in rates {
            t.rates.entry(&r.product).or_default().push(r);
        }
        t
    }

    /// The resolution of a key on each interval between the edges of every window that bears on
    /// it, as `(interval start, resolution)` sorted by start.
    fn segments(
        &self,
        (account, product, sub_product, mode): &Key,
    ) -> Vec<(Timestamp, Option<Resolution>)> {
        let links = self.links.get(account).map_or(&[][..], Vec::as_slice);
        let specials = self
            .specials
            .get(&(account, product))
            .map_or(&[][..], Vec::as_slice);
        let rates = self.rates.get(product).map_or(&[][..], Vec::as_slice);
        let mut edges: Vec<Timestamp> = std::iter::once(Timestamp(i64::MIN))
            .chain(links.iter().flat_map(|l| edges(&l.window)))
            .chain(specials.iter().flat_map(|s| edges(&s.window)))
            .chain(rates.iter().flat_map(|r| edges(&r.window)))
            .collect();
        edges.sort_unstable();
        edges.dedup();
        edges
            .into_iter()
            .map(|t| {
                let resolution = links.iter().find(|l| l.window.contains(t)).map(|link| {
                    let special = specials
                        .iter()
                        .filter(|s| {
                            s.partner_id == link.partner_id
                                && s.sub_product.as_ref().is_none_or(|x| x == sub_product)
                                && s.payment_mode.is_none_or(|m| m == *mode)
                                && s.window.contains(t)
                        })
                        .max_by_key(|s| specificity(s));
                    match special {
                        Some(s) => Resolution {
                            partner: link.partner_id.clone(),
                            rate: s.rate,
                            source: RateSource::Special,
                        },
                        None => {
                            let tier = self.partners.get(&link.partner_id).map(|p| &p.tier);
                            let rate = rates
                                .iter()
                                .filter(|r| {
                                    Some(&r.tier) == tier
                                        && r.window.contains(t)
                                        && matches!(
                                            (r.payment_mode, mode),
                                            (ModeFilter::Any, _)
                                                | (ModeFilter::Prepaid, PaymentMode::Prepaid)
                                                | (ModeFilter::Postpaid, PaymentMode::Postpaid)
                                        )
                                })
                                .max_by_key(|r| r.payment_mode != ModeFilter::Any)
                                .map_or(Decimal::ZERO, |r| r.rate);
                            Resolution {
                                partner: link.partner_id.clone(),
                                rate,
                                source: RateSource::Base,
                            }
                        }
                    }
                });
                (t, resolution)
            })
            .collect()
    }
}

fn edges(w: &Window) -> impl Iterator<Item = Timestamp> {
    std::iter::once(w.from).chain(w.to)
}

/// How many of the optional filters a special rebate sets: more is more specific.
fn specificity(s: &SpecialRebate) -> u8 {
    u8::from(s.sub_product.is_some()) + u8::from(s.payment_mode.is_some())
}

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
        && specificity(a) == specificity(b)
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

/// Splits rate rows into those that can be used and rejects for every row that ties with another:
/// a tie is an error, and neither row is guessed at.
fn without_ties<'a, T: crate::ingest::HasLine>(
    rows: &'a [T],
    tie: fn(&T, &T) -> bool,
    file: &'static str,
) -> (Vec<&'a T>, Vec<Reject>) {
    let mut kept = Vec::new();
    let mut rejects = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let others: Vec<String> = rows
            .iter()
            .enumerate()
            .filter(|(j, o)| *j != i && tie(row, o))
            .map(|(_, o)| o.line().to_string())
            .collect();
        if others.is_empty() {
            kept.push(row);
        } else {
            rejects.push(Reject {
                file,
                line: row.line(),
                column: "rate".into(),
                value: String::new(),
                reason: format!(
                    "ties with the row on line {}: same specificity, overlapping windows, different rates",
                    others.join(", ")
                ),
            });
        }
    }
    (kept, rejects)
}
