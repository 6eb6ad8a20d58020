//! The engine table: `available_slots` and `check_booking` timed over the
//! criterion workloads with a simple loop of its own, reported per slot and
//! per busy interval so linear growth can be read off directly (criterion's
//! own output is one time per benchmark).

use std::hint::black_box;
use std::time::{Duration, Instant};

use booking_core::availability::{available_slots, check_booking};
use booking_core::time::TimeRange;

use crate::fixtures::{
    ENGINE_NOW, FixtureError, busy_around_free_slot, busy_intervals, engine_settings, engine_window,
};

/// One timed workload.
#[derive(Debug, Clone)]
pub struct EngineRow {
    /// What was timed.
    pub workload: String,
    /// Window length in days.
    pub days: i64,
    /// Busy intervals passed in.
    pub busy: usize,
    /// Slots the window offers with no busy time (the candidates).
    pub candidates: usize,
    /// Slots actually offered with this busy time.
    pub offered: usize,
    /// Time of one call (fastest batch).
    pub per_call: Duration,
    /// Extra time per extra slot since the previous (smaller) window, or
    /// time per slot for the first row of a series.
    pub ns_per_slot: Option<f64>,
    /// Extra time per extra busy interval since the previous (smaller)
    /// size of the same series (for `check_booking`: time per interval).
    pub ns_per_busy: Option<f64>,
}

/// The whole table plus the verdicts.
#[derive(Debug, Clone)]
pub struct EngineReport {
    /// Every row, in order.
    pub rows: Vec<EngineRow>,
    /// A floor for comparison: copying the 62-day window's slots into a new
    /// `Vec`, per slot (what producing the output costs at the least).
    pub floor_ns_per_slot: f64,
    /// The per-slot increment from 62 to 366 days over the one from 7 to 62
    /// days: 1 when growth is linear.
    pub slot_growth: f64,
    /// The per-busy-interval increment from 1,000 to 10,000 over the one
    /// from 100 to 1,000, unsorted input: 1 when growth is linear.
    pub busy_growth: f64,
    /// The same for input already sorted by start.
    pub sorted_busy_growth: f64,
}

/// Per-call time of `f`: the fastest of 10 batches that each take about
/// `budget / 10` (at least one call each), after one warm-up batch. The
/// fastest batch, because on a shared machine noise only ever adds time.
pub fn time_per_call<T>(budget: Duration, mut f: impl FnMut() -> T) -> Duration {
    let t0 = Instant::now();
    black_box(f());
    let one = t0.elapsed().max(Duration::from_nanos(20));
    let batch_target = budget / 10;
    let per_batch = (batch_target.as_nanos() / one.as_nanos()).clamp(1, 10_000_000) as u32;
    for _ in 0..per_batch {
        black_box(f());
    }
    let mut samples = Vec::with_capacity(10);
    for _ in 0..10 {
        let start = Instant::now();
        for _ in 0..per_batch {
            black_box(f());
        }
        samples.push(start.elapsed() / per_batch);
    }
    samples.into_iter().min().unwrap_or(one)
}

/// Times every workload, spending about `budget` on each.
///
/// Per-unit times are *increments*: the extra time per extra busy interval
/// (or per extra slot) from one size to the next, so a fixed cost per call
/// does not hide or fake a trend. Linear growth means equal increments.
pub fn engine_table(budget: Duration) -> Result<EngineReport, FixtureError> {
    let settings = engine_settings()?;
    let mut rows = Vec::new();

    // The busy series: 62 days across the DST change.
    let window = engine_window(62)?;
    let candidates = available_slots(&settings, &[], window, ENGINE_NOW).len();
    let base = time_per_call(budget, || {
        available_slots(&settings, black_box(&[]), window, ENGINE_NOW)
    });
    rows.push(EngineRow {
        workload: "available_slots, 62 days, 0 busy".into(),
        days: 62,
        busy: 0,
        candidates,
        offered: candidates,
        per_call: base,
        ns_per_slot: Some(base.as_nanos() as f64 / candidates as f64),
        ns_per_busy: None,
    });
    let mut increments = [Vec::new(), Vec::new()];
    for (series, presorted) in [false, true].into_iter().enumerate() {
        let (mut previous_count, mut previous_time) = (0usize, base);
        for count in [100usize, 1_000, 10_000] {
            let mut busy = busy_intervals(count, window)?;
            if presorted {
                busy.sort();
            }
            let per_call = time_per_call(budget, || {
                available_slots(&settings, black_box(&busy), window, ENGINE_NOW)
            });
            let ns = (per_call.as_nanos() as f64 - previous_time.as_nanos() as f64)
                / (count - previous_count) as f64;
            increments[series].push(ns);
            let order = if presorted {
                "sorted by start"
            } else {
                "unsorted"
            };
            rows.push(EngineRow {
                workload: format!("available_slots, 62 days, {count} busy, {order}"),
                days: 62,
                busy: count,
                candidates,
                offered: available_slots(&settings, &busy, window, ENGINE_NOW).len(),
                per_call,
                ns_per_slot: None,
                ns_per_busy: Some(ns),
            });
            (previous_count, previous_time) = (count, per_call);
        }
    }

    // The window series, no busy time.
    let mut slot_increments = Vec::new();
    let (mut previous_slots, mut previous_time) = (0usize, Duration::ZERO);
    for days in [1i64, 7, 62, 366] {
        let window = engine_window(days)?;
        let offered = available_slots(&settings, &[], window, ENGINE_NOW).len();
        let per_call = if days == 62 {
            base
        } else {
            time_per_call(budget, || {
                available_slots(&settings, black_box(&[]), window, ENGINE_NOW)
            })
        };
        let ns = (per_call.as_nanos() as f64 - previous_time.as_nanos() as f64)
            / offered.saturating_sub(previous_slots).max(1) as f64;
        if previous_slots > 0 {
            slot_increments.push(ns);
        }
        rows.push(EngineRow {
            workload: format!("available_slots, {days} days, no busy"),
            days,
            busy: 0,
            candidates: offered,
            offered,
            per_call,
            ns_per_slot: Some(ns),
            ns_per_busy: None,
        });
        (previous_slots, previous_time) = (offered, per_call);
    }

    // check_booking of a free slot against 10,000 busy intervals (none
    // overlapping it, so every one is looked at).
    let (slot, busy) = busy_around_free_slot(10_000)?;
    let per_call = time_per_call(budget, || {
        check_booking(&settings, black_box(slot), black_box(&busy), ENGINE_NOW)
    });
    rows.push(EngineRow {
        workload: "check_booking, 1 request, 10000 busy".into(),
        days: 0,
        busy: busy.len(),
        candidates: 1,
        offered: usize::from(check_booking(&settings, slot, &busy, ENGINE_NOW).is_ok()),
        per_call,
        ns_per_slot: None,
        ns_per_busy: Some(per_call.as_nanos() as f64 / busy.len().max(1) as f64),
    });

    let reference: Vec<TimeRange> = available_slots(&settings, &[], window, ENGINE_NOW);
    let floor = time_per_call(budget, || black_box(&reference).to_vec());
    let [unsorted, sorted] = increments;
    Ok(EngineReport {
        rows,
        floor_ns_per_slot: floor.as_nanos() as f64 / reference.len().max(1) as f64,
        slot_growth: growth(&slot_increments),
        busy_growth: growth(&unsorted),
        sorted_busy_growth: growth(&sorted),
    })
}

/// The last increment over the one before it: about 1 when growth is
/// linear, well above 1 when each extra unit costs more than the previous
/// ones (1.0 when there is nothing to compare).
fn growth(increments: &[f64]) -> f64 {
    match increments {
        [.., before, last] if *before > 0.0 => last / before,
        _ => 1.0,
    }
}
