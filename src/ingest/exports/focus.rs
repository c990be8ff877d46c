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
use crate::ingest::exports::values::{amount, month_cell, timestamp};
use crate::ingest::exports::{Charge, Cx, Field, Format, Outcome, Row, cycle_of, pick};
use crate::model::records::{BillingCycle, PaidWith, PaymentMode, PaymentStatus, Text};

const SUB_ACCOUNT: usize = 0;
const BILLING_ACCOUNT: usize = 1;
const SUB_ACCOUNT_NAME: usize = 2;
const BILLING_ACCOUNT_NAME: usize = 3;
const SERVICE: usize = 4;
const CATEGORY: usize = 5;
const RESOURCE: usize = 6;
const CURRENCY: usize = 7;
const CHARGE_START: usize = 8;
const CHARGE_END: usize = 9;
const BILLING_START: usize = 10;
const BILLED: usize = 11;
const LIST: usize = 12;
const CHARGE_CATEGORY: usize = 13;
const CHARGE_CLASS: usize = 14;
const FREQUENCY: usize = 15;
const PRICING: usize = 16;

const FIELDS: &[Field] = &[
    Field::new("account_id", &["SubAccountId"]),
    Field::required(
        "account_id (when `SubAccountId` is null)",
        &["BillingAccountId"],
    ),
    Field::new("account_name", &["SubAccountName"]),
    Field::new(
        "account_name (when `SubAccountId` is null)",
        &["BillingAccountName"],
    ),
    Field::required("product", &["ServiceName"]),
    Field::new("sub_product", &["ServiceCategory"]),
    Field::new("resource_id", &["ResourceId"]),
    Field::required("currency", &["BillingCurrency"]),
    Field::required("charge_start", &["ChargePeriodStart"]),
    Field::required("charge_end", &["ChargePeriodEnd"]),
    Field::required("deducted_at (its month)", &["BillingPeriodStart"]),
    Field::required("payable_amount", &["BilledCost"]),
    Field::new("list_amount", &["ListCost"]),
    Field::required(
        "payment_mode, and rows that are not charges",
        &["ChargeCategory"],
    ),
    Field::new("correction (marked)", &["ChargeClass"]),
    Field::new("billing_cycle", &["ChargeFrequency"]),
    Field::new(
        "payment_mode (`Committed` is prepaid)",
        &["PricingCategory"],
    ),
];

pub const FORMAT: Format = Format {
    kind: ExportFormat::Focus,
    fields: FIELDS,
    telling: &[
        "BilledCost",
        "ChargePeriodStart",
        "BillingPeriodStart",
        "BillingCurrency",
        "ServiceName",
        "ChargeCategory",
    ],
    line,
};

const CATEGORIES: &[&str] = &["Usage", "Purchase", "Tax", "Credit", "Adjustment"];
const FREQUENCIES: &[&str] = &["One-Time", "Recurring", "Usage-Based"];

fn line<'r>(row: &Row<'r>, cx: &mut Cx) -> Result<Outcome<'r>, CellError> {
    let category = pick(row.cell(CHARGE_CATEGORY), CATEGORIES)?;
    if category == "Tax" {
        return Ok(Outcome::NotCharge);
    }
    let (account, name) = match row.text(SUB_ACCOUNT) {
        "" => match row.text(BILLING_ACCOUNT) {
            "" => match &cx.account {
                Some(a) => (a.clone(), ""),
                None => {
                    return Err(row
                        .cell(BILLING_ACCOUNT)
                        .fail("is empty, and so is `SubAccountId`: a row needs an account"));
                }
            },
            id => (Text::from(id), row.text(BILLING_ACCOUNT_NAME)),
        },
        id => (Text::from(id), row.text(SUB_ACCOUNT_NAME)),
    };
    let start = timestamp(row.cell(CHARGE_START), &mut cx.utc)?;
    let end = timestamp(row.cell(CHARGE_END), &mut cx.utc)?;
    let billed_month = month_cell(row.cell(BILLING_START), &mut cx.utc)?;
    let billed = amount(row.cell(BILLED))?;
    let list = match row.text(LIST) {
        "" => billed,
        _ => amount(row.cell(LIST))?,
    };
    let frequency = match row.text(FREQUENCY) {
        "" => "Usage-Based",
        _ => pick(row.cell(FREQUENCY), FREQUENCIES)?,
    };
    let committed = row.text(PRICING).eq_ignore_ascii_case("Committed");
    let payment_mode = if category == "Purchase" || committed {
        PaymentMode::Prepaid
    } else {
        PaymentMode::Postpaid
    };
    let billing_cycle = if frequency == "One-Time" {
        BillingCycle::Once
    } else {
        cycle_of(start, end)
    };
    Ok(Outcome::Charge(Charge {
        account_id: account,
        account_name: name,
        product: Text::from(row.cell(SERVICE).required()?),
        sub_product: Text::from(row.text(CATEGORY)),
        resource_id: row.text(RESOURCE),
        payment_mode,
        billing_cycle,
        charge_start: start,
        charge_end: end,
        end_cell: CHARGE_END,
        deducted_at: Some(billed_month.start(cx.zone.tz)),
        list_amount: list,
        discount_amount: list - billed,
        voucher_amount: rust_decimal::Decimal::ZERO,
        payable_amount: billed,
        payment_status: PaymentStatus::Paid,
        paid_with: PaidWith::Cash,
        currency: Text::from(row.cell(CURRENCY).currency()?),
        correction: row.text(CHARGE_CLASS).eq_ignore_ascii_case("Correction"),
    }))
}
