//! Invitations by email: the attendee and the organizer each get a
//! plain-text + HTML message with the booking's `.ics` attached
//! (`text/calendar; method=REQUEST` when a booking is made or moved,
//! `method=CANCEL` when it is cancelled).
//!
//! Sending goes through booking-core's durable outbox, never the booking's
//! own request: the store writes each booking event atomically with the
//! change; [`EmailSink`] (registered with
//! [`BookingService::with_event_sink`](booking_core::BookingService::with_event_sink))
//! turns it into one job per recipient on the queue [`EMAIL_QUEUE`]; the
//! [`EmailWorker`] claims due jobs, sends them over SMTP with `lettre`, and
//! records the outcome: done, retried later on the service's retry schedule
//! (connection failures, timeouts, `4xx` answers), or dead (`5xx` answers,
//! an address that cannot be parsed). A process dying at any point leaves
//! an undispatched event or an unfinished job, sent later: delivery is at
//! least once, and jobs of one booking and recipient go out in order.
//!
//! ## `SMTP_URL`
//!
//! [`EmailConfig::from_url`] takes the forms `lettre` defines:
//!
//! | URL | connection |
//! |---|---|
//! | `smtp://host:port` | plain SMTP, no TLS (local relays and tests only) |
//! | `smtp://host:port?tls=required` | STARTTLS, refused if the server does not offer it |
//! | `smtp://host:port?tls=opportunistic` | STARTTLS when offered (open to a downgrade: not for production) |
//! | `smtps://host:port` | TLS from the first byte (implicit TLS, port 465) |
//!
//! Credentials go in the URL, percent-encoded: `smtps://user:pass@host`.
//! Certificates are checked against the Mozilla root store
//! (`webpki-roots`), or against [`EmailConfig::with_root_certificate`].

use booking_core::event::BookingEvent;
use booking_core::{Booking, Location, Tz};
use serde::{Deserialize, Serialize};

use crate::ics::{BookingLinks, Contact};

mod config;
mod message;
mod sink;
mod worker;

pub use config::{EmailConfig, EmailConfigError};
pub use message::{MessageError, invitation_message};
pub use sink::EmailSink;
pub use worker::{EmailWorker, WorkReport};

/// The job queue of invitation emails.
pub const EMAIL_QUEUE: &str = "email";

/// Who an email goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Recipient {
    /// The person who booked.
    Attendee,
    /// The person whose time was booked.
    Organizer,
}

impl Recipient {
    /// `attendee` or `organizer`: the job's target within the queue.
    pub fn name(self) -> &'static str {
        match self {
            Recipient::Attendee => "attendee",
            Recipient::Organizer => "organizer",
        }
    }
}

/// Everything one email needs, written into its job when the event is
/// dispatched, so the message says what was true then.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailJob {
    /// Who it goes to.
    pub recipient: Recipient,
    /// Their name and address.
    pub to: Contact,
    /// The organizer.
    pub organizer: Contact,
    /// The zone the message shows times in (the organizer's display zone).
    pub zone: Tz,
    /// The event type's location, if it has one.
    pub location: Option<Location>,
    /// The booking event.
    pub event: BookingEvent,
}

/// Makes the reschedule and cancel links of a booking's emails; only the
/// application knows its URLs, and how a recipient proves who they are.
/// Any `Fn(&Booking, Recipient) -> BookingLinks` is one.
pub trait LinkMaker: Send + Sync {
    /// The links for `recipient`'s copy of `booking`'s message.
    fn links(&self, booking: &Booking, recipient: Recipient) -> BookingLinks;
}

impl<F> LinkMaker for F
where
    F: Fn(&Booking, Recipient) -> BookingLinks + Send + Sync,
{
    fn links(&self, booking: &Booking, recipient: Recipient) -> BookingLinks {
        self(booking, recipient)
    }
}
