//! `/metrics` in the Prometheus text format, scraped after real requests:
//! requests by route template and status, booking outcomes by code, latency
//! histograms and the health of the store and the lock.

mod common;

use common::{local, tomorrow, unique};
use reqwest::StatusCode;

/// The value of the sample whose line starts with `series` (name and
/// labels exactly as written), if any.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .find_map(|line| {
            let (name, value) = line.rsplit_once(' ')?;
            (name == series).then(|| value.parse().ok())?
        })
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_booking_outcomes() {
    let server = common::memory_server(&[]).await;
    let ada = unique("metrics");
    let token = server.register(&ada, "UTC").await;
    server.open_all_week(&token, "UTC").await;
    let day = tomorrow(chrono_tz::UTC);
    let start = local(chrono_tz::UTC, day, 9);
    assert_eq!(
        server.book(&ada, start, "first").await.status,
        StatusCode::CREATED
    );
    assert_eq!(
        server.book(&ada, start, "again").await.status,
        StatusCode::CONFLICT
    );
    server
        .slot_starts(&ada, common::whole_day(chrono_tz::UTC, day))
        .await;
    assert_eq!(
        server.get("/no/such/path", None).await.status,
        StatusCode::NOT_FOUND
    );

    let response = server
        .client
        .get(server.url("/metrics"))
        .send()
        .await
        .expect("scrape");
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    let text = response.text().await.expect("body");

    let route = |method: &str, route: &str, status: u16| {
        sample(
            &text,
            &format!(
                "http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}}"
            ),
        )
        .unwrap_or(0.0)
    };
    // Routes are the matched templates, never raw paths (which would make
    // a series per username).
    assert!(
        route("GET", "/api/organizers/{username}/slots", 200) >= 1.0,
        "{text}"
    );
    assert!(route("POST", "/api/bookings", 201) >= 1.0, "{text}");
    assert!(route("POST", "/api/bookings", 409) >= 1.0, "{text}");
    assert!(route("GET", "/no/such/path", 404) == 0.0, "{text}");
    assert!(route("GET", "unmatched", 404) >= 1.0, "{text}");
    assert!(!text.contains(&ada), "no username in any label: {text}");

    let outcome = |code: &str| {
        sample(
            &text,
            &format!("booking_outcomes_total{{outcome=\"{code}\"}}"),
        )
        .unwrap_or(0.0)
    };
    assert!(outcome("created") >= 1.0, "{text}");
    assert!(outcome("slot_unavailable") >= 1.0, "{text}");

    // A latency histogram with buckets, per route.
    assert!(
        text.lines().any(|line| line.starts_with(
            "http_request_duration_seconds_bucket{method=\"POST\",route=\"/api/bookings\""
        )),
        "{text}"
    );
    assert!(
        text.contains("# TYPE http_request_duration_seconds histogram"),
        "{text}"
    );
    // Health of the backends, refreshed by the scrape itself.
    assert_eq!(sample(&text, "booking_store_up"), Some(1.0), "{text}");
    assert_eq!(sample(&text, "booking_lock_up"), Some(1.0), "{text}");
}
