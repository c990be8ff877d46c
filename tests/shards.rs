//! A month split into shards, each settled by a process of its own, and merged, must write the
//! bytes a one-machine `settle run` writes: every plain `run` fixture and a generated month, at 1,
//! 2, 3 and 7 shards, the split itself in 1, 2 or 3 parts (`--part K/M`, each a process) where
//! the bill lines are exports: the export fixtures, the same cut into many files, and a generated
//! month with hosting trees and partner switches written as FOCUS exports in several files. A
//! shard or a part lost is run again alone; a stage with a shard or a part missing, or with one of
//! another split, is refused with exit 2.

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

/// Splits `inputs` in `parts` processes (one without `--part`), settles each of `shards` shards
/// in a process of its own, merges into `out` and returns the period folder's files.
fn sharded(
    inputs: &Path,
    period: &str,
    shards: usize,
    parts: usize,
    stage: &Path,
    out: &Path,
    pdf: bool,
) -> BTreeMap<String, Vec<u8>> {
    for k in 0..parts {
        split(
            inputs,
            period,
            shards,
            (parts > 1).then_some((k, parts)),
            stage,
        );
    }
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

/// `settle split`, of part `K/M` if given.
fn split(inputs: &Path, period: &str, shards: usize, part: Option<(usize, usize)>, stage: &Path) {
    let n = shards.to_string();
    let mut args = vec![
        "split",
        "--inputs",
        s(inputs),
        "--period",
        period,
        "--shards",
        &n,
        "--out",
        s(stage),
    ];
    let part = part.map(|(k, m)| format!("{k}/{m}"));
    if let Some(part) = &part {
        args.extend(["--part", part.as_str()]);
    }
    ok(&args);
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

/// The parts each fixture is split in, for `shards`: exports in 1, 2 and 3 parts; `bills.csv`,
/// which part 0 reads whole, in one part, and in two at 3 shards.
fn parts_for(exports: bool, shards: usize) -> Vec<usize> {
    match (exports, shards) {
        (true, _) => vec![1, 2, 3],
        (false, 3) => vec![1, 2],
        (false, _) => vec![1],
    }
}

#[test]
fn every_plain_run_fixture_merges_into_the_same_bytes() {
    let mut compared = 0;
    let mut exports = 0;
    for case in common::cases() {
        let expected = common::tree(&case.join("expected").join("out"));
        let args = common::args(&case);
        let words: Vec<&str> = args.split_whitespace().collect();
        let ["run", "--period", period] = words[..] else {
            continue;
        };
        if expected.is_empty() {
            continue;
        }
        let name = case
            .file_name()
            .expect("named")
            .to_string_lossy()
            .to_string();
        let has_exports = case.join("inputs").join("exports").exists();
        for shards in [1, 2, 3, 7] {
            for parts in parts_for(has_exports, shards) {
                let scratch = Scratch::new(&format!("{name}-{shards}-{parts}"));
                let merged = sharded(
                    &case.join("inputs"),
                    period,
                    shards,
                    parts,
                    &scratch.0.join("stage"),
                    &scratch.0.join("out"),
                    false,
                );
                same(
                    &expected,
                    &merged,
                    &format!("{name} in {shards} shards, split in {parts} part(s)"),
                );
            }
        }
        compared += 1;
        exports += usize::from(has_exports);
    }
    assert!(compared >= 20, "most cases are plain runs: {compared}");
    assert!(exports >= 5, "every export format is compared: {exports}");
}

/// Copies `from` to `to`, cutting each CSV export into files of a few rows each (the header
/// repeated), so that parts have several files to share.
fn cut_exports(from: &Path, to: &Path, pieces: usize) -> usize {
    let mut files = 0;
    for (name, bytes) in common::tree(from) {
        let target = to.join(&name);
        std::fs::create_dir_all(target.parent().expect("a folder")).expect("a folder");
        let text = String::from_utf8(bytes.clone()).unwrap_or_default();
        let whole_lines = text.lines().all(|l| l.matches('"').count() % 2 == 0);
        if !(name.starts_with("exports/") && name.ends_with(".csv") && whole_lines) {
            std::fs::write(&target, &bytes).expect("copied");
            files += usize::from(name.starts_with("exports/"));
            continue;
        }
        let mut lines = text.lines();
        let header = lines.next().expect("a header");
        let rows: Vec<&str> = lines.collect();
        let rows_per_file = rows.len().div_ceil(pieces).max(1);
        let stem = target.with_extension("");
        for (i, chunk) in rows.chunks(rows_per_file).enumerate() {
            let mut file = format!("{header}\n");
            for row in chunk {
                file.push_str(row);
                file.push('\n');
            }
            std::fs::write(format!("{}-{i:03}.csv", stem.display()), file).expect("written");
            files += 1;
        }
    }
    files
}

/// The export fixtures with each export cut into many files: a one-machine run of them and a
/// split in 1, 2 and 3 parts, at 1, 2, 3 and 7 shards, write the same bytes.
#[test]
fn export_fixtures_in_many_files_merge_into_the_same_bytes() {
    let mut compared = 0;
    for case in common::cases() {
        let args = common::args(&case);
        let words: Vec<&str> = args.split_whitespace().collect();
        let ["run", "--period", period] = words[..] else {
            continue;
        };
        let expected = common::tree(&case.join("expected").join("out"));
        if expected.is_empty() || !case.join("inputs").join("exports").exists() {
            continue;
        }
        let name = case
            .file_name()
            .expect("named")
            .to_string_lossy()
            .to_string();
        let scratch = Scratch::new(&format!("cut-{name}"));
        let inputs = scratch.0.join(&name);
        let files = cut_exports(&case.join("inputs"), &inputs, 5);
        assert!(files >= 2, "{name}: cut into {files} files");
        let whole = one_machine(&inputs, period, &scratch.0.join("one"), false);
        for shards in [1, 2, 3, 7] {
            for parts in [1, 2, 3] {
                let merged = sharded(
                    &inputs,
                    period,
                    shards,
                    parts,
                    &scratch.0.join(format!("stage-{shards}-{parts}")),
                    &scratch.0.join(format!("out-{shards}-{parts}")),
                    false,
                );
                same(
                    &whole,
                    &merged,
                    &format!("{name} in {files} files, {shards} shards, {parts} part(s)"),
                );
            }
        }
        compared += 1;
    }
    assert!(compared >= 5, "every export format: {compared}");
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

fn one_machine(inputs: &Path, period: &str, out: &Path, pdf: bool) -> BTreeMap<String, Vec<u8>> {
    let mut args = vec![
        "run",
        "--inputs",
        s(inputs),
        "--period",
        period,
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
    let whole = one_machine(&inputs, "2026-10", &scratch.0.join("one"), false);
    for shards in [1, 2, 3, 7] {
        let merged = sharded(
            &inputs,
            "2026-10",
            shards,
            1,
            &scratch.0.join(format!("stage-{shards}")),
            &scratch.0.join(format!("out-{shards}")),
            false,
        );
        same(&whole, &merged, &format!("{shards} shards"));
    }
}

/// The generated month with its bill lines written as FOCUS exports instead of `bills.csv`, in
/// `files` files of different sizes (a refund or a line of no known account among them), the
/// small tables, the hosting trees, the partner switches and the meter as they are.
fn generated_exports(root: &Path, files: usize) -> PathBuf {
    let inputs = generated(root);
    let bills = std::fs::read_to_string(inputs.join("bills.csv")).expect("bills");
    std::fs::remove_file(inputs.join("bills.csv")).expect("removed");
    std::fs::write(inputs.join("settle.toml"), "timezone = \"UTC\"\n").expect("written");
    let folder = inputs.join("exports").join("2026-10");
    std::fs::create_dir_all(&folder).expect("a folder");
    let header = "BillingAccountId,SubAccountId,ServiceName,ServiceCategory,ResourceId,\
                  BillingCurrency,ChargePeriodStart,ChargePeriodEnd,BillingPeriodStart,BilledCost,\
                  ListCost,ChargeCategory,ChargeFrequency";
    let mut out: Vec<String> = (0..files).map(|_| format!("{header}\n")).collect();
    let time = |t: &str| {
        if t.len() == 10 {
            format!("{t} 00:00:00")
        } else {
            t.to_string()
        }
    };
    for (i, line) in bills.lines().skip(1).enumerate() {
        let c: Vec<&str> = line.split(',').collect();
        let (start, end) = (time(c[7]), time(c[8]));
        let deducted: &str = if c[9].is_empty() { &start } else { c[9] };
        let billing = format!("{}-01 00:00:00", &deducted[..7]);
        let category = if c[5] == "prepaid" {
            "Purchase"
        } else {
            "Usage"
        };
        let frequency = match c[6] {
            "month" => "Recurring",
            "once" => "One-Time",
            _ => "Usage-Based",
        };
        let account = if i % 997 == 5 { "nobody" } else { c[1] };
        // Files of different sizes: the first takes half the lines.
        let file = if i % 2 == 0 { 0 } else { (i / 2) % files };
        out[file].push_str(&format!(
            "master,{account},{},{},{},{},{start},{end},{billing},{},{},{category},{frequency}\n",
            c[2], c[3], c[4], c[16], c[13], c[10]
        ));
    }
    for (k, text) in out.iter().enumerate() {
        std::fs::write(folder.join(format!("focus-{k:02}.csv")), text).expect("written");
    }
    inputs
}

/// The generated month as FOCUS exports in five files, split in 1, 2 and 3 parts, each part a
/// process, at 1, 2, 3 and 7 shards: the merged folder is the one-machine folder.
#[test]
fn a_generated_month_of_exports_in_parts_merges_into_the_same_bytes() {
    let scratch = Scratch::new("gen-exports");
    let inputs = generated_exports(&scratch.0, 5);
    let whole = one_machine(&inputs, "2026-10", &scratch.0.join("one"), false);
    let statements = whole.keys().filter(|f| f.contains("statement")).count();
    let rejects = String::from_utf8_lossy(&whole["rejects.csv"])
        .lines()
        .count();
    assert!(
        statements > 10 && rejects > 10,
        "{statements} statements, {rejects} rejects"
    );
    for shards in [1, 2, 3, 7] {
        for parts in [1, 2, 3] {
            let merged = sharded(
                &inputs,
                "2026-10",
                shards,
                parts,
                &scratch.0.join(format!("stage-{shards}-{parts}")),
                &scratch.0.join(format!("out-{shards}-{parts}")),
                false,
            );
            same(
                &whole,
                &merged,
                &format!("{shards} shards, split in {parts} part(s)"),
            );
        }
    }
}

/// A split whose parts write many runs (a batch of accounts each, as a month too big for one
/// batch is read): bills.csv in one part, and the exports month in three, merge into the same
/// bytes.
#[test]
fn parts_of_many_runs_merge_into_the_same_bytes() {
    let scratch = Scratch::new("runs");
    let bills = generated(&scratch.0.join("bills"));
    let exports = generated_exports(&scratch.0.join("exports"), 5);
    for (inputs, parts) in [(&bills, 1), (&exports, 3)] {
        let name = if parts == 1 { "bills" } else { "exports" };
        let whole = one_machine(
            inputs,
            "2026-10",
            &scratch.0.join(format!("one-{name}")),
            false,
        );
        let stage = scratch.0.join(format!("stage-{name}"));
        for k in 0..parts {
            let cfg = settle::shard::SplitConfig {
                inputs: inputs.clone(),
                period: "2026-10".parse().expect("a month"),
                as_of: None,
                shards: 3,
                part: settle::shard::PartOf {
                    index: k,
                    count: parts,
                },
                lines_per_batch: 1_000,
                out: stage.clone(),
            };
            let part = settle::shard::split(&cfg, &settle::progress::Quiet).expect("split");
            assert!(part.runs.len() > 2, "{name}: {} runs", part.runs.len());
        }
        for i in 0..3 {
            ok(&["run", "--shard", &format!("{i}/3"), "--stage", s(&stage)]);
        }
        let out = scratch.0.join(format!("out-{name}"));
        same(
            &whole,
            &merge(&stage, &out, false),
            &format!("{name} in many runs"),
        );
    }
}

/// A part of the split lost, or of another split: the shards and the merge name it and exit 2;
/// that part alone is split again, and the merge writes the one-machine bytes.
#[test]
fn a_lost_part_is_named_and_split_again_alone() {
    let scratch = Scratch::new("lost-part");
    let inputs = generated_exports(&scratch.0, 5);
    let whole = one_machine(&inputs, "2026-10", &scratch.0.join("one"), false);
    let stage = scratch.0.join("stage");
    let out = scratch.0.join("out");
    sharded(&inputs, "2026-10", 3, 3, &stage, &out, false);
    std::fs::remove_dir_all(&out).expect("the merged folder");
    let part0 = std::fs::read(stage.join("parts").join("0.json")).expect("part 0");
    let lost = std::fs::read(stage.join("parts").join("1.json")).expect("part 1");
    std::fs::remove_file(stage.join("parts").join("1.json")).expect("part 1");

    for args in [
        vec!["merge", "--stage", s(&stage), "--out", s(&out), "--no-pdf"],
        vec!["run", "--shard", "0/3", "--stage", s(&stage)],
    ] {
        let refused = settle(&args);
        assert_eq!(refused.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(
            stderr.contains("part(s) 1/3") && stderr.contains("--part K/3"),
            "names the missing part: {stderr}"
        );
    }
    assert!(!out.exists(), "an incomplete stage writes nothing");

    // Part 1 of a split into other shards is of another split.
    split(&inputs, "2026-10", 2, Some((1, 3)), &stage);
    let refused = settle(&["merge", "--stage", s(&stage), "--out", s(&out), "--no-pdf"]);
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("is mixed") && stderr.contains("part 1/3 cuts 2 shards, not 3"),
        "{stderr}"
    );

    split(&inputs, "2026-10", 3, Some((1, 3)), &stage);
    assert_eq!(
        std::fs::read(stage.join("parts").join("0.json")).expect("part 0"),
        part0,
        "the other parts are not split again"
    );
    // A part split again from the same inputs is the same bytes: the shards settled before
    // are still of this split.
    assert_eq!(
        std::fs::read(stage.join("parts").join("1.json")).expect("part 1"),
        lost,
        "a part is split into the same bytes"
    );
    same(&whole, &merge(&stage, &out, false), "part 1 split again");
}

#[test]
fn a_generated_month_with_its_pdfs_merges_into_the_same_bytes() {
    let scratch = Scratch::new("gen-pdf");
    let inputs = generated(&scratch.0);
    let whole = one_machine(&inputs, "2026-10", &scratch.0.join("one"), true);
    assert!(
        whole.keys().filter(|f| f.ends_with(".pdf")).count() > 10,
        "statements and rollups are written as PDFs"
    );
    let merged = sharded(
        &inputs,
        "2026-10",
        3,
        1,
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
    let whole = one_machine(&inputs, "2026-10", &scratch.0.join("one"), false);
    let stage = scratch.0.join("stage");
    let out = scratch.0.join("out");
    sharded(&inputs, "2026-10", 3, 1, &stage, &out, false);
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
    sharded(
        &inputs,
        "2026-10",
        2,
        1,
        &a,
        &scratch.0.join("out-a"),
        false,
    );
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
    std::fs::write(&path, text.replacen("{\"format\":2,", "{\"format\":99,", 1)).expect("written");
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
