-- booking-sqlite schema, level 1: the base tables.
--
-- Same tables and meanings as booking-postgres, in SQLite types:
--   * every instant is an INTEGER count of microseconds since 1970-01-01 UTC
--     (exact ordering and range comparisons in SQL, same precision as
--     PostgreSQL's timestamptz, fits chrono's whole range in 64 bits);
--   * every duration is an INTEGER count of seconds;
--   * ids are ULID text, token hashes 64 lowercase hex characters;
--   * JSON columns are TEXT checked with json_valid().
-- Tables are STRICT, so SQLite refuses a value of the wrong type instead of
-- silently storing it.

CREATE TABLE organizers (
    id             TEXT    PRIMARY KEY NOT NULL,
    username       TEXT    NOT NULL UNIQUE,
    email          TEXT    NOT NULL,
    display_name   TEXT    NOT NULL,
    time_zone      TEXT    NOT NULL,
    api_token_hash TEXT    NOT NULL UNIQUE,
    created_at     INTEGER NOT NULL
) STRICT;

CREATE TABLE organizer_settings (
    organizer_id       TEXT    PRIMARY KEY NOT NULL REFERENCES organizers (id) ON DELETE CASCADE,
    time_zone          TEXT    NOT NULL,
    weekly_hours       TEXT    NOT NULL CHECK (json_valid(weekly_hours)),
    date_overrides     TEXT    NOT NULL CHECK (json_valid(date_overrides)),
    slot_duration_secs INTEGER NOT NULL,
    slot_step_secs     INTEGER,
    buffer_before_secs INTEGER NOT NULL,
    buffer_after_secs  INTEGER NOT NULL,
    min_notice_secs    INTEGER NOT NULL,
    max_advance_secs   INTEGER NOT NULL
) STRICT;

-- The seed's bookings table, plus the buffers in force when the booking was
-- made, the occupied interval they give ([start - before, end + after),
-- stored so the overlap check is a plain comparison of columns), and the hash
-- of the attendee's cancel token.
CREATE TABLE bookings (
    id                 TEXT    PRIMARY KEY NOT NULL,
    organizer_id       TEXT    NOT NULL REFERENCES organizers (id) ON DELETE CASCADE,
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
    CHECK (occupied_start <= start_time AND occupied_end >= end_time)
) STRICT;

-- The seed's two indexes.
CREATE INDEX bookings_organizer_id_idx ON bookings (organizer_id);
CREATE INDEX bookings_organizer_start_time_idx ON bookings (organizer_id, start_time);
