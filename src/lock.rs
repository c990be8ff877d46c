//! One run at a time per period folder, and what runs that were killed left behind.
//!
//! A run writes its period folder beside the target and swaps it in at the end (see
//! [`crate::output`]). Two runs of the same period at once (an overlapping cron job, a rerun by
//! hand) would swap over each other, and a run killed at the wrong moment leaves its temporary,
//! scratch or moved-aside folder beside the target. So each run first takes an exclusive lock on
//! `.<period>.lock` beside the period folder, waiting while another run holds it, and keeps it
//! until it has finished with the folder. The lock is the operating system's (`flock`), which the
//! kernel lets go when its holder exits however it exits: holding it proves that no live run is
//! working on the period, so every `.<period>.tmp-*`, `.<period>.scratch-*` and
//! `.<period>.old-*` beside it was left by a run that is gone, whatever its PID (a container
//! runs every job as PID 1). With the lock held, a run puts back a period folder that a kill in
//! the middle of the swap left moved aside, and removes the rest.
//!
//! The lock file is removed by the run that holds it as it finishes; a run that was waiting on
//! the removed file sees that and locks the new one.

use std::fs::{File, OpenOptions, TryLockError};
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// The exclusive lock on one period folder.
#[derive(Debug)]
pub struct PeriodLock {
    path: PathBuf,
    file: File,
}

impl PeriodLock {
    /// Locks the period folder `target`, creating the folder it sits in. Waits while another
    /// run holds the lock, after saying so on stderr.
    pub fn acquire(target: &Path) -> io::Result<PeriodLock> {
        let (parent, name) = split(target);
        let path = parent.join(format!(".{name}.lock"));
        let mut told = false;
        loop {
            std::fs::create_dir_all(parent)?;
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)?;
            match file.try_lock() {
                Ok(()) => {}
                Err(TryLockError::WouldBlock) => {
                    if !told {
                        crate::errln!(
                            "settle: another run is writing `{}`; waiting for it to finish",
                            target.display()
                        );
                        told = true;
                    }
                    file.lock()?;
                }
                Err(TryLockError::Error(e)) => return Err(e),
            }
            // The run before may have removed the file as it finished, after this one opened
            // it: a lock on a file no later run will open guards nothing, so start again.
            if same_file(&file, &path) {
                return Ok(PeriodLock { path, file });
            }
        }
    }

    /// Removes the lock file, then lets the lock go.
    pub fn release(self) {
        let _ = std::fs::remove_file(&self.path);
        drop(self.file);
    }
}

fn same_file(file: &File, path: &Path) -> bool {
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// The folder `target` sits in, and its name.
pub fn split(target: &Path) -> (&Path, String) {
    let parent = target
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    (parent, name)
}

/// What a run left beside a period folder, by kind.
#[derive(Debug, Default)]
struct Leftovers {
    /// Earlier period folders moved aside by a swap: `.<period>.old-*`.
    old: Vec<PathBuf>,
    /// Temporary and scratch folders: `.<period>.tmp-*`, `.<period>.scratch-*`.
    other: Vec<PathBuf>,
}

fn leftovers(parent: &Path, name: &str) -> io::Result<Leftovers> {
    let prefix = format!(".{name}.");
    let mut found = Leftovers::default();
    for entry in std::fs::read_dir(parent)? {
        let entry = entry?;
        let file_name = entry.file_name();
        let Some(rest) = file_name.to_str().and_then(|n| n.strip_prefix(&prefix)) else {
            continue;
        };
        if rest.starts_with("old-") {
            found.old.push(entry.path());
        } else if rest.starts_with("tmp-") || rest.starts_with("scratch-") {
            found.other.push(entry.path());
        }
    }
    found.old.sort();
    found.other.sort();
    Ok(found)
}

/// With the lock held: puts back the period folder when a run was killed between the two
/// renames of its swap (the folder is missing and a moved-aside copy is there), and removes every
/// other folder that runs no longer alive left beside `target`. Says on stderr what it did.
pub fn recover(_lock: &PeriodLock, target: &Path) -> io::Result<()> {
    let (parent, name) = split(target);
    let Leftovers { mut old, other } = leftovers(parent, &name)?;
    if !target.exists() && !old.is_empty() {
        // Only one can be there when runs hold the lock; if several are, the newest is put back.
        old.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
        if let Some(newest) = old.pop() {
            std::fs::rename(&newest, target)?;
            sync_dir(parent)?;
            crate::errln!(
                "warning: put back `{}` from `{}`, where a run that was stopped while it swapped folders left it",
                target.display(),
                newest.display()
            );
        }
    }
    for path in old.iter().chain(&other) {
        std::fs::remove_dir_all(path)?;
        crate::errln!(
            "warning: removed `{}`, left by a run of the same period that was stopped",
            path.display()
        );
    }
    Ok(())
}

/// Makes the entries of folder `dir` durable: new files in it, and renames into or out of it.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("settle-lock-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// A kill between the two renames left the folder moved aside: it is put back, and the
    /// other leftovers are removed, whatever PID they carry.
    #[test]
    fn puts_back_a_stranded_folder_and_removes_leftovers() {
        let root = root("recover");
        let target = root.join("2026-10");
        for dir in [".2026-10.old-1", ".2026-10.tmp-1", ".2026-10.scratch-7"] {
            std::fs::create_dir_all(root.join(dir)).unwrap();
        }
        std::fs::write(root.join(".2026-10.old-1").join("manifest.json"), b"{}").unwrap();
        std::fs::create_dir_all(root.join(".2026-11.tmp-1")).unwrap();
        let lock = PeriodLock::acquire(&target).unwrap();
        recover(&lock, &target).unwrap();
        assert_eq!(std::fs::read(target.join("manifest.json")).unwrap(), b"{}");
        let mut left: Vec<_> = std::fs::read_dir(&root)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(left, [".2026-10.lock", ".2026-11.tmp-1", "2026-10"]);
        lock.release();
        assert!(!root.join(".2026-10.lock").exists());
        std::fs::remove_dir_all(root).unwrap();
    }

    /// With the folder in place, a moved-aside copy is stale and goes.
    #[test]
    fn a_stale_copy_beside_the_folder_goes() {
        let root = root("stale");
        let target = root.join("2026-10");
        std::fs::create_dir_all(&target).unwrap();
        std::fs::create_dir_all(root.join(".2026-10.old-1")).unwrap();
        let lock = PeriodLock::acquire(&target).unwrap();
        recover(&lock, &target).unwrap();
        assert!(target.is_dir());
        assert!(!root.join(".2026-10.old-1").exists());
        lock.release();
        std::fs::remove_dir_all(root).unwrap();
    }
}
