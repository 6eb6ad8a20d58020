//! The Markdown report: machine, every figure with its limit and the ratio,
//! and where each target stands.

use std::fmt::Write as _;
use std::time::Duration;

use crate::backend::BackendKind;
use crate::engine::EngineReport;
use crate::fixtures::Bound;
use crate::machine::Machine;
use crate::run::{BackendReport, LoadOptions, RedisReport};
use crate::stats::{Percentiles, per_sec, ratio, short, thousands};

/// A finished run, ready to print.
#[derive(Debug, Clone)]
pub struct Report {
    /// The command that produced it.
    pub command: String,
    /// Where it ran.
    pub machine: Machine,
    /// How it ran.
    pub options: LoadOptions,
    /// One per backend, in the order asked for.
    pub backends: Vec<BackendReport>,
    /// The Redis comparison, when Redis was used.
    pub redis: Option<RedisReport>,
    /// The engine table, when asked for.
    pub engine: Option<EngineReport>,
    /// Extra Markdown sections (e.g. the HTTP figures).
    pub extra: Vec<String>,
}

/// The targets of issue 17 ("Performance") this program can measure, and
/// the contended-slot target of the first benchmark issue.
const POSTGRES_TARGET: f64 = 0.90;
const POSTGRES_STATEMENTS_TARGET: f64 = 1.0;
const POSTGRES_ROUND_TRIPS_TARGET: f64 = 1.2;
const SQLITE_TARGET: f64 = 0.70;
const REDIS_RATE_TARGET: f64 = 1.0;
const REDIS_ROUND_TRIPS_TARGET: f64 = 2.0;
const HTTP_TARGET: f64 = 0.80;
const LOSER_P99_TARGET: Duration = Duration::from_millis(10);
const ENGINE_62_DAYS_TARGET: Duration = Duration::from_micros(10);
const ENGINE_NS_PER_SLOT_TARGET: f64 = 15.0;

/// CPU per successful operation: this process, plus the servers `kind`
/// talks to (`client + PostgreSQL (+ Redis)`).
fn cpu_text(kind: Option<BackendKind>, m: &crate::stats::Measurement) -> String {
    let Some((client, postgres, redis)) = m.cpu_per_op_us() else {
        return "–".into();
    };
    match kind {
        Some(BackendKind::PostgresRedis) => format!("{client:.0} + {postgres:.0} + {redis:.0} µs"),
        Some(k) if k.is_postgres() => format!("{client:.0} + {postgres:.0} µs"),
        Some(_) => format!("{client:.0} µs"),
        None => format!("{client:.0} + {redis:.0} µs"),
    }
}

fn verdict(met: bool) -> &'static str {
    if met { "**met**" } else { "**missed**" }
}

fn bound_text(bound: Bound) -> String {
    match bound {
        Bound::Time(d) => format!("{} s", d.as_secs_f64()),
        Bound::Count(n) => format!("{} operations", thousands(n)),
    }
}

impl Report {
    /// The report as Markdown.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let o = &self.options;
        let _ = writeln!(out, "### Machine\n");
        out.push_str(&self.machine.markdown());
        let _ = writeln!(out, "\nCommand:\n\n```sh\n{}\n```\n", self.command);
        let _ = writeln!(
            out,
            "Every phase ran for {} with {} concurrent tasks ({} organizers each, \
             {} on the in-memory store, bookings that never overlap); each booking-path figure and its limit \
             alternated {} time(s) in this run and the best of each is shown. \
             Latencies are per operation: p50 / p99 / max.\n",
            bound_text(o.bound),
            o.concurrency,
            o.organizers_per_task,
            o.layout_for(crate::backend::BackendKind::Memory)
                .organizers_per_task,
            o.rounds.max(1)
        );
        self.booking_table(&mut out);
        self.redis_section(&mut out);
        self.round_trip_section(&mut out);
        self.contended_table(&mut out);
        self.check_table(&mut out);
        self.http_table(&mut out);
        for extra in &self.extra {
            out.push_str(extra);
            out.push('\n');
        }
        self.engine_section(&mut out);
        self.targets(&mut out);
        out
    }

    fn booking_table(&self, out: &mut String) {
        if self.backends.is_empty() {
            return;
        }
        let _ = writeln!(
            out,
            "### Booking throughput: `BookingService::create_booking`\n"
        );
        let _ = writeln!(
            out,
            "CPU is per successful operation, from `/proc`: this process (the service and \
             its drivers) + the PostgreSQL server processes (+ Redis); server figures \
             include anything else the servers did meanwhile.\n"
        );
        let _ = writeln!(
            out,
            "| backend | lock | create_booking | latency | CPU | limit measured in the same run | limit | limit latency | limit CPU | ratio |"
        );
        let _ = writeln!(out, "|---|---|---:|---|---|---|---:|---|---|---:|");
        for b in &self.backends {
            let service = &b.service;
            for (i, limit) in b.limits.iter().enumerate() {
                let l = &limit.measurement;
                if i == 0 {
                    let _ = writeln!(
                        out,
                        "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                        b.kind,
                        b.kind.lock_name(),
                        per_sec(service.rate()),
                        service.latency(),
                        cpu_text(Some(b.kind), service),
                        limit.name,
                        per_sec(l.rate()),
                        l.latency(),
                        cpu_text(Some(b.kind), l),
                        ratio(service.rate(), l.rate())
                    );
                } else {
                    let _ = writeln!(
                        out,
                        "| | | | | | {} | {} | {} | {} | {} |",
                        limit.name,
                        per_sec(l.rate()),
                        l.latency(),
                        cpu_text(Some(b.kind), l),
                        ratio(service.rate(), l.rate())
                    );
                }
            }
            if service.error_count() > 0 {
                let _ = writeln!(
                    out,
                    "| | | errors: {} | | | | | | | |",
                    service.errors_text()
                );
            }
        }
        out.push('\n');
    }

    fn redis_section(&self, out: &mut String) {
        let Some(r) = &self.redis else { return };
        let base = r.raw_shared.rate();
        let _ = writeln!(out, "### Redis lock\n");
        let _ = writeln!(
            out,
            "| pairs (acquire + release) | rate | latency | CPU (client + Redis) | ratio to raw, 1 connection |"
        );
        let _ = writeln!(out, "|---|---:|---|---|---:|");
        let rows = [
            (
                "raw `SET NX PX` + compare-and-delete `EVALSHA`, 1 multiplexed connection (the lock's shape)",
                &r.raw_shared,
            ),
            ("raw, the same, one connection per task", &r.raw_per_task),
            ("`RedisLock::acquire` + `release`", &r.lock),
        ];
        for (name, m) in rows {
            let _ = writeln!(
                out,
                "| {name} | {} | {} | {} | {} |",
                per_sec(m.rate()),
                m.latency(),
                cpu_text(None, m),
                ratio(m.rate(), base)
            );
        }
        if let Some(b) = self
            .backends
            .iter()
            .find(|b| b.kind == BackendKind::PostgresRedis)
            && let Some((counts, attempts)) = b.redis_per_booking
            && attempts > 0
        {
            let per = |n: u64| n as f64 / attempts as f64;
            let _ = writeln!(
                out,
                "\nRedis round trips per booking in the `postgres+redis` run (the server's \
                 `INFO commandstats` over {} bookings; other clients of the server would add \
                 to them): {:.2} ({:.2} `SET`, {:.2} `EVALSHA`, {:.2} `EVAL`). Commands \
                 executed in all, including the `GET` and `DEL` the release script runs \
                 inside Redis: {:.2}.",
                thousands(attempts),
                per(counts.round_trips()),
                per(counts.set),
                per(counts.evalsha),
                per(counts.eval),
                per(counts.total)
            );
        }
        out.push('\n');
    }

    fn round_trip_section(&self, out: &mut String) {
        let counted: Vec<_> = self
            .backends
            .iter()
            .filter_map(|b| b.pg_round_trips.as_ref().map(|r| (b.kind, r)))
            .collect();
        if counted.is_empty() {
            return;
        }
        let _ = writeln!(out, "### PostgreSQL messages per booking\n");
        let _ = writeln!(
            out,
            "Counted by a loopback proxy that parses the client's protocol messages, \
             over sequential bookings after one warm-up booking (pool of one connection, \
             pool settings as in the throughput run):\n"
        );
        let _ = writeln!(
            out,
            "| backend | bookings | statements (Execute + Query) | round trips (Sync + Query) | Parse |"
        );
        let _ = writeln!(out, "|---|---:|---:|---:|---:|");
        for (kind, result) in counted {
            match result {
                Ok((s, n)) => {
                    let per = |x: u64| x as f64 / *n as f64;
                    let _ = writeln!(
                        out,
                        "| {kind} | {n} | {:.2} | {:.2} | {:.2} |",
                        per(s.statements()),
                        per(s.round_trips()),
                        per(s.parses)
                    );
                }
                Err(e) => {
                    let _ = writeln!(out, "| {kind} | – | not counted: {e} | | |");
                }
            }
        }
        out.push('\n');
    }

    fn contended_table(&self, out: &mut String) {
        if self.backends.is_empty() {
            return;
        }
        let _ = writeln!(
            out,
            "### Contended slot: {} tasks racing for the same slot, {} rounds\n",
            self.options.racers, self.options.contended_rounds
        );
        let _ = writeln!(
            out,
            "| backend | lock | rounds with exactly 1 winner | losers refused as | losers' latency | winners' latency |"
        );
        let _ = writeln!(out, "|---|---|---:|---|---|---|");
        for b in &self.backends {
            let c = &b.contended;
            let _ = writeln!(
                out,
                "| {} | {} | {} / {} | {} | {} | {} |",
                b.kind,
                b.kind.lock_name(),
                c.winners.len() - c.bad_rounds(),
                c.winners.len(),
                c.losers.errors_text(),
                c.losers.latency(),
                Percentiles::of(&c.winner_latencies)
            );
        }
        out.push('\n');
    }

    fn check_table(&self, out: &mut String) {
        if self.backends.is_empty() {
            return;
        }
        let _ = writeln!(out, "### Double-booking check after the run\n");
        let _ = writeln!(
            out,
            "| backend | successful bookings | active bookings in the store | overlapping |"
        );
        let _ = writeln!(out, "|---|---:|---:|---:|");
        for b in &self.backends {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                b.kind,
                thousands(b.expected_active),
                thousands(b.check.active),
                b.check.overlapping
            );
        }
        out.push('\n');
    }

    fn http_table(&self, out: &mut String) {
        let rows: Vec<_> = self
            .backends
            .iter()
            .filter_map(|b| b.http.as_ref().map(|h| (b.kind, h)))
            .collect();
        if rows.is_empty() {
            return;
        }
        let _ = writeln!(out, "### Over HTTP: the example service on loopback\n");
        let _ = writeln!(
            out,
            "`booking_examples::router` served on 127.0.0.1 in the load program's process, \
             driven by reqwest with {} keep-alive connections; each HTTP figure alternated with \
             the same call made in-process on the same service. A slots query asks for one \
             day (96 fifteen-minute slots). The transport floor sends the same slots \
             queries to a bare router on another loopback port that answers each with a \
             fixed copy of a real reply (same bytes, no service, no middleware): what the \
             client, hyper and the kernel cost alone, the most any change to the service \
             could reach. The two costs add: with the in-process rate `a` and the floor's `f`, \
             a service over this transport runs at most `1 / (1/a + 1/f)`, and the summary \
             gives that bound as a share of `a`.\n",
            self.options.concurrency
        );
        let _ = writeln!(
            out,
            "| backend | operation | over HTTP | latency | CPU | in-process | latency | CPU | ratio |"
        );
        let _ = writeln!(out, "|---|---|---:|---|---|---:|---|---|---:|");
        for (kind, h) in rows {
            for (name, http, local) in [
                ("slots query", &h.slots_http, &h.slots_in_process),
                (
                    "slots query, transport floor",
                    &h.slots_floor,
                    &h.slots_in_process,
                ),
                ("booking", &h.bookings_http, &h.bookings_in_process),
            ] {
                let _ = writeln!(
                    out,
                    "| {kind} | {name} | {} | {} | {} | {} | {} | {} | {} |",
                    per_sec(http.rate()),
                    http.latency(),
                    cpu_text(Some(kind), http),
                    per_sec(local.rate()),
                    local.latency(),
                    cpu_text(Some(kind), local),
                    ratio(http.rate(), local.rate())
                );
            }
        }
        out.push('\n');
    }

    fn engine_section(&self, out: &mut String) {
        let Some(e) = &self.engine else { return };
        let _ = writeln!(out, "### Availability engine\n");
        let _ = writeln!(
            out,
            "One organizer in America/New_York, weekdays 09:00–17:00, 30-minute slots \
             every 30 minutes; windows start on Monday 16 February 2026, so 62 days cross \
             the 8 March change and 366 days cross both. Busy intervals are disjoint, \
             spread over the window, passed in a fixed shuffled order (as an external calendar may return them) and, separately, already sorted (as stores return them). Each row is the fastest of 30 timed batches taken in 3 passes over all rows (so a burst of noise from other processes spoils one pass, not a row).\n"
        );
        let _ = writeln!(
            out,
            "| workload | slots offered | time per call | per slot | per busy interval |"
        );
        let _ = writeln!(out, "|---|---:|---:|---:|---:|");
        for row in &e.rows {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                row.workload,
                thousands(row.offered as u64),
                short(row.per_call),
                row.ns_per_slot
                    .map_or("".into(), |ns| format!("{ns:.1} ns")),
                row.ns_per_busy
                    .map_or("".into(), |ns| format!("{ns:.1} ns"))
            );
        }
        let _ = writeln!(
            out,
            "\nPer-slot and per-busy-interval figures are increments: the extra time per \
             extra slot (or busy interval) from the row above, so equal increments mean linear \
             growth and a fixed cost per call is not spread over the units. Growth of the increment \
             at the largest size over the one before it (1.00 = linear, above = faster than \
             linear): {:.2} per slot (62→366 days vs 7→62), {:.2} per unsorted busy interval \
             (1,000→10,000 vs 100→1,000), {:.2} per sorted one. Floor for comparison: copying the 62-day \
             result into a new `Vec` costs {:.1} ns per slot.\n",
            e.slot_growth, e.busy_growth, e.sorted_busy_growth, e.floor_ns_per_slot
        );
    }

    fn targets(&self, out: &mut String) {
        let mut lines: Vec<String> = Vec::new();
        for b in &self.backends {
            let Some(limit) = b.limits.first() else {
                continue;
            };
            let r = b.service.rate() / limit.measurement.rate().max(f64::MIN_POSITIVE);
            let by_cpu = match (b.service.cpu_per_op_us(), limit.measurement.cpu_per_op_us()) {
                (Some((c, p, _)), Some((lc, lp, _))) if c + p > 0.0 => {
                    format!(
                        " (by CPU per operation: {:.0}%)",
                        100.0 * (lc + lp) / (c + p)
                    )
                }
                _ => String::new(),
            };
            match b.kind {
                BackendKind::Postgres => lines.push(format!(
                    "Postgres `create_booking` ≥ 90% of raw INSERT … ON CONFLICT at {} clients: {:.0}%{by_cpu} → {}",
                    self.options.concurrency,
                    100.0 * r,
                    verdict(r >= POSTGRES_TARGET)
                )),
                BackendKind::Sqlite => lines.push(format!(
                    "SQLite `create_booking` ≥ 70% of raw INSERT transactions: {:.0}%{by_cpu} → {}",
                    100.0 * r,
                    verdict(r >= SQLITE_TARGET)
                )),
                _ => {}
            }
        }
        for b in &self.backends {
            if let Some(Ok((s, n))) = &b.pg_round_trips
                && *n > 0
            {
                let statements = s.statements() as f64 / *n as f64;
                let round_trips = s.round_trips() as f64 / *n as f64;
                lines.push(format!(
                    "Postgres ({}) ≤ 1 statement and ≤ 1.2 round trips per booking: {statements:.2} \
                     statements, {round_trips:.2} round trips → {}",
                    b.kind,
                    verdict(
                        statements <= POSTGRES_STATEMENTS_TARGET + 0.005
                            && round_trips <= POSTGRES_ROUND_TRIPS_TARGET + 0.005
                    )
                ));
            }
        }
        let rate_of = |kind: BackendKind| {
            self.backends
                .iter()
                .find(|b| b.kind == kind)
                .map(|b| b.service.rate())
        };
        if let (Some(memory), Some(sqlite)) =
            (rate_of(BackendKind::Memory), rate_of(BackendKind::Sqlite))
        {
            lines.push(format!(
                "Memory `create_booking` faster than SQLite's: {} vs {} → {}",
                per_sec(memory),
                per_sec(sqlite),
                verdict(memory > sqlite)
            ));
        }
        if let Some(redis) = &self.redis {
            let r = redis.lock.rate() / redis.raw_shared.rate().max(f64::MIN_POSITIVE);
            lines.push(format!(
                "Redis acquire+release ≥ 100% of raw round-trip pairs: {:.0}% → {}",
                100.0 * r,
                verdict(r >= REDIS_RATE_TARGET)
            ));
        }
        if let Some(b) = self
            .backends
            .iter()
            .find(|b| b.kind == BackendKind::PostgresRedis)
            && let Some((counts, attempts)) = b.redis_per_booking
            && attempts > 0
        {
            let per = counts.round_trips() as f64 / attempts as f64;
            lines.push(format!(
                "At most 2 Redis round trips per booking: {per:.2} → {}",
                verdict(per <= REDIS_ROUND_TRIPS_TARGET + 0.005)
            ));
        }
        for b in &self.backends {
            let Some(h) = &b.http else {
                continue;
            };
            for (what, http, in_process) in [
                ("bookings", &h.bookings_http, &h.bookings_in_process),
                ("slot queries", &h.slots_http, &h.slots_in_process),
            ] {
                let r = http.rate() / in_process.rate().max(f64::MIN_POSITIVE);
                let floor = if what == "slot queries" && h.slots_floor.ok > 0 {
                    format!(
                        " (the transport alone, a fixed reply with no service behind it: {}; \
                         the in-process work plus that: at most {:.0}% reachable over this \
                         transport)",
                        per_sec(h.slots_floor.rate()),
                        100.0 * reachable_share(in_process.rate(), h.slots_floor.rate())
                    )
                } else {
                    String::new()
                };
                lines.push(format!(
                    "HTTP on {}: {what} ≥ 80% of in-process: {:.0}% → {}{floor}",
                    b.kind,
                    100.0 * r,
                    verdict(r >= HTTP_TARGET)
                ));
            }
        }
        if let Some(e) = &self.engine {
            if let Some(row) = e
                .rows
                .iter()
                .find(|r| r.days == 62 && r.busy == 0 && r.workload.ends_with("0 busy"))
            {
                lines.push(format!(
                    "`available_slots` 62 days (New York, {} slots) ≤ 10 µs: {} → {}",
                    row.offered,
                    short(row.per_call),
                    verdict(row.per_call <= ENGINE_62_DAYS_TARGET)
                ));
            }
            let per_slot: Vec<f64> = e
                .rows
                .iter()
                .filter(|r| r.workload.ends_with("no busy"))
                .filter_map(|r| r.ns_per_slot)
                .collect();
            if let Some(worst) = per_slot.iter().copied().reduce(f64::max) {
                lines.push(format!(
                    "`available_slots` ≤ 15 ns per slot at every window size: at most {worst:.1} ns → {}",
                    verdict(worst <= ENGINE_NS_PER_SLOT_TARGET)
                ));
            }
        }
        for b in &self.backends {
            if let Some(check) = &b.settings_check {
                lines.push(format!(
                    "Settings changed by another process (own pool and caches) seen by the next \
                     booking on {}: {} → {}",
                    b.kind,
                    if check.problems.is_empty() {
                        "refused outside the new hours, booked once restored".to_owned()
                    } else {
                        check.problems.join("; ")
                    },
                    verdict(check.problems.is_empty())
                ));
            }
        }
        for b in &self.backends {
            let c = &b.contended;
            if c.winners.is_empty() {
                continue;
            }
            let p99 = c.losers.latency().p99;
            lines.push(format!(
                "Contended slot on {}: exactly one winner in {} of {} rounds, losers' p99 {} → {}",
                b.kind,
                c.winners.len() - c.bad_rounds(),
                c.winners.len(),
                short(p99),
                verdict(c.bad_rounds() == 0 && p99 < LOSER_P99_TARGET)
            ));
        }
        if lines.is_empty() {
            return;
        }
        let _ = writeln!(out, "### Targets\n");
        for line in lines {
            let _ = writeln!(out, "- {line}");
        }
        out.push('\n');
    }
}

/// The largest share of the in-process rate `in_process` a service can
/// reach over a transport whose own floor (a fixed reply, nothing behind
/// it) runs at `floor`: per operation, the service's work and the
/// transport's add up.
fn reachable_share(in_process: f64, floor: f64) -> f64 {
    if in_process <= 0.0 || floor <= 0.0 {
        return 0.0;
    }
    let combined = 1.0 / (1.0 / in_process + 1.0 / floor);
    combined / in_process
}

#[cfg(test)]
mod tests {
    use super::reachable_share;

    #[test]
    fn the_reachable_share_adds_the_transport_cost_to_the_service_cost() {
        // A transport as fast as the service halves it.
        assert!((reachable_share(1_000.0, 1_000.0) - 0.5).abs() < 1e-12);
        // One four times as fast leaves 80%.
        assert!((reachable_share(1_000.0, 4_000.0) - 0.8).abs() < 1e-12);
        // Nothing measured: nothing claimed.
        assert_eq!(reachable_share(0.0, 4_000.0), 0.0);
        assert_eq!(reachable_share(1_000.0, 0.0), 0.0);
    }
}
