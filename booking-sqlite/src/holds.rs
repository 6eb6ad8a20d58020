//! Slot holds: their rows, the guarded insert (the same overlap and limit
//! checks as a booking, plus the per-client cap), the lookup by token and
//! the early release. A hold expires by itself: every query that counts
//! holds asks for `expires_at > :now`, so an expired row is inert until
//! `purge_expired` deletes it.

use booking_core::hold::{Hold, HoldId, NewHold};
use booking_core::secret::TokenHash;
use booking_core::store::StoreError;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension as _, Row, params};

use crate::convert::{micros_floor, parse_text, read_instant, read_secs, stored_instant};
use crate::error::{Failure, corrupt};
use crate::group_commit::GroupWrite;
use crate::occupancy::{self, Except, Occupancy};
use crate::sql;

/// A hold about to be inserted, in stored form, with the hold the store
/// returns (the stored values, as a later read gives them back).
pub(crate) struct HoldInsert {
    occupancy: Occupancy,
    created_us: i64,
    expires_us: i64,
    new: NewHold,
}

impl HoldInsert {
    pub(crate) fn new(mut new: NewHold) -> Result<Self, Failure> {
        let hold = &mut new.hold;
        let occupancy = Occupancy::new(hold.time, hold.buffer_before, hold.buffer_after)?;
        let created_us = micros_floor(hold.created_at);
        let expires_us = micros_floor(hold.expires_at);
        hold.time = occupancy.time;
        hold.buffer_before = occupancy.buffer_before;
        hold.buffer_after = occupancy.buffer_after;
        hold.created_at = stored_instant(created_us)?;
        hold.expires_at = stored_instant(expires_us)?;
        Ok(HoldInsert {
            occupancy,
            created_us,
            expires_us,
            new,
        })
    }
}

/// Inside the caller's `BEGIN IMMEDIATE` transaction, exactly as a booking
/// of the slot would be checked (the organizer exists; nothing active
/// overlaps at `created_at`; the event type's limits, holds included), then
/// the client's unexpired holds on this organizer are counted up to the cap
/// (all reads: [`GroupWrite::check`]), and the hold is inserted
/// ([`GroupWrite::write`]).
impl GroupWrite for HoldInsert {
    type Output = Hold;
    type Checked = ();

    fn check(&self, tx: &Connection) -> Result<(), Failure> {
        let hold = &self.new.hold;
        let organizer = hold.organizer_id.to_string();
        let exists: bool = tx
            .prepare_cached(sql::ORGANIZER_EXISTS)?
            .query_row([&organizer], |r| r.get(0))?;
        if !exists {
            return Err(StoreError::OrganizerNotFound(hold.organizer_id).into());
        }
        let now_us = self.created_us;
        if occupancy::is_taken(tx, &organizer, &self.occupancy, now_us, Except::default())? {
            return Err(StoreError::Conflict.into());
        }
        let event_type = hold.event_type_id.to_string();
        occupancy::check_limits(
            tx,
            &organizer,
            &event_type,
            &self.new.limits,
            now_us,
            Except::default(),
        )?;
        if let Some(client) = &hold.client {
            let cap = self.new.max_per_client;
            let held: i64 = tx
                .prepare_cached(sql::CLIENT_HOLDS)?
                .query_row(params![organizer, client, now_us, i64::from(cap)], |r| {
                    r.get(0)
                })?;
            if held >= i64::from(cap) {
                return Err(StoreError::TooManyHolds(cap).into());
            }
        }
        Ok(())
    }

    fn write(&self, tx: &Connection, (): ()) -> Result<Hold, Failure> {
        let hold = self.new.hold.clone();
        let occupancy = &self.occupancy;
        tx.prepare_cached(sql::INSERT_HOLD)?.execute(params![
            hold.id.to_string(),
            hold.organizer_id.to_string(),
            hold.event_type_id.to_string(),
            occupancy.start_us,
            occupancy.end_us,
            occupancy.buffer_before_secs,
            occupancy.buffer_after_secs,
            hold.token_hash.to_hex(),
            hold.client,
            self.created_us,
            self.expires_us,
            occupancy.occupied_start_us,
            occupancy.occupied_end_us,
        ])?;
        Ok(hold)
    }
}

/// The newest hold whose token hashes to `hash`, expired or not.
pub(crate) fn by_token_hash(conn: &Connection, hash: &TokenHash) -> Result<Option<Hold>, Failure> {
    conn.prepare_cached(sql::HOLD_BY_TOKEN_HASH)?
        .query_row([hash.to_hex()], HoldRow::read)
        .optional()?
        .map(HoldRow::into_hold)
        .transpose()
}

/// Deletes the hold if it has this token and is unexpired at `at`; one
/// statement, so a hold is released once.
pub(crate) fn release(
    tx: &Connection,
    id: HoldId,
    token_hash: &TokenHash,
    at: DateTime<Utc>,
) -> Result<(), Failure> {
    let deleted = tx.prepare_cached(sql::RELEASE_HOLD)?.execute(params![
        id.to_string(),
        token_hash.to_hex(),
        micros_floor(at)
    ])?;
    if deleted == 0 {
        return Err(StoreError::HoldNotFound(id).into());
    }
    Ok(())
}

/// Deletes the holds expired at `now`, through the `expires_at` index; how
/// many went.
pub(crate) fn purge_expired(tx: &Connection, now: DateTime<Utc>) -> Result<u64, Failure> {
    let purged = tx
        .prepare_cached(sql::PURGE_HOLDS)?
        .execute([micros_floor(now)])?;
    Ok(purged as u64)
}

/// A `holds` row as SQLite hands it over, before validation.
struct HoldRow {
    id: String,
    organizer_id: String,
    event_type_id: String,
    start_time: i64,
    end_time: i64,
    buffer_before_secs: i64,
    buffer_after_secs: i64,
    token_hash: String,
    client: Option<String>,
    created_at: i64,
    expires_at: i64,
}

impl HoldRow {
    /// Reads the columns of `hold_columns!()` (see `sql`).
    fn read(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(HoldRow {
            id: row.get(0)?,
            organizer_id: row.get(1)?,
            event_type_id: row.get(2)?,
            start_time: row.get(3)?,
            end_time: row.get(4)?,
            buffer_before_secs: row.get(5)?,
            buffer_after_secs: row.get(6)?,
            token_hash: row.get(7)?,
            client: row.get(8)?,
            created_at: row.get(9)?,
            expires_at: row.get(10)?,
        })
    }

    fn into_hold(self) -> Result<Hold, Failure> {
        let time = booking_core::time::TimeRange::new(
            read_instant("holds.start_time", self.start_time)?,
            read_instant("holds.end_time", self.end_time)?,
        )
        .map_err(|e| corrupt(format!("hold {}: {e}", self.id)))?;
        Ok(Hold {
            id: parse_text("holds.id", &self.id)?,
            organizer_id: parse_text("holds.organizer_id", &self.organizer_id)?,
            event_type_id: parse_text("holds.event_type_id", &self.event_type_id)?,
            time,
            buffer_before: read_secs("holds.buffer_before_secs", self.buffer_before_secs)?,
            buffer_after: read_secs("holds.buffer_after_secs", self.buffer_after_secs)?,
            token_hash: TokenHash::from_hex(&self.token_hash)
                .map_err(|e| corrupt(format!("hold {}: token_hash: {e}", self.id)))?,
            client: self.client,
            created_at: read_instant("holds.created_at", self.created_at)?,
            expires_at: read_instant("holds.expires_at", self.expires_at)?,
        })
    }
}
