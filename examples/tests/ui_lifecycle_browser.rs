//! The booking lifecycle in a real headless Chromium (see `ui_browser.rs`):
//! the booking page holds the picked time and counts it down, the booking
//! is made with the hold, then moved through the confirmation's
//! "Reschedule" link, and by the organizer from the dashboard; without
//! JavaScript the page books as before.

mod ui_support;

use booking_core::service::Credential;
use booking_core::{Attendee, BookingRequest, ServiceError, TimeRange};
use chrono::Duration;
use fantoccini::{Client, Locator};
use tokio::sync::Mutex;
use ui_support::browser::{
    Browser, click, run, screenshot, serve, text_of, type_into, wait_for, wait_for_text,
};
use ui_support::{dec, fixture, slot_value};

/// One Chromium at a time: the machine has two cores.
static ONE_BROWSER: Mutex<()> = Mutex::const_new(());

const NEW_YORK_PAGE: &str = "/ada?tz=America%2FNew_York&date=2026-12-02";

async fn pick_slot(client: &Client, start: chrono::DateTime<chrono::Utc>) {
    // The label is the clickable pill (the radio inside it is see-through).
    let label = format!("//input[@value='{}']/parent::label", slot_value(start));
    client
        .find(Locator::XPath(&label))
        .await
        .unwrap_or_else(|e| panic!("no slot {label}: {e}"))
        .click()
        .await
        .unwrap();
}

async fn fill_in(client: &Client) {
    type_into(client, "#name", "Grace Hopper").await;
    type_into(client, "#email", "grace@example.com").await;
    type_into(client, "#title", "Compilers").await;
}

/// A booking of the one-hour slot at `start` by someone else.
fn someone_else(start: chrono::DateTime<chrono::Utc>) -> BookingRequest {
    BookingRequest::new(
        "ada",
        TimeRange::starting_at(start, Duration::hours(1)).unwrap(),
        Attendee::new("Someone Else", "else@example.com"),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_visitor_holds_a_time_books_it_and_reschedules_through_the_confirmation() {
    let _one = ONE_BROWSER.lock().await;
    let fixture = fixture().await;
    let base = serve(booking_examples::router(fixture.service.clone())).await;
    let browser = Browser::start("America/New_York").await;
    let service = fixture.service.clone();
    let organizer_id = fixture.organizer.id;
    run(browser, move |client| async move {
        client
            .goto(&format!("{base}{NEW_YORK_PAGE}"))
            .await
            .unwrap();
        wait_for(&client, "#booking-form").await;

        // Picking 10:00 (15:00 UTC) holds it: the countdown appears, and
        // nobody else can book it meanwhile.
        pick_slot(&client, dec(2, 15, 0)).await;
        wait_for(&client, "#hold-status[data-expires]").await;
        let status = text_of(&client, "#hold-status").await;
        assert!(
            status.starts_with("This time is held for you until 03:05 ("),
            "{status}"
        );
        assert!(status.ends_with(" left)."), "{status}");
        let token = wait_for(&client, "#hold-token")
            .await
            .prop("value")
            .await
            .unwrap()
            .unwrap_or_default();
        assert!(!token.is_empty(), "the form carries the hold's token");
        screenshot(&client, "lifecycle-01-held").await;
        let refused = service.create_booking(someone_else(dec(2, 15, 0))).await;
        assert!(
            matches!(refused, Err(ServiceError::SlotUnavailable(_))),
            "{refused:?}"
        );

        // Picking another time lets the first go and holds the new one.
        pick_slot(&client, dec(2, 16, 0)).await;
        let deadline = std::time::Instant::now() + ui_support::browser::PATIENCE;
        loop {
            let now_held = wait_for(&client, "#hold-token")
                .await
                .prop("value")
                .await
                .unwrap()
                .unwrap_or_default();
            if !now_held.is_empty() && now_held != token {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "no second hold");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        // The first time is free again: someone else books it.
        let other = service
            .create_booking(someone_else(dec(2, 15, 0)))
            .await
            .expect("the released time is free again");

        // The visitor books 11:00 with its hold.
        fill_in(&client).await;
        click(&client, "#book-button").await;
        wait_for(&client, "#visitor-time").await;
        assert_eq!(
            text_of(&client, "#visitor-time").await,
            "Wed 2 Dec 2026, 11:00 – 12:00 (America/New_York)"
        );
        let id = client
            .current_url()
            .await
            .unwrap()
            .path()
            .trim_start_matches("/bookings/")
            .to_owned();
        screenshot(&client, "lifecycle-02-confirmed").await;

        // Reschedule: the confirmation's link, then a new time.
        click(&client, "#reschedule-link").await;
        wait_for(&client, "#current-time").await;
        assert_eq!(
            text_of(&client, "#current-time").await,
            "Wed 2 Dec 2026, 11:00 – 12:00 (America/New_York)"
        );
        screenshot(&client, "lifecycle-03-reschedule").await;
        click(&client, r#"button.slot[data-start="2026-12-03T14:00:00Z"]"#).await;
        wait_for_text(
            &client,
            "#visitor-time",
            "Thu 3 Dec 2026, 09:00 – 10:00 (America/New_York)",
        )
        .await;
        screenshot(&client, "lifecycle-04-moved").await;
        let moved_url = client.current_url().await.unwrap();
        assert_eq!(moved_url.path(), format!("/bookings/{id}"), "same booking");

        // The store agrees: same id, new time, sequence 1, the old time free.
        let list = service
            .list_bookings(organizer_id, booking_core::ListQuery::default())
            .await
            .unwrap();
        assert_eq!(list.total, 2);
        let moved = list
            .bookings
            .iter()
            .find(|b| b.id != other.booking.id)
            .unwrap();
        assert_eq!(moved.id.to_string(), id);
        assert_eq!(moved.start_time(), dec(3, 14, 0));
        assert_eq!(moved.sequence, 1);
        service
            .create_booking(someone_else(dec(2, 16, 0)))
            .await
            .expect("the old time is free again");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_organizer_reschedules_from_the_dashboard() {
    let _one = ONE_BROWSER.lock().await;
    let fixture = fixture().await;
    let created = fixture.book(dec(2, 15, 0), "Intro").await;
    let id = created.booking.id;
    let base = serve(booking_examples::router(fixture.service.clone())).await;
    let browser = Browser::start("America/New_York").await;
    let service = fixture.service.clone();
    let organizer = Credential::Organizer(fixture.organizer.id);
    let token = fixture.api_token.clone();
    run(browser, move |client| async move {
        client.goto(&format!("{base}/dashboard")).await.unwrap();
        type_into(&client, "#token", &token).await;
        click(&client, "#login-button").await;
        wait_for_text(&client, "#list-summary", "1 booking").await;
        click(&client, "#bookings .reschedule-link").await;
        wait_for(&client, "#current-time").await;
        assert_eq!(text_of(&client, "#attendee-name").await, "Grace Hopper");
        screenshot(&client, "lifecycle-05-dashboard-reschedule").await;
        click(&client, r#"button.slot[data-start="2026-12-03T16:00:00Z"]"#).await;
        wait_for_text(
            &client,
            "#notice",
            "Booking moved. The attendee's links still work for the new time.",
        )
        .await;
        wait_for_text(
            &client,
            "#bookings td.when",
            "Thu 3 Dec 2026, 11:00 – 12:00 (America/New_York)",
        )
        .await;
        screenshot(&client, "lifecycle-06-dashboard-moved").await;
        let stored = service.get_booking(id, &organizer).await.unwrap();
        assert_eq!(stored.start_time(), dec(3, 16, 0));
        assert_eq!(stored.sequence, 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn without_javascript_the_page_books_without_a_hold() {
    let _one = ONE_BROWSER.lock().await;
    let fixture = fixture().await;
    let base = serve(booking_examples::router(fixture.service.clone())).await;
    let browser = Browser::start_without_javascript("America/New_York").await;
    let service = fixture.service.clone();
    let organizer = fixture.organizer.id;
    run(browser, move |client| async move {
        client
            .goto(&format!("{base}{NEW_YORK_PAGE}"))
            .await
            .unwrap();
        wait_for(&client, "#booking-form").await;
        pick_slot(&client, dec(2, 15, 0)).await;
        fill_in(&client).await;
        click(&client, "#book-button").await;
        wait_for_text(
            &client,
            "#visitor-time",
            "Wed 2 Dec 2026, 10:00 – 11:00 (America/New_York)",
        )
        .await;
        let list = service
            .list_bookings(organizer, booking_core::ListQuery::default())
            .await
            .unwrap();
        assert_eq!(list.total, 1);
    })
    .await;
}
