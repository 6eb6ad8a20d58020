//! Database files left at older schema levels, built with the old migration
//! files only and filled in plain SQL as those releases stored data, are
//! migrated forward by `migrate()` without losing or changing anything: each
//! organizer's settings become their default schedule and default event
//! type, bookings attach to it, legacy usernames that differ only in case
//! stay reachable, and slots and conflicts are what they were.

mod common;

use std::path::Path;
use std::sync::Arc;

use booking_core::booking::{Attendee, Booking, BookingId, BookingRequest};
use booking_core::event_type::EventTypeId;
use booking_core::organizer::{NewOrganizer, OrganizerId};
use booking_core::secret::TokenHash;
use booking_core::store::{BookingQuery, BookingStore, StoreError};
use booking_core::testkit::fixtures::{at, created, event_type, new_booking, range, schedule};
use booking_core::time::{ManualClock, TimeRange};
use booking_core::{BookingService, OrganizerSettings, ServiceError, SettingsDraft, SlotQuery};
use booking_sqlite::rusqlite::{Connection, params};
use booking_sqlite::{Error, SCHEMA_LEVEL, SqliteOptions, SqliteStore};
use chrono::{DateTime, Duration, NaiveDate, TimeZone as _, Utc};
use common::{
    count, insert_legacy_booking, legacy_booking, old_file, raw, reference_store_with, us,
};

/// Inserts an organizer as levels 1 and 2 stored them.
fn old_organizer(conn: &Connection, username: &str, created_at: DateTime<Utc>) -> OrganizerId {
    let id = OrganizerId::generate();
    conn.execute(
        "INSERT INTO organizers VALUES (?1, ?2, ?3, ?4, 'Europe/London', ?5, ?6)",
        params![
            id.to_string(),
            username,
            format!("{username}@example.com"),
            format!("Organizer {username}"),
            TokenHash::of(username).to_hex(),
            us(created_at)
        ],
    )
    .unwrap();
    id
}

/// Old settings, in the shape `organizer_settings` had.
struct OldSettings {
    time_zone: &'static str,
    weekly_hours: &'static str,
    date_overrides: &'static str,
    slot_duration_secs: i64,
    slot_step_secs: Option<i64>,
    buffer_before_secs: i64,
    buffer_after_secs: i64,
    min_notice_secs: i64,
    max_advance_secs: i64,
}

/// The settings the testkit's default schedule and event type amount to
/// (`fixtures::schedule` and `fixtures::event_type`), as an old release
/// stored them.
const NY_WEEKDAYS: OldSettings = OldSettings {
    time_zone: "America/New_York",
    weekly_hours: r#"{"monday":[{"start":"09:00","end":"12:00"},{"start":"13:00","end":"24:00"}],
        "tuesday":[{"start":"09:00","end":"12:00"},{"start":"13:00","end":"24:00"}],
        "wednesday":[{"start":"09:00","end":"12:00"},{"start":"13:00","end":"24:00"}],
        "thursday":[{"start":"09:00","end":"12:00"},{"start":"13:00","end":"24:00"}],
        "friday":[{"start":"09:00","end":"12:00"},{"start":"13:00","end":"24:00"}]}"#,
    date_overrides: r#"{"2026-12-24":[]}"#,
    slot_duration_secs: 2700,
    slot_step_secs: Some(900),
    buffer_before_secs: 300,
    buffer_after_secs: 600,
    min_notice_secs: 7200,
    max_advance_secs: 7_776_000,
};

fn old_settings(conn: &Connection, organizer: OrganizerId, s: &OldSettings) {
    conn.execute(
        "INSERT INTO organizer_settings VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            organizer.to_string(),
            s.time_zone,
            s.weekly_hours,
            s.date_overrides,
            s.slot_duration_secs,
            s.slot_step_secs,
            s.buffer_before_secs,
            s.buffer_after_secs,
            s.min_notice_secs,
            s.max_advance_secs
        ],
    )
    .unwrap();
}

/// Inserts a booking as levels 1 and 2 stored it, returning it as the store
/// must read it back after the upgrade (attached to `event_type`).
fn old_booking(
    conn: &Connection,
    organizer: OrganizerId,
    time: TimeRange,
    buffers: (i64, i64),
    cancelled_at: Option<DateTime<Utc>>,
    event_type: Option<EventTypeId>,
) -> Booking {
    let booking = legacy_booking(
        organizer,
        (event_type, "default"),
        time,
        buffers,
        cancelled_at,
    );
    insert_legacy_booking(conn, &booking, 2);
    booking
}

/// The default event type an organizer's settings become (its id is the
/// organizer's).
fn default_event_type_of(organizer: OrganizerId) -> EventTypeId {
    EventTypeId::from(organizer.as_ulid())
}

async fn open_and_migrate(path: &Path) -> (SqliteStore, i64) {
    let store = SqliteStore::open(path, SqliteOptions::default())
        .await
        .expect("open the old file");
    let before = store.migrate().await.expect("migrate the old file");
    (store, before)
}

/// The level-2 file of the release before event types, with real data.
struct LevelTwo {
    /// Settings in New York; three bookings (one cancelled, with buffers).
    ada: OrganizerId,
    ada_bookings: Vec<Booking>,
    /// `grace`, registered first, with settings of 3-minute slots (which
    /// new input may no longer have).
    grace: OrganizerId,
    /// `GRACE`, registered later, same name in another case, no settings but
    /// a booking (written by hand: no release booked without settings).
    grace_upper: OrganizerId,
    grace_upper_booking: Booking,
}

fn level_two_fixture(path: &Path) -> LevelTwo {
    let conn = old_file(path, 2);
    let ada = old_organizer(&conn, "ada", created());
    old_settings(&conn, ada, &NY_WEEKDAYS);
    let attached = Some(default_event_type_of(ada));
    // Monday 7 December: 10:00-10:45 New York (15:00 UTC) with buffers of 5
    // and 10 minutes, a cancelled 11:00 one, and Tuesday 14:00 without.
    let ada_bookings = vec![
        old_booking(&conn, ada, range(at(15, 0), 45), (5, 10), None, attached),
        old_booking(
            &conn,
            ada,
            range(at(16, 0), 45),
            (5, 10),
            Some(created() + Duration::hours(2)),
            attached,
        ),
        old_booking(
            &conn,
            ada,
            range(at(19, 0) + Duration::days(1), 45),
            (0, 0),
            None,
            attached,
        ),
    ];
    let grace = old_organizer(&conn, "grace", created());
    old_settings(
        &conn,
        grace,
        &OldSettings {
            time_zone: "Europe/London",
            slot_duration_secs: 180,
            slot_step_secs: None,
            buffer_before_secs: 0,
            buffer_after_secs: 0,
            min_notice_secs: 0,
            ..NY_WEEKDAYS
        },
    );
    let grace_upper = old_organizer(&conn, "GRACE", created() + Duration::minutes(1));
    let grace_upper_booking =
        old_booking(&conn, grace_upper, range(at(9, 0), 30), (0, 0), None, None);
    LevelTwo {
        ada,
        ada_bookings,
        grace,
        grace_upper,
        grace_upper_booking,
    }
}

fn service(store: impl BookingStore + 'static) -> BookingService {
    BookingService::new(store).with_clock(Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap(),
    )))
}

fn all() -> BookingQuery {
    BookingQuery {
        starts_within: None,
        cancelled_since: None,
        limit: 100,
        offset: 0,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_level_two_file_with_real_data_is_migrated_to_event_types() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("level2.db");
    let old = level_two_fixture(&path);
    let (store, before) = open_and_migrate(&path).await;
    assert_eq!(before, 2);
    let conn = raw(&path);
    assert_eq!(booking_sqlite::schema_level(&conn).unwrap(), SCHEMA_LEVEL);
    assert_eq!(
        count(
            &conn,
            "SELECT COUNT(*) FROM sqlite_schema WHERE name = 'organizer_settings'"
        ),
        0,
        "the settings table is gone"
    );
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");

    // Ada's settings are her default schedule and default event type, both
    // with her id, at configuration version 1: exactly what the testkit's
    // fixtures describe.
    let config = store.organizer_config(old.ada).await.unwrap().unwrap();
    assert_eq!(config.version, 1);
    assert_eq!(config.schedules, vec![schedule(old.ada)]);
    assert_eq!(config.event_types, vec![event_type(old.ada)]);

    // Read as settings, they are what the old row said.
    let sqlite_service = service(store.clone());
    let old_settings = OrganizerSettings::try_from(SettingsDraft {
        time_zone: Some(chrono_tz::America::New_York),
        weekly_hours: config.schedules[0].weekly_hours.clone(),
        date_overrides: config.schedules[0].date_overrides.clone(),
        slot_duration: Duration::minutes(45),
        slot_step: Some(Duration::minutes(15)),
        buffer_before: Duration::minutes(5),
        buffer_after: Duration::minutes(10),
        min_notice: Duration::hours(2),
        max_advance: Duration::days(90),
    })
    .unwrap();
    assert_eq!(sqlite_service.settings("ada").await.unwrap(), old_settings);

    // Every booking is attached to the default event type, field for field
    // as it was, cancelled ones included.
    for booking in &old.ada_bookings {
        assert_eq!(
            store.booking(booking.id).await.unwrap().as_ref(),
            Some(booking)
        );
    }
    assert_eq!(store.list_bookings(old.ada, all()).await.unwrap().total, 2);
    assert_eq!(
        count(
            &conn,
            "SELECT COUNT(*) FROM bookings WHERE event_type_slug <> 'default'"
        ),
        0
    );

    // Grace's 3-minute slots are carried over as they were, and served.
    let grace = store.organizer_config(old.grace).await.unwrap().unwrap();
    assert_eq!(grace.event_types[0].duration, Duration::minutes(3));
    let monday = TimeRange::new(at(0, 0), at(24, 0)).unwrap();
    let grace_slots = sqlite_service
        .available_slots(SlotQuery::new(old.grace, monday))
        .await
        .unwrap();
    assert_eq!(
        grace_slots.len(),
        60 + 220,
        "Monday 09:00-12:00 and 13:00-24:00 London in 3-minute slots"
    );

    // The legacy case-duplicates: both reachable by their exact spelling,
    // the first by any other; the one without settings has no
    // configuration; its booking kept its slug without an event type.
    let by_name = |name: &'static str| {
        let store = store.clone();
        async move { store.organizer_by_username(name).await.unwrap().unwrap().id }
    };
    assert_eq!(by_name("grace").await, old.grace);
    assert_eq!(by_name("GRACE").await, old.grace_upper);
    assert_eq!(by_name("Grace").await, old.grace, "the first registered");
    let upper = store
        .organizer_config(old.grace_upper)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            upper.version,
            upper.schedules.len(),
            upper.event_types.len()
        ),
        (0, 0, 0)
    );
    assert_eq!(
        store.booking(old.grace_upper_booking.id).await.unwrap(),
        Some(old.grace_upper_booking.clone())
    );
    let keys: Vec<String> = conn
        .prepare("SELECT username_key FROM organizers WHERE username IN ('grace', 'GRACE') ORDER BY created_at")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        keys,
        ["grace".to_owned(), format!("grace#{}", old.grace_upper)]
    );

    // A new case-duplicate is refused, in any spelling.
    for taken in ["Grace", "GRACE", "ADA"] {
        let refused = store
            .create_organizer(
                OrganizerId::generate(),
                NewOrganizer::new(taken, "x@example.com", "X", chrono_tz::UTC),
                TokenHash::of(&format!("new {taken}")),
                created(),
            )
            .await;
        assert!(
            matches!(&refused, Err(StoreError::UsernameTaken(name)) if name == taken),
            "{taken}: {refused:?}"
        );
    }

    // Slots through a BookingService are what the old settings and bookings
    // give: the same as the reference store configured by put_settings with
    // the old values and holding the same bookings.
    let ada = store.organizer_by_id(old.ada).await.unwrap().unwrap();
    let reference_store = reference_store_with(&ada).await;
    let reference = service(reference_store.clone());
    reference
        .put_settings(ada.id, SettingsDraft::from(old_settings))
        .await
        .unwrap();
    let reference_type = reference_store
        .organizer_config(ada.id)
        .await
        .unwrap()
        .unwrap()
        .event_types[0]
        .id;
    for booking in old.ada_bookings.iter().filter(|b| b.is_active()) {
        let mut new = new_booking(ada.id, booking.time, 0, 0);
        new.event_type_id = reference_type;
        new.buffer_before = booking.buffer_before;
        new.buffer_after = booking.buffer_after;
        reference_store.insert_booking(new).await.unwrap();
    }
    let week = TimeRange::new(at(0, 0), at(0, 0) + Duration::days(5)).unwrap();
    let migrated_slots = sqlite_service
        .available_slots(SlotQuery::new("ada", week))
        .await
        .unwrap();
    let reference_slots = reference
        .available_slots(SlotQuery::new("ada", week))
        .await
        .unwrap();
    assert_eq!(migrated_slots, reference_slots);
    // And by hand: 10:00 New York is taken (with its buffers, 09:55-10:55,
    // also 09:15 and 10:15), the cancelled 11:00 is free again.
    let starts: Vec<_> = migrated_slots.iter().map(TimeRange::start).collect();
    assert!(starts.contains(&at(14, 0)) && !starts.contains(&at(14, 15)));
    assert!(!starts.contains(&at(15, 0)) && !starts.contains(&at(15, 15)));
    assert!(starts.contains(&at(16, 0)), "the cancelled booking's time");
    // The window is Sunday 19:00 to Friday 19:00 New York. Monday to
    // Thursday, 09:00-12:00 and 13:00-24:00 give 10 + 42 starts; Friday
    // until 19:00, 10 + 24. Each booking removes the 7 starts whose occupied
    // time (with the event type's buffers) overlaps its own.
    assert_eq!(migrated_slots.len(), 4 * 52 + 34 - 7 - 7);

    // A new booking still conflicts with an old one: through the service
    // and at the store.
    let into_buffer = sqlite_service
        .create_booking(BookingRequest::new(
            "ada",
            range(at(15, 45), 45),
            Attendee::new("New", "new@example.com"),
        ))
        .await;
    assert!(
        matches!(into_buffer, Err(ServiceError::SlotUnavailable(_))),
        "{into_buffer:?}"
    );
    let mut raw_insert = new_booking(ada.id, range(at(15, 50), 10), 0, 0);
    raw_insert.event_type_id = default_event_type_of(ada.id);
    assert!(matches!(
        store.insert_booking(raw_insert).await,
        Err(StoreError::Conflict)
    ));
    let booked = sqlite_service
        .create_booking(BookingRequest::new(
            "ada",
            range(at(16, 0), 45),
            Attendee::new("New", "new@example.com"),
        ))
        .await
        .expect("the cancelled booking's slot is free");
    assert_eq!(booked.booking.event_type_slug.as_str(), "default");
    assert_eq!(
        booked.booking.event_type_id,
        Some(default_event_type_of(ada.id))
    );
}

/// Builds, at `path`, a file exactly as the first release left it: only
/// migration 0001 applied (`user_version` 1), with an organizer, settings, an
/// active booking with buffers and metadata, and a cancelled one, all written
/// in plain SQL as that release stored them.
fn level_one_fixture(path: &Path) -> (String, String, String) {
    let conn = old_file(path, 1);
    let organizer = OrganizerId::generate().to_string();
    let active = BookingId::generate().to_string();
    let cancelled = BookingId::generate().to_string();
    conn.execute(
        "INSERT INTO organizers VALUES (?1, 'ada', 'ada@example.com', 'Ada', 'Europe/London', ?2, ?3)",
        params![organizer, TokenHash::of("ada").to_hex(), us(at(0, 0))],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO organizer_settings VALUES (?1, 'America/New_York',
           '{\"monday\":[{\"start\":\"09:00\",\"end\":\"17:00\"}]}', '{\"2026-12-24\":[]}',
           2700, 900, 300, 600, 7200, 7776000)",
        params![organizer],
    )
    .unwrap();
    let insert = "INSERT INTO bookings (id, organizer_id, attendant_name, attendant_email, metadata, title,
           description, start_time, end_time, buffer_before_secs, buffer_after_secs, occupied_start, occupied_end,
           cancel_token_hash, created_at, updated_at, deleted_at)
         VALUES (?1, ?2, 'Grace', 'grace@example.com', ?3, 'Intro', ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)";
    conn.execute(
        insert,
        params![
            active,
            organizer,
            "{\"guests\":[\"b@example.com\"]}",
            "kept verbatim ' \" \\",
            us(at(10, 0)),
            us(at(11, 0)),
            300,
            600,
            us(at(9, 55)),
            us(at(11, 10)),
            TokenHash::of("cancel-1").to_hex(),
            us(at(1, 0)),
            us(at(1, 0)),
            None::<i64>,
        ],
    )
    .unwrap();
    conn.execute(
        insert,
        params![
            cancelled,
            organizer,
            None::<String>,
            None::<String>,
            us(at(14, 0)),
            us(at(15, 0)),
            0,
            0,
            us(at(14, 0)),
            us(at(15, 0)),
            TokenHash::of("cancel-2").to_hex(),
            us(at(1, 0)),
            us(at(2, 0)),
            Some(us(at(2, 0))),
        ],
    )
    .unwrap();
    (organizer, active, cancelled)
}

#[tokio::test]
async fn a_level_one_file_is_migrated_forward_without_loss() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    let (organizer, active, cancelled) = level_one_fixture(&path);
    let dump_before = dump(&raw(&path));
    assert_eq!(booking_sqlite::schema_level(&raw(&path)).unwrap(), 1);

    let (store, before) = open_and_migrate(&path).await;
    assert_eq!(before, 1, "1 -> 4 in one go");

    let conn = raw(&path);
    assert_eq!(booking_sqlite::schema_level(&conn).unwrap(), SCHEMA_LEVEL);
    assert_eq!(SCHEMA_LEVEL, 4);
    for index in [
        "bookings_active_occupied_start_idx",
        "bookings_active_start_idx",
        "bookings_event_type_start_idx",
    ] {
        assert_eq!(
            count(
                &conn,
                &format!(
                    "SELECT COUNT(*) FROM sqlite_schema WHERE type = 'index' AND name = '{index}'"
                )
            ),
            1,
            "{index} exists"
        );
    }
    assert_eq!(
        dump(&conn),
        dump_before,
        "every value of the old columns is byte for byte what it was, settings now in schedules and event types"
    );

    // And the store reads the old rows as domain values.
    let organizer_id: OrganizerId = organizer.parse().unwrap();
    let ada = store
        .organizer_by_username("ada")
        .await
        .unwrap()
        .expect("organizer kept");
    assert_eq!(
        (ada.id, ada.time_zone),
        (organizer_id, chrono_tz::Europe::London)
    );
    let settings = service(store.clone())
        .settings(organizer_id)
        .await
        .expect("settings kept as the default schedule and event type");
    assert_eq!(settings.slot_duration(), Duration::minutes(45));
    assert_eq!(settings.configured_slot_step(), Some(Duration::minutes(15)));
    assert_eq!(settings.max_advance(), Duration::days(90));
    assert_eq!(
        settings.date_overrides()[&NaiveDate::from_ymd_opt(2026, 12, 24).unwrap()],
        vec![]
    );
    let kept = store
        .booking(active.parse().unwrap())
        .await
        .unwrap()
        .expect("active booking kept");
    assert_eq!(kept.time, range(at(10, 0), 60));
    assert_eq!(
        kept.occupied(),
        TimeRange::new(at(9, 55), at(11, 10)).unwrap()
    );
    assert_eq!(kept.description.as_deref(), Some("kept verbatim ' \" \\"));
    assert_eq!(kept.metadata.unwrap()["guests"][0], "b@example.com");
    assert!(kept.cancel_token_hash.verify("cancel-1"));
    assert_eq!(
        kept.event_type_id,
        Some(default_event_type_of(organizer_id))
    );
    let gone = store
        .booking(cancelled.parse().unwrap())
        .await
        .unwrap()
        .expect("cancelled booking kept");
    assert_eq!(gone.deleted_at, Some(at(2, 0)));
    let page = store.list_bookings(organizer_id, all()).await.unwrap();
    assert_eq!((page.total, page.bookings.len()), (1, 1));

    // The old rows take part in the overlap check, through the new index.
    let mut into_buffer = new_booking(organizer_id, range(at(11, 5), 30), 0, 0);
    into_buffer.event_type_id = default_event_type_of(organizer_id);
    assert!(matches!(
        store.insert_booking(into_buffer).await,
        Err(StoreError::Conflict)
    ));
    let mut freed = new_booking(organizer_id, range(at(14, 0), 60), 0, 0);
    freed.event_type_id = default_event_type_of(organizer_id);
    store
        .insert_booking(freed)
        .await
        .expect("the cancelled booking's time is free");

    // Migrating again finds nothing left to do.
    drop(store);
    let (_, before) = open_and_migrate(&path).await;
    assert_eq!(before, SCHEMA_LEVEL);
}

/// The values of every level-1 column, as text, in a stable order; the
/// settings columns read from where level 3 and later keep them.
fn dump(conn: &Connection) -> Vec<String> {
    let settings = if count(
        conn,
        "SELECT COUNT(*) FROM sqlite_schema WHERE name = 'organizer_settings'",
    ) == 1
    {
        "SELECT organizer_id, time_zone, weekly_hours, date_overrides, slot_duration_secs, slot_step_secs,
           buffer_before_secs, buffer_after_secs, min_notice_secs, max_advance_secs
         FROM organizer_settings ORDER BY organizer_id"
    } else {
        "SELECT s.organizer_id, s.time_zone, s.weekly_hours, s.date_overrides, e.duration_secs, e.slot_step_secs,
           e.buffer_before_secs, e.buffer_after_secs, e.min_notice_secs, e.window_horizon_secs
         FROM schedules s JOIN event_types e ON e.organizer_id = s.organizer_id AND e.id = s.organizer_id
         WHERE s.id = s.organizer_id ORDER BY s.organizer_id"
    };
    let mut rows = Vec::new();
    for (table, query) in [
        (
            "organizers",
            "SELECT id, username, email, display_name, time_zone, api_token_hash, created_at
             FROM organizers ORDER BY id",
        ),
        ("settings", settings),
        (
            "bookings",
            "SELECT id, organizer_id, attendant_name, attendant_email, metadata, title, description, start_time,
               end_time, buffer_before_secs, buffer_after_secs, occupied_start, occupied_end, cancel_token_hash,
               created_at, updated_at, deleted_at
             FROM bookings ORDER BY id",
        ),
    ] {
        let mut stmt = conn.prepare(query).unwrap();
        let columns = stmt.column_count();
        let mut query = stmt.query([]).unwrap();
        while let Some(row) = query.next().unwrap() {
            let values: Vec<String> = (0..columns)
                .map(|i| format!("{:?}", row.get_ref(i).unwrap()))
                .collect();
            rows.push(format!("{table}: {}", values.join(" | ")));
        }
    }
    rows
}

/// A level-2 file holding what no release wrote (a booking occupying more
/// than 72 hours, a booking of an organizer that does not exist) is not
/// migrated: the upgrade fails whole, naming the reason, and the file stays
/// at level 2 with every table as it was.
#[tokio::test]
async fn a_file_breaking_the_new_guarantees_is_left_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    for (name, breakage, expected) in [
        (
            "too-long.db",
            "UPDATE bookings SET occupied_end = occupied_start + 72 * 3600000000 + 1",
            "occupied_at_most_72_hours",
        ),
        (
            "dangling.db",
            "PRAGMA foreign_keys = OFF; UPDATE bookings SET organizer_id = 'nobody'",
            "foreign key points nowhere (first: table bookings",
        ),
    ] {
        let path = dir.path().join(name);
        let conn = old_file(&path, 2);
        let ada = old_organizer(&conn, "ada", created());
        old_settings(&conn, ada, &NY_WEEKDAYS);
        old_booking(&conn, ada, range(at(15, 0), 45), (5, 10), None, None);
        conn.execute_batch(breakage).unwrap();
        let dump_before = dump(&conn);
        drop(conn);

        let store = SqliteStore::open(&path, SqliteOptions::default())
            .await
            .unwrap();
        let refused = store.migrate().await.unwrap_err();
        assert!(refused.to_string().contains(expected), "{name}: {refused}");
        if name == "dangling.db" {
            assert!(matches!(
                refused,
                Error::ForeignKeyViolation { count: 1, .. }
            ));
        }
        let conn = raw(&path);
        assert_eq!(booking_sqlite::schema_level(&conn).unwrap(), 2);
        assert_eq!(dump(&conn), dump_before, "{name}: nothing changed");
    }
}

/// `migrate` on a caller's connection switches foreign key enforcement off
/// for the upgrade only, and gives the connection back as it was.
#[test]
fn migrate_restores_the_connections_foreign_key_setting() {
    for enforced in [true, false] {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "foreign_keys", enforced).unwrap();
        assert_eq!(booking_sqlite::migrate(&mut conn).unwrap(), 0);
        let now: bool = conn
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .unwrap();
        assert_eq!(now, enforced);
    }
}
