//! Row → typed record, one function per input file.
//!
//! The same functions serve the small files (read with the `csv` crate) and the big ones (read on
//! every core), so a row means the same thing whichever reader carried it. Each function checks
//! only its own row; checks across rows (unique ids, overlapping windows) run after a whole file
//! is read, or, for `bill_id`, from hashes kept while it is read.

use std::sync::Arc;

use chrono_tz::Tz;

use crate::ingest::cell::{Cell, CellError};
use crate::model::bounds;
use crate::model::records::*;
use crate::model::time::Zone;

/// A row's cells, in the column order of its [`crate::ingest::schema::FileSpec`].
pub struct Row<'a> {
    pub line: Line,
    pub columns: &'static [&'static str],
    pub values: &'a [&'a str],
}

impl<'a> Row<'a> {
    pub fn cells<const N: usize>(&self) -> [Cell<'a>; N] {
        std::array::from_fn(|i| Cell {
            column: self.columns[i],
            value: self.values[i],
        })
    }
}

/// What parsing needs beyond the row itself. Each segment of a big file parses with its own copy.
#[derive(Clone)]
pub struct Context {
    pub zone: Zone,
    /// The known accounts and partners, shared by the copies each core parses with.
    pub accounts: Arc<Known>,
    pub partners: Arc<Known>,
}

impl Context {
    pub fn new(tz: Tz) -> Context {
        Context {
            zone: Zone::new(tz),
            accounts: Arc::default(),
            partners: Arc::default(),
        }
    }

    fn account(&mut self, cell: Cell) -> Result<Text, CellError> {
        self.accounts
            .get(cell.required()?)
            .ok_or_else(|| cell.fail("unknown account: not in `accounts.csv`"))
    }

    /// The account and its place among the known accounts, from the one probe that finds it.
    fn account_at(&mut self, cell: Cell) -> Result<(Text, Place), CellError> {
        self.accounts
            .find(cell.required()?)
            .ok_or_else(|| cell.fail("unknown account: not in `accounts.csv`"))
    }

    fn partner(&mut self, cell: Cell) -> Result<Text, CellError> {
        self.partners
            .get(cell.required()?)
            .ok_or_else(|| cell.fail("unknown partner: not in `partners.csv`"))
    }

    fn window(&mut self, from: Cell, to: Cell) -> Result<Window, CellError> {
        let w = Window {
            from: from.timestamp(&mut self.zone)?,
            to: to.optional_timestamp(&mut self.zone)?,
        };
        match w.to {
            Some(t) if t <= w.from => Err(to.fail(format!("must be after `{}`", from.column))),
            _ => Ok(w),
        }
    }
}

pub fn account(row: &Row, _: &mut Context) -> Result<Account, CellError> {
    let [id, name, entity, title_kind, discount] = row.cells();
    Ok(Account {
        line: row.line,
        account_id: Text::from(id.required()?),
        account_name: Text::from(name.required()?),
        entity_name: Text::from(entity.required()?),
        title_kind: title_kind.choice(TitleKind::parse, TitleKind::NAMES)?,
        discount_rate: discount.rate()?,
    })
}

pub fn partner(row: &Row, _: &mut Context) -> Result<Partner, CellError> {
    let [id, name, tier, invoice_kind, arrears] = row.cells();
    Ok(Partner {
        line: row.line,
        partner_id: Text::from(id.required()?),
        partner_name: Text::from(name.required()?),
        tier: Text::from(tier.required()?),
        invoice_kind: invoice_kind.choice(InvoiceKind::parse, InvoiceKind::NAMES)?,
        arrears_amount: arrears.non_negative()?,
    })
}

pub fn partner_link(row: &Row, cx: &mut Context) -> Result<PartnerLink, CellError> {
    let [account, partner, link_type, from, to] = row.cells();
    Ok(PartnerLink {
        line: row.line,
        account_id: cx.account(account)?,
        partner_id: cx.partner(partner)?,
        link_type: link_type.choice(LinkType::parse, LinkType::NAMES)?,
        window: cx.window(from, to)?,
    })
}

pub fn relation(row: &Row, cx: &mut Context) -> Result<Relation, CellError> {
    let [child, master, kind, from, to, inherit, invoice_by] = row.cells();
    let r = Relation {
        line: row.line,
        child_id: cx.account(child)?,
        master_id: cx.account(master)?,
        kind: kind.choice(RelationKind::parse, RelationKind::NAMES)?,
        window: cx.window(from, to)?,
        inherit_discount: inherit.boolean()?,
        invoice_by: invoice_by.choice(InvoiceBy::parse, InvoiceBy::NAMES)?,
    };
    if r.child_id == r.master_id {
        return Err(master.fail("an account cannot be its own master"));
    }
    Ok(r)
}

pub fn rebate_rate(row: &Row, cx: &mut Context) -> Result<RebateRate, CellError> {
    let [tier, product, mode, rate, from, to] = row.cells();
    Ok(RebateRate {
        line: row.line,
        tier: Text::from(tier.required()?),
        product: Text::from(product.required()?),
        payment_mode: mode.choice(ModeFilter::parse, ModeFilter::NAMES)?,
        rate: rate.rate()?,
        window: cx.window(from, to)?,
    })
}

pub fn special_rebate(row: &Row, cx: &mut Context) -> Result<SpecialRebate, CellError> {
    let [partner, account, product, sub_product, mode, rate, from, to] = row.cells();
    Ok(SpecialRebate {
        line: row.line,
        partner_id: cx.partner(partner)?,
        account_id: cx.account(account)?,
        product: Text::from(product.required()?),
        sub_product: match sub_product.text() {
            "" => None,
            s => Some(Text::from(s)),
        },
        payment_mode: match mode.text() {
            "" => None,
            _ => Some(mode.choice(PaymentMode::parse, PaymentMode::NAMES)?),
        },
        rate: rate.rate()?,
        window: cx.window(from, to)?,
    })
}

pub fn invoice_request(row: &Row, cx: &mut Context) -> Result<InvoiceRequest, CellError> {
    let [
        id,
        order,
        provider,
        account,
        amount,
        kind,
        title,
        title_kind,
        requested,
        issued,
        no,
        status,
    ] = row.cells();
    Ok(InvoiceRequest {
        line: row.line,
        request_id: Id::from(id.required()?),
        order_id: Text::from(order.required()?),
        provider_id: Text::from(provider.required()?),
        account_id: Text::from(account.required()?),
        amount: amount.decimal()?,
        invoice_kind: kind.choice(InvoiceKind::parse, InvoiceKind::NAMES)?,
        title: Text::from(title.required()?),
        title_kind: title_kind.choice(TitleKind::parse, TitleKind::NAMES)?,
        requested_at: requested.timestamp(&mut cx.zone)?,
        issued_at: issued.optional_timestamp(&mut cx.zone)?,
        invoice_no: Text::from(no.text()),
        order_status: status.choice(OrderStatus::parse, OrderStatus::NAMES)?,
    })
}

pub fn bill(row: &Row, cx: &mut Context) -> Result<BillLine, CellError> {
    let [
        id,
        account,
        product,
        sub_product,
        resource,
        mode,
        cycle,
        start,
        end,
        deducted,
        list,
        discount,
        voucher,
        payable,
        status,
        paid_with,
        currency,
    ] = row.cells();
    let (account_id, place) = cx.account_at(account)?;
    let b = BillLine {
        line: row.line,
        bill_id: Id::from(id.required()?),
        account_id,
        account: place,
        product: Text::from(product.required()?),
        sub_product: Text::from(sub_product.text()),
        resource_id: Id::from(resource.text()),
        payment_mode: mode.choice(PaymentMode::parse, PaymentMode::NAMES)?,
        billing_cycle: cycle.choice(BillingCycle::parse, BillingCycle::NAMES)?,
        charge_start: start.timestamp(&mut cx.zone)?,
        charge_end: end.timestamp(&mut cx.zone)?,
        deducted_at: deducted.optional_timestamp(&mut cx.zone)?,
        list_amount: list.decimal()?,
        discount_amount: discount.decimal()?,
        voucher_amount: voucher.decimal()?,
        payable_amount: payable.decimal()?,
        payment_status: status.choice(PaymentStatus::parse, PaymentStatus::NAMES)?,
        paid_with: paid_with.choice(PaidWith::parse, PaidWith::NAMES)?,
        currency: Text::from(currency.currency()?),
        correction: false,
    };
    if b.charge_end < b.charge_start {
        return Err(end.fail("is before `charge_start`"));
    }
    Ok(b)
}

pub fn usage(row: &Row, cx: &mut Context) -> Result<UsageRecord, CellError> {
    let [
        id,
        account,
        product,
        sub_product,
        resource,
        start,
        end,
        quantity,
        unit,
        price,
        currency,
    ] = row.cells();
    let u = UsageRecord {
        line: row.line,
        usage_id: Id::from(id.required()?),
        account_id: cx.account(account)?,
        product: Text::from(product.required()?),
        sub_product: Text::from(sub_product.text()),
        resource_id: Id::from(resource.required()?),
        start: start.timestamp(&mut cx.zone)?,
        end: end.timestamp(&mut cx.zone)?,
        quantity: quantity.non_negative()?,
        unit: Text::from(unit.text()),
        unit_price: price.non_negative()?,
        currency: Text::from(currency.currency()?),
    };
    if u.end <= u.start {
        return Err(end.fail("must be after `start`"));
    }
    if bounds::product(u.quantity, u.unit_price).is_none() {
        return Err(price.fail(format!(
            "`quantity` × `unit_price` is too large: the amount must be less than {}",
            bounds::MAX_AMOUNT_TEXT
        )));
    }
    Ok(u)
}
