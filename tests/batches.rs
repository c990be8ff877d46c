//! Running a month in batches of accounts must not change a byte of its outputs.
//!
//! Every `run` fixture case that writes outputs is run again through the library, with batches
//! of one bill line each (in effect, one batch per account), and what it writes is compared with
//! the case's `expected/out/`, which the one-batch run of `tests/fixtures.rs` also matches.

mod common;

use std::ffi::OsString;

use clap::Parser;
use settle::cli::{Cli, Command};
use settle::pipeline;
use settle::progress::Quiet;

#[test]
fn one_account_per_batch_writes_the_same_bytes() {
    let mut compared = 0;
    for case in common::cases() {
        let expected = common::tree(&case.join("expected").join("out"));
        let args = common::args(&case);
        if expected.is_empty() || !args.starts_with("run") {
            continue;
        }
        let scratch = std::env::temp_dir().join(format!(
            "settle-batches-{}-{}",
            case.file_name().expect("named").to_string_lossy(),
            std::process::id()
        ));
        let inputs = case.join("inputs");
        let mut argv: Vec<OsString> = ["settle"]
            .into_iter()
            .chain(args.split_whitespace())
            .map(OsString::from)
            .collect();
        argv.extend([
            "--inputs".into(),
            inputs.into_os_string(),
            "--out".into(),
            scratch.clone().into_os_string(),
            "--no-pdf".into(),
        ]);
        let Command::Run(run) = Cli::parse_from(argv).command else {
            unreachable!("a run case");
        };
        let mut config = run.into_config();
        config.lines_per_batch = 1;
        let summary = pipeline::run(&config, &Quiet).expect("the case runs");
        let written = common::tree(&summary.folder);
        let _ = std::fs::remove_dir_all(&scratch);

        let names =
            |t: &std::collections::BTreeMap<String, Vec<u8>>| t.keys().cloned().collect::<Vec<_>>();
        assert_eq!(
            names(&written),
            names(&expected),
            "{case:?}: the same files"
        );
        for (name, bytes) in &expected {
            assert!(
                written[name] == *bytes,
                "{case:?}: `{name}` differs in batches:\n{}",
                String::from_utf8_lossy(&written[name])
            );
        }
        compared += 1;
    }
    assert!(compared >= 20, "most cases write outputs: {compared}");
}

/// A generated month of 40,000 lines, with partners, hosted children, USD lines and a meter,
/// written with its PDFs in one batch and in batches of 8,000 lines: the same bytes, and no
/// scratch folder left behind.
#[test]
fn a_generated_month_in_batches_writes_the_same_bytes() {
    let root = std::env::temp_dir().join(format!("settle-batches-gen-{}", std::process::id()));
    let inputs = root.join("gen");
    let dataset = settle::synth::GenConfig {
        lines: 40_000,
        accounts: 400,
        partners: 12,
        seed: 7,
        mismatch_per_million: 1_000,
    };
    settle::synth::generate(&dataset, &inputs).expect("generated");
    let run = |lines_per_batch: u64, out: &str| {
        let config = pipeline::RunConfig {
            inputs: inputs.clone(),
            out: root.join(out),
            period: Some("2026-10".parse().expect("a month")),
            as_of: None,
            strict: false,
            templates: None,
            no_pdf: false,
            lines_per_batch,
        };
        let summary = pipeline::run(&config, &Quiet).expect("the month runs");
        let beside: Vec<_> = std::fs::read_dir(summary.folder.parent().expect("a dataset folder"))
            .expect("the dataset folder")
            .map(|e| e.expect("an entry").file_name())
            .collect();
        assert_eq!(
            beside,
            ["2026-10"],
            "nothing is left beside the period's folder"
        );
        common::tree(&summary.folder)
    };
    let whole = run(u64::MAX, "one");
    let batched = run(8_000, "batched");
    let _ = std::fs::remove_dir_all(&root);

    assert!(
        whole.keys().filter(|f| f.ends_with(".pdf")).count() > 10,
        "statements and rollups are written as PDFs"
    );
    assert_eq!(
        whole.keys().collect::<Vec<_>>(),
        batched.keys().collect::<Vec<_>>()
    );
    for (name, bytes) in &whole {
        assert!(batched[name] == *bytes, "`{name}` differs in batches");
    }
}
