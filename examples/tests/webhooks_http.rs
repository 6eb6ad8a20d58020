//! Webhooks over HTTP against real servers on loopback: a receiver that
//! verifies every signature (Standard Webhooks), the service in this
//! process, and the `booking-service` binary killed with `kill -9` between
//! a booking's 201 and its delivery.

use std::collections::HashMap;

use booking_core::chrono::Duration;
use booking_core::{Credential, RescheduleRequest, TimeRange};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

mod common;
mod integrations_support;

use integrations_support::{
    Harness, Program, Receiver, SECRET_KEY, eventually, free_port, harness, organizer, tomorrow_at,
};

const EVENTS: [&str; 3] = [
    "booking.created",
    "booking.rescheduled",
    "booking.cancelled",
];

/// Creates an endpoint at `url` for every event; returns (id, secret).
async fn endpoint(h: &Harness, token: &str, url: &str) -> (String, String) {
    let reply = h
        .server
        .post(
            "/api/webhooks",
            Some(token),
            json!({"url": url, "events": EVENTS}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{reply:?}");
    let secret = reply.json["secret"].as_str().expect("secret").to_owned();
    assert!(secret.starts_with("whsec_"), "{secret}");
    (reply.json["id"].as_str().expect("id").to_owned(), secret)
}

async fn deliveries(h: &Harness, token: &str, id: &str) -> Vec<Value> {
    let reply = h
        .server
        .get(&format!("/api/webhooks/{id}/deliveries"), Some(token))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    reply.json["deliveries"]
        .as_array()
        .expect("deliveries")
        .clone()
}

#[tokio::test]
async fn every_event_arrives_signed_with_the_booking_and_in_order() {
    let h = harness(&[("BOOKING_SECRET_KEY", SECRET_KEY)]).await;
    let (username, token) = organizer(&h.server).await;
    let receiver = Receiver::start().await;
    let (id, secret) = endpoint(&h, &token, &receiver.url).await;
    receiver.trust(&secret);

    let listed = h.server.get("/api/webhooks", Some(&token)).await;
    assert_eq!(listed.status, StatusCode::OK, "{listed:?}");
    assert_eq!(listed.json["webhooks"][0]["id"], id.as_str());
    assert_eq!(listed.json["webhooks"][0]["url"], receiver.url.as_str());
    assert!(!listed.text.contains(&secret), "never the secret again");

    let start = tomorrow_at(10);
    let booked = h.server.book(&username, start, "Intro").await;
    assert_eq!(booked.status, StatusCode::CREATED, "{booked:?}");
    let booking_id = booked.json["booking"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let cancel_token = booked.json["cancelToken"]
        .as_str()
        .expect("token")
        .to_owned();
    eventually("booking.created delivered", || async {
        receiver.received().len() == 1
    })
    .await;

    let moved = TimeRange::starting_at(tomorrow_at(12), Duration::hours(1)).expect("range");
    h.app
        .service
        .reschedule(
            RescheduleRequest::new(booking_id.parse().expect("id"), moved),
            &Credential::cancel_token(cancel_token.clone()),
        )
        .await
        .expect("moved");
    eventually("booking.rescheduled delivered", || async {
        receiver.received().len() == 2
    })
    .await;
    let cancelled = h
        .server
        .post(
            &format!("/api/bookings/{booking_id}/cancel"),
            None,
            json!({"cancelToken": cancel_token}),
        )
        .await;
    assert_eq!(cancelled.status, StatusCode::OK, "{cancelled:?}");
    eventually("booking.cancelled delivered", || async {
        receiver.received().len() == 3
    })
    .await;

    let received = receiver.received();
    let kinds: Vec<&str> = received
        .iter()
        .map(|r| r.body["type"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(kinds, EVENTS);
    for (number, delivery) in received.iter().enumerate() {
        assert!(delivery.verified, "signature of {delivery:?}");
        assert!(delivery.signature.starts_with("v1,"), "{delivery:?}");
        let booking = &delivery.body["data"]["booking"];
        assert_eq!(booking["id"], booking_id.as_str());
        assert_eq!(booking["eventType"], "default");
        assert_eq!(booking["sequence"], number);
        assert!(delivery.body["timestamp"].is_string());
        let text = delivery.body.to_string();
        assert!(!text.contains(&cancel_token), "never the cancel token");
        assert!(!text.contains("cancelToken"), "{text}");
    }
    assert_eq!(
        received[1].body["data"]["previousTime"]["start"],
        common::iso(start)
    );
    assert_eq!(
        received[1].body["data"]["time"]["start"],
        common::iso(moved.start())
    );
    assert_eq!(received[2].body["data"]["cancelledBy"], "attendee");
    assert_eq!(received[2].body["data"]["booking"]["status"], "cancelled");
    let ids: std::collections::HashSet<&str> = received.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids.len(), 3, "one webhook-id per event");

    let log = deliveries(&h, &token, &id).await;
    assert_eq!(log.len(), 3);
    for delivery in &log {
        assert_eq!(delivery["status"], "done", "{delivery}");
        assert_eq!(delivery["attempts"], 1);
        assert_eq!(delivery["lastResponseCode"], 200);
        assert_eq!(delivery["bookingId"], booking_id.as_str());
    }
}

#[tokio::test]
async fn a_failed_delivery_is_retried_with_the_same_id_and_410_disables_the_endpoint() {
    let h = harness(&[]).await;
    let (username, token) = organizer(&h.server).await;
    let flaky = Receiver::start().await;
    let gone = Receiver::start().await;
    let (flaky_id, flaky_secret) = endpoint(&h, &token, &flaky.url).await;
    let (gone_id, gone_secret) = endpoint(&h, &token, &gone.url).await;
    flaky.trust(&flaky_secret);
    gone.trust(&gone_secret);
    flaky.script(&[500]);
    gone.script(&[410]);

    let booked = h.server.book(&username, tomorrow_at(9), "Retry").await;
    assert_eq!(booked.status, StatusCode::CREATED, "{booked:?}");
    eventually("the retry succeeded", || async {
        flaky.received().iter().any(|r| r.answered == 200)
    })
    .await;
    let attempts = flaky.received();
    assert_eq!(attempts.len(), 2, "{attempts:?}");
    assert_eq!(attempts[0].answered, 500);
    assert_eq!(attempts[0].id, attempts[1].id, "webhook-id is stable");
    assert_eq!(attempts[0].body, attempts[1].body, "the same body");
    assert!(attempts.iter().all(|a| a.verified));
    let log = deliveries(&h, &token, &flaky_id).await;
    assert_eq!(log[0]["status"], "done");
    assert_eq!(log[0]["attempts"], 2);
    assert_eq!(log[0]["lastResponseCode"], 200);

    eventually("the endpoint answering 410 is disabled", || async {
        let listed = h.server.get("/api/webhooks", Some(&token)).await;
        listed.json["webhooks"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|w| w["id"] == gone_id.as_str() && w["disabled"].is_object())
    })
    .await;
    let log = deliveries(&h, &token, &gone_id).await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["status"], "dead");
    assert_eq!(log[0]["lastResponseCode"], 410);

    // The next booking goes to the working endpoint only.
    let again = h.server.book(&username, tomorrow_at(11), "Next").await;
    assert_eq!(again.status, StatusCode::CREATED, "{again:?}");
    eventually("the next event reached the working endpoint", || async {
        flaky.received().len() == 3
    })
    .await;
    assert_eq!(gone.received().len(), 1, "a disabled endpoint gets nothing");
    assert_eq!(deliveries(&h, &token, &gone_id).await.len(), 1);
}

#[tokio::test]
async fn a_rotated_secret_signs_alongside_the_old_one() {
    let h = harness(&[("BOOKING_SECRET_KEY", SECRET_KEY)]).await;
    let (username, token) = organizer(&h.server).await;
    let old_only = Receiver::start().await;
    // The receiver checks each secret on its own.
    let (id, old) = endpoint(&h, &token, &old_only.url).await;
    old_only.trust(&old);
    let rotated = h
        .server
        .post(
            &format!("/api/webhooks/{id}/rotate-secret"),
            Some(&token),
            json!({}),
        )
        .await;
    assert_eq!(rotated.status, StatusCode::OK, "{rotated:?}");
    let new = rotated.json["secret"].as_str().expect("secret").to_owned();
    assert!(new.starts_with("whsec_") && new != old);
    assert!(
        rotated.json["previousSecretExpiresAt"].is_string(),
        "{rotated:?}"
    );

    let booked = h.server.book(&username, tomorrow_at(14), "Rotation").await;
    assert_eq!(booked.status, StatusCode::CREATED, "{booked:?}");
    old_only.trust(&new);
    eventually("delivered", || async { old_only.received().len() == 1 }).await;
    let delivery = &old_only.received()[0];
    assert_eq!(delivery.signature.split(' ').count(), 2, "{delivery:?}");
    assert_eq!(
        delivery.verified_by,
        [old, new],
        "each secret verifies it alone"
    );
}

#[tokio::test]
async fn management_refuses_bad_input_naming_the_field() {
    // Loopback URLs are refused without BOOKING_ALLOW_PRIVATE_URLS.
    let h = harness(&[("BOOKING_ALLOW_PRIVATE_URLS", "0")]).await;
    let (_, token) = organizer(&h.server).await;
    let long = format!("https://hooks.example.com/{}", "a".repeat(10_000));
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"url": "ftp://hooks.example.com/x", "events": ["booking.created"]}),
            "url",
        ),
        (
            json!({"url": "http://127.0.0.1:9/hooks", "events": ["booking.created"]}),
            "url",
        ),
        (
            json!({"url": "http://localhost/hooks", "events": ["booking.created"]}),
            "url",
        ),
        (
            json!({"url": "http://10.0.0.5/hooks", "events": ["booking.created"]}),
            "url",
        ),
        (json!({"url": long, "events": ["booking.created"]}), "url"),
        (
            json!({"url": "not a url", "events": ["booking.created"]}),
            "url",
        ),
        (json!({"events": ["booking.created"]}), "url"),
        (
            json!({"url": "https://hooks.example.com/x", "events": ["booking.moved"]}),
            "events",
        ),
        (
            json!({"url": "https://hooks.example.com/x", "events": []}),
            "events",
        ),
        (json!({"url": "https://hooks.example.com/x"}), "events"),
        (
            json!({"url": "https://hooks.example.com/x", "events": "booking.created"}),
            "events",
        ),
        (json!({"url": 7, "events": ["booking.created"]}), "url"),
    ];
    for (body, field) in cases {
        let reply = h
            .server
            .post("/api/webhooks", Some(&token), body.clone())
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}: {reply:?}");
        assert_eq!(reply.code(), "validation_error", "{body}");
        assert!(reply.json["fields"][field].is_string(), "{body}: {reply:?}");
    }
    // Every bad field at once.
    let reply = h
        .server
        .post(
            "/api/webhooks",
            Some(&token),
            json!({"url": "gopher://x", "events": ["nope"]}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{reply:?}");
    assert!(reply.json["fields"]["url"].is_string() && reply.json["fields"]["events"].is_string());

    // Authentication and ownership.
    let body = json!({"url": "https://hooks.example.com/x", "events": ["booking.created"]});
    let reply = h.server.post("/api/webhooks", None, body.clone()).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{reply:?}");
    let reply = h
        .server
        .post("/api/webhooks", Some("wrong"), body.clone())
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{reply:?}");
    let created = h.server.post("/api/webhooks", Some(&token), body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
    let id = created.json["id"].as_str().expect("id").to_owned();
    let (_, other) = organizer(&h.server).await;
    for (method, path) in [
        (Method::DELETE, format!("/api/webhooks/{id}")),
        (Method::POST, format!("/api/webhooks/{id}/rotate-secret")),
        (Method::GET, format!("/api/webhooks/{id}/deliveries")),
        (Method::DELETE, "/api/webhooks/not-an-id".to_owned()),
        (
            Method::GET,
            "/api/webhooks/01ARZ3NDEKTSV4RRFFQ69G5FAV/deliveries".to_owned(),
        ),
    ] {
        let reply = h
            .server
            .call(method.clone(), &path, Some(&other), None)
            .await;
        assert_eq!(
            reply.status,
            StatusCode::NOT_FOUND,
            "{method} {path}: {reply:?}"
        );
        assert_eq!(reply.code(), "not_found");
    }
    let reply = h
        .server
        .get(
            &format!("/api/webhooks/{id}/deliveries?limit=0"),
            Some(&token),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{reply:?}");
    assert!(reply.json["fields"]["limit"].is_string());
    let listed = h.server.get("/api/webhooks", Some(&other)).await;
    assert_eq!(listed.json["webhooks"], json!([]));
    let deleted = h
        .server
        .call(
            Method::DELETE,
            &format!("/api/webhooks/{id}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{deleted:?}");
    let listed = h.server.get("/api/webhooks", Some(&token)).await;
    assert_eq!(listed.json["webhooks"], json!([]));
    let again = h
        .server
        .call(
            Method::DELETE,
            &format!("/api/webhooks/{id}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND, "{again:?}");
}

/// The receiver is down when the bookings are made; the service is killed
/// with `kill -9` after their 201s, one booking's delivery having failed
/// once and the other's not having been attempted at all; after a restart
/// on the same database and with the receiver back, each event arrives,
/// verified, exactly once.
#[tokio::test]
async fn kill_9_between_the_201_and_the_delivery_loses_nothing_and_sends_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let env = vec![
        (
            "DATABASE_URL",
            format!("sqlite://{}", dir.path().join("booking.db").display()),
        ),
        ("BOOKING_ALLOW_PRIVATE_URLS", "1".to_owned()),
        ("BOOKING_SECRET_KEY", SECRET_KEY.to_owned()),
    ];
    let addr: std::net::SocketAddr = ([127, 0, 0, 1], free_port()).into();
    let program = Program::start(addr, &env).await;
    let client = reqwest::Client::new();
    let call = |method: Method, path: &str, token: Option<&str>, body: Option<Value>| {
        let mut request = client.request(method, format!("{}{path}", program.base()));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        async move {
            let response = request.send().await.expect("the service answers");
            let status = response.status();
            let json: Value = response.json().await.unwrap_or(Value::Null);
            (status, json)
        }
    };
    let username = common::unique("kill");
    let (status, registered) = call(
        Method::POST,
        "/api/organizers",
        None,
        Some(
            json!({"username": username, "email": "k@example.com", "name": "K", "timeZone": "UTC"}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{registered}");
    let token = registered["apiToken"].as_str().expect("token").to_owned();
    let day = json!([{"start": "00:00", "end": "24:00"}]);
    let (status, _) = call(
        Method::PUT,
        "/api/settings",
        Some(&token),
        Some(json!({
            "timeZone": "UTC",
            "weeklyHours": {"monday": day, "tuesday": day, "wednesday": day, "thursday": day,
                            "friday": day, "saturday": day, "sunday": day},
            "dateOverrides": [], "slotMinutes": 60, "bufferBeforeMinutes": 0,
            "bufferAfterMinutes": 0, "minNoticeMinutes": 0, "maxAdvanceDays": 30
        })),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // The receiver's port, reserved now, listened on only after the restart.
    let receiver_port = free_port();
    let url = format!("http://127.0.0.1:{receiver_port}/hooks");
    let (status, created) = call(
        Method::POST,
        "/api/webhooks",
        Some(&token),
        Some(json!({"url": url, "events": ["booking.created"]})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let endpoint = created["id"].as_str().expect("id").to_owned();
    let secret = created["secret"].as_str().expect("secret").to_owned();

    let book = |hour: u32| {
        let body = common::booking_body(
            &username,
            tomorrow_at(hour),
            tomorrow_at(hour + 1),
            "Survives",
        );
        call(Method::POST, "/api/bookings", None, Some(body))
    };
    let (status, first) = book(9).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    // Its first attempt failed (nobody listens): it waits for its retry.
    let path = format!("/api/webhooks/{endpoint}/deliveries");
    eventually("the first attempt failed", || async {
        let (_, log) = call(Method::GET, &path, Some(&token), None).await;
        log["deliveries"][0]["attempts"] == 1 && log["deliveries"][0]["status"] == "pending"
    })
    .await;
    let (status, second) = book(11).await;
    assert_eq!(status, StatusCode::CREATED, "{second}");
    program.kill_9();

    let receiver = Receiver::start_on(receiver_port).await;
    receiver.trust(&secret);
    let program = Program::start(addr, &env).await;
    let ids: Vec<String> = [&first, &second]
        .iter()
        .map(|b| b["booking"]["id"].as_str().expect("id").to_owned())
        .collect();
    eventually("both events delivered after the restart", || async {
        let delivered: Vec<String> = receiver
            .received()
            .iter()
            .filter(|r| r.answered == 200)
            .filter_map(|r| r.body["data"]["booking"]["id"].as_str().map(str::to_owned))
            .collect();
        ids.iter().all(|id| delivered.contains(id))
    })
    .await;
    // Every job is finished: nothing more will be sent.
    let client = reqwest::Client::new();
    let log: Value = client
        .get(format!("{}{path}", program.base()))
        .bearer_auth(&token)
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("json");
    let log = log["deliveries"].as_array().expect("deliveries").clone();
    assert_eq!(log.len(), 2, "{log:?}");
    assert!(log.iter().all(|d| d["status"] == "done"), "{log:?}");
    let mut per_event: HashMap<String, usize> = HashMap::new();
    for delivery in receiver.received() {
        assert!(delivery.verified, "{delivery:?}");
        *per_event.entry(delivery.id.clone()).or_default() += 1;
    }
    assert_eq!(per_event.len(), 2, "{per_event:?}");
    assert!(per_event.values().all(|count| *count == 1), "{per_event:?}");
}

/// Two service processes (here: two servers with their own workers) on one
/// PostgreSQL database: every event is delivered, each once.
#[cfg(all(feature = "postgres", feature = "redis"))]
#[tokio::test]
async fn two_processes_on_one_postgres_deliver_each_event_once() {
    use booking_postgres::testing::{self, IsolatedSchema, PoolSettings};

    let settings = PoolSettings {
        max_connections: 1,
        application_name: "booking-examples-webhooks".to_owned(),
    };
    let schema = IsolatedSchema::create_with(&testing::database_url(), "bk_e2e", &settings)
        .await
        .unwrap_or_else(|error| panic!("{error} (start PostgreSQL: scripts/ensure-services.sh)"));
    let vars = [
        ("DATABASE_URL", schema.url_with_search_path()),
        ("REDIS_URL", common::pg::redis_url()),
        ("BOOKING_ALLOW_PRIVATE_URLS", "1".to_owned()),
    ];
    let one = common::start_with_env(&vars, None).await;
    let two = common::start_with_env(&vars, None).await;
    let username = common::unique("pair");
    let token = one.register(&username, "UTC").await;
    one.open_all_week(&token, "UTC").await;
    let receiver = Receiver::start().await;
    let created = two
        .post(
            "/api/webhooks",
            Some(&token),
            json!({"url": receiver.url, "events": EVENTS}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
    receiver.trust(created.json["secret"].as_str().expect("secret"));
    let endpoint = created.json["id"].as_str().expect("id").to_owned();

    let mut bookings = Vec::new();
    for hour in 1..=8 {
        let server = if hour % 2 == 0 { &one } else { &two };
        let booked = server.book(&username, tomorrow_at(hour), "Pair").await;
        assert_eq!(booked.status, StatusCode::CREATED, "{booked:?}");
        bookings.push(
            booked.json["booking"]["id"]
                .as_str()
                .expect("id")
                .to_owned(),
        );
    }
    let path = format!("/api/webhooks/{endpoint}/deliveries");
    eventually("every delivery done", || async {
        let log = one.get(&path, Some(&token)).await;
        log.json["deliveries"].as_array().is_some_and(|all| {
            all.len() == bookings.len() && all.iter().all(|d| d["status"] == "done")
        })
    })
    .await;
    let received = receiver.received();
    assert_eq!(received.len(), bookings.len(), "once each: {received:?}");
    assert!(received.iter().all(|r| r.verified));
    let mut delivered: Vec<String> = received
        .iter()
        .filter_map(|r| r.body["data"]["booking"]["id"].as_str().map(str::to_owned))
        .collect();
    delivered.sort();
    bookings.sort();
    assert_eq!(delivered, bookings);
    let log = one.get(&path, Some(&token)).await;
    for delivery in log.json["deliveries"].as_array().expect("deliveries") {
        assert_eq!(delivery["attempts"], 1, "{delivery}");
    }
    drop((one, two));
    schema.drop().await.expect("drop the schema");
}
