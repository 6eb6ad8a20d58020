//! `/api/event-types` (the organizer's, bearer) and
//! `/api/organizers/{username}/event-types` (public, active ones only).

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use booking_core::{ServiceError, Slug};
use serde_json::json;

use super::{Reply, created, ok};
use crate::http::AppState;
use crate::http::dto::{EventTypeBody, EventTypeDto, PublicEventTypeDto};
use crate::http::error::ApiError;
use crate::http::extract::{AuthOrganizer, JsonBody};

/// The slug in the path; text that is not a slug names no event type (404).
fn path_slug(slug: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    slug.ok()
        .and_then(|Path(text)| text.parse::<Slug>().ok())
        .map(String::from)
        .ok_or_else(|| ServiceError::EventTypeNotFound.into())
}

/// `GET /api/event-types`: the caller's event types, active or not.
pub async fn list(State(state): State<AppState>, AuthOrganizer(me): AuthOrganizer) -> Reply {
    let event_types = state.service.event_types(me.id).await?;
    let shown: Vec<EventTypeDto> = event_types.iter().map(EventTypeDto::from).collect();
    ok(json!({ "eventTypes": shown }))
}

/// `POST /api/event-types`: creates one; 201 with it as stored.
pub async fn create(
    State(state): State<AppState>,
    AuthOrganizer(me): AuthOrganizer,
    JsonBody(body): JsonBody<EventTypeBody>,
) -> Reply {
    let draft = body.into_draft(None)?;
    let event_type = state.service.create_event_type(me.id, draft).await?;
    tracing::info!(organizer = %me.id, slug = %event_type.slug, "event type created");
    created(json!(EventTypeDto::from(&event_type)))
}

/// `GET /api/event-types/{slug}`: one of the caller's, active or not.
pub async fn read(
    State(state): State<AppState>,
    AuthOrganizer(me): AuthOrganizer,
    slug: Result<Path<String>, PathRejection>,
) -> Reply {
    let slug = path_slug(slug)?;
    let event_type = state.service.event_type(me.id, &slug).await?;
    ok(json!(EventTypeDto::from(&event_type)))
}

/// `PUT /api/event-types/{slug}`: replaces it (a new `slug` renames it).
pub async fn replace(
    State(state): State<AppState>,
    AuthOrganizer(me): AuthOrganizer,
    slug: Result<Path<String>, PathRejection>,
    JsonBody(body): JsonBody<EventTypeBody>,
) -> Reply {
    let slug = path_slug(slug)?;
    let draft = body.into_draft(Some(&slug))?;
    let event_type = state.service.update_event_type(me.id, &slug, draft).await?;
    ok(json!(EventTypeDto::from(&event_type)))
}

/// `DELETE /api/event-types/{slug}`: 204; its bookings stay.
pub async fn delete(
    State(state): State<AppState>,
    AuthOrganizer(me): AuthOrganizer,
    slug: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let slug = path_slug(slug)?;
    state.service.delete_event_type(me.id, &slug).await?;
    tracing::info!(organizer = %me.id, %slug, "event type deleted");
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /api/organizers/{username}/event-types`: what attendees can book.
pub async fn public(
    State(state): State<AppState>,
    username: Result<Path<String>, PathRejection>,
) -> Reply {
    let Ok(Path(username)) = username else {
        return Err(ServiceError::OrganizerNotFound.into());
    };
    let event_types = state.service.active_event_types(username).await?;
    let shown: Vec<PublicEventTypeDto> = event_types.iter().map(PublicEventTypeDto::from).collect();
    ok(json!({ "eventTypes": shown }))
}
