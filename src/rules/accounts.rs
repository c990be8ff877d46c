//! Everything the rules ask of a bill line's account, resolved once per account.
//!
//! ## Why it exists
//! Each bill line used to look its account up in a table per rule: R3's hosting relations, R5's
//! partner links, R6's resale links and managing masters, R7's discount rates and inheriting
//! masters, each a hash table keyed by account. At a hundred thousand accounts those tables
//! outgrow the caches, so every lookup was a cache miss, several per line. Here the month's
//! accounts are resolved once, before the lines are read, into one [`Resolved`] record each, in a
//! list: the line carries its account's place in that list ([`BillLine::account`]), which the
//! probe that found the account when the line was read gave it. A line then reads one record.
//!
//! ## What it holds
//! Per account: its own discount rate as R3 prices it (zero when unknown) and as R7 expects it
//! (none when the accounts were taken from the exports), a filter of its metered resources in the
//! batch's `usage.csv` (R7: most bill lines have no usage record, and then need not look in the
//! meter), and, for the few accounts that have any,
//! its partner links and special rebates (R5, R6), the hosting relations in force during the month
//! with the master's rates (R3, R7), the inheriting management relations with the master's rate
//! (R4, R7), and the management relations invoiced by the master (R6). Each kind keeps the order
//! of its input file, so that the first match is the one the rules always took.
//!
//! A line whose account was not found through the known accounts (made by hand in a test) is
//! looked up by name instead, and an account nobody knows resolves to nothing: no rate, no
//! relation, no link.

use std::hash::{Hash, Hasher};

use rust_decimal::Decimal;
use rustc_hash::FxHashMap;

use crate::model::period::Period;
use crate::model::records::*;
use crate::rules::month::Inputs;

/// A master of a hosting or inheriting management relation, with the master's rates as the
/// rules read them.
#[derive(Debug)]
pub struct Master<'a> {
    pub relation: &'a Relation,
    /// The master's `discount_rate` in `accounts.csv`, zero when unknown: R3's expected discount
    /// of a rolled-up line.
    pub rate: Decimal,
    /// The master's own contract rate, when known: what R7 expects of a rolled-up or inheriting
    /// line.
    pub own_rate: Option<Decimal>,
}

impl Master<'_> {
    pub fn id(&self) -> &Text {
        &self.relation.master_id
    }
}

/// One relation or link of an account.
#[derive(Debug)]
enum Related<'a> {
    /// R5 (every link) and R6 (resale links).
    Link(&'a PartnerLink),
    /// R5.
    Special(&'a SpecialRebate),
    /// R3: a hosting relation whose window overlaps the month.
    Hosted(Master<'a>),
    /// R4: a management relation with `inherit_discount`.
    Inherits(Master<'a>),
    /// R6: a management relation with `invoice_by = master`.
    Managed(&'a Relation),
}

/// Which kinds of [`Related`] an account has that a line asks about, so that the common account
/// with none of them reads nothing beyond its record.
const RESALE: u8 = 1;
const HOSTED: u8 = 2;
const INHERITS: u8 = 4;
const MANAGED: u8 = 8;
/// The account's own rate is known (`Inputs::own_rates`).
const OWN_RATE: u8 = 16;

/// Everything the rules ask of one account. Small (within one cache line), so that reading it
/// is one memory access; the relations and links, which most lines do not need, are behind a
/// pointer.
#[derive(Debug)]
pub struct Resolved<'a> {
    pub id: Text,
    /// `discount_rate` in `accounts.csv`, zero when unknown: R3's expected discount of a line
    /// that stays on a hosted child, and R7's expected rate of its lines when it is known
    /// ([`Resolved::own_rate`]).
    pub rate: Decimal,
    /// Two bits of 64 for each of the account's metered resources in the batch's `usage.csv`
    /// ([`metered_bits`]): a bill line whose bits are not all set has no usage record, and R7
    /// does not look its resource up in the meter.
    metered: u64,
    has: u8,
    related: Box<[Related<'a>]>,
}

impl<'a> Resolved<'a> {
    fn new(id: Text) -> Resolved<'a> {
        Resolved {
            id,
            rate: Decimal::ZERO,
            metered: 0,
            has: 0,
            related: Box::default(),
        }
    }

    /// The account's own contract rate, when known: what R7 expects of its lines.
    pub fn own_rate(&self) -> Option<Decimal> {
        (self.has & OWN_RATE != 0).then_some(self.rate)
    }

    /// Whether a bill line of the account, with a resource's `bits` ([`metered_bits`]), may have
    /// usage records: false means it has none.
    pub fn may_be_metered(&self, bits: u64) -> bool {
        self.metered & bits == bits
    }

    /// The related rows, where the account has one of the kinds in `kinds`; else none, without
    /// reading them.
    fn related(&self, kinds: u8) -> &[Related<'a>] {
        if self.has & kinds == 0 {
            &[]
        } else {
            &self.related
        }
    }

    /// Its partner links (R5), in file order.
    pub fn links(&self) -> impl Iterator<Item = &'a PartnerLink> + '_ {
        self.related.iter().filter_map(|r| match r {
            Related::Link(l) => Some(*l),
            _ => None,
        })
    }

    /// Its resale links (R6), in file order.
    pub fn resale(&self) -> impl Iterator<Item = &'a PartnerLink> + '_ {
        self.related(RESALE).iter().filter_map(|r| match r {
            Related::Link(l) if l.link_type == LinkType::Resale => Some(*l),
            _ => None,
        })
    }

    /// Its special rebates (R5), in file order.
    pub fn specials(&self) -> impl Iterator<Item = &'a SpecialRebate> + '_ {
        self.related.iter().filter_map(|r| match r {
            Related::Special(s) => Some(*s),
            _ => None,
        })
    }

    /// The hosting relations in force during the month of which it is the child (R3), in file
    /// order.
    pub fn hosted(&self) -> impl Iterator<Item = &Master<'a>> {
        self.related(HOSTED).iter().filter_map(|r| match r {
            Related::Hosted(m) => Some(m),
            _ => None,
        })
    }

    /// The management relations with `inherit_discount` of which it is the child (R4), in file
    /// order.
    pub fn inherits(&self) -> impl Iterator<Item = &Master<'a>> {
        self.related(INHERITS).iter().filter_map(|r| match r {
            Related::Inherits(m) => Some(m),
            _ => None,
        })
    }

    /// The management relations invoiced by the master of which it is the child (R6), in file
    /// order.
    pub fn managed(&self) -> impl Iterator<Item = &'a Relation> + '_ {
        self.related(MANAGED).iter().filter_map(|r| match r {
            Related::Managed(r) => Some(*r),
            _ => None,
        })
    }
}

/// The bits a metered resource sets in its account's record: two of 64, from a hash of the
/// resource's product, sub-product, id and currency, the key R7's meter matches bills to usage
/// records by, but for the account.
pub fn metered_bits(product: &Text, sub_product: &Text, resource_id: &str, currency: &Text) -> u64 {
    let mut h = rustc_hash::FxHasher::default();
    (product.id(), sub_product.id(), resource_id, currency.id()).hash(&mut h);
    let x = h.finish();
    (1 << (x >> 58)) | (1 << ((x >> 52) & 63))
}

/// Every account the month knows, resolved, by the place its lines carry.
pub struct Accounts<'a> {
    records: Vec<Resolved<'a>>,
    /// The place of each account by [`Text::id`], for lines that carry none.
    places: FxHashMap<usize, Place>,
    /// What an account nobody knows resolves to.
    unknown: Resolved<'a>,
}

impl<'a> Accounts<'a> {
    /// Resolves the known accounts, in their places, and after them any account the tables or
    /// the batch's `usage` name that is not among them.
    pub fn new(inputs: &Inputs<'a>, usage: &[UsageRecord], period: &Period) -> Accounts<'a> {
        let mut accounts = Accounts {
            records: Vec::new(),
            places: FxHashMap::default(),
            unknown: Resolved::new(Text::default()),
        };
        for id in inputs.known.by_place() {
            accounts.place(id);
        }
        let own = if inputs.own_rates { OWN_RATE } else { 0 };
        for a in inputs.accounts.values() {
            let place = accounts.place(&a.account_id);
            let record = &mut accounts.records[place as usize];
            record.rate = a.discount_rate;
            record.has = own;
        }
        for u in usage {
            let place = accounts.place(&u.account_id);
            accounts.records[place as usize].metered |=
                metered_bits(&u.product, &u.sub_product, &u.resource_id, &u.currency);
        }
        let month = Window {
            from: period.start,
            to: Some(period.end),
        };
        // Each kind in its file's order; a stable sort by place keeps that order per account.
        let mut related: Vec<(Place, Related<'a>)> = Vec::new();
        for l in inputs.links {
            related.push((accounts.place(&l.account_id), Related::Link(l)));
        }
        for s in inputs.specials {
            related.push((accounts.place(&s.account_id), Related::Special(s)));
        }
        for r in inputs.relations {
            let child = accounts.place(&r.child_id);
            let master_at = accounts.place(&r.master_id) as usize;
            let master = || {
                let m = &accounts.records[master_at];
                Master {
                    relation: r,
                    rate: m.rate,
                    own_rate: m.own_rate(),
                }
            };
            match r.kind {
                RelationKind::Hosting if r.window.overlaps(&month) => {
                    related.push((child, Related::Hosted(master())));
                }
                RelationKind::Hosting => {}
                RelationKind::Management => {
                    if r.inherit_discount {
                        related.push((child, Related::Inherits(master())));
                    }
                    if r.invoice_by == InvoiceBy::Master {
                        related.push((child, Related::Managed(r)));
                    }
                }
            }
        }
        related.sort_by_key(|(place, _)| *place);
        let mut related = related.into_iter().peekable();
        while let Some((place, first)) = related.next() {
            let mut rows = vec![first];
            while let Some((_, r)) = related.next_if(|(p, _)| *p == place) {
                rows.push(r);
            }
            let record = &mut accounts.records[place as usize];
            record.has |= rows.iter().fold(0, |has, r| {
                has | match r {
                    Related::Link(l) if l.link_type == LinkType::Resale => RESALE,
                    Related::Link(_) | Related::Special(_) => 0,
                    Related::Hosted(_) => HOSTED,
                    Related::Inherits(_) => INHERITS,
                    Related::Managed(_) => MANAGED,
                }
            });
            record.related = rows.into_boxed_slice();
        }
        accounts
    }

    /// The place of `id`, added at the end if it is not known yet. Names must be added before
    /// any relation refers to them.
    fn place(&mut self, id: &Text) -> Place {
        let next = self.records.len();
        *self.places.entry(id.id()).or_insert_with(|| {
            self.records.push(Resolved::new(id.clone()));
            Place::try_from(next).expect("fewer than 4 billion accounts")
        })
    }

    /// The account of a bill line: at the place the line carries, else found by name.
    pub fn of(&self, b: &BillLine) -> &Resolved<'a> {
        match self.records.get(b.account as usize) {
            Some(r) if r.id == b.account_id => r,
            _ => self.named(&b.account_id),
        }
    }

    /// An account found by name: what a line of it resolves to.
    pub fn named(&self, id: &Text) -> &Resolved<'a> {
        self.places
            .get(&id.id())
            .map_or(&self.unknown, |&p| &self.records[p as usize])
    }

    /// The place of an account, if it is known: what a line read through the known accounts
    /// carries.
    pub fn place_of(&self, id: &Text) -> Option<Place> {
        self.places.get(&id.id()).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{World, account, bill, d, october, window};

    fn relation(child: &str, master: &str, kind: RelationKind, from: &str) -> Relation {
        Relation {
            line: 2,
            child_id: child.into(),
            master_id: master.into(),
            kind,
            window: window(from, None),
            inherit_discount: true,
            invoice_by: InvoiceBy::Master,
        }
    }

    fn rated(id: &str, rate: &str) -> (Text, Account) {
        let (id, mut a) = account(id, "E", TitleKind::Enterprise);
        a.discount_rate = d(rate);
        (id, a)
    }

    /// One cache line: a line reads its account in one memory access.
    #[test]
    fn a_record_fits_a_cache_line() {
        assert!(std::mem::size_of::<Resolved>() <= 64);
    }

    #[test]
    fn each_account_holds_its_relations_with_the_masters_rates() {
        let world = World {
            accounts: [
                rated("child", "0.1"),
                rated("master", "0.2"),
                rated("m2", "0.3"),
            ]
            .into(),
            relations: vec![
                relation("child", "master", RelationKind::Hosting, "2026-10-15"),
                // Ended before the month: not in force during it.
                Relation {
                    window: window("2026-01-01", Some("2026-02-01")),
                    ..relation("child", "m2", RelationKind::Hosting, "2026-01-01")
                },
                relation("child", "m2", RelationKind::Management, "2026-10-10"),
            ],
            links: vec![PartnerLink {
                line: 2,
                account_id: "master".into(),
                partner_id: "p1".into(),
                link_type: LinkType::Resale,
                window: window("2026-01-01", None),
            }],
            ..World::default()
        };
        let october = october();
        let tables = world.tables(&october);
        let accounts = &tables.accounts;
        let child = accounts.named(&"child".into());
        assert_eq!((child.rate, child.own_rate()), (d("0.1"), Some(d("0.1"))));
        let hosted: Vec<(&str, Decimal)> = child.hosted().map(|m| (&**m.id(), m.rate)).collect();
        assert_eq!(hosted, vec![("master", d("0.2"))]);
        let inherits: Vec<&str> = child.inherits().map(|m| &**m.id()).collect();
        assert_eq!(inherits, vec!["m2"]);
        assert_eq!(child.managed().count(), 1);
        assert_eq!(child.resale().count(), 0);
        let master = accounts.named(&"master".into());
        assert_eq!((master.resale().count(), master.hosted().count()), (1, 0));
        // A line finds its record by the place it carries, and by name without one.
        let mut line = bill("1", "master", "2026-10-02", "1");
        assert_eq!(accounts.of(&line).id, "master");
        line.account = accounts.place_of(&line.account_id).expect("known");
        assert_eq!(accounts.of(&line).id, "master");
        // A place that is another account's is not trusted.
        line.account = accounts.place_of(&"child".into()).expect("known");
        assert_eq!(accounts.of(&line).id, "master");
        let stranger = accounts.of(&bill("2", "nobody", "2026-10-02", "1"));
        assert_eq!((stranger.rate, stranger.own_rate()), (Decimal::ZERO, None));
    }
}
