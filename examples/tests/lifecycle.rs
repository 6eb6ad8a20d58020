//! The booking lifecycle over real HTTP, on every store: rescheduling,
//! `Idempotency-Key` on create, reschedule and cancel (replays, reuse, a
//! request still in progress, 32 identical requests racing), slot holds, and
//! bad inputs for these endpoints answered with 4xx and nothing changed.

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use booking_core::{
    AvailabilityProvider, BookingService, BusyPurpose, BusyTime, ManualClock, Organizer,
    ProviderError, ServiceConfig, TimeRange,
};
use chrono::{DateTime, Duration, Utc};
use chrono_tz::Europe::Berlin;
use chrono_tz::Tz;
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use common::{Server, booking_body, iso, local, tomorrow, unique};

/// Where a service listens, and a client for it.
#[derive(Clone)]
struct Api {
    base: String,
    client: reqwest::Client,
}

impl Api {
    fn of(server: &Server) -> Api {
        Api {
            base: server.base.clone(),
            client: server.client.clone(),
        }
    }
}

/// A reply with its headers.
struct Resp {
    status: StatusCode,
    json: Value,
    text: String,
    headers: HeaderMap,
}

impl Resp {
    fn code(&self) -> &str {
        self.json["code"].as_str().unwrap_or("")
    }

    fn replayed(&self) -> bool {
        self.headers
            .get("idempotent-replayed")
            .is_some_and(|v| v == "true")
    }
}

impl std::fmt::Debug for Resp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text: String = self.text.chars().take(600).collect();
        write!(f, "{} {}", self.status, text)
    }
}

/// One request; `headers` are added as given.
async fn send(
    api: &Api,
    method: Method,
    path: &str,
    bearer: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<Vec<u8>>,
) -> Resp {
    let mut request = api.client.request(method, format!("{}{path}", api.base));
    if let Some(token) = bearer {
        request = request.header("Authorization", format!("Bearer {token}"));
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(body) = body {
        request = request
            .header("Content-Type", "application/json")
            .body(body);
    }
    let response = request.send().await.expect("the service answers");
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.expect("a body");
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    Resp {
        status,
        json,
        text,
        headers,
    }
}

fn bytes(value: &Value) -> Option<Vec<u8>> {
    Some(serde_json::to_vec(value).expect("json"))
}

async fn post(api: &Api, path: &str, bearer: Option<&str>, body: Value) -> Resp {
    send(api, Method::POST, path, bearer, &[], bytes(&body)).await
}

async fn post_keyed(api: &Api, path: &str, bearer: Option<&str>, key: &str, body: Value) -> Resp {
    send(
        api,
        Method::POST,
        path,
        bearer,
        &[("Idempotency-Key", key)],
        bytes(&body),
    )
    .await
}

async fn get(api: &Api, path: &str, bearer: Option<&str>) -> Resp {
    send(api, Method::GET, path, bearer, &[], None).await
}

/// Registers `username` in `zone`; returns the API token.
async fn register(api: &Api, username: &str, zone: &str) -> String {
    let reply = post(
        api,
        "/api/organizers",
        None,
        json!({"username": username, "email": format!("{username}@example.com"),
               "name": username, "timeZone": zone}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{reply:?}");
    reply.json["apiToken"].as_str().expect("token").to_owned()
}

/// Hours `from`-`to` every day in `zone`, 60-minute slots, no buffers or
/// notice, 30 days ahead.
async fn hours(api: &Api, token: &str, zone: &str, from: &str, to: &str) {
    let day = json!([{"start": from, "end": to}]);
    let reply = send(
        api,
        Method::PUT,
        "/api/settings",
        Some(token),
        &[],
        bytes(&json!({
            "timeZone": zone,
            "weeklyHours": {"monday": day, "tuesday": day, "wednesday": day, "thursday": day,
                            "friday": day, "saturday": day, "sunday": day},
            "dateOverrides": [],
            "slotMinutes": 60, "bufferBeforeMinutes": 0, "bufferAfterMinutes": 0,
            "minNoticeMinutes": 0, "maxAdvanceDays": 30
        })),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
}

/// The offered slot starts of `username` on the local day of `at` in `zone`.
async fn offered(api: &Api, username: &str, zone: Tz, at: DateTime<Utc>) -> Vec<String> {
    let date = at.with_timezone(&zone).date_naive();
    let (start, end) = common::whole_day(zone, date);
    let reply = get(
        api,
        &format!(
            "/api/organizers/{username}/slots?start={}&end={}",
            iso(start),
            iso(end)
        ),
        None,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    reply.json["slots"]
        .as_array()
        .expect("slots")
        .iter()
        .map(|s| s["startTime"].as_str().expect("start").to_owned())
        .collect()
}

/// How many active bookings `token`'s organizer has.
async fn active_count(api: &Api, token: &str) -> u64 {
    let reply = get(api, "/api/bookings?limit=100", Some(token)).await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    reply.json["pagination"]["total"].as_u64().expect("total")
}

/// A booking as its organizer reads it.
async fn booking_of(api: &Api, token: &str, id: &str) -> Value {
    let reply = get(api, &format!("/api/bookings/{id}"), Some(token)).await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    reply.json["booking"].clone()
}

fn range(start: DateTime<Utc>, end: DateTime<Utc>) -> Value {
    json!({"startTime": iso(start), "endTime": iso(end)})
}

// ---------------------------------------------------------------------------
// Rescheduling and holds.
// ---------------------------------------------------------------------------

/// Moves, holds and every refusal of them, then a table of bad inputs that
/// must change nothing.
async fn reschedule_and_holds(api: &Api) {
    let ada = unique("ada");
    let bob = unique("bob");
    let ada_token = register(api, &ada, "Europe/Berlin").await;
    let bob_token = register(api, &bob, "UTC").await;
    hours(api, &ada_token, "Europe/Berlin", "08:00", "18:00").await;
    hours(api, &bob_token, "UTC", "00:00", "24:00").await;
    let day = tomorrow(Berlin);
    let at = |hour| local(Berlin, day, hour);

    // A booking at 10:00: sequence 0, no rescheduledFrom.
    let created = post(
        api,
        "/api/bookings",
        None,
        booking_body(&ada, at(10), at(11), "Intro"),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
    assert_eq!(created.json["booking"]["sequence"], 0);
    assert!(
        created.json["booking"].get("rescheduledFrom").is_none(),
        "{created:?}"
    );
    let id = created.json["booking"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let cancel_token = created.json["cancelToken"]
        .as_str()
        .expect("token")
        .to_owned();
    let move_path = format!("/api/bookings/{id}/reschedule");

    // The attendee moves it to 12:00 with the cancel token.
    let mut body = range(at(12), at(13));
    body["cancelToken"] = json!(cancel_token);
    let moved = post(api, &move_path, None, body).await;
    assert_eq!(moved.status, StatusCode::OK, "{moved:?}");
    assert!(!moved.replayed());
    let shown = &moved.json["booking"];
    assert_eq!(moved.json["success"], true);
    assert_eq!(shown["id"], id.as_str());
    assert_eq!(shown["startTime"], iso(at(12)).as_str());
    assert_eq!(shown["endTime"], iso(at(13)).as_str());
    assert_eq!(shown["sequence"], 1);
    assert_eq!(shown["rescheduledFrom"], range(at(10), at(11)));
    assert_eq!(shown["title"], "Intro");
    assert_eq!(booking_of(api, &ada_token, &id).await, *shown);
    let slots = offered(api, &ada, Berlin, at(12)).await;
    assert!(
        slots.contains(&iso(at(10))),
        "10:00 is free again: {slots:?}"
    );
    assert!(!slots.contains(&iso(at(12))), "12:00 is taken: {slots:?}");

    // The organizer moves it to 14:00 giving a length; then to 15:00 with a
    // start alone (the booking keeps its length).
    let moved = post(
        api,
        &move_path,
        Some(&ada_token),
        json!({"startTime": iso(at(14)), "durationMinutes": 60}),
    )
    .await;
    assert_eq!(moved.status, StatusCode::OK, "{moved:?}");
    assert_eq!(moved.json["booking"]["sequence"], 2);
    assert_eq!(
        moved.json["booking"]["rescheduledFrom"],
        range(at(12), at(13))
    );
    let moved = post(
        api,
        &move_path,
        Some(&ada_token),
        json!({"startTime": iso(at(15))}),
    )
    .await;
    assert_eq!(moved.status, StatusCode::OK, "{moved:?}");
    assert_eq!(moved.json["booking"]["endTime"], iso(at(16)).as_str());
    assert_eq!(moved.json["booking"]["sequence"], 3);
    // The cancel token still works after the moves.
    let read = get(
        api,
        &format!("/api/bookings/{id}?cancelToken={cancel_token}"),
        None,
    )
    .await;
    assert_eq!(read.status, StatusCode::OK, "{read:?}");
    assert_eq!(read.json["booking"]["sequence"], 3);
    // Listed bookings carry the new fields too.
    let listed = get(api, "/api/bookings", Some(&ada_token)).await;
    assert_eq!(listed.json["bookings"][0]["sequence"], 3, "{listed:?}");

    // Another booking at 09:00: moving onto it is refused.
    let other = post(
        api,
        "/api/bookings",
        None,
        booking_body(&ada, at(9), at(10), "Other"),
    )
    .await;
    assert_eq!(other.status, StatusCode::CREATED, "{other:?}");
    let taken = post(api, &move_path, Some(&ada_token), range(at(9), at(10))).await;
    assert_eq!(
        (taken.status, taken.code()),
        (StatusCode::CONFLICT, "slot_unavailable"),
        "{taken:?}"
    );

    // Holds: 11:00 is held, not offered, and not bookable without the token.
    let holds_path = format!("/api/organizers/{ada}/holds");
    let before = Utc::now();
    let held = post(api, &holds_path, None, range(at(11), at(12))).await;
    assert_eq!(held.status, StatusCode::CREATED, "{held:?}");
    let hold_id = held.json["holdId"].as_str().expect("holdId").to_owned();
    let hold_token = held.json["holdToken"]
        .as_str()
        .expect("holdToken")
        .to_owned();
    let expires: DateTime<Utc> = held.json["expiresAt"]
        .as_str()
        .expect("expiresAt")
        .parse()
        .expect("an instant");
    assert!(
        expires > before && expires <= Utc::now() + Duration::minutes(5),
        "the default hold lasts 5 minutes: {held:?}"
    );
    assert_eq!(held.json["startTime"], iso(at(11)).as_str());
    let slots = offered(api, &ada, Berlin, at(11)).await;
    assert!(!slots.contains(&iso(at(11))), "held: {slots:?}");
    let grab = post(
        api,
        "/api/bookings",
        None,
        booking_body(&ada, at(11), at(12), "Grab"),
    )
    .await;
    assert_eq!(
        (grab.status, grab.code()),
        (StatusCode::CONFLICT, "slot_unavailable"),
        "{grab:?}"
    );
    let mut wrong = booking_body(&ada, at(11), at(12), "Grab");
    wrong["holdToken"] = json!("f".repeat(64));
    let grab = post(api, "/api/bookings", None, wrong).await;
    assert_eq!(
        (grab.status, grab.code()),
        (StatusCode::CONFLICT, "slot_unavailable"),
        "{grab:?}"
    );
    let second_hold = post(api, &holds_path, None, range(at(11), at(12))).await;
    assert_eq!(
        (second_hold.status, second_hold.code()),
        (StatusCode::CONFLICT, "slot_unavailable"),
        "{second_hold:?}"
    );
    let onto_hold = post(api, &move_path, Some(&ada_token), range(at(11), at(12))).await;
    assert_eq!(
        (onto_hold.status, onto_hold.code()),
        (StatusCode::CONFLICT, "slot_unavailable"),
        "{onto_hold:?}"
    );
    // With the token the hold becomes the booking.
    let mut mine = booking_body(&ada, at(11), at(12), "Mine");
    mine["holdToken"] = json!(hold_token);
    let converted = post(api, "/api/bookings", None, mine).await;
    assert_eq!(converted.status, StatusCode::CREATED, "{converted:?}");
    assert_eq!(converted.json["booking"]["startTime"], iso(at(11)).as_str());
    let gone = send(
        api,
        Method::DELETE,
        &format!("/api/holds/{hold_id}"),
        None,
        &[("Hold-Token", &hold_token)],
        None,
    )
    .await;
    assert_eq!(
        (gone.status, gone.code()),
        (StatusCode::NOT_FOUND, "hold_not_found"),
        "the hold became the booking: {gone:?}"
    );

    // Releasing, with the header and with the body.
    for by_header in [true, false] {
        let held = post(api, &holds_path, None, range(at(13), at(14))).await;
        assert_eq!(held.status, StatusCode::CREATED, "{held:?}");
        assert!(
            !offered(api, &ada, Berlin, at(13))
                .await
                .contains(&iso(at(13)))
        );
        let path = format!("/api/holds/{}", held.json["holdId"].as_str().expect("id"));
        let token = held.json["holdToken"].as_str().expect("token");
        let wrong = send(
            api,
            Method::DELETE,
            &path,
            None,
            &[("Hold-Token", &"0".repeat(64))],
            None,
        )
        .await;
        assert_eq!(
            (wrong.status, wrong.code()),
            (StatusCode::NOT_FOUND, "hold_not_found"),
            "{wrong:?}"
        );
        let released = if by_header {
            send(
                api,
                Method::DELETE,
                &path,
                None,
                &[("Hold-Token", token)],
                None,
            )
            .await
        } else {
            send(
                api,
                Method::DELETE,
                &path,
                None,
                &[],
                bytes(&json!({"holdToken": token})),
            )
            .await
        };
        assert_eq!(released.status, StatusCode::NO_CONTENT, "{released:?}");
        assert!(
            offered(api, &ada, Berlin, at(13))
                .await
                .contains(&iso(at(13)))
        );
    }

    // At most 3 holds per client address and organizer.
    let mut taken_holds = Vec::new();
    for hour in [13, 16, 17] {
        let held = post(api, &holds_path, None, range(at(hour), at(hour + 1))).await;
        assert_eq!(held.status, StatusCode::CREATED, "{held:?}");
        taken_holds.push(held);
    }
    let fourth = post(api, &holds_path, None, range(at(8), at(9))).await;
    assert_eq!(
        (fourth.status, fourth.code()),
        (StatusCode::TOO_MANY_REQUESTS, "too_many_holds"),
        "{fourth:?}"
    );
    // Another organizer's slots have their own count.
    let bob_hold = post(
        api,
        &format!("/api/organizers/{bob}/holds"),
        None,
        range(at(8), at(9)),
    )
    .await;
    assert_eq!(bob_hold.status, StatusCode::CREATED, "{bob_hold:?}");
    for held in &taken_holds {
        let released = send(
            api,
            Method::DELETE,
            &format!("/api/holds/{}", held.json["holdId"].as_str().expect("id")),
            None,
            &[],
            bytes(&json!({"holdToken": held.json["holdToken"]})),
        )
        .await;
        assert_eq!(released.status, StatusCode::NO_CONTENT, "{released:?}");
    }

    // An event type without holds.
    let no_holds = post(
        api,
        "/api/event-types",
        Some(&ada_token),
        json!({"slug": "quick", "title": "Quick", "durationMinutes": 60, "holdMinutes": 0}),
    )
    .await;
    assert_eq!(no_holds.status, StatusCode::CREATED, "{no_holds:?}");
    let mut body = range(at(16), at(17));
    body["eventType"] = json!("quick");
    let refused = post(api, &holds_path, None, body).await;
    assert_eq!(
        (refused.status, refused.code()),
        (StatusCode::CONFLICT, "holds_disabled"),
        "{refused:?}"
    );

    // Bad inputs: each is 4xx, and nothing changes.
    let booking_before = booking_of(api, &ada_token, &id).await;
    let count_before = active_count(api, &ada_token).await;
    let slots_before = offered(api, &ada, Berlin, at(12)).await;
    bad_inputs(
        api,
        &Ctx {
            ada: &ada,
            ada_token: &ada_token,
            bob_token: &bob_token,
            id: &id,
            cancel_token: &cancel_token,
            at: &at,
        },
    )
    .await;
    assert_eq!(booking_of(api, &ada_token, &id).await, booking_before);
    assert_eq!(active_count(api, &ada_token).await, count_before);
    assert_eq!(offered(api, &ada, Berlin, at(12)).await, slots_before);

    // Cancelled: sequence + 1 in the reply; a move is refused.
    let cancelled = post(
        api,
        &format!("/api/bookings/{id}/cancel"),
        None,
        json!({"cancelToken": cancel_token}),
    )
    .await;
    assert_eq!(cancelled.status, StatusCode::OK, "{cancelled:?}");
    assert_eq!(cancelled.json["message"], "Booking cancelled successfully");
    assert_eq!(cancelled.json["booking"]["sequence"], 4, "{cancelled:?}");
    let late = post(api, &move_path, Some(&ada_token), range(at(12), at(13))).await;
    assert_eq!(
        (late.status, late.code()),
        (StatusCode::CONFLICT, "already_cancelled"),
        "{late:?}"
    );
}

/// What the bad-input table needs to know.
struct Ctx<'a> {
    ada: &'a str,
    ada_token: &'a str,
    bob_token: &'a str,
    id: &'a str,
    cancel_token: &'a str,
    at: &'a dyn Fn(u32) -> DateTime<Utc>,
}

/// One bad request and the reply it must get.
struct Bad {
    name: &'static str,
    method: Method,
    path: String,
    bearer: Option<String>,
    headers: Vec<(&'static str, String)>,
    body: Option<Vec<u8>>,
    status: u16,
    code: &'static str,
    field: Option<&'static str>,
}

fn bad(name: &'static str, method: Method, path: impl Into<String>, body: Option<Vec<u8>>) -> Bad {
    Bad {
        name,
        method,
        path: path.into(),
        bearer: None,
        headers: Vec::new(),
        body,
        status: 0,
        code: "",
        field: None,
    }
}

impl Bad {
    fn bearer(mut self, token: &str) -> Self {
        self.bearer = Some(token.to_owned());
        self
    }
    fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
    fn expect(mut self, status: u16, code: &'static str) -> Self {
        self.status = status;
        self.code = code;
        self
    }
    fn field(mut self, field: &'static str) -> Self {
        self.field = Some(field);
        self
    }
}

async fn bad_inputs(api: &Api, ctx: &Ctx<'_>) {
    let at = ctx.at;
    let move_path = format!("/api/bookings/{}/reschedule", ctx.id);
    let holds_path = format!("/api/organizers/{}/holds", ctx.ada);
    let free = range(at(12), at(13));
    let with_token = |mut body: Value| {
        body["cancelToken"] = json!(ctx.cancel_token);
        bytes(&body)
    };
    let yesterday = at(10) - Duration::days(2);
    let mut hold_no_end = range(at(12), at(13));
    hold_no_end
        .as_object_mut()
        .expect("object")
        .remove("endTime");
    let mut unknown_type = free.clone();
    unknown_type["eventType"] = json!("no-such-type");
    let mut bad_slug = free.clone();
    bad_slug["eventType"] = json!("Not A Slug!");
    let mut empty_hold_token = booking_body(ctx.ada, at(12), at(13), "X");
    empty_hold_token["holdToken"] = json!("");
    let good_booking = bytes(&booking_body(ctx.ada, at(12), at(13), "X"));
    let cases = vec![
        bad(
            "reschedule an unknown booking",
            Method::POST,
            format!("/api/bookings/{}/reschedule", ulid_like()),
            bytes(&free),
        )
        .bearer(ctx.ada_token)
        .expect(404, "not_found"),
        bad(
            "reschedule an id that is not a ULID",
            Method::POST,
            "/api/bookings/not-an-id/reschedule",
            bytes(&free),
        )
        .bearer(ctx.ada_token)
        .expect(404, "not_found"),
        bad(
            "reschedule with a wrong cancel token",
            Method::POST,
            &move_path,
            bytes(&json!({"startTime": iso(at(12)), "endTime": iso(at(13)), "cancelToken": "0".repeat(64)})),
        )
        .expect(403, "permission_denied"),
        bad(
            "reschedule with another organizer's token",
            Method::POST,
            &move_path,
            bytes(&free),
        )
        .bearer(ctx.bob_token)
        .expect(403, "permission_denied"),
        bad(
            "reschedule with a garbage bearer token",
            Method::POST,
            &move_path,
            bytes(&free),
        )
        .bearer("garbage")
        .expect(401, "unauthorized"),
        bad(
            "reschedule without a credential",
            Method::POST,
            &move_path,
            bytes(&free),
        )
        .expect(401, "unauthorized"),
        bad(
            "reschedule to the past",
            Method::POST,
            &move_path,
            with_token(range(yesterday, yesterday + Duration::hours(1))),
        )
        .expect(409, "slot_unavailable"),
        bad(
            "reschedule to another organizer's slot (outside her hours)",
            Method::POST,
            &move_path,
            with_token(range(at(20), at(21))),
        )
        .expect(409, "slot_unavailable"),
        bad(
            "reschedule onto another booking",
            Method::POST,
            &move_path,
            with_token(range(at(9), at(10))),
        )
        .expect(409, "slot_unavailable"),
        bad(
            "reschedule with the end before the start",
            Method::POST,
            &move_path,
            with_token(range(at(13), at(12))),
        )
        .expect(400, "invalid_time_range")
        .field("endTime"),
        bad(
            "reschedule without a start",
            Method::POST,
            &move_path,
            with_token(json!({"endTime": iso(at(13))})),
        )
        .expect(400, "validation_error")
        .field("startTime"),
        bad(
            "reschedule with a malformed start",
            Method::POST,
            &move_path,
            with_token(json!({"startTime": "tomorrow at noon"})),
        )
        .expect(400, "validation_error")
        .field("startTime"),
        bad(
            "reschedule with a start of the wrong type",
            Method::POST,
            &move_path,
            with_token(json!({"startTime": 12})),
        )
        .expect(400, "validation_error")
        .field("startTime"),
        bad(
            "reschedule with a zero length",
            Method::POST,
            &move_path,
            with_token(json!({"startTime": iso(at(12)), "durationMinutes": 0})),
        )
        .expect(400, "validation_error")
        .field("durationMinutes"),
        bad(
            "reschedule with a length that disagrees with the end",
            Method::POST,
            &move_path,
            with_token(json!({"startTime": iso(at(12)), "endTime": iso(at(13)), "durationMinutes": 30})),
        )
        .expect(400, "validation_error")
        .field("durationMinutes"),
        bad(
            "reschedule to a length the event type does not offer",
            Method::POST,
            &move_path,
            with_token(json!({"startTime": iso(at(12)), "durationMinutes": 45})),
        )
        .expect(409, "slot_unavailable"),
        bad(
            "reschedule off the slot grid",
            Method::POST,
            &move_path,
            with_token(range(
                at(12) + Duration::minutes(17),
                at(13) + Duration::minutes(17),
            )),
        )
        .expect(409, "slot_unavailable"),
        bad(
            "reschedule with a body that is not JSON",
            Method::POST,
            &move_path,
            Some(b"{not json".to_vec()),
        )
        .bearer(ctx.ada_token)
        .expect(400, "validation_error"),
        bad(
            "reschedule with an idempotency key that is too long",
            Method::POST,
            &move_path,
            bytes(&free),
        )
        .bearer(ctx.ada_token)
        .header("Idempotency-Key", "k".repeat(256))
        .expect(400, "validation_error")
        .field("Idempotency-Key"),
        bad(
            "reschedule with a control character in the key",
            Method::POST,
            &move_path,
            bytes(&free),
        )
        .bearer(ctx.ada_token)
        .header("Idempotency-Key", "a\tb")
        .expect(400, "validation_error")
        .field("Idempotency-Key"),
        bad(
            "reschedule with a space in the key",
            Method::POST,
            &move_path,
            bytes(&free),
        )
        .bearer(ctx.ada_token)
        .header("Idempotency-Key", "a b")
        .expect(400, "validation_error")
        .field("Idempotency-Key"),
        bad(
            "reschedule with an empty key",
            Method::POST,
            &move_path,
            bytes(&free),
        )
        .bearer(ctx.ada_token)
        .header("Idempotency-Key", "")
        .expect(400, "validation_error")
        .field("Idempotency-Key"),
        bad(
            "book with a key that is not ASCII",
            Method::POST,
            "/api/bookings",
            good_booking.clone(),
        )
        .header("Idempotency-Key", "cl\u{e9}")
        .expect(400, "validation_error")
        .field("Idempotency-Key"),
        bad(
            "book with a key that is too long",
            Method::POST,
            "/api/bookings",
            good_booking,
        )
        .header("Idempotency-Key", "k".repeat(300))
        .expect(400, "validation_error")
        .field("Idempotency-Key"),
        bad(
            "book with an empty hold token",
            Method::POST,
            "/api/bookings",
            bytes(&empty_hold_token),
        )
        .expect(400, "validation_error")
        .field("holdToken"),
        bad(
            "cancel with a malformed key",
            Method::POST,
            format!("/api/bookings/{}/cancel", ctx.id),
            bytes(&json!({"cancelToken": ctx.cancel_token})),
        )
        .header("Idempotency-Key", "k".repeat(256))
        .expect(400, "validation_error")
        .field("Idempotency-Key"),
        bad(
            "hold a slot of an unknown organizer",
            Method::POST,
            format!("/api/organizers/{}/holds", unique("nobody")),
            bytes(&free),
        )
        .expect(404, "organizer_not_found"),
        bad(
            "hold a slot of an unknown event type",
            Method::POST,
            &holds_path,
            bytes(&unknown_type),
        )
        .expect(404, "event_type_not_found"),
        bad(
            "hold with an event type that is not a slug",
            Method::POST,
            &holds_path,
            bytes(&bad_slug),
        )
        .expect(400, "validation_error")
        .field("eventType"),
        bad(
            "hold without an end or a length",
            Method::POST,
            &holds_path,
            bytes(&hold_no_end),
        )
        .expect(400, "validation_error")
        .field("endTime"),
        bad(
            "hold a slot in the past",
            Method::POST,
            &holds_path,
            bytes(&range(yesterday, yesterday + Duration::hours(1))),
        )
        .expect(409, "slot_unavailable"),
        bad(
            "hold a booked slot",
            Method::POST,
            &holds_path,
            bytes(&range(at(9), at(10))),
        )
        .expect(409, "slot_unavailable"),
        bad(
            "hold outside the organizer's hours",
            Method::POST,
            &holds_path,
            bytes(&range(at(20), at(21))),
        )
        .expect(409, "slot_unavailable"),
        bad(
            "reschedule to the year 9999",
            Method::POST,
            &move_path,
            with_token(json!({"startTime": "9999-12-31T22:00:00Z", "endTime": "9999-12-31T23:00:00Z"})),
        )
        .expect(409, "slot_unavailable"),
        bad(
            "reschedule with an absurd length",
            Method::POST,
            &move_path,
            with_token(json!({"startTime": iso(at(12)), "durationMinutes": i64::MAX})),
        )
        .expect(409, "slot_unavailable"),
        bad(
            "hold a slot in the year 1",
            Method::POST,
            &holds_path,
            bytes(&json!({"startTime": "0001-01-01T00:00:00Z", "endTime": "0001-01-01T01:00:00Z"})),
        )
        .expect(409, "slot_unavailable"),
        bad(
            "book with a hold token that is not text",
            Method::POST,
            "/api/bookings",
            bytes(&{
                let mut body = booking_body(ctx.ada, at(12), at(13), "X");
                body["holdToken"] = json!(42);
                body
            }),
        )
        .expect(400, "validation_error")
        .field("holdToken"),
        bad(
            "release with a token that is not ASCII",
            Method::DELETE,
            format!("/api/holds/{}", ulid_like()),
            None,
        )
        .header("Hold-Token", "t\u{f6}ken")
        .expect(404, "hold_not_found"),
        bad(
            "release an unknown hold",
            Method::DELETE,
            format!("/api/holds/{}", ulid_like()),
            bytes(&json!({"holdToken": "0".repeat(64)})),
        )
        .expect(404, "hold_not_found"),
        bad(
            "release a hold id that is not a ULID",
            Method::DELETE,
            "/api/holds/nope",
            bytes(&json!({"holdToken": "0".repeat(64)})),
        )
        .expect(404, "hold_not_found"),
        bad(
            "release without a token",
            Method::DELETE,
            format!("/api/holds/{}", ulid_like()),
            None,
        )
        .expect(400, "validation_error")
        .field("holdToken"),
    ];
    assert!(cases.len() >= 20);
    for case in cases {
        let headers: Vec<(&str, &str)> = case
            .headers
            .iter()
            .map(|(name, value)| (*name, value.as_str()))
            .collect();
        let reply = send(
            api,
            case.method.clone(),
            &case.path,
            case.bearer.as_deref(),
            &headers,
            case.body.clone(),
        )
        .await;
        assert_eq!(
            reply.status.as_u16(),
            case.status,
            "{}: {reply:?}",
            case.name
        );
        assert_eq!(reply.code(), case.code, "{}: {reply:?}", case.name);
        if let Some(field) = case.field {
            assert!(
                reply.json["fields"].get(field).is_some(),
                "{}: names {field}: {reply:?}",
                case.name
            );
        }
        assert!(!reply.replayed(), "{}", case.name);
    }
}

/// A well-formed id nothing has.
fn ulid_like() -> String {
    "01ARZ3NDEKTSV4RRFFQ69G5FAV".to_owned()
}

// ---------------------------------------------------------------------------
// Races: moves and new bookings for one free slot.
// ---------------------------------------------------------------------------

/// Three bookings move into one free slot while five new bookings and two
/// holds try to take it, all at once: exactly one request wins, every loser
/// is a 409 or 429 and its booking stays where it was.
async fn races(api: &Api) {
    let erin = unique("erin");
    let token = register(api, &erin, "UTC").await;
    hours(api, &token, "UTC", "00:00", "24:00").await;
    let day = tomorrow(chrono_tz::UTC);
    let at = |hour| local(chrono_tz::UTC, day, hour);
    let target = range(at(13), at(14));
    let mut movers = Vec::new();
    for hour in [8, 9, 10] {
        let created = post(
            api,
            "/api/bookings",
            None,
            booking_body(&erin, at(hour), at(hour + 1), "Mover"),
        )
        .await;
        assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
        movers.push((
            hour,
            created.json["booking"]["id"]
                .as_str()
                .expect("id")
                .to_owned(),
        ));
    }
    let mut tasks = Vec::new();
    for (_, id) in &movers {
        let (api, token, target, path) = (
            api.clone(),
            token.clone(),
            target.clone(),
            format!("/api/bookings/{id}/reschedule"),
        );
        tasks.push(tokio::spawn(async move {
            post(&api, &path, Some(&token), target).await
        }));
    }
    for n in 0..5 {
        let (api, body) = (
            api.clone(),
            booking_body(&erin, at(13), at(14), &format!("New {n}")),
        );
        tasks.push(tokio::spawn(async move {
            post(&api, "/api/bookings", None, body).await
        }));
    }
    for _ in 0..2 {
        let (api, path, target) = (
            api.clone(),
            format!("/api/organizers/{erin}/holds"),
            target.clone(),
        );
        tasks.push(tokio::spawn(async move {
            post(&api, &path, None, target).await
        }));
    }
    let mut winners = 0;
    for task in tasks {
        let reply = task.await.expect("the request task");
        if reply.status.is_success() {
            winners += 1;
        } else {
            assert!(
                matches!(
                    reply.code(),
                    "slot_unavailable" | "slot_being_booked" | "too_many_holds"
                ),
                "{reply:?}"
            );
        }
    }
    assert_eq!(winners, 1, "exactly one request takes the slot");
    // The movers are each at 13:00 (at most one) or where they were.
    let mut at_target = 0;
    for (hour, id) in &movers {
        let shown = booking_of(api, &token, id).await;
        if shown["startTime"] == iso(at(13)).as_str() {
            at_target += 1;
            assert_eq!(shown["sequence"], 1);
        } else {
            assert_eq!(shown["startTime"], iso(at(*hour)).as_str());
            assert_eq!(shown["sequence"], 0);
        }
    }
    assert!(at_target <= 1);
    let listed = get(api, "/api/bookings?limit=100", Some(&token)).await;
    let at_one: usize = listed.json["bookings"]
        .as_array()
        .expect("bookings")
        .iter()
        .filter(|b| b["startTime"] == iso(at(13)).as_str())
        .count();
    assert!(at_one <= 1, "{listed:?}");
}

// ---------------------------------------------------------------------------
// Idempotency keys.
// ---------------------------------------------------------------------------

/// Replays, reuse and a race of 32 identical requests.
async fn idempotency(api: &Api) {
    let carol = unique("carol");
    let token = register(api, &carol, "UTC").await;
    hours(api, &token, "UTC", "00:00", "24:00").await;
    let day = tomorrow(chrono_tz::UTC);
    let at = |hour| local(chrono_tz::UTC, day, hour);
    let key = |name: &str| format!("{name}-{}", unique("k"));

    // Create, then the same again: identical reply, marked as a replay.
    let k1 = key("create");
    let body = booking_body(&carol, at(9), at(10), "Retry me");
    let first = post_keyed(api, "/api/bookings", None, &k1, body.clone()).await;
    assert_eq!(first.status, StatusCode::CREATED, "{first:?}");
    assert!(!first.replayed(), "{:?}", first.headers);
    let again = post_keyed(api, "/api/bookings", None, &k1, body.clone()).await;
    assert_eq!(again.status, StatusCode::CREATED, "{again:?}");
    assert!(again.replayed(), "{:?}", again.headers);
    assert_eq!(again.text, first.text);
    assert_eq!(active_count(api, &token).await, 1);
    let id = first.json["booking"]["id"].as_str().expect("id").to_owned();
    let cancel_token = first.json["cancelToken"]
        .as_str()
        .expect("token")
        .to_owned();
    let read = get(
        api,
        &format!("/api/bookings/{id}?cancelToken={cancel_token}"),
        None,
    )
    .await;
    assert_eq!(read.status, StatusCode::OK, "the token works: {read:?}");

    // The same key with another body.
    let mut other = body.clone();
    other["title"] = json!("Something else");
    let reused = post_keyed(api, "/api/bookings", None, &k1, other).await;
    assert_eq!(
        (reused.status, reused.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused"),
        "{reused:?}"
    );
    assert_eq!(active_count(api, &token).await, 1);

    // A refusal is replayed as it was.
    let k2 = key("refused");
    let clash = booking_body(&carol, at(9), at(10), "Clash");
    let refused = post_keyed(api, "/api/bookings", None, &k2, clash.clone()).await;
    assert_eq!(
        (refused.status, refused.code()),
        (StatusCode::CONFLICT, "slot_unavailable"),
        "{refused:?}"
    );
    assert!(!refused.replayed());
    let replayed = post_keyed(api, "/api/bookings", None, &k2, clash).await;
    assert_eq!(replayed.status, StatusCode::CONFLICT, "{replayed:?}");
    assert_eq!(replayed.text, refused.text);
    assert!(replayed.replayed());

    // Reschedule: moved once, however often it is sent.
    let k3 = key("move");
    let move_path = format!("/api/bookings/{id}/reschedule");
    let to_ten = range(at(10), at(11));
    let moved = post_keyed(api, &move_path, Some(&token), &k3, to_ten.clone()).await;
    assert_eq!(moved.status, StatusCode::OK, "{moved:?}");
    assert_eq!(moved.json["booking"]["sequence"], 1);
    assert!(!moved.replayed());
    let again = post_keyed(api, &move_path, Some(&token), &k3, to_ten).await;
    assert_eq!(again.status, StatusCode::OK, "{again:?}");
    assert_eq!(again.text, moved.text);
    assert!(again.replayed());
    assert_eq!(booking_of(api, &token, &id).await["sequence"], 1);
    let elsewhere = post_keyed(api, &move_path, Some(&token), &k3, range(at(11), at(12))).await;
    assert_eq!(
        (elsewhere.status, elsewhere.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused"),
        "{elsewhere:?}"
    );
    assert_eq!(
        booking_of(api, &token, &id).await["startTime"],
        iso(at(10)).as_str()
    );

    // Cancel: the retry gets the first reply, not already_cancelled.
    let k4 = key("cancel");
    let cancel_path = format!("/api/bookings/{id}/cancel");
    let by_token = json!({"cancelToken": cancel_token});
    let cancelled = post_keyed(api, &cancel_path, None, &k4, by_token.clone()).await;
    assert_eq!(cancelled.status, StatusCode::OK, "{cancelled:?}");
    assert_eq!(cancelled.json["booking"]["sequence"], 2);
    let again = post_keyed(api, &cancel_path, None, &k4, by_token.clone()).await;
    assert_eq!(again.status, StatusCode::OK, "{again:?}");
    assert_eq!(again.text, cancelled.text);
    assert!(again.replayed());
    let unkeyed = post(api, &cancel_path, None, by_token).await;
    assert_eq!(
        (unkeyed.status, unkeyed.code()),
        (StatusCode::CONFLICT, "already_cancelled"),
        "{unkeyed:?}"
    );

    // 32 identical requests with one key, at once: one booking, 32
    // identical replies.
    let k5 = key("race");
    let body = booking_body(&carol, at(12), at(13), "Race");
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let api = api.clone();
            let k5 = k5.clone();
            let body = body.clone();
            tokio::spawn(async move { post_keyed(&api, "/api/bookings", None, &k5, body).await })
        })
        .collect();
    let mut replies = Vec::new();
    for task in tasks {
        replies.push(task.await.expect("the request task"));
    }
    let first = &replies[0];
    assert_eq!(first.status, StatusCode::CREATED, "{first:?}");
    for reply in &replies {
        assert_eq!(reply.status, StatusCode::CREATED, "{reply:?}");
        assert_eq!(reply.text, first.text);
    }
    let fresh = replies.iter().filter(|r| !r.replayed()).count();
    assert_eq!(fresh, 1, "exactly one request ran, the others replayed");
    let listed = get(api, "/api/bookings?limit=100", Some(&token)).await;
    let at_noon: Vec<&Value> = listed.json["bookings"]
        .as_array()
        .expect("bookings")
        .iter()
        .filter(|b| b["startTime"] == iso(at(12)).as_str())
        .collect();
    assert_eq!(at_noon.len(), 1, "{listed:?}");
    assert_eq!(active_count(api, &token).await, 1);
}

// ---------------------------------------------------------------------------
// A request still in progress, and a booking that has started: a service
// built from configuration, then given a clock and a provider that pauses
// one booking half-way.
// ---------------------------------------------------------------------------

/// Pauses the first booking decision after [`Gate::arm`] until
/// [`Gate::open`].
struct Gate {
    armed: AtomicBool,
    entered: tokio::sync::Notify,
    release: tokio::sync::Semaphore,
}

impl Gate {
    fn new() -> Gate {
        Gate {
            armed: AtomicBool::new(false),
            entered: tokio::sync::Notify::new(),
            release: tokio::sync::Semaphore::new(0),
        }
    }

    fn arm(&self) {
        self.armed.store(true, Ordering::SeqCst);
    }

    fn open(&self) {
        self.release.add_permits(1);
    }
}

#[async_trait]
impl AvailabilityProvider for Gate {
    async fn busy_time(
        &self,
        _organizer: &Organizer,
        _range: TimeRange,
        purpose: BusyPurpose,
    ) -> Result<BusyTime, ProviderError> {
        if purpose == BusyPurpose::Booking && self.armed.swap(false, Ordering::SeqCst) {
            self.entered.notify_one();
            if let Ok(permit) = self.release.acquire().await {
                permit.forget();
            }
        }
        Ok(BusyTime::default())
    }
}

/// A service started from `vars` like the program, with `gate` as its
/// provider, `clock` as its clock and a short wait for keys in progress.
async fn gated_service(
    vars: &[(&str, String)],
    gate: Arc<Gate>,
    clock: Arc<ManualClock>,
) -> (Api, tokio::task::JoinHandle<()>) {
    let mut map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    map.insert("BOOKING_ADDR".to_owned(), "127.0.0.1:0".to_owned());
    map.insert("BOOKING_RATE_LIMIT".to_owned(), "off".to_owned());
    let config = booking_examples::Config::from_lookup(|name| map.get(name).cloned())
        .expect("valid configuration");
    let (app, _) = booking_examples::build(&config)
        .await
        .unwrap_or_else(|error| panic!("the service must start: {}", error.one_line()));
    let service = app.service;
    let config_of_service = ServiceConfig {
        idempotency_wait: std::time::Duration::from_millis(300),
        ..service.config().clone()
    };
    let service: BookingService = service
        .with_provider(gate)
        .with_clock(clock)
        .with_config(config_of_service);
    let listener = booking_examples::startup::bind(&config)
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    let task = tokio::spawn(async move {
        let app = booking_examples::App {
            service,
            integrations: app.integrations,
        };
        let _ = booking_examples::serve(listener, app, &config, std::future::pending()).await;
    });
    let api = Api {
        base: format!("http://{addr}"),
        client: reqwest::Client::new(),
    };
    (api, task)
}

async fn in_progress_and_started(vars: &[(&str, String)]) {
    let gate = Arc::new(Gate::new());
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let (api, task) = gated_service(vars, Arc::clone(&gate), Arc::clone(&clock)).await;
    let dave = unique("dave");
    let token = register(&api, &dave, "Europe/Berlin").await;
    hours(&api, &token, "Europe/Berlin", "00:00", "24:00").await;
    let day = tomorrow(Berlin);
    let at = |hour| local(Berlin, day, hour);

    // The first request pauses half-way; the same request meanwhile is 409
    // `idempotency_in_progress`, another one under the key is 422.
    let key = unique("slow");
    let body = booking_body(&dave, at(12), at(13), "Slow");
    gate.arm();
    let first = {
        let api = api.clone();
        let key = key.clone();
        let body = body.clone();
        tokio::spawn(async move { post_keyed(&api, "/api/bookings", None, &key, body).await })
    };
    gate.entered.notified().await;
    let meanwhile = post_keyed(&api, "/api/bookings", None, &key, body.clone()).await;
    assert_eq!(
        (meanwhile.status, meanwhile.code()),
        (StatusCode::CONFLICT, "idempotency_in_progress"),
        "{meanwhile:?}"
    );
    let mut other = body.clone();
    other["title"] = json!("Other");
    let reused = post_keyed(&api, "/api/bookings", None, &key, other).await;
    assert_eq!(
        (reused.status, reused.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused"),
        "{reused:?}"
    );
    assert_eq!(active_count(&api, &token).await, 0);
    gate.open();
    let first = first.await.expect("the first request");
    assert_eq!(first.status, StatusCode::CREATED, "{first:?}");
    assert!(!first.replayed());
    let replay = post_keyed(&api, "/api/bookings", None, &key, body).await;
    assert_eq!(replay.text, first.text);
    assert!(replay.replayed());
    assert_eq!(active_count(&api, &token).await, 1);

    // Once it has started, it cannot be moved.
    let id = first.json["booking"]["id"].as_str().expect("id").to_owned();
    clock.set(at(12) + Duration::minutes(10));
    let late = post(
        &api,
        &format!("/api/bookings/{id}/reschedule"),
        Some(&token),
        range(at(15), at(16)),
    )
    .await;
    assert_eq!(
        (late.status, late.code()),
        (StatusCode::CONFLICT, "booking_started"),
        "{late:?}"
    );
    assert_eq!(
        booking_of(&api, &token, &id).await["startTime"],
        iso(at(12)).as_str()
    );
    task.abort();
}

// ---------------------------------------------------------------------------
// Holds are counted per client address, as the rate limits see it.
// ---------------------------------------------------------------------------

/// Takes a hold of `hour` for the client `forwarded_for` names.
async fn hold_from(api: &Api, username: &str, at: DateTime<Utc>, forwarded_for: &str) -> Resp {
    send(
        api,
        Method::POST,
        &format!("/api/organizers/{username}/holds"),
        None,
        &[("X-Forwarded-For", forwarded_for)],
        bytes(&range(at, at + Duration::hours(1))),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn holds_are_counted_per_client_behind_a_trusted_proxy_only() {
    // Behind a trusted proxy, each forwarded client has its own count.
    let server = common::memory_server(&[("BOOKING_TRUSTED_PROXIES", "127.0.0.1/32")]).await;
    let api = Api::of(&server);
    let frank = unique("frank");
    let token = register(&api, &frank, "UTC").await;
    hours(&api, &token, "UTC", "00:00", "24:00").await;
    let day = tomorrow(chrono_tz::UTC);
    let at = |hour| local(chrono_tz::UTC, day, hour);
    for hour in [1, 2, 3] {
        let held = hold_from(&api, &frank, at(hour), "203.0.113.1").await;
        assert_eq!(held.status, StatusCode::CREATED, "{held:?}");
    }
    let fourth = hold_from(&api, &frank, at(4), "203.0.113.1").await;
    assert_eq!(
        (fourth.status, fourth.code()),
        (StatusCode::TOO_MANY_REQUESTS, "too_many_holds"),
        "{fourth:?}"
    );
    let other_client = hold_from(&api, &frank, at(4), "203.0.113.2").await;
    assert_eq!(other_client.status, StatusCode::CREATED, "{other_client:?}");

    // Without one, the header is not believed: the peer is the client.
    let server = common::memory_server(&[]).await;
    let api = Api::of(&server);
    let grace = unique("grace");
    let token = register(&api, &grace, "UTC").await;
    hours(&api, &token, "UTC", "00:00", "24:00").await;
    for (hour, client) in [(1, "203.0.113.1"), (2, "203.0.113.2"), (3, "203.0.113.3")] {
        let held = hold_from(&api, &grace, at(hour), client).await;
        assert_eq!(held.status, StatusCode::CREATED, "{held:?}");
    }
    let fourth = hold_from(&api, &grace, at(4), "203.0.113.4").await;
    assert_eq!(
        (fourth.status, fourth.code()),
        (StatusCode::TOO_MANY_REQUESTS, "too_many_holds"),
        "{fourth:?}"
    );
}

// ---------------------------------------------------------------------------
// On every store.
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_reschedule_and_holds() {
    let server = common::memory_server(&[]).await;
    reschedule_and_holds(&Api::of(&server)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_reschedule_races() {
    let server = common::memory_server(&[]).await;
    races(&Api::of(&server)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_idempotency_keys() {
    let server = common::memory_server(&[]).await;
    idempotency(&Api::of(&server)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_key_in_progress_and_started_booking() {
    in_progress_and_started(&[("DATABASE_URL", "memory://".to_owned())]).await;
}

#[cfg(feature = "sqlite")]
mod sqlite {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn sqlite_reschedule_and_holds() {
        let server = common::sqlite_server().await;
        reschedule_and_holds(&Api::of(&server)).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn sqlite_reschedule_races() {
        let server = common::sqlite_server().await;
        races(&Api::of(&server)).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn sqlite_idempotency_keys() {
        let server = common::sqlite_server().await;
        idempotency(&Api::of(&server)).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn sqlite_key_in_progress_and_started_booking() {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("booking.db").display());
        in_progress_and_started(&[("DATABASE_URL", url)]).await;
    }
}

#[cfg(all(feature = "postgres", feature = "redis"))]
mod postgres {
    use booking_postgres::testing::{self, IsolatedSchema, PoolSettings};

    use super::*;
    use common::pg;

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn postgres_reschedule_and_holds() {
        let (server, schema) = pg::server().await;
        reschedule_and_holds(&Api::of(&server)).await;
        drop(server);
        pg::drop_schema(schema).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn postgres_reschedule_races() {
        let (server, schema) = pg::server().await;
        races(&Api::of(&server)).await;
        drop(server);
        pg::drop_schema(schema).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn postgres_idempotency_keys() {
        let (server, schema) = pg::server().await;
        idempotency(&Api::of(&server)).await;
        drop(server);
        pg::drop_schema(schema).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn postgres_key_in_progress_and_started_booking() {
        let settings = PoolSettings {
            max_connections: 1,
            application_name: "booking-examples-test".to_owned(),
        };
        let schema = IsolatedSchema::create_with(&testing::database_url(), "bk_e2e", &settings)
            .await
            .unwrap_or_else(|error| panic!("{error}"));
        in_progress_and_started(&[
            ("DATABASE_URL", schema.url_with_search_path()),
            ("REDIS_URL", pg::redis_url()),
        ])
        .await;
        schema
            .drop()
            .await
            .unwrap_or_else(|error| panic!("{error}"));
    }
}
