//! Shared test support: migrated databases in temporary directories that
//! live exactly as long as their store, and SQL checks run straight against
//! the file. The data comes from `booking_core::testkit::fixtures`.
#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;

use booking_core::booking::{Attendee, Booking, BookingId};
use booking_core::event::{BookingEvent, BookingEventKind, EventId, EventRecord};
use booking_core::event_type::EventTypeId;
use booking_core::organizer::OrganizerId;
use booking_core::queue::{JobId, NewJob};
use booking_core::secret::TokenHash;
use booking_core::store::{BookingStore, Cancellation};
use booking_core::testkit::TestStore;
use booking_core::testkit::fixtures::{created, new_booking};
use booking_core::time::TimeRange;
use booking_sqlite::rusqlite::Connection;
use booking_sqlite::rusqlite::types::Value;
use booking_sqlite::{SqliteOptions, SqliteStore};
use chrono::{DateTime, Duration, Utc};
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
pub fn us(t: DateTime<Utc>) -> i64 {
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

/// The event a booking change writes, built as the service builds it.
pub fn event_record(booking: &Booking, kind: BookingEventKind) -> EventRecord {
    BookingEvent {
        seq: 0,
        id: EventId::generate(),
        kind,
        occurred_at: created(),
        booking: booking.clone(),
        previous_time: None,
        cancelled_by: None,
    }
    .to_record()
}

/// Books each of `times` for `organizer` with its created event and
/// cancels it with its cancelled event (two jobs per booking that must run
/// in order), then dispatches every undispatched event into `queue`, one
/// job each, the event's kind as payload. Returns the bookings' ids.
pub async fn book_cancel_and_dispatch(
    store: &dyn BookingStore,
    organizer: OrganizerId,
    times: impl IntoIterator<Item = TimeRange>,
    queue: &str,
) -> Vec<BookingId> {
    let mut ids = Vec::new();
    for time in times {
        let mut new = new_booking(organizer, time, 0, 0);
        let booking = Booking::from_new(new.clone());
        new.event = Some(event_record(&booking, BookingEventKind::Created));
        store.insert_booking(new).await.expect("book");
        store
            .cancel_booking(Cancellation {
                event: Some(event_record(&booking, BookingEventKind::Cancelled)),
                ..Cancellation::new(booking.id, booking.organizer_id, created())
            })
            .await
            .expect("cancel");
        ids.push(booking.id);
    }
    let events = store.undispatched_events(10_000).await.expect("events");
    let jobs: Vec<NewJob> = events
        .iter()
        .map(|e| NewJob {
            id: JobId::generate(),
            queue: queue.into(),
            organizer_id: e.record.organizer_id,
            event_id: e.record.id,
            booking_id: e.record.booking_id,
            target: String::new(),
            payload: e.record.kind.name().into(),
            run_at: created(),
        })
        .collect();
    let dispatched: Vec<EventId> = events.iter().map(|e| e.record.id).collect();
    store
        .dispatch_events(&dispatched, jobs)
        .await
        .expect("dispatch");
    ids
}

/// A booking as releases before level 4 wrote it (so never moved), of
/// `event_type` under `slug`, with buffers in minutes; its cancel token is
/// [`legacy_cancel_token`]. Text and metadata need quoting and escaping.
pub fn legacy_booking(
    organizer: OrganizerId,
    (event_type, slug): (Option<EventTypeId>, &str),
    time: TimeRange,
    (before, after): (i64, i64),
    cancelled_at: Option<DateTime<Utc>>,
) -> Booking {
    Booking {
        id: BookingId::generate(),
        organizer_id: organizer,
        event_type_id: event_type,
        event_type_slug: slug.parse().expect("a slug"),
        attendee: Attendee::new("Grace 'G' Hopper", "grace@example.com"),
        metadata: serde_json::json!({"guests": ["b@example.com"], "note": "ünïcode 🎉"})
            .as_object()
            .cloned(),
        title: "Intro".into(),
        description: Some("kept verbatim ' \" \\".into()),
        time,
        buffer_before: Duration::minutes(before),
        buffer_after: Duration::minutes(after),
        cancel_token_hash: TokenHash::of(&legacy_cancel_token(time)),
        created_at: created(),
        updated_at: cancelled_at.unwrap_or(created()),
        deleted_at: cancelled_at,
        sequence: 0,
        rescheduled_from: None,
    }
}

/// The cancel token of a [`legacy_booking`] of `time`.
pub fn legacy_cancel_token(time: TimeRange) -> String {
    format!("cancel {}", us(time.start()))
}

/// Inserts `booking` in plain SQL as the release at schema `level` stored
/// it: levels 1 and 2 had no event type columns, level 3 has them.
pub fn insert_legacy_booking(conn: &Connection, booking: &Booking, level: usize) {
    let occupied = booking.occupied();
    let text = |s: &str| Value::Text(s.to_owned());
    let mut columns = vec![
        ("id", text(&booking.id.to_string())),
        ("organizer_id", text(&booking.organizer_id.to_string())),
        ("attendant_name", text(&booking.attendee.name)),
        ("attendant_email", text(&booking.attendee.email)),
        (
            "metadata",
            booking.metadata.as_ref().map_or(Value::Null, |m| {
                Value::Text(serde_json::to_string(m).expect("JSON"))
            }),
        ),
        ("title", text(&booking.title)),
        (
            "description",
            booking.description.as_deref().map_or(Value::Null, text),
        ),
        ("start_time", Value::Integer(us(booking.time.start()))),
        ("end_time", Value::Integer(us(booking.time.end()))),
        (
            "buffer_before_secs",
            Value::Integer(booking.buffer_before.num_seconds()),
        ),
        (
            "buffer_after_secs",
            Value::Integer(booking.buffer_after.num_seconds()),
        ),
        ("occupied_start", Value::Integer(us(occupied.start()))),
        ("occupied_end", Value::Integer(us(occupied.end()))),
        (
            "cancel_token_hash",
            text(&booking.cancel_token_hash.to_hex()),
        ),
        ("created_at", Value::Integer(us(booking.created_at))),
        ("updated_at", Value::Integer(us(booking.updated_at))),
        (
            "deleted_at",
            booking
                .deleted_at
                .map_or(Value::Null, |t| Value::Integer(us(t))),
        ),
    ];
    if level >= 3 {
        columns.push((
            "event_type_id",
            booking
                .event_type_id
                .map_or(Value::Null, |id| Value::Text(id.to_string())),
        ));
        columns.push(("event_type_slug", text(booking.event_type_slug.as_str())));
    }
    let names: Vec<&str> = columns.iter().map(|(name, _)| *name).collect();
    let marks: Vec<String> = (1..=columns.len()).map(|i| format!("?{i}")).collect();
    conn.execute(
        &format!(
            "INSERT INTO bookings ({}) VALUES ({})",
            names.join(", "),
            marks.join(", ")
        ),
        booking_sqlite::rusqlite::params_from_iter(columns.into_iter().map(|(_, value)| value)),
    )
    .expect("insert a legacy booking");
}

/// booking-core's reference store holding only `organizer` (same id, name,
/// token and zone), to compare slots and decisions with.
pub async fn reference_store_with(
    organizer: &booking_core::Organizer,
) -> Arc<booking_core::MemoryStore> {
    let reference = Arc::new(booking_core::MemoryStore::new());
    reference
        .create_organizer(
            organizer.id,
            booking_core::organizer::NewOrganizer::new(
                organizer.username.as_str(),
                &organizer.email,
                &organizer.display_name,
                organizer.time_zone,
            ),
            organizer.api_token_hash,
            organizer.created_at,
        )
        .await
        .expect("the reference store registers the organizer");
    reference
}
