//! The store checks: one public async function per rule of the
//! [`BookingStore`] contract, each taking a fresh, empty store.

use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};
use serde_json::json;

use crate::booking::{Attendee, Booking, BookingId, BookingRequest, LimitCheck, NewBooking};
use crate::event_type::{
    BookingLimits, BookingWindow, EventType, EventTypeId, LimitPeriod, Location, Slug,
};
use crate::hold::NewHold;
use crate::idempotency::{ClaimOutcome, IdempotencyCompletion, IdempotencyKey, IdempotencyScope};
use crate::memory::MemoryLock;
use crate::organizer::{NewOrganizer, OrganizerId, OrganizerRef};
use crate::schedule::{Schedule, ScheduleId};
use crate::secret::TokenHash;
use crate::service::{BookingService, ServiceError};
use crate::store::{BookingQuery, BookingStore, ConfigChange, ContextQuery, StoreError};
use crate::store::{Cancellation, Reschedule};
use crate::time::{ManualClock, TimeRange};

use super::fixtures::{
    all_active, assert_no_overlaps, at, bare_organizer, claim, created, default_event_type_id,
    event_record, event_type, job, move_to, new_booking, new_hold, organizer, organizer_in,
    race_inserts, range, schedule, winners_per_group,
};

// ------------------------------------------------------------------- checks

/// Organizers can be found by id, username and token hash, field for field.
pub async fn organizers_round_trip(store: Arc<dyn BookingStore>) {
    let ada = organizer(&*store, "ada").await;
    assert_eq!(
        store.organizer_by_id(ada.id).await.unwrap().as_ref(),
        Some(&ada)
    );
    assert_eq!(
        store.organizer_by_username("ada").await.unwrap().as_ref(),
        Some(&ada)
    );
    assert_eq!(
        store
            .organizer_by_token_hash(&TokenHash::of("ada"))
            .await
            .unwrap()
            .as_ref(),
        Some(&ada)
    );
    assert_eq!(
        store.organizer_by_username("ADA").await.unwrap().as_ref(),
        Some(&ada),
        "usernames are found ignoring ASCII case"
    );
    assert_eq!(
        store
            .organizer(&OrganizerRef::Id(ada.id))
            .await
            .unwrap()
            .as_ref(),
        Some(&ada)
    );
    assert_eq!(
        store
            .organizer_by_id(OrganizerId::generate())
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .organizer_by_token_hash(&TokenHash::of("nobody"))
            .await
            .unwrap(),
        None
    );
}

/// A second organizer with a taken username, in any ASCII case, is refused
/// with `UsernameTaken`.
pub async fn usernames_are_unique(store: Arc<dyn BookingStore>) {
    organizer(&*store, "ada").await;
    for taken in ["ada", "ADA", "Ada"] {
        let again = store
            .create_organizer(
                OrganizerId::generate(),
                NewOrganizer::new(taken, "other@example.com", "Other", chrono_tz::UTC),
                TokenHash::of("other"),
                created(),
            )
            .await;
        assert!(
            matches!(&again, Err(StoreError::UsernameTaken(name)) if name == taken),
            "{taken} after ada: expected UsernameTaken, got {again:?}"
        );
    }
    assert!(
        store
            .organizer_by_token_hash(&TokenHash::of("other"))
            .await
            .unwrap()
            .is_none(),
        "nothing written"
    );
}

/// A configuration is empty at version 0, stored and read back field for
/// field, replaced and deleted piecewise, and every write bumps the version.
pub async fn config_round_trip(store: Arc<dyn BookingStore>) {
    let ada = bare_organizer(&*store, "ada", chrono_tz::Europe::London).await;
    let empty = store.organizer_config(ada.id).await.unwrap().unwrap();
    assert_eq!(
        (
            empty.version,
            empty.schedules.len(),
            empty.event_types.len()
        ),
        (0, 0, 0)
    );

    let hours = schedule(ada.id);
    let evenings = Schedule {
        id: ScheduleId::generate(),
        name: "Evenings 🌙 'quoted'".into(),
        time_zone: chrono_tz::Australia::Lord_Howe,
        is_default: false,
        ..schedule(ada.id)
    };
    let plain = event_type(ada.id);
    let rich = EventType {
        id: EventTypeId::generate(),
        slug: "consult-60".parse().unwrap(),
        title: "<b>Consult</b>".into(),
        description: Some("line one\nline 'two'".into()),
        duration: Duration::minutes(30),
        duration_options: vec![Duration::minutes(30), Duration::minutes(60)],
        slot_step: None,
        booking_window: BookingWindow::Range {
            first: chrono::NaiveDate::from_ymd_opt(2027, 1, 1).unwrap(),
            last: chrono::NaiveDate::from_ymd_opt(2027, 3, 31).unwrap(),
        },
        limits: BookingLimits {
            per_day: Some(3),
            per_week: Some(10),
            week_starts_on: chrono::Weekday::Sun,
        },
        schedule_id: Some(evenings.id),
        location: Some(Location::Video {
            url: "https://meet.example.com/ada".into(),
        }),
        active: false,
        hold_duration: Duration::minutes(15),
        ..event_type(ada.id)
    };
    let version = store
        .update_config(
            ada.id,
            0,
            vec![
                ConfigChange::PutSchedule(hours.clone()),
                ConfigChange::PutSchedule(evenings.clone()),
                ConfigChange::PutEventType(plain.clone()),
                ConfigChange::PutEventType(rich.clone()),
            ],
        )
        .await
        .unwrap();
    assert_eq!(version, 1);
    let mut schedules = vec![hours.clone(), evenings.clone()];
    schedules.sort_by_key(|s| s.id);
    let mut event_types = vec![plain.clone(), rich.clone()];
    event_types.sort_by_key(|e| e.id);
    let read = store.organizer_config(ada.id).await.unwrap().unwrap();
    assert_eq!(read.version, 1);
    assert_eq!(
        read.schedules, schedules,
        "schedules ordered by id, verbatim"
    );
    assert_eq!(
        read.event_types, event_types,
        "event types ordered by id, verbatim"
    );

    let renamed = EventType {
        slug: "consult".parse().unwrap(),
        booking_window: BookingWindow::RollingBusinessDays { days: 10 },
        location: Some(Location::InPerson {
            address: "1 Main St".into(),
        }),
        limits: BookingLimits::default(),
        ..rich.clone()
    };
    let version = store
        .update_config(
            ada.id,
            1,
            vec![
                ConfigChange::PutEventType(renamed.clone()),
                ConfigChange::DeleteEventType(plain.id),
            ],
        )
        .await
        .unwrap();
    assert_eq!(version, 2);
    let read = store.organizer_config(ada.id).await.unwrap().unwrap();
    assert_eq!(read.event_types, vec![renamed]);

    let stale = store
        .update_config(ada.id, 1, vec![ConfigChange::DeleteSchedule(evenings.id)])
        .await;
    assert!(
        matches!(stale, Err(StoreError::ConfigChanged)),
        "a stale version must be refused, got {stale:?}"
    );
    assert_eq!(
        store.organizer_config(ada.id).await.unwrap().unwrap(),
        read,
        "nothing written"
    );

    let ghost = OrganizerId::generate();
    assert!(store.organizer_config(ghost).await.unwrap().is_none());
    assert!(matches!(
        store.update_config(ghost, 0, vec![]).await,
        Err(StoreError::OrganizerNotFound(id)) if id == ghost
    ));
}

/// A configuration change that breaks a store-level rule (a slug used twice,
/// a deleted schedule still in use) is refused whole: nothing of it stays.
pub async fn config_changes_are_all_or_nothing(store: Arc<dyn BookingStore>) {
    let ada = organizer(&*store, "ada").await;
    let before = store.organizer_config(ada.id).await.unwrap().unwrap();
    let extra = Schedule {
        id: ScheduleId::generate(),
        is_default: false,
        ..schedule(ada.id)
    };
    let duplicate = EventType {
        id: EventTypeId::generate(),
        ..event_type(ada.id)
    };
    let refused = store
        .update_config(
            ada.id,
            before.version,
            vec![
                ConfigChange::PutSchedule(extra.clone()),
                ConfigChange::PutEventType(duplicate),
            ],
        )
        .await;
    assert!(
        matches!(&refused, Err(StoreError::SlugTaken(slug)) if slug == "default"),
        "a slug used twice must be SlugTaken, got {refused:?}"
    );
    assert_eq!(
        store.organizer_config(ada.id).await.unwrap().unwrap(),
        before
    );

    let user = EventType {
        id: EventTypeId::generate(),
        slug: "evening".parse().unwrap(),
        schedule_id: Some(extra.id),
        ..event_type(ada.id)
    };
    let version = store
        .update_config(
            ada.id,
            before.version,
            vec![
                ConfigChange::PutSchedule(extra.clone()),
                ConfigChange::PutEventType(user),
            ],
        )
        .await
        .unwrap();
    let with_extra = store.organizer_config(ada.id).await.unwrap().unwrap();
    let refused = store
        .update_config(
            ada.id,
            version,
            vec![
                ConfigChange::DeleteEventType(default_event_type_id(ada.id)),
                ConfigChange::DeleteSchedule(extra.id),
            ],
        )
        .await;
    assert!(
        matches!(&refused, Err(StoreError::ScheduleInUse(id)) if *id == extra.id),
        "deleting a schedule in use must be ScheduleInUse, got {refused:?}"
    );
    assert_eq!(
        store.organizer_config(ada.id).await.unwrap().unwrap(),
        with_extra
    );
}

/// Two changes computed from the same version race: exactly one applies.
pub async fn concurrent_config_updates_apply_once(store: Arc<dyn BookingStore>) {
    let ada = organizer(&*store, "ada").await;
    let version = store
        .organizer_config(ada.id)
        .await
        .unwrap()
        .unwrap()
        .version;
    let barrier = Arc::new(tokio::sync::Barrier::new(16));
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let store = store.clone();
            let barrier = barrier.clone();
            tokio::spawn(async move {
                let renamed = EventType {
                    title: format!("Title {i}"),
                    ..event_type(ada.id)
                };
                barrier.wait().await;
                store
                    .update_config(ada.id, version, vec![ConfigChange::PutEventType(renamed)])
                    .await
            })
        })
        .collect();
    let mut applied = 0;
    for task in tasks {
        match task.await.expect("update task panicked") {
            Ok(new_version) => {
                assert_eq!(new_version, version + 1);
                applied += 1;
            }
            Err(StoreError::ConfigChanged) => {}
            Err(other) => panic!("a racing update must apply or be ConfigChanged, got {other}"),
        }
    }
    assert_eq!(applied, 1, "exactly one of the racing updates applies");
    assert_eq!(
        store
            .organizer_config(ada.id)
            .await
            .unwrap()
            .unwrap()
            .version,
        version + 1
    );
}

/// Every field of a booking comes back as written: hostile text verbatim,
/// metadata, buffers, the token hash, timestamps.
pub async fn bookings_round_trip_verbatim(store: Arc<dyn BookingStore>) {
    let ada = organizer(&*store, "ada").await;
    let mut booking = new_booking(ada.id, range(at(10, 0), 30), 5, 10);
    booking.attendee.name = "Robert'); DROP TABLE bookings;-- 🎉".into();
    booking.title = "<script>alert('x')</script>".into();
    booking.description = Some("line one\nline \"two\" \\ back-slash ' quote".into());
    booking.metadata = Some(
        json!({"guests": ["a@example.com"], "n": 3, "nested": {"ok": true}})
            .as_object()
            .unwrap()
            .clone(),
    );
    booking.created_at = created() + Duration::milliseconds(123);
    let inserted = store.insert_booking(booking.clone()).await.unwrap();
    let expected = Booking::from_new(booking);
    assert_eq!(inserted, expected);
    assert_eq!(store.booking(expected.id).await.unwrap(), Some(expected));
    assert_eq!(store.booking(BookingId::generate()).await.unwrap(), None);
}

/// Overlapping meetings of one organizer: the second is a `Conflict`.
pub async fn overlapping_insert_is_refused(store: Arc<dyn BookingStore>) {
    let ada = organizer(&*store, "ada").await;
    store
        .insert_booking(new_booking(ada.id, range(at(10, 0), 60), 0, 0))
        .await
        .unwrap();
    for (start, minutes) in [
        (at(10, 0), 60),
        (at(9, 30), 60),
        (at(10, 30), 60),
        (at(10, 15), 15),
        (at(9, 0), 180),
    ] {
        let refused = store
            .insert_booking(new_booking(ada.id, range(start, minutes), 0, 0))
            .await;
        assert!(
            matches!(refused, Err(StoreError::Conflict)),
            "{} must conflict",
            range(start, minutes)
        );
    }
}

/// Occupied intervals include buffers on both sides, the existing booking's
/// and the new one's.
pub async fn buffers_are_part_of_the_occupied_interval(store: Arc<dyn BookingStore>) {
    let ada = organizer(&*store, "ada").await;
    // Occupies 09:50-10:45.
    store
        .insert_booking(new_booking(ada.id, range(at(10, 0), 30), 10, 15))
        .await
        .unwrap();
    // Meeting 10:30-11:00 overlaps the existing buffer after.
    let into_after = store
        .insert_booking(new_booking(ada.id, range(at(10, 40), 20), 0, 0))
        .await;
    assert!(
        matches!(into_after, Err(StoreError::Conflict)),
        "the existing buffer after must block"
    );
    // Meeting 09:00-09:45 whose own buffer after (10 min) reaches 09:55.
    let own_buffer = store
        .insert_booking(new_booking(ada.id, range(at(9, 0), 45), 0, 10))
        .await;
    assert!(
        matches!(own_buffer, Err(StoreError::Conflict)),
        "the new booking's buffer must block"
    );
    // Occupying exactly up to 09:50 and from 10:45 is fine.
    store
        .insert_booking(new_booking(ada.id, range(at(9, 0), 45), 0, 5))
        .await
        .unwrap();
    store
        .insert_booking(new_booking(ada.id, range(at(10, 55), 30), 10, 0))
        .await
        .unwrap();
}

/// Half-open intervals: back-to-back bookings do not conflict.
pub async fn touching_bookings_are_allowed(store: Arc<dyn BookingStore>) {
    let ada = organizer(&*store, "ada").await;
    for hour in [9, 10, 11] {
        store
            .insert_booking(new_booking(ada.id, range(at(hour, 0), 60), 0, 0))
            .await
            .unwrap();
    }
    assert_eq!(all_active(&*store, ada.id).await.len(), 3);
}

/// One organizer's bookings never block another's.
pub async fn organizers_do_not_block_each_other(store: Arc<dyn BookingStore>) {
    let ada = organizer(&*store, "ada").await;
    let bob = organizer(&*store, "bob").await;
    store
        .insert_booking(new_booking(ada.id, range(at(10, 0), 60), 0, 0))
        .await
        .unwrap();
    store
        .insert_booking(new_booking(bob.id, range(at(10, 0), 60), 0, 0))
        .await
        .unwrap();
}

/// Cancelling sets `deleted_at` and `updated_at` once; the second time is
/// `AlreadyCancelled` with the first instant, and nothing changes.
pub async fn cancel_is_a_soft_delete_that_succeeds_once(store: Arc<dyn BookingStore>) {
    let ada = organizer(&*store, "ada").await;
    let booking = store
        .insert_booking(new_booking(ada.id, range(at(10, 0), 60), 0, 0))
        .await
        .unwrap();
    let first = created() + Duration::hours(1);
    let cancelled = store
        .cancel_booking(Cancellation::new(booking.id, booking.organizer_id, first))
        .await
        .unwrap();
    assert_eq!(cancelled.deleted_at, Some(first));
    assert_eq!(cancelled.updated_at, first);
    assert_eq!(
        cancelled.sequence,
        booking.sequence + 1,
        "cancelling adds one to the sequence"
    );
    let second = store
        .cancel_booking(Cancellation::new(
            booking.id,
            booking.organizer_id,
            first + Duration::hours(1),
        ))
        .await;
    assert!(
        matches!(second, Err(StoreError::AlreadyCancelled { id, cancelled_at }) if id == booking.id && cancelled_at == first),
        "a second cancel must be AlreadyCancelled"
    );
    let stored = store
        .booking(booking.id)
        .await
        .unwrap()
        .expect("soft-deleted bookings remain readable");
    assert_eq!(stored, cancelled);
    assert!(all_active(&*store, ada.id).await.is_empty());
}

/// A cancellation names the booking's organizer, and stores address the
/// booking by both (so a distributed planner routes it to one shard): one
/// naming another organizer, existing or not, is `BookingNotFound` and
/// changes nothing.
pub async fn cancel_with_the_wrong_organizer_is_not_found(store: Arc<dyn BookingStore>) {
    let ada = organizer(&*store, "ada").await;
    let bob = organizer(&*store, "bob").await;
    let booking = store
        .insert_booking(new_booking(ada.id, range(at(10, 0), 60), 0, 0))
        .await
        .unwrap();
    for wrong in [bob.id, OrganizerId::generate()] {
        let refused = store
            .cancel_booking(Cancellation::new(booking.id, wrong, created()))
            .await;
        assert!(
            matches!(refused, Err(StoreError::BookingNotFound(id)) if id == booking.id),
            "cancelling ada's booking as another organizer: expected BookingNotFound, got {refused:?}"
        );
        let refused = store
            .cancel_booking(Cancellation {
                expected_sequence: Some(booking.sequence),
                ..Cancellation::new(booking.id, wrong, created())
            })
            .await;
        assert!(
            matches!(refused, Err(StoreError::BookingNotFound(id)) if id == booking.id),
            "with an expected sequence too: expected BookingNotFound, got {refused:?}"
        );
    }
    assert_eq!(
        store.booking(booking.id).await.unwrap().as_ref(),
        Some(&booking),
        "a refused cancellation changes nothing"
    );
    assert_eq!(all_active(&*store, ada.id).await, vec![booking.clone()]);
    let cancelled = store
        .cancel_booking(Cancellation::new(booking.id, ada.id, created()))
        .await
        .unwrap();
    assert_eq!(cancelled.sequence, booking.sequence + 1);
    let again = store
        .cancel_booking(Cancellation::new(booking.id, bob.id, created()))
        .await;
    assert!(
        matches!(again, Err(StoreError::BookingNotFound(id)) if id == booking.id),
        "a cancelled booking of another organizer is not found either, got {again:?}"
    );
}

/// A cancelled booking occupies nothing.
pub async fn cancelled_bookings_free_their_time(store: Arc<dyn BookingStore>) {
    let ada = organizer(&*store, "ada").await;
    let first = store
        .insert_booking(new_booking(ada.id, range(at(10, 0), 60), 5, 5))
        .await
        .unwrap();
    store
        .cancel_booking(Cancellation::new(first.id, first.organizer_id, created()))
        .await
        .unwrap();
    let window = range(at(0, 0), 24 * 60);
    assert!(
        store
            .occupied_intervals(ada.id, window, created())
            .await
            .unwrap()
            .is_empty()
    );
    store
        .insert_booking(new_booking(ada.id, range(at(10, 0), 60), 5, 5))
        .await
        .unwrap();
}

/// Unknown ids are reported, not invented.
pub async fn unknown_organizer_or_booking_is_reported(store: Arc<dyn BookingStore>) {
    let ghost = OrganizerId::generate();
    let refused = store
        .insert_booking(new_booking(ghost, range(at(10, 0), 60), 0, 0))
        .await;
    assert!(
        matches!(refused, Err(StoreError::OrganizerNotFound(id)) if id == ghost),
        "unknown organizer"
    );
    let missing = BookingId::generate();
    assert!(
        matches!(store.cancel_booking(Cancellation::new(missing, ghost, created())).await, Err(StoreError::BookingNotFound(id)) if id == missing)
    );
    assert_eq!(store.organizer_config(ghost).await.unwrap(), None);
}

/// Pages, totals, ordering and the start-time filter are the store's work.
pub async fn list_pages_and_counts_in_the_store(store: Arc<dyn BookingStore>) {
    let ada = organizer(&*store, "ada").await;
    let bob = organizer(&*store, "bob").await;
    // 25 bookings, inserted out of order, half an hour apart from 08:00.
    let mut ids = Vec::new();
    for i in (0..25).rev() {
        let booking = store
            .insert_booking(new_booking(
                ada.id,
                range(at(8, 0) + Duration::minutes(30 * i), 30),
                0,
                0,
            ))
            .await
            .unwrap();
        ids.push((booking.start_time(), booking.id));
    }
    ids.sort();
    store
        .insert_booking(new_booking(bob.id, range(at(8, 0), 30), 0, 0))
        .await
        .unwrap();
    let cancelled = store
        .insert_booking(new_booking(ada.id, range(at(23, 0), 30), 0, 0))
        .await
        .unwrap();
    store
        .cancel_booking(Cancellation::new(
            cancelled.id,
            cancelled.organizer_id,
            created(),
        ))
        .await
        .unwrap();

    let page = |starts_within, limit, offset| BookingQuery {
        starts_within,
        cancelled_since: None,
        limit,
        offset,
    };
    let first = store
        .list_bookings(ada.id, page(None, 10, 0))
        .await
        .unwrap();
    assert_eq!(first.total, 25);
    let first_ids: Vec<BookingId> = first.bookings.iter().map(|b| b.id).collect();
    let expected: Vec<BookingId> = ids.iter().take(10).map(|(_, id)| *id).collect();
    assert_eq!(first_ids, expected, "ordered by start time");
    let last = store
        .list_bookings(ada.id, page(None, 10, 20))
        .await
        .unwrap();
    assert_eq!((last.total, last.bookings.len()), (25, 5));
    let beyond = store
        .list_bookings(ada.id, page(None, 10, 100))
        .await
        .unwrap();
    assert_eq!((beyond.total, beyond.bookings.len()), (25, 0));

    // Starts in [10:00, 12:00): 10:00, 10:30, 11:00, 11:30. A booking starting at 12:00 is out.
    let window = TimeRange::new(at(10, 0), at(12, 0)).unwrap();
    let filtered = store
        .list_bookings(ada.id, page(Some(window), 3, 0))
        .await
        .unwrap();
    assert_eq!(filtered.total, 4);
    let starts: Vec<_> = filtered.bookings.iter().map(Booking::start_time).collect();
    assert_eq!(starts, [at(10, 0), at(10, 30), at(11, 0)]);
    let empty = store
        .list_bookings(OrganizerId::generate(), page(None, 10, 0))
        .await
        .unwrap();
    assert_eq!((empty.total, empty.bookings.len()), (0, 0));
    // Recently cancelled bookings, on request: the one cancelled at
    // `created()` is included from then on, not after.
    let with_cancelled = |since| BookingQuery {
        cancelled_since: Some(since),
        ..page(None, 100, 0)
    };
    let listed = store
        .list_bookings(ada.id, with_cancelled(created()))
        .await
        .unwrap();
    assert_eq!(listed.total, 26);
    assert!(
        listed
            .bookings
            .iter()
            .any(|b| b.id == cancelled.id && !b.is_active())
    );
    let later = created() + Duration::seconds(1);
    assert_eq!(
        store
            .list_bookings(ada.id, with_cancelled(later))
            .await
            .unwrap()
            .total,
        25
    );
}

/// Occupied intervals are widened by buffers, only those overlapping the
/// range come back, and they come ordered by start.
pub async fn occupied_intervals_cover_the_range(store: Arc<dyn BookingStore>) {
    let ada = organizer(&*store, "ada").await;
    store
        .insert_booking(new_booking(ada.id, range(at(10, 0), 60), 15, 30))
        .await
        .unwrap();
    store
        .insert_booking(new_booking(ada.id, range(at(14, 0), 60), 0, 0))
        .await
        .unwrap();
    let occupied = store
        .occupied_intervals(ada.id, range(at(11, 0), 60), created())
        .await
        .unwrap();
    assert_eq!(
        occupied,
        vec![TimeRange::new(at(9, 45), at(11, 30)).unwrap()],
        "the buffer after reaches 11:30"
    );
    let touching = store
        .occupied_intervals(
            ada.id,
            TimeRange::new(at(11, 30), at(14, 0)).unwrap(),
            created(),
        )
        .await
        .unwrap();
    assert!(touching.is_empty(), "touching intervals do not overlap");
    store
        .insert_booking(new_booking(ada.id, range(at(12, 0), 30), 0, 0))
        .await
        .unwrap();
    let all = store
        .occupied_intervals(ada.id, range(at(0, 0), 24 * 60), created())
        .await
        .unwrap();
    let expected = vec![
        TimeRange::new(at(9, 45), at(11, 30)).unwrap(),
        range(at(12, 0), 30),
        range(at(14, 0), 60),
    ];
    assert_eq!(
        all, expected,
        "ordered by start, whatever the insertion order"
    );
}

/// The hot-path read returns organizer, configuration version, event type,
/// its schedule, occupied intervals, and counted starts when it has limits.
pub async fn booking_context_gathers_everything(store: Arc<dyn BookingStore>) {
    let ada = organizer(&*store, "ada").await;
    let window = range(at(0, 0), 24 * 60);
    let query = |organizer: OrganizerRef, slug: &str| ContextQuery {
        organizer,
        event_type: slug.parse().unwrap(),
        occupied_within: window,
        counted_within: window,
        now: created(),
    };
    let bare = store
        .booking_context(&query("ADA".into(), "default"))
        .await
        .unwrap()
        .expect("ada exists");
    assert_eq!(bare.organizer, ada);
    assert_eq!(bare.config_version, 1);
    assert_eq!(bare.event_type, Some(event_type(ada.id)));
    assert_eq!(bare.schedule, Some(schedule(ada.id)));
    assert!(bare.occupied.is_empty() && bare.booked.is_empty());

    store
        .insert_booking(new_booking(ada.id, range(at(10, 0), 60), 5, 5))
        .await
        .unwrap();
    let full = store
        .booking_context(&query(ada.id.into(), "default"))
        .await
        .unwrap()
        .expect("ada exists");
    assert_eq!(
        full.occupied,
        vec![TimeRange::new(at(9, 55), at(11, 5)).unwrap()]
    );
    assert!(full.booked.is_empty(), "no limits, nothing counted");

    // An event type with limits on its own schedule.
    let evenings = Schedule {
        id: ScheduleId::generate(),
        name: "Evenings".into(),
        is_default: false,
        ..schedule(ada.id)
    };
    let limited = EventType {
        id: EventTypeId::generate(),
        slug: "limited".parse().unwrap(),
        limits: BookingLimits {
            per_day: Some(2),
            ..BookingLimits::default()
        },
        schedule_id: Some(evenings.id),
        ..event_type(ada.id)
    };
    store
        .update_config(
            ada.id,
            1,
            vec![
                ConfigChange::PutSchedule(evenings.clone()),
                ConfigChange::PutEventType(limited.clone()),
            ],
        )
        .await
        .unwrap();
    let mut counted = new_booking(ada.id, range(at(14, 0), 30), 0, 0);
    counted.event_type_id = limited.id;
    counted.event_type_slug = limited.slug.clone();
    store.insert_booking(counted).await.unwrap();
    let limited_context = store
        .booking_context(&query("ada".into(), "limited"))
        .await
        .unwrap()
        .expect("ada exists");
    assert_eq!(limited_context.config_version, 2);
    assert_eq!(limited_context.event_type, Some(limited));
    assert_eq!(limited_context.schedule, Some(evenings), "its own schedule");
    assert_eq!(
        limited_context.booked,
        vec![at(14, 0)],
        "only its own bookings count"
    );
    assert_eq!(
        limited_context.occupied.len(),
        2,
        "busy time is the organizer's"
    );

    let unknown = store
        .booking_context(&query("ada".into(), "nope"))
        .await
        .unwrap()
        .expect("ada exists");
    assert_eq!((unknown.event_type, unknown.schedule), (None, None));
    assert!(
        store
            .booking_context(&query("nobody".into(), "default"))
            .await
            .unwrap()
            .is_none()
    );
}

/// A second event type of the organizer, with its own buffers: bookings of
/// either block the other, each with its own buffers.
pub async fn event_types_share_the_organizers_busy_time(store: Arc<dyn BookingStore>) {
    let ada = organizer(&*store, "ada").await;
    let other = EventType {
        id: EventTypeId::generate(),
        slug: "other".parse().unwrap(),
        ..event_type(ada.id)
    };
    store
        .update_config(ada.id, 1, vec![ConfigChange::PutEventType(other.clone())])
        .await
        .unwrap();
    // Default event type: 10:00-11:00 with 15 minutes after, occupies to 11:15.
    store
        .insert_booking(new_booking(ada.id, range(at(10, 0), 60), 0, 15))
        .await
        .unwrap();
    let of_other = |start, minutes, before| NewBooking {
        event_type_id: other.id,
        event_type_slug: other.slug.clone(),
        ..new_booking(ada.id, range(start, minutes), before, 0)
    };
    assert!(
        matches!(
            store.insert_booking(of_other(at(11, 10), 30, 0)).await,
            Err(StoreError::Conflict)
        ),
        "the other event type's booking falls in the first one's buffer"
    );
    assert!(
        matches!(
            store.insert_booking(of_other(at(11, 30), 30, 20)).await,
            Err(StoreError::Conflict)
        ),
        "its own buffer before reaches back into the first booking's buffer"
    );
    store
        .insert_booking(of_other(at(11, 30), 30, 15))
        .await
        .expect("touching buffers are fine");
}

/// Deleting an event type keeps its bookings: they keep their slug and keep
/// blocking time, with no event type id.
pub async fn deleting_an_event_type_keeps_its_bookings(store: Arc<dyn BookingStore>) {
    let ada = organizer(&*store, "ada").await;
    let booking = store
        .insert_booking(new_booking(ada.id, range(at(10, 0), 60), 0, 0))
        .await
        .unwrap();
    store
        .update_config(
            ada.id,
            1,
            vec![ConfigChange::DeleteEventType(default_event_type_id(ada.id))],
        )
        .await
        .unwrap();
    let kept = store
        .booking(booking.id)
        .await
        .unwrap()
        .expect("the booking stays");
    assert_eq!(kept.event_type_id, None);
    assert_eq!(kept.event_type_slug, Slug::default_slug());
    assert!(kept.is_active());
    assert_eq!(
        store
            .occupied_intervals(ada.id, range(at(0, 0), 24 * 60), created())
            .await
            .unwrap(),
        vec![range(at(10, 0), 60)]
    );
}

/// A booking decided on a configuration version is inserted only while
/// the configuration is at that version (with or without limits, which
/// some stores insert on another path), and a refused one writes nothing.
pub async fn inserts_only_at_the_decided_config_version(store: Arc<dyn BookingStore>) {
    let ada = organizer(&*store, "ada").await;
    let day = TimeRange::new(at(0, 0), at(24, 0)).unwrap();
    let at_version = |start, version, limited: bool| {
        let new = new_booking(ada.id, range(start, 30), 0, 0);
        let event = event_record(
            &Booking::from_new(new.clone()),
            crate::event::BookingEventKind::Created,
        );
        NewBooking {
            config_version: Some(version),
            limits: if limited {
                vec![LimitCheck {
                    period: LimitPeriod::Day,
                    starts_within: day,
                    max: 10,
                }]
            } else {
                Vec::new()
            },
            event: Some(event),
            ..new
        }
    };
    for limited in [false, true] {
        let stale = store.insert_booking(at_version(at(9, 0), 0, limited)).await;
        assert!(
            matches!(stale, Err(StoreError::ConfigChanged)),
            "version 0 is gone (limits: {limited}), got {stale:?}"
        );
    }
    store
        .insert_booking(at_version(at(9, 0), 1, false))
        .await
        .expect("version 1 is current");
    store
        .update_config(ada.id, 1, vec![ConfigChange::PutSchedule(schedule(ada.id))])
        .await
        .unwrap();
    for limited in [false, true] {
        let stale = store
            .insert_booking(at_version(at(10, 0), 1, limited))
            .await;
        assert!(
            matches!(stale, Err(StoreError::ConfigChanged)),
            "a change made since refuses it (limits: {limited}), got {stale:?}"
        );
    }
    assert_eq!(
        store
            .occupied_intervals(ada.id, day, created())
            .await
            .unwrap(),
        vec![range(at(9, 0), 30)],
        "refusals wrote nothing"
    );
    assert_eq!(store.events_after(0, 100).await.unwrap().len(), 1);
    for (start, limited) in [(at(10, 0), false), (at(11, 0), true)] {
        store
            .insert_booking(at_version(start, 2, limited))
            .await
            .expect("version 2 is current");
    }
    let nobody = store
        .insert_booking(NewBooking {
            config_version: Some(1),
            ..new_booking(OrganizerId::generate(), range(at(9, 0), 30), 0, 0)
        })
        .await;
    assert!(
        matches!(nobody, Err(StoreError::OrganizerNotFound(_))),
        "an unknown organizer is reported as such, got {nobody:?}"
    );
}

/// `booked_starts` lists the active bookings of one event type starting in
/// the range, ascending: not cancelled ones, not other event types', not
/// those starting outside.
pub async fn booked_starts_count_one_event_type(store: Arc<dyn BookingStore>) {
    let ada = organizer(&*store, "ada").await;
    let other = EventType {
        id: EventTypeId::generate(),
        slug: "other".parse().unwrap(),
        ..event_type(ada.id)
    };
    store
        .update_config(ada.id, 1, vec![ConfigChange::PutEventType(other.clone())])
        .await
        .unwrap();
    for hour in [15, 9, 12] {
        store
            .insert_booking(new_booking(ada.id, range(at(hour, 0), 30), 0, 0))
            .await
            .unwrap();
    }
    let cancelled = store
        .insert_booking(new_booking(ada.id, range(at(11, 0), 30), 0, 0))
        .await
        .unwrap();
    store
        .cancel_booking(Cancellation::new(
            cancelled.id,
            cancelled.organizer_id,
            created(),
        ))
        .await
        .unwrap();
    store
        .insert_booking(NewBooking {
            event_type_id: other.id,
            event_type_slug: other.slug.clone(),
            ..new_booking(ada.id, range(at(13, 0), 30), 0, 0)
        })
        .await
        .unwrap();
    let starts = store
        .booked_starts(
            ada.id,
            default_event_type_id(ada.id),
            TimeRange::new(at(9, 0), at(15, 0)).unwrap(),
            created(),
        )
        .await
        .unwrap();
    assert_eq!(
        starts,
        vec![at(9, 0), at(12, 0)],
        "15:00 starts at the range's end"
    );
}

/// The limit checks of an insert: a full range refuses with `LimitReached`
/// naming the period; cancelled bookings and other event types do not count;
/// a booking outside the range is not limited by it.
pub async fn limits_are_checked_with_the_insert(store: Arc<dyn BookingStore>) {
    let ada = organizer(&*store, "ada").await;
    let day = TimeRange::new(at(0, 0), at(24, 0)).unwrap();
    let week = TimeRange::new(at(0, 0), at(0, 0) + Duration::days(7)).unwrap();
    let limited = |start, limits: Vec<LimitCheck>| NewBooking {
        limits,
        ..new_booking(ada.id, range(start, 30), 0, 0)
    };
    let per_day = |max| LimitCheck {
        period: LimitPeriod::Day,
        starts_within: day,
        max,
    };
    let per_week = |max| LimitCheck {
        period: LimitPeriod::Week,
        starts_within: week,
        max,
    };
    store
        .insert_booking(limited(at(9, 0), vec![per_day(2)]))
        .await
        .unwrap();
    let second = store
        .insert_booking(limited(at(10, 0), vec![per_day(2)]))
        .await
        .unwrap();
    let third = store
        .insert_booking(limited(at(11, 0), vec![per_day(2)]))
        .await;
    assert!(
        matches!(third, Err(StoreError::LimitReached(LimitPeriod::Day))),
        "the day is full, got {third:?}"
    );
    store
        .cancel_booking(Cancellation::new(second.id, second.organizer_id, created()))
        .await
        .unwrap();
    store
        .insert_booking(limited(at(11, 0), vec![per_day(2)]))
        .await
        .expect("a cancelled booking frees its place");
    let week_full = store
        .insert_booking(limited(at(12, 0), vec![per_day(5), per_week(2)]))
        .await;
    assert!(
        matches!(week_full, Err(StoreError::LimitReached(LimitPeriod::Week))),
        "the week is full, got {week_full:?}"
    );
    let next_week = TimeRange::new(week.end(), week.end() + Duration::days(7)).unwrap();
    store
        .insert_booking(limited(
            at(9, 0) + Duration::days(8),
            vec![LimitCheck {
                period: LimitPeriod::Week,
                starts_within: next_week,
                max: 2,
            }],
        ))
        .await
        .expect("the next week has room");
    let other = EventType {
        id: EventTypeId::generate(),
        slug: "other".parse().unwrap(),
        ..event_type(ada.id)
    };
    store
        .update_config(ada.id, 1, vec![ConfigChange::PutEventType(other.clone())])
        .await
        .unwrap();
    store
        .insert_booking(NewBooking {
            event_type_id: other.id,
            event_type_slug: other.slug.clone(),
            ..limited(at(13, 0), vec![per_day(1)])
        })
        .await
        .expect("other event types' bookings do not count");
}

/// The last place of a day: 64 tasks race for 64 different free slots of a
/// day whose limit leaves one place. Exactly one wins; every loser is
/// `LimitReached`; the day ends with exactly the limit.
pub async fn the_last_place_of_a_day_has_one_winner(store: Arc<dyn BookingStore>) {
    let ada = organizer(&*store, "ada").await;
    let day = TimeRange::new(at(0, 0), at(24, 0)).unwrap();
    let check = vec![LimitCheck {
        period: LimitPeriod::Day,
        starts_within: day,
        max: 3,
    }];
    for hour in [1, 2] {
        store
            .insert_booking(NewBooking {
                limits: check.clone(),
                ..new_booking(ada.id, range(at(hour, 0), 10), 0, 0)
            })
            .await
            .unwrap();
    }
    let attempts = (0..64)
        .map(|i| {
            let booking = NewBooking {
                limits: check.clone(),
                ..new_booking(
                    ada.id,
                    range(at(4, 0) + Duration::minutes(15 * i), 10),
                    0,
                    0,
                )
            };
            (i, store.clone(), booking)
        })
        .collect();
    let outcomes = race_inserts(attempts).await;
    let winners = outcomes.iter().filter(|(_, won)| *won).count();
    assert_eq!(
        winners, 1,
        "exactly one booking takes the last place of the day"
    );
    let active = all_active(&*store, ada.id).await;
    assert_eq!(active.len(), 3);
    assert_no_overlaps(&active);
}

/// A refused insert leaves no trace, and the store keeps working.
pub async fn refused_insert_writes_nothing(store: Arc<dyn BookingStore>) {
    let ada = organizer(&*store, "ada").await;
    let kept = store
        .insert_booking(new_booking(ada.id, range(at(10, 0), 60), 0, 0))
        .await
        .unwrap();
    let refused = new_booking(ada.id, range(at(10, 30), 60), 0, 0);
    let refused_id = refused.id;
    assert!(matches!(
        store.insert_booking(refused).await,
        Err(StoreError::Conflict)
    ));
    assert_eq!(store.booking(refused_id).await.unwrap(), None);
    let active = all_active(&*store, ada.id).await;
    assert_eq!(
        active.iter().map(|b| b.id).collect::<Vec<_>>(),
        vec![kept.id]
    );
    store
        .insert_booking(new_booking(ada.id, range(at(11, 0), 60), 0, 0))
        .await
        .unwrap();
}

/// Instants finer than a store keeps (nanoseconds) must never let two
/// overlapping bookings in: a store that truncates rounds outward.
pub async fn finer_than_storage_precision_still_conflicts(store: Arc<dyn BookingStore>) {
    let ada = organizer(&*store, "ada").await;
    let ns = Duration::nanoseconds;
    let first = TimeRange::new(at(10, 0), at(11, 0) + ns(500)).unwrap();
    store
        .insert_booking(new_booking(ada.id, first, 0, 0))
        .await
        .unwrap();
    let second = TimeRange::new(at(11, 0) + ns(100), at(12, 0)).unwrap();
    let refused = store
        .insert_booking(new_booking(ada.id, second, 0, 0))
        .await;
    assert!(
        matches!(refused, Err(StoreError::Conflict)),
        "a 400 ns overlap must still conflict"
    );
}

/// 64 tasks insert at once, in clusters of pairwise-overlapping occupied
/// intervals (same slot; different starts; overlap only through buffers),
/// over several rounds: exactly one winner per cluster, every loser a
/// `Conflict`, and no two active bookings overlap afterwards.
pub async fn concurrent_inserts_have_one_winner_per_interval(store: Arc<dyn BookingStore>) {
    const ROUNDS: i64 = 3;
    let ada = organizer(&*store, "ada").await;
    for round in 0..ROUNDS {
        let day = Duration::days(round);
        let mut attempts: Vec<(usize, NewBooking)> = Vec::new();
        for _ in 0..24 {
            attempts.push((0, new_booking(ada.id, range(at(10, 0) + day, 60), 0, 0)));
        }
        for k in 0..20 {
            attempts.push((
                1,
                new_booking(
                    ada.id,
                    range(at(13, 0) + day + Duration::minutes(5 * k), 120),
                    0,
                    0,
                ),
            ));
        }
        for k in 0..20 {
            let meeting = range(at(20, 0) + day + Duration::minutes(4 * k), 30);
            attempts.push((2, new_booking(ada.id, meeting, 60, 0)));
        }
        let outcomes = race_inserts(
            attempts
                .into_iter()
                .map(|(cluster, booking)| (cluster, store.clone(), booking))
                .collect(),
        )
        .await;
        let winners = winners_per_group(&outcomes);
        for cluster in 0..3 {
            assert_eq!(
                winners.get(&cluster),
                Some(&1),
                "round {round}, cluster {cluster}: exactly one winner"
            );
        }
    }
    let active = all_active(&*store, ada.id).await;
    assert_eq!(active.len(), 3 * ROUNDS as usize);
    assert_no_overlaps(&active);
}

/// 64 concurrent bookings through [`BookingService`] (with an in-process
/// lock, keyed by slot start only, as in the seed): requests for the same slot
/// and for overlapping slots with different starts, so the lock cannot
/// separate them and the store must. One winner per group of overlapping
/// slots.
pub async fn concurrent_service_bookings_never_overlap(store: Arc<dyn BookingStore>) {
    let now = Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap();
    let service = BookingService::new(store.clone())
        .with_lock(MemoryLock::new())
        .with_clock(Arc::new(ManualClock::new(now)));
    let ada = organizer_in(&*store, "racer", chrono_tz::America::New_York).await;
    // Monday 7 December, 09:00 New York = 14:00 UTC. 45-minute slots every 15
    // minutes: starts 09:00, 09:15 and 09:30 all overlap each other; 11:00,
    // 11:15 overlap each other but not the first group.
    let groups = [
        vec![at(14, 0), at(14, 15), at(14, 30)],
        vec![at(16, 0), at(16, 15)],
    ];
    let barrier = Arc::new(tokio::sync::Barrier::new(64));
    let tasks: Vec<_> = (0..64)
        .map(|i| {
            let group = i % 2;
            let starts = &groups[group];
            let start = starts[(i / 2) % starts.len()];
            let service = service.clone();
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                let slot = TimeRange::starting_at(start, Duration::minutes(45)).unwrap();
                let attendee = Attendee::new(format!("Attendee {i}"), format!("a{i}@example.com"));
                let result = service
                    .create_booking(BookingRequest::new("racer", slot, attendee))
                    .await;
                (group, result)
            })
        })
        .collect();
    let mut winners = [0, 0];
    for task in tasks {
        let (group, result) = task.await.expect("booking task panicked");
        match result {
            Ok(_) => winners[group] += 1,
            Err(ServiceError::SlotUnavailable(_) | ServiceError::SlotBeingBooked) => {}
            Err(other) => panic!("a racing booking must win or be refused, got: {other}"),
        }
    }
    assert_eq!(
        winners,
        [1, 1],
        "exactly one winner per group of overlapping slots"
    );
    assert_no_overlaps(&all_active(&*store, ada.id).await);
}

// ---------------------------------------------------------------- lifecycle

/// A reschedule moves a booking in place: same id, new time and buffers,
/// one more sequence, the old time kept; its own old time never blocks it;
/// another booking does, and then nothing changes.
pub async fn reschedule_moves_a_booking_in_place(store: Arc<dyn BookingStore>) {
    let ada = organizer(&*store, "ada").await;
    let booking = store
        .insert_booking(new_booking(ada.id, range(at(10, 0), 60), 0, 15))
        .await
        .unwrap();
    let other = store
        .insert_booking(new_booking(ada.id, range(at(13, 0), 60), 0, 0))
        .await
        .unwrap();
    // 30 minutes later, inside its own old time and buffer.
    let mut later = move_to(&booking, range(at(10, 30), 60));
    later.buffer_after = Duration::minutes(5);
    let moved = store.reschedule_booking(later.clone()).await.unwrap();
    assert_eq!(moved.id, booking.id);
    assert_eq!(moved.time, range(at(10, 30), 60));
    assert_eq!(moved.buffer_after, Duration::minutes(5));
    assert_eq!(moved.sequence, 1);
    assert_eq!(moved.rescheduled_from, Some(range(at(10, 0), 60)));
    assert_eq!(moved.updated_at, later.at);
    assert_eq!(moved.cancel_token_hash, booking.cancel_token_hash);
    assert_eq!(
        store.booking(booking.id).await.unwrap(),
        Some(moved.clone())
    );
    assert_eq!(
        store
            .occupied_intervals(ada.id, range(at(0, 0), 24 * 60), created())
            .await
            .unwrap(),
        vec![
            TimeRange::new(at(10, 30), at(11, 35)).unwrap(),
            range(at(13, 0), 60)
        ]
    );
    // Into the other booking: refused, nothing changes.
    let refused = store
        .reschedule_booking(move_to(&moved, range(at(12, 30), 60)))
        .await;
    assert!(
        matches!(refused, Err(StoreError::Conflict)),
        "got {refused:?}"
    );
    assert_eq!(
        store.booking(booking.id).await.unwrap(),
        Some(moved.clone())
    );
    // A move decided on an older sequence is refused.
    let stale = store
        .reschedule_booking(move_to(&booking, range(at(15, 0), 60)))
        .await;
    assert!(matches!(stale, Err(StoreError::BookingChanged(id)) if id == booking.id));
    // Cancelled and unknown bookings do not move.
    store
        .cancel_booking(Cancellation::new(other.id, other.organizer_id, created()))
        .await
        .unwrap();
    let cancelled = store.booking(other.id).await.unwrap().unwrap();
    assert!(matches!(
        store
            .reschedule_booking(move_to(&cancelled, range(at(16, 0), 60)))
            .await,
        Err(StoreError::AlreadyCancelled { .. })
    ));
    let mut ghost = move_to(&moved, range(at(16, 0), 60));
    ghost.id = BookingId::generate();
    assert!(matches!(
        store.reschedule_booking(ghost).await,
        Err(StoreError::BookingNotFound(_))
    ));
}

/// A move checks limits without counting the booking itself.
pub async fn reschedule_checks_limits_without_counting_itself(store: Arc<dyn BookingStore>) {
    let ada = organizer(&*store, "ada").await;
    let day = |d: i64| {
        TimeRange::new(at(0, 0) + Duration::days(d), at(24, 0) + Duration::days(d)).unwrap()
    };
    let one_a_day = |d| {
        vec![LimitCheck {
            period: LimitPeriod::Day,
            starts_within: day(d),
            max: 1,
        }]
    };
    let booking = store
        .insert_booking(NewBooking {
            limits: one_a_day(0),
            ..new_booking(ada.id, range(at(10, 0), 30), 0, 0)
        })
        .await
        .unwrap();
    store
        .insert_booking(NewBooking {
            limits: one_a_day(1),
            ..new_booking(ada.id, range(at(10, 0) + Duration::days(1), 30), 0, 0)
        })
        .await
        .unwrap();
    let same_day = Reschedule {
        limits: one_a_day(0),
        ..move_to(&booking, range(at(15, 0), 30))
    };
    let moved = store
        .reschedule_booking(same_day)
        .await
        .expect("the booking does not count against its own day");
    let full_day = Reschedule {
        limits: one_a_day(1),
        ..move_to(&moved, range(at(15, 0) + Duration::days(1), 30))
    };
    assert!(matches!(
        store.reschedule_booking(full_day).await,
        Err(StoreError::LimitReached(LimitPeriod::Day))
    ));
}

/// Two bookings moved at once into the same free slot, and a move racing a
/// new booking for a slot: exactly one winner each time, over several
/// rounds, and no overlap afterwards.
pub async fn racing_reschedules_have_one_winner(store: Arc<dyn BookingStore>) {
    let ada = organizer(&*store, "ada").await;
    for round in 0..8i64 {
        let day = Duration::days(round);
        let a = store
            .insert_booking(new_booking(ada.id, range(at(8, 0) + day, 30), 0, 0))
            .await
            .unwrap();
        let b = store
            .insert_booking(new_booking(ada.id, range(at(9, 0) + day, 30), 0, 0))
            .await
            .unwrap();
        let target = range(at(12, 0) + day, 30);
        let barrier = Arc::new(tokio::sync::Barrier::new(3));
        let move_a = {
            let (store, barrier, change) = (store.clone(), barrier.clone(), move_to(&a, target));
            tokio::spawn(async move {
                barrier.wait().await;
                store.reschedule_booking(change).await.map(|_| ())
            })
        };
        let move_b = {
            let (store, barrier, change) = (store.clone(), barrier.clone(), move_to(&b, target));
            tokio::spawn(async move {
                barrier.wait().await;
                store.reschedule_booking(change).await.map(|_| ())
            })
        };
        let insert = {
            let (store, barrier) = (store.clone(), barrier.clone());
            let booking = new_booking(ada.id, range(at(12, 15) + day, 30), 0, 0);
            tokio::spawn(async move {
                barrier.wait().await;
                store.insert_booking(booking).await.map(|_| ())
            })
        };
        let mut winners = 0;
        for task in [move_a, move_b, insert] {
            match task.await.expect("task panicked") {
                Ok(()) => winners += 1,
                Err(StoreError::Conflict) => {}
                Err(other) => panic!("a racing move or insert must win or conflict, got {other}"),
            }
        }
        assert_eq!(winners, 1, "round {round}: exactly one takes the slot");
    }
    assert_no_overlaps(&all_active(&*store, ada.id).await);
}

/// An unexpired hold blocks bookings and holds of its slot (buffers
/// included) and shows as occupied; from its expiry on it counts for
/// nothing, with no clean-up first.
pub async fn holds_block_until_they_expire(store: Arc<dyn BookingStore>) {
    let ada = organizer(&*store, "ada").await;
    let expires = created() + Duration::minutes(5);
    let hold = new_hold(ada.id, range(at(10, 0), 30), 0, 15, expires, None);
    let stored = store
        .insert_hold(NewHold {
            hold: hold.clone(),
            limits: Vec::new(),
            max_per_client: 3,
        })
        .await
        .unwrap();
    assert_eq!(stored, hold);
    assert_eq!(
        store.hold_by_token_hash(&hold.token_hash).await.unwrap(),
        Some(hold.clone())
    );
    let in_buffer = new_booking(ada.id, range(at(10, 40), 30), 0, 0);
    assert!(
        matches!(
            store.insert_booking(in_buffer.clone()).await,
            Err(StoreError::Conflict)
        ),
        "a booking in the hold's buffer is refused while it lasts"
    );
    let second = new_hold(ada.id, range(at(10, 0), 30), 0, 0, expires, None);
    assert!(matches!(
        store
            .insert_hold(NewHold {
                hold: second,
                limits: Vec::new(),
                max_per_client: 3
            })
            .await,
        Err(StoreError::Conflict)
    ));
    let day = range(at(0, 0), 24 * 60);
    assert_eq!(
        store
            .occupied_intervals(ada.id, day, created())
            .await
            .unwrap(),
        vec![TimeRange::new(at(10, 0), at(10, 45)).unwrap()]
    );
    // At its expiry the hold is gone for every purpose.
    assert!(
        store
            .occupied_intervals(ada.id, day, expires)
            .await
            .unwrap()
            .is_empty()
    );
    let after = NewBooking {
        created_at: expires,
        ..in_buffer
    };
    store
        .insert_booking(after)
        .await
        .expect("an expired hold blocks nothing");
    assert_eq!(store.purge_expired(expires).await.unwrap(), 1);
    assert_eq!(
        store.hold_by_token_hash(&hold.token_hash).await.unwrap(),
        None
    );
}

/// Booking with `replaces_hold` turns the hold into the booking in one step;
/// an expired hold cannot be turned into anything.
pub async fn a_hold_becomes_its_booking(store: Arc<dyn BookingStore>) {
    let ada = organizer(&*store, "ada").await;
    let expires = created() + Duration::minutes(5);
    let hold = new_hold(ada.id, range(at(10, 0), 30), 5, 5, expires, Some("client"));
    store
        .insert_hold(NewHold {
            hold: hold.clone(),
            limits: Vec::new(),
            max_per_client: 3,
        })
        .await
        .unwrap();
    let booking = NewBooking {
        replaces_hold: Some(hold.id),
        ..new_booking(ada.id, range(at(10, 0), 30), 5, 5)
    };
    let stored = store.insert_booking(booking).await.unwrap();
    assert!(stored.is_active());
    assert!(
        matches!(
            store
                .release_hold(hold.id, &hold.token_hash, created())
                .await,
            Err(StoreError::HoldNotFound(_))
        ),
        "the hold is gone"
    );
    assert_eq!(
        store
            .occupied_intervals(ada.id, range(at(0, 0), 24 * 60), created())
            .await
            .unwrap(),
        vec![TimeRange::new(at(9, 55), at(10, 35)).unwrap()],
        "the slot is occupied once, by the booking"
    );
    let late = new_hold(ada.id, range(at(14, 0), 30), 0, 0, expires, None);
    store
        .insert_hold(NewHold {
            hold: late.clone(),
            limits: Vec::new(),
            max_per_client: 3,
        })
        .await
        .unwrap();
    let too_late = NewBooking {
        replaces_hold: Some(late.id),
        created_at: expires,
        ..new_booking(ada.id, range(at(14, 0), 30), 0, 0)
    };
    assert!(matches!(
        store.insert_booking(too_late).await,
        Err(StoreError::HoldNotFound(id)) if id == late.id
    ));
}

/// Holds count against their event type's limits, and one client keeps at
/// most `max_per_client` unexpired holds on an organizer.
pub async fn holds_count_against_limits_and_the_client_cap(store: Arc<dyn BookingStore>) {
    let ada = organizer(&*store, "ada").await;
    let expires = created() + Duration::minutes(5);
    let day = TimeRange::new(at(0, 0), at(24, 0)).unwrap();
    let one_a_day = vec![LimitCheck {
        period: LimitPeriod::Day,
        starts_within: day,
        max: 1,
    }];
    store
        .insert_hold(NewHold {
            hold: new_hold(ada.id, range(at(9, 0), 30), 0, 0, expires, Some("a")),
            limits: one_a_day.clone(),
            max_per_client: 2,
        })
        .await
        .unwrap();
    assert_eq!(
        store
            .booked_starts(ada.id, default_event_type_id(ada.id), day, created())
            .await
            .unwrap(),
        vec![at(9, 0)],
        "an unexpired hold is counted"
    );
    assert!(matches!(
        store
            .insert_booking(NewBooking {
                limits: one_a_day.clone(),
                ..new_booking(ada.id, range(at(11, 0), 30), 0, 0)
            })
            .await,
        Err(StoreError::LimitReached(LimitPeriod::Day))
    ));
    store
        .insert_hold(NewHold {
            hold: new_hold(ada.id, range(at(12, 0), 30), 0, 0, expires, Some("a")),
            limits: Vec::new(),
            max_per_client: 2,
        })
        .await
        .unwrap();
    assert!(matches!(
        store
            .insert_hold(NewHold {
                hold: new_hold(ada.id, range(at(13, 0), 30), 0, 0, expires, Some("a")),
                limits: Vec::new(),
                max_per_client: 2,
            })
            .await,
        Err(StoreError::TooManyHolds(2))
    ));
    store
        .insert_hold(NewHold {
            hold: new_hold(ada.id, range(at(13, 0), 30), 0, 0, expires, Some("b")),
            limits: Vec::new(),
            max_per_client: 2,
        })
        .await
        .expect("another client has its own cap");
}

/// A hold is released with its token only, once.
pub async fn releasing_a_hold_needs_its_token(store: Arc<dyn BookingStore>) {
    let ada = organizer(&*store, "ada").await;
    let hold = new_hold(
        ada.id,
        range(at(10, 0), 30),
        0,
        0,
        created() + Duration::minutes(5),
        None,
    );
    store
        .insert_hold(NewHold {
            hold: hold.clone(),
            limits: Vec::new(),
            max_per_client: 3,
        })
        .await
        .unwrap();
    assert!(matches!(
        store
            .release_hold(hold.id, &TokenHash::of("wrong"), created())
            .await,
        Err(StoreError::HoldNotFound(_))
    ));
    store
        .release_hold(hold.id, &hold.token_hash, created())
        .await
        .unwrap();
    assert!(matches!(
        store
            .release_hold(hold.id, &hold.token_hash, created())
            .await,
        Err(StoreError::HoldNotFound(_))
    ));
    store
        .insert_booking(new_booking(ada.id, range(at(10, 0), 30), 0, 0))
        .await
        .expect("a released hold blocks nothing");
}

/// Holds and bookings racing for one slot, four of each per round in an
/// order that changes every round, over many rounds: exactly one wins each
/// time, whichever kind it is.
pub async fn a_hold_and_a_booking_racing_have_one_winner(store: Arc<dyn BookingStore>) {
    let ada = organizer(&*store, "ada").await;
    for round in 0..16i64 {
        let slot = range(at(8, 0) + Duration::minutes(40 * round), 30);
        let barrier = Arc::new(tokio::sync::Barrier::new(8));
        let mut tasks = Vec::new();
        for i in 0..8i64 {
            let (store, barrier) = (store.clone(), barrier.clone());
            // Odd rounds start with bookings, even rounds with holds.
            let is_hold = (i + round) % 2 == 0;
            let hold = new_hold(ada.id, slot, 0, 0, created() + Duration::minutes(5), None);
            let booking = new_booking(ada.id, slot, 0, 0);
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                if is_hold {
                    store
                        .insert_hold(NewHold {
                            hold,
                            limits: Vec::new(),
                            max_per_client: 3,
                        })
                        .await
                        .map(|_| ())
                } else {
                    store.insert_booking(booking).await.map(|_| ())
                }
            }));
        }
        let mut outcomes = Vec::new();
        for task in tasks {
            outcomes.push(task.await.unwrap());
        }
        let winners = outcomes.iter().filter(|o| o.is_ok()).count();
        assert_eq!(winners, 1, "round {round}: {outcomes:?}");
        assert!(
            outcomes
                .iter()
                .all(|o| matches!(o, Ok(()) | Err(StoreError::Conflict))),
            "round {round}: {outcomes:?}"
        );
    }
}

/// Idempotency keys: claimed once; pending (in progress, or a mismatch);
/// completed (replayed, or a mismatch); stale claims taken over; abandoned
/// and expired keys claimed again; purged when expired.
pub async fn idempotency_keys_are_claimed_once(store: Arc<dyn BookingStore>) {
    let ada = organizer(&*store, "ada").await;
    let key: IdempotencyKey = "key-1".parse().unwrap();
    let scope = IdempotencyScope {
        organizer_id: ada.id,
        operation: "create".into(),
        key_hash: key.hash(),
    };
    let t = created();
    assert_eq!(
        store
            .claim_idempotency_key(&claim(&scope, "a", t))
            .await
            .unwrap(),
        ClaimOutcome::Claimed
    );
    assert_eq!(
        store
            .claim_idempotency_key(&claim(&scope, "a", t))
            .await
            .unwrap(),
        ClaimOutcome::InProgress
    );
    assert_eq!(
        store
            .claim_idempotency_key(&claim(&scope, "b", t))
            .await
            .unwrap(),
        ClaimOutcome::Mismatch
    );
    // Other operations and organizers are other keys.
    let other = IdempotencyScope {
        operation: "cancel:x".into(),
        ..scope.clone()
    };
    assert_eq!(
        store
            .claim_idempotency_key(&claim(&other, "a", t))
            .await
            .unwrap(),
        ClaimOutcome::Claimed
    );
    store.abandon_idempotency_key(&other).await.unwrap();
    assert_eq!(
        store
            .claim_idempotency_key(&claim(&other, "a", t))
            .await
            .unwrap(),
        ClaimOutcome::Claimed
    );
    // A claim left pending for too long is taken over.
    let later = t + Duration::seconds(61);
    assert_eq!(
        store
            .claim_idempotency_key(&claim(&scope, "a", later))
            .await
            .unwrap(),
        ClaimOutcome::Claimed
    );
    store
        .complete_idempotency_key(&IdempotencyCompletion {
            scope: scope.clone(),
            outcome: "{\"done\": true}".into(),
        })
        .await
        .unwrap();
    assert_eq!(
        store
            .claim_idempotency_key(&claim(&scope, "a", later))
            .await
            .unwrap(),
        ClaimOutcome::Done("{\"done\": true}".into())
    );
    assert_eq!(
        store
            .claim_idempotency_key(&claim(&scope, "b", later))
            .await
            .unwrap(),
        ClaimOutcome::Mismatch
    );
    // Abandoning a finished key changes nothing.
    store.abandon_idempotency_key(&scope).await.unwrap();
    assert!(matches!(
        store
            .claim_idempotency_key(&claim(&scope, "a", later))
            .await
            .unwrap(),
        ClaimOutcome::Done(_)
    ));
    // After 24 hours the key is free again, and purged.
    let next_day = t + Duration::hours(25);
    assert_eq!(store.purge_expired(next_day).await.unwrap(), 2);
    assert_eq!(
        store
            .claim_idempotency_key(&claim(&scope, "b", next_day))
            .await
            .unwrap(),
        ClaimOutcome::Claimed
    );
}

/// A booking inserted with an idempotency completion finishes the claim in
/// the same step; a refused one does not.
pub async fn a_booking_completes_its_key_atomically(store: Arc<dyn BookingStore>) {
    let ada = organizer(&*store, "ada").await;
    let scope = IdempotencyScope {
        organizer_id: ada.id,
        operation: "create".into(),
        key_hash: TokenHash::of("key-2"),
    };
    let t = created();
    assert_eq!(
        store
            .claim_idempotency_key(&claim(&scope, "a", t))
            .await
            .unwrap(),
        ClaimOutcome::Claimed
    );
    store
        .insert_booking(new_booking(ada.id, range(at(10, 0), 30), 0, 0))
        .await
        .unwrap();
    let refused = NewBooking {
        idempotency: Some(IdempotencyCompletion {
            scope: scope.clone(),
            outcome: "refused".into(),
        }),
        ..new_booking(ada.id, range(at(10, 0), 30), 0, 0)
    };
    assert!(matches!(
        store.insert_booking(refused).await,
        Err(StoreError::Conflict)
    ));
    assert_eq!(
        store
            .claim_idempotency_key(&claim(&scope, "a", t))
            .await
            .unwrap(),
        ClaimOutcome::InProgress,
        "a refused insert leaves the claim pending"
    );
    let booked = NewBooking {
        idempotency: Some(IdempotencyCompletion {
            scope: scope.clone(),
            outcome: "booked".into(),
        }),
        ..new_booking(ada.id, range(at(11, 0), 30), 0, 0)
    };
    store.insert_booking(booked).await.unwrap();
    assert_eq!(
        store
            .claim_idempotency_key(&claim(&scope, "a", t))
            .await
            .unwrap(),
        ClaimOutcome::Done("booked".into())
    );
}

/// 32 callers claim one key at once: exactly one gets it.
pub async fn racing_claims_have_one_winner(store: Arc<dyn BookingStore>) {
    let ada = organizer(&*store, "ada").await;
    let scope = IdempotencyScope {
        organizer_id: ada.id,
        operation: "create".into(),
        key_hash: TokenHash::of("key-3"),
    };
    let barrier = Arc::new(tokio::sync::Barrier::new(32));
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let (store, barrier, claim) = (
                store.clone(),
                barrier.clone(),
                claim(&scope, "a", created()),
            );
            tokio::spawn(async move {
                barrier.wait().await;
                store.claim_idempotency_key(&claim).await
            })
        })
        .collect();
    let mut claimed = 0;
    for task in tasks {
        match task.await.unwrap().unwrap() {
            ClaimOutcome::Claimed => claimed += 1,
            ClaimOutcome::InProgress => {}
            other => panic!("a racing claim must win or see it in progress, got {other:?}"),
        }
    }
    assert_eq!(claimed, 1);
}

/// 32 identical booking requests with one idempotency key, at once, through
/// the service: exactly one booking, and 32 identical answers whose cancel
/// token works.
pub async fn idempotent_bookings_race_to_one(store: Arc<dyn BookingStore>) {
    let now = Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap();
    let service = BookingService::new(store.clone()).with_clock(Arc::new(ManualClock::new(now)));
    let ada = organizer_in(&*store, "racer", chrono_tz::America::New_York).await;
    let key: IdempotencyKey = "same-key-for-all".parse().unwrap();
    let slot = TimeRange::starting_at(at(14, 0), Duration::minutes(45)).unwrap();
    let barrier = Arc::new(tokio::sync::Barrier::new(32));
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let (service, barrier) = (service.clone(), barrier.clone());
            let request =
                BookingRequest::new("racer", slot, Attendee::new("Grace", "grace@example.com"))
                    .idempotency_key(key.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                service.create_booking(request).await
            })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        let created = task
            .await
            .unwrap()
            .expect("every identical request gets the booking");
        answers.push((
            created.booking,
            created.cancel_token.expose().to_owned(),
            created.replayed,
        ));
    }
    assert_eq!(
        answers.iter().filter(|(_, _, replayed)| !replayed).count(),
        1
    );
    let (first, token, _) = answers[0].clone();
    for (booking, other_token, _) in &answers {
        assert_eq!(booking, &first);
        assert_eq!(other_token, &token);
    }
    assert_eq!(
        all_active(&*store, ada.id).await.len(),
        1,
        "exactly one booking"
    );
    service
        .cancel_booking(first.id, &crate::service::Credential::cancel_token(token))
        .await
        .expect("the replayed cancel token works");
}

// ------------------------------------------------------------------ outbox

/// An event is written exactly with its change: with an insert, a move and
/// a cancellation that succeed, never with one that is refused; numbered in
/// order and read back verbatim.
pub async fn events_are_written_with_their_change(store: Arc<dyn BookingStore>) {
    use crate::event::BookingEventKind::{Cancelled, Created, Rescheduled};
    let ada = organizer(&*store, "ada").await;
    let mut first = new_booking(ada.id, range(at(10, 0), 60), 0, 0);
    let created_event = event_record(&Booking::from_new(first.clone()), Created);
    first.event = Some(created_event.clone());
    let booking = store.insert_booking(first).await.unwrap();
    let mut refused = new_booking(ada.id, range(at(10, 30), 60), 0, 0);
    refused.event = Some(event_record(&Booking::from_new(refused.clone()), Created));
    assert!(matches!(
        store.insert_booking(refused).await,
        Err(StoreError::Conflict)
    ));
    let moved_event = event_record(&booking, Rescheduled);
    let moved = store
        .reschedule_booking(Reschedule {
            event: Some(moved_event.clone()),
            ..move_to(&booking, range(at(11, 0), 60))
        })
        .await
        .unwrap();
    let refused_move = Reschedule {
        event: Some(event_record(&moved, Rescheduled)),
        ..move_to(&booking, range(at(12, 0), 60))
    };
    assert!(matches!(
        store.reschedule_booking(refused_move).await,
        Err(StoreError::BookingChanged(_))
    ));
    let stale_cancel = Cancellation {
        expected_sequence: Some(0),
        event: Some(event_record(&moved, Cancelled)),
        ..Cancellation::new(booking.id, booking.organizer_id, created())
    };
    assert!(matches!(
        store.cancel_booking(stale_cancel).await,
        Err(StoreError::BookingChanged(_))
    ));
    let cancel_event = event_record(&moved, Cancelled);
    let cancelled = store
        .cancel_booking(Cancellation {
            expected_sequence: Some(1),
            event: Some(cancel_event.clone()),
            ..Cancellation::new(booking.id, booking.organizer_id, created())
        })
        .await
        .unwrap();
    assert_eq!(cancelled.sequence, 2);
    let events = store.events_after(0, 100).await.unwrap();
    let records: Vec<_> = events.iter().map(|e| e.record.clone()).collect();
    assert_eq!(
        records,
        vec![created_event, moved_event, cancel_event],
        "exactly the committed changes' events, verbatim, in order"
    );
    assert!(events.windows(2).all(|w| w[0].seq < w[1].seq));
    assert_eq!(
        store.events_after(events[1].seq, 100).await.unwrap(),
        events[2..].to_vec()
    );
}

/// Dispatching writes each (queue, event, target) job once and marks the
/// events, however often it runs; only undispatched events come back.
pub async fn events_are_dispatched_into_jobs_once(store: Arc<dyn BookingStore>) {
    let ada = organizer(&*store, "ada").await;
    for hour in [9, 10] {
        let mut booking = new_booking(ada.id, range(at(hour, 0), 30), 0, 0);
        booking.event = Some(event_record(
            &Booking::from_new(booking.clone()),
            crate::event::BookingEventKind::Created,
        ));
        store.insert_booking(booking).await.unwrap();
    }
    let pending = store.undispatched_events(10).await.unwrap();
    assert_eq!(pending.len(), 2);
    let jobs: Vec<_> = pending
        .iter()
        .flat_map(|e| {
            [
                job(e, "webhook", "a"),
                job(e, "webhook", "b"),
                job(e, "email", ""),
            ]
        })
        .collect();
    let ids: Vec<_> = pending.iter().map(|e| e.record.id).collect();
    assert_eq!(store.dispatch_events(&ids, jobs.clone()).await.unwrap(), 2);
    // A second dispatcher with the same events and jobs changes nothing.
    let again: Vec<_> = pending.iter().map(|e| job(e, "webhook", "a")).collect();
    assert_eq!(store.dispatch_events(&ids, again).await.unwrap(), 0);
    assert!(store.undispatched_events(10).await.unwrap().is_empty());
    let webhooks = store.jobs(ada.id, "webhook", None, 100).await.unwrap();
    assert_eq!(webhooks.len(), 4, "one job per queue, event and target");
    assert_eq!(
        store
            .jobs(ada.id, "webhook", Some("a"), 100)
            .await
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        store.jobs(ada.id, "email", None, 100).await.unwrap().len(),
        2
    );
    let job = &webhooks[0];
    assert_eq!(
        (job.status, job.attempts, job.last_error.as_deref()),
        (crate::queue::JobStatus::Pending, 0, None)
    );
}

/// Claiming leases a job to one worker; jobs of one booking and target go
/// in order; done, retried and dead outcomes are recorded.
pub async fn jobs_are_claimed_once_in_order_and_finished(store: Arc<dyn BookingStore>) {
    use crate::queue::{JobResult, JobStatus};
    let ada = organizer(&*store, "ada").await;
    let mut booking = new_booking(ada.id, range(at(9, 0), 30), 0, 0);
    let stored = Booking::from_new(booking.clone());
    booking.event = Some(event_record(
        &stored,
        crate::event::BookingEventKind::Created,
    ));
    store.insert_booking(booking).await.unwrap();
    let cancel_event = event_record(&stored, crate::event::BookingEventKind::Cancelled);
    store
        .cancel_booking(Cancellation {
            event: Some(cancel_event),
            ..Cancellation::new(stored.id, stored.organizer_id, created())
        })
        .await
        .unwrap();
    let events = store.undispatched_events(10).await.unwrap();
    let jobs: Vec<_> = events.iter().map(|e| job(e, "q", "t")).collect();
    let ids: Vec<_> = events.iter().map(|e| e.record.id).collect();
    store.dispatch_events(&ids, jobs).await.unwrap();
    let t = created();
    let lease = t + Duration::seconds(60);
    let claimed = store.claim_jobs("q", t, 10, lease).await.unwrap();
    assert_eq!(
        claimed.len(),
        1,
        "the second event's job waits for the first"
    );
    assert_eq!(claimed[0].event_id, events[0].record.id);
    assert_eq!(claimed[0].attempts, 1);
    assert!(
        store
            .claim_jobs("q", t, 10, lease)
            .await
            .unwrap()
            .is_empty(),
        "leased"
    );
    assert!(
        store
            .claim_jobs("other", t, 10, lease)
            .await
            .unwrap()
            .is_empty()
    );
    // The lease lapses: claimed again.
    let again = store
        .claim_jobs("q", lease, 10, lease + Duration::seconds(60))
        .await
        .unwrap();
    assert_eq!((again.len(), again[0].attempts), (1, 2));
    let retry_at = lease + Duration::minutes(5);
    store
        .finish_job(
            again[0].id,
            JobResult::Retry {
                at: retry_at,
                error: "HTTP 500".into(),
                status: Some(500),
            },
            lease,
        )
        .await
        .unwrap();
    assert!(
        store
            .claim_jobs("q", lease, 10, retry_at)
            .await
            .unwrap()
            .is_empty(),
        "not due yet, and it blocks the next"
    );
    let due = store
        .claim_jobs("q", retry_at, 10, retry_at + Duration::seconds(60))
        .await
        .unwrap();
    assert_eq!(due.len(), 1);
    store
        .finish_job(due[0].id, JobResult::Done { status: Some(204) }, retry_at)
        .await
        .unwrap();
    let second = store
        .claim_jobs("q", retry_at, 10, retry_at + Duration::seconds(60))
        .await
        .unwrap();
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].event_id, events[1].record.id);
    store
        .finish_job(
            second[0].id,
            JobResult::Dead {
                error: "gone".into(),
                status: Some(410),
            },
            retry_at,
        )
        .await
        .unwrap();
    let all = store.jobs(ada.id, "q", None, 10).await.unwrap();
    assert_eq!(all[0].status, JobStatus::Dead);
    assert_eq!(
        (all[0].last_status, all[0].last_error.as_deref()),
        (Some(410), Some("gone"))
    );
    assert_eq!(all[1].status, JobStatus::Done);
    assert_eq!((all[1].attempts, all[1].last_status), (3, Some(204)));
    assert!(
        store
            .claim_jobs(
                "q",
                retry_at + Duration::days(3),
                10,
                retry_at + Duration::days(4)
            )
            .await
            .unwrap()
            .is_empty()
    );
}

/// 16 workers claim at once: each job goes to exactly one of them.
pub async fn racing_workers_claim_each_job_once(store: Arc<dyn BookingStore>) {
    let ada = organizer(&*store, "ada").await;
    for i in 0..24 {
        let mut booking = new_booking(
            ada.id,
            range(at(0, 0) + Duration::minutes(30 * i), 30),
            0,
            0,
        );
        booking.event = Some(event_record(
            &Booking::from_new(booking.clone()),
            crate::event::BookingEventKind::Created,
        ));
        store.insert_booking(booking).await.unwrap();
    }
    let events = store.undispatched_events(100).await.unwrap();
    let jobs: Vec<_> = events.iter().map(|e| job(e, "race", "")).collect();
    let ids: Vec<_> = events.iter().map(|e| e.record.id).collect();
    store.dispatch_events(&ids, jobs).await.unwrap();
    let barrier = Arc::new(tokio::sync::Barrier::new(16));
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let (store, barrier) = (store.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                store
                    .claim_jobs("race", created(), 5, created() + Duration::seconds(60))
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut claimed = Vec::new();
    for task in tasks {
        claimed.extend(task.await.unwrap().into_iter().map(|j| j.id));
    }
    let total = claimed.len();
    claimed.sort();
    claimed.dedup();
    assert_eq!(claimed.len(), total, "no job claimed twice");
    assert_eq!(total, 24, "every job claimed");
}

/// Records round trip; lookups are unique per kind and expire; listing is
/// per organizer and kind.
pub async fn records_round_trip_and_expire(store: Arc<dyn BookingStore>) {
    use crate::record::Record;
    let ada = organizer(&*store, "ada").await;
    let bob = organizer(&*store, "bob").await;
    let record =
        |kind: &str, id: &str, owner: OrganizerId, lookup: Option<&str>, expires: Option<i64>| {
            Record {
                kind: kind.into(),
                id: id.into(),
                organizer_id: owner,
                lookup: lookup.map(str::to_owned),
                data: format!("{{\"id\": \"{id}\", \"text\": \"'quoted' 🎉\"}}"),
                created_at: created() + Duration::seconds(id.len() as i64),
                expires_at: expires.map(|m| created() + Duration::minutes(m)),
            }
        };
    let s1 = record("session", "s1", ada.id, Some("hash-1"), Some(60));
    store.put_record(s1.clone()).await.unwrap();
    store
        .put_record(record("session", "s22", ada.id, Some("hash-2"), Some(5)))
        .await
        .unwrap();
    store
        .put_record(record("session", "s333", bob.id, Some("hash-3"), None))
        .await
        .unwrap();
    store
        .put_record(record("webhook", "w1", ada.id, Some("hash-1"), None))
        .await
        .unwrap();
    assert_eq!(
        store.record("session", "s1").await.unwrap(),
        Some(s1.clone())
    );
    assert_eq!(store.record("session", "nope").await.unwrap(), None);
    assert_eq!(
        store
            .record_by_lookup("session", "hash-1", created())
            .await
            .unwrap(),
        Some(s1.clone())
    );
    assert!(
        matches!(
            store
                .put_record(record("session", "s4444", bob.id, Some("hash-1"), None))
                .await,
            Err(StoreError::Conflict)
        ),
        "lookups are unique within a kind"
    );
    let later = created() + Duration::minutes(10);
    assert_eq!(
        store
            .record_by_lookup("session", "hash-2", later)
            .await
            .unwrap(),
        None,
        "expired"
    );
    let listed: Vec<String> = store
        .records(ada.id, "session", later)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(listed, ["s1"]);
    let mut replaced = s1.clone();
    replaced.data = "{}".into();
    store.put_record(replaced.clone()).await.unwrap();
    assert_eq!(store.record("session", "s1").await.unwrap(), Some(replaced));
    assert!(store.delete_record("session", "s1").await.unwrap());
    assert!(!store.delete_record("session", "s1").await.unwrap());
    assert_eq!(
        store
            .record_by_lookup("session", "hash-1", created())
            .await
            .unwrap(),
        None
    );
}

/// A new API token hash replaces the old one for lookups at once.
pub async fn api_tokens_can_be_replaced(store: Arc<dyn BookingStore>) {
    let ada = organizer(&*store, "ada").await;
    let new = TokenHash::of("rotated");
    store.set_api_token_hash(ada.id, new).await.unwrap();
    assert_eq!(
        store
            .organizer_by_token_hash(&TokenHash::of("ada"))
            .await
            .unwrap(),
        None
    );
    let found = store.organizer_by_token_hash(&new).await.unwrap().unwrap();
    assert_eq!((found.id, found.api_token_hash), (ada.id, new));
    assert!(matches!(
        store.set_api_token_hash(OrganizerId::generate(), new).await,
        Err(StoreError::OrganizerNotFound(_))
    ));
}

/// Through the service: an application's consumer gets a booking's created,
/// rescheduled and cancelled events in order, each until acknowledged.
pub async fn a_consumer_gets_every_event_in_order(store: Arc<dyn BookingStore>) {
    let now = Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap();
    let clock = Arc::new(ManualClock::new(now));
    let service = BookingService::new(store.clone())
        .with_clock(clock.clone())
        .with_event_consumer("app");
    organizer_in(&*store, "events", chrono_tz::America::New_York).await;
    let slot = TimeRange::starting_at(at(14, 0), Duration::minutes(45)).unwrap();
    let created_booking = service
        .create_booking(BookingRequest::new(
            "events",
            slot,
            Attendee::new("Grace", "grace@example.com"),
        ))
        .await
        .unwrap();
    let token = crate::service::Credential::from(&created_booking.cancel_token);
    let later = TimeRange::starting_at(at(16, 0), Duration::minutes(45)).unwrap();
    service
        .reschedule(
            crate::service::RescheduleRequest::new(created_booking.booking.id, later),
            &token,
        )
        .await
        .unwrap();
    service
        .cancel_booking(created_booking.booking.id, &token)
        .await
        .unwrap();
    let events = service.events("app");
    let mut seen = Vec::new();
    for _ in 0..3 {
        let batch = events.next(10).await.unwrap();
        assert_eq!(batch.len(), 1, "one event of a booking at a time");
        let event = &batch[0].event;
        seen.push((event.kind, event.booking.sequence));
        if event.kind == crate::event::BookingEventKind::Rescheduled {
            assert_eq!(event.previous_time, Some(slot));
        }
        // Not acknowledged: it comes back once its lease lapses.
        clock.advance(Duration::seconds(61));
        let again = events.next(10).await.unwrap();
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].event.id, batch[0].event.id);
        events.ack(&again[0]).await.unwrap();
    }
    use crate::event::BookingEventKind::{Cancelled, Created, Rescheduled};
    assert_eq!(seen, [(Created, 0), (Rescheduled, 1), (Cancelled, 2)]);
    assert!(events.next(10).await.unwrap().is_empty());
}
