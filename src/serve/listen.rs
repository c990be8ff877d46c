//! The portal's accept loop: hyper's HTTP/1 server, one task per connection, with a header read
//! timeout.
//!
//! `axum::serve` gives hyper no timer, so a connection that sends nothing (or half a request
//! head) was held for ever: a few hundred idle sockets used up the process's file descriptors
//! and real requests timed out. Here every connection must send a whole request head within
//! `--header-timeout` of being accepted, and again between keep-alive requests; otherwise it is
//! closed. A download in progress is not affected: the timeout runs only while a request head
//! is awaited. On SIGINT or SIGTERM the listener closes, idle connections are closed, and the
//! downloads in progress finish before the process exits.

use std::net::SocketAddr;
use std::pin::pin;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// Serves `router` on `listener` until `shutdown` completes, then waits for the connections in
/// progress.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    header_timeout: Duration,
    shutdown: impl std::future::Future<Output = ()>,
) {
    // `stop` tells the connections to finish; each holds a `done` receiver until it has.
    let (stop, stopped) = watch::channel(());
    let (done, running) = watch::channel(());
    let mut shutdown = pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors, say: wait a little rather than spin.
                    crate::errln!("settle serve: cannot accept a connection: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let service = TowerToHyperService::new(
            router
                .clone()
                .layer(axum::Extension(ConnectInfo::<SocketAddr>(peer))),
        );
        let mut stopped = stopped.clone();
        let running = running.clone();
        tokio::spawn(async move {
            let mut builder = http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout);
            let mut conn = pin!(builder.serve_connection(TokioIo::new(stream), service));
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = stopped.changed() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.as_mut().await;
                }
            }
            drop(running);
        });
    }
    drop(listener);
    let _ = stop.send(());
    drop(running);
    done.closed().await;
}
