//! Parquet exports through polars: a lazy scan that projects only the columns the file's
//! mapping reads, taken in slices of [`BATCH_ROWS`] rows so that memory stays bounded whatever
//! the file's size.
//!
//! One mapping serves CSV and Parquet. The `decimal`, `timestamp` and `date` columns of the
//! fields a format reads only as amounts and times ([`crate::ingest::exports::Format::typed`],
//! FOCUS's costs and periods) go to it as typed values ([`Typed`]): a decimal's integer and
//! scale, a timestamp's seconds. Formatting each of a month's millions of timestamps to text and
//! parsing it back was most of the time a Parquet export took. Every other cell is turned into
//! the text the CSV path would have read (text columns borrowed from the frame as they are): a
//! `decimal` exactly, a `double` through its shortest round-trip representation (Rust's `{}`),
//! never summed as a float; a `timestamp` with a timezone as RFC 3339 in UTC, one without as a
//! plain `YYYY-MM-DD HH:MM:SS` (which a FOCUS mapping reads as UTC); a `date` as `YYYY-MM-DD`.
//! Either way a row reads, and is rejected, exactly as its text would be. A row's place is its
//! row number in the file, from 1.
//!
//! polars panics on some damaged files (a footer whose thrift does not parse, found by AFL++):
//! its calls run under [`guarded`], so such a file is refused with exit code 2 like any other
//! unreadable one, not a crash.

use std::borrow::Cow;
use std::path::Path;

use chrono::DateTime;
use polars::prelude::*;

use crate::error::DatasetError;
use crate::ingest::exports::mapping::TYPED;
use crate::ingest::exports::values::Typed;
use crate::ingest::exports::{ExportFile, RawRow};
use crate::ingest::lines::Lines;

/// Rows taken from the scan at once.
pub const BATCH_ROWS: usize = 64 * 1024;

fn unreadable(name: &'static str, e: impl std::fmt::Display) -> DatasetError {
    DatasetError::Unreadable {
        file: name,
        line: 0,
        reason: format!("not a readable Parquet file: {e}"),
    }
}

/// Runs a polars call, turning a panic inside it into the file's refusal.
fn guarded<T>(
    name: &'static str,
    call: impl FnOnce() -> Result<T, DatasetError>,
) -> Result<T, DatasetError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(call))
        .unwrap_or_else(|_| Err(unreadable(name, "polars failed on it (a damaged file)")))
}

fn scan(path: &Path, name: &'static str) -> Result<LazyFrame, DatasetError> {
    let path = path.to_string_lossy();
    LazyFrame::scan_parquet(PlRefPath::from(&*path), ScanArgsParquet::default())
        .map_err(|e| unreadable(name, e))
}

/// The column names of a Parquet export's schema.
pub fn columns(path: &Path, name: &'static str) -> Result<Vec<String>, DatasetError> {
    let schema = guarded(name, || {
        scan(path, name)?
            .collect_schema()
            .map_err(|e| unreadable(name, e))
    })?;
    Ok(schema.iter_names().map(|n| n.to_string()).collect())
}

/// Hands every row of a Parquet export to `visit`; returns the file's SHA-256.
///
/// The file's digest and the next slice's decoding run on threads of their own while this one
/// maps and folds the slice before, in the file's order.
pub fn read(
    file: &ExportFile,
    visit: &mut dyn FnMut(RawRow),
) -> Result<(String, Lines), DatasetError> {
    let wanted = file.wanted();
    let mut names: Vec<&str> = wanted
        .iter()
        .flatten()
        .map(|&c| file.header[c].as_str())
        .collect();
    names.sort_unstable();
    names.dedup();
    let projection: Vec<Expr> = names.iter().map(|n| col(*n)).collect();
    let lazy = guarded(file.name, || {
        Ok(scan(&file.path, file.name)?.select(projection))
    })?;
    std::thread::scope(|scope| {
        let digest = scope.spawn(|| super::delivery::digest(&file.path));
        // One slice decoded ahead of the one being read.
        let (send, slices) = std::sync::mpsc::sync_channel::<Result<DataFrame, DatasetError>>(1);
        scope.spawn(move || {
            let mut offset = 0usize;
            loop {
                let df = guarded(file.name, || {
                    lazy.clone()
                        .slice(offset as i64, BATCH_ROWS as IdxSize)
                        .collect()
                        .map_err(|e| unreadable(file.name, e))
                });
                let height = df.as_ref().map_or(0, DataFrame::height);
                // The reader stops taking slices when a row stops the run.
                if send.send(df).is_err() || height < BATCH_ROWS {
                    break;
                }
                offset += height;
            }
        });
        let rows = visit_slices(file, &wanted, slices, visit);
        // An unreadable file is that, before what its rows say.
        let sha256 = digest
            .join()
            .unwrap_or_else(|e| std::panic::resume_unwind(e))?;
        rows?;
        // A Parquet file has row groups and rows, not lines.
        Ok((sha256, Lines::default()))
    })
}

/// Hands every row of the decoded `slices`, in order, to `visit`.
fn visit_slices(
    file: &ExportFile,
    wanted: &[Option<usize>],
    slices: std::sync::mpsc::Receiver<Result<DataFrame, DatasetError>>,
    visit: &mut dyn FnMut(RawRow),
) -> Result<(), DatasetError> {
    let fields = file.format.fields.len();
    let mut offset = 0usize;
    for df in slices {
        let df = df?;
        let height = df.height();
        if height == 0 {
            break;
        }
        // Each wanted column, as typed values where the mapping reads them so, else as text.
        let mut columns: Vec<Cells> = Vec::with_capacity(wanted.len());
        for (field, column) in wanted.iter().enumerate() {
            let typed = field < fields && file.format.typed.contains(&field);
            let read = field < fields || file.format.first;
            columns.push(match column {
                Some(c) if read => {
                    let column = df
                        .column(file.header[*c].as_str())
                        .map_err(|e| unreadable(file.name, e))?;
                    cells(column.as_materialized_series(), typed)
                        .map_err(|e| unreadable(file.name, e))?
                }
                _ => Cells::Absent,
            });
        }
        let any_typed = columns.iter().any(|c| matches!(c, Cells::Typed(_)));
        let mut values: Vec<&str> = Vec::with_capacity(columns.len());
        let mut typed: Vec<Typed> = Vec::with_capacity(if any_typed { columns.len() } else { 0 });
        for row in 0..height {
            values.clear();
            typed.clear();
            for column in &columns {
                let (text, value) = column.at(row);
                values.push(text);
                if any_typed {
                    typed.push(value);
                }
            }
            visit(RawRow::Values {
                line: (offset + row + 1) as u64,
                values: &values,
                typed: &typed,
            });
        }
        offset += height;
    }
    Ok(())
}

/// One column of a slice of rows, as the mapping reads it.
enum Cells<'a> {
    /// A column the file lacks, or one the mapping does not read: every cell empty.
    Absent,
    /// Text, borrowed from the frame where it is text already; `None` for a null.
    Text(Vec<Option<Cow<'a, str>>>),
    /// Typed values, [`Typed::None`] for a null.
    Typed(Vec<Typed>),
}

impl Cells<'_> {
    /// Row `row`'s text and typed value.
    fn at(&self, row: usize) -> (&str, Typed) {
        match self {
            Cells::Absent => ("", Typed::None),
            Cells::Text(t) => (t[row].as_deref().unwrap_or(""), Typed::None),
            Cells::Typed(t) => match t[row] {
                Typed::None => ("", Typed::None),
                value => (TYPED, value),
            },
        }
    }
}

/// A column's cells: as typed values when `typed` and the column is a `decimal`, `timestamp`
/// or `date`, else as the text a CSV export would hold.
fn cells(s: &Series, typed: bool) -> PolarsResult<Cells<'_>> {
    if typed {
        match s.dtype() {
            DataType::Decimal(_, scale) => {
                let scale = *scale as u32;
                return Ok(Cells::Typed(
                    s.decimal()?
                        .physical()
                        .iter()
                        .map(|v| v.map_or(Typed::None, |m| Typed::Decimal(m, scale)))
                        .collect(),
                ));
            }
            DataType::Datetime(unit, tz) => {
                let per_second = per_second(*unit);
                let aware = tz.is_some();
                return Ok(Cells::Typed(
                    s.datetime()?
                        .physical()
                        .iter()
                        .map(|v| {
                            v.map(|v| v.div_euclid(per_second))
                                .filter(|&secs| DateTime::from_timestamp(secs, 0).is_some())
                                .map_or(Typed::None, |secs| {
                                    if aware {
                                        Typed::Instant(secs)
                                    } else {
                                        Typed::Local(secs)
                                    }
                                })
                        })
                        .collect(),
                ));
            }
            DataType::Date => {
                return Ok(Cells::Typed(
                    s.date()?
                        .physical()
                        .iter()
                        .map(|v| {
                            v.map(|d| i64::from(d) * 86_400)
                                .filter(|&secs| DateTime::from_timestamp(secs, 0).is_some())
                                .map_or(Typed::None, Typed::Date)
                        })
                        .collect(),
                ));
            }
            _ => {}
        }
    }
    Ok(Cells::Text(as_text(s)?))
}

fn per_second(unit: TimeUnit) -> i64 {
    match unit {
        TimeUnit::Nanoseconds => 1_000_000_000,
        TimeUnit::Microseconds => 1_000_000,
        TimeUnit::Milliseconds => 1_000,
    }
}

/// A column's cells as the text a CSV export would hold; `None` for a null.
fn as_text(s: &Series) -> PolarsResult<Vec<Option<Cow<'_, str>>>> {
    let owned = |v: Option<String>| v.map(Cow::Owned);
    Ok(match s.dtype() {
        DataType::String => s.str()?.iter().map(|v| v.map(Cow::Borrowed)).collect(),
        DataType::Float64 => s.f64()?.iter().map(|v| owned(v.map(float_text))).collect(),
        DataType::Float32 => s
            .f32()?
            .iter()
            .map(|v| {
                owned(v.map(|f| {
                    if f.is_finite() {
                        f.to_string()
                    } else {
                        String::new()
                    }
                }))
            })
            .collect(),
        DataType::Decimal(_, scale) => {
            let scale = *scale as u32;
            s.decimal()?
                .physical()
                .iter()
                .map(|v| owned(v.map(|m| Typed::Decimal(m, scale).text())))
                .collect()
        }
        DataType::Datetime(unit, tz) => {
            let per_second = per_second(*unit);
            let aware = tz.is_some();
            s.datetime()?
                .physical()
                .iter()
                .map(|v| {
                    let v = v?.div_euclid(per_second);
                    DateTime::from_timestamp(v, 0)?;
                    owned(Some(if aware {
                        Typed::Instant(v).text()
                    } else {
                        Typed::Local(v).text()
                    }))
                })
                .collect()
        }
        DataType::Date => s
            .date()?
            .physical()
            .iter()
            .map(|v| {
                let secs = i64::from(v?) * 86_400;
                DateTime::from_timestamp(secs, 0)?;
                owned(Some(Typed::Date(secs).text()))
            })
            .collect(),
        DataType::Null => vec![None; s.len()],
        _ => {
            let text = s.cast(&DataType::String)?;
            text.str()?
                .iter()
                .map(|v| owned(v.map(str::to_string)))
                .collect()
        }
    })
}

/// A double's shortest decimal representation that reads back as the same double: Rust's `{}`
/// never uses an exponent, so the text parses exactly. A NaN or infinity is no amount.
pub fn float_text(f: f64) -> String {
    if f.is_finite() {
        f.to_string()
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::exports::values::decimal_text;

    #[test]
    fn decimals_and_doubles_as_exact_text() {
        assert_eq!(decimal_text(1_605_990, 11), "0.00001605990");
        assert_eq!(decimal_text(-12_345, 2), "-123.45");
        assert_eq!(decimal_text(7, 0), "7");
        assert_eq!(float_text(0.1), "0.1");
        assert_eq!(float_text(0.0000160599), "0.0000160599");
        assert_eq!(float_text(1e-7), "0.0000001");
        assert_eq!(float_text(f64::NAN), "");
    }
}
