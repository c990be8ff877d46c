//! A test hook for crash tests: `SETTLE_TEST_PAUSE=<point>` makes a run stop at a named point.
//!
//! Crash tests must kill a run at a known moment (while it reads, while it renders, between the
//! two renames of the final swap) and then check what it left behind. Sleeping for a while and
//! hoping the run got there is flaky on a busy machine, so a run started with
//! `SETTLE_TEST_PAUSE=<point>` prints `settle: paused at <point>` to stderr when it reaches that
//! point, and then waits there until it is killed. The points are `read` (the output folder is
//! being written and `bills.csv` is about to be read), `render` (the CSVs are written, the
//! statements and PDFs are not) and `swap` (the previous period folder is moved aside, the new
//! one is not yet in its place). Without the variable, [`pause`] does nothing.
//!
//! `SETTLE_TEST_FAULT=unbalance` adds a cent to one output's sum in the conservation check, so
//! that a test can see that a run whose manifest would not balance fails (exit 1) and writes
//! nothing; no real input can be relied on to do that once the readers are right. Without the
//! variable, [`injected`] is false.

use std::sync::OnceLock;

/// The variable that names the point to stop at.
pub const VAR: &str = "SETTLE_TEST_PAUSE";

/// Stops the process for good at `point` if [`VAR`] names it; otherwise returns at once.
pub fn pause(point: &str) {
    static WANTED: OnceLock<Option<String>> = OnceLock::new();
    let wanted = WANTED.get_or_init(|| std::env::var(VAR).ok());
    if wanted.as_deref() != Some(point) {
        return;
    }
    crate::errln!("settle: paused at {point}");
    loop {
        std::thread::park();
    }
}

/// The variable that names a fault to inject.
pub const FAULT_VAR: &str = "SETTLE_TEST_FAULT";

/// Whether [`FAULT_VAR`] names `fault`.
pub fn injected(fault: &str) -> bool {
    static WANTED: OnceLock<Option<String>> = OnceLock::new();
    WANTED
        .get_or_init(|| std::env::var(FAULT_VAR).ok())
        .as_deref()
        == Some(fault)
}
