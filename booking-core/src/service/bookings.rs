//! Bookings: create, reschedule, read, list, cancel.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;

use crate::availability::{SlotRules, Taken, check_booking, counted_range_for};
use crate::booking::{Booking, BookingId, BookingRequest, BookingTime, NewBooking};
use crate::event::{BookingEvent, BookingEventKind, Canceller, EventId};
use crate::hold::Hold;
use crate::idempotency::{
    IdempotencyCompletion, IdempotencyKey, Recorded, derived_cancel_token, fingerprint,
};
use crate::lock::SlotKey;
use crate::organizer::{Organizer, OrganizerRef};
use crate::provider::{AvailabilityProvider as _, BusyPurpose, BusyTime, ProviderError};
use crate::secret::{SecretToken, TokenHash};
use crate::store::{BookingQuery, Cancellation, Reschedule, StoreError};
use crate::time::{TimeRange, local_days_range};
use crate::validation::{Field, ValidationErrors};

use super::idempotent::{Claimed, replayed_error};
use super::slots::{Resolved, slug_or_default};
use super::{
    BookingList, BookingService, Cancelled, CreatedBooking, Credential, ListQuery,
    RescheduleRequest, Rescheduled, ServiceError, WIDEST_REACH,
};

/// A range around `time` wide enough for any booking it can become (a
/// start alone may take any length up to a day).
pub(super) fn probe(time: BookingTime) -> Result<TimeRange, ServiceError> {
    match time {
        BookingTime::Range(range) => Ok(range),
        BookingTime::Start { start, .. } => {
            TimeRange::starting_at(start, Duration::days(1)).map_err(ServiceError::InvalidTimeRange)
        }
    }
}

/// `time` as a range; a start without a length takes `default_length`.
pub(super) fn meeting(
    time: BookingTime,
    default_length: Duration,
) -> Result<TimeRange, ServiceError> {
    match time {
        BookingTime::Range(range) => Ok(range),
        BookingTime::Start { start, duration } => {
            TimeRange::starting_at(start, duration.unwrap_or(default_length))
                .map_err(ServiceError::InvalidTimeRange)
        }
    }
}

/// How often a cancellation is retried when the booking keeps changing.
const MAX_CANCEL_ATTEMPTS: usize = 3;

/// A new event of `kind` about `booking` (as the change leaves it).
fn event_of(kind: BookingEventKind, booking: Booking, at: DateTime<Utc>) -> BookingEvent {
    BookingEvent {
        seq: 0,
        id: EventId::generate(),
        kind,
        occurred_at: at,
        booking,
        previous_time: None,
        cancelled_by: None,
    }
}

/// Removes one occurrence of `item` from `list` (the booking or hold being
/// moved or replaced, which must not block itself).
fn remove_one<T: PartialEq>(list: &mut Vec<T>, item: &T) {
    if let Some(at) = list.iter().position(|x| x == item) {
        list.remove(at);
    }
}

/// The canonical text of a time request, for fingerprints.
fn time_text(time: BookingTime) -> String {
    match time {
        BookingTime::Range(range) => format!(
            "{}/{}",
            range.start().to_rfc3339(),
            range.end().to_rfc3339()
        ),
        BookingTime::Start { start, duration } => format!(
            "{}+{}",
            start.to_rfc3339(),
            duration.map_or(String::new(), |d| d.num_seconds().to_string())
        ),
    }
}

impl BookingService {
    /// Books a slot for an attendee; see the [module docs](super) for the
    /// steps. Returns the booking and the attendee's cancel token.
    ///
    /// The time must be exactly one offered slot of the event type, of one
    /// of its lengths; anything else is [`ServiceError::SlotUnavailable`]
    /// naming the rule, and a full day or week
    /// [`ServiceError::BookingLimitReached`]. With a
    /// [hold token](BookingRequest::hold_token) of an unexpired hold on this
    /// very slot, the hold becomes the booking. With an
    /// [idempotency key](BookingRequest::idempotency_key), a retry of the
    /// same request returns the first outcome (`replayed`), never a second
    /// booking.
    pub async fn create_booking(
        &self,
        request: BookingRequest,
    ) -> Result<CreatedBooking, ServiceError> {
        request.validate()?;
        let organizer_id = self.organizer_id(&request.organizer).await?;
        let Some(key) = request.idempotency_key.clone() else {
            return self.lock_and_insert(organizer_id, request, None).await;
        };
        let metadata = request
            .metadata
            .as_ref()
            .map(|m| serde_json::Value::Object(m.clone()).to_string())
            .unwrap_or_default();
        let print = fingerprint(&[
            &organizer_id.to_string(),
            request.event_type.as_deref().unwrap_or(""),
            &time_text(request.time),
            &request.attendee.name,
            &request.attendee.email,
            request.title.as_deref().unwrap_or(""),
            request.description.as_deref().unwrap_or(""),
            &metadata,
            &request
                .hold_token
                .as_deref()
                .map(|t| TokenHash::of(t).to_hex())
                .unwrap_or_default(),
        ]);
        match self
            .claim_key(organizer_id, "create".to_owned(), &key, print)
            .await?
        {
            Claimed::Replay(recorded) => match *recorded {
                Recorded::Created { booking } => Ok(CreatedBooking {
                    cancel_token: self.replayed_cancel_token(&key, &booking),
                    booking,
                    replayed: true,
                }),
                Recorded::Refused { code, message } => Err(replayed_error(code, message)),
                _ => Err(ServiceError::IdempotencyKeyReused),
            },
            Claimed::Fresh(scope) => {
                let result = self
                    .lock_and_insert(organizer_id, request, Some((key, scope.clone())))
                    .await;
                // A booking completed the key with its insert; only a
                // refusal or a failure is left to record.
                if let Err(error) = &result {
                    self.fail_key(&scope, error).await;
                }
                result
            }
        }
    }

    /// The cancel token of a booking made under `key`, derived again for a
    /// replay. A booking made before the service had a secret (or by a
    /// process without one) was given the token without it: when the
    /// token with the secret does not match the booking, the one without
    /// is returned if it does, so setting a secret never hands a retry a
    /// token that cannot cancel.
    fn replayed_cancel_token(&self, key: &IdempotencyKey, booking: &Booking) -> SecretToken {
        let token = derived_cancel_token(key, booking.id, self.secret.as_deref());
        if self.secret.is_some() && !booking.cancel_token_hash.verify(token.expose()) {
            let without = derived_cancel_token(key, booking.id, None);
            if booking.cancel_token_hash.verify(without.expose()) {
                return without;
            }
        }
        token
    }

    /// Takes the slot lock, decides and inserts, releases the lock.
    async fn lock_and_insert(
        &self,
        organizer_id: crate::organizer::OrganizerId,
        request: BookingRequest,
        key: Option<(IdempotencyKey, crate::idempotency::IdempotencyScope)>,
    ) -> Result<CreatedBooking, ServiceError> {
        let lock_key = SlotKey {
            organizer_id,
            start: request.time.start(),
        };
        let held = self.acquire_slot_lock(&lock_key).await?;
        let result = self.check_and_insert(organizer_id, request, key).await;
        held.release().await;
        result
    }

    /// Decides under the lock, then lets the store arbitrate with its atomic
    /// insert. The decision is taken on the configuration kept from an
    /// earlier read when there is one (see [`decisions`](super::decisions)):
    /// the insert is then the booking's only statement, and the store
    /// refuses it if the configuration changed since. Only what the store
    /// says at the kept version is final (a booking, or a refusal of taken
    /// time or a full day); when the store finds the configuration changed,
    /// or the kept configuration itself refuses the request (it may be
    /// stale), the booking is decided once more on a fresh read of the
    /// configuration, occupied time and counted starts.
    async fn check_and_insert(
        &self,
        organizer_id: crate::organizer::OrganizerId,
        request: BookingRequest,
        key: Option<(IdempotencyKey, crate::idempotency::IdempotencyScope)>,
    ) -> Result<CreatedBooking, ServiceError> {
        let now = self.now();
        let (slug, _) = slug_or_default(request.event_type.as_deref())?;
        if let Some(kept) = self.decisions.get(organizer_id, &slug)
            && let Ok((new, cancel_token)) = self
                .decide(Resolved::kept(&kept), request.clone(), key.clone(), now)
                .await
        {
            match self.store.insert_booking(new).await {
                Err(StoreError::ConfigChanged) => self.decisions.forget(organizer_id),
                other => {
                    return Ok(CreatedBooking {
                        booking: other?,
                        cancel_token,
                        replayed: false,
                    });
                }
            }
        }
        let probe = probe(request.time)?;
        let resolved = self
            .resolve(
                &request.organizer,
                request.event_type.as_deref(),
                probe.widened(WIDEST_REACH, WIDEST_REACH),
                counted_range_for(probe),
                now,
            )
            .await?;
        let (new, cancel_token) = self.decide(resolved, request, key, now).await?;
        Ok(CreatedBooking {
            booking: self.store.insert_booking(new).await?,
            cancel_token,
            replayed: false,
        })
    }

    /// Checks the request against `resolved` (and the external calendars)
    /// and builds the booking to insert, at the configuration version
    /// `resolved` was read at, with the cancel token to hand out.
    async fn decide(
        &self,
        mut resolved: Resolved,
        request: BookingRequest,
        key: Option<(IdempotencyKey, crate::idempotency::IdempotencyScope)>,
        now: DateTime<Utc>,
    ) -> Result<(NewBooking, SecretToken), ServiceError> {
        let time = meeting(request.time, resolved.event_type.duration)?;
        let replaced = match &request.hold_token {
            Some(token) => self.hold_for(token, &resolved, time, now).await?,
            None => None,
        };
        if let Some(hold) = &replaced {
            remove_one(&mut resolved.occupied, &hold.occupied());
            remove_one(&mut resolved.booked, &hold.time.start());
        }
        let rules = self.check_slot(&resolved, time, now).await?;
        let id = BookingId::generate();
        let cancel_token = match &key {
            Some((key, _)) => derived_cancel_token(key, id, self.secret.as_deref()),
            None => SecretToken::generate().map_err(ServiceError::Randomness)?,
        };
        let event_type = rules.event_type();
        let mut new = NewBooking {
            id,
            organizer_id: resolved.organizer.id,
            event_type_id: event_type.id,
            event_type_slug: event_type.slug.clone(),
            attendee: request.attendee,
            metadata: request.metadata,
            title: request.title.unwrap_or_else(|| event_type.title.clone()),
            description: request.description,
            time,
            buffer_before: event_type.buffer_before,
            buffer_after: event_type.buffer_after,
            cancel_token_hash: cancel_token.hash(),
            created_at: now,
            limits: rules.limit_checks(time.start()),
            replaces_hold: replaced.map(|h| h.id),
            idempotency: None,
            event: None,
            config_version: Some(resolved.config_version),
        };
        let snapshot = Booking::from_new(new.clone());
        new.event = Some(event_of(BookingEventKind::Created, snapshot.clone(), now).to_record());
        if let Some((_, scope)) = key {
            new.idempotency = Some(IdempotencyCompletion {
                scope,
                outcome: Recorded::Created { booking: snapshot }.to_text(),
            });
        }
        Ok((new, cancel_token))
    }

    /// The rules for `time`'s length, once `time` passed every one of them
    /// against the context and the external calendar: the check every
    /// booking, move and hold makes before the store's atomic write.
    pub(super) async fn check_slot<'a>(
        &self,
        resolved: &'a Resolved,
        time: TimeRange,
        now: DateTime<Utc>,
    ) -> Result<SlotRules<'a>, ServiceError> {
        let rules = resolved
            .rules(Some(time.duration()))
            .map_err(ServiceError::SlotUnavailable)?;
        let mut busy = resolved.occupied.clone();
        busy.extend(
            self.external_busy(
                &resolved.organizer,
                rules.occupied_by(&time),
                BusyPurpose::Booking,
            )
            .await?
            .intervals,
        );
        let taken = Taken {
            busy: &busy,
            booked: &resolved.booked,
        };
        check_booking(&rules, time, taken, now)?;
        Ok(rules)
    }

    /// The hold `token` names, if it is unexpired and on exactly this slot
    /// of this event type; any other token is ignored (the slot is then
    /// booked, or refused, as if none had been given).
    async fn hold_for(
        &self,
        token: &str,
        resolved: &Resolved,
        time: TimeRange,
        now: DateTime<Utc>,
    ) -> Result<Option<Hold>, ServiceError> {
        let hold = self.store.hold_by_token_hash(&TokenHash::of(token)).await?;
        Ok(hold.filter(|h| {
            h.token_hash.verify(token)
                && h.is_active_at(now)
                && h.organizer_id == resolved.organizer.id
                && h.event_type_id == resolved.event_type.id
                && h.time == time
        }))
    }

    /// Moves a booking to a new time, for its organizer or the holder of its
    /// cancel token. The booking keeps its id and cancel token; its
    /// `sequence` goes up by one and `rescheduled_from` keeps the old time.
    /// The same rules as a new booking apply (hours, notice, window, limits,
    /// its event type), and its own current time never blocks the new one.
    ///
    /// Refusals: [`ServiceError::AlreadyCancelled`],
    /// [`ServiceError::BookingStarted`], [`ServiceError::SlotUnavailable`],
    /// [`ServiceError::BookingLimitReached`], [`ServiceError::EventTypeNotFound`]
    /// when its event type was deleted.
    pub async fn reschedule(
        &self,
        request: RescheduleRequest,
        credential: &Credential,
    ) -> Result<Rescheduled, ServiceError> {
        let booking = self.authorized_booking(request.booking, credential).await?;
        let Some(key) = &request.idempotency_key else {
            return self.reschedule_now(booking, request.time).await;
        };
        let print = fingerprint(&[&time_text(request.time)]);
        let operation = format!("reschedule:{}", booking.id);
        match self
            .claim_key(booking.organizer_id, operation, key, print)
            .await?
        {
            Claimed::Replay(recorded) => match *recorded {
                Recorded::Rescheduled { booking } => Ok(Rescheduled {
                    booking,
                    replayed: true,
                }),
                Recorded::Refused { code, message } => Err(replayed_error(code, message)),
                _ => Err(ServiceError::IdempotencyKeyReused),
            },
            Claimed::Fresh(scope) => {
                let result = self.reschedule_now(booking, request.time).await;
                self.finish_key(&scope, &result, |moved| Recorded::Rescheduled {
                    booking: moved.booking.clone(),
                })
                .await;
                result
            }
        }
    }

    async fn reschedule_now(
        &self,
        booking: Booking,
        time: BookingTime,
    ) -> Result<Rescheduled, ServiceError> {
        if let Some(cancelled_at) = booking.deleted_at {
            return Err(ServiceError::AlreadyCancelled { cancelled_at });
        }
        let now = self.now();
        if booking.start_time() <= now {
            return Err(ServiceError::BookingStarted);
        }
        let config = self.store.organizer_config(booking.organizer_id).await?;
        let slug = config
            .as_ref()
            .and_then(|c| {
                c.event_types
                    .iter()
                    .find(|e| Some(e.id) == booking.event_type_id)
            })
            .map(|e| e.slug.to_string())
            .ok_or(ServiceError::EventTypeNotFound)?;
        let time = meeting(time, booking.time.duration())?;
        let lock_key = SlotKey {
            organizer_id: booking.organizer_id,
            start: time.start(),
        };
        let held = self.acquire_slot_lock(&lock_key).await?;
        let result = self.check_and_move(&booking, &slug, time, now).await;
        held.release().await;
        result
    }

    async fn check_and_move(
        &self,
        booking: &Booking,
        slug: &str,
        time: TimeRange,
        now: DateTime<Utc>,
    ) -> Result<Rescheduled, ServiceError> {
        let mut resolved = self
            .resolve(
                &booking.organizer_id.into(),
                Some(slug),
                time.widened(WIDEST_REACH, WIDEST_REACH),
                counted_range_for(time),
                now,
            )
            .await?;
        // The booking's own time never blocks its new one.
        remove_one(&mut resolved.occupied, &booking.occupied());
        remove_one(&mut resolved.booked, &booking.start_time());
        let rules = self.check_slot(&resolved, time, now).await?;
        let event_type = rules.event_type();
        let snapshot = Booking {
            time,
            buffer_before: event_type.buffer_before,
            buffer_after: event_type.buffer_after,
            updated_at: now,
            sequence: booking.sequence + 1,
            rescheduled_from: Some(booking.time),
            ..booking.clone()
        };
        let mut event = event_of(BookingEventKind::Rescheduled, snapshot, now);
        event.previous_time = Some(booking.time);
        let moved = self
            .store
            .reschedule_booking(Reschedule {
                id: booking.id,
                organizer_id: booking.organizer_id,
                expected_sequence: booking.sequence,
                time,
                buffer_before: event_type.buffer_before,
                buffer_after: event_type.buffer_after,
                limits: rules.limit_checks(time.start()),
                at: now,
                event: Some(event.to_record()),
            })
            .await?;
        Ok(Rescheduled {
            booking: moved,
            replayed: false,
        })
    }

    /// External busy time from the provider; a calendar that cannot be read
    /// becomes [`ServiceError::CalendarUnavailable`].
    pub(super) async fn external_busy(
        &self,
        organizer: &Organizer,
        range: TimeRange,
        purpose: BusyPurpose,
    ) -> Result<BusyTime, ServiceError> {
        self.provider
            .busy_time(organizer, range, purpose)
            .await
            .map_err(|error| match error {
                ProviderError::Unavailable { calendar, cause } => {
                    tracing::warn!(%calendar, error = %cause, "a calendar cannot be read; refusing to book over it");
                    ServiceError::CalendarUnavailable { calendar }
                }
                other => ServiceError::Provider(other),
            })
    }

    /// An active booking, for its organizer or the holder of its cancel token.
    /// Cancelled bookings are [`ServiceError::NotFound`].
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
    /// `from`/`to` are whole local days in the organizer's
    /// [display zone](Self::display_zone), both inclusive; the bounds become
    /// UTC instants before the query, so the store filters and pages in its
    /// own query language.
    pub async fn list_bookings(
        &self,
        organizer: impl Into<OrganizerRef>,
        query: ListQuery,
    ) -> Result<BookingList, ServiceError> {
        let mut errors = ValidationErrors::new();
        if query.page < 1 {
            errors.add(Field::Page, "page must be 1 or more");
        }
        if query.limit < 1 {
            errors.add(Field::Limit, "limit must be 1 or more");
        }
        if let (Some(from), Some(to)) = (query.from, query.to)
            && to < from
        {
            errors.add(Field::EndDate, "endDate must not be before startDate");
        }
        errors.into_result(())?;

        let organizer = self.organizer(organizer).await?;
        let limit = query.limit.min(self.config.max_page_size).max(1);
        let starts_within = match (query.from, query.to) {
            (None, None) => None,
            (from, to) => {
                let zone = self.display_zone(&organizer).await?;
                Some(days_range(zone, from, to)?)
            }
        };
        let offset = u64::from(query.page - 1) * u64::from(limit);
        let page = self
            .store
            .list_bookings(
                organizer.id,
                BookingQuery {
                    starts_within,
                    cancelled_since: None,
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

    /// Cancels (soft-deletes) a booking for its organizer or the holder of its
    /// cancel token. A second cancellation is [`ServiceError::AlreadyCancelled`].
    pub async fn cancel_booking(
        &self,
        id: BookingId,
        credential: &Credential,
    ) -> Result<Cancelled, ServiceError> {
        let booking = self.authorized_booking(id, credential).await?;
        self.cancel_now(booking, credential).await
    }

    /// [`cancel_booking`](Self::cancel_booking) under an idempotency key: a
    /// retry returns the first outcome (`replayed`) instead of
    /// `AlreadyCancelled`.
    pub async fn cancel_booking_idempotent(
        &self,
        id: BookingId,
        credential: &Credential,
        key: &IdempotencyKey,
    ) -> Result<Cancelled, ServiceError> {
        let booking = self.authorized_booking(id, credential).await?;
        let operation = format!("cancel:{id}");
        match self
            .claim_key(
                booking.organizer_id,
                operation,
                key,
                fingerprint(&["cancel"]),
            )
            .await?
        {
            Claimed::Replay(recorded) => match *recorded {
                Recorded::Cancelled {
                    booking,
                    cancelled_at,
                } => Ok(Cancelled {
                    booking,
                    cancelled_at,
                    replayed: true,
                }),
                Recorded::Refused { code, message } => Err(replayed_error(code, message)),
                _ => Err(ServiceError::IdempotencyKeyReused),
            },
            Claimed::Fresh(scope) => {
                let result = self.cancel_now(booking, credential).await;
                self.finish_key(&scope, &result, |done| Recorded::Cancelled {
                    booking: done.booking.clone(),
                    cancelled_at: done.cancelled_at,
                })
                .await;
                result
            }
        }
    }

    /// Cancels `booking` as last read, with its `booking.cancelled` event;
    /// when it changed in between (moved, cancelled), reads it again.
    async fn cancel_now(
        &self,
        mut booking: Booking,
        credential: &Credential,
    ) -> Result<Cancelled, ServiceError> {
        let cancelled_by = match credential {
            Credential::Organizer(_) => Canceller::Organizer,
            Credential::CancelToken(_) => Canceller::Attendee,
        };
        for _ in 0..MAX_CANCEL_ATTEMPTS {
            let cancelled_at = self.now();
            let snapshot = Booking {
                deleted_at: Some(cancelled_at),
                updated_at: cancelled_at,
                sequence: booking.sequence + 1,
                ..booking.clone()
            };
            let mut event = event_of(BookingEventKind::Cancelled, snapshot, cancelled_at);
            event.cancelled_by = Some(cancelled_by);
            let cancellation = Cancellation {
                id: booking.id,
                organizer_id: booking.organizer_id,
                at: cancelled_at,
                expected_sequence: Some(booking.sequence),
                event: Some(event.to_record()),
            };
            match self.store.cancel_booking(cancellation).await {
                Ok(cancelled) => {
                    return Ok(Cancelled {
                        booking: cancelled,
                        cancelled_at,
                        replayed: false,
                    });
                }
                Err(StoreError::BookingChanged(_)) => {
                    booking = self
                        .store
                        .booking(booking.id)
                        .await?
                        .ok_or(ServiceError::NotFound)?;
                }
                Err(other) => return Err(other.into()),
            }
        }
        Err(ServiceError::ConcurrentUpdate)
    }

    /// The booking, if `credential` may act on it.
    pub(super) async fn authorized_booking(
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

/// The UTC range of local dates `from..=to` (open ends: the listed limits).
fn days_range(
    zone: Tz,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<TimeRange, ServiceError> {
    let from = from.unwrap_or(FIRST_LISTED_DATE).max(FIRST_LISTED_DATE);
    let to = to.unwrap_or(LAST_LISTED_DATE).min(LAST_LISTED_DATE);
    local_days_range(zone, from, to).ok_or_else(|| {
        ValidationErrors::single(
            Field::StartDate,
            "dates must be between 1900-01-01 and 9999-12-30",
        )
        .into()
    })
}
