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
         window_first, window_last, limit_per_day, limit_per_week, week_starts_on, schedule_id, location, active"
    };
}

/// The `bookings` columns read into a `BookingRow`, in its order.
macro_rules! booking_columns {
    () => {
        "id, organizer_id, event_type_id, event_type_slug, attendant_name, attendant_email, metadata, title, \
         description, start_time, end_time, buffer_before_secs, buffer_after_secs, cancel_token_hash, created_at, \
         updated_at, deleted_at"
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
    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22) \
     ON CONFLICT (organizer_id, id) DO UPDATE SET \
       slug = excluded.slug, title = excluded.title, description = excluded.description, \
       duration_secs = excluded.duration_secs, duration_options = excluded.duration_options, \
       slot_step_secs = excluded.slot_step_secs, buffer_before_secs = excluded.buffer_before_secs, \
       buffer_after_secs = excluded.buffer_after_secs, min_notice_secs = excluded.min_notice_secs, \
       window_kind = excluded.window_kind, window_horizon_secs = excluded.window_horizon_secs, \
       window_days = excluded.window_days, window_first = excluded.window_first, \
       window_last = excluded.window_last, limit_per_day = excluded.limit_per_day, \
       limit_per_week = excluded.limit_per_week, week_starts_on = excluded.week_starts_on, \
       schedule_id = excluded.schedule_id, location = excluded.location, active = excluded.active"
);
/// The `event_types_keep_bookings` trigger detaches its bookings first.
pub(crate) const DELETE_EVENT_TYPE: &str =
    "DELETE FROM event_types WHERE organizer_id = ?1 AND id = ?2";

// ------------------------------------------------------------------ bookings

/// Whether organizer `?1` exists, and whether its event type `?2` does.
pub(crate) const BOOKING_TARGETS: &str = "SELECT EXISTS (SELECT 1 FROM organizers WHERE id = ?1), \
     EXISTS (SELECT 1 FROM event_types WHERE organizer_id = ?1 AND id = ?2)";

/// THE check: does an active booking of organizer `?1` occupy any of
/// `[?2, ?3)`? `?4` is `?2` minus the longest occupied interval, so the scan
/// of `bookings_active_occupied_start_idx` is bounded on both sides:
/// `occupied_start` in `(?4, ?3)`.
pub(crate) const OVERLAP_EXISTS: &str = "SELECT EXISTS (SELECT 1 FROM bookings \
     WHERE organizer_id = ?1 AND deleted_at IS NULL \
       AND occupied_start > ?4 AND occupied_start < ?3 AND occupied_end > ?2)";
/// The occupied intervals overlapping `[?2, ?3)`, bounded as [`OVERLAP_EXISTS`],
/// in index order.
pub(crate) const OCCUPIED_IN_RANGE: &str = "SELECT occupied_start, occupied_end FROM bookings \
     WHERE organizer_id = ?1 AND deleted_at IS NULL \
       AND occupied_start > ?4 AND occupied_start < ?3 AND occupied_end > ?2 \
     ORDER BY occupied_start, occupied_end";
/// How many active bookings of event type `?2` start in `[?3, ?4)`, counting
/// no further than `?5` (the limit): the check only needs to know whether
/// the limit is reached.
pub(crate) const COUNT_STARTS: &str = "SELECT COUNT(*) FROM (SELECT 1 FROM bookings \
     WHERE organizer_id = ?1 AND event_type_id = ?2 AND deleted_at IS NULL \
       AND start_time >= ?3 AND start_time < ?4 LIMIT ?5)";
pub(crate) const BOOKED_STARTS: &str = "SELECT start_time FROM bookings \
     WHERE organizer_id = ?1 AND event_type_id = ?2 AND deleted_at IS NULL \
       AND start_time >= ?3 AND start_time < ?4 \
     ORDER BY start_time";
pub(crate) const INSERT_BOOKING: &str = concat!(
    "INSERT INTO bookings (",
    booking_columns!(),
    ", occupied_start, occupied_end) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?15, NULL, ?16, ?17)"
);
pub(crate) const BOOKING_BY_ID: &str = concat!(
    "SELECT ",
    booking_columns!(),
    " FROM bookings WHERE id = ?1"
);
pub(crate) const COUNT_ACTIVE: &str = "SELECT COUNT(*) FROM bookings \
     WHERE organizer_id = ?1 AND deleted_at IS NULL AND start_time >= ?2 AND start_time < ?3";
pub(crate) const PAGE_ACTIVE: &str = concat!(
    "SELECT ",
    booking_columns!(),
    " FROM bookings \
     WHERE organizer_id = ?1 AND deleted_at IS NULL AND start_time >= ?2 AND start_time < ?3 \
     ORDER BY start_time, id LIMIT ?4 OFFSET ?5"
);
pub(crate) const CANCEL_RETURNING: &str = concat!(
    "UPDATE bookings SET deleted_at = ?2, updated_at = ?2 WHERE id = ?1 AND deleted_at IS NULL RETURNING ",
    booking_columns!()
);
pub(crate) const DELETED_AT: &str = "SELECT deleted_at FROM bookings WHERE id = ?1";

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
        CANCEL_RETURNING,
        DELETED_AT,
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
            assert!(
                plan.contains(
                    "COVERING INDEX bookings_active_occupied_start_idx \
                     (organizer_id=? AND occupied_start>? AND occupied_start<?)"
                ),
                "{sql}\n{plan}"
            );
            assert!(!plan.contains("TEMP B-TREE"), "no sort step: {plan}");
        }
    }

    #[test]
    fn limits_count_through_the_event_type_index() {
        let conn = migrated();
        for sql in [COUNT_STARTS, BOOKED_STARTS] {
            let plan = plan(&conn, sql);
            assert!(
                plan.contains(
                    "COVERING INDEX bookings_event_type_start_idx \
                     (organizer_id=? AND event_type_id=? AND start_time>? AND start_time<?)"
                ),
                "{sql}\n{plan}"
            );
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
    }
}
