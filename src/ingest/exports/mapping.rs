//! What every format's mapping shares, so that each format module states only its columns and
//! its few real differences.
//!
//! A format declares its fields once with [`fields!`], which numbers them by their place (no
//! index is written by hand), and maps a [`Row`] with the readings here: a payment mode from a
//! table of spellings, a list amount that falls back to the console's own arithmetic, an end time
//! that falls back to the start, a month's first local midnight as the deduction time, and one
//! constructor, [`Charge::new`], that gives every charge the defaults most rows have.

use rust_decimal::Decimal;

use crate::config::{is_currency, one_of};
use crate::ingest::cell::{Cell, CellError};
use crate::ingest::exports::header;
use crate::ingest::exports::values::{Typed, amount, is_null, month_cell, timestamp, too_large};
use crate::model::bounds;
use crate::model::period::Month;
use crate::model::records::{BillingCycle, PaidWith, PaymentMode, PaymentStatus, Text};
use crate::model::time::{Timestamp, Zone};

/// Whether a mapping needs a field's column.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Need {
    No,
    Yes,
    /// Needed unless `settle.toml` names the account (`[exports] account_id`).
    Account,
}

/// One thing a mapping reads, and the export columns that may hold it, best first.
pub struct Field {
    /// The settle column it feeds (or what it decides), as `settle validate` shows it.
    pub feeds: &'static str,
    pub names: &'static [&'static str],
    pub need: Need,
}

/// A format's fields as a table, one a line, in the order a row holds them:
/// `[required|account] NAME: "feeds" <- ["column", ...],` (`account`: needed unless
/// `settle.toml` names the account). It defines `FIELDS` and, for each name, a constant that is
/// the field's place, so that no place is numbered by hand. A field that only [`Names`] reads
/// has a constant that nothing names.
macro_rules! fields {
    (@each [$($done:tt)*] required $name:ident: $feeds:literal <- [$($c:literal),+], $($rest:tt)*) => {
        fields!(@each [$($done)* ($name, Yes, $feeds, [$($c),+])] $($rest)*);
    };
    (@each [$($done:tt)*] account $name:ident: $feeds:literal <- [$($c:literal),+], $($rest:tt)*) => {
        fields!(@each [$($done)* ($name, Account, $feeds, [$($c),+])] $($rest)*);
    };
    (@each [$($done:tt)*] $name:ident: $feeds:literal <- [$($c:literal),+], $($rest:tt)*) => {
        fields!(@each [$($done)* ($name, No, $feeds, [$($c),+])] $($rest)*);
    };
    (@each [$(($name:ident, $need:ident, $feeds:literal, [$($c:literal),+]))+]) => {
        #[allow(clippy::upper_case_acronyms, non_camel_case_types, dead_code)]
        enum Place { $($name),+ }
        $(#[allow(dead_code)] const $name: usize = Place::$name as usize;)+
        const FIELDS: &[$crate::ingest::exports::Field] = &[$($crate::ingest::exports::Field {
            feeds: $feeds,
            names: &[$($c),+],
            need: $crate::ingest::exports::Need::$need,
        }),+];
    };
    ($($table:tt)+) => {
        fields!(@each [] $($table)+);
    };
}
pub(crate) use fields;

/// What a row is: a charge, or a row that is not one (a FOCUS `Tax` row, a console's subtotal
/// row), which is counted and set aside.
pub enum Outcome<'r> {
    Charge(Charge<'r>),
    NotCharge,
}

/// When a charge was used, and the field that gave its end, to name it if the window is
/// backwards.
#[derive(Copy, Clone)]
pub struct Window {
    pub start: Timestamp,
    pub end: Timestamp,
    pub end_cell: usize,
}

impl Window {
    /// The local month `month`, named by `cell`.
    pub fn month(month: Month, zone: &Zone, cell: usize) -> Window {
        Window {
            start: month.start(zone.tz),
            end: month.next().start(zone.tz),
            end_cell: cell,
        }
    }

    /// The billing cycle the window's length shows: up to an hour, a day, a week or a month;
    /// an empty or longer window is a one-time charge.
    pub fn cycle(&self) -> BillingCycle {
        match self.end.0 - self.start.0 {
            s if s <= 0 => BillingCycle::Once,
            s if s <= 3_600 => BillingCycle::Hour,
            s if s <= 86_400 => BillingCycle::Day,
            s if s <= 7 * 86_400 => BillingCycle::Week,
            s if s <= 31 * 86_400 => BillingCycle::Month,
            _ => BillingCycle::Once,
        }
    }
}

/// A bill line as a format maps it, before it is given its id and checked against the known
/// accounts.
pub struct Charge<'r> {
    pub account_id: Text,
    /// The account's name where the export gives one, for datasets without `accounts.csv`.
    pub account_name: &'r str,
    pub product: Text,
    pub sub_product: Text,
    pub resource_id: &'r str,
    pub payment_mode: PaymentMode,
    pub billing_cycle: BillingCycle,
    pub window: Window,
    pub deducted_at: Option<Timestamp>,
    pub list_amount: Decimal,
    pub discount_amount: Decimal,
    pub voucher_amount: Decimal,
    pub payable_amount: Decimal,
    pub payment_status: PaymentStatus,
    pub paid_with: PaidWith,
    pub currency: Text,
    pub correction: bool,
}

/// Where a format's fields that every format reads as written are: the fields that feed
/// `product` (required), `sub_product` and `resource_id`.
#[derive(Copy, Clone)]
pub struct Names {
    pub product: usize,
    pub sub_product: usize,
    pub resource: usize,
}

impl Names {
    pub fn of(fields: &[Field]) -> Names {
        let at = |feeds: &str| {
            fields
                .iter()
                .position(|f| f.feeds == feeds)
                .expect("every format has a field for the product, sub-product and resource")
        };
        Names {
            product: at("product"),
            sub_product: at("sub_product"),
            resource: at("resource_id"),
        }
    }
}

impl<'r> Charge<'r> {
    /// A charge of `payable` over `window`, listed at `list` less `discount`, with the defaults
    /// most rows have: no voucher, postpaid, paid with cash, billed over the window's cycle, no
    /// deduction time, no account name, not a correction, and in CNY until the caller says
    /// otherwise. The product is read here, after every amount, as rejects name the first bad
    /// cell in that order.
    pub fn new(
        row: &Row<'r>,
        cx: &Cx,
        account_id: Text,
        window: Window,
        list: Decimal,
        discount: Decimal,
        payable: Decimal,
    ) -> Result<Charge<'r>, CellError> {
        let names = cx.names;
        Ok(Charge {
            account_id,
            account_name: "",
            product: Text::from(row.cell(names.product).required()?),
            sub_product: Text::from(row.text(names.sub_product)),
            resource_id: row.text(names.resource),
            payment_mode: PaymentMode::Postpaid,
            billing_cycle: window.cycle(),
            window,
            deducted_at: None,
            list_amount: list,
            discount_amount: discount,
            voucher_amount: Decimal::ZERO,
            payable_amount: payable,
            payment_status: PaymentStatus::Paid,
            paid_with: PaidWith::Cash,
            currency: Text::from("CNY"),
            correction: false,
        })
    }
}

/// One export row's cells, one per [`crate::ingest::exports::Format::fields`] entry; a field the
/// file lacks, or a null cell (empty, `NULL`, `-`), reads as empty.
///
/// A field of [`crate::ingest::exports::Format::typed`] may hold a typed value (a Parquet
/// decimal or timestamp) instead of text: its text is then a placeholder that only says it is
/// not null, and the readings here ([`Row::amount`], [`Row::time`], [`Row::month_of`]) and
/// [`Row::fail`] read the value.
pub struct Row<'r> {
    pub(super) cells: Vec<Cell<'r>>,
    /// Each field's typed value, in field order; empty when the row has none (CSV).
    pub(super) typed: &'r [Typed],
    /// The row's first cell as written, where consoles put `合计` on a subtotal row.
    pub first: &'r str,
}

/// A cell's value as a source gives it, as a [`Cell`] holds it: empty when null.
pub fn value(v: &str) -> &str {
    if is_null(v) { "" } else { v }
}

/// A cell's trimmed text as [`Row::text`] gives it from the value a source gives.
pub fn text(v: &str) -> &str {
    value(v).trim()
}

/// The text of a cell that holds a typed value: not null, and never read as text.
pub const TYPED: &str = "(typed)";

impl<'r> Row<'r> {
    pub fn cell(&self, field: usize) -> &Cell<'r> {
        &self.cells[field]
    }

    /// The trimmed text of a field, empty when null or absent.
    pub fn text(&self, field: usize) -> &'r str {
        self.cells[field].text()
    }

    /// The field's typed value, [`Typed::None`] for text.
    fn typed(&self, field: usize) -> Typed {
        self.typed.get(field).copied().unwrap_or(Typed::None)
    }

    /// The error for `field`, naming its value as the text the CSV path would have read.
    pub fn fail(&self, field: usize, reason: impl Into<String>) -> CellError {
        match self.typed(field) {
            Typed::None => self.cell(field).fail(reason),
            typed => CellError {
                column: self.cell(field).column,
                value: typed.text(),
                reason: reason.into(),
            },
        }
    }

    /// An amount, required: exact, and within the bound every amount keeps.
    pub fn amount(&self, field: usize) -> Result<Decimal, CellError> {
        match self.typed(field).decimal() {
            None => amount(self.cell(field)),
            Some(Err(reason)) => Err(self.fail(field, reason)),
            Some(Ok(d)) if !bounds::fits(d) => Err(self.fail(field, too_large("amounts"))),
            Some(Ok(d)) => Ok(d),
        }
    }

    /// An amount, 0 when null.
    pub fn amount_or_zero(&self, field: usize) -> Result<Decimal, CellError> {
        match self.text(field) {
            "" => Ok(Decimal::ZERO),
            _ => self.amount(field),
        }
    }

    /// The list amount: the field's own, or, when null, the sum of `parts`, as the console's
    /// own arithmetic adds up to it; a sum past the bound every amount keeps rejects the row.
    pub fn list_amount(&self, field: usize, parts: &[Decimal]) -> Result<Decimal, CellError> {
        match self.text(field) {
            "" => parts
                .iter()
                .try_fold(Decimal::ZERO, |sum, p| sum.checked_add(*p))
                .filter(|sum| bounds::fits(*sum))
                .ok_or_else(|| {
                    self.fail(
                        field,
                        too_large("the list amount the row's amounts add up to"),
                    )
                }),
            _ => self.amount(field),
        }
    }

    /// The discount a list amount implies, `list − payable`, named by the list's `field` if it
    /// is past the bound every amount keeps.
    pub fn discount(
        &self,
        field: usize,
        list: Decimal,
        payable: Decimal,
    ) -> Result<Decimal, CellError> {
        list.checked_sub(payable)
            .filter(|d| bounds::fits(*d))
            .ok_or_else(|| self.fail(field, too_large("the discount (list amount less payable)")))
    }

    /// A timestamp, required.
    pub fn time(&self, field: usize, zone: &mut Zone) -> Result<Timestamp, CellError> {
        match self.typed(field).instant(zone) {
            None => timestamp(self.cell(field), zone),
            Some(t) => t.map_err(|reason| self.fail(field, reason)),
        }
    }

    /// A month, required.
    pub fn month_of(&self, field: usize, zone: &mut Zone) -> Result<Month, CellError> {
        match self.typed(field).month(zone) {
            None => month_cell(self.cell(field), zone),
            Some(m) => m.map_err(|reason| self.fail(field, reason)),
        }
    }

    /// The window from `start` to `end`; a null end is the start.
    pub fn window(&self, start: usize, end: usize, zone: &mut Zone) -> Result<Window, CellError> {
        let start = self.time(start, zone)?;
        self.window_from(start, end, zone)
    }

    /// The window from `start` to the time in field `end`, or to `start` when it is null.
    pub fn window_from(
        &self,
        start: Timestamp,
        end: usize,
        zone: &mut Zone,
    ) -> Result<Window, CellError> {
        let end_at = match self.text(end) {
            "" => start,
            _ => self.time(end, zone)?,
        };
        Ok(Window {
            start,
            end: end_at,
            end_cell: end,
        })
    }

    /// A month, `None` when null.
    pub fn month(&self, field: usize, zone: &mut Zone) -> Result<Option<Month>, CellError> {
        match self.text(field) {
            "" => Ok(None),
            _ => self.month_of(field, zone).map(Some),
        }
    }

    /// How the line was paid for, from a table of the console's spellings; null is postpaid.
    pub fn payment_mode(
        &self,
        field: usize,
        modes: &[(&'static str, PaymentMode)],
    ) -> Result<PaymentMode, CellError> {
        match self.text(field) {
            "" => Ok(PaymentMode::Postpaid),
            _ => pick(self.cell(field), modes),
        }
    }

    /// `arrears` when the field's amount left unpaid is above 0, else `paid`.
    pub fn arrears(&self, field: usize) -> Result<PaymentStatus, CellError> {
        Ok(if self.amount_or_zero(field)? > Decimal::ZERO {
            PaymentStatus::Arrears
        } else {
            PaymentStatus::Paid
        })
    }
}

/// What mapping a row needs beyond the row.
pub struct Cx {
    /// The dataset's timezone, for local times without an offset.
    pub zone: Zone,
    /// UTC, for FOCUS.
    pub utc: Zone,
    /// The currency a header's unit suffix names (`应付金额(¥)`), for files with no currency
    /// column.
    pub currency: Option<Text>,
    /// `[exports] account_id`.
    pub account: Option<Text>,
    /// The format's fields that [`Charge::new`] reads.
    pub names: Names,
}

impl Cx {
    /// The row's currency: its own cell, else the header's suffix, else CNY, as the Chinese
    /// consoles bill. `人民币`, `元` and `¥` are CNY; `美元` and `$` are USD.
    pub fn currency(&self, cell: &Cell) -> Result<Text, CellError> {
        match cell.text() {
            "" => Ok(self.currency.clone().unwrap_or_else(|| Text::from("CNY"))),
            s => {
                match header::suffix_currency(&s.to_lowercase()) {
                    Some(c) => Ok(Text::from(c)),
                    None if is_currency(s) => Ok(Text::from(s)),
                    None => Err(cell
                        .fail("not a currency; expected a 3-letter ISO 4217 code such as `CNY`")),
                }
            }
        }
    }

    /// The row's account: its own cell, else `[exports] account_id`.
    pub fn account(&self, cell: &Cell) -> Result<Text, CellError> {
        match (cell.text(), &self.account) {
            ("", Some(a)) => Ok(a.clone()),
            _ => Ok(Text::from(cell.required()?)),
        }
    }

    /// When a line billed in `month` was deducted: local midnight on the month's 1st.
    pub fn deducted_in(&self, month: Month) -> Option<Timestamp> {
        Some(month.start(self.zone.tz))
    }
}

/// One of a closed set of values, matched without regard to case: what the set says it means.
pub fn pick<T: Copy>(cell: &Cell, table: &[(&'static str, T)]) -> Result<T, CellError> {
    let s = cell.required()?;
    table
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(s))
        .map(|(_, v)| *v)
        .ok_or_else(|| {
            let names: Vec<&str> = table.iter().map(|(n, _)| *n).collect();
            cell.fail(format!(
                "unknown value; expected {} (in any case)",
                one_of(&names)
            ))
        })
}

/// The words a console writes on a subtotal row, in its first cell.
const SUBTOTALS: &[&str] = &["合计", "总计", "小计", "total", "subtotal", "grand total"];

/// Whether a row of a Chinese console export is a subtotal row rather than a charge: its first
/// cell, or one of `fields`, says `合计`, `总计`, `小计` or `Total`.
pub fn is_subtotal(row: &Row, fields: &[usize]) -> bool {
    let says = |cell: &str| {
        let cell = cell.trim().trim_end_matches([':', '：']);
        SUBTOTALS.iter().any(|w| cell.eq_ignore_ascii_case(w))
    };
    says(row.first) || fields.iter().any(|&f| says(row.text(f)))
}
