//! The exact bytes of `GET /api/organizers/{username}/slots`: clients parse
//! this reply, so its fields, their order, the instants' format and the
//! headers must not change when the handler's serialization does.

mod common;

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Europe::Berlin;
use chrono_tz::Tz;
use reqwest::StatusCode;

use common::{Reply, Server, iso, local, tomorrow, unique, whole_day};

/// The reply body clients have always received for these slots: no
/// whitespace, each slot `{"endTime":…,"startTime":…}` (in that order),
/// instants as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
fn expected_body(slots: &[(DateTime<Utc>, DateTime<Utc>)]) -> String {
    let items: Vec<String> = slots
        .iter()
        .map(|(start, end)| {
            format!(
                "{{\"endTime\":\"{}\",\"startTime\":\"{}\"}}",
                iso(*end),
                iso(*start)
            )
        })
        .collect();
    format!("{{\"slots\":[{}]}}", items.join(","))
}

async fn slots(server: &Server, username: &str, start: DateTime<Utc>, end: DateTime<Utc>) -> Reply {
    server
        .get(
            &format!(
                "/api/organizers/{username}/slots?start={}&end={}",
                iso(start),
                iso(end)
            ),
            None,
        )
        .await
}

async fn organizer(server: &Server, zone: Tz) -> String {
    let username = unique("wire");
    let token = server.register(&username, zone.name()).await;
    server.open_all_week(&token, zone.name()).await;
    username
}

fn assert_headers(reply: &Reply, headers: &reqwest::header::HeaderMap) {
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(
        headers.get("content-type").map(|v| v.as_bytes()),
        Some(&b"application/json"[..]),
        "{headers:?}"
    );
    assert_eq!(
        headers.get("x-content-type-options").map(|v| v.as_bytes()),
        Some(&b"nosniff"[..])
    );
    assert_eq!(
        headers.get("cache-control").map(|v| v.as_bytes()),
        Some(&b"no-store"[..])
    );
    assert_eq!(
        headers
            .get("content-length")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok()),
        Some(reply.text.len()),
        "{headers:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_day_of_hourly_slots_is_byte_for_byte_the_documented_reply() {
    let server = common::memory_server(&[]).await;
    let username = organizer(&server, chrono_tz::UTC).await;
    let day = tomorrow(chrono_tz::UTC);
    let (start, end) = whole_day(chrono_tz::UTC, day);

    let response = server
        .client
        .get(server.url(&format!(
            "/api/organizers/{username}/slots?start={}&end={}",
            iso(start),
            iso(end)
        )))
        .send()
        .await
        .expect("the service answers");
    let headers = response.headers().clone();
    let status = response.status();
    let text = response.text().await.expect("a body");
    let reply = Reply {
        status,
        json: serde_json::from_str(&text).expect("JSON"),
        text,
    };
    assert_headers(&reply, &headers);
    let hours: Vec<_> = (0..24)
        .map(|h| (start + Duration::hours(h), start + Duration::hours(h + 1)))
        .collect();
    assert_eq!(reply.text, expected_body(&hours));
    // One literal slot, written out, so the format is pinned without the
    // helper too.
    let first = format!(
        "{{\"slots\":[{{\"endTime\":\"{}T01:00:00.000Z\",\"startTime\":\"{}T00:00:00.000Z\"}},",
        day.format("%Y-%m-%d"),
        day.format("%Y-%m-%d")
    );
    assert!(reply.text.starts_with(&first), "{}", reply.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn booked_slots_partial_windows_and_zones_keep_the_format() {
    let server = common::memory_server(&[]).await;
    let username = organizer(&server, Berlin).await;
    let day = tomorrow(Berlin);
    let (start, end) = whole_day(Berlin, day);

    // A booking takes its hour out of the list.
    let booked = local(Berlin, day, 10);
    let reply = server.book(&username, booked, "wire").await;
    assert_eq!(reply.status, StatusCode::CREATED, "{reply:?}");
    let reply = slots(&server, &username, start, end).await;
    let hours: Vec<_> = (0..24)
        .map(|h| (start + Duration::hours(h), start + Duration::hours(h + 1)))
        .filter(|(s, _)| *s != booked)
        .collect();
    assert_eq!(hours.len(), 23);
    assert_eq!(reply.text, expected_body(&hours));

    // A window with no slot start in it.
    let reply = slots(
        &server,
        &username,
        start + Duration::minutes(1),
        start + Duration::minutes(2),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(reply.text, "{\"slots\":[]}");

    // A window starting mid-slot and ending mid-day: whatever the slots
    // are, the bytes are their documented rendering.
    let reply = slots(
        &server,
        &username,
        start + Duration::minutes(30),
        start + Duration::hours(13),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    let listed: Vec<(DateTime<Utc>, DateTime<Utc>)> = reply.json["slots"]
        .as_array()
        .expect("slots")
        .iter()
        .map(|slot| {
            let at = |name: &str| {
                DateTime::parse_from_rfc3339(slot[name].as_str().expect(name))
                    .expect("RFC 3339")
                    .with_timezone(&Utc)
            };
            (at("startTime"), at("endTime"))
        })
        .collect();
    assert!(!listed.is_empty(), "{reply:?}");
    assert!(
        listed.iter().all(|(s, e)| *e - *s == Duration::hours(1)),
        "{reply:?}"
    );
    assert_eq!(reply.text, expected_body(&listed));

    // Errors keep their bodies too.
    let reply = slots(&server, "nobody_here_at_all", start, end).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{reply:?}");
    assert_eq!(reply.code(), "organizer_not_found", "{reply:?}");
    let reply = slots(&server, &username, end, start).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{reply:?}");
    assert_eq!(reply.code(), "invalid_time_range", "{reply:?}");
}
