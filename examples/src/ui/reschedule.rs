//! The attendee's reschedule page: the booking's current time and the free
//! times of its event type (and its length) over the next two weeks, each a
//! button that moves the booking there (`BookingService::reschedule`, with
//! the cancel token from the link). The booking keeps its id and its links.

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
use super::confirmation::{Shown, TokenQuery, booking_for_token, booking_not_found};
use super::format::{clock, date, range, rfc3339, url_with};
use super::layout::{Shell, document, internal_error, message_page, respond};

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
    render(&ui, &shown, &query.token, visitor, None, StatusCode::OK).await
}

/// The page for `shown`, with `problem` above the times.
async fn render(
    ui: &Ui,
    shown: &Shown,
    token: &str,
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
    let action = format!("/bookings/{}/reschedule", booking.id);
    let body = html! {
        section.card.reschedule {
            p.eyebrow { "Reschedule a booking" }
            h1 #booking-title { (booking.title) }
            p.lead { "With " span #organizer-name { (organizer.display_name) } }
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
                                        input type="hidden" name="token" value=(token);
                                        input type="hidden" name="tz" value=(visitor.name());
                                        input type="hidden" name="slot" value=(format!("{}/{}", rfc3339(slot.start()), rfc3339(slot.end())));
                                        button.slot type="submit" data-start=(rfc3339(slot.start())) { (clock(slot.start(), visitor)) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            p { a #keep-link href=(confirmation_url(booking.id, token, visitor)) { "Keep the current time" } }
        }
    };
    respond(
        status,
        document("Reschedule booking", Shell::default(), body),
    )
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
                Err(ServiceError::SlotUnavailable(SlotRefusal::Busy)) => (
                    StatusCode::CONFLICT,
                    "Sorry, that time was just taken. The times below are up to date; please pick another one.",
                ),
                Err(ServiceError::SlotUnavailable(_) | ServiceError::BookingLimitReached(_)) => (
                    StatusCode::CONFLICT,
                    "That time is no longer offered. The times below are up to date; please pick another one.",
                ),
                Err(ServiceError::SlotBeingBooked) => (
                    StatusCode::CONFLICT,
                    "Someone is booking that time right now. Please pick another one, or try again.",
                ),
                Err(ServiceError::AlreadyCancelled { .. }) => {
                    return message_page(
                        StatusCode::CONFLICT,
                        "Already cancelled",
                        "This booking was cancelled, so it cannot be moved.",
                    );
                }
                Err(ServiceError::BookingStarted) => {
                    return message_page(
                        StatusCode::CONFLICT,
                        "Already started",
                        "This booking has already started, so it can no longer be moved.",
                    );
                }
                Err(ServiceError::NotFound | ServiceError::PermissionDenied) => {
                    return booking_not_found();
                }
                Err(error) => return internal_error(&error),
            }
        }
    };
    let shown = match booking_for_token(&ui, &id, &form.token).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    let (visitor, _) = visitor_zone(Some(&form.tz), shown.zone);
    render(&ui, &shown, &form.token, visitor, Some(problem), status).await
}
