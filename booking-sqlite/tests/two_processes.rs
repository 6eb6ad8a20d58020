//! Two operating-system processes write the same database file at once and
//! must never both book overlapping time.
//!
//! This file is its own test binary (`harness = false`): run plainly it is
//! the coordinator, which starts itself twice more with `WORKER_ENV` set. The
//! two workers wait for a common "go" signal, then race to open a brand-new
//! file (WAL switch and migration), to register the same two organizers
//! (exactly one registration per username may succeed), and to book the same
//! candidate meetings, grouped so that the meetings of a group all overlap
//! each other and no two groups overlap. The coordinator then checks, in SQL
//! on the file itself: no two active bookings of an organizer overlap,
//! exactly one booking per group, and the winners the workers reported are
//! exactly the rows stored.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use booking_core::booking::{BookingId, NewBooking};
use booking_core::organizer::{NewOrganizer, Organizer, OrganizerId};
use booking_core::secret::TokenHash;
use booking_core::store::{BookingStore, StoreError};
use booking_core::time::TimeRange;
use booking_sqlite::SqliteStore;
use booking_sqlite::rusqlite::Connection;
use chrono::{DateTime, Duration, TimeZone, Utc};

const WORKER_ENV: &str = "BOOKING_SQLITE_TWO_PROCESSES_WORKER";
const WORKERS: usize = 2;
const ORGANIZERS: [&str; 2] = ["alpha", "beta"];
const GROUPS: i64 = 8;
const CANDIDATES_PER_GROUP: i64 = 6;
const ATTEMPTS_PER_CANDIDATE: usize = 2;
const GROUP_SPACING_MINUTES: i64 = 180;
const PATIENCE: StdDuration = StdDuration::from_secs(60);

fn base() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 7, 6, 0, 0).unwrap()
}

/// Group `g`'s candidate `k`: an hour starting `7k` minutes into the group,
/// with small buffers. Every candidate of a group contains minutes 35..60 of
/// it, so they overlap pairwise; the widest reaches from -10 to 105 minutes,
/// well inside the 180 minutes between groups.
fn candidate(organizer: OrganizerId, g: i64, k: i64) -> NewBooking {
    let start = base() + Duration::minutes(g * GROUP_SPACING_MINUTES + 7 * k);
    NewBooking {
        id: BookingId::generate(),
        organizer_id: organizer,
        attendant_name: format!("Racer {g}/{k}"),
        attendant_email: "racer@example.com".into(),
        metadata: None,
        title: "Cross-process race".into(),
        description: None,
        time: TimeRange::starting_at(start, Duration::minutes(60)).unwrap(),
        buffer_before: Duration::minutes((k % 3) * 5),
        buffer_after: Duration::minutes((k % 2) * 10),
        cancel_token_hash: TokenHash::of("cancel"),
        created_at: base(),
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
            SqliteStore::open(dir.join("race.db"))
                .await
                .expect("open the shared file"),
        );
        let mut organizers = Vec::new();
        for name in ORGANIZERS {
            organizers.push(register_or_find(&*store, name).await);
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
        let tasks: Vec<_> = attempts
            .into_iter()
            .map(|booking| {
                let store = Arc::clone(&store);
                tokio::spawn(async move { store.insert_booking(booking).await })
            })
            .collect();
        let mut conflicts = 0;
        for task in tasks {
            match task.await.expect("insert task panicked") {
                Ok(booking) => println!("won {}", booking.id),
                Err(StoreError::Conflict) => conflicts += 1,
                Err(other) => {
                    panic!("worker {index}: an insert must win or conflict, got: {other:?}")
                }
            }
        }
        println!("conflicts {conflicts}");
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
            }
        }
        println!("worker {index}: {wins} winning inserts");
    }

    let conn = Connection::open(dir.path().join("race.db")).expect("open the raced file");
    check(&conn, &won, &registered);
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
             WHERE deleted_at IS NULL GROUP BY organizer_id, grp",
        )
        .unwrap();
    let groups: Vec<(String, i64, i64)> = stmt
        .query_map([base_us, spacing_us], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
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
