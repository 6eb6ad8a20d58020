//! The HTTP API: [`router`] maps the endpoints onto a [`BookingService`].
//!
//! | method and path | who | reply |
//! |---|---|---|
//! | `POST /api/organizers` | anyone | 201 `{organizer, apiToken}` |
//! | `POST /api/token/rotate` | organizer | 200 `{apiToken}`: a new token; the old one and every sign-in session made with it stop working |
//! | `GET /api/settings` | organizer | 200 settings |
//! | `PUT /api/settings` | organizer | 200 the stored settings |
//! | `GET /api/event-types` | organizer | 200 `{eventTypes}`, active or not |
//! | `POST /api/event-types` | organizer | 201 the stored event type |
//! | `GET`/`PUT`/`DELETE /api/event-types/{slug}` | organizer | 200 the event type / 200 as stored / 204 |
//! | `GET /api/schedules` | organizer | 200 `{schedules}` |
//! | `POST /api/schedules` | organizer | 201 the stored schedule |
//! | `GET`/`PUT`/`DELETE /api/schedules/{id}` | organizer | 200 the schedule / 200 as stored / 204 |
//! | `GET /api/organizers/{username}/event-types` | anyone | 200 `{eventTypes}`: the active ones, without private fields |
//! | `GET /api/organizers/{username}/slots?start=&end=&eventType=&duration=` | anyone | 200 `{slots}` |
//! | `POST /api/bookings` (`holdToken` optional; `Idempotency-Key` header) | anyone | 201 `{success, booking, cancelToken}` |
//! | `GET /api/bookings?page=&limit=&startDate=&endDate=` | organizer | 200 `{bookings, pagination}` |
//! | `GET /api/bookings/{id}` | its organizer, or `?cancelToken=` | 200 `{booking}` |
//! | `POST /api/bookings/{id}/cancel` (`Idempotency-Key` header) | its organizer, or `{cancelToken}` | 200 `{success, message, cancelledAt, booking}` |
//! | `POST /api/bookings/{id}/reschedule` (`Idempotency-Key` header) | its organizer, or `cancelToken` in the body | 200 `{success, booking}` |
//! | `POST /api/organizers/{username}/holds` | anyone | 201 `{holdId, holdToken, expiresAt, startTime, endTime}` |
//! | `DELETE /api/holds/{id}` | with the hold's token (body `holdToken` or `Hold-Token` header) | 204 |
//! | `GET /api/bookings/{id}/ics` | its organizer, or `?cancelToken=` | 200 `text/calendar`: the booking's invitation ([`handlers::calendar`]) |
//! | `GET /api/organizers/{username}/calendar.ics?token=` | the feed token's holder | 200 `text/calendar`: the organizer's feed |
//! | `GET`/`POST /api/feed-token` | organizer | 200 `{token, url}`: the feed token / a new one (the old one stops working) |
//! | `GET /api/calendars` | organizer | 200 `{calendars}` (never a password) |
//! | `POST /api/calendars` | organizer | 201 the connected calendar |
//! | `DELETE /api/calendars/{id}` | organizer | 204 |
//! | `POST /api/webhooks` | organizer | 201 the endpoint with its `secret` (`whsec_...`, shown once) ([`handlers::webhooks`]) |
//! | `GET /api/webhooks` | organizer | 200 `{webhooks}` |
//! | `DELETE /api/webhooks/{id}` | organizer | 204 |
//! | `POST /api/webhooks/{id}/rotate-secret` | organizer | 200 `{secret, previousSecretExpiresAt}` |
//! | `GET /api/webhooks/{id}/deliveries?limit=` | organizer | 200 `{deliveries}` |
//! | `GET /healthz` | anyone | 200 (liveness: the process serves) |
//! | `GET /readyz` | anyone | 200, or 503 when the store does not answer ([`health`]) |
//! | `GET /metrics` | anyone | 200 Prometheus text ([`metrics`]) |
//! | `GET /api/openapi.json` | anyone | 200 the OpenAPI 3.1 description of all of the above ([`openapi`]) |
//!
//! "Organizer" means `Authorization: Bearer <apiToken>`. Every error is
//! `{"error": "...", "code": "..."}` (plus `fields` for `validation_error`,
//! named as in [`fields`]) with the status of [`error::STATUS_TABLE`];
//! request bodies are limited to 64 KiB (413 beyond, refused from
//! `Content-Length` before any byte is read: [`oversize`]) and must arrive
//! within the body timeout (408 `request_timeout`). Fields a body's endpoint
//! does not know are refused or named in the `Ignored-Fields` header
//! ([`unknown_fields`]). With [`router_with`], each client address also has
//! budgets per class of request (429 `rate_limited`: [`rate_limit`]).
//! Request logs name the method and path only, never the query string,
//! which may carry a cancel token. Rescheduling, idempotency keys and slot
//! holds are described in [`handlers::lifecycle`] and [`idempotency`].

use std::any::Any;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, Request, header};
use axum::middleware::{from_fn, from_fn_with_state, map_response};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, delete, get, post};
use booking_core::BookingService;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::RequestBodyDeadlineLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

pub mod client;
pub mod dto;
pub mod error;
pub mod extract;
pub mod fields;
pub mod handlers;
pub mod health;
pub mod idempotency;
pub mod metrics;
pub mod openapi;
pub mod oversize;
pub mod rate_limit;
pub mod unknown_fields;

use handlers::{event_types, lifecycle, schedules};

pub use error::ApiError;
pub use extract::MAX_BODY_BYTES;
pub use rate_limit::{Rate, RateLimits};

/// How the HTTP layer behaves beyond what the service decides: timeouts of
/// the request and the per-client budgets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpConfig {
    /// How long a request body may take to arrive in full (408 after).
    pub body_timeout: Duration,
    /// How long `/readyz` and `/metrics` wait for each backend.
    pub readiness_timeout: Duration,
    /// Per-client budgets.
    pub rate_limits: RateLimits,
    /// The pages' settings; `None` reads them from the environment when
    /// the router is built ([`crate::ui::router`]). The service program
    /// sets them from its configuration, flags included.
    pub ui: Option<crate::ui::UiOptions>,
}

impl HttpConfig {
    /// The default body timeout: 30 s for at most 64 KiB.
    pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(30);
}

impl Default for HttpConfig {
    /// The documented defaults, rate limits on.
    fn default() -> Self {
        HttpConfig {
            body_timeout: Self::DEFAULT_BODY_TIMEOUT,
            readiness_timeout: health::DEFAULT_READINESS_TIMEOUT,
            rate_limits: RateLimits::default(),
            ui: None,
        }
    }
}

/// What every handler shares: the service (cheap to clone).
#[derive(Clone, Debug)]
pub struct AppState {
    /// The booking service the API is a front for.
    pub service: BookingService,
}

/// The whole API for `service`, with the body limit and timeout, panic
/// guard, security headers, metrics and request logging applied, and no
/// per-client rate limits: for tests, benchmarks and embedders that limit
/// elsewhere. The service program uses [`router_with`].
pub fn router(service: BookingService) -> Router {
    router_with(
        service,
        &HttpConfig {
            rate_limits: RateLimits::off(),
            ..HttpConfig::default()
        },
    )
}

/// The whole API for `service` as `config` says. Its rate limits key on the
/// client's address, which the router finds in the request's
/// [`ConnectInfo`](axum::extract::ConnectInfo) (as
/// [`serve`](crate::serve::serve) and axum's
/// `into_make_service_with_connect_info` provide); requests without one are
/// not limited.
pub fn router_with(service: BookingService, config: &HttpConfig) -> Router {
    assemble(service, Router::new(), config)
}

/// The whole API of `app` as `config` says: [`router_with`] and the
/// calendar and webhook endpoints. This is what the service program serves.
pub fn app_router(app: crate::App, config: &HttpConfig) -> Router {
    let service = app.service.clone();
    let integrations = app.integrations.clone();
    let extra = Router::new()
        .merge(handlers::calendar::router(app.clone()))
        .merge(handlers::webhooks::router(app));
    // The dashboard's integrations page finds them here.
    assemble(service, extra, config).layer(axum::Extension(integrations))
}

/// The routes of `service` and `extra`, with every layer.
fn assemble(service: BookingService, extra: Router<AppState>, config: &HttpConfig) -> Router {
    metrics::install();
    let routes = Router::new()
        .merge(extra)
        .merge(match &config.ui {
            Some(options) => crate::ui::router_with(service.clone(), options.clone()),
            None => crate::ui::router(service.clone()),
        })
        .merge(health::router(service.clone(), config.readiness_timeout))
        .merge(metrics::router(service.clone(), config.readiness_timeout))
        .route("/healthz", get(handlers::healthz))
        .route("/api/openapi.json", get(openapi::serve))
        .route("/api/organizers", post(handlers::register))
        .route("/api/token/rotate", post(handlers::rotate_token))
        .route("/api/organizers/{username}/slots", get(handlers::slots))
        .route(
            "/api/organizers/{username}/event-types",
            get(event_types::public),
        )
        .route(
            "/api/settings",
            get(handlers::get_settings).put(handlers::put_settings),
        )
        .route(
            "/api/event-types",
            get(event_types::list).post(event_types::create),
        )
        .route(
            "/api/event-types/{slug}",
            get(event_types::read)
                .put(event_types::replace)
                .delete(event_types::delete),
        )
        .route(
            "/api/schedules",
            get(schedules::list).post(schedules::create),
        )
        .route(
            "/api/schedules/{id}",
            get(schedules::read)
                .put(schedules::replace)
                .delete(schedules::delete),
        )
        .route(
            "/api/bookings",
            post(lifecycle::create_booking).get(handlers::list_bookings),
        )
        .route("/api/bookings/{id}", get(handlers::get_booking))
        .route("/api/bookings/{id}/cancel", post(lifecycle::cancel_booking))
        .route("/api/bookings/{id}/reschedule", post(lifecycle::reschedule))
        .route("/api/organizers/{username}/holds", post(lifecycle::hold))
        .route("/api/holds/{id}", delete(lifecycle::release_hold))
        // Every other `/api/` path is the API's JSON 404, never a page.
        .route("/api/{*rest}", any(handlers::no_route))
        .fallback(handlers::no_route)
        .method_not_allowed_fallback(handlers::wrong_method)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(RequestBodyDeadlineLayer::new(config.body_timeout))
        .layer(from_fn(oversize::refuse_announced_oversize))
        .layer(from_fn(unknown_fields::report))
        .layer(from_fn_with_state(
            std::sync::Arc::new(config.rate_limits.trusted_proxies.clone()),
            client::record,
        ))
        .layer(map_response(security_headers));
    // Limits run inside the metrics and the log, so refusals are counted.
    let routes = match rate_limit::Limiter::new(&config.rate_limits) {
        Some(limiter) => routes.layer(from_fn_with_state(limiter, rate_limit::limit)),
        None => routes,
    };
    routes
        .layer(from_fn(metrics::track))
        .layer(CatchPanicLayer::custom(panic_reply))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request<_>| {
                    tracing::info_span!(
                        "request",
                        method = %request.method(),
                        path = %request.uri().path(),
                    )
                })
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .with_state(AppState { service })
}

/// Replies are JSON for programs; `nosniff` stops a browser from rendering
/// stored text (which is kept verbatim, HTML included) as a page, and
/// `no-store` keeps tokens out of caches.
async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A handler that panicked answers 500 `internal` instead of dropping the
/// connection; the panic itself is logged.
fn panic_reply(panic: Box<dyn Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    tracing::error!(panic = detail, "a request handler panicked");
    ApiError::new(
        axum::http::StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "internal server error; the details were logged",
    )
    .into_response()
}
