//! The portal's routes: who is asking, what they asked for, and the answer.
//!
//! - `GET /`: the periods the user may see; `GET /<dataset>/<period>/`: the month's page
//!   ([`super::month`]; `?q=` filters finance's statements); `GET /<dataset>/<period>/<path>`:
//!   one file; `GET /<dataset>/<period>.zip`: all of them.
//! - `POST /<dataset>/<period>/respond`: a partner confirms its statement of a closed month, or
//!   disputes it with a note ([`super::responses`]).
//! - `GET /login` (`?next=` the page to land on), `POST /login` (password → session cookie, then
//!   `next` if it is a local path), `POST /logout`.
//!
//! Without credentials every route but the login form and the stylesheet is 401; with them,
//! whatever the scope does not grant, or does not exist, is the same 404. File system work runs
//! on tokio's blocking threads.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use axum::Form;
use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequest, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use percent_encoding::percent_decode_str;
use serde::Deserialize;

use crate::layout::file_stem;

use super::App;
use super::audit::{Answered, Entry};
use super::auth::COOKIE;
use super::catalog::{self, Manifest, Settled};
use super::files::{self, Source};
use super::month::{self, FileRow, FinanceView, Month, PartnerView, View};
use super::next;
use super::pages::{self, Viewer};
use super::paths::{self, Segments};
use super::responses::{self, Action, ResponseError};
use super::scope::{Grant, Scope};
use super::statements::{self, Row};
use super::stream;
use super::totals;
use super::users::User;
use super::walk;

type Shared = State<Arc<App>>;

/// A signed-in request.
struct Caller {
    user: User,
    /// By the login form's cookie, not a token.
    session: bool,
    client: IpAddr,
}

pub async fn style() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        pages::STYLE,
    )
        .into_response()
}

pub async fn login_form(uri: Uri) -> Response {
    html(
        StatusCode::OK,
        pages::login(None, param(&uri, "next").as_deref()),
    )
}

#[derive(Deserialize)]
pub struct LoginForm {
    name: String,
    password: String,
    /// The page asked for before the form; kept only when local ([`next::local`]).
    #[serde(default)]
    next: Option<String>,
}

pub async fn login(
    State(app): Shared,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let client = client_ip(peer, &headers);
    let now = Instant::now();
    if let Err(wait) = app.auth.throttled(client, now) {
        let mut response = html(
            StatusCode::TOO_MANY_REQUESTS,
            pages::too_many(wait.as_secs().div_ceil(60).max(1)),
        );
        response.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(wait.as_secs().max(1)),
        );
        return response;
    }
    app.auth.refresh();
    app.auth.attempt(client, now);
    let checker = Arc::clone(&app);
    let (name, password) = (form.name, form.password);
    let user = tokio::task::spawn_blocking(move || checker.auth.check_password(&name, &password))
        .await
        .ok()
        .flatten();
    let Some(user) = user else {
        return html(
            StatusCode::UNAUTHORIZED,
            pages::login(
                Some("用户名或密码错误。 Wrong user name or password."),
                form.next.as_deref(),
            ),
        );
    };
    app.auth.succeeded(client, now);
    let Ok(id) = app.auth.open_session(&user, now) else {
        return internal();
    };
    let secure = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"));
    let cookie = format!(
        "{COOKIE}={id}; Path=/; HttpOnly; SameSite=Strict{}",
        if secure { "; Secure" } else { "" }
    );
    redirect(next::landing(form.next.as_deref()), Some(cookie))
}

pub async fn logout(State(app): Shared, headers: HeaderMap) -> Response {
    if let Some(id) = cookie(&headers) {
        app.auth.close_session(id);
    }
    redirect(
        "/login",
        Some(format!(
            "{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"
        )),
    )
}

pub async fn index(
    State(app): Shared,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    let Some(caller) = identify(&app, peer, &headers) else {
        return unauthorized(None);
    };
    blocking(move || index_page(&app, &caller)).await
}

/// Everything under `/<dataset>/`.
pub async fn documents(
    State(app): Shared,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let method = request.method().clone();
    let uri = request.uri().clone();
    if method == Method::POST && uri.path().ends_with(RESPOND) {
        return respond(app, peer, request).await;
    }
    if method != Method::GET && method != Method::HEAD {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [(header::ALLOW, "GET, HEAD")],
        )
            .into_response();
    }
    let Some(caller) = identify(&app, peer, request.headers()) else {
        return unauthorized(uri.path_and_query().map(|p| p.as_str()));
    };
    let Some(segments) = paths::segments(uri.path()) else {
        return not_found(&app, &caller);
    };
    let send = Delivery {
        runtime: tokio::runtime::Handle::current(),
        head: method == Method::HEAD,
        query: param(&uri, "q").unwrap_or_default(),
        walk: param(&uri, "walk").filter(|w| !w.is_empty()),
    };
    blocking(move || route(&app, &caller, segments, &send)).await
}

/// The last segment of the path a partner's answer is posted to.
const RESPOND: &str = "/respond";

#[derive(Deserialize)]
pub struct AnswerForm {
    action: String,
    #[serde(default)]
    note: String,
}

/// `POST /<dataset>/<period>/respond`: a partner's answer to its own statement of a month of
/// record. Anyone else, a draft, or another partner's month is the same 404 as a missing file.
async fn respond(app: Arc<App>, peer: SocketAddr, request: Request) -> Response {
    let uri = request.uri().clone();
    let Some(caller) = identify(&app, peer, request.headers()) else {
        return unauthorized(None);
    };
    let Ok(axum::Form(form)) = axum::Form::<AnswerForm>::from_request(request, &()).await else {
        return bad_request(&app, &caller, "表单无效。 The form is not valid.");
    };
    blocking(move || answer(&app, &caller, uri.path(), &form)).await
}

fn answer(app: &App, caller: &Caller, path: &str, form: &AnswerForm) -> Response {
    let Some(s) = paths::segments(path) else {
        return not_found(app, caller);
    };
    let parts: Vec<&str> = s.parts.iter().map(String::as_str).collect();
    let ([dataset, period, "respond"], false) = (parts.as_slice(), s.trailing_slash) else {
        return not_found(app, caller);
    };
    let Scope::Partner(partner) = scope(app, caller) else {
        return not_found(app, caller);
    };
    let Some((settled, manifest, _)) = visible(app, caller, dataset, period) else {
        return not_found(app, caller);
    };
    let rows = own_rows(app, &settled, partner);
    if !manifest.published() || rows.is_empty() {
        return not_found(app, caller);
    }
    let Some(action) = Action::parse(&form.action) else {
        return bad_request(
            app,
            caller,
            "未知操作。 Unknown action: confirm or dispute.",
        );
    };
    let note = match responses::note(&form.note, action) {
        Ok(note) => note,
        Err(e) => return bad_request(app, caller, &refusal(&e)),
    };
    let mut documents: Vec<String> = rows.iter().map(|r| r.document_no.clone()).collect();
    documents.dedup();
    let time = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let response = responses::Response {
        time: time.clone(),
        user: caller.user.name.clone(),
        partner_id: partner.clone(),
        action,
        note: note.clone(),
        documents: documents.clone(),
    };
    if let Err(e) = app.responses.append(dataset, period, &response) {
        crate::errln!("error: {e}");
        return internal();
    }
    app.audit.answer(&Answered {
        time,
        user: caller.user.name.clone(),
        scope: caller.user.scope.to_string(),
        client: caller.client.to_string(),
        method: "POST",
        path: format!("{dataset}/{period}/respond"),
        action: action.as_str(),
        partner_id: partner.clone(),
        documents,
        note,
    });
    redirect(&format!("{}/#answer", pages::url(&[dataset, period])), None)
}

/// What the partner is told when its answer is refused, in both languages.
fn refusal(e: &ResponseError) -> String {
    match e {
        ResponseError::NoteMissing => {
            "提出异议需填写说明。 A dispute needs a note: say which line or amount is wrong.".into()
        }
        ResponseError::NoteTooLong => format!(
            "说明过长。 The note is longer than {} characters.",
            responses::NOTE_MAX
        ),
        ResponseError::Write { .. } => "无法保存。 The answer could not be recorded.".into(),
    }
}

/// The value of `name` in the request's query (`+` is a space), if it is there.
fn param(uri: &Uri, name: &str) -> Option<String> {
    uri.query()?.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (key == name).then(|| {
            percent_decode_str(&value.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned()
        })
    })
}

/// How a download goes out: its body is pumped on the runtime's blocking threads, and a `HEAD`
/// request gets the headers only (and is no download for the audit log).
struct Delivery {
    runtime: tokio::runtime::Handle,
    head: bool,
    /// The month page's filter (`?q=`).
    query: String,
    /// The partner whose walk finance asked for (`?walk=`).
    walk: Option<String>,
}

fn route(app: &Arc<App>, caller: &Caller, s: Segments, send: &Delivery) -> Response {
    let parts: Vec<&str> = s.parts.iter().map(String::as_str).collect();
    match (parts.as_slice(), s.trailing_slash) {
        ([dataset, period], true) => period_page(app, caller, dataset, period, send),
        ([dataset, zip], false) if zip.ends_with(".zip") => {
            let period = &zip[..zip.len() - ".zip".len()];
            download_zip(app, caller, dataset, period, send)
        }
        ([dataset, period], false) => match visible(app, caller, dataset, period) {
            Some(_) => redirect(&format!("{}/", pages::url(&[dataset, period])), None),
            None => not_found(app, caller),
        },
        ([dataset, period, rest @ ..], false) => {
            download_file(app, caller, dataset, period, &rest.join("/"), send)
        }
        _ => not_found(app, caller),
    }
}

/// The period if it is settled, published or the caller is finance, and the caller's scope grants
/// something in it. A draft does not exist for a partner or a master: 404, as for any file not
/// theirs.
fn visible(
    app: &App,
    caller: &Caller,
    dataset: &str,
    period: &str,
) -> Option<(Settled, Manifest, Vec<Grant>)> {
    let settled = catalog::find(&app.root, dataset, period)?;
    let manifest = catalog::manifest(&settled)?;
    let outputs: Vec<&str> = manifest.outputs.iter().map(|o| o.file.as_str()).collect();
    let scope = scope(app, caller);
    if !manifest.published() && !matches!(scope, Scope::Finance) {
        return None;
    }
    let grants = scope.grants(&outputs);
    (!grants.is_empty()).then_some((settled, manifest, grants))
}

fn scope<'a>(_app: &App, caller: &'a Caller) -> &'a Scope {
    &caller.user.scope
}

fn viewer<'a>(_app: &App, caller: &'a Caller) -> Viewer<'a> {
    let user = &caller.user;
    Viewer {
        name: &user.name,
        scope: user.scope.to_string(),
        session: caller.session,
    }
}

fn index_page(app: &App, caller: &Caller) -> Response {
    let mut datasets: Vec<(String, Vec<(String, bool)>)> = Vec::new();
    for p in catalog::settled(&app.root) {
        let Some((_, manifest, _)) = visible(app, caller, &p.dataset, &p.period) else {
            continue;
        };
        let period = (p.period, !manifest.published());
        match datasets.last_mut() {
            Some((d, periods)) if *d == p.dataset => periods.push(period),
            _ => datasets.push((p.dataset, vec![period])),
        }
    }
    html(
        StatusCode::OK,
        pages::index(&viewer(app, caller), &datasets),
    )
}

fn period_page(
    app: &App,
    caller: &Caller,
    dataset: &str,
    period: &str,
    send: &Delivery,
) -> Response {
    let Some((settled, manifest, grants)) = visible(app, caller, dataset, period) else {
        return not_found(app, caller);
    };
    let mut files = Vec::new();
    for grant in &grants {
        let Some(source) = files::source(&app.root, &settled, grant) else {
            continue;
        };
        let listed = manifest.outputs.iter().find(|o| o.file == grant.path);
        let (bytes, sha256) = match (&source, listed) {
            (Source::File(_), Some(o)) => (o.bytes, o.sha256.clone()),
            (Source::File(path), None) => match std::fs::read(path) {
                Ok(bytes) => files::measure(&bytes),
                Err(_) => continue,
            },
            (Source::Filtered(bytes), _) => files::measure(bytes),
        };
        files.push(FileRow {
            path: grant.path.clone(),
            bytes,
            sha256,
            filtered: grant.issuer.is_some(),
        });
    }
    let view = match scope(app, caller) {
        Scope::Finance => View::Finance(Box::new(finance_view(
            app,
            &settled,
            &manifest,
            &send.query,
            send.walk.as_deref(),
        ))),
        Scope::Partner(id) => View::Partner(PartnerView {
            walk: walk_of(app, &settled, id),
            rows: own_rows(app, &settled, id),
            pdf: pdf_link(&settled, &manifest, id),
            answers: app
                .responses
                .read(dataset, period)
                .into_iter()
                .filter(|a| a.partner_id == *id)
                .collect(),
            may_answer: manifest.published(),
        }),
        Scope::Master(_) => View::Documents,
    };
    let page = Month {
        dataset,
        period,
        draft: !manifest.published(),
        restatement: settled
            .restatement
            .map(|n| (n, manifest.amends.clone().unwrap_or_default())),
        files,
        view,
    };
    html(StatusCode::OK, month::render(&viewer(app, caller), &page))
}

/// The rows of `statements.csv` in `folder` (a period's, or a restatement's `restated/`);
/// `None` if it is missing or does not parse.
fn statement_rows(app: &App, folder: &Path) -> Option<Vec<Row>> {
    paths::inside(&app.root, folder, "statements.csv")
        .and_then(|path| std::fs::read(path).ok())
        .and_then(|bytes| statements::read(&bytes))
}

/// A partner's own rows of `statements.csv`: the figures of its statement, one per currency.
fn own_rows(app: &App, settled: &Settled, partner: &str) -> Vec<Row> {
    statement_rows(app, &settled.folder)
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.partner_id == partner)
        .collect()
}

/// The link to a partner's statement PDF, when the manifest lists one.
fn pdf_link(settled: &Settled, manifest: &Manifest, partner: &str) -> Option<String> {
    let path = format!("statements/{}.pdf", file_stem(partner));
    manifest.outputs.iter().any(|o| o.file == path).then(|| {
        let mut link = vec![settled.dataset.as_str(), settled.period.as_str()];
        link.extend(path.split('/'));
        pages::href(&link)
    })
}

/// A partner's walk (R10), from the period's `bridge.csv`: a restatement's from the month as
/// restated.
fn walk_of(app: &App, settled: &Settled, partner: &str) -> Option<month::Walks> {
    let file = match settled.restatement {
        Some(_) => catalog::restated_path("bridge.csv"),
        None => "bridge.csv".to_string(),
    };
    let input = totals::open(&app.root, &settled.folder, &file)?;
    walk::of_partner(input, partner)
}

/// The month's totals, the answers, the reconciliation summary from the manifest,
/// `statements.csv`, and the walk of the statement asked for.
fn finance_view(
    app: &App,
    settled: &Settled,
    manifest: &Manifest,
    query: &str,
    walk: Option<&str>,
) -> FinanceView {
    let statements = statement_rows(app, &settled.folder);
    let statement_links = statements
        .iter()
        .flatten()
        .filter_map(|r| {
            let link = pdf_link(settled, manifest, &r.partner_id)?;
            Some((r.partner_id.clone(), link))
        })
        .collect();
    FinanceView {
        as_of: manifest.as_of.clone(),
        reconciliation: manifest
            .reconciliation
            .iter()
            .map(|f| catalog::FindingSummary {
                finding: f.finding.clone(),
                currency: f.currency.clone(),
                count: f.count,
                difference: f.difference.clone(),
            })
            .collect(),
        totals: month_totals(app, settled, statements.as_deref()),
        statements,
        statement_links,
        query: query.to_string(),
        answers: app.responses.read(&settled.dataset, &settled.period),
        walk: walk.map(|p| (p.to_string(), walk_of(app, settled, p))),
    }
}

/// The month at a glance: a restatement's is its whole month as restated, in `restated/`.
fn month_totals(app: &App, settled: &Settled, statements: Option<&[Row]>) -> totals::Totals {
    if settled.restatement.is_none() {
        return totals::of_period(&app.root, &settled.folder, statements);
    }
    let Some(month) = paths::folder_inside(
        &app.root,
        &[
            settled.dataset.as_str(),
            settled.period.as_str(),
            crate::restate::RESTATED,
        ],
    ) else {
        return totals::of_period(&app.root, &settled.folder, None);
    };
    totals::of_period(&app.root, &month, statement_rows(app, &month).as_deref())
}

fn download_file(
    app: &Arc<App>,
    caller: &Caller,
    dataset: &str,
    period: &str,
    path: &str,
    send: &Delivery,
) -> Response {
    let Some((settled, _, grants)) = visible(app, caller, dataset, period) else {
        return not_found(app, caller);
    };
    let Some(grant) = grants.iter().find(|g| g.path == path) else {
        return not_found(app, caller);
    };
    let Some(source) = files::source(&app.root, &settled, grant) else {
        return not_found(app, caller);
    };
    let length = match &source {
        Source::File(file) => match std::fs::metadata(file) {
            Ok(m) => m.len(),
            Err(_) => return not_found(app, caller),
        },
        Source::Filtered(bytes) => bytes.len() as u64,
    };
    let name = files::download_name(dataset, period, path);
    let inline = files::opens_inline(path);
    if send.head {
        return download(
            files::content_type(path),
            &files::disposition(&name, inline),
            Some(length),
            Body::empty(),
        );
    }
    let entry = entry(app, caller, format!("{dataset}/{period}/{path}"), None);
    let body = pump(app, &send.runtime, entry, move |w| match source {
        Source::File(file) => std::io::copy(&mut std::fs::File::open(file)?, w).map(|_| ()),
        Source::Filtered(bytes) => std::io::Write::write_all(w, &bytes),
    });
    download(
        files::content_type(path),
        &files::disposition(&name, inline),
        Some(length),
        body,
    )
}

fn download_zip(
    app: &Arc<App>,
    caller: &Caller,
    dataset: &str,
    period: &str,
    send: &Delivery,
) -> Response {
    let Some((settled, _, grants)) = visible(app, caller, dataset, period) else {
        return not_found(app, caller);
    };
    let mut entries: Vec<(String, Source)> = grants
        .iter()
        .filter_map(|g| {
            let source = files::source(&app.root, &settled, g)?;
            Some((format!("{dataset}/{period}/{}", g.path), source))
        })
        .collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    let names = entries.iter().map(|(n, _)| n.clone()).collect();
    let zip_name = format!("{period}.zip");
    let (content_type, name) = (
        files::content_type(&zip_name),
        files::disposition(&format!("{dataset}_{zip_name}"), false),
    );
    if send.head {
        return download(content_type, &name, None, Body::empty());
    }
    let entry = entry(app, caller, format!("{dataset}/{zip_name}"), Some(names));
    let body = pump(app, &send.runtime, entry, move |w| {
        super::zip::write(w, &entries)
    });
    download(content_type, &name, None, body)
}

/// An audit entry for a download about to start; bytes and digest are filled in at its end.
fn entry(_app: &App, caller: &Caller, path: String, files: Option<Vec<String>>) -> Entry {
    let user = &caller.user;
    Entry {
        time: String::new(),
        user: user.name.clone(),
        scope: user.scope.to_string(),
        client: caller.client.to_string(),
        path,
        bytes: 0,
        sha256: String::new(),
        complete: false,
        files,
    }
}

/// A body that `write` fills on a blocking thread; when it is done (or the client has gone),
/// the download goes into the audit log with what was sent.
fn pump<F>(app: &Arc<App>, runtime: &tokio::runtime::Handle, mut entry: Entry, write: F) -> Body
where
    F: FnOnce(&mut stream::ChunkWriter) -> std::io::Result<()> + Send + 'static,
{
    let (body, mut writer) = stream::channel();
    let app = Arc::clone(app);
    runtime.spawn_blocking(move || {
        let (complete, sent) = match write(&mut writer) {
            Ok(()) => {
                let (result, sent) = writer.finish();
                (result.is_ok(), sent)
            }
            Err(e) => (false, writer.fail(e)),
        };
        entry.time = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        entry.bytes = sent.bytes;
        entry.sha256 = sent.sha256;
        entry.complete = complete;
        app.audit.record(&entry);
    });
    body
}

fn download(content_type: &str, disposition: &str, length: Option<u64>, body: Body) -> Response {
    let mut response = Response::new(body);
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(content_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    if let Some(length) = length {
        h.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    }
    response
}

/// The user behind a request: a valid `Authorization: Bearer` token, or else a live session
/// cookie. A request that sends a wrong token is not rescued by its cookie.
fn identify(app: &App, peer: SocketAddr, headers: &HeaderMap) -> Option<Caller> {
    app.auth.refresh();
    let client = client_ip(peer, headers);
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let token = value.to_str().ok()?.strip_prefix("Bearer ")?.trim();
        return app.auth.bearer(token).map(|user| Caller {
            user,
            session: false,
            client,
        });
    }
    let user = app.auth.session(cookie(headers)?, Instant::now())?;
    Some(Caller {
        user,
        session: true,
        client,
    })
}

/// The session id from the `Cookie` header.
fn cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == COOKIE && !value.is_empty()).then_some(value)
        })
}

/// The client: the peer, or, when the peer is a reverse proxy on this host, the address it
/// appended last to `X-Forwarded-For`.
pub(crate) fn client_ip(peer: SocketAddr, headers: &HeaderMap) -> IpAddr {
    if peer.ip().is_loopback() {
        // Only the last entry is the proxy's own; those before it are the client's say-so.
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .next_back()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|a| a.trim().parse::<IpAddr>().ok());
        if let Some(ip) = forwarded {
            return ip;
        }
    }
    peer.ip()
}

async fn blocking<F>(f: F) -> Response
where
    F: FnOnce() -> Response + Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|_| internal())
}

fn html(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response()
}

/// 401 with the sign-in form, which lands on `next` (the page asked for) once signed in.
fn unauthorized(next: Option<&str>) -> Response {
    let mut response = html(StatusCode::UNAUTHORIZED, pages::login(None, next));
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"settle\""),
    );
    response
}

fn not_found(app: &App, caller: &Caller) -> Response {
    let mut response = html(
        StatusCode::NOT_FOUND,
        pages::not_found(Some(&viewer(app, caller))),
    );
    response.extensions_mut().insert(super::guard::Denied {
        user: caller.user.name.clone(),
        scope: caller.user.scope.to_string(),
    });
    response
}

/// 400: what was wrong with a form, and the way back.
fn bad_request(app: &App, caller: &Caller, message: &str) -> Response {
    let mut response = html(
        StatusCode::BAD_REQUEST,
        pages::bad_request(&viewer(app, caller), message),
    );
    response.extensions_mut().insert(super::guard::Denied {
        user: caller.user.name.clone(),
        scope: caller.user.scope.to_string(),
    });
    response
}

fn redirect(to: &str, cookie: Option<String>) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    if let Some(v) = cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    response
}

fn internal() -> Response {
    (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
}
