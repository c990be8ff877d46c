//! Properties over random small datasets, run through the library as `settle run` runs them:
//! every row in is used or rejected and none is lost; the money of the bill lines is conserved per
//! currency in the outputs that attribute it, as the test adds it up itself; one batch and one
//! account per batch write the same bytes; and amounts at the edge of what settle accepts (up to
//! 10^15, quantity × unit_price up to the same, rates of 28 decimals) never make a run panic.

mod support;

use std::collections::BTreeMap;

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use rust_decimal::Decimal;
use settle::pipeline::{self, RunConfig};
use settle::progress::Quiet;
use support::{BILLS_HEADER, Scratch, USAGE_HEADER};

/// An amount: ordinary or tiny, with up to 8 decimals as the contract has money, or at the edge of the
/// bound (some past it).
fn amount() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => (-100_000i64..1_000_000, 0u32..=8).prop_map(|(m, s)| Decimal::new(m, s).to_string()),
        1 => (0u64..3, any::<bool>()).prop_map(|(k, neg)| {
            let v = ["999999999999999.99999999", "999999999999999", "1000000000000000"][k as usize];
            if neg { format!("-{v}") } else { v.to_string() }
        }),
        1 => Just("0.00000001".to_string()),
    ]
}

fn rate() -> impl Strategy<Value = String> {
    prop_oneof![
        (0u32..=100).prop_map(|r| Decimal::new(i64::from(r), 2).to_string()),
        Just("0.1234567890123456789012345678".to_string()),
        Just("1".to_string()),
    ]
}

/// A local time in September, October or November 2026.
fn time() -> impl Strategy<Value = (u32, String)> {
    (9u32..=11, 1u32..=28, 0u32..24)
        .prop_map(|(m, d, h)| (m, format!("2026-{m:02}-{d:02} {h:02}:00:00")))
}

#[derive(Clone, Debug)]
struct BillRow {
    account: usize,
    currency: &'static str,
    month: u32,
    start: String,
    deducted: Option<String>,
    cycle: &'static str,
    mode: &'static str,
    paid_with: &'static str,
    list: String,
    payable: String,
    /// A cell made bad on purpose: the row must be rejected.
    broken: bool,
}

fn bill_row(accounts: usize) -> impl Strategy<Value = BillRow> {
    (
        0..accounts,
        prop::sample::select(vec!["CNY", "USD"]),
        time(),
        prop::option::of(time()),
        prop::sample::select(vec!["hour", "day", "week", "month", "once"]),
        prop::sample::select(vec!["prepaid", "postpaid"]),
        prop::sample::select(vec!["cash", "credit", "allocated"]),
        amount(),
        amount(),
        prop::bool::weighted(0.1),
    )
        .prop_map(
            |(
                account,
                currency,
                (month, start),
                deducted,
                cycle,
                mode,
                paid_with,
                list,
                payable,
                broken,
            )| BillRow {
                account,
                currency,
                month,
                start,
                deducted: deducted.map(|d| d.1),
                cycle,
                mode,
                paid_with,
                list,
                payable,
                broken,
            },
        )
}

#[derive(Clone, Debug)]
struct Month {
    accounts: usize,
    partners: usize,
    rates: Vec<String>,
    bills: Vec<BillRow>,
    usage: Vec<(usize, String, String, String)>,
}

fn month() -> impl Strategy<Value = Month> {
    (1usize..5, 0usize..4)
        .prop_flat_map(|(accounts, partners)| {
            (
                Just(accounts),
                Just(partners),
                prop::collection::vec(rate(), accounts + 1),
                prop::collection::vec(bill_row(accounts), 0..25),
                prop::collection::vec(
                    (0..accounts, time().prop_map(|t| t.1), amount(), amount()),
                    0..10,
                ),
            )
        })
        .prop_map(|(accounts, partners, rates, bills, usage)| Month {
            accounts,
            partners,
            rates,
            bills,
            usage,
        })
}

impl Month {
    fn write(&self, s: &Scratch) -> std::path::PathBuf {
        let mut accounts =
            "account_id,account_name,entity_name,title_kind,discount_rate\n".to_string();
        for a in 0..self.accounts {
            accounts += &format!("acc-{a},A{a},E{a},enterprise,{}\n", self.rates[a]);
        }
        let mut partners = "partner_id,partner_name,tier,invoice_kind,arrears_amount\n".to_string();
        let mut links = "account_id,partner_id,link_type,linked_from,linked_to\n".to_string();
        for p in 0..self.partners {
            let kind = ["special", "ordinary"][p % 2];
            partners += &format!("p/{p},P{p},gold,{kind},{}\n", p % 3 / 2);
        }
        for a in 0..self.accounts {
            if self.partners > 0 {
                links += &format!("acc-{a},p/{},agency,2026-01-01,\n", a % self.partners);
            }
        }
        let rates = format!(
            "tier,product,payment_mode,rate,valid_from,valid_to\ngold,cvm,*,{},2026-01-01,\n",
            self.rates[self.accounts]
        );
        let mut bills = BILLS_HEADER.to_string();
        for (i, b) in self.bills.iter().enumerate() {
            bills += &format!(
                "b{i},acc-{},cvm,,r{},{},{},{},{},{},{},0,0,{},paid,{},{}\n",
                b.account,
                i % 3,
                b.mode,
                if b.broken { "yearly" } else { b.cycle },
                b.start,
                b.start,
                b.deducted.as_deref().unwrap_or(""),
                b.list,
                b.payable,
                b.paid_with,
                b.currency
            );
        }
        let mut usage = USAGE_HEADER.to_string();
        for (i, (a, start, q, p)) in self.usage.iter().enumerate() {
            let q = q.trim_start_matches('-');
            let p = p.trim_start_matches('-');
            usage += &format!(
                "u{i},acc-{a},cvm,,r{},{start},2026-12-01,{q},h,{p},CNY\n",
                i % 3
            );
        }
        s.dataset(
            "m",
            &[
                ("accounts.csv", &accounts),
                ("partners.csv", &partners),
                ("partner_links.csv", &links),
                ("rebate_rates.csv", &rates),
                ("bills.csv", &bills),
                ("usage.csv", &usage),
            ],
        )
    }

    /// Σ payable per currency of the bill lines that must be used and whose usage period is
    /// October: what R2 and R5 must attribute, added up here independently of settle.
    fn october_payable(&self) -> BTreeMap<&'static str, Decimal> {
        let fits = |s: &str| {
            s.parse::<Decimal>()
                .is_ok_and(|d| d.abs() < Decimal::from(10_i64.pow(15)))
        };
        let mut sums = BTreeMap::new();
        for b in &self.bills {
            if !b.broken && fits(&b.list) && fits(&b.payable) && b.month == 10 {
                *sums.entry(b.currency).or_default() +=
                    b.payable.parse::<Decimal>().expect("a decimal");
            }
        }
        sums
    }
}

fn run(
    inputs: &std::path::Path,
    out: std::path::PathBuf,
    lines_per_batch: u64,
    no_pdf: bool,
) -> std::path::PathBuf {
    let cfg = RunConfig {
        inputs: inputs.to_path_buf(),
        out,
        period: Some("2026-10".parse().expect("a month")),
        as_of: None,
        strict: false,
        templates: None,
        no_pdf,
        lines_per_batch,
    };
    pipeline::run(&cfg, &Quiet)
        .expect("a run of valid tables succeeds")
        .folder
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn rows_money_and_batches(m in month()) {
        let s = Scratch::new("props");
        let inputs = m.write(&s);
        let folder = run(&inputs, s.0.join("one"), u64::MAX, true);
        let manifest = support::assert_whole(&folder);

        // Rows in = used + rejected, and every row written is counted in.
        for i in manifest["inputs"].as_array().expect("inputs") {
            let n = |k: &str| i[k].as_u64().expect("a count");
            prop_assert_eq!(n("rows_in"), n("rows_used") + n("rows_rejected"), "{}", i);
            prop_assert_eq!(n("lines"), n("header_lines") + n("rows_in") + n("continued_lines") + n("blank_lines"));
        }
        let bills = manifest["inputs"].as_array().expect("inputs").iter()
            .find(|i| i["file"] == "bills.csv").expect("bills.csv");
        prop_assert_eq!(bills["rows_in"].as_u64(), Some(m.bills.len() as u64));

        // Money is conserved per currency: the manifest's source side is what the test adds up,
        // and every output that attributes it balances.
        let expected = m.october_payable();
        let mut found: BTreeMap<String, Decimal> = BTreeMap::new();
        for c in manifest["conservation"].as_array().expect("conservation") {
            prop_assert_eq!(&c["balanced"], true, "{}", c);
            if let Some(v) = c["bill_lines"]["usage_period"].as_str() {
                found.insert(c["currency"].as_str().expect("a currency").into(), v.parse().expect("a decimal"));
            }
        }
        for (currency, sum) in &expected {
            prop_assert_eq!(found.get(*currency).copied().unwrap_or_default(), *sum, "{}", currency);
        }

        // One account per batch writes the same bytes as one batch.
        let batched = run(&inputs, s.0.join("batched"), 1, true);
        prop_assert_eq!(support::tree_sha(&folder), support::tree_sha(&batched));
    }
}

/// The PDFs too: one batch and one account per batch, the same bytes, at the edge amounts.
#[test]
fn pdfs_of_edge_amounts_in_batches() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    for _ in 0..3 {
        let m = month().new_tree(&mut runner).expect("a month").current();
        let s = Scratch::new("props-pdf");
        let inputs = m.write(&s);
        let one = run(&inputs, s.0.join("one"), u64::MAX, false);
        let batched = run(&inputs, s.0.join("batched"), 1, false);
        support::assert_whole(&one);
        assert_eq!(support::tree_sha(&one), support::tree_sha(&batched));
    }
}
