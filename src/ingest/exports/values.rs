//! Cell values as the clouds write them: placeholders for nothing, exact amounts of any
//! precision, and the timestamp forms of each console.
//!
//! `bills.csv` keeps the contract's strict forms ([`crate::ingest::cell`]); an export is read as its
//! vendor writes it, but never loosely: an amount is parsed exactly or the row is rejected, and
//! so is a timestamp that names no instant.
//!
//! A Parquet export holds amounts and times as typed values ([`Typed`]). They are read as they
//! are, without going through text, and give exactly what the text the CSV path would have read
//! gives, rejects included: a row's text is made only to name a bad cell.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone};
use rust_decimal::Decimal;

use crate::ingest::cell::{Cell, CellError};
use crate::model::bounds;
use crate::model::period::Month;
use crate::model::time::{Timestamp, Zone};

/// Whether a cell holds nothing: empty, the literal `NULL` (any case), or the `-` placeholder
/// the Chinese consoles write.
pub fn is_null(value: &str) -> bool {
    let v = value.trim();
    v.is_empty() || v == "-" || v == "--" || v.eq_ignore_ascii_case("null")
}

/// An exact decimal of any precision rust_decimal holds (28 digits): an optional sign, digits
/// with an optional `.`, and an optional exponent (`1.5E-7`), as some exporters write tiny
/// amounts. Thousands separators are refused, never guessed at.
pub fn decimal(text: &str) -> Result<Decimal, String> {
    let s = text.trim();
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits_ok = !(int.is_empty() && frac.is_empty())
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit());
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && e.len() <= 3 && e.bytes().all(|b| b.is_ascii_digit())
    });
    if !digits_ok || !exponent_ok {
        return Err(if s.contains(',') {
            "not a decimal; use `.` as the decimal mark and no thousands separators".into()
        } else {
            "not a decimal; expected digits with an optional `.`, for example `12.50`".into()
        });
    }
    let plain = s.strip_prefix('+').unwrap_or(s);
    let parsed = match exponent {
        Some(_) => Decimal::from_scientific(plain),
        None => Decimal::from_str_exact(plain),
    };
    parsed.map_err(|_| "decimal has more digits than 28 can hold exactly".into())
}

/// Reads an amount cell: exact, required, and less than [`bounds::MAX_AMOUNT`] in magnitude,
/// as every amount of `bills.csv` is, so that the rules' sums and products cannot overflow.
pub fn amount(cell: &Cell) -> Result<Decimal, CellError> {
    let d = decimal(cell.required()?).map_err(|r| cell.fail(r))?;
    if !bounds::fits(d) {
        return Err(cell.fail(too_large("amounts")));
    }
    Ok(d)
}

/// Why an amount, or one an export's arithmetic implies, is refused.
pub fn too_large(what: &str) -> String {
    format!(
        "too large: {what} must be less than {} in magnitude",
        bounds::MAX_AMOUNT_TEXT
    )
}

/// Reads an amount cell that may hold nothing, which counts as 0.
pub fn amount_or_zero(cell: &Cell) -> Result<Decimal, CellError> {
    match cell.text() {
        "" => Ok(Decimal::ZERO),
        _ => amount(cell),
    }
}

/// An instant from the forms the exports use: `YYYY-MM-DD HH:MM:SS` (or with `T`, `/` or no
/// separators in the date, seconds optional, fractions of a second dropped), an optional `Z`,
/// `+08:00`, `+0800`, `GMT+08:00` or `UTC+8` offset, or a date alone (`YYYY-MM-DD`, `YYYYMMDD`)
/// at midnight. Without an offset the time is read in `zone`.
pub fn instant(text: &str, zone: &mut Zone) -> Result<Timestamp, String> {
    let s = text.trim();
    match canonical(s.as_bytes()) {
        Some((at, true)) => Ok(Timestamp(at.and_utc().timestamp())),
        Some((local, false)) => zone.resolve(local).ok_or_else(|| skipped(zone)),
        None => parsed(s, zone),
    }
}

/// The forms nearly every export writes, `YYYY-MM-DD HH:MM:SS` or `YYYY-MM-DDTHH:MM:SS`, each
/// optionally with `Z` (then `true`), in the years [`instant`] accepts, read without chrono's
/// format parser, which was a quarter of the time a FOCUS CSV export took. `None` for anything
/// else (a leap second among it), which [`parsed`] reads.
fn canonical(b: &[u8]) -> Option<(NaiveDateTime, bool)> {
    let utc = match b.len() {
        19 => false,
        20 if b[19] == b'Z' => true,
        _ => return None,
    };
    if b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b' ' | b'T')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let number = |from: usize, to: usize| {
        b[from..to].iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let year = i32::try_from(number(0, 4)?).ok()?;
    if !(1900..=9999).contains(&year) {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(year, number(5, 7)?, number(8, 10)?)?;
    let time = NaiveTime::from_hms_opt(number(11, 13)?, number(14, 16)?, number(17, 19)?)?;
    Some((NaiveDateTime::new(date, time), utc))
}

/// Why a local time names no instant.
fn skipped(zone: &Zone) -> String {
    format!(
        "local time does not exist in `{}` (skipped by a daylight-saving change)",
        zone.tz
    )
}

/// [`instant`] for every form, through chrono's parser.
fn parsed(s: &str, zone: &mut Zone) -> Result<Timestamp, String> {
    let bad = not_a_timestamp;
    let (date_part, rest) = match s.find([' ', 'T']) {
        Some(i) => (&s[..i], s[i + 1..].trim_start()),
        None => (s, ""),
    };
    let date = parse_date(date_part).ok_or_else(bad)?;
    let (time, offset) = if rest.is_empty() {
        (NaiveTime::MIN, None)
    } else {
        let end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == ':' || c == '.'))
            .unwrap_or(rest.len());
        let clock = rest[..end].split('.').next().unwrap_or("");
        let time = NaiveTime::parse_from_str(clock, "%H:%M:%S")
            .or_else(|_| NaiveTime::parse_from_str(clock, "%H:%M"))
            .map_err(|_| bad())?;
        (time, parse_offset(rest[end..].trim()).ok_or_else(bad)?)
    };
    let local = NaiveDateTime::new(date, time);
    match offset {
        Some(offset) => offset
            .from_local_datetime(&local)
            .single()
            .map(|t| Timestamp(t.timestamp()))
            .ok_or_else(bad),
        None => zone.resolve(local).ok_or_else(|| skipped(zone)),
    }
}

/// Why a cell is no timestamp.
fn not_a_timestamp() -> String {
    "not a timestamp; expected `YYYY-MM-DD HH:MM:SS`, optionally with an offset such as `+08:00`, \
     or `YYYY-MM-DD`"
        .to_string()
}

/// Why a cell is no month.
fn not_a_month() -> String {
    "not a month; expected `YYYY-MM`, for example `2024-09`".to_string()
}

/// Reads a timestamp cell, required.
pub fn timestamp(cell: &Cell, zone: &mut Zone) -> Result<Timestamp, CellError> {
    instant(cell.required()?, zone).map_err(|r| cell.fail(r))
}

/// A month from `YYYY-MM`, `YYYYMM`, `YYYY/MM`, or any timestamp [`instant`] reads (its month,
/// in `zone`, or at its own offset).
pub fn month(text: &str, zone: &mut Zone) -> Result<Month, String> {
    let s = text.trim();
    let plain = |y: &str, m: &str| -> Option<Month> {
        let (year, month) = (y.parse().ok()?, m.parse().ok()?);
        (y.len() == 4 && m.len() == 2 && (1..=12).contains(&month)).then_some(Month { year, month })
    };
    let found = match s.len() {
        6 if s.bytes().all(|b| b.is_ascii_digit()) => plain(&s[..4], &s[4..]),
        7 if matches!(s.as_bytes()[4], b'-' | b'/') => plain(&s[..4], &s[5..]),
        _ => None,
    };
    if let Some(m) = found {
        return Ok(m);
    }
    let t = instant(s, zone).map_err(|_| not_a_month())?;
    Ok(Month::of(t.local(zone.tz).date()))
}

/// Reads a month cell, required.
pub fn month_cell(cell: &Cell, zone: &mut Zone) -> Result<Month, CellError> {
    month(cell.required()?, zone).map_err(|r| cell.fail(r))
}

fn parse_date(s: &str) -> Option<NaiveDate> {
    let d = match s.len() {
        8 if s.bytes().all(|b| b.is_ascii_digit()) => NaiveDate::parse_from_str(s, "%Y%m%d").ok(),
        _ => NaiveDate::parse_from_str(&s.replace('/', "-"), "%Y-%m-%d").ok(),
    }?;
    (1900..=9999).contains(&d.year()).then_some(d)
}

/// `Z`, `+08:00`, `+0800`, `+8`, each optionally after `GMT` or `UTC`; `Ok(None)` for no offset.
fn parse_offset(s: &str) -> Option<Option<FixedOffset>> {
    if s.is_empty() {
        return Some(None);
    }
    let upper = s.to_ascii_uppercase();
    let rest = upper
        .strip_prefix("GMT")
        .or_else(|| upper.strip_prefix("UTC"))
        .unwrap_or(&upper)
        .trim();
    if rest.is_empty() || rest == "Z" {
        return Some(FixedOffset::east_opt(0));
    }
    let (sign, digits) = match rest.as_bytes()[0] {
        b'+' => (1, &rest[1..]),
        b'-' => (-1, &rest[1..]),
        _ => return None,
    };
    let (h, m) = match digits.split_once(':') {
        Some((h, m)) => (h, m),
        None if digits.len() == 4 => (&digits[..2], &digits[2..]),
        None => (digits, "0"),
    };
    let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
    if h > 14 || m > 59 {
        return None;
    }
    Some(Some(FixedOffset::east_opt(sign * (h * 3600 + m * 60))?))
}

/// A cell a Parquet export holds as a typed value, where a mapping reads it as an amount, a time
/// or a month. What it means is what the text [`Typed::text`] gives would mean.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Typed {
    /// No typed value (a text cell, or a null): the cell's text is read.
    None,
    /// A `decimal`'s unscaled integer and scale.
    Decimal(i128, u32),
    /// A `timestamp` with a timezone: seconds since the epoch, an instant.
    Instant(i64),
    /// A `timestamp` without one: seconds since the epoch of a local time, read in the zone.
    Local(i64),
    /// A `date`: seconds since the epoch of its local midnight, read in the zone.
    Date(i64),
}

impl Typed {
    /// The text a CSV export would hold: a decimal exactly, a timestamp with a timezone as
    /// RFC 3339 in UTC, one without as `YYYY-MM-DD HH:MM:SS`, a date as `YYYY-MM-DD`. Made only
    /// to name a cell in a reject.
    pub fn text(self) -> String {
        let at = |secs: i64, format: &str| {
            DateTime::from_timestamp(secs, 0)
                .map_or_else(String::new, |t| t.format(format).to_string())
        };
        match self {
            Typed::None => String::new(),
            Typed::Decimal(mantissa, scale) => decimal_text(mantissa, scale as usize),
            Typed::Instant(secs) => at(secs, "%Y-%m-%dT%H:%M:%SZ"),
            Typed::Local(secs) => at(secs, "%Y-%m-%d %H:%M:%S"),
            Typed::Date(secs) => at(secs, "%Y-%m-%d"),
        }
    }

    /// The value as [`decimal`] would read its text; `None` when it is no decimal.
    pub fn decimal(self) -> Option<Result<Decimal, String>> {
        let Typed::Decimal(mantissa, scale) = self else {
            return None;
        };
        // Whatever fits rust_decimal's 96 bits and 28 places is the exact text's own reading; the
        // rest is read from the text, which says why it does not fit.
        Some(match Decimal::try_from_i128_with_scale(mantissa, scale) {
            Ok(d) => Ok(d),
            Err(_) => decimal(&decimal_text(mantissa, scale as usize)),
        })
    }

    /// The instant as [`instant`] would read its text; `None` when it is no time.
    pub fn instant(self, zone: &mut Zone) -> Option<Result<Timestamp, String>> {
        let (secs, local) = match self {
            Typed::Instant(secs) => (secs, false),
            Typed::Local(secs) | Typed::Date(secs) => (secs, true),
            Typed::None | Typed::Decimal(..) => return None,
        };
        let bad = not_a_timestamp;
        let Some(at) = DateTime::from_timestamp(secs, 0).map(|t| t.naive_utc()) else {
            return Some(Err(bad()));
        };
        if !(1900..=9999).contains(&at.year()) {
            return Some(Err(bad()));
        }
        Some(if local {
            zone.resolve(at).ok_or_else(|| skipped(zone))
        } else {
            Ok(Timestamp(secs))
        })
    }

    /// The month as [`month`] would read its text; `None` when it is no time.
    pub fn month(self, zone: &mut Zone) -> Option<Result<Month, String>> {
        let t = self.instant(zone)?;
        Some(
            t.map(|t| Month::of(t.local(zone.tz).date()))
                .map_err(|_| not_a_month()),
        )
    }
}

/// A decimal's unscaled integer and scale, as exact text.
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

/// Splits Huawei's `消费时间` range, `2020-08-23 22:00:00 GMT+08:00-2020-08-23 23:00:00 GMT+08:00`,
/// at the `-` that starts the second timestamp.
pub fn split_range(s: &str) -> Option<(&str, &str)> {
    let s = s.trim();
    s.char_indices()
        .filter(|&(i, c)| c == '-' && i >= 8)
        .map(|(i, _)| (s[..i].trim(), s[i + 1..].trim()))
        .find(|(_, after)| {
            let b = after.as_bytes();
            b.len() >= 10 && b[..4].iter().all(u8::is_ascii_digit) && matches!(b[4], b'-' | b'/')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc() -> Zone {
        Zone::new(chrono_tz::UTC)
    }

    #[test]
    fn amounts_are_exact_at_any_precision() {
        assert_eq!(
            decimal("0.00001605990").unwrap().to_string(),
            "0.00001605990"
        );
        assert_eq!(decimal("-80.43264806").unwrap().to_string(), "-80.43264806");
        assert_eq!(decimal("+1.5").unwrap().to_string(), "1.5");
        assert_eq!(decimal("1.5E-7").unwrap(), decimal("0.00000015").unwrap());
        assert_eq!(decimal(".5").unwrap().to_string(), "0.5");
        assert!(decimal("1,234.50").unwrap_err().contains("thousands"));
        assert!(decimal("12a").is_err() && decimal("").is_err() && decimal("-").is_err());
    }

    #[test]
    fn timestamps_of_every_console() {
        let mut z = utc();
        let t = |s: &str, z: &mut Zone| instant(s, z).unwrap().0;
        let sept = 1_725_148_800; // 2024-09-01T00:00:00Z
        for s in [
            "2024-09-01 00:00:00",
            "2024-09-01T00:00:00Z",
            "2024-09-01T00:00:00.000Z",
            "2024-09-01T08:00:00+08:00",
            "2024-09-01 08:00:00 GMT+08:00",
            "2024-09-01 08:00:00 +0800",
            "2024/09/01 00:00",
            "2024-09-01",
            "20240901",
        ] {
            assert_eq!(t(s, &mut z), sept, "{s}");
        }
        let mut shanghai = Zone::new(chrono_tz::Asia::Shanghai);
        assert_eq!(t("2024-09-01 08:00:00", &mut shanghai), sept);
        assert!(instant("2024-13-01", &mut z).is_err());
        assert!(instant("yesterday", &mut z).is_err());
    }

    /// The forms read without chrono's parser read as chrono reads them, and whatever they do
    /// not take goes to chrono: random texts of the canonical shape, with some of each byte
    /// wrong.
    #[test]
    fn canonical_times_read_as_parsed_ones() {
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        for tz in [chrono_tz::UTC, chrono_tz::America::New_York] {
            let (mut a, mut b) = (Zone::new(tz), Zone::new(tz));
            for _ in 0..200_000 {
                let mut s = format!(
                    "{:04}-{:02}-{:02}{}{:02}:{:02}:{:02}{}",
                    [1899, 1900, 1970, 2024, 2026, 9999, 10000][next(7) as usize],
                    next(14),
                    next(33),
                    [" ", "T", "/", "  "][next(4) as usize],
                    next(26),
                    next(61),
                    next(62),
                    ["", "Z", "", "z", "+08:00", " "][next(6) as usize],
                )
                .into_bytes();
                if next(4) == 0 {
                    let at = next(s.len() as u64) as usize;
                    s[at] = b"0123456789-:T Z/."[next(17) as usize];
                }
                let s = String::from_utf8(s).expect("ASCII");
                assert_eq!(
                    instant(&s, &mut a),
                    parsed(s.trim(), &mut b),
                    "{s:?} in {tz}"
                );
            }
        }
    }

    #[test]
    fn months_and_ranges() {
        let mut z = utc();
        let sept = Month {
            year: 2024,
            month: 9,
        };
        for s in ["2024-09", "202409", "2024/09", "2024-09-01 00:00:00"] {
            assert_eq!(month(s, &mut z).unwrap(), sept, "{s}");
        }
        assert!(month("2024-13", &mut z).is_err());
        let (a, b) =
            split_range("2020-08-23 22:00:00 GMT+08:00-2020-08-23 23:00:00 GMT+08:00").unwrap();
        assert_eq!(a, "2020-08-23 22:00:00 GMT+08:00");
        assert_eq!(b, "2020-08-23 23:00:00 GMT+08:00");
        assert!(split_range("2020-08-23 22:00:00").is_none());
    }

    /// A typed value reads as its text does: the same decimal (scale included, so it prints the
    /// same) or the same error, the same instant and month or the same error, in any zone.
    #[test]
    fn typed_values_read_as_their_text() {
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut mantissas = vec![0, 1, -1, 7, -12_345, 1_605_990, i128::MAX, i128::MIN + 1];
        for bits in [95, 96, 97, 127] {
            mantissas.push((1i128 << bits) - 1);
            mantissas.push(-(1i128 << bits));
        }
        for _ in 0..2000 {
            let m = (i128::from(next()) << 64 | i128::from(next())) >> (next() % 127);
            mantissas.push(m);
        }
        for &m in &mantissas {
            for scale in [0, 1, 2, 8, 11, 18, 27, 28, 29, 38] {
                let typed = Typed::Decimal(m, scale).decimal().expect("a decimal");
                let text = decimal(&decimal_text(m, scale as usize));
                assert_eq!(typed, text, "{m} at scale {scale}");
                if let (Ok(a), Ok(b)) = (typed, text) {
                    assert_eq!(a.to_string(), b.to_string(), "{m} at scale {scale}");
                }
            }
        }
        let mut secs: Vec<i64> = vec![
            0,
            -1,
            -2_208_988_800, // 1900-01-01
            -2_208_988_801,
            253_402_300_799, // 9999-12-31T23:59:59
            253_402_300_800,
            1_710_054_000, // 2024-03-10 07:00 UTC: 02:00 local in New York is skipped
            1_710_039_600,
            1_730_602_800, // 2024-11-03 03:00 UTC: 01:00 local in New York is twice
        ];
        for _ in 0..2000 {
            secs.push((next() % 20_000_000_000) as i64 - 5_000_000_000);
        }
        for tz in [
            chrono_tz::UTC,
            chrono_tz::America::New_York,
            chrono_tz::Asia::Shanghai,
        ] {
            let (mut a, mut b) = (Zone::new(tz), Zone::new(tz));
            for &s in &secs {
                let date = s.div_euclid(86_400) * 86_400;
                for typed in [Typed::Instant(s), Typed::Local(s), Typed::Date(date)] {
                    let text = typed.text();
                    assert_eq!(
                        typed.instant(&mut a).expect("a time"),
                        instant(&text, &mut b),
                        "{text} in {tz}"
                    );
                    assert_eq!(
                        typed.month(&mut a).expect("a time"),
                        month(&text, &mut b),
                        "{text} in {tz}"
                    );
                }
            }
        }
        assert!(
            Typed::None.decimal().is_none() && Typed::Decimal(1, 0).instant(&mut utc()).is_none()
        );
    }

    #[test]
    fn placeholders_are_null() {
        for v in ["", " ", "-", "NULL", "null", "--"] {
            assert!(is_null(v), "{v:?}");
        }
        assert!(!is_null("-1") && !is_null("0"));
    }
}
