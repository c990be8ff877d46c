//! Batches of accounts, so that a month of any size runs in bounded memory.
//!
//! The month's rules keep sums per group (an account's product, sub-product and currency), the
//! meter's records and the metered bills. All of them belong to one account, and they grow with
//! the number of accounts. A big month is therefore run in batches: the accounts are cut, in the
//! order of their ids, into ranges of about [`LINES_PER_BATCH`] bill lines each, and each batch
//! reads `usage.csv` and `bills.csv` for its own accounts, applies the rules and finishes them
//! before the next batch starts. What the rules hold at once is one batch's.
//!
//! The ranges follow the order of account ids, so the batches' consumption rows, each sorted by
//! account, are sorted when put one after the other. The number of lines is estimated from the
//! size of `bills.csv` (with 5% to spare), and the batches hold about as many accounts each, so
//! their lines are even only as far as the accounts' are. A month of up to [`LINES_PER_BATCH`]
//! lines is one batch: `bills.csv` is read once.
//!
//! Which batch a row belongs to is decided from its `account_id` cell alone, by comparing text,
//! so that every row falls in exactly one batch, known account or not, and is parsed (and, if
//! bad, rejected) once.

use crate::model::records::Known;

/// Bill lines per batch. At ten million lines the rules hold about 0.8 GiB.
pub const LINES_PER_BATCH: u64 = 12_000_000;

/// How the accounts are cut into batches.
#[derive(Clone, Debug, Default)]
pub struct Batches {
    /// Where each batch but the first starts: batch `i + 1` takes the account ids from
    /// `starts[i]` (included) up to the next start.
    starts: Vec<Box<str>>,
}

impl Batches {
    /// Batches of about `lines_per_batch` of `lines` bill lines, over the known `accounts`, each
    /// batch with about as many accounts.
    pub fn plan(accounts: &Known, lines: u64, lines_per_batch: u64) -> Batches {
        let count = lines.div_ceil(lines_per_batch.max(1)).max(1) as usize;
        if count == 1 {
            return Batches::default();
        }
        let mut ids: Vec<&str> = accounts.names().collect();
        ids.sort_unstable();
        // A batch starts at a known id past the first, so that no batch is empty.
        let mut starts: Vec<Box<str>> = (1..count)
            .map(|i| ids.len() * i / count)
            .filter(|&at| at > 0)
            .map(|at| Box::from(ids[at]))
            .collect();
        starts.dedup();
        Batches { starts }
    }

    /// Batches that start where a sharded run's split cut the accounts ([`crate::shard`]): one
    /// batch per shard, `starts` in order.
    pub fn starting_at(starts: Vec<Box<str>>) -> Batches {
        Batches { starts }
    }

    /// How many batches there are: at least one.
    pub fn count(&self) -> usize {
        self.starts.len() + 1
    }

    /// The batch of a row whose (trimmed) `account_id` cell is `account`.
    pub fn of(&self, account: &str) -> usize {
        self.starts.partition_point(|start| &**start <= account)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::records::Text;

    fn known(ids: &[&str]) -> Known {
        ids.iter().map(|&id| Text::from(id)).collect()
    }

    #[test]
    fn one_batch_up_to_the_limit() {
        let b = Batches::plan(&known(&["a", "b"]), 10, 10);
        assert_eq!(b.count(), 1);
        assert_eq!(b.of("a"), 0);
        assert_eq!(b.of("zzz"), 0);
    }

    /// Every id falls in one batch, ids in order fall in batches in order, and ids that are not
    /// known fall in a batch too.
    #[test]
    fn batches_follow_the_order_of_ids() {
        let ids: Vec<String> = (0..100).map(|i| format!("acc-{i:03}")).collect();
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let b = Batches::plan(&known(&refs), 1000, 250);
        assert_eq!(b.count(), 4);
        let of: Vec<usize> = refs.iter().map(|id| b.of(id)).collect();
        assert!(of.is_sorted());
        for batch in 0..4 {
            assert_eq!(of.iter().filter(|&&x| x == batch).count(), 25);
        }
        assert_eq!(b.of(""), 0);
        assert_eq!(b.of("acc-0505"), 2);
        assert_eq!(b.of("zzz"), 3);
    }

    /// More batches than accounts: no batch starts twice at the same id.
    #[test]
    fn no_empty_ranges() {
        let b = Batches::plan(&known(&["a", "b"]), 100, 1);
        assert_eq!(b.count(), 2);
        assert_eq!((b.of("a"), b.of("b")), (0, 1));
    }
}
