//! Bookings: the create and cancel bodies, and how a booking is shown.

use booking_core::booking::{BookingTime, parse_instant};
use booking_core::time::TimeRange;
use booking_core::{Attendee, Booking, BookingRequest};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{instant, minutes};
use crate::http::error::ApiError;
use crate::http::extract::RequestBody;
use crate::http::fields::{FieldErrors, Surface, renamed};

/// `POST /api/bookings` body: the design document's `createBookingSchema`,
/// plus the event type and the chosen length. Fields are optional here only
/// so that every missing one is reported at once.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"organizerUsername": "ada", "attendantName": "Grace Hopper", "attendantEmail": "grace@example.com", "startTime": "2026-12-01T09:00:00Z", "durationMinutes": 30}))]
pub struct CreateBookingBody {
    /// The organizer's username.
    pub organizer_username: Option<String>,
    /// The attendee's name.
    pub attendant_name: Option<String>,
    /// The attendee's email.
    pub attendant_email: Option<String>,
    /// Meeting title; the event type's title when absent.
    pub title: Option<String>,
    /// Optional description.
    pub description: Option<String>,
    /// RFC 3339 start.
    pub start_time: Option<String>,
    /// RFC 3339 end; may be left out when `durationMinutes` is given.
    pub end_time: Option<String>,
    /// The length chosen, in minutes (one the event type offers).
    pub duration_minutes: Option<i64>,
    /// The event type's slug; the default event type when absent.
    pub event_type: Option<String>,
    /// Optional JSON object.
    pub metadata: Option<Value>,
    /// The token of a hold on this very slot
    /// (`POST /api/organizers/{username}/holds`): the hold becomes the
    /// booking.
    pub hold_token: Option<String>,
}

impl RequestBody for CreateBookingBody {}

/// The instant in `text`, or an error against `field`.
fn read_instant(
    field: &str,
    text: Option<&str>,
    errors: &mut FieldErrors,
) -> Option<DateTime<Utc>> {
    text.and_then(|text| errors.check(field, parse_instant(text)))
}

impl CreateBookingBody {
    /// The request for the service, or 400 naming every missing field
    /// together with every malformed one (an end before the start is 400
    /// `invalid_time_range`).
    pub fn into_request(self) -> Result<BookingRequest, ApiError> {
        let mut errors = FieldErrors::new();
        let required = [
            ("organizerUsername", self.organizer_username.is_none()),
            ("attendantName", self.attendant_name.is_none()),
            ("attendantEmail", self.attendant_email.is_none()),
            ("startTime", self.start_time.is_none()),
            (
                "endTime",
                self.end_time.is_none() && self.duration_minutes.is_none(),
            ),
        ];
        for (field, absent) in required {
            if absent {
                errors.add(field, format!("{field} is required"));
            }
        }
        let start = read_instant("startTime", self.start_time.as_deref(), &mut errors);
        let end = read_instant("endTime", self.end_time.as_deref(), &mut errors);
        let duration = self.duration_minutes.map(minutes);
        let metadata = match self.metadata {
            None | Some(Value::Null) => None,
            Some(Value::Object(map)) => Some(map),
            Some(_) => {
                errors.add("metadata", "metadata must be a JSON object");
                None
            }
        };
        let time = match (start, end, duration) {
            (Some(start), Some(end), _) => {
                let range = TimeRange::new(start, end);
                if let (Ok(range), Some(duration)) = (&range, duration)
                    && range.duration() != duration
                {
                    errors.add(
                        "durationMinutes",
                        "durationMinutes does not match the time from startTime to endTime",
                    );
                }
                Some(range.map(BookingTime::from))
            }
            (Some(start), None, Some(duration)) => Some(Ok(BookingTime::Start {
                start,
                duration: Some(duration),
            })),
            _ => None,
        };
        // Every field booking-core checks, checked together with the above;
        // a time that could not be read stands in as an hour from now.
        let placeholder = TimeRange::starting_at(Utc::now(), chrono::Duration::hours(1))
            .map(BookingTime::from)
            .map_err(|error| ApiError::internal(&error))?;
        let chosen = match &time {
            Some(Ok(time)) => *time,
            _ => placeholder,
        };
        let mut request = BookingRequest::new(
            self.organizer_username.unwrap_or_default(),
            chosen,
            Attendee::new(
                self.attendant_name.unwrap_or_default(),
                self.attendant_email.unwrap_or_default(),
            ),
        );
        request.title = self.title;
        request.description = self.description;
        request.metadata = metadata;
        request.event_type = self.event_type;
        match self.hold_token {
            Some(token) if !valid_hold_token(&token) => {
                errors.add("holdToken", HOLD_TOKEN_RULE);
            }
            token => request.hold_token = token,
        }
        if let Err(found) = request.validate() {
            for error in renamed(found, Surface::Body).errors() {
                let already = errors.message_for(error.field.as_str()).is_some();
                if !already {
                    errors.add(error.field.clone(), error.message.clone());
                }
            }
        }
        if !errors.is_empty() {
            return Err(ApiError::validation(&errors));
        }
        match time {
            Some(Ok(time)) => {
                request.time = time;
                Ok(request)
            }
            Some(Err(error)) => Err(ApiError::from(
                booking_core::ServiceError::InvalidTimeRange(error),
            )),
            None => Err(ApiError::field("startTime", "startTime is required")),
        }
    }
}

/// What a hold token must look like to be looked up at all.
pub(crate) const HOLD_TOKEN_RULE: &str =
    "holdToken must be the token of a hold: 1 to 200 visible ASCII characters";

/// Whether `token` can be a hold token (the service's own are 64 hex
/// digits); anything else is refused before any lookup.
pub(crate) fn valid_hold_token(token: &str) -> bool {
    (1..=200).contains(&token.len()) && token.bytes().all(|b| b.is_ascii_graphic())
}

/// A time range as the API shows it: `{startTime, endTime}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RangeDto {
    /// The start.
    #[schema(format = DateTime)]
    start_time: String,
    /// The end (exclusive).
    #[schema(format = DateTime)]
    end_time: String,
}

impl From<TimeRange> for RangeDto {
    fn from(range: TimeRange) -> Self {
        RangeDto {
            start_time: instant(range.start()),
            end_time: instant(range.end()),
        }
    }
}

/// A booking as the API shows it (never the cancel token's hash).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BookingDto {
    id: String,
    organizer_id: String,
    event_type: String,
    attendant_name: String,
    attendant_email: String,
    title: String,
    description: Option<String>,
    #[schema(value_type = Option<Object>)]
    metadata: Option<serde_json::Map<String, Value>>,
    #[schema(format = DateTime)]
    start_time: String,
    #[schema(format = DateTime)]
    end_time: String,
    duration_minutes: i64,
    sequence: u32,
    /// The time before the last reschedule; absent until it is moved.
    #[serde(skip_serializing_if = "Option::is_none")]
    rescheduled_from: Option<RangeDto>,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime)]
    updated_at: String,
}

impl From<&Booking> for BookingDto {
    fn from(booking: &Booking) -> Self {
        BookingDto {
            id: booking.id.to_string(),
            organizer_id: booking.organizer_id.to_string(),
            event_type: booking.event_type_slug.to_string(),
            attendant_name: booking.attendee.name.clone(),
            attendant_email: booking.attendee.email.clone(),
            title: booking.title.clone(),
            description: booking.description.clone(),
            metadata: booking.metadata.clone(),
            start_time: instant(booking.start_time()),
            end_time: instant(booking.end_time()),
            duration_minutes: booking.time.duration().num_minutes(),
            sequence: booking.sequence,
            rescheduled_from: booking.rescheduled_from.map(RangeDto::from),
            created_at: instant(booking.created_at),
            updated_at: instant(booking.updated_at),
        }
    }
}

/// `POST /api/bookings/{id}/cancel` body (optional with a bearer token).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CancelBody {
    /// The attendee's cancel token.
    pub cancel_token: Option<String>,
}

impl RequestBody for CancelBody {}

/// `POST /api/bookings/{id}/reschedule` body: the new time, and the
/// attendee's cancel token when no organizer bearer token is sent.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"startTime": "2026-12-02T09:00:00Z"}))]
pub struct RescheduleBody {
    /// RFC 3339 new start.
    pub start_time: Option<String>,
    /// RFC 3339 new end; may be left out when `durationMinutes` is given,
    /// or to keep the booking's length.
    pub end_time: Option<String>,
    /// The new length in minutes (one the event type offers); the
    /// booking's own length when neither this nor `endTime` is given.
    pub duration_minutes: Option<i64>,
    /// The attendee's cancel token.
    pub cancel_token: Option<String>,
}

impl RequestBody for RescheduleBody {}

impl RescheduleBody {
    /// The new time, or 400 naming the field.
    pub fn time(&self) -> Result<BookingTime, ApiError> {
        requested_time(
            self.start_time.as_deref(),
            self.end_time.as_deref(),
            self.duration_minutes,
            true,
        )
    }
}

/// The time a body asks for: `startTime` with `endTime` or
/// `durationMinutes` (both only when they agree), or `startTime` alone when
/// `start_alone` allows it. Every problem is 400 naming its field; an end
/// not after its start is 400 `invalid_time_range` naming `endTime`.
pub fn requested_time(
    start: Option<&str>,
    end: Option<&str>,
    duration_minutes: Option<i64>,
    start_alone: bool,
) -> Result<BookingTime, ApiError> {
    let mut errors = FieldErrors::new();
    if start.is_none() {
        errors.add("startTime", "startTime is required");
    }
    if end.is_none() && duration_minutes.is_none() && !start_alone {
        errors.add("endTime", "endTime is required");
    }
    let start = read_instant("startTime", start, &mut errors);
    let end = read_instant("endTime", end, &mut errors);
    let duration = match duration_minutes {
        Some(value) if value < 1 => {
            errors.add(
                "durationMinutes",
                "durationMinutes must be a whole number of minutes, 1 or more",
            );
            None
        }
        value => value.map(minutes),
    };
    if !errors.is_empty() {
        return Err(ApiError::validation(&errors));
    }
    let Some(start) = start else {
        return Err(ApiError::field("startTime", "startTime is required"));
    };
    match (end, duration) {
        (Some(end), duration) => {
            let range = TimeRange::new(start, end).map_err(|error| {
                let mut refused =
                    ApiError::from(booking_core::ServiceError::InvalidTimeRange(error));
                refused.fields.insert(
                    "endTime".to_owned(),
                    "endTime must be after startTime".to_owned(),
                );
                refused
            })?;
            if duration.is_some_and(|duration| duration != range.duration()) {
                return Err(ApiError::field(
                    "durationMinutes",
                    "durationMinutes does not match the time from startTime to endTime",
                ));
            }
            Ok(BookingTime::Range(range))
        }
        (None, duration) => Ok(BookingTime::Start { start, duration }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(json: Value) -> Result<BookingRequest, ApiError> {
        serde_json::from_value::<CreateBookingBody>(json)
            .unwrap()
            .into_request()
    }

    #[test]
    fn missing_booking_fields_are_reported_with_malformed_ones() {
        let error = request(serde_json::json!({
            "organizerUsername": "ada", "attendantEmail": "nope", "title": "Intro",
            "startTime": "2026-12-01T09:00:00Z"
        }))
        .unwrap_err();
        let fields: Vec<&str> = error.fields.keys().map(String::as_str).collect();
        assert_eq!(fields, ["attendantEmail", "attendantName", "endTime"]);
        assert_eq!(error.fields["endTime"], "endTime is required");
    }

    #[test]
    fn a_length_may_stand_for_the_end() {
        let booked = request(serde_json::json!({
            "organizerUsername": "ada", "attendantName": "Grace", "attendantEmail": "g@example.com",
            "startTime": "2026-12-01T09:00:00Z", "durationMinutes": 45, "eventType": "intro"
        }))
        .unwrap();
        assert_eq!(booked.event_type.as_deref(), Some("intro"));
        assert!(
            matches!(booked.time, BookingTime::Start { duration: Some(d), .. } if d == chrono::Duration::minutes(45))
        );
        assert_eq!(booked.title, None, "the event type's title");
        let mismatch = request(serde_json::json!({
            "organizerUsername": "ada", "attendantName": "Grace", "attendantEmail": "g@example.com",
            "startTime": "2026-12-01T09:00:00Z", "endTime": "2026-12-01T10:00:00Z", "durationMinutes": 45
        }))
        .unwrap_err();
        assert!(
            mismatch.fields.contains_key("durationMinutes"),
            "{mismatch:?}"
        );
        let backwards = request(serde_json::json!({
            "organizerUsername": "ada", "attendantName": "Grace", "attendantEmail": "g@example.com",
            "startTime": "2026-12-01T09:00:00Z", "endTime": "2026-12-01T08:00:00Z"
        }))
        .unwrap_err();
        assert_eq!(backwards.code, "invalid_time_range");
    }
}
