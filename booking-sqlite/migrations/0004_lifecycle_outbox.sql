-- booking-sqlite schema, level 4: the booking lifecycle (reschedules, slot
-- holds, idempotency keys), the transactional outbox (booking events and
-- the job queue), organizers' records, and event types' hold durations.
--
-- Nothing is rebuilt: existing tables only gain columns whose defaults are
-- what existing rows mean (a booking never moved: sequence 0, no previous
-- time; an event type's holds last booking-core's default 5 minutes), and
-- the new tables start empty. The whole upgrade runs in the one
-- BEGIN IMMEDIATE transaction of `migrate()`.
--
-- Like level 3, every table is keyed or indexed by organizer first
-- (distribution by organizer, issue 18), except the documented global
-- lookups: a hold by its token's hash, a record by its lookup key, a
-- booking by its id, and the outbox's queues, which workers of all
-- organizers share.

-- 1. Bookings remember their moves: `sequence` counts every reschedule and
-- the cancellation (the SEQUENCE of calendar invitations), and
-- `rescheduled_from_*` keep the meeting's time before its last move.
ALTER TABLE bookings ADD COLUMN sequence INTEGER NOT NULL DEFAULT 0 CHECK (sequence >= 0);
ALTER TABLE bookings ADD COLUMN rescheduled_from_start INTEGER;
-- Both or neither, and never empty. (A CHECK passes on NULL, so "both or
-- neither" is spelled out rather than left to a comparison.)
ALTER TABLE bookings ADD COLUMN rescheduled_from_end INTEGER
    CHECK ((rescheduled_from_start IS NULL) = (rescheduled_from_end IS NULL)
           AND (rescheduled_from_end IS NULL OR rescheduled_from_end > rescheduled_from_start));

-- 2. Event types say how long a hold of one of their slots lasts (0 disables
-- holds); existing ones get booking-core's default, 5 minutes.
ALTER TABLE event_types ADD COLUMN hold_duration_secs INTEGER NOT NULL DEFAULT 300
    CHECK (hold_duration_secs >= 0);

-- 3. Slot holds. A hold occupies its slot (widened by the event type's
-- buffers, exactly like a booking of it) and counts against the event
-- type's limits until `expires_at`; from then on every query ignores it
-- (`expires_at > :now`), so no clean-up is needed for correctness and
-- `purge_expired` only keeps the table small.
--
-- Holds are not rows of `bookings` (PostgreSQL keeps them there so that its
-- one exclusion constraint covers both): SQLite's single write lock already
-- serializes every writer, so the overlap check of a booking, a move or a
-- hold reads both tables inside its BEGIN IMMEDIATE transaction, and no
-- read of bookings has to filter holds out.
--
-- `event_type_id` has no foreign key: a hold lasts minutes, and one whose
-- event type is deleted meanwhile keeps blocking its slot until it expires
-- (the booking it may become is stored without an event type id). Token
-- hashes are not unique: a token is random, and lookups take the newest.
CREATE TABLE holds (
    id                 TEXT    PRIMARY KEY NOT NULL,
    organizer_id       TEXT    NOT NULL REFERENCES organizers (id) ON DELETE CASCADE,
    event_type_id      TEXT    NOT NULL,
    start_time         INTEGER NOT NULL,
    end_time           INTEGER NOT NULL,
    buffer_before_secs INTEGER NOT NULL CHECK (buffer_before_secs >= 0),
    buffer_after_secs  INTEGER NOT NULL CHECK (buffer_after_secs >= 0),
    occupied_start     INTEGER NOT NULL,
    occupied_end       INTEGER NOT NULL,
    token_hash         TEXT    NOT NULL,
    -- Who took it (a client address), for the per-client cap; NULL skips it.
    client             TEXT,
    created_at         INTEGER NOT NULL,
    expires_at         INTEGER NOT NULL,
    CHECK (end_time > start_time),
    CHECK (occupied_start <= start_time AND occupied_end >= end_time),
    -- The same bound as bookings: the overlap queries rely on it for both.
    CONSTRAINT hold_occupied_at_most_72_hours CHECK (occupied_end - occupied_start <= 259200000000)
) STRICT;

-- The overlap check and occupied-interval reads, bounded on both sides as
-- for bookings; `expires_at` and `id` make it covering (a booking that
-- replaces a hold skips that hold by id).
CREATE INDEX holds_occupied_start_idx
    ON holds (organizer_id, occupied_start, occupied_end, expires_at, id);
-- Limit counts and booked starts of one event type.
CREATE INDEX holds_event_type_start_idx
    ON holds (organizer_id, event_type_id, start_time, expires_at, id);
-- The per-client cap.
CREATE INDEX holds_client_idx ON holds (organizer_id, client, expires_at) WHERE client IS NOT NULL;
-- The global lookup by token (a visitor books or releases with it), newest
-- first.
CREATE INDEX holds_token_hash_idx ON holds (token_hash, id);
-- purge_expired.
CREATE INDEX holds_expires_idx ON holds (expires_at);

-- 4. Idempotency keys, scoped to an organizer and an operation (`create`,
-- `reschedule:{id}`, `cancel:{id}`), by the SHA-256 of the client's key.
-- Pending while `outcome` is NULL; a claim older than the stale limit may
-- be taken over; after `expires_at` the key is free again. Only hashes are
-- stored: the key itself never is.
CREATE TABLE idempotency_keys (
    organizer_id TEXT    NOT NULL REFERENCES organizers (id) ON DELETE CASCADE,
    operation    TEXT    NOT NULL,
    key_hash     TEXT    NOT NULL,
    fingerprint  TEXT    NOT NULL,
    claimed_at   INTEGER NOT NULL,
    outcome      TEXT,
    expires_at   INTEGER NOT NULL,
    PRIMARY KEY (organizer_id, operation, key_hash)
) STRICT, WITHOUT ROWID;

-- purge_expired.
CREATE INDEX idempotency_keys_expires_idx ON idempotency_keys (expires_at);

-- 5. The outbox: one event per committed booking change, written in the
-- same transaction as the change. `seq` is AUTOINCREMENT, so numbers only
-- grow and are never reused; since SQLite commits one writer at a time,
-- they are also exactly the commit order. `payload` is booking-core's
-- JSON, opaque here.
CREATE TABLE booking_events (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           TEXT    NOT NULL UNIQUE,
    organizer_id TEXT    NOT NULL REFERENCES organizers (id) ON DELETE CASCADE,
    booking_id   TEXT    NOT NULL,
    kind         TEXT    NOT NULL
                         CHECK (kind IN ('booking.created', 'booking.rescheduled', 'booking.cancelled')),
    occurred_at  INTEGER NOT NULL,
    payload      TEXT    NOT NULL,
    dispatched   INTEGER NOT NULL DEFAULT 0 CHECK (dispatched IN (0, 1))
) STRICT;

-- The dispatcher's scan: undispatched events, oldest first.
CREATE INDEX booking_events_undispatched_idx ON booking_events (seq) WHERE dispatched = 0;

-- 6. The job queue: one job per (queue, event, target), written together
-- with the events' `dispatched` mark. A job is claimed by setting its lease
-- (`lease_until`) inside a write transaction, so two workers, in any
-- processes, never hold it at once; it is claimable only while no job of
-- the same queue, booking and target with a smaller `seq` is still pending
-- (in order per booking). `last_status` is the receiver's status (HTTP,
-- SMTP).
CREATE TABLE jobs (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           TEXT    NOT NULL UNIQUE,
    queue        TEXT    NOT NULL,
    organizer_id TEXT    NOT NULL REFERENCES organizers (id) ON DELETE CASCADE,
    event_id     TEXT    NOT NULL,
    booking_id   TEXT    NOT NULL,
    target       TEXT    NOT NULL,
    payload      TEXT    NOT NULL,
    status       TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'dead')),
    attempts     INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    run_at       INTEGER NOT NULL,
    lease_until  INTEGER,
    last_error   TEXT,
    last_status  INTEGER CHECK (last_status IS NULL OR last_status BETWEEN 0 AND 65535),
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    UNIQUE (queue, event_id, target)
) STRICT;

-- Claims: a queue's pending jobs in enqueue order...
CREATE INDEX jobs_pending_idx ON jobs (queue, seq) WHERE status = 'pending';
-- ...each checked for an older pending job of its booking and target.
CREATE INDEX jobs_pending_line_idx ON jobs (queue, booking_id, target, seq) WHERE status = 'pending';
-- An organizer's jobs of a queue, newest first.
CREATE INDEX jobs_organizer_idx ON jobs (organizer_id, queue, seq);

-- 7. Records: an organizer's small satellite data (sessions, webhook
-- endpoints, connected calendars, ...) in one shape; `data` is
-- booking-core's JSON, opaque here. The lookup key (a token's hash) is
-- unique within its kind and a global lookup.
CREATE TABLE records (
    kind         TEXT    NOT NULL,
    id           TEXT    NOT NULL,
    organizer_id TEXT    NOT NULL REFERENCES organizers (id) ON DELETE CASCADE,
    lookup       TEXT,
    data         TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    PRIMARY KEY (kind, id),
    UNIQUE (kind, lookup)
) STRICT, WITHOUT ROWID;

-- An organizer's records of a kind, oldest first.
CREATE INDEX records_organizer_idx ON records (organizer_id, kind, created_at, id);
