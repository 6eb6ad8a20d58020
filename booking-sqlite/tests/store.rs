//! SQLite-specific behaviour beyond the conformance suite: several store
//! instances (separate connections) racing on one file, lock waits, rounding
//! of fine instants, corrupt rows, reopening, the file's own settings.

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use booking_core::booking::BookingId;
use booking_core::organizer::{NewOrganizer, OrganizerId, OrganizerSettings, SettingsDraft};
use booking_core::secret::TokenHash;
use booking_core::store::{BookingStore, StoreError};
use booking_core::testkit::fixtures::{
    at, created, new_booking, organizer, race_inserts, range, winners_per_group,
};
use booking_core::time::TimeRange;
use booking_sqlite::{OpenError, SCHEMA_LEVEL, SqliteOptions, SqliteStore};
use chrono::Duration;
use common::{TempStore, count, overlapping_pairs, raw};

/// Opens `n` independent stores on one file: each has its own writer
/// connection, so between them only SQLite's file lock serializes writes,
/// exactly as between processes.
async fn stores_on(path: &std::path::Path, n: usize) -> Vec<Arc<SqliteStore>> {
    let mut stores = Vec::new();
    for _ in 0..n {
        stores.push(Arc::new(
            SqliteStore::open(path).await.expect("open the shared file"),
        ));
    }
    stores
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_tasks_on_four_connections_have_one_winner_per_overlapping_group() {
    let temp = TempStore::new().await;
    let ada = organizer(&temp, "ada").await;
    let stores = stores_on(temp.path(), 4).await;

    // Four groups of pairwise-overlapping occupied intervals:
    // 0: the very same slot; 1: different starts, long meetings;
    // 2: overlapping only through the buffer before; 3: only through the buffer after.
    let mut attempts = Vec::new();
    for _ in 0..16 {
        attempts.push((0, new_booking(ada.id, range(at(9, 0), 30), 0, 0)));
    }
    for k in 0..16 {
        attempts.push((
            1,
            new_booking(
                ada.id,
                range(at(11, 0) + Duration::minutes(3 * k), 90),
                0,
                0,
            ),
        ));
    }
    for k in 0..16 {
        attempts.push((
            2,
            new_booking(
                ada.id,
                range(at(15, 0) + Duration::minutes(4 * k), 30),
                60,
                0,
            ),
        ));
    }
    for k in 0..16 {
        attempts.push((
            3,
            new_booking(
                ada.id,
                range(at(19, 0) + Duration::minutes(4 * k), 30),
                0,
                60,
            ),
        ));
    }
    let outcomes = race_inserts(
        attempts
            .into_iter()
            .enumerate()
            .map(|(i, (group, booking))| {
                let store: Arc<dyn BookingStore> = stores[i % stores.len()].clone();
                (group, store, booking)
            })
            .collect(),
    )
    .await;
    assert_eq!(
        winners_per_group(&outcomes),
        HashMap::from([(0, 1), (1, 1), (2, 1), (3, 1)])
    );
    let conn = raw(temp.path());
    assert_eq!(overlapping_pairs(&conn), 0);
    assert_eq!(
        count(&conn, "SELECT COUNT(*) FROM bookings"),
        4,
        "losers wrote nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_registrations_and_cancellations_succeed_once() {
    let temp = TempStore::new().await;
    let stores = stores_on(temp.path(), 4).await;

    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let store = Arc::clone(&stores[i % stores.len()]);
            tokio::spawn(async move {
                store
                    .create_organizer(
                        OrganizerId::generate(),
                        NewOrganizer {
                            username: "ada".into(),
                            email: "ada@example.com".into(),
                            display_name: "Ada".into(),
                            time_zone: chrono_tz::UTC,
                        },
                        TokenHash::of(&format!("token-{i}")),
                        created(),
                    )
                    .await
            })
        })
        .collect();
    let mut registered = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => registered += 1,
            Err(StoreError::UsernameTaken(name)) => assert_eq!(name, "ada"),
            Err(other) => panic!("{other:?}"),
        }
    }
    assert_eq!(registered, 1);

    let ada = temp.organizer_by_username("ada").await.unwrap().unwrap();
    let booking = temp
        .insert_booking(new_booking(ada.id, range(at(10, 0), 30), 0, 0))
        .await
        .unwrap();
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let store = Arc::clone(&stores[i % stores.len()]);
            let when = created() + Duration::minutes(i as i64);
            tokio::spawn(async move { (when, store.cancel_booking(booking.id, when).await) })
        })
        .collect();
    let mut winner = None;
    let mut reported = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            (when, Ok(cancelled)) => {
                assert!(winner.is_none(), "cancelled twice");
                assert_eq!(cancelled.deleted_at, Some(when));
                winner = Some(when);
            }
            (_, Err(StoreError::AlreadyCancelled { cancelled_at, .. })) => {
                reported.push(cancelled_at)
            }
            (_, Err(other)) => panic!("{other:?}"),
        }
    }
    let winner = winner.expect("one cancellation succeeds");
    assert!(
        reported.iter().all(|t| *t == winner),
        "every loser sees the winner's instant"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_lock_held_too_long_is_a_backend_error_that_writes_nothing() {
    let temp = TempStore::new().await;
    let ada = organizer(&temp, "ada").await;
    let impatient = SqliteStore::open_with(
        temp.path(),
        SqliteOptions::default().busy_timeout(StdDuration::from_millis(50)),
    )
    .await
    .unwrap();

    // Another connection (as another process would) holds the write lock.
    let mut holder = raw(temp.path());
    let tx = holder
        .transaction_with_behavior(booking_sqlite::rusqlite::TransactionBehavior::Immediate)
        .unwrap();
    let attempt = new_booking(ada.id, range(at(10, 0), 30), 0, 0);
    let attempt_id = attempt.id;
    let refused = impatient.insert_booking(attempt).await;
    assert!(
        matches!(refused, Err(StoreError::Backend(_))),
        "got {refused:?}"
    );
    // Reads are not blocked by a writer in WAL mode.
    assert_eq!(
        impatient.organizer_by_id(ada.id).await.unwrap(),
        Some(ada.clone())
    );
    tx.commit().unwrap();

    assert_eq!(
        impatient.booking(attempt_id).await.unwrap(),
        None,
        "nothing was written"
    );
    impatient
        .insert_booking(new_booking(ada.id, range(at(10, 0), 30), 0, 0))
        .await
        .expect("the store works again once the lock is free");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writer_in_another_connection_is_waited_for_within_the_busy_timeout() {
    let temp = TempStore::new().await;
    let ada = organizer(&temp, "ada").await;
    let path = temp.path().to_owned();
    let (locked_tx, locked_rx) = std::sync::mpsc::channel();
    let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
    // A thread takes the write lock, inserts a conflicting booking by hand,
    // and commits only when told to.
    let holder = std::thread::spawn(move || {
        let mut conn = raw(&path);
        let tx = conn
            .transaction_with_behavior(booking_sqlite::rusqlite::TransactionBehavior::Immediate)
            .unwrap();
        tx.execute(
            "INSERT INTO bookings (id, organizer_id, attendant_name, attendant_email, title, start_time, end_time,
               occupied_start, occupied_end, cancel_token_hash, created_at, updated_at)
             VALUES (?1, ?2, 'Hand', 'h@example.com', 'Manual', ?3, ?4, ?3, ?4, ?5, ?3, ?3)",
            booking_sqlite::rusqlite::params![
                BookingId::generate().to_string(),
                ada.id.to_string(),
                at(10, 0).timestamp_micros(),
                at(11, 0).timestamp_micros(),
                TokenHash::of("x").to_hex(),
            ],
        )
        .unwrap();
        locked_tx.send(()).unwrap();
        go_rx.recv().unwrap();
        tx.commit().unwrap();
    });
    locked_rx.recv().unwrap();
    let store = temp.store.clone();
    let insert = tokio::spawn(async move {
        store
            .insert_booking(new_booking(ada.id, range(at(10, 30), 30), 0, 0))
            .await
    });
    // Let the insert start waiting on the lock, then release it.
    tokio::time::sleep(StdDuration::from_millis(100)).await;
    go_tx.send(()).unwrap();
    holder.join().unwrap();
    let result = insert.await.unwrap();
    assert!(
        matches!(result, Err(StoreError::Conflict)),
        "the insert waited for the other writer and then saw its booking: {result:?}"
    );
}

#[tokio::test]
async fn instants_finer_than_a_microsecond_are_rounded_outward() {
    let temp = TempStore::new().await;
    let ada = organizer(&temp, "ada").await;
    let ns = Duration::nanoseconds;
    let requested = TimeRange::new(at(10, 0) + ns(300), at(11, 0) + ns(1)).unwrap();
    let mut booking = new_booking(ada.id, requested, 0, 0);
    booking.buffer_after = Duration::milliseconds(1500);
    let stored = temp.insert_booking(booking).await.unwrap();
    assert_eq!(
        stored.time,
        TimeRange::new(at(10, 0), at(11, 0) + Duration::microseconds(1)).unwrap()
    );
    assert!(stored.time.encloses(&requested));
    assert_eq!(
        stored.buffer_after,
        Duration::seconds(2),
        "buffers round up to the second"
    );
    assert_eq!(
        temp.booking(stored.id).await.unwrap(),
        Some(stored.clone()),
        "read back = returned"
    );
    assert_eq!(
        temp.occupied_intervals(ada.id, range(at(0, 0), 24 * 60))
            .await
            .unwrap(),
        vec![stored.occupied()]
    );

    // Overlapping by a fraction of a microsecond is still an overlap.
    let sliver = TimeRange::new(at(9, 0), at(10, 0) + ns(700)).unwrap();
    assert!(matches!(
        temp.insert_booking(new_booking(ada.id, sliver, 0, 0)).await,
        Err(StoreError::Conflict)
    ));
    // A meeting shorter than a microsecond is stored as a whole one, never empty.
    let tiny = TimeRange::new(at(13, 0) + ns(100), at(13, 0) + ns(200)).unwrap();
    let stored = temp
        .insert_booking(new_booking(ada.id, tiny, 0, 0))
        .await
        .unwrap();
    assert_eq!(stored.time.duration(), Duration::microseconds(1));
}

#[tokio::test]
async fn rows_edited_by_hand_are_reported_as_corrupt() {
    let temp = TempStore::new().await;
    let ada = organizer(&temp, "ada").await;
    temp.put_settings(
        ada.id,
        &OrganizerSettings::try_from(SettingsDraft::default()).unwrap(),
    )
    .await
    .unwrap();
    let booking = temp
        .insert_booking(new_booking(ada.id, range(at(10, 0), 30), 0, 0))
        .await
        .unwrap();
    let conn = raw(temp.path());

    conn.execute("UPDATE organizer_settings SET slot_duration_secs = 0", [])
        .unwrap();
    assert!(
        matches!(temp.settings(ada.id).await, Err(StoreError::Corrupt(_))),
        "a zero slot breaks the rules"
    );
    conn.execute("UPDATE bookings SET metadata = '[1, 2]'", [])
        .unwrap();
    assert!(
        matches!(temp.booking(booking.id).await, Err(StoreError::Corrupt(_))),
        "metadata must be an object"
    );
    conn.execute("UPDATE organizers SET time_zone = 'Mars/Olympus'", [])
        .unwrap();
    assert!(matches!(
        temp.organizer_by_id(ada.id).await,
        Err(StoreError::Corrupt(_))
    ));
    let err = temp.organizer_by_username("ada").await.unwrap_err();
    assert!(err.to_string().contains("Mars/Olympus"), "{err}");
}

#[tokio::test]
async fn the_schema_refuses_what_the_store_never_writes() {
    let temp = TempStore::new().await;
    let ada = organizer(&temp, "ada").await;
    let conn = raw(temp.path());
    let insert = |start: i64, end: i64, hash: &str| {
        conn.execute(
            "INSERT INTO bookings (id, organizer_id, attendant_name, attendant_email, title, start_time, end_time,
               occupied_start, occupied_end, cancel_token_hash, created_at, updated_at)
             VALUES (?1, ?2, 'x', 'x', 'x', ?3, ?4, ?3, ?4, ?5, 0, 0)",
            booking_sqlite::rusqlite::params![BookingId::generate().to_string(), ada.id.to_string(), start, end, hash],
        )
    };
    assert!(
        insert(10, 10, "h").is_err(),
        "CHECK (end_time > start_time)"
    );
    assert!(insert(10, 20, "h").is_ok());
    let strict = conn.execute("UPDATE bookings SET start_time = 'yesterday'", []);
    assert!(
        strict.is_err(),
        "STRICT tables refuse text in an INTEGER column"
    );
    conn.execute_batch("PRAGMA foreign_keys = ON").unwrap();
    let orphan = conn.execute(
        "INSERT INTO organizer_settings (organizer_id, time_zone, weekly_hours, date_overrides, slot_duration_secs,
           buffer_before_secs, buffer_after_secs, min_notice_secs, max_advance_secs)
         VALUES ('nobody', 'UTC', '{}', '{}', 1800, 0, 0, 0, 86400)",
        [],
    );
    assert!(
        orphan.is_err(),
        "settings of an unknown organizer violate the foreign key"
    );
    conn.execute("DELETE FROM organizers", []).unwrap();
    assert_eq!(
        count(&conn, "SELECT COUNT(*) FROM bookings"),
        0,
        "ON DELETE CASCADE"
    );
}

#[tokio::test]
async fn the_file_is_in_wal_mode_at_the_current_level_and_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("reopen.db");
    let store = SqliteStore::open(&path).await.unwrap();
    let ada = organizer(&store, "ada").await;
    let booking = store
        .insert_booking(new_booking(ada.id, range(at(10, 0), 30), 5, 5))
        .await
        .unwrap();
    drop(store);

    let conn = raw(&path);
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    assert_eq!(booking_sqlite::schema_level(&conn).unwrap(), SCHEMA_LEVEL);
    drop(conn);

    let reopened = SqliteStore::open(&path).await.unwrap();
    assert_eq!(reopened.booking(booking.id).await.unwrap(), Some(booking));
    assert_eq!(
        reopened.organizer_by_username("ada").await.unwrap(),
        Some(ada)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_stores_opening_a_new_file_at_once_migrate_it_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fresh.db");
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let path = path.clone();
            tokio::spawn(async move { SqliteStore::open(path).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().expect("every concurrent open succeeds");
    }
    let conn = raw(&path);
    assert_eq!(booking_sqlite::schema_level(&conn).unwrap(), SCHEMA_LEVEL);
    assert_eq!(
        count(
            &conn,
            "SELECT COUNT(*) FROM sqlite_schema WHERE name = 'bookings'"
        ),
        1
    );
}

#[tokio::test]
async fn a_file_from_a_newer_version_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("newer.db");
    drop(SqliteStore::open(&path).await.unwrap());
    raw(&path)
        .pragma_update(None, "user_version", SCHEMA_LEVEL + 1)
        .unwrap();
    let refused = SqliteStore::open(&path).await;
    assert!(
        matches!(refused, Err(OpenError::NewerSchema { found, supported }) if found == SCHEMA_LEVEL + 1 && supported == SCHEMA_LEVEL),
        "{refused:?}"
    );
    assert_eq!(
        booking_sqlite::schema_level(&raw(&path)).unwrap(),
        SCHEMA_LEVEL + 1
    );
}

#[tokio::test]
async fn memory_paths_give_a_private_single_connection_database() {
    for store in [
        SqliteStore::open(":memory:").await.unwrap(),
        SqliteStore::open_in_memory().await.unwrap(),
    ] {
        assert_eq!(store.path(), None);
        let ada = organizer(&store, "ada").await;
        store
            .insert_booking(new_booking(ada.id, range(at(10, 0), 30), 0, 0))
            .await
            .unwrap();
        // Reads see the writes: it is one database, not one per connection.
        assert_eq!(store.list_bookings(ada.id, all()).await.unwrap().total, 1);
    }
}

fn all() -> booking_core::store::BookingQuery {
    booking_core::store::BookingQuery {
        starts_within: None,
        limit: 100,
        offset: 0,
    }
}

#[tokio::test]
async fn a_directory_that_does_not_exist_is_an_open_error() {
    let dir = tempfile::tempdir().unwrap();
    let refused = SqliteStore::open(dir.path().join("missing").join("x.db")).await;
    assert!(matches!(refused, Err(OpenError::Sqlite(_))), "{refused:?}");
}
