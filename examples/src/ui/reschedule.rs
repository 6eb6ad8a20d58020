//! The reschedule page: the booking's current time and the free times of
//! its event type (and its length) over the next two weeks, each a button
//! that moves the booking there (`BookingService::reschedule`). The booking
//! keeps its id and its links.
//!
//! Two doors lead to it: the attendee's (`/bookings/{id}/reschedule`,
//! authorised by the cancel token from the link, with the origin check like
//! the cancel form) and the organizer's (`/dashboard/bookings/{id}/reschedule`,
//! authorised by the dashboard session, each form carrying the session's
//! CSRF token like every other dashboard form).

use std::collections::BTreeMap;

use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use booking_core::booking::parse_instant;
use booking_core::{
    BookingId, Credential, RescheduleRequest, ServiceError, SlotQuery, SlotRefusal, TimeRange,
};
use chrono::{Duration, NaiveDate};
use chrono_tz::Tz;
use maud::html;
use serde::Deserialize;

use super::Ui;
use super::booking::visitor_zone;
use super::confirmation::shown;
use super::confirmation::{Shown, TokenQuery, booking_for_token, booking_not_found};
use super::format::{clock, date, range, rfc3339, url_with};
use super::layout::{Shell, csrf_field, document, internal_error, message_page, respond};
use super::session::SignedInForm;

/// How far ahead the page offers new times.
const DAYS_SHOWN: i64 = 14;

/// The form of one offered time.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct RescheduleForm {
    token: String,
    tz: String,
    /// `start/end`, RFC 3339.
    slot: String,
}

/// Who moves the booking, which decides the form's fields and where the page
/// leads back to.
#[derive(Clone, Copy)]
enum Authority<'a> {
    /// The attendee, with the booking's cancel token.
    Attendee { token: &'a str },
    /// The signed-in organizer, with their session's form token.
    Organizer { form_token: &'a str },
}

/// The organizer's form of one offered time.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct OrganizerRescheduleForm {
    csrf: String,
    /// `start/end`, RFC 3339.
    slot: String,
}

impl SignedInForm for OrganizerRescheduleForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// The confirmation page of `id` for the holder of `token`.
fn confirmation_url(id: BookingId, token: &str, zone: Tz) -> String {
    url_with(
        &format!("/bookings/{id}"),
        &[("token", token), ("tz", zone.name())],
    )
}

/// `GET /bookings/{id}/reschedule?token=..&tz=..`: the booking and the free
/// times it can move to.
pub(super) async fn page(
    State(ui): State<Ui>,
    Path(id): Path<String>,
    query: Result<Query<TokenQuery>, QueryRejection>,
) -> Response {
    let query = query.map(|Query(q)| q).unwrap_or_default();
    let shown = match booking_for_token(&ui, &id, &query.token).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    let (visitor, _) = visitor_zone(Some(&query.tz), shown.zone);
    let authority = Authority::Attendee {
        token: &query.token,
    };
    render(&ui, &shown, authority, visitor, None, StatusCode::OK).await
}

/// The page for `shown`, with `problem` above the times.
async fn render(
    ui: &Ui,
    shown: &Shown,
    authority: Authority<'_>,
    visitor: Tz,
    problem: Option<&str>,
    status: StatusCode,
) -> Response {
    let booking = &shown.booking;
    let organizer = &shown.organizer;
    let now = ui.service.now();
    let window = match TimeRange::starting_at(now, Duration::days(DAYS_SHOWN)) {
        Ok(window) => window,
        Err(error) => return internal_error(&error),
    };
    let query = SlotQuery::new(organizer.username.as_str(), window)
        .event_type(booking.event_type_slug.as_str())
        .duration(booking.time.duration());
    let slots = match ui.service.available_slots(query).await {
        Ok(slots) => slots,
        Err(
            ServiceError::EventTypeNotFound
            | ServiceError::SettingsNotFound
            | ServiceError::SlotUnavailable(_),
        ) => {
            return message_page(
                StatusCode::CONFLICT,
                "This booking cannot be moved here",
                "Its kind of meeting is no longer offered. To change it, cancel it and book \
                 another time, or contact the organizer.",
            );
        }
        Err(error) => return internal_error(&error),
    };
    let mut by_day: BTreeMap<NaiveDate, Vec<TimeRange>> = BTreeMap::new();
    for slot in slots {
        by_day
            .entry(slot.start().with_timezone(&visitor).date_naive())
            .or_default()
            .push(slot);
    }
    let (action, back, back_text, shell) = match authority {
        Authority::Attendee { token } => (
            format!("/bookings/{}/reschedule", booking.id),
            confirmation_url(booking.id, token, visitor),
            "Keep the current time",
            Shell::default(),
        ),
        Authority::Organizer { form_token } => (
            format!("/dashboard/bookings/{}/reschedule", booking.id),
            "/dashboard".to_owned(),
            "Back to your bookings",
            Shell::organizer(form_token),
        ),
    };
    let body = html! {
        section.card.reschedule {
            p.eyebrow { "Reschedule a booking" }
            h1 #booking-title { (booking.title) }
            @match authority {
                Authority::Attendee { .. } => {
                    p.lead { "With " span #organizer-name { (organizer.display_name) } }
                }
                Authority::Organizer { .. } => {
                    p.lead { "With " span #attendee-name { (booking.attendee.name) } " " span.muted { "(" (booking.attendee.email) ")" } }
                }
            }
            dl.times {
                div {
                    dt { "Booked for" }
                    dd #current-time { (range(&booking.time, visitor)) }
                }
            }
            @if let Some(problem) = problem {
                p.error #reschedule-error role="alert" { (problem) }
            }
            @if by_day.is_empty() {
                p #no-times { "There are no other free times in the next " (DAYS_SHOWN) " days." }
            } @else {
                p { "Pick a new time (times in " (visitor.name()) "):" }
                @for (day, times) in &by_day {
                    section.day {
                        h2 { (date(*day)) }
                        ul.slots {
                            @for slot in times {
                                li {
                                    form method="post" action=(action) {
                                        @match authority {
                                            Authority::Attendee { token } => {
                                                input type="hidden" name="token" value=(token);
                                                input type="hidden" name="tz" value=(visitor.name());
                                            }
                                            Authority::Organizer { form_token } => {
                                                (csrf_field(form_token))
                                            }
                                        }
                                        input type="hidden" name="slot" value=(format!("{}/{}", rfc3339(slot.start()), rfc3339(slot.end())));
                                        button.slot type="submit" data-start=(rfc3339(slot.start())) { (clock(slot.start(), visitor)) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            p { a #keep-link href=(back) { (back_text) } }
        }
    };
    respond(status, document("Reschedule booking", shell, body))
}

/// `start/end` of the form.
fn slot_of(text: &str) -> Option<TimeRange> {
    let (start, end) = text.split_once('/')?;
    let start = parse_instant(start).ok()?;
    let end = parse_instant(end).ok()?;
    TimeRange::new(start, end).ok()
}

/// `POST /bookings/{id}/reschedule`: moves the booking to the time chosen,
/// with the cancel token from the form, from this site only; then shows the
/// confirmation with the new time.
pub(super) async fn reschedule(
    State(ui): State<Ui>,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: Result<Form<RescheduleForm>, FormRejection>,
) -> Response {
    if let Err(refused) = ui.check_origin(&headers) {
        return refused.into_response();
    }
    let form = form.map(|Form(f)| f).unwrap_or_default();
    let Ok(booking_id) = id.parse::<BookingId>() else {
        return booking_not_found();
    };
    if form.token.is_empty() {
        return booking_not_found();
    }
    let credential = Credential::cancel_token(form.token.clone());
    let (status, problem) = match slot_of(&form.slot) {
        None => (
            StatusCode::BAD_REQUEST,
            "Please pick one of the times below.",
        ),
        Some(slot) => {
            let request = RescheduleRequest::new(booking_id, slot);
            match ui.service.reschedule(request, &credential).await {
                Ok(moved) => {
                    let zone = visitor_zone(Some(&form.tz), Tz::UTC).0;
                    tracing::info!(booking = %moved.booking.id, "booking rescheduled from its page");
                    return Redirect::to(&confirmation_url(moved.booking.id, &form.token, zone))
                        .into_response();
                }
                Err(error) => match refusal(error) {
                    Refusal::Retry(status, problem) => (status, problem),
                    Refusal::Page(page) => return page,
                },
            }
        }
    };
    let shown = match booking_for_token(&ui, &id, &form.token).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    let (visitor, _) = visitor_zone(Some(&form.tz), shown.zone);
    let authority = Authority::Attendee { token: &form.token };
    render(&ui, &shown, authority, visitor, Some(problem), status).await
}

/// What a refused move shows.
enum Refusal {
    /// The reschedule page again, with this status and the problem above
    /// the times (another time may do).
    Retry(StatusCode, &'static str),
    /// This page instead (the booking cannot be moved at all).
    Page(Response),
}

/// What to show for a refused move.
fn refusal(error: ServiceError) -> Refusal {
    let (status, problem) = match error {
        ServiceError::SlotUnavailable(SlotRefusal::Busy) => (
            StatusCode::CONFLICT,
            "Sorry, that time was just taken. The times below are up to date; please pick another one.",
        ),
        ServiceError::SlotUnavailable(_) | ServiceError::BookingLimitReached(_) => (
            StatusCode::CONFLICT,
            "That time is no longer offered. The times below are up to date; please pick another one.",
        ),
        ServiceError::SlotBeingBooked => (
            StatusCode::CONFLICT,
            "Someone is booking that time right now. Please pick another one, or try again.",
        ),
        ServiceError::AlreadyCancelled { .. } => {
            return Refusal::Page(message_page(
                StatusCode::CONFLICT,
                "Already cancelled",
                "This booking was cancelled, so it cannot be moved.",
            ));
        }
        ServiceError::BookingStarted => {
            return Refusal::Page(message_page(
                StatusCode::CONFLICT,
                "Already started",
                "This booking has already started, so it can no longer be moved.",
            ));
        }
        ServiceError::NotFound | ServiceError::PermissionDenied => {
            return Refusal::Page(booking_not_found());
        }
        error => return Refusal::Page(internal_error(&error)),
    };
    Refusal::Retry(status, problem)
}

/// The booking `id` of the signed-in `organizer`, with what its page shows
/// around it, or the page to show instead.
async fn organizers_booking(
    ui: &Ui,
    organizer: &booking_core::Organizer,
    id: &str,
) -> Result<Shown, Response> {
    let Ok(id) = id.parse::<BookingId>() else {
        return Err(booking_not_found());
    };
    match ui
        .service
        .get_booking(id, &Credential::Organizer(organizer.id))
        .await
    {
        Ok(booking) => shown(ui, booking).await,
        Err(ServiceError::NotFound | ServiceError::PermissionDenied) => Err(booking_not_found()),
        Err(error) => Err(internal_error(&error)),
    }
}

/// `GET /dashboard/bookings/{id}/reschedule`: the organizer's reschedule
/// page for one of their active bookings (the sign-in page for anybody
/// else; "not found" for a cancelled, unknown or someone else's booking),
/// in their own zone.
pub(super) async fn organizer_page(
    State(ui): State<Ui>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let (organizer, key) = match ui.require_organizer(&headers).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    let shown = match organizers_booking(&ui, &organizer, &id).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    let form_token = ui.form_token(&key);
    let authority = Authority::Organizer {
        form_token: &form_token,
    };
    let zone = shown.zone;
    render(&ui, &shown, authority, zone, None, StatusCode::OK).await
}

/// `POST /dashboard/bookings/{id}/reschedule`: moves one of the signed-in
/// organizer's bookings to the time chosen (origin check, session and its
/// form token, like every dashboard form), then back to the list.
pub(super) async fn organizer_reschedule(
    State(ui): State<Ui>,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: Result<Form<OrganizerRescheduleForm>, FormRejection>,
) -> Response {
    let (organizer, key, form) = match ui.signed_in_post(&headers, form).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let Ok(booking_id) = id.parse::<BookingId>() else {
        return booking_not_found();
    };
    let (status, problem) = match slot_of(&form.slot) {
        None => (
            StatusCode::BAD_REQUEST,
            "Please pick one of the times below.",
        ),
        Some(slot) => {
            let request = RescheduleRequest::new(booking_id, slot);
            match ui
                .service
                .reschedule(request, &Credential::Organizer(organizer.id))
                .await
            {
                Ok(moved) => {
                    tracing::info!(booking = %moved.booking.id, "booking rescheduled from the dashboard");
                    return Redirect::to("/dashboard?notice=rescheduled").into_response();
                }
                Err(error) => match refusal(error) {
                    Refusal::Retry(status, problem) => (status, problem),
                    Refusal::Page(page) => return page,
                },
            }
        }
    };
    let shown = match organizers_booking(&ui, &organizer, &id).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    let form_token = ui.form_token(&key);
    let authority = Authority::Organizer {
        form_token: &form_token,
    };
    let zone = shown.zone;
    render(&ui, &shown, authority, zone, Some(problem), status).await
}
