//! Alibaba Cloud 账单明细 / BillingItemDetail (and the older 费用明细 export).
//!
//! UTF-8 with a BOM, every field quoted, `-` as an empty placeholder. `账期` (`yyyy-MM`) is the
//! deduction period; the usage time is `账单开始时间`/`账单结束时间`, else `日期` (`yyyyMMdd`, one
//! day), else `消费时间`, else the `账期` month itself. Alibaba's own arithmetic is
//! `官网价 − 优惠金额 − 优惠券抵扣 = 应付金额`, and `应付金额` is then paid by cash, `代金券抵扣`
//! (cash vouchers), prepaid cards or left in arrears: so the coupon is the contract's `voucher_amount`,
//! and `代金券抵扣`, a way of paying the payable, is not subtracted again. Times without an
//! offset are the console's Beijing time, read in the dataset's `timezone`.

use crate::config::ExportFormat;
use crate::ingest::cell::CellError;
use crate::ingest::exports::{Charge, Cx, Format, Outcome, Row, Window, fields, is_subtotal};
use crate::model::period::Month;
use crate::model::records::PaymentMode::{Postpaid, Prepaid};
use crate::model::records::{BillingCycle, PaymentMode};

#[rustfmt::skip]
pub const FORMAT: Format = Format {
    kind: ExportFormat::Alibaba, title: "Alibaba", fields: FIELDS, line,
    typed: &[], first: true, account_of: |_| None,
    telling: &[
        "账期", "账号ID", "产品Code", "产品明细", "实例ID", "消费类型", "官网价",
        "优惠券抵扣", "应付金额", "代金券抵扣", "储值卡支付金额",
    ],
};

fields! {
    PERIOD: "deducted_at (its month)" <- ["账期", "BillingCycle"],
    account ACCOUNT: "account_id" <- ["账号ID", "BillingAccountId", "用户ID", "UserId", "Owner账号ID", "账号"],
    ACCOUNT_NAME: "account_name" <- ["账号", "账号名称", "BillingAccountName"],
    required PRODUCT: "product" <- ["产品", "产品名称", "ProductName", "产品Code", "ProductCode"],
    SUB_PRODUCT: "sub_product" <- ["产品明细", "ProductDetail", "产品明细Code", "ProductDetailCode"],
    RESOURCE: "resource_id" <- ["实例ID", "实例Id", "InstanceID", "资源ID"],
    MODE: "payment_mode" <- ["消费类型", "SubscriptionType"],
    START: "charge_start" <- ["账单开始时间", "UsageStartTime", "服务开始时间"],
    END: "charge_end" <- ["账单结束时间", "UsageEndTime", "服务结束时间"],
    DAY: "charge_start (the day)" <- ["日期", "BillingDate"],
    USED_AT: "charge_start (the time)" <- ["消费时间"],
    LIST: "list_amount" <- ["官网价", "原价", "PretaxGrossAmount"],
    DISCOUNT: "discount_amount" <- ["优惠金额", "InvoiceDiscount"],
    COUPON: "voucher_amount" <- ["优惠券抵扣", "DeductedByCoupons"],
    required PAYABLE: "payable_amount" <- ["应付金额", "PretaxAmount"],
    ARREARS: "payment_status (arrears)" <- ["欠费金额", "OutstandingAmount"],
    CURRENCY: "currency" <- ["币种", "Currency"],
}

#[rustfmt::skip]
const MODES: &[(&str, PaymentMode)] = &[
    ("Subscription", Prepaid), ("PayAsYouGo", Postpaid), ("PrePaid", Prepaid),
    ("PostPaid", Postpaid), ("包年包月", Prepaid), ("预付费", Prepaid), ("按量付费", Postpaid),
    ("按需付费", Postpaid), ("按量计费", Postpaid), ("后付费", Postpaid),
];

fn line<'r>(row: &Row<'r>, cx: &mut Cx) -> Result<Outcome<'r>, CellError> {
    if is_subtotal(row, &[PERIOD, ACCOUNT, PRODUCT]) {
        return Ok(Outcome::NotCharge);
    }
    let period = row.month(PERIOD, &mut cx.zone)?;
    let account = cx.account(row.cell(ACCOUNT))?;
    let payment_mode = row.payment_mode(MODE, MODES)?;
    // The usage window's cycle is the one its source says, whatever a daylight-saving change
    // makes of its length.
    let (window, cycle) = if !row.text(START).is_empty() {
        let window = row.window(START, END, &mut cx.zone)?;
        (window, window.cycle())
    } else if !row.text(DAY).is_empty() {
        let start = row.time(DAY, &mut cx.zone)?;
        let end = start.add_local_days(1, cx.zone.tz);
        let day = Window {
            start,
            end,
            end_cell: DAY,
        };
        (day, BillingCycle::Day)
    } else if !row.text(USED_AT).is_empty() {
        let at = row.time(USED_AT, &mut cx.zone)?;
        let once = Window {
            start: at,
            end: at,
            end_cell: USED_AT,
        };
        (once, BillingCycle::Once)
    } else if let Some(period) = period {
        (Window::month(period, &cx.zone, PERIOD), BillingCycle::Month)
    } else {
        return Err(row
            .cell(PERIOD)
            .fail("is empty, and so is every usage time: a row needs `账期` or a usage time"));
    };
    // Without `账期`, the line was deducted in the month it was used.
    let period = period.unwrap_or_else(|| Month::of(window.start.local(cx.zone.tz).date()));
    let payable = row.amount_or_zero(PAYABLE)?;
    let discount = row.amount_or_zero(DISCOUNT)?;
    let coupon = row.amount_or_zero(COUPON)?;
    let list = row.list_amount(LIST, &[payable, discount, coupon])?;
    let payment_status = row.arrears(ARREARS)?;
    let charge = Charge::new(row, cx, account, window, list, discount, payable)?;
    Ok(Outcome::Charge(Charge {
        account_name: row.text(ACCOUNT_NAME),
        payment_mode,
        billing_cycle: cycle,
        deducted_at: cx.deducted_in(period),
        voucher_amount: coupon,
        payment_status,
        currency: cx.currency(row.cell(CURRENCY))?,
        ..charge
    }))
}
