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
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let router = booking_examples::router(service);
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

    /// `http://127.0.0.1:<port>`.
    pub fn base(&self) -> &str {
        &self.base
    }
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
            let (organizer, _) = layout
                .booking(task, n)
                .ok_or_else(|| OpError::new("horizon", "horizon used up"))?;
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
            let (organizer, _) = layout
                .booking(task, n)
                .ok_or_else(|| OpError::new("horizon", "horizon used up"))?;
            let window = day_window(n)?;
            let url = format!(
                "{base}/api/organizers/{}/slots",
                organizer_username(&run, organizer)
            );
            let response = client
                .get(url)
                .query(&[
                    ("start", window.start().to_rfc3339()),
                    ("end", window.end().to_rfc3339()),
                ])
                .send()
                .await
                .map_err(|e| OpError::new("http", chain(&e)))?;
            expect_status(response, reqwest::StatusCode::OK).await
        })
    }
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
