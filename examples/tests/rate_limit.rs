//! Per-client rate limits over real HTTP: 429 `rate_limited` with
//! `Retry-After` once a class of requests is over its limit,
//! `BOOKING_RATE_LIMIT=off` turning them all off, and `X-Forwarded-For`
//! believed only from a trusted proxy.

mod common;

use chrono::Duration;
use common::{Reply, Server, booking_body, local, memory_server as server, tomorrow, unique};
use reqwest::{Method, StatusCode};
use serde_json::json;

/// The reply and its `Retry-After` header.
async fn send(server: &Server, request: reqwest::RequestBuilder) -> (Reply, Option<String>) {
    let response = request.send().await.expect("the service answers");
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().expect("ascii").to_owned());
    let status = response.status();
    let text = response.text().await.expect("a body");
    let json = serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
    let _ = server;
    (Reply { status, json, text }, retry_after)
}

fn assert_limited(reply: &Reply, retry_after: Option<&str>) {
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS, "{reply:?}");
    assert_eq!(reply.code(), "rate_limited", "{reply:?}");
    assert!(reply.json["error"].as_str().is_some(), "{reply:?}");
    let seconds: u64 = retry_after
        .expect("a Retry-After header")
        .parse()
        .expect("Retry-After in whole seconds");
    assert!(seconds >= 1, "Retry-After: {seconds}");
}

fn register_request(server: &Server, username: &str) -> reqwest::RequestBuilder {
    server
        .client
        .post(server.url("/api/organizers"))
        .json(&json!({
            "username": username, "email": format!("{username}@example.com"),
            "name": "Someone", "timeZone": "UTC"
        }))
}

#[tokio::test]
async fn registrations_over_the_limit_get_429_with_retry_after() {
    let server = server(&[
        ("BOOKING_RATE_LIMIT", "on"),
        ("BOOKING_RATE_LIMIT_REGISTRATIONS", "2/h"),
    ])
    .await;
    for _ in 0..2 {
        let (reply, _) = send(&server, register_request(&server, &unique("reg"))).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{reply:?}");
    }
    let (reply, retry_after) = send(&server, register_request(&server, &unique("reg"))).await;
    assert_limited(&reply, retry_after.as_deref());
    // Other classes keep their own budget.
    assert_eq!(server.get("/healthz", None).await.status, StatusCode::OK);
}

#[tokio::test]
async fn bookings_and_slot_reads_are_limited_per_client() {
    let server = server(&[
        ("BOOKING_RATE_LIMIT", "on"),
        ("BOOKING_RATE_LIMIT_BOOKINGS", "2/min"),
        ("BOOKING_RATE_LIMIT_READS", "3/min"),
    ])
    .await;
    let ada = unique("ada");
    let token = server.register(&ada, "UTC").await;
    server.open_all_week(&token, "UTC").await;
    let day = tomorrow(chrono_tz::UTC);
    for hour in 9..11 {
        let reply = server
            .book(&ada, local(chrono_tz::UTC, day, hour), "ok")
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{reply:?}");
    }
    let start = local(chrono_tz::UTC, day, 12);
    let (reply, retry_after) = send(
        &server,
        server
            .client
            .post(server.url("/api/bookings"))
            .json(&booking_body(
                &ada,
                start,
                start + Duration::hours(1),
                "third",
            )),
    )
    .await;
    assert_limited(&reply, retry_after.as_deref());

    let slots = format!(
        "/api/organizers/{ada}/slots?start={}&end={}",
        common::iso(start),
        common::iso(start + Duration::hours(3))
    );
    for _ in 0..3 {
        assert_eq!(server.get(&slots, None).await.status, StatusCode::OK);
    }
    let (reply, retry_after) = send(&server, server.client.get(server.url(&slots))).await;
    assert_limited(&reply, retry_after.as_deref());
    // The public page is a public read too.
    let (reply, retry_after) =
        send(&server, server.client.get(server.url(&format!("/{ada}")))).await;
    assert_limited(&reply, retry_after.as_deref());
    // Probes are never limited.
    assert_eq!(server.get("/healthz", None).await.status, StatusCode::OK);
}

/// Guessing tokens: after the allowed failed authentications, the client is
/// refused even before its next guess is checked, whatever token it sends.
#[tokio::test]
async fn failed_authentications_are_limited() {
    let server = server(&[
        ("BOOKING_RATE_LIMIT", "on"),
        ("BOOKING_RATE_LIMIT_AUTH_FAILURES", "3/min"),
    ])
    .await;
    let ada = unique("ada");
    let token = server.register(&ada, "UTC").await;
    assert_eq!(
        server.get("/api/settings", Some(&token)).await.status,
        StatusCode::CONFLICT
    );
    for guess in 0..3 {
        let reply = server
            .get("/api/settings", Some(&format!("guess{guess}")))
            .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{reply:?}");
    }
    let (reply, retry_after) = send(
        &server,
        server
            .client
            .get(server.url("/api/settings"))
            .bearer_auth("guess3"),
    )
    .await;
    assert_limited(&reply, retry_after.as_deref());
    // Wrong cancel tokens are guesses too.
    let (reply, retry_after) = send(
        &server,
        server
            .client
            .post(server.url("/api/bookings/01J00000000000000000000000/cancel"))
            .json(&json!({"cancelToken": "guess"})),
    )
    .await;
    assert_limited(&reply, retry_after.as_deref());
}

#[tokio::test]
async fn rate_limit_off_turns_every_limit_off() {
    let server = server(&[
        ("BOOKING_RATE_LIMIT", "off"),
        ("BOOKING_RATE_LIMIT_REGISTRATIONS", "1/h"),
        ("BOOKING_RATE_LIMIT_AUTH_FAILURES", "1/h"),
    ])
    .await;
    for _ in 0..5 {
        let (reply, _) = send(&server, register_request(&server, &unique("reg"))).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{reply:?}");
    }
    for _ in 0..5 {
        let reply = server
            .call(Method::GET, "/api/settings", Some("wrong"), None)
            .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{reply:?}");
    }
}

/// `X-Forwarded-For` names the client only when the peer is a trusted
/// proxy; from anyone else it is ignored, so it cannot buy a fresh budget.
#[tokio::test]
async fn forwarded_for_is_believed_only_from_a_trusted_proxy() {
    let untrusted = server(&[
        ("BOOKING_RATE_LIMIT", "on"),
        ("BOOKING_RATE_LIMIT_REGISTRATIONS", "1/h"),
    ])
    .await;
    let first = register_request(&untrusted, &unique("x")).header("X-Forwarded-For", "203.0.113.1");
    assert_eq!(send(&untrusted, first).await.0.status, StatusCode::CREATED);
    let spoofed =
        register_request(&untrusted, &unique("x")).header("X-Forwarded-For", "203.0.113.2");
    let (reply, retry_after) = send(&untrusted, spoofed).await;
    assert_limited(&reply, retry_after.as_deref());

    let proxied = server(&[
        ("BOOKING_RATE_LIMIT", "on"),
        ("BOOKING_RATE_LIMIT_REGISTRATIONS", "1/h"),
        ("BOOKING_TRUSTED_PROXIES", "127.0.0.1, ::1"),
    ])
    .await;
    for client in ["203.0.113.1", "203.0.113.2"] {
        let request = register_request(&proxied, &unique("x"))
            .header("X-Forwarded-For", format!("198.51.100.7, {client}"));
        assert_eq!(
            send(&proxied, request).await.0.status,
            StatusCode::CREATED,
            "{client}"
        );
    }
    let again = register_request(&proxied, &unique("x")).header("X-Forwarded-For", "203.0.113.2");
    let (reply, retry_after) = send(&proxied, again).await;
    assert_limited(&reply, retry_after.as_deref());
}
