//! Instants and the three timestamp forms the contract accepts.
//!
//! Every timestamp in a dataset is turned into a [`Timestamp`] (seconds since the Unix epoch, UTC) at
//! the boundary, so that the rules compare plain integers and never think about timezones again. The
//! dataset's timezone is only needed here, to read local times, and in [`crate::model::period`], to
//! find month boundaries.

use chrono::{DateTime, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone};
use chrono_tz::Tz;
use rustc_hash::FxHashMap;

/// An instant, in whole seconds since the Unix epoch (UTC).
#[derive(
    Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// Local wall-clock time of this instant in `tz`.
    pub fn local(self, tz: Tz) -> NaiveDateTime {
        match DateTime::from_timestamp(self.0, 0) {
            Some(utc) => utc.with_timezone(&tz).naive_local(),
            None => NaiveDateTime::MIN,
        }
    }

    /// `YYYY-MM-DD HH:MM:SS` in `tz`: the form every output uses.
    pub fn format_local(self, tz: Tz) -> String {
        self.local(tz).format("%Y-%m-%d %H:%M:%S").to_string()
    }

    /// RFC 3339 with the offset `tz` has at this instant.
    pub fn format_rfc3339(self, tz: Tz) -> String {
        match DateTime::from_timestamp(self.0, 0) {
            Some(utc) => utc.with_timezone(&tz).to_rfc3339(),
            None => String::new(),
        }
    }

    /// The same local time-of-day, `days` later: calendar days in `tz`, so that a day across a
    /// daylight-saving change is still one day.
    pub fn add_local_days(self, days: i64, tz: Tz) -> Timestamp {
        let local = self.local(tz) + chrono::Duration::days(days);
        resolve_local(local, tz).unwrap_or(Timestamp(self.0 + days * 86_400))
    }
}

/// Turns a local wall-clock time into an instant.
///
/// A time that occurs twice (the hour repeated when daylight saving ends) is read as the first of
/// the two. A time that never occurs (the hour skipped when it starts) has no instant.
pub fn resolve_local(local: NaiveDateTime, tz: Tz) -> Option<Timestamp> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => Some(Timestamp(t.timestamp())),
        LocalResult::Ambiguous(first, _) => Some(Timestamp(first.timestamp())),
        LocalResult::None => None,
    }
}

/// Parses one of the three forms of the contract: `YYYY-MM-DD HH:MM:SS` (local), RFC 3339 with an offset, or
/// `YYYY-MM-DD` (local midnight). The error is a reason a user can act on.
pub fn parse_timestamp(text: &str, tz: Tz) -> Result<Timestamp, String> {
    Zone::new(tz).parse(text)
}

/// A timezone with a memo of its UTC offset per local hour, so that reading millions of local
/// timestamps costs a hash lookup each rather than a search of the zone's transitions.
#[derive(Clone)]
pub struct Zone {
    pub tz: Tz,
    /// Local hour (hours since 1970-01-01 00:00 local) → offset in seconds, for hours that hold
    /// no transition.
    hours: FxHashMap<i64, i64>,
}

impl Zone {
    pub fn new(tz: Tz) -> Zone {
        Zone {
            tz,
            hours: FxHashMap::default(),
        }
    }

    /// [`parse_timestamp`], with the memo. A time must fall in the years 1900 to 9998 (UTC), so
    /// that it prints back in RFC 3339's four-digit years in any zone.
    pub fn parse(&mut self, text: &str) -> Result<Timestamp, String> {
        let t = self.parse_any(text)?;
        if (EARLIEST..LATEST).contains(&t.0) {
            Ok(t)
        } else {
            Err("a timestamp outside the years 1900 to 9998".into())
        }
    }

    fn parse_any(&mut self, text: &str) -> Result<Timestamp, String> {
        let s = text.trim();
        let local = match s.len() {
            19 => local_datetime(s.as_bytes()),
            10 => local_date(s.as_bytes()).map(|d| d.and_time(NaiveTime::MIN)),
            _ => None,
        };
        let Some(local) = local else {
            return DateTime::parse_from_rfc3339(s)
                .map(|t| Timestamp(t.timestamp()))
                .map_err(|_| bad_timestamp());
        };
        self.resolve(local).ok_or_else(|| {
            format!(
                "local time does not exist in `{}` (skipped by a daylight-saving change)",
                self.tz
            )
        })
    }

    /// [`resolve_local`], with the memo.
    pub fn resolve(&mut self, local: NaiveDateTime) -> Option<Timestamp> {
        let secs = local.and_utc().timestamp();
        let hour = secs.div_euclid(3600);
        if let Some(offset) = self.hours.get(&hour) {
            return Some(Timestamp(secs - offset));
        }
        let t = resolve_local(local, self.tz)?;
        // Memoize only an hour whose first and last second have one and the same offset.
        let offset_at = |s: i64| {
            let naive = DateTime::from_timestamp(s, 0)?.naive_utc();
            match self.tz.from_local_datetime(&naive) {
                LocalResult::Single(t) => Some(s - t.timestamp()),
                _ => None,
            }
        };
        if let (Some(a), Some(b)) = (offset_at(hour * 3600), offset_at(hour * 3600 + 3599))
            && a == b
        {
            self.hours.insert(hour, a);
        }
        Some(t)
    }
}

fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |n, &c| {
        c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
    })
}

/// `YYYY-MM-DD`, strictly.
fn local_date(b: &[u8]) -> Option<NaiveDate> {
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = i32::try_from(digits(&b[0..4])?).ok()?;
    NaiveDate::from_ymd_opt(year, digits(&b[5..7])?, digits(&b[8..10])?)
}

/// `YYYY-MM-DD HH:MM:SS`, strictly.
fn local_datetime(b: &[u8]) -> Option<NaiveDateTime> {
    if b.len() != 19 || b[10] != b' ' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (h, m, s) = (
        digits(&b[11..13])?,
        digits(&b[14..16])?,
        digits(&b[17..19])?,
    );
    Some(local_date(&b[0..10])?.and_time(NaiveTime::from_hms_opt(h, m, s)?))
}

/// 1900-01-01T00:00:00Z and 9999-01-01T00:00:00Z, the bounds of an accepted time.
pub const EARLIEST: i64 = -2_208_988_800;
pub const LATEST: i64 = 253_370_764_800;

fn bad_timestamp() -> String {
    "not a timestamp; expected `YYYY-MM-DD HH:MM:SS`, `YYYY-MM-DD` or RFC 3339 with an offset"
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SH: Tz = chrono_tz::Asia::Shanghai;

    #[test]
    fn three_forms() {
        let a = parse_timestamp("2026-10-01 00:00:00", SH).unwrap();
        let b = parse_timestamp("2026-10-01", SH).unwrap();
        let c = parse_timestamp("2026-09-30T16:00:00Z", SH).unwrap();
        let d = parse_timestamp("2026-10-01T00:00:00+08:00", SH).unwrap();
        assert_eq!(a, b);
        assert_eq!(a, c);
        assert_eq!(a, d);
        assert_eq!(a.format_local(SH), "2026-10-01 00:00:00");
    }

    #[test]
    fn times_outside_1900_to_9998_are_rejected() {
        // Found by AFL++: year 0 printed back as `-0001-12-31T16:53:28+00:53` in Berlin's local
        // mean time, which no reader (settle's included) takes as RFC 3339.
        for bad in [
            "0000-01-01T00:00:00+08:00",
            "1899-12-31 23:59:59",
            "9999-06-01",
        ] {
            let e = parse_timestamp(bad, SH).unwrap_err();
            assert!(e.contains("1900 to 9998"), "{bad}: {e}");
        }
        for good in ["1950-01-01T08:00:00+08:00", "9998-12-31 23:59:59"] {
            let t = parse_timestamp(good, SH).unwrap();
            assert_eq!(parse_timestamp(&t.format_rfc3339(SH), SH), Ok(t), "{good}");
        }
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "2026-13-01 00:00:00",
            "2026-10-32",
            "01/10/2026",
            "",
            "2026-10-01T00:00:00",
        ] {
            assert!(parse_timestamp(bad, SH).is_err(), "{bad}");
        }
    }

    #[test]
    fn memo_agrees_with_chrono_across_transitions() {
        let berlin = chrono_tz::Europe::Berlin;
        let mut zone = Zone::new(berlin);
        for day in ["2026-03-29", "2026-10-25"] {
            for h in 0..24 {
                for m in [0, 30, 59] {
                    let text = format!("{day} {h:02}:{m:02}:00");
                    let local = NaiveDateTime::parse_from_str(&text, "%Y-%m-%d %H:%M:%S").unwrap();
                    // Twice, so the second read comes from the memo.
                    assert_eq!(zone.resolve(local), resolve_local(local, berlin), "{text}");
                    assert_eq!(zone.resolve(local), resolve_local(local, berlin), "{text}");
                }
            }
        }
    }

    #[test]
    fn daylight_saving() {
        let berlin = chrono_tz::Europe::Berlin;
        // 02:30 happens twice on 2026-10-25; the first one is CEST (+02:00).
        let t = parse_timestamp("2026-10-25 02:30:00", berlin).unwrap();
        assert_eq!(t, parse_timestamp("2026-10-25T02:30:00+02:00", SH).unwrap());
        // 02:30 never happens on 2026-03-29.
        assert!(parse_timestamp("2026-03-29 02:30:00", berlin).is_err());
    }
}
