//! Shared helpers for the integration tests: a real Redis, never a mock.
#![allow(dead_code)]

use booking_core::lock::SlotKey;
use booking_core::organizer::OrganizerId;
use booking_core::secret::SecretToken;
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
    let url = redis_url();
    RedisLock::connect(&url, config).await.unwrap_or_else(|e| {
        panic!(
            "cannot reach Redis at {url}: {e}. Start a Redis server there (`.ci/run` does) or set REDIS_URL."
        )
    })
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
