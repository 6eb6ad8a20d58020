//! Occupied time, which bookings and holds share: a meeting and its buffers
//! in stored form, the overlap check and the limit counts across both
//! tables, and the bounded reads of occupied intervals and counted starts.
//!
//! Every check here runs inside the caller's `BEGIN IMMEDIATE` transaction
//! (see [`immediate`](crate::connection::immediate)), which holds the
//! database's single write lock from its first statement: what a check
//! reads stays true until the caller's write commits.

use booking_core::booking::LimitCheck;
use booking_core::event_type::MAX_SLOT_LENGTH;
use booking_core::hold::HoldId;
use booking_core::organizer::OrganizerId;
use booking_core::store::StoreError;
use booking_core::time::TimeRange;
use chrono::{DateTime, Duration, Utc};
use rusqlite::{Connection, params};

use crate::convert::{
    MICROS_PER_SEC, buffer_secs, micros_bounds, micros_ceil, micros_floor, read_instant, read_secs,
    stored_instant,
};
use crate::error::{Failure, Unstorable, corrupt};
use crate::sql;

/// The longest occupied interval, in microseconds: a meeting and each of
/// its buffers are at most booking-core's `MAX_SLOT_LENGTH` (24 hours), so
/// 72 hours. The overlap queries rely on it for their lower bound, the
/// schema's `occupied_at_most_72_hours` checks hold it for every booking
/// and hold, and [`Occupancy::new`] refuses a longer one with a clear error.
pub(crate) fn max_occupied_micros() -> i64 {
    3 * MAX_SLOT_LENGTH.num_seconds() * MICROS_PER_SEC
}

/// A meeting and its buffers as stored: the meeting's bounds rounded
/// outward to the microsecond, buffers rounded up to the second, and the
/// occupied interval they give. `time`, `buffer_before` and `buffer_after`
/// are the stored values read back, so what a write returns equals what a
/// later read gives.
pub(crate) struct Occupancy {
    pub(crate) start_us: i64,
    pub(crate) end_us: i64,
    pub(crate) buffer_before_secs: i64,
    pub(crate) buffer_after_secs: i64,
    pub(crate) occupied_start_us: i64,
    pub(crate) occupied_end_us: i64,
    pub(crate) time: TimeRange,
    pub(crate) buffer_before: Duration,
    pub(crate) buffer_after: Duration,
}

impl Occupancy {
    /// The stored form of `time` with these buffers, or
    /// [`Unstorable::OccupiedTooLong`] beyond 72 hours.
    pub(crate) fn new(
        time: TimeRange,
        buffer_before: Duration,
        buffer_after: Duration,
    ) -> Result<Self, Failure> {
        let start_us = micros_floor(time.start());
        let end_us = micros_ceil(time.end());
        let time = TimeRange::new(stored_instant(start_us)?, stored_instant(end_us)?)
            .map_err(|e| Unstorable::OutOfRange(e.to_string()))?;
        let buffer_before_secs = buffer_secs(buffer_before);
        let buffer_after_secs = buffer_secs(buffer_after);
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
        Ok(Occupancy {
            start_us,
            end_us,
            buffer_before_secs,
            buffer_after_secs,
            occupied_start_us,
            occupied_end_us,
            time,
            buffer_before: read_secs("buffer_before_secs", buffer_before_secs)?,
            buffer_after: read_secs("buffer_after_secs", buffer_after_secs)?,
        })
    }
}

/// What a check leaves out: the booking being moved (by rowid, which every
/// index of `bookings` carries, so the check stays index-only) and the hold
/// a booking replaces.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Except {
    pub(crate) booking_rowid: Option<i64>,
    pub(crate) hold: Option<HoldId>,
}

/// The lowest `occupied_start` an interval ending after `start_us` can have.
/// Every stored interval is at most [`max_occupied_micros`] long, so one
/// that ends after `start_us` starts after `start_us - max`: the lower end
/// of the index range the overlap queries scan.
fn lowest_overlapping_start(start_us: i64) -> i64 {
    start_us.saturating_sub(max_occupied_micros())
}

/// Whether an active booking or a hold unexpired at `now_us` of the
/// organizer occupies any of `occupancy`'s interval, apart from `except`:
/// one statement over both tables' occupied indexes.
pub(crate) fn is_taken(
    tx: &Connection,
    organizer: &str,
    occupancy: &Occupancy,
    now_us: i64,
    except: Except,
) -> Result<bool, Failure> {
    Ok(tx.prepare_cached(sql::OVERLAP_EXISTS)?.query_row(
        params![
            organizer,
            occupancy.occupied_start_us,
            occupancy.occupied_end_us,
            lowest_overlapping_start(occupancy.occupied_start_us),
            except.booking_rowid,
            now_us,
            except.hold.map(|id| id.to_string()),
        ],
        |r| r.get(0),
    )?)
}

/// Refuses with [`StoreError::LimitReached`] the first check whose range
/// already holds `max` active bookings and unexpired holds of the event
/// type (apart from `except`), counted up to the limit through the event
/// type indexes. No statement at all when there are no checks.
pub(crate) fn check_limits(
    tx: &Connection,
    organizer: &str,
    event_type: &str,
    limits: &[LimitCheck],
    now_us: i64,
    except: Except,
) -> Result<(), Failure> {
    for check in limits {
        let (from, until) = start_bounds(check.starts_within);
        let counted: i64 = tx.prepare_cached(sql::COUNT_STARTS)?.query_row(
            params![
                organizer,
                event_type,
                from,
                until,
                i64::from(check.max),
                except.booking_rowid,
                now_us,
                except.hold.map(|id| id.to_string()),
            ],
            |r| r.get(0),
        )?;
        if counted >= i64::from(check.max) {
            return Err(StoreError::LimitReached(check.period).into());
        }
    }
    Ok(())
}

/// Stored starts are whole microseconds, so `range.start <= t` is
/// `t >= ceil(range.start)` and `t < range.end` is `t < ceil(range.end)`.
pub(crate) fn start_bounds(range: TimeRange) -> (i64, i64) {
    (micros_ceil(range.start()), micros_ceil(range.end()))
}

/// Occupied intervals of the organizer's active bookings and holds
/// unexpired at `now` overlapping `range`, ordered by start (then end).
/// Stored bounds are whole microseconds, so `occupied_end > start` is
/// `occupied_end > floor(start)` and `occupied_start < end` is
/// `occupied_start < ceil(end)`; likewise a hold counts at `now` exactly
/// when `expires_at > floor(now)`.
pub(crate) fn occupied(
    conn: &Connection,
    organizer: OrganizerId,
    range: TimeRange,
    now: DateTime<Utc>,
) -> Result<Vec<TimeRange>, Failure> {
    let start = micros_floor(range.start());
    let mut stmt = conn.prepare_cached(sql::OCCUPIED_IN_RANGE)?;
    let rows = stmt.query_map(
        params![
            organizer.to_string(),
            start,
            micros_ceil(range.end()),
            lowest_overlapping_start(start),
            micros_floor(now),
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

/// Starts of the active bookings and unexpired holds of `event_type`
/// starting in `range`, ascending: what its limits count.
pub(crate) fn booked_starts(
    conn: &Connection,
    organizer: OrganizerId,
    event_type: &str,
    range: TimeRange,
    now: DateTime<Utc>,
) -> Result<Vec<DateTime<Utc>>, Failure> {
    let (from, until) = start_bounds(range);
    let mut stmt = conn.prepare_cached(sql::BOOKED_STARTS)?;
    let rows = stmt.query_map(
        params![
            organizer.to_string(),
            event_type,
            from,
            until,
            micros_floor(now)
        ],
        |row| row.get::<_, i64>(0),
    )?;
    let mut starts = Vec::new();
    for row in rows {
        starts.push(read_instant("start_time", row?)?);
    }
    Ok(starts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use booking_core::secret::TokenHash;
    use chrono::TimeZone as _;
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
            schema
                .matches(&format!(
                    "CHECK (occupied_end - occupied_start <= {})",
                    max_occupied_micros()
                ))
                .count()
                >= 2,
            "the schema's checks (bookings and holds) and the query bound must agree"
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
        let lowest = lowest_overlapping_start(probe_start);
        let now = probe_start;
        let read_args = params![organizer, probe_start, end, lowest, now];
        let check_args = params![
            organizer,
            probe_start,
            end,
            lowest,
            None::<i64>,
            now,
            None::<String>
        ];
        for (query, args) in [
            (sql::OVERLAP_EXISTS, check_args),
            (sql::OCCUPIED_IN_RANGE, read_args),
        ] {
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
        let (rows, bounded_steps) = run_counting_steps(&conn, sql::OCCUPIED_IN_RANGE, read_args);
        assert_eq!(rows, 2, "N2 and N3");
        let (_, exists_steps) = run_counting_steps(&conn, sql::OVERLAP_EXISTS, check_args);
        assert!(
            bounded_steps < 100 && exists_steps < 100,
            "a bounded scan visits the few bookings near the range: {bounded_steps} and {exists_steps} steps"
        );

        println!("bounded: {bounded_steps} / {exists_steps} VM steps");
        // The same read without the lower bound (the bound is what this
        // test is about: without it the test must see the difference).
        let unbounded = sql::OCCUPIED_IN_RANGE.replace("occupied_start > ?4 AND ", "");
        let (rows, unbounded_steps) = run_counting_steps(
            &conn,
            &unbounded,
            params![organizer, probe_start, end, 0, now],
        );
        assert_eq!(rows, 2);
        println!("unbounded: {unbounded_steps} VM steps");
        assert!(
            unbounded_steps > 100_000,
            "without the lower bound every earlier booking is visited: {unbounded_steps} steps"
        );
    }

    /// Issue 17, the other reads of a booking: the limit count and the
    /// counted starts of an event type are bounded by the start range on
    /// both sides, so 100,000 of its bookings after the range and 100,000
    /// before it (with statistics, as after `ANALYZE`) cost a handful of
    /// virtual-machine steps, and so does the count when it stops at the
    /// limit.
    #[test]
    fn limit_reads_scan_a_bounded_start_range_among_200_000_bookings() {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::migrations::migrate(&mut conn).unwrap();
        // The event type's row is not what this test reads.
        conn.execute_batch("PRAGMA foreign_keys = OFF").unwrap();
        let organizer = OrganizerId::generate().to_string();
        let event_type = "E1";
        conn.execute(
            "INSERT INTO organizers (id, username, username_key, email, display_name, time_zone, \
             api_token_hash, created_at) VALUES (?1, 'ada', 'ada', 'a@example.com', 'Ada', 'UTC', ?2, 0)",
            params![organizer, TokenHash::of("ada").to_hex()],
        )
        .unwrap();
        let day_start = micros_floor(Utc.with_ymd_and_hms(2026, 12, 7, 0, 0, 0).unwrap());
        // Half-hour meetings every hour of the event type: 100,000 from the
        // next day on and 100,000 ending before the day; and three in it.
        conn.execute(
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 99999)
             INSERT INTO bookings (id, organizer_id, event_type_id, event_type_slug, attendant_name,
               attendant_email, title, start_time, end_time, occupied_start, occupied_end,
               cancel_token_hash, created_at, updated_at)
             SELECT printf('B%025d', i * 2 + side), ?1, ?4, 'default', 'x', 'x@example.com', 'x',
                    s, s + ?3 / 2, s, s + ?3 / 2, 'h', 0, 0
             FROM (SELECT i, side,
                          CASE side WHEN 0 THEN ?2 + 24 * ?3 + i * ?3
                                    ELSE ?2 - (i + 1) * ?3 END AS s
                   FROM n, (SELECT 0 AS side UNION ALL SELECT 1))",
            params![organizer, day_start, HOUR_US, event_type],
        )
        .unwrap();
        for (id, h) in [("N1", 9), ("N2", 11), ("N3", 15)] {
            let s = day_start + h * HOUR_US;
            conn.execute(
                "INSERT INTO bookings (id, organizer_id, event_type_id, event_type_slug, attendant_name, \
                   attendant_email, title, start_time, end_time, occupied_start, occupied_end, \
                   cancel_token_hash, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, 'default', 'x', 'x', 'x', ?4, ?5, ?4, ?5, 'h', 0, 0)",
                params![id, organizer, event_type, s, s + HOUR_US / 2],
            )
            .unwrap();
        }
        conn.execute_batch("ANALYZE").unwrap();

        let day_end = day_start + 24 * HOUR_US;
        let (rows, starts_steps) = run_counting_steps(
            &conn,
            sql::BOOKED_STARTS,
            params![organizer, event_type, day_start, day_end, day_start],
        );
        assert_eq!(rows, 3, "N1, N2 and N3");
        let count_args = |max: i64| {
            let mut stmt = conn.prepare(sql::COUNT_STARTS).unwrap();
            let counted: i64 = stmt
                .query_row(
                    params![
                        organizer,
                        event_type,
                        day_start,
                        day_end,
                        max,
                        None::<i64>,
                        day_start,
                        None::<String>
                    ],
                    |r| r.get(0),
                )
                .unwrap();
            (counted, stmt.get_status(StatementStatus::VmStep))
        };
        let (counted, count_steps) = count_args(10);
        assert_eq!(counted, 3);
        let (capped, _) = count_args(2);
        assert_eq!(capped, 2, "each side stops at the limit");
        println!("limit reads: {starts_steps} / {count_steps} VM steps");
        assert!(
            starts_steps < 200 && count_steps < 200,
            "a bounded scan visits the few bookings in the range: {starts_steps} and {count_steps} steps"
        );
        // The same read with the upper bound dropped walks every later
        // booking (what the bound is for).
        let unbounded = sql::BOOKED_STARTS.replace("AND start_time < ?4", "AND ?4 IS NOT NULL");
        let (rows, unbounded_steps) = run_counting_steps(
            &conn,
            &unbounded,
            params![organizer, event_type, day_start, day_end, day_start],
        );
        assert_eq!(rows, 100_003);
        assert!(unbounded_steps > 100_000, "{unbounded_steps} steps");
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
