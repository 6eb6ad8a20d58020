//! Reschedule, holds and idempotent requests through the service.

use super::*;
use crate::event_type::EventTypeDraft;
use crate::hold::HoldRequest;
use crate::idempotency::IdempotencyKey;
use crate::lock::LockError;
use crate::service::{RescheduleRequest, ServiceError};

fn slot(start: DateTime<Utc>, minutes: i64) -> TimeRange {
    TimeRange::starting_at(start, Duration::minutes(minutes)).unwrap()
}

fn key(text: &str) -> IdempotencyKey {
    text.parse().unwrap()
}

#[tokio::test]
async fn a_reschedule_keeps_the_booking_and_its_token() {
    let f = fixture().await;
    let created = f
        .service
        .create_booking(request(utc(2026, 12, 2, 10, 0), 30))
        .await
        .unwrap();
    let token = Credential::from(&created.cancel_token);
    // 30 minutes later: inside its own buffer (10:00-10:45), which never
    // blocks its own move.
    let moved = f
        .service
        .reschedule(
            RescheduleRequest::new(created.booking.id, slot(utc(2026, 12, 2, 10, 30), 30)),
            &token,
        )
        .await
        .unwrap();
    assert_eq!(moved.booking.id, created.booking.id);
    assert_eq!(moved.booking.start_time(), utc(2026, 12, 2, 10, 30));
    assert_eq!(moved.booking.sequence, 1);
    assert_eq!(moved.booking.rescheduled_from, Some(created.booking.time));
    assert!(!moved.replayed);
    // The same token still works, and the old time is free again.
    assert_eq!(
        f.service
            .get_booking(created.booking.id, &token)
            .await
            .unwrap()
            .time,
        moved.booking.time
    );
    f.service
        .create_booking(request(utc(2026, 12, 2, 9, 30), 30))
        .await
        .expect("09:30 no longer collides with a 10:00 booking");
    // Into a taken slot, off the grid, by a stranger: refused, unchanged.
    for (time, code) in [
        (slot(utc(2026, 12, 2, 9, 30), 30), "slot_unavailable"),
        (slot(utc(2026, 12, 2, 14, 10), 30), "slot_unavailable"),
    ] {
        let error = f
            .service
            .reschedule(RescheduleRequest::new(created.booking.id, time), &token)
            .await
            .unwrap_err();
        assert_eq!(error.code(), code, "{error}");
    }
    assert!(matches!(
        f.service
            .reschedule(
                RescheduleRequest::new(created.booking.id, slot(utc(2026, 12, 2, 15, 0), 30)),
                &Credential::cancel_token("guess"),
            )
            .await,
        Err(ServiceError::PermissionDenied)
    ));
    // A start alone keeps the booking's length.
    let by_start = f
        .service
        .reschedule(
            RescheduleRequest::new(
                created.booking.id,
                BookingTime::Start {
                    start: utc(2026, 12, 2, 15, 0),
                    duration: None,
                },
            ),
            &Credential::from(&f.ada),
        )
        .await
        .unwrap();
    assert_eq!(by_start.booking.time, slot(utc(2026, 12, 2, 15, 0), 30));
    assert_eq!(by_start.booking.sequence, 2);
    // Cancelled: refused.
    let cancelled = f
        .service
        .cancel_booking(created.booking.id, &token)
        .await
        .unwrap();
    assert_eq!(cancelled.booking.sequence, 3);
    assert!(matches!(
        f.service
            .reschedule(
                RescheduleRequest::new(created.booking.id, slot(utc(2026, 12, 2, 16, 0), 30)),
                &token,
            )
            .await,
        Err(ServiceError::AlreadyCancelled { .. })
    ));
}

#[tokio::test]
async fn a_booking_that_started_cannot_move() {
    let f = fixture().await;
    let created = f
        .service
        .create_booking(request(utc(2026, 12, 2, 10, 0), 30))
        .await
        .unwrap();
    f.clock.set(utc(2026, 12, 2, 10, 0));
    assert!(matches!(
        f.service
            .reschedule(
                RescheduleRequest::new(created.booking.id, slot(utc(2026, 12, 3, 10, 0), 30)),
                &Credential::from(&created.cancel_token),
            )
            .await,
        Err(ServiceError::BookingStarted)
    ));
}

#[tokio::test]
async fn a_hold_keeps_its_slot_until_booked_released_or_expired() {
    let f = fixture().await;
    let day = SlotQuery::new("ada", day(2));
    let ten = slot(utc(2026, 12, 2, 10, 0), 30);
    let held = f
        .service
        .hold_slot(HoldRequest::new("ada", ten).client("203.0.113.7"))
        .await
        .unwrap();
    assert_eq!(held.hold.expires_at, now() + Duration::minutes(5));
    let offered = f.service.available_slots(day.clone()).await.unwrap();
    assert!(!offered.contains(&ten), "a held slot is not offered");
    let stranger = f.service.create_booking(request(ten.start(), 30)).await;
    assert!(
        matches!(stranger, Err(ServiceError::SlotUnavailable(_))),
        "booking a held slot without its token: {stranger:?}"
    );
    let booked = f
        .service
        .create_booking(request(ten.start(), 30).hold_token(held.token.expose()))
        .await
        .expect("the hold's token books the held slot");
    assert_eq!(booked.booking.time, ten);
    assert!(matches!(
        f.service
            .release_hold(held.hold.id, held.token.expose())
            .await,
        Err(ServiceError::HoldNotFound)
    ));

    // Released early: offered again.
    let eleven = slot(utc(2026, 12, 2, 11, 0), 30);
    let second = f
        .service
        .hold_slot(HoldRequest::new("ada", eleven))
        .await
        .unwrap();
    f.service
        .release_hold(second.hold.id, second.token.expose())
        .await
        .unwrap();
    assert!(
        f.service
            .available_slots(day.clone())
            .await
            .unwrap()
            .contains(&eleven)
    );

    // Expired: offered again, with no clean-up.
    let twelve = slot(utc(2026, 12, 2, 12, 0), 30);
    f.service
        .hold_slot(HoldRequest::new("ada", twelve))
        .await
        .unwrap();
    assert!(
        !f.service
            .available_slots(day.clone())
            .await
            .unwrap()
            .contains(&twelve)
    );
    f.clock.advance(Duration::minutes(5));
    assert!(
        f.service
            .available_slots(day)
            .await
            .unwrap()
            .contains(&twelve)
    );
}

#[tokio::test]
async fn holds_are_capped_per_client_and_can_be_disabled() {
    let f = fixture().await;
    for hour in [9, 10, 11] {
        f.service
            .hold_slot(HoldRequest::new("ada", slot(utc(2026, 12, 2, hour, 0), 30)).client("a"))
            .await
            .unwrap();
    }
    assert!(matches!(
        f.service
            .hold_slot(HoldRequest::new("ada", slot(utc(2026, 12, 2, 13, 0), 30)).client("a"))
            .await,
        Err(ServiceError::TooManyHolds { max: 3 })
    ));
    f.service
        .hold_slot(HoldRequest::new("ada", slot(utc(2026, 12, 2, 13, 0), 30)).client("b"))
        .await
        .expect("another client has its own cap");
    let draft = EventTypeDraft {
        hold_duration: Duration::zero(),
        ..EventTypeDraft::new("nohold", "No holds", Duration::minutes(30))
    };
    f.service.create_event_type(&f.ada, draft).await.unwrap();
    assert!(matches!(
        f.service
            .hold_slot(
                HoldRequest::new("ada", slot(utc(2026, 12, 3, 9, 0), 30)).event_type("nohold")
            )
            .await,
        Err(ServiceError::HoldsDisabled)
    ));
}

#[tokio::test]
async fn an_idempotent_booking_replays_its_outcome() {
    let f = fixture().await;
    let first_key = key("first");
    let first = f
        .service
        .create_booking(request(utc(2026, 12, 2, 10, 0), 30).idempotency_key(first_key.clone()))
        .await
        .unwrap();
    assert!(!first.replayed);
    let again = f
        .service
        .create_booking(request(utc(2026, 12, 2, 10, 0), 30).idempotency_key(first_key.clone()))
        .await
        .unwrap();
    assert!(again.replayed);
    assert_eq!(again.booking, first.booking);
    assert_eq!(again.cancel_token.expose(), first.cancel_token.expose());
    // The same key for another request.
    assert!(matches!(
        f.service
            .create_booking(request(utc(2026, 12, 2, 11, 0), 30).idempotency_key(first_key))
            .await,
        Err(ServiceError::IdempotencyKeyReused)
    ));
    // A refusal is replayed as it was, even once the slot is free again.
    let taken_key = key("taken");
    let refused = f
        .service
        .create_booking(request(utc(2026, 12, 2, 10, 0), 30).idempotency_key(taken_key.clone()))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), "slot_unavailable");
    f.service
        .cancel_booking(first.booking.id, &Credential::from(&first.cancel_token))
        .await
        .unwrap();
    let replayed = f
        .service
        .create_booking(request(utc(2026, 12, 2, 10, 0), 30).idempotency_key(taken_key))
        .await
        .unwrap_err();
    assert_eq!(replayed.code(), "slot_unavailable");
    assert_eq!(replayed.to_string(), refused.to_string());
}

#[tokio::test]
async fn idempotent_reschedules_and_cancellations_replay() {
    let f = fixture().await;
    let created = f
        .service
        .create_booking(request(utc(2026, 12, 2, 10, 0), 30))
        .await
        .unwrap();
    let token = Credential::from(&created.cancel_token);
    let move_key = key("move");
    let to_eleven = RescheduleRequest::new(created.booking.id, slot(utc(2026, 12, 2, 11, 0), 30))
        .idempotency_key(move_key.clone());
    let moved = f
        .service
        .reschedule(to_eleven.clone(), &token)
        .await
        .unwrap();
    let replayed = f.service.reschedule(to_eleven, &token).await.unwrap();
    assert!(replayed.replayed);
    assert_eq!(replayed.booking, moved.booking);
    assert_eq!(
        moved.booking.sequence, 1,
        "the replay did not move it again"
    );
    let elsewhere = RescheduleRequest::new(created.booking.id, slot(utc(2026, 12, 2, 12, 0), 30))
        .idempotency_key(move_key);
    assert!(matches!(
        f.service.reschedule(elsewhere, &token).await,
        Err(ServiceError::IdempotencyKeyReused)
    ));
    let cancel_key = key("cancel");
    let cancelled = f
        .service
        .cancel_booking_idempotent(created.booking.id, &token, &cancel_key)
        .await
        .unwrap();
    let again = f
        .service
        .cancel_booking_idempotent(created.booking.id, &token, &cancel_key)
        .await
        .unwrap();
    assert!(again.replayed);
    assert_eq!(again.cancelled_at, cancelled.cancelled_at);
    assert!(matches!(
        f.service.cancel_booking(created.booking.id, &token).await,
        Err(ServiceError::AlreadyCancelled { .. })
    ));
}

/// A lock whose first acquisitions find the slot held by another booking in
/// progress, as when two attendees click the same time at once.
struct BusyThenFree {
    refusals_left: AtomicUsize,
    inner: MemoryLock,
}

#[async_trait]
impl SlotLock for BusyThenFree {
    async fn acquire(
        &self,
        key: &SlotKey,
        ttl: std::time::Duration,
    ) -> Result<LockGuard, LockError> {
        let refuse = self
            .refusals_left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if refuse {
            return Err(LockError::Held {
                key: key.to_string(),
            });
        }
        self.inner.acquire(key, ttl).await
    }

    async fn release(&self, guard: &LockGuard) -> Result<Release, LockError> {
        self.inner.release(guard).await
    }
}

/// `slot_being_booked` and `concurrent_update` ask the client to try again;
/// with the same idempotency key the retry must run again, not replay the
/// transient refusal for a day.
#[tokio::test]
async fn a_transient_refusal_is_not_replayed_to_a_retry_with_the_same_key() {
    let f = fixture_with(Arc::new(BusyThenFree {
        refusals_left: AtomicUsize::new(1),
        inner: MemoryLock::new(),
    }))
    .await;
    let retry_key = key("retry");
    let busy = f
        .service
        .create_booking(request(utc(2026, 12, 2, 10, 0), 30).idempotency_key(retry_key.clone()))
        .await
        .unwrap_err();
    assert_eq!(busy.code(), "slot_being_booked");
    let booked = f
        .service
        .create_booking(request(utc(2026, 12, 2, 10, 0), 30).idempotency_key(retry_key.clone()))
        .await
        .expect("the retry runs again and books the free slot");
    assert!(!booked.replayed);
    let replayed = f
        .service
        .create_booking(request(utc(2026, 12, 2, 10, 0), 30).idempotency_key(retry_key))
        .await
        .unwrap();
    assert!(replayed.replayed);
    assert_eq!(replayed.booking.id, booked.booking.id);
}

#[tokio::test]
async fn a_replay_after_the_secret_was_set_still_returns_a_working_cancel_token() {
    let f = fixture().await;
    let made_before = key("made-before-the-secret");
    let first = f
        .service
        .create_booking(request(utc(2026, 12, 2, 10, 0), 30).idempotency_key(made_before.clone()))
        .await
        .unwrap();
    // The operator sets a server secret (a restart with BOOKING_SECRET_KEY)
    // while the key is still remembered: the retry gets the token the
    // booking was made with, not one that no longer matches it.
    let with_secret = f.service.clone().with_secret(b"a server secret, set later");
    let again = with_secret
        .create_booking(request(utc(2026, 12, 2, 10, 0), 30).idempotency_key(made_before))
        .await
        .unwrap();
    assert!(again.replayed);
    assert_eq!(again.cancel_token.expose(), first.cancel_token.expose());
    // Bookings made with the secret get tokens that depend on it, and
    // their replays return the same working token.
    let made_after = key("made-after-the-secret");
    let second = with_secret
        .create_booking(request(utc(2026, 12, 2, 11, 0), 30).idempotency_key(made_after.clone()))
        .await
        .unwrap();
    let replayed = with_secret
        .create_booking(request(utc(2026, 12, 2, 11, 0), 30).idempotency_key(made_after))
        .await
        .unwrap();
    assert!(replayed.replayed);
    assert_eq!(replayed.cancel_token.expose(), second.cancel_token.expose());
    with_secret
        .cancel_booking(again.booking.id, &Credential::from(&again.cancel_token))
        .await
        .expect("the replayed token of the earlier booking cancels it");
    with_secret
        .cancel_booking(
            replayed.booking.id,
            &Credential::from(&replayed.cancel_token),
        )
        .await
        .expect("the replayed token of the later booking cancels it");
}
