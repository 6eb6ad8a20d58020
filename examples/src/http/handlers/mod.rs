//! One function per endpoint: parse, call [`BookingService`], shape the reply.
//!
//! [`BookingService`]: booking_core::BookingService

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use booking_core::booking::parse_instant;
use booking_core::{BookingId, Credential, ListQuery, SlotQuery, TimeRange};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::AppState;
use super::dto::{
    BookingDto, OrganizerDto, RegisterBody, SettingsBody, SettingsDto, parse_date, slots_body,
};
use super::error::ApiError;
use super::extract::{AuthOrganizer, JsonBody, MaybeBearer, QueryMap, booking_id};
use super::fields::{FieldErrors, Surface};

pub mod calendar;
pub mod event_types;
pub mod lifecycle;
pub mod schedules;
pub mod webhooks;

/// What a handler answers: a status and a JSON body, or an error reply.
pub type Reply = Result<(StatusCode, Json<Value>), ApiError>;

fn ok(value: Value) -> Reply {
    Ok((StatusCode::OK, Json(value)))
}

fn created(value: Value) -> Reply {
    Ok((StatusCode::CREATED, Json(value)))
}

/// `GET /healthz`: the process is up and serving.
pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// `POST /api/organizers`: registers an organizer; the API token is in this
/// reply only.
pub async fn register(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<RegisterBody>,
) -> Reply {
    let new = body.into_new_organizer()?;
    let (organizer, token) = state.service.register_organizer(new).await?;
    tracing::info!(organizer = %organizer.id, username = %organizer.username, "organizer registered");
    created(json!({
        "organizer": OrganizerDto::from(&organizer),
        "apiToken": token.expose(),
    }))
}

/// `POST /api/token/rotate`: a new API token for the caller, shown in this
/// reply only; the old one stops working at once, and so does every sign-in
/// session of the pages started with it.
pub async fn rotate_token(
    State(state): State<AppState>,
    AuthOrganizer(me): AuthOrganizer,
) -> Reply {
    let token = state.service.rotate_api_token(me.id).await?;
    tracing::info!(organizer = %me.id, "API token rotated");
    ok(json!({ "apiToken": token.expose() }))
}

/// `GET /api/settings`: the caller's settings.
pub async fn get_settings(
    State(state): State<AppState>,
    AuthOrganizer(me): AuthOrganizer,
) -> Reply {
    let settings = state.service.settings(me.id).await?;
    ok(json!(SettingsDto::from(&settings)))
}

/// `PUT /api/settings`: replaces the caller's settings.
pub async fn put_settings(
    State(state): State<AppState>,
    AuthOrganizer(me): AuthOrganizer,
    JsonBody(body): JsonBody<SettingsBody>,
) -> Reply {
    let draft = body.into_draft()?;
    let settings = state.service.put_settings(me.id, draft).await?;
    ok(json!(SettingsDto::from(&settings)))
}

/// An instant from a query string. A `+` of an offset arrives as a space
/// when the client did not percent-encode it; that is read back as `+`.
fn query_instant(query: &QueryMap, name: &str, errors: &mut FieldErrors) -> Option<DateTime<Utc>> {
    let Some(text) = query.get(name) else {
        errors.add(
            name,
            format!("{name} is required (an RFC 3339 instant such as 2026-12-01T00:00:00Z)"),
        );
        return None;
    };
    let parsed = parse_instant(text).or_else(|error| match text.rfind(' ') {
        Some(at) if at > 10 => {
            parse_instant(&format!("{}+{}", &text[..at], &text[at + 1..])).map_err(|_| error)
        }
        _ => Err(error),
    });
    errors.check(name, parsed)
}

/// `GET /api/organizers/{username}/slots?start=&end=&eventType=&duration=`:
/// offered slots whose start lies in `[start, end)`, of the event type named
/// (the default one when absent) and of the length chosen in minutes (its
/// default length when absent).
pub async fn slots(
    State(state): State<AppState>,
    username: Result<Path<String>, PathRejection>,
    query: QueryMap,
) -> Result<Response, ApiError> {
    let Path(username) = username.map_err(|_| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "organizer_not_found",
            "organizer not found",
        )
    })?;
    let mut errors = FieldErrors::new();
    let start = query_instant(&query, "start", &mut errors);
    let end = query_instant(&query, "end", &mut errors);
    let duration = query.get("duration").and_then(|text| {
        errors.check(
            "duration",
            text.trim()
                .parse::<i64>()
                .map(super::dto::minutes)
                .map_err(|_| format!("duration must be a whole number of minutes, not {text:?}")),
        )
    });
    let (Some(start), Some(end)) = (start, end) else {
        return Err(ApiError::validation(&errors));
    };
    errors
        .into_result(())
        .map_err(|e| ApiError::validation(&e))?;
    let window = TimeRange::new(start, end).map_err(|error| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_time_range",
            format!("end must be after start ({error})"),
        )
    })?;
    let mut slot_query = SlotQuery::new(username, window);
    if let Some(slug) = query.get("eventType") {
        slot_query = slot_query.event_type(slug);
    }
    if let Some(duration) = duration {
        slot_query = slot_query.duration(duration);
    }
    let list = state
        .service
        .slots(slot_query)
        .await
        .map_err(|error| ApiError::service(error, Surface::Query))?;
    // `staleCalendars` names connected calendars that could not be
    // refreshed and were read from their last copy; it is absent when every
    // calendar was fresh, so the reply is unchanged for organizers without
    // calendars. The body is written directly (the same bytes a
    // `serde_json::Value` of it serialized to: see `slots_body`).
    let body = slots_body(&list.slots, &list.stale_calendars);
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response())
}

/// A positive page number or size; digits beyond `u32` saturate (a huge
/// `limit` is clamped by the service like any limit over 100).
fn positive(query: &QueryMap, name: &str, default: u32, errors: &mut FieldErrors) -> u32 {
    let Some(text) = query.get(name) else {
        return default;
    };
    let text = text.trim();
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        errors.add(name, format!("{name} must be a whole number of 1 or more"));
        return default;
    }
    let value = text.parse::<u64>().unwrap_or(u64::MAX);
    let value = u32::try_from(value).unwrap_or(u32::MAX);
    if value < 1 {
        errors.add(name, format!("{name} must be 1 or more"));
    }
    value
}

/// `GET /api/bookings?page=&limit=&startDate=&endDate=`: the caller's active
/// bookings by start, dates being whole local days in their zone.
pub async fn list_bookings(
    State(state): State<AppState>,
    AuthOrganizer(me): AuthOrganizer,
    query: QueryMap,
) -> Reply {
    let mut errors = FieldErrors::new();
    let page = positive(&query, "page", 1, &mut errors);
    let limit = positive(&query, "limit", 20, &mut errors);
    let from = query
        .get("startDate")
        .and_then(|text| errors.check("startDate", parse_date(text)));
    let to = query
        .get("endDate")
        .and_then(|text| errors.check("endDate", parse_date(text)));
    errors
        .into_result(())
        .map_err(|e| ApiError::validation(&e))?;
    let list = state
        .service
        .list_bookings(
            me.id,
            ListQuery {
                from,
                to,
                page,
                limit,
            },
        )
        .await?;
    let bookings: Vec<BookingDto> = list.bookings.iter().map(BookingDto::from).collect();
    ok(json!({
        "bookings": bookings,
        "pagination": {
            "page": list.page,
            "limit": list.limit,
            "total": list.total,
            "totalPages": list.total_pages,
        },
    }))
}

/// Who is asking: the organizer of a valid bearer token, else the holder of
/// a cancel token; neither is 401.
async fn credential(
    state: &AppState,
    bearer: Option<String>,
    cancel_token: Option<String>,
) -> Result<Credential, ApiError> {
    if let Some(token) = bearer {
        let organizer = state.service.authenticate(&token).await?;
        return Ok(Credential::Organizer(organizer.id));
    }
    match cancel_token {
        Some(token) if !token.is_empty() => Ok(Credential::CancelToken(token)),
        _ => Err(ApiError::unauthorized(
            "send the organizer's `Authorization: Bearer <API token>` or the booking's cancelToken",
        )),
    }
}

fn path_id(id: Result<Path<String>, PathRejection>) -> Result<BookingId, ApiError> {
    let Path(id) = id.map_err(|_| ApiError::not_found("booking not found"))?;
    booking_id(&id)
}

/// `GET /api/bookings/{id}`: for its organizer or with `?cancelToken=`.
pub async fn get_booking(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
    MaybeBearer(bearer): MaybeBearer,
    query: QueryMap,
) -> Reply {
    let id = path_id(id)?;
    let credential =
        credential(&state, bearer, query.get("cancelToken").map(str::to_owned)).await?;
    let booking = state.service.get_booking(id, &credential).await?;
    ok(json!({ "booking": BookingDto::from(&booking) }))
}

/// Any other path.
pub async fn no_route() -> ApiError {
    ApiError::not_found("no such endpoint; see the README for the API")
}

/// A known path with the wrong method.
pub async fn wrong_method() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this endpoint does not accept that method",
    )
}
