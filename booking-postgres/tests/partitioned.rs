//! The partitioned layout itself (`migrate_with` and
//! `MigrateOptions::partitions`): every partition carries the exclusion
//! constraint, one organizer's rows live in one partition, no move across
//! partitions can make an overlap, an existing database with data is
//! converted (or, without the option, left as it is), and both layouts have
//! the same columns, checks, keys and indexes but for the documented
//! differences. The whole conformance and concurrency suites run on this
//! layout too (`tests/*_partitioned.rs`).

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use booking_core::booking::{Booking, BookingId};
use booking_core::hold::NewHold;
use booking_core::idempotency::{ClaimOutcome, IdempotencyCompletion};
use booking_core::organizer::OrganizerId;
use booking_core::store::{BookingStore, Cancellation, StoreError};
use booking_core::testkit::fixtures::{at, created, new_booking, new_hold, range};
use booking_postgres::constraints::is_no_overlap;
use booking_postgres::{Error, Layout, MigrateOptions, PostgresStore};
use chrono::Duration;
use common::{TestDb, organizer, refusal};
use sqlx::{AssertSqlSafe, PgPool};

fn partitions(n: u16) -> MigrateOptions {
    MigrateOptions::default().partitions(n)
}

/// The partitions of `table` in the test's schema, by name.
async fn partitions_of(pool: &PgPool, table: &str) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid \
         WHERE i.inhparent = $1::regclass ORDER BY c.relname",
    )
    .bind(table)
    .fetch_all(pool)
    .await
    .unwrap()
}

/// `(name, kind, definition)` of every constraint of `table`.
async fn constraints_of(pool: &PgPool, table: &str) -> Vec<(String, String, String)> {
    sqlx::query_as(
        "SELECT conname::text, contype::text, pg_get_constraintdef(oid) FROM pg_constraint \
         WHERE conrelid = $1::regclass ORDER BY conname",
    )
    .bind(table)
    .fetch_all(pool)
    .await
    .unwrap()
}

/// The partition that holds booking (or hold) `id`.
async fn partition_of(pool: &PgPool, id: &str) -> String {
    sqlx::query_scalar("SELECT tableoid::regclass::text FROM bookings WHERE id = $1")
        .bind(id)
        .fetch_one(pool)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_partition_carries_the_exclusion_constraint() {
    let db = TestDb::with_options(4, partitions(8)).await;
    assert_eq!(
        db.store.layout().await.unwrap(),
        Some(Layout::HashPartitioned { partitions: 8 })
    );

    let bookings = partitions_of(&db.pool, "bookings").await;
    assert_eq!(
        bookings,
        (0..8).map(|i| format!("bookings_p{i}")).collect::<Vec<_>>()
    );
    for partition in &bookings {
        let exclusions: Vec<_> = constraints_of(&db.pool, partition)
            .await
            .into_iter()
            .filter(|(_, kind, _)| kind == "x")
            .collect();
        assert_eq!(exclusions.len(), 1, "{partition}: {exclusions:?}");
        let (name, _, definition) = &exclusions[0];
        assert_eq!(name, &format!("{partition}_no_overlap"));
        assert!(is_no_overlap(name), "{name}");
        assert_eq!(
            definition,
            "EXCLUDE USING gist (organizer_id WITH =, \
             tstzrange(occupied_start, occupied_end, '[)'::text) WITH &&) \
             WHERE ((deleted_at IS NULL))"
        );
        // The partition's bounds: a hash of organizer_id.
        let bound: String = sqlx::query_scalar(
            "SELECT pg_get_expr(relpartbound, oid) FROM pg_class WHERE oid = $1::regclass",
        )
        .bind(partition)
        .fetch_one(&db.pool)
        .await
        .unwrap();
        assert!(
            bound.starts_with("FOR VALUES WITH (modulus 8, remainder "),
            "{bound}"
        );
    }
    let keys = partitions_of(&db.pool, "idempotency_keys").await;
    assert_eq!(keys.len(), 8, "{keys:?}");

    // The parent cannot carry it (PostgreSQL 15); its key includes the
    // partition key; everything else is declared on it.
    let parent = constraints_of(&db.pool, "bookings").await;
    assert!(parent.iter().all(|(_, kind, _)| kind != "x"), "{parent:?}");
    let has =
        |name: &str, definition: &str| parent.iter().any(|(n, _, d)| n == name && d == definition);
    assert!(
        has("bookings_pkey", "PRIMARY KEY (organizer_id, id)"),
        "{parent:?}"
    );
    assert!(
        has(
            "bookings_event_type_fkey",
            "FOREIGN KEY (organizer_id, event_type_id) REFERENCES event_types(organizer_id, id) \
             ON DELETE SET NULL (event_type_id)"
        ),
        "{parent:?}"
    );
    let strategy: String = sqlx::query_scalar(
        "SELECT partstrat::text || ':' || pg_get_partkeydef(partrelid) FROM pg_partitioned_table \
         WHERE partrelid = 'bookings'::regclass",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(strategy, "h:HASH (organizer_id)");

    // The database refuses an overlap written by hand, in the partition.
    let ada = organizer(&db.store, "ada").await;
    db.store
        .insert_booking(new_booking(ada.id, range(at(10, 0), 60), 0, 0))
        .await
        .unwrap();
    let (code, constraint) = refusal(
        sqlx::query(
            "INSERT INTO bookings (id, organizer_id, attendant_name, attendant_email, title, \
                event_type_slug, start_time, end_time, occupied_start, occupied_end, \
                cancel_token_hash) \
             VALUES ('by-hand', $1, 'x', 'x@example.com', 't', 'default', $2, $3, $2, $3, 'h')",
        )
        .bind(ada.id.to_string())
        .bind(at(10, 30))
        .bind(at(11, 30))
        .execute(&db.pool)
        .await,
    );
    assert_eq!(code, "23P01");
    assert!(is_no_overlap(&constraint), "{constraint}");
    assert!(constraint.starts_with("bookings_p"), "{constraint}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_partition_count_is_checked_and_kept() {
    let db = TestDb::with_options(4, partitions(4)).await;
    // Again with the same number: nothing to do.
    db.store.migrate_with(partitions(4)).await.unwrap();
    // Without the option: the layout stays.
    db.store.migrate().await.unwrap();
    db.store
        .migrate_with(MigrateOptions::default())
        .await
        .unwrap();
    assert_eq!(
        db.store.layout().await.unwrap(),
        Some(Layout::HashPartitioned { partitions: 4 })
    );
    // Another number is refused, and changes nothing.
    match db.store.migrate_with(partitions(8)).await {
        Err(Error::PartitionCountMismatch {
            table,
            found: 4,
            requested: 8,
        }) => assert_eq!(table, "bookings"),
        other => panic!("expected a count mismatch, got {other:?}"),
    }
    assert_eq!(partitions_of(&db.pool, "bookings").await.len(), 4);
    for bad in [0, booking_postgres::MAX_PARTITIONS + 1] {
        assert!(matches!(
            db.store.migrate_with(partitions(bad)).await,
            Err(Error::InvalidPartitions { partitions }) if partitions == bad
        ));
    }

    // The default layout of a fresh schema is one table each.
    let single = TestDb::new().await;
    assert_eq!(single.store.layout().await.unwrap(), Some(Layout::Single));
    let unmigrated = TestDb::unmigrated(2).await;
    assert_eq!(unmigrated.store.layout().await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread")]
async fn one_organizers_rows_all_live_in_one_partition() {
    let db = TestDb::with_options(8, partitions(8)).await;
    let store: &dyn BookingStore = &db.store;
    for n in 0..24 {
        let who = organizer(store, &format!("user{n}")).await;
        for slot in 0..4 {
            store
                .insert_booking(new_booking(who.id, range(at(9 + slot, 0), 30), 5, 5))
                .await
                .unwrap();
        }
        let hold = new_hold(
            who.id,
            range(at(15, 0), 30),
            0,
            0,
            created() + Duration::minutes(5),
            Some("203.0.113.9"),
        );
        store
            .insert_hold(NewHold {
                hold,
                limits: Vec::new(),
                max_per_client: 3,
            })
            .await
            .unwrap();
        let claim = common::claim_of(who.id, "key");
        assert_eq!(
            store.claim_idempotency_key(&claim).await.unwrap(),
            ClaimOutcome::Claimed
        );
    }
    for table in ["bookings", "idempotency_keys"] {
        let spread: Vec<(String, i64)> = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT organizer_id, count(DISTINCT tableoid) FROM {table} GROUP BY organizer_id"
        )))
        .fetch_all(&db.pool)
        .await
        .unwrap();
        assert_eq!(spread.len(), 24, "{table}");
        assert!(
            spread.iter().all(|(_, partitions)| *partitions == 1),
            "{table}: an organizer's rows in several partitions: {spread:?}"
        );
        let used: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT count(DISTINCT tableoid) FROM {table}"
        )))
        .fetch_one(&db.pool)
        .await
        .unwrap();
        assert!(
            used > 1,
            "{table}: 24 organizers spread over the partitions"
        );
    }
    // The parent holds no rows of its own.
    let in_parent: i64 = sqlx::query_scalar("SELECT count(*) FROM ONLY bookings")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(in_parent, 0);
}

/// Two organizers whose rows live in different partitions, each with a
/// booking of 10:00-11:00.
async fn neighbours_in_two_partitions(db: &TestDb) -> (Booking, Booking) {
    let ada = organizer(&db.store, "ada").await;
    let first = db
        .store
        .insert_booking(new_booking(ada.id, range(at(10, 0), 60), 0, 0))
        .await
        .unwrap();
    let home = partition_of(&db.pool, &first.id.to_string()).await;
    for n in 0..64 {
        let other = organizer(&db.store, &format!("other{n}")).await;
        let second = db
            .store
            .insert_booking(new_booking(other.id, range(at(10, 0), 60), 0, 0))
            .await
            .unwrap();
        if partition_of(&db.pool, &second.id.to_string()).await != home {
            return (first, second);
        }
    }
    panic!("64 organizers all hashed into ada's partition");
}

/// Moves booking `id` to `organizer` by hand (the store never changes a
/// booking's organizer); its event type goes, since the foreign key names
/// the organizer too.
async fn move_to_organizer(
    pool: &PgPool,
    id: BookingId,
    organizer: OrganizerId,
) -> Result<sqlx::postgres::PgQueryResult, sqlx::Error> {
    sqlx::query("UPDATE bookings SET organizer_id = $2, event_type_id = NULL WHERE id = $1")
        .bind(id.to_string())
        .bind(organizer.to_string())
        .execute(pool)
        .await
}

#[tokio::test(flavor = "multi_thread")]
async fn no_move_across_partitions_makes_an_overlap() {
    let db = TestDb::with_options(8, partitions(8)).await;
    let (ada_booking, other_booking) = neighbours_in_two_partitions(&db).await;
    let (ada_home, other_home) = (
        partition_of(&db.pool, &ada_booking.id.to_string()).await,
        partition_of(&db.pool, &other_booking.id.to_string()).await,
    );

    // Onto the other organizer's booking: the target partition refuses it.
    let (code, constraint) =
        refusal(move_to_organizer(&db.pool, ada_booking.id, other_booking.organizer_id).await);
    assert_eq!(code, "23P01");
    assert_eq!(constraint, format!("{other_home}_no_overlap"));
    assert_eq!(
        partition_of(&db.pool, &ada_booking.id.to_string()).await,
        ada_home
    );

    // Once the way is free, the row moves to its new organizer's partition,
    // whose constraint then keeps it apart from that organizer's bookings.
    db.store
        .cancel_booking(Cancellation::new(
            other_booking.id,
            other_booking.organizer_id,
            created(),
        ))
        .await
        .unwrap();
    move_to_organizer(&db.pool, ada_booking.id, other_booking.organizer_id)
        .await
        .unwrap();
    assert_eq!(
        partition_of(&db.pool, &ada_booking.id.to_string()).await,
        other_home
    );
    let refused = db
        .store
        .insert_booking(new_booking(
            other_booking.organizer_id,
            range(at(10, 30), 60),
            0,
            0,
        ))
        .await;
    assert!(matches!(refused, Err(StoreError::Conflict)), "{refused:?}");
    assert_eq!(common::overlapping_active_pairs(&db.pool).await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn moves_across_partitions_racing_inserts_never_overlap() {
    let db = TestDb::with_options(8, partitions(8)).await;
    let (ada_booking, other_booking) = neighbours_in_two_partitions(&db).await;
    let other = other_booking.organizer_id;
    db.store
        .cancel_booking(Cancellation::new(
            other_booking.id,
            other_booking.organizer_id,
            created(),
        ))
        .await
        .unwrap();
    let store: Arc<dyn BookingStore> = Arc::new(db.store.clone());
    // Ada's bookings at 12 different hours; for each, the other organizer
    // tries to book the same hour while the row is moved over to them.
    let mut movers = Vec::new();
    for hour in 0..12 {
        let ada_id = ada_booking.organizer_id;
        let moving = store
            .insert_booking(new_booking(
                ada_id,
                range(at(10, 0) + Duration::days(1 + hour), 60),
                0,
                0,
            ))
            .await
            .unwrap();
        let pool = db.pool.clone();
        let store = Arc::clone(&store);
        let time = moving.time;
        movers.push(tokio::spawn(async move {
            let insert =
                tokio::spawn(
                    async move { store.insert_booking(new_booking(other, time, 0, 0)).await },
                );
            let moved = move_to_organizer(&pool, moving.id, other).await;
            (moved.is_ok(), insert.await.unwrap())
        }));
    }
    for mover in movers {
        let (moved, inserted) = mover.await.unwrap();
        match inserted {
            Ok(_) => assert!(!moved, "both the move and the insert took the hour"),
            Err(StoreError::Conflict) => assert!(moved, "the insert lost to nothing"),
            Err(other) => panic!("unexpected refusal {other:?}"),
        }
    }
    assert_eq!(common::overlapping_active_pairs(&db.pool).await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_existing_database_with_data_is_converted() {
    let db = TestDb::new().await;
    let store: &dyn BookingStore = &db.store;
    let ada = organizer(store, "ada").await;
    let bob = organizer(store, "bob").await;
    let kept = store
        .insert_booking(new_booking(ada.id, range(at(9, 0), 30), 5, 10))
        .await
        .unwrap();
    let cancelled = store
        .insert_booking(new_booking(ada.id, range(at(11, 0), 30), 0, 0))
        .await
        .unwrap();
    store
        .cancel_booking(Cancellation::new(
            cancelled.id,
            cancelled.organizer_id,
            created(),
        ))
        .await
        .unwrap();
    let bobs = store
        .insert_booking(new_booking(bob.id, range(at(9, 0), 30), 0, 0))
        .await
        .unwrap();
    let hold = new_hold(
        ada.id,
        range(at(14, 0), 30),
        0,
        0,
        created() + Duration::minutes(5),
        None,
    );
    let hold_token = hold.token_hash;
    store
        .insert_hold(NewHold {
            hold,
            limits: Vec::new(),
            max_per_client: 3,
        })
        .await
        .unwrap();
    let claim = common::claim_of(ada.id, "converted");
    assert_eq!(
        store.claim_idempotency_key(&claim).await.unwrap(),
        ClaimOutcome::Claimed
    );
    store
        .complete_idempotency_key(&IdempotencyCompletion {
            scope: claim.scope.clone(),
            outcome: "the outcome".into(),
        })
        .await
        .unwrap();
    let rows_before = common::booking_rows(&db.pool).await;

    // Migrating without the option keeps the database as it is.
    db.store.migrate().await.unwrap();
    assert_eq!(db.store.layout().await.unwrap(), Some(Layout::Single));

    // A second store of another pool (another process) keeps serving
    // across the conversion: no statement differs between the layouts.
    let other_pool = common::pool_for(&db.schema, 2, "bk-partition-other").await;
    let other = PostgresStore::from_pool(other_pool);
    assert!(other.booking(kept.id).await.unwrap().is_some());

    db.store.migrate_with(partitions(4)).await.unwrap();
    assert_eq!(
        db.store.layout().await.unwrap(),
        Some(Layout::HashPartitioned { partitions: 4 })
    );
    assert_eq!(common::booking_rows(&db.pool).await, rows_before);
    let leftovers: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = $1 AND c.relname LIKE '%unpartitioned%'",
    )
    .bind(&db.schema)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(leftovers, 0, "the old tables and indexes are gone");

    for store in [&db.store, &other] {
        assert_eq!(store.booking(kept.id).await.unwrap().as_ref(), Some(&kept));
        assert_eq!(store.booking(bobs.id).await.unwrap().as_ref(), Some(&bobs));
        let gone = store.booking(cancelled.id).await.unwrap().unwrap();
        assert!(gone.deleted_at.is_some());
        assert!(
            store
                .hold_by_token_hash(&hold_token)
                .await
                .unwrap()
                .is_some()
        );
        assert_eq!(
            store.claim_idempotency_key(&claim).await.unwrap(),
            ClaimOutcome::Done("the outcome".into())
        );
    }
    // The guarantee holds on the converted data: the kept booking (with its
    // buffers) and the hold still refuse overlaps; the cancelled one's time
    // is free.
    for (time, refused) in [
        (range(at(9, 30), 30), true),
        (range(at(14, 15), 30), true),
        (range(at(11, 0), 30), false),
    ] {
        let result = other.insert_booking(new_booking(ada.id, time, 0, 0)).await;
        assert_eq!(
            matches!(result, Err(StoreError::Conflict)),
            refused,
            "{time:?}: {result:?}"
        );
    }
    assert_eq!(common::overlapping_active_pairs(&db.pool).await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_duplicate_id_is_reported_as_such_in_both_layouts() {
    for options in [MigrateOptions::default(), partitions(8)] {
        let db = TestDb::with_options(4, options.clone()).await;
        let ada = organizer(&db.store, "ada").await;
        let first = new_booking(ada.id, range(at(9, 0), 30), 0, 0);
        db.store.insert_booking(first.clone()).await.unwrap();
        // The same booking again overlaps itself: a taken slot first.
        assert!(matches!(
            db.store.insert_booking(first.clone()).await,
            Err(StoreError::Conflict)
        ));
        // Its id at another time: the key refuses it, and says so.
        let mut again = new_booking(ada.id, range(at(12, 0), 30), 0, 0);
        again.id = first.id;
        let result = db.store.insert_booking(again).await;
        assert!(
            matches!(&result, Err(StoreError::Corrupt(message)) if message.contains("already exists")),
            "{options:?}: {result:?}"
        );
        assert_eq!(common::booking_rows(&db.pool).await, 1);
    }
}

/// `(kind, definition)` of the indexes and constraints of `table`, with the
/// schema's and index's names left out and `ON ONLY` (a partitioned
/// table's indexes) read as `ON`.
async fn shape_of(db: &TestDb, table: &str) -> BTreeSet<String> {
    let mut shape = BTreeSet::new();
    let indexes: Vec<(String, String)> = sqlx::query_as(
        "SELECT indexname::text, indexdef FROM pg_indexes WHERE schemaname = $1 AND tablename = $2",
    )
    .bind(&db.schema)
    .bind(table)
    .fetch_all(&db.pool)
    .await
    .unwrap();
    for (name, definition) in indexes {
        let definition = definition
            .replace(&format!("{}.", db.schema), "")
            .replace(&format!("\"{}\".", db.schema), "")
            .replace(" ON ONLY ", " ON ")
            .replace(&format!("INDEX {name} "), "INDEX ");
        shape.insert(format!("index {name}: {definition}"));
    }
    for (name, kind, definition) in constraints_of(&db.pool, table).await {
        shape.insert(format!("constraint {name} ({kind}): {definition}"));
    }
    let columns: Vec<(String, String, bool, Option<String>)> = sqlx::query_as(
        "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod), a.attnotnull, \
             pg_get_expr(d.adbin, d.adrelid) \
         FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
         WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
    )
    .bind(table)
    .fetch_all(&db.pool)
    .await
    .unwrap();
    for (position, (name, kind, not_null, default)) in columns.into_iter().enumerate() {
        shape.insert(format!(
            "column {position} {name} {kind} not null {not_null} default {default:?}"
        ));
    }
    shape
}

#[tokio::test(flavor = "multi_thread")]
async fn both_layouts_have_the_same_columns_checks_keys_and_indexes() {
    let single = TestDb::new().await;
    let partitioned = TestDb::with_options(4, partitions(3)).await;
    for table in ["bookings", "idempotency_keys"] {
        let plain = shape_of(&single, table).await;
        let parted = shape_of(&partitioned, table).await;
        let only_plain: Vec<_> = plain.difference(&parted).cloned().collect();
        let only_parted: Vec<_> = parted.difference(&plain).cloned().collect();
        if table == "bookings" {
            // The documented differences: the key includes the partition
            // key, ids have an index of their own, and the exclusion
            // constraint lives on the partitions.
            assert_eq!(
                only_plain,
                [
                    "constraint bookings_no_overlap (x): EXCLUDE USING gist (organizer_id WITH =, \
                     tstzrange(occupied_start, occupied_end, '[)'::text) WITH &&) \
                     WHERE ((deleted_at IS NULL))",
                    "constraint bookings_pkey (p): PRIMARY KEY (id)",
                    "index bookings_no_overlap: CREATE INDEX ON bookings USING gist (organizer_id, \
                     tstzrange(occupied_start, occupied_end, '[)'::text)) WHERE (deleted_at IS NULL)",
                    "index bookings_pkey: CREATE UNIQUE INDEX ON bookings USING btree (id)",
                ],
                "{only_parted:#?}"
            );
            assert_eq!(
                only_parted,
                [
                    "constraint bookings_pkey (p): PRIMARY KEY (organizer_id, id)",
                    "index bookings_id_idx: CREATE INDEX ON bookings USING btree (id)",
                    "index bookings_pkey: CREATE UNIQUE INDEX ON bookings USING btree (organizer_id, id)",
                ],
            );
        } else {
            assert!(
                only_plain.is_empty() && only_parted.is_empty(),
                "{table}: single only {only_plain:#?}, partitioned only {only_parted:#?}"
            );
        }
    }
    // Comments come along (the attendee's columns explain their names).
    let comment: Option<String> = sqlx::query_scalar(
        "SELECT col_description('bookings'::regclass, \
             (SELECT attnum FROM pg_attribute WHERE attrelid = 'bookings'::regclass \
                AND attname = 'attendant_name'))",
    )
    .fetch_one(&partitioned.pool)
    .await
    .unwrap();
    assert!(comment.is_some_and(|c| c.contains("attendee")));
}

#[tokio::test(flavor = "multi_thread")]
async fn bookings_keep_working_while_the_tables_are_converted() {
    let db = TestDb::new().await;
    // Another process's store, with its statements prepared on the old
    // tables before the conversion.
    let other_pool = common::pool_for(&db.schema, 8, "bk-partition-writers").await;
    let other = PostgresStore::from_pool(other_pool);
    let mut organizers = Vec::new();
    for n in 0..8 {
        let who = organizer(&db.store, &format!("writer{n}")).await;
        other
            .insert_booking(new_booking(who.id, range(at(8, 0), 30), 0, 0))
            .await
            .unwrap();
        organizers.push(who.id);
    }
    // Each writer books slot after slot from before the conversion starts
    // until a few bookings after it committed.
    let converted = Arc::new(AtomicBool::new(false));
    let started = Arc::new(AtomicUsize::new(0));
    let writers: Vec<_> = organizers
        .iter()
        .map(|&who| {
            let store = other.clone();
            let (converted, started) = (Arc::clone(&converted), Arc::clone(&started));
            tokio::spawn(async move {
                let (mut booked, mut after) = (0, 0);
                for slot in 0.. {
                    let time = range(at(9, 0) + Duration::minutes(30 * slot), 30);
                    let done_before = converted.load(Ordering::SeqCst);
                    store
                        .insert_booking(new_booking(who, time, 0, 0))
                        .await
                        .unwrap_or_else(|e| panic!("booking {slot} around the conversion: {e}"));
                    let back = store
                        .occupied_intervals(who, time, created())
                        .await
                        .unwrap();
                    assert_eq!(back, [time]);
                    booked += 1;
                    if slot == 0 {
                        started.fetch_add(1, Ordering::SeqCst);
                    }
                    if done_before {
                        after += 1;
                        if after == 5 {
                            break;
                        }
                    }
                }
                booked
            })
        })
        .collect();
    while started.load(Ordering::SeqCst) < organizers.len() {
        tokio::task::yield_now().await;
    }
    db.store.migrate_with(partitions(8)).await.unwrap();
    converted.store(true, Ordering::SeqCst);
    let mut total = 8;
    for writer in writers {
        total += writer.await.unwrap();
    }
    assert_eq!(
        db.store.layout().await.unwrap(),
        Some(Layout::HashPartitioned { partitions: 8 })
    );
    assert_eq!(common::booking_rows(&db.pool).await, total);
    assert_eq!(common::overlapping_active_pairs(&db.pool).await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn processes_migrating_at_once_convert_once() {
    let db = TestDb::unmigrated(2).await;
    let mut stores = Vec::new();
    for n in 0..4 {
        let pool = common::pool_for(&db.schema, 2, &format!("bk-partition-migrate-{n}")).await;
        stores.push(PostgresStore::from_pool(pool));
    }
    // At once, each on its own connections (joined rather than spawned:
    // sqlx's migrator future is not `Send`).
    let results = tokio::join!(
        stores[0].migrate_with(partitions(6)),
        stores[1].migrate_with(partitions(6)),
        stores[2].migrate_with(partitions(6)),
        stores[3].migrate_with(partitions(6)),
    );
    for result in [results.0, results.1, results.2, results.3] {
        result.unwrap();
    }
    assert_eq!(
        db.store.layout().await.unwrap(),
        Some(Layout::HashPartitioned { partitions: 6 })
    );
    for table in ["bookings", "idempotency_keys"] {
        assert_eq!(partitions_of(&db.pool, table).await.len(), 6, "{table}");
    }
    let ada = organizer(&db.store, "ada").await;
    db.store
        .insert_booking(new_booking(ada.id, range(at(9, 0), 30), 0, 0))
        .await
        .unwrap();
}
