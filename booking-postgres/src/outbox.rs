//! The outbox: booking events (written by the booking statements
//! themselves) dispatched into the job queue, and jobs claimed, finished and
//! listed.

use booking_core::event::{EventId, StoredEvent};
use booking_core::organizer::OrganizerId;
use booking_core::queue::{Job, JobId, JobResult, JobStatus, NewJob};
use booking_core::store::StoreError;
use chrono::{DateTime, Utc};

use crate::contention::{RACE_TRIES, lost_race};
use crate::error::store_error;
use crate::{PostgresStore, decode, sql};

impl PostgresStore {
    pub(crate) async fn events_after_seq(
        &self,
        after: u64,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        // A number beyond bigint has no event after it.
        let Ok(after) = i64::try_from(after) else {
            return Ok(Vec::new());
        };
        let rows = sqlx::query(sql::outbox::EVENTS_AFTER)
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(store_error)?;
        rows.iter().map(decode::event).collect()
    }

    pub(crate) async fn undispatched(&self, limit: u32) -> Result<Vec<StoredEvent>, StoreError> {
        let rows = sqlx::query(sql::outbox::UNDISPATCHED_EVENTS)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(store_error)?;
        rows.iter().map(decode::event).collect()
    }

    /// Enqueues `jobs` and marks `events` dispatched in one statement.
    pub(crate) async fn dispatch(
        &self,
        events: &[EventId],
        jobs: &[NewJob],
    ) -> Result<usize, StoreError> {
        let column = |f: fn(&NewJob) -> String| jobs.iter().map(f).collect::<Vec<_>>();
        let mut tries = 0;
        let marked: i64 = loop {
            let result = sqlx::query_scalar(sql::outbox::DISPATCH_EVENTS)
                .bind(events.iter().map(ToString::to_string).collect::<Vec<_>>())
                .bind(column(|j| j.id.to_string()))
                .bind(column(|j| j.queue.clone()))
                .bind(column(|j| j.organizer_id.to_string()))
                .bind(column(|j| j.event_id.to_string()))
                .bind(column(|j| j.booking_id.to_string()))
                .bind(column(|j| j.target.clone()))
                .bind(column(|j| j.payload.clone()))
                .bind(jobs.iter().map(|j| j.run_at).collect::<Vec<_>>())
                .fetch_one(&self.pool)
                .await;
            tries += 1;
            match result {
                Ok(marked) => break marked,
                // Another dispatcher's jobs committed after this snapshot
                // in a REPEATABLE READ session: the next try skips them.
                Err(error) if tries < RACE_TRIES && lost_race(&error) => continue,
                Err(error) => return Err(store_error(error)),
            }
        };
        usize::try_from(marked).map_err(|_| StoreError::Corrupt(format!("negative count {marked}")))
    }

    /// Claims jobs in one statement (`FOR UPDATE SKIP LOCKED`), returned in
    /// queue order.
    pub(crate) async fn claim_due(
        &self,
        queue: &str,
        now: DateTime<Utc>,
        limit: u32,
        lease_until: DateTime<Utc>,
    ) -> Result<Vec<Job>, StoreError> {
        let mut tries = 0;
        let rows = loop {
            let result = sqlx::query(sql::outbox::CLAIM_JOBS)
                .bind(queue)
                .bind(now)
                .bind(i64::from(limit))
                .bind(lease_until)
                .fetch_all(&self.pool)
                .await;
            tries += 1;
            match result {
                Ok(rows) => break rows,
                // A REPEATABLE READ session meeting a job claimed after its
                // snapshot: the next try's snapshot sees the lease.
                Err(error) if tries < RACE_TRIES && lost_race(&error) => continue,
                Err(error) => return Err(store_error(error)),
            }
        };
        let mut claimed = rows
            .iter()
            .map(decode::job)
            .collect::<Result<Vec<_>, _>>()?;
        claimed.sort_by_key(|(seq, _)| *seq);
        Ok(claimed.into_iter().map(|(_, job)| job).collect())
    }

    pub(crate) async fn finish(
        &self,
        id: JobId,
        result: &JobResult,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let (status, run_at, error, code) = match result {
            JobResult::Done { status } => (JobStatus::Done, now, None, *status),
            JobResult::Retry { at, error, status } => {
                (JobStatus::Pending, *at, Some(error.as_str()), *status)
            }
            JobResult::Dead { error, status } => {
                (JobStatus::Dead, now, Some(error.as_str()), *status)
            }
            // An outcome added to core later than this crate knows of.
            other => {
                return Err(StoreError::Unstorable(format!(
                    "booking-postgres cannot record the job result {other:?}"
                )));
            }
        };
        let finished = sqlx::query(sql::outbox::FINISH_JOB)
            .bind(id.to_string())
            .bind(status.name())
            .bind(run_at)
            .bind(error)
            .bind(code.map(i32::from))
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(store_error)?;
        if finished.rows_affected() == 0 {
            return Err(StoreError::Corrupt(format!("no job {id}")));
        }
        Ok(())
    }

    pub(crate) async fn jobs_of(
        &self,
        organizer: OrganizerId,
        queue: &str,
        target: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Job>, StoreError> {
        let rows = sqlx::query(sql::outbox::JOBS)
            .bind(organizer.to_string())
            .bind(queue)
            .bind(target)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(store_error)?;
        rows.iter()
            .map(|row| decode::job(row).map(|(_, job)| job))
            .collect()
    }
}
