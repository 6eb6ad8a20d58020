//! The walks every backend must pass: the whole booking flow, and 50
//! clients racing for one slot.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::Duration;
use chrono_tz::Europe::Berlin;
use reqwest::{Method, StatusCode};
use serde_json::json;

use super::{Server, iso, local, tomorrow, unique, whole_day};

/// Register, set hours, list slots, book, see the slot disappear, list with
/// pagination and dates, read and cancel with the right and wrong
/// credentials, see the slot come back.
pub async fn full_flow(server: &Server) {
    let health = server.get("/healthz", None).await;
    assert_eq!(health.status, StatusCode::OK, "{health:?}");

    let alice = unique("alice");
    let bob = unique("bob");
    let registered = server
        .post(
            "/api/organizers",
            None,
            json!({"username": alice, "email": "alice@example.com", "name": "Alice", "timeZone": "Europe/Berlin"}),
        )
        .await;
    assert_eq!(registered.status, StatusCode::CREATED, "{registered:?}");
    let organizer = &registered.json["organizer"];
    assert_eq!(organizer["username"], alice.as_str());
    assert_eq!(organizer["name"], "Alice");
    assert_eq!(organizer["email"], "alice@example.com");
    assert_eq!(organizer["timeZone"], "Europe/Berlin");
    let alice_id = organizer["id"].as_str().expect("id").to_owned();
    let token = registered.json["apiToken"]
        .as_str()
        .expect("token")
        .to_owned();
    assert!(
        !registered.text.contains("Hash"),
        "no hash is shown: {registered:?}"
    );
    let bob_token = server.register(&bob, "America/New_York").await;

    let again = server
        .post(
            "/api/organizers",
            None,
            json!({"username": alice, "email": "other@example.com", "name": "Other", "timeZone": "UTC"}),
        )
        .await;
    assert_eq!(
        (again.status, again.code()),
        (StatusCode::CONFLICT, "username_taken"),
        "{again:?}"
    );

    let day = tomorrow(Berlin);
    let window = whole_day(Berlin, day);
    let early = server
        .get(
            &format!(
                "/api/organizers/{alice}/slots?start={}&end={}",
                iso(window.0),
                iso(window.1)
            ),
            None,
        )
        .await;
    assert_eq!(
        (early.status, early.code()),
        (StatusCode::CONFLICT, "settings_not_found"),
        "{early:?}"
    );

    let stored = server.open_all_week(&token, "Europe/Berlin").await;
    assert_eq!(stored.json["slotMinutes"], 60);
    assert_eq!(
        stored.json["weeklyHours"]["monday"],
        json!([{"start": "00:00", "end": "24:00"}])
    );
    let read = server.get("/api/settings", Some(&token)).await;
    assert_eq!(read.status, StatusCode::OK, "{read:?}");
    assert_eq!(read.json, stored.json);

    // Slots: the whole local day, one per hour.
    let before = server.slot_starts(&alice, window).await;
    let ten = local(Berlin, day, 10);
    let eleven = local(Berlin, day, 11);
    let noon = local(Berlin, day, 12);
    assert!(
        before.len() >= 23,
        "a whole day of hourly slots: {before:?}"
    );
    for t in [ten, eleven, noon] {
        assert!(before.contains(&iso(t)), "{} offered in {before:?}", iso(t));
    }

    // Book 10:00: the slot disappears, and nobody can take it again.
    let booked = server.book(&alice, ten, "Intro call").await;
    assert_eq!(booked.status, StatusCode::CREATED, "{booked:?}");
    assert_eq!(booked.json["success"], true);
    let booking = &booked.json["booking"];
    assert_eq!(booking["organizerId"], alice_id.as_str());
    assert_eq!(booking["attendantName"], "Grace Hopper");
    assert_eq!(booking["attendantEmail"], "grace@example.com");
    assert_eq!(booking["title"], "Intro call");
    assert_eq!(booking["description"], serde_json::Value::Null);
    assert_eq!(booking["startTime"], iso(ten).as_str());
    assert_eq!(booking["endTime"], iso(eleven).as_str());
    assert!(
        booking["createdAt"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z')),
        "{booked:?}"
    );
    let booking_id = booking["id"].as_str().expect("id").to_owned();
    let cancel_token = booked.json["cancelToken"]
        .as_str()
        .expect("cancelToken")
        .to_owned();

    let after = server.slot_starts(&alice, window).await;
    assert_eq!(after.len(), before.len() - 1);
    assert!(!after.contains(&iso(ten)));
    let taken = server.book(&alice, ten, "Second try").await;
    assert_eq!(
        (taken.status, taken.code()),
        (StatusCode::CONFLICT, "slot_unavailable"),
        "{taken:?}"
    );

    for (t, title) in [(noon, "Lunch"), (eleven, "Review")] {
        let reply = server.book(&alice, t, title).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{reply:?}");
    }

    // Lists: ordered by start, paginated, filtered by organizer-local dates.
    let page1 = server
        .get("/api/bookings?page=1&limit=2", Some(&token))
        .await;
    assert_eq!(page1.status, StatusCode::OK, "{page1:?}");
    assert_eq!(
        page1.json["pagination"],
        json!({"page": 1, "limit": 2, "total": 3, "totalPages": 2})
    );
    let starts: Vec<&str> = page1.json["bookings"]
        .as_array()
        .expect("bookings")
        .iter()
        .map(|b| b["startTime"].as_str().expect("startTime"))
        .collect();
    assert_eq!(starts, [iso(ten), iso(eleven)]);
    let page2 = server
        .get("/api/bookings?page=2&limit=2", Some(&token))
        .await;
    assert_eq!(page2.json["bookings"][0]["title"], "Lunch", "{page2:?}");
    assert_eq!(page2.json["bookings"].as_array().map(Vec::len), Some(1));
    let page3 = server
        .get("/api/bookings?page=3&limit=2", Some(&token))
        .await;
    assert_eq!(page3.json["bookings"], json!([]), "{page3:?}");
    let clamped = server.get("/api/bookings?limit=1000", Some(&token)).await;
    assert_eq!(clamped.json["pagination"]["limit"], 100, "{clamped:?}");

    let that_day = server
        .get(
            &format!("/api/bookings?startDate={day}&endDate={day}"),
            Some(&token),
        )
        .await;
    assert_eq!(that_day.json["pagination"]["total"], 3, "{that_day:?}");
    let next = day + Duration::days(1);
    let later = server
        .get(&format!("/api/bookings?startDate={next}"), Some(&token))
        .await;
    assert_eq!(later.json["pagination"]["total"], 0, "{later:?}");
    let previous = day - Duration::days(1);
    let earlier = server
        .get(&format!("/api/bookings?endDate={previous}"), Some(&token))
        .await;
    assert_eq!(earlier.json["pagination"]["total"], 0, "{earlier:?}");
    let bobs = server.get("/api/bookings", Some(&bob_token)).await;
    assert_eq!(
        bobs.json["pagination"]["total"], 0,
        "only one's own bookings: {bobs:?}"
    );

    // Reading one booking.
    let path = format!("/api/bookings/{booking_id}");
    let by_attendee = server
        .get(&format!("{path}?cancelToken={cancel_token}"), None)
        .await;
    assert_eq!(by_attendee.status, StatusCode::OK, "{by_attendee:?}");
    assert_eq!(by_attendee.json["booking"]["id"], booking_id.as_str());
    let by_organizer = server.get(&path, Some(&token)).await;
    assert_eq!(by_organizer.json["booking"], by_attendee.json["booking"]);
    let by_bob = server.get(&path, Some(&bob_token)).await;
    assert_eq!(
        (by_bob.status, by_bob.code()),
        (StatusCode::FORBIDDEN, "permission_denied")
    );
    let anonymous = server.get(&path, None).await;
    assert_eq!(
        (anonymous.status, anonymous.code()),
        (StatusCode::UNAUTHORIZED, "unauthorized")
    );

    // Cancelling: wrong credentials first, then the attendee's token, twice.
    let cancel = format!("{path}/cancel");
    let wrong = server
        .post(&cancel, None, json!({"cancelToken": "0".repeat(64)}))
        .await;
    assert_eq!(
        (wrong.status, wrong.code()),
        (StatusCode::FORBIDDEN, "permission_denied"),
        "{wrong:?}"
    );
    let bob_cancel = server
        .call(Method::POST, &cancel, Some(&bob_token), None)
        .await;
    assert_eq!(
        (bob_cancel.status, bob_cancel.code()),
        (StatusCode::FORBIDDEN, "permission_denied")
    );
    let nothing = server.call(Method::POST, &cancel, None, None).await;
    assert_eq!(
        (nothing.status, nothing.code()),
        (StatusCode::UNAUTHORIZED, "unauthorized")
    );

    let cancelled = server
        .post(&cancel, None, json!({"cancelToken": cancel_token}))
        .await;
    assert_eq!(cancelled.status, StatusCode::OK, "{cancelled:?}");
    assert_eq!(cancelled.json["success"], true);
    assert_eq!(cancelled.json["message"], "Booking cancelled successfully");
    assert!(
        cancelled.json["cancelledAt"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );
    let twice = server
        .post(&cancel, None, json!({"cancelToken": cancel_token}))
        .await;
    assert_eq!(
        (twice.status, twice.code()),
        (StatusCode::CONFLICT, "already_cancelled"),
        "{twice:?}"
    );
    let gone = server
        .get(&format!("{path}?cancelToken={cancel_token}"), None)
        .await;
    assert_eq!(
        (gone.status, gone.code()),
        (StatusCode::NOT_FOUND, "not_found"),
        "{gone:?}"
    );

    // The slot is back, and the list shrank.
    let restored = server.slot_starts(&alice, window).await;
    assert!(
        restored.contains(&iso(ten)),
        "10:00 is offered again: {restored:?}"
    );
    let still_booked = [iso(eleven), iso(noon)];
    let expected: Vec<String> = before
        .iter()
        .filter(|s| !still_booked.contains(s))
        .cloned()
        .collect();
    assert_eq!(restored, expected);
    let remaining = server.get("/api/bookings", Some(&token)).await;
    assert_eq!(remaining.json["pagination"]["total"], 2, "{remaining:?}");

    // The organizer cancels one with their token.
    let review_id = remaining.json["bookings"][0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let by_owner = server
        .call(
            Method::POST,
            &format!("/api/bookings/{review_id}/cancel"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(by_owner.status, StatusCode::OK, "{by_owner:?}");
    let left = server.get("/api/bookings", Some(&token)).await;
    assert_eq!(left.json["pagination"]["total"], 1, "{left:?}");
}

/// 50 clients book the same slot at once: exactly one 201, every other a
/// 409 (`slot_unavailable` or `slot_being_booked`), and one booking stored.
pub async fn race(server: Arc<Server>) {
    let username = unique("racer");
    let token = server.register(&username, "Europe/Berlin").await;
    server.open_all_week(&token, "Europe/Berlin").await;
    let start = local(Berlin, tomorrow(Berlin), 15);

    let barrier = Arc::new(tokio::sync::Barrier::new(50));
    let mut tasks = Vec::new();
    for i in 0..50 {
        let server = Arc::clone(&server);
        let barrier = Arc::clone(&barrier);
        let username = username.clone();
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let reply = server.book(&username, start, &format!("client {i}")).await;
            (reply.status, reply.code().to_owned())
        }));
    }
    let mut created = 0;
    let mut codes = BTreeSet::new();
    for task in tasks {
        let (status, code) = task.await.expect("client task");
        if status == StatusCode::CREATED {
            created += 1;
        } else {
            assert_eq!(status, StatusCode::CONFLICT, "{code}");
            assert!(
                matches!(code.as_str(), "slot_unavailable" | "slot_being_booked"),
                "{code}"
            );
            codes.insert(code);
        }
    }
    assert_eq!(
        created, 1,
        "exactly one client gets the slot (others saw {codes:?})"
    );
    let list = server.get("/api/bookings", Some(&token)).await;
    assert_eq!(list.json["pagination"]["total"], 1, "{list:?}");
    assert_eq!(list.json["bookings"][0]["startTime"], iso(start).as_str());
}
