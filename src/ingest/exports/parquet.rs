//! Parquet exports through polars: a lazy scan that projects only the columns the file's
//! mapping reads, taken in slices of [`BATCH_ROWS`] rows so that memory stays bounded whatever
//! the file's size.
//!
//! Every cell is turned into the text the CSV path would have read, so that one mapping serves
//! both: a `decimal` column exactly (its integer and scale), a `double` through its shortest
//! round-trip representation (Rust's `{}`), never summed as a float; a `timestamp` with a
//! timezone as RFC 3339 in UTC, one without as a plain `YYYY-MM-DD HH:MM:SS` (which a FOCUS
//! mapping reads as UTC); a `date` as `YYYY-MM-DD`. A row's place is its row number in the file,
//! from 1.
//!
//! polars panics on some damaged files (a footer whose thrift does not parse, found by AFL++):
//! its calls run under [`guarded`], so such a file is refused with exit code 2 like any other
//! unreadable one, not a crash.

use std::path::Path;

use chrono::DateTime;
use polars::prelude::*;

use crate::error::DatasetError;
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
pub fn read(
    file: &ExportFile,
    visit: &mut dyn FnMut(RawRow),
) -> Result<(String, Lines), DatasetError> {
    let sha256 = super::delivery::digest(&file.path)?;
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
    let mut offset = 0usize;
    loop {
        let df = guarded(file.name, || {
            lazy.clone()
                .slice(offset as i64, BATCH_ROWS as IdxSize)
                .collect()
                .map_err(|e| unreadable(file.name, e))
        })?;
        let height = df.height();
        if height == 0 {
            break;
        }
        // Each wanted column as text, row by row.
        let mut texts: Vec<Option<Vec<Option<String>>>> = Vec::with_capacity(wanted.len());
        for column in &wanted {
            texts.push(match column {
                None => None,
                Some(c) => {
                    let column = df
                        .column(file.header[*c].as_str())
                        .map_err(|e| unreadable(file.name, e))?;
                    Some(
                        as_text(column.as_materialized_series())
                            .map_err(|e| unreadable(file.name, e))?,
                    )
                }
            });
        }
        for row in 0..height {
            let values: Vec<&str> = texts
                .iter()
                .map(|t| t.as_ref().and_then(|t| t[row].as_deref()).unwrap_or(""))
                .collect();
            visit(RawRow::Values {
                line: (offset + row + 1) as u64,
                values: &values,
            });
        }
        offset += height;
        if height < BATCH_ROWS {
            break;
        }
    }
    // A Parquet file has row groups and rows, not lines.
    Ok((sha256, Lines::default()))
}

/// A column's cells as the text a CSV export would hold; `None` for a null.
fn as_text(s: &Series) -> PolarsResult<Vec<Option<String>>> {
    Ok(match s.dtype() {
        DataType::String => s.str()?.iter().map(|v| v.map(str::to_string)).collect(),
        DataType::Float64 => s.f64()?.iter().map(|v| v.map(float_text)).collect(),
        DataType::Float32 => s
            .f32()?
            .iter()
            .map(|v| {
                v.map(|f| {
                    if f.is_finite() {
                        f.to_string()
                    } else {
                        String::new()
                    }
                })
            })
            .collect(),
        DataType::Decimal(_, scale) => {
            let scale = *scale;
            s.decimal()?
                .physical()
                .iter()
                .map(|v| v.map(|m| decimal_text(m, scale)))
                .collect()
        }
        DataType::Datetime(unit, tz) => {
            let per_second: i64 = match unit {
                TimeUnit::Nanoseconds => 1_000_000_000,
                TimeUnit::Microseconds => 1_000_000,
                TimeUnit::Milliseconds => 1_000,
            };
            let aware = tz.is_some();
            s.datetime()?
                .physical()
                .iter()
                .map(|v| {
                    v.and_then(|v| {
                        let t = DateTime::from_timestamp(v.div_euclid(per_second), 0)?;
                        Some(if aware {
                            t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
                        } else {
                            t.format("%Y-%m-%d %H:%M:%S").to_string()
                        })
                    })
                })
                .collect()
        }
        DataType::Date => s
            .date()?
            .physical()
            .iter()
            .map(|v| {
                v.and_then(|d| DateTime::from_timestamp(i64::from(d) * 86_400, 0))
                    .map(|t| t.format("%Y-%m-%d").to_string())
            })
            .collect(),
        DataType::Null => vec![None; s.len()],
        _ => {
            let text = s.cast(&DataType::String)?;
            text.str()?.iter().map(|v| v.map(str::to_string)).collect()
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

/// A Parquet decimal's unscaled integer and scale, as exact text.
pub fn decimal_text(mantissa: i128, scale: usize) -> String {
    let digits = mantissa.unsigned_abs().to_string();
    let sign = if mantissa < 0 { "-" } else { "" };
    if scale == 0 {
        return format!("{sign}{digits}");
    }
    let padded = format!("{digits:0>width$}", width = scale + 1);
    let (int, frac) = padded.split_at(padded.len() - scale);
    format!("{sign}{int}.{frac}")
}

#[cfg(test)]
mod tests {
    use super::*;

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
