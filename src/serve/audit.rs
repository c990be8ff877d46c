//! The audit log: one JSON line per download (file or zip), appended as the transfer ends, and
//! one per refused request.
//!
//! Each line holds the time (UTC, RFC 3339), the user, their scope, the client's address, the
//! path (`<dataset>/<period>/<file>` or `<dataset>/<period>.zip`), the bytes sent, the SHA-256
//! of those bytes, whether the transfer completed, and for a zip the files it held. The log sits
//! beside the users file (`audit.jsonl`) unless `--audit` says where; it is opened for appending
//! only, and a line is written whole with one call so concurrent downloads never interleave.
//!
//! Every refusal is a line too ([`Denial`]): the time, the user and scope when one was
//! identified (`null` otherwise), the client, the method, the path as requested and the status.
//! A partner's confirmation or dispute of its statement is a line too ([`Answered`]), with its
//! `action` (`confirmed` or `disputed`), the partner, the statements' numbers and the note. A
//! reader tells the three apart by `status`, which only a refusal has, and `action`, which only
//! an answer has.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::Serialize;

pub struct Audit {
    path: PathBuf,
    file: Mutex<File>,
}

/// One download, as the log records it.
#[derive(Debug, Serialize)]
pub struct Entry {
    pub time: String,
    pub user: String,
    pub scope: String,
    pub client: String,
    pub path: String,
    pub bytes: u64,
    pub sha256: String,
    pub complete: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub files: Option<Vec<String>>,
}

/// One refused request, as the log records it.
#[derive(Debug, Serialize)]
pub struct Denial {
    pub time: String,
    pub user: Option<String>,
    pub scope: Option<String>,
    pub client: String,
    pub method: String,
    pub path: String,
    pub status: u16,
}

/// A partner's answer to its statement, as the log records it.
#[derive(Debug, Serialize)]
pub struct Answered {
    pub time: String,
    pub user: String,
    pub scope: String,
    pub client: String,
    pub method: &'static str,
    pub path: String,
    pub action: &'static str,
    pub partner_id: String,
    pub documents: Vec<String>,
    pub note: String,
}

impl Audit {
    pub fn open(path: &Path) -> std::io::Result<Audit> {
        let mut options = OpenOptions::new();
        options.append(true).create(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        Ok(Audit {
            path: path.to_path_buf(),
            file: Mutex::new(options.open(path)?),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends `entry`; a failure is reported on stderr, since the bytes have already gone.
    pub fn record(&self, entry: &Entry) {
        self.append(entry);
    }

    /// Appends a refusal.
    pub fn deny(&self, denial: &Denial) {
        self.append(denial);
    }

    /// Appends a partner's answer.
    pub fn answer(&self, answered: &Answered) {
        self.append(answered);
    }

    fn append(&self, entry: &impl Serialize) {
        let mut line = match serde_json::to_vec(entry) {
            Ok(line) => line,
            Err(e) => {
                crate::errln!("error: cannot encode an audit line: {e}");
                return;
            }
        };
        line.push(b'\n');
        let written = match self.file.lock() {
            Ok(mut file) => file.write_all(&line).and_then(|()| file.flush()),
            Err(_) => Err(std::io::Error::other("the audit log's lock is poisoned")),
        };
        if let Err(e) = written {
            crate::errln!(
                "error: cannot append to the audit log `{}`: {e}; lost line: {}",
                self.path.display(),
                String::from_utf8_lossy(&line).trim_end()
            );
        }
    }
}
