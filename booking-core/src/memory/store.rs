//! [`MemoryStore`]: a [`BookingStore`] in process memory, indexed so every
//! booking operation costs O(log n) in the organizer's bookings.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};

use super::lock_state;
use crate::booking::{Booking, BookingId, NewBooking};
use crate::event_type::EventTypeId;
use crate::organizer::{NewOrganizer, Organizer, OrganizerId};
use crate::secret::TokenHash;
use crate::store::{
    BookingPage, BookingQuery, BookingStore, ConfigChange, OrganizerConfig, StoreError,
};
use crate::time::TimeRange;

/// Starts and ids of active bookings, ordered by start.
type StartIndex = BTreeSet<(DateTime<Utc>, BookingId)>;

/// One organizer's active bookings, indexed by start, plus how far an
/// occupied interval can reach before and after its start, so overlap
/// queries scan only the bookings that can overlap.
#[derive(Default)]
struct ActiveBookings {
    by_start: StartIndex,
    /// The largest `start - occupied.start` ever inserted.
    max_lead: Duration,
    /// The largest `occupied.end - start` ever inserted.
    max_tail: Duration,
}

#[derive(Default)]
struct StoreState {
    organizers: HashMap<OrganizerId, Organizer>,
    /// Lowercased usernames, so uniqueness ignores ASCII case.
    usernames: HashMap<String, OrganizerId>,
    tokens: HashMap<TokenHash, OrganizerId>,
    configs: HashMap<OrganizerId, OrganizerConfig>,
    bookings: HashMap<BookingId, Booking>,
    active: HashMap<OrganizerId, ActiveBookings>,
    /// Active bookings of each event type by start, for limits.
    by_event_type: HashMap<EventTypeId, StartIndex>,
}

impl StoreState {
    /// Active bookings of `organizer` whose occupied interval overlaps
    /// `range`, in start order.
    fn overlapping(&self, organizer: OrganizerId, range: TimeRange) -> Vec<&Booking> {
        let Some(active) = self.active.get(&organizer) else {
            return Vec::new();
        };
        let from = range
            .start()
            .checked_sub_signed(active.max_tail)
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        let to = range
            .end()
            .checked_add_signed(active.max_lead)
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        active
            .by_start
            .range((from, BookingId::MIN)..=(to, BookingId::MAX))
            .filter_map(|(_, id)| self.bookings.get(id))
            .filter(|b| b.occupied().overlaps(&range))
            .collect()
    }

    /// How many active bookings of `event_type` start in `range`.
    fn count_starts(&self, event_type: EventTypeId, range: TimeRange) -> usize {
        self.by_event_type.get(&event_type).map_or(0, |starts| {
            starts
                .range((range.start(), BookingId::MIN)..(range.end(), BookingId::MIN))
                .count()
        })
    }

    fn index(&mut self, booking: &Booking) {
        let active = self.active.entry(booking.organizer_id).or_default();
        active.by_start.insert((booking.start_time(), booking.id));
        let occupied = booking.occupied();
        active.max_lead = active.max_lead.max(booking.start_time() - occupied.start());
        active.max_tail = active.max_tail.max(occupied.end() - booking.start_time());
        if let Some(event_type) = booking.event_type_id {
            self.by_event_type
                .entry(event_type)
                .or_default()
                .insert((booking.start_time(), booking.id));
        }
    }

    fn unindex(&mut self, booking: &Booking) {
        let key = (booking.start_time(), booking.id);
        if let Some(active) = self.active.get_mut(&booking.organizer_id) {
            active.by_start.remove(&key);
        }
        if let Some(event_type) = booking.event_type_id
            && let Some(starts) = self.by_event_type.get_mut(&event_type)
        {
            starts.remove(&key);
        }
    }

    /// Checks `changes` against `config` as it would become, without
    /// writing: slugs unique, deleted schedules unused.
    fn check_config(config: &OrganizerConfig) -> Result<(), StoreError> {
        let mut slugs = std::collections::HashSet::new();
        for event_type in &config.event_types {
            if !slugs.insert(event_type.slug.as_str()) {
                return Err(StoreError::SlugTaken(event_type.slug.to_string()));
            }
            if let Some(id) = event_type.schedule_id
                && config.schedule(id).is_none()
            {
                return Err(StoreError::ScheduleInUse(id));
            }
        }
        Ok(())
    }
}

/// A [`BookingStore`] in process memory. Cheap to create; cloning is not
/// provided, share it with `Arc`.
///
/// Bookings are indexed per organizer by start, so an insert, its overlap
/// check and a slot list cost O(log n) in the organizer's bookings plus the
/// bookings they touch, however many are stored.
///
/// ```
/// use booking_core::{BookingService, MemoryStore};
///
/// let service = BookingService::new(MemoryStore::new());
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
    async fn check_health(&self) -> Result<(), StoreError> {
        Ok(())
    }

    async fn create_organizer(
        &self,
        id: OrganizerId,
        organizer: NewOrganizer,
        api_token_hash: TokenHash,
        created_at: DateTime<Utc>,
    ) -> Result<Organizer, StoreError> {
        let mut state = lock_state(&self.state);
        let key = organizer.username.to_ascii_lowercase();
        if state.usernames.contains_key(&key) {
            return Err(StoreError::UsernameTaken(organizer.username));
        }
        let organizer = Organizer::from_new(id, organizer, api_token_hash, created_at);
        state.usernames.insert(key, id);
        state.tokens.insert(api_token_hash, id);
        state.organizers.insert(id, organizer.clone());
        Ok(organizer)
    }

    async fn organizer_by_id(&self, id: OrganizerId) -> Result<Option<Organizer>, StoreError> {
        Ok(lock_state(&self.state).organizers.get(&id).cloned())
    }

    async fn organizer_by_username(&self, username: &str) -> Result<Option<Organizer>, StoreError> {
        let state = lock_state(&self.state);
        Ok(state
            .usernames
            .get(&username.to_ascii_lowercase())
            .and_then(|id| state.organizers.get(id))
            .cloned())
    }

    async fn organizer_by_token_hash(
        &self,
        hash: &TokenHash,
    ) -> Result<Option<Organizer>, StoreError> {
        let state = lock_state(&self.state);
        Ok(state
            .tokens
            .get(hash)
            .and_then(|id| state.organizers.get(id))
            .cloned())
    }

    async fn organizer_config(
        &self,
        organizer: OrganizerId,
    ) -> Result<Option<OrganizerConfig>, StoreError> {
        let state = lock_state(&self.state);
        if !state.organizers.contains_key(&organizer) {
            return Ok(None);
        }
        Ok(Some(
            state.configs.get(&organizer).cloned().unwrap_or_default(),
        ))
    }

    async fn update_config(
        &self,
        organizer: OrganizerId,
        expected_version: u64,
        changes: Vec<ConfigChange>,
    ) -> Result<u64, StoreError> {
        let mut state = lock_state(&self.state);
        if !state.organizers.contains_key(&organizer) {
            return Err(StoreError::OrganizerNotFound(organizer));
        }
        let mut config = state.configs.get(&organizer).cloned().unwrap_or_default();
        if config.version != expected_version {
            return Err(StoreError::ConfigChanged);
        }
        let before: Vec<EventTypeId> = config.event_types.iter().map(|e| e.id).collect();
        for change in changes {
            match change {
                ConfigChange::PutSchedule(schedule) => {
                    match config.schedules.iter_mut().find(|s| s.id == schedule.id) {
                        Some(existing) => *existing = schedule,
                        None => config.schedules.push(schedule),
                    }
                }
                ConfigChange::DeleteSchedule(id) => config.schedules.retain(|s| s.id != id),
                ConfigChange::PutEventType(event_type) => {
                    match config
                        .event_types
                        .iter_mut()
                        .find(|e| e.id == event_type.id)
                    {
                        Some(existing) => *existing = event_type,
                        None => config.event_types.push(event_type),
                    }
                }
                ConfigChange::DeleteEventType(id) => config.event_types.retain(|e| e.id != id),
            }
        }
        StoreState::check_config(&config)?;
        config.schedules.sort_by_key(|s| s.id);
        config.event_types.sort_by_key(|e| e.id);
        config.version += 1;
        let version = config.version;
        // Bookings of a deleted event type keep their slug but lose the id.
        for deleted in before
            .into_iter()
            .filter(|id| config.event_types.iter().all(|e| e.id != *id))
        {
            state.by_event_type.remove(&deleted);
            for booking in state.bookings.values_mut() {
                if booking.organizer_id == organizer && booking.event_type_id == Some(deleted) {
                    booking.event_type_id = None;
                }
            }
        }
        state.configs.insert(organizer, config);
        Ok(version)
    }

    async fn insert_booking(&self, booking: NewBooking) -> Result<Booking, StoreError> {
        let mut state = lock_state(&self.state);
        if !state.organizers.contains_key(&booking.organizer_id) {
            return Err(StoreError::OrganizerNotFound(booking.organizer_id));
        }
        if state.bookings.contains_key(&booking.id) {
            return Err(StoreError::Corrupt(format!(
                "a booking with id {} already exists",
                booking.id
            )));
        }
        if !state
            .overlapping(booking.organizer_id, booking.occupied())
            .is_empty()
        {
            return Err(StoreError::Conflict);
        }
        for check in &booking.limits {
            let count = state.count_starts(booking.event_type_id, check.starts_within);
            if count >= check.max as usize {
                return Err(StoreError::LimitReached(check.period));
            }
        }
        let stored = Booking::from_new(booking);
        state.index(&stored);
        state.bookings.insert(stored.id, stored.clone());
        Ok(stored)
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
        let Some(active) = state.active.get(&organizer) else {
            return Ok(BookingPage {
                bookings: Vec::new(),
                total: 0,
            });
        };
        let matching: Box<dyn Iterator<Item = &(DateTime<Utc>, BookingId)>> =
            match query.starts_within {
                Some(range) => Box::new(
                    active
                        .by_start
                        .range((range.start(), BookingId::MIN)..(range.end(), BookingId::MIN)),
                ),
                None => Box::new(active.by_start.iter()),
            };
        let ids: Vec<BookingId> = matching.map(|(_, id)| *id).collect();
        let offset = usize::try_from(query.offset).unwrap_or(usize::MAX);
        let bookings = ids
            .iter()
            .skip(offset)
            .take(query.limit as usize)
            .filter_map(|id| state.bookings.get(id).cloned())
            .collect();
        Ok(BookingPage {
            bookings,
            total: ids.len() as u64,
        })
    }

    async fn occupied_intervals(
        &self,
        organizer: OrganizerId,
        range: TimeRange,
    ) -> Result<Vec<TimeRange>, StoreError> {
        let state = lock_state(&self.state);
        let mut occupied: Vec<TimeRange> = state
            .overlapping(organizer, range)
            .into_iter()
            .map(Booking::occupied)
            .collect();
        occupied.sort_unstable();
        Ok(occupied)
    }

    async fn booked_starts(
        &self,
        _organizer: OrganizerId,
        event_type: EventTypeId,
        range: TimeRange,
    ) -> Result<Vec<DateTime<Utc>>, StoreError> {
        let state = lock_state(&self.state);
        Ok(state
            .by_event_type
            .get(&event_type)
            .map_or_else(Vec::new, |starts| {
                starts
                    .range((range.start(), BookingId::MIN)..(range.end(), BookingId::MIN))
                    .map(|(start, _)| *start)
                    .collect()
            }))
    }

    async fn cancel_booking(
        &self,
        id: BookingId,
        at: DateTime<Utc>,
    ) -> Result<Booking, StoreError> {
        let mut state = lock_state(&self.state);
        let booking = state
            .bookings
            .get(&id)
            .ok_or(StoreError::BookingNotFound(id))?
            .clone();
        if let Some(cancelled_at) = booking.deleted_at {
            return Err(StoreError::AlreadyCancelled { id, cancelled_at });
        }
        state.unindex(&booking);
        let cancelled = Booking {
            deleted_at: Some(at),
            updated_at: at,
            ..booking
        };
        state.bookings.insert(id, cancelled.clone());
        Ok(cancelled)
    }
}
