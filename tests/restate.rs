//! Restatements (R9), end to end on the demo: once October is closed, a late bill line, a
//! corrected bill and a removed bill leave the month of record's bytes as they were and write
//! `2026-10-r1/`, whose differences added to the month of record give, row by row and to the
//! cent, what a fresh run on the changed dataset gives. The same holds over random changes.

mod support;

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

use rust_decimal::Decimal;
use support::Scratch;

fn settle(args: &[&str], inputs: &Path, out: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_settle"))
        .args(args)
        .arg("--inputs")
        .arg(inputs)
        .arg("--out")
        .arg(out)
        .args(["--period", "2026-10", "--no-pdf"])
        .env("USER", "ci-user")
        .output()
        .expect("settle runs")
}

fn ok(o: &Output) -> String {
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(0), "{err}");
    err
}

fn run(inputs: &Path, out: &Path) -> String {
    ok(&settle(&["run"], inputs, out))
}

fn close(inputs: &Path, out: &Path, on: &str) {
    ok(&settle(&["close", "--issued-on", on], inputs, out));
}

/// Every file under `dir`, by its path in it.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("a folder") {
            let p = e.expect("an entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p
                    .strip_prefix(dir)
                    .expect("inside")
                    .to_string_lossy()
                    .into();
                out.insert(rel, std::fs::read(&p).expect("readable"));
            }
        }
    }
    out
}

/// Makes sealed folders writable again, so that the scratch folder can be removed.
fn unseal(dir: &Path) {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let _ = std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755));
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let _ = std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644));
            }
        }
    }
}

/// A CSV's rows as maps from column to value; none when there is no file.
fn rows(path: &Path) -> Vec<BTreeMap<String, String>> {
    let Ok(bytes) = std::fs::read(path) else {
        return Vec::new();
    };
    let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(&bytes);
    let mut r = csv::Reader::from_reader(bytes);
    let header = r.headers().expect("a header").clone();
    r.records()
        .map(|rec| {
            let rec = rec.expect("a row");
            header
                .iter()
                .zip(rec.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

/// A row as compared: every column but the document number, in order.
type Canon = Vec<(String, String)>;

fn canon(row: &BTreeMap<String, String>) -> Canon {
    row.iter()
        .filter(|(k, _)| k.as_str() != "document_no")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// A restatement row's two sides, as the month of record's and the restated row would read.
fn sides(row: &BTreeMap<String, String>) -> (Canon, Canon) {
    let (mut record, mut restated) = (BTreeMap::new(), BTreeMap::new());
    for (k, v) in row {
        if let Some(c) = k.strip_suffix("_of_record") {
            record.insert(c.to_string(), v.clone());
        } else if let Some(c) = k.strip_suffix("_restated") {
            restated.insert(c.to_string(), v.clone());
        } else if let Some(c) = k.strip_suffix("_difference") {
            // The difference is the restated figure minus the figure of record.
            let num = |s: Option<&String>| -> Decimal {
                s.filter(|s| !s.is_empty())
                    .map_or(Decimal::ZERO, |s| s.parse().expect("a figure"))
            };
            let (a, b) = (
                num(row.get(&format!("{c}_of_record"))),
                num(row.get(&format!("{c}_restated"))),
            );
            assert_eq!(num(Some(v)), b - a, "{c} in {row:?}");
        } else if !matches!(k.as_str(), "change" | "document_no" | "amends") {
            record.insert(k.clone(), v.clone());
            restated.insert(k.clone(), v.clone());
        }
    }
    (canon(&record), canon(&restated))
}

/// The documents a restatement restates, as paths in a period folder.
fn documents(closed: &Path, fresh: &Path) -> Vec<String> {
    let mut docs: Vec<String> = ["statements.csv", "consumption.csv", "rollups.csv"]
        .iter()
        .chain(&["reconciliation.csv"])
        .map(|s| s.to_string())
        .collect();
    for dir in [closed, fresh] {
        for e in std::fs::read_dir(dir.join("statements")).expect("statements/") {
            let name = e
                .expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned();
            let doc = format!("statements/{name}");
            if name.ends_with(".csv") && !docs.contains(&doc) {
                docs.push(doc);
            }
        }
    }
    docs
}

/// The month as it stood (`closed`) plus the restatement `r`'s differences is the fresh run,
/// on every row of every restated document; a document the restatement leaves out is the same.
fn assert_adds_up(closed: &Path, r: &Path, fresh: &Path) {
    for doc in documents(closed, fresh) {
        let mut month: Vec<Canon> = rows(&closed.join(&doc)).iter().map(canon).collect();
        for row in rows(&r.join(&doc)) {
            let (record, restated) = sides(&row);
            match row["change"].as_str() {
                "added" => month.push(restated),
                "removed" | "changed" => {
                    let at = month
                        .iter()
                        .position(|m| *m == record)
                        .unwrap_or_else(|| panic!("{doc}: no row of record {record:?}"));
                    month.remove(at);
                    if row["change"] == "changed" {
                        month.push(restated);
                    }
                }
                other => panic!("{doc}: change `{other}`"),
            }
        }
        let mut want: Vec<Canon> = rows(&fresh.join(&doc)).iter().map(canon).collect();
        month.sort();
        want.sort();
        assert_eq!(month, want, "{doc}: record + restatement = fresh run");
    }
}

/// The demo's bills.csv, with `change` applied to its lines (header first).
fn change_bills(data: &Path, change: impl FnOnce(&mut Vec<String>)) {
    let path = data.join("bills.csv");
    let text = std::fs::read_to_string(&path).expect("bills.csv");
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    change(&mut lines);
    std::fs::write(&path, lines.join("\n") + "\n").expect("bills.csv");
}

const LATE: &str = "b-9001,acc-1002,cvm,standard,ins-2009,postpaid,day,2026-10-20 00:00:00,\
                    2026-10-21 00:00:00,2026-10-21 01:00:00,100.00,0,0,100.00,paid,allocated,CNY";

#[test]
fn a_change_to_a_closed_month_is_a_restatement_that_adds_up() {
    let s = Scratch::new("restate");
    let data = s.copy_demo("demo");
    let out = s.out();
    let record = out.join("demo/2026-10");
    run(&data, &out);
    close(&data, &out, "2026-11-05");
    let sealed = files(&record);

    // Unchanged inputs: nothing is written.
    let err = run(&data, &out);
    assert!(err.contains("nothing changed"), "{err}");
    assert!(!out.join("demo/2026-10-r1").exists());

    // A late line for p-01's customer, one payable corrected, one bill removed.
    change_bills(&data, |lines| {
        lines.retain(|l| !l.starts_with("b-0021,"));
        for l in lines.iter_mut().filter(|l| l.starts_with("b-0018,")) {
            *l = l.replace("0.00,2327.50,", "0.00,2300.00,");
        }
        lines.push(LATE.to_string());
    });
    run(&data, &out);
    assert_eq!(files(&record), sealed, "the month of record is untouched");
    let r1 = out.join("demo/2026-10-r1");
    let fresh = s.0.join("fresh");
    run(&data, &fresh);
    let fresh = fresh.join("demo/2026-10");
    assert_adds_up(&record, &r1, &fresh);

    // p-01's supplementary statement amends its statement of record, under a number of its own.
    let of_record = rows(&record.join("statements.csv"));
    let st = &of_record
        .iter()
        .find(|r| r["partner_id"] == "p-01")
        .expect("p-01")["document_no"];
    let supplement = rows(&r1.join("statements/p-01.csv"));
    assert!(!supplement.is_empty());
    for row in &supplement {
        assert!(row["document_no"].starts_with("SS-202610-"), "{row:?}");
        assert_eq!(&row["amends"], st);
    }
    let totals = rows(&r1.join("statements.csv"));
    assert!(
        totals.iter().all(|r| r["partner_id"] == "p-01"),
        "{totals:?}"
    );

    // A red-letter entry offsets the invoice of record in full, naming it; a blue entry follows.
    let invoices = rows(&record.join("invoices.csv"));
    let original = invoices
        .iter()
        .find(|i| i["reference"] == "acc-1002" && i["currency"] == "CNY")
        .expect("acc-1002's CNY invoice");
    let entries = rows(&r1.join("invoices.csv"));
    let red = entries
        .iter()
        .find(|e| e["entry"] == "red" && e["offsets"] == original["document_no"])
        .expect("a red entry for the original");
    assert_eq!(red["reason"], "issued_in_error");
    let amount: Decimal = original["amount"].parse().expect("an amount");
    assert_eq!(
        red["amount"].parse::<Decimal>().expect("an amount"),
        -amount
    );
    let blue = entries
        .iter()
        .find(|e| e["entry"] == "blue" && e["replaces"] == original["document_no"])
        .expect("a blue entry");
    assert_ne!(
        blue["document_no"], original["document_no"],
        "numbers are never reused"
    );
    let restated = rows(&fresh.join("invoices.csv"));
    let now = restated
        .iter()
        .find(|i| i["reference"] == "acc-1002" && i["currency"] == "CNY")
        .expect("restated");
    assert_eq!(blue["amount"], now["amount"]);

    // changes.csv names the three rows.
    let changes: Vec<(String, String)> = rows(&r1.join("changes.csv"))
        .into_iter()
        .map(|r| (r["change"].clone(), r["id"].clone()))
        .collect();
    for want in [
        ("changed", "b-0018"),
        ("removed", "b-0021"),
        ("added", "b-9001"),
    ] {
        assert!(
            changes.contains(&(want.0.into(), want.1.into())),
            "{want:?} in {changes:?}"
        );
    }
    assert_eq!(changes.len(), 3, "{changes:?}");

    // The manifest names what it amends.
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(r1.join("manifest.json")).expect("manifest"))
            .expect("JSON");
    assert_eq!(m["amends"], "2026-10");
    assert_eq!(m["state"], "draft");
    assert_eq!(m["restatement"], 1);
    assert_eq!(
        m["amends_manifest_sha256"],
        support::sha256(&sealed["manifest.json"]).as_str()
    );

    // settle diff names p-01's difference on the restated month.
    let diff = Command::new(env!("CARGO_BIN_EXE_settle"))
        .arg("diff")
        .arg(&record)
        .arg(r1.join("restated"))
        .output()
        .expect("settle diff");
    assert_eq!(diff.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&diff.stdout).contains("p-01"));

    // Closed, r1 is of record; a second change gives r2, against the month of record plus r1.
    close(&data, &out, "2026-12-05");
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(r1.join("manifest.json")).expect("manifest"))
            .expect("JSON");
    assert_eq!(m["state"], "closed");
    let r1_sealed = files(&r1);
    change_bills(&data, |lines| {
        for l in lines.iter_mut().filter(|l| l.starts_with("b-9001,")) {
            *l = l.replace("100.00,0,0,100.00,", "100.00,0,0,80.00,");
        }
    });
    run(&data, &out);
    assert_eq!(files(&record), sealed);
    assert_eq!(files(&r1), r1_sealed);
    let r2 = out.join("demo/2026-10-r2");
    let fresh2 = s.0.join("fresh2");
    run(&data, &fresh2);
    assert_adds_up(&r1.join("restated"), &r2, &fresh2.join("demo/2026-10"));
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(r2.join("manifest.json")).expect("manifest"))
            .expect("JSON");
    assert_eq!(m["amends"], "2026-10-r1");
    // The red entry offsets r1's blue entry, the invoice then in force.
    let entries = rows(&r2.join("invoices.csv"));
    assert!(
        entries
            .iter()
            .any(|e| e["entry"] == "red" && e["offsets"] == blue["document_no"]),
        "{entries:?}"
    );
    let changes: Vec<String> = rows(&r2.join("changes.csv"))
        .into_iter()
        .map(|r| format!("{} {}", r["change"], r["id"]))
        .collect();
    assert_eq!(changes, ["changed b-9001"]);
    unseal(&s.0);
}

/// A small deterministic generator (64-bit LCG), so that a failure is reproduced by its seed.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) % below as u64) as usize
    }
}

/// Over random changes to the bill lines (payables corrected, lines removed, lines added), the
/// month of record plus the restatement is the fresh run, on every document row.
#[test]
fn random_changes_add_up() {
    let mut restated = 0;
    for seed in 1..=6u64 {
        let s = Scratch::new(&format!("restate-prop-{seed}"));
        let data = s.copy_demo("demo");
        let out = s.out();
        run(&data, &out);
        close(&data, &out, "2026-11-05");
        let mut rng = Lcg(seed);
        change_bills(&data, |lines| {
            for k in 0..1 + rng.next(4) {
                let at = 1 + rng.next(lines.len() - 1);
                match rng.next(3) {
                    0 => {
                        lines.remove(at);
                    }
                    1 => {
                        let cells: Vec<String> = lines[at].split(',').map(String::from).collect();
                        if cells.len() == 17 {
                            let mut cells = cells;
                            cells[13] = format!("{}.{:02}", rng.next(500), rng.next(100));
                            lines[at] = cells.join(",");
                        }
                    }
                    _ => {
                        let copy = lines[at].replacen(',', &format!("-x{k},"), 1);
                        lines.push(copy);
                    }
                }
            }
        });
        run(&data, &out);
        let r1 = out.join("demo/2026-10-r1");
        let fresh = s.0.join("fresh");
        run(&data, &fresh);
        if r1.exists() {
            restated += 1;
            assert_adds_up(&out.join("demo/2026-10"), &r1, &fresh.join("demo/2026-10"));
        } else {
            // Nothing of record changed (a line of another month, a rejected line).
            for doc in documents(&out.join("demo/2026-10"), &fresh.join("demo/2026-10")) {
                assert_eq!(
                    rows(&out.join("demo/2026-10").join(&doc)),
                    rows(&fresh.join("demo/2026-10").join(&doc)),
                    "seed {seed}: {doc}"
                );
            }
        }
        unseal(&s.0);
    }
    assert!(
        restated >= 3,
        "only {restated} of 6 changes restated the month"
    );
}
