-- booking-postgres schema, version 1.
--
-- Tables are created unqualified, in the first schema of the connection's
-- search_path (normally `public`), so a host application decides where they live.
-- All instants are timestamptz (stored as UTC); all durations are intervals.

-- GiST indexes over plain scalar columns (`organizer_id WITH =` below) need
-- btree_gist. It ships with PostgreSQL's contrib (Debian: postgresql-15) and is a
-- trusted extension, so a role that may CREATE in the database may install it.
CREATE EXTENSION IF NOT EXISTS btree_gist;

-- The people whose time is booked (the seed's `users`).
CREATE TABLE organizers (
    id              text        PRIMARY KEY NOT NULL,          -- ULID
    username        text        NOT NULL,
    email           text        NOT NULL,
    display_name    text        NOT NULL,
    time_zone       text        NOT NULL,                      -- IANA name, e.g. Europe/London
    api_token_hash  text        NOT NULL,                      -- SHA-256 of the API token, 64 hex chars
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT organizers_username_key UNIQUE (username),
    CONSTRAINT organizers_api_token_hash_key UNIQUE (api_token_hash)
);

-- An organizer's availability rules; at most one row per organizer.
CREATE TABLE organizer_settings (
    organizer_id    text        PRIMARY KEY NOT NULL
                                REFERENCES organizers (id) ON DELETE CASCADE,
    time_zone       text        NOT NULL,                      -- zone the hours are written in
    weekly_hours    jsonb       NOT NULL,                      -- {"monday": [{"start": "09:00", "end": "17:00"}], ...}
    date_overrides  jsonb       NOT NULL DEFAULT '{}',         -- {"2026-12-24": [], ...}; [] is a day off
    slot_duration   interval    NOT NULL,
    slot_step       interval,                                  -- NULL: same as slot_duration
    buffer_before   interval    NOT NULL DEFAULT '0',
    buffer_after    interval    NOT NULL DEFAULT '0',
    min_notice      interval    NOT NULL DEFAULT '0',
    max_advance     interval    NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- The seed's `bookings` table, column for column, plus:
--   buffer_before / buffer_after   the buffers in force when the booking was made;
--   occupied_start / occupied_end  the meeting widened by those buffers: the span
--                                  no other active booking of the organizer may touch;
--   cancel_token_hash              SHA-256 of the attendee's cancel token.
-- The occupied bounds are stored rather than computed in the constraint because
-- an exclusion constraint's expressions must be immutable and
-- `timestamptz + interval` is not.
CREATE TABLE bookings (
    id                text        PRIMARY KEY NOT NULL,        -- ULID
    organizer_id      text        NOT NULL
                                  REFERENCES organizers (id) ON DELETE CASCADE,
    attendant_name    text        NOT NULL,
    attendant_email   text        NOT NULL,
    metadata          jsonb,                                   -- additional attendees, custom fields
    title             text        NOT NULL,
    description       text,
    start_time        timestamptz NOT NULL,
    end_time          timestamptz NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    deleted_at        timestamptz,                             -- set on cancellation (soft delete)
    buffer_before     interval    NOT NULL DEFAULT '0',
    buffer_after      interval    NOT NULL DEFAULT '0',
    occupied_start    timestamptz NOT NULL,
    occupied_end      timestamptz NOT NULL,
    cancel_token_hash text        NOT NULL,

    CONSTRAINT bookings_end_after_start CHECK (end_time > start_time),
    CONSTRAINT bookings_occupied_encloses_meeting
        CHECK (occupied_start <= start_time AND occupied_end >= end_time),

    -- THE guarantee: no two active bookings of one organizer have overlapping
    -- occupied intervals. Half-open ranges, so back-to-back bookings are fine;
    -- cancelled rows (deleted_at set) are ignored. Enforced by the database
    -- for every writer, so no check-then-insert race can exist.
    CONSTRAINT bookings_no_overlap EXCLUDE USING gist (
        organizer_id WITH =,
        tstzrange(occupied_start, occupied_end, '[)') WITH &&
    ) WHERE (deleted_at IS NULL)
);

-- The seed's indexes.
CREATE INDEX bookings_organizer_id_idx ON bookings USING btree (organizer_id);
CREATE INDEX bookings_organizer_start_time_idx ON bookings USING btree (organizer_id, start_time);
