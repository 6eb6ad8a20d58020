//! PostgreSQL-specific behaviour beyond the conformance suite: the schema
//! itself, the database-level guarantee, corrupt rows, lost connections.

mod common;

use std::collections::BTreeMap;
use std::time::Duration as StdDuration;

use booking_core::booking::BookingId;
use booking_core::organizer::{OrganizerSettings, SettingsDraft, WeeklyHours};
use booking_core::store::{BookingQuery, BookingStore, StoreError};
use booking_core::testkit::fixtures::{at, new_booking, range};
use booking_core::time::{LocalInterval, TimeRange};
use booking_postgres::{MIGRATIONS_TABLE, PostgresStore};
use chrono::{Duration, NaiveDate};
use common::{TestDb, organizer};
use sqlx::Connection;

#[tokio::test(flavor = "multi_thread")]
async fn the_schema_carries_the_guarantees() {
    let db = TestDb::new().await;
    let constraints: Vec<(String, String)> = sqlx::query_as(
        "SELECT conname::text, contype::text FROM pg_constraint \
         WHERE conrelid = 'bookings'::regclass ORDER BY conname",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    let has = |name: &str, kind: &str| constraints.iter().any(|(n, k)| n == name && k == kind);
    assert!(
        has("bookings_no_overlap", "x"),
        "exclusion constraint: {constraints:?}"
    );
    assert!(
        has("bookings_end_after_start", "c"),
        "CHECK end > start: {constraints:?}"
    );
    assert!(has("bookings_pkey", "p"));
    let definition: String = sqlx::query_scalar(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'bookings_no_overlap' \
         AND conrelid = 'bookings'::regclass",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert!(definition.contains("organizer_id WITH ="), "{definition}");
    assert!(
        definition.contains("tstzrange(occupied_start, occupied_end, '[)'::text) WITH &&"),
        "{definition}"
    );
    assert!(
        definition.contains("WHERE ((deleted_at IS NULL))"),
        "{definition}"
    );

    // Foreign keys to organizers cascade on delete.
    let cascades: Vec<String> = sqlx::query_scalar(
        "SELECT conrelid::regclass::text FROM pg_constraint \
         WHERE contype = 'f' AND confrelid = 'organizers'::regclass AND confdeltype = 'c' ORDER BY 1",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert_eq!(cascades, ["bookings", "organizer_settings"]);

    // The seed's indexes.
    let indexes: Vec<String> = sqlx::query_scalar(
        "SELECT indexname::text FROM pg_indexes WHERE tablename = 'bookings' AND schemaname = $1",
    )
    .bind(&db.schema)
    .fetch_all(&db.pool)
    .await
    .unwrap();
    for name in [
        "bookings_organizer_id_idx",
        "bookings_organizer_start_time_idx",
    ] {
        assert!(
            indexes.iter().any(|i| i == name),
            "missing {name}: {indexes:?}"
        );
    }

    // Migration history in our own table, not sqlx's default one, and a
    // second migrate is a no-op.
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT tablename::text FROM pg_tables WHERE schemaname = $1 ORDER BY 1",
    )
    .bind(&db.schema)
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert_eq!(
        tables,
        [
            "booking_postgres_migrations",
            "bookings",
            "organizer_settings",
            "organizers"
        ]
    );
    assert_eq!(MIGRATIONS_TABLE, "booking_postgres_migrations");
    db.store
        .migrate()
        .await
        .expect("migrating twice is harmless");
    db.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_database_refuses_overlaps_even_from_raw_sql() {
    let db = TestDb::new().await;
    let ada = organizer(&db.store, "ada").await;
    db.store
        .insert_booking(new_booking(ada.id, range(at(10, 0), 60), 0, 0))
        .await
        .unwrap();
    // A writer that bypasses the store entirely still cannot double book.
    let raw = sqlx::query(
        "INSERT INTO bookings (id, organizer_id, attendant_name, attendant_email, title, \
            start_time, end_time, occupied_start, occupied_end, cancel_token_hash) \
         VALUES ($1, $2, 'Mallory', 'm@example.com', 'Sneaky', $3, $4, $3, $4, 'x')",
    )
    .bind(BookingId::generate().to_string())
    .bind(ada.id.to_string())
    .bind(at(10, 30))
    .bind(at(11, 30))
    .execute(&db.pool)
    .await;
    let error = raw.expect_err("the exclusion constraint must refuse the overlap");
    assert_eq!(
        error.as_database_error().and_then(|e| e.code()).as_deref(),
        Some("23P01")
    );

    // An end not after the start is refused by the CHECK.
    let inverted = sqlx::query(
        "INSERT INTO bookings (id, organizer_id, attendant_name, attendant_email, title, \
            start_time, end_time, occupied_start, occupied_end, cancel_token_hash) \
         VALUES ($1, $2, 'Mallory', 'm@example.com', 'Inverted', $3, $4, $4, $3, 'x')",
    )
    .bind(BookingId::generate().to_string())
    .bind(ada.id.to_string())
    .bind(at(15, 0))
    .bind(at(14, 0))
    .execute(&db.pool)
    .await;
    let error = inverted.expect_err("CHECK (end_time > start_time)");
    assert_eq!(
        error.as_database_error().and_then(|e| e.constraint()),
        Some("bookings_end_after_start")
    );

    // Deleting an organizer removes their bookings and settings.
    let settings = OrganizerSettings::try_from(SettingsDraft::default()).unwrap();
    db.store.put_settings(ada.id, &settings).await.unwrap();
    sqlx::query("DELETE FROM organizers WHERE id = $1")
        .bind(ada.id.to_string())
        .execute(&db.pool)
        .await
        .unwrap();
    assert_eq!(common::booking_rows(&db.pool).await, 0);
    assert_eq!(db.store.settings(ada.id).await.unwrap(), None);
    db.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn stored_values_are_plain_and_readable() {
    let db = TestDb::new().await;
    let ada = organizer(&db.store, "ada").await;
    let booking = db
        .store
        .insert_booking(new_booking(ada.id, range(at(9, 0), 30), 10, 5))
        .await
        .unwrap();
    let (before, after, occupied_start, occupied_end, hash): (
        String,
        String,
        String,
        String,
        String,
    ) = sqlx::query_as(
        "SELECT buffer_before::text, buffer_after::text, \
                to_char(occupied_start AT TIME ZONE 'UTC', 'HH24:MI'), \
                to_char(occupied_end AT TIME ZONE 'UTC', 'HH24:MI'), cancel_token_hash \
         FROM bookings WHERE id = $1",
    )
    .bind(booking.id.to_string())
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!((before.as_str(), after.as_str()), ("00:10:00", "00:05:00"));
    assert_eq!(
        (occupied_start.as_str(), occupied_end.as_str()),
        ("08:50", "09:35")
    );
    assert_eq!(hash, booking.cancel_token_hash.to_hex());
    assert_eq!(common::inconsistent_occupied_bounds(&db.pool).await, 0);

    let draft = SettingsDraft {
        time_zone: chrono_tz::Asia::Kolkata,
        weekly_hours: WeeklyHours::weekdays(vec![LocalInterval::parse("09:30", "17:00").unwrap()]),
        date_overrides: BTreeMap::from([(
            NaiveDate::from_ymd_opt(2030, 1, 1).unwrap(),
            vec![LocalInterval::parse("10:00", "12:00").unwrap()],
        )]),
        slot_duration: Duration::minutes(25),
        buffer_after: Duration::hours(24),
        max_advance: Duration::days(3650),
        ..SettingsDraft::default()
    };
    let settings = OrganizerSettings::try_from(draft).unwrap();
    db.store.put_settings(ada.id, &settings).await.unwrap();
    let (zone, monday, overrides): (String, String, String) = sqlx::query_as(
        "SELECT time_zone, weekly_hours->'monday'->0->>'start', date_overrides->'2030-01-01'->0->>'end' \
         FROM organizer_settings WHERE organizer_id = $1",
    )
    .bind(ada.id.to_string())
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(
        (zone.as_str(), monday.as_str(), overrides.as_str()),
        ("Asia/Kolkata", "09:30", "12:00")
    );
    assert_eq!(db.store.settings(ada.id).await.unwrap(), Some(settings));
    db.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn booking_context_sees_only_active_overlapping_intervals() {
    let db = TestDb::new().await;
    let ada = organizer(&db.store, "ada").await;
    let bob = organizer(&db.store, "bob").await;
    db.store
        .insert_booking(new_booking(ada.id, range(at(9, 0), 60), 0, 15))
        .await
        .unwrap();
    let cancelled = db
        .store
        .insert_booking(new_booking(ada.id, range(at(12, 0), 60), 0, 0))
        .await
        .unwrap();
    db.store
        .cancel_booking(cancelled.id, at(8, 0))
        .await
        .unwrap();
    db.store
        .insert_booking(new_booking(ada.id, range(at(20, 0), 60), 0, 0))
        .await
        .unwrap();
    db.store
        .insert_booking(new_booking(bob.id, range(at(10, 0), 60), 0, 0))
        .await
        .unwrap();

    // [10:00, 20:00): the 09:00 meeting's buffer reaches 10:15; the 20:00
    // meeting only touches the end; the cancelled one and bob's do not count.
    let window = TimeRange::new(at(10, 0), at(20, 0)).unwrap();
    let context = db
        .store
        .booking_context("ada", window)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(context.organizer, ada);
    assert_eq!(context.settings, None);
    assert_eq!(
        context.occupied,
        vec![TimeRange::new(at(9, 0), at(10, 15)).unwrap()]
    );
    assert_eq!(
        context.occupied,
        db.store.occupied_intervals(ada.id, window).await.unwrap()
    );
    db.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn list_ranges_are_half_open_utc() {
    let db = TestDb::new().await;
    let ada = organizer(&db.store, "ada").await;
    // 23:30 UTC on the 7th is the 8th in Berlin: the range is what counts,
    // not any server-side local time.
    for (h, m) in [(0, 0), (12, 0), (23, 30)] {
        db.store
            .insert_booking(new_booking(ada.id, range(at(h, m), 30), 0, 0))
            .await
            .unwrap();
    }
    let day = TimeRange::new(at(0, 0), at(24, 0)).unwrap();
    let query = |starts_within| BookingQuery {
        starts_within,
        limit: 2,
        offset: 0,
    };
    let page = db
        .store
        .list_bookings(ada.id, query(Some(day)))
        .await
        .unwrap();
    assert_eq!(page.total, 3);
    assert_eq!(page.bookings.len(), 2);
    let morning = TimeRange::new(at(0, 0), at(12, 0)).unwrap();
    let page = db
        .store
        .list_bookings(ada.id, query(Some(morning)))
        .await
        .unwrap();
    assert_eq!(
        page.total, 1,
        "a booking starting exactly at the range end is outside"
    );
    let offset_past_end = BookingQuery {
        starts_within: None,
        limit: 5,
        offset: u64::MAX,
    };
    let page = db
        .store
        .list_bookings(ada.id, offset_past_end)
        .await
        .unwrap();
    assert_eq!((page.total, page.bookings.len()), (3, 0));
    let zero_limit = BookingQuery {
        starts_within: None,
        limit: 0,
        offset: 0,
    };
    let page = db.store.list_bookings(ada.id, zero_limit).await.unwrap();
    assert_eq!((page.total, page.bookings.len()), (3, 0));
    db.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn rows_edited_into_nonsense_are_reported_as_corrupt() {
    let db = TestDb::new().await;
    let ada = organizer(&db.store, "ada").await;
    let settings = OrganizerSettings::try_from(SettingsDraft::default()).unwrap();
    db.store.put_settings(ada.id, &settings).await.unwrap();
    let booking = db
        .store
        .insert_booking(new_booking(ada.id, range(at(9, 0), 30), 0, 0))
        .await
        .unwrap();

    let edit = |sql: &'static str| {
        let pool = db.pool.clone();
        async move { sqlx::query(sql).execute(&pool).await.unwrap() }
    };
    edit("UPDATE organizer_settings SET slot_duration = '0'").await;
    assert!(matches!(
        db.store.settings(ada.id).await,
        Err(StoreError::Corrupt(_))
    ));
    let window = range(at(0, 0), 24 * 60);
    assert!(matches!(
        db.store.booking_context("ada", window).await,
        Err(StoreError::Corrupt(_))
    ));
    edit("UPDATE organizer_settings SET slot_duration = '1 mon'").await;
    assert!(matches!(
        db.store.settings(ada.id).await,
        Err(StoreError::Corrupt(_))
    ));
    edit(
        "UPDATE organizer_settings SET slot_duration = '30 min', weekly_hours = '{\"funday\": []}'",
    )
    .await;
    assert!(matches!(
        db.store.settings(ada.id).await,
        Err(StoreError::Corrupt(_))
    ));

    edit("UPDATE organizers SET time_zone = 'Mars/Olympus_Mons'").await;
    assert!(matches!(
        db.store.organizer_by_id(ada.id).await,
        Err(StoreError::Corrupt(_))
    ));
    edit("UPDATE organizers SET time_zone = 'UTC', api_token_hash = 'not hex'").await;
    assert!(matches!(
        db.store.organizer_by_username("ada").await,
        Err(StoreError::Corrupt(_))
    ));

    edit("UPDATE bookings SET metadata = '[1, 2]'").await;
    assert!(matches!(
        db.store.booking(booking.id).await,
        Err(StoreError::Corrupt(_))
    ));
    edit("UPDATE bookings SET metadata = NULL, organizer_id = organizer_id, cancel_token_hash = 'zz'").await;
    let query = BookingQuery {
        starts_within: None,
        limit: 10,
        offset: 0,
    };
    assert!(matches!(
        db.store.list_bookings(ada.id, query).await,
        Err(StoreError::Corrupt(_))
    ));
    db.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_or_closed_database_is_a_backend_error_not_a_panic() {
    // Nothing listens on port 1.
    let pool = sqlx::postgres::PgPoolOptions::new()
        .acquire_timeout(StdDuration::from_millis(500))
        .connect_lazy("postgres://postgres@127.0.0.1:1/postgres")
        .unwrap();
    let unreachable = PostgresStore::new(pool);
    let read = unreachable.organizer_by_username("ada").await;
    assert!(matches!(read, Err(StoreError::Backend(_))), "{read:?}");
    let booked = unreachable
        .insert_booking(new_booking(
            booking_core::organizer::OrganizerId::generate(),
            range(at(9, 0), 30),
            0,
            0,
        ))
        .await;
    assert!(matches!(booked, Err(StoreError::Backend(_))), "{booked:?}");

    let db = TestDb::new().await;
    let ada = organizer(&db.store, "ada").await;
    db.pool.close().await;
    let after_close = db
        .store
        .insert_booking(new_booking(ada.id, range(at(9, 0), 30), 0, 0))
        .await;
    match after_close {
        Err(StoreError::Backend(source)) => assert!(!source.to_string().is_empty()),
        other => panic!("expected a backend error, got {other:?}"),
    }
    assert!(matches!(
        db.store.booking_context("ada", range(at(0, 0), 60)).await,
        Err(StoreError::Backend(_))
    ));
    assert!(matches!(
        db.store.migrate().await,
        Err(StoreError::Backend(_))
    ));
    db.drop_schema().await;
}

/// An insert whose connection dies while it waits inside the database comes
/// back as a backend error, leaves no row, and the same booking can simply be
/// retried on a fresh connection.
#[tokio::test(flavor = "multi_thread")]
async fn an_insert_cut_off_mid_way_leaves_nothing_behind() {
    let db = TestDb::new().await;
    let ada = organizer(&db.store, "ada").await;
    let application_name = format!("bk-victim-{:08x}", rand::random::<u32>());
    let victim = PostgresStore::new(common::pool_for(&db.schema, 1, &application_name).await);

    // Hold a lock that makes the victim's INSERT wait inside the server.
    let mut blocker = common::admin_connection().await;
    let mut tx = blocker.begin().await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "LOCK TABLE \"{}\".bookings IN EXCLUSIVE MODE",
        db.schema
    )))
    .execute(&mut *tx)
    .await
    .unwrap();

    let booking = new_booking(ada.id, range(at(9, 0), 30), 0, 0);
    let id = booking.id;
    let insert = tokio::spawn({
        let victim = victim.clone();
        let booking = booking.clone();
        async move { victim.insert_booking(booking).await }
    });

    // Find the waiting backend and kill it.
    let mut pid: Option<i32> = None;
    for _ in 0..600 {
        pid = sqlx::query_scalar(
            "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'",
        )
        .bind(&application_name)
        .fetch_optional(&db.pool)
        .await
        .unwrap();
        if pid.is_some() {
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
    let pid = pid.expect("the victim's insert never started waiting on the lock");
    let killed: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
        .bind(pid)
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert!(killed);

    let result = insert.await.expect("the insert task must not panic");
    assert!(matches!(result, Err(StoreError::Backend(_))), "{result:?}");
    tx.rollback().await.unwrap();

    assert_eq!(db.store.booking(id).await.unwrap(), None, "no row behind");
    assert_eq!(common::booking_rows(&db.pool).await, 0);
    // The pool replaces the dead connection; the retry succeeds.
    let retried = victim
        .insert_booking(booking)
        .await
        .expect("retry on a fresh connection");
    assert_eq!(retried.id, id);
    victim.pool().close().await;
    db.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn refusals_write_nothing() {
    let db = TestDb::new().await;
    let ada = organizer(&db.store, "ada").await;
    db.store
        .insert_booking(new_booking(ada.id, range(at(9, 0), 60), 0, 0))
        .await
        .unwrap();
    let conflict = db
        .store
        .insert_booking(new_booking(ada.id, range(at(9, 30), 60), 0, 0))
        .await;
    assert!(matches!(conflict, Err(StoreError::Conflict)));
    let ghost = booking_core::organizer::OrganizerId::generate();
    let orphan = db
        .store
        .insert_booking(new_booking(ghost, range(at(12, 0), 60), 0, 0))
        .await;
    assert!(matches!(orphan, Err(StoreError::OrganizerNotFound(id)) if id == ghost));
    // A buffer PostgreSQL cannot store exactly (nanoseconds) fails before
    // anything is written.
    let mut odd = new_booking(ada.id, range(at(14, 0), 60), 0, 0);
    odd.buffer_after = Duration::nanoseconds(1);
    assert!(matches!(
        db.store.insert_booking(odd).await,
        Err(StoreError::Backend(_))
    ));
    assert_eq!(common::booking_rows(&db.pool).await, 1);
    db.drop_schema().await;
}
