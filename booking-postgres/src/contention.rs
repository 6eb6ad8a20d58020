//! The retry-once rule of writes that occupy time (inserting a booking or a
//! hold, moving a booking).
//!
//! Each such write is one statement that counts the live rows it can see
//! and reports a refusal it can explain (an overlap, a full limit, ...).
//! But the exclusion constraint may refuse it for a row that statement's
//! snapshot did not count: an **expired hold** (the constraint cannot know
//! about expiry: its predicate must be immutable, so it sees every hold not
//! yet marked ended), an overlap **committed a moment ago**, or, for a move
//! (an `UPDATE`, which cannot say `ON CONFLICT DO NOTHING`), the racing write
//! it was waiting for (23P01), a **deadlock** with another move (40P01: each
//! waited for the other's new index entry; PostgreSQL fails one of them), or
//! a serialization failure when the session runs REPEATABLE READ (40001).
//! The statement then wrote nothing.
//!
//! So the store runs `RETIRE_EXPIRED_HOLDS` (in
//! [`PostgresStore::clear_for_retry`]): it marks the expired holds that
//! overlap as ended and, in a fresh snapshot, looks again for a live row in
//! the way. One there: a plain [`StoreError::Conflict`]. None: the write is
//! tried once more; refused again, it is a conflict. A booking without
//! limits or hold therefore stays one statement when it succeeds or is
//! plainly refused, and costs three only in these races.

use booking_core::organizer::OrganizerId;
use booking_core::store::StoreError;
use booking_core::time::TimeRange;
use chrono::{DateTime, Utc};

use crate::error::{sqlstate, store_error};
use crate::{PostgresStore, decode, sql};

/// How one try of a write ended, short of a refusal (which is an `Err`).
pub(crate) enum Attempt<T> {
    /// Written.
    Done(T),
    /// Refused for a row the write's snapshot did not count: see the
    /// [module docs](self).
    Unexplained,
}

/// Where a write wants to occupy time: the organizer, the occupied
/// interval (as stored), the instant holds expire against, and the row that
/// never blocks it (the booking being moved, the hold being booked).
pub(crate) struct Contended {
    pub organizer: OrganizerId,
    pub occupied: TimeRange,
    pub now: DateTime<Utc>,
    pub except: Option<String>,
}

/// How often a single statement that only lost a race (see [`lost_race`])
/// is run, in the places that simply run it again.
pub(crate) const RACE_TRIES: usize = 3;

/// Whether a failed statement lost a race the retry-once rule covers:
/// exclusion violation (23P01), deadlock (40P01), serialization failure
/// (40001).
pub(crate) fn lost_race(error: &sqlx::Error) -> bool {
    matches!(
        sqlstate(error).as_deref(),
        Some("23P01" | "40P01" | "40001")
    )
}

impl<T> Attempt<T> {
    /// The second try's outcome: unexplained again is a conflict.
    pub(crate) fn or_conflict(self) -> Result<T, StoreError> {
        match self {
            Attempt::Done(written) => Ok(written),
            Attempt::Unexplained => Err(StoreError::Conflict),
        }
    }
}

impl PostgresStore {
    /// Between a write's first, unexplained try and its second: ends the
    /// expired holds in its way; [`StoreError::Conflict`] when a live row
    /// still blocks it (no second try then).
    pub(crate) async fn clear_for_retry(&self, contended: &Contended) -> Result<(), StoreError> {
        let row = sqlx::query(sql::bookings::RETIRE_EXPIRED_HOLDS)
            .bind(contended.organizer.to_string())
            .bind(contended.occupied.start())
            .bind(contended.occupied.end())
            .bind(contended.now)
            .bind(contended.except.as_deref())
            .fetch_one(&self.pool)
            .await;
        let blocked = match row {
            Ok(row) => decode::get(&row, "blocked")?,
            // Another writer held a lock on the same holds in the meantime:
            // let the second try find out.
            Err(error) if lost_race(&error) => false,
            Err(error) => return Err(store_error(error)),
        };
        if blocked {
            Err(StoreError::Conflict)
        } else {
            Ok(())
        }
    }
}
