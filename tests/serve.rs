//! The finance portal, end to end: the real `settle run` settles the demo month into a temporary
//! `DIR`, `settle users add` makes the users, and `settle serve --bind 127.0.0.1:0` serves them.
//! Every scope, the 401 and 404 rules, traversal attempts, the zip, the audit log, download names
//! and the security headers are checked over raw HTTP.

mod portal;

use std::io::Read;
use std::process::Command;

use portal::{BIN, FINANCE_PASSWORD, Response, Server, fixture, form, request, scratch};
use sha2::{Digest, Sha256};

fn server(name: &str) -> Server {
    let f = fixture();
    Server::start(&f.out, &f.users, &scratch(name).join("audit.jsonl"))
}

fn hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn assert_security_headers(r: &Response, what: &str) {
    let csp = r.header("content-security-policy").unwrap_or_default();
    assert!(csp.contains("default-src 'none'"), "{what}: CSP {csp:?}");
    assert_eq!(
        r.header("x-content-type-options"),
        Some("nosniff"),
        "{what}"
    );
    assert_eq!(
        r.header("cache-control"),
        Some("private, no-store"),
        "{what}"
    );
    assert_eq!(r.header("x-frame-options"), Some("DENY"), "{what}");
    assert_eq!(r.header("referrer-policy"), Some("no-referrer"), "{what}");
}

/// The invoice rows a partner should get: the header and its own rows, byte for byte (`issuer`
/// is the fourth column, after `document_no`, `source` and `reference`).
fn own_invoices(disk: &[u8], issuer: &str) -> Vec<u8> {
    let text = std::str::from_utf8(disk).expect("utf-8");
    let mut lines = text.split_inclusive('\n');
    let mut out = lines.next().expect("header").to_string();
    for line in lines {
        if line.split(',').nth(3) == Some(issuer) {
            out.push_str(line);
        }
    }
    out.into_bytes()
}

#[test]
fn without_credentials_every_page_and_file_is_401() {
    let s = server("no-credentials");
    let f = fixture();
    for target in [
        "/",
        "/demo/2026-10/",
        "/demo/2026-10/statements/p-01.pdf",
        "/demo/2026-10.zip",
        "/demo/2026-10/../../../etc/passwd",
        "/no-such-dataset/2026-10/x.csv",
    ] {
        for auth in [None, Some("Bearer not-a-token"), Some("Basic Zm9vOmJhcg==")] {
            let r = s.get(target, auth);
            assert_eq!(r.status, 401, "{target} with {auth:?}");
            assert_eq!(
                r.header("www-authenticate"),
                Some("Bearer realm=\"settle\"")
            );
            assert!(r.text().contains("登录 <span class=\"en\">Sign in</span>"));
            assert_security_headers(&r, target);
        }
    }
    // A cookie that is no session is no credential, and a wrong token is not rescued by a cookie.
    let r = request(
        s.addr,
        "GET",
        "/",
        &[("Cookie", "settle_session=0123")],
        b"",
    );
    assert_eq!(r.status, 401);
    // The login form and its stylesheet need none.
    assert_eq!(s.get("/login", None).status, 200);
    let css = s.get("/style.css", None);
    assert_eq!(css.status, 200);
    assert_eq!(css.header("content-type"), Some("text/css; charset=utf-8"));
    assert_security_headers(&css, "/style.css");
    // A token is a credential only as a bearer token.
    let raw = format!("Token {}", f.token("finance"));
    assert_eq!(s.get("/", Some(&raw)).status, 401);
}

#[test]
fn finance_sees_every_period_and_downloads_every_file_byte_identical() {
    let s = server("finance");
    let f = fixture();
    let auth = f.bearer("finance");
    let index = s.get("/", Some(&auth));
    assert_eq!(index.status, 200);
    assert_security_headers(&index, "/");
    let text = index.text();
    assert!(text.contains(r#"href="/demo/2026-10/""#), "{text}");
    assert!(
        text.contains(r#"href="/%E5%8D%8E%E4%B8%9C/2026-10/""#),
        "{text}"
    );
    assert!(text.contains("对账期"), "{text}");

    let page = s.get("/demo/2026-10/", Some(&auth));
    assert_eq!(page.status, 200);
    let page = page.text();
    // The reconciliation summary from the manifest, and the statements table.
    assert!(page.contains("对账摘要 <span class=\"en\">Reconciliation summary</span>"));
    assert!(
        page.contains("amount_mismatch") && page.contains("-51.35"),
        "{page}"
    );
    assert!(
        page.contains("云帆伙伴科技有限公司") && page.contains("507.07"),
        "{page}"
    );
    assert!(page.contains("withheld_arrears"), "{page}");

    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(f.period().join("manifest.json")).expect("manifest"))
            .expect("json");
    let on_disk = portal::files(&f.period());
    assert!(on_disk.len() > 10, "{:?}", on_disk.keys());
    // The inputs the month of record keeps are every partner's: nobody downloads them.
    assert!(f.period().join("inputs/bills.csv.gz").is_file());
    let r = s.get("/demo/2026-10/inputs/bills.csv.gz", Some(&auth));
    assert_eq!(r.status, 404);
    for (path, bytes) in &on_disk {
        let r = s.get(&format!("/demo/2026-10/{path}"), Some(&auth));
        assert_eq!(r.status, 200, "{path}");
        assert!(
            &r.body == bytes,
            "{path}: the download differs from the file on disk"
        );
        let want_type = match path.rsplit('.').next() {
            Some("pdf") => "application/pdf",
            Some("csv") => "text/csv; charset=utf-8",
            Some("json") => "application/json",
            Some("xlsx") => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            other => panic!("unexpected file {path} ({other:?})"),
        };
        assert_eq!(r.header("content-type"), Some(want_type), "{path}");
        assert_security_headers(&r, path);
        // The period page lists it, with its size and digest.
        assert!(
            page.contains(&format!(r#"href="/demo/2026-10/{path}""#)),
            "{path} not listed"
        );
        assert!(page.contains(&hex(bytes)), "{path}: digest not listed");
    }
    for o in manifest["outputs"].as_array().expect("outputs") {
        let file = o["file"].as_str().expect("file");
        assert!(on_disk.contains_key(file), "{file}");
    }
    // A period folder without its slash redirects to it.
    let r = s.get("/demo/2026-10", Some(&auth));
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), Some("/demo/2026-10/"));
}

#[test]
fn a_partner_gets_its_own_statement_and_invoice_rows_and_404_for_everything_else() {
    let s = server("partner");
    let f = fixture();
    let auth = f.bearer("p01");
    let disk = |p: &str| std::fs::read(f.period().join(p)).expect("on disk");

    let pdf = s.get("/demo/2026-10/statements/p-01.pdf", Some(&auth));
    assert_eq!(pdf.status, 200);
    assert!(
        pdf.body == disk("statements/p-01.pdf"),
        "p-01.pdf differs from the file on disk"
    );
    assert_eq!(pdf.header("content-type"), Some("application/pdf"));
    // A PDF opens in the browser, under the name it is saved as.
    assert_eq!(
        pdf.header("content-disposition"),
        Some(
            "inline; filename=\"demo_2026-10_statements_p-01.pdf\"; \
             filename*=UTF-8''demo_2026-10_statements_p-01.pdf"
        )
    );
    let csv = s.get("/demo/2026-10/statements/p-01.csv", Some(&auth));
    assert_eq!(
        (csv.status, csv.body.clone()),
        (200, disk("statements/p-01.csv"))
    );

    let invoices = s.get("/demo/2026-10/invoices.csv", Some(&auth));
    assert_eq!(invoices.status, 200);
    let want = own_invoices(&disk("invoices.csv"), "partner:p-01");
    assert!(
        want.starts_with("\u{feff}document_no,source,".as_bytes()),
        "BOM and header kept"
    );
    assert_eq!(
        String::from_utf8_lossy(&invoices.body),
        String::from_utf8_lossy(&want)
    );
    assert!(
        want.split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .count()
            >= 3
    );
    assert!(!invoices.text().contains("partner:p-02") && !invoices.text().contains(",cloud,"));

    for hidden in [
        "statements/p-02.pdf",
        "statements/p-02.csv",
        "statements/p-03.pdf",
        "statements/missing.pdf",
        "statements.csv",
        "reconciliation.pdf",
        "reconciliation.csv",
        "invoices.pdf",
        "invoices_summary.csv",
        "consumption.csv",
        "rejects.csv",
        "rollups.csv",
        "rollups/acc-1006.pdf",
        "manifest.json",
    ] {
        let r = s.get(&format!("/demo/2026-10/{hidden}"), Some(&auth));
        assert_eq!(r.status, 404, "{hidden}");
        assert_security_headers(&r, hidden);
    }
    // Another partner's 404 reads exactly like a file that does not exist.
    let theirs = s.get("/demo/2026-10/statements/p-02.pdf", Some(&auth)).body;
    let nobody = s.get("/demo/2026-10/statements/p-99.pdf", Some(&auth)).body;
    assert_eq!(theirs, nobody);

    let page = s.get("/demo/2026-10/", Some(&auth)).text();
    assert!(
        page.contains("statements/p-01.pdf") && page.contains("invoices.csv"),
        "{page}"
    );
    for secret in [
        "p-02",
        "p-03",
        "reconciliation",
        "深蓝数科",
        "对账摘要",
        "acc-1006.pdf",
    ] {
        assert!(!page.contains(secret), "the partner's page shows {secret}");
    }
    // p-02 sees its own and not p-01's.
    let p02 = f.bearer("p02");
    assert_eq!(
        s.get("/demo/2026-10/statements/p-02.pdf", Some(&p02))
            .status,
        200
    );
    assert_eq!(
        s.get("/demo/2026-10/statements/p-01.pdf", Some(&p02))
            .status,
        404
    );
}

#[test]
fn a_master_gets_its_rollups_only() {
    let s = server("master");
    let f = fixture();
    let auth = f.bearer("master");
    let r = s.get("/demo/2026-10/rollups/acc-1006.pdf", Some(&auth));
    assert_eq!(r.status, 200);
    assert!(r.body == std::fs::read(f.period().join("rollups/acc-1006.pdf")).expect("on disk"));
    assert_eq!(
        s.get("/demo/2026-10/rollups/acc-1006.csv", Some(&auth))
            .status,
        200
    );
    for hidden in [
        "statements/p-01.pdf",
        "invoices.csv",
        "rollups.csv",
        "manifest.json",
    ] {
        assert_eq!(
            s.get(&format!("/demo/2026-10/{hidden}"), Some(&auth))
                .status,
            404,
            "{hidden}"
        );
    }
}

#[test]
fn traversal_attempts_are_404_for_every_scope() {
    let s = server("traversal");
    let f = fixture();
    let attempts = [
        "/demo/2026-10/../../users.toml",
        "/demo/2026-10/statements/../../../users.toml",
        "/demo/2026-10/statements/../statements/p-02.pdf",
        "/demo/2026-10/%2e%2e/%2e%2e/users.toml",
        "/demo/2026-10/%2E%2E%2F%2E%2E%2Fusers.toml",
        "/demo/2026-10/statements%2f..%2fstatements.csv",
        "/demo/2026-10/%252e%252e/%252e%252e/users.toml",
        "/demo/2026-10/statements%252fp-02.pdf",
        "/demo/2026-10/..%5c..%5cusers.toml",
        "/demo/2026-10/statements%5cp-02.pdf",
        "/demo/2026-10/statements/p-01.pdf%00.csv",
        "/demo/2026-10/%00",
        "/demo/2026-10//etc/passwd",
        "/demo/2026-10/%2fetc%2fpasswd",
        "//etc/passwd",
        "/%2e%2e/users.toml",
        "/demo/%2e%2e/users.toml",
        "/demo/.2026-10.tmp-1/manifest.json",
        "/./demo/2026-10/statements.csv",
        "/demo/2026-10/./statements.csv",
        "/demo/2026-10/statements.csv/",
        "/demo/2026-10/statements/",
        "/users.toml",
        "/demo/2026-10/file:///etc/passwd",
    ];
    for user in ["finance", "p01"] {
        let auth = f.bearer(user);
        for target in attempts {
            let r = s.get(target, Some(&auth));
            assert_eq!(
                r.status,
                404,
                "{user} {target}: {}",
                String::from_utf8_lossy(&r.body)
            );
            assert!(!r.text().contains("token_sha256"), "{target}");
        }
        // Neither an absolute URI nor raw backslashes on the request line are a way out.
        for target in [
            "http://127.0.0.1/../../users.toml",
            "/demo/2026-10/..\\..\\users.toml",
            "/demo/2026-10/statements\\p-02.pdf",
            "*",
        ] {
            assert_eq!(s.get(target, Some(&auth)).status, 404, "{user} {target}");
        }
    }
}

#[test]
fn symlinks_out_of_dir_staging_folders_and_unsettled_periods_are_not_served() {
    let f = fixture();
    let dir = scratch("symlinks");
    let out = dir.join("out");
    portal::copy_dir(&f.out.join("demo"), &out.join("demo"));
    let outside = dir.join("outside");
    std::fs::create_dir_all(&outside).expect("folder");
    std::fs::write(outside.join("secret.pdf"), b"%PDF secret").expect("written");
    let period = out.join("demo").join("2026-10");
    // p-01's statement replaced by a symlink that leads out of DIR.
    std::fs::remove_file(period.join("statements/p-01.pdf")).expect("removed");
    std::os::unix::fs::symlink(
        outside.join("secret.pdf"),
        period.join("statements/p-01.pdf"),
    )
    .expect("symlink");
    // p-02's statement replaced by a symlink that stays inside DIR: still served.
    std::fs::remove_file(period.join("statements/p-02.pdf")).expect("removed");
    std::os::unix::fs::symlink("p-03.pdf", period.join("statements/p-02.pdf")).expect("symlink");
    // A dataset that is a symlink to a settled period outside DIR.
    portal::copy_dir(&f.out.join("demo"), &outside.join("elsewhere"));
    std::os::unix::fs::symlink(outside.join("elsewhere"), out.join("linked")).expect("symlink");
    // A staging folder and a month without its manifest.
    portal::copy_dir(&period, &out.join("demo").join(".2026-11.tmp-4242"));
    portal::copy_dir(&period, &out.join("demo").join("2026-09"));
    std::fs::remove_file(out.join("demo/2026-09/manifest.json")).expect("removed");
    // An older settled month, listed after the newer one.
    portal::copy_dir(&f.period(), &out.join("demo").join("2026-08"));
    // A restatement's folder (`<period>-r<n>`), which this portal does not serve yet: skipped.
    portal::copy_dir(&f.period(), &out.join("demo").join("2026-10-r1"));

    let s = Server::start(&out, &f.users, &dir.join("audit.jsonl"));
    let auth = f.bearer("finance");
    assert_eq!(
        s.get("/demo/2026-10/statements/p-01.pdf", Some(&auth))
            .status,
        404
    );
    let p02 = s.get("/demo/2026-10/statements/p-02.pdf", Some(&auth));
    assert_eq!(p02.status, 200);
    assert!(p02.body == std::fs::read(period.join("statements/p-03.pdf")).expect("p-03"));
    let p01 = f.bearer("p01");
    assert_eq!(
        s.get("/demo/2026-10/statements/p-01.pdf", Some(&p01))
            .status,
        404
    );
    for target in [
        "/linked/2026-10/",
        "/linked/2026-10/statements.csv",
        "/demo/.2026-11.tmp-4242/",
        "/demo/.2026-11.tmp-4242/statements.csv",
        "/demo/2026-09/",
        "/demo/2026-09/statements.csv",
        "/demo/2026-10-r1/",
        "/demo/2026-10-r1/statements.csv",
    ] {
        assert_eq!(s.get(target, Some(&auth)).status, 404, "{target}");
    }
    let index = s.get("/", Some(&auth)).text();
    let (newer, older) = (index.find("/demo/2026-10/"), index.find("/demo/2026-08/"));
    assert!(
        newer.is_some() && older.is_some() && newer < older,
        "newest first: {index}"
    );
    for hidden in ["linked", "tmp-4242", "2026-09", "2026-10-r1"] {
        assert!(!index.contains(hidden), "the index lists {hidden}");
    }
    // The zip leaves the escaping symlink out.
    let zip = s.get("/demo/2026-10.zip", Some(&auth));
    let names = zip_entries(&zip.body).into_keys().collect::<Vec<_>>();
    assert!(
        !names.contains(&"demo/2026-10/statements/p-01.pdf".to_string()),
        "{names:?}"
    );
    assert!(
        names.contains(&"demo/2026-10/statements/p-02.pdf".to_string()),
        "{names:?}"
    );
}

fn zip_entries(bytes: &[u8]) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip");
    let mut out = std::collections::BTreeMap::new();
    for i in 0..archive.len() {
        let mut file = archive.by_index(i).expect("entry");
        let mut data = Vec::new();
        file.read_to_end(&mut data).expect("entry read");
        out.insert(file.name().expect("a UTF-8 name").to_string(), data);
    }
    out
}

#[test]
fn the_zip_holds_what_the_user_may_see_and_the_audit_log_records_each_download() {
    let s = server("zip");
    let f = fixture();
    // HEAD says what a download would be, and is none.
    let head = request(
        s.addr,
        "HEAD",
        "/demo/2026-10/statements/p-01.csv",
        &[("Authorization", &f.bearer("p01"))],
        b"",
    );
    assert_eq!(head.status, 200);
    let csv_len = std::fs::metadata(f.period().join("statements/p-01.csv"))
        .expect("meta")
        .len();
    assert_eq!(
        head.header("content-length"),
        Some(csv_len.to_string().as_str())
    );

    let zip = s.get("/demo/2026-10.zip", Some(&f.bearer("finance")));
    assert_eq!(zip.status, 200);
    assert_eq!(zip.header("content-type"), Some("application/zip"));
    assert_eq!(
        zip.header("content-disposition"),
        Some("attachment; filename=\"demo_2026-10.zip\"; filename*=UTF-8''demo_2026-10.zip")
    );
    let entries = zip_entries(&zip.body);
    let on_disk = portal::files(&f.period());
    assert_eq!(
        entries.keys().cloned().collect::<Vec<_>>(),
        on_disk
            .keys()
            .map(|k| format!("demo/2026-10/{k}"))
            .collect::<Vec<_>>()
    );
    for (path, bytes) in &on_disk {
        assert!(
            entries[&format!("demo/2026-10/{path}")] == *bytes,
            "{path} differs in the zip"
        );
    }
    // The same files give the same zip.
    assert!(s.get("/demo/2026-10.zip", Some(&f.bearer("finance"))).body == zip.body);

    let partner = s.get("/demo/2026-10.zip", Some(&f.bearer("p01")));
    assert_eq!(partner.status, 200);
    let entries = zip_entries(&partner.body);
    assert_eq!(
        entries.keys().map(String::as_str).collect::<Vec<_>>(),
        [
            "demo/2026-10/invoices.csv",
            "demo/2026-10/statements/p-01.csv",
            "demo/2026-10/statements/p-01.pdf",
            "demo/2026-10/statements/p-01.xlsx"
        ]
    );
    assert_eq!(
        entries["demo/2026-10/invoices.csv"],
        own_invoices(&on_disk["invoices.csv"], "partner:p-01")
    );
    assert_eq!(
        s.get("/demo/2026-11.zip", Some(&f.bearer("p01"))).status,
        404
    );
    assert_eq!(
        s.get("/nope/2026-10.zip", Some(&f.bearer("finance")))
            .status,
        404
    );

    let pdf = s.get("/demo/2026-10/statements/p-01.pdf", Some(&f.bearer("p01")));
    let invoices = s.get("/demo/2026-10/invoices.csv", Some(&f.bearer("p01")));
    // A line is appended once its transfer has been handed over, which may be just after the
    // client has read the last byte: wait for all five, and the two refusals' lines.
    let log = wait_for_lines(&s.audit, 7);
    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), 7, "{log}");
    assert_eq!(
        lines.iter().filter(|l| l["status"] == 404).count(),
        2,
        "{log}"
    );
    let find = |user: &str, path: &str| {
        lines
            .iter()
            .find(|l| l["user"] == user && l["path"] == path)
            .unwrap_or_else(|| panic!("no line for {user} {path}: {log}"))
    };
    let zip_line = find("finance", "demo/2026-10.zip");
    assert_eq!(zip_line["scope"], "finance");
    assert_eq!(zip_line["bytes"], zip.body.len());
    assert_eq!(zip_line["sha256"], hex(&zip.body));
    assert_eq!(zip_line["complete"], true);
    assert_eq!(
        zip_line["files"].as_array().expect("files").len(),
        on_disk.len()
    );
    let pdf_line = find("p01", "demo/2026-10/statements/p-01.pdf");
    assert_eq!(pdf_line["scope"], "partner:p-01");
    assert_eq!(pdf_line["bytes"], pdf.body.len());
    assert_eq!(pdf_line["sha256"], hex(&pdf.body));
    assert_eq!(pdf_line["client"], "127.0.0.1");
    assert!(pdf_line.get("files").is_none());
    let time = pdf_line["time"].as_str().expect("time");
    assert!(time.len() == 20 && time.ends_with('Z'), "{time}");
    let inv_line = find("p01", "demo/2026-10/invoices.csv");
    assert_eq!(inv_line["sha256"], hex(&invoices.body));
    assert!(
        lines
            .iter()
            .all(|l| l["path"] != "demo/2026-10/statements/p-01.csv"),
        "HEAD is no download: {log}"
    );
}

fn wait_for_lines(path: &std::path::Path, n: usize) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let log = std::fs::read_to_string(path).unwrap_or_default();
        if log.lines().count() >= n || std::time::Instant::now() > deadline {
            return log;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn chinese_dataset_names_survive_in_links_and_download_names() {
    let s = server("chinese");
    let f = fixture();
    let r = s.get(
        "/%E5%8D%8E%E4%B8%9C/2026-10/statements/p-01.csv",
        Some(&f.bearer("p01")),
    );
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-disposition"),
        Some(
            "attachment; filename=\"___2026-10_statements_p-01.csv\"; \
             filename*=UTF-8''%E5%8D%8E%E4%B8%9C_2026-10_statements_p-01.csv"
        )
    );
    let page = s.get("/%E5%8D%8E%E4%B8%9C/2026-10/", Some(&f.bearer("finance")));
    assert_eq!(page.status, 200);
    assert!(
        page.text().contains("<h1>华东 · 2026-10"),
        "{}",
        page.text()
    );
    // CSVs only in this period: no PDF is listed, and none is served.
    assert_eq!(
        s.get(
            "/%E5%8D%8E%E4%B8%9C/2026-10/statements/p-01.pdf",
            Some(&f.bearer("p01"))
        )
        .status,
        404
    );
}

#[test]
fn the_login_form_sets_a_strict_http_only_cookie_and_is_rate_limited() {
    let s = server("login");
    let post = |body: &str, extra: &[(&str, &str)]| {
        let mut headers = vec![("Content-Type", "application/x-www-form-urlencoded")];
        headers.extend_from_slice(extra);
        request(s.addr, "POST", "/login", &headers, body.as_bytes())
    };
    let good = form(&[("name", "finance"), ("password", FINANCE_PASSWORD)]);
    let r = post(&good, &[]);
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(r.header("location"), Some("/"));
    assert_security_headers(&r, "POST /login");
    let cookie = r.header("set-cookie").expect("a cookie").to_string();
    assert!(cookie.starts_with("settle_session="), "{cookie}");
    assert!(
        cookie.contains("; HttpOnly") && cookie.contains("; SameSite=Strict"),
        "{cookie}"
    );
    assert!(
        !cookie.contains("Secure"),
        "plain HTTP gets no Secure cookie: {cookie}"
    );
    let session = cookie.split(';').next().expect("pair").to_string();
    let index = request(s.addr, "GET", "/", &[("Cookie", &session)], b"");
    assert_eq!(index.status, 200);
    assert!(index.text().contains("退出 Sign out"));
    // Behind a TLS proxy the cookie is Secure.
    let r = post(&good, &[("X-Forwarded-Proto", "https")]);
    assert!(r.header("set-cookie").expect("cookie").contains("; Secure"));
    // Sign out ends the session.
    let r = request(s.addr, "POST", "/logout", &[("Cookie", &session)], b"");
    assert_eq!(r.status, 303);
    assert!(
        r.header("set-cookie")
            .expect("cookie")
            .contains("Max-Age=0")
    );
    assert_eq!(
        request(s.addr, "GET", "/", &[("Cookie", &session)], b"").status,
        401
    );

    // Partners have no password here: a token-only user cannot sign in with the form.
    let r = post(
        &form(&[("name", "p01"), ("password", FINANCE_PASSWORD)]),
        &[],
    );
    assert_eq!(r.status, 401);
    // Five wrong passwords from one client, then 429 even for the right one; others go on.
    let attacker = [("X-Forwarded-For", "203.0.113.7")];
    let wrong = form(&[("name", "finance"), ("password", "guess")]);
    for _ in 0..5 {
        let r = post(&wrong, &attacker);
        assert_eq!(r.status, 401);
        assert!(r.text().contains("用户名或密码错误"));
    }
    let r = post(&good, &attacker);
    assert_eq!(r.status, 429, "{}", r.text());
    assert!(r.header("retry-after").is_some());
    assert!(r.header("set-cookie").is_none());
    assert_eq!(
        post(&good, &[("X-Forwarded-For", "203.0.113.8")]).status,
        303
    );
}

#[test]
fn a_users_file_that_does_not_parse_or_names_an_unknown_scope_stops_serve_with_exit_2() {
    let f = fixture();
    let dir = scratch("bad-users");
    let sha = "a".repeat(64);
    for (body, want) in [
        (
            format!("[[user]]\nname = \"ops\"\nscope = \"admin\"\ntoken_sha256 = \"{sha}\"\n"),
            "user `ops` has the unknown scope `admin`",
        ),
        (
            "[[user]]\nname = \"ops\"\nscope = \"finance\"\n".to_string(),
            "does not parse",
        ),
        ("not toml at all [".to_string(), "does not parse"),
        (String::new(), "has no users"),
    ] {
        let users = dir.join("users.toml");
        std::fs::write(&users, &body).expect("written");
        let out = Command::new(BIN)
            .args(["serve", "--bind", "127.0.0.1:0", "--out"])
            .arg(&f.out)
            .arg("--users")
            .arg(&users)
            .output()
            .expect("settle serve runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{body}: {stderr}");
        assert!(
            stderr.contains(&format!("`{}`", users.display())),
            "{stderr}"
        );
        assert!(
            stderr.contains(want) && stderr.contains("\nhint: "),
            "{stderr}"
        );
    }
    // `users add` refuses an unknown scope and a name that is taken, with exit 2.
    let users = dir.join("fresh.toml");
    portal::add_user(&users, "ops", "finance", None);
    for (name, scope, want) in [
        ("ops", "finance", "user `ops` is already in"),
        ("eve", "root", "the scope `root` is unknown"),
    ] {
        let out = Command::new(BIN)
            .args(["users", "add", name, "--scope", scope, "--users"])
            .arg(&users)
            .output()
            .expect("runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains(want) && stderr.contains("hint: "),
            "{stderr}"
        );
        assert!(out.stdout.is_empty(), "no token is printed on failure");
    }
    let text = std::fs::read_to_string(&users).expect("users file");
    assert!(
        !text.contains("eve") && text.matches("[[user]]").count() == 1,
        "{text}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&users)
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(
            mode & 0o077,
            0,
            "the users file is the owner's only: {mode:o}"
        );
    }
}

/// Issue 29: `settle users add … > /dev/full` kept the user and exited 0, though the token, shown
/// only once, was written nowhere.
#[cfg(target_os = "linux")]
#[test]
fn users_add_to_dev_full_fails_and_keeps_no_user() {
    let dir = scratch("users-dev-full");
    let users = dir.join("users.toml");
    portal::add_user(&users, "ann", "finance", None);
    let before = std::fs::read_to_string(&users).expect("users file");
    for password in [false, true] {
        let mut cmd = Command::new(BIN);
        cmd.args(["users", "add", "bob", "--scope", "partner:p-01", "--users"])
            .arg(&users)
            .stdout(std::fs::File::create("/dev/full").expect("/dev/full"))
            .stdin(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        if password {
            cmd.arg("--password-stdin");
        }
        let mut child = cmd.spawn().expect("runs");
        if password {
            use std::io::Write;
            let mut stdin = child.stdin.take().expect("stdin");
            writeln!(stdin, "a long password").expect("written");
        }
        drop(child.stdin.take());
        let out = child.wait_with_output().expect("ends");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains("cannot write the new token") && stderr.contains("hint: "),
            "{stderr}"
        );
        assert_eq!(
            std::fs::read_to_string(&users).expect("users file"),
            before,
            "no user was added"
        );
    }
}

fn users_cmd(args: &[&str], users: &std::path::Path, stdin: Option<&str>) -> std::process::Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = Command::new(BIN)
        .arg("users")
        .args(args)
        .arg("--users")
        .arg(users)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    let mut input = child.stdin.take().expect("stdin");
    if let Some(text) = stdin {
        writeln!(input, "{text}").expect("written");
    }
    drop(input);
    child.wait_with_output().expect("ends")
}

#[test]
fn users_remove_passwd_and_list_edit_the_file_and_keep_its_comments() {
    let dir = scratch("users-edit");
    let users = dir.join("users.toml");
    std::fs::write(&users, "# the portal's users\n\n").expect("written");
    portal::add_user(&users, "ann", "finance", None);
    portal::add_user(&users, "bob", "partner:p-01", None);
    portal::add_user(&users, "cy", "master:acc-1006", None);
    let text = std::fs::read_to_string(&users).expect("users");
    std::fs::write(
        &users,
        text.replace(
            "[[user]]\nname = \"bob\"",
            "# bob, yunfan's accountant\n[[user]]\nname = \"bob\"",
        ),
    )
    .expect("written");

    let out = users_cmd(&["passwd", "ann"], &users, Some("a long password"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = users_cmd(&["passwd", "ann"], &users, Some("short"));
    assert_eq!(out.status.code(), Some(2));
    let out = users_cmd(&["remove", "bob"], &users, None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = users_cmd(&["remove", "bob"], &users, None);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("there is no user `bob`"));

    let text = std::fs::read_to_string(&users).expect("users");
    assert!(text.starts_with("# the portal's users\n"), "{text}");
    assert!(!text.contains("bob"), "{text}");
    assert_eq!(
        text.matches("password_hash = \"$argon2id$").count(),
        1,
        "{text}"
    );

    let out = users_cmd(&["list"], &users, None);
    assert!(out.status.success());
    let list = String::from_utf8(out.stdout).expect("utf-8");
    assert_eq!(
        list,
        "ann\tfinance\ttoken, password\ncy\tmaster:acc-1006\ttoken\n"
    );
    assert!(
        !list.contains("$argon2") && !list.split_whitespace().any(|w| w.len() == 64),
        "no secret nor digest is listed: {list}"
    );
}

/// Issue 29: revoking a partner meant editing TOML and restarting the portal.
#[test]
fn a_removed_user_gets_401_without_a_restart() {
    let f = fixture();
    let dir = scratch("users-revoke");
    let users = dir.join("users.toml");
    let finance = portal::add_user(&users, "fin", "finance", Some(FINANCE_PASSWORD));
    let partner = portal::add_user(&users, "yunfan", "partner:p-01", None);
    let s = Server::start(&f.out, &users, &dir.join("audit.jsonl"));
    let bearer = |t: &str| format!("Bearer {t}");
    assert_eq!(s.get("/", Some(&bearer(&partner))).status, 200);
    // A browser session of finance, to be ended by a new password.
    let r = request(
        s.addr,
        "POST",
        "/login",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        form(&[("name", "fin"), ("password", FINANCE_PASSWORD)]).as_bytes(),
    );
    assert_eq!(r.status, 303);
    let session = r
        .header("set-cookie")
        .expect("cookie")
        .split(';')
        .next()
        .expect("pair")
        .to_string();
    assert_eq!(
        request(s.addr, "GET", "/", &[("Cookie", &session)], b"").status,
        200
    );

    let out = users_cmd(&["remove", "yunfan"], &users, None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(s.get("/", Some(&bearer(&partner))).status, 401);
    assert_eq!(
        s.get("/demo/2026-10/statements/p-01.pdf", Some(&bearer(&partner)))
            .status,
        401
    );
    assert_eq!(s.get("/", Some(&bearer(&finance))).status, 200);

    let out = users_cmd(&["passwd", "fin"], &users, Some("another long password"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        request(s.addr, "GET", "/", &[("Cookie", &session)], b"").status,
        401
    );
    assert_eq!(
        s.get("/", Some(&bearer(&finance))).status,
        200,
        "the token is kept"
    );

    // A user added while it runs can sign in at once; SIGHUP reads the file again too.
    let added = portal::add_user(&users, "new", "partner:p-02", None);
    assert_eq!(s.get("/", Some(&bearer(&added))).status, 200);
    #[cfg(unix)]
    {
        let kill = Command::new("kill")
            .args(["-HUP", &s.pid().to_string()])
            .status()
            .expect("kill");
        assert!(kill.success());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while !s.log().contains("read `") && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        assert_eq!(s.get("/", Some(&bearer(&added))).status, 200, "{}", s.log());
    }
}

/// Reads from `stream` until the server closes it; `None` if it is still open at `bound`.
fn closed_within(stream: &mut std::net::TcpStream, bound: std::time::Duration) -> Option<Vec<u8>> {
    let start = std::time::Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while start.elapsed() < bound {
        stream
            .set_read_timeout(Some(std::time::Duration::from_millis(250)))
            .expect("timeout");
        match stream.read(&mut buf) {
            Ok(0) => return Some(got),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return Some(got),
        }
    }
    None
}

/// Issue 29: connections that sent nothing were never closed, and 300 of them under `ulimit -n
/// 256` made real requests time out.
#[test]
fn idle_connections_that_send_no_request_are_closed() {
    use std::io::Write;
    use std::net::TcpStream;
    use std::time::{Duration, Instant};
    let f = fixture();
    let dir = scratch("idle");
    let s = Server::start_with(
        &f.out,
        &f.users,
        &dir.join("audit.jsonl"),
        &["--header-timeout", "0.5"],
    );
    // One that sends nothing, one that stops in the middle of its head.
    let mut silent = TcpStream::connect(s.addr).expect("connects");
    let mut half = TcpStream::connect(s.addr).expect("connects");
    half.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n")
        .expect("half a head");
    let started = Instant::now();
    // Generous bounds: the machine may be busy; what matters is that they end at all.
    for (what, stream) in [("silent", &mut silent), ("half a head", &mut half)] {
        assert!(
            closed_within(stream, Duration::from_secs(30)).is_some(),
            "{what}: still open after 30 s"
        );
    }
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "closed before the timeout: {:?}",
        started.elapsed()
    );
    // A real request still gets its answer, and a keep-alive connection left idle is closed.
    let auth = f.bearer("finance");
    assert_eq!(s.get("/", Some(&auth)).status, 200);
    let mut kept = TcpStream::connect(s.addr).expect("connects");
    write!(kept, "GET /login HTTP/1.1\r\nHost: {}\r\n\r\n", s.addr).expect("request");
    let answer = closed_within(&mut kept, Duration::from_secs(30)).expect("closed");
    assert!(
        answer.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&answer)
    );

    // The default is 30 s; a bad value is refused.
    let out = Command::new(BIN)
        .args(["serve", "--header-timeout", "0", "--users"])
        .arg(&f.users)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
}

/// Issue 29: `POST /login` and `/logout` accepted a foreign `Origin`.
#[test]
fn a_foreign_origin_cannot_sign_in_or_out() {
    let s = server("origin");
    let body = form(&[("name", "finance"), ("password", FINANCE_PASSWORD)]);
    let own = format!("http://{}", s.addr);
    let post = |path: &str, extra: &[(&str, &str)]| {
        let mut headers = vec![("Content-Type", "application/x-www-form-urlencoded")];
        headers.extend_from_slice(extra);
        request(s.addr, "POST", path, &headers, body.as_bytes())
    };
    for origin in ["http://evil.example", "null", "http://127.0.0.1:1"] {
        for path in ["/login", "/logout"] {
            let r = post(path, &[("Origin", origin)]);
            assert_eq!(r.status, 403, "{path} from {origin}");
            assert!(r.header("set-cookie").is_none());
        }
    }
    assert_eq!(
        post("/login", &[("Sec-Fetch-Site", "cross-site")]).status,
        403
    );
    // A browser's own form under `Referrer-Policy: no-referrer` sends `Origin: null`, and says
    // `Sec-Fetch-Site: same-origin`.
    assert_eq!(
        post(
            "/login",
            &[("Origin", "null"), ("Sec-Fetch-Site", "same-origin")]
        )
        .status,
        303
    );
    // Its own pages may, and so may a client that sends no Origin.
    let r = post("/login", &[("Origin", &own)]);
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(
        post("/login", &[("Sec-Fetch-Site", "same-origin")]).status,
        303
    );
    assert_eq!(post("/logout", &[("Origin", &own)]).status, 303);
    let audit = wait_for_lines(&s.audit, 7);
    assert_eq!(
        audit
            .lines()
            .filter(|l| l.contains("\"status\":403"))
            .count(),
        7,
        "{audit}"
    );
}

/// Issue 29: denied requests (401, 404) left no line in the audit log, so a partner probing
/// other partners' URLs was invisible.
#[test]
fn every_refusal_is_in_the_audit_log() {
    let s = server("denials");
    let f = fixture();
    assert_eq!(s.get("/demo/2026-10/statements/p-02.pdf", None).status, 401);
    assert_eq!(
        s.get("/demo/2026-10/statements/p-02.pdf", Some(&f.bearer("p01")))
            .status,
        404
    );
    assert_eq!(
        s.get("/demo/2026-10/statements/p-01.pdf", Some(&f.bearer("p01")))
            .status,
        200
    );
    assert_eq!(s.get("/logout", None).status, 405);
    let audit = wait_for_lines(&s.audit, 4);
    let lines: Vec<serde_json::Value> = audit
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    let denials: Vec<&serde_json::Value> =
        lines.iter().filter(|l| l.get("status").is_some()).collect();
    assert_eq!(denials.len(), 3, "{audit}");
    let find = |status: u64| {
        denials
            .iter()
            .find(|d| d["status"] == status)
            .unwrap_or_else(|| panic!("no {status} in {audit}"))
    };
    let unknown = find(401);
    assert_eq!(unknown["user"], serde_json::Value::Null);
    assert_eq!(unknown["path"], "/demo/2026-10/statements/p-02.pdf");
    assert_eq!(unknown["client"], "127.0.0.1");
    let probe = find(404);
    assert_eq!(probe["user"], "p01");
    assert_eq!(probe["scope"], "partner:p-01");
    assert_eq!(probe["method"], "GET");
    assert_eq!(probe["path"], "/demo/2026-10/statements/p-02.pdf");
    assert_eq!(find(405)["path"], "/logout");
    // The download is still its own line.
    assert!(lines.iter().any(|l| l["complete"] == true), "{audit}");
}

/// R9's publishing: November is a draft, October is closed. Finance sees both, the draft marked;
/// a partner and a master do not see the draft at all (404, as for a file not theirs, and not
/// listed), and see the closed month as before.
#[test]
fn drafts_are_for_finance_only() {
    let s = server("drafts");
    let f = fixture();
    let finance = f.bearer("finance");
    let index = s.get("/", Some(&finance)).text();
    assert!(index.contains(r#"href="/demo/2026-11/""#), "{index}");
    assert!(
        index.contains(r#"2026-11 <span class="draft">草稿 DRAFT</span>"#),
        "{index}"
    );
    assert!(
        !index.contains(r#"2026-10 <span class="draft">"#),
        "{index}"
    );
    let page = s.get("/demo/2026-11/", Some(&finance));
    assert_eq!(page.status, 200);
    let page = page.text();
    assert!(
        page.contains(r#"id="draft""#) && page.contains("partners do not see it"),
        "{page}"
    );
    assert!(
        !s.get("/demo/2026-10/", Some(&finance))
            .text()
            .contains(r#"id="draft""#)
    );
    assert_eq!(
        s.get("/demo/2026-11/statements/p-01.pdf", Some(&finance))
            .status,
        200
    );

    for user in ["p01", "master"] {
        let auth = f.bearer(user);
        let index = s.get("/", Some(&auth)).text();
        assert!(
            index.contains(r#"href="/demo/2026-10/""#),
            "{user}: {index}"
        );
        assert!(
            !index.contains("2026-11") && !index.contains("草稿"),
            "{user} is shown the draft: {index}"
        );
        for path in [
            "/demo/2026-11/",
            "/demo/2026-11/statements/p-01.pdf",
            "/demo/2026-11/statements/p-01.csv",
            "/demo/2026-11/invoices.csv",
            "/demo/2026-11/rollups/acc-1006.pdf",
            "/demo/2026-11.zip",
        ] {
            assert_eq!(s.get(path, Some(&auth)).status, 404, "{user}: {path}");
        }
    }
    let p01 = f.bearer("p01");
    assert_eq!(
        s.get("/demo/2026-10/statements/p-01.pdf", Some(&p01))
            .status,
        200
    );
}

/// A form posted as a browser would from the portal's own page (`Sec-Fetch-Site: same-origin`),
/// with `auth` as its `Authorization` header or `Cookie`.
fn post_form(s: &Server, path: &str, auth: (&str, &str), pairs: &[(&str, &str)]) -> Response {
    request(
        s.addr,
        "POST",
        path,
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Sec-Fetch-Site", "same-origin"),
            auth,
        ],
        form(pairs).as_bytes(),
    )
}

/// The text between `id="<id>"` and the end of its element's block, for asserting on one figure.
fn block<'a>(page: &'a str, id: &str) -> &'a str {
    let at = page
        .find(&format!(r#"id="{id}""#))
        .unwrap_or_else(|| panic!("no {id} in {page}"));
    let rest = &page[at..];
    &rest[..rest.find("</div>").unwrap_or(rest.len())]
}

/// Issue 26: PDFs opened as downloads; a browser should show them. Spreadsheets still download.
#[test]
fn pdfs_open_in_the_browser_and_spreadsheets_download() {
    let s = server("inline");
    let f = fixture();
    let finance = f.bearer("finance");
    for (path, disposition) in [
        ("reconciliation.pdf", "inline"),
        ("statements/p-01.pdf", "inline"),
        ("statements/p-01.csv", "attachment"),
        ("statements/p-01.xlsx", "attachment"),
        ("workbook.xlsx", "attachment"),
        ("statements.csv", "attachment"),
    ] {
        let r = s.get(&format!("/demo/2026-10/{path}"), Some(&finance));
        assert_eq!(r.status, 200, "{path}");
        let name = format!("demo_2026-10_{}", path.replace('/', "_"));
        assert_eq!(
            r.header("content-disposition"),
            Some(format!("{disposition}; filename=\"{name}\"; filename*=UTF-8''{name}").as_str()),
            "{path}"
        );
    }
    let zip = s.get("/demo/2026-10.zip", Some(&finance));
    assert!(
        zip.header("content-disposition")
            .is_some_and(|d| d.starts_with("attachment;"))
    );
    // The page opens a PDF in place and offers to download it; other files download.
    let page = s.get("/demo/2026-10/", Some(&finance)).text();
    assert!(
        page.contains(r#"<a href="/demo/2026-10/reconciliation.pdf">对账报告 <span class="en">Reconciliation report</span>"#),
        "{page}"
    );
    assert!(
        page.contains(r#"<a class="dl" href="/demo/2026-10/reconciliation.pdf" download>"#),
        "{page}"
    );
    assert!(
        page.contains(r#"<a class="dl" href="/demo/2026-10/workbook.xlsx" download>工作簿 <span class="en">Workbook</span>"#),
        "{page}"
    );
}

/// Issue 26: the month's page opens with its totals per currency, summed from its CSVs, with
/// digits grouped by thousands; the files keep their plain digits.
#[test]
fn the_month_opens_with_its_totals_grouped_by_thousands() {
    let s = server("totals");
    let f = fixture();
    let page = s.get("/demo/2026-10/", Some(&f.bearer("finance"))).text();
    let glance = page.find(r#"id="glance""#).expect("the glance");
    assert!(
        glance < page.find(r#"id="statements""#).expect("statements"),
        "totals first"
    );
    // consumption.csv: Σ usage_period_amount and Σ deduction_period_amount per currency.
    let cny = block(&page, "consumption-CNY");
    assert!(
        cny.contains(r#"<span class="value">14,045.16</span>"#) && cny.contains("9,844.10"),
        "{cny}"
    );
    let usd = block(&page, "consumption-USD");
    assert!(
        usd.contains(r#"<span class="value">243.72</span>"#) && usd.contains("113.17"),
        "{usd}"
    );
    // statements.csv: p-01 507.07 and p-02 6.93 are payable; p-03's 40.25 is withheld.
    let payable = block(&page, "payable-CNY");
    assert!(
        payable.contains(r#"<span class="value">514.00</span>"#)
            && payable.contains("Net rebates 554.25")
            && payable.contains("3 张 statements"),
        "{payable}"
    );
    let withheld = block(&page, "withheld-CNY");
    assert!(
        withheld.contains(r#"<span class="value">40.25</span>"#) && withheld.contains("1 张"),
        "{withheld}"
    );
    assert!(block(&page, "payable-USD").contains(r#"<span class="value">12.97</span>"#));
    // reconciliation.csv: 9 findings, Σ|difference| 129.98, net 15.00; none in USD.
    let findings = block(&page, "findings-CNY");
    assert!(
        findings.contains(r#"<span class="value">129.98</span>"#)
            && findings.contains("9 项 findings")
            && findings.contains("net 15.00"),
        "{findings}"
    );
    assert!(block(&page, "findings-USD").contains(r#"<span class="value">0.00</span>"#));
    // Display only: the file served is the file on disk, digits ungrouped.
    let csv = s.get("/demo/2026-10/consumption.csv", Some(&f.bearer("finance")));
    assert!(csv.body == std::fs::read(f.period().join("consumption.csv")).expect("on disk"));
    // Partners see no month totals, only their own statement.
    let partner = s.get("/demo/2026-10/", Some(&f.bearer("p01"))).text();
    assert!(
        !partner.contains("glance") && !partner.contains("14,045"),
        "{partner}"
    );
}

/// Issue 26: a partner's page shows its statement's amounts and payout status, not only its
/// files, and names its documents in both languages.
#[test]
fn a_partner_sees_its_statements_amounts_and_status() {
    let s = server("partner-figures");
    let f = fixture();
    let page = s.get("/demo/2026-10/", Some(&f.bearer("p01"))).text();
    let own = &page[page.find(r#"id="statement""#).expect("its statement")..];
    for want in [
        "云帆伙伴科技有限公司",
        "ST-202610-Y9FN-VJ1Q-F343",
        r#"<td data-label="币种 Currency">CNY</td>"#,
        r#"<td data-label="币种 Currency">USD</td>"#,
        r#"<td class="num payable-now" data-label="本期应付 Payable now">507.07</td>"#,
        r#"<td class="num payable-now" data-label="本期应付 Payable now">12.97</td>"#,
        r#"<span class="status payable" title="payable">可付 Payable</span>"#,
        r#"id="open-statement" href="/demo/2026-10/statements/p-01.pdf""#,
        r#"结算单 <span class="en">Statement</span> <span class="format">PDF</span>"#,
        r#"发票清单 <span class="en">Invoice list</span>"#,
        r#"id="confirm""#,
    ] {
        assert!(
            own.contains(want),
            "the partner's page lacks {want}:\n{page}"
        );
    }
    for other in ["深蓝数科", "p-02", "6.93", "40.25"] {
        assert!(!page.contains(other), "the partner's page shows {other}");
    }
    // A master has no statement: its page lists its rollups, named.
    let master = s.get("/demo/2026-10/", Some(&f.bearer("master"))).text();
    assert!(
        master.contains(r#"托管汇总单 <span class="en">Hosting rollup</span>"#)
            && !master.contains(r#"id="statement""#),
        "{master}"
    );
}

/// Issue 26: a month of 400 partners is found by a partner's id or name, server-side.
#[test]
fn four_hundred_partners_are_filtered_by_id_or_name() {
    let dir = scratch("filter");
    let inputs = dir.join("inputs").join("many");
    let out = dir.join("out");
    let generated = Command::new(BIN)
        .args([
            "gen",
            "--lines",
            "20000",
            "--accounts",
            "2000",
            "--partners",
            "400",
        ])
        .arg(&inputs)
        .output()
        .expect("settle gen runs");
    assert!(
        generated.status.success(),
        "{}",
        String::from_utf8_lossy(&generated.stderr)
    );
    let run = Command::new(BIN)
        .args(["run", "--period", "2026-10", "--no-pdf", "--inputs"])
        .arg(&inputs)
        .arg("--out")
        .arg(&out)
        .output()
        .expect("settle run runs");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let f = fixture();
    let s = Server::start(&out, &f.users, &dir.join("audit.jsonl"));
    let auth = f.bearer("finance");
    let on_disk = std::fs::read_to_string(out.join("many/2026-10/statements.csv")).expect("csv");
    let rows = on_disk.lines().count() - 1;
    assert!(rows >= 400, "{rows} statement rows");
    let rows_of = |page: &str| page.matches(r#"<td data-label="伙伴 Partner">"#).count();

    let all = s.get("/many/2026-10/", Some(&auth)).text();
    assert_eq!(rows_of(&all), rows.min(500), "the first 500 at most");
    assert!(
        all.contains(r#"<form class="filter" method="get""#),
        "{all}"
    );

    let want = on_disk.lines().filter(|l| l.contains(",p-0123,")).count();
    assert!(want >= 1);
    let one = s.get("/many/2026-10/?q=P-0123", Some(&auth));
    assert_eq!(one.status, 200);
    let one = one.text();
    assert_eq!(rows_of(&one), want, "{one}");
    assert!(one.contains(&format!("显示 {want} / ")), "{one}");
    assert!(
        one.contains(r#"value="P-0123""#),
        "the filter keeps its text"
    );
    // By name: the name of p-0042 as statements.csv writes it.
    let line = on_disk
        .lines()
        .find(|l| l.contains(",p-0042,"))
        .expect("p-0042");
    let name = line.split(',').nth(2).expect("partner_name");
    let encoded: String = name.bytes().map(|b| format!("%{b:02X}")).collect();
    let by_name = s
        .get(&format!("/many/2026-10/?q={encoded}"), Some(&auth))
        .text();
    assert_eq!(
        rows_of(&by_name),
        on_disk.lines().filter(|l| l.contains(",p-0042,")).count(),
        "{by_name}"
    );
    assert!(by_name.contains("p-0042"), "{by_name}");
    // Nothing found, and text that is no HTML.
    let none = s.get("/many/2026-10/?q=%3Cscript%3E", Some(&auth)).text();
    assert_eq!(rows_of(&none), 0);
    assert!(none.contains(r#"value="&lt;script&gt;""#) && !none.contains("<script>"));
}

/// Issue 26: after signing in, a user lands on the page they asked for, and only on a page of
/// the portal: `next` is a local path or it is `/`.
#[test]
fn a_sign_in_lands_on_the_page_asked_for_and_never_on_another_site() {
    let s = server("next");
    // The 401 page's form carries the page asked for.
    let r = s.get("/demo/2026-10/?q=p-01", None);
    assert_eq!(r.status, 401);
    assert!(
        r.text()
            .contains(r#"<input type="hidden" name="next" value="/demo/2026-10/?q=p-01">"#),
        "{}",
        r.text()
    );
    let form_page = s.get("/login?next=%2Fdemo%2F2026-10%2F", None).text();
    assert!(
        form_page.contains(r#"name="next" value="/demo/2026-10/""#),
        "{form_page}"
    );
    let evil = s.get("/login?next=%2F%2Fevil.example%2F", None).text();
    assert!(!evil.contains(r#"name="next""#), "{evil}");

    let sign_in = |next: &str| {
        let body = form(&[
            ("name", "finance"),
            ("password", FINANCE_PASSWORD),
            ("next", next),
        ]);
        request(
            s.addr,
            "POST",
            "/login",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            body.as_bytes(),
        )
    };
    for next in [
        "/demo/2026-10/",
        "/demo/2026-10/?q=p-01",
        "/demo/2026-10/statements/p-01.pdf",
    ] {
        let r = sign_in(next);
        assert_eq!(r.status, 303, "{next}");
        assert_eq!(r.header("location"), Some(next));
    }
    for foreign in [
        "//evil.example/",
        "/\\evil.example/",
        "https://evil.example/",
        "http:evil.example",
        "/\t/evil.example",
        "\\\\evil.example",
        "evil.example",
        "",
    ] {
        let r = sign_in(foreign);
        assert_eq!(r.status, 303, "{foreign:?}");
        assert_eq!(r.header("location"), Some("/"), "{foreign:?}");
    }
}

/// Issue 26: a partner confirms its statement of a closed month or disputes it with a note;
/// each answer goes to the audit log and to the period's answers file outside `OUT`, and
/// finance sees it on the month's page. Nobody answers for someone else, nor for a draft.
#[test]
fn a_partner_confirms_or_disputes_its_closed_statement_and_finance_sees_it() {
    let s = server("answers");
    let f = fixture();
    let state = s
        .audit
        .parent()
        .expect("the audit log's folder")
        .to_path_buf();
    let answers = state.join("responses/demo/2026-10.jsonl");
    let before = portal::files(&f.out);
    let p01 = f.bearer("p01");
    let bearer = |a: &str| ("Authorization", a.to_string());

    // Refused: nobody, finance, a master, a draft, a bad action, a dispute without a note.
    let (h, v) = bearer(&p01);
    let confirm = [("action", "confirm"), ("note", "")];
    assert_eq!(
        post_form(&s, "/demo/2026-10/respond", ("X-None", "1"), &confirm).status,
        401
    );
    for user in ["finance", "master"] {
        let auth = f.bearer(user);
        let r = post_form(
            &s,
            "/demo/2026-10/respond",
            ("Authorization", &auth),
            &confirm,
        );
        assert_eq!(r.status, 404, "{user}");
    }
    for path in [
        "/demo/2026-11/respond",
        "/demo/2026-10/statements/respond",
        "/nope/2026-10/respond",
    ] {
        assert_eq!(post_form(&s, path, (h, &v), &confirm).status, 404, "{path}");
    }
    let r = post_form(
        &s,
        "/demo/2026-10/respond",
        (h, &v),
        &[("action", "delete")],
    );
    assert_eq!(r.status, 400);
    let r = post_form(
        &s,
        "/demo/2026-10/respond",
        (h, &v),
        &[("action", "dispute"), ("note", "  ")],
    );
    assert_eq!(r.status, 400);
    assert!(r.text().contains("A dispute needs a note"), "{}", r.text());
    let foreign = request(
        s.addr,
        "POST",
        "/demo/2026-10/respond",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Origin", "http://evil.example"),
            ("Authorization", &p01),
        ],
        form(&confirm).as_bytes(),
    );
    assert_eq!(foreign.status, 403);
    assert!(!answers.exists(), "a refused answer is not recorded");

    // p-01 confirms, then disputes; p-02 confirms.
    let r = post_form(&s, "/demo/2026-10/respond", (h, &v), &confirm);
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(r.header("location"), Some("/demo/2026-10/#answer"));
    let note = "USD line <b>acc-1002</b> looks high";
    let r = post_form(
        &s,
        "/demo/2026-10/respond",
        (h, &v),
        &[("action", "dispute"), ("note", note)],
    );
    assert_eq!(r.status, 303);
    let p02 = f.bearer("p02");
    let r = post_form(
        &s,
        "/demo/2026-10/respond",
        ("Authorization", &p02),
        &confirm,
    );
    assert_eq!(r.status, 303);

    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&answers)
        .expect("the answers file")
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["partner_id"], "p-01");
    assert_eq!(lines[0]["action"], "confirmed");
    assert_eq!(lines[1]["action"], "disputed");
    assert_eq!(lines[1]["note"], note);
    assert_eq!(lines[1]["user"], "p01");
    assert_eq!(
        lines[1]["documents"],
        serde_json::json!(["ST-202610-Y9FN-VJ1Q-F343"])
    );
    assert_eq!(lines[2]["partner_id"], "p-02");
    // The month of record is as it was: nothing written under OUT.
    assert!(portal::files(&f.out) == before, "OUT changed");

    // The audit log has each answer.
    let audit = wait_for_lines(&s.audit, 1);
    let answered: Vec<serde_json::Value> = audit
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("json"))
        .filter(|l| l.get("action").is_some())
        .collect();
    assert_eq!(answered.len(), 3, "{audit}");
    assert_eq!(answered[1]["action"], "disputed");
    assert_eq!(answered[1]["scope"], "partner:p-01");
    assert_eq!(answered[1]["path"], "demo/2026-10/respond");
    assert_eq!(answered[1]["note"], note);

    // Finance sees them, newest first, the note escaped; each partner's latest answer is its.
    let page = s.get("/demo/2026-10/", Some(&f.bearer("finance"))).text();
    let card = &page[page.find(r#"id="answers""#).expect("the answers")..];
    let card = &card[..card.find("</section>").expect("end")];
    assert!(
        card.contains("已确认 <span class=\"en\">Confirmed</span> <strong>1</strong>")
            && card.contains("有异议 <span class=\"en\">Disputed</span> <strong>1</strong>")
            && card.contains("未回复 <span class=\"en\">No answer yet</span> <strong>1</strong>"),
        "{card}"
    );
    assert_eq!(card.matches(r#"<tr class="answer-row">"#).count(), 3);
    assert!(
        card.contains("USD line &lt;b&gt;acc-1002&lt;/b&gt; looks high") && !card.contains("<b>"),
        "{card}"
    );
    let statements = &page[page.find(r#"id="statements""#).expect("statements")..];
    assert!(statements.contains("有异议 Disputed") && statements.contains("已确认 Confirmed"));
    // A partner sees its own answers, not another's.
    let own = s.get("/demo/2026-10/", Some(&p01)).text();
    assert!(
        own.contains("looks high") && own.contains("有异议 Disputed"),
        "{own}"
    );
    let other = s.get("/demo/2026-10/", Some(&p02)).text();
    assert!(
        !other.contains("looks high") && other.contains("已确认 Confirmed"),
        "{other}"
    );
}

#[test]
fn closed_restatements_are_shown_to_the_parties_they_change_and_drafts_to_finance_only() {
    let s = server("restatements");
    let f = fixture();
    let finance = f.bearer("finance");
    let index = s.get("/", Some(&finance)).text();
    for period in ["2026-10-r2", "2026-10-r1", "2026-10"] {
        assert!(
            index.contains(&format!(r#"href="/late/{period}/""#)),
            "{period}: {index}"
        );
    }
    let (r2, r1, record) = (
        index.find("/late/2026-10-r2/").expect("r2"),
        index.find("/late/2026-10-r1/").expect("r1"),
        index.find("/late/2026-10/").expect("the month"),
    );
    assert!(r2 < r1 && r1 < record, "newest first: {index}");
    assert!(
        index.contains(r#"2026-10-r1 <span class="restatement">补结算 1 Restatement</span></a>"#),
        "{index}"
    );
    assert!(
        index.contains(r#"2026-10-r2 <span class="restatement">补结算 2 Restatement</span> <span class="draft">"#),
        "{index}"
    );

    // Finance: what the restatement changes, the month it amends, the whole month restated.
    let page = s.get("/late/2026-10-r1/", Some(&finance));
    assert_eq!(page.status, 200);
    let page = page.text();
    assert!(
        page.contains(r#"id="restatement""#) && page.contains(r#"href="/late/2026-10/""#),
        "{page}"
    );
    assert!(!page.contains(r#"id="draft""#), "r1 is closed: {page}");
    let statements = block(&page, "statements");
    assert!(
        statements.contains("SS-202610-") && statements.contains("更正 amends ST-202610-"),
        "{statements}"
    );
    assert!(statements.contains("差额 Δ 8.00"), "{statements}");
    assert!(
        page.contains("重述后"),
        "the restated month is listed: {page}"
    );
    for path in [
        "changes.csv",
        "invoices.csv",
        "statements/p-01.pdf",
        "rollups/acc-1006.csv",
        "restated/statements.csv",
        "restated/statements/p-02.pdf",
    ] {
        assert_eq!(
            s.get(&format!("/late/2026-10-r1/{path}"), Some(&finance))
                .status,
            200,
            "finance: {path}"
        );
    }

    // p-01: its supplementary statement and its restated documents, in the closed r1 only.
    let p01 = f.bearer("p01");
    let index = s.get("/", Some(&p01)).text();
    assert!(index.contains(r#"href="/late/2026-10-r1/""#), "{index}");
    assert!(
        !index.contains("2026-10-r2"),
        "p-01 is shown a draft: {index}"
    );
    let page = s.get("/late/2026-10-r1/", Some(&p01)).text();
    assert!(
        page.contains("Your supplementary statement") && page.contains("更正 amends ST-202610-"),
        "{page}"
    );
    assert!(
        page.contains(r#"id="confirm""#),
        "a closed restatement is answered: {page}"
    );
    assert!(
        page.contains(r#"补充结算单 <span class="en">Supplementary statement</span>"#)
            && page.contains(r#"重述后结算单 <span class="en">Restated Statement</span>"#),
        "{page}"
    );
    for (path, status) in [
        ("statements/p-01.pdf", 200),
        ("statements/p-01.csv", 200),
        ("restated/statements/p-01.pdf", 200),
        ("invoices.csv", 200),
        ("restated/statements/p-02.pdf", 404),
        ("changes.csv", 404),
        ("restated/consumption.csv", 404),
    ] {
        assert_eq!(
            s.get(&format!("/late/2026-10-r1/{path}"), Some(&p01))
                .status,
            status,
            "p-01: {path}"
        );
    }
    for path in ["/late/2026-10-r2/", "/late/2026-10-r2/statements/p-01.pdf"] {
        assert_eq!(s.get(path, Some(&p01)).status, 404, "p-01: {path}");
    }
    // The partner's invoice rows are its own: p-01 issues none to acc-1002 here, so any row
    // served names p-01 as its issuer.
    let invoices = s.get("/late/2026-10-r1/invoices.csv", Some(&p01)).text();
    for line in invoices.lines().skip(1) {
        assert!(line.contains("partner:p-01"), "{line}");
    }

    // p-02's statement does not change: r1 does not exist for it.
    let p02 = f.bearer("p02");
    assert!(!s.get("/", Some(&p02)).text().contains("2026-10-r1"));
    assert_eq!(s.get("/late/2026-10-r1/", Some(&p02)).status, 404);

    // acc-1006's rollup changes: its changed rows and its restated rollup.
    let master = f.bearer("master");
    assert!(
        s.get("/", Some(&master))
            .text()
            .contains("/late/2026-10-r1/")
    );
    for (path, status) in [
        ("rollups/acc-1006.csv", 200),
        ("restated/rollups/acc-1006.pdf", 200),
        ("statements/p-01.pdf", 404),
    ] {
        assert_eq!(
            s.get(&format!("/late/2026-10-r1/{path}"), Some(&master))
                .status,
            status,
            "master: {path}"
        );
    }
}

/// `bridge.csv`'s rows of `partner` summed per currency: the walk the portal must show.
fn walk_sums(
    bridge: &std::path::Path,
    partner: &str,
) -> std::collections::BTreeMap<String, [rust_decimal::Decimal; 2]> {
    let bytes = std::fs::read(bridge).expect("bridge.csv");
    let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(&bytes);
    let mut r = csv::Reader::from_reader(bytes);
    let header = r.headers().expect("a header").clone();
    let at = |name: &str| header.iter().position(|h| h == name).expect(name);
    let (p, c, d, b) = (
        at("partner_id"),
        at("currency"),
        at("deduction_period_amount"),
        at("rebate_base_amount"),
    );
    let mut out = std::collections::BTreeMap::new();
    for row in r.records() {
        let row = row.expect("a row");
        if &row[p] != partner {
            continue;
        }
        let sums: &mut [rust_decimal::Decimal; 2] = out.entry(row[c].to_string()).or_default();
        sums[0] += row[d].parse::<rust_decimal::Decimal>().expect("decimal");
        sums[1] += row[b].parse::<rust_decimal::Decimal>().expect("decimal");
    }
    out
}

/// Thousands grouped, as the pages print amounts.
fn grouped(v: rust_decimal::Decimal) -> String {
    let text = format!("{v:.2}");
    let (sign, digits) = text
        .strip_prefix('-')
        .map_or(("", text.as_str()), |d| ("-", d));
    let (int, frac) = digits.split_once('.').expect("2 dp");
    let mut out = String::new();
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    format!("{sign}{out}.{frac}")
}

/// Issue 27: a partner reads the walk of its own statement on its page; finance opens any
/// statement's. The walk's first step is the partner's customers' console figure and its last
/// the rebate base, as `bridge.csv` has them.
#[test]
fn a_partner_reads_its_statements_walk_and_finance_any_statements() {
    let s = server("walk");
    let f = fixture();
    let want = walk_sums(&f.period().join("bridge.csv"), "p-01");
    assert!(!want.is_empty());
    let check = |page: &str, who: &str| {
        let at = page
            .find(r#"id="walk""#)
            .unwrap_or_else(|| panic!("{who}: no walk in {page}"));
        let card = &page[at..page[at..].find("</section>").map_or(page.len(), |e| at + e)];
        for (currency, [deduction, base]) in &want {
            let table = &card[card
                .find(&format!(r#"data-currency="{currency}""#))
                .unwrap_or_else(|| panic!("{who}: no {currency} walk in {card}"))..];
            let table = &table[..table.find("</table>").expect("a table")];
            let rows: Vec<&str> = table.split("<tr").skip(2).collect();
            assert_eq!(
                rows.len(),
                11,
                "{who}: every step, 0 or not, and the total: {table}"
            );
            assert!(
                rows[0].contains("Customers' deduction-period payable")
                    && rows[0].contains(&format!(">{}</td>", grouped(*deduction))),
                "{who}: {currency} {deduction}: {}",
                rows[0]
            );
            assert!(
                rows[9].contains("Rebate base")
                    && rows[9].contains(&format!(">{}</td>", grouped(*base))),
                "{who}: {currency} {base}: {}",
                rows[9]
            );
        }
    };
    check(
        &s.get("/demo/2026-10/", Some(&f.bearer("p01"))).text(),
        "p-01",
    );

    let finance = f.bearer("finance");
    let page = s.get("/demo/2026-10/", Some(&finance)).text();
    assert!(!page.contains(r#"id="walk""#), "no walk unless asked for");
    assert!(
        page.contains(r#"href="/demo/2026-10/?walk=p%2D01#walk""#),
        "{page}"
    );
    check(
        &s.get("/demo/2026-10/?walk=p-01", Some(&finance)).text(),
        "finance",
    );
    let none = s.get("/demo/2026-10/?walk=p-99", Some(&finance)).text();
    assert!(
        none.contains("No customer consumption this month"),
        "{none}"
    );
    // A partner cannot ask for another's walk: its page shows its own only.
    let page = s
        .get("/demo/2026-10/?walk=p-02", Some(&f.bearer("p01")))
        .text();
    assert_eq!(page.matches(r#"id="walk""#).count(), 1);
    assert!(!page.contains("p-02"), "{page}");
}
