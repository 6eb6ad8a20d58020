//! Every SQL statement the store runs, as constants, so they are prepared
//! (and cached per connection) without formatting, and can be checked
//! against the schema and the query planner in one place.

/// The `organizers` columns read into an `OrganizerRow`, in its order.
macro_rules! organizer_columns {
    () => {
        "id, username, email, display_name, time_zone, api_token_hash, created_at, config_version"
    };
}

/// The `schedules` columns read into a `ScheduleRow`, in its order.
macro_rules! schedule_columns {
    () => {
        "organizer_id, id, name, time_zone, weekly_hours, date_overrides, is_default"
    };
}

/// The `event_types` columns read into an `EventTypeRow`, in its order.
macro_rules! event_type_columns {
    () => {
        "organizer_id, id, slug, title, description, duration_secs, duration_options, slot_step_secs, \
         buffer_before_secs, buffer_after_secs, min_notice_secs, window_kind, window_horizon_secs, window_days, \
         window_first, window_last, limit_per_day, limit_per_week, week_starts_on, schedule_id, location, active, \
         hold_duration_secs"
    };
}

/// The `bookings` columns read into a `BookingRow`, in its order.
macro_rules! booking_columns {
    () => {
        "id, organizer_id, event_type_id, event_type_slug, attendant_name, attendant_email, metadata, title, \
         description, start_time, end_time, buffer_before_secs, buffer_after_secs, cancel_token_hash, created_at, \
         updated_at, deleted_at, sequence, rescheduled_from_start, rescheduled_from_end"
    };
}

/// The `holds` columns read into a `HoldRow`, in its order.
macro_rules! hold_columns {
    () => {
        "id, organizer_id, event_type_id, start_time, end_time, buffer_before_secs, buffer_after_secs, token_hash, \
         client, created_at, expires_at"
    };
}

/// The `booking_events` columns read into a `StoredEvent`, in its order.
macro_rules! event_columns {
    () => {
        "seq, id, organizer_id, booking_id, kind, occurred_at, payload"
    };
}

/// The `jobs` columns read into a `JobRow`, in its order.
macro_rules! job_columns {
    () => {
        "seq, id, queue, organizer_id, event_id, booking_id, target, payload, status, attempts, run_at, last_error, \
         last_status, created_at, updated_at"
    };
}

/// The `records` columns read into a `RecordRow`, in its order.
macro_rules! record_columns {
    () => {
        "kind, id, organizer_id, lookup, data, created_at, expires_at"
    };
}

// ---------------------------------------------------------------- organizers

pub(crate) const ORGANIZER_BY_ID: &str = concat!(
    "SELECT ",
    organizer_columns!(),
    " FROM organizers WHERE id = ?1"
);
/// The exact spelling `?1` if an organizer has it, else the one whose
/// username key is `?2` (the ASCII-lowercased name).
pub(crate) const ORGANIZER_BY_USERNAME: &str = concat!(
    "SELECT ",
    organizer_columns!(),
    " FROM organizers WHERE username = ?1 OR username_key = ?2 ORDER BY username = ?1 DESC LIMIT 1"
);
pub(crate) const ORGANIZER_BY_TOKEN_HASH: &str = concat!(
    "SELECT ",
    organizer_columns!(),
    " FROM organizers WHERE api_token_hash = ?1"
);
pub(crate) const USERNAME_KEY_TAKEN: &str =
    "SELECT EXISTS (SELECT 1 FROM organizers WHERE username_key = ?1)";
pub(crate) const INSERT_ORGANIZER: &str = "INSERT INTO organizers \
     (id, username, username_key, email, display_name, time_zone, api_token_hash, created_at, config_version) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0)";
pub(crate) const ORGANIZER_EXISTS: &str = "SELECT EXISTS (SELECT 1 FROM organizers WHERE id = ?1)";
/// Token rotation: the unique index on `api_token_hash` keeps lookups exact.
pub(crate) const SET_API_TOKEN_HASH: &str =
    "UPDATE organizers SET api_token_hash = ?2 WHERE id = ?1";
pub(crate) const CONFIG_VERSION: &str = "SELECT config_version FROM organizers WHERE id = ?1";
/// The compare-and-set of `update_config`: one row changed means the
/// version was still `?2`, and it is now `?2 + 1`.
pub(crate) const BUMP_CONFIG_VERSION: &str = "UPDATE organizers SET config_version = config_version + 1 \
     WHERE id = ?1 AND config_version = ?2";

// ----------------------------------------------------------------- schedules

pub(crate) const SCHEDULES_OF: &str = concat!(
    "SELECT ",
    schedule_columns!(),
    " FROM schedules WHERE organizer_id = ?1 ORDER BY id"
);
pub(crate) const SCHEDULE_BY_ID: &str = concat!(
    "SELECT ",
    schedule_columns!(),
    " FROM schedules WHERE organizer_id = ?1 AND id = ?2"
);
pub(crate) const DEFAULT_SCHEDULE: &str = concat!(
    "SELECT ",
    schedule_columns!(),
    " FROM schedules WHERE organizer_id = ?1 AND is_default = 1"
);
pub(crate) const UPSERT_SCHEDULE: &str = concat!(
    "INSERT INTO schedules (",
    schedule_columns!(),
    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
     ON CONFLICT (organizer_id, id) DO UPDATE SET \
       name = excluded.name, time_zone = excluded.time_zone, weekly_hours = excluded.weekly_hours, \
       date_overrides = excluded.date_overrides, is_default = excluded.is_default"
);
pub(crate) const DELETE_SCHEDULE: &str =
    "DELETE FROM schedules WHERE organizer_id = ?1 AND id = ?2";

// --------------------------------------------------------------- event types

pub(crate) const EVENT_TYPES_OF: &str = concat!(
    "SELECT ",
    event_type_columns!(),
    " FROM event_types WHERE organizer_id = ?1 ORDER BY id"
);
pub(crate) const EVENT_TYPE_BY_SLUG: &str = concat!(
    "SELECT ",
    event_type_columns!(),
    " FROM event_types WHERE organizer_id = ?1 AND slug = ?2"
);
pub(crate) const UPSERT_EVENT_TYPE: &str = concat!(
    "INSERT INTO event_types (",
    event_type_columns!(),
    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23) \
     ON CONFLICT (organizer_id, id) DO UPDATE SET \
       slug = excluded.slug, title = excluded.title, description = excluded.description, \
       duration_secs = excluded.duration_secs, duration_options = excluded.duration_options, \
       slot_step_secs = excluded.slot_step_secs, buffer_before_secs = excluded.buffer_before_secs, \
       buffer_after_secs = excluded.buffer_after_secs, min_notice_secs = excluded.min_notice_secs, \
       window_kind = excluded.window_kind, window_horizon_secs = excluded.window_horizon_secs, \
       window_days = excluded.window_days, window_first = excluded.window_first, \
       window_last = excluded.window_last, limit_per_day = excluded.limit_per_day, \
       limit_per_week = excluded.limit_per_week, week_starts_on = excluded.week_starts_on, \
       schedule_id = excluded.schedule_id, location = excluded.location, active = excluded.active, \
       hold_duration_secs = excluded.hold_duration_secs"
);
/// The `event_types_keep_bookings` trigger detaches its bookings first.
pub(crate) const DELETE_EVENT_TYPE: &str =
    "DELETE FROM event_types WHERE organizer_id = ?1 AND id = ?2";

// ------------------------------------------------------------------ bookings

/// Whether organizer `?1` exists, whether its event type `?2` does,
/// whether its hold `?3` is unexpired at `?4` (false when `?3` is NULL), and
/// the organizer's configuration version (NULL without the organizer).
pub(crate) const BOOKING_TARGETS: &str = "SELECT EXISTS (SELECT 1 FROM organizers WHERE id = ?1), \
     EXISTS (SELECT 1 FROM event_types WHERE organizer_id = ?1 AND id = ?2), \
     EXISTS (SELECT 1 FROM holds WHERE id = ?3 AND organizer_id = ?1 AND expires_at > ?4), \
     (SELECT config_version FROM organizers WHERE id = ?1)";

/// THE check: does an active booking or a hold unexpired at `?6` of
/// organizer `?1` occupy any of `[?2, ?3)`? `?4` is `?2` minus the longest
/// occupied interval, so both index scans are bounded on both sides:
/// `occupied_start` in `(?4, ?3)`. `?5` is the rowid of a booking to skip
/// (the one being moved) and `?7` the id of a hold to skip (the one a
/// booking replaces); NULL skips nothing. Both are in their index, so the
/// check never reads a table row.
pub(crate) const OVERLAP_EXISTS: &str = "SELECT EXISTS (SELECT 1 FROM bookings \
       WHERE organizer_id = ?1 AND deleted_at IS NULL \
         AND occupied_start > ?4 AND occupied_start < ?3 AND occupied_end > ?2 AND rowid IS NOT ?5) \
     OR EXISTS (SELECT 1 FROM holds \
       WHERE organizer_id = ?1 AND occupied_start > ?4 AND occupied_start < ?3 AND occupied_end > ?2 \
         AND expires_at > ?6 AND id IS NOT ?7)";
/// The occupied intervals of active bookings and of holds unexpired at
/// `?5` overlapping `[?2, ?3)`, bounded as [`OVERLAP_EXISTS`], ordered by
/// start then end (each side in index order, merged).
pub(crate) const OCCUPIED_IN_RANGE: &str = "SELECT occupied_start, occupied_end FROM bookings \
     WHERE organizer_id = ?1 AND deleted_at IS NULL \
       AND occupied_start > ?4 AND occupied_start < ?3 AND occupied_end > ?2 \
     UNION ALL \
     SELECT occupied_start, occupied_end FROM holds \
     WHERE organizer_id = ?1 AND occupied_start > ?4 AND occupied_start < ?3 AND occupied_end > ?2 \
       AND expires_at > ?5 \
     ORDER BY 1, 2";
/// How many active bookings and holds unexpired at `?7` of event type `?2`
/// start in `[?3, ?4)`, each side counted no further than `?5` (the limit:
/// the check only needs to know whether it is reached). `?6` (a booking's
/// rowid) and `?8` (a hold's id) are skipped, as in [`OVERLAP_EXISTS`].
pub(crate) const COUNT_STARTS: &str = "SELECT \
       (SELECT COUNT(*) FROM (SELECT 1 FROM bookings \
         WHERE organizer_id = ?1 AND event_type_id = ?2 AND deleted_at IS NULL \
           AND start_time >= ?3 AND start_time < ?4 AND rowid IS NOT ?6 LIMIT ?5)) \
     + (SELECT COUNT(*) FROM (SELECT 1 FROM holds \
         WHERE organizer_id = ?1 AND event_type_id = ?2 AND start_time >= ?3 AND start_time < ?4 \
           AND expires_at > ?7 AND id IS NOT ?8 LIMIT ?5))";
/// Starts of event type `?2`'s active bookings and holds unexpired at `?5`
/// in `[?3, ?4)`, ascending.
pub(crate) const BOOKED_STARTS: &str = "SELECT start_time FROM bookings \
     WHERE organizer_id = ?1 AND event_type_id = ?2 AND deleted_at IS NULL \
       AND start_time >= ?3 AND start_time < ?4 \
     UNION ALL \
     SELECT start_time FROM holds \
     WHERE organizer_id = ?1 AND event_type_id = ?2 AND start_time >= ?3 AND start_time < ?4 \
       AND expires_at > ?5 \
     ORDER BY 1";
pub(crate) const INSERT_BOOKING: &str = concat!(
    "INSERT INTO bookings (",
    booking_columns!(),
    ", occupied_start, occupied_end) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?15, NULL, 0, NULL, NULL, ?16, ?17)"
);
pub(crate) const BOOKING_BY_ID: &str = concat!(
    "SELECT ",
    booking_columns!(),
    " FROM bookings WHERE id = ?1"
);
/// Active bookings of organizer `?1` starting in `[?2, ?3)`.
pub(crate) const COUNT_ACTIVE: &str = "SELECT COUNT(*) FROM bookings \
     WHERE organizer_id = ?1 AND deleted_at IS NULL AND start_time >= ?2 AND start_time < ?3";
/// A page of them, `?4` long from `?5`.
pub(crate) const PAGE_ACTIVE: &str = concat!(
    "SELECT ",
    booking_columns!(),
    " FROM bookings \
     WHERE organizer_id = ?1 AND deleted_at IS NULL AND start_time >= ?2 AND start_time < ?3 \
     ORDER BY start_time, id LIMIT ?4 OFFSET ?5"
);
/// Active bookings and those cancelled at or after `?4`, starting in
/// `[?2, ?3)` (calendar feeds show recent cancellations).
pub(crate) const COUNT_LISTED: &str = "SELECT COUNT(*) FROM bookings \
     WHERE organizer_id = ?1 AND start_time >= ?2 AND start_time < ?3 \
       AND (deleted_at IS NULL OR deleted_at >= ?4)";
/// A page of them, `?5` long from `?6`.
pub(crate) const PAGE_LISTED: &str = concat!(
    "SELECT ",
    booking_columns!(),
    " FROM bookings \
     WHERE organizer_id = ?1 AND start_time >= ?2 AND start_time < ?3 \
       AND (deleted_at IS NULL OR deleted_at >= ?4) \
     ORDER BY start_time, id LIMIT ?5 OFFSET ?6"
);
/// What a reschedule checks before it moves booking `?1`: its rowid (to
/// skip it in the overlap and limit checks), organizer, event type,
/// cancellation and sequence.
pub(crate) const BOOKING_TO_MOVE: &str = "SELECT rowid, organizer_id, event_type_id, deleted_at, sequence \
     FROM bookings WHERE id = ?1";
/// The move itself: SQLite evaluates every `SET` expression on the row as
/// it was, so `rescheduled_from_*` receive the old times.
pub(crate) const MOVE_BOOKING: &str = concat!(
    "UPDATE bookings SET rescheduled_from_start = start_time, rescheduled_from_end = end_time, \
       start_time = ?2, end_time = ?3, buffer_before_secs = ?4, buffer_after_secs = ?5, \
       occupied_start = ?6, occupied_end = ?7, updated_at = ?8, sequence = sequence + 1 \
     WHERE rowid = ?1 RETURNING ",
    booking_columns!()
);
/// Cancels booking `?1` of organizer `?2` at `?3` if it is active and, when
/// `?4` is not NULL, still at sequence `?4`. A booking of another organizer
/// is not found, as in every store.
pub(crate) const CANCEL_RETURNING: &str = concat!(
    "UPDATE bookings SET deleted_at = ?3, updated_at = ?3, sequence = sequence + 1 \
     WHERE id = ?1 AND organizer_id = ?2 AND deleted_at IS NULL \
       AND (?4 IS NULL OR sequence = ?4) RETURNING ",
    booking_columns!()
);
/// Why a cancellation of booking `?1` of organizer `?2` changed nothing:
/// missing (or another organizer's), cancelled, or moved on.
pub(crate) const CANCEL_STATE: &str =
    "SELECT deleted_at, sequence FROM bookings WHERE id = ?1 AND organizer_id = ?2";

// --------------------------------------------------------------------- holds

pub(crate) const INSERT_HOLD: &str = concat!(
    "INSERT INTO holds (",
    hold_columns!(),
    ", occupied_start, occupied_end) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
);
/// How many holds unexpired at `?3` client `?2` keeps on organizer `?1`,
/// counted no further than the cap `?4`.
pub(crate) const CLIENT_HOLDS: &str = "SELECT COUNT(*) FROM (SELECT 1 FROM holds \
     WHERE organizer_id = ?1 AND client = ?2 AND expires_at > ?3 LIMIT ?4)";
/// A global lookup (the visitor has only the token); the newest hold if
/// several share a hash.
pub(crate) const HOLD_BY_TOKEN_HASH: &str = concat!(
    "SELECT ",
    hold_columns!(),
    " FROM holds WHERE token_hash = ?1 ORDER BY id DESC LIMIT 1"
);
pub(crate) const RELEASE_HOLD: &str =
    "DELETE FROM holds WHERE id = ?1 AND token_hash = ?2 AND expires_at > ?3";
/// Ends the hold a booking replaces, in the booking's transaction.
pub(crate) const END_HOLD: &str = "DELETE FROM holds WHERE id = ?1";
pub(crate) const PURGE_HOLDS: &str = "DELETE FROM holds WHERE expires_at <= ?1";

// ---------------------------------------------------------- idempotency keys

/// The claim, in one statement: a new key is inserted; an existing one is
/// taken over only when it expired (a fresh record) or when it is still
/// pending with the same fingerprint and was claimed before the stale limit
/// `?7` (the claim's time moves, its expiry stays). A row comes back exactly
/// when the caller now holds the key.
pub(crate) const CLAIM_KEY: &str = "INSERT INTO idempotency_keys \
       (organizer_id, operation, key_hash, fingerprint, claimed_at, outcome, expires_at) \
     VALUES (?1, ?2, ?3, ?4, ?5, NULL, ?6) \
     ON CONFLICT (organizer_id, operation, key_hash) DO UPDATE SET \
       fingerprint = excluded.fingerprint, claimed_at = excluded.claimed_at, outcome = NULL, \
       expires_at = CASE WHEN idempotency_keys.expires_at <= excluded.claimed_at \
                         THEN excluded.expires_at ELSE idempotency_keys.expires_at END \
     WHERE idempotency_keys.expires_at <= excluded.claimed_at \
        OR (idempotency_keys.outcome IS NULL AND idempotency_keys.fingerprint = excluded.fingerprint \
            AND idempotency_keys.claimed_at < ?7) \
     RETURNING 1";
/// What a claim that did not take the key found.
pub(crate) const KEY_STATE: &str = "SELECT fingerprint, outcome FROM idempotency_keys \
     WHERE organizer_id = ?1 AND operation = ?2 AND key_hash = ?3";
pub(crate) const COMPLETE_KEY: &str = "UPDATE idempotency_keys SET outcome = ?4 \
     WHERE organizer_id = ?1 AND operation = ?2 AND key_hash = ?3";
/// Forgets a pending claim; a finished one stays.
pub(crate) const ABANDON_KEY: &str = "DELETE FROM idempotency_keys \
     WHERE organizer_id = ?1 AND operation = ?2 AND key_hash = ?3 AND outcome IS NULL";
pub(crate) const PURGE_KEYS: &str = "DELETE FROM idempotency_keys WHERE expires_at <= ?1";

// -------------------------------------------------------------------- outbox

pub(crate) const INSERT_EVENT: &str = "INSERT INTO booking_events \
     (id, organizer_id, booking_id, kind, occurred_at, payload) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
pub(crate) const EVENTS_AFTER: &str = concat!(
    "SELECT ",
    event_columns!(),
    " FROM booking_events WHERE seq > ?1 ORDER BY seq LIMIT ?2"
);
pub(crate) const UNDISPATCHED_EVENTS: &str = concat!(
    "SELECT ",
    event_columns!(),
    " FROM booking_events WHERE dispatched = 0 ORDER BY seq LIMIT ?1"
);
pub(crate) const MARK_DISPATCHED: &str =
    "UPDATE booking_events SET dispatched = 1 WHERE id = ?1 AND dispatched = 0";
/// A job, unless its queue already has one for this event and target.
pub(crate) const INSERT_JOB: &str = "INSERT INTO jobs \
       (id, queue, organizer_id, event_id, booking_id, target, payload, run_at, created_at, updated_at) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?8) \
     ON CONFLICT (queue, event_id, target) DO NOTHING";
/// The claim, in one statement inside the write transaction: up to `?4`
/// pending jobs of queue `?1` due at `?2` whose lease (if any) ended, in
/// enqueue order, skipping any job behind an older pending job of its
/// booking and target; each gets one more attempt and the lease `?3`.
pub(crate) const CLAIM_JOBS: &str = concat!(
    "UPDATE jobs SET attempts = attempts + 1, lease_until = ?3, updated_at = ?2 \
     WHERE seq IN (SELECT j.seq FROM jobs j \
       WHERE j.queue = ?1 AND j.status = 'pending' AND j.run_at <= ?2 \
         AND (j.lease_until IS NULL OR j.lease_until <= ?2) \
         AND NOT EXISTS (SELECT 1 FROM jobs e \
           WHERE e.queue = j.queue AND e.booking_id = j.booking_id AND e.target = j.target \
             AND e.status = 'pending' AND e.seq < j.seq) \
       ORDER BY j.seq LIMIT ?4) \
     RETURNING ",
    job_columns!()
);
/// An attempt's outcome: the new status, when the job runs next (or
/// finished), the error and status; the lease ends.
pub(crate) const FINISH_JOB: &str = "UPDATE jobs SET status = ?2, run_at = ?3, last_error = ?4, \
       last_status = ?5, lease_until = NULL, updated_at = ?6 \
     WHERE id = ?1";
pub(crate) const JOBS_OF: &str = concat!(
    "SELECT ",
    job_columns!(),
    " FROM jobs WHERE organizer_id = ?1 AND queue = ?2 AND (?3 IS NULL OR target = ?3) \
     ORDER BY seq DESC LIMIT ?4"
);

// ------------------------------------------------------------------- records

pub(crate) const UPSERT_RECORD: &str = concat!(
    "INSERT INTO records (",
    record_columns!(),
    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
     ON CONFLICT (kind, id) DO UPDATE SET organizer_id = excluded.organizer_id, lookup = excluded.lookup, \
       data = excluded.data, created_at = excluded.created_at, expires_at = excluded.expires_at"
);
pub(crate) const RECORD_BY_ID: &str = concat!(
    "SELECT ",
    record_columns!(),
    " FROM records WHERE kind = ?1 AND id = ?2"
);
/// A global lookup by the record's unique key, unless expired at `?3`.
pub(crate) const RECORD_BY_LOOKUP: &str = concat!(
    "SELECT ",
    record_columns!(),
    " FROM records WHERE kind = ?1 AND lookup = ?2 AND (expires_at IS NULL OR expires_at > ?3)"
);
pub(crate) const RECORDS_OF: &str = concat!(
    "SELECT ",
    record_columns!(),
    " FROM records WHERE organizer_id = ?1 AND kind = ?2 AND (expires_at IS NULL OR expires_at > ?3) \
     ORDER BY created_at, id"
);
pub(crate) const DELETE_RECORD: &str = "DELETE FROM records WHERE kind = ?1 AND id = ?2";

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    use super::*;
    use crate::migrations::migrate;

    const ALL: &[&str] = &[
        ORGANIZER_BY_ID,
        ORGANIZER_BY_USERNAME,
        ORGANIZER_BY_TOKEN_HASH,
        USERNAME_KEY_TAKEN,
        INSERT_ORGANIZER,
        CONFIG_VERSION,
        BUMP_CONFIG_VERSION,
        SCHEDULES_OF,
        SCHEDULE_BY_ID,
        DEFAULT_SCHEDULE,
        UPSERT_SCHEDULE,
        DELETE_SCHEDULE,
        EVENT_TYPES_OF,
        EVENT_TYPE_BY_SLUG,
        UPSERT_EVENT_TYPE,
        DELETE_EVENT_TYPE,
        BOOKING_TARGETS,
        OVERLAP_EXISTS,
        OCCUPIED_IN_RANGE,
        COUNT_STARTS,
        BOOKED_STARTS,
        INSERT_BOOKING,
        BOOKING_BY_ID,
        COUNT_ACTIVE,
        PAGE_ACTIVE,
        COUNT_LISTED,
        PAGE_LISTED,
        BOOKING_TO_MOVE,
        MOVE_BOOKING,
        CANCEL_RETURNING,
        CANCEL_STATE,
        ORGANIZER_EXISTS,
        SET_API_TOKEN_HASH,
        INSERT_HOLD,
        CLIENT_HOLDS,
        HOLD_BY_TOKEN_HASH,
        RELEASE_HOLD,
        END_HOLD,
        PURGE_HOLDS,
        CLAIM_KEY,
        KEY_STATE,
        COMPLETE_KEY,
        ABANDON_KEY,
        PURGE_KEYS,
        INSERT_EVENT,
        EVENTS_AFTER,
        UNDISPATCHED_EVENTS,
        MARK_DISPATCHED,
        INSERT_JOB,
        CLAIM_JOBS,
        FINISH_JOB,
        JOBS_OF,
        UPSERT_RECORD,
        RECORD_BY_ID,
        RECORD_BY_LOOKUP,
        RECORDS_OF,
        DELETE_RECORD,
    ];

    fn migrated() -> Connection {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        conn
    }

    /// The planner's description of `sql`, one line per step.
    fn plan(conn: &Connection, sql: &str) -> String {
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let count = stmt.parameter_count();
        let params: Vec<i64> = vec![0; count];
        let rows = stmt
            .query_map(rusqlite::params_from_iter(params), |row| {
                row.get::<_, String>(3)
            })
            .unwrap();
        rows.map(Result::unwrap).collect::<Vec<_>>().join("\n")
    }

    #[test]
    fn every_statement_prepares_against_the_schema() {
        let conn = migrated();
        for sql in ALL {
            conn.prepare(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
    }

    #[test]
    fn the_overlap_check_range_scans_the_active_occupied_index_on_both_sides() {
        let conn = migrated();
        for sql in [OVERLAP_EXISTS, OCCUPIED_IN_RANGE] {
            let plan = plan(&conn, sql);
            for index in [
                "bookings_active_occupied_start_idx",
                "holds_occupied_start_idx",
            ] {
                assert!(
                    plan.contains(&format!(
                        "COVERING INDEX {index} \
                         (organizer_id=? AND occupied_start>? AND occupied_start<?)"
                    )),
                    "{sql}\n{plan}"
                );
            }
            assert!(!plan.contains("TEMP B-TREE"), "no sort step: {plan}");
        }
        assert!(
            plan(&conn, OCCUPIED_IN_RANGE).contains("MERGE (UNION ALL)"),
            "bookings and holds come merged in order"
        );
    }

    #[test]
    fn limits_count_through_the_event_type_index() {
        let conn = migrated();
        for sql in [COUNT_STARTS, BOOKED_STARTS] {
            let plan = plan(&conn, sql);
            for index in [
                "bookings_event_type_start_idx",
                "holds_event_type_start_idx",
            ] {
                assert!(
                    plan.contains(&format!(
                        "COVERING INDEX {index} \
                         (organizer_id=? AND event_type_id=? AND start_time>? AND start_time<?)"
                    )),
                    "{sql}\n{plan}"
                );
            }
            assert!(!plan.contains("TEMP B-TREE"), "no sort step: {plan}");
        }
    }

    #[test]
    fn holds_keys_the_outbox_and_records_read_through_their_indexes() {
        let conn = migrated();
        for (sql, step) in [
            (
                CLIENT_HOLDS,
                "COVERING INDEX holds_client_idx (organizer_id=? AND client=? AND expires_at>?)",
            ),
            (
                HOLD_BY_TOKEN_HASH,
                "INDEX holds_token_hash_idx (token_hash=?)",
            ),
            (PURGE_HOLDS, "INDEX holds_expires_idx (expires_at<?)"),
            (
                PURGE_KEYS,
                "INDEX idempotency_keys_expires_idx (expires_at<?)",
            ),
            (
                KEY_STATE,
                "PRIMARY KEY (organizer_id=? AND operation=? AND key_hash=?)",
            ),
            (UNDISPATCHED_EVENTS, "INDEX booking_events_undispatched_idx"),
            (EVENTS_AFTER, "INTEGER PRIMARY KEY (rowid>?)"),
            (CLAIM_JOBS, "INDEX jobs_pending_idx (queue=?)"),
            (
                CLAIM_JOBS,
                "COVERING INDEX jobs_pending_line_idx (queue=? AND booking_id=? AND target=? AND seq<?)",
            ),
            (
                JOBS_OF,
                "INDEX jobs_organizer_idx (organizer_id=? AND queue=?)",
            ),
            (
                RECORDS_OF,
                "INDEX records_organizer_idx (organizer_id=? AND kind=?)",
            ),
            (RECORD_BY_LOOKUP, "(kind=? AND lookup=?)"),
        ] {
            let plan = plan(&conn, sql);
            assert!(plan.contains(step), "{sql}\n{plan}");
            assert!(!plan.contains("SCAN holds"), "{plan}");
            assert!(!plan.contains("TEMP B-TREE"), "no sort step: {plan}");
        }
    }

    #[test]
    fn configuration_reads_are_keyed_by_organizer() {
        let conn = migrated();
        for (sql, index) in [
            (
                SCHEDULES_OF,
                "sqlite_autoindex_schedules_1 (organizer_id=?)",
            ),
            (
                SCHEDULE_BY_ID,
                "sqlite_autoindex_schedules_1 (organizer_id=? AND id=?)",
            ),
            (
                DEFAULT_SCHEDULE,
                "schedules_one_default_idx (organizer_id=?)",
            ),
            (
                EVENT_TYPES_OF,
                "sqlite_autoindex_event_types_1 (organizer_id=?)",
            ),
            (
                EVENT_TYPE_BY_SLUG,
                "sqlite_autoindex_event_types_2 (organizer_id=? AND slug=?)",
            ),
        ] {
            let plan = plan(&conn, sql);
            assert!(plan.contains(index), "{sql}\n{plan}");
            assert!(!plan.contains("TEMP B-TREE"), "no sort step: {plan}");
        }
    }

    #[test]
    fn username_lookups_use_both_unique_indexes() {
        let conn = migrated();
        let plan = plan(&conn, ORGANIZER_BY_USERNAME);
        assert!(
            plan.contains("sqlite_autoindex_organizers_2 (username=?)")
                && plan.contains("(username_key=?)"),
            "{plan}"
        );
        assert!(!plan.contains("SCAN organizers"), "{plan}");
    }

    #[test]
    fn pages_come_in_index_order_without_a_sort() {
        let conn = migrated();
        let page = plan(&conn, PAGE_ACTIVE);
        assert!(page.contains("bookings_active_start_idx"), "{page}");
        assert!(!page.contains("TEMP B-TREE"), "no sort step: {page}");
        let count = plan(&conn, COUNT_ACTIVE);
        assert!(
            count.contains("COVERING INDEX bookings_active_start_idx"),
            "{count}"
        );
        // With recent cancellations (feeds): a range of the organizer's
        // start index, sorting only bookings that start at the same instant.
        for sql in [PAGE_LISTED, COUNT_LISTED] {
            let plan = plan(&conn, sql);
            assert!(
                plan.contains(
                    "INDEX bookings_organizer_start_time_idx \
                     (organizer_id=? AND start_time>? AND start_time<?)"
                ),
                "{plan}"
            );
            assert!(!plan.contains("USE TEMP B-TREE FOR ORDER BY"), "{plan}");
        }
    }
}
