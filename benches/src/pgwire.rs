//! A loopback TCP proxy in front of PostgreSQL that counts the messages a
//! client sends, so the load program can state exactly how many statements
//! and round trips one `create_booking` costs (PostgreSQL's own
//! `pg_stat_statements` is usually not loaded, and `log_statement` would be a
//! server-wide change).
//!
//! Only the client-to-server direction is parsed; everything is forwarded
//! unchanged. Counted per frontend message type: `Q` (simple query), `P`
//! (Parse), `B` (Bind), `E` (Execute) and `S` (Sync). In the extended protocol
//! the client waits for the server once per `Sync`, so `S + Q` is the number
//! of round trips. Use it without TLS (`sslmode=disable`): an encrypted
//! stream cannot be parsed.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// Message counts since the proxy started.
#[derive(Debug, Default)]
pub struct Counts {
    simple_queries: AtomicU64,
    parses: AtomicU64,
    binds: AtomicU64,
    executes: AtomicU64,
    syncs: AtomicU64,
}

/// A copy of [`Counts`] at one moment; subtract two to count a phase.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// Simple-protocol queries (`Q`).
    pub simple_queries: u64,
    /// Statements prepared (`P`).
    pub parses: u64,
    /// Bind messages (`B`).
    pub binds: u64,
    /// Statements executed (`E`).
    pub executes: u64,
    /// Syncs (`S`): one round trip each.
    pub syncs: u64,
}

impl Snapshot {
    /// What happened between `earlier` and `self`.
    pub fn since(&self, earlier: &Snapshot) -> Snapshot {
        Snapshot {
            simple_queries: self.simple_queries - earlier.simple_queries,
            parses: self.parses - earlier.parses,
            binds: self.binds - earlier.binds,
            executes: self.executes - earlier.executes,
            syncs: self.syncs - earlier.syncs,
        }
    }

    /// Statements run: extended-protocol executes plus simple queries.
    pub fn statements(&self) -> u64 {
        self.executes + self.simple_queries
    }

    /// Times the client waited for the server: syncs plus simple queries.
    pub fn round_trips(&self) -> u64 {
        self.syncs + self.simple_queries
    }
}

impl Counts {
    /// The counts now.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            simple_queries: self.simple_queries.load(Ordering::SeqCst),
            parses: self.parses.load(Ordering::SeqCst),
            binds: self.binds.load(Ordering::SeqCst),
            executes: self.executes.load(Ordering::SeqCst),
            syncs: self.syncs.load(Ordering::SeqCst),
        }
    }

    fn record(&self, message_type: u8) {
        let counter = match message_type {
            b'Q' => &self.simple_queries,
            b'P' => &self.parses,
            b'B' => &self.binds,
            b'E' => &self.executes,
            b'S' => &self.syncs,
            _ => return,
        };
        counter.fetch_add(1, Ordering::SeqCst);
    }
}

/// A running proxy. Dropping it stops accepting; open connections end when
/// either side closes.
#[derive(Debug)]
pub struct CountingProxy {
    addr: SocketAddr,
    counts: Arc<Counts>,
    acceptor: JoinHandle<()>,
}

impl CountingProxy {
    /// Listens on an ephemeral loopback port and forwards every connection
    /// to `upstream`.
    pub async fn start(upstream: SocketAddr) -> std::io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let counts = Arc::new(Counts::default());
        let shared = Arc::clone(&counts);
        let acceptor = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let counts = Arc::clone(&shared);
                tokio::spawn(async move {
                    if let Ok(server) = TcpStream::connect(upstream).await {
                        let _ = forward(client, server, counts).await;
                    }
                });
            }
        });
        Ok(CountingProxy {
            addr,
            counts,
            acceptor,
        })
    }

    /// Where clients connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The counts so far.
    pub fn snapshot(&self) -> Snapshot {
        self.counts.snapshot()
    }
}

impl Drop for CountingProxy {
    fn drop(&mut self) {
        self.acceptor.abort();
    }
}

async fn forward(client: TcpStream, server: TcpStream, counts: Arc<Counts>) -> std::io::Result<()> {
    client.set_nodelay(true)?;
    server.set_nodelay(true)?;
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let upstream = async move {
        let mut parser = FrontendParser::default();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = client_read.read(&mut buf).await?;
            if n == 0 {
                server_write.shutdown().await?;
                return Ok::<(), std::io::Error>(());
            }
            server_write.write_all(&buf[..n]).await?;
            parser.feed(&buf[..n], |t| counts.record(t));
        }
    };
    let downstream = async move {
        tokio::io::copy(&mut server_read, &mut client_write).await?;
        client_write.shutdown().await
    };
    let (up, down) = tokio::join!(upstream, downstream);
    up.and(down)
}

/// Splits the client's byte stream into frontend messages. The first
/// messages (SSL/GSS requests and the startup message) have no type byte.
#[derive(Debug, Default)]
struct FrontendParser {
    pending: Vec<u8>,
    started: bool,
}

/// Request codes of the untyped messages sent before the startup message.
const SSL_REQUEST: u32 = 80_877_103;
const GSSENC_REQUEST: u32 = 80_877_104;

impl FrontendParser {
    fn feed(&mut self, bytes: &[u8], mut on_message: impl FnMut(u8)) {
        self.pending.extend_from_slice(bytes);
        let mut at = 0;
        loop {
            let rest = &self.pending[at..];
            if !self.started {
                if rest.len() < 8 {
                    break;
                }
                let len = be_u32(&rest[0..4]) as usize;
                if rest.len() < len {
                    break;
                }
                let code = be_u32(&rest[4..8]);
                if code != SSL_REQUEST && code != GSSENC_REQUEST {
                    self.started = true;
                }
                at += len.max(8);
            } else {
                if rest.len() < 5 {
                    break;
                }
                let len = be_u32(&rest[1..5]) as usize;
                if rest.len() < 1 + len {
                    break;
                }
                on_message(rest[0]);
                at += 1 + len.max(4);
            }
        }
        self.pending.drain(..at);
    }
}

fn be_u32(bytes: &[u8]) -> u32 {
    let mut word = [0u8; 4];
    word.copy_from_slice(&bytes[..4]);
    u32::from_be_bytes(word)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(t: u8, body: &[u8]) -> Vec<u8> {
        let mut m = vec![t];
        m.extend_from_slice(&(body.len() as u32 + 4).to_be_bytes());
        m.extend_from_slice(body);
        m
    }

    #[test]
    fn the_parser_counts_messages_split_anywhere() {
        let mut stream = Vec::new();
        stream.extend_from_slice(&8u32.to_be_bytes());
        stream.extend_from_slice(&SSL_REQUEST.to_be_bytes());
        stream.extend_from_slice(&12u32.to_be_bytes());
        stream.extend_from_slice(&196_608u32.to_be_bytes());
        stream.extend_from_slice(b"user");
        for m in [
            message(b'P', b"stmt\0select 1\0\0\0"),
            message(b'B', b"\0stmt\0\0\0\0\0\0\0"),
            message(b'E', b"\0\0\0\0\0"),
            message(b'S', b""),
            message(b'Q', b"select 1\0"),
        ] {
            stream.extend(m);
        }
        for chunk in [1, 3, 7, stream.len()] {
            let mut parser = FrontendParser::default();
            let mut seen = Vec::new();
            for part in stream.chunks(chunk) {
                parser.feed(part, |t| seen.push(t));
            }
            assert_eq!(seen, b"PBESQ", "chunk size {chunk}");
        }
    }
}
