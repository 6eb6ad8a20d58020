//! # booking-postgres
//!
//! A [`BookingStore`](booking_core::store::BookingStore) on PostgreSQL, built
//! with [sqlx], in which **the database itself makes double booking
//! impossible**.
//!
//! ```no_run
//! use std::sync::Arc;
//! use booking_core::store::BookingStore;
//! use booking_postgres::PostgresStore;
//!
//! # async fn run() -> Result<(), booking_core::store::StoreError> {
//! let store = PostgresStore::connect("postgres://postgres@127.0.0.1:5432/postgres").await?;
//! store.migrate().await?; // the application decides when the schema is brought up to date
//! let store: Arc<dyn BookingStore> = Arc::new(store);
//! # Ok(()) }
//! ```
//!
//! ## The guarantee
//!
//! Every booking row stores its *occupied interval* (the meeting widened by the
//! buffers in force when it was made) as two plain columns, `occupied_start`
//! and `occupied_end`, and the table carries an exclusion constraint:
//!
//! ```sql
//! CONSTRAINT bookings_no_overlap EXCLUDE USING gist (
//!     organizer_id WITH =,
//!     tstzrange(occupied_start, occupied_end, '[)') WITH &&
//! ) WHERE (deleted_at IS NULL)
//! ```
//!
//! PostgreSQL itself refuses any second active booking of an organizer whose
//! occupied interval overlaps the first, whoever writes it, from however many
//! processes: there is no check-then-insert race anywhere, and locks in front
//! of the store are only early refusals. The bounds are stored rather than
//! computed inside the constraint because an exclusion constraint's
//! expressions must be immutable and `timestamptz + interval` is not. The
//! `organizer_id WITH =` part needs the `btree_gist` extension, which the
//! first migration creates (`CREATE EXTENSION IF NOT EXISTS btree_gist`).
//!
//! [`insert_booking`](booking_core::store::BookingStore::insert_booking) is a
//! single statement:
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
//! ## Schema
//!
//! The embedded migrations in `migrations/` are plain SQL meant to be read:
//!
//! * `organizers`: the seed's users (ULID text id, unique username, email,
//!   display name) plus home time zone and the SHA-256 hash of the API token
//!   (hex text, unique);
//! * `organizer_settings`: one row per organizer (time zone, durations as
//!   `interval`s, weekly hours and date overrides as `jsonb` in
//!   booking-core's serde format), deleted with its organizer;
//! * `bookings`: the seed's table column for column, with its two indexes and
//!   its `ON DELETE CASCADE` foreign key to `organizers`, plus the buffers in
//!   force (`buffer_before`, `buffer_after`), the occupied bounds, the cancel
//!   token's hash, `CHECK (end_time > start_time)` and the exclusion
//!   constraint above.
//!
//! Tables are created and queried **unqualified**: they live in the first
//! schema of the connection's `search_path` (normally `public`). The
//! migration history is kept in its own table, [`MIGRATIONS_TABLE`], not in
//! sqlx's default `_sqlx_migrations`, so it never collides with the host
//! application's own sqlx migrations in the same database.
//!
//! Values read back are checked: a row edited by hand into something
//! booking-core would refuse (an unknown time zone, settings that fail
//! validation, a malformed id) surfaces as [`StoreError::Corrupt`], never as
//! a panic. PostgreSQL keeps instants and intervals to the microsecond.
//!
//! ## Queries
//!
//! All SQL is checked at run time (`sqlx::query` with bound parameters), not
//! with sqlx's compile-time `query!` macros: those need a live database or
//! committed offline data at build time, and this crate must build anywhere
//! with no database at all. The schema is small and every query is covered
//! by the integration tests against a real PostgreSQL instead.
//!
//! * [`booking_context`](booking_core::store::BookingStore::booking_context),
//!   which sits on the booking hot path, is one query: organizer, settings and
//!   the occupied intervals overlapping the range (aggregated into two arrays)
//!   come back in a single row. A booking is thus two round trips: that query
//!   and the insert.
//! * [`list_bookings`](booking_core::store::BookingStore::list_bookings) pages
//!   with `LIMIT`/`OFFSET` and counts in SQL, in one query; date ranges are
//!   half-open UTC ranges compared in SQL (`start_time >= $from AND
//!   start_time < $to`), so there is no "end of day in the server's local
//!   time" bug like the seed's `setHours(23, 59, 59, 999)`.
//! * [`cancel_booking`](booking_core::store::BookingStore::cancel_booking) is
//!   one `UPDATE ... WHERE deleted_at IS NULL RETURNING`, plus one read only
//!   when nothing was updated, to tell "not found" from "already cancelled".
//!
//! Every driver error (lost connection, timeout, ...) comes back as
//! [`StoreError::Backend`] with the sqlx error as its source; every write is a
//! single statement, so a failed operation leaves nothing behind.
//!
//! ## Connecting and testing
//!
//! Pass a [`PgPool`](sqlx::PgPool) you built ([`PostgresStore::new`]) or a URL
//! ([`PostgresStore::connect`]), then call [`PostgresStore::migrate`] (or the
//! free [`migrate`]) once at start-up.
//!
//! The integration tests run against a real server named by the
//! `DATABASE_URL` environment variable, by default
//! `postgres://postgres@127.0.0.1:5432/postgres`. Each test works in its own
//! fresh schema (`bk_test_...`), so they run in parallel; a test that cannot
//! reach the server fails with a message saying so. The schemas come from
//! the `testing` module (feature `testing`), which applications can use for
//! their own tests against PostgreSQL too.
//!
//! [`StoreError::Conflict`]: booking_core::store::StoreError::Conflict
//! [`StoreError::Corrupt`]: booking_core::store::StoreError::Corrupt
//! [`StoreError::Backend`]: booking_core::store::StoreError::Backend

mod decode;
mod store;
#[cfg(feature = "testing")]
pub mod testing;

pub use store::{MIGRATIONS_TABLE, PostgresStore, migrate, migrator};

/// The names of the schema's constraints that the store maps to domain errors,
/// exposed so tests and operators can refer to them.
pub mod constraints {
    /// The exclusion constraint that forbids overlapping active bookings of
    /// one organizer.
    pub const NO_OVERLAP: &str = "bookings_no_overlap";
    /// The unique constraint on `organizers.username`.
    pub const USERNAME_UNIQUE: &str = "organizers_username_key";
}
