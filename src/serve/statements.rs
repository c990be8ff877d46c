//! `statements.csv` read back for the pages: one row per partner and currency, with the columns
//! finance looks at first (net rebate, payout status, 本期应付 payable now), and the filter on
//! partner id or name that a month of hundreds of partners needs.
//!
//! Input: the bytes of `statements.csv` (columns in [docs/outputs.md](../../docs/outputs.md)),
//! found by header name so a new column does not move the others. Output: [`Row`]s in the file's
//! order, amounts kept as the text `settle run` wrote (the pages group their digits; the sums are
//! exact decimals). A file that does not parse, or lacks a column, gives `None`: the page then
//! shows no table rather than wrong figures.

use rust_decimal::Decimal;

/// The status `settle run` writes when arrears hold the payout back (R5).
pub const WITHHELD: &str = "withheld_arrears";

/// One partner and currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub document_no: String,
    pub partner_id: String,
    pub partner_name: String,
    pub currency: String,
    pub rebate_total: String,
    pub tax_deduction: String,
    pub net_rebate: String,
    pub payout_status: String,
    pub payable_now: String,
    /// A supplementary statement of a restatement (R9): the number of the statement it amends,
    /// and the differences it makes. Its figures above are the restated ones.
    pub amends: Option<Amends>,
}

/// What a supplementary statement changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Amends {
    pub document_no: String,
    pub net_rebate: String,
    pub payable_now: String,
}

impl Row {
    /// Whether `query` (already lowercased, not empty) is in the partner's id or name.
    pub fn matches(&self, query: &str) -> bool {
        self.partner_id.to_lowercase().contains(query)
            || self.partner_name.to_lowercase().contains(query)
    }

    pub fn withheld(&self) -> bool {
        self.payout_status == WITHHELD
    }
}

/// The rows of `statements.csv`; `None` if it does not parse or lacks a column. A
/// restatement's `statements.csv` holds each figure of record, restated and their difference
/// (`net_rebate_of_record`, `net_rebate_restated`, `net_rebate_difference`): its rows carry the
/// restated figures and [`Amends`].
pub fn read(bytes: &[u8]) -> Option<Vec<Row>> {
    let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    let mut reader = csv::Reader::from_reader(bytes);
    let header = reader.headers().ok()?.clone();
    let at = |name: &str| header.iter().position(|h| h == name);
    let restatement = at("amends").is_some();
    // A figure: the restated one in a restatement.
    let figure = |name: &str| {
        if restatement {
            at(&format!("{name}_restated")).or_else(|| at(name))
        } else {
            at(name)
        }
    };
    let columns = [
        at("document_no")?,
        at("partner_id")?,
        figure("partner_name")?,
        at("currency")?,
        figure("rebate_total")?,
        figure("tax_deduction")?,
        figure("net_rebate")?,
        figure("payout_status")?,
        figure("payable_now")?,
    ];
    let amends = if restatement {
        Some([
            at("amends")?,
            at("net_rebate_difference")?,
            at("payable_now_difference")?,
        ])
    } else {
        None
    };
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.ok()?;
        let cell = |i: usize| unguard(record.get(i).unwrap_or_default());
        rows.push(Row {
            document_no: cell(columns[0]),
            partner_id: cell(columns[1]),
            partner_name: cell(columns[2]),
            currency: cell(columns[3]),
            rebate_total: cell(columns[4]),
            tax_deduction: cell(columns[5]),
            net_rebate: cell(columns[6]),
            payout_status: cell(columns[7]),
            payable_now: cell(columns[8]),
            amends: amends.map(|a| Amends {
                document_no: cell(a[0]),
                net_rebate: cell(a[1]),
                payable_now: cell(a[2]),
            }),
        });
    }
    Some(rows)
}

/// A cell with the `'` guard against formula injection taken off, as it was before the CSV.
pub fn unguard(cell: &str) -> String {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest.to_string(),
        _ => cell.to_string(),
    }
}

/// A money cell as an exact decimal; `None` for a cell that is not one.
pub fn decimal(cell: &str) -> Option<Decimal> {
    Decimal::from_str_exact(cell).ok()
}

/// The query of a filter as it is matched: trimmed and lowercased; `None` when empty.
pub fn query(raw: &str) -> Option<String> {
    let q = raw.trim().to_lowercase();
    (!q.is_empty()).then_some(q)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CSV: &str = "\u{feff}document_no,partner_id,partner_name,period,currency,rebate_total,tax_deduction,net_rebate,payout_status,payable_now\n\
        ST-1,p-01,云帆伙伴科技有限公司,2026-10,CNY,507.07,0.00,507.07,payable,507.07\n\
        ST-3,p-03,'=Evil Name,2026-10,CNY,40.25,0.00,40.25,withheld_arrears,0.00\n";

    #[test]
    fn rows_are_read_by_column_name() {
        let rows = read(CSV.as_bytes()).expect("parses");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].partner_name, "云帆伙伴科技有限公司");
        assert_eq!(rows[0].payable_now, "507.07");
        assert!(!rows[0].withheld() && rows[1].withheld());
        assert_eq!(rows[1].partner_name, "=Evil Name");
        assert!(read(b"partner_id,currency\np-01,CNY\n").is_none());
    }

    #[test]
    fn the_filter_matches_id_or_name_ignoring_case() {
        let rows = read(CSV.as_bytes()).expect("parses");
        let q = query("  P-0 ").expect("a query");
        assert_eq!(rows.iter().filter(|r| r.matches(&q)).count(), 2);
        let q = query("云帆").expect("a query");
        assert_eq!(
            rows.iter()
                .filter(|r| r.matches(&q))
                .map(|r| r.partner_id.as_str())
                .collect::<Vec<_>>(),
            ["p-01"]
        );
        assert_eq!(query("   "), None);
    }
}
