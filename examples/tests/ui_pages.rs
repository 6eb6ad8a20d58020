//! The web pages at the HTTP level: what each page shows, where errors
//! appear, escaping, the session cookie and the security headers. The
//! browser tests (`ui_browser.rs`) drive the same pages in Chromium.

mod common;
mod ui_support;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use booking_core::service::{Credential, ListQuery};
use booking_examples::ui::{CookieSecurity, UiOptions};
use ui_support::pages::{
    app, cookie_pair, cookie_value, get, hidden_value, post, post_owned, send, session, session_of,
    signed_in, signed_in_from,
};
use ui_support::{Fixture, dec, encode, fixture, form_body, slot_value};

/// How many of the fixture organizer's bookings are active.
async fn active_bookings(fixture: &Fixture) -> u64 {
    fixture
        .service
        .list_bookings(fixture.organizer.id, ListQuery::default())
        .await
        .unwrap()
        .total
}

/// The form a visitor in Tokyo sends for the slot starting at `start`.
fn booking_form<'a>(slot: &'a str, title: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("tz", "Asia/Tokyo"),
        ("date", "2026-12-03"),
        ("slot", slot),
        ("name", "Grace Hopper"),
        ("email", "grace@example.com"),
        ("title", title),
        ("notes", ""),
    ]
}

#[tokio::test]
async fn the_booking_page_shows_the_days_slots_in_the_visitors_zone() {
    let fixture = fixture().await;
    let app = app(&fixture);
    let page = get(&app, "/ada?tz=Asia%2FTokyo&date=2026-12-03", None).await;
    assert_eq!(page.status, StatusCode::OK);
    page.assert_contains("Book a meeting with Ada Lovelace");
    page.assert_contains(r#"<option value="Asia/Tokyo" selected>Asia/Tokyo</option>"#);
    page.assert_contains(r#"<h2 id="day-heading">Thu 3 Dec 2026</h2>"#);
    // New York's Wednesday 10:00 and 11:00 are Tokyo's Thursday 00:00 and
    // 01:00; New York's Thursday 09:00 is Tokyo's Thursday 23:00.
    for (start, label) in [
        (dec(2, 15, 0), "00:00"),
        (dec(2, 16, 0), "01:00"),
        (dec(3, 14, 0), "23:00"),
    ] {
        page.assert_contains(&format!(
            r#"value="{}" required><span>{label}</span>"#,
            slot_value(start)
        ));
    }
    page.assert_lacks(&slot_value(dec(2, 14, 0)));
    // The calendar links every day with free slots and marks the chosen one.
    page.assert_contains(r#"data-date="2026-12-03" aria-label="Thu 3 Dec 2026: 3 free times" aria-current="date">3</a>"#);
    page.assert_contains(r#"<span class="day" data-date="2026-12-06" aria-label="Sun 6 Dec 2026: no free times">6</span>"#);
    // Nothing asks the browser for its zone: the visitor chose one.
    page.assert_lacks("detect-time-zone");
}

#[tokio::test]
async fn without_a_zone_the_page_asks_the_browser_and_shows_the_organizers() {
    let fixture = fixture().await;
    let app = app(&fixture);
    let page = get(&app, "/ada", None).await;
    assert_eq!(page.status, StatusCode::OK);
    page.assert_contains(r#"<meta name="detect-time-zone" content="tz">"#);
    page.assert_contains(r#"<option value="America/New_York" selected>"#);
    // The first day with free slots is chosen: today, Tuesday 1 December.
    page.assert_contains(r#"<h2 id="day-heading">Tue 1 Dec 2026</h2>"#);
    page.assert_contains("<span>09:00</span>");

    let unknown = get(&app, "/ada?tz=Mars%2FOlympus", None).await;
    assert_eq!(unknown.status, StatusCode::OK);
    unknown.assert_contains("The time zone “Mars/Olympus” is not known here; times are shown in America/New_York instead.");
}

#[tokio::test]
async fn months_can_be_browsed_up_to_the_advance_limit() {
    let fixture = fixture().await;
    let app = app(&fixture);
    let december = get(&app, "/ada?tz=UTC", None).await;
    december.assert_contains(r#"<h2 id="month-name">December 2026</h2>"#);
    december.assert_contains(r#"href="/ada?tz=UTC&amp;month=2027-01""#);
    december.assert_lacks("previous-month");
    // 60 days ahead of 1 December ends on 30 January: February is not offered.
    let january = get(&app, "/ada?tz=UTC&month=2027-01", None).await;
    january.assert_contains(r#"<h2 id="month-name">January 2027</h2>"#);
    january.assert_contains(r#"id="previous-month""#);
    january.assert_lacks(r#"id="next-month""#);
    january.assert_contains(r#"data-date="2027-01-29" aria-label="Fri 29 Jan 2027: 3 free times""#);
}

#[tokio::test]
async fn unknown_and_unready_organizers_get_a_plain_page() {
    let fixture = fixture().await;
    let app = app(&fixture);
    let missing = get(&app, "/nobody", None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    missing.assert_contains("There is no booking page at this address.");

    fixture
        .service
        .register_organizer(booking_core::organizer::NewOrganizer {
            username: "newbie".into(),
            email: "new@example.com".into(),
            display_name: "New <b>Bie</b>".into(),
            time_zone: chrono_tz::Europe::Paris,
        })
        .await
        .unwrap();
    let unready = get(&app, "/newbie", None).await;
    assert_eq!(unready.status, StatusCode::OK);
    unready
        .assert_contains("New &lt;b&gt;Bie&lt;/b&gt; has not published their available hours yet.");
}

#[tokio::test]
async fn booking_leads_to_a_confirmation_in_both_zones_with_a_cancel_link() {
    let fixture = fixture().await;
    let app = app(&fixture);
    let slot = slot_value(dec(2, 15, 0));
    let title = "<script>alert(1)</script>";
    let mut form = booking_form(&slot, title);
    form[6] = ("notes", "Bring \"the\" <notes> & more");
    let booked = post(&app, "/ada", &form, None).await;
    assert_eq!(booked.status, StatusCode::SEE_OTHER, "{}", booked.body);
    let location = booked.location().to_owned();
    assert!(location.starts_with("/bookings/"), "{location}");
    assert!(location.ends_with("&tz=Asia%2FTokyo"), "{location}");

    let confirmation = get(&app, &location, None).await;
    assert_eq!(confirmation.status, StatusCode::OK);
    confirmation.assert_contains("Booking confirmed");
    confirmation
        .assert_contains(r#"<span class="muted" id="visitor-zone">Asia/Tokyo (UTC+09:00)</span>"#);
    confirmation.assert_contains(
        r#"<dd id="visitor-time">Thu 3 Dec 2026, 00:00 – 01:00 (Asia/Tokyo)</dd>"#,
    );
    confirmation.assert_contains(
        r#"<span class="muted" id="organizer-zone">America/New_York (UTC-05:00)</span>"#,
    );
    confirmation.assert_contains(
        r#"<dd id="organizer-time">Wed 2 Dec 2026, 10:00 – 11:00 (America/New_York)</dd>"#,
    );
    confirmation.assert_contains("&lt;script&gt;alert(1)&lt;/script&gt;");
    confirmation.assert_lacks(title);
    confirmation.assert_contains("Bring &quot;the&quot; &lt;notes&gt; &amp; more");

    let (id, token) = location
        .trim_start_matches("/bookings/")
        .split_once("?token=")
        .unwrap();
    let token = token.trim_end_matches("&tz=Asia%2FTokyo");
    confirmation.assert_contains(&format!(r#"href="/bookings/{id}/cancel?token={token}""#));

    // The booking exists, and its slot is no longer offered.
    let stored = fixture
        .service
        .get_booking(id.parse().unwrap(), &Credential::CancelToken(token.into()))
        .await
        .unwrap();
    assert_eq!(stored.title, title);
    assert_eq!(
        stored.description.as_deref(),
        Some("Bring \"the\" <notes> & more")
    );
    let day = get(&app, "/ada?tz=Asia%2FTokyo&date=2026-12-03", None).await;
    day.assert_lacks(&slot);

    // A wrong token shows nothing of the booking.
    let wrong = get(&app, &format!("/bookings/{id}?token=00"), None).await;
    assert_eq!(wrong.status, StatusCode::NOT_FOUND);
    wrong.assert_lacks("alert(1)");
}

#[tokio::test]
async fn field_errors_appear_next_to_their_fields_with_the_typed_values_kept() {
    let fixture = fixture().await;
    let app = app(&fixture);
    let form = vec![
        ("tz", "Asia/Tokyo"),
        ("date", "2026-12-03"),
        ("name", "\"Grace\" <b>"),
        ("email", "not-an-email"),
        ("title", "   "),
        ("notes", "</textarea><script>x</script>"),
    ];
    let page = post(&app, "/ada", &form, None).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    page.assert_contains(
        r#"<p class="field-error" id="slot-error" role="alert">Please pick a time.</p>"#,
    );
    page.assert_contains(r#"id="error-email" role="alert""#);
    page.assert_contains(
        r#"<p class="field-error" id="error-title" role="alert">Meeting title is required</p>"#,
    );
    page.assert_lacks(r#"id="error-name""#);
    page.assert_contains(r#"value="&quot;Grace&quot; &lt;b&gt;""#);
    page.assert_contains("&lt;/textarea&gt;&lt;script&gt;x&lt;/script&gt;</textarea>");
    page.assert_contains(r#"aria-invalid="true" aria-describedby="error-email""#);
    // The same day is shown again with its slots.
    page.assert_contains(r#"<h2 id="day-heading">Thu 3 Dec 2026</h2>"#);
    page.assert_contains(&slot_value(dec(2, 15, 0)));

    // A chosen slot is kept when another field is wrong.
    let slot = slot_value(dec(2, 16, 0));
    let mut form = booking_form(&slot, "Intro");
    form[4] = ("email", "nope");
    let page = post(&app, "/ada", &form, None).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    page.assert_contains(&format!(r#"value="{slot}" checked required>"#));
}

#[tokio::test]
async fn a_slot_taken_meanwhile_says_so_and_the_day_is_refreshed() {
    let fixture = fixture().await;
    let app = app(&fixture);
    let slot = slot_value(dec(2, 15, 0));
    // The visitor loaded the day while the slot was free ...
    get(&app, "/ada?tz=Asia%2FTokyo&date=2026-12-03", None)
        .await
        .assert_contains(&slot);
    // ... someone else books it ...
    fixture.book(dec(2, 15, 0), "Faster").await;
    // ... and the visitor's submission is refused next to the slot list.
    let page = post(&app, "/ada", &booking_form(&slot, "Intro"), None).await;
    assert_eq!(page.status, StatusCode::CONFLICT);
    page.assert_contains("Sorry, that time was just booked by someone else. The times below are up to date; please pick another one.");
    page.assert_lacks(&slot);
    page.assert_contains(&slot_value(dec(2, 16, 0)));
    page.assert_contains(r#"value="Grace Hopper""#);

    // A time that is not a slot at all.
    let off_grid = slot_value(dec(2, 15, 30));
    let page = post(&app, "/ada", &booking_form(&off_grid, "Intro"), None).await;
    assert_eq!(page.status, StatusCode::CONFLICT);
    page.assert_contains("That time is no longer offered.");
    // Garbage instead of a time.
    let page = post(
        &app,
        "/ada",
        &booking_form("yesterday/today", "Intro"),
        None,
    )
    .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    page.assert_contains("That time could not be read. Please pick one of the times shown.");
}

#[tokio::test]
async fn the_cancel_link_opens_a_page_whose_button_cancels() {
    let fixture = fixture().await;
    let app = app(&fixture);
    let created = fixture.book(dec(2, 15, 0), "<i>Intro</i>").await;
    let id = created.booking.id;
    let token = created.cancel_token.expose();

    let page = get(&app, &format!("/bookings/{id}/cancel?token={token}"), None).await;
    assert_eq!(page.status, StatusCode::OK);
    page.assert_contains("&lt;i&gt;Intro&lt;/i&gt;");
    page.assert_contains(
        r#"<dd id="organizer-time">Wed 2 Dec 2026, 10:00 – 11:00 (America/New_York)</dd>"#,
    );
    page.assert_contains(&format!(r#"<form method="post" action="/bookings/{id}/cancel"><input type="hidden" name="token" value="{token}">"#));

    let wrong = get(&app, &format!("/bookings/{id}/cancel?token=nope"), None).await;
    assert_eq!(wrong.status, StatusCode::NOT_FOUND);
    let refused = post(
        &app,
        &format!("/bookings/{id}/cancel"),
        &[("token", "nope")],
        None,
    )
    .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);

    let done = post(
        &app,
        &format!("/bookings/{id}/cancel"),
        &[("token", token)],
        None,
    )
    .await;
    assert_eq!(done.status, StatusCode::OK);
    done.assert_contains("Your booking is cancelled");
    done.assert_contains("“&lt;i&gt;Intro&lt;/i&gt;” with Ada Lovelace on Wed 2 Dec 2026, 10:00 – 11:00 (America/New_York) is cancelled.");

    let again = post(
        &app,
        &format!("/bookings/{id}/cancel"),
        &[("token", token)],
        None,
    )
    .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    again.assert_contains("This booking was already cancelled on Tue 1 Dec 2026, 08:00 (UTC).");
    // The page behind the link now says it is gone, and the slot is free again.
    let gone = get(&app, &format!("/bookings/{id}/cancel?token={token}"), None).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    get(&app, "/ada?tz=Asia%2FTokyo&date=2026-12-03", None)
        .await
        .assert_contains(&slot_value(dec(2, 15, 0)));
}

#[tokio::test]
async fn signing_in_keeps_the_token_in_a_strict_http_only_cookie() {
    let fixture = fixture().await;
    let app = app(&fixture);
    let anonymous = get(&app, "/dashboard", None).await;
    assert_eq!(anonymous.status, StatusCode::OK);
    anonymous.assert_contains(r#"<form id="login-form" method="post" action="/dashboard/login""#);
    // The visitor gets a pre-session cookie, and the form a token bound to it.
    let pre_session = cookie_pair(&anonymous);
    assert!(
        pre_session.starts_with("booking_presession="),
        "{pre_session}"
    );
    assert!(
        anonymous
            .set_cookie()
            .ends_with("; HttpOnly; SameSite=Lax; Path=/"),
        "{}",
        anonymous.set_cookie()
    );
    let csrf = hidden_value(&anonymous.body, "csrf").unwrap();
    // The same browser keeps its value on the next visit.
    let again = get(&app, "/dashboard", Some(&pre_session)).await;
    assert_eq!(again.set_cookie(), "");
    assert_eq!(hidden_value(&again.body, "csrf").unwrap(), csrf);

    let empty = post(
        &app,
        "/dashboard/login",
        &[("token", " "), ("csrf", &csrf)],
        Some(&pre_session),
    )
    .await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    empty.assert_contains(
        r#"<p class="field-error" id="error-token" role="alert">Please paste your API token.</p>"#,
    );
    let wrong = post(
        &app,
        "/dashboard/login",
        &[("token", "0123"), ("csrf", &csrf)],
        Some(&pre_session),
    )
    .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    wrong.assert_contains("That token is not valid.");
    assert_eq!(wrong.set_cookie(), "");

    let token = fixture.api_token.clone();
    let login = [("token", format!(" {token}\n")), ("csrf", csrf.clone())];
    let login: Vec<(&str, &str)> = login.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let signed_in = post(&app, "/dashboard/login", &login, Some(&pre_session)).await;
    assert_eq!(
        signed_in.status,
        StatusCode::SEE_OTHER,
        "{}",
        signed_in.shown()
    );
    assert_eq!(signed_in.location(), "/dashboard");
    // The cookie holds a session of its own, never the API token.
    let cookie = cookie_pair(&signed_in);
    assert!(cookie.starts_with("booking_session="), "{cookie}");
    assert!(!cookie.contains(&token), "the API token is not the cookie");
    assert!(!cookie_value(&cookie).is_empty());
    assert_eq!(
        signed_in.set_cookie(),
        format!("{cookie}; HttpOnly; SameSite=Strict; Path=/")
    );
    // The API token itself is no session.
    let as_token = get(
        &app,
        "/dashboard",
        Some(&format!("booking_session={token}")),
    )
    .await;
    as_token.assert_contains("Your sign-in is no longer valid.");

    let home = get(&app, "/dashboard", Some(&cookie)).await;
    assert_eq!(home.status, StatusCode::OK);
    home.assert_contains(r#"Bookings for <span id="organizer-name">Ada Lovelace</span>"#);
    home.assert_contains("No bookings");

    let stale = get(&app, "/dashboard", Some("booking_session=feedface")).await;
    stale.assert_contains("Your sign-in is no longer valid.");
    assert!(stale.set_cookie().contains("Max-Age=0"));

    let me = signed_in_from(&app, &fixture).await;
    let refused = post(&app, "/dashboard/logout", &[], Some(&me.cookie)).await;
    assert_eq!(
        refused.status,
        StatusCode::FORBIDDEN,
        "sign-out needs the token too"
    );
    let out = post(
        &app,
        "/dashboard/logout",
        &[("csrf", &me.csrf)],
        Some(&me.cookie),
    )
    .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(
        out.set_cookie(),
        "booking_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"
    );
    // Signing out ended the session on the server: a copy of the old
    // cookie no longer signs anybody in.
    let replayed = get(&app, "/dashboard", Some(&me.cookie)).await;
    replayed.assert_contains("Your sign-in is no longer valid.");
    replayed.assert_lacks("Bookings for");
    let settings = get(&app, "/dashboard/settings", Some(&me.cookie)).await;
    assert_eq!(settings.status, StatusCode::SEE_OTHER);
    // The session signed in before is still on (sign-out is per browser).
    get(&app, "/dashboard", Some(&cookie))
        .await
        .assert_contains("Bookings for");
}

/// Login CSRF: a sign-in form needs the pre-session cookie and its own
/// token, and comes from this site.
#[tokio::test]
async fn signing_in_needs_the_pre_session_token() {
    let fixture = fixture().await;
    let app = app(&fixture);
    let token = fixture.api_token.clone();
    let page = get(&app, "/dashboard", None).await;
    let pre_session = cookie_pair(&page);
    let csrf = hidden_value(&page.body, "csrf").unwrap();

    /// What is wrong, the form, the cookie sent.
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, Option<&'a str>);
    let cases: [Case<'_>; 4] = [
        ("no token", vec![("token", &token)], Some(&pre_session)),
        (
            "a wrong token",
            vec![("token", &token), ("csrf", "00ff")],
            Some(&pre_session),
        ),
        (
            "another browser's token",
            vec![("token", &token), ("csrf", &csrf)],
            Some(
                "booking_presession=0000000000000000000000000000000000000000000000000000000000000000",
            ),
        ),
        ("no cookie", vec![("token", &token), ("csrf", &csrf)], None),
    ];
    for (what, form, cookie) in cases {
        let refused = post(&app, "/dashboard/login", &form, cookie).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{what}");
        assert_eq!(refused.set_cookie(), "", "{what}: no session");
    }
    // A form posted from another site is refused outright, token or not.
    for (name, value) in [
        ("sec-fetch-site", "cross-site"),
        ("sec-fetch-site", "same-site"),
        ("origin", "http://evil.example.com"),
    ] {
        let request = Request::post("/dashboard/login")
            .header(header::HOST, "booking.example.com")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, &pre_session)
            .header(name, value)
            .body(Body::from(form_body(&[("token", &token), ("csrf", &csrf)])))
            .unwrap();
        let forged = send(&app, request).await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN, "{name}: {value}");
        assert_eq!(forged.set_cookie(), "");
    }
    // The same form from this site's own page signs in.
    let request = Request::post("/dashboard/login")
        .header(header::HOST, "booking.example.com")
        .header(header::ORIGIN, "http://booking.example.com")
        .header("sec-fetch-site", "same-origin")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, &pre_session)
        .body(Body::from(form_body(&[("token", &token), ("csrf", &csrf)])))
        .unwrap();
    let own = send(&app, request).await;
    assert_eq!(own.status, StatusCode::SEE_OTHER, "{}", own.shown());
    assert!(own.set_cookie().starts_with("booking_session="));
}

#[tokio::test]
async fn the_booking_list_pages_and_filters_in_the_organizers_zone() {
    let fixture = fixture().await;
    let app = app(&fixture);
    let cookie = session(&fixture).await;
    // Twelve bookings: three a day (09:00, 10:00, 11:00 New York) on 2, 3, 4 and 7 December.
    for day in [2, 3, 4, 7] {
        for hour in [14, 15, 16] {
            fixture
                .book(dec(day, hour, 0), &format!("Meeting {day}/{hour}"))
                .await;
        }
    }
    let first = get(&app, "/dashboard", Some(&cookie)).await;
    assert_eq!(first.status, StatusCode::OK);
    first.assert_contains("12 bookings · page 1 of 2");
    assert_eq!(first.body.matches("data-booking-id=").count(), 10);
    first.assert_contains(
        r#"<td class="when" data-label="When">Wed 2 Dec 2026, 09:00 – 10:00 (America/New_York)</td>"#,
    );
    first.assert_contains(r#"<a id="next-page" href="/dashboard?page=2" rel="next">"#);
    first.assert_lacks("previous-page");

    let second = get(&app, "/dashboard?page=2", Some(&cookie)).await;
    assert_eq!(second.body.matches("data-booking-id=").count(), 2);
    second.assert_contains("Meeting 7/16");
    second.assert_contains(r#"<a id="previous-page" href="/dashboard" rel="prev">"#);

    let filtered = get(
        &app,
        "/dashboard?from=2026-12-03&to=2026-12-04",
        Some(&cookie),
    )
    .await;
    filtered.assert_contains("6 bookings in this date range");
    filtered.assert_lacks("Meeting 2/14");
    filtered.assert_contains(r#"<input id="from" name="from" type="date" value="2026-12-03">"#);

    let small = get(&app, "/dashboard?from=2026-12-03&limit=4", Some(&cookie)).await;
    small.assert_contains("9 bookings in this date range · page 1 of 3");
    small.assert_contains(r#"href="/dashboard?from=2026-12-03&amp;limit=4&amp;page=2""#);

    let backwards = get(
        &app,
        "/dashboard?from=2026-12-04&to=2026-12-03",
        Some(&cookie),
    )
    .await;
    assert_eq!(backwards.status, StatusCode::UNPROCESSABLE_ENTITY);
    backwards.assert_contains(r#"<p class="field-error" id="error-to" role="alert">endDate must not be before startDate</p>"#);
    let unreadable = get(&app, "/dashboard?from=soon", Some(&cookie)).await;
    assert_eq!(unreadable.status, StatusCode::UNPROCESSABLE_ENTITY);
    unreadable
        .assert_contains(r#"id="error-from" role="alert">Enter a date such as 2026-12-24.</p>"#);
}

#[tokio::test]
async fn the_organizer_cancels_from_the_list() {
    let fixture = fixture().await;
    let app = app(&fixture);
    let me = signed_in_from(&app, &fixture).await;
    let cookie = me.cookie.clone();
    let keep = fixture.book(dec(2, 14, 0), "Keep me").await;
    let drop = fixture.book(dec(2, 15, 0), "<b>Drop me</b>").await;
    let id = drop.booking.id;

    let list = get(&app, "/dashboard", Some(&cookie)).await;
    list.assert_contains("&lt;b&gt;Drop me&lt;/b&gt;");
    list.assert_contains(&format!(r#"action="/dashboard/bookings/{id}/cancel" data-confirm="Cancel “&lt;b&gt;Drop me&lt;/b&gt;”? The attendee keeps no booking."><input type="hidden" name="csrf" value="{}">"#, me.csrf));

    // Without the cookie nothing happens.
    let anonymous = post(
        &app,
        &format!("/dashboard/bookings/{id}/cancel"),
        &[("csrf", &me.csrf)],
        None,
    )
    .await;
    assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
    assert_eq!(anonymous.location(), "/dashboard");
    // With the cookie but without the form's token, or with a wrong one, neither.
    for csrf in ["", "00", &me.csrf[..62], "zz"] {
        let refused = post(
            &app,
            &format!("/dashboard/bookings/{id}/cancel"),
            &[("csrf", csrf), ("page", "1")],
            Some(&cookie),
        )
        .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "token {csrf:?}");
        refused.assert_contains("This form was not sent from this site");
    }

    let done = post(
        &app,
        &format!("/dashboard/bookings/{id}/cancel"),
        &[
            ("csrf", &me.csrf),
            ("from", "2026-12-01"),
            ("to", ""),
            ("limit", ""),
            ("page", "1"),
        ],
        Some(&cookie),
    )
    .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert_eq!(
        done.location(),
        "/dashboard?from=2026-12-01&notice=cancelled"
    );
    let after = get(&app, done.location(), Some(&cookie)).await;
    after.assert_contains("Booking cancelled. The time is free again.");
    after.assert_contains("1 booking in this date range");
    after.assert_lacks("Drop me");
    after.assert_contains("Keep me");

    let again = post(
        &app,
        &format!("/dashboard/bookings/{id}/cancel"),
        &[("csrf", &me.csrf)],
        Some(&cookie),
    )
    .await;
    assert_eq!(again.location(), "/dashboard?notice=already_cancelled");

    // Another organizer cannot cancel Ada's bookings, and Ada's form token
    // is not theirs.
    let (_, other) = fixture
        .service
        .register_organizer(booking_core::organizer::NewOrganizer {
            username: "bob".into(),
            email: "bob@example.com".into(),
            display_name: "Bob".into(),
            time_zone: chrono_tz::UTC,
        })
        .await
        .unwrap();
    let bob = signed_in(&app, session_of(&fixture, other.expose()).await).await;
    assert_ne!(bob.csrf, me.csrf);
    let mixed = post(
        &app,
        &format!("/dashboard/bookings/{}/cancel", keep.booking.id),
        &[("csrf", &me.csrf)],
        Some(&bob.cookie),
    )
    .await;
    assert_eq!(mixed.status, StatusCode::FORBIDDEN);
    let foreign = post(
        &app,
        &format!("/dashboard/bookings/{}/cancel", keep.booking.id),
        &[("csrf", &bob.csrf)],
        Some(&bob.cookie),
    )
    .await;
    assert_eq!(foreign.location(), "/dashboard?notice=not_found");
    assert_eq!(active_bookings(&fixture).await, 1);
}

/// The settings form a browser sends: `week` rows as `(day, start, end)`,
/// each day listed switched on.
fn settings_form<'a>(
    csrf: &'a str,
    week: &[(&'a str, &'a str, &'a str)],
    rest: &[(&'a str, &'a str)],
) -> Vec<(String, String)> {
    let mut form = vec![("csrf".to_owned(), csrf.to_owned())];
    let mut opened = Vec::new();
    for (day, start, end) in week {
        if !opened.contains(day) {
            opened.push(*day);
            form.push((format!("{day}-open"), "on".to_owned()));
        }
        form.push((format!("{day}-start"), (*start).to_owned()));
        form.push((format!("{day}-end"), (*end).to_owned()));
    }
    form.extend(rest.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    form
}

/// Replaces the value of `name` in `form`.
fn set(form: &mut [(String, String)], name: &str, value: &str) {
    for pair in form.iter_mut().filter(|(k, _)| k == name) {
        pair.1 = value.to_owned();
    }
}

#[tokio::test]
async fn settings_are_edited_with_errors_next_to_their_fields() {
    let fixture = fixture().await;
    let app = app(&fixture);
    assert_eq!(
        get(&app, "/dashboard/settings", None).await.location(),
        "/dashboard"
    );
    let me = signed_in_from(&app, &fixture).await;
    let page = get(&app, "/dashboard/settings", Some(&me.cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    page.assert_contains(r#"<option value="America/New_York" selected>"#);
    page.assert_contains(r#"<input class="switch-input" type="checkbox" id="monday-open" name="monday-open" value="on" checked>"#);
    page.assert_contains(r#"<input type="time" id="monday-start-0" name="monday-start" value="09:00" aria-label="Monday: from">"#);
    page.assert_contains(r#"<input type="time" id="monday-end-0" name="monday-end" value="12:00" aria-label="Monday: until">"#);
    // A day off is switched off, with hours ready behind the switch.
    page.assert_contains(r#"<input class="switch-input" type="checkbox" id="saturday-open" name="saturday-open" value="on">"#);
    page.assert_contains(r#"id="saturday-start-0" name="saturday-start" value="09:00""#);
    page.assert_contains(r#"<input id="slotMinutes" name="slotMinutes" type="number" min="0" step="1" inputmode="numeric" value="60""#);
    // Enter in a field saves: the first submit button is Save.
    let form = page.body.find(r#"id="settings-form""#).unwrap();
    let first_button = form + page.body[form..].find("<button").unwrap();
    assert!(page.body[first_button..].starts_with(
        r#"<button class="visually-hidden" type="submit" name="action" value="save""#
    ));

    let mut form = settings_form(
        &me.csrf,
        &[
            ("monday", "10:00", "16:00"),
            ("tuesday", "9:00", "12:00"),
            ("tuesday", "13:00", "17:00"),
            ("thursday", "17:00", "09:00"),
            ("friday", "22:00", "00:00"),
        ],
        &[
            ("timeZone", "Europe/London"),
            // Switched off: its rows are kept on the page but not saved.
            ("saturday-start", "08:00"),
            ("saturday-end", "09:00"),
            ("override-1-date", "2026-12-24"),
            ("override-1-hours", "off"),
            ("override-1-start", "09:00"),
            ("override-1-end", "17:00"),
            ("override-5-date", "2026-12-31"),
            ("override-5-hours", "custom"),
            ("override-5-start", "10:00"),
            ("override-5-end", "12:00"),
            ("slotMinutes", "45"),
            ("slotStepMinutes", ""),
            ("bufferBeforeMinutes", "5"),
            ("bufferAfterMinutes", "10"),
            ("minNoticeMinutes", "120"),
            ("maxAdvanceDays", "30"),
            ("action", "save"),
        ],
    );
    let refused = post_owned(&app, "/dashboard/settings", &form, &me.cookie).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    refused.assert_contains("Nothing was saved");
    refused.assert_contains(r#"<p class="field-error" id="error-thursday" role="alert">17:00 – 09:00: the end must be after the start.</p>"#);
    refused.assert_contains(r#"aria-describedby="error-thursday""#);
    // What was typed is kept, including the leading zero left out.
    refused.assert_contains(r#"id="tuesday-start-0" name="tuesday-start" value="9:00""#);
    refused.assert_contains(r#"id="override-5-date" name="override-5-date" value="2026-12-31""#);
    refused.assert_contains(r#"name="override-5-hours" value="custom" checked>"#);

    set(&mut form, "thursday-end", "18:00");
    set(&mut form, "override-5-date", "-5000-12-31");
    let refused = post_owned(&app, "/dashboard/settings", &form, &me.cookie).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    refused.assert_contains(r#"<p class="field-error" id="error-override-5" role="alert">Enter a date between Mon 1 Jan 1900 and Fri 31 Dec 9999.</p>"#);
    set(&mut form, "override-5-date", "2026-12-31");
    // The settings' own rules come back next to their fields too (a slot
    // is at least 5 minutes long).
    set(&mut form, "slotMinutes", "0");
    let refused = post_owned(&app, "/dashboard/settings", &form, &me.cookie).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    refused.assert_contains(
        r#"<p class="field-error" id="error-slotMinutes" role="alert">Must be at least 5 minutes.</p>"#,
    );
    set(&mut form, "slotMinutes", "45");
    set(&mut form, "maxAdvanceDays", "99999");
    let refused = post_owned(&app, "/dashboard/settings", &form, &me.cookie).await;
    refused.assert_contains(
        r#"id="error-maxAdvanceDays" role="alert">Must be at most 3660 days.</p>"#,
    );
    set(&mut form, "maxAdvanceDays", "30");

    // Without the form's token nothing is saved.
    let mut forged = form.clone();
    set(&mut forged, "csrf", "");
    let refused = post_owned(&app, "/dashboard/settings", &forged, &me.cookie).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    let saved = post_owned(&app, "/dashboard/settings", &form, &me.cookie).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.shown());
    assert_eq!(saved.location(), "/dashboard/settings?notice=saved");
    let settings = fixture
        .service
        .settings(fixture.organizer.id)
        .await
        .unwrap();
    assert_eq!(settings.time_zone(), chrono_tz::Europe::London);
    assert_eq!(settings.slot_duration().num_minutes(), 45);
    assert_eq!(settings.buffer_after().num_minutes(), 10);
    assert_eq!(settings.min_notice().num_minutes(), 120);
    assert_eq!(settings.max_advance().num_days(), 30);
    let week = settings.weekly_hours();
    assert_eq!(week.tuesday.len(), 2);
    assert_eq!(week.tuesday[0].to_string(), "09:00-12:00");
    assert!(week.wednesday.is_empty());
    assert!(week.saturday.is_empty(), "a day switched off has no hours");
    assert_eq!(
        week.friday[0].to_string(),
        "22:00-24:00",
        "an end of 00:00 is midnight"
    );
    let overrides = settings.date_overrides();
    let day = |d| chrono::NaiveDate::from_ymd_opt(2026, 12, d).unwrap();
    assert_eq!(overrides.len(), 2);
    assert!(overrides[&day(24)].is_empty(), "a day off");
    assert_eq!(overrides[&day(31)][0].to_string(), "10:00-12:00");

    let page = get(&app, saved.location(), Some(&me.cookie)).await;
    page.assert_contains("Settings saved.");
    page.assert_contains(r#"id="tuesday-start-1" name="tuesday-start" value="13:00""#);
    page.assert_contains(r#"id="friday-end-0" name="friday-end" value="00:00""#);
    page.assert_contains(r#"id="override-1-date" name="override-1-date" value="2026-12-24""#);
    page.assert_contains(r#"name="override-1-hours" value="off" checked>"#);
    page.assert_contains(r#"id="override-2-start-0" name="override-2-start" value="10:00""#);
}

/// Without JavaScript the editor's Add and Remove buttons submit the form;
/// the page comes back with the change and nothing is saved.
#[tokio::test]
async fn the_hours_editor_works_without_javascript() {
    let fixture = fixture().await;
    let app = app(&fixture);
    let me = signed_in_from(&app, &fixture).await;
    let before = fixture
        .service
        .settings(fixture.organizer.id)
        .await
        .unwrap();
    let base = settings_form(
        &me.csrf,
        &[("monday", "09:00", "12:00")],
        &[
            ("timeZone", "America/New_York"),
            ("slotMinutes", "60"),
            ("bufferBeforeMinutes", "0"),
            ("bufferAfterMinutes", "0"),
            ("minNoticeMinutes", "0"),
            ("maxAdvanceDays", "60"),
        ],
    );
    let press = |action: &str| {
        let mut form = base.clone();
        form.push(("action".to_owned(), action.to_owned()));
        form
    };

    let added = post_owned(
        &app,
        "/dashboard/settings",
        &press("add:monday"),
        &me.cookie,
    )
    .await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.shown());
    added.assert_contains("Not saved yet");
    added.assert_contains(r#"id="monday-start-1" name="monday-start" value="12:00""#);
    added.assert_contains(r#"id="monday-end-1" name="monday-end" value="13:00""#);
    // Each button comes back to where it was on the page.
    added.assert_contains(r#"value="add:monday" formaction="/dashboard/settings#monday""#);

    let switched_on = post_owned(
        &app,
        "/dashboard/settings",
        &press("add:sunday"),
        &me.cookie,
    )
    .await;
    switched_on.assert_contains(r#"id="sunday-open" name="sunday-open" value="on" checked>"#);

    let removed = post_owned(
        &app,
        "/dashboard/settings",
        &press("remove:monday:0"),
        &me.cookie,
    )
    .await;
    removed.assert_lacks(r#"id="monday-start-0""#);
    removed.assert_contains(r#"value="add:monday""#);

    let with_date = post_owned(
        &app,
        "/dashboard/settings",
        &press("add-override"),
        &me.cookie,
    )
    .await;
    with_date.assert_contains(
        r#"<input type="date" id="override-1-date" name="override-1-date" value="""#,
    );
    with_date.assert_contains(r#"name="override-1-hours" value="off" checked>"#);

    let mut dated = press("remove-override:1");
    dated.push(("override-1-date".to_owned(), "2026-12-24".to_owned()));
    let without = post_owned(&app, "/dashboard/settings", &dated, &me.cookie).await;
    without.assert_lacks(r#"id="override-1-date""#);

    let unknown = post_owned(
        &app,
        "/dashboard/settings",
        &press("launch-rockets"),
        &me.cookie,
    )
    .await;
    assert_eq!(unknown.status, StatusCode::OK);
    unknown.assert_contains("Not saved yet");

    assert_eq!(
        fixture
            .service
            .settings(fixture.organizer.id)
            .await
            .unwrap(),
        before,
        "no button but Save saves"
    );
}

#[tokio::test]
async fn an_organizer_without_settings_is_offered_a_starting_point() {
    let fixture = fixture().await;
    let app = app(&fixture);
    let (_, token) = fixture
        .service
        .register_organizer(booking_core::organizer::NewOrganizer {
            username: "newbie".into(),
            email: "new@example.com".into(),
            display_name: "Newbie".into(),
            time_zone: chrono_tz::Asia::Kolkata,
        })
        .await
        .unwrap();
    let cookie = session_of(&fixture, token.expose()).await;
    let home = get(&app, "/dashboard", Some(&cookie)).await;
    home.assert_contains("Nobody can book you yet");
    let page = get(&app, "/dashboard/settings", Some(&cookie)).await;
    page.assert_contains("You have not saved settings yet");
    page.assert_contains(r#"<option value="Asia/Kolkata" selected>"#);
    page.assert_contains(r#"id="friday-open" name="friday-open" value="on" checked>"#);
    page.assert_contains(r#"id="friday-start-0" name="friday-start" value="09:00""#);
    page.assert_contains(r#"id="friday-end-0" name="friday-end" value="17:00""#);
    page.assert_contains(r#"id="sunday-open" name="sunday-open" value="on">"#);
}

#[tokio::test]
async fn pages_carry_security_headers_and_assets_are_served_from_the_binary() {
    let fixture = fixture().await;
    let app = app(&fixture);
    let created = fixture.book(dec(2, 15, 0), "Intro").await;
    let page = get(
        &app,
        &format!(
            "/bookings/{}?token={}",
            created.booking.id,
            encode(created.cancel_token.expose())
        ),
        None,
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    let csp = page.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    // No referrer to other sites (cancel links carry a secret), while the
    // pages' own form posts keep their Origin header.
    assert_eq!(page.headers[header::REFERRER_POLICY], "same-origin");
    assert_eq!(page.headers[header::CACHE_CONTROL], "no-store");
    assert_eq!(
        page.headers[header::CONTENT_TYPE],
        "text/html; charset=utf-8"
    );
    assert!(!page.body.contains("<script>"), "no inline script");
    assert!(
        !page.body.contains("http://") && !page.body.contains("https://"),
        "no external resource"
    );

    let css = get(&app, "/assets/app.css", None).await;
    assert_eq!(css.status, StatusCode::OK);
    assert_eq!(css.headers[header::CONTENT_TYPE], "text/css; charset=utf-8");
    assert!(css.body.contains("@media (max-width: 720px)"));
    let js = get(&app, "/assets/app.js", None).await;
    assert_eq!(
        js.headers[header::CONTENT_TYPE],
        "text/javascript; charset=utf-8"
    );
    assert!(js.body.contains("resolvedOptions().timeZone"));
}

#[tokio::test]
async fn the_services_router_serves_the_pages_beside_the_json_api() {
    let fixture = fixture().await;
    let app: Router = booking_examples::router(fixture.service.clone());
    let page = get(&app, "/ada?tz=UTC&date=2026-12-02", None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(
        page.headers[header::CONTENT_TYPE],
        "text/html; charset=utf-8"
    );
    page.assert_contains("<span>14:00</span>");
    assert!(page.headers.contains_key(header::CONTENT_SECURITY_POLICY));

    let slots = get(
        &app,
        "/api/organizers/ada/slots?start=2026-12-02T00:00:00Z&end=2026-12-03T00:00:00Z",
        None,
    )
    .await;
    assert_eq!(slots.status, StatusCode::OK);
    assert!(slots.body.contains("2026-12-02T14:00:00"), "{}", slots.body);
    assert_eq!(get(&app, "/healthz", None).await.status, StatusCode::OK);
    let unknown = get(&app, "/api/nothing-here", None).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert!(unknown.body.contains("not_found"), "{}", unknown.body);

    // A booking made through the JSON API shows in the organizer's list.
    let request = Request::post("/api/bookings")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            serde_json::json!({
                "organizerUsername": "ada",
                "attendantName": "Grace",
                "attendantEmail": "grace@example.com",
                "title": "Via the API",
                "startTime": "2026-12-02T15:00:00Z",
                "endTime": "2026-12-02T16:00:00Z",
            })
            .to_string(),
        ))
        .unwrap();
    assert_eq!(send(&app, request).await.status, StatusCode::CREATED);
    let list = get(&app, "/dashboard", Some(&session(&fixture).await)).await;
    list.assert_contains("Via the API");
}

/// Page parameters a person can type into the address bar, each far outside
/// what any store keeps (PostgreSQL's timestamps end at 4713 BC, chrono's at
/// ±262143): every one is clamped or answered with a message, never a 5xx.
const HOSTILE_PAGE_URLS: [&str; 27] = [
    "/{user}?month=-5000-01",
    "/{user}/default?month=-5000-01",
    "/{user}/default?date=+262143-12-31&duration=99999999999999999999",
    "/{user}/default?duration=-60&month=262143-12",
    "/{user}/Not%20A%20Slug?month=-5000-01",
    "/{user}?duration=0",
    "/{user}?month=-262143-01",
    "/{user}?month=+262143-12",
    "/{user}?month=262143-12",
    "/{user}?month=0000-01",
    "/{user}?month=9999-12",
    "/{user}?month=abc",
    "/{user}?date=-5000-01-01",
    "/{user}?date=+262143-12-31",
    "/{user}?date=2026-02-30",
    "/{user}?tz=Asia%2FTokyo&month=-4713-11&date=-4713-11-24",
    "/dashboard?from=-5000-01-01",
    "/dashboard?to=-5000-01-01",
    "/dashboard?from=-262143-01-01&to=262143-12-31",
    "/dashboard?from=+262143-12-31",
    "/dashboard?page=4294967295",
    "/dashboard?page=99999999999999999999",
    "/dashboard?page=0&limit=0",
    "/dashboard?page=-1&limit=-1",
    "/dashboard?limit=4294967295",
    "/dashboard?page=2147483648&limit=100",
    "/dashboard/settings?notice=%00",
];

/// Signs in through the pages as a browser would (the sign-in page first,
/// for whatever cookie and form token it hands out) and returns the cookies
/// to send.
async fn sign_in_over_http(server: &common::Server, api_token: &str) -> String {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = client.get(server.url("/dashboard")).send().await.unwrap();
    let mut cookies: Vec<String> = page
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .filter_map(|value| value.split(';').next())
        .map(str::to_owned)
        .collect();
    let body = page.text().await.unwrap();
    let mut form = vec![("token", api_token.to_owned())];
    if let Some(csrf) = hidden_value(&body, "csrf") {
        form.push(("csrf", csrf));
    }
    let signed_in = client
        .post(server.url("/dashboard/login"))
        .header(header::COOKIE, cookies.join("; "))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert!(
        signed_in.status().is_redirection(),
        "{}",
        signed_in.status()
    );
    cookies.extend(
        signed_in
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .filter_map(|value| value.split(';').next())
            .map(str::to_owned),
    );
    cookies.join("; ")
}

/// Each hostile URL against a real server: never a 5xx.
async fn hostile_urls_never_fail(server: &common::Server) {
    let user = common::unique("clamp");
    let token = server.register(&user, "America/New_York").await;
    server.open_all_week(&token, "America/New_York").await;
    let cookies = sign_in_over_http(server, &token).await;
    let mut failures = Vec::new();
    for url in HOSTILE_PAGE_URLS {
        let url = url.replace("{user}", &user);
        let reply = server
            .client
            .get(server.url(&url))
            .header(header::COOKIE, &cookies)
            .send()
            .await
            .unwrap();
        let status = reply.status();
        let body = reply.text().await.unwrap();
        if status.as_u16() >= 500 {
            failures.push(format!("GET {url} answered {status}"));
        }
        if body.contains("id=\"login-form\"") {
            failures.push(format!("GET {url} showed the sign-in page"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    // The booking form carries a date too.
    let reply = server
        .client
        .post(server.url(&format!("/{user}")))
        .form(&[("tz", "UTC"), ("date", "-5000-01-01"), ("slot", "")])
        .send()
        .await
        .unwrap();
    assert!(
        reply.status().as_u16() < 500,
        "POST /{user}: {}",
        reply.status()
    );
}

#[tokio::test]
async fn page_parameters_never_fail_on_the_memory_store() {
    let fixture = fixture().await;
    let app = app(&fixture);
    let cookie = session(&fixture).await;
    for url in HOSTILE_PAGE_URLS {
        let url = url.replace("{user}", "ada");
        let reply = get(&app, &url, Some(&cookie)).await;
        assert!(
            reply.status.as_u16() < 500,
            "GET {url} answered {}",
            reply.status
        );
    }
}

#[tokio::test]
async fn page_parameters_never_fail_on_sqlite() {
    let server = common::sqlite_server().await;
    hostile_urls_never_fail(&server).await;
}

#[cfg(all(feature = "postgres", feature = "redis"))]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_parameters_never_fail_on_postgres() {
    let (server, schema) = common::pg::server().await;
    hostile_urls_never_fail(&server).await;
    drop(server);
    common::pg::drop_schema(schema).await;
}

#[tokio::test]
async fn a_post_from_a_foreign_origin_changes_nothing() {
    let fixture = fixture().await;
    let app = app(&fixture);
    let me = signed_in_from(&app, &fixture).await;
    let keep = fixture.book(dec(2, 15, 0), "Keep me").await.booking.id;
    let cancel = |origin: Option<&str>, fetch_site: Option<&str>| {
        let mut request = Request::post(format!("/dashboard/bookings/{keep}/cancel"))
            .header(header::HOST, "booking.example.com")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, &me.cookie);
        if let Some(origin) = origin {
            request = request.header(header::ORIGIN, origin);
        }
        if let Some(site) = fetch_site {
            request = request.header("sec-fetch-site", site);
        }
        // The form even carries the right token: the origin alone refuses it.
        request
            .body(Body::from(form_body(&[("csrf", &me.csrf), ("page", "1")])))
            .unwrap()
    };
    for origin in [
        "https://evil.example.com",
        "http://booking.example.com.evil.net",
        "http://127.0.0.1:9",
        "null",
    ] {
        let refused = send(&app, cancel(Some(origin), None)).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "Origin {origin}");
        refused.assert_contains("This form can only be sent from this site");
    }
    for site in ["same-site", "cross-site"] {
        let refused = send(&app, cancel(None, Some(site))).await;
        assert_eq!(
            refused.status,
            StatusCode::FORBIDDEN,
            "Sec-Fetch-Site {site}"
        );
    }
    assert_eq!(
        active_bookings(&fixture).await,
        1,
        "the booking is still active"
    );

    // The public forms are checked too: a booking posted from elsewhere.
    let request = Request::post("/ada")
        .header(header::HOST, "booking.example.com")
        .header(header::ORIGIN, "https://evil.example.com")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form_body(&booking_form(
            &slot_value(dec(2, 16, 0)),
            "Forged",
        ))))
        .unwrap();
    assert_eq!(send(&app, request).await.status, StatusCode::FORBIDDEN);

    // From the service's own origin it goes through.
    let own = send(
        &app,
        cancel(Some("http://booking.example.com"), Some("same-origin")),
    )
    .await;
    assert_eq!(own.status, StatusCode::SEE_OTHER, "{}", own.shown());
    assert_eq!(own.location(), "/dashboard?notice=cancelled");
}

#[tokio::test]
async fn behind_a_proxy_the_configured_public_origin_is_the_services_own() {
    let fixture = fixture().await;
    let options = UiOptions {
        public_origin: Some("https://booking.example.com".to_owned()),
        ..UiOptions::default()
    };
    let app: Router = booking_examples::ui::router_with(fixture.service.clone(), options);
    let me = signed_in_from(&app, &fixture).await;
    let keep = fixture.book(dec(2, 15, 0), "Keep me").await.booking.id;
    let cancel = |origin: &str| {
        Request::post(format!("/dashboard/bookings/{keep}/cancel"))
            // The proxy rewrote Host to the service's own address.
            .header(header::HOST, "10.0.0.5:3000")
            .header(header::ORIGIN, origin)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, &me.cookie)
            .body(Body::from(form_body(&[("csrf", &me.csrf)])))
            .unwrap()
    };
    for foreign in [
        "http://10.0.0.5:3000",
        "http://booking.example.com",
        "https://evil.example.com",
    ] {
        assert_eq!(
            send(&app, cancel(foreign)).await.status,
            StatusCode::FORBIDDEN,
            "{foreign}"
        );
    }
    let own = send(&app, cancel("https://booking.example.com")).await;
    assert_eq!(own.status, StatusCode::SEE_OTHER, "{}", own.shown());
}

#[tokio::test]
async fn duplicate_session_cookies_are_refused() {
    let fixture = fixture().await;
    let app = app(&fixture);
    let me = signed_in_from(&app, &fixture).await;
    let keep = fixture.book(dec(2, 15, 0), "Keep me").await.booking.id;
    // A sibling site planted its own cookie of the same name for the parent
    // domain; the browser sends both, in one header or in two.
    let tossed = format!("{}; booking_session=planted", me.cookie);
    let page = get(&app, "/dashboard", Some(&tossed)).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    page.assert_contains("Your browser sent this site's sign-in cookie twice");
    page.assert_lacks("Ada Lovelace");
    assert_eq!(page.set_cookie(), "", "nothing is set or cleared");
    let request = Request::post(format!("/dashboard/bookings/{keep}/cancel"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, me.cookie.clone())
        .header(header::COOKIE, me.cookie.clone())
        .body(Body::from(form_body(&[("csrf", &me.csrf), ("page", "1")])))
        .unwrap();
    let refused = send(&app, request).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        active_bookings(&fixture).await,
        1,
        "the booking is still active"
    );
    // The sign-in form's cookie too.
    let login = get(
        &app,
        "/dashboard",
        Some("booking_presession=a; booking_presession=b"),
    )
    .await;
    assert_eq!(login.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn over_https_the_cookies_are_host_only_and_secure() {
    let fixture = fixture().await;
    let token = fixture.api_token.clone();
    // Behind a proxy that says the request came over HTTPS (`auto`), and
    // with `BOOKING_COOKIE_SECURE=true` whatever the proxy says.
    let auto = app(&fixture);
    let always: Router = booking_examples::ui::router_with(
        fixture.service.clone(),
        UiOptions {
            cookie_security: CookieSecurity::Always,
            ..UiOptions::default()
        },
    );
    for (app, proxy_says_https) in [(&auto, true), (&always, false)] {
        let with_proto = |request: axum::http::request::Builder| {
            if proxy_says_https {
                request.header("x-forwarded-proto", "https")
            } else {
                request
            }
        };
        let page = send(
            app,
            with_proto(Request::get("/dashboard"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert!(
            page.set_cookie().starts_with("__Host-booking_presession=")
                && page
                    .set_cookie()
                    .ends_with("; HttpOnly; SameSite=Lax; Path=/; Secure"),
            "{}",
            page.set_cookie()
        );
        let pre_session = cookie_pair(&page);
        let csrf = hidden_value(&page.body, "csrf").unwrap();
        let signed_in = send(
            app,
            with_proto(Request::post("/dashboard/login"))
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::COOKIE, &pre_session)
                .body(Body::from(form_body(&[("token", &token), ("csrf", &csrf)])))
                .unwrap(),
        )
        .await;
        assert_eq!(
            signed_in.status,
            StatusCode::SEE_OTHER,
            "{}",
            signed_in.shown()
        );
        let session = cookie_pair(&signed_in);
        assert!(session.starts_with("__Host-booking_session="), "{session}");
        assert!(!session.contains(&token), "the API token is not the cookie");
        assert_eq!(
            signed_in.set_cookie(),
            format!("{session}; HttpOnly; SameSite=Strict; Path=/; Secure")
        );
        let home = send(
            app,
            with_proto(Request::get("/dashboard"))
                .header(header::COOKIE, cookie_pair(&signed_in))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        home.assert_contains("Bookings for");
        // The plain name, which a sibling site could plant, signs nobody in.
        let planted = send(
            app,
            with_proto(Request::get("/dashboard"))
                .header(
                    header::COOKIE,
                    format!("booking_session={}", cookie_value(&session)),
                )
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        planted.assert_contains(r#"id="login-form""#);
    }
}

#[tokio::test]
async fn the_landing_page_links_sign_up_the_dashboard_and_the_api() {
    let fixture = fixture().await;
    let app: Router = booking_examples::router(fixture.service.clone());
    let page = get(&app, "/", None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(
        page.headers[header::CONTENT_TYPE],
        "text/html; charset=utf-8"
    );
    for link in [
        r#"href="/dashboard/signup""#,
        r#"href="/dashboard""#,
        r#"href="/api/openapi.json""#,
    ] {
        page.assert_contains(link);
    }
    assert!(page.headers.contains_key(header::CONTENT_SECURITY_POLICY));
    // Unknown API paths keep their JSON 404.
    for path in [
        "/api/nothing-here",
        "/api/organizers/ada/nothing",
        "/api/bookings/x/y",
    ] {
        let unknown = get(&app, path, None).await;
        assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{path}");
        assert!(
            unknown.body.contains(r#""code":"not_found""#),
            "{path}: {}",
            unknown.body
        );
    }
}

#[tokio::test]
async fn signing_up_creates_an_organizer_shows_the_token_once_and_signs_in() {
    let fixture = fixture().await;
    let app = app(&fixture);
    let page = get(&app, "/dashboard/signup", None).await;
    assert_eq!(page.status, StatusCode::OK);
    page.assert_contains(r#"<form id="signup-form" method="post" action="/dashboard/signup""#);
    page.assert_contains(r#"<select id="timeZone" name="timeZone" data-detect-zone>"#);
    page.assert_contains(r#"<option value="Europe/Paris">Europe/Paris</option>"#);
    let pre_session = cookie_pair(&page);
    let csrf = hidden_value(&page.body, "csrf").unwrap();
    fn with<'a>(csrf: &'a str, fields: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
        let mut form = vec![("csrf", csrf)];
        form.extend_from_slice(fields);
        form
    }
    let sign_up = |fields: &[(&'static str, &'static str)]| with(&csrf, fields);

    // Every field's error comes back next to it, in the service's words.
    let refused = post(
        &app,
        "/dashboard/signup",
        &sign_up(&[
            ("username", "a b"),
            ("name", "  "),
            ("email", "not-an-email"),
            ("timeZone", "Mars/Olympus"),
        ]),
        Some(&pre_session),
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    refused.assert_contains(r#"<p class="field-error" id="error-username" role="alert">Username may contain only letters, digits, '_', '-' and '.'.</p>"#);
    refused.assert_contains(
        r#"<p class="field-error" id="error-name" role="alert">Name is required.</p>"#,
    );
    refused.assert_contains(r#"id="error-email" role="alert">&quot;not-an-email&quot; is not a valid email address.</p>"#);
    refused.assert_contains(r#"<p class="field-error" id="error-timeZone" role="alert">Pick a time zone from the list.</p>"#);
    refused.assert_contains(r#"value="a b""#);
    assert_eq!(refused.set_cookie(), "", "no session");

    let taken = post(
        &app,
        "/dashboard/signup",
        &sign_up(&[
            ("username", "ada"),
            ("name", "Another Ada"),
            ("email", "ada2@example.com"),
            ("timeZone", "Europe/Paris"),
        ]),
        Some(&pre_session),
    )
    .await;
    assert_eq!(taken.status, StatusCode::CONFLICT);
    taken.assert_contains(
        r#"id="error-username" role="alert">The username &quot;ada&quot; is already taken.</p>"#,
    );
    // The zone chosen stays chosen, and the script leaves it alone.
    taken.assert_contains(r#"<option value="Europe/Paris" selected>"#);
    taken.assert_lacks("data-detect-zone");

    // Without the form's token nobody is created.
    let forged = post(
        &app,
        "/dashboard/signup",
        &[
            ("username", "mallory"),
            ("name", "Mallory"),
            ("email", "m@example.com"),
            ("timeZone", "UTC"),
        ],
        Some(&pre_session),
    )
    .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);

    let created = post(
        &app,
        "/dashboard/signup",
        &sign_up(&[
            ("username", " grace "),
            ("name", "Grace <b>Hopper</b>"),
            ("email", "grace@example.com"),
            ("timeZone", "Asia/Tokyo"),
        ]),
        Some(&pre_session),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.shown());
    created.assert_contains("Copy your API token now: it is shown only this once.");
    created.assert_contains("Welcome, Grace &lt;b&gt;Hopper&lt;/b&gt;");
    let api_token = hidden_like_value(&created.body, r#"id="api-token""#).unwrap();
    let organizer = fixture.service.authenticate(&api_token).await.unwrap();
    assert_eq!(organizer.username, "grace");
    assert_eq!(organizer.time_zone, chrono_tz::Asia::Tokyo);
    // Signed in at once: the session cookie is set (a session's token,
    // not the API token).
    let session = cookie_pair(&created);
    assert!(session.starts_with("booking_session="), "{session}");
    assert!(!session.contains(&api_token), "{session}");
    assert_eq!(
        created.set_cookie(),
        format!("{session}; HttpOnly; SameSite=Strict; Path=/")
    );
    let home = get(&app, "/dashboard", Some(&cookie_pair(&created))).await;
    home.assert_contains("Nobody can book you yet");
    // And the token is never shown again.
    home.assert_lacks(&api_token);
    let settings = get(&app, "/dashboard/settings", Some(&cookie_pair(&created))).await;
    settings.assert_lacks(&api_token);
}

/// The `value` of the input whose attributes include `marker`.
fn hidden_like_value(page: &str, marker: &str) -> Option<String> {
    let at = page.find(marker)?;
    let rest = &page[at..];
    let value = rest.find(r#"value=""#)? + r#"value=""#.len();
    let end = rest[value..].find('"')?;
    Some(rest[value..value + end].to_owned())
}
