//! The record splitter of the parallel CSV reader: one core's job, read in blocks and split
//! into records.
//!
//! A line without `"` is split at its commas, and a line with one goes through
//! [`super::quoted::split`], which reads quoting as the `csv` crate does in the small files. A
//! sharded job glances at each record's first two cells to see whether it is the core's before
//! splitting the rest of it.
//!
//! A record longer than [`quoted::MAX_RECORD`] stops the read ([`LongRecord`]) as soon as it is
//! seen, so that one line of a gigabyte is refused after a few MiB instead of being gathered
//! whole into the buffer, which would double until it held it.

use std::fs::File;
use std::hash::{Hash, Hasher};
use std::io::{Read, Seek, SeekFrom};

use memchr::{memchr, memchr_iter};
use rayon::prelude::*;

use crate::ingest::lines::{self, Lines};
use crate::ingest::parse::Row;
use crate::ingest::reader::plan::{BLOCK, Job, MAX_COLUMNS, Shard, Sink, Source};
use crate::ingest::reader::quoted;
use crate::model::records::Line;
use crate::model::reject::Reject;
use crate::progress::Progress;

/// The error a job gives, inside an [`std::io::Error`], for a record longer than
/// [`quoted::MAX_RECORD`] bytes (its line end not counted) that starts at byte `offset` of the
/// file. The reader turns it into a refusal naming the file and the record's line.
#[derive(Debug)]
pub struct LongRecord {
    pub offset: u64,
}

impl std::fmt::Display for LongRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "a record longer than {} bytes at byte {}",
            quoted::MAX_RECORD,
            self.offset
        )
    }
}

impl std::error::Error for LongRecord {}

/// Reads `input` in blocks of `block` bytes, handing `each` the bytes not used yet, whether the
/// input has ended, and how many bytes came before them; `each` returns how many it used, whole
/// records only. A record longer than the buffer doubles it. `advance` hears of every byte read.
/// Returns once the input has ended and `each` has used all of it.
pub fn blocks(
    mut input: impl Read,
    block: usize,
    mut advance: impl FnMut(u64),
    mut each: impl FnMut(&[u8], bool, u64) -> std::io::Result<usize>,
) -> std::io::Result<()> {
    let mut buf = vec![0u8; block];
    let (mut filled, mut eof, mut before) = (0usize, false, 0u64);
    loop {
        while !eof && filled < buf.len() {
            match input.read(&mut buf[filled..])? {
                0 => eof = true,
                n => {
                    filled += n;
                    advance(n as u64);
                }
            }
        }
        let used = each(&buf[..filled], eof, before)?;
        if eof && used == filled {
            return Ok(());
        }
        if used == 0 && filled == buf.len() {
            // One record longer than the buffer.
            buf.resize(buf.len() * 2, 0);
        }
        buf.copy_within(used..filled, 0);
        filled -= used;
        before += used as u64;
    }
}

/// What reading one segment gave.
pub(super) struct Segment<S> {
    pub(super) sink: S,
    pub(super) rows: u64,
    pub(super) line_ends: u64,
    /// A record held a line end inside quotes, or stopped inside them.
    pub(super) quoted_line_end: bool,
    pub(super) lines: Lines,
}

pub(super) fn read_jobs<S: Sink>(
    source: &Source,
    jobs: &[Job],
    make: &(impl Fn() -> S + Sync),
    progress: &dyn Progress,
) -> std::io::Result<Vec<Segment<S>>> {
    progress.work(jobs.iter().map(|j| j.end - j.start).sum());
    jobs.par_iter()
        .map(|job| {
            let mut reader = SegmentReader::new(source, make(), job.shard, progress);
            reader.read(job.start, job.end)?;
            Ok(Segment {
                sink: reader.sink,
                rows: reader.rows,
                line_ends: reader.line,
                quoted_line_end: reader.quoted_line_end,
                lines: reader.lines,
            })
        })
        .collect()
}

struct SegmentReader<'s, S> {
    source: &'s Source,
    progress: &'s dyn Progress,
    sink: S,
    shard: Option<Shard>,
    /// Records taken: handed to the sink, or rejected.
    rows: u64,
    /// Line ends passed so far: the current line, counted from the segment's first.
    line: Line,
    quoted_line_end: bool,
    /// The records that span lines, with line numbers counted like [`SegmentReader::line`].
    lines: Lines,
    /// The record being split was handed to [`Sink::glance`] already.
    glanced: bool,
    /// Scratch for records with quotes: the unescaped cells and where each ends.
    cells: Vec<u8>,
    ends: Vec<usize>,
    /// Where a record longer than [`quoted::MAX_RECORD`] starts in the file, once one is seen.
    too_long: Option<u64>,
}

impl<'s, S: Sink> SegmentReader<'s, S> {
    fn new(source: &'s Source, sink: S, shard: Option<Shard>, progress: &'s dyn Progress) -> Self {
        SegmentReader {
            source,
            progress,
            sink,
            shard,
            rows: 0,
            line: 0,
            quoted_line_end: false,
            lines: Lines::default(),
            glanced: false,
            cells: Vec::new(),
            ends: Vec::new(),
            too_long: None,
        }
    }

    /// Reads the records in `[start, end)`, which starts at a record.
    fn read(&mut self, start: u64, end: u64) -> std::io::Result<()> {
        let mut file = File::open(&self.source.path)?;
        file.seek(SeekFrom::Start(start))?;
        let progress = self.progress;
        blocks(
            file.take(end - start),
            BLOCK.min((end - start) as usize + 1),
            |n| progress.advance(n),
            |data, eof, before| {
                let used = self.records(data, eof, start + before);
                match self.too_long {
                    Some(offset) => Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        LongRecord { offset },
                    )),
                    None => Ok(used),
                }
            },
        )
    }

    /// Handles the complete records at the start of `data`; returns the bytes they took. With
    /// `eof`, the last record needs no line end. Stops at a record longer than
    /// [`quoted::MAX_RECORD`], noting where it starts in [`SegmentReader::too_long`].
    fn records(&mut self, data: &[u8], eof: bool, offset: u64) -> usize {
        let mut pos = 0;
        while pos < data.len() {
            let rest = &data[pos..];
            let newline = memchr(b'\n', rest);
            let line_len = match newline {
                Some(i) => i,
                None if eof => rest.len(),
                None => {
                    if rest.len() > quoted::MAX_RECORD {
                        self.too_long = Some(offset + pos as u64);
                    }
                    break;
                }
            };
            if line_len > quoted::MAX_RECORD {
                self.too_long = Some(offset + pos as u64);
                break;
            }
            let line = &rest[..line_len];
            if memchr(b'"', line).is_none() {
                let text = line.strip_suffix(b"\r").unwrap_or(line);
                if !text.is_empty() {
                    self.plain(text, offset + pos as u64);
                }
                self.line += u64::from(newline.is_some());
                pos += (line_len + 1).min(rest.len());
                continue;
            }
            // Most quoted lines quote whole cells, as spreadsheets and exports write them.
            let text = line.strip_suffix(b"\r").unwrap_or(line);
            if self.by_commas(text, offset + pos as u64, true) {
                self.line += u64::from(newline.is_some());
                pos += (line_len + 1).min(rest.len());
                continue;
            }
            let Some(quoted::Record {
                used,
                is_record,
                line_end_in_quotes,
                ..
            }) = self.quoted(rest, eof)
            else {
                if rest.len() > quoted::MAX_RECORD {
                    self.too_long = Some(offset + pos as u64);
                }
                break;
            };
            let record = &rest[..used];
            if lines::trim_end(record).len() > quoted::MAX_RECORD {
                self.too_long = Some(offset + pos as u64);
                break;
            }
            self.quoted_line_end |= line_end_in_quotes;
            let line_ends = memchr_iter(b'\n', record).count() as Line;
            if is_record {
                self.note_span(record);
                self.emit_quoted(offset + pos as u64);
            }
            self.glanced = false;
            self.line += line_ends;
            pos += used;
        }
        pos
    }

    /// A record without quotes: its cells are the text between commas.
    fn plain(&mut self, text: &[u8], offset: u64) {
        self.by_commas(text, offset, false);
    }

    /// Splits a line at its commas, as [`SegmentReader::plain`] does. With `quoted`, the line
    /// holds quotes, and a cell written `"…"` is its inside; this is only right when every quote in
    /// the line opens or closes such a cell (no `""`, no comma or line end inside quotes) and the
    /// line has no `\r`. Returns false, having handed nothing on, for a line that is not that
    /// simple, which [`quoted::split`] must read.
    fn by_commas(&mut self, text: &[u8], offset: u64, quoted: bool) -> bool {
        if quoted && memchr(b'\r', text).is_some() {
            return false;
        }
        if let Some(shard) = self.shard
            && !self.sink.checks_all()
        {
            match self.first_two(text, quoted) {
                Glance::Unsure => return false,
                Glance::Missing => {}
                Glance::Cells(first, second) => {
                    // Most records of a sharded read belong to another core or are declined:
                    // they are passed over without splitting the rest of them.
                    let keyed = match shard.column {
                        0 => first,
                        1 => second,
                        _ => unreachable!("shards are keyed by contract column 0 or 1"),
                    };
                    if owner(keyed, shard.count) != shard.index || !self.sink.glance(first, second)
                    {
                        return true;
                    }
                    self.glanced = true;
                }
            }
        }
        let split = self.split(text, offset, quoted);
        // A record glanced at and then read by `quoted::split` is not glanced at again.
        if split {
            self.glanced = false;
        }
        split
    }

    /// The record's cells in contract columns 0 and 1, when they are there and are text. With
    /// `quoted`, `Unsure` when the cells up to them are not simply quoted.
    fn first_two<'t>(&self, text: &'t [u8], quoted: bool) -> Glance<'t> {
        let positions = &self.source.header.positions;
        let (Some(&at_first), Some(&at_second)) = (positions.first(), positions.get(1)) else {
            return Glance::Missing;
        };
        let mut cells = [None, None];
        let (mut start, mut quoted_cells) = (0, 0);
        for (i, end) in memchr_iter(b',', text)
            .chain([text.len()])
            .enumerate()
            .take(at_first.max(at_second) + 1)
        {
            let mut cell = &text[start..end];
            if quoted && let Some(inside) = unquote(cell) {
                cell = inside;
                quoted_cells += 1;
            }
            for (slot, at) in cells.iter_mut().zip([at_first, at_second]) {
                if i == at {
                    *slot = std::str::from_utf8(cell).ok();
                }
            }
            start = end + 1;
        }
        if quoted && memchr_iter(b'"', &text[..start.min(text.len())]).count() != 2 * quoted_cells {
            return Glance::Unsure;
        }
        match cells {
            [Some(first), Some(second)] => Glance::Cells(first, second),
            _ => Glance::Missing,
        }
    }

    /// Splits a line at its commas; with `quoted`, as [`SegmentReader::by_commas`] says.
    fn split(&mut self, text: &[u8], offset: u64, quoted: bool) -> bool {
        let Ok(text) = std::str::from_utf8(text) else {
            if quoted {
                return false;
            }
            let reject = self.not_utf8(text.split(|&b| b == b','));
            self.reject(reject);
            return true;
        };
        // Cells on the stack for the usual row; a row wider than that is collected instead.
        let mut cells = [""; 64];
        let (mut count, mut quoted_cells) = (0, 0);
        let mut start = 0;
        for end in memchr_iter(b',', text.as_bytes()).chain([text.len()]) {
            if count == cells.len() {
                if quoted {
                    return false;
                }
                let all: Vec<&str> = text.split(',').collect();
                self.emit(&all, offset);
                return true;
            }
            // A comma and a quote are one byte of ASCII, so every end is a character boundary.
            let mut cell = &text[start..end];
            if quoted && unquote(cell.as_bytes()).is_some() {
                cell = &cell[1..cell.len() - 1];
                quoted_cells += 1;
            }
            cells[count] = cell;
            start = end + 1;
            count += 1;
        }
        if quoted && memchr_iter(b'"', text.as_bytes()).count() != 2 * quoted_cells {
            return false;
        }
        self.emit(&cells[..count], offset);
        true
    }

    /// Reads one record that holds quotes into `self.cells` and `self.ends` ([`quoted::split`]).
    fn quoted(&mut self, data: &[u8], eof: bool) -> Option<quoted::Record> {
        quoted::split(data, eof, &mut self.cells, &mut self.ends)
    }

    /// Notes a record whose quoted cell holds line ends; with shards, the first core does.
    fn note_span(&mut self, record: &[u8]) {
        let text = lines::trim_end(record);
        let line_ends = memchr_iter(b'\n', text).count() as Line;
        if line_ends > 0 && self.shard.is_none_or(|s| s.index == 0) {
            let names = &self.source.header.names;
            self.lines.spanning(self.line, line_ends, || {
                lines::spanning_cell(text)
                    .and_then(|i| names.get(i).cloned())
                    .unwrap_or_default()
            });
        }
    }

    fn emit_quoted(&mut self, offset: u64) {
        let cells = std::mem::take(&mut self.cells);
        let ends = std::mem::take(&mut self.ends);
        // Valid as a whole and cut at character boundaries: then every cell is valid.
        match std::str::from_utf8(&cells) {
            Ok(text) if ends.iter().all(|&end| text.is_char_boundary(end)) => {
                let cell = |i: usize| &text[if i == 0 { 0 } else { ends[i - 1] }..ends[i]];
                if ends.len() <= 64 {
                    let mut split = [""; 64];
                    for (i, slot) in split.iter_mut().enumerate().take(ends.len()) {
                        *slot = cell(i);
                    }
                    self.emit(&split[..ends.len()], offset);
                } else {
                    let all: Vec<&str> = (0..ends.len()).map(cell).collect();
                    self.emit(&all, offset);
                }
            }
            _ => {
                let raw =
                    (0..ends.len()).map(|i| &cells[if i == 0 { 0 } else { ends[i - 1] }..ends[i]]);
                let reject = self.not_utf8(raw);
                self.reject(reject);
            }
        }
        self.cells = cells;
        self.ends = ends;
    }

    /// Hands a split record to the sink, or rejects it when its cells do not match the header.
    fn emit(&mut self, cells: &[&str], offset: u64) {
        let header = &self.source.header;
        let spec = self.source.spec;
        if cells.len() != header.names.len() {
            self.reject(Reject {
                file: spec.name,
                line: self.line,
                column: String::new(),
                value: String::new(),
                reason: format!(
                    "row has {} fields but the header has {}",
                    cells.len(),
                    header.names.len()
                ),
            });
            return;
        }
        if let Some(shard) = self.shard
            && owner(cells[header.positions[shard.column]], shard.count) != shard.index
        {
            return;
        }
        if self.shard.is_some()
            && !self.glanced
            && !self.sink.checks_all()
            && !self
                .sink
                .glance(cells[header.positions[0]], cells[header.positions[1]])
        {
            return;
        }
        self.rows += 1;
        let mut values = [""; MAX_COLUMNS];
        for (value, &pos) in values.iter_mut().zip(&header.positions) {
            *value = cells[pos];
        }
        let row = Row {
            line: self.line,
            columns: spec.columns,
            values: &values[..spec.columns.len()],
        };
        self.sink.row(&row, offset);
    }

    /// Rejects a record it could not split. With shards, the first core takes these.
    fn reject(&mut self, reject: Reject) {
        if self.shard.is_none_or(|s| s.index == 0) {
            self.rows += 1;
            self.sink.reject(reject);
        }
    }

    /// The reject for a record with a cell that is not UTF-8, naming the first such contract column.
    fn not_utf8<'c>(&self, cells: impl Iterator<Item = &'c [u8]>) -> Reject {
        let bad: Vec<usize> = cells
            .enumerate()
            .filter(|(_, c)| std::str::from_utf8(c).is_err())
            .map(|(i, _)| i)
            .collect();
        let spec = self.source.spec;
        let column = spec
            .columns
            .iter()
            .zip(&self.source.header.positions)
            .find(|(_, pos)| bad.contains(pos))
            .map_or("", |(c, _)| c);
        Reject {
            file: spec.name,
            line: self.line,
            column: column.into(),
            value: String::new(),
            reason: "not valid UTF-8".into(),
        }
    }
}

/// What [`SegmentReader::first_two`] found.
enum Glance<'t> {
    Cells(&'t str, &'t str),
    /// The record has no such cells, or they are not text: it goes the whole way.
    Missing,
    /// The quotes before them are not simple: the record needs [`quoted::split`].
    Unsure,
}

/// The inside of a cell written `"…"`.
fn unquote(cell: &[u8]) -> Option<&[u8]> {
    (cell.len() >= 2 && cell[0] == b'"' && cell[cell.len() - 1] == b'"')
        .then(|| &cell[1..cell.len() - 1])
}

/// The shard, of `count`, that takes the records with this cell.
fn owner(cell: &str, count: usize) -> usize {
    let mut h = rustc_hash::FxHasher::default();
    cell.trim().hash(&mut h);
    (h.finish() % count as u64) as usize
}
