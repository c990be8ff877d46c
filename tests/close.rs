//! A month of record (R9), end to end on the demo: `settle run` writes a draft, marked 草稿 DRAFT
//! on every PDF page; `settle close` turns it into the month of record, with its issue date, and
//! seals it; nothing writes into it again. Close refuses a draft that no longer matches the
//! inputs, a dataset without an issuer and an empty month.

mod support;

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sha2::{Digest, Sha256};
use support::Scratch;

fn settle(args: &[&str], inputs: &Path, out: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_settle"))
        .args(args)
        .arg("--inputs")
        .arg(inputs)
        .arg("--out")
        .arg(out)
        .env("USER", "ci-user")
        .output()
        .expect("settle runs")
}

fn draft(inputs: &Path, out: &Path, period: &str) -> Output {
    settle(&["run", "--period", period], inputs, out)
}

fn close(inputs: &Path, out: &Path, period: &str, extra: &[&str]) -> Output {
    let mut args = vec!["close", "--period", period, "--issued-on", "2026-11-05"];
    args.extend(extra);
    settle(&args, inputs, out)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn assert_exit(o: &Output, code: i32) {
    assert_eq!(o.status.code(), Some(code), "stderr: {}", stderr(o));
}

/// Every file under `dir`, by its path inside it, with its bytes.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("readable") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).expect("inside").to_string_lossy();
                out.insert(rel.into_owned(), std::fs::read(&p).expect("readable"));
            }
        }
    }
    out
}

fn manifest(folder: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(folder.join("manifest.json")).expect("manifest"))
        .expect("JSON")
}

/// The pages of a PDF read back with `pdftotext`.
fn pages(pdf: &Path) -> Vec<String> {
    let out = Command::new("pdftotext")
        .args(["-layout", "-enc", "UTF-8"])
        .arg(pdf)
        .arg("-")
        .output()
        .expect("pdftotext is needed (poppler-utils; `make test` installs it)");
    assert!(out.status.success(), "pdftotext on {}", pdf.display());
    String::from_utf8(out.stdout)
        .expect("UTF-8")
        .split('\u{c}')
        .filter(|p| !p.trim().is_empty())
        .map(String::from)
        .collect()
}

fn pdfs(folder: &Path) -> Vec<PathBuf> {
    files(folder)
        .into_keys()
        .filter(|f| f.ends_with(".pdf"))
        .map(|f| folder.join(f))
        .collect()
}

/// Every folder and file under `dir`, and `dir`.
fn tree(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![dir.to_path_buf()];
    for e in std::fs::read_dir(dir).expect("readable").flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(tree(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// Makes what a test sealed writable again, so that its scratch folder can be removed.
fn unseal(dir: &Path) {
    for path in tree(dir) {
        let mode = if path.is_dir() { 0o755 } else { 0o644 };
        let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode));
    }
}

#[test]
fn a_run_is_a_draft_marked_on_every_page_and_reproducible() {
    let s = Scratch::new("close-draft");
    let data = s.copy_demo("demo");
    let (a, b) = (s.0.join("a"), s.0.join("b"));
    assert_exit(&draft(&data, &a, "2026-10"), 0);
    assert_exit(&draft(&data, &b, "2026-10"), 0);
    let folder = a.join("demo").join("2026-10");
    assert_eq!(manifest(&folder)["state"], "draft");
    assert!(manifest(&folder).get("issued_on").is_none());
    let list = pdfs(&folder);
    assert!(
        list.len() > 3,
        "the demo writes statements, rollups and lists"
    );
    for pdf in &list {
        for (n, page) in pages(pdf).iter().enumerate() {
            assert!(
                page.contains("草稿 DRAFT"),
                "page {} of {} has no draft mark:\n{page}",
                n + 1,
                pdf.display()
            );
            assert!(!page.contains("开具日期"), "a draft carries no issue date");
        }
    }
    assert_eq!(
        files(&folder),
        files(&b.join("demo").join("2026-10")),
        "a draft's bytes are reproducible"
    );
}

#[test]
fn close_writes_the_month_of_record_and_nothing_writes_into_it_again() {
    let s = Scratch::new("close-record");
    let data = s.copy_demo("demo");
    let out = s.out();
    let folder = out.join("demo").join("2026-10");
    assert_exit(&draft(&data, &out, "2026-10"), 0);
    let drafted = files(&folder);
    let draft_sha = hex(&drafted["manifest.json"]);

    let o = close(&data, &out, "2026-10", &["--by", "wang.li", "--json"]);
    assert_exit(&o, 0);
    let line: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one JSON line");
    assert_eq!(line["status"], "ok");
    assert_eq!(line["exit_code"], 0);
    assert_eq!(line["dataset"], "demo");
    assert_eq!(line["period"], "2026-10");

    let m = manifest(&folder);
    assert_eq!(m["state"], "closed");
    assert_eq!(m["issued_on"], "2026-11-05");
    assert_eq!(m["closed_by"], "wang.li");
    assert_eq!(m["draft_manifest_sha256"], draft_sha.as_str());
    let closed = files(&folder);
    for (name, bytes) in &drafted {
        if name.ends_with(".csv") {
            assert_eq!(
                closed.get(name),
                Some(bytes),
                "{name} is the draft's, byte for byte"
            );
        }
    }
    for pdf in pdfs(&folder) {
        for page in pages(&pdf) {
            assert!(!page.contains("草稿"), "{}: {page}", pdf.display());
            if !pdf.ends_with("reconciliation.pdf") {
                assert!(
                    page.contains("开具日期 Issued on 2026-11-05"),
                    "{}: {page}",
                    pdf.display()
                );
            }
        }
    }
    // The workbooks say what they are: the month workbook's About sheet and each statement's
    // Totals sheet carry the issue date.
    for (file, sheet) in [
        ("workbook.xlsx", "About"),
        ("statements/p-01.xlsx", "Totals"),
    ] {
        use calamine::Reader;
        let mut book: calamine::Xlsx<_> =
            calamine::open_workbook(folder.join(file)).expect("an xlsx");
        let name = book
            .sheet_names()
            .into_iter()
            .find(|n| n.contains(sheet))
            .expect(sheet);
        let range = book.worksheet_range(&name).expect(sheet);
        let cells: Vec<String> = range.rows().flatten().map(ToString::to_string).collect();
        assert!(
            cells.iter().any(|c| c == "开具日期 Issued on 2026-11-05"),
            "{file}: {cells:?}"
        );
        assert!(
            !cells.iter().any(|c| c.contains("草稿")),
            "{file}: {cells:?}"
        );
    }
    // Read-only, every file and folder.
    for path in tree(&folder) {
        let mode = std::fs::metadata(&path)
            .expect("metadata")
            .permissions()
            .mode()
            & 0o777;
        let want = if path.is_dir() { 0o555 } else { 0o444 };
        assert_eq!(mode, want, "{}", path.display());
    }

    // Close again: refused.
    let o = close(&data, &out, "2026-10", &[]);
    assert_exit(&o, 2);
    assert!(stderr(&o).contains("already closed"), "{}", stderr(&o));

    // The same inputs: nothing changed, nothing written.
    let o = draft(&data, &out, "2026-10");
    assert_exit(&o, 0);
    assert!(stderr(&o).contains("nothing changed"), "{}", stderr(&o));
    assert_eq!(files(&folder), closed);

    // A late bill line for p-01's customer: a restatement beside it (tests/restate.rs), the
    // month of record untouched.
    let bills = std::fs::read_to_string(data.join("bills.csv")).expect("bills.csv");
    let late = "b-9001,acc-1002,cvm,standard,ins-2009,postpaid,day,2026-10-20 00:00:00,\
                2026-10-21 00:00:00,2026-10-21 01:00:00,100.00,0,0,100.00,paid,allocated,CNY\n";
    std::fs::write(data.join("bills.csv"), format!("{bills}{late}")).expect("bills.csv");
    let o = draft(&data, &out, "2026-10");
    assert_exit(&o, 0);
    assert_eq!(files(&folder), closed, "the month of record is untouched");
    let mut beside: Vec<String> = std::fs::read_dir(out.join("demo"))
        .expect("readable")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    beside.sort();
    assert_eq!(
        beside,
        ["2026-10", "2026-10-r1"],
        "no staging is left beside it"
    );
    unseal(&s.0);
}

fn hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn close_refuses_a_draft_that_no_longer_matches_the_inputs() {
    let s = Scratch::new("close-changed");
    let data = s.copy_demo("demo");
    let out = s.out();
    let folder = out.join("demo").join("2026-10");
    assert_exit(&draft(&data, &out, "2026-10"), 0);
    let drafted = files(&folder);
    // One bill's payable corrected after the draft was reviewed.
    let bills = std::fs::read_to_string(data.join("bills.csv")).expect("bills.csv");
    let mut lines: Vec<String> = bills.lines().map(String::from).collect();
    let row = lines
        .iter()
        .position(|l| l.contains(",acc-1002,"))
        .expect("a bill of acc-1002");
    let mut cells: Vec<String> = lines[row].split(',').map(String::from).collect();
    cells[13] = "1.00".into();
    lines[row] = cells.join(",");
    std::fs::write(data.join("bills.csv"), lines.join("\n") + "\n").expect("bills.csv");

    let o = close(&data, &out, "2026-10", &["--json"]);
    assert_exit(&o, 2);
    let e = stderr(&o);
    assert!(e.contains("differs from the draft"), "{e}");
    assert!(e.contains("consumption.csv"), "{e}");
    assert!(e.contains("hint: ") && e.contains("settle run"), "{e}");
    let line: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one JSON line");
    assert_eq!(line["exit_code"], 2);
    assert_eq!(line["period"], "2026-10");
    assert_eq!(files(&folder), drafted, "the draft is left as it was");
}

#[test]
fn close_refuses_a_dataset_without_issuer_and_a_period_without_draft() {
    let s = Scratch::new("close-issuer");
    let data = s.copy_demo("demo");
    let out = s.out();
    let o = close(&data, &out, "2026-10", &[]);
    assert_exit(&o, 2);
    assert!(stderr(&o).contains("no draft"), "{}", stderr(&o));
    assert!(!out.join("demo").exists(), "nothing is written");

    let toml = std::fs::read_to_string(data.join("settle.toml")).expect("settle.toml");
    let cut = toml.find("[issuer]").expect("the demo names its issuer");
    std::fs::write(data.join("settle.toml"), &toml[..cut]).expect("settle.toml");
    assert_exit(&draft(&data, &out, "2026-10"), 0);
    let o = close(&data, &out, "2026-10", &[]);
    assert_exit(&o, 2);
    assert!(stderr(&o).contains("[issuer]"), "{}", stderr(&o));
    assert_eq!(
        manifest(&out.join("demo").join("2026-10"))["state"],
        "draft"
    );
}

#[test]
fn close_refuses_an_empty_month_unless_allowed() {
    let s = Scratch::new("close-empty");
    let data = s.copy_demo("demo");
    let out = s.out();
    assert_exit(&draft(&data, &out, "2025-01"), 0);
    let o = close(&data, &out, "2025-01", &[]);
    assert_exit(&o, 2);
    assert!(stderr(&o).contains("--allow-empty"), "{}", stderr(&o));
    let o = close(&data, &out, "2025-01", &["--allow-empty"]);
    assert_exit(&o, 0);
    assert!(stderr(&o).contains("no bill line"), "{}", stderr(&o));
    let m = manifest(&out.join("demo").join("2025-01"));
    assert_eq!(m["state"], "closed");
    assert_eq!(m["closed_by"], "ci-user", "from USER without --by");
    unseal(&s.0);
}

/// A sharded run's merge over a month of record writes nothing into it either: it says whether
/// the month would change, as `settle run` does.
#[test]
fn a_merge_over_a_month_of_record_writes_nothing() {
    let s = Scratch::new("close-merge");
    let data = s.copy_demo("demo");
    let out = s.out();
    let folder = out.join("demo").join("2026-10");
    assert_exit(&draft(&data, &out, "2026-10"), 0);
    assert_exit(&close(&data, &out, "2026-10", &[]), 0);
    let closed = files(&folder);

    let stage = s.0.join("stage");
    let bare = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_settle"))
            .args(args)
            .output()
            .expect("settle runs")
    };
    let (data, stage_s, out_s) = (
        data.to_str().expect("UTF-8"),
        stage.to_str().expect("UTF-8"),
        out.to_str().expect("UTF-8"),
    );
    let split = [
        "split", "--inputs", data, "--period", "2026-10", "--shards", "2", "--out", stage_s,
    ];
    assert_exit(&bare(&split), 0);
    for shard in ["0/2", "1/2"] {
        assert_exit(&bare(&["run", "--shard", shard, "--stage", stage_s]), 0);
    }
    let o = bare(&["merge", "--stage", stage_s, "--out", out_s]);
    assert_exit(&o, 0);
    assert!(stderr(&o).contains("nothing changed"), "{}", stderr(&o));
    assert_eq!(files(&folder), closed, "the month of record is untouched");
    unseal(&s.0);
}
