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
    assert_eq!(
        pdf.header("content-disposition"),
        Some(
            "attachment; filename=\"demo_2026-10_statements_p-01.pdf\"; \
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
    ] {
        assert_eq!(s.get(target, Some(&auth)).status, 404, "{target}");
    }
    let index = s.get("/", Some(&auth)).text();
    let (newer, older) = (index.find("/demo/2026-10/"), index.find("/demo/2026-08/"));
    assert!(
        newer.is_some() && older.is_some() && newer < older,
        "newest first: {index}"
    );
    for hidden in ["linked", "tmp-4242", "2026-09"] {
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
            "demo/2026-10/statements/p-01.pdf"
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
