//! The fold: how bill lines reach the rules without the rules knowing who read them.
//!
//! Ingestion reads `bills.csv` on every core and hands each typed line to a [`Fold`]; the rules
//! implement it. The trait lives in the model so that neither layer imports the other.

use crate::model::records::{BillLine, Line};

/// Running state over bill lines, one per core, merged at the end.
pub trait Fold: Send {
    fn add(&mut self, bill: &BillLine);
    /// Adds the fold of other lines, in any order; `lines_before` is added to the line numbers
    /// it kept.
    fn merge(&mut self, other: Self, lines_before: Line);
}

/// Reading bills without rules, as `settle validate` does.
impl Fold for () {
    fn add(&mut self, _: &BillLine) {}
    fn merge(&mut self, _: (), _: Line) {}
}
