//! [`ApiError`]: every failure as `{error, code, fields?}` with its status,
//! and [`status_of`], the one table from a `code` to its HTTP status.

use std::borrow::Cow;
use std::collections::BTreeMap;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use booking_core::ServiceError;
use booking_core::schedule::weekday_name;
use booking_core::settings::SettingsError;
use serde::Serialize;

use super::fields::{FieldErrors, Surface, renamed, setting_name as duration_field};

/// An error reply: an HTTP status, a stable snake_case `code` clients branch
/// on, a human `error` message and, for `validation_error`, the offending
/// fields by their JSON names (`attendantEmail`, `weeklyHours.monday[0].end`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The stable code, e.g. `slot_unavailable`.
    pub code: Cow<'static, str>,
    /// A message for people.
    pub message: String,
    /// Field name to message, for validation errors.
    pub fields: BTreeMap<String, String>,
}

/// The `code` of an error reply, kept in the response's extensions so
/// middleware (metrics) can read it without parsing the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorCode(pub Cow<'static, str>);

#[derive(Serialize)]
struct Body<'a> {
    error: &'a str,
    code: &'a str,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    fields: &'a BTreeMap<String, String>,
}

/// Every error code booking-core's [`ServiceError::code`] can give, and
/// those of calendars and webhooks (`secret_key_missing`,
/// `too_many_calendars`, `too_many_endpoints`), with the HTTP status each
/// is answered with. Codes of the HTTP layer itself (`payload_too_large`,
/// `rate_limited`, ...) are set where they arise.
pub const STATUS_TABLE: &[(&str, StatusCode)] = &[
    ("validation_error", StatusCode::BAD_REQUEST),
    ("invalid_time_range", StatusCode::BAD_REQUEST),
    ("unauthorized", StatusCode::UNAUTHORIZED),
    ("permission_denied", StatusCode::FORBIDDEN),
    ("organizer_not_found", StatusCode::NOT_FOUND),
    ("not_found", StatusCode::NOT_FOUND),
    ("event_type_not_found", StatusCode::NOT_FOUND),
    ("schedule_not_found", StatusCode::NOT_FOUND),
    ("hold_not_found", StatusCode::NOT_FOUND),
    ("settings_not_found", StatusCode::CONFLICT),
    ("slot_unavailable", StatusCode::CONFLICT),
    ("slot_being_booked", StatusCode::CONFLICT),
    ("already_cancelled", StatusCode::CONFLICT),
    ("username_taken", StatusCode::CONFLICT),
    ("slug_taken", StatusCode::CONFLICT),
    ("schedule_in_use", StatusCode::CONFLICT),
    ("booking_limit_reached", StatusCode::CONFLICT),
    ("concurrent_update", StatusCode::CONFLICT),
    ("booking_started", StatusCode::CONFLICT),
    ("holds_disabled", StatusCode::CONFLICT),
    ("idempotency_in_progress", StatusCode::CONFLICT),
    ("idempotency_key_reused", StatusCode::UNPROCESSABLE_ENTITY),
    ("too_many_holds", StatusCode::TOO_MANY_REQUESTS),
    ("calendar_unavailable", StatusCode::SERVICE_UNAVAILABLE),
    ("secret_key_missing", StatusCode::CONFLICT),
    ("too_many_calendars", StatusCode::CONFLICT),
    ("too_many_endpoints", StatusCode::CONFLICT),
    ("internal", StatusCode::INTERNAL_SERVER_ERROR),
];

/// The status of a [`ServiceError::code`] ([`STATUS_TABLE`]), with the code
/// as a `'static` string. A code this table does not know (a replayed
/// refusal recorded by a newer version of the service) is a client error:
/// 400 with the code as it was.
pub fn status_of(code: &str) -> (StatusCode, Cow<'static, str>) {
    match STATUS_TABLE.iter().find(|(known, _)| *known == code) {
        Some((known, status)) => (*status, Cow::Borrowed(*known)),
        None => (StatusCode::BAD_REQUEST, Cow::Owned(code.to_owned())),
    }
}

impl ApiError {
    /// An error with no field details.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code: Cow::Borrowed(code),
            message: message.into(),
            fields: BTreeMap::new(),
        }
    }

    /// 400 `validation_error` naming each refused field.
    pub fn validation(errors: &FieldErrors) -> Self {
        let mut fields: BTreeMap<String, String> = BTreeMap::new();
        for error in errors.errors() {
            fields
                .entry(error.field.clone())
                .and_modify(|message| {
                    message.push_str("; ");
                    message.push_str(&error.message);
                })
                .or_insert_with(|| error.message.clone());
        }
        let message = match errors.errors() {
            [] => "invalid input".to_owned(),
            [only] => format!("{}: {}", only.field, only.message),
            _ => errors.to_string(),
        };
        ApiError {
            status: StatusCode::BAD_REQUEST,
            code: Cow::Borrowed("validation_error"),
            message,
            fields,
        }
    }

    /// 400 `validation_error` for one field.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::validation(&FieldErrors::single(field, message))
    }

    /// 400 `validation_error` without a field (e.g. a body that is not JSON).
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "validation_error", message)
    }

    /// 401 `unauthorized`.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    /// 404 `not_found`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 500 `internal`; the cause is logged, never sent.
    pub fn internal(cause: &dyn std::error::Error) -> Self {
        tracing::error!(error = %error_chain(cause), "request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal server error; the details were logged",
        )
    }

    /// A booking-core error whose fields arrived on `surface` (a query
    /// string names them differently from a body).
    pub fn service(error: ServiceError, surface: Surface) -> Self {
        let (status, code) = status_of(error.code());
        match error {
            ServiceError::Validation(errors) => ApiError::validation(&renamed(errors, surface)),
            ServiceError::InvalidSettings(settings) => settings_error(&settings),
            ServiceError::WindowTooLong { max_days } => ApiError::field(
                "end",
                format!("the window from start to end may be at most {max_days} days long"),
            ),
            error if code == "internal" => ApiError::internal(&error),
            error => {
                if status.is_server_error() {
                    tracing::warn!(error = %error_chain(&error), "a backend the service needs failed");
                }
                ApiError {
                    status,
                    code,
                    message: error.to_string(),
                    fields: BTreeMap::new(),
                }
            }
        }
    }
}

/// `error: cause: cause...`, for logs.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

impl From<ServiceError> for ApiError {
    /// A booking-core error from a request whose fields came in a JSON body.
    fn from(error: ServiceError) -> Self {
        ApiError::service(error, Surface::Body)
    }
}

/// Settings refused by booking-core, reported against the JSON field.
pub fn settings_error(error: &SettingsError) -> ApiError {
    match error {
        SettingsError::UnknownTimeZone(_) => ApiError::field("timeZone", error.to_string()),
        SettingsError::DurationTooSmall(which) => {
            let (field, unit) = duration_field(*which);
            let min = which.min();
            let bound = if min == chrono::Duration::zero() {
                "zero or more".to_owned()
            } else if unit == "days" {
                format!("at least {}", min.num_days().max(1))
            } else {
                format!("at least {}", min.num_minutes())
            };
            ApiError::field(field, format!("{field} must be {bound}"))
        }
        SettingsError::DurationTooLarge(which) => {
            let (field, unit) = duration_field(*which);
            let max = if unit == "days" {
                which.max().num_days()
            } else {
                which.max().num_minutes()
            };
            ApiError::field(field, format!("{field} must be at most {max} ({unit})"))
        }
        SettingsError::NotWholeMinutes(which) => {
            let (field, _) = duration_field(*which);
            ApiError::field(field, format!("{field} must be a whole number"))
        }
        SettingsError::TooManyWeekdayIntervals { day, .. } => ApiError::field(
            format!("weeklyHours.{}", weekday_name(*day)),
            error.to_string(),
        ),
        SettingsError::TooManyOverrideIntervals { .. } | SettingsError::TooManyOverrides(_) => {
            ApiError::field("dateOverrides", error.to_string())
        }
        _ => ApiError::field("settings", error.to_string()),
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Body {
            error: &self.message,
            code: &self.code,
            fields: &self.fields,
        };
        let mut response = (self.status, Json(body)).into_response();
        response
            .extensions_mut()
            .insert(ErrorCode(self.code.clone()));
        if matches!(
            self.status,
            StatusCode::PAYLOAD_TOO_LARGE | StatusCode::REQUEST_TIMEOUT
        ) {
            // Part of the request body is still unread: the connection
            // cannot carry another request.
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use booking_core::event_type::LimitPeriod;
    use booking_core::provider::ProviderError;
    use booking_core::settings::DurationSetting;
    use booking_core::store::StoreError;
    use booking_core::time::InvalidTimeRange;
    use booking_core::{Field, SlotRefusal, ValidationErrors};
    use chrono::Utc;

    use super::*;

    /// Every variant of `ServiceError` this service can meet, with the
    /// status and code its reply must have.
    fn cases() -> Vec<(ServiceError, u16, &'static str)> {
        let now = Utc::now();
        vec![
            (
                ServiceError::Validation(ValidationErrors::single(Field::AttendeeEmail, "bad")),
                400,
                "validation_error",
            ),
            (
                ServiceError::InvalidTimeRange(InvalidTimeRange {
                    start: now,
                    end: now,
                }),
                400,
                "invalid_time_range",
            ),
            (
                ServiceError::WindowTooLong { max_days: 62 },
                400,
                "validation_error",
            ),
            (ServiceError::OrganizerNotFound, 404, "organizer_not_found"),
            (ServiceError::SettingsNotFound, 409, "settings_not_found"),
            (ServiceError::EventTypeNotFound, 404, "event_type_not_found"),
            (ServiceError::ScheduleNotFound, 404, "schedule_not_found"),
            (ServiceError::SlugTaken("intro".into()), 409, "slug_taken"),
            (
                ServiceError::ScheduleInUse("in use".into()),
                409,
                "schedule_in_use",
            ),
            (
                ServiceError::BookingLimitReached(LimitPeriod::Day),
                409,
                "booking_limit_reached",
            ),
            (
                ServiceError::SlotUnavailable(SlotRefusal::Busy),
                409,
                "slot_unavailable",
            ),
            (ServiceError::SlotBeingBooked, 409, "slot_being_booked"),
            (ServiceError::NotFound, 404, "not_found"),
            (ServiceError::PermissionDenied, 403, "permission_denied"),
            (ServiceError::Unauthorized, 401, "unauthorized"),
            (
                ServiceError::AlreadyCancelled { cancelled_at: now },
                409,
                "already_cancelled",
            ),
            (
                ServiceError::UsernameTaken("ada".into()),
                409,
                "username_taken",
            ),
            (ServiceError::BookingStarted, 409, "booking_started"),
            (ServiceError::HoldsDisabled, 409, "holds_disabled"),
            (ServiceError::TooManyHolds { max: 3 }, 429, "too_many_holds"),
            (ServiceError::HoldNotFound, 404, "hold_not_found"),
            (
                ServiceError::IdempotencyKeyReused,
                422,
                "idempotency_key_reused",
            ),
            (
                ServiceError::IdempotencyInProgress,
                409,
                "idempotency_in_progress",
            ),
            (ServiceError::ConcurrentUpdate, 409, "concurrent_update"),
            (
                ServiceError::CalendarUnavailable {
                    calendar: "Work".into(),
                },
                503,
                "calendar_unavailable",
            ),
            (
                ServiceError::Replayed {
                    code: "slot_unavailable".into(),
                    message: "this time slot is not available".into(),
                },
                409,
                "slot_unavailable",
            ),
            (
                ServiceError::Replayed {
                    code: "idempotency_key_reused".into(),
                    message: "reused".into(),
                },
                422,
                "idempotency_key_reused",
            ),
            (
                ServiceError::Replayed {
                    code: "a_code_of_a_newer_version".into(),
                    message: "refused".into(),
                },
                400,
                "a_code_of_a_newer_version",
            ),
            (
                ServiceError::Store(StoreError::backend("disk on fire")),
                500,
                "internal",
            ),
            (
                ServiceError::Provider(ProviderError::Failed("down".into())),
                500,
                "internal",
            ),
        ]
    }

    #[test]
    fn every_code_has_its_status() {
        for (error, status, code) in cases() {
            let shown = error.to_string();
            let reply = ApiError::from(error);
            assert_eq!(reply.status.as_u16(), status, "{code}: {shown}");
            assert_eq!(reply.code, code, "{shown}");
            assert!(!reply.message.is_empty(), "{code}");
        }
    }

    #[test]
    fn internal_failures_say_nothing_of_their_cause() {
        let reply = ApiError::from(ServiceError::Store(StoreError::backend("disk on fire")));
        assert!(!reply.message.contains("disk"), "{}", reply.message);
    }

    #[test]
    fn the_table_has_each_code_once() {
        let mut codes: Vec<&str> = STATUS_TABLE.iter().map(|(code, _)| *code).collect();
        codes.sort_unstable();
        let count = codes.len();
        codes.dedup();
        assert_eq!(codes.len(), count);
    }

    #[test]
    fn settings_bounds_come_from_the_rules() {
        let reply = settings_error(&SettingsError::DurationTooSmall(
            DurationSetting::SlotDuration,
        ));
        assert_eq!(
            reply.fields["slotMinutes"],
            "slotMinutes must be at least 5"
        );
        let reply = settings_error(&SettingsError::DurationTooSmall(
            DurationSetting::BufferAfter,
        ));
        assert_eq!(
            reply.fields["bufferAfterMinutes"],
            "bufferAfterMinutes must be zero or more"
        );
        let reply = settings_error(&SettingsError::DurationTooSmall(
            DurationSetting::MaxAdvance,
        ));
        assert_eq!(
            reply.fields["maxAdvanceDays"],
            "maxAdvanceDays must be at least 1"
        );
    }
}
