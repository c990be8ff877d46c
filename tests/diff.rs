//! `settle diff A B` on real runs of the demo: the same month twice is the same (exit 0); a month
//! whose bills changed names the statements and figures that moved (exit 1); a folder that is not
//! a period is exit 2.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use support::Scratch;

/// Runs October of `inputs` into `out` and returns the period folder.
fn october(inputs: &Path, out: &Path) -> PathBuf {
    let o = support::run(inputs, out, &[])
        .output()
        .expect("settle runs");
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let name = inputs.file_name().expect("named");
    out.join(name).join("2026-10")
}

fn diff(a: &Path, b: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_settle"))
        .arg("diff")
        .arg(a)
        .arg(b)
        .args(extra)
        .output()
        .expect("settle runs")
}

#[test]
fn a_rerun_is_the_same() {
    let s = Scratch::new("diff-same");
    let data = s.copy_demo("demo");
    let a = october(&data, &s.0.join("a"));
    let b = october(&data, &s.0.join("b"));
    let o = diff(&a, &b, &[]);
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stdout).contains("the same"));
}

#[test]
fn a_corrected_bill_names_the_partner_and_the_money_moved() {
    let s = Scratch::new("diff-changed");
    let data = s.copy_demo("demo");
    let a = october(&data, &s.0.join("a"));
    // p-01's customer acc-1002 gets a late cvm line of 100.00, at p-01's cvm rate of 0.08.
    let bills = std::fs::read_to_string(data.join("bills.csv")).expect("bills.csv");
    let late = "b-9001,acc-1002,cvm,standard,ins-2009,postpaid,day,2026-10-20 00:00:00,\
                2026-10-21 00:00:00,2026-10-21 01:00:00,100.00,0,0,100.00,paid,allocated,CNY\n";
    std::fs::write(data.join("bills.csv"), format!("{bills}{late}")).expect("bills.csv");
    let b = october(&data, &s.0.join("b"));

    let o = diff(&a, &b, &[]);
    assert_eq!(o.status.code(), Some(1));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("statements/p-01.csv: 1 added"), "{text}");

    let o = diff(&a, &b, &["--format", "csv"]);
    assert_eq!(o.status.code(), Some(1));
    let rows = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        rows.lines()
            .any(|r| r.starts_with("statements.csv,changed,")
                && r.contains("p-01 · ")
                && r.contains(",rebate_total,")
                && r.ends_with(",8.00,CNY")),
        "p-01's total moves by 100.00 × 0.08:\n{rows}"
    );
    assert!(
        rows.lines()
            .any(|r| r.starts_with("consumption.csv,changed,")
                && r.contains("acc-1002 · cvm")
                && r.contains(",usage_period_amount,")),
        "{rows}"
    );
}

#[test]
fn a_folder_that_is_not_a_period_is_exit_2() {
    let s = Scratch::new("diff-bad");
    let o = diff(&s.0, &s.0, &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("is not a period folder"));
}
