//! What the reliability tests share: small datasets made in a temporary folder, the real binary,
//! and a check that a period folder is whole (every file `manifest.json` lists is there with its
//! SHA-256, and nothing else is).
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

pub const ACCOUNTS: &str = "account_id,account_name,entity_name,title_kind,discount_rate\n\
acc-1,Acme,Acme Ltd,enterprise,0.1\n\
acc-2,Beta,Beta Ltd,enterprise,0\n";

pub const BILLS_HEADER: &str = "bill_id,account_id,product,sub_product,resource_id,payment_mode,\
billing_cycle,charge_start,charge_end,deducted_at,list_amount,discount_amount,voucher_amount,\
payable_amount,payment_status,paid_with,currency\n";

pub const USAGE_HEADER: &str = "usage_id,account_id,product,sub_product,resource_id,start,end,quantity,unit,unit_price,currency\n";

/// A bill line of October 2026 for `account`, with payable `amount`.
pub fn bill(id: &str, account: &str, amount: &str) -> String {
    format!(
        "{id},{account},cvm,,r-{id},postpaid,day,2026-10-03,2026-10-04,2026-10-04 01:00:00,\
         {amount},0,0,{amount},paid,cash,CNY\n"
    )
}

/// A temporary folder, removed when dropped.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("settle-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a scratch folder");
        Scratch(dir)
    }

    /// Writes a dataset folder `name` with `files` (and an empty `settle.toml` unless given).
    pub fn dataset(&self, name: &str, files: &[(&str, &str)]) -> PathBuf {
        let dir = self.0.join(name);
        std::fs::create_dir_all(&dir).expect("a dataset folder");
        std::fs::write(dir.join("settle.toml"), "").expect("settle.toml");
        for (file, text) in files {
            std::fs::write(dir.join(file), text).expect("an input file");
        }
        dir
    }

    /// A copy of `inputs/demo` (its files, not its sub-folders) named `name`, to change freely.
    pub fn copy_demo(&self, name: &str) -> PathBuf {
        let dir = self.0.join(name);
        std::fs::create_dir_all(&dir).expect("a dataset folder");
        let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("inputs/demo");
        for entry in std::fs::read_dir(demo).expect("the demo") {
            let entry = entry.expect("an entry");
            if entry.path().is_file() {
                std::fs::copy(entry.path(), dir.join(entry.file_name())).expect("a copy");
            }
        }
        dir
    }

    pub fn out(&self) -> PathBuf {
        self.0.join("out")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `settle run --inputs <inputs> --period 2026-10 --out <out> --no-pdf`, plus `extra`.
pub fn run(inputs: &Path, out: &Path, extra: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_settle"));
    c.arg("run")
        .arg("--inputs")
        .arg(inputs)
        .args(["--period", "2026-10", "--out"])
        .arg(out)
        .arg("--no-pdf")
        .args(extra);
    c
}

pub fn validate(inputs: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_settle"));
    c.arg("validate").arg("--inputs").arg(inputs);
    c
}

pub fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub fn manifest(folder: &Path) -> serde_json::Value {
    let bytes = std::fs::read(folder.join("manifest.json")).expect("manifest.json");
    serde_json::from_slice(&bytes).expect("manifest.json is JSON")
}

/// Checks that `folder` is a whole period folder: each output `manifest.json` lists is there
/// once with its SHA-256, and no other file is. Returns the manifest.
pub fn assert_whole(folder: &Path) -> serde_json::Value {
    let m = manifest(folder);
    let mut listed = BTreeSet::new();
    for o in m["outputs"].as_array().expect("outputs") {
        let file = o["file"].as_str().expect("a file name");
        assert!(listed.insert(file.to_string()), "`{file}` is listed twice");
        let bytes = std::fs::read(folder.join(file))
            .unwrap_or_else(|e| panic!("`{file}` is missing from {}: {e}", folder.display()));
        assert_eq!(
            o["sha256"].as_str(),
            Some(sha256(&bytes).as_str()),
            "`{file}` has the SHA-256 the manifest says"
        );
    }
    listed.insert("manifest.json".to_string());
    let found: BTreeSet<String> = files(folder).into_iter().collect();
    assert_eq!(found, listed, "the folder holds what the manifest lists");
    m
}

/// Every file under `dir`, by path relative to it with `/`.
pub fn files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = e.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(dir).expect("inside").to_string_lossy();
                out.push(rel.replace('\\', "/"));
            }
        }
    }
    out.sort();
    out
}

/// The rows of a CSV output, without its BOM and header.
pub fn csv_rows(path: &Path) -> Vec<Vec<String>> {
    let bytes = std::fs::read(path).expect("a CSV output");
    let text = String::from_utf8(bytes).expect("UTF-8");
    let mut reader = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    reader
        .records()
        .map(|r| r.expect("a record").iter().map(String::from).collect())
        .collect()
}

/// Every file under `dir` with its SHA-256.
pub fn tree_sha(dir: &Path) -> Vec<(String, String)> {
    files(dir)
        .into_iter()
        .map(|f| {
            let bytes = std::fs::read(dir.join(&f)).expect("readable");
            (f, sha256(&bytes))
        })
        .collect()
}

/// The names in folder `dir`, sorted.
pub fn files_and_folders(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("a folder")
        .map(|e| {
            e.expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}
