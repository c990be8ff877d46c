//! Who is asking: an API token (`Authorization: Bearer`), or a session cookie from the login form.
//!
//! Tokens are compared by their SHA-256 against every user's, in constant time, so the answer
//! takes as long whichever user (if any) holds the token. Sessions live in memory, keyed by the
//! SHA-256 of their random id, for [`SESSION_LIFE`]; a restart signs everyone out. Logins are
//! rate-limited per client: after [`MAX_FAILURES`] failed attempts within [`FAILURE_WINDOW`] the
//! form answers 429 until the window has passed, without checking the password. An attempt counts
//! as failed from the moment it is made until its password proves right.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

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
    users: Vec<User>,
    sessions: Mutex<BTreeMap<[u8; 32], Session>>,
    failures: Mutex<BTreeMap<IpAddr, Vec<Instant>>>,
    /// Checked against when the user is unknown or has no password, so that a login takes as
    /// long whether or not the name exists.
    decoy: String,
}

struct Session {
    user: usize,
    expires: Instant,
}

impl Auth {
    pub fn new(users: Vec<User>) -> Result<Auth, UsersError> {
        let decoy = users::hash_password(&crate::digest::hex(&users::random::<16>()?))?;
        Ok(Auth {
            users,
            sessions: Mutex::default(),
            failures: Mutex::default(),
            decoy,
        })
    }

    pub fn user(&self, index: usize) -> &User {
        &self.users[index]
    }

    pub fn count(&self) -> usize {
        self.users.len()
    }

    /// The user whose token this is.
    pub fn bearer(&self, token: &str) -> Option<usize> {
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let mut found = None;
        for (i, u) in self.users.iter().enumerate() {
            // Every user is compared, match or not; token digests are unique (checked on load).
            if bool::from(u.token_sha256.ct_eq(&digest)) {
                found = Some(i);
            }
        }
        found
    }

    /// The user of a live session.
    pub fn session(&self, id: &str, now: Instant) -> Option<usize> {
        let key: [u8; 32] = Sha256::digest(id.as_bytes()).into();
        let mut sessions = self.sessions.lock().ok()?;
        match sessions.get(&key) {
            Some(s) if s.expires > now => Some(s.user),
            Some(_) => {
                sessions.remove(&key);
                None
            }
            None => None,
        }
    }

    /// Checks a name and password (slow on purpose: argon2). `None` for a wrong pair, an unknown
    /// name, or a user without a password.
    pub fn check_password(&self, name: &str, password: &str) -> Option<usize> {
        let found = self
            .users
            .iter()
            .position(|u| u.name == name && u.password_hash.is_some());
        let phc = found
            .and_then(|i| self.users[i].password_hash.as_deref())
            .unwrap_or(&self.decoy);
        let ok = PasswordHash::new(phc).ok().is_some_and(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        });
        found.filter(|_| ok)
    }

    /// A new session for `user`: its id, for the cookie.
    pub fn open_session(&self, user: usize, now: Instant) -> Result<String, UsersError> {
        let id = crate::digest::hex(&users::random::<32>()?);
        let key: [u8; 32] = Sha256::digest(id.as_bytes()).into();
        if let Ok(mut sessions) = self.sessions.lock() {
            sessions.retain(|_, s| s.expires > now);
            sessions.insert(
                key,
                Session {
                    user,
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
        Auth::new(vec![
            user("ann", "token-a", Some("ann's password")),
            user("bob", "token-b", None),
        ])
        .expect("auth")
    }

    #[test]
    fn tokens_and_passwords_find_their_user() {
        let auth = auth();
        assert_eq!(auth.bearer("token-b"), Some(1));
        assert_eq!(auth.bearer("token-c"), None);
        assert_eq!(auth.check_password("ann", "ann's password"), Some(0));
        assert_eq!(auth.check_password("ann", "wrong"), None);
        assert_eq!(auth.check_password("bob", ""), None);
        assert_eq!(auth.check_password("nobody", "ann's password"), None);
    }

    #[test]
    fn sessions_expire_and_close() {
        let auth = auth();
        let now = Instant::now();
        let id = auth.open_session(0, now).expect("session");
        assert_eq!(auth.session(&id, now), Some(0));
        assert_eq!(auth.session(&id, now + SESSION_LIFE), None);
        let id = auth.open_session(0, now).expect("session");
        auth.close_session(&id);
        assert_eq!(auth.session(&id, now), None);
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
