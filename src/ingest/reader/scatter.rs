//! Scratch files that let a month of several batches read `bills.csv` once.
//!
//! The first batch's read splits every record of the file. The records of the other batches'
//! accounts are written, already split into their cells, to one file per batch and core, and each
//! record's `bill_id` hash to one file per class of hashes (each batch checks one class for
//! duplicates: see [`crate::ingest::reader::big`]). A later batch then reads only its own records, from
//! files that hold its share of the month, where it used to read the whole of `bills.csv` again.
//!
//! A record is written as its byte offset in `bills.csv` and its line (each a little-endian
//! `u64`), its number of cells (one byte), then each cell as a LEB128 length and its bytes. A hash
//! is a little-endian `u64`.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::error::DatasetError;
use crate::ingest::parse::Row;
use crate::ingest::reader::plan::MAX_COLUMNS;
use crate::ingest::reader::split;
use crate::model::records::Line;

/// Bytes each scratch file buffers before writing: each core writes up to two files per batch.
const BUFFER: usize = 64 << 10;
/// Bytes read at a time when reading records back.
const BLOCK: usize = 4 << 20;

/// Where a read's scratch files go, and the numbers that keep each writer's files apart.
pub struct Scatter {
    dir: PathBuf,
    next: AtomicUsize,
}

impl Scatter {
    pub fn new(dir: PathBuf) -> Scatter {
        Scatter {
            dir,
            next: AtomicUsize::new(0),
        }
    }

    /// A writer for one core's records, over `batches` batches (and as many classes of hashes).
    pub fn writer(&self, batches: usize) -> Writer {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        Writer {
            dir: self.dir.clone(),
            n,
            records: (0..batches).map(|_| None).collect(),
            ids: (0..batches).map(|_| None).collect(),
            error: None,
            cell: Vec::new(),
        }
    }
}

/// One file being written.
struct Out {
    path: PathBuf,
    file: BufWriter<File>,
}

/// One core's scratch files. A write that fails is kept, and returned by [`Writer::finish`].
pub struct Writer {
    dir: PathBuf,
    n: usize,
    records: Vec<Option<Out>>,
    ids: Vec<Option<Out>>,
    error: Option<DatasetError>,
    cell: Vec<u8>,
}

/// The files one writer wrote: for each batch, its records; for each class, its hashes.
#[derive(Default)]
pub struct Written {
    pub records: Vec<Vec<PathBuf>>,
    pub ids: Vec<Vec<PathBuf>>,
}

impl Written {
    /// Adds another writer's files.
    pub fn merge(&mut self, other: Written) {
        for (mine, theirs) in [
            (&mut self.records, other.records),
            (&mut self.ids, other.ids),
        ] {
            mine.resize_with(mine.len().max(theirs.len()), Vec::new);
            for (list, more) in mine.iter_mut().zip(theirs) {
                list.extend(more);
            }
        }
    }
}

impl Writer {
    /// Writes a record of batch `batch`.
    pub fn record(&mut self, batch: usize, row: &Row, offset: u64) {
        self.cell.clear();
        self.cell.extend_from_slice(&offset.to_le_bytes());
        self.cell.extend_from_slice(&row.line.to_le_bytes());
        self.cell.push(row.values.len() as u8);
        for value in row.values {
            leb128(&mut self.cell, value.len());
            self.cell.extend_from_slice(value.as_bytes());
        }
        let bytes = std::mem::take(&mut self.cell);
        self.write(Kind::Records, batch, &bytes);
        self.cell = bytes;
    }

    /// Writes a `bill_id` hash of class `class`.
    pub fn id(&mut self, class: usize, hash: u64) {
        self.write(Kind::Ids, class, &hash.to_le_bytes());
    }

    fn write(&mut self, kind: Kind, index: usize, bytes: &[u8]) {
        if self.error.is_some() {
            return;
        }
        let (files, name) = match kind {
            Kind::Records => (&mut self.records, "bills"),
            Kind::Ids => (&mut self.ids, "bill-ids"),
        };
        let slot = &mut files[index];
        if slot.is_none() {
            let path = self.dir.join(format!("{name}-{index}-{}.bin", self.n));
            match File::create(&path) {
                Ok(file) => {
                    *slot = Some(Out {
                        file: BufWriter::with_capacity(BUFFER, file),
                        path,
                    });
                }
                Err(source) => {
                    self.error = Some(DatasetError::Scratch { path, source });
                    return;
                }
            }
        }
        let out = slot.as_mut().expect("opened above");
        if let Err(source) = out.file.write_all(bytes) {
            self.error = Some(DatasetError::Scratch {
                path: out.path.clone(),
                source,
            });
        }
    }

    /// Flushes every file; the files written, or the first write that failed.
    pub fn finish(self) -> Result<Written, DatasetError> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let close = |files: Vec<Option<Out>>| -> Result<Vec<Vec<PathBuf>>, DatasetError> {
            files
                .into_iter()
                .map(|slot| match slot {
                    None => Ok(Vec::new()),
                    Some(mut out) => match out.file.flush() {
                        Ok(()) => Ok(vec![out.path]),
                        Err(source) => Err(DatasetError::Scratch {
                            path: out.path,
                            source,
                        }),
                    },
                })
                .collect()
        };
        Ok(Written {
            records: close(self.records)?,
            ids: close(self.ids)?,
        })
    }
}

#[derive(Copy, Clone)]
enum Kind {
    Records,
    Ids,
}

fn leb128(out: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        out.push((n as u8 & 0x7f) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// Reads the records of one scratch file, in the order written, handing each to `each` with
/// its offset in `bills.csv`; `columns` names its cells.
pub fn read_records(
    path: &Path,
    columns: &'static [&'static str],
    mut each: impl FnMut(&Row, u64),
    mut advance: impl FnMut(u64),
) -> Result<(), DatasetError> {
    let corrupt = || {
        io::Error::new(
            io::ErrorKind::InvalidData,
            "a scratch file is cut short or damaged",
        )
    };
    let mut read = || {
        let file = File::open(path)?;
        split::blocks(file, BLOCK, &mut advance, |data, eof, _| {
            let mut pos = 0;
            while let Some((used, offset, line, values)) = record(&data[pos..]) {
                if values.len() != columns.len() {
                    return Err(corrupt());
                }
                let mut cells = [""; MAX_COLUMNS];
                for (cell, value) in cells.iter_mut().zip(values.iter()) {
                    *cell = std::str::from_utf8(value).map_err(|_| corrupt())?;
                }
                let row = Row {
                    line,
                    columns,
                    values: &cells[..values.len()],
                };
                each(&row, offset);
                pos += used;
            }
            if eof && pos < data.len() {
                return Err(corrupt());
            }
            Ok(pos)
        })
    };
    read().map_err(|source| DatasetError::Scratch {
        path: path.to_path_buf(),
        source,
    })
}

/// The record at the start of `data`, when it is all there: the bytes it takes, its offset, its
/// line and its cells.
fn record(data: &[u8]) -> Option<(usize, u64, Line, Cells<'_>)> {
    let offset = u64::from_le_bytes(data.get(..8)?.try_into().ok()?);
    let line = u64::from_le_bytes(data.get(8..16)?.try_into().ok()?);
    let count = *data.get(16)? as usize;
    let mut pos = 17;
    let mut cells = Cells::default();
    for _ in 0..count {
        let (len, at) = read_leb128(data, pos)?;
        let end = at.checked_add(len)?;
        cells.push(data.get(at..end)?);
        pos = end;
    }
    Some((pos, offset, line, cells))
}

fn read_leb128(data: &[u8], mut pos: usize) -> Option<(usize, usize)> {
    let (mut n, mut shift) = (0usize, 0);
    loop {
        let byte = *data.get(pos)?;
        pos += 1;
        n |= ((byte & 0x7f) as usize).checked_shl(shift)?;
        if byte < 0x80 {
            return Some((n, pos));
        }
        shift += 7;
    }
}

/// A record's cells, as they lie in the buffer.
#[derive(Default)]
struct Cells<'a> {
    cells: [&'a [u8]; MAX_COLUMNS],
    len: usize,
}

impl<'a> Cells<'a> {
    fn push(&mut self, cell: &'a [u8]) {
        if self.len < MAX_COLUMNS {
            self.cells[self.len] = cell;
        }
        self.len += 1;
    }

    fn len(&self) -> usize {
        self.len
    }

    fn iter(&self) -> impl Iterator<Item = &&'a [u8]> {
        self.cells[..self.len.min(MAX_COLUMNS)].iter()
    }
}

/// Reads the hashes of the files of one class.
pub fn read_ids(paths: &[PathBuf]) -> Result<Vec<Vec<u64>>, DatasetError> {
    paths
        .iter()
        .map(|path| {
            let fail = |source| DatasetError::Scratch {
                path: path.clone(),
                source,
            };
            let bytes = std::fs::read(path).map_err(fail)?;
            if bytes.len() % 8 != 0 {
                return Err(fail(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "a scratch file of hashes is cut short",
                )));
            }
            Ok(bytes
                .chunks_exact(8)
                .map(|b| u64::from_le_bytes(b.try_into().expect("eight bytes")))
                .collect())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLUMNS: &[&str] = &["a", "b", "c"];

    /// Records come back as written, with their offsets and lines, whatever their cells hold,
    /// across the blocks they are read in; hashes come back by class.
    #[test]
    fn records_and_ids_round_trip() {
        let dir = std::env::temp_dir().join(format!("settle-scatter-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let scatter = Scatter::new(dir.clone());
        let mut w = scatter.writer(2);
        let long = "x".repeat(300);
        // Longer than the block records are read in.
        let huge = "y".repeat(BLOCK + 1000);
        let rows: Vec<(u64, Line, [&str; 3])> = (0..40_000u64)
            .map(|i| {
                let cells = match i % 4 {
                    _ if i == 20_001 => ["h", &huge[..], ""],
                    0 => ["b-1", "", "cvm"],
                    1 => ["\"quoted\", with comma", "账户", "\n"],
                    2 => ["", "", ""],
                    _ => [&long[..], "y", "z"],
                };
                (i * 100, i + 2, cells)
            })
            .collect();
        for (i, (offset, line, cells)) in rows.iter().enumerate() {
            let row = Row {
                line: *line,
                columns: COLUMNS,
                values: cells,
            };
            w.record(i % 2, &row, *offset);
            w.id(1, *offset);
        }
        let written = w.finish().unwrap();
        assert_eq!(
            written.records.iter().map(Vec::len).collect::<Vec<_>>(),
            [1, 1]
        );
        assert!(written.ids[0].is_empty());
        let mut back = Vec::new();
        for batch in 0..2 {
            for path in &written.records[batch] {
                read_records(
                    path,
                    COLUMNS,
                    |row, offset| {
                        let cells: Vec<String> = row.values.iter().map(|v| v.to_string()).collect();
                        back.push((offset, row.line, cells));
                    },
                    |_| {},
                )
                .unwrap();
            }
        }
        back.sort();
        let expected: Vec<(u64, Line, Vec<String>)> = rows
            .iter()
            .map(|(o, l, c)| (*o, *l, c.iter().map(|s| s.to_string()).collect()))
            .collect();
        assert_eq!(back, expected);
        let ids = read_ids(&written.ids[1]).unwrap();
        assert_eq!(ids.concat(), rows.iter().map(|r| r.0).collect::<Vec<_>>());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A file cut inside a record, or inside a hash, is an error, not a short read.
    #[test]
    fn a_cut_file_is_an_error() {
        let dir = std::env::temp_dir().join(format!("settle-scatter-cut-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut w = Scatter::new(dir.clone()).writer(1);
        let row = Row {
            line: 2,
            columns: COLUMNS,
            values: &["a", "b", "c"],
        };
        w.record(0, &row, 0);
        let path = w.finish().unwrap().records[0][0].clone();
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 1]).unwrap();
        let mut seen = 0;
        let result = read_records(&path, COLUMNS, |_, _| seen += 1, |_| {});
        assert!(result.is_err());
        assert_eq!(seen, 0);
        let hashes = dir.join("hashes.bin");
        std::fs::write(&hashes, [0u8; 12]).unwrap();
        let error = read_ids(&[hashes]).unwrap_err().to_string();
        assert!(error.contains("cut short"), "{error}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
