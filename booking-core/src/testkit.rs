//! The conformance suite every [`BookingStore`] runs (feature `testkit`).
//!
//! Like `object_store`'s integration functions, each check is a public async
//! function taking a fresh, empty store; a backend runs them all with one
//! macro in its integration tests:
//!
//! ```text
//! async fn fresh_store() -> std::sync::Arc<dyn booking_core::store::BookingStore> {
//!     /* a brand-new, empty, isolated store */
//! }
//! booking_core::store_conformance_tests!(fresh_store);
//! ```
//!
//! The macro makes one `#[tokio::test]` per check plus a `#[test]` for the
//! [`state_machine`] property test, which builds its own runtime and calls
//! `fresh_store()` once inside it (each case then uses a new organizer, so a
//! database-backed store is not re-created per case). The backend's
//! dev-dependencies need `tokio` and `booking-core` with feature `testkit`.
//!
//! Failures panic with a message naming the broken rule, as tests do.
//!
//! The data the checks build (instants, organizers, bookings, settings) and
//! their racing inserts come from [`fixtures`], which a backend's own tests
//! use too.

use std::future::Future;
use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::json;

use crate::availability::available_slots;
use crate::booking::{Booking, BookingId, BookingRequest, NewBooking};
use crate::memory::MemoryLock;
use crate::organizer::{
    NewOrganizer, Organizer, OrganizerId, OrganizerSettings, SettingsDraft, WeeklyHours,
};
use crate::secret::{SecretToken, TokenHash};
use crate::service::{BookingService, Credential, ServiceError};
use crate::store::{BookingQuery, BookingStore, StoreError};
use crate::time::{LocalInterval, ManualClock, TimeRange};

/// Generates one test per conformance check for a backend. See the
/// [module docs](crate::testkit).
#[macro_export]
macro_rules! store_conformance_tests {
    ($make:path) => {
        $crate::store_conformance_tests!(@async $make,
            organizers_round_trip,
            usernames_are_unique,
            settings_round_trip,
            bookings_round_trip_verbatim,
            overlapping_insert_is_refused,
            buffers_are_part_of_the_occupied_interval,
            touching_bookings_are_allowed,
            organizers_do_not_block_each_other,
            cancel_is_a_soft_delete_that_succeeds_once,
            cancelled_bookings_free_their_time,
            unknown_organizer_or_booking_is_reported,
            list_pages_and_counts_in_the_store,
            occupied_intervals_cover_the_range,
            booking_context_gathers_everything,
            refused_insert_writes_nothing,
            finer_than_storage_precision_still_conflicts,
            concurrent_inserts_have_one_winner_per_interval,
            concurrent_service_bookings_never_overlap
        );

        #[test]
        fn state_machine() {
            $crate::testkit::state_machine(|| $make(), 24);
        }
    };
    (@async $make:path, $($name:ident),+) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() {
                $crate::testkit::$name($make().await).await;
            }
        )+
    };
}

// ------------------------------------------------------------------ fixtures

pub mod fixtures {
    //! Building blocks for backend-specific tests: the instants, organizers,
    //! bookings and settings the conformance checks use, and their way of
    //! racing inserts, public so a backend's own tests (races, SQL-level
    //! checks, migrations) build their data and races the same way instead
    //! of keeping copies.
    //!
    //! Like the checks, these panic with a message when the store fails.

    use std::collections::HashMap;
    use std::hash::Hash;
    use std::sync::Arc;

    use chrono::{DateTime, Duration, TimeZone, Utc};
    use chrono_tz::Tz;

    use crate::booking::{Booking, BookingId, NewBooking};
    use crate::organizer::{
        NewOrganizer, Organizer, OrganizerId, OrganizerSettings, SettingsDraft, WeeklyHours,
    };
    use crate::secret::TokenHash;
    use crate::store::{BookingQuery, BookingStore, StoreError};
    use crate::time::{LocalInterval, TimeRange};

    /// Monday 7 December 2026 at `h:m` UTC (`at(24, 0)` is the next
    /// midnight): the day every fixture booking is on.
    pub fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 7, 0, 0, 0).unwrap()
            + Duration::minutes(i64::from(h * 60 + m))
    }

    /// `minutes` long from `start`.
    pub fn range(start: DateTime<Utc>, minutes: i64) -> TimeRange {
        TimeRange::starting_at(start, Duration::minutes(minutes)).unwrap()
    }

    /// Tuesday 1 December 2026, 08:00 UTC: when fixture organizers and
    /// bookings are created, before every booked time.
    pub fn created() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap()
    }

    /// Creates `username` (home zone Europe/London, email and display name
    /// derived from it, API token hash `TokenHash::of(username)`).
    pub async fn organizer(store: &dyn BookingStore, username: &str) -> Organizer {
        organizer_in(store, username, chrono_tz::Europe::London).await
    }

    /// As [`organizer`], with home zone `time_zone`.
    pub async fn organizer_in(
        store: &dyn BookingStore,
        username: &str,
        time_zone: Tz,
    ) -> Organizer {
        store
            .create_organizer(
                OrganizerId::generate(),
                NewOrganizer {
                    username: username.to_owned(),
                    email: format!("{username}@example.com"),
                    display_name: format!("Organizer {username}"),
                    time_zone,
                },
                TokenHash::of(username),
                created(),
            )
            .await
            .expect("create_organizer must succeed for a fresh username")
    }

    /// A booking of `time` for `organizer` with buffers of `before` and
    /// `after` minutes (a new id each call, cancel token hash
    /// `TokenHash::of("cancel")`).
    pub fn new_booking(
        organizer: OrganizerId,
        time: TimeRange,
        before: i64,
        after: i64,
    ) -> NewBooking {
        NewBooking {
            id: BookingId::generate(),
            organizer_id: organizer,
            attendant_name: "Grace".into(),
            attendant_email: "grace@example.com".into(),
            metadata: None,
            title: "Intro".into(),
            description: None,
            time,
            buffer_before: Duration::minutes(before),
            buffer_after: Duration::minutes(after),
            cancel_token_hash: TokenHash::of("cancel"),
            created_at: created(),
        }
    }

    /// Settings that use every field: New York, weekdays 09:00-12:00 and
    /// 13:00-24:00, Christmas Eve off, 45-minute slots every 15 minutes,
    /// buffers of 5 and 10 minutes, 2 hours' notice, 90 days ahead.
    pub fn settings() -> OrganizerSettings {
        OrganizerSettings::try_from(SettingsDraft {
            time_zone: chrono_tz::America::New_York,
            weekly_hours: WeeklyHours::weekdays(vec![
                LocalInterval::parse("09:00", "12:00").unwrap(),
                LocalInterval::parse("13:00", "24:00").unwrap(),
            ]),
            date_overrides: [(
                chrono::NaiveDate::from_ymd_opt(2026, 12, 24).unwrap(),
                vec![],
            )]
            .into(),
            slot_duration: Duration::minutes(45),
            slot_step: Some(Duration::minutes(15)),
            buffer_before: Duration::minutes(5),
            buffer_after: Duration::minutes(10),
            min_notice: Duration::minutes(120),
            max_advance: Duration::days(90),
        })
        .unwrap()
    }

    /// Every active booking of `organizer` (one page of up to 10,000).
    pub async fn all_active(store: &dyn BookingStore, organizer: OrganizerId) -> Vec<Booking> {
        store
            .list_bookings(
                organizer,
                BookingQuery {
                    starts_within: None,
                    limit: 10_000,
                    offset: 0,
                },
            )
            .await
            .expect("list_bookings")
            .bookings
    }

    /// Panics if two of `bookings` of one organizer overlap, buffers
    /// included.
    pub fn assert_no_overlaps(bookings: &[Booking]) {
        for (i, a) in bookings.iter().enumerate() {
            for b in &bookings[i + 1..] {
                assert!(
                    a.organizer_id != b.organizer_id || !a.occupied().overlaps(&b.occupied()),
                    "double booking: {} and {} overlap",
                    a.occupied(),
                    b.occupied()
                );
            }
        }
    }

    /// Makes every insert at once: one task per attempt, all released
    /// together by a barrier, each inserting through the store paired with
    /// it. Returns each attempt's key with whether it won. Any outcome other
    /// than success or `Conflict` panics: a racing insert must never fail
    /// otherwise (no deadlock, no serialization error reaching the caller).
    pub async fn race_inserts<K: Send + 'static>(
        attempts: Vec<(K, Arc<dyn BookingStore>, NewBooking)>,
    ) -> Vec<(K, bool)> {
        let barrier = Arc::new(tokio::sync::Barrier::new(attempts.len()));
        let tasks: Vec<_> = attempts
            .into_iter()
            .map(|(key, store, booking)| {
                let barrier = barrier.clone();
                tokio::spawn(async move {
                    barrier.wait().await;
                    (key, store.insert_booking(booking).await)
                })
            })
            .collect();
        let mut outcomes = Vec::with_capacity(tasks.len());
        for task in tasks {
            let (key, result) = task.await.expect("insert task panicked");
            let won = match result {
                Ok(_) => true,
                Err(StoreError::Conflict) => false,
                Err(other) => {
                    panic!("a racing insert must win or conflict, got: {other} ({other:?})")
                }
            };
            outcomes.push((key, won));
        }
        outcomes
    }

    /// How many attempts of each group won, from [`race_inserts`]'
    /// outcomes keyed by group; a group nobody won is absent.
    pub fn winners_per_group<K: Eq + Hash + Clone>(outcomes: &[(K, bool)]) -> HashMap<K, usize> {
        let mut winners = HashMap::new();
        for (group, _) in outcomes.iter().filter(|(_, won)| *won) {
            *winners.entry(group.clone()).or_default() += 1;
        }
        winners
    }
}

use fixtures::{
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

// ------------------------------------------------------------ state machine

/// One step of the state-machine test.
#[derive(Debug, Clone)]
enum Op {
    /// Book slot number `slot` (15-minute grid from 09:00) on day `day`;
    /// `off_grid` shifts it by 5 minutes so it must be refused.
    Create { day: u8, slot: u8, off_grid: bool },
    /// Book several slots at once, concurrently.
    CreateConcurrently(Vec<(u8, u8)>),
    /// Cancel the n-th booking made so far (modulo their number), by its
    /// organizer or with its token; a second cancel must be refused.
    Cancel { nth: usize, with_token: bool },
}

fn arb_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u8..2, 0u8..12, proptest::bool::weighted(0.1))
            .prop_map(|(day, slot, off_grid)| Op::Create { day, slot, off_grid }),
        2 => proptest::collection::vec((0u8..2, 0u8..12), 2..6).prop_map(Op::CreateConcurrently),
        2 => (0usize..64, any::<bool>()).prop_map(|(nth, with_token)| Op::Cancel { nth, with_token }),
    ]
}

/// The model: what the store should hold.
struct Model {
    bookings: Vec<(Booking, SecretToken)>,
}

impl Model {
    fn busy(&self) -> Vec<TimeRange> {
        self.bookings
            .iter()
            .filter(|(b, _)| b.is_active())
            .map(|(b, _)| b.occupied())
            .collect()
    }
}

struct Case {
    service: BookingService,
    store: Arc<dyn BookingStore>,
    settings: OrganizerSettings,
    organizer: Organizer,
    now: DateTime<Utc>,
    model: Model,
}

impl Case {
    /// Wednesday 2 December 2026 plus `day`, slot `slot` from 09:00 London.
    fn slot(&self, day: u8, slot: u8, off_grid: bool) -> TimeRange {
        let start = Utc.with_ymd_and_hms(2026, 12, 2, 9, 0, 0).unwrap()
            + Duration::days(i64::from(day))
            + Duration::minutes(15 * i64::from(slot) + if off_grid { 5 } else { 0 });
        TimeRange::starting_at(start, self.settings.slot_duration()).unwrap()
    }

    fn offered(&self) -> Vec<TimeRange> {
        let window = TimeRange::new(self.now, self.now + Duration::days(7)).unwrap();
        available_slots(&self.settings, &self.model.busy(), window, self.now)
    }

    fn request(&self, slot: TimeRange) -> BookingRequest {
        BookingRequest {
            organizer_username: self.organizer.username.clone(),
            attendant_name: "Model".into(),
            attendant_email: "model@example.com".into(),
            title: "State machine".into(),
            description: None,
            start_time: slot.start().to_rfc3339(),
            end_time: slot.end().to_rfc3339(),
            metadata: None,
        }
    }

    async fn apply(&mut self, op: &Op) -> Result<(), TestCaseError> {
        match op {
            Op::Create {
                day,
                slot,
                off_grid,
            } => {
                let slot = self.slot(*day, *slot, *off_grid);
                let offered = self.offered().contains(&slot);
                let result = self.service.create_booking(self.request(slot)).await;
                match result {
                    Ok(created) => {
                        prop_assert!(offered, "booked {} which was not offered", slot);
                        self.model
                            .bookings
                            .push((created.booking, created.cancel_token));
                    }
                    Err(ServiceError::SlotUnavailable(_)) => {
                        prop_assert!(!offered, "refused offered slot {}", slot)
                    }
                    Err(other) => {
                        return Err(TestCaseError::fail(format!("create {slot}: {other}")));
                    }
                }
            }
            Op::CreateConcurrently(slots) => {
                let offered = self.offered();
                let requests: Vec<TimeRange> = slots
                    .iter()
                    .map(|(d, s)| self.slot(*d, *s, false))
                    .collect();
                let tasks: Vec<_> = requests
                    .iter()
                    .map(|slot| {
                        let service = self.service.clone();
                        let request = self.request(*slot);
                        tokio::spawn(async move { service.create_booking(request).await })
                    })
                    .collect();
                let mut won = 0;
                for (slot, task) in requests.iter().zip(tasks) {
                    match task.await.map_err(|e| TestCaseError::fail(e.to_string()))? {
                        Ok(created) => {
                            prop_assert!(
                                offered.contains(slot),
                                "booked {} which was not offered",
                                slot
                            );
                            self.model
                                .bookings
                                .push((created.booking, created.cancel_token));
                            won += 1;
                        }
                        Err(ServiceError::SlotUnavailable(_) | ServiceError::SlotBeingBooked) => {}
                        Err(other) => {
                            return Err(TestCaseError::fail(format!("create {slot}: {other}")));
                        }
                    }
                }
                if requests.iter().any(|slot| offered.contains(slot)) {
                    prop_assert!(won >= 1, "an offered slot was requested but nobody won");
                }
            }
            Op::Cancel { nth, with_token } => {
                if self.model.bookings.is_empty() {
                    return Ok(());
                }
                let index = nth % self.model.bookings.len();
                let (booking, token) = &self.model.bookings[index];
                let credential = if *with_token {
                    Credential::CancelToken(token.expose().to_owned())
                } else {
                    Credential::Organizer(self.organizer.id)
                };
                let was_active = booking.is_active();
                match self.service.cancel_booking(booking.id, &credential).await {
                    Ok(cancelled) => {
                        prop_assert!(was_active, "cancelled a booking twice");
                        self.model.bookings[index].0 = cancelled.booking;
                    }
                    Err(ServiceError::AlreadyCancelled { .. }) => {
                        prop_assert!(!was_active, "active booking reported cancelled")
                    }
                    Err(other) => return Err(TestCaseError::fail(format!("cancel: {other}"))),
                }
            }
        }
        self.check_invariants().await
    }

    async fn check_invariants(&self) -> Result<(), TestCaseError> {
        let active = all_active(&*self.store, self.organizer.id).await;
        for (i, a) in active.iter().enumerate() {
            for b in &active[i + 1..] {
                prop_assert!(
                    !a.occupied().overlaps(&b.occupied()),
                    "double booking: {} and {}",
                    a.occupied(),
                    b.occupied()
                );
            }
        }
        let mut stored: Vec<BookingId> = active.iter().map(|b| b.id).collect();
        let mut modelled: Vec<BookingId> = self
            .model
            .bookings
            .iter()
            .filter(|(b, _)| b.is_active())
            .map(|(b, _)| b.id)
            .collect();
        stored.sort();
        modelled.sort();
        prop_assert_eq!(
            stored,
            modelled,
            "store and model disagree on active bookings"
        );
        Ok(())
    }
}

async fn new_case(store: Arc<dyn BookingStore>, buffers: (i64, i64), step: i64) -> Case {
    let now = Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap();
    let service = BookingService::new(store.clone(), Arc::new(MemoryLock::new()))
        .with_clock(Arc::new(ManualClock::new(now)));
    let username = format!("sm-{}", BookingId::generate()).to_lowercase();
    let (organizer, _) = service
        .register_organizer(NewOrganizer {
            username: username.clone(),
            email: "sm@example.com".into(),
            display_name: "State Machine".into(),
            time_zone: chrono_tz::Europe::London,
        })
        .await
        .expect("register organizer");
    let settings = service
        .put_settings(
            organizer.id,
            SettingsDraft {
                time_zone: chrono_tz::Europe::London,
                weekly_hours: WeeklyHours::every_day(vec![
                    LocalInterval::parse("09:00", "12:00").unwrap(),
                ]),
                slot_duration: Duration::minutes(30),
                slot_step: Some(Duration::minutes(step)),
                buffer_before: Duration::minutes(buffers.0),
                buffer_after: Duration::minutes(buffers.1),
                ..SettingsDraft::default()
            },
        )
        .await
        .expect("put settings");
    Case {
        service,
        store,
        settings,
        organizer,
        now,
        model: Model {
            bookings: Vec::new(),
        },
    }
}

/// Random sequences of create / cancel / concurrent create against a store
/// built by `make` and a simple model: after every step no two active
/// bookings of the organizer overlap, the store holds exactly the model's
/// active bookings, every successful create was an offered slot and every
/// offered slot asked for alone is granted.
///
/// Builds its own multi-threaded tokio runtime (so call it from a plain
/// `#[test]`), calls `make` once inside it, and gives each of `cases` cases a
/// new organizer in that store. `PROPTEST_CASES` overrides `cases`.
pub fn state_machine<F, Fut>(make: F, cases: u32)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Arc<dyn BookingStore>>,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("a tokio runtime for the state-machine test");
    let store = runtime.block_on(make());
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(cases);
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    let strategy = (
        proptest::collection::vec(arb_op(), 1..24),
        (
            prop_oneof![Just(0i64), Just(10)],
            prop_oneof![Just(0i64), Just(15)],
        ),
        prop_oneof![Just(15i64), Just(30)],
    );
    let mut runner = TestRunner::new(config);
    let outcome = runner.run(&strategy, |(ops, buffers, step)| {
        runtime.block_on(async {
            let mut case = new_case(store.clone(), buffers, step).await;
            for op in &ops {
                case.apply(op).await?;
            }
            Ok(())
        })
    });
    if let Err(failure) = outcome {
        panic!("state machine found a counterexample: {failure}");
    }
}
