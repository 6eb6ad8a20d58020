//! # booking-postgres
//!
//! A [`BookingStore`](booking_core::store::BookingStore) on PostgreSQL
//! (15 or later), built with [sqlx], in which **the database itself makes
//! double booking impossible** and an event type's booking limits hold
//! exactly, however many processes book at once.
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
//! ## The guarantee: no overlaps
//!
//! Every booking row stores its *occupied interval* (the meeting widened by
//! the buffers in force when it was made) as two plain columns,
//! `occupied_start` and `occupied_end`, and the table carries an exclusion
//! constraint:
//!
//! ```sql
//! CONSTRAINT bookings_no_overlap EXCLUDE USING gist (
//!     organizer_id WITH =,
//!     tstzrange(occupied_start, occupied_end, '[)') WITH &&
//! ) WHERE (deleted_at IS NULL)
//! ```
//!
//! PostgreSQL itself refuses any second active booking of an organizer whose
//! occupied interval overlaps another, of any event type, whoever writes it,
//! from however many processes: there is no check-then-insert race anywhere,
//! and locks in front of the store are only early refusals. The bounds are
//! stored rather than computed inside the constraint because an exclusion
//! constraint's expressions must be immutable and `timestamptz + interval`
//! is not. The `organizer_id WITH =` part needs the `btree_gist` extension,
//! which the first migration creates (`CREATE EXTENSION IF NOT EXISTS
//! btree_gist`).
//!
//! A booking without limits is inserted by a single statement:
//!
//! ```sql
//! INSERT INTO bookings (...) VALUES (...)
//! ON CONFLICT ON CONSTRAINT bookings_no_overlap DO NOTHING
//! RETURNING ...
//! ```
//!
//! and no row back means [`StoreError::Conflict`]. A plain `INSERT` that
//! catches the constraint's violation (SQLSTATE 23P01) would also be correct,
//! but when many transactions race for one slot it can end in deadlocks
//! (40P01): each waits on the others' not-yet-committed conflicting index
//! entries. `ON CONFLICT ... DO NOTHING` uses speculative insertion, which
//! PostgreSQL accepts for exclusion constraints (with `DO NOTHING` only) and
//! which does not deadlock; the concurrency tests race 64 tasks for the same
//! slots to show it.
//!
//! ## Limits: exact under concurrency
//!
//! An event type may allow at most N bookings per local day or week
//! ([`NewBooking::limits`](booking_core::booking::NewBooking::limits): for
//! each limit, a UTC range and a maximum). A count checked in one statement
//! and an insert in another would let two bookers both see "one place left".
//! So only when a booking carries limits, its insert is one READ COMMITTED
//! transaction of two statements:
//!
//! 1. `SELECT 1 FROM event_types WHERE organizer_id = $1 AND id = $2 FOR NO KEY UPDATE`
//!    locks the event type's row until the transaction ends;
//! 2. one statement counts, for each limit, the event type's active bookings
//!    starting in its range, inserts (with the same `ON CONFLICT ... DO
//!    NOTHING` as above) only when every count is below its maximum, and
//!    returns the inserted row, or the number of the first full limit and
//!    whether an active booking overlaps, all from one snapshot;
//!
//! then `COMMIT` (or `ROLLBACK` when nothing was inserted). The transaction
//! starts with `BEGIN ISOLATION LEVEL READ COMMITTED`, whatever the server's
//! or role's `default_transaction_isolation`: under REPEATABLE READ the
//! count would use the snapshot taken before the lock was granted and miss
//! the booking its previous holder just committed (a test races 64 bookers
//! over a pool whose sessions default to REPEATABLE READ).
//!
//! **Why it is exact.** Everyone inserting a limited booking of that event
//! type takes the same row lock first and holds it until commit, so these
//! inserts run one after the other. In READ COMMITTED every statement takes
//! a new snapshot when it starts; statement 2 starts after the lock was
//! granted, that is after the previous holder committed (or rolled back), so
//! its count includes every limited booking committed before it, and no
//! other limited booking of the event type can commit until this transaction
//! ends. The count is therefore the true number of active bookings, and the
//! insert happens only below the maximum. Cancelling needs no lock: it only
//! lowers counts (at worst a racing insert still sees the booking and is
//! refused). The lock is taken on the event type's own row (keyed by
//! `organizer_id`), not with an advisory lock, so under Citus it is routed
//! to the organizer's shard like the rest of the transaction. `FOR NO KEY
//! UPDATE` does not conflict with the `KEY SHARE` locks of foreign-key
//! checks, so inserts without limits never wait for it.
//!
//! Why nothing was inserted is decided inside that same transaction and
//! snapshot: an overlap is [`StoreError::Conflict`] (as in every store, a
//! taken slot is reported first), otherwise a full limit is
//! [`StoreError::LimitReached`] naming its period, otherwise the exclusion
//! constraint refused it (an overlap committed a moment ago):
//! [`StoreError::Conflict`].
//!
//! Cost per booking: without limits one statement and one round trip; with
//! limits two statements in a transaction, four round trips (`BEGIN`, lock,
//! insert, `COMMIT`; sqlx offers no pipelining), and limited bookings of one
//! event type are serialized (bookings of other event types and organizers
//! are not).
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
//! [`StoreError::ScheduleInUse`], and any failure rolls back everything,
//! the version included. Constraints are checked statement by statement, so
//! the order of the changes matters: the service clears the old default
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
//!   day of a week as an ISO day number, the location as `jsonb`), and
//!   `(organizer_id, schedule_id)` referencing `schedules`, so a schedule in
//!   use cannot be deleted;
//! * `bookings`: the meeting, the attendee (in the columns `attendant_name`
//!   and `attendant_email`, the design document's names), the buffers in
//!   force, the occupied bounds, the cancel token's hash, soft deletion
//!   (`deleted_at`), `CHECK (end_time > start_time)`, the exclusion
//!   constraint above, and `event_type_id` (referencing `event_types` by
//!   `(organizer_id, event_type_id)`, `ON DELETE SET NULL (event_type_id)`:
//!   a deleted event type's bookings stay) and `event_type_slug` (the slug
//!   when booked).
//!
//! Every table other than `organizers` is keyed by `organizer_id` and every
//! hot-path statement carries it, so the schema maps onto hash partitioning
//! or Citus by organizer.
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
//! intervals to the microsecond; instants are rounded outward to it, so
//! storage never hides an overlap.
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
//!
//! ## Queries
//!
//! All SQL is checked at run time (`sqlx::query` with bound parameters), not
//! with sqlx's compile-time `query!` macros: those need a live database or
//! committed offline data at build time, and this crate must build anywhere
//! with no database at all. Every statement is covered by the integration
//! tests against a real PostgreSQL.
//!
//! * [`booking_context`](booking_core::store::BookingStore::booking_context),
//!   on the booking hot path, is one query: the organizer (by id, or by
//!   username: exact, else ignoring case) with its configuration version,
//!   the event type by slug, the schedule it uses (its own or the default),
//!   the occupied intervals overlapping the range, and the booked starts
//!   when the event type has limits, in a single row (`LATERAL`
//!   aggregations).
//! * [`organizer_config`](booking_core::store::BookingStore::organizer_config)
//!   is one query, so the version and the rows come from one snapshot.
//! * [`list_bookings`](booking_core::store::BookingStore::list_bookings) pages
//!   with `LIMIT`/`OFFSET` and counts in SQL, in one query; ranges are
//!   half-open UTC ranges compared in SQL.
//! * [`cancel_booking`](booking_core::store::BookingStore::cancel_booking) is
//!   one `UPDATE ... WHERE deleted_at IS NULL RETURNING`, plus one read only
//!   when nothing was updated, to tell "not found" from "already cancelled".
//! * [`check_health`](booking_core::store::BookingStore::check_health) is
//!   `SELECT 1`.
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
//! [`StoreError::Conflict`]: booking_core::store::StoreError::Conflict
//! [`StoreError::LimitReached`]: booking_core::store::StoreError::LimitReached
//! [`StoreError::ConfigChanged`]: booking_core::store::StoreError::ConfigChanged
//! [`StoreError::SlugTaken`]: booking_core::store::StoreError::SlugTaken
//! [`StoreError::ScheduleInUse`]: booking_core::store::StoreError::ScheduleInUse
//! [`StoreError::Corrupt`]: booking_core::store::StoreError::Corrupt
//! [`StoreError::Backend`]: booking_core::store::StoreError::Backend

mod config;
mod connect;
mod contention;
mod decode;
mod encode;
mod error;
mod holds;
mod idempotency;
mod insert;
mod lifecycle;
mod outbox;
mod records;
mod sql;
mod store;
#[cfg(feature = "testing")]
pub mod testing;

pub use connect::{MIGRATIONS_TABLE, PostgresOptions, PostgresStore, migrator};
pub use error::Error;

/// The names of the schema's constraints that the store maps to domain
/// errors, exposed so tests and operators can refer to them.
pub mod constraints {
    /// The exclusion constraint that forbids overlapping active bookings of
    /// one organizer.
    pub const NO_OVERLAP: &str = "bookings_no_overlap";
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
