//! Cross-table checks: the stage between ingestion and the rules.
//!
//! Some rows are only wrong in the light of other rows: a hosting relation between different legal
//! entities, two relations of one child at once, two special rebates that tie. Those rows are
//! rejected here, with their reasons, before any rule runs, so that the rules only ever see rows
//! they can use, and so that `validate`, `--strict` and the reject count all see them too. A cycle
//! among relations cannot be settled by rejecting a row, so it stops the run.

pub mod rate_ties;
pub mod relations;

use crate::error::DatasetError;
use crate::ingest::{Dataset, sort_rejects};
use crate::model::records::Line;
use crate::model::reject::Reject;
use rate_ties::tie_rejects;
use relations::Cycle;

/// Applies every cross-table check to `data`: rejected rows leave their tables and join
/// `data.rejects`.
pub fn apply(data: &mut Dataset) -> Result<(), DatasetError> {
    let relation_rejects = relations::check(
        &data.relations,
        &data.accounts,
        &data.links,
        data.settings.timezone,
    )
    .map_err(|Cycle(accounts)| DatasetError::RelationCycle { accounts })?;
    drop_rejected(&mut data.relations, &relation_rejects, |r| r.line);

    let ties = tie_rejects(&data.specials, &data.rates);
    let (special_ties, rate_ties): (Vec<&Reject>, Vec<&Reject>) = ties
        .iter()
        .partition(|r| r.file == crate::ingest::schema::SPECIAL_REBATES.name);
    drop_rejected(&mut data.specials, &special_ties, |s| s.line);
    drop_rejected(&mut data.rates, &rate_ties, |r| r.line);

    data.rejects.extend(relation_rejects);
    data.rejects.extend(ties);
    sort_rejects(&mut data.rejects);
    Ok(())
}

fn drop_rejected<T, R: std::borrow::Borrow<Reject>>(
    rows: &mut Vec<T>,
    rejects: &[R],
    line: fn(&T) -> Line,
) {
    rows.retain(|row| !rejects.iter().any(|r| r.borrow().line == line(row)));
}
