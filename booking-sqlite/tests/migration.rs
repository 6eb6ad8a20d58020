//! A database file left at an older schema level is migrated forward on
//! open without losing or changing anything.

mod common;

use booking_core::booking::{BookingId, NewBooking};
use booking_core::organizer::OrganizerId;
use booking_core::secret::TokenHash;
use booking_core::store::{BookingQuery, BookingStore, StoreError};
use booking_core::testkit::fixtures::{at, new_booking, range};
use booking_core::time::TimeRange;
use booking_sqlite::rusqlite::{Connection, params};
use booking_sqlite::{MIGRATIONS, SCHEMA_LEVEL, SqliteStore};
use chrono::Duration;
use common::{count, raw};

/// Builds, at `path`, a file exactly as the first release left it: only
/// migration 0001 applied (`user_version` 1), with an organizer, settings, an
/// active booking with buffers and metadata, and a cancelled one, all written
/// in plain SQL as that release stored them.
fn level_one_fixture(path: &std::path::Path) -> (String, String, String) {
    let conn = Connection::open(path).unwrap();
    conn.execute_batch(MIGRATIONS[0].sql).unwrap();
    conn.pragma_update(None, "user_version", 1).unwrap();
    let organizer = OrganizerId::generate().to_string();
    let active = BookingId::generate().to_string();
    let cancelled = BookingId::generate().to_string();
    let us = |t: chrono::DateTime<chrono::Utc>| t.timestamp_micros();
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

    let store = SqliteStore::open(&path)
        .await
        .expect("open migrates the old file");

    let conn = raw(&path);
    assert_eq!(booking_sqlite::schema_level(&conn).unwrap(), SCHEMA_LEVEL);
    assert_eq!(SCHEMA_LEVEL, 2);
    for index in ["bookings_active_occupied_idx", "bookings_active_start_idx"] {
        assert_eq!(
            count(
                &conn,
                &format!(
                    "SELECT COUNT(*) FROM sqlite_schema WHERE type = 'index' AND name = '{index}'"
                )
            ),
            1,
            "migration 0002 created {index}"
        );
    }
    assert_eq!(
        dump(&conn),
        dump_before,
        "every row is byte for byte what it was"
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
    let settings = store
        .settings(organizer_id)
        .await
        .unwrap()
        .expect("settings kept");
    assert_eq!(settings.slot_duration(), Duration::minutes(45));
    assert_eq!(settings.configured_slot_step(), Some(Duration::minutes(15)));
    assert_eq!(
        settings.hours_on(chrono::NaiveDate::from_ymd_opt(2026, 12, 24).unwrap()),
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
    let gone = store
        .booking(cancelled.parse().unwrap())
        .await
        .unwrap()
        .expect("cancelled booking kept");
    assert_eq!(gone.deleted_at, Some(at(2, 0)));
    let page = store
        .list_bookings(
            organizer_id,
            BookingQuery {
                starts_within: None,
                limit: 10,
                offset: 0,
            },
        )
        .await
        .unwrap();
    assert_eq!((page.total, page.bookings.len()), (1, 1));

    // The old rows take part in the overlap check, through the new index.
    let into_buffer: NewBooking = new_booking(organizer_id, range(at(11, 5), 30), 0, 0);
    assert!(matches!(
        store.insert_booking(into_buffer).await,
        Err(StoreError::Conflict)
    ));
    store
        .insert_booking(new_booking(organizer_id, range(at(14, 0), 60), 0, 0))
        .await
        .expect("the cancelled booking's time is free");

    // Opening again finds nothing left to do.
    drop(store);
    SqliteStore::open(&path).await.unwrap();
    assert_eq!(
        booking_sqlite::schema_level(&raw(&path)).unwrap(),
        SCHEMA_LEVEL
    );
}

/// Every row of the three tables, as text, in a stable order.
fn dump(conn: &Connection) -> Vec<String> {
    let mut rows = Vec::new();
    for table in ["organizers", "organizer_settings", "bookings"] {
        let mut stmt = conn
            .prepare(&format!("SELECT * FROM {table} ORDER BY rowid"))
            .unwrap();
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
