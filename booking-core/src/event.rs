//! Booking events: what happened to a booking (`booking.created`,
//! `booking.rescheduled`, `booking.cancelled`), written by the store **in the
//! same atomic step** as the change itself (a transactional outbox). So an
//! event exists exactly when its change committed: never for a change that
//! rolled back, and never lost when the process dies right after the commit.
//!
//! Events are numbered by the store in commit order (a sequence that only
//! grows). Applications read them with [`BookingEvents`](crate::BookingEvents)
//! (or [`BookingService::events_after`](crate::BookingService::events_after))
//! without any HTTP; the example service turns them into webhooks and
//! emails through the durable [job queue](crate::queue).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::booking::Booking;
pub use crate::ids::{BookingId, EventId, OrganizerId};
use crate::time::TimeRange;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum BookingEventKind {
    /// `booking.created`.
    #[serde(rename = "booking.created")]
    Created,
    /// `booking.rescheduled`.
    #[serde(rename = "booking.rescheduled")]
    Rescheduled,
    /// `booking.cancelled`.
    #[serde(rename = "booking.cancelled")]
    Cancelled,
}

impl BookingEventKind {
    /// Every kind.
    pub const ALL: [BookingEventKind; 3] = [
        BookingEventKind::Created,
        BookingEventKind::Rescheduled,
        BookingEventKind::Cancelled,
    ];

    /// The kind's name, e.g. `booking.created`.
    pub fn name(self) -> &'static str {
        match self {
            BookingEventKind::Created => "booking.created",
            BookingEventKind::Rescheduled => "booking.rescheduled",
            BookingEventKind::Cancelled => "booking.cancelled",
        }
    }
}

impl fmt::Display for BookingEventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is not an event kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an event: use booking.created, booking.rescheduled or booking.cancelled")]
pub struct UnknownEventKind(pub String);

impl FromStr for BookingEventKind {
    type Err = UnknownEventKind;
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        BookingEventKind::ALL
            .into_iter()
            .find(|kind| kind.name() == name)
            .ok_or_else(|| UnknownEventKind(name.to_owned()))
    }
}

/// Who cancelled a booking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Canceller {
    /// The organizer (authenticated).
    Organizer,
    /// The attendee (with the cancel token).
    Attendee,
}

/// One event, as applications read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingEvent {
    /// Its place in commit order (assigned by the store; 0 before).
    pub seq: u64,
    /// Stable id (the webhook `webhook-id`).
    pub id: EventId,
    /// What happened.
    pub kind: BookingEventKind,
    /// When.
    pub occurred_at: DateTime<Utc>,
    /// The booking as the change left it (never its cancel token: only the
    /// token's hash is in it).
    pub booking: Booking,
    /// For a reschedule, the time it moved from.
    pub previous_time: Option<TimeRange>,
    /// For a cancellation, who cancelled.
    pub cancelled_by: Option<Canceller>,
}

impl BookingEvent {
    /// The event as a store writes it.
    pub fn to_record(&self) -> EventRecord {
        EventRecord {
            id: self.id,
            organizer_id: self.booking.organizer_id,
            booking_id: self.booking.id,
            kind: self.kind,
            occurred_at: self.occurred_at,
            // Serializing plain data cannot fail.
            payload: serde_json::to_string(self).unwrap_or_default(),
        }
    }

    /// The event read back from a store's record and sequence number.
    pub fn from_stored(stored: &StoredEvent) -> Option<BookingEvent> {
        let mut event: BookingEvent = serde_json::from_str(&stored.record.payload).ok()?;
        event.seq = stored.seq;
        Some(event)
    }
}

/// An event as a store writes it with a booking change: indexed columns and
/// the payload (the [`BookingEvent`] as JSON, opaque to the store).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRecord {
    /// The event's id.
    pub id: EventId,
    /// The booking's organizer.
    pub organizer_id: OrganizerId,
    /// The booking.
    pub booking_id: BookingId,
    /// What happened.
    pub kind: BookingEventKind,
    /// When.
    pub occurred_at: DateTime<Utc>,
    /// The event as JSON text.
    pub payload: String,
}

/// An event as a store reads it back: its sequence number and record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    /// Its place in commit order, from 1.
    pub seq: u64,
    /// What was written.
    pub record: EventRecord,
}
