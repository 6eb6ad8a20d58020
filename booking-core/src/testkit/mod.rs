//! The conformance suites every [`BookingStore`]
//! and [`SlotLock`](crate::lock::SlotLock) runs (feature `testkit`).
//!
//! Like `object_store`'s integration functions, each check is a public async
//! function taking a fresh, empty store; a backend runs them all with one
//! macro in its integration tests:
//!
//! ```text
//! async fn fresh_store() -> booking_core::testkit::TestStore {
//!     /* a brand-new, empty, isolated store, plus whatever must be cleaned
//!        up when the test ends (a temporary directory, a schema) */
//!     TestStore::with_guard(store, temp_dir)
//! }
//! booking_core::store_conformance_tests!(fresh_store);
//! ```
//!
//! `fresh_store` may also return an `Arc<dyn BookingStore>` (or anything
//! that converts into a [`TestStore`]) when there is nothing to clean up.
//! The guard lives until the check ends, so a backend hands the suite its
//! store as it is, with no wrapper forwarding every method.
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

pub mod fixtures;
pub mod lock;
mod state_machine;
mod store;

pub use state_machine::state_machine;
pub use store::*;

use std::any::Any;
use std::sync::Arc;

use crate::store::BookingStore;

/// A fresh store for one check, and what must live as long as the check
/// (a temporary directory, a database schema dropped on `Drop`, a server
/// process): dropped together when the check ends.
pub struct TestStore {
    store: Arc<dyn BookingStore>,
    _guard: Option<Box<dyn Any + Send + Sync>>,
}

impl TestStore {
    /// A store with nothing to clean up.
    pub fn new(store: impl BookingStore + 'static) -> Self {
        TestStore {
            store: Arc::new(store),
            _guard: None,
        }
    }

    /// A store that needs `guard` kept alive (and dropped) with it.
    pub fn with_guard(store: impl BookingStore + 'static, guard: impl Any + Send + Sync) -> Self {
        TestStore {
            store: Arc::new(store),
            _guard: Some(Box::new(guard)),
        }
    }

    /// The store, to hand to a check.
    pub fn store(&self) -> Arc<dyn BookingStore> {
        self.store.clone()
    }
}

impl From<Arc<dyn BookingStore>> for TestStore {
    fn from(store: Arc<dyn BookingStore>) -> Self {
        TestStore {
            store,
            _guard: None,
        }
    }
}

impl std::fmt::Debug for TestStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestStore").finish_non_exhaustive()
    }
}

/// Generates one test per conformance check for a backend. See the
/// [module docs](crate::testkit).
#[macro_export]
macro_rules! store_conformance_tests {
    ($make:path) => {
        $crate::store_conformance_tests!(@async $make,
            organizers_round_trip,
            usernames_are_unique,
            config_round_trip,
            config_changes_are_all_or_nothing,
            concurrent_config_updates_apply_once,
            bookings_round_trip_verbatim,
            overlapping_insert_is_refused,
            buffers_are_part_of_the_occupied_interval,
            touching_bookings_are_allowed,
            organizers_do_not_block_each_other,
            cancel_is_a_soft_delete_that_succeeds_once,
            cancel_with_the_wrong_organizer_is_not_found,
            cancelled_bookings_free_their_time,
            unknown_organizer_or_booking_is_reported,
            list_pages_and_counts_in_the_store,
            occupied_intervals_cover_the_range,
            booking_context_gathers_everything,
            event_types_share_the_organizers_busy_time,
            deleting_an_event_type_keeps_its_bookings,
            inserts_only_at_the_decided_config_version,
            booked_starts_count_one_event_type,
            limits_are_checked_with_the_insert,
            the_last_place_of_a_day_has_one_winner,
            refused_insert_writes_nothing,
            finer_than_storage_precision_still_conflicts,
            concurrent_inserts_have_one_winner_per_interval,
            concurrent_service_bookings_never_overlap,
            reschedule_moves_a_booking_in_place,
            reschedule_checks_limits_without_counting_itself,
            racing_reschedules_have_one_winner,
            holds_block_until_they_expire,
            a_hold_becomes_its_booking,
            holds_count_against_limits_and_the_client_cap,
            releasing_a_hold_needs_its_token,
            a_hold_and_a_booking_racing_have_one_winner,
            idempotency_keys_are_claimed_once,
            a_booking_completes_its_key_atomically,
            racing_claims_have_one_winner,
            idempotent_bookings_race_to_one,
            events_are_written_with_their_change,
            events_are_dispatched_into_jobs_once,
            jobs_are_claimed_once_in_order_and_finished,
            racing_workers_claim_each_job_once,
            records_round_trip_and_expire,
            api_tokens_can_be_replaced,
            a_consumer_gets_every_event_in_order
        );

        #[test]
        fn state_machine() {
            $crate::testkit::state_machine(
                || async { ::std::convert::Into::<$crate::testkit::TestStore>::into($make().await) },
                24,
            );
        }
    };
    (@async $make:path, $($name:ident),+) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() {
                let fresh: $crate::testkit::TestStore = $make().await.into();
                $crate::testkit::$name(fresh.store()).await;
            }
        )+
    };
}

/// Generates one test per [`SlotLock`](crate::lock::SlotLock) conformance
/// check for a lock backend. See [`testkit::lock`](crate::testkit::lock).
///
/// `$make` is an async function returning a
/// [`LockPair`](crate::testkit::lock::LockPair) on a fresh, isolated
/// backend. `failing = $broken` (optional) names an async function returning
/// an `Arc<dyn SlotLock>` whose backend is down, and adds the check that its
/// failures are reported as `Backend`.
#[macro_export]
macro_rules! lock_conformance_tests {
    ($make:path, failing = $broken:path) => {
        $crate::lock_conformance_tests!($make);

        #[::tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn a_failing_backend_is_backend_not_held() {
            $crate::testkit::lock::a_failing_backend_is_backend_not_held($broken().await).await;
        }
    };
    ($make:path) => {
        $crate::lock_conformance_tests!(@async $make,
            one_holder_at_a_time,
            release_frees_the_key,
            a_late_release_never_frees_the_next_holders_lock,
            every_acquisition_gets_a_fresh_token,
            held_is_distinct_from_backend,
            ttl_expiry_frees_the_key,
            concurrent_acquirers_have_exactly_one_winner,
            holders_never_overlap_under_contention,
            keys_of_different_slots_are_independent
        );
    };
    (@async $make:path, $($name:ident),+) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() {
                $crate::testkit::lock::$name($make().await).await;
            }
        )+
    };
}
