//! FOCUS 1.0 to 1.3 (FinOps Open Cost and Usage Specification): the export AWS Data Exports,
//! Azure Cost Management and OCI write, as CSV, gzip CSV or Parquet.
//!
//! The mapping is fixed by the project's contract for FOCUS (README, "FOCUS"):
//! `SubAccountId` (or `BillingAccountId` when null) is the account, `ServiceName` the product,
//! `ServiceCategory` the sub-product, `BilledCost` the payable, `ListCost` the list amount; the
//! usage period is the month of `ChargePeriodStart` and the deduction period the month of
//! `BillingPeriodStart`. FOCUS timestamps are UTC. Enum values are matched without regard to
//! case, since real exports write both `Usage-Based` and `Usage-based`.

use crate::config::ExportFormat;
use crate::ingest::cell::CellError;
use crate::ingest::exports::{Charge, Cx, Format, Outcome, Row, Window, fields, mapping, pick};
use crate::model::records::{BillingCycle, PaymentMode, Text};

#[rustfmt::skip]
pub const FORMAT: Format = Format {
    kind: ExportFormat::Focus, title: "FOCUS", fields: FIELDS, line,
    typed: &[CHARGE_START, CHARGE_END, BILLING_START, BILLED, LIST], first: false,
    account_of,
    telling: &[
        "BilledCost", "ChargePeriodStart", "BillingPeriodStart", "BillingCurrency",
        "ServiceName", "ChargeCategory",
    ],
};

fields! {
    SUB_ACCOUNT: "account_id" <- ["SubAccountId"],
    required BILLING_ACCOUNT: "account_id (when `SubAccountId` is null)" <- ["BillingAccountId"],
    SUB_ACCOUNT_NAME: "account_name" <- ["SubAccountName"],
    BILLING_ACCOUNT_NAME: "account_name (when `SubAccountId` is null)" <- ["BillingAccountName"],
    required SERVICE: "product" <- ["ServiceName"],
    CATEGORY: "sub_product" <- ["ServiceCategory"],
    RESOURCE: "resource_id" <- ["ResourceId"],
    required CURRENCY: "currency" <- ["BillingCurrency"],
    required CHARGE_START: "charge_start" <- ["ChargePeriodStart"],
    required CHARGE_END: "charge_end" <- ["ChargePeriodEnd"],
    required BILLING_START: "deducted_at (its month)" <- ["BillingPeriodStart"],
    required BILLED: "payable_amount" <- ["BilledCost"],
    LIST: "list_amount" <- ["ListCost"],
    required CHARGE_CATEGORY: "payment_mode, and rows that are not charges" <- ["ChargeCategory"],
    CHARGE_CLASS: "correction (marked)" <- ["ChargeClass"],
    FREQUENCY: "billing_cycle" <- ["ChargeFrequency"],
    PRICING: "payment_mode (`Committed` is prepaid)" <- ["PricingCategory"],
}

/// What a `ChargeCategory` makes of a row: a charge, a prepaid purchase, or tax (no charge).
#[derive(Copy, Clone, PartialEq, Eq)]
enum Category {
    Charge,
    Purchase,
    Tax,
}

#[rustfmt::skip]
const CATEGORIES: &[(&str, Category)] = &[
    ("Usage", Category::Charge), ("Purchase", Category::Purchase), ("Tax", Category::Tax),
    ("Credit", Category::Charge), ("Adjustment", Category::Charge),
];

/// Whether a `ChargeFrequency` is a one-time charge.
#[rustfmt::skip]
const FREQUENCIES: &[(&str, bool)] = &[
    ("One-Time", true), ("Recurring", false), ("Usage-Based", false),
];

/// The row's account id, `SubAccountId` or else `BillingAccountId`, and the field of its name;
/// `None` when both are null. `text` gives a field's text as [`Row::text`] does.
fn account_cell<'r>(text: impl Fn(usize) -> &'r str) -> Option<(&'r str, usize)> {
    match text(SUB_ACCOUNT) {
        "" => match text(BILLING_ACCOUNT) {
            "" => None,
            id => Some((id, BILLING_ACCOUNT_NAME)),
        },
        id => Some((id, SUB_ACCOUNT_NAME)),
    }
}

/// The account a row's cells name, as [`line`] reads it; `None` when only `settle.toml` names it.
fn account_of<'a>(values: &[&'a str]) -> Option<&'a str> {
    account_cell(|f| values.get(f).map_or("", |v| mapping::text(v))).map(|(id, _)| id)
}

fn line<'r>(row: &Row<'r>, cx: &mut Cx) -> Result<Outcome<'r>, CellError> {
    let category = pick(row.cell(CHARGE_CATEGORY), CATEGORIES)?;
    if category == Category::Tax {
        return Ok(Outcome::NotCharge);
    }
    let (account, name) = match account_cell(|f| row.text(f)) {
        Some((id, name)) => (Text::from(id), row.text(name)),
        None => match &cx.account {
            Some(a) => (a.clone(), ""),
            None => {
                return Err(row
                    .cell(BILLING_ACCOUNT)
                    .fail("is empty, and so is `SubAccountId`: a row needs an account"));
            }
        },
    };
    let window = Window {
        start: row.time(CHARGE_START, &mut cx.utc)?,
        end: row.time(CHARGE_END, &mut cx.utc)?,
        end_cell: CHARGE_END,
    };
    let billed_month = row.month_of(BILLING_START, &mut cx.utc)?;
    let billed = row.amount(BILLED)?;
    let list = row.list_amount(LIST, &[billed])?;
    let once = match row.text(FREQUENCY) {
        "" => false,
        _ => pick(row.cell(FREQUENCY), FREQUENCIES)?,
    };
    let committed = row.text(PRICING).eq_ignore_ascii_case("Committed");
    let discount = row.discount(LIST, list, billed)?;
    let charge = Charge::new(row, cx, account, window, list, discount, billed)?;
    Ok(Outcome::Charge(Charge {
        account_name: name,
        payment_mode: if category == Category::Purchase || committed {
            PaymentMode::Prepaid
        } else {
            PaymentMode::Postpaid
        },
        billing_cycle: if once {
            BillingCycle::Once
        } else {
            window.cycle()
        },
        deducted_at: cx.deducted_in(billed_month),
        currency: Text::from(row.cell(CURRENCY).currency()?),
        correction: row.text(CHARGE_CLASS).eq_ignore_ascii_case("Correction"),
        ..charge
    }))
}
