//! `BookingService` with the Redis lock: bookings stay exactly-once whether
//! Redis answers or not.

mod common;

use std::sync::Arc;
use std::time::Duration;

use booking_core::lock::{DEFAULT_LOCK_TTL, LockError, SlotLock};
use booking_core::{
    Attendee, BookingRequest, BookingService, ListQuery, LocalInterval, ManualClock, MemoryStore,
    NewOrganizer, ServiceError, SettingsDraft, SlotQuery, TimeRange, WeeklyHours,
};
use booking_redis_lock::RedisLock;
use chrono::{TimeZone, Utc};
use common::{config, connect, raw};
use redis::AsyncCommands;

const RACERS: usize = 12;

/// A service over a fresh `MemoryStore` and `lock`, with one organizer
/// ("ada", weekdays 09:00-12:00 London, 60-minute slots) and the clock at
/// 08:00 UTC on Tuesday 2026-12-01. Returns the service, the organizer's
/// username and tomorrow's slots.
async fn service_with(lock: Arc<dyn SlotLock>) -> (BookingService, String, Vec<TimeRange>) {
    let now = Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap();
    let service = BookingService::new(MemoryStore::new())
        .with_lock(lock)
        .with_clock(Arc::new(ManualClock::new(now)));
    let username = "ada".to_owned();
    let (ada, _token) = service
        .register_organizer(NewOrganizer::new(
            &username,
            "ada@example.com",
            "Ada",
            chrono_tz::Europe::London,
        ))
        .await
        .unwrap();
    service
        .put_settings(
            &ada,
            SettingsDraft {
                time_zone: Some(chrono_tz::Europe::London),
                weekly_hours: WeeklyHours::weekdays(vec![
                    LocalInterval::parse("09:00", "12:00").unwrap(),
                ]),
                slot_duration: chrono::Duration::minutes(60),
                ..SettingsDraft::default()
            },
        )
        .await
        .unwrap();
    let tomorrow =
        TimeRange::starting_at(now + chrono::Duration::hours(16), chrono::Duration::days(1))
            .unwrap();
    let slots = service
        .available_slots(SlotQuery::new(&username, tomorrow))
        .await
        .unwrap();
    assert_eq!(slots.len(), 3, "Wednesday 09:00-12:00 in hour slots");
    (service, username, slots)
}

fn request(username: &str, slot: TimeRange, who: usize) -> BookingRequest {
    let attendee = Attendee::new(
        format!("Attendee {who}"),
        format!("attendee{who}@example.com"),
    );
    BookingRequest::new(username, slot, attendee).title("Intro")
}

/// `RACERS` concurrent bookings of the same slot; returns the results.
async fn race_for(
    service: &BookingService,
    username: &str,
    slot: TimeRange,
) -> Vec<Result<booking_core::CreatedBooking, ServiceError>> {
    let start = Arc::new(tokio::sync::Barrier::new(RACERS));
    let mut tasks = Vec::new();
    for who in 0..RACERS {
        let (service, start) = (service.clone(), start.clone());
        let request = request(username, slot, who);
        tasks.push(tokio::spawn(async move {
            start.wait().await;
            service.create_booking(request).await
        }));
    }
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    results
}

async fn active_bookings(service: &BookingService, username: &str) -> Vec<booking_core::Booking> {
    let list = service
        .list_bookings(username, ListQuery::default())
        .await
        .unwrap();
    assert_eq!(list.total as usize, list.bookings.len());
    list.bookings
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn with_redis_unreachable_a_slot_is_still_booked_exactly_once() {
    // Nothing listens on port 1 of the loopback interface.
    let config = config("service-down").with_command_timeout(Duration::from_millis(500));
    let lock = RedisLock::connect_lazy("redis://127.0.0.1:1", config).unwrap();
    let probe = lock.acquire(&common::slot(), DEFAULT_LOCK_TTL).await;
    assert!(
        matches!(probe, Err(LockError::Backend(_))),
        "the lock must be failing: {probe:?}"
    );
    let (service, username, slots) = service_with(Arc::new(lock)).await;

    let results = tokio::time::timeout(
        Duration::from_secs(60),
        race_for(&service, &username, slots[0]),
    )
    .await
    .expect("bookings must not hang on a dead Redis");
    let booked: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(booked.len(), 1, "exactly one booking succeeds: {results:?}");
    for result in &results {
        if let Err(error) = result {
            // Without the lock nobody is told "being booked": the store refuses.
            assert_eq!(
                error.code(),
                "slot_unavailable",
                "unexpected error: {error:?}"
            );
        }
    }

    let stored = active_bookings(&service, &username).await;
    assert_eq!(stored.len(), 1, "the store holds exactly one booking");
    assert_eq!(stored[0].id, booked[0].booking.id);
    assert_eq!(stored[0].start_time(), slots[0].start());

    // The other slots stay bookable while Redis is down.
    service
        .create_booking(request(&username, slots[1], 99))
        .await
        .unwrap();
    assert_eq!(active_bookings(&service, &username).await.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn with_redis_up_a_slot_is_booked_exactly_once_and_the_lock_is_released() {
    let config = config("service-up");
    let prefix = config.prefix.clone();
    let lock = connect(config).await;
    let (service, username, slots) = service_with(Arc::new(lock)).await;

    let results = race_for(&service, &username, slots[0]).await;
    let booked: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(booked.len(), 1, "exactly one booking succeeds: {results:?}");
    for result in &results {
        if let Err(error) = result {
            assert!(
                matches!(error.code(), "slot_unavailable" | "slot_being_booked"),
                "unexpected error: {error:?}"
            );
        }
    }
    assert_eq!(active_bookings(&service, &username).await.len(), 1);

    // Every acquisition was released: no lock key of this test is left.
    let mut redis = raw().await;
    let left: Vec<String> = redis.keys(format!("{prefix}:*")).await.unwrap();
    assert!(left.is_empty(), "locks left behind: {left:?}");
}
