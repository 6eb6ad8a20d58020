//! The lifecycle and the outbox under SQLite-specific conditions: races
//! between several store instances on one file (each with its own
//! connections, so only SQLite's write lock stands between them, as between
//! processes), checked afterwards in SQL on the file itself; holds written
//! by hand, which the store's checks must see; and the new tables'
//! constraints in raw SQL.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use booking_core::booking::{Booking, BookingId};
use booking_core::event::EventId;
use booking_core::hold::{HoldId, NewHold};
use booking_core::idempotency::{ClaimOutcome, IdempotencyClaim, IdempotencyScope};
use booking_core::queue::{JobId, JobResult, JobStatus};
use booking_core::secret::TokenHash;
use booking_core::store::{BookingStore, Reschedule, StoreError};
use booking_core::testkit::fixtures::{at, created, new_booking, new_hold, organizer, range};
use booking_core::time::TimeRange;
use booking_sqlite::SqliteStore;
use booking_sqlite::rusqlite::params;
use chrono::Duration;
use common::{TempDb, book_cancel_and_dispatch, count, holds_overlapping, overlapping_pairs, raw};

const ROUNDS: i64 = 16;

/// The move of `booking` to `time`, decided on its current sequence.
fn move_to(booking: &Booking, time: TimeRange) -> Reschedule {
    Reschedule {
        id: booking.id,
        organizer_id: booking.organizer_id,
        expected_sequence: booking.sequence,
        time,
        buffer_before: booking.buffer_before,
        buffer_after: booking.buffer_after,
        limits: Vec::new(),
        at: created() + Duration::minutes(1),
        event: None,
    }
}

/// Each round, two bookings are moved into the same free slot and a new
/// booking overlapping it is inserted, each through another store: exactly
/// one of the three wins, the losers are unchanged, and the file holds no
/// overlap.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_moves_and_an_insert_race_for_one_slot_across_connections() {
    let temp = TempDb::new().await;
    let ada = organizer(&temp.store, "ada").await;
    let stores = temp.stores(3).await;
    let mut moved_wins = 0;
    for round in 0..ROUNDS {
        let day = Duration::days(round);
        let a = temp
            .store
            .insert_booking(new_booking(ada.id, range(at(8, 0) + day, 30), 0, 0))
            .await
            .unwrap();
        let b = temp
            .store
            .insert_booking(new_booking(ada.id, range(at(9, 0) + day, 30), 0, 0))
            .await
            .unwrap();
        let target = range(at(12, 0) + day, 30);
        let barrier = Arc::new(tokio::sync::Barrier::new(3));
        let spawn_move = |store: Arc<SqliteStore>, change: Reschedule| {
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                store.reschedule_booking(change).await.map(|_| true)
            })
        };
        let tasks = [
            spawn_move(stores[0].clone(), move_to(&a, target)),
            spawn_move(stores[1].clone(), move_to(&b, target)),
            {
                let (store, barrier) = (stores[2].clone(), barrier.clone());
                let booking = new_booking(ada.id, range(at(12, 15) + day, 30), 0, 0);
                tokio::spawn(async move {
                    barrier.wait().await;
                    store.insert_booking(booking).await.map(|_| false)
                })
            },
        ];
        let mut winners = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(was_move) => {
                    winners += 1;
                    moved_wins += usize::from(was_move);
                }
                Err(StoreError::Conflict) => {}
                Err(other) => panic!("round {round}: a racer must win or conflict, got {other:?}"),
            }
        }
        assert_eq!(winners, 1, "round {round}: exactly one takes the slot");
    }
    let conn = raw(temp.path());
    assert_eq!(overlapping_pairs(&conn), 0);
    assert_eq!(
        count(&conn, "SELECT COUNT(*) FROM bookings WHERE sequence = 1"),
        moved_wins as i64,
        "exactly the winning moves were applied"
    );
    assert_eq!(
        count(
            &conn,
            "SELECT COUNT(*) FROM bookings WHERE sequence = 1 AND rescheduled_from_start IS NOT NULL
               AND start_time % 86400000000 = 12 * 3600000000"
        ),
        moved_wins as i64,
        "each moved booking is at 12:00 and remembers where it was"
    );
    assert_eq!(
        count(
            &conn,
            "SELECT COUNT(*) FROM bookings WHERE sequence = 0 AND rescheduled_from_start IS NULL"
        ),
        3 * ROUNDS - 2 * moved_wins as i64,
        "the losing moves left their bookings untouched"
    );
}

/// Each round, two holds and two bookings of one slot, each through its own
/// store: exactly one wins, and in SQL no active booking overlaps an
/// unexpired hold and no two such holds overlap.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn holds_and_bookings_race_for_one_slot_across_connections() {
    let temp = TempDb::new().await;
    let ada = organizer(&temp.store, "ada").await;
    let stores = temp.stores(4).await;
    let expires = created() + Duration::minutes(5);
    for round in 0..ROUNDS {
        let slot = range(at(8, 0) + Duration::minutes(40 * round), 30);
        let barrier = Arc::new(tokio::sync::Barrier::new(4));
        let tasks: Vec<_> = (0..4)
            .map(|i| {
                let (store, barrier) = (stores[i].clone(), barrier.clone());
                let booking = new_booking(ada.id, slot, 5, 0);
                let mut hold = new_hold(ada.id, slot, 0, 5, expires, Some("client"));
                hold.token_hash = TokenHash::of(&format!("hold-{round}-{i}"));
                tokio::spawn(async move {
                    barrier.wait().await;
                    if i % 2 == 0 {
                        store
                            .insert_hold(NewHold {
                                hold,
                                limits: Vec::new(),
                                max_per_client: 100,
                            })
                            .await
                            .map(|_| ())
                    } else {
                        store.insert_booking(booking).await.map(|_| ())
                    }
                })
            })
            .collect();
        let mut winners = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(()) => winners += 1,
                Err(StoreError::Conflict) => {}
                Err(other) => panic!("round {round}: got {other:?}"),
            }
        }
        assert_eq!(winners, 1, "round {round}: exactly one takes the slot");
    }
    let conn = raw(temp.path());
    assert_eq!(holds_overlapping(&conn, created().timestamp_micros()), 0);
    assert_eq!(overlapping_pairs(&conn), 0);
    assert_eq!(
        count(&conn, "SELECT COUNT(*) FROM holds") + count(&conn, "SELECT COUNT(*) FROM bookings"),
        ROUNDS,
        "one row per round, losers wrote nothing"
    );
}

/// 32 claims of each of 8 keys at once, spread over 4 stores: one claim per
/// key wins, every other sees it in progress; one row per key.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_two_claims_of_one_key_have_one_winner_across_connections() {
    let temp = TempDb::new().await;
    let ada = organizer(&temp.store, "ada").await;
    let stores = temp.stores(4).await;
    let keys = 8;
    let barrier = Arc::new(tokio::sync::Barrier::new(keys * 32));
    let tasks: Vec<_> = (0..keys * 32)
        .map(|i| {
            let (store, barrier) = (stores[i % 4].clone(), barrier.clone());
            let claim = IdempotencyClaim {
                scope: IdempotencyScope {
                    organizer_id: ada.id,
                    operation: "create".into(),
                    key_hash: TokenHash::of(&format!("key-{}", i % keys)),
                },
                fingerprint: TokenHash::of("the same request"),
                now: created(),
                expires_at: created() + Duration::hours(24),
                stale_before: created() - Duration::seconds(60),
            };
            tokio::spawn(async move {
                barrier.wait().await;
                (i % keys, store.claim_idempotency_key(&claim).await)
            })
        })
        .collect();
    let mut claimed: HashMap<usize, usize> = HashMap::new();
    for task in tasks {
        match task.await.unwrap() {
            (key, Ok(ClaimOutcome::Claimed)) => *claimed.entry(key).or_default() += 1,
            (_, Ok(ClaimOutcome::InProgress)) => {}
            (key, other) => panic!("key {key}: a racing claim must win or wait, got {other:?}"),
        }
    }
    assert_eq!(claimed, (0..keys).map(|k| (k, 1)).collect());
    let conn = raw(temp.path());
    assert_eq!(
        count(
            &conn,
            "SELECT COUNT(*) FROM idempotency_keys WHERE outcome IS NULL"
        ),
        keys as i64
    );
}

/// 24 bookings of `organizer` booked and cancelled with their events, all
/// dispatched into the queue `race`: 48 jobs, two per booking.
async fn enqueue_bookings(store: &dyn BookingStore, organizer: &booking_core::Organizer, n: i64) {
    let times = (0..n).map(|i| range(at(0, 0) + Duration::hours(i), 30));
    book_cancel_and_dispatch(store, organizer.id, times, "race").await;
}

/// 8 workers on 4 stores claim, deliver and finish 48 jobs (a created and a
/// cancelled job for each of 24 bookings): no job is ever handed out twice,
/// every job is done after one attempt, and a booking's cancelled job is
/// claimed only after its created job finished.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn job_claims_across_connections_hand_out_each_job_once_in_order() {
    let temp = TempDb::new().await;
    let ada = organizer(&temp.store, "ada").await;
    enqueue_bookings(&temp.store, &ada, 24).await;
    let stores = temp.stores(4).await;
    // A shared clock of tickets: one is taken before each finish and after
    // each claim, so "finished before claimed" shows as a smaller ticket.
    let tickets = Arc::new(AtomicU64::new(0));
    let lease = created() + Duration::hours(1);
    let workers: Vec<_> = (0..8)
        .map(|w| {
            let (store, tickets) = (stores[w % 4].clone(), tickets.clone());
            let owner = ada.id;
            tokio::spawn(async move {
                let mut log = Vec::new();
                loop {
                    let claimed = store.claim_jobs("race", created(), 3, lease).await.unwrap();
                    let claimed_at = tickets.fetch_add(1, Ordering::SeqCst);
                    if claimed.is_empty() {
                        let pending = store
                            .jobs(owner, "race", None, 1000)
                            .await
                            .unwrap()
                            .iter()
                            .filter(|j| j.status == JobStatus::Pending)
                            .count();
                        if pending == 0 {
                            return log;
                        }
                        tokio::task::yield_now().await;
                        continue;
                    }
                    for job in claimed {
                        let finishing = tickets.fetch_add(1, Ordering::SeqCst);
                        store
                            .finish_job(job.id, JobResult::Done { status: Some(200) }, created())
                            .await
                            .unwrap();
                        log.push((job, claimed_at, finishing));
                    }
                }
            })
        })
        .collect();
    let mut claims = Vec::new();
    for worker in workers {
        claims.extend(worker.await.unwrap());
    }
    let mut ids: Vec<JobId> = claims.iter().map(|(job, _, _)| job.id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), claims.len(), "no job handed out twice");
    assert_eq!(claims.len(), 48, "every job handed out");
    // Per booking: the cancelled job was claimed after the created one
    // began finishing.
    let mut per_booking: BTreeMap<BookingId, Vec<(String, u64, u64)>> = BTreeMap::new();
    for (job, claimed_at, finishing) in &claims {
        per_booking.entry(job.booking_id).or_default().push((
            job.payload.clone(),
            *claimed_at,
            *finishing,
        ));
    }
    for (booking, jobs) in per_booking {
        let created_job = jobs.iter().find(|j| j.0 == "booking.created").unwrap();
        let cancelled_job = jobs.iter().find(|j| j.0 == "booking.cancelled").unwrap();
        assert!(
            cancelled_job.1 > created_job.2,
            "booking {booking}: its cancelled job was claimed before its created job finished"
        );
    }
    let conn = raw(temp.path());
    assert_eq!(
        count(
            &conn,
            "SELECT COUNT(*) FROM jobs WHERE status = 'done' AND attempts = 1 AND lease_until IS NULL
               AND last_status = 200"
        ),
        48
    );
}

/// SQLite has no constraint that compares intervals across rows: the
/// guarantee is the checks made under the write lock, which read the
/// `holds` table itself. So a hold written by another program (here, by
/// hand in SQL) blocks bookings, moves and holds exactly while it is
/// unexpired, and its slot shows as occupied.
#[tokio::test]
async fn a_hold_written_in_sql_blocks_exactly_until_it_expires() {
    let temp = TempDb::new().await;
    let store = &temp.store;
    let ada = organizer(store, "ada").await;
    let other = store
        .insert_booking(new_booking(ada.id, range(at(8, 0), 30), 0, 0))
        .await
        .unwrap();
    let expires = created() + Duration::minutes(5);
    let conn = raw(temp.path());
    conn.execute(
        "INSERT INTO holds (id, organizer_id, event_type_id, start_time, end_time, buffer_before_secs,
           buffer_after_secs, occupied_start, occupied_end, token_hash, client, created_at, expires_at)
         VALUES (?1, ?2, ?2, ?3, ?4, 0, 0, ?3, ?4, ?5, NULL, ?6, ?7)",
        params![
            HoldId::generate().to_string(),
            ada.id.to_string(),
            at(10, 0).timestamp_micros(),
            at(10, 30).timestamp_micros(),
            TokenHash::of("by hand").to_hex(),
            created().timestamp_micros(),
            expires.timestamp_micros(),
        ],
    )
    .unwrap();
    let day = range(at(0, 0), 24 * 60);
    assert_eq!(
        store
            .occupied_intervals(ada.id, day, created())
            .await
            .unwrap(),
        vec![range(at(8, 0), 30), range(at(10, 0), 30)]
    );
    let into_hold = new_booking(ada.id, range(at(10, 15), 30), 0, 0);
    assert!(matches!(
        store.insert_booking(into_hold.clone()).await,
        Err(StoreError::Conflict)
    ));
    assert!(matches!(
        store
            .reschedule_booking(move_to(&other, range(at(10, 15), 30)))
            .await,
        Err(StoreError::Conflict)
    ));
    let hold = new_hold(ada.id, range(at(10, 20), 30), 0, 0, expires, None);
    assert!(matches!(
        store
            .insert_hold(NewHold {
                hold,
                limits: Vec::new(),
                max_per_client: 3
            })
            .await,
        Err(StoreError::Conflict)
    ));
    // One microsecond before it expires it still blocks; at its expiry it
    // is nothing, though its row is still there.
    let just_before = booking_core::booking::NewBooking {
        created_at: expires - Duration::microseconds(1),
        ..into_hold.clone()
    };
    assert!(matches!(
        store.insert_booking(just_before).await,
        Err(StoreError::Conflict)
    ));
    let mut late_move = move_to(&other, range(at(10, 15), 30));
    late_move.at = expires;
    store
        .reschedule_booking(late_move)
        .await
        .expect("an expired hold blocks no move");
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM holds"), 1);
    assert_eq!(
        store
            .occupied_intervals(ada.id, day, expires)
            .await
            .unwrap(),
        vec![range(at(10, 15), 30)]
    );
}

/// The new tables refuse in SQL what the store never writes.
#[tokio::test]
async fn the_lifecycle_tables_refuse_what_the_store_never_writes() {
    let temp = TempDb::new().await;
    let ada = organizer(&temp.store, "ada").await;
    let booking = temp
        .store
        .insert_booking(new_booking(ada.id, range(at(10, 0), 30), 0, 0))
        .await
        .unwrap();
    let conn = raw(temp.path());
    conn.execute_batch("PRAGMA foreign_keys = ON").unwrap();
    let hour = 3_600_000_000_i64;
    let hold = |start: i64, end: i64, before: i64, organizer: &str| {
        conn.execute(
            "INSERT INTO holds (id, organizer_id, event_type_id, start_time, end_time, buffer_before_secs,
               buffer_after_secs, occupied_start, occupied_end, token_hash, created_at, expires_at)
             VALUES (?1, ?2, ?2, ?3, ?4, 0, 0, ?3 - ?5, ?4, 'h', 0, 1)",
            params![HoldId::generate().to_string(), organizer, start, end, before],
        )
    };
    let ada_id = ada.id.to_string();
    assert!(hold(10, 10, 0, &ada_id).is_err(), "end after start");
    assert!(hold(0, 48 * hour, 24 * hour, &ada_id).is_ok(), "72 hours");
    let too_long = hold(0, 48 * hour, 24 * hour + 1, &ada_id).unwrap_err();
    assert!(
        too_long
            .to_string()
            .contains("hold_occupied_at_most_72_hours"),
        "{too_long}"
    );
    assert!(
        hold(10, 20, 0, "nobody").is_err(),
        "a hold belongs to an organizer"
    );

    let id = booking.id.to_string();
    for (edit, rule) in [
        (
            "UPDATE bookings SET sequence = -1 WHERE id = ?1",
            "sequence >= 0",
        ),
        (
            "UPDATE bookings SET rescheduled_from_start = 5 WHERE id = ?1",
            "both halves of rescheduled_from",
        ),
        (
            "UPDATE bookings SET rescheduled_from_start = 5, rescheduled_from_end = 5 WHERE id = ?1",
            "a previous time that is not empty",
        ),
    ] {
        assert!(conn.execute(edit, [&id]).is_err(), "{rule}");
    }
    assert!(
        conn.execute("UPDATE event_types SET hold_duration_secs = -1", [])
            .is_err(),
        "hold durations are not negative"
    );

    let event = |kind: &str| {
        conn.execute(
            "INSERT INTO booking_events (id, organizer_id, booking_id, kind, occurred_at, payload)
             VALUES (?1, ?2, ?3, ?4, 0, '{}')",
            params![EventId::generate().to_string(), ada_id, id, kind],
        )
    };
    assert!(event("booking.created").is_ok());
    assert!(event("booking.deleted").is_err(), "only known kinds");

    let job = |queue: &str, event_id: &str, status: &str| {
        conn.execute(
            "INSERT INTO jobs (id, queue, organizer_id, event_id, booking_id, target, payload, status, run_at,
               created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, 't', '', ?6, 0, 0, 0)",
            params![JobId::generate().to_string(), queue, ada_id, event_id, id, status],
        )
    };
    assert!(job("q", "E1", "pending").is_ok());
    let twice = job("q", "E1", "pending").unwrap_err();
    assert!(
        twice.to_string().contains("UNIQUE"),
        "one job per queue, event and target: {twice}"
    );
    assert!(job("other", "E1", "pending").is_ok());
    assert!(job("q", "E2", "sleeping").is_err(), "known statuses only");

    let record = |id: &str, lookup: &str| {
        conn.execute(
            "INSERT INTO records (kind, id, organizer_id, lookup, data, created_at)
             VALUES ('session', ?1, ?2, ?3, '{}', 0)",
            params![id, ada_id, lookup],
        )
    };
    assert!(record("r1", "k").is_ok());
    assert!(record("r2", "k").is_err(), "lookups are unique per kind");

    let key = |fingerprint: &str| {
        conn.execute(
            "INSERT INTO idempotency_keys (organizer_id, operation, key_hash, fingerprint, claimed_at, expires_at)
             VALUES (?1, 'create', 'k', ?2, 0, 1)",
            params![ada_id, fingerprint],
        )
    };
    assert!(key("a").is_ok());
    assert!(
        key("b").is_err(),
        "one record per organizer, operation and key"
    );
}

/// Rows of the new tables edited into something that does not parse are
/// reported as corrupt, not passed on.
#[tokio::test]
async fn lifecycle_rows_edited_by_hand_are_reported_as_corrupt() {
    let temp = TempDb::new().await;
    let store = &temp.store;
    let ada = organizer(store, "ada").await;
    let hold = new_hold(
        ada.id,
        range(at(10, 0), 30),
        0,
        0,
        created() + Duration::minutes(5),
        None,
    );
    // The fixture's token is the hold's id.
    let token_hash = TokenHash::of(&hold.id.to_string());
    store
        .insert_hold(NewHold {
            hold,
            limits: Vec::new(),
            max_per_client: 3,
        })
        .await
        .unwrap();
    enqueue_bookings(store, &ada, 1).await;
    let conn = raw(temp.path());
    conn.execute("UPDATE holds SET event_type_id = 'not an id'", [])
        .unwrap();
    assert!(matches!(
        store.hold_by_token_hash(&token_hash).await,
        Err(StoreError::Corrupt(_))
    ));
    conn.execute(
        "UPDATE jobs SET event_id = 'not an id' WHERE seq = (SELECT MIN(seq) FROM jobs)",
        [],
    )
    .unwrap();
    assert!(matches!(
        store.jobs(ada.id, "race", None, 10).await,
        Err(StoreError::Corrupt(_))
    ));
    conn.execute("UPDATE booking_events SET booking_id = 'x'", [])
        .unwrap();
    assert!(matches!(
        store.events_after(0, 10).await,
        Err(StoreError::Corrupt(_))
    ));
}
