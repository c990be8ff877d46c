//! A month at a glance: per currency, what the customers consumed, the rebates payable now and
//! withheld, and the money in the reconciliation's findings, summed from the period's CSVs.
//!
//! Input: the period folder's `consumption.csv` (`usage_period_amount`,
//! `deduction_period_amount`), `statements.csv` (`net_rebate`, `payout_status`, `payable_now`)
//! and `reconciliation.csv` (`difference`), each with its `currency`. Output: [`Totals`], exact
//! decimals (never floats). The files are streamed row by row, so a month of millions of bill
//! lines costs the time to read them once and a few numbers of memory. A file that is missing,
//! does not parse or holds a cell that is not a decimal leaves its part of the totals out
//! (`None`): the page then says it cannot show it, and never shows a partial sum as the month's.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use rust_decimal::Decimal;

use super::paths::inside;
use super::statements::{self, Row, decimal};

/// The month's totals, each part `None` when its file could not be summed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Totals {
    pub consumption: Option<BTreeMap<String, Consumption>>,
    pub rebates: Option<BTreeMap<String, Rebates>>,
    pub findings: Option<BTreeMap<String, Findings>>,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Consumption {
    /// Σ `usage_period_amount`: what was used in the month.
    pub usage: Decimal,
    /// Σ `deduction_period_amount`: what the consoles deducted in the month.
    pub deduction: Decimal,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Rebates {
    /// Σ `net_rebate` over every statement.
    pub net: Decimal,
    /// Σ `payable_now`: what is paid out for the month.
    pub payable_now: Decimal,
    /// Σ `net_rebate` of the statements withheld for arrears, and how many they are.
    pub withheld: Decimal,
    pub withheld_count: u64,
    pub statements: u64,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Findings {
    pub count: u64,
    /// Σ |`difference`|: the money the findings are about, whichever way it goes.
    pub money: Decimal,
    /// Σ `difference`: billed more (+) or less (−) than expected, net.
    pub net: Decimal,
}

impl Totals {
    /// The currencies any part mentions, sorted.
    pub fn currencies(&self) -> Vec<String> {
        let mut all: Vec<String> = Vec::new();
        let mut add = |keys: Option<Vec<&String>>| {
            for k in keys.into_iter().flatten() {
                if !all.contains(k) {
                    all.push(k.clone());
                }
            }
        };
        add(self.consumption.as_ref().map(|m| m.keys().collect()));
        add(self.rebates.as_ref().map(|m| m.keys().collect()));
        add(self.findings.as_ref().map(|m| m.keys().collect()));
        all.sort();
        all
    }
}

/// Sums the CSVs of the period `folder` (canonical, inside the canonical `root`); `statements`
/// is `statements.csv` already read (the page shows its rows too), `None` when it could not be.
pub fn of_period(root: &Path, folder: &Path, statements: Option<&[Row]>) -> Totals {
    Totals {
        consumption: open(root, folder, "consumption.csv").and_then(consumption),
        rebates: statements.and_then(rebates),
        findings: open(root, folder, "reconciliation.csv").and_then(findings),
    }
}

/// A file of the period, opened only when it lies inside `root` ([`inside`]).
pub(super) fn open(
    root: &Path,
    folder: &Path,
    name: &str,
) -> Option<std::io::BufReader<std::fs::File>> {
    let path = inside(root, folder, name)?;
    std::fs::File::open(path)
        .ok()
        .map(|f| std::io::BufReader::with_capacity(256 * 1024, f))
}

/// The reader of a CSV with a BOM, and the positions of `columns` in its header.
pub(super) fn columns<R: Read>(input: R, names: &[&str]) -> Option<(csv::Reader<R>, Vec<usize>)> {
    let mut reader = csv::Reader::from_reader(input);
    let header = reader.byte_headers().ok()?.clone();
    let at = names
        .iter()
        .map(|n| {
            header.iter().position(|h| {
                let h = h.strip_prefix("\u{feff}".as_bytes()).unwrap_or(h);
                h == n.as_bytes()
            })
        })
        .collect::<Option<Vec<usize>>>()?;
    Some((reader, at))
}

/// Each row's cells at `at`, as text; `None` on the first row that does not parse.
pub(super) fn each<R: Read>(
    mut reader: csv::Reader<R>,
    at: &[usize],
    mut f: impl FnMut(&[&str]) -> Option<()>,
) -> Option<()> {
    let mut record = csv::ByteRecord::new();
    while reader.read_byte_record(&mut record).ok()? {
        let cells = at
            .iter()
            .map(|&i| std::str::from_utf8(record.get(i)?).ok())
            .collect::<Option<Vec<&str>>>()?;
        f(&cells)?;
    }
    Some(())
}

pub fn consumption<R: Read>(input: R) -> Option<BTreeMap<String, Consumption>> {
    let (reader, at) = columns(
        input,
        &["currency", "usage_period_amount", "deduction_period_amount"],
    )?;
    let mut out: BTreeMap<String, Consumption> = BTreeMap::new();
    each(reader, &at, |c| {
        let t = entry(&mut out, c[0]);
        t.usage += decimal(c[1])?;
        t.deduction += decimal(c[2])?;
        Some(())
    })?;
    Some(out)
}

pub fn rebates(rows: &[Row]) -> Option<BTreeMap<String, Rebates>> {
    let mut out: BTreeMap<String, Rebates> = BTreeMap::new();
    for r in rows {
        let t = entry(&mut out, &r.currency);
        let net = decimal(&r.net_rebate)?;
        t.net += net;
        t.payable_now += decimal(&r.payable_now)?;
        t.statements += 1;
        if r.withheld() {
            t.withheld += net;
            t.withheld_count += 1;
        }
    }
    Some(out)
}

pub fn findings<R: Read>(input: R) -> Option<BTreeMap<String, Findings>> {
    let (reader, at) = columns(input, &["currency", "difference"])?;
    let mut out: BTreeMap<String, Findings> = BTreeMap::new();
    each(reader, &at, |c| {
        let t = entry(&mut out, c[0]);
        let d = decimal(&statements::unguard(c[1]))?;
        t.count += 1;
        t.money += d.abs();
        t.net += d;
        Some(())
    })?;
    Some(out)
}

fn entry<'a, T: Default>(map: &'a mut BTreeMap<String, T>, currency: &str) -> &'a mut T {
    map.entry(currency.to_string()).or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::from_str_exact(s).expect("a decimal")
    }

    #[test]
    fn consumption_and_findings_sum_per_currency() {
        let csv = "\u{feff}period,account_id,account_name,product,currency,usage_period_amount,deduction_period_amount,difference,not_deducted_amount\n\
            2026-10,a,A,cdn,CNY,823.74,758.12,65.62,823.74\n\
            2026-10,a,A,cos,CNY,210.11,0.00,210.11,210.11\n\
            2026-10,b,B,cdn,USD,130.55,0.00,130.55,130.55\n";
        let got = consumption(csv.as_bytes()).expect("sums");
        assert_eq!(got["CNY"].usage, d("1033.85"));
        assert_eq!(got["CNY"].deduction, d("758.12"));
        assert_eq!(got["USD"].usage, d("130.55"));

        let csv = "\u{feff}finding,account_id,difference,currency\n\
            duplicate_bill,a,32.40,CNY\nunbilled_usage,b,'-30.72,CNY\nunbilled_usage,b,-20.63,CNY\n";
        let got = findings(csv.as_bytes()).expect("sums");
        assert_eq!(got["CNY"].count, 3);
        assert_eq!(got["CNY"].money, d("83.75"));
        assert_eq!(got["CNY"].net, d("-18.95"));
        // A cell that is no number leaves the part out rather than sum it short.
        assert_eq!(findings("currency,difference\nCNY,lots\n".as_bytes()), None);
        assert_eq!(findings("currency\nCNY\n".as_bytes()), None);
    }

    #[test]
    fn rebates_split_payable_from_withheld() {
        let csv = "document_no,partner_id,partner_name,period,currency,rebate_total,tax_deduction,net_rebate,payout_status,payable_now\n\
            S1,p-01,A,2026-10,CNY,507.07,0.00,507.07,payable,507.07\n\
            S2,p-02,B,2026-10,CNY,7.37,0.44,6.93,payable,6.93\n\
            S3,p-03,C,2026-10,CNY,40.25,0.00,40.25,withheld_arrears,0.00\n";
        let rows = statements::read(csv.as_bytes()).expect("rows");
        let got = rebates(&rows).expect("sums");
        let cny = &got["CNY"];
        assert_eq!(cny.net, d("554.25"));
        assert_eq!(cny.payable_now, d("514.00"));
        assert_eq!((cny.withheld, cny.withheld_count), (d("40.25"), 1));
        assert_eq!(cny.statements, 3);
    }
}
