//! [`SqliteStore`]: the connections, the threading model and the
//! [`BookingStore`] implementation.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex as StdMutex, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use booking_core::booking::{Booking, BookingId, NewBooking};
use booking_core::organizer::{NewOrganizer, Organizer, OrganizerId, OrganizerSettings};
use booking_core::secret::TokenHash;
use booking_core::store::{BookingContext, BookingPage, BookingQuery, BookingStore, StoreError};
use booking_core::time::TimeRange;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension as _, Transaction, TransactionBehavior, params};
use tokio::sync::{Mutex as AsyncMutex, Semaphore};

use crate::convert::{
    BookingInsert, BookingRow, OrganizerRow, SettingsRow, from_micros, micros_ceil, micros_floor,
    read_occupied,
};
use crate::error::{Failure, OpenError, OutOfRange, corrupt};
use crate::migrations::migrate;
use crate::sql;

/// How a [`SqliteStore`] uses its database. The defaults suit a web service
/// on one machine.
#[derive(Debug, Clone)]
pub struct SqliteOptions {
    busy_timeout: Duration,
    readers: usize,
}

impl Default for SqliteOptions {
    /// A 5-second busy timeout and up to 4 reader connections.
    fn default() -> Self {
        SqliteOptions {
            busy_timeout: Duration::from_secs(5),
            readers: 4,
        }
    }
}

impl SqliteOptions {
    /// How long a connection waits for a lock held by another connection
    /// (typically another process's write transaction) before giving up with
    /// `SQLITE_BUSY`, reported as [`StoreError::Backend`]. Every write takes
    /// the database's single write lock, so this bounds how long a write
    /// queues behind writers in other processes.
    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }

    /// The most reader connections kept open (at least 1). Reads run on them
    /// in parallel, and in WAL mode never wait for the writer. Ignored for
    /// in-memory databases, which have exactly one connection.
    pub fn readers(mut self, readers: usize) -> Self {
        self.readers = readers.max(1);
        self
    }
}

/// A [`BookingStore`] in one SQLite database file (or in memory).
///
/// Cheap to clone: clones share the same connections. See the
/// [crate documentation](crate) for the storage format, the threading model
/// and why concurrent writers, in this process or others, can never create
/// overlapping bookings.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use std::sync::Arc;
/// use booking_core::store::BookingStore;
/// use booking_sqlite::SqliteStore;
///
/// let dir = tempfile::tempdir()?;
/// let store: Arc<dyn BookingStore> = Arc::new(SqliteStore::open(dir.path().join("bookings.db")).await?);
/// assert!(store.organizer_by_username("ada").await?.is_none());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    /// The file, or `None` in memory.
    path: Option<PathBuf>,
    /// The one connection that writes (and, in memory, also reads). A tokio
    /// mutex, so writers of this process queue without holding a thread.
    writer: Arc<AsyncMutex<Connection>>,
    /// Read-only connections for a file database.
    readers: Option<Arc<ReaderPool>>,
}

/// Up to `permits` reader connections, opened on first need and reused.
struct ReaderPool {
    path: PathBuf,
    options: SqliteOptions,
    idle: StdMutex<Vec<Connection>>,
    permits: Arc<Semaphore>,
}

impl ReaderPool {
    fn take(&self) -> Result<Connection, OpenError> {
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        match idle {
            Some(conn) => Ok(conn),
            None => open_connection(&self.path, &self.options, Role::Reader),
        }
    }

    fn give_back(&self, conn: Connection) {
        // A connection left inside a transaction (only possible after a
        // panic) is closed rather than reused.
        if conn.is_autocommit() {
            self.idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(conn);
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Writer,
    Reader,
}

/// Opens and configures one connection to a database file.
fn open_connection(
    path: &Path,
    options: &SqliteOptions,
    role: Role,
) -> Result<Connection, OpenError> {
    let conn = Connection::open(path)?;
    // First, so that even the pragmas below wait for other processes.
    conn.busy_timeout(options.busy_timeout)?;
    if role == Role::Writer {
        let mode = enable_wal(&conn, options.busy_timeout)?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(
                path = %path.display(),
                journal_mode = %mode,
                "SQLite refused WAL mode; readers will wait for writers (bookings stay correct)"
            );
        }
    }
    conn.execute_batch("PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;")?;
    if role == Role::Reader {
        conn.execute_batch("PRAGMA query_only = ON;")?;
    }
    Ok(conn)
}

/// Switches the file to WAL mode (a property of the file: once set, it
/// stays) and returns the journal mode now in force.
///
/// Switching needs an exclusive lock, for which SQLite does not call the busy
/// handler, so when another process is opening or using the same new file at
/// the same moment it fails with `SQLITE_BUSY` at once. It is retried here
/// for up to the busy timeout, like every other lock wait.
fn enable_wal(conn: &Connection, timeout: Duration) -> Result<String, rusqlite::Error> {
    let started = Instant::now();
    loop {
        let attempt = conn
            .query_row("PRAGMA journal_mode", [], |row| row.get::<_, String>(0))
            .and_then(|mode| {
                if mode.eq_ignore_ascii_case("wal") {
                    Ok(mode)
                } else {
                    conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
                }
            });
        match attempt {
            Err(error) if is_busy(&error) && started.elapsed() < timeout => {
                std::thread::sleep(Duration::from_millis(5));
            }
            other => return other,
        }
    }
}

/// Whether SQLite refused for a lock held elsewhere.
fn is_busy(error: &rusqlite::Error) -> bool {
    matches!(
        error.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

/// Whether `path` names a database that exists only inside one connection
/// (`:memory:`, an in-memory URI, or SQLite's private temporary database
/// `""`): such a database cannot be shared by a pool.
fn is_private_database(path: &Path) -> bool {
    let text = path.to_string_lossy();
    text.is_empty()
        || text == ":memory:"
        || (text.starts_with("file:") && text.contains("mode=memory"))
}

impl SqliteStore {
    /// Opens (creating it if needed) the database file at `path` with the
    /// default [`SqliteOptions`], switches it to WAL mode and migrates it to
    /// the current schema.
    ///
    /// Safe to call from several processes at once on the same file: the
    /// migration takes the write lock and re-checks the schema level inside
    /// it. `":memory:"` gives the same as [`open_in_memory`](Self::open_in_memory).
    pub async fn open(path: impl AsRef<Path>) -> Result<Self, OpenError> {
        Self::open_with(path, SqliteOptions::default()).await
    }

    /// [`open`](Self::open) with chosen options.
    pub async fn open_with(
        path: impl AsRef<Path>,
        options: SqliteOptions,
    ) -> Result<Self, OpenError> {
        let path = path.as_ref().to_path_buf();
        if is_private_database(&path) {
            return Self::open_private(path, options).await;
        }
        tokio::task::spawn_blocking(move || {
            let mut writer = open_connection(&path, &options, Role::Writer)?;
            migrate(&mut writer)?;
            let permits = Arc::new(Semaphore::new(options.readers.max(1)));
            let readers = ReaderPool {
                path: path.clone(),
                options,
                idle: StdMutex::new(Vec::new()),
                permits,
            };
            Ok(SqliteStore {
                inner: Arc::new(Inner {
                    path: Some(path),
                    writer: Arc::new(AsyncMutex::new(writer)),
                    readers: Some(Arc::new(readers)),
                }),
            })
        })
        .await
        .map_err(OpenError::Task)?
    }

    /// A new, empty, migrated database in memory, gone when the last clone of
    /// the store is dropped. It has a single connection (every connection to
    /// `:memory:` is a separate database), so all operations take turns;
    /// right for tests and demos.
    pub async fn open_in_memory() -> Result<Self, OpenError> {
        Self::open_private(PathBuf::from(":memory:"), SqliteOptions::default()).await
    }

    async fn open_private(path: PathBuf, options: SqliteOptions) -> Result<Self, OpenError> {
        tokio::task::spawn_blocking(move || {
            let mut conn = Connection::open(&path)?;
            conn.busy_timeout(options.busy_timeout)?;
            conn.execute_batch("PRAGMA foreign_keys = ON;")?;
            migrate(&mut conn)?;
            Ok(SqliteStore {
                inner: Arc::new(Inner {
                    path: None,
                    writer: Arc::new(AsyncMutex::new(conn)),
                    readers: None,
                }),
            })
        })
        .await
        .map_err(OpenError::Task)?
    }

    /// The database file, `None` for an in-memory store.
    pub fn path(&self) -> Option<&Path> {
        self.inner.path.as_deref()
    }

    /// Runs `f` on the writer connection, on tokio's blocking pool. Writers
    /// of this process queue on the async mutex (FIFO) without holding a
    /// thread; writers of other processes are waited for by SQLite's busy
    /// handler inside `f`.
    async fn with_writer<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, Failure> + Send + 'static,
    {
        let mut conn = Arc::clone(&self.inner.writer).lock_owned().await;
        match tokio::task::spawn_blocking(move || f(&mut conn)).await {
            Ok(result) => result.map_err(Failure::into_store),
            Err(join) => Err(StoreError::backend(join)),
        }
    }

    /// Runs `f` on a reader connection (the writer, in memory), on tokio's
    /// blocking pool.
    async fn with_reader<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, Failure> + Send + 'static,
    {
        let Some(pool) = &self.inner.readers else {
            return self.with_writer(f).await;
        };
        let pool = Arc::clone(pool);
        let permit = Arc::clone(&pool.permits)
            .acquire_owned()
            .await
            .map_err(StoreError::backend)?;
        let task = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let mut conn = pool.take()?;
            let result = f(&mut conn);
            pool.give_back(conn);
            result
        });
        match task.await {
            Ok(result) => result.map_err(Failure::into_store),
            Err(join) => Err(StoreError::backend(join)),
        }
    }
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.inner.path)
            .field("pooled_readers", &self.inner.readers.is_some())
            .finish()
    }
}

/// Runs `f` inside `BEGIN IMMEDIATE ... COMMIT`: the write lock is taken
/// before the first read, so everything `f` reads stays true until the
/// commit. Any error rolls back (the transaction's drop does it).
fn immediate<T>(
    conn: &mut Connection,
    f: impl FnOnce(&Transaction<'_>) -> Result<T, Failure>,
) -> Result<T, Failure> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let value = f(&tx)?;
    tx.commit()?;
    Ok(value)
}

/// Runs `f` inside a read transaction, so several queries see one snapshot.
fn snapshot<T>(
    conn: &mut Connection,
    f: impl FnOnce(&Transaction<'_>) -> Result<T, Failure>,
) -> Result<T, Failure> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
    let value = f(&tx)?;
    tx.commit()?;
    Ok(value)
}

fn organizer_exists(conn: &Connection, id: &str) -> Result<bool, Failure> {
    Ok(conn
        .prepare_cached(sql::ORGANIZER_EXISTS)?
        .query_row([id], |row| row.get(0))?)
}

/// The organizer found by `query`, one of the `sql::ORGANIZER_BY_*` lookups.
fn organizer_where(
    conn: &Connection,
    query: &str,
    value: &str,
) -> Result<Option<Organizer>, Failure> {
    conn.prepare_cached(query)?
        .query_row([value], OrganizerRow::read)
        .optional()?
        .map(OrganizerRow::into_organizer)
        .transpose()
}

fn settings_of(conn: &Connection, organizer: &str) -> Result<Option<OrganizerSettings>, Failure> {
    conn.prepare_cached(sql::SETTINGS_OF)?
        .query_row([organizer], |row| SettingsRow::read(row, 0))
        .optional()?
        .map(SettingsRow::into_settings)
        .transpose()
}

/// Occupied intervals of the organizer's active bookings overlapping
/// `range`. Stored bounds are whole microseconds, so `occupied_end > start`
/// is `occupied_end > floor(start)` and `occupied_start < end` is
/// `occupied_start < ceil(end)`.
fn occupied_in(
    conn: &Connection,
    organizer: &str,
    range: TimeRange,
) -> Result<Vec<TimeRange>, Failure> {
    let mut stmt = conn.prepare_cached(sql::OCCUPIED_IN_RANGE)?;
    let rows = stmt.query_map(
        params![
            organizer,
            micros_floor(range.start()),
            micros_ceil(range.end())
        ],
        |row| Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?)),
    )?;
    let mut occupied = Vec::new();
    for row in rows {
        let (start, end) = row?;
        occupied.push(read_occupied(start, end)?);
    }
    Ok(occupied)
}

fn booking_by_id(conn: &Connection, id: &str) -> Result<Option<Booking>, Failure> {
    conn.prepare_cached(sql::BOOKING_BY_ID)?
        .query_row([id], BookingRow::read)
        .optional()?
        .map(BookingRow::into_booking)
        .transpose()
}

#[async_trait]
impl BookingStore for SqliteStore {
    /// Checks that the writer can write: the file was not opened read-only
    /// (SQLite falls back to read-only for a file it may not write, and in
    /// WAL mode even `BEGIN IMMEDIATE` succeeds then), and the write lock
    /// can be taken (`BEGIN IMMEDIATE`, rolled back) within the busy
    /// timeout.
    async fn check_health(&self) -> Result<(), StoreError> {
        self.with_writer(|conn| {
            if conn.is_readonly(rusqlite::MAIN_DB)? {
                return Err(Failure::Store(StoreError::backend(
                    "attempt to write a readonly database: the file (or its directory \
                     or file system) is read-only",
                )));
            }
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.rollback()?;
            Ok(())
        })
        .await
    }

    async fn create_organizer(
        &self,
        id: OrganizerId,
        organizer: NewOrganizer,
        api_token_hash: TokenHash,
        created_at: DateTime<Utc>,
    ) -> Result<Organizer, StoreError> {
        let created_us = micros_floor(created_at);
        let created_at = from_micros(created_us)
            .ok_or_else(|| StoreError::backend(OutOfRange(created_at.to_string())))?;
        let organizer = Organizer::from_new(id, organizer, api_token_hash, created_at);
        self.with_writer(move |conn| {
            immediate(conn, |tx| {
                // Holding the write lock, this check cannot go stale before
                // the insert; the UNIQUE constraint stays as a backstop.
                let taken: bool = tx
                    .prepare_cached(sql::USERNAME_TAKEN)?
                    .query_row([&organizer.username], |row| row.get(0))?;
                if taken {
                    return Err(StoreError::UsernameTaken(organizer.username).into());
                }
                tx.prepare_cached(sql::INSERT_ORGANIZER)?.execute(params![
                    organizer.id.to_string(),
                    organizer.username,
                    organizer.email,
                    organizer.display_name,
                    organizer.time_zone.name(),
                    organizer.api_token_hash.to_hex(),
                    created_us,
                ])?;
                Ok(organizer)
            })
        })
        .await
    }

    async fn organizer_by_id(&self, id: OrganizerId) -> Result<Option<Organizer>, StoreError> {
        self.with_reader(move |conn| organizer_where(conn, sql::ORGANIZER_BY_ID, &id.to_string()))
            .await
    }

    async fn organizer_by_username(&self, username: &str) -> Result<Option<Organizer>, StoreError> {
        let username = username.to_owned();
        self.with_reader(move |conn| organizer_where(conn, sql::ORGANIZER_BY_USERNAME, &username))
            .await
    }

    async fn organizer_by_token_hash(
        &self,
        hash: &TokenHash,
    ) -> Result<Option<Organizer>, StoreError> {
        let hash = hash.to_hex();
        self.with_reader(move |conn| organizer_where(conn, sql::ORGANIZER_BY_TOKEN_HASH, &hash))
            .await
    }

    async fn put_settings(
        &self,
        organizer: OrganizerId,
        settings: &OrganizerSettings,
    ) -> Result<(), StoreError> {
        let row = SettingsRow::from_settings(settings)?;
        self.with_writer(move |conn| {
            immediate(conn, |tx| {
                let id = organizer.to_string();
                if !organizer_exists(tx, &id)? {
                    return Err(StoreError::OrganizerNotFound(organizer).into());
                }
                tx.prepare_cached(sql::UPSERT_SETTINGS)?.execute(params![
                    id,
                    row.time_zone,
                    row.weekly_hours,
                    row.date_overrides,
                    row.slot_duration_secs,
                    row.slot_step_secs,
                    row.buffer_before_secs,
                    row.buffer_after_secs,
                    row.min_notice_secs,
                    row.max_advance_secs,
                ])?;
                Ok(())
            })
        })
        .await
    }

    async fn settings(
        &self,
        organizer: OrganizerId,
    ) -> Result<Option<OrganizerSettings>, StoreError> {
        self.with_reader(move |conn| settings_of(conn, &organizer.to_string()))
            .await
    }

    /// One blocking call and one read snapshot for organizer, settings and
    /// occupied intervals.
    async fn booking_context(
        &self,
        username: &str,
        range: TimeRange,
    ) -> Result<Option<BookingContext>, StoreError> {
        let username = username.to_owned();
        self.with_reader(move |conn| {
            snapshot(conn, |tx| {
                let Some(organizer) = organizer_where(tx, sql::ORGANIZER_BY_USERNAME, &username)?
                else {
                    return Ok(None);
                };
                let id = organizer.id.to_string();
                let settings = settings_of(tx, &id)?;
                let occupied = occupied_in(tx, &id, range)?;
                Ok(Some(BookingContext {
                    organizer,
                    settings,
                    occupied,
                }))
            })
        })
        .await
    }

    /// The overlap check and the insert run in one `BEGIN IMMEDIATE`
    /// transaction, so no other writer, in any process, can commit in
    /// between.
    async fn insert_booking(&self, booking: NewBooking) -> Result<Booking, StoreError> {
        let row = BookingInsert::new(booking).map_err(Failure::into_store)?;
        self.with_writer(move |conn| {
            immediate(conn, |tx| {
                let organizer = row.booking.organizer_id;
                let organizer_id = organizer.to_string();
                if !organizer_exists(tx, &organizer_id)? {
                    return Err(StoreError::OrganizerNotFound(organizer).into());
                }
                let overlaps: bool = tx.prepare_cached(sql::OVERLAP_EXISTS)?.query_row(
                    params![organizer_id, row.occupied_start_us, row.occupied_end_us],
                    |r| r.get(0),
                )?;
                if overlaps {
                    return Err(StoreError::Conflict.into());
                }
                let b = &row.booking;
                tx.prepare_cached(sql::INSERT_BOOKING)?.execute(params![
                    b.id.to_string(),
                    organizer_id,
                    b.attendant_name,
                    b.attendant_email,
                    row.metadata,
                    b.title,
                    b.description,
                    row.start_us,
                    row.end_us,
                    row.buffer_before_secs,
                    row.buffer_after_secs,
                    b.cancel_token_hash.to_hex(),
                    row.created_us,
                    row.occupied_start_us,
                    row.occupied_end_us,
                ])?;
                Ok(row.booking)
            })
        })
        .await
    }

    async fn booking(&self, id: BookingId) -> Result<Option<Booking>, StoreError> {
        self.with_reader(move |conn| booking_by_id(conn, &id.to_string()))
            .await
    }

    /// Count and page are two queries in one read snapshot; both are bounded
    /// in SQL (`COUNT(*)`, `LIMIT`/`OFFSET`) and served by the partial index
    /// on `(organizer_id, start_time, id)`.
    async fn list_bookings(
        &self,
        organizer: OrganizerId,
        query: BookingQuery,
    ) -> Result<BookingPage, StoreError> {
        // Stored starts are whole microseconds, so `range.start <= t` is
        // `t >= ceil(range.start)` and `t < range.end` is `t < ceil(range.end)`.
        let (from, until) = match query.starts_within {
            Some(range) => (micros_ceil(range.start()), micros_ceil(range.end())),
            None => (i64::MIN, i64::MAX),
        };
        let limit = i64::from(query.limit);
        let offset = i64::try_from(query.offset).unwrap_or(i64::MAX);
        self.with_reader(move |conn| {
            snapshot(conn, |tx| {
                let id = organizer.to_string();
                let total: i64 = tx
                    .prepare_cached(sql::COUNT_ACTIVE)?
                    .query_row(params![id, from, until], |row| row.get(0))?;
                let mut stmt = tx.prepare_cached(sql::PAGE_ACTIVE)?;
                let rows =
                    stmt.query_map(params![id, from, until, limit, offset], BookingRow::read)?;
                let mut bookings = Vec::new();
                for row in rows {
                    bookings.push(row?.into_booking()?);
                }
                let total =
                    u64::try_from(total).map_err(|_| corrupt(format!("negative count {total}")))?;
                Ok(BookingPage { bookings, total })
            })
        })
        .await
    }

    async fn occupied_intervals(
        &self,
        organizer: OrganizerId,
        range: TimeRange,
    ) -> Result<Vec<TimeRange>, StoreError> {
        self.with_reader(move |conn| occupied_in(conn, &organizer.to_string(), range))
            .await
    }

    /// One `UPDATE ... WHERE deleted_at IS NULL RETURNING ...` in a
    /// `BEGIN IMMEDIATE` transaction; when it changes nothing, the same
    /// transaction tells a missing booking from a cancelled one.
    async fn cancel_booking(
        &self,
        id: BookingId,
        at: DateTime<Utc>,
    ) -> Result<Booking, StoreError> {
        let at_us = micros_floor(at);
        self.with_writer(move |conn| {
            immediate(conn, |tx| {
                let key = id.to_string();
                let cancelled = tx
                    .prepare_cached(sql::CANCEL_RETURNING)?
                    .query_row(params![key, at_us], BookingRow::read)
                    .optional()?;
                if let Some(row) = cancelled {
                    return row.into_booking();
                }
                let deleted_at: Option<Option<i64>> = tx
                    .prepare_cached(sql::DELETED_AT)?
                    .query_row([&key], |row| row.get(0))
                    .optional()?;
                match deleted_at {
                    None => Err(StoreError::BookingNotFound(id).into()),
                    Some(Some(micros)) => {
                        let cancelled_at = from_micros(micros).ok_or_else(|| {
                            corrupt(format!(
                                "booking {id}: deleted_at = {micros} is out of range"
                            ))
                        })?;
                        Err(StoreError::AlreadyCancelled { id, cancelled_at }.into())
                    }
                    Some(None) => Err(corrupt(format!(
                        "booking {id} is active but could not be cancelled"
                    ))),
                }
            })
        })
        .await
    }
}
