//! The lock checks: one public async function per rule of the [`SlotLock`]
//! contract, each taking a [`LockPair`] on a fresh lock backend.
//!
//! A backend runs them all with [`lock_conformance_tests!`](crate::lock_conformance_tests):
//!
//! ```text
//! async fn fresh_locks() -> booking_core::testkit::lock::LockPair {
//!     /* two handles on one fresh, isolated lock backend */
//! }
//! booking_core::lock_conformance_tests!(fresh_locks);
//! ```
//!
//! A backend that can fail (a server over the network) also names a factory
//! for a handle whose backend is down, which adds
//! [`a_failing_backend_is_backend_not_held`]:
//!
//! ```text
//! booking_core::lock_conformance_tests!(fresh_locks, failing = unreachable_lock);
//! ```
//!
//! No check asserts how long anything takes. The two that need a lock to
//! expire ([`ttl_expiry_frees_the_key`] and
//! [`a_late_release_never_frees_the_next_holders_lock`]) take it for
//! [`SHORT_TTL`] and then poll until another holder gets it, giving up (and
//! failing) only after [`EXPIRY_GIVE_UP`], a guard against a lock that never
//! expires rather than a timing requirement.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chrono::{TimeZone, Utc};
use tokio::sync::Barrier;
use tokio::time::Instant;

use crate::ids::OrganizerId;
use crate::lock::{LockError, LockGuard, Release, SlotKey, SlotLock};

/// The TTL of every lock a check means to keep: far longer than any check.
pub const LONG_TTL: Duration = Duration::from_secs(60);

/// The TTL of a lock a check waits to see expire.
pub const SHORT_TTL: Duration = Duration::from_millis(100);

/// How long a check polls for an expired lock to become free before it
/// fails: a guard against hanging on a lock that never expires.
pub const EXPIRY_GIVE_UP: Duration = Duration::from_secs(30);

/// How many tasks race for one key in [`concurrent_acquirers_have_exactly_one_winner`].
pub const RACERS: usize = 32;

/// Two handles on one fresh, isolated lock backend, as two processes sharing
/// the backend hold it: what one takes, the other must see as taken.
///
/// For an in-process lock both are the same lock ([`LockPair::shared`]);
/// for a networked one, two separate connections under one key namespace.
/// Checks alternate between them, so a lock that only excludes callers of
/// one handle (one connection) fails.
#[derive(Clone)]
pub struct LockPair {
    /// One handle.
    pub first: Arc<dyn SlotLock>,
    /// Another handle on the same locks.
    pub second: Arc<dyn SlotLock>,
}

impl LockPair {
    /// Two separate handles on the same backend.
    pub fn new(first: Arc<dyn SlotLock>, second: Arc<dyn SlotLock>) -> Self {
        Self { first, second }
    }

    /// One lock used as both handles: for in-process locks, where another
    /// "process" is just another task.
    pub fn shared(lock: Arc<dyn SlotLock>) -> Self {
        Self {
            first: lock.clone(),
            second: lock,
        }
    }

    /// The handle for task or attempt number `n`: `first` for even `n`,
    /// `second` for odd.
    pub fn handle(&self, n: usize) -> Arc<dyn SlotLock> {
        if n.is_multiple_of(2) {
            self.first.clone()
        } else {
            self.second.clone()
        }
    }
}

/// A fresh organizer's slot at 09:00 UTC on 7 December 2026, so checks never
/// share keys even on a shared backend.
pub fn fresh_slot() -> SlotKey {
    SlotKey {
        organizer_id: OrganizerId::generate(),
        start: Utc.with_ymd_and_hms(2026, 12, 7, 9, 0, 0).unwrap(),
    }
}

// ------------------------------------------------------------------- checks

/// A key has one holder at a time: while it is held, every other
/// acquisition (from either handle, the holder's own included: the lock is
/// not re-entrant) is refused with `Held` naming the guard's key.
pub async fn one_holder_at_a_time(locks: LockPair) {
    let slot = fresh_slot();
    let guard = locks.first.acquire(&slot, LONG_TTL).await.unwrap();
    assert!(!guard.key().is_empty(), "a guard names its key");
    for (name, lock) in [("other", &locks.second), ("same", &locks.first)] {
        match lock.acquire(&slot, LONG_TTL).await {
            Err(LockError::Held { key }) => assert_eq!(
                key,
                guard.key(),
                "Held names the contended key ({name} handle)"
            ),
            other => panic!("a held key must be refused with Held ({name} handle), got {other:?}"),
        }
    }
    assert_released(&*locks.first, &guard).await;
}

/// Releasing frees the key at once for anyone; a second release of the
/// same guard is `NotHeld`, not an error.
pub async fn release_frees_the_key(locks: LockPair) {
    let slot = fresh_slot();
    let guard = locks.first.acquire(&slot, LONG_TTL).await.unwrap();
    assert_released(&*locks.first, &guard).await;
    assert_eq!(
        locks.first.release(&guard).await.unwrap(),
        Release::NotHeld,
        "a second release of one guard frees nothing"
    );
    let next = locks
        .second
        .acquire(&slot, LONG_TTL)
        .await
        .expect("a released key is free for another holder");
    assert_eq!(next.key(), guard.key(), "one slot, one key");
    assert_released(&*locks.second, &next).await;
}

/// A holder whose lock expired and was taken by someone else gets `NotHeld`
/// from its late release, and the new holder keeps the key
/// (compare-and-delete, never a plain delete).
pub async fn a_late_release_never_frees_the_next_holders_lock(locks: LockPair) {
    let slot = fresh_slot();
    let first = locks.first.acquire(&slot, SHORT_TTL).await.unwrap();
    let second = acquire_once_expired(&*locks.second, &slot).await;
    assert_ne!(first.token(), second.token());

    assert_eq!(
        locks.first.release(&first).await.unwrap(),
        Release::NotHeld,
        "a release after expiry reports that the lock was lost"
    );
    match locks.first.acquire(&slot, LONG_TTL).await {
        Err(LockError::Held { .. }) => {}
        other => panic!("the late release freed the next holder's lock: acquire gave {other:?}"),
    }
    assert_eq!(
        locks.second.release(&second).await.unwrap(),
        Release::Released,
        "the new holder still holds its lock"
    );
}

/// Every acquisition writes a token never seen before, whichever handle,
/// key or round; and a guard with the right key but another token (a
/// forged or stale one) releases nothing.
pub async fn every_acquisition_gets_a_fresh_token(locks: LockPair) {
    const ROUNDS: usize = 40;
    let slots = [fresh_slot(), fresh_slot()];
    let mut tokens = HashSet::new();
    for round in 0..ROUNDS {
        let lock = locks.handle(round);
        let guard = lock.acquire(&slots[round % 2], LONG_TTL).await.unwrap();
        assert!(!guard.token().is_empty(), "a token is never empty");
        assert!(
            tokens.insert(guard.token().to_owned()),
            "round {round} reused token {}",
            guard.token()
        );
        assert_released(&*lock, &guard).await;
    }

    let guard = locks.first.acquire(&slots[0], LONG_TTL).await.unwrap();
    let forged = LockGuard::new(guard.key(), format!("{}-not-mine", guard.token()));
    assert_eq!(
        locks.second.release(&forged).await.unwrap(),
        Release::NotHeld,
        "a guard with another token releases nothing"
    );
    assert!(
        matches!(
            locks.second.acquire(&slots[0], LONG_TTL).await,
            Err(LockError::Held { .. })
        ),
        "the key survives a release with the wrong token"
    );
    assert_released(&*locks.first, &guard).await;
}

/// Contention is `Held`, never `Backend`; a release of a key nobody holds is
/// `Ok(NotHeld)`, never an error; and a working backend passes its health
/// check. (What a failing backend reports is
/// [`a_failing_backend_is_backend_not_held`].)
pub async fn held_is_distinct_from_backend(locks: LockPair) {
    locks
        .first
        .check_health()
        .await
        .expect("a working lock backend is healthy");
    let slot = fresh_slot();
    let guard = locks.first.acquire(&slot, LONG_TTL).await.unwrap();
    match locks.second.acquire(&slot, LONG_TTL).await {
        Err(LockError::Held { .. }) => {}
        Err(LockError::Backend(source)) => {
            panic!("contention reported as a backend failure: {source}")
        }
        other => panic!("expected Held, got {other:?}"),
    }
    assert_released(&*locks.first, &guard).await;

    let never_held = LockGuard::new(guard.key(), guard.token());
    assert_eq!(
        locks.second.release(&never_held).await.unwrap(),
        Release::NotHeld,
        "releasing a free key is NotHeld, not an error"
    );
}

/// A lock nobody releases expires after its TTL: another holder gets the
/// key (a crashed holder blocks a slot for at most one TTL).
pub async fn ttl_expiry_frees_the_key(locks: LockPair) {
    let slot = fresh_slot();
    let abandoned = locks.first.acquire(&slot, SHORT_TTL).await.unwrap();
    let next = acquire_once_expired(&*locks.second, &slot).await;
    assert_ne!(abandoned.token(), next.token());
    assert_released(&*locks.second, &next).await;
}

/// [`RACERS`] tasks, spread over both handles, try one free key at the
/// same moment (nobody releases): exactly one wins, every other gets `Held`.
pub async fn concurrent_acquirers_have_exactly_one_winner(locks: LockPair) {
    let slot = fresh_slot();
    let start = Arc::new(Barrier::new(RACERS));
    let tasks: Vec<_> = (0..RACERS)
        .map(|n| {
            let lock = locks.handle(n);
            let start = start.clone();
            tokio::spawn(async move {
                start.wait().await;
                lock.acquire(&slot, LONG_TTL).await
            })
        })
        .collect();
    let mut winners = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            Ok(guard) => winners.push(guard),
            Err(LockError::Held { .. }) => {}
            Err(other) => panic!("a racing acquisition failed: {other}"),
        }
    }
    assert_eq!(
        winners.len(),
        1,
        "exactly one of {RACERS} simultaneous acquisitions wins"
    );
    assert_released(&*locks.first, &winners[0]).await;
}

/// Tasks that retry on `Held` until they get the key, hold it briefly and
/// release it, round after round: never two inside at once, and every
/// round of every task gets in.
pub async fn holders_never_overlap_under_contention(locks: LockPair) {
    const TASKS: usize = 16;
    const ROUNDS: usize = 5;
    let slot = fresh_slot();
    let inside = Arc::new(AtomicUsize::new(0));
    let entered = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..TASKS)
        .map(|n| {
            let lock = locks.handle(n);
            let (inside, entered) = (inside.clone(), entered.clone());
            tokio::spawn(async move {
                for _ in 0..ROUNDS {
                    let guard = loop {
                        match lock.acquire(&slot, LONG_TTL).await {
                            Ok(guard) => break guard,
                            Err(LockError::Held { .. }) => {
                                tokio::time::sleep(Duration::from_millis(1)).await;
                            }
                            Err(other) => panic!("acquire failed: {other}"),
                        }
                    };
                    let others = inside.fetch_add(1, Ordering::SeqCst);
                    assert_eq!(others, 0, "two holders of one key at once");
                    entered.fetch_add(1, Ordering::SeqCst);
                    tokio::task::yield_now().await;
                    inside.fetch_sub(1, Ordering::SeqCst);
                    assert_released(&*lock, &guard).await;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(entered.load(Ordering::SeqCst), TASKS * ROUNDS);
}

/// Keys of different organizers, or of one organizer at different starts
/// (even one millisecond apart), are independent: all can be held at once,
/// and releasing one frees only that one.
pub async fn keys_of_different_slots_are_independent(locks: LockPair) {
    let base = fresh_slot();
    let slots = [
        base,
        SlotKey {
            organizer_id: OrganizerId::generate(),
            ..base
        },
        SlotKey {
            start: base.start + chrono::Duration::milliseconds(1),
            ..base
        },
        SlotKey {
            start: base.start + chrono::Duration::days(1),
            ..base
        },
    ];
    let mut guards = Vec::new();
    for (n, slot) in slots.iter().enumerate() {
        let guard = locks
            .handle(n)
            .acquire(slot, LONG_TTL)
            .await
            .unwrap_or_else(|e| panic!("slot {n} is blocked by another slot's lock: {e:?}"));
        guards.push(guard);
    }
    let keys: HashSet<_> = guards.iter().map(LockGuard::key).collect();
    assert_eq!(keys.len(), slots.len(), "every slot has its own key");

    assert_released(&*locks.first, &guards[0]).await;
    for (n, slot) in slots.iter().enumerate().skip(1) {
        assert!(
            matches!(
                locks.second.acquire(slot, LONG_TTL).await,
                Err(LockError::Held { .. })
            ),
            "releasing slot 0 freed slot {n}"
        );
    }
    let again = locks.second.acquire(&slots[0], LONG_TTL).await.unwrap();
    guards[0] = again;
    for (n, guard) in guards.iter().enumerate() {
        assert_released(&*locks.handle(n + 1), guard).await;
    }
}

/// A lock whose backend is down reports `Backend` (or `Unavailable`, once
/// a circuit breaker knows it is down), never `Held` (which would turn an
/// outage into "slot busy" for every booking), from `acquire` and `release`;
/// `check_health`, which always asks the backend, reports `Backend`.
pub async fn a_failing_backend_is_backend_not_held(lock: Arc<dyn SlotLock>) {
    let slot = fresh_slot();
    for attempt in 0..3 {
        match lock.acquire(&slot, LONG_TTL).await {
            Err(LockError::Backend(_) | LockError::Unavailable(_)) => {}
            other => {
                panic!("acquire {attempt} on a failing backend: expected Backend, got {other:?}")
            }
        }
    }
    let guard = LockGuard::new(slot.to_string(), "token");
    match lock.release(&guard).await {
        Err(LockError::Backend(_) | LockError::Unavailable(_)) => {}
        other => panic!("release on a failing backend: expected Backend, got {other:?}"),
    }
    match lock.check_health().await {
        Err(LockError::Backend(_)) => {}
        other => panic!("check_health on a failing backend: expected Backend, got {other:?}"),
    }
}

// ------------------------------------------------------------------ helpers

/// Releases `guard` through `lock`, which must still hold it.
async fn assert_released(lock: &dyn SlotLock, guard: &LockGuard) {
    assert_eq!(
        lock.release(guard).await.unwrap(),
        Release::Released,
        "the holder's release frees its lock"
    );
}

/// Polls `lock` for `slot` until it is free (the previous holder's lock
/// expired), failing after [`EXPIRY_GIVE_UP`].
async fn acquire_once_expired(lock: &dyn SlotLock, slot: &SlotKey) -> LockGuard {
    let give_up = Instant::now() + EXPIRY_GIVE_UP;
    loop {
        match lock.acquire(slot, LONG_TTL).await {
            Ok(guard) => return guard,
            Err(LockError::Held { .. }) if Instant::now() < give_up => {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            other => panic!(
                "a lock taken for {SHORT_TTL:?} never expired (polled for {EXPIRY_GIVE_UP:?}): {other:?}"
            ),
        }
    }
}
