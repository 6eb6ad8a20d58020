//! [`WebhookWorker`]: claims webhook jobs and delivers them, signed.

use std::future::Future;
use std::time::Duration;

use booking_core::queue::{Job, JobResult};
use booking_core::service::DEFAULT_LEASE;
use booking_net::FetchError;
use bytes::Bytes;
use futures_util::future::join_all;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode};

use crate::endpoint::{Disabled, RECORD_KIND, StoredEndpoint};
use crate::error::WebhookError;
use crate::management::Webhooks;
use crate::signing::{SigningSecret, signature_header};
use crate::sink::QUEUE;

/// The header carrying the event's id, the same on every attempt.
pub const HEADER_ID: &str = "webhook-id";
/// The header carrying the attempt's time (Unix seconds).
pub const HEADER_TIMESTAMP: &str = "webhook-timestamp";
/// The header carrying the signatures.
pub const HEADER_SIGNATURE: &str = "webhook-signature";

/// How one job's attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Delivered,
    Retrying,
    Dead,
    /// `410 Gone`: the endpoint is now disabled, the job dead.
    Gone,
}

/// What one [`WebhookWorker::run_once`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunReport {
    /// Booking events dispatched into jobs (of every sink).
    pub dispatched: usize,
    /// Webhook jobs claimed, each one attempt.
    pub attempted: usize,
    /// Attempts the receiver acknowledged with a `2xx`.
    pub delivered: usize,
    /// Attempts that failed and will be retried.
    pub retrying: usize,
    /// Jobs given up on: retries exhausted, endpoint deleted or disabled.
    pub dead: usize,
    /// Endpoints disabled because they answered `410 Gone`.
    pub disabled: usize,
}

/// Delivers webhook jobs: [`run_once`](Self::run_once) for one step (tests,
/// cron-like callers), [`run`](Self::run) for a loop a service spawns.
/// Any number of workers, in any number of processes, may run over one
/// store: a job is leased to one worker at a time.
#[derive(Debug, Clone)]
pub struct WebhookWorker {
    webhooks: Webhooks,
    batch: u32,
    poll_interval: Duration,
}

impl WebhookWorker {
    /// A worker for `webhooks`, taking up to 20 jobs a step and looking for
    /// new ones every second when idle.
    pub fn new(webhooks: Webhooks) -> Self {
        WebhookWorker {
            webhooks,
            batch: 20,
            poll_interval: Duration::from_secs(1),
        }
    }

    /// Takes up to `batch` jobs (and dispatches up to `batch` events) per
    /// step; its deliveries run concurrently.
    pub fn with_batch_size(mut self, batch: u32) -> Self {
        self.batch = batch.max(1);
        self
    }

    /// How long [`run`](Self::run) waits between steps when there was
    /// nothing to do.
    pub fn with_poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }

    /// One step: dispatches pending booking events into jobs, claims the
    /// due webhook jobs and attempts each once, recording the outcome.
    /// Errors recording an outcome are returned after every attempt of
    /// the step finished (the job's lease then runs out and it is tried
    /// again: at least once).
    pub async fn run_once(&self) -> Result<RunReport, WebhookError> {
        let service = &self.webhooks.service;
        let dispatched = service.dispatch_events(self.batch).await?;
        let jobs = service.claim_jobs(QUEUE, self.batch, DEFAULT_LEASE).await?;
        let mut report = RunReport {
            dispatched,
            attempted: jobs.len(),
            ..RunReport::default()
        };
        let mut first_error = None;
        for (job, outcome) in jobs
            .iter()
            .zip(join_all(jobs.iter().map(|j| self.attempt(j))).await)
        {
            match outcome {
                Ok(Outcome::Delivered) => report.delivered += 1,
                Ok(Outcome::Retrying) => report.retrying += 1,
                Ok(Outcome::Dead) => report.dead += 1,
                Ok(Outcome::Gone) => {
                    report.dead += 1;
                    report.disabled += 1;
                }
                Err(error) => {
                    tracing::warn!(job = %job.id, %error, "a webhook job's outcome was not recorded; it is tried again after its lease");
                    first_error.get_or_insert(error);
                }
            }
        }
        match first_error {
            Some(error) => Err(error),
            None => Ok(report),
        }
    }

    /// Runs steps until `shutdown` completes: at once again while there is
    /// work, otherwise after the poll interval. Errors are logged and the
    /// loop goes on. A step in progress when `shutdown` completes is
    /// finished first, so no attempt is cut off half-recorded.
    ///
    /// ```no_run
    /// # fn doc(webhooks: booking_webhooks::Webhooks) {
    /// let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    /// let worker = tokio::spawn(webhooks.worker().run(async {
    ///     let _ = stopped.await;
    /// }));
    /// // ... on shutdown:
    /// let _ = stop.send(());
    /// # let _ = worker;
    /// # }
    /// ```
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            let pause = match self.run_once().await {
                Ok(report) if report.attempted > 0 || report.dispatched > 0 => Duration::ZERO,
                Ok(_) => self.poll_interval,
                Err(error) => {
                    tracing::warn!(%error, "a webhook worker step failed");
                    self.poll_interval
                }
            };
            tokio::select! {
                biased;
                () = &mut shutdown => return,
                () = tokio::time::sleep(pause) => {}
            }
        }
    }

    /// One attempt of `job`, its outcome recorded.
    async fn attempt(&self, job: &Job) -> Result<Outcome, WebhookError> {
        let webhooks = &self.webhooks;
        let service = &webhooks.service;
        let endpoint = match webhooks.store.record(RECORD_KIND, &job.target).await? {
            None => {
                service
                    .job_dead(job, "the endpoint was deleted", None)
                    .await?;
                return Ok(Outcome::Dead);
            }
            Some(record) => match StoredEndpoint::from_record(&record) {
                Ok(endpoint) => endpoint,
                Err(error) => return self.failed(job, error.to_string(), None).await,
            },
        };
        if let Some(disabled) = &endpoint.data.disabled {
            let reason = format!("the endpoint is disabled: {}", disabled.reason);
            service.job_dead(job, reason, None).await?;
            return Ok(Outcome::Dead);
        }
        let now = service.now();
        let secrets = match endpoint
            .live_secrets(now)
            .map(|s| s.open(webhooks.key.as_ref()))
            .collect::<Result<Vec<SigningSecret>, _>>()
        {
            Ok(secrets) if !secrets.is_empty() => secrets,
            Ok(_) => {
                return self
                    .failed(job, "the endpoint has no signing secret".into(), None)
                    .await;
            }
            Err(error) => return self.failed(job, error.to_string(), None).await,
        };
        let headers = signed_headers(job, &secrets, now.timestamp())?;
        let sent = webhooks
            .client
            .send(
                Method::POST,
                &endpoint.data.url,
                headers,
                Some(Bytes::from(job.payload.clone())),
            )
            .await;
        match sent {
            Ok(response) if response.status.is_success() => {
                service
                    .job_done(job, Some(response.status.as_u16()))
                    .await?;
                Ok(Outcome::Delivered)
            }
            Ok(response) if response.status == StatusCode::GONE => {
                self.disable(&endpoint, "the endpoint answered 410 Gone")
                    .await?;
                service
                    .job_dead(
                        job,
                        "the endpoint answered 410 Gone; it is disabled",
                        Some(410),
                    )
                    .await?;
                Ok(Outcome::Gone)
            }
            Ok(response) => {
                let status = response.status;
                self.failed(
                    job,
                    format!("the endpoint answered {status}"),
                    Some(status.as_u16()),
                )
                .await
            }
            Err(error) => self.failed(job, describe(&error), None).await,
        }
    }

    /// Records a failed attempt: retried per the schedule, or dead after
    /// the last retry.
    async fn failed(
        &self,
        job: &Job,
        error: String,
        status: Option<u16>,
    ) -> Result<Outcome, WebhookError> {
        match self.webhooks.service.job_failed(job, error, status).await? {
            JobResult::Retry { .. } => Ok(Outcome::Retrying),
            _ => Ok(Outcome::Dead),
        }
    }

    /// Marks the endpoint disabled (read again first, so a rotation that
    /// happened during the attempt is kept).
    async fn disable(&self, endpoint: &StoredEndpoint, reason: &str) -> Result<(), WebhookError> {
        let store = &self.webhooks.store;
        let Some(record) = store.record(RECORD_KIND, &endpoint.id.to_string()).await? else {
            return Ok(());
        };
        let mut current = StoredEndpoint::from_record(&record)?;
        current.data.disabled = Some(Disabled {
            at: self.webhooks.service.now(),
            reason: reason.to_owned(),
        });
        store.put_record(current.to_record()).await?;
        tracing::info!(endpoint = %endpoint.id, reason, "a webhook endpoint was disabled");
        Ok(())
    }
}

/// The headers of one attempt.
fn signed_headers(
    job: &Job,
    secrets: &[SigningSecret],
    timestamp: i64,
) -> Result<HeaderMap, WebhookError> {
    let id = job.event_id.to_string();
    let signature = signature_header(secrets, &id, timestamp, &job.payload)?;
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    for (name, value) in [
        (HEADER_ID, id),
        (HEADER_TIMESTAMP, timestamp.to_string()),
        (HEADER_SIGNATURE, signature),
    ] {
        // Ids, digits and base64 are always valid header text.
        let value = HeaderValue::try_from(value).map_err(WebhookError::Header)?;
        headers.insert(HeaderName::from_static(name), value);
    }
    Ok(headers)
}

/// A failed request in words for the delivery log, with its causes (reqwest
/// keeps "connection refused" or "timed out" in its sources).
fn describe(error: &FetchError) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
