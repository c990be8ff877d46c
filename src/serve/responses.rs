//! A partner's answer to its statement of a closed month: it confirms it, or raises a dispute
//! with a note. Finance reads the answers on the month's page.
//!
//! A closed period folder is the month of record, read-only, and is never written: the answers
//! are kept beside it, in the portal's state folder (`--state`, by default the audit log's
//! folder), one append-only JSON-lines file per period, `responses/<dataset>/<period>.jsonl`.
//! Each line is written whole with one call under a lock, so two answers never interleave; an
//! answer is never edited or removed, and a later one (a dispute after a confirmation, say)
//! stands beside it, the newest showing as the partner's current answer. A line that does not
//! parse (a hand edit) is skipped when the file is read back, not fatal.

use std::fs::OpenOptions;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// The longest note kept, in characters.
pub const NOTE_MAX: usize = 2000;

/// What the partner said.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Confirmed,
    Disputed,
}

impl Action {
    /// The form's `action` field: `confirm` or `dispute`.
    pub fn parse(s: &str) -> Option<Action> {
        match s {
            "confirm" => Some(Action::Confirmed),
            "dispute" => Some(Action::Disputed),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Confirmed => "confirmed",
            Action::Disputed => "disputed",
        }
    }
}

/// One answer, as the file records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Response {
    /// UTC, RFC 3339.
    pub time: String,
    pub user: String,
    pub partner_id: String,
    pub action: Action,
    /// Empty for a confirmation without one.
    #[serde(default)]
    pub note: String,
    /// The statements' numbers (`document_no`) the answer is about.
    #[serde(default)]
    pub documents: Vec<String>,
}

/// Why an answer was not taken.
#[derive(Debug, thiserror::Error)]
pub enum ResponseError {
    #[error("a dispute needs a note\nhint: say which line or amount is wrong, and why")]
    NoteMissing,

    #[error(
        "the note is longer than {NOTE_MAX} characters\nhint: shorten it, or send the details to finance by mail and refer to them"
    )]
    NoteTooLong,

    #[error("cannot record the answer in `{}`: {source}\nhint: the portal's state folder (`--state`) must be writable by the server", .path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The note as kept: trimmed, line ends made `\n`, other control characters dropped.
pub fn note(raw: &str, action: Action) -> Result<String, ResponseError> {
    let cleaned: String = raw
        .replace("\r\n", "\n")
        .chars()
        .filter(|c| *c == '\n' || !c.is_control())
        .collect();
    let note = cleaned.trim().to_string();
    if note.chars().count() > NOTE_MAX {
        return Err(ResponseError::NoteTooLong);
    }
    if note.is_empty() && action == Action::Disputed {
        return Err(ResponseError::NoteMissing);
    }
    Ok(note)
}

/// The answers of every period, under one folder.
pub struct Responses {
    dir: PathBuf,
    lock: Mutex<()>,
}

impl Responses {
    /// Answers kept under `state/responses/`.
    pub fn new(state: &Path) -> Responses {
        Responses {
            dir: state.join("responses"),
            lock: Mutex::new(()),
        }
    }

    /// The file of `dataset`/`period`; both are names the catalog has checked (no `/`, no `..`).
    pub fn file(&self, dataset: &str, period: &str) -> PathBuf {
        self.dir.join(dataset).join(format!("{period}.jsonl"))
    }

    /// Appends `response` to the period's file, creating it (and its folders) if needed.
    pub fn append(
        &self,
        dataset: &str,
        period: &str,
        response: &Response,
    ) -> Result<(), ResponseError> {
        let path = self.file(dataset, period);
        let write = |path: &Path| -> std::io::Result<()> {
            let mut line = serde_json::to_vec(response).map_err(std::io::Error::other)?;
            line.push(b'\n');
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            let mut options = OpenOptions::new();
            options.append(true).create(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            let mut file = options.open(path)?;
            file.write_all(&line)?;
            file.sync_data()
        };
        let _held = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        write(&path).map_err(|source| ResponseError::Write { path, source })
    }

    /// Every answer of `dataset`/`period`, oldest first; none when there is no file yet.
    pub fn read(&self, dataset: &str, period: &str) -> Vec<Response> {
        let Ok(file) = std::fs::File::open(self.file(dataset, period)) else {
            return Vec::new();
        };
        std::io::BufReader::new(file)
            .lines()
            .map_while(Result::ok)
            .filter_map(|l| serde_json::from_str(&l).ok())
            .collect()
    }
}

/// Each partner's newest answer, from `answers` oldest first.
pub fn latest(answers: &[Response]) -> std::collections::BTreeMap<&str, &Response> {
    answers.iter().map(|r| (r.partner_id.as_str(), r)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(partner: &str, action: Action, note: &str) -> Response {
        Response {
            time: "2026-11-08T02:00:00Z".into(),
            user: "yunfan".into(),
            partner_id: partner.into(),
            action,
            note: note.into(),
            documents: vec!["ST-202610-Y9FN-VJ1Q-F343".into()],
        }
    }

    #[test]
    fn answers_are_appended_and_read_back_in_order() {
        let dir = std::env::temp_dir().join(format!("settle-responses-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store = Responses::new(&dir);
        assert!(store.read("demo", "2026-10").is_empty());
        let first = answer("p-01", Action::Confirmed, "");
        let second = answer("p-01", Action::Disputed, "line 3 is \"wrong\"\nsee mail");
        let other = answer("p-02", Action::Confirmed, "ok");
        for a in [&first, &second, &other] {
            store.append("demo", "2026-10", a).expect("appended");
        }
        let path = store.file("demo", "2026-10");
        let mut text = std::fs::read_to_string(&path).expect("written");
        assert_eq!(text.lines().count(), 3);
        text.push_str("not json\n");
        std::fs::write(&path, text).expect("written");
        let back = store.read("demo", "2026-10");
        assert_eq!(back, vec![first, second.clone(), other.clone()]);
        let latest = latest(&back);
        assert_eq!(latest["p-01"], &second);
        assert_eq!(latest["p-02"], &other);
        assert!(store.read("demo", "2026-11").is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn notes_are_cleaned_and_a_dispute_needs_one() {
        assert_eq!(
            note("  wrong\r\nrate\u{7}  ", Action::Disputed).expect("kept"),
            "wrong\nrate"
        );
        assert_eq!(note(" ", Action::Confirmed).expect("kept"), "");
        assert!(matches!(
            note(" \n ", Action::Disputed),
            Err(ResponseError::NoteMissing)
        ));
        assert!(matches!(
            note(&"长".repeat(NOTE_MAX + 1), Action::Confirmed),
            Err(ResponseError::NoteTooLong)
        ));
        assert_eq!(Action::parse("dispute"), Some(Action::Disputed));
        assert_eq!(Action::parse("delete"), None);
    }
}
