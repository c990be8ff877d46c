//! Where a dataset's bill lines come from: `bills.csv`, or the cloud exports in `exports/`.
//!
//! Both are folded into the month's rules batch by batch through the same calls, so the
//! pipeline does not know which one a dataset has.

use std::path::PathBuf;

use crate::error::{DatasetError, Error};
use crate::ingest::batches::Batches;
use crate::ingest::input::InputFile;
use crate::ingest::reader::big;
use crate::ingest::{Reject, exports};
use crate::model::fold::Fold;
use crate::progress::Progress;

/// The bill lines of a dataset, read batch by batch: see [`big::Bills`].
pub enum Bills<'c> {
    Csv(Box<big::Bills<'c>>),
    Exports(exports::Bills<'c>),
}

impl Bills<'_> {
    pub fn batches(&self) -> &Batches {
        match self {
            Bills::Csv(b) => b.batches(),
            Bills::Exports(b) => b.batches(),
        }
    }

    /// For a month of several batches, has the first read of `bills.csv` write the other
    /// batches' lines to scratch files in `dir`, so that the file is read once. Exports are
    /// read by batch from their own files.
    pub fn scatter(&mut self, dir: impl FnOnce() -> Result<PathBuf, Error>) -> Result<(), Error> {
        match self {
            Bills::Csv(b) => b.scatter(dir),
            Bills::Exports(_) => Ok(()),
        }
    }

    /// Whether the batches are being folded again, without duplicate rows.
    pub fn is_again(&self) -> bool {
        match self {
            Bills::Csv(b) => b.is_again(),
            Bills::Exports(_) => false,
        }
    }

    /// Folds the lines of batch `index`'s accounts into folds made by `make`.
    pub fn fold<F: Fold>(
        &mut self,
        index: usize,
        make: impl Fn() -> F + Sync,
        progress: &dyn Progress,
    ) -> Result<F, DatasetError> {
        match self {
            Bills::Csv(b) => b.fold(index, make, progress),
            Bills::Exports(b) => b.fold(index, make, progress),
        }
    }

    /// Whether every batch must be folded again without duplicate rows. Export rows have ids
    /// unique by construction, so never for them.
    pub fn again(&mut self, progress: &dyn Progress) -> Result<bool, DatasetError> {
        match self {
            Bills::Csv(b) => b.again(progress),
            Bills::Exports(_) => Ok(false),
        }
    }

    /// The facts of each file read, and their rejects in line order.
    pub fn finish(self) -> (Vec<InputFile>, Vec<Reject>) {
        match self {
            Bills::Csv(b) => {
                let (input, rejects) = (*b).finish();
                (vec![input], rejects)
            }
            Bills::Exports(b) => b.finish(),
        }
    }
}
