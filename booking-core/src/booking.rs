//! Bookings: the stored record, what a store inserts, and the typed request
//! an application sends on an attendee's behalf, with its validation.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::event_type::{LimitPeriod, Slug};
use crate::idempotency::IdempotencyKey;
pub use crate::ids::{BookingId, EventTypeId, HoldId, OrganizerId};
use crate::organizer::{OrganizerRef, validate_username};
use crate::secret::TokenHash;
use crate::time::TimeRange;
use crate::validation::{self, Field, ValidationErrors};

/// Longest attendee name accepted.
pub const MAX_NAME_LEN: usize = 200;
/// Longest title accepted.
pub const MAX_TITLE_LEN: usize = 200;
/// Longest description accepted.
pub const MAX_DESCRIPTION_LEN: usize = 5_000;
/// Largest metadata object accepted, in bytes of compact JSON.
pub const MAX_METADATA_BYTES: usize = 16 * 1024;

/// The person who books: their name and email address, kept verbatim.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Attendee {
    /// Name (1 to 200 characters).
    pub name: String,
    /// Email address.
    pub email: String,
}

impl Attendee {
    /// An attendee called `name` reachable at `email`.
    pub fn new(name: impl Into<String>, email: impl Into<String>) -> Self {
        Attendee {
            name: name.into(),
            email: email.into(),
        }
    }
}

/// A booking as stored, active or cancelled.
///
/// It keeps the buffers that were in force when it was made, so later
/// changes to the event type never make two existing bookings overlap, and
/// the slug of the event type it was booked under, as it was then.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Booking {
    /// Stable id (ULID).
    pub id: BookingId,
    /// Whose time is booked.
    pub organizer_id: OrganizerId,
    /// The event type booked; `None` once that event type was deleted.
    pub event_type_id: Option<EventTypeId>,
    /// The event type's slug when it was booked.
    pub event_type_slug: Slug,
    /// Who booked.
    pub attendee: Attendee,
    /// Free-form JSON object from the client (extra attendees, custom fields).
    pub metadata: Option<Map<String, Value>>,
    /// Meeting title.
    pub title: String,
    /// Optional meeting description.
    pub description: Option<String>,
    /// The meeting itself, `[start, end)`.
    pub time: TimeRange,
    /// Buffer kept free before the meeting.
    #[serde(with = "crate::time::serde_seconds")]
    pub buffer_before: Duration,
    /// Buffer kept free after the meeting.
    #[serde(with = "crate::time::serde_seconds")]
    pub buffer_after: Duration,
    /// SHA-256 of the attendee's cancel token.
    pub cancel_token_hash: TokenHash,
    /// When it was booked.
    pub created_at: DateTime<Utc>,
    /// When it last changed (creation or cancellation).
    pub updated_at: DateTime<Utc>,
    /// When it was cancelled; `None` while active.
    pub deleted_at: Option<DateTime<Utc>>,
    /// 0 when made, one more on every reschedule and on cancellation: the
    /// `SEQUENCE` calendar invitations need to replace older versions.
    pub sequence: u32,
    /// The meeting's time before its last reschedule; `None` if it never
    /// moved.
    pub rescheduled_from: Option<TimeRange>,
}

impl Booking {
    /// A fresh, active booking from what was inserted.
    pub fn from_new(new: NewBooking) -> Self {
        Booking {
            id: new.id,
            organizer_id: new.organizer_id,
            event_type_id: Some(new.event_type_id),
            event_type_slug: new.event_type_slug,
            attendee: new.attendee,
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
            sequence: 0,
            rescheduled_from: None,
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

/// A limit a store checks atomically with an insert: at most `max` active
/// bookings of the same event type may start within `starts_within`,
/// the new one included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitCheck {
    /// Which limit this is, to name it when it is reached.
    pub period: LimitPeriod,
    /// The UTC range of the local day or week.
    pub starts_within: TimeRange,
    /// The most bookings allowed to start in it.
    pub max: u32,
}

/// Everything a store needs to insert a booking. Made by the service once all
/// rules passed; what remains for the store is what only it can decide
/// atomically: the overlap check and the limit checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBooking {
    /// Id chosen by the service.
    pub id: BookingId,
    /// Whose time is booked.
    pub organizer_id: OrganizerId,
    /// The event type booked.
    pub event_type_id: EventTypeId,
    /// Its slug now.
    pub event_type_slug: Slug,
    /// Who books.
    pub attendee: Attendee,
    /// Free-form JSON object.
    pub metadata: Option<Map<String, Value>>,
    /// Meeting title.
    pub title: String,
    /// Optional description.
    pub description: Option<String>,
    /// The meeting.
    pub time: TimeRange,
    /// Buffer before, from the event type at booking time.
    pub buffer_before: Duration,
    /// Buffer after, from the event type at booking time.
    pub buffer_after: Duration,
    /// SHA-256 of the cancel token handed to the attendee.
    pub cancel_token_hash: TokenHash,
    /// Creation instant.
    pub created_at: DateTime<Utc>,
    /// Limits the store must check atomically with the insert (bookings of
    /// `event_type_id` only); empty when the event type has none.
    pub limits: Vec<LimitCheck>,
    /// The hold this booking replaces, atomically: the hold (unexpired at
    /// `created_at`) stops existing and does not block the booking.
    pub replaces_hold: Option<HoldId>,
    /// The idempotency record to complete in the same atomic step, so a
    /// retried request finds the booking.
    pub idempotency: Option<crate::idempotency::IdempotencyCompletion>,
    /// The `booking.created` event to write in the same atomic step.
    pub event: Option<crate::event::EventRecord>,
    /// The version of the organizer's configuration (schedules, event
    /// types) the booking was decided on. The store refuses the booking
    /// with [`StoreError::ConfigChanged`](crate::store::StoreError::ConfigChanged)
    /// when the configuration is no longer at this version, in the same
    /// atomic step as the insert, so a decision taken on a cached
    /// configuration can never outlive a change made by another process.
    /// `None` checks nothing.
    pub config_version: Option<u64>,
}

impl NewBooking {
    /// The interval the store must keep free of other active bookings.
    pub fn occupied(&self) -> TimeRange {
        self.time.widened(self.buffer_before, self.buffer_after)
    }
}

/// When the attendee wants to meet: an exact range, or a start and a length
/// (the event type's default length when `None`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BookingTime {
    /// Exactly this range; its length must be one the event type offers.
    Range(TimeRange),
    /// From `start`, for `duration` (or the event type's default length).
    Start {
        /// The meeting's start.
        start: DateTime<Utc>,
        /// The length chosen; `None` for the event type's default.
        duration: Option<Duration>,
    },
}

impl BookingTime {
    /// From `start` for `duration`.
    pub fn starting_at(start: DateTime<Utc>, duration: Duration) -> Self {
        BookingTime::Start {
            start,
            duration: Some(duration),
        }
    }

    /// The start asked for.
    pub fn start(&self) -> DateTime<Utc> {
        match self {
            BookingTime::Range(range) => range.start(),
            BookingTime::Start { start, .. } => *start,
        }
    }
}

impl From<TimeRange> for BookingTime {
    fn from(range: TimeRange) -> Self {
        BookingTime::Range(range)
    }
}

/// What an application asks to book on an attendee's behalf. Build it with
/// [`BookingRequest::new`] and the optional parts' setters:
///
/// ```
/// use booking_core::{Attendee, BookingRequest, TimeRange};
/// use chrono::{Duration, TimeZone, Utc};
///
/// let nine = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap();
/// let request = BookingRequest::new(
///     "ada",
///     TimeRange::starting_at(nine, Duration::minutes(30))?,
///     Attendee::new("Grace Hopper", "grace@example.com"),
/// )
/// .event_type("intro")
/// .title("Compilers");
/// assert!(request.validate().is_ok());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingRequest {
    /// Whose time to book.
    pub organizer: OrganizerRef,
    /// The event type's slug; `None` books the default event type
    /// ([`DEFAULT_SLUG`](crate::event_type::DEFAULT_SLUG)).
    pub event_type: Option<String>,
    /// When.
    pub time: BookingTime,
    /// Who books.
    pub attendee: Attendee,
    /// Meeting title; `None` uses the event type's title.
    pub title: Option<String>,
    /// Optional description.
    pub description: Option<String>,
    /// Optional JSON object of extra data (at most 16 KiB).
    pub metadata: Option<Map<String, Value>>,
    /// The token of the hold the attendee took on this slot, if any: the
    /// hold becomes the booking.
    pub hold_token: Option<String>,
    /// Makes the request safe to retry: the same key with the same request
    /// returns the first outcome again instead of booking twice.
    pub idempotency_key: Option<IdempotencyKey>,
}

impl BookingRequest {
    /// A request to book `time` with `organizer` for `attendee`, of the
    /// default event type, titled as the event type.
    pub fn new(
        organizer: impl Into<OrganizerRef>,
        time: impl Into<BookingTime>,
        attendee: Attendee,
    ) -> Self {
        BookingRequest {
            organizer: organizer.into(),
            event_type: None,
            time: time.into(),
            attendee,
            title: None,
            description: None,
            metadata: None,
            hold_token: None,
            idempotency_key: None,
        }
    }

    /// Books the slot held with this token (from
    /// [`BookingService::hold_slot`](crate::BookingService::hold_slot)).
    pub fn hold_token(mut self, token: impl Into<String>) -> Self {
        self.hold_token = Some(token.into());
        self
    }

    /// Makes the request idempotent under `key`.
    pub fn idempotency_key(mut self, key: IdempotencyKey) -> Self {
        self.idempotency_key = Some(key);
        self
    }

    /// Books the event type with this slug.
    pub fn event_type(mut self, slug: impl Into<String>) -> Self {
        self.event_type = Some(slug.into());
        self
    }

    /// Sets the meeting's title.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// Sets the meeting's description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Attaches a JSON object of extra data.
    pub fn metadata(mut self, metadata: Map<String, Value>) -> Self {
        self.metadata = Some(metadata);
        self
    }

    /// Checks every field, with length limits; all problems are reported
    /// together, each naming its [`Field`]. Text is kept verbatim.
    ///
    /// ```
    /// use booking_core::{Attendee, BookingRequest, Field, TimeRange};
    /// use chrono::{Duration, Utc};
    ///
    /// let slot = TimeRange::starting_at(Utc::now(), Duration::minutes(30))?;
    /// let request = BookingRequest::new("ada", slot, Attendee::new("Grace", "not-an-email"));
    /// let errors = request.validate().unwrap_err();
    /// assert!(errors.message_for(&Field::AttendeeEmail).is_some());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        if let OrganizerRef::Username(username) = &self.organizer {
            errors.check(Field::Organizer, validate_username(username));
        }
        if let Some(slug) = &self.event_type {
            errors.check(Field::EventType, slug.parse::<Slug>());
        }
        errors.check(
            Field::AttendeeName,
            validation::required_text(&self.attendee.name, 1, MAX_NAME_LEN, "Attendee name"),
        );
        errors.check(
            Field::AttendeeEmail,
            validation::email(&self.attendee.email),
        );
        if let Some(title) = &self.title {
            errors.check(
                Field::Title,
                validation::required_text(title, 1, MAX_TITLE_LEN, "Meeting title"),
            );
        }
        errors.check(
            Field::Description,
            validation::optional_text(
                self.description.as_deref(),
                MAX_DESCRIPTION_LEN,
                "Description",
            ),
        );
        if let Some(metadata) = &self.metadata {
            errors.check(Field::Metadata, check_metadata(metadata));
        }
        if let BookingTime::Start {
            duration: Some(duration),
            ..
        } = self.time
            && duration <= Duration::zero()
        {
            errors.add(Field::Duration, "The length must be positive");
        }
        errors.into_result(())
    }
}

fn check_metadata(map: &Map<String, Value>) -> Result<(), String> {
    let object = Value::Object(map.clone());
    if validation::json_contains_nul(&object) {
        return Err("metadata must not contain NUL characters".to_owned());
    }
    let size = serde_json::to_vec(&object)
        .map(|v| v.len())
        .unwrap_or(usize::MAX);
    if size > MAX_METADATA_BYTES {
        Err(format!(
            "metadata must be at most {MAX_METADATA_BYTES} bytes of JSON"
        ))
    } else {
        Ok(())
    }
}

/// Parses an RFC 3339 instant (any offset) into UTC; for front ends that
/// receive instants as text.
pub fn parse_instant(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| format!("{text:?} is not an RFC 3339 date-time such as 2026-12-01T09:00:00Z"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone as _;

    fn slot() -> TimeRange {
        let nine = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap();
        TimeRange::starting_at(nine, Duration::minutes(30)).unwrap()
    }

    #[test]
    fn a_good_request_validates_and_keeps_text_verbatim() {
        let request = BookingRequest::new(
            "ada",
            slot(),
            Attendee::new("Grace Hopper", "grace@example.com"),
        )
        .description("<b>hi</b>'; DROP TABLE bookings; --")
        .metadata(
            serde_json::json!({"guests": ["a@example.com"]})
                .as_object()
                .unwrap()
                .clone(),
        );
        request.validate().unwrap();
        assert_eq!(
            request.description.as_deref(),
            Some("<b>hi</b>'; DROP TABLE bookings; --")
        );
    }

    #[test]
    fn every_bad_field_is_named() {
        let bad = BookingRequest {
            organizer: "ab".into(),
            event_type: Some("Not A Slug".into()),
            time: BookingTime::Start {
                start: slot().start(),
                duration: Some(Duration::zero()),
            },
            attendee: Attendee::new("", "x"),
            title: Some("x".repeat(MAX_TITLE_LEN + 1)),
            description: Some("d".repeat(MAX_DESCRIPTION_LEN + 1)),
            hold_token: None,
            idempotency_key: None,
            metadata: Some(
                serde_json::json!({"blob": "x".repeat(MAX_METADATA_BYTES)})
                    .as_object()
                    .unwrap()
                    .clone(),
            ),
        };
        let errors = bad.validate().unwrap_err();
        let fields: Vec<Field> = errors.errors().iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            [
                Field::Organizer,
                Field::EventType,
                Field::AttendeeName,
                Field::AttendeeEmail,
                Field::Title,
                Field::Description,
                Field::Metadata,
                Field::Duration,
            ]
        );
    }

    #[test]
    fn instants_parse_in_any_offset() {
        assert_eq!(
            parse_instant("2026-12-01T10:00:00+01:00").unwrap(),
            Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap()
        );
        assert!(parse_instant("2026-12-01 09:00").is_err());
    }
}
