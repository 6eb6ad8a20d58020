//! The state-machine property test: random sequences of operations
//! against a store and a model of what it should hold.

use std::future::Future;
use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

use crate::availability::{SlotRules, Taken, available_slots};
use crate::booking::{Attendee, Booking, BookingId, BookingRequest};
use crate::event_type::{BookingLimits, EventType, EventTypeDraft};
use crate::memory::MemoryLock;
use crate::organizer::{NewOrganizer, Organizer};
use crate::schedule::{Schedule, ScheduleDraft, WeeklyHours};
use crate::secret::SecretToken;
use crate::service::{BookingService, Credential, ServiceError};
use crate::store::BookingStore;
use crate::time::{LocalInterval, ManualClock, TimeRange};

use super::fixtures::all_active;

/// One step of the state-machine test. `kind` picks one of the case's two
/// event types.
#[derive(Debug, Clone)]
enum Op {
    /// Book slot number `slot` (15-minute grid from 09:00) on day `day`;
    /// `off_grid` shifts it by 5 minutes so it must be refused.
    Create {
        kind: usize,
        day: u8,
        slot: u8,
        off_grid: bool,
    },
    /// Book several slots at once, concurrently.
    CreateConcurrently(Vec<(usize, u8, u8)>),
    /// Cancel the n-th booking made so far (modulo their number), by its
    /// organizer or with its token; a second cancel must be refused.
    Cancel { nth: usize, with_token: bool },
}

fn arb_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0usize..2, 0u8..2, 0u8..12, proptest::bool::weighted(0.1))
            .prop_map(|(kind, day, slot, off_grid)| Op::Create { kind, day, slot, off_grid }),
        2 => proptest::collection::vec((0usize..2, 0u8..2, 0u8..12), 2..6)
            .prop_map(Op::CreateConcurrently),
        2 => (0usize..64, any::<bool>()).prop_map(|(nth, with_token)| Op::Cancel { nth, with_token }),
    ]
}

/// The model: what the store should hold.
struct Model {
    bookings: Vec<(Booking, SecretToken)>,
}

impl Model {
    /// Occupied intervals of every active booking, of either event type.
    fn busy(&self) -> Vec<TimeRange> {
        self.bookings
            .iter()
            .filter(|(b, _)| b.is_active())
            .map(|(b, _)| b.occupied())
            .collect()
    }

    /// Starts of the active bookings of `event_type`.
    fn booked(&self, event_type: &EventType) -> Vec<DateTime<Utc>> {
        self.bookings
            .iter()
            .filter(|(b, _)| b.is_active() && b.event_type_id == Some(event_type.id))
            .map(|(b, _)| b.start_time())
            .collect()
    }
}

struct Case {
    service: BookingService,
    store: Arc<dyn BookingStore>,
    schedule: Schedule,
    event_types: [EventType; 2],
    organizer: Organizer,
    now: DateTime<Utc>,
    model: Model,
}

/// Refusals a booking may meet: the slot is not offered (any more), someone
/// is booking it right now, or its day is full.
fn is_refusal(error: &ServiceError) -> bool {
    matches!(
        error,
        ServiceError::SlotUnavailable(_)
            | ServiceError::SlotBeingBooked
            | ServiceError::BookingLimitReached(_)
    )
}

impl Case {
    /// Wednesday 2 December 2026 plus `day`, slot `slot` from 09:00 London,
    /// as long as event type `kind`'s meetings.
    fn slot(&self, kind: usize, day: u8, slot: u8, off_grid: bool) -> TimeRange {
        let start = Utc.with_ymd_and_hms(2026, 12, 2, 9, 0, 0).unwrap()
            + Duration::days(i64::from(day))
            + Duration::minutes(15 * i64::from(slot) + if off_grid { 5 } else { 0 });
        TimeRange::starting_at(start, self.event_types[kind].duration).unwrap()
    }

    /// What the engine offers for event type `kind`, from the model.
    fn offered(&self, kind: usize) -> Vec<TimeRange> {
        let event_type = &self.event_types[kind];
        let window = TimeRange::new(self.now, self.now + Duration::days(7)).unwrap();
        let rules = SlotRules::new(&self.schedule, event_type, None).unwrap();
        let busy = self.model.busy();
        let booked = self.model.booked(event_type);
        let taken = Taken {
            busy: &busy,
            booked: &booked,
        };
        available_slots(&rules, taken, window, self.now)
    }

    fn request(&self, kind: usize, slot: TimeRange) -> BookingRequest {
        BookingRequest::new(
            self.organizer.username.as_str(),
            slot,
            Attendee::new("Model", "model@example.com"),
        )
        .event_type(self.event_types[kind].slug.as_str())
        .title("State machine")
    }

    async fn apply(&mut self, op: &Op) -> Result<(), TestCaseError> {
        match op {
            Op::Create {
                kind,
                day,
                slot,
                off_grid,
            } => {
                let slot = self.slot(*kind, *day, *slot, *off_grid);
                let offered = self.offered(*kind).contains(&slot);
                let result = self.service.create_booking(self.request(*kind, slot)).await;
                match result {
                    Ok(created) => {
                        prop_assert!(offered, "booked {} which was not offered", slot);
                        self.model
                            .bookings
                            .push((created.booking, created.cancel_token));
                    }
                    Err(error) if is_refusal(&error) => {
                        prop_assert!(!offered, "refused offered slot {}: {}", slot, error)
                    }
                    Err(other) => {
                        return Err(TestCaseError::fail(format!("create {slot}: {other}")));
                    }
                }
            }
            Op::CreateConcurrently(slots) => {
                let offered = [self.offered(0), self.offered(1)];
                let requests: Vec<(usize, TimeRange)> = slots
                    .iter()
                    .map(|(k, d, s)| (*k, self.slot(*k, *d, *s, false)))
                    .collect();
                let tasks: Vec<_> = requests
                    .iter()
                    .map(|(kind, slot)| {
                        let service = self.service.clone();
                        let request = self.request(*kind, *slot);
                        tokio::spawn(async move { service.create_booking(request).await })
                    })
                    .collect();
                let mut won = 0;
                let mut turned_away_by_lock = false;
                for ((kind, slot), task) in requests.iter().zip(tasks) {
                    match task.await.map_err(|e| TestCaseError::fail(e.to_string()))? {
                        Ok(created) => {
                            prop_assert!(
                                offered[*kind].contains(slot),
                                "booked {} which was not offered",
                                slot
                            );
                            self.model
                                .bookings
                                .push((created.booking, created.cancel_token));
                            won += 1;
                        }
                        Err(ServiceError::SlotBeingBooked) => turned_away_by_lock = true,
                        Err(error) if is_refusal(&error) => {}
                        Err(other) => {
                            return Err(TestCaseError::fail(format!("create {slot}: {other}")));
                        }
                    }
                }
                // The slot lock is keyed by start only: a request that is not
                // offered (another event type's slot at the same start) may
                // hold it while the offered one is turned away, then be
                // refused itself. Only without such a turn-away must someone
                // have won.
                if !turned_away_by_lock
                    && requests
                        .iter()
                        .any(|(kind, slot)| offered[*kind].contains(slot))
                {
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
                    Credential::from(token)
                } else {
                    Credential::from(&self.organizer)
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

/// A case: an organizer on London hours (09:00-12:00 every day) with two
/// event types. `a` is 30 minutes with the drawn step and buffers; `b` is 45
/// minutes every 15 with 5 minutes after. With `limited`, `a` takes at most
/// 3 bookings a day and `b` at most 4 a week.
async fn new_case(
    store: Arc<dyn BookingStore>,
    buffers: (i64, i64),
    step: i64,
    limited: bool,
) -> Case {
    let now = Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap();
    let service = BookingService::new(store.clone())
        .with_lock(MemoryLock::new())
        .with_clock(Arc::new(ManualClock::new(now)));
    let username = format!("sm-{}", BookingId::generate()).to_lowercase();
    let (organizer, _) = service
        .register_organizer(NewOrganizer::new(
            username,
            "sm@example.com",
            "State Machine",
            chrono_tz::Europe::London,
        ))
        .await
        .expect("register organizer");
    let hours = WeeklyHours::every_day(vec![LocalInterval::parse("09:00", "12:00").unwrap()]);
    let schedule = service
        .create_schedule(&organizer, ScheduleDraft::new("Mornings", hours))
        .await
        .expect("create schedule");
    let a = EventTypeDraft {
        slot_step: Some(Duration::minutes(step)),
        buffer_before: Duration::minutes(buffers.0),
        buffer_after: Duration::minutes(buffers.1),
        limits: BookingLimits {
            per_day: limited.then_some(3),
            ..BookingLimits::default()
        },
        ..EventTypeDraft::new("a", "A", Duration::minutes(30))
    };
    let b = EventTypeDraft {
        slot_step: Some(Duration::minutes(15)),
        buffer_after: Duration::minutes(5),
        limits: BookingLimits {
            per_week: limited.then_some(4),
            ..BookingLimits::default()
        },
        ..EventTypeDraft::new("b", "B", Duration::minutes(45))
    };
    let a = service
        .create_event_type(&organizer, a)
        .await
        .expect("event type a");
    let b = service
        .create_event_type(&organizer, b)
        .await
        .expect("event type b");
    Case {
        service,
        store,
        schedule,
        event_types: [a, b],
        organizer,
        now,
        model: Model {
            bookings: Vec::new(),
        },
    }
}

/// Random sequences of create / cancel / concurrent create, over two event
/// types of one organizer with different lengths, steps and buffers, with or
/// without per-day and per-week limits, against a store built by `make` and
/// a simple model: after every step no two active bookings of the organizer
/// overlap, the store holds exactly the model's active bookings, every
/// successful create was an offered slot and every offered slot asked for
/// alone is granted.
///
/// Builds its own multi-threaded tokio runtime (so call it from a plain
/// `#[test]`), calls `make` once inside it, and gives each of `cases` cases a
/// new organizer in that store. `PROPTEST_CASES` overrides `cases`.
pub fn state_machine<F, Fut>(make: F, cases: u32)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = super::TestStore>,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("a tokio runtime for the state-machine test");
    let fresh = runtime.block_on(make());
    let store = fresh.store();
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
        any::<bool>(),
    );
    let mut runner = TestRunner::new(config);
    let outcome = runner.run(&strategy, |(ops, buffers, step, limited)| {
        runtime.block_on(async {
            let mut case = new_case(store.clone(), buffers, step, limited).await;
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
