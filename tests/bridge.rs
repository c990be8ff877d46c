//! `bridge.csv`, each statement's walk from the customers' consoles to the rebate base (R10), on
//! the demo and on a generated month with partner switches: every row adds up as printed, the
//! first step is `consumption.csv`'s deduction-period payable of the partner's customers, and the
//! last is the sum of the statement's `base_amount`s.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use rust_decimal::Decimal;
use support::{Scratch, csv_rows};

fn money(s: &str) -> Decimal {
    s.parse().expect("money")
}

fn settle(args: &[&str]) {
    let o = Command::new(env!("CARGO_BIN_EXE_settle"))
        .args(args)
        .output()
        .expect("settle runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// Runs October of `data` into `out` (with the PDFs when `pdf`) and returns the period folder.
fn october(data: &Path, out: &Path, pdf: bool) -> PathBuf {
    let (d, o) = (data.to_string_lossy(), out.to_string_lossy());
    let mut args = vec!["run", "--inputs", &d, "--period", "2026-10", "--out", &o];
    if !pdf {
        args.push("--no-pdf");
    }
    settle(&args);
    let name = data
        .file_name()
        .expect("named")
        .to_string_lossy()
        .into_owned();
    out.join(name).join("2026-10")
}

/// Checks the walks of the period folder `dir`.
fn check_walks(dir: &Path) {
    let bridge = csv_rows(&dir.join("bridge.csv"));
    assert!(!bridge.is_empty(), "a month with partners has walks");
    // (account, currency) → Σ deduction-period payable as consumption.csv prints it.
    let mut console: BTreeMap<(String, String), Decimal> = BTreeMap::new();
    for r in csv_rows(&dir.join("consumption.csv")) {
        *console.entry((r[1].clone(), r[4].clone())).or_default() += money(&r[6]);
    }
    let mut walks: BTreeMap<(String, String), (Decimal, Decimal, Decimal)> = BTreeMap::new();
    for r in &bridge {
        let [d, other, ahead, later, never, r1, used, outside, r2, base] =
            std::array::from_fn(|i| money(&r[5 + i]));
        assert_eq!(d - other + ahead + later + never + r1, used, "{r:?}");
        assert_eq!(used - outside + r2, base, "{r:?}");
        assert!(
            r1.abs() <= Decimal::new(5, 2) && r2.abs() <= Decimal::new(5, 2),
            "{r:?}"
        );
        let key = (r[2].clone(), r[4].clone());
        assert_eq!(d, console.get(&key).copied().unwrap_or_default(), "{r:?}");
        let w = walks.entry((r[1].clone(), r[4].clone())).or_default();
        w.0 += d;
        w.1 += base;
    }
    // Σ base_amount per partner and currency, as the statements print them.
    for entry in std::fs::read_dir(dir.join("statements")).expect("statements/") {
        let path = entry.expect("an entry").path();
        if path.extension().is_none_or(|e| e != "csv") {
            continue;
        }
        let partner = path
            .file_stem()
            .expect("a stem")
            .to_string_lossy()
            .into_owned();
        let mut bases: BTreeMap<String, Decimal> = BTreeMap::new();
        let text = std::fs::read_to_string(&path).expect("a statement");
        let mut reader = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
        let header = reader.headers().expect("a header").clone();
        let at = |name: &str| header.iter().position(|h| h == name).expect(name);
        let (base, rate, currency) = (at("base_amount"), at("rate"), at("currency"));
        for r in reader.records() {
            let r = r.expect("a row");
            // Statement lines have a base and a rate; any totals row does not.
            if r[base].is_empty() || r[rate].is_empty() {
                continue;
            }
            *bases.entry(r[currency].to_string()).or_default() += money(&r[base]);
        }
        for (currency, base) in bases {
            let walk = walks
                .get(&(partner.clone(), currency.clone()))
                .map_or(Decimal::ZERO, |w| w.1);
            assert_eq!(walk, base, "{partner} {currency}");
        }
    }
}

#[test]
fn the_demo_walks_add_up() {
    let s = Scratch::new("bridge-demo");
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("inputs/demo");
    check_walks(&october(&demo, &s.out(), false));
}

#[test]
fn a_generated_month_walks_add_up() {
    let s = Scratch::new("bridge-gen");
    let data: PathBuf = s.0.join("gen");
    settle(&[
        "gen",
        "--lines",
        "20000",
        "--accounts",
        "400",
        "--partners",
        "12",
        &data.to_string_lossy(),
    ]);
    check_walks(&october(&data, &s.out(), false));
}

/// The walk printed on a statement PDF (read back with `pdftotext`): it opens with the consoles'
/// figure that `bridge.csv` sums for the partner, and ends with the statement's printed total.
#[test]
fn the_statement_pdf_ends_with_the_walk() {
    let s = Scratch::new("bridge-pdf");
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("inputs/demo");
    let dir = october(&demo, &s.out(), true);
    let pdf = Command::new("pdftotext")
        .args(["-layout"])
        .arg(dir.join("statements/p-01.pdf"))
        .arg("-")
        .output()
        .expect("pdftotext runs (make test installs poppler-utils)");
    let text = String::from_utf8_lossy(&pdf.stdout);
    let walk = text
        .split("Walk from the customers' consoles to the rebate base · CNY")
        .nth(1)
        .expect("the CNY walk is printed");
    let amount = |label: &str| -> Decimal {
        let line = walk.lines().find(|l| l.contains(label)).expect(label);
        let last = line.split_whitespace().last().expect("an amount");
        money(&last.replace(',', ""))
    };
    let console: Decimal = csv_rows(&dir.join("bridge.csv"))
        .iter()
        .filter(|r| r[1] == "p-01" && r[4] == "CNY")
        .map(|r| money(&r[5]))
        .sum();
    assert_eq!(amount("Customers' deduction-period payable"), console);
    let total = csv_rows(&dir.join("statements.csv"))
        .into_iter()
        .find(|r| r.contains(&"p-01".to_string()) && r.contains(&"CNY".to_string()))
        .expect("p-01's CNY row");
    let printed = walk
        .lines()
        .find(|l| l.contains("返佣合计 Rebate total"))
        .and_then(|l| l.split_whitespace().last())
        .expect("the walk's total");
    assert!(
        total.contains(&printed.to_string()),
        "{printed} in {total:?}"
    );
}
