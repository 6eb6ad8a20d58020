//! [`MemoryStore`]: a [`BookingStore`] in process memory, indexed so every
//! booking operation costs O(log n) in the organizer's bookings.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};

use super::lock_state;
use crate::booking::{Booking, BookingId, LimitCheck, NewBooking};
use crate::event_type::EventTypeId;
use crate::hold::{Hold, HoldId, NewHold};
use crate::idempotency::{ClaimOutcome, IdempotencyClaim, IdempotencyCompletion, IdempotencyScope};
use crate::organizer::{NewOrganizer, Organizer, OrganizerId};
use crate::secret::TokenHash;
use crate::store::{
    BookingPage, BookingQuery, BookingStore, ConfigChange, OrganizerConfig, Reschedule, StoreError,
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

/// An idempotency record: pending from its claim, or done with an outcome.
struct KeyRecord {
    fingerprint: TokenHash,
    claimed_at: DateTime<Utc>,
    outcome: Option<String>,
    expires_at: DateTime<Utc>,
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
    /// Holds, expired ones included until purged or replaced.
    holds: HashMap<HoldId, Hold>,
    keys: HashMap<(OrganizerId, String, TokenHash), KeyRecord>,
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

    /// Unexpired holds of `organizer` at `now` whose occupied interval
    /// overlaps `range`, except `except`.
    fn holds_overlapping(
        &self,
        organizer: OrganizerId,
        range: TimeRange,
        now: DateTime<Utc>,
        except: Option<HoldId>,
    ) -> impl Iterator<Item = &Hold> {
        self.holds.values().filter(move |h| {
            h.organizer_id == organizer
                && h.is_active_at(now)
                && Some(h.id) != except
                && h.occupied().overlaps(&range)
        })
    }

    /// Starts of the active bookings and unexpired holds of `event_type` in
    /// `range`, except one booking or hold (the one being moved or replaced).
    fn counted_starts(
        &self,
        event_type: EventTypeId,
        range: TimeRange,
        now: DateTime<Utc>,
        except_booking: Option<BookingId>,
        except_hold: Option<HoldId>,
    ) -> Vec<DateTime<Utc>> {
        let mut starts: Vec<DateTime<Utc>> = self
            .by_event_type
            .get(&event_type)
            .map(|index| {
                index
                    .range((range.start(), BookingId::MIN)..(range.end(), BookingId::MIN))
                    .filter(|(_, id)| Some(*id) != except_booking)
                    .map(|(start, _)| *start)
                    .collect()
            })
            .unwrap_or_default();
        starts.extend(
            self.holds
                .values()
                .filter(|h| {
                    h.event_type_id == event_type
                        && h.is_active_at(now)
                        && Some(h.id) != except_hold
                        && range.contains(h.time.start())
                })
                .map(|h| h.time.start()),
        );
        starts.sort_unstable();
        starts
    }

    /// The first limit check that a new booking or hold would break.
    fn check_limits(
        &self,
        limits: &[LimitCheck],
        event_type: EventTypeId,
        now: DateTime<Utc>,
        except_booking: Option<BookingId>,
        except_hold: Option<HoldId>,
    ) -> Result<(), StoreError> {
        for check in limits {
            let count = self
                .counted_starts(
                    event_type,
                    check.starts_within,
                    now,
                    except_booking,
                    except_hold,
                )
                .len();
            if count >= check.max as usize {
                return Err(StoreError::LimitReached(check.period));
            }
        }
        Ok(())
    }

    fn complete_key(&mut self, completion: &IdempotencyCompletion) {
        if let Some(record) = self.keys.get_mut(&key_of(&completion.scope)) {
            record.outcome = Some(completion.outcome.clone());
        }
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

fn key_of(scope: &IdempotencyScope) -> (OrganizerId, String, TokenHash) {
    (scope.organizer_id, scope.operation.clone(), scope.key_hash)
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
        let now = booking.created_at;
        if let Some(hold) = booking.replaces_hold
            && !state.holds.get(&hold).is_some_and(|h| h.is_active_at(now))
        {
            return Err(StoreError::HoldNotFound(hold));
        }
        let occupied = booking.occupied();
        if !state.overlapping(booking.organizer_id, occupied).is_empty()
            || state
                .holds_overlapping(booking.organizer_id, occupied, now, booking.replaces_hold)
                .next()
                .is_some()
        {
            return Err(StoreError::Conflict);
        }
        state.check_limits(
            &booking.limits,
            booking.event_type_id,
            now,
            None,
            booking.replaces_hold,
        )?;
        if let Some(hold) = booking.replaces_hold {
            state.holds.remove(&hold);
        }
        if let Some(completion) = &booking.idempotency {
            state.complete_key(completion);
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
        now: DateTime<Utc>,
    ) -> Result<Vec<TimeRange>, StoreError> {
        let state = lock_state(&self.state);
        let mut occupied: Vec<TimeRange> = state
            .overlapping(organizer, range)
            .into_iter()
            .map(Booking::occupied)
            .chain(
                state
                    .holds_overlapping(organizer, range, now, None)
                    .map(Hold::occupied),
            )
            .collect();
        occupied.sort_unstable();
        Ok(occupied)
    }

    async fn booked_starts(
        &self,
        _organizer: OrganizerId,
        event_type: EventTypeId,
        range: TimeRange,
        now: DateTime<Utc>,
    ) -> Result<Vec<DateTime<Utc>>, StoreError> {
        let state = lock_state(&self.state);
        Ok(state.counted_starts(event_type, range, now, None, None))
    }

    async fn reschedule_booking(&self, change: Reschedule) -> Result<Booking, StoreError> {
        let mut state = lock_state(&self.state);
        let current = state
            .bookings
            .get(&change.id)
            .filter(|b| b.organizer_id == change.organizer_id)
            .ok_or(StoreError::BookingNotFound(change.id))?
            .clone();
        if let Some(cancelled_at) = current.deleted_at {
            return Err(StoreError::AlreadyCancelled {
                id: change.id,
                cancelled_at,
            });
        }
        if current.sequence != change.expected_sequence {
            return Err(StoreError::BookingChanged(change.id));
        }
        let occupied = change
            .time
            .widened(change.buffer_before, change.buffer_after);
        let blocked = state
            .overlapping(change.organizer_id, occupied)
            .iter()
            .any(|b| b.id != change.id)
            || state
                .holds_overlapping(change.organizer_id, occupied, change.at, None)
                .next()
                .is_some();
        if blocked {
            return Err(StoreError::Conflict);
        }
        if let Some(event_type) = current.event_type_id {
            state.check_limits(&change.limits, event_type, change.at, Some(change.id), None)?;
        }
        state.unindex(&current);
        let moved = Booking {
            time: change.time,
            buffer_before: change.buffer_before,
            buffer_after: change.buffer_after,
            updated_at: change.at,
            sequence: current.sequence + 1,
            rescheduled_from: Some(current.time),
            ..current
        };
        state.index(&moved);
        state.bookings.insert(moved.id, moved.clone());
        Ok(moved)
    }

    async fn insert_hold(&self, new: NewHold) -> Result<Hold, StoreError> {
        let mut state = lock_state(&self.state);
        let hold = new.hold;
        if !state.organizers.contains_key(&hold.organizer_id) {
            return Err(StoreError::OrganizerNotFound(hold.organizer_id));
        }
        let now = hold.created_at;
        let occupied = hold.occupied();
        if !state.overlapping(hold.organizer_id, occupied).is_empty()
            || state
                .holds_overlapping(hold.organizer_id, occupied, now, None)
                .next()
                .is_some()
        {
            return Err(StoreError::Conflict);
        }
        state.check_limits(&new.limits, hold.event_type_id, now, None, None)?;
        if let Some(client) = &hold.client {
            let held = state
                .holds
                .values()
                .filter(|h| {
                    h.organizer_id == hold.organizer_id
                        && h.is_active_at(now)
                        && h.client.as_ref() == Some(client)
                })
                .count();
            if held >= new.max_per_client as usize {
                return Err(StoreError::TooManyHolds(new.max_per_client));
            }
        }
        state.holds.insert(hold.id, hold.clone());
        Ok(hold)
    }

    async fn hold_by_token_hash(&self, hash: &TokenHash) -> Result<Option<Hold>, StoreError> {
        let state = lock_state(&self.state);
        Ok(state
            .holds
            .values()
            .find(|h| h.token_hash == *hash)
            .cloned())
    }

    async fn release_hold(
        &self,
        id: HoldId,
        token_hash: &TokenHash,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut state = lock_state(&self.state);
        let releasable = state
            .holds
            .get(&id)
            .is_some_and(|h| h.token_hash == *token_hash && h.is_active_at(at));
        if !releasable {
            return Err(StoreError::HoldNotFound(id));
        }
        state.holds.remove(&id);
        Ok(())
    }

    async fn claim_idempotency_key(
        &self,
        claim: &IdempotencyClaim,
    ) -> Result<ClaimOutcome, StoreError> {
        let mut state = lock_state(&self.state);
        let key = key_of(&claim.scope);
        let outcome = match state.keys.get_mut(&key) {
            Some(record) if record.expires_at > claim.now => {
                if record.fingerprint != claim.fingerprint {
                    ClaimOutcome::Mismatch
                } else if let Some(outcome) = &record.outcome {
                    ClaimOutcome::Done(outcome.clone())
                } else if record.claimed_at < claim.stale_before {
                    record.claimed_at = claim.now;
                    ClaimOutcome::Claimed
                } else {
                    ClaimOutcome::InProgress
                }
            }
            _ => {
                state.keys.insert(
                    key,
                    KeyRecord {
                        fingerprint: claim.fingerprint,
                        claimed_at: claim.now,
                        outcome: None,
                        expires_at: claim.expires_at,
                    },
                );
                ClaimOutcome::Claimed
            }
        };
        Ok(outcome)
    }

    async fn complete_idempotency_key(
        &self,
        completion: &IdempotencyCompletion,
    ) -> Result<(), StoreError> {
        lock_state(&self.state).complete_key(completion);
        Ok(())
    }

    async fn abandon_idempotency_key(&self, scope: &IdempotencyScope) -> Result<(), StoreError> {
        let mut state = lock_state(&self.state);
        let key = key_of(scope);
        if state.keys.get(&key).is_some_and(|r| r.outcome.is_none()) {
            state.keys.remove(&key);
        }
        Ok(())
    }

    async fn purge_expired(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let mut state = lock_state(&self.state);
        let before = state.keys.len() + state.holds.len();
        state.keys.retain(|_, r| r.expires_at > now);
        state.holds.retain(|_, h| h.is_active_at(now));
        Ok((before - state.keys.len() - state.holds.len()) as u64)
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
            sequence: booking.sequence + 1,
            ..booking
        };
        state.bookings.insert(id, cancelled.clone());
        Ok(cancelled)
    }
}
