-- booking-postgres schema, version 3: the booking lifecycle (reschedules,
-- sequence numbers, slot holds), the outbox (booking events and the job
-- queue), idempotency keys and generic organizer records (booking-core's
-- issues 13 to 16).
--
-- Upgrades a version-2 database in place, data included: every existing
-- booking becomes a confirmed booking at sequence 0 that never moved; every
-- event type lets visitors hold a slot for 5 minutes (booking-core's
-- default); the new tables start empty.
--
-- Distribution (issue 18): every new table carries organizer_id. Holds live
-- in `bookings`, keyed like bookings. booking_events, jobs and records are
-- read by global keys too (an event's number, a job's queue, a record's
-- lookup key): the API reads the outbox across organizers, so these tables
-- stay global (or become reference tables) when bookings are distributed.

-- ------------------------------------------------------------------ holds
--
-- A hold is a row of `bookings` with status 'held', so the one exclusion
-- constraint, bookings_no_overlap, keeps holds and bookings apart exactly as
-- it keeps bookings apart: a hold and a booking racing for one slot cannot
-- both be written, whoever writes them. A hold keeps:
--   id                 the hold's id (a ULID, like booking ids);
--   event_type_id      the event type whose slot it is (never NULL);
--   start/end, buffers, occupied bounds   as a booking of the slot would;
--   cancel_token_hash  the SHA-256 of the hold's token;
--   hold_client        who took it (a client address), for the per-client cap;
--   created_at         when it was taken;
--   hold_expires_at    when it ends by itself.
-- Its attendee, title, slug, description and metadata are NULL.
--
-- An expired hold counts for nothing: every read filters on
-- hold_expires_at > now. The exclusion constraint cannot (its predicate
-- must be immutable), so a store whose insert or move is refused by an
-- expired hold marks that hold ended (deleted_at = hold_expires_at) and
-- tries once more. Releasing or booking a hold deletes its row; purging
-- deletes expired ones.

ALTER TABLE bookings
    ADD COLUMN status                 text        NOT NULL DEFAULT 'confirmed',
    ADD COLUMN hold_expires_at        timestamptz,
    ADD COLUMN hold_client            text,
    -- 0 when booked, one more on every reschedule and on cancellation (the
    -- SEQUENCE of calendar invitations).
    ADD COLUMN sequence               integer     NOT NULL DEFAULT 0,
    -- The meeting's time before its last reschedule; NULL if it never moved.
    ADD COLUMN rescheduled_from_start timestamptz,
    ADD COLUMN rescheduled_from_end   timestamptz;

ALTER TABLE bookings
    ALTER COLUMN attendant_name DROP NOT NULL,
    ALTER COLUMN attendant_email DROP NOT NULL,
    ALTER COLUMN title DROP NOT NULL,
    ALTER COLUMN event_type_slug DROP NOT NULL,
    ADD CONSTRAINT bookings_status_known CHECK (status IN ('confirmed', 'held')),
    -- What a confirmed booking and a hold each must (not) have.
    ADD CONSTRAINT bookings_status_shape CHECK (
        (status = 'confirmed'
            AND attendant_name IS NOT NULL AND attendant_email IS NOT NULL
            AND title IS NOT NULL AND event_type_slug IS NOT NULL
            AND hold_expires_at IS NULL AND hold_client IS NULL)
        OR (status = 'held'
            AND event_type_id IS NOT NULL AND hold_expires_at IS NOT NULL
            AND attendant_name IS NULL AND attendant_email IS NULL AND title IS NULL
            AND event_type_slug IS NULL AND description IS NULL AND metadata IS NULL
            AND sequence = 0 AND rescheduled_from_start IS NULL)
    ),
    ADD CONSTRAINT bookings_sequence_not_negative CHECK (sequence >= 0),
    ADD CONSTRAINT bookings_rescheduled_from_shape CHECK (
        (rescheduled_from_start IS NULL AND rescheduled_from_end IS NULL)
        OR (rescheduled_from_start IS NOT NULL AND rescheduled_from_end IS NOT NULL
            AND rescheduled_from_end > rescheduled_from_start)
    );

-- A hold by its token (global: the token is all a visitor presents).
CREATE INDEX bookings_hold_token_idx ON bookings (cancel_token_hash) WHERE status = 'held';
-- A client's unexpired holds on an organizer (the per-client cap).
CREATE INDEX bookings_hold_client_idx ON bookings (organizer_id, hold_client)
    WHERE status = 'held' AND deleted_at IS NULL;
-- Expired holds, for purging.
CREATE INDEX bookings_hold_expiry_idx ON bookings (hold_expires_at) WHERE status = 'held';

-- ------------------------------------------------------------ event types

-- How long a visitor may hold one of its slots; zero disables holds.
ALTER TABLE event_types
    ADD COLUMN hold_duration interval NOT NULL DEFAULT '5 minutes',
    ADD CONSTRAINT event_types_hold_duration_not_negative CHECK (hold_duration >= interval '0');

-- ---------------------------------------------------------- booking events

-- The transactional outbox: one row per booking change, written by the same
-- statement as the change. seq numbers events in insertion order (under
-- concurrent writers a later number may commit first, so consumers go
-- through dispatching and jobs, never a cursor on seq). payload is the
-- event as JSON text, kept verbatim (text, not jsonb, which would
-- reformat it).
CREATE TABLE booking_events (
    seq          bigint      GENERATED ALWAYS AS IDENTITY,
    id           text        NOT NULL,                      -- ULID
    organizer_id text        NOT NULL REFERENCES organizers (id) ON DELETE CASCADE,
    booking_id   text        NOT NULL,
    kind         text        NOT NULL,                      -- booking.created, ...
    occurred_at  timestamptz NOT NULL,
    payload      text        NOT NULL,
    dispatched   boolean     NOT NULL DEFAULT false,
    CONSTRAINT booking_events_pkey PRIMARY KEY (seq),
    CONSTRAINT booking_events_id_key UNIQUE (id)
);

CREATE INDEX booking_events_undispatched_idx ON booking_events (seq) WHERE NOT dispatched;

-- -------------------------------------------------------------------- jobs

-- The durable queue of side effects: one job per (queue, event, target).
-- A worker claims pending, due jobs that no lease holds (FOR UPDATE SKIP
-- LOCKED), one more attempt each, leased until lease_until; a job waits
-- while an older job (smaller seq) of the same queue, booking and target is
-- still pending, so one booking's deliveries go in order.
CREATE TABLE jobs (
    seq          bigint      GENERATED ALWAYS AS IDENTITY,
    id           text        NOT NULL,                      -- ULID
    queue        text        NOT NULL,
    organizer_id text        NOT NULL REFERENCES organizers (id) ON DELETE CASCADE,
    event_id     text        NOT NULL,
    booking_id   text        NOT NULL,
    target       text        NOT NULL,                      -- '' when the queue has one target
    payload      text        NOT NULL,
    status       text        NOT NULL DEFAULT 'pending',
    attempts     integer     NOT NULL DEFAULT 0,
    run_at       timestamptz NOT NULL,                      -- next attempt (pending) or when it finished
    lease_until  timestamptz,                               -- claimed by a worker until then
    last_error   text,
    last_status  integer,                                   -- HTTP status, SMTP code
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    CONSTRAINT jobs_pkey PRIMARY KEY (seq),
    CONSTRAINT jobs_id_key UNIQUE (id),
    CONSTRAINT jobs_once_per_target UNIQUE (queue, event_id, target),
    CONSTRAINT jobs_status_known CHECK (status IN ('pending', 'done', 'dead')),
    CONSTRAINT jobs_attempts_not_negative CHECK (attempts >= 0)
);

-- Due jobs of a queue, oldest first.
CREATE INDEX jobs_pending_idx ON jobs (queue, seq) WHERE status = 'pending';
-- The in-order rule: an older pending job of the same queue, booking, target.
CREATE INDEX jobs_in_order_idx ON jobs (queue, booking_id, target, seq) WHERE status = 'pending';
-- An organizer's jobs, newest first.
CREATE INDEX jobs_organizer_idx ON jobs (organizer_id, queue, seq);

-- -------------------------------------------------------- idempotency keys

-- One row per (organizer, operation, key hash): pending while outcome is
-- NULL (claimed at claimed_at), done with the recorded outcome, forgotten at
-- expires_at. Claimed by one INSERT ... ON CONFLICT DO UPDATE ... WHERE
-- (expired, or pending and stale), atomic across processes.
CREATE TABLE idempotency_keys (
    organizer_id text        NOT NULL REFERENCES organizers (id) ON DELETE CASCADE,
    operation    text        NOT NULL,                      -- create, reschedule:{id}, cancel:{id}
    key_hash     text        NOT NULL,                      -- SHA-256 of the key, hex
    fingerprint  text        NOT NULL,                      -- SHA-256 of the request, hex
    claimed_at   timestamptz NOT NULL,
    outcome      text,
    expires_at   timestamptz NOT NULL,
    CONSTRAINT idempotency_keys_pkey PRIMARY KEY (organizer_id, operation, key_hash)
);

CREATE INDEX idempotency_keys_expiry_idx ON idempotency_keys (expires_at);

-- ----------------------------------------------------------------- records

-- An organizer's small satellite data (sessions, webhook endpoints, feed
-- tokens, ...) in one shape; data is JSON text that only booking-core
-- reads. lookup (a token's hash) is unique within a kind and looked up
-- globally.
CREATE TABLE records (
    kind         text        NOT NULL,
    id           text        NOT NULL,
    organizer_id text        NOT NULL REFERENCES organizers (id) ON DELETE CASCADE,
    lookup       text,
    data         text        NOT NULL,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz,
    CONSTRAINT records_pkey PRIMARY KEY (kind, id),
    CONSTRAINT records_lookup_key UNIQUE (kind, lookup)
);

CREATE INDEX records_organizer_idx ON records (organizer_id, kind, created_at);
