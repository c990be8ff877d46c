//! Cell values as the clouds write them: placeholders for nothing, exact amounts of any
//! precision, and the timestamp forms of each console.
//!
//! `bills.csv` keeps the contract's strict forms ([`crate::ingest::cell`]); an export is read as its
//! vendor writes it, but never loosely: an amount is parsed exactly or the row is rejected, and
//! so is a timestamp that names no instant.

use chrono::{Datelike, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone};
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
    let bad = || {
        "not a timestamp; expected `YYYY-MM-DD HH:MM:SS`, optionally with an offset such as \
         `+08:00`, or `YYYY-MM-DD`"
            .to_string()
    };
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
        None => zone.resolve(local).ok_or_else(|| {
            format!(
                "local time does not exist in `{}` (skipped by a daylight-saving change)",
                zone.tz
            )
        }),
    }
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
    let t = instant(s, zone)
        .map_err(|_| "not a month; expected `YYYY-MM`, for example `2024-09`".to_string())?;
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

    #[test]
    fn placeholders_are_null() {
        for v in ["", " ", "-", "NULL", "null", "--"] {
            assert!(is_null(v), "{v:?}");
        }
        assert!(!is_null("-1") && !is_null("0"));
    }
}
