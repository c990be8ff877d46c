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

use rust_decimal::Decimal;

use crate::model::records::BillLine;
use crate::rules::accounts::{Master, Resolved};

/// The rate `line`, of `account`, is expected at: its master's when it is rolled up to
/// `rolled_to`; the master's under an inheriting management relation in force at `charge_start`
/// (in real time, R4); else the account's own. `None` when that account's rate is unknown
/// (accounts taken from exports): no discount is expected of the line.
pub fn expected(
    account: &Resolved,
    line: &BillLine,
    rolled_to: Option<&Master>,
) -> Option<Decimal> {
    if let Some(master) = rolled_to {
        return master.own_rate;
    }
    match account
        .inherits()
        .find(|m| m.relation.window.contains(line.charge_start))
    {
        Some(m) => m.own_rate,
        None => account.own_rate(),
    }
}
