//! Criterion benchmarks of the availability engine alone
//! (`cargo bench -p booking-core --bench engine`), on the workload of the
//! `benches` crate: America/New_York, Monday to Friday 09:00–17:00,
//! 30-minute slots every 30 minutes, no buffers, no busy time, windows from
//! Monday 16 February 2026 (the 62-day one crosses the March change and
//! offers 720 slots). Throughput is in slots, so the inverse of criterion's
//! "thrpt" is the time per slot.
//!
//! On a loaded machine wall-clock figures wander; instruction counts do not.
//! With `ENGINE_ITERATIONS=n` (and optionally `ENGINE_WINDOW_DAYS=d`, default
//! 62) the binary skips criterion and calls `available_slots` `n` times on
//! the `d`-day window, for a profiler:
//!
//! ```text
//! ENGINE_ITERATIONS=1000 valgrind --tool=callgrind \
//!     --toggle-collect='booking_core::availability::available_slots*' \
//!     target/release/deps/engine-<hash> --bench
//! ```
//!
//! then divide the instructions collected by `n`.

#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Duration as StdDuration;

use booking_core::availability::{SlotRules, Taken, available_slots, check_booking};
use booking_core::chrono::{DateTime, Duration, TimeZone, Utc};
use booking_core::{
    BookingWindow, EventType, EventTypeDraft, EventTypeId, LocalInterval, OrganizerId, Schedule,
    ScheduleId, TimeRange, WeeklyHours,
};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};

fn utc(y: i32, mo: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, 0, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

fn workload() -> (Schedule, EventType) {
    let organizer = OrganizerId::generate();
    let hours = LocalInterval::parse("09:00", "17:00").expect("hours");
    let schedule = Schedule {
        id: ScheduleId::generate(),
        organizer_id: organizer,
        name: "Hours".into(),
        time_zone: booking_core::chrono_tz::America::New_York,
        weekly_hours: WeeklyHours::weekdays(vec![hours]),
        date_overrides: Default::default(),
        is_default: true,
    };
    let mut draft = EventTypeDraft::new("bench", "Bench", Duration::minutes(30));
    draft.slot_step = Some(Duration::minutes(30));
    draft.booking_window = BookingWindow::Rolling {
        horizon: Duration::days(400),
    };
    let event_type = draft
        .build(EventTypeId::generate(), organizer)
        .expect("event type");
    (schedule, event_type)
}

fn window(days: i64) -> TimeRange {
    TimeRange::starting_at(utc(2026, 2, 16, 5), Duration::days(days)).expect("window")
}

fn window_series(c: &mut Criterion) {
    let (schedule, event_type) = workload();
    let rules = SlotRules::new(&schedule, &event_type, None).expect("rules");
    let now = utc(2026, 2, 1, 0);
    let mut group = c.benchmark_group("engine/available_slots/window_days");
    for days in [1i64, 7, 62, 366] {
        let window = window(days);
        let slots = available_slots(&rules, Taken::default(), window, now).len();
        if days == 62 {
            assert_eq!(slots, 720);
        }
        group.throughput(Throughput::Elements(slots.max(1) as u64));
        group.bench_with_input(BenchmarkId::from_parameter(days), &window, |b, window| {
            b.iter(|| available_slots(&rules, Taken::default(), black_box(*window), now))
        });
    }
    group.finish();
}

fn check_one(c: &mut Criterion) {
    let (schedule, event_type) = workload();
    let rules = SlotRules::new(&schedule, &event_type, None).expect("rules");
    let now = utc(2026, 2, 1, 0);
    let slots = available_slots(&rules, Taken::default(), window(62), now);
    let slot = slots[slots.len() / 2];
    c.bench_function("engine/check_booking/1_request", |b| {
        b.iter(|| check_booking(&rules, black_box(slot), Taken::default(), now))
    });
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(StdDuration::from_secs(1))
        .measurement_time(StdDuration::from_secs(3))
}

criterion_group! {
    name = engine;
    config = config();
    targets = window_series, check_one
}

/// `ENGINE_ITERATIONS` calls of `available_slots` without criterion, for a
/// profiler; returns whether it ran.
fn profile_run() -> bool {
    let Some(iterations) = std::env::var("ENGINE_ITERATIONS")
        .ok()
        .and_then(|n| n.parse::<u64>().ok())
    else {
        return false;
    };
    let days = std::env::var("ENGINE_WINDOW_DAYS")
        .ok()
        .and_then(|d| d.parse::<i64>().ok())
        .unwrap_or(62);
    let (schedule, event_type) = workload();
    let rules = SlotRules::new(&schedule, &event_type, None).expect("rules");
    let now = utc(2026, 2, 1, 0);
    let window = window(days);
    let mut slots = 0;
    for _ in 0..iterations {
        slots = available_slots(&rules, Taken::default(), black_box(window), now).len();
    }
    println!("{iterations} calls of available_slots on a {days}-day window, {slots} slots each");
    true
}

fn main() {
    if profile_run() {
        return;
    }
    engine();
    Criterion::default().configure_from_args().final_summary();
}
