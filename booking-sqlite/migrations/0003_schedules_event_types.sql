-- booking-sqlite schema, level 3: schedules, event types, versioned
-- configuration, case-insensitive usernames, bookings that record their event
-- type, and an overlap index that is bounded on both sides.
--
-- Run by `migrate()` with foreign key enforcement switched off (it cannot be
-- switched inside a transaction), inside the one BEGIN IMMEDIATE transaction
-- of the whole upgrade, followed by `PRAGMA foreign_key_check`: this is
-- SQLite's documented procedure for changing a table's definition ("create
-- the new table, copy, drop the old one, rename the new one"). With
-- enforcement on, dropping the old `organizers` table would cascade into
-- every booking.
--
-- Keys are laid out for distribution by organizer (issue 18): the primary
-- and unique keys of schedules and event types begin with `organizer_id`,
-- foreign keys between them carry it, and every statement on the booking
-- path names it. Usernames and token hashes are the global lookups.

-- 1. Organizers gain their configuration version and a username key.
--
-- `username_key` makes usernames unique regardless of ASCII case: it is
-- lower(username) (SQLite's lower() folds ASCII only, as the contract asks),
-- except for organizers that registered after another one with the same
-- name in a different case, which older versions allowed: those get
-- lower(username) || '#' || id, so the upgrade never fails on them and each
-- stays reachable by its exact spelling ('#' cannot occur in a username). A
-- new username is refused when lower(username) is taken, which covers every
-- spelling of such a group, since its first member holds the plain key.
CREATE TABLE organizers_v3 (
    id             TEXT    PRIMARY KEY NOT NULL,
    username       TEXT    NOT NULL UNIQUE,
    username_key   TEXT    NOT NULL UNIQUE,
    email          TEXT    NOT NULL,
    display_name   TEXT    NOT NULL,
    time_zone      TEXT    NOT NULL,
    api_token_hash TEXT    NOT NULL UNIQUE,
    created_at     INTEGER NOT NULL,
    -- Bumped by every configuration change (compare-and-set); 0 before the first.
    config_version INTEGER NOT NULL DEFAULT 0 CHECK (config_version >= 0)
) STRICT;

INSERT INTO organizers_v3 (id, username, username_key, email, display_name, time_zone, api_token_hash,
                           created_at, config_version)
SELECT id, username,
       CASE WHEN ROW_NUMBER() OVER (PARTITION BY lower(username) ORDER BY created_at, id) = 1
            THEN lower(username)
            ELSE lower(username) || '#' || id
       END,
       email, display_name, time_zone, api_token_hash, created_at,
       -- Organizers with settings get a configuration (below): version 1.
       EXISTS (SELECT 1 FROM organizer_settings s WHERE s.organizer_id = organizers.id)
FROM organizers;

-- 2. Schedules: named working hours. `weekly_hours` and `date_overrides` are
-- JSON in booking-core's serde shape (the shape organizer_settings used).
CREATE TABLE schedules (
    organizer_id   TEXT    NOT NULL REFERENCES organizers (id) ON DELETE CASCADE,
    id             TEXT    NOT NULL,
    name           TEXT    NOT NULL,
    time_zone      TEXT    NOT NULL,
    weekly_hours   TEXT    NOT NULL CHECK (json_valid(weekly_hours)),
    date_overrides TEXT    NOT NULL CHECK (json_valid(date_overrides)),
    is_default     INTEGER NOT NULL CHECK (is_default IN (0, 1)),
    PRIMARY KEY (organizer_id, id)
) STRICT;

-- At most one default schedule per organizer.
CREATE UNIQUE INDEX schedules_one_default_idx ON schedules (organizer_id) WHERE is_default = 1;

-- Each organizer's settings become their default schedule, with the
-- organizer's own id as its id.
INSERT INTO schedules (organizer_id, id, name, time_zone, weekly_hours, date_overrides, is_default)
SELECT organizer_id, organizer_id, 'Working hours', time_zone, weekly_hours, date_overrides, 1
FROM organizer_settings;

-- 3. Event types: what an attendee books. Durations are INTEGER seconds;
-- `duration_options` is a JSON array of seconds ([] when the default length
-- is the only one); the booking window is its kind plus the fields of that
-- kind; `location` is JSON in booking-core's serde shape; `schedule_id` NULL
-- means the organizer's default schedule.
CREATE TABLE event_types (
    organizer_id        TEXT    NOT NULL REFERENCES organizers (id) ON DELETE CASCADE,
    id                  TEXT    NOT NULL,
    slug                TEXT    NOT NULL,
    title               TEXT    NOT NULL,
    description         TEXT,
    duration_secs       INTEGER NOT NULL CHECK (duration_secs > 0),
    duration_options    TEXT    NOT NULL DEFAULT '[]'
                                CHECK (json_valid(duration_options) AND json_type(duration_options) = 'array'),
    slot_step_secs      INTEGER CHECK (slot_step_secs IS NULL OR slot_step_secs > 0),
    buffer_before_secs  INTEGER NOT NULL CHECK (buffer_before_secs >= 0),
    buffer_after_secs   INTEGER NOT NULL CHECK (buffer_after_secs >= 0),
    min_notice_secs     INTEGER NOT NULL CHECK (min_notice_secs >= 0),
    window_kind         TEXT    NOT NULL CHECK (window_kind IN ('rolling', 'rolling_business_days', 'range')),
    window_horizon_secs INTEGER,
    window_days         INTEGER,
    window_first        TEXT,
    window_last         TEXT,
    limit_per_day       INTEGER CHECK (limit_per_day IS NULL OR limit_per_day > 0),
    limit_per_week      INTEGER CHECK (limit_per_week IS NULL OR limit_per_week > 0),
    week_starts_on      TEXT    NOT NULL DEFAULT 'monday'
                                CHECK (week_starts_on IN ('monday', 'tuesday', 'wednesday', 'thursday',
                                                          'friday', 'saturday', 'sunday')),
    schedule_id         TEXT,
    location            TEXT    CHECK (location IS NULL OR json_valid(location)),
    active              INTEGER NOT NULL CHECK (active IN (0, 1)),
    PRIMARY KEY (organizer_id, id),
    -- Slugs are unique per organizer (refused as SlugTaken).
    UNIQUE (organizer_id, slug),
    -- A schedule in use cannot be deleted (refused as ScheduleInUse).
    FOREIGN KEY (organizer_id, schedule_id) REFERENCES schedules (organizer_id, id),
    -- Exactly the fields of the window's kind.
    CHECK (CASE window_kind
             WHEN 'rolling' THEN window_horizon_secs > 0 AND window_days IS NULL
                                 AND window_first IS NULL AND window_last IS NULL
             WHEN 'rolling_business_days' THEN window_days > 0 AND window_horizon_secs IS NULL
                                 AND window_first IS NULL AND window_last IS NULL
             ELSE window_first IS NOT NULL AND window_last IS NOT NULL
                  AND window_horizon_secs IS NULL AND window_days IS NULL
           END)
) STRICT;

-- Finds the event types using a schedule when it is deleted (the foreign
-- key's child lookup), per organizer.
CREATE INDEX event_types_schedule_idx ON event_types (organizer_id, schedule_id);

-- Each organizer's settings become their default event type: slug 'default',
-- title 'Meeting', the settings' lengths, buffers and notice, a rolling
-- window of the settings' max_advance, no limits, no location, active, on
-- the default schedule; the organizer's own id as its id. Slot lengths under
-- the 5 minutes new input must have are carried over as they are.
INSERT INTO event_types (organizer_id, id, slug, title, description, duration_secs, duration_options,
                         slot_step_secs, buffer_before_secs, buffer_after_secs, min_notice_secs,
                         window_kind, window_horizon_secs, week_starts_on, schedule_id, location, active)
SELECT organizer_id, organizer_id, 'default', 'Meeting', NULL, slot_duration_secs, '[]',
       slot_step_secs, buffer_before_secs, buffer_after_secs, min_notice_secs,
       'rolling', max_advance_secs, 'monday', NULL, NULL, 1
FROM organizer_settings;

-- 4. Bookings record their event type: its id (NULL once it is deleted) and
-- its slug when booked. The attendee (the API's word) keeps the design
-- document's column names attendant_name / attendant_email.
--
-- The occupied interval is at most 72 hours long: a meeting and each of its
-- buffers are at most 24 hours (booking-core's MAX_SLOT_LENGTH, enforced
-- for settings by every earlier version too). The overlap queries rely on it
-- to bound their index scan from below (occupied_start > start - 72 h), so
-- it is a constraint here, and the store refuses a longer booking before
-- it reaches the table. Should an older file hold a longer booking (never
-- written by any release), this step fails and leaves the file as it was.
CREATE TABLE bookings_v3 (
    id                 TEXT    PRIMARY KEY NOT NULL,
    organizer_id       TEXT    NOT NULL REFERENCES organizers (id) ON DELETE CASCADE,
    event_type_id      TEXT,
    event_type_slug    TEXT    NOT NULL,
    attendant_name     TEXT    NOT NULL,
    attendant_email    TEXT    NOT NULL,
    metadata           TEXT    CHECK (metadata IS NULL OR json_valid(metadata)),
    title              TEXT    NOT NULL,
    description        TEXT,
    start_time         INTEGER NOT NULL,
    end_time           INTEGER NOT NULL,
    buffer_before_secs INTEGER NOT NULL DEFAULT 0 CHECK (buffer_before_secs >= 0),
    buffer_after_secs  INTEGER NOT NULL DEFAULT 0 CHECK (buffer_after_secs >= 0),
    occupied_start     INTEGER NOT NULL,
    occupied_end       INTEGER NOT NULL,
    cancel_token_hash  TEXT    NOT NULL,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    deleted_at         INTEGER,
    CHECK (end_time > start_time),
    CHECK (occupied_start <= start_time AND occupied_end >= end_time),
    CONSTRAINT occupied_at_most_72_hours CHECK (occupied_end - occupied_start <= 259200000000),
    -- SQLite's ON DELETE SET NULL would null organizer_id too; the trigger
    -- below nulls event_type_id alone (PostgreSQL: SET NULL (event_type_id)).
    FOREIGN KEY (organizer_id, event_type_id) REFERENCES event_types (organizer_id, id)
) STRICT;

INSERT INTO bookings_v3 (id, organizer_id, event_type_id, event_type_slug, attendant_name, attendant_email,
                         metadata, title, description, start_time, end_time, buffer_before_secs,
                         buffer_after_secs, occupied_start, occupied_end, cancel_token_hash, created_at,
                         updated_at, deleted_at)
SELECT b.id, b.organizer_id,
       -- Attached to the organizer's default event type, when settings made one.
       (SELECT e.id FROM event_types e WHERE e.organizer_id = b.organizer_id AND e.id = b.organizer_id),
       'default', b.attendant_name, b.attendant_email, b.metadata, b.title, b.description,
       b.start_time, b.end_time, b.buffer_before_secs, b.buffer_after_secs, b.occupied_start,
       b.occupied_end, b.cancel_token_hash, b.created_at, b.updated_at, b.deleted_at
FROM bookings b;

DROP TABLE bookings;
ALTER TABLE bookings_v3 RENAME TO bookings;

-- The seed's two indexes.
CREATE INDEX bookings_organizer_id_idx ON bookings (organizer_id);
CREATE INDEX bookings_organizer_start_time_idx ON bookings (organizer_id, start_time);

-- The overlap check and the occupied-interval reads ask, for one organizer,
-- for active bookings with occupied_end > :start AND occupied_start < :end,
-- plus the bound occupied_start > :start - 72 h that the longest occupied
-- interval allows. Ordered by occupied_start, the index range-scans exactly
-- (:start - 72 h, :end): what lies before or after costs nothing, however many
-- bookings there are (level 2 ordered by occupied_end and scanned every later
-- booking). It also returns intervals in the order the engine wants. Partial
-- (active only); deleted_at is included so the planner treats it as covering.
CREATE INDEX bookings_active_occupied_start_idx
    ON bookings (organizer_id, occupied_start, occupied_end, deleted_at)
    WHERE deleted_at IS NULL;

-- Pages of active bookings in (start_time, id) order, and their count.
CREATE INDEX bookings_active_start_idx
    ON bookings (organizer_id, start_time, id, deleted_at)
    WHERE deleted_at IS NULL;

-- Limit counts (active bookings of one event type starting in a day or a
-- week), booked_starts, and the foreign key's child lookup when an event
-- type is deleted (which is why it is not partial).
CREATE INDEX bookings_event_type_start_idx
    ON bookings (organizer_id, event_type_id, start_time, deleted_at);

-- 5. The settings now live in schedules and event types.
DROP TABLE organizer_settings;

DROP TABLE organizers;
ALTER TABLE organizers_v3 RENAME TO organizers;

-- Deleting an event type keeps its bookings: they lose the event type's id
-- and keep its slug.
CREATE TRIGGER event_types_keep_bookings BEFORE DELETE ON event_types
BEGIN
    UPDATE bookings SET event_type_id = NULL
     WHERE organizer_id = OLD.organizer_id AND event_type_id = OLD.id;
END;
