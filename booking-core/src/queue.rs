//! The durable job queue for side effects (emails, webhooks, an
//! application's own consumers): each [booking event](crate::event) is
//! *dispatched* into one job per target, and workers claim jobs, deliver
//! them and record the outcome, with retries and backoff.
//!
//! * **Nothing is lost**: the event is written with the booking change; the
//!   dispatcher marks events dispatched in the same atomic step that writes
//!   their jobs; a job is finished only after its delivery was tried. A
//!   process dying anywhere leaves either an undispatched event or an
//!   unfinished job, both picked up again.
//! * **Nothing is sent twice in normal operation**: claiming a job leases it
//!   (several processes share the work, PostgreSQL with
//!   `FOR UPDATE SKIP LOCKED`), and one job per (queue, event, target).
//!   After a crash in the middle of a delivery the lease runs out and the
//!   job is delivered again: delivery is *at least once*, so receivers
//!   de-duplicate by event id.
//! * **In order per booking**: a job is claimed only when no earlier job of
//!   the same queue, booking and target is still pending.
//! * **Retries** follow [`RetrySchedule`] (about 24 hours in all), with
//!   jitter; then the job is dead (kept, with its last error).

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::event::{BookingId, EventId, OrganizerId};
pub use crate::ids::JobId;

/// A job to enqueue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    /// Its id.
    pub id: JobId,
    /// Which worker takes it: `email`, `webhook`, `events:{consumer}`.
    pub queue: String,
    /// The organizer it is for.
    pub organizer_id: OrganizerId,
    /// The event it delivers.
    pub event_id: EventId,
    /// The event's booking: jobs of one booking and target run in order.
    pub booking_id: BookingId,
    /// Where it goes within the queue (a webhook endpoint's id, an email
    /// recipient; empty when the queue has one target). One job per
    /// (queue, event, target).
    pub target: String,
    /// What the worker needs, opaque to the store.
    pub payload: String,
    /// The first attempt's time.
    pub run_at: DateTime<Utc>,
}

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum JobStatus {
    /// Waiting for its next attempt (or running under a lease).
    Pending,
    /// Delivered.
    Done,
    /// Given up on after the last retry, or refused for good.
    Dead,
}

impl JobStatus {
    /// The status as a store writes it: `pending`, `done` or `dead`.
    pub fn name(self) -> &'static str {
        match self {
            JobStatus::Pending => "pending",
            JobStatus::Done => "done",
            JobStatus::Dead => "dead",
        }
    }

    /// The status a store wrote.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "pending" => Some(JobStatus::Pending),
            "done" => Some(JobStatus::Done),
            "dead" => Some(JobStatus::Dead),
            _ => None,
        }
    }
}

/// A job as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// Its id.
    pub id: JobId,
    /// Its queue.
    pub queue: String,
    /// The organizer it is for.
    pub organizer_id: OrganizerId,
    /// The event it delivers.
    pub event_id: EventId,
    /// The event's booking.
    pub booking_id: BookingId,
    /// Its target within the queue.
    pub target: String,
    /// What the worker needs.
    pub payload: String,
    /// Where it stands.
    pub status: JobStatus,
    /// Attempts so far (a claim counts one).
    pub attempts: u32,
    /// When the next attempt is due (pending), or when it finished.
    pub run_at: DateTime<Utc>,
    /// The last attempt's error, if it failed.
    pub last_error: Option<String>,
    /// The last attempt's response status (HTTP status, SMTP code), if any.
    pub last_status: Option<u16>,
    /// When it was enqueued.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum JobResult {
    /// Delivered.
    Done {
        /// The receiver's status, if any.
        status: Option<u16>,
    },
    /// Failed; try again at `at`.
    Retry {
        /// The next attempt's time.
        at: DateTime<Utc>,
        /// What went wrong.
        error: String,
        /// The receiver's status, if any.
        status: Option<u16>,
    },
    /// Failed for good.
    Dead {
        /// What went wrong.
        error: String,
        /// The receiver's status, if any.
        status: Option<u16>,
    },
}

/// When to try a failed job again: after each failure the next delay of
/// the list, randomly shortened by up to a tenth (jitter, so receivers that
/// come back are not hit by every sender at once); after the last, the job
/// is dead.
///
/// The default, counted from the first attempt: immediately, then 5 s,
/// 5 min, 30 min, 2 h, 5 h, 10 h and 24 h later (about 42 hours in all),
/// the schedule of the Standard Webhooks recommendations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule {
    delays: Vec<Duration>,
}

impl Default for RetrySchedule {
    fn default() -> Self {
        RetrySchedule {
            delays: vec![
                Duration::seconds(5),
                Duration::minutes(5),
                Duration::minutes(30),
                Duration::hours(2),
                Duration::hours(5),
                Duration::hours(10),
                Duration::hours(24),
            ],
        }
    }
}

impl RetrySchedule {
    /// A schedule of these delays between attempts.
    pub fn new(delays: Vec<Duration>) -> Self {
        RetrySchedule { delays }
    }

    /// The outcome of a failed attempt number `attempts` (1 for the first)
    /// at `now`: a retry after the next delay, jittered by `jitter` in
    /// `[0, 1)` (a tenth of the delay at most), or dead when none is left.
    pub fn after_failure(
        &self,
        attempts: u32,
        now: DateTime<Utc>,
        jitter: f64,
        error: String,
        status: Option<u16>,
    ) -> JobResult {
        let index = usize::try_from(attempts.saturating_sub(1)).unwrap_or(usize::MAX);
        match self.delays.get(index) {
            Some(delay) => {
                let shave = delay.num_milliseconds() as f64 * 0.1 * jitter.clamp(0.0, 1.0);
                let delay = *delay - Duration::milliseconds(shave as i64);
                JobResult::Retry {
                    at: now + delay,
                    error,
                    status,
                }
            }
            None => JobResult::Dead { error, status },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn failures_back_off_then_the_job_dies() {
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
        let schedule = RetrySchedule::default();
        let at = |attempts| match schedule.after_failure(attempts, now, 0.0, "x".into(), None) {
            JobResult::Retry { at, .. } => Some(at - now),
            _ => None,
        };
        assert_eq!(at(1), Some(Duration::seconds(5)));
        assert_eq!(at(2), Some(Duration::minutes(5)));
        assert_eq!(at(7), Some(Duration::hours(24)));
        assert_eq!(at(8), None, "dead after the last delay");
        let jittered = schedule.after_failure(1, now, 0.999, "x".into(), None);
        let JobResult::Retry { at, .. } = jittered else {
            panic!("a retry")
        };
        assert!(at - now >= Duration::milliseconds(4500) && at - now <= Duration::seconds(5));
    }
}
