//! How a [`RedisLock`](crate::RedisLock) behaves: [`RedisLockConfig`] and
//! its defaults.

use std::time::Duration;

use redis::aio::ConnectionManagerConfig;

/// The seed's key prefix: keys look like `lock:booking:{ORGANIZER_ID}:{ms}`.
pub const DEFAULT_PREFIX: &str = "lock:booking";

/// How long one Redis call may take before it counts as a backend failure,
/// unless configured otherwise. Short, because a booking that cannot take the
/// lock proceeds without it: a slow Redis should cost little latency.
pub const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(2);

/// How long the lock skips Redis after it failed, unless configured
/// otherwise, and how often it probes Redis in the background meanwhile.
///
/// Five seconds: long enough that an outage costs one slow call per
/// process rather than one per booking, short enough that slot locks are
/// back within seconds of Redis coming back. While the breaker is open,
/// bookings proceed without the lock and the store still refuses overlaps.
pub const DEFAULT_BREAKER_INTERVAL: Duration = Duration::from_secs(5);

/// How a [`RedisLock`](crate::RedisLock) behaves. Build it from [`Default`]
/// and the `with_*` methods:
///
/// ```
/// use std::time::Duration;
/// use booking_redis_lock::RedisLockConfig;
///
/// let config = RedisLockConfig::default()
///     .with_prefix("myapp:lock:booking")
///     .with_wait(Some(Duration::from_millis(500)))
///     .with_breaker_interval(Duration::from_secs(2));
/// assert_eq!(config.command_timeout, Duration::from_secs(2));
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RedisLockConfig {
    /// Prepended to every key with a `:`; default [`DEFAULT_PREFIX`]. Give
    /// each application (or test) its own prefix to keep their locks apart.
    ///
    /// Must not contain `{`: Redis Cluster hashes the first `{...}` of a key,
    /// which must be the organizer's hash tag that follows the prefix (a
    /// prefix with braces still works, but puts every key on one slot).
    pub prefix: String,
    /// How long [`SlotLock::acquire`](booking_core::lock::SlotLock::acquire)
    /// keeps retrying a held key before it refuses with
    /// [`LockError::Held`](booking_core::lock::LockError::Held). `None` (the
    /// default, as in the seed) refuses at once.
    pub wait: Option<Duration>,
    /// The bound on each Redis call, connecting included; past it the call
    /// fails with [`LockError::Backend`](booking_core::lock::LockError::Backend)
    /// wrapping [`CommandTimeout`](crate::CommandTimeout).
    /// Default [`DEFAULT_COMMAND_TIMEOUT`].
    pub command_timeout: Duration,
    /// How many times the connection manager retries a failed connection
    /// attempt (with its own exponential backoff) before a command fails.
    /// Kept low by default (1) so an unreachable Redis is reported quickly;
    /// the manager tries to reconnect again on the next command anyway.
    /// (Single server only; the cluster client keeps its own retry policy,
    /// still bounded by `command_timeout`.)
    pub reconnect_retries: usize,
    /// The circuit breaker's interval: after Redis failed to answer, calls
    /// skip Redis for this long (failing at once with
    /// [`BreakerOpen`](crate::BreakerOpen)) while a background task pings
    /// Redis every `breaker_interval` until it answers. Default
    /// [`DEFAULT_BREAKER_INTERVAL`]; [`Duration::ZERO`] turns the breaker off
    /// (every call tries Redis).
    pub breaker_interval: Duration,
}

impl Default for RedisLockConfig {
    fn default() -> Self {
        Self {
            prefix: DEFAULT_PREFIX.to_owned(),
            wait: None,
            command_timeout: DEFAULT_COMMAND_TIMEOUT,
            reconnect_retries: 1,
            breaker_interval: DEFAULT_BREAKER_INTERVAL,
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

    /// Sets [`breaker_interval`](Self::breaker_interval);
    /// [`Duration::ZERO`] turns the breaker off.
    pub fn with_breaker_interval(mut self, interval: Duration) -> Self {
        self.breaker_interval = interval;
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

    /// The cluster client settings matching this configuration: connect and
    /// response timeouts equal to [`command_timeout`](Self::command_timeout).
    pub fn cluster_config(&self) -> redis::cluster::ClusterConfig {
        redis::cluster::ClusterConfig::new()
            .set_connection_timeout(self.command_timeout)
            .set_response_timeout(self.command_timeout)
    }
}
