//! The attendee's reschedule page at the HTTP level: the link on the
//! confirmation, the free times it offers, moving the booking, and what a
//! wrong token, a taken time, a cancelled booking or a forged form get.

mod ui_support;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use booking_core::service::Credential;
use ui_support::pages::{app, get, post, send};
use ui_support::{dec, fixture, form_body, slot_value};

#[tokio::test]
async fn the_confirmation_links_to_a_page_that_moves_the_booking() {
    let fixture = fixture().await;
    let app = app(&fixture);
    // Wednesday 2 December, 10:00 in New York (15:00 UTC).
    let created = fixture.book(dec(2, 15, 0), "<i>Intro</i>").await;
    let id = created.booking.id;
    let token = created.cancel_token.expose();

    let confirmation = get(&app, &format!("/bookings/{id}?token={token}"), None).await;
    assert_eq!(confirmation.status, StatusCode::OK);
    confirmation.assert_contains(&format!(
        r#"id="reschedule-link" href="/bookings/{id}/reschedule?token={token}&amp;tz=America%2FNew_York""#
    ));

    let cancel_page = get(&app, &format!("/bookings/{id}/cancel?token={token}"), None).await;
    cancel_page.assert_contains(&format!(
        r#"id="reschedule-link" href="/bookings/{id}/reschedule?token={token}">Reschedule instead</a>"#
    ));

    let page = get(
        &app,
        &format!("/bookings/{id}/reschedule?token={token}&tz=Asia%2FTokyo"),
        None,
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    page.assert_contains("&lt;i&gt;Intro&lt;/i&gt;");
    page.assert_contains(
        r#"<dd id="current-time">Thu 3 Dec 2026, 00:00 – 01:00 (Asia/Tokyo)</dd>"#,
    );
    // Free times of its event type, in the visitor's zone, one form each;
    // its own time is not among them.
    page.assert_contains(&format!(
        r#"<input type="hidden" name="slot" value="{}">"#,
        slot_value(dec(3, 14, 0))
    ));
    page.assert_contains(&format!(
        r#"<form method="post" action="/bookings/{id}/reschedule"><input type="hidden" name="token" value="{token}"><input type="hidden" name="tz" value="Asia/Tokyo">"#
    ));
    page.assert_contains("<h2>Thu 3 Dec 2026</h2>");
    page.assert_lacks(&slot_value(dec(2, 15, 0)));

    // Moving it: back to the confirmation, which shows the new time.
    let moved = post(
        &app,
        &format!("/bookings/{id}/reschedule"),
        &[
            ("token", token),
            ("tz", "Asia/Tokyo"),
            ("slot", &slot_value(dec(3, 14, 0))),
        ],
        None,
    )
    .await;
    assert_eq!(moved.status, StatusCode::SEE_OTHER, "{}", moved.shown());
    let location = moved.location().to_owned();
    assert_eq!(
        location,
        format!("/bookings/{id}?token={token}&tz=Asia%2FTokyo")
    );
    let shown = get(&app, &location, None).await;
    shown.assert_contains(
        r#"<dd id="organizer-time">Thu 3 Dec 2026, 09:00 – 10:00 (America/New_York)</dd>"#,
    );
    let stored = fixture
        .service
        .get_booking(id, &Credential::CancelToken(token.into()))
        .await
        .unwrap();
    assert_eq!(stored.start_time(), dec(3, 14, 0));
    assert_eq!(stored.sequence, 1);
    // The old time is offered again on the booking page.
    get(&app, "/ada?tz=America%2FNew_York&date=2026-12-02", None)
        .await
        .assert_contains(&slot_value(dec(2, 15, 0)));
}

#[tokio::test]
async fn refusals_leave_the_booking_where_it_was() {
    let fixture = fixture().await;
    let app = app(&fixture);
    let created = fixture.book(dec(2, 15, 0), "Intro").await;
    let other = fixture.book(dec(3, 15, 0), "Other").await;
    let id = created.booking.id;
    let token = created.cancel_token.expose();
    let path = format!("/bookings/{id}/reschedule");

    // A wrong token: the page and the move are "not found".
    let wrong = get(&app, &format!("{path}?token=nope"), None).await;
    assert_eq!(wrong.status, StatusCode::NOT_FOUND);
    let wrong = post(
        &app,
        &path,
        &[("token", "nope"), ("slot", &slot_value(dec(3, 14, 0)))],
        None,
    )
    .await;
    assert_eq!(wrong.status, StatusCode::NOT_FOUND);
    let other_token = other.cancel_token.expose();
    let crossed = post(
        &app,
        &path,
        &[("token", other_token), ("slot", &slot_value(dec(3, 14, 0)))],
        None,
    )
    .await;
    assert_eq!(crossed.status, StatusCode::NOT_FOUND);

    // A taken time: said so, with the times recomputed.
    let taken = post(
        &app,
        &path,
        &[
            ("token", token),
            ("tz", "America/New_York"),
            ("slot", &slot_value(dec(3, 15, 0))),
        ],
        None,
    )
    .await;
    assert_eq!(taken.status, StatusCode::CONFLICT);
    taken.assert_contains(r#"id="reschedule-error" role="alert">Sorry, that time was just taken."#);
    taken.assert_contains(&slot_value(dec(3, 14, 0)));
    // No time, or garbage: asked to pick one.
    let garbage = post(
        &app,
        &path,
        &[("token", token), ("slot", "yesterday/today")],
        None,
    )
    .await;
    assert_eq!(garbage.status, StatusCode::BAD_REQUEST);
    garbage.assert_contains("Please pick one of the times below.");

    // A form from another site is refused before anything is read.
    let request = Request::post(&path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "cross-site")
        .body(Body::from(form_body(&[
            ("token", token),
            ("slot", &slot_value(dec(3, 14, 0))),
        ])))
        .unwrap();
    let forged = send(&app, request).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);

    let stored = fixture
        .service
        .get_booking(id, &Credential::CancelToken(token.into()))
        .await
        .unwrap();
    assert_eq!(stored.start_time(), dec(2, 15, 0));
    assert_eq!(stored.sequence, 0);

    // Once it has started, or once it is cancelled, it cannot be moved.
    fixture.clock.set(dec(2, 15, 30));
    let started = post(
        &app,
        &path,
        &[("token", token), ("slot", &slot_value(dec(3, 14, 0)))],
        None,
    )
    .await;
    assert_eq!(started.status, StatusCode::CONFLICT);
    started.assert_contains("This booking has already started");
    fixture
        .service
        .cancel_booking(
            other.booking.id,
            &Credential::CancelToken(other_token.into()),
        )
        .await
        .unwrap();
    let cancelled = post(
        &app,
        &format!("/bookings/{}/reschedule", other.booking.id),
        &[("token", other_token), ("slot", &slot_value(dec(3, 14, 0)))],
        None,
    )
    .await;
    assert_eq!(cancelled.status, StatusCode::CONFLICT);
    cancelled.assert_contains("This booking was cancelled, so it cannot be moved.");
}
