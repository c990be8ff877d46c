//! Huawei Cloud 资源详单 (resource-detail bill, `*_InstanceBillMonth_YYYYMM`).
//!
//! Money headers carry a currency suffix (`应付金额(¥)`), which names the currency when no
//! column does; timestamps carry their offset (`2020-08-23 22:00:00 GMT+08:00`), and
//! `消费时间` may be a `start-end` range. `账期` is the deduction period. Huawei's arithmetic is
//! `官网价 − 优惠金额 = 应付金额`, and the payable is then paid by cash, credit, vouchers, cash
//! coupons or stored-value cards, or left in arrears, so no voucher is subtracted again: a line
//! paid by `信用额度支付` is paid with credit, and one with `欠费金额` is in arrears. `账号` (the
//! account's name, unique in Huawei) is the account when no `账号ID` column is given.

use rust_decimal::Decimal;

use crate::config::ExportFormat;
use crate::ingest::cell::CellError;
use crate::ingest::exports::values::{
    amount, amount_or_zero, instant, month_cell, split_range, timestamp,
};
use crate::ingest::exports::{
    Charge, Cx, Field, Format, Outcome, Row, cycle_of, is_subtotal, pick,
};
use crate::model::records::{PaidWith, PaymentMode, PaymentStatus, Text};

const PERIOD: usize = 0;
const ACCOUNT: usize = 1;
const ACCOUNT_NAME: usize = 2;
const PRODUCT: usize = 3;
const SUB_PRODUCT: usize = 4;
const RESOURCE: usize = 5;
const MODE: usize = 6;
const START: usize = 7;
const END: usize = 8;
const RANGE: usize = 9;
const LIST: usize = 10;
const DISCOUNT: usize = 11;
const PAYABLE: usize = 12;
const CREDIT: usize = 13;
const ARREARS: usize = 14;
const CURRENCY: usize = 15;

const FIELDS: &[Field] = &[
    Field::required("deducted_at (its month)", &["账期", "Billing Cycle"]),
    Field::account(
        "account_id",
        &["账号ID", "客户ID", "Customer ID", "账号", "Account"],
    ),
    Field::new(
        "account_name",
        &["账号", "账号名称", "客户名称", "Account Name"],
    ),
    Field::required(
        "product",
        &["产品类型", "云服务类型", "Service Type", "产品", "Product"],
    ),
    Field::new("sub_product", &["产品", "Product", "产品类型编码"]),
    Field::new("resource_id", &["资源ID", "Resource ID"]),
    Field::new("payment_mode", &["计费模式", "Billing Mode"]),
    Field::new("charge_start", &["使用开始时间", "Start Time"]),
    Field::new("charge_end", &["使用结束时间", "End Time"]),
    Field::new(
        "charge_start and charge_end (a range)",
        &["消费时间", "Expenditure Time"],
    ),
    Field::new("list_amount", &["官网价", "List Price"]),
    Field::new("discount_amount", &["优惠金额", "Discount Amount"]),
    Field::required("payable_amount", &["应付金额", "Amount Due"]),
    Field::new("paid_with (credit)", &["信用额度支付", "Credit Payment"]),
    Field::new("payment_status (arrears)", &["欠费金额", "Arrears"]),
    Field::new("currency", &["币种", "Currency"]),
];

pub const FORMAT: Format = Format {
    kind: ExportFormat::Huawei,
    fields: FIELDS,
    telling: &[
        "应付金额(¥)",
        "官网价(¥)",
        "优惠金额(¥)",
        "产品类型",
        "产品类型编码",
        "资源ID",
        "使用开始时间",
        "使用结束时间",
        "企业项目",
        "使用量类型编码",
        "信用额度支付(¥)",
    ],
    line,
};

const MODES: &[&str] = &[
    "包年/包月",
    "包年包月",
    "包周期",
    "预留实例",
    "按需",
    "按需计费",
    "Yearly/Monthly",
    "Pay-per-use",
    "Reserved Instance",
];

fn line<'r>(row: &Row<'r>, cx: &mut Cx) -> Result<Outcome<'r>, CellError> {
    if is_subtotal(row, &[PERIOD, ACCOUNT, PRODUCT]) {
        return Ok(Outcome::NotCharge);
    }
    let period = month_cell(row.cell(PERIOD), &mut cx.zone)?;
    let account = cx.account(row.cell(ACCOUNT))?;
    let (start, end, end_cell) = if !row.text(START).is_empty() {
        let start = timestamp(row.cell(START), &mut cx.zone)?;
        let end = match row.text(END) {
            "" => start,
            _ => timestamp(row.cell(END), &mut cx.zone)?,
        };
        (start, end, END)
    } else if !row.text(RANGE).is_empty() {
        let cell = row.cell(RANGE);
        let text = cell.text();
        let (a, b) = split_range(text).unwrap_or((text, text));
        let start = instant(a, &mut cx.zone).map_err(|r| cell.fail(r))?;
        let end = instant(b, &mut cx.zone).map_err(|r| cell.fail(r))?;
        (start, end, RANGE)
    } else {
        let start = period.start(cx.zone.tz);
        (start, period.next().start(cx.zone.tz), PERIOD)
    };
    let payment_mode = match row.text(MODE) {
        "" => PaymentMode::Postpaid,
        _ => match pick(row.cell(MODE), MODES)? {
            "按需" | "按需计费" | "Pay-per-use" => PaymentMode::Postpaid,
            _ => PaymentMode::Prepaid,
        },
    };
    let payable = amount_or_zero(row.cell(PAYABLE))?;
    let discount = amount_or_zero(row.cell(DISCOUNT))?;
    let list = match row.text(LIST) {
        "" => payable + discount,
        _ => amount(row.cell(LIST))?,
    };
    let credit = amount_or_zero(row.cell(CREDIT))?;
    let arrears = amount_or_zero(row.cell(ARREARS))?;
    let name = match row.text(ACCOUNT_NAME) {
        n if n == account.as_ref() => "",
        n => n,
    };
    Ok(Outcome::Charge(Charge {
        account_id: account,
        account_name: name,
        product: Text::from(row.cell(PRODUCT).required()?),
        sub_product: Text::from(row.text(SUB_PRODUCT)),
        resource_id: row.text(RESOURCE),
        payment_mode,
        billing_cycle: cycle_of(start, end),
        charge_start: start,
        charge_end: end,
        end_cell,
        deducted_at: Some(period.start(cx.zone.tz)),
        list_amount: list,
        discount_amount: discount,
        voucher_amount: Decimal::ZERO,
        payable_amount: payable,
        payment_status: if arrears > Decimal::ZERO {
            PaymentStatus::Arrears
        } else {
            PaymentStatus::Paid
        },
        paid_with: if credit != Decimal::ZERO {
            PaidWith::Credit
        } else {
            PaidWith::Cash
        },
        currency: cx.currency(row.cell(CURRENCY))?,
        correction: false,
    }))
}
