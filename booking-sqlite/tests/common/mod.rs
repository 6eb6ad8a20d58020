//! Shared test support: temporary database files that live exactly as long
//! as their store, and SQL checks run straight against the file. The data
//! comes from `booking_core::testkit::fixtures`.
#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use booking_core::booking::{Booking, BookingId, NewBooking};
use booking_core::organizer::{NewOrganizer, Organizer, OrganizerId, OrganizerSettings};
use booking_core::secret::TokenHash;
use booking_core::store::{BookingContext, BookingPage, BookingQuery, BookingStore, StoreError};
use booking_core::time::TimeRange;
use booking_sqlite::SqliteStore;
use booking_sqlite::rusqlite::Connection;
use chrono::{DateTime, Utc};
use tempfile::TempDir;

/// A store on a file in its own temporary directory, removed when the store
/// is dropped. Delegates every method (including `booking_context`, so the
/// one-round-trip override is what gets tested).
pub struct TempStore {
    pub store: SqliteStore,
    pub dir: TempDir,
}

impl TempStore {
    pub async fn new() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let store = SqliteStore::open(dir.path().join("bookings.db"))
            .await
            .expect("open a fresh SQLite store");
        TempStore { store, dir }
    }

    pub fn path(&self) -> &Path {
        self.store.path().expect("a file-backed store")
    }
}

#[async_trait]
impl BookingStore for TempStore {
    async fn create_organizer(
        &self,
        id: OrganizerId,
        organizer: NewOrganizer,
        api_token_hash: TokenHash,
        created_at: DateTime<Utc>,
    ) -> Result<Organizer, StoreError> {
        self.store
            .create_organizer(id, organizer, api_token_hash, created_at)
            .await
    }
    async fn organizer_by_id(&self, id: OrganizerId) -> Result<Option<Organizer>, StoreError> {
        self.store.organizer_by_id(id).await
    }
    async fn organizer_by_username(&self, username: &str) -> Result<Option<Organizer>, StoreError> {
        self.store.organizer_by_username(username).await
    }
    async fn organizer_by_token_hash(
        &self,
        hash: &TokenHash,
    ) -> Result<Option<Organizer>, StoreError> {
        self.store.organizer_by_token_hash(hash).await
    }
    async fn put_settings(
        &self,
        organizer: OrganizerId,
        settings: &OrganizerSettings,
    ) -> Result<(), StoreError> {
        self.store.put_settings(organizer, settings).await
    }
    async fn settings(
        &self,
        organizer: OrganizerId,
    ) -> Result<Option<OrganizerSettings>, StoreError> {
        self.store.settings(organizer).await
    }
    async fn booking_context(
        &self,
        username: &str,
        range: TimeRange,
    ) -> Result<Option<BookingContext>, StoreError> {
        self.store.booking_context(username, range).await
    }
    async fn insert_booking(&self, booking: NewBooking) -> Result<Booking, StoreError> {
        self.store.insert_booking(booking).await
    }
    async fn booking(&self, id: BookingId) -> Result<Option<Booking>, StoreError> {
        self.store.booking(id).await
    }
    async fn list_bookings(
        &self,
        organizer: OrganizerId,
        query: BookingQuery,
    ) -> Result<BookingPage, StoreError> {
        self.store.list_bookings(organizer, query).await
    }
    async fn occupied_intervals(
        &self,
        organizer: OrganizerId,
        range: TimeRange,
    ) -> Result<Vec<TimeRange>, StoreError> {
        self.store.occupied_intervals(organizer, range).await
    }
    async fn cancel_booking(
        &self,
        id: BookingId,
        at: DateTime<Utc>,
    ) -> Result<Booking, StoreError> {
        self.store.cancel_booking(id, at).await
    }
}

pub async fn temp_store() -> Arc<dyn BookingStore> {
    Arc::new(TempStore::new().await)
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
