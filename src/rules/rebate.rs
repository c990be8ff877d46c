//! R5 Rebates: each partner's commission on its customers' consumption in the month.
//!
//! ## What it does
//! Every bill line counted in the `rebate_basis` period earns `payable × rate` for the partner
//! whose link to the line's account is in force at `charge_start`. The rate is the most specific
//! special rebate in force for that partner, account, product, sub-product and payment mode, else
//! the base rate of the partner's tier for the product (an exact payment mode beats `*`), else 0.
//! Lines that share account, product, sub-product, payment mode, rate, rate source and currency
//! form one statement line.
//!
//! ## Why
//! Seed 002: the partner is paid on actual consumption after discounts and vouchers, and special
//! approvals override the base rate for one customer during a window.
//!
//! ## How it stays fast
//! Rates and links change only at their windows' edges. For each (account, product, sub-product,
//! payment mode) the rule computes the resolution once per interval between edges, and each line
//! then costs one hash lookup and one binary search: the rate tables are never scanned per line.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use crate::model::basis::Basis;
use crate::model::money::round;
use crate::model::period::Period;
use crate::model::records::*;
use crate::model::time::Timestamp;
use crate::rules::accounts::Resolved;
use crate::rules::rates::{RateSource, RateTables, RebateInput, Resolution};

/// One statement line: bill lines grouped by everything that sets their rate, with exact sums.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RebateLine {
    pub partner_id: Text,
    pub currency: Text,
    pub account_id: Text,
    pub product: Text,
    pub sub_product: Text,
    pub payment_mode: PaymentMode,
    pub rate: Decimal,
    pub source: RateSource,
    /// Σ payable of the grouped lines.
    pub base: Decimal,
    pub lines: u64,
}

impl RebateLine {
    /// Σ payable × rate, unrounded: base × rate, which is exact.
    pub fn rebate(&self) -> Decimal {
        self.base * self.rate
    }
}

/// The result of R5: statement lines sorted by partner, currency and line key.
#[derive(Debug, Default)]
pub struct Rebates {
    pub lines: Vec<RebateLine>,
    /// Σ payable, per currency, of counted lines whose account had no partner link in force.
    pub unlinked: BTreeMap<Text, Decimal>,
}

/// What every line's rebate is resolved against: the rate tables and the month, with its basis.
pub struct Rates<'a> {
    tables: RateTables<'a>,
    period: &'a Period,
}

impl<'a> Rates<'a> {
    pub fn new(input: &RebateInput<'a>, period: &'a Period) -> Self {
        Rates {
            tables: RateTables::new(input),
            period,
        }
    }

    /// The partner, rate and rate source of one line, as its statement line has them: the
    /// resolution of its key on the interval that holds its `charge_start`. For `settle explain`,
    /// which resolves the few lines it shows; the month's pass resolves each key once instead.
    pub fn resolve(&self, b: &BillLine, account: &Resolved<'a>) -> Option<Resolution<'a>> {
        let spans = self.tables.resolutions(b, account);
        let i = spans.partition_point(|(start, _)| *start <= b.charge_start);
        spans.into_iter().nth(i.checked_sub(1)?)?.1
    }

    /// Empty sums for the key of `b`, a line of `account`, with the key's resolution on each
    /// interval worked out.
    pub fn sums(&self, b: &BillLine, account: &Resolved<'a>) -> Sums<'a> {
        let mut segments = self.tables.resolutions(b, account);
        if self.period.basis == Basis::Usage {
            // A counted line starts inside the month, so only the intervals that overlap the month
            // can take lines. Most keys then hold one interval, inline.
            let end = segments.partition_point(|(start, _)| *start < self.period.end);
            segments.truncate(end);
            let first = segments.partition_point(|(start, _)| *start <= self.period.start);
            segments.drain(..first.saturating_sub(1));
        }
        let mut spans = segments.into_iter().map(|(start, resolution)| Span {
            start,
            resolution,
            base: Decimal::ZERO,
            lines: 0,
        });
        let first = spans
            .next()
            .expect("a key has at least the interval from the start of time");
        Sums {
            first,
            rest: spans.collect(),
        }
    }
}

/// The running sums of R5 over the counted lines of one [`LineKey`]: the key's resolution on
/// each interval between the edges of the windows that bear on it, and the payable of the lines
/// whose `charge_start` falls in each. Most keys have one interval, held inline.
#[derive(Clone, Debug)]
pub struct Sums<'a> {
    first: Span<'a>,
    rest: Box<[Span<'a>]>,
}

#[derive(Clone, Debug)]
struct Span<'a> {
    start: Timestamp,
    resolution: Option<Resolution<'a>>,
    base: Decimal,
    lines: u64,
}

impl<'a> Sums<'a> {
    pub fn add(&mut self, b: &BillLine) {
        let i = self.rest.partition_point(|s| s.start <= b.charge_start);
        let span = match i.checked_sub(1) {
            Some(i) => &mut self.rest[i],
            None => &mut self.first,
        };
        span.base += b.payable_amount;
        span.lines += 1;
    }

    fn spans(&self) -> impl Iterator<Item = &Span<'a>> {
        std::iter::once(&self.first).chain(&self.rest)
    }
}

/// The statement lines, sorted by partner, currency and line key: each key's intervals with lines,
/// grouped by partner, rate and rate source. A key may come more than once, with sums over
/// different lines. A line's rebate is its base × rate, unrounded.
pub fn statement_lines<'s, 'a: 's>(
    sums: impl IntoIterator<Item = (&'s LineKey, &'s Sums<'a>)>,
) -> Rebates {
    let mut lines: Vec<RebateLine> = Vec::new();
    let mut unlinked: BTreeMap<Text, Decimal> = BTreeMap::new();
    for (key, sums) in sums {
        for span in sums.spans().filter(|s| s.lines > 0) {
            let Some(r) = &span.resolution else {
                *unlinked.entry(key.currency.clone()).or_default() += span.base;
                continue;
            };
            lines.push(RebateLine {
                partner_id: r.partner.clone(),
                currency: key.currency.clone(),
                account_id: key.account_id.clone(),
                product: key.product.clone(),
                sub_product: key.sub_product.clone(),
                payment_mode: key.payment_mode,
                rate: *r.rate,
                source: r.source,
                base: span.base,
                lines: span.lines,
            });
        }
    }
    super::coalesce(&mut lines, order, |kept, later| {
        kept.base += later.base;
        kept.lines += later.lines;
    });
    // Kept until the month is rendered: without the room the list grew into.
    lines.shrink_to_fit();
    Rebates { lines, unlinked }
}

/// The order of statement lines: partner, currency, line key, rate and its source.
fn order(
    l: &RebateLine,
) -> (
    Text,
    Text,
    Text,
    Text,
    Text,
    PaymentMode,
    Decimal,
    RateSource,
) {
    (
        l.partner_id.clone(),
        l.currency.clone(),
        l.account_id.clone(),
        l.product.clone(),
        l.sub_product.clone(),
        l.payment_mode,
        l.rate,
        l.source,
    )
}

/// `payout_status` of a statement.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum PayoutStatus {
    Payable,
    WithheldArrears,
}

impl PayoutStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PayoutStatus::Payable => "payable",
            PayoutStatus::WithheldArrears => "withheld_arrears",
        }
    }
}

/// One partner's settlement in one currency: its lines and the totals of R5. The total is the sum
/// of the rounded line rebates, and the tax deduction is rounded, as R5 defines them; the view
/// adds the rounding adjustment (R8).
#[derive(Clone, Debug, PartialEq)]
pub struct Statement {
    pub partner_id: Text,
    pub currency: Text,
    pub lines: Vec<RebateLine>,
    /// Σ of the rounded line rebates: the only total.
    pub total: Decimal,
    pub tax_deduction: Decimal,
    pub net: Decimal,
    pub status: PayoutStatus,
    pub payable_now: Decimal,
}

/// Turns one partner's statement lines, sorted by currency and line key, into its statements:
/// one per currency, or, with no lines, one in the month's base currency showing 0. An ordinary
/// invoice's tax deduction is the total × `ordinary_invoice_tax_rate`.
pub fn settle(
    partner: &Partner,
    lines: Vec<RebateLine>,
    period: &Period,
    ordinary_invoice_tax_rate: Decimal,
) -> Vec<Statement> {
    let mut by_currency: Vec<(Text, Vec<RebateLine>)> = Vec::new();
    for l in lines {
        match by_currency.last_mut() {
            Some((currency, list)) if *currency == l.currency => list.push(l),
            _ => by_currency.push((l.currency.clone(), vec![l])),
        }
    }
    if by_currency.is_empty() {
        by_currency.push((period.base_currency.clone(), Vec::new()));
    }
    let r = period.rounding;
    by_currency
        .into_iter()
        .map(|(currency, lines)| {
            let total: Decimal = lines.iter().map(|l| round(l.rebate(), r)).sum();
            let tax_deduction = match partner.invoice_kind {
                InvoiceKind::Ordinary => round(total * ordinary_invoice_tax_rate, r),
                InvoiceKind::Special => Decimal::ZERO,
            };
            let net = total - tax_deduction;
            let status = if partner.arrears_amount > Decimal::ZERO {
                PayoutStatus::WithheldArrears
            } else {
                PayoutStatus::Payable
            };
            Statement {
                partner_id: partner.partner_id.clone(),
                currency,
                lines,
                total,
                tax_deduction,
                net,
                status,
                payable_now: if status == PayoutStatus::Payable {
                    net
                } else {
                    Decimal::ZERO
                },
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::rate_ties::tie_rejects;
    use crate::model::time::parse_timestamp;
    use crate::rules::testing::{self, World, october};

    const SH: chrono_tz::Tz = chrono_tz::Asia::Shanghai;

    fn ts(s: &str) -> Timestamp {
        parse_timestamp(s, SH).unwrap()
    }

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn window(from: &str, to: Option<&str>) -> Window {
        Window {
            from: ts(from),
            to: to.map(ts),
        }
    }

    fn bill(account: &str, sub: &str, mode: PaymentMode, start: &str, payable: &str) -> BillLine {
        BillLine {
            sub_product: sub.into(),
            resource_id: "r".into(),
            payment_mode: mode,
            billing_cycle: BillingCycle::Hour,
            charge_end: ts(start),
            ..testing::bill("b", account, start, payable)
        }
    }

    fn partner(id: &str, kind: InvoiceKind, arrears: &str) -> (Text, Partner) {
        (
            id.into(),
            Partner {
                line: 2,
                partner_id: id.into(),
                partner_name: id.into(),
                tier: "gold".into(),
                invoice_kind: kind,
                arrears_amount: d(arrears),
            },
        )
    }

    fn link(account: &str, partner: &str, from: &str, to: Option<&str>) -> PartnerLink {
        PartnerLink {
            line: 2,
            account_id: account.into(),
            partner_id: partner.into(),
            link_type: LinkType::Agency,
            window: window(from, to),
        }
    }

    fn rate(mode: ModeFilter, rate: &str) -> RebateRate {
        RebateRate {
            line: 2,
            tier: "gold".into(),
            product: "cvm".into(),
            payment_mode: mode,
            rate: d(rate),
            window: window("2026-01-01", None),
        }
    }

    fn special(
        line: Line,
        sub: Option<&str>,
        mode: Option<PaymentMode>,
        rate: &str,
        from: &str,
    ) -> SpecialRebate {
        SpecialRebate {
            line,
            partner_id: "p1".into(),
            account_id: "a".into(),
            product: "cvm".into(),
            sub_product: sub.map(Text::from),
            payment_mode: mode,
            rate: d(rate),
            window: window(from, None),
        }
    }

    /// One statement line of partner `p1` at rate 0.1.
    fn rebate_line(currency: &str, base: &str) -> RebateLine {
        RebateLine {
            partner_id: "p1".into(),
            currency: currency.into(),
            account_id: "a".into(),
            product: "cvm".into(),
            sub_product: "".into(),
            payment_mode: PaymentMode::Postpaid,
            rate: d("0.1"),
            source: RateSource::Base,
            base: d(base),
            lines: 1,
        }
    }

    /// R5's statement lines of `bills` in October, as the month's pass makes them.
    fn fold(bills: &[BillLine], world: World) -> Vec<RebateLine> {
        world.fold(bills, &october()).statement_lines
    }

    /// Settles one partner's lines in October at seed 002's 6%.
    fn settle(partner: &Partner, lines: Vec<RebateLine>) -> Vec<Statement> {
        super::settle(partner, lines, &october(), d("0.06"))
    }

    #[test]
    fn partner_switch_and_mid_month_special() {
        let partners: BTreeMap<_, _> = [
            partner("p1", InvoiceKind::Special, "0"),
            partner("p2", InvoiceKind::Special, "0"),
        ]
        .into();
        let bills = [
            bill(
                "a",
                "std",
                PaymentMode::Postpaid,
                "2026-10-10 10:00:00",
                "100",
            ),
            bill(
                "a",
                "std",
                PaymentMode::Postpaid,
                "2026-10-15 10:00:00",
                "100",
            ),
            bill(
                "a",
                "std",
                PaymentMode::Postpaid,
                "2026-10-16 00:00:00",
                "100",
            ),
        ];
        let links = [
            link("a", "p1", "2026-01-01", Some("2026-10-16 00:00:00")),
            link("a", "p2", "2026-10-16 00:00:00", None),
        ];
        let rates = [
            rate(ModeFilter::Any, "0.05"),
            rate(ModeFilter::Postpaid, "0.08"),
        ];
        let specials = [special(3, None, None, "0.2", "2026-10-15 00:00:00")];
        let input = World {
            links: links.to_vec(),
            partners,
            rates: rates.to_vec(),
            specials: specials.to_vec(),
            ..World::default()
        };
        let out = fold(&bills, input);
        let got: Vec<(&str, Decimal, RateSource, Decimal)> = out
            .iter()
            .map(|l| (l.partner_id.as_ref(), l.rate, l.source, l.rebate()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("p1", d("0.08"), RateSource::Base, d("8")),
                ("p1", d("0.2"), RateSource::Special, d("20")),
                ("p2", d("0.08"), RateSource::Base, d("8")),
            ]
        );
    }

    /// Only the intervals that overlap the month take lines: a link that ends exactly at the
    /// month's start, one that starts exactly at its end, and the line on the month's first instant.
    #[test]
    fn links_ending_and_starting_at_the_month_edges() {
        let partners: BTreeMap<_, _> = [
            partner("p1", InvoiceKind::Special, "0"),
            partner("p2", InvoiceKind::Special, "0"),
            partner("p3", InvoiceKind::Special, "0"),
        ]
        .into();
        let bills = [
            bill("a", "", PaymentMode::Postpaid, "2026-09-30 23:00:00", "100"),
            bill("a", "", PaymentMode::Postpaid, "2026-10-01 00:00:00", "100"),
            bill("a", "", PaymentMode::Postpaid, "2026-10-31 23:00:00", "10"),
            bill("a", "", PaymentMode::Postpaid, "2026-11-01 00:00:00", "100"),
        ];
        let links = [
            link("a", "p1", "2026-01-01", Some("2026-10-01 00:00:00")),
            link(
                "a",
                "p2",
                "2026-10-01 00:00:00",
                Some("2026-11-01 00:00:00"),
            ),
            link("a", "p3", "2026-11-01 00:00:00", None),
        ];
        let rates = [rate(ModeFilter::Any, "0.1")];
        let input = World {
            links: links.to_vec(),
            partners,
            rates: rates.to_vec(),
            specials: Vec::new(),
            ..World::default()
        };
        let out = fold(&bills, input);
        let got: Vec<(&str, Decimal, u64)> = out
            .iter()
            .map(|l| (l.partner_id.as_ref(), l.base, l.lines))
            .collect();
        assert_eq!(got, vec![("p2", d("110"), 2)]);
    }

    #[test]
    fn most_specific_special_wins_and_ties_are_rejected() {
        let partners: BTreeMap<_, _> = [partner("p1", InvoiceKind::Special, "0")].into();
        let bills = [bill("a", "gpu", PaymentMode::Prepaid, "2026-10-20", "10")];
        let links = [link("a", "p1", "2026-01-01", None)];
        let specials = [
            special(2, None, None, "0.1", "2026-01-01"),
            special(
                3,
                Some("gpu"),
                Some(PaymentMode::Prepaid),
                "0.3",
                "2026-01-01",
            ),
            special(4, Some("gpu"), None, "0.2", "2026-01-01"),
            special(5, None, Some(PaymentMode::Prepaid), "0.25", "2026-01-01"),
        ];
        let tied: Vec<Line> = tie_rejects(&specials, &[]).iter().map(|r| r.line).collect();
        assert_eq!(
            tied,
            vec![4, 5],
            "lines 4 and 5 tie at specificity 1 with different rates"
        );
        let kept: Vec<SpecialRebate> = specials
            .iter()
            .filter(|s| !tied.contains(&s.line))
            .cloned()
            .collect();
        let input = World {
            links: links.to_vec(),
            partners,
            rates: Vec::new(),
            specials: kept.to_vec(),
            ..World::default()
        };
        let out = fold(&bills, input);
        assert_eq!(out[0].rate, d("0.3"));
    }

    #[test]
    fn no_rate_means_zero_and_the_line_still_shows() {
        let partners: BTreeMap<_, _> = [partner("p1", InvoiceKind::Special, "0")].into();
        let bills = [bill("a", "", PaymentMode::Postpaid, "2026-10-20", "10")];
        let links = [link("a", "p1", "2026-01-01", None)];
        let input = World {
            links: links.to_vec(),
            partners,
            rates: Vec::new(),
            specials: Vec::new(),
            ..World::default()
        };
        let out = fold(&bills, input);
        assert_eq!((out[0].rate, out[0].base), (Decimal::ZERO, d("10")));
    }

    #[test]
    fn seed_002_ordinary_invoice_pays_94_of_100() {
        let partners: BTreeMap<_, _> = [partner("p1", InvoiceKind::Ordinary, "0")].into();
        let line = rebate_line("CNY", "1000");
        let s = &settle(&partners[&Text::from("p1")], vec![line])[0];
        assert_eq!(
            (s.total, s.tax_deduction, s.net, s.payable_now),
            (d("100"), d("6.00"), d("94.00"), d("94.00"))
        );
    }

    #[test]
    fn arrears_withhold_and_partners_without_lines_show_zero() {
        let partners: BTreeMap<_, _> = [
            partner("p1", InvoiceKind::Special, "5"),
            partner("p2", InvoiceKind::Special, "0"),
        ]
        .into();
        let line = rebate_line("USD", "100.05");
        let p1 = settle(&partners[&Text::from("p1")], vec![line]);
        let p2 = settle(&partners[&Text::from("p2")], Vec::new());
        assert_eq!((p1.len(), p2.len()), (1, 1));
        assert_eq!(
            (p1[0].status, p1[0].total, p1[0].payable_now),
            (PayoutStatus::WithheldArrears, d("10.01"), d("0"))
        );
        assert_eq!(
            (
                p2[0].partner_id.as_ref(),
                p2[0].currency.as_ref(),
                p2[0].total
            ),
            ("p2", "CNY", d("0"))
        );
    }
}
