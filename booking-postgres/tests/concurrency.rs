//! Races against a real PostgreSQL: many tasks over a pool of several
//! connections, and two separate OS processes, booking the same and
//! overlapping slots at once. The exclusion constraint must leave exactly one
//! winner per contested interval, every loser must be a plain `Conflict`
//! (never a deadlock or other error), and a SQL query over the table must find
//! zero overlapping active pairs afterwards.

mod common;

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration as StdDuration;

use booking_core::booking::NewBooking;
use booking_core::organizer::OrganizerId;
use booking_core::store::BookingStore;
use booking_core::testkit::fixtures::{at, new_booking, race_inserts, range};
use booking_core::time::TimeRange;
use booking_postgres::PostgresStore;
use chrono::{DateTime, Duration, Utc};
use common::{TestDb, organizer};

const TASKS: usize = 64;
const POOL_SIZE: u32 = 8;

/// Runs all `bookings` at once (released together by a barrier) and returns
/// each one's occupied interval and whether it won. Any outcome other than
/// success or `Conflict` fails the test.
async fn race(
    store: &PostgresStore,
    bookings: Vec<NewBooking>,
) -> Vec<(OrganizerId, TimeRange, bool)> {
    let store: Arc<dyn BookingStore> = Arc::new(store.clone());
    let attempts = bookings
        .into_iter()
        .map(|booking| {
            let key = (booking.organizer_id, booking.occupied());
            (key, Arc::clone(&store), booking)
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
        let outcomes = race(&db.store, bookings).await;
        let winners = outcomes.iter().filter(|o| o.2).count();
        assert_eq!(winners, 1, "round {round}: exactly one of {TASKS} wins");
    }
    assert_eq!(common::booking_rows(&db.pool).await, ROUNDS);
    assert_eq!(common::overlapping_active_pairs(&db.pool).await, 0);
    db.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_tasks_racing_for_overlapping_slots_never_double_book() {
    let db = TestDb::with_pool_size(POOL_SIZE).await;
    let ada = organizer(&db.store, "ada").await;
    let bob = organizer(&db.store, "bob").await;
    const ROUNDS: i64 = 8;
    let mut total_winners = 0;
    for round in 0..ROUNDS {
        let day = Duration::days(round);
        let bookings: Vec<NewBooking> = (0..TASKS)
            .map(|i| {
                let who = if i % 4 == 0 { bob.id } else { ada.id };
                // Starts on a 10-minute grid over three hours, 20 to 90
                // minutes long, buffers of 0 to 15 minutes.
                let start =
                    at(9, 0) + day + Duration::minutes(10 * i64::from(rand::random::<u8>() % 18));
                let length = 20 + 10 * i64::from(rand::random::<u8>() % 8);
                let before = 5 * i64::from(rand::random::<u8>() % 4);
                let after = 5 * i64::from(rand::random::<u8>() % 4);
                new_booking(who, range(start, length), before, after)
            })
            .collect();
        let outcomes = race(&db.store, bookings).await;
        total_winners += check_outcomes(&outcomes);
    }
    assert_eq!(common::booking_rows(&db.pool).await, total_winners as i64);
    assert_eq!(common::overlapping_active_pairs(&db.pool).await, 0);
    assert_eq!(common::inconsistent_occupied_bounds(&db.pool).await, 0);

    // Cancel every other winner and race again over the freed time: the
    // partial constraint ignores cancelled rows, and still no overlaps.
    let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM bookings ORDER BY id")
        .fetch_all(&db.pool)
        .await
        .unwrap();
    for id in ids.iter().step_by(2) {
        db.store
            .cancel_booking(id.parse().unwrap(), at(8, 0))
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
    race(&db.store, bookings).await;
    assert_eq!(common::overlapping_active_pairs(&db.pool).await, 0);
    db.drop_schema().await;
}

// ------------------------------------------------------- two OS processes

/// Set in the child processes: `schema organizer_id lock_key worker_number`.
const WORKER_ENV: &str = "BOOKING_PG_TWO_PROCESS_WORKER";
const WORKER_TASKS: i64 = 32;
const WORKER_ROUNDS: i64 = 6;

/// The parent creates a schema and an organizer, holds an advisory lock,
/// starts two copies of this test binary as workers (each running only this
/// test, in worker mode) and releases them together once both wait on the
/// lock. Both book the same overlapping slots through their own pools.
#[test]
fn two_processes_booking_at_once_never_double_book() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("tokio runtime");
    match std::env::var(WORKER_ENV) {
        Ok(spec) => runtime.block_on(worker(&spec)),
        Err(_) => runtime.block_on(parent()),
    }
}

async fn parent() {
    let db = TestDb::with_pool_size(4).await;
    let ada = organizer(&db.store, "ada").await;
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
                    "two_processes_booking_at_once_never_double_book",
                    "--exact",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(WORKER_ENV, format!("{} {} {key} {n}", db.schema, ada.id))
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
            outcomes.push((ada.id, occupied, fields[0] == "won"));
        }
        assert_eq!(
            outcomes.len() - before,
            (WORKER_TASKS * WORKER_ROUNDS) as usize,
            "every attempt reported"
        );
    }
    let winners = check_outcomes(&outcomes);
    assert!(winners >= WORKER_ROUNDS as usize);
    assert_eq!(common::booking_rows(&db.pool).await, winners as i64);
    assert_eq!(common::overlapping_active_pairs(&db.pool).await, 0);
    db.drop_schema().await;
}

async fn worker(spec: &str) {
    let fields: Vec<&str> = spec.split(' ').collect();
    let [schema, organizer, key, n] = fields[..] else {
        panic!("bad {WORKER_ENV}: {spec:?}")
    };
    let organizer: OrganizerId = organizer.parse().unwrap();
    let key: i64 = key.parse().unwrap();
    let n: i64 = n.parse().unwrap();
    let pool = common::pool_for(schema, 4, "booking-postgres-worker").await;
    let store = PostgresStore::new(pool.clone());

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

    for round in 0..WORKER_ROUNDS {
        let bookings = (0..WORKER_TASKS)
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
            .collect();
        for (_, occupied, won) in race(&store, bookings).await {
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
