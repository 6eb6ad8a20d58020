//! A loopback address standing in for Redis: while "down" it accepts each
//! connection and closes it at once (so every connection attempt is
//! counted); once "up" it forwards connections to the real test Redis,
//! recording the commands clients send.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use booking_core::lock::{DEFAULT_LOCK_TTL, LockError, LockGuard, SlotLock};
use booking_redis_lock::{BreakerOpen, RedisLock};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
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
    /// What each forwarded connection's client sent.
    sent: Arc<Mutex<Vec<Vec<u8>>>>,
    task: JoinHandle<()>,
}

impl Door {
    /// A door that is down: it accepts and closes every connection.
    pub async fn down() -> Door {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections = Arc::new(AtomicUsize::new(0));
        let up = Arc::new(AtomicBool::new(false));
        let sent = Arc::new(Mutex::new(Vec::new()));
        let target = redis_address();
        let task = tokio::spawn({
            let (connections, up, sent) = (connections.clone(), up.clone(), sent.clone());
            async move {
                while let Ok((client, _)) = listener.accept().await {
                    connections.fetch_add(1, Ordering::SeqCst);
                    if !up.load(Ordering::SeqCst) {
                        drop(client);
                        continue;
                    }
                    let connection = {
                        let mut sent = sent.lock().unwrap();
                        sent.push(Vec::new());
                        sent.len() - 1
                    };
                    tokio::spawn(forward(client, target.clone(), sent.clone(), connection));
                }
            }
        });
        Door {
            port,
            connections,
            up,
            sent,
            task,
        }
    }

    /// A door that is up from the start.
    pub async fn up() -> Door {
        let door = Door::down().await;
        door.bring_up();
        door
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

    /// The names of the commands clients sent through the door so far,
    /// connection after connection, in order (upper case; `CLIENT SETINFO`
    /// is `CLIENT`).
    pub fn commands(&self) -> Vec<String> {
        let sent = self.sent.lock().unwrap();
        sent.iter().flat_map(|bytes| command_names(bytes)).collect()
    }
}

/// Forwards one client connection to Redis, recording what the client sends.
async fn forward(
    client: TcpStream,
    target: String,
    sent: Arc<Mutex<Vec<Vec<u8>>>>,
    connection: usize,
) {
    let server = TcpStream::connect(&target).await.unwrap();
    let (mut from_client, mut to_client) = client.into_split();
    let (mut from_server, mut to_server) = server.into_split();
    let upstream = async move {
        let mut buffer = vec![0; 64 * 1024];
        while let Ok(read) = from_client.read(&mut buffer).await {
            if read == 0 {
                break;
            }
            sent.lock().unwrap()[connection].extend_from_slice(&buffer[..read]);
            if to_server.write_all(&buffer[..read]).await.is_err() {
                break;
            }
        }
    };
    let downstream = tokio::io::copy(&mut from_server, &mut to_client);
    let _ = tokio::join!(upstream, downstream);
}

/// The command names in a stream of RESP requests (arrays of bulk strings).
fn command_names(mut stream: &[u8]) -> Vec<String> {
    fn line<'a>(stream: &mut &'a [u8]) -> &'a [u8] {
        let end = stream
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("a complete RESP line");
        let (line, rest) = stream.split_at(end);
        *stream = &rest[2..];
        line
    }
    fn number(bytes: &[u8]) -> usize {
        std::str::from_utf8(bytes).unwrap().parse().unwrap()
    }
    let mut names = Vec::new();
    while !stream.is_empty() {
        let header = line(&mut stream);
        assert_eq!(header[0], b'*', "a request is an array");
        let parts = number(&header[1..]);
        for part in 0..parts {
            let length = line(&mut stream);
            assert_eq!(length[0], b'$', "a request holds bulk strings");
            let length = number(&length[1..]);
            if part == 0 {
                names.push(String::from_utf8_lossy(&stream[..length]).to_uppercase());
            }
            stream = &stream[length + 2..];
        }
    }
    names
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
    matches!(result, Err(LockError::Unavailable(source)) if source.is::<BreakerOpen>())
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
