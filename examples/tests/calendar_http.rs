//! Calendars over HTTP against real servers on loopback: a booking's
//! `.ics` (stable UID, rising SEQUENCE, REQUEST then CANCEL), the
//! organizer's feed and its token, connected calendars (an ICS feed served
//! here; a CalDAV URL that cannot be read) blocking slots or refusing
//! bookings, and invitation emails through aiosmtpd, also across a
//! `kill -9` of the `booking-service` binary.

use booking_core::chrono::Duration;
use booking_core::queue::JobStatus;
use booking_core::{Credential, OrganizerId, RescheduleRequest, TimeRange};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

mod common;
mod integrations_support;

use integrations_support::{
    FeedServer, Harness, Program, Radicale, SECRET_KEY, Smtp, eventually, free_port, harness,
    ics_value, organizer, parse_mail, tomorrow_at, unfold,
};

/// `GET path` with an optional bearer: status, content type, body.
async fn fetch(h: &Harness, path: &str, bearer: Option<&str>) -> (StatusCode, String, String) {
    let mut request = h.server.client.get(h.server.url(path));
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("answers");
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, content_type, response.text().await.expect("body"))
}

fn utc_stamp(at: booking_core::chrono::DateTime<booking_core::chrono::Utc>) -> String {
    at.format("%Y%m%dT%H%M%SZ").to_string()
}

#[tokio::test]
async fn a_booking_is_one_calendar_entry_from_request_to_cancel() {
    let h = harness(&[]).await;
    let (username, token) = organizer(&h.server).await;
    let start = tomorrow_at(10);
    let booked = h.server.book(&username, start, "Design review").await;
    assert_eq!(booked.status, StatusCode::CREATED, "{booked:?}");
    let id = booked.json["booking"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let cancel_token = booked.json["cancelToken"]
        .as_str()
        .expect("token")
        .to_owned();
    let by_token = format!("/api/bookings/{id}/ics?cancelToken={cancel_token}");

    let (status, content_type, ics) = fetch(&h, &by_token, None).await;
    assert_eq!(status, StatusCode::OK, "{ics}");
    assert!(content_type.starts_with("text/calendar"), "{content_type}");
    assert!(content_type.contains("method=REQUEST"), "{content_type}");
    let ics = unfold(&ics);
    let uid = format!("{id}@127.0.0.1");
    assert_eq!(ics.matches("BEGIN:VEVENT").count(), 1, "{ics}");
    assert_eq!(ics_value(&ics, "METHOD"), "REQUEST");
    assert_eq!(ics_value(&ics, "STATUS"), "CONFIRMED");
    assert_eq!(ics_value(&ics, "UID"), uid);
    assert_eq!(ics_value(&ics, "SEQUENCE"), "0");
    assert_eq!(ics_value(&ics, "SUMMARY"), "Design review");
    assert_eq!(ics_value(&ics, "DTSTART"), utc_stamp(start));
    assert_eq!(
        ics_value(&ics, "DTEND"),
        utc_stamp(start + Duration::hours(1))
    );
    assert!(
        ics_value(&ics, "ATTENDEE").contains("grace@example.com"),
        "{ics}"
    );
    assert!(
        ics_value(&ics, "ORGANIZER").contains(&format!("{username}@example.com")),
        "{ics}"
    );
    assert!(
        ics.contains(&format!("/bookings/{id}/cancel?token={cancel_token}")),
        "the cancel link: {ics}"
    );
    // The organizer gets the same entry.
    let (status, _, by_bearer) = fetch(&h, &format!("/api/bookings/{id}/ics"), Some(&token)).await;
    assert_eq!(status, StatusCode::OK, "{by_bearer}");
    assert_eq!(ics_value(&unfold(&by_bearer), "UID"), uid);
    // The confirmation page offers it.
    let page = h
        .server
        .get(&format!("/bookings/{id}?token={cancel_token}"), None)
        .await;
    assert!(page.text.contains("Add to calendar"), "{page:?}");
    assert!(
        page.text.contains(&format!(
            "/api/bookings/{id}/ics?cancelToken={cancel_token}"
        )),
        "{page:?}"
    );

    // Nobody else.
    let (_, other) = organizer(&h.server).await;
    for (path, bearer, expected) in [
        (
            format!("/api/bookings/{id}/ics"),
            Some(other.as_str()),
            StatusCode::FORBIDDEN,
        ),
        (
            format!("/api/bookings/{id}/ics?cancelToken=wrong"),
            None,
            StatusCode::FORBIDDEN,
        ),
        (
            format!("/api/bookings/{id}/ics"),
            None,
            StatusCode::UNAUTHORIZED,
        ),
        (
            format!("/api/bookings/{id}/ics"),
            Some("not-a-token"),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "/api/bookings/nope/ics?cancelToken=x".to_owned(),
            None,
            StatusCode::NOT_FOUND,
        ),
        (
            "/api/bookings/01ARZ3NDEKTSV4RRFFQ69G5FAV/ics?cancelToken=x".to_owned(),
            None,
            StatusCode::NOT_FOUND,
        ),
    ] {
        let (status, content_type, body) = fetch(&h, &path, bearer).await;
        assert_eq!(status, expected, "{path}: {body}");
        assert!(
            content_type.starts_with("application/json"),
            "{path}: {content_type}"
        );
        assert!(!body.contains("BEGIN:VCALENDAR"));
    }

    // Moved: the same UID, a higher SEQUENCE, the new time.
    let moved = TimeRange::starting_at(tomorrow_at(15), Duration::hours(1)).expect("range");
    h.app
        .service
        .reschedule(
            RescheduleRequest::new(id.parse().expect("id"), moved),
            &Credential::cancel_token(cancel_token.clone()),
        )
        .await
        .expect("moved");
    let (_, _, ics) = fetch(&h, &by_token, None).await;
    let ics = unfold(&ics);
    assert_eq!(ics_value(&ics, "UID"), uid);
    assert_eq!(ics_value(&ics, "SEQUENCE"), "1");
    assert_eq!(ics_value(&ics, "DTSTART"), utc_stamp(moved.start()));

    // Cancelled: CANCEL, the same UID, a higher SEQUENCE still.
    let cancelled = h
        .server
        .post(
            &format!("/api/bookings/{id}/cancel"),
            None,
            json!({"cancelToken": cancel_token}),
        )
        .await;
    assert_eq!(cancelled.status, StatusCode::OK, "{cancelled:?}");
    let (status, content_type, ics) = fetch(&h, &by_token, None).await;
    assert_eq!(status, StatusCode::OK, "{ics}");
    assert!(content_type.contains("method=CANCEL"), "{content_type}");
    let ics = unfold(&ics);
    assert_eq!(ics_value(&ics, "METHOD"), "CANCEL");
    assert_eq!(ics_value(&ics, "STATUS"), "CANCELLED");
    assert_eq!(ics_value(&ics, "UID"), uid);
    assert_eq!(ics_value(&ics, "SEQUENCE"), "2");
}

/// The path and query of a feed URL (the service's public URL is
/// `http://127.0.0.1:0` here: it listens on an ephemeral port).
fn path_of(url: &str) -> String {
    let at = url.find("/api/").expect("an API path");
    url[at..].to_owned()
}

#[tokio::test]
async fn the_feed_needs_the_secret_key_and_its_own_rotatable_token() {
    let keyless = harness(&[]).await;
    let (_, token) = organizer(&keyless.server).await;
    let reply = keyless.server.get("/api/feed-token", Some(&token)).await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{reply:?}");
    assert_eq!(reply.code(), "secret_key_missing");

    let h = harness(&[("BOOKING_SECRET_KEY", SECRET_KEY)]).await;
    let (username, token) = organizer(&h.server).await;
    let reply = h.server.get("/api/feed-token", None).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{reply:?}");
    let first = h.server.get("/api/feed-token", Some(&token)).await;
    assert_eq!(first.status, StatusCode::OK, "{first:?}");
    let feed_token = first.json["token"].as_str().expect("token").to_owned();
    assert_ne!(feed_token, token, "not the API token");
    let url = first.json["url"].as_str().expect("url").to_owned();
    assert!(url.ends_with(&format!(
        "/api/organizers/{username}/calendar.ics?token={feed_token}"
    )));
    let again = h.server.get("/api/feed-token", Some(&token)).await;
    assert_eq!(
        again.json["token"],
        feed_token.as_str(),
        "shown again, unchanged"
    );

    let kept = h.server.book(&username, tomorrow_at(9), "Kept").await;
    let gone = h.server.book(&username, tomorrow_at(11), "Gone").await;
    let kept_id = kept.json["booking"]["id"].as_str().expect("id").to_owned();
    let gone_id = gone.json["booking"]["id"].as_str().expect("id").to_owned();
    let cancelled = h
        .server
        .post(
            &format!("/api/bookings/{gone_id}/cancel"),
            Some(&token),
            json!({}),
        )
        .await;
    assert_eq!(cancelled.status, StatusCode::OK, "{cancelled:?}");

    let (status, content_type, feed) = fetch(&h, &path_of(&url), None).await;
    assert_eq!(status, StatusCode::OK, "{feed}");
    assert!(content_type.starts_with("text/calendar"), "{content_type}");
    let feed = unfold(&feed);
    assert_eq!(ics_value(&feed, "METHOD"), "PUBLISH");
    assert_eq!(feed.matches("BEGIN:VEVENT").count(), 2, "{feed}");
    assert!(feed.contains(&format!("UID:{kept_id}@127.0.0.1")), "{feed}");
    let gone_event = feed
        .split("BEGIN:VEVENT")
        .find(|event| event.contains(&format!("UID:{gone_id}@")))
        .expect("the cancelled booking stays in the feed");
    assert!(gone_event.contains("STATUS:CANCELLED"), "{gone_event}");

    // Only its own token opens it, and only for its own organizer.
    let (other_name, other_token) = organizer(&h.server).await;
    let other_feed = h.server.get("/api/feed-token", Some(&other_token)).await;
    let other_feed_token = other_feed.json["token"].as_str().expect("token").to_owned();
    for path in [
        format!("/api/organizers/{username}/calendar.ics"),
        format!("/api/organizers/{username}/calendar.ics?token=wrong"),
        format!("/api/organizers/{username}/calendar.ics?token={token}"),
        format!("/api/organizers/{username}/calendar.ics?token={other_feed_token}"),
        format!("/api/organizers/{other_name}/calendar.ics?token={feed_token}"),
        format!("/api/organizers/nobody_here/calendar.ics?token={feed_token}"),
    ] {
        let (status, _, body) = fetch(&h, &path, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}: {body}");
        assert!(!body.contains("BEGIN:VCALENDAR"));
    }

    let rotated = h
        .server
        .call(Method::POST, "/api/feed-token", Some(&token), None)
        .await;
    assert_eq!(rotated.status, StatusCode::OK, "{rotated:?}");
    let new_url = rotated.json["url"].as_str().expect("url").to_owned();
    assert_ne!(rotated.json["token"], feed_token.as_str());
    let (status, _, _) = fetch(&h, &path_of(&url), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the old token is dead");
    let (status, _, _) = fetch(&h, &path_of(&new_url), None).await;
    assert_eq!(status, StatusCode::OK);
}

/// A calendar of `events` (iCalendar text of VEVENTs).
fn calendar_of(events: &[String]) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//booking tests//EN\r\n{}END:VCALENDAR\r\n",
        events.concat()
    )
}

/// One event on `day` (`YYYYMMDD`) from `from` to `to` o'clock UTC.
fn event(uid: &str, day: &str, (from, to): (u32, u32), transparent: bool) -> String {
    let transp = if transparent {
        "TRANSP:TRANSPARENT\r\n"
    } else {
        ""
    };
    format!(
        "BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20260101T000000Z\r\n\
         DTSTART:{day}T{from:02}0000Z\r\nDTEND:{day}T{to:02}0000Z\r\n{transp}\
         SUMMARY:{uid}\r\nEND:VEVENT\r\n"
    )
}

/// Busy 10:00-11:00 on `day`; a transparent event 13:00-14:00.
fn busy_feed(day: &str) -> String {
    calendar_of(&[
        event("busy@tests", day, (10, 11), false),
        event("free@tests", day, (13, 14), true),
    ])
}

#[tokio::test]
async fn connected_calendars_block_slots_and_an_unreadable_one_refuses_bookings() {
    let h = harness(&[("BOOKING_SECRET_KEY", SECRET_KEY)]).await;
    let (username, token) = organizer(&h.server).await;
    let feeds = FeedServer::start().await;
    let day = common::tomorrow(chrono_tz::UTC)
        .format("%Y%m%d")
        .to_string();
    let url = feeds.put("work.ics", &busy_feed(&day));

    let connected = h
        .server
        .post(
            "/api/calendars",
            Some(&token),
            json!({"kind": "ics", "url": url, "name": "Work"}),
        )
        .await;
    assert_eq!(connected.status, StatusCode::CREATED, "{connected:?}");
    assert_eq!(connected.json["kind"], "ics");
    assert_eq!(connected.json["name"], "Work");
    assert_eq!(connected.json["url"], url.as_str());

    let window = common::whole_day(chrono_tz::UTC, common::tomorrow(chrono_tz::UTC));
    let starts = h.server.slot_starts(&username, window).await;
    assert!(
        !starts.contains(&common::iso(tomorrow_at(10))),
        "busy: {starts:?}"
    );
    assert!(
        starts.contains(&common::iso(tomorrow_at(13))),
        "transparent: {starts:?}"
    );
    assert!(starts.contains(&common::iso(tomorrow_at(9))), "{starts:?}");
    let refused = h
        .server
        .book(&username, tomorrow_at(10), "Over the dentist")
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{refused:?}");
    assert_eq!(refused.code(), "slot_unavailable");

    // Every calendar fresh: the slot reply has no `staleCalendars`.
    let fresh = h
        .server
        .get(
            &format!(
                "/api/organizers/{username}/slots?start={}&end={}",
                common::iso(window.0),
                common::iso(window.1)
            ),
            None,
        )
        .await;
    assert_eq!(fresh.status, StatusCode::OK, "{fresh:?}");
    assert!(fresh.json.get("staleCalendars").is_none(), "{fresh:?}");

    // A CalDAV calendar: the password is stored encrypted and never shown.
    let password = "correct horse battery staple";
    let dead_url = format!("http://127.0.0.1:{}/calendars/ada/work/", free_port());
    let caldav = h
        .server
        .post(
            "/api/calendars",
            Some(&token),
            json!({"kind": "caldav", "url": dead_url, "username": "ada", "password": password}),
        )
        .await;
    assert_eq!(caldav.status, StatusCode::CREATED, "{caldav:?}");
    assert_eq!(caldav.json["username"], "ada");
    assert!(!caldav.text.contains(password), "{caldav:?}");
    let caldav_id = caldav.json["id"].as_str().expect("id").to_owned();
    let listed = h.server.get("/api/calendars", Some(&token)).await;
    assert_eq!(listed.status, StatusCode::OK, "{listed:?}");
    assert_eq!(listed.json["calendars"].as_array().map(Vec::len), Some(2));
    assert!(!listed.text.contains(password) && !listed.text.contains("password"));

    // It cannot be read: slot lists go on and name it as stale, bookings
    // are refused with 503.
    let slots_path = format!(
        "/api/organizers/{username}/slots?start={}&end={}",
        common::iso(window.0),
        common::iso(window.1)
    );
    let listed_slots = h.server.get(&slots_path, None).await;
    assert_eq!(listed_slots.status, StatusCode::OK, "{listed_slots:?}");
    assert_eq!(
        listed_slots.json["staleCalendars"],
        json!([caldav.json["name"].clone()]),
        "{listed_slots:?}"
    );
    let starts = h.server.slot_starts(&username, window).await;
    assert!(starts.contains(&common::iso(tomorrow_at(15))), "{starts:?}");
    let refused = h.server.book(&username, tomorrow_at(15), "Unseen").await;
    assert_eq!(
        refused.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{refused:?}"
    );
    assert_eq!(refused.code(), "calendar_unavailable");

    let deleted = h
        .server
        .call(
            Method::DELETE,
            &format!("/api/calendars/{caldav_id}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{deleted:?}");
    let booked = h.server.book(&username, tomorrow_at(15), "Seen").await;
    assert_eq!(booked.status, StatusCode::CREATED, "{booked:?}");
    let again = h
        .server
        .call(
            Method::DELETE,
            &format!("/api/calendars/{caldav_id}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND, "{again:?}");
    let listed = h.server.get("/api/calendars", Some(&token)).await;
    assert_eq!(listed.json["calendars"].as_array().map(Vec::len), Some(1));
}

/// A CalDAV calendar on a real server (Radicale, basic authentication)
/// connected through the API: its events block slots, so the password
/// stored encrypted was read back and used.
#[tokio::test]
async fn a_caldav_calendar_on_radicale_blocks_its_events() {
    let (user, password) = ("ada", "s3cret-radicale");
    let radicale = Radicale::start(user, password);
    let made = radicale
        .request("MKCOL", &format!("/{user}/"), (user, password), None)
        .await;
    assert!(made == 201 || made == 405, "MKCOL: {made}");
    let collection = format!("/{user}/work/");
    assert_eq!(
        radicale
            .request("MKCALENDAR", &collection, (user, password), None)
            .await,
        201
    );
    let day = common::tomorrow(chrono_tz::UTC)
        .format("%Y%m%d")
        .to_string();
    for (name, uid, hours, transparent) in [
        ("busy.ics", "busy@tests", (10, 11), false),
        ("free.ics", "free@tests", (13, 14), true),
    ] {
        let body = calendar_of(&[event(uid, &day, hours, transparent)]);
        let path = format!("{collection}{name}");
        let status = radicale
            .request("PUT", &path, (user, password), Some(body))
            .await;
        assert_eq!(status, 201, "PUT {name}");
    }

    let h = harness(&[("BOOKING_SECRET_KEY", SECRET_KEY)]).await;
    let (username, token) = organizer(&h.server).await;
    let url = format!("http://127.0.0.1:{}{collection}", radicale.port);
    let connected = h
        .server
        .post(
            "/api/calendars",
            Some(&token),
            json!({"kind": "caldav", "url": url, "username": user, "password": password, "name": "Work"}),
        )
        .await;
    assert_eq!(connected.status, StatusCode::CREATED, "{connected:?}");
    assert!(!connected.text.contains(password));
    let window = common::whole_day(chrono_tz::UTC, common::tomorrow(chrono_tz::UTC));
    let starts = h.server.slot_starts(&username, window).await;
    assert!(
        !starts.contains(&common::iso(tomorrow_at(10))),
        "busy: {starts:?}"
    );
    assert!(
        starts.contains(&common::iso(tomorrow_at(13))),
        "transparent: {starts:?}"
    );
    let refused = h.server.book(&username, tomorrow_at(10), "Over it").await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{refused:?}");
    assert_eq!(refused.code(), "slot_unavailable");
    let booked = h
        .server
        .book(&username, tomorrow_at(11), "Next to it")
        .await;
    assert_eq!(booked.status, StatusCode::CREATED, "{booked:?}");
}

#[tokio::test]
async fn calendar_connections_refuse_bad_input_naming_the_field() {
    let keyless = harness(&[("BOOKING_ALLOW_PRIVATE_URLS", "0")]).await;
    let (_, token) = organizer(&keyless.server).await;
    let long = format!("https://calendar.example.com/{}", "a".repeat(10_000));
    let cases: Vec<(Value, &str)> = vec![
        (json!({"url": "https://calendar.example.com/a.ics"}), "kind"),
        (
            json!({"kind": "exchange", "url": "https://calendar.example.com/a.ics"}),
            "kind",
        ),
        (json!({"kind": "ics"}), "url"),
        (
            json!({"kind": "ics", "url": "ftp://calendar.example.com/a.ics"}),
            "url",
        ),
        (
            json!({"kind": "ics", "url": "http://127.0.0.1:5232/a.ics"}),
            "url",
        ),
        (
            json!({"kind": "ics", "url": "http://169.254.169.254/latest"}),
            "url",
        ),
        (json!({"kind": "ics", "url": long}), "url"),
        (json!({"kind": "ics", "url": 5}), "url"),
        (
            json!({"kind": "ics", "url": "https://calendar.example.com/a.ics", "password": "x"}),
            "password",
        ),
        (
            json!({"kind": "caldav", "url": "https://dav.example.com/c/", "password": "x"}),
            "username",
        ),
        (
            json!({"kind": "caldav", "url": "https://dav.example.com/c/", "username": "ada"}),
            "password",
        ),
        (
            json!({"kind": "ics", "url": "https://calendar.example.com/a.ics", "name": "a\u{7}b"}),
            "name",
        ),
    ];
    for (body, field) in cases {
        let reply = keyless
            .server
            .post("/api/calendars", Some(&token), body.clone())
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}: {reply:?}");
        assert_eq!(reply.code(), "validation_error", "{body}");
        assert!(reply.json["fields"][field].is_string(), "{body}: {reply:?}");
    }
    // Without the server key a password cannot be kept.
    let reply = keyless
        .server
        .post(
            "/api/calendars",
            Some(&token),
            json!({"kind": "caldav", "url": "https://dav.example.com/c/", "username": "ada", "password": "pw"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{reply:?}");
    assert_eq!(reply.code(), "secret_key_missing");
    let reply = keyless
        .server
        .post(
            "/api/calendars",
            None,
            json!({"kind": "ics", "url": "https://calendar.example.com/a.ics"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{reply:?}");
    // Someone else's calendar is not found.
    let mine = keyless
        .server
        .post(
            "/api/calendars",
            Some(&token),
            json!({"kind": "ics", "url": "https://calendar.example.com/a.ics"}),
        )
        .await;
    assert_eq!(mine.status, StatusCode::CREATED, "{mine:?}");
    assert_eq!(mine.json["name"], "calendar.example.com");
    let id = mine.json["id"].as_str().expect("id").to_owned();
    let (_, other) = organizer(&keyless.server).await;
    let reply = keyless
        .server
        .call(
            Method::DELETE,
            &format!("/api/calendars/{id}"),
            Some(&other),
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{reply:?}");
    let listed = keyless.server.get("/api/calendars", Some(&other)).await;
    assert_eq!(listed.json["calendars"], json!([]));
}

/// Emails of one recipient, by their iCalendar SEQUENCE.
fn sequences(mails: &[integrations_support::Mail], to: &str) -> Vec<(u32, String, String)> {
    let mut found: Vec<(u32, String, String)> = mails
        .iter()
        .filter(|mail| mail.to.iter().any(|address| address == to))
        .map(|mail| {
            assert_eq!(mail.content_method, mail.ics_value("METHOD"), "{mail:?}");
            (
                mail.ics_value("SEQUENCE").parse().expect("a sequence"),
                mail.ics_value("METHOD"),
                mail.ics_value("UID"),
            )
        })
        .collect();
    found.sort();
    found
}

#[tokio::test]
async fn invitations_are_emailed_on_create_reschedule_and_cancel() {
    let smtp = Smtp::new(true);
    let h = harness(&[("SMTP_URL", &smtp.url())]).await;
    let (username, _token) = organizer(&h.server).await;
    let booked = h.server.book(&username, tomorrow_at(10), "Planning").await;
    assert_eq!(booked.status, StatusCode::CREATED, "{booked:?}");
    let id = booked.json["booking"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let cancel_token = booked.json["cancelToken"]
        .as_str()
        .expect("token")
        .to_owned();
    eventually("two invitations", || async { smtp.received().len() == 2 }).await;
    let moved = TimeRange::starting_at(tomorrow_at(12), Duration::hours(1)).expect("range");
    h.app
        .service
        .reschedule(
            RescheduleRequest::new(id.parse().expect("id"), moved),
            &Credential::cancel_token(cancel_token.clone()),
        )
        .await
        .expect("moved");
    eventually("two updates", || async { smtp.received().len() == 4 }).await;
    let cancelled = h
        .server
        .post(
            &format!("/api/bookings/{id}/cancel"),
            None,
            json!({"cancelToken": cancel_token}),
        )
        .await;
    assert_eq!(cancelled.status, StatusCode::OK, "{cancelled:?}");
    eventually("two cancellations", || async { smtp.received().len() == 6 }).await;

    let mails: Vec<_> = smtp.received().iter().map(|raw| parse_mail(raw)).collect();
    let uid = format!("{id}@127.0.0.1");
    for to in [
        "grace@example.com".to_owned(),
        format!("{username}@example.com"),
    ] {
        let got = sequences(&mails, &to);
        assert_eq!(
            got,
            vec![
                (0, "REQUEST".to_owned(), uid.clone()),
                (1, "REQUEST".to_owned(), uid.clone()),
                (2, "CANCEL".to_owned(), uid.clone()),
            ],
            "{to}"
        );
    }
    assert!(
        mails
            .iter()
            .any(|m| m.subject.starts_with("Invitation: Planning"))
    );
    assert!(
        mails
            .iter()
            .any(|m| m.subject.starts_with("Cancelled: Planning"))
    );
    assert!(mails.iter().all(|m| !m.text.contains(&cancel_token)));
}

#[tokio::test]
async fn kill_9_before_the_mail_is_sent_then_it_arrives_once() {
    let mut smtp = Smtp::new(false);
    let dir = tempfile::tempdir().expect("temp dir");
    let database = format!("sqlite://{}", dir.path().join("booking.db").display());
    let env = vec![("DATABASE_URL", database.clone()), ("SMTP_URL", smtp.url())];
    let addr: std::net::SocketAddr = ([127, 0, 0, 1], free_port()).into();
    let program = Program::start(addr, &env).await;
    let client = reqwest::Client::new();
    let base = program.base();
    let username = common::unique("mail");
    let registered: Value = client
        .post(format!("{base}/api/organizers"))
        .json(&json!({"username": username, "email": format!("{username}@example.com"), "name": "Mail", "timeZone": "UTC"}))
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("json");
    let token = registered["apiToken"].as_str().expect("token").to_owned();
    let organizer_id: OrganizerId = registered["organizer"]["id"]
        .as_str()
        .expect("id")
        .parse()
        .expect("an organizer id");
    let day = json!([{"start": "00:00", "end": "24:00"}]);
    let status = client
        .put(format!("{base}/api/settings"))
        .bearer_auth(&token)
        .json(&json!({
            "timeZone": "UTC",
            "weeklyHours": {"monday": day, "tuesday": day, "wednesday": day, "thursday": day,
                            "friday": day, "saturday": day, "sunday": day},
            "dateOverrides": [], "slotMinutes": 60, "bufferBeforeMinutes": 0,
            "bufferAfterMinutes": 0, "minNoticeMinutes": 0, "maxAdvanceDays": 30
        }))
        .send()
        .await
        .expect("answers")
        .status();
    assert_eq!(status, StatusCode::OK);
    // The mail server is down: nothing can be sent before the kill.
    let booked = client
        .post(format!("{base}/api/bookings"))
        .json(&common::booking_body(
            &username,
            tomorrow_at(10),
            tomorrow_at(11),
            "Durable",
        ))
        .send()
        .await
        .expect("answers");
    assert_eq!(booked.status(), StatusCode::CREATED);
    program.kill_9();

    smtp.start();
    let _program = Program::start(addr, &env).await;
    eventually("both invitations after the restart", || async {
        smtp.received().len() >= 2
    })
    .await;
    // Every email job is finished, so nothing else will be sent.
    let config = booking_examples::Config::from_lookup(|name| {
        env.iter().find(|(k, _)| *k == name).map(|(_, v)| v.clone())
    })
    .expect("config");
    let (app, _) = booking_examples::build(&config).await.expect("a handle");
    eventually("the email jobs are done", || async {
        let jobs = app
            .integrations
            .store
            .jobs(organizer_id, "email", None, 10)
            .await
            .expect("jobs");
        jobs.len() == 2 && jobs.iter().all(|job| job.status == JobStatus::Done)
    })
    .await;
    let mails: Vec<_> = smtp.received().iter().map(|raw| parse_mail(raw)).collect();
    assert_eq!(mails.len(), 2, "once each: {mails:?}");
    let mut to: Vec<String> = mails.iter().flat_map(|m| m.to.clone()).collect();
    to.sort();
    assert_eq!(
        to,
        [
            "grace@example.com".to_owned(),
            format!("{username}@example.com")
        ]
    );
    assert!(mails.iter().all(|m| m.ics_value("METHOD") == "REQUEST"));
}
