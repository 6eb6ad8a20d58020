//! `/api/schedules`: the caller's named working hours (bearer).

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use booking_core::{ScheduleId, ServiceError};
use serde_json::json;

use super::{Reply, created, ok};
use crate::http::AppState;
use crate::http::dto::{ScheduleBody, ScheduleDto};
use crate::http::error::ApiError;
use crate::http::extract::{AuthOrganizer, JsonBody};

/// The id in the path; text that is not an id names no schedule (404).
fn path_id(id: Result<Path<String>, PathRejection>) -> Result<ScheduleId, ApiError> {
    id.ok()
        .and_then(|Path(text)| text.parse::<ScheduleId>().ok())
        .ok_or_else(|| ServiceError::ScheduleNotFound.into())
}

/// `GET /api/schedules`: the caller's schedules.
pub async fn list(State(state): State<AppState>, AuthOrganizer(me): AuthOrganizer) -> Reply {
    let schedules = state.service.schedules(me.id).await?;
    let shown: Vec<ScheduleDto> = schedules.iter().map(ScheduleDto::from).collect();
    ok(json!({ "schedules": shown }))
}

/// `POST /api/schedules`: creates one; 201 with it as stored.
pub async fn create(
    State(state): State<AppState>,
    AuthOrganizer(me): AuthOrganizer,
    JsonBody(body): JsonBody<ScheduleBody>,
) -> Reply {
    let draft = body.into_draft()?;
    let schedule = state.service.create_schedule(me.id, draft).await?;
    created(json!(ScheduleDto::from(&schedule)))
}

/// `GET /api/schedules/{id}`.
pub async fn read(
    State(state): State<AppState>,
    AuthOrganizer(me): AuthOrganizer,
    id: Result<Path<String>, PathRejection>,
) -> Reply {
    let id = path_id(id)?;
    let schedule = state.service.schedule(me.id, id).await?;
    ok(json!(ScheduleDto::from(&schedule)))
}

/// `PUT /api/schedules/{id}`: replaces it.
pub async fn replace(
    State(state): State<AppState>,
    AuthOrganizer(me): AuthOrganizer,
    id: Result<Path<String>, PathRejection>,
    JsonBody(body): JsonBody<ScheduleBody>,
) -> Reply {
    let id = path_id(id)?;
    let draft = body.into_draft()?;
    let schedule = state.service.update_schedule(me.id, id, draft).await?;
    ok(json!(ScheduleDto::from(&schedule)))
}

/// `DELETE /api/schedules/{id}`: 204; 409 `schedule_in_use` for the default
/// schedule or one an event type uses.
pub async fn delete(
    State(state): State<AppState>,
    AuthOrganizer(me): AuthOrganizer,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let id = path_id(id)?;
    state.service.delete_schedule(me.id, id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
