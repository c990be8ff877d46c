//! Whether an input file is there, told apart from everything that only looks absent or present.
//!
//! `File::open` on a FIFO blocks until a writer comes, so a FIFO in place of `settle.toml` or an
//! optional CSV hung `run` and `validate` for ever; `is_file()` is false for a FIFO, so as
//! `bills.csv` it was reported "missing"; and `NotFound` is also what a *dangling* symbolic
//! link gives, so a broken `settle.toml` link settled the month silently with every default. An
//! input is read only after [`probe`] found a regular file (symbolic links followed); anything
//! else but plain absence is an error that names it (exit 2). `settle.toml` (in `config`) and the
//! CSV readers all ask here.

use std::path::{Path, PathBuf};

use crate::error::DatasetError;

/// What is at an input's path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// Nothing: no file and no link.
    Absent,
    /// A regular file, directly or through symbolic links.
    File,
}

/// Looks at `path` without opening it: a regular file, nothing at all, or an error for a dangling
/// link, a FIFO, a folder, a socket or a device.
pub fn probe(path: &Path) -> Result<Presence, DatasetError> {
    let io = |source| DatasetError::Io {
        path: path.to_path_buf(),
        source,
    };
    let link = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Presence::Absent),
        Err(e) => return Err(io(e)),
    };
    let meta = if link.file_type().is_symlink() {
        match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(DatasetError::DanglingLink {
                    path: path.to_path_buf(),
                    target: std::fs::read_link(path).unwrap_or_else(|_| PathBuf::from("?")),
                });
            }
            Err(e) => return Err(io(e)),
        }
    } else {
        link
    };
    if meta.is_file() {
        return Ok(Presence::File);
    }
    Err(DatasetError::NotAFile {
        path: path.to_path_buf(),
        kind: kind(&meta.file_type()),
    })
}

/// What a file that is not a regular one is, in words.
fn kind(t: &std::fs::FileType) -> &'static str {
    if t.is_dir() {
        return "a folder";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_block_device() || t.is_char_device() {
            return "a device";
        }
    }
    "not a regular file"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_absence_folders_and_dangling_links() {
        let dir = std::env::temp_dir().join(format!("settle-presence-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        std::fs::write(dir.join("a.csv"), "x\n").expect("file");
        assert_eq!(probe(&dir.join("a.csv")).ok(), Some(Presence::File));
        assert_eq!(probe(&dir.join("b.csv")).ok(), Some(Presence::Absent));
        let err = probe(&dir).expect_err("a folder").to_string();
        assert!(err.contains("is a folder"), "{err}");
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("a.csv", dir.join("link.csv")).expect("link");
            assert_eq!(probe(&dir.join("link.csv")).ok(), Some(Presence::File));
            std::os::unix::fs::symlink("gone.csv", dir.join("dangling.csv")).expect("link");
            let err = probe(&dir.join("dangling.csv"))
                .expect_err("dangling")
                .to_string();
            assert!(err.contains("`gone.csv`, which does not exist"), "{err}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
