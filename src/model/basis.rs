//! Which period a bill line is counted in: the one choice several rules and documents share.

use serde::Serialize;

/// Which period rebates are counted in (`rebate_basis`).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RebateBasis {
    #[default]
    Usage,
    Deduction,
}
