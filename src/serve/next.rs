//! Where a user lands after signing in: the page they asked for before the sign-in form stood in
//! its way (`next`), and only if it is a path of this portal.
//!
//! `next` comes from a form field a page on another site could fill in, so it is an open
//! redirect unless it is checked: only a path that starts with a single `/` is kept. `//host` and
//! `/\host` (which browsers read as `//host`) are other sites; any byte outside visible ASCII
//! (a tab or line break that browsers drop, a space, a non-ASCII letter) is refused too, as is
//! a backslash anywhere. A refused `next` lands on `/`, the list of periods.

/// The longest `next` that is kept.
const MAX: usize = 2048;

/// `next` when it is a local path, else `None`.
pub fn local(next: &str) -> Option<&str> {
    let rest = next.strip_prefix('/')?;
    let ok = next.len() <= MAX
        && !rest.starts_with('/')
        && next.bytes().all(|b| b.is_ascii_graphic() && b != b'\\')
        && !next.starts_with("/login");
    ok.then_some(next)
}

/// Where a sign-in goes: `next` if local, else `/`.
pub fn landing(next: Option<&str>) -> &str {
    next.and_then(local).unwrap_or("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_kept() {
        for path in [
            "/",
            "/demo/2026-10/",
            "/demo/2026-10/?q=p-01",
            "/%E5%8D%8E%E4%B8%9C/2026-10/",
        ] {
            assert_eq!(local(path), Some(path), "{path}");
        }
        for path in [
            "",
            "demo/2026-10/",
            "//evil.example/",
            "///evil.example",
            "/\\evil.example",
            "/demo\\..\\x",
            "https://evil.example/",
            "/\t/evil.example",
            "/ /evil.example",
            "/\n/evil.example",
            "/华东/2026-10/",
            "/login",
            "/login?next=/",
        ] {
            assert_eq!(local(path), None, "{path:?}");
        }
        assert_eq!(local(&format!("/{}", "a".repeat(MAX))), None);
        assert_eq!(landing(Some("//evil.example")), "/");
        assert_eq!(landing(None), "/");
        assert_eq!(landing(Some("/demo/2026-10/")), "/demo/2026-10/");
    }
}
