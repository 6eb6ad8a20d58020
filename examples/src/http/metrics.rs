//! `GET /metrics`: the service's counters in the Prometheus text format,
//! recorded with the [`metrics`] facade and rendered by
//! `metrics-exporter-prometheus`.
//!
//! | series | type | labels |
//! |---|---|---|
//! | `http_requests_total` | counter | `method`, `route` (the matched template such as `/api/bookings/{id}`, or `unmatched`), `status` |
//! | `http_request_duration_seconds` | histogram | `method`, `route` |
//! | `booking_outcomes_total` | counter | `outcome`: `created` or the error code (`slot_unavailable`, `rate_limited`, ...) of `POST /api/bookings` |
//! | `http_rate_limited_total` | counter | `class`: `reads`, `bookings`, `registrations`, `auth_failures` |
//! | `http_connections_open` | gauge | |
//! | `http_connections_closed_total` | counter | `reason`: `idle`, `evicted` (idlest one closed at the connection cap), `refused` (503 at the cap), `shutdown` |
//! | `booking_store_up`, `booking_lock_up` | gauge | 1 when the last check (each scrape and each `/readyz`) found the store / lock backend answering, else 0 |
//!
//! Routes are templates, never raw paths, so a scan of random URLs or
//! usernames cannot create series without bound. The recorder is installed
//! once per process, the first time a router is built; when the embedding
//! program has installed a recorder of its own, the series go to that one
//! and `/metrics` answers 404 `not_found`.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use booking_core::service::BookingService;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use super::error::{ApiError, ErrorCode};
use super::health;

/// Latency buckets in seconds: from a cached read to a slow database.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The process's Prometheus recorder, installed on first use; `None` when
/// another recorder was installed first.
fn handle() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full("http_request_duration_seconds".to_owned()),
                    LATENCY_BUCKETS,
                )
                .map_err(|error| tracing::warn!(%error, "metrics: latency buckets refused"))
                .ok()?;
            match builder.install_recorder() {
                Ok(handle) => Some(handle),
                Err(error) => {
                    tracing::warn!(%error, "metrics: another recorder is installed; /metrics is off");
                    None
                }
            }
        })
        .as_ref()
}

/// Installs the recorder if it is not yet (so series recorded before the
/// first scrape are kept).
pub fn install() {
    let _ = handle();
}

/// The `/metrics` route, checking the backends' health on each scrape with
/// `timeout`.
pub fn router<S>(service: BookingService, timeout: Duration) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route("/metrics", get(scrape))
        .with_state((service, timeout))
}

async fn scrape(State((service, timeout)): State<(BookingService, Duration)>) -> Response {
    let Some(handle) = handle() else {
        return ApiError::not_found("metrics are recorded by the embedding program")
            .into_response();
    };
    health::check(&service, timeout).await;
    handle.run_upkeep();
    let mut response = handle.render().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    response
}

/// The middleware: counts every request by route and status, times it, and
/// counts the outcome of each booking request.
pub async fn track(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let response = next.run(request).await;
    let status = response.status();
    let labels = [
        ("method", method.as_str().to_owned()),
        ("route", route.clone()),
    ];
    metrics::histogram!("http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    metrics::counter!(
        "http_requests_total",
        "method" => method.as_str().to_owned(),
        "route" => route.clone(),
        "status" => status.as_str().to_owned(),
    )
    .increment(1);
    if method == Method::POST && route == "/api/bookings" {
        let outcome = if status == StatusCode::CREATED {
            "created".to_owned()
        } else {
            response
                .extensions()
                .get::<ErrorCode>()
                .map_or_else(|| "unknown".to_owned(), |code| code.0.to_string())
        };
        metrics::counter!("booking_outcomes_total", "outcome" => outcome).increment(1);
    }
    response
}

/// Counts a request refused by a rate limit of `class`.
pub fn rate_limited(class: &'static str) {
    metrics::counter!("http_rate_limited_total", "class" => class).increment(1);
}

/// Records whether the store and the lock backend answered (the lock's
/// gauge keeps its last value when its answer is not known).
pub fn backends_up(store: bool, lock: Option<bool>) {
    let up = |yes: bool| if yes { 1.0 } else { 0.0 };
    metrics::gauge!("booking_store_up").set(up(store));
    if let Some(lock) = lock {
        metrics::gauge!("booking_lock_up").set(up(lock));
    }
}

/// Connection counts, kept by the server ([`crate::serve`](mod@crate::serve)).
pub mod connections {
    /// A connection was accepted.
    pub fn opened() {
        metrics::gauge!("http_connections_open").increment(1.0);
    }

    /// A connection ended.
    pub fn ended() {
        metrics::gauge!("http_connections_open").decrement(1.0);
    }

    /// The server closed a connection for `reason` (`idle`, `evicted`,
    /// `refused`, `shutdown`).
    pub fn closed(reason: &'static str) {
        metrics::counter!("http_connections_closed_total", "reason" => reason).increment(1);
    }
}
