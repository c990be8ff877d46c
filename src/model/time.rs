//! Instants and the three timestamp forms SPEC accepts.
//!
//! Every timestamp in a dataset is turned into a [`Timestamp`] (seconds since the Unix epoch, UTC) at
//! the boundary, so that the rules compare plain integers and never think about timezones again. The
//! dataset's timezone is only needed here, to read local times, and in [`crate::model::period`], to
//! find month boundaries.

use chrono::{DateTime, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone};
use chrono_tz::Tz;

/// An instant, in whole seconds since the Unix epoch (UTC).
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
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

/// Parses one of the three SPEC forms: `YYYY-MM-DD HH:MM:SS` (local), RFC 3339 with an offset, or
/// `YYYY-MM-DD` (local midnight). The error is a reason a user can act on.
pub fn parse_timestamp(text: &str, tz: Tz) -> Result<Timestamp, String> {
    let s = text.trim();
    let local = match s.len() {
        19 if s.as_bytes()[10] == b' ' => {
            NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").ok()
        }
        10 => NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .ok()
            .map(|d| d.and_time(NaiveTime::MIN)),
        _ => {
            return DateTime::parse_from_rfc3339(s)
                .map(|t| Timestamp(t.timestamp()))
                .map_err(|_| bad_timestamp());
        }
    };
    let local = local.ok_or_else(bad_timestamp)?;
    resolve_local(local, tz).ok_or_else(|| {
        format!("local time does not exist in `{tz}` (skipped by a daylight-saving change)")
    })
}

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
    fn daylight_saving() {
        let berlin = chrono_tz::Europe::Berlin;
        // 02:30 happens twice on 2026-10-25; the first one is CEST (+02:00).
        let t = parse_timestamp("2026-10-25 02:30:00", berlin).unwrap();
        assert_eq!(t, parse_timestamp("2026-10-25T02:30:00+02:00", SH).unwrap());
        // 02:30 never happens on 2026-03-29.
        assert!(parse_timestamp("2026-03-29 02:30:00", berlin).is_err());
    }
}
