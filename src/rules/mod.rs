//! The domain rules of SPEC, as pure functions over typed records. Each rule lives in its own
//! module; none reads files, the clock or the environment.

pub mod consumption;
pub mod invoices;
pub mod month;
pub mod rebate;
pub mod reconcile;
pub mod relations;
pub mod rollup;
