//! The organizer's feed under the rate limits, over real HTTP: guessing its
//! token is limited like any other credential guessing (wrong tokens spend
//! the failed-authentication budget, then even the right token is refused
//! unchecked), and fetching it spends the public-reads budget.

mod common;

use common::{Server, memory_server, unique};
use reqwest::StatusCode;

mod integrations_support;

use integrations_support::SECRET_KEY;

/// Registers an organizer; (username, API token, feed path with its token).
async fn organizer_with_feed(server: &Server) -> (String, String, String) {
    let username = unique("feed");
    let token = server.register(&username, "UTC").await;
    let reply = server.get("/api/feed-token", Some(&token)).await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    let feed_token = reply.json["token"]
        .as_str()
        .expect("a feed token")
        .to_owned();
    let path = format!("/api/organizers/{username}/calendar.ics?token={feed_token}");
    (username, token, path)
}

async fn status_and_code(server: &Server, path: &str) -> (StatusCode, String) {
    let reply = server.get(path, None).await;
    (reply.status, reply.code().to_owned())
}

#[tokio::test]
async fn guessing_feed_tokens_is_limited_like_other_credentials() {
    let server = memory_server(&[
        ("BOOKING_RATE_LIMIT", "on"),
        ("BOOKING_RATE_LIMIT_AUTH_FAILURES", "3/h"),
        ("BOOKING_SECRET_KEY", SECRET_KEY),
    ])
    .await;
    let (username, _, path) = organizer_with_feed(&server).await;
    assert_eq!(status_and_code(&server, &path).await.0, StatusCode::OK);
    for guess in 0..3 {
        let (status, _) = status_and_code(
            &server,
            &format!("/api/organizers/{username}/calendar.ics?token=guess{guess}"),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "guess {guess}");
    }
    // Over the budget: the next guess and even the right token are refused
    // before any token is checked.
    let (status, code) = status_and_code(
        &server,
        &format!("/api/organizers/{username}/calendar.ics?token=guess4"),
    )
    .await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::TOO_MANY_REQUESTS, "rate_limited")
    );
    let (status, code) = status_and_code(&server, &path).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::TOO_MANY_REQUESTS, "rate_limited")
    );
}

#[tokio::test]
async fn fetching_the_feed_spends_the_public_reads_budget() {
    let server = memory_server(&[
        ("BOOKING_RATE_LIMIT", "on"),
        ("BOOKING_RATE_LIMIT_READS", "3/h"),
        ("BOOKING_SECRET_KEY", SECRET_KEY),
    ])
    .await;
    let (_, api_token, path) = organizer_with_feed(&server).await;
    for fetch in 0..3 {
        assert_eq!(
            status_and_code(&server, &path).await.0,
            StatusCode::OK,
            "fetch {fetch}"
        );
    }
    let (status, code) = status_and_code(&server, &path).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::TOO_MANY_REQUESTS, "rate_limited")
    );
    // The organizer's own calls are not public reads.
    let reply = server.get("/api/feed-token", Some(&api_token)).await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
}
