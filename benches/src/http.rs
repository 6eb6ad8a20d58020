//! The booking path over HTTP: the example service's router
//! (`booking_examples::router`) served on a loopback port in this process,
//! driven by a Rust HTTP client (reqwest, keep-alive connections), compared
//! with the same operations called in-process on the same service.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::serve::ListenerExt;
use booking_core::service::{BookingService, SlotQuery};
use booking_core::time::TimeRange;
use chrono::Duration as ChronoDuration;
use tokio::task::JoinHandle;

use crate::backend::LoadError;
use crate::fixtures::{
    ATTENDEE_EMAIL, ATTENDEE_NAME, BOOKING_DESCRIPTION, BOOKING_TITLE, LOAD_FIRST_SLOT, Layout,
    load_slot, organizer_username,
};
use crate::scenario::{OpError, chain};

/// A boxed operation future, as [`crate::scenario::drive`] takes them.
pub type OpFuture = Pin<Box<dyn Future<Output = Result<(), OpError>> + Send>>;

/// The example service listening on `127.0.0.1:<ephemeral>`; stops when
/// dropped.
#[derive(Debug)]
pub struct Server {
    base: String,
    task: JoinHandle<()>,
}

impl Server {
    /// Serves `booking_examples::router(service)`.
    pub async fn start(service: BookingService) -> Result<Server, LoadError> {
        Self::serve(booking_examples::router(service)).await
    }

    /// The transport floor: a router with the slots query's route alone,
    /// answering every request with `reply` (the bytes and content type of
    /// a real reply) and nothing behind it: no service, no middleware. The
    /// same client driving it measures what loopback HTTP itself costs
    /// (client, hyper, the kernel), which no change to the service can
    /// remove.
    pub async fn floor(reply: FixedReply) -> Result<Server, LoadError> {
        let reply = Arc::new(reply);
        let router = axum::Router::new().route(
            "/api/organizers/{username}/slots",
            axum::routing::get(move || {
                let reply = Arc::clone(&reply);
                async move {
                    (
                        [(axum::http::header::CONTENT_TYPE, reply.content_type.clone())],
                        reply.body.clone(),
                    )
                }
            }),
        );
        Self::serve(router).await
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base(&self) -> &str {
        &self.base
    }

    async fn serve(router: axum::Router) -> Result<Server, LoadError> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        // As the service program does (`booking_examples::serve`): replies
        // go out without waiting for the client's ACK (Nagle).
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let task = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, router).await {
                eprintln!("  the HTTP server stopped: {error}");
            }
        });
        Ok(Server {
            base: format!("http://{addr}"),
            task,
        })
    }
}

/// A reply captured from the service, for [`Server::floor`] to repeat.
#[derive(Debug, Clone)]
pub struct FixedReply {
    content_type: axum::http::HeaderValue,
    body: bytes::Bytes,
}

/// One slots query of `layout`'s first task over HTTP, as
/// [`http_slots_op`] sends it, kept whole.
pub async fn capture_slots_reply(
    client: &reqwest::Client,
    base: &str,
    run: &str,
    layout: Layout,
) -> Result<FixedReply, LoadError> {
    let failed = |what: String| LoadError::Other(format!("capturing a slots reply: {what}"));
    let response = slots_request(client, base, run, layout, 0, 0)
        .map_err(|e| failed(e.message))?
        .send()
        .await
        .map_err(|e| failed(chain(&e)))?;
    if response.status() != reqwest::StatusCode::OK {
        return Err(failed(format!("status {}", response.status())));
    }
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| axum::http::HeaderValue::from_bytes(v.as_bytes()).ok())
        .unwrap_or(axum::http::HeaderValue::from_static("application/json"));
    let body = response.bytes().await.map_err(|e| failed(chain(&e)))?;
    Ok(FixedReply { content_type, body })
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A client with keep-alive connections (one per concurrent task, reused).
pub fn client(tasks: usize) -> Result<reqwest::Client, LoadError> {
    reqwest::Client::builder()
        .pool_max_idle_per_host(tasks)
        .tcp_nodelay(true)
        .build()
        .map_err(|e| LoadError::Other(format!("building the HTTP client: {e}")))
}

/// The day window of the `n`-th slots query: one of the first 28 days of
/// the organizers' calendar (96 fifteen-minute slots a day, 8 of them booked
/// once the run has gone that far).
pub fn day_window(n: u64) -> Result<TimeRange, OpError> {
    let day = i64::try_from(n % 28).unwrap_or(0);
    TimeRange::starting_at(
        LOAD_FIRST_SLOT + ChronoDuration::days(day),
        ChronoDuration::days(1),
    )
    .map_err(|e| OpError::new("fixture", e.to_string()))
}

/// `BookingService::available_slots` in-process, for a day, on task
/// `task`'s organizers.
pub fn slots_op(
    service: BookingService,
    run: Arc<str>,
    layout: Layout,
) -> impl Fn(usize, u64) -> OpFuture + Send + Sync + 'static {
    move |task, n| {
        let service = service.clone();
        let run = Arc::clone(&run);
        Box::pin(async move {
            let organizer = layout.organizer(task, n);
            let window = day_window(n)?;
            let query = SlotQuery::new(organizer_username(&run, organizer), window);
            let slots = service
                .available_slots(query)
                .await
                .map_err(|e| OpError::new(e.code(), chain(&e)))?;
            std::hint::black_box(slots);
            Ok(())
        })
    }
}

/// `GET /api/organizers/{username}/slots?start=&end=` for the same days.
pub fn http_slots_op(
    client: reqwest::Client,
    base: Arc<str>,
    run: Arc<str>,
    layout: Layout,
) -> impl Fn(usize, u64) -> OpFuture + Send + Sync + 'static {
    move |task, n| {
        let client = client.clone();
        let base = Arc::clone(&base);
        let run = Arc::clone(&run);
        Box::pin(async move {
            let response = slots_request(&client, &base, &run, layout, task, n)?
                .send()
                .await
                .map_err(|e| OpError::new("http", chain(&e)))?;
            expect_status(response, reqwest::StatusCode::OK).await
        })
    }
}

/// The `n`-th slots query of task `task`, ready to send to `base`.
fn slots_request(
    client: &reqwest::Client,
    base: &str,
    run: &str,
    layout: Layout,
    task: usize,
    n: u64,
) -> Result<reqwest::RequestBuilder, OpError> {
    let organizer = layout.organizer(task, n);
    let window = day_window(n)?;
    let url = format!(
        "{base}/api/organizers/{}/slots",
        organizer_username(run, organizer)
    );
    Ok(client.get(url).query(&[
        ("start", window.start().to_rfc3339()),
        ("end", window.end().to_rfc3339()),
    ]))
}

/// `POST /api/bookings` with the same request the in-process phase sends
/// (no `eventType`: the organizer's default event type, as in-process).
pub fn http_booking_op(
    client: reqwest::Client,
    base: Arc<str>,
    run: Arc<str>,
    layout: Layout,
) -> impl Fn(usize, u64) -> OpFuture + Send + Sync + 'static {
    move |task, n| {
        let client = client.clone();
        let base = Arc::clone(&base);
        let run = Arc::clone(&run);
        Box::pin(async move {
            let (organizer, slot) = layout
                .booking(task, n)
                .ok_or_else(|| OpError::new("horizon", "horizon used up"))?;
            let range = load_slot(slot).map_err(|e| OpError::new("fixture", e.to_string()))?;
            let body = serde_json::json!({
                "organizerUsername": organizer_username(&run, organizer),
                "attendantName": ATTENDEE_NAME,
                "attendantEmail": ATTENDEE_EMAIL,
                "title": BOOKING_TITLE,
                "description": BOOKING_DESCRIPTION,
                "startTime": range.start().to_rfc3339(),
                "endTime": range.end().to_rfc3339(),
            });
            let response = client
                .post(format!("{base}/api/bookings"))
                .json(&body)
                .send()
                .await
                .map_err(|e| OpError::new("http", chain(&e)))?;
            expect_status(response, reqwest::StatusCode::CREATED).await
        })
    }
}

/// Reads the whole body; a status other than `expected` becomes an error
/// coded with the API's `code` field.
async fn expect_status(
    response: reqwest::Response,
    expected: reqwest::StatusCode,
) -> Result<(), OpError> {
    let status = response.status();
    let body = response
        .bytes()
        .await
        .map_err(|e| OpError::new("http", chain(&e)))?;
    if status == expected {
        return Ok(());
    }
    let code = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("code").and_then(|c| c.as_str()).map(str::to_owned))
        .unwrap_or_else(|| format!("http_{}", status.as_u16()));
    Err(OpError::new(
        code,
        format!("{status}: {}", String::from_utf8_lossy(&body)),
    ))
}
