//! Bookings: the stored record, what a store inserts, and the request an
//! attendee sends (the seed's `createBookingSchema`), with its validation.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use crate::ids::{BookingId, OrganizerId};
use crate::organizer::validate_username;
use crate::secret::TokenHash;
use crate::time::{InvalidTimeRange, TimeRange};
use crate::validation::{self, ValidationErrors};

/// Longest attendee name accepted.
pub const MAX_NAME_LEN: usize = 200;
/// Longest title accepted.
pub const MAX_TITLE_LEN: usize = 200;
/// Longest description accepted.
pub const MAX_DESCRIPTION_LEN: usize = 5_000;
/// Largest metadata object accepted, in bytes of compact JSON.
pub const MAX_METADATA_BYTES: usize = 16 * 1024;

/// A booking as stored: the seed's `bookings` row, plus the buffers that were
/// in force when it was made (so later settings changes never make two
/// existing bookings overlap) and the hash of the attendee's cancel token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Booking {
    /// Stable id (ULID).
    pub id: BookingId,
    /// Whose time is booked.
    pub organizer_id: OrganizerId,
    /// The attendee's name.
    pub attendant_name: String,
    /// The attendee's email address.
    pub attendant_email: String,
    /// Free-form JSON object from the client (extra attendees, custom fields).
    pub metadata: Option<Map<String, Value>>,
    /// Meeting title.
    pub title: String,
    /// Optional meeting description.
    pub description: Option<String>,
    /// The meeting itself, `[start_time, end_time)`.
    pub time: TimeRange,
    /// Buffer kept free before the meeting.
    #[serde(with = "crate::organizer::seconds")]
    pub buffer_before: Duration,
    /// Buffer kept free after the meeting.
    #[serde(with = "crate::organizer::seconds")]
    pub buffer_after: Duration,
    /// SHA-256 of the attendee's cancel token.
    pub cancel_token_hash: TokenHash,
    /// When it was booked.
    pub created_at: DateTime<Utc>,
    /// When it last changed (creation or cancellation).
    pub updated_at: DateTime<Utc>,
    /// When it was cancelled; `None` while active.
    pub deleted_at: Option<DateTime<Utc>>,
}

impl Booking {
    /// A fresh, active booking from what was inserted.
    pub fn from_new(new: NewBooking) -> Self {
        Booking {
            id: new.id,
            organizer_id: new.organizer_id,
            attendant_name: new.attendant_name,
            attendant_email: new.attendant_email,
            metadata: new.metadata,
            title: new.title,
            description: new.description,
            time: new.time,
            buffer_before: new.buffer_before,
            buffer_after: new.buffer_after,
            cancel_token_hash: new.cancel_token_hash,
            created_at: new.created_at,
            updated_at: new.created_at,
            deleted_at: None,
        }
    }

    /// Meeting start.
    pub fn start_time(&self) -> DateTime<Utc> {
        self.time.start()
    }

    /// Meeting end.
    pub fn end_time(&self) -> DateTime<Utc> {
        self.time.end()
    }

    /// The time this booking keeps the organizer busy: the meeting widened by
    /// its buffers. No two active bookings of one organizer may have
    /// overlapping occupied intervals.
    pub fn occupied(&self) -> TimeRange {
        self.time.widened(self.buffer_before, self.buffer_after)
    }

    /// Whether it has not been cancelled.
    pub fn is_active(&self) -> bool {
        self.deleted_at.is_none()
    }
}

/// Everything a store needs to insert a booking. Made by the service once all
/// rules passed; the store's only remaining job is the atomic overlap check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBooking {
    /// Id chosen by the service.
    pub id: BookingId,
    /// Whose time is booked.
    pub organizer_id: OrganizerId,
    /// The attendee's name.
    pub attendant_name: String,
    /// The attendee's email address.
    pub attendant_email: String,
    /// Free-form JSON object.
    pub metadata: Option<Map<String, Value>>,
    /// Meeting title.
    pub title: String,
    /// Optional description.
    pub description: Option<String>,
    /// The meeting.
    pub time: TimeRange,
    /// Buffer before, from the organizer's settings at booking time.
    pub buffer_before: Duration,
    /// Buffer after, from the organizer's settings at booking time.
    pub buffer_after: Duration,
    /// SHA-256 of the cancel token handed to the attendee.
    pub cancel_token_hash: TokenHash,
    /// Creation instant.
    pub created_at: DateTime<Utc>,
}

impl NewBooking {
    /// The interval the store must keep free of other active bookings.
    pub fn occupied(&self) -> TimeRange {
        self.time.widened(self.buffer_before, self.buffer_after)
    }
}

/// An attendee's booking request, field for field the seed's
/// `createBookingSchema` (JSON names in camelCase). Instants are text here so
/// that a malformed one is reported against its field; [`validate`] parses
/// them.
///
/// [`validate`]: BookingRequest::validate
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BookingRequest {
    /// The organizer's username (at least 3 characters).
    pub organizer_username: String,
    /// The attendee's name (required).
    pub attendant_name: String,
    /// The attendee's email address.
    pub attendant_email: String,
    /// Meeting title (required).
    pub title: String,
    /// Optional description.
    #[serde(default)]
    pub description: Option<String>,
    /// Start, RFC 3339 (e.g. `2026-12-01T09:00:00Z`).
    pub start_time: String,
    /// End, RFC 3339.
    pub end_time: String,
    /// Optional JSON object of extra data.
    #[serde(default)]
    pub metadata: Option<Value>,
}

/// A request that passed validation, with its instants parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidBookingRequest {
    /// The organizer's username.
    pub organizer_username: String,
    /// The attendee's name, verbatim.
    pub attendant_name: String,
    /// The attendee's email address, verbatim.
    pub attendant_email: String,
    /// Title, verbatim.
    pub title: String,
    /// Description, verbatim.
    pub description: Option<String>,
    /// The requested meeting.
    pub time: TimeRange,
    /// Extra data.
    pub metadata: Option<Map<String, Value>>,
}

/// Why a [`BookingRequest`] was refused before any lookup.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// One or more fields are malformed; each is named.
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
    /// Both instants parse but the end is not after the start.
    #[error(transparent)]
    TimeRange(#[from] InvalidTimeRange),
}

impl BookingRequest {
    /// Checks every field like the seed's schema, plus length limits, and
    /// parses the instants. All malformed fields are reported together, each
    /// under its JSON name; an end not after the start is reported apart, as
    /// [`RequestError::TimeRange`].
    ///
    /// ```
    /// use booking_core::booking::{BookingRequest, RequestError};
    ///
    /// let request = BookingRequest {
    ///     organizer_username: "ada".into(),
    ///     attendant_name: "Grace".into(),
    ///     attendant_email: "not-an-email".into(),
    ///     title: "Intro".into(),
    ///     description: None,
    ///     start_time: "2026-12-01T09:00:00Z".into(),
    ///     end_time: "yesterday".into(),
    ///     metadata: None,
    /// };
    /// let Err(RequestError::Invalid(errors)) = request.validate() else { panic!() };
    /// assert!(errors.message_for("attendantEmail").is_some());
    /// assert!(errors.message_for("endTime").is_some());
    /// ```
    pub fn validate(&self) -> Result<ValidBookingRequest, RequestError> {
        let mut errors = ValidationErrors::new();
        errors.check(
            "organizerUsername",
            validate_username(&self.organizer_username),
        );
        errors.check(
            "attendantName",
            validation::required_text(&self.attendant_name, 1, MAX_NAME_LEN, "Attendant name"),
        );
        errors.check("attendantEmail", validation::email(&self.attendant_email));
        errors.check(
            "title",
            validation::required_text(&self.title, 1, MAX_TITLE_LEN, "Meeting title"),
        );
        errors.check(
            "description",
            validation::optional_text(
                self.description.as_deref(),
                MAX_DESCRIPTION_LEN,
                "Description",
            ),
        );
        let start = errors.check("startTime", parse_instant(&self.start_time));
        let end = errors.check("endTime", parse_instant(&self.end_time));
        let metadata = errors.check("metadata", parse_metadata(self.metadata.as_ref()));
        let (Some(start), Some(end), Some(metadata)) = (start, end, metadata) else {
            return Err(RequestError::Invalid(errors));
        };
        if !errors.is_empty() {
            return Err(RequestError::Invalid(errors));
        }
        Ok(ValidBookingRequest {
            organizer_username: self.organizer_username.clone(),
            attendant_name: self.attendant_name.clone(),
            attendant_email: self.attendant_email.clone(),
            title: self.title.clone(),
            description: self.description.clone(),
            time: TimeRange::new(start, end)?,
            metadata,
        })
    }
}

/// Parses an RFC 3339 instant (any offset) into UTC.
pub fn parse_instant(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| format!("{text:?} is not an RFC 3339 date-time such as 2026-12-01T09:00:00Z"))
}

fn parse_metadata(value: Option<&Value>) -> Result<Option<Map<String, Value>>, String> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(map)) if validation::json_contains_nul(&Value::Object(map.clone())) => {
            Err("metadata must not contain NUL characters".to_owned())
        }
        Some(Value::Object(map)) => {
            let size = serde_json::to_vec(map)
                .map(|v| v.len())
                .unwrap_or(usize::MAX);
            if size > MAX_METADATA_BYTES {
                Err(format!(
                    "metadata must be at most {MAX_METADATA_BYTES} bytes of JSON"
                ))
            } else {
                Ok(Some(map.clone()))
            }
        }
        Some(_) => Err("metadata must be a JSON object".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> BookingRequest {
        BookingRequest {
            organizer_username: "ada".into(),
            attendant_name: "Grace Hopper".into(),
            attendant_email: "grace@example.com".into(),
            title: "Intro".into(),
            description: Some("<b>hi</b>'; DROP TABLE bookings; --".into()),
            start_time: "2026-12-01T10:00:00+01:00".into(),
            end_time: "2026-12-01T09:30:00Z".into(),
            metadata: Some(serde_json::json!({"guests": ["a@example.com"]})),
        }
    }

    #[test]
    fn a_good_request_parses_and_keeps_text_verbatim() {
        let valid = request().validate().unwrap();
        assert_eq!(valid.time.start().to_rfc3339(), "2026-12-01T09:00:00+00:00");
        assert_eq!(
            valid.description.as_deref(),
            Some("<b>hi</b>'; DROP TABLE bookings; --")
        );
    }

    #[test]
    fn every_bad_field_is_named() {
        let bad = BookingRequest {
            organizer_username: "ab".into(),
            attendant_name: "".into(),
            attendant_email: "x".into(),
            title: "x".repeat(MAX_TITLE_LEN + 1),
            description: Some("d".repeat(MAX_DESCRIPTION_LEN + 1)),
            start_time: "2026-12-01 09:00".into(),
            end_time: "".into(),
            metadata: Some(serde_json::json!([1, 2])),
        };
        let Err(RequestError::Invalid(errors)) = bad.validate() else {
            panic!("expected field errors")
        };
        let fields: Vec<&str> = errors.errors().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "organizerUsername",
                "attendantName",
                "attendantEmail",
                "title",
                "description",
                "startTime",
                "endTime",
                "metadata"
            ]
        );
    }

    #[test]
    fn end_before_start_is_a_time_range_error() {
        let mut r = request();
        r.end_time = "2026-12-01T08:00:00Z".into();
        assert!(matches!(r.validate(), Err(RequestError::TimeRange(_))));
        r.end_time = r.start_time.clone();
        assert!(matches!(r.validate(), Err(RequestError::TimeRange(_))));
    }

    #[test]
    fn huge_metadata_is_refused() {
        let mut r = request();
        r.metadata = Some(serde_json::json!({"blob": "x".repeat(MAX_METADATA_BYTES)}));
        let Err(RequestError::Invalid(errors)) = r.validate() else {
            panic!()
        };
        assert!(errors.message_for("metadata").is_some());
    }
}
