//! What each operation costs in round trips to PostgreSQL, counted at a
//! recording loopback proxy between the store and the server: a booking
//! without limits or hold is one statement and one round trip, whatever
//! it writes with it (its event, its idempotency key), and so is a plain
//! refusal; the rest is as the crate docs say.
//!
//! The proxy reads the frontend protocol: every `Sync` that ends a
//! statement (`Bind`, `Execute`, ... `Sync`) and every simple `Query`
//! (`BEGIN`, `COMMIT`, `ROLLBACK`) is answered by one `ReadyForQuery` the
//! client waits for, so each is one round trip. A lone `Sync` is sqlx's
//! pool testing a connection it takes back (it does on every release, after
//! the operation returned) or hands out: counted apart, as the pool's cost,
//! not the store's. A booking's connection is one the store keeps apart
//! from the pool and lends without testing it: a kept-configuration
//! booking has no such cost. The store's pool has one connection (and the
//! store one for bookings) whose prepared statements are warmed up first
//! (a statement's first use also prepares it).

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use booking_core::booking::{LimitCheck, NewBooking};
use booking_core::event::{BookingEventKind, EventId};
use booking_core::event_type::LimitPeriod;
use booking_core::hold::{Hold, NewHold};
use booking_core::idempotency::IdempotencyCompletion;
use booking_core::queue::{JobId, NewJob};
use booking_core::secret::TokenHash;
use booking_core::store::{BookingStore, Cancellation, ContextQuery, Reschedule, StoreError};
use booking_core::testkit::fixtures::{at, created, new_booking, new_hold, range};
use booking_core::time::TimeRange;
use booking_postgres::PostgresStore;
use chrono::Duration;
use common::{TestDb, organizer};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgSslMode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Counts the round trips clients start through it.
struct Proxy {
    port: u16,
    round_trips: Arc<AtomicUsize>,
    pings: Arc<AtomicUsize>,
}

impl Proxy {
    /// Forwards connections on a free loopback port to `server_port`.
    async fn start(server_port: u16) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let round_trips = Arc::new(AtomicUsize::new(0));
        let pings = Arc::new(AtomicUsize::new(0));
        let counters = (round_trips.clone(), pings.clone());
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let server = TcpStream::connect(("127.0.0.1", server_port))
                    .await
                    .unwrap();
                let (client_read, client_write) = client.into_split();
                let (mut server_read, server_write) = server.into_split();
                tokio::spawn(count_frontend(client_read, server_write, counters.clone()));
                tokio::spawn(async move {
                    let mut client_write = client_write;
                    let _ = tokio::io::copy(&mut server_read, &mut client_write).await;
                });
            }
        });
        Proxy {
            port,
            round_trips,
            pings,
        }
    }

    /// Round trips of statements, and the pool's pings, since the last call.
    fn take(&self) -> (usize, usize) {
        (
            self.round_trips.swap(0, Ordering::SeqCst),
            self.pings.swap(0, Ordering::SeqCst),
        )
    }
}

/// Copies the frontend's messages to the server, counting statements'
/// `Sync` (`S`) and `Query` (`Q`) messages, and lone `Sync`s apart, once
/// the untyped startup packets are through.
async fn count_frontend(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    (round_trips, pings): (Arc<AtomicUsize>, Arc<AtomicUsize>),
) {
    const SSL_REQUEST: u32 = 80_877_103;
    const GSSENC_REQUEST: u32 = 80_877_104;
    let mut started = false;
    let mut since_sync = 0;
    loop {
        let mut message = Vec::new();
        if started {
            let mut kind = [0u8; 1];
            if from.read_exact(&mut kind).await.is_err() {
                return;
            }
            match kind[0] {
                b'S' if since_sync == 0 => {
                    pings.fetch_add(1, Ordering::SeqCst);
                }
                b'S' | b'Q' => {
                    round_trips.fetch_add(1, Ordering::SeqCst);
                    since_sync = 0;
                }
                _ => since_sync += 1,
            }
            message.push(kind[0]);
        }
        let mut length = [0u8; 4];
        if from.read_exact(&mut length).await.is_err() {
            return;
        }
        message.extend_from_slice(&length);
        let mut body = vec![0u8; u32::from_be_bytes(length) as usize - 4];
        if from.read_exact(&mut body).await.is_err() {
            return;
        }
        if !started {
            let code = u32::from_be_bytes(body[..4].try_into().unwrap());
            started = code != SSL_REQUEST && code != GSSENC_REQUEST;
        }
        message.extend_from_slice(&body);
        if to.write_all(&message).await.is_err() {
            return;
        }
    }
}

fn day_limit() -> Vec<LimitCheck> {
    vec![LimitCheck {
        period: LimitPeriod::Day,
        starts_within: TimeRange::new(at(0, 0), at(24, 0)).unwrap(),
        max: 100,
    }]
}

fn event_of(booking: &NewBooking) -> booking_core::event::EventRecord {
    common::event_of(
        &booking_core::booking::Booking::from_new(booking.clone()),
        BookingEventKind::Created,
    )
}

fn hold_of(
    organizer: booking_core::organizer::OrganizerId,
    slot: TimeRange,
    client: Option<&str>,
) -> NewHold {
    NewHold {
        hold: Hold {
            token_hash: TokenHash::of(&format!("{slot}")),
            ..new_hold(
                organizer,
                slot,
                0,
                0,
                created() + Duration::minutes(5),
                client,
            )
        },
        limits: Vec::new(),
        max_per_client: 3,
    }
}

/// A store on `db` through a new [`Proxy`], on a pool of one connection
/// that is not tested before it is lent. A first booking of `organizer`
/// (on Sunday 6 December 2026 at 23:00 UTC, out of every test's way) takes
/// that connection for the store's bookings (see
/// `PostgresOptions::booking_connections`), so the pool opens its next one
/// now, and each kind of statement is prepared on one connection only.
async fn proxied_store(
    db: &TestDb,
    organizer: booking_core::organizer::OrganizerId,
) -> (Proxy, PostgresStore) {
    let server: PgConnectOptions = booking_postgres::testing::database_url().parse().unwrap();
    let proxy = Proxy::start(server.get_port()).await;
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .test_before_acquire(false)
        .connect_with(
            server
                .port(proxy.port)
                .ssl_mode(PgSslMode::Disable)
                .options([("search_path", db.schema.as_str())]),
        )
        .await
        .unwrap();
    let store = PostgresStore::from_pool(pool);
    store
        .insert_booking(new_booking(
            organizer,
            range(at(0, 0) - Duration::hours(1), 30),
            0,
            0,
        ))
        .await
        .unwrap();
    (proxy, store)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_operation_costs_the_round_trips_the_design_says() {
    let db = TestDb::new().await;
    let ada = organizer(&db.store, "ada").await;
    let (proxy, store) = proxied_store(&db, ada.id).await;
    let slot = |hour: u32, minute: u32| range(at(hour, minute), 20);

    // Every operation twice: first to prepare its statements on the one
    // connection, then counted.
    let mut costs = Vec::new();
    for (round, minute) in [(0, 0), (1, 30)] {
        let measure = round == 1;
        let mut record = |what: &'static str, expected: usize| {
            let (counted, pings) = proxy.take();
            if measure {
                costs.push((what, counted, expected, pings));
            }
        };
        proxy.take();

        let window = range(at(0, 0), 24 * 60);
        store
            .booking_context(&ContextQuery {
                organizer: "ada".into(),
                event_type: "default".parse().unwrap(),
                occupied_within: window,
                counted_within: window,
                now: created(),
            })
            .await
            .unwrap();
        record("booking context", 1);

        let mut plain = new_booking(ada.id, slot(1, minute), 0, 0);
        plain.event = Some(event_of(&plain));
        let claim = common::claim_of(ada.id, &format!("key-{round}"));
        let scope = claim.scope.clone();
        store.claim_idempotency_key(&claim).await.unwrap();
        record("idempotency claim won", 1);
        store.claim_idempotency_key(&claim).await.unwrap();
        record("idempotency claim in progress", 2);
        plain.idempotency = Some(IdempotencyCompletion {
            scope,
            outcome: "done".into(),
        });
        let booked = store.insert_booking(plain.clone()).await.unwrap();
        record("booking, no limits or hold, with event and key", 1);
        let again = NewBooking {
            id: booking_core::booking::BookingId::generate(),
            ..plain
        };
        assert!(matches!(
            store.insert_booking(again).await,
            Err(StoreError::Conflict)
        ));
        record("booking refused: overlap", 1);

        store
            .insert_booking(NewBooking {
                limits: day_limit(),
                ..new_booking(ada.id, slot(3, minute), 0, 0)
            })
            .await
            .unwrap();
        record("booking with limits", 4);

        let hold = hold_of(ada.id, slot(5, minute), None);
        store.insert_hold(hold.clone()).await.unwrap();
        record("hold, no limits or client", 1);
        store
            .insert_hold(hold_of(ada.id, slot(7, minute), Some("10.0.0.1")))
            .await
            .unwrap();
        record("hold with a client cap", 4);
        store
            .insert_booking(NewBooking {
                replaces_hold: Some(hold.hold.id),
                ..new_booking(ada.id, slot(5, minute), 0, 0)
            })
            .await
            .unwrap();
        record("booking of a hold", 3);

        let expired = hold_of(ada.id, slot(9, minute), None);
        store.insert_hold(expired.clone()).await.unwrap();
        proxy.take();
        store
            .insert_booking(NewBooking {
                created_at: expired.hold.expires_at,
                ..new_booking(ada.id, slot(9, minute), 0, 0)
            })
            .await
            .unwrap();
        record("booking over an expired hold", 3);

        let moved = store
            .reschedule_booking(Reschedule {
                id: booked.id,
                organizer_id: ada.id,
                expected_sequence: 0,
                time: slot(11, minute),
                buffer_before: Duration::zero(),
                buffer_after: Duration::zero(),
                limits: Vec::new(),
                at: created(),
                event: Some(event_of(&new_booking(ada.id, slot(11, minute), 0, 0))),
            })
            .await
            .unwrap();
        record("reschedule, no limits", 1);
        store
            .reschedule_booking(Reschedule {
                id: booked.id,
                organizer_id: ada.id,
                expected_sequence: 1,
                time: slot(13, minute),
                buffer_before: Duration::zero(),
                buffer_after: Duration::zero(),
                limits: day_limit(),
                at: created(),
                event: None,
            })
            .await
            .unwrap();
        record("reschedule with limits", 4);
        store
            .cancel_booking(Cancellation {
                expected_sequence: Some(moved.sequence + 1),
                ..Cancellation::new(booked.id, booked.organizer_id, created())
            })
            .await
            .unwrap();
        record("cancellation", 1);

        let events = store.undispatched_events(100).await.unwrap();
        record("undispatched events", 1);
        let jobs: Vec<NewJob> = events
            .iter()
            .map(|e| NewJob {
                id: JobId::generate(),
                queue: "q".into(),
                organizer_id: e.record.organizer_id,
                event_id: e.record.id,
                booking_id: e.record.booking_id,
                target: String::new(),
                payload: String::new(),
                run_at: created(),
            })
            .collect();
        let ids: Vec<EventId> = events.iter().map(|e| e.record.id).collect();
        store.dispatch_events(&ids, jobs).await.unwrap();
        record("dispatch", 1);
        store
            .claim_jobs("q", created(), 10, created() + Duration::minutes(1))
            .await
            .unwrap();
        record("job claim", 1);
    }
    let wrong: Vec<_> = costs
        .iter()
        .filter(|(_, counted, expected, _)| counted != expected)
        .collect();
    for (what, counted, _, pings) in &costs {
        eprintln!("{what}: {counted} round trip(s), and {pings} ping(s) of the pool");
    }
    assert!(
        wrong.is_empty(),
        "(operation, counted, expected, pings): {wrong:?}"
    );
    store.pool().close().await;
}

/// Through the service: once an event type's configuration was read (by a
/// slot list or a first booking), a booking is its insert alone, one
/// statement and one round trip, and a plain refusal too. A configuration
/// change made through another store (another process) is still seen by
/// the very next booking: its insert is refused for the version, and the
/// booking is decided again on a fresh read (two round trips when the fresh
/// configuration refuses it, once).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_booking_on_a_kept_configuration_is_one_round_trip() {
    use booking_core::booking::{Attendee, BookingRequest};
    use booking_core::service::{BookingService, ServiceError, SlotQuery};
    use booking_core::store::ConfigChange;
    use booking_core::testkit::fixtures::schedule;
    use booking_core::time::ManualClock;

    let db = TestDb::new().await;
    let ada = organizer(&db.store, "ada").await;
    let (proxy, store) = proxied_store(&db, ada.id).await;
    let service = BookingService::new(store).with_clock(Arc::new(ManualClock::new(created())));
    let book = |hour: u32, minute: u32| {
        // Monday 7 December 2026; the fixture schedule is New York's 09:00
        // to 12:00 and 13:00 to 24:00, 45-minute meetings every 15 minutes.
        let time = TimeRange::starting_at(at(hour, minute), Duration::minutes(45)).unwrap();
        service.create_booking(BookingRequest::new(
            "ada",
            time,
            Attendee::new("Grace", "grace@example.com"),
        ))
    };

    // Warm-up: the first slot list reads the configuration (and prepares
    // the statements on the one connection).
    let day = range(at(0, 0), 24 * 60);
    let listed = service
        .available_slots(SlotQuery::new("ada", day))
        .await
        .unwrap();
    assert!(listed.contains(&range(at(14, 15), 45)), "09:15 in New York");
    book(18, 15).await.unwrap();
    proxy.take();

    for (hour, minute) in [(14, 15), (19, 15), (20, 15)] {
        book(hour, minute).await.unwrap();
    }
    let (round_trips, pings) = proxy.take();
    assert_eq!(round_trips, 3, "three bookings, one round trip each");
    assert_eq!(
        pings, 0,
        "a booking's connection is not tested when it is lent or returned: \
         one round trip in all"
    );

    let taken = book(14, 15).await;
    assert!(
        matches!(taken, Err(ServiceError::SlotUnavailable(_))),
        "the store refuses the taken slot, got {taken:?}"
    );
    assert_eq!(proxy.take().0, 1, "a plain refusal is one round trip too");

    // Another process closes the afternoon (its own store and pool).
    let mut mornings = schedule(ada.id);
    mornings.weekly_hours = booking_core::schedule::WeeklyHours::weekdays(vec![
        booking_core::time::LocalInterval::parse("09:00", "12:00").unwrap(),
    ]);
    db.store
        .update_config(ada.id, 1, vec![ConfigChange::PutSchedule(mornings)])
        .await
        .unwrap();
    proxy.take();
    let afternoon = book(22, 0).await;
    assert!(
        matches!(afternoon, Err(ServiceError::SlotUnavailable(_))),
        "17:00 in New York is closed now, got {afternoon:?}"
    );
    assert_eq!(
        proxy.take().0,
        2,
        "the stale insert refused, then the fresh read refuses before inserting"
    );
    book(15, 15).await.expect("10:15 in New York is still open");
    assert_eq!(proxy.take().0, 1, "the fresh configuration is kept again");
    let active = booking_core::testkit::fixtures::all_active(&db.store, ada.id).await;
    assert_eq!(active.len(), 6, "five and the one of `proxied_store`");
    assert!(active.iter().all(|b| b.time.start() != at(22, 0)));
}

/// Bookings made at the same moment share statements
/// (`PostgresOptions::insert_batches`): 16 bookings of different slots
/// started together, each with its event, all succeed in fewer round trips
/// than bookings, and each event is written once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_bookings_share_statements() {
    const BOOKINGS: usize = 16;
    let db = TestDb::new().await;
    let ada = organizer(&db.store, "ada").await;
    let (proxy, store) = proxied_store(&db, ada.id).await;
    let book_all = |hour: u32| {
        let handles: Vec<_> = (0..BOOKINGS)
            .map(|i| {
                let minute = u32::try_from(i * 30).unwrap();
                let mut booking = new_booking(ada.id, range(at(hour, minute), 30), 0, 0);
                booking.event = Some(event_of(&booking));
                let store = store.clone();
                tokio::spawn(async move { (booking.id, store.insert_booking(booking).await) })
            })
            .collect();
        async move {
            let mut booked = Vec::new();
            for handle in handles {
                let (id, result) = handle.await.unwrap();
                assert_eq!(result.expect("a free slot is booked").id, id);
                booked.push(id);
            }
            booked
        }
    };
    // A first round prepares the statements on the store's connections.
    book_all(0).await;
    proxy.take();

    let booked = book_all(9).await;
    let (round_trips, _) = proxy.take();
    assert!(
        round_trips < BOOKINGS,
        "{BOOKINGS} concurrent bookings took {round_trips} round trips"
    );
    let events: i64 =
        sqlx::query_scalar("SELECT count(*) FROM booking_events WHERE booking_id = ANY($1)")
            .bind(booked.iter().map(ToString::to_string).collect::<Vec<_>>())
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(events, BOOKINGS as i64, "one event per booking");
    assert_eq!(common::overlapping_active_pairs(&db.pool).await, 0);
}
