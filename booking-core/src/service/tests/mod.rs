use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use chrono::TimeZone;
use chrono_tz::Europe;

use super::*;
use crate::availability::SlotRefusal;
use crate::booking::{Attendee, BookingId, BookingRequest, BookingTime};
use crate::lock::{LockGuard, Release, SlotKey};
use crate::memory::{MemoryLock, MemoryStore};
use crate::organizer::{NewOrganizer, Organizer};
use crate::provider::{AvailabilityProvider, BusyPurpose, BusyTime, ProviderError, StaticBusy};
use crate::schedule::WeeklyHours;
use crate::settings::SettingsDraft;
use crate::time::{LocalInterval, ManualClock, TimeRange};
use crate::validation::Field;

mod event_types;
mod lifecycle;
mod sessions;

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
}

/// Tuesday 1 December 2026, 08:00 UTC.
fn now() -> DateTime<Utc> {
    utc(2026, 12, 1, 8, 0)
}

struct Fixture {
    service: BookingService,
    clock: Arc<ManualClock>,
    ada: Organizer,
    api_token: SecretToken,
}

fn settings_draft() -> SettingsDraft {
    SettingsDraft {
        time_zone: Some(Europe::London),
        weekly_hours: WeeklyHours::weekdays(vec![LocalInterval::parse("09:00", "17:00").unwrap()]),
        slot_duration: Duration::minutes(30),
        buffer_after: Duration::minutes(15),
        ..SettingsDraft::default()
    }
}

async fn fixture_with(lock: Arc<dyn SlotLock>) -> Fixture {
    let clock = Arc::new(ManualClock::new(now()));
    let service = BookingService::new(MemoryStore::new())
        .with_lock(lock)
        .with_clock(clock.clone());
    let (ada, api_token) = service
        .register_organizer(NewOrganizer::new(
            "ada",
            "ada@example.com",
            "Ada Lovelace",
            Europe::London,
        ))
        .await
        .unwrap();
    service.put_settings(&ada, settings_draft()).await.unwrap();
    Fixture {
        service,
        clock,
        ada,
        api_token,
    }
}

async fn fixture() -> Fixture {
    fixture_with(Arc::new(MemoryLock::new())).await
}

/// A second organizer, without settings.
async fn register_bob(service: &BookingService) -> Organizer {
    let (bob, _) = service
        .register_organizer(NewOrganizer::new(
            "bob",
            "bob@example.com",
            "Bob",
            Europe::London,
        ))
        .await
        .unwrap();
    bob
}

fn request(start: DateTime<Utc>, minutes: i64) -> BookingRequest {
    BookingRequest::new(
        "ada",
        TimeRange::starting_at(start, Duration::minutes(minutes)).unwrap(),
        Attendee::new("Grace", "grace@example.com"),
    )
    .title("Intro call")
}

fn day(d: u32) -> TimeRange {
    TimeRange::new(utc(2026, 12, d, 0, 0), utc(2026, 12, d + 1, 0, 0)).unwrap()
}

#[tokio::test]
async fn booking_removes_the_slot_and_its_buffer_and_cancel_brings_them_back() {
    let f = fixture().await;
    let before = f
        .service
        .available_slots(SlotQuery::new("ada", day(2)))
        .await
        .unwrap();
    assert_eq!(before.len(), 16);
    let created = f
        .service
        .create_booking(request(utc(2026, 12, 2, 10, 0), 30))
        .await
        .unwrap();
    let after = f
        .service
        .available_slots(SlotQuery::new("ada", day(2)))
        .await
        .unwrap();
    // 10:00 is booked and occupies 10:00-10:45 with its buffer: 10:30 would start inside
    // it, and 09:30's own buffer (until 10:15) would overlap the meeting. Buffers stack.
    assert_eq!(after.len(), 13);
    for blocked in [
        utc(2026, 12, 2, 9, 30),
        utc(2026, 12, 2, 10, 0),
        utc(2026, 12, 2, 10, 30),
    ] {
        assert!(!after.iter().any(|s| s.start() == blocked));
    }
    let token = Credential::from(&created.cancel_token);
    f.service
        .cancel_booking(created.booking.id, &token)
        .await
        .unwrap();
    assert_eq!(
        f.service
            .available_slots(SlotQuery::new("ada", day(2)))
            .await
            .unwrap(),
        before
    );
}

#[tokio::test]
async fn the_seed_error_scenarios_each_have_their_own_error() {
    let f = fixture().await;
    let start = utc(2026, 12, 2, 10, 0);

    let mut zero_length = request(start, 30);
    zero_length.time = BookingTime::Start {
        start,
        duration: Some(Duration::zero()),
    };
    let Err(ServiceError::Validation(errors)) = f.service.create_booking(zero_length).await else {
        panic!("expected a validation error")
    };
    assert!(errors.message_for(&Field::Duration).is_some());

    let mut unknown = request(start, 30);
    unknown.organizer = "nobody".into();
    assert!(matches!(
        f.service.create_booking(unknown).await,
        Err(ServiceError::OrganizerNotFound)
    ));

    register_bob(&f.service).await;
    let mut no_settings = request(start, 30);
    no_settings.organizer = "bob".into();
    assert!(matches!(
        f.service.create_booking(no_settings).await,
        Err(ServiceError::SettingsNotFound)
    ));

    f.service.create_booking(request(start, 30)).await.unwrap();
    assert!(matches!(
        f.service.create_booking(request(start, 30)).await,
        Err(ServiceError::SlotUnavailable(SlotRefusal::Busy))
    ));
    for refused in [
        request(utc(2026, 12, 2, 10, 5), 30),  // off the grid
        request(utc(2026, 12, 2, 11, 0), 45),  // wrong length
        request(utc(2026, 11, 30, 10, 0), 30), // in the past
        request(utc(2027, 6, 1, 10, 0), 30),   // beyond max advance
        request(utc(2026, 12, 5, 10, 0), 30),  // Saturday
    ] {
        let err = f.service.create_booking(refused).await.unwrap_err();
        assert_eq!(err.code(), "slot_unavailable", "{err}");
    }

    let mut invalid = request(start, 30);
    invalid.attendee.email = "grace".into();
    let Err(ServiceError::Validation(errors)) = f.service.create_booking(invalid).await else {
        panic!("expected a validation error")
    };
    assert!(errors.message_for(&Field::AttendeeEmail).is_some());

    let unknown_type = request(start + Duration::hours(1), 30).event_type("nope");
    assert!(matches!(
        f.service.create_booking(unknown_type).await,
        Err(ServiceError::EventTypeNotFound)
    ));
}

#[tokio::test]
async fn a_held_slot_lock_is_reported_as_being_booked() {
    let lock = Arc::new(MemoryLock::new());
    let f = fixture_with(lock.clone()).await;
    let start = utc(2026, 12, 2, 10, 0);
    let key = SlotKey {
        organizer_id: f.ada.id,
        start,
    };
    let guard = lock
        .acquire(&key, std::time::Duration::from_secs(10))
        .await
        .unwrap();
    assert!(matches!(
        f.service.create_booking(request(start, 30)).await,
        Err(ServiceError::SlotBeingBooked)
    ));
    lock.release(&guard).await.unwrap();
    f.service.create_booking(request(start, 30)).await.unwrap();
}

/// A lock whose backend is always down, counting the attempts.
#[derive(Default)]
struct BrokenLock {
    attempts: AtomicUsize,
}

#[async_trait]
impl SlotLock for BrokenLock {
    async fn acquire(
        &self,
        _key: &SlotKey,
        _ttl: std::time::Duration,
    ) -> Result<LockGuard, LockError> {
        self.attempts.fetch_add(1, Ordering::SeqCst);
        Err(LockError::backend("connection refused"))
    }
    async fn release(&self, _guard: &LockGuard) -> Result<Release, LockError> {
        Err(LockError::backend("connection refused"))
    }
}

#[tokio::test]
async fn a_failed_lock_backend_still_books_once_and_never_twice() {
    let lock = Arc::new(BrokenLock::default());
    let f = fixture_with(lock.clone()).await;
    let start = utc(2026, 12, 2, 10, 0);
    let attempts = (0..16).map(|_| {
        let service = f.service.clone();
        tokio::spawn(async move { service.create_booking(request(start, 30)).await })
    });
    let mut wins = 0;
    for attempt in attempts {
        match attempt.await.unwrap() {
            Ok(_) => wins += 1,
            Err(error) => assert_eq!(error.code(), "slot_unavailable", "{error}"),
        }
    }
    assert_eq!(wins, 1);
    // The winner went through the broken lock (later requests may be refused before it).
    assert!(lock.attempts.load(Ordering::SeqCst) >= 1);
}

#[tokio::test]
async fn cancel_needs_the_organizer_or_the_token_and_succeeds_once() {
    let f = fixture().await;
    let created = f
        .service
        .create_booking(request(utc(2026, 12, 2, 10, 0), 30))
        .await
        .unwrap();
    let id = created.booking.id;
    let bob = register_bob(&f.service).await;
    for wrong in [
        Credential::Organizer(bob.id),
        Credential::CancelToken("guess".into()),
    ] {
        assert!(matches!(
            f.service.cancel_booking(id, &wrong).await,
            Err(ServiceError::PermissionDenied)
        ));
        assert!(matches!(
            f.service.get_booking(id, &wrong).await,
            Err(ServiceError::PermissionDenied)
        ));
    }
    let owner = Credential::Organizer(f.ada.id);
    assert_eq!(f.service.get_booking(id, &owner).await.unwrap().id, id);
    f.clock.advance(Duration::minutes(5));
    let cancelled = f.service.cancel_booking(id, &owner).await.unwrap();
    assert_eq!(cancelled.cancelled_at, now() + Duration::minutes(5));
    assert_eq!(cancelled.booking.deleted_at, Some(cancelled.cancelled_at));
    let token = Credential::CancelToken(created.cancel_token.expose().to_owned());
    assert!(matches!(
        f.service.cancel_booking(id, &token).await,
        Err(ServiceError::AlreadyCancelled { cancelled_at }) if cancelled_at == cancelled.cancelled_at
    ));
    assert!(matches!(
        f.service.get_booking(id, &owner).await,
        Err(ServiceError::NotFound)
    ));
    assert!(matches!(
        f.service
            .cancel_booking(BookingId::generate(), &owner)
            .await,
        Err(ServiceError::NotFound)
    ));
}

#[tokio::test]
async fn organizers_authenticate_by_token_and_usernames_are_unique() {
    let f = fixture().await;
    assert_eq!(
        f.service
            .authenticate(f.api_token.expose())
            .await
            .unwrap()
            .id,
        f.ada.id
    );
    assert!(matches!(
        f.service.authenticate("nope").await,
        Err(ServiceError::Unauthorized)
    ));
    for taken in ["ada", "ADA"] {
        let again = NewOrganizer::new(taken, "other@example.com", "Other", Europe::London);
        assert!(matches!(
            f.service.register_organizer(again).await,
            Err(ServiceError::UsernameTaken(_))
        ));
    }
}

#[tokio::test]
async fn list_pages_in_the_store_and_reads_dates_in_the_organizers_zone() {
    let f = fixture().await;
    // Five bookings on Wednesday 2 December, 09:00 to 13:00 London (= UTC in winter).
    for hour in 9..14 {
        f.service
            .create_booking(request(utc(2026, 12, 2, hour, 0), 30))
            .await
            .unwrap();
    }
    f.service
        .create_booking(request(utc(2026, 12, 3, 9, 0), 30))
        .await
        .unwrap();
    let owner = f.ada.id;
    let page = |page, limit| ListQuery {
        from: NaiveDate::from_ymd_opt(2026, 12, 2),
        to: NaiveDate::from_ymd_opt(2026, 12, 2),
        page,
        limit,
    };
    let first = f.service.list_bookings(owner, page(1, 2)).await.unwrap();
    assert_eq!(
        (first.total, first.total_pages, first.bookings.len()),
        (5, 3, 2)
    );
    assert_eq!(first.bookings[0].start_time(), utc(2026, 12, 2, 9, 0));
    let last = f.service.list_bookings(owner, page(3, 2)).await.unwrap();
    assert_eq!(last.bookings.len(), 1);
    assert_eq!(last.bookings[0].start_time(), utc(2026, 12, 2, 13, 0));
    let all = f
        .service
        .list_bookings(
            owner,
            ListQuery {
                limit: 1000,
                ..ListQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!((all.total, all.limit, all.bookings.len()), (6, 100, 6));
    for (bad_page, bad_limit, field) in [(0, 10, Field::Page), (1, 0, Field::Limit)] {
        let Err(ServiceError::Validation(errors)) = f
            .service
            .list_bookings(owner, page(bad_page, bad_limit))
            .await
        else {
            panic!("expected a validation error")
        };
        assert!(errors.message_for(&field).is_some());
    }
}

#[tokio::test]
async fn list_dates_follow_the_zone_not_utc() {
    let f = fixture().await;
    let mut draft = settings_draft();
    draft.time_zone = Some(chrono_tz::Asia::Tokyo); // UTC+9: Wednesday 09:00 Tokyo is Wednesday 00:00 UTC.
    draft.weekly_hours =
        WeeklyHours::every_day(vec![LocalInterval::parse("00:00", "24:00").unwrap()]);
    f.service.put_settings(&f.ada, draft).await.unwrap();
    // 23:30 UTC on 2 December is 08:30 on 3 December in Tokyo.
    f.service
        .create_booking(request(utc(2026, 12, 2, 23, 30), 30))
        .await
        .unwrap();
    let on = |d| ListQuery {
        from: NaiveDate::from_ymd_opt(2026, 12, d),
        to: NaiveDate::from_ymd_opt(2026, 12, d),
        ..ListQuery::default()
    };
    assert_eq!(
        f.service
            .list_bookings(f.ada.id, on(2))
            .await
            .unwrap()
            .total,
        0
    );
    assert_eq!(
        f.service
            .list_bookings(f.ada.id, on(3))
            .await
            .unwrap()
            .total,
        1
    );
}

#[tokio::test]
async fn slots_windows_are_bounded_and_external_busy_time_counts() {
    let f = fixture().await;
    let long = TimeRange::new(now(), now() + Duration::days(63)).unwrap();
    assert!(matches!(
        f.service.available_slots(SlotQuery::new("ada", long)).await,
        Err(ServiceError::WindowTooLong { max_days: 62 })
    ));
    let exactly = TimeRange::new(now(), now() + Duration::days(62)).unwrap();
    assert!(
        !f.service
            .available_slots(SlotQuery::new("ada", exactly))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        f.service
            .available_slots(SlotQuery::new("nobody", day(2)))
            .await,
        Err(ServiceError::OrganizerNotFound)
    ));

    let lunch = TimeRange::new(utc(2026, 12, 2, 12, 0), utc(2026, 12, 2, 13, 0)).unwrap();
    let service = f.service.clone().with_provider(StaticBusy(vec![lunch]));
    let slots = service
        .available_slots(SlotQuery::new("ada", day(2)))
        .await
        .unwrap();
    // 11:30 (+15 min buffer) reaches into lunch; 12:00 and 12:30 are in it.
    assert_eq!(slots.len(), 13);
    assert!(matches!(
        service
            .create_booking(request(utc(2026, 12, 2, 12, 0), 30))
            .await,
        Err(ServiceError::SlotUnavailable(SlotRefusal::Busy))
    ));
}

#[tokio::test]
async fn settings_are_validated_before_saving() {
    let f = fixture().await;
    let bad = SettingsDraft {
        slot_duration: Duration::minutes(4),
        ..settings_draft()
    };
    assert!(matches!(
        f.service.put_settings(&f.ada, bad).await,
        Err(ServiceError::InvalidSettings(_))
    ));
    assert_eq!(
        f.service.settings(&f.ada).await.unwrap().slot_duration(),
        Duration::minutes(30)
    );
}

#[tokio::test]
async fn concurrent_creates_for_one_slot_have_exactly_one_winner() {
    let f = fixture().await;
    let start = utc(2026, 12, 2, 14, 0);
    let tasks: Vec<_> = (0..64)
        .map(|_| {
            let service = f.service.clone();
            tokio::spawn(async move { service.create_booking(request(start, 30)).await })
        })
        .collect();
    let mut wins = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => wins += 1,
            Err(error) => assert!(
                matches!(error.code(), "slot_unavailable" | "slot_being_booked"),
                "{error}"
            ),
        }
    }
    assert_eq!(wins, 1);
}

/// An external calendar whose first answer never comes.
#[derive(Default)]
struct HangsOnce {
    calls: AtomicUsize,
}

#[async_trait]
impl AvailabilityProvider for HangsOnce {
    async fn busy_time(
        &self,
        _organizer: &Organizer,
        _range: TimeRange,
        _purpose: BusyPurpose,
    ) -> Result<BusyTime, ProviderError> {
        if self.calls.fetch_add(1, Ordering::SeqCst) == 0 {
            std::future::pending::<()>().await;
        }
        Ok(BusyTime::default())
    }
}

#[tokio::test]
async fn an_abandoned_request_releases_its_slot_lock() {
    let lock = Arc::new(MemoryLock::new());
    let f = fixture_with(lock.clone()).await;
    let service = f.service.clone().with_provider(HangsOnce::default());
    let start = utc(2026, 12, 2, 10, 0);
    // The first request takes the lock, then hangs on the external calendar; its caller gives up.
    let abandoned = tokio::time::timeout(
        std::time::Duration::from_millis(50),
        service.create_booking(request(start, 30)),
    )
    .await;
    assert!(
        abandoned.is_err(),
        "the first request must still be pending when abandoned"
    );
    // Dropping it released the lock (from a spawned task): the slot can be locked again.
    let key = SlotKey {
        organizer_id: f.ada.id,
        start,
    };
    let mut freed = false;
    for _ in 0..100 {
        tokio::task::yield_now().await;
        if let Ok(guard) = lock.acquire(&key, std::time::Duration::from_secs(10)).await {
            lock.release(&guard).await.unwrap();
            freed = true;
            break;
        }
    }
    assert!(freed, "the abandoned request's lock was not released");
    service.create_booking(request(start, 30)).await.unwrap();
}

/// Two services over one store, as two processes over one database: each
/// keeps the configuration it read to decide bookings on, and a change made
/// through the other is seen by its very next booking (the store checks
/// the version the booking was decided on), while taken time is refused by
/// the store itself.
#[tokio::test]
async fn a_kept_configuration_never_outlives_a_change_made_elsewhere() {
    let store: Arc<dyn BookingStore> = Arc::new(MemoryStore::new());
    let clock = Arc::new(ManualClock::new(now()));
    let here = BookingService::new(store.clone()).with_clock(clock.clone());
    let elsewhere = BookingService::new(store.clone()).with_clock(clock);
    let (ada, _) = here
        .register_organizer(NewOrganizer::new(
            "ada",
            "ada@example.com",
            "Ada",
            Europe::London,
        ))
        .await
        .unwrap();
    here.put_settings(&ada, settings_draft()).await.unwrap();
    // `here` reads the configuration (09:00-17:00) and keeps it.
    assert_eq!(
        here.available_slots(SlotQuery::new("ada", day(2)))
            .await
            .unwrap()
            .len(),
        16
    );
    here.create_booking(request(utc(2026, 12, 2, 9, 0), 30))
        .await
        .unwrap();
    // Taken time is refused by the store, though `here` did not read it.
    elsewhere
        .create_booking(request(utc(2026, 12, 2, 11, 0), 30))
        .await
        .unwrap();
    let taken = here
        .create_booking(request(utc(2026, 12, 2, 11, 0), 30))
        .await;
    assert!(
        matches!(taken, Err(ServiceError::SlotUnavailable(SlotRefusal::Busy))),
        "got {taken:?}"
    );
    // Elsewhere closes the mornings: `here`'s next booking sees it.
    elsewhere
        .put_settings(
            &ada,
            SettingsDraft {
                weekly_hours: WeeklyHours::weekdays(vec![
                    LocalInterval::parse("13:00", "17:00").unwrap(),
                ]),
                ..settings_draft()
            },
        )
        .await
        .unwrap();
    let morning = here
        .create_booking(request(utc(2026, 12, 2, 10, 0), 30))
        .await;
    assert!(
        matches!(morning, Err(ServiceError::SlotUnavailable(_))),
        "the morning is closed now, got {morning:?}"
    );
    here.create_booking(request(utc(2026, 12, 2, 14, 0), 30))
        .await
        .expect("the afternoon is open");
    // Elsewhere opens the mornings again: `here` kept them closed, but a
    // refusal by a kept configuration is never final.
    elsewhere
        .put_settings(&ada, settings_draft())
        .await
        .unwrap();
    here.create_booking(request(utc(2026, 12, 2, 10, 0), 30))
        .await
        .expect("the morning is open again");
    let active = here
        .list_bookings(&ada, ListQuery::default())
        .await
        .unwrap();
    let starts: Vec<_> = active.bookings.iter().map(|b| b.time.start()).collect();
    assert_eq!(
        starts,
        [
            utc(2026, 12, 2, 9, 0),
            utc(2026, 12, 2, 10, 0),
            utc(2026, 12, 2, 11, 0),
            utc(2026, 12, 2, 14, 0)
        ]
    );
}
