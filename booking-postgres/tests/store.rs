//! PostgreSQL-specific behaviour beyond the conformance suite: the schema
//! itself, the database-level guarantees, corrupt rows, lost connections,
//! constructors and their errors.

mod common;

use std::time::Duration as StdDuration;

use booking_core::booking::{BookingId, LimitCheck, NewBooking};
use booking_core::event_type::{
    BookingLimits, BookingWindow, EventType, EventTypeId, LimitPeriod, Location,
};
use booking_core::organizer::OrganizerId;
use booking_core::schedule::{Schedule, ScheduleId};
use booking_core::store::{
    BookingQuery, BookingStore, Cancellation, ConfigChange, ContextQuery, StoreError,
};
use booking_core::testkit::fixtures::{
    at, default_event_type_id, event_type, new_booking, range, schedule,
};
use booking_core::time::TimeRange;
use booking_postgres::{Error, MIGRATIONS_TABLE, PostgresOptions, PostgresStore};
use chrono::{Duration, NaiveDate, Weekday};
use common::{TestDb, organizer, refusal};

/// Constraint names and kinds (`p`, `u`, `f`, `c`, `x`) of `table`.
async fn constraints_of(db: &TestDb, table: &str) -> Vec<(String, String)> {
    sqlx::query_as(
        "SELECT conname::text, contype::text FROM pg_constraint \
         WHERE conrelid = $1::regclass ORDER BY conname",
    )
    .bind(table)
    .fetch_all(&db.pool)
    .await
    .unwrap()
}

async fn definition_of(db: &TestDb, constraint: &str) -> String {
    sqlx::query_scalar(
        "SELECT pg_get_constraintdef(c.oid) FROM pg_constraint c \
         JOIN pg_namespace n ON n.oid = c.connamespace \
         WHERE c.conname = $1 AND n.nspname = $2",
    )
    .bind(constraint)
    .bind(&db.schema)
    .fetch_one(&db.pool)
    .await
    .unwrap_or_else(|e| panic!("constraint {constraint}: {e}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn the_schema_carries_the_guarantees() {
    let db = TestDb::new().await;
    let has = |list: &[(String, String)], name: &str, kind: &str| {
        list.iter().any(|(n, k)| n == name && k == kind)
    };

    let bookings = constraints_of(&db, "bookings").await;
    for (name, kind) in [
        ("bookings_no_overlap", "x"),
        ("bookings_end_after_start", "c"),
        ("bookings_pkey", "p"),
        ("bookings_event_type_fkey", "f"),
    ] {
        assert!(has(&bookings, name, kind), "{name}: {bookings:?}");
    }
    let overlap = definition_of(&db, "bookings_no_overlap").await;
    assert!(overlap.contains("organizer_id WITH ="), "{overlap}");
    assert!(
        overlap.contains("tstzrange(occupied_start, occupied_end, '[)'::text) WITH &&"),
        "{overlap}"
    );
    assert!(
        overlap.contains("WHERE ((deleted_at IS NULL))"),
        "{overlap}"
    );
    assert_eq!(
        definition_of(&db, "bookings_event_type_fkey").await,
        "FOREIGN KEY (organizer_id, event_type_id) REFERENCES event_types(organizer_id, id) \
         ON DELETE SET NULL (event_type_id)"
    );

    let event_types = constraints_of(&db, "event_types").await;
    for (name, kind) in [
        ("event_types_pkey", "p"),
        ("event_types_slug_key", "u"),
        ("event_types_schedule_fkey", "f"),
        ("event_types_booking_window_shape", "c"),
    ] {
        assert!(has(&event_types, name, kind), "{name}: {event_types:?}");
    }
    assert_eq!(
        definition_of(&db, "event_types_pkey").await,
        "PRIMARY KEY (organizer_id, id)"
    );
    assert_eq!(
        definition_of(&db, "event_types_slug_key").await,
        "UNIQUE (organizer_id, slug)"
    );
    assert_eq!(
        definition_of(&db, "event_types_schedule_fkey").await,
        "FOREIGN KEY (organizer_id, schedule_id) REFERENCES schedules(organizer_id, id)",
        "no ON DELETE action: deleting a schedule in use fails"
    );
    assert_eq!(
        definition_of(&db, "schedules_pkey").await,
        "PRIMARY KEY (organizer_id, id)"
    );
    let one_default: String = sqlx::query_scalar(
        "SELECT indexdef FROM pg_indexes WHERE indexname = 'schedules_one_default_idx' \
         AND schemaname = $1",
    )
    .bind(&db.schema)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert!(
        one_default.contains("CREATE UNIQUE INDEX")
            && one_default.contains("(organizer_id) WHERE is_default"),
        "{one_default}"
    );
    assert_eq!(
        definition_of(&db, "organizers_username_key_key").await,
        "UNIQUE (username_key)"
    );

    // Everything an organizer owns goes with them.
    let cascades: Vec<String> = sqlx::query_scalar(
        "SELECT conrelid::regclass::text FROM pg_constraint \
         WHERE contype = 'f' AND confrelid = 'organizers'::regclass AND confdeltype = 'c' ORDER BY 1",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert_eq!(
        cascades,
        [
            "booking_events",
            "bookings",
            "event_types",
            "idempotency_keys",
            "jobs",
            "records",
            "schedules"
        ]
    );

    // Holds are rows of bookings (one constraint keeps both apart); the
    // outbox, keys and records carry their uniqueness rules.
    for (constraint, definition) in [
        ("jobs_once_per_target", "UNIQUE (queue, event_id, target)"),
        ("records_pkey", "PRIMARY KEY (kind, id)"),
        ("records_lookup_key", "UNIQUE (kind, lookup)"),
        (
            "idempotency_keys_pkey",
            "PRIMARY KEY (organizer_id, operation, key_hash)",
        ),
        ("booking_events_id_key", "UNIQUE (id)"),
        (
            "bookings_status_known",
            "CHECK ((status = ANY (ARRAY['confirmed'::text, 'held'::text])))",
        ),
    ] {
        assert_eq!(definition_of(&db, constraint).await, definition);
    }
    let shape = definition_of(&db, "bookings_status_shape").await;
    assert!(
        shape.contains("hold_expires_at IS NOT NULL") && shape.contains("attendant_name IS NULL"),
        "{shape}"
    );

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
        "bookings_event_type_start_idx",
        "bookings_hold_token_idx",
        "bookings_hold_client_idx",
        "bookings_hold_expiry_idx",
    ] {
        assert!(
            indexes.iter().any(|i| i == name),
            "missing {name}: {indexes:?}"
        );
    }
    let attendee_comment: String = sqlx::query_scalar(
        "SELECT col_description('bookings'::regclass, attnum) FROM pg_attribute \
         WHERE attrelid = 'bookings'::regclass AND attname = 'attendant_name'",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert!(attendee_comment.contains("attendee"), "{attendee_comment}");

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
            "booking_events",
            "booking_postgres_migrations",
            "bookings",
            "event_types",
            "idempotency_keys",
            "jobs",
            "organizers",
            "records",
            "schedules"
        ]
    );
    assert_eq!(MIGRATIONS_TABLE, "booking_postgres_migrations");
    db.store
        .migrate()
        .await
        .expect("migrating twice is harmless");
    assert_eq!(common::migration_versions(&db.pool).await, [1, 2, 3]);
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
        "INSERT INTO bookings (id, organizer_id, event_type_slug, attendant_name, attendant_email, \
            title, start_time, end_time, occupied_start, occupied_end, cancel_token_hash) \
         VALUES ($1, $2, 'default', 'Mallory', 'm@example.com', 'Sneaky', $3, $4, $3, $4, 'x')",
    )
    .bind(BookingId::generate().to_string())
    .bind(ada.id.to_string())
    .bind(at(10, 30))
    .bind(at(11, 30))
    .execute(&db.pool)
    .await;
    assert_eq!(
        refusal(raw),
        ("23P01".to_owned(), "bookings_no_overlap".to_owned())
    );

    // An end not after the start is refused by the CHECK.
    let inverted = sqlx::query(
        "INSERT INTO bookings (id, organizer_id, event_type_slug, attendant_name, attendant_email, \
            title, start_time, end_time, occupied_start, occupied_end, cancel_token_hash) \
         VALUES ($1, $2, 'default', 'Mallory', 'm@example.com', 'Inverted', $3, $4, $4, $3, 'x')",
    )
    .bind(BookingId::generate().to_string())
    .bind(ada.id.to_string())
    .bind(at(15, 0))
    .bind(at(14, 0))
    .execute(&db.pool)
    .await;
    assert_eq!(
        refusal(inverted),
        ("23514".to_owned(), "bookings_end_after_start".to_owned())
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_configuration_tables_refuse_what_the_domain_forbids_even_from_raw_sql() {
    let db = TestDb::new().await;
    let ada = organizer(&db.store, "ada").await;
    let bob = organizer(&db.store, "bob").await;
    let ada_id = ada.id.to_string();
    let exec = |sql: &'static str| {
        let pool = db.pool.clone();
        let ada_id = ada_id.clone();
        async move { sqlx::query(sql).bind(ada_id).execute(&pool).await }
    };

    // A second default schedule.
    let second_default = exec(
        "INSERT INTO schedules (organizer_id, id, name, time_zone, weekly_hours, is_default) \
         VALUES ($1, 'S2', 'Second', 'UTC', '{}', true)",
    )
    .await;
    assert_eq!(
        refusal(second_default),
        ("23505".to_owned(), "schedules_one_default_idx".to_owned())
    );
    // A slug used twice by one organizer (another organizer may use it).
    let copy = "INSERT INTO event_types (organizer_id, id, slug, title, duration, \
                    booking_window_kind, booking_window_horizon) \
                VALUES ($1, 'E2', 'default', 'Copy', '30 min', 'rolling', '60 days')";
    assert_eq!(
        refusal(exec(copy).await),
        ("23505".to_owned(), "event_types_slug_key".to_owned())
    );
    let defaults: i64 =
        sqlx::query_scalar("SELECT count(*) FROM event_types WHERE slug = 'default'")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(
        defaults, 2,
        "slugs are unique per organizer only: ada's and bob's"
    );
    // An event type on a schedule that does not exist, or on another
    // organizer's schedule (the key includes the organizer).
    let missing_schedule = exec(
        "INSERT INTO event_types (organizer_id, id, slug, title, duration, \
            booking_window_kind, booking_window_horizon, schedule_id) \
         VALUES ($1, 'E3', 'other', 'Other', '30 min', 'rolling', '60 days', 'NOPE')",
    )
    .await;
    assert_eq!(
        refusal(missing_schedule),
        ("23503".to_owned(), "event_types_schedule_fkey".to_owned())
    );
    let borrowed = sqlx::query(
        "INSERT INTO event_types (organizer_id, id, slug, title, duration, \
            booking_window_kind, booking_window_horizon, schedule_id) \
         VALUES ($1, 'E4', 'borrowed', 'Borrowed', '30 min', 'rolling', '60 days', $2)",
    )
    .bind(&ada_id)
    .bind(bob.id.to_string())
    .execute(&db.pool)
    .await;
    assert_eq!(
        refusal(borrowed),
        ("23503".to_owned(), "event_types_schedule_fkey".to_owned())
    );
    // A booking window whose columns do not match its kind.
    let shapeless = exec(
        "INSERT INTO event_types (organizer_id, id, slug, title, duration, booking_window_kind) \
         VALUES ($1, 'E5', 'shapeless', 'Shapeless', '30 min', 'range')",
    )
    .await;
    assert_eq!(
        refusal(shapeless),
        (
            "23514".to_owned(),
            "event_types_booking_window_shape".to_owned()
        )
    );
    // A schedule in use cannot be deleted.
    exec("UPDATE event_types SET schedule_id = $1 WHERE organizer_id = $1")
        .await
        .unwrap();
    let in_use = exec("DELETE FROM schedules WHERE organizer_id = $1").await;
    assert_eq!(
        refusal(in_use),
        ("23503".to_owned(), "event_types_schedule_fkey".to_owned())
    );

    // Deleting an event type keeps its bookings (event_type_id NULL, the
    // organizer kept); deleting an organizer removes everything of theirs.
    let booking = db
        .store
        .insert_booking(new_booking(ada.id, range(at(9, 0), 30), 0, 0))
        .await
        .unwrap();
    exec("UPDATE event_types SET schedule_id = NULL WHERE organizer_id = $1")
        .await
        .unwrap();
    exec("DELETE FROM event_types WHERE organizer_id = $1")
        .await
        .unwrap();
    let (organizer_id, event_type_id): (String, Option<String>) =
        sqlx::query_as("SELECT organizer_id, event_type_id FROM bookings WHERE id = $1")
            .bind(booking.id.to_string())
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!((organizer_id, event_type_id), (ada_id.clone(), None));
    exec("DELETE FROM organizers WHERE id = $1").await.unwrap();
    for table in ["bookings", "schedules", "event_types"] {
        let left: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT count(*) FROM {table} WHERE organizer_id = $1"
        )))
        .bind(&ada_id)
        .fetch_one(&db.pool)
        .await
        .unwrap();
        assert_eq!(left, 0, "{table}");
    }
    assert!(db.store.organizer_config(ada.id).await.unwrap().is_none());
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
    let (before, after, occupied_start, occupied_end, hash, event_type_id, slug): (
        String,
        String,
        String,
        String,
        String,
        String,
        String,
    ) = sqlx::query_as(
        "SELECT buffer_before::text, buffer_after::text, \
                to_char(occupied_start AT TIME ZONE 'UTC', 'HH24:MI'), \
                to_char(occupied_end AT TIME ZONE 'UTC', 'HH24:MI'), cancel_token_hash, \
                event_type_id, event_type_slug \
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
    assert_eq!(
        (event_type_id, slug),
        (ada.id.to_string(), "default".to_owned())
    );
    assert_eq!(common::inconsistent_occupied_bounds(&db.pool).await, 0);

    // A schedule and an event type using every column.
    let evenings = Schedule {
        id: ScheduleId::generate(),
        name: "Evenings".into(),
        time_zone: chrono_tz::Asia::Kolkata,
        is_default: false,
        ..schedule(ada.id)
    };
    let consult = EventType {
        id: EventTypeId::generate(),
        slug: "consult".parse().unwrap(),
        duration: Duration::minutes(30),
        duration_options: vec![Duration::minutes(30), Duration::minutes(90)],
        slot_step: None,
        booking_window: BookingWindow::Range {
            first: NaiveDate::from_ymd_opt(2027, 1, 1).unwrap(),
            last: NaiveDate::from_ymd_opt(2027, 3, 31).unwrap(),
        },
        limits: BookingLimits {
            per_day: Some(3),
            per_week: None,
            week_starts_on: Weekday::Sun,
        },
        schedule_id: Some(evenings.id),
        location: Some(Location::Phone {
            number: "+44 20 7946 0000".into(),
        }),
        ..event_type(ada.id)
    };
    db.store
        .update_config(
            ada.id,
            1,
            vec![
                ConfigChange::PutSchedule(evenings.clone()),
                ConfigChange::PutEventType(consult.clone()),
            ],
        )
        .await
        .unwrap();
    let (zone, monday, christmas_eve): (String, String, String) = sqlx::query_as(
        "SELECT time_zone, weekly_hours->'monday'->0->>'start', date_overrides->>'2026-12-24' \
         FROM schedules WHERE id = $1",
    )
    .bind(evenings.id.to_string())
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(
        (zone.as_str(), monday.as_str(), christmas_eve.as_str()),
        ("Asia/Kolkata", "09:00", "[]")
    );
    // Every column as text, NULLs named: what an operator sees.
    let row: String = sqlx::query_scalar(
        "SELECT concat_ws(' | ', duration, duration_options, coalesce(slot_step::text, 'NULL'), \
                booking_window_kind, booking_window_first, booking_window_last, \
                coalesce(limit_per_day::text, 'NULL'), coalesce(limit_per_week::text, 'NULL'), \
                limit_week_starts_on, schedule_id, location->>'kind', location->>'number') \
         FROM event_types WHERE id = $1",
    )
    .bind(consult.id.to_string())
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(
        row,
        format!(
            "00:30:00 | {{00:30:00,01:30:00}} | NULL | range | 2027-01-01 | 2027-03-31 | 3 | NULL \
             | 7 | {} | phone | +44 20 7946 0000",
            evenings.id
        )
    );
    let config = db.store.organizer_config(ada.id).await.unwrap().unwrap();
    assert_eq!(config.event_type("consult"), Some(&consult));
    assert_eq!(config.schedule(evenings.id), Some(&evenings));
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
        .cancel_booking(Cancellation::new(
            cancelled.id,
            cancelled.organizer_id,
            at(8, 0),
        ))
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
    for organizer in [ada.id.into(), "ada".into(), "ADA".into()] {
        let context = db
            .store
            .booking_context(&ContextQuery {
                organizer,
                event_type: "default".parse().unwrap(),
                occupied_within: window,
                counted_within: window,
                now: at(8, 0),
            })
            .await
            .unwrap()
            .unwrap();
        assert_eq!(context.organizer, ada);
        assert_eq!(
            context.occupied,
            vec![TimeRange::new(at(9, 0), at(10, 15)).unwrap()]
        );
        assert_eq!(
            context.occupied,
            db.store
                .occupied_intervals(ada.id, window, at(8, 0))
                .await
                .unwrap()
        );
    }
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
        cancelled_since: None,
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
        cancelled_since: None,
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
        cancelled_since: None,
        limit: 0,
        offset: 0,
    };
    let page = db.store.list_bookings(ada.id, zero_limit).await.unwrap();
    assert_eq!((page.total, page.bookings.len()), (3, 0));
}

#[tokio::test(flavor = "multi_thread")]
async fn rows_edited_into_nonsense_are_reported_as_corrupt() {
    let db = TestDb::new().await;
    let ada = organizer(&db.store, "ada").await;
    let booking = db
        .store
        .insert_booking(new_booking(ada.id, range(at(9, 0), 30), 0, 0))
        .await
        .unwrap();
    let window = range(at(0, 0), 24 * 60);
    let context = ContextQuery {
        organizer: ada.id.into(),
        event_type: "default".parse().unwrap(),
        occupied_within: window,
        counted_within: window,
        now: at(8, 0),
    };
    let edit = |sql: &'static str| {
        let pool = db.pool.clone();
        async move { sqlx::query(sql).execute(&pool).await.unwrap() }
    };
    let corrupt_in_config = || async {
        matches!(
            db.store.organizer_config(ada.id).await,
            Err(StoreError::Corrupt(_))
        )
    };
    let corrupt_in_context = || async {
        matches!(
            db.store.booking_context(&context).await,
            Err(StoreError::Corrupt(_))
        )
    };

    // Each edit, read back through the whole configuration and through the
    // booking context (which a renamed slug takes out of its sight), then
    // undone.
    let edits = [
        (
            "UPDATE schedules SET time_zone = 'Mars/Olympus_Mons'",
            "UPDATE schedules SET time_zone = 'UTC'",
        ),
        (
            "UPDATE schedules SET weekly_hours = '{\"funday\": []}'",
            "UPDATE schedules SET weekly_hours = '{}'",
        ),
        (
            "UPDATE schedules SET name = ''",
            "UPDATE schedules SET name = 'Hours'",
        ),
        (
            "UPDATE schedules SET id = 'not-a-ulid'",
            "UPDATE schedules SET id = organizer_id",
        ),
        (
            "UPDATE event_types SET duration = '0'",
            "UPDATE event_types SET duration = '30 min'",
        ),
        (
            "UPDATE event_types SET duration = '1 mon'",
            "UPDATE event_types SET duration = '30 min'",
        ),
        (
            "UPDATE event_types SET buffer_after = '-5 min'",
            "UPDATE event_types SET buffer_after = '0'",
        ),
        (
            "UPDATE event_types SET duration_options = '{\"30 min\",\"0\"}'",
            "UPDATE event_types SET duration_options = '{}'",
        ),
        (
            "UPDATE event_types SET location = '{\"kind\": \"teleport\"}'",
            "UPDATE event_types SET location = NULL",
        ),
        (
            "UPDATE event_types SET booking_window_kind = 'forever'",
            "UPDATE event_types SET booking_window_kind = 'rolling'",
        ),
        (
            "UPDATE event_types SET slug = 'Not A Slug'",
            "UPDATE event_types SET slug = 'default'",
        ),
        (
            "UPDATE event_types SET hold_duration = '-1 min'",
            "UPDATE event_types SET hold_duration = '5 min'",
        ),
    ];
    // The CHECKs must not be what refuses the kind and hold duration edits.
    edit("ALTER TABLE event_types DROP CONSTRAINT event_types_booking_window_shape").await;
    edit("ALTER TABLE event_types DROP CONSTRAINT event_types_hold_duration_not_negative").await;
    for (break_it, repair) in edits {
        edit(break_it).await;
        assert!(
            corrupt_in_config().await,
            "organizer_config after {break_it:?}"
        );
        if !break_it.contains("SET slug") {
            assert!(
                corrupt_in_context().await,
                "booking_context after {break_it:?}"
            );
        }
        edit(repair).await;
        assert!(
            db.store.organizer_config(ada.id).await.is_ok()
                && db.store.booking_context(&context).await.is_ok(),
            "after {repair:?}"
        );
    }

    edit("UPDATE organizers SET time_zone = 'Mars/Olympus_Mons'").await;
    assert!(matches!(
        db.store.organizer_by_id(ada.id).await,
        Err(StoreError::Corrupt(_))
    ));
    assert!(matches!(
        db.store.booking_context(&context).await,
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
    edit("UPDATE bookings SET metadata = NULL, event_type_slug = 'Not A Slug'").await;
    assert!(matches!(
        db.store.booking(booking.id).await,
        Err(StoreError::Corrupt(_))
    ));
    edit("UPDATE bookings SET event_type_slug = 'default', cancel_token_hash = 'zz'").await;
    let query = BookingQuery {
        starts_within: None,
        cancelled_since: None,
        limit: 10,
        offset: 0,
    };
    assert!(matches!(
        db.store.list_bookings(ada.id, query).await,
        Err(StoreError::Corrupt(_))
    ));

    // The outbox and records: an event kind no one knows, a record of an
    // organizer id that is not one.
    let mut cancelled = new_booking(ada.id, range(at(18, 0), 30), 0, 0);
    cancelled.event = Some(common::event_of(
        &booking_core::booking::Booking::from_new(cancelled.clone()),
        booking_core::event::BookingEventKind::Created,
    ));
    db.store.insert_booking(cancelled).await.unwrap();
    edit("UPDATE booking_events SET kind = 'booking.teleported'").await;
    assert!(matches!(
        db.store.events_after(0, 10).await,
        Err(StoreError::Corrupt(_))
    ));
    edit("ALTER TABLE records DROP CONSTRAINT records_organizer_id_fkey").await;
    edit(
        "INSERT INTO records (kind, id, organizer_id, data, created_at) \
         VALUES ('session', 's1', 'not-a-ulid', '{}', now())",
    )
    .await;
    assert!(matches!(
        db.store.record("session", "s1").await,
        Err(StoreError::Corrupt(_))
    ));
}

/// A store whose pool points at a port nobody listens on.
fn unreachable_store() -> PostgresStore {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .acquire_timeout(StdDuration::from_millis(500))
        .connect_lazy("postgres://postgres@127.0.0.1:1/postgres")
        .unwrap();
    PostgresStore::from_pool(pool)
}

/// The day's per-day limit of 3, as the service would send it.
fn limited(booking: NewBooking) -> NewBooking {
    NewBooking {
        limits: vec![LimitCheck {
            period: LimitPeriod::Day,
            starts_within: TimeRange::new(at(0, 0), at(24, 0)).unwrap(),
            max: 3,
        }],
        ..booking
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_or_closed_database_is_a_backend_error_not_a_panic() {
    let unreachable = unreachable_store();
    let read = unreachable.organizer_by_username("ada").await;
    assert!(matches!(read, Err(StoreError::Backend(_))), "{read:?}");
    let health = unreachable.check_health().await;
    assert!(matches!(health, Err(StoreError::Backend(_))), "{health:?}");
    let ghost = OrganizerId::generate();
    for booking in [
        new_booking(ghost, range(at(9, 0), 30), 0, 0),
        limited(new_booking(ghost, range(at(9, 0), 30), 0, 0)),
    ] {
        let booked = unreachable.insert_booking(booking).await;
        assert!(matches!(booked, Err(StoreError::Backend(_))), "{booked:?}");
    }
    assert!(matches!(
        unreachable.migrate().await,
        Err(Error::Connect { .. })
    ));

    let db = TestDb::new().await;
    let ada = organizer(&db.store, "ada").await;
    db.store
        .check_health()
        .await
        .expect("a live server is healthy");
    db.pool.close().await;
    let after_close = db
        .store
        .insert_booking(new_booking(ada.id, range(at(9, 0), 30), 0, 0))
        .await;
    match after_close {
        Err(StoreError::Backend(source)) => assert!(!source.to_string().is_empty()),
        other => panic!("expected a backend error, got {other:?}"),
    }
    let window = range(at(0, 0), 60);
    assert!(matches!(
        db.store
            .booking_context(&ContextQuery {
                organizer: "ada".into(),
                event_type: "default".parse().unwrap(),
                occupied_within: window,
                counted_within: window,
                now: at(8, 0),
            })
            .await,
        Err(StoreError::Backend(_))
    ));
    assert!(matches!(
        db.store.update_config(ada.id, 1, vec![]).await,
        Err(StoreError::Backend(_))
    ));
    assert!(matches!(
        db.store.check_health().await,
        Err(StoreError::Backend(_))
    ));
    // The lifecycle and the outbox too.
    let hold = booking_core::hold::NewHold {
        hold: booking_core::testkit::fixtures::new_hold(
            ada.id,
            range(at(9, 0), 30),
            0,
            0,
            at(0, 0),
            Some("client"),
        ),
        limits: Vec::new(),
        max_per_client: 3,
    };
    let held = db.store.insert_hold(hold).await;
    assert!(matches!(held, Err(StoreError::Backend(_))), "{held:?}");
    let claim = common::claim_of(ada.id, "key");
    let claimed = db.store.claim_idempotency_key(&claim).await;
    assert!(
        matches!(claimed, Err(StoreError::Backend(_))),
        "{claimed:?}"
    );
    let jobs = db.store.claim_jobs("q", at(0, 0), 1, at(1, 0)).await;
    assert!(matches!(jobs, Err(StoreError::Backend(_))), "{jobs:?}");
    let cancelled = db
        .store
        .cancel_booking(Cancellation::new(BookingId::generate(), ada.id, at(0, 0)))
        .await;
    assert!(
        matches!(cancelled, Err(StoreError::Backend(_))),
        "{cancelled:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn connect_builds_a_pool_and_reports_each_failure_by_its_own_error() {
    // A URL that is not PostgreSQL's.
    for url in ["mysql://localhost/db", "postgres://[::1", "127.0.0.1:5432"] {
        let invalid = PostgresStore::connect(url, PostgresOptions::default()).await;
        assert!(
            matches!(invalid, Err(Error::InvalidUrl { .. })),
            "{url}: {invalid:?}"
        );
    }
    // Nothing listens: refused at once.
    let refused = PostgresStore::connect(
        "postgres://postgres@127.0.0.1:1/postgres",
        PostgresOptions::default(),
    )
    .await;
    match refused {
        Err(error @ Error::Connect { .. }) => {
            assert!(
                std::error::Error::source(&error).is_some(),
                "keeps its source"
            );
        }
        other => panic!("expected Error::Connect, got {other:?}"),
    }
    // Something listens but never answers: the connect timeout.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = silent.local_addr().unwrap().port();
    let held = tokio::spawn(async move {
        let mut sockets = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            sockets.push(socket);
        }
    });
    let options = PostgresOptions::default()
        .connect_timeout(StdDuration::from_millis(300))
        .acquire_timeout(StdDuration::from_secs(30));
    let timed_out = PostgresStore::connect(
        &format!("postgres://postgres@127.0.0.1:{port}/postgres"),
        options,
    )
    .await;
    held.abort();
    assert!(
        matches!(timed_out, Err(Error::ConnectTimeout { timeout }) if timeout == StdDuration::from_millis(300)),
        "{timed_out:?}"
    );

    // A working URL (pointing at a test schema): connected, not migrated
    // until asked, then usable.
    let db = TestDb::unmigrated(8).await;
    let options = PostgresOptions::default().max_connections(3);
    let store = PostgresStore::connect(&db.url_with_search_path, options)
        .await
        .expect("connects");
    assert_eq!(store.pool().options().get_max_connections(), 3);
    store.check_health().await.unwrap();
    let tables: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_tables WHERE schemaname = $1")
        .bind(&db.schema)
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(tables, 0, "connect never migrates");
    store.migrate().await.unwrap();
    organizer(&store, "ada").await;
    store.pool().close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_migration_is_an_error_and_leaves_the_schema_as_it_was() {
    let db = TestDb::at_version(1).await;
    // Something of the host application's in the way of migration 2.
    sqlx::query("CREATE TABLE schedules (id int)")
        .execute(&db.pool)
        .await
        .unwrap();
    match db.store.migrate().await {
        Err(error @ Error::Migrate { .. }) => {
            assert!(error.to_string().contains("migrating"), "{error}");
            assert!(std::error::Error::source(&error).is_some());
        }
        other => panic!("expected Error::Migrate, got {other:?}"),
    }
    let (versions, settings_kept): (Vec<i64>, bool) = (
        common::migration_versions(&db.pool).await,
        sqlx::query_scalar("SELECT to_regclass('organizer_settings') IS NOT NULL")
            .fetch_one(&db.pool)
            .await
            .unwrap(),
    );
    assert_eq!(versions, [1], "migration 2 is not recorded");
    assert!(settings_kept, "migration 2 was rolled back whole");
    sqlx::query("DROP TABLE schedules")
        .execute(&db.pool)
        .await
        .unwrap();
    db.store
        .migrate()
        .await
        .expect("the lock of the failed run was released; migrating again works");
}

/// An insert whose connection dies while it waits inside the database is
/// tried once more on a fresh connection; when that one dies too, it comes
/// back as a backend error, leaves no row, and the same booking can simply
/// be retried: without limits (waiting on a table lock) and with limits
/// (waiting on the event type's row lock).
#[tokio::test(flavor = "multi_thread")]
async fn an_insert_cut_off_mid_way_leaves_nothing_behind() {
    let db = TestDb::new().await;
    let ada = organizer(&db.store, "ada").await;
    let blockers = [
        format!("LOCK TABLE \"{}\".bookings IN EXCLUSIVE MODE", db.schema),
        format!(
            "SELECT 1 FROM \"{}\".event_types WHERE id = '{}' FOR UPDATE",
            db.schema, ada.id
        ),
    ];
    let bookings = [
        new_booking(ada.id, range(at(9, 0), 30), 0, 0),
        limited(new_booking(ada.id, range(at(10, 0), 30), 0, 0)),
    ];
    for (blocker_sql, booking) in blockers.into_iter().zip(bookings) {
        let application_name = format!("bk-victim-{:08x}", rand::random::<u32>());
        let victim =
            PostgresStore::from_pool(common::pool_for(&db.schema, 1, &application_name).await);
        let blocker = common::Blocker::holding(blocker_sql).await;

        let id = booking.id;
        let insert = tokio::spawn({
            let victim = victim.clone();
            let booking = booking.clone();
            async move { victim.insert_booking(booking).await }
        });

        // Find the waiting backend and kill it; the store tries the insert
        // once more on a fresh connection (a lost connection is found out
        // by the statement, not by a ping), which waits on the lock too:
        // kill that one as well. Exactly one retry: the third backend
        // never comes.
        let mut killed_pids = Vec::new();
        for _ in 0..2 {
            let pid =
                common::poll(|| common::lock_waiter(&db.pool, &application_name, &killed_pids))
                    .await;
            let pid = pid.expect("the victim's insert never started waiting on the lock");
            let killed: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
                .bind(pid)
                .fetch_one(&db.pool)
                .await
                .unwrap();
            assert!(killed);
            killed_pids.push(pid);
        }

        let result = insert.await.expect("the insert task must not panic");
        assert!(matches!(result, Err(StoreError::Backend(_))), "{result:?}");
        blocker.release().await;

        assert_eq!(db.store.booking(id).await.unwrap(), None, "no row behind");
        // The pool replaces the dead connection; the retry succeeds.
        let retried = victim
            .insert_booking(booking)
            .await
            .expect("retry on a fresh connection");
        assert_eq!(retried.id, id);
        victim.pool().close().await;
    }
    assert_eq!(common::booking_rows(&db.pool).await, 2);
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
    let limited_conflict = db
        .store
        .insert_booking(limited(new_booking(ada.id, range(at(9, 30), 60), 0, 0)))
        .await;
    assert!(matches!(limited_conflict, Err(StoreError::Conflict)));
    // An overlap is reported first even when the day is full too.
    let full_day = NewBooking {
        limits: vec![LimitCheck {
            period: LimitPeriod::Day,
            starts_within: TimeRange::new(at(0, 0), at(24, 0)).unwrap(),
            max: 1,
        }],
        ..new_booking(ada.id, range(at(9, 30), 60), 0, 0)
    };
    assert!(matches!(
        db.store.insert_booking(full_day.clone()).await,
        Err(StoreError::Conflict)
    ));
    let elsewhere = NewBooking {
        id: BookingId::generate(),
        time: range(at(14, 0), 60),
        ..full_day
    };
    assert!(matches!(
        db.store.insert_booking(elsewhere).await,
        Err(StoreError::LimitReached(LimitPeriod::Day))
    ));

    let ghost = OrganizerId::generate();
    for orphan in [
        new_booking(ghost, range(at(12, 0), 60), 0, 0),
        limited(new_booking(ghost, range(at(12, 0), 60), 0, 0)),
    ] {
        let refused = db.store.insert_booking(orphan).await;
        assert!(
            matches!(refused, Err(StoreError::OrganizerNotFound(id)) if id == ghost),
            "{refused:?}"
        );
    }
    // Values the columns cannot hold are refused as such, before or by the
    // database, writing nothing: a buffer with nanoseconds (an interval
    // keeps microseconds), a NUL character in text.
    let mut odd = new_booking(ada.id, range(at(14, 0), 60), 0, 0);
    odd.buffer_after = Duration::nanoseconds(1);
    let refused = db.store.insert_booking(odd).await;
    assert!(
        matches!(refused, Err(StoreError::Unstorable(_))),
        "{refused:?}"
    );
    let mut nul = new_booking(ada.id, range(at(14, 0), 60), 0, 0);
    nul.title = "a\0b".into();
    let refused = db.store.insert_booking(nul).await;
    assert!(
        matches!(refused, Err(StoreError::Unstorable(_))),
        "{refused:?}"
    );
    assert_eq!(common::booking_rows(&db.pool).await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_configuration_change_rolls_back_everything_the_version_included() {
    let db = TestDb::new().await;
    let ada = organizer(&db.store, "ada").await;
    let snapshot = || async {
        let version: i64 =
            sqlx::query_scalar("SELECT config_version FROM organizers WHERE id = $1")
                .bind(ada.id.to_string())
                .fetch_one(&db.pool)
                .await
                .unwrap();
        let rows: i64 = sqlx::query_scalar(
            "SELECT (SELECT count(*) FROM schedules) + (SELECT count(*) FROM event_types)",
        )
        .fetch_one(&db.pool)
        .await
        .unwrap();
        (version, rows)
    };
    assert_eq!(snapshot().await, (1, 2));
    let extra = Schedule {
        id: ScheduleId::generate(),
        is_default: false,
        ..schedule(ada.id)
    };
    let other = EventType {
        id: EventTypeId::generate(),
        slug: "other".parse().unwrap(),
        ..event_type(ada.id)
    };
    let failing: Vec<(Vec<ConfigChange>, &str)> = vec![
        (
            vec![
                ConfigChange::PutSchedule(extra.clone()),
                ConfigChange::PutEventType(EventType {
                    id: EventTypeId::generate(),
                    ..event_type(ada.id)
                }),
            ],
            "a slug used twice",
        ),
        (
            vec![
                ConfigChange::PutEventType(other.clone()),
                ConfigChange::PutSchedule(Schedule {
                    id: ScheduleId::generate(),
                    ..schedule(ada.id)
                }),
            ],
            "a second default schedule",
        ),
        (
            vec![
                ConfigChange::PutSchedule(extra.clone()),
                ConfigChange::PutEventType(EventType {
                    buffer_after: Duration::nanoseconds(1),
                    ..other.clone()
                }),
            ],
            "a value the columns cannot hold",
        ),
        (
            vec![
                ConfigChange::DeleteEventType(default_event_type_id(ada.id)),
                ConfigChange::PutEventType(EventType {
                    schedule_id: Some(ScheduleId::generate()),
                    ..other.clone()
                }),
            ],
            "a schedule that does not exist",
        ),
    ];
    for (changes, what) in failing {
        let result = db.store.update_config(ada.id, 1, changes).await;
        assert!(result.is_err(), "{what}: {result:?}");
        assert_eq!(snapshot().await, (1, 2), "{what}: nothing written");
    }
    let version = db
        .store
        .update_config(ada.id, 1, vec![ConfigChange::PutEventType(other)])
        .await
        .expect("the organizer's row is not left locked");
    assert_eq!(version, 2);
    assert_eq!(snapshot().await, (2, 3));
}
