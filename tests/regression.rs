//! One test per bug found, each named for its issue and running the real binary on a small
//! dataset made for it (ripgrep's `tests/regression.rs` habit).

mod support;

use std::process::{Command, Output, Stdio};

use settle::layout::file_stem;
use support::{ACCOUNTS, BILLS_HEADER, Scratch, USAGE_HEADER, assert_whole, bill, csv_rows};

fn output(mut c: Command) -> Output {
    c.output().expect("settle runs")
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Issue 18, bug 1: partner `a/b` was written as `a_b-c14cddc0`, and a second partner whose id
/// *is* that name overwrote its statement. Now no plain id has the escaped shape: every partner
/// gets its own file, and the manifest lists each once with the right SHA-256.
#[test]
fn issue_18_1_two_partners_never_share_a_statement_file() {
    let s = Scratch::new("reg-1");
    let escaped = file_stem("a/b");
    let ids = ["a/b", "a_b-c14cddc0", escaped.as_str(), "a_b"];
    let partners: String = ids
        .iter()
        .map(|id| format!("{id},Partner {id},gold,special,0\n"))
        .collect();
    let accounts: String = (0..ids.len())
        .map(|i| format!("acc-{i},A{i},E{i},enterprise,0\n"))
        .collect();
    let links: String = ids
        .iter()
        .enumerate()
        .map(|(i, id)| format!("acc-{i},{id},agency,2026-01-01,\n"))
        .collect();
    let bills: String = (0..ids.len())
        .map(|i| {
            bill(
                &format!("b{i}"),
                &format!("acc-{i}"),
                &format!("{}.00", 10 + i),
            )
        })
        .collect();
    let data = s.dataset(
        "d",
        &[
            (
                "accounts.csv",
                &format!(
                    "account_id,account_name,entity_name,title_kind,discount_rate\n{accounts}"
                ),
            ),
            (
                "partners.csv",
                &format!("partner_id,partner_name,tier,invoice_kind,arrears_amount\n{partners}"),
            ),
            (
                "partner_links.csv",
                &format!("account_id,partner_id,link_type,linked_from,linked_to\n{links}"),
            ),
            (
                "rebate_rates.csv",
                "tier,product,payment_mode,rate,valid_from,valid_to\ngold,cvm,*,0.1,2026-01-01,\n",
            ),
            ("bills.csv", &format!("{BILLS_HEADER}{bills}")),
        ],
    );
    let o = output(support::run(&data, &s.out(), &[]));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let folder = s.out().join("d").join("2026-10");
    assert_whole(&folder);
    let mut stems: Vec<String> = ids.iter().map(|id| file_stem(id)).collect();
    stems.sort();
    stems.dedup();
    assert_eq!(stems.len(), ids.len(), "{stems:?}");
    for (i, id) in ids.iter().enumerate() {
        let rows = csv_rows(&folder.join(format!("statements/{}.csv", file_stem(id))));
        assert_eq!(rows[0][1], format!("acc-{i}"), "{id}'s own statement");
        assert_eq!(rows[0][6], format!("{}.00", 10 + i));
    }
}

/// Issue 18, bug 2: `quantity = 1000000000000000` and `unit_price = 100000000000000` passed their
/// checks and their product overflowed inside R7 (exit 101, no outputs). Now amounts must be
/// less than 10^15, and so must quantity × unit_price: the row is rejected with its position,
/// the run goes on, and `validate` rejects the same rows.
#[test]
fn issue_18_2_a_product_too_large_rejects_its_row() {
    let s = Scratch::new("reg-2");
    let usage = format!(
        "{USAGE_HEADER}\
         u1,acc-1,cvm,,r-b1,2026-10-03,2026-10-03 01:00:00,1000000000000000,h,100000000000000,CNY\n\
         u2,acc-1,cvm,,r-b1,2026-10-03,2026-10-03 01:00:00,100000000000000,h,100000000000000,CNY\n\
         u3,acc-1,cvm,,r-b1,2026-10-03,2026-10-03 01:00:00,999999999999999.99999999,h,1,CNY\n"
    );
    let bills = format!(
        "{BILLS_HEADER}{}{}",
        bill("b1", "acc-1", "999999999999999.99"),
        bill("b2", "acc-1", "-1000000000000000")
    );
    let data = s.dataset(
        "d",
        &[
            ("accounts.csv", ACCOUNTS),
            ("bills.csv", &bills),
            ("usage.csv", &usage),
        ],
    );
    let o = output(support::run(&data, &s.out(), &[]));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let folder = s.out().join("d").join("2026-10");
    assert_whole(&folder);
    let rejects = csv_rows(&folder.join("rejects.csv"));
    let found: Vec<(&str, &str, &str)> = rejects
        .iter()
        .map(|r| (r[0].as_str(), r[1].as_str(), r[2].as_str()))
        .collect();
    assert_eq!(
        found,
        [
            ("bills.csv", "3", "list_amount"),
            ("usage.csv", "2", "quantity"),
            ("usage.csv", "3", "unit_price"),
        ]
    );
    assert!(rejects[2][4].contains("`quantity` × `unit_price` is too large"));
    let v = output(support::validate(&data));
    assert_eq!(code(&v), 0);
    assert!(String::from_utf8_lossy(&v.stdout).contains("3 row(s) rejected"));
}

/// Issue 18, bug 3: a partner id of 252 characters (or a master id of 300) made a file name
/// longer than the file system allows, and the run failed with exit 1 while `validate` passed.
/// Now both pass, and every file name is short.
#[test]
fn issue_18_3_long_ids_get_bounded_file_names() {
    let s = Scratch::new("reg-3");
    let partner = "p".repeat(252);
    let master = "m".repeat(300);
    let data = s.dataset(
        "d",
        &[
            (
                "accounts.csv",
                &format!(
                    "account_id,account_name,entity_name,title_kind,discount_rate\n\
                     {master},Master,Group Ltd,enterprise,0.1\n\
                     child-1,Child,Group Ltd,enterprise,0\n\
                     acc-2,Beta,Beta Ltd,enterprise,0\n"
                ),
            ),
            (
                "partners.csv",
                &format!(
                    "partner_id,partner_name,tier,invoice_kind,arrears_amount\n{partner},Long,gold,special,0\n"
                ),
            ),
            (
                "partner_links.csv",
                &format!(
                    "account_id,partner_id,link_type,linked_from,linked_to\nacc-2,{partner},agency,2026-01-01,\n"
                ),
            ),
            (
                "account_relations.csv",
                &format!(
                    "child_id,master_id,relation,effective_at,ended_at,inherit_discount,invoice_by\n\
                     child-1,{master},hosting,2026-09-01 00:00:00,,false,master\n"
                ),
            ),
            (
                "bills.csv",
                &format!(
                    "{BILLS_HEADER}{}{}",
                    bill("b1", "acc-2", "10.00"),
                    bill("b2", "child-1", "20.00").replace(",cash,", ",credit,")
                ),
            ),
        ],
    );
    let v = output(support::validate(&data));
    assert_eq!(code(&v), 0, "{}", stderr(&v));
    let o = output(support::run(&data, &s.out(), &[]));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let folder = s.out().join("d").join("2026-10");
    assert_whole(&folder);
    let files = support::files(&folder);
    assert!(files.contains(&format!("statements/{}.csv", file_stem(&partner))));
    assert!(files.contains(&format!("rollups/{}.csv", file_stem(&master))));
    for f in &files {
        let name = f.rsplit('/').next().unwrap_or(f);
        assert!(name.len() <= 80, "`{name}` is short");
    }
    let o = output(support::run(&data, &s.out(), &[]));
    assert_eq!(code(&o), 0, "a rerun replaces the folder: {}", stderr(&o));
}

/// Issue 18, bug 4: a kill between the two renames of the swap left the good folder stranded in
/// `.<period>.old-<pid>`, and under a fixed PID every later run failed with "Directory not
/// empty". Now a run puts the stranded folder back, removes what dead runs left, and succeeds.
/// (tests/crash.rs kills real runs at that moment.)
#[test]
fn issue_18_4_a_stranded_old_folder_is_put_back() {
    let s = Scratch::new("reg-4");
    let data = s.dataset(
        "d",
        &[
            ("accounts.csv", ACCOUNTS),
            (
                "bills.csv",
                &format!("{BILLS_HEADER}{}", bill("b1", "acc-1", "5")),
            ),
        ],
    );
    assert_eq!(code(&output(support::run(&data, &s.out(), &[]))), 0);
    let beside = s.out().join("d");
    let folder = beside.join("2026-10");
    let before = support::tree_sha(&folder);
    // What a kill between the renames left, by a run that had PID 1.
    std::fs::rename(&folder, beside.join(".2026-10.old-1")).expect("move aside");
    std::fs::create_dir_all(beside.join(".2026-10.tmp-1/statements")).expect("a temp folder");
    std::fs::create_dir_all(beside.join(".2026-10.scratch-1")).expect("a scratch folder");

    let o = output(support::run(&data, &s.out(), &[]));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stderr(&o).contains("put back"), "{}", stderr(&o));
    assert_whole(&folder);
    assert_eq!(support::tree_sha(&folder), before, "the same bytes");
    assert_eq!(
        support::files_and_folders(&beside),
        ["2026-10"],
        "nothing is left beside the period folder"
    );

    // A copy moved aside while the folder is in place, under the same PID as this run would
    // have had in a container: the run does not trip over it.
    std::fs::create_dir_all(beside.join(".2026-10.old-1/x")).expect("a stale copy");
    let o = output(support::run(&data, &s.out(), &[]));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(support::files_and_folders(&beside), ["2026-10"]);
}

/// Issue 18, bug 5: when stderr could not be written (`2>/dev/full`, a closed pipe), the exit
/// code became 101. Now what cannot be printed is dropped, and the exit code is the run's own.
#[test]
fn issue_18_5_unwritable_stderr_keeps_the_exit_code() {
    let s = Scratch::new("reg-5");
    let bills = format!(
        "{BILLS_HEADER}{}{}",
        bill("b1", "acc-1", "5"),
        bill("b2", "acc-9", "5")
    );
    let data = s.dataset("d", &[("accounts.csv", ACCOUNTS), ("bills.csv", &bills)]);
    let unusable = s.dataset("bad", &[("bills.csv", &bills)]);
    let cases: [(Command, i32); 5] = [
        (support::run(&data, &s.out(), &[]), 0),
        (support::run(&data, &s.out(), &["--strict"]), 3),
        (support::run(&unusable, &s.out(), &[]), 2),
        (support::run(&data, &s.out(), &["--json"]), 0),
        (support::validate(&data), 0),
    ];
    for (mut c, want) in cases {
        for sink in ["full", "closed"] {
            let stdio = || match sink {
                "full" => Stdio::from(std::fs::File::create("/dev/full").expect("/dev/full")),
                _ => {
                    let (reader, writer) = std::io::pipe().expect("a pipe");
                    drop(reader);
                    Stdio::from(writer)
                }
            };
            let status = c.stderr(stdio()).stdout(stdio()).status().expect("runs");
            assert_eq!(
                status.code(),
                Some(want),
                "{c:?} with stderr and stdout {sink}"
            );
        }
    }
}

/// Issue 18, bug 6: a stray `"` opening a cell in `bills.csv` folded the next line into its row,
/// silently. Now each row whose quoted cell spans lines is a warning naming the file, the column
/// and the lines, and the manifest accounts for every physical line.
#[test]
fn issue_18_6_a_quoted_cell_across_lines_is_reported() {
    let s = Scratch::new("reg-6");
    let bills = format!(
        "{BILLS_HEADER}\
         b1,acc-1,cvm,\"std,r-b1,postpaid,day,2026-10-03,2026-10-04,,10,0,0,10,paid,cash,CNY\n\
         b2,acc-1,cvm,std\",r-b2,postpaid,day,2026-10-05,2026-10-06,,20,0,0,20,paid,cash,CNY\n\
         \n{}",
        bill("b3", "acc-2", "30")
    );
    let accounts = "account_id,account_name,entity_name,title_kind,discount_rate\r\n\
                    acc-1,Acme,\"Acme Ltd\r\nHangzhou\",enterprise,0.1\r\n\
                    acc-2,Beta,Beta Ltd,enterprise,0\r\n";
    let data = s.dataset("d", &[("accounts.csv", accounts), ("bills.csv", &bills)]);
    let o = output(support::run(&data, &s.out(), &[]));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains(
            "warning: `bills.csv` lines 2–3: a quoted cell in column `sub_product` spans 2 lines"
        ),
        "{err}"
    );
    assert!(
        err.contains(
            "warning: `accounts.csv` lines 2–3: a quoted cell in column `entity_name` spans 2 lines"
        ),
        "{err}"
    );
    let m = assert_whole(&s.out().join("d").join("2026-10"));
    for (file, lines, rows, continued, blank) in
        [("accounts.csv", 4, 2, 1, 0), ("bills.csv", 5, 2, 1, 1)]
    {
        let i = m["inputs"]
            .as_array()
            .expect("inputs")
            .iter()
            .find(|i| i["file"] == file)
            .expect("listed");
        assert_eq!(i["lines"], lines, "{file}");
        assert_eq!(i["header_lines"], 1, "{file}");
        assert_eq!(i["rows_in"], rows, "{file}");
        assert_eq!(i["continued_lines"], continued, "{file}");
        assert_eq!(i["blank_lines"], blank, "{file}");
    }
    let v = output(support::validate(&data));
    let report = String::from_utf8_lossy(&v.stdout);
    assert!(
        report.contains("`bills.csv` lines 2–3: a quoted cell in column `sub_product`"),
        "{report}"
    );
}

/// Found by AFL++ (issue 18's fuzz run): a lone `\r` inside a line ended the record in the small
/// files' reader and in a quoted line of the big files', so two rows shared one line and rows
/// outnumbered lines. Line ends are `\n` or `\r\n`: a lone `\r` is text in its cell.
#[test]
fn issue_18_fuzz_a_lone_cr_is_text_not_a_line_end() {
    let s = Scratch::new("reg-cr");
    let accounts = "account_id,account_name,entity_name,title_kind,discount_rate\r\n\
                    acc-1,Ac\rme,Acme Ltd,enterprise,0.1\r\n\
                    acc-2,Beta,Beta Ltd,enterprise,0\r\n";
    let bills = format!(
        "{BILLS_HEADER}{}{}",
        bill("b1", "acc-1", "5").replace("2026-10-03,", "2\r026-10-03,"),
        bill("b2", "acc-2", "\"7\"")
    );
    let data = s.dataset("d", &[("accounts.csv", accounts), ("bills.csv", &bills)]);
    let o = output(support::run(&data, &s.out(), &[]));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let folder = s.out().join("d").join("2026-10");
    let m = assert_whole(&folder);
    for i in m["inputs"].as_array().expect("inputs") {
        let n = |k: &str| i[k].as_u64().expect("a count");
        assert_eq!(
            n("lines"),
            n("header_lines") + n("rows_in") + n("continued_lines") + n("blank_lines"),
            "{i}"
        );
    }
    let rejects = csv_rows(&folder.join("rejects.csv"));
    assert_eq!(rejects.len(), 1, "{rejects:?}");
    assert_eq!(
        (&rejects[0][0][..], &rejects[0][1][..], &rejects[0][2][..]),
        ("bills.csv", "2", "charge_start")
    );
}

/// Issue 29: `--strict` let a folded row through. A stray `"` that folds bill lines into one
/// valid row was only a warning, and a strict run exited 0 without them. Under `--strict` it is a
/// reject (exit 3, nothing written), for `run` and `validate`; without it, still a warning.
#[test]
fn issue_29_strict_stops_on_a_row_whose_quoted_cell_spans_lines() {
    let s = Scratch::new("reg-29-strict");
    let bills = format!(
        "{BILLS_HEADER}\
         b1,acc-1,cvm,\"std,r-b1,postpaid,day,2026-10-03,2026-10-04,,10,0,0,10,paid,cash,CNY\n\
         b2,acc-1,cvm,std\",r-b2,postpaid,day,2026-10-05,2026-10-06,,20,0,0,20,paid,cash,CNY\n\
         {}",
        bill("b3", "acc-2", "30")
    );
    let data = s.dataset("d", &[("accounts.csv", ACCOUNTS), ("bills.csv", &bills)]);
    let o = output(support::run(&data, &s.out(), &["--strict"]));
    let err = stderr(&o);
    assert_eq!(code(&o), 3, "{err}");
    assert!(
        err.contains("bills.csv:2: column `sub_product`: a quoted cell spans 2 lines (to line 3)"),
        "{err}"
    );
    assert!(
        !s.out().join("d").join("2026-10").exists(),
        "nothing written"
    );
    let mut v = support::validate(&data);
    v.arg("--strict");
    assert_eq!(code(&output(v)), 3);
    // Without --strict it stays a warning, and the run writes its outputs.
    let o = output(support::run(&data, &s.out(), &[]));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stderr(&o).contains("warning: `bills.csv` lines 2–3"));
}

/// Issue 29: a manifest whose conservation check failed (`"balanced": false`) still exited 0,
/// status `ok`. Now it is an internal error (exit 1) naming the currency and the two sums, and
/// the period folder is not written. No input unbalances a correct build, so the test hook
/// `SETTLE_TEST_FAULT=unbalance` adds a cent to one output's sum.
#[test]
fn issue_29_an_unbalanced_manifest_is_an_internal_error() {
    let s = Scratch::new("reg-29-balance");
    let bills = format!("{BILLS_HEADER}{}", bill("b1", "acc-1", "20.53"));
    let data = s.dataset("d", &[("accounts.csv", ACCOUNTS), ("bills.csv", &bills)]);
    let mut c = support::run(&data, &s.out(), &["--json"]);
    c.env("SETTLE_TEST_FAULT", "unbalance");
    let o = output(c);
    let err = stderr(&o);
    assert_eq!(code(&o), 1, "{err}");
    assert!(
        err.contains("the conservation check fails in CNY")
            && err.contains("hold 20.53")
            && err.contains("attributes 20.54")
            && err.contains("hint: "),
        "{err}"
    );
    let summary: serde_json::Value =
        serde_json::from_slice(&o.stdout).expect("one JSON line on stdout");
    assert_eq!(summary["exit_code"], 1, "{summary}");
    assert_ne!(summary["status"], "ok", "{summary}");
    assert!(
        !s.out().join("d").join("2026-10").exists(),
        "nothing written"
    );
    // The same dataset without the fault settles, balanced.
    let o = output(support::run(&data, &s.out(), &[]));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
}

/// Runs `c` and fails the test if it has not ended within a minute (a FIFO used to block for
/// ever): the child is killed first, so the test never hangs.
fn bounded(mut c: Command) -> Output {
    let mut child = c
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("settle runs");
    let start = std::time::Instant::now();
    loop {
        if child.try_wait().expect("waits").is_some() {
            return child.wait_with_output().expect("output");
        }
        if start.elapsed() > std::time::Duration::from_secs(60) {
            let _ = child.kill();
            let o = child.wait_with_output().expect("output");
            panic!("settle still ran after 60 s (blocked?): {}", stderr(&o));
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Issue 29: a FIFO in place of an optional CSV or of `settle.toml` blocked `run` and
/// `validate` for ever, and as `bills.csv` it was reported "missing"; a dangling `settle.toml`
/// link settled the month with every default, and a dangling optional CSV gave no rows. Each is
/// now exit 2 naming the file, at once.
#[cfg(unix)]
#[test]
fn issue_29_a_fifo_or_a_dangling_link_is_exit_2_naming_it() {
    let bills = format!("{BILLS_HEADER}{}", bill("b1", "acc-1", "10"));
    for (n, (file, odd, want)) in [
        (
            "settle.toml",
            "fifo",
            "is a FIFO (named pipe), not a regular file",
        ),
        (
            "partners.csv",
            "fifo",
            "is a FIFO (named pipe), not a regular file",
        ),
        (
            "usage.csv",
            "fifo",
            "is a FIFO (named pipe), not a regular file",
        ),
        (
            "bills.csv",
            "fifo",
            "is a FIFO (named pipe), not a regular file",
        ),
        ("settle.toml", "link", "which does not exist"),
        ("usage.csv", "link", "which does not exist"),
        ("accounts.csv", "link", "which does not exist"),
        (
            "rebate_rates.csv",
            "folder",
            "is a folder, not a regular file",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let s = Scratch::new(&format!("reg-29-odd-{n}"));
        let mut files = vec![("accounts.csv", ACCOUNTS), ("bills.csv", bills.as_str())];
        files.retain(|(f, _)| *f != file);
        let data = s.dataset("d", &files);
        let path = data.join(file);
        let _ = std::fs::remove_file(&path);
        match odd {
            "fifo" => {
                let made = Command::new("mkfifo").arg(&path).status().expect("mkfifo");
                assert!(made.success());
            }
            "link" => std::os::unix::fs::symlink("gone.csv", &path).expect("link"),
            _ => std::fs::create_dir(&path).expect("folder"),
        }
        let what = format!("{file} as a {odd}");
        for o in [
            bounded(support::run(&data, &s.out(), &[])),
            bounded(support::validate(&data)),
        ] {
            let err = stderr(&o);
            assert_eq!(code(&o), 2, "{what}: {err}");
            assert!(err.contains(&format!("{file}`")), "{what}: {err}");
            assert!(
                err.contains(want) && err.contains("hint: "),
                "{what}: {err}"
            );
            assert!(!err.contains("missing"), "{what}: {err}");
        }
        assert!(!s.out().join("d").exists(), "{what}: nothing written");
    }
}

/// Runs `c` as [`bounded`] does, sampling its peak resident memory (`VmHWM`, Linux) as it runs:
/// the output, and the largest peak seen in KiB (`None` when it ended before any sample).
fn sampled(mut c: Command) -> (Output, Option<u64>) {
    let mut child = c
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("settle runs");
    let status = format!("/proc/{}/status", child.id());
    let mut peak = None;
    let start = std::time::Instant::now();
    loop {
        let hwm = std::fs::read_to_string(&status).ok().and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        });
        peak = peak.max(hwm);
        if child.try_wait().expect("waits").is_some() {
            return (child.wait_with_output().expect("output"), peak);
        }
        if start.elapsed() > std::time::Duration::from_secs(60) {
            let _ = child.kill();
            let o = child.wait_with_output().expect("output");
            panic!("settle still ran after 60 s: {}", stderr(&o));
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// Issue 29: a `usage.csv` of one line of a gigabyte was read whole into memory (1 GiB resident,
/// 20 s) and then rejected as one bad row, and a gigabyte header line was gathered whole before
/// it was checked. No record may be longer than 1 MiB
/// (`settle::ingest::reader::quoted::MAX_RECORD`): the run and `validate` stop with exit 2 naming
/// the file and the record's line, after reading a few MiB of it. The files are sparse, so the
/// test writes no gigabyte to disk.
#[test]
fn issue_29_a_one_line_gigabyte_usage_csv_is_refused_with_its_file_and_line() {
    let s = Scratch::new("reg-29-gigabyte");
    let bills = format!("{BILLS_HEADER}{}", bill("b1", "acc-1", "10"));
    // The gigabyte line is the header (line 1), or the first data line (line 2).
    for (n, (head, line)) in [("", 1), (USAGE_HEADER, 2)].into_iter().enumerate() {
        let data = s.dataset(
            &format!("d{n}"),
            &[
                ("accounts.csv", ACCOUNTS),
                ("bills.csv", &bills),
                ("usage.csv", head),
            ],
        );
        std::fs::OpenOptions::new()
            .write(true)
            .open(data.join("usage.csv"))
            .and_then(|f| f.set_len(1 << 30))
            .expect("a sparse gigabyte");
        for c in [support::run(&data, &s.out(), &[]), support::validate(&data)] {
            let (o, peak) = sampled(c);
            let err = stderr(&o);
            assert_eq!(code(&o), 2, "{err}");
            assert!(
                err.contains(&format!(
                    "`usage.csv` line {line}: refused: a row longer than 1 MiB"
                )),
                "{err}"
            );
            if let Some(kib) = peak {
                assert!(kib < 256 << 10, "peak resident memory {kib} KiB: {err}");
            }
        }
        assert!(!s.out().join(format!("d{n}")).exists(), "nothing written");
    }
}

/// Issue 29: the bound on a line holds for every input, not only `usage.csv` and the exports: in
/// each CSV file a record longer than 1 MiB (a line, or a quoted cell across lines in
/// `bills.csv`) stops the run with exit 2 naming the file and its line, and a line of exactly
/// 1 MiB is read (here, rejected as a bad row).
#[test]
fn issue_29_a_line_longer_than_a_mebibyte_is_refused_in_every_input() {
    use settle::ingest::reader::quoted::MAX_RECORD;
    use settle::ingest::schema::ALL;
    let s = Scratch::new("reg-29-long-lines");
    let long = "x".repeat(MAX_RECORD + 1);
    let bills = format!("{BILLS_HEADER}{}", bill("b1", "acc-1", "10"));
    let quoted = format!("b2,acc-1,\"{}\"\n", "y\n".repeat(MAX_RECORD / 2 + 1));
    let mut cases: Vec<(&str, String, u64)> = ALL
        .iter()
        .map(|spec| match spec.name {
            "accounts.csv" => (spec.name, format!("{ACCOUNTS}{long}\n"), 4),
            "bills.csv" => (spec.name, format!("{bills}{long}\n"), 3),
            name => (name, format!("{}\n{long}\n", spec.columns.join(",")), 2),
        })
        .collect();
    cases.push(("bills.csv", format!("{bills}{quoted}"), 3));
    for (n, (file, text, line)) in cases.iter().enumerate() {
        let mut files = vec![("accounts.csv", ACCOUNTS), ("bills.csv", bills.as_str())];
        files.retain(|(f, _)| f != file);
        files.push((file, text));
        let data = s.dataset(&format!("d{n}"), &files);
        let o = output(support::run(&data, &s.out(), &[]));
        let err = stderr(&o);
        assert_eq!(code(&o), 2, "{file}: {err}");
        assert!(
            err.contains(&format!(
                "`{file}` line {line}: refused: a row longer than 1 MiB"
            )),
            "{file}: {err}"
        );
    }
    // At the bound, a line is read: one bad row, rejected with its line.
    let at_bound = format!("{bills}{}\n", "x".repeat(MAX_RECORD));
    let data = s.dataset(
        "at-bound",
        &[("accounts.csv", ACCOUNTS), ("bills.csv", &at_bound)],
    );
    let o = output(support::run(&data, &s.out(), &[]));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let rejects = csv_rows(&s.out().join("at-bound/2026-10/rejects.csv"));
    assert_eq!(rejects.len(), 1, "{rejects:?}");
    assert_eq!((&rejects[0][0][..], &rejects[0][1][..]), ("bills.csv", "3"));
}

/// Found by AFL++ on the `parquet` export target (non-instrumented): a Parquet export whose
/// footer's thrift does not parse panicked inside polars ("thrift bool field"), and the run died
/// with exit 101. The file is now refused like any unreadable export: exit 2, naming it.
#[cfg(feature = "parquet")]
#[test]
fn issue_29_fuzz_a_damaged_parquet_footer_is_refused_not_a_panic() {
    let s = Scratch::new("reg-29-parquet");
    let data = s.dataset("d", &[("settle.toml", "timezone = \"UTC\"\n")]);
    std::fs::create_dir_all(data.join("exports")).expect("exports");
    let crash = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus/parquet/crash-polars-thrift-panic");
    std::fs::copy(crash, data.join("exports/focus.parquet")).expect("the crash input");
    let o = output(support::run(&data, &s.out(), &[]));
    let err = stderr(&o);
    assert_eq!(code(&o), 2, "{err}");
    assert!(
        err.contains("exports/focus.parquet") && err.contains("not a readable Parquet file"),
        "{err}"
    );
}
