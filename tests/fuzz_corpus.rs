//! The fuzzers' seconds-long smoke run: every input of the committed corpus (`fuzz/corpus/`) goes
//! through its target, as `make fuzz` runs them under AFL++, and none may panic or break what the
//! target checks. Inputs the long runs found interesting are added to the corpus, so this replays
//! them too. It needs no fuzzer installed.

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
