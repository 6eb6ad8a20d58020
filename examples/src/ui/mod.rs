//! The service's web pages: a landing page, a public booking page per
//! organizer, a sign-up page and an organizer dashboard, so a person can use
//! the system without curl.
//!
//! | page | what it does |
//! |---|---|
//! | `GET /` | what the service is, with links to sign up, the dashboard and the API description (`/api/openapi.json`) |
//! | `GET /{username}` | the organizer's event types to choose from; with only one, straight its booking page |
//! | `GET /{username}/{slug}` | one event type's booking page: the organizer, its title, description, lengths (a chooser when there are several) and place; a month calendar and the chosen day's free slots in the visitor's time zone (detected by the browser, changeable from a list of IANA zones) and the booking form |
//! | `POST /{username}`, `POST /{username}/{slug}` | books; errors come back next to the field or the slot list, which is recomputed, so a slot taken meanwhile says so and is gone |
//! | `GET /bookings/{id}?token=..` | the confirmation: the time in the visitor's and the organizer's zones, where it takes place, the reschedule and cancel links |
//! | `GET`/`POST /bookings/{id}/reschedule?token=..` | the attendee's reschedule page: the free times of the booking's event type over the next two weeks, each a button that moves the booking there (then the confirmation with the new time) |
//! | `GET`/`POST /bookings/{id}/cancel?token=..` | the attendee's cancel page and its Cancel button, with a link to reschedule instead |
//! | `GET`/`POST /dashboard/signup` | creates an organizer (username, email, name, time zone with the browser's preselected), shows the API token once and signs them in |
//! | `GET /dashboard` | the organizer's sign-in (with the API token), then their bookings (with their event type and place) with a date-range filter and pagination, each with Reschedule and Cancel |
//! | `GET`/`POST /dashboard/bookings/{id}/reschedule` | the organizer's reschedule page: the same free times, the move authorised by the session (and its form token) instead of the cancel token |
//! | `/dashboard/event-types...` | the event types: list, create, edit (every field: lengths, buffers, notice, window, limits, place, schedule, hold), show or hide, delete |
//! | `GET`/`POST /dashboard/integrations` | the calendar feed address (and a new one), connected calendars (ICS, CalDAV) and webhook endpoints (the signing secret shown once) |
//! | `/dashboard/schedules...` | the schedules: list, create, edit with the hours editor, make default, delete |
//! | `GET`/`POST /dashboard/settings` | version 1's settings (the default schedule and event type together): time zone, the hours editor (a switch per weekday, time pickers, rows added and removed, date overrides), slot length and step, buffers, notice and advance limits |
//! | `POST /dashboard/logout`, `POST /dashboard/logout-everywhere` | ends this browser's session, or every session of the organizer |
//! | `/assets/app.css`, `/assets/app.js` | the only style sheet and script, compiled into the binary (no CDN, no run-time fetch) |
//!
//! Every page writes dates one way, `Mon 7 Dec 2026, 09:00 (Europe/London)`
//! (module `format`). Dates and months typed into a page's address or form
//! are read between 1900 and 9999 (a month outside the bookable ones is
//! moved into them), so no query parameter reaches a store as an
//! out-of-range timestamp.
//!
//! # How it is built
//!
//! Pages are rendered on the server with [`maud`], which escapes every
//! interpolated value, so text a person typed (a title such as
//! `<script>alert(1)</script>`) is shown as text everywhere. The handlers call
//! [`BookingService`] directly, so the pages obey exactly the rules and
//! errors of the JSON API. They work without JavaScript (the hours editor's
//! Add and Remove buttons submit the form and the server applies them); the
//! small script detects the visitor's time zone, submits the zone picker on
//! change, adds and removes rows of hours in place, copies the new API
//! token, asks before an organizer cancels, shows times in the browser's
//! zone on the cancel page, and on a booking page holds the time the visitor
//! picks (through the JSON API's `POST /api/organizers/{username}/holds`,
//! which is why `connect-src 'self'` is allowed), counts the hold down and
//! books with its token. A strict Content-Security-Policy
//! (`script-src 'self'`) forbids any inline script, as a second line of
//! defence.
//!
//! # Sessions, cookies and CSRF
//!
//! Signing in (or signing up) with the API token starts a booking-core
//! session ([`BookingService::start_session`]): the cookie holds the
//! session's own random token (stored hashed, ending when idle for 2 hours,
//! after 7 days, on sign-out, on "sign out everywhere", or when the API
//! token is rotated), never the API token. The cookie is `HttpOnly` (scripts
//! cannot read it) and `SameSite=Strict`. Only the `session` module knows
//! what the cookie holds.
//!
//! Served over HTTPS the cookie is `__Host-booking_session` with `Secure`: a
//! sibling subdomain cannot set or replace a `__Host-` cookie. Browsers
//! refuse `__Host-` without `Secure`, and refuse `Secure` cookies over plain
//! HTTP, so on plain HTTP it is `booking_session`. `BOOKING_COOKIE_SECURE`
//! decides: `auto` (default: `__Host-`/`Secure` when a proxy in front says
//! `X-Forwarded-Proto: https` or `Forwarded: proto=https`), `true` (always;
//! set it when the service is reached over HTTPS), or `false` (never, for
//! plain-HTTP local use). A request carrying the session cookie's name twice,
//! which is what a cookie planted for a parent domain looks like, is refused
//! (400) rather than guessed at.
//!
//! Every state-changing form post passes two checks (module `csrf`):
//!
//! * **origin**: a post whose `Origin` is not the service's own (or is
//!   `null`), or whose `Sec-Fetch-Site` is not `same-origin`, is refused
//!   with 403. The service's own origin is `BOOKING_PUBLIC_ORIGIN` when set
//!   (needed behind a proxy that rewrites `Host`), else the request's host.
//!   When a browser sends neither header, the token alone decides.
//! * **token**: the organizer's forms (cancel, settings, event types,
//!   schedules, sign out, sign out everywhere) carry an HMAC-SHA256 of the
//!   session cookie's value under a server key (checked in one place,
//!   `Ui::signed_in_post`); the
//!   sign-in and sign-up forms carry one of a random pre-session cookie
//!   (`__Host-booking_presession` / `booking_presession`), so nobody can be
//!   signed into someone else's account either. A missing or wrong token is
//!   403. The key is `BOOKING_CSRF_KEY` (32 characters or more; give every
//!   process behind one address the same) or drawn at random when the pages
//!   start, which makes open forms stale after a restart.
//!
//! The booking form and the attendee's cancel form have the origin check but
//! no token: they act with no sign-in a forged form could borrow (booking is
//! open to anyone, and the cancel form carries the attendee's own secret
//! cancel token). The cancel token travels in the link it was given; pages
//! are sent with `Referrer-Policy: same-origin` and `Cache-Control: no-store`
//! so that link does not leak to other sites or shared caches. (Not
//! `no-referrer`: under it a browser sends `Origin: null` with the pages' own
//! form posts, which the origin check could then not tell from a forged one.)

mod assets;
mod booking;
mod calendar;
mod confirmation;
mod cookies;
mod csrf;
mod dashboard;
mod event_type_form;
mod event_type_list;
mod form;
mod format;
mod hours_editor;
mod landing;
mod layout;
mod location;
mod options;
mod reschedule;
mod schedule_form;
mod session;
mod settings_form;
mod signup;
mod zones;

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::middleware::map_response;
use axum::response::Response;
use axum::routing::{get, post};
use booking_core::BookingService;

use dashboard::{event_types, schedules};

pub use options::{
    COOKIE_SECURE_VAR, CSRF_KEY_VAR, CookieSecurity, MIN_CSRF_KEY_LEN, PUBLIC_ORIGIN_VAR,
    UiOptions, UiOptionsError,
};

/// What every page handler gets: the booking service and the pages' security
/// settings.
#[derive(Clone)]
struct Ui {
    service: BookingService,
    security: Arc<Security>,
}

/// The settings and the key behind the form tokens.
struct Security {
    options: UiOptions,
    /// `None` only when no key could be made (no randomness): then every form
    /// post is refused rather than accepted unprotected.
    key: Option<csrf::CsrfKey>,
}

impl Security {
    fn new(options: UiOptions) -> Self {
        let key = match &options.csrf_key {
            Some(secret) => Some(csrf::CsrfKey::from_secret(secret)),
            None => csrf::CsrfKey::generate()
                .inspect_err(|error| {
                    tracing::error!(%error, "web pages: no randomness for a form-token key; every form post will be refused until {CSRF_KEY_VAR} is set");
                })
                .ok(),
        };
        Security { options, key }
    }

    fn token(&self, purpose: csrf::Purpose, binding: &str) -> String {
        self.key
            .as_ref()
            .map(|key| key.token(purpose, binding))
            .unwrap_or_default()
    }

    fn verify(&self, purpose: csrf::Purpose, binding: &str, presented: &str) -> bool {
        self.key
            .as_ref()
            .is_some_and(|key| key.verify(purpose, binding, presented))
    }
}

/// The web pages as a router with its own state applied, so it merges into
/// a router of any state type: the JSON API's router adds it with
/// `.merge(ui::router(service.clone()))`, and its layers (body limit, panic
/// guard, request log) then cover the pages too. The settings come from the
/// environment ([`UiOptions::from_env`]); one that cannot be used is logged
/// and replaced by the strictest choice.
///
/// It claims `/`, `/assets/*`, `/dashboard*`, `/bookings/{id}`,
/// `/bookings/{id}/cancel`, `/bookings/{id}/reschedule`, and every other one- and two-segment path as an
/// organizer's booking pages (`/{username}`, `/{username}/{slug}`); those
/// names are reserved by booking-core, so no organizer is called
/// `dashboard` or `assets`.
pub fn router<S>(service: BookingService) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    router_with(service, UiOptions::from_env_or_strict())
}

/// [`router`] with the settings given rather than read from the environment.
pub fn router_with<S>(service: BookingService, options: UiOptions) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let security = Arc::new(Security::new(options));
    Router::new()
        .route("/", get(landing::page))
        .route("/assets/app.css", get(assets::css))
        .route("/assets/app.js", get(assets::js))
        .route("/dashboard", get(dashboard::home))
        .route("/dashboard/login", post(dashboard::login))
        .route("/dashboard/logout", post(dashboard::logout))
        .route(
            "/dashboard/logout-everywhere",
            post(dashboard::logout_everywhere),
        )
        .route(signup::URL, get(signup::page).post(signup::sign_up))
        .route(
            settings_form::URL,
            get(dashboard::settings::settings_page).post(dashboard::settings::save_settings),
        )
        .route("/dashboard/bookings/{id}/cancel", post(dashboard::cancel))
        .route(
            "/dashboard/bookings/{id}/reschedule",
            get(reschedule::organizer_page).post(reschedule::organizer_reschedule),
        )
        .route(
            dashboard::integrations::URL,
            get(dashboard::integrations::page).post(dashboard::integrations::act),
        )
        .route(event_types::URL, get(event_types::list))
        .route(
            "/dashboard/event-types/new",
            get(event_types::new_page).post(event_types::create),
        )
        .route(
            "/dashboard/event-types/{slug}/edit",
            get(event_types::edit_page).post(event_types::update),
        )
        .route(
            "/dashboard/event-types/{slug}/active",
            post(event_types::set_active),
        )
        .route(
            "/dashboard/event-types/{slug}/delete",
            post(event_types::delete),
        )
        .route(schedules::URL, get(schedules::list))
        .route(
            "/dashboard/schedules/new",
            get(schedules::new_page).post(schedules::create),
        )
        .route(
            "/dashboard/schedules/{id}/edit",
            get(schedules::edit_page).post(schedules::update),
        )
        .route(
            "/dashboard/schedules/{id}/default",
            post(schedules::make_default),
        )
        .route("/dashboard/schedules/{id}/delete", post(schedules::delete))
        .route("/bookings/{id}", get(confirmation::confirmation))
        .route(
            "/bookings/{id}/cancel",
            get(confirmation::cancel_page).post(confirmation::cancel),
        )
        .route(
            "/bookings/{id}/reschedule",
            get(reschedule::page).post(reschedule::reschedule),
        )
        .route("/{username}", get(booking::page).post(booking::book))
        .route(
            "/{username}/{slug}",
            get(booking::event_type_page).post(booking::book_event_type),
        )
        .layer(map_response(security_headers))
        .with_state(Ui { service, security })
}

/// Headers every page gets: no inline or foreign script, no framing, no
/// referrer to other sites (cancel links carry a secret), and no caching of
/// pages that may show a token or personal data.
async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self' data:; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}
