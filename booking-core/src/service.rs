//! [`BookingService`]: the seed's operations (create, slots, get, list,
//! cancel) with its rules and error scenarios, over any store, lock and
//! availability provider.
//!
//! # How a booking is made
//!
//! 1. The request is validated ([`BookingRequest::validate`]).
//! 2. The slot lock (`organizer id + slot start`, 10 s) is taken. Held by
//!    someone else: [`ServiceError::SlotBeingBooked`], as in the seed. Lock
//!    backend down: the service **proceeds without the lock** and logs a
//!    warning, because the lock is only an early refusal; the store's atomic
//!    insert is what prevents double booking, so bookings stay both safe and
//!    available while the lock backend is unreachable.
//! 3. Under the lock, organizer, settings and occupied intervals are read in
//!    **one** store call ([`BookingStore::booking_context`]), external busy
//!    time comes from the [`AvailabilityProvider`], and [`check_booking`]
//!    checks the request against this fresh state (the seed's double check).
//! 4. The store inserts, atomically refusing any overlap
//!    ([`StoreError::Conflict`] becomes [`ServiceError::SlotUnavailable`]).
//! 5. The lock is released by compare-and-delete whatever happened, also
//!    when the caller drops the request's future half-way (a client that went
//!    away, a timeout around the call).
//!
//! The hot path is therefore one read and one insert against the store, and
//! two lock round trips. The lock key needs the organizer's id while the
//! request names a username, so the service remembers the ids of usernames
//! it has read; the first booking for an organizer in a process looks the id
//! up first (one extra read, once).
//!
//! # Cancelling
//!
//! Unlike the seed, which trusted a username nobody authenticated, a
//! cancellation needs a [`Credential`]: the organizer's own id (the caller has
//! authenticated them, e.g. with [`BookingService::authenticate`]) or the
//! secret cancel token handed to the attendee once, at creation. Only the
//! token's SHA-256 is stored; it is compared in constant time.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Duration, DurationRound as _, NaiveDate, Utc};
use chrono_tz::Tz;

use crate::availability::{SlotRefusal, available_slots, busy_range_for, check_booking};
use crate::booking::{
    Booking, BookingId, BookingRequest, NewBooking, RequestError, ValidBookingRequest,
};
use crate::lock::{DEFAULT_LOCK_TTL, LockError, LockGuard, Release, SlotKey, SlotLock};
use crate::organizer::{
    NewOrganizer, Organizer, OrganizerId, OrganizerSettings, SettingsDraft, SettingsError,
};
use crate::provider::{AvailabilityProvider, NoExternalCalendar, ProviderError};
use crate::secret::{RandomnessError, SecretToken, TokenHash};
use crate::store::{BookingQuery, BookingStore, StoreError};
use crate::time::{Clock, InvalidTimeRange, SystemClock, TimeRange, local_days_range};
use crate::validation::ValidationErrors;

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
}

impl Default for ServiceConfig {
    fn default() -> Self {
        ServiceConfig {
            lock_ttl: DEFAULT_LOCK_TTL,
            max_slots_window: Duration::days(62),
            max_page_size: 100,
        }
    }
}

/// Who is asking to read or cancel a booking.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Credential {
    /// An organizer the caller has authenticated (for example with
    /// [`BookingService::authenticate`]); may act on their own bookings.
    Organizer(OrganizerId),
    /// The cancel token the attendee received when booking.
    CancelToken(String),
}

/// Everything that can go wrong in a [`BookingService`] operation. Each
/// variant has a stable snake_case [`code`](ServiceError::code) for APIs.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceError {
    /// One or more input fields are malformed; each is named.
    #[error(transparent)]
    Validation(ValidationErrors),
    /// An end time is not after its start time.
    #[error("end time must be after start time")]
    InvalidTimeRange(#[source] InvalidTimeRange),
    /// A slots window longer than the service accepts.
    #[error("the time window is too long: at most {max_days} days can be asked at once")]
    WindowTooLong {
        /// The longest window accepted, in days.
        max_days: i64,
    },
    /// Settings were refused.
    #[error("invalid settings: {0}")]
    InvalidSettings(#[from] SettingsError),
    /// No organizer has this username or id.
    #[error("organizer not found")]
    OrganizerNotFound,
    /// The organizer has not configured their availability yet.
    #[error("the organizer has not set up their availability yet")]
    SettingsNotFound,
    /// The requested time is not an offered slot (any more).
    #[error("this time slot is not available: {0}")]
    SlotUnavailable(#[source] SlotRefusal),
    /// Another request is booking this slot right now; try again shortly.
    #[error("this time slot is currently being booked by another user; please try again")]
    SlotBeingBooked,
    /// No booking has this id (or it was cancelled and is no longer shown).
    #[error("booking not found")]
    NotFound,
    /// The credential does not allow this action on this booking.
    #[error("you don't have permission to access this booking")]
    PermissionDenied,
    /// The API token is unknown.
    #[error("unknown or invalid API token")]
    Unauthorized,
    /// The booking was already cancelled; nothing changed.
    #[error("this booking was already cancelled at {cancelled_at}")]
    AlreadyCancelled {
        /// When it was cancelled.
        cancelled_at: DateTime<Utc>,
    },
    /// The username is in use.
    #[error("the username {0:?} is already taken")]
    UsernameTaken(String),
    /// The store failed.
    #[error("storage failed")]
    Store(#[source] StoreError),
    /// The external availability provider failed.
    #[error("the availability provider failed")]
    Provider(#[source] ProviderError),
    /// No secure randomness for a token.
    #[error("could not generate a secret token")]
    Randomness(#[source] RandomnessError),
}

impl ServiceError {
    /// A stable snake_case identifier for clients, e.g. `slot_unavailable`.
    pub fn code(&self) -> &'static str {
        match self {
            ServiceError::Validation(_)
            | ServiceError::InvalidSettings(_)
            | ServiceError::WindowTooLong { .. } => "validation_error",
            ServiceError::InvalidTimeRange(_) => "invalid_time_range",
            ServiceError::OrganizerNotFound => "organizer_not_found",
            ServiceError::SettingsNotFound => "settings_not_found",
            ServiceError::SlotUnavailable(_) => "slot_unavailable",
            ServiceError::SlotBeingBooked => "slot_being_booked",
            ServiceError::NotFound => "not_found",
            ServiceError::PermissionDenied => "permission_denied",
            ServiceError::Unauthorized => "unauthorized",
            ServiceError::AlreadyCancelled { .. } => "already_cancelled",
            ServiceError::UsernameTaken(_) => "username_taken",
            ServiceError::Store(_) | ServiceError::Provider(_) | ServiceError::Randomness(_) => {
                "internal"
            }
        }
    }
}

impl From<StoreError> for ServiceError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict => ServiceError::SlotUnavailable(SlotRefusal::Busy),
            StoreError::UsernameTaken(name) => ServiceError::UsernameTaken(name),
            StoreError::OrganizerNotFound(_) => ServiceError::OrganizerNotFound,
            StoreError::BookingNotFound(_) => ServiceError::NotFound,
            StoreError::AlreadyCancelled { cancelled_at, .. } => {
                ServiceError::AlreadyCancelled { cancelled_at }
            }
            other => ServiceError::Store(other),
        }
    }
}

impl From<RequestError> for ServiceError {
    fn from(error: RequestError) -> Self {
        match error {
            RequestError::Invalid(errors) => ServiceError::Validation(errors),
            RequestError::TimeRange(range) => ServiceError::InvalidTimeRange(range),
        }
    }
}

/// A booking just made, with the attendee's cancel token (shown only now).
#[derive(Debug, Clone)]
pub struct CreatedBooking {
    /// The stored booking.
    pub booking: Booking,
    /// The secret that lets the attendee cancel; only its hash is stored.
    pub cancel_token: SecretToken,
}

/// A cancelled booking.
#[derive(Debug, Clone)]
pub struct Cancelled {
    /// The booking, now with `deleted_at` set.
    pub booking: Booking,
    /// When it was cancelled.
    pub cancelled_at: DateTime<Utc>,
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

/// The booking service: the seed's operations over a [`BookingStore`], a
/// [`SlotLock`] and an [`AvailabilityProvider`], each held as `Arc<dyn ..>`
/// so backends are chosen at run time (from configuration) without generics
/// leaking into the application.
///
/// ```
/// use std::sync::Arc;
/// use booking_core::booking::BookingRequest;
/// use booking_core::memory::{MemoryLock, MemoryStore};
/// use booking_core::organizer::{NewOrganizer, SettingsDraft, WeeklyHours};
/// use booking_core::service::{BookingService, Credential};
/// use booking_core::time::{LocalInterval, ManualClock, TimeRange};
/// use chrono::{Duration, TimeZone, Utc};
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let now = Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap();
/// let service = BookingService::new(Arc::new(MemoryStore::new()), Arc::new(MemoryLock::new()))
///     .with_clock(Arc::new(ManualClock::new(now)));
///
/// let (ada, _api_token) = service
///     .register_organizer(NewOrganizer {
///         username: "ada".into(),
///         email: "ada@example.com".into(),
///         display_name: "Ada".into(),
///         time_zone: chrono_tz::Europe::London,
///     })
///     .await?;
/// service
///     .put_settings(ada.id, SettingsDraft {
///         time_zone: chrono_tz::Europe::London,
///         weekly_hours: WeeklyHours::weekdays(vec![LocalInterval::parse("09:00", "12:00")?]),
///         slot_duration: Duration::minutes(60),
///         ..SettingsDraft::default()
///     })
///     .await?;
///
/// let tomorrow = TimeRange::starting_at(now + Duration::hours(16), Duration::days(1))?;
/// let slots = service.available_slots("ada", tomorrow).await?;
/// assert_eq!(slots.len(), 3);
///
/// let created = service
///     .create_booking(BookingRequest {
///         organizer_username: "ada".into(),
///         attendant_name: "Grace".into(),
///         attendant_email: "grace@example.com".into(),
///         title: "Intro".into(),
///         description: None,
///         start_time: slots[0].start().to_rfc3339(),
///         end_time: slots[0].end().to_rfc3339(),
///         metadata: None,
///     })
///     .await?;
/// assert_eq!(service.available_slots("ada", tomorrow).await?.len(), 2);
///
/// let token = Credential::CancelToken(created.cancel_token.expose().to_owned());
/// service.cancel_booking(created.booking.id, &token).await?;
/// assert_eq!(service.available_slots("ada", tomorrow).await?.len(), 3);
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
    organizer_ids: Arc<OrganizerIds>,
}

impl std::fmt::Debug for BookingService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BookingService")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// A slot lock held by one request. Released explicitly on every normal
/// path, and from `Drop` when the request's future is abandoned (client gone,
/// a timeout around the call) or unwinds, so an abandoned request does not
/// block the slot for the whole TTL.
struct HeldSlot {
    lock: Arc<dyn SlotLock>,
    /// `None` when the lock backend failed and the booking went on without it.
    guard: Option<LockGuard>,
}

impl HeldSlot {
    async fn release(mut self) {
        if let Some(guard) = self.guard.take() {
            release_logged(self.lock.as_ref(), &guard).await;
        }
    }
}

impl Drop for HeldSlot {
    fn drop(&mut self) {
        let Some(guard) = self.guard.take() else {
            return;
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                let lock = self.lock.clone();
                runtime.spawn(async move { release_logged(lock.as_ref(), &guard).await });
            }
            Err(_) => tracing::warn!(
                key = guard.key(),
                "slot lock left to expire: no runtime to release it on"
            ),
        }
    }
}

async fn release_logged(lock: &dyn SlotLock, guard: &LockGuard) {
    match lock.release(guard).await {
        Ok(Release::Released) => {}
        Ok(_) => tracing::warn!(key = guard.key(), "slot lock expired before release"),
        Err(error) => {
            tracing::warn!(key = guard.key(), error = %error, "could not release slot lock; it expires by itself")
        }
    }
}

/// What a booking needs, once the organizer is known to have settings.
struct ReadyContext {
    organizer: Organizer,
    settings: OrganizerSettings,
    occupied: Vec<TimeRange>,
}

/// Usernames already resolved to organizer ids, so the slot lock (keyed by
/// organizer id, as in the seed) can be taken *before* the one read of the
/// booking path. Ids never change; a stale entry (a username re-used after its
/// organizer was deleted) only means one lock on the wrong key, which the
/// store's own guarantee makes harmless, and the read corrects the entry.
#[derive(Debug, Default)]
struct OrganizerIds {
    by_username: RwLock<HashMap<String, OrganizerId>>,
}

/// Entries kept before the cache starts over; bounds memory per process.
const ORGANIZER_ID_CACHE_LIMIT: usize = 10_000;

impl OrganizerIds {
    fn get(&self, username: &str) -> Option<OrganizerId> {
        let map = self.by_username.read().unwrap_or_else(|p| p.into_inner());
        map.get(username).copied()
    }

    fn remember(&self, username: &str, id: OrganizerId) {
        let mut map = self.by_username.write().unwrap_or_else(|p| p.into_inner());
        if map.get(username) == Some(&id) {
            return;
        }
        if map.len() >= ORGANIZER_ID_CACHE_LIMIT {
            map.clear();
        }
        map.insert(username.to_owned(), id);
    }
}

/// Buffers and slots are at most a day long (settings validation), so busy
/// time further than this from a requested range can never matter.
const WIDEST_REACH: Duration = Duration::days(2);

impl BookingService {
    /// A service over `store` and `lock`, with no external calendar, the
    /// system clock and the default [`ServiceConfig`].
    pub fn new(store: Arc<dyn BookingStore>, lock: Arc<dyn SlotLock>) -> Self {
        BookingService {
            store,
            lock,
            provider: Arc::new(NoExternalCalendar),
            clock: Arc::new(SystemClock),
            config: ServiceConfig::default(),
            organizer_ids: Arc::default(),
        }
    }

    /// Uses `provider` for external busy time.
    pub fn with_provider(mut self, provider: Arc<dyn AvailabilityProvider>) -> Self {
        self.provider = provider;
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

    /// Whether the store and the lock backend answer right now, each checked
    /// on its own (for a readiness probe; wrap it in a timeout). A lock
    /// backend that is down does not stop bookings (see the module docs),
    /// so callers usually treat only the store's failure as "not ready".
    pub async fn readiness(&self) -> Readiness {
        let (store, lock) = tokio::join!(self.store.check_health(), self.lock.check_health());
        Readiness { store, lock }
    }

    /// The store, for operations the service does not wrap.
    pub fn store(&self) -> &Arc<dyn BookingStore> {
        &self.store
    }

    /// The current instant by the service's clock, truncated to whole
    /// milliseconds: the precision every store keeps, so what a store returns
    /// equals what the service wrote.
    pub fn now(&self) -> DateTime<Utc> {
        let now = self.clock.now();
        now.duration_trunc(Duration::milliseconds(1)).unwrap_or(now)
    }

    /// Registers an organizer and returns them with their API token, which is
    /// shown only now: only its hash is stored.
    pub async fn register_organizer(
        &self,
        new: NewOrganizer,
    ) -> Result<(Organizer, SecretToken), ServiceError> {
        new.validate().map_err(ServiceError::Validation)?;
        let token = SecretToken::generate().map_err(ServiceError::Randomness)?;
        let organizer = self
            .store
            .create_organizer(OrganizerId::generate(), new, token.hash(), self.now())
            .await?;
        Ok((organizer, token))
    }

    /// The organizer whose API token is `token`; [`ServiceError::Unauthorized`]
    /// for any unknown or malformed token.
    pub async fn authenticate(&self, token: &str) -> Result<Organizer, ServiceError> {
        let hash = TokenHash::of(token);
        match self.store.organizer_by_token_hash(&hash).await? {
            Some(organizer) if organizer.api_token_hash.verify(token) => Ok(organizer),
            _ => Err(ServiceError::Unauthorized),
        }
    }

    /// Validates and saves an organizer's settings.
    pub async fn put_settings(
        &self,
        organizer: OrganizerId,
        draft: SettingsDraft,
    ) -> Result<OrganizerSettings, ServiceError> {
        let settings = OrganizerSettings::try_from(draft)?;
        self.store.put_settings(organizer, &settings).await?;
        Ok(settings)
    }

    /// An organizer's settings; [`ServiceError::SettingsNotFound`] if none.
    pub async fn settings(
        &self,
        organizer: OrganizerId,
    ) -> Result<OrganizerSettings, ServiceError> {
        self.store
            .settings(organizer)
            .await?
            .ok_or(ServiceError::SettingsNotFound)
    }

    /// The slots `username` offers with a start in `window` (see
    /// [`available_slots`] for the exact rules). Windows longer than
    /// [`ServiceConfig::max_slots_window`] are refused; a window reaching into
    /// the past is fine, past slots are simply not offered.
    pub async fn available_slots(
        &self,
        username: &str,
        window: TimeRange,
    ) -> Result<Vec<TimeRange>, ServiceError> {
        if window.duration() > self.config.max_slots_window {
            return Err(ServiceError::WindowTooLong {
                max_days: self.config.max_slots_window.num_days(),
            });
        }
        let reach = window.widened(WIDEST_REACH, WIDEST_REACH);
        let context = self
            .store
            .booking_context(username, reach)
            .await?
            .ok_or(ServiceError::OrganizerNotFound)?;
        let settings = context.settings.ok_or(ServiceError::SettingsNotFound)?;
        let now = self.now();
        let Some(busy_range) = busy_range_for(&settings, window, now) else {
            return Ok(Vec::new());
        };
        let mut busy = context.occupied;
        busy.extend(self.external_busy(&context.organizer, busy_range).await?);
        Ok(available_slots(&settings, &busy, window, now))
    }

    /// Books a slot for an attendee; see the [module docs](self) for the
    /// steps. Returns the booking and the attendee's cancel token.
    pub async fn create_booking(
        &self,
        request: BookingRequest,
    ) -> Result<CreatedBooking, ServiceError> {
        let request = request.validate()?;
        let username = &request.organizer_username;
        let organizer_id = match self.organizer_ids.get(username) {
            Some(id) => id,
            None => {
                self.store
                    .organizer_by_username(username)
                    .await?
                    .ok_or(ServiceError::OrganizerNotFound)?
                    .id
            }
        };
        let key = SlotKey {
            organizer_id,
            start: request.time.start(),
        };
        let held = self.acquire_slot_lock(&key).await?;
        let result = match self.booking_context(username, request.time).await {
            Ok(context) => self.check_and_insert(context, request).await,
            Err(error) => Err(error),
        };
        held.release().await;
        result
    }

    /// Organizer, settings and occupied intervals around `requested`, in one
    /// store call, remembering the organizer's id for the next lock key.
    async fn booking_context(
        &self,
        username: &str,
        requested: TimeRange,
    ) -> Result<ReadyContext, ServiceError> {
        let context = self
            .store
            .booking_context(username, requested.widened(WIDEST_REACH, WIDEST_REACH))
            .await?
            .ok_or(ServiceError::OrganizerNotFound)?;
        self.organizer_ids.remember(username, context.organizer.id);
        let settings = context.settings.ok_or(ServiceError::SettingsNotFound)?;
        Ok(ReadyContext {
            organizer: context.organizer,
            settings,
            occupied: context.occupied,
        })
    }

    /// Checks the request against fresh busy time, then lets the store
    /// arbitrate with its atomic insert.
    async fn check_and_insert(
        &self,
        context: ReadyContext,
        request: ValidBookingRequest,
    ) -> Result<CreatedBooking, ServiceError> {
        let ReadyContext {
            organizer,
            settings,
            mut occupied,
        } = context;
        let reach = request
            .time
            .widened(settings.buffer_before(), settings.buffer_after());
        occupied.extend(self.external_busy(&organizer, reach).await?);
        let now = self.now();
        check_booking(&settings, request.time, &occupied, now)
            .map_err(ServiceError::SlotUnavailable)?;
        let cancel_token = SecretToken::generate().map_err(ServiceError::Randomness)?;
        let booking = self
            .store
            .insert_booking(NewBooking {
                id: BookingId::generate(),
                organizer_id: organizer.id,
                attendant_name: request.attendant_name,
                attendant_email: request.attendant_email,
                metadata: request.metadata,
                title: request.title,
                description: request.description,
                time: request.time,
                buffer_before: settings.buffer_before(),
                buffer_after: settings.buffer_after(),
                cancel_token_hash: cancel_token.hash(),
                created_at: now,
            })
            .await?;
        Ok(CreatedBooking {
            booking,
            cancel_token,
        })
    }

    /// Takes the slot lock. `Ok(None)` when the lock backend failed: the
    /// booking proceeds without it (logged), since the store is the guarantee.
    /// Takes the slot lock. When the lock backend fails the booking proceeds
    /// without it (logged), since the store is the guarantee.
    async fn acquire_slot_lock(&self, key: &SlotKey) -> Result<HeldSlot, ServiceError> {
        let guard = match self.lock.acquire(key, self.config.lock_ttl).await {
            Ok(guard) => Some(guard),
            Err(LockError::Held { .. }) => return Err(ServiceError::SlotBeingBooked),
            Err(error) => {
                tracing::warn!(
                    %key, error = %error,
                    "slot lock unavailable; booking without it (the store still refuses overlaps)"
                );
                None
            }
        };
        Ok(HeldSlot {
            lock: self.lock.clone(),
            guard,
        })
    }

    async fn external_busy(
        &self,
        organizer: &Organizer,
        range: TimeRange,
    ) -> Result<Vec<TimeRange>, ServiceError> {
        self.provider
            .busy_intervals(organizer, range)
            .await
            .map_err(ServiceError::Provider)
    }

    /// An active booking, for its organizer or the holder of its cancel token.
    /// Cancelled bookings are [`ServiceError::NotFound`], as in the seed.
    pub async fn get_booking(
        &self,
        id: BookingId,
        credential: &Credential,
    ) -> Result<Booking, ServiceError> {
        let booking = self.authorized_booking(id, credential).await?;
        if booking.is_active() {
            Ok(booking)
        } else {
            Err(ServiceError::NotFound)
        }
    }

    /// A page of the organizer's own active bookings, ordered by start.
    /// `from`/`to` are whole local days in the organizer's zone (their
    /// settings' zone, or their profile's before they have settings), both
    /// inclusive; the bounds become UTC instants before the query, so the
    /// store filters and pages in its own query language.
    pub async fn list_bookings(
        &self,
        organizer_id: OrganizerId,
        query: ListQuery,
    ) -> Result<BookingList, ServiceError> {
        let mut errors = ValidationErrors::new();
        if query.page < 1 {
            errors.add("page", "page must be 1 or more");
        }
        if query.limit < 1 {
            errors.add("limit", "limit must be 1 or more");
        }
        if let (Some(from), Some(to)) = (query.from, query.to)
            && to < from
        {
            errors.add("endDate", "endDate must not be before startDate");
        }
        errors.into_result(()).map_err(ServiceError::Validation)?;

        let limit = query.limit.min(self.config.max_page_size).max(1);
        let starts_within = match (query.from, query.to) {
            (None, None) => None,
            (from, to) => {
                let zone = self.zone_of(organizer_id).await?;
                Some(days_range(zone, from, to)?)
            }
        };
        let offset = u64::from(query.page - 1) * u64::from(limit);
        let page = self
            .store
            .list_bookings(
                organizer_id,
                BookingQuery {
                    starts_within,
                    limit,
                    offset,
                },
            )
            .await?;
        Ok(BookingList {
            bookings: page.bookings,
            page: query.page,
            limit,
            total: page.total,
            total_pages: page.total.div_ceil(u64::from(limit.max(1))),
        })
    }

    async fn zone_of(&self, organizer_id: OrganizerId) -> Result<Tz, ServiceError> {
        if let Some(settings) = self.store.settings(organizer_id).await? {
            return Ok(settings.time_zone());
        }
        let organizer = self
            .store
            .organizer_by_id(organizer_id)
            .await?
            .ok_or(ServiceError::OrganizerNotFound)?;
        Ok(organizer.time_zone)
    }

    /// Cancels (soft-deletes) a booking for its organizer or the holder of its
    /// cancel token. A second cancellation is [`ServiceError::AlreadyCancelled`].
    pub async fn cancel_booking(
        &self,
        id: BookingId,
        credential: &Credential,
    ) -> Result<Cancelled, ServiceError> {
        self.authorized_booking(id, credential).await?;
        let cancelled_at = self.now();
        let booking = self.store.cancel_booking(id, cancelled_at).await?;
        Ok(Cancelled {
            booking,
            cancelled_at,
        })
    }

    async fn authorized_booking(
        &self,
        id: BookingId,
        credential: &Credential,
    ) -> Result<Booking, ServiceError> {
        let booking = self
            .store
            .booking(id)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let allowed = match credential {
            Credential::Organizer(organizer) => *organizer == booking.organizer_id,
            Credential::CancelToken(token) => booking.cancel_token_hash.verify(token),
        };
        if allowed {
            Ok(booking)
        } else {
            Err(ServiceError::PermissionDenied)
        }
    }
}

/// Earliest and latest local dates a list may name; open ends use them.
const FIRST_LISTED_DATE: NaiveDate = NaiveDate::from_ymd_opt(1900, 1, 1).expect("a valid date");
const LAST_LISTED_DATE: NaiveDate = NaiveDate::from_ymd_opt(9999, 12, 30).expect("a valid date");

fn days_range(
    zone: Tz,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<TimeRange, ServiceError> {
    let from = from.unwrap_or(FIRST_LISTED_DATE).max(FIRST_LISTED_DATE);
    let to = to.unwrap_or(LAST_LISTED_DATE).min(LAST_LISTED_DATE);
    local_days_range(zone, from, to).ok_or_else(|| {
        ServiceError::Validation(ValidationErrors::single(
            "startDate",
            "dates must be between 1900-01-01 and 9999-12-30",
        ))
    })
}

#[cfg(test)]
mod tests;
