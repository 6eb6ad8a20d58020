//! # booking-sqlite
//!
//! The embedded default [`BookingStore`](booking_core::store::BookingStore)
//! for `booking-core`: everything in one SQLite file (bundled SQLite, nothing
//! to install), as safe against double booking as the PostgreSQL store, even
//! with many threads and several processes writing the same file.
//!
//! ```no_run
//! # async fn demo() -> Result<(), booking_sqlite::OpenError> {
//! let store = booking_sqlite::SqliteStore::open("bookings.db").await?;
//! # Ok(()) }
//! ```
//!
//! ## The guarantee
//!
//! [`insert_booking`](booking_core::store::BookingStore::insert_booking) runs
//! the overlap check and the insert in **one `BEGIN IMMEDIATE` transaction**:
//!
//! ```sql
//! BEGIN IMMEDIATE;              -- takes the database's single write lock now
//! SELECT EXISTS (SELECT 1 FROM bookings
//!   WHERE organizer_id = ? AND deleted_at IS NULL
//!     AND occupied_end > :start AND occupied_start < :end);
//! INSERT INTO bookings ...;     -- only if nothing overlapped
//! COMMIT;
//! ```
//!
//! SQLite lets at most one connection, across **all processes** using the
//! file, hold the write lock. `IMMEDIATE` takes it *before* the check rather
//! than at the first write, so the check reads the latest committed state
//! and nothing can be committed between the check and the insert. Two writers
//! racing for overlapping times are therefore serialized, and the second one
//! sees the first one's booking and gets
//! [`StoreError::Conflict`](booking_core::store::StoreError::Conflict). (A
//! plain `BEGIN` would not do: in WAL mode the check would read an older
//! snapshot, and upgrading it to a write fails with `SQLITE_BUSY_SNAPSHOT`.)
//! Occupied intervals are half-open, so bookings that only touch do not
//! conflict, and cancelled bookings (`deleted_at` set) occupy nothing.
//!
//! Every other write (creating an organizer, saving settings, cancelling) is
//! also one `BEGIN IMMEDIATE` transaction that checks and writes, so, for
//! example, a username is checked for uniqueness under the same lock it is
//! inserted under, and cancelling twice reports `AlreadyCancelled` exactly
//! once.
//!
//! ## Threading model
//!
//! rusqlite is synchronous, so every operation runs inside one
//! [`tokio::task::spawn_blocking`] call and never blocks the async executor:
//!
//! * **one writer connection** behind an async mutex. Writers of this process
//!   queue on the mutex (in order, without holding a thread) instead of
//!   spinning in SQLite's busy handler; a write transaction is short, so one
//!   connection is all SQLite could use anyway (it allows one writer at a
//!   time);
//! * **a pool of reader connections** (4 by default, opened when first
//!   needed, `PRAGMA query_only`), so reads run in parallel with each other
//!   and, thanks to WAL, with the writer. Reads that need several queries
//!   (a page and its total count, or the booking context) run in one read
//!   transaction and see one consistent snapshot.
//!
//! An in-memory database ([`SqliteStore::open_in_memory`]) has a single
//! connection for everything, because every connection to `:memory:` is a
//! separate database.
//!
//! Cancelling the future of a write does not cancel the write: once its
//! blocking closure has started it runs to `COMMIT` or `ROLLBACK`, so a
//! transaction is never left half-done.
//!
//! ## Several processes
//!
//! Several processes (or several [`SqliteStore`]s in one process) may open
//! the same file. Each connection has a busy timeout (5 s by default, see
//! [`SqliteOptions::busy_timeout`]): a writer that finds another process
//! holding the write lock waits for it, and only after the timeout fails
//! with [`StoreError::Backend`](booking_core::store::StoreError::Backend),
//! having written nothing. Opening and migrating are safe to race too.
//!
//! Pragmas set on every connection: `journal_mode = WAL` (persistent in the
//! file), `busy_timeout`, `foreign_keys = ON`, `synchronous = NORMAL`. With
//! `synchronous = NORMAL` in WAL mode a power cut can lose the last commits
//! but never corrupts the file or breaks the no-overlap rule.
//!
//! **WAL caveats.** WAL coordinates processes through a shared-memory file
//! (`bookings.db-shm`), so every process must run on the **same machine**:
//! do not put the database on a network file system (NFS, SMB, most
//! container volume drivers that are network-backed), where locking and
//! shared memory are unreliable and the guarantee above cannot hold. Keep
//! `bookings.db`, `-wal` and `-shm` together; back up with `sqlite3
//! bookings.db ".backup copy.db"` (or `VACUUM INTO`), not by copying the
//! main file alone while it is in use. A file system that refuses WAL makes
//! SQLite keep its rollback journal: the store logs a warning and stays
//! correct (the guarantee rests on the write lock, not on WAL), but readers
//! then wait for writers.
//!
//! ## Storage format
//!
//! Tables and meanings are those of `booking-postgres`: `organizers`,
//! `organizer_settings` and the seed's `bookings` (plus the buffers in force
//! when it was made, its `occupied_start`/`occupied_end` and the hash of its
//! cancel token), with the seed's two indexes. In SQLite types:
//!
//! * **instants are `INTEGER` microseconds since 1970-01-01 UTC.** Integers
//!   order exactly and compare cheaply, so the range tests in SQL
//!   (`occupied_end > ?`, `start_time >= ?`) are correct by construction,
//!   with no format or time-zone subtleties as with text; microseconds are
//!   PostgreSQL's `timestamptz` precision, so both stores return identical
//!   values; and 64 bits of microseconds cover chrono's entire range. Finer
//!   instants are rounded outward (start down, end up), so a stored interval
//!   always contains the requested one and rounding can never hide an
//!   overlap;
//! * durations are `INTEGER` seconds (`*_secs` columns); a booking's buffers
//!   are rounded up to the second;
//! * ids are ULID text, token hashes 64 lowercase hex characters (only
//!   hashes are stored, never tokens), JSON (`metadata`, `weekly_hours`,
//!   `date_overrides`) is `TEXT` checked with `json_valid`;
//! * tables are `STRICT`, and `CHECK (end_time > start_time)` holds.
//!
//! Values read back are validated into domain types (settings through
//! `OrganizerSettings::try_from`); a row that does not validate, for example
//! one edited by hand, is reported as
//! [`StoreError::Corrupt`](booking_core::store::StoreError::Corrupt).
//!
//! ## Migrations
//!
//! The schema ships inside the crate as plain SQL files
//! (`booking-sqlite/migrations/*.sql`, see [`MIGRATIONS`]) and the level
//! reached is `PRAGMA user_version`. [`SqliteStore::open`] migrates forward
//! automatically, all pending steps in one transaction; see [`migrate`].

mod bookings;
mod config;
mod connection;
mod context;
mod convert;
mod error;
mod migrations;
mod organizers;
mod sql;
mod store;

pub use connection::SqliteOptions;
pub use error::{Error, Unstorable};
pub use migrations::{MIGRATIONS, Migration, SCHEMA_LEVEL, migrate, schema_level};
pub use store::SqliteStore;

/// The rusqlite version this crate is built with, re-exported so callers of
/// [`migrate`] use the same `Connection` type.
pub use rusqlite;
