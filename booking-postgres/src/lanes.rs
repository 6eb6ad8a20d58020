//! Connections kept apart from the pool for the one-statement booking
//! insert, so that a booking costs one round trip and not two.
//!
//! sqlx's pool tests every connection it takes back (an empty `Sync` and
//! its `ReadyForQuery`, unconditionally, in `PoolConnection`'s release): on
//! the hot path, where a booking is one statement, that doubles the round
//! trips and adds the server's work of answering them. The connections
//! here come from the pool once (so they get its connect options and its
//! `after_connect` hooks, such as a `search_path`), are detached from it
//! and then lent and taken back here without a test:
//!
//! * a connection taken from the pool is tested with one ping (the pool
//!   lends one used a moment ago untested);
//! * a connection that was idle for [`IDLE_BEFORE_PING`] or longer, or
//!   that was idle when another one was found lost (a server restart, a
//!   failover, a terminated backend), is tested with one ping before it is
//!   lent, and replaced when the ping fails;
//! * a connection whose statement failed with a lost connection is closed,
//!   and every other one is tested before its next use;
//! * a connection whose statement was abandoned half-way (the caller's
//!   future dropped, say by a client hanging up) is closed, never reused
//!   in an unknown state.
//!
//! At most `count` connections are lent at once; more bookings wait for
//! one (first come, first served), as long as the pool's acquire timeout
//! (then they fail as the pool would: `PoolTimedOut`, a backend error). The pool's own size is not changed: the
//! store opens at most its pool's size plus `count` connections.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use sqlx::postgres::{PgConnection, PgPool};
use tokio::sync::{Semaphore, SemaphorePermit};

use crate::IDLE_BEFORE_PING;
use crate::insert::connection_lost;

/// How many connections a store keeps for bookings when not told
/// otherwise (see [`PostgresOptions::booking_connections`]).
///
/// [`PostgresOptions::booking_connections`]: crate::PostgresOptions::booking_connections
pub const DEFAULT_BOOKING_CONNECTIONS: u32 = 8;

/// The store's connections for bookings (see the module docs).
pub(crate) struct Lanes {
    permits: Semaphore,
    count: usize,
    idle: Mutex<Vec<Idle>>,
    /// How many connections were found lost so far: a connection that sat
    /// idle while this grew is tested before it is lent.
    losses: AtomicU64,
}

/// `count` as a number of semaphore permits (capped at what a semaphore
/// holds).
pub(crate) fn permit_count(count: u32) -> usize {
    usize::try_from(count)
        .unwrap_or(usize::MAX)
        .min(Semaphore::MAX_PERMITS)
}

/// A connection waiting to be lent.
struct Idle {
    connection: PgConnection,
    /// [`Lanes::losses`] when it was last known to work.
    checked: u64,
    since: Instant,
}

impl std::fmt::Debug for Lanes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lanes")
            .field("count", &self.count)
            .field("idle", &self.idle().len())
            .finish()
    }
}

impl Lanes {
    /// Up to `count` connections; none makes every booking go through the
    /// pool.
    pub(crate) fn new(count: u32) -> Self {
        let count = permit_count(count);
        Lanes {
            permits: Semaphore::new(count),
            count,
            idle: Mutex::new(Vec::with_capacity(count)),
            losses: AtomicU64::new(0),
        }
    }

    /// Whether bookings go through the pool instead.
    pub(crate) fn is_empty(&self) -> bool {
        self.count == 0
    }

    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<Idle>> {
        // The list is only pushed to and popped from; a panic elsewhere
        // while it was locked leaves it consistent.
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A connection of `pool`'s, lent until the returned value is dropped:
    /// call [`Lent::settle`] with what its statement returned, or it is
    /// closed instead of taken back.
    pub(crate) async fn lend<'a>(&'a self, pool: &PgPool) -> Result<Lent<'a>, sqlx::Error> {
        if pool.is_closed() {
            self.idle().clear();
            return Err(sqlx::Error::PoolClosed);
        }
        // As long as the pool would let a caller wait for a connection.
        let permit =
            tokio::time::timeout(pool.options().get_acquire_timeout(), self.permits.acquire())
                .await
                .map_err(|_| sqlx::Error::PoolTimedOut)?
                .map_err(|_| sqlx::Error::PoolClosed)?;
        let losses = self.losses.load(Ordering::Acquire);
        loop {
            let Some(idle) = self.idle().pop() else {
                break;
            };
            let mut connection = idle.connection;
            let suspect = idle.checked < losses || idle.since.elapsed() >= IDLE_BEFORE_PING;
            if suspect && sqlx::Connection::ping(&mut connection).await.is_err() {
                // Dropped: the next idle one, or a new one.
                continue;
            }
            return Ok(Lent::new(self, permit, connection));
        }
        let connection = tested_from(pool).await?;
        Ok(Lent::new(self, permit, connection))
    }
}

impl crate::PostgresStore {
    /// Runs one statement on a connection kept for bookings (lent, then
    /// settled by what the statement returned) or, when the store keeps
    /// none, on one of the pool's.
    pub(crate) async fn on_booking_connection<T>(
        &self,
        statement: impl AsyncFnOnce(&mut PgConnection) -> Result<T, sqlx::Error>,
    ) -> Result<T, sqlx::Error> {
        if self.lanes.is_empty() {
            let mut pooled = self.pool.acquire().await?;
            return statement(&mut pooled).await;
        }
        let mut lent = self.lanes.lend(&self.pool).await?;
        let result = statement(lent.connection()?).await;
        lent.settle(&result);
        result
    }
}

/// One of `pool`'s connections, tested with a ping (the pool lends a
/// connection used a moment ago untested, and after a server restart every
/// one it keeps is dead), detached from it. Dead ones are closed and the
/// next is tried, up to the pool's size and one more: by then the pool
/// opened a new one.
async fn tested_from(pool: &PgPool) -> Result<PgConnection, sqlx::Error> {
    let mut tries = pool.options().get_max_connections().saturating_add(1);
    loop {
        let mut pooled = pool.acquire().await?;
        match sqlx::Connection::ping(&mut *pooled).await {
            Ok(()) => return Ok(pooled.detach()),
            Err(error) => {
                pooled.close_on_drop();
                tries = tries.saturating_sub(1);
                if tries == 0 {
                    return Err(error);
                }
            }
        }
    }
}

/// A connection lent for one statement.
pub(crate) struct Lent<'a> {
    lanes: &'a Lanes,
    _permit: SemaphorePermit<'a>,
    connection: Option<PgConnection>,
    /// Set by [`settle`](Self::settle) when the statement ended in a way
    /// that leaves the connection ready for the next.
    reusable: bool,
}

impl<'a> Lent<'a> {
    fn new(lanes: &'a Lanes, permit: SemaphorePermit<'a>, connection: PgConnection) -> Self {
        Lent {
            lanes,
            _permit: permit,
            connection: Some(connection),
            reusable: false,
        }
    }

    /// The connection.
    pub(crate) fn connection(&mut self) -> Result<&mut PgConnection, sqlx::Error> {
        // Only `Drop` takes it out.
        self.connection.as_mut().ok_or(sqlx::Error::PoolClosed)
    }

    /// Records how the statement ended: a lost connection is closed (and
    /// every idle one tested before its next use); any other outcome,
    /// success or a refusal by the server, leaves it ready for the next.
    pub(crate) fn settle<T>(&mut self, result: &Result<T, sqlx::Error>) {
        match result {
            Err(error) if connection_lost(error) => {
                self.reusable = false;
                self.lanes.losses.fetch_add(1, Ordering::AcqRel);
            }
            _ => self.reusable = true,
        }
    }
}

impl Drop for Lent<'_> {
    fn drop(&mut self) {
        if let (true, Some(connection)) = (self.reusable, self.connection.take()) {
            let checked = self.lanes.losses.load(Ordering::Acquire);
            self.lanes.idle().push(Idle {
                connection,
                checked,
                since: Instant::now(),
            });
        }
        // Otherwise the connection is dropped here, which closes it.
    }
}
