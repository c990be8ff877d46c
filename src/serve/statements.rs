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

/// The rows of `statements.csv`; `None` if it does not parse or lacks a column.
pub fn read(bytes: &[u8]) -> Option<Vec<Row>> {
    let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    let mut reader = csv::Reader::from_reader(bytes);
    let header = reader.headers().ok()?.clone();
    let at = |name: &str| header.iter().position(|h| h == name);
    let columns = [
        at("document_no")?,
        at("partner_id")?,
        at("partner_name")?,
        at("currency")?,
        at("rebate_total")?,
        at("tax_deduction")?,
        at("net_rebate")?,
        at("payout_status")?,
        at("payable_now")?,
    ];
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.ok()?;
        let cell = |i: usize| unguard(record.get(columns[i]).unwrap_or_default());
        rows.push(Row {
            document_no: cell(0),
            partner_id: cell(1),
            partner_name: cell(2),
            currency: cell(3),
            rebate_total: cell(4),
            tax_deduction: cell(5),
            net_rebate: cell(6),
            payout_status: cell(7),
            payable_now: cell(8),
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
