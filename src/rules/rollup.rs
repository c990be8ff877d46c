//! R3 Hosting rollup: which of a hosted child's lines move to its master.
//!
//! ## What it does
//! A hosting relation moves a child's bill line to the master when the line starts at or after the
//! first boundary of its own billing cycle after `effective_at`, and before the first boundary
//! after `ended_at`. `once` lines move when they start at or after `effective_at` (and before
//! `ended_at`). Boundaries are local: the hour, midnight, Monday midnight (ISO week) and the 1st.
//! A rolled-up line is expected at the master's discount rate.
//!
//! ## Why
//! Seed 001: hosting takes effect from the next billing cycle, so the day (or hour) the relation is
//! made stays on the child, and only later cycles are billed to the master.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDateTime, NaiveTime};
use chrono_tz::Tz;
use rust_decimal::Decimal;

use crate::model::period::{InMonth, Month};
use crate::model::records::*;
use crate::model::time::{Timestamp, resolve_local};
use crate::rules::accounts::{Master, Resolved};

/// Whether a hosted child's line moved to the master.
#[derive(
    Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum RollupStatus {
    RolledUp,
    StayedOnChild,
}

impl RollupStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RollupStatus::RolledUp => "rolled_up",
            RollupStatus::StayedOnChild => "stayed_on_child",
        }
    }
}

/// One line of a hosted child in the month, with its fate.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct RollupLine {
    pub bill: BillLine,
    pub master_id: Text,
    pub status: RollupStatus,
    pub reason: String,
    /// list × the rate the line is expected at: the master's when rolled up, else the child's.
    pub expected_discount: Decimal,
}

/// The month's rollup: every line of every hosted child, sorted by master, child, product,
/// currency, status and start.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Rollup {
    pub lines: Vec<RollupLine>,
}

/// The first boundary of `cycle` strictly after `t`, in `tz`.
pub fn next_boundary(t: Timestamp, cycle: BillingCycle, tz: Tz) -> Timestamp {
    let local = t.local(tz);
    let midnight =
        |date: chrono::NaiveDate| first_existing(NaiveDateTime::new(date, NaiveTime::MIN), tz);
    match cycle {
        BillingCycle::Once => t,
        BillingCycle::Hour => {
            // The next instant a local clock reads :00, under the offset in force at `t`.
            let offset = local.and_utc().timestamp() - t.0;
            Timestamp(t.0 + 3600 - (t.0 + offset).rem_euclid(3600))
        }
        BillingCycle::Day => midnight(local.date() + chrono::Days::new(1)),
        BillingCycle::Week => {
            let to_monday = 7 - u64::from(local.weekday().num_days_from_monday());
            midnight(local.date() + chrono::Days::new(to_monday))
        }
        BillingCycle::Month => Month::of(local.date()).next().start(tz),
    }
}

/// A local time as an instant, moving past a daylight-saving gap if it falls in one.
fn first_existing(mut local: NaiveDateTime, tz: Tz) -> Timestamp {
    loop {
        if let Some(t) = resolve_local(local, tz) {
            return t;
        }
        local += chrono::Duration::minutes(15);
    }
}

/// Whether `relation` moves `line` to its master, with the reason either way.
pub fn moves(line: &BillLine, relation: &Relation, tz: Tz) -> (bool, String) {
    let cycle = line.billing_cycle;
    let (start, end) = match cycle {
        BillingCycle::Once => (relation.window.from, relation.window.to),
        _ => (
            next_boundary(relation.window.from, cycle, tz),
            relation.window.to.map(|t| next_boundary(t, cycle, tz)),
        ),
    };
    let effective = relation.window.from.format_local(tz);
    if line.charge_start < start {
        let reason = match cycle {
            BillingCycle::Once => format!("bought before hosting took effect at {effective}"),
            _ => format!(
                "its {cycle} cycle started before the first {cycle} boundary after hosting took effect at {effective}"
            ),
        };
        return (false, reason);
    }
    if let (Some(end), Some(ended)) = (end, relation.window.to)
        && line.charge_start >= end
    {
        return (
            false,
            format!("started after hosting ended at {}", ended.format_local(tz)),
        );
    }
    let reason = match cycle {
        BillingCycle::Once => format!("bought after hosting took effect at {effective}"),
        _ => format!("hosted from the first {cycle} boundary after {effective}"),
    };
    (true, reason)
}

/// The order of the rollup's lines: master, child, product, currency, status, start and bill.
fn order(l: &RollupLine) -> impl Ord + '_ {
    let b = &l.bill;
    (
        &l.master_id,
        &b.account_id,
        &b.product,
        &b.currency,
        l.status,
        b.charge_start,
        &b.bill_id,
    )
}

impl Rollup {
    /// Adds `b`, a line of `account` placed at `at`, if it is a hosted child's line used in the
    /// month, once per master of a hosting relation in force during the month; returns the master
    /// it rolls up to, if it does.
    pub fn add<'r, 'a>(
        &mut self,
        b: &BillLine,
        account: &'r Resolved<'a>,
        at: InMonth,
        tz: Tz,
    ) -> Option<&'r Master<'a>> {
        if !at.used {
            return None;
        }
        // One row per master: a line moves to a master if any of that master's relations moves it.
        let mut by_master: BTreeMap<&Text, (bool, String, &Master)> = BTreeMap::new();
        for m in account.hosted() {
            let (moved, reason) = moves(b, m.relation, tz);
            let entry = by_master
                .entry(m.id())
                .or_insert((moved, reason.clone(), m));
            if moved && !entry.0 {
                *entry = (moved, reason, m);
            }
        }
        let mut rolled_to = None;
        for (master, (moved, reason, m)) in by_master {
            let (status, discount_rate) = if moved {
                rolled_to = Some(m);
                (RollupStatus::RolledUp, m.rate)
            } else {
                (RollupStatus::StayedOnChild, account.rate)
            };
            self.lines.push(RollupLine {
                bill: b.clone(),
                master_id: master.clone(),
                status,
                reason,
                expected_discount: b.list_amount * discount_rate,
            });
        }
        rolled_to
    }

    /// Appends the lines of a later pass, whose line numbers count from `lines_before`.
    pub fn merge(&mut self, mut later: Rollup, lines_before: Line) {
        for l in &mut later.lines {
            l.bill.line += lines_before;
        }
        self.lines.append(&mut later.lines);
    }

    /// The same lines without the room their list grew into, to be kept until the month is
    /// rendered.
    pub fn shrink(mut self) -> Rollup {
        self.lines.shrink_to_fit();
        self
    }

    /// The rollups of every batch of accounts as one, sorted. The list is made to measure, and
    /// each batch's lines are let go once moved.
    pub fn concat(parts: Vec<Rollup>) -> Rollup {
        let mut all = Rollup {
            lines: Vec::with_capacity(parts.iter().map(|p| p.lines.len()).sum()),
        };
        for part in parts {
            all.lines.extend(part.lines);
        }
        all.finish()
    }

    /// Sorts the lines by master, child, product, currency, status, start and bill.
    pub fn finish(mut self) -> Rollup {
        self.lines.sort_by(|a, b| order(a).cmp(&order(b)));
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::time::parse_timestamp;
    use crate::rules::testing;

    const SH: Tz = chrono_tz::Asia::Shanghai;

    fn ts(s: &str) -> Timestamp {
        parse_timestamp(s, SH).unwrap()
    }

    fn line(cycle: BillingCycle, start: &str) -> BillLine {
        BillLine {
            resource_id: "r".into(),
            billing_cycle: cycle,
            charge_end: ts(start),
            deducted_at: None,
            paid_with: PaidWith::Credit,
            ..testing::bill(start, "child", start, "10")
        }
    }

    fn hosting(from: &str, to: Option<&str>) -> Relation {
        Relation {
            line: 2,
            child_id: "child".into(),
            master_id: "master".into(),
            kind: RelationKind::Hosting,
            window: Window {
                from: ts(from),
                to: to.map(ts),
            },
            inherit_discount: false,
            invoice_by: InvoiceBy::Master,
        }
    }

    fn moved(cycle: BillingCycle, start: &str, rel: &Relation) -> bool {
        moves(&line(cycle, start), rel, SH).0
    }

    /// The issue's worked example: made at 10-15 10:30.
    #[test]
    fn worked_example() {
        let r = hosting("2026-10-15 10:30:00", None);
        assert!(!moved(BillingCycle::Day, "2026-10-15", &r));
        assert!(moved(BillingCycle::Day, "2026-10-16", &r));
        assert!(!moved(BillingCycle::Hour, "2026-10-15 10:00:00", &r));
        assert!(moved(BillingCycle::Hour, "2026-10-15 11:00:00", &r));
        assert!(!moved(BillingCycle::Once, "2026-10-15 10:29:59", &r));
        assert!(moved(BillingCycle::Once, "2026-10-15 10:30:00", &r));
    }

    #[test]
    fn effective_on_around_and_after_a_boundary() {
        // Exactly on a boundary: the cycle that starts there contains it, so it stays.
        let on = hosting("2026-10-15 00:00:00", None);
        assert!(!moved(BillingCycle::Day, "2026-10-15", &on));
        assert!(moved(BillingCycle::Day, "2026-10-16", &on));
        assert!(!moved(BillingCycle::Hour, "2026-10-15 00:00:00", &on));
        assert!(moved(BillingCycle::Hour, "2026-10-15 01:00:00", &on));
        // One second before: the boundary itself is the next one.
        let before = hosting("2026-10-14 23:59:59", None);
        assert!(moved(BillingCycle::Day, "2026-10-15", &before));
        assert!(moved(BillingCycle::Hour, "2026-10-15 00:00:00", &before));
        // One second after.
        let after = hosting("2026-10-15 00:00:01", None);
        assert!(!moved(BillingCycle::Day, "2026-10-15", &after));
        assert!(moved(BillingCycle::Day, "2026-10-16", &after));
    }

    #[test]
    fn week_and_month_boundaries() {
        // 2026-10-14 is a Wednesday; the next ISO week starts Monday 10-19.
        let r = hosting("2026-10-14 09:00:00", None);
        assert!(!moved(BillingCycle::Week, "2026-10-12", &r));
        assert!(moved(BillingCycle::Week, "2026-10-19", &r));
        assert!(!moved(BillingCycle::Month, "2026-10-01", &r));
        assert!(moved(BillingCycle::Month, "2026-11-01", &r));
    }

    #[test]
    fn ends_at_the_first_boundary_after_ended_at() {
        let r = hosting("2026-10-01 00:00:00", Some("2026-10-20 12:00:00"));
        assert!(
            moved(BillingCycle::Day, "2026-10-20", &r),
            "the day holding ended_at is still hosted"
        );
        assert!(!moved(BillingCycle::Day, "2026-10-21", &r));
        assert!(moved(BillingCycle::Hour, "2026-10-20 12:00:00", &r));
        assert!(!moved(BillingCycle::Hour, "2026-10-20 13:00:00", &r));
    }

    #[test]
    fn day_boundaries_are_local_midnight_across_dst() {
        let berlin = chrono_tz::Europe::Berlin;
        // 2026-10-25 has 25 hours in Berlin; its next midnight is 23:00 UTC.
        let t = parse_timestamp("2026-10-25 10:00:00", berlin).unwrap();
        assert_eq!(
            next_boundary(t, BillingCycle::Day, berlin),
            parse_timestamp("2026-10-25T23:00:00Z", SH).unwrap()
        );
        assert_eq!(
            next_boundary(t, BillingCycle::Hour, berlin),
            parse_timestamp("2026-10-25 11:00:00", berlin).unwrap()
        );
    }
}
