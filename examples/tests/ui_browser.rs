//! The web pages driven in a real headless Chromium (Debian's `chromium`
//! through `chromedriver`, see `examples/scripts/ensure-browser.sh`).
//!
//! The server is the service's whole router (`booking_examples::router`:
//! the JSON API with the pages merged in), over the in-memory store with a
//! fixed clock. Each page visited is saved as a PNG under
//! `target/ui-screenshots/` so a person can look at them.

mod ui_support;

use fantoccini::{Client, Locator};
use tokio::sync::Mutex;
use ui_support::browser::{
    Browser, click, count, displayed, fits_width, run, screenshot, serve, set_value, text_of,
    texts_of, type_into, value_of, wait_for, wait_for_text,
};
use ui_support::{dec, fixture, slot_value};

/// One Chromium at a time: the machine has two cores.
static ONE_BROWSER: Mutex<()> = Mutex::const_new(());

const NEW_YORK: &str = "America/New_York";

/// The label (the clickable pill) of the slot starting at `start`.
fn slot_label(start: chrono::DateTime<chrono::Utc>) -> String {
    format!("//input[@value='{}']/parent::label", slot_value(start))
}

async fn pick_slot(client: &Client, start: chrono::DateTime<chrono::Utc>) {
    let label = slot_label(start);
    client
        .find(Locator::XPath(&label))
        .await
        .unwrap_or_else(|e| panic!("no slot {label}: {e}"))
        .click()
        .await
        .unwrap();
}

/// Hours as `09:00-17:00`.
fn hours_text(hours: &[booking_core::time::LocalInterval]) -> Vec<String> {
    hours.iter().map(ToString::to_string).collect()
}

async fn sign_in(client: &Client, base: &str, token: &str) {
    client.goto(&format!("{base}/dashboard")).await.unwrap();
    type_into(client, "#token", token).await;
    click(client, "#login-button").await;
    wait_for(client, "#list-summary").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_visitor_in_tokyo_books_and_cancels_while_the_organizer_watches_the_list() {
    let _one = ONE_BROWSER.lock().await;
    let fixture = fixture().await;
    let base = serve(booking_examples::router(fixture.service.clone())).await;
    // The browser's own zone is Tokyo; the organizer works in New York.
    let browser = Browser::start("Asia/Tokyo").await;
    let token = fixture.api_token.clone();
    run(browser, move |client| async move {
        // The page detects the browser's zone and shows the slots in it.
        client.goto(&format!("{base}/ada")).await.unwrap();
        wait_for(&client, r#"#tz option[value="Asia/Tokyo"][selected]"#).await;
        let url = client.current_url().await.unwrap();
        assert_eq!(url.query(), Some("tz=Asia%2FTokyo"));
        // It is 17:00 on Tuesday in Tokyo; New York's Tuesday 09:00 is 23:00 here.
        assert_eq!(text_of(&client, "#day-heading").await, "Tue 1 Dec 2026");
        assert_eq!(texts_of(&client, ".slot span").await, ["23:00"]);
        screenshot(&client, "01-booking-page").await;

        // Thursday in Tokyo holds New York's Wednesday 10:00 and 11:00 and Thursday 09:00.
        click(&client, r#"a[data-date="2026-12-03"]"#).await;
        wait_for_text(&client, "#day-heading", "Thu 3 Dec 2026").await;
        assert_eq!(
            texts_of(&client, ".slot span").await,
            ["00:00", "01:00", "23:00"]
        );

        pick_slot(&client, dec(2, 15, 0)).await;
        type_into(&client, "#name", "Grace Hopper").await;
        type_into(&client, "#email", "grace@example.com").await;
        type_into(&client, "#title", "<script>alert(1)</script>").await;
        type_into(&client, "#notes", "Compilers & <b>bugs</b>").await;
        screenshot(&client, "02-booking-form-filled").await;
        click(&client, "#book-button").await;

        // The confirmation shows both zones, and the title as text.
        wait_for(&client, "#visitor-time").await;
        assert_eq!(
            text_of(&client, "#visitor-zone").await,
            "Asia/Tokyo (UTC+09:00)"
        );
        assert_eq!(
            text_of(&client, "#visitor-time").await,
            "Thu 3 Dec 2026, 00:00 – 01:00 (Asia/Tokyo)"
        );
        assert_eq!(
            text_of(&client, "#organizer-zone").await,
            "America/New_York (UTC-05:00)"
        );
        assert_eq!(
            text_of(&client, "#organizer-time").await,
            "Wed 2 Dec 2026, 10:00 – 11:00 (America/New_York)"
        );
        assert_eq!(
            text_of(&client, "#booking-title").await,
            "<script>alert(1)</script>"
        );
        assert_eq!(
            text_of(&client, "#booking-notes").await,
            "Compilers & <b>bugs</b>"
        );
        let injected = client
            .execute(
                "return document.querySelectorAll('main script, main b').length;",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(injected, 0, "typed markup must not become elements");
        let cancel_link = wait_for(&client, "#cancel-link")
            .await
            .prop("href")
            .await
            .unwrap()
            .unwrap();
        assert!(
            cancel_link.starts_with(&format!("{base}/bookings/"))
                && cancel_link.contains("/cancel?token="),
            "{cancel_link}"
        );
        screenshot(&client, "03-confirmation").await;

        // The organizer signs in and sees the booking, in New York time.
        client.goto(&format!("{base}/dashboard")).await.unwrap();
        wait_for(&client, "#token").await;
        screenshot(&client, "04-dashboard-sign-in").await;
        type_into(&client, "#token", &token).await;
        click(&client, "#login-button").await;
        wait_for_text(&client, "#list-summary", "1 booking").await;
        let cookie = client
            .execute("return document.cookie;", vec![])
            .await
            .unwrap();
        assert_eq!(cookie, "", "the session cookie is HttpOnly");
        assert_eq!(
            texts_of(&client, "#bookings td.when").await,
            ["Wed 2 Dec 2026, 10:00 – 11:00 (America/New_York)"]
        );
        assert_eq!(
            texts_of(&client, "#bookings .booking-title").await,
            ["<script>alert(1)</script>"]
        );
        screenshot(&client, "05-dashboard-bookings").await;

        // The visitor follows the cancel link and presses Cancel.
        client.goto(&cancel_link).await.unwrap();
        wait_for(&client, "#cancel-button").await;
        let local = text_of(&client, "#local-time").await;
        assert_eq!(
            local, "Thu 3 Dec 2026, 00:00 – 01:00 (Asia/Tokyo)",
            "the cancel page shows the browser's zone, written as the server writes dates"
        );
        screenshot(&client, "06-cancel-page").await;
        click(&client, "#cancel-button").await;
        wait_for(&client, "#cancelled").await;
        screenshot(&client, "07-cancelled").await;

        // The organizer's list no longer has it.
        client.goto(&format!("{base}/dashboard")).await.unwrap();
        wait_for_text(&client, "#list-summary", "No bookings").await;
        assert!(texts_of(&client, "#bookings tr").await.is_empty());
        screenshot(&client, "08-dashboard-after-cancel").await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_taken_slot_the_zone_picker_phone_width_and_the_organizers_tools() {
    let _one = ONE_BROWSER.lock().await;
    let fixture = fixture().await;
    let base = serve(booking_examples::router(fixture.service.clone())).await;
    let browser = Browser::start("America/Los_Angeles").await;
    let service = fixture.service.clone();
    let organizer = fixture.organizer.id;
    let token = fixture.api_token.clone();
    run(browser, move |client| async move {
        // The visitor changes zone with the picker.
        client.goto(&format!("{base}/ada")).await.unwrap();
        wait_for(&client, r#"#tz option[value="America/Los_Angeles"][selected]"#).await;
        wait_for(&client, "#tz").await.select_by_value("Asia/Kolkata").await.unwrap();
        wait_for(&client, r#"#tz option[value="Asia/Kolkata"][selected]"#).await;

        // Wednesday in Kolkata: New York's 09:00, 10:00 and 11:00 are 19:30, 20:30 and 21:30.
        click(&client, r#"a[data-date="2026-12-02"]"#).await;
        wait_for_text(&client, "#day-heading", "Wed 2 Dec 2026").await;
        assert_eq!(texts_of(&client, ".slot span").await, ["19:30", "20:30", "21:30"]);
        // Someone else takes the slot while the page is open, so picking it
        // cannot hold it for the visitor any more (the script says so), and
        // pressing Book says it is taken.
        fixture.book(dec(2, 14, 0), "Faster").await;
        pick_slot(&client, dec(2, 14, 0)).await;
        wait_for_text(
            &client,
            "#hold-status",
            "Sorry, someone else has just taken or is holding this time. Please pick another one.",
        )
        .await;
        type_into(&client, "#name", "Katherine Johnson").await;
        type_into(&client, "#email", "kj@example.com").await;
        type_into(&client, "#title", "Orbits").await;
        click(&client, "#book-button").await;
        wait_for_text(
            &client,
            "#slot-error",
            "Sorry, that time was just booked by someone else. The times below are up to date; please pick another one.",
        )
        .await;
        assert_eq!(texts_of(&client, ".slot span").await, ["20:30", "21:30"]);
        assert_eq!(
            value_of(&client, "#name").await.as_deref(),
            Some("Katherine Johnson")
        );
        screenshot(&client, "09-slot-taken").await;

        // A field error sits next to its field.
        pick_slot(&client, dec(2, 15, 0)).await;
        type_into(&client, "#email", "not an email").await;
        click(&client, "#book-button").await;
        wait_for(&client, "#error-email").await;
        assert_eq!(
            wait_for(&client, "#email").await.attr("aria-describedby").await.unwrap().as_deref(),
            Some("error-email")
        );
        screenshot(&client, "10-field-error").await;

        // At a phone's width nothing scrolls sideways.
        client.set_window_size(390, 844).await.unwrap();
        client
            .goto(&format!("{base}/ada?tz=Asia%2FKolkata&date=2026-12-02"))
            .await
            .unwrap();
        wait_for(&client, "#booking-form").await;
        let width = client.execute("return window.innerWidth;", vec![]).await.unwrap();
        assert!(width.as_u64().is_some_and(|w| w <= 420), "phone-sized window: {width}");
        assert!(fits_width(&client).await, "the booking page fits a phone's width");
        screenshot(&client, "11-booking-page-phone").await;

        sign_in(&client, &base, &token).await;
        assert!(fits_width(&client).await, "the dashboard fits a phone's width");
        screenshot(&client, "12-dashboard-phone").await;
        client.goto(&format!("{base}/dashboard/settings")).await.unwrap();
        wait_for(&client, "#settings-form").await;
        assert!(fits_width(&client).await, "the settings page fits a phone's width");
        screenshot(&client, "13-settings-phone").await;
        client.set_window_size(1280, 1000).await.unwrap();

        // The organizer cancels from the list (the confirmation dialog is accepted).
        client.goto(&format!("{base}/dashboard")).await.unwrap();
        wait_for_text(&client, "#list-summary", "1 booking").await;
        click(&client, "#bookings td.actions button").await;
        wait_for_text(&client, "#notice", "Booking cancelled. The time is free again.").await;
        wait_for_text(&client, "#list-summary", "No bookings").await;

        // Settings: a mistake is shown next to its day, then a fix is saved.
        client.goto(&format!("{base}/dashboard/settings")).await.unwrap();
        wait_for(&client, "#settings-form").await;
        screenshot(&client, "14-settings").await;
        set_value(&client, "#thursday-start-0", "17:00").await;
        set_value(&client, "#thursday-end-0", "09:00").await;
        click(&client, "#save-settings").await;
        wait_for_text(
            &client,
            "#error-thursday",
            "17:00 – 09:00: the end must be after the start.",
        )
        .await;
        screenshot(&client, "15-settings-error").await;
        set_value(&client, "#thursday-start-0", "10:00").await;
        set_value(&client, "#thursday-end-0", "11:00").await;
        type_into(&client, "#slotMinutes", "30").await;

        // The editor works in place: Saturday is switched on, gets a second
        // row and loses its first, and a date override is added, all
        // without a round trip to the server.
        assert!(!displayed(&client, "#saturday .add-hours").await, "a day off hides its hours");
        click(&client, "label[for='saturday-open']").await;
        assert!(displayed(&client, "#saturday .add-hours").await);
        click(&client, "#saturday .add-hours").await;
        assert_eq!(count(&client, "#saturday .interval").await, 2);
        click(&client, "#saturday .interval:first-child .remove-hours").await;
        assert_eq!(count(&client, "#saturday .interval").await, 1);
        click(&client, "#add-override").await;
        set_value(&client, "#override-1-date", "2026-12-24").await;
        assert_eq!(count(&client, "#notice").await, 0, "nothing was sent to the server");
        screenshot(&client, "16-settings-editor").await;
        click(&client, "#save-settings").await;
        wait_for_text(&client, "#notice", "Settings saved.").await;
        let settings = service.settings(organizer).await.unwrap();
        assert_eq!(settings.slot_duration().num_minutes(), 30);
        assert_eq!(settings.weekly_hours().thursday.len(), 1);
        assert_eq!(hours_text(&settings.weekly_hours().saturday), ["17:00-18:00"]);
        assert_eq!(settings.date_overrides().len(), 1);

        // The public page follows at once.
        client
            .goto(&format!("{base}/ada?tz={}&date=2026-12-03", NEW_YORK.replace('/', "%2F")))
            .await
            .unwrap();
        wait_for_text(&client, "#day-heading", "Thu 3 Dec 2026").await;
        assert_eq!(texts_of(&client, ".slot span").await, ["10:00", "10:30"]);
        client
            .goto(&format!("{base}/ada?tz=America%2FNew_York&date=2026-12-24"))
            .await
            .unwrap();
        wait_for_text(&client, "#no-slots-day", "No free times on this day.").await;

        // Signing out forgets the session.
        client.goto(&format!("{base}/dashboard")).await.unwrap();
        click(&client, "#logout").await;
        wait_for(&client, "#login-form").await;
        client.goto(&format!("{base}/dashboard/settings")).await.unwrap();
        wait_for(&client, "#login-form").await;
    })
    .await;
}

/// A page on another origin of the same site (another loopback port, as
/// `evil.example.com` is to `booking.example.com`: `SameSite=Strict` lets
/// the session cookie through) auto-submits the dashboard's cancel form. The
/// booking must stay active.
#[tokio::test(flavor = "multi_thread")]
async fn a_form_from_another_origin_cannot_cancel_a_booking() {
    let _one = ONE_BROWSER.lock().await;
    let fixture = fixture().await;
    let base = serve(booking_examples::router(fixture.service.clone())).await;
    let victim = fixture.book(dec(2, 15, 0), "Keep me").await.booking.id;
    let target = format!("{base}/dashboard/bookings/{victim}/cancel");
    let attacker = serve(axum::Router::new().route(
        "/",
        axum::routing::get(move || {
            let target = target.clone();
            async move {
                axum::response::Html(format!(
                    r#"<!DOCTYPE html><html><body>
                    <form id="forged" method="post" action="{target}">
                      <input type="hidden" name="page" value="1">
                      <input type="hidden" name="csrf" value="0000">
                    </form>
                    <script>document.getElementById("forged").submit();</script>
                    </body></html>"#
                ))
            }
        }),
    ))
    .await;
    assert_ne!(attacker, base, "two origins");
    let browser = Browser::start(NEW_YORK).await;
    let token = fixture.api_token.clone();
    let service = fixture.service.clone();
    run(browser, move |client| async move {
        sign_in(&client, &base, &token).await;
        client.goto(&attacker).await.unwrap();
        // The forged form lands on the service, which answers it.
        let deadline = std::time::Instant::now() + ui_support::browser::PATIENCE;
        loop {
            let url = client.current_url().await.unwrap();
            if url.as_str().starts_with(&base) {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the forged form was not sent: {url}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        wait_for(&client, "main").await;
        screenshot(&client, "20-forged-cancel-refused").await;
        let booking = service
            .get_booking(
                victim,
                &booking_core::service::Credential::Organizer(fixture.organizer.id),
            )
            .await
            .expect("the booking is still there");
        assert!(
            booking.deleted_at.is_none(),
            "the forged form cancelled the booking"
        );
        // The organizer's own list still shows it.
        client.goto(&format!("{base}/dashboard")).await.unwrap();
        wait_for_text(&client, "#list-summary", "1 booking").await;
    })
    .await;
}

/// Polls until the element `css` matches shows some text; returns it.
async fn wait_for_some_text(client: &Client, css: &str) -> String {
    let deadline = std::time::Instant::now() + ui_support::browser::PATIENCE;
    loop {
        let text = text_of(client, css).await;
        if !text.is_empty() {
            return text;
        }
        assert!(std::time::Instant::now() < deadline, "{css} stayed empty");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_organizer_signs_up_from_the_landing_page_and_opens_their_page() {
    let _one = ONE_BROWSER.lock().await;
    let fixture = fixture().await;
    let base = serve(booking_examples::router(fixture.service.clone())).await;
    let browser = Browser::start("Europe/Paris").await;
    let service = fixture.service.clone();
    run(browser, move |client| async move {
        client.goto(&format!("{base}/")).await.unwrap();
        wait_for(&client, "#landing-signup").await;
        assert!(fits_width(&client).await);
        screenshot(&client, "00-landing").await;
        click(&client, "#landing-signup a").await;
        wait_for(&client, "#signup-form").await;
        // The browser's zone is preselected.
        let zone = value_of(&client, "#timeZone").await;
        assert_eq!(zone.as_deref(), Some("Europe/Paris"));
        type_into(&client, "#username", "grace").await;
        type_into(&client, "#name", "Grace Hopper").await;
        type_into(&client, "#email", "grace@example").await;
        screenshot(&client, "17-sign-up").await;
        click(&client, "#signup-button").await;
        // A mistake comes back next to its field, the rest kept.
        wait_for(&client, "#error-email").await;
        assert_eq!(
            value_of(&client, "#username").await.as_deref(),
            Some("grace")
        );
        screenshot(&client, "18-sign-up-error").await;
        type_into(&client, "#email", "grace@example.com").await;
        click(&client, "#signup-button").await;

        // The token, once, with the note to copy it now.
        let token = value_of(&client, "#api-token").await.unwrap();
        let organizer = service
            .authenticate(&token)
            .await
            .expect("the token shown is the organizer's");
        assert_eq!(organizer.username, "grace");
        assert_eq!(organizer.time_zone, chrono_tz::Europe::Paris);
        assert!(
            text_of(&client, "#welcome")
                .await
                .contains("Copy your API token now: it is shown only this once.")
        );
        click(&client, "#copy-token").await;
        wait_for_some_text(&client, "#copy-status").await;
        screenshot(&client, "19-signed-up").await;

        // Signed in already: on to the hours, saved as suggested.
        click(&client, "#set-hours").await;
        wait_for(&client, "#settings-form").await;
        let zone = value_of(&client, "#timeZone").await;
        assert_eq!(zone.as_deref(), Some("Europe/Paris"));
        click(&client, "#save-settings").await;
        wait_for_text(&client, "#notice", "Settings saved.").await;
        let settings = service.settings(organizer.id).await.unwrap();
        assert_eq!(settings.weekly_hours().monday[0].to_string(), "09:00-17:00");

        // Their page is open.
        client.goto(&format!("{base}/grace")).await.unwrap();
        wait_for_text(&client, "h1", "Book a meeting with Grace Hopper").await;
        assert!(!texts_of(&client, ".slot span").await.is_empty());
    })
    .await;
}

/// With JavaScript off the hours editor still works: each Add or Remove
/// button sends the form and the page comes back changed, unsaved.
#[tokio::test(flavor = "multi_thread")]
async fn the_hours_editor_works_without_javascript() {
    let _one = ONE_BROWSER.lock().await;
    let fixture = fixture().await;
    let base = serve(booking_examples::router(fixture.service.clone())).await;
    let browser = Browser::start_without_javascript(NEW_YORK).await;
    let token = fixture.api_token.clone();
    let service = fixture.service.clone();
    let organizer = fixture.organizer.id;
    run(browser, move |client| async move {
        sign_in(&client, &base, &token).await;
        client
            .goto(&format!("{base}/dashboard/settings"))
            .await
            .unwrap();
        wait_for(&client, "#settings-form").await;
        // No script ran: the page has no `js` class.
        assert_eq!(
            wait_for(&client, "html").await.attr("class").await.unwrap(),
            None
        );
        // The switch shows Saturday's hours with CSS alone.
        assert!(!displayed(&client, "#saturday .add-hours").await);
        click(&client, "label[for='saturday-open']").await;
        assert!(displayed(&client, "#saturday .add-hours").await);
        click(&client, "#saturday .add-hours").await;
        wait_for_text(
            &client,
            "#notice",
            "Not saved yet: press Save settings when you are done.",
        )
        .await;
        assert_eq!(count(&client, "#saturday .interval").await, 2);
        let url = client.current_url().await.unwrap();
        assert_eq!(
            url.fragment(),
            Some("saturday"),
            "the page comes back where the button was"
        );
        click(&client, "#saturday .interval:first-child .remove-hours").await;
        wait_for(&client, "#notice").await;
        assert_eq!(count(&client, "#saturday .interval").await, 1);
        click(&client, "#add-override").await;
        wait_for(&client, "#override-1-date").await;
        screenshot(&client, "21-settings-without-javascript").await;
        // Saving with the new date left empty says so next to it.
        click(&client, "#save-settings").await;
        wait_for_text(&client, "#error-override-1", "Pick a date.").await;
        click(&client, "#override-1 .remove-override").await;
        wait_for(&client, "#notice").await;
        assert_eq!(count(&client, "#override-1").await, 0);
        click(&client, "#save-settings").await;
        wait_for_text(&client, "#notice", "Settings saved.").await;
        let settings = service.settings(organizer).await.unwrap();
        assert_eq!(
            hours_text(&settings.weekly_hours().saturday),
            ["17:00-18:00"]
        );
        assert!(settings.date_overrides().is_empty());
    })
    .await;
}

/// A visitor picks one of the organizer's event types and one of its
/// lengths, books it, sees where it takes place, and the organizer finds it
/// in the dashboard with its event type.
#[tokio::test(flavor = "multi_thread")]
async fn a_visitor_picks_an_event_type_books_it_and_the_dashboard_shows_it() {
    let _one = ONE_BROWSER.lock().await;
    let fixture = fixture().await;
    let consultation = booking_core::EventTypeDraft {
        description: Some("Bring your questions.".into()),
        duration_options: vec![chrono::Duration::minutes(30), chrono::Duration::minutes(60)],
        location: Some(booking_core::Location::Video {
            url: "https://meet.example.com/ada".into(),
        }),
        ..booking_core::EventTypeDraft::new(
            "consult",
            "Consultation",
            chrono::Duration::minutes(30),
        )
    };
    fixture
        .service
        .create_event_type(fixture.organizer.id, consultation)
        .await
        .unwrap();
    let base = serve(booking_examples::router(fixture.service.clone())).await;
    let browser = Browser::start(NEW_YORK).await;
    let token = fixture.api_token.clone();
    run(browser, move |client| async move {
        client.goto(&format!("{base}/ada")).await.unwrap();
        wait_for(&client, "#event-types").await;
        // Oldest first, to the millisecond (ids are ULIDs): order aside.
        let mut listed = texts_of(&client, "#event-types h2").await;
        listed.sort();
        assert_eq!(listed, ["Consultation", "Meeting"]);
        screenshot(&client, "22-event-types").await;
        click(&client, r#"li[data-slug="consult"] h2 a"#).await;
        wait_for_text(&client, "#event-title", "Consultation").await;
        assert_eq!(text_of(&client, "#event-location").await, "Video call");
        // The chooser of lengths: an hour.
        click(&client, "#length-60").await;
        wait_for(&client, r#"#length-60[aria-current="true"]"#).await;
        click(&client, r#"a[data-date="2026-12-02"]"#).await;
        wait_for_text(&client, "#day-heading", "Wed 2 Dec 2026").await;
        assert_eq!(
            texts_of(&client, ".slot span").await,
            ["09:00", "10:00", "11:00"]
        );
        screenshot(&client, "23-event-type-page").await;
        pick_slot(&client, dec(2, 15, 0)).await;
        type_into(&client, "#name", "Grace Hopper").await;
        type_into(&client, "#email", "grace@example.com").await;
        assert_eq!(
            value_of(&client, "#title").await.as_deref(),
            Some("Consultation")
        );
        click(&client, "#book-button").await;
        wait_for(&client, "#booking-location").await;
        assert_eq!(
            text_of(&client, "#booking-location").await,
            "Video call: https://meet.example.com/ada"
        );
        assert_eq!(
            text_of(&client, "#organizer-time").await,
            "Wed 2 Dec 2026, 10:00 – 11:00 (America/New_York)"
        );
        screenshot(&client, "24-event-type-booked").await;

        sign_in(&client, &base, &token).await;
        wait_for_text(&client, "#list-summary", "1 booking").await;
        assert_eq!(
            texts_of(&client, "#bookings .booking-type").await,
            ["Consultation · Video call: https://meet.example.com/ada"]
        );
        assert_eq!(
            texts_of(&client, "#bookings td.when").await,
            ["Wed 2 Dec 2026, 10:00 – 11:00 (America/New_York)"]
        );
        client
            .goto(&format!("{base}/dashboard/event-types"))
            .await
            .unwrap();
        wait_for(&client, r#"tr[data-slug="consult"]"#).await;
        screenshot(&client, "25-dashboard-event-types").await;
        click(&client, "#new-event-type").await;
        wait_for(&client, "#event-type-form").await;
        screenshot(&client, "26-new-event-type").await;
        client.set_window_size(390, 844).await.unwrap();
        assert!(
            fits_width(&client).await,
            "the event type form fits a phone's width"
        );
        client.goto(&format!("{base}/ada/consult")).await.unwrap();
        wait_for(&client, "#booking-form").await;
        assert!(
            fits_width(&client).await,
            "the event type's page fits a phone's width"
        );
        client.set_window_size(1280, 1000).await.unwrap();
    })
    .await;
}
