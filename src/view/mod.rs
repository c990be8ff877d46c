//! The presentation model: each document's rows, computed once, as printed.
//!
//! The rules keep exact sums. Every figure a document prints is rounded here, once, by the
//! dataset's `rounding`, and every total is the sum of the rounded figures above it, with a
//! `rounding_adjustment` where that differs from the rounded exact total (R8). The CSV writer,
//! the PDF writer, `manifest.json` and the terminal summary all read these rows, so they agree to
//! the cent, and nothing outside the rules and this layer rounds money.
//!
//! Names (account and partner names) and local timestamps are joined in here too, so that the
//! writers take rows and print them, knowing nothing of the dataset.

pub mod bridge;
pub mod consumption;
pub mod inputs;
pub mod invoices;
pub mod numbers;
pub mod reconciliation;
pub mod rollups;
pub mod statements;
pub mod supplement;

use std::collections::BTreeMap;
use std::ops::{Add, AddAssign, Sub};

use rust_decimal::Decimal;

use crate::model::money::{Rounding, format_2dp, round};
use crate::model::period::Period;
use crate::model::records::{Account, Partner, Text};

/// An amount as printed: rounded to 2 decimals by the dataset's policy, or a sum or difference
/// of such amounts. Only [`Figure::round`] makes one from an exact amount.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Figure(Decimal);

impl Figure {
    pub const ZERO: Figure = Figure(Decimal::ZERO);

    pub fn round(exact: Decimal, rounding: Rounding) -> Figure {
        Figure(round(exact, rounding))
    }

    pub fn value(self) -> Decimal {
        self.0
    }

    pub fn is_zero(self) -> bool {
        self.0.is_zero()
    }

    /// The size of the amount, without its sign.
    pub fn abs(self) -> Figure {
        Figure(self.0.abs())
    }

    /// `1234.50`, `-5.00`: the CSV form.
    pub fn plain(self) -> String {
        format_2dp(self.0)
    }
}

impl Add for Figure {
    type Output = Figure;
    fn add(self, other: Figure) -> Figure {
        Figure(self.0 + other.0)
    }
}

impl AddAssign for Figure {
    fn add_assign(&mut self, other: Figure) {
        self.0 += other.0;
    }
}

impl Sub for Figure {
    type Output = Figure;
    fn sub(self, other: Figure) -> Figure {
        Figure(self.0 - other.0)
    }
}

impl std::iter::Sum for Figure {
    fn sum<I: Iterator<Item = Figure>>(iter: I) -> Figure {
        iter.fold(Figure::ZERO, Add::add)
    }
}

/// What every view needs: the names it joins in, and the month, whose rounding every figure
/// takes and whose zone every timestamp is printed in.
#[derive(Copy, Clone)]
pub struct Look<'a> {
    pub accounts: &'a BTreeMap<Text, Account>,
    pub partners: &'a BTreeMap<Text, Partner>,
    pub period: &'a Period,
}

impl<'a> Look<'a> {
    /// An account's name, or empty for an id `accounts.csv` does not hold.
    pub fn account_name(&self, id: &str) -> &'a str {
        self.accounts.get(id).map_or("", |a| &a.account_name)
    }

    pub fn round(&self, exact: Decimal) -> Figure {
        Figure::round(exact, self.period.rounding)
    }
}
