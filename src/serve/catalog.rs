//! The settled periods under `DIR`, and what each one's `manifest.json` says about its files.
//!
//! A settled period is a folder `DIR/<dataset>/<period>/` whose name is a month (`YYYY-MM`) and
//! which holds `manifest.json`: `settle run` renames a period into place only once it is whole,
//! so its staging (`.<period>.tmp-<pid>`) and scratch (`.<period>.scratch-<pid>`) folders are
//! never listed, nor any folder whose real path (symlinks followed) leaves `DIR`. Only the
//! manifest's `state`, `outputs` and `reconciliation` are read; the rest belongs to `settle run`.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::model::period::Month;

use super::paths::{folder_inside, inside, listable};
use super::scope::MANIFEST;

/// One settled period folder.
#[derive(Debug, Clone)]
pub struct Settled {
    pub dataset: String,
    pub period: String,
    /// Canonical.
    pub folder: PathBuf,
}

/// The part of `manifest.json` the portal shows.
#[derive(Debug, Deserialize)]
pub struct Manifest {
    pub as_of: String,
    /// `closed` for a month of record; anything else (`draft`, or none) is a draft.
    #[serde(default)]
    pub state: Option<String>,
    pub outputs: Vec<Output>,
    #[serde(default)]
    pub reconciliation: Vec<FindingSummary>,
}

impl Manifest {
    /// Whether the period is published: a closed month of record, which partners and masters
    /// may see (R9). Finance also sees drafts.
    pub fn published(&self) -> bool {
        self.state.as_deref() == Some(crate::manifest::CLOSED)
    }
}

#[derive(Debug, Deserialize)]
pub struct Output {
    pub file: String,
    pub sha256: String,
    pub bytes: u64,
}

#[derive(Debug, Deserialize)]
pub struct FindingSummary {
    pub finding: String,
    pub currency: String,
    pub count: u64,
    pub difference: String,
}

/// Every settled period under `root` (canonical): datasets by name, each one's periods newest
/// first.
pub fn settled(root: &Path) -> Vec<Settled> {
    let mut out = Vec::new();
    for dataset in names(root) {
        let Some(dataset_dir) = folder_inside(root, &[&dataset]) else {
            continue;
        };
        let mut periods: Vec<String> = names(&dataset_dir)
            .into_iter()
            .filter(|p| p.parse::<Month>().is_ok_and(|m| m.to_string() == *p))
            .collect();
        periods.sort_by(|a, b| b.cmp(a));
        for period in periods {
            if let Some(found) = find(root, &dataset, &period) {
                out.push(found);
            }
        }
    }
    out
}

/// The settled period `<dataset>/<period>`, if it is one.
pub fn find(root: &Path, dataset: &str, period: &str) -> Option<Settled> {
    if !listable(dataset) || !listable(period) || period.parse::<Month>().is_err() {
        return None;
    }
    let folder = folder_inside(root, &[dataset, period])?;
    inside(root, &folder, MANIFEST)?;
    Some(Settled {
        dataset: dataset.to_string(),
        period: period.to_string(),
        folder,
    })
}

/// The period's manifest; `None` if it cannot be read as one (the period is then not served).
pub fn manifest(period: &Settled) -> Option<Manifest> {
    let bytes = std::fs::read(period.folder.join(MANIFEST)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// The listable names in a folder, sorted.
fn names(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| listable(n))
        .collect();
    names.sort();
    names
}
