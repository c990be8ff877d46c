//! What every request passes before its route, and what every refusal leaves behind.
//!
//! - A state-changing request (any method but `GET` and `HEAD`: `POST /login`, `POST /logout`)
//!   whose `Origin` is not the portal's own is refused with 403 before its handler runs, so a
//!   page on another site cannot sign a browser in or out (login CSRF). A request without
//!   `Origin` (curl, an API client) passes unless `Sec-Fetch-Site` says it came from another
//!   site. The portal's origin is the request's `Host`, which a reverse proxy must pass as the
//!   browser sent it (nginx: `proxy_set_header Host $http_host`).
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
fn same_origin(headers: &HeaderMap) -> bool {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let Some(origin) = headers.get(header::ORIGIN) else {
        return text("sec-fetch-site").is_none_or(|v| matches!(v, "same-origin" | "none"));
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
