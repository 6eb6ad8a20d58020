//! The load program's plumbing on the backends that need no server: short
//! count-bounded runs must book exactly what they claim, find no overlap,
//! and see exactly one winner per contended round. (PostgreSQL and Redis
//! are exercised by the short `--check` run in `.ci/run`.) No timing is
//! asserted anywhere.

use std::time::Duration;

use benches::backend::{BackendKind, DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL, Env};
use benches::fixtures::Bound;
use benches::run::{LoadOptions, run_backend};

fn options(http: bool) -> LoadOptions {
    LoadOptions {
        concurrency: 4,
        bound: Bound::Count(200),
        rounds: 2,
        organizers_per_task: 2,
        contended_rounds: 3,
        racers: 16,
        round_trip_bookings: 0,
        plain_insert: false,
        http,
        breakdown: true,
    }
}

fn env() -> Env {
    Env {
        database_url: DEFAULT_DATABASE_URL.into(),
        redis_url: DEFAULT_REDIS_URL.into(),
        pool_size: 4,
        pool_ping: true,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_memory_run_books_what_it_claims_without_overlap() {
    let report = run_backend(BackendKind::Memory, &env(), &options(false))
        .await
        .unwrap();
    assert_eq!(report.problems(), Vec::<String>::new());
    assert_eq!(report.service.ok, 200);
    assert_eq!(report.service.error_count(), 0);
    assert_eq!(report.contended.winners, vec![1, 1, 1]);
    assert_eq!(report.check.overlapping, 0);
    assert_eq!(report.check.active, report.expected_active);
    // Limit, plus the breakdown's booking_context + insert_booking.
    assert_eq!(report.limits.len(), 2);
    assert!(report.limits.iter().all(|l| l.measurement.ok == 200));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_run_with_http_books_what_it_claims_without_overlap() {
    let report = run_backend(BackendKind::Sqlite, &env(), &options(true))
        .await
        .unwrap();
    assert_eq!(report.problems(), Vec::<String>::new());
    assert_eq!(report.service.ok, 200);
    let http = report.http.as_ref().unwrap();
    assert_eq!(
        http.bookings_http.ok,
        200,
        "{}",
        http.bookings_http.errors_text()
    );
    assert_eq!(http.slots_http.ok, 200, "{}", http.slots_http.errors_text());
    assert_eq!(http.slots_in_process.ok, 200);
    assert_eq!(report.check.active, report.expected_active);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_lock_the_sqlite_store_alone_keeps_one_winner_per_round() {
    let mut options = options(false);
    options.racers = 32;
    options.contended_rounds = 5;
    let report = run_backend(BackendKind::SqliteNoLock, &env(), &options)
        .await
        .unwrap();
    assert_eq!(report.problems(), Vec::<String>::new());
    assert_eq!(report.contended.winners, vec![1; 5]);
    // Every loser reached the store and was refused as busy.
    let refused: Vec<&str> = report
        .contended
        .losers
        .errors
        .iter()
        .map(|(c, _)| c.as_str())
        .collect();
    assert_eq!(refused, vec!["slot_unavailable"]);
}

#[test]
fn the_engine_table_covers_every_workload() {
    let table = benches::engine::engine_table(Duration::from_millis(5)).unwrap();
    let names: Vec<&str> = table.rows.iter().map(|r| r.workload.as_str()).collect();
    assert_eq!(names.len(), 12, "{names:#?}");
    let row = |name: &str| table.rows.iter().find(|r| r.workload == name).unwrap();
    assert_eq!(row("available_slots, 62 days, 0 busy").offered, 720);
    assert_eq!(row("available_slots, 1 days, no busy").offered, 16);
    assert_eq!(
        row("available_slots, 62 days, 10000 busy, unsorted").offered,
        0
    );
    assert_eq!(row("check_booking, 1 request, 10000 busy").offered, 1);
}
