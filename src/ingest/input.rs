//! What reading one input file gives, shared by every reader: its records, its rejects and the
//! facts the manifest lists. A leaf, so that the readers and the facade in [`crate::ingest`] import
//! it and not each other.

use crate::ingest::schema::FileSpec;
use crate::ingest::{exports, lines};
use crate::model::reject::Reject;

/// What was read from one input file, for the manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputFile {
    pub spec: FileSpec,
    /// `None` when an optional file is absent.
    pub sha256: Option<String>,
    /// Data rows in the file (the header is not counted).
    pub rows: u64,
    pub unknown_columns: Vec<String>,
    /// The file's physical lines, and its records that span lines.
    pub lines: lines::Lines,
    /// For an export file: its format, mapping and the rows it set aside.
    pub export: Option<Box<exports::ExportFacts>>,
}

/// One file's accepted records, its rejects and its facts.
pub struct Loaded<T> {
    pub records: Vec<T>,
    pub rejects: Vec<Reject>,
    pub input: InputFile,
}
