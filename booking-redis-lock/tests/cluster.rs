//! The Redis lock on a real three-node Redis Cluster on 127.0.0.1, started
//! by `scripts/redis-cluster.sh` when it is not running: the whole
//! `SlotLock` conformance suite, and the hash tag that keeps one
//! organizer's keys on one slot.

mod common;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use booking_core::lock::{DEFAULT_LOCK_TTL, Release, SlotKey, SlotLock};
use booking_core::organizer::OrganizerId;
use booking_core::testkit::lock::LockPair;
use booking_redis_lock::{RedisLock, RedisLockConfig};
use common::{config, connect_to, ensure_cluster, slot};

/// Two cluster connections under one fresh prefix.
async fn fresh_locks() -> LockPair {
    common::pair_at(&ensure_cluster(), "cluster-conformance").await
}

/// A cluster none of whose nodes exist.
async fn unreachable_lock() -> Arc<dyn SlotLock> {
    let config = config("cluster-down").with_command_timeout(Duration::from_millis(500));
    Arc::new(RedisLock::connect_lazy("redis://127.0.0.1:1,redis://127.0.0.1:2", config).unwrap())
}

booking_core::lock_conformance_tests!(fresh_locks, failing = unreachable_lock);

/// A plain connection to one node of the cluster, for `CLUSTER` commands.
async fn node() -> redis::aio::MultiplexedConnection {
    let url = ensure_cluster();
    let first = url.split(',').next().unwrap_or(&url).trim().to_owned();
    redis::Client::open(first.as_str())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap_or_else(|e| panic!("cannot reach cluster node {first}: {e}"))
}

async fn key_slot(node: &mut redis::aio::MultiplexedConnection, key: &str) -> u16 {
    redis::cmd("CLUSTER")
        .arg("KEYSLOT")
        .arg(key)
        .query_async(node)
        .await
        .unwrap()
}

#[tokio::test]
async fn an_organizers_keys_share_one_slot_and_organizers_spread_over_the_nodes() {
    let url = ensure_cluster();
    let lock = connect_to(&url, RedisLockConfig::default()).await;
    let mut node = node().await;

    let organizer = slot();
    let key = lock.key_for(&organizer);
    assert_eq!(
        key,
        format!(
            "lock:booking:{{{}}}:{}",
            organizer.organizer_id,
            organizer.start.timestamp_millis()
        ),
        "the organizer is the key's hash tag"
    );
    let first_slot = key_slot(&mut node, &key).await;
    for hours in [1, 24, 24 * 90] {
        let later = SlotKey {
            start: organizer.start + chrono::Duration::hours(hours),
            ..organizer
        };
        assert_eq!(
            key_slot(&mut node, &lock.key_for(&later)).await,
            first_slot,
            "every key of one organizer hashes to one slot"
        );
    }

    // Many organizers land in all three nodes' slot ranges (0-5460,
    // 5461-10922, 10923-16383), so the locks really are spread out.
    let mut ranges = HashSet::new();
    let mut guards = Vec::new();
    for _ in 0..60 {
        let slot = SlotKey {
            organizer_id: OrganizerId::generate(),
            ..organizer
        };
        let hash_slot = key_slot(&mut node, &lock.key_for(&slot)).await;
        ranges.insert(hash_slot / 5461);
        guards.push(lock.acquire(&slot, DEFAULT_LOCK_TTL).await.unwrap());
    }
    assert_eq!(ranges.len(), 3, "organizers spread over the three nodes");
    for guard in &guards {
        assert_eq!(lock.release(guard).await.unwrap(), Release::Released);
    }
}

#[tokio::test]
async fn release_works_after_every_node_forgot_the_script() {
    let url = ensure_cluster();
    let lock = connect_to(&url, config("cluster-script-flush")).await;
    let guards = {
        let mut guards = Vec::new();
        for _ in 0..12 {
            guards.push(lock.acquire(&slot(), DEFAULT_LOCK_TTL).await.unwrap());
        }
        guards
    };
    for port_url in url.split(',') {
        let mut node = redis::Client::open(port_url.trim())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap();
        let _: () = redis::cmd("SCRIPT")
            .arg("FLUSH")
            .query_async(&mut node)
            .await
            .unwrap();
    }
    for guard in &guards {
        assert_eq!(lock.release(guard).await.unwrap(), Release::Released);
    }
}

#[tokio::test]
async fn the_cluster_passes_the_health_check() {
    let lock = connect_to(&ensure_cluster(), config("cluster-health")).await;
    lock.check_health().await.unwrap();
    assert!(!lock.breaker_is_open());
}
