//! Alibaba Cloud 账单明细 / BillingItemDetail (and the older 费用明细 export).
//!
//! UTF-8 with a BOM, every field quoted, `-` as an empty placeholder. `账期` (`yyyy-MM`) is the
//! deduction period; the usage time is `账单开始时间`/`账单结束时间`, else `日期` (`yyyyMMdd`, one
//! day), else `消费时间`, else the `账期` month itself. Alibaba's own arithmetic is
//! `官网价 − 优惠金额 − 优惠券抵扣 = 应付金额`, and `应付金额` is then paid by cash, `代金券抵扣`
//! (cash vouchers), prepaid cards or left in arrears: so the coupon is SPEC's `voucher_amount`,
//! and `代金券抵扣`, a way of paying the payable, is not subtracted again. Times without an
//! offset are the console's Beijing time, read in the dataset's `timezone`.

use rust_decimal::Decimal;

use crate::config::ExportFormat;
use crate::ingest::cell::CellError;
use crate::ingest::exports::values::{amount, amount_or_zero, month_cell, timestamp};
use crate::ingest::exports::{
    Charge, Cx, Field, Format, Outcome, Row, cycle_of, is_subtotal, pick,
};
use crate::model::period::Month;
use crate::model::records::{BillingCycle, PaidWith, PaymentMode, PaymentStatus, Text};

const PERIOD: usize = 0;
const ACCOUNT: usize = 1;
const ACCOUNT_NAME: usize = 2;
const PRODUCT: usize = 3;
const SUB_PRODUCT: usize = 4;
const RESOURCE: usize = 5;
const MODE: usize = 6;
const START: usize = 7;
const END: usize = 8;
const DAY: usize = 9;
const USED_AT: usize = 10;
const LIST: usize = 11;
const DISCOUNT: usize = 12;
const COUPON: usize = 13;
const PAYABLE: usize = 14;
const ARREARS: usize = 15;
const CURRENCY: usize = 16;

const FIELDS: &[Field] = &[
    Field::new("deducted_at (its month)", &["账期", "BillingCycle"]),
    Field::account(
        "account_id",
        &[
            "账号ID",
            "BillingAccountId",
            "用户ID",
            "UserId",
            "Owner账号ID",
            "账号",
        ],
    ),
    Field::new("account_name", &["账号", "账号名称", "BillingAccountName"]),
    Field::required(
        "product",
        &["产品", "产品名称", "ProductName", "产品Code", "ProductCode"],
    ),
    Field::new(
        "sub_product",
        &[
            "产品明细",
            "ProductDetail",
            "产品明细Code",
            "ProductDetailCode",
        ],
    ),
    Field::new("resource_id", &["实例ID", "实例Id", "InstanceID", "资源ID"]),
    Field::new("payment_mode", &["消费类型", "SubscriptionType"]),
    Field::new(
        "charge_start",
        &["账单开始时间", "UsageStartTime", "服务开始时间"],
    ),
    Field::new(
        "charge_end",
        &["账单结束时间", "UsageEndTime", "服务结束时间"],
    ),
    Field::new("charge_start (the day)", &["日期", "BillingDate"]),
    Field::new("charge_start (the time)", &["消费时间"]),
    Field::new("list_amount", &["官网价", "原价", "PretaxGrossAmount"]),
    Field::new("discount_amount", &["优惠金额", "InvoiceDiscount"]),
    Field::new("voucher_amount", &["优惠券抵扣", "DeductedByCoupons"]),
    Field::required("payable_amount", &["应付金额", "PretaxAmount"]),
    Field::new(
        "payment_status (arrears)",
        &["欠费金额", "OutstandingAmount"],
    ),
    Field::new("currency", &["币种", "Currency"]),
];

pub const FORMAT: Format = Format {
    kind: ExportFormat::Alibaba,
    fields: FIELDS,
    telling: &[
        "账期",
        "账号ID",
        "产品Code",
        "产品明细",
        "实例ID",
        "消费类型",
        "官网价",
        "优惠券抵扣",
        "应付金额",
        "代金券抵扣",
        "储值卡支付金额",
    ],
    line,
};

const MODES: &[&str] = &[
    "Subscription",
    "PayAsYouGo",
    "PrePaid",
    "PostPaid",
    "包年包月",
    "预付费",
    "按量付费",
    "按需付费",
    "按量计费",
    "后付费",
];

fn line<'r>(row: &Row<'r>, cx: &mut Cx) -> Result<Outcome<'r>, CellError> {
    if is_subtotal(row, &[PERIOD, ACCOUNT, PRODUCT]) {
        return Ok(Outcome::NotCharge);
    }
    let period = match row.text(PERIOD) {
        "" => None,
        _ => Some(month_cell(row.cell(PERIOD), &mut cx.zone)?),
    };
    let account = cx.account(row.cell(ACCOUNT))?;
    let payment_mode = match row.text(MODE) {
        "" => PaymentMode::Postpaid,
        _ => match pick(row.cell(MODE), MODES)? {
            "Subscription" | "PrePaid" | "包年包月" | "预付费" => PaymentMode::Prepaid,
            _ => PaymentMode::Postpaid,
        },
    };
    let (start, end, end_cell, cycle) = if !row.text(START).is_empty() {
        let start = timestamp(row.cell(START), &mut cx.zone)?;
        let end = match row.text(END) {
            "" => start,
            _ => timestamp(row.cell(END), &mut cx.zone)?,
        };
        (start, end, END, cycle_of(start, end))
    } else if !row.text(DAY).is_empty() {
        let start = timestamp(row.cell(DAY), &mut cx.zone)?;
        (
            start,
            start.add_local_days(1, cx.zone.tz),
            DAY,
            BillingCycle::Day,
        )
    } else if !row.text(USED_AT).is_empty() {
        let at = timestamp(row.cell(USED_AT), &mut cx.zone)?;
        (at, at, USED_AT, BillingCycle::Once)
    } else if let Some(period) = period {
        let start = period.start(cx.zone.tz);
        (
            start,
            period.next().start(cx.zone.tz),
            PERIOD,
            BillingCycle::Month,
        )
    } else {
        return Err(row
            .cell(PERIOD)
            .fail("is empty, and so is every usage time: a row needs `账期` or a usage time"));
    };
    // Without `账期`, the line was deducted in the month it was used.
    let period = period.unwrap_or_else(|| Month::of(start.local(cx.zone.tz).date()));
    let payable = amount_or_zero(row.cell(PAYABLE))?;
    let discount = amount_or_zero(row.cell(DISCOUNT))?;
    let coupon = amount_or_zero(row.cell(COUPON))?;
    let list = match row.text(LIST) {
        "" => payable + discount + coupon,
        _ => amount(row.cell(LIST))?,
    };
    let arrears = amount_or_zero(row.cell(ARREARS))?;
    Ok(Outcome::Charge(Charge {
        account_id: account,
        account_name: row.text(ACCOUNT_NAME),
        product: Text::from(row.cell(PRODUCT).required()?),
        sub_product: Text::from(row.text(SUB_PRODUCT)),
        resource_id: row.text(RESOURCE),
        payment_mode,
        billing_cycle: cycle,
        charge_start: start,
        charge_end: end,
        end_cell,
        deducted_at: Some(period.start(cx.zone.tz)),
        list_amount: list,
        discount_amount: discount,
        voucher_amount: coupon,
        payable_amount: payable,
        payment_status: if arrears > Decimal::ZERO {
            PaymentStatus::Arrears
        } else {
            PaymentStatus::Paid
        },
        paid_with: PaidWith::Cash,
        currency: cx.currency(row.cell(CURRENCY))?,
        correction: false,
    }))
}
