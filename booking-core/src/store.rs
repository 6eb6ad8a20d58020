//! The storage contract: [`BookingStore`], implemented by `MemoryStore` here
//! and by the `booking-postgres` and `booking-sqlite` crates.
//!
//! A store holds no business rules: the service decides *whether* a booking
//! should be made. The one rule a store must enforce itself is the one that
//! cannot be checked from outside without a race: no two active bookings of an
//! organizer may have overlapping occupied intervals.

use std::error::Error as StdError;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::booking::{Booking, BookingId, NewBooking};
use crate::organizer::{NewOrganizer, Organizer, OrganizerId, OrganizerSettings};
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
    /// Another organizer already has this username.
    #[error("the username {0:?} is already taken")]
    UsernameTaken(String),
    /// No organizer has this id.
    #[error("no organizer with id {0}")]
    OrganizerNotFound(OrganizerId),
    /// No booking has this id.
    #[error("no booking with id {0}")]
    BookingNotFound(BookingId),
    /// The booking was cancelled before; nothing changed.
    #[error("booking {id} was already cancelled at {cancelled_at}")]
    AlreadyCancelled {
        /// The booking.
        id: BookingId,
        /// When it was first cancelled.
        cancelled_at: DateTime<Utc>,
    },
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

/// Which page of an organizer's bookings to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BookingQuery {
    /// Only bookings whose **start** lies in this range; `None` for all.
    pub starts_within: Option<TimeRange>,
    /// Page size; stores return at most this many.
    pub limit: u32,
    /// How many matching bookings to skip.
    pub offset: u64,
}

/// One page of bookings plus how many match in all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingPage {
    /// The page, ordered by start time, then id.
    pub bookings: Vec<Booking>,
    /// How many active bookings match the query, across all pages.
    pub total: u64,
}

/// Everything needed to decide on a booking, fetched together so a database
/// store can do it in one round trip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingContext {
    /// The organizer.
    pub organizer: Organizer,
    /// Their settings, if they have saved any.
    pub settings: Option<OrganizerSettings>,
    /// Occupied intervals of their active bookings that overlap the range
    /// asked for, ordered by start (then end).
    pub occupied: Vec<TimeRange>,
}

/// Persistent storage of organizers, their settings and bookings.
///
/// # Contract
///
/// **[`insert_booking`](BookingStore::insert_booking) is the final arbiter
/// against double booking.** It must atomically refuse a booking whose
/// occupied interval (`[start - buffer_before, end + buffer_after)`) overlaps
/// the occupied interval of an active (not cancelled) booking of the same
/// organizer, even when many callers in many processes insert at once, and
/// report that with [`StoreError::Conflict`], writing nothing. Locks and
/// availability checks in front of it are only early refusals; correctness
/// must never depend on them.
///
/// Other rules every implementation follows (the `testkit` conformance suite
/// checks each one):
///
/// * intervals are half-open, so occupied intervals that only touch do not conflict;
/// * cancelled bookings occupy nothing;
/// * [`cancel_booking`](BookingStore::cancel_booking) is a soft delete that
///   succeeds once; a second call reports [`StoreError::AlreadyCancelled`];
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
    /// is in use (compared exactly).
    async fn create_organizer(
        &self,
        id: OrganizerId,
        organizer: NewOrganizer,
        api_token_hash: TokenHash,
        created_at: DateTime<Utc>,
    ) -> Result<Organizer, StoreError>;

    /// The organizer with this id.
    async fn organizer_by_id(&self, id: OrganizerId) -> Result<Option<Organizer>, StoreError>;

    /// The organizer with this username.
    async fn organizer_by_username(&self, username: &str) -> Result<Option<Organizer>, StoreError>;

    /// The organizer whose API token hashes to `hash`.
    async fn organizer_by_token_hash(
        &self,
        hash: &TokenHash,
    ) -> Result<Option<Organizer>, StoreError>;

    /// Saves (creates or replaces) an organizer's settings;
    /// [`StoreError::OrganizerNotFound`] for an unknown organizer.
    async fn put_settings(
        &self,
        organizer: OrganizerId,
        settings: &OrganizerSettings,
    ) -> Result<(), StoreError>;

    /// An organizer's settings, `None` if never saved.
    async fn settings(
        &self,
        organizer: OrganizerId,
    ) -> Result<Option<OrganizerSettings>, StoreError>;

    /// Organizer, settings and occupied intervals overlapping `range`, for the
    /// organizer with this username; `None` when there is no such organizer.
    ///
    /// The default composes the single-purpose methods; database stores
    /// override it to answer in one round trip, since it sits on the booking
    /// hot path.
    async fn booking_context(
        &self,
        username: &str,
        range: TimeRange,
    ) -> Result<Option<BookingContext>, StoreError> {
        let Some(organizer) = self.organizer_by_username(username).await? else {
            return Ok(None);
        };
        let settings = self.settings(organizer.id).await?;
        let occupied = self.occupied_intervals(organizer.id, range).await?;
        Ok(Some(BookingContext {
            organizer,
            settings,
            occupied,
        }))
    }

    /// Inserts a booking unless its occupied interval overlaps an active
    /// booking of the same organizer, atomically. See the trait's contract.
    ///
    /// Errors: [`StoreError::Conflict`] on overlap,
    /// [`StoreError::OrganizerNotFound`] for an unknown organizer.
    async fn insert_booking(&self, booking: NewBooking) -> Result<Booking, StoreError>;

    /// The booking with this id, active or cancelled.
    async fn booking(&self, id: BookingId) -> Result<Option<Booking>, StoreError>;

    /// A page of an organizer's active bookings ordered by start (then id),
    /// and the total number matching.
    async fn list_bookings(
        &self,
        organizer: OrganizerId,
        query: BookingQuery,
    ) -> Result<BookingPage, StoreError>;

    /// Occupied intervals (meeting plus its buffers) of the organizer's active
    /// bookings that overlap `range`, ordered by start (then end): the
    /// availability engine's sort then costs one linear pass.
    async fn occupied_intervals(
        &self,
        organizer: OrganizerId,
        range: TimeRange,
    ) -> Result<Vec<TimeRange>, StoreError>;

    /// Soft-deletes a booking: sets `deleted_at` and `updated_at` to `at` and
    /// returns the cancelled booking. [`StoreError::AlreadyCancelled`] if it
    /// was cancelled before (nothing changes), [`StoreError::BookingNotFound`]
    /// if there is no such booking.
    async fn cancel_booking(&self, id: BookingId, at: DateTime<Utc>)
    -> Result<Booking, StoreError>;
}
