//! Physical lines beside records: a quoted cell that spans lines is reported, and every line of
//! a file is accounted for.
//!
//! RFC 4180 lets a quoted cell hold line ends, so one record may take several lines. That is
//! right for an address typed on two lines, and wrong when a stray `"` opens a cell by mistake:
//! the lines after it then fold into one record, and two bills become one without a reject.
//! Both readers note each record whose quoted cell spans lines ([`Span`]), which becomes a warning
//! naming the file, the column and the lines; and the manifest counts the file's physical lines
//! beside its records, so that `lines = header lines + rows + continued lines + blank lines`.

use crate::model::records::Line;

/// How many spanning records an input file keeps to report; the rest are counted.
pub const SPANS_KEPT: usize = 20;

/// One record whose quoted cell holds line ends.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Span {
    /// The record's first physical line.
    pub line: Line,
    /// How many physical lines it takes.
    pub lines: u64,
    /// The header name of the first cell that holds a line end.
    pub column: String,
}

/// An input file's physical lines, beside its records.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Lines {
    /// Physical lines: line ends, plus a last line without one.
    pub total: u64,
    /// Lines the header takes (1 unless a header cell is quoted across lines).
    pub header: u64,
    /// Lines that continue a record from the line before, inside a quoted cell.
    pub continued: u64,
    /// Records that take more than one line.
    pub spanning_rows: u64,
    /// The first [`SPANS_KEPT`] of them, in line order.
    pub spans: Vec<Span>,
}

impl Lines {
    /// Lines that hold no record: empty lines (and, in a file whose last record is short of its
    /// line end, nothing else), given the file's `rows`.
    pub fn blank(&self, rows: u64) -> u64 {
        self.total
            .saturating_sub(self.header + rows + self.continued)
    }

    /// Adds a record that takes `line_ends + 1` lines from `line`; `cell` says in which column.
    pub fn spanning(&mut self, line: Line, line_ends: u64, column: impl FnOnce() -> String) {
        self.continued += line_ends;
        self.spanning_rows += 1;
        if self.spans.len() < SPANS_KEPT {
            self.spans.push(Span {
                line,
                lines: line_ends + 1,
                column: column(),
            });
        }
    }

    /// Adds the counts of a later part of the same file, whose lines are already absolute.
    pub fn merge(&mut self, later: Lines) {
        self.continued += later.continued;
        self.spanning_rows += later.spanning_rows;
        let room = SPANS_KEPT - self.spans.len().min(SPANS_KEPT);
        self.spans.extend(later.spans.into_iter().take(room));
    }

    /// The warnings for `file`: one per kept span, and a count of the others.
    pub fn warnings(&self, file: &str) -> Vec<String> {
        let mut out: Vec<String> = self
            .spans
            .iter()
            .map(|s| {
                format!(
                    "`{file}` lines {}–{}: a quoted cell in column `{}` spans {} lines, so they are read as one row\nhint: if that is not meant, look for a stray `\"` in column `{}` on line {}",
                    s.line,
                    s.line + s.lines - 1,
                    s.column,
                    s.lines,
                    s.column,
                    s.line
                )
            })
            .collect();
        let more = self.spanning_rows - self.spans.len() as u64;
        if more > 0 {
            out.push(format!(
                "`{file}`: {more} more row(s) with a quoted cell that spans lines"
            ));
        }
        out
    }
}

/// Physical lines in `bytes`: its line ends, plus one for a last line that has none.
pub fn count(bytes: &[u8]) -> u64 {
    let ends = memchr::memchr_iter(b'\n', bytes).count() as u64;
    ends + u64::from(bytes.last().is_some_and(|&b| b != b'\n'))
}

/// A record's bytes without the line end after it.
pub fn trim_end(record: &[u8]) -> &[u8] {
    let keep = record
        .iter()
        .rposition(|&b| b != b'\n' && b != b'\r')
        .map_or(0, |i| i + 1);
    &record[..keep]
}

/// The index of the first cell of one record (without its line end) that holds a line end inside
/// quotes, read as `csv_core` reads it: a `"` opens quotes only at the start of a cell, and `""`
/// inside quotes is a quote.
pub fn spanning_cell(record: &[u8]) -> Option<usize> {
    let (mut cell, mut at_start, mut quoted) = (0, true, false);
    let mut i = 0;
    while i < record.len() {
        let b = record[i];
        if quoted {
            match b {
                b'"' if record.get(i + 1) == Some(&b'"') => i += 1,
                b'"' => quoted = false,
                b'\n' => return Some(cell),
                _ => {}
            }
        } else {
            match b {
                b'"' if at_start => quoted = true,
                b',' => {
                    cell += 1;
                    at_start = true;
                    i += 1;
                    continue;
                }
                _ => {}
            }
            at_start = false;
        }
        i += 1;
    }
    None
}

/// Physical line numbers from byte offsets. The `csv` crate counts records, not lines, so a
/// quoted cell that spans lines would otherwise shift every later line number.
pub struct LineCounter<'a> {
    bytes: &'a [u8],
    offset: usize,
    line: Line,
}

impl<'a> LineCounter<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        LineCounter {
            bytes,
            offset: 0,
            line: 1,
        }
    }

    /// The line where a record at byte `offset` starts. The `csv` crate may place a record at the
    /// line end before it (the `\n` of a `\r\n`), so line ends at the offset are skipped first.
    /// Offsets must not decrease between calls.
    pub fn line_at(&mut self, offset: u64) -> Line {
        let mut end = (offset as usize).min(self.bytes.len());
        while end < self.bytes.len() && matches!(self.bytes[end], b'\r' | b'\n') {
            end += 1;
        }
        if end > self.offset {
            self.line += self.bytes[self.offset..end]
                .iter()
                .filter(|&&b| b == b'\n')
                .count() as Line;
            self.offset = end;
        }
        self.line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_cell_that_spans() {
        assert_eq!(spanning_cell(b"a,\"b\nc\",d"), Some(1));
        assert_eq!(spanning_cell(b"a,\"b\"\"\nc\""), Some(1));
        assert_eq!(spanning_cell(b"\"x\",y,\"p\nq\""), Some(2));
        assert_eq!(
            spanning_cell(b"a,b\"c,d"),
            None,
            "a quote inside a cell is text"
        );
        assert_eq!(spanning_cell(b"a,\"b\""), None);
    }

    #[test]
    fn counts_lines_and_trims_line_ends() {
        assert_eq!(count(b""), 0);
        assert_eq!(count(b"a\nb"), 2);
        assert_eq!(count(b"a\r\nb\r\n"), 2);
        assert_eq!(count(b"a\n\n"), 2);
        assert_eq!(trim_end(b"a,\"b\r\nc\"\r\n"), b"a,\"b\r\nc\"");
    }

    #[test]
    fn counts_physical_lines() {
        let text = b"h1,h2\r\na,\"x\r\ny\"\r\nb,c\r\n\r\nd,e\n";
        let mut reader = csv::ReaderBuilder::new().from_reader(&text[..]);
        let mut lines = LineCounter::new(text);
        let found: Vec<u64> = reader
            .byte_records()
            .map(|r| lines.line_at(r.unwrap().position().unwrap().byte()))
            .collect();
        assert_eq!(found, vec![2, 4, 6]);
    }
}
