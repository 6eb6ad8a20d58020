//! Connection hardening over real sockets: slow and idle clients are
//! closed after their timeouts, a body announced over the limit is refused
//! before it is read (with or without `Expect: 100-continue`), and clients
//! holding connections up to the cap cannot keep a fresh `/healthz` out.

mod common;

use common::memory_server as server;
use common::wire::{self, Ending};

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_closed() {
    let server = server(&[
        ("BOOKING_HEADER_TIMEOUT_SECS", "1"),
        ("BOOKING_IDLE_TIMEOUT_SECS", "600"),
    ])
    .await;
    let mut stream = wire::connect(server.addr()).await;
    // A slowloris client: part of a request head, then a byte now and then
    // (which also keeps any idle timer from firing), never the blank line.
    wire::send(&mut stream, b"GET /healthz HTTP/1.1\r\nHost: test\r\n").await;
    let trickle = async {
        for _ in 0..60 {
            tokio::time::sleep(std::time::Duration::from_millis(400)).await;
            if tokio::io::AsyncWriteExt::write_all(&mut stream, b"X-Slow: 1\r\n")
                .await
                .is_err()
            {
                return;
            }
        }
    };
    trickle.await;
    assert!(
        matches!(
            wire::read_until_closed(&mut stream).await,
            Ending::Closed(_)
        ),
        "a slow header must not hold the connection"
    );
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed() {
    let server = server(&[
        ("BOOKING_IDLE_TIMEOUT_SECS", "1"),
        ("BOOKING_HEADER_TIMEOUT_SECS", "600"),
    ])
    .await;
    let mut stream = wire::connect(server.addr()).await;
    wire::send(&mut stream, b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n").await;
    let head = wire::read_head(&mut stream).await.expect("a reply");
    assert_eq!(wire::status_of(&head), 200, "{head}");
    let body = wire::read_body(&mut stream, wire::content_length(&head)).await;
    assert!(body.contains("ok"), "{body}");
    // The connection is kept alive for a next request that never comes.
    assert_eq!(
        wire::read_until_closed(&mut stream).await,
        Ending::Closed(String::new()),
        "an idle keep-alive connection must be closed, with nothing more sent"
    );
}

#[tokio::test]
async fn a_connection_that_never_sends_anything_is_closed() {
    let server = server(&[
        ("BOOKING_IDLE_TIMEOUT_SECS", "1"),
        ("BOOKING_HEADER_TIMEOUT_SECS", "600"),
    ])
    .await;
    let mut stream = wire::connect(server.addr()).await;
    assert_eq!(
        wire::read_until_closed(&mut stream).await,
        Ending::Closed(String::new())
    );
}

#[tokio::test]
async fn a_body_that_stops_arriving_is_answered_408_and_closed() {
    let server = server(&[
        ("BOOKING_BODY_TIMEOUT_SECS", "1"),
        ("BOOKING_IDLE_TIMEOUT_SECS", "600"),
        ("BOOKING_HEADER_TIMEOUT_SECS", "600"),
    ])
    .await;
    let mut stream = wire::connect(server.addr()).await;
    wire::send(
        &mut stream,
        b"POST /api/organizers HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n\
          Content-Length: 200\r\n\r\n{\"username\":",
    )
    .await;
    match wire::read_until_closed(&mut stream).await {
        Ending::Closed(reply) => {
            assert_eq!(wire::status_of(&reply), 408, "{reply}");
            assert!(reply.contains("\"code\":\"request_timeout\""), "{reply}");
        }
        Ending::StillOpen(reply) => panic!("the connection was held open; got {reply:?}"),
    }
}

/// A billion announced bytes, with and without `Expect: 100-continue`: 413
/// `payload_too_large` at once, never `100 Continue`, and nothing read.
#[tokio::test]
async fn an_announced_body_over_the_limit_is_refused_before_it_is_read() {
    let server = server(&[]).await;
    for expect in ["Expect: 100-continue\r\n", ""] {
        let mut stream = wire::connect(server.addr()).await;
        let head = format!(
            "POST /api/bookings HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n\
             {expect}Content-Length: 1000000000\r\n\r\n"
        );
        wire::send(&mut stream, head.as_bytes()).await;
        let reply = wire::read_head(&mut stream)
            .await
            .unwrap_or_else(|| panic!("an answer without sending the body ({expect:?})"));
        assert_eq!(wire::status_of(&reply), 413, "{expect:?}: {reply}");
        let body = wire::read_body(&mut stream, wire::content_length(&reply)).await;
        assert!(
            body.contains("\"code\":\"payload_too_large\""),
            "{expect:?}: {body}"
        );
        // The body is never read, so the connection cannot be reused.
        assert!(
            matches!(
                wire::read_until_closed(&mut stream).await,
                Ending::Closed(_)
            ),
            "{expect:?}"
        );
    }
}

/// More idle connections than the cap allows: the oldest idle ones are
/// closed to make room, so a fresh client is served at once instead of
/// waiting for a timeout (or, with no cap, for file descriptors).
#[tokio::test]
async fn idle_connections_up_to_the_cap_do_not_keep_out_a_fresh_client() {
    let server = server(&[
        ("BOOKING_MAX_CONNECTIONS", "8"),
        ("BOOKING_IDLE_TIMEOUT_SECS", "600"),
        ("BOOKING_HEADER_TIMEOUT_SECS", "600"),
    ])
    .await;
    let mut idle = Vec::new();
    for _ in 0..20 {
        idle.push(wire::connect(server.addr()).await);
    }
    // Some of the idle connections were closed by the server to stay at the cap.
    let fresh = tokio::time::timeout(wire::CLOSE_BOUND, server.get("/healthz", None))
        .await
        .expect("a fresh /healthz is answered while idle connections are held");
    assert_eq!(fresh.status, reqwest::StatusCode::OK, "{fresh:?}");
    let mut closed = 0;
    for mut stream in idle.drain(..) {
        let mut buf = [0u8; 1];
        let read = tokio::time::timeout(
            std::time::Duration::from_millis(200),
            tokio::io::AsyncReadExt::read(&mut stream, &mut buf),
        )
        .await;
        if matches!(read, Ok(Ok(0)) | Ok(Err(_))) {
            closed += 1;
        }
    }
    assert!(
        closed >= 20 - 8,
        "at most 8 connections stay open, {closed} of 20 idle ones were closed"
    );
}
