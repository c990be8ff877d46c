//! The settled periods under `DIR`, and what each one's `manifest.json` says about its files.
//!
//! A settled period is a folder `DIR/<dataset>/<period>/` whose name is a month (`YYYY-MM`), or a
//! restatement of one (`YYYY-MM-r<n>`, R9), and which holds `manifest.json`: `settle run` renames a period into place only once it is whole,
//! so its staging (`.<period>.tmp-<pid>`) and scratch (`.<period>.scratch-<pid>`) folders are
//! never listed, nor any folder whose real path (symlinks followed) leaves `DIR`. Only the
//! manifest's `state`, `outputs` and `reconciliation` are read, and a restatement's `amends`;
//! the rest belongs to `settle run`. A restatement's own manifest lists what changed; the whole
//! month as restated is in its `restated/` folder, whose manifest's outputs are served too, under
//! that prefix, and whose `as_of` and reconciliation stand for the restatement's.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::model::period::Month;

use super::paths::{folder_inside, inside, listable};
use super::scope::MANIFEST;

/// One settled period folder.
#[derive(Debug, Clone)]
pub struct Settled {
    pub dataset: String,
    /// The folder's name: the month, or `<month>-r<n>` for a restatement.
    pub period: String,
    /// The restatement's number; `None` for a month.
    pub restatement: Option<u32>,
    /// Canonical.
    pub folder: PathBuf,
}

/// The part of `manifest.json` the portal shows.
#[derive(Debug, Deserialize)]
pub struct Manifest {
    /// A restatement's own manifest has none: its `restated/` month's is taken.
    #[serde(default)]
    pub as_of: String,
    /// `closed` for a month of record; anything else (`draft`, or none) is a draft.
    #[serde(default)]
    pub state: Option<String>,
    pub outputs: Vec<Output>,
    #[serde(default)]
    pub reconciliation: Vec<FindingSummary>,
    /// A restatement: the folder it amends (the month of record or the restatement before).
    #[serde(default)]
    pub amends: Option<String>,
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
        let mut periods: Vec<((Month, u32), String)> = names(&dataset_dir)
            .into_iter()
            .filter_map(|p| Some((period_name(&p)?, p)))
            .collect();
        // Newest first: a month's restatements, latest first, above the month they amend.
        periods.sort_by_key(|p| std::cmp::Reverse(p.0));
        let periods = periods.into_iter().map(|(_, p)| p);
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
    if !listable(dataset) || !listable(period) {
        return None;
    }
    let (_, n) = period_name(period)?;
    let folder = folder_inside(root, &[dataset, period])?;
    inside(root, &folder, MANIFEST)?;
    Some(Settled {
        dataset: dataset.to_string(),
        period: period.to_string(),
        restatement: (n > 0).then_some(n),
        folder,
    })
}

/// The month a period folder's name gives, and its restatement's number (0 for the month
/// itself); `None` for any other name. Only the canonical spelling counts (`2026-10-r1`, not
/// `2026-10-r01` or `2026-10-r0`), so that one period has one address.
pub fn period_name(name: &str) -> Option<(Month, u32)> {
    let (month, n) = match name.split_once("-r") {
        Some((month, n)) => {
            let n: u32 = n.parse().ok()?;
            (n > 0 && n.to_string() == name[month.len() + 2..]).then_some((month, n))?
        }
        None => (name, 0),
    };
    let parsed: Month = month.parse().ok()?;
    (parsed.to_string() == month).then_some((parsed, n))
}

/// The period's manifest; `None` if it cannot be read as one (the period is then not served).
/// A restatement's is completed from its `restated/` month: its outputs under that prefix, its
/// `as_of` and its reconciliation summary.
pub fn manifest(period: &Settled) -> Option<Manifest> {
    let read = |folder: &Path| -> Option<Manifest> {
        let bytes = std::fs::read(folder.join(MANIFEST)).ok()?;
        serde_json::from_slice(&bytes).ok()
    };
    let mut manifest = read(&period.folder)?;
    if period.restatement.is_some() {
        let restated = read(&period.folder.join(crate::restate::RESTATED))?;
        manifest.as_of = restated.as_of;
        manifest.reconciliation = restated.reconciliation;
        manifest
            .outputs
            .extend(restated.outputs.into_iter().map(|o| Output {
                file: restated_path(&o.file),
                ..o
            }));
    }
    Some(manifest)
}

/// `path` of a restatement's month as restated, as its outputs are listed: under `restated/`.
pub fn restated_path(path: &str) -> String {
    format!("{}/{path}", crate::restate::RESTATED)
}

/// The path inside a restatement's `restated/` folder, if `path` is there.
pub fn under_restated(path: &str) -> Option<&str> {
    path.strip_prefix(crate::restate::RESTATED)?
        .strip_prefix('/')
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
