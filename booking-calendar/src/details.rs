//! What a booking's calendar entry and emails need besides the booking
//! itself: the organizer as a contact, the zone to show times in, and the
//! event type's location. Read through the [`BookingService`], in one
//! place for the `.ics` endpoint, the feed's callers and the email sink.

use booking_core::{Booking, BookingService, Location, ServiceError, Tz};

use crate::ics::{BookingLinks, Contact, Invitation};

/// The organizer, display zone and location of a booking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingDetails {
    /// The organizer.
    pub organizer: Contact,
    /// The organizer's display zone (their default schedule's zone).
    pub zone: Tz,
    /// The event type's location, if it has one (and still exists).
    pub location: Option<Location>,
}

impl BookingDetails {
    /// The details of `booking`, read through `service`;
    /// [`ServiceError::OrganizerNotFound`] if its organizer is gone.
    pub async fn of(service: &BookingService, booking: &Booking) -> Result<Self, ServiceError> {
        let organizer = service.organizer(booking.organizer_id).await?;
        let zone = service.display_zone(organizer.id).await?;
        let location = match booking.event_type_id {
            Some(id) => service
                .event_types(organizer.id)
                .await?
                .into_iter()
                .find(|event_type| event_type.id == id)
                .and_then(|event_type| event_type.location),
            None => None,
        };
        Ok(BookingDetails {
            organizer: Contact::from(&organizer),
            zone,
            location,
        })
    }

    /// The `.ics` of `booking` (UIDs under `host`) with `links`: what a
    /// `GET /api/bookings/{id}/ics` serves, as `text/calendar`.
    ///
    /// ```
    /// use booking_calendar::details::BookingDetails;
    /// use booking_calendar::BookingLinks;
    /// use booking_core::chrono::{Duration, Utc};
    /// use booking_core::{Attendee, BookingRequest, BookingService, EventTypeDraft, MemoryStore, NewOrganizer, SlotQuery, TimeRange, Tz};
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let service = BookingService::new(MemoryStore::new());
    /// let (ada, _) = service
    ///     .register_organizer(NewOrganizer::new("ada", "ada@example.com", "Ada", Tz::Europe__London))
    ///     .await?;
    /// service.create_event_type(&ada, EventTypeDraft::new("intro", "Intro", Duration::minutes(30))).await?;
    /// let week = TimeRange::starting_at(Utc::now(), Duration::days(7))?;
    /// let slot = service.available_slots(SlotQuery::new("ada", week).event_type("intro")).await?[0];
    /// let booking = service
    ///     .create_booking(BookingRequest::new("ada", slot, Attendee::new("Grace", "grace@example.com")).event_type("intro"))
    ///     .await?
    ///     .booking;
    /// let ics = BookingDetails::of(&service, &booking)
    ///     .await?
    ///     .invitation(&booking, "booking.example.com", BookingLinks::default());
    /// assert!(ics.contains("METHOD:REQUEST"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub fn invitation(&self, booking: &Booking, host: &str, links: BookingLinks) -> String {
        Invitation::new(booking, &self.organizer, host)
            .location(self.location.as_ref())
            .links(links)
            .to_ics()
    }
}
