//! Calendars, invitation emails and webhooks around the booking service,
//! and the background work that delivers them.
//!
//! [`assemble`] builds the [`App`]: the [`BookingService`] with
//!
//! * the organizers' connected calendars as its availability provider
//!   ([`CalendarProvider`]: ICS feeds and CalDAV, cached, refusing a
//!   booking with `calendar_unavailable` when a calendar cannot be read);
//! * the webhook sink, always ([`WebhookSink`]: one delivery job per
//!   endpoint that wants the event);
//! * the email sink when `SMTP_URL` is set ([`EmailSink`]: one job per
//!   recipient, attendee and organizer);
//!
//! and the pieces the HTTP handlers need (webhook management, calendar
//! connections, the organizer feed and its tokens).
//!
//! Every booking change writes its event in the same atomic step as the
//! change (booking-core's outbox). [`Background::start`] runs, until
//! shutdown:
//!
//! * the **webhook worker**, which also **dispatches** undispatched events
//!   into jobs for every sink (email included) at each step, then delivers
//!   the due webhook jobs (looking again at once while there is work, else
//!   every second);
//! * the **email worker** when `SMTP_URL` is set, which sends the due
//!   email jobs every second.
//!
//! A process killed at any point leaves an undispatched event or an
//! unfinished job in the store; the next process (or another one sharing
//! the store) picks it up. Delivery is at least once; receivers
//! de-duplicate by event id (`webhook-id`).

use std::sync::Arc;
use std::time::Duration;

use booking_calendar::email::{EmailConfig, EmailSink, EmailWorker, Recipient};
use booking_calendar::{BookingLinks, CalendarProvider, Connections, FeedTokens, OrganizerFeed};
use booking_core::secret::SecretBox;
use booking_core::{Booking, BookingService, BookingStore, SlotLock};
use booking_net::{SafeClient, SafeClientOptions, UrlPolicy};
use booking_webhooks::{WebhookSink, Webhooks};
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::IntegrationsConfig;
use crate::http::dto::{BookingDto, instant};

/// How often the email worker looks for due emails.
pub const EMAIL_POLL: Duration = Duration::from_secs(1);
/// How long the webhook worker waits between steps when idle.
pub const WEBHOOK_POLL: Duration = Duration::from_secs(1);

/// The booking service and everything around it. Cheap to clone.
#[derive(Clone, Debug)]
pub struct App {
    /// The service, with its provider and sinks registered.
    pub service: BookingService,
    /// Calendars, emails and webhooks.
    pub integrations: Integrations,
}

/// Calendars, emails and webhooks of one service. Cheap to clone.
#[derive(Clone)]
pub struct Integrations {
    /// The store the service uses.
    pub store: Arc<dyn BookingStore>,
    /// Organizers' webhook endpoints, and their worker.
    pub webhooks: Webhooks,
    /// Organizers' connected calendars.
    pub connections: Connections,
    /// Organizers' subscribable feeds.
    pub feed: OrganizerFeed,
    /// Feed tokens; `None` without `BOOKING_SECRET_KEY` (they are derived
    /// from it).
    pub feed_tokens: Option<FeedTokens>,
    /// The email worker; `None` without `SMTP_URL`.
    pub email: Option<EmailWorker>,
    /// Where people reach the service, without a trailing slash.
    pub public_url: String,
    /// The host of calendar UIDs.
    pub host: String,
}

impl std::fmt::Debug for Integrations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Integrations")
            .field("webhooks", &self.webhooks)
            .field("connections", &self.connections)
            .field("feed_tokens", &self.feed_tokens.is_some())
            .field("email", &self.email.is_some())
            .field("public_url", &self.public_url)
            .finish_non_exhaustive()
    }
}

/// Why calendars, emails or webhooks could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IntegrationError {
    /// The outbound HTTP client could not be made.
    #[error("the outbound HTTP client cannot be set up: {0}")]
    Client(#[from] booking_net::FetchError),
    /// The webhooks could not be set up.
    #[error("webhooks cannot be set up: {0}")]
    Webhooks(#[from] booking_webhooks::WebhookError),
    /// The SMTP settings cannot be used.
    #[error("email cannot be set up: {0}")]
    Email(#[from] booking_calendar::email::EmailConfigError),
}

/// The booking's JSON as the API shows it, with its status and
/// cancellation time: what webhooks carry as `data.booking` (never the
/// cancel token).
pub fn webhook_booking_json(booking: &Booking) -> Value {
    let mut value = json!(BookingDto::from(booking));
    if let Value::Object(fields) = &mut value {
        fields.insert(
            "status".into(),
            json!(if booking.is_active() {
                "active"
            } else {
                "cancelled"
            }),
        );
        fields.insert("cancelledAt".into(), json!(booking.deleted_at.map(instant)));
        fields.insert(
            "rescheduledFrom".into(),
            json!(booking.rescheduled_from.map(|time| json!({
                "startTime": instant(time.start()),
                "endTime": instant(time.end()),
            }))),
        );
    }
    value
}

/// The service over `store` and `lock`, with its calendars, emails and
/// webhooks as `config` says.
pub fn assemble(
    store: Arc<dyn BookingStore>,
    lock: Arc<dyn SlotLock>,
    config: &IntegrationsConfig,
) -> Result<App, IntegrationError> {
    let policy = if config.allow_private_urls {
        UrlPolicy::allow_private()
    } else {
        UrlPolicy::public_only()
    };
    let secret_box = config
        .secret_key
        .as_ref()
        .map(|key| SecretBox::new(key.as_bytes()));
    let connections = Connections::new(store.clone(), policy, secret_box.clone());
    let client = SafeClient::new(policy, SafeClientOptions::default())?;
    let mut service = BookingService::new(store.clone()).with_lock(lock);
    if let Some(key) = &config.secret_key {
        service = service.with_secret(idempotency_secret(key));
    }
    let mut service = service
        .with_provider(CalendarProvider::new(connections.clone(), client))
        .with_event_sink(WebhookSink::new(store.clone(), webhook_booking_json));
    let email_config = match &config.smtp_url {
        Some(url) => {
            service = service.with_event_sink(EmailSink::new());
            Some(EmailConfig::from_url(url, &config.email_from)?)
        }
        None => None,
    };
    let mut webhooks = Webhooks::new(service.clone(), store.clone(), policy)?;
    if let Some(key) = secret_box {
        webhooks = webhooks.with_secret_box(key);
    }
    let email = match email_config {
        Some(email_config) => {
            let base = config.public_url.clone();
            Some(
                EmailWorker::new(service.clone(), email_config, config.host.clone())?.with_links(
                    move |_: &Booking, recipient: Recipient| email_links(&base, recipient),
                ),
            )
        }
        None => None,
    };
    let integrations = Integrations {
        webhooks,
        connections,
        feed: OrganizerFeed::new(store.clone(), config.host.clone()),
        feed_tokens: config
            .secret_key
            .as_ref()
            .map(|key| FeedTokens::new(store.clone(), key.as_bytes())),
        email,
        public_url: config.public_url.clone(),
        host: config.host.clone(),
        store,
    };
    Ok(App {
        service,
        integrations,
    })
}

/// The secret booking-core mixes into the cancel tokens of bookings made
/// with an idempotency key ([`BookingService::with_secret`]), derived from
/// `BOOKING_SECRET_KEY` for that use only (HMAC-SHA256 of a fixed label),
/// so the key itself is not reused as is. Stable for a given key, so a
/// replay after a restart returns the token the booking was made with.
fn idempotency_secret(key: &str) -> [u8; 32] {
    use hmac::{Hmac, Mac as _};
    type HmacSha256 = Hmac<sha2::Sha256>;
    // HMAC takes keys of any length; `new_from_slice` cannot fail here.
    let mut mac = match HmacSha256::new_from_slice(key.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => return <sha2::Sha256 as sha2::Digest>::digest(key.as_bytes()).into(),
    };
    mac.update(b"booking-service: idempotency cancel tokens v1");
    mac.finalize().into_bytes().into()
}

/// The links of an invitation email. The attendee's cancel token is stored
/// only as a hash, so their email cannot carry a cancel link (the
/// confirmation page and the `.ics` fetched with the token do); the
/// organizer's points at the dashboard.
fn email_links(base: &str, recipient: Recipient) -> BookingLinks {
    match recipient {
        Recipient::Organizer => BookingLinks {
            reschedule: None,
            cancel: Some(format!("{base}/dashboard")),
        },
        _ => BookingLinks::default(),
    }
}

/// The background work of one process: the webhook worker (which also
/// dispatches events for every sink) and the email worker.
#[derive(Debug)]
pub struct Background {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Background {
    /// Starts the workers of `integrations`. Logs once whether emails are
    /// sent.
    pub fn start(integrations: &Integrations) -> Self {
        let (stop, stopped) = watch::channel(false);
        let mut tasks = Vec::new();
        let worker = integrations
            .webhooks
            .worker()
            .with_poll_interval(WEBHOOK_POLL);
        tasks.push(tokio::spawn(worker.run(until_stopped(stopped.clone()))));
        match &integrations.email {
            Some(email) => {
                tasks.push(tokio::spawn(run_email(email.clone(), stopped)));
            }
            None => {
                tracing::info!("SMTP_URL is unset: no invitation emails are sent");
            }
        }
        Background { stop, tasks }
    }

    /// Stops the workers after the step each is in, and waits for them.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            if let Err(error) = task.await
                && error.is_panic()
            {
                tracing::error!(%error, "a background worker panicked");
            }
        }
    }
}

/// Completes once `stop` says so (or its sender is gone).
async fn until_stopped(mut stopped: watch::Receiver<bool>) {
    let _ = stopped.wait_for(|stop| *stop).await;
}

/// Sends due emails every [`EMAIL_POLL`] until stopped; a round in
/// progress is finished first.
async fn run_email(worker: EmailWorker, stopped: watch::Receiver<bool>) {
    tracing::info!(worker = ?worker, "sending invitation emails");
    let stop = until_stopped(stopped);
    tokio::pin!(stop);
    loop {
        if let Err(error) = worker.run_once().await {
            tracing::warn!(%error, "the email worker could not read its jobs; trying again");
        }
        tokio::select! {
            biased;
            () = &mut stop => return,
            () = tokio::time::sleep(EMAIL_POLL) => {}
        }
    }
}
