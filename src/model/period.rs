//! The run's month as one value (R1).
//!
//! A line's usage period is the local month of `charge_start`, and its deduction period the local
//! month of `deducted_at`. Rather than convert every timestamp to local time, the run computes the
//! month's two boundaries once, as instants, when the request is checked, and keeps them in one
//! [`Period`] with everything else that says which month this is and how it is settled: the
//! timezone, the rebate basis, the rounding, `as_of` and the base currency. Every stage takes it by
//! reference. [`Period::place`] is the one place that decides whether a bill line was used or
//! deducted in the month; the rules are handed its answer, [`InMonth`], and never ask again.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime};
use chrono_tz::Tz;

use crate::model::basis::Basis;
use crate::model::money::Rounding;
use crate::model::records::{BillLine, Text};
use crate::model::time::{Timestamp, resolve_local};

/// A calendar month, `YYYY-MM`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    pub year: i32,
    pub month: u32,
}

impl Month {
    pub fn next(self) -> Month {
        if self.month == 12 {
            Month {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Month {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    pub fn previous(self) -> Month {
        if self.month == 1 {
            Month {
                year: self.year - 1,
                month: 12,
            }
        } else {
            Month {
                year: self.year,
                month: self.month - 1,
            }
        }
    }

    /// The month that holds a local date.
    pub fn of(date: NaiveDate) -> Month {
        Month {
            year: date.year(),
            month: date.month(),
        }
    }

    /// Local midnight on the 1st, in `tz`. Where midnight is skipped by a daylight-saving change,
    /// the month starts at the first local time that exists.
    pub fn start(self, tz: Tz) -> Timestamp {
        let first = NaiveDate::from_ymd_opt(self.year, self.month, 1).unwrap_or(NaiveDate::MIN);
        let mut local = NaiveDateTime::new(first, NaiveTime::MIN);
        loop {
            if let Some(t) = resolve_local(local, tz) {
                return t;
            }
            local += chrono::Duration::minutes(15);
        }
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl FromStr for Month {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("`{s}` is not a month; expected `YYYY-MM`, for example `2026-10`");
        let (y, m) = s.split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 {
            return Err(bad());
        }
        let year: i32 = y.parse().map_err(|_| bad())?;
        let month: u32 = m.parse().map_err(|_| bad())?;
        if !(1..=12).contains(&month) {
            return Err(bad());
        }
        Ok(Month { year, month })
    }
}

/// The month a run covers, with its boundaries as instants, `[start, end)`, and the terms it is
/// settled on. Built once, from the request; nothing downstream derives any of it again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Period {
    pub month: Month,
    pub start: Timestamp,
    pub end: Timestamp,
    /// The dataset's timezone: the month's boundaries, cycle boundaries, local times printed.
    pub tz: Tz,
    /// The period rebates are counted in (`rebate_basis`).
    pub basis: Basis,
    /// How money is rounded on output lines (`rounding`).
    pub rounding: Rounding,
    /// When invoice statuses are judged: `--as-of`, else the end of the month.
    pub as_of: Timestamp,
    /// The currency of a statement that has no lines (`base_currency`).
    pub base_currency: Text,
}

/// Where a bill line falls in the run's month: used in it (`charge_start`), deducted in it
/// (`deducted_at`), both or neither. Worked out once per line, by [`Period::place`].
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct InMonth {
    pub used: bool,
    pub deducted: bool,
}

impl InMonth {
    /// Whether the month selects the line at all.
    pub fn any(self) -> bool {
        self.used || self.deducted
    }
}

impl Period {
    /// `month` in `tz` with the default terms: the usage basis, `half_up`, `as_of` at the end of
    /// the month, CNY. [`Period::settled`] sets the dataset's own.
    pub fn new(month: Month, tz: Tz) -> Period {
        let end = month.next().start(tz);
        Period {
            month,
            start: month.start(tz),
            end,
            tz,
            basis: Basis::Usage,
            rounding: Rounding::HalfUp,
            as_of: end,
            base_currency: "CNY".into(),
        }
    }

    /// The month settled on the dataset's terms; `as_of` defaults to the end of the month.
    pub fn settled(
        self,
        basis: Basis,
        rounding: Rounding,
        as_of: Option<Timestamp>,
        base_currency: Text,
    ) -> Period {
        Period {
            basis,
            rounding,
            as_of: as_of.unwrap_or(self.end),
            base_currency,
            ..self
        }
    }

    /// Whether an instant falls in this month (local time, half-open).
    pub fn contains(&self, t: Timestamp) -> bool {
        self.start <= t && t < self.end
    }

    /// Whether `b` was used in the month, deducted in it, both or neither: R1, written once.
    pub fn place(&self, b: &BillLine) -> InMonth {
        InMonth {
            used: self.contains(b.charge_start),
            deducted: b.deducted_at.is_some_and(|t| self.contains(t)),
        }
    }

    /// Whether a line placed at `at` counts in the period rebates are counted in.
    pub fn counted(&self, at: InMonth) -> bool {
        match self.basis {
            Basis::Usage => at.used,
            Basis::Deduction => at.deducted,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::time::parse_timestamp;

    const SH: Tz = chrono_tz::Asia::Shanghai;

    fn ts(s: &str, tz: Tz) -> Timestamp {
        parse_timestamp(s, tz).unwrap()
    }

    #[test]
    fn parses_and_prints() {
        let m: Month = "2026-10".parse().unwrap();
        assert_eq!(
            m,
            Month {
                year: 2026,
                month: 10
            }
        );
        assert_eq!(m.to_string(), "2026-10");
        assert_eq!(
            Month {
                year: 2026,
                month: 12
            }
            .next()
            .to_string(),
            "2027-01"
        );
        assert_eq!(
            Month {
                year: 2026,
                month: 1
            }
            .previous()
            .to_string(),
            "2025-12"
        );
        for bad in ["2026-13", "2026-1", "26-10", "2026/10", "2026-00", ""] {
            assert!(bad.parse::<Month>().is_err(), "{bad}");
        }
    }

    #[test]
    fn boundaries_are_local_midnight() {
        let p = Period::new("2026-10".parse().unwrap(), SH);
        assert!(!p.contains(ts("2026-09-30 23:59:59", SH)));
        assert!(p.contains(ts("2026-10-01 00:00:00", SH)));
        assert!(p.contains(ts("2026-10-31 23:59:59", SH)));
        assert!(!p.contains(ts("2026-11-01 00:00:00", SH)));
        // 16:00 UTC on the 30th of September is midnight in Shanghai: October.
        assert!(p.contains(ts("2026-09-30T16:00:00Z", SH)));
        assert!(!p.contains(ts("2026-10-31T16:00:00Z", SH)));
    }

    #[test]
    fn boundaries_follow_daylight_saving() {
        let berlin = chrono_tz::Europe::Berlin;
        let p = Period::new("2026-10".parse().unwrap(), berlin);
        // October starts in summer time (+02:00) and ends in winter time (+01:00).
        assert_eq!(p.start, ts("2026-09-30T22:00:00Z", SH));
        assert_eq!(p.end, ts("2026-10-31T23:00:00Z", SH));
    }
}
