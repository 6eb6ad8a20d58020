//! The booking lifecycle: booking (with an idempotency key and a hold
//! token), moving, cancelling, and holding a slot while a visitor fills in
//! the form.
//!
//! | method and path | who | reply |
//! |---|---|---|
//! | `POST /api/bookings` (+ `holdToken`, `Idempotency-Key`) | anyone | 201 `{success, booking, cancelToken}` |
//! | `POST /api/bookings/{id}/reschedule` `{startTime, endTime?, durationMinutes?, cancelToken?}` (+ `Idempotency-Key`) | its organizer, or `cancelToken` | 200 `{success, booking}`: same id, new times, `sequence` + 1, `rescheduledFrom` |
//! | `POST /api/bookings/{id}/cancel` (+ `Idempotency-Key`) | its organizer, or `{cancelToken}` | 200 `{success, message, cancelledAt, booking}` |
//! | `POST /api/organizers/{username}/holds` `{startTime, endTime?, durationMinutes?, eventType?}` | anyone | 201 `{holdId, holdToken, expiresAt, startTime, endTime}` |
//! | `DELETE /api/holds/{id}` with `{holdToken}` or the `Hold-Token` header | the hold's taker | 204 |
//!
//! Idempotency keys are described in [`crate::http::idempotency`].

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use booking_core::{HoldId, RescheduleRequest};
use serde_json::json;

use super::super::AppState;
use super::super::client::ClientAddress;
use super::super::dto::{
    BookingDto, CancelBody, CreateBookingBody, HoldBody, HoldDto, ReleaseHoldBody, RescheduleBody,
    instant,
};
use super::super::error::ApiError;
use super::super::extract::{JsonBody, MaybeBearer, OptionalJsonBody};
use super::super::idempotency::{Answer, IdempotencyHeader, answer};
use super::{Reply, credential, path_id};

/// The request header that may carry a hold's token when releasing it.
pub const HOLD_TOKEN_HEADER: &str = "hold-token";

/// `POST /api/bookings`: books an offered slot for an attendee; with the
/// `holdToken` of a hold on exactly this slot, the hold becomes the
/// booking; with an `Idempotency-Key`, a retry gets the first reply again.
pub async fn create_booking(
    State(state): State<AppState>,
    IdempotencyHeader(key): IdempotencyHeader,
    JsonBody(body): JsonBody<CreateBookingBody>,
) -> Answer {
    let mut request = body.into_request()?;
    request.idempotency_key = key;
    let created = state.service.create_booking(request).await?;
    if !created.replayed {
        tracing::info!(booking = %created.booking.id, organizer = %created.booking.organizer_id, "booking created");
    }
    answer(
        StatusCode::CREATED,
        json!({
            "success": true,
            "booking": BookingDto::from(&created.booking),
            "cancelToken": created.cancel_token.expose(),
        }),
        created.replayed,
    )
}

/// `POST /api/bookings/{id}/cancel`: for its organizer (bearer) or with
/// `{cancelToken}` in the body; with an `Idempotency-Key`, a retry gets the
/// first reply again instead of 409 `already_cancelled`.
pub async fn cancel_booking(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
    MaybeBearer(bearer): MaybeBearer,
    IdempotencyHeader(key): IdempotencyHeader,
    OptionalJsonBody(body): OptionalJsonBody<CancelBody>,
) -> Answer {
    let id = path_id(id)?;
    let token = body.and_then(|b| b.cancel_token);
    let credential = credential(&state, bearer, token).await?;
    let cancelled = match &key {
        Some(key) => {
            state
                .service
                .cancel_booking_idempotent(id, &credential, key)
                .await?
        }
        None => state.service.cancel_booking(id, &credential).await?,
    };
    if !cancelled.replayed {
        tracing::info!(booking = %cancelled.booking.id, "booking cancelled");
    }
    answer(
        StatusCode::OK,
        json!({
            "success": true,
            "message": "Booking cancelled successfully",
            "cancelledAt": instant(cancelled.cancelled_at),
            "booking": BookingDto::from(&cancelled.booking),
        }),
        cancelled.replayed,
    )
}

/// `POST /api/bookings/{id}/reschedule`: moves the booking to a new offered
/// slot, for its organizer (bearer) or with `cancelToken` in the body. The
/// booking keeps its id and cancel token; its `sequence` goes up by one and
/// `rescheduledFrom` is the old time.
pub async fn reschedule(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
    MaybeBearer(bearer): MaybeBearer,
    IdempotencyHeader(key): IdempotencyHeader,
    JsonBody(body): JsonBody<RescheduleBody>,
) -> Answer {
    let id = path_id(id)?;
    let time = body.time()?;
    let credential = credential(&state, bearer, body.cancel_token).await?;
    let mut request = RescheduleRequest::new(id, time);
    request.idempotency_key = key;
    let moved = state.service.reschedule(request, &credential).await?;
    if !moved.replayed {
        tracing::info!(booking = %moved.booking.id, sequence = moved.booking.sequence, "booking rescheduled");
    }
    answer(
        StatusCode::OK,
        json!({
            "success": true,
            "booking": BookingDto::from(&moved.booking),
        }),
        moved.replayed,
    )
}

/// `POST /api/organizers/{username}/holds`: holds an offered slot for the
/// event type's hold time (5 minutes unless the organizer set another, at
/// most 15). Nobody else is offered it or can book or hold it until the
/// hold expires or is released; booking it with `holdToken` turns the hold
/// into the booking.
pub async fn hold(
    State(state): State<AppState>,
    username: Result<Path<String>, PathRejection>,
    ClientAddress(client): ClientAddress,
    JsonBody(body): JsonBody<HoldBody>,
) -> Reply {
    let Path(username) = username.map_err(|_| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "organizer_not_found",
            "organizer not found",
        )
    })?;
    let request = body.into_request(username, client.map(|address| address.to_string()))?;
    let created = state.service.hold_slot(request).await?;
    tracing::info!(hold = %created.hold.id, organizer = %created.hold.organizer_id, "slot held");
    Ok((StatusCode::CREATED, Json(json!(HoldDto::from(&created)))))
}

/// `DELETE /api/holds/{id}`: releases a hold early, with its token in the
/// body (`{"holdToken": "..."}`) or the `Hold-Token` header. 204; 404
/// `hold_not_found` when no unexpired hold has this id and token.
pub async fn release_hold(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    OptionalJsonBody(body): OptionalJsonBody<ReleaseHoldBody>,
) -> Result<Response, ApiError> {
    let not_found = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "hold_not_found",
            "hold not found (it may have expired)",
        )
    };
    let Path(id) = id.map_err(|_| not_found())?;
    let id: HoldId = id.parse().map_err(|_| not_found())?;
    let from_header = match headers.get(HOLD_TOKEN_HEADER) {
        Some(value) => Some(value.to_str().map_err(|_| not_found())?.trim().to_owned()),
        None => None,
    };
    let token = body
        .and_then(|b| b.hold_token)
        .or(from_header)
        .filter(|token| !token.is_empty())
        .ok_or_else(|| {
            ApiError::field(
                "holdToken",
                "holdToken is required (in the body, or the Hold-Token header)",
            )
        })?;
    state.service.release_hold(id, &token).await?;
    tracing::info!(hold = %id, "hold released");
    Ok(StatusCode::NO_CONTENT.into_response())
}
