-- booking-postgres schema, version 2: schedules, event types, limits and a
-- versioned configuration per organizer (booking-core 2).
--
-- Upgrades a version-1 database in place, data included:
--   * every organizer_settings row becomes its organizer's default schedule
--     ("Working hours") and default event type (slug `default`, title
--     "Meeting"), both with the organizer's own id as their id; the
--     organizer's bookings are attached to that event type and the
--     organizer's configuration starts at version 1; then organizer_settings
--     goes. Organizers without settings get nothing (version 0).
--   * usernames become unique ignoring ASCII case, without failing on (or
--     hiding) existing usernames that differ only in case.
--
-- Distribution (Citus, or hash partitions on one server): schedules and
-- event_types are keyed by (organizer_id, id) and referenced with
-- organizer_id in the key, so every row of one organizer can live on one
-- shard, colocated with that organizer's bookings; organizers stays a global
-- lookup table (usernames and token hashes are looked up across organizers).

-- ------------------------------------------------------------- organizers

-- config_version: bumped by every configuration change (compare-and-set in
-- the store's update_config), 0 until the first.
-- username_key: the username in ASCII lowercase, unique, so `ABC` cannot
-- register after `abc`. Usernames that already differ only in case keep
-- working: the oldest keeps the plain key, each later one gets
-- `key || '#' || id` (`#` cannot occur in a username), so each stays
-- reachable by its exact spelling and the oldest also by any other case.
ALTER TABLE organizers
    ADD COLUMN config_version bigint NOT NULL DEFAULT 0
        CONSTRAINT organizers_config_version_not_negative CHECK (config_version >= 0),
    ADD COLUMN username_key text;

UPDATE organizers o
SET username_key = CASE WHEN ranked.n = 1 THEN ranked.folded
                        ELSE ranked.folded || '#' || o.id END
FROM (
    SELECT id,
           translate(username, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') AS folded,
           row_number() OVER (
               PARTITION BY translate(username, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')
               ORDER BY created_at, id COLLATE "C"
           ) AS n
    FROM organizers
) ranked
WHERE ranked.id = o.id;

ALTER TABLE organizers
    ALTER COLUMN username_key SET NOT NULL,
    ADD CONSTRAINT organizers_username_key_key UNIQUE (username_key);

-- -------------------------------------------------------------- schedules

-- Named, reusable working hours. weekly_hours and date_overrides are JSON in
-- booking-core's serde shape ({"monday": [{"start": "09:00", "end": "17:00"}],
-- ...} and {"2026-12-24": [], ...}; [] is a day off).
CREATE TABLE schedules (
    organizer_id    text        NOT NULL REFERENCES organizers (id) ON DELETE CASCADE,
    id              text        NOT NULL,                      -- ULID
    name            text        NOT NULL,
    time_zone       text        NOT NULL,                      -- IANA name
    weekly_hours    jsonb       NOT NULL,
    date_overrides  jsonb       NOT NULL DEFAULT '{}',
    is_default      boolean     NOT NULL DEFAULT false,
    CONSTRAINT schedules_pkey PRIMARY KEY (organizer_id, id)
);

-- At most one default schedule per organizer. Checked statement by
-- statement: a change that moves the default clears the old one first.
CREATE UNIQUE INDEX schedules_one_default_idx ON schedules (organizer_id) WHERE is_default;

-- ------------------------------------------------------------ event_types

-- What an attendee books; every field of booking_core::EventType:
--   duration_options     every length offered, ascending; '{}' when only `duration`;
--   slot_step            NULL: the chosen length;
--   booking_window_*     kind 'rolling' (horizon), 'rolling_business_days'
--                        (days) or 'range' (first and last local date, inclusive);
--   limit_*              at most this many active bookings per local day / week;
--                        NULL: no limit; the week starts on ISO day
--                        limit_week_starts_on (1 = Monday ... 7 = Sunday);
--   schedule_id          NULL: the organizer's default schedule;
--   location             JSON in booking-core's serde shape, e.g.
--                        {"kind": "video", "url": "https://..."}; NULL: none.
CREATE TABLE event_types (
    organizer_id            text        NOT NULL REFERENCES organizers (id) ON DELETE CASCADE,
    id                      text        NOT NULL,              -- ULID
    slug                    text        NOT NULL,
    title                   text        NOT NULL,
    description             text,
    duration                interval    NOT NULL,
    duration_options        interval[]  NOT NULL DEFAULT '{}',
    slot_step               interval,
    buffer_before           interval    NOT NULL DEFAULT '0',
    buffer_after            interval    NOT NULL DEFAULT '0',
    min_notice              interval    NOT NULL DEFAULT '0',
    booking_window_kind     text        NOT NULL,
    booking_window_horizon  interval,
    booking_window_days     integer,
    booking_window_first    date,
    booking_window_last     date,
    limit_per_day           integer,
    limit_per_week          integer,
    limit_week_starts_on    smallint    NOT NULL DEFAULT 1,
    schedule_id             text,
    location                jsonb,
    active                  boolean     NOT NULL DEFAULT true,

    CONSTRAINT event_types_pkey PRIMARY KEY (organizer_id, id),
    -- Slugs name event types in booking links: unique per organizer.
    CONSTRAINT event_types_slug_key UNIQUE (organizer_id, slug),
    -- A schedule in use cannot be deleted (NO ACTION: the delete fails).
    CONSTRAINT event_types_schedule_fkey FOREIGN KEY (organizer_id, schedule_id)
        REFERENCES schedules (organizer_id, id),
    CONSTRAINT event_types_booking_window_shape CHECK (
        (booking_window_kind = 'rolling'
            AND booking_window_horizon IS NOT NULL AND booking_window_days IS NULL
            AND booking_window_first IS NULL AND booking_window_last IS NULL)
        OR (booking_window_kind = 'rolling_business_days'
            AND booking_window_days IS NOT NULL AND booking_window_horizon IS NULL
            AND booking_window_first IS NULL AND booking_window_last IS NULL)
        OR (booking_window_kind = 'range'
            AND booking_window_first IS NOT NULL AND booking_window_last IS NOT NULL
            AND booking_window_horizon IS NULL AND booking_window_days IS NULL)
    ),
    CONSTRAINT event_types_limits_positive
        CHECK ((limit_per_day IS NULL OR limit_per_day > 0) AND (limit_per_week IS NULL OR limit_per_week > 0)),
    CONSTRAINT event_types_week_start_is_iso_day CHECK (limit_week_starts_on BETWEEN 1 AND 7)
);

-- The FK from event_types to schedules needs an index on the referencing side
-- so deleting a schedule does not scan every event type.
CREATE INDEX event_types_schedule_idx ON event_types (organizer_id, schedule_id)
    WHERE schedule_id IS NOT NULL;

-- ---------------------------------------------------------------- bookings

-- event_type_id: the event type booked; set to NULL (that column only, the
-- organizer stays) when the event type is deleted; the booking stays.
-- event_type_slug: the event type's slug when it was booked, kept as it was.
ALTER TABLE bookings
    ADD COLUMN event_type_id text,
    ADD COLUMN event_type_slug text NOT NULL DEFAULT 'default';
-- The default only fills the rows that exist now; the store always writes it.
ALTER TABLE bookings ALTER COLUMN event_type_slug DROP DEFAULT;

COMMENT ON COLUMN bookings.attendant_name IS
    'Name of the person who booked; the API calls this person the attendee (the column keeps the design document''s name).';
COMMENT ON COLUMN bookings.attendant_email IS
    'Email address of the person who booked; the API calls this person the attendee (the column keeps the design document''s name).';

-- ----------------------------------------------------------- data migration

INSERT INTO schedules (organizer_id, id, name, time_zone, weekly_hours, date_overrides, is_default)
SELECT organizer_id, organizer_id, 'Working hours', time_zone, weekly_hours, date_overrides, true
FROM organizer_settings;

-- Lengths under booking-core 2's 5-minute minimum are carried over as they
-- are: only new input is held to it.
INSERT INTO event_types (organizer_id, id, slug, title, description, duration, duration_options,
    slot_step, buffer_before, buffer_after, min_notice, booking_window_kind, booking_window_horizon,
    limit_per_day, limit_per_week, limit_week_starts_on, schedule_id, location, active)
SELECT organizer_id, organizer_id, 'default', 'Meeting', NULL, slot_duration, '{}',
    slot_step, buffer_before, buffer_after, min_notice, 'rolling', max_advance,
    NULL, NULL, 1, NULL, NULL, true
FROM organizer_settings;

UPDATE bookings b
SET event_type_id = b.organizer_id
WHERE EXISTS (SELECT 1 FROM organizer_settings s WHERE s.organizer_id = b.organizer_id);

UPDATE organizers o
SET config_version = 1
WHERE EXISTS (SELECT 1 FROM organizer_settings s WHERE s.organizer_id = o.id);

DROP TABLE organizer_settings;

ALTER TABLE bookings
    ADD CONSTRAINT bookings_event_type_fkey FOREIGN KEY (organizer_id, event_type_id)
        REFERENCES event_types (organizer_id, id) ON DELETE SET NULL (event_type_id);

-- An event type's bookings by start: serves what limits count (the limit
-- check of an insert, booked_starts) and the foreign key's ON DELETE SET
-- NULL, which must find cancelled bookings too, so the index is not partial.
CREATE INDEX bookings_event_type_start_idx ON bookings (organizer_id, event_type_id, start_time);
