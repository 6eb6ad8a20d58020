//! [`EmailWorker`]: sends the queued invitation emails.

use std::sync::Arc;

use booking_core::queue::{Job, JobResult};
use booking_core::service::DEFAULT_LEASE;
use booking_core::{BookingService, ServiceError};
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Tokio1Executor};

use super::{EMAIL_QUEUE, EmailConfig, EmailConfigError, EmailJob, LinkMaker, invitation_message};
use crate::ics::BookingLinks;

/// Jobs claimed per round.
const BATCH: u32 = 20;

/// What one round of [`EmailWorker::run_once`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WorkReport {
    /// Messages the server accepted.
    pub sent: usize,
    /// Failed attempts to be retried later.
    pub retried: usize,
    /// Jobs given up on (refused for good, or out of retries).
    pub dead: usize,
}

/// Claims due jobs of [`EMAIL_QUEUE`](super::EMAIL_QUEUE) and sends them.
/// Several workers (in one process or many sharing a store) never send
/// the same job at once: claims are leased.
#[derive(Clone)]
pub struct EmailWorker {
    service: BookingService,
    /// Made on first use: its connection pool needs a Tokio runtime.
    transport: Arc<tokio::sync::OnceCell<AsyncSmtpTransport<Tokio1Executor>>>,
    config: EmailConfig,
    host: String,
    links: Arc<dyn LinkMaker>,
}

impl std::fmt::Debug for EmailWorker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailWorker")
            .field("config", &self.config)
            .field("host", &self.host)
            .finish_non_exhaustive()
    }
}

impl EmailWorker {
    /// A worker sending `service`'s email jobs as `config` says, with
    /// invitation UIDs under `host` (the same host as the `.ics` endpoint
    /// and the feed), and no links until [`with_links`](Self::with_links).
    /// The TLS settings are checked now; the connection pool starts on the
    /// first send.
    pub fn new(
        service: BookingService,
        config: EmailConfig,
        host: impl Into<String>,
    ) -> Result<Self, EmailConfigError> {
        config.tls()?;
        Ok(EmailWorker {
            service,
            transport: Arc::default(),
            config,
            host: host.into(),
            links: Arc::new(|_: &booking_core::Booking, _| BookingLinks::default()),
        })
    }

    /// Uses `links` for the messages' reschedule and cancel links.
    pub fn with_links(mut self, links: impl LinkMaker + 'static) -> Self {
        self.links = Arc::new(links);
        self
    }

    /// Dispatches pending booking events, then claims and sends the due
    /// email jobs. Errors are the store's; a failed send is recorded on its
    /// job (retried or dead) and logged, not returned.
    pub async fn run_once(&self) -> Result<WorkReport, ServiceError> {
        self.service.dispatch_events(100).await?;
        let mut report = WorkReport::default();
        loop {
            let jobs = self
                .service
                .claim_jobs(EMAIL_QUEUE, BATCH, DEFAULT_LEASE)
                .await?;
            let claimed = jobs.len();
            for job in jobs {
                self.deliver(&job, &mut report).await?;
            }
            if claimed == 0 {
                return Ok(report);
            }
        }
    }

    /// Runs [`run_once`](Self::run_once) every `every`, forever (spawn it;
    /// drop the task to stop). Store errors are logged and retried on the
    /// next round.
    pub async fn run(self, every: std::time::Duration) {
        tracing::info!(server = %self.config.server(), "sending invitation emails");
        let mut ticker = tokio::time::interval(every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            if let Err(error) = self.run_once().await {
                tracing::warn!(%error, "the email worker could not read its jobs; trying again");
            }
        }
    }

    async fn deliver(&self, job: &Job, report: &mut WorkReport) -> Result<(), ServiceError> {
        let payload: EmailJob = match serde_json::from_str(&job.payload) {
            Ok(payload) => payload,
            Err(error) => {
                tracing::error!(job = %job.id, %error, "an email job cannot be read; it is dropped");
                report.dead += 1;
                return self
                    .service
                    .job_dead(job, format!("unreadable job: {error}"), None)
                    .await;
            }
        };
        let booking = &payload.event.booking;
        let links = self.links.links(booking, payload.recipient);
        let message = match invitation_message(&payload, self.config.from(), &self.host, links) {
            Ok(message) => message,
            Err(error) => {
                tracing::warn!(job = %job.id, booking = %booking.id, recipient = payload.recipient.name(), %error,
                    "an invitation email cannot be made; it is dropped");
                report.dead += 1;
                return self.service.job_dead(job, error.to_string(), None).await;
            }
        };
        let transport = match self
            .transport
            .get_or_try_init(|| async { self.config.transport() })
            .await
        {
            Ok(transport) => transport,
            Err(error) => {
                tracing::error!(%error, "the SMTP transport cannot be set up; the email waits");
                report.retried += 1;
                self.service
                    .job_failed(job, error.to_string(), None)
                    .await?;
                return Ok(());
            }
        };
        match transport.send(message).await {
            Ok(response) => {
                let code = code_number(&response.code());
                tracing::info!(job = %job.id, booking = %booking.id, recipient = payload.recipient.name(),
                    event = %payload.event.kind, "invitation email sent");
                report.sent += 1;
                self.service.job_done(job, code).await
            }
            Err(error) => {
                let code = error.status().and_then(|c| code_number(&c));
                if error.is_permanent() {
                    tracing::warn!(job = %job.id, booking = %booking.id, recipient = payload.recipient.name(), %error,
                        "the mail server refused an invitation email for good");
                    report.dead += 1;
                    return self.service.job_dead(job, error.to_string(), code).await;
                }
                let outcome = self
                    .service
                    .job_failed(job, error.to_string(), code)
                    .await?;
                match outcome {
                    JobResult::Retry { at, .. } => {
                        tracing::warn!(job = %job.id, booking = %booking.id, recipient = payload.recipient.name(),
                            %error, retry_at = %at, "an invitation email could not be sent; it will be retried");
                        report.retried += 1;
                    }
                    _ => {
                        tracing::error!(job = %job.id, booking = %booking.id, recipient = payload.recipient.name(),
                            %error, "an invitation email could not be sent and is out of retries");
                        report.dead += 1;
                    }
                }
                Ok(())
            }
        }
    }
}

/// An SMTP reply code as a number (`250`).
fn code_number(code: &lettre::transport::smtp::response::Code) -> Option<u16> {
    code.to_string().parse().ok()
}
