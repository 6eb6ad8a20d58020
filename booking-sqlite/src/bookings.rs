//! Bookings: their rows, the guarded insert (overlap and limits), the
//! bounded occupied-interval read, limit counts, pages and cancellation.

use booking_core::booking::{Attendee, Booking, BookingId, LimitCheck, NewBooking};
use booking_core::event_type::{EventTypeId, MAX_SLOT_LENGTH};
use booking_core::organizer::OrganizerId;
use booking_core::secret::TokenHash;
use booking_core::store::{BookingPage, BookingQuery, StoreError};
use booking_core::time::TimeRange;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension as _, Row, params};
use serde_json::{Map, Value};

use crate::convert::{
    MICROS_PER_SEC, buffer_secs, from_micros, micros_bounds, micros_ceil, micros_floor, parse_text,
    read_instant, read_secs, stored_instant, to_json,
};
use crate::error::{Failure, Unstorable, corrupt};
use crate::sql;

/// The longest occupied interval, in microseconds: a meeting and each of
/// its buffers are at most booking-core's `MAX_SLOT_LENGTH` (24 hours), so
/// 72 hours. The overlap queries rely on it for their lower bound, the
/// schema's `occupied_at_most_72_hours` check holds it for every row, and
/// [`BookingInsert::new`] refuses a longer booking with a clear error.
pub(crate) fn max_occupied_micros() -> i64 {
    3 * MAX_SLOT_LENGTH.num_seconds() * MICROS_PER_SEC
}

/// A booking about to be inserted, in stored form, together with the booking
/// the store will return (built from the stored values, so it equals what a
/// later read gives back).
pub(crate) struct BookingInsert {
    start_us: i64,
    end_us: i64,
    buffer_before_secs: i64,
    buffer_after_secs: i64,
    occupied_start_us: i64,
    occupied_end_us: i64,
    created_us: i64,
    metadata: Option<String>,
    limits: Vec<LimitCheck>,
    booking: Booking,
}

impl BookingInsert {
    pub(crate) fn new(new: NewBooking) -> Result<Self, Failure> {
        let start_us = micros_floor(new.time.start());
        let end_us = micros_ceil(new.time.end());
        let time = TimeRange::new(stored_instant(start_us)?, stored_instant(end_us)?)
            .map_err(|e| Unstorable::OutOfRange(e.to_string()))?;
        let buffer_before_secs = buffer_secs(new.buffer_before);
        let buffer_after_secs = buffer_secs(new.buffer_after);
        let (min, max) = micros_bounds();
        let occupied_start_us = start_us
            .saturating_sub(buffer_before_secs.saturating_mul(MICROS_PER_SEC))
            .max(min);
        let occupied_end_us = end_us
            .saturating_add(buffer_after_secs.saturating_mul(MICROS_PER_SEC))
            .min(max)
            .max(end_us);
        let occupied_us = occupied_end_us.saturating_sub(occupied_start_us);
        if occupied_us > max_occupied_micros() {
            return Err(Unstorable::OccupiedTooLong {
                occupied_secs: occupied_us / MICROS_PER_SEC,
                max_secs: max_occupied_micros() / MICROS_PER_SEC,
            }
            .into());
        }
        let created_us = micros_floor(new.created_at);
        let created_at = stored_instant(created_us)?;
        let metadata = new.metadata.as_ref().map(to_json).transpose()?;
        let limits = new.limits.clone();
        let booking = Booking {
            time,
            buffer_before: read_secs("buffer_before_secs", buffer_before_secs)?,
            buffer_after: read_secs("buffer_after_secs", buffer_after_secs)?,
            created_at,
            updated_at: created_at,
            ..Booking::from_new(new)
        };
        Ok(BookingInsert {
            start_us,
            end_us,
            buffer_before_secs,
            buffer_after_secs,
            occupied_start_us,
            occupied_end_us,
            created_us,
            metadata,
            limits,
            booking,
        })
    }

    /// The insert, inside the caller's `BEGIN IMMEDIATE` transaction, which
    /// holds the database's one write lock from its first statement: nothing
    /// can be committed, by this process or another, between the checks
    /// and the insert, so what the checks read is still true when the row
    /// is written.
    ///
    /// 1. the organizer exists (and whether the event type still does: one
    ///    deleted since the booking was decided leaves the booking stored
    ///    without an event type id, as if it had been deleted just after);
    /// 2. no active booking of the organizer overlaps, read through the
    ///    occupied index bounded on both sides;
    /// 3. only when the booking carries limits: for each, the active
    ///    bookings of the event type starting in its range, counted up to
    ///    the limit through the event type index;
    /// 4. the insert.
    pub(crate) fn insert(self, tx: &Connection) -> Result<Booking, Failure> {
        let mut booking = self.booking;
        let organizer = booking.organizer_id;
        let organizer_id = organizer.to_string();
        let event_type_id = booking.event_type_id.map(|id| id.to_string());
        let (organizer_exists, event_type_exists): (bool, bool) = tx
            .prepare_cached(sql::BOOKING_TARGETS)?
            .query_row(params![organizer_id, event_type_id], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?;
        if !organizer_exists {
            return Err(StoreError::OrganizerNotFound(organizer).into());
        }
        let overlaps: bool = tx.prepare_cached(sql::OVERLAP_EXISTS)?.query_row(
            params![
                organizer_id,
                self.occupied_start_us,
                self.occupied_end_us,
                lowest_overlapping_start(self.occupied_start_us),
            ],
            |r| r.get(0),
        )?;
        if overlaps {
            return Err(StoreError::Conflict.into());
        }
        if let Some(event_type) = booking.event_type_id {
            for check in &self.limits {
                if count_starts(tx, organizer, event_type, check)? >= i64::from(check.max) {
                    return Err(StoreError::LimitReached(check.period).into());
                }
            }
        }
        if !event_type_exists {
            booking.event_type_id = None;
        }
        tx.prepare_cached(sql::INSERT_BOOKING)?.execute(params![
            booking.id.to_string(),
            organizer_id,
            booking.event_type_id.map(|id| id.to_string()),
            booking.event_type_slug.as_str(),
            booking.attendee.name,
            booking.attendee.email,
            self.metadata,
            booking.title,
            booking.description,
            self.start_us,
            self.end_us,
            self.buffer_before_secs,
            self.buffer_after_secs,
            booking.cancel_token_hash.to_hex(),
            self.created_us,
            self.occupied_start_us,
            self.occupied_end_us,
        ])?;
        Ok(booking)
    }
}

/// The lowest `occupied_start` an interval ending after `start_us` can have.
/// Every stored interval is at most [`max_occupied_micros`] long, so one
/// that ends after `start_us` starts after `start_us - max`: the lower end
/// of the index range the overlap queries scan.
fn lowest_overlapping_start(start_us: i64) -> i64 {
    start_us.saturating_sub(max_occupied_micros())
}

/// How many active bookings of `event_type` start in the check's range,
/// counted no further than its limit.
fn count_starts(
    conn: &Connection,
    organizer: OrganizerId,
    event_type: EventTypeId,
    check: &LimitCheck,
) -> Result<i64, Failure> {
    let (from, until) = start_bounds(check.starts_within);
    Ok(conn.prepare_cached(sql::COUNT_STARTS)?.query_row(
        params![
            organizer.to_string(),
            event_type.to_string(),
            from,
            until,
            i64::from(check.max)
        ],
        |r| r.get(0),
    )?)
}

/// Stored starts are whole microseconds, so `range.start <= t` is
/// `t >= ceil(range.start)` and `t < range.end` is `t < ceil(range.end)`.
fn start_bounds(range: TimeRange) -> (i64, i64) {
    (micros_ceil(range.start()), micros_ceil(range.end()))
}

/// Occupied intervals of the organizer's active bookings overlapping
/// `range`, ordered by start (then end). Stored bounds are whole
/// microseconds, so `occupied_end > start` is `occupied_end > floor(start)`
/// and `occupied_start < end` is `occupied_start < ceil(end)`.
pub(crate) fn occupied(
    conn: &Connection,
    organizer: OrganizerId,
    range: TimeRange,
) -> Result<Vec<TimeRange>, Failure> {
    let start = micros_floor(range.start());
    let mut stmt = conn.prepare_cached(sql::OCCUPIED_IN_RANGE)?;
    let rows = stmt.query_map(
        params![
            organizer.to_string(),
            start,
            micros_ceil(range.end()),
            lowest_overlapping_start(start)
        ],
        |row| Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?)),
    )?;
    let mut occupied = Vec::new();
    for row in rows {
        let (start, end) = row?;
        occupied.push(
            TimeRange::new(
                read_instant("occupied_start", start)?,
                read_instant("occupied_end", end)?,
            )
            .map_err(|e| corrupt(format!("occupied interval: {e}")))?,
        );
    }
    Ok(occupied)
}

/// Starts of the active bookings of `event_type` starting in `range`,
/// ascending.
pub(crate) fn booked_starts(
    conn: &Connection,
    organizer: OrganizerId,
    event_type: EventTypeId,
    range: TimeRange,
) -> Result<Vec<DateTime<Utc>>, Failure> {
    let (from, until) = start_bounds(range);
    let mut stmt = conn.prepare_cached(sql::BOOKED_STARTS)?;
    let rows = stmt.query_map(
        params![organizer.to_string(), event_type.to_string(), from, until],
        |row| row.get::<_, i64>(0),
    )?;
    let mut starts = Vec::new();
    for row in rows {
        starts.push(read_instant("start_time", row?)?);
    }
    Ok(starts)
}

pub(crate) fn by_id(conn: &Connection, id: BookingId) -> Result<Option<Booking>, Failure> {
    conn.prepare_cached(sql::BOOKING_BY_ID)?
        .query_row([id.to_string()], BookingRow::read)
        .optional()?
        .map(BookingRow::into_booking)
        .transpose()
}

/// A page and the total, in one read transaction the caller opened.
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
    let total: i64 = conn
        .prepare_cached(sql::COUNT_ACTIVE)?
        .query_row(params![id, from, until], |row| row.get(0))?;
    let mut stmt = conn.prepare_cached(sql::PAGE_ACTIVE)?;
    let rows = stmt.query_map(params![id, from, until, limit, offset], BookingRow::read)?;
    let mut bookings = Vec::new();
    for row in rows {
        bookings.push(row?.into_booking()?);
    }
    let total = u64::try_from(total).map_err(|_| corrupt(format!("negative count {total}")))?;
    Ok(BookingPage { bookings, total })
}

/// One `UPDATE ... WHERE deleted_at IS NULL RETURNING ...` inside the
/// caller's `BEGIN IMMEDIATE` transaction; when it changes nothing, the same
/// transaction tells a missing booking from a cancelled one.
pub(crate) fn cancel(
    tx: &Connection,
    id: BookingId,
    at: DateTime<Utc>,
) -> Result<Booking, Failure> {
    let key = id.to_string();
    let cancelled = tx
        .prepare_cached(sql::CANCEL_RETURNING)?
        .query_row(params![key, micros_floor(at)], BookingRow::read)
        .optional()?;
    if let Some(row) = cancelled {
        return row.into_booking();
    }
    let deleted_at: Option<Option<i64>> = tx
        .prepare_cached(sql::DELETED_AT)?
        .query_row([&key], |row| row.get(0))
        .optional()?;
    match deleted_at {
        None => Err(StoreError::BookingNotFound(id).into()),
        Some(Some(micros)) => {
            let cancelled_at = from_micros(micros).ok_or_else(|| {
                corrupt(format!(
                    "booking {id}: deleted_at = {micros} is out of range"
                ))
            })?;
            Err(StoreError::AlreadyCancelled { id, cancelled_at }.into())
        }
        Some(None) => Err(corrupt(format!(
            "booking {id} is active but could not be cancelled"
        ))),
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
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone as _};
    use rusqlite::StatementStatus;

    #[test]
    fn the_longest_occupied_interval_is_three_days_as_the_schema_says() {
        assert_eq!(
            Duration::microseconds(max_occupied_micros()),
            Duration::hours(72)
        );
        let schema = crate::migrations::MIGRATIONS
            .iter()
            .map(|m| m.sql)
            .collect::<String>();
        assert!(
            schema.contains(&format!(
                "CHECK (occupied_end - occupied_start <= {})",
                max_occupied_micros()
            )),
            "the schema's check and the query bound must agree"
        );
    }

    /// One hour, in microseconds.
    const HOUR_US: i64 = 3_600 * MICROS_PER_SEC;

    /// Issue 17: the overlap check and the occupied-interval read must not
    /// cost more as an organizer's bookings pile up before or after the
    /// range asked about. With 100,000 active bookings after the range (and
    /// as many before it), the plan is a two-sided range scan of the
    /// occupied index, and SQLite's own count of virtual-machine steps stays
    /// that of the handful of bookings near the range, while the same query
    /// without the lower bound walks through every earlier booking.
    #[test]
    fn overlap_queries_scan_a_bounded_index_range_among_200_000_bookings() {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::migrations::migrate(&mut conn).unwrap();
        let organizer = OrganizerId::generate().to_string();
        conn.execute(
            "INSERT INTO organizers (id, username, username_key, email, display_name, time_zone, \
             api_token_hash, created_at) VALUES (?1, 'ada', 'ada', 'a@example.com', 'Ada', 'UTC', ?2, 0)",
            params![organizer, TokenHash::of("ada").to_hex()],
        )
        .unwrap();
        let probe_start = micros_floor(Utc.with_ymd_and_hms(2026, 12, 7, 10, 0, 0).unwrap());
        // One-hour meetings with 15-minute buffers every two hours: 100,000
        // from three days after the probe onwards and 100,000 ending four
        // days before it; plus three near the probe.
        conn.execute(
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 99999)
             INSERT INTO bookings (id, organizer_id, event_type_slug, attendant_name, attendant_email, title,
               start_time, end_time, buffer_before_secs, buffer_after_secs, occupied_start, occupied_end,
               cancel_token_hash, created_at, updated_at)
             SELECT printf('B%025d', i * 2 + side), ?1, 'default', 'x', 'x@example.com', 'x', s, s + ?3,
                    900, 900, s - 900000000, s + ?3 + 900000000, 'h', 0, 0
             FROM (SELECT i, side,
                          CASE side WHEN 0 THEN ?2 + 72 * ?3 + i * 2 * ?3
                                    ELSE ?2 - 96 * ?3 - i * 2 * ?3 END AS s
                   FROM n, (SELECT 0 AS side UNION ALL SELECT 1))",
            params![organizer, probe_start, HOUR_US],
        )
        .unwrap();
        for (id, start_h) in [("N1", -30), ("N2", 2), ("N3", 20)] {
            let s = probe_start + start_h * HOUR_US;
            conn.execute(
                "INSERT INTO bookings (id, organizer_id, event_type_slug, attendant_name, attendant_email, \
                   title, start_time, end_time, occupied_start, occupied_end, cancel_token_hash, created_at, \
                   updated_at) VALUES (?1, ?2, 'default', 'x', 'x', 'x', ?3, ?4, ?3, ?4, 'h', 0, 0)",
                params![id, organizer, s, s + HOUR_US],
            )
            .unwrap();
        }
        conn.execute_batch("ANALYZE").unwrap();
        let total: i64 = conn
            .query_row("SELECT COUNT(*) FROM bookings", [], |r| r.get(0))
            .unwrap();
        assert_eq!(total, 200_003);

        // Probe [10:00, +1 day): overlaps N2 and N3 only.
        let end = probe_start + 24 * HOUR_US;
        let args = params![
            organizer,
            probe_start,
            end,
            lowest_overlapping_start(probe_start)
        ];
        for query in [sql::OVERLAP_EXISTS, sql::OCCUPIED_IN_RANGE] {
            let plan: Vec<String> = conn
                .prepare(&format!("EXPLAIN QUERY PLAN {query}"))
                .unwrap()
                .query_map(args, |r| r.get::<_, String>(3))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            assert!(
                plan.iter().any(|step| step.contains(
                    "COVERING INDEX bookings_active_occupied_start_idx \
                     (organizer_id=? AND occupied_start>? AND occupied_start<?)"
                )),
                "with statistics on 200,003 bookings: {plan:?}"
            );
        }
        let (rows, bounded_steps) = run_counting_steps(&conn, sql::OCCUPIED_IN_RANGE, args);
        assert_eq!(rows, 2, "N2 and N3");
        let (_, exists_steps) = run_counting_steps(&conn, sql::OVERLAP_EXISTS, args);
        assert!(
            bounded_steps < 100 && exists_steps < 100,
            "a bounded scan visits the few bookings near the range: {bounded_steps} and {exists_steps} steps"
        );

        println!("bounded: {bounded_steps} / {exists_steps} VM steps");
        // The same read without the lower bound (the bound is what this
        // test is about: without it the test must see the difference).
        let unbounded = sql::OCCUPIED_IN_RANGE.replace("occupied_start > ?4 AND ", "");
        let (rows, unbounded_steps) =
            run_counting_steps(&conn, &unbounded, params![organizer, probe_start, end]);
        assert_eq!(rows, 2);
        println!("unbounded: {unbounded_steps} VM steps");
        assert!(
            unbounded_steps > 100_000,
            "without the lower bound every earlier booking is visited: {unbounded_steps} steps"
        );
    }

    /// Runs `query` to completion and returns the rows it gave and SQLite's
    /// count of virtual-machine steps (a measure of work, not of time).
    fn run_counting_steps(
        conn: &Connection,
        query: &str,
        args: impl rusqlite::Params,
    ) -> (usize, i32) {
        let mut stmt = conn.prepare(query).unwrap();
        let rows = stmt.query_map(args, |_| Ok(())).unwrap().count();
        (rows, stmt.get_status(StatementStatus::VmStep))
    }
}
