//! What every request passes before its route, and what every refusal leaves behind.
//!
//! - A state-changing request (any method but `GET` and `HEAD`: `POST /login`, `POST /logout`)
//!   from another site is refused with 403 before its handler runs, so a page on another site
//!   cannot sign a browser in or out (login CSRF). A browser says where a request came from in
//!   `Sec-Fetch-Site` (only `same-origin` passes); without it, `Origin` must be the portal's own,
//!   the request's `Host`, which a reverse proxy must pass as the browser sent it (nginx:
//!   `proxy_set_header Host $http_host`). A request with neither (curl, an API client) passes.
//! - Every refusal (a 4xx answer: 401, 403, 404, 405, 429, …) is one line of the audit log with
//!   the user if one was identified, the client, the method, the path and the status, so a
//!   partner probing other partners' URLs shows up beside the downloads.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::App;
use super::audit::Denial;
use super::handlers::client_ip;

/// Put on a refusal by the handler that identified its user, for the audit line.
#[derive(Debug, Clone)]
pub struct Denied {
    pub user: String,
    pub scope: String,
}

pub async fn guard(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
    next: Next,
) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let client = client_ip(peer, request.headers());
    let safe = method == Method::GET || method == Method::HEAD;
    let response = if safe || same_origin(request.headers()) {
        next.run(request).await
    } else {
        (
            StatusCode::FORBIDDEN,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "403 请求来自其他网站。 Forbidden: the request came from another site.\n",
        )
            .into_response()
    };
    let status = response.status();
    if status.is_client_error() {
        let who = response.extensions().get::<Denied>();
        app.audit.deny(&Denial {
            time: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            user: who.map(|d| d.user.clone()),
            scope: who.map(|d| d.scope.clone()),
            client: client.to_string(),
            method: method.to_string(),
            path: path.chars().take(1024).collect(),
            status: status.as_u16(),
        });
    }
    response
}

/// Whether a state-changing request comes from the portal's own pages (or from no page).
///
/// `Sec-Fetch-Site`, which every current browser sends and no page can forge, decides first:
/// the portal's pages carry `Referrer-Policy: no-referrer`, and under that policy a browser
/// sends `Origin: null` even for a form posted to its own site. Without it (an older browser, an
/// API client), `Origin` must name the request's `Host`, and `null` is foreign; a request with
/// neither is no browser's cross-site form and passes.
fn same_origin(headers: &HeaderMap) -> bool {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = headers.get("sec-fetch-site") {
        return matches!(site.to_str(), Ok("same-origin" | "none"));
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let Some(authority) = origin.to_str().ok().and_then(|o| {
        o.strip_prefix("http://")
            .or_else(|| o.strip_prefix("https://"))
    }) else {
        // `Origin: null` (a sandboxed frame, a redirect across sites) or garbage.
        return false;
    };
    let Some(host) = text("host") else {
        return false;
    };
    let bare = |a: &str| {
        let a = a.trim_end_matches('/');
        a.strip_suffix(":80")
            .or_else(|| a.strip_suffix(":443"))
            .unwrap_or(a)
            .to_ascii_lowercase()
    };
    !authority.is_empty() && bare(authority) == bare(host)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (n, v) in pairs {
            h.insert(*n, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn only_the_portals_own_origin_may_change_state() {
        let host = ("host", "finance.example:8443");
        assert!(same_origin(&headers(&[host])));
        assert!(same_origin(&headers(&[
            host,
            ("origin", "https://finance.example:8443")
        ])));
        assert!(same_origin(&headers(&[
            ("host", "finance.example"),
            ("origin", "https://FINANCE.example")
        ])));
        for bad in [
            "https://evil.example",
            "null",
            "https://finance.example:8443.evil.example",
            "https://finance.example",
        ] {
            let mut h = headers(&[host]);
            h.insert("origin", HeaderValue::from_static(bad));
            assert!(!same_origin(&h), "{bad}");
        }
        assert!(!same_origin(&headers(&[
            host,
            ("sec-fetch-site", "cross-site")
        ])));
        assert!(same_origin(&headers(&[
            host,
            ("sec-fetch-site", "same-origin")
        ])));
    }
}
