//! `booking-core`'s `SlotLock` conformance suite against one Redis server.

mod common;

use std::sync::Arc;
use std::time::Duration;

use booking_core::lock::SlotLock;
use booking_core::testkit::lock::LockPair;
use booking_redis_lock::RedisLock;

/// Two connections under one fresh prefix: two processes sharing the locks.
async fn fresh_locks() -> LockPair {
    common::pair_at(&common::redis_url(), "conformance").await
}

/// A lock whose server does not exist: nothing listens on port 1 of the
/// loopback interface.
async fn unreachable_lock() -> Arc<dyn SlotLock> {
    let config =
        common::config("conformance-down").with_command_timeout(Duration::from_millis(500));
    Arc::new(RedisLock::connect_lazy("redis://127.0.0.1:1", config).unwrap())
}

booking_core::lock_conformance_tests!(fresh_locks, failing = unreachable_lock);
