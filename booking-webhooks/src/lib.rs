//! # booking-webhooks
//!
//! Webhooks for a booking service: organizers register HTTPS endpoints and
//! receive `booking.created`, `booking.rescheduled` and `booking.cancelled`
//! events, signed per [Standard Webhooks](https://www.standardwebhooks.com/),
//! delivered from booking-core's durable outbox: never for a change that
//! rolled back, never lost when a process dies, retried for about a day and
//! a half.
//!
//! ## Wiring
//!
//! ```
//! use std::sync::Arc;
//! use booking_core::{BookingService, BookingStore, MemoryStore};
//! use booking_net::UrlPolicy;
//! use booking_webhooks::{WebhookSink, Webhooks, default_booking_json};
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let store: Arc<dyn BookingStore> = Arc::new(MemoryStore::new());
//! // 1. The sink turns each booking event into delivery jobs. Register it
//! //    (with every other sink) on every service sharing the store.
//! let service = BookingService::new(store.clone())
//!     .with_event_sink(WebhookSink::new(store.clone(), default_booking_json));
//! // 2. The management API and the worker, over that complete service.
//! let webhooks = Webhooks::new(service, store, UrlPolicy::public_only())?;
//! // 3. Deliver in the background until shutdown.
//! let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
//! let worker = tokio::spawn(webhooks.worker().run(async { let _ = stopped.await; }));
//! let _ = stop.send(());
//! worker.await?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! Organizers then manage endpoints with [`Webhooks::create_endpoint`]
//! (which returns the signing secret, once), [`Webhooks::endpoints`],
//! [`Webhooks::delete_endpoint`], [`Webhooks::rotate_secret`] and
//! [`Webhooks::deliveries`]. `examples/receive.rs` runs the whole path
//! against a receiver on loopback that verifies the signature.
//!
//! ## Design
//!
//! **Endpoints** are booking-core [records](booking_core::record) of kind
//! `webhook` (see [`endpoint`]): URL, subscribed event kinds, signing
//! secrets with their validity, and why the endpoint is disabled if it is.
//! Secrets are sealed with the service's
//! [`SecretBox`](booking_core::secret::SecretBox) when it has a key
//! ([`Webhooks::with_secret_box`]).
//!
//! **Payload** (see [`payload`]): `{"type", "timestamp", "data": {"booking":
//! {...}}}`, the booking in the application's own API shape (a
//! [`BookingRenderer`]), never its cancel token or the token's hash;
//! `booking.rescheduled` adds `previousTime` and `time`, `booking.cancelled`
//! adds `cancelledBy`. The body is rendered when the event is dispatched
//! and stored in the job, so every retry sends the same bytes.
//!
//! **Headers**: `webhook-id` is the event's id, the same on every attempt;
//! `webhook-timestamp` the attempt's time (Unix seconds); `webhook-signature`
//! `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">` for each live
//! secret, space-separated; `content-type: application/json`. Receivers
//! verify with any Standard Webhooks library (which also refuses timestamps
//! more than five minutes off, against replays).
//!
//! **Rotation**: [`Webhooks::rotate_secret`] adds a new secret; the old one
//! keeps signing for [`SECRET_OVERLAP`] (24 hours), so for that day every
//! delivery carries both signatures and the receiver can switch whenever
//! it likes.
//!
//! **Delivery** (see [`worker`]): a `POST` through
//! [`SafeClient`](booking_net::SafeClient) with a [`DELIVERY_TIMEOUT`] of
//! 10 seconds. A `2xx` is success. `410 Gone` disables the endpoint (with
//! the reason, shown in [`Endpoint::disabled`]) and ends the job; the
//! endpoint gets no further jobs. Anything else (another status, a timeout,
//! no connection) is retried on booking-core's
//! [`RetrySchedule`](booking_core::queue::RetrySchedule): immediately, then
//! after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 24 h (each shortened by up
//! to a tenth at random, so recovering receivers are not hit all at once);
//! after that the job is dead and stays visible in
//! [`Webhooks::deliveries`].
//!
//! **Ordering**: the queue hands out a booking's jobs for one endpoint one
//! at a time, in event order; a failing delivery holds back later events
//! of the same booking to that endpoint (not other bookings' or other
//! endpoints').
//!
//! **At least once**: the event is written in the booking change's own
//! transaction, dispatched into jobs atomically, and a job is finished only
//! after its attempt. A worker that dies mid-delivery lets its lease
//! (60 s) run out and the job is sent again, so a receiver may see an
//! event twice: **de-duplicate by `webhook-id`**. Several workers (in one
//! process or many) share the work without sending a job twice in normal
//! operation: a claim leases the job to one of them.
//!
//! **Server-side request forgery**: endpoint URLs are attacker-controlled.
//! They are checked by [`UrlPolicy`](booking_net::UrlPolicy) at creation
//! (http/https, at most 2048 characters, no credentials, no private address
//! literal) and every delivery goes through `SafeClient`, which refuses
//! loopback, private and link-local targets after DNS resolution and on
//! every redirect. Tests and local development use
//! `UrlPolicy::allow_private()` (the example service's
//! `BOOKING_ALLOW_PRIVATE_URLS=1`).

pub mod delivery;
pub mod endpoint;
pub mod error;
pub mod management;
pub mod payload;
pub mod signing;
pub mod sink;
pub mod worker;

pub use delivery::Delivery;
pub use endpoint::{Disabled, Endpoint, EndpointDraft, EndpointId};
pub use error::{WebhookError, WebhookField};
pub use management::{
    CreatedEndpoint, DELIVERY_TIMEOUT, MAX_DELIVERIES, MAX_ENDPOINTS, SECRET_OVERLAP, Webhooks,
};
pub use payload::{BookingRenderer, default_booking_json, webhook_body};
pub use signing::SigningSecret;
pub use sink::{QUEUE, WebhookSink};
pub use worker::{RunReport, WebhookWorker};
