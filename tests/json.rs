//! `settle run --json` on every way a run can end: the one line on stdout always names the
//! dataset and the month when they can be known, and `warnings` holds every warning printed on
//! stderr. A scheduler alerts from this line, so a failed month must say which month failed.

mod support;

use std::path::Path;
use std::process::Command;

use chrono::Datelike;
use serde_json::Value;
use support::{ACCOUNTS, BILLS_HEADER, Scratch, bill};

/// Runs `settle run --json --inputs <inputs> --out <out> --no-pdf` plus `extra`, and returns the
/// exit code, the JSON line and stderr.
fn json_run(inputs: &Path, out: &Path, extra: &[&str]) -> (i32, Value, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_settle"))
        .arg("run")
        .arg("--inputs")
        .arg(inputs)
        .arg("--out")
        .arg(out)
        .args(["--no-pdf", "--json"])
        .args(extra)
        .output()
        .expect("settle runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert_eq!(stdout.lines().count(), 1, "one JSON line: {stdout}");
    let json = serde_json::from_str(&stdout).expect("the line is JSON");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output.status.code().unwrap_or(-1), json, stderr)
}

/// Every `warning: …` line stderr printed, without the prefix.
fn printed_warnings(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter_map(|l| l.strip_prefix("warning: "))
        .map(String::from)
        .collect()
}

fn warnings(json: &Value) -> Vec<String> {
    json["warnings"]
        .as_array()
        .expect("warnings is a list")
        .iter()
        .map(|w| w.as_str().expect("a warning is text").to_string())
        .collect()
}

/// The month before today's in Shanghai: what a run without `--period` settles.
fn last_month_in_shanghai() -> String {
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive();
    let (y, m) = if today.month() == 1 {
        (today.year() - 1, 12)
    } else {
        (today.year(), today.month() - 1)
    };
    format!("{y:04}-{m:02}")
}

#[test]
fn without_period_and_without_bills_it_names_the_dataset_and_the_computed_month() {
    let s = Scratch::new("json-no-bills");
    let data = s.dataset("acme", &[("accounts.csv", ACCOUNTS)]);
    let (code, json, stderr) = json_run(&data, &s.out(), &[]);
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(json["status"], "failed");
    assert_eq!(json["exit_code"], 2);
    assert_eq!(json["dataset"], "acme");
    // The month is computed from the dataset's timezone; a run at the turn of a month may see
    // either side of it, so allow the month before the one computed here too.
    let period = json["period"].as_str().expect("a period");
    assert!(
        period == last_month_in_shanghai() || period < last_month_in_shanghai().as_str(),
        "{period}"
    );
    assert!(
        json["error"]
            .as_str()
            .expect("an error")
            .contains("bills.csv")
    );
}

#[test]
fn a_folder_that_does_not_exist_still_names_the_dataset_and_the_given_month() {
    let s = Scratch::new("json-no-folder");
    let (code, json, _) = json_run(&s.0.join("gone"), &s.out(), &["--period", "2026-10"]);
    assert_eq!(code, 2);
    assert_eq!(json["dataset"], "gone");
    assert_eq!(json["period"], "2026-10");
}

#[test]
fn a_bad_settings_file_names_the_dataset_and_the_given_month() {
    let s = Scratch::new("json-bad-settings");
    let bills = format!("{BILLS_HEADER}{}", bill("b1", "acc-1", "5"));
    let data = s.dataset("acme", &[("accounts.csv", ACCOUNTS), ("bills.csv", &bills)]);
    std::fs::write(data.join("settle.toml"), "roundng = \"half_up\"\n").expect("settle.toml");
    let (code, json, _) = json_run(&data, &s.out(), &["--period", "2026-10"]);
    assert_eq!(code, 2);
    assert_eq!(json["dataset"], "acme");
    assert_eq!(json["period"], "2026-10");
    // Without `--period` the month cannot be known: the timezone is in the file that failed.
    let (code, json, _) = json_run(&data, &s.out(), &[]);
    assert_eq!(code, 2);
    assert_eq!(json["dataset"], "acme");
    assert_eq!(json["period"], Value::Null);
}

#[test]
fn a_bad_as_of_names_the_dataset_and_the_computed_month() {
    let s = Scratch::new("json-bad-as-of");
    let bills = format!("{BILLS_HEADER}{}", bill("b1", "acc-1", "5"));
    let data = s.dataset("acme", &[("accounts.csv", ACCOUNTS), ("bills.csv", &bills)]);
    let (code, json, _) = json_run(&data, &s.out(), &["--as-of", "2026-10-32"]);
    assert_eq!(code, 2);
    assert_eq!(json["dataset"], "acme");
    assert!(json["period"].is_string(), "{json}");
}

#[test]
fn a_strict_run_that_rejects_names_the_month_and_keeps_its_warnings() {
    let s = Scratch::new("json-strict");
    // An unknown column `note`, warned about, and a row whose payable is not a number.
    let bills = format!(
        "{},note\n{},hello\nb2,acc-1,cvm,,r,postpaid,day,2026-10-03,2026-10-04,,1,0,0,x,paid,cash,CNY,\n",
        BILLS_HEADER.trim_end(),
        bill("b1", "acc-1", "5").trim_end(),
    );
    let data = s.dataset("acme", &[("accounts.csv", ACCOUNTS), ("bills.csv", &bills)]);
    let (code, json, stderr) = json_run(&data, &s.out(), &["--period", "2026-10", "--strict"]);
    assert_eq!(code, 3, "{stderr}");
    assert_eq!(json["dataset"], "acme");
    assert_eq!(json["period"], "2026-10");
    assert_eq!(json["rows_rejected"], 1);
    let listed = warnings(&json);
    assert!(
        listed.iter().any(|w| w.contains("`note`")),
        "the unknown column is warned about: {listed:?}"
    );
    assert_eq!(listed, printed_warnings(&stderr));
}

#[test]
fn a_run_with_rejects_lists_the_rejected_rows_warning_it_printed() {
    let s = Scratch::new("json-rejects");
    let bills = format!(
        "{BILLS_HEADER}{}b2,acc-1,cvm,,r,postpaid,day,2026-10-03,2026-10-04,,1,0,0,x,paid,cash,CNY\n",
        bill("b1", "acc-1", "5")
    );
    let data = s.dataset("acme", &[("accounts.csv", ACCOUNTS), ("bills.csv", &bills)]);
    let (code, json, stderr) = json_run(&data, &s.out(), &["--period", "2026-10"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(json["status"], "ok");
    let listed = warnings(&json);
    assert_eq!(
        listed.last().map(String::as_str),
        Some("1 row(s) rejected; see rejects.csv")
    );
    assert_eq!(listed, printed_warnings(&stderr));
}

#[test]
fn an_output_folder_that_cannot_be_made_names_the_dataset_and_month() {
    let s = Scratch::new("json-bad-out");
    let bills = format!("{BILLS_HEADER}{}", bill("b1", "acc-1", "5"));
    let data = s.dataset("acme", &[("accounts.csv", ACCOUNTS), ("bills.csv", &bills)]);
    // `--out` is a file, so no period folder can be made beneath it.
    let blocked = s.0.join("a-file");
    std::fs::write(&blocked, "").expect("a file");
    let (code, json, _) = json_run(&data, &blocked, &["--period", "2026-10"]);
    assert_ne!(code, 0);
    assert_eq!(json["status"], "failed");
    assert_eq!(json["dataset"], "acme");
    assert_eq!(json["period"], "2026-10");
}

/// A month in which no bill line falls is almost always missing exports: the run warns, on stderr
/// and in `warnings`, rather than publish zero statements as if all were well.
#[test]
fn an_empty_month_is_warned_about() {
    let s = Scratch::new("json-empty-month");
    let bills = format!("{BILLS_HEADER}{}", bill("b1", "acc-1", "5"));
    let data = s.dataset("acme", &[("accounts.csv", ACCOUNTS), ("bills.csv", &bills)]);
    let (code, json, stderr) = json_run(&data, &s.out(), &["--period", "2025-01"]);
    assert_eq!(code, 0, "{stderr}");
    let listed = warnings(&json);
    let empty = |w: &String| w.starts_with("no bill line was used or deducted in ");
    assert_eq!(listed.iter().filter(|w| empty(w)).count(), 1, "{listed:?}");
    assert!(
        listed.iter().any(|w| w.contains(" in 2025-01: ")),
        "{listed:?}"
    );
    assert_eq!(listed, printed_warnings(&stderr));
    // The month the line falls in is not warned about.
    let (_, json, _) = json_run(&data, &s.out(), &["--period", "2026-10"]);
    assert!(!warnings(&json).iter().any(empty));
}
