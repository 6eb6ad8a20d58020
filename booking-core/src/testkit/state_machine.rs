//! The state-machine property test: random sequences of operations
//! against a store and a model of what it should hold.

use std::future::Future;
use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

use crate::availability::available_slots;
use crate::booking::{Booking, BookingId, BookingRequest};
use crate::memory::MemoryLock;
use crate::organizer::{NewOrganizer, Organizer, OrganizerSettings, SettingsDraft, WeeklyHours};
use crate::secret::SecretToken;
use crate::service::{BookingService, Credential, ServiceError};
use crate::store::BookingStore;
use crate::time::{LocalInterval, ManualClock, TimeRange};

use super::fixtures::all_active;

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
