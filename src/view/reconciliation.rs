//! The reconciliation (R7) as printed: one row per finding, and the summary by kind and currency
//! that `reconciliation.pdf`, `manifest.json` and the terminal show.

use std::collections::BTreeMap;

use crate::model::records::Id;
use crate::rules::reconcile::{Finding, Kind};
use crate::view::{Figure, Look};

/// One finding, most money first.
pub struct FindingRow<'a> {
    pub kind: Kind,
    pub account_id: &'a str,
    pub product: &'a str,
    pub sub_product: &'a str,
    pub resource_id: &'a str,
    /// Local time, `YYYY-MM-DD HH:MM:SS`.
    pub window_start: String,
    pub window_end: String,
    pub bill_ids: &'a [Id],
    pub usage_ids: &'a [Id],
    pub expected: Figure,
    pub billed: Figure,
    /// The printed billed minus the printed expected, so each row adds up as printed.
    pub difference: Figure,
    pub currency: &'a str,
}

/// Findings of one kind in one currency: how many, and the sum of their printed differences.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KindTotal {
    pub kind: Kind,
    pub currency: String,
    pub count: usize,
    pub difference: Figure,
}

/// The findings as printed, in their order, each formatted when it is reached: the CSV and the
/// PDF each go through them once, and neither holds them all.
pub fn rows<'a>(
    findings: &'a [Finding],
    look: &'a Look,
) -> impl Iterator<Item = FindingRow<'a>> + 'a {
    findings.iter().map(|f| row(f, look))
}

fn row<'a>(f: &'a Finding, look: &Look) -> FindingRow<'a> {
    let (expected, billed) = (look.round(f.expected), look.round(f.billed));
    FindingRow {
        kind: f.kind,
        account_id: &f.account_id,
        product: &f.product,
        sub_product: &f.sub_product,
        resource_id: &f.resource_id,
        window_start: f.window_start.format_local(look.period.tz),
        window_end: f.window_end.format_local(look.period.tz),
        bill_ids: &f.bill_ids,
        usage_ids: &f.usage_ids,
        expected,
        billed,
        difference: billed - expected,
        currency: &f.currency,
    }
}

/// Counts and printed differences per kind (in the contract's order) and currency.
pub fn summary<'a>(rows: impl IntoIterator<Item = FindingRow<'a>>) -> Vec<KindTotal> {
    let mut sums: BTreeMap<(Kind, &str), (usize, Figure)> = BTreeMap::new();
    for f in rows {
        let s = sums.entry((f.kind, f.currency)).or_default();
        s.0 += 1;
        s.1 += f.difference;
    }
    sums.into_iter()
        .map(|((kind, currency), (count, difference))| KindTotal {
            kind,
            currency: currency.to_string(),
            count,
            difference,
        })
        .collect()
}

/// One account's findings in one currency, for the report's "accounts with the most money in
/// findings": how many, the money at stake (the sum of the printed differences' sizes, so that
/// an overcharge and an undercharge do not cancel) and the net of the differences.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountTotal {
    pub account_id: String,
    pub currency: String,
    pub count: usize,
    pub at_stake: Figure,
    pub difference: Figure,
}

/// The `limit` accounts with the most money at stake in findings, most first (ties by account
/// and currency, so the order is the same on every run).
pub fn accounts<'a>(
    rows: impl IntoIterator<Item = FindingRow<'a>>,
    limit: usize,
) -> Vec<AccountTotal> {
    let mut sums: BTreeMap<(&str, &str), (usize, Figure, Figure)> = BTreeMap::new();
    for f in rows {
        let s = sums.entry((f.account_id, f.currency)).or_default();
        s.0 += 1;
        s.1 += f.difference.abs();
        s.2 += f.difference;
    }
    let mut out: Vec<AccountTotal> = sums
        .into_iter()
        .map(
            |((account, currency), (count, at_stake, difference))| AccountTotal {
                account_id: account.to_string(),
                currency: currency.to_string(),
                count,
                at_stake,
                difference,
            },
        )
        .collect();
    // A stable sort keeps the map's (account, currency) order among equal amounts.
    out.sort_by_key(|a| std::cmp::Reverse(a.at_stake));
    out.truncate(limit);
    out
}
