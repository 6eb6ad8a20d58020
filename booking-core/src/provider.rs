//! External busy time: [`AvailabilityProvider`], for calendars outside the
//! store (a Google or CalDAV calendar, a holiday feed, ...).

use async_trait::async_trait;

use crate::organizer::Organizer;
use crate::store::BoxError;
use crate::time::TimeRange;

/// A provider could not say when the organizer is busy.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProviderError {
    /// A calendar could not be read and no copy fresh enough for the purpose
    /// exists: a booking must not be made over time nobody could see.
    #[error("the calendar {calendar:?} cannot be read right now")]
    Unavailable {
        /// The calendar's name, for people.
        calendar: String,
        /// Why it could not be read.
        #[source]
        cause: BoxError,
    },
    /// Anything else went wrong.
    #[error("the availability provider failed: {0}")]
    Failed(#[source] BoxError),
}

/// What busy time is asked for: a slot list may show a copy a few minutes
/// old (and say which calendar is stale); a booking decision needs a fresh
/// one, or none at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BusyPurpose {
    /// Listing slots.
    Listing,
    /// Deciding a booking, a move or a hold.
    Booking,
}

/// An organizer's external busy time.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BusyTime {
    /// Busy intervals overlapping the range asked for, in any order.
    pub intervals: Vec<TimeRange>,
    /// Calendars that could not be refreshed and whose older copy was used
    /// (only when listing).
    pub stale: Vec<String>,
}

impl From<Vec<TimeRange>> for BusyTime {
    fn from(intervals: Vec<TimeRange>) -> Self {
        BusyTime {
            intervals,
            stale: Vec::new(),
        }
    }
}

/// A source of busy intervals that live outside the booking store.
///
/// Busy intervals block exactly their own time: unlike bookings they carry no
/// buffers of their own, but a candidate slot's buffers may not overlap them.
#[async_trait]
pub trait AvailabilityProvider: Send + Sync {
    /// The organizer's busy time overlapping `range`, for `purpose`.
    async fn busy_time(
        &self,
        organizer: &Organizer,
        range: TimeRange,
        purpose: BusyPurpose,
    ) -> Result<BusyTime, ProviderError>;
}

/// A shared provider is a provider, so `BookingService::with_provider` takes
/// an `Arc<dyn AvailabilityProvider>` as readily as a concrete one.
#[async_trait]
impl<P: AvailabilityProvider + ?Sized> AvailabilityProvider for std::sync::Arc<P> {
    async fn busy_time(
        &self,
        organizer: &Organizer,
        range: TimeRange,
        purpose: BusyPurpose,
    ) -> Result<BusyTime, ProviderError> {
        (**self).busy_time(organizer, range, purpose).await
    }
}

/// The default provider: no external calendar, never busy.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoExternalCalendar;

#[async_trait]
impl AvailabilityProvider for NoExternalCalendar {
    async fn busy_time(
        &self,
        _organizer: &Organizer,
        _range: TimeRange,
        _purpose: BusyPurpose,
    ) -> Result<BusyTime, ProviderError> {
        Ok(BusyTime::default())
    }
}

/// A fixed list of busy intervals, whoever the organizer; handy in tests and
/// for a static blackout list.
#[derive(Debug, Clone, Default)]
pub struct StaticBusy(pub Vec<TimeRange>);

#[async_trait]
impl AvailabilityProvider for StaticBusy {
    async fn busy_time(
        &self,
        _organizer: &Organizer,
        range: TimeRange,
        _purpose: BusyPurpose,
    ) -> Result<BusyTime, ProviderError> {
        Ok(self
            .0
            .iter()
            .copied()
            .filter(|busy| busy.overlaps(&range))
            .collect::<Vec<_>>()
            .into())
    }
}
