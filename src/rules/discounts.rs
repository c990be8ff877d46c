//! R3/R4 discounts: the discount rate each bill line is expected at.
//!
//! ## What it does
//! A rolled-up line is expected at its master's `discount_rate` (R3); a child under a management
//! relation with `inherit_discount` is expected at its master's rate while the relation is in
//! force, in real time (R4); any other line at its account's own contract rate.
//!
//! ## Why
//! Seed 001: hosting moves billing to the master's contract, and management may pass the master's
//! discount on to the child. Reconciliation (R7) compares every line's discount with this rate.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use rustc_hash::FxHashMap;

use crate::model::records::*;

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
