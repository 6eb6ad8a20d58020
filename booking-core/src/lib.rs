//! # booking-core
//!
//! Bookable meeting slots for Rust applications. Organizers describe when
//! they work ([`Schedule`]s in their own time zone) and what can be booked
//! ([`EventType`]s: lengths, buffers, notice, booking window, limits);
//! attendees see free slots and book one; either side can cancel. Two
//! promises come first:
//!
//! * **nobody is ever double-booked**, even under concurrent requests from
//!   many processes: every [`BookingStore`] refuses an overlapping booking
//!   (and a booking past a limit) atomically, whatever happened before it;
//! * **every time is right in every time zone**, across daylight-saving
//!   changes: working hours are resolved with one documented rule
//!   ([`time::resolve_local`]) and everything stored is UTC.
//!
//! ## Quick start
//!
//! ```toml
//! [dependencies]
//! booking-core = "0.1"
//! booking-sqlite = "0.1"   # the embedded store; or booking-postgres
//! tokio = { version = "1", features = ["macros", "rt-multi-thread"] }
//! ```
//!
//! ```
//! use booking_core::chrono::{Duration, Utc};
//! use booking_core::{
//!     Attendee, BookingRequest, BookingService, Credential, EventTypeDraft, LocalInterval,
//!     NewOrganizer, ScheduleDraft, SlotQuery, TimeRange, WeeklyHours,
//! };
//! use booking_sqlite::{SqliteOptions, SqliteStore};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let dir = tempfile::tempdir()?;
//! # let path = dir.path().join("bookings.db");
//! let store = SqliteStore::open(path, SqliteOptions::default()).await?; // creates the file
//! store.migrate().await?; // brings its schema up to date
//! let service = BookingService::new(store); // in-process slot lock by default
//!
//! let (ada, _api_token) = service
//!     .register_organizer(NewOrganizer::new("ada", "ada@example.com", "Ada", booking_core::Tz::Europe__London))
//!     .await?;
//! let hours = WeeklyHours::every_day(vec![LocalInterval::parse("09:00", "17:00")?]);
//! service.create_schedule(&ada, ScheduleDraft::new("Working hours", hours)).await?;
//! service
//!     .create_event_type(&ada, EventTypeDraft::new("intro", "Introduction", Duration::minutes(30)))
//!     .await?;
//!
//! let week = TimeRange::starting_at(Utc::now(), Duration::days(7))?;
//! let slots = service.available_slots(SlotQuery::new("ada", week).event_type("intro")).await?;
//! let grace = Attendee::new("Grace Hopper", "grace@example.com");
//! let created = service
//!     .create_booking(BookingRequest::new("ada", slots[0], grace).event_type("intro"))
//!     .await?;
//! // The attendee keeps `created.cancel_token`; only its hash is stored.
//! service
//!     .cancel_booking(created.booking.id, &Credential::from(&created.cancel_token))
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! Everything an application needs is re-exported here, so one
//! `use booking_core::{...}` line covers the common path; the `chrono` and
//! `chrono_tz` crates the API takes are re-exported too.
//!
//! ## Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `memory` | yes | [`MemoryStore`], an indexed in-memory store |
//! | `testkit` | no | the conformance suites every store and lock runs ([`store_conformance_tests!`], `lock_conformance_tests!`) and their fixtures |
//!
//! Minimum supported Rust version: 1.94 (edition 2024).
//!
//! ## Map of the crate
//!
//! | module | what it holds |
//! |---|---|
//! | [`time`] | [`TimeRange`], wall-clock times, the local-to-UTC rule, clocks |
//! | [`organizer`] | organizers, and [`OrganizerRef`] (by id or username) |
//! | [`schedule`] | [`Schedule`]s: named working hours |
//! | [`event_type`] | [`EventType`]s: lengths, buffers, notice, window, limits, location |
//! | [`settings`] | [`SettingsDraft`]: the default schedule and event type in one call |
//! | [`booking`] | bookings and the typed [`BookingRequest`] |
//! | [`ids`], [`secret`], [`validation`] | ULID ids, API/cancel tokens stored as SHA-256 hashes, [`Field`]-named input errors |
//! | [`availability`] | the pure engine: [`available_slots`](availability::available_slots), [`check_booking`](availability::check_booking) |
//! | [`store`], [`lock`], [`provider`] | the three traits adapters implement |
//! | [`service`] | [`BookingService`], which wires them with the rules |
//! | [`memory`] | [`MemoryLock`], and [`MemoryStore`] (feature `memory`) |
//! | `testkit` | the conformance suites (feature `testkit`) |

pub mod availability;
pub mod booking;
pub mod event;
pub mod event_type;
pub mod hold;
pub mod idempotency;
pub mod ids;
pub mod lock;
pub mod memory;
pub mod organizer;
pub mod provider;
pub mod queue;
pub mod record;
pub mod schedule;
pub mod secret;
pub mod service;
pub mod settings;
pub mod store;
pub mod time;
pub mod validation;

#[cfg(feature = "testkit")]
pub mod testkit;

pub use chrono;
pub use chrono_tz;
pub use chrono_tz::Tz;

pub use availability::SlotRefusal;
pub use booking::{Attendee, Booking, BookingId, BookingRequest, BookingTime};
pub use event::{BookingEvent, BookingEventKind};
pub use event_type::{
    BookingLimits, BookingWindow, EventType, EventTypeDraft, EventTypeId, LimitPeriod, Location,
    Slug,
};
pub use hold::{CreatedHold, Hold, HoldId, HoldRequest};
pub use idempotency::IdempotencyKey;
pub use lock::{LockError, SlotLock};
pub use memory::MemoryLock;
#[cfg(feature = "memory")]
pub use memory::MemoryStore;
pub use organizer::{NewOrganizer, Organizer, OrganizerId, OrganizerRef};
pub use provider::{AvailabilityProvider, BusyPurpose, BusyTime, ProviderError};
pub use schedule::{Schedule, ScheduleDraft, ScheduleId, WeeklyHours};
pub use secret::SecretToken;
pub use service::{
    BookingEvents, BookingList, BookingService, Cancelled, CreatedBooking, Credential,
    EventDelivery, EventSink, ListQuery, RescheduleRequest, Rescheduled, ServiceConfig,
    ServiceError, SessionPolicy, SlotList, SlotQuery, StartedSession,
};
pub use settings::{OrganizerSettings, SettingsDraft};
pub use store::{BookingStore, StoreError};
pub use time::{Clock, LocalInterval, ManualClock, SystemClock, TimeRange, WallTime};
pub use validation::{Field, ValidationErrors};

/// The root README's code examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
