//! Crash tests: real runs killed with SIGKILL at named moments, through the
//! `SETTLE_TEST_PAUSE=<point>` hook (see `src/fault.rs`), which makes a run announce the point on
//! stderr and wait there. The test waits for the announcement, never for a time, so it does not
//! depend on how busy the machine is.
//!
//! After every kill, the previous period folder or the new one is on disk and whole (each file
//! the manifest lists, with its SHA-256, and nothing else), never neither; the next run succeeds,
//! writes the new folder whole and leaves nothing beside it.

mod support;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, ChildStderr, Stdio};

use support::{ACCOUNTS, BILLS_HEADER, Scratch, assert_whole, bill, files_and_folders, tree_sha};

/// Writes the dataset's bills: `version` changes an amount, so that two versions give two
/// different period folders.
fn write_bills(dataset: &Path, version: u32) {
    let bills: String = (0..40)
        .map(|i| {
            bill(
                &format!("b{i}"),
                ["acc-1", "acc-2"][i % 2],
                &format!("{}.{version:02}", 10 + i),
            )
        })
        .collect();
    std::fs::write(dataset.join("bills.csv"), format!("{BILLS_HEADER}{bills}")).expect("bills");
}

fn dataset(s: &Scratch) -> std::path::PathBuf {
    let links = "account_id,partner_id,link_type,linked_from,linked_to\n\
                 acc-1,p-1,agency,2026-01-01,\nacc-2,p-2,resale,2026-01-01,\n";
    let partners = "partner_id,partner_name,tier,invoice_kind,arrears_amount\n\
                    p-1,One,gold,special,0\np-2,Two,gold,ordinary,0\n";
    let d = s.dataset(
        "d",
        &[
            ("accounts.csv", ACCOUNTS),
            ("partners.csv", partners),
            ("partner_links.csv", links),
        ],
    );
    write_bills(&d, 1);
    d
}

/// Starts a run that stops at `point`, and waits until it says it got there.
fn run_until(inputs: &Path, out: &Path, point: &str) -> Child {
    let mut child = support::run(inputs, out, &[])
        .env("SETTLE_TEST_PAUSE", point)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("settle starts");
    let stderr = child.stderr.take().expect("piped");
    wait_for(stderr, &format!("settle: paused at {point}"));
    child
}

/// Reads `stderr` until a line equals `line`.
fn wait_for(stderr: ChildStderr, line: &str) -> BufReader<ChildStderr> {
    let mut reader = BufReader::new(stderr);
    let mut seen = String::new();
    loop {
        let mut next = String::new();
        let n = reader.read_line(&mut next).expect("stderr is readable");
        assert!(n > 0, "the run ended before `{line}`:\n{seen}");
        if next.trim_end() == line {
            return reader;
        }
        seen += &next;
    }
}

fn kill(mut child: Child) {
    child.kill().expect("SIGKILL");
    let status = child.wait().expect("reaped");
    assert!(!status.success(), "killed, not finished");
}

fn rerun_succeeds(inputs: &Path, out: &Path) {
    let o = support::run(inputs, out, &[]).output().expect("runs");
    assert!(
        o.status.success(),
        "the next run succeeds: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn a_kill_while_reading_or_rendering_leaves_the_previous_folder() {
    for point in ["read", "render"] {
        let s = Scratch::new(&format!("crash-{point}"));
        let inputs = dataset(&s);
        rerun_succeeds(&inputs, &s.out());
        let beside = s.out().join("d");
        let folder = beside.join("2026-10");
        let previous = tree_sha(&folder);

        write_bills(&inputs, 2);
        kill(run_until(&inputs, &s.out(), point));
        assert_whole(&folder);
        assert_eq!(
            tree_sha(&folder),
            previous,
            "{point}: the previous folder, untouched"
        );
        assert!(
            files_and_folders(&beside)
                .iter()
                .any(|f| f.starts_with(".2026-10.tmp-")),
            "{point}: the killed run left its temporary folder"
        );

        rerun_succeeds(&inputs, &s.out());
        assert_whole(&folder);
        assert_ne!(tree_sha(&folder), previous, "{point}: the new folder");
        assert_eq!(
            files_and_folders(&beside),
            ["2026-10"],
            "{point}: leftovers removed"
        );
    }
}

#[test]
fn a_kill_between_the_two_renames_loses_neither_folder() {
    let s = Scratch::new("crash-swap");
    let inputs = dataset(&s);
    rerun_succeeds(&inputs, &s.out());
    let beside = s.out().join("d");
    let folder = beside.join("2026-10");
    let previous = tree_sha(&folder);

    write_bills(&inputs, 2);
    kill(run_until(&inputs, &s.out(), "swap"));
    assert!(
        !folder.exists(),
        "killed with the previous folder moved aside"
    );
    let names = files_and_folders(&beside);
    let old = names
        .iter()
        .find(|n| n.starts_with(".2026-10.old-"))
        .expect("the previous folder, moved aside");
    let new = names
        .iter()
        .find(|n| n.starts_with(".2026-10.tmp-"))
        .expect("the new folder, not yet in place");
    assert_whole(&beside.join(old));
    assert_eq!(tree_sha(&beside.join(old)), previous);
    assert_whole(&beside.join(new));

    // The next run puts the previous folder back before anything else, then replaces it.
    rerun_succeeds(&inputs, &s.out());
    assert_whole(&folder);
    assert_ne!(tree_sha(&folder), previous);
    assert_eq!(files_and_folders(&beside), ["2026-10"], "leftovers removed");
}

/// A second run of the same period waits for the first, says so, and goes on once the first is
/// gone (here killed while it renders, holding the lock).
#[test]
fn a_second_run_waits_for_the_first() {
    let s = Scratch::new("crash-lock");
    let inputs = dataset(&s);
    let first = run_until(&inputs, &s.out(), "render");
    let mut second = support::run(&inputs, &s.out(), &[])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("settle starts");
    let stderr = second.stderr.take().expect("piped");
    let folder = s.out().join("d").join("2026-10");
    let waiting = format!(
        "settle: another run is writing `{}`; waiting for it to finish",
        folder.display()
    );
    let _rest = wait_for(stderr, &waiting);
    kill(first);
    let status = second.wait().expect("the second run ends");
    assert!(
        status.success(),
        "the second run finishes once the lock is free"
    );
    assert_whole(&folder);
    assert_eq!(files_and_folders(&s.out().join("d")), ["2026-10"]);
}
