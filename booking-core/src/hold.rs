//! Slot holds: a visitor keeps a slot for a few minutes while filling in the
//! booking form. While a hold lasts, its slot (with the event type's
//! buffers) is not offered to anyone else and any other booking or hold of
//! it is refused, by the store, atomically, exactly as for a booking. Booking
//! the slot with the hold's token turns the hold into the booking in one
//! atomic step. A hold ends by itself at `expires_at`: an expired hold simply
//! counts for nothing, so no background job is needed for correctness.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::booking::{BookingTime, LimitCheck};
pub use crate::ids::{EventTypeId, HoldId, OrganizerId};
use crate::organizer::OrganizerRef;
use crate::secret::{SecretToken, TokenHash};
use crate::time::TimeRange;

/// The most unexpired holds one client (by address) may keep on one
/// organizer's slots at a time.
pub const MAX_HOLDS_PER_CLIENT: u32 = 3;
/// Longest client identifier kept with a hold.
pub const MAX_CLIENT_LEN: usize = 100;

/// A hold as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hold {
    /// Stable id.
    pub id: HoldId,
    /// Whose slot is held.
    pub organizer_id: OrganizerId,
    /// The event type whose slot it is.
    pub event_type_id: EventTypeId,
    /// The held meeting time.
    pub time: TimeRange,
    /// The event type's buffer before, when the hold was taken.
    #[serde(with = "crate::time::serde_seconds")]
    pub buffer_before: Duration,
    /// The event type's buffer after, when the hold was taken.
    #[serde(with = "crate::time::serde_seconds")]
    pub buffer_after: Duration,
    /// SHA-256 of the hold's token.
    pub token_hash: TokenHash,
    /// Who took it (a client address), for the per-client cap.
    pub client: Option<String>,
    /// When it was taken.
    pub created_at: DateTime<Utc>,
    /// When it ends by itself.
    pub expires_at: DateTime<Utc>,
}

impl Hold {
    /// The time the hold keeps the organizer busy: the slot widened by the
    /// buffers, as a booking of it would.
    pub fn occupied(&self) -> TimeRange {
        self.time.widened(self.buffer_before, self.buffer_after)
    }

    /// Whether the hold still counts at `now`.
    pub fn is_active_at(&self, now: DateTime<Utc>) -> bool {
        now < self.expires_at
    }
}

/// What a store inserts for a hold: the hold, the event type's limits
/// (held slots count against them, like bookings) and the per-client cap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewHold {
    /// The hold to insert.
    pub hold: Hold,
    /// Limit checks, as for a booking of the slot.
    pub limits: Vec<LimitCheck>,
    /// The most unexpired holds `hold.client` may keep on this organizer,
    /// this one included; checked when `client` is set.
    pub max_per_client: u32,
}

/// A visitor's request to hold a slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldRequest {
    /// Whose slot.
    pub organizer: OrganizerRef,
    /// The event type's slug; `None` for the default event type.
    pub event_type: Option<String>,
    /// The slot.
    pub time: BookingTime,
    /// Who asks (for example the client's IP address), for the per-client
    /// cap; `None` skips the cap.
    pub client: Option<String>,
}

impl HoldRequest {
    /// A hold of `time` with `organizer`'s default event type.
    pub fn new(organizer: impl Into<OrganizerRef>, time: impl Into<BookingTime>) -> Self {
        HoldRequest {
            organizer: organizer.into(),
            event_type: None,
            time: time.into(),
            client: None,
        }
    }

    /// Holds a slot of the event type with this slug.
    pub fn event_type(mut self, slug: impl Into<String>) -> Self {
        self.event_type = Some(slug.into());
        self
    }

    /// Counts the hold against `client`'s cap.
    pub fn client(mut self, client: impl Into<String>) -> Self {
        self.client = Some(client.into());
        self
    }
}

/// A hold just taken, with its token (shown only now; present it to book the
/// slot or to release the hold).
#[derive(Debug, Clone)]
pub struct CreatedHold {
    /// The stored hold.
    pub hold: Hold,
    /// The secret; only its hash is stored.
    pub token: SecretToken,
}
