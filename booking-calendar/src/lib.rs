//! # booking-calendar
//!
//! Calendars for a [`booking_core`] service, through the standards
//! (RFC 5545 iCalendar, RFC 5546 iTIP, RFC 4791 CalDAV) and well-kept
//! crates (`icalendar` to write and parse, `rrule` to expand recurrences,
//! `lettre` for SMTP, `quick-xml` for CalDAV answers), with every outbound
//! request through [`booking_net::SafeClient`].
//!
//! | module | what it does |
//! |---|---|
//! | [`ics`] | a booking's invitation: one `VEVENT`, stable `UID`, `METHOD:REQUEST` / `CANCEL`, `SEQUENCE` |
//! | [`details`] | what an invitation needs besides the booking (organizer, zone, location), read through the service |
//! | [`feed`] | an organizer's subscribable feed of active and recently cancelled bookings |
//! | [`tokens`] | the feed's own secret token per organizer: shown on demand, rotatable, only its hash stored |
//! | [`email`] | invitations by email: an [`EventSink`](booking_core::EventSink) that queues one job per recipient, and the worker that sends them over SMTP |
//! | [`connections`] | an organizer's connected calendars (ICS feed, or CalDAV with an encrypted password) |
//! | [`provider`] | [`CalendarProvider`]: their busy time as an [`AvailabilityProvider`](booking_core::AvailabilityProvider), cached, with the failure policy |
//! | [`parse`], [`vtimezone`], [`caldav`], [`fetch`] | reading events (and custom time zone definitions), CalDAV `REPORT`s and feeds |
//!
//! ## Invitations
//!
//! Each booking is one calendar entry whose `UID` is `{booking id}@{host}`
//! forever. While active it is sent as `METHOD:REQUEST` /
//! `STATUS:CONFIRMED`; once cancelled as `METHOD:CANCEL` /
//! `STATUS:CANCELLED`. `SEQUENCE` is the booking's sequence (one more per
//! reschedule and on cancellation), `DTSTAMP` its `updated_at`, so every
//! version renders the same way every time and a calendar program always
//! keeps the latest. Times are UTC; names and text are escaped for
//! iCalendar (see [`ics`]).
//!
//! ## Email
//!
//! Sending never blocks or fails a booking: the store writes the booking
//! event in the same atomic step as the change (booking-core's outbox);
//! [`email::EmailSink`] turns each event into one job per recipient on the
//! queue [`email::EMAIL_QUEUE`]; [`email::EmailWorker`] claims those jobs
//! and sends them, retrying failures on the service's retry schedule and
//! logging each outcome. Delivery is at least once.
//!
//! ## Busy time from external calendars
//!
//! [`CalendarProvider`] reads every calendar the organizer connected and
//! returns the union of their busy time.
//!
//! * **Freshness**: a copy is reused while younger than 5 minutes for slot
//!   lists and 1 minute for booking decisions ([`provider::Freshness`]);
//!   ICS feeds are re-read with `If-None-Match`.
//! * **Failure policy**: a booking decision with no copy young enough is
//!   refused with [`ProviderError::Unavailable`](booking_core::ProviderError)
//!   (the service answers `CalendarUnavailable`, 503), so nobody books over
//!   a meeting that could not be seen; a slot list uses the last copy and
//!   names the calendar in [`BusyTime::stale`](booking_core::BusyTime).
//! * **What is ignored**: `STATUS:CANCELLED` and `TRANSP:TRANSPARENT`
//!   events, cancelled or excluded instances of recurring ones,
//!   `RANGE=THISANDFUTURE`, `EXRULE`, and attendees' own replies. All-day
//!   events are whole days in the organizer's zone. A `TZID` is read as an
//!   IANA or Windows zone name, else by its `VTIMEZONE`; one that resolves
//!   to nothing is read in the organizer's zone and logged (see [`parse`]).
//! * **Secrets**: a CalDAV password is sealed with
//!   [`SecretBox`](booking_core::secret::SecretBox) (ChaCha20-Poly1305, the
//!   server's key) before it is stored and never returned; without a key,
//!   CalDAV connections are refused. Feed tokens are derived with the
//!   server key and only their SHA-256 is stored.
//! * **Outbound requests**: only addresses the
//!   [`UrlPolicy`](booking_net::UrlPolicy) allows (public ones, unless
//!   private ones are allowed for tests), checked when a URL is stored and
//!   again after DNS and on every redirect; each response is capped in size
//!   and time by the [`SafeClient`](booking_net::SafeClient).
//!
//! ## Putting it together
//!
//! ```no_run
//! use std::sync::Arc;
//! use booking_calendar::connections::Connections;
//! use booking_calendar::email::{EmailConfig, EmailSink, EmailWorker};
//! use booking_calendar::ics::BookingLinks;
//! use booking_calendar::provider::CalendarProvider;
//! use booking_core::secret::SecretBox;
//! use booking_core::{BookingService, BookingStore, MemoryStore};
//! use booking_net::{SafeClient, SafeClientOptions, UrlPolicy};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let store: Arc<dyn BookingStore> = Arc::new(MemoryStore::new());
//! let policy = UrlPolicy::public_only();
//! let key = SecretBox::new(b"BOOKING_SECRET_KEY's value");
//! let connections = Connections::new(store.clone(), policy, Some(key));
//! let provider = CalendarProvider::new(connections, SafeClient::new(policy, SafeClientOptions::default())?);
//! let service = BookingService::new(store)
//!     .with_provider(provider)
//!     .with_event_sink(EmailSink::new());
//! let config = EmailConfig::from_url("smtp://127.0.0.1:2525", "Bookings <bookings@example.com>")?;
//! let worker = EmailWorker::new(service.clone(), config, "booking.example.com")?
//!     .with_links(|_booking: &booking_core::Booking, _to| BookingLinks::default());
//! tokio::spawn(worker.run(std::time::Duration::from_secs(2)));
//! # Ok(()) }
//! ```

pub mod caldav;
pub mod connections;
pub mod details;
pub mod email;
pub mod feed;
pub mod fetch;
pub mod ics;
pub mod parse;
pub mod provider;
pub mod tokens;
pub mod vtimezone;

pub use connections::{Connection, ConnectionError, Connections, NewConnection};
pub use details::BookingDetails;
pub use feed::OrganizerFeed;
pub use ics::{BookingLinks, Contact, Invitation, ItipMethod};
pub use provider::{CalendarProvider, Freshness};
pub use tokens::{FeedToken, FeedTokens};
