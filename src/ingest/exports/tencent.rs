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
use crate::ingest::exports::{Charge, Cx, Format, Outcome, Row, Window, fields, is_subtotal};
use crate::model::records::PaymentMode;
use crate::model::records::PaymentMode::{Postpaid, Prepaid};

#[rustfmt::skip]
pub const FORMAT: Format = Format {
    kind: ExportFormat::Tencent, title: "Tencent", fields: FIELDS, line,
    typed: &[], first: true, account_of: |_| None,
    telling: &[
        "优惠后总价", "优惠后总价（不含税）", "产品名称", "子产品名称", "扣费时间", "代金券支出",
        "使用者UIN", "支付者UIN", "ProductName", "SubproductName", "OriginalCost", "DiscountRate",
        "TransactionTime", "折扣率",
    ],
};

fields! {
    account ACCOUNT: "account_id" <- ["使用者UIN", "使用者账号ID", "Owner Account ID", "OwnerUin", "支付者UIN", "支付者账号ID", "Payer Account ID", "PayerUin"],
    required PRODUCT: "product" <- ["产品名称", "ProductName", "Product Name"],
    SUB_PRODUCT: "sub_product" <- ["子产品名称", "SubproductName", "Subproduct Name"],
    RESOURCE: "resource_id" <- ["资源ID", "实例ID", "InstanceID", "Instance ID"],
    MODE: "payment_mode" <- ["计费模式", "BillingMode", "Billing Mode"],
    START: "charge_start" <- ["用量开始时间", "开始使用时间", "使用开始时间", "Start Date of Usage", "Usage Start Time"],
    END: "charge_end" <- ["用量结束时间", "结束使用时间", "使用结束时间", "End Date of Usage", "Usage End Time"],
    required DEDUCTED: "deducted_at" <- ["扣费时间", "TransactionTime", "Transaction Time"],
    LIST: "list_amount" <- ["原价", "OriginalCost", "Original Cost"],
    required PAYABLE: "payable_amount" <- ["优惠后总价", "优惠后总价（不含税）", "RealCost", "Total Amount After Discount (Excluding Tax)"],
    CURRENCY: "currency" <- ["币种", "currency", "Currency"],
}

#[rustfmt::skip]
const MODES: &[(&str, PaymentMode)] = &[
    ("包年包月", Prepaid), ("按量计费", Postpaid), ("Monthly Subscription", Prepaid),
    ("Pay-As-You-Go", Postpaid), ("Pay-As-You-Go resources", Postpaid), ("prePay", Prepaid),
    ("postPay", Postpaid), ("预付费", Prepaid), ("后付费", Postpaid),
];

fn line<'r>(row: &Row<'r>, cx: &mut Cx) -> Result<Outcome<'r>, CellError> {
    if is_subtotal(row, &[ACCOUNT, PRODUCT]) {
        return Ok(Outcome::NotCharge);
    }
    let account = cx.account(row.cell(ACCOUNT))?;
    let deducted = row.time(DEDUCTED, &mut cx.zone)?;
    // Without a usage start, the line was used when it was deducted.
    let window = match row.text(START) {
        "" => Window {
            end_cell: DEDUCTED,
            ..row.window_from(deducted, END, &mut cx.zone)?
        },
        _ => row.window(START, END, &mut cx.zone)?,
    };
    let payment_mode = row.payment_mode(MODE, MODES)?;
    let payable = row.amount_or_zero(PAYABLE)?;
    let list = row.list_amount(LIST, &[payable])?;
    let discount = row.discount(LIST, list, payable)?;
    let charge = Charge::new(row, cx, account, window, list, discount, payable)?;
    Ok(Outcome::Charge(Charge {
        payment_mode,
        deducted_at: Some(deducted),
        currency: cx.currency(row.cell(CURRENCY))?,
        ..charge
    }))
}
