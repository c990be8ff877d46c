//! R3/R4 relation checks, and the discount rate each bill line is expected at.
//!
//! ## What it does
//! Checks every account relation before any is applied, rejecting with its reason a hosting
//! relation between different legal entities, a hosting master that is a partner's customer, and a
//! relation that overlaps another relation of the same child. A cycle among the remaining relations
//! stops the run: no row-level rejection can settle which link of the cycle is wrong.
//!
//! ## Why
//! Seed 001: only accounts of the same real-name entity may be hosted, a distribution account
//! cannot act as a hosting master, and a child belongs to one master at a time.

use std::collections::{BTreeMap, BTreeSet};

use chrono_tz::Tz;
use rust_decimal::Decimal;
use rustc_hash::FxHashMap;

use crate::ingest::{Reject, schema};
use crate::model::records::*;

/// A cycle: the accounts in order, the first repeated at the end.
#[derive(Debug, PartialEq, Eq)]
pub struct Cycle(pub Vec<String>);

/// The rejects for every relation that breaks a check, or the cycle among those that pass.
pub fn check(
    relations: &[Relation],
    accounts: &BTreeMap<Text, Account>,
    links: &[PartnerLink],
    tz: Tz,
) -> Result<Vec<Reject>, Cycle> {
    let mut rejects = Vec::new();
    let mut valid: Vec<&Relation> = Vec::new();
    let reject = |r: &Relation, column: &str, value: &str, reason: String| Reject {
        file: schema::RELATIONS.name,
        line: r.line,
        column: column.into(),
        value: value.into(),
        reason,
    };
    let mut candidates: Vec<&Relation> = Vec::new();
    for r in relations {
        if r.kind == RelationKind::Hosting {
            let entity = |id: &Text| {
                accounts
                    .get(id)
                    .map(|a| a.entity_name.clone())
                    .unwrap_or_default()
            };
            let (child, master) = (entity(&r.child_id), entity(&r.master_id));
            if child != master {
                rejects.push(reject(
                    r,
                    "master_id",
                    &r.master_id,
                    format!(
                        "hosting needs the same `entity_name` on master and child, but the master is `{master}` and the child `{child}`"
                    ),
                ));
                continue;
            }
            if let Some(link) = links
                .iter()
                .find(|l| l.account_id == r.master_id && l.window.overlaps(&r.window))
            {
                rejects.push(reject(
                    r,
                    "master_id",
                    &r.master_id,
                    format!(
                        "the master has a partner link in force (`partner_links.csv` line {}), and a partner's customer cannot take hosting children",
                        link.line
                    ),
                ));
                continue;
            }
        }
        candidates.push(r);
    }
    // A child has at most one relation in force at a time: the one that took effect first stays.
    candidates.sort_by_key(|r| (r.window.from, r.line));
    for r in candidates {
        match valid.iter().find(|v| v.child_id == r.child_id && v.window.overlaps(&r.window)) {
            Some(earlier) => rejects.push(reject(
                r,
                "effective_at",
                &r.window.from.format_local(tz),
                format!(
                    "overlaps the relation of the same child on line {}; a child has at most one relation in force at any moment",
                    earlier.line
                ),
            )),
            None => valid.push(r),
        }
    }
    match find_cycle(&valid) {
        Some(cycle) => Err(cycle),
        None => Ok(rejects),
    }
}

/// Any cycle in the graph child → master, whatever the windows.
fn find_cycle(relations: &[&Relation]) -> Option<Cycle> {
    let mut edges: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for r in relations {
        edges.entry(&r.child_id).or_default().insert(&r.master_id);
    }
    fn visit<'a>(
        node: &'a str,
        edges: &BTreeMap<&'a str, BTreeSet<&'a str>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Option<Vec<String>> {
        if let Some(pos) = path.iter().position(|n| *n == node) {
            let mut cycle: Vec<String> = path[pos..].iter().map(|s| s.to_string()).collect();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if !done.insert(node) {
            return None;
        }
        path.push(node);
        for next in edges.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, edges, path, done) {
                return Some(c);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    edges
        .keys()
        .find_map(|start| visit(start, &edges, &mut Vec::new(), &mut done))
        .map(Cycle)
}

/// The discount rate each bill line is expected at (R3, R4, or the account's own contract),
/// indexed so that asking costs a lookup, not a scan of the relations.
pub struct Discounts<'a> {
    /// Each account's own rate, by id.
    rates: FxHashMap<usize, Decimal>,
    /// Inheriting management relations, by child.
    inherit: FxHashMap<usize, Vec<&'a Relation>>,
}

impl<'a> Discounts<'a> {
    pub fn new(relations: &'a [Relation], accounts: &'a BTreeMap<Text, Account>) -> Self {
        let mut inherit: FxHashMap<usize, Vec<&Relation>> = FxHashMap::default();
        for r in relations
            .iter()
            .filter(|r| r.kind == RelationKind::Management && r.inherit_discount)
        {
            inherit.entry(r.child_id.id()).or_default().push(r);
        }
        let rates = accounts
            .values()
            .map(|a| (a.account_id.id(), a.discount_rate))
            .collect();
        Discounts { rates, inherit }
    }

    /// An account's own rate; `None` when it is unknown (accounts taken from exports).
    fn rate(&self, id: &Text) -> Option<Decimal> {
        self.rates.get(&id.id()).copied()
    }

    /// The master's rate when the line is rolled up to it; the master's rate under an inheriting
    /// management relation in force at `charge_start` (in real time, R4); else the account's own.
    /// `None` when that account's rate is unknown: no discount is expected of the line.
    pub fn expected(&self, line: &BillLine, rolled_to: Option<&Text>) -> Option<Decimal> {
        if let Some(master) = rolled_to {
            return self.rate(master);
        }
        let inherited = self
            .inherit
            .get(&line.account_id.id())
            .and_then(|rs| rs.iter().find(|r| r.window.contains(line.charge_start)));
        match inherited {
            Some(r) => self.rate(&r.master_id),
            None => self.rate(&line.account_id),
        }
    }
}
