//! Criterion benchmarks of the availability engine (`cargo bench -p benches
//! --bench engine`). Throughput is set to slots + busy intervals, so
//! criterion's "thrpt" line reads as elements per second and its inverse is
//! the time per slot or busy interval; the load program's `--engine` table
//! prints those per-unit times directly.

use std::hint::black_box;
use std::time::Duration;

use benches::fixtures::{
    ENGINE_NOW, busy_around_free_slot, busy_intervals, engine_organizer, engine_window,
};
use booking_core::availability::{Taken, available_slots, check_booking};
use booking_core::time::TimeRange;

/// Busy intervals and no counted starts (the engine's organizer has no
/// limits).
fn busy_only(busy: &[TimeRange]) -> Taken<'_> {
    Taken { busy, booked: &[] }
}
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

fn busy_series(c: &mut Criterion) {
    let organizer = engine_organizer().expect("engine organizer");
    let rules = organizer.rules().expect("engine rules");
    let window = engine_window(62).expect("62-day window");
    let candidates = available_slots(&rules, Taken::default(), window, ENGINE_NOW).len();
    let mut group = c.benchmark_group("available_slots/62_days_new_york_dst/busy");
    for count in [0usize, 100, 1_000, 10_000] {
        let unsorted = busy_intervals(count, window).expect("busy intervals");
        let mut sorted = unsorted.clone();
        sorted.sort();
        group.throughput(Throughput::Elements((candidates + count) as u64));
        for (order, busy) in [("unsorted", &unsorted), ("sorted", &sorted)] {
            if count == 0 && order == "sorted" {
                continue;
            }
            group.bench_with_input(BenchmarkId::new(order, count), busy, |b, busy| {
                b.iter(|| available_slots(&rules, busy_only(black_box(busy)), window, ENGINE_NOW))
            });
        }
    }
    group.finish();
}

fn window_series(c: &mut Criterion) {
    let organizer = engine_organizer().expect("engine organizer");
    let rules = organizer.rules().expect("engine rules");
    let mut group = c.benchmark_group("available_slots/no_busy/window_days");
    for days in [1i64, 7, 62, 366] {
        let window = engine_window(days).expect("window");
        let slots = available_slots(&rules, Taken::default(), window, ENGINE_NOW).len();
        group.throughput(Throughput::Elements(slots as u64));
        group.bench_with_input(BenchmarkId::from_parameter(days), &window, |b, window| {
            b.iter(|| available_slots(&rules, busy_only(black_box(&[])), *window, ENGINE_NOW))
        });
    }
    group.finish();
}

fn check_one_request(c: &mut Criterion) {
    let organizer = engine_organizer().expect("engine organizer");
    let rules = organizer.rules().expect("engine rules");
    let (slot, busy) = busy_around_free_slot(10_000).expect("busy intervals");
    assert!(check_booking(&rules, slot, busy_only(&busy), ENGINE_NOW).is_ok());
    let mut group = c.benchmark_group("check_booking");
    group.throughput(Throughput::Elements(busy.len() as u64));
    group.bench_function("1_request_10000_busy", |b| {
        b.iter(|| {
            check_booking(
                &rules,
                black_box(slot),
                busy_only(black_box(&busy)),
                ENGINE_NOW,
            )
        })
    });
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = engine;
    config = config();
    targets = busy_series, window_series, check_one_request
}
criterion_main!(engine);
