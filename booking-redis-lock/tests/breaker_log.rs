//! The circuit breaker logs one warning per outage and one info line when
//! Redis is back, not one line per call. Alone in its test binary, so no
//! other test's log events (or tracing's per-callsite caching across test
//! threads) interfere with the count.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use booking_core::lock::{DEFAULT_LOCK_TTL, LockError, Release, SlotLock};
use common::door::{Door, HANG_GUARD, hammer, lock_behind};
use common::{raw, slot};
use redis::AsyncCommands;
use tracing_subscriber::layer::SubscriberExt;

#[tokio::test]
async fn the_breaker_closes_once_redis_is_back_with_one_warning_and_one_info() {
    let events = LogCount::default();
    let _subscriber =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(events.clone()));
    let door = Door::down().await;
    let lock = lock_behind(&door, "breaker-closes", Duration::from_millis(50));

    assert!(matches!(
        lock.acquire(&slot(), DEFAULT_LOCK_TTL).await,
        Err(LockError::Backend(_))
    ));
    assert!(lock.breaker_is_open());
    hammer(&lock).await;

    door.bring_up();
    let key = slot();
    let guard = tokio::time::timeout(HANG_GUARD, async {
        loop {
            match lock.acquire(&key, DEFAULT_LOCK_TTL).await {
                Ok(guard) => break guard,
                Err(LockError::Backend(_) | LockError::Unavailable(_)) => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(other) => panic!("unexpected {other:?}"),
            }
        }
    })
    .await
    .expect("the breaker closes once Redis answers again");
    assert!(!lock.breaker_is_open());

    let mut redis = raw().await;
    let stored: Option<String> = redis.get(guard.key()).await.unwrap();
    assert_eq!(
        stored.as_deref(),
        Some(guard.token()),
        "the lock is in Redis again"
    );
    assert_eq!(lock.release(&guard).await.unwrap(), Release::Released);

    assert_eq!(
        events.warnings(),
        1,
        "one warning for the whole outage, not one per call (infos: {})",
        events.infos()
    );
    assert_eq!(events.infos(), 1, "one info when the breaker closes");
}

/// Counts this crate's warnings and infos.
#[derive(Clone, Default)]
struct LogCount {
    warnings: Arc<AtomicUsize>,
    infos: Arc<AtomicUsize>,
}

impl LogCount {
    fn warnings(&self) -> usize {
        self.warnings.load(Ordering::SeqCst)
    }

    fn infos(&self) -> usize {
        self.infos.load(Ordering::SeqCst)
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for LogCount {
    fn on_event(
        &self,
        event: &tracing::Event<'_>,
        _context: tracing_subscriber::layer::Context<'_, S>,
    ) {
        let metadata = event.metadata();
        if !metadata.target().starts_with("booking_redis_lock") {
            return;
        }
        match *metadata.level() {
            tracing::Level::WARN => self.warnings.fetch_add(1, Ordering::SeqCst),
            tracing::Level::INFO => self.infos.fetch_add(1, Ordering::SeqCst),
            _ => 0,
        };
    }
}
