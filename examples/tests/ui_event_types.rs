//! The pages of event types and schedules at the HTTP level: the public
//! list and booking page of each event type, the dashboard's event type and
//! schedule management, and the end of sessions (sign out everywhere, a
//! rotated API token).

mod ui_support;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use booking_core::{Credential, EventTypeDraft, Location};
use chrono::Duration;
use ui_support::pages::{app, get, hidden_value, post, send, session, signed_in, signed_in_from};
use ui_support::{dec, fixture, slot_value};

/// Ada's second event type: 30 or 60 minutes, in person.
fn consultation() -> EventTypeDraft {
    EventTypeDraft {
        description: Some("Bring <your> questions.".into()),
        duration_options: vec![Duration::minutes(30), Duration::minutes(60)],
        location: Some(Location::InPerson {
            address: "1 Main St, <Springfield>".into(),
        }),
        ..EventTypeDraft::new("consult", "Consultation <b>", Duration::minutes(30))
    }
}

#[tokio::test]
async fn one_event_type_is_its_own_page_and_several_are_listed() {
    let fixture = fixture().await;
    let app = app(&fixture);
    // One event type: /ada is its booking page.
    let single = get(&app, "/ada?tz=America%2FNew_York", None).await;
    assert_eq!(single.status, StatusCode::OK);
    single.assert_contains("Book a meeting with Ada Lovelace");
    single.assert_contains(r#"<p class="event-title" id="event-title">Meeting</p>"#);
    single.assert_contains(r#"name="eventType" value="default""#);
    single.assert_contains("60-minute meetings.");
    single.assert_lacks(r#"id="lengths""#);

    fixture
        .service
        .create_event_type(fixture.organizer.id, consultation())
        .await
        .unwrap();
    // Several: the list, each linking to its page.
    let list = get(&app, "/ada?tz=Asia%2FTokyo", None).await;
    assert_eq!(list.status, StatusCode::OK);
    list.assert_contains(r#"<ul class="event-types" id="event-types">"#);
    list.assert_contains(r#"href="/ada/default?tz=Asia%2FTokyo">Meeting</a>"#);
    list.assert_contains(r#"href="/ada/consult?tz=Asia%2FTokyo">Consultation &lt;b&gt;</a>"#);
    list.assert_contains("30 or 60 minutes");
    list.assert_contains(
        "In person: <span class=\"location-detail\">1 Main St, &lt;Springfield&gt;</span>",
    );
    list.assert_lacks("booking-form");

    // One event type's page: its title, description, place and lengths.
    let page = get(
        &app,
        "/ada/consult?tz=America%2FNew_York&date=2026-12-02",
        None,
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    page.assert_contains("Book a meeting with Ada Lovelace");
    page.assert_contains(r#"id="event-title">Consultation &lt;b&gt;</p>"#);
    page.assert_contains("Bring &lt;your&gt; questions.");
    page.assert_contains(r#"id="event-location">In person: "#);
    page.assert_contains("Meetings of 30 or 60 minutes.");
    page.assert_contains(r#"id="length-30" href="/ada/consult?tz=America%2FNew_York&amp;date=2026-12-02&amp;duration=30" aria-current="true">30 min</a>"#);
    let half_hours: Vec<String> = ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30"]
        .iter()
        .map(|time| format!("<span>{time}</span>"))
        .collect();
    for time in &half_hours {
        page.assert_contains(time);
    }
    page.assert_contains(
        r#"<form id="booking-form" method="post" action="/ada/consult" novalidate>"#,
    );
    let hours = get(
        &app,
        "/ada/consult?tz=America%2FNew_York&date=2026-12-02&duration=60",
        None,
    )
    .await;
    hours.assert_contains(r#"id="length-60" href="/ada/consult?tz=America%2FNew_York&amp;date=2026-12-02&amp;duration=60" aria-current="true">"#);
    hours.assert_contains(&slot_value(dec(2, 15, 0)));
    hours.assert_lacks("<span>09:30</span>");
    hours.assert_contains(r#"name="duration" value="60""#);

    // Booking the 60-minute length of that event type.
    let slot = slot_value(dec(2, 15, 0));
    let booked = post(
        &app,
        "/ada/consult",
        &[
            ("tz", "America/New_York"),
            ("date", "2026-12-02"),
            ("eventType", "consult"),
            ("duration", "60"),
            ("slot", &slot),
            ("name", "Grace Hopper"),
            ("email", "grace@example.com"),
            ("title", "Consultation"),
            ("notes", ""),
        ],
        None,
    )
    .await;
    assert_eq!(booked.status, StatusCode::SEE_OTHER, "{}", booked.shown());
    let confirmation = get(&app, booked.location(), None).await;
    confirmation.assert_contains(r#"<dd id="booking-location">In person: <span class="location-detail">1 Main St, &lt;Springfield&gt;</span></dd>"#);
    let (id, token) = booked
        .location()
        .trim_start_matches("/bookings/")
        .split_once("?token=")
        .unwrap();
    let token = token.split('&').next().unwrap();
    let stored = fixture
        .service
        .get_booking(id.parse().unwrap(), &Credential::cancel_token(token))
        .await
        .unwrap();
    assert_eq!(stored.event_type_slug.as_str(), "consult");
    assert_eq!(stored.time.duration(), Duration::minutes(60));
    // Busy time is the organizer's: the other event type lost that hour.
    let other = get(
        &app,
        "/ada/default?tz=America%2FNew_York&date=2026-12-02",
        None,
    )
    .await;
    other.assert_lacks(&slot);
    other.assert_contains(&slot_value(dec(2, 14, 0)));

    // A hidden or unknown event type has no page; one left is /ada again.
    let hidden = EventTypeDraft {
        active: false,
        ..consultation()
    };
    fixture
        .service
        .update_event_type(fixture.organizer.id, "consult", hidden)
        .await
        .unwrap();
    let gone = get(&app, "/ada/consult", None).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    gone.assert_contains("Ada Lovelace offers nothing to book at this address.");
    assert_eq!(
        get(&app, "/ada/nope", None).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&app, "/ada/Not%20A%20Slug", None).await.status,
        StatusCode::NOT_FOUND
    );
    get(&app, "/ada", None)
        .await
        .assert_contains(r#"id="event-title">Meeting</p>"#);
}

#[tokio::test]
async fn the_dashboard_creates_edits_hides_and_deletes_event_types() {
    let fixture = fixture().await;
    let app = app(&fixture);
    let me = signed_in_from(&app, &fixture).await;
    let list = get(&app, "/dashboard/event-types", Some(&me.cookie)).await;
    assert_eq!(list.status, StatusCode::OK);
    list.assert_contains(r#"<tr data-slug="default">"#);
    list.assert_contains(r#"href="/ada/default""#);
    assert_eq!(
        get(&app, "/dashboard/event-types", None).await.status,
        StatusCode::SEE_OTHER,
        "signed in only"
    );
    let new = get(&app, "/dashboard/event-types/new", Some(&me.cookie)).await;
    new.assert_contains(r#"<form class="card event-type-form" id="event-type-form" method="post" action="/dashboard/event-types/new" novalidate>"#);
    new.assert_contains(r#"<option value="" selected>The default schedule</option>"#);

    let form = |pairs: &[(&'static str, &'static str)]| -> Vec<(&'static str, String)> {
        let mut all: Vec<(&'static str, String)> = vec![
            ("csrf", me.csrf.clone()),
            ("title", "Intro call".into()),
            ("slug", "intro".into()),
            ("description", "".into()),
            ("durationMinutes", "30".into()),
            ("durationOptions", "60".into()),
            ("slotStepMinutes", "".into()),
            ("bufferBeforeMinutes", "0".into()),
            ("bufferAfterMinutes", "10".into()),
            ("minNoticeMinutes", "0".into()),
            ("windowKind", "rollingBusinessDays".into()),
            ("windowDays", "10".into()),
            ("windowStart", "".into()),
            ("windowEnd", "".into()),
            ("limits.perDay", "3".into()),
            ("limits.perWeek", "".into()),
            ("weekStartsOn", "sunday".into()),
            ("holdMinutes", "0".into()),
            ("locationKind", "video".into()),
            ("location", "https://meet.example.com/ada".into()),
            ("scheduleId", "".into()),
            ("active", "on".into()),
        ];
        for (name, value) in pairs {
            match all.iter_mut().find(|(n, _)| n == name) {
                Some(pair) => pair.1 = (*value).to_owned(),
                None => all.push((name, (*value).to_owned())),
            }
        }
        all
    };
    let submit = |uri: &'static str, pairs: Vec<(&'static str, String)>| {
        let app = app.clone();
        let cookie = me.cookie.clone();
        async move {
            let borrowed: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
            post(&app, uri, &borrowed, Some(&cookie)).await
        }
    };

    // Without the form's token nothing is created.
    let forged = submit("/dashboard/event-types/new", form(&[("csrf", "00")])).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    // Mistakes come back next to their fields, the rest kept.
    let refused = submit(
        "/dashboard/event-types/new",
        form(&[
            ("slug", "Not A Slug"),
            ("limits.perDay", "0"),
            ("locationKind", "video"),
            ("location", "javascript:alert(1)"),
        ]),
    )
    .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.shown()
    );
    refused.assert_contains(
        r#"id="error-slug" role="alert">&quot;Not A Slug&quot; is not a valid slug"#,
    );
    refused.assert_contains(
        r#"id="error-limits.perDay" role="alert">A limit must be between 1 and 1000</p>"#,
    );
    refused.assert_contains(
        r#"id="error-location" role="alert">A video link must be an http or https URL</p>"#,
    );
    refused.assert_contains(r#"value="Intro call""#);
    let unreadable = submit(
        "/dashboard/event-types/new",
        form(&[("durationMinutes", "half an hour")]),
    )
    .await;
    assert_eq!(unreadable.status, StatusCode::UNPROCESSABLE_ENTITY);
    unreadable
        .assert_contains(r#"id="error-durationMinutes" role="alert">Enter a whole number.</p>"#);

    let created = submit("/dashboard/event-types/new", form(&[])).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.shown());
    assert_eq!(created.location(), "/dashboard/event-types?notice=created");
    let intro = fixture.service.event_type("ada", "intro").await.unwrap();
    assert_eq!(intro.title, "Intro call");
    assert_eq!(
        intro.durations(),
        [Duration::minutes(30), Duration::minutes(60)]
    );
    assert_eq!(intro.buffer_after, Duration::minutes(10));
    assert_eq!(
        intro.booking_window,
        booking_core::BookingWindow::RollingBusinessDays { days: 10 }
    );
    assert_eq!(intro.limits.per_day, Some(3));
    assert_eq!(intro.limits.week_starts_on, chrono::Weekday::Sun);
    assert_eq!(intro.hold_duration, Duration::zero());
    assert_eq!(
        intro.location,
        Some(Location::Video {
            url: "https://meet.example.com/ada".into()
        })
    );
    let twice = submit("/dashboard/event-types/new", form(&[])).await;
    assert_eq!(twice.status, StatusCode::CONFLICT);
    twice.assert_contains("You already have an event type at “intro”");

    let listed = get(
        &app,
        "/dashboard/event-types?notice=created",
        Some(&me.cookie),
    )
    .await;
    listed.assert_contains("Event type created.");
    listed.assert_contains(
        r#"<a class="event-type-title" href="/dashboard/event-types/intro/edit">Intro call</a>"#,
    );
    listed.assert_contains(r#"href="https://meet.example.com/ada""#);
    let edit = get(&app, "/dashboard/event-types/intro/edit", Some(&me.cookie)).await;
    edit.assert_contains(r#"id="durationOptions" name="durationOptions" type="text" value="60""#);
    edit.assert_contains(r#"value="rollingBusinessDays" checked>"#);
    edit.assert_contains(r#"<option value="sunday" selected>Sunday</option>"#);

    // Renamed on save.
    let saved = submit(
        "/dashboard/event-types/intro/edit",
        form(&[("slug", "intro-call"), ("title", "Introduction")]),
    )
    .await;
    assert_eq!(saved.location(), "/dashboard/event-types?notice=saved");
    assert!(fixture.service.event_type("ada", "intro").await.is_err());
    assert_eq!(
        fixture
            .service
            .event_type("ada", "intro-call")
            .await
            .unwrap()
            .title,
        "Introduction"
    );
    // Hidden and shown again.
    let hide = submit(
        "/dashboard/event-types/intro-call/active",
        vec![("csrf", me.csrf.clone()), ("active", "off".into())],
    )
    .await;
    assert_eq!(hide.location(), "/dashboard/event-types?notice=deactivated");
    assert!(
        !fixture
            .service
            .event_type("ada", "intro-call")
            .await
            .unwrap()
            .active
    );
    get(&app, "/dashboard/event-types", Some(&me.cookie))
        .await
        .assert_contains("Hidden");
    assert_eq!(
        get(&app, "/ada/intro-call", None).await.status,
        StatusCode::NOT_FOUND
    );
    let show = submit(
        "/dashboard/event-types/intro-call/active",
        vec![("csrf", me.csrf.clone()), ("active", "on".into())],
    )
    .await;
    assert_eq!(show.location(), "/dashboard/event-types?notice=activated");
    assert_eq!(
        get(&app, "/ada/intro-call", None).await.status,
        StatusCode::OK
    );
    // Deleted.
    let deleted = submit(
        "/dashboard/event-types/intro-call/delete",
        vec![("csrf", me.csrf.clone())],
    )
    .await;
    assert_eq!(deleted.location(), "/dashboard/event-types?notice=deleted");
    assert!(
        fixture
            .service
            .event_type("ada", "intro-call")
            .await
            .is_err()
    );
    let missing = get(
        &app,
        "/dashboard/event-types/intro-call/edit",
        Some(&me.cookie),
    )
    .await;
    assert_eq!(
        missing.location(),
        "/dashboard/event-types?notice=not_found"
    );

    // The booking list names each booking's event type and place.
    let place = EventTypeDraft {
        location: Some(Location::Phone {
            number: "+1 555 0100".into(),
        }),
        ..fixture
            .service
            .event_type("ada", "default")
            .await
            .unwrap()
            .to_draft()
    };
    fixture
        .service
        .update_event_type("ada", "default", place)
        .await
        .unwrap();
    fixture.book(dec(2, 15, 0), "Intro").await;
    let home = get(&app, "/dashboard", Some(&me.cookie)).await;
    home.assert_contains(r#"<span class="booking-type muted">Meeting · Phone call: <span class="location-detail">+1 555 0100</span></span>"#);
}

#[tokio::test]
async fn the_dashboard_creates_edits_and_deletes_schedules() {
    let fixture = fixture().await;
    let app = app(&fixture);
    let me = signed_in_from(&app, &fixture).await;
    let list = get(&app, "/dashboard/schedules", Some(&me.cookie)).await;
    assert_eq!(list.status, StatusCode::OK);
    list.assert_contains(
        r#"Working hours</a> <span class="badge" id="default-badge">Default</span>"#,
    );
    list.assert_contains("America/New_York");
    list.assert_contains("Meeting");
    let submit = |uri: String, pairs: Vec<(&'static str, &'static str)>| {
        let app = app.clone();
        let cookie = me.cookie.clone();
        let csrf = me.csrf.clone();
        async move {
            let mut all: Vec<(&str, &str)> = vec![("csrf", csrf.as_str())];
            all.extend(pairs);
            post(&app, &uri, &all, Some(&cookie)).await
        }
    };
    let evenings = vec![
        ("name", "Evenings"),
        ("timeZone", "Europe/London"),
        ("monday-open", "on"),
        ("monday-start", "18:00"),
        ("monday-end", "21:00"),
    ];

    // The hours editor works here too: an Add button saves nothing.
    let mut adding = evenings.clone();
    adding.push(("action", "add:monday"));
    let added = submit("/dashboard/schedules/new".into(), adding).await;
    assert_eq!(added.status, StatusCode::OK);
    added.assert_contains("Not saved yet: press Save schedule when you are done.");
    added.assert_contains(r#"id="monday-start-1" name="monday-start" value="21:00""#);
    assert_eq!(fixture.service.schedules("ada").await.unwrap().len(), 1);
    let blank = submit(
        "/dashboard/schedules/new".into(),
        vec![("name", " "), ("timeZone", "UTC"), ("action", "save")],
    )
    .await;
    assert_eq!(blank.status, StatusCode::UNPROCESSABLE_ENTITY);
    blank.assert_contains(r#"id="error-name" role="alert">Name is required</p>"#);

    let mut saving = evenings.clone();
    saving.push(("action", "save"));
    let created = submit("/dashboard/schedules/new".into(), saving).await;
    assert_eq!(
        created.location(),
        "/dashboard/schedules?notice=created",
        "{}",
        created.shown()
    );
    let schedules = fixture.service.schedules("ada").await.unwrap();
    let evening = schedules
        .iter()
        .find(|s| s.name == "Evenings")
        .unwrap()
        .clone();
    assert_eq!(evening.time_zone, chrono_tz::Europe::London);
    assert!(!evening.is_default);
    assert_eq!(evening.weekly_hours.monday[0].to_string(), "18:00-21:00");
    let edit = get(
        &app,
        &format!("/dashboard/schedules/{}/edit", evening.id),
        Some(&me.cookie),
    )
    .await;
    edit.assert_contains(r#"id="monday-start-0" name="monday-start" value="18:00""#);

    // In use by an event type: not deleted, and the page says by which.
    let late = EventTypeDraft {
        schedule_id: Some(evening.id),
        ..EventTypeDraft::new("late", "Late call", Duration::minutes(30))
    };
    fixture
        .service
        .create_event_type("ada", late)
        .await
        .unwrap();
    let refused = submit(
        format!("/dashboard/schedules/{}/delete", evening.id),
        vec![],
    )
    .await;
    assert_eq!(
        refused.location(),
        "/dashboard/schedules?notice=in_use&slug=Late%20call"
    );
    get(&app, refused.location(), Some(&me.cookie))
        .await
        .assert_contains("That schedule is used by the event type “Late call”");
    // The default cannot go either, until another is made default.
    let working = schedules.iter().find(|s| s.is_default).unwrap().clone();
    let refused = submit(
        format!("/dashboard/schedules/{}/delete", working.id),
        vec![],
    )
    .await;
    assert_eq!(refused.location(), "/dashboard/schedules?notice=is_default");
    let made = submit(
        format!("/dashboard/schedules/{}/default", evening.id),
        vec![],
    )
    .await;
    assert_eq!(made.location(), "/dashboard/schedules?notice=default");
    assert!(
        fixture
            .service
            .schedule("ada", evening.id)
            .await
            .unwrap()
            .is_default
    );
    let deleted = submit(
        format!("/dashboard/schedules/{}/delete", working.id),
        vec![],
    )
    .await;
    assert_eq!(deleted.location(), "/dashboard/schedules?notice=deleted");
    assert_eq!(fixture.service.schedules("ada").await.unwrap().len(), 1);
    // Editing with another name saves it.
    let renamed = submit(
        format!("/dashboard/schedules/{}/edit", evening.id),
        vec![
            ("name", "Late hours"),
            ("timeZone", "Europe/London"),
            ("tuesday-open", "on"),
            ("tuesday-start", "19:00"),
            ("tuesday-end", "22:00"),
            ("action", "save"),
        ],
    )
    .await;
    assert_eq!(renamed.location(), "/dashboard/schedules?notice=saved");
    let stored = fixture.service.schedule("ada", evening.id).await.unwrap();
    assert_eq!(stored.name, "Late hours");
    assert!(stored.weekly_hours.monday.is_empty());
    assert!(stored.is_default, "the default stays the default");
}

#[tokio::test]
async fn signing_out_everywhere_and_rotating_the_token_end_every_session() {
    let fixture = fixture().await;
    let app = app(&fixture);
    let first = signed_in_from(&app, &fixture).await;
    let second = signed_in(&app, session(&fixture).await).await;
    for cookie in [&first.cookie, &second.cookie] {
        get(&app, "/dashboard", Some(cookie))
            .await
            .assert_contains("Bookings for");
    }
    let forged = post(
        &app,
        "/dashboard/logout-everywhere",
        &[("csrf", "00")],
        Some(&first.cookie),
    )
    .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let everywhere = post(
        &app,
        "/dashboard/logout-everywhere",
        &[("csrf", &first.csrf)],
        Some(&first.cookie),
    )
    .await;
    assert_eq!(everywhere.status, StatusCode::SEE_OTHER);
    assert_eq!(
        everywhere.location(),
        "/dashboard?notice=signed_out_everywhere"
    );
    assert!(everywhere.set_cookie().contains("Max-Age=0"));
    for cookie in [&first.cookie, &second.cookie] {
        let after = get(&app, "/dashboard", Some(cookie)).await;
        after.assert_contains("Your sign-in is no longer valid.");
        after.assert_lacks("Bookings for");
    }
    get(&app, everywhere.location(), None)
        .await
        .assert_contains("You are signed out in every browser.");

    // A rotated API token ends the sessions started with the old one.
    let whole: Router = booking_examples::router(fixture.service.clone());
    let third = signed_in(&whole, session(&fixture).await).await;
    let request = Request::post("/api/token/rotate")
        .header(
            header::AUTHORIZATION,
            format!("Bearer {}", fixture.api_token),
        )
        .body(Body::empty())
        .unwrap();
    let rotated = send(&whole, request).await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.body);
    let new_token: serde_json::Value = serde_json::from_str(&rotated.body).unwrap();
    let new_token = new_token["apiToken"].as_str().unwrap().to_owned();
    get(&whole, "/dashboard", Some(&third.cookie))
        .await
        .assert_contains("Your sign-in is no longer valid.");
    // The old token signs nobody in; the new one does.
    let page = get(&whole, "/dashboard", None).await;
    let pre_session = ui_support::pages::cookie_pair(&page);
    let csrf = hidden_value(&page.body, "csrf").unwrap();
    let old = post(
        &whole,
        "/dashboard/login",
        &[("token", &fixture.api_token), ("csrf", &csrf)],
        Some(&pre_session),
    )
    .await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
    let new = post(
        &whole,
        "/dashboard/login",
        &[("token", &new_token), ("csrf", &csrf)],
        Some(&pre_session),
    )
    .await;
    assert_eq!(new.status, StatusCode::SEE_OTHER);
}
