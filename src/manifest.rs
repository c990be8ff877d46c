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
use crate::model::basis::Basis;
use crate::view::inputs::InputRow;
use crate::view::reconciliation::KindTotal;

#[derive(Serialize)]
pub struct Manifest<'a> {
    pub tool: &'static str,
    pub version: &'static str,
    pub dataset: &'a str,
    pub period: String,
    pub period_start: String,
    pub period_end: String,
    pub as_of: String,
    /// `draft` (written by `settle run`) or `closed` (the month of record, written by
    /// `settle close`), with what closing it recorded (R9).
    pub state: &'static str,
    #[serde(flatten)]
    pub closing: Option<&'a Closing>,
    pub settings: &'a Settings,
    /// `exports` when `accounts.csv` was absent and the accounts were taken from the exports.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accounts_from: Option<&'static str>,
    pub inputs: Vec<InputRow>,
    pub outputs: Vec<OutputEntry>,
    pub conservation: Vec<Conservation>,
    pub reconciliation: &'a [FindingSummary],
    /// The SHA-256 of each template file the PDFs were made with; absent without PDFs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub templates: Option<&'a BTreeMap<String, String>>,
}

/// `state` of a period written by `settle run`: its PDFs are marked 草稿 DRAFT.
pub const DRAFT: &str = "draft";
/// `state` of a month of record, written by `settle close`: its folder never changes again.
pub const CLOSED: &str = "closed";
/// The manifest fields that closing adds or changes, which `settle close` does not compare with
/// the draft.
pub const STATE_FIELDS: [&str; 4] = ["state", "issued_on", "closed_by", "draft_manifest_sha256"];

/// What `settle close` records in the manifest of the month of record.
#[derive(Debug, Clone, Serialize)]
pub struct Closing {
    /// The date the documents are issued on, `YYYY-MM-DD`, printed on them.
    pub issued_on: String,
    /// Who closed the month: `--by`, else the `USER` of the process.
    pub closed_by: String,
    /// The SHA-256 of the reviewed draft's `manifest.json`.
    pub draft_manifest_sha256: String,
}

/// A period folder's `manifest.json` as it is on the disk: what a later run or close needs of it.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// `draft` or `closed`; a manifest written before states existed counts as a draft.
    pub state: String,
    pub as_of: Option<String>,
    pub sha256: String,
}

impl Recorded {
    /// The manifest of the period folder `folder`, or `None` when there is none to read.
    pub fn read(folder: &std::path::Path) -> Option<Recorded> {
        let bytes = std::fs::read(folder.join("manifest.json")).ok()?;
        let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
        let text = |key: &str| value.get(key).and_then(|v| v.as_str()).map(String::from);
        Some(Recorded {
            state: text("state").unwrap_or_else(|| DRAFT.to_string()),
            as_of: text("as_of"),
            sha256: crate::digest::sha256_hex(&bytes),
        })
    }

    pub fn is_closed(&self) -> bool {
        self.state == CLOSED
    }
}

/// Whether the period folder `folder` is a month of record, which nothing writes into.
pub fn is_closed(folder: &std::path::Path) -> bool {
    Recorded::read(folder).is_some_and(|r| r.is_closed())
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

impl From<&KindTotal> for FindingSummary {
    fn from(t: &KindTotal) -> Self {
        FindingSummary {
            finding: t.kind.as_str(),
            currency: t.currency.clone(),
            count: t.count,
            difference: t.difference.plain(),
        }
    }
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

/// An output whose sum differs from that of the bill lines it covers.
#[derive(Debug, Clone, PartialEq)]
pub struct Imbalance {
    pub currency: String,
    /// The period the bill lines were selected for (`usage_period`, …).
    pub lines: &'static str,
    pub source: Decimal,
    pub output: &'static str,
    pub attributed: Decimal,
}

impl std::fmt::Display for Imbalance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the conservation check fails in {}: the bill lines of the {} hold {}, but `{}` attributes {}",
            self.currency,
            self.lines,
            self.source.normalize(),
            self.output,
            self.attributed.normalize()
        )
    }
}

/// An output that attributes the payable of bill lines, and the lines it covers.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Attribution {
    /// `consumption.csv`'s `usage_period_amount`.
    ConsumptionUsage,
    /// `consumption.csv`'s `deduction_period_amount`.
    ConsumptionDeduction,
    /// The statements' base amounts, with the lines no partner link covers, under `rebate_basis`.
    Statements(Basis),
}

impl Attribution {
    fn selection(self) -> Basis {
        match self {
            Attribution::ConsumptionUsage => Basis::Usage,
            Attribution::ConsumptionDeduction => Basis::Deduction,
            Attribution::Statements(s) => s,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Attribution::ConsumptionUsage => "consumption.usage_period",
            Attribution::ConsumptionDeduction => "consumption.deduction_period",
            Attribution::Statements(_) => "statements",
        }
    }
}

/// One currency's two sides.
#[derive(Default, Clone)]
struct Sides {
    /// Σ payable of the bill lines, by the selection they were picked for.
    source: BTreeMap<Basis, Decimal>,
    /// Σ of what each output attributes, in the order first recorded.
    attributed: Vec<(Attribution, Decimal)>,
}

/// Per-currency sums on both sides, keyed by the period the lines were selected for.
#[derive(Default, Clone)]
pub struct Ledger {
    sides: BTreeMap<String, Sides>,
}

impl Ledger {
    /// Records the source side: Σ payable of the bill lines selected for `selection`.
    pub fn source(&mut self, currency: &str, selection: Basis, amount: Decimal) {
        let sides = self.sides.entry(currency.to_string()).or_default();
        *sides.source.entry(selection).or_default() += amount;
    }

    /// Records what an output attributes.
    pub fn attributed(&mut self, currency: &str, output: Attribution, amount: Decimal) {
        let side = &mut self
            .sides
            .entry(currency.to_string())
            .or_default()
            .attributed;
        match side.iter_mut().find(|(o, _)| *o == output) {
            Some(entry) => entry.1 += amount,
            None => side.push((output, amount)),
        }
    }

    /// The first output whose sum differs from the bill lines it covers, if any. A run that
    /// finds one has lost or invented money somewhere: it is settle's fault, never the
    /// dataset's, and the period must not be written.
    pub fn imbalance(&self) -> Option<Imbalance> {
        self.sides.iter().find_map(|(currency, sides)| {
            sides.attributed.iter().find_map(|(o, v)| {
                let source = sides
                    .source
                    .get(&o.selection())
                    .copied()
                    .unwrap_or_default();
                (source != *v).then(|| Imbalance {
                    currency: currency.clone(),
                    lines: o.selection().period(),
                    source,
                    output: o.as_str(),
                    attributed: *v,
                })
            })
        })
    }

    /// A test hook: one cent more in the first output's sum, so that tests can see what an
    /// unbalanced run does (`SETTLE_TEST_FAULT=unbalance`, see [`crate::fault`]).
    pub fn skew(&mut self) {
        if let Some(entry) = self
            .sides
            .values_mut()
            .find_map(|s| s.attributed.first_mut())
        {
            entry.1 += Decimal::new(1, 2);
        }
    }

    pub fn checks(&self) -> Vec<Conservation> {
        self.sides
            .iter()
            .map(|(currency, sides)| Conservation {
                currency: currency.clone(),
                bill_lines: sides
                    .source
                    .iter()
                    .map(|(k, v)| (k.period(), v.normalize().to_string()))
                    .collect(),
                attributed: sides
                    .attributed
                    .iter()
                    .map(|(o, v)| (o.as_str(), v.normalize().to_string()))
                    .collect(),
                balanced: sides.attributed.iter().all(|(o, v)| {
                    sides
                        .source
                        .get(&o.selection())
                        .copied()
                        .unwrap_or_default()
                        == *v
                }),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 29: a manifest that said `"balanced": false` still exited 0.
    #[test]
    fn an_unbalanced_ledger_names_the_currency_and_the_two_sums() {
        let mut ledger = Ledger::default();
        ledger.source("CNY", Basis::Usage, Decimal::new(2053, 2));
        ledger.attributed("CNY", Attribution::ConsumptionUsage, Decimal::new(2053, 2));
        assert_eq!(ledger.imbalance(), None);
        ledger.source("USD", Basis::Usage, Decimal::new(4101, 2));
        ledger.attributed("USD", Attribution::ConsumptionUsage, Decimal::new(205, 1));
        let found = ledger.imbalance().expect("unbalanced");
        let text = found.to_string();
        assert!(
            text.contains("USD") && text.contains("41.01") && text.contains("20.5"),
            "{text}"
        );
        assert!(ledger.checks().iter().any(|c| !c.balanced));
    }
}
