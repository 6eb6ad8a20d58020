//! Webhooks over HTTP: an organizer's endpoints, their signing secrets and
//! their deliveries (the [`booking_webhooks`] crate does the work).
//!
//! | method and path | reply |
//! |---|---|
//! | `POST /api/webhooks` `{url, events}` | 201 the endpoint and its `secret` (`whsec_...`, shown only here) |
//! | `GET /api/webhooks` | 200 `{webhooks}`: every endpoint, without secrets |
//! | `DELETE /api/webhooks/{id}` | 204; its pending deliveries are not sent |
//! | `POST /api/webhooks/{id}/rotate-secret` | 200 `{id, secret, previousSecretExpiresAt}`: the old secret keeps signing for 24 hours |
//! | `GET /api/webhooks/{id}/deliveries?limit=` | 200 `{deliveries}`: newest first, each with `eventId`, `eventType`, `bookingId`, `status` (`pending`, `done`, `dead`), `attempts`, `lastResponseCode`, `lastError`, `nextAttemptAt` |
//!
//! All need `Authorization: Bearer <API token>`. An endpoint is
//! `{id, organizerId, url, events, disabled, createdAt,
//! previousSecretExpiresAt}`; `disabled` is `{at, reason}` once the
//! receiver answered `410 Gone`. Events are `booking.created`,
//! `booking.rescheduled` and `booking.cancelled`. A URL that is not
//! `http`/`https`, longer than 2048 characters, carries credentials or
//! names a loopback or private address (unless
//! `BOOKING_ALLOW_PRIVATE_URLS=1`), and an unknown or repeated event name,
//! are 400 `validation_error` naming `url` or `events`.

use axum::Json;
use axum::Router;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use booking_webhooks::{EndpointDraft, EndpointId, MAX_DELIVERIES, WebhookError};
use serde::Deserialize;
use serde_json::{Value, json};

use super::super::error::ApiError;
use super::super::extract::{JsonBody, MaybeBearer, QueryMap, RequestBody};
use super::super::fields::FieldErrors;
use super::calendar::organizer;
use crate::App;

/// What the webhook handlers answer.
type JsonReply = Result<(StatusCode, Json<Value>), ApiError>;

/// The webhook routes, with `app` as their state.
pub fn router<S>(app: App) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route("/api/webhooks", post(create).get(list))
        .route("/api/webhooks/{id}", axum::routing::delete(delete))
        .route("/api/webhooks/{id}/rotate-secret", post(rotate_secret))
        .route("/api/webhooks/{id}/deliveries", get(deliveries))
        .with_state(app)
}

/// A webhook failure as the API's error.
fn webhook_error(error: WebhookError) -> ApiError {
    match error {
        WebhookError::Invalid(errors) => {
            let mut fields = FieldErrors::new();
            for error in errors.errors() {
                fields.add(error.field.name(), error.message.clone());
            }
            ApiError::validation(&fields)
        }
        WebhookError::NotFound(_) => ApiError::not_found("no such webhook endpoint"),
        WebhookError::TooManyEndpoints(_) => ApiError::new(
            StatusCode::CONFLICT,
            "too_many_endpoints",
            error.to_string(),
        ),
        other => ApiError::internal(&other),
    }
}

/// An endpoint id from the path; anything else is 404.
fn endpoint_id(id: Result<Path<String>, PathRejection>) -> Result<EndpointId, ApiError> {
    let Path(id) = id.map_err(|_| ApiError::not_found("no such webhook endpoint"))?;
    id.parse()
        .map_err(|_| ApiError::not_found("no such webhook endpoint"))
}

/// `POST /api/webhooks` body.
#[derive(Debug, Deserialize)]
pub struct CreateWebhookBody {
    /// Where deliveries go.
    pub url: Option<String>,
    /// The event names to receive.
    pub events: Option<Vec<String>>,
}

impl RequestBody for CreateWebhookBody {}

/// `POST /api/webhooks`: a new endpoint, with its signing secret (shown
/// only in this reply).
pub async fn create(
    State(app): State<App>,
    MaybeBearer(bearer): MaybeBearer,
    JsonBody(body): JsonBody<CreateWebhookBody>,
) -> JsonReply {
    let me = organizer(&app, bearer).await?;
    let mut missing = FieldErrors::new();
    if body.url.is_none() {
        missing.add("url", "url is required");
    }
    if body.events.is_none() {
        missing.add(
            "events",
            "events is required: a list of booking.created, booking.rescheduled, booking.cancelled",
        );
    }
    missing
        .into_result(())
        .map_err(|errors| ApiError::validation(&errors))?;
    let draft = EndpointDraft::new(
        body.url.unwrap_or_default(),
        body.events.unwrap_or_default(),
    );
    let created = app
        .integrations
        .webhooks
        .create_endpoint(me.id, &draft)
        .await
        .map_err(webhook_error)?;
    tracing::info!(organizer = %me.id, endpoint = %created.endpoint.id, "webhook endpoint created");
    let mut reply = json!(created.endpoint);
    if let Value::Object(fields) = &mut reply {
        fields.insert("secret".into(), json!(created.secret.expose()));
    }
    Ok((StatusCode::CREATED, Json(reply)))
}

/// `GET /api/webhooks`: the caller's endpoints.
pub async fn list(State(app): State<App>, MaybeBearer(bearer): MaybeBearer) -> JsonReply {
    let me = organizer(&app, bearer).await?;
    let endpoints = app
        .integrations
        .webhooks
        .endpoints(me.id)
        .await
        .map_err(webhook_error)?;
    Ok((StatusCode::OK, Json(json!({ "webhooks": endpoints }))))
}

/// `DELETE /api/webhooks/{id}`: removes one of the caller's endpoints.
pub async fn delete(
    State(app): State<App>,
    MaybeBearer(bearer): MaybeBearer,
    id: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let me = organizer(&app, bearer).await?;
    let id = endpoint_id(id)?;
    app.integrations
        .webhooks
        .delete_endpoint(me.id, id)
        .await
        .map_err(webhook_error)?;
    tracing::info!(organizer = %me.id, endpoint = %id, "webhook endpoint deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/webhooks/{id}/rotate-secret`: a new signing secret (shown
/// only here); the previous one keeps signing for 24 hours.
pub async fn rotate_secret(
    State(app): State<App>,
    MaybeBearer(bearer): MaybeBearer,
    id: Result<Path<String>, PathRejection>,
) -> JsonReply {
    let me = organizer(&app, bearer).await?;
    let id = endpoint_id(id)?;
    let webhooks = &app.integrations.webhooks;
    let secret = webhooks
        .rotate_secret(me.id, id)
        .await
        .map_err(webhook_error)?;
    let endpoint = webhooks.endpoint(me.id, id).await.map_err(webhook_error)?;
    tracing::info!(organizer = %me.id, endpoint = %id, "webhook signing secret rotated");
    Ok((
        StatusCode::OK,
        Json(json!({
            "id": id.to_string(),
            "secret": secret.expose(),
            "previousSecretExpiresAt": endpoint.previous_secret_expires_at,
        })),
    ))
}

/// `GET /api/webhooks/{id}/deliveries?limit=`: the endpoint's latest
/// deliveries (20 by default, at most 100), newest first.
pub async fn deliveries(
    State(app): State<App>,
    MaybeBearer(bearer): MaybeBearer,
    id: Result<Path<String>, PathRejection>,
    query: QueryMap,
) -> JsonReply {
    let me = organizer(&app, bearer).await?;
    let id = endpoint_id(id)?;
    let limit = match query.get("limit") {
        None => 20,
        Some(text) => match text.trim().parse::<u32>() {
            Ok(limit) if (1..=MAX_DELIVERIES).contains(&limit) => limit,
            _ => {
                return Err(ApiError::field(
                    "limit",
                    format!("limit must be a whole number from 1 to {MAX_DELIVERIES}"),
                ));
            }
        },
    };
    let deliveries = app
        .integrations
        .webhooks
        .deliveries(me.id, id, limit)
        .await
        .map_err(webhook_error)?;
    Ok((StatusCode::OK, Json(json!({ "deliveries": deliveries }))))
}
