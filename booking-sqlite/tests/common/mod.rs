//! Shared test support: migrated databases in temporary directories that
//! live exactly as long as their store, and SQL checks run straight against
//! the file. The data comes from `booking_core::testkit::fixtures`.
#![allow(dead_code)]

use std::path::Path;

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

pub fn count(conn: &Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |row| row.get(0)).expect(sql)
}
