//! Every SQL statement the store runs, in one place (this module and its
//! children, one per concept) to read them together. All are run-time checked
//! (`sqlx::query` with bound parameters); the integration tests run each
//! against a real PostgreSQL.
//!
//! Columns that [`decode`](crate::decode) reads from a row are listed by the
//! `*_columns!` macros, so a statement and the decoder cannot drift apart.
//! Schedules and event types are read with `sc_` and `et_` prefixes, since
//! the hot-path query returns both in one row beside the organizer.
//!
//! Rows of `bookings` are bookings (`status = 'confirmed'`) or holds
//! (`status = 'held'`); every statement says which it reads. "Live" rows
//! are those that occupy time now: not cancelled (`deleted_at IS NULL`) and,
//! for a hold, not expired at the operation's instant.

/// The columns a booking or a hold is read from (a hold uses the first row
/// of them and the last two).
macro_rules! booking_columns {
    () => {
        "id, organizer_id, event_type_id, event_type_slug, attendant_name, attendant_email, \
         metadata, title, description, start_time, end_time, created_at, updated_at, deleted_at, \
         buffer_before, buffer_after, cancel_token_hash, sequence, rescheduled_from_start, \
         rescheduled_from_end, hold_client, hold_expires_at"
    };
}

/// A row of `bookings` occupies time at instant `$now` (the parameter
/// number given): not cancelled, and a booking or an unexpired hold.
macro_rules! live_at {
    ($alias:literal, $now:literal) => {
        concat!(
            $alias,
            ".deleted_at IS NULL AND (",
            $alias,
            ".status = 'confirmed' OR ",
            $alias,
            ".hold_expires_at > ",
            $now,
            ")"
        )
    };
}

/// The columns an organizer is read from (of `organizers o`).
macro_rules! organizer_columns {
    () => {
        "o.id, o.username, o.email, o.display_name, o.time_zone, o.api_token_hash, o.created_at"
    };
}

/// The columns a schedule is read from (of `schedules sc`), prefixed `sc_`.
macro_rules! schedule_columns {
    () => {
        "sc.id AS sc_id, sc.name AS sc_name, sc.time_zone AS sc_time_zone, \
         sc.weekly_hours AS sc_weekly_hours, sc.date_overrides AS sc_date_overrides, \
         sc.is_default AS sc_is_default"
    };
}

/// The columns an event type is read from (of `event_types et`), prefixed `et_`.
macro_rules! event_type_columns {
    () => {
        "et.id AS et_id, et.slug AS et_slug, et.title AS et_title, et.description AS et_description, \
         et.duration AS et_duration, et.duration_options AS et_duration_options, \
         et.slot_step AS et_slot_step, et.buffer_before AS et_buffer_before, \
         et.buffer_after AS et_buffer_after, et.min_notice AS et_min_notice, \
         et.booking_window_kind AS et_booking_window_kind, \
         et.booking_window_horizon AS et_booking_window_horizon, \
         et.booking_window_days AS et_booking_window_days, \
         et.booking_window_first AS et_booking_window_first, \
         et.booking_window_last AS et_booking_window_last, \
         et.limit_per_day AS et_limit_per_day, et.limit_per_week AS et_limit_per_week, \
         et.limit_week_starts_on AS et_limit_week_starts_on, et.schedule_id AS et_schedule_id, \
         et.location AS et_location, et.active AS et_active, et.hold_duration AS et_hold_duration"
    };
}

// ---------------------------------------------------------------- organizers

/// `$8` is the username in ASCII lowercase: the unique `username_key`.
pub(crate) const INSERT_ORGANIZER: &str = concat!(
    "INSERT INTO organizers AS o (id, username, email, display_name, time_zone, api_token_hash, \
        created_at, username_key) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
     RETURNING ",
    organizer_columns!()
);

pub(crate) const ORGANIZER_BY_ID: &str = concat!(
    "SELECT ",
    organizer_columns!(),
    " FROM organizers o WHERE o.id = $1"
);

/// `$1` the username as given, `$2` in ASCII lowercase: the exact spelling
/// first, else the one whose key matches (a legacy case-duplicate's key
/// carries `#id`, so it is reachable by its exact spelling only).
pub(crate) const ORGANIZER_BY_USERNAME: &str = concat!(
    "SELECT ",
    organizer_columns!(),
    " FROM organizers o WHERE o.username = $1 OR o.username_key = $2 \
     ORDER BY o.username = $1 DESC LIMIT 1"
);

pub(crate) const ORGANIZER_BY_TOKEN_HASH: &str = concat!(
    "SELECT ",
    organizer_columns!(),
    " FROM organizers o WHERE o.api_token_hash = $1"
);

/// Replaces organizer `$1`'s API token hash (rotation).
pub(crate) const SET_API_TOKEN_HASH: &str =
    "UPDATE organizers SET api_token_hash = $2 WHERE id = $1";

pub(crate) const ORGANIZER_EXISTS: &str = "SELECT EXISTS (SELECT 1 FROM organizers WHERE id = $1)";

pub(crate) const HEALTH_CHECK: &str = "SELECT 1";

/// Every transaction of the store: READ COMMITTED whatever the server's or
/// the role's `default_transaction_isolation`, because the limits design
/// needs each statement to take a fresh snapshot (see the crate docs), and
/// the configuration's compare-and-set should refuse with a plain mismatch,
/// not a serialization failure.
pub(crate) const BEGIN: &str = "BEGIN ISOLATION LEVEL READ COMMITTED";

// ------------------------------------------------------------- configuration

/// The whole configuration in one statement, so the version and the rows come
/// from one snapshot: one row per schedule and per event type (`item_kind`
/// 's' or 'e', the other prefix's columns NULL), or one row of NULLs for an
/// organizer with neither; no row for an unknown organizer.
pub(crate) const ORGANIZER_CONFIG: &str = concat!(
    "SELECT o.config_version, x.item_kind, ",
    schedule_columns!(),
    ", ",
    event_type_columns!(),
    " FROM organizers o \
     LEFT JOIN LATERAL ( \
         SELECT 's' AS item_kind, s.id AS item_id FROM schedules s WHERE s.organizer_id = o.id \
         UNION ALL \
         SELECT 'e', e.id FROM event_types e WHERE e.organizer_id = o.id \
     ) x ON true \
     LEFT JOIN schedules sc ON x.item_kind = 's' AND sc.organizer_id = o.id AND sc.id = x.item_id \
     LEFT JOIN event_types et ON x.item_kind = 'e' AND et.organizer_id = o.id AND et.id = x.item_id \
     WHERE o.id = $1 \
     ORDER BY x.item_kind, x.item_id COLLATE \"C\""
);

/// The compare-and-set that opens every configuration change: it bumps the
/// version only if it is still `$2`, and its row lock makes concurrent
/// changes of one organizer wait for each other (the loser then finds the
/// new version and matches nothing).
pub(crate) const BUMP_CONFIG_VERSION: &str = "UPDATE organizers SET config_version = config_version + 1 \
     WHERE id = $1 AND config_version = $2 RETURNING config_version";

pub(crate) const PUT_SCHEDULE: &str = "\
    INSERT INTO schedules (organizer_id, id, name, time_zone, weekly_hours, date_overrides, is_default) \
    VALUES ($1, $2, $3, $4, $5, $6, $7) \
    ON CONFLICT ON CONSTRAINT schedules_pkey DO UPDATE SET \
        name = EXCLUDED.name, time_zone = EXCLUDED.time_zone, weekly_hours = EXCLUDED.weekly_hours, \
        date_overrides = EXCLUDED.date_overrides, is_default = EXCLUDED.is_default";

pub(crate) const DELETE_SCHEDULE: &str =
    "DELETE FROM schedules WHERE organizer_id = $1 AND id = $2";

pub(crate) const PUT_EVENT_TYPE: &str = "\
    INSERT INTO event_types (organizer_id, id, slug, title, description, duration, duration_options, \
        slot_step, buffer_before, buffer_after, min_notice, booking_window_kind, booking_window_horizon, \
        booking_window_days, booking_window_first, booking_window_last, limit_per_day, limit_per_week, \
        limit_week_starts_on, schedule_id, location, active, hold_duration) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, \
        $21, $22, $23) \
    ON CONFLICT ON CONSTRAINT event_types_pkey DO UPDATE SET \
        slug = EXCLUDED.slug, title = EXCLUDED.title, description = EXCLUDED.description, \
        duration = EXCLUDED.duration, duration_options = EXCLUDED.duration_options, \
        slot_step = EXCLUDED.slot_step, buffer_before = EXCLUDED.buffer_before, \
        buffer_after = EXCLUDED.buffer_after, min_notice = EXCLUDED.min_notice, \
        booking_window_kind = EXCLUDED.booking_window_kind, \
        booking_window_horizon = EXCLUDED.booking_window_horizon, \
        booking_window_days = EXCLUDED.booking_window_days, \
        booking_window_first = EXCLUDED.booking_window_first, \
        booking_window_last = EXCLUDED.booking_window_last, \
        limit_per_day = EXCLUDED.limit_per_day, limit_per_week = EXCLUDED.limit_per_week, \
        limit_week_starts_on = EXCLUDED.limit_week_starts_on, schedule_id = EXCLUDED.schedule_id, \
        location = EXCLUDED.location, active = EXCLUDED.active, \
        hold_duration = EXCLUDED.hold_duration";

/// The foreign key from bookings sets their `event_type_id` to NULL; its
/// holds go first ([`DELETE_HOLDS_OF_EVENT_TYPE`]), since a hold always
/// names its event type.
pub(crate) const DELETE_EVENT_TYPE: &str =
    "DELETE FROM event_types WHERE organizer_id = $1 AND id = $2";

/// A deleted event type's holds end with it (its slots are not offered any
/// more, and a hold cannot lose its event type as a booking does).
pub(crate) const DELETE_HOLDS_OF_EVENT_TYPE: &str =
    "DELETE FROM bookings WHERE organizer_id = $1 AND event_type_id = $2 AND status = 'held'";

// ------------------------------------------------------------ booking context

/// Everything one booking decision or slot list needs, in one row: the
/// organizer and their configuration version; the event type with slug `$1`
/// and the schedule it uses (its own, else the default); the occupied
/// intervals of all the organizer's live bookings and holds (at `$6`)
/// overlapping `[$2, $3)` (two arrays, ordered by start then end; `&&` on the
/// same range expression as the exclusion constraint, so its GiST index
/// serves it); and, only when the event type has limits, the starts of its
/// live bookings and holds in `[$4, $5)`. `$tail` picks the organizer (by
/// id, or by username) with `$7` (and `$8`).
macro_rules! booking_context {
    ($tail:literal) => {
        concat!(
            "WITH o AS (SELECT id, username, email, display_name, time_zone, api_token_hash, \
                created_at, config_version FROM organizers ",
            $tail,
            ") SELECT ",
            organizer_columns!(),
            ", o.config_version, ",
            event_type_columns!(),
            ", ",
            schedule_columns!(),
            ", COALESCE(occ.starts, '{}') AS occupied_starts, COALESCE(occ.ends, '{}') AS occupied_ends, \
               COALESCE(cnt.starts, '{}') AS booked_starts \
             FROM o \
             LEFT JOIN event_types et ON et.organizer_id = o.id AND et.slug = $1 \
             LEFT JOIN schedules sc ON sc.organizer_id = o.id AND et.id IS NOT NULL \
                 AND (sc.id = et.schedule_id OR (et.schedule_id IS NULL AND sc.is_default)) \
             CROSS JOIN LATERAL ( \
                 SELECT array_agg(b.occupied_start ORDER BY b.occupied_start, b.occupied_end) AS starts, \
                     array_agg(b.occupied_end ORDER BY b.occupied_start, b.occupied_end) AS ends \
                 FROM bookings b \
                 WHERE b.organizer_id = o.id AND ",
            live_at!("b", "$6"),
            " AND tstzrange(b.occupied_start, b.occupied_end, '[)') && tstzrange($2, $3, '[)') \
             ) occ \
             CROSS JOIN LATERAL ( \
                 SELECT array_agg(b.start_time ORDER BY b.start_time) AS starts \
                 FROM bookings b \
                 WHERE (et.limit_per_day IS NOT NULL OR et.limit_per_week IS NOT NULL) \
                   AND b.organizer_id = o.id AND b.event_type_id = et.id AND ",
            live_at!("b", "$6"),
            " AND b.start_time >= $4 AND b.start_time < $5 \
             ) cnt"
        )
    };
}

/// [`booking_context!`] for the organizer with id `$7`.
pub(crate) const BOOKING_CONTEXT_BY_ID: &str = booking_context!("WHERE id = $7");

/// [`booking_context!`] for the organizer with username `$7` (exactly), else
/// with `username_key` `$8` (the username in ASCII lowercase).
pub(crate) const BOOKING_CONTEXT_BY_USERNAME: &str = booking_context!(
    "WHERE username = $7 OR username_key = $8 ORDER BY username = $7 DESC LIMIT 1"
);

/// Occupied intervals of organizer `$1`'s live bookings and holds (at `$4`)
/// overlapping `[$2, $3)`.
pub(crate) const OCCUPIED: &str = concat!(
    "SELECT occupied_start, occupied_end FROM bookings b WHERE organizer_id = $1 AND ",
    live_at!("b", "$4"),
    " AND tstzrange(occupied_start, occupied_end, '[)') && tstzrange($2, $3, '[)') \
     ORDER BY occupied_start, occupied_end"
);

/// Starts of event type `$2`'s live bookings and holds (at `$5`) in
/// `[$3, $4)`: what its limits count.
pub(crate) const BOOKED_STARTS: &str = concat!(
    "SELECT start_time FROM bookings b WHERE organizer_id = $1 AND event_type_id = $2 AND ",
    live_at!("b", "$5"),
    " AND start_time >= $3 AND start_time < $4 ORDER BY start_time"
);

pub(crate) mod bookings;
pub(crate) mod keys;
pub(crate) mod outbox;
pub(crate) mod records;
