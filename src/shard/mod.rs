//! A month past one machine: `settle split`, `settle run --shard I/N` and `settle merge`.
//!
//! Every rule of the contract is local to an account, or to a key that includes the account
//! (a statement line, a rollup row, a consumption row, a finding), or is a sum over such keys (a
//! statement's total, a master's hosting invoice, the invoice list). So a month splits by account
//! and merges exactly, as long as each part keeps its sums exact and unrounded and the rounding
//! happens once, after the merge. That is what the batches of one machine already do
//! ([`crate::ingest::batches`]): a shard is a batch that another process folds.
//!
//! - [`split()`] reads the dataset's bill files once, as a run does (the same checks, the same
//!   rejects, the same duplicate `bill_id`s), by one process or by `M` (`--part K/M`, each a
//!   group of the export files), and writes each part's bill lines to the stage in runs sorted
//!   by account, with the part's manifest `parts/<K>.json`.
//! - [`settle()`] cuts the accounts, in the order of their ids, into `N` ranges of about as many
//!   bill lines each, from every part's counts (so every shard and the merge agree on the cut
//!   without talking), folds its range's lines through every rule, with the meter's records of
//!   its accounts, and writes what the rules found, exact, to the stage: no documents.
//! - [`merge()`] checks the stage is whole and of one split, hands the shards' results to the
//!   pipeline one after another as a run hands its batches, and writes the period folder with the
//!   run's own writer: the same bytes as `settle run`.
//!
//! A hosting master and its children, and a partner and its customers, need not be in one shard:
//! a child's line rolls up by the child's own relation, read from the small tables every shard
//! has, and the master's invoice and rollup are sums and lists over the children's lines, put
//! together at the merge; a partner's statement is a list of lines keyed by its customers'
//! accounts, and its total is their sum, taken once, after the merge.

pub mod records;
pub mod stage;

mod merge;
mod settle;
mod split;

pub use merge::{MergeConfig, merge};
pub use settle::settle;
pub use split::{SplitConfig, groups, split};

use std::fmt;
use std::str::FromStr;

/// Shard `index` of `count`, as `--shard I/N` gives it: `I` counts from 0, as a Kubernetes
/// Indexed Job's `JOB_COMPLETION_INDEX` does.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct ShardOf {
    pub index: usize,
    pub count: usize,
}

impl FromStr for ShardOf {
    type Err = String;

    fn from_str(s: &str) -> Result<ShardOf, String> {
        index_of(s, "shard", ("I", "N"), "--shard 0/4")
    }
}

/// Part `index` of `count` of the split, as `--part K/M` gives it: `K` counts from 0, as a
/// Kubernetes Indexed Job's `JOB_COMPLETION_INDEX` does.
pub type PartOf = ShardOf;

/// `I/N`, `I` from 0 to `N - 1`; `letters` name them in the hint.
fn index_of(s: &str, what: &str, letters: (&str, &str), example: &str) -> Result<ShardOf, String> {
    let (i, n) = letters;
    let bad = || {
        format!(
            "`{s}` is not a {what}\nhint: write `{i}/{n}`, {i} from 0 to {n} - 1, e.g. `{example}`"
        )
    };
    let (index, count) = s.split_once('/').ok_or_else(bad)?;
    let index: usize = index.trim().parse().map_err(|_| bad())?;
    let count: usize = count.trim().parse().map_err(|_| bad())?;
    if count == 0 || index >= count {
        return Err(bad());
    }
    Ok(ShardOf { index, count })
}

/// Parses `--part K/M`.
pub fn parse_part(s: &str) -> Result<PartOf, String> {
    index_of(s, "part", ("K", "M"), "--part 0/4")
}

impl fmt::Display for ShardOf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_count_from_zero() {
        assert_eq!("2/7".parse::<ShardOf>(), Ok(ShardOf { index: 2, count: 7 }));
        assert!("7/7".parse::<ShardOf>().is_err());
        assert!("0/0".parse::<ShardOf>().is_err());
        assert!("a/2".parse::<ShardOf>().is_err());
    }
}
