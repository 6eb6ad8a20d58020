//! The store checks: one public async function per rule of the
//! [`BookingStore`] contract, each taking a fresh, empty store.

use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};
use serde_json::json;

use crate::booking::{Booking, BookingId, BookingRequest, NewBooking};
use crate::memory::MemoryLock;
use crate::organizer::{NewOrganizer, OrganizerId, OrganizerSettings};
use crate::secret::TokenHash;
use crate::service::{BookingService, ServiceError};
use crate::store::{BookingQuery, BookingStore, StoreError};
use crate::time::{ManualClock, TimeRange};

use super::fixtures::{
    all_active, assert_no_overlaps, at, created, new_booking, organizer, race_inserts, range,
    settings, winners_per_group,
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
        store.organizer_by_username("ADA").await.unwrap(),
        None,
        "usernames compare exactly"
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

/// A second organizer with a taken username is refused with `UsernameTaken`.
pub async fn usernames_are_unique(store: Arc<dyn BookingStore>) {
    organizer(&*store, "ada").await;
    let again = store
        .create_organizer(
            OrganizerId::generate(),
            NewOrganizer {
                username: "ada".into(),
                email: "other@example.com".into(),
                display_name: "Other".into(),
                time_zone: chrono_tz::UTC,
            },
            TokenHash::of("other"),
            created(),
        )
        .await;
    assert!(
        matches!(again, Err(StoreError::UsernameTaken(name)) if name == "ada"),
        "expected UsernameTaken"
    );
    assert!(
        store
            .organizer_by_token_hash(&TokenHash::of("other"))
            .await
            .unwrap()
            .is_none(),
        "nothing written"
    );
}

/// Settings are stored, replaced and read back exactly.
pub async fn settings_round_trip(store: Arc<dyn BookingStore>) {
    let ada = organizer(&*store, "ada").await;
    assert_eq!(store.settings(ada.id).await.unwrap(), None);
    let first = settings();
    store.put_settings(ada.id, &first).await.unwrap();
    assert_eq!(store.settings(ada.id).await.unwrap(), Some(first.clone()));
    let mut draft = first.to_draft();
    draft.slot_step = None;
    draft.time_zone = chrono_tz::Australia::Lord_Howe;
    let second = OrganizerSettings::try_from(draft).unwrap();
    store.put_settings(ada.id, &second).await.unwrap();
    assert_eq!(store.settings(ada.id).await.unwrap(), Some(second));
    let unknown = OrganizerId::generate();
    assert!(
        matches!(store.put_settings(unknown, &first).await, Err(StoreError::OrganizerNotFound(id)) if id == unknown)
    );
}

/// Every field of a booking comes back as written: hostile text verbatim,
/// metadata, buffers, the token hash, timestamps.
pub async fn bookings_round_trip_verbatim(store: Arc<dyn BookingStore>) {
    let ada = organizer(&*store, "ada").await;
    let mut booking = new_booking(ada.id, range(at(10, 0), 30), 5, 10);
    booking.attendant_name = "Robert'); DROP TABLE bookings;-- 🎉".into();
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
    let cancelled = store.cancel_booking(booking.id, first).await.unwrap();
    assert_eq!(cancelled.deleted_at, Some(first));
    assert_eq!(cancelled.updated_at, first);
    let second = store
        .cancel_booking(booking.id, first + Duration::hours(1))
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

/// A cancelled booking occupies nothing.
pub async fn cancelled_bookings_free_their_time(store: Arc<dyn BookingStore>) {
    let ada = organizer(&*store, "ada").await;
    let first = store
        .insert_booking(new_booking(ada.id, range(at(10, 0), 60), 5, 5))
        .await
        .unwrap();
    store.cancel_booking(first.id, created()).await.unwrap();
    let window = range(at(0, 0), 24 * 60);
    assert!(
        store
            .occupied_intervals(ada.id, window)
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
        matches!(store.cancel_booking(missing, created()).await, Err(StoreError::BookingNotFound(id)) if id == missing)
    );
    assert_eq!(store.settings(ghost).await.unwrap(), None);
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
    store.cancel_booking(cancelled.id, created()).await.unwrap();

    let page = |starts_within, limit, offset| BookingQuery {
        starts_within,
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
        .occupied_intervals(ada.id, range(at(11, 0), 60))
        .await
        .unwrap();
    assert_eq!(
        occupied,
        vec![TimeRange::new(at(9, 45), at(11, 30)).unwrap()],
        "the buffer after reaches 11:30"
    );
    let touching = store
        .occupied_intervals(ada.id, TimeRange::new(at(11, 30), at(14, 0)).unwrap())
        .await
        .unwrap();
    assert!(touching.is_empty(), "touching intervals do not overlap");
    store
        .insert_booking(new_booking(ada.id, range(at(12, 0), 30), 0, 0))
        .await
        .unwrap();
    let all = store
        .occupied_intervals(ada.id, range(at(0, 0), 24 * 60))
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

/// The hot-path read returns organizer, settings and occupied intervals.
pub async fn booking_context_gathers_everything(store: Arc<dyn BookingStore>) {
    let ada = organizer(&*store, "ada").await;
    let window = range(at(0, 0), 24 * 60);
    let bare = store
        .booking_context("ada", window)
        .await
        .unwrap()
        .expect("ada exists");
    assert_eq!(
        (bare.organizer, bare.settings, bare.occupied),
        (ada.clone(), None, vec![])
    );
    store.put_settings(ada.id, &settings()).await.unwrap();
    store
        .insert_booking(new_booking(ada.id, range(at(10, 0), 60), 5, 5))
        .await
        .unwrap();
    let full = store
        .booking_context("ada", window)
        .await
        .unwrap()
        .expect("ada exists");
    assert_eq!(full.settings, Some(settings()));
    assert_eq!(
        full.occupied,
        vec![TimeRange::new(at(9, 55), at(11, 5)).unwrap()]
    );
    assert!(
        store
            .booking_context("nobody", window)
            .await
            .unwrap()
            .is_none()
    );
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
    let service = BookingService::new(store.clone(), Arc::new(MemoryLock::new()))
        .with_clock(Arc::new(ManualClock::new(now)));
    let (ada, _) = service
        .register_organizer(NewOrganizer {
            username: "racer".into(),
            email: "racer@example.com".into(),
            display_name: "Racer".into(),
            time_zone: chrono_tz::America::New_York,
        })
        .await
        .unwrap();
    service
        .put_settings(ada.id, settings().to_draft())
        .await
        .unwrap();
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
                let result = service
                    .create_booking(BookingRequest {
                        organizer_username: "racer".into(),
                        attendant_name: format!("Attendee {i}"),
                        attendant_email: format!("a{i}@example.com"),
                        title: "Race".into(),
                        description: None,
                        start_time: start.to_rfc3339(),
                        end_time: (start + Duration::minutes(45)).to_rfc3339(),
                        metadata: None,
                    })
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
