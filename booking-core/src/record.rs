//! Records: an organizer's small satellite data that is not part of the
//! booking guarantee (sign-in sessions, webhook endpoints, connected
//! calendars, feed tokens, event consumers), kept by every store in one
//! shape: a kind, an id, the organizer, an optional unique lookup key (for
//! example a token's hash), an optional expiry, and data that only
//! booking-core reads (JSON text).
//!
//! One shape for all of them keeps every store a thin translation layer:
//! adding a kind of record needs no new table or query in any adapter.

use chrono::{DateTime, Utc};

pub use crate::ids::OrganizerId;

/// A record as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// What it is, e.g. `session` or `webhook`.
    pub kind: String,
    /// Its id, unique within its kind.
    pub id: String,
    /// Whose it is.
    pub organizer_id: OrganizerId,
    /// A key it can be found by, unique within its kind (a token's hash);
    /// a global lookup, not scoped to the organizer.
    pub lookup: Option<String>,
    /// The data, opaque to the store.
    pub data: String,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it stops counting (reads at or after it find nothing).
    pub expires_at: Option<DateTime<Utc>>,
}

impl Record {
    /// Whether it still counts at `now`.
    pub fn is_live_at(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_none_or(|end| now < end)
    }
}
