//! The users file: who may use the portal, with what scope, and how they prove it.
//!
//! `FILE` is TOML, one `[[user]]` table per user: `name`, `scope`, `token_sha256` (the hex
//! SHA-256 of the user's API token) and an optional `password_hash` (an argon2 PHC string) for
//! the browser login. The file holds no secret: tokens are shown once, by `settle users add`,
//! and only their digests are kept. A file that does not parse, or names an unknown scope, stops
//! `settle serve` with exit code 2, naming the file and the user. `settle users add`, `remove`,
//! `passwd` and `list` edit and show it; `serve` reads it again when it changes.

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

    #[error(
        "cannot write the new token to standard output: {0}; the user was not added\nhint: run it again with stdout going to a file or terminal that can be written, e.g. `settle users add … > NAME.token`"
    )]
    Deliver(std::io::Error),

    #[error("there is no user `{user}` in `{}`\nhint: `settle users list --users {}` shows the users", .path.display(), .path.display())]
    NoSuchUser { path: PathBuf, user: String },

    #[error("cannot edit user `{user}` in `{}`: the file does not keep each user in its own `[[user]]` table\nhint: edit the file by hand, or rewrite it with `settle users add`", .path.display())]
    NotEditable { path: PathBuf, user: String },

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

/// `settle users add`: a new user with a fresh token and, if given, a password, appended to the
/// users file (created if missing) so that its comments and other users are kept as they are.
/// The token is shown once: `deliver` gets it *before* the file is written, and when it cannot
/// pass it on (stdout on a full disk, a closed pipe) the user is not added, since a user whose
/// token went nowhere could never sign in. The file is replaced atomically, readable by its owner
/// only.
pub fn add(
    path: &Path,
    name: &str,
    scope: &str,
    password: Option<&str>,
    deliver: impl FnOnce(&str) -> std::io::Result<()>,
) -> Result<(), UsersError> {
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
    let text = read_or_empty(path)?;
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
    deliver(&token).map_err(UsersError::Deliver)?;
    write(path, &out)
}

/// The users file's text; a missing file is an empty one.
fn read_or_empty(path: &Path) -> Result<String, UsersError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
        Err(source) => Err(UsersError::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}

fn write(path: &Path, text: &str) -> Result<(), UsersError> {
    write_atomically(path, text.as_bytes()).map_err(|source| UsersError::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// `settle users list`: every user's name and scope, and whether they have a password; never a
/// secret nor a digest.
pub fn list(path: &Path) -> Result<Vec<User>, UsersError> {
    let text = std::fs::read_to_string(path).map_err(|source| UsersError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse(path, &text)
}

/// `settle users remove`: deletes the user's `[[user]]` table (and the comment lines just above
/// it), keeping the rest of the file as it is. A running portal sees the change at its next
/// request.
pub fn remove(path: &Path, name: &str) -> Result<(), UsersError> {
    let (text, users) = read_users(path)?;
    let (pieces, at) = locate(path, &text, &users, name)?;
    let mut out = String::with_capacity(text.len());
    for (i, piece) in pieces.iter().enumerate() {
        if i != at {
            out.push_str(piece);
        }
    }
    let left = parse(path, &out)?;
    if left.len() + 1 != users.len() || left.iter().any(|u| u.name == name) {
        return Err(UsersError::NotEditable {
            path: path.to_path_buf(),
            user: name.into(),
        });
    }
    write(path, &out)
}

/// `settle users passwd`: sets (or replaces) the user's password, keeping their token. Sessions
/// opened with the old password end.
pub fn passwd(path: &Path, name: &str, password: &str) -> Result<(), UsersError> {
    if password.chars().count() < 8 {
        return Err(UsersError::ShortPassword);
    }
    let (text, users) = read_users(path)?;
    let (pieces, at) = locate(path, &text, &users, name)?;
    let hash = hash_password(password)?;
    let table = pieces[at];
    let lines: Vec<&str> = table
        .split_inclusive('\n')
        .filter(|l| {
            let key = l.trim_start();
            !(key.starts_with("password_hash")
                && key["password_hash".len()..].trim_start().starts_with('='))
        })
        .collect();
    // After the table's last key, before any blank or comment lines that close it.
    let last_key = lines
        .iter()
        .rposition(|l| {
            let l = l.trim();
            !l.is_empty() && !l.starts_with('#')
        })
        .unwrap_or(0);
    let mut edited = String::new();
    for (i, line) in lines.iter().enumerate() {
        edited.push_str(line);
        if i == last_key {
            if !line.ends_with('\n') {
                edited.push('\n');
            }
            edited.push_str(&format!("password_hash = {}\n", toml_string(&hash)));
        }
    }
    let mut out = String::new();
    for (i, piece) in pieces.iter().enumerate() {
        out.push_str(if i == at { &edited } else { piece });
    }
    let after = parse(path, &out)?;
    let same = after.len() == users.len()
        && after.iter().zip(&users).all(|(a, b)| {
            a.name == b.name
                && a.token_sha256 == b.token_sha256
                && (a.password_hash == b.password_hash
                    || (a.name == name && a.password_hash.as_deref() == Some(hash.as_str())))
        });
    if !same {
        return Err(UsersError::NotEditable {
            path: path.to_path_buf(),
            user: name.into(),
        });
    }
    write(path, &out)
}

/// The users file's text and its users, for an edit.
fn read_users(path: &Path) -> Result<(String, Vec<User>), UsersError> {
    let text = std::fs::read_to_string(path).map_err(|source| UsersError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let users = parse(path, &text)?;
    Ok((text, users))
}

/// `text` cut into pieces (see [`pieces`]), and the index of the piece that is `name`'s table.
fn locate<'t>(
    path: &Path,
    text: &'t str,
    users: &[User],
    name: &str,
) -> Result<(Vec<&'t str>, usize), UsersError> {
    if !users.iter().any(|u| u.name == name) {
        return Err(UsersError::NoSuchUser {
            path: path.to_path_buf(),
            user: name.into(),
        });
    }
    let not_editable = || UsersError::NotEditable {
        path: path.to_path_buf(),
        user: name.into(),
    };
    let pieces = pieces(text);
    let mut found = None;
    for (i, piece) in pieces.iter().enumerate().skip(1) {
        let one = parse(path, piece).map_err(|_| not_editable())?;
        if one.len() == 1 && one[0].name == name {
            found = Some(i);
        }
    }
    found.map(|at| (pieces, at)).ok_or_else(not_editable)
}

/// The file cut before each `[[user]]` line (and the comment lines just above it): piece 0 is
/// what comes before the first table (maybe nothing), then one piece per table. Joined, they are
/// the file.
fn pieces(text: &str) -> Vec<&str> {
    let mut cuts = vec![0];
    let mut at = 0;
    // Where the run of comment lines just above the current line starts.
    let mut comments: Option<usize> = None;
    for line in text.split_inclusive('\n') {
        let t = line.trim();
        if t == "[[user]]" {
            cuts.push(comments.unwrap_or(at));
            comments = None;
        } else if t.starts_with('#') {
            comments.get_or_insert(at);
        } else {
            comments = None;
        }
        at += line.len();
    }
    cuts.iter()
        .enumerate()
        .map(|(i, start)| &text[*start..cuts.get(i + 1).copied().unwrap_or(text.len())])
        .collect()
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

    #[test]
    fn passwd_and_remove_edit_one_table_and_keep_the_rest() {
        let dir = std::env::temp_dir().join(format!("settle-users-edit-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("users.toml");
        let other = "1".repeat(64);
        let text = format!(
            "# portal users\n\n[[user]]\nname = \"ann\"\nscope = \"finance\"\ntoken_sha256 = \"{HASH}\"\npassword_hash = \"$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA\"\n# keep me\n\n# bob below\n[[user]]\nname = \"bob\"\nscope = \"partner:p-01\"\ntoken_sha256 = \"{other}\""
        );
        std::fs::write(&path, &text).expect("written");
        passwd(&path, "bob", "a long password").expect("bob's password");
        passwd(&path, "ann", "another long one").expect("ann's password");
        let edited = std::fs::read_to_string(&path).expect("read");
        assert_eq!(edited.matches("password_hash").count(), 2, "{edited}");
        assert!(edited.contains("# keep me\n") && edited.starts_with("# portal users\n"));
        assert!(
            !edited.contains("aGFzaGhhc2hoYXNoaGFzaA"),
            "the old hash is gone"
        );
        let users = parse(&path, &edited).expect("parses");
        assert!(users.iter().all(|u| u.password_hash.is_some()));
        remove(&path, "bob").expect("removed");
        let left = std::fs::read_to_string(&path).expect("read");
        assert!(!left.contains("bob"), "its comment goes with it: {left}");
        assert_eq!(parse(&path, &left).expect("parses").len(), 1);
        assert!(matches!(
            remove(&path, "bob"),
            Err(UsersError::NoSuchUser { .. })
        ));
        assert!(matches!(
            passwd(&path, "ann", "short"),
            Err(UsersError::ShortPassword)
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
