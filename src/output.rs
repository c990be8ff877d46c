//! The output stage: the only code that writes output files.
//!
//! A period's outputs are written into a temporary folder beside the target as they are made, and
//! renamed into place at the end, so a failed run never leaves a half-written period behind; a
//! re-run replaces the old folder whole. A month of several batches also keeps a scratch folder
//! beside it, removed at the end. `manifest.json` records what went in and what came out, with
//! SHA-256 sums.
//!
//! The swap survives a crash. Every file and folder is flushed to the disk (`fsync`) before the
//! renames, so a power cut after them cannot leave a folder of empty files. A run holds the
//! period's lock ([`crate::lock`]) from before it creates its temporary folder until it is done,
//! and with the lock first puts back a period folder that a run killed between the two renames
//! left moved aside, and removes what killed runs left (`.<period>.tmp-*`, `.<period>.scratch-*`,
//! `.<period>.old-*`). So after any kill, the previous folder or the new one is in place, whole,
//! once the next run has started. No file is written twice in one run: a second file of the same
//! name is an error, never an overwrite.
//!
//! A month of record (`settle close`, R9) is sealed as it is put in place: every file and folder
//! in it made read-only. From then on no commit replaces it: [`Staging::commit`] refuses a
//! target whose `manifest.json` says it is closed, whatever command asked.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::digest::{hex, sha256_hex};
use crate::error::Error;
use crate::error::RecordError;
use crate::lock::{self, PeriodLock};
use crate::manifest::{self, OutputEntry};

/// One output file: its path inside the period folder (with `/`), and its bytes.
#[derive(Clone, Debug)]
pub struct OutputFile {
    pub path: String,
    pub bytes: Vec<u8>,
}

impl OutputFile {
    pub fn new(path: impl Into<String>, bytes: Vec<u8>) -> OutputFile {
        OutputFile {
            path: path.into(),
            bytes,
        }
    }

    /// The file's entry in `manifest.json`.
    pub fn entry(&self) -> OutputEntry {
        OutputEntry {
            file: self.path.clone(),
            sha256: sha256_hex(&self.bytes),
            bytes: self.bytes.len(),
        }
    }
}

/// An output file written in pieces, each hashed as it goes by: the outputs that can be too big to
/// hold whole, `consumption.csv`, `reconciliation.csv` and the PDFs. It is also an [`io::Write`],
/// for the PDF writer.
pub struct Appending {
    path: String,
    at: PathBuf,
    file: BufWriter<File>,
    sha256: Sha256,
    bytes: usize,
}

impl Appending {
    fn new(path: &str, at: PathBuf, file: File) -> Appending {
        Appending {
            path: path.to_string(),
            at,
            file: BufWriter::with_capacity(64 * 1024, file),
            sha256: Sha256::new(),
            bytes: 0,
        }
    }

    pub fn append(&mut self, bytes: &[u8]) -> Result<(), Error> {
        self.write_all(bytes).map_err(fail(&self.at))
    }

    /// The error of a failed write to this file.
    pub fn failed(&self, source: io::Error) -> Error {
        fail(&self.at)(source)
    }

    /// Flushes the file to the disk, and gives its entry in `manifest.json`.
    pub fn finish(mut self) -> Result<OutputEntry, Error> {
        self.file.flush().map_err(fail(&self.at))?;
        self.file.get_ref().sync_all().map_err(fail(&self.at))?;
        Ok(OutputEntry {
            file: self.path,
            sha256: hex(&self.sha256.finalize()),
            bytes: self.bytes,
        })
    }
}

impl io::Write for Appending {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let n = self.file.write(bytes)?;
        self.sha256.update(&bytes[..n]);
        self.bytes += n;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// A period folder being written. Files go into a temporary folder beside the target as they are
/// made, so that a month's PDFs need not all be held in memory; [`Staging::commit`] then puts the
/// folder in place of the target. Dropped without a commit (a failed run), it removes what it
/// wrote and the folders it created.
pub struct Staging {
    target: PathBuf,
    temp: PathBuf,
    /// Where an earlier folder of the target is moved aside while the new one takes its place.
    old: PathBuf,
    /// Where the run keeps what it needs for a while but never outputs; removed at the end.
    scratch: PathBuf,
    /// Ancestors of the target this run created, outermost first.
    created: Vec<PathBuf>,
    committed: bool,
    /// The period's lock, held until the staging is dropped.
    lock: Option<PeriodLock>,
}

impl Staging {
    /// Takes the period's lock (waiting while another run holds it), tidies what killed runs
    /// left beside the target, and creates the temporary folder.
    pub fn new(target: &Path) -> Result<Staging, Error> {
        let (parent, name) = lock::split(target);
        let pid = std::process::id();
        let created = missing_ancestors(parent);
        let period_lock = PeriodLock::acquire(target).map_err(fail(target))?;
        lock::recover(&period_lock, target).map_err(fail(parent))?;
        let staging = Staging {
            target: target.to_path_buf(),
            temp: parent.join(format!(".{name}.tmp-{pid}")),
            old: parent.join(format!(".{name}.old-{pid}")),
            scratch: parent.join(format!(".{name}.scratch-{pid}")),
            created,
            committed: false,
            lock: Some(period_lock),
        };
        std::fs::create_dir(&staging.temp).map_err(fail(&staging.temp))?;
        Ok(staging)
    }

    /// Writes one file into the folder and flushes it to the disk; several threads may write at
    /// once. A file of that name written before in this run is an error, never overwritten.
    pub fn write(&self, file: &OutputFile) -> Result<(), Error> {
        let path = self.temp.join(&file.path);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(fail(dir))?;
        }
        let mut out = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(fail(&path))?;
        out.write_all(&file.bytes)
            .and_then(|()| out.sync_all())
            .map_err(fail(&path))
    }

    /// A folder for files the run needs for a while, made on first use and removed when the
    /// staging is done with, committed or not.
    pub fn scratch(&self) -> Result<PathBuf, Error> {
        std::fs::create_dir_all(&self.scratch).map_err(fail(&self.scratch))?;
        Ok(self.scratch.clone())
    }

    /// Starts a file written in pieces, emptying it if it was started before.
    pub fn create(&self, path: &str) -> Result<Appending, Error> {
        let at = self.temp.join(path);
        let file = File::create(&at).map_err(fail(&at))?;
        Ok(Appending::new(path, at, file))
    }

    /// Starts a file written in pieces, as [`Staging::write`] writes a whole one: its folder made
    /// if need be, and a file of that name written before in this run an error. Several threads
    /// may write files at once.
    pub fn create_new(&self, path: &str) -> Result<Appending, Error> {
        let at = self.temp.join(path);
        if let Some(dir) = at.parent() {
            std::fs::create_dir_all(dir).map_err(fail(dir))?;
        }
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&at)
            .map_err(fail(&at))?;
        Ok(Appending::new(path, at, file))
    }

    /// Reads back a file this run has written, for an output made from others (the workbook
    /// from the CSVs).
    pub fn open(&self, path: &str) -> Result<File, Error> {
        let at = self.temp.join(path);
        File::open(&at).map_err(fail(&at))
    }

    /// The folder being written, as it is before the commit.
    pub fn folder(&self) -> &Path {
        &self.temp
    }

    /// Puts the folder in place of the target: its folders are flushed to the disk, an earlier
    /// folder is moved aside, the new one is renamed into place, and the earlier one is removed.
    /// If the new one cannot be put in place, the earlier one is put back. A closed target is
    /// never replaced.
    pub fn commit(self) -> Result<(), Error> {
        self.swap(false)
    }

    /// Commits the folder as a month of record: read-only, every file and folder in it.
    pub fn commit_sealed(self) -> Result<(), Error> {
        self.swap(true)
    }

    fn swap(mut self, seal: bool) -> Result<(), Error> {
        if manifest::is_closed(&self.target) {
            return Err(RecordError::Closed {
                folder: self.target.clone(),
            }
            .into());
        }
        sync_tree(&self.temp)?;
        if seal {
            set_read_only(&self.temp, true)?;
        }
        let parent = lock::split(&self.target).0.to_path_buf();
        let had_old = self.target.exists();
        if had_old {
            std::fs::rename(&self.target, &self.old).map_err(fail(&self.target))?;
            crate::fault::pause("swap");
        }
        if let Err(e) = std::fs::rename(&self.temp, &self.target) {
            if had_old {
                let _ = std::fs::rename(&self.old, &self.target);
            }
            if seal {
                // Writable again, so that dropping the staging can remove it.
                let _ = set_read_only(&self.temp, false);
            }
            return Err(fail(&self.target)(e));
        }
        self.committed = true;
        lock::sync_dir(&parent).map_err(fail(&parent))?;
        // The new outputs are in place; a folder left over here is only clutter.
        if had_old {
            let _ = std::fs::remove_dir_all(&self.old);
        }
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.scratch);
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.temp);
        }
        if let Some(lock) = self.lock.take() {
            lock.release();
        }
        if self.committed {
            return;
        }
        for dir in self.created.iter().rev() {
            let _ = std::fs::remove_dir(dir);
        }
    }
}

/// Flushes to the disk every folder in `dir`, and `dir` itself, so that the files written into
/// them stay theirs after a crash. The files were flushed as they were written.
fn sync_tree(dir: &Path) -> Result<(), Error> {
    for entry in std::fs::read_dir(dir).map_err(fail(dir))? {
        let entry = entry.map_err(fail(dir))?;
        if entry.file_type().map_err(fail(dir))?.is_dir() {
            sync_tree(&entry.path())?;
        }
    }
    lock::sync_dir(dir).map_err(fail(dir))
}

/// Makes every file and folder under `dir`, and `dir`, read-only (or writable again): a sealed
/// folder's files are `r--r--r--` and its folders `r-xr-xr-x`. Folders are done after what they
/// hold, and undone before it.
fn set_read_only(dir: &Path, read_only: bool) -> Result<(), Error> {
    use std::os::unix::fs::PermissionsExt;
    let mode = |folder: bool| match (read_only, folder) {
        (true, true) => 0o555,
        (true, false) => 0o444,
        (false, true) => 0o755,
        (false, false) => 0o644,
    };
    let set = |path: &Path, folder: bool| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode(folder)))
            .map_err(fail(path))
    };
    if !read_only {
        set(dir, true)?;
    }
    for entry in std::fs::read_dir(dir).map_err(fail(dir))? {
        let entry = entry.map_err(fail(dir))?;
        let path = entry.path();
        if entry.file_type().map_err(fail(dir))?.is_dir() {
            set_read_only(&path, read_only)?;
        } else {
            set(&path, false)?;
        }
    }
    if read_only {
        set(dir, true)?;
    }
    Ok(())
}

/// An I/O failure on `path`, as the error that names it.
pub(crate) fn fail(path: &Path) -> impl FnOnce(std::io::Error) -> Error + use<> {
    let path = path.to_path_buf();
    move |source| Error::Output { path, source }
}

/// `dir` and those of its ancestors that do not exist yet, outermost first.
fn missing_ancestors(dir: &Path) -> Vec<PathBuf> {
    dir.ancestors()
        .take_while(|d| !d.as_os_str().is_empty() && !d.exists())
        .map(Path::to_path_buf)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("settle-output-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn replaces_the_whole_folder() {
        let root = scratch("replace");
        let target = root.join("demo").join("2026-10");
        let write = |files: &[OutputFile]| {
            let staging = Staging::new(&target).unwrap();
            for f in files {
                staging.write(f).unwrap();
            }
            std::fs::write(staging.scratch().unwrap().join("run-0"), b"lines").unwrap();
            staging.commit().unwrap();
        };
        write(&[
            OutputFile::new("a.csv", b"1".to_vec()),
            OutputFile::new("x/b.csv", b"2".to_vec()),
        ]);
        write(&[OutputFile::new("a.csv", b"3".to_vec())]);
        assert_eq!(std::fs::read(target.join("a.csv")).unwrap(), b"3");
        assert!(
            !target.join("x").exists(),
            "files of the earlier run are gone"
        );
        let leftovers: Vec<_> = std::fs::read_dir(root.join("demo"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers, vec!["2026-10"], "no scratch folder is left");
        std::fs::remove_dir_all(root).unwrap();
    }

    /// A run that fails after writing some files leaves neither them nor the folders it made.
    #[test]
    fn a_failed_run_leaves_nothing() {
        let root = scratch("failed");
        let target = root.join("demo").join("2026-10");
        {
            let staging = Staging::new(&target).unwrap();
            staging
                .write(&OutputFile::new("statements/p1.pdf", b"%PDF".to_vec()))
                .unwrap();
            std::fs::write(staging.scratch().unwrap().join("run-0"), b"lines").unwrap();
            assert!(!target.exists(), "nothing is in place before the commit");
        }
        assert!(!root.exists(), "the folders the run made are gone");
    }
}
