//! Two operating-system processes write the same database file at once and
//! must never both book overlapping time, nor both take the last place of a
//! day.
//!
//! This file is its own test binary (`harness = false`): run plainly it is
//! the coordinator, which starts itself twice more with `WORKER_ENV` set. The
//! two workers wait for a common "go" signal, then race to open a brand-new
//! file and migrate it (WAL switch and migration), to register the same two
//! organizers (exactly one registration per username may succeed), to give
//! each their first configuration (exactly one compare-and-set from version
//! 0 may apply), and then, all at once:
//!
//! * to book the same candidate meetings, grouped so that the meetings of a
//!   group all overlap each other and no two groups overlap;
//! * to take the last place of a day whose limit is 3 and which already
//!   holds 2 bookings, each process with its own 32 free, non-overlapping
//!   slots of that day;
//! * to move two bookings into one free slot (one process moves each)
//!   while one of them also books a meeting overlapping that slot;
//! * to hold a slot in one process and book it in the other;
//! * to claim the same idempotency keys, 16 times each per process;
//! * to claim, deliver and finish 48 jobs (a booking's created and
//!   cancelled events each) with four workers per process.
//!
//! The coordinator then checks, in SQL on the file itself: no two active
//! bookings of an organizer overlap, exactly one booking per group, the
//! limited day holds exactly 3 bookings per organizer and exactly one
//! process took its last place, the winners the workers reported are
//! exactly the rows stored, and for the lifecycle races: one winner per
//! contested slot (move, insert or hold), no hold overlapping a booking,
//! one claim per key, and every job handed out exactly once, in order per
//! booking (see `lifecycle`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use booking_core::booking::{LimitCheck, NewBooking};
use booking_core::event_type::LimitPeriod;
use booking_core::organizer::{NewOrganizer, Organizer, OrganizerId};
use booking_core::secret::TokenHash;
use booking_core::store::{BookingStore, ConfigChange, StoreError};
use booking_core::testkit::fixtures::{default_event_type_id, event_type, new_booking, schedule};
use booking_core::time::TimeRange;
use booking_sqlite::rusqlite::Connection;
use booking_sqlite::{SqliteOptions, SqliteStore};
use chrono::{DateTime, Duration, TimeZone, Utc};

mod common;
/// The races of holds, moves, idempotency keys and jobs.
#[path = "two_processes/lifecycle.rs"]
mod lifecycle;

const WORKER_ENV: &str = "BOOKING_SQLITE_TWO_PROCESSES_WORKER";
const WORKERS: usize = 2;
const ORGANIZERS: [&str; 2] = ["alpha", "beta"];
const GROUPS: i64 = 8;
const CANDIDATES_PER_GROUP: i64 = 6;
const ATTEMPTS_PER_CANDIDATE: usize = 2;
const GROUP_SPACING_MINUTES: i64 = 180;
const PATIENCE: StdDuration = StdDuration::from_secs(60);
/// The limited day's limit, and the places taken before the race.
const DAY_LIMIT: u32 = 3;
const PREFILLED_HOURS: [i64; 2] = [1, 2];
/// Each process's attempts at the last place of the day.
const LIMIT_ATTEMPTS_PER_WORKER: i64 = 32;

fn base() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 7, 6, 0, 0).unwrap()
}

/// Thursday 10 December (UTC), far from the overlap groups: the limited day.
fn limited_day() -> TimeRange {
    let start = Utc.with_ymd_and_hms(2026, 12, 10, 0, 0, 0).unwrap();
    TimeRange::starting_at(start, Duration::days(1)).unwrap()
}

/// A 10-minute booking of the default event type on the limited day, `at`
/// after its midnight, carrying the day's limit.
fn limited(organizer: OrganizerId, at: Duration) -> NewBooking {
    let time = TimeRange::starting_at(limited_day().start() + at, Duration::minutes(10)).unwrap();
    NewBooking {
        limits: vec![LimitCheck {
            period: LimitPeriod::Day,
            starts_within: limited_day(),
            max: DAY_LIMIT,
        }],
        ..new_booking(organizer, time, 0, 0)
    }
}

/// Group `g`'s candidate `k`: an hour starting `7k` minutes into the group,
/// with small buffers. Every candidate of a group contains minutes 35..60 of
/// it, so they overlap pairwise; the widest reaches from -10 to 105 minutes,
/// well inside the 180 minutes between groups.
fn candidate(organizer: OrganizerId, g: i64, k: i64) -> NewBooking {
    let start = base() + Duration::minutes(g * GROUP_SPACING_MINUTES + 7 * k);
    let time = TimeRange::starting_at(start, Duration::minutes(60)).unwrap();
    NewBooking {
        title: "Cross-process race".into(),
        ..new_booking(organizer, time, (k % 3) * 5, (k % 2) * 10)
    }
}

fn wait_for(path: &Path) {
    let started = Instant::now();
    while !path.exists() {
        assert!(
            started.elapsed() < PATIENCE,
            "gave up waiting for {}",
            path.display()
        );
        std::thread::sleep(StdDuration::from_millis(2));
    }
}

fn main() {
    match std::env::var(WORKER_ENV) {
        Ok(spec) => worker(&spec),
        Err(_) => coordinator(),
    }
}

// ------------------------------------------------------------------ worker

fn worker(spec: &str) {
    let (dir, index) = spec.split_once('|').expect("worker spec is <dir>|<index>");
    let dir = PathBuf::from(dir);
    let index: usize = index.parse().expect("worker index");
    std::fs::write(dir.join(format!("ready-{index}")), b"").expect("write ready file");
    wait_for(&dir.join("go"));

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async move {
        let store = Arc::new(
            SqliteStore::open(dir.join("race.db"), SqliteOptions::default())
                .await
                .expect("open the shared file"),
        );
        store.migrate().await.expect("migrate the shared file");
        let mut organizers = Vec::new();
        for name in ORGANIZERS {
            let organizer = register_or_find(&*store, name).await;
            configure_once(&*store, &organizer).await;
            organizers.push(organizer);
        }
        for organizer in &organizers {
            prefill_limited_day(&*store, organizer.id).await;
        }
        lifecycle::prepare(&*store, index, &organizers).await;
        // Both processes start their inserts together, so the races below
        // are between processes, not one process after the other.
        std::fs::write(dir.join(format!("armed-{index}")), b"").expect("write armed file");
        for other in 0..WORKERS {
            wait_for(&dir.join(format!("armed-{other}")));
        }
        // Worker 0 walks the candidates forwards, worker 1 backwards, so both
        // ends of every group are contested.
        let mut attempts = Vec::new();
        for organizer in &organizers {
            for g in 0..GROUPS {
                for k in 0..CANDIDATES_PER_GROUP {
                    for _ in 0..ATTEMPTS_PER_CANDIDATE {
                        attempts.push(candidate(organizer.id, g, k));
                    }
                }
            }
        }
        if index % 2 == 1 {
            attempts.reverse();
        }
        // This process's own free slots of the limited day, every 15 minutes
        // from 04:00 interleaved with the other process's.
        let limit_attempts: Vec<NewBooking> = organizers
            .iter()
            .flat_map(|organizer| {
                (0..LIMIT_ATTEMPTS_PER_WORKER).map(move |i| {
                    let slot = 2 * i + index as i64;
                    limited(organizer.id, Duration::hours(4) + Duration::minutes(15 * slot))
                })
            })
            .collect();
        let tasks: Vec<_> = attempts
            .into_iter()
            .map(|booking| (false, booking))
            .chain(limit_attempts.into_iter().map(|booking| (true, booking)))
            .map(|(for_limit, booking)| {
                let store = Arc::clone(&store);
                tokio::spawn(async move { (for_limit, store.insert_booking(booking).await) })
            })
            .collect();
        // The lifecycle races run at the same time as the inserts.
        let lifecycle = tokio::spawn(lifecycle::race(Arc::clone(&store), index, organizers.clone()));
        let (mut conflicts, mut limit_refusals) = (0, 0);
        for task in tasks {
            match task.await.expect("insert task panicked") {
                (for_limit, Ok(booking)) => {
                    println!("won {}", booking.id);
                    if for_limit {
                        println!("last place {} {}", booking.organizer_id, booking.id);
                    }
                }
                (false, Err(StoreError::Conflict)) => conflicts += 1,
                (true, Err(StoreError::LimitReached(LimitPeriod::Day))) => limit_refusals += 1,
                (for_limit, Err(other)) => panic!(
                    "worker {index}: an insert (limited: {for_limit}) must win or be refused, got: {other:?}"
                ),
            }
        }
        println!("conflicts {conflicts}");
        println!("limit refusals {limit_refusals}");
        lifecycle.await.expect("the lifecycle races panicked");
        // The job race starts together too, with nothing else queued.
        std::fs::write(dir.join(format!("jobs-{index}")), b"").expect("write jobs file");
        for other in 0..WORKERS {
            wait_for(&dir.join(format!("jobs-{other}")));
        }
        lifecycle::work(store, &organizers).await;
    });
}

/// Registers `name`, or, if the other process got there first, finds it.
async fn register_or_find(store: &dyn BookingStore, name: &str) -> Organizer {
    let created = store
        .create_organizer(
            OrganizerId::generate(),
            NewOrganizer {
                username: name.to_owned(),
                email: format!("{name}@example.com"),
                display_name: name.to_owned(),
                time_zone: chrono_tz::UTC,
            },
            TokenHash::of(&format!("{name}-{}", std::process::id())),
            base(),
        )
        .await;
    match created {
        Ok(organizer) => {
            println!("registered {name}");
            organizer
        }
        Err(StoreError::UsernameTaken(_)) => store
            .organizer_by_username(name)
            .await
            .expect("look up organizer")
            .expect("a taken username belongs to a stored organizer"),
        Err(other) => panic!("create_organizer {name}: {other:?}"),
    }
}

/// Gives the organizer their default schedule and event type, from version
/// 0: exactly one of the processes' compare-and-sets applies, the other
/// finds the version moved on.
async fn configure_once(store: &dyn BookingStore, organizer: &Organizer) {
    let first = vec![
        ConfigChange::PutSchedule(schedule(organizer.id)),
        ConfigChange::PutEventType(event_type(organizer.id)),
    ];
    match store.update_config(organizer.id, 0, first).await {
        Ok(1) => println!("configured {}", organizer.username),
        Err(StoreError::ConfigChanged) => {}
        other => panic!("update_config {}: {other:?}", organizer.username),
    }
}

/// Takes the limited day's first two places, unless the other process
/// already did (then the same time is a conflict).
async fn prefill_limited_day(store: &dyn BookingStore, organizer: OrganizerId) {
    for hour in PREFILLED_HOURS {
        match store
            .insert_booking(limited(organizer, Duration::hours(hour)))
            .await
        {
            Ok(booking) => println!("won {}", booking.id),
            Err(StoreError::Conflict) => {}
            Err(other) => panic!("prefilling the limited day: {other:?}"),
        }
    }
}

// ------------------------------------------------------------- coordinator

fn coordinator() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let exe = std::env::current_exe().expect("path of this test binary");
    let children: Vec<_> = (0..WORKERS)
        .map(|index| {
            Command::new(&exe)
                .env(WORKER_ENV, format!("{}|{index}", dir.path().display()))
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .expect("start a worker process")
        })
        .collect();
    for index in 0..WORKERS {
        wait_for(&dir.path().join(format!("ready-{index}")));
    }
    std::fs::write(dir.path().join("go"), b"").expect("write go file");

    let mut won: Vec<String> = Vec::new();
    let mut registered: BTreeMap<String, usize> = BTreeMap::new();
    let mut configured: BTreeMap<String, usize> = BTreeMap::new();
    let mut last_places: BTreeMap<String, Vec<(usize, String)>> = BTreeMap::new();
    let mut lifecycle_lines: Vec<(usize, String)> = Vec::new();
    for (index, child) in children.into_iter().enumerate() {
        let output = child.wait_with_output().expect("wait for worker");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "worker {index} failed ({}); stdout:\n{stdout}",
            output.status
        );
        let mut wins = 0;
        for line in stdout.lines() {
            if let Some(id) = line.strip_prefix("won ") {
                won.push(id.to_owned());
                wins += 1;
            } else if let Some(name) = line.strip_prefix("registered ") {
                *registered.entry(name.to_owned()).or_default() += 1;
            } else if let Some(name) = line.strip_prefix("configured ") {
                *configured.entry(name.to_owned()).or_default() += 1;
            } else if lifecycle::is_report(line) {
                lifecycle_lines.push((index, line.to_owned()));
            } else if let Some(rest) = line.strip_prefix("last place ") {
                let (organizer, id) = rest.split_once(' ').expect("last place <organizer> <id>");
                last_places
                    .entry(organizer.to_owned())
                    .or_default()
                    .push((index, id.to_owned()));
            }
        }
        println!("worker {index}: {wins} winning inserts");
    }

    let conn = Connection::open(dir.path().join("race.db")).expect("open the raced file");
    check(&conn, &won, &registered);
    check_limits(&conn, &configured, &last_places);
    lifecycle::check(&conn, &lifecycle_lines);
    println!("two_processes: ok ({} bookings, no overlaps)", won.len());
    // The closing line of a libtest run, so test summaries count this check too.
    println!("test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out");
}

fn check(conn: &Connection, won: &[String], registered: &BTreeMap<String, usize>) {
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
    let level: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        level,
        booking_sqlite::SCHEMA_LEVEL,
        "migrated exactly once to the current level"
    );

    // Each username registered exactly once, by one of the two processes.
    for name in ORGANIZERS {
        assert_eq!(
            registered.get(name),
            Some(&1),
            "{name} must be registered by exactly one process"
        );
    }
    let organizers: i64 = conn
        .query_row("SELECT COUNT(*) FROM organizers", [], |r| r.get(0))
        .unwrap();
    assert_eq!(organizers, ORGANIZERS.len() as i64);

    // No two active bookings of an organizer overlap: a self-join in SQL.
    let overlapping: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM bookings a JOIN bookings b
               ON a.organizer_id = b.organizer_id AND a.id < b.id
             WHERE a.deleted_at IS NULL AND b.deleted_at IS NULL
               AND a.occupied_start < b.occupied_end AND b.occupied_start < a.occupied_end",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(overlapping, 0, "overlapping active bookings in the file");

    // Exactly one booking per (organizer, group of mutually overlapping candidates).
    let spacing_us = GROUP_SPACING_MINUTES * 60 * 1_000_000;
    let base_us = base().timestamp_micros();
    let mut stmt = conn
        .prepare(
            "SELECT organizer_id, (start_time - ?1) / ?2 AS grp, COUNT(*) FROM bookings
             WHERE deleted_at IS NULL AND start_time < ?3 GROUP BY organizer_id, grp",
        )
        .unwrap();
    let groups: Vec<(String, i64, i64)> = stmt
        .query_map(
            [
                base_us,
                spacing_us,
                limited_day().start().timestamp_micros(),
            ],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        groups.len() as i64,
        GROUPS * ORGANIZERS.len() as i64,
        "every group has a winner: {groups:?}"
    );
    for (organizer, group, winners) in &groups {
        assert_eq!(
            *winners, 1,
            "organizer {organizer}, group {group}: exactly one winner"
        );
    }

    // The winners the processes reported are exactly the rows stored.
    let reported: BTreeSet<&str> = won.iter().map(String::as_str).collect();
    assert_eq!(
        reported.len(),
        won.len(),
        "a booking was reported won twice"
    );
    let mut stmt = conn.prepare("SELECT id FROM bookings").unwrap();
    let stored: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let stored: BTreeSet<&str> = stored.iter().map(String::as_str).collect();
    assert_eq!(stored, reported, "stored rows and reported winners differ");
}

fn check_limits(
    conn: &Connection,
    configured: &BTreeMap<String, usize>,
    last_places: &BTreeMap<String, Vec<(usize, String)>>,
) {
    for name in ORGANIZERS {
        assert_eq!(
            configured.get(name),
            Some(&1),
            "{name}: exactly one process's compare-and-set from version 0 applies"
        );
    }
    let mut stmt = conn
        .prepare("SELECT id, config_version FROM organizers")
        .unwrap();
    let organizers: Vec<(String, i64)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for (organizer, version) in &organizers {
        assert_eq!(*version, 1, "organizer {organizer}: configured once");
        let on_the_day: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM bookings WHERE organizer_id = ?1 AND event_type_id = ?2
                   AND deleted_at IS NULL AND start_time >= ?3 AND start_time < ?4",
                booking_sqlite::rusqlite::params![
                    organizer,
                    default_event_type_id(organizer.parse().unwrap()).to_string(),
                    limited_day().start().timestamp_micros(),
                    limited_day().end().timestamp_micros(),
                ],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(
            on_the_day,
            i64::from(DAY_LIMIT),
            "organizer {organizer}: the limited day holds exactly its limit"
        );
        let winners = last_places.get(organizer).map_or(&[][..], Vec::as_slice);
        assert_eq!(
            winners.len(),
            1,
            "organizer {organizer}: exactly one process took the last place: {winners:?}"
        );
        println!(
            "organizer {organizer}: last place taken by worker {}",
            winners[0].0
        );
    }
}
