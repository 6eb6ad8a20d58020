//! [`EmailSink`]: booking events into email jobs.

use async_trait::async_trait;
use booking_core::event::BookingEvent;
use booking_core::queue::NewJob;
use booking_core::service::job_for;
use booking_core::store::BoxError;
use booking_core::{BookingService, EventSink, ServiceError};

use super::{EMAIL_QUEUE, EmailJob, Recipient};
use crate::details::BookingDetails;
use crate::ics::Contact;

/// Turns every booking event into two jobs on [`EMAIL_QUEUE`]: one for the
/// attendee, one for the organizer (targets `attendee` and `organizer`).
/// Register it only when email is configured
/// ([`BookingService::with_event_sink`]); the organizer, their display zone
/// and the event type's location are read when the event is dispatched and
/// written into the jobs.
#[derive(Debug, Clone, Default)]
pub struct EmailSink {
    _private: (),
}

impl EmailSink {
    /// The sink.
    pub fn new() -> Self {
        EmailSink::default()
    }
}

#[async_trait]
impl EventSink for EmailSink {
    async fn jobs_for(
        &self,
        service: &BookingService,
        event: &BookingEvent,
    ) -> Result<Vec<NewJob>, BoxError> {
        let booking = &event.booking;
        let details = match BookingDetails::of(service, booking).await {
            Ok(details) => details,
            Err(ServiceError::OrganizerNotFound) => {
                tracing::warn!(booking = %booking.id, "the booking's organizer is gone; no invitation email");
                return Ok(Vec::new());
            }
            Err(error) => return Err(Box::new(error)),
        };
        let organizer = details.organizer;
        let attendee = Contact::new(&booking.attendee.name, &booking.attendee.email);
        let mut jobs = Vec::new();
        for (recipient, to) in [
            (Recipient::Attendee, attendee),
            (Recipient::Organizer, organizer.clone()),
        ] {
            let payload = serde_json::to_string(&EmailJob {
                recipient,
                to,
                organizer: organizer.clone(),
                zone: details.zone,
                location: details.location.clone(),
                event: event.clone(),
            })?;
            jobs.push(job_for(event, EMAIL_QUEUE, recipient.name(), payload));
        }
        Ok(jobs)
    }
}
