//! A loopback address standing in for Redis, for the circuit breaker's
//! tests: while "down" it accepts each connection and closes it at once (so
//! every connection attempt is counted); once "up" it forwards connections
//! to the real test Redis.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use booking_core::lock::{DEFAULT_LOCK_TTL, LockError, LockGuard, SlotLock};
use booking_redis_lock::{BreakerOpen, RedisLock};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use super::{config, redis_url, slot};

/// A guard against hangs, far above anything the lock should take.
pub const HANG_GUARD: Duration = Duration::from_secs(30);

/// Calls made while the breaker is open.
pub const CALLS_WHILE_OPEN: usize = 40;

/// A loopback address standing in for Redis, counting connections.
pub struct Door {
    port: u16,
    connections: Arc<AtomicUsize>,
    up: Arc<AtomicBool>,
    task: JoinHandle<()>,
}

impl Door {
    /// A door that is down: it accepts and closes every connection.
    pub async fn down() -> Door {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections = Arc::new(AtomicUsize::new(0));
        let up = Arc::new(AtomicBool::new(false));
        let target = redis_address();
        let task = tokio::spawn({
            let (connections, up) = (connections.clone(), up.clone());
            async move {
                while let Ok((mut client, _)) = listener.accept().await {
                    connections.fetch_add(1, Ordering::SeqCst);
                    if !up.load(Ordering::SeqCst) {
                        drop(client);
                        continue;
                    }
                    let target = target.clone();
                    tokio::spawn(async move {
                        let mut server = TcpStream::connect(&target).await.unwrap();
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    });
                }
            }
        });
        Door {
            port,
            connections,
            up,
            task,
        }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// From now on, connections reach the real Redis.
    pub fn bring_up(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

impl Drop for Door {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// `host:port` of the test Redis (`REDIS_URL`).
fn redis_address() -> String {
    let url = redis_url();
    let rest = url.split_once("://").map_or(url.as_str(), |(_, rest)| rest);
    let host_port = rest.split('/').next().unwrap_or(rest);
    host_port.rsplit('@').next().unwrap_or(host_port).to_owned()
}

/// A lock behind `door`: one reconnect attempt per failure, the given
/// breaker interval.
pub fn lock_behind(door: &Door, test: &str, interval: Duration) -> RedisLock {
    let config = config(test)
        .with_reconnect_retries(0)
        .with_breaker_interval(interval);
    RedisLock::connect_lazy(&door.url(), config).unwrap()
}

pub fn skipped_by_breaker<T: std::fmt::Debug>(result: &Result<T, LockError>) -> bool {
    matches!(result, Err(LockError::Backend(source)) if source.is::<BreakerOpen>())
}

/// Calls `acquire` and `release` `CALLS_WHILE_OPEN` times in all; returns
/// how many were skipped by the breaker.
pub async fn hammer(lock: &RedisLock) -> usize {
    let mut skipped = 0;
    for n in 0..CALLS_WHILE_OPEN {
        let skip = if n % 4 == 3 {
            let guard = LockGuard::new(lock.key_for(&slot()), "token");
            skipped_by_breaker(&lock.release(&guard).await)
        } else {
            skipped_by_breaker(&lock.acquire(&slot(), DEFAULT_LOCK_TTL).await)
        };
        skipped += usize::from(skip);
    }
    skipped
}
