//! # booking-redis-lock
//!
//! A [`SlotLock`] on Redis, a single server or a Redis Cluster, for
//! deployments where several processes serve bookings for the same
//! organizers and the in-process `MemoryLock` of `booking-core` would only
//! see its own requests.
//!
//! ```no_run
//! use booking_core::{BookingService, MemoryStore};
//! use booking_redis_lock::{RedisLock, RedisLockConfig};
//!
//! # async fn demo() -> Result<(), booking_core::lock::LockError> {
//! // `connect` checks the server once; `connect_lazy` starts even while Redis is down.
//! let lock = RedisLock::connect("redis://127.0.0.1:6379", RedisLockConfig::default()).await?;
//! // A Redis Cluster: list its nodes (some or all), separated by commas.
//! let clustered = RedisLock::connect(
//!     "redis://10.0.0.1:6379,redis://10.0.0.2:6379,redis://10.0.0.3:6379",
//!     RedisLockConfig::default(),
//! )
//! .await?;
//! let service = BookingService::new(MemoryStore::new()).with_lock(lock);
//! # let _ = (service, clustered); Ok(()) }
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
//! * **Two round trips per booking**: the `SET` and the `EVALSHA` of the
//!   release (plus, once per server, loading the script after a `NOSCRIPT`).
//! * **Waiting is optional and bounded.** By default a held key is refused at
//!   once with [`LockError::Held`], as the seed did. With
//!   [`RedisLockConfig::wait`] (or [`RedisLock::acquire_within`] per call) an
//!   acquisition retries with jittered exponential backoff until the caller's
//!   deadline, then refuses.
//! * **Every Redis call is bounded** by [`RedisLockConfig::command_timeout`]
//!   (on top of the client's own connect and response timeouts). A single
//!   server is reached through a [`ConnectionManager`] that reconnects after a
//!   dropped connection; a cluster through the cluster client, which follows
//!   `MOVED`/`ASK` redirections and refreshes its slot map.
//!
//! The whole `SlotLock` conformance suite of `booking-core`
//! (`lock_conformance_tests!`) runs against a single server and against a
//! three-node Redis Cluster.
//!
//! ## The key
//!
//! `{prefix}:{ORGANIZER_ID}:{slot start in epoch ms}`, **braces included**,
//! with the prefix `lock:booking` by default:
//! `lock:booking:{01JF6Y3W6M5X0D4S8Q2V7N9C1B}:1796547600000`
//! ([`RedisLock::key_for`]). The braces are a Redis Cluster *hash tag*: a
//! cluster hashes only the part between the first `{` and the next `}`, so
//! every key of one organizer lands on the same slot, and so on the same
//! node. Each lock command touches one key, so nothing needs that today;
//! it keeps an organizer's locks together for multi-key scripts (holding
//! several slots of one organizer at once) and makes a node's failure
//! affect whole organizers rather than scattered slots. On a single server
//! the braces are just characters.
//!
//! **Upgrading from the old format.** Before this format the key was the
//! seed's `lock:booking:ORGANIZER_ID:ms`, without braces. Old and new
//! processes never see each other's locks, so during a rolling upgrade an
//! old and a new process can both "hold" the same slot. That is safe: the
//! lock is an early refusal, not the guarantee (see below), and the store
//! still admits only one of two overlapping bookings; the cost is at most
//! some wasted work on a contended slot until the old processes are gone.
//! Old keys expire by themselves within one TTL.
//!
//! ## What it guarantees, and what it does not
//!
//! This is an **efficiency lock, not a correctness lock.** It makes racing
//! requests for the same slot fail early and cheaply, before they re-check
//! availability and try to insert. It is *not* what prevents a double
//! booking: every `BookingStore` refuses an overlapping booking atomically
//! (the PostgreSQL exclusion constraint, the single-writer SQLite transaction,
//! the in-memory store's critical section). Because of that:
//!
//! * **No Redlock.** The lock lives on one Redis server (or a primary with
//!   replicas), or on the one cluster node that serves the key's slot. A
//!   failover that loses a freshly written key can let two requests hold
//!   "the same" lock; the store still admits only one booking.
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
//! ## When Redis fails: the circuit breaker
//!
//! Redis being down, unreachable or slow is reported as
//! [`LockError::Backend`], always distinct from [`LockError::Held`] (someone
//! else is booking this slot right now). `BookingService` treats the two
//! differently: `Held` is refused to the caller as "slot busy, try again",
//! while `Backend` lets the booking **proceed without the lock**, because
//! the store's atomic insert is the real guarantee.
//!
//! So that an outage does not make every booking wait for the same failure
//! (up to the command timeout each), the lock has a **circuit breaker**:
//!
//! * When a call finds Redis unreachable, timing out, or answering that it
//!   cannot serve (`LOADING`, `CLUSTERDOWN`, `MASTERDOWN`, `TRYAGAIN`,
//!   `READONLY`), the breaker **opens** and logs **one warning** for the
//!   outage.
//! * While it is open, `acquire` and `release` fail at once with
//!   [`LockError::Unavailable`] wrapping [`BreakerOpen`], without any network
//!   attempt, so a booking takes no longer than with no lock at all.
//! * A background task sends `PING` every
//!   [`breaker_interval`](RedisLockConfig::breaker_interval)
//!   ([`DEFAULT_BREAKER_INTERVAL`], 5 s); at the first answer the breaker
//!   **closes**, logs **one info line**, and locks are taken again.
//! * An error reply about the key or the command (say `WRONGTYPE`) shows that
//!   Redis is up, so it does not open the breaker.
//! * [`check_health`](SlotLock::check_health) always sends its `PING`, open
//!   breaker or not (a readiness probe wants the truth), and its answer
//!   closes an open breaker; [`RedisLock::breaker_is_open`] tells whether
//!   locks are being skipped (for metrics).
//! * `breaker_interval` zero turns the breaker off: every call tries Redis.
//!
//! Bookings stay available while Redis is down and still can never be
//! double-booked; the only cost is that racing requests are no longer turned
//! away early. This crate's tests check exactly that against an unreachable
//! Redis, and count the connections a listener receives to show that calls
//! while the breaker is open never reach the network.
//!
//! ## Redis Cluster
//!
//! A URL listing several nodes separated by commas
//! (`redis://127.0.0.1:7101,redis://127.0.0.1:7102,redis://127.0.0.1:7103`)
//! selects the cluster client, from the same [`RedisLock::connect`] and
//! [`RedisLock::connect_lazy`], so an application passes its `REDIS_URL`
//! through unchanged. The listed nodes are seeds: the client discovers the
//! rest of the cluster from them. (A cluster reached through one address
//! can be given with [`RedisLock::from_cluster`].) The `EVALSHA` of the
//! release is routed by its key like any command; after `NOSCRIPT` the
//! script is loaded on every primary.
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
//! The cluster tests need a three-node cluster on 127.0.0.1:7101-7103
//! (`REDIS_CLUSTER_URL` to use another). When none answers, the test binary
//! starts one with `scripts/redis-cluster.sh start`, which stops it again
//! when the test process exits; a cluster that cannot be started fails the
//! tests.
//!
//! ## Runtime
//!
//! Tokio only: the connections, the timeouts and the breaker's probe run on
//! the Tokio runtime the calls are made from.
//!
//! [`SecretToken::generate`]: booking_core::secret::SecretToken::generate

mod breaker;
mod config;
mod connection;
mod error;

use std::future::Future;
use std::sync::{Arc, Weak};
use std::time::Duration;

use async_trait::async_trait;
use booking_core::lock::{LockError, LockGuard, Release, SlotKey, SlotLock};
use booking_core::secret::SecretToken;
use rand::Rng;
use redis::aio::ConnectionManager;
use redis::cluster_async::ClusterConnection;
use redis::{RedisError, RedisResult, Script};
use tokio::time::Instant;

use crate::breaker::{Admission, Breaker, Transition};
use crate::connection::Connection;

pub use booking_core::lock::DEFAULT_LOCK_TTL;
pub use breaker::BreakerOpen;
pub use config::{
    DEFAULT_BREAKER_INTERVAL, DEFAULT_COMMAND_TIMEOUT, DEFAULT_PREFIX, RedisLockConfig,
};
pub use connection::EmptyNodeUrl;
pub use error::{CommandTimeout, UnexpectedReply};

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

/// A [`SlotLock`] on Redis. See the [crate docs](crate) for what it
/// guarantees and what it does not.
///
/// Cheap to clone: clones share one connection (multiplexed and
/// self-reconnecting) and one circuit breaker.
#[derive(Clone)]
pub struct RedisLock {
    inner: Arc<Inner>,
}

struct Inner {
    connection: Connection,
    config: RedisLockConfig,
    release: Script,
    breaker: Breaker,
}

impl std::fmt::Debug for RedisLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mode = if self.inner.connection.is_cluster() {
            "cluster"
        } else {
            "single server"
        };
        f.debug_struct("RedisLock")
            .field("mode", &mode)
            .field("config", &self.inner.config)
            .field("breaker_open", &self.breaker_is_open())
            .finish_non_exhaustive()
    }
}

/// Why one Redis call did not give an answer.
#[derive(Debug)]
enum CallError {
    /// The breaker is open: nothing was sent.
    Skipped(BreakerOpen),
    /// The client or the server reported an error.
    Redis(RedisError),
    /// No answer within the command timeout.
    Timeout(CommandTimeout),
}

impl CallError {
    fn as_error(&self) -> &(dyn std::error::Error + 'static) {
        match self {
            CallError::Skipped(e) => e,
            CallError::Redis(e) => e,
            CallError::Timeout(e) => e,
        }
    }
}

impl From<CallError> for LockError {
    fn from(error: CallError) -> Self {
        match error {
            CallError::Skipped(e) => LockError::Unavailable(Box::new(e)),
            CallError::Redis(e) => LockError::backend(e),
            CallError::Timeout(e) => LockError::backend(e),
        }
    }
}

impl RedisLock {
    /// Connects to Redis at `url` and checks the connection once (a `PING`,
    /// to every primary of a cluster), bounded by the configured command
    /// timeout.
    ///
    /// `url` is one server (`redis://host:port/db`) or the nodes of a Redis
    /// Cluster separated by commas (`redis://a:6379,redis://b:6379`), which
    /// selects the cluster client.
    ///
    /// Fails with [`LockError::Backend`] when the URL is invalid or Redis
    /// cannot be reached. To start even while Redis is down (bookings then
    /// proceed without the lock until it comes back), use
    /// [`connect_lazy`](Self::connect_lazy).
    pub async fn connect(url: &str, config: RedisLockConfig) -> Result<Self, LockError> {
        let lock = Self::connect_lazy(url, config)?;
        lock.bounded(ping).await?;
        Ok(lock)
    }

    /// A lock for Redis at `url` (one server, or cluster nodes separated by
    /// commas, as for [`connect`](Self::connect)) that connects in the
    /// background (and reconnects whenever the connection drops). Fails only
    /// on an invalid URL; an unreachable server shows up later as
    /// [`LockError::Backend`] from [`acquire`](SlotLock::acquire).
    ///
    /// Must be called inside a Tokio runtime (the connection spawns a
    /// background task).
    pub fn connect_lazy(url: &str, config: RedisLockConfig) -> Result<Self, LockError> {
        let connection = Connection::lazy(url, &config).map_err(LockError::backend)?;
        Ok(Self::with_connection(connection, config))
    }

    /// A lock over a connection manager you built yourself (your own TLS,
    /// credentials or retry settings). Calls are still bounded by
    /// `config.command_timeout`.
    pub fn from_manager(manager: ConnectionManager, config: RedisLockConfig) -> Self {
        Self::with_connection(Connection::Single(manager), config)
    }

    /// A lock over a Redis Cluster connection you built yourself (say from
    /// a [`redis::cluster::ClusterClientBuilder`] with TLS, or for a cluster
    /// reached through one address). Calls are still bounded by
    /// `config.command_timeout`.
    pub fn from_cluster(connection: ClusterConnection, config: RedisLockConfig) -> Self {
        Self::with_connection(Connection::Cluster(connection), config)
    }

    fn with_connection(connection: Connection, config: RedisLockConfig) -> Self {
        Self {
            inner: Arc::new(Inner {
                connection,
                breaker: Breaker::new(config.breaker_interval),
                config,
                release: Script::new(RELEASE_SCRIPT),
            }),
        }
    }

    /// This lock's configuration.
    pub fn config(&self) -> &RedisLockConfig {
        &self.inner.config
    }

    /// Whether the circuit breaker is open: Redis failed and calls skip it
    /// until a background probe sees it answer again.
    pub fn breaker_is_open(&self) -> bool {
        self.inner.breaker.is_open()
    }

    /// The Redis key that locks `slot`:
    /// `{prefix}:{ORGANIZER_ID}:{start ms}`, braces included (a Redis
    /// Cluster hash tag, see the [crate docs](crate#the-key)); just
    /// `{ORGANIZER_ID}:{start ms}` when the prefix is empty.
    pub fn key_for(&self, slot: &SlotKey) -> String {
        let tagged = format!(
            "{{{}}}:{}",
            slot.organizer_id,
            slot.start.timestamp_millis()
        );
        let prefix = &self.inner.config.prefix;
        if prefix.is_empty() {
            tagged
        } else {
            format!("{prefix}:{tagged}")
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
        let mut set = redis::cmd("SET");
        set.arg(key).arg(token).arg("NX").arg("PX").arg(ttl_ms);
        let reply = self
            .call(|mut conn| async move { set.query_async::<Option<String>>(&mut conn).await })
            .await;
        match reply {
            Ok(reply) => Ok(reply.is_some()),
            // Nothing was sent: nothing to undo.
            Err(error @ CallError::Skipped(_)) => Err(error.into()),
            Err(CallError::Redis(error)) if error.is_connection_refusal() => {
                Err(LockError::backend(error))
            }
            // The SET may have been applied without us hearing back.
            Err(error) => {
                self.spawn_cleanup(key, token);
                Err(error.into())
            }
        }
    }

    /// Best-effort compare-and-delete of an acquisition whose outcome is
    /// unknown (Redis may have applied the `SET` without us hearing back),
    /// run in the background so the caller is not delayed. Only ever deletes
    /// a key still holding `token`, which nobody but us knows, so it cannot
    /// harm another holder. Skipped while the breaker is open: the key then
    /// expires by itself.
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
        let script = &self.inner.release;
        let deleted: i64 = self
            .call(|mut conn| async move {
                let mut invocation = script.prepare_invoke();
                invocation.key(guard.key()).arg(guard.token());
                invocation.invoke_async(&mut conn).await
            })
            .await?;
        match deleted {
            1 => Ok(Release::Released),
            0 => Ok(Release::NotHeld),
            other => Err(LockError::backend(UnexpectedReply(format!(
                "release script returned {other}"
            )))),
        }
    }

    /// One Redis call, through the circuit breaker: skipped at once while it
    /// is open, otherwise sent under the command timeout and its outcome
    /// recorded.
    async fn call<T, F, Fut>(&self, request: F) -> Result<T, CallError>
    where
        F: FnOnce(Connection) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        let probe = match self.inner.breaker.admit() {
            Admission::Go => false,
            Admission::Skip(open) => return Err(CallError::Skipped(open)),
            Admission::StartProber(open) => {
                if self.start_prober() {
                    return Err(CallError::Skipped(open));
                }
                // No runtime for a prober: this call is the probe, and the
                // next one tries to start a prober again.
                self.inner.breaker.prober_gone();
                true
            }
        };
        self.recorded(request, probe).await
    }

    /// Sends `request` whatever the breaker says and records the outcome: a
    /// failure meaning Redis is unavailable opens the breaker; any answer to
    /// a `probe` closes it.
    async fn recorded<T, F, Fut>(&self, request: F, probe: bool) -> Result<T, CallError>
    where
        F: FnOnce(Connection) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        let result = self.bounded(request).await;
        let breaker = &self.inner.breaker;
        match &result {
            Ok(_) if probe => breaker.answered(),
            Ok(_) => {}
            Err(error) => match breaker.failed(error.as_error()) {
                Transition::Opened => {
                    if !self.start_prober() {
                        breaker.prober_gone();
                    }
                }
                // Redis answered, if only with an error: it is up.
                Transition::None if probe && !breaker::means_unavailable(error.as_error()) => {
                    breaker.answered();
                }
                Transition::None => {}
            },
        }
        result
    }

    /// Runs one Redis call under the command timeout, without the breaker.
    async fn bounded<T, F, Fut>(&self, request: F) -> Result<T, CallError>
    where
        F: FnOnce(Connection) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        let timeout = self.inner.config.command_timeout;
        match tokio::time::timeout(timeout, request(self.inner.connection.clone())).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(CallError::Redis(error)),
            Err(_elapsed) => Err(CallError::Timeout(CommandTimeout(timeout))),
        }
    }

    /// Starts the background task that pings Redis every breaker interval
    /// until it answers, then closes the breaker. `false` when there is no
    /// Tokio runtime to run it on.
    fn start_prober(&self) -> bool {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return false;
        };
        let interval = self.inner.breaker.interval();
        let mut prober = Prober(Some(Arc::downgrade(&self.inner)));
        runtime.spawn(async move {
            loop {
                tokio::time::sleep(interval).await;
                let Some(inner) = prober.upgrade() else {
                    return; // the lock is gone
                };
                let lock = RedisLock { inner };
                if let Err(error) = lock.recorded(ping, true).await {
                    tracing::debug!(error = %error.as_error(), "redis still unavailable");
                }
                if !lock.breaker_is_open() {
                    prober.done();
                    return;
                }
            }
        });
        true
    }
}

/// The prober's hold on its lock. If the task is dropped before Redis
/// answered (its runtime shut down), the breaker learns that no prober runs,
/// so the next call starts one.
struct Prober(Option<Weak<Inner>>);

impl Prober {
    fn upgrade(&self) -> Option<Arc<Inner>> {
        self.0.as_ref().and_then(Weak::upgrade)
    }

    fn done(&mut self) {
        self.0 = None;
    }
}

impl Drop for Prober {
    fn drop(&mut self) {
        if let Some(inner) = self.upgrade() {
            inner.breaker.prober_gone();
        }
    }
}

/// `PING`, expecting `PONG` (from every primary, on a cluster).
async fn ping(mut conn: Connection) -> RedisResult<()> {
    let pong: String = redis::cmd("PING").query_async(&mut conn).await?;
    if pong == "PONG" {
        Ok(())
    } else {
        Err(RedisError::from((
            redis::ErrorKind::UnexpectedReturnType,
            "PING did not answer PONG",
            pong,
        )))
    }
}

#[async_trait]
impl SlotLock for RedisLock {
    /// Sends `PING` (to every primary, on a cluster), bypassing the circuit
    /// breaker: a readiness probe wants to know about Redis now. An answer
    /// closes an open breaker; a failure opens it.
    async fn check_health(&self) -> Result<(), LockError> {
        self.recorded(ping, true).await.map_err(LockError::from)
    }

    /// Takes the slot's key for `ttl` (clamped to 1 ms ..= [`MAX_TTL`]),
    /// waiting for a held key up to [`RedisLockConfig::wait`].
    async fn acquire(&self, key: &SlotKey, ttl: Duration) -> Result<LockGuard, LockError> {
        self.acquire_within(key, ttl, self.inner.config.wait).await
    }

    /// Deletes the guard's key if, and only if, it still holds the guard's
    /// token ([`RELEASE_SCRIPT`], sent as `EVALSHA` with a fallback to
    /// loading the script). [`Release::NotHeld`] means the lock had expired;
    /// whoever holds the key now keeps it.
    async fn release(&self, guard: &LockGuard) -> Result<Release, LockError> {
        self.compare_and_delete(guard).await
    }
}

/// About thirty years from now: the deadline of an unbounded wait.
fn far_future() -> Instant {
    let now = Instant::now();
    now.checked_add(Duration::from_secs(60 * 60 * 24 * 365 * 30))
        .unwrap_or(now)
}

/// The TTL in whole milliseconds for `PX`: at least 1 (Redis rejects 0), at
/// most [`MAX_TTL`].
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
