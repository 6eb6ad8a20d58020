//! Shared test support: migrated databases in temporary directories that
//! live exactly as long as their store, and SQL checks run straight against
//! the file. The data comes from `booking_core::testkit::fixtures`.
#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;

use booking_core::testkit::TestStore;
use booking_sqlite::rusqlite::Connection;
use booking_sqlite::{SqliteOptions, SqliteStore};
use tempfile::TempDir;

/// A migrated store on a file in its own temporary directory; the directory
/// goes when this value (or the [`TestStore`] made from it) is dropped.
pub struct TempDb {
    pub store: SqliteStore,
    pub dir: TempDir,
}

impl TempDb {
    pub async fn new() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let store = SqliteStore::open(dir.path().join("bookings.db"), SqliteOptions::default())
            .await
            .expect("open a fresh SQLite store");
        store.migrate().await.expect("migrate a fresh file");
        TempDb { store, dir }
    }

    pub fn path(&self) -> &Path {
        self.store.path().expect("a file-backed store")
    }

    /// The store itself for the conformance suite, with the directory as
    /// its guard.
    pub fn into_test_store(self) -> TestStore {
        TestStore::with_guard(self.store, self.dir)
    }

    /// Another store (its own connections) on the same file, as another
    /// process would have.
    pub async fn another_store(&self, options: SqliteOptions) -> SqliteStore {
        SqliteStore::open(self.path(), options)
            .await
            .expect("open the shared file")
    }

    /// `n` independent stores on the file: each has its own writer
    /// connection, so between them only SQLite's file lock serializes
    /// writes, exactly as between processes.
    pub async fn stores(&self, n: usize) -> Vec<Arc<SqliteStore>> {
        let mut stores = Vec::new();
        for _ in 0..n {
            stores.push(Arc::new(self.another_store(SqliteOptions::default()).await));
        }
        stores
    }
}

/// A migrated in-memory store.
pub async fn memory_store() -> SqliteStore {
    let store = SqliteStore::open_in_memory(SqliteOptions::default())
        .await
        .expect("open :memory:");
    store.migrate().await.expect("migrate :memory:");
    store
}

/// A plain connection to the file, for checks made in SQL, independent of
/// the store's own code paths.
pub fn raw(path: &Path) -> Connection {
    let conn = Connection::open(path).expect("open the database file directly");
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .unwrap();
    conn
}

/// Pairs of active bookings of one organizer whose occupied intervals
/// overlap, found by a self-join in SQL. Must always be zero.
pub fn overlapping_pairs(conn: &Connection) -> i64 {
    conn.query_row(
        "SELECT COUNT(*) FROM bookings a JOIN bookings b
           ON a.organizer_id = b.organizer_id AND a.id < b.id
         WHERE a.deleted_at IS NULL AND b.deleted_at IS NULL
           AND a.occupied_start < b.occupied_end AND b.occupied_start < a.occupied_end",
        [],
        |row| row.get(0),
    )
    .expect("overlap query")
}

/// Pairs of an active booking and a hold unexpired at `now_us` of one
/// organizer whose occupied intervals overlap, plus pairs of such holds:
/// what the store's checks must never let happen. Must always be zero.
pub fn holds_overlapping(conn: &Connection, now_us: i64) -> i64 {
    conn.query_row(
        "SELECT (SELECT COUNT(*) FROM holds h JOIN bookings b ON b.organizer_id = h.organizer_id
                 WHERE b.deleted_at IS NULL AND h.expires_at > ?1
                   AND h.occupied_start < b.occupied_end AND b.occupied_start < h.occupied_end)
              + (SELECT COUNT(*) FROM holds h JOIN holds g ON g.organizer_id = h.organizer_id AND h.id < g.id
                 WHERE h.expires_at > ?1 AND g.expires_at > ?1
                   AND h.occupied_start < g.occupied_end AND g.occupied_start < h.occupied_end)",
        [now_us],
        |row| row.get(0),
    )
    .expect("hold overlap query")
}

/// Microseconds since the epoch, as every level stores instants.
pub fn us(t: chrono::DateTime<chrono::Utc>) -> i64 {
    t.timestamp_micros()
}

/// A file at `level` built with the first `level` migration files only, as
/// the release that shipped that level left it.
pub fn old_file(path: &Path, level: usize) -> Connection {
    let conn = Connection::open(path).unwrap();
    for migration in &booking_sqlite::MIGRATIONS[..level] {
        conn.execute_batch(migration.sql).unwrap();
    }
    conn.pragma_update(None, "user_version", level as i64)
        .unwrap();
    conn
}

pub fn count(conn: &Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |row| row.get(0)).expect(sql)
}
