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
use crate::ingest::exports::values::{instant, split_range};
use crate::ingest::exports::{Charge, Cx, Format, Outcome, Row, Window, fields, is_subtotal};
use crate::model::records::PaymentMode::{Postpaid, Prepaid};
use crate::model::records::{PaidWith, PaymentMode};

#[rustfmt::skip]
pub const FORMAT: Format = Format {
    kind: ExportFormat::Huawei, title: "Huawei", fields: FIELDS, line,
    typed: &[], first: true, account_of: |_| None,
    telling: &[
        "应付金额(¥)", "官网价(¥)", "优惠金额(¥)", "产品类型", "产品类型编码", "资源ID",
        "使用开始时间", "使用结束时间", "企业项目", "使用量类型编码", "信用额度支付(¥)",
    ],
};

fields! {
    required PERIOD: "deducted_at (its month)" <- ["账期", "Billing Cycle"],
    account ACCOUNT: "account_id" <- ["账号ID", "客户ID", "Customer ID", "账号", "Account"],
    ACCOUNT_NAME: "account_name" <- ["账号", "账号名称", "客户名称", "Account Name"],
    required PRODUCT: "product" <- ["产品类型", "云服务类型", "Service Type", "产品", "Product"],
    SUB_PRODUCT: "sub_product" <- ["产品", "Product", "产品类型编码"],
    RESOURCE: "resource_id" <- ["资源ID", "Resource ID"],
    MODE: "payment_mode" <- ["计费模式", "Billing Mode"],
    START: "charge_start" <- ["使用开始时间", "Start Time"],
    END: "charge_end" <- ["使用结束时间", "End Time"],
    RANGE: "charge_start and charge_end (a range)" <- ["消费时间", "Expenditure Time"],
    LIST: "list_amount" <- ["官网价", "List Price"],
    DISCOUNT: "discount_amount" <- ["优惠金额", "Discount Amount"],
    required PAYABLE: "payable_amount" <- ["应付金额", "Amount Due"],
    CREDIT: "paid_with (credit)" <- ["信用额度支付", "Credit Payment"],
    ARREARS: "payment_status (arrears)" <- ["欠费金额", "Arrears"],
    CURRENCY: "currency" <- ["币种", "Currency"],
}

#[rustfmt::skip]
const MODES: &[(&str, PaymentMode)] = &[
    ("包年/包月", Prepaid), ("包年包月", Prepaid), ("包周期", Prepaid), ("预留实例", Prepaid),
    ("按需", Postpaid), ("按需计费", Postpaid), ("Yearly/Monthly", Prepaid),
    ("Pay-per-use", Postpaid), ("Reserved Instance", Prepaid),
];

fn line<'r>(row: &Row<'r>, cx: &mut Cx) -> Result<Outcome<'r>, CellError> {
    if is_subtotal(row, &[PERIOD, ACCOUNT, PRODUCT]) {
        return Ok(Outcome::NotCharge);
    }
    let period = row.month_of(PERIOD, &mut cx.zone)?;
    let account = cx.account(row.cell(ACCOUNT))?;
    let window = if !row.text(START).is_empty() {
        row.window(START, END, &mut cx.zone)?
    } else if !row.text(RANGE).is_empty() {
        let cell = row.cell(RANGE);
        let text = cell.text();
        let (a, b) = split_range(text).unwrap_or((text, text));
        Window {
            start: instant(a, &mut cx.zone).map_err(|r| cell.fail(r))?,
            end: instant(b, &mut cx.zone).map_err(|r| cell.fail(r))?,
            end_cell: RANGE,
        }
    } else {
        Window::month(period, &cx.zone, PERIOD)
    };
    let payment_mode = row.payment_mode(MODE, MODES)?;
    let payable = row.amount_or_zero(PAYABLE)?;
    let discount = row.amount_or_zero(DISCOUNT)?;
    let list = row.list_amount(LIST, &[payable, discount])?;
    let credit = row.amount_or_zero(CREDIT)?;
    let payment_status = row.arrears(ARREARS)?;
    // `账号` is the account's name, unique in Huawei: no name when it is the id itself.
    let name = match row.text(ACCOUNT_NAME) {
        n if n == account.as_ref() => "",
        n => n,
    };
    let charge = Charge::new(row, cx, account, window, list, discount, payable)?;
    Ok(Outcome::Charge(Charge {
        account_name: name,
        payment_mode,
        deducted_at: cx.deducted_in(period),
        payment_status,
        paid_with: if credit != Decimal::ZERO {
            PaidWith::Credit
        } else {
            PaidWith::Cash
        },
        currency: cx.currency(row.cell(CURRENCY))?,
        ..charge
    }))
}
