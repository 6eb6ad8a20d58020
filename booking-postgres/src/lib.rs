//! # booking-postgres
//!
//! A [`BookingStore`](booking_core::store::BookingStore) on PostgreSQL
//! (15 or later), built with [sqlx], in which **the database itself makes
//! double booking impossible** (slot holds included), an event type's
//! booking limits hold exactly, and every booking change writes its event
//! in the same statement, however many processes book at once.
//!
//! ```no_run
//! use booking_core::BookingService;
//! use booking_postgres::{PostgresOptions, PostgresStore};
//!
//! # async fn run() -> Result<(), booking_postgres::Error> {
//! let store = PostgresStore::connect(
//!     "postgres://postgres@127.0.0.1:5432/postgres",
//!     PostgresOptions::default(), // 10 connections, 5 s timeouts
//! )
//! .await?;
//! store.migrate().await?; // the application decides when the schema changes
//! let service = BookingService::new(store);
//! # Ok(()) }
//! ```
//!
//! [`PostgresStore::connect`] builds a pool from a URL and
//! [`PostgresOptions`]; [`PostgresStore::from_pool`] takes a pool the
//! application built itself (TLS, `search_path`, other limits). Neither
//! migrates: [`PostgresStore::migrate`] does, when called. Both report
//! failures as [`Error`]; the store's operations report
//! [`StoreError`](booking_core::store::StoreError) like every store.
//!
//! ## The guarantee: no overlaps, of bookings and holds alike
//!
//! Every row of `bookings` stores its *occupied interval* (the meeting
//! widened by the buffers in force when it was written) as two plain
//! columns, `occupied_start` and `occupied_end`, and the table carries an
//! exclusion constraint:
//!
//! ```sql
//! CONSTRAINT bookings_no_overlap EXCLUDE USING gist (
//!     organizer_id WITH =,
//!     tstzrange(occupied_start, occupied_end, '[)') WITH &&
//! ) WHERE (deleted_at IS NULL)
//! ```
//!
//! PostgreSQL itself refuses any second row of an organizer whose occupied
//! interval overlaps another's, of any event type, whoever writes it, from
//! however many processes: there is no check-then-insert race anywhere, and
//! locks in front of the store are only early refusals. The bounds are
//! stored rather than computed inside the constraint because an exclusion
//! constraint's expressions must be immutable and `timestamptz + interval`
//! is not. The `organizer_id WITH =` part needs the `btree_gist` extension,
//! which the first migration creates.
//!
//! ## Holds are rows of `bookings`
//!
//! A slot hold is a row of `bookings` with `status = 'held'` (bookings have
//! `'confirmed'`): the hold's id, event type, meeting, buffers and occupied
//! bounds as a booking of the slot would have them, its token's hash in
//! `cancel_token_hash`, `hold_client`, `hold_expires_at`, and no attendee,
//! title or slug (a CHECK, `bookings_status_shape`, keeps the two shapes
//! apart). So the one exclusion constraint keeps holds and bookings apart
//! exactly as it keeps bookings apart: a hold and a booking racing for one
//! slot cannot both be written. A separate table for holds would need a lock
//! around every insert of either to get the same guarantee, and the booking
//! without limits would lose its one-statement path. Every read of bookings
//! (`booking`, `list_bookings`) reads `status = 'confirmed'` only; every read
//! of occupied time or counted starts reads *live* rows: not cancelled, and
//! for a hold, `hold_expires_at` after the instant of the read (an expired
//! hold counts for nothing, with no clean-up first). Releasing a hold, or
//! booking it, deletes its row; [`purge_expired`] deletes expired ones.
//! Deleting an event type ends its holds (a hold always names its event
//! type). A hold of an event type that no longer exists is
//! [`StoreError::ConfigChanged`].
//!
//! ## Inserting: one statement
//!
//! A booking or a hold is inserted by one statement, `sql::bookings::INSERT`,
//! whose parts are data-modifying `WITH` queries:
//!
//! ```sql
//! WITH settings AS (... FOR SHARE),    -- the organizer's configuration version, when one is given
//!      checks AS (...),                -- each limit: live rows of the event type starting in its range
//!      replaced AS (DELETE ... hold),  -- the hold this booking replaces, if one is given and still live
//!      refusal AS (...),               -- version moved on? hold missing? first full limit? client over its cap?
//!      inserted AS (
//!          INSERT INTO bookings (...) SELECT ... FROM refusal WHERE <nothing refused>
//!          ON CONFLICT DO NOTHING
//!          RETURNING ...),
//!      event AS (INSERT INTO booking_events ... FROM inserted),
//!      completed AS (UPDATE idempotency_keys SET outcome = ... WHERE EXISTS (SELECT 1 FROM inserted))
//! SELECT <the refusals>, <when nothing was inserted: whether a live row overlaps,
//!        whether the id exists>, inserted.*
//! ```
//!
//! The event and the idempotency key are written only with the row, in the
//! same statement, so a refusal writes nothing. `ON CONFLICT DO NOTHING`
//! makes an overlap insert nothing instead of raising 23P01; PostgreSQL
//! accepts it for exclusion constraints (with `DO NOTHING` only). It names
//! no conflict target, so every unique and exclusion constraint of the
//! table is an arbiter: the exclusion constraint(s) and the primary key (a
//! second row with the same id is reported as [`StoreError::Corrupt`]);
//! naming the constraint is impossible in the partitioned layout, where
//! each partition has its own (see below), so both layouts run the very
//! same statement. Its
//! speculative insertion does not deadlock when many transactions race for
//! one slot, where a plain `INSERT` catching 23P01 can (each waiting on the
//! others' uncommitted index entries). Why nothing was inserted comes from
//! the same statement: an overlap is [`StoreError::Conflict`] (a taken slot
//! is reported first, as by every store), then a full limit is
//! [`StoreError::LimitReached`] naming its period, then the client cap is
//! [`StoreError::TooManyHolds`]; a hold to replace that is gone or expired is
//! [`StoreError::HoldNotFound`].
//!
//! **A booking without limits or hold is that one statement, autocommitted,
//! one round trip**, with its event and idempotency completion; it runs
//! the same statement without `checks` and `replaced` (`INSERT_PLAIN`,
//! same parameters and answer), because PostgreSQL sets up every part of
//! a generic plan on each execution, even the parts that find nothing to
//! do. Only when a
//! write needs more does it run in a READ COMMITTED transaction: `BEGIN`,
//! the locks below, the statement, `COMMIT` (or `ROLLBACK` when it inserted
//! nothing, which also undoes the replaced hold's deletion).
//!
//! **Bookings made at the same moment share one statement.** Under
//! concurrent load, the bookings and holds of that kind (no limit, no hold
//! to replace, no client cap) waiting at the same moment are inserted by
//! one statement, `INSERT_BATCH` (up to [`MAX_BATCH`] rows, one array
//! parameter per column): most of a one-row statement's server CPU is the
//! statement (its messages, executor start-up, snapshot, commit), not the
//! row, and a batch pays it once. A caller queues its row and waits for its
//! answer or for one of [`PostgresOptions::insert_batches`] writer permits;
//! the caller that gets a permit runs every queued row (its own row alone
//! as the one-row statement above, so an idle store costs what it did).
//! The batch checks each row's configuration version under the same
//! `FOR SHARE` lock and inserts `ON CONFLICT DO NOTHING`, which also
//! refuses a row overlapping an earlier row of the same statement; it
//! returns the inserted rows. A row it did not insert, and every row of a
//! batch whose statement failed (a deleted event type's foreign key, a
//! deadlock between two batches, a lost connection), is tried again alone,
//! which says why exactly as without batching (a row the failed statement
//! did commit is recognized as the caller's own). `tests/batches.rs`
//! composes batches with a row of every kind.
//!
//! A booking whose event type was deleted since the caller read it (the
//! foreign key, or the lock, finds none) is stored as the contract says:
//! without an event type id, keeping its slug, counting for no limit.
//!
//! ## Limits and the client cap: exact under concurrency
//!
//! An event type may allow at most N bookings per local day or week
//! ([`NewBooking::limits`](booking_core::booking::NewBooking::limits): for
//! each limit, a UTC range and a maximum), holds counting like bookings. A
//! count in one snapshot and an insert racing another would let two bookers
//! both see "one place left". So a write with limits first locks its event
//! type's row,
//!
//! ```sql
//! SELECT 1 FROM event_types WHERE organizer_id = $1 AND id = $2 FOR NO KEY UPDATE
//! ```
//!
//! (a move locks its booking's event type the same way), and then runs its
//! statement. **Why it is exact:** everyone writing a limited booking or
//! hold of that event type takes the same row lock first and holds it until
//! commit, so these writes run one after the other. In READ COMMITTED every
//! statement takes a new snapshot when it starts; the statement starts after
//! the lock was granted, that is after the previous holder committed (or
//! rolled back), so its count includes every limited row committed before
//! it, and no other limited row of the event type can commit until this
//! transaction ends. The count is therefore the true number of live
//! bookings and holds, and the insert happens only below the maximum.
//! Cancelling, releasing and expiring need no lock: they only lower counts.
//! The lock is the event type's own row (keyed by `organizer_id`), not an
//! advisory lock, so under Citus it is routed to the organizer's shard like
//! the rest of the transaction; `FOR NO KEY UPDATE` does not conflict with
//! the `KEY SHARE` locks of foreign-key checks, so writes without limits
//! never wait for it. The per-client cap of holds is exact the same way,
//! with the organizer's row locked (before any event type, in the order a
//! configuration change takes them, so the two never deadlock).
//!
//! Every transaction starts with `BEGIN ISOLATION LEVEL READ COMMITTED`,
//! whatever the server's or role's `default_transaction_isolation`: under
//! REPEATABLE READ the count would use a snapshot taken before the lock was
//! granted (a test races bookers over sessions that default to it).
//!
//! ## Expired holds and other races: one more try
//!
//! The exclusion constraint cannot know that a hold expired (its predicate
//! must be immutable), so an expired hold not yet purged still refuses an
//! overlapping insert or move. A write's statement counts only live rows,
//! so when the constraint refused it although nothing live overlaps in the
//! statement's snapshot, the refusal is unexplained: an expired hold, an
//! overlap committed a moment after the snapshot, or (for a move, an
//! `UPDATE`, which cannot say `ON CONFLICT DO NOTHING`) the exclusion
//! violation 23P01 of a racing write, a **deadlock** (40P01: two moves each
//! waiting for the other's new index entry; PostgreSQL fails one) or, in a
//! session at REPEATABLE READ, a serialization failure (40001). In each case
//! the statement wrote nothing. The store then runs one statement that marks
//! the overlapping expired holds ended (`deleted_at = hold_expires_at`,
//! locking them in id order so two such statements never deadlock) and
//! looks again, in a fresh snapshot, for a live row in the way: one there is
//! [`StoreError::Conflict`]; none, and the write is **tried once more**;
//! refused again, it is a conflict. The no-hold, no-limit booking thus stays
//! one statement when it succeeds or is plainly refused, and costs three
//! only when an expired hold or a race was in its way. A test makes such a
//! deadlock certain and shows the move tried once more; others show that an
//! expired hold never blocks an insert, a limited insert, a hold or a move.
//!
//! ## Moving and cancelling
//!
//! [`reschedule_booking`](booking_core::store::BookingStore::reschedule_booking)
//! is one `UPDATE` of the times, buffers and occupied bounds (`sequence + 1`,
//! the old time into `rescheduled_from_start/end`, `updated_at`), guarded by
//! the expected sequence, by the limits (the booking itself not counted)
//! and by a look for a live overlapping row in its snapshot, with its event
//! written by the same statement; the exclusion constraint checks the new
//! row version, and the booking's own old version (deleted by the same
//! transaction) never blocks it. The same statement reads the booking as it
//! was, so a refusal names its cause: not found (or another organizer's),
//! already cancelled, changed, conflict, limit. With limits it runs after
//! the event type lock, in a transaction.
//! [`cancel_booking`](booking_core::store::BookingStore::cancel_booking) is
//! one `UPDATE` of the booking by id and organizer (`deleted_at`,
//! `updated_at`, `sequence + 1`, guarded by the expected sequence when
//! given) writing its event in the same statement, which also reads the
//! booking's state to tell why nothing changed (not found, or another
//! organizer's; already cancelled; changed).
//!
//! ## Idempotency keys
//!
//! `idempotency_keys` holds one row per (organizer, operation, key hash).
//! A claim is one statement:
//!
//! ```sql
//! INSERT INTO idempotency_keys AS k (...) VALUES (..., outcome NULL, ...)
//! ON CONFLICT ON CONSTRAINT idempotency_keys_pkey DO UPDATE SET ...
//! WHERE k.expires_at <= EXCLUDED.claimed_at                      -- expired: a fresh claim
//!    OR (k.outcome IS NULL AND k.fingerprint = EXCLUDED.fingerprint
//!        AND k.claimed_at < $stale_before)                          -- abandoned: taken over
//! RETURNING true
//! ```
//!
//! A row back: claimed. Racing claims wait on each other's unique index
//! entry, then find the winner's fresh claim and do not take it over, so
//! exactly one wins (32 claims through two pools, for a free, a stale and an
//! expired key, test it). No row: a second statement (a new snapshot, which
//! sees a record committed after the first began) reads the record: another
//! fingerprint is a mismatch, an outcome is `Done`, else in progress. A
//! booking completes its key in its own insert statement.
//!
//! ## The outbox: events and jobs
//!
//! Every insert, move and cancellation that carries an
//! [`EventRecord`](booking_core::event::EventRecord) writes it into
//! `booking_events` in the same statement (numbered by an identity column,
//! `seq`; its payload kept verbatim as text). [`dispatch_events`] is one
//! statement that inserts the jobs, in the order given (`ON CONFLICT ON
//! CONSTRAINT jobs_once_per_target DO NOTHING`: one job per queue, event and
//! target), and marks the events dispatched. [`claim_jobs`] is one
//! statement:
//!
//! ```sql
//! UPDATE jobs SET attempts = attempts + 1, lease_until = $lease, updated_at = $now
//! WHERE seq IN (
//!     SELECT c.seq FROM jobs c
//!     WHERE c.queue = $queue AND c.status = 'pending' AND c.run_at <= $now
//!       AND (c.lease_until IS NULL OR c.lease_until <= $now)
//!       AND NOT EXISTS (SELECT 1 FROM jobs e                     -- in order per booking and target
//!                       WHERE e.queue = c.queue AND e.booking_id = c.booking_id
//!                         AND e.target = c.target AND e.status = 'pending' AND e.seq < c.seq)
//!     ORDER BY c.seq LIMIT $limit
//!     FOR UPDATE SKIP LOCKED)
//! RETURNING ...
//! ```
//!
//! Rows another claim has locked are skipped; a row claimed and committed
//! since this statement's snapshot is re-checked on its newest version when
//! locked, and its lease makes it drop out: no job is handed to two workers
//! (tested with workers of two pools draining one queue, and shown to fail
//! without `FOR UPDATE SKIP LOCKED`).
//!
//! ## Records
//!
//! `records` keeps every kind of an organizer's satellite data in one shape,
//! keyed by `(kind, id)`, `UNIQUE (kind, lookup)` (another record of the
//! kind with the same lookup is [`StoreError::Conflict`]), data as text.
//!
//! ## Configuration: versioned, all or nothing
//!
//! [`update_config`](booking_core::store::BookingStore::update_config) runs
//! in one transaction that starts with a compare-and-set,
//! `UPDATE organizers SET config_version = config_version + 1 WHERE id = $1
//! AND config_version = $2 RETURNING config_version`; no row back means
//! [`StoreError::ConfigChanged`] (or `OrganizerNotFound`). Its row lock makes
//! concurrent changes of one organizer wait for each other, and the later one
//! then matches nothing. Then each change runs in order; a slug used twice
//! (23505 on `event_types_slug_key`) is [`StoreError::SlugTaken`], a schedule
//! still in use (23503 on `event_types_schedule_fkey`) is
//! [`StoreError::ScheduleInUse`], a second default schedule is
//! [`StoreError::Unstorable`], and any failure rolls back everything, the
//! version included. Constraints are checked statement by statement, so the
//! order of the changes matters: the service clears the old default
//! schedule before it sets a new one.
//!
//! ## Schema
//!
//! The embedded migrations in `migrations/` are plain SQL meant to be read:
//!
//! * `organizers`: ULID text id, username (unique as written) and
//!   `username_key` (the username in ASCII lowercase, unique, so usernames
//!   are unique ignoring case), email, display name, home time zone, the
//!   SHA-256 hash of the API token (hex text, unique), `config_version`;
//! * `schedules`: primary key `(organizer_id, id)`, name, zone, weekly hours
//!   and date overrides as `jsonb` in booking-core's serde shape,
//!   `is_default` (a partial unique index allows one default per organizer);
//! * `event_types`: primary key `(organizer_id, id)`, `UNIQUE (organizer_id,
//!   slug)`, every field of [`EventType`](booking_core::EventType) as a
//!   column (durations as `interval`, lengths offered as `interval[]`, the
//!   booking window as a kind and its columns, limits as integers, the first
//!   day of a week as an ISO day number, the location as `jsonb`, the hold
//!   duration), and `(organizer_id, schedule_id)` referencing `schedules`,
//!   so a schedule in use cannot be deleted;
//! * `bookings`: bookings and holds (`status`); the meeting, the attendee (in
//!   the columns `attendant_name` and `attendant_email`, the design
//!   document's names), the buffers in force, the occupied bounds, the
//!   cancel (or hold) token's hash, soft deletion (`deleted_at`), `sequence`,
//!   `rescheduled_from_start/end`, `hold_client`, `hold_expires_at`, the
//!   exclusion constraint above, and `event_type_id` (referencing
//!   `event_types` by `(organizer_id, event_type_id)`, `ON DELETE SET NULL
//!   (event_type_id)`: a deleted event type's bookings stay) and
//!   `event_type_slug` (the slug when booked);
//! * `booking_events` (`seq`, id, organizer, booking, kind, instant,
//!   payload, `dispatched`), `jobs` (`seq`, id, queue, organizer, event,
//!   booking, target, payload, status, attempts, `run_at`, `lease_until`,
//!   last error and status, `UNIQUE (queue, event_id, target)`),
//!   `idempotency_keys` and `records`.
//!
//! Every table other than `organizers` carries `organizer_id`; schedules,
//! event types and idempotency keys are keyed by it (bookings too in the
//! partitioned layout, where their key is `(organizer_id, id)`) and every
//! hot-path statement carries it, so they map onto hash partitioning (see
//! "Partitioned layout") or Citus by organizer. Some lookups are global by
//! nature and documented as such: a booking by id (what a cancel or
//! reschedule link names; the cancellation and the move themselves then
//! name the organizer too), a hold by its token's hash and a hold's release
//! (the visitor has only the token), a record by its lookup key, and the
//! outbox (events by number, jobs by queue), which the API reads across
//! organizers.
//!
//! Tables are created and queried **unqualified**: they live in the first
//! schema of the connection's `search_path` (normally `public`). The
//! migration history is kept in its own table, [`MIGRATIONS_TABLE`], not in
//! sqlx's default `_sqlx_migrations`, so it never collides with the host
//! application's own sqlx migrations in the same database.
//!
//! Values read back are checked: a row edited by hand into something
//! booking-core could not have written (an unknown time zone, hours that do
//! not parse, a malformed id or slug, a zero length) surfaces as
//! [`StoreError::Corrupt`], never as a panic. PostgreSQL keeps instants and
//! intervals to the microsecond; meeting times are rounded outward to it and
//! hold expiries up, so storage never hides an overlap or shortens a hold.
//! Values the columns cannot hold (an interval with nanoseconds, an instant
//! outside PostgreSQL's range, a NUL character in text: SQLSTATE class 22)
//! are [`StoreError::Unstorable`].
//!
//! ## Partitioned layout
//!
//! [`PostgresStore::migrate_with`] with
//! [`MigrateOptions::partitions`] lays the hot path's per-organizer tables,
//! `bookings` (with the holds) and `idempotency_keys` ([`PARTITIONED_TABLES`]),
//! out as `PARTITION BY HASH (organizer_id)` into N partitions
//! (`bookings_p0` ... `bookings_p{N-1}`, `idempotency_keys_p0` ...):
//!
//! ```no_run
//! use booking_postgres::{Layout, MigrateOptions, PostgresOptions, PostgresStore};
//!
//! # async fn run() -> Result<(), booking_postgres::Error> {
//! let store = PostgresStore::connect(
//!     "postgres://postgres@127.0.0.1:5432/postgres",
//!     PostgresOptions::default(),
//! )
//! .await?;
//! store.migrate_with(MigrateOptions::default().partitions(8)).await?;
//! assert_eq!(store.layout().await?, Some(Layout::HashPartitioned { partitions: 8 }));
//! # Ok(()) }
//! ```
//!
//! The default ([`PostgresStore::migrate`], or `MigrateOptions::default()`)
//! keeps whatever layout the database has, and a fresh schema gets one plain
//! table each, so nothing changes for a database that never asks.
//!
//! * **The guarantee is the same.** PostgreSQL 15 cannot declare an
//!   exclusion constraint on a partitioned table, so each partition of
//!   `bookings` carries its own copy of `bookings_no_overlap`, named
//!   `bookings_p{i}_no_overlap` ([`constraints::is_no_overlap`] recognizes
//!   both spellings). The constraint compares `organizer_id WITH =`, and all
//!   rows of one organizer hash to one partition, so one partition's
//!   constraint sees every row it must keep apart: exactly the single
//!   table's guarantee. An `UPDATE` of `organizer_id` (the store never makes
//!   one) moves the row to the new organizer's partition, whose constraint
//!   checks it like an insert, so no move across partitions can create an
//!   overlap either (a test tries).
//! * **Keys.** A primary key of a partitioned table must include the
//!   partition key, so `bookings_pkey` becomes `(organizer_id, id)`; ids are
//!   ULIDs, unique by construction, and unique per organizer by the
//!   database. An index on `id` alone (`bookings_id_idx`, one per partition)
//!   serves the lookups by id, which probe every partition's index: a
//!   booking by id, a hold's release and a hold by its token (a cancellation
//!   and a move name the organizer, so they use one partition's primary
//!   key). `idempotency_keys_pkey` is already
//!   `(organizer_id, operation, key_hash)`.
//! * **The statements are the same** in both layouts; every hot-path
//!   statement names `organizer_id`, so PostgreSQL prunes it to one
//!   partition. Only the insert's `ON CONFLICT` could not name its
//!   constraint (see "Inserting").
//! * **What stays one table:** `organizers` (looked up by username and token
//!   hash across organizers), `schedules` and `event_types` (small), the
//!   outbox (`booking_events` and `jobs`, read by number and queue across
//!   organizers) and `records` (looked up by kind and lookup key).
//!
//! **Fresh or converted.** On a fresh schema the migrations create the
//! plain tables and `migrate_with` converts them at once (empty, so
//! instantly). On an existing database it converts them too, data included,
//! in one transaction: the tables are renamed aside, the partitioned ones
//! created from them (`LIKE`, so columns, defaults, CHECKs and comments come
//! along), their keys, foreign keys and indexes declared again, the rows
//! copied and the old tables dropped, under an `ACCESS EXCLUSIVE` lock that
//! makes every booking wait until it commits (plan it for a quiet moment on
//! a large table). A failed conversion leaves nothing behind. Later calls
//! with the same number do nothing and take no lock; another number is
//! [`Error::PartitionCountMismatch`] (re-partitioning is not supported, nor
//! is going back to one table). Running processes need no restart: no
//! statement differs between the layouts. Migrations added later must work
//! on both layouts (no exclusion or unique constraint without
//! `organizer_id` on a partitioned table, no `CREATE INDEX CONCURRENTLY`),
//! and an index they add to `bookings` must be added to the conversion
//! too; a test compares the two layouts' catalogs.
//!
//! The same keys map onto Citus (`create_distributed_table('bookings',
//! 'organizer_id')`); ARCHITECTURE.md ("Scaling out") has the DDL.
//!
//! ## Migrations
//!
//! * `0001_booking_schema.sql`: organizers, their settings, bookings.
//! * `0002_schedules_event_types.sql`: upgrades a database in place, data
//!   included. Each organizer's settings become their default schedule
//!   ("Working hours") and default event type (slug `default`, title
//!   "Meeting", the settings' length, step, buffers and notice, a rolling
//!   window of the settings' `max_advance`, no limits, active, on the
//!   default schedule), both with the organizer's own id as their id; their
//!   bookings are attached to it; their configuration starts at version 1.
//!   Organizers without settings get nothing (version 0). Usernames that
//!   already differ only in case stay reachable by their exact spelling (the
//!   later ones get a `username_key` of `lowercase#id`), and no new such
//!   duplicate can register. Lengths under 5 minutes are carried over as
//!   they are.
//! * `0003_lifecycle_outbox.sql`: holds, sequence numbers and reschedules in
//!   `bookings`, hold durations, the outbox, idempotency keys and records.
//!   Existing bookings become confirmed bookings at sequence 0 that never
//!   moved; existing event types hold slots for 5 minutes.
//!
//! ## Statements and round trips per operation
//!
//! All SQL is checked at run time (`sqlx::query` with bound parameters), not
//! with sqlx's compile-time `query!` macros: those need a live database or
//! committed offline data at build time, and this crate must build anywhere
//! with no database at all. Every statement is covered by the integration
//! tests against a real PostgreSQL, and a test counts the round trips below
//! at a recording proxy. sqlx's pool adds one lone `Sync` when it takes a
//! connection back, after the operation returned; the one-statement booking
//! and hold inserts do not go through the pool but through connections the
//! store keeps apart for them
//! ([`PostgresOptions::booking_connections`]), lent and taken back without
//! that test, so their one round trip is all they cost:
//!
//! | operation | round trips |
//! |---|---|
//! | booking without limits or hold (with its event and key), or its plain refusal | 1; under concurrent load, one for all the bookings of a batch (a refused row of a batch: 1 more, alone) |
//! | booking with limits | 4: `BEGIN`, event type lock, insert, `COMMIT`; 5 with a configuration version (the organizer's row first) |
//! | booking of a hold | 3: `BEGIN`, insert (deleting the hold), `COMMIT`; 4 with limits |
//! | hold without limits or client cap | 1 |
//! | hold with a client cap (and limits) | 4: `BEGIN`, organizer lock (and event type lock: 5), insert, `COMMIT` |
//! | write in the way of an expired hold, or losing a race | + 2: the retire-and-look statement, one more try |
//! | reschedule without limits | 1; with limits 4 |
//! | cancellation, dispatch, job claim, job finish | 1 |
//! | idempotency claim | 1 when claimed, else 2 |
//! | [`booking_context`](booking_core::store::BookingStore::booking_context), [`organizer_config`](booking_core::store::BookingStore::organizer_config), [`list_bookings`](booking_core::store::BookingStore::list_bookings) | 1 each |
//!
//! [`booking_context`](booking_core::store::BookingStore::booking_context),
//! read on the booking path when the service has no kept configuration
//! (and for every slot list), is one query: the organizer (by id, or by
//! username: exact, else ignoring case) with its configuration version, the
//! event type by slug, the schedule it uses (its own or the default), the
//! occupied intervals of live bookings and holds overlapping the range, and
//! the counted starts when the event type has limits, in a single row
//! (`LATERAL` aggregations). `list_bookings` pages with `LIMIT`/`OFFSET` and
//! counts in SQL, in one query, cancelled bookings included from
//! [`cancelled_since`](booking_core::store::BookingQuery::cancelled_since) on.
//! [`check_health`](booking_core::store::BookingStore::check_health) is
//! `SELECT 1`.
//!
//! ## Sessions
//!
//! The store's transactions set READ COMMITTED themselves; its single
//! statements run at the session's default level, READ COMMITTED unless a
//! pool from [`PostgresStore::from_pool`] changed it. At REPEATABLE READ a
//! single statement that meets a row committed after its snapshot fails to
//! serialize (40001) instead of re-checking it; inserts, moves,
//! cancellations, claims of keys and jobs, and dispatching then look again
//! (tested for inserts), other statements report it as
//! [`StoreError::Backend`], which may be retried.
//!
//! Every driver error (lost connection, timeout, ...) comes back as
//! [`StoreError::Backend`] with the sqlx error as its source; every write is
//! a single statement or a single transaction, so a failed operation leaves
//! nothing behind.
//!
//! ## Testing
//!
//! The integration tests run against a real server named by the
//! `DATABASE_URL` environment variable, by default
//! `postgres://postgres@127.0.0.1:5432/postgres`. Each test works in its own
//! fresh schema (`bk_test_...`), so they run in parallel, and the schema is
//! dropped when the test ends; a test that cannot reach the server fails
//! with a message saying so. The schemas come from the [`testing`] module
//! (feature `testing`), which applications can use for their own tests
//! against PostgreSQL too, and hand booking-core's conformance suite the
//! store with the schema as its guard:
//!
//! ```no_run
//! use booking_core::testkit::TestStore;
//! use booking_postgres::PostgresStore;
//! use booking_postgres::testing::{IsolatedSchema, database_url};
//!
//! async fn fresh_store() -> TestStore {
//!     let schema = IsolatedSchema::create(&database_url(), "myapp_test").await.unwrap();
//!     let store = PostgresStore::from_pool(schema.pool().clone());
//!     store.migrate().await.unwrap();
//!     TestStore::with_guard(store, schema.into_guard())
//! }
//! booking_core::store_conformance_tests!(fresh_store);
//! # fn main() {}
//! ```
//!
//! [`purge_expired`]: booking_core::store::BookingStore::purge_expired
//! [`dispatch_events`]: booking_core::store::BookingStore::dispatch_events
//! [`claim_jobs`]: booking_core::store::BookingStore::claim_jobs
//! [`StoreError::Conflict`]: booking_core::store::StoreError::Conflict
//! [`StoreError::LimitReached`]: booking_core::store::StoreError::LimitReached
//! [`StoreError::TooManyHolds`]: booking_core::store::StoreError::TooManyHolds
//! [`StoreError::HoldNotFound`]: booking_core::store::StoreError::HoldNotFound
//! [`StoreError::ConfigChanged`]: booking_core::store::StoreError::ConfigChanged
//! [`StoreError::SlugTaken`]: booking_core::store::StoreError::SlugTaken
//! [`StoreError::ScheduleInUse`]: booking_core::store::StoreError::ScheduleInUse
//! [`StoreError::Unstorable`]: booking_core::store::StoreError::Unstorable
//! [`StoreError::Corrupt`]: booking_core::store::StoreError::Corrupt
//! [`StoreError::Backend`]: booking_core::store::StoreError::Backend

mod batch;
mod config;
mod connect;
mod contention;
mod decode;
mod encode;
mod error;
mod holds;
mod idempotency;
mod insert;
mod lanes;
mod layout;
mod lifecycle;
mod outbox;
mod records;
mod sql;
mod store;
#[cfg(feature = "testing")]
pub mod testing;

pub use batch::{DEFAULT_INSERT_BATCHES, MAX_BATCH};
pub use connect::{
    IDLE_BEFORE_PING, MIGRATIONS_TABLE, PostgresOptions, PostgresStore, migrator, pool_options,
    session_options,
};
pub use error::Error;
pub use lanes::DEFAULT_BOOKING_CONNECTIONS;
pub use layout::{Layout, MAX_PARTITIONS, MigrateOptions, PARTITIONED_TABLES};

/// The names of the schema's constraints that the store maps to domain
/// errors, exposed so tests and operators can refer to them.
pub mod constraints {
    /// The exclusion constraint that forbids overlapping active bookings of
    /// one organizer, on `bookings` in the single-table layout. In the
    /// partitioned layout each partition `bookings_p{i}` carries its own,
    /// named `bookings_p{i}_no_overlap`: see [`is_no_overlap`].
    pub const NO_OVERLAP: &str = "bookings_no_overlap";

    /// Whether `constraint` is the exclusion constraint that forbids
    /// overlaps, in either layout: [`NO_OVERLAP`] on the single table, or
    /// `bookings_p{i}_no_overlap` on partition `i`.
    ///
    /// ```
    /// use booking_postgres::constraints::is_no_overlap;
    ///
    /// assert!(is_no_overlap("bookings_no_overlap"));
    /// assert!(is_no_overlap("bookings_p7_no_overlap"));
    /// assert!(!is_no_overlap("bookings_pkey"));
    /// assert!(!is_no_overlap("bookings_px_no_overlap"));
    /// ```
    pub fn is_no_overlap(constraint: &str) -> bool {
        constraint == NO_OVERLAP
            || constraint
                .strip_prefix("bookings_p")
                .and_then(|rest| rest.strip_suffix("_no_overlap"))
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    }
    /// The unique constraint on `organizers.username` (as written).
    pub const USERNAME_UNIQUE: &str = "organizers_username_key";
    /// The unique constraint on `organizers.username_key` (the username in
    /// ASCII lowercase): usernames are unique ignoring case.
    pub const USERNAME_KEY_UNIQUE: &str = "organizers_username_key_key";
    /// The unique constraint on `event_types (organizer_id, slug)`.
    pub const SLUG_UNIQUE: &str = "event_types_slug_key";
    /// The foreign key from `event_types` to `schedules`: a schedule in use
    /// cannot be deleted.
    pub const SCHEDULE_IN_USE: &str = "event_types_schedule_fkey";
    /// The partial unique index that allows one default schedule per
    /// organizer.
    pub const ONE_DEFAULT_SCHEDULE: &str = "schedules_one_default_idx";
    /// The foreign key from `bookings` to `event_types`, which sets a
    /// deleted event type's bookings' `event_type_id` to NULL.
    pub const BOOKING_EVENT_TYPE: &str = "bookings_event_type_fkey";
    /// The CHECK that a row of `bookings` is either a confirmed booking
    /// (attendee, title, slug; no expiry) or a hold (event type, expiry; no
    /// attendee).
    pub const BOOKING_STATUS_SHAPE: &str = "bookings_status_shape";
    /// The unique constraint on `jobs (queue, event_id, target)`: one job
    /// per queue, event and target.
    pub const ONE_JOB_PER_TARGET: &str = "jobs_once_per_target";
    /// The unique constraint on `records (kind, lookup)`.
    pub const RECORD_LOOKUP_UNIQUE: &str = "records_lookup_key";
}
