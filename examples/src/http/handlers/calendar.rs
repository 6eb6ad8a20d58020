//! Calendars over HTTP: a booking's invitation (`.ics`), the organizer's
//! subscribable feed and its token, and the organizer's connected
//! calendars (busy time from ICS feeds and CalDAV).
//!
//! | method and path | who | reply |
//! |---|---|---|
//! | `GET /api/bookings/{id}/ics` | its organizer (bearer), or `?cancelToken=` | 200 `text/calendar; method=REQUEST` (`CANCEL` once cancelled): one `VEVENT` whose `UID` never changes |
//! | `GET /api/organizers/{username}/calendar.ics?token=` | the feed token's holder | 200 `text/calendar`: active and recently cancelled bookings (`METHOD:PUBLISH`) |
//! | `GET /api/feed-token` | organizer | 200 `{token, url}` |
//! | `POST /api/feed-token` | organizer | 200 `{token, url}`: a new token; the old one stops working |
//! | `GET /api/calendars` | organizer | 200 `{calendars: [{id, kind, name, url, username?, createdAt}]}` |
//! | `POST /api/calendars` | organizer | 201 the calendar: body `{"kind": "ics", "url"}` or `{"kind": "caldav", "url", "username", "password"}`, each with an optional `name` |
//! | `DELETE /api/calendars/{id}` | organizer | 204 |
//!
//! A CalDAV password is encrypted with `BOOKING_SECRET_KEY` and never
//! returned; without the key it is refused (409 `secret_key_missing`), and
//! so are feed tokens (they are derived from it). Calendar URLs must be
//! `http`/`https` on public addresses (400 naming `url`) unless
//! `BOOKING_ALLOW_PRIVATE_URLS=1`.

use axum::Router;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use booking_calendar::connections::NewConnection;
use booking_calendar::details::BookingDetails;
use booking_calendar::tokens::FeedTokenError;
use booking_calendar::{BookingLinks, Connection, ConnectionError, FeedTokens, ItipMethod};
use booking_core::{Booking, Organizer, OrganizerRef, ServiceError, StoreError};
use booking_net::Url;
use serde::Deserialize;
use serde_json::{Value, json};

use super::super::dto::instant;
use super::super::error::ApiError;
use super::super::extract::{JsonBody, MaybeBearer, QueryMap, RequestBody, booking_id};
use super::super::fields::FieldErrors;
use crate::App;

/// The calendar routes, with `app` as their state.
pub fn router<S>(app: App) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route("/api/bookings/{id}/ics", get(booking_ics))
        .route("/api/organizers/{username}/calendar.ics", get(feed))
        .route("/api/feed-token", get(feed_token).post(rotate_feed_token))
        .route("/api/calendars", get(list_calendars).post(connect_calendar))
        .route(
            "/api/calendars/{id}",
            axum::routing::delete(delete_calendar),
        )
        .with_state(app)
}

/// The organizer of the bearer token; 401 without one.
pub(crate) async fn organizer(app: &App, bearer: Option<String>) -> Result<Organizer, ApiError> {
    match bearer {
        Some(token) => Ok(app.service.authenticate(&token).await?),
        None => Err(ApiError::unauthorized(
            "this endpoint needs `Authorization: Bearer <API token>`",
        )),
    }
}

/// A store failure as the API's 500.
fn store_error(error: StoreError) -> ApiError {
    ApiError::from(ServiceError::Store(error))
}

/// `text/calendar` with the given iTIP method (none for a feed).
fn calendar_reply(text: String, method: Option<ItipMethod>, filename: Option<String>) -> Response {
    let content_type = match method {
        Some(method) => format!("text/calendar; charset=utf-8; method={}", method.name()),
        None => "text/calendar; charset=utf-8".to_owned(),
    };
    let mut response = ([(header::CONTENT_TYPE, content_type)], text).into_response();
    if let Some(name) = filename
        && let Ok(value) = format!("attachment; filename=\"{name}\"").parse()
    {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

/// `GET /api/bookings/{id}/ics`: the booking's invitation, for its
/// organizer (bearer) or the holder of its cancel token
/// (`?cancelToken=`), also once cancelled (`METHOD:CANCEL`). Its
/// description links to the cancel page when the cancel token was given.
pub async fn booking_ics(
    State(app): State<App>,
    id: Result<Path<String>, PathRejection>,
    MaybeBearer(bearer): MaybeBearer,
    query: QueryMap,
) -> Result<Response, ApiError> {
    let Path(id) = id.map_err(|_| ApiError::not_found("booking not found"))?;
    let id = booking_id(&id)?;
    let cancel_token = query.get("cancelToken").map(str::to_owned);
    let organizer = match bearer {
        Some(token) => Some(organizer(&app, Some(token)).await?),
        None if cancel_token.is_some() => None,
        None => {
            return Err(ApiError::unauthorized(
                "send the organizer's `Authorization: Bearer <API token>` or the booking's cancelToken",
            ));
        }
    };
    let booking: Booking = app
        .integrations
        .store
        .booking(id)
        .await
        .map_err(store_error)?
        .ok_or_else(|| ApiError::from(ServiceError::NotFound))?;
    let allowed = match (&organizer, &cancel_token) {
        (Some(me), _) => me.id == booking.organizer_id,
        (None, Some(token)) => booking.cancel_token_hash.verify(token),
        (None, None) => false,
    };
    if !allowed {
        return Err(ServiceError::PermissionDenied.into());
    }
    let details = BookingDetails::of(&app.service, &booking).await?;
    let base = &app.integrations.public_url;
    let links = match (&organizer, &cancel_token) {
        (None, Some(token)) => BookingLinks {
            reschedule: None,
            cancel: Url::parse_with_params(
                &format!("{base}/bookings/{}/cancel", booking.id),
                [("token", token.as_str())],
            )
            .ok()
            .map(String::from),
        },
        _ => BookingLinks {
            reschedule: None,
            cancel: Some(format!("{base}/dashboard")),
        },
    };
    let text = details.invitation(&booking, &app.integrations.host, links);
    Ok(calendar_reply(
        text,
        Some(ItipMethod::for_booking(&booking)),
        Some(format!("booking-{}.ics", booking.id)),
    ))
}

/// The feed tokens, or 409 `secret_key_missing`.
fn feed_tokens(app: &App) -> Result<&FeedTokens, ApiError> {
    app.integrations.feed_tokens.as_ref().ok_or_else(|| {
        ApiError::new(
            StatusCode::CONFLICT,
            "secret_key_missing",
            "calendar feeds need the server's secret key: set BOOKING_SECRET_KEY",
        )
    })
}

fn feed_token_error(error: FeedTokenError) -> ApiError {
    match error {
        FeedTokenError::Store(error) => store_error(error),
        other => ApiError::internal(&other),
    }
}

fn no_feed() -> ApiError {
    ApiError::unauthorized("this feed needs its token: ?token=... from GET /api/feed-token")
}

/// `GET /api/organizers/{username}/calendar.ics?token=`: the organizer's
/// feed, for the holder of their feed token.
pub async fn feed(
    State(app): State<App>,
    username: Result<Path<String>, PathRejection>,
    query: QueryMap,
) -> Result<Response, ApiError> {
    let Path(username) = username.map_err(|_| no_feed())?;
    let Some(token) = query.get("token") else {
        return Err(no_feed());
    };
    let Some(tokens) = app.integrations.feed_tokens.as_ref() else {
        return Err(no_feed());
    };
    let owner = tokens
        .organizer_for(token)
        .await
        .map_err(feed_token_error)?
        .ok_or_else(no_feed)?;
    let organizer = match app.service.organizer(OrganizerRef::Id(owner)).await {
        Ok(organizer) if organizer.username.eq_ignore_ascii_case(&username) => organizer,
        Ok(_) | Err(ServiceError::OrganizerNotFound) => return Err(no_feed()),
        Err(error) => return Err(error.into()),
    };
    let text = app
        .integrations
        .feed
        .render(&organizer)
        .await
        .map_err(store_error)?;
    Ok(calendar_reply(text, None, None))
}

/// `{token, url}` of a feed token.
fn token_reply(app: &App, organizer: &Organizer, token: &str) -> Value {
    let url = Url::parse_with_params(
        &format!(
            "{}/api/organizers/{}/calendar.ics",
            app.integrations.public_url, organizer.username
        ),
        [("token", token)],
    )
    .map(String::from)
    .unwrap_or_default();
    json!({ "token": token, "url": url })
}

/// `GET /api/feed-token`: the caller's feed token and feed URL.
pub async fn feed_token(
    State(app): State<App>,
    MaybeBearer(bearer): MaybeBearer,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let me = organizer(&app, bearer).await?;
    let token = feed_tokens(&app)?
        .token(me.id)
        .await
        .map_err(feed_token_error)?;
    Ok((
        StatusCode::OK,
        axum::Json(token_reply(&app, &me, token.expose())),
    ))
}

/// `POST /api/feed-token`: a new feed token for the caller; the old one
/// stops working at once.
pub async fn rotate_feed_token(
    State(app): State<App>,
    MaybeBearer(bearer): MaybeBearer,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let me = organizer(&app, bearer).await?;
    let token = feed_tokens(&app)?
        .rotate(me.id)
        .await
        .map_err(feed_token_error)?;
    tracing::info!(organizer = %me.id, "feed token rotated");
    Ok((
        StatusCode::OK,
        axum::Json(token_reply(&app, &me, token.expose())),
    ))
}

/// A connected calendar as the API shows it: never the password.
fn connection_json(connection: &Connection) -> Value {
    json!({
        "id": connection.id,
        "kind": connection.kind,
        "name": connection.name,
        "url": connection.url,
        "username": connection.username,
        "createdAt": instant(connection.created_at),
    })
}

/// A refused or failed connection as the API's error.
fn connection_error(error: ConnectionError) -> ApiError {
    match error {
        ConnectionError::InvalidUrl(cause) => ApiError::field("url", cause.to_string()),
        ConnectionError::Missing(field)
        | ConnectionError::TooLong(field)
        | ConnectionError::ControlCharacters(field) => ApiError::field(field, error.to_string()),
        ConnectionError::NoSecretKey => ApiError::new(
            StatusCode::CONFLICT,
            "secret_key_missing",
            error.to_string(),
        ),
        ConnectionError::TooMany => ApiError::new(
            StatusCode::CONFLICT,
            "too_many_calendars",
            error.to_string(),
        ),
        ConnectionError::NotFound => ApiError::not_found("no such calendar"),
        ConnectionError::Store(error) => store_error(error),
        other => ApiError::internal(&other),
    }
}

/// `GET /api/calendars`: the caller's connected calendars.
pub async fn list_calendars(
    State(app): State<App>,
    MaybeBearer(bearer): MaybeBearer,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let me = organizer(&app, bearer).await?;
    let calendars = app
        .integrations
        .connections
        .list(me.id)
        .await
        .map_err(connection_error)?;
    let calendars: Vec<Value> = calendars.iter().map(connection_json).collect();
    Ok((
        StatusCode::OK,
        axum::Json(json!({ "calendars": calendars })),
    ))
}

/// `POST /api/calendars` body.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectBody {
    /// `ics` or `caldav`.
    pub kind: Option<String>,
    /// The feed's or collection's URL.
    pub url: Option<String>,
    /// A name for people.
    pub name: Option<String>,
    /// CalDAV only: the user name.
    pub username: Option<String>,
    /// CalDAV only: the password.
    pub password: Option<String>,
}

impl RequestBody for ConnectBody {}

impl ConnectBody {
    /// The connection asked for, or every refused field.
    fn into_new(self) -> Result<NewConnection, ApiError> {
        let mut errors = FieldErrors::new();
        let url = self.url.unwrap_or_default();
        if url.trim().is_empty() {
            errors.add("url", "url is required");
        }
        let new = match self.kind.as_deref().map(str::trim) {
            Some("ics") => {
                for (field, value) in [("username", &self.username), ("password", &self.password)] {
                    if value.is_some() {
                        errors.add(field, format!("{field} is for CalDAV calendars only"));
                    }
                }
                Some(NewConnection::Ics {
                    url,
                    name: self.name,
                })
            }
            Some("caldav") => {
                let username = self.username.unwrap_or_default();
                let password = self.password.unwrap_or_default();
                if username.trim().is_empty() {
                    errors.add("username", "username is required for a CalDAV calendar");
                }
                if password.is_empty() {
                    errors.add("password", "password is required for a CalDAV calendar");
                }
                Some(NewConnection::Caldav {
                    url,
                    username,
                    password,
                    name: self.name,
                })
            }
            None => {
                errors.add("kind", "kind is required: ics or caldav");
                None
            }
            Some(_) => {
                errors.add("kind", "kind must be ics or caldav");
                None
            }
        };
        match (errors.into_result(()), new) {
            (Ok(()), Some(new)) => Ok(new),
            (Err(errors), _) => Err(ApiError::validation(&errors)),
            (Ok(()), None) => Err(ApiError::field("kind", "kind must be ics or caldav")),
        }
    }
}

/// `POST /api/calendars`: connects a calendar whose busy time then blocks
/// the caller's slots.
pub async fn connect_calendar(
    State(app): State<App>,
    MaybeBearer(bearer): MaybeBearer,
    JsonBody(body): JsonBody<ConnectBody>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let me = organizer(&app, bearer).await?;
    let new = body.into_new()?;
    let connected = app
        .integrations
        .connections
        .connect(me.id, new)
        .await
        .map_err(connection_error)?;
    tracing::info!(organizer = %me.id, calendar = %connected.id, kind = ?connected.kind, "calendar connected");
    Ok((StatusCode::CREATED, axum::Json(connection_json(&connected))))
}

/// `DELETE /api/calendars/{id}`: disconnects one of the caller's calendars.
pub async fn delete_calendar(
    State(app): State<App>,
    MaybeBearer(bearer): MaybeBearer,
    id: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let me = organizer(&app, bearer).await?;
    let Path(id) = id.map_err(|_| ApiError::not_found("no such calendar"))?;
    if id.len() > 64 {
        return Err(ApiError::not_found("no such calendar"));
    }
    app.integrations
        .connections
        .delete(me.id, &id)
        .await
        .map_err(connection_error)?;
    tracing::info!(organizer = %me.id, calendar = %id, "calendar disconnected");
    Ok(StatusCode::NO_CONTENT)
}
