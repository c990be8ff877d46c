//! The domain rules of the contract (docs/rules.md), as pure functions over typed records. Each rule lives in its own
//! module; none reads files, the clock or the environment.

pub mod accounts;
pub mod consumption;
pub mod discounts;
pub mod invoices;
pub mod month;
pub mod rates;
pub mod rebate;
pub mod reconcile;
pub mod rollup;
#[cfg(test)]
mod testing;

use rayon::prelude::*;

/// Sorts `rows` by `key` and adds each run of rows with equal keys into its first, with `add`.
/// Rules that sum per group finish this way: the cores' sums may hold a group more than once.
fn coalesce<T: Send, K: Ord + Send>(
    rows: &mut Vec<T>,
    key: impl Fn(&T) -> K + Sync,
    add: impl Fn(&mut T, &T),
) {
    rows.par_sort_unstable_by_key(&key);
    rows.dedup_by(|later, kept| {
        let same = key(later) == key(kept);
        if same {
            add(kept, later);
        }
        same
    });
}
