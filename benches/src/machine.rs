//! What machine the figures come from: CPU, cores, memory, load, and the
//! versions of the servers and libraries involved.

use std::fmt::Write as _;

/// The machine and software a report was measured on.
#[derive(Debug, Clone, Default)]
pub struct Machine {
    /// CPU model name from `/proc/cpuinfo`.
    pub cpu: String,
    /// Cores available to this process.
    pub cores: usize,
    /// Total memory in GiB.
    pub memory_gib: f64,
    /// 1-, 5- and 15-minute load averages when the run started.
    pub load_average: String,
    /// Kernel release.
    pub kernel: String,
    /// `rustc --version`.
    pub rustc: String,
    /// PostgreSQL `server_version`, if it was used.
    pub postgres: Option<String>,
    /// Redis `redis_version`, if it was used.
    pub redis: Option<String>,
    /// The bundled SQLite's version.
    pub sqlite: String,
}

impl Machine {
    /// Reads what the local system tells (servers' versions are filled in
    /// by the caller).
    pub fn detect() -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find_map(|l| l.strip_prefix("model name"))
            .and_then(|rest| rest.split_once(':'))
            .map(|(_, name)| name.trim().to_owned())
            .unwrap_or_else(|| "unknown".into());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let memory_kib: f64 = meminfo
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kib| kib.parse().ok())
            .unwrap_or(0.0);
        let load_average = std::fs::read_to_string("/proc/loadavg")
            .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
            .unwrap_or_else(|_| "unknown".into());
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|k| k.trim().to_owned())
            .unwrap_or_else(|_| "unknown".into());
        let rustc = std::process::Command::new("rustc")
            .arg("--version")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .map(|v| v.trim().to_owned())
            .unwrap_or_else(|| "unknown".into());
        Machine {
            cpu,
            cores: std::thread::available_parallelism()
                .map(usize::from)
                .unwrap_or(1),
            memory_gib: memory_kib / (1024.0 * 1024.0),
            load_average,
            kernel,
            rustc,
            postgres: None,
            redis: None,
            sqlite: rusqlite::version().to_owned(),
        }
    }

    /// The machine as a Markdown bullet list.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "- CPU: {} ({} cores available)", self.cpu, self.cores);
        let _ = writeln!(out, "- Memory: {:.1} GiB", self.memory_gib);
        let _ = writeln!(
            out,
            "- Load average at start (1/5/15 min): {}",
            self.load_average
        );
        let _ = writeln!(out, "- Linux {}, {}", self.kernel, self.rustc);
        if let Some(pg) = &self.postgres {
            let _ = writeln!(out, "- PostgreSQL {pg} (local, 127.0.0.1)");
        }
        if let Some(redis) = &self.redis {
            let _ = writeln!(out, "- Redis {redis} (local, 127.0.0.1)");
        }
        let _ = writeln!(out, "- SQLite {} (bundled with rusqlite)", self.sqlite);
        out
    }
}
