//! The CSV writer every output goes through.
//!
//! Output CSVs open cleanly in Excel: UTF-8 with a BOM (so Chinese shows correctly), one header
//! row, `\n` line ends, RFC 4180 quoting. Text cells that a spreadsheet would read as a formula
//! (starting with `=`, `+`, `-`, `@`, a tab or a CR) get a leading `'`. Numeric cells are never
//! touched, so a refund of `-5.00` stays a number.

use std::borrow::Cow;

/// One output cell. Only text is guarded against formula injection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cell {
    Text(String),
    Num(String),
}

impl From<&str> for Cell {
    fn from(s: &str) -> Cell {
        Cell::Text(s.to_string())
    }
}

impl From<String> for Cell {
    fn from(s: String) -> Cell {
        Cell::Text(s)
    }
}

/// A CSV document being built in memory.
pub struct CsvDoc {
    writer: csv::Writer<Vec<u8>>,
}

impl CsvDoc {
    pub fn new(header: &[&str]) -> CsvDoc {
        let mut writer = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(b"\xEF\xBB\xBF".to_vec());
        // Writing to a Vec<u8> cannot fail.
        let _ = writer.write_record(header);
        CsvDoc { writer }
    }

    /// A document that continues one made by [`CsvDoc::new`]: rows only, to be appended to it.
    pub fn continued() -> CsvDoc {
        let writer = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(Vec::new());
        CsvDoc { writer }
    }

    pub fn row<I: IntoIterator<Item = Cell>>(&mut self, cells: I) {
        let cells: Vec<Cow<str>> = cells
            .into_iter()
            .map(|c| match c {
                Cell::Num(s) => Cow::Owned(s),
                Cell::Text(s) => guard(s),
            })
            .collect();
        let _ = self.writer.write_record(cells.iter().map(|c| c.as_bytes()));
    }

    pub fn finish(self) -> Vec<u8> {
        self.writer.into_inner().unwrap_or_default()
    }
}

/// Prefixes `'` to text a spreadsheet would run as a formula.
fn guard(s: String) -> Cow<'static, str> {
    match s.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => Cow::Owned(format!("'{s}")),
        _ => Cow::Owned(s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bom_guard_and_quoting() {
        let mut doc = CsvDoc::new(&["name", "amount"]);
        doc.row([Cell::from("=HYPERLINK(\"x\")"), Cell::Num("-5.00".into())]);
        doc.row([
            Cell::from("杭州云栖科技有限公司, 分公司"),
            Cell::Num("1.00".into()),
        ]);
        doc.row([Cell::from("@SUM"), Cell::from("-x")]);
        let text = String::from_utf8(doc.finish()).unwrap();
        assert_eq!(
            text,
            "\u{feff}name,amount\n\"'=HYPERLINK(\"\"x\"\")\",-5.00\n\"杭州云栖科技有限公司, 分公司\",1.00\n'@SUM,'-x\n"
        );
    }
}
