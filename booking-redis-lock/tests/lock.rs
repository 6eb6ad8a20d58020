//! What is particular to the Redis lock, against a real Redis server: what
//! it writes, its waiting, its failures. The rules every `SlotLock` follows
//! are checked by the conformance suite (`tests/conformance.rs`).

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use booking_core::lock::{DEFAULT_LOCK_TTL, LockError, Release, SlotLock};
use booking_redis_lock::{CommandTimeout, RedisLock, RedisLockConfig};
use common::door::Door;
use common::{config, connect, raw, slot};
use redis::AsyncCommands;

const TTL: Duration = DEFAULT_LOCK_TTL;

#[tokio::test]
async fn the_key_holds_a_fresh_token_and_the_requested_ttl() {
    let lock = connect(config("token-and-ttl")).await;
    let mut redis = raw().await;
    let key = slot();

    let first = lock.acquire(&key, TTL).await.unwrap();
    let stored: Option<String> = redis.get(first.key()).await.unwrap();
    assert_eq!(stored.as_deref(), Some(first.token()));
    assert_eq!(first.token().len(), 64, "256 random bits, hex");
    let pttl: i64 = redis.pttl(first.key()).await.unwrap();
    assert!(pttl > 0 && pttl <= 10_000, "PX of 10 s, got {pttl} ms left");
    lock.release(&first).await.unwrap();

    let second = lock.acquire(&key, TTL).await.unwrap();
    assert_ne!(first.token(), second.token());
    lock.release(&second).await.unwrap();
    let exists: bool = redis.exists(second.key()).await.unwrap();
    assert!(!exists);
}

#[tokio::test]
async fn the_default_key_carries_the_organizer_as_a_hash_tag() {
    let lock = connect(RedisLockConfig::default()).await;
    let key = slot();
    let guard = lock.acquire(&key, TTL).await.unwrap();
    assert_eq!(
        guard.key(),
        format!(
            "lock:booking:{{{}}}:{}",
            key.organizer_id,
            key.start.timestamp_millis()
        )
    );
    assert_eq!(lock.key_for(&key), guard.key());
    assert_eq!(lock.release(&guard).await.unwrap(), Release::Released);
}

#[tokio::test]
async fn release_works_after_redis_forgot_the_script() {
    let lock = connect(config("script-flush")).await;
    let mut redis = raw().await;
    let key = slot();
    let guard = lock.acquire(&key, TTL).await.unwrap();
    // EVALSHA now answers NOSCRIPT; the lock must load the script and retry.
    let _: () = redis::cmd("SCRIPT")
        .arg("FLUSH")
        .query_async(&mut redis)
        .await
        .unwrap();
    assert_eq!(lock.release(&guard).await.unwrap(), Release::Released);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_tasks_hold_the_lock_one_at_a_time() {
    const TASKS: usize = 16;
    const ROUNDS: usize = 5;
    let config = config("race-wait").with_wait(Some(Duration::from_secs(30)));
    // Two locks, two connections: the tasks behave like two processes.
    let locks = [connect(config.clone()).await, connect(config).await];
    let key = slot();
    let inside = Arc::new(AtomicUsize::new(0));
    let entered = Arc::new(AtomicUsize::new(0));

    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let lock = locks[task % 2].clone();
        let (inside, entered) = (inside.clone(), entered.clone());
        tasks.push(tokio::spawn(async move {
            for _ in 0..ROUNDS {
                let guard = lock.acquire(&key, TTL).await.unwrap();
                let others = inside.fetch_add(1, Ordering::SeqCst);
                assert_eq!(others, 0, "another task was inside the critical section");
                entered.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(2)).await;
                inside.fetch_sub(1, Ordering::SeqCst);
                assert_eq!(lock.release(&guard).await.unwrap(), Release::Released);
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(entered.load(Ordering::SeqCst), TASKS * ROUNDS);
}

#[tokio::test]
async fn a_waiting_acquisition_gets_the_lock_once_it_is_released() {
    let config = config("wait");
    let holder = connect(config.clone()).await;
    let waiter = connect(config.with_wait(Some(Duration::from_secs(30)))).await;
    let key = slot();

    let guard = holder.acquire(&key, TTL).await.unwrap();
    let waiting = tokio::spawn({
        let waiter = waiter.clone();
        async move { waiter.acquire(&key, TTL).await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(holder.release(&guard).await.unwrap(), Release::Released);
    let got = waiting.await.unwrap().unwrap();
    assert_ne!(got.token(), guard.token());
    assert_eq!(waiter.release(&got).await.unwrap(), Release::Released);
}

#[tokio::test]
async fn a_bounded_wait_gives_up_with_held() {
    let lock = connect(config("wait-gives-up")).await;
    let key = slot();
    let guard = lock.acquire(&key, TTL).await.unwrap();
    // The 10 s lock outlives this 100 ms wait: the waiter must give up.
    match lock
        .acquire_within(&key, TTL, Some(Duration::from_millis(100)))
        .await
    {
        Err(LockError::Held { .. }) => {}
        other => panic!("expected Held after the wait, got {other:?}"),
    }
    assert_eq!(lock.release(&guard).await.unwrap(), Release::Released);
}

/// An unreachable Redis: nothing listens on port 1 of the loopback interface.
const UNREACHABLE: &str = "redis://127.0.0.1:1";
/// A generous guard against hangs; the lock's own bound is far shorter.
const HANG_GUARD: Duration = Duration::from_secs(20);

/// A backend failure: `Backend`, or `Unavailable` once the breaker knows
/// Redis is down; never `Held`.
fn is_backend(result: &Result<impl std::fmt::Debug, LockError>) -> bool {
    matches!(
        result,
        Err(LockError::Backend(_) | LockError::Unavailable(_))
    )
}

#[tokio::test]
async fn an_unreachable_redis_is_a_backend_error_not_held_and_not_a_hang() {
    let config = config("unreachable").with_command_timeout(Duration::from_millis(500));
    let lock = RedisLock::connect_lazy(UNREACHABLE, config.clone()).unwrap();
    let key = slot();

    for _ in 0..3 {
        let result = tokio::time::timeout(HANG_GUARD, lock.acquire(&key, TTL))
            .await
            .expect("acquire must give up on its own, bounded by the command timeout");
        assert!(is_backend(&result), "expected Backend, got {result:?}");
    }
    // Waiting for a held key must not turn a dead Redis into a long wait.
    let waiting = lock.acquire_within(&key, TTL, Some(Duration::from_secs(600)));
    let result = tokio::time::timeout(HANG_GUARD, waiting)
        .await
        .expect("a backend failure ends the wait");
    assert!(is_backend(&result), "expected Backend, got {result:?}");

    let guard = booking_core::lock::LockGuard::new(lock.key_for(&key), "token");
    let result = tokio::time::timeout(HANG_GUARD, lock.release(&guard))
        .await
        .unwrap();
    assert!(is_backend(&result), "expected Backend, got {result:?}");

    let connected = tokio::time::timeout(HANG_GUARD, RedisLock::connect(UNREACHABLE, config))
        .await
        .expect("connect is bounded too");
    assert!(is_backend(&connected));
}

#[tokio::test]
async fn a_redis_that_never_answers_times_out_as_a_backend_error() {
    // A server that accepts connections and then says nothing.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let silent = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            open.push(socket);
        }
    });

    let timeout = Duration::from_millis(300);
    let config = config("silent").with_command_timeout(timeout);
    let lock = RedisLock::connect_lazy(&format!("redis://127.0.0.1:{port}"), config).unwrap();
    let result = tokio::time::timeout(HANG_GUARD, lock.acquire(&slot(), TTL))
        .await
        .expect("acquire must give up on its own");
    match result {
        Err(LockError::Backend(source)) => {
            let ours = source.downcast_ref::<CommandTimeout>().is_some();
            let drivers = source
                .downcast_ref::<redis::RedisError>()
                .is_some_and(|e| e.is_timeout());
            assert!(
                ours || drivers,
                "expected a timeout, got {source} ({:?})",
                source.source()
            );
        }
        other => panic!("expected Backend, got {other:?}"),
    }
    silent.abort();
}

#[tokio::test]
async fn an_invalid_url_is_a_backend_error() {
    let result = RedisLock::connect_lazy("not a url", RedisLockConfig::default());
    assert!(matches!(result, Err(LockError::Backend(_))));
}

#[tokio::test]
async fn a_booking_costs_two_round_trips() {
    const BOOKINGS: usize = 20;
    let door = Door::up().await;
    let lock = RedisLock::connect(&door.url(), config("round-trips"))
        .await
        .unwrap();
    // The first release loads the script once (EVALSHA, NOSCRIPT, SCRIPT
    // LOAD, EVALSHA) unless the server already has it.
    let guard = lock.acquire(&slot(), TTL).await.unwrap();
    lock.release(&guard).await.unwrap();
    let before = door.commands().len();

    for _ in 0..BOOKINGS {
        let guard = lock.acquire(&slot(), TTL).await.unwrap();
        assert_eq!(lock.release(&guard).await.unwrap(), Release::Released);
    }
    let commands = door.commands().split_off(before);
    let expected: Vec<&str> = ["SET", "EVALSHA"].repeat(BOOKINGS);
    assert_eq!(
        commands, expected,
        "each acquire + release is one SET and one EVALSHA"
    );
}
