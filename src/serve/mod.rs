//! `settle serve`: the finance portal, where finance staff and partners download their month's
//! documents over HTTP, each seeing only what their scope grants.
//!
//! It sits beside the pipeline at the top of the house and shares nothing with it at run time:
//! it reads the settled period folders `settle run` leaves under `DIR` and their `manifest.json`,
//! and never imports the rules, the readers or the pipeline. Its parts:
//! - [`users`]: the users file and `settle users add`, `remove`, `passwd` and `list`;
//! - [`auth`]: API tokens, login sessions and the login rate limit;
//! - [`scope`]: what each scope may see in a period;
//! - [`catalog`] and [`paths`]: the settled periods, and paths that cannot leave `DIR`;
//! - [`files`], [`zip`] and [`stream`]: the bytes of a download and its headers;
//! - [`pages`]: the bilingual HTML; [`month`]: a month's page, with [`statements`] and
//!   [`totals`] read from its CSVs, [`labels`] for its documents and [`numbers`] for its amounts;
//! - [`responses`]: partners' confirmations and disputes, kept in the state folder, never in a
//!   period folder; [`next`]: where a sign-in lands;
//! - [`audit`]: the JSON-lines audit log;
//! - [`handlers`]: the routes; [`guard`]: the `Origin` check and the audit line of every
//!   refusal; [`listen`]: the accept loop, which closes connections that send no request.

mod audit;
mod auth;
mod catalog;
mod files;
mod guard;
mod handlers;
mod labels;
mod listen;
mod month;
mod next;
mod numbers;
mod pages;
mod paths;
mod responses;
pub mod scope;
mod statements;
mod stream;
mod totals;
pub mod users;
mod walk;
mod zip;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, header};
use axum::routing::{get, post};
use tower_http::set_header::SetResponseHeaderLayer;

pub use users::UsersError;

/// A validated `settle serve` request.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// The folder `settle run --out` writes to.
    pub out: PathBuf,
    pub users: PathBuf,
    pub bind: SocketAddr,
    /// Where the audit log goes; `None` is `audit.jsonl` beside the users file.
    pub audit: Option<PathBuf>,
    /// Where the portal keeps what users tell it (partners' answers); `None` is the audit log's
    /// folder.
    pub state: Option<PathBuf>,
    /// How long a connection may take to send a whole request head before it is closed.
    pub header_timeout: Duration,
}

/// The default of `--header-timeout`.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(30);

/// What stops the portal, and its exit code.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Users(#[from] UsersError),

    #[error("`{}` is not a folder\nhint: pass the folder `settle run --out` writes to, for example `--out outputs`", .0.display())]
    NotAFolder(PathBuf),

    #[error("cannot open the audit log `{}`: {source}\nhint: pass a file the server may append to with `--audit FILE`", .path.display())]
    Audit {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error(
        "cannot listen on `{bind}`: {source}\nhint: is another server using that port? Pick another with `--bind 127.0.0.1:PORT`"
    )]
    Bind {
        bind: SocketAddr,
        source: std::io::Error,
    },

    #[error("the server failed: {0}")]
    Runtime(std::io::Error),
}

impl ServeError {
    pub fn exit_code(&self) -> u8 {
        match self {
            // The token went nowhere, or the file could not be written: not the user's mistake.
            ServeError::Runtime(_)
            | ServeError::Users(UsersError::Deliver(_) | UsersError::Write { .. }) => 1,
            _ => 2,
        }
    }
}

/// Everything a request handler needs, shared.
pub(crate) struct App {
    /// Canonical `DIR`.
    root: PathBuf,
    auth: auth::Auth,
    audit: audit::Audit,
    responses: responses::Responses,
}

/// The audit log's place when `--audit` is not given: beside the users file.
pub fn default_audit(users: &Path) -> PathBuf {
    match users.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.join("audit.jsonl"),
        _ => PathBuf::from("audit.jsonl"),
    }
}

/// The state folder when `--state` is not given: the audit log's folder.
pub fn default_state(audit: &Path) -> PathBuf {
    match audit.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Checks the configuration, binds, prints `listening on http://ADDR`, and serves until SIGINT
/// or SIGTERM.
pub fn run(cfg: &ServeConfig) -> Result<(), ServeError> {
    let users = users::load(&cfg.users)?;
    let root = cfg
        .out
        .canonicalize()
        .ok()
        .filter(|p| p.is_dir())
        .ok_or_else(|| ServeError::NotAFolder(cfg.out.clone()))?;
    let audit_path = cfg
        .audit
        .clone()
        .unwrap_or_else(|| default_audit(&cfg.users));
    let audit = audit::Audit::open(&audit_path).map_err(|source| ServeError::Audit {
        path: audit_path.clone(),
        source,
    })?;
    let state = cfg
        .state
        .clone()
        .unwrap_or_else(|| default_state(&audit_path));
    let periods = catalog::settled(&root);
    for u in &users {
        let grants_somewhere = periods.iter().any(|p| {
            catalog::manifest(p).is_some_and(|m| {
                let outputs: Vec<&str> = m.outputs.iter().map(|o| o.file.as_str()).collect();
                (m.published() || u.scope == scope::Scope::Finance)
                    && !u.scope.grants(&outputs).is_empty()
            })
        });
        if !grants_somewhere {
            crate::errln!(
                "warning: user `{}` (scope `{}`) has no document in any published period under `{}` yet",
                u.name,
                u.scope,
                cfg.out.display()
            );
        }
    }
    let app = Arc::new(App {
        root,
        auth: auth::Auth::new(users, Some(cfg.users.clone()))?,
        audit,
        responses: responses::Responses::new(&state),
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(ServeError::Runtime)?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(cfg.bind)
            .await
            .map_err(|source| ServeError::Bind {
                bind: cfg.bind,
                source,
            })?;
        let addr = listener.local_addr().map_err(ServeError::Runtime)?;
        crate::errln!(
            "settle serve: {} settled period(s) under `{}`, {} user(s), audit log `{}`, partners' answers under `{}`",
            periods.len(),
            cfg.out.display(),
            app.auth.count(),
            app.audit.path().display(),
            state.join("responses").display()
        );
        crate::errln!("listening on http://{addr}");
        reload_on_hangup(Arc::clone(&app));
        listen::serve(listener, router(app), cfg.header_timeout, shutdown()).await;
        Ok(())
    })
}

/// The security headers every response carries.
const HEADERS: [(HeaderName, &str); 6] = [
    (
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::CACHE_CONTROL, "private, no-store"),
    (header::REFERRER_POLICY, "no-referrer"),
    (header::X_FRAME_OPTIONS, "DENY"),
    (
        HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    ),
];

fn router(app: Arc<App>) -> Router {
    let mut router = Router::new()
        .route("/", get(handlers::index))
        .route("/style.css", get(handlers::style))
        .route("/login", get(handlers::login_form).post(handlers::login))
        .route("/logout", post(handlers::logout))
        .fallback(handlers::documents)
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&app),
            guard::guard,
        ))
        .with_state(app);
    for (name, value) in HEADERS {
        router = router.layer(SetResponseHeaderLayer::overriding(
            name,
            HeaderValue::from_static(value),
        ));
    }
    router
}

/// SIGHUP (`systemctl reload`) reads the users file again, as a change to it does.
fn reload_on_hangup(app: Arc<App>) {
    #[cfg(unix)]
    if let Ok(mut hangup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
        tokio::spawn(async move {
            while hangup.recv().await.is_some() {
                let app = Arc::clone(&app);
                let _ = tokio::task::spawn_blocking(move || app.auth.reload()).await;
            }
        });
    }
    #[cfg(not(unix))]
    drop(app);
}

async fn shutdown() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    crate::errln!("settle serve: shutting down");
}
