//! How the stores' costs grow with what they hold (issue 17), measured by
//! the load program's `--scaling` phases:
//!
//! * **the fill curve**: `MemoryStore::insert_booking` on one task, batch
//!   by batch as the store fills from 0 to 1,000,000 bookings spread over
//!   1,000 organizers, each batch's rate printed on its own;
//! * **create_booking at each size**: after each batch, `create_booking`
//!   through `BookingService` on the memory store and on a SQLite store
//!   filled with the same bookings, one task each;
//! * **bounded on both sides**: `create_booking` on one organizer with no
//!   other booking, with 100,000 bookings later than the slots booked, with
//!   100,000 earlier, and with both, interleaved booking by booking so that
//!   noise hits every case alike: the overlap check and the occupied reads
//!   must not cost more with bookings far before or after the slot.
//!
//! Rates here are single-task rates over the time spent inside the
//! measured calls (building the request or the `NewBooking` is left out).

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration as StdDuration, Instant};

use booking_core::booking::{Booking, BookingId};
use booking_core::event_type::DEFAULT_SLUG;
use booking_core::secret::TokenHash;
use booking_core::service::Credential;
use booking_core::time::TimeRange;
use chrono::{DateTime, Duration, Utc};

use crate::backend::{BackendKind, Env, Instance, LoadError, LoadOrganizer, StoreHandle, run_tag};
use crate::fixtures::{
    ATTENDEE_EMAIL, ATTENDEE_NAME, BOOKING_DESCRIPTION, BOOKING_TITLE, LOAD_FIRST_SLOT, LOAD_NOW,
    LOAD_SLOT_MINUTES, LOAD_SLOTS_PER_ORGANIZER, LOAD_SPACING, booking_request, organizer_username,
};
use crate::scenario::{chain, new_booking_at};
use crate::stats::{Measurement, per_sec, ratio, short, thousands};

/// The memory store's targets of issue 17.
const MEMORY_INSERT_TARGET: f64 = 200_000.0;
/// A curve is called flat when its slowest batch runs at least this share
/// of its fastest batch's rate.
const FLAT_SHARE: f64 = 0.75;

/// What the scaling phases do.
#[derive(Debug, Clone)]
pub struct ScalingOptions {
    /// Bookings the fill curve inserts into the memory store.
    pub bookings: u64,
    /// Batches the fill curve is cut into (one rate each).
    pub batches: u64,
    /// Organizers the fill curve spreads its bookings over.
    pub organizers: usize,
    /// `create_booking` calls per backend at each size, and per organizer
    /// in the bounded-on-both-sides phase.
    pub probes: u64,
    /// Bookings before and after the booked slots in the
    /// bounded-on-both-sides phase.
    pub neighbours: u64,
}

impl Default for ScalingOptions {
    fn default() -> Self {
        ScalingOptions {
            bookings: 1_000_000,
            batches: 10,
            organizers: 1_000,
            probes: 2_000,
            neighbours: 100_000,
        }
    }
}

/// One batch of the fill curve.
#[derive(Debug, Clone)]
pub struct CurvePoint {
    /// Bookings in the store before the batch.
    pub stored_before: u64,
    /// The batch's `insert_booking` calls.
    pub inserts: Measurement,
    /// This thread's CPU time in those calls.
    pub cpu: Option<StdDuration>,
}

/// `create_booking` on both stores holding the same bookings.
#[derive(Debug, Clone)]
pub struct SizePoint {
    /// Bookings in each store when measured.
    pub stored: u64,
    /// On the memory store.
    pub memory: Measurement,
    /// This thread's CPU time in those calls.
    pub memory_cpu: Option<StdDuration>,
    /// On the SQLite store.
    pub sqlite: Measurement,
}

/// `create_booking` on one organizer with other bookings around the slots.
#[derive(Debug, Clone)]
pub struct NeighbourRow {
    /// Which store.
    pub kind: BackendKind,
    /// The organizer's other bookings, e.g. `100,000 later`.
    pub around: String,
    /// The calls.
    pub bookings: Measurement,
}

/// Everything the scaling phases measured.
#[derive(Debug, Clone)]
pub struct ScalingReport {
    /// How they ran.
    pub options: ScalingOptions,
    /// The memory store's fill curve.
    pub curve: Vec<CurvePoint>,
    /// `create_booking` at each size.
    pub sizes: Vec<SizePoint>,
    /// `create_booking` next to many earlier or later bookings.
    pub neighbours: Vec<NeighbourRow>,
}

/// Runs every scaling phase on fresh stores and cleans them up.
pub async fn run_scaling(env: &Env, options: &ScalingOptions) -> Result<ScalingReport, LoadError> {
    let (curve, sizes) = fill_curve(env, options).await?;
    let mut neighbours = Vec::new();
    for kind in [BackendKind::Memory, BackendKind::Sqlite] {
        neighbours.extend(bounded_both_sides(env, kind, options).await?);
    }
    Ok(ScalingReport {
        options: options.clone(),
        curve,
        sizes,
        neighbours,
    })
}

/// A load-program slot (15 minutes) starting at `start`.
fn slot_at(start: DateTime<Utc>) -> Result<TimeRange, LoadError> {
    TimeRange::starting_at(start, Duration::minutes(LOAD_SLOT_MINUTES))
        .map_err(|e| LoadError::Fixture(e.into()))
}

/// `n` hours (capped far beyond any horizon, so it cannot overflow).
fn hours(n: u64) -> Duration {
    Duration::hours(i64::try_from(n.min(1 << 30)).unwrap_or(1 << 30))
}

/// The `n`-th slot of the load layout's 3-hour grid, moved by `offset`.
fn grid_slot(n: u64, offset: Duration) -> Result<TimeRange, LoadError> {
    let spacing = LOAD_SPACING.num_hours().unsigned_abs();
    slot_at(LOAD_FIRST_SLOT + hours(n.saturating_mul(spacing)) + offset)
}

/// Where the fill curve puts the organizer's `m`-th booking: grid slot
/// `first + (m * stride mod per_organizer)`, so bookings arrive in a
/// scattered order (not always after the organizer's latest), each slot
/// once.
fn curve_slot(first: u64, m: u64, per_organizer: u64, stride: u64) -> Result<TimeRange, LoadError> {
    let per = per_organizer.max(1);
    grid_slot(first + (m % per) * stride % per, Duration::zero())
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// The smallest stride from 7919 up that visits every slot of `n`.
fn coprime_stride(n: u64) -> u64 {
    let mut stride = 7_919;
    while gcd(stride, n.max(1)) != 1 {
        stride += 1;
    }
    stride
}

/// One row of a SQLite bulk fill: organizer id, event type id, start and
/// end in microseconds.
type FillRow = (String, String, i64, i64);

fn fill_row(organizer: &LoadOrganizer, time: TimeRange) -> FillRow {
    (
        organizer.id.to_string(),
        organizer.event_type_id.to_string(),
        time.start().timestamp_micros(),
        time.end().timestamp_micros(),
    )
}

/// Writes `rows` into the SQLite store's `bookings` table in one
/// transaction (untimed setup: the rows the store's own inserts would
/// write, without their events).
async fn sqlite_fill(instance: &Instance, rows: Vec<FillRow>) -> Result<(), LoadError> {
    let StoreHandle::Sqlite { path, .. } = &instance.handle else {
        return Err(LoadError::Other(
            "a SQLite fill needs a SQLite store".into(),
        ));
    };
    let path = path.clone();
    tokio::task::spawn_blocking(move || sqlite_fill_blocking(&path, &rows))
        .await
        .map_err(|e| LoadError::Other(e.to_string()))?
}

fn sqlite_fill_blocking(path: &Path, rows: &[FillRow]) -> Result<(), LoadError> {
    let sqlite = |e: rusqlite::Error| LoadError::Sqlite(format!("bulk fill: {e}"));
    let mut conn = rusqlite::Connection::open(path).map_err(sqlite)?;
    conn.busy_timeout(StdDuration::from_secs(30))
        .map_err(sqlite)?;
    let hash = TokenHash::of("scaling fill").to_hex();
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(sqlite)?;
    {
        let mut insert = tx
            .prepare(
                "INSERT INTO bookings (id, organizer_id, event_type_id, event_type_slug, attendant_name, \
                   attendant_email, metadata, title, description, start_time, end_time, buffer_before_secs, \
                   buffer_after_secs, occupied_start, occupied_end, cancel_token_hash, created_at, \
                   updated_at, deleted_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL, ?7, ?8, ?9, ?10, 0, 0, ?9, ?10, ?11, ?12, ?12, NULL)",
            )
            .map_err(sqlite)?;
        for (organizer, event_type, start, end) in rows {
            insert
                .execute(rusqlite::params![
                    BookingId::generate().to_string(),
                    organizer,
                    event_type,
                    DEFAULT_SLUG,
                    ATTENDEE_NAME,
                    ATTENDEE_EMAIL,
                    BOOKING_TITLE,
                    BOOKING_DESCRIPTION,
                    start,
                    end,
                    hash,
                    LOAD_NOW.timestamp_micros(),
                ])
                .map_err(sqlite)?;
        }
    }
    tx.commit().map_err(sqlite)?;
    // Fold the fill into the database file now, so that no measured
    // booking pays for checkpointing it.
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .map_err(sqlite)
}

/// Records one timed call's outcome.
fn record<T, E: std::error::Error>(
    m: &mut Measurement,
    took: StdDuration,
    result: Result<T, E>,
    code: &str,
) {
    m.latencies.push(took);
    m.elapsed += took;
    match result {
        Ok(_) => m.ok += 1,
        Err(error) => {
            if m.errors.is_empty() {
                eprintln!("  first {code} error: {}", chain(&error));
            }
            m.add_error(code);
        }
    }
}

/// `create_booking` through `instance`'s service for each `(organizer
/// index, slot)` of `calls`, one at a time; returns one measurement per
/// organizer index below `organizers`, the bookings made, and the thread
/// CPU time in the calls ([`CpuSpan`]; `None` if a call changed threads).
async fn create_bookings(
    instance: &Instance,
    run: &str,
    organizers: usize,
    calls: impl Iterator<Item = (usize, TimeRange)>,
) -> (Vec<Measurement>, Vec<Booking>, Option<StdDuration>) {
    let usernames: Vec<String> = (0..organizers)
        .map(|i| organizer_username(run, i))
        .collect();
    let mut measurements = vec![Measurement::default(); organizers];
    let mut made = Vec::new();
    let mut cpu = Some(StdDuration::ZERO);
    for (organizer, time) in calls {
        let request = booking_request(&usernames[organizer], time);
        let span = CpuSpan::start();
        let t0 = Instant::now();
        let result = instance.service.create_booking(request).await;
        let took = t0.elapsed();
        cpu = add_cpu(cpu, span.end());
        let result = result.map(|created| made.push(created.booking));
        record(&mut measurements[organizer], took, result, "create_booking");
    }
    (measurements, made, cpu)
}

/// CPU time the calling thread has spent running
/// (`CLOCK_THREAD_CPUTIME_ID`): unlike wall time, it leaves out the time
/// other processes of a shared machine held the CPU. `None` where the
/// clock reads negative.
///
/// Not `/proc/thread-self/schedstat`, which this module read before: for
/// the thread reading it, that figure is brought up to date only when the
/// thread is switched out, so around a few milliseconds of busy work it
/// mostly shows nothing (a check on this machine: 1.46 ms missing, on
/// average, from 2 ms of busy work).
pub fn thread_cpu() -> Option<StdDuration> {
    let now = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    let secs = u64::try_from(now.tv_sec).ok()?;
    let nanos = u32::try_from(now.tv_nsec).ok()?;
    Some(StdDuration::new(secs, nanos))
}

/// A stretch of one thread's CPU time around a piece of work.
///
/// A task of the multi-thread runtime may resume on another thread after
/// an `await` that waits, and two threads' clocks do not subtract, so a
/// span that ends on another thread than it started on has no figure.
/// Spans are read around the timed calls only, so the figure is theirs,
/// not the harness's (building requests, recording latencies).
struct CpuSpan {
    thread: std::thread::ThreadId,
    start: Option<StdDuration>,
}

impl CpuSpan {
    fn start() -> Self {
        CpuSpan {
            thread: std::thread::current().id(),
            start: thread_cpu(),
        }
    }

    /// The CPU time since [`start`](Self::start), or `None` when the work
    /// ended on another thread.
    fn end(self) -> Option<StdDuration> {
        if std::thread::current().id() != self.thread {
            return None;
        }
        Some(thread_cpu()?.saturating_sub(self.start?))
    }
}

/// `total` plus `more`; unknown once either is.
fn add_cpu(total: Option<StdDuration>, more: Option<StdDuration>) -> Option<StdDuration> {
    total.zip(more).map(|(a, b)| a + b)
}

/// Operations per second of CPU time.
fn cpu_rate(ops: u64, cpu: Option<StdDuration>) -> Option<f64> {
    let secs = cpu?.as_secs_f64();
    (secs > 0.0).then(|| ops as f64 / secs)
}

/// Where the size probes book: the first [`PROBE_ORGANIZERS`] organizers,
/// `per_organizer` slots each, 90 minutes into grid slots `MARGIN..`, among
/// bookings on every grid slot from 0 to `2 * MARGIN + per_organizer`
/// (written before the first size, untimed): every probe sees the same
/// neighbours at every size, and the store's growth happens elsewhere.
#[derive(Debug, Clone, Copy)]
struct ProbeRegion {
    organizers: usize,
    per_organizer: u64,
}

/// Inserts timed in one [`CpuSpan`].
const CHUNK: u64 = 1_000;

/// Organizers the size probes book (at most).
const PROBE_ORGANIZERS: usize = 100;
/// Grid slots (3 hours each) of neighbours on each side of the probes: two
/// days, as far as the service reads occupied intervals.
const MARGIN: u64 = 16;

impl ProbeRegion {
    /// Grid slots the region spans; the fill curve starts after them.
    fn slots(&self) -> u64 {
        self.per_organizer + 2 * MARGIN
    }

    /// The `j`-th probe: organizer and slot.
    fn probe(&self, j: u64) -> Result<(usize, TimeRange), LoadError> {
        let per = self.organizers.max(1) as u64;
        let organizer = usize::try_from(j % per).unwrap_or(0);
        Ok((
            organizer,
            grid_slot(MARGIN + j / per, Duration::minutes(90))?,
        ))
    }

    /// The neighbours the region is filled with.
    fn neighbours(&self) -> Result<Vec<(usize, TimeRange)>, LoadError> {
        let mut out = Vec::new();
        for organizer in 0..self.organizers {
            for n in 0..self.slots() {
                out.push((organizer, grid_slot(n, Duration::zero())?));
            }
        }
        Ok(out)
    }
}

/// `probes` probes on `instance`, folded into one measurement (with the
/// thread CPU time in the calls), then cancelled (untimed), so the next
/// size books the same slots.
async fn probe(
    instance: &Instance,
    run: &str,
    region: ProbeRegion,
    probes: u64,
) -> Result<(Measurement, Option<StdDuration>), LoadError> {
    let calls = (0..probes)
        .map(|j| region.probe(j))
        .collect::<Result<Vec<_>, LoadError>>()?;
    let (measurements, made, cpu) =
        create_bookings(instance, run, region.organizers, calls.into_iter()).await;
    for booking in made {
        instance
            .service
            .cancel_booking(booking.id, &Credential::Organizer(booking.organizer_id))
            .await?;
    }
    let mut total = Measurement::default();
    for m in measurements {
        total.elapsed += m.elapsed;
        total.absorb(m);
    }
    Ok((total, cpu))
}

/// The fill curve and `create_booking` at each size (see the module).
async fn fill_curve(
    env: &Env,
    options: &ScalingOptions,
) -> Result<(Vec<CurvePoint>, Vec<SizePoint>), LoadError> {
    let organizers = options.organizers.max(1);
    let per_org_count = organizers as u64;
    let total = options.bookings;
    let per_organizer = total.div_ceil(per_org_count).max(1);
    let probes = options.probes.max(1);
    let region = ProbeRegion {
        organizers: organizers.min(PROBE_ORGANIZERS),
        per_organizer: probes.div_ceil(organizers.min(PROBE_ORGANIZERS) as u64),
    };
    if region.slots() + per_organizer >= LOAD_SLOTS_PER_ORGANIZER {
        return Err(LoadError::Other(format!(
            "--scaling-bookings {total} over {organizers} organizers needs {per_organizer} slots \
             each; the horizon has {LOAD_SLOTS_PER_ORGANIZER}: use more organizers"
        )));
    }
    let stride = coprime_stride(per_organizer);
    let batch = total.div_ceil(options.batches.max(1)).max(1);
    let run = run_tag();
    let memory = Instance::create(BackendKind::Memory, env, &run).await?;
    let sqlite = Instance::create(BackendKind::Sqlite, env, &run).await?;
    let result = async {
        eprintln!("[scaling] registering {organizers} organizers on memory and sqlite");
        let memory_orgs = memory.register_organizers(&run, organizers).await?;
        let sqlite_orgs = sqlite.register_organizers(&run, organizers).await?;
        // The probes' neighbours, then one untimed round of probes on each
        // service (its organizer cache, SQLite's prepared statements).
        let neighbours = region.neighbours()?;
        let mut stored = neighbours.len() as u64;
        let mut rows = Vec::with_capacity(neighbours.len());
        for (organizer, time) in neighbours {
            rows.push(fill_row(&sqlite_orgs[organizer], time));
            memory
                .store
                .insert_booking(new_booking_at(memory_orgs[organizer], time))
                .await?;
        }
        sqlite_fill(&sqlite, rows).await?;
        for instance in [&memory, &sqlite] {
            let (warm, _) = probe(instance, &run, region, probes).await?;
            if warm.error_count() > 0 {
                return Err(LoadError::Other(format!(
                    "[scaling] warm-up bookings failed on {}: {}",
                    instance.kind,
                    warm.errors_text()
                )));
            }
        }
        let mut curve = Vec::new();
        let mut sizes = Vec::new();
        let mut inserted = 0u64;
        loop {
            let (m, memory_cpu) = probe(&memory, &run, region, probes).await?;
            let (s, _) = probe(&sqlite, &run, region, probes).await?;
            eprintln!(
                "[scaling] {} stored: create_booking memory {} (p50 {}), sqlite {} (p50 {}), one task",
                thousands(stored),
                per_sec(m.rate()),
                short(m.latency().p50),
                per_sec(s.rate()),
                short(s.latency().p50),
            );
            sizes.push(SizePoint {
                stored,
                memory: m,
                memory_cpu,
                sqlite: s,
            });
            if inserted >= total {
                break;
            }
            let n = batch.min(total - inserted);
            let store = &memory.store;
            let mut m = Measurement::default();
            let mut cpu = Some(StdDuration::ZERO);
            let mut rows = Vec::with_capacity(usize::try_from(n).unwrap_or(0));
            let mut next = inserted;
            while next < inserted + n {
                // Each chunk's bookings are built first, so the CPU time
                // read around the chunk is the inserts' alone.
                let end = (next + CHUNK).min(inserted + n);
                let mut chunk = Vec::with_capacity(usize::try_from(end - next).unwrap_or(0));
                for i in next..end {
                    let organizer = usize::try_from(i % per_org_count).unwrap_or(0);
                    let time =
                        curve_slot(region.slots(), i / per_org_count, per_organizer, stride)?;
                    rows.push(fill_row(&sqlite_orgs[organizer], time));
                    chunk.push(new_booking_at(memory_orgs[organizer], time));
                }
                let span = CpuSpan::start();
                for new in chunk {
                    let t0 = Instant::now();
                    let result = store.insert_booking(new).await;
                    let took = t0.elapsed();
                    record(&mut m, took, result, "insert_booking");
                }
                cpu = add_cpu(cpu, span.end());
                next = end;
            }
            eprintln!(
                "[scaling] memory insert_booking, {} → {} stored: {} over wall time, {} over CPU time, p50 {} ({} errors)",
                thousands(stored),
                thousands(stored + n),
                per_sec(m.rate()),
                cpu_rate(m.ok, cpu).map_or("–".into(), per_sec),
                short(m.latency().p50),
                m.error_count()
            );
            curve.push(CurvePoint {
                stored_before: stored,
                inserts: m,
                cpu,
            });
            sqlite_fill(&sqlite, rows).await?;
            inserted += n;
            stored += n;
        }
        Ok((curve, sizes))
    }
    .await;
    let cleaned = sqlite.cleanup(env).await;
    // Dropping a million bookings takes a moment; not measured.
    memory.cleanup(env).await?;
    let result = result?;
    cleaned?;
    Ok(result)
}

/// `create_booking` on four organizers of a fresh `kind` store, one with
/// no other booking, one with `neighbours` bookings later than every slot
/// booked, one with as many earlier, one with both; interleaved.
async fn bounded_both_sides(
    env: &Env,
    kind: BackendKind,
    options: &ScalingOptions,
) -> Result<Vec<NeighbourRow>, LoadError> {
    let run = run_tag();
    let instance = Instance::create(kind, env, &run).await?;
    let result = async {
        let organizers = instance.register_organizers(&run, 4).await?;
        let others = options.neighbours;
        let probes = options.probes.max(1);
        // The booked slots: every 3 hours from 10 days after the first
        // load slot, for `probes + 1` slots (the first is the warm-up).
        let base = LOAD_FIRST_SLOT + Duration::days(10);
        let booked = |k: u64| slot_at(base + hours(k * 3));
        // The others: 15 minutes every 30, from 4 days after the last
        // booked slot on (later), or ending 4 days before the first
        // (earlier); 4 days is past the longest occupied interval (3 days).
        let later_from = base + hours((probes + 2) * 3) + Duration::days(4);
        let earlier_to = base - Duration::days(4);
        let half_hours = |n: u64| Duration::minutes(30 * i64::try_from(n).unwrap_or(0));
        let later = |i: u64| slot_at(later_from + half_hours(i));
        let earlier = |i: u64| slot_at(earlier_to - half_hours(i + 1));
        let mut fills: Vec<(usize, TimeRange)> = Vec::new();
        for i in 0..others {
            fills.push((1, later(i)?));
            fills.push((2, earlier(i)?));
            fills.push((3, later(i)?));
            fills.push((3, earlier(i)?));
        }
        eprintln!(
            "[scaling] {kind}: {} bookings around the slots of 3 of 4 organizers",
            thousands(fills.len() as u64)
        );
        match &instance.handle {
            StoreHandle::Sqlite { .. } => {
                let rows = fills
                    .iter()
                    .map(|(o, time)| fill_row(&organizers[*o], *time))
                    .collect();
                sqlite_fill(&instance, rows).await?;
            }
            _ => {
                for (o, time) in fills {
                    instance
                        .store
                        .insert_booking(new_booking_at(organizers[o], time))
                        .await?;
                }
            }
        }
        let first = booked(0)?;
        let (warm, _, _) = create_bookings(&instance, &run, 4, (0..4).map(|o| (o, first))).await;
        let calls = (0..4 * probes)
            .map(|j| Ok((usize::try_from(j % 4).unwrap_or(0), booked(1 + j / 4)?)))
            .collect::<Result<Vec<_>, LoadError>>()?;
        let (measured, _, _) = create_bookings(&instance, &run, 4, calls.into_iter()).await;
        let failed: u64 = warm.iter().chain(&measured).map(|m| m.error_count()).sum();
        if failed > 0 {
            return Err(LoadError::Other(format!(
                "[scaling] {kind}: {failed} bookings next to other bookings failed"
            )));
        }
        let n = thousands(others);
        let labels = [
            "none".to_owned(),
            format!("{n} later"),
            format!("{n} earlier"),
            format!("{n} earlier + {n} later"),
        ];
        let rows: Vec<NeighbourRow> = labels
            .into_iter()
            .zip(measured)
            .map(|(around, bookings)| NeighbourRow {
                kind,
                around,
                bookings,
            })
            .collect();
        for row in &rows {
            eprintln!(
                "[scaling] {kind}: create_booking with {} other bookings: {} (p50 {})",
                row.around,
                per_sec(row.bookings.rate()),
                crate::stats::short(row.bookings.latency().p50)
            );
        }
        Ok(rows)
    }
    .await;
    let cleaned = instance.cleanup(env).await;
    let rows = result?;
    cleaned?;
    Ok(rows)
}

fn verdict(met: bool) -> &'static str {
    if met { "**met**" } else { "**missed**" }
}

impl ScalingReport {
    /// The fill curve's batch rates over CPU time (over wall time where
    /// CPU time could not be read).
    fn curve_rates(&self) -> Vec<f64> {
        self.curve
            .iter()
            .map(|p| cpu_rate(p.inserts.ok, p.cpu).unwrap_or_else(|| p.inserts.rate()))
            .collect()
    }

    /// The slowest and fastest batch rates of the fill curve, over CPU time.
    pub fn curve_range(&self) -> (f64, f64) {
        let rates = self.curve_rates();
        let slowest = rates.iter().copied().fold(f64::INFINITY, f64::min);
        let fastest = rates.iter().copied().fold(0.0, f64::max);
        (slowest, fastest)
    }

    /// The report as Markdown.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let o = &self.options;
        let _ = writeln!(
            out,
            "### Scaling: the memory store as it fills\n\n\
             `MemoryStore::insert_booking` on one task, {} bookings over {} organizers in \
             batches of {}, each organizer's bookings in scattered order over its 3-hour grid \
             (each with its `booking.created` event). Rates are the batch's calls over this \
             thread's CPU time in them (`CLOCK_THREAD_CPUTIME_ID`, read around each chunk of \
             1,000 calls: time other processes held the CPU left out) and over wall time in them; building each `NewBooking` \
             is left out. Latencies (wall): p50 / p99 / max.\n",
            thousands(o.bookings),
            thousands(o.organizers as u64),
            thousands(o.bookings.div_ceil(o.batches.max(1))),
        );
        let _ = writeln!(
            out,
            "| bookings stored before the batch | inserts | rate (CPU time) | rate (wall) | latency | vs first batch (CPU) |"
        );
        let _ = writeln!(out, "|---:|---:|---:|---:|---|---:|");
        let rates = self.curve_rates();
        let first = rates.first().copied().unwrap_or(0.0);
        for (p, rate) in self.curve.iter().zip(&rates) {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                thousands(p.stored_before),
                thousands(p.inserts.ok),
                per_sec(*rate),
                per_sec(p.inserts.rate()),
                p.inserts.latency(),
                ratio(*rate, first)
            );
        }
        let (slowest, fastest) = self.curve_range();
        if !self.curve.is_empty() {
            let errors: u64 = self.curve.iter().map(|p| p.inserts.error_count()).sum();
            let _ = writeln!(
                out,
                "\nSlowest batch {}, fastest {} ({} of the fastest), over CPU time; {} failed inserts. \
                 Target ≥ {} in every batch: {}; flat (slowest ≥ {:.0}% of fastest): {}.\n",
                per_sec(slowest),
                per_sec(fastest),
                ratio(slowest, fastest),
                errors,
                per_sec(MEMORY_INSERT_TARGET),
                verdict(slowest >= MEMORY_INSERT_TARGET),
                FLAT_SHARE * 100.0,
                verdict(slowest >= FLAT_SHARE * fastest),
            );
        }

        let _ = writeln!(
            out,
            "### Scaling: `create_booking` at each size, memory and SQLite\n\n\
             `BookingService::create_booking` on one task, {} bookings per size and store on up to \
             {PROBE_ORGANIZERS} organizers, each slot among the same neighbours at every size (bookings \
             every 3 hours for two days on either side, written before the first size); the probes are \
             cancelled after each size (untimed), and the fill curve's bookings go elsewhere in the \
             organizers' calendars. SQLite holds the same bookings as the memory store (bulk-written \
             between sizes, untimed). Rates are over wall time in the calls (SQLite's work runs on \
             blocking threads); memory's also over the thread CPU time in the calls \
             (`CLOCK_THREAD_CPUTIME_ID` around each call).\n",
            thousands(o.probes)
        );
        let _ = writeln!(
            out,
            "| active bookings stored | memory (wall) | memory (CPU) | latency | SQLite (wall) | latency | memory / SQLite (rate) | (p50) |"
        );
        let _ = writeln!(out, "|---:|---:|---:|---|---:|---|---:|---:|");
        let mut faster_everywhere = !self.sizes.is_empty();
        for p in &self.sizes {
            let (mp50, sp50) = (p.memory.latency().p50, p.sqlite.latency().p50);
            faster_everywhere &= p.memory.rate() > p.sqlite.rate() && mp50 < sp50;
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {} |",
                thousands(p.stored),
                per_sec(p.memory.rate()),
                cpu_rate(p.memory.ok, p.memory_cpu).map_or("–".into(), per_sec),
                p.memory.latency(),
                per_sec(p.sqlite.rate()),
                p.sqlite.latency(),
                ratio(p.memory.rate(), p.sqlite.rate()),
                ratio(sp50.as_secs_f64(), mp50.as_secs_f64()),
            );
        }
        let _ = writeln!(
            out,
            "\nMemory `create_booking` faster than SQLite at every size (rate and p50): {}.\n",
            verdict(faster_everywhere)
        );

        let _ = writeln!(
            out,
            "### Scaling: bounded on both sides\n\n\
             `BookingService::create_booking` on one task, {} bookings on each of four organizers \
             of one store, interleaved call by call: one with no other booking, one with {} \
             bookings starting 4 days or more after every booked slot, one with as many ending 4 days \
             or more before, one with both. The overlap check and the occupied-interval reads \
             must cost the same on all four.\n",
            thousands(o.probes),
            thousands(o.neighbours)
        );
        let _ = writeln!(
            out,
            "| store | the organizer's other bookings | create_booking | latency | vs none |"
        );
        let _ = writeln!(out, "|---|---|---:|---|---:|");
        for row in &self.neighbours {
            let none = self
                .neighbours
                .iter()
                .find(|r| r.kind == row.kind)
                .map_or(0.0, |r| r.bookings.rate());
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                row.kind,
                row.around,
                per_sec(row.bookings.rate()),
                row.bookings.latency(),
                ratio(row.bookings.rate(), none)
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cpu_span_counts_this_threads_running_time() {
        // Wall time first and last, so it spans every CPU reading.
        let wall = std::time::Instant::now();
        let span = CpuSpan::start();
        let start = thread_cpu().expect("the thread CPU clock reads");
        let mut spins = 0u64;
        // Busy work until the clock shows a millisecond (or, failing that,
        // ten seconds of wall time pass).
        while thread_cpu().unwrap() < start + StdDuration::from_millis(1)
            && wall.elapsed() < StdDuration::from_secs(10)
        {
            spins = std::hint::black_box(spins + 1);
        }
        let used = span.end().expect("the span ended on its own thread");
        let took = wall.elapsed();
        assert!(used >= StdDuration::from_millis(1), "{used:?}");
        // Never more than the wall time it took: it is this thread's time.
        assert!(used <= took, "{used:?} > {took:?}");
    }

    #[test]
    fn a_cpu_span_ended_on_another_thread_has_no_figure() {
        let span = CpuSpan::start();
        let ended = std::thread::spawn(move || span.end()).join().unwrap();
        assert_eq!(ended, None);
        assert_eq!(add_cpu(Some(StdDuration::ZERO), ended), None);
    }

    #[test]
    fn the_fill_curve_visits_every_slot_of_an_organizer_once() {
        for per_organizer in [1, 7, 1_000, 7_919 * 2] {
            let stride = coprime_stride(per_organizer);
            let mut seen = std::collections::HashSet::new();
            for m in 0..per_organizer {
                assert!(seen.insert(curve_slot(40, m, per_organizer, stride).unwrap()));
            }
        }
    }

    #[test]
    fn probes_fall_between_their_neighbours_and_before_the_fill_curve() {
        let region = ProbeRegion {
            organizers: 3,
            per_organizer: 5,
        };
        let neighbours = region.neighbours().unwrap();
        assert_eq!(neighbours.len() as u64, 3 * region.slots());
        let first_curve_slot = curve_slot(region.slots(), 0, 1, 1).unwrap();
        for j in 0..15 {
            let (organizer, probe) = region.probe(j).unwrap();
            assert!(organizer < 3);
            assert!(neighbours.iter().all(|(_, n)| !n.overlaps(&probe)));
            // Two days of neighbours on each side.
            let near = |(_, n): &&(usize, TimeRange)| {
                (n.start() - probe.start()).abs() <= Duration::days(2)
            };
            assert!(neighbours.iter().filter(near).count() >= 3 * 32);
            assert!(probe.end() <= first_curve_slot.start() - Duration::days(2));
        }
    }
}
