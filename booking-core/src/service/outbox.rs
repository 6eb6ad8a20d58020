//! Turning booking events into jobs, and running jobs: the durable outbox
//! (see [`crate::event`] and [`crate::queue`]).

use std::sync::Arc;

use async_trait::async_trait;
use chrono::Duration;

use crate::event::{BookingEvent, EventId};
use crate::queue::{Job, JobResult, NewJob, RetrySchedule};
use crate::store::BoxError;

use super::{BookingService, ServiceError};

/// Something that wants to hear about booking events (webhooks, emails, an
/// application's consumer): for each event, the jobs to enqueue for it.
/// Registered with [`BookingService::with_event_sink`]; every process that
/// shares a store should register the same sinks.
#[async_trait]
pub trait EventSink: Send + Sync {
    /// The jobs for `event` (none if it does not concern this sink). May read
    /// through `service` (for example the organizer's webhook endpoints).
    async fn jobs_for(
        &self,
        service: &BookingService,
        event: &BookingEvent,
    ) -> Result<Vec<NewJob>, BoxError>;
}

/// The sink of an application's named consumer: one job per event on the
/// queue `events:{name}`, read with [`BookingEvents`].
#[derive(Debug, Clone)]
struct ConsumerSink {
    queue: String,
}

#[async_trait]
impl EventSink for ConsumerSink {
    async fn jobs_for(
        &self,
        _service: &BookingService,
        event: &BookingEvent,
    ) -> Result<Vec<NewJob>, BoxError> {
        Ok(vec![job_for(event, &self.queue, "", String::new())])
    }
}

/// A job of `queue` for `target` delivering `event` (with `payload`, or the
/// event itself as JSON when empty), due at once.
pub fn job_for(event: &BookingEvent, queue: &str, target: &str, payload: String) -> NewJob {
    let payload = if payload.is_empty() {
        serde_json::to_string(event).unwrap_or_default()
    } else {
        payload
    };
    NewJob {
        id: crate::queue::JobId::generate(),
        queue: queue.to_owned(),
        organizer_id: event.booking.organizer_id,
        event_id: event.id,
        booking_id: event.booking.id,
        target: target.to_owned(),
        payload,
        run_at: event.occurred_at,
    }
}

/// How long a claimed job is leased to its worker before another may take
/// it (a worker that died lets it lapse): longer than any delivery timeout.
pub const DEFAULT_LEASE: Duration = Duration::seconds(60);

impl BookingService {
    /// Adds a sink that turns booking events into jobs.
    pub fn with_event_sink(mut self, sink: impl EventSink + 'static) -> Self {
        self.sinks.push(Arc::new(sink));
        self
    }

    /// Registers an application's named consumer of booking events: every
    /// event committed from now on is delivered to it through
    /// [`BookingEvents`], at least once, in order per booking.
    pub fn with_event_consumer(self, name: &str) -> Self {
        self.with_event_sink(ConsumerSink {
            queue: consumer_queue(name),
        })
    }

    /// Uses `schedule` for retries of failed jobs.
    pub fn with_retry_schedule(mut self, schedule: RetrySchedule) -> Self {
        self.retries = Arc::new(schedule);
        self
    }

    /// Booking events in commit order above `after` (a sequence number), for
    /// inspection; consumers use [`BookingEvents`], which never misses one.
    pub async fn events_after(
        &self,
        after: u64,
        limit: u32,
    ) -> Result<Vec<BookingEvent>, ServiceError> {
        let stored = self.store.events_after(after, limit).await?;
        Ok(stored
            .iter()
            .filter_map(BookingEvent::from_stored)
            .collect())
    }

    /// Dispatches up to `limit` undispatched events into jobs for every
    /// sink. Safe to run from several processes at once (jobs are unique
    /// per queue, event and target). Returns how many events were
    /// dispatched; an event a sink could not handle stays for the next run.
    pub async fn dispatch_events(&self, limit: u32) -> Result<usize, ServiceError> {
        let pending = self.store.undispatched_events(limit).await?;
        let mut dispatched: Vec<EventId> = Vec::new();
        let mut jobs = Vec::new();
        'events: for stored in &pending {
            let Some(event) = BookingEvent::from_stored(stored) else {
                tracing::error!(event = %stored.record.id, "an event's payload cannot be read; it is skipped");
                dispatched.push(stored.record.id);
                continue;
            };
            let mut event_jobs = Vec::new();
            for sink in &self.sinks {
                match sink.jobs_for(self, &event).await {
                    Ok(found) => event_jobs.extend(found),
                    Err(error) => {
                        tracing::warn!(event = %event.id, %error, "a sink failed; the event is dispatched again later");
                        continue 'events;
                    }
                }
            }
            dispatched.push(event.id);
            jobs.extend(event_jobs);
        }
        if dispatched.is_empty() {
            return Ok(0);
        }
        Ok(self.store.dispatch_events(&dispatched, jobs).await?)
    }

    /// Claims up to `limit` due jobs of `queue`, leased for `lease`.
    pub async fn claim_jobs(
        &self,
        queue: &str,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<Job>, ServiceError> {
        let now = self.now();
        Ok(self
            .store
            .claim_jobs(queue, now, limit, now + lease)
            .await?)
    }

    /// Records that `job` was delivered.
    pub async fn job_done(&self, job: &Job, status: Option<u16>) -> Result<(), ServiceError> {
        Ok(self
            .store
            .finish_job(job.id, JobResult::Done { status }, self.now())
            .await?)
    }

    /// Records that an attempt of `job` failed: it is retried per the
    /// [`RetrySchedule`], or dead after the last retry. Returns what was
    /// decided.
    pub async fn job_failed(
        &self,
        job: &Job,
        error: impl Into<String>,
        status: Option<u16>,
    ) -> Result<JobResult, ServiceError> {
        let now = self.now();
        let jitter = random_fraction();
        let result = self
            .retries
            .after_failure(job.attempts, now, jitter, error.into(), status);
        self.store.finish_job(job.id, result.clone(), now).await?;
        Ok(result)
    }

    /// Records that `job` cannot succeed (for example its webhook endpoint
    /// is gone): no more retries.
    pub async fn job_dead(
        &self,
        job: &Job,
        error: impl Into<String>,
        status: Option<u16>,
    ) -> Result<(), ServiceError> {
        let result = JobResult::Dead {
            error: error.into(),
            status,
        };
        Ok(self.store.finish_job(job.id, result, self.now()).await?)
    }

    /// Reads an application consumer's events (see [`BookingEvents`]).
    pub fn events(&self, consumer: &str) -> BookingEvents {
        BookingEvents {
            service: self.clone(),
            queue: consumer_queue(consumer),
        }
    }
}

fn consumer_queue(name: &str) -> String {
    format!("events:{name}")
}

/// A number in `[0, 1)` from the operating system's randomness (0 if none).
fn random_fraction() -> f64 {
    let mut bytes = [0u8; 4];
    if getrandom::fill(&mut bytes).is_err() {
        return 0.0;
    }
    f64::from(u32::from_le_bytes(bytes)) / (f64::from(u32::MAX) + 1.0)
}

/// An application's view of booking events, without HTTP: registered with
/// [`BookingService::with_event_consumer`], read with
/// [`BookingService::events`]. Each event comes at least once (again if not
/// acknowledged within the lease), in order per booking, even across
/// restarts and from several processes.
///
/// ```
/// use booking_core::{BookingService, MemoryStore};
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let service = BookingService::new(MemoryStore::new()).with_event_consumer("crm");
/// let events = service.events("crm");
/// for delivery in events.next(100).await? {
///     println!("{} {}", delivery.event.kind, delivery.event.booking.id);
///     events.ack(&delivery).await?;
/// }
/// # Ok::<(), booking_core::ServiceError>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct BookingEvents {
    service: BookingService,
    queue: String,
}

/// One event handed to a consumer, to acknowledge once handled.
#[derive(Debug, Clone)]
pub struct EventDelivery {
    /// The event.
    pub event: BookingEvent,
    job: Job,
}

impl BookingEvents {
    /// Up to `max` events not yet acknowledged (dispatching new ones first).
    pub async fn next(&self, max: u32) -> Result<Vec<EventDelivery>, ServiceError> {
        self.service.dispatch_events(max.max(1)).await?;
        let jobs = self
            .service
            .claim_jobs(&self.queue, max, DEFAULT_LEASE)
            .await?;
        let mut deliveries = Vec::with_capacity(jobs.len());
        for job in jobs {
            match serde_json::from_str::<BookingEvent>(&job.payload) {
                Ok(event) => deliveries.push(EventDelivery { event, job }),
                Err(error) => {
                    self.service
                        .job_dead(&job, format!("unreadable event: {error}"), None)
                        .await?;
                }
            }
        }
        Ok(deliveries)
    }

    /// Acknowledges a delivery: it will not come again.
    pub async fn ack(&self, delivery: &EventDelivery) -> Result<(), ServiceError> {
        self.service.job_done(&delivery.job, None).await
    }

    /// Gives a delivery back to be retried later (per the retry schedule).
    pub async fn retry_later(
        &self,
        delivery: &EventDelivery,
        error: impl Into<String>,
    ) -> Result<(), ServiceError> {
        self.service
            .job_failed(&delivery.job, error, None)
            .await
            .map(|_| ())
    }
}
