//! SQLite-specific behaviour beyond the conformance suite: several store
//! instances (separate connections) racing on one file for overlapping time
//! and for the last place of a day, lock waits, rounding of fine instants,
//! the 72-hour bound, corrupt rows, the schema's constraints in raw SQL,
//! opening without migrating, the health probe, reopening.

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use booking_core::booking::{BookingId, LimitCheck, NewBooking};
use booking_core::event_type::{EventType, EventTypeId, LimitPeriod};
use booking_core::hold::NewHold;
use booking_core::organizer::{NewOrganizer, OrganizerId};
use booking_core::schedule::{Schedule, ScheduleId};
use booking_core::secret::TokenHash;
use booking_core::store::{BookingStore, Cancellation, ConfigChange, Reschedule, StoreError};
use booking_core::testkit::fixtures::{
    at, created, default_event_type_id, event_type, new_booking, new_hold, organizer, race_inserts,
    range, schedule, winners_per_group,
};
use booking_core::time::TimeRange;
use booking_sqlite::{Error, SCHEMA_LEVEL, SqliteOptions, SqliteStore};
use chrono::Duration;
use common::{TempDb, count, memory_store, overlapping_pairs, raw};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_tasks_on_four_connections_have_one_winner_per_overlapping_group() {
    let temp = TempDb::new().await;
    let ada = organizer(&temp.store, "ada").await;
    let stores = temp.stores(4).await;

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
    let temp = TempDb::new().await;
    let stores = temp.stores(4).await;

    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let store = Arc::clone(&stores[i % stores.len()]);
            tokio::spawn(async move {
                store
                    .create_organizer(
                        OrganizerId::generate(),
                        NewOrganizer::new(
                            if i % 2 == 0 { "ada" } else { "ADA" },
                            "ada@example.com",
                            "Ada",
                            chrono_tz::UTC,
                        ),
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
            Err(StoreError::UsernameTaken(name)) => {
                assert!(name.eq_ignore_ascii_case("ada"), "{name}")
            }
            Err(other) => panic!("{other:?}"),
        }
    }
    assert_eq!(registered, 1, "one registration per name in any case");

    let ada = temp
        .store
        .organizer_by_username("ada")
        .await
        .unwrap()
        .unwrap();
    temp.store
        .update_config(
            ada.id,
            0,
            vec![
                ConfigChange::PutSchedule(schedule(ada.id)),
                ConfigChange::PutEventType(event_type(ada.id)),
            ],
        )
        .await
        .unwrap();
    let booking = temp
        .store
        .insert_booking(new_booking(ada.id, range(at(10, 0), 30), 0, 0))
        .await
        .unwrap();
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let store = Arc::clone(&stores[i % stores.len()]);
            let when = created() + Duration::minutes(i as i64);
            tokio::spawn(async move {
                (
                    when,
                    store
                        .cancel_booking(Cancellation::new(booking.id, booking.organizer_id, when))
                        .await,
                )
            })
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
    let temp = TempDb::new().await;
    let ada = organizer(&temp.store, "ada").await;
    let impatient = temp
        .another_store(SqliteOptions::default().busy_timeout(StdDuration::from_millis(50)))
        .await;

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
    let temp = TempDb::new().await;
    let ada = organizer(&temp.store, "ada").await;
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
            "INSERT INTO bookings (id, organizer_id, event_type_slug, attendant_name, attendant_email, title,
               start_time, end_time, occupied_start, occupied_end, cancel_token_hash, created_at, updated_at)
             VALUES (?1, ?2, 'by-hand', 'Hand', 'h@example.com', 'Manual', ?3, ?4, ?3, ?4, ?5, ?3, ?3)",
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
    let temp = TempDb::new().await;
    let temp = &temp.store;
    let ada = organizer(temp, "ada").await;
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
        temp.occupied_intervals(ada.id, range(at(0, 0), 24 * 60), created())
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
    let temp = TempDb::new().await;
    let store = &temp.store;
    let ada = organizer(store, "ada").await;
    let booking = store
        .insert_booking(new_booking(ada.id, range(at(10, 0), 30), 0, 0))
        .await
        .unwrap();
    let conn = raw(temp.path());

    for (edit, what) in [
        (
            "UPDATE schedules SET weekly_hours = '{\"monday\": 5}'",
            "hours that are not a list of intervals",
        ),
        (
            "UPDATE schedules SET weekly_hours = '{}', time_zone = 'Mars/Olympus'",
            "an unknown zone",
        ),
        (
            "UPDATE schedules SET time_zone = 'UTC'; UPDATE event_types SET slug = 'Not A Slug'",
            "a slug that is not one",
        ),
        (
            "UPDATE event_types SET slug = 'default', location = '{\"kind\": \"carrier-pigeon\"}'",
            "an unknown location kind",
        ),
    ] {
        conn.execute_batch(edit).unwrap();
        let read = store.organizer_config(ada.id).await;
        assert!(
            matches!(read, Err(StoreError::Corrupt(_))),
            "{what}: {read:?}"
        );
    }
    conn.execute("UPDATE bookings SET metadata = '[1, 2]'", [])
        .unwrap();
    assert!(
        matches!(store.booking(booking.id).await, Err(StoreError::Corrupt(_))),
        "metadata must be an object"
    );
    conn.execute("UPDATE organizers SET time_zone = 'Mars/Olympus'", [])
        .unwrap();
    assert!(matches!(
        store.organizer_by_id(ada.id).await,
        Err(StoreError::Corrupt(_))
    ));
    let err = store.organizer_by_username("ada").await.unwrap_err();
    assert!(err.to_string().contains("Mars/Olympus"), "{err}");
}

#[tokio::test]
async fn the_schema_refuses_what_the_store_never_writes() {
    let temp = TempDb::new().await;
    let ada = organizer(&temp.store, "ada").await;
    let conn = raw(temp.path());
    let insert = |start: i64, end: i64, before: i64| {
        conn.execute(
            "INSERT INTO bookings (id, organizer_id, event_type_slug, attendant_name, attendant_email, title,
               start_time, end_time, occupied_start, occupied_end, cancel_token_hash, created_at, updated_at)
             VALUES (?1, ?2, 'default', 'x', 'x', 'x', ?3, ?4, ?3 - ?5, ?4, 'h', 0, 0)",
            booking_sqlite::rusqlite::params![
                BookingId::generate().to_string(),
                ada.id.to_string(),
                start,
                end,
                before
            ],
        )
    };
    assert!(insert(10, 10, 0).is_err(), "CHECK (end_time > start_time)");
    assert!(insert(10, 20, 0).is_ok());
    let hour = 3_600_000_000;
    assert!(
        insert(0, 48 * hour, 24 * hour).is_ok(),
        "72 hours occupied is the most"
    );
    let too_long = insert(100 * hour, 148 * hour, 24 * hour + 1).unwrap_err();
    assert!(
        too_long.to_string().contains("occupied_at_most_72_hours"),
        "{too_long}"
    );
    let strict = conn.execute("UPDATE bookings SET start_time = 'yesterday'", []);
    assert!(
        strict.is_err(),
        "STRICT tables refuse text in an INTEGER column"
    );
    conn.execute_batch("PRAGMA foreign_keys = ON").unwrap();
    let orphan = conn.execute(
        "INSERT INTO schedules (organizer_id, id, name, time_zone, weekly_hours, date_overrides, is_default)
         VALUES ('nobody', 'x', 'x', 'UTC', '{}', '{}', 1)",
        [],
    );
    assert!(
        orphan.is_err(),
        "a schedule of an unknown organizer violates the foreign key"
    );
    conn.execute("DELETE FROM organizers", []).unwrap();
    for table in ["bookings", "schedules", "event_types"] {
        assert_eq!(
            count(&conn, &format!("SELECT COUNT(*) FROM {table}")),
            0,
            "ON DELETE CASCADE reaches {table}"
        );
    }
}

/// The constraints of level 3, tried in raw SQL with foreign keys enforced
/// as the store enforces them: unique slugs per organizer, one default
/// schedule, a schedule in use cannot go, a booking must name an event type
/// of its own organizer, and deleting an event type keeps its bookings.
#[tokio::test]
async fn the_configuration_constraints_hold_in_sql() {
    let temp = TempDb::new().await;
    let ada = organizer(&temp.store, "ada").await;
    let bob = organizer(&temp.store, "bob").await;
    let booking = temp
        .store
        .insert_booking(new_booking(ada.id, range(at(10, 0), 30), 0, 0))
        .await
        .unwrap();
    let conn = raw(temp.path());
    conn.execute_batch("PRAGMA foreign_keys = ON").unwrap();
    let (a, b) = (ada.id.to_string(), bob.id.to_string());
    let copy_event_type = |organizer: &str, id: &str, slug: &str, schedule: Option<&str>| {
        conn.execute(
            "INSERT INTO event_types (organizer_id, id, slug, title, duration_secs, buffer_before_secs,
               buffer_after_secs, min_notice_secs, window_kind, window_horizon_secs, schedule_id, active)
             VALUES (?1, ?2, ?3, 'T', 1800, 0, 0, 0, 'rolling', 86400, ?4, 1)",
            booking_sqlite::rusqlite::params![organizer, id, slug, schedule],
        )
    };
    let err = copy_event_type(&a, "E1", "default", None).unwrap_err();
    assert!(
        err.to_string()
            .contains("event_types.organizer_id, event_types.slug"),
        "slugs are unique per organizer: {err}"
    );
    copy_event_type(&b, "E2", "copy", None).expect("another organizer's slug is theirs");
    let err = copy_event_type(&b, "E3", "uses-adas", Some(&a)).unwrap_err();
    assert!(
        err.to_string().contains("FOREIGN KEY"),
        "a schedule of another organizer cannot be used: {err}"
    );
    let err = conn
        .execute(
            "INSERT INTO schedules (organizer_id, id, name, time_zone, weekly_hours, date_overrides, is_default)
             VALUES (?1, 'S2', 'Second', 'UTC', '{}', '{}', 1)",
            [&a],
        )
        .unwrap_err();
    assert!(
        err.to_string().contains("schedules.organizer_id"),
        "one default schedule per organizer: {err}"
    );
    copy_event_type(&a, "E4", "evenings", Some(&a)).unwrap();
    let err = conn
        .execute("DELETE FROM schedules WHERE organizer_id = ?1", [&a])
        .unwrap_err();
    assert!(
        err.to_string().contains("FOREIGN KEY"),
        "a schedule in use stays: {err}"
    );
    let err = conn
        .execute(
            "UPDATE bookings SET event_type_id = 'E2' WHERE id = ?1",
            [booking.id.to_string()],
        )
        .unwrap_err();
    assert!(
        err.to_string().contains("FOREIGN KEY"),
        "a booking names an event type of its own organizer: {err}"
    );
    conn.execute(
        "DELETE FROM event_types WHERE organizer_id = ?1 AND id = ?1",
        [&a],
    )
    .expect("an event type with bookings can be deleted");
    let (kept_type, kept_slug): (Option<String>, String) = conn
        .query_row(
            "SELECT event_type_id, event_type_slug FROM bookings WHERE id = ?1",
            [booking.id.to_string()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(
        (kept_type, kept_slug.as_str()),
        (None, "default"),
        "its bookings stay, without the id, with the slug"
    );
    assert_eq!(
        count(&conn, "SELECT COUNT(*) FROM organizers"),
        2,
        "the organizer was not touched"
    );
}

/// The last place of a day, raced from four stores on one file (separate
/// connections, so only SQLite's write lock stands between them, as between
/// processes): one winner, and the day holds exactly the limit, counted in
/// SQL.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_last_place_of_a_day_has_one_winner_across_connections() {
    let temp = TempDb::new().await;
    let ada = organizer(&temp.store, "ada").await;
    let stores = temp.stores(4).await;
    let check = vec![LimitCheck {
        period: LimitPeriod::Day,
        starts_within: TimeRange::new(at(0, 0), at(24, 0)).unwrap(),
        max: 3,
    }];
    let limited = |start, minutes| NewBooking {
        limits: check.clone(),
        ..new_booking(ada.id, range(start, minutes), 0, 0)
    };
    for hour in [1, 2] {
        temp.store
            .insert_booking(limited(at(hour, 0), 10))
            .await
            .unwrap();
    }
    let outcomes = race_inserts(
        (0..64)
            .map(|i| {
                let store: Arc<dyn BookingStore> = stores[i % stores.len()].clone();
                (
                    i,
                    store,
                    limited(at(4, 0) + Duration::minutes(15 * i as i64), 10),
                )
            })
            .collect(),
    )
    .await;
    assert_eq!(
        outcomes.iter().filter(|(_, won)| *won).count(),
        1,
        "exactly one insert takes the last place"
    );
    let conn = raw(temp.path());
    let stored: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM bookings WHERE organizer_id = ?1 AND event_type_id = ?2
               AND deleted_at IS NULL AND start_time >= ?3 AND start_time < ?4",
            booking_sqlite::rusqlite::params![
                ada.id.to_string(),
                default_event_type_id(ada.id).to_string(),
                at(0, 0).timestamp_micros(),
                at(24, 0).timestamp_micros()
            ],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored, 3, "the day holds exactly its limit");
    assert_eq!(
        count(&conn, "SELECT COUNT(*) FROM bookings"),
        3,
        "losers wrote nothing"
    );
}

/// A booking, a hold or a move occupying more than 72 hours is refused as
/// `Unstorable` before it reaches a table (the overlap queries' lower bound
/// relies on it); exactly 72 is fine.
#[tokio::test]
async fn occupying_more_than_72_hours_is_unstorable() {
    let store = memory_store().await;
    let ada = organizer(&store, "ada").await;
    let longest = new_booking(ada.id, range(at(24, 0), 24 * 60), 24 * 60, 24 * 60);
    let longest = store.insert_booking(longest).await.expect("72 hours");
    let too_long = new_booking(ada.id, range(at(24 * 5, 0), 24 * 60 + 1), 24 * 60, 24 * 60);
    let id = too_long.id;
    assert_unstorable(store.insert_booking(too_long).await.map(|_| ()));
    assert_eq!(store.booking(id).await.unwrap(), None);

    let hold = new_hold(
        ada.id,
        range(at(24 * 9, 0), 24 * 60 + 1),
        24 * 60,
        24 * 60,
        created() + Duration::minutes(5),
        None,
    );
    assert_unstorable(
        store
            .insert_hold(NewHold {
                hold,
                limits: Vec::new(),
                max_per_client: 3,
            })
            .await
            .map(|_| ()),
    );
    assert_eq!(
        store
            .hold_by_token_hash(&TokenHash::of("hold"))
            .await
            .unwrap(),
        None
    );

    let stretched = Reschedule {
        id: longest.id,
        organizer_id: ada.id,
        expected_sequence: 0,
        time: range(at(24 * 13, 0), 24 * 60 + 1),
        buffer_before: Duration::hours(24),
        buffer_after: Duration::hours(24),
        limits: Vec::new(),
        at: created(),
        event: None,
    };
    assert_unstorable(store.reschedule_booking(stretched).await.map(|_| ()));
    assert_eq!(store.booking(longest.id).await.unwrap(), Some(longest));
}

fn assert_unstorable(result: Result<(), StoreError>) {
    let Err(StoreError::Unstorable(message)) = &result else {
        panic!("expected Unstorable naming the bound, got {result:?}");
    };
    assert!(message.contains("longer than the 259200 s"), "{message}");
}

/// A booking whose event type was deleted after the booking was decided is
/// stored without an event type id (as if the deletion came just after),
/// keeping its slug; it still blocks time.
#[tokio::test]
async fn a_booking_of_an_event_type_deleted_meanwhile_keeps_its_slug() {
    let store = memory_store().await;
    let ada = organizer(&store, "ada").await;
    store
        .update_config(
            ada.id,
            1,
            vec![ConfigChange::DeleteEventType(default_event_type_id(ada.id))],
        )
        .await
        .unwrap();
    let stored = store
        .insert_booking(new_booking(ada.id, range(at(10, 0), 30), 0, 0))
        .await
        .unwrap();
    assert_eq!(stored.event_type_id, None);
    assert_eq!(stored.event_type_slug.as_str(), "default");
    assert_eq!(store.booking(stored.id).await.unwrap(), Some(stored));
    assert!(matches!(
        store
            .insert_booking(new_booking(ada.id, range(at(10, 15), 30), 0, 0))
            .await,
        Err(StoreError::Conflict)
    ));
}

/// A change that breaks the one-default rule half-way (a second default
/// without demoting the first) is refused, and nothing of it stays, not
/// even the version bump that came first.
#[tokio::test]
async fn a_refused_configuration_change_rolls_back_the_version_too() {
    let store = memory_store().await;
    let ada = organizer(&store, "ada").await;
    let before = store.organizer_config(ada.id).await.unwrap().unwrap();
    let second_default = Schedule {
        id: ScheduleId::generate(),
        ..schedule(ada.id)
    };
    let extra = EventType {
        id: EventTypeId::generate(),
        slug: "extra".parse().unwrap(),
        ..event_type(ada.id)
    };
    let refused = store
        .update_config(
            ada.id,
            before.version,
            vec![
                ConfigChange::PutEventType(extra),
                ConfigChange::PutSchedule(second_default),
            ],
        )
        .await;
    assert!(
        matches!(&refused, Err(StoreError::Unstorable(e)) if e.contains("at most one default schedule")),
        "the one-default index refuses, as the reference store does: {refused:?}"
    );
    assert_eq!(
        store.organizer_config(ada.id).await.unwrap().unwrap(),
        before
    );
}

#[tokio::test]
async fn opening_does_not_migrate_and_the_health_check_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.db");
    let store = SqliteStore::open(&path, SqliteOptions::default())
        .await
        .unwrap();
    assert_eq!(booking_sqlite::schema_level(&raw(&path)).unwrap(), 0);
    let unhealthy = store.check_health().await.unwrap_err();
    let StoreError::Backend(source) = &unhealthy else {
        panic!("{unhealthy:?}");
    };
    assert!(
        matches!(
            source.downcast_ref::<Error>(),
            Some(Error::NotMigrated { found: 0, expected }) if *expected == SCHEMA_LEVEL
        ),
        "{unhealthy}"
    );
    assert_eq!(store.migrate().await.unwrap(), 0, "the level it was at");
    assert_eq!(
        store.migrate().await.unwrap(),
        SCHEMA_LEVEL,
        "nothing left to do"
    );
    store.check_health().await.expect("healthy once migrated");
    assert_eq!(
        booking_sqlite::schema_level(&raw(&path)).unwrap(),
        SCHEMA_LEVEL,
        "the probe's write was rolled back, not committed at another level"
    );
    organizer(&store, "ada").await;
}

/// The health probe takes the write lock and writes: a file the process
/// cannot write fails it (mode 0444, and for root, which ignores modes, the
/// immutable attribute).
#[tokio::test]
async fn the_health_check_fails_on_a_file_that_cannot_be_written() {
    let temp = TempDb::new().await;
    temp.store
        .check_health()
        .await
        .expect("a writable file is healthy");
    let path = temp.path().to_owned();
    let TempDb { store, dir } = temp;
    drop(store);
    let _read_only = ReadOnly::make(&path);
    let store = SqliteStore::open(&path, SqliteOptions::default())
        .await
        .expect("a read-only file opens for reading");
    assert!(store.organizer_by_username("ada").await.unwrap().is_none());
    let refused = store.check_health().await.unwrap_err();
    let StoreError::Backend(source) = &refused else {
        panic!("{refused:?}");
    };
    assert_eq!(
        source
            .downcast_ref::<booking_sqlite::rusqlite::Error>()
            .and_then(|e| e.sqlite_error_code()),
        Some(booking_sqlite::rusqlite::ErrorCode::ReadOnly),
        "{refused}"
    );
    drop(store);
    drop(dir);
}

/// Makes a file unwritable for this process until dropped.
struct ReadOnly {
    path: std::path::PathBuf,
    immutable: bool,
}

impl ReadOnly {
    fn make(path: &std::path::Path) -> ReadOnly {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o444)).expect("chmod");
        let writable = std::fs::OpenOptions::new().write(true).open(path).is_ok();
        if writable {
            let status = std::process::Command::new("chattr")
                .arg("+i")
                .arg(path)
                .status()
                .expect("run chattr: root ignores mode bits");
            assert!(status.success(), "chattr +i {}", path.display());
        }
        assert!(
            std::fs::OpenOptions::new().write(true).open(path).is_err(),
            "the file is still writable"
        );
        ReadOnly {
            path: path.to_owned(),
            immutable: writable,
        }
    }
}

impl Drop for ReadOnly {
    fn drop(&mut self) {
        if self.immutable {
            let _ = std::process::Command::new("chattr")
                .arg("-i")
                .arg(&self.path)
                .status();
        }
    }
}

#[tokio::test]
async fn the_file_is_in_wal_mode_at_the_current_level_and_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("reopen.db");
    let store = SqliteStore::open(&path, SqliteOptions::default())
        .await
        .unwrap();
    store.migrate().await.unwrap();
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

    let reopened = SqliteStore::open(&path, SqliteOptions::default())
        .await
        .unwrap();
    assert_eq!(reopened.migrate().await.unwrap(), SCHEMA_LEVEL);
    assert_eq!(reopened.booking(booking.id).await.unwrap(), Some(booking));
    assert_eq!(
        reopened.organizer_by_username("ada").await.unwrap(),
        Some(ada)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_stores_migrating_a_new_file_at_once_migrate_it_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fresh.db");
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let path = path.clone();
            tokio::spawn(async move {
                let store = SqliteStore::open(path, SqliteOptions::default()).await?;
                store.migrate().await
            })
        })
        .collect();
    let mut migrated_from_zero = 0;
    for task in tasks {
        let before = task
            .await
            .unwrap()
            .expect("every concurrent open and migrate succeeds");
        if before == 0 {
            migrated_from_zero += 1;
        } else {
            assert_eq!(before, SCHEMA_LEVEL);
        }
    }
    assert_eq!(
        migrated_from_zero, 1,
        "one store migrated, the others found it done"
    );
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
    let store = SqliteStore::open(&path, SqliteOptions::default())
        .await
        .unwrap();
    store.migrate().await.unwrap();
    drop(store);
    raw(&path)
        .pragma_update(None, "user_version", SCHEMA_LEVEL + 1)
        .unwrap();
    let refused = SqliteStore::open(&path, SqliteOptions::default()).await;
    assert!(
        matches!(refused, Err(Error::NewerSchema { found, supported }) if found == SCHEMA_LEVEL + 1 && supported == SCHEMA_LEVEL),
        "{refused:?}"
    );
    let mut conn = raw(&path);
    assert!(matches!(
        booking_sqlite::migrate(&mut conn),
        Err(Error::NewerSchema { .. })
    ));
    assert_eq!(
        booking_sqlite::schema_level(&conn).unwrap(),
        SCHEMA_LEVEL + 1
    );
}

#[tokio::test]
async fn memory_paths_give_a_private_single_connection_database() {
    for store in [
        SqliteStore::open(":memory:", SqliteOptions::default())
            .await
            .unwrap(),
        SqliteStore::open_in_memory(SqliteOptions::default())
            .await
            .unwrap(),
    ] {
        assert_eq!(store.path(), None);
        store.migrate().await.unwrap();
        let ada = organizer(&store, "ada").await;
        store
            .insert_booking(new_booking(ada.id, range(at(10, 0), 30), 0, 0))
            .await
            .unwrap();
        // Reads see the writes: it is one database, not one per connection.
        assert_eq!(store.list_bookings(ada.id, all()).await.unwrap().total, 1);
        store.check_health().await.unwrap();
    }
}

fn all() -> booking_core::store::BookingQuery {
    booking_core::store::BookingQuery {
        starts_within: None,
        cancelled_since: None,
        limit: 100,
        offset: 0,
    }
}

#[tokio::test]
async fn a_directory_that_does_not_exist_is_an_open_error() {
    let dir = tempfile::tempdir().unwrap();
    let refused = SqliteStore::open(
        dir.path().join("missing").join("x.db"),
        SqliteOptions::default(),
    )
    .await;
    assert!(matches!(refused, Err(Error::Sqlite(_))), "{refused:?}");
}
