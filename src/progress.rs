//! Progress reports from the pipeline to whoever runs it: a spinner on a terminal, nothing in cron.

/// Receives the name of each stage as the run enters it, and how far a long stage has come.
pub trait Progress: Sync {
    fn stage(&self, what: &str);
    /// Says how much work the current stage has, in the units [`Progress::advance`] counts:
    /// bytes of a big file for each core that reads it, or documents to render.
    fn work(&self, _total: u64) {}
    /// Adds work done; any thread may call it.
    fn advance(&self, _done: u64) {}
}

/// Reports nothing.
pub struct Quiet;

impl Progress for Quiet {
    fn stage(&self, _: &str) {}
}
