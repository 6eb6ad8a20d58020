//! The rest of the booking lifecycle on the pages, at the HTTP level: the
//! booking page's slot holds (what the page gives its script, booking with
//! a hold's token, a held slot refused to others, holds switched off) and
//! the dashboard's Reschedule (the link, the page, the session and form
//! token it needs, moving the booking).

mod ui_support;

use axum::http::StatusCode;
use booking_core::service::Credential;
use booking_core::{HoldRequest, TimeRange};
use chrono::Duration;
use ui_support::pages::{app, get, hidden_value, post, signed_in_from};
use ui_support::{Fixture, dec, fixture, slot_value};

/// The one-hour slot starting at `start`.
fn slot(start: chrono::DateTime<chrono::Utc>) -> TimeRange {
    TimeRange::starting_at(start, Duration::hours(1)).unwrap()
}

/// The slug of the fixture's one event type.
async fn slug(fixture: &Fixture) -> String {
    fixture
        .service
        .active_event_types(fixture.organizer.id)
        .await
        .unwrap()
        .remove(0)
        .slug
        .to_string()
}

/// The booking form's fields for the slot starting at `start`.
fn book_form<'a>(
    slug: &'a str,
    slot_text: &'a str,
    hold_token: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("tz", "America/New_York"),
        ("date", "2026-12-02"),
        ("eventType", slug),
        ("duration", "60"),
        ("slot", slot_text),
        ("name", "Grace Hopper"),
        ("email", "grace@example.com"),
        ("title", "Compilers"),
        ("notes", ""),
        ("holdToken", hold_token),
    ]
}

#[tokio::test]
async fn the_booking_page_gives_its_script_the_hold_address_and_books_with_the_holds_token() {
    let fixture = fixture().await;
    let app = app(&fixture);
    let slug = slug(&fixture).await;

    let page = get(&app, "/ada?tz=America%2FNew_York&date=2026-12-02", None).await;
    assert_eq!(page.status, StatusCode::OK);
    page.assert_contains(r#"data-hold-url="/api/organizers/ada/holds""#);
    page.assert_contains(r#"data-now="2026-12-01T08:00:00Z""#);
    page.assert_contains(r#"<input id="hold-token" type="hidden" name="holdToken">"#);
    page.assert_contains(r#"<input id="hold-id" type="hidden" name="holdId">"#);

    // A visitor holds 10:00 (15:00 UTC), as the page's script does.
    let held = fixture
        .service
        .hold_slot(HoldRequest::new("ada", slot(dec(2, 15, 0))).event_type(slug.as_str()))
        .await
        .unwrap();
    let value = slot_value(dec(2, 15, 0));

    // Someone else's page no longer offers it, and booking it without the
    // token is refused with the slot list's message.
    let other = get(&app, "/ada?tz=America%2FNew_York&date=2026-12-02", None).await;
    other.assert_lacks(&value);
    let refused = post(&app, "/ada", &book_form(&slug, &value, ""), None).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.shown());
    refused.assert_contains(r#"id="slot-error""#);

    // A wrong token is as good as none.
    let wrong = post(
        &app,
        "/ada",
        &book_form(&slug, &value, "not-the-token"),
        None,
    )
    .await;
    assert_eq!(wrong.status, StatusCode::CONFLICT, "{}", wrong.shown());

    // With its token, the hold becomes the booking.
    let token = held.token.expose().to_owned();
    let booked = post(&app, "/ada", &book_form(&slug, &value, &token), None).await;
    assert_eq!(booked.status, StatusCode::SEE_OTHER, "{}", booked.shown());
    assert!(
        booked.location().starts_with("/bookings/"),
        "{}",
        booked.location()
    );
    let list = fixture
        .service
        .list_bookings(
            fixture.organizer.id,
            booking_core::ListQuery {
                from: None,
                to: None,
                page: 1,
                limit: 10,
            },
        )
        .await
        .unwrap();
    assert_eq!(list.total, 1);
    assert_eq!(list.bookings[0].time, slot(dec(2, 15, 0)));
    // The hold is gone with it: releasing it finds nothing.
    assert!(
        fixture
            .service
            .release_hold(held.hold.id, &token)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn a_refused_form_keeps_the_visitors_held_slot_and_its_countdown() {
    let fixture = fixture().await;
    let app = app(&fixture);
    let slug = slug(&fixture).await;
    let held = fixture
        .service
        .hold_slot(HoldRequest::new("ada", slot(dec(2, 15, 0))).event_type(slug.as_str()))
        .await
        .unwrap();
    let value = slot_value(dec(2, 15, 0));
    let token = held.token.expose().to_owned();
    let id = held.hold.id.to_string();
    let mut form = book_form(&slug, &value, &token);
    form.retain(|(name, _)| *name != "email");
    form.push(("email", "not an email"));
    form.push(("holdId", &id));
    form.push(("holdExpires", "2026-12-01T08:05:00Z"));
    let page = post(&app, "/ada", &form, None).await;
    assert_eq!(
        page.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        page.shown()
    );
    page.assert_contains(r#"id="error-email""#);
    // The held slot is still offered to its holder, still picked, and the
    // form still carries the hold.
    page.assert_contains(&format!(r#"value="{value}" checked"#));
    assert_eq!(
        hidden_value(&page.body, "holdToken").as_deref(),
        Some(token.as_str())
    );
    assert_eq!(
        hidden_value(&page.body, "holdId").as_deref(),
        Some(id.as_str())
    );
    page.assert_contains(r#"data-expires="2026-12-01T08:05:00Z""#);
    page.assert_contains("The 10:00 slot is held for you until 03:05.");

    // An ended hold is not shown as held.
    let mut ended = book_form(&slug, &value, &token);
    ended.retain(|(name, _)| *name != "name");
    ended.push(("name", ""));
    ended.push(("holdExpires", "2026-12-01T07:59:00Z"));
    let page = post(&app, "/ada", &ended, None).await;
    assert_eq!(
        page.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        page.shown()
    );
    page.assert_lacks("held for you");

    // Fixing the email books it, with the hold.
    let booked = post(&app, "/ada", &book_form(&slug, &value, &token), None).await;
    assert_eq!(booked.status, StatusCode::SEE_OTHER, "{}", booked.shown());
}

#[tokio::test]
async fn with_holds_off_the_page_books_as_before() {
    let fixture = fixture().await;
    let app = app(&fixture);
    let slug = slug(&fixture).await;
    let mut draft = fixture
        .service
        .event_type("ada", &slug)
        .await
        .unwrap()
        .to_draft();
    draft.hold_duration = Duration::zero();
    fixture
        .service
        .update_event_type("ada", &slug, draft)
        .await
        .unwrap();

    let page = get(&app, "/ada?tz=America%2FNew_York&date=2026-12-02", None).await;
    assert_eq!(page.status, StatusCode::OK);
    page.assert_lacks("data-hold-url");
    page.assert_lacks("holdToken");
    let value = slot_value(dec(2, 15, 0));
    let booked = post(&app, "/ada", &book_form(&slug, &value, ""), None).await;
    assert_eq!(booked.status, StatusCode::SEE_OTHER, "{}", booked.shown());
}

#[tokio::test]
async fn the_organizer_reschedules_from_the_dashboard_with_the_session_and_its_form_token() {
    let fixture = fixture().await;
    let app = app(&fixture);
    let created = fixture.book(dec(2, 15, 0), "<b>Intro</b>").await;
    let id = created.booking.id;
    let me = signed_in_from(&app, &fixture).await;
    let url = format!("/dashboard/bookings/{id}/reschedule");

    let list = get(&app, "/dashboard", Some(&me.cookie)).await;
    list.assert_contains(&format!(r#"href="{url}">Reschedule</a>"#));

    // Nobody signed in: the sign-in page, for the page and the form.
    let anonymous = get(&app, &url, None).await;
    assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
    assert_eq!(anonymous.location(), "/dashboard");
    let new_slot = slot_value(dec(3, 14, 0));
    let forged = post(&app, &url, &[("slot", &new_slot), ("csrf", "0000")], None).await;
    assert_eq!(forged.status, StatusCode::SEE_OTHER);

    // The page: the booking, the free times as forms carrying the form token.
    let page = get(&app, &url, Some(&me.cookie)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.shown());
    page.assert_contains("&lt;b&gt;Intro&lt;/b&gt;");
    page.assert_contains(r#"<span id="attendee-name">Grace Hopper</span>"#);
    page.assert_contains(
        r#"<dd id="current-time">Wed 2 Dec 2026, 10:00 – 11:00 (America/New_York)</dd>"#,
    );
    page.assert_contains(&format!(
        r#"<form method="post" action="{url}"><input type="hidden" name="csrf" value="{}">"#,
        me.csrf
    ));
    page.assert_contains(&format!(r#"value="{new_slot}""#));
    page.assert_lacks(r#"name="token""#);
    page.assert_contains(r#"id="keep-link" href="/dashboard">Back to your bookings</a>"#);

    // Without the form token, or with a wrong one: 403, nothing moved.
    for csrf in ["", "0000"] {
        let refused = post(
            &app,
            &url,
            &[("slot", &new_slot), ("csrf", csrf)],
            Some(&me.cookie),
        )
        .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.shown());
    }
    let organizer = Credential::Organizer(fixture.organizer.id);
    let unchanged = fixture.service.get_booking(id, &organizer).await.unwrap();
    assert_eq!(unchanged.time, slot(dec(2, 15, 0)));
    assert_eq!(unchanged.sequence, 0);

    // A time that is not offered: the page again, with the problem.
    let taken = fixture.book(dec(3, 15, 0), "Taken").await;
    let busy = post(
        &app,
        &url,
        &[("slot", &slot_value(dec(3, 15, 0))), ("csrf", &me.csrf)],
        Some(&me.cookie),
    )
    .await;
    assert_eq!(busy.status, StatusCode::CONFLICT, "{}", busy.shown());
    busy.assert_contains(r#"id="reschedule-error""#);
    let unreadable = post(
        &app,
        &url,
        &[("slot", "soon"), ("csrf", &me.csrf)],
        Some(&me.cookie),
    )
    .await;
    assert_eq!(unreadable.status, StatusCode::BAD_REQUEST);

    // The move: back to the list, which says so; same id, new time.
    let moved = post(
        &app,
        &url,
        &[("slot", &new_slot), ("csrf", &me.csrf)],
        Some(&me.cookie),
    )
    .await;
    assert_eq!(moved.status, StatusCode::SEE_OTHER, "{}", moved.shown());
    assert_eq!(moved.location(), "/dashboard?notice=rescheduled");
    let stored = fixture.service.get_booking(id, &organizer).await.unwrap();
    assert_eq!(stored.time, slot(dec(3, 14, 0)));
    assert_eq!(stored.sequence, 1);
    let list = get(&app, moved.location(), Some(&me.cookie)).await;
    list.assert_contains("Booking moved.");
    list.assert_contains("Thu 3 Dec 2026, 09:00 – 10:00 (America/New_York)");
    // The attendee's link still works and shows the new time.
    let token = created.cancel_token.expose();
    let confirmation = get(&app, &format!("/bookings/{id}?token={token}"), None).await;
    confirmation.assert_contains("Thu 3 Dec 2026, 09:00 – 10:00 (America/New_York)");

    // Another organizer's booking, an unknown id, a cancelled booking.
    let unknown = get(
        &app,
        "/dashboard/bookings/00000000-0000-0000-0000-000000000000/reschedule",
        Some(&me.cookie),
    )
    .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let garbage = get(
        &app,
        "/dashboard/bookings/nope/reschedule",
        Some(&me.cookie),
    )
    .await;
    assert_eq!(garbage.status, StatusCode::NOT_FOUND);
    let (_, other_token) = fixture
        .service
        .register_organizer(booking_core::NewOrganizer::new(
            "grace",
            "grace@example.com",
            "Grace Hopper",
            chrono_tz::America::New_York,
        ))
        .await
        .unwrap();
    let other = signed_in_from_token(&app, &fixture, other_token.expose()).await;
    let foreign = get(&app, &url, Some(&other.cookie)).await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
    let foreign_post = post(
        &app,
        &url,
        &[("slot", &slot_value(dec(4, 14, 0))), ("csrf", &other.csrf)],
        Some(&other.cookie),
    )
    .await;
    assert_eq!(foreign_post.status, StatusCode::NOT_FOUND);
    assert_eq!(
        fixture
            .service
            .get_booking(id, &organizer)
            .await
            .unwrap()
            .time,
        slot(dec(3, 14, 0))
    );

    fixture
        .service
        .cancel_booking(taken.booking.id, &organizer)
        .await
        .unwrap();
    let cancelled = get(
        &app,
        &format!("/dashboard/bookings/{}/reschedule", taken.booking.id),
        Some(&me.cookie),
    )
    .await;
    // A cancelled booking is gone from the organizer's bookings.
    assert_eq!(
        cancelled.status,
        StatusCode::NOT_FOUND,
        "{}",
        cancelled.shown()
    );
    let cancelled_post = post(
        &app,
        &format!("/dashboard/bookings/{}/reschedule", taken.booking.id),
        &[("slot", &slot_value(dec(4, 15, 0))), ("csrf", &me.csrf)],
        Some(&me.cookie),
    )
    .await;
    assert_eq!(cancelled_post.status, StatusCode::CONFLICT);
}

/// Another organizer, signed in.
async fn signed_in_from_token(
    app: &axum::Router,
    fixture: &Fixture,
    api_token: &str,
) -> ui_support::pages::SignedIn {
    ui_support::pages::signed_in(app, ui_support::pages::session_of(fixture, api_token).await).await
}
