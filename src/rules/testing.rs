//! Test support: the month's rules over a few hand-made lines, through the same fold that
//! production runs on every core ([`Pass`]), so that a rule's unit test checks the path the
//! binary takes.

use std::collections::BTreeMap;

use chrono_tz::Tz;
use rust_decimal::Decimal;

use crate::model::basis::RebateBasis;
use crate::model::fold::Fold;
use crate::model::period::Period;
use crate::model::records::*;
use crate::rules::discounts::Discounts;
use crate::rules::invoices::{InvoiceInput, Issuers};
use crate::rules::month::{Finished, Pass, Tables};
use crate::rules::rates::RebateInput;
use crate::rules::rebate::Rates;
use crate::rules::reconcile::Meter;
use crate::rules::rollup::Hosting;

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
    pub tz: Tz,
    pub basis: RebateBasis,
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
            tz: chrono_tz::Asia::Shanghai,
            basis: RebateBasis::Usage,
            tolerance: Decimal::new(1, 2),
        }
    }
}

impl World {
    /// The tables one month's pass judges lines against, as the pipeline builds them.
    pub fn tables(&self, period: &Period) -> Tables<'_> {
        Tables {
            period: *period,
            rates: Rates::new(
                &RebateInput {
                    links: &self.links,
                    partners: &self.partners,
                    rates: &self.rates,
                    specials: &self.specials,
                },
                period,
                self.basis,
            ),
            hosting: Hosting::new(&self.relations, &self.accounts, period, self.tz),
            issuers: Issuers::new(
                &InvoiceInput {
                    accounts: &self.accounts,
                    links: &self.links,
                    relations: &self.relations,
                    requests: &self.requests,
                },
                period,
            ),
            meter: Meter::new(
                &self.usage,
                Discounts::new(&self.relations, &self.accounts),
                period,
                self.tolerance,
            ),
        }
    }

    /// Every rule over `bills`, in one pass.
    pub fn fold(&self, bills: &[BillLine], period: &Period) -> Finished {
        let tables = self.tables(period);
        let mut pass = Pass::new(&tables);
        for b in bills {
            pass.add(b);
        }
        pass.finish()
    }
}
