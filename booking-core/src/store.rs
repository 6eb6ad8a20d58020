//! The storage contract: [`BookingStore`], implemented by `MemoryStore` here
//! and by the `booking-postgres` and `booking-sqlite` crates.
//!
//! A store holds no business rules: the service decides *whether* a booking
//! should be made and what an organizer's configuration may look like. What a
//! store must decide itself is what cannot be checked from outside without a
//! race: no two active bookings of an organizer may have overlapping occupied
//! intervals, an event type's limits hold exactly, and a configuration change
//! applies only to the version it was computed from.

use std::error::Error as StdError;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::booking::{Booking, BookingId, LimitCheck, NewBooking};
use crate::event::{EventId, EventRecord, StoredEvent};
use crate::event_type::{EventType, EventTypeId, LimitPeriod, Slug};
use crate::hold::{Hold, HoldId, NewHold};
use crate::idempotency::{ClaimOutcome, IdempotencyClaim, IdempotencyCompletion, IdempotencyScope};
use crate::organizer::{NewOrganizer, Organizer, OrganizerId, OrganizerRef};
use crate::queue::{Job, JobId, JobResult, NewJob};
use crate::record::Record;
use crate::schedule::{Schedule, ScheduleId};
use crate::secret::TokenHash;
use crate::time::TimeRange;

/// A boxed error from a storage driver, kept as the source of
/// [`StoreError::Backend`].
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// What can go wrong in a store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The booking's occupied interval overlaps an active booking of the same
    /// organizer. Nothing was written.
    #[error("the requested time overlaps an existing booking")]
    Conflict,
    /// A limit of the event type would be exceeded. Nothing was written.
    #[error("the most bookings allowed per {0} has been reached")]
    LimitReached(LimitPeriod),
    /// Another organizer already has this username (ignoring ASCII case).
    #[error("the username {0:?} is already taken")]
    UsernameTaken(String),
    /// No organizer has this id.
    #[error("no organizer with id {0}")]
    OrganizerNotFound(OrganizerId),
    /// No booking has this id.
    #[error("no booking with id {0}")]
    BookingNotFound(BookingId),
    /// The booking changed (was moved or cancelled) since the version a
    /// change was computed from; nothing was written.
    #[error("booking {0} changed concurrently; read it again")]
    BookingChanged(BookingId),
    /// The client already keeps the most holds allowed on this organizer.
    #[error("too many active holds; at most {0} at a time")]
    TooManyHolds(u32),
    /// No unexpired hold has this id and token.
    #[error("no active hold {0} with this token")]
    HoldNotFound(HoldId),
    /// The booking was cancelled before; nothing changed.
    #[error("booking {id} was already cancelled at {cancelled_at}")]
    AlreadyCancelled {
        /// The booking.
        id: BookingId,
        /// When it was first cancelled.
        cancelled_at: DateTime<Utc>,
    },
    /// The organizer's configuration changed since the version a change was
    /// computed from; nothing was written. Read it again and retry.
    #[error("the configuration changed concurrently; read it again and retry")]
    ConfigChanged,
    /// Another event type of the organizer has this slug.
    #[error("the slug {0:?} is already used by another event type")]
    SlugTaken(String),
    /// An event type still uses this schedule.
    #[error("schedule {0} is used by an event type")]
    ScheduleInUse(ScheduleId),
    /// The value is outside what this store can hold (for example an
    /// occupied interval longer than three days: meeting and buffers are at
    /// most a day each); nothing was written, and retrying cannot help.
    #[error("this store cannot hold the value: {0}")]
    Unstorable(String),
    /// Stored data could not be read back into valid domain values (for
    /// example a row edited by hand).
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    /// The database or driver failed (connection lost, timeout, ...). The
    /// operation may be retried.
    #[error("storage backend failed: {0}")]
    Backend(#[source] BoxError),
}

impl StoreError {
    /// Wraps a driver error, keeping it as the source.
    pub fn backend(error: impl Into<BoxError>) -> Self {
        StoreError::Backend(error.into())
    }
}

/// An organizer's schedules and event types, with the version they were
/// read at.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OrganizerConfig {
    /// Bumped by every [`BookingStore::update_config`]; 0 before the first.
    pub version: u64,
    /// The schedules, ordered by id (creation).
    pub schedules: Vec<Schedule>,
    /// The event types, ordered by id (creation).
    pub event_types: Vec<EventType>,
}

impl OrganizerConfig {
    /// The default schedule, if any.
    pub fn default_schedule(&self) -> Option<&Schedule> {
        self.schedules.iter().find(|s| s.is_default)
    }

    /// The schedule with this id.
    pub fn schedule(&self, id: ScheduleId) -> Option<&Schedule> {
        self.schedules.iter().find(|s| s.id == id)
    }

    /// The event type with this slug.
    pub fn event_type(&self, slug: &str) -> Option<&EventType> {
        self.event_types.iter().find(|e| e.slug == *slug)
    }

    /// The schedule `event_type` uses: its own, or the default.
    pub fn schedule_of(&self, event_type: &EventType) -> Option<&Schedule> {
        match event_type.schedule_id {
            Some(id) => self.schedule(id),
            None => self.default_schedule(),
        }
    }
}

/// One write of [`BookingStore::update_config`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigChange {
    /// Inserts the schedule, or replaces the one with its id.
    PutSchedule(Schedule),
    /// Deletes the schedule with this id (nothing if there is none).
    DeleteSchedule(ScheduleId),
    /// Inserts the event type, or replaces the one with its id.
    PutEventType(EventType),
    /// Deletes the event type with this id (nothing if there is none); its
    /// bookings stay, with no event type id.
    DeleteEventType(EventTypeId),
}

/// Which page of an organizer's bookings to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BookingQuery {
    /// Only bookings whose **start** lies in this range; `None` for all.
    pub starts_within: Option<TimeRange>,
    /// Also bookings cancelled at or after this instant (for a calendar
    /// feed that shows recent cancellations); `None` for active ones only.
    pub cancelled_since: Option<DateTime<Utc>>,
    /// Page size; stores return at most this many.
    pub limit: u32,
    /// How many matching bookings to skip.
    pub offset: u64,
}

/// One page of bookings plus how many match the query in all (active ones,
/// and cancelled ones too with [`BookingQuery::cancelled_since`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingPage {
    /// The page, ordered by start time, then id.
    pub bookings: Vec<Booking>,
    /// How many bookings match the query, across all pages.
    pub total: u64,
}

/// What [`BookingStore::booking_context`] reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextQuery {
    /// The organizer.
    pub organizer: OrganizerRef,
    /// The event type's slug.
    pub event_type: Slug,
    /// Occupied intervals overlapping this range are returned.
    pub occupied_within: TimeRange,
    /// Starts of the event type's active bookings in this range are returned
    /// when the event type has limits.
    pub counted_within: TimeRange,
    /// The instant of the decision: holds expired by then count for nothing.
    pub now: DateTime<Utc>,
}

/// A booking's move to a new time, as a store applies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reschedule {
    /// The booking.
    pub id: BookingId,
    /// Its organizer.
    pub organizer_id: OrganizerId,
    /// The sequence the move was decided on; the store refuses with
    /// [`StoreError::BookingChanged`] if the booking moved on since.
    pub expected_sequence: u32,
    /// The new meeting time.
    pub time: TimeRange,
    /// The buffer before, from its event type now.
    pub buffer_before: chrono::Duration,
    /// The buffer after, from its event type now.
    pub buffer_after: chrono::Duration,
    /// Limit checks for the new time; the booking itself does not count.
    pub limits: Vec<LimitCheck>,
    /// The instant of the move (`updated_at`; holds expired by then count
    /// for nothing).
    pub at: DateTime<Utc>,
    /// The event to write in the same atomic step.
    pub event: Option<EventRecord>,
}

/// A booking's cancellation, as a store applies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cancellation {
    /// The booking.
    pub id: BookingId,
    /// Its organizer: stores address the booking by both, so a distributed
    /// planner (Citus, distributed by `organizer_id`) routes the statement to
    /// one shard. A booking of another organizer is
    /// [`StoreError::BookingNotFound`].
    pub organizer_id: OrganizerId,
    /// The instant (`deleted_at` and `updated_at`).
    pub at: DateTime<Utc>,
    /// The sequence the cancellation was decided on, if it matters (the
    /// event describes that version): [`StoreError::BookingChanged`] when
    /// the booking moved on since.
    pub expected_sequence: Option<u32>,
    /// The event to write in the same atomic step.
    pub event: Option<EventRecord>,
}

impl Cancellation {
    /// Cancels `id` of `organizer_id` at `at`, whatever its version,
    /// writing no event.
    pub fn new(id: BookingId, organizer_id: OrganizerId, at: DateTime<Utc>) -> Self {
        Cancellation {
            id,
            organizer_id,
            at,
            expected_sequence: None,
            event: None,
        }
    }
}

/// Everything needed to decide on a booking or list slots, fetched together
/// so a database store can do it in one round trip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingContext {
    /// The organizer.
    pub organizer: Organizer,
    /// The version of their configuration this was read at.
    pub config_version: u64,
    /// The event type with the slug asked for, if there is one.
    pub event_type: Option<EventType>,
    /// The schedule that event type uses (its own or the default), if both
    /// exist.
    pub schedule: Option<Schedule>,
    /// Occupied intervals of the organizer's active bookings (any event
    /// type) that overlap [`ContextQuery::occupied_within`], ordered by start
    /// (then end).
    pub occupied: Vec<TimeRange>,
    /// Starts of the event type's active bookings within
    /// [`ContextQuery::counted_within`], when it has limits; otherwise empty.
    pub booked: Vec<DateTime<Utc>>,
}

/// Persistent storage of organizers, their configuration and bookings.
///
/// # Contract
///
/// **[`insert_booking`](BookingStore::insert_booking) is the final arbiter
/// against double booking.** It must atomically refuse a booking whose
/// occupied interval (`[start - buffer_before, end + buffer_after)`) overlaps
/// the occupied interval of an active (not cancelled) booking of the same
/// organizer, of any event type, even when many callers in many processes
/// insert at once, and report that with [`StoreError::Conflict`], writing
/// nothing. In the same atomic step it checks the booking's
/// [`limits`](NewBooking::limits): at most `max` active bookings of its event
/// type may start in each range, the new one included, or
/// [`StoreError::LimitReached`]. Locks and availability checks in front of it
/// are only early refusals; correctness must never depend on them.
///
/// Other rules every implementation follows (the `testkit` conformance suite
/// checks each one):
///
/// * intervals are half-open, so occupied intervals that only touch do not conflict;
/// * cancelled bookings occupy nothing and count against no limit;
/// * an unexpired [`Hold`] (its `expires_at` after the operation's instant)
///   occupies its slot and counts against its event type's limits exactly
///   like a booking, in every check above and in every read of occupied
///   time or counted starts; an expired one counts for nothing, with no
///   clean-up needed first;
/// * [`reschedule_booking`](BookingStore::reschedule_booking) moves a
///   booking in one atomic step with the same checks as an insert (the
///   booking's own old time does not block its new one): either it is at
///   the new time or unchanged at the old one;
/// * [`cancel_booking`](BookingStore::cancel_booking) is a soft delete that
///   succeeds once and adds one to the booking's `sequence`; a second call
///   reports [`StoreError::AlreadyCancelled`];
/// * an idempotency key is claimed by one caller at a time, and a booking
///   inserted with an [`IdempotencyCompletion`] completes it atomically;
/// * a booking change that carries an [`EventRecord`] writes it in the same
///   atomic step (and not at all when the change is refused); dispatching
///   writes jobs and marks events in one step, one job per queue, event and
///   target; a job is claimed by one worker at a time (a lease), in order
///   per (queue, booking, target);
/// * usernames are unique ignoring ASCII case; lookups by username prefer an
///   exact match, then ignore ASCII case;
/// * [`update_config`](BookingStore::update_config) applies all its changes
///   or none, and only while the configuration is still at the expected
///   version ([`StoreError::ConfigChanged`] otherwise); every change, in
///   order, must leave the configuration valid (unique slugs, at most one
///   default schedule, no event type naming a missing schedule), which the
///   service's changes always do;
/// * a booking with a [`config_version`](NewBooking::config_version) is
///   inserted only while the organizer's configuration is at that version,
///   checked in the same atomic step as the overlap (a configuration change
///   committed before the insert refuses it with
///   [`StoreError::ConfigChanged`]; one racing it is ordered before or after
///   it, never half-seen), so a decision taken on a cached configuration
///   never outlives a change made elsewhere;
/// * a booking whose event type no longer exists when it is inserted is
///   stored without an event type id (as bookings of a deleted event type
///   are), keeping its slug;
/// * a store may refuse values outside core's limits (an occupied interval
///   over three days, a second default schedule) with
///   [`StoreError::Unstorable`]; a reused booking id or an unknown job is
///   [`StoreError::Corrupt`] (ids are never reused);
/// * every instant an operation compares with (`now`, `created_at`, `at`)
///   is the service's clock, never the database's;
/// * listing pages and counts in the store itself, never by loading every row;
/// * an operation that fails writes nothing;
/// * instants are kept to at least millisecond precision (the service only
///   writes whole milliseconds), and text and metadata verbatim.
///
/// Implementations are `Send + Sync` and used as `Arc<dyn BookingStore>`.
#[async_trait]
pub trait BookingStore: Send + Sync {
    /// Checks that the store can serve requests now (for readiness probes):
    /// a cheap round trip to the database. Database stores override it with
    /// a check of their own (PostgreSQL: `SELECT 1`; SQLite: that the file
    /// can take a write lock). The default performs one cheap read.
    async fn check_health(&self) -> Result<(), StoreError> {
        self.organizer_by_username("").await.map(|_| ())
    }

    /// Registers an organizer; [`StoreError::UsernameTaken`] when the username
    /// is in use, ignoring ASCII case.
    async fn create_organizer(
        &self,
        id: OrganizerId,
        organizer: NewOrganizer,
        api_token_hash: TokenHash,
        created_at: DateTime<Utc>,
    ) -> Result<Organizer, StoreError>;

    /// The organizer with this id.
    async fn organizer_by_id(&self, id: OrganizerId) -> Result<Option<Organizer>, StoreError>;

    /// The organizer with this username: an exact match if there is one,
    /// else the one whose username equals it ignoring ASCII case.
    async fn organizer_by_username(&self, username: &str) -> Result<Option<Organizer>, StoreError>;

    /// The organizer whose API token hashes to `hash`.
    async fn organizer_by_token_hash(
        &self,
        hash: &TokenHash,
    ) -> Result<Option<Organizer>, StoreError>;

    /// The organizer named by `organizer`, by id or username.
    async fn organizer(&self, organizer: &OrganizerRef) -> Result<Option<Organizer>, StoreError> {
        match organizer {
            OrganizerRef::Id(id) => self.organizer_by_id(*id).await,
            OrganizerRef::Username(name) => self.organizer_by_username(name).await,
        }
    }

    /// The organizer's schedules and event types and their version; `None`
    /// for an unknown organizer.
    async fn organizer_config(
        &self,
        organizer: OrganizerId,
    ) -> Result<Option<OrganizerConfig>, StoreError>;

    /// Applies `changes` in order, all or none, if the organizer's
    /// configuration is still at `expected_version`, and returns the new
    /// version (`expected_version + 1`).
    ///
    /// Errors: [`StoreError::ConfigChanged`] when the version moved on,
    /// [`StoreError::OrganizerNotFound`]; as backstops of the service's own
    /// checks, [`StoreError::SlugTaken`] and [`StoreError::ScheduleInUse`].
    async fn update_config(
        &self,
        organizer: OrganizerId,
        expected_version: u64,
        changes: Vec<ConfigChange>,
    ) -> Result<u64, StoreError>;

    /// Organizer, configuration version, event type, its schedule, occupied
    /// intervals and counted starts, for one booking decision or slot list;
    /// `None` when there is no such organizer.
    ///
    /// The default composes the single-purpose methods; database stores
    /// override it to answer in one round trip, since it sits on the booking
    /// hot path.
    async fn booking_context(
        &self,
        query: &ContextQuery,
    ) -> Result<Option<BookingContext>, StoreError> {
        let Some(organizer) = self.organizer(&query.organizer).await? else {
            return Ok(None);
        };
        let config = self
            .organizer_config(organizer.id)
            .await?
            .unwrap_or_default();
        let event_type = config.event_type(query.event_type.as_str()).cloned();
        let schedule = event_type
            .as_ref()
            .and_then(|e| config.schedule_of(e))
            .cloned();
        let occupied = self
            .occupied_intervals(organizer.id, query.occupied_within, query.now)
            .await?;
        let booked = match &event_type {
            Some(e) if e.limits.any() => {
                self.booked_starts(organizer.id, e.id, query.counted_within, query.now)
                    .await?
            }
            _ => Vec::new(),
        };
        Ok(Some(BookingContext {
            organizer,
            config_version: config.version,
            event_type,
            schedule,
            occupied,
            booked,
        }))
    }

    /// Inserts a booking unless its occupied interval overlaps an active
    /// booking or unexpired hold of the same organizer (at the booking's
    /// `created_at`) or one of its limit checks fails, atomically. With
    /// [`replaces_hold`](NewBooking::replaces_hold), that hold (which must
    /// still be unexpired, else [`StoreError::HoldNotFound`]) ends in the same
    /// step and does not block the booking; with
    /// [`idempotency`](NewBooking::idempotency), the claimed key is completed
    /// in the same step. See the trait's contract.
    ///
    /// Errors: [`StoreError::Conflict`] on overlap,
    /// [`StoreError::LimitReached`] for a limit,
    /// [`StoreError::OrganizerNotFound`] for an unknown organizer,
    /// [`StoreError::ConfigChanged`] when the configuration is no longer at
    /// the booking's [`config_version`](NewBooking::config_version).
    async fn insert_booking(&self, booking: NewBooking) -> Result<Booking, StoreError>;

    /// Moves an active booking to a new time, atomically, with the same
    /// overlap and limit checks as an insert, the booking itself excluded;
    /// adds one to its `sequence`, sets `rescheduled_from` to the old time,
    /// the buffers and `updated_at`. Returns the moved booking.
    ///
    /// Errors: [`StoreError::Conflict`], [`StoreError::LimitReached`],
    /// [`StoreError::BookingNotFound`], [`StoreError::AlreadyCancelled`],
    /// [`StoreError::BookingChanged`] when its sequence is no longer the
    /// expected one.
    async fn reschedule_booking(&self, change: Reschedule) -> Result<Booking, StoreError>;

    /// Inserts a hold with the same atomic checks as a booking of its slot
    /// (overlap with bookings and unexpired holds at `created_at`, limits),
    /// plus the per-client cap ([`StoreError::TooManyHolds`]).
    async fn insert_hold(&self, hold: NewHold) -> Result<Hold, StoreError>;

    /// The hold whose token hashes to `hash`, expired or not. Hold tokens
    /// are random, so their hashes are unique.
    async fn hold_by_token_hash(&self, hash: &TokenHash) -> Result<Option<Hold>, StoreError>;

    /// Ends a hold early, given its token's hash; [`StoreError::HoldNotFound`]
    /// when no unexpired hold has this id and token at `at`.
    async fn release_hold(
        &self,
        id: HoldId,
        token_hash: &TokenHash,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// Claims an idempotency key (see [`crate::idempotency`]): free, expired
    /// or stale keys are claimed; a pending claim is [`ClaimOutcome::InProgress`]
    /// (or a [`ClaimOutcome::Mismatch`] with another fingerprint); a finished
    /// one is [`ClaimOutcome::Done`] with its outcome, or a mismatch.
    async fn claim_idempotency_key(
        &self,
        claim: &IdempotencyClaim,
    ) -> Result<ClaimOutcome, StoreError>;

    /// Records the outcome of a claimed key (finishing it).
    async fn complete_idempotency_key(
        &self,
        completion: &IdempotencyCompletion,
    ) -> Result<(), StoreError>;

    /// Forgets a pending claim, so that a retry runs again.
    async fn abandon_idempotency_key(&self, scope: &IdempotencyScope) -> Result<(), StoreError>;

    /// Deletes idempotency records and holds expired before `now`, returning
    /// how many rows went. Never needed for correctness; it only keeps the
    /// tables small (a service runs it now and then).
    async fn purge_expired(&self, now: DateTime<Utc>) -> Result<u64, StoreError>;

    /// The booking with this id, active or cancelled.
    async fn booking(&self, id: BookingId) -> Result<Option<Booking>, StoreError>;

    /// A page of an organizer's active bookings (and, with
    /// [`BookingQuery::cancelled_since`], recently cancelled ones) ordered by
    /// start (then id), and the total number matching. Holds are never
    /// bookings.
    async fn list_bookings(
        &self,
        organizer: OrganizerId,
        query: BookingQuery,
    ) -> Result<BookingPage, StoreError>;

    /// Occupied intervals (meeting plus its buffers) of the organizer's active
    /// bookings and holds unexpired at `now` that overlap `range`, ordered by
    /// start (then end): the availability engine's sort then costs one
    /// linear pass.
    async fn occupied_intervals(
        &self,
        organizer: OrganizerId,
        range: TimeRange,
        now: DateTime<Utc>,
    ) -> Result<Vec<TimeRange>, StoreError>;

    /// Starts of the active bookings and unexpired holds of `event_type`
    /// (one of `organizer`'s) that start in `range`, ascending: what its
    /// limits count.
    async fn booked_starts(
        &self,
        organizer: OrganizerId,
        event_type: EventTypeId,
        range: TimeRange,
        now: DateTime<Utc>,
    ) -> Result<Vec<DateTime<Utc>>, StoreError>;

    /// Soft-deletes a booking: sets `deleted_at` and `updated_at` to `at`,
    /// adds one to `sequence`, writes the cancellation's event, and returns
    /// the cancelled booking. [`StoreError::AlreadyCancelled`] if it was
    /// cancelled before (nothing changes), [`StoreError::BookingNotFound`] if
    /// there is no such booking or it is not
    /// [`Cancellation::organizer_id`]'s, [`StoreError::BookingChanged`] if its
    /// sequence is not the expected one.
    async fn cancel_booking(&self, cancel: Cancellation) -> Result<Booking, StoreError>;

    /// Replaces an organizer's API token hash (token rotation).
    async fn set_api_token_hash(
        &self,
        organizer: OrganizerId,
        hash: TokenHash,
    ) -> Result<(), StoreError>;

    /// Events with a sequence number above `after`, ascending, at most
    /// `limit`, dispatched or not: for inspection and tests. (Under
    /// concurrent writers a later number may commit before an earlier one,
    /// so consumers take events through [`dispatch_events`](Self::dispatch_events)
    /// and the job queue, never by a cursor on numbers.)
    async fn events_after(&self, after: u64, limit: u32) -> Result<Vec<StoredEvent>, StoreError>;

    /// Up to `limit` events not yet dispatched, oldest first.
    async fn undispatched_events(&self, limit: u32) -> Result<Vec<StoredEvent>, StoreError>;

    /// In one atomic step, inserts `jobs` (a job whose queue, event and
    /// target already exist is skipped, so two dispatchers of the same
    /// events enqueue each job once) and marks the events `dispatched`.
    /// Returns how many of them were still undispatched.
    async fn dispatch_events(
        &self,
        dispatched: &[EventId],
        jobs: Vec<NewJob>,
    ) -> Result<usize, StoreError>;

    /// Claims up to `limit` jobs of `queue` due at `now` that no one holds:
    /// each gets one more attempt and is leased until `lease_until` (another
    /// claim skips it until then; a worker that dies lets it lapse). A job is
    /// skipped while an older job of the same queue, booking and target is
    /// still pending.
    async fn claim_jobs(
        &self,
        queue: &str,
        now: DateTime<Utc>,
        limit: u32,
        lease_until: DateTime<Utc>,
    ) -> Result<Vec<Job>, StoreError>;

    /// Records an attempt's outcome: done, a retry at a time (the lease
    /// ends), or dead.
    async fn finish_job(
        &self,
        id: JobId,
        result: JobResult,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// An organizer's jobs of `queue`, newest first, at most `limit`; only
    /// those of `target` when given.
    async fn jobs(
        &self,
        organizer: OrganizerId,
        queue: &str,
        target: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Job>, StoreError>;

    /// Inserts or replaces the record of this kind and id.
    /// [`StoreError::Conflict`] when another record of the kind has the same
    /// lookup key.
    async fn put_record(&self, record: Record) -> Result<(), StoreError>;

    /// The record of this kind and id, expired or not.
    async fn record(&self, kind: &str, id: &str) -> Result<Option<Record>, StoreError>;

    /// The record of this kind with this lookup key, unless expired at `now`.
    async fn record_by_lookup(
        &self,
        kind: &str,
        lookup: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Record>, StoreError>;

    /// An organizer's records of this kind not expired at `now`, oldest first.
    async fn records(
        &self,
        organizer: OrganizerId,
        kind: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<Record>, StoreError>;

    /// Deletes the record of this kind and id; whether there was one.
    async fn delete_record(&self, kind: &str, id: &str) -> Result<bool, StoreError>;
}

/// A shared store is a store, so `BookingService::new` takes an
/// `Arc<dyn BookingStore>` chosen at run time as readily as a concrete one.
#[async_trait]
impl<S: BookingStore + ?Sized> BookingStore for std::sync::Arc<S> {
    async fn check_health(&self) -> Result<(), StoreError> {
        (**self).check_health().await
    }
    async fn create_organizer(
        &self,
        id: OrganizerId,
        organizer: NewOrganizer,
        api_token_hash: TokenHash,
        created_at: DateTime<Utc>,
    ) -> Result<Organizer, StoreError> {
        (**self)
            .create_organizer(id, organizer, api_token_hash, created_at)
            .await
    }
    async fn organizer_by_id(&self, id: OrganizerId) -> Result<Option<Organizer>, StoreError> {
        (**self).organizer_by_id(id).await
    }
    async fn organizer_by_username(&self, username: &str) -> Result<Option<Organizer>, StoreError> {
        (**self).organizer_by_username(username).await
    }
    async fn organizer_by_token_hash(
        &self,
        hash: &TokenHash,
    ) -> Result<Option<Organizer>, StoreError> {
        (**self).organizer_by_token_hash(hash).await
    }
    async fn organizer(&self, organizer: &OrganizerRef) -> Result<Option<Organizer>, StoreError> {
        (**self).organizer(organizer).await
    }
    async fn organizer_config(
        &self,
        organizer: OrganizerId,
    ) -> Result<Option<OrganizerConfig>, StoreError> {
        (**self).organizer_config(organizer).await
    }
    async fn update_config(
        &self,
        organizer: OrganizerId,
        expected_version: u64,
        changes: Vec<ConfigChange>,
    ) -> Result<u64, StoreError> {
        (**self)
            .update_config(organizer, expected_version, changes)
            .await
    }
    async fn booking_context(
        &self,
        query: &ContextQuery,
    ) -> Result<Option<BookingContext>, StoreError> {
        (**self).booking_context(query).await
    }
    async fn insert_booking(&self, booking: NewBooking) -> Result<Booking, StoreError> {
        (**self).insert_booking(booking).await
    }
    async fn reschedule_booking(&self, change: Reschedule) -> Result<Booking, StoreError> {
        (**self).reschedule_booking(change).await
    }
    async fn insert_hold(&self, hold: NewHold) -> Result<Hold, StoreError> {
        (**self).insert_hold(hold).await
    }
    async fn hold_by_token_hash(&self, hash: &TokenHash) -> Result<Option<Hold>, StoreError> {
        (**self).hold_by_token_hash(hash).await
    }
    async fn release_hold(
        &self,
        id: HoldId,
        token_hash: &TokenHash,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        (**self).release_hold(id, token_hash, at).await
    }
    async fn claim_idempotency_key(
        &self,
        claim: &IdempotencyClaim,
    ) -> Result<ClaimOutcome, StoreError> {
        (**self).claim_idempotency_key(claim).await
    }
    async fn complete_idempotency_key(
        &self,
        completion: &IdempotencyCompletion,
    ) -> Result<(), StoreError> {
        (**self).complete_idempotency_key(completion).await
    }
    async fn abandon_idempotency_key(&self, scope: &IdempotencyScope) -> Result<(), StoreError> {
        (**self).abandon_idempotency_key(scope).await
    }
    async fn purge_expired(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        (**self).purge_expired(now).await
    }
    async fn booking(&self, id: BookingId) -> Result<Option<Booking>, StoreError> {
        (**self).booking(id).await
    }
    async fn list_bookings(
        &self,
        organizer: OrganizerId,
        query: BookingQuery,
    ) -> Result<BookingPage, StoreError> {
        (**self).list_bookings(organizer, query).await
    }
    async fn occupied_intervals(
        &self,
        organizer: OrganizerId,
        range: TimeRange,
        now: DateTime<Utc>,
    ) -> Result<Vec<TimeRange>, StoreError> {
        (**self).occupied_intervals(organizer, range, now).await
    }
    async fn booked_starts(
        &self,
        organizer: OrganizerId,
        event_type: EventTypeId,
        range: TimeRange,
        now: DateTime<Utc>,
    ) -> Result<Vec<DateTime<Utc>>, StoreError> {
        (**self)
            .booked_starts(organizer, event_type, range, now)
            .await
    }
    async fn cancel_booking(&self, cancel: Cancellation) -> Result<Booking, StoreError> {
        (**self).cancel_booking(cancel).await
    }
    async fn set_api_token_hash(
        &self,
        organizer: OrganizerId,
        hash: TokenHash,
    ) -> Result<(), StoreError> {
        (**self).set_api_token_hash(organizer, hash).await
    }
    async fn events_after(&self, after: u64, limit: u32) -> Result<Vec<StoredEvent>, StoreError> {
        (**self).events_after(after, limit).await
    }
    async fn undispatched_events(&self, limit: u32) -> Result<Vec<StoredEvent>, StoreError> {
        (**self).undispatched_events(limit).await
    }
    async fn dispatch_events(
        &self,
        dispatched: &[EventId],
        jobs: Vec<NewJob>,
    ) -> Result<usize, StoreError> {
        (**self).dispatch_events(dispatched, jobs).await
    }
    async fn claim_jobs(
        &self,
        queue: &str,
        now: DateTime<Utc>,
        limit: u32,
        lease_until: DateTime<Utc>,
    ) -> Result<Vec<Job>, StoreError> {
        (**self).claim_jobs(queue, now, limit, lease_until).await
    }
    async fn finish_job(
        &self,
        id: JobId,
        result: JobResult,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        (**self).finish_job(id, result, now).await
    }
    async fn jobs(
        &self,
        organizer: OrganizerId,
        queue: &str,
        target: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Job>, StoreError> {
        (**self).jobs(organizer, queue, target, limit).await
    }
    async fn put_record(&self, record: Record) -> Result<(), StoreError> {
        (**self).put_record(record).await
    }
    async fn record(&self, kind: &str, id: &str) -> Result<Option<Record>, StoreError> {
        (**self).record(kind, id).await
    }
    async fn record_by_lookup(
        &self,
        kind: &str,
        lookup: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Record>, StoreError> {
        (**self).record_by_lookup(kind, lookup, now).await
    }
    async fn records(
        &self,
        organizer: OrganizerId,
        kind: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<Record>, StoreError> {
        (**self).records(organizer, kind, now).await
    }
    async fn delete_record(&self, kind: &str, id: &str) -> Result<bool, StoreError> {
        (**self).delete_record(kind, id).await
    }
}
