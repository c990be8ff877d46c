//! What a delivery holds: every export file below `exports/`, at any depth.
//!
//! AWS (CUR and Data Exports) and Azure Cost Management deliver a month's export in nested
//! folders (`<export>/data/BILLING_PERIOD=2024-09/…-00001.csv.gz`,
//! `<export>/20240901-20240930/<run>/part_0_0001.csv.gz`), and a finance team copies that tree as
//! it is. A file found only at the top would drop the rest of the month without a word, so the
//! whole tree is walked. Each file is named by its path below `exports/`, which keeps the row ids
//! of two files of the same name in two folders apart.

use std::path::{Path, PathBuf};

use crate::error::DatasetError;
use crate::ingest::exports::Kind;

/// One export file found: its path below `exports/` (`/`-separated), where it is, and how it is
/// stored.
pub struct Found {
    pub relative: String,
    pub path: PathBuf,
    pub kind: Kind,
}

/// How a file's name says it is stored, or `None` for a file that is no export.
pub fn kind_of(name: &str) -> Option<Kind> {
    let lower = name.to_lowercase();
    if lower.ends_with(".csv.gz") {
        Some(Kind::CsvGz)
    } else if lower.ends_with(".csv") {
        Some(Kind::Csv)
    } else if lower.ends_with(".parquet") {
        Some(Kind::Parquet)
    } else {
        None
    }
}

/// Every export file below `folder`, in the order of their relative paths. Hidden files and
/// folders (`.name`) are passed over, and so is a folder reached through a link, which could
/// lead back up the tree.
pub fn walk(folder: &Path) -> Result<Vec<Found>, DatasetError> {
    let mut found = Vec::new();
    let mut pending = vec![(folder.to_path_buf(), String::new())];
    while let Some((dir, prefix)) = pending.pop() {
        let io = |source| DatasetError::Io {
            path: dir.clone(),
            source,
        };
        for entry in std::fs::read_dir(&dir).map_err(io)? {
            let entry = entry.map_err(io)?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            let path = entry.path();
            let relative = format!("{prefix}{name}");
            if entry.file_type().map_err(io)?.is_dir() {
                pending.push((path, format!("{relative}/")));
            } else if let Some(kind) = kind_of(&name)
                && path.is_file()
            {
                found.push(Found {
                    relative,
                    path,
                    kind,
                });
            }
        }
    }
    found.sort_by(|a, b| a.relative.cmp(&b.relative));
    Ok(found)
}
