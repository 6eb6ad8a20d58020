//! Shared helpers for the integration tests: a real Redis (and a real
//! Redis Cluster), never a mock.
#![allow(dead_code)]

use std::process::Command;
use std::sync::{Arc, OnceLock};

pub mod door;

use booking_core::lock::SlotKey;
use booking_core::organizer::OrganizerId;
use booking_core::secret::SecretToken;
use booking_core::testkit::lock::LockPair;
use booking_redis_lock::{RedisLock, RedisLockConfig};
use chrono::{TimeZone, Utc};

/// Where the tests' Redis lives: `REDIS_URL`, default `redis://127.0.0.1:6379`.
pub fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// A key prefix no other test (or earlier run) uses, so tests run in parallel.
pub fn unique_prefix(test: &str) -> String {
    let random = SecretToken::generate().expect("randomness");
    format!("test:booking-redis-lock:{test}:{}", &random.expose()[..16])
}

/// A config with this test's own prefix.
pub fn config(test: &str) -> RedisLockConfig {
    RedisLockConfig::default().with_prefix(unique_prefix(test))
}

/// A lock on the test Redis; fails the test with a clear message when the
/// server cannot be reached.
pub async fn connect(config: RedisLockConfig) -> RedisLock {
    connect_to(&redis_url(), config).await
}

/// A lock on Redis at `url` (one server or cluster nodes), failing the test
/// with a clear message when it cannot be reached.
pub async fn connect_to(url: &str, config: RedisLockConfig) -> RedisLock {
    RedisLock::connect(url, config).await.unwrap_or_else(|e| {
        panic!(
            "cannot reach Redis at {url}: {e}. Start a Redis server there (`.ci/run` does) or set REDIS_URL."
        )
    })
}

/// Two connections to Redis at `url` under one fresh prefix: two processes
/// sharing the locks, for the conformance suite.
pub async fn pair_at(url: &str, test: &str) -> LockPair {
    let config = config(test);
    LockPair::new(
        Arc::new(connect_to(url, config.clone()).await),
        Arc::new(connect_to(url, config).await),
    )
}

/// A raw connection to inspect what the lock wrote.
pub async fn raw() -> redis::aio::MultiplexedConnection {
    let url = redis_url();
    redis::Client::open(url.as_str())
        .expect("valid REDIS_URL")
        .get_multiplexed_async_connection()
        .await
        .unwrap_or_else(|e| panic!("cannot reach Redis at {url}: {e}"))
}

/// A fresh organizer's 09:00 UTC slot on 2026-12-01.
pub fn slot() -> SlotKey {
    SlotKey {
        organizer_id: OrganizerId::generate(),
        start: Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap(),
    }
}

/// The test Redis Cluster's nodes, as `RedisLock` takes them:
/// `REDIS_CLUSTER_URL`, default the three nodes `redis-cluster.sh` starts.
pub fn cluster_url() -> String {
    std::env::var("REDIS_CLUSTER_URL").unwrap_or_else(|_| {
        "redis://127.0.0.1:7101,redis://127.0.0.1:7102,redis://127.0.0.1:7103".to_owned()
    })
}

/// Makes sure the test cluster runs: unless `REDIS_CLUSTER_URL` names one,
/// runs `scripts/redis-cluster.sh start --owner <this process>` once per
/// test process (it does nothing when the cluster is already up, and stops
/// a cluster it started once this process exits). Panics, failing the test,
/// when the cluster cannot be started.
pub fn ensure_cluster() -> String {
    static STARTED: OnceLock<Result<(), String>> = OnceLock::new();
    let url = cluster_url();
    if std::env::var_os("REDIS_CLUSTER_URL").is_some() {
        return url;
    }
    let started = STARTED.get_or_init(|| {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/redis-cluster.sh");
        let output = Command::new("bash")
            .arg(script)
            .args(["start", "--owner", &std::process::id().to_string()])
            .output()
            .map_err(|e| format!("cannot run {script}: {e}"))?;
        if output.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{script} start failed ({}): {}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            ))
        }
    });
    if let Err(error) = started {
        panic!("the test Redis Cluster could not be started: {error}");
    }
    url
}
