//! Runs the real `settle` binary on every folder under `tests/fixtures/` and compares what it
//! prints and writes with the case's `expected/` folder, byte for byte.
//!
//! A case is `tests/fixtures/<case>/` with:
//! - `inputs/`: the dataset;
//! - `cmd` (optional): the arguments before `--inputs`, default `run --period 2026-10`;
//! - `expected/exit_code`, `expected/stdout`, `expected/stderr`;
//! - `expected/out/`: the period folder the run writes (absent when the run must write nothing).
//!
//! `run` cases are run with `--no-pdf`: `tests/pdf.rs` checks the PDFs.
//!
//! `BLESS=1 cargo test --test fixtures` rewrites `expected/` from the actual results. Review the
//! diff before committing it.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use common::tree;

struct Actual {
    exit_code: String,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    out: Option<BTreeMap<String, Vec<u8>>>,
}

fn run_case(case: &Path, scratch: &Path) -> Actual {
    let cmd = common::args(case);
    let args: Vec<&str> = cmd.split_whitespace().collect();
    let out_root = scratch.join("out");
    let mut command = Command::new(env!("CARGO_BIN_EXE_settle"));
    command
        .current_dir(case)
        .args(&args)
        .arg("--inputs")
        .arg("inputs");
    if args.first() == Some(&"run") {
        // PDFs are checked by tests/pdf.rs; fixtures compare the CSVs and the manifest.
        command.arg("--out").arg(&out_root).arg("--no-pdf");
    }
    let output = command.output().expect("settle runs");
    let written = tree(&out_root);
    let out = if written.is_empty() {
        let leftovers: Vec<_> = std::fs::read_dir(&out_root).into_iter().flatten().collect();
        assert!(
            leftovers.is_empty(),
            "a run that writes nothing must leave no folder behind: {leftovers:?}"
        );
        None
    } else {
        // Strip `<dataset>/<period>/` so expected files do not depend on the period's name.
        Some(
            written
                .into_iter()
                .map(|(k, v)| (k.splitn(3, '/').nth(2).unwrap_or(&k).to_string(), v))
                .collect(),
        )
    };
    Actual {
        exit_code: format!("{}\n", output.status.code().unwrap_or(-1)),
        stdout: output.stdout,
        stderr: output.stderr,
        out,
    }
}

fn bless(expected: &Path, actual: &Actual) {
    let _ = std::fs::remove_dir_all(expected);
    std::fs::create_dir_all(expected).expect("create expected");
    std::fs::write(expected.join("exit_code"), &actual.exit_code).expect("write");
    std::fs::write(expected.join("stdout"), &actual.stdout).expect("write");
    std::fs::write(expected.join("stderr"), &actual.stderr).expect("write");
    if let Some(out) = &actual.out {
        for (rel, bytes) in out {
            let path = expected.join("out").join(rel);
            std::fs::create_dir_all(path.parent().expect("has parent")).expect("create");
            std::fs::write(path, bytes).expect("write");
        }
    }
}

fn compare(case: &str, expected: &Path, actual: &Actual) -> Vec<String> {
    let mut problems = Vec::new();
    let mut same = |name: &str, want: &[u8], got: &[u8]| {
        if want != got {
            problems.push(format!(
                "{case}: `{name}` differs\n--- expected\n{}\n--- actual\n{}",
                String::from_utf8_lossy(want),
                String::from_utf8_lossy(got)
            ));
        }
    };
    let read = |name: &str| std::fs::read(expected.join(name)).unwrap_or_default();
    same("exit_code", &read("exit_code"), actual.exit_code.as_bytes());
    same("stdout", &read("stdout"), &actual.stdout);
    same("stderr", &read("stderr"), &actual.stderr);
    let want = tree(&expected.join("out"));
    let got = actual.out.clone().unwrap_or_default();
    for name in want
        .keys()
        .chain(got.keys())
        .collect::<std::collections::BTreeSet<_>>()
    {
        match (want.get(name), got.get(name)) {
            (Some(w), Some(g)) => same(&format!("out/{name}"), w, g),
            (Some(_), None) => same(&format!("out/{name}"), b"(present)", b"(missing)"),
            (None, _) => same(&format!("out/{name}"), b"(absent)", b"(written)"),
        }
    }
    problems
}

/// One test per case folder: `cargo test --test fixtures <case>` runs one, and every failing
/// case is reported by name.
fn main() -> std::process::ExitCode {
    let args = libtest_mimic::Arguments::from_args();
    let blessing = std::env::var_os("BLESS").is_some_and(|v| v == "1");
    let tests = common::cases()
        .into_iter()
        .map(|case| {
            let name = case
                .file_name()
                .expect("named")
                .to_string_lossy()
                .into_owned();
            libtest_mimic::Trial::test(name.clone(), move || check(&name, &case, blessing))
        })
        .collect();
    libtest_mimic::run(&args, tests).exit_code()
}

/// Runs one case and compares it with its `expected/` folder, or rewrites that under `BLESS=1`.
fn check(name: &str, case: &Path, blessing: bool) -> Result<(), libtest_mimic::Failed> {
    let scratch =
        std::env::temp_dir().join(format!("settle-fixture-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    let actual = run_case(case, &scratch);
    let expected = case.join("expected");
    let problems = if blessing {
        bless(&expected, &actual);
        Vec::new()
    } else {
        compare(name, &expected, &actual)
    };
    let _ = std::fs::remove_dir_all(&scratch);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} problem(s):\n\n{}",
            problems.len(),
            problems.join("\n\n")
        )
        .into())
    }
}
