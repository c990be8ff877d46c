//! The parallel CSV reader: `bills.csv` and `usage.csv` read on every core, in bounded memory.
//!
//! - [`plan`] decides how the cores share a file: segments cut at line ends, or shards by a
//!   column's hash;
//! - [`split`] reads one core's share in blocks and splits it into records;
//! - [`quoted`] is the one record splitter for quoted lines, shared with the small files and the
//!   exports;
//! - [`big`] reads a big file through them into typed records, batch by batch;
//! - [`scatter`] keeps the other batches' records on disk while the first batch is read, so a
//!   month of several batches reads `bills.csv` once.

pub mod big;
pub mod plan;
pub mod quoted;
pub mod scatter;
pub mod split;
