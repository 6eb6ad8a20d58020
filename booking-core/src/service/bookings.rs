//! Bookings: create, read, list, cancel.

use chrono::{Duration, NaiveDate};
use chrono_tz::Tz;

use crate::availability::{Taken, check_booking, counted_range_for};
use crate::booking::{Booking, BookingId, BookingRequest, BookingTime, NewBooking};
use crate::lock::SlotKey;
use crate::organizer::{Organizer, OrganizerRef};
use crate::provider::AvailabilityProvider as _;
use crate::secret::SecretToken;
use crate::store::BookingQuery;
use crate::time::{TimeRange, local_days_range};
use crate::validation::{Field, ValidationErrors};

use super::{
    BookingList, BookingService, Cancelled, CreatedBooking, Credential, ListQuery, ServiceError,
    WIDEST_REACH,
};

impl BookingService {
    /// Books a slot for an attendee; see the [module docs](super) for the
    /// steps. Returns the booking and the attendee's cancel token.
    ///
    /// The time must be exactly one offered slot of the event type, of one
    /// of its lengths; anything else is [`ServiceError::SlotUnavailable`]
    /// naming the rule, and a full day or week
    /// [`ServiceError::BookingLimitReached`].
    pub async fn create_booking(
        &self,
        request: BookingRequest,
    ) -> Result<CreatedBooking, ServiceError> {
        request.validate()?;
        let start = request.time.start();
        let organizer_id = self.organizer_id(&request.organizer).await?;
        let key = SlotKey {
            organizer_id,
            start,
        };
        let held = self.acquire_slot_lock(&key).await?;
        let result = self.check_and_insert(request).await;
        held.release().await;
        result
    }

    /// Reads the context under the lock, checks the request against it, then
    /// lets the store arbitrate with its atomic insert.
    async fn check_and_insert(
        &self,
        request: BookingRequest,
    ) -> Result<CreatedBooking, ServiceError> {
        let probe = match request.time {
            BookingTime::Range(range) => range,
            BookingTime::Start { start, .. } => TimeRange::starting_at(start, Duration::days(1))
                .map_err(ServiceError::InvalidTimeRange)?,
        };
        let resolved = self
            .resolve(
                &request.organizer,
                request.event_type.as_deref(),
                probe.widened(WIDEST_REACH, WIDEST_REACH),
                counted_range_for(probe),
            )
            .await?;
        let time = match request.time {
            BookingTime::Range(range) => range,
            BookingTime::Start { start, duration } => {
                TimeRange::starting_at(start, duration.unwrap_or(resolved.event_type.duration))
                    .map_err(ServiceError::InvalidTimeRange)?
            }
        };
        let rules = resolved
            .rules(Some(time.duration()))
            .map_err(ServiceError::SlotUnavailable)?;
        let mut busy = resolved.occupied.clone();
        busy.extend(
            self.external_busy(&resolved.organizer, rules.occupied_by(&time))
                .await?,
        );
        let now = self.now();
        let taken = Taken {
            busy: &busy,
            booked: &resolved.booked,
        };
        check_booking(&rules, time, taken, now)?;
        let cancel_token = SecretToken::generate().map_err(ServiceError::Randomness)?;
        let event_type = rules.event_type();
        let booking = self
            .store
            .insert_booking(NewBooking {
                id: BookingId::generate(),
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
            })
            .await?;
        Ok(CreatedBooking {
            booking,
            cancel_token,
        })
    }

    pub(super) async fn external_busy(
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
        self.authorized_booking(id, credential).await?;
        let cancelled_at = self.now();
        let booking = self.store.cancel_booking(id, cancelled_at).await?;
        Ok(Cancelled {
            booking,
            cancelled_at,
        })
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
