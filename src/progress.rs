//! Progress reports from the pipeline to whoever runs it: a spinner on a terminal, nothing in cron.

/// Receives the name of each stage as the run enters it.
pub trait Progress: Sync {
    fn stage(&self, what: &str);
}

/// Reports nothing.
pub struct Quiet;

impl Progress for Quiet {
    fn stage(&self, _: &str) {}
}
