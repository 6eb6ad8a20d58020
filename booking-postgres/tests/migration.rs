//! Upgrading a database of the previous schema level (migration 1 only:
//! organizers, organizer_settings, bookings), with real data in it, to the
//! current one, then checking everything through the store and the service.

mod common;

use std::sync::Arc;

use booking_core::booking::BookingId;
use booking_core::event_type::{BookingLimits, BookingWindow, EventType, EventTypeId, Slug};
use booking_core::memory::MemoryStore;
use booking_core::organizer::{NewOrganizer, OrganizerId};
use booking_core::schedule::{Schedule, ScheduleId, WeeklyHours};
use booking_core::secret::TokenHash;
use booking_core::store::{BookingStore, Cancellation, StoreError};
use booking_core::testkit::fixtures::new_booking;
use booking_core::time::{LocalInterval, ManualClock, TimeRange};
use booking_core::{
    Attendee, BookingRequest, BookingService, OrganizerSettings, ServiceError, SettingsDraft,
    SlotQuery,
};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use common::TestDb;
use sqlx::PgPool;

/// When the legacy organizers registered.
fn registered() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 1, 12, 0, 0).unwrap()
}

/// "Now" for the service after the upgrade: Tuesday 1 December 2026.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap()
}

/// `h:m` UTC on December `day`, 2026.
fn december(day: u32, h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, day, h, m, 0).unwrap()
}

/// Weekdays 09:00-12:00 and 13:00-17:00, as version 1 stored them (every
/// weekday written out by the serializer of the time).
const ADA_HOURS: &str = r#"{
    "monday": [{"start": "09:00", "end": "12:00"}, {"start": "13:00", "end": "17:00"}],
    "tuesday": [{"start": "09:00", "end": "12:00"}, {"start": "13:00", "end": "17:00"}],
    "wednesday": [{"start": "09:00", "end": "12:00"}, {"start": "13:00", "end": "17:00"}],
    "thursday": [{"start": "09:00", "end": "12:00"}, {"start": "13:00", "end": "17:00"}],
    "friday": [{"start": "09:00", "end": "12:00"}, {"start": "13:00", "end": "17:00"}],
    "saturday": [],
    "sunday": []
}"#;

/// The same settings as a draft, for the oracle and the comparisons.
fn ada_settings() -> SettingsDraft {
    let hours = |a, b| LocalInterval::parse(a, b).unwrap();
    SettingsDraft {
        time_zone: Some(chrono_tz::America::New_York),
        weekly_hours: WeeklyHours::weekdays(vec![hours("09:00", "12:00"), hours("13:00", "17:00")]),
        // Tuesday 8 December off.
        date_overrides: [(NaiveDate::from_ymd_opt(2026, 12, 8).unwrap(), vec![])].into(),
        slot_duration: Duration::minutes(30),
        slot_step: Some(Duration::minutes(15)),
        buffer_before: Duration::minutes(5),
        buffer_after: Duration::minutes(10),
        min_notice: Duration::hours(2),
        max_advance: Duration::days(60),
    }
}

struct Legacy {
    ada: OrganizerId,
    lower: OrganizerId,
    upper: OrganizerId,
    zed: OrganizerId,
    /// Ada's bookings: (id, meeting, buffers before/after in minutes, cancelled).
    bookings: Vec<(BookingId, TimeRange, i64, i64, bool)>,
}

async fn insert_organizer(pool: &PgPool, id: OrganizerId, username: &str, minutes_later: i64) {
    sqlx::query(
        "INSERT INTO organizers (id, username, email, display_name, time_zone, api_token_hash, created_at) \
         VALUES ($1, $2, $3, $4, 'Europe/Berlin', $5, $6)",
    )
    .bind(id.to_string())
    .bind(username)
    .bind(format!("{username}@example.com"))
    .bind(format!("Organizer {username}"))
    .bind(TokenHash::of(username).to_hex())
    .bind(registered() + Duration::minutes(minutes_later))
    .execute(pool)
    .await
    .unwrap();
}

/// What a version-1 database held: organizers with and without settings,
/// two usernames differing only in case, bookings (one cancelled) with
/// buffers.
async fn legacy_data(pool: &PgPool) -> Legacy {
    let legacy = Legacy {
        ada: OrganizerId::generate(),
        lower: OrganizerId::generate(),
        upper: OrganizerId::generate(),
        zed: OrganizerId::generate(),
        bookings: vec![
            // Monday 7 December 10:00 New York, occupying 09:55-10:40.
            (
                BookingId::generate(),
                TimeRange::new(december(7, 15, 0), december(7, 15, 30)).unwrap(),
                5,
                10,
                false,
            ),
            // Monday 11:00, cancelled: frees its time.
            (
                BookingId::generate(),
                TimeRange::new(december(7, 16, 0), december(7, 16, 30)).unwrap(),
                5,
                10,
                true,
            ),
            // Wednesday 9 December 13:00, no buffers.
            (
                BookingId::generate(),
                TimeRange::new(december(9, 18, 0), december(9, 18, 30)).unwrap(),
                0,
                0,
                false,
            ),
        ],
    };
    insert_organizer(pool, legacy.ada, "ada", 0).await;
    insert_organizer(pool, legacy.lower, "abc", 1).await;
    insert_organizer(pool, legacy.upper, "ABC", 2).await;
    insert_organizer(pool, legacy.zed, "zed", 3).await;

    sqlx::query(
        "INSERT INTO organizer_settings (organizer_id, time_zone, weekly_hours, date_overrides, \
            slot_duration, slot_step, buffer_before, buffer_after, min_notice, max_advance) \
         VALUES ($1, 'America/New_York', $2::jsonb, '{\"2026-12-08\": []}', '30 minutes', '15 minutes', \
            '5 minutes', '10 minutes', '2 hours', '60 days')",
    )
    .bind(legacy.ada.to_string())
    .bind(ADA_HOURS)
    .execute(pool)
    .await
    .unwrap();
    // A slot length under booking-core 2's 5-minute minimum, carried over.
    sqlx::query(
        "INSERT INTO organizer_settings (organizer_id, time_zone, weekly_hours, slot_duration, max_advance) \
         VALUES ($1, 'UTC', '{\"monday\": [{\"start\": \"09:00\", \"end\": \"10:00\"}]}', '3 minutes', '7 days')",
    )
    .bind(legacy.lower.to_string())
    .execute(pool)
    .await
    .unwrap();

    for (id, time, before, after, cancelled) in &legacy.bookings {
        let occupied = time.widened(Duration::minutes(*before), Duration::minutes(*after));
        sqlx::query(
            "INSERT INTO bookings (id, organizer_id, attendant_name, attendant_email, metadata, title, \
                start_time, end_time, created_at, updated_at, deleted_at, buffer_before, buffer_after, \
                occupied_start, occupied_end, cancel_token_hash) \
             VALUES ($1, $2, 'Grace', 'grace@example.com', '{\"guests\": 2}', 'Intro', $3, $4, $5, $5, $6, \
                $7, $8, $9, $10, $11)",
        )
        .bind(id.to_string())
        .bind(legacy.ada.to_string())
        .bind(time.start())
        .bind(time.end())
        .bind(registered())
        .bind(cancelled.then(|| registered() + Duration::days(1)))
        .bind(Duration::minutes(*before))
        .bind(Duration::minutes(*after))
        .bind(occupied.start())
        .bind(occupied.end())
        .bind(TokenHash::of("cancel").to_hex())
        .execute(pool)
        .await
        .unwrap();
    }
    legacy
}

#[tokio::test(flavor = "multi_thread")]
async fn a_version_1_database_with_data_upgrades_in_place() {
    let db = TestDb::at_version(1).await;
    let legacy = legacy_data(&db.pool).await;
    db.store
        .migrate()
        .await
        .expect("migration 2 applies to real data");
    let store = &db.store;

    // The settings became the default schedule and event type, with the
    // organizer's id as their ids, at configuration version 1.
    let config = store.organizer_config(legacy.ada).await.unwrap().unwrap();
    let settings = ada_settings();
    assert_eq!(config.version, 1);
    let schedule = Schedule {
        id: ScheduleId::from(legacy.ada.as_ulid()),
        organizer_id: legacy.ada,
        name: "Working hours".into(),
        time_zone: chrono_tz::America::New_York,
        weekly_hours: settings.weekly_hours.clone(),
        date_overrides: settings.date_overrides.clone(),
        is_default: true,
    };
    let event_type = EventType {
        id: EventTypeId::from(legacy.ada.as_ulid()),
        organizer_id: legacy.ada,
        slug: Slug::default_slug(),
        title: "Meeting".into(),
        description: None,
        duration: Duration::minutes(30),
        duration_options: Vec::new(),
        slot_step: Some(Duration::minutes(15)),
        buffer_before: Duration::minutes(5),
        buffer_after: Duration::minutes(10),
        min_notice: Duration::hours(2),
        booking_window: BookingWindow::rolling_days(60),
        limits: BookingLimits::default(),
        schedule_id: None,
        location: None,
        active: true,
        hold_duration: booking_core::event_type::DEFAULT_HOLD_DURATION,
    };
    assert_eq!(config.schedules, vec![schedule.clone()]);
    assert_eq!(config.event_types, vec![event_type.clone()]);
    assert_eq!(
        OrganizerSettings::from_parts(&schedule, &event_type),
        OrganizerSettings::try_from(settings.clone()).unwrap(),
        "the settings read back are the ones stored before"
    );

    // A 3-minute length is kept as it was; no step configured stays none.
    let lower = store.organizer_config(legacy.lower).await.unwrap().unwrap();
    assert_eq!(lower.version, 1);
    assert_eq!(lower.event_types[0].duration, Duration::minutes(3));
    assert_eq!(lower.event_types[0].slot_step, None);
    assert_eq!(
        lower.event_types[0].booking_window,
        BookingWindow::rolling_days(7)
    );
    // No settings, no configuration.
    for bare in [legacy.zed, legacy.upper] {
        let config = store.organizer_config(bare).await.unwrap().unwrap();
        assert_eq!(
            (
                config.version,
                config.schedules.len(),
                config.event_types.len()
            ),
            (0, 0, 0)
        );
    }

    // Every booking, cancelled or not, is attached to the default event
    // type and otherwise unchanged.
    for (id, time, before, after, cancelled) in &legacy.bookings {
        let booking = store.booking(*id).await.unwrap().expect("kept");
        assert_eq!(booking.event_type_id, Some(event_type.id));
        assert_eq!(booking.event_type_slug, Slug::default_slug());
        assert_eq!(booking.time, *time);
        assert_eq!(
            (booking.buffer_before, booking.buffer_after),
            (Duration::minutes(*before), Duration::minutes(*after))
        );
        assert_eq!(booking.is_active(), !cancelled);
        assert_eq!(
            booking.attendee,
            Attendee::new("Grace", "grace@example.com")
        );
        assert_eq!(booking.metadata.unwrap()["guests"], 2);
    }

    // Usernames: both legacy case-duplicates by their exact spelling, the
    // older one by any other case; no new duplicate in any case.
    let by_name = |name: &'static str| async move {
        store
            .organizer_by_username(name)
            .await
            .unwrap()
            .map(|o| o.id)
    };
    assert_eq!(by_name("abc").await, Some(legacy.lower));
    assert_eq!(by_name("ABC").await, Some(legacy.upper));
    assert_eq!(by_name("Abc").await, Some(legacy.lower));
    assert_eq!(by_name("ZED").await, Some(legacy.zed));
    let keys: Vec<(String, String)> =
        sqlx::query_as("SELECT username, username_key FROM organizers ORDER BY created_at")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    assert_eq!(
        keys,
        [
            ("ada".to_owned(), "ada".to_owned()),
            ("abc".to_owned(), "abc".to_owned()),
            ("ABC".to_owned(), format!("abc#{}", legacy.upper)),
            ("zed".to_owned(), "zed".to_owned()),
        ]
    );
    for taken in ["aBc", "Zed", "ADA"] {
        let again = store
            .create_organizer(
                OrganizerId::generate(),
                NewOrganizer::new(taken, "x@example.com", "X", chrono_tz::UTC),
                TokenHash::of(taken),
                now(),
            )
            .await;
        assert!(
            matches!(&again, Err(StoreError::UsernameTaken(name)) if name == taken),
            "{taken}: {again:?}"
        );
    }
    assert_eq!(
        store
            .organizer_by_token_hash(&TokenHash::of("ABC"))
            .await
            .unwrap()
            .map(|o| o.id),
        Some(legacy.upper)
    );

    // The slots are what the same settings and bookings give in a fresh
    // in-memory store: the oracle.
    let clock = Arc::new(ManualClock::new(now()));
    let service = BookingService::new(db.store.clone()).with_clock(clock.clone());
    let oracle_store = Arc::new(MemoryStore::new());
    let ada = store.organizer_by_id(legacy.ada).await.unwrap().unwrap();
    oracle_store
        .create_organizer(
            ada.id,
            NewOrganizer::new("ada", "ada@example.com", "Organizer ada", ada.time_zone),
            ada.api_token_hash,
            ada.created_at,
        )
        .await
        .unwrap();
    let oracle = BookingService::new(oracle_store.clone()).with_clock(clock);
    oracle.put_settings(ada.id, settings).await.unwrap();
    let oracle_default = oracle.organizer_config(ada.id).await.unwrap().event_types[0].id;
    for (_, time, before, after, cancelled) in &legacy.bookings {
        let inserted = oracle_store
            .insert_booking(booking_core::booking::NewBooking {
                event_type_id: oracle_default,
                ..new_booking(ada.id, *time, *before, *after)
            })
            .await
            .unwrap();
        if *cancelled {
            oracle_store
                .cancel_booking(Cancellation::new(inserted.id, inserted.organizer_id, now()))
                .await
                .unwrap();
        }
    }
    let week = TimeRange::new(december(7, 0, 0), december(12, 0, 0)).unwrap();
    let slots = service
        .available_slots(SlotQuery::new("ada", week))
        .await
        .unwrap();
    let expected = oracle
        .available_slots(SlotQuery::new("ada", week))
        .await
        .unwrap();
    assert_eq!(slots, expected);
    let starts: Vec<_> = slots.iter().map(TimeRange::start).collect();
    assert!(starts.contains(&december(7, 14, 0)), "Monday 09:00 is free");
    assert!(
        !starts.contains(&december(7, 15, 0)) && !starts.contains(&december(7, 14, 45)),
        "Monday 10:00 is booked, and 09:45 runs into its buffer"
    );
    assert!(
        starts.contains(&december(7, 16, 0)),
        "the cancelled 11:00 is free again"
    );
    assert!(
        !starts
            .iter()
            .any(|s| s.date_naive() == NaiveDate::from_ymd_opt(2026, 12, 8).unwrap()),
        "Tuesday 8 December is off"
    );

    // An old booking still blocks: in the store and through the service.
    let overlapping = store
        .insert_booking(new_booking(
            ada.id,
            TimeRange::new(december(7, 15, 15), december(7, 15, 45)).unwrap(),
            0,
            0,
        ))
        .await;
    assert!(
        matches!(overlapping, Err(StoreError::Conflict)),
        "{overlapping:?}"
    );
    let grace = || Attendee::new("Grace Hopper", "grace@example.com");
    let taken = service
        .create_booking(BookingRequest::new(
            "ada",
            TimeRange::new(december(7, 15, 0), december(7, 15, 30)).unwrap(),
            grace(),
        ))
        .await;
    assert!(
        matches!(taken, Err(ServiceError::SlotUnavailable(_))),
        "{taken:?}"
    );
    let booked = service
        .create_booking(BookingRequest::new(
            "ada",
            TimeRange::new(december(7, 14, 0), december(7, 14, 30)).unwrap(),
            grace(),
        ))
        .await
        .expect("a free slot books on the migrated default event type");
    assert_eq!(booked.booking.event_type_id, Some(event_type.id));
    assert_eq!(common::overlapping_active_pairs(&db.pool).await, 0);

    // The old table is gone; the history records both migrations.
    let (settings_left, versions): (bool, Vec<i64>) = (
        sqlx::query_scalar("SELECT to_regclass('organizer_settings') IS NOT NULL")
            .fetch_one(&db.pool)
            .await
            .unwrap(),
        common::migration_versions(&db.pool).await,
    );
    assert!(!settings_left);
    assert_eq!(versions, [1, 2, 3]);
}
