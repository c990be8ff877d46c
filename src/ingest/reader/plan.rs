//! The job planner of the parallel CSV reader: how the cores share a big file.
//!
//! The cores share a file in one of two ways ([`Split`]). With segments, it is cut at line ends
//! into one contiguous segment per core, and the caller merges the sinks in file order. With
//! shards, every core reads the whole file and takes the records whose cell in one column hashes
//! to it: reading is cheap next to what a sink does with a record, and each sink then holds the
//! groups of its own accounts only. Each core's job is then read by the record splitter
//! ([`super::split`]).
//!
//! Line numbers inside a segment count from the segment's first byte, since a segment cannot know
//! how many lines come before it until the segments before it are read. [`Part::first_line`] says
//! where each one starts, for the merge.
//!
//! Cutting at line ends is only right when no quoted cell holds a line end across a cut. A record
//! with a line end inside quotes (or a quote still open where its segment stops) is noticed, and the
//! file is then read again as one segment, which is always right. Shards read the whole file, so
//! they never cut a record.
//!
//! No record may be longer than [`quoted::MAX_RECORD`], the header included: a longer one stops
//! the read with an error naming the file and the record's line, after a few MiB of it, so that
//! memory stays bounded whatever the file holds (one line of a gigabyte).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use memchr::{memchr, memchr_iter};
use sha2::{Digest, Sha256};

use crate::digest::hex;
use crate::error::DatasetError;
use crate::ingest::lines::{self, Lines};
use crate::ingest::parse::Row;
use crate::ingest::presence::{self, Presence};
use crate::ingest::reader::quoted;
use crate::ingest::reader::split::{LongRecord, read_jobs};
use crate::ingest::schema::{FileSpec, Header};
use crate::ingest::small;
use crate::model::records::Line;
use crate::model::reject::Reject;
use crate::progress::Progress;

/// Bytes read at a time by each segment.
pub(super) const BLOCK: usize = 4 << 20;
/// Below this size a file is read as one segment: splitting would cost more than it saves.
const SPLIT_ABOVE: u64 = 8 << 20;
/// The most contract columns any big file has.
pub const MAX_COLUMNS: usize = 24;

/// What a segment's records go to.
pub trait Sink: Send {
    /// A record whose cells are in contract column order. `row.line` counts from the segment's first
    /// line (0); `offset` is the record's first byte in the file.
    fn row(&mut self, row: &Row, offset: u64);
    /// A record that could not be split into the header's cells; its line counts like `row`'s.
    fn reject(&mut self, reject: Reject);

    /// Whether every record must be split and checked, for its rejects and the file's row count.
    /// When not, a sharded read hands each record of its shard to [`Sink::glance`] first, often
    /// before splitting the rest of it, and passes over the records it declines.
    fn checks_all(&self) -> bool {
        true
    }

    /// A record of this core's shard, by its cells in contract columns 0 and 1 (an id and an
    /// account), when [`Sink::checks_all`] is false: whether to hand it to [`Sink::row`]. Called
    /// once for each such record that has both cells.
    fn glance(&mut self, _first: &str, _second: &str) -> bool {
        true
    }
}

/// How the cores share a file.
#[derive(Copy, Clone, Debug)]
pub enum Split {
    /// Each core reads one contiguous segment and takes all of its records.
    Segments,
    /// Each core reads the whole file and takes the records whose cell in this contract column
    /// hashes to it, so that every value of the column is seen by one core only. The records it
    /// cannot split, and their rejects, go to the first core.
    Shards { column: usize },
}

/// One core's sink, and where its line numbers start.
pub struct Part<S> {
    pub sink: S,
    /// The line the part's line numbers count from: add it to the sink's line numbers.
    pub first_line: Line,
    /// Records this part took, used or not: the parts' counts add up to the file's records.
    pub rows: u64,
    /// The records that span lines, with absolute line numbers; only one shard counts them.
    pub lines: Lines,
}

/// What reading a file whole gives beside its records: its SHA-256 and its physical lines.
pub struct Whole {
    pub sha256: String,
    pub lines: u64,
}

/// A big input file whose header matched its spec.
pub struct Source {
    pub spec: &'static FileSpec,
    pub header: Header,
    pub(super) path: PathBuf,
    len: u64,
    /// Where the first data record starts, and its line.
    data_start: u64,
    first_line: Line,
    header_lines: u64,
}

impl Source {
    /// Opens `dir/<spec.name>` and checks its header. `None` when an optional file is absent.
    pub fn open(dir: &Path, spec: &'static FileSpec) -> Result<Option<Source>, DatasetError> {
        let path = dir.join(spec.name);
        let io = |source| DatasetError::Io {
            path: path.clone(),
            source,
        };
        // A FIFO would block `open`, and a dangling link would look absent: see `presence`.
        let absent = presence::probe(&path)? == Presence::Absent;
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if absent && e.kind() == std::io::ErrorKind::NotFound && !spec.required => {
                return Ok(None);
            }
            Err(e) => return Err(io(e)),
        };
        assert!(
            spec.columns.len() <= MAX_COLUMNS,
            "contract columns fit a row"
        );
        let len = file.metadata().map_err(io)?.len();
        // The header record: read the file's head until it holds the whole of it, or more than
        // the longest record, which `read_header` refuses.
        let mut head = Vec::new();
        let (header, data_start) = loop {
            let want = (head.len() as u64).max(64 << 10);
            let got = (&file).take(want).read_to_end(&mut head).map_err(io)?;
            let mut records = quoted::Records::new(&head);
            let first = records.next_record();
            let end = first.as_ref().map_or(head.len(), |r| r.end);
            if (got as u64) < want || end < head.len() || head.len() > quoted::MAX_RECORD {
                break (small::read_header(spec, first)?, end as u64);
            }
        };
        // The header's line ends: usually one, unless a header cell is quoted across lines.
        head.truncate(data_start as usize);
        let first_line = 1 + memchr_iter(b'\n', &head).count() as Line;
        let header_lines = 1 + memchr_iter(b'\n', lines::trim_end(&head)).count() as u64;
        Ok(Some(Source {
            spec,
            header,
            path,
            len,
            data_start,
            first_line,
            header_lines,
        }))
    }

    /// Lines the header takes: 1, unless a header cell is quoted across lines.
    pub fn header_lines(&self) -> u64 {
        self.header_lines
    }

    /// About how many records the file holds: its data's size over the mean length of the lines
    /// in its first 64 KiB, with 5% to spare.
    pub fn estimated_rows(&self) -> Result<u64, DatasetError> {
        let io = |source| DatasetError::Io {
            path: self.path.clone(),
            source,
        };
        let mut file = File::open(&self.path).map_err(io)?;
        file.seek(SeekFrom::Start(self.data_start)).map_err(io)?;
        let mut sample = Vec::new();
        file.take(64 << 10).read_to_end(&mut sample).map_err(io)?;
        let lines = memchr_iter(b'\n', &sample).count().max(1) as u64;
        let data = self.len - self.data_start;
        Ok(data * lines / sample.len().max(1) as u64 * 21 / 20)
    }

    /// Reads every record into sinks made by `make`, one per core, and hashes the file on a
    /// thread of its own meanwhile. Returns the parts in file order, and the file's SHA-256 and
    /// physical lines.
    pub fn read<S: Sink>(
        &self,
        split: Split,
        make: impl Fn() -> S + Sync,
        progress: &dyn Progress,
    ) -> Result<(Vec<Part<S>>, Whole), DatasetError> {
        let io = |source| DatasetError::Io {
            path: self.path.clone(),
            source,
        };
        // A read that fails stops the hashing too, rather than wait for it to reach the end.
        let stop = AtomicBool::new(false);
        let (digest, parts) = std::thread::scope(|s| {
            let digest = s.spawn(|| sha256(&self.path, &stop));
            let parts = self.read_parts(
                split,
                &make,
                rayon::current_num_threads(),
                SPLIT_ABOVE,
                progress,
            );
            if parts.is_err() {
                stop.store(true, Ordering::Relaxed);
            }
            (digest.join(), parts)
        });
        let parts = parts.map_err(|e| self.failed(e))?;
        let digest = digest
            .unwrap_or_else(|_| Err(std::io::Error::other("hashing thread panicked")))
            .map_err(io)?;
        Ok((parts, digest))
    }

    /// The error for a read that failed: a refusal naming the file and the line of a record
    /// longer than [`quoted::MAX_RECORD`], or the I/O error.
    fn failed(&self, e: std::io::Error) -> DatasetError {
        let io = |source| DatasetError::Io {
            path: self.path.clone(),
            source,
        };
        let long = e
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<LongRecord>());
        let Some(&LongRecord { offset }) = long else {
            return io(e);
        };
        match line_at(&self.path, offset) {
            Ok(line) => DatasetError::Unreadable {
                file: self.spec.name,
                line,
                reason: format!("refused: {}", quoted::TooLong { line }),
            },
            Err(source) => io(source),
        }
    }

    /// Reads every record again, as [`Source::read`] does, without hashing the file again.
    pub fn read_again<S: Sink>(
        &self,
        split: Split,
        make: impl Fn() -> S + Sync,
        progress: &dyn Progress,
    ) -> Result<Vec<Part<S>>, DatasetError> {
        self.read_parts(
            split,
            &make,
            rayon::current_num_threads(),
            SPLIT_ABOVE,
            progress,
        )
        .map_err(|e| self.failed(e))
    }

    /// Reads with `n` cores, or one when the data is smaller than `split_above` bytes.
    fn read_parts<S: Sink>(
        &self,
        split: Split,
        make: &(impl Fn() -> S + Sync),
        n: usize,
        split_above: u64,
        progress: &dyn Progress,
    ) -> std::io::Result<Vec<Part<S>>> {
        let whole = |shard| Job {
            start: self.data_start,
            end: self.len,
            shard,
        };
        // Segments count lines from their own start; shards, from the start of the data.
        let (parts, contiguous) = match split {
            Split::Segments => {
                let cuts = self.cuts(n, split_above)?;
                let jobs: Vec<Job> = cuts
                    .windows(2)
                    .map(|w| Job {
                        start: w[0],
                        end: w[1],
                        shard: None,
                    })
                    .collect();
                let segments = read_jobs(self, &jobs, make, progress)?;
                if jobs.len() > 1 && segments.iter().any(|s| s.quoted_line_end) {
                    (read_jobs(self, &[whole(None)], make, progress)?, true)
                } else {
                    (segments, true)
                }
            }
            Split::Shards { column } => {
                let n = self.cores(n, split_above);
                let jobs: Vec<Job> = (0..n)
                    .map(|index| {
                        whole(Some(Shard {
                            index,
                            count: n,
                            column,
                        }))
                    })
                    .collect();
                (read_jobs(self, &jobs, make, progress)?, false)
            }
        };
        let mut first_line = self.first_line;
        Ok(parts
            .into_iter()
            .map(|s| {
                let mut lines = s.lines;
                for span in &mut lines.spans {
                    span.line += first_line;
                }
                let part = Part {
                    sink: s.sink,
                    first_line,
                    rows: s.rows,
                    lines,
                };
                if contiguous {
                    first_line += s.line_ends;
                }
                part
            })
            .collect())
    }

    /// How many cores share the file: `n`, or one when its data is smaller than `split_above`.
    fn cores(&self, n: usize, split_above: u64) -> usize {
        if self.len - self.data_start < split_above {
            1
        } else {
            n.max(1)
        }
    }

    /// Segment bounds: `n` roughly equal byte ranges of the data, each starting just after a `\n`.
    fn cuts(&self, n: usize, split_above: u64) -> std::io::Result<Vec<u64>> {
        let data = self.len - self.data_start;
        let n = self.cores(n, split_above) as u64;
        let mut cuts = vec![self.data_start];
        let mut file = File::open(&self.path)?;
        for i in 1..n {
            let nominal = self.data_start + data * i / n;
            let cut = next_line_start(&mut file, nominal, self.len)?;
            if cut > *cuts.last().unwrap_or(&0) && cut < self.len {
                cuts.push(cut);
            }
        }
        cuts.push(self.len);
        Ok(cuts)
    }
}

/// The position just after the first `\n` at or after `from`, or the file's `end`. The end too
/// when no `\n` comes within [`quoted::MAX_RECORD`] bytes: the line there is too long to read, and
/// the segment that reaches it stops the read, so looking further (a gigabyte) is no use.
fn next_line_start(file: &mut File, from: u64, end: u64) -> std::io::Result<u64> {
    file.seek(SeekFrom::Start(from))?;
    let mut buf = vec![0u8; 64 << 10];
    let mut at = from;
    loop {
        if at - from > quoted::MAX_RECORD as u64 {
            return Ok(end);
        }
        let n = file.read(&mut buf)?;
        if n == 0 {
            return Ok(at.min(end));
        }
        if let Some(i) = memchr(b'\n', &buf[..n]) {
            return Ok((at + i as u64 + 1).min(end));
        }
        at += n as u64;
    }
}

/// One core's share of a read: the bytes `[start, end)`, which start at a record, and the shard
/// it takes when every core reads the whole file.
pub(super) struct Job {
    pub(super) start: u64,
    pub(super) end: u64,
    pub(super) shard: Option<Shard>,
}

#[derive(Copy, Clone)]
pub(super) struct Shard {
    pub(super) index: usize,
    pub(super) count: usize,
    pub(super) column: usize,
}

/// The physical line byte `offset` of the file is on: 1 and the line ends before it, counted as
/// the file streams through.
fn line_at(path: &Path, offset: u64) -> std::io::Result<Line> {
    let mut file = File::open(path)?.take(offset);
    let mut buf = vec![0u8; 1 << 20];
    let mut line = 1;
    loop {
        match file.read(&mut buf)? {
            0 => return Ok(line),
            n => line += memchr_iter(b'\n', &buf[..n]).count() as Line,
        }
    }
}

/// The file's SHA-256, as lowercase hex, and its physical lines; an error once `stop` is set.
fn sha256(path: &Path, stop: &AtomicBool) -> std::io::Result<Whole> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let (mut line_ends, mut last) = (0, b'\n');
    loop {
        if stop.load(Ordering::Relaxed) {
            return Err(std::io::Error::other("the read stopped"));
        }
        let n = file.read(&mut buf)?;
        if n == 0 {
            let lines = line_ends + u64::from(last != b'\n');
            return Ok(Whole {
                sha256: hex(&hasher.finalize()),
                lines,
            });
        }
        hasher.update(&buf[..n]);
        line_ends += memchr_iter(b'\n', &buf[..n]).count() as u64;
        last = buf[n - 1];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::schema::USAGE;

    /// Keeps what a segment saw: (line, usage_id, resource_id) and rejects' lines.
    #[derive(Default)]
    struct Seen {
        rows: Vec<(Line, String, String)>,
        rejects: Vec<Line>,
    }

    impl Sink for Seen {
        fn row(&mut self, row: &Row, _: u64) {
            self.rows
                .push((row.line, row.values[0].into(), row.values[4].into()));
        }
        fn reject(&mut self, reject: Reject) {
            self.rejects.push(reject.line);
        }
    }

    /// Reads `text` as `usage.csv` in `n` segments; returns every row and reject with its
    /// absolute line, and how many segments were read.
    fn read(text: &str, n: usize) -> (Vec<(Line, String, String)>, Vec<Line>, usize) {
        let (parts, _) = read_split(text, Split::Segments, n);
        parts
    }

    /// Reads `text` as `usage.csv` with `n` cores; returns every row and reject with its absolute
    /// line, in the order of the parts, how many parts were read, and the records each part took.
    #[allow(clippy::type_complexity)]
    fn read_split(
        text: &str,
        split: Split,
        n: usize,
    ) -> ((Vec<(Line, String, String)>, Vec<Line>, usize), Vec<u64>) {
        let dir = std::env::temp_dir().join(format!(
            "settle-segments-{}-{n}-{}",
            std::process::id(),
            text.len()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(USAGE.name), text).unwrap();
        let source = Source::open(&dir, &USAGE).unwrap().unwrap();
        let parts = source
            .read_parts(split, &Seen::default, n, 0, &crate::progress::Quiet)
            .unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        let count = parts.len();
        let taken = parts.iter().map(|p| p.rows).collect();
        let (mut rows, mut rejects) = (Vec::new(), Vec::new());
        for p in parts {
            rows.extend(
                p.sink
                    .rows
                    .into_iter()
                    .map(|(l, a, b)| (l + p.first_line, a, b)),
            );
            rejects.extend(p.sink.rejects.into_iter().map(|l| l + p.first_line));
        }
        ((rows, rejects, count), taken)
    }

    const HEADER: &str = "usage_id,account_id,product,sub_product,resource_id,start,end,quantity,unit,unit_price,currency\r\n";

    fn body(rows: usize) -> String {
        (0..rows)
            .map(|i| format!("u{i},a,p,,r{i},s,e,1,h,2,CNY\r\n"))
            .collect()
    }

    /// A sink that glances: passes over account `b`, and keeps what it was shown.
    #[derive(Default)]
    struct Glancer {
        glanced: Vec<(String, String)>,
        rows: Vec<String>,
    }

    impl Sink for Glancer {
        fn row(&mut self, row: &Row, _: u64) {
            self.rows.push(row.values[0].into());
        }
        fn reject(&mut self, _: Reject) {}
        fn checks_all(&self) -> bool {
            false
        }
        fn glance(&mut self, first: &str, second: &str) -> bool {
            self.glanced.push((first.into(), second.into()));
            second != "b"
        }
    }

    /// In a sharded read, each record with an id and an account is glanced at once, by its
    /// contract columns whatever the header's order, quoted or not; declined records are not split
    /// for `row`, and a record too short to have both cells goes the whole way.
    #[test]
    fn glancing_at_the_first_two_spec_columns() {
        let header = "resource_id,account_id,product,sub_product,usage_id,start,end,quantity,unit,unit_price,currency\n";
        let mut text = header.to_string();
        let mut expected = Vec::new();
        for i in 0..400 {
            let account = ["a", "b", "c"][i % 3];
            let product = if i % 7 == 0 { "\"p, q\"" } else { "p" };
            text += &if i % 11 == 0 {
                // Simply quoted up to the id, and not after it: glanced at, then read whole.
                format!("\"r{i}\",\"{account}\",p,\"\",\"u{i}\",s,e,1,\"h\"\"\",2,CNY\n")
            } else if i % 13 == 0 {
                format!("\"r{i}\",\"{account}\",\"p\",\"\",\"u{i}\",\"s\",e,1,h,2,\"CNY\"\r\n")
            } else {
                format!("r{i},{account},{product},,u{i},s,e,1,h,2,CNY\n")
            };
            expected.push((format!("u{i}"), account.to_string()));
        }
        text += "r-short\n";
        let dir = std::env::temp_dir().join(format!("settle-glance-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(USAGE.name), &text).unwrap();
        let source = Source::open(&dir, &USAGE).unwrap().unwrap();
        let parts = source
            .read_parts(
                Split::Shards { column: 1 },
                &Glancer::default,
                2,
                0,
                &crate::progress::Quiet,
            )
            .unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(parts.len(), 2);
        let mut glanced: Vec<(String, String)> =
            parts.iter().flat_map(|p| p.sink.glanced.clone()).collect();
        glanced.sort();
        expected.sort();
        assert_eq!(glanced, expected, "each record glanced at once");
        let mut rows: Vec<String> = parts.iter().flat_map(|p| p.sink.rows.clone()).collect();
        rows.sort();
        let mut kept: Vec<String> = expected
            .iter()
            .filter(|(_, account)| account != "b")
            .map(|(id, _)| id.clone())
            .collect();
        kept.sort();
        assert_eq!(rows, kept, "declined records never reach `row`");
    }

    #[test]
    fn segments_agree_with_one_pass() {
        let text = format!("{HEADER}{}\r\nu-x,a,p\n{}", body(500), body(700));
        let (one, one_rejects, count) = read(&text, 1);
        assert_eq!(count, 1);
        assert_eq!(one.len(), 1200);
        assert_eq!(one[0].0, 2, "the first record is on line 2");
        assert_eq!(one[500].0, 504, "an empty line and a short row come first");
        assert_eq!(one_rejects, vec![503]);
        for n in [2, 3, 7] {
            let (rows, rejects, count) = read(&text, n);
            assert_eq!(count, n, "{n} segments");
            assert_eq!(rows, one, "{n} segments");
            assert_eq!(rejects, one_rejects, "{n} segments");
        }
    }

    #[test]
    fn a_row_wider_than_the_stack_cells() {
        let extra: String = (0..70).map(|i| format!("x{i},")).collect();
        let header = format!("{extra}{HEADER}");
        let row = format!("{}u1,a,p,,r1,s,e,1,h,2,CNY\n", ",".repeat(70));
        let (rows, rejects, _) = read(&format!("{header}{row}"), 1);
        assert!(rejects.is_empty());
        assert_eq!(rows, vec![(2, "u1".into(), "r1".into())]);
    }

    #[test]
    fn a_line_end_inside_quotes_is_read_whole() {
        let quoted = "u-q,a,p,,\"r\r\nspanning, three\nlines\",s,e,1,h,2,CNY\r\n";
        let text = format!("{HEADER}{}{quoted}{}", body(300), body(300));
        let (one, _, _) = read(&text, 1);
        assert_eq!(
            one[300],
            (302, "u-q".into(), "r\r\nspanning, three\nlines".into())
        );
        assert_eq!(
            one[301].0, 305,
            "the next record starts after the three lines"
        );
        for n in [2, 4, 9] {
            let (rows, rejects, count) = read(&text, n);
            assert_eq!(rows, one, "{n} segments");
            assert!(rejects.is_empty());
            assert!(count <= n);
        }
    }

    /// Shards see the whole file: together they take every row once, with its line, each
    /// account's rows go to one shard, and the first shard takes the rejects.
    #[test]
    fn shards_agree_with_one_pass() {
        let rows: String = (0..900)
            .map(|i| format!("u{i},a{},p,,r{i},s,e,1,h,2,CNY\n", i % 13))
            .collect();
        let text = format!("{HEADER}{rows}u-x,a,p\n{rows}");
        let (one, one_rejects, _) = read(&text, 1);
        assert_eq!(one.len(), 1800);
        for n in [2, 3] {
            let ((mut rows, rejects, count), taken) =
                read_split(&text, Split::Shards { column: 1 }, n);
            assert_eq!(count, n);
            assert_eq!(
                taken.iter().sum::<u64>(),
                1801,
                "every record is taken once"
            );
            assert!(taken.iter().all(|&t| t > 0), "{taken:?}");
            rows.sort();
            assert_eq!(rows, one, "{n} shards");
            assert_eq!(rejects, one_rejects, "{n} shards");
        }
    }
}
