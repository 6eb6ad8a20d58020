//! The walk through event types and schedules every backend must pass:
//! creating, reading, renaming, hiding and deleting them over HTTP, slots
//! and bookings of a chosen event type and length, per-day limits, the
//! codes of every refusal, usernames that differ only in case, and token
//! rotation.

use chrono::Duration;
use chrono_tz::America::New_York;
use chrono_tz::Europe::Berlin;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{Reply, Server, iso, local, starts_of as starts, tomorrow, unique, whole_day};

fn every_day(start: &str, end: &str) -> Value {
    let day = json!([{"start": start, "end": end}]);
    json!({"monday": day, "tuesday": day, "wednesday": day, "thursday": day,
           "friday": day, "saturday": day, "sunday": day})
}

fn expect(reply: &Reply, status: StatusCode, code: &str) {
    assert_eq!((reply.status, reply.code()), (status, code), "{reply:?}");
}

async fn put(server: &Server, path: &str, token: &str, body: Value) -> Reply {
    server
        .call(Method::PUT, path, Some(token), Some(body))
        .await
}

async fn delete(server: &Server, path: &str, token: &str) -> Reply {
    server.call(Method::DELETE, path, Some(token), None).await
}

/// Slot starts of `event_type` (and `duration`, in minutes) in `window`.
async fn slots(
    server: &Server,
    username: &str,
    window: (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>),
    params: &str,
) -> Reply {
    server
        .get(
            &format!(
                "/api/organizers/{username}/slots?start={}&end={}{params}",
                iso(window.0),
                iso(window.1)
            ),
            None,
        )
        .await
}

pub async fn walk(server: &Server) {
    let ada = unique("ada");
    let token = server.register(&ada, "Europe/Berlin").await;
    let none = server.get("/api/event-types", Some(&token)).await;
    assert_eq!(none.status, StatusCode::OK, "{none:?}");
    assert_eq!(none.json, json!({"eventTypes": []}));

    // Schedules: the first is the default; a zone left out is the organizer's.
    let mornings = server
        .post(
            "/api/schedules",
            Some(&token),
            json!({"name": "Mornings", "weeklyHours": every_day("08:00", "12:00")}),
        )
        .await;
    assert_eq!(mornings.status, StatusCode::CREATED, "{mornings:?}");
    assert_eq!(mornings.json["isDefault"], true);
    assert_eq!(mornings.json["timeZone"], "Europe/Berlin");
    assert_eq!(
        mornings.json["weeklyHours"]["monday"],
        json!([{"start": "08:00", "end": "12:00"}])
    );
    assert_eq!(mornings.json["dateOverrides"], json!([]));
    let mornings_id = mornings.json["id"].as_str().expect("id").to_owned();
    let evenings = server
        .post(
            "/api/schedules",
            Some(&token),
            json!({"name": "Evenings", "timeZone": "America/New_York",
                   "weeklyHours": every_day("18:00", "21:00"),
                   "dateOverrides": [{"date": "2030-01-01", "hours": []}]}),
        )
        .await;
    assert_eq!(evenings.status, StatusCode::CREATED, "{evenings:?}");
    assert_eq!(evenings.json["isDefault"], false);
    assert_eq!(
        evenings.json["dateOverrides"],
        json!([{"date": "2030-01-01", "hours": []}])
    );
    let evenings_id = evenings.json["id"].as_str().expect("id").to_owned();
    let listed = server.get("/api/schedules", Some(&token)).await;
    assert_eq!(listed.json["schedules"].as_array().map(Vec::len), Some(2));
    let one = server
        .get(&format!("/api/schedules/{evenings_id}"), Some(&token))
        .await;
    assert_eq!(one.json, evenings.json, "{one:?}");

    // Event types, with every field a client relies on.
    let intro_body = json!({
        "slug": "intro", "title": "Introduction", "description": "Let's meet.",
        "durationMinutes": 30, "durationOptions": [30, 60],
        "bookingWindow": {"kind": "rollingDays", "days": 30},
        "limits": {"perDay": 2},
        "location": {"kind": "video", "url": "https://meet.example.com/ada"},
        "holdMinutes": 10
    });
    let intro = server
        .post("/api/event-types", Some(&token), intro_body.clone())
        .await;
    assert_eq!(intro.status, StatusCode::CREATED, "{intro:?}");
    let shown = &intro.json;
    assert_eq!(shown["slug"], "intro");
    assert_eq!(shown["title"], "Introduction");
    assert_eq!(shown["description"], "Let's meet.");
    assert_eq!(shown["durationMinutes"], 30);
    assert_eq!(shown["durationOptions"], json!([30, 60]));
    assert_eq!(shown["slotStepMinutes"], Value::Null);
    assert_eq!(shown["bufferBeforeMinutes"], 0);
    assert_eq!(shown["minNoticeMinutes"], 0);
    assert_eq!(
        shown["bookingWindow"],
        json!({"kind": "rollingDays", "days": 30})
    );
    assert_eq!(
        shown["limits"],
        json!({"perDay": 2, "perWeek": null, "weekStartsOn": "monday"})
    );
    assert_eq!(
        shown["location"],
        json!({"kind": "video", "url": "https://meet.example.com/ada"})
    );
    assert_eq!(shown["scheduleId"], Value::Null);
    assert_eq!(shown["active"], true);
    assert_eq!(shown["holdMinutes"], 10);
    let again = server
        .post("/api/event-types", Some(&token), intro_body.clone())
        .await;
    expect(&again, StatusCode::CONFLICT, "slug_taken");

    let evening = server
        .post(
            "/api/event-types",
            Some(&token),
            json!({"slug": "evening", "title": "Evening call", "durationMinutes": 60,
                   "scheduleId": evenings_id,
                   "bookingWindow": {"kind": "rollingBusinessDays", "days": 10},
                   "location": {"kind": "inPerson", "address": "1 Main St"}}),
        )
        .await;
    assert_eq!(evening.status, StatusCode::CREATED, "{evening:?}");
    assert_eq!(evening.json["scheduleId"], evenings_id.as_str());
    assert_eq!(
        evening.json["bookingWindow"],
        json!({"kind": "rollingBusinessDays", "days": 10})
    );
    let read = server.get("/api/event-types/evening", Some(&token)).await;
    assert_eq!(read.json, evening.json, "{read:?}");

    // The public list: active ones, without private fields (oldest first,
    // to the millisecond: ids are ULIDs).
    let public = server
        .get(&format!("/api/organizers/{ada}/event-types"), None)
        .await;
    assert_eq!(public.status, StatusCode::OK, "{public:?}");
    let listed = public.json["eventTypes"].as_array().expect("eventTypes");
    assert_eq!(listed.len(), 2, "{public:?}");
    let by_slug = |slug: &str| listed.iter().find(|e| e["slug"] == slug).cloned();
    assert_eq!(
        by_slug("intro"),
        Some(
            json!({"slug": "intro", "title": "Introduction", "description": "Let's meet.",
               "durationMinutes": 30, "durationOptions": [30, 60],
               "location": {"kind": "video", "url": "https://meet.example.com/ada"}})
        )
    );
    assert_eq!(
        by_slug("evening").map(|e| e["title"].clone()),
        Some(json!("Evening call"))
    );

    // Slots of each event type, of each length.
    let day = tomorrow(Berlin);
    let window = whole_day(Berlin, day);
    let long = starts(&slots(server, &ada, window, "&eventType=intro&duration=60").await);
    let hours: Vec<String> = [8, 9, 10, 11]
        .iter()
        .map(|h| iso(local(Berlin, day, *h)))
        .collect();
    assert_eq!(long, hours);
    let short = starts(&slots(server, &ada, window, "&eventType=intro").await);
    assert_eq!(short.len(), 8, "{short:?}");
    let ny_day = tomorrow(New_York);
    let evening_slots = starts(
        &slots(
            server,
            &ada,
            whole_day(New_York, ny_day),
            "&eventType=evening",
        )
        .await,
    );
    let ny_hours: Vec<String> = [18, 19, 20]
        .iter()
        .map(|h| iso(local(New_York, ny_day, *h)))
        .collect();
    assert_eq!(evening_slots, ny_hours);
    expect(
        &slots(server, &ada, window, "&eventType=nope").await,
        StatusCode::NOT_FOUND,
        "event_type_not_found",
    );
    let not_offered = slots(server, &ada, window, "&eventType=intro&duration=45").await;
    expect(&not_offered, StatusCode::BAD_REQUEST, "validation_error");
    assert!(
        not_offered.json["fields"].get("duration").is_some(),
        "{not_offered:?}"
    );
    // No event type named: the default one, which this organizer lacks.
    expect(
        &slots(server, &ada, window, "").await,
        StatusCode::CONFLICT,
        "settings_not_found",
    );

    // Bookings of a chosen length, up to the day's limit.
    let book = |start: chrono::DateTime<chrono::Utc>, minutes: i64| {
        json!({"organizerUsername": ada, "attendantName": "Grace", "attendantEmail": "grace@example.com",
               "startTime": iso(start), "durationMinutes": minutes, "eventType": "intro"})
    };
    let nine = local(Berlin, day, 9);
    let first = server.post("/api/bookings", None, book(nine, 60)).await;
    assert_eq!(first.status, StatusCode::CREATED, "{first:?}");
    let booking = &first.json["booking"];
    assert_eq!(booking["eventType"], "intro");
    assert_eq!(booking["durationMinutes"], 60);
    assert_eq!(booking["sequence"], 0);
    assert_eq!(booking["title"], "Introduction", "the event type's title");
    assert_eq!(booking["endTime"], iso(nine + Duration::hours(1)).as_str());
    let second = server
        .post("/api/bookings", None, book(local(Berlin, day, 11), 30))
        .await;
    assert_eq!(second.status, StatusCode::CREATED, "{second:?}");
    let third = server
        .post("/api/bookings", None, book(local(Berlin, day, 8), 30))
        .await;
    expect(&third, StatusCode::CONFLICT, "booking_limit_reached");
    // A full day offers nothing more of this event type.
    assert!(starts(&slots(server, &ada, window, "&eventType=intro").await).is_empty());
    let unknown_type = server
        .post(
            "/api/bookings",
            None,
            json!({"organizerUsername": ada, "attendantName": "Grace", "attendantEmail": "grace@example.com",
                   "startTime": iso(nine), "endTime": iso(nine + Duration::hours(1)), "eventType": "nope"}),
        )
        .await;
    expect(&unknown_type, StatusCode::NOT_FOUND, "event_type_not_found");

    // Hidden: gone for attendees, still the organizer's.
    let mut hidden = intro_body.clone();
    hidden["active"] = json!(false);
    let hide = put(server, "/api/event-types/intro", &token, hidden).await;
    assert_eq!(hide.status, StatusCode::OK, "{hide:?}");
    assert_eq!(hide.json["active"], false);
    expect(
        &slots(server, &ada, window, "&eventType=intro").await,
        StatusCode::NOT_FOUND,
        "event_type_not_found",
    );
    expect(
        &server
            .post("/api/bookings", None, book(local(Berlin, day, 10), 30))
            .await,
        StatusCode::NOT_FOUND,
        "event_type_not_found",
    );
    let public = server
        .get(&format!("/api/organizers/{ada}/event-types"), None)
        .await;
    assert_eq!(public.json["eventTypes"].as_array().map(Vec::len), Some(1));
    let still = server.get("/api/event-types/intro", Some(&token)).await;
    assert_eq!(still.json["active"], false, "{still:?}");

    // Renamed by a new slug; the old one is gone.
    let renamed = put(
        server,
        "/api/event-types/evening",
        &token,
        json!({"slug": "evening-call", "title": "Evening call", "durationMinutes": 60,
               "scheduleId": evenings_id}),
    )
    .await;
    assert_eq!(renamed.status, StatusCode::OK, "{renamed:?}");
    assert_eq!(renamed.json["slug"], "evening-call");
    assert_eq!(
        renamed.json["location"],
        Value::Null,
        "a PUT replaces it all"
    );
    expect(
        &server.get("/api/event-types/evening", Some(&token)).await,
        StatusCode::NOT_FOUND,
        "event_type_not_found",
    );

    // Schedules in use cannot go; the default moves with isDefault.
    let evenings_path = format!("/api/schedules/{evenings_id}");
    let mornings_path = format!("/api/schedules/{mornings_id}");
    expect(
        &delete(server, &evenings_path, &token).await,
        StatusCode::CONFLICT,
        "schedule_in_use",
    );
    expect(
        &delete(server, &mornings_path, &token).await,
        StatusCode::CONFLICT,
        "schedule_in_use",
    );
    let default = put(
        server,
        &evenings_path,
        &token,
        json!({"name": "Evenings", "timeZone": "America/New_York",
               "weeklyHours": every_day("18:00", "21:00"), "isDefault": true}),
    )
    .await;
    assert_eq!(default.status, StatusCode::OK, "{default:?}");
    assert_eq!(default.json["isDefault"], true);
    let former = server.get(&mornings_path, Some(&token)).await;
    assert_eq!(former.json["isDefault"], false, "{former:?}");
    let gone = delete(server, "/api/event-types/evening-call", &token).await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT, "{gone:?}");
    let deleted = delete(server, &mornings_path, &token).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{deleted:?}");
    expect(
        &server.get(&mornings_path, Some(&token)).await,
        StatusCode::NOT_FOUND,
        "schedule_not_found",
    );
    expect(
        &server.get("/api/schedules/not-an-id", Some(&token)).await,
        StatusCode::NOT_FOUND,
        "schedule_not_found",
    );

    // The bookings stay, with the slug they were booked under.
    let list = server.get("/api/bookings", Some(&token)).await;
    assert_eq!(list.json["pagination"]["total"], 2, "{list:?}");
    assert_eq!(list.json["bookings"][0]["eventType"], "intro");

    // Settings still make the default event type, listed with the others.
    server.open_all_week(&token, "Europe/Berlin").await;
    let all = server.get("/api/event-types", Some(&token)).await;
    let mut slugs: Vec<&str> = all.json["eventTypes"]
        .as_array()
        .expect("eventTypes")
        .iter()
        .filter_map(|e| e["slug"].as_str())
        .collect();
    slugs.sort_unstable();
    assert_eq!(slugs, ["default", "intro"]);

    usernames_ignore_case(server).await;
    rotation(server, &token).await;
}

/// `ABC` after `abc` is taken; reserved names are refused.
async fn usernames_ignore_case(server: &Server) {
    let name = unique("case");
    server.register(&name, "UTC").await;
    let shouting = server
        .post(
            "/api/organizers",
            None,
            json!({"username": name.to_uppercase(), "email": "c@example.com", "name": "C", "timeZone": "UTC"}),
        )
        .await;
    expect(&shouting, StatusCode::CONFLICT, "username_taken");
    for reserved in ["dashboard", "API", "Assets", "healthz"] {
        let refused = server
            .post(
                "/api/organizers",
                None,
                json!({"username": reserved, "email": "r@example.com", "name": "R", "timeZone": "UTC"}),
            )
            .await;
        expect(&refused, StatusCode::BAD_REQUEST, "validation_error");
        assert!(
            refused.json["fields"].get("username").is_some(),
            "{refused:?}"
        );
    }
}

/// A rotated token replaces the old one at once.
async fn rotation(server: &Server, old: &str) {
    let rotated = server
        .call(Method::POST, "/api/token/rotate", Some(old), None)
        .await;
    assert_eq!(rotated.status, StatusCode::OK, "{rotated:?}");
    let new = rotated.json["apiToken"]
        .as_str()
        .expect("apiToken")
        .to_owned();
    assert_ne!(new, old);
    expect(
        &server.get("/api/settings", Some(old)).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );
    let mine = server.get("/api/event-types", Some(&new)).await;
    assert_eq!(mine.status, StatusCode::OK, "{mine:?}");
    expect(
        &server
            .call(Method::POST, "/api/token/rotate", None, None)
            .await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );
}
