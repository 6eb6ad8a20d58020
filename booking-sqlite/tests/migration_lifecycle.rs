//! A file at schema level 3 (the release with schedules and event types),
//! built with the old migration files only and filled in plain SQL as that
//! release stored its data, is migrated to level 4 (holds, idempotency
//! keys, the outbox, records) without changing a stored value: existing
//! bookings never moved (sequence 0, no previous time), event types get the
//! default hold duration, the new tables start empty, and slots, conflicts,
//! limits and the new operations work on the old rows.

mod common;

use std::path::Path;
use std::sync::Arc;

use booking_core::booking::{Attendee, Booking, BookingRequest, LimitCheck, NewBooking};
use booking_core::event_type::{
    BookingLimits, BookingWindow, EventType, EventTypeId, LimitPeriod, Location,
};
use booking_core::hold::{HoldRequest, NewHold};
use booking_core::idempotency::IdempotencyKey;
use booking_core::organizer::{NewOrganizer, OrganizerId};
use booking_core::schedule::Schedule;
use booking_core::secret::TokenHash;
use booking_core::service::{Credential, RescheduleRequest};
use booking_core::store::{BookingStore, Cancellation, ConfigChange, StoreError};
use booking_core::testkit::fixtures::{at, created, event_type, new_hold, range, schedule};
use booking_core::time::{ManualClock, TimeRange};
use booking_core::{BookingService, ServiceError, SlotQuery};
use booking_sqlite::rusqlite::{Connection, params};
use booking_sqlite::{SCHEMA_LEVEL, SqliteOptions, SqliteStore};
use chrono::{DateTime, Duration, TimeZone as _, Utc};
use common::{
    count, insert_legacy_booking, legacy_booking, legacy_cancel_token, old_file, raw,
    reference_store_with, us,
};

/// Inserts an organizer as level 3 stored it.
fn organizer_v3(
    conn: &Connection,
    username: &str,
    username_key: impl Fn(OrganizerId) -> String,
    config_version: i64,
) -> OrganizerId {
    let id = OrganizerId::generate();
    conn.execute(
        "INSERT INTO organizers (id, username, username_key, email, display_name, time_zone, api_token_hash,
           created_at, config_version)
         VALUES (?1, ?2, ?3, ?4, ?5, 'Europe/London', ?6, ?7, ?8)",
        params![
            id.to_string(),
            username,
            username_key(id),
            format!("{username}@example.com"),
            format!("Organizer {username}"),
            TokenHash::of(username).to_hex(),
            us(created()),
            config_version
        ],
    )
    .unwrap();
    id
}

fn schedule_v3(conn: &Connection, s: &Schedule) {
    conn.execute(
        "INSERT INTO schedules (organizer_id, id, name, time_zone, weekly_hours, date_overrides, is_default)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            s.organizer_id.to_string(),
            s.id.to_string(),
            s.name,
            s.time_zone.name(),
            serde_json::to_string(&s.weekly_hours).unwrap(),
            serde_json::to_string(&s.date_overrides).unwrap(),
            s.is_default
        ],
    )
    .unwrap();
}

/// An event type as level 3 stored it (it had no hold duration).
fn event_type_v3(conn: &Connection, e: &EventType) {
    let BookingWindow::Rolling { horizon } = e.booking_window else {
        panic!("the fixture uses rolling windows")
    };
    let options: Vec<i64> = e.duration_options.iter().map(|d| d.num_seconds()).collect();
    conn.execute(
        "INSERT INTO event_types (organizer_id, id, slug, title, description, duration_secs, duration_options,
           slot_step_secs, buffer_before_secs, buffer_after_secs, min_notice_secs, window_kind,
           window_horizon_secs, limit_per_day, limit_per_week, week_starts_on, schedule_id, location, active)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 'rolling', ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
        params![
            e.organizer_id.to_string(),
            e.id.to_string(),
            e.slug.as_str(),
            e.title,
            e.description,
            e.duration.num_seconds(),
            serde_json::to_string(&options).unwrap(),
            e.slot_step.map(|d| d.num_seconds()),
            e.buffer_before.num_seconds(),
            e.buffer_after.num_seconds(),
            e.min_notice.num_seconds(),
            horizon.num_seconds(),
            e.limits.per_day,
            e.limits.per_week,
            "monday",
            e.schedule_id.map(|id| id.to_string()),
            e.location
                .as_ref()
                .map(|l| serde_json::to_string(l).unwrap()),
            e.active
        ],
    )
    .unwrap();
}

/// A booking as level 3 stored it, returned as the store must read it back
/// at level 4 (never moved).
fn booking_v3(
    conn: &Connection,
    organizer: OrganizerId,
    event_type: (Option<EventTypeId>, &str),
    time: TimeRange,
    buffers: (i64, i64),
    cancelled_at: Option<DateTime<Utc>>,
) -> Booking {
    let booking = legacy_booking(organizer, event_type, time, buffers, cancelled_at);
    insert_legacy_booking(conn, &booking, 3);
    booking
}

/// Ada's second event type: 30 minutes, at most 2 a day, a video link, on
/// the default schedule.
fn consult(organizer: OrganizerId) -> EventType {
    EventType {
        id: EventTypeId::generate(),
        slug: "consult".parse().unwrap(),
        title: "Consult".into(),
        duration: Duration::minutes(30),
        duration_options: vec![Duration::minutes(30), Duration::minutes(60)],
        buffer_before: Duration::zero(),
        buffer_after: Duration::zero(),
        min_notice: Duration::zero(),
        limits: BookingLimits {
            per_day: Some(2),
            ..BookingLimits::default()
        },
        location: Some(Location::Video {
            url: "https://meet.example.com/ada".into(),
        }),
        ..event_type(organizer)
    }
}

/// The level-3 file.
struct LevelThree {
    ada: OrganizerId,
    consult: EventType,
    /// Default event type: 10:00 New York with buffers, a cancelled 11:00,
    /// Tuesday 14:00; consult: Tuesday 9:00 New York; a booking of an event
    /// type deleted before the upgrade.
    bookings: Vec<Booking>,
    grace: OrganizerId,
    grace_upper: OrganizerId,
}

fn level_three_fixture(path: &Path) -> LevelThree {
    let conn = old_file(path, 3);
    let ada = organizer_v3(&conn, "ada", |_| "ada".into(), 2);
    schedule_v3(&conn, &schedule(ada));
    let default_type = event_type(ada);
    let consult = consult(ada);
    event_type_v3(&conn, &default_type);
    event_type_v3(&conn, &consult);
    let default = (Some(default_type.id), "default");
    let tuesday = Duration::days(1);
    let bookings = vec![
        booking_v3(&conn, ada, default, range(at(15, 0), 45), (5, 10), None),
        booking_v3(
            &conn,
            ada,
            default,
            range(at(16, 0), 45),
            (5, 10),
            Some(created() + Duration::hours(2)),
        ),
        booking_v3(
            &conn,
            ada,
            default,
            range(at(19, 0) + tuesday, 45),
            (5, 10),
            None,
        ),
        booking_v3(
            &conn,
            ada,
            (Some(consult.id), "consult"),
            range(at(14, 0) + tuesday, 30),
            (0, 0),
            None,
        ),
        booking_v3(
            &conn,
            ada,
            (None, "retired"),
            range(at(21, 0), 30),
            (0, 0),
            None,
        ),
    ];
    let grace = organizer_v3(&conn, "grace", |_| "grace".into(), 0);
    let grace_upper = organizer_v3(&conn, "GRACE", |id| format!("grace#{id}"), 0);
    LevelThree {
        ada,
        consult,
        bookings,
        grace,
        grace_upper,
    }
}

/// Every value of every level-3 column of the tables level 3 had, as text,
/// in a stable order.
fn dump_v3(conn: &Connection) -> Vec<String> {
    let mut rows = Vec::new();
    for (table, columns) in [
        (
            "organizers",
            "id, username, username_key, email, display_name, time_zone, api_token_hash, created_at, \
             config_version",
        ),
        (
            "schedules",
            "organizer_id, id, name, time_zone, weekly_hours, date_overrides, is_default",
        ),
        (
            "event_types",
            "organizer_id, id, slug, title, description, duration_secs, duration_options, slot_step_secs, \
             buffer_before_secs, buffer_after_secs, min_notice_secs, window_kind, window_horizon_secs, \
             window_days, window_first, window_last, limit_per_day, limit_per_week, week_starts_on, \
             schedule_id, location, active",
        ),
        (
            "bookings",
            "id, organizer_id, event_type_id, event_type_slug, attendant_name, attendant_email, metadata, \
             title, description, start_time, end_time, buffer_before_secs, buffer_after_secs, occupied_start, \
             occupied_end, cancel_token_hash, created_at, updated_at, deleted_at",
        ),
    ] {
        let mut stmt = conn
            .prepare(&format!("SELECT {columns} FROM {table} ORDER BY 1, 2"))
            .unwrap();
        let width = stmt.column_count();
        let mut query = stmt.query([]).unwrap();
        while let Some(row) = query.next().unwrap() {
            let values: Vec<String> = (0..width)
                .map(|i| format!("{:?}", row.get_ref(i).unwrap()))
                .collect();
            rows.push(format!("{table}: {}", values.join(" | ")));
        }
    }
    rows
}

fn service(store: impl BookingStore + 'static) -> BookingService {
    BookingService::new(store).with_clock(Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap(),
    )))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_level_three_file_with_real_data_is_migrated_to_the_lifecycle_schema() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("level3.db");
    let old = level_three_fixture(&path);
    let dump_before = dump_v3(&raw(&path));
    assert_eq!(dump_before.len(), 3 + 1 + 2 + 5);

    let store = SqliteStore::open(&path, SqliteOptions::default())
        .await
        .unwrap();
    assert_eq!(store.migrate().await.unwrap(), 3, "migrated from level 3");
    let conn = raw(&path);
    assert_eq!(booking_sqlite::schema_level(&conn).unwrap(), SCHEMA_LEVEL);
    assert_eq!(SCHEMA_LEVEL, 4);
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
    assert_eq!(
        dump_v3(&conn),
        dump_before,
        "every level-3 value is byte for byte what it was"
    );
    assert_eq!(
        count(
            &conn,
            "SELECT COUNT(*) FROM bookings WHERE sequence = 0 AND rescheduled_from_start IS NULL
               AND rescheduled_from_end IS NULL"
        ),
        5,
        "existing bookings never moved"
    );
    assert_eq!(
        count(
            &conn,
            "SELECT COUNT(*) FROM event_types WHERE hold_duration_secs = 300"
        ),
        2
    );
    for table in [
        "holds",
        "idempotency_keys",
        "booking_events",
        "jobs",
        "records",
    ] {
        assert_eq!(
            count(&conn, &format!("SELECT COUNT(*) FROM {table}")),
            0,
            "{table} starts empty"
        );
    }

    // Through the store: the configuration and every booking, field for
    // field, with the default hold duration and sequence 0.
    let config = store.organizer_config(old.ada).await.unwrap().unwrap();
    assert_eq!(config.version, 2);
    assert_eq!(config.schedules, vec![schedule(old.ada)]);
    let mut event_types = vec![event_type(old.ada), old.consult.clone()];
    event_types.sort_by_key(|e| e.id);
    assert_eq!(config.event_types, event_types);
    for booking in &old.bookings {
        assert_eq!(
            store.booking(booking.id).await.unwrap().as_ref(),
            Some(booking)
        );
    }

    // The legacy case-duplicates stay reachable; a new one is refused.
    for (name, id) in [
        ("grace", old.grace),
        ("GRACE", old.grace_upper),
        ("Grace", old.grace),
    ] {
        assert_eq!(
            store.organizer_by_username(name).await.unwrap().unwrap().id,
            id,
            "{name}"
        );
    }
    let refused = store
        .create_organizer(
            OrganizerId::generate(),
            NewOrganizer::new("gRACE", "x@example.com", "X", chrono_tz::UTC),
            TokenHash::of("new gRACE"),
            created(),
        )
        .await;
    assert!(
        matches!(refused, Err(StoreError::UsernameTaken(_))),
        "{refused:?}"
    );

    // Slots through a BookingService are those of the reference store
    // holding the same configuration and active bookings.
    let migrated = service(store.clone());
    let ada = store.organizer_by_id(old.ada).await.unwrap().unwrap();
    let reference_store = reference_store_with(&ada).await;
    let reference = service(reference_store.clone());
    let mut changes = vec![ConfigChange::PutSchedule(schedule(ada.id))];
    changes.extend(
        config
            .event_types
            .iter()
            .cloned()
            .map(ConfigChange::PutEventType),
    );
    reference_store
        .update_config(ada.id, 0, changes)
        .await
        .unwrap();
    for booking in old.bookings.iter().filter(|b| b.is_active()) {
        reference_store
            .insert_booking(NewBooking {
                config_version: None,
                id: booking.id,
                organizer_id: ada.id,
                event_type_id: booking.event_type_id.unwrap_or_else(EventTypeId::generate),
                event_type_slug: booking.event_type_slug.clone(),
                attendee: booking.attendee.clone(),
                metadata: None,
                title: booking.title.clone(),
                description: None,
                time: booking.time,
                buffer_before: booking.buffer_before,
                buffer_after: booking.buffer_after,
                cancel_token_hash: booking.cancel_token_hash,
                created_at: booking.created_at,
                limits: Vec::new(),
                replaces_hold: None,
                idempotency: None,
                event: None,
            })
            .await
            .unwrap();
    }
    let week = TimeRange::new(at(0, 0), at(0, 0) + Duration::days(5)).unwrap();
    for slug in [None, Some("consult")] {
        let query = |service: &BookingService| {
            let mut query = SlotQuery::new("ada", week);
            query.event_type = slug.map(str::to_owned);
            let service = service.clone();
            async move { service.available_slots(query).await.unwrap() }
        };
        let slots = query(&migrated).await;
        assert!(!slots.is_empty());
        assert_eq!(slots, query(&reference).await, "{slug:?}");
    }

    // The new operations work on the old rows. A move of an old booking:
    // sequence 1, its old time remembered, its event written.
    let first = &old.bookings[0];
    let moved = migrated
        .reschedule(
            RescheduleRequest::new(first.id, range(at(18, 0), 45)),
            &Credential::cancel_token(legacy_cancel_token(first.time)),
        )
        .await
        .expect("an old booking can be moved");
    assert_eq!(
        (moved.booking.sequence, moved.booking.rescheduled_from),
        (1, Some(first.time))
    );
    let events = store.events_after(0, 10).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].record.booking_id, first.id);

    // An old booking blocks holds and bookings, by the store and through
    // the service.
    let tuesday = Duration::days(1);
    let over_old = new_hold(
        ada.id,
        range(at(19, 15) + tuesday, 30),
        0,
        0,
        created() + Duration::minutes(5),
        None,
    );
    assert!(matches!(
        store
            .insert_hold(NewHold {
                hold: over_old,
                limits: Vec::new(),
                max_per_client: 3
            })
            .await,
        Err(StoreError::Conflict)
    ));
    let into_old = migrated
        .create_booking(BookingRequest::new(
            "ada",
            range(at(19, 0) + tuesday, 45),
            Attendee::new("New", "new@example.com"),
        ))
        .await;
    assert!(
        matches!(into_old, Err(ServiceError::SlotUnavailable(_))),
        "{into_old:?}"
    );

    // The consult limit (2 a day) counts the old booking and a new hold.
    let held = migrated
        .hold_slot(HoldRequest::new("ada", range(at(15, 0) + tuesday, 30)).event_type("consult"))
        .await
        .expect("a consult slot can be held");
    let tuesday_range = TimeRange::new(at(5, 0) + tuesday, at(5, 0) + Duration::days(2)).unwrap();
    assert_eq!(
        store
            .booked_starts(ada.id, old.consult.id, tuesday_range, created())
            .await
            .unwrap(),
        vec![at(14, 0) + tuesday, held.hold.time.start()]
    );
    let third = migrated
        .create_booking(
            BookingRequest::new(
                "ada",
                range(at(18, 0) + tuesday, 30),
                Attendee::new("Third", "third@example.com"),
            )
            .event_type("consult"),
        )
        .await;
    assert!(
        matches!(
            third,
            Err(ServiceError::BookingLimitReached(LimitPeriod::Day))
        ),
        "{third:?}"
    );
    let mut by_store = NewBooking {
        limits: vec![LimitCheck {
            period: LimitPeriod::Day,
            starts_within: tuesday_range,
            max: 2,
        }],
        ..booking_core::testkit::fixtures::new_booking(ada.id, range(at(18, 0) + tuesday, 30), 0, 0)
    };
    by_store.event_type_id = old.consult.id;
    assert!(matches!(
        store.insert_booking(by_store).await,
        Err(StoreError::LimitReached(LimitPeriod::Day))
    ));

    // Idempotent booking and the version-checked cancellation of an old
    // booking.
    let key: IdempotencyKey = "after-the-upgrade".parse().unwrap();
    let request = BookingRequest::new(
        "ada",
        range(at(19, 0), 45),
        Attendee::new("Idem", "idem@example.com"),
    )
    .idempotency_key(key);
    let booked = migrated.create_booking(request.clone()).await.unwrap();
    let again = migrated.create_booking(request).await.unwrap();
    assert!(again.replayed);
    assert_eq!(again.booking, booked.booking);
    let retired = &old.bookings[4];
    assert!(matches!(
        store
            .cancel_booking(Cancellation {
                expected_sequence: Some(1),
                ..Cancellation::new(retired.id, retired.organizer_id, created())
            })
            .await,
        Err(StoreError::BookingChanged(_))
    ));
    let cancelled = store
        .cancel_booking(Cancellation {
            expected_sequence: Some(0),
            ..Cancellation::new(retired.id, retired.organizer_id, created())
        })
        .await
        .unwrap();
    assert_eq!(
        (cancelled.sequence, cancelled.event_type_slug.as_str()),
        (1, "retired")
    );

    // Migrating again finds nothing left to do.
    drop(store);
    let reopened = SqliteStore::open(&path, SqliteOptions::default())
        .await
        .unwrap();
    assert_eq!(reopened.migrate().await.unwrap(), SCHEMA_LEVEL);
}
