//! Malformed and hostile requests over real HTTP: each gets its documented
//! status and code (and names the offending field), none reaches a 500 or a
//! panic, and the service is healthy and correct afterwards.
#![cfg(feature = "sqlite")]

mod common;

use chrono::{Duration, TimeZone, Utc};
use chrono_tz::Europe::Berlin;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use common::{booking_body, iso, local, tomorrow, unique};

/// Who a case authenticates as.
#[derive(Clone, Copy)]
enum Auth {
    None,
    Ada,
    Bob,
    Garbage,
    Raw(&'static str),
}

struct Case {
    name: &'static str,
    method: Method,
    path: String,
    auth: Auth,
    body: Option<Vec<u8>>,
    status: u16,
    code: &'static str,
    field: Option<&'static str>,
}

fn case(
    name: &'static str,
    method: Method,
    path: impl Into<String>,
    body: Option<Vec<u8>>,
) -> Case {
    Case {
        name,
        method,
        path: path.into(),
        auth: Auth::None,
        body,
        status: 0,
        code: "",
        field: None,
    }
}

impl Case {
    fn auth(mut self, auth: Auth) -> Self {
        self.auth = auth;
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

fn json_bytes(value: Value) -> Option<Vec<u8>> {
    Some(serde_json::to_vec(&value).expect("json"))
}

fn raw(text: &str) -> Option<Vec<u8>> {
    Some(text.as_bytes().to_vec())
}

/// `base` with `key` replaced by `value` (or removed when `value` is None).
fn with(base: &Value, key: &str, value: Option<Value>) -> Option<Vec<u8>> {
    let mut body = base.clone();
    let object = body.as_object_mut().expect("object");
    match value {
        Some(value) => object.insert(key.to_owned(), value),
        None => object.remove(key),
    };
    json_bytes(body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bad_input_gets_documented_errors_and_the_service_stays_healthy() {
    let server = common::sqlite_server().await;
    let ada = unique("ada");
    let bob = unique("bob");
    let ada_token = server.register(&ada, "Europe/Berlin").await;
    let bob_token = server.register(&bob, "UTC").await;
    let newbie = unique("newbie");
    server.register(&newbie, "UTC").await;
    server.open_all_week(&ada_token, "Europe/Berlin").await;

    let day = tomorrow(Berlin);
    let nine = local(Berlin, day, 9);
    let good = booking_body(&ada, nine, nine + Duration::hours(1), "Intro");

    // One real booking, with hostile text that must come back verbatim.
    let hostile_title = r#"<script>alert("x")</script>'; DROP TABLE bookings; --"#;
    let hostile_description =
        "Robert'); DELETE FROM organizers;-- <img src=x onerror=alert(1)> \"quoted\" \\ ünïcødé 🎉";
    let mut hostile = booking_body(
        &ada,
        local(Berlin, day, 14),
        local(Berlin, day, 15),
        hostile_title,
    );
    hostile["description"] = json!(hostile_description);
    hostile["attendantName"] = json!("O'Brien <b>bold</b>");
    hostile["metadata"] = json!({"note": "<i>x</i>", "sql": "1 OR 1=1"});
    let created = server.post("/api/bookings", None, hostile.clone()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
    let booking_id = created.json["booking"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let cancel_token = created.json["cancelToken"]
        .as_str()
        .expect("token")
        .to_owned();
    let read = server
        .get(
            &format!("/api/bookings/{booking_id}?cancelToken={cancel_token}"),
            None,
        )
        .await;
    assert_eq!(read.status, StatusCode::OK, "{read:?}");
    assert_eq!(read.json["booking"]["title"], hostile_title);
    assert_eq!(read.json["booking"]["description"], hostile_description);
    assert_eq!(read.json["booking"]["attendantName"], "O'Brien <b>bold</b>");
    assert_eq!(read.json["booking"]["metadata"], hostile["metadata"]);
    assert!(
        read.text.contains(r#"<script>alert(\"x\")</script>"#),
        "quotes escaped by JSON: {read:?}"
    );

    let slots = format!("/api/organizers/{ada}/slots");
    let window = |start: chrono::DateTime<Utc>, days: i64| {
        format!(
            "{slots}?start={}&end={}",
            iso(start),
            iso(start + Duration::days(days))
        )
    };
    let booking_path = format!("/api/bookings/{booking_id}");
    let cancel_path = format!("{booking_path}/cancel");
    let settings = |patch: Value| {
        let mut body = json!({
            "timeZone": "Europe/Berlin",
            "weeklyHours": {"monday": [{"start": "09:00", "end": "17:00"}]},
            "slotMinutes": 30,
            "maxAdvanceDays": 30
        });
        for (key, value) in patch.as_object().expect("patch") {
            body[key] = value.clone();
        }
        json_bytes(body)
    };
    let register = |patch: Value| {
        let mut body = json!({"username": unique("reg"), "email": "r@example.com", "name": "R", "timeZone": "UTC"});
        for (key, value) in patch.as_object().expect("patch") {
            body[key] = value.clone();
        }
        json_bytes(body)
    };
    let book = Method::POST;
    let bookings = "/api/bookings";
    let huge = "x".repeat(10_000);
    let event_type = |patch: Value| {
        let mut body = json!({"slug": "intro", "title": "Intro", "durationMinutes": 30});
        for (key, value) in patch.as_object().expect("patch") {
            body[key] = value.clone();
        }
        json_bytes(body)
    };
    let schedule = |patch: Value| {
        let mut body = json!({"name": "Hours", "weeklyHours": {"monday": [{"start": "09:00", "end": "17:00"}]}});
        for (key, value) in patch.as_object().expect("patch") {
            body[key] = value.clone();
        }
        json_bytes(body)
    };
    let types = "/api/event-types";
    let schedules = "/api/schedules";
    let unknown_ulid = "01ARZ3NDEKTSV4RRFFQ69G5FAV";
    let with_type = |slug: &str| {
        let mut body = good.clone();
        body["eventType"] = json!(slug);
        json_bytes(body)
    };

    let cases = vec![
        // Bodies that are not the JSON expected.
        case(
            "truncated JSON",
            book.clone(),
            bookings,
            raw("{\"organizerUsername\": "),
        )
        .expect(400, "validation_error"),
        case("not JSON at all", book.clone(), bookings, raw("hello"))
            .expect(400, "validation_error"),
        case("empty body", book.clone(), bookings, raw("")).expect(400, "validation_error"),
        case("JSON array", book.clone(), bookings, raw("[1, 2]")).expect(400, "validation_error"),
        case("JSON null", book.clone(), bookings, raw("null")).expect(400, "validation_error"),
        case("trailing garbage", book.clone(), bookings, raw("{} {}"))
            .expect(400, "validation_error"),
        case(
            "invalid UTF-8",
            book.clone(),
            bookings,
            Some(vec![b'{', b'"', 0xff, 0xfe, b'"', b'}']),
        )
        .expect(400, "validation_error"),
        case(
            "number for startTime",
            book.clone(),
            bookings,
            with(&good, "startTime", Some(json!(1_700_000_000))),
        )
        .expect(400, "validation_error")
        .field("startTime"),
        case(
            "object for title",
            book.clone(),
            bookings,
            with(&good, "title", Some(json!({"a": 1}))),
        )
        .expect(400, "validation_error")
        .field("title"),
        case(
            "missing attendantEmail",
            book.clone(),
            bookings,
            with(&good, "attendantEmail", None),
        )
        .expect(400, "validation_error")
        .field("attendantEmail"),
        case(
            "null attendantName",
            book.clone(),
            bookings,
            with(&good, "attendantName", Some(Value::Null)),
        )
        .expect(400, "validation_error")
        .field("attendantName"),
        case(
            "bad email",
            book.clone(),
            bookings,
            with(&good, "attendantEmail", Some(json!("grace@"))),
        )
        .expect(400, "validation_error")
        .field("attendantEmail"),
        case(
            "email with HTML",
            book.clone(),
            bookings,
            with(&good, "attendantEmail", Some(json!("<script>@x.com"))),
        )
        .expect(400, "validation_error")
        .field("attendantEmail"),
        case(
            "startTime not an instant",
            book.clone(),
            bookings,
            with(&good, "startTime", Some(json!("tomorrow at 9"))),
        )
        .expect(400, "validation_error")
        .field("startTime"),
        case(
            "10,000-character name",
            book.clone(),
            bookings,
            with(&good, "attendantName", Some(json!(huge))),
        )
        .expect(400, "validation_error")
        .field("attendantName"),
        case(
            "10,000-character title",
            book.clone(),
            bookings,
            with(&good, "title", Some(json!(huge))),
        )
        .expect(400, "validation_error")
        .field("title"),
        case(
            "NUL in title",
            book.clone(),
            bookings,
            with(&good, "title", Some(json!("a\u{0}b"))),
        )
        .expect(400, "validation_error")
        .field("title"),
        case(
            "metadata not an object",
            book.clone(),
            bookings,
            with(&good, "metadata", Some(json!([1, 2]))),
        )
        .expect(400, "validation_error")
        .field("metadata"),
        case(
            "SQL in organizerUsername",
            book.clone(),
            bookings,
            with(
                &good,
                "organizerUsername",
                Some(json!("ada'; DROP TABLE bookings;--")),
            ),
        )
        .expect(400, "validation_error")
        .field("organizerUsername"),
        case(
            "body over 64 KiB",
            book.clone(),
            bookings,
            with(&good, "description", Some(json!("y".repeat(70_000)))),
        )
        .expect(413, "payload_too_large"),
        // Times.
        case(
            "end before start",
            book.clone(),
            bookings,
            json_bytes(booking_body(&ada, nine, nine - Duration::hours(1), "x")),
        )
        .expect(400, "invalid_time_range"),
        case(
            "end equal to start",
            book.clone(),
            bookings,
            json_bytes(booking_body(&ada, nine, nine, "x")),
        )
        .expect(400, "invalid_time_range"),
        case(
            "start off the slot grid",
            book.clone(),
            bookings,
            json_bytes(booking_body(
                &ada,
                nine + Duration::minutes(7),
                nine + Duration::minutes(67),
                "x",
            )),
        )
        .expect(409, "slot_unavailable"),
        case(
            "wrong length",
            book.clone(),
            bookings,
            json_bytes(booking_body(&ada, nine, nine + Duration::minutes(90), "x")),
        )
        .expect(409, "slot_unavailable"),
        case("far past", book.clone(), bookings, {
            let past = Utc.with_ymd_and_hms(2001, 1, 1, 9, 0, 0).unwrap();
            json_bytes(booking_body(&ada, past, past + Duration::hours(1), "x"))
        })
        .expect(409, "slot_unavailable"),
        case("year 9999", book.clone(), bookings, {
            let far = Utc.with_ymd_and_hms(9999, 6, 1, 9, 0, 0).unwrap();
            json_bytes(booking_body(&ada, far, far + Duration::hours(1), "x"))
        })
        .expect(409, "slot_unavailable"),
        case("beyond max advance", book.clone(), bookings, {
            let later = local(Berlin, day + Duration::days(60), 9);
            json_bytes(booking_body(&ada, later, later + Duration::hours(1), "x"))
        })
        .expect(409, "slot_unavailable"),
        case(
            "slot already taken",
            book.clone(),
            bookings,
            json_bytes(hostile.clone()),
        )
        .expect(409, "slot_unavailable"),
        case(
            "unknown organizer",
            book.clone(),
            bookings,
            with(&good, "organizerUsername", Some(json!("nobody_here"))),
        )
        .expect(404, "organizer_not_found"),
        case(
            "organizer without settings",
            book.clone(),
            bookings,
            with(&good, "organizerUsername", Some(json!(newbie))),
        )
        .expect(409, "settings_not_found"),
        // Registration.
        case(
            "unknown zone",
            Method::POST,
            "/api/organizers",
            register(json!({"timeZone": "Mars/Olympus"})),
        )
        .expect(400, "validation_error")
        .field("timeZone"),
        case(
            "short username",
            Method::POST,
            "/api/organizers",
            register(json!({"username": "ab"})),
        )
        .expect(400, "validation_error")
        .field("username"),
        case(
            "bad organizer email",
            Method::POST,
            "/api/organizers",
            register(json!({"email": "x@y"})),
        )
        .expect(400, "validation_error")
        .field("email"),
        case(
            "taken username",
            Method::POST,
            "/api/organizers",
            register(json!({"username": ada})),
        )
        .expect(409, "username_taken"),
        // Settings.
        case(
            "settings without a token",
            Method::PUT,
            "/api/settings",
            settings(json!({})),
        )
        .expect(401, "unauthorized"),
        case(
            "settings with an unknown token",
            Method::PUT,
            "/api/settings",
            settings(json!({})),
        )
        .auth(Auth::Garbage)
        .expect(401, "unauthorized"),
        case(
            "Basic instead of Bearer",
            Method::PUT,
            "/api/settings",
            settings(json!({})),
        )
        .auth(Auth::Raw("Basic YWRhOnB3"))
        .expect(401, "unauthorized"),
        case(
            "25:00",
            Method::PUT,
            "/api/settings",
            settings(json!({"weeklyHours": {"monday": [{"start": "09:00", "end": "25:00"}]}})),
        )
        .auth(Auth::Bob)
        .expect(400, "validation_error")
        .field("weeklyHours.monday[0].end"),
        case(
            "24:30",
            Method::PUT,
            "/api/settings",
            settings(json!({"weeklyHours": {"friday": [{"start": "09:00", "end": "24:30"}]}})),
        )
        .auth(Auth::Bob)
        .expect(400, "validation_error")
        .field("weeklyHours.friday[0].end"),
        case(
            "end not after start",
            Method::PUT,
            "/api/settings",
            settings(json!({"weeklyHours": {"monday": [{"start": "10:00", "end": "10:00"}]}})),
        )
        .auth(Auth::Bob)
        .expect(400, "validation_error")
        .field("weeklyHours.monday[0].end"),
        case(
            "number for a time",
            Method::PUT,
            "/api/settings",
            settings(json!({"weeklyHours": {"monday": [{"start": 9, "end": "10:00"}]}})),
        )
        .auth(Auth::Bob)
        .expect(400, "validation_error")
        .field("weeklyHours.monday[0].start"),
        case(
            "unknown weekday",
            Method::PUT,
            "/api/settings",
            settings(json!({"weeklyHours": {"funday": []}})),
        )
        .auth(Auth::Bob)
        .expect(400, "validation_error")
        .field("weeklyHours.funday"),
        case(
            "unknown settings zone",
            Method::PUT,
            "/api/settings",
            settings(json!({"timeZone": "Europe/Atlantis"})),
        )
        .auth(Auth::Bob)
        .expect(400, "validation_error")
        .field("timeZone"),
        case(
            "zero slotMinutes",
            Method::PUT,
            "/api/settings",
            settings(json!({"slotMinutes": 0})),
        )
        .auth(Auth::Bob)
        .expect(400, "validation_error")
        .field("slotMinutes"),
        case(
            "string slotMinutes",
            Method::PUT,
            "/api/settings",
            settings(json!({"slotMinutes": "30"})),
        )
        .auth(Auth::Bob)
        .expect(400, "validation_error")
        .field("slotMinutes"),
        case(
            "enormous slotMinutes",
            Method::PUT,
            "/api/settings",
            settings(json!({"slotMinutes": 1_000_000_000_000_000_i64})),
        )
        .auth(Auth::Bob)
        .expect(400, "validation_error")
        .field("slotMinutes"),
        case(
            "negative buffer",
            Method::PUT,
            "/api/settings",
            settings(json!({"bufferAfterMinutes": -5})),
        )
        .auth(Auth::Bob)
        .expect(400, "validation_error")
        .field("bufferAfterMinutes"),
        case(
            "misspelt setting",
            Method::PUT,
            "/api/settings",
            settings(json!({"slotMinute": 30})),
        )
        .auth(Auth::Bob)
        .expect(400, "validation_error")
        .field("slotMinute"),
        case(
            "bad override date",
            Method::PUT,
            "/api/settings",
            settings(json!({"dateOverrides": [{"date": "2026-02-30", "hours": []}]})),
        )
        .auth(Auth::Bob)
        .expect(400, "validation_error")
        .field("dateOverrides[0].date"),
        // Slots.
        case("63-day window", Method::GET, window(Utc::now(), 63), None)
            .expect(400, "validation_error")
            .field("end"),
        case(
            "window end before start",
            Method::GET,
            window(Utc::now(), -1),
            None,
        )
        .expect(400, "invalid_time_range"),
        case(
            "window missing start",
            Method::GET,
            format!("{slots}?end={}", iso(Utc::now())),
            None,
        )
        .expect(400, "validation_error")
        .field("start"),
        case(
            "window start not an instant",
            Method::GET,
            format!("{slots}?start=yesterday&end={}", iso(Utc::now())),
            None,
        )
        .expect(400, "validation_error")
        .field("start"),
        case(
            "slots of an unknown organizer",
            Method::GET,
            format!(
                "/api/organizers/nobody_here/slots?start={}&end={}",
                iso(Utc::now()),
                iso(Utc::now() + Duration::days(1))
            ),
            None,
        )
        .expect(404, "organizer_not_found"),
        // Lists.
        case("list without a token", Method::GET, "/api/bookings", None)
            .expect(401, "unauthorized"),
        case("page 0", Method::GET, "/api/bookings?page=0", None)
            .auth(Auth::Ada)
            .expect(400, "validation_error")
            .field("page"),
        case(
            "page not a number",
            Method::GET,
            "/api/bookings?page=abc",
            None,
        )
        .auth(Auth::Ada)
        .expect(400, "validation_error")
        .field("page"),
        case("negative page", Method::GET, "/api/bookings?page=-1", None)
            .auth(Auth::Ada)
            .expect(400, "validation_error")
            .field("page"),
        case("limit 0", Method::GET, "/api/bookings?limit=0", None)
            .auth(Auth::Ada)
            .expect(400, "validation_error")
            .field("limit"),
        case(
            "bad startDate",
            Method::GET,
            "/api/bookings?startDate=12/24/2026",
            None,
        )
        .auth(Auth::Ada)
        .expect(400, "validation_error")
        .field("startDate"),
        case(
            "endDate before startDate",
            Method::GET,
            "/api/bookings?startDate=2026-12-24&endDate=2026-12-01",
            None,
        )
        .auth(Auth::Ada)
        .expect(400, "validation_error")
        .field("endDate"),
        // One booking.
        case(
            "id that is not a ULID",
            Method::GET,
            "/api/bookings/not-a-ulid",
            None,
        )
        .auth(Auth::Ada)
        .expect(404, "not_found"),
        case(
            "unknown ULID",
            Method::GET,
            "/api/bookings/01ARZ3NDEKTSV4RRFFQ69G5FAV",
            None,
        )
        .auth(Auth::Ada)
        .expect(404, "not_found"),
        case(
            "read without credentials",
            Method::GET,
            booking_path.clone(),
            None,
        )
        .expect(401, "unauthorized"),
        case(
            "read with a wrong cancel token",
            Method::GET,
            format!("{booking_path}?cancelToken=nope"),
            None,
        )
        .expect(403, "permission_denied"),
        case(
            "read with another organizer's token",
            Method::GET,
            booking_path.clone(),
            None,
        )
        .auth(Auth::Bob)
        .expect(403, "permission_denied"),
        case(
            "read with an unknown bearer",
            Method::GET,
            booking_path.clone(),
            None,
        )
        .auth(Auth::Garbage)
        .expect(401, "unauthorized"),
        case(
            "cancel with a wrong token",
            Method::POST,
            cancel_path.clone(),
            json_bytes(json!({"cancelToken": "guess"})),
        )
        .expect(403, "permission_denied"),
        case(
            "cancel with another organizer",
            Method::POST,
            cancel_path.clone(),
            None,
        )
        .auth(Auth::Bob)
        .expect(403, "permission_denied"),
        case(
            "cancel with no credential",
            Method::POST,
            cancel_path.clone(),
            json_bytes(json!({})),
        )
        .expect(401, "unauthorized"),
        case(
            "cancel token of the wrong type",
            Method::POST,
            cancel_path.clone(),
            json_bytes(json!({"cancelToken": 5})),
        )
        .expect(400, "validation_error")
        .field("cancelToken"),
        case(
            "cancel an unknown booking",
            Method::POST,
            "/api/bookings/01ARZ3NDEKTSV4RRFFQ69G5FAV/cancel",
            None,
        )
        .auth(Auth::Ada)
        .expect(404, "not_found"),
        // Event types.
        case("event types without a token", Method::GET, types, None).expect(401, "unauthorized"),
        case("create without a token", Method::POST, types, event_type(json!({})))
            .expect(401, "unauthorized"),
        case("missing slug", Method::POST, types, {
            let mut body = json!({"title": "Intro", "durationMinutes": 30});
            body.as_object_mut().expect("object").remove("slug");
            json_bytes(body)
        })
        .auth(Auth::Bob)
        .expect(400, "validation_error")
        .field("slug"),
        case("bad slug", Method::POST, types, event_type(json!({"slug": "Not A Slug"})))
            .auth(Auth::Bob)
            .expect(400, "validation_error")
            .field("slug"),
        case("65-character slug", Method::POST, types, event_type(json!({"slug": "x".repeat(65)})))
            .auth(Auth::Bob)
            .expect(400, "validation_error")
            .field("slug"),
        case("missing title", Method::POST, types, json_bytes(json!({"slug": "a", "durationMinutes": 30})))
            .auth(Auth::Bob)
            .expect(400, "validation_error")
            .field("title"),
        case("10,000-character event title", Method::POST, types, event_type(json!({"title": huge})))
            .auth(Auth::Bob)
            .expect(400, "validation_error")
            .field("title"),
        case("zero durationMinutes", Method::POST, types, event_type(json!({"durationMinutes": 0})))
            .auth(Auth::Bob)
            .expect(400, "validation_error")
            .field("durationMinutes"),
        case("3-minute meetings", Method::POST, types, event_type(json!({"durationMinutes": 3})))
            .auth(Auth::Bob)
            .expect(400, "validation_error")
            .field("durationMinutes"),
        case("enormous durationMinutes", Method::POST, types, event_type(json!({"durationMinutes": i64::MAX})))
            .auth(Auth::Bob)
            .expect(400, "validation_error")
            .field("durationMinutes"),
        case("string durationMinutes", Method::POST, types, event_type(json!({"durationMinutes": "30"})))
            .auth(Auth::Bob)
            .expect(400, "validation_error")
            .field("durationMinutes"),
        case("options without the default", Method::POST, types, event_type(json!({"durationOptions": [45, 60]})))
            .auth(Auth::Bob)
            .expect(400, "validation_error")
            .field("durationOptions"),
        case("1-minute step", Method::POST, types, event_type(json!({"slotStepMinutes": 1})))
            .auth(Auth::Bob)
            .expect(400, "validation_error")
            .field("slotStepMinutes"),
        case("negative buffer before", Method::POST, types, event_type(json!({"bufferBeforeMinutes": -5})))
            .auth(Auth::Bob)
            .expect(400, "validation_error")
            .field("bufferBeforeMinutes"),
        case("limit per day of 0", Method::POST, types, event_type(json!({"limits": {"perDay": 0}})))
            .auth(Auth::Bob)
            .expect(400, "validation_error")
            .field("limits.perDay"),
        case("negative limit per day", Method::POST, types, event_type(json!({"limits": {"perDay": -1}})))
            .auth(Auth::Bob)
            .expect(400, "validation_error")
            .field("limits.perDay"),
        case("absurd limit per week", Method::POST, types, event_type(json!({"limits": {"perWeek": 1_000_000_000_000_i64}})))
            .auth(Auth::Bob)
            .expect(400, "validation_error")
            .field("limits.perWeek"),
        case("week starting someday", Method::POST, types, event_type(json!({"limits": {"perWeek": 3, "weekStartsOn": "someday"}})))
            .auth(Auth::Bob)
            .expect(400, "validation_error")
            .field("limits.weekStartsOn"),
        case("unknown window kind", Method::POST, types, event_type(json!({"bookingWindow": {"kind": "weekly"}})))
            .auth(Auth::Bob)
            .expect(400, "validation_error")
            .field("bookingWindow.kind"),
        case("window without days", Method::POST, types, event_type(json!({"bookingWindow": {"kind": "rollingDays"}})))
            .auth(Auth::Bob)
            .expect(400, "validation_error")
            .field("bookingWindow.days"),
        case("zero business days", Method::POST, types, event_type(json!({"bookingWindow": {"kind": "rollingBusinessDays", "days": 0}})))
            .auth(Auth::Bob)
            .expect(400, "validation_error")
            .field("bookingWindow"),
        case("range ending before it starts", Method::POST, types, event_type(json!({"bookingWindow": {"kind": "range", "start": "2027-03-01", "end": "2027-01-01"}})))
            .auth(Auth::Bob)
            .expect(400, "validation_error")
            .field("bookingWindow"),
        case("range with a bad date", Method::POST, types, event_type(json!({"bookingWindow": {"kind": "range", "start": "2027-02-30", "end": "2027-03-01"}})))
            .auth(Auth::Bob)
            .expect(400, "validation_error")
            .field("bookingWindow.start"),
        case("javascript video link", Method::POST, types, event_type(json!({"location": {"kind": "video", "url": "javascript:alert(1)"}})))
            .auth(Auth::Bob)
            .expect(400, "validation_error")
            .field("location"),
        case("location without a kind", Method::POST, types, event_type(json!({"location": {"address": "1 Main St"}})))
            .auth(Auth::Bob)
            .expect(400, "validation_error")
            .field("location.kind"),
        case("in person without an address", Method::POST, types, event_type(json!({"location": {"kind": "inPerson"}})))
            .auth(Auth::Bob)
            .expect(400, "validation_error")
            .field("location.address"),
        case("scheduleId not an id", Method::POST, types, event_type(json!({"scheduleId": "nope"})))
            .auth(Auth::Bob)
            .expect(400, "validation_error")
            .field("scheduleId"),
        case("someone else's schedule", Method::POST, types, event_type(json!({"scheduleId": unknown_ulid})))
            .auth(Auth::Bob)
            .expect(400, "validation_error")
            .field("scheduleId"),
        case("16-minute hold", Method::POST, types, event_type(json!({"holdMinutes": 16})))
            .auth(Auth::Bob)
            .expect(400, "validation_error")
            .field("holdMinutes"),
        case("misspelt event type field", Method::POST, types, event_type(json!({"durationMinute": 30})))
            .auth(Auth::Bob)
            .expect(400, "validation_error")
            .field("durationMinute"),
        case("unknown field inside limits", Method::POST, types, event_type(json!({"limits": {"perMonth": 3}})))
            .auth(Auth::Bob)
            .expect(400, "validation_error")
            .field("limits.perMonth"),
        case("body that is a list", Method::POST, types, raw("[1]"))
            .auth(Auth::Bob)
            .expect(400, "validation_error"),
        case("read an unknown slug", Method::GET, format!("{types}/nope"), None)
            .auth(Auth::Bob)
            .expect(404, "event_type_not_found"),
        case("read a malformed slug", Method::GET, format!("{types}/Not%20A%20Slug"), None)
            .auth(Auth::Bob)
            .expect(404, "event_type_not_found"),
        case("replace an unknown slug", Method::PUT, format!("{types}/nope"), event_type(json!({})))
            .auth(Auth::Bob)
            .expect(404, "event_type_not_found"),
        case("delete an unknown slug", Method::DELETE, format!("{types}/nope"), None)
            .auth(Auth::Bob)
            .expect(404, "event_type_not_found"),
        case("event types of an unknown organizer", Method::GET, "/api/organizers/nobody_here/event-types", None)
            .expect(404, "organizer_not_found"),
        // Schedules.
        case("schedules without a token", Method::GET, schedules, None).expect(401, "unauthorized"),
        case("schedule without a name", Method::POST, schedules, json_bytes(json!({"weeklyHours": {}})))
            .auth(Auth::Bob)
            .expect(400, "validation_error")
            .field("name"),
        case("blank schedule name", Method::POST, schedules, schedule(json!({"name": "  "})))
            .auth(Auth::Bob)
            .expect(400, "validation_error")
            .field("name"),
        case("schedule without hours", Method::POST, schedules, json_bytes(json!({"name": "x"})))
            .auth(Auth::Bob)
            .expect(400, "validation_error")
            .field("weeklyHours"),
        case("unknown schedule zone", Method::POST, schedules, schedule(json!({"timeZone": "Mars/Olympus"})))
            .auth(Auth::Bob)
            .expect(400, "validation_error")
            .field("timeZone"),
        case("schedule hours to 25:00", Method::POST, schedules, schedule(json!({"weeklyHours": {"monday": [{"start": "09:00", "end": "25:00"}]}})))
            .auth(Auth::Bob)
            .expect(400, "validation_error")
            .field("weeklyHours.monday[0].end"),
        case("49 intervals on a day", Method::POST, schedules, schedule(json!({"weeklyHours": {"monday": vec![json!({"start": "09:00", "end": "10:00"}); 49]}})))
            .auth(Auth::Bob)
            .expect(400, "validation_error")
            .field("weeklyHours.monday"),
        case("misspelt schedule field", Method::POST, schedules, schedule(json!({"default": true})))
            .auth(Auth::Bob)
            .expect(400, "validation_error")
            .field("default"),
        case("misspelt interval field", Method::POST, schedules, schedule(json!({"weeklyHours": {"monday": [{"start": "09:00", "end": "10:00", "until": "11:00"}]}})))
            .auth(Auth::Bob)
            .expect(400, "validation_error")
            .field("weeklyHours.monday[0].until"),
        case("read an unknown schedule", Method::GET, format!("{schedules}/{unknown_ulid}"), None)
            .auth(Auth::Bob)
            .expect(404, "schedule_not_found"),
        case("read a schedule that is not an id", Method::GET, format!("{schedules}/nope"), None)
            .auth(Auth::Bob)
            .expect(404, "schedule_not_found"),
        case("replace an unknown schedule", Method::PUT, format!("{schedules}/{unknown_ulid}"), schedule(json!({})))
            .auth(Auth::Bob)
            .expect(404, "schedule_not_found"),
        case("delete an unknown schedule", Method::DELETE, format!("{schedules}/{unknown_ulid}"), None)
            .auth(Auth::Bob)
            .expect(404, "schedule_not_found"),
        // Slots and bookings of an event type.
        case("slots of an unknown event type", Method::GET, format!("{}&eventType=nope", window(Utc::now(), 1)), None)
            .expect(404, "event_type_not_found"),
        case("slots of a malformed event type", Method::GET, format!("{}&eventType=Not%20A%20Slug", window(Utc::now(), 1)), None)
            .expect(400, "validation_error")
            .field("eventType"),
        case("a length not offered", Method::GET, format!("{}&duration=45", window(Utc::now(), 1)), None)
            .expect(400, "validation_error")
            .field("duration"),
        case("a length that is not a number", Method::GET, format!("{}&duration=long", window(Utc::now(), 1)), None)
            .expect(400, "validation_error")
            .field("duration"),
        case("booking an unknown event type", book.clone(), bookings, with_type("nope"))
            .expect(404, "event_type_not_found"),
        case("booking a malformed event type", book.clone(), bookings, with_type("Not A Slug"))
            .expect(400, "validation_error")
            .field("eventType"),
        case("durationMinutes not matching the end", book.clone(), bookings, with(&good, "durationMinutes", Some(json!(30))))
            .expect(400, "validation_error")
            .field("durationMinutes"),
        case("durationMinutes as text", book.clone(), bookings, with(&good, "durationMinutes", Some(json!("sixty"))))
            .expect(400, "validation_error")
            .field("durationMinutes"),
        case("booking a length not offered", book.clone(), bookings, {
            let mut body = good.clone();
            body.as_object_mut().expect("object").remove("endTime");
            body["durationMinutes"] = json!(45);
            json_bytes(body)
        })
        .expect(409, "slot_unavailable"),
        // Registration and tokens.
        case("a reserved username", Method::POST, "/api/organizers", register(json!({"username": "dashboard"})))
            .expect(400, "validation_error")
            .field("username"),
        case("a reserved username in capitals", Method::POST, "/api/organizers", register(json!({"username": "Assets"})))
            .expect(400, "validation_error")
            .field("username"),
        case("a taken username in capitals", Method::POST, "/api/organizers", register(json!({"username": ada.to_uppercase()})))
            .expect(409, "username_taken"),
        case("rotate without a token", Method::POST, "/api/token/rotate", None)
            .expect(401, "unauthorized"),
        case("rotate with an unknown token", Method::POST, "/api/token/rotate", None)
            .auth(Auth::Garbage)
            .expect(401, "unauthorized"),
        // Routing.
        case("unknown path", Method::GET, "/api/nothing-here", None).expect(404, "not_found"),
        case("unknown nested path", Method::GET, "/api/event-types/intro/nothing", None)
            .expect(404, "not_found"),
        case("wrong method", Method::DELETE, "/api/bookings", None)
            .expect(405, "method_not_allowed"),
    ];
    assert!(cases.len() >= 130, "{} cases", cases.len());

    let mut failures = Vec::new();
    for case in &cases {
        let bearer = match case.auth {
            Auth::None => None,
            Auth::Ada => Some(format!("Bearer {ada_token}")),
            Auth::Bob => Some(format!("Bearer {bob_token}")),
            Auth::Garbage => Some("Bearer definitely-not-a-token".to_owned()),
            Auth::Raw(header) => Some(header.to_owned()),
        };
        let mut request = server
            .client
            .request(case.method.clone(), server.url(&case.path));
        if let Some(header) = bearer {
            request = request.header("Authorization", header);
        }
        if let Some(body) = &case.body {
            request = request
                .header("Content-Type", "application/json")
                .body(body.clone());
        }
        let response = request.send().await.expect("the service answers");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        let json: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let code = json["code"].as_str().unwrap_or("");
        let has_message = json["error"].as_str().is_some_and(|m| !m.is_empty());
        let field_ok = case
            .field
            .is_none_or(|field| json["fields"].get(field).is_some());
        // Messages are for people: no Rust type names.
        let rust_words = ["struct ", "enum ", "i64", "u32", "Body", "::", "Option<"];
        let plain = rust_words.iter().all(|word| !text.contains(word));
        if status != case.status || code != case.code || !has_message || !field_ok || !plain {
            let shown: String = text.chars().take(300).collect();
            failures.push(format!(
                "{}: expected {} {}{}, got {status} {shown}",
                case.name,
                case.status,
                case.code,
                case.field
                    .map(|f| format!(" (field {f})"))
                    .unwrap_or_default()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );

    // Still healthy, and still correct: the good booking goes through.
    let health = server.get("/healthz", None).await;
    assert_eq!(health.status, StatusCode::OK);
    let booked = server.post("/api/bookings", None, good).await;
    assert_eq!(booked.status, StatusCode::CREATED, "{booked:?}");
    let list = server.get("/api/bookings", Some(&ada_token)).await;
    assert_eq!(list.json["pagination"]["total"], 2, "{list:?}");
}

/// Windows: exactly 62 days is accepted, and one starting in the past too
/// (past slots are simply not offered).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn slot_windows_of_62_days_and_in_the_past_are_accepted() {
    let server = common::sqlite_server().await;
    let ada = unique("ada");
    let token = server.register(&ada, "UTC").await;
    server.open_all_week(&token, "UTC").await;
    let now = Utc::now();
    let start = now - Duration::days(31);
    let slots = server
        .slot_starts(&ada, (start, start + Duration::days(62)))
        .await;
    assert!(!slots.is_empty());
    let first = chrono::DateTime::parse_from_rfc3339(&slots[0]).expect("instant");
    assert!(
        first >= now - Duration::hours(1),
        "no past slots: {}",
        slots[0]
    );
    // An offset with an unencoded `+` (a space once decoded) is read back.
    let local_start = start
        .with_timezone(&Berlin)
        .format("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
        .replace('+', "%2B");
    let reply = server
        .get(
            &format!(
                "/api/organizers/{ada}/slots?start={local_start}&end={}",
                iso(now + Duration::days(1))
            ),
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    let unencoded = start
        .with_timezone(&Berlin)
        .format("%Y-%m-%dT%H:%M:%S%:z")
        .to_string();
    let reply = server
        .get(
            &format!(
                "/api/organizers/{ada}/slots?start={unencoded}&end={}",
                iso(now + Duration::days(1))
            ),
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
}

/// Settings a client relies on: missing weekdays are days off, overlapping,
/// touching and unsorted intervals merge, `24:00` ends a day, and the wide
/// limits are accepted.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn settings_accept_what_clients_send() {
    let server = common::sqlite_server().await;
    let ada = unique("ada");
    let token = server.register(&ada, "UTC").await;
    let reply = server
        .call(
            Method::PUT,
            "/api/settings",
            Some(&token),
            Some(json!({
                "timeZone": "UTC",
                "weeklyHours": {"monday": [{"start": "13:00", "end": "24:00"}, {"start": "09:00", "end": "12:00"},
                                           {"start": "11:00", "end": "13:00"}]},
                "dateOverrides": [{"date": "2026-12-24", "hours": []}],
                "slotMinutes": 60,
                "slotStepMinutes": 30,
                "bufferBeforeMinutes": 0,
                "bufferAfterMinutes": 0,
                "minNoticeMinutes": 525600,
                "maxAdvanceDays": 3650
            })),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(reply.json["minNoticeMinutes"], 525600);
    assert_eq!(reply.json["maxAdvanceDays"], 3650);
    assert_eq!(reply.json["slotStepMinutes"], 30);
    assert_eq!(reply.json["weeklyHours"]["tuesday"], json!([]));
    assert_eq!(
        reply.json["dateOverrides"],
        json!([{"date": "2026-12-24", "hours": []}])
    );

    // A Monday more than a year ahead (past the 525600-minute notice): merged
    // 09:00-24:00 with hourly meetings every 30 minutes = 29 slots.
    let mut monday = Utc::now().date_naive() + Duration::days(400);
    while chrono::Datelike::weekday(&monday) != chrono::Weekday::Mon {
        monday += Duration::days(1);
    }
    let start = monday.and_hms_opt(0, 0, 0).unwrap().and_utc();
    let slots = server
        .slot_starts(&ada, (start, start + Duration::days(1)))
        .await;
    assert_eq!(slots.len(), 29, "{slots:?}");
    assert_eq!(slots[0], iso(start + Duration::hours(9)));
    let tuesday = server
        .slot_starts(&ada, (start + Duration::days(1), start + Duration::days(2)))
        .await;
    assert!(tuesday.is_empty(), "a weekday left out is a day off");
}

/// The one policy for JSON fields an endpoint does not know: bodies that
/// replace configuration refuse them (in the table above); every other body
/// is accepted, as it always was, and the reply names them in
/// `Ignored-Fields`.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn unknown_fields_are_named_in_a_header_where_they_are_accepted() {
    let server = common::sqlite_server().await;
    let ada = unique("ada");
    let token = server.register(&ada, "Europe/Berlin").await;
    server.open_all_week(&token, "Europe/Berlin").await;
    let send = |path: &str, body: Value| {
        let request = server
            .client
            .post(server.url(path))
            .header("Content-Type", "application/json")
            .body(serde_json::to_vec(&body).expect("json"));
        async move { request.send().await.expect("the service answers") }
    };
    let ignored = |response: &reqwest::Response| {
        response
            .headers()
            .get("ignored-fields")
            .map(|value| value.to_str().expect("ASCII").to_owned())
    };

    let nine = local(Berlin, tomorrow(Berlin), 9);
    let mut body = booking_body(&ada, nine, nine + Duration::hours(1), "Intro");
    body["attendeeName"] = json!("Grace");
    body["metadata"] = json!({"anything": {"goes": true}});
    let booked = send("/api/bookings", body).await;
    assert_eq!(booked.status(), StatusCode::CREATED);
    assert_eq!(ignored(&booked).as_deref(), Some("attendeeName"));
    let booked: Value = booked.json().await.expect("json");
    let id = booked["booking"]["id"].as_str().expect("id").to_owned();
    let cancel_token = booked["cancelToken"].as_str().expect("token").to_owned();

    let registered = send(
        "/api/organizers",
        json!({"username": unique("reg"), "email": "r@example.com", "name": "R", "timeZone": "UTC",
               "nickname": "Rr", "préféré": 1}),
    )
    .await;
    assert_eq!(registered.status(), StatusCode::CREATED);
    assert_eq!(
        ignored(&registered).as_deref(),
        Some("nickname, pr%C3%A9f%C3%A9r%C3%A9")
    );

    let cancelled = send(
        &format!("/api/bookings/{id}/cancel"),
        json!({"cancelToken": cancel_token, "reason": "changed my mind"}),
    )
    .await;
    assert_eq!(cancelled.status(), StatusCode::OK);
    assert_eq!(ignored(&cancelled).as_deref(), Some("reason"));

    // Nothing unknown, no header.
    let plain = send(
        "/api/bookings",
        booking_body(&ada, nine, nine + Duration::hours(1), "Again"),
    )
    .await;
    assert_eq!(plain.status(), StatusCode::CREATED);
    assert_eq!(ignored(&plain), None);

    // Where they are refused, nothing changes.
    let before = server.get("/api/settings", Some(&token)).await;
    let refused = server
        .call(
            Method::PUT,
            "/api/settings",
            Some(&token),
            Some(
                json!({"timeZone": "UTC", "weeklyHours": {}, "slotMinutes": 30,
                        "maxAdvanceDays": 10, "slotStepMinute": 15}),
            ),
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{refused:?}");
    assert_eq!(
        refused.json["fields"]["slotStepMinute"],
        "slotStepMinute is not a field of this request; check its spelling"
    );
    let after = server.get("/api/settings", Some(&token)).await;
    assert_eq!(before.json, after.json);
}
