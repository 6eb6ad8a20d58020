//! [`Delivery`]: one event's delivery to one endpoint, as its organizer
//! sees it (read from the job queue).

use booking_core::chrono::{DateTime, Utc};
use booking_core::event::EventId;
use booking_core::queue::{Job, JobStatus};
use booking_core::{BookingEventKind, BookingId};
use serde::Serialize;

use crate::payload::body_kind;

/// One event's delivery to one endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    /// The event's id: the `webhook-id` header, the same on every attempt.
    pub event_id: EventId,
    /// The event's kind.
    pub event_type: Option<BookingEventKind>,
    /// The booking.
    pub booking_id: BookingId,
    /// `pending` (waiting for an attempt), `done` or `dead` (given up).
    pub status: JobStatus,
    /// Attempts so far.
    pub attempts: u32,
    /// The receiver's status code at the last attempt, if it answered.
    pub last_response_code: Option<u16>,
    /// What went wrong at the last attempt, if it failed.
    pub last_error: Option<String>,
    /// When the next attempt is due, while pending.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// When the event was queued for this endpoint.
    pub created_at: DateTime<Utc>,
    /// When the delivery last changed (its last attempt, for a finished one).
    pub updated_at: DateTime<Utc>,
}

impl Delivery {
    pub(crate) fn from_job(job: &Job) -> Self {
        Delivery {
            event_id: job.event_id,
            event_type: body_kind(&job.payload),
            booking_id: job.booking_id,
            status: job.status,
            attempts: job.attempts,
            last_response_code: job.last_status,
            last_error: job.last_error.clone(),
            next_attempt_at: (job.status == JobStatus::Pending).then_some(job.run_at),
            created_at: job.created_at,
            updated_at: job.updated_at,
        }
    }
}
