//! Who is asking: an API token (`Authorization: Bearer`), or a session cookie from the login form.
//!
//! Tokens are compared by their SHA-256 against every user's, in constant time, so the answer
//! takes as long whichever user (if any) holds the token. Sessions live in memory, keyed by the
//! SHA-256 of their random id, for [`SESSION_LIFE`]; a restart signs everyone out. Logins are
//! rate-limited per client: after [`MAX_FAILURES`] failed attempts within [`FAILURE_WINDOW`] the
//! form answers 429 until the window has passed, without checking the password. An attempt counts
//! as failed from the moment it is made until its password proves right.
//!
//! The users file is read again when it changes (its modification time, size or inode, checked
//! at each request) and on SIGHUP, so that `settle users remove` revokes a user without a
//! restart: a session belongs to a user *name* and the password hash it was opened with, and
//! ends when that user is gone or their password changed. A file that no longer parses keeps
//! the users already loaded, with an error on stderr, until it is fixed.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

use argon2::Argon2;
use argon2::password_hash::PasswordVerifier;
use argon2::password_hash::phc::PasswordHash;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::users::{self, User, UsersError};

/// How long a browser session lasts from its login.
pub const SESSION_LIFE: Duration = Duration::from_secs(12 * 60 * 60);
/// Failed logins a client may make within [`FAILURE_WINDOW`].
pub const MAX_FAILURES: usize = 5;
pub const FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);
/// The session cookie's name.
pub const COOKIE: &str = "settle_session";

pub struct Auth {
    users: RwLock<Arc<Vec<User>>>,
    /// The users file, re-read when it changes; `None` in unit tests.
    file: Option<PathBuf>,
    /// What the file looked like when it was last read.
    stamp: Mutex<Option<Stamp>>,
    sessions: Mutex<BTreeMap<[u8; 32], Session>>,
    failures: Mutex<BTreeMap<IpAddr, Vec<Instant>>>,
    /// Checked against when the user is unknown or has no password, so that a login takes as
    /// long whether or not the name exists.
    decoy: String,
}

struct Session {
    /// The user's name, and the password hash the session was opened with.
    user: String,
    password_hash: Option<String>,
    expires: Instant,
}

/// The users file's identity: a change to any of these means it was written again.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamp {
    modified: Option<SystemTime>,
    len: u64,
    inode: u64,
}

fn stamp(meta: &std::fs::Metadata) -> Stamp {
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(meta);
    #[cfg(not(unix))]
    let inode = 0;
    Stamp {
        modified: meta.modified().ok(),
        len: meta.len(),
        inode,
    }
}

impl Auth {
    /// The users, and the file they were read from (re-read when it changes), if any.
    pub fn new(users: Vec<User>, file: Option<PathBuf>) -> Result<Auth, UsersError> {
        let decoy = users::hash_password(&crate::digest::hex(&users::random::<16>()?))?;
        let stamp = file
            .as_ref()
            .and_then(|f| std::fs::metadata(f).ok())
            .map(|m| stamp(&m));
        Ok(Auth {
            users: RwLock::new(Arc::new(users)),
            file,
            stamp: Mutex::new(stamp),
            sessions: Mutex::default(),
            failures: Mutex::default(),
            decoy,
        })
    }

    /// The users as they are now.
    fn users(&self) -> Arc<Vec<User>> {
        match self.users.read() {
            Ok(users) => Arc::clone(&users),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    pub fn count(&self) -> usize {
        self.users().len()
    }

    /// Reads the users file again if it changed since it was last read.
    pub fn refresh(&self) {
        let Some(file) = &self.file else { return };
        let now = std::fs::metadata(file).ok().map(|m| stamp(&m));
        let changed = match self.stamp.lock() {
            Ok(mut last) if *last != now => {
                *last = now;
                true
            }
            _ => false,
        };
        if changed {
            self.reload();
        }
    }

    /// Reads the users file again (SIGHUP, or a change seen by [`Auth::refresh`]). A file with
    /// no user left revokes everyone; one that does not parse keeps the users already loaded.
    pub fn reload(&self) {
        let Some(file) = &self.file else { return };
        if let Ok(mut last) = self.stamp.lock() {
            *last = std::fs::metadata(file).ok().map(|m| stamp(&m));
        }
        let loaded = match users::load(file) {
            Err(UsersError::NoUsers { .. }) => Ok(Vec::new()),
            other => other,
        };
        match loaded {
            Ok(users) => {
                crate::errln!(
                    "settle serve: read `{}` again: {} user(s)",
                    file.display(),
                    users.len()
                );
                if let Ok(mut current) = self.users.write() {
                    *current = Arc::new(users);
                }
            }
            Err(e) => crate::errln!(
                "error: {e}\nsettle serve keeps the {} user(s) it had until the file is fixed",
                self.count()
            ),
        }
    }

    /// The user whose token this is.
    pub fn bearer(&self, token: &str) -> Option<User> {
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let users = self.users();
        let mut found = None;
        for u in users.iter() {
            // Every user is compared, match or not; token digests are unique (checked on load).
            if bool::from(u.token_sha256.ct_eq(&digest)) {
                found = Some(u);
            }
        }
        found.cloned()
    }

    /// The user of a live session, if they are still in the users file with the password the
    /// session was opened with.
    pub fn session(&self, id: &str, now: Instant) -> Option<User> {
        let key: [u8; 32] = Sha256::digest(id.as_bytes()).into();
        let mut sessions = self.sessions.lock().ok()?;
        let s = sessions.get(&key)?;
        let user = (s.expires > now)
            .then(|| {
                self.users()
                    .iter()
                    .find(|u| u.name == s.user && u.password_hash == s.password_hash)
                    .cloned()
            })
            .flatten();
        if user.is_none() {
            sessions.remove(&key);
        }
        user
    }

    /// Checks a name and password (slow on purpose: argon2). `None` for a wrong pair, an unknown
    /// name, or a user without a password.
    pub fn check_password(&self, name: &str, password: &str) -> Option<User> {
        let users = self.users();
        let found = users
            .iter()
            .find(|u| u.name == name && u.password_hash.is_some());
        let phc = found
            .and_then(|u| u.password_hash.as_deref())
            .unwrap_or(&self.decoy);
        let ok = PasswordHash::new(phc).ok().is_some_and(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        });
        found.filter(|_| ok).cloned()
    }

    /// A new session for `user`: its id, for the cookie.
    pub fn open_session(&self, user: &User, now: Instant) -> Result<String, UsersError> {
        let id = crate::digest::hex(&users::random::<32>()?);
        let key: [u8; 32] = Sha256::digest(id.as_bytes()).into();
        if let Ok(mut sessions) = self.sessions.lock() {
            sessions.retain(|_, s| s.expires > now);
            sessions.insert(
                key,
                Session {
                    user: user.name.clone(),
                    password_hash: user.password_hash.clone(),
                    expires: now + SESSION_LIFE,
                },
            );
        }
        Ok(id)
    }

    pub fn close_session(&self, id: &str) {
        let key: [u8; 32] = Sha256::digest(id.as_bytes()).into();
        if let Ok(mut sessions) = self.sessions.lock() {
            sessions.remove(&key);
        }
    }

    /// `Err(wait)` while `client` has used up its failed logins.
    pub fn throttled(&self, client: IpAddr, now: Instant) -> Result<(), Duration> {
        let Ok(mut failures) = self.failures.lock() else {
            return Ok(());
        };
        let recent = failures.entry(client).or_default();
        recent.retain(|t| now.duration_since(*t) < FAILURE_WINDOW);
        match recent.first() {
            Some(first) if recent.len() >= MAX_FAILURES => {
                Err(FAILURE_WINDOW.saturating_sub(now.duration_since(*first)))
            }
            _ => Ok(()),
        }
    }

    /// Counts an attempt as failed before its password is checked, so that attempts made at
    /// once cannot all slip under the limit; [`Auth::succeeded`] takes it back.
    pub fn attempt(&self, client: IpAddr, now: Instant) {
        if let Ok(mut failures) = self.failures.lock() {
            // Forget clients whose failures have all aged out, so the map does not grow.
            failures.retain(|_, ts| ts.iter().any(|t| now.duration_since(*t) < FAILURE_WINDOW));
            failures.entry(client).or_default().push(now);
        }
    }

    /// The attempt made at `at` was right: it is no failure.
    pub fn succeeded(&self, client: IpAddr, at: Instant) {
        if let Ok(mut failures) = self.failures.lock()
            && let Some(ts) = failures.get_mut(&client)
            && let Some(i) = ts.iter().rposition(|t| *t == at)
        {
            ts.remove(i);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serve::scope::Scope;

    fn auth() -> Auth {
        let user = |name: &str, token: &str, password: Option<&str>| User {
            name: name.into(),
            scope: Scope::Finance,
            token_sha256: Sha256::digest(token.as_bytes()).into(),
            password_hash: password.map(|p| users::hash_password(p).expect("hashes")),
        };
        Auth::new(
            vec![
                user("ann", "token-a", Some("ann's password")),
                user("bob", "token-b", None),
            ],
            None,
        )
        .expect("auth")
    }

    #[test]
    fn tokens_and_passwords_find_their_user() {
        let auth = auth();
        let name = |u: Option<User>| u.map(|u| u.name);
        assert_eq!(name(auth.bearer("token-b")).as_deref(), Some("bob"));
        assert_eq!(name(auth.bearer("token-c")), None);
        assert_eq!(
            name(auth.check_password("ann", "ann's password")).as_deref(),
            Some("ann")
        );
        assert_eq!(name(auth.check_password("ann", "wrong")), None);
        assert_eq!(name(auth.check_password("bob", "")), None);
        assert_eq!(name(auth.check_password("nobody", "ann's password")), None);
    }

    #[test]
    fn sessions_expire_and_close() {
        let auth = auth();
        let now = Instant::now();
        let ann = auth.bearer("token-a").expect("ann");
        let id = auth.open_session(&ann, now).expect("session");
        assert_eq!(
            auth.session(&id, now).map(|u| u.name).as_deref(),
            Some("ann")
        );
        assert!(auth.session(&id, now + SESSION_LIFE).is_none());
        let id = auth.open_session(&ann, now).expect("session");
        auth.close_session(&id);
        assert!(auth.session(&id, now).is_none());
    }

    #[test]
    fn failed_logins_are_limited_per_client_for_a_window() {
        let auth = auth();
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let now = Instant::now();
        auth.attempt(a, now);
        auth.succeeded(a, now);
        for _ in 0..MAX_FAILURES {
            assert!(auth.throttled(a, now).is_ok());
            auth.attempt(a, now);
        }
        assert_eq!(auth.throttled(a, now), Err(FAILURE_WINDOW));
        assert!(auth.throttled(b, now).is_ok());
        assert!(auth.throttled(a, now + FAILURE_WINDOW).is_ok());
    }
}
