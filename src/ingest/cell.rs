//! One CSV cell and the typed readings of it.
//!
//! Every parse failure is a [`CellError`] that knows its column, its value and a reason, so the
//! reject it becomes points the user at the exact cell to fix.

use rust_decimal::Decimal;

use crate::config::{is_currency, one_of};
use crate::model::bounds;
use crate::model::money::parse_decimal;
use crate::model::records::Line;
use crate::model::reject::Reject;
use crate::model::time::{Timestamp, Zone};

/// Why one cell could not be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CellError {
    pub column: &'static str,
    pub value: String,
    pub reason: String,
}

impl CellError {
    /// The reject of the row on `line` of `file` that holds this cell.
    pub fn reject(self, file: &'static str, line: Line) -> Reject {
        Reject {
            file,
            line,
            column: self.column.to_string(),
            value: self.value,
            reason: self.reason,
        }
    }
}

/// A cell's text and the column it sits in.
#[derive(Copy, Clone, Debug)]
pub struct Cell<'a> {
    pub column: &'static str,
    pub value: &'a str,
}

impl<'a> Cell<'a> {
    pub fn fail(&self, reason: impl Into<String>) -> CellError {
        CellError {
            column: self.column,
            value: self.value.to_string(),
            reason: reason.into(),
        }
    }

    /// The trimmed text, which may be empty.
    pub fn text(&self) -> &'a str {
        self.value.trim()
    }

    /// The trimmed text, which must not be empty.
    pub fn required(&self) -> Result<&'a str, CellError> {
        match self.text() {
            "" => Err(self.fail("is empty, but a value is required")),
            s => Ok(s),
        }
    }

    /// A decimal less than [`bounds::MAX_AMOUNT`] in magnitude, so that the rules' sums and
    /// products of it cannot overflow.
    pub fn decimal(&self) -> Result<Decimal, CellError> {
        let d = parse_decimal(self.required()?).map_err(|r| self.fail(r))?;
        if !bounds::fits(d) {
            return Err(self.fail(format!(
                "too large: amounts and quantities must be less than {} in magnitude",
                bounds::MAX_AMOUNT_TEXT
            )));
        }
        Ok(d)
    }

    /// A decimal that must not be negative.
    pub fn non_negative(&self) -> Result<Decimal, CellError> {
        let d = self.decimal()?;
        if d.is_sign_negative() && !d.is_zero() {
            return Err(self.fail("must not be negative"));
        }
        Ok(d)
    }

    /// A rate from 0 to 1.
    pub fn rate(&self) -> Result<Decimal, CellError> {
        let d = self.decimal()?;
        if !(Decimal::ZERO..=Decimal::ONE).contains(&d) {
            return Err(self.fail("must be a rate from 0 to 1"));
        }
        Ok(d)
    }

    pub fn timestamp(&self, zone: &mut Zone) -> Result<Timestamp, CellError> {
        zone.parse(self.required()?).map_err(|r| self.fail(r))
    }

    /// A timestamp where empty means "none": an open window, or not deducted yet.
    pub fn optional_timestamp(&self, zone: &mut Zone) -> Result<Option<Timestamp>, CellError> {
        match self.text() {
            "" => Ok(None),
            s => zone.parse(s).map(Some).map_err(|r| self.fail(r)),
        }
    }

    /// One of a closed set of spellings.
    pub fn choice<T>(&self, parse: fn(&str) -> Option<T>, names: &[&str]) -> Result<T, CellError> {
        let s = self.required()?;
        parse(s).ok_or_else(|| self.fail(format!("unknown value; expected {}", one_of(names))))
    }

    pub fn boolean(&self) -> Result<bool, CellError> {
        self.choice(
            |s| match s {
                "true" => Some(true),
                "false" => Some(false),
                _ => None,
            },
            &["true", "false"],
        )
    }

    pub fn currency(&self) -> Result<&'a str, CellError> {
        let s = self.required()?;
        if !is_currency(s) {
            return Err(
                self.fail("not a currency; expected a 3-letter ISO 4217 code such as `CNY`")
            );
        }
        Ok(s)
    }
}
