//! The users file: who may use the portal, with what scope, and how they prove it.
//!
//! `FILE` is TOML, one `[[user]]` table per user: `name`, `scope`, `token_sha256` (the hex
//! SHA-256 of the user's API token) and an optional `password_hash` (an argon2 PHC string) for
//! the browser login. The file holds no secret: tokens are shown once, by `settle users add`,
//! and only their digests are kept. A file that does not parse, or names an unknown scope, stops
//! `settle serve` with exit code 2, naming the file and the user.

use std::io::Write;
use std::path::{Path, PathBuf};

use argon2::Argon2;
use argon2::password_hash::PasswordHasher;
use argon2::password_hash::phc::PasswordHash;
use serde::Deserialize;

use super::scope::Scope;
use crate::digest::{hex, sha256_hex};

const SHAPE: &str = "each user is a `[[user]]` table with `name`, `scope`, `token_sha256` and, for the browser login, `password_hash`";
const SCOPES: &str = "a scope is `finance`, `partner:<partner_id>` or `master:<account_id>`";

/// A users file that cannot be used, or a user that cannot be added: exit code 2.
#[derive(Debug, thiserror::Error)]
pub enum UsersError {
    #[error("cannot read the users file `{}`: {source}\nhint: create it with `settle users add NAME --scope SCOPE --users {}`", .path.display(), .path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("the users file `{}` does not parse: {message}\nhint: {SHAPE}", .path.display())]
    Parse { path: PathBuf, message: String },

    #[error("the users file `{}` has no users\nhint: add one with `settle users add NAME --scope finance --users {}`", .path.display(), .path.display())]
    NoUsers { path: PathBuf },

    #[error("the users file `{}`: a user has an empty `name`\nhint: {SHAPE}", .path.display())]
    EmptyName { path: PathBuf },

    #[error("the users file `{}` names user `{user}` twice\nhint: user names are unique; remove or rename one of the two `[[user]]` tables", .path.display())]
    Duplicate { path: PathBuf, user: String },

    #[error("the users file `{}`: user `{user}` has the unknown scope `{scope}`\nhint: {SCOPES}", .path.display())]
    Scope {
        path: PathBuf,
        user: String,
        scope: String,
    },

    #[error("the users file `{}`: user `{user}` has a `token_sha256` that is not 64 hex digits\nhint: make a new token with `settle users add`, or write the hex SHA-256 of the token, e.g. `printf %s TOKEN | sha256sum`", .path.display())]
    TokenHash { path: PathBuf, user: String },

    #[error("the users file `{}`: users `{first}` and `{second}` have the same token\nhint: give each user their own token with `settle users add`", .path.display())]
    SharedToken {
        path: PathBuf,
        first: String,
        second: String,
    },

    #[error("the users file `{}`: user `{user}` has a `password_hash` that is not an argon2 PHC string: {message}\nhint: set it with `settle users add … --password-stdin`, which writes `$argon2id$v=19$…`", .path.display())]
    PasswordHash {
        path: PathBuf,
        user: String,
        message: String,
    },

    #[error("user `{user}` is already in `{}`\nhint: pick another name, or delete that user's `[[user]]` table first", .path.display())]
    Exists { path: PathBuf, user: String },

    #[error("the scope `{scope}` is unknown\nhint: {SCOPES}")]
    UnknownScope { scope: String },

    #[error(
        "the user name `{user}` is not usable\nhint: a name is 1 to 64 characters, without spaces or control characters"
    )]
    BadName { user: String },

    #[error(
        "the password read from standard input is shorter than 8 characters\nhint: pipe a longer password, e.g. `printf '%s\\n' \"$PASSWORD\" | settle users add …`"
    )]
    ShortPassword,

    #[error("cannot read the password from standard input: {0}")]
    Stdin(std::io::Error),

    #[error("cannot write the users file `{}`: {source}", .path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("cannot get random bytes from the operating system: {0}")]
    Random(String),

    #[error("cannot hash the password: {0}")]
    Hash(String),
}

/// One user, checked.
#[derive(Debug, Clone)]
pub struct User {
    pub name: String,
    pub scope: Scope,
    /// SHA-256 of the user's API token.
    pub token_sha256: [u8; 32],
    /// An argon2 PHC string, checked to parse; `None` means API tokens only.
    pub password_hash: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    user: Vec<RawUser>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUser {
    name: String,
    scope: String,
    token_sha256: String,
    password_hash: Option<String>,
}

/// Reads and checks the users file. An empty file is an error for `serve` (see [`load`]) but
/// not for `users add`, which starts one.
fn parse(path: &Path, text: &str) -> Result<Vec<User>, UsersError> {
    let raw: RawFile = toml::from_str(text).map_err(|e| UsersError::Parse {
        path: path.to_path_buf(),
        message: e.message().to_string(),
    })?;
    let mut users: Vec<User> = Vec::with_capacity(raw.user.len());
    for u in raw.user {
        if u.name.is_empty() {
            return Err(UsersError::EmptyName {
                path: path.to_path_buf(),
            });
        }
        if users.iter().any(|o| o.name == u.name) {
            return Err(UsersError::Duplicate {
                path: path.to_path_buf(),
                user: u.name,
            });
        }
        let Some(scope) = Scope::parse(&u.scope) else {
            return Err(UsersError::Scope {
                path: path.to_path_buf(),
                user: u.name,
                scope: u.scope,
            });
        };
        let Some(token_sha256) = unhex32(&u.token_sha256) else {
            return Err(UsersError::TokenHash {
                path: path.to_path_buf(),
                user: u.name,
            });
        };
        if let Some(first) = users.iter().find(|o| o.token_sha256 == token_sha256) {
            return Err(UsersError::SharedToken {
                path: path.to_path_buf(),
                first: first.name.clone(),
                second: u.name,
            });
        }
        if let Some(Err(e)) = u.password_hash.as_deref().map(PasswordHash::new) {
            return Err(UsersError::PasswordHash {
                path: path.to_path_buf(),
                user: u.name,
                message: e.to_string(),
            });
        }
        users.push(User {
            name: u.name,
            scope,
            token_sha256,
            password_hash: u.password_hash,
        });
    }
    Ok(users)
}

/// The users of `settle serve`: the file must parse, name known scopes, and hold one user at
/// least.
pub fn load(path: &Path) -> Result<Vec<User>, UsersError> {
    let text = std::fs::read_to_string(path).map_err(|source| UsersError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let users = parse(path, &text)?;
    if users.is_empty() {
        return Err(UsersError::NoUsers {
            path: path.to_path_buf(),
        });
    }
    Ok(users)
}

/// `settle users add`: a new user with a fresh token (returned, to be shown once) and, if given,
/// a password, appended to the users file (created if missing) so that its comments and other
/// users are kept as they are. The file is replaced atomically, readable by its owner only.
pub fn add(
    path: &Path,
    name: &str,
    scope: &str,
    password: Option<&str>,
) -> Result<String, UsersError> {
    if name.is_empty()
        || name.chars().count() > 64
        || name.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(UsersError::BadName { user: name.into() });
    }
    if Scope::parse(scope).is_none() {
        return Err(UsersError::UnknownScope {
            scope: scope.into(),
        });
    }
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(source) => {
            return Err(UsersError::Read {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let users = parse(path, &text)?;
    if users.iter().any(|u| u.name == name) {
        return Err(UsersError::Exists {
            path: path.to_path_buf(),
            user: name.into(),
        });
    }
    let token = hex(&random::<32>()?);
    let password_hash = match password {
        Some(p) if p.chars().count() < 8 => return Err(UsersError::ShortPassword),
        Some(p) => Some(hash_password(p)?),
        None => None,
    };
    let mut table = String::from("[[user]]\n");
    table.push_str(&format!("name = {}\n", toml_string(name)));
    table.push_str(&format!("scope = {}\n", toml_string(scope)));
    table.push_str(&format!(
        "token_sha256 = {}\n",
        toml_string(&sha256_hex(token.as_bytes()))
    ));
    if let Some(h) = &password_hash {
        table.push_str(&format!("password_hash = {}\n", toml_string(h)));
    }
    let mut out = text;
    if !out.is_empty() {
        if !out.ends_with('\n') {
            out.push('\n');
        }
        out.push('\n');
    }
    out.push_str(&table);
    // The new file must parse back to the old users plus this one, before it replaces the old.
    debug_assert_eq!(
        parse(path, &out).map(|u| u.len()).ok(),
        Some(users.len() + 1)
    );
    write_atomically(path, out.as_bytes()).map_err(|source| UsersError::Write {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(token)
}

/// An argon2id PHC string for `password`, with a random salt.
pub fn hash_password(password: &str) -> Result<String, UsersError> {
    let salt = random::<16>()?;
    Argon2::default()
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| UsersError::Hash(e.to_string()))
}

/// `N` random bytes from the operating system.
pub fn random<const N: usize>() -> Result<[u8; N], UsersError> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).map_err(|e| UsersError::Random(e.to_string()))?;
    Ok(buf)
}

fn unhex32(s: &str) -> Option<[u8; 32]> {
    let s = s.as_bytes();
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in s.chunks(2).enumerate() {
        let pair = std::str::from_utf8(pair).ok()?;
        out[i] = u8::from_str_radix(pair, 16).ok()?;
    }
    Some(out)
}

fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// Writes `bytes` to a temporary file beside `path` and renames it over `path`.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "users.toml".into());
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let written = options.open(&tmp).and_then(|mut f| {
        f.write_all(bytes)?;
        f.sync_all()
    });
    match written.and_then(|()| std::fs::rename(&tmp, path)) {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(body: &str) -> Result<Vec<User>, UsersError> {
        parse(Path::new("users.toml"), body)
    }

    const HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

    #[test]
    fn a_user_table_parses() {
        let users = file(&format!(
            "[[user]]\nname = \"ann\"\nscope = \"partner:p-01\"\ntoken_sha256 = \"{HASH}\"\n"
        ))
        .expect("parses");
        assert_eq!(users[0].scope, Scope::Partner("p-01".into()));
        assert!(users[0].password_hash.is_none());
    }

    #[test]
    fn bad_files_name_the_file_and_the_user() {
        let cases = [
            (
                format!("[[user]]\nname = \"ann\"\nscope = \"admin\"\ntoken_sha256 = \"{HASH}\"\n"),
                "user `ann` has the unknown scope `admin`",
            ),
            (
                "[[user]]\nname = \"bob\"\nscope = \"finance\"\ntoken_sha256 = \"xyz\"\n".into(),
                "user `bob` has a `token_sha256` that is not 64 hex digits",
            ),
            (
                format!(
                    "[[user]]\nname = \"cy\"\nscope = \"finance\"\ntoken_sha256 = \"{HASH}\"\npassword_hash = \"plain\"\n"
                ),
                "user `cy` has a `password_hash` that is not an argon2 PHC string",
            ),
            (
                format!(
                    "[[user]]\nname = \"d\"\nscope = \"finance\"\ntoken_sha256 = \"{HASH}\"\n[[user]]\nname = \"d\"\nscope = \"finance\"\ntoken_sha256 = \"{HASH}\"\n"
                ),
                "names user `d` twice",
            ),
            ("[[user]]\nname = \"e\"\n".into(), "does not parse"),
            ("[[usr]]\n".into(), "does not parse"),
        ];
        for (body, want) in cases {
            let err = file(&body).expect_err(want).to_string();
            assert!(err.contains("`users.toml`"), "{err}");
            assert!(err.contains(want), "{err}");
            assert!(err.contains("\nhint: "), "{err}");
        }
    }

    #[test]
    fn passwords_hash_to_argon2id_and_verify() {
        use argon2::password_hash::PasswordVerifier;
        let phc = hash_password("correct horse").expect("hashes");
        assert!(phc.starts_with("$argon2id$"), "{phc}");
        let parsed = PasswordHash::new(&phc).expect("parses");
        assert!(
            Argon2::default()
                .verify_password(b"correct horse", &parsed)
                .is_ok()
        );
        assert!(
            Argon2::default()
                .verify_password(b"wrong horse", &parsed)
                .is_err()
        );
    }
}
