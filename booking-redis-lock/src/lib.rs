//! # booking-redis-lock
//!
//! A [`SlotLock`] on a single Redis server, for deployments where several
//! processes serve bookings for the same organizers and the in-process
//! `MemoryLock` of `booking-core` would only see its own requests.
//!
//! ```no_run
//! use std::sync::Arc;
//! use booking_core::memory::MemoryStore;
//! use booking_core::service::BookingService;
//! use booking_redis_lock::{RedisLock, RedisLockConfig};
//!
//! # async fn demo() -> Result<(), booking_core::lock::LockError> {
//! // `connect` checks the server once; `connect_lazy` starts even while Redis is down.
//! let lock = RedisLock::connect("redis://127.0.0.1:6379", RedisLockConfig::default()).await?;
//! let service = BookingService::new(Arc::new(MemoryStore::new()), Arc::new(lock));
//! # let _ = service; Ok(()) }
//! ```
//!
//! ## What it does
//!
//! * **Acquire** is `SET key token NX PX ttl`: the key is written only if
//!   nobody holds it, and it expires by itself after `ttl`, so a crashed
//!   holder blocks its slot for at most one TTL. The TTL is chosen by the
//!   caller; `BookingService` passes [`DEFAULT_LOCK_TTL`], **10 seconds**
//!   (the seed's `LOCK_EXPIRY = 100000` contradicted its own "10 seconds"
//!   comment; the comment was right).
//! * **Every acquisition writes a fresh random token**: 256 bits from the
//!   operating system ([`SecretToken::generate`]), where the seed wrote the
//!   constant `"locked"`.
//! * **Release is compare-and-delete**, one Lua script run atomically by
//!   Redis ([`RELEASE_SCRIPT`]): the key is deleted only while it still holds
//!   the caller's token. A holder whose lock expired, and was then taken by
//!   another request, gets [`Release::NotHeld`] back and leaves the new
//!   holder's lock alone. (The seed's `finally { redis.del(lockKey) }` could
//!   free the lock of whoever came next.)
//! * **The key** is `{prefix}:{organizer_id}:{slot start in epoch ms}`, with
//!   the prefix `lock:booking` by default: the seed's
//!   `lock:booking:{organizerId}:{timestamp_ms}`.
//! * **Waiting is optional and bounded.** By default a held key is refused at
//!   once with [`LockError::Held`], as the seed did. With
//!   [`RedisLockConfig::wait`] (or [`RedisLock::acquire_within`] per call) an
//!   acquisition retries with jittered exponential backoff until the caller's
//!   deadline, then refuses.
//! * **Every Redis call is bounded** by [`RedisLockConfig::command_timeout`]
//!   (on top of the connection manager's own connect and response timeouts),
//!   and the connection is a [`ConnectionManager`] that reconnects after a
//!   dropped connection.
//!
//! ## What it guarantees, and what it does not
//!
//! This is an **efficiency lock, not a correctness lock.** It makes racing
//! requests for the same slot fail early and cheaply, before they re-check
//! availability and try to insert. It is *not* what prevents a double
//! booking: every `BookingStore` refuses an overlapping booking atomically
//! (the PostgreSQL exclusion constraint, the single-writer SQLite transaction,
//! the in-memory store's critical section). The seed already knew the lock
//! alone was not enough; its "double-check pattern" re-computes the available
//! slots after taking the lock:
//!
//! ```text
//! // Double-check availability by recalculating slots
//! const { slots } = await calculateAvailableSlots(organizerId);
//! if (!isSlotAvailable) { return { error: "This time slot is no longer available" }; }
//! ```
//!
//! `booking-core` goes one step further and makes the store's insert the
//! final word. Because of that:
//!
//! * **One Redis, no Redlock.** The lock lives on a single Redis server (or a
//!   primary with replicas). A failover that loses a freshly written key can
//!   let two requests hold "the same" lock; the store still admits only one
//!   booking.
//! * **No fencing tokens.** A holder paused past its TTL (GC, a slow network)
//!   can still reach the store after another request took the lock. Fencing
//!   would be needed if the lock were the only guard; here the store's atomic
//!   overlap check rejects the second insert, so none is needed.
//! * **Expiry is wall-clock on the Redis server.** The TTL bounds how long a
//!   crashed holder blocks a slot; it does not bound how long a live holder
//!   may take.
//! * **A timed-out acquisition is ambiguous.** If Redis applied the `SET` but
//!   the answer came too late, the key is held under a token nobody knows.
//!   The lock then sends a best-effort compare-and-delete for that token in
//!   the background; should that fail too, the key simply expires after its
//!   TTL (at worst, that slot answers "busy" for one TTL).
//!
//! ## When Redis fails
//!
//! Redis being down, unreachable or slow is reported as
//! [`LockError::Backend`], always distinct from [`LockError::Held`] (someone
//! else is booking this slot right now). `BookingService` treats the two
//! differently: `Held` is refused to the caller as "slot busy, try again",
//! while `Backend` is logged as a warning and the booking **proceeds without
//! the lock**, because the store's atomic insert is the real guarantee.
//! Bookings stay available while Redis is down and still can never be
//! double-booked; the only cost is that racing requests are no longer turned
//! away early. This crate's tests check exactly that against an unreachable
//! Redis.
//!
//! ## Testing
//!
//! The tests run against a real Redis at `REDIS_URL` (default
//! `redis://127.0.0.1:6379`), each under its own key prefix so they can run
//! in parallel; a missing server makes them fail with a clear message.
//! The workspace's `scripts/ensure-services.sh` (run by `scripts/test.sh`
//! and `.ci/run`) starts a local server when none answers, installing
//! Debian's `redis-server` package if needed.
//!
//! ## Runtime
//!
//! Tokio only: the connection manager and the timeouts run on the Tokio
//! runtime the calls are made from.
//!
//! [`SecretToken::generate`]: booking_core::secret::SecretToken::generate

use std::future::Future;
use std::time::Duration;

use async_trait::async_trait;
use booking_core::lock::{LockError, LockGuard, Release, SlotKey, SlotLock};
use booking_core::secret::SecretToken;
use rand::Rng;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{RedisResult, Script};
use tokio::time::Instant;

pub use booking_core::lock::DEFAULT_LOCK_TTL;

/// The seed's key prefix: keys look like `lock:booking:{organizer_id}:{ms}`.
pub const DEFAULT_PREFIX: &str = "lock:booking";

/// How long one Redis call may take before it counts as a backend failure,
/// unless configured otherwise. Short, because a booking that cannot take the
/// lock proceeds without it: a slow Redis should cost little latency.
pub const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(2);

/// The longest TTL written to Redis; longer requests are clamped to it.
/// (A slot lock held for a year is a bug, and Redis rejects expiry times
/// that overflow its clock.)
pub const MAX_TTL: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// The compare-and-delete release: delete `KEYS[1]` only while it holds
/// `ARGV[1]`, our token. Returns 1 when it deleted, 0 otherwise. Redis runs a
/// script atomically, so no other command can slip between the `GET` and
/// the `DEL`.
pub const RELEASE_SCRIPT: &str = r"if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
else
    return 0
end";

/// The first pause between attempts of a waiting acquisition.
const BACKOFF_START: Duration = Duration::from_millis(10);
/// The longest pause between attempts of a waiting acquisition.
const BACKOFF_CAP: Duration = Duration::from_millis(250);

/// How a [`RedisLock`] behaves. Build it from [`Default`] and the `with_*`
/// methods:
///
/// ```
/// use std::time::Duration;
/// use booking_redis_lock::RedisLockConfig;
///
/// let config = RedisLockConfig::default()
///     .with_prefix("myapp:lock:booking")
///     .with_wait(Some(Duration::from_millis(500)));
/// assert_eq!(config.command_timeout, Duration::from_secs(2));
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RedisLockConfig {
    /// Prepended to every key with a `:`; default [`DEFAULT_PREFIX`]. Give
    /// each application (or test) its own prefix to keep their locks apart.
    pub prefix: String,
    /// How long [`SlotLock::acquire`] keeps retrying a held key before it
    /// refuses with [`LockError::Held`]. `None` (the default, as in the seed)
    /// refuses at once.
    pub wait: Option<Duration>,
    /// The bound on each Redis call, connecting included; past it the call
    /// fails with [`LockError::Backend`] wrapping [`CommandTimeout`].
    /// Default [`DEFAULT_COMMAND_TIMEOUT`].
    pub command_timeout: Duration,
    /// How many times the connection manager retries a failed connection
    /// attempt (with its own exponential backoff) before a command fails.
    /// Kept low by default (1) so an unreachable Redis is reported quickly;
    /// the manager tries to reconnect again on the next command anyway.
    pub reconnect_retries: usize,
}

impl Default for RedisLockConfig {
    fn default() -> Self {
        Self {
            prefix: DEFAULT_PREFIX.to_owned(),
            wait: None,
            command_timeout: DEFAULT_COMMAND_TIMEOUT,
            reconnect_retries: 1,
        }
    }
}

impl RedisLockConfig {
    /// Sets [`prefix`](Self::prefix).
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Sets [`wait`](Self::wait).
    pub fn with_wait(mut self, wait: Option<Duration>) -> Self {
        self.wait = wait;
        self
    }

    /// Sets [`command_timeout`](Self::command_timeout).
    pub fn with_command_timeout(mut self, timeout: Duration) -> Self {
        self.command_timeout = timeout;
        self
    }

    /// Sets [`reconnect_retries`](Self::reconnect_retries).
    pub fn with_reconnect_retries(mut self, retries: usize) -> Self {
        self.reconnect_retries = retries;
        self
    }

    /// The connection manager settings matching this configuration: connect
    /// and response timeouts equal to [`command_timeout`](Self::command_timeout),
    /// [`reconnect_retries`](Self::reconnect_retries) retries.
    pub fn manager_config(&self) -> ConnectionManagerConfig {
        ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.command_timeout))
            .set_response_timeout(Some(self.command_timeout))
            .set_number_of_retries(self.reconnect_retries)
            .set_max_delay(self.command_timeout / 4)
    }
}

/// A Redis call did not complete within the configured
/// [`command_timeout`](RedisLockConfig::command_timeout). Carried as the
/// source of [`LockError::Backend`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("redis did not answer within {0:?}")]
pub struct CommandTimeout(pub Duration);

/// The Redis reply to a lock command was not what the protocol promises
/// (for example a release script answering something other than 0 or 1):
/// most likely another program uses the same keys.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unexpected reply from redis: {0}")]
pub struct UnexpectedReply(String);

/// A [`SlotLock`] on one Redis server. See the [crate docs](crate) for what
/// it guarantees and what it does not.
///
/// Cheap to clone: clones share one multiplexed, self-reconnecting
/// connection.
#[derive(Clone)]
pub struct RedisLock {
    manager: ConnectionManager,
    config: RedisLockConfig,
    release: Script,
}

impl std::fmt::Debug for RedisLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisLock")
            .field("manager", &self.manager)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl RedisLock {
    /// Connects to the Redis at `url` (`redis://host:port/db`) and checks the
    /// connection once, bounded by the configured command timeout.
    ///
    /// Fails with [`LockError::Backend`] when the URL is invalid or the server
    /// cannot be reached. To start even while Redis is down (bookings then
    /// proceed without the lock until it comes back), use
    /// [`connect_lazy`](Self::connect_lazy).
    pub async fn connect(url: &str, config: RedisLockConfig) -> Result<Self, LockError> {
        let lock = Self::connect_lazy(url, config)?;
        let mut conn = lock.manager.clone();
        let pong: String = lock
            .bounded(redis::cmd("PING").query_async(&mut conn))
            .await?;
        if pong != "PONG" {
            return Err(LockError::backend(UnexpectedReply(pong)));
        }
        Ok(lock)
    }

    /// A lock for the Redis at `url` that connects on its first command (and
    /// reconnects whenever the connection drops). Fails only on an invalid
    /// URL; an unreachable server shows up later as [`LockError::Backend`]
    /// from [`acquire`](SlotLock::acquire).
    ///
    /// Must be called inside a Tokio runtime (the connection manager spawns a
    /// background task).
    pub fn connect_lazy(url: &str, config: RedisLockConfig) -> Result<Self, LockError> {
        let client = redis::Client::open(url).map_err(LockError::backend)?;
        let manager = ConnectionManager::new_lazy_with_config(client, config.manager_config())
            .map_err(LockError::backend)?;
        Ok(Self::from_manager(manager, config))
    }

    /// A lock over a connection manager you built yourself (your own TLS,
    /// credentials or retry settings). Calls are still bounded by
    /// `config.command_timeout`.
    pub fn from_manager(manager: ConnectionManager, config: RedisLockConfig) -> Self {
        Self {
            manager,
            config,
            release: Script::new(RELEASE_SCRIPT),
        }
    }

    /// This lock's configuration.
    pub fn config(&self) -> &RedisLockConfig {
        &self.config
    }

    /// The Redis key that locks `slot`: `{prefix}:{organizer_id}:{start ms}`
    /// (just the slot part when the prefix is empty).
    pub fn key_for(&self, slot: &SlotKey) -> String {
        if self.config.prefix.is_empty() {
            slot.to_string()
        } else {
            format!("{}:{slot}", self.config.prefix)
        }
    }

    /// Like [`SlotLock::acquire`], but with this call's own bound on waiting
    /// for a held key instead of [`RedisLockConfig::wait`]: `None` refuses at
    /// once, `Some(d)` retries with jittered backoff for up to `d`.
    ///
    /// A [`LockError::Backend`] ends the wait at once: retrying a failing
    /// Redis would only delay the caller's decision to go on without it.
    pub async fn acquire_within(
        &self,
        slot: &SlotKey,
        ttl: Duration,
        wait: Option<Duration>,
    ) -> Result<LockGuard, LockError> {
        let key = self.key_for(slot);
        let ttl_ms = ttl_millis(ttl);
        // A wait too long to represent waits as long as an Instant can.
        let deadline = wait.map(|w| Instant::now().checked_add(w).unwrap_or_else(far_future));
        let mut backoff = BACKOFF_START;
        loop {
            let token = SecretToken::generate().map_err(LockError::backend)?;
            if self.try_set(&key, token.expose(), ttl_ms).await? {
                return Ok(LockGuard::new(key, token.expose()));
            }
            let now = Instant::now();
            let remaining = match deadline {
                Some(deadline) if deadline > now => deadline - now,
                _ => return Err(LockError::Held { key }),
            };
            tokio::time::sleep(jittered(backoff).min(remaining)).await;
            backoff = (backoff * 2).min(BACKOFF_CAP);
        }
    }

    /// One `SET key token NX PX ttl`: `Ok(true)` when we took the key,
    /// `Ok(false)` when someone else holds it.
    async fn try_set(&self, key: &str, token: &str, ttl_ms: u64) -> Result<bool, LockError> {
        let mut conn = self.manager.clone();
        let mut cmd = redis::cmd("SET");
        cmd.arg(key).arg(token).arg("NX").arg("PX").arg(ttl_ms);
        let timeout = self.config.command_timeout;
        match tokio::time::timeout(timeout, cmd.query_async::<Option<String>>(&mut conn)).await {
            Ok(Ok(reply)) => Ok(reply.is_some()),
            // Never connected: the SET was not sent, nothing to undo.
            Ok(Err(error)) if error.is_connection_refusal() => Err(LockError::backend(error)),
            Ok(Err(error)) => {
                self.spawn_cleanup(key, token);
                Err(LockError::backend(error))
            }
            Err(_elapsed) => {
                self.spawn_cleanup(key, token);
                Err(LockError::backend(CommandTimeout(timeout)))
            }
        }
    }

    /// Best-effort compare-and-delete of an acquisition whose outcome is
    /// unknown (Redis may have applied the `SET` without us hearing back),
    /// run in the background so the caller is not delayed. Only ever deletes a key still holding `token`, which nobody
    /// but us knows, so it cannot harm another holder.
    fn spawn_cleanup(&self, key: &str, token: &str) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return; // no runtime to run it on: the key expires by itself
        };
        let this = self.clone();
        let guard = LockGuard::new(key, token);
        runtime.spawn(async move {
            if let Err(error) = this.compare_and_delete(&guard).await {
                tracing::debug!(key = guard.key(), %error, "cleanup of an unconfirmed slot lock failed; it will expire");
            }
        });
    }

    async fn compare_and_delete(&self, guard: &LockGuard) -> Result<Release, LockError> {
        let mut conn = self.manager.clone();
        let mut invocation = self.release.prepare_invoke();
        invocation.key(guard.key()).arg(guard.token());
        let deleted: i64 = self.bounded(invocation.invoke_async(&mut conn)).await?;
        match deleted {
            1 => Ok(Release::Released),
            0 => Ok(Release::NotHeld),
            other => Err(LockError::backend(UnexpectedReply(format!(
                "release script returned {other}"
            )))),
        }
    }

    /// Runs one Redis call under the command timeout, mapping both its error
    /// and the timeout to [`LockError::Backend`].
    async fn bounded<T>(&self, call: impl Future<Output = RedisResult<T>>) -> Result<T, LockError> {
        match tokio::time::timeout(self.config.command_timeout, call).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(LockError::backend(error)),
            Err(_elapsed) => Err(LockError::backend(CommandTimeout(
                self.config.command_timeout,
            ))),
        }
    }
}

#[async_trait]
impl SlotLock for RedisLock {
    /// Takes the slot's key for `ttl` (clamped to 1 ms ..= [`MAX_TTL`]),
    /// waiting for a held key up to [`RedisLockConfig::wait`].
    async fn acquire(&self, key: &SlotKey, ttl: Duration) -> Result<LockGuard, LockError> {
        self.acquire_within(key, ttl, self.config.wait).await
    }

    /// Deletes the guard's key if, and only if, it still holds the guard's
    /// token ([`RELEASE_SCRIPT`], sent as `EVALSHA` with a fallback to
    /// loading the script). [`Release::NotHeld`] means the lock had expired;
    /// whoever holds the key now keeps it.
    async fn release(&self, guard: &LockGuard) -> Result<Release, LockError> {
        self.compare_and_delete(guard).await
    }
}

/// The TTL in whole milliseconds for `PX`: at least 1 (Redis rejects 0), at
/// most [`MAX_TTL`].
/// About thirty years from now: the deadline of an unbounded wait.
fn far_future() -> Instant {
    let now = Instant::now();
    now.checked_add(Duration::from_secs(60 * 60 * 24 * 365 * 30))
        .unwrap_or(now)
}

fn ttl_millis(ttl: Duration) -> u64 {
    let ms = ttl.min(MAX_TTL).as_millis();
    u64::try_from(ms).unwrap_or(u64::MAX).max(1)
}

/// A pause between `base / 2` and `base`, so waiting requests spread out
/// instead of retrying in lockstep.
fn jittered(base: Duration) -> Duration {
    let base_us = u64::try_from(base.as_micros()).unwrap_or(u64::MAX).max(2);
    Duration::from_micros(rand::rng().random_range(base_us / 2..=base_us))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_is_clamped_to_what_redis_accepts() {
        assert_eq!(ttl_millis(Duration::ZERO), 1);
        assert_eq!(ttl_millis(Duration::from_micros(300)), 1);
        assert_eq!(ttl_millis(DEFAULT_LOCK_TTL), 10_000);
        assert_eq!(ttl_millis(Duration::MAX), MAX_TTL.as_millis() as u64);
    }

    #[test]
    fn jitter_stays_between_half_and_full_backoff() {
        for _ in 0..1000 {
            let pause = jittered(Duration::from_millis(100));
            assert!(pause >= Duration::from_millis(50) && pause <= Duration::from_millis(100));
        }
        assert!(jittered(Duration::ZERO) <= Duration::from_micros(2));
    }

    #[test]
    fn the_default_config_matches_the_seed() {
        let config = RedisLockConfig::default();
        assert_eq!(config.prefix, "lock:booking");
        assert_eq!(config.wait, None);
        assert_eq!(DEFAULT_LOCK_TTL, Duration::from_secs(10));
    }
}
