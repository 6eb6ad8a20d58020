//! Invitations rendered from real bookings (a `BookingService` over the
//! memory store), parsed back with `icalendar`'s parser, every property
//! checked, with hostile text everywhere people can type.

mod support;

use std::sync::Arc;

use booking_calendar::ics::{BookingLinks, Contact, Invitation, decode_param_value};
use booking_calendar::{ItipMethod, OrganizerFeed};
use booking_core::chrono::{DateTime, Duration, TimeZone, Utc};
use booking_core::{
    Attendee, Booking, BookingRequest, BookingService, BookingStore, Credential, Location,
    ManualClock, MemoryStore, RescheduleRequest, TimeRange,
};
use icalendar::parser::{Component, Property, read_calendar, unfold};
use support::{calendar_property, register_ada};

const HOST: &str = "booking.example.com";
const HOSTILE_NAME: &str = "Zoë \"Z\" O'Neil, Jr.; CEO:\nBcc: evil@example.com ^ \\ 日本";
const HOSTILE_TEXT: &str =
    "Line one, with; punctuation: \\ backslash\r\nLine two\rLine three \"quoted\" ü 🎉\u{7}";
const CLEANED_TEXT: &str =
    "Line one, with; punctuation: \\ backslash\nLine two\nLine three \"quoted\" ü 🎉";

struct World {
    service: BookingService,
    store: Arc<dyn BookingStore>,
    clock: Arc<ManualClock>,
    organizer: booking_core::Organizer,
    location: Location,
}

fn at(day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, day, hour, minute, 0)
        .unwrap()
}

async fn world() -> World {
    let store: Arc<dyn BookingStore> = Arc::new(MemoryStore::new());
    let clock = Arc::new(ManualClock::new(at(1, 8, 0)));
    let service = BookingService::new(store.clone()).with_clock(clock.clone());
    let location = Location::InPerson {
        address: "1 Main St, Floor 2; Room \"B\"\nLondon".to_owned(),
    };
    let organizer = register_ada(
        &service,
        ("ada.lovelace+cal@example.com", HOSTILE_NAME),
        ("09:00", "17:00"),
        "Intro",
        Some(location.clone()),
    )
    .await;
    World {
        service,
        store,
        clock,
        organizer,
        location,
    }
}

async fn book(world: &World) -> (Booking, Credential) {
    let slot = TimeRange::starting_at(at(2, 10, 0), Duration::minutes(30)).unwrap();
    let created = world
        .service
        .create_booking(
            BookingRequest::new(
                "ada",
                slot,
                Attendee::new(HOSTILE_NAME, "grace/o'hopper%x@example.com"),
            )
            .event_type("intro")
            .title("Intro; \"review\", part\n2")
            .description(HOSTILE_TEXT),
        )
        .await
        .unwrap();
    (created.booking, Credential::from(&created.cancel_token))
}

fn links() -> BookingLinks {
    BookingLinks {
        reschedule: Some("https://booking.example.com/bookings/1/reschedule?t=a,b;c".to_owned()),
        cancel: Some("https://booking.example.com/bookings/1/cancel?t=x".to_owned()),
    }
}

fn render(world: &World, booking: &Booking) -> String {
    let organizer = Contact::from(&world.organizer);
    Invitation::new(booking, &organizer, HOST)
        .location(Some(&world.location))
        .links(links())
        .to_ics()
}

/// Every line of the output is CRLF-terminated and at most 75 octets.
fn assert_well_formed(ics: &str) {
    assert!(ics.ends_with("\r\n"));
    for line in ics.split("\r\n") {
        assert!(line.len() <= 75, "line longer than 75 octets: {line:?}");
        assert!(
            !line.contains('\n') && !line.contains('\r'),
            "raw line break in {line:?}"
        );
    }
}

fn props<'a>(component: &'a Component<'a>, name: &str) -> Vec<&'a Property<'a>> {
    component
        .properties
        .iter()
        .filter(|p| p.name.as_str() == name)
        .collect()
}

fn text(component: &Component<'_>, name: &str) -> String {
    let found = props(component, name);
    assert_eq!(found.len(), 1, "exactly one {name}");
    found[0].val.clone().unescape_text().as_str().to_owned()
}

fn param(property: &Property<'_>, key: &str) -> Option<String> {
    property
        .params
        .iter()
        .find(|p| p.key.as_str() == key)
        .and_then(|p| p.val.as_ref())
        .map(|v| decode_param_value(v.as_str().trim_matches('"')))
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            out.push(u8::from_str_radix(&text[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// Parses an invitation and checks every property against the booking.
fn check_invitation(booking: &Booking, ics: &str, method: &str, status: &str) {
    assert_well_formed(ics);
    let unfolded = unfold(ics);
    let calendar = read_calendar(&unfolded).unwrap();
    let calendar_prop = |name: &str| calendar_property(&calendar, name);
    assert_eq!(calendar_prop("METHOD").as_deref(), Some(method));
    assert_eq!(calendar_prop("VERSION").as_deref(), Some("2.0"));
    assert_eq!(
        calendar_prop("PRODID").as_deref(),
        Some(booking_calendar::ics::PRODUCT_ID)
    );
    assert_eq!(calendar.components.len(), 1, "one VEVENT and no VTIMEZONE");
    let event = &calendar.components[0];
    assert_eq!(event.name.as_str(), "VEVENT");

    assert_eq!(text(event, "UID"), format!("{}@{HOST}", booking.id));
    assert_eq!(text(event, "STATUS"), status);
    assert_eq!(text(event, "SEQUENCE"), booking.sequence.to_string());
    let utc = |t: DateTime<Utc>| t.format("%Y%m%dT%H%M%SZ").to_string();
    assert_eq!(text(event, "DTSTAMP"), utc(booking.updated_at));
    assert_eq!(text(event, "DTSTART"), utc(booking.start_time()));
    assert_eq!(text(event, "DTEND"), utc(booking.end_time()));
    assert_eq!(text(event, "SUMMARY"), "Intro; \"review\", part\n2");
    assert_eq!(
        text(event, "LOCATION"),
        "1 Main St, Floor 2; Room \"B\"\nLondon"
    );
    let description = text(event, "DESCRIPTION");
    assert!(description.starts_with(CLEANED_TEXT), "{description:?}");
    if booking.is_active() {
        assert!(description.contains(&format!("Reschedule: {}", links().reschedule.unwrap())));
        assert!(description.contains(&format!("Cancel: {}", links().cancel.unwrap())));
    } else {
        assert!(!description.contains("Reschedule:"));
        assert!(description.contains("cancelled"));
    }

    let organizer = props(event, "ORGANIZER");
    assert_eq!(organizer.len(), 1);
    assert_eq!(param(organizer[0], "CN").as_deref(), Some(HOSTILE_NAME));
    assert_eq!(
        percent_decode(organizer[0].val.as_str()),
        "mailto:ada.lovelace+cal@example.com"
    );
    let attendee = props(event, "ATTENDEE");
    assert_eq!(attendee.len(), 1);
    assert_eq!(param(attendee[0], "CN").as_deref(), Some(HOSTILE_NAME));
    assert_eq!(
        percent_decode(attendee[0].val.as_str()),
        "mailto:grace/o'hopper%x@example.com"
    );
    assert_eq!(
        param(attendee[0], "ROLE").as_deref(),
        Some("REQ-PARTICIPANT")
    );
}

#[tokio::test]
async fn an_invitation_carries_every_property_escaped() {
    let world = world().await;
    let (booking, _) = book(&world).await;
    let ics = render(&world, &booking);
    check_invitation(&booking, &ics, "REQUEST", "CONFIRMED");
    assert_eq!(
        render(&world, &booking),
        ics,
        "the same version renders the same bytes"
    );
}

#[tokio::test]
async fn a_reschedule_keeps_the_uid_and_raises_the_sequence_and_a_cancel_raises_it_again() {
    let world = world().await;
    let (booking, credential) = book(&world).await;
    let first = render(&world, &booking);

    world.clock.advance(Duration::minutes(5));
    let later = TimeRange::starting_at(at(3, 11, 0), Duration::minutes(30)).unwrap();
    let moved = world
        .service
        .reschedule(RescheduleRequest::new(booking.id, later), &credential)
        .await
        .unwrap()
        .booking;
    assert_eq!(moved.sequence, 1);
    let second = render(&world, &moved);
    check_invitation(&moved, &second, "REQUEST", "CONFIRMED");
    assert_ne!(first, second);

    world.clock.advance(Duration::minutes(5));
    let cancelled = world
        .service
        .cancel_booking(booking.id, &credential)
        .await
        .unwrap()
        .booking;
    assert_eq!(cancelled.sequence, 2);
    let third = render(&world, &cancelled);
    check_invitation(&cancelled, &third, "CANCEL", "CANCELLED");
    assert_eq!(ItipMethod::for_booking(&cancelled), ItipMethod::Cancel);
}

#[tokio::test]
async fn the_feed_lists_active_and_recently_cancelled_bookings() {
    let world = world().await;
    let (kept, _) = book(&world).await;
    let slot = TimeRange::starting_at(at(4, 9, 0), Duration::minutes(30)).unwrap();
    let gone = world
        .service
        .create_booking(
            BookingRequest::new("ada", slot, Attendee::new("Bob", "bob@example.com"))
                .event_type("intro"),
        )
        .await
        .unwrap();
    world
        .service
        .cancel_booking(gone.booking.id, &Credential::from(&gone.cancel_token))
        .await
        .unwrap();

    let feed = OrganizerFeed::new(world.store.clone(), HOST)
        .with_clock(world.clock.clone())
        .render(&world.organizer)
        .await
        .unwrap();
    assert_well_formed(&feed);
    let unfolded = unfold(&feed);
    let calendar = read_calendar(&unfolded).unwrap();
    assert_eq!(
        calendar_property(&calendar, "METHOD").as_deref(),
        Some("PUBLISH")
    );
    let mut entries: Vec<(String, String, String)> = calendar
        .components
        .iter()
        .map(|event| {
            (
                text(event, "UID"),
                text(event, "STATUS"),
                text(event, "SEQUENCE"),
            )
        })
        .collect();
    entries.sort();
    let mut expected = vec![
        (
            format!("{}@{HOST}", kept.id),
            "CONFIRMED".to_owned(),
            "0".to_owned(),
        ),
        (
            format!("{}@{HOST}", gone.booking.id),
            "CANCELLED".to_owned(),
            "1".to_owned(),
        ),
    ];
    expected.sort();
    assert_eq!(entries, expected);
    let kept_event = calendar
        .components
        .iter()
        .find(|e| text(e, "UID").starts_with(&kept.id.to_string()))
        .unwrap();
    assert_eq!(text(kept_event, "LOCATION"), world.location.detail());

    // Cancelled longer ago than the feed keeps cancellations, it leaves.
    world.clock.advance(Duration::days(2));
    let short = OrganizerFeed::new(world.store.clone(), HOST)
        .with_clock(world.clock.clone())
        .cancelled_within(Duration::days(1))
        .render(&world.organizer)
        .await
        .unwrap();
    assert!(!short.contains(&gone.booking.id.to_string()));
    assert!(short.contains(&kept.id.to_string()));
}
