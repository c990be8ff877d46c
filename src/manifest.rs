//! `manifest.json`: what a run read, what it wrote, and whether the money adds up.
//!
//! Every input is listed with its SHA-256 and its row counts (rows in = rows used + rows
//! rejected), every output with its SHA-256, and each currency with a conservation check: the
//! payable of the bill lines the run used must equal what the outputs attribute, to the last
//! decimal. Amounts are exact decimal strings.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Serialize;

use crate::config::Settings;
use crate::ingest::{Dataset, InputFile};
use crate::model::money::{Rounding, format_2dp, round};
use crate::rules::reconcile::{Finding, Kind};

#[derive(Serialize)]
pub struct Manifest<'a> {
    pub tool: &'static str,
    pub version: &'static str,
    pub dataset: &'a str,
    pub period: String,
    pub period_start: String,
    pub period_end: String,
    pub as_of: String,
    pub settings: &'a Settings,
    /// `exports` when `accounts.csv` was absent and the accounts were taken from the exports.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accounts_from: Option<&'static str>,
    pub inputs: Vec<InputEntry>,
    pub outputs: Vec<OutputEntry>,
    pub conservation: Vec<Conservation>,
    pub reconciliation: &'a [FindingSummary],
}

/// Findings of one kind in one currency: how many, and their total difference (billed −
/// expected, as printed).
#[derive(Debug, Clone, Serialize)]
pub struct FindingSummary {
    pub finding: &'static str,
    pub currency: String,
    pub count: usize,
    pub difference: String,
}

/// Counts and total difference per finding kind and currency, in SPEC order of kinds.
pub fn findings_summary(findings: &[Finding], rounding: Rounding) -> Vec<FindingSummary> {
    let mut sums: BTreeMap<(Kind, &str), (usize, Decimal)> = BTreeMap::new();
    for f in findings {
        let s = sums.entry((f.kind, &f.currency)).or_default();
        s.0 += 1;
        s.1 += round(f.billed, rounding) - round(f.expected, rounding);
    }
    sums.into_iter()
        .map(|((kind, currency), (count, difference))| FindingSummary {
            finding: kind.as_str(),
            currency: currency.to_string(),
            count,
            difference: format_2dp(difference),
        })
        .collect()
}

#[derive(Serialize)]
pub struct InputEntry {
    pub file: &'static str,
    pub present: bool,
    pub sha256: Option<String>,
    pub rows_in: u64,
    pub rows_used: u64,
    pub rows_rejected: u64,
    pub unknown_columns: Vec<String>,
    /// Export files only.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub export: Option<ExportEntry>,
}

/// What the manifest says of an export file besides its rows.
#[derive(Serialize)]
pub struct ExportEntry {
    /// `focus`, `alibaba`, `tencent` or `huawei`.
    pub format: &'static str,
    /// `header` when recognised from the file's columns, `settle.toml` when pinned there.
    pub format_from: &'static str,
    /// Of the rows used, those that are not charges (FOCUS `Tax`, subtotal rows): set aside by
    /// that rule rather than folded as bill lines.
    pub rows_not_charges: u64,
    /// Of the rows used, the lines marked as corrections (FOCUS `ChargeClass = Correction`).
    pub rows_corrections: u64,
}

#[derive(Serialize)]
pub struct OutputEntry {
    pub file: String,
    pub sha256: String,
    pub bytes: usize,
}

/// One currency's balance: what the used bill lines hold against what each output attributes.
#[derive(Serialize)]
pub struct Conservation {
    pub currency: String,
    /// Σ payable of the used bill lines, by the period they were selected for.
    pub bill_lines: BTreeMap<&'static str, String>,
    /// Σ of what each output attributes, named `<output>.<period>`.
    pub attributed: BTreeMap<&'static str, String>,
    pub balanced: bool,
}

/// Σ payable of the bill lines, by the selection they were picked for.
type Source = BTreeMap<&'static str, Decimal>;
/// What outputs attribute: `(label, selection, amount)`.
type Attributed = Vec<(&'static str, &'static str, Decimal)>;

/// Per-currency sums on both sides, keyed by the period the lines were selected for.
#[derive(Default)]
pub struct Ledger {
    sides: BTreeMap<String, (Source, Attributed)>,
}

impl Ledger {
    /// Records the source side: Σ payable of the bill lines selected for `selection`.
    pub fn source(&mut self, currency: &str, selection: &'static str, amount: Decimal) {
        *self
            .sides
            .entry(currency.to_string())
            .or_default()
            .0
            .entry(selection)
            .or_default() += amount;
    }

    /// Records what an output attributes for `selection`, under the name `label`.
    pub fn attributed(
        &mut self,
        currency: &str,
        selection: &'static str,
        label: &'static str,
        amount: Decimal,
    ) {
        let side = &mut self.sides.entry(currency.to_string()).or_default().1;
        match side.iter_mut().find(|(l, _, _)| *l == label) {
            Some(entry) => entry.2 += amount,
            None => side.push((label, selection, amount)),
        }
    }

    pub fn checks(&self) -> Vec<Conservation> {
        self.sides
            .iter()
            .map(|(currency, (source, outputs))| Conservation {
                currency: currency.clone(),
                bill_lines: source
                    .iter()
                    .map(|(k, v)| (*k, v.normalize().to_string()))
                    .collect(),
                attributed: outputs
                    .iter()
                    .map(|(l, _, v)| (*l, v.normalize().to_string()))
                    .collect(),
                balanced: outputs
                    .iter()
                    .all(|(_, sel, v)| source.get(sel).copied().unwrap_or_default() == *v),
            })
            .collect()
    }
}

pub fn inputs(data: &Dataset) -> Vec<InputEntry> {
    data.inputs
        .iter()
        .map(|i: &InputFile| {
            let rejected = data
                .rejects
                .iter()
                .filter(|r| r.file == i.spec.name)
                .count() as u64;
            InputEntry {
                file: i.spec.name,
                present: i.sha256.is_some(),
                sha256: i.sha256.clone(),
                rows_in: i.rows,
                rows_used: i.rows - rejected,
                rows_rejected: rejected,
                unknown_columns: i.unknown_columns.clone(),
                export: i.export.as_ref().map(|e| ExportEntry {
                    format: e.format.as_str(),
                    format_from: if e.recognised {
                        "header"
                    } else {
                        "settle.toml"
                    },
                    rows_not_charges: e.not_charges,
                    rows_corrections: e.corrections,
                }),
            }
        })
        .collect()
}
