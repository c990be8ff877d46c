//! R3 relation checks: which account relations may be applied at all.
//!
//! ## What it does
//! Checks every account relation before any is applied, rejecting with its reason a hosting
//! relation between different legal entities, a hosting master that is a partner's customer, and a
//! relation that overlaps another relation of the same child. A cycle among the remaining relations
//! stops the run: no row-level rejection can settle which link of the cycle is wrong.
//!
//! ## Why
//! Seed 001: only accounts of the same real-name entity may be hosted, a distribution account
//! cannot act as a hosting master, and a child belongs to one master at a time.

use std::collections::{BTreeMap, BTreeSet};

use chrono_tz::Tz;

use crate::ingest::schema;
use crate::model::records::*;
use crate::model::reject::Reject;

/// A cycle: the accounts in order, the first repeated at the end.
#[derive(Debug, PartialEq, Eq)]
pub struct Cycle(pub Vec<String>);

/// The rejects for every relation that breaks a check, or the cycle among those that pass.
pub fn check(
    relations: &[Relation],
    accounts: &BTreeMap<Text, Account>,
    links: &[PartnerLink],
    tz: Tz,
) -> Result<Vec<Reject>, Cycle> {
    let mut rejects = Vec::new();
    let mut valid: Vec<&Relation> = Vec::new();
    let reject = |r: &Relation, column: &str, value: &str, reason: String| Reject {
        file: schema::RELATIONS.name,
        line: r.line,
        column: column.into(),
        value: value.into(),
        reason,
    };
    let mut candidates: Vec<&Relation> = Vec::new();
    for r in relations {
        if r.kind == RelationKind::Hosting {
            let entity = |id: &Text| {
                accounts
                    .get(id)
                    .map(|a| a.entity_name.clone())
                    .unwrap_or_default()
            };
            let (child, master) = (entity(&r.child_id), entity(&r.master_id));
            if child != master {
                rejects.push(reject(
                    r,
                    "master_id",
                    &r.master_id,
                    format!(
                        "hosting needs the same `entity_name` on master and child, but the master is `{master}` and the child `{child}`"
                    ),
                ));
                continue;
            }
            if let Some(link) = links
                .iter()
                .find(|l| l.account_id == r.master_id && l.window.overlaps(&r.window))
            {
                rejects.push(reject(
                    r,
                    "master_id",
                    &r.master_id,
                    format!(
                        "the master has a partner link in force (`partner_links.csv` line {}), and a partner's customer cannot take hosting children",
                        link.line
                    ),
                ));
                continue;
            }
        }
        candidates.push(r);
    }
    // A child has at most one relation in force at a time: the one that took effect first stays.
    candidates.sort_by_key(|r| (r.window.from, r.line));
    for r in candidates {
        match valid.iter().find(|v| v.child_id == r.child_id && v.window.overlaps(&r.window)) {
            Some(earlier) => rejects.push(reject(
                r,
                "effective_at",
                &r.window.from.format_local(tz),
                format!(
                    "overlaps the relation of the same child on line {}; a child has at most one relation in force at any moment",
                    earlier.line
                ),
            )),
            None => valid.push(r),
        }
    }
    match find_cycle(&valid) {
        Some(cycle) => Err(cycle),
        None => Ok(rejects),
    }
}

/// Any cycle in the graph child → master, whatever the windows.
fn find_cycle(relations: &[&Relation]) -> Option<Cycle> {
    let mut edges: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for r in relations {
        edges.entry(&r.child_id).or_default().insert(&r.master_id);
    }
    fn visit<'a>(
        node: &'a str,
        edges: &BTreeMap<&'a str, BTreeSet<&'a str>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Option<Vec<String>> {
        if let Some(pos) = path.iter().position(|n| *n == node) {
            let mut cycle: Vec<String> = path[pos..].iter().map(|s| s.to_string()).collect();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if !done.insert(node) {
            return None;
        }
        path.push(node);
        for next in edges.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, edges, path, done) {
                return Some(c);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    edges
        .keys()
        .find_map(|start| visit(start, &edges, &mut Vec::new(), &mut done))
        .map(Cycle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::records::{LinkType, TitleKind};
    use crate::model::time::parse_timestamp;
    use rust_decimal::Decimal;

    const SH: Tz = chrono_tz::Asia::Shanghai;

    fn window(from: &str, to: Option<&str>) -> Window {
        let ts = |s: &str| parse_timestamp(s, SH).expect("a test timestamp");
        Window {
            from: ts(from),
            to: to.map(ts),
        }
    }

    fn account(id: &str, entity: &str, title_kind: TitleKind) -> (Text, Account) {
        let account = Account {
            line: 2,
            account_id: id.into(),
            account_name: id.into(),
            entity_name: entity.into(),
            title_kind,
            discount_rate: Decimal::ZERO,
        };
        (id.into(), account)
    }

    fn relation(line: Line, child: &str, master: &str, from: &str, to: Option<&str>) -> Relation {
        Relation {
            line,
            child_id: child.into(),
            master_id: master.into(),
            kind: RelationKind::Hosting,
            window: window(from, to),
            inherit_discount: false,
            invoice_by: InvoiceBy::Master,
        }
    }

    fn accounts() -> BTreeMap<Text, Account> {
        [
            account("c1", "E", TitleKind::Enterprise),
            account("c2", "E", TitleKind::Enterprise),
            account("m", "E", TitleKind::Enterprise),
            account("other", "F", TitleKind::Enterprise),
        ]
        .into()
    }

    fn rejected(rejects: &[Reject]) -> Vec<(Line, &str)> {
        rejects
            .iter()
            .map(|r| (r.line, r.column.as_str()))
            .collect()
    }

    #[test]
    fn hosting_needs_one_entity_and_a_master_without_a_partner() {
        let links = [PartnerLink {
            line: 7,
            account_id: "m".into(),
            partner_id: "p".into(),
            link_type: LinkType::Agency,
            window: window("2026-10-10", None),
        }];
        let relations = [
            relation(2, "other", "c1", "2026-01-01", None),
            relation(3, "c2", "m", "2026-01-01", Some("2026-10-10")),
            relation(4, "c1", "m", "2026-01-01", None),
        ];
        let rejects = check(&relations, &accounts(), &links, SH).expect("no cycle");
        assert_eq!(rejected(&rejects), vec![(2, "master_id"), (4, "master_id")]);
        assert!(rejects[0].reason.contains("same `entity_name`"));
        assert!(
            rejects[1].reason.contains("line 7"),
            "names the partner link: {}",
            rejects[1].reason
        );
    }

    #[test]
    fn a_child_has_one_relation_at_a_time_and_the_first_stays() {
        let relations = [
            relation(2, "c1", "m", "2026-10-05", None),
            relation(3, "c1", "c2", "2026-10-01", Some("2026-10-06")),
            relation(4, "c1", "c2", "2026-09-01", Some("2026-10-01")),
        ];
        let rejects = check(&relations, &accounts(), &[], SH).expect("no cycle");
        assert_eq!(
            rejected(&rejects),
            vec![(2, "effective_at")],
            "line 3 took effect first; line 4 ends where line 3 starts"
        );
    }

    #[test]
    fn a_cycle_stops_the_run_whatever_the_windows() {
        let relations = [
            relation(2, "c1", "c2", "2026-01-01", Some("2026-02-01")),
            relation(3, "c2", "m", "2026-05-01", None),
            relation(4, "m", "c1", "2026-09-01", None),
        ];
        let Err(Cycle(accounts)) = check(&relations, &accounts(), &[], SH) else {
            panic!("a cycle");
        };
        assert_eq!(accounts, vec!["c1", "c2", "m", "c1"]);
    }
}
