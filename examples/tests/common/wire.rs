//! Raw TCP clients for the connection tests: what a slow, idle or
//! oversized client does byte by byte, which an HTTP client library would
//! never do.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long a test waits for the server to close a connection it should
/// close after a configured timeout of about a second. A server that never
/// closes fails the test after this bound; it is not a measurement.
pub const CLOSE_BOUND: Duration = Duration::from_secs(30);

/// A plain TCP connection to `addr`.
pub async fn connect(addr: SocketAddr) -> TcpStream {
    TcpStream::connect(addr)
        .await
        .expect("connect to the service")
}

/// Writes `bytes` and flushes.
pub async fn send(stream: &mut TcpStream, bytes: &[u8]) {
    stream.write_all(bytes).await.expect("write");
    stream.flush().await.expect("flush");
}

/// What the server did with a connection within [`CLOSE_BOUND`].
#[derive(Debug, PartialEq, Eq)]
pub enum Ending {
    /// It closed the connection (EOF or reset) after sending these bytes.
    Closed(String),
    /// It still held the connection open at the bound, having sent these.
    StillOpen(String),
}

/// Reads until the server closes the connection or [`CLOSE_BOUND`] passes.
pub async fn read_until_closed(stream: &mut TcpStream) -> Ending {
    let mut received = Vec::new();
    let read_all = async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => received.extend_from_slice(&buf[..n]),
            }
        }
    };
    let closed = tokio::time::timeout(CLOSE_BOUND, read_all).await.is_ok();
    let text = String::from_utf8_lossy(&received).into_owned();
    if closed {
        Ending::Closed(text)
    } else {
        Ending::StillOpen(text)
    }
}

/// Reads one response head (up to the blank line) within [`CLOSE_BOUND`];
/// `None` when the connection closes or nothing complete arrives in time.
pub async fn read_head(stream: &mut TcpStream) -> Option<String> {
    let mut received = Vec::new();
    let read = async {
        let mut byte = [0u8; 1];
        loop {
            match stream.read(&mut byte).await {
                Ok(0) | Err(_) => return false,
                Ok(_) => {
                    received.push(byte[0]);
                    if received.ends_with(b"\r\n\r\n") {
                        return true;
                    }
                }
            }
        }
    };
    match tokio::time::timeout(CLOSE_BOUND, read).await {
        Ok(true) => Some(String::from_utf8_lossy(&received).into_owned()),
        _ => None,
    }
}

/// Reads exactly `len` bytes of a body.
pub async fn read_body(stream: &mut TcpStream, len: usize) -> String {
    let mut body = vec![0u8; len];
    tokio::time::timeout(CLOSE_BOUND, stream.read_exact(&mut body))
        .await
        .expect("the body arrives")
        .expect("read the body");
    String::from_utf8_lossy(&body).into_owned()
}

/// The `Content-Length` of a response head.
pub fn content_length(head: &str) -> usize {
    head.lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.trim()
                .eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0)
}

/// The status code of a response head (`HTTP/1.1 413 Payload Too Large`).
pub fn status_of(head: &str) -> u16 {
    head.split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0)
}
