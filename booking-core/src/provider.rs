//! External busy time: [`AvailabilityProvider`], for calendars outside the
//! store (a Google or CalDAV calendar, a holiday feed, ...).

use async_trait::async_trait;

use crate::organizer::Organizer;
use crate::store::BoxError;
use crate::time::TimeRange;

/// A provider could not say when the organizer is busy.
#[derive(Debug, thiserror::Error)]
#[error("the availability provider failed: {0}")]
pub struct ProviderError(#[source] pub BoxError);

/// A source of busy intervals that live outside the booking store.
///
/// Busy intervals block exactly their own time: unlike bookings they carry no
/// buffers of their own, but a candidate slot's buffers may not overlap them.
#[async_trait]
pub trait AvailabilityProvider: Send + Sync {
    /// The organizer's busy intervals overlapping `range`, in any order.
    async fn busy_intervals(
        &self,
        organizer: &Organizer,
        range: TimeRange,
    ) -> Result<Vec<TimeRange>, ProviderError>;
}

/// A shared provider is a provider, so `BookingService::with_provider` takes
/// an `Arc<dyn AvailabilityProvider>` as readily as a concrete one.
#[async_trait]
impl<P: AvailabilityProvider + ?Sized> AvailabilityProvider for std::sync::Arc<P> {
    async fn busy_intervals(
        &self,
        organizer: &Organizer,
        range: TimeRange,
    ) -> Result<Vec<TimeRange>, ProviderError> {
        (**self).busy_intervals(organizer, range).await
    }
}

/// The default provider: no external calendar, never busy.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoExternalCalendar;

#[async_trait]
impl AvailabilityProvider for NoExternalCalendar {
    async fn busy_intervals(
        &self,
        _organizer: &Organizer,
        _range: TimeRange,
    ) -> Result<Vec<TimeRange>, ProviderError> {
        Ok(Vec::new())
    }
}

/// A fixed list of busy intervals, whoever the organizer; handy in tests and
/// for a static blackout list.
#[derive(Debug, Clone, Default)]
pub struct StaticBusy(pub Vec<TimeRange>);

#[async_trait]
impl AvailabilityProvider for StaticBusy {
    async fn busy_intervals(
        &self,
        _organizer: &Organizer,
        range: TimeRange,
    ) -> Result<Vec<TimeRange>, ProviderError> {
        Ok(self
            .0
            .iter()
            .copied()
            .filter(|busy| busy.overlaps(&range))
            .collect())
    }
}
