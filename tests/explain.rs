//! `settle explain` (R10): the bill lines it lists behind each statement line add up, before
//! rounding, to the `base_amount` the statement prints, for every partner of the demo and of a
//! generated month; a changed input is refused.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rust_decimal::Decimal;
use support::Scratch;

fn settle(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_settle"))
        .args(args)
        .output()
        .expect("settle runs")
}

/// `settle explain` for October of dataset `d` run into `o`, about partner `p`, plus `extra`.
fn explain_partner(d: &str, o: &str, p: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "explain",
        "--inputs",
        d,
        "--period",
        "2026-10",
        "--out",
        o,
        "--partner",
        p,
    ];
    args.extend(extra);
    settle(&args)
}

/// The rows of a CSV with its header, as maps from column to value.
fn records(text: &str) -> Vec<BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let header = reader.headers().expect("a header").clone();
    reader
        .records()
        .map(|r| {
            let r = r.expect("a row");
            header
                .iter()
                .map(String::from)
                .zip(r.iter().map(String::from))
                .collect()
        })
        .collect()
}

/// Runs October of `data` into `out`, then checks every partner's statement lines against what
/// `settle explain --partner` lists.
fn check(data: &Path, out: &Path) {
    let (d, o) = (data.to_string_lossy(), out.to_string_lossy());
    let run = settle(&[
        "run", "--inputs", &d, "--period", "2026-10", "--out", &o, "--no-pdf",
    ]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let name = data
        .file_name()
        .expect("named")
        .to_string_lossy()
        .into_owned();
    let folder = out.join(name).join("2026-10");
    let summary = std::fs::read_to_string(folder.join("statements.csv")).expect("statements.csv");
    let partners: std::collections::BTreeSet<String> = records(&summary)
        .into_iter()
        .map(|r| r["partner_id"].clone())
        .collect();
    let mut checked = 0;
    for p in partners {
        let e = explain_partner(&d, &o, &p, &["--format", "csv"]);
        assert!(e.status.success(), "{}", String::from_utf8_lossy(&e.stderr));
        let mut exact: BTreeMap<String, Decimal> = BTreeMap::new();
        for r in records(&String::from_utf8_lossy(&e.stdout)) {
            *exact.entry(r["figure"].clone()).or_default() +=
                r["payable_amount"].parse::<Decimal>().expect("money");
        }
        let stem = settle::layout::file_stem(&p);
        let lines = std::fs::read_to_string(folder.join(format!("statements/{stem}.csv")))
            .expect("the statement");
        for l in records(&lines) {
            let sub = if l["sub_product"].is_empty() {
                "-"
            } else {
                &l["sub_product"]
            };
            let figure = format!(
                "{} · {} · {} · {} · rate {} ({}) · {}",
                l["account_id"],
                l["product"],
                sub,
                l["payment_mode"],
                l["rate"],
                l["rate_source"],
                l["currency"]
            );
            let sum = exact.remove(&figure).unwrap_or_default();
            let printed: Decimal = l["base_amount"].parse().expect("money");
            let half_up = rust_decimal::RoundingStrategy::MidpointAwayFromZero;
            assert_eq!(
                sum.round_dp_with_strategy(2, half_up),
                printed,
                "{p}: {figure}"
            );
            checked += 1;
        }
        assert!(
            exact.is_empty(),
            "{p}: lines behind no statement line: {exact:?}"
        );
    }
    assert!(checked > 0);
    check_invoices(&d, &o, &folder);
}

/// `settle explain --invoice` on the invoice list of a run: the lines behind each entry (at most
/// ten per source) add up, rounded, to the amount it prints; a marketplace entry names its
/// request; an unknown number is refused.
fn check_invoices(d: &str, o: &str, folder: &Path) {
    let list = std::fs::read_to_string(folder.join("invoices.csv")).expect("invoices.csv");
    let mut per_source: BTreeMap<String, usize> = BTreeMap::new();
    for inv in records(&list) {
        let seen = per_source.entry(inv["source"].clone()).or_default();
        *seen += 1;
        if *seen > 10 {
            continue;
        }
        let number = &inv["document_no"];
        let base = [
            "explain",
            "--inputs",
            d,
            "--period",
            "2026-10",
            "--out",
            o,
            "--invoice",
            number,
        ];
        if inv["source"] == "marketplace" {
            let e = settle(&base);
            assert!(e.status.success(), "{}", String::from_utf8_lossy(&e.stderr));
            let text = String::from_utf8_lossy(&e.stdout);
            assert!(
                text.contains(&inv["reference"]) && text.contains("invoice_requests.csv line"),
                "{number}: {text}"
            );
            continue;
        }
        let mut args = base.to_vec();
        args.extend(["--format", "csv"]);
        let e = settle(&args);
        assert!(e.status.success(), "{}", String::from_utf8_lossy(&e.stderr));
        let rows = records(&String::from_utf8_lossy(&e.stdout));
        assert!(!rows.is_empty(), "{number}: no line behind it");
        let sum: Decimal = rows
            .iter()
            .map(|r| r["payable_amount"].parse::<Decimal>().expect("money"))
            .sum();
        let half_up = rust_decimal::RoundingStrategy::MidpointAwayFromZero;
        let printed: Decimal = inv["amount"].parse().expect("money");
        assert_eq!(
            sum.round_dp_with_strategy(2, half_up),
            printed,
            "{number} ({} {} → {})",
            inv["source"],
            inv["issuer"],
            inv["recipient_account_id"]
        );
        assert!(rows.iter().all(|r| r["currency"] == inv["currency"]));
    }
    assert!(per_source.contains_key("resale"));
    let e = settle(&[
        "explain",
        "--inputs",
        d,
        "--period",
        "2026-10",
        "--out",
        o,
        "--invoice",
        "IV-0",
    ]);
    assert_eq!(e.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&e.stderr).contains("no invoice numbered `IV-0`"));
}

#[test]
fn the_demo_statements_are_explained_line_by_line() {
    let s = Scratch::new("explain-demo");
    check(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("inputs/demo"),
        &s.out(),
    );
}

#[test]
fn every_partner_of_a_generated_month_is_explained() {
    let s = Scratch::new("explain-gen");
    let data: PathBuf = s.0.join("gen");
    let g = settle(&[
        "gen",
        "--lines",
        "20000",
        "--accounts",
        "300",
        "--partners",
        "8",
        &data.to_string_lossy(),
    ]);
    assert!(g.status.success());
    check(&data, &s.out());
}

#[test]
fn a_changed_input_is_refused_naming_it() {
    let s = Scratch::new("explain-changed");
    let data = s.copy_demo("demo");
    let (d, o) = (
        data.to_string_lossy().into_owned(),
        s.out().to_string_lossy().into_owned(),
    );
    assert!(
        settle(&[
            "run", "--inputs", &d, "--period", "2026-10", "--out", &o, "--no-pdf"
        ])
        .status
        .success()
    );
    let partners = std::fs::read_to_string(data.join("partners.csv")).expect("partners.csv");
    std::fs::write(data.join("partners.csv"), partners.replace("p-03", "p-33")).expect("write");
    let e = explain_partner(&d, &o, "p-01", &[]);
    assert_eq!(e.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&e.stderr).contains("`partners.csv` has changed"));
}
