//! Busy time from real calendar servers on loopback: Radicale over CalDAV
//! (with basic auth) and as an ICS feed, and an HTTP server with ETags;
//! through the provider alone and through a `BookingService`.

mod support;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use booking_calendar::fetch::ReadError;
use booking_calendar::{CalendarProvider, Connections, NewConnection};
use booking_core::chrono::{DateTime, Duration, TimeZone, Utc};
use booking_core::secret::SecretBox;
use booking_core::{
    Attendee, AvailabilityProvider, BookingRequest, BookingService, BookingStore, BusyPurpose,
    ManualClock, MemoryStore, Organizer, ProviderError, ServiceError, SlotQuery, TimeRange,
};
use booking_net::{SafeClient, SafeClientOptions, UrlPolicy};
use support::{http, radicale, register_ada};

const USER: &str = "alice";
const PASSWORD: &str = "s3cret: pass";

fn utc(month: u32, day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2027, month, day, hour, minute, 0)
        .unwrap()
}

fn range(from: DateTime<Utc>, to: DateTime<Utc>) -> TimeRange {
    TimeRange::new(from, to).unwrap()
}

fn vcalendar(events: &str) -> String {
    format!("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n{events}END:VCALENDAR\r\n")
}

/// The organizer's other calendar: one resource per event, as a calendar
/// client writes them.
fn events() -> Vec<(&'static str, String)> {
    vec![
        // Mondays 10:00 in Berlin, four times, across Europe's DST change
        // on 28 March; the 22 March instance cancelled.
        (
            "weekly.ics",
            vcalendar(concat!(
                "BEGIN:VEVENT\r\nUID:weekly@test\r\nDTSTAMP:20270101T000000Z\r\nSUMMARY:Team sync\r\n",
                "DTSTART;TZID=Europe/Berlin:20270315T100000\r\nDTEND;TZID=Europe/Berlin:20270315T110000\r\n",
                "RRULE:FREQ=WEEKLY;COUNT=4\r\nEND:VEVENT\r\n",
                "BEGIN:VEVENT\r\nUID:weekly@test\r\nDTSTAMP:20270101T000000Z\r\nSUMMARY:Team sync\r\n",
                "RECURRENCE-ID;TZID=Europe/Berlin:20270322T100000\r\n",
                "DTSTART;TZID=Europe/Berlin:20270322T100000\r\nDTEND;TZID=Europe/Berlin:20270322T110000\r\n",
                "STATUS:CANCELLED\r\nEND:VEVENT\r\n",
            )),
        ),
        // All day on Wednesday 31 March.
        (
            "allday.ics",
            vcalendar(concat!(
                "BEGIN:VEVENT\r\nUID:allday@test\r\nDTSTAMP:20270101T000000Z\r\nSUMMARY:Offsite\r\n",
                "DTSTART;VALUE=DATE:20270331\r\nDTEND;VALUE=DATE:20270401\r\nEND:VEVENT\r\n",
            )),
        ),
        // Free time: transparent, and cancelled.
        (
            "transparent.ics",
            vcalendar(concat!(
                "BEGIN:VEVENT\r\nUID:transparent@test\r\nDTSTAMP:20270101T000000Z\r\nSUMMARY:Focus\r\n",
                "DTSTART:20270330T120000Z\r\nDTEND:20270330T130000Z\r\nTRANSP:TRANSPARENT\r\nEND:VEVENT\r\n",
            )),
        ),
        (
            "cancelled.ics",
            vcalendar(concat!(
                "BEGIN:VEVENT\r\nUID:cancelled@test\r\nDTSTAMP:20270101T000000Z\r\nSUMMARY:Gone\r\n",
                "DTSTART:20270330T150000Z\r\nDTEND:20270330T160000Z\r\nSTATUS:CANCELLED\r\nEND:VEVENT\r\n",
            )),
        ),
        // 09:00 in New York (already on summer time since 14 March).
        (
            "newyork.ics",
            vcalendar(concat!(
                "BEGIN:VEVENT\r\nUID:newyork@test\r\nDTSTAMP:20270101T000000Z\r\nSUMMARY:Call\r\n",
                "DTSTART;TZID=America/New_York:20270330T090000\r\n",
                "DTEND;TZID=America/New_York:20270330T100000\r\nEND:VEVENT\r\n",
            )),
        ),
    ]
}

/// Exactly the busy time of [`events`] for an organizer in London.
fn expected_busy() -> Vec<TimeRange> {
    vec![
        range(utc(3, 15, 9, 0), utc(3, 15, 10, 0)),
        range(utc(3, 29, 8, 0), utc(3, 29, 9, 0)),
        range(utc(3, 30, 13, 0), utc(3, 30, 14, 0)),
        range(utc(3, 30, 23, 0), utc(3, 31, 23, 0)),
        range(utc(4, 5, 8, 0), utc(4, 5, 9, 0)),
    ]
}

async fn put_events(collection: &str, auth: Option<(&str, &str)>) {
    let home = collection.trim_end_matches('/').rsplit_once('/').unwrap().0;
    // Radicale makes an authenticated user's home itself (then 405).
    let made = http("MKCOL", &format!("{home}/"), auth, None).await;
    assert!(made == 201 || made == 405, "MKCOL {home}/: {made}");
    assert_eq!(http("MKCALENDAR", collection, auth, None).await, 201);
    for (name, body) in events() {
        let status = http("PUT", &format!("{collection}{name}"), auth, Some(body)).await;
        assert_eq!(status, 201, "PUT {name}");
    }
}

struct World {
    store: Arc<dyn BookingStore>,
    clock: Arc<ManualClock>,
    service: BookingService,
    provider: CalendarProvider,
    organizer: Organizer,
}

async fn world() -> World {
    let store: Arc<dyn BookingStore> = Arc::new(MemoryStore::new());
    let clock = Arc::new(ManualClock::new(utc(3, 14, 0, 0)));
    let policy = UrlPolicy::allow_private();
    let connections = Connections::new(store.clone(), policy, Some(SecretBox::new(b"test key")));
    let client = SafeClient::new(policy, SafeClientOptions::default()).unwrap();
    let provider = CalendarProvider::new(connections, client).with_clock(clock.clone());
    let service = BookingService::new(store.clone())
        .with_clock(clock.clone())
        .with_provider(provider.clone());
    let organizer = register_ada(
        &service,
        ("ada@example.com", "Ada"),
        ("07:00", "19:00"),
        "Intro",
        None,
    )
    .await;
    World {
        store,
        clock,
        service,
        provider,
        organizer,
    }
}

async fn busy(world: &World, purpose: BusyPurpose) -> Result<Vec<TimeRange>, ProviderError> {
    let mut busy = world
        .provider
        .busy_time(
            &world.organizer,
            range(utc(3, 14, 0, 0), utc(4, 10, 0, 0)),
            purpose,
        )
        .await?
        .intervals;
    busy.sort_by_key(TimeRange::start);
    Ok(busy)
}

/// Slots of 30 minutes from 07:00 to 19:00 London time (06:00Z to 18:00Z
/// after 28 March) on 29 to 31 March, less those overlapping `busy`.
fn expected_slots(busy: &[TimeRange]) -> Vec<TimeRange> {
    let mut slots = Vec::new();
    for day in 29..=31 {
        for step in 0..24 {
            let slot = TimeRange::starting_at(
                utc(3, day, 6, 0) + Duration::minutes(30 * step),
                Duration::minutes(30),
            )
            .unwrap();
            if !busy.iter().any(|b| b.overlaps(&slot)) {
                slots.push(slot);
            }
        }
    }
    slots
}

fn slot_query() -> SlotQuery {
    SlotQuery::new("ada", range(utc(3, 29, 0, 0), utc(4, 1, 0, 0))).event_type("intro")
}

fn book(at: DateTime<Utc>) -> BookingRequest {
    BookingRequest::new(
        "ada",
        TimeRange::starting_at(at, Duration::minutes(30)).unwrap(),
        Attendee::new("Grace", "grace@example.com"),
    )
    .event_type("intro")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caldav_busy_time_shapes_slots_and_bookings_and_an_outage_follows_the_failure_policy() {
    let mut server = radicale(Some((USER, PASSWORD)));
    let collection = format!("{}/{USER}/work/", server.base_url());
    put_events(&collection, Some((USER, PASSWORD))).await;

    let world = world().await;
    let connected = world
        .provider
        .connections()
        .connect(
            world.organizer.id,
            NewConnection::Caldav {
                url: collection.clone(),
                username: USER.to_owned(),
                password: PASSWORD.to_owned(),
                name: Some("Work".to_owned()),
            },
        )
        .await
        .unwrap();
    assert_eq!(connected.name, "Work");

    // The provider returns exactly the calendar's busy time.
    assert_eq!(
        busy(&world, BusyPurpose::Booking).await.unwrap(),
        expected_busy()
    );

    // The slots leave out exactly those times.
    let listed = world.service.slots(slot_query()).await.unwrap();
    assert!(listed.stale_calendars.is_empty());
    assert_eq!(listed.slots, expected_slots(&expected_busy()));
    assert_eq!(listed.slots.len(), 72 - 2 - 2 - 24);

    // Booking into busy time is refused; next to it is fine.
    let refused = world.service.create_booking(book(utc(3, 30, 13, 30))).await;
    assert!(
        matches!(refused, Err(ServiceError::SlotUnavailable(_))),
        "{refused:?}"
    );
    world
        .service
        .create_booking(book(utc(3, 30, 14, 0)))
        .await
        .unwrap();
    // Transparent and cancelled events block nothing.
    world
        .service
        .create_booking(book(utc(3, 30, 12, 0)))
        .await
        .unwrap();
    world
        .service
        .create_booking(book(utc(3, 30, 15, 0)))
        .await
        .unwrap();

    // The server goes away.
    server.stop();
    world.clock.advance(Duration::minutes(2));
    let refused = world.service.create_booking(book(utc(3, 29, 10, 0))).await;
    match refused {
        Err(ServiceError::CalendarUnavailable { calendar }) => assert_eq!(calendar, "Work"),
        other => panic!("expected CalendarUnavailable, got {other:?}"),
    }
    // Older than the listing freshness: the slot list uses the last copy
    // and says the calendar is stale.
    world.clock.advance(Duration::minutes(5));
    let listed = world.service.slots(slot_query()).await.unwrap();
    assert_eq!(listed.stale_calendars, ["Work"]);
    let mine = [
        range(utc(3, 30, 12, 0), utc(3, 30, 12, 30)),
        range(utc(3, 30, 14, 0), utc(3, 30, 14, 30)),
        range(utc(3, 30, 15, 0), utc(3, 30, 15, 30)),
    ];
    let all_busy: Vec<TimeRange> = expected_busy().into_iter().chain(mine).collect();
    assert_eq!(listed.slots, expected_slots(&all_busy));

    // Back up: bookings go through again.
    server.start();
    world
        .service
        .create_booking(book(utc(3, 29, 10, 0)))
        .await
        .unwrap();
    let listed = world.service.slots(slot_query()).await.unwrap();
    assert!(listed.stale_calendars.is_empty());

    // A wrong password is a calendar that cannot be read.
    world
        .provider
        .connections()
        .delete(world.organizer.id, &connected.id)
        .await
        .unwrap();
    world
        .provider
        .connections()
        .connect(
            world.organizer.id,
            NewConnection::Caldav {
                url: collection,
                username: USER.to_owned(),
                password: "wrong".to_owned(),
                name: None,
            },
        )
        .await
        .unwrap();
    match busy(&world, BusyPurpose::Booking).await {
        Err(ProviderError::Unavailable { calendar, cause }) => {
            assert_eq!(calendar, "127.0.0.1");
            let read = cause.downcast_ref::<ReadError>().expect("a ReadError");
            assert!(
                matches!(read, ReadError::Status(s) if s.as_u16() == 401),
                "{read:?}"
            );
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
    drop(world.store);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ics_feed_served_by_radicale_gives_the_same_busy_time() {
    let server = radicale(None);
    let collection = format!("{}/bob/personal/", server.base_url());
    put_events(&collection, None).await;

    let world = world().await;
    world
        .provider
        .connections()
        .connect(
            world.organizer.id,
            NewConnection::Ics {
                url: collection,
                name: Some("Personal".to_owned()),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        busy(&world, BusyPurpose::Listing).await.unwrap(),
        expected_busy()
    );
    let listed = world.service.slots(slot_query()).await.unwrap();
    assert_eq!(listed.slots, expected_slots(&expected_busy()));
}

/// A feed server that honours `If-None-Match` and counts what it answered.
#[derive(Clone, Default)]
struct Feed {
    body: Arc<Mutex<(String, String)>>,
    answers: Arc<Mutex<HashMap<u16, usize>>>,
    requests: Arc<AtomicUsize>,
}

async fn serve_feed(feed: Feed) -> String {
    use axum::http::{HeaderMap, StatusCode, header};
    use axum::response::IntoResponse;
    let app = axum::Router::new().route(
        "/feed.ics",
        axum::routing::get(move |headers: HeaderMap| {
            let feed = feed.clone();
            async move {
                feed.requests.fetch_add(1, Ordering::SeqCst);
                let (etag, body) = feed.body.lock().unwrap().clone();
                let matches = headers
                    .get(header::IF_NONE_MATCH)
                    .is_some_and(|v| v.to_str().unwrap_or_default() == etag);
                let status = if matches {
                    StatusCode::NOT_MODIFIED
                } else {
                    StatusCode::OK
                };
                *feed
                    .answers
                    .lock()
                    .unwrap()
                    .entry(status.as_u16())
                    .or_default() += 1;
                if matches {
                    (status, [(header::ETAG, etag)], String::new()).into_response()
                } else {
                    (status, [(header::ETAG, etag)], body).into_response()
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{address}/feed.ics")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feeds_are_cached_and_revalidated_with_etags() {
    let one = vcalendar(
        "BEGIN:VEVENT\r\nUID:1@t\r\nDTSTART:20270330T100000Z\r\nDTEND:20270330T110000Z\r\nEND:VEVENT\r\n",
    );
    let two = vcalendar(
        "BEGIN:VEVENT\r\nUID:2@t\r\nDTSTART:20270330T160000Z\r\nDTEND:20270330T170000Z\r\nEND:VEVENT\r\n",
    );
    let feed = Feed::default();
    *feed.body.lock().unwrap() = ("\"v1\"".to_owned(), one);
    let url = serve_feed(feed.clone()).await;
    let world = world().await;
    world
        .provider
        .connections()
        .connect(world.organizer.id, NewConnection::Ics { url, name: None })
        .await
        .unwrap();
    let first = vec![range(utc(3, 30, 10, 0), utc(3, 30, 11, 0))];

    assert_eq!(busy(&world, BusyPurpose::Listing).await.unwrap(), first);
    assert_eq!(feed.requests.load(Ordering::SeqCst), 1);
    // Within the listing freshness: no request at all.
    world.clock.advance(Duration::minutes(4));
    assert_eq!(busy(&world, BusyPurpose::Listing).await.unwrap(), first);
    assert_eq!(feed.requests.load(Ordering::SeqCst), 1);
    // A booking decision needs a copy younger than a minute: revalidated,
    // 304, same busy time.
    assert_eq!(busy(&world, BusyPurpose::Booking).await.unwrap(), first);
    assert_eq!(feed.requests.load(Ordering::SeqCst), 2);
    assert_eq!(feed.answers.lock().unwrap().get(&304), Some(&1));
    // The feed changes: the next refresh reads the new version.
    *feed.body.lock().unwrap() = ("\"v2\"".to_owned(), two);
    world.clock.advance(Duration::minutes(2));
    assert_eq!(
        busy(&world, BusyPurpose::Booking).await.unwrap(),
        vec![range(utc(3, 30, 16, 0), utc(3, 30, 17, 0))]
    );
    assert_eq!(feed.answers.lock().unwrap().get(&200), Some(&2));
}

#[tokio::test]
async fn loopback_calendars_are_refused_under_the_public_policy() {
    let store: Arc<dyn BookingStore> = Arc::new(MemoryStore::new());
    let policy = UrlPolicy::public_only();
    let connections = Connections::new(store, policy, None);
    let organizer = booking_core::OrganizerId::generate();
    let refused = connections
        .connect(
            organizer,
            NewConnection::Ics {
                url: "http://127.0.0.1:5232/alice/work/".to_owned(),
                name: None,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(refused.code(), "invalid_url");
    assert!(refused.is_client_error());
}
