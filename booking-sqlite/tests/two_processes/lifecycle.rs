//! The lifecycle races between the two worker processes, on days of their
//! own (so they contest nothing with the insert races), and the
//! coordinator's checks of their outcome in SQL.
//!
//! * **Moves** (12 December): in each of 8 rounds per organizer, bookings A
//!   and B (fixed ids, inserted by whichever process comes first) are moved
//!   into one free slot, A by worker 0 and B by worker 1, while one of the
//!   workers books a meeting overlapping that slot: exactly one of the
//!   three wins.
//! * **Holds** (14 December): 16 slots per organizer, each held by one
//!   process and booked by the other: exactly one wins each slot.
//! * **Idempotency keys**: 8 keys per organizer, each claimed 16 times by
//!   each process: exactly one claim per key wins.
//! * **Jobs** (16 December): each process books 24 meetings of `alpha`
//!   with their created event and cancels them with their cancelled event,
//!   and dispatches all events into the queue `race` before the start;
//!   once both processes are through the races above, they start together
//!   again and 4 workers per process claim (2 at a time), deliver and
//!   finish the 96 jobs: every job is handed out once, and a booking's
//!   cancelled job only after its created job is done.
//!
//! Workers report winners as lines on stdout (`moved`, `inserted`, `slot`,
//! `claimed`, `job`); the coordinator checks them against the file.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use booking_core::booking::{BookingId, NewBooking};
use booking_core::event::BookingEventKind;
use booking_core::hold::NewHold;
use booking_core::idempotency::{ClaimOutcome, IdempotencyClaim, IdempotencyScope};
use booking_core::organizer::{Organizer, OrganizerId};
use booking_core::queue::{JobResult, JobStatus};
use booking_core::secret::TokenHash;
use booking_core::store::{BookingStore, Reschedule, StoreError};
use booking_core::testkit::fixtures::{created, new_booking, new_hold, range};
use booking_core::time::TimeRange;
use booking_sqlite::SqliteStore;
use booking_sqlite::rusqlite::{Connection, params};
use chrono::{DateTime, Duration, TimeZone, Utc};

use super::common::{book_cancel_and_dispatch, holds_overlapping};

const ROUNDS: i64 = 8;
const SLOTS: i64 = 16;
const KEYS: usize = 8;
const CLAIMS_PER_KEY_PER_PROCESS: usize = 16;
const JOB_BOOKINGS_PER_PROCESS: i64 = 24;
const JOB_WORKERS_PER_PROCESS: usize = 4;
const PROCESSES: i64 = 2;
const QUEUE: &str = "race";

/// Midnight UTC of December `d`, 2026.
fn day(d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, d, 0, 0, 0).unwrap()
}

/// Round `r`'s three hours on 12 December: A at :00, B at :40, the
/// contested slot at 1:20, the competing new meeting at 1:35.
fn round_start(r: i64) -> DateTime<Utc> {
    day(12) + Duration::hours(3 * r)
}

fn mover(r: i64, which: i64) -> TimeRange {
    range(round_start(r) + Duration::minutes(40 * which), 30)
}

fn target(r: i64) -> TimeRange {
    range(round_start(r) + Duration::minutes(80), 30)
}

fn competitor(r: i64) -> TimeRange {
    range(round_start(r) + Duration::minutes(95), 30)
}

/// Slot `k` of the hold race on 14 December.
fn held_slot(k: i64) -> TimeRange {
    range(day(14) + Duration::minutes(40 * k), 30)
}

/// A fixed booking id both processes know: organizer `o`'s booking `n`.
fn fixed_id(o: usize, n: i64) -> BookingId {
    format!("01JF{:022}", o as i64 * 1000 + n)
        .parse()
        .expect("a valid ULID")
}

/// Before the start: the bookings to move, and this process's share of the
/// job queue, dispatched.
pub async fn prepare(store: &dyn BookingStore, index: usize, organizers: &[Organizer]) {
    for (o, organizer) in organizers.iter().enumerate() {
        for r in 0..ROUNDS {
            for which in 0..2 {
                let booking = NewBooking {
                    id: fixed_id(o, 2 * r + which),
                    ..new_booking(organizer.id, mover(r, which), 0, 0)
                };
                match store.insert_booking(booking).await {
                    Ok(booking) => println!("won {}", booking.id),
                    // The other process inserted it first.
                    Err(StoreError::Conflict) => {}
                    Err(other) => panic!("preparing the moves: {other:?}"),
                }
            }
        }
    }
    let times = (0..JOB_BOOKINGS_PER_PROCESS).map(|j| {
        let slot = 2 * j + index as i64;
        range(day(16) + Duration::minutes(40 * slot), 30)
    });
    for id in book_cancel_and_dispatch(store, organizers[0].id, times, QUEUE).await {
        println!("won {id}");
    }
}

/// After the start: every lifecycle race at once.
pub async fn race(store: Arc<SqliteStore>, index: usize, organizers: Vec<Organizer>) {
    let me = index as i64;
    let mut tasks = Vec::new();
    for (o, organizer) in organizers.iter().enumerate() {
        let org = organizer.id;
        for r in 0..ROUNDS {
            let change = Reschedule {
                id: fixed_id(o, 2 * r + me),
                organizer_id: org,
                expected_sequence: 0,
                time: target(r),
                buffer_before: Duration::zero(),
                buffer_after: Duration::zero(),
                limits: Vec::new(),
                at: created() + Duration::minutes(1),
                event: None,
            };
            let shared = Arc::clone(&store);
            tasks.push(tokio::spawn(async move {
                match shared.reschedule_booking(change).await {
                    Ok(moved) => println!("moved {org} {r} {}", moved.id),
                    Err(StoreError::Conflict) => {}
                    Err(other) => panic!("a racing move must win or conflict: {other:?}"),
                }
            }));
            if r % PROCESSES == me {
                let shared = Arc::clone(&store);
                let booking = new_booking(org, competitor(r), 0, 0);
                tasks.push(tokio::spawn(async move {
                    match shared.insert_booking(booking).await {
                        Ok(booking) => {
                            println!("won {}", booking.id);
                            println!("inserted {org} {r} {}", booking.id);
                        }
                        Err(StoreError::Conflict) => {}
                        Err(other) => panic!("a racing insert must win or conflict: {other:?}"),
                    }
                }));
            }
        }
        for k in 0..SLOTS {
            let shared = Arc::clone(&store);
            if (k + me) % PROCESSES == 0 {
                let client = format!("worker-{index}");
                let mut hold = new_hold(
                    org,
                    held_slot(k),
                    0,
                    5,
                    created() + Duration::minutes(5),
                    Some(&client),
                );
                hold.token_hash = TokenHash::of(&format!("hold-{index}-{o}-{k}"));
                tasks.push(tokio::spawn(async move {
                    let new = NewHold {
                        hold,
                        limits: Vec::new(),
                        max_per_client: 100,
                    };
                    match shared.insert_hold(new).await {
                        Ok(hold) => println!("slot {org} {k} hold {}", hold.id),
                        Err(StoreError::Conflict) => {}
                        Err(other) => panic!("a racing hold must win or conflict: {other:?}"),
                    }
                }));
            } else {
                let booking = new_booking(org, held_slot(k), 5, 0);
                tasks.push(tokio::spawn(async move {
                    match shared.insert_booking(booking).await {
                        Ok(booking) => {
                            println!("won {}", booking.id);
                            println!("slot {org} {k} booking {}", booking.id);
                        }
                        Err(StoreError::Conflict) => {}
                        Err(other) => panic!("a racing booking must win or conflict: {other:?}"),
                    }
                }));
            }
        }
        for key in 0..KEYS {
            for _ in 0..CLAIMS_PER_KEY_PER_PROCESS {
                let shared = Arc::clone(&store);
                let claim = IdempotencyClaim {
                    scope: IdempotencyScope {
                        organizer_id: org,
                        operation: "create".into(),
                        key_hash: TokenHash::of(&format!("key-{key}")),
                    },
                    fingerprint: TokenHash::of("the same request"),
                    now: created(),
                    expires_at: created() + Duration::hours(24),
                    stale_before: created() - Duration::seconds(60),
                };
                tasks.push(tokio::spawn(async move {
                    match shared.claim_idempotency_key(&claim).await {
                        Ok(ClaimOutcome::Claimed) => println!("claimed {org} {key}"),
                        Ok(ClaimOutcome::InProgress) => {}
                        other => panic!("a racing claim must win or wait: {other:?}"),
                    }
                }));
            }
        }
    }
    for task in tasks {
        task.await.expect("a lifecycle race task panicked");
    }
}

/// After a second start, once both processes finished every other race:
/// this process's job workers, until the queue is empty.
pub async fn work(store: Arc<SqliteStore>, organizers: &[Organizer]) {
    let alpha = organizers[0].id;
    let workers: Vec<_> = (0..JOB_WORKERS_PER_PROCESS)
        .map(|_| tokio::spawn(work_on_jobs(Arc::clone(&store), alpha)))
        .collect();
    for worker in workers {
        worker.await.expect("a job worker panicked");
    }
}

/// Claims, delivers and finishes jobs until none is pending. Before
/// delivering a booking's cancelled job it checks that the created job is
/// done: the queue must never hand out the second before the first
/// finished, whichever process holds it.
async fn work_on_jobs(store: Arc<SqliteStore>, organizer: OrganizerId) {
    let lease = created() + Duration::hours(1);
    loop {
        let claimed = store
            .claim_jobs(QUEUE, created(), 2, lease)
            .await
            .expect("claim jobs");
        if claimed.is_empty() {
            let jobs = store
                .jobs(organizer, QUEUE, None, 1000)
                .await
                .expect("list jobs");
            if jobs.iter().all(|j| j.status != JobStatus::Pending) {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            continue;
        }
        for job in &claimed {
            if job.payload != BookingEventKind::Cancelled.name() {
                continue;
            }
            // The created job was still pending if it came in the same
            // claim; otherwise it must be done by now.
            let together = claimed
                .iter()
                .any(|other| other.booking_id == job.booking_id && other.id != job.id);
            let jobs = store
                .jobs(organizer, QUEUE, None, 1000)
                .await
                .expect("list jobs");
            let first = jobs
                .iter()
                .find(|j| {
                    j.booking_id == job.booking_id && j.payload == BookingEventKind::Created.name()
                })
                .expect("the booking's created job");
            assert!(
                !together && first.status == JobStatus::Done,
                "booking {}: its cancelled job was handed out before its created job finished",
                job.booking_id
            );
        }
        for job in claimed {
            println!("job {} {}", job.id, job.booking_id);
            store
                .finish_job(job.id, JobResult::Done { status: Some(200) }, created())
                .await
                .expect("finish a job");
        }
    }
}

/// Whether `line` is one of the reports above.
pub fn is_report(line: &str) -> bool {
    ["moved ", "inserted ", "slot ", "claimed ", "job "]
        .iter()
        .any(|prefix| line.starts_with(prefix))
}

/// The coordinator's checks, on the file and the workers' reports
/// (`(worker, line)`).
pub fn check(conn: &Connection, reports: &[(usize, String)]) {
    let mut organizers: Vec<String> = conn
        .prepare("SELECT id FROM organizers ORDER BY username")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    organizers.sort();
    let mut per_round: BTreeMap<(String, i64), Vec<(usize, String)>> = BTreeMap::new();
    let mut per_slot: BTreeMap<(String, i64), Vec<(usize, String)>> = BTreeMap::new();
    let mut per_key: BTreeMap<(String, usize), usize> = BTreeMap::new();
    let mut jobs: Vec<(usize, String)> = Vec::new();
    let mut moves = 0;
    for (worker, line) in reports {
        let words: Vec<&str> = line.split(' ').collect();
        match words.as_slice() {
            [kind @ ("moved" | "inserted"), org, r, id] => {
                moves += usize::from(*kind == "moved");
                per_round
                    .entry((org.to_string(), r.parse().unwrap()))
                    .or_default()
                    .push((*worker, format!("{kind} {id}")));
            }
            ["slot", org, k, kind, id] => per_slot
                .entry((org.to_string(), k.parse().unwrap()))
                .or_default()
                .push((*worker, format!("{kind} {id}"))),
            ["claimed", org, key] => {
                *per_key
                    .entry((org.to_string(), key.parse().unwrap()))
                    .or_default() += 1
            }
            ["job", id, _booking] => jobs.push((*worker, id.to_string())),
            _ => panic!("unexpected report {line:?}"),
        }
    }
    for org in &organizers {
        for r in 0..ROUNDS {
            let winners = per_round.get(&(org.clone(), r)).map_or(0, Vec::len);
            assert_eq!(
                winners,
                1,
                "organizer {org}, round {r}: exactly one of two moves and an insert wins: {:?}",
                per_round.get(&(org.clone(), r))
            );
            let occupying: i64 = conn
                .query_row(
                    "SELECT COUNT(*) FROM bookings WHERE organizer_id = ?1 AND deleted_at IS NULL
                       AND occupied_start < ?3 AND occupied_end > ?2",
                    params![
                        org,
                        target(r).start().timestamp_micros(),
                        competitor(r).end().timestamp_micros()
                    ],
                    |row| row.get(0),
                )
                .unwrap();
            assert_eq!(occupying, 1, "organizer {org}, round {r}: in the file");
        }
        for k in 0..SLOTS {
            let winners = per_slot.get(&(org.clone(), k)).map_or(0, Vec::len);
            assert_eq!(
                winners,
                1,
                "organizer {org}, slot {k}: a hold in one process and a booking in the other, one wins: {:?}",
                per_slot.get(&(org.clone(), k))
            );
        }
        for key in 0..KEYS {
            assert_eq!(
                per_key.get(&(org.clone(), key)),
                Some(&1),
                "organizer {org}, key {key}: one claim of 32 wins"
            );
        }
    }
    let moved_rows: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM bookings WHERE sequence = 1 AND rescheduled_from_start IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        moved_rows, moves as i64,
        "exactly the reported moves were applied"
    );
    assert_eq!(
        holds_overlapping(conn, created().timestamp_micros()),
        0,
        "no unexpired hold overlaps a booking or another hold"
    );
    let held_or_booked: i64 = conn
        .query_row(
            "SELECT (SELECT COUNT(*) FROM holds) + (SELECT COUNT(*) FROM bookings
               WHERE start_time >= ?1 AND start_time < ?2)",
            params![day(14).timestamp_micros(), day(15).timestamp_micros()],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        held_or_booked,
        SLOTS * organizers.len() as i64,
        "losers wrote nothing"
    );
    let keys: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM idempotency_keys WHERE outcome IS NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(keys, (KEYS * organizers.len()) as i64);

    let expected_jobs = 2 * PROCESSES * JOB_BOOKINGS_PER_PROCESS;
    let handed_out: BTreeSet<&str> = jobs.iter().map(|(_, id)| id.as_str()).collect();
    assert_eq!(handed_out.len(), jobs.len(), "a job was handed out twice");
    assert_eq!(jobs.len() as i64, expected_jobs, "every job was handed out");
    let done: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM jobs WHERE queue = ?1 AND status = 'done' AND attempts = 1
               AND lease_until IS NULL",
            [QUEUE],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(done, expected_jobs, "each job done after one attempt");
    for worker in 0..PROCESSES as usize {
        let taken = jobs.iter().filter(|(w, _)| *w == worker).count();
        println!("worker {worker}: {taken} jobs");
        assert!(
            taken > 0,
            "worker {worker} took no job: the queue was not shared between the processes"
        );
    }
}
