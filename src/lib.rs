//! settle: monthly reconciliation and statements for cloud resellers and multi-account finance
//! teams.
//!
//! Data flows one way: [`ingest`] reads a dataset folder into typed records, [`rules`] computes
//! each rule of the contract as a pure function of those records and the run's [`model::period::Period`],
//! [`render`] turns results into document bytes, and [`output`] writes them atomically with a
//! [`manifest`]. [`pipeline`] runs the stages in that order. [`serve`], the finance portal,
//! reads what the pipeline wrote and serves it to each user within their scope.

pub mod changes;
pub mod checks;
pub mod cli;
pub mod config;
pub mod console;
pub mod diff;
pub mod digest;
pub mod error;
pub mod explain;
pub mod fault;
pub mod fuzz;
pub mod ingest;
pub mod layout;
pub mod lock;
pub mod manifest;
pub mod model;
pub mod output;
pub mod pipeline;
pub mod progress;
pub mod record;
pub mod render;
pub mod restate;
pub mod rules;
pub mod runs;
pub mod serve;
pub mod shard;
pub mod summary;
pub mod synth;
pub mod view;
