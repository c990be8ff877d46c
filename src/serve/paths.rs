//! Safe paths: from a request's raw path to segments, and from segments to a file inside `DIR`.
//!
//! A request path is split on `/` and each segment percent-decoded exactly once, so `%2e%2e`
//! is `..` and is refused, and `%252e%252e` is the literal name `%2e%2e`, which no settled
//! period holds. A segment that decodes to `.`, `..`, an empty name, or holds `/`, `\`, NUL or
//! another control character makes the whole path unusable. A file is opened only after its
//! canonical path (symlinks followed) is found inside the canonical `DIR`, so a symlink that leads
//! out of `DIR` is as absent as a file that is not there. Every refusal is a 404 upstream.

use std::path::{Path, PathBuf};

use percent_encoding::percent_decode_str;

/// A request path as decoded segments, and whether it ended with `/`.
#[derive(Debug, PartialEq, Eq)]
pub struct Segments {
    pub parts: Vec<String>,
    pub trailing_slash: bool,
}

/// Splits and decodes `raw` (the path of the request line, without its query); `None` when any
/// segment is unsafe.
pub fn segments(raw: &str) -> Option<Segments> {
    let rest = raw.strip_prefix('/')?;
    if rest.is_empty() {
        return Some(Segments {
            parts: Vec::new(),
            trailing_slash: false,
        });
    }
    let (rest, trailing_slash) = match rest.strip_suffix('/') {
        Some(r) => (r, true),
        None => (rest, false),
    };
    let parts = rest
        .split('/')
        .map(segment)
        .collect::<Option<Vec<String>>>()?;
    Some(Segments {
        parts,
        trailing_slash,
    })
}

fn segment(raw: &str) -> Option<String> {
    let decoded = percent_decode_str(raw).decode_utf8().ok()?;
    safe_name(&decoded).then(|| decoded.into_owned())
}

/// One file or folder name that stays where it is: not empty, `.` or `..`, and without `/`,
/// `\`, NUL or other control characters.
fn safe_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && !name
            .chars()
            .any(|c| c == '/' || c == '\\' || c.is_control())
}

/// A name of a dataset or period folder the portal may list: a safe name that is not hidden
/// (staging and scratch folders start with `.`).
pub fn listable(name: &str) -> bool {
    safe_name(name) && !name.starts_with('.')
}

/// The canonical path of the regular file `rel` under `base`, if it is one and it lies inside
/// `root` (canonical) once every symlink is followed.
pub fn inside(root: &Path, base: &Path, rel: &str) -> Option<PathBuf> {
    if !rel.split('/').all(safe_name) {
        return None;
    }
    let canonical = base.join(rel).canonicalize().ok()?;
    (canonical.starts_with(root) && canonical.metadata().ok()?.is_file()).then_some(canonical)
}

/// The canonical folder `rel` under `root` (canonical), if it lies inside `root`.
pub fn folder_inside(root: &Path, rel: &[&str]) -> Option<PathBuf> {
    let mut path = root.to_path_buf();
    path.extend(rel);
    let canonical = path.canonicalize().ok()?;
    (canonical.starts_with(root) && canonical.is_dir()).then_some(canonical)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(raw: &str) -> Option<Vec<String>> {
        segments(raw).map(|s| s.parts)
    }

    #[test]
    fn plain_and_encoded_names_decode_once() {
        assert_eq!(parts("/"), Some(vec![]));
        assert_eq!(
            parts("/demo/2026-10/statements/p-01.pdf"),
            Some(vec![
                "demo".into(),
                "2026-10".into(),
                "statements".into(),
                "p-01.pdf".into()
            ])
        );
        assert_eq!(
            parts("/%E5%8D%8E%E4%B8%9C/2026-10/"),
            Some(vec!["华东".into(), "2026-10".into()])
        );
        assert!(segments("/demo/2026-10/").expect("ok").trailing_slash);
        // Double encoding decodes once: a literal `%2e%2e`, which is only a strange name.
        assert_eq!(
            parts("/demo/%252e%252e"),
            Some(vec!["demo".into(), "%2e%2e".into()])
        );
    }

    #[test]
    fn traversal_and_odd_bytes_are_refused() {
        for raw in [
            "/demo/2026-10/../../etc/passwd",
            "/demo/2026-10/%2e%2e/%2e%2e/etc/passwd",
            "/demo/2026-10/%2E%2E%2Fx",
            "/demo/2026-10/..%2fmanifest.json",
            "/demo/2026-10/.",
            "/demo/2026-10/..\\..\\x",
            "/demo/2026-10/%5c..%5cx",
            "/demo/2026-10/p-01.pdf%00.csv",
            "/demo//2026-10/x",
            "//etc/passwd",
            "/demo/2026-10/%2Fetc%2Fpasswd",
            "/demo/%ff",
            "demo",
        ] {
            assert_eq!(segments(raw), None, "{raw}");
        }
    }

    #[test]
    fn hidden_folders_are_not_listable() {
        assert!(listable("2026-10"));
        assert!(listable("华东"));
        for name in [
            ".2026-10.tmp-42",
            ".2026-10.scratch-7",
            "..",
            ".",
            "",
            "a\\b",
            "a\0b",
        ] {
            assert!(!listable(name), "{name}");
        }
    }
}
