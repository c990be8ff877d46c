//! `settle run --json`: one JSON object on stdout when a run ends, for a scheduler or an alerting
//! job to read rather than parse the human messages on stderr.
//!
//! A run that wrote its folder is summed up from the `manifest.json` it committed, so the summary
//! and the manifest never disagree: rows per input, findings per kind and currency, and every
//! output with its SHA-256 (`manifest.json`'s own included). A run that failed says so, with its
//! exit code and its error, and whatever it knew by then.

use std::path::Path;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use crate::digest::sha256_hex;
use crate::model::reject::Reject;
use crate::pipeline::Known;

/// The summary object. Fields a failed run could not know are `null` or empty.
#[derive(Debug, Default, Serialize)]
pub struct Summary {
    /// `ok` or `failed`.
    pub status: &'static str,
    /// The process exit code: 0, 1, 2 or 3 (see README).
    pub exit_code: u8,
    pub dataset: Option<String>,
    pub period: Option<String>,
    /// The period folder written.
    pub folder: Option<String>,
    /// Per input file: `file`, `present`, `lines`, `rows_in`, `rows_used`, `rows_rejected`.
    pub inputs: Vec<Value>,
    pub rows_rejected: u64,
    /// Per finding kind and currency: `finding`, `currency`, `count`, `difference`.
    pub findings: Vec<Value>,
    /// Every file written: `file`, `sha256`, `bytes`.
    pub outputs: Vec<Value>,
    pub warnings: Vec<String>,
    pub error: Option<String>,
    pub elapsed_seconds: f64,
}

impl Summary {
    /// A run that wrote `folder`, summed up from its `manifest.json`.
    pub fn ok(folder: &Path, warnings: Vec<String>, elapsed: Duration) -> Summary {
        let mut s = Summary {
            status: "ok",
            folder: Some(folder.display().to_string()),
            warnings,
            elapsed_seconds: seconds(elapsed),
            ..Summary::default()
        };
        let bytes = std::fs::read(folder.join("manifest.json")).unwrap_or_default();
        let Ok(manifest) = serde_json::from_slice::<Value>(&bytes) else {
            s.error = Some("`manifest.json` could not be read back".into());
            return s;
        };
        let text = |key: &str| manifest.get(key).and_then(Value::as_str).map(String::from);
        s.dataset = text("dataset");
        s.period = text("period");
        let list = |key: &str| {
            manifest
                .get(key)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        };
        s.inputs = list("inputs")
            .into_iter()
            .map(|i| {
                pick(
                    &i,
                    &[
                        "file",
                        "present",
                        "lines",
                        "rows_in",
                        "rows_used",
                        "rows_rejected",
                    ],
                )
            })
            .collect();
        s.rows_rejected = s
            .inputs
            .iter()
            .filter_map(|i| i.get("rows_rejected").and_then(Value::as_u64))
            .sum();
        s.findings = list("reconciliation");
        s.outputs = list("outputs");
        s.outputs.push(serde_json::json!({
            "file": "manifest.json",
            "sha256": sha256_hex(&bytes),
            "bytes": bytes.len(),
        }));
        s
    }

    /// A run that failed with `exit_code`, knowing what `known` says; `rejects` are the rows
    /// `--strict` refused.
    pub fn failed(
        exit_code: u8,
        error: String,
        known: Known,
        rejects: &[Reject],
        elapsed: Duration,
    ) -> Summary {
        Summary {
            status: "failed",
            exit_code,
            dataset: known.dataset,
            period: known.period.map(|m| m.to_string()),
            warnings: known.warnings,
            rows_rejected: rejects.len() as u64,
            error: Some(error),
            elapsed_seconds: seconds(elapsed),
            ..Summary::default()
        }
    }

    /// The summary as one line of JSON, with its line end.
    pub fn to_line(&self) -> String {
        let mut line = serde_json::to_string(self).unwrap_or_else(|_| "{}".into());
        line.push('\n');
        line
    }
}

/// Seconds to the millisecond.
fn seconds(d: Duration) -> f64 {
    d.as_millis() as f64 / 1000.0
}

/// The fields of object `v` named in `keys`, in that order.
fn pick(v: &Value, keys: &[&str]) -> Value {
    Value::Object(
        keys.iter()
            .filter_map(|k| v.get(*k).map(|x| ((*k).to_string(), x.clone())))
            .collect(),
    )
}
