//! R5 rate resolution: which partner earns on a line, and at what rate.
//!
//! ## What it does
//! [`resolve`] answers, for a line's account, product, sub-product and payment mode at one
//! instant: the partner whose link is in force, and the rate. A special rebate in force for that
//! partner and account that matches the product, sub-product and payment mode wins, the most
//! specific first ([`SpecialRebate::specificity`]); otherwise the base rate of the partner's tier
//! for the product, where an exact payment mode beats `*`; otherwise 0. With no link in force,
//! nobody earns.
//!
//! Two matches of the same specificity with different rates would make the answer a guess. The
//! cross-table checks reject both rows before any rule runs (`checks::rate_ties`), so every
//! `max_by_key` below has one winner.
//!
//! ## Why
//! Seed 002: special approvals override the base rate for one customer during a window, and the
//! partner is whoever the customer was linked to when the resource was used.
//!
//! ## How it stays fast
//! Rates and links change only at their windows' edges. [`RateTables::resolutions`] resolves a
//! key once per interval between those edges, and each line then costs one lookup.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use rustc_hash::FxHashMap;

use crate::model::records::*;
use crate::model::time::Timestamp;
use crate::rules::accounts::Resolved;

/// Where a line's rate came from.
#[derive(
    Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
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

/// What a line resolves to at an instant.
#[derive(Clone, Debug, PartialEq)]
pub struct Resolution<'a> {
    pub partner: &'a Text,
    /// The rate, where the rate tables hold it: a resolution is kept for every interval a key
    /// keeps, so it stays small.
    pub rate: &'a Decimal,
    pub source: RateSource,
}

/// The tables rates are resolved from, besides an account's links and special rebates.
pub struct RebateInput<'a> {
    pub partners: &'a BTreeMap<Text, Partner>,
    pub rates: &'a [RebateRate],
}

/// What bears on one key: its account's links, the specials of its account and product, and the
/// base rates of its product.
pub struct Candidates<'r, 'a> {
    pub links: &'r [&'a PartnerLink],
    pub specials: &'r [&'a SpecialRebate],
    pub rates: &'r [&'a RebateRate],
    pub partners: &'a BTreeMap<Text, Partner>,
}

/// R5's rate for a line of `sub_product` and `mode` at instant `t`, from the rows that bear on
/// its key; `None` when no partner link is in force.
pub fn resolve<'a>(
    c: &Candidates<'_, 'a>,
    sub_product: &Text,
    mode: PaymentMode,
    t: Timestamp,
) -> Option<Resolution<'a>> {
    let link = c.links.iter().find(|l| l.window.contains(t))?;
    let special = c
        .specials
        .iter()
        .filter(|s| {
            s.partner_id == link.partner_id
                && s.sub_product.as_ref().is_none_or(|x| x == sub_product)
                && s.payment_mode.is_none_or(|m| m == mode)
                && s.window.contains(t)
        })
        .max_by_key(|s| s.specificity());
    if let Some(s) = special {
        return Some(Resolution {
            partner: &link.partner_id,
            rate: &s.rate,
            source: RateSource::Special,
        });
    }
    let tier = c.partners.get(&link.partner_id).map(|p| &p.tier);
    let rate = c
        .rates
        .iter()
        .filter(|r| Some(&r.tier) == tier && r.window.contains(t) && r.payment_mode.admits(mode))
        .max_by_key(|r| r.payment_mode != ModeFilter::Any)
        .map_or(&Decimal::ZERO, |r| &r.rate);
    Some(Resolution {
        partner: &link.partner_id,
        rate,
        source: RateSource::Base,
    })
}

/// The base rates, indexed by the id of their product ([`Text::id`]); an account's links and
/// special rebates are resolved with the account ([`Resolved`]).
pub struct RateTables<'a> {
    rates: FxHashMap<usize, Vec<&'a RebateRate>>,
    partners: &'a BTreeMap<Text, Partner>,
}

impl<'a> RateTables<'a> {
    pub fn new(input: &RebateInput<'a>) -> Self {
        let mut t = RateTables {
            rates: FxHashMap::default(),
            partners: input.partners,
        };
        for r in input.rates {
            t.rates.entry(r.product.id()).or_default().push(r);
        }
        t
    }

    /// The resolution of a line's key, the line being of `account`, on each interval between the
    /// edges of every window that bears on it, as `(interval start, resolution)` sorted by start.
    pub fn resolutions(
        &self,
        line: &BillLine,
        account: &Resolved<'a>,
    ) -> Vec<(Timestamp, Option<Resolution<'a>>)> {
        let links: Vec<&'a PartnerLink> = account.links().collect();
        let specials: Vec<&'a SpecialRebate> = account
            .specials()
            .filter(|s| s.product == line.product)
            .collect();
        let c = Candidates {
            links: &links,
            specials: &specials,
            rates: self
                .rates
                .get(&line.product.id())
                .map_or(&[][..], Vec::as_slice),
            partners: self.partners,
        };
        let mut edges: Vec<Timestamp> = std::iter::once(Timestamp(i64::MIN))
            .chain(c.links.iter().flat_map(|l| edges(&l.window)))
            .chain(c.specials.iter().flat_map(|s| edges(&s.window)))
            .chain(c.rates.iter().flat_map(|r| edges(&r.window)))
            .collect();
        edges.sort_unstable();
        edges.dedup();
        edges
            .into_iter()
            .map(|t| (t, resolve(&c, &line.sub_product, line.payment_mode, t)))
            .collect()
    }
}

fn edges(w: &Window) -> impl Iterator<Item = Timestamp> {
    std::iter::once(w.from).chain(w.to)
}
