//! Tencent Cloud 明细账单 (bill details), the China site's Chinese header and the international
//! site's English one.
//!
//! `优惠后总价` (RealCost; on the international bill `优惠后总价（不含税）`, before tax) is the
//! payable and `原价` (OriginalCost) the list amount; the discount is their difference.
//! `代金券支出`, like the cash, bonus and commission accounts, is a way of paying RealCost
//! (RealCost = cash + incentive + voucher + transfer), so it is not subtracted again. The
//! international bill's tax columns are not part of the payable. `扣费时间` (TransactionTime) is
//! when the money was deducted; the usage window is the usage start and end. Amounts carry 8
//! decimals; times are Beijing time without an offset, read in the dataset's `timezone`.

use crate::config::ExportFormat;
use crate::ingest::cell::CellError;
use crate::ingest::exports::values::{amount, amount_or_zero, timestamp};
use crate::ingest::exports::{
    Charge, Cx, Field, Format, Outcome, Row, cycle_of, is_subtotal, pick,
};
use crate::model::records::{PaidWith, PaymentMode, PaymentStatus, Text};

const ACCOUNT: usize = 0;
const PRODUCT: usize = 1;
const SUB_PRODUCT: usize = 2;
const RESOURCE: usize = 3;
const MODE: usize = 4;
const START: usize = 5;
const END: usize = 6;
const DEDUCTED: usize = 7;
const LIST: usize = 8;
const PAYABLE: usize = 9;
const CURRENCY: usize = 10;

const FIELDS: &[Field] = &[
    Field::account(
        "account_id",
        &[
            "使用者UIN",
            "使用者账号ID",
            "Owner Account ID",
            "OwnerUin",
            "支付者UIN",
            "支付者账号ID",
            "Payer Account ID",
            "PayerUin",
        ],
    ),
    Field::required("product", &["产品名称", "ProductName", "Product Name"]),
    Field::new(
        "sub_product",
        &["子产品名称", "SubproductName", "Subproduct Name"],
    ),
    Field::new(
        "resource_id",
        &["资源ID", "实例ID", "InstanceID", "Instance ID"],
    ),
    Field::new("payment_mode", &["计费模式", "BillingMode", "Billing Mode"]),
    Field::new(
        "charge_start",
        &[
            "用量开始时间",
            "开始使用时间",
            "使用开始时间",
            "Start Date of Usage",
            "Usage Start Time",
        ],
    ),
    Field::new(
        "charge_end",
        &[
            "用量结束时间",
            "结束使用时间",
            "使用结束时间",
            "End Date of Usage",
            "Usage End Time",
        ],
    ),
    Field::required(
        "deducted_at",
        &["扣费时间", "TransactionTime", "Transaction Time"],
    ),
    Field::new("list_amount", &["原价", "OriginalCost", "Original Cost"]),
    Field::required(
        "payable_amount",
        &[
            "优惠后总价",
            "优惠后总价（不含税）",
            "RealCost",
            "Total Amount After Discount (Excluding Tax)",
        ],
    ),
    Field::new("currency", &["币种", "currency", "Currency"]),
];

pub const FORMAT: Format = Format {
    kind: ExportFormat::Tencent,
    fields: FIELDS,
    telling: &[
        "优惠后总价",
        "优惠后总价（不含税）",
        "产品名称",
        "子产品名称",
        "扣费时间",
        "代金券支出",
        "使用者UIN",
        "支付者UIN",
        "ProductName",
        "SubproductName",
        "OriginalCost",
        "DiscountRate",
        "TransactionTime",
        "折扣率",
    ],
    line,
};

const MODES: &[&str] = &[
    "包年包月",
    "按量计费",
    "Monthly Subscription",
    "Pay-As-You-Go",
    "Pay-As-You-Go resources",
    "prePay",
    "postPay",
    "预付费",
    "后付费",
];

fn line<'r>(row: &Row<'r>, cx: &mut Cx) -> Result<Outcome<'r>, CellError> {
    if is_subtotal(row, &[ACCOUNT, PRODUCT]) {
        return Ok(Outcome::NotCharge);
    }
    let account = cx.account(row.cell(ACCOUNT))?;
    let deducted = timestamp(row.cell(DEDUCTED), &mut cx.zone)?;
    let (start, end_cell) = match row.text(START) {
        "" => (deducted, DEDUCTED),
        _ => (timestamp(row.cell(START), &mut cx.zone)?, END),
    };
    let end = match row.text(END) {
        "" => start,
        _ => timestamp(row.cell(END), &mut cx.zone)?,
    };
    let payment_mode = match row.text(MODE) {
        "" => PaymentMode::Postpaid,
        _ => match pick(row.cell(MODE), MODES)? {
            "包年包月" | "Monthly Subscription" | "prePay" | "预付费" => {
                PaymentMode::Prepaid
            }
            _ => PaymentMode::Postpaid,
        },
    };
    let payable = amount_or_zero(row.cell(PAYABLE))?;
    let list = match row.text(LIST) {
        "" => payable,
        _ => amount(row.cell(LIST))?,
    };
    Ok(Outcome::Charge(Charge {
        account_id: account,
        account_name: "",
        product: Text::from(row.cell(PRODUCT).required()?),
        sub_product: Text::from(row.text(SUB_PRODUCT)),
        resource_id: row.text(RESOURCE),
        payment_mode,
        billing_cycle: cycle_of(start, end),
        charge_start: start,
        charge_end: end,
        end_cell,
        deducted_at: Some(deducted),
        list_amount: list,
        discount_amount: list - payable,
        voucher_amount: rust_decimal::Decimal::ZERO,
        payable_amount: payable,
        payment_status: PaymentStatus::Paid,
        paid_with: PaidWith::Cash,
        currency: cx.currency(row.cell(CURRENCY))?,
        correction: false,
    }))
}
