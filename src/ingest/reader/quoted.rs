//! Splits one CSV record that holds quotes, as RFC 4180 (and the `csv` crate) reads it.
//!
//! Input: the bytes from the start of a record, and whether the file ends with them. Output: the
//! record's unescaped cells, written one after another into a scratch buffer with the end of each,
//! and how many bytes the record took. The big readers ([`crate::ingest::reader::plan`]) split a line
//! without `"` at its commas, and hand a line with one to [`split`].
//!
//! It reads what `csv_core`'s default reader reads, byte for byte, without building a reader per
//! record: a `"` opens a quoted cell only at the start of a cell, `""` inside quotes is one `"`,
//! text after a closing quote belongs to the same cell, a `"` inside an unquoted cell is kept as
//! it is, and `\n` or `\r\n` outside quotes ends the record (line ends before a record are
//! passed over). Inside quotes commas and line ends are text. A quote left open runs to the end of
//! the file. Unlike `csv_core`, a lone `\r` is text, as it is on the lines the big readers split at
//! their commas; only a `\r` at the very end of the file ends a record as `\r\n` would.
//!
//! Every reader of the project goes through here ([`Records`] for files read whole: the small
//! tables, the headers and the CSV exports), so a record means the same thing in every file.

/// One record that [`split`] read.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// Where the record starts, after the line ends before it.
    pub start: usize,
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
    // Where a line end starts at `i`, how long it is; `None` when the data stops before it can tell.
    let line_end = |i: usize| -> Option<usize> {
        match data.get(i) {
            Some(b'\n') => Some(1),
            Some(b'\r') => match data.get(i + 1) {
                Some(b'\n') => Some(2),
                Some(_) => Some(0),
                None if eof => Some(1),
                None => None,
            },
            _ => Some(0),
        }
    };
    let mut i = 0;
    while i < len {
        match line_end(i)? {
            0 => break,
            n => i += n,
        }
    }
    if i == len {
        return eof.then_some(Record {
            start: len,
            used: len.max(1),
            is_record: false,
            line_end_in_quotes: false,
        });
    }
    let start = i;
    let mut line_end_in_quotes = false;
    let finish = |cells: &mut Vec<u8>, ends: &mut Vec<usize>, used, line_end_in_quotes| {
        ends.push(cells.len());
        Some(Record {
            start,
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
        let from = i;
        let mut ended = 0;
        while i < len && data[i] != b',' {
            ended = line_end(i)?;
            if ended > 0 {
                break;
            }
            i += 1;
        }
        cells.extend_from_slice(&data[from..i]);
        if i == len {
            if !eof {
                return None;
            }
            return finish(cells, ends, len, line_end_in_quotes);
        }
        if ended > 0 {
            return finish(cells, ends, i + ended, line_end_in_quotes);
        }
        ends.push(cells.len());
        i += 1;
    }
}

/// The records of a file held whole, one after another, each split by [`split`].
pub struct Records<'d> {
    data: &'d [u8],
    pos: usize,
    cells: Vec<u8>,
    ends: Vec<usize>,
}

/// One record of [`Records`]: where it lies in the file and its cells.
pub struct Found<'r> {
    /// The offset of its first byte.
    pub start: usize,
    /// The offset just past its line end.
    pub end: usize,
    /// Its bytes as they are in the file, from `start` to `end`.
    pub raw: &'r [u8],
    cells: &'r [u8],
    ends: &'r [usize],
}

impl Found<'_> {
    /// How many cells it has.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether it has no cells (never, for a record [`Records`] hands out).
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Its cell `i`, unescaped.
    pub fn get(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.cells[start..self.ends[i]]
    }

    /// Its cells, unescaped.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        (0..self.len()).map(|i| self.get(i))
    }
}

impl<'d> Records<'d> {
    /// The records of a whole file; a UTF-8 byte order mark before the first is passed over, as
    /// the `csv` crate does, so that a quoted first cell is read as quoted.
    pub fn new(data: &'d [u8]) -> Records<'d> {
        Records {
            data,
            pos: if data.starts_with(b"\xEF\xBB\xBF") {
                3
            } else {
                0
            },
            cells: Vec::new(),
            ends: Vec::new(),
        }
    }

    /// The next record, or `None` at the end of the file.
    pub fn next_record(&mut self) -> Option<Found<'_>> {
        while self.pos < self.data.len() {
            let at = self.pos;
            let r = split(&self.data[at..], true, &mut self.cells, &mut self.ends)
                .expect("the whole file is there");
            self.pos += r.used;
            if r.is_record {
                return Some(Found {
                    start: at + r.start,
                    end: self.pos,
                    raw: &self.data[at + r.start..self.pos],
                    cells: &self.cells,
                    ends: &self.ends,
                });
            }
        }
        None
    }
}

/// The records of a file read as it streams in, in blocks, for files too big to hold whole (the
/// CSV exports, decompressed as they are read). Offsets are from the start of the stream.
pub struct Stream<R> {
    input: R,
    buf: Vec<u8>,
    /// Bytes of `buf` already handed out.
    pos: usize,
    /// The stream offset of `buf[0]`.
    base: usize,
    eof: bool,
    /// The line at `buf[pos]`, from 1.
    line: u64,
    /// The stream's last byte so far, for its count of lines.
    last: Option<u8>,
    cells: Vec<u8>,
    ends: Vec<usize>,
}

/// How much a [`Stream`] reads at once.
const BLOCK: usize = 1 << 20;

/// The longest record any input may hold: 1 MiB (its line end not counted), a quoted cell's line
/// breaks included. A longer one is an error naming its file and line, in a [`Stream`] (exports),
/// the big files' reader and the small files', so that memory stays bounded and no record is
/// scanned more than twice.
pub const MAX_RECORD: usize = 1 << 20;

/// The error a [`Stream`] gives for a record longer than [`MAX_RECORD`], inside an
/// [`std::io::Error`], with the line the record starts on.
#[derive(Debug)]
pub struct TooLong {
    pub line: u64,
}

impl std::fmt::Display for TooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "a row longer than {} MiB (a line, or a quoted cell across lines)",
            MAX_RECORD >> 20
        )
    }
}

impl std::error::Error for TooLong {}

impl<R: std::io::Read> Stream<R> {
    pub fn new(input: R) -> Stream<R> {
        Stream {
            input,
            buf: Vec::new(),
            pos: 0,
            base: 0,
            eof: false,
            line: 1,
            last: None,
            cells: Vec::new(),
            ends: Vec::new(),
        }
    }

    /// Reads at least one more block, unless the stream ends.
    fn fill(&mut self) -> std::io::Result<()> {
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.base += self.pos;
            self.pos = 0;
        }
        let have = self.buf.len();
        self.buf.resize(have + BLOCK, 0);
        let mut got = 0;
        while got < BLOCK {
            match self.input.read(&mut self.buf[have + got..]) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.buf.truncate(have + got);
                    return Err(e);
                }
            }
        }
        self.buf.truncate(have + got);
        if let Some(&b) = self.buf.last() {
            self.last = Some(b);
        }
        if self.base == 0 && have == 0 && self.buf.starts_with(b"\xEF\xBB\xBF") {
            self.pos = 3;
        }
        Ok(())
    }

    /// The next record and the line it starts on, or `None` at the end of the stream. Line
    /// ends before a record are passed over as they come, so that a run of blank lines is never
    /// held; a record longer than [`MAX_RECORD`] is a [`TooLong`] error.
    pub fn next_record(&mut self) -> std::io::Result<Option<(Found<'_>, u64)>> {
        loop {
            let blank = blank_lines(&self.buf[self.pos..], self.eof);
            if blank > 0 {
                let data = &self.buf[self.pos..self.pos + blank];
                self.line += memchr::memchr_iter(b'\n', data).count() as u64;
                self.pos += blank;
            }
            if self.pos == self.buf.len() {
                if self.eof {
                    return Ok(None);
                }
                self.fill()?;
                continue;
            }
            let data = &self.buf[self.pos..];
            let Some(r) = split(data, self.eof, &mut self.cells, &mut self.ends) else {
                if data.len() > MAX_RECORD {
                    let too_long = TooLong { line: self.line };
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        too_long,
                    ));
                }
                self.fill()?;
                continue;
            };
            let line = self.line + memchr::memchr_iter(b'\n', &data[..r.start]).count() as u64;
            // A record found whole in the buffer may still be longer than the bound.
            if r.is_record
                && crate::ingest::lines::trim_end(&data[r.start..r.used]).len() > MAX_RECORD
            {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    TooLong { line },
                ));
            }
            self.line += memchr::memchr_iter(b'\n', &data[..r.used]).count() as u64;
            let at = self.pos;
            self.pos += r.used;
            if r.is_record {
                let found = Found {
                    start: self.base + at + r.start,
                    end: self.base + self.pos,
                    raw: &self.buf[at + r.start..self.pos],
                    cells: &self.cells,
                    ends: &self.ends,
                };
                return Ok(Some((found, line)));
            }
        }
    }

    /// Physical lines read so far: line ends, plus a last line without one at the end.
    pub fn lines(&self) -> u64 {
        self.line - 1 + u64::from(self.eof && self.last.is_some_and(|b| b != b'\n'))
    }
}

/// How many bytes at the start of `data` are whole line ends (`\n`, `\r\n`, or a `\r` that
/// ends the file), as [`split`] passes them over before a record.
fn blank_lines(data: &[u8], eof: bool) -> usize {
    let mut i = 0;
    loop {
        match (data.get(i), data.get(i + 1)) {
            (Some(b'\n'), _) => i += 1,
            (Some(b'\r'), Some(b'\n')) => i += 2,
            (Some(b'\r'), None) if eof => i += 1,
            _ => return i,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Every record in `data` as [`Records`] reads it: `split`, called again from where each
    /// record stops. (The texts below hold no byte order mark, which `Records` passes over.)
    fn records(data: &[u8]) -> Vec<Vec<Vec<u8>>> {
        let mut records = Records::new(data);
        std::iter::from_fn(|| {
            records
                .next_record()
                .map(|r| r.iter().map(<[u8]>::to_vec).collect())
        })
        .collect()
    }

    /// The records as a plain reading of the rules in the module's docs gives them, byte by byte.
    fn by_the_rules(data: &[u8]) -> Vec<Vec<Vec<u8>>> {
        let n = data.len();
        // A line end at `i`: how long it is, or 0.
        let line_end = |i: usize| match (data[i], data.get(i + 1)) {
            (b'\n', _) => 1,
            (b'\r', Some(b'\n')) => 2,
            (b'\r', None) => 1,
            _ => 0,
        };
        let (mut out, mut i) = (Vec::new(), 0);
        while i < n {
            if line_end(i) > 0 {
                i += line_end(i);
                continue;
            }
            let (mut record, mut cell) = (Vec::new(), Vec::new());
            let (mut quoted, mut at_start) = (false, true);
            loop {
                if i == n {
                    record.push(cell);
                    break;
                }
                let b = data[i];
                if quoted {
                    if b == b'"' && data.get(i + 1) == Some(&b'"') {
                        cell.push(b'"');
                        i += 2;
                        continue;
                    }
                    quoted = b != b'"';
                    if quoted {
                        cell.push(b);
                    }
                    i += 1;
                } else if at_start && b == b'"' {
                    (quoted, at_start) = (true, false);
                    i += 1;
                } else if b == b',' {
                    record.push(std::mem::take(&mut cell));
                    at_start = true;
                    i += 1;
                } else if line_end(i) > 0 {
                    i += line_end(i);
                    record.push(cell);
                    break;
                } else {
                    cell.push(b);
                    at_start = false;
                    i += 1;
                }
            }
            out.push(record);
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
    fn a_byte_order_mark_before_a_quoted_cell() {
        let data = "\u{feff}\"账期\",\"b\"\r\n\"1\",\"2\"\r\n".as_bytes();
        let mut records = Records::new(data);
        let first = records.next_record().expect("the header");
        assert_eq!((first.start, first.get(0)), (3, "账期".as_bytes()));
        let second = records.next_record().expect("a row");
        assert_eq!(second.iter().collect::<Vec<_>>(), [b"1", b"2"]);
        assert!(records.next_record().is_none());
    }

    #[test]
    fn a_stream_reads_what_the_whole_file_holds() {
        // Over two blocks of records, some quoted across lines, with a BOM and no last line end.
        let mut data = b"\xEF\xBB\xBF\"h1\",h2\r\n".to_vec();
        let mut n = 0;
        while data.len() < 2 * BLOCK + 1000 {
            n += 1;
            let row = match n % 4 {
                0 => format!("\"a{n}\",\"line\r\nbreak\"\r\n"),
                1 => format!("b{n},plain\n"),
                2 => "\r\n".to_string(),
                _ => format!("\"c{n}\",\"x\"\"y\"\r\n"),
            };
            data.extend_from_slice(row.as_bytes());
        }
        data.extend_from_slice(b"last,row");
        let mut whole = Records::new(&data);
        let mut counter = crate::ingest::lines::LineCounter::new(&data);
        let mut stream = Stream::new(&data[..]);
        let mut rows = 0;
        while let Some(expected) = whole.next_record() {
            let (found, line) = stream.next_record().unwrap().expect("as many records");
            assert_eq!(
                (found.start, found.end, found.raw),
                (expected.start, expected.end, expected.raw)
            );
            assert_eq!(
                found.iter().collect::<Vec<_>>(),
                expected.iter().collect::<Vec<_>>()
            );
            assert_eq!(line, counter.line_at(expected.start as u64));
            rows += 1;
        }
        assert!(stream.next_record().unwrap().is_none());
        assert_eq!(stream.lines(), crate::ingest::lines::count(&data));
        assert!(rows > 50_000, "{rows}");
    }

    #[test]
    fn line_ends() {
        let (mut cells, mut ends) = (Vec::new(), Vec::new());
        // A lone `\r` is text; line ends before a record are passed over.
        let r = split(b"\r\n\"a\"\rb\r\nc", false, &mut cells, &mut ends).unwrap();
        assert_eq!(
            (r.start, r.used, &cells[..], &ends[..]),
            (2, 9, &b"a\rb"[..], &[3][..])
        );
        assert_eq!(one("a\rb,c\r\r\n").0, ["a\rb", "c\r"]);
        // Only at the end of the file does a `\r` end a record; before it, more data must tell.
        assert_eq!(one("a,b\r").0, ["a", "b"]);
        assert_eq!(split(b"a,b\r", false, &mut cells, &mut ends), None);
        assert_eq!(split(b"\r", false, &mut cells, &mut ends), None);
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
        /// Any text without a `\r`, however its quotes fall, splits as the `csv` crate splits it.
        #[test]
        fn agrees_with_the_csv_crate_on_any_text(
            text in proptest::collection::vec(
                prop_oneof![Just(b'"'), Just(b','), Just(b'\n'), Just(b'a'), Just(0xE4)],
                0..60,
            )
        ) {
            prop_assert_eq!(records(&text), by_csv(&text));
        }

        /// Any text, `\r` in it or not, splits as the rules say.
        #[test]
        fn follows_the_rules_on_any_text(
            text in proptest::collection::vec(
                prop_oneof![Just(b'"'), Just(b','), Just(b'\r'), Just(b'\n'), Just(b'a'), Just(0xE4)],
                0..60,
            )
        ) {
            prop_assert_eq!(records(&text), by_the_rules(&text));
        }

        /// Records the `csv` crate writes (`\r\n` after each), quoted as needed or every cell
        /// quoted, read back as they were.
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
            let rows: Vec<Vec<Vec<u8>>> = rows
                .iter()
                .map(|r| r.iter().map(|c| c.as_bytes().to_vec()).collect())
                .collect();
            prop_assert_eq!(records(&data), rows);
        }
    }
}
