//! The attendee's pages after booking: the confirmation (the time in the
//! visitor's and the organizer's zones, where it takes place, the
//! reschedule and cancel links) and the cancel page (with a link to
//! reschedule instead).

use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use booking_core::{Booking, BookingId, Credential, Location, Organizer, ServiceError};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use maud::{Markup, html};
use serde::Deserialize;

use super::Ui;
use super::booking::visitor_zone;
use super::format::{moment, range, rfc3339, url_with, zone_label};
use super::layout::{Shell, document, internal_error, message_page, respond};
use super::location;

/// `?token=..&tz=..` of the confirmation and cancel pages.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct TokenQuery {
    /// The booking's cancel token.
    pub(super) token: String,
    /// The visitor's zone.
    pub(super) tz: String,
}

/// The cancel page's form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct CancelForm {
    token: String,
}

pub(super) fn booking_not_found() -> Response {
    message_page(
        StatusCode::NOT_FOUND,
        "Booking not found",
        "We could not find this booking. It may have been cancelled, or the link may be incomplete: \
         use the whole link you were given.",
    )
}

/// A booking with what its pages show around it.
pub(super) struct Shown {
    /// The booking.
    pub(super) booking: Booking,
    /// Its organizer.
    pub(super) organizer: Organizer,
    /// The organizer's display zone.
    pub(super) zone: Tz,
    /// Where the meeting takes place, from its event type (if it still
    /// exists and says).
    pub(super) location: Option<Location>,
}

/// The booking `id` for the holder of `token`, with its organizer, their
/// zone and the meeting's location.
pub(super) async fn booking_for_token(ui: &Ui, id: &str, token: &str) -> Result<Shown, Response> {
    let Ok(id) = id.parse::<BookingId>() else {
        return Err(booking_not_found());
    };
    if token.is_empty() {
        return Err(booking_not_found());
    }
    let credential = Credential::cancel_token(token);
    let booking = match ui.service.get_booking(id, &credential).await {
        Ok(booking) => booking,
        Err(ServiceError::NotFound | ServiceError::PermissionDenied) => {
            return Err(booking_not_found());
        }
        Err(error) => return Err(internal_error(&error)),
    };
    shown(ui, booking).await
}

/// `booking` with its organizer, their display zone and its location.
pub(super) async fn shown(ui: &Ui, booking: Booking) -> Result<Shown, Response> {
    let organizer = match ui.service.organizer(booking.organizer_id).await {
        Ok(organizer) => organizer,
        Err(ServiceError::OrganizerNotFound) => return Err(booking_not_found()),
        Err(error) => return Err(internal_error(&error)),
    };
    let zone = ui
        .service
        .display_zone(organizer.id)
        .await
        .map_err(|error| internal_error(&error))?;
    let location = match booking.event_type_id {
        None => None,
        Some(id) => ui
            .service
            .event_types(organizer.id)
            .await
            .map_err(|error| internal_error(&error))?
            .into_iter()
            .find(|event_type| event_type.id == id)
            .and_then(|event_type| event_type.location),
    };
    Ok(Shown {
        booking,
        organizer,
        zone,
        location,
    })
}

/// `GET /bookings/{id}?token=..&tz=..`: the confirmation, with the time in
/// the visitor's zone and the organizer's, and the cancel link.
pub(super) async fn confirmation(
    State(ui): State<Ui>,
    Path(id): Path<String>,
    query: Result<Query<TokenQuery>, QueryRejection>,
) -> Response {
    let query = query.map(|Query(q)| q).unwrap_or_default();
    let Shown {
        booking,
        organizer,
        zone: organizer_zone,
        location,
    } = match booking_for_token(&ui, &id, &query.token).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    let (visitor, _) = visitor_zone(Some(&query.tz), organizer_zone);
    let cancel_url = url_with(
        &format!("/bookings/{}/cancel", booking.id),
        &[("token", &query.token)],
    );
    let ics_url = url_with(
        &format!("/api/bookings/{}/ics", booking.id),
        &[("cancelToken", &query.token)],
    );
    let reschedule_url = url_with(
        &format!("/bookings/{}/reschedule", booking.id),
        &[("token", &query.token), ("tz", visitor.name())],
    );
    let start = booking.start_time();
    let body = html! {
        section.card.confirmation {
            p.eyebrow { "Booking confirmed" }
            h1 #booking-title { (booking.title) }
            p.lead { "With " span #organizer-name { (organizer.display_name) } }
            dl.times {
                div {
                    dt { "Your time" br; span.muted #visitor-zone { (zone_label(visitor, start)) } }
                    dd #visitor-time { (range(&booking.time, visitor)) }
                }
                div {
                    dt { (organizer.display_name) "’s time" br; span.muted #organizer-zone { (zone_label(organizer_zone, start)) } }
                    dd #organizer-time { (range(&booking.time, organizer_zone)) }
                }
            }
            (booking_details(&booking, location.as_ref()))
            p { a.button.secondary #add-to-calendar href=(ics_url) download { "Add to calendar" } }
            div.notice {
                p { strong { "Keep this link to reschedule or cancel." } " It is the only way to change this booking without contacting " (organizer.display_name) "." }
                p {
                    a.button.secondary #reschedule-link href=(reschedule_url) { "Reschedule" }
                    " "
                    a.button.secondary #cancel-link href=(cancel_url) { "Cancel this booking" }
                }
            }
            p { a href=(url_with(&format!("/{}", organizer.username), &[("tz", visitor.name())])) { "Book another time" } }
        }
    };
    respond(
        StatusCode::OK,
        document("Booking confirmed", Shell::default(), body),
    )
}

/// Where, name, email and notes of a booking.
fn booking_details(booking: &Booking, place: Option<&Location>) -> Markup {
    html! {
        dl.details {
            @if let Some(place) = place {
                div { dt { "Where" } dd #booking-location { (location::details(place)) } }
            }
            div { dt { "Name" } dd #attendee-name { (booking.attendee.name) } }
            div { dt { "Email" } dd #attendee-email { (booking.attendee.email) } }
            @if let Some(notes) = &booking.description {
                div { dt { "Notes" } dd #booking-notes.pre { (notes) } }
            }
        }
    }
}

/// The meeting's time in the organizer's zone, and in the browser's zone
/// once the script has run.
fn times_for_cancel(booking: &Booking, zone: Tz) -> Markup {
    html! {
        dl.times {
            div {
                dt { "Time" br; span.muted { (zone_label(zone, booking.start_time())) } }
                dd #organizer-time { (range(&booking.time, zone)) }
            }
            div.js-only {
                dt { "In your time zone" }
                dd { time #local-time data-local-range=(rfc3339(booking.end_time())) datetime=(rfc3339(booking.start_time())) { (rfc3339(booking.start_time())) } }
            }
        }
    }
}

/// `GET /bookings/{id}/cancel?token=..`: the booking and a Cancel button.
pub(super) async fn cancel_page(
    State(ui): State<Ui>,
    Path(id): Path<String>,
    query: Result<Query<TokenQuery>, QueryRejection>,
) -> Response {
    let query = query.map(|Query(q)| q).unwrap_or_default();
    let Shown {
        booking,
        organizer,
        zone,
        location,
    } = match booking_for_token(&ui, &id, &query.token).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    let body = html! {
        section.card.cancel {
            p.eyebrow { "Cancel a booking" }
            h1 #booking-title { (booking.title) }
            p.lead { "With " (organizer.display_name) }
            (times_for_cancel(&booking, zone))
            (booking_details(&booking, location.as_ref()))
            form method="post" action=(format!("/bookings/{}/cancel", booking.id)) {
                input type="hidden" name="token" value=(query.token);
                button.danger #cancel-button type="submit" { "Cancel booking" }
            }
            p {
                "Another time would suit you better? "
                a #reschedule-link href=(url_with(&format!("/bookings/{}/reschedule", booking.id), &[("token", &query.token), ("tz", &query.tz)])) { "Reschedule instead" }
            }
        }
    };
    respond(
        StatusCode::OK,
        document("Cancel booking", Shell::default(), body),
    )
}

/// `POST /bookings/{id}/cancel`: cancels with the cancel token from the form
/// (itself the proof a forged form lacks), from this site only.
pub(super) async fn cancel(
    State(ui): State<Ui>,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: Result<Form<CancelForm>, FormRejection>,
) -> Response {
    if let Err(refused) = ui.check_origin(&headers) {
        return refused.into_response();
    }
    let token = form.map(|Form(f)| f.token).unwrap_or_default();
    let Ok(booking_id) = id.parse::<BookingId>() else {
        return booking_not_found();
    };
    if token.is_empty() {
        return booking_not_found();
    }
    let credential = Credential::cancel_token(token);
    match ui.service.cancel_booking(booking_id, &credential).await {
        Ok(cancelled) => {
            let Shown {
                booking,
                organizer,
                zone,
                ..
            } = match shown(&ui, cancelled.booking).await {
                Ok(found) => found,
                Err(page) => return page,
            };
            let booking = &booking;
            let body = html! {
                section.card.cancelled #cancelled {
                    p.eyebrow { "Booking cancelled" }
                    h1 { "Your booking is cancelled" }
                    p {
                        "“" (booking.title) "” with " (organizer.display_name) " on "
                        (range(&booking.time, zone)) " is cancelled. The time is free again."
                    }
                    p { a href=(format!("/{}", organizer.username)) { "Book another time" } }
                }
            };
            respond(
                StatusCode::OK,
                document("Booking cancelled", Shell::default(), body),
            )
        }
        Err(ServiceError::AlreadyCancelled { cancelled_at }) => {
            already_cancelled(cancelled_at, Tz::UTC)
        }
        Err(ServiceError::NotFound | ServiceError::PermissionDenied) => booking_not_found(),
        Err(error) => internal_error(&error),
    }
}

fn already_cancelled(at: DateTime<Utc>, zone: Tz) -> Response {
    message_page(
        StatusCode::CONFLICT,
        "Already cancelled",
        &format!(
            "This booking was already cancelled on {}.",
            moment(at, zone)
        ),
    )
}
