//! Every SQL statement the store runs, as constants, so they are prepared
//! (and cached per connection) without formatting, and can be checked
//! against the schema and the query planner in one place.

/// The `bookings` columns read into a `BookingRow`, in its order.
macro_rules! booking_columns {
    () => {
        "id, organizer_id, attendant_name, attendant_email, metadata, title, description, start_time, end_time, \
         buffer_before_secs, buffer_after_secs, cancel_token_hash, created_at, updated_at, deleted_at"
    };
}

/// The `organizers` columns read into an `OrganizerRow`, in its order.
macro_rules! organizer_columns {
    () => {
        "id, username, email, display_name, time_zone, api_token_hash, created_at"
    };
}

/// The `organizer_settings` columns read into a `SettingsRow`, in its order.
macro_rules! settings_columns {
    () => {
        "time_zone, weekly_hours, date_overrides, slot_duration_secs, slot_step_secs, buffer_before_secs, \
         buffer_after_secs, min_notice_secs, max_advance_secs"
    };
}

pub(crate) const ORGANIZER_BY_ID: &str = concat!(
    "SELECT ",
    organizer_columns!(),
    " FROM organizers WHERE id = ?1"
);
pub(crate) const ORGANIZER_BY_USERNAME: &str = concat!(
    "SELECT ",
    organizer_columns!(),
    " FROM organizers WHERE username = ?1"
);
pub(crate) const ORGANIZER_BY_TOKEN_HASH: &str = concat!(
    "SELECT ",
    organizer_columns!(),
    " FROM organizers WHERE api_token_hash = ?1"
);
pub(crate) const ORGANIZER_EXISTS: &str = "SELECT EXISTS (SELECT 1 FROM organizers WHERE id = ?1)";
pub(crate) const USERNAME_TAKEN: &str =
    "SELECT EXISTS (SELECT 1 FROM organizers WHERE username = ?1)";
pub(crate) const INSERT_ORGANIZER: &str = concat!(
    "INSERT INTO organizers (",
    organizer_columns!(),
    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
);

pub(crate) const SETTINGS_OF: &str = concat!(
    "SELECT ",
    settings_columns!(),
    " FROM organizer_settings WHERE organizer_id = ?1"
);
pub(crate) const UPSERT_SETTINGS: &str = concat!(
    "INSERT INTO organizer_settings (organizer_id, ",
    settings_columns!(),
    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) \
     ON CONFLICT (organizer_id) DO UPDATE SET \
       time_zone = excluded.time_zone, weekly_hours = excluded.weekly_hours, \
       date_overrides = excluded.date_overrides, slot_duration_secs = excluded.slot_duration_secs, \
       slot_step_secs = excluded.slot_step_secs, buffer_before_secs = excluded.buffer_before_secs, \
       buffer_after_secs = excluded.buffer_after_secs, min_notice_secs = excluded.min_notice_secs, \
       max_advance_secs = excluded.max_advance_secs"
);

/// THE check: does an active booking of organizer `?1` occupy any of
/// `[?2, ?3)`? Served by `bookings_active_occupied_idx`.
pub(crate) const OVERLAP_EXISTS: &str = "SELECT EXISTS (SELECT 1 FROM bookings \
     WHERE organizer_id = ?1 AND deleted_at IS NULL AND occupied_end > ?2 AND occupied_start < ?3)";
pub(crate) const INSERT_BOOKING: &str = concat!(
    "INSERT INTO bookings (",
    booking_columns!(),
    ", occupied_start, occupied_end) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13, NULL, ?14, ?15)"
);
pub(crate) const BOOKING_BY_ID: &str = concat!(
    "SELECT ",
    booking_columns!(),
    " FROM bookings WHERE id = ?1"
);
pub(crate) const OCCUPIED_IN_RANGE: &str = "SELECT occupied_start, occupied_end FROM bookings \
     WHERE organizer_id = ?1 AND deleted_at IS NULL AND occupied_end > ?2 AND occupied_start < ?3 \
     ORDER BY occupied_start, occupied_end";
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
        ORGANIZER_EXISTS,
        USERNAME_TAKEN,
        INSERT_ORGANIZER,
        SETTINGS_OF,
        UPSERT_SETTINGS,
        OVERLAP_EXISTS,
        INSERT_BOOKING,
        BOOKING_BY_ID,
        OCCUPIED_IN_RANGE,
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
    fn the_overlap_check_reads_only_the_active_occupied_index() {
        let conn = migrated();
        for sql in [OVERLAP_EXISTS, OCCUPIED_IN_RANGE] {
            let plan = plan(&conn, sql);
            assert!(
                plan.contains("bookings_active_occupied_idx (organizer_id=? AND occupied_end>?)"),
                "{sql}\n{plan}"
            );
        }
        assert!(
            plan(&conn, OVERLAP_EXISTS).contains("COVERING INDEX"),
            "never touches the table"
        );
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
