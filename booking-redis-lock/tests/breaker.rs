//! The circuit breaker, with real sockets: a loopback [`Door`] stands in
//! for Redis's address and counts the connections it receives. No test
//! asserts how long anything takes.

mod common;

use std::time::Duration;

use booking_core::lock::{DEFAULT_LOCK_TTL, LockError, Release, SlotLock};
use booking_redis_lock::RedisLockConfig;
use common::door::{CALLS_WHILE_OPEN, Door, HANG_GUARD, hammer, lock_behind, skipped_by_breaker};
use common::slot;

/// The connections one failure may cause with `reconnect_retries` 0: the
/// call's own attempt, and the one reconnect the connection manager starts
/// in the background after an I/O error (it may land any time later).
const ATTEMPTS_OF_ONE_FAILURE: usize = 2;

#[tokio::test]
async fn while_the_breaker_is_open_no_call_reaches_the_network() {
    let door = Door::down().await;
    // An interval far longer than the test: no background probe runs.
    let lock = lock_behind(&door, "breaker-open", Duration::from_secs(3600));

    let first = lock.acquire(&slot(), DEFAULT_LOCK_TTL).await;
    assert!(
        matches!(&first, Err(LockError::Backend(_))) && !skipped_by_breaker(&first),
        "the first call tries Redis and fails: {first:?}"
    );
    assert!(door.connections() >= 1, "the first call reached the door");
    assert!(lock.breaker_is_open(), "a failure opens the breaker");

    assert_eq!(
        hammer(&lock).await,
        CALLS_WHILE_OPEN,
        "every call while open fails at once with BreakerOpen"
    );
    let connections = door.connections();
    assert!(
        connections <= ATTEMPTS_OF_ONE_FAILURE,
        "{CALLS_WHILE_OPEN} calls while open made {connections} connections in all; \
         only the first failure's {ATTEMPTS_OF_ONE_FAILURE} may reach the network"
    );
    assert!(lock.breaker_is_open());
}

/// The control for the test above: with the breaker off, the same calls do
/// reach the door, so counting connections there shows network attempts.
#[tokio::test]
async fn without_the_breaker_every_call_tries_the_network() {
    let door = Door::down().await;
    let lock = lock_behind(&door, "breaker-off", Duration::ZERO);
    let first = lock.acquire(&slot(), DEFAULT_LOCK_TTL).await;
    assert!(matches!(first, Err(LockError::Backend(_))));
    assert_eq!(hammer(&lock).await, 0, "nothing is skipped");
    assert!(!lock.breaker_is_open());
    let connections = door.connections();
    assert!(
        connections > CALLS_WHILE_OPEN / 2,
        "{CALLS_WHILE_OPEN} calls made only {connections} connections"
    );
}

#[tokio::test]
async fn check_health_bypasses_the_breaker_and_closes_it() {
    let door = Door::down().await;
    // No background probe during the test: only check_health can close it.
    let lock = lock_behind(&door, "breaker-health", Duration::from_secs(3600));

    assert!(lock.acquire(&slot(), DEFAULT_LOCK_TTL).await.is_err());
    assert!(lock.breaker_is_open());
    let health = lock.check_health().await;
    assert!(
        matches!(&health, Err(LockError::Backend(_))) && !skipped_by_breaker(&health),
        "check_health asks Redis even while the breaker is open: {health:?}"
    );

    door.bring_up();
    tokio::time::timeout(HANG_GUARD, async {
        while lock.check_health().await.is_err() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("check_health sees Redis again");
    assert!(
        !lock.breaker_is_open(),
        "a healthy answer closes the breaker"
    );
    let guard = lock.acquire(&slot(), DEFAULT_LOCK_TTL).await.unwrap();
    assert_eq!(lock.release(&guard).await.unwrap(), Release::Released);
}

#[test]
fn the_breaker_interval_is_configurable_and_documented() {
    assert_eq!(
        RedisLockConfig::default().breaker_interval,
        booking_redis_lock::DEFAULT_BREAKER_INTERVAL
    );
    assert_eq!(
        booking_redis_lock::DEFAULT_BREAKER_INTERVAL,
        Duration::from_secs(5)
    );
    let config = RedisLockConfig::default().with_breaker_interval(Duration::from_secs(1));
    assert_eq!(config.breaker_interval, Duration::from_secs(1));
}
