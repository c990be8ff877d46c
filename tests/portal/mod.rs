//! What the portal tests share: the demo month settled once into a temporary `DIR`, a users file
//! made with `settle users add`, a `settle serve` child on `127.0.0.1:0`, and a small HTTP/1.1
//! client over raw TCP (so a test can send a request line exactly as an attacker would).
// Each test binary uses its own part of this module.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

pub const BIN: &str = env!("CARGO_BIN_EXE_settle");
pub const FINANCE_PASSWORD: &str = "ledger-2026-october";

/// The settled demo month and its users.
pub struct Fixture {
    pub dir: PathBuf,
    /// `DIR`: holds `demo/2026-10/` (with PDFs) and `华东/2026-10/` (CSVs only), both closed, and
    /// `demo/2026-11/`, a draft that only finance sees.
    pub out: PathBuf,
    pub users: PathBuf,
    /// Token by user name: `finance`, `p01`, `p02`, `master`.
    pub tokens: BTreeMap<&'static str, String>,
}

impl Fixture {
    pub fn period(&self) -> PathBuf {
        self.out.join("demo").join("2026-10")
    }

    pub fn token(&self, user: &str) -> &str {
        &self.tokens[user]
    }

    pub fn bearer(&self, user: &str) -> String {
        format!("Bearer {}", self.token(user))
    }
}

/// A scratch folder for `name`, emptied, under cargo's temporary folder for integration tests;
/// named after the test binary too, so two binaries never share one.
pub fn scratch(name: &str) -> PathBuf {
    let dir =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{}-{name}", env!("CARGO_CRATE_NAME")));
    writable(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

pub fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = scratch("portal");
        let out = dir.join("out");
        let demo = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("inputs")
            .join("demo");
        let out_arg = out.to_str().expect("utf-8 path");
        let demo_arg = demo.to_str().expect("utf-8 path");
        run_ok(&[
            "run", "--period", "2026-10", "--out", out_arg, "--inputs", demo_arg,
        ]);
        run_ok(&[
            "close",
            "--period",
            "2026-10",
            "--issued-on",
            "2026-11-07",
            "--by",
            "portal-tests",
            "--out",
            out_arg,
            "--inputs",
            demo_arg,
        ]);
        // November, a draft: finance sees it, marked; partners and masters do not.
        run_ok(&[
            "run", "--period", "2026-11", "--out", out_arg, "--inputs", demo_arg,
        ]);
        // The same month under a Chinese dataset name, for download names.
        let east = dir.join("华东");
        copy_dir(&demo, &east);
        let east_arg = east.to_str().expect("utf-8 path");
        run_ok(&[
            "run", "--period", "2026-10", "--no-pdf", "--out", out_arg, "--inputs", east_arg,
        ]);
        run_ok(&[
            "close",
            "--period",
            "2026-10",
            "--issued-on",
            "2026-11-07",
            "--by",
            "portal-tests",
            "--no-pdf",
            "--out",
            out_arg,
            "--inputs",
            east_arg,
        ]);
        // A month of record restated (R9): `late/2026-10-r1`, closed, changes p-01's statement
        // and acc-1006's rollup; `late/2026-10-r2` is a draft.
        let late = dir.join("late");
        copy_dir(&demo, &late);
        let late_arg = late.to_str().expect("utf-8 path");
        let month = |command: &str, extra: &[&str]| {
            let mut args = vec![
                command, "--period", "2026-10", "--out", out_arg, "--inputs", late_arg,
            ];
            args.extend_from_slice(extra);
            run_ok(&args);
        };
        let closing = ["--issued-on", "2026-11-07", "--by", "portal-tests"];
        month("run", &[]);
        month("close", &closing);
        add_bills(&late, &[LATE_P01, LATE_HOSTED]);
        month("run", &[]);
        month("close", &closing);
        add_bills(&late, &[LATE_P01_AGAIN]);
        month("run", &[]);
        let users = dir.join("users.toml");
        let mut tokens = BTreeMap::new();
        for (name, scope) in [
            ("finance", "finance"),
            ("p01", "partner:p-01"),
            ("p02", "partner:p-02"),
            ("master", "master:acc-1006"),
        ] {
            tokens.insert(
                name,
                add_user(
                    &users,
                    name,
                    scope,
                    (name == "finance").then_some(FINANCE_PASSWORD),
                ),
            );
        }
        Fixture {
            dir,
            out,
            users,
            tokens,
        }
    })
}

/// Late October lines, delivered after the month was closed: one for p-01's customer acc-1002,
/// one for acc-1007, hosted by acc-1006.
const LATE_P01: &str = "b-9001,acc-1002,cvm,standard,ins-2009,postpaid,day,2026-10-20 00:00:00,\
                        2026-10-21 00:00:00,2026-10-21 01:00:00,100.00,0,0,100.00,paid,allocated,CNY";
const LATE_HOSTED: &str = "b-9002,acc-1007,cvm,standard,ins-2010,postpaid,day,2026-10-20 00:00:00,\
                        2026-10-21 00:00:00,2026-10-21 01:00:00,50.00,0,0,50.00,paid,cash,CNY";
const LATE_P01_AGAIN: &str = "b-9003,acc-1002,cvm,standard,ins-2011,postpaid,day,\
                        2026-10-22 00:00:00,2026-10-23 00:00:00,2026-10-23 01:00:00,10.00,0,0,\
                        10.00,paid,allocated,CNY";

/// Appends bill lines to a dataset's `bills.csv`.
fn add_bills(dataset: &Path, lines: &[&str]) {
    let path = dataset.join("bills.csv");
    let mut text = std::fs::read_to_string(&path).expect("bills.csv");
    for line in lines {
        text.push_str(line);
        text.push('\n');
    }
    std::fs::write(&path, text).expect("bills.csv");
}

/// Makes every folder and file under `dir` writable again, so that a folder holding a closed
/// (read-only) month can be removed by a user other than root.
fn writable(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let Ok(meta) = std::fs::symlink_metadata(dir) else {
        return;
    };
    if !meta.is_dir() {
        return;
    }
    let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755));
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            writable(&p);
        } else if e.file_type().is_ok_and(|t| t.is_file()) {
            let _ = std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644));
        }
    }
}

fn run_ok(args: &[&str]) {
    let out = Command::new(BIN).args(args).output().expect("settle runs");
    assert!(
        out.status.success(),
        "settle {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `settle users add`: the token it prints.
pub fn add_user(users: &Path, name: &str, scope: &str, password: Option<&str>) -> String {
    let mut cmd = Command::new(BIN);
    cmd.args(["users", "add", name, "--scope", scope, "--users"])
        .arg(users);
    if password.is_some() {
        cmd.arg("--password-stdin");
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("settle users add runs");
    if let Some(p) = password {
        writeln!(child.stdin.take().expect("stdin"), "{p}").expect("password written");
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().expect("settle users add ends");
    assert!(
        out.status.success(),
        "users add {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout)
        .expect("utf-8")
        .trim()
        .to_string();
    assert_eq!(
        token.len(),
        64,
        "a token is 32 random bytes in hex: {token}"
    );
    token
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("folder");
    for e in std::fs::read_dir(from).expect("readable") {
        let e = e.expect("entry");
        let target = to.join(e.file_name());
        if e.file_type().expect("type").is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).expect("copied");
        }
    }
}

/// A running `settle serve`, killed when dropped.
pub struct Server {
    child: Child,
    pub addr: SocketAddr,
    pub audit: PathBuf,
    log: Arc<Mutex<String>>,
}

impl Server {
    /// Starts `settle serve` over `out` with `users`, appending its audit log to `audit`, and
    /// waits for it to say where it listens.
    pub fn start(out: &Path, users: &Path, audit: &Path) -> Server {
        Server::start_with(out, users, audit, &[])
    }

    /// [`Server::start`] with more flags.
    pub fn start_with(out: &Path, users: &Path, audit: &Path, flags: &[&str]) -> Server {
        let mut child = Command::new(BIN)
            .args(["serve", "--bind", "127.0.0.1:0"])
            .args(flags)
            .arg("--out")
            .arg(out)
            .arg("--users")
            .arg(users)
            .arg("--audit")
            .arg(audit)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("settle serve starts");
        let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
        let log = Arc::new(Mutex::new(String::new()));
        let mut addr = None;
        for line in lines.by_ref() {
            let line = line.expect("stderr is text");
            log.lock().expect("log").push_str(&format!("{line}\n"));
            if let Some(a) = line.strip_prefix("listening on http://") {
                addr = Some(a.parse().expect("an address"));
                break;
            }
        }
        let Some(addr) = addr else {
            let status = child.wait().expect("exited");
            panic!(
                "settle serve exited ({status}) before listening:\n{}",
                log.lock().expect("log")
            );
        };
        let sink = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                sink.lock().expect("log").push_str(&format!("{line}\n"));
            }
        });
        Server {
            child,
            addr,
            audit: audit.to_path_buf(),
            log,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn log(&self) -> String {
        self.log.lock().expect("log").clone()
    }

    pub fn get(&self, target: &str, auth: Option<&str>) -> Response {
        let headers: Vec<(&str, &str)> = auth.map(|a| ("Authorization", a)).into_iter().collect();
        request(self.addr, "GET", target, &headers, b"")
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("a text body")
    }
}

/// One HTTP/1.1 request with `Connection: close`; the target goes on the request line as given.
pub fn request(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Response {
    let mut stream = TcpStream::connect(addr).expect("connects");
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .expect("timeout");
    let mut head = format!("{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if !body.is_empty() {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).expect("request sent");
    stream.write_all(body).expect("body sent");
    // Read until the response is whole: some servers (chromedriver) keep the connection open
    // whatever the request says.
    let mut raw = Vec::new();
    let mut buf = [0u8; 64 * 1024];
    loop {
        if let Some(len) = whole(&raw, method == "HEAD") {
            raw.truncate(len);
            break;
        }
        let n = stream.read(&mut buf).expect("response read");
        if n == 0 {
            break;
        }
        raw.extend_from_slice(&buf[..n]);
    }
    parse(&raw, method == "HEAD")
}

/// The length of the response in `raw` once it is all there: by `Content-Length`, or the last
/// chunk; `None` while more is to come (or the body runs to the end of the connection).
fn whole(raw: &[u8], head_only: bool) -> Option<usize> {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = String::from_utf8_lossy(&raw[..end]).to_ascii_lowercase();
    if head_only || head.starts_with("http/1.1 204") || head.starts_with("http/1.1 304") {
        return Some(end);
    }
    if head.contains("transfer-encoding: chunked") {
        let mut at = end;
        loop {
            let line = raw[at..].windows(2).position(|w| w == b"\r\n")?;
            let size_text = std::str::from_utf8(&raw[at..at + line]).ok()?;
            let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
            at += line + 2;
            if size == 0 {
                return (raw.len() >= at + 2).then_some(at + 2);
            }
            at += size + 2;
            if raw.len() < at {
                return None;
            }
        }
    }
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())?;
    (raw.len() >= end + length).then_some(end + length)
}

fn parse(raw: &[u8], head_only: bool) -> Response {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no header end in {:?}", String::from_utf8_lossy(raw)));
    let head = std::str::from_utf8(&raw[..end]).expect("ascii head");
    let mut lines = head.split("\r\n");
    let status_line = lines.next().expect("status line");
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status_line}"));
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let rest = &raw[end + 4..];
    let chunked = headers
        .iter()
        .any(|(n, v)| n.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    let body = if head_only {
        Vec::new()
    } else if chunked {
        dechunk(rest)
    } else {
        rest.to_vec()
    };
    Response {
        status,
        headers,
        body,
    }
}

fn dechunk(mut rest: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    loop {
        let line_end = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("chunk size line");
        let size_text = std::str::from_utf8(&rest[..line_end]).expect("ascii size");
        let size = usize::from_str_radix(size_text.split(';').next().expect("size").trim(), 16)
            .expect("hex size");
        rest = &rest[line_end + 2..];
        if size == 0 {
            return body;
        }
        body.extend_from_slice(&rest[..size]);
        rest = &rest[size + 2..];
    }
}

/// Every file under `dir`, by `/`-separated path relative to it.
pub fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("readable") {
            let path = e.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path
                    .strip_prefix(dir)
                    .expect("inside")
                    .to_string_lossy()
                    .replace('\\', "/");
                // The inputs a month of record keeps (for its restatements) are not published.
                if rel.starts_with("inputs/") {
                    continue;
                }
                out.insert(rel, std::fs::read(&path).expect("readable"));
            }
        }
    }
    out
}

/// `key=value&…`, form-encoded.
pub fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
