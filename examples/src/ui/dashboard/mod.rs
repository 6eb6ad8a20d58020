//! The organizer's pages: sign-in with the API token, the booking list
//! (date-range filter, pagination, reschedule, cancel), and the pages of the other
//! modules here: settings, event types and schedules. Every form post passes
//! the origin check and carries the session's (or, for signing in, the
//! pre-session's) form token; see [`super::csrf`].

use std::collections::HashMap;

use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use booking_core::{
    BookingId, BookingList, Credential, EventType, EventTypeId, ListQuery, Organizer, ServiceError,
};
use chrono_tz::Tz;
use maud::{Markup, html};
use serde::Deserialize;

use super::Ui;
use super::calendar::parse_date;
use super::format::{range, url_with};
use super::layout::{
    Shell, csrf_field, described_by, document, field_error, internal_error, respond,
};
use super::location;
use super::session::{NotStarted, Session, SignedInForm};
use crate::http::fields::FieldErrors;

pub(super) mod event_types;
pub(super) mod integrations;
pub(super) mod schedules;
pub(super) mod settings;

/// Bookings per page unless `?limit=` says otherwise.
const DEFAULT_PAGE_SIZE: u32 = 10;

/// The zone an organizer reads dates in: booking-core's display zone (their
/// default schedule's, else their home zone).
pub(super) async fn organizer_zone(ui: &Ui, organizer: &Organizer) -> Result<Tz, Response> {
    ui.service
        .display_zone(organizer.id)
        .await
        .map_err(|error| internal_error(&error))
}

/// What the sign-in page says besides its form.
#[derive(Default)]
struct LoginState<'a> {
    error: Option<&'a str>,
    notice: Option<&'a str>,
    /// A `Set-Cookie` to send with the page.
    cookie: Option<HeaderValue>,
}

/// The sign-in page, with a form token bound to the visitor's pre-session
/// cookie (set now if the browser has none).
fn login_page(ui: &Ui, request: &HeaderMap, status: StatusCode, state: LoginState<'_>) -> Response {
    let (pre_session, new_cookie) = match ui.pre_session(request) {
        Ok(found) => found,
        Err(refused) => return refused.into_response(),
    };
    let mut errors = FieldErrors::new();
    if let Some(message) = state.error {
        errors.add("token", message);
    }
    let body = html! {
        section.card.narrow {
            h1 { "Organizer sign-in" }
            @if let Some(notice) = state.notice {
                p.notice role="status" { (notice) }
            }
            p { "Sign in with the API token you received when you signed up." }
            form #login-form method="post" action="/dashboard/login" novalidate {
                (csrf_field(&ui.sign_in_token(&pre_session)))
                div.field {
                    label for="token" { "API token" }
                    input #token name="token" type="password" autocomplete="off" required
                        aria-invalid=[errors.message_for("token").map(|_| "true")]
                        aria-describedby=[described_by(&errors, "token")];
                    (field_error(&errors, "token"))
                }
                button.primary #login-button type="submit" { "Sign in" }
            }
            p.muted #signup-hint { "No account yet? " a href="/dashboard/signup" { "Sign up" } "." }
        }
    };
    let mut page = respond(status, document("Sign in", Shell::default(), body));
    for cookie in [state.cookie, new_cookie].into_iter().flatten() {
        page.headers_mut().append(header::SET_COOKIE, cookie);
    }
    page
}

/// `GET /dashboard` parameters.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct ListParams {
    page: String,
    limit: String,
    from: String,
    to: String,
    notice: String,
}

/// `GET /dashboard`: the sign-in form, or the organizer's bookings.
pub(super) async fn home(
    State(ui): State<Ui>,
    headers: HeaderMap,
    params: Result<Query<ListParams>, QueryRejection>,
) -> Response {
    let params = params.map(|Query(p)| p).unwrap_or_default();
    let (organizer, key) = match ui.session(&headers).await {
        Ok(Session::SignedIn(organizer, key)) => (organizer, key),
        Ok(Session::Anonymous) => {
            let state = LoginState {
                notice: (params.notice == "signed_out_everywhere")
                    .then_some("You are signed out in every browser."),
                ..LoginState::default()
            };
            return login_page(&ui, &headers, StatusCode::OK, state);
        }
        Ok(Session::Expired(_)) => {
            let state = LoginState {
                notice: Some("Your sign-in is no longer valid. Please sign in again."),
                cookie: Some(ui.forget_session(&headers)),
                ..LoginState::default()
            };
            return login_page(&ui, &headers, StatusCode::OK, state);
        }
        Err(page) => return page,
    };
    let form_token = ui.form_token(&key);
    let zone = match organizer_zone(&ui, &organizer).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    let event_types = match ui.service.event_types(organizer.id).await {
        Ok(found) => found,
        Err(error) => return internal_error(&error),
    };
    let bookable = event_types.iter().any(|e| e.active);

    let mut errors = FieldErrors::new();
    let from = parse_optional_date(&params.from, "from", &mut errors);
    let to = parse_optional_date(&params.to, "to", &mut errors);
    let page = params
        .page
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|p| *p >= 1)
        .unwrap_or(1);
    let limit = params
        .limit
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|l| (1..=100).contains(l))
        .unwrap_or(DEFAULT_PAGE_SIZE);
    let mut list = None;
    if errors.is_empty() {
        let query = ListQuery {
            from,
            to,
            page,
            limit,
        };
        match ui.service.list_bookings(organizer.id, query).await {
            Ok(found) => list = Some(found),
            Err(ServiceError::Validation(refused)) => {
                for error in refused.errors() {
                    let field = match error.field {
                        booking_core::Field::StartDate => "from",
                        booking_core::Field::EndDate => "to",
                        _ => "form",
                    };
                    errors.add(field, error.message.clone());
                }
            }
            Err(error) => return internal_error(&error),
        }
    }
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let filter = Filter {
        from: params.from.trim().to_owned(),
        to: params.to.trim().to_owned(),
        limit: (limit != DEFAULT_PAGE_SIZE).then(|| limit.to_string()),
    };
    let notice = match params.notice.as_str() {
        "cancelled" => Some(("Booking cancelled. The time is free again.", false)),
        "rescheduled" => Some((
            "Booking moved. The attendee's links still work for the new time.",
            false,
        )),
        "already_cancelled" => Some(("That booking was already cancelled.", true)),
        "not_found" => Some(("That booking no longer exists.", true)),
        _ => None,
    };
    let by_id: HashMap<EventTypeId, &EventType> = event_types.iter().map(|e| (e.id, e)).collect();
    let body = html! {
        section.dashboard-head {
            h1 { "Bookings for " span #organizer-name { (organizer.display_name) } }
            p.muted {
                "Your booking page: " a #public-link href=(format!("/{}", organizer.username)) { "/" (organizer.username) }
                " · Times in " (zone.name())
            }
            p.muted { a #integrations-link href=(integrations::URL) { "Calendars and webhooks" } }
            @if !bookable {
                p.notice.warning #setup-notice {
                    "Nobody can book you yet: " a href="/dashboard/settings" { "set your hours" }
                    " or " a href="/dashboard/event-types" { "add an event type" } "."
                }
            }
            @if let Some((message, is_error)) = notice {
                p.notice.error[is_error] #notice role="status" { (message) }
            }
        }
        section.card {
            form.filter #filter-form method="get" action="/dashboard" novalidate {
                div.field {
                    label for="from" { "From" }
                    input #from name="from" type="date" value=(filter.from)
                        aria-invalid=[errors.message_for("from").map(|_| "true")]
                        aria-describedby=[described_by(&errors, "from")];
                    (field_error(&errors, "from"))
                }
                div.field {
                    label for="to" { "To" }
                    input #to name="to" type="date" value=(filter.to)
                        aria-invalid=[errors.message_for("to").map(|_| "true")]
                        aria-describedby=[described_by(&errors, "to")];
                    (field_error(&errors, "to"))
                }
                @if let Some(limit) = &filter.limit {
                    input type="hidden" name="limit" value=(limit);
                }
                div.filter-actions {
                    button.secondary #filter-button type="submit" { "Show" }
                    @if !filter.from.is_empty() || !filter.to.is_empty() {
                        a href="/dashboard" { "Clear" }
                    }
                }
            }
            (field_error(&errors, "form"))
            @if let Some(list) = &list {
                (booking_table(list, zone, &filter, &form_token, &by_id))
            }
        }
    };
    respond(
        status,
        document("Bookings", Shell::organizer(&form_token), body),
    )
}

/// The list filter, kept across pages and after a cancellation.
struct Filter {
    from: String,
    to: String,
    limit: Option<String>,
}

impl Filter {
    fn url(&self, page: u32, notice: &str) -> String {
        let page = if page > 1 {
            page.to_string()
        } else {
            String::new()
        };
        url_with(
            "/dashboard",
            &[
                ("from", &self.from),
                ("to", &self.to),
                ("limit", self.limit.as_deref().unwrap_or("")),
                ("page", &page),
                ("notice", notice),
            ],
        )
    }
}

fn parse_optional_date(
    text: &str,
    field: &str,
    errors: &mut FieldErrors,
) -> Option<chrono::NaiveDate> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    errors.check(field, parse_date(text))
}

fn booking_table(
    list: &BookingList,
    zone: Tz,
    filter: &Filter,
    form_token: &str,
    event_types: &HashMap<EventTypeId, &EventType>,
) -> Markup {
    let page = list.page;
    let last_page = u32::try_from(list.total_pages).unwrap_or(u32::MAX);
    html! {
        p.muted #list-summary {
            @match list.total {
                0 => "No bookings",
                1 => "1 booking",
                n => { (n) " bookings" },
            }
            @if !filter.from.is_empty() || !filter.to.is_empty() { " in this date range" }
            @if list.total_pages > 1 { " · page " (page) " of " (list.total_pages) }
        }
        @if !list.bookings.is_empty() {
            table.bookings #bookings {
                thead { tr { th { "When" } th { "Meeting" } th { "Attendee" } th { span.visually-hidden { "Actions" } } } }
                tbody {
                    @for booking in &list.bookings {
                        tr data-booking-id=(booking.id.to_string()) {
                            td.when data-label="When" { (range(&booking.time, zone)) }
                            td data-label="Meeting" {
                                span.booking-title { (booking.title) }
                                @let event_type = booking.event_type_id.and_then(|id| event_types.get(&id));
                                span.booking-type.muted {
                                    (event_type.map_or(booking.event_type_slug.as_str(), |e| e.title.as_str()))
                                    @if let Some(place) = event_type.and_then(|e| e.location.as_ref()) {
                                        " · " (location::inline(place))
                                    }
                                }
                                @if let Some(notes) = &booking.description {
                                    span.booking-notes.pre { (notes) }
                                }
                            }
                            td data-label="Attendee" {
                                (booking.attendee.name) br;
                                span.muted { (booking.attendee.email) }
                            }
                            td.actions {
                                a.button.secondary.small.reschedule-link href=(format!("/dashboard/bookings/{}/reschedule", booking.id)) { "Reschedule" }
                                " "
                                form method="post" action=(format!("/dashboard/bookings/{}/cancel", booking.id))
                                    data-confirm=(format!("Cancel “{}”? The attendee keeps no booking.", booking.title)) {
                                    (csrf_field(form_token))
                                    input type="hidden" name="from" value=(filter.from);
                                    input type="hidden" name="to" value=(filter.to);
                                    input type="hidden" name="limit" value=(filter.limit.as_deref().unwrap_or(""));
                                    input type="hidden" name="page" value=(page);
                                    button.danger.small type="submit" { "Cancel" }
                                }
                            }
                        }
                    }
                }
            }
        } @else if page > 1 && list.total > 0 {
            p { a href=(filter.url(1, "")) { "Back to the first page" } }
        }
        @if list.total_pages > 1 {
            nav.pagination aria-label="Pages" {
                @if page > 1 {
                    a #previous-page href=(filter.url(page - 1, "")) rel="prev" { "‹ Previous" }
                }
                span { "Page " (page) " of " (list.total_pages) }
                @if page < last_page {
                    a #next-page href=(filter.url(page + 1, "")) rel="next" { "Next ›" }
                }
            }
        }
    }
}

/// The sign-in form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct LoginForm {
    token: String,
    csrf: String,
}

/// `POST /dashboard/login`: checks the token and starts a session.
pub(super) async fn login(
    State(ui): State<Ui>,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Response {
    let form = form.map(|Form(f)| f).unwrap_or_default();
    if let Err(refused) = ui.check_sign_in_form(&headers, &form.csrf) {
        return refused.into_response();
    }
    let token = form.token.trim();
    let refused = |message| {
        let state = LoginState {
            error: Some(message),
            ..LoginState::default()
        };
        (StatusCode::UNAUTHORIZED, state)
    };
    let (status, state) = if token.is_empty() {
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            LoginState {
                error: Some("Please paste your API token."),
                ..LoginState::default()
            },
        )
    } else {
        match ui.start_session(&headers, token).await {
            Ok((_, _, cookie)) => {
                let mut response = Redirect::to("/dashboard").into_response();
                response.headers_mut().insert(header::SET_COOKIE, cookie);
                return response;
            }
            Err(NotStarted::WrongToken) => {
                refused("That token is not valid. Check that you pasted all of it.")
            }
            Err(NotStarted::Page(page)) => return page,
        }
    };
    login_page(&ui, &headers, status, state)
}

/// A form with nothing but its token.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct TokenOnly {
    csrf: String,
}

impl SignedInForm for TokenOnly {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /dashboard/logout`: ends this browser's session, on the server
/// too (a copy of its cookie stops working).
pub(super) async fn logout(
    State(ui): State<Ui>,
    headers: HeaderMap,
    form: Result<Form<TokenOnly>, FormRejection>,
) -> Response {
    if let Err(refused) = ui.check_origin(&headers) {
        return refused.into_response();
    }
    let form = form.map(|Form(f)| f).unwrap_or_default();
    let key = match ui.session(&headers).await {
        Ok(Session::SignedIn(_, key) | Session::Expired(key)) => {
            if let Err(refused) = ui.check_form_token(&key, &form.csrf) {
                return refused.into_response();
            }
            Some(key)
        }
        Ok(Session::Anonymous) => None,
        Err(page) => return page,
    };
    let cookie = match ui.end_session(&headers, key.as_ref()).await {
        Ok(cookie) => cookie,
        Err(page) => return page,
    };
    let mut response = Redirect::to("/dashboard").into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    response
}

/// `POST /dashboard/logout-everywhere`: ends every session of the signed-in
/// organizer, in every browser, this one included.
pub(super) async fn logout_everywhere(
    State(ui): State<Ui>,
    headers: HeaderMap,
    form: Result<Form<TokenOnly>, FormRejection>,
) -> Response {
    let (organizer, _, _) = match ui.signed_in_post(&headers, form).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let cookie = match ui.end_all_sessions(&headers, &organizer).await {
        Ok(cookie) => cookie,
        Err(page) => return page,
    };
    tracing::info!(organizer = %organizer.id, "signed out everywhere");
    let mut response = Redirect::to("/dashboard?notice=signed_out_everywhere").into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    response
}

/// The dashboard's cancel form: its token and where to come back to.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct CancelForm {
    csrf: String,
    from: String,
    to: String,
    limit: String,
    page: String,
}

impl SignedInForm for CancelForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /dashboard/bookings/{id}/cancel`: cancels as the organizer and
/// returns to the same page of the list.
pub(super) async fn cancel(
    State(ui): State<Ui>,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: Result<Form<CancelForm>, FormRejection>,
) -> Response {
    let (organizer, _, form) = match ui.signed_in_post(&headers, form).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let filter = Filter {
        from: form.from.trim().to_owned(),
        to: form.to.trim().to_owned(),
        limit: Some(form.limit.trim().to_owned()).filter(|l| l.parse::<u32>().is_ok()),
    };
    let page = form.page.trim().parse::<u32>().unwrap_or(1).max(1);
    let notice = match id.parse::<BookingId>() {
        Err(_) => "not_found",
        Ok(id) => match ui
            .service
            .cancel_booking(id, &Credential::Organizer(organizer.id))
            .await
        {
            Ok(_) => "cancelled",
            Err(ServiceError::AlreadyCancelled { .. }) => "already_cancelled",
            Err(ServiceError::NotFound | ServiceError::PermissionDenied) => "not_found",
            Err(error) => return internal_error(&error),
        },
    };
    Redirect::to(&filter.url(page, notice)).into_response()
}
