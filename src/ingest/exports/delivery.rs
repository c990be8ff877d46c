//! What a delivery holds: every export file below `exports/`, at any depth.
//!
//! AWS (CUR and Data Exports) and Azure Cost Management deliver a month's export in nested
//! folders (`<export>/data/BILLING_PERIOD=2024-09/…-00001.csv.gz`,
//! `<export>/20240901-20240930/<run>/part_0_0001.csv.gz`), and a finance team copies that tree as
//! it is. A file found only at the top would drop the rest of the month without a word, so the
//! whole tree is walked. Each file is named by its path below `exports/`, which keeps the row ids
//! of two files of the same name in two folders apart.
//!
//! Walking a tree also finds what a flat folder hid: the same delivery copied in twice, or an
//! older run kept beside the latest. So two files with the same bytes are an error naming both,
//! and a delivery's own manifest (AWS `Manifest.json`, Azure `manifest.json`) is honoured: a file
//! it lists must be there, and a file in its folder that it does not list is from another
//! delivery.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

use crate::digest::hex;
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

/// Every regular file below `folder`, with its path below it, in that order. Hidden files and
/// folders (`.name`) are passed over, and so is a folder reached through a link, which could
/// lead back up the tree.
fn files(folder: &Path) -> Result<Vec<(PathBuf, String)>, DatasetError> {
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
            } else if path.is_file() {
                found.push((path, relative));
            }
        }
    }
    found.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(found)
}

/// Every export file below `folder`, in the order of their paths below it, checked against the
/// delivery's own manifests and for files read twice.
pub fn walk(folder: &Path) -> Result<Vec<Found>, DatasetError> {
    let found: Vec<Found> = files(folder)?
        .into_iter()
        .filter_map(|(path, relative)| {
            let name = relative.rsplit('/').next().unwrap_or(&relative);
            kind_of(name).map(|kind| Found {
                relative,
                path,
                kind,
            })
        })
        .collect();
    check_manifests(folder, &found)?;
    same_bytes(&found)?;
    Ok(found)
}

/// Two files with the same bytes (the same delivery copied twice, a file copied beside itself)
/// would count every charge twice: an error naming both. Only files of one size are hashed.
fn same_bytes(found: &[Found]) -> Result<(), DatasetError> {
    let mut by_size: BTreeMap<u64, Vec<&Found>> = BTreeMap::new();
    for f in found {
        let size = std::fs::metadata(&f.path)
            .map_err(|source| DatasetError::Io {
                path: f.path.clone(),
                source,
            })?
            .len();
        by_size.entry(size).or_default().push(f);
    }
    let mut seen: BTreeMap<String, &Found> = BTreeMap::new();
    for group in by_size.values().filter(|g| g.len() > 1) {
        for f in group {
            if let Some(first) = seen.insert(digest(&f.path)?, f) {
                return Err(DatasetError::SameExport {
                    first: format!("{}/{}", super::FOLDER, first.relative),
                    second: format!("{}/{}", super::FOLDER, f.relative),
                });
            }
        }
    }
    Ok(())
}

/// The SHA-256 of a file, read in blocks.
pub fn digest(path: &Path) -> Result<String, DatasetError> {
    let io = |source| DatasetError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut f = std::fs::File::open(path).map_err(io)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf).map_err(io)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

/// Whether a file's name is a delivery's own manifest: AWS CUR's `<report>-Manifest.json`, AWS
/// Data Exports' `Manifest.json`, Azure's `manifest.json`.
fn is_manifest(name: &str) -> bool {
    name.to_lowercase().ends_with("manifest.json")
}

/// A delivery's own manifest: where it is below `exports/`, and the files it lists, as the
/// cloud names them (an S3 key or URI, an Azure blob name).
pub struct Manifest {
    pub relative: String,
    pub listed: Vec<String>,
}

impl Manifest {
    /// Reads a manifest's list of files: AWS CUR `reportKeys`, AWS Data Exports `dataFiles`,
    /// Azure `blobs[].blobName`.
    fn read(path: &Path, relative: String) -> Result<Manifest, DatasetError> {
        let bad = |reason: String| DatasetError::ExportManifest {
            file: format!("{}/{relative}", super::FOLDER),
            reason,
        };
        let text = std::fs::read(path).map_err(|e| DatasetError::Io {
            path: path.to_path_buf(),
            source: e,
        })?;
        let json: serde_json::Value =
            serde_json::from_slice(&text).map_err(|e| bad(format!("not JSON ({e})")))?;
        let mut listed = Vec::new();
        for key in ["reportKeys", "dataFiles"] {
            if let Some(keys) = json.get(key).and_then(|v| v.as_array()) {
                listed.extend(keys.iter().filter_map(|k| k.as_str()).map(str::to_string));
            }
        }
        if let Some(blobs) = json.get("blobs").and_then(|v| v.as_array()) {
            listed.extend(
                blobs
                    .iter()
                    .filter_map(|b| b.get("blobName").and_then(|n| n.as_str()))
                    .map(str::to_string),
            );
        }
        if listed.is_empty() {
            return Err(bad(
                "it lists no file under `reportKeys`, `dataFiles` or `blobs`".into(),
            ));
        }
        Ok(Manifest { relative, listed })
    }

    /// The folder below `exports/` the manifest sits in, with a trailing `/` (empty at the top).
    fn folder(&self) -> &str {
        self.relative
            .rfind('/')
            .map_or("", |i| &self.relative[..=i])
    }
}

/// Whether a file the cloud names `key` is the file found at `relative` below `exports/`: the
/// one path ends with the other, whole folder names at a time (the copy keeps the delivery's
/// last folders, the key has the bucket and prefix before them).
pub fn is_copy_of(key: &str, relative: &str) -> bool {
    let at_boundary =
        |long: &str, short: &str| long == short || long.ends_with(&format!("/{short}"));
    at_boundary(key, relative) || at_boundary(relative, key.trim_start_matches('/'))
}

/// Checks the files found against every delivery manifest below `folder`: a file a manifest
/// lists must be there, and a file in a manifest's folder (or below it) that it does not list
/// belongs to another delivery.
pub fn check_manifests(folder: &Path, found: &[Found]) -> Result<(), DatasetError> {
    for manifest in manifests(folder)? {
        for key in &manifest.listed {
            if !found.iter().any(|f| is_copy_of(key, &f.relative)) {
                return Err(DatasetError::ExportListedMissing {
                    manifest: format!("{}/{}", super::FOLDER, manifest.relative),
                    listed: key.clone(),
                });
            }
        }
        let below = manifest.folder();
        if let Some(stray) = found.iter().find(|f| {
            f.relative.starts_with(below)
                && !manifest.listed.iter().any(|k| is_copy_of(k, &f.relative))
        }) {
            return Err(DatasetError::ExportNotListed {
                file: format!("{}/{}", super::FOLDER, stray.relative),
                manifest: format!("{}/{}", super::FOLDER, manifest.relative),
            });
        }
    }
    Ok(())
}

/// Every delivery manifest below `folder`, read.
fn manifests(folder: &Path) -> Result<Vec<Manifest>, DatasetError> {
    let mut out = Vec::new();
    for (path, relative) in files(folder)? {
        let name = relative.rsplit('/').next().unwrap_or(&relative);
        if is_manifest(name) {
            out.push(Manifest::read(&path, relative)?);
        }
    }
    Ok(out)
}
