//! [`MemoryStore`]: a [`BookingStore`] in process memory, indexed so every
//! booking operation costs O(log n) in the organizer's bookings.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};

use super::lock_state;
use crate::booking::{Booking, BookingId, LimitCheck, NewBooking};
use crate::event::{EventId, EventRecord, StoredEvent};
use crate::event_type::EventTypeId;
use crate::hold::{Hold, HoldId, NewHold};
use crate::idempotency::{ClaimOutcome, IdempotencyClaim, IdempotencyCompletion, IdempotencyScope};
use crate::organizer::{NewOrganizer, Organizer, OrganizerId};
use crate::queue::{Job, JobId, JobResult, JobStatus, NewJob};
use crate::record::Record;
use crate::secret::TokenHash;
use crate::store::{
    BookingPage, BookingQuery, BookingStore, Cancellation, ConfigChange, OrganizerConfig,
    Reschedule, StoreError,
};
use crate::time::TimeRange;

/// Starts and ids of active bookings, ordered by start.
type StartIndex = BTreeSet<(DateTime<Utc>, BookingId)>;

/// Starts and ids of one organizer's active bookings, ordered by start,
/// each with its occupied interval: an overlap check or an occupied read
/// answers from the index alone, without looking each booking up among all
/// the stored ones (which, with a million of them, costs a cache miss each).
type OccupiedIndex = BTreeMap<(DateTime<Utc>, BookingId), TimeRange>;

/// One organizer's active bookings, indexed by start, plus how far an
/// occupied interval can reach before and after its start, so overlap
/// queries scan only the bookings that can overlap.
#[derive(Default)]
struct ActiveBookings {
    by_start: OccupiedIndex,
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
    /// Every booking by id. A B-tree rather than a hash map: it grows one
    /// node at a time, where a hash map doubling its table rehashes every
    /// booking under the store's lock (a pause of hundreds of milliseconds
    /// at a million bookings).
    bookings: BTreeMap<BookingId, Booking>,
    active: HashMap<OrganizerId, ActiveBookings>,
    /// Active bookings of each event type by start, for limits.
    by_event_type: HashMap<EventTypeId, StartIndex>,
    /// Holds, expired ones included until purged or replaced.
    holds: HashMap<HoldId, Hold>,
    keys: HashMap<(OrganizerId, String, TokenHash), KeyRecord>,
    /// The event log, in commit order, with whether each was dispatched.
    events: Vec<(StoredEvent, bool)>,
    /// Jobs in enqueue order, with the lease each holds.
    jobs: Vec<(Job, Option<DateTime<Utc>>)>,
    records: HashMap<(String, String), Record>,
}

impl StoreState {
    /// Ids and occupied intervals of the active bookings of `organizer`
    /// whose occupied interval overlaps `range`, in start order, read from
    /// the organizer's index alone.
    fn occupied_overlapping(
        &self,
        organizer: OrganizerId,
        range: TimeRange,
    ) -> impl Iterator<Item = (BookingId, TimeRange)> + '_ {
        self.active
            .get(&organizer)
            .into_iter()
            .flat_map(move |active| {
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
                    .filter(move |(_, occupied)| occupied.overlaps(&range))
                    .map(|((_, id), occupied)| (*id, *occupied))
            })
    }

    /// Active bookings of `organizer` whose occupied interval overlaps
    /// `range`, in start order.
    fn overlapping(&self, organizer: OrganizerId, range: TimeRange) -> Vec<&Booking> {
        self.occupied_overlapping(organizer, range)
            .filter_map(|(id, _)| self.bookings.get(&id))
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

    fn log_event(&mut self, event: Option<EventRecord>) {
        if let Some(record) = event {
            let seq = self.events.len() as u64 + 1;
            self.events.push((StoredEvent { seq, record }, false));
        }
    }

    fn complete_key(&mut self, completion: &IdempotencyCompletion) {
        if let Some(record) = self.keys.get_mut(&key_of(&completion.scope)) {
            record.outcome = Some(completion.outcome.clone());
        }
    }

    fn index(&mut self, booking: &Booking) {
        let active = self.active.entry(booking.organizer_id).or_default();
        let occupied = booking.occupied();
        active
            .by_start
            .insert((booking.start_time(), booking.id), occupied);
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
        if config.schedules.iter().filter(|s| s.is_default).count() > 1 {
            return Err(StoreError::Unstorable(
                "an organizer has at most one default schedule".to_owned(),
            ));
        }
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
            StoreState::check_config(&config)?;
        }
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

    async fn insert_booking(&self, mut booking: NewBooking) -> Result<Booking, StoreError> {
        let mut state = lock_state(&self.state);
        if !state.organizers.contains_key(&booking.organizer_id) {
            return Err(StoreError::OrganizerNotFound(booking.organizer_id));
        }
        if let Some(expected) = booking.config_version {
            let current = state
                .configs
                .get(&booking.organizer_id)
                .map_or(0, |c| c.version);
            if current != expected {
                return Err(StoreError::ConfigChanged);
            }
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
        if state
            .occupied_overlapping(booking.organizer_id, occupied)
            .next()
            .is_some()
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
        let event_type_exists = state
            .configs
            .get(&booking.organizer_id)
            .is_some_and(|c| c.event_types.iter().any(|e| e.id == booking.event_type_id));
        let event = booking.event.take();
        let mut stored = Booking::from_new(booking);
        if !event_type_exists {
            stored.event_type_id = None;
        }
        state.log_event(event);
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
        let mut ids: Vec<(DateTime<Utc>, BookingId)> = match state.active.get(&organizer) {
            None => Vec::new(),
            Some(active) => match query.starts_within {
                Some(range) => active
                    .by_start
                    .range((range.start(), BookingId::MIN)..(range.end(), BookingId::MIN))
                    .map(|(key, _)| *key)
                    .collect(),
                None => active.by_start.keys().copied().collect(),
            },
        };
        if let Some(since) = query.cancelled_since {
            // Cancelled bookings are not indexed: a scan, for feeds only.
            ids.extend(
                state
                    .bookings
                    .values()
                    .filter(|b| {
                        b.organizer_id == organizer
                            && b.deleted_at.is_some_and(|at| at >= since)
                            && query
                                .starts_within
                                .is_none_or(|range| range.contains(b.start_time()))
                    })
                    .map(|b| (b.start_time(), b.id)),
            );
            ids.sort_unstable();
        }
        let offset = usize::try_from(query.offset).unwrap_or(usize::MAX);
        let bookings = ids
            .iter()
            .skip(offset)
            .take(query.limit as usize)
            .filter_map(|(_, id)| state.bookings.get(id).cloned())
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
            .occupied_overlapping(organizer, range)
            .map(|(_, occupied)| occupied)
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
        state.log_event(change.event);
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

    async fn cancel_booking(&self, cancel: Cancellation) -> Result<Booking, StoreError> {
        let mut state = lock_state(&self.state);
        let id = cancel.id;
        // Addressed by id and organizer, as a database store's statement is:
        // another organizer's booking is not found.
        let booking = state
            .bookings
            .get(&id)
            .filter(|b| b.organizer_id == cancel.organizer_id)
            .ok_or(StoreError::BookingNotFound(id))?
            .clone();
        if let Some(cancelled_at) = booking.deleted_at {
            return Err(StoreError::AlreadyCancelled { id, cancelled_at });
        }
        if cancel
            .expected_sequence
            .is_some_and(|expected| expected != booking.sequence)
        {
            return Err(StoreError::BookingChanged(id));
        }
        state.unindex(&booking);
        let cancelled = Booking {
            deleted_at: Some(cancel.at),
            updated_at: cancel.at,
            sequence: booking.sequence + 1,
            ..booking
        };
        state.bookings.insert(id, cancelled.clone());
        state.log_event(cancel.event);
        Ok(cancelled)
    }

    async fn set_api_token_hash(
        &self,
        organizer: OrganizerId,
        hash: TokenHash,
    ) -> Result<(), StoreError> {
        let mut state = lock_state(&self.state);
        let Some(current) = state.organizers.get(&organizer).map(|o| o.api_token_hash) else {
            return Err(StoreError::OrganizerNotFound(organizer));
        };
        state.tokens.remove(&current);
        state.tokens.insert(hash, organizer);
        if let Some(found) = state.organizers.get_mut(&organizer) {
            found.api_token_hash = hash;
        }
        Ok(())
    }

    async fn events_after(&self, after: u64, limit: u32) -> Result<Vec<StoredEvent>, StoreError> {
        let state = lock_state(&self.state);
        Ok(state
            .events
            .iter()
            .filter(|(e, _)| e.seq > after)
            .take(limit as usize)
            .map(|(e, _)| e.clone())
            .collect())
    }

    async fn undispatched_events(&self, limit: u32) -> Result<Vec<StoredEvent>, StoreError> {
        let state = lock_state(&self.state);
        Ok(state
            .events
            .iter()
            .filter(|(_, dispatched)| !dispatched)
            .take(limit as usize)
            .map(|(e, _)| e.clone())
            .collect())
    }

    async fn dispatch_events(
        &self,
        dispatched: &[EventId],
        jobs: Vec<NewJob>,
    ) -> Result<usize, StoreError> {
        let mut state = lock_state(&self.state);
        for job in jobs {
            let exists = state.jobs.iter().any(|(j, _)| {
                j.queue == job.queue && j.event_id == job.event_id && j.target == job.target
            });
            if !exists {
                state.jobs.push((
                    Job {
                        id: job.id,
                        queue: job.queue,
                        organizer_id: job.organizer_id,
                        event_id: job.event_id,
                        booking_id: job.booking_id,
                        target: job.target,
                        payload: job.payload,
                        status: JobStatus::Pending,
                        attempts: 0,
                        run_at: job.run_at,
                        last_error: None,
                        last_status: None,
                        created_at: job.run_at,
                        updated_at: job.run_at,
                    },
                    None,
                ));
            }
        }
        let mut marked = 0;
        for (event, done) in state.events.iter_mut() {
            if !*done && dispatched.contains(&event.record.id) {
                *done = true;
                marked += 1;
            }
        }
        Ok(marked)
    }

    async fn claim_jobs(
        &self,
        queue: &str,
        now: DateTime<Utc>,
        limit: u32,
        lease_until: DateTime<Utc>,
    ) -> Result<Vec<Job>, StoreError> {
        let mut state = lock_state(&self.state);
        let mut claimed = Vec::new();
        for i in 0..state.jobs.len() {
            if claimed.len() >= limit as usize {
                break;
            }
            let (job, lease) = &state.jobs[i];
            let due = job.queue == queue
                && job.status == JobStatus::Pending
                && job.run_at <= now
                && lease.is_none_or(|until| until <= now);
            let first_in_line = !state.jobs[..i].iter().any(|(earlier, _)| {
                earlier.queue == job.queue
                    && earlier.booking_id == job.booking_id
                    && earlier.target == job.target
                    && earlier.status == JobStatus::Pending
            });
            if due && first_in_line {
                let (job, lease) = &mut state.jobs[i];
                job.attempts += 1;
                job.updated_at = now;
                *lease = Some(lease_until);
                claimed.push(job.clone());
            }
        }
        Ok(claimed)
    }

    async fn finish_job(
        &self,
        id: JobId,
        result: JobResult,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut state = lock_state(&self.state);
        let Some((job, lease)) = state.jobs.iter_mut().find(|(j, _)| j.id == id) else {
            return Err(StoreError::Corrupt(format!("no job {id}")));
        };
        *lease = None;
        job.updated_at = now;
        match result {
            JobResult::Done { status } => {
                job.status = JobStatus::Done;
                job.last_status = status;
                job.last_error = None;
                job.run_at = now;
            }
            JobResult::Retry { at, error, status } => {
                job.run_at = at;
                job.last_error = Some(error);
                job.last_status = status;
            }
            JobResult::Dead { error, status } => {
                job.status = JobStatus::Dead;
                job.run_at = now;
                job.last_error = Some(error);
                job.last_status = status;
            }
        }
        Ok(())
    }

    async fn jobs(
        &self,
        organizer: OrganizerId,
        queue: &str,
        target: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Job>, StoreError> {
        let state = lock_state(&self.state);
        Ok(state
            .jobs
            .iter()
            .rev()
            .map(|(j, _)| j)
            .filter(|j| {
                j.organizer_id == organizer
                    && j.queue == queue
                    && target.is_none_or(|t| j.target == t)
            })
            .take(limit as usize)
            .cloned()
            .collect())
    }

    async fn put_record(&self, record: Record) -> Result<(), StoreError> {
        let mut state = lock_state(&self.state);
        if let Some(lookup) = &record.lookup
            && state.records.values().any(|r| {
                r.kind == record.kind && r.id != record.id && r.lookup.as_ref() == Some(lookup)
            })
        {
            return Err(StoreError::Conflict);
        }
        state
            .records
            .insert((record.kind.clone(), record.id.clone()), record);
        Ok(())
    }

    async fn record(&self, kind: &str, id: &str) -> Result<Option<Record>, StoreError> {
        let state = lock_state(&self.state);
        Ok(state
            .records
            .get(&(kind.to_owned(), id.to_owned()))
            .cloned())
    }

    async fn record_by_lookup(
        &self,
        kind: &str,
        lookup: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Record>, StoreError> {
        let state = lock_state(&self.state);
        Ok(state
            .records
            .values()
            .find(|r| r.kind == kind && r.lookup.as_deref() == Some(lookup) && r.is_live_at(now))
            .cloned())
    }

    async fn records(
        &self,
        organizer: OrganizerId,
        kind: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<Record>, StoreError> {
        let state = lock_state(&self.state);
        let mut found: Vec<Record> = state
            .records
            .values()
            .filter(|r| r.organizer_id == organizer && r.kind == kind && r.is_live_at(now))
            .cloned()
            .collect();
        found.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(found)
    }

    async fn delete_record(&self, kind: &str, id: &str) -> Result<bool, StoreError> {
        let mut state = lock_state(&self.state);
        Ok(state
            .records
            .remove(&(kind.to_owned(), id.to_owned()))
            .is_some())
    }
}
