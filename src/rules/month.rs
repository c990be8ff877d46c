//! One pass over the month's bill lines that feeds every rule.
//!
//! `bills.csv` is the one input too big to hold. Each rule therefore works as a fold: it adds one
//! line at a time to sums it keeps per group (R2, R5, R6), or to the few lines it must keep (R3's
//! hosted children, R7's findings and metered bills). A [`Pass`] holds every rule's fold for the
//! lines one core reads (those of its accounts); passes over different lines merge. The order of the rules
//! inside [`Pass::add`] is the order of their dependencies: R3 says where a line rolls up before
//! R6 and R7 look at it. What the rules ask of a line's account is read once, from its resolved
//! record ([`Accounts`]), which every rule is handed.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use rustc_hash::FxHashMap;

use crate::model::fold::Fold;
use crate::model::period::Period;
use crate::model::records::{
    Account, BillLine, InvoiceRequest, Known, Line, LineKey, Partner, PartnerLink, RebateRate,
    Relation, SpecialRebate, Text, UsageRecord,
};
use crate::rules::accounts::Accounts;
use crate::rules::consumption::{self, Consumption};
use crate::rules::invoices::{self, InvoiceInput};
use crate::rules::rates::RebateInput;
use crate::rules::rebate::{self, Rates, RebateLine};
use crate::rules::reconcile::{self, Finding, Meter};
use crate::rules::rollup::Rollup;

/// What every line is judged against: the month, its accounts resolved, and the rules' tables
/// that are not per account.
pub struct Tables<'a> {
    pub period: &'a Period,
    pub accounts: Accounts<'a>,
    pub rates: Rates<'a>,
    pub meter: Meter<'a>,
}

/// The checked tables the rules read, as loaded: what [`Tables::new`] indexes.
pub struct Inputs<'a> {
    /// The known accounts, in the places their bill lines carry.
    pub known: &'a Known,
    pub accounts: &'a BTreeMap<Text, Account>,
    pub partners: &'a BTreeMap<Text, Partner>,
    pub links: &'a [PartnerLink],
    pub relations: &'a [Relation],
    pub rates: &'a [RebateRate],
    pub specials: &'a [SpecialRebate],
    pub requests: &'a [InvoiceRequest],
    /// Whether the accounts' own discount rates are known: not when they were taken from the
    /// exports, so that no line is expected at a rate nobody gave.
    pub own_rates: bool,
    pub reconcile_tolerance: Decimal,
}

impl<'a> Inputs<'a> {
    /// What the invoice rules read of the world.
    pub fn invoice_input(&self) -> InvoiceInput<'a> {
        InvoiceInput {
            accounts: self.accounts,
            requests: self.requests,
        }
    }
}

impl<'a> Tables<'a> {
    /// Indexes the world, and one batch's `usage`, for the pass over the month's bill lines: the
    /// one constructor, which the pipeline and the rules' tests share.
    pub fn new(inputs: &Inputs<'a>, usage: &'a [UsageRecord], period: &'a Period) -> Tables<'a> {
        Tables {
            period,
            accounts: Accounts::new(inputs, usage, period),
            rates: Rates::new(
                &RebateInput {
                    partners: inputs.partners,
                    rates: inputs.rates,
                },
                period,
            ),
            meter: Meter::new(usage, period, inputs.reconcile_tolerance),
        }
    }
}

/// Σ payable of the lines each period selects, per currency: the source side of the
/// conservation checks in `manifest.json`. `None` where the period selects no line.
#[derive(Debug, Default)]
pub struct Selected {
    pub by_currency: FxHashMap<usize, (Text, Option<Decimal>, Option<Decimal>)>,
}

impl Selected {
    fn merge(&mut self, later: Selected) {
        for (key, (currency, used, deducted)) in later.by_currency {
            let sums = self
                .by_currency
                .entry(key)
                .or_insert((currency, None, None));
            if let Some(used) = used {
                *sums.1.get_or_insert_default() += used;
            }
            if let Some(deducted) = deducted {
                *sums.2.get_or_insert_default() += deducted;
            }
        }
    }
}

/// A sharded run's stage holds the sums per currency as a list, keyed again when read.
impl serde::Serialize for Selected {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut sums: Vec<_> = self.by_currency.values().collect();
        sums.sort_by(|a, b| a.0.cmp(&b.0));
        s.collect_seq(sums)
    }
}

impl<'de> serde::Deserialize<'de> for Selected {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Selected, D::Error> {
        let sums =
            <Vec<(Text, Option<Decimal>, Option<Decimal>)> as serde::Deserialize>::deserialize(d)?;
        let mut selected = Selected::default();
        for (currency, used, deducted) in sums {
            selected.merge(Selected {
                by_currency: [(currency.id(), (currency, used, deducted))]
                    .into_iter()
                    .collect(),
            });
        }
        Ok(selected)
    }
}

/// R2's and R5's sums for one [`LineKey`]. They share one table, so that a line costs one lookup
/// for both: at ten million lines the tables outgrow the caches, and each lookup is a miss.
struct Group<'a> {
    consumption: consumption::Sums,
    rebate: rebate::Sums<'a>,
}

/// Every rule's fold over some bill lines.
pub struct Pass<'t, 'a> {
    tables: &'t Tables<'a>,
    pub selected: Selected,
    /// The groups this pass added lines to.
    groups: FxHashMap<LineKey, Group<'a>>,
    /// The groups of the passes merged into this one. Passes over different accounts hold
    /// different keys, so their tables are kept side by side rather than merged into one; a key
    /// held twice is still summed right, since R2 and R5 add keys up when they finish.
    merged: Vec<FxHashMap<LineKey, Group<'a>>>,
    pub rollup: Rollup,
    pub invoices: invoices::Sums,
    pub reconcile: reconcile::Matches,
}

impl<'t, 'a> Pass<'t, 'a> {
    pub fn new(tables: &'t Tables<'a>) -> Self {
        Pass {
            tables,
            selected: Selected::default(),
            groups: FxHashMap::default(),
            merged: Vec::new(),
            rollup: Rollup::default(),
            invoices: invoices::Sums::default(),
            reconcile: reconcile::Matches::new(&tables.meter),
        }
    }

    /// What the month's rules found, once every line is added.
    pub fn finish(self) -> Finished {
        // Reconciliation first, so that its metered bills are gone before R2 and R5 build rows.
        let findings = self.reconcile.finish(&self.tables.meter);
        let mut maps = self.merged;
        maps.push(self.groups);
        let groups = || maps.iter().flatten();
        let (consumption, rebates) = rayon::join(
            || consumption::rows(groups().map(|(k, g)| (k, &g.consumption))),
            || rebate::statement_lines(groups().map(|(k, g)| (k, &g.rebate))),
        );
        Finished {
            consumption,
            statement_lines: rebates.lines,
            results: Results {
                selected: self.selected,
                unlinked: rebates.unlinked,
                rollups: vec![self.rollup.shrink()],
                invoices: self.invoices,
                findings,
            },
        }
    }
}

impl Fold for Pass<'_, '_> {
    fn add(&mut self, b: &BillLine) {
        let t = self.tables;
        let account = t.accounts.of(b);
        let at = t.period.place(b);
        if at.any() {
            let sums = self
                .selected
                .by_currency
                .entry(b.currency.id())
                .or_insert_with(|| (b.currency.clone(), None, None));
            if at.used {
                *sums.1.get_or_insert_default() += b.payable_amount;
            }
            if at.deducted {
                *sums.2.get_or_insert_default() += b.payable_amount;
            }
            let group = self.groups.entry(b.key()).or_insert_with(|| Group {
                consumption: consumption::Sums::default(),
                rebate: t.rates.sums(b, account),
            });
            group.consumption.add(b, at, t.period);
            if t.period.counted(at) {
                group.rebate.add(b);
            }
        }
        let rolled_to = self.rollup.add(b, account, at, t.period.tz);
        self.invoices
            .add(account, b, at, rolled_to.map(|master| master.id()));
        self.reconcile.add(&t.meter, account, b, at, rolled_to);
    }

    fn merge(&mut self, later: Self, lines_before: Line) {
        self.selected.merge(later.selected);
        self.merged.push(later.groups);
        self.merged.extend(later.merged);
        self.rollup.merge(later.rollup, lines_before);
        self.invoices.merge(later.invoices);
        self.reconcile.merge(later.reconcile, lines_before);
    }
}

/// What the rules found over one batch of accounts. The consumption rows and the statement
/// lines are the month's biggest results, and are handed on batch by batch; the rest is merged
/// into the month's [`Results`]. A shard of a sharded run writes it to its stage as it is.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct Finished {
    /// R2's rows, sorted by account, product and currency.
    pub consumption: Vec<Consumption>,
    /// R5's lines, sorted by partner, currency and line key.
    pub statement_lines: Vec<RebateLine>,
    pub results: Results,
}

/// The month's rules, applied to every bill line, but for what [`Finished`] hands on.
#[derive(Default, serde::Serialize, serde::Deserialize)]
pub struct Results {
    pub selected: Selected,
    /// R5: Σ payable, per currency, of counted lines whose account had no partner link in force.
    pub unlinked: BTreeMap<Text, Decimal>,
    /// The hosted children's lines, one rollup per batch of accounts, each in no order:
    /// [`Rollup::concat`] puts them together.
    pub rollups: Vec<Rollup>,
    /// Invoice sums; [`invoices::invoices`] turns them into the list.
    pub invoices: invoices::Sums,
    pub findings: Vec<Finding>,
}

impl Results {
    /// Adds the results of another batch of accounts: the rollups are kept one per batch, and the
    /// findings are merged into their order.
    pub fn merge(&mut self, later: Results) {
        self.selected.merge(later.selected);
        for (currency, amount) in later.unlinked {
            *self.unlinked.entry(currency).or_default() += amount;
        }
        self.rollups.extend(later.rollups);
        self.invoices.merge(later.invoices);
        reconcile::merge(&mut self.findings, later.findings);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::records::*;
    use crate::rules::testing::{World, account, bill, d, october, window};

    /// A month with a partner link, a hosting relation and a metered resource, so that a line
    /// reaches every rule.
    fn world() -> World {
        World {
            accounts: [
                account("child", "E", TitleKind::Enterprise),
                account("master", "E", TitleKind::Enterprise),
                account("cust", "C", TitleKind::Enterprise),
            ]
            .into(),
            partners: [(
                "p1".into(),
                Partner {
                    line: 2,
                    partner_id: "p1".into(),
                    partner_name: "P".into(),
                    tier: "gold".into(),
                    invoice_kind: InvoiceKind::Special,
                    arrears_amount: Decimal::ZERO,
                },
            )]
            .into(),
            links: vec![PartnerLink {
                line: 2,
                account_id: "cust".into(),
                partner_id: "p1".into(),
                link_type: LinkType::Resale,
                window: window("2026-01-01", None),
            }],
            relations: vec![Relation {
                line: 2,
                child_id: "child".into(),
                master_id: "master".into(),
                kind: RelationKind::Hosting,
                window: window("2026-01-01", None),
                inherit_discount: false,
                invoice_by: InvoiceBy::Master,
            }],
            rates: vec![RebateRate {
                line: 2,
                tier: "gold".into(),
                product: "cvm".into(),
                payment_mode: ModeFilter::Any,
                rate: d("0.1"),
                window: window("2026-01-01", None),
            }],
            ..World::default()
        }
    }

    fn bills() -> Vec<BillLine> {
        vec![
            bill("1", "cust", "2026-10-02", "100"),
            bill("2", "cust", "2026-10-03", "50"),
            bill("3", "child", "2026-10-04", "30"),
            bill("4", "child", "2026-09-04", "7"),
        ]
    }

    #[test]
    fn one_line_reaches_every_rule() {
        let month = world().fold(&bills(), &october());
        let consumption: Vec<(&str, Decimal)> = month
            .consumption
            .iter()
            .map(|c| (c.account_id.as_ref(), c.usage_period))
            .collect();
        assert_eq!(consumption, vec![("child", d("30")), ("cust", d("150"))]);
        assert_eq!(month.statement_lines.len(), 1);
        assert_eq!(month.statement_lines[0].rebate(), d("15.0"));
        let rolled: Vec<&str> = month.results.rollups[0]
            .lines
            .iter()
            .map(|l| l.bill.bill_id.as_str())
            .collect();
        assert_eq!(rolled, vec!["3"], "the child's October line rolls up");
        let kinds: Vec<reconcile::Kind> = month.results.findings.iter().map(|f| f.kind).collect();
        assert_eq!(
            kinds,
            vec![reconcile::Kind::HostedNonCredit],
            "the rolled-up line was paid in cash"
        );
        let (_, used, deducted) = month
            .results
            .selected
            .by_currency
            .values()
            .next()
            .expect("CNY");
        assert_eq!((*used, *deducted), (Some(d("180")), Some(d("180"))));
    }

    /// Cores fold different accounts and merge: the result must be the one pass's.
    #[test]
    fn passes_over_parts_merge_into_the_whole() {
        let world = world();
        let october = october();
        let tables = world.tables(&october);
        let all = bills();
        let (cust, child): (Vec<BillLine>, Vec<BillLine>) = all
            .iter()
            .cloned()
            .partition(|b| b.account_id.as_ref() == "cust");
        let mut first = Pass::new(&tables);
        cust.iter().for_each(|b| first.add(b));
        let mut second = Pass::new(&tables);
        child.iter().for_each(|b| second.add(b));
        first.merge(second, 0);
        let merged = first.finish();
        let whole = world.fold(&all, &october);
        assert_eq!(merged.consumption, whole.consumption);
        assert_eq!(merged.statement_lines, whole.statement_lines);
        assert_eq!(merged.results.findings, whole.results.findings);
        assert_eq!(merged.results.unlinked, whole.results.unlinked);
    }
}
