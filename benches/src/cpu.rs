//! Where the CPU goes: CPU time of this process and of the PostgreSQL and
//! Redis server processes over a phase, read from `/proc` (Linux), so the
//! report can say per operation how much the client and each server spent.
//!
//! On a machine with few cores the servers and the load program share the
//! CPUs, so a booking's cost is its CPU time on both sides; these figures
//! tell which side a difference comes from. Server figures include whatever
//! other clients of the same servers did during the phase.

use std::fs;

/// Clock ticks per second of `/proc/*/stat` times (`USER_HZ`, 100 on Linux).
const TICKS_PER_SEC: f64 = 100.0;

/// CPU times at one moment, in clock ticks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CpuSample {
    /// This process (all threads), user + system.
    pub client: u64,
    /// Every `postgres` process, user + system.
    pub postgres: u64,
    /// Every `redis-server` process, user + system.
    pub redis: u64,
}

/// CPU seconds spent between two samples.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CpuUse {
    /// This process.
    pub client: f64,
    /// PostgreSQL processes (including backends that exited in between
    /// only partly: an exited process's time is lost).
    pub postgres: f64,
    /// Redis.
    pub redis: f64,
}

impl CpuUse {
    /// Microseconds per operation for `ops` operations: (client, postgres, redis).
    pub fn per_op_us(&self, ops: u64) -> (f64, f64, f64) {
        let ops = ops.max(1) as f64;
        (
            self.client * 1e6 / ops,
            self.postgres * 1e6 / ops,
            self.redis * 1e6 / ops,
        )
    }
}

impl CpuSample {
    /// Reads the counters now (zeros where `/proc` cannot be read).
    pub fn now() -> CpuSample {
        let mut sample = CpuSample {
            client: fs::read_to_string("/proc/self/stat")
                .ok()
                .and_then(|s| stat_ticks(&s))
                .unwrap_or(0),
            ..CpuSample::default()
        };
        let Ok(entries) = fs::read_dir("/proc") else {
            return sample;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if !name.bytes().all(|b| b.is_ascii_digit()) {
                continue;
            }
            let Ok(stat) = fs::read_to_string(entry.path().join("stat")) else {
                continue;
            };
            let Some(comm) = stat
                .split_once('(')
                .and_then(|(_, rest)| rest.rsplit_once(')'))
                .map(|(comm, _)| comm)
            else {
                continue;
            };
            let ticks = stat_ticks(&stat).unwrap_or(0);
            if comm == "postgres" {
                sample.postgres += ticks;
            } else if comm.starts_with("redis-server") {
                sample.redis += ticks;
            }
        }
        sample
    }

    /// What was spent since `earlier`.
    pub fn since(&self, earlier: &CpuSample) -> CpuUse {
        let secs = |a: u64, b: u64| a.saturating_sub(b) as f64 / TICKS_PER_SEC;
        CpuUse {
            client: secs(self.client, earlier.client),
            postgres: secs(self.postgres, earlier.postgres),
            redis: secs(self.redis, earlier.redis),
        }
    }
}

/// utime + stime (fields 14 and 15) of a `/proc/<pid>/stat` line. The
/// command name (field 2) may contain spaces, so fields are counted after
/// its closing parenthesis.
fn stat_ticks(stat: &str) -> Option<u64> {
    let (_, rest) = stat.rsplit_once(')')?;
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_times_are_read_after_the_command_name() {
        let line = "1234 (tokio (w) 1) S 1 1 1 0 -1 4194304 126 0 0 0 250 37 0 0 20 0 1";
        assert_eq!(stat_ticks(line), Some(287));
        assert_eq!(stat_ticks("garbage"), None);
    }

    #[test]
    fn this_process_stat_is_readable() {
        let stat = fs::read_to_string("/proc/self/stat").unwrap();
        assert!(stat_ticks(&stat).is_some(), "{stat}");
    }
}
