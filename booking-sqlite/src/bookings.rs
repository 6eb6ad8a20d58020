//! Bookings: their rows, the guarded insert (overlap with bookings and
//! holds, limits, the replaced hold, the idempotency key and the event, all
//! in one transaction), the guarded move, pages and cancellation.

use booking_core::booking::{Attendee, Booking, BookingId, LimitCheck, NewBooking};
use booking_core::event::EventRecord;
use booking_core::hold::HoldId;
use booking_core::idempotency::IdempotencyCompletion;
use booking_core::organizer::OrganizerId;
use booking_core::secret::TokenHash;
use booking_core::store::{BookingPage, BookingQuery, Cancellation, Reschedule, StoreError};
use booking_core::time::TimeRange;
use rusqlite::{Connection, OptionalExtension as _, Row, params};
use serde_json::{Map, Value};

use crate::convert::{
    from_micros, micros_ceil, micros_floor, parse_text, read_instant, read_secs, read_unsigned,
    stored_instant, to_json,
};
use crate::error::{Failure, corrupt};
use crate::group_commit::GroupWrite;
use crate::occupancy::{self, Except, Occupancy, start_bounds};
use crate::{idempotency, outbox, sql};

/// A booking about to be inserted, in stored form, together with the booking
/// the store will return (built from the stored values, so it equals what a
/// later read gives back) and what must happen in the same transaction.
pub(crate) struct BookingInsert {
    occupancy: Occupancy,
    created_us: i64,
    metadata: Option<String>,
    limits: Vec<LimitCheck>,
    replaces_hold: Option<HoldId>,
    idempotency: Option<IdempotencyCompletion>,
    event: Option<EventRecord>,
    config_version: Option<u64>,
    booking: Booking,
}

impl BookingInsert {
    pub(crate) fn new(mut new: NewBooking) -> Result<Self, Failure> {
        let occupancy = Occupancy::new(new.time, new.buffer_before, new.buffer_after)?;
        let created_us = micros_floor(new.created_at);
        let created_at = stored_instant(created_us)?;
        let metadata = new.metadata.as_ref().map(to_json).transpose()?;
        let limits = std::mem::take(&mut new.limits);
        let replaces_hold = new.replaces_hold.take();
        let idempotency = new.idempotency.take();
        let event = new.event.take();
        let config_version = new.config_version;
        let booking = Booking {
            time: occupancy.time,
            buffer_before: occupancy.buffer_before,
            buffer_after: occupancy.buffer_after,
            created_at,
            updated_at: created_at,
            ..Booking::from_new(new)
        };
        Ok(BookingInsert {
            occupancy,
            created_us,
            metadata,
            limits,
            replaces_hold,
            idempotency,
            event,
            config_version,
            booking,
        })
    }

    /// What the checks leave out: the hold this booking replaces.
    fn except(&self) -> Except {
        Except {
            booking_rowid: None,
            hold: self.replaces_hold,
        }
    }
}

/// The insert, inside the caller's `BEGIN IMMEDIATE` transaction, which
/// holds the database's one write lock from its first statement: nothing
/// can be committed, by this process or another, between the checks and
/// the writes, so what the checks read is still true when the rows are
/// written.
///
/// The checks ([`GroupWrite::check`], reads only):
/// 1. the organizer exists (at the configuration version the booking was
///    decided on, when it names one), whether the event type still does
///    (one deleted since the booking was decided leaves the booking stored
///    without an event type id, as if it had been deleted just after), and
///    whether the hold it replaces, if any, is unexpired;
/// 2. no active booking and no unexpired hold of the organizer overlaps
///    (the replaced hold apart), read through both occupied indexes bounded
///    on both sides: one statement;
/// 3. only when the booking carries limits: for each, the active bookings
///    and unexpired holds of the event type starting in its range, counted
///    up to the limit.
///
/// The writes ([`GroupWrite::write`]): the replaced hold ends, the
/// idempotency key is completed, the booking and its event are inserted
/// (each only when asked for).
impl GroupWrite for BookingInsert {
    type Output = Booking;
    /// Whether the event type still exists.
    type Checked = bool;

    fn check(&self, tx: &Connection) -> Result<bool, Failure> {
        let organizer = self.booking.organizer_id;
        let organizer_id = organizer.to_string();
        let event_type_id = self.booking.event_type_id.map(|id| id.to_string());
        let now_us = self.created_us;
        let (organizer_exists, event_type_exists, hold_active, version): (
            bool,
            bool,
            bool,
            Option<i64>,
        ) = tx.prepare_cached(sql::BOOKING_TARGETS)?.query_row(
            params![
                organizer_id,
                event_type_id,
                self.replaces_hold.map(|id| id.to_string()),
                now_us
            ],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )?;
        if !organizer_exists {
            return Err(StoreError::OrganizerNotFound(organizer).into());
        }
        if let Some(expected) = self.config_version
            && version.and_then(|v| u64::try_from(v).ok()) != Some(expected)
        {
            return Err(StoreError::ConfigChanged.into());
        }
        if let Some(hold) = self.replaces_hold
            && !hold_active
        {
            return Err(StoreError::HoldNotFound(hold).into());
        }
        let except = self.except();
        if occupancy::is_taken(tx, &organizer_id, &self.occupancy, now_us, except)? {
            return Err(StoreError::Conflict.into());
        }
        if let Some(event_type) = &event_type_id {
            occupancy::check_limits(tx, &organizer_id, event_type, &self.limits, now_us, except)?;
        }
        Ok(event_type_exists)
    }

    fn write(&self, tx: &Connection, event_type_exists: bool) -> Result<Booking, Failure> {
        let mut booking = self.booking.clone();
        if let Some(hold) = self.replaces_hold {
            tx.prepare_cached(sql::END_HOLD)?
                .execute([hold.to_string()])?;
        }
        if let Some(completion) = &self.idempotency {
            idempotency::complete(tx, completion)?;
        }
        if !event_type_exists {
            booking.event_type_id = None;
        }
        let occupancy = &self.occupancy;
        tx.prepare_cached(sql::INSERT_BOOKING)?.execute(params![
            booking.id.to_string(),
            booking.organizer_id.to_string(),
            booking.event_type_id.map(|id| id.to_string()),
            booking.event_type_slug.as_str(),
            booking.attendee.name,
            booking.attendee.email,
            &self.metadata,
            booking.title,
            booking.description,
            occupancy.start_us,
            occupancy.end_us,
            occupancy.buffer_before_secs,
            occupancy.buffer_after_secs,
            booking.cancel_token_hash.to_hex(),
            self.created_us,
            occupancy.occupied_start_us,
            occupancy.occupied_end_us,
        ])?;
        if let Some(event) = &self.event {
            outbox::write_event(tx, event)?;
        }
        Ok(booking)
    }
}

/// A booking's move, inside the caller's `BEGIN IMMEDIATE` transaction: the
/// booking is read (another organizer's is not found; a cancelled one, or
/// one whose sequence moved on, is refused), the new time is checked
/// against every other active booking and unexpired hold and against the
/// limits, the booking itself left out by its rowid, and then one `UPDATE`
/// moves it and its event is written. Either it is at the new time or it
/// is unchanged.
pub(crate) fn reschedule(tx: &Connection, change: Reschedule) -> Result<Booking, Failure> {
    let id = change.id;
    let occupancy = Occupancy::new(change.time, change.buffer_before, change.buffer_after)?;
    let at_us = micros_floor(change.at);
    let organizer_id = change.organizer_id.to_string();
    let Some(current) = tx
        .prepare_cached(sql::BOOKING_TO_MOVE)?
        .query_row([id.to_string()], |r| {
            Ok(ToMove {
                rowid: r.get(0)?,
                organizer_id: r.get(1)?,
                event_type_id: r.get(2)?,
                deleted_at: r.get(3)?,
                sequence: r.get(4)?,
            })
        })
        .optional()?
        .filter(|current| current.organizer_id == organizer_id)
    else {
        return Err(StoreError::BookingNotFound(id).into());
    };
    if let Some(micros) = current.deleted_at {
        return Err(already_cancelled(id, micros));
    }
    if read_unsigned::<u32>("sequence", current.sequence)? != change.expected_sequence {
        return Err(StoreError::BookingChanged(id).into());
    }
    let (rowid, event_type_id) = (current.rowid, current.event_type_id);
    let except = Except {
        booking_rowid: Some(rowid),
        hold: None,
    };
    if occupancy::is_taken(tx, &organizer_id, &occupancy, at_us, except)? {
        return Err(StoreError::Conflict.into());
    }
    if let Some(event_type) = &event_type_id {
        occupancy::check_limits(tx, &organizer_id, event_type, &change.limits, at_us, except)?;
    }
    let moved = tx
        .prepare_cached(sql::MOVE_BOOKING)?
        .query_row(
            params![
                rowid,
                occupancy.start_us,
                occupancy.end_us,
                occupancy.buffer_before_secs,
                occupancy.buffer_after_secs,
                occupancy.occupied_start_us,
                occupancy.occupied_end_us,
                at_us,
            ],
            BookingRow::read,
        )?
        .into_booking()?;
    if let Some(event) = &change.event {
        outbox::write_event(tx, event)?;
    }
    Ok(moved)
}

pub(crate) fn by_id(conn: &Connection, id: BookingId) -> Result<Option<Booking>, Failure> {
    conn.prepare_cached(sql::BOOKING_BY_ID)?
        .query_row([id.to_string()], BookingRow::read)
        .optional()?
        .map(BookingRow::into_booking)
        .transpose()
}

/// A page and the total, in one read transaction the caller opened. Active
/// bookings only come from the partial index of active bookings, in page
/// order; with `cancelled_since` (calendar feeds), bookings cancelled since
/// then are included through the index on `(organizer_id, start_time)`.
pub(crate) fn page(
    conn: &Connection,
    organizer: OrganizerId,
    query: BookingQuery,
) -> Result<BookingPage, Failure> {
    let (from, until) = match query.starts_within {
        Some(range) => start_bounds(range),
        None => (i64::MIN, i64::MAX),
    };
    let limit = i64::from(query.limit);
    let offset = i64::try_from(query.offset).unwrap_or(i64::MAX);
    let id = organizer.to_string();
    // With `cancelled_since`, its instant is one more filter parameter.
    // Stored instants are whole microseconds: `deleted_at >= since` is
    // `deleted_at >= ceil(since)`.
    let since = query.cancelled_since.map(micros_ceil);
    let (count, page) = match since {
        Some(_) => (sql::COUNT_LISTED, sql::PAGE_LISTED),
        None => (sql::COUNT_ACTIVE, sql::PAGE_ACTIVE),
    };
    let mut filter: Vec<&dyn rusqlite::ToSql> = vec![&id, &from, &until];
    if let Some(since) = &since {
        filter.push(since);
    }
    let total: i64 = conn
        .prepare_cached(count)?
        .query_row(&*filter, |row| row.get(0))?;
    filter.extend([&limit as &dyn rusqlite::ToSql, &offset]);
    let mut stmt = conn.prepare_cached(page)?;
    let rows = stmt.query_map(&*filter, BookingRow::read)?;
    let mut bookings = Vec::new();
    for row in rows {
        bookings.push(row?.into_booking()?);
    }
    let total = u64::try_from(total).map_err(|_| corrupt(format!("negative count {total}")))?;
    Ok(BookingPage { bookings, total })
}

/// What a move reads of its booking first (see [`sql::BOOKING_TO_MOVE`]).
struct ToMove {
    rowid: i64,
    organizer_id: String,
    event_type_id: Option<String>,
    deleted_at: Option<i64>,
    sequence: i64,
}

/// One `UPDATE ... WHERE id = ? AND organizer_id = ? AND deleted_at IS NULL
/// [AND sequence = ?] RETURNING ...` inside the caller's `BEGIN IMMEDIATE`
/// transaction, then the event; when the update changes nothing, the same
/// transaction tells a missing booking (or another organizer's) from a
/// cancelled one and from one that moved on.
pub(crate) fn cancel(tx: &Connection, cancel: Cancellation) -> Result<Booking, Failure> {
    let id = cancel.id;
    let key = id.to_string();
    let organizer = cancel.organizer_id.to_string();
    let cancelled = tx
        .prepare_cached(sql::CANCEL_RETURNING)?
        .query_row(
            params![
                key,
                organizer,
                micros_floor(cancel.at),
                cancel.expected_sequence.map(i64::from)
            ],
            BookingRow::read,
        )
        .optional()?;
    if let Some(row) = cancelled {
        let booking = row.into_booking()?;
        if let Some(event) = &cancel.event {
            outbox::write_event(tx, event)?;
        }
        return Ok(booking);
    }
    let state: Option<(Option<i64>, i64)> = tx
        .prepare_cached(sql::CANCEL_STATE)?
        .query_row([&key, &organizer], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?;
    match state {
        None => Err(StoreError::BookingNotFound(id).into()),
        Some((Some(micros), _)) => Err(already_cancelled(id, micros)),
        Some((None, sequence)) => Err(match cancel.expected_sequence {
            Some(expected) if i64::from(expected) != sequence => {
                StoreError::BookingChanged(id).into()
            }
            _ => corrupt(format!("booking {id} is active but could not be cancelled")),
        }),
    }
}

/// [`StoreError::AlreadyCancelled`] with the stored cancellation instant.
fn already_cancelled(id: BookingId, deleted_at: i64) -> Failure {
    match from_micros(deleted_at) {
        Some(cancelled_at) => StoreError::AlreadyCancelled { id, cancelled_at }.into(),
        None => corrupt(format!(
            "booking {id}: deleted_at = {deleted_at} is out of range"
        )),
    }
}

/// A `bookings` row as SQLite hands it over, before validation.
struct BookingRow {
    id: String,
    organizer_id: String,
    event_type_id: Option<String>,
    event_type_slug: String,
    attendant_name: String,
    attendant_email: String,
    metadata: Option<String>,
    title: String,
    description: Option<String>,
    start_time: i64,
    end_time: i64,
    buffer_before_secs: i64,
    buffer_after_secs: i64,
    cancel_token_hash: String,
    created_at: i64,
    updated_at: i64,
    deleted_at: Option<i64>,
    sequence: i64,
    rescheduled_from_start: Option<i64>,
    rescheduled_from_end: Option<i64>,
}

impl BookingRow {
    /// Reads the columns of `booking_columns!()` (see `sql`).
    fn read(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(BookingRow {
            id: row.get(0)?,
            organizer_id: row.get(1)?,
            event_type_id: row.get(2)?,
            event_type_slug: row.get(3)?,
            attendant_name: row.get(4)?,
            attendant_email: row.get(5)?,
            metadata: row.get(6)?,
            title: row.get(7)?,
            description: row.get(8)?,
            start_time: row.get(9)?,
            end_time: row.get(10)?,
            buffer_before_secs: row.get(11)?,
            buffer_after_secs: row.get(12)?,
            cancel_token_hash: row.get(13)?,
            created_at: row.get(14)?,
            updated_at: row.get(15)?,
            deleted_at: row.get(16)?,
            sequence: row.get(17)?,
            rescheduled_from_start: row.get(18)?,
            rescheduled_from_end: row.get(19)?,
        })
    }

    /// The domain value; anything that does not parse is [`StoreError::Corrupt`].
    fn into_booking(self) -> Result<Booking, Failure> {
        let metadata = match self.metadata {
            None => None,
            Some(text) => Some(
                serde_json::from_str::<Map<String, Value>>(&text).map_err(|e| {
                    corrupt(format!(
                        "booking {}: metadata is not a JSON object: {e}",
                        self.id
                    ))
                })?,
            ),
        };
        let time = TimeRange::new(
            read_instant("start_time", self.start_time)?,
            read_instant("end_time", self.end_time)?,
        )
        .map_err(|e| corrupt(format!("booking {}: {e}", self.id)))?;
        let rescheduled_from = match (self.rescheduled_from_start, self.rescheduled_from_end) {
            (None, None) => None,
            (Some(start), Some(end)) => Some(
                TimeRange::new(
                    read_instant("rescheduled_from_start", start)?,
                    read_instant("rescheduled_from_end", end)?,
                )
                .map_err(|e| corrupt(format!("booking {}: rescheduled_from: {e}", self.id)))?,
            ),
            _ => {
                return Err(corrupt(format!(
                    "booking {}: half of rescheduled_from is missing",
                    self.id
                )));
            }
        };
        Ok(Booking {
            id: parse_text("bookings.id", &self.id)?,
            organizer_id: parse_text("bookings.organizer_id", &self.organizer_id)?,
            event_type_id: self
                .event_type_id
                .as_deref()
                .map(|text| parse_text("bookings.event_type_id", text))
                .transpose()?,
            event_type_slug: parse_text("bookings.event_type_slug", &self.event_type_slug)?,
            attendee: Attendee::new(self.attendant_name, self.attendant_email),
            metadata,
            title: self.title,
            description: self.description,
            time,
            buffer_before: read_secs("buffer_before_secs", self.buffer_before_secs)?,
            buffer_after: read_secs("buffer_after_secs", self.buffer_after_secs)?,
            cancel_token_hash: TokenHash::from_hex(&self.cancel_token_hash)
                .map_err(|e| corrupt(format!("booking {}: cancel_token_hash: {e}", self.id)))?,
            created_at: read_instant("created_at", self.created_at)?,
            updated_at: read_instant("updated_at", self.updated_at)?,
            deleted_at: self
                .deleted_at
                .map(|t| read_instant("deleted_at", t))
                .transpose()?,
            sequence: read_unsigned("sequence", self.sequence)?,
            rescheduled_from,
        })
    }
}
