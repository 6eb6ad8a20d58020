//! [`BookingService`]: the library's operations (organizers, schedules,
//! event types, slots, bookings) with their rules, over any store, lock and
//! availability provider.
//!
//! # How a booking is made
//!
//! 1. The request is validated ([`BookingRequest::validate`]).
//! 2. The slot lock (`organizer id + slot start`, 10 s) is taken. Held by
//!    someone else: [`ServiceError::SlotBeingBooked`]. Lock backend down:
//!    the service **proceeds without the lock** and logs a warning, because
//!    the lock is only an early refusal; the store's atomic insert is what
//!    prevents double booking, so bookings stay both safe and available
//!    while the lock backend is unreachable.
//! 3. Under the lock, the request is decided on the organizer, event type
//!    and schedule this process kept from its last read of them, with their
//!    configuration version; without a kept copy (or when the kept copy
//!    refuses the request, since it may be stale) they are read, with the
//!    occupied intervals (and, when the event type has limits, its bookings
//!    around that week), in **one** store call
//!    ([`BookingStore::booking_context`]). External busy time comes from the
//!    [`AvailabilityProvider`], and
//!    [`check_booking`](crate::availability::check_booking) checks the
//!    request.
//! 4. The store inserts, atomically refusing any overlap
//!    ([`StoreError::Conflict`] becomes [`ServiceError::SlotUnavailable`]),
//!    any limit exceeded ([`ServiceError::BookingLimitReached`]) and a
//!    configuration that moved on from the version the booking was decided
//!    on (the service then decides once more on a fresh read).
//! 5. The lock is released by compare-and-delete whatever happened, also
//!    when the caller drops the request's future half-way (a client that went
//!    away, a timeout around the call).
//!
//! The hot path is therefore one insert against the store once the event
//! type's configuration is kept (one read and one insert before), and two
//! lock round trips. The lock key needs the organizer's id while a
//! request may name a username, so the service remembers the ids of
//! usernames it has read; the first booking for an organizer in a process
//! looks the id up first (one extra read, once).
//!
//! # Changing schedules and event types
//!
//! An organizer's schedules and event types form one versioned
//! configuration. Every change reads it, applies the rules (one default
//! schedule, unique slugs, no deleting a schedule in use) to that version,
//! and writes with [`BookingStore::update_config`], which applies only if
//! nobody changed the configuration in between; otherwise the change is
//! recomputed on the new version. So two processes editing at once can
//! never leave, say, two default schedules.
//!
//! # Cancelling
//!
//! A cancellation needs a [`Credential`]: the organizer's own id (the caller
//! has authenticated them, e.g. with [`BookingService::authenticate`]) or the
//! secret cancel token handed to the attendee once, at creation. Only the
//! token's SHA-256 is stored; it is compared in constant time.
//!
//! [`BookingStore::booking_context`]: crate::store::BookingStore::booking_context
//! [`BookingStore::update_config`]: crate::store::BookingStore::update_config
//! [`StoreError::Conflict`]: crate::store::StoreError::Conflict
//! [`BookingRequest::validate`]: crate::booking::BookingRequest::validate

use std::sync::Arc;

use chrono::{DateTime, Duration, DurationRound as _, NaiveDate, Utc};

use crate::booking::Booking;
use crate::lock::{DEFAULT_LOCK_TTL, LockError, SlotLock};
use crate::memory::MemoryLock;
use crate::provider::{AvailabilityProvider, NoExternalCalendar};
use crate::secret::SecretToken;
use crate::store::{BookingStore, StoreError};
use crate::time::{Clock, SystemClock};

mod bookings;
mod config_update;
mod credential;
mod decisions;
mod error;
mod event_types;
mod holds;
mod idempotent;
mod organizers;
mod outbox;
mod schedules;
mod sessions;
mod settings;
mod slot_lock;
mod slots;

pub use credential::Credential;
pub use error::ServiceError;
pub use outbox::{BookingEvents, DEFAULT_LEASE, EventDelivery, EventSink, job_for};
pub use sessions::{SessionPolicy, StartedSession};
pub use slots::{SlotList, SlotQuery};

/// Tunables of a [`BookingService`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceConfig {
    /// How long a slot lock is held at most (default 10 s).
    pub lock_ttl: std::time::Duration,
    /// The longest window [`BookingService::available_slots`] accepts
    /// (default 62 days), bounding the work one request can cause.
    pub max_slots_window: Duration,
    /// The largest page size; larger requests are clamped (default 100).
    pub max_page_size: u32,
    /// How long a request waits for an earlier request with the same
    /// idempotency key to finish before answering `IdempotencyInProgress`
    /// (default 10 s).
    pub idempotency_wait: std::time::Duration,
    /// The most unexpired holds one client may keep on one organizer
    /// (default [`MAX_HOLDS_PER_CLIENT`](crate::hold::MAX_HOLDS_PER_CLIENT)).
    pub max_holds_per_client: u32,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        ServiceConfig {
            lock_ttl: DEFAULT_LOCK_TTL,
            max_slots_window: Duration::days(62),
            max_page_size: 100,
            idempotency_wait: std::time::Duration::from_secs(10),
            max_holds_per_client: crate::hold::MAX_HOLDS_PER_CLIENT,
        }
    }
}

/// A booking just made, with the attendee's cancel token (shown only now).
#[derive(Debug, Clone)]
pub struct CreatedBooking {
    /// The stored booking.
    pub booking: Booking,
    /// The secret that lets the attendee cancel; only its hash is stored.
    /// `Credential::from(&created.cancel_token)` presents it.
    pub cancel_token: SecretToken,
    /// Whether this is the replay of an earlier request with the same
    /// idempotency key (nothing new was booked).
    pub replayed: bool,
}

/// A cancelled booking.
#[derive(Debug, Clone)]
pub struct Cancelled {
    /// The booking, now with `deleted_at` set.
    pub booking: Booking,
    /// When it was cancelled.
    pub cancelled_at: DateTime<Utc>,
    /// Whether this is the replay of an earlier request with the same
    /// idempotency key.
    pub replayed: bool,
}

/// A booking moved to a new time.
#[derive(Debug, Clone)]
pub struct Rescheduled {
    /// The booking: same id and cancel token, new time, one more sequence,
    /// `rescheduled_from` the old time.
    pub booking: Booking,
    /// Whether this is the replay of an earlier request with the same
    /// idempotency key.
    pub replayed: bool,
}

/// A request to move a booking to a new time.
///
/// ```
/// use booking_core::{BookingId, RescheduleRequest, TimeRange};
/// use chrono::{Duration, Utc};
///
/// let later = TimeRange::starting_at(Utc::now() + Duration::days(1), Duration::minutes(30))?;
/// let request = RescheduleRequest::new(BookingId::generate(), later);
/// # Ok::<(), booking_core::time::InvalidTimeRange>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RescheduleRequest {
    /// The booking to move.
    pub booking: crate::booking::BookingId,
    /// The new time: a range, or a start (and a length; the booking's own
    /// length when `None`).
    pub time: crate::booking::BookingTime,
    /// Makes the request safe to retry.
    pub idempotency_key: Option<crate::idempotency::IdempotencyKey>,
}

impl RescheduleRequest {
    /// Move `booking` to `time`.
    pub fn new(
        booking: crate::booking::BookingId,
        time: impl Into<crate::booking::BookingTime>,
    ) -> Self {
        RescheduleRequest {
            booking,
            time: time.into(),
            idempotency_key: None,
        }
    }

    /// Makes the request idempotent under `key`.
    pub fn idempotency_key(mut self, key: crate::idempotency::IdempotencyKey) -> Self {
        self.idempotency_key = Some(key);
        self
    }
}

/// What [`BookingService::readiness`] found.
#[derive(Debug)]
pub struct Readiness {
    /// The store's answer.
    pub store: Result<(), StoreError>,
    /// The lock backend's answer.
    pub lock: Result<(), LockError>,
}

/// Which of an organizer's bookings to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListQuery {
    /// First local date (in the organizer's zone) whose bookings are included.
    pub from: Option<NaiveDate>,
    /// Last local date included.
    pub to: Option<NaiveDate>,
    /// 1-based page number.
    pub page: u32,
    /// Page size; clamped to [`ServiceConfig::max_page_size`].
    pub limit: u32,
}

impl Default for ListQuery {
    fn default() -> Self {
        ListQuery {
            from: None,
            to: None,
            page: 1,
            limit: 20,
        }
    }
}

/// A page of bookings with pagination totals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingList {
    /// The page, ordered by start time.
    pub bookings: Vec<Booking>,
    /// The page number served.
    pub page: u32,
    /// The page size applied (after clamping).
    pub limit: u32,
    /// How many bookings match in all.
    pub total: u64,
    /// `ceil(total / limit)`.
    pub total_pages: u64,
}

/// The booking service: every operation of the library over a
/// [`BookingStore`], a [`SlotLock`] and an [`AvailabilityProvider`], each
/// held as `Arc<dyn ..>` so backends are chosen at run time (from
/// configuration) without generics leaking into the application. Cheap to
/// clone.
///
/// ```
/// use std::sync::Arc;
/// use booking_core::{
///     Attendee, BookingRequest, BookingService, Credential, EventTypeDraft, LocalInterval,
///     ManualClock, MemoryStore, NewOrganizer, ScheduleDraft, SlotQuery, TimeRange, WeeklyHours,
/// };
/// use chrono::{Duration, TimeZone, Utc};
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let now = Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap();
/// let service = BookingService::new(MemoryStore::new())
///     .with_clock(Arc::new(ManualClock::new(now)));
///
/// let (ada, _api_token) = service
///     .register_organizer(NewOrganizer::new("ada", "ada@example.com", "Ada", chrono_tz::Europe::London))
///     .await?;
/// let hours = WeeklyHours::weekdays(vec![LocalInterval::parse("09:00", "12:00")?]);
/// service.create_schedule(&ada, ScheduleDraft::new("Mornings", hours)).await?;
/// service
///     .create_event_type(&ada, EventTypeDraft::new("intro", "Introduction", Duration::minutes(60)))
///     .await?;
///
/// let tomorrow = TimeRange::starting_at(now + Duration::hours(16), Duration::days(1))?;
/// let slots = service.available_slots(SlotQuery::new("ada", tomorrow).event_type("intro")).await?;
/// assert_eq!(slots.len(), 3);
///
/// let created = service
///     .create_booking(
///         BookingRequest::new("ada", slots[0], Attendee::new("Grace", "grace@example.com"))
///             .event_type("intro"),
///     )
///     .await?;
/// assert_eq!(created.booking.title, "Introduction");
/// let query = SlotQuery::new("ada", tomorrow).event_type("intro");
/// assert_eq!(service.available_slots(query.clone()).await?.len(), 2);
///
/// service.cancel_booking(created.booking.id, &Credential::from(&created.cancel_token)).await?;
/// assert_eq!(service.available_slots(query).await?.len(), 3);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
#[derive(Clone)]
pub struct BookingService {
    store: Arc<dyn BookingStore>,
    lock: Arc<dyn SlotLock>,
    provider: Arc<dyn AvailabilityProvider>,
    clock: Arc<dyn Clock>,
    config: ServiceConfig,
    organizer_ids: Arc<slot_lock::OrganizerIds>,
    decisions: Arc<decisions::Decisions>,
    secret: Option<Arc<[u8]>>,
    sinks: Vec<Arc<dyn outbox::EventSink>>,
    retries: Arc<crate::queue::RetrySchedule>,
    sessions: SessionPolicy,
}

impl std::fmt::Debug for BookingService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BookingService")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Buffers and slots are at most a day long (validation), so busy time
/// further than this from a requested range can never matter.
const WIDEST_REACH: Duration = Duration::days(2);

impl BookingService {
    /// A service over `store` with the in-process [`MemoryLock`] (right for
    /// one process; use [`with_lock`](Self::with_lock) to share slot locks
    /// between processes), no external calendar, the system clock and the
    /// default [`ServiceConfig`].
    ///
    /// `store` may be a concrete store or an `Arc<dyn BookingStore>` chosen
    /// at run time.
    pub fn new(store: impl BookingStore + 'static) -> Self {
        BookingService {
            store: Arc::new(store),
            lock: Arc::new(MemoryLock::new()),
            provider: Arc::new(NoExternalCalendar),
            clock: Arc::new(SystemClock),
            config: ServiceConfig::default(),
            organizer_ids: Arc::default(),
            decisions: Arc::default(),
            secret: None,
            sinks: Vec::new(),
            retries: Arc::default(),
            sessions: SessionPolicy::default(),
        }
    }

    /// A server-side secret mixed into the cancel tokens of bookings made
    /// with an idempotency key (see [`crate::idempotency`]), so that a
    /// leaked key alone cannot produce one. Setting one where there was
    /// none is safe: replays of bookings made without it still return the
    /// token they were made with. Keep it stable once set: changing it
    /// to another value changes the tokens replays return.
    pub fn with_secret(mut self, secret: impl AsRef<[u8]>) -> Self {
        self.secret = Some(Arc::from(secret.as_ref()));
        self
    }

    /// Uses `lock` for slot locks (for example a Redis lock shared by every
    /// process of a service).
    pub fn with_lock(mut self, lock: impl SlotLock + 'static) -> Self {
        self.lock = Arc::new(lock);
        self
    }

    /// Uses `provider` for external busy time.
    pub fn with_provider(mut self, provider: impl AvailabilityProvider + 'static) -> Self {
        self.provider = Arc::new(provider);
        self
    }

    /// Uses `clock` for "now" (tests pass a [`ManualClock`](crate::time::ManualClock)).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Uses `config`.
    pub fn with_config(mut self, config: ServiceConfig) -> Self {
        self.config = config;
        self
    }

    /// The service's tunables.
    pub fn config(&self) -> &ServiceConfig {
        &self.config
    }

    /// Whether the store and the lock backend answer right now, each checked
    /// on its own (for a readiness probe; wrap it in a timeout). A lock
    /// backend that is down does not stop bookings (see the module docs),
    /// so callers usually treat only the store's failure as "not ready".
    pub async fn readiness(&self) -> Readiness {
        let (store, lock) = tokio::join!(self.store.check_health(), self.lock.check_health());
        Readiness { store, lock }
    }

    /// The current instant by the service's clock, truncated to whole
    /// milliseconds: the precision every store keeps, so what a store returns
    /// equals what the service wrote.
    pub fn now(&self) -> DateTime<Utc> {
        let now = self.clock.now();
        now.duration_trunc(Duration::milliseconds(1)).unwrap_or(now)
    }
}

#[cfg(test)]
mod tests;
