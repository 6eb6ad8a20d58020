//! The service's web pages: a public booking page per organizer and an
//! organizer dashboard, so a person can use the system without curl.
//!
//! | page | what it does |
//! |---|---|
//! | `GET /{username}` | a month calendar and the chosen day's free slots in the visitor's time zone (detected by the browser, changeable from a list of IANA zones) and the booking form |
//! | `POST /{username}` | books; errors come back next to the field or the slot list, which is recomputed, so a slot taken meanwhile says so and is gone |
//! | `GET /bookings/{id}?token=..` | the confirmation: the time in the visitor's and the organizer's zones and the cancel link |
//! | `GET`/`POST /bookings/{id}/cancel?token=..` | the attendee's cancel page and its Cancel button |
//! | `GET /dashboard` | the organizer's sign-in (with the API token), then their bookings with a date-range filter and pagination, each with a Cancel button |
//! | `GET`/`POST /dashboard/settings` | weekly hours, date overrides, slot length and step, buffers, notice and advance limits |
//! | `/assets/app.css`, `/assets/app.js` | the only style sheet and script, compiled into the binary (no CDN, no run-time fetch) |
//!
//! # How it is built
//!
//! Pages are rendered on the server with [`maud`], which escapes every
//! interpolated value, so text a person typed (a title such as
//! `<script>alert(1)</script>`) is shown as text everywhere. The handlers call
//! [`BookingService`] directly, so the pages obey exactly the rules and
//! errors of the JSON API. They work without JavaScript; the small script
//! only detects the visitor's time zone, submits the zone picker on change,
//! asks before an organizer cancels, and shows times in the browser's zone on
//! the cancel page. A strict Content-Security-Policy (`script-src 'self'`)
//! forbids any inline script, as a second line of defence.
//!
//! # Sessions and CSRF
//!
//! Signing in posts the API token to the server, which checks it with
//! [`BookingService::authenticate`] and keeps it in a cookie that is
//! `HttpOnly` (scripts cannot read it) and `SameSite=Strict` (the browser
//! never sends it with a request started by another site). Every
//! state-changing dashboard request is a same-site `POST`, so
//! `SameSite=Strict` is this example's protection against cross-site request
//! forgery; requests a browser labels `Sec-Fetch-Site: cross-site` are
//! refused as well. Behind HTTPS a deployment would add `Secure` to the
//! cookie. The attendee's cancel token travels in the link it was given; pages
//! are sent with `Referrer-Policy: no-referrer` and `Cache-Control: no-store`
//! so that link does not leak to other sites or shared caches.

mod assets;
mod booking;
mod calendar;
mod dashboard;
mod format;
mod layout;
mod settings_form;
mod zones;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::middleware::map_response;
use axum::response::Response;
use axum::routing::{get, post};
use booking_core::service::BookingService;

/// What every page handler gets: the booking service.
#[derive(Clone)]
struct Ui {
    service: BookingService,
}

/// The web pages as a router with its own state applied, so it merges into
/// a router of any state type: the JSON API's router adds it with
/// `.merge(ui::router(service.clone()))`, and its layers (body limit, panic
/// guard, request log) then cover the pages too.
///
/// It claims `/assets/*`, `/dashboard*`, `/bookings/{id}`,
/// `/bookings/{id}/cancel` and every other one-segment path as an
/// organizer's booking page, so an organizer whose username is `dashboard`
/// or `assets` has no public page.
pub fn router<S>(service: BookingService) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route("/assets/app.css", get(assets::css))
        .route("/assets/app.js", get(assets::js))
        .route("/dashboard", get(dashboard::home))
        .route("/dashboard/login", post(dashboard::login))
        .route("/dashboard/logout", post(dashboard::logout))
        .route(
            "/dashboard/settings",
            get(dashboard::settings_page).post(dashboard::save_settings),
        )
        .route("/dashboard/bookings/{id}/cancel", post(dashboard::cancel))
        .route("/bookings/{id}", get(booking::confirmation))
        .route(
            "/bookings/{id}/cancel",
            get(booking::cancel_page).post(booking::cancel),
        )
        .route("/{username}", get(booking::page).post(booking::book))
        .layer(map_response(security_headers))
        .with_state(Ui { service })
}

/// Headers every page gets: no inline or foreign script, no framing, no
/// referrer (cancel links carry a secret), and no caching of pages that may
/// show a token or personal data.
async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}
