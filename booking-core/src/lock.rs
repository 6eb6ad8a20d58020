//! The slot-lock contract: [`SlotLock`], implemented by `MemoryLock` here
//! and by the `booking-redis-lock` crate.
//!
//! A slot lock is an *efficiency* lock: it lets racing requests for the same
//! slot be refused early and cheaply, before the availability re-check and the
//! insert. It is not what prevents double booking; the store is. So a lock
//! that expires early, or a lock backend that is down, costs at most some
//! wasted work, never a double booking.

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::organizer::OrganizerId;

/// How long the service holds a slot lock: 10 seconds (the seed's comment;
/// its constant said 100 000 ms by mistake).
pub const DEFAULT_LOCK_TTL: Duration = Duration::from_secs(10);

/// What a slot lock protects: one organizer's slot starting at one instant.
///
/// Its [`Display`](fmt::Display) form, `{organizer_id}:{start in epoch ms}`,
/// is the seed's key without its prefix; backends add their own prefix and
/// may tag it (the Redis lock writes `lock:booking:{ORGANIZER_ID}:{ms}` with
/// literal braces: a Redis Cluster hash tag, so one organizer's keys share a
/// slot).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SlotKey {
    /// Whose slot.
    pub organizer_id: OrganizerId,
    /// The slot's start.
    pub start: DateTime<Utc>,
}

impl fmt::Display for SlotKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.organizer_id, self.start.timestamp_millis())
    }
}

/// Proof of holding a lock: the key and the unique token written with it.
/// Release succeeds only while the lock still holds this token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockGuard {
    key: String,
    token: String,
}

impl LockGuard {
    /// A guard for `key` holding `token`; made by lock implementations.
    pub fn new(key: impl Into<String>, token: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            token: token.into(),
        }
    }

    /// The backend key that was locked.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The unique token of this acquisition.
    pub fn token(&self) -> &str {
        &self.token
    }
}

/// Why a lock could not be taken or released.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LockError {
    /// Someone else holds the lock right now. Try again shortly.
    #[error("the lock {key} is held by another request")]
    Held {
        /// The contended key.
        key: String,
    },
    /// The lock backend failed (unreachable, timed out, ...); nobody knows who
    /// holds the lock.
    #[error("the lock backend failed: {0}")]
    Backend(#[source] Box<dyn StdError + Send + Sync + 'static>),
    /// The backend is known to be down (a circuit breaker is open) and was
    /// not even tried. The service proceeds without the lock as for
    /// [`Backend`](Self::Backend), but logs nothing per request: the backend
    /// reported the outage once.
    #[error("the lock backend is known to be down: {0}")]
    Unavailable(#[source] Box<dyn StdError + Send + Sync + 'static>),
}

impl LockError {
    /// Wraps a backend error, keeping it as the source.
    pub fn backend(error: impl Into<Box<dyn StdError + Send + Sync + 'static>>) -> Self {
        LockError::Backend(error.into())
    }
}

/// Whether [`SlotLock::release`] actually freed the lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Release {
    /// The lock still held our token and is now free.
    Released,
    /// The lock had expired (and may now belong to someone else, whose lock
    /// was left alone).
    NotHeld,
}

/// A named, expiring, exclusive lock.
///
/// Implementations must:
/// * grant a key to one holder at a time, until released or until `ttl` passes;
/// * give every acquisition a fresh unique token, and release only while the
///   key still holds that token (compare-and-delete), so a holder whose lock
///   expired can never free the next holder's lock;
/// * report "held by someone else" ([`LockError::Held`]) distinctly from a
///   backend failure ([`LockError::Backend`]).
#[async_trait]
pub trait SlotLock: Send + Sync {
    /// Checks that the lock backend answers now (for readiness probes). The
    /// default, for in-process locks, always succeeds; the Redis lock sends
    /// `PING`.
    async fn check_health(&self) -> Result<(), LockError> {
        Ok(())
    }

    /// Takes `key` for `ttl`, or refuses at once with [`LockError::Held`].
    async fn acquire(&self, key: &SlotKey, ttl: Duration) -> Result<LockGuard, LockError>;

    /// Frees the lock if it still holds the guard's token.
    async fn release(&self, guard: &LockGuard) -> Result<Release, LockError>;
}

/// A shared lock is a lock, so `BookingService::with_lock` takes an
/// `Arc<dyn SlotLock>` chosen at run time as readily as a concrete one.
#[async_trait]
impl<L: SlotLock + ?Sized> SlotLock for std::sync::Arc<L> {
    async fn check_health(&self) -> Result<(), LockError> {
        (**self).check_health().await
    }
    async fn acquire(&self, key: &SlotKey, ttl: Duration) -> Result<LockGuard, LockError> {
        (**self).acquire(key, ttl).await
    }
    async fn release(&self, guard: &LockGuard) -> Result<Release, LockError> {
        (**self).release(guard).await
    }
}
