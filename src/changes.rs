//! `changes.csv` of a restatement (R9): the input rows added, removed or changed since the month
//! of record, so that finance can say why a document changed.
//!
//! A month of record keeps the inputs it was computed from (`inputs/`, each file gzipped, written
//! by `settle close`). A restatement compares them with the dataset as it is now, file by file:
//! a CSV row by row, any other file (`settle.toml`, a Parquet export, a logo) by its bytes.
//!
//! Rows are matched by their id, the first column when its name ends in `_id` (`bill_id`,
//! `usage_id`, `account_id`, …), rows with the same id in file order; in other files a row is
//! its whole content, so it is added or removed, never changed. Only 64-bit hashes of each row
//! are held (24 bytes a row and side), and the ids of the rows that differ are read again at
//! the end: a 10M-line `bills.csv` is compared in about 500 MB.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::{Hash, Hasher};
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::output::fail;

/// One row of `changes.csv`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Changed {
    file: String,
    /// The line in the current file, else in the month of record's.
    line: u64,
    change: &'static str,
    id: String,
    line_of_record: Option<u64>,
    line_now: Option<u64>,
}

/// `changes.csv`: the rows that differ between the month of record's inputs (`record`, as
/// `settle close` kept them) and the dataset folder `now`.
pub fn csv(record: &Path, now: &Path) -> Result<Vec<u8>, Error> {
    let old = files(record)?
        .into_iter()
        .map(|rel| {
            let name = rel.strip_suffix(".gz").unwrap_or(&rel).to_string();
            (name, record.join(&rel))
        })
        .collect::<BTreeMap<String, PathBuf>>();
    let new = files(now)?
        .into_iter()
        .map(|rel| (rel.clone(), now.join(&rel)))
        .collect::<BTreeMap<String, PathBuf>>();
    let names: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    let mut out: Vec<Changed> = Vec::new();
    for name in names {
        let (a, b) = (old.get(name), new.get(name));
        if is_table(name) {
            out.extend(rows(name, a, b)?);
            continue;
        }
        let change = match (a, b) {
            (Some(a), Some(b)) if bytes(a, true)? == bytes(b, false)? => continue,
            (Some(_), Some(_)) => "changed",
            (None, Some(_)) => "added",
            (Some(_), None) => "removed",
            (None, None) => continue,
        };
        out.push(Changed {
            file: name.clone(),
            line: 0,
            change,
            id: String::new(),
            line_of_record: None,
            line_now: None,
        });
    }
    out.sort();
    let mut w = ::csv::WriterBuilder::new().from_writer(Vec::from("\u{feff}".as_bytes()));
    let bad = |e: ::csv::Error| Error::Internal(format!("`changes.csv` cannot be written: {e}"));
    w.write_record(["file", "change", "id", "line_of_record", "line_now"])
        .map_err(bad)?;
    let line = |l: Option<u64>| l.map(|l| l.to_string()).unwrap_or_default();
    for c in &out {
        w.write_record([
            c.file.as_str(),
            c.change,
            c.id.as_str(),
            &line(c.line_of_record),
            &line(c.line_now),
        ])
        .map_err(bad)?;
    }
    w.into_inner()
        .map_err(|e| Error::Internal(format!("`changes.csv` cannot be written: {e}")))
}

/// Whether a file is compared row by row.
fn is_table(name: &str) -> bool {
    name.ends_with(".csv") || name.ends_with(".csv.gz")
}

/// The regular files under `dir`, as paths relative to it, sorted; none when `dir` is absent.
pub fn files(dir: &Path) -> Result<BTreeSet<String>, Error> {
    let mut out = BTreeSet::new();
    if !dir.is_dir() {
        return Ok(out);
    }
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let here = dir.join(&rel);
        for entry in std::fs::read_dir(&here).map_err(fail(&here))? {
            let entry = entry.map_err(fail(&here))?;
            let path = rel.join(entry.file_name());
            let kind = entry.file_type().map_err(fail(&here))?;
            if kind.is_dir() {
                stack.push(path);
            } else if entry.path().is_file() {
                out.insert(path.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    Ok(out)
}

/// A file's content: the month of record's copy is gzipped; a current `.gz` file is read as it
/// was delivered, inflated.
fn open(path: &Path, kept: bool) -> Result<Box<dyn Read>, Error> {
    let file = std::fs::File::open(path).map_err(fail(path))?;
    let gz = kept || path.extension().is_some_and(|e| e == "gz");
    Ok(if gz {
        Box::new(flate2::read::MultiGzDecoder::new(std::io::BufReader::new(
            file,
        )))
    } else {
        Box::new(std::io::BufReader::new(file))
    })
}

fn bytes(path: &Path, kept: bool) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    open(path, kept)?
        .read_to_end(&mut out)
        .map_err(fail(path))?;
    Ok(out)
}

/// A row's hashes: of its id (or its content, in a file without ids), and of its content.
#[derive(Clone, Copy)]
struct Hashed {
    id: u64,
    content: u64,
    line: u64,
}

fn hash<T: Hash + ?Sized>(value: &T) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    value.hash(&mut h);
    h.finish()
}

/// Reads a CSV's rows: calls `each` with the row's physical line, its id and its content
/// hash. A file that is not CSV is compared by its bytes instead.
fn scan(path: &Path, kept: bool, mut each: impl FnMut(u64, &str, u64)) -> Result<(), Error> {
    let reader = open(path, kept)?;
    let mut csv = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(reader);
    let mut record = ::csv::ByteRecord::new();
    let mut keyed = None;
    loop {
        match csv.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                return Err(Error::Internal(format!(
                    "`{}` cannot be compared with the month of record's: {e}",
                    path.display()
                )));
            }
        }
        let line = record.position().map_or(0, |p| p.line());
        let Some(keyed) = keyed else {
            let first = record.get(0).unwrap_or_default();
            let first = first.strip_prefix("\u{feff}".as_bytes()).unwrap_or(first);
            keyed = Some(first.ends_with(b"_id"));
            continue;
        };
        let content = hash(record.as_slice()) ^ hash(&record.len());
        let id = if keyed {
            String::from_utf8_lossy(record.get(0).unwrap_or_default()).into_owned()
        } else {
            String::new()
        };
        each(line, &id, content);
    }
    Ok(())
}

/// A row that differs: how, its line of record and its line now.
type Found = (&'static str, Option<u64>, Option<u64>);

/// The rows of one CSV that differ between the month of record's copy `a` and the current `b`.
fn rows(name: &str, a: Option<&PathBuf>, b: Option<&PathBuf>) -> Result<Vec<Changed>, Error> {
    let side = |path: Option<&PathBuf>, kept: bool| -> Result<Vec<Hashed>, Error> {
        let mut out = Vec::new();
        if let Some(p) = path {
            scan(p, kept, |line, id, content| {
                let id = if id.is_empty() { content } else { hash(id) };
                out.push(Hashed { id, content, line });
            })?;
        }
        out.sort_by_key(|h| (h.id, h.line));
        Ok(out)
    };
    let (old, new) = (side(a, true)?, side(b, false)?);
    // Walk both sides in id order; rows with the same id pair up in file order.
    let (mut i, mut j) = (0, 0);
    let mut found: Vec<Found> = Vec::new();
    while i < old.len() || j < new.len() {
        let (x, y) = (old.get(i), new.get(j));
        match (x, y) {
            (Some(x), Some(y)) if x.id == y.id => {
                if x.content != y.content {
                    found.push(("changed", Some(x.line), Some(y.line)));
                }
                i += 1;
                j += 1;
            }
            (Some(x), Some(y)) if x.id < y.id => {
                found.push(("removed", Some(x.line), None));
                i += 1;
            }
            (Some(x), None) => {
                found.push(("removed", Some(x.line), None));
                i += 1;
            }
            (_, Some(y)) => {
                found.push(("added", None, Some(y.line)));
                j += 1;
            }
            (None, None) => break,
        }
    }
    // The ids of the rows found, read again.
    let wanted =
        |pick: fn(&Found) -> Option<u64>| found.iter().filter_map(pick).collect::<BTreeSet<u64>>();
    let ids = |path: Option<&PathBuf>, kept: bool, lines: BTreeSet<u64>| {
        let mut out: HashMap<u64, String> = HashMap::new();
        if let Some(p) = path {
            scan(p, kept, |line, id, _| {
                if lines.contains(&line) {
                    out.insert(line, id.to_string());
                }
            })?;
        }
        Ok::<_, Error>(out)
    };
    let old_ids = ids(a, true, wanted(|f| f.1))?;
    let new_ids = ids(b, false, wanted(|f| f.2))?;
    Ok(found
        .into_iter()
        .map(|(change, x, y)| {
            let id = y
                .and_then(|l| new_ids.get(&l))
                .or_else(|| x.and_then(|l| old_ids.get(&l)))
                .cloned()
                .unwrap_or_default();
            Changed {
                file: name.to_string(),
                line: y.or(x).unwrap_or(0),
                change,
                id,
                line_of_record: x,
                line_now: y,
            }
        })
        .collect())
}
