//! The body of a delivery:
//!
//! ```json
//! {
//!   "type": "booking.rescheduled",
//!   "timestamp": "2026-12-01T08:00:00.000Z",
//!   "data": {
//!     "booking": { "id": "01J...", "eventType": "intro", "sequence": 1, ... },
//!     "previousTime": { "start": "2026-12-02T10:00:00.000Z", "end": "2026-12-02T10:30:00.000Z" },
//!     "time": { "start": "2026-12-02T11:00:00.000Z", "end": "2026-12-02T11:30:00.000Z" }
//!   }
//! }
//! ```
//!
//! `timestamp` is when the change happened (not when it was delivered);
//! `data.booking` is the booking as the change left it, in the shape the
//! application's [`BookingRenderer`] gives it (so webhooks show bookings as
//! its API does). `booking.rescheduled` adds `previousTime` and `time`,
//! `booking.cancelled` adds `cancelledBy` (`organizer` or `attendee`).

use booking_core::chrono::{DateTime, SecondsFormat, Utc};
use booking_core::event::Canceller;
use booking_core::{Booking, BookingEvent, BookingEventKind, TimeRange};
use serde_json::{Map, Value, json};

/// Turns a booking into the JSON object a webhook shows as
/// `data.booking`: the application's own API shape, so receivers see the
/// same fields everywhere. It must never include the cancel token or its
/// hash (keys named like them are removed anyway).
///
/// Any `Fn(&Booking) -> serde_json::Value` is a renderer;
/// [`default_booking_json`] is one.
pub trait BookingRenderer: Send + Sync {
    /// The booking as JSON.
    fn render(&self, booking: &Booking) -> Value;
}

impl<F> BookingRenderer for F
where
    F: Fn(&Booking) -> Value + Send + Sync,
{
    fn render(&self, booking: &Booking) -> Value {
        self(booking)
    }
}

/// Keys a rendered booking never keeps, whatever the renderer does.
const SECRET_KEYS: [&str; 4] = [
    "cancelToken",
    "cancelTokenHash",
    "cancel_token",
    "cancel_token_hash",
];

/// A booking as camelCase JSON: `id`, `organizerId`, `eventType` (its
/// slug), `eventTypeId`, `title`, `description`, `attendee` (`name`,
/// `email`), `metadata`, `startTime`, `endTime`, `status` (`active` or
/// `cancelled`), `sequence`, `createdAt`, `updatedAt`, `cancelledAt`,
/// `rescheduledFrom` (`start`, `end`). Never the cancel token's hash.
pub fn default_booking_json(booking: &Booking) -> Value {
    json!({
        "id": booking.id.to_string(),
        "organizerId": booking.organizer_id.to_string(),
        "eventType": booking.event_type_slug.as_str(),
        "eventTypeId": booking.event_type_id.map(|id| id.to_string()),
        "title": booking.title,
        "description": booking.description,
        "attendee": { "name": booking.attendee.name, "email": booking.attendee.email },
        "metadata": booking.metadata,
        "startTime": instant(booking.start_time()),
        "endTime": instant(booking.end_time()),
        "status": if booking.is_active() { "active" } else { "cancelled" },
        "sequence": booking.sequence,
        "createdAt": instant(booking.created_at),
        "updatedAt": instant(booking.updated_at),
        "cancelledAt": booking.deleted_at.map(instant),
        "rescheduledFrom": booking.rescheduled_from.map(range),
    })
}

/// The delivery body for `event`, as JSON text. Built once, when the event
/// is dispatched, and stored in the job: every retry sends the same bytes.
pub fn webhook_body(event: &BookingEvent, renderer: &dyn BookingRenderer) -> String {
    let mut booking = renderer.render(&event.booking);
    if let Value::Object(fields) = &mut booking {
        for key in SECRET_KEYS {
            fields.remove(key);
        }
    }
    let mut data = Map::new();
    data.insert("booking".into(), booking);
    match event.kind {
        BookingEventKind::Rescheduled => {
            if let Some(previous) = event.previous_time {
                data.insert("previousTime".into(), range(previous));
            }
            data.insert("time".into(), range(event.booking.time));
        }
        BookingEventKind::Cancelled => {
            let by = match event.cancelled_by {
                Some(Canceller::Organizer) => json!("organizer"),
                Some(Canceller::Attendee) => json!("attendee"),
                _ => Value::Null,
            };
            data.insert("cancelledBy".into(), by);
        }
        _ => {}
    }
    json!({
        "type": event.kind.name(),
        "timestamp": instant(event.occurred_at),
        "data": data,
    })
    .to_string()
}

/// The event kind named in a body, if it is one of ours.
pub(crate) fn body_kind(body: &str) -> Option<BookingEventKind> {
    let value: Value = serde_json::from_str(body).ok()?;
    value.get("type")?.as_str()?.parse().ok()
}

fn instant(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn range(time: TimeRange) -> Value {
    json!({ "start": instant(time.start()), "end": instant(time.end()) })
}
