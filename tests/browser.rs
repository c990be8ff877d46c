//! The portal in a real browser: headless Chromium (Debian's `chromium` and `chromium-driver`,
//! installed by `make tools`) signs in with the password form, opens the demo month, downloads a
//! statement PDF, and takes screenshots on a desktop-sized and a phone-sized window. The tests
//! assert on the page's text, on the downloaded bytes against the file on disk, that the phone
//! page needs no sideways scrolling, that the statements' money columns are in view at 1280 px,
//! and that a partner's confirmation reaches finance's page. Screenshots are kept under cargo's temporary folder
//! for integration tests (`target/tmp/browser-screenshots/`).
//!
//! Chromium is driven through chromedriver's W3C WebDriver HTTP API, spoken over the same small
//! HTTP client the other portal tests use.

mod portal;

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use portal::{FINANCE_PASSWORD, Server, fixture, request, scratch};
use serde_json::{Value, json};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

struct Driver {
    child: Child,
    addr: SocketAddr,
}

impl Driver {
    fn start() -> Driver {
        let exe = which("chromedriver").unwrap_or_else(|| {
            panic!(
                "chromedriver is missing: run `make tools` (installs chromium and chromium-driver)"
            )
        });
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new(exe)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let driver = Driver {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
        };
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if std::net::TcpStream::connect(driver.addr).is_ok() {
                let status = driver.call("GET", "/status", None);
                if status["ready"] == true {
                    return driver;
                }
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not become ready"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// One WebDriver command; its `value`, or a panic naming the WebDriver error.
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let (status, value) = self.attempt(method, path, body);
        assert_eq!(status, 200, "{method} {path}: {value}");
        value["value"].clone()
    }

    /// One WebDriver command: its HTTP status and its whole answer.
    fn attempt(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let mut headers = vec![];
        if method == "POST" {
            headers.push(("Content-Type", "application/json"));
        }
        let payload = if method == "POST" && body.is_empty() {
            "{}"
        } else {
            &body
        };
        let r = request(self.addr, method, path, &headers, payload.as_bytes());
        let value: Value = serde_json::from_slice(&r.body)
            .unwrap_or_else(|e| panic!("{method} {path}: not JSON ({e}): {}", r.text()));
        (r.status, value)
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file())
}

struct Browser<'a> {
    driver: &'a Driver,
    id: String,
}

impl<'a> Browser<'a> {
    fn open(driver: &'a Driver, profile: &Path, downloads: &Path) -> Browser<'a> {
        let mut options = json!({
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1280,1000",
                format!("--user-data-dir={}", profile.display()),
            ],
            "prefs": {
                "download.default_directory": downloads,
                "download.prompt_for_download": false,
                "download.directory_upgrade": true,
                "safebrowsing.enabled": false,
            },
        });
        if let Some(chromium) = which("chromium") {
            options["binary"] = json!(chromium);
        }
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": options,
        }}});
        let session = driver.call("POST", "/session", Some(caps));
        let browser = Browser {
            driver,
            id: session["sessionId"]
                .as_str()
                .expect("a session id")
                .to_string(),
        };
        // Headless Chromium saves downloads only where it is told to.
        browser.call(
            "POST",
            "/goog/cdp/execute",
            json!({"cmd": "Browser.setDownloadBehavior",
                   "params": {"behavior": "allow", "downloadPath": downloads}}),
        );
        browser
    }

    fn call(&self, method: &str, path: &str, body: Value) -> Value {
        let body = (method == "POST").then_some(body);
        self.driver
            .call(method, &format!("/session/{}{path}", self.id), body)
    }

    fn goto(&self, url: &str) {
        self.call("POST", "/url", json!({ "url": url }));
    }

    fn find(&self, css: &str) -> String {
        let e = self.call(
            "POST",
            "/element",
            json!({"using": "css selector", "value": css}),
        );
        e[ELEMENT].as_str().expect("an element").to_string()
    }

    fn click(&self, css: &str) {
        let e = self.find(css);
        self.call("POST", &format!("/element/{e}/click"), json!({}));
    }

    fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css);
        self.call(
            "POST",
            &format!("/element/{e}/value"),
            json!({ "text": text }),
        );
    }

    /// The page's text. A page that a click is still replacing can have no `body` yet (`no such
    /// element`), or hand out one that is gone by the time its text is asked for (`stale element
    /// reference`): the text is then asked for again, a bounded number of times, from the page
    /// that replaced it.
    fn text(&self) -> String {
        let session = format!("/session/{}", self.id);
        for _ in 0..50 {
            let (status, found) = self.driver.attempt(
                "POST",
                &format!("{session}/element"),
                Some(json!({"using": "css selector", "value": "body"})),
            );
            let value = if status == 200 {
                let body = found["value"][ELEMENT].as_str().expect("an element");
                let path = format!("{session}/element/{body}/text");
                let (status, value) = self.driver.attempt("GET", &path, None);
                if status == 200 {
                    return value["value"].as_str().expect("text").to_string();
                }
                value
            } else {
                found
            };
            let error = value["value"]["error"].as_str().unwrap_or_default();
            assert!(
                matches!(error, "stale element reference" | "no such element"),
                "the page's text: {value}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("the page's body stayed missing or stale for 5 s");
    }

    /// The page's text once `ready` holds of it, or after 5 s (then the caller's assertion says
    /// what the page held): a click's form post replaces the page after the click returns.
    fn text_when(&self, ready: impl Fn(&str) -> bool) -> String {
        let mut text = self.text();
        for _ in 0..50 {
            if ready(&text) {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
            text = self.text();
        }
        text
    }

    fn url(&self) -> String {
        self.call("GET", "/url", Value::Null)
            .as_str()
            .expect("url")
            .to_string()
    }

    fn script(&self, script: &str) -> Value {
        self.call(
            "POST",
            "/execute/sync",
            json!({"script": script, "args": []}),
        )
    }

    fn screenshot(&self, path: &Path) {
        use base64_png::decode;
        let png = self.call("GET", "/screenshot", Value::Null);
        let bytes = decode(png.as_str().expect("base64"));
        assert!(bytes.starts_with(b"\x89PNG"), "a PNG");
        std::fs::write(path, bytes).expect("screenshot saved");
        eprintln!("screenshot: {}", path.display());
    }

    fn window(&self, width: u32, height: u32) {
        self.call(
            "POST",
            "/window/rect",
            json!({"width": width, "height": height}),
        );
    }
}

impl Drop for Browser<'_> {
    fn drop(&mut self) {
        let _ = request(
            self.driver.addr,
            "DELETE",
            &format!("/session/{}", self.id),
            &[],
            b"",
        );
    }
}

/// Standard base64 (the screenshot's encoding), decoded without another dependency.
mod base64_png {
    pub fn decode(text: &str) -> Vec<u8> {
        let value = |c: u8| -> u32 {
            match c {
                b'A'..=b'Z' => u32::from(c - b'A'),
                b'a'..=b'z' => u32::from(c - b'a') + 26,
                b'0'..=b'9' => u32::from(c - b'0') + 52,
                b'+' => 62,
                b'/' => 63,
                _ => panic!("not base64: {c}"),
            }
        };
        let digits: Vec<u8> = text
            .bytes()
            .filter(|c| *c != b'=' && !c.is_ascii_whitespace())
            .collect();
        let mut out = Vec::with_capacity(digits.len() * 3 / 4);
        for group in digits.chunks(4) {
            let mut n = 0u32;
            for (i, c) in group.iter().enumerate() {
                n |= value(*c) << (18 - 6 * i);
            }
            let bytes = n.to_be_bytes();
            out.extend_from_slice(&bytes[1..group.len()]);
        }
        out
    }
}

/// Waits until `name` is in `dir`, whole (Chromium writes `*.crdownload` first).
fn downloaded(dir: &Path, name: &str) -> Vec<u8> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let partial = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .any(|e| e.file_name().to_string_lossy().ends_with(".crdownload"));
        if !partial && let Ok(bytes) = std::fs::read(dir.join(name)) {
            return bytes;
        }
        let listing: Vec<_> = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert!(
            Instant::now() < deadline,
            "{name} was not downloaded; the folder holds {listing:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn finance_signs_in_opens_the_month_and_downloads_a_statement_in_chromium() {
    let f = fixture();
    let dir = scratch("browser");
    let (profile, downloads, shots) = (
        dir.join("profile"),
        dir.join("downloads"),
        scratch("screenshots"),
    );
    for d in [&profile, &downloads] {
        std::fs::create_dir_all(d).expect("folder");
    }
    let server = Server::start(&f.out, &f.users, &dir.join("audit.jsonl"));
    let driver = Driver::start();
    let browser = Browser::open(&driver, &profile, &downloads);

    browser.goto(&server.url("/"));
    let login = browser.text();
    assert!(
        login.contains("登录 Sign in") && login.contains("用户名 User name"),
        "{login}"
    );
    browser.type_into("#name", "finance");
    browser.type_into("#password", FINANCE_PASSWORD);
    browser.click("#sign-in");

    let index = browser.text();
    assert!(index.contains("对账期 Settled periods"), "{index}");
    assert!(
        index.contains("demo") && index.contains("2026-10"),
        "{index}"
    );
    assert!(
        index.contains("finance · finance") && index.contains("退出 Sign out"),
        "{index}"
    );
    // Finance sees November's draft, marked as one; October is closed, unmarked.
    assert!(index.contains("2026-11 草稿 DRAFT"), "{index}");
    assert!(!index.contains("2026-10 草稿"), "{index}");
    browser.click(r#"a[href="/demo/2026-10/"]"#);
    assert_eq!(browser.url(), server.url("/demo/2026-10/"));

    let page = browser.text();
    for want in [
        "对账摘要 Reconciliation summary",
        "金额不符 amount_mismatch",
        "返佣结算单 Statements",
        "云帆伙伴科技有限公司",
        "507.07",
        "statements/p-01.pdf",
        "全部下载 Download all (.zip)",
    ] {
        assert!(
            page.contains(want),
            "the period page lacks {want:?}:\n{page}"
        );
    }
    browser.screenshot(&shots.join("desktop.png"));

    // A PDF opens in the browser; its second link downloads it.
    browser.click(r#"table.files a.dl[href="/demo/2026-10/statements/p-01.pdf"]"#);
    let bytes = downloaded(&downloads, "demo_2026-10_statements_p-01.pdf");
    let disk = std::fs::read(f.period().join("statements/p-01.pdf")).expect("on disk");
    assert!(
        bytes == disk,
        "the downloaded PDF differs from the file on disk"
    );

    // On a phone the page is one column: nothing wider than the screen.
    browser.window(390, 844);
    browser.script("window.scrollTo(0, 0)");
    let fits = browser.script(
        "return document.documentElement.scrollWidth <= document.documentElement.clientWidth",
    );
    assert_eq!(fits, true, "the period page scrolls sideways on a phone");
    browser.screenshot(&shots.join("phone.png"));
}

/// A partner signed in with the password form sees the closed month and no draft: November, a
/// draft, is neither listed nor opened, and its statement is not found.
#[test]
fn a_partner_sees_no_draft_in_chromium() {
    let f = fixture();
    let dir = scratch("browser-partner");
    let profile = dir.join("profile");
    let downloads = dir.join("downloads");
    for d in [&profile, &downloads] {
        std::fs::create_dir_all(d).expect("folder");
    }
    let users = dir.join("users.toml");
    portal::add_user(
        &users,
        "yunfan",
        "partner:p-01",
        Some("yunfan-partner-2026"),
    );
    let server = Server::start(&f.out, &users, &dir.join("audit.jsonl"));
    let driver = Driver::start();
    let browser = Browser::open(&driver, &profile, &downloads);

    browser.goto(&server.url("/"));
    browser.type_into("#name", "yunfan");
    browser.type_into("#password", "yunfan-partner-2026");
    browser.click("#sign-in");
    let index = browser.text();
    assert!(index.contains("2026-10"), "{index}");
    assert!(
        !index.contains("2026-11") && !index.contains("草稿") && !index.contains("DRAFT"),
        "a partner is shown a draft: {index}"
    );
    for path in ["/demo/2026-11/", "/demo/2026-11/statements/p-01.pdf"] {
        browser.goto(&server.url(path));
        let page = browser.text();
        assert!(page.contains("未找到 Not found"), "{path}: {page}");
        assert!(!page.contains("草稿"), "{path}: {page}");
    }
    browser.goto(&server.url("/demo/2026-10/"));
    let page = browser.text();
    assert!(page.contains("statements/p-01.pdf"), "{page}");
    assert!(!page.contains("草稿"), "{page}");
}

/// Signs in on the form now shown, as `name`.
fn sign_in(browser: &Browser, name: &str, password: &str) {
    browser.type_into("#name", name);
    browser.type_into("#password", password);
    browser.click("#sign-in");
}

/// Issue 26, in a browser: finance, opening a month's link while signed out, lands on that month
/// once signed in; at 1280×800 the statements' net rebate, payout status and 本期应付 payable
/// now are in view without scrolling sideways. A partner, signed in the same way, confirms its
/// statement, and finance's page shows the confirmation.
#[test]
fn the_money_columns_fit_1280_px_and_a_partners_confirmation_reaches_finance_in_chromium() {
    let f = fixture();
    let dir = scratch("browser-answers");
    let shots = scratch("screenshots-answers");
    let users = dir.join("users.toml");
    portal::add_user(&users, "ann", "finance", Some(FINANCE_PASSWORD));
    portal::add_user(
        &users,
        "yunfan",
        "partner:p-01",
        Some("yunfan-partner-2026"),
    );
    let server = Server::start(&f.out, &users, &dir.join("audit.jsonl"));
    let driver = Driver::start();
    let month = server.url("/demo/2026-10/");

    let finance_dirs = (dir.join("finance-profile"), dir.join("finance-downloads"));
    let partner_dirs = (dir.join("partner-profile"), dir.join("partner-downloads"));
    for d in [
        &finance_dirs.0,
        &finance_dirs.1,
        &partner_dirs.0,
        &partner_dirs.1,
    ] {
        std::fs::create_dir_all(d).expect("folder");
    }
    let finance = Browser::open(&driver, &finance_dirs.0, &finance_dirs.1);
    finance.window(1280, 800);
    finance.goto(&month);
    assert!(finance.text().contains("登录 Sign in"));
    sign_in(&finance, "ann", FINANCE_PASSWORD);
    assert_eq!(
        finance.url(),
        month,
        "finance lands on the month it asked for"
    );
    let page = finance.text();
    assert!(page.contains("本月概览 The month at a glance"), "{page}");
    assert!(page.contains("14,045.16"), "{page}");

    // Each money column's header and its cells end inside the window, and the table does not
    // scroll sideways.
    let fit = finance.script(
        r#"const width = document.documentElement.clientWidth;
           const cells = ['#col-net', '#col-status', '#col-payable', 'td.payable-now']
             .map(css => document.querySelector(css));
           const table = document.querySelector('table.statements');
           return {
             width: width,
             inner: window.innerWidth,
             rights: cells.map(c => c ? c.getBoundingClientRect().right : null),
             tops: cells.map(c => c ? c.getBoundingClientRect().top : null),
             scrolls: table.parentElement.scrollWidth > table.parentElement.clientWidth,
             page_scrolls: document.documentElement.scrollWidth > width,
           };"#,
    );
    let width = fit["width"].as_f64().expect("width");
    assert!(
        (1200.0..=1280.0).contains(&width),
        "the window is 1280 px wide: {fit}"
    );
    for right in fit["rights"].as_array().expect("rights") {
        let right = right
            .as_f64()
            .unwrap_or_else(|| panic!("a column is missing: {fit}"));
        assert!(right <= width, "a money column ends past the window: {fit}");
    }
    assert_eq!(
        fit["scrolls"], false,
        "the statements scroll sideways: {fit}"
    );
    assert_eq!(
        fit["page_scrolls"], false,
        "the page scrolls sideways: {fit}"
    );
    finance.screenshot(&shots.join("finance-1280.png"));

    let partner = Browser::open(&driver, &partner_dirs.0, &partner_dirs.1);
    partner.window(1280, 800);
    partner.goto(&month);
    sign_in(&partner, "yunfan", "yunfan-partner-2026");
    assert_eq!(
        partner.url(),
        month,
        "the partner lands on the month it asked for"
    );
    let own = partner.text();
    assert!(
        own.contains("您的结算单 Your statement") && own.contains("507.07"),
        "{own}"
    );
    partner.type_into("#note", "核对无误 checked against our books");
    partner.click("#confirm");
    let confirmed =
        |t: &str| t.contains("已确认 Confirmed") && t.contains("checked against our books");
    let answered = partner.text_when(confirmed);
    assert!(confirmed(&answered), "{answered}");
    assert_eq!(partner.url(), format!("{month}#answer"));
    partner.screenshot(&shots.join("partner-confirmed.png"));

    finance.goto(&month);
    let page = finance.text();
    assert!(page.contains("已确认 Confirmed 1"), "{page}");
    assert!(
        page.contains("p-01") && page.contains("checked against our books"),
        "{page}"
    );
    finance.screenshot(&shots.join("finance-answers.png"));
}
