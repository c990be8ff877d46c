//! Test support: the month's rules over a few hand-made lines, through the same fold that
//! production runs on every core ([`Pass`]), so that a rule's unit test checks the path the
//! binary takes.

use std::collections::BTreeMap;

use chrono_tz::Tz;
use rust_decimal::Decimal;

use crate::model::basis::Basis;
use crate::model::fold::Fold;
use crate::model::period::Period;
use crate::model::records::*;
use crate::rules::month::{Finished, Inputs, Pass, Tables};

/// Every checked table the rules read, empty by default.
pub struct World {
    pub accounts: BTreeMap<Text, Account>,
    pub partners: BTreeMap<Text, Partner>,
    pub links: Vec<PartnerLink>,
    pub relations: Vec<Relation>,
    pub rates: Vec<RebateRate>,
    pub specials: Vec<SpecialRebate>,
    pub requests: Vec<InvoiceRequest>,
    pub usage: Vec<UsageRecord>,
    pub basis: Basis,
    pub tolerance: Decimal,
}

impl Default for World {
    fn default() -> Self {
        World {
            accounts: BTreeMap::new(),
            partners: BTreeMap::new(),
            links: Vec::new(),
            relations: Vec::new(),
            rates: Vec::new(),
            specials: Vec::new(),
            requests: Vec::new(),
            usage: Vec::new(),
            basis: Basis::Usage,
            tolerance: Decimal::new(1, 2),
        }
    }
}

impl World {
    /// The tables one month's pass judges lines against, through the constructor the pipeline uses.
    pub fn tables<'a>(&'a self, period: &'a Period) -> Tables<'a> {
        // The accounts the world names are resolved after these, none: in the order
        // [`crate::rules::accounts::Accounts`] meets them.
        static KNOWN: std::sync::LazyLock<Known> = std::sync::LazyLock::new(Known::default);
        let inputs = Inputs {
            known: &KNOWN,
            accounts: &self.accounts,
            partners: &self.partners,
            links: &self.links,
            relations: &self.relations,
            rates: &self.rates,
            specials: &self.specials,
            requests: &self.requests,
            own_rates: true,
            reconcile_tolerance: self.tolerance,
        };
        Tables::new(&inputs, &self.usage, period)
    }

    /// Every rule over `bills`, in one pass, in `period` on the world's basis. Each line carries
    /// its account's place, as a line read from a file does.
    pub fn fold(&self, bills: &[BillLine], period: &Period) -> Finished {
        let period = Period {
            basis: self.basis,
            ..period.clone()
        };
        let tables = self.tables(&period);
        let mut pass = Pass::new(&tables);
        for b in bills {
            let mut b = b.clone();
            b.account = tables.accounts.place_of(&b.account_id).unwrap_or(NO_PLACE);
            pass.add(&b);
        }
        pass.finish()
    }
}

pub const SH: Tz = chrono_tz::Asia::Shanghai;

pub fn ts(s: &str) -> crate::model::time::Timestamp {
    crate::model::time::parse_timestamp(s, SH).expect("a test timestamp")
}

pub fn d(s: &str) -> Decimal {
    s.parse().expect("a test decimal")
}

pub fn october() -> Period {
    Period::new("2026-10".parse().expect("a month"), SH)
}

/// A post-paid daily bill line of `account` for `cvm`, starting at `start`, with no discount or
/// voucher, paid in cash, deducted at its start.
pub fn bill(id: &str, account: &str, start: &str, payable: &str) -> BillLine {
    BillLine {
        line: 2,
        bill_id: id.into(),
        account_id: account.into(),
        account: NO_PLACE,
        product: "cvm".into(),
        sub_product: "".into(),
        resource_id: "".into(),
        payment_mode: PaymentMode::Postpaid,
        billing_cycle: BillingCycle::Day,
        charge_start: ts(start),
        charge_end: ts(start).add_local_days(1, SH),
        deducted_at: Some(ts(start)),
        list_amount: d(payable),
        discount_amount: Decimal::ZERO,
        voucher_amount: Decimal::ZERO,
        payable_amount: d(payable),
        payment_status: PaymentStatus::Paid,
        paid_with: PaidWith::Cash,
        currency: "CNY".into(),
        correction: false,
    }
}

/// An account of its own entity, with no discount.
pub fn account(id: &str, entity: &str, kind: TitleKind) -> (Text, Account) {
    (
        id.into(),
        Account {
            line: 2,
            account_id: id.into(),
            account_name: format!("{id} name").as_str().into(),
            entity_name: entity.into(),
            title_kind: kind,
            discount_rate: Decimal::ZERO,
        },
    )
}

pub fn window(from: &str, to: Option<&str>) -> Window {
    Window {
        from: ts(from),
        to: to.map(ts),
    }
}
