//! The engine table: `available_slots` and `check_booking` timed over the
//! criterion workloads with a simple loop of its own, reported per slot and
//! per busy interval so linear growth can be read off directly (criterion's
//! own output is one time per benchmark).

use std::hint::black_box;
use std::time::{Duration, Instant};

use booking_core::availability::{SlotRules, Taken, available_slots, check_booking};
use booking_core::time::TimeRange;

use crate::fixtures::{
    ENGINE_NOW, FixtureError, busy_around_free_slot, busy_intervals, engine_organizer,
    engine_window,
};

/// Busy intervals and nothing counted against limits (the engine's
/// organizer has none).
fn busy_only(busy: &[TimeRange]) -> Taken<'_> {
    Taken { busy, booked: &[] }
}

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

/// One thing to time.
enum Workload {
    /// `available_slots` over `window` with `busy`.
    Slots {
        window: TimeRange,
        busy: Vec<TimeRange>,
    },
    /// `check_booking` of `slot` against `busy`.
    Check {
        slot: TimeRange,
        busy: Vec<TimeRange>,
    },
    /// Copying `slots` into a new `Vec` (the floor).
    Copy { slots: Vec<TimeRange> },
}

impl Workload {
    fn time(&self, rules: &SlotRules<'_>, budget: Duration) -> Duration {
        match self {
            Workload::Slots { window, busy } => time_per_call(budget, || {
                available_slots(rules, busy_only(black_box(busy)), *window, ENGINE_NOW)
            }),
            Workload::Check { slot, busy } => time_per_call(budget, || {
                check_booking(
                    rules,
                    black_box(*slot),
                    busy_only(black_box(busy)),
                    ENGINE_NOW,
                )
            }),
            Workload::Copy { slots } => time_per_call(budget, || black_box(slots).to_vec()),
        }
    }
}

/// Passes over all workloads; each keeps its fastest pass, so a burst of
/// noise from other processes spoils at most one pass of a few rows.
const PASSES: u32 = 3;

/// Times every workload, spending about `budget` on each (in three
/// interleaved passes).
///
/// Per-unit times are *increments*: the extra time per extra busy interval
/// (or per extra slot) from one size to the next, so a fixed cost per call
/// does not hide or fake a trend. Linear growth means equal increments.
pub fn engine_table(budget: Duration) -> Result<EngineReport, FixtureError> {
    let organizer = engine_organizer()?;
    let rules = organizer.rules()?;
    let window = engine_window(62)?;
    let candidates = available_slots(&rules, Taken::default(), window, ENGINE_NOW);

    // (label, days, busy count, workload)
    let mut plan: Vec<(String, i64, usize, Workload)> = Vec::new();
    plan.push((
        "available_slots, 62 days, 0 busy".into(),
        62,
        0,
        Workload::Slots {
            window,
            busy: Vec::new(),
        },
    ));
    for presorted in [false, true] {
        for count in [100usize, 1_000, 10_000] {
            let mut busy = busy_intervals(count, window)?;
            if presorted {
                busy.sort();
            }
            let order = if presorted {
                "sorted by start"
            } else {
                "unsorted"
            };
            plan.push((
                format!("available_slots, 62 days, {count} busy, {order}"),
                62,
                count,
                Workload::Slots { window, busy },
            ));
        }
    }
    for days in [1i64, 7, 366] {
        plan.push((
            format!("available_slots, {days} days, no busy"),
            days,
            0,
            Workload::Slots {
                window: engine_window(days)?,
                busy: Vec::new(),
            },
        ));
    }
    let (slot, busy) = busy_around_free_slot(10_000)?;
    plan.push((
        "check_booking, 1 request, 10000 busy".into(),
        0,
        busy.len(),
        Workload::Check { slot, busy },
    ));
    plan.push((
        "floor".into(),
        0,
        0,
        Workload::Copy {
            slots: candidates.clone(),
        },
    ));

    let mut best = vec![Duration::MAX; plan.len()];
    for _ in 0..PASSES {
        for (i, (_, _, _, workload)) in plan.iter().enumerate() {
            best[i] = best[i].min(workload.time(&rules, budget / PASSES));
        }
    }
    let time_of = |label: &str| -> Duration {
        plan.iter()
            .position(|(l, ..)| l == label)
            .map_or(Duration::ZERO, |i| best[i])
    };
    let ns = |d: Duration| d.as_nanos() as f64;
    let offered = |workload: &Workload| -> usize {
        match workload {
            Workload::Slots { window, busy } => {
                available_slots(&rules, busy_only(busy), *window, ENGINE_NOW).len()
            }
            Workload::Check { slot, busy } => {
                usize::from(check_booking(&rules, *slot, busy_only(busy), ENGINE_NOW).is_ok())
            }
            Workload::Copy { slots } => slots.len(),
        }
    };

    let mut rows = Vec::new();
    let base = time_of("available_slots, 62 days, 0 busy");
    rows.push(EngineRow {
        workload: plan[0].0.clone(),
        days: 62,
        busy: 0,
        candidates: candidates.len(),
        offered: candidates.len(),
        per_call: base,
        ns_per_slot: Some(ns(base) / candidates.len().max(1) as f64),
        ns_per_busy: None,
    });
    let mut increments = [Vec::new(), Vec::new()];
    for (series, order) in ["unsorted", "sorted by start"].into_iter().enumerate() {
        let (mut previous_count, mut previous_time) = (0usize, base);
        for count in [100usize, 1_000, 10_000] {
            let label = format!("available_slots, 62 days, {count} busy, {order}");
            let per_call = time_of(&label);
            let increment = (ns(per_call) - ns(previous_time)) / (count - previous_count) as f64;
            increments[series].push(increment);
            let workload = plan.iter().find(|(l, ..)| *l == label).map(|(.., w)| w);
            rows.push(EngineRow {
                workload: label,
                days: 62,
                busy: count,
                candidates: candidates.len(),
                offered: workload.map_or(0, offered),
                per_call,
                ns_per_slot: None,
                ns_per_busy: Some(increment),
            });
            (previous_count, previous_time) = (count, per_call);
        }
    }
    let mut slot_increments = Vec::new();
    let (mut previous_slots, mut previous_time) = (0usize, Duration::ZERO);
    for days in [1i64, 7, 62, 366] {
        let label = if days == 62 {
            "available_slots, 62 days, 0 busy".to_owned()
        } else {
            format!("available_slots, {days} days, no busy")
        };
        let per_call = time_of(&label);
        let slots = plan
            .iter()
            .find(|(l, ..)| *l == label)
            .map_or(0, |(.., w)| offered(w));
        let increment =
            (ns(per_call) - ns(previous_time)) / slots.saturating_sub(previous_slots).max(1) as f64;
        if previous_slots > 0 {
            slot_increments.push(increment);
        }
        rows.push(EngineRow {
            workload: format!("available_slots, {days} days, no busy"),
            days,
            busy: 0,
            candidates: slots,
            offered: slots,
            per_call,
            ns_per_slot: Some(increment),
            ns_per_busy: None,
        });
        (previous_slots, previous_time) = (slots, per_call);
    }
    if let Some((label, _, count, workload)) =
        plan.iter().find(|(l, ..)| l.starts_with("check_booking"))
    {
        let per_call = time_of(label);
        rows.push(EngineRow {
            workload: label.clone(),
            days: 0,
            busy: *count,
            candidates: 1,
            offered: offered(workload),
            per_call,
            ns_per_slot: None,
            ns_per_busy: Some(ns(per_call) / (*count).max(1) as f64),
        });
    }
    let floor = time_of("floor");
    let [unsorted, sorted] = increments;
    Ok(EngineReport {
        rows,
        floor_ns_per_slot: ns(floor) / candidates.len().max(1) as f64,
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
