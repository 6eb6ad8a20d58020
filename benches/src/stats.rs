//! Rates and latency percentiles.

use std::fmt;
use std::time::Duration;

/// What one measured phase did: how many operations succeeded in how long,
/// and how long each took.
#[derive(Debug, Clone, Default)]
pub struct Measurement {
    /// Operations that succeeded.
    pub ok: u64,
    /// Operations that failed, by error code (should stay empty outside the
    /// contended scenario).
    pub errors: Vec<(String, u64)>,
    /// Wall-clock time of the phase, from the first start to the last end.
    pub elapsed: Duration,
    /// Latency of every operation, successful or not.
    pub latencies: Vec<Duration>,
    /// CPU time spent by this process and the servers during the phase.
    pub cpu: Option<crate::cpu::CpuUse>,
}

impl Measurement {
    /// Successful operations per second.
    pub fn rate(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.ok as f64 / secs
        } else {
            0.0
        }
    }

    /// Failed operations in all.
    pub fn error_count(&self) -> u64 {
        self.errors.iter().map(|(_, n)| n).sum()
    }

    /// Records a failure with code `code`.
    pub fn add_error(&mut self, code: &str) {
        match self.errors.iter_mut().find(|(c, _)| c == code) {
            Some((_, n)) => *n += 1,
            None => self.errors.push((code.to_owned(), 1)),
        }
    }

    /// Folds another task's counts and latencies into this one (elapsed is
    /// set by the caller).
    pub fn absorb(&mut self, other: Measurement) {
        self.ok += other.ok;
        for (code, n) in other.errors {
            match self.errors.iter_mut().find(|(c, _)| *c == code) {
                Some((_, m)) => *m += n,
                None => self.errors.push((code, n)),
            }
        }
        self.latencies.extend(other.latencies);
    }

    /// Percentiles of the recorded latencies.
    pub fn latency(&self) -> Percentiles {
        Percentiles::of(&self.latencies)
    }

    /// CPU microseconds per successful operation: client, PostgreSQL, Redis.
    pub fn cpu_per_op_us(&self) -> Option<(f64, f64, f64)> {
        self.cpu.map(|c| c.per_op_us(self.ok))
    }

    /// The errors as `code×n, ...`, or `none`.
    pub fn errors_text(&self) -> String {
        if self.errors.is_empty() {
            return "none".into();
        }
        self.errors
            .iter()
            .map(|(c, n)| format!("{c}×{n}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// p50 / p99 / max of a set of latencies.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Percentiles {
    /// Median.
    pub p50: Duration,
    /// 99th percentile (nearest rank).
    pub p99: Duration,
    /// Slowest.
    pub max: Duration,
    /// How many samples.
    pub samples: usize,
}

impl Percentiles {
    /// Nearest-rank percentiles of `samples` (zeros when empty).
    pub fn of(samples: &[Duration]) -> Self {
        if samples.is_empty() {
            return Percentiles::default();
        }
        let mut sorted = samples.to_vec();
        sorted.sort_unstable();
        let rank = |p: f64| {
            let index = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
            sorted[index]
        };
        Percentiles {
            p50: rank(0.50),
            p99: rank(0.99),
            max: sorted[sorted.len() - 1],
            samples: sorted.len(),
        }
    }
}

impl fmt::Display for Percentiles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} / {} / {}",
            short(self.p50),
            short(self.p99),
            short(self.max)
        )
    }
}

/// A duration with three significant digits and a unit that suits it.
pub fn short(d: Duration) -> String {
    let ns = d.as_nanos() as f64;
    if ns < 1_000.0 {
        format!("{ns:.0} ns")
    } else if ns < 1_000_000.0 {
        format!("{} µs", sig3(ns / 1_000.0))
    } else if ns < 1_000_000_000.0 {
        format!("{} ms", sig3(ns / 1_000_000.0))
    } else {
        format!("{} s", sig3(ns / 1_000_000_000.0))
    }
}

/// A rate with a thousands separator, e.g. `12,345/s`.
pub fn per_sec(rate: f64) -> String {
    format!("{}/s", thousands(rate.round() as u64))
}

/// `12345` as `12,345`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn sig3(x: f64) -> String {
    if x >= 100.0 {
        format!("{x:.0}")
    } else if x >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

/// `a / b` as a percentage, e.g. `83%` (or `n/a` when `b` is zero).
pub fn ratio(a: f64, b: f64) -> String {
    if b > 0.0 {
        format!("{:.0}%", 100.0 * a / b)
    } else {
        "n/a".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_nearest_rank() {
        let samples: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        let p = Percentiles::of(&samples);
        assert_eq!(p.p50, Duration::from_millis(50));
        assert_eq!(p.p99, Duration::from_millis(99));
        assert_eq!(p.max, Duration::from_millis(100));
        assert_eq!(Percentiles::of(&[]).samples, 0);
    }

    #[test]
    fn numbers_print_readably() {
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(12), "12");
        assert_eq!(short(Duration::from_micros(1_234)), "1.23 ms");
        assert_eq!(short(Duration::from_nanos(750)), "750 ns");
        assert_eq!(ratio(1.0, 4.0), "25%");
    }

    #[test]
    fn errors_are_counted_by_code() {
        let mut a = Measurement::default();
        a.add_error("slot_being_booked");
        let mut b = Measurement::default();
        b.add_error("slot_being_booked");
        b.add_error("internal");
        a.absorb(b);
        assert_eq!(a.error_count(), 3);
        assert_eq!(a.errors_text(), "slot_being_booked×2, internal×1");
    }
}
