//! Connections: [`SqliteOptions`], how each connection is opened and
//! configured, the pool of reader connections, and the two transaction
//! shapes every operation uses.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex as StdMutex, PoisonError};
use std::time::{Duration, Instant};

use rusqlite::{Connection, Transaction, TransactionBehavior};
use tokio::sync::Semaphore;

use crate::error::{Error, Failure};

/// How a [`SqliteStore`](crate::SqliteStore) uses its database. The defaults
/// suit a web service on one machine.
///
/// ```
/// use std::time::Duration;
/// use booking_sqlite::SqliteOptions;
///
/// let options = SqliteOptions::default()
///     .busy_timeout(Duration::from_secs(2))
///     .readers(8);
/// ```
#[derive(Debug, Clone)]
pub struct SqliteOptions {
    pub(crate) busy_timeout: Duration,
    pub(crate) readers: usize,
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
    /// `SQLITE_BUSY`, reported as
    /// [`StoreError::Backend`](booking_core::store::StoreError::Backend).
    /// Every write takes the database's single write lock, so this bounds
    /// how long a write queues behind writers in other processes.
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

/// Up to `permits` reader connections, opened on first need and reused.
pub(crate) struct ReaderPool {
    path: PathBuf,
    options: SqliteOptions,
    idle: StdMutex<Vec<Connection>>,
    pub(crate) permits: Arc<Semaphore>,
}

impl ReaderPool {
    pub(crate) fn new(path: PathBuf, options: SqliteOptions) -> Self {
        let permits = Arc::new(Semaphore::new(options.readers.max(1)));
        ReaderPool {
            path,
            options,
            idle: StdMutex::new(Vec::new()),
            permits,
        }
    }

    pub(crate) fn take(&self) -> Result<Connection, Error> {
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

    pub(crate) fn give_back(&self, conn: Connection) {
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

/// What a connection is for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    Writer,
    Reader,
}

/// Opens and configures one connection to a database file.
pub(crate) fn open_connection(
    path: &Path,
    options: &SqliteOptions,
    role: Role,
) -> Result<Connection, Error> {
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

/// Opens the single connection of a private (in-memory) database.
pub(crate) fn open_private(path: &Path, options: &SqliteOptions) -> Result<Connection, Error> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(options.busy_timeout)?;
    conn.execute_batch("PRAGMA foreign_keys = ON;")?;
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
pub(crate) fn is_private_database(path: &Path) -> bool {
    let text = path.to_string_lossy();
    text.is_empty()
        || text == ":memory:"
        || (text.starts_with("file:") && text.contains("mode=memory"))
}

/// Runs `f` inside `BEGIN IMMEDIATE ... COMMIT`: the write lock is taken
/// before the first read, so everything `f` reads stays true until the
/// commit. Any error rolls back (the transaction's drop does it).
pub(crate) fn immediate<T>(
    conn: &mut Connection,
    f: impl FnOnce(&Transaction<'_>) -> Result<T, Failure>,
) -> Result<T, Failure> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let value = f(&tx)?;
    tx.commit()?;
    Ok(value)
}

/// Runs `f` inside a read transaction, so several queries see one snapshot.
pub(crate) fn snapshot<T>(
    conn: &mut Connection,
    f: impl FnOnce(&Transaction<'_>) -> Result<T, Failure>,
) -> Result<T, Failure> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
    let value = f(&tx)?;
    tx.commit()?;
    Ok(value)
}
