//! The HTTP/1.1 server: hyper with its own accept loop, so that slow, idle
//! and surplus connections cannot take the service down, and shutdown ends
//! in bounded time.
//!
//! | limit | setting | default | what happens |
//! |---|---|---|---|
//! | header timeout | `BOOKING_HEADER_TIMEOUT_SECS` | 10 s | a request head not complete this long after the server started waiting for it closes the connection (hyper's `header_read_timeout`; slowloris) |
//! | idle timeout | `BOOKING_IDLE_TIMEOUT_SECS` | 5 s | a connection with no request in progress that has sent nothing for this long is closed |
//! | body timeout | `BOOKING_BODY_TIMEOUT_SECS` | 30 s | a request body not complete this long after the handler started reading it: 408 `request_timeout`, connection closed ([`HttpConfig`](crate::http::HttpConfig)) |
//! | connection cap | `BOOKING_MAX_CONNECTIONS` | 512 | see below |
//! | shutdown deadline | `BOOKING_SHUTDOWN_TIMEOUT_SECS` | 10 s | see below |
//!
//! hyper's header timer also runs while a kept-alive connection waits for
//! its next request, so no connection stays idle longer than the header
//! timeout either; the idle timeout is the shorter, usual bound.
//!
//! **At the connection cap** the server still accepts the new connection
//! and closes the connection that has been idle longest (no request in
//! progress: a kept-alive client between requests, or one that has not
//! finished sending its first request head) to make room, as nginx does with
//! idle keep-alive connections. A fresh client is therefore served at once
//! however many idle or slow connections others hold. Only when every
//! connection has a request in progress is the new one answered `503
//! Service Unavailable` with `Retry-After: 1` and closed. The cap, kept
//! below the process's file-descriptor limit (1,024 by default on Linux,
//! less what the database pool uses), keeps `accept` from failing with "too
//! many open files".
//!
//! **Shutdown**: when the `shutdown` future completes, the listener closes,
//! idle connections are closed at once, and requests in progress get up to
//! the shutdown deadline to finish (their connections close after the reply).
//! Whatever is still open at the deadline (a client holding a partial
//! request, a stuck handler) is dropped and [`serve`] returns.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use http_body_util::BodyExt as _;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt as _, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tower::ServiceExt as _;

use crate::http::metrics::connections as conn_metrics;

/// Connection-level limits (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerLimits {
    /// Time allowed for a complete request head.
    pub header_timeout: Duration,
    /// Time a connection may stay silent with no request in progress.
    pub idle_timeout: Duration,
    /// Most connections served at once.
    pub max_connections: usize,
    /// Time requests in progress get to finish after shutdown starts.
    pub shutdown_timeout: Duration,
}

impl ServerLimits {
    /// Default header timeout: 10 s.
    pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
    /// Default idle timeout: 5 s.
    pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(5);
    /// Default connection cap: 512, half the usual file-descriptor limit.
    pub const DEFAULT_MAX_CONNECTIONS: usize = 512;
    /// Default shutdown deadline: 10 s (`docker stop` waits 10 s before
    /// SIGKILL).
    pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits {
            header_timeout: Self::DEFAULT_HEADER_TIMEOUT,
            idle_timeout: Self::DEFAULT_IDLE_TIMEOUT,
            max_connections: Self::DEFAULT_MAX_CONNECTIONS,
            shutdown_timeout: Self::DEFAULT_SHUTDOWN_TIMEOUT,
        }
    }
}

/// How long the accept loop waits for the room an evicted idle connection
/// frees before answering 503 instead.
const EVICTION_WAIT: Duration = Duration::from_secs(1);

/// How long the accept loop pauses after `accept` fails for lack of file
/// descriptors, so it does not spin while none is free.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// The body of the reply to a connection over the cap while every
/// connection is busy.
const BUSY_BODY: &str =
    r#"{"error":"the server is at its connection limit; retry","code":"unavailable"}"#;

/// That whole reply: 503, `Retry-After: 1`, and the connection closed.
fn busy_reply() -> String {
    format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
         retry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{BUSY_BODY}",
        BUSY_BODY.len()
    )
}

/// Serves `router` on `listener` within `limits` until `shutdown`
/// completes, then drains as the module docs say. Each request carries the
/// peer's [`ConnectInfo<SocketAddr>`] for the rate limits.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: &ServerLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let server = Server {
        registry: Arc::new(Registry::default()),
        slots: Arc::new(Semaphore::new(limits.max_connections.max(1))),
        limits: *limits,
        router,
    };
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    let mut out_of_files = false;
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    out_of_files = false;
                    server.admit(stream, peer, &mut connections).await;
                }
                Err(error) => {
                    if is_per_connection(&error) {
                        continue;
                    }
                    if !out_of_files {
                        tracing::warn!(%error, "accept failed; lower BOOKING_MAX_CONNECTIONS or raise the file limit");
                        out_of_files = true;
                    }
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                }
            },
        }
    }
    drop(listener);
    server.drain(connections).await;
    Ok(())
}

/// `accept` errors that concern one connection only (it was reset before
/// it could be accepted): try the next.
fn is_per_connection(error: &std::io::Error) -> bool {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset, Interrupted};
    matches!(
        error.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset | Interrupted
    )
}

struct Server {
    registry: Arc<Registry>,
    slots: Arc<Semaphore>,
    limits: ServerLimits,
    router: Router,
}

impl Server {
    /// Serves a new connection, making room at the cap (module docs).
    async fn admit(&self, stream: TcpStream, peer: SocketAddr, connections: &mut JoinSet<()>) {
        let permit = match Arc::clone(&self.slots).try_acquire_owned() {
            Ok(permit) => Some(permit),
            Err(_) if self.registry.evict_idlest() => {
                conn_metrics::closed("evicted");
                tokio::time::timeout(EVICTION_WAIT, Arc::clone(&self.slots).acquire_owned())
                    .await
                    .ok()
                    .and_then(Result::ok)
            }
            Err(_) => None,
        };
        let Some(permit) = permit else {
            conn_metrics::closed("refused");
            tracing::warn!(%peer, "connection cap reached with every connection busy; answered 503");
            connections.spawn(refuse(stream));
            return;
        };
        let _ = stream.set_nodelay(true);
        let tracker = self.registry.add();
        connections.spawn(serve_connection(
            stream,
            peer,
            self.router.clone(),
            self.limits,
            tracker,
            Arc::clone(&self.registry),
            permit,
        ));
    }

    /// Closes idle connections, lets busy ones finish until the deadline,
    /// then drops whatever is left.
    async fn drain(self, mut connections: JoinSet<()>) {
        self.registry.close_all();
        let deadline = tokio::time::sleep(self.limits.shutdown_timeout);
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                () = &mut deadline => {
                    let left = connections.len();
                    if left > 0 {
                        tracing::warn!(connections = left, "shutdown deadline passed; dropping connections still open");
                    }
                    connections.abort_all();
                    while connections.join_next().await.is_some() {}
                    return;
                }
                next = connections.join_next() => if next.is_none() { return },
            }
        }
    }
}

/// Answers 503 and closes, without reading the request.
async fn refuse(mut stream: TcpStream) {
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        let _ = stream.write_all(busy_reply().as_bytes()).await;
        let _ = stream.shutdown().await;
    })
    .await;
}

/// Serves one connection until it ends, is found idle, is evicted, or
/// shutdown closes it.
async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    limits: ServerLimits,
    tracker: Arc<Tracker>,
    registry: Arc<Registry>,
    _permit: OwnedSemaphorePermit,
) {
    conn_metrics::opened();
    let service = hyper::service::service_fn({
        let tracker = Arc::clone(&tracker);
        move |request: Request<Incoming>| {
            let router = router.clone();
            let in_progress = tracker.begin();
            async move {
                let mut request = request.map(Body::new);
                request.extensions_mut().insert(ConnectInfo(peer));
                let response = router
                    .oneshot(request)
                    .await
                    .unwrap_or_else(|never| match never {});
                // The request counts as in progress until its reply has
                // been written, when hyper drops the body.
                Ok::<_, Infallible>(response.map(|body| {
                    Body::new(body.map_frame(move |frame| {
                        let _ = &in_progress;
                        frame
                    }))
                }))
            }
        }
    });
    let io = TokioIo::new(Watched {
        stream,
        tracker: Arc::clone(&tracker),
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    let connection = builder.serve_connection(io, service);
    tokio::pin!(connection);
    let mut draining = false;
    loop {
        let idle_check = tokio::time::sleep(tracker.idle_deadline(limits.idle_timeout));
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(error) = result {
                    tracing::debug!(%peer, %error, "connection ended with an error");
                }
                break;
            }
            () = tracker.close.notified(), if !draining => {
                if registry.closing.load(Ordering::SeqCst) {
                    conn_metrics::closed("shutdown");
                }
                if tracker.is_idle() {
                    break;
                }
                // A request is in progress: finish it, then close.
                connection.as_mut().graceful_shutdown();
                draining = true;
            }
            () = idle_check, if !draining => {
                if tracker.is_idle() && tracker.idle_for() >= limits.idle_timeout {
                    conn_metrics::closed("idle");
                    break;
                }
            }
        }
    }
    registry.remove(tracker.id);
    conn_metrics::ended();
}

/// The connections being served, to find the idlest one at the cap and to
/// close them all at shutdown.
#[derive(Default)]
struct Registry {
    next_id: AtomicU64,
    connections: Mutex<HashMap<u64, Arc<Tracker>>>,
    closing: std::sync::atomic::AtomicBool,
}

impl Registry {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<Tracker>>> {
        self.connections.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn add(&self) -> Arc<Tracker> {
        let tracker = Arc::new(Tracker::new(self.next_id.fetch_add(1, Ordering::Relaxed)));
        self.lock().insert(tracker.id, Arc::clone(&tracker));
        if self.closing.load(Ordering::SeqCst) {
            tracker.close.notify_one();
        }
        tracker
    }

    fn remove(&self, id: u64) {
        self.lock().remove(&id);
    }

    /// Tells the connection idle longest to close; `false` when none is
    /// idle.
    fn evict_idlest(&self) -> bool {
        let mut connections = self.lock();
        let idlest = connections
            .values()
            .filter(|tracker| tracker.is_idle())
            .max_by_key(|tracker| tracker.idle_for())
            .map(|tracker| tracker.id);
        match idlest.and_then(|id| connections.remove(&id)) {
            Some(tracker) => {
                tracker.close.notify_one();
                true
            }
            None => false,
        }
    }

    fn close_all(&self) {
        self.closing.store(true, Ordering::SeqCst);
        for tracker in self.lock().values() {
            tracker.close.notify_one();
        }
    }
}

/// What the server knows of one connection.
struct Tracker {
    id: u64,
    /// Requests whose reply has not been written yet.
    in_progress: AtomicUsize,
    /// When a byte last arrived or a reply was last finished, in
    /// milliseconds after `born`.
    last_activity_ms: AtomicU64,
    born: Instant,
    /// Asks the connection to close (eviction, shutdown).
    close: Notify,
}

impl Tracker {
    fn new(id: u64) -> Tracker {
        Tracker {
            id,
            in_progress: AtomicUsize::new(0),
            last_activity_ms: AtomicU64::new(0),
            born: Instant::now(),
            close: Notify::new(),
        }
    }

    fn touch(&self) {
        let now = u64::try_from(self.born.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_activity_ms.store(now, Ordering::Relaxed);
    }

    fn begin(self: &Arc<Self>) -> InProgress {
        self.in_progress.fetch_add(1, Ordering::SeqCst);
        self.touch();
        InProgress(Arc::clone(self))
    }

    fn is_idle(&self) -> bool {
        self.in_progress.load(Ordering::SeqCst) == 0
    }

    fn idle_for(&self) -> Duration {
        let last = Duration::from_millis(self.last_activity_ms.load(Ordering::Relaxed));
        self.born.elapsed().saturating_sub(last)
    }

    /// When the connection will have been idle for `timeout`, if nothing
    /// happens meanwhile.
    fn idle_deadline(&self, timeout: Duration) -> Duration {
        timeout
            .saturating_sub(self.idle_for())
            .max(Duration::from_millis(10))
    }
}

/// A request in progress on a connection, until dropped.
struct InProgress(Arc<Tracker>);

impl Drop for InProgress {
    fn drop(&mut self) {
        self.0.touch();
        self.0.in_progress.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The TCP stream, noting when bytes arrive (a client sending slowly is
/// not idle; the header timeout is what bounds it).
struct Watched {
    stream: TcpStream,
    tracker: Arc<Tracker>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.stream).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.tracker.touch();
        }
        result
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_busy_reply_announces_its_length() {
        let text = busy_reply();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 503 "), "{head}");
        assert!(
            head.contains(&format!("content-length: {}", body.len())),
            "{head}"
        );
        assert!(
            serde_json::from_str::<serde_json::Value>(body).is_ok(),
            "{body}"
        );
    }

    #[test]
    fn the_idlest_connection_is_evicted_and_busy_ones_never() {
        let registry = Registry::default();
        let older = registry.add();
        std::thread::sleep(Duration::from_millis(20));
        let busy = registry.add();
        let _request = busy.begin();
        let newer = registry.add();
        newer.touch();
        assert!(registry.evict_idlest());
        assert!(
            !registry.lock().contains_key(&older.id),
            "the idlest goes first"
        );
        assert!(registry.evict_idlest());
        assert!(!registry.lock().contains_key(&newer.id));
        assert!(
            !registry.evict_idlest(),
            "a connection with a request in progress stays"
        );
        assert!(registry.lock().contains_key(&busy.id));
    }
}
