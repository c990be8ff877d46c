//! What the fixture tests share: where the cases are, and reading a folder's files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("fixtures")
}

/// Every case folder under `tests/fixtures/`, sorted.
pub fn cases() -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(fixtures())
        .expect("tests/fixtures exists")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.join("inputs").is_dir())
        .collect();
    cases.sort();
    assert!(!cases.is_empty(), "no fixture cases found");
    cases
}

/// The arguments a case runs with, before `--inputs`.
pub fn args(case: &Path) -> String {
    std::fs::read_to_string(case.join("cmd")).unwrap_or_else(|_| "run --period 2026-10".into())
}

/// Every file under `dir`, by path relative to it.
pub fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries {
            let path = e.expect("readable dir entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path
                    .strip_prefix(dir)
                    .expect("inside dir")
                    .to_string_lossy()
                    .replace('\\', "/");
                out.insert(rel, std::fs::read(&path).expect("readable file"));
            }
        }
    }
    out
}
