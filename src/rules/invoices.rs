//! R6 Invoice lists: every invoice someone must issue for the month.
//!
//! ## What it does
//! Gathers four sources into one list:
//! - **resale**: the partner invoices each resale customer for its payable consumption in the
//!   month, per currency (a line belongs to the resale link in force at its `charge_start`);
//! - **hosting**: the cloud issues one merged invoice to each master for its children's rolled-up
//!   lines;
//! - **management** with `invoice_by = master`: the master issues one invoice per child, with the
//!   child's title, for the child's lines that start while the relation is in force;
//! - **marketplace**: provider invoice requests made before the month's end and not issued before
//!   its start, with a due date and shipping, judged at `as_of`.
//!
//! ## Why
//! Seeds 000, 001, 003 and 004: who invoices whom depends on the link or relation, a total of 0
//! needs no invoice, only enterprises get special VAT invoices, and marketplace invoices are due
//! within `invoice_due_days` and ship cash-on-delivery at or below `cod_threshold`.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use rustc_hash::FxHashMap;

use crate::model::money::round;
use crate::model::period::{InMonth, Period};
use crate::model::records::*;
use crate::model::time::Timestamp;
use crate::rules::accounts::Resolved;

/// Where an invoice comes from, in list order.
#[derive(
    Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum Source {
    Resale,
    Hosting,
    Management,
    Marketplace,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Resale => "resale",
            Source::Hosting => "hosting",
            Source::Management => "management",
            Source::Marketplace => "marketplace",
        }
    }
}

/// An invoice's status, judged at `as_of`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    ToIssue,
    Issued,
    Overdue,
    NotNeeded,
    Refunded,
    BlockedArrears,
    RejectedTitle,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::ToIssue => "to_issue",
            Status::Issued => "issued",
            Status::Overdue => "overdue",
            Status::NotNeeded => "not_needed",
            Status::Refunded => "refunded",
            Status::BlockedArrears => "blocked_arrears",
            Status::RejectedTitle => "rejected_title",
        }
    }
}

/// Who ships a marketplace invoice.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Shipping {
    /// Cash on delivery: the customer pays the courier.
    Cod,
    Provider,
}

impl Shipping {
    pub fn as_str(self) -> &'static str {
        match self {
            Shipping::Cod => "cod",
            Shipping::Provider => "provider",
        }
    }
}

/// One invoice to issue. `amount` is already rounded to 2 dp.
#[derive(Clone, Debug, PartialEq)]
pub struct Invoice {
    pub source: Source,
    pub reference: String,
    pub issuer: String,
    pub recipient_account_id: Text,
    pub title: Text,
    pub invoice_kind: InvoiceKind,
    pub amount: Decimal,
    pub currency: Text,
    pub due_date: Option<Timestamp>,
    pub shipping: Option<Shipping>,
    pub status: Status,
}

/// What the invoice list needs besides the bill lines' sums.
pub struct InvoiceInput<'a> {
    pub accounts: &'a BTreeMap<Text, Account>,
    pub requests: &'a [InvoiceRequest],
}

/// What the invoice list needs from `settle.toml` besides the month's own terms.
pub struct InvoiceTerms {
    pub cod_threshold: Decimal,
    pub invoice_due_days: i64,
}

/// The kind an account's title allows: an individual never gets a special VAT invoice.
fn kind_for(account: Option<&Account>) -> InvoiceKind {
    match account.map(|a| a.title_kind) {
        Some(TitleKind::Individual) => InvoiceKind::Ordinary,
        _ => InvoiceKind::Special,
    }
}

/// An invoice's identity before it is printed: source, and the ids of the issuing partner or master
/// (0 for the cloud), the recipient and the currency.
type SumKey = (Source, usize, usize, usize);
/// The issuing partner or master, the recipient, the currency, and the exact Σ payable.
type Sum = (Option<Text>, Text, Text, Decimal);

/// The invoices a bill line of `account`, placed at `placed`, is on if it was used in the month:
/// each as its source, its issuing partner or master (none for the cloud) and its recipient;
/// `rolled_to` is the master R3 moved it to. The list sums these; `settle explain --invoice`
/// keeps the lines whose answer is the invoice asked about.
pub fn on<'b>(
    account: &'b Resolved,
    b: &'b BillLine,
    placed: InMonth,
    rolled_to: Option<&'b Text>,
) -> [Option<(Source, Option<&'b Text>, &'b Text)>; 3] {
    if !placed.used {
        return [None, None, None];
    }
    let at = b.charge_start;
    let resale = account
        .resale()
        .find(|l| l.window.contains(at))
        .map(|link| (Source::Resale, Some(&link.partner_id), &b.account_id));
    let hosting = rolled_to.map(|master| (Source::Hosting, None, master));
    let management = account
        .managed()
        .find(|r| r.window.contains(at))
        .map(|r| (Source::Management, Some(&r.master_id), &b.account_id));
    [resale, hosting, management]
}

/// The running invoice sums over some bill lines.
#[derive(Default)]
pub struct Sums {
    sums: FxHashMap<SumKey, Sum>,
}

impl Sums {
    /// Adds a bill line of `account`, placed at `placed`, to every invoice it belongs on if it
    /// was used in the month; `rolled_to` is the master R3 moved it to.
    pub fn add(
        &mut self,
        account: &Resolved,
        b: &BillLine,
        placed: InMonth,
        rolled_to: Option<&Text>,
    ) {
        for (source, by, recipient) in on(account, b, placed, rolled_to).into_iter().flatten() {
            self.add_to(source, by, recipient, b);
        }
    }

    fn add_to(&mut self, source: Source, by: Option<&Text>, recipient: &Text, b: &BillLine) {
        let key = (
            source,
            by.map_or(0, Text::id),
            recipient.id(),
            b.currency.id(),
        );
        self.sums
            .entry(key)
            .or_insert_with(|| {
                (
                    by.cloned(),
                    recipient.clone(),
                    b.currency.clone(),
                    Decimal::ZERO,
                )
            })
            .3 += b.payable_amount;
    }

    /// Adds an entry as [`Sums::entries`] lists it: how a sharded run's merge reads them back.
    fn add_entry(&mut self, source: Source, (by, recipient, currency, amount): Sum) {
        let key = (
            source,
            by.as_ref().map_or(0, Text::id),
            recipient.id(),
            currency.id(),
        );
        self.sums
            .entry(key)
            .and_modify(|s| s.3 += amount)
            .or_insert((by, recipient, currency, amount));
    }

    pub fn merge(&mut self, other: Sums) {
        for (key, sum) in other.sums {
            let amount = sum.3;
            self.sums
                .entry(key)
                .and_modify(|s| s.3 += amount)
                .or_insert(sum);
        }
    }
}

/// A sharded run's stage holds the sums as a list of entries, keyed again when read, since a key
/// holds [`Text::id`]s, which are a process's own.
impl serde::Serialize for Sums {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut entries: Vec<(Source, &Sum)> = self.sums.iter().map(|(k, v)| (k.0, v)).collect();
        entries.sort_by(|a, b| (a.0, &a.1.0, &a.1.1, &a.1.2).cmp(&(b.0, &b.1.0, &b.1.1, &b.1.2)));
        s.collect_seq(entries)
    }
}

impl<'de> serde::Deserialize<'de> for Sums {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Sums, D::Error> {
        let entries = <Vec<(Source, Sum)> as serde::Deserialize>::deserialize(d)?;
        let mut sums = Sums::default();
        for (source, sum) in entries {
            sums.add_entry(source, sum);
        }
        Ok(sums)
    }
}

/// Every invoice for the month, sorted by source, issuer, recipient, currency and reference.
pub fn invoices(
    sums: Sums,
    input: &InvoiceInput,
    period: &Period,
    terms: &InvoiceTerms,
) -> Vec<Invoice> {
    let as_of = period.as_of;
    let mut out = Vec::new();
    for ((source, ..), (by, recipient, currency, exact)) in sums.sums {
        let issuer = match (source, by) {
            (Source::Resale, Some(by)) => format!("partner:{by}"),
            (Source::Management, Some(by)) => format!("account:{by}"),
            _ => "cloud".to_string(),
        };
        let account = input.accounts.get(&recipient);
        let amount = round(exact, period.rounding);
        out.push(Invoice {
            source,
            reference: recipient.to_string(),
            issuer,
            title: account.map(|a| a.entity_name.clone()).unwrap_or_default(),
            invoice_kind: kind_for(account),
            recipient_account_id: recipient,
            amount,
            currency,
            due_date: None,
            shipping: None,
            status: if amount.is_zero() {
                Status::NotNeeded
            } else {
                Status::ToIssue
            },
        });
    }
    for r in input.requests {
        let requested_in_time = r.requested_at < period.end;
        let issued_before = r.issued_at.is_some_and(|t| t < period.start);
        if !requested_in_time || issued_before {
            continue;
        }
        let due = r
            .requested_at
            .add_local_days(terms.invoice_due_days, period.tz);
        let amount = round(r.amount, period.rounding);
        let status = if r.order_status == OrderStatus::Refunded {
            Status::Refunded
        } else if r.order_status == OrderStatus::Arrears {
            Status::BlockedArrears
        } else if r.invoice_kind == InvoiceKind::Special && r.title_kind == TitleKind::Individual {
            Status::RejectedTitle
        } else if amount.is_zero() {
            Status::NotNeeded
        } else if r.issued_at.is_some_and(|t| t < as_of) {
            Status::Issued
        } else if due < as_of {
            Status::Overdue
        } else {
            Status::ToIssue
        };
        out.push(Invoice {
            source: Source::Marketplace,
            reference: r.request_id.to_string(),
            issuer: format!("provider:{}", r.provider_id),
            recipient_account_id: r.account_id.clone(),
            title: r.title.clone(),
            invoice_kind: r.invoice_kind,
            amount,
            currency: period.base_currency.clone(),
            due_date: Some(due),
            shipping: Some(if r.amount <= terms.cod_threshold {
                Shipping::Cod
            } else {
                Shipping::Provider
            }),
            status,
        });
    }
    out.sort_by(|a, b| {
        (
            a.source,
            &a.issuer,
            &a.recipient_account_id,
            &a.currency,
            &a.reference,
        )
            .cmp(&(
                b.source,
                &b.issuer,
                &b.recipient_account_id,
                &b.currency,
                &b.reference,
            ))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{World, account, bill, d, october, ts, window};

    fn terms() -> InvoiceTerms {
        InvoiceTerms {
            cod_threshold: d("50"),
            invoice_due_days: 7,
        }
    }

    /// The month's invoices over `bills`, through the month's fold.
    fn list(world: &World, bills: &[BillLine], as_of: Timestamp) -> Vec<Invoice> {
        let sums = world.fold(bills, &october()).results.invoices;
        let input = InvoiceInput {
            accounts: &world.accounts,
            requests: &world.requests,
        };
        let period = Period { as_of, ..october() };
        invoices(sums, &input, &period, &terms())
    }

    fn request(id: &str, amount: &str, requested: &str) -> InvoiceRequest {
        InvoiceRequest {
            line: 2,
            request_id: id.into(),
            order_id: "o".into(),
            provider_id: "isv".into(),
            account_id: "a".into(),
            amount: d(amount),
            invoice_kind: InvoiceKind::Ordinary,
            title: "A Ltd".into(),
            title_kind: TitleKind::Enterprise,
            requested_at: ts(requested),
            issued_at: None,
            invoice_no: "".into(),
            order_status: OrderStatus::Paid,
        }
    }

    #[test]
    fn resale_customers_get_one_invoice_per_currency_and_zero_is_not_needed() {
        let world = World {
            accounts: [
                account("a", "A Ltd", TitleKind::Enterprise),
                account("b", "B", TitleKind::Individual),
            ]
            .into(),
            links: ["a", "b"]
                .map(|id| PartnerLink {
                    line: 2,
                    account_id: id.into(),
                    partner_id: "p1".into(),
                    link_type: LinkType::Resale,
                    window: window("2026-01-01", None),
                })
                .to_vec(),
            ..World::default()
        };
        let bills = [
            bill("1", "a", "2026-10-03", "40"),
            bill("2", "a", "2026-10-04", "2.005"),
            bill("3", "b", "2026-10-05", "5"),
            bill("4", "b", "2026-10-06", "-5"),
            bill("5", "a", "2026-09-30", "1000"),
        ];
        let listed = list(&world, &bills, ts("2026-11-01"));
        let got: Vec<(&str, &str, InvoiceKind, Decimal, Status)> = listed
            .iter()
            .map(|i| {
                (
                    i.issuer.as_str(),
                    i.reference.as_str(),
                    i.invoice_kind,
                    i.amount,
                    i.status,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "partner:p1",
                    "a",
                    InvoiceKind::Special,
                    d("42.01"),
                    Status::ToIssue
                ),
                (
                    "partner:p1",
                    "b",
                    InvoiceKind::Ordinary,
                    d("0"),
                    Status::NotNeeded
                ),
            ],
            "September's line is not October's; an individual's title gets an ordinary invoice"
        );
    }

    #[test]
    fn marketplace_status_precedence_and_shipping() {
        let mut issued = request("r-issued", "80", "2026-10-10");
        issued.issued_at = Some(ts("2026-10-12"));
        let mut refunded = request("r-refunded", "80", "2026-10-10");
        refunded.order_status = OrderStatus::Refunded;
        refunded.invoice_kind = InvoiceKind::Special;
        refunded.title_kind = TitleKind::Individual;
        let mut arrears = request("r-arrears", "80", "2026-10-10");
        arrears.order_status = OrderStatus::Arrears;
        let mut title = request("r-title", "80", "2026-10-10");
        title.invoice_kind = InvoiceKind::Special;
        title.title_kind = TitleKind::Individual;
        let mut before = request("r-before", "80", "2026-09-01");
        before.issued_at = Some(ts("2026-09-20"));
        let world = World {
            requests: vec![
                issued,
                refunded,
                arrears,
                title,
                request("r-overdue", "50", "2026-10-20"),
                request("r-to-issue", "50.01", "2026-10-28"),
                request("r-late", "10", "2026-11-01"),
                before,
            ],
            ..World::default()
        };
        let listed = list(&world, &[], ts("2026-11-01"));
        let got: Vec<(&str, Status, Option<Shipping>)> = listed
            .iter()
            .map(|i| (i.reference.as_str(), i.status, i.shipping))
            .collect();
        let status = |id: &str| got.iter().find(|g| g.0 == id).map(|g| (g.1, g.2));
        assert_eq!(
            status("r-issued"),
            Some((Status::Issued, Some(Shipping::Provider)))
        );
        assert_eq!(
            status("r-refunded").map(|s| s.0),
            Some(Status::Refunded),
            "refunded comes first"
        );
        assert_eq!(
            status("r-arrears").map(|s| s.0),
            Some(Status::BlockedArrears)
        );
        assert_eq!(status("r-title").map(|s| s.0), Some(Status::RejectedTitle));
        assert_eq!(
            status("r-overdue"),
            Some((Status::Overdue, Some(Shipping::Cod))),
            "due 10-27, before as_of; 50 is at the threshold, so cash on delivery"
        );
        assert_eq!(
            status("r-to-issue"),
            Some((Status::ToIssue, Some(Shipping::Provider)))
        );
        assert_eq!(status("r-late"), None, "requested after the month");
        assert_eq!(status("r-before"), None, "issued before the month");
    }
}
