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
#[derive(Default)]
struct Sides {
    /// Σ payable of the bill lines, by the selection they were picked for.
    source: BTreeMap<Basis, Decimal>,
    /// Σ of what each output attributes, in the order first recorded.
    attributed: Vec<(Attribution, Decimal)>,
}

/// Per-currency sums on both sides, keyed by the period the lines were selected for.
#[derive(Default)]
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
