//! [`ApiError`]: every failure as `{error, code, fields?}` with its status.

use std::collections::BTreeMap;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use booking_core::organizer::{DurationSetting, SettingsError, weekday_name};
use booking_core::service::ServiceError;
use booking_core::validation::ValidationErrors;
use serde::Serialize;

/// An error reply: an HTTP status, a stable snake_case `code` clients branch
/// on, a human `error` message and, for `validation_error`, the offending
/// fields by their JSON names (`attendantEmail`, `weeklyHours.monday[0].end`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The stable code, e.g. `slot_unavailable`.
    pub code: &'static str,
    /// A message for people.
    pub message: String,
    /// Field name to message, for validation errors.
    pub fields: BTreeMap<String, String>,
}

/// The `code` of an error reply, kept in the response's extensions so
/// middleware (metrics) can read it without parsing the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorCode(pub &'static str);

#[derive(Serialize)]
struct Body<'a> {
    error: &'a str,
    code: &'a str,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    fields: &'a BTreeMap<String, String>,
}

impl ApiError {
    /// An error with no field details.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            fields: BTreeMap::new(),
        }
    }

    /// 400 `validation_error` naming each refused field.
    pub fn validation(errors: &ValidationErrors) -> Self {
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
            code: "validation_error",
            message,
            fields,
        }
    }

    /// 400 `validation_error` for one field.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::validation(&ValidationErrors::single(field, message))
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
    fn from(error: ServiceError) -> Self {
        let code = error.code();
        let status = match code {
            "validation_error" | "invalid_time_range" => StatusCode::BAD_REQUEST,
            "unauthorized" => StatusCode::UNAUTHORIZED,
            "permission_denied" => StatusCode::FORBIDDEN,
            "organizer_not_found" | "not_found" => StatusCode::NOT_FOUND,
            "settings_not_found" | "slot_unavailable" | "slot_being_booked"
            | "already_cancelled" | "username_taken" => StatusCode::CONFLICT,
            _ => return ApiError::internal(&error),
        };
        match &error {
            ServiceError::Validation(errors) => ApiError::validation(errors),
            ServiceError::InvalidSettings(settings) => settings_error(settings),
            ServiceError::WindowTooLong { max_days } => ApiError::field(
                "end",
                format!("the window from start to end may be at most {max_days} days long"),
            ),
            _ => ApiError::new(status, code, error.to_string()),
        }
    }
}

/// The JSON name of a duration setting and the unit it is given in.
fn duration_field(which: DurationSetting) -> (&'static str, &'static str) {
    match which {
        DurationSetting::SlotDuration => ("slotMinutes", "minutes"),
        DurationSetting::SlotStep => ("slotStepMinutes", "minutes"),
        DurationSetting::BufferBefore => ("bufferBeforeMinutes", "minutes"),
        DurationSetting::BufferAfter => ("bufferAfterMinutes", "minutes"),
        DurationSetting::MinNotice => ("minNoticeMinutes", "minutes"),
        DurationSetting::MaxAdvance => ("maxAdvanceDays", "days"),
        _ => ("settings", "minutes"),
    }
}

/// Settings refused by booking-core, reported against the JSON field.
pub fn settings_error(error: &SettingsError) -> ApiError {
    match error {
        SettingsError::UnknownTimeZone(_) => ApiError::field("timeZone", error.to_string()),
        SettingsError::DurationTooSmall(which) => {
            let (field, _) = duration_field(*which);
            let zero_ok = matches!(
                which,
                DurationSetting::BufferBefore
                    | DurationSetting::BufferAfter
                    | DurationSetting::MinNotice
            );
            let bound = if zero_ok {
                "zero or more"
            } else {
                "at least 1"
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
            code: self.code,
            fields: &self.fields,
        };
        let mut response = (self.status, Json(body)).into_response();
        response.extensions_mut().insert(ErrorCode(self.code));
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
