//! The API's OpenAPI 3.1 description, generated from the code with
//! [`utoipa`] and served at `GET /api/openapi.json` ([`serve`]).
//!
//! * Request and reply bodies are the DTOs of [`crate::http::dto`], which
//!   derive [`utoipa::ToSchema`]; the envelopes the handlers build around
//!   them (`{"slots": [...]}`, the error reply) are in [`schemas`].
//! * Each route and method is one operation in `operations.rs`: a
//!   `#[utoipa::path]` on a function that only carries the description
//!   (the handlers stay as they are).
//! * [`CommonReplies`] adds the replies operations of a kind share: 400
//!   `validation_error`, 408 `request_timeout` and 413 `payload_too_large`
//!   to those with a body, 401 `unauthorized` to those that need a bearer
//!   token, 429 `rate_limited` to every `/api/` operation; marks optional
//!   query parameters `allowEmptyValue` (an empty value is no value); and
//!   adds the `bearerAuth` scheme.
//!
//! Every error reply is the [`Error`](schemas::ErrorBody) schema:
//! `{"error": "message", "code": "snake_case", "fields": {...}}` (`fields`
//! only for `validation_error`), as [`ApiError`]
//! writes it.
//!
//! # Adding a route
//!
//! 1. Describe it in `operations.rs`: a function with `#[utoipa::path(METHOD,
//!    path = "/api/...", ...)]` listing its parameters, body and replies
//!    (copy the nearest one; a request header is `("Idempotency-Key" =
//!    Option<String>, Header, description = "...")`, a reply that is not
//!    JSON says `content_type = "text/calendar"`). A new body or reply type
//!    derives `utoipa::ToSchema`; an envelope the handler builds with
//!    `json!` gets a struct in [`schemas`].
//! 2. Add the function's name to `paths(...)` of [`ApiDoc`]: one line.
//!
//! The test `examples/tests/openapi.rs` fails, naming the route and method,
//! while a route declared under `src/http/` is missing here (and
//! while the description names one the router does not serve); it reads
//! the routes from the source, so their paths must be string literals.
//! `examples/scripts/fuzz-api.sh` then checks the new operation's replies
//! against its description.

use std::sync::OnceLock;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{
    ContentBuilder, HeaderBuilder, Ref, RefOr, Required, ResponseBuilder, Type,
    path::{Operation, ParameterIn},
    schema::{ObjectBuilder, SchemaType},
};
use utoipa::{Modify, OpenApi};

use super::error::ApiError;

mod operations;
pub mod schemas;

/// The description: every documented operation and its schemas.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "booking",
        description = "The HTTP API of the booking service: organizers publish their working hours \
            and event types, attendees book offered slots, and nobody is ever double-booked. \
            Organizers authenticate with `Authorization: Bearer <API token>`. Every error reply \
            is `{\"error\": message, \"code\": code}` (plus `fields` for `validation_error`). \
            Request bodies are JSON of at most 64 KiB.",
        license(name = "MIT OR Apache-2.0", identifier = "MIT OR Apache-2.0"),
    ),
    paths(
        operations::healthz,
        operations::readyz,
        operations::metrics,
        operations::openapi,
        operations::register,
        operations::rotate_token,
        operations::get_settings,
        operations::put_settings,
        operations::list_event_types,
        operations::create_event_type,
        operations::get_event_type,
        operations::replace_event_type,
        operations::delete_event_type,
        operations::list_schedules,
        operations::create_schedule,
        operations::get_schedule,
        operations::replace_schedule,
        operations::delete_schedule,
        operations::public_event_types,
        operations::slots,
        operations::create_booking,
        operations::list_bookings,
        operations::get_booking,
        operations::cancel_booking,
        operations::reschedule_booking,
        operations::hold_slot,
        operations::release_hold,
        operations::booking_ics,
        operations::calendar_feed,
        operations::get_feed_token,
        operations::rotate_feed_token,
        operations::list_calendars,
        operations::connect_calendar,
        operations::delete_calendar,
        operations::create_webhook,
        operations::list_webhooks,
        operations::delete_webhook,
        operations::rotate_webhook_secret,
        operations::webhook_deliveries,
    ),
    components(schemas(schemas::ErrorBody)),
    modifiers(&CommonReplies),
    tags(
        (name = "organizers", description = "Registering and API tokens"),
        (name = "settings", description = "Version 1's one set of hours and one kind of meeting"),
        (name = "event types", description = "What attendees book"),
        (name = "schedules", description = "Named working hours in one time zone"),
        (name = "booking", description = "For attendees: no authentication"),
        (name = "bookings", description = "Reading and cancelling bookings"),
        (name = "calendars", description = "Invitations, the organizer's feed and connected calendars"),
        (name = "webhooks", description = "Signed notifications of bookings to the organizer's endpoints"),
        (name = "operations", description = "Probes, metrics and this description"),
    ),
)]
pub struct ApiDoc;

/// The description as a value, with the crate's version.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    doc
}

/// The description as JSON text, built once.
pub fn json() -> Result<&'static str, ApiError> {
    static JSON: OnceLock<Result<String, String>> = OnceLock::new();
    JSON.get_or_init(|| document().to_json().map_err(|error| error.to_string()))
        .as_deref()
        .map_err(|error| {
            ApiError::internal(&std::io::Error::other(format!(
                "the API description does not serialize: {error}"
            )))
        })
}

/// `GET /api/openapi.json`: the description.
pub async fn serve() -> Response {
    match json() {
        Ok(text) => (
            StatusCode::OK,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            text,
        )
            .into_response(),
        Err(error) => error.into_response(),
    }
}

/// The replies operations of a kind share, and the `bearerAuth` scheme.
#[derive(Debug, Clone, Copy)]
pub struct CommonReplies;

/// The name of the bearer token's security scheme.
pub const BEARER: &str = "bearerAuth";

impl Modify for CommonReplies {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "The organizer's API token, from `POST /api/organizers` or \
                         `POST /api/token/rotate`",
                    ))
                    .build(),
            ),
        );
        for (path, item) in openapi.paths.paths.iter_mut() {
            if !path.starts_with("/api/") || path == "/api/openapi.json" {
                continue;
            }
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                allow_empty_query_values(operation);
                add_common_replies(operation);
            }
        }
    }
}

/// Marks every optional query parameter `allowEmptyValue`: the handlers
/// read `?page=` like no `page` at all (`QueryMap::get`), and existing
/// clients rely on it. utoipa's `Parameter` has no such field (the keyword
/// is deprecated in OpenAPI 3.1, yet still the way to say so), so it goes
/// in as an extension, which serializes as a field of the parameter.
fn allow_empty_query_values(operation: &mut Operation) {
    for parameter in operation.parameters.iter_mut().flatten() {
        if let RefOr::T(parameter) = parameter
            && parameter.parameter_in == ParameterIn::Query
            && parameter.required == Required::False
        {
            parameter
                .extensions
                .get_or_insert_with(Default::default)
                .insert("allowEmptyValue".to_owned(), serde_json::Value::Bool(true));
        }
    }
}

fn add_common_replies(operation: &mut Operation) {
    let has_body = operation.request_body.is_some();
    let needs_bearer = operation.security.as_ref().is_some_and(|requirements| {
        serde_json::to_value(requirements).is_ok_and(|value| {
            value.as_array().is_some_and(|all| {
                all.iter()
                    .any(|requirement| requirement.get(BEARER).is_some())
            })
        })
    });
    let replies = &mut operation.responses.responses;
    let mut add = |status: &str, reply: RefOr<utoipa::openapi::Response>| {
        replies.entry(status.to_owned()).or_insert(reply);
    };
    if has_body {
        add(
            "400",
            error_reply(
                "`validation_error`: the body is not JSON of this shape, or a field is refused (`fields` names each)",
            ),
        );
        add(
            "408",
            error_reply("`request_timeout`: the body did not arrive in time"),
        );
        add(
            "413",
            error_reply("`payload_too_large`: the body is over 64 KiB"),
        );
    }
    if needs_bearer {
        let reply = ResponseBuilder::new()
            .description("`unauthorized`: the bearer token is missing, malformed or unknown")
            .header(
                "WWW-Authenticate",
                HeaderBuilder::new()
                    .schema(Some(
                        ObjectBuilder::new().schema_type(SchemaType::new(Type::String)),
                    ))
                    .description(Some("`Bearer`"))
                    .build(),
            )
            .content("application/json", error_content())
            .build();
        add("401", RefOr::T(reply));
    }
    let reply = ResponseBuilder::new()
        .description("`rate_limited`: this client address used its budget for this kind of request")
        .header(
            "Retry-After",
            HeaderBuilder::new()
                .schema(Some(
                    ObjectBuilder::new().schema_type(SchemaType::new(Type::Integer)),
                ))
                .description(Some(
                    "Seconds until a request of this kind is accepted again",
                ))
                .build(),
        )
        .content("application/json", error_content())
        .build();
    add("429", RefOr::T(reply));
}

/// An error reply described by `description`.
fn error_reply(description: &str) -> RefOr<utoipa::openapi::Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content("application/json", error_content())
            .build(),
    )
}

fn error_content() -> utoipa::openapi::Content {
    ContentBuilder::new()
        .schema(Some(Ref::from_schema_name("Error")))
        .build()
}
