//! # booking-sqlite
//!
//! The embedded default [`BookingStore`](booking_core::store::BookingStore)
//! for `booking-core`: everything in one SQLite file (bundled SQLite, nothing
//! to install), as safe against double booking as the PostgreSQL store, even
//! with many threads and several processes writing the same file, with
//! per-day and per-week limits that hold exactly under the same races, slot
//! holds enforced exactly like bookings, atomic reschedules, idempotency
//! keys, and a transactional outbox (booking events and a job queue).
//!
//! ## Connecting
//!
//! ```toml
//! [dependencies]
//! booking-core = "0.1"
//! booking-sqlite = "0.1"
//! ```
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use booking_core::BookingService;
//! use booking_sqlite::{SqliteOptions, SqliteStore};
//!
//! # let dir = tempfile::tempdir()?;
//! # let path = dir.path().join("bookings.db");
//! let store = SqliteStore::open(path, SqliteOptions::default()).await?;
//! store.migrate().await?; // opening never migrates; do it once at start-up
//! let service = BookingService::new(store);
//! # Ok(()) }
//! ```
//!
//! [`SqliteStore::open`] opens (or creates) the file and switches it to WAL
//! mode; [`SqliteStore::open_in_memory`] gives a private database for tests
//! and demos. Neither migrates: [`SqliteStore::migrate`] is an explicit step
//! (see [Migrations](#migrations)), and
//! [`check_health`](booking_core::store::BookingStore::check_health) reports
//! a store that was not migrated. Both constructors and `migrate` fail with
//! this crate's one [`Error`] type; the [`BookingStore`] methods report
//! [`StoreError`](booking_core::store::StoreError).
//!
//! [`BookingStore`]: booking_core::store::BookingStore
//!
//! ## The guarantee
//!
//! [`insert_booking`](booking_core::store::BookingStore::insert_booking) runs
//! its checks and its writes in **one `BEGIN IMMEDIATE` transaction**:
//!
//! ```sql
//! BEGIN IMMEDIATE;              -- takes the database's single write lock now
//! SELECT EXISTS (organizer), EXISTS (event type), EXISTS (the replaced hold, unexpired);
//! SELECT EXISTS (SELECT 1 FROM bookings                      -- the overlap check
//!   WHERE organizer_id = ? AND deleted_at IS NULL
//!     AND occupied_start > :start - 72h AND occupied_start < :end
//!     AND occupied_end > :start)
//!     OR EXISTS (SELECT 1 FROM holds                         -- ... and holds
//!   WHERE organizer_id = ? AND occupied_start > :start - 72h AND occupied_start < :end
//!     AND occupied_end > :start AND expires_at > :now AND id IS NOT :replaced_hold);
//! SELECT COUNT(..bookings..) + COUNT(..holds..)              -- per limit, only if any
//!   ... event_type_id = ? AND start_time >= :day_start AND start_time < :day_end LIMIT :max;
//! DELETE FROM holds WHERE id = :replaced_hold;               -- only with a hold
//! UPDATE idempotency_keys SET outcome = ? WHERE ...;          -- only with a key
//! INSERT INTO bookings ...;     -- only if nothing overlapped and no limit is reached
//! INSERT INTO booking_events ...;                            -- only with an event
//! COMMIT;
//! ```
//!
//! SQLite lets at most one connection, across **all processes** using the
//! file, hold the write lock. `IMMEDIATE` takes it *before* the first read
//! rather than at the first write, so the checks read the latest committed
//! state and nothing can be committed between the checks and the insert.
//! Two writers racing for overlapping times are therefore serialized, and
//! the second one sees the first one's booking and gets
//! [`StoreError::Conflict`](booking_core::store::StoreError::Conflict). (A
//! plain `BEGIN` would not do: in WAL mode the check would read an older
//! snapshot, and upgrading it to a write fails with `SQLITE_BUSY_SNAPSHOT`.)
//! Occupied intervals (the meeting widened by its buffers) are half-open, so
//! bookings that only touch do not conflict, and cancelled bookings
//! (`deleted_at` set) occupy nothing. SQLite has no constraint that compares
//! intervals across rows (no exclusion constraint): the guarantee is these
//! checks under the write lock, so every write goes through the store.
//!
//! ### Limits are exact by construction
//!
//! A booking's [`limits`](booking_core::booking::NewBooking::limits) (at most
//! `max` active bookings and unexpired holds of its event type starting in a
//! local day or week) are counted **inside the same transaction**, after the
//! overlap check and before the insert. The count and the insert happen
//! under the one write lock, so no booking or hold of any process can be
//! committed between them: when 64 requests race for the last place of a
//! day, they are applied one after the other, the first finds `max - 1` and
//! inserts, every later one finds `max` and is refused with
//! [`StoreError::LimitReached`](booking_core::store::StoreError::LimitReached).
//! No counter row, no extra lock and no retry is needed: SQLite already
//! serializes writers, and a serialized check-then-insert is exact. The
//! count goes through the indexes `(organizer_id, event_type_id, start_time)`
//! of bookings and of holds and stops at `max` on each side (at most 5,000,
//! the largest weekly limit), and a booking without limits runs no count at
//! all, so it stays on the plain path. The conformance suite, a test with
//! four store instances (separate connections) on one file, and a test with
//! two operating-system processes race for the last place of a day and find
//! exactly one winner.
//!
//! ### Holds, moves, cancellations: the same lock
//!
//! Every other write is also one `BEGIN IMMEDIATE` transaction that checks
//! and writes, so each new rule of the booking lifecycle is a check made
//! under the same lock as its write:
//!
//! * **Holds** live in their own `holds` table. A hold is inserted with the
//!   same overlap and limit checks as a booking of its slot (both tables,
//!   at the hold's `created_at`) plus the per-client cap (the client's
//!   unexpired holds on the organizer, counted up to the cap →
//!   [`TooManyHolds`](booking_core::store::StoreError::TooManyHolds)), and
//!   every booking, move and hold checks the `holds` table as it checks
//!   `bookings`. So a hold and a booking racing for one slot are
//!   serialized like two bookings: exactly one wins. A hold expires by
//!   itself: every query that counts holds asks for `expires_at > :now`
//!   (the operation's instant), so an expired row counts for nothing with
//!   no clean-up first, and
//!   [`purge_expired`](booking_core::store::BookingStore::purge_expired)
//!   only keeps the table small. A booking that
//!   [replaces a hold](booking_core::booking::NewBooking::replaces_hold)
//!   finds it unexpired (else
//!   [`HoldNotFound`](booking_core::store::StoreError::HoldNotFound)), skips
//!   it in its checks and deletes it in its own transaction. Why not holds
//!   as rows of `bookings`, as the PostgreSQL store keeps them so that its
//!   one exclusion constraint covers both: here there is no such constraint
//!   to share; the write lock already orders every writer, so reading a
//!   second table inside the same transaction is exact, costs one more
//!   index probe in the same statement (the overlap check reads both tables
//!   in one `SELECT`), and keeps every read of bookings free of a filter.
//! * **Reschedules** read the booking (another organizer's is
//!   [`BookingNotFound`](booking_core::store::StoreError::BookingNotFound);
//!   a cancelled one
//!   [`AlreadyCancelled`](booking_core::store::StoreError::AlreadyCancelled);
//!   another sequence than the expected one
//!   [`BookingChanged`](booking_core::store::StoreError::BookingChanged)),
//!   check the new time against every other active booking and unexpired
//!   hold and against the limits, the booking itself left out **by its
//!   rowid** (which every index of `bookings` carries, so the check stays
//!   index-only), then one `UPDATE` moves it (`sequence + 1`,
//!   `rescheduled_from_*` = the old time, SQLite evaluating every `SET` on
//!   the old row) and the event is written. Either the booking is at the
//!   new time or it is unchanged at the old one.
//! * **Cancellations** are one `UPDATE ... WHERE id = :id AND organizer_id =
//!   :organizer AND deleted_at IS NULL [AND sequence = :expected] RETURNING`
//!   plus the event; when it changes nothing, the same transaction tells a
//!   missing booking (or another organizer's) from a cancelled one and from
//!   one that moved on.
//! * **Registrations** check the username key under the lock they insert
//!   under; [`update_config`](booking_core::store::BookingStore::update_config)
//!   first runs its compare-and-set
//!   (`UPDATE organizers SET config_version = config_version + 1 WHERE id = ? AND config_version = ?`;
//!   no row changed means [`ConfigChanged`](booking_core::store::StoreError::ConfigChanged)
//!   or an unknown organizer) and then applies the changes in order; a broken
//!   constraint becomes `SlugTaken`, `ScheduleInUse` or (a second default
//!   schedule) `Unstorable`, and rolls back all of it, the version bump
//!   included. SQLite checks constraints statement by statement, so the
//!   changes must be valid one after the other (the service demotes the old
//!   default schedule before writing the new one).
//!
//! ### Idempotency keys
//!
//! `idempotency_keys` is keyed by `(organizer_id, operation, key_hash)` and
//! keeps the request's fingerprint, `claimed_at`, the `outcome` (NULL while
//! pending) and `expires_at`; only hashes are stored. A claim is one upsert
//! in a write transaction:
//!
//! ```sql
//! INSERT INTO idempotency_keys VALUES (:scope, :fingerprint, :now, NULL, :expires)
//! ON CONFLICT (organizer_id, operation, key_hash) DO UPDATE SET ...
//! WHERE expires_at <= :now                                   -- expired: claimed afresh
//!    OR (outcome IS NULL AND fingerprint = :fingerprint
//!        AND claimed_at < :stale_before)                     -- abandoned: taken over
//! RETURNING 1;
//! ```
//!
//! A row back means the caller holds the key; otherwise one read of the row
//! says `Mismatch`, `Done(outcome)` or `InProgress`. Claims of one key from
//! any number of connections and processes take turns on the write lock, so
//! exactly one claims it (32 claims split over two processes: one winner).
//! A booking carrying its completion writes the outcome in its own
//! transaction, so a process dying right after the commit leaves a finished
//! key, never a second booking on retry.
//!
//! ### The outbox: events and jobs
//!
//! A change that carries an event (a booking, move or cancellation) inserts
//! it into `booking_events` in its own transaction: the event exists exactly
//! when the change committed. `seq` is an `AUTOINCREMENT` key, so numbers
//! only grow and are never reused, and since SQLite commits one writer at a
//! time they are exactly the commit order. Dispatching inserts the jobs
//! (`ON CONFLICT (queue, event_id, target) DO NOTHING`: two dispatchers
//! enqueue each job once) and marks the events, in one transaction. A job
//! claim is one `UPDATE jobs SET attempts = attempts + 1, lease_until = ?
//! WHERE seq IN (...) RETURNING ...` in a write transaction: the due pending
//! jobs of a queue whose lease lapsed, in `seq` order, skipping any job with
//! an older pending job of the same queue, booking and target (in order per
//! booking). The write lock serializes claims of every process, so SQLite
//! needs no `SKIP LOCKED`: a job is never leased to two workers at once.
//!
//! ### Records
//!
//! `records` holds an organizer's satellite data (sessions, webhook
//! endpoints, ...) in one shape, `PRIMARY KEY (kind, id)`,
//! `UNIQUE (kind, lookup)`: a second record of a kind with the same lookup
//! key is [`Conflict`](booking_core::store::StoreError::Conflict). Expired
//! records are ignored by the reads that take `now`.
//!
//! ### Statements per operation
//!
//! Each operation is one blocking call on one connection; SQLite runs in
//! the process, so there are no network round trips, and what an operation
//! costs is its statements (a unit test pins these lists with SQLite's own
//! statement tracing):
//!
//! | operation | statements between `BEGIN IMMEDIATE` and `COMMIT` |
//! |---|---|
//! | booking, no limits (the service's: with its event) | targets, overlap check (bookings + holds), `INSERT` booking, `INSERT` event |
//! | booking with limits | the same plus one count per limit (bookings + holds) |
//! | booking from a hold, under an idempotency key | targets, overlap check, `DELETE` hold, `UPDATE` key, `INSERT` booking (+ event) |
//! | hold | organizer, overlap check, limit counts if any, client count if a client, `INSERT` hold |
//! | reschedule | read the booking, overlap check, limit counts if any, `UPDATE ... RETURNING`, `INSERT` event |
//! | cancellation | `UPDATE ... RETURNING`, `INSERT` event |
//! | idempotency claim | one upsert; a read only when it did not take the key |
//! | job claim | one `UPDATE ... RETURNING` |
//! | `booking_context` (read transaction) | organizer, event type, schedule, occupied intervals (bookings and holds merged), counted starts if limits |
//! | `list_bookings` (read transaction) | count and page of active bookings from their partial index, in page order; with `cancelled_since` (calendar feeds) both through the organizer's start-time index, sorting only bookings that share a start |
//!
//! //! ### Bounded scans
//!
//! The overlap check and the occupied-interval reads (slot lists,
//! [`booking_context`](booking_core::store::BookingStore::booking_context))
//! range-scan the partial index
//! `bookings_active_occupied_start_idx (organizer_id, occupied_start, occupied_end)`
//! and `holds_occupied_start_idx` on **both** sides: `occupied_start` in
//! `(start - 72 h, end)`. The lower
//! bound is exact because no occupied interval is longer than 72 hours: a
//! meeting and each of its buffers are at most 24 hours
//! (`booking_core::event_type::MAX_SLOT_LENGTH`), so an interval that ends
//! after `start` began after `start - 72 h`. The cost of a check is
//! therefore that of the bookings within three days of the range, whatever
//! the organizer holds before or after (a test with 100,000 bookings after
//! the range and 100,000 before shows the plan and SQLite's own step count
//! staying at a few dozen steps, against 400,000 without the bound).
//!
//! The bound is an assumption about every row, so it is enforced, not just
//! assumed: the schema has `CHECK (occupied_end - occupied_start <= 72 h)`
//! on bookings and on holds, and the store refuses a longer booking, hold
//! or move before writing it with
//! [`StoreError::Unstorable`](booking_core::store::StoreError::Unstorable)
//! (the service's validation never produces one). Data stored by earlier versions
//! obeys the same bound, since their settings were validated the same way
//! (slot length and buffers at most 24 hours each); a file that breaks it
//! anyway is not migrated (the migration fails whole and leaves it as it
//! was), so the bound cannot silently fail to hold.
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
//! * **group commit for bookings and holds**: bookings and holds asked for
//!   while the writer is busy wait in a queue, and whoever gets the writer
//!   next writes all of them (up to 64) in one `BEGIN IMMEDIATE`
//!   transaction, each checked and written exactly as alone, and answers
//!   each after the `COMMIT`. A commit costs more than a booking's rows
//!   (every changed page goes to the WAL, then back into the file), so
//!   writes that share one go faster under load (about twice the bookings
//!   per second with 16 concurrent callers, see `benches/README.md`). A
//!   write refused by its checks wrote nothing (the checks only read), so
//!   the others stand; if anything else fails, the batch is rolled back and
//!   each write made again alone. Alone, a write is a transaction of its
//!   own, as before;
//! * **a pool of reader connections** (4 by default, opened when first
//!   needed, `PRAGMA query_only`), so reads run in parallel with each other
//!   and, thanks to WAL, with the writer. Reads that need several queries
//!   run in one read transaction and see one consistent snapshot: a page and
//!   its total count, an organizer's configuration, and `booking_context`
//!   (organizer by id or username, configuration version, event type by
//!   slug, its schedule, occupied intervals, and counted starts when the
//!   event type has limits: one blocking call, one snapshot).
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
//! **Health.** [`check_health`](booking_core::store::BookingStore::check_health)
//! takes the write lock (`BEGIN IMMEDIATE`), checks the schema level, and
//! rewrites the level in the file header before rolling back: a file this
//! process cannot write (read-only, or locked by another process past the
//! busy timeout) or one not yet migrated fails it, so a readiness probe
//! catches what would otherwise fail the first booking.
//!
//! ## Schema
//!
//! Keys are laid out for distribution by organizer: the primary and unique
//! keys of schedules, event types and idempotency keys begin with
//! `organizer_id`, every index the booking path reads (bookings, holds)
//! begins with it, and every statement on the booking path names the
//! organizer. The **global lookups**, which a distributed layout must route
//! separately, are: an organizer by username or token hash, a booking by id
//! (cancel links carry only the id), a hold by its token's hash (the
//! visitor has only the token), a record by `(kind, lookup)` (a session
//! token's hash), and the outbox's events and job queues, which workers of
//! all organizers share. All tables are `STRICT`.
//!
//! | table | holds | keys and constraints |
//! |---|---|---|
//! | `organizers` | the organizer, `config_version` (0 until the first configuration), `username_key` | `id`; `username` and `username_key` unique; `api_token_hash` unique |
//! | `schedules` | name, zone, `weekly_hours` and `date_overrides` (JSON in booking-core's serde shape), `is_default` | `(organizer_id, id)`; at most one default per organizer (partial unique index) |
//! | `event_types` | every field of an event type: durations in seconds, `duration_options` as a JSON array of seconds, the booking window as `window_kind` + horizon / days / first and last dates, `limit_per_day`, `limit_per_week`, `week_starts_on`, `location` as JSON, `active`, `hold_duration_secs` | `(organizer_id, id)`; `UNIQUE (organizer_id, slug)` (→ `SlugTaken`); `(organizer_id, schedule_id)` references a schedule of the same organizer, `NULL` meaning the default (deleting one in use → `ScheduleInUse`) |
//! | `bookings` | the booking, its buffers, `occupied_start`/`occupied_end`, `event_type_id` (`NULL` once its event type is deleted) and `event_type_slug` (as booked), `sequence` (one more per move and on cancellation), `rescheduled_from_start`/`_end` (the time before the last move) | `id`; `(organizer_id, event_type_id)` references an event type of the same organizer; a trigger nulls `event_type_id` alone when the event type is deleted (SQLite's `SET NULL` would null `organizer_id` too); `end_time > start_time`; occupied interval at most 72 hours; `rescheduled_from` both or neither, not empty |
//! | `holds` | a held slot: event type, times, buffers, occupied bounds, the token's hash, the client, `created_at`, `expires_at` | `id`; organizer's foreign key; same checks as bookings (72 hours); indexes by organizer on occupied start, on event type and start, on client, and by token hash and expiry |
//! | `idempotency_keys` | fingerprint, `claimed_at`, `outcome` (NULL while pending), `expires_at` | `(organizer_id, operation, key_hash)` |
//! | `booking_events` | `seq` (`AUTOINCREMENT`, commit order), the event's id, organizer, booking, kind, `occurred_at`, payload (JSON, opaque), `dispatched` | `seq`; `id` unique; known kinds only; a partial index on undispatched events |
//! | `jobs` | `seq` (enqueue order), id, queue, organizer, event, booking, target, payload, `status` (`pending`/`done`/`dead`), `attempts`, `run_at`, `lease_until`, `last_error`, `last_status`, `created_at`, `updated_at` | `seq`; `id` unique; `UNIQUE (queue, event_id, target)`; partial indexes on pending jobs per queue and per (queue, booking, target) |
//! | `records` | kind, id, organizer, optional lookup key, data (JSON, opaque), `created_at`, optional `expires_at` | `(kind, id)`; `UNIQUE (kind, lookup)` (→ `Conflict`) |
//!
//! The person who books is the API's **attendee**; the columns keep the
//! design document's names `attendant_name` and `attendant_email`.
//!
//! Usernames are unique regardless of ASCII case through `username_key`,
//! the lowercased name (SQLite's `lower()` and `COLLATE NOCASE` fold ASCII
//! only, which is what the contract asks). Files from before level 3 may
//! hold names that differ only in case: the migration gives the later of
//! them the key `lower(username) || '#' || id` (`#` cannot occur in a
//! username), so it does not fail on them and each stays reachable by its
//! exact spelling; a lookup prefers the exact spelling, then the key; a new
//! name is refused if its lowercase is any existing key.
//!
//! In SQLite types:
//!
//! * **instants are `INTEGER` microseconds since 1970-01-01 UTC.** Integers
//!   order exactly and compare cheaply, so the range tests in SQL are correct
//!   by construction, with no format or time-zone subtleties as with text;
//!   microseconds are PostgreSQL's `timestamptz` precision, so both stores
//!   return identical values; and 64 bits of microseconds cover chrono's
//!   entire range. Finer instants are rounded outward (start down, end up),
//!   so a stored interval always contains the requested one and rounding
//!   can never hide an overlap;
//! * durations are `INTEGER` seconds (`*_secs` columns); a booking's or
//!   hold's buffers are rounded up to the second, a configuration duration
//!   that is not a whole second is refused
//!   ([`StoreError::Unstorable`](booking_core::store::StoreError::Unstorable));
//! * instants that are not interval bounds (creation, cancellation, expiry,
//!   leases, claims) are truncated to the microsecond, and compared so that
//!   "unexpired at `now`" is exactly `expires_at > floor(now)`;
//! * ids are ULID text, token hashes 64 lowercase hex characters (only
//!   hashes are stored, never tokens), JSON is `TEXT` checked with
//!   `json_valid`, local dates are `YYYY-MM-DD` text.
//!
//! Values read back are parsed into domain types; a row that does not parse,
//! for example one edited by hand, is reported as
//! [`StoreError::Corrupt`](booking_core::store::StoreError::Corrupt). Event
//! types are not re-validated as new input would be: those migrated from old
//! settings may keep slot lengths under 5 minutes, which the engine handles.
//!
//! ## Migrations
//!
//! The schema ships inside the crate as plain SQL files
//! (`booking-sqlite/migrations/*.sql`, see [`MIGRATIONS`]) and the level
//! reached is `PRAGMA user_version` (today [`SCHEMA_LEVEL`] = 4).
//! [`SqliteStore::migrate`] (or the free function [`migrate`] on a
//! connection you manage) applies every pending step in one
//! `BEGIN IMMEDIATE` transaction, so a failure leaves the file as it was and
//! concurrent migrations from several processes apply it once. Level 3
//! rebuilds tables, which SQLite does safely only with foreign key
//! enforcement off; `migrate` switches it off for the upgrade, runs
//! `PRAGMA foreign_key_check` before committing, and restores it.
//!
//! Level 3 turns each organizer's old settings into their default schedule
//! ("Working hours", default) and default event type (slug `default`, title
//! "Meeting", the settings' lengths, buffers and notice, a rolling window of
//! the old `max_advance`, no limits, no location, active, on the default
//! schedule), **both with the organizer's own id as their id**, attaches
//! every existing booking to it (`event_type_slug = 'default'`), sets the
//! organizer's `config_version` to 1, and drops `organizer_settings`.
//! Organizers without settings get no configuration (version 0); their
//! bookings, if any, keep the slug `default` without an event type id. Slot
//! lengths under 5 minutes are carried over as they are.
//!
//! Level 4 adds the lifecycle and the outbox without rebuilding anything:
//! bookings gain `sequence` (0: existing bookings never moved) and
//! `rescheduled_from_start`/`_end` (NULL), event types gain
//! `hold_duration_secs` (300, booking-core's default), and the tables
//! `holds`, `idempotency_keys`, `booking_events`, `jobs` and `records`
//! start empty. Every stored value stays byte for byte what it was (a test
//! migrates a level-3 file filled as that release stored it and compares).
//!
//! A file at a newer level than this build knows is refused by both `open`
//! and `migrate` ([`Error::NewerSchema`]) and left untouched.
//!
//! ## Testing
//!
//! The crate's tests run booking-core's conformance suite and state machine
//! (`booking_core::store_conformance_tests!`) on a temporary file per test
//! and on an in-memory database, handing the suite the store itself through
//! `TestStore::with_guard(store, temp_dir)`; SQLite-specific tests cover
//! races across connections (`tests/store.rs`, `tests/lifecycle.rs`) and
//! across two operating-system processes (`tests/two_processes.rs`:
//! overlapping bookings, the last place of a day, two moves and an insert
//! into one slot, a hold against a booking, 32 claims of one idempotency
//! key, 96 jobs claimed by both processes), holds written in SQL, lock
//! waits, rounding, corrupt rows, the schema's constraints in raw SQL, the
//! bounded scans and query plans, the statements of each operation, and
//! migrations from levels 1, 2 and 3 with real data:
//!
//! ```text
//! cargo test -p booking-sqlite
//! ```

mod bookings;
mod config;
mod connection;
mod context;
mod convert;
mod error;
mod group_commit;
mod holds;
mod idempotency;
mod migrations;
mod occupancy;
mod organizers;
mod outbox;
mod records;
mod sql;
mod store;

pub use connection::SqliteOptions;
pub use error::Error;
pub use migrations::{MIGRATIONS, Migration, SCHEMA_LEVEL, migrate, schema_level};
pub use store::SqliteStore;

/// The rusqlite version this crate is built with, re-exported so callers of
/// [`migrate`] use the same `Connection` type.
pub use rusqlite;
