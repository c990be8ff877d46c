//! A month split into shards, each settled by a process of its own, and merged, must write the
//! bytes a one-machine `settle run` writes: every plain `run` fixture and a generated month, at 1,
//! 2, 3 and 7 shards. A shard lost is settled again alone; a stage with a shard missing, or with a
//! shard of another split, is refused with exit 2.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const SETTLE: &str = env!("CARGO_BIN_EXE_settle");

fn settle(args: &[&str]) -> Output {
    Command::new(SETTLE)
        .args(args)
        .output()
        .expect("settle runs")
}

fn ok(args: &[&str]) {
    let out = settle(args);
    assert!(
        out.status.success(),
        "settle {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn s(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

/// A temporary folder, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("settle-shards-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a scratch folder");
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Splits `inputs` into `shards`, settles each shard in a process of its own, merges into `out`
/// and returns the period folder's files.
fn sharded(
    inputs: &Path,
    period: &str,
    shards: usize,
    stage: &Path,
    out: &Path,
    pdf: bool,
) -> BTreeMap<String, Vec<u8>> {
    let n = shards.to_string();
    ok(&[
        "split",
        "--inputs",
        s(inputs),
        "--period",
        period,
        "--shards",
        &n,
        "--out",
        s(stage),
    ]);
    for i in 0..shards {
        ok(&[
            "run",
            "--shard",
            &format!("{i}/{shards}"),
            "--stage",
            s(stage),
        ]);
    }
    merge(stage, out, pdf)
}

fn merge(stage: &Path, out: &Path, pdf: bool) -> BTreeMap<String, Vec<u8>> {
    let mut args = vec!["merge", "--stage", s(stage), "--out", s(out)];
    if !pdf {
        args.push("--no-pdf");
    }
    ok(&args);
    period_folder(out)
}

/// The one period folder under `out`.
fn period_folder(out: &Path) -> BTreeMap<String, Vec<u8>> {
    let dataset = only_entry(out);
    common::tree(&only_entry(&dataset))
}

fn only_entry(dir: &Path) -> PathBuf {
    let entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("a folder")
        .map(|e| e.expect("an entry").path())
        .collect();
    assert_eq!(entries.len(), 1, "one entry in {dir:?}: {entries:?}");
    entries.into_iter().next().expect("one")
}

fn same(whole: &BTreeMap<String, Vec<u8>>, merged: &BTreeMap<String, Vec<u8>>, what: &str) {
    assert_eq!(
        whole.keys().collect::<Vec<_>>(),
        merged.keys().collect::<Vec<_>>(),
        "{what}: the same files"
    );
    for (name, bytes) in whole {
        assert!(
            merged[name] == *bytes,
            "{what}: `{name}` differs:\n{}",
            String::from_utf8_lossy(&merged[name])
        );
    }
}

#[test]
fn every_plain_run_fixture_merges_into_the_same_bytes() {
    let mut compared = 0;
    for case in common::cases() {
        let expected = common::tree(&case.join("expected").join("out"));
        let args = common::args(&case);
        let words: Vec<&str> = args.split_whitespace().collect();
        let ["run", "--period", period] = words[..] else {
            continue;
        };
        if expected.is_empty() || case.join("inputs").join("exports").exists() {
            continue;
        }
        let name = case
            .file_name()
            .expect("named")
            .to_string_lossy()
            .to_string();
        for shards in [1, 2, 3, 7] {
            let scratch = Scratch::new(&format!("{name}-{shards}"));
            let merged = sharded(
                &case.join("inputs"),
                period,
                shards,
                &scratch.0.join("stage"),
                &scratch.0.join("out"),
                false,
            );
            same(&expected, &merged, &format!("{name} in {shards} shards"));
        }
        compared += 1;
    }
    assert!(compared >= 20, "most cases are plain runs: {compared}");
}

/// A generated month with partners (some switching partner in the month), hosted children, USD
/// lines and a meter.
fn generated(root: &Path) -> PathBuf {
    let inputs = root.join("gen");
    let dataset = settle::synth::GenConfig {
        lines: 30_000,
        accounts: 300,
        partners: 12,
        seed: 11,
        mismatch_per_million: 2_000,
    };
    settle::synth::generate(&dataset, &inputs).expect("generated");
    let relations = std::fs::read_to_string(inputs.join("account_relations.csv"))
        .expect("relations are generated");
    assert!(relations.contains("hosting"), "hosting trees are generated");
    inputs
}

fn one_machine(inputs: &Path, out: &Path, pdf: bool) -> BTreeMap<String, Vec<u8>> {
    let mut args = vec![
        "run",
        "--inputs",
        s(inputs),
        "--period",
        "2026-10",
        "--out",
        s(out),
    ];
    if !pdf {
        args.push("--no-pdf");
    }
    ok(&args);
    period_folder(out)
}

#[test]
fn a_generated_month_merges_into_the_same_bytes() {
    let scratch = Scratch::new("gen");
    let inputs = generated(&scratch.0);
    let whole = one_machine(&inputs, &scratch.0.join("one"), false);
    for shards in [1, 2, 3, 7] {
        let merged = sharded(
            &inputs,
            "2026-10",
            shards,
            &scratch.0.join(format!("stage-{shards}")),
            &scratch.0.join(format!("out-{shards}")),
            false,
        );
        same(&whole, &merged, &format!("{shards} shards"));
    }
}

#[test]
fn a_generated_month_with_its_pdfs_merges_into_the_same_bytes() {
    let scratch = Scratch::new("gen-pdf");
    let inputs = generated(&scratch.0);
    let whole = one_machine(&inputs, &scratch.0.join("one"), true);
    assert!(
        whole.keys().filter(|f| f.ends_with(".pdf")).count() > 10,
        "statements and rollups are written as PDFs"
    );
    let merged = sharded(
        &inputs,
        "2026-10",
        3,
        &scratch.0.join("stage"),
        &scratch.0.join("out"),
        true,
    );
    same(&whole, &merged, "3 shards with PDFs");
}

/// A shard whose results are lost: the merge names it and exits 2, writing nothing; that shard
/// alone is settled again, and the merge then writes the one-machine bytes.
#[test]
fn a_lost_shard_is_named_and_settled_again_alone() {
    let scratch = Scratch::new("lost");
    let inputs = generated(&scratch.0);
    let whole = one_machine(&inputs, &scratch.0.join("one"), false);
    let stage = scratch.0.join("stage");
    let out = scratch.0.join("out");
    sharded(&inputs, "2026-10", 3, &stage, &out, false);
    std::fs::remove_dir_all(&out).expect("the merged folder");
    let partial = stage.join("partials").join("1.json");
    let settled_before = std::fs::read(stage.join("partials").join("0.json")).expect("shard 0");
    std::fs::remove_file(&partial).expect("shard 1's results");

    let refused = settle(&["merge", "--stage", s(&stage), "--out", s(&out), "--no-pdf"]);
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("shard(s) 1/3") && stderr.contains("--shard I/3"),
        "names the missing shard: {stderr}"
    );
    assert!(!out.exists(), "an incomplete stage writes nothing");

    ok(&["run", "--shard", "1/3", "--stage", s(&stage)]);
    assert_eq!(
        std::fs::read(stage.join("partials").join("0.json")).expect("shard 0"),
        settled_before,
        "the other shards are not settled again"
    );
    same(&whole, &merge(&stage, &out, false), "shard 1 settled again");
}

/// A shard settled from another split, or written by another format, is refused with exit 2.
#[test]
fn a_mixed_stage_is_refused() {
    let scratch = Scratch::new("mixed");
    let inputs = generated(&scratch.0);
    let (a, b) = (scratch.0.join("a"), scratch.0.join("b"));
    sharded(&inputs, "2026-10", 2, &a, &scratch.0.join("out-a"), false);
    let as_of = "2026-11-20";
    ok(&[
        "split",
        "--inputs",
        s(&inputs),
        "--period",
        "2026-10",
        "--shards",
        "2",
        "--out",
        s(&b),
        "--as-of",
        as_of,
    ]);
    ok(&["run", "--shard", "0/2", "--stage", s(&b)]);
    std::fs::copy(
        b.join("partials").join("0.json"),
        a.join("partials").join("0.json"),
    )
    .expect("a partial of the other split");
    let out = scratch.0.join("out");
    let refused = settle(&["merge", "--stage", s(&a), "--out", s(&out), "--no-pdf"]);
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("another split"), "{stderr}");

    ok(&["run", "--shard", "0/2", "--stage", s(&a)]);
    let path = a.join("partials").join("1.json");
    let text = std::fs::read_to_string(&path).expect("a partial");
    std::fs::write(&path, text.replacen("{\"format\":1,", "{\"format\":99,", 1)).expect("written");
    let refused = settle(&["merge", "--stage", s(&a), "--out", s(&out), "--no-pdf"]);
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("stage format 99"), "{stderr}");

    let wrong = settle(&["run", "--shard", "0/3", "--stage", s(&a)]);
    assert_eq!(
        wrong.status.code(),
        Some(2),
        "a stage of 2 shards is not settled as 3"
    );
}
