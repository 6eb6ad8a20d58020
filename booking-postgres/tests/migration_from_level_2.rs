//! Upgrading a database of schema level 2 (schedules, event types,
//! versioned configuration), with real data in it, to level 3 (the
//! lifecycle, holds, the outbox, idempotency keys, records), then checking
//! it through the store: every booking is a confirmed booking at sequence 0
//! that never moved, every event type holds slots for 5 minutes, and the old
//! rows take part in everything new (moves, holds, limits, cancellations
//! with events).

mod common;

use booking_core::booking::{Attendee, BookingId, LimitCheck, NewBooking};
use booking_core::event_type::{DEFAULT_HOLD_DURATION, EventTypeId, LimitPeriod, Slug};
use booking_core::hold::{Hold, HoldId, NewHold};
use booking_core::organizer::OrganizerId;
use booking_core::secret::TokenHash;
use booking_core::store::{BookingQuery, BookingStore, Cancellation, Reschedule, StoreError};
use booking_core::testkit::fixtures::new_booking;
use booking_core::time::TimeRange;
use chrono::{DateTime, Duration, TimeZone, Utc};
use common::TestDb;
use sqlx::PgPool;

/// When the level-2 rows were written.
fn written() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap()
}

/// "Now" after the upgrade.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap()
}

/// `h:m` UTC on Monday 7 December 2026.
fn monday(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 7, h, m, 0).unwrap()
}

/// A level-2 booking: (id, event type id, slug, meeting, buffers before and
/// after in minutes, cancelled).
type Level2Booking = (
    BookingId,
    Option<String>,
    &'static str,
    TimeRange,
    i64,
    i64,
    bool,
);

/// What a level-2 database held: an organizer with a default schedule and
/// two event types (`intro` allows two bookings a day), and bookings of
/// them: active with buffers, cancelled, and one of an event type deleted
/// before the upgrade.
async fn level_2_data(pool: &PgPool, ada: OrganizerId) -> (EventTypeId, Vec<Level2Booking>) {
    let id = ada.to_string();
    sqlx::query(
        "INSERT INTO organizers (id, username, email, display_name, time_zone, api_token_hash, \
            created_at, config_version, username_key) \
         VALUES ($1, 'ada', 'ada@example.com', 'Ada', 'Europe/London', $2, $3, 3, 'ada')",
    )
    .bind(&id)
    .bind(TokenHash::of("ada").to_hex())
    .bind(written())
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO schedules (organizer_id, id, name, time_zone, weekly_hours, date_overrides, \
            is_default) \
         VALUES ($1, $1, 'Working hours', 'Europe/London', \
            '{\"monday\": [{\"start\": \"08:00\", \"end\": \"18:00\"}]}', '{}', true)",
    )
    .bind(&id)
    .execute(pool)
    .await
    .unwrap();
    let intro = EventTypeId::generate();
    for (event_type, slug, per_day) in [
        (id.clone(), "default", None),
        (intro.to_string(), "intro", Some(2)),
    ] {
        sqlx::query(
            "INSERT INTO event_types (organizer_id, id, slug, title, duration, slot_step, \
                buffer_before, buffer_after, min_notice, booking_window_kind, \
                booking_window_horizon, limit_per_day) \
             VALUES ($1, $2, $3, 'Meeting', '30 minutes', '15 minutes', '5 minutes', \
                '10 minutes', '2 hours', 'rolling', '60 days', $4)",
        )
        .bind(&id)
        .bind(event_type)
        .bind(slug)
        .bind(per_day)
        .execute(pool)
        .await
        .unwrap();
    }
    let range =
        |h, m, minutes| TimeRange::starting_at(monday(h, m), Duration::minutes(minutes)).unwrap();
    let bookings: Vec<Level2Booking> = vec![
        (
            BookingId::generate(),
            Some(intro.to_string()),
            "intro",
            range(9, 0, 30),
            5,
            10,
            false,
        ),
        (
            BookingId::generate(),
            Some(intro.to_string()),
            "intro",
            range(10, 0, 30),
            5,
            10,
            false,
        ),
        (
            BookingId::generate(),
            Some(intro.to_string()),
            "intro",
            range(11, 0, 30),
            5,
            10,
            true,
        ),
        (
            BookingId::generate(),
            Some(id.clone()),
            "default",
            range(13, 0, 60),
            0,
            15,
            false,
        ),
        (
            BookingId::generate(),
            None,
            "gone",
            range(15, 0, 30),
            0,
            0,
            false,
        ),
    ];
    for (booking, event_type, slug, time, before, after, cancelled) in &bookings {
        let occupied = time.widened(Duration::minutes(*before), Duration::minutes(*after));
        sqlx::query(
            "INSERT INTO bookings (id, organizer_id, event_type_id, event_type_slug, attendant_name, \
                attendant_email, metadata, title, description, start_time, end_time, created_at, \
                updated_at, deleted_at, buffer_before, buffer_after, occupied_start, occupied_end, \
                cancel_token_hash) \
             VALUES ($1, $2, $3, $4, 'Grace', 'grace@example.com', '{\"seats\": 2}', 'Intro', \
                'Notes', $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .bind(booking.to_string())
        .bind(&id)
        .bind(event_type)
        .bind(slug)
        .bind(time.start())
        .bind(time.end())
        .bind(written())
        .bind(written() + Duration::hours(u32::from(*cancelled) as i64))
        .bind(cancelled.then(|| written() + Duration::hours(1)))
        .bind(Duration::minutes(*before))
        .bind(Duration::minutes(*after))
        .bind(occupied.start())
        .bind(occupied.end())
        .bind(TokenHash::of("cancel").to_hex())
        .execute(pool)
        .await
        .unwrap();
    }
    (intro, bookings)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_version_2_database_with_data_upgrades_in_place() {
    let db = TestDb::at_version(2).await;
    let ada = OrganizerId::generate();
    let (intro, legacy) = level_2_data(&db.pool, ada).await;
    db.store
        .migrate()
        .await
        .expect("migration 3 applies to real data");
    let store = &db.store;

    // Every booking is what it was, now confirmed at sequence 0, never moved.
    for (id, event_type, slug, time, before, after, cancelled) in &legacy {
        let booking = store.booking(*id).await.unwrap().expect("kept");
        assert_eq!(booking.event_type_id.map(|e| e.to_string()), *event_type);
        assert_eq!(booking.event_type_slug, slug.parse::<Slug>().unwrap());
        assert_eq!(booking.time, *time);
        assert_eq!(
            (booking.buffer_before, booking.buffer_after),
            (Duration::minutes(*before), Duration::minutes(*after))
        );
        assert_eq!(
            booking.attendee,
            Attendee::new("Grace", "grace@example.com")
        );
        assert_eq!(booking.metadata.as_ref().unwrap()["seats"], 2);
        assert_eq!(booking.description.as_deref(), Some("Notes"));
        assert_eq!(booking.is_active(), !cancelled);
        assert_eq!((booking.sequence, booking.rescheduled_from), (0, None));
    }
    let statuses: Vec<(String, i32)> =
        sqlx::query_as("SELECT DISTINCT status, sequence FROM bookings")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    assert_eq!(statuses, [("confirmed".to_owned(), 0)]);
    let listed = store
        .list_bookings(
            ada,
            BookingQuery {
                starts_within: None,
                cancelled_since: Some(written()),
                limit: 10,
                offset: 0,
            },
        )
        .await
        .unwrap();
    assert_eq!(listed.total, 5, "active ones and the one cancelled since");

    // The configuration is unchanged, with the default hold duration.
    let config = store.organizer_config(ada).await.unwrap().unwrap();
    assert_eq!(config.version, 3);
    assert_eq!(config.event_types.len(), 2);
    for event_type in &config.event_types {
        assert_eq!(event_type.hold_duration, DEFAULT_HOLD_DURATION);
    }
    assert_eq!(config.event_type("intro").unwrap().limits.per_day, Some(2));

    // Old bookings count against limits, for holds and bookings alike.
    let day = TimeRange::new(monday(0, 0), monday(0, 0) + Duration::days(1)).unwrap();
    let two_a_day = vec![LimitCheck {
        period: LimitPeriod::Day,
        starts_within: day,
        max: 2,
    }];
    let slot = TimeRange::starting_at(monday(16, 0), Duration::minutes(30)).unwrap();
    let hold = Hold {
        id: HoldId::generate(),
        organizer_id: ada,
        event_type_id: intro,
        time: slot,
        buffer_before: Duration::zero(),
        buffer_after: Duration::zero(),
        token_hash: TokenHash::of("hold"),
        client: Some("10.0.0.1".into()),
        created_at: now(),
        expires_at: now() + DEFAULT_HOLD_DURATION,
    };
    let full = store
        .insert_hold(NewHold {
            hold: hold.clone(),
            limits: two_a_day.clone(),
            max_per_client: 3,
        })
        .await;
    assert!(
        matches!(full, Err(StoreError::LimitReached(LimitPeriod::Day))),
        "{full:?}"
    );
    let full = store
        .insert_booking(NewBooking {
            event_type_id: intro,
            event_type_slug: "intro".parse().unwrap(),
            limits: two_a_day.clone(),
            created_at: now(),
            ..new_booking(ada, slot, 0, 0)
        })
        .await;
    assert!(
        matches!(full, Err(StoreError::LimitReached(LimitPeriod::Day))),
        "{full:?}"
    );

    // Old bookings block holds and moves, and move and cancel themselves.
    let (first, _, _, first_time, ..) = legacy[0].clone();
    let over_old = store
        .insert_hold(NewHold {
            hold: Hold {
                time: TimeRange::starting_at(monday(9, 35), Duration::minutes(15)).unwrap(),
                // The default event type: no limits, only the overlap.
                event_type_id: EventTypeId::from(ada.as_ulid()),
                ..hold.clone()
            },
            limits: Vec::new(),
            max_per_client: 3,
        })
        .await;
    assert!(
        matches!(over_old, Err(StoreError::Conflict)),
        "in the old buffer: {over_old:?}"
    );
    let moved = store
        .reschedule_booking(Reschedule {
            id: first,
            organizer_id: ada,
            expected_sequence: 0,
            time: slot,
            buffer_before: Duration::minutes(5),
            buffer_after: Duration::minutes(10),
            limits: two_a_day,
            at: now(),
            event: None,
        })
        .await
        .expect("a move within its own day counts itself out");
    assert_eq!(
        (moved.sequence, moved.rescheduled_from),
        (1, Some(first_time))
    );
    let into_old = store
        .reschedule_booking(Reschedule {
            id: first,
            organizer_id: ada,
            expected_sequence: 1,
            time: TimeRange::starting_at(monday(13, 30), Duration::minutes(30)).unwrap(),
            buffer_before: Duration::zero(),
            buffer_after: Duration::zero(),
            limits: Vec::new(),
            at: now(),
            event: None,
        })
        .await;
    assert!(
        matches!(into_old, Err(StoreError::Conflict)),
        "{into_old:?}"
    );
    let (second, ..) = legacy[1].clone();
    let cancelled = store
        .cancel_booking(Cancellation {
            expected_sequence: Some(0),
            ..Cancellation::new(second, ada, now())
        })
        .await
        .unwrap();
    assert_eq!(cancelled.sequence, 1);
    assert_eq!(common::overlapping_active_pairs(&db.pool).await, 0);

    // The new tables start empty; the history records three migrations.
    for table in ["booking_events", "jobs", "idempotency_keys", "records"] {
        let rows: i64 =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
                .fetch_one(&db.pool)
                .await
                .unwrap();
        assert_eq!(rows, 0, "{table}");
    }
    assert_eq!(common::migration_versions(&db.pool).await, [1, 2, 3]);
}
