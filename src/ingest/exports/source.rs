//! CSV and gzip CSV exports: the header, and every row with its physical line.
//!
//! A file streams through in blocks (decompressed as it is read, for `.csv.gz`), split by the
//! project's one record splitter ([`crate::ingest::reader::quoted`]), and each row's physical line is
//! known even where a quoted cell spans lines. The SHA-256 the manifest lists is of the file as it
//! is on disk, hashed as it is read.

use std::cell::{Cell, RefCell};
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;
use std::rc::Rc;

use flate2::read::MultiGzDecoder;

use sha2::{Digest as _, Sha256};

use crate::digest::hex;
use crate::error::DatasetError;
use crate::ingest::exports::{ExportFile, Kind, RawRow};
use crate::ingest::lines::{self, Lines};
use crate::ingest::reader::quoted::{Stream, TooLong};
use crate::model::records::Line;
use memchr::memchr_iter;

/// Passes the bytes read through SHA-256, for the manifest's digest of the file as stored, and
/// counts them, for [`Inflating`].
struct Hashing<R> {
    inner: R,
    hasher: Rc<RefCell<Sha256>>,
    stored: Rc<Cell<u64>>,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.borrow_mut().update(&buf[..n]);
        self.stored.set(self.stored.get() + n as u64);
        Ok(n)
    }
}

/// How far a `.csv.gz` export may inflate: past its first [`FREE`] bytes, at most [`RATIO`]
/// times the bytes read from disk. Real exports inflate some 10 times; a member that inflates
/// hundreds of times (a gzip bomb, gigabytes of one line or of blank lines in a few MB) is
/// refused as it is read, before it costs minutes.
pub const RATIO: u64 = 256;
/// What a `.csv.gz` export may inflate to before [`RATIO`] is checked: 64 MiB.
pub const FREE: u64 = 64 << 20;

/// The error [`Inflating`] gives, inside an [`std::io::Error`].
#[derive(Debug)]
pub struct Inflated;

impl std::fmt::Display for Inflated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "it inflates more than {RATIO} times its size on disk (past its first {} MiB), which no \
             bill export does",
            FREE >> 20
        )
    }
}

impl std::error::Error for Inflated {}

/// Decompressed text, refused once it outgrows the stored bytes read ([`RATIO`], [`FREE`]).
struct Inflating<R> {
    inner: R,
    text: u64,
    stored: Rc<Cell<u64>>,
    free: u64,
}

impl<R: Read> Read for Inflating<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.text += n as u64;
        if self.text > self.free && self.text > self.stored.get().saturating_mul(RATIO) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                Inflated,
            ));
        }
        Ok(n)
    }
}

type Digest = Rc<RefCell<Sha256>>;

/// The file's text as it streams in (decompressed for `.csv.gz`), hashing the stored bytes.
fn open(path: &Path, kind: Kind) -> Result<(Stream<Box<dyn Read>>, Digest), DatasetError> {
    let file = File::open(path).map_err(|source| DatasetError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let digest = Digest::default();
    let stored = Rc::new(Cell::new(0));
    let hashing = Hashing {
        inner: file,
        hasher: digest.clone(),
        stored: stored.clone(),
    };
    let text: Box<dyn Read> = match kind {
        Kind::CsvGz => Box::new(Inflating {
            inner: MultiGzDecoder::new(BufReader::new(hashing)),
            text: 0,
            stored,
            free: FREE,
        }),
        _ => Box::new(hashing),
    };
    Ok((Stream::new(text), digest))
}

fn unreadable(name: &'static str, kind: Kind, line: Line, e: &std::io::Error) -> DatasetError {
    if let Some(inner) = e.get_ref() {
        let refused = |line| DatasetError::Unreadable {
            file: name,
            line,
            reason: format!("refused: {inner}"),
        };
        if let Some(too_long) = inner.downcast_ref::<TooLong>() {
            return refused(too_long.line);
        }
        if inner.is::<Inflated>() {
            return refused(line);
        }
    }
    let what = if kind == Kind::CsvGz {
        "not a gzip file"
    } else {
        "cannot be read"
    };
    DatasetError::Unreadable {
        file: name,
        line,
        reason: format!("{what}: {e}"),
    }
}

/// The header row of a CSV export.
pub fn header(path: &Path, kind: Kind, name: &'static str) -> Result<Vec<String>, DatasetError> {
    let (mut stream, _) = open(path, kind)?;
    match stream
        .next_record()
        .map_err(|e| unreadable(name, kind, 1, &e))?
    {
        // A header never holds a `\r`: one there is a line end that `\n` does not follow, as
        // Excel's "CSV (Macintosh)" writes them, which would make the whole file one header
        // line and its rows nothing.
        Some((r, _)) if r.iter().any(|c| c.contains(&b'\r')) => {
            Err(DatasetError::CrLineEnds { file: name })
        }
        Some((r, _)) => Ok(r
            .iter()
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect()),
        None => Err(DatasetError::EmptyFile {
            file: name,
            expected: "the export's header row".into(),
        }),
    }
}

/// Hands every data row of a CSV export to `visit`, with the cells of the file's fields; returns
/// the file's SHA-256 and its physical lines. The file streams through in blocks, so a month's
/// export need not fit in memory.
pub fn read(
    file: &ExportFile,
    visit: &mut dyn FnMut(RawRow),
) -> Result<(String, Lines), DatasetError> {
    let wanted = file.wanted();
    let (mut stream, digest) = open(&file.path, file.kind)?;
    let fail = |line, e: std::io::Error| unreadable(file.name, file.kind, line, &e);
    let header_lines = match stream.next_record().map_err(|e| fail(1, e))? {
        Some((r, _)) => 1 + memchr_iter(b'\n', lines::trim_end(r.raw)).count() as u64,
        None => 0,
    };
    let mut lines = Lines {
        header: header_lines,
        ..Lines::default()
    };
    let mut last_line = 1;
    loop {
        let (record, line) = match stream.next_record() {
            Ok(Some(found)) => found,
            Ok(None) => break,
            Err(e) => return Err(fail(last_line, e)),
        };
        last_line = line;
        let raw = lines::trim_end(record.raw);
        let line_ends = memchr_iter(b'\n', raw).count() as u64;
        if line_ends > 0 {
            lines.spanning(line, line_ends, || {
                lines::spanning_cell(raw)
                    .and_then(|i| file.header.get(i).cloned())
                    .unwrap_or_default()
            });
        }
        if record.len() != file.header.len() {
            visit(RawRow::Bad {
                line,
                reason: format!(
                    "row has {} fields but the header has {}",
                    record.len(),
                    file.header.len()
                ),
            });
            continue;
        }
        let mut values: Vec<&str> = Vec::with_capacity(wanted.len());
        let mut bad = None;
        for column in &wanted {
            let cell = column.map_or(&b""[..], |c| record.get(c));
            match std::str::from_utf8(cell) {
                Ok(v) => values.push(v),
                Err(_) => {
                    bad = Some(*column);
                    break;
                }
            }
        }
        if let Some(column) = bad {
            let name = column.map_or("", |c| file.header[c].as_str());
            visit(RawRow::Bad {
                line,
                reason: format!("column `{name}` is not valid UTF-8; save the export as UTF-8"),
            });
            continue;
        }
        visit(RawRow::Values {
            line,
            values: &values,
            typed: &[],
        });
    }
    lines.total = stream.lines();
    drop(stream);
    let sha256 = hex(&digest.take().finalize());
    Ok((sha256, lines))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;

    /// The inflation bound, at a test's scale: 64 KiB of one line in a gzip of some hundred
    /// bytes is refused once past `free`, and a text that inflates little is not.
    #[test]
    fn a_gzip_that_inflates_past_the_bound_is_refused() {
        let gzip = |text: &[u8]| {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            gz.write_all(text).expect("in memory");
            gz.finish().expect("in memory")
        };
        let read = |stored_bytes: Vec<u8>| {
            let stored = Rc::new(Cell::new(0));
            let hashing = Hashing {
                inner: stored_bytes.as_slice(),
                hasher: Digest::default(),
                stored: stored.clone(),
            };
            let mut inflating = Inflating {
                inner: MultiGzDecoder::new(BufReader::new(hashing)),
                text: 0,
                stored,
                free: 4096,
            };
            std::io::copy(&mut inflating, &mut std::io::sink())
        };
        let bomb = read(gzip(&vec![b'a'; 64 << 10])).expect_err("a bomb is refused");
        assert!(bomb.get_ref().is_some_and(|e| e.is::<Inflated>()), "{bomb}");
        let text: Vec<u8> = (0..20_000u32)
            .flat_map(|i| format!("{i},").into_bytes())
            .collect();
        assert!(read(gzip(&text)).is_ok(), "real text inflates little");
    }
}
