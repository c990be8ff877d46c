//! The fuzzers' seconds-long smoke run: every input of the committed corpus (`fuzz/corpus/`) goes
//! through its target, as `make fuzz` runs them under AFL++, and none may panic or break what the
//! target checks. Inputs the long runs found interesting are added to the corpus, so this replays
//! them too, and so are the inputs of crashes and hangs that were fixed (`crash-*`, `hang-*`). Each
//! call must return: an input is taken or refused with a dataset error, never a panic. It needs no
//! fuzzer installed; the Parquet corpus goes through polars when the `parquet` feature is on (the
//! default), and is refused with its hint without it.

use std::path::Path;

fn replay(target: &str, run: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz")
        .join("corpus")
        .join(target);
    let mut inputs: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("an entry").path())
        .collect();
    inputs.sort();
    assert!(!inputs.is_empty(), "the `{target}` corpus has inputs");
    for input in &inputs {
        let bytes = std::fs::read(input).expect("a corpus input");
        run(&bytes);
    }
}

#[test]
fn the_row_splitter_corpus() {
    replay("rows", settle::fuzz::rows);
}

#[test]
fn the_cell_parser_corpus() {
    replay("cells", settle::fuzz::cells);
}

#[test]
fn the_dataset_corpus() {
    replay("dataset", settle::fuzz::dataset);
}

#[test]
fn the_focus_csv_export_corpus() {
    replay("focus_csv", settle::fuzz::focus_csv);
}

#[test]
fn the_alibaba_export_corpus() {
    replay("alibaba", settle::fuzz::alibaba);
}

#[test]
fn the_tencent_export_corpus() {
    replay("tencent", settle::fuzz::tencent);
}

#[test]
fn the_huawei_export_corpus() {
    replay("huawei", settle::fuzz::huawei);
}

#[test]
fn the_parquet_export_corpus() {
    replay("parquet", settle::fuzz::parquet);
}

/// A target's entry in `settle::fuzz`.
type Target = fn(&[u8]);

/// Every target, by the name `make fuzz` gives it.
const TARGETS: &[(&str, Target)] = &[
    ("rows", settle::fuzz::rows),
    ("cells", settle::fuzz::cells),
    ("dataset", settle::fuzz::dataset),
    ("focus_csv", settle::fuzz::focus_csv),
    ("alibaba", settle::fuzz::alibaba),
    ("tencent", settle::fuzz::tencent),
    ("huawei", settle::fuzz::huawei),
    ("parquet", settle::fuzz::parquet),
];

/// One input, read from stdin, through the target that `SETTLE_FUZZ_TARGET` names, aborting on a
/// panic so that a fuzzer sees a crash. For trying an input AFL++ found without the fuzz crate
/// (`SETTLE_FUZZ_TARGET=alibaba target/release/deps/fuzz_corpus-* --ignored --exact
/// one_input_from_stdin < input`), and for AFL++'s non-instrumented mode on the `parquet` target
/// with this build's polars (docs/development.md). Without the variable it does nothing.
#[test]
#[ignore = "reads an input from stdin when SETTLE_FUZZ_TARGET is set"]
fn one_input_from_stdin() {
    let Ok(target) = std::env::var("SETTLE_FUZZ_TARGET") else {
        return;
    };
    let Some(&(_, run)) = TARGETS.iter().find(|(name, _)| *name == target) else {
        panic!("no fuzz target `{target}`");
    };
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut std::io::stdin(), &mut bytes).expect("stdin");
    if std::panic::catch_unwind(|| run(&bytes)).is_err() {
        std::process::abort();
    }
}
