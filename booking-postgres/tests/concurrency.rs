//! Races against a real PostgreSQL: many tasks over a pool of several
//! connections, several pools (each store with its own batch queue, so
//! batch statements race each other), and two separate OS processes,
//! booking the same and overlapping slots, and the last place of a limited
//! day, at once.
//! The exclusion constraint must leave exactly one winner per contested
//! interval and the limit exactly its maximum; every loser must be a plain
//! `Conflict` or `LimitReached` (never a deadlock or other error), and SQL
//! queries over the table must find zero overlapping active pairs and the
//! limit's count afterwards.

mod common;

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration as StdDuration;

use booking_core::booking::{LimitCheck, NewBooking};
use booking_core::event_type::{BookingLimits, EventType, EventTypeId, LimitPeriod};
use booking_core::organizer::OrganizerId;
use booking_core::store::{BookingStore, Cancellation, ConfigChange};
use booking_core::testkit::fixtures::{
    at, default_event_type_id, event_type, new_booking, race_inserts, range,
};
use booking_core::time::TimeRange;
use booking_postgres::PostgresStore;
use chrono::{DateTime, Duration, Utc};
use common::{TestDb, organizer};

const TASKS: usize = 64;
const POOL_SIZE: u32 = 8;

/// Runs all `bookings` at once (released together by a barrier), the n-th
/// through `stores[n % stores.len()]`, and returns each one's organizer,
/// occupied interval and whether it won. Any outcome other than success,
/// `Conflict` or `LimitReached` fails the test.
async fn race(
    stores: &[PostgresStore],
    bookings: Vec<NewBooking>,
) -> Vec<(OrganizerId, TimeRange, bool)> {
    let stores: Vec<Arc<dyn BookingStore>> = stores
        .iter()
        .map(|store| Arc::new(store.clone()) as Arc<dyn BookingStore>)
        .collect();
    let attempts = bookings
        .into_iter()
        .enumerate()
        .map(|(n, booking)| {
            let key = (booking.organizer_id, booking.occupied());
            (key, Arc::clone(&stores[n % stores.len()]), booking)
        })
        .collect();
    race_inserts(attempts)
        .await
        .into_iter()
        .map(|((organizer, occupied), won)| (organizer, occupied, won))
        .collect()
}

/// Winners never overlap, and every loser overlaps some winner (it lost to
/// a real booking, not to a spurious failure).
fn check_outcomes(outcomes: &[(OrganizerId, TimeRange, bool)]) -> usize {
    let winners: Vec<_> = outcomes.iter().filter(|o| o.2).collect();
    for (i, a) in winners.iter().enumerate() {
        for b in &winners[i + 1..] {
            assert!(
                a.0 != b.0 || !a.1.overlaps(&b.1),
                "double booking: {} and {}",
                a.1,
                b.1
            );
        }
    }
    for loser in outcomes.iter().filter(|o| !o.2) {
        assert!(
            winners
                .iter()
                .any(|w| w.0 == loser.0 && w.1.overlaps(&loser.1)),
            "{} was refused but overlaps no winner",
            loser.1
        );
    }
    winners.len()
}

/// [`TASKS`] bookings on day `day` after Monday 7 December 2026, one in
/// four of `bob`'s, the rest of `ada`'s: starts on a 10-minute grid over
/// three hours, 20 to 90 minutes long, buffers of 0 to 15 minutes.
fn scattered_bookings(ada: OrganizerId, bob: OrganizerId, day: i64) -> Vec<NewBooking> {
    (0..TASKS)
        .map(|i| {
            let who = if i % 4 == 0 { bob } else { ada };
            let start = at(9, 0)
                + Duration::days(day)
                + Duration::minutes(10 * i64::from(rand::random::<u8>() % 18));
            let length = 20 + 10 * i64::from(rand::random::<u8>() % 8);
            let before = 5 * i64::from(rand::random::<u8>() % 4);
            let after = 5 * i64::from(rand::random::<u8>() % 4);
            new_booking(who, range(start, length), before, after)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_tasks_racing_for_one_slot_leave_exactly_one_winner() {
    let db = TestDb::with_pool_size(POOL_SIZE).await;
    let ada = organizer(&db.store, "ada").await;
    const ROUNDS: i64 = 10;
    for round in 0..ROUNDS {
        let slot = range(at(10, 0) + Duration::days(round), 45);
        // Same meeting; some with buffers, so occupied intervals differ but
        // all contain the meeting.
        let bookings = (0..TASKS as i64)
            .map(|i| new_booking(ada.id, slot, (i % 3) * 5, (i % 2) * 10))
            .collect();
        let outcomes = race(std::slice::from_ref(&db.store), bookings).await;
        let winners = outcomes.iter().filter(|o| o.2).count();
        assert_eq!(winners, 1, "round {round}: exactly one of {TASKS} wins");
    }
    assert_eq!(common::booking_rows(&db.pool).await, ROUNDS);
    assert_eq!(common::overlapping_active_pairs(&db.pool).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_tasks_racing_for_overlapping_slots_never_double_book() {
    let db = TestDb::with_pool_size(POOL_SIZE).await;
    let ada = organizer(&db.store, "ada").await;
    let bob = organizer(&db.store, "bob").await;
    const ROUNDS: i64 = 8;
    let mut total_winners = 0;
    for round in 0..ROUNDS {
        let bookings = scattered_bookings(ada.id, bob.id, round);
        let outcomes = race(std::slice::from_ref(&db.store), bookings).await;
        total_winners += check_outcomes(&outcomes);
    }
    assert_eq!(common::booking_rows(&db.pool).await, total_winners as i64);
    assert_eq!(common::overlapping_active_pairs(&db.pool).await, 0);
    assert_eq!(common::inconsistent_occupied_bounds(&db.pool).await, 0);

    // Cancel every other winner and race again over the freed time: the
    // partial constraint ignores cancelled rows, and still no overlaps.
    let ids: Vec<(String, String)> =
        sqlx::query_as("SELECT id, organizer_id FROM bookings ORDER BY id")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    for (id, organizer_id) in ids.iter().step_by(2) {
        db.store
            .cancel_booking(Cancellation::new(
                id.parse().unwrap(),
                organizer_id.parse().unwrap(),
                at(8, 0),
            ))
            .await
            .unwrap();
    }
    let bookings = (0..TASKS as i64)
        .map(|i| {
            new_booking(
                ada.id,
                range(at(9, 0) + Duration::minutes(10 * (i % 18)), 30),
                0,
                5,
            )
        })
        .collect();
    race(std::slice::from_ref(&db.store), bookings).await;
    assert_eq!(common::overlapping_active_pairs(&db.pool).await, 0);
}

/// Four stores (four processes' worth of pools and batch queues) race for
/// overlapping slots of two organizers: their batch statements meet each
/// other's rows in the exclusion constraint, and may deadlock on them
/// (each waiting for the other's uncommitted rows), which the store answers
/// by trying each row alone. Still no double booking, every loser lost to a
/// real booking, and no other error.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn batches_of_four_stores_racing_for_overlapping_slots_never_double_book() {
    let db = TestDb::with_pool_size(2).await;
    let ada = organizer(&db.store, "ada").await;
    let bob = organizer(&db.store, "bob").await;
    let mut stores = Vec::new();
    for n in 0..4 {
        let pool = common::pool_for(&db.schema, 4, &format!("bk-batch-race-{n}")).await;
        stores.push(PostgresStore::from_pool(pool));
    }
    const ROUNDS: i64 = 8;
    let mut total_winners = 0;
    for round in 0..ROUNDS {
        let outcomes = race(&stores, scattered_bookings(ada.id, bob.id, round)).await;
        total_winners += check_outcomes(&outcomes);
    }
    assert_eq!(common::booking_rows(&db.pool).await, total_winners as i64);
    assert_eq!(common::overlapping_active_pairs(&db.pool).await, 0);
    for store in stores {
        store.pool().close().await;
    }
}

// ------------------------------------------------------------------ limits

/// The most bookings of the default event type per day in the limit races.
const DAY_LIMIT: u32 = 3;

/// Day `day` (0: Monday 7 December 2026) as UTC midnight to midnight.
fn day_range(day: i64) -> TimeRange {
    let offset = Duration::days(day);
    TimeRange::new(at(0, 0) + offset, at(24, 0) + offset).unwrap()
}

/// A 5-minute booking of `organizer`'s default event type in slot `slot`
/// (10 minutes apart from 04:00) of day `day`, carrying the per-day limit.
fn limited_booking(organizer: OrganizerId, day: i64, slot: i64) -> NewBooking {
    NewBooking {
        limits: vec![LimitCheck {
            period: LimitPeriod::Day,
            starts_within: day_range(day),
            max: DAY_LIMIT,
        }],
        ..new_booking(
            organizer,
            range(
                at(4, 0) + Duration::days(day) + Duration::minutes(10 * slot),
                5,
            ),
            0,
            0,
        )
    }
}

/// Books all but the last place of day `day` (at 01:00 and 02:00).
async fn fill_all_but_one_place(store: &PostgresStore, organizer: OrganizerId, day: i64) {
    for hour in 1..i64::from(DAY_LIMIT) {
        let booking = NewBooking {
            time: range(at(0, 0) + Duration::days(day) + Duration::hours(hour), 10),
            ..limited_booking(organizer, day, 0)
        };
        store.insert_booking(booking).await.unwrap();
    }
}

/// Active bookings of `organizer`'s default event type on day `day`, by SQL.
async fn booked_that_day(db: &TestDb, organizer: OrganizerId, day: i64) -> i64 {
    let day = day_range(day);
    common::active_bookings_of(
        &db.pool,
        &default_event_type_id(organizer).to_string(),
        day.start(),
        day.end(),
    )
    .await
}

/// 64 tasks over `stores` race for 64 different free slots of a day with
/// one place left, over several days: exactly one winner each day, and SQL
/// counts exactly the limit.
async fn race_for_last_places(db: &TestDb, organizer: OrganizerId, stores: &[PostgresStore]) {
    const DAYS: i64 = 5;
    for day in 0..DAYS {
        fill_all_but_one_place(&db.store, organizer, day).await;
        let bookings = (0..TASKS as i64)
            .map(|slot| limited_booking(organizer, day, slot))
            .collect();
        let outcomes = race(stores, bookings).await;
        let winners = outcomes.iter().filter(|o| o.2).count();
        assert_eq!(
            winners, 1,
            "day {day}: exactly one booking takes the last place"
        );
        assert_eq!(
            booked_that_day(db, organizer, day).await,
            i64::from(DAY_LIMIT),
            "day {day}"
        );
    }
    assert_eq!(common::overlapping_active_pairs(&db.pool).await, 0);
}

/// Four separate pools, 32 connections in all.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_last_place_of_a_day_has_one_winner_across_pools() {
    let db = TestDb::with_pool_size(2).await;
    let ada = organizer(&db.store, "ada").await;
    let mut stores = Vec::new();
    for n in 0..4 {
        let pool = common::pool_for(&db.schema, 8, &format!("bk-limit-race-{n}")).await;
        stores.push(PostgresStore::from_pool(pool));
    }
    race_for_last_places(&db, ada.id, &stores).await;
    for store in stores {
        store.pool().close().await;
    }
}

/// A server or role whose default isolation is REPEATABLE READ (one snapshot
/// per transaction) must not break the count: the store's transactions ask
/// for READ COMMITTED themselves; nor the single-statement inserts.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_last_place_holds_when_transactions_default_to_repeatable_read() {
    let db = TestDb::with_pool_size(2).await;
    let ada = organizer(&db.store, "ada").await;
    let options: sqlx::postgres::PgConnectOptions =
        booking_postgres::testing::database_url().parse().unwrap();
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(16)
        .acquire_timeout(StdDuration::from_secs(60))
        .connect_with(options.options([
            ("search_path", db.schema.as_str()),
            ("default_transaction_isolation", "repeatable read"),
        ]))
        .await
        .unwrap();
    let isolation: String = sqlx::query_scalar("SHOW default_transaction_isolation")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(isolation, "repeatable read");
    let store = PostgresStore::from_pool(pool);
    race_for_last_places(&db, ada.id, std::slice::from_ref(&store)).await;
    // Single statements run in a transaction of the session's default level
    // too: a one-statement insert meeting a booking committed after its
    // snapshot fails to serialize (40001) instead of skipping it; the store
    // looks again and answers with a conflict.
    for round in 0..5 {
        let slot = range(at(10, 0) + Duration::days(10 + round), 45);
        let bookings = (0..TASKS as i64)
            .map(|i| new_booking(ada.id, slot, (i % 3) * 5, 0))
            .collect();
        let outcomes = race(std::slice::from_ref(&store), bookings).await;
        assert_eq!(outcomes.iter().filter(|o| o.2).count(), 1, "round {round}");
    }
    assert_eq!(common::overlapping_active_pairs(&db.pool).await, 0);
    store.pool().close().await;
}

/// Limited bookings of one event type and unlimited bookings of another race
/// for the same slots: no deadlock, no error, no overlap, the limit holds,
/// and a limited booking is refused for its limit only when the day is full.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn limited_and_unlimited_bookings_racing_for_the_same_slots() {
    let db = TestDb::with_pool_size(POOL_SIZE).await;
    let ada = organizer(&db.store, "ada").await;
    const LIMIT: u32 = 5;
    let capped = EventType {
        id: EventTypeId::generate(),
        slug: "capped".parse().unwrap(),
        limits: BookingLimits {
            per_day: Some(LIMIT),
            ..BookingLimits::default()
        },
        ..event_type(ada.id)
    };
    db.store
        .update_config(ada.id, 1, vec![ConfigChange::PutEventType(capped.clone())])
        .await
        .unwrap();
    const ROUNDS: i64 = 4;
    for round in 0..ROUNDS {
        let mut bookings = Vec::new();
        for slot in 0..(TASKS as i64 / 2) {
            // The default event type books the slot as a 10-minute meeting;
            // the capped one books 5 minutes of it.
            let unlimited = new_booking(
                ada.id,
                range(
                    at(4, 0) + Duration::days(round) + Duration::minutes(10 * slot),
                    10,
                ),
                0,
                0,
            );
            let limited = NewBooking {
                event_type_id: capped.id,
                event_type_slug: capped.slug.clone(),
                limits: vec![LimitCheck {
                    max: LIMIT,
                    ..limited_booking(ada.id, round, slot).limits[0]
                }],
                ..limited_booking(ada.id, round, slot)
            };
            bookings.push(limited);
            bookings.push(unlimited);
        }
        let kinds: Vec<bool> = bookings.iter().map(|b| !b.limits.is_empty()).collect();
        let outcomes = race(std::slice::from_ref(&db.store), bookings).await;
        let winners: Vec<_> = outcomes.iter().filter(|o| o.2).collect();
        for (i, a) in winners.iter().enumerate() {
            for b in &winners[i + 1..] {
                assert!(!a.1.overlaps(&b.1), "double booking: {} and {}", a.1, b.1);
            }
        }
        let limited: Vec<_> = outcomes
            .iter()
            .zip(&kinds)
            .filter(|(_, limited)| **limited)
            .map(|(outcome, _)| outcome)
            .collect();
        let limited_winners = limited.iter().filter(|o| o.2).count();
        assert!(
            limited_winners <= LIMIT as usize,
            "round {round}: {limited_winners}"
        );
        if limited_winners < LIMIT as usize {
            for loser in limited.iter().filter(|o| !o.2) {
                assert!(
                    winners.iter().any(|w| w.1.overlaps(&loser.1)),
                    "round {round}: {} refused for a limit the day has not reached",
                    loser.1
                );
            }
        }
        let day = day_range(round);
        assert_eq!(
            common::active_bookings_of(&db.pool, &capped.id.to_string(), day.start(), day.end())
                .await,
            limited_winners as i64
        );
    }
    assert_eq!(common::overlapping_active_pairs(&db.pool).await, 0);
}

// ------------------------------------------------------- two OS processes

/// Set in the child processes: `mode schema organizer_id lock_key worker_number`.
const WORKER_ENV: &str = "BOOKING_PG_TWO_PROCESS_WORKER";
const WORKER_TASKS: i64 = 32;
const WORKER_ROUNDS: i64 = 6;
const LAST_PLACE_DAYS: i64 = 4;

/// What the two worker processes race for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Race {
    /// The same and overlapping slots, several rounds.
    Overlaps,
    /// 64 different free slots of a day with one place left, on each of
    /// [`LAST_PLACE_DAYS`] days.
    LastPlace,
}

impl Race {
    fn name(self) -> &'static str {
        match self {
            Race::Overlaps => "overlaps",
            Race::LastPlace => "last-place",
        }
    }

    /// The test function that runs it, which the workers run too (its
    /// path in this binary: see `common::test_path`).
    fn test_name(self) -> String {
        common::test_path(match self {
            Race::Overlaps => "two_processes_booking_at_once_never_double_book",
            Race::LastPlace => "two_processes_racing_for_the_last_place_of_a_day_leave_one_winner",
        })
    }

    /// Worker `n`'s attempts in `round`.
    fn bookings(self, organizer: OrganizerId, n: i64, round: i64) -> Vec<NewBooking> {
        match self {
            Race::Overlaps => (0..WORKER_TASKS)
                .map(|i| {
                    let start = at(9, 0)
                        + Duration::days(round)
                        + Duration::minutes(10 * ((i * 5 + n * 3) % 16));
                    new_booking(
                        organizer,
                        range(start, 30 + (i % 3) * 15),
                        (i % 2) * 5,
                        ((i / 2) % 2) * 10,
                    )
                })
                .collect(),
            // Slots never shared between the workers: only the limit separates them.
            Race::LastPlace => (0..WORKER_TASKS)
                .map(|i| limited_booking(organizer, round, i * 2 + n))
                .collect(),
        }
    }

    fn rounds(self) -> i64 {
        match self {
            Race::Overlaps => WORKER_ROUNDS,
            Race::LastPlace => LAST_PLACE_DAYS,
        }
    }
}

/// Runs `race` in this process: as a worker when started by a parent, else
/// as the parent, which starts two workers and returns what they reported.
fn two_processes(
    race: Race,
    check: impl AsyncFnOnce(&TestDb, OrganizerId, Vec<(OrganizerId, TimeRange, bool)>),
) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("tokio runtime");
    match std::env::var(WORKER_ENV) {
        Ok(spec) => runtime.block_on(worker(race, &spec)),
        Err(_) => runtime.block_on(async {
            let db = TestDb::with_pool_size(4).await;
            let ada = organizer(&db.store, "ada").await;
            if race == Race::LastPlace {
                for day in 0..LAST_PLACE_DAYS {
                    fill_all_but_one_place(&db.store, ada.id, day).await;
                }
            }
            let outcomes = parent(race, &db, ada.id).await;
            check(&db, ada.id, outcomes).await;
        }),
    }
}

/// The parent holds an advisory lock, starts two copies of this test binary
/// as workers (each running only `race`'s test, in worker mode) and releases
/// them together once both wait on the lock. Both book through their own
/// pools; their outcomes come back on stdout.
async fn parent(
    race: Race,
    db: &TestDb,
    organizer: OrganizerId,
) -> Vec<(OrganizerId, TimeRange, bool)> {
    let key = i64::from(rand::random::<u32>() >> 1);
    let mut gate = common::admin_connection().await;
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(key)
        .execute(&mut gate)
        .await
        .unwrap();

    let exe = std::env::current_exe().expect("path of this test binary");
    let mut children: Vec<_> = (0..2)
        .map(|n| {
            Command::new(&exe)
                .args([
                    race.test_name().as_str(),
                    "--exact",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(
                    WORKER_ENV,
                    format!("{} {} {organizer} {key} {n}", race.name(), db.schema),
                )
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("start a worker process")
        })
        .collect();

    // Wait (bounded) until both workers are blocked on the gate.
    let mut waiting = 0;
    for _ in 0..1200 {
        waiting = sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted \
             AND classid::bigint = ($1 >> 32) AND objid::bigint = ($1 & 4294967295)",
        )
        .bind(key)
        .fetch_one(&mut gate)
        .await
        .unwrap();
        if waiting == 2 {
            break;
        }
        for child in &mut children {
            if let Some(status) = child.try_wait().unwrap() {
                panic!("a worker exited before the start: {status}");
            }
        }
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
    assert_eq!(waiting, 2, "both workers must reach the start gate");
    sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(key)
        .execute(&mut gate)
        .await
        .unwrap();

    let mut outcomes = Vec::new();
    for child in children {
        let output = tokio::task::spawn_blocking(move || child.wait_with_output())
            .await
            .unwrap()
            .expect("worker output");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "worker failed: {}\nstdout:\n{stdout}\nstderr:\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        let before = outcomes.len();
        for line in stdout.lines() {
            // The harness may print "test ... " in front of the first line.
            let Some((_, rest)) = line.split_once("BK-RESULT ") else {
                continue;
            };
            let fields: Vec<&str> = rest.split(' ').collect();
            let parse = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
            let occupied = TimeRange::new(parse(fields[1]), parse(fields[2])).unwrap();
            outcomes.push((organizer, occupied, fields[0] == "won"));
        }
        assert_eq!(
            outcomes.len() - before,
            (WORKER_TASKS * race.rounds()) as usize,
            "every attempt reported"
        );
    }
    outcomes
}

async fn worker(kind: Race, spec: &str) {
    let fields: Vec<&str> = spec.split(' ').collect();
    let [mode, schema, organizer, key, n] = fields[..] else {
        panic!("bad {WORKER_ENV}: {spec:?}")
    };
    assert_eq!(mode, kind.name(), "the worker runs the parent's race");
    let organizer: OrganizerId = organizer.parse().unwrap();
    let key: i64 = key.parse().unwrap();
    let n: i64 = n.parse().unwrap();
    let pool = common::pool_for(schema, 8, "booking-postgres-worker").await;
    let store = PostgresStore::from_pool(pool.clone());

    // The start gate: blocks until the parent releases its lock.
    let mut gate = pool.acquire().await.unwrap();
    sqlx::query("SELECT pg_advisory_lock_shared($1)")
        .bind(key)
        .execute(&mut *gate)
        .await
        .unwrap();
    sqlx::query("SELECT pg_advisory_unlock_shared($1)")
        .bind(key)
        .execute(&mut *gate)
        .await
        .unwrap();
    drop(gate);

    for round in 0..kind.rounds() {
        let bookings = kind.bookings(organizer, n, round);
        for (_, occupied, won) in race(std::slice::from_ref(&store), bookings).await {
            println!(
                "BK-RESULT {} {} {}",
                if won { "won" } else { "lost" },
                occupied.start().to_rfc3339(),
                occupied.end().to_rfc3339()
            );
        }
    }
    pool.close().await;
}

#[test]
fn two_processes_booking_at_once_never_double_book() {
    two_processes(Race::Overlaps, async |db, _, outcomes| {
        let winners = check_outcomes(&outcomes);
        assert!(winners >= WORKER_ROUNDS as usize);
        assert_eq!(common::booking_rows(&db.pool).await, winners as i64);
        assert_eq!(common::overlapping_active_pairs(&db.pool).await, 0);
    });
}

#[test]
fn two_processes_racing_for_the_last_place_of_a_day_leave_one_winner() {
    two_processes(Race::LastPlace, async |db, organizer, outcomes| {
        for day in 0..LAST_PLACE_DAYS {
            let that_day = day_range(day);
            let attempts: Vec<_> = outcomes
                .iter()
                .filter(|o| that_day.contains(o.1.start()))
                .collect();
            let winners = attempts.iter().filter(|o| o.2).count();
            assert_eq!(
                winners,
                1,
                "day {day}: exactly one of {} attempts in two processes takes the last place",
                attempts.len()
            );
            assert_eq!(
                booked_that_day(db, organizer, day).await,
                i64::from(DAY_LIMIT),
                "day {day}: SQL counts exactly the limit"
            );
        }
        assert_eq!(common::overlapping_active_pairs(&db.pool).await, 0);
    });
}
