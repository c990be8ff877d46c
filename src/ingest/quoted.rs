//! Splits one CSV record that holds quotes, as RFC 4180 (and the `csv` crate) reads it.
//!
//! Input: the bytes from the start of a record, and whether the file ends with them. Output: the
//! record's unescaped cells, written one after another into a scratch buffer with the end of each,
//! and how many bytes the record took. The big readers ([`crate::ingest::segments`]) split a line
//! without `"` at its commas, and hand a line with one to [`split`].
//!
//! It reads what `csv_core`'s default reader reads, byte for byte, without building a reader per
//! record: a `"` opens a quoted cell only at the start of a cell, `""` inside quotes is one `"`,
//! text after a closing quote belongs to the same cell, a `"` inside an unquoted cell is kept as
//! it is, and `\r`, `\n` or `\r\n` outside quotes ends the record (line ends before a record are
//! passed over). Inside quotes commas and line ends are text. A quote left open runs to the end of
//! the file.

/// One record that [`split`] read.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// Bytes taken from the start of the data, its line end included (at least one).
    pub used: usize,
    /// Whether they held a record; `false` when they were only line ends before the end of file.
    pub is_record: bool,
    /// A quoted cell held a `\n`, or the file ended inside quotes.
    pub line_end_in_quotes: bool,
}

/// Splits the record at the start of `data` into `cells` (the unescaped cells, end to end) and
/// `ends` (where each cell ends in `cells`). `None` when `data` stops inside the record and the
/// file goes on (`eof` false): call again with more data from the same start.
pub fn split(data: &[u8], eof: bool, cells: &mut Vec<u8>, ends: &mut Vec<usize>) -> Option<Record> {
    cells.clear();
    ends.clear();
    let len = data.len();
    let mut i = data
        .iter()
        .position(|&b| b != b'\r' && b != b'\n')
        .unwrap_or(len);
    if i == len {
        return eof.then_some(Record {
            used: len.max(1),
            is_record: false,
            line_end_in_quotes: false,
        });
    }
    let mut line_end_in_quotes = false;
    let finish = |cells: &mut Vec<u8>, ends: &mut Vec<usize>, used, line_end_in_quotes| {
        ends.push(cells.len());
        Some(Record {
            used,
            is_record: true,
            line_end_in_quotes,
        })
    };
    loop {
        if data.get(i) == Some(&b'"') {
            i += 1;
            loop {
                // Cells are short: a plain loop finds the closing quote sooner than `memchr`.
                let start = i;
                while i < len && data[i] != b'"' {
                    line_end_in_quotes |= data[i] == b'\n';
                    i += 1;
                }
                cells.extend_from_slice(&data[start..i]);
                if i == len {
                    // The quote is still open where the data stops.
                    return if eof {
                        finish(cells, ends, len, true)
                    } else {
                        None
                    };
                }
                i += 1;
                match data.get(i) {
                    Some(b'"') => {
                        cells.push(b'"');
                        i += 1;
                    }
                    Some(_) => break,
                    None if eof => return finish(cells, ends, len, line_end_in_quotes),
                    None => return None,
                }
            }
        }
        // The unquoted rest of the cell, up to a comma or a line end.
        let start = i;
        while i < len && !matches!(data[i], b',' | b'\r' | b'\n') {
            i += 1;
        }
        cells.extend_from_slice(&data[start..i]);
        if i == len {
            if !eof {
                return None;
            }
            return finish(cells, ends, len, line_end_in_quotes);
        }
        match data[i] {
            b',' => {
                ends.push(cells.len());
                i += 1;
            }
            b'\r' if data.get(i + 1) == Some(&b'\n') => {
                return finish(cells, ends, i + 2, line_end_in_quotes);
            }
            _ => return finish(cells, ends, i + 1, line_end_in_quotes),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Every record in `data` as `split` reads it, called again from where each one stops.
    fn records(data: &[u8]) -> Vec<Vec<Vec<u8>>> {
        let (mut cells, mut ends) = (Vec::new(), Vec::new());
        let mut out = Vec::new();
        let mut pos = 0;
        while pos < data.len() {
            let r = split(&data[pos..], true, &mut cells, &mut ends).expect("eof");
            if r.is_record {
                let mut start = 0;
                out.push(
                    ends.iter()
                        .map(|&end| {
                            let cell = cells[start..end].to_vec();
                            start = end;
                            cell
                        })
                        .collect(),
                );
            }
            pos += r.used;
        }
        out
    }

    /// The same records as the `csv` crate reads them.
    fn by_csv(data: &[u8]) -> Vec<Vec<Vec<u8>>> {
        csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(data)
            .byte_records()
            .map(|r| r.unwrap().iter().map(<[u8]>::to_vec).collect())
            .collect()
    }

    fn one(data: &str) -> (Vec<String>, Record) {
        let (mut cells, mut ends) = (Vec::new(), Vec::new());
        let r = split(data.as_bytes(), true, &mut cells, &mut ends).unwrap();
        let mut start = 0;
        let out = ends
            .iter()
            .map(|&end| {
                let cell = String::from_utf8(cells[start..end].to_vec()).unwrap();
                start = end;
                cell
            })
            .collect();
        (out, r)
    }

    #[test]
    fn quoted_cells_and_escapes() {
        let (cells, r) = one("\"a\",\"b \"\"c\"\"\",d,\"\"\r\nnext");
        assert_eq!(cells, ["a", "b \"c\"", "d", ""]);
        assert_eq!(
            (r.used, r.is_record, r.line_end_in_quotes),
            (20, true, false)
        );
    }

    #[test]
    fn empty_quoted_cells() {
        assert_eq!(one("\"\",\"\",\"\"\n").0, ["", "", ""]);
        assert_eq!(one("x,\"\",\n").0, ["x", "", ""]);
    }

    #[test]
    fn commas_and_line_ends_inside_quotes() {
        let (cells, r) = one("\"a, b\",\"c\r\nd\ne\",f\nz");
        assert_eq!(cells, ["a, b", "c\r\nd\ne", "f"]);
        assert_eq!(r.used, 18);
        assert!(r.line_end_in_quotes);
    }

    #[test]
    fn stray_quotes() {
        // Inside an unquoted cell a quote is text; after a closing quote the cell goes on.
        assert_eq!(one("ab\"c,\"d\"e\"f,g\n").0, ["ab\"c", "de\"f", "g"]);
        // A quote left open runs to the end of the file.
        let (cells, r) = one("a,\"b,c\nd");
        assert_eq!(cells, ["a", "b,c\nd"]);
        assert!(r.line_end_in_quotes);
    }

    #[test]
    fn line_ends() {
        let (mut cells, mut ends) = (Vec::new(), Vec::new());
        // `\r` alone ends a record; line ends before one are passed over.
        let r = split(b"\r\n\"a\"\rb", false, &mut cells, &mut ends).unwrap();
        assert_eq!((r.used, ends.len()), (6, 1));
        // Only line ends, then the end of the file.
        let r = split(b"\n\r\n", true, &mut cells, &mut ends).unwrap();
        assert_eq!((r.used, r.is_record), (3, false));
        // A record with no line end asks for more unless the file ends there.
        for text in [&b"\"a\",b"[..], b"\"a", b"\"a\"", b"\"a\",", b"\n\n"] {
            assert_eq!(split(text, false, &mut cells, &mut ends), None, "{text:?}");
        }
        assert_eq!(one("\"a\",").0, ["a", ""]);
    }

    proptest! {
        /// Any text, however its quotes fall, splits as the `csv` crate splits it.
        #[test]
        fn agrees_with_the_csv_crate_on_any_text(
            text in proptest::collection::vec(
                prop_oneof![Just(b'"'), Just(b','), Just(b'\r'), Just(b'\n'), Just(b'a'), Just(0xE4)],
                0..60,
            )
        ) {
            prop_assert_eq!(records(&text), by_csv(&text));
        }

        /// Records the `csv` crate writes, quoted as needed or every cell quoted, read back.
        #[test]
        fn reads_back_what_the_csv_crate_writes(
            rows in proptest::collection::vec(
                proptest::collection::vec("[a\",\r\n 云]{0,6}", 1..8),
                1..6,
            ),
            all in any::<bool>(),
        ) {
            let style = if all { csv::QuoteStyle::Always } else { csv::QuoteStyle::Necessary };
            let mut w = csv::WriterBuilder::new()
                .quote_style(style)
                .flexible(true)
                .from_writer(Vec::new());
            for row in &rows {
                w.write_record(row).unwrap();
            }
            let data = w.into_inner().unwrap();
            prop_assert_eq!(records(&data), by_csv(&data));
        }
    }
}
