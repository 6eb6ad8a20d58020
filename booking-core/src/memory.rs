//! In-memory backends: [`MemoryStore`] and [`MemoryLock`], for tests, demos
//! and single-process applications that need no persistence.
//!
//! Both keep all state behind one `std::sync::Mutex` and never hold it across
//! an `.await`, so every operation is one critical section: in particular the
//! overlap check and the insert of [`MemoryStore::insert_booking`] cannot be
//! interleaved with another insert. Every critical section checks everything
//! before it changes anything, so a panic elsewhere cannot leave a half-done
//! write, and a poisoned mutex is safely recovered.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::booking::{Booking, BookingId, NewBooking};
use crate::lock::{LockError, LockGuard, Release, SlotKey, SlotLock};
use crate::organizer::{NewOrganizer, Organizer, OrganizerId, OrganizerSettings};
use crate::secret::{SecretToken, TokenHash};
use crate::store::{BookingPage, BookingQuery, BookingStore, StoreError};
use crate::time::TimeRange;

fn lock_state<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[derive(Default)]
struct StoreState {
    organizers: HashMap<OrganizerId, Organizer>,
    settings: HashMap<OrganizerId, OrganizerSettings>,
    bookings: HashMap<BookingId, Booking>,
    /// Each organizer's booking ids, so per-organizer reads and the overlap
    /// check never scan other organizers' bookings.
    by_organizer: HashMap<OrganizerId, Vec<BookingId>>,
}

impl StoreState {
    fn active_bookings(&self, organizer: OrganizerId) -> impl Iterator<Item = &Booking> {
        self.by_organizer
            .get(&organizer)
            .into_iter()
            .flatten()
            .filter_map(|id| self.bookings.get(id))
            .filter(|b| b.is_active())
    }
}

/// A [`BookingStore`] in process memory. Cheap to create; cloning is not
/// provided, share it with `Arc`.
///
/// ```
/// use std::sync::Arc;
/// use booking_core::memory::MemoryStore;
/// use booking_core::store::BookingStore;
///
/// let store: Arc<dyn BookingStore> = Arc::new(MemoryStore::new());
/// ```
#[derive(Default)]
pub struct MemoryStore {
    state: Mutex<StoreState>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = lock_state(&self.state);
        f.debug_struct("MemoryStore")
            .field("organizers", &state.organizers.len())
            .field("bookings", &state.bookings.len())
            .finish()
    }
}

#[async_trait]
impl BookingStore for MemoryStore {
    async fn create_organizer(
        &self,
        id: OrganizerId,
        organizer: NewOrganizer,
        api_token_hash: TokenHash,
        created_at: DateTime<Utc>,
    ) -> Result<Organizer, StoreError> {
        let mut state = lock_state(&self.state);
        if state
            .organizers
            .values()
            .any(|o| o.username == organizer.username)
        {
            return Err(StoreError::UsernameTaken(organizer.username));
        }
        let organizer = Organizer::from_new(id, organizer, api_token_hash, created_at);
        state.organizers.insert(id, organizer.clone());
        Ok(organizer)
    }

    async fn organizer_by_id(&self, id: OrganizerId) -> Result<Option<Organizer>, StoreError> {
        Ok(lock_state(&self.state).organizers.get(&id).cloned())
    }

    async fn organizer_by_username(&self, username: &str) -> Result<Option<Organizer>, StoreError> {
        let state = lock_state(&self.state);
        Ok(state
            .organizers
            .values()
            .find(|o| o.username == username)
            .cloned())
    }

    async fn organizer_by_token_hash(
        &self,
        hash: &TokenHash,
    ) -> Result<Option<Organizer>, StoreError> {
        let state = lock_state(&self.state);
        Ok(state
            .organizers
            .values()
            .find(|o| o.api_token_hash == *hash)
            .cloned())
    }

    async fn put_settings(
        &self,
        organizer: OrganizerId,
        settings: &OrganizerSettings,
    ) -> Result<(), StoreError> {
        let mut state = lock_state(&self.state);
        if !state.organizers.contains_key(&organizer) {
            return Err(StoreError::OrganizerNotFound(organizer));
        }
        state.settings.insert(organizer, settings.clone());
        Ok(())
    }

    async fn settings(
        &self,
        organizer: OrganizerId,
    ) -> Result<Option<OrganizerSettings>, StoreError> {
        Ok(lock_state(&self.state).settings.get(&organizer).cloned())
    }

    async fn insert_booking(&self, booking: NewBooking) -> Result<Booking, StoreError> {
        let mut state = lock_state(&self.state);
        if !state.organizers.contains_key(&booking.organizer_id) {
            return Err(StoreError::OrganizerNotFound(booking.organizer_id));
        }
        if state.bookings.contains_key(&booking.id) {
            // As a database's primary key would.
            return Err(StoreError::backend(format!(
                "booking id {} already exists",
                booking.id
            )));
        }
        let occupied = booking.occupied();
        if state
            .active_bookings(booking.organizer_id)
            .any(|existing| existing.occupied().overlaps(&occupied))
        {
            return Err(StoreError::Conflict);
        }
        let booking = Booking::from_new(booking);
        state.bookings.insert(booking.id, booking.clone());
        state
            .by_organizer
            .entry(booking.organizer_id)
            .or_default()
            .push(booking.id);
        Ok(booking)
    }

    async fn booking(&self, id: BookingId) -> Result<Option<Booking>, StoreError> {
        Ok(lock_state(&self.state).bookings.get(&id).cloned())
    }

    async fn list_bookings(
        &self,
        organizer: OrganizerId,
        query: BookingQuery,
    ) -> Result<BookingPage, StoreError> {
        let state = lock_state(&self.state);
        let mut matching: Vec<&Booking> = state
            .active_bookings(organizer)
            .filter(|b| {
                query
                    .starts_within
                    .is_none_or(|r| r.contains(b.start_time()))
            })
            .collect();
        matching.sort_by_key(|b| (b.start_time(), b.id));
        let total = matching.len() as u64;
        let offset = usize::try_from(query.offset).unwrap_or(usize::MAX);
        let bookings = matching
            .into_iter()
            .skip(offset)
            .take(query.limit as usize)
            .cloned()
            .collect();
        Ok(BookingPage { bookings, total })
    }

    async fn occupied_intervals(
        &self,
        organizer: OrganizerId,
        range: TimeRange,
    ) -> Result<Vec<TimeRange>, StoreError> {
        let state = lock_state(&self.state);
        let mut occupied: Vec<TimeRange> = state
            .active_bookings(organizer)
            .map(Booking::occupied)
            .filter(|occupied| occupied.overlaps(&range))
            .collect();
        occupied.sort_unstable();
        Ok(occupied)
    }

    async fn cancel_booking(
        &self,
        id: BookingId,
        at: DateTime<Utc>,
    ) -> Result<Booking, StoreError> {
        let mut state = lock_state(&self.state);
        let booking = state
            .bookings
            .get_mut(&id)
            .ok_or(StoreError::BookingNotFound(id))?;
        if let Some(cancelled_at) = booking.deleted_at {
            return Err(StoreError::AlreadyCancelled { id, cancelled_at });
        }
        booking.deleted_at = Some(at);
        booking.updated_at = at;
        Ok(booking.clone())
    }
}

/// A [`SlotLock`] inside one process: enough when a single process serves all
/// bookings (the embedded default). Expired entries are replaced on the next
/// acquisition of their key and swept when the table grows.
#[derive(Debug, Default)]
pub struct MemoryLock {
    held: Mutex<HashMap<String, (String, Instant)>>,
}

impl MemoryLock {
    /// A lock table with nothing held.
    pub fn new() -> Self {
        Self::default()
    }
}

/// Stands in for TTLs too long to add to an `Instant` (about 30 years).
const FOREVER: Duration = Duration::from_secs(60 * 60 * 24 * 365 * 30);

/// Above this many entries, an acquisition first drops expired ones.
const SWEEP_THRESHOLD: usize = 1024;

#[async_trait]
impl SlotLock for MemoryLock {
    async fn acquire(&self, key: &SlotKey, ttl: Duration) -> Result<LockGuard, LockError> {
        let key = key.to_string();
        let token = SecretToken::generate().map_err(LockError::backend)?;
        let now = Instant::now();
        let mut held = lock_state(&self.held);
        if held.len() > SWEEP_THRESHOLD {
            held.retain(|_, (_, expires)| *expires > now);
        }
        if held.get(&key).is_some_and(|(_, expires)| *expires > now) {
            return Err(LockError::Held { key });
        }
        // A TTL too long to represent means "until released".
        let expires = now.checked_add(ttl).unwrap_or(now + FOREVER);
        held.insert(key.clone(), (token.expose().to_owned(), expires));
        Ok(LockGuard::new(key, token.expose()))
    }

    async fn release(&self, guard: &LockGuard) -> Result<Release, LockError> {
        let now = Instant::now();
        let mut held = lock_state(&self.held);
        let ours = held
            .get(guard.key())
            .is_some_and(|(token, expires)| token == guard.token() && *expires > now);
        if ours {
            held.remove(guard.key());
            Ok(Release::Released)
        } else {
            Ok(Release::NotHeld)
        }
    }
}
