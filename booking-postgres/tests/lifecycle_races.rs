//! Races of the lifecycle and the outbox against a real PostgreSQL, across
//! two separate pools (so across separate connections, as two processes
//! would be): moves and inserts into one slot, holds and bookings for one
//! slot, 32 claims of one idempotency key, workers of two pools claiming
//! one job queue. Each contested thing has exactly one winner, every loser
//! gets a plain refusal (never a deadlock or another error), and SQL over
//! the tables confirms it afterwards.

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use booking_core::booking::{Booking, LimitCheck, NewBooking};
use booking_core::event::{BookingEventKind, EventId};
use booking_core::event_type::LimitPeriod;
use booking_core::hold::{Hold, NewHold};
use booking_core::idempotency::ClaimOutcome;
use booking_core::organizer::OrganizerId;
use booking_core::queue::{JobId, JobResult, NewJob};
use booking_core::secret::TokenHash;
use booking_core::store::{BookingStore, Cancellation, Reschedule, StoreError};
use booking_core::testkit::fixtures::{at, created, new_booking, new_hold, range};
use booking_core::time::TimeRange;
use booking_postgres::PostgresStore;
use chrono::{DateTime, Duration, Utc};
use common::{TestDb, organizer};
use tokio::sync::Barrier;

/// Two stores on two separate pools of `size` connections each.
async fn two_pools(db: &TestDb, size: u32) -> [Arc<dyn BookingStore>; 2] {
    let mut stores = Vec::new();
    for n in 0..2 {
        let pool = common::pool_for(&db.schema, size, &format!("bk-lifecycle-race-{n}")).await;
        stores.push(Arc::new(PostgresStore::from_pool(pool)) as Arc<dyn BookingStore>);
    }
    [stores[0].clone(), stores[1].clone()]
}

/// Runs every future at once, released together by a barrier.
async fn all_at_once<T: Send + 'static>(
    tasks: Vec<std::pin::Pin<Box<dyn Future<Output = T> + Send>>>,
) -> Vec<T> {
    let barrier = Arc::new(Barrier::new(tasks.len()));
    let handles: Vec<_> = tasks
        .into_iter()
        .map(|task| {
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                task.await
            })
        })
        .collect();
    let mut outcomes = Vec::with_capacity(handles.len());
    for handle in handles {
        outcomes.push(handle.await.expect("a racing task panicked"));
    }
    outcomes
}

/// A win, or the refusal a racing write may meet; anything else fails.
fn won(outcome: Result<(), StoreError>, what: &str) -> bool {
    match outcome {
        Ok(()) => true,
        Err(StoreError::Conflict) => false,
        Err(other) => panic!("a racing {what} must win or conflict, got {other} ({other:?})"),
    }
}

/// Deadlocks the server has detected in this database so far (statistics
/// reach the view within a second or so).
async fn deadlocks(db: &TestDb) -> i64 {
    sqlx::query_scalar("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
        .fetch_one(&db.pool)
        .await
        .unwrap()
}

/// Ten bookings moved into one free slot at once, and two new bookings of
/// it, through two pools, over many rounds: exactly one of the twelve takes
/// the slot each time; the others are refused and unchanged. Racing moves
/// that both pass their snapshot's check meet in the exclusion constraint
/// (23P01), and could deadlock there (each waiting for the other's new
/// index entry; see `a_move_that_deadlocks_inside_postgresql_is_tried_once_more`
/// in `lifecycle.rs` for that case made certain); the store must still
/// answer each with a win or a conflict.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn moves_and_inserts_racing_for_one_slot_across_pools_have_one_winner() {
    let db = TestDb::new().await;
    let ada = organizer(&db.store, "ada").await;
    let stores = two_pools(&db, 8).await;
    let deadlocks_before = deadlocks(&db).await;
    const ROUNDS: i64 = 24;
    const MOVERS: i64 = 10;
    for round in 0..ROUNDS {
        let day = Duration::days(round);
        let mut movers: Vec<Booking> = Vec::new();
        for n in 0..MOVERS {
            movers.push(
                db.store
                    .insert_booking(new_booking(
                        ada.id,
                        range(at(8, 0) + day + Duration::minutes(30 * n), 30),
                        0,
                        0,
                    ))
                    .await
                    .unwrap(),
            );
        }
        let target = range(at(12, 0) + day, 30);
        let mut tasks: Vec<std::pin::Pin<Box<dyn Future<Output = bool> + Send>>> = Vec::new();
        for (n, mover) in movers.iter().enumerate() {
            let store = stores[n % 2].clone();
            let change = Reschedule {
                id: mover.id,
                organizer_id: ada.id,
                expected_sequence: 0,
                time: target,
                buffer_before: Duration::zero(),
                buffer_after: Duration::minutes(5 * (n as i64 % 2)),
                limits: Vec::new(),
                at: created(),
                event: None,
            };
            tasks.push(Box::pin(async move {
                won(store.reschedule_booking(change).await.map(drop), "move")
            }));
        }
        for (n, start) in [at(12, 0), at(12, 15)].into_iter().enumerate() {
            let store = stores[n % 2].clone();
            let booking = new_booking(ada.id, range(start + day, 30), 0, 0);
            tasks.push(Box::pin(async move {
                won(store.insert_booking(booking).await.map(drop), "insert")
            }));
        }
        let outcomes = all_at_once(tasks).await;
        assert_eq!(
            outcomes.iter().filter(|won| **won).count(),
            1,
            "round {round}: exactly one takes the slot: {outcomes:?}"
        );
        for (mover, moved) in movers.iter().zip(&outcomes) {
            let now = db.store.booking(mover.id).await.unwrap().unwrap();
            if *moved {
                assert_eq!((now.time, now.sequence), (target, 1));
                assert_eq!(now.rescheduled_from, Some(mover.time));
            } else {
                assert_eq!(&now, mover, "a refused move changes nothing");
            }
        }
    }
    assert_eq!(common::overlapping_active_pairs(&db.pool).await, 0);
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    eprintln!(
        "deadlocks PostgreSQL detected (and the store answered) during the race: {}",
        deadlocks(&db).await - deadlocks_before
    );
}

/// Two holds and two bookings for overlapping slots at once, each kind once
/// on its fast path (one statement) and once in a transaction (a client
/// cap, limits), through two pools, over many rounds: exactly one wins.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn holds_and_bookings_racing_for_one_slot_across_pools_have_one_winner() {
    let db = TestDb::new().await;
    let ada = organizer(&db.store, "ada").await;
    let stores = two_pools(&db, 8).await;
    let limits = |day: Duration| {
        vec![LimitCheck {
            period: LimitPeriod::Day,
            starts_within: TimeRange::new(at(0, 0) + day, at(24, 0) + day).unwrap(),
            max: 50,
        }]
    };
    const ROUNDS: i64 = 32;
    for round in 0..ROUNDS {
        let day = Duration::days(round % 4);
        let slot = |minutes: i64| {
            range(
                at(6, 0) + day + Duration::minutes(40 * (round / 4) + minutes),
                30,
            )
        };
        let expires = created() + Duration::minutes(5);
        let mut tasks: Vec<std::pin::Pin<Box<dyn Future<Output = bool> + Send>>> = Vec::new();
        for (n, (minutes, client)) in [(0, None), (10, Some("10.0.0.1"))].into_iter().enumerate() {
            let store = stores[n % 2].clone();
            let hold = NewHold {
                hold: Hold {
                    token_hash: TokenHash::of(&format!("{round}-{n}")),
                    ..new_hold(ada.id, slot(minutes), 0, 0, expires, client)
                },
                limits: if client.is_some() {
                    limits(day)
                } else {
                    Vec::new()
                },
                max_per_client: 1_000,
            };
            tasks.push(Box::pin(async move {
                won(store.insert_hold(hold).await.map(drop), "hold")
            }));
        }
        for (n, minutes) in [5, 15].into_iter().enumerate() {
            let store = stores[(n + 1) % 2].clone();
            let booking = NewBooking {
                limits: if n == 1 { limits(day) } else { Vec::new() },
                ..new_booking(ada.id, slot(minutes), 0, 0)
            };
            tasks.push(Box::pin(async move {
                won(store.insert_booking(booking).await.map(drop), "booking")
            }));
        }
        let outcomes = all_at_once(tasks).await;
        assert_eq!(
            outcomes.iter().filter(|won| **won).count(),
            1,
            "round {round}: {outcomes:?}"
        );
    }
    assert_eq!(common::overlapping_active_pairs(&db.pool).await, 0);
    let live: i64 = sqlx::query_scalar("SELECT count(*) FROM bookings WHERE deleted_at IS NULL")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(live, ROUNDS, "one row, hold or booking, per round");
}

/// 32 claims of one key at once through two pools, for a free key, a claim
/// whose holder died (stale) and a finished record that expired: exactly
/// one claim wins each time; the others see it in progress.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_two_claims_of_one_key_across_two_pools_have_one_winner() {
    let db = TestDb::new().await;
    let ada = organizer(&db.store, "ada").await;
    let stores = two_pools(&db, 8).await;
    let now = created();
    for round in 0..8 {
        for (state, claimed_at, outcome, expires_at) in [
            ("free", None, None, None),
            (
                "stale",
                Some(now - Duration::minutes(2)),
                None,
                Some(now + Duration::hours(23)),
            ),
            (
                "expired",
                Some(now - Duration::hours(25)),
                Some("{}"),
                Some(now - Duration::hours(1)),
            ),
        ] {
            let claim = common::claim_of(ada.id, &format!("{state}-{round}"));
            let scope = &claim.scope;
            if let (Some(claimed_at), Some(expires_at)) = (claimed_at, expires_at) {
                sqlx::query(
                    "INSERT INTO idempotency_keys (organizer_id, operation, key_hash, fingerprint, \
                        claimed_at, outcome, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(ada.id.to_string())
                .bind(&scope.operation)
                .bind(scope.key_hash.to_hex())
                .bind(TokenHash::of("request").to_hex())
                .bind(claimed_at)
                .bind(outcome)
                .bind(expires_at)
                .execute(&db.pool)
                .await
                .unwrap();
            }
            let tasks = (0..32)
                .map(|n| {
                    let (store, claim) = (stores[n % 2].clone(), claim.clone());
                    Box::pin(async move { store.claim_idempotency_key(&claim).await.unwrap() })
                        as std::pin::Pin<Box<dyn Future<Output = ClaimOutcome> + Send>>
                })
                .collect();
            let outcomes = all_at_once(tasks).await;
            let claimed = outcomes
                .iter()
                .filter(|o| **o == ClaimOutcome::Claimed)
                .count();
            assert_eq!(claimed, 1, "{state} key, round {round}: {outcomes:?}");
            assert!(
                outcomes
                    .iter()
                    .all(|o| matches!(o, ClaimOutcome::Claimed | ClaimOutcome::InProgress)),
                "{outcomes:?}"
            );
            let (claimed_at, outcome): (DateTime<Utc>, Option<String>) = sqlx::query_as(
                "SELECT claimed_at, outcome FROM idempotency_keys \
                 WHERE organizer_id = $1 AND operation = $2 AND key_hash = $3",
            )
            .bind(ada.id.to_string())
            .bind(&scope.operation)
            .bind(scope.key_hash.to_hex())
            .fetch_one(&db.pool)
            .await
            .unwrap();
            assert_eq!(
                (claimed_at, outcome),
                (now, None),
                "{state}: claimed now, pending"
            );
        }
    }
}

/// Workers of two pools drain one queue at once, each claiming a few jobs,
/// finishing them, and claiming again: no job is ever handed out twice,
/// every job is done once, and a booking's jobs go in order (its cancelled
/// event's job only after its created event's job finished).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn workers_of_two_pools_never_claim_a_job_twice() {
    let db = TestDb::new().await;
    let ada = organizer(&db.store, "ada").await;
    let stores = two_pools(&db, 8).await;
    const BOOKINGS: i64 = 40;
    for n in 0..BOOKINGS {
        let mut booking = new_booking(
            ada.id,
            range(at(0, 0) + Duration::minutes(30 * n), 30),
            0,
            0,
        );
        booking.event = Some(common::event_of(
            &Booking::from_new(booking.clone()),
            BookingEventKind::Created,
        ));
        let stored = db.store.insert_booking(booking).await.unwrap();
        db.store
            .cancel_booking(Cancellation {
                event: Some(common::event_of(&stored, BookingEventKind::Cancelled)),
                ..Cancellation::new(stored.id, stored.organizer_id, created())
            })
            .await
            .unwrap();
    }
    let events = db.store.undispatched_events(1_000).await.unwrap();
    assert_eq!(events.len(), 2 * BOOKINGS as usize);
    let jobs: Vec<NewJob> = events
        .iter()
        .map(|event| NewJob {
            id: JobId::generate(),
            queue: "race".into(),
            organizer_id: event.record.organizer_id,
            event_id: event.record.id,
            booking_id: event.record.booking_id,
            target: String::new(),
            payload: event.record.kind.name().into(),
            run_at: created(),
        })
        .collect();
    let ids: Vec<_> = events.iter().map(|e| e.record.id).collect();
    db.store.dispatch_events(&ids, jobs.clone()).await.unwrap();

    // Each claim gets a number in the order claims return.
    let order = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..16)
        .map(|n| {
            let (store, order, db_pool) = (stores[n % 2].clone(), order.clone(), db.pool.clone());
            Box::pin(async move {
                let mut mine = Vec::new();
                loop {
                    let now = created();
                    let claimed = store
                        .claim_jobs("race", now, 3, now + Duration::minutes(10))
                        .await
                        .unwrap();
                    if claimed.is_empty() {
                        let pending: i64 = sqlx::query_scalar(
                            "SELECT count(*) FROM jobs WHERE queue = 'race' AND status = 'pending'",
                        )
                        .fetch_one(&db_pool)
                        .await
                        .unwrap();
                        if pending == 0 {
                            return mine;
                        }
                        tokio::task::yield_now().await;
                        continue;
                    }
                    for job in claimed {
                        mine.push((order.fetch_add(1, Ordering::SeqCst), job.clone()));
                        store
                            .finish_job(job.id, JobResult::Done { status: Some(200) }, now)
                            .await
                            .unwrap();
                    }
                }
            })
                as std::pin::Pin<
                    Box<dyn Future<Output = Vec<(usize, booking_core::queue::Job)>> + Send>,
                >
        })
        .collect();
    let claimed: Vec<_> = all_at_once(workers).await.into_iter().flatten().collect();
    let unique: HashSet<JobId> = claimed.iter().map(|(_, job)| job.id).collect();
    assert_eq!(unique.len(), claimed.len(), "no job claimed twice");
    assert_eq!(claimed.len(), jobs.len(), "every job claimed");
    let kinds: HashMap<EventId, &str> = jobs
        .iter()
        .map(|j| (j.event_id, j.payload.as_str()))
        .collect();
    let mut first_claim: HashMap<(_, &str), usize> = HashMap::new();
    for (n, job) in &claimed {
        first_claim.insert((job.booking_id, kinds[&job.event_id]), *n);
    }
    for (key, n) in &first_claim {
        if key.1 == "booking.cancelled" {
            assert!(
                first_claim[&(key.0, "booking.created")] < *n,
                "booking {}: the cancellation's job went before the creation's",
                key.0
            );
        }
    }
    let (done, attempts): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE status = 'done'), coalesce(max(attempts), 0)::bigint FROM jobs",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!((done, attempts), (jobs.len() as i64, 1));
    let _: OrganizerId = ada.id;
}
