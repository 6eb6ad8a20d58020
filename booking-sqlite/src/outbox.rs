//! The transactional outbox: booking events, written in the transaction of
//! the change they describe, and the job queue they are dispatched into.
//!
//! * An event is one `INSERT` in the booking write's own `BEGIN IMMEDIATE`
//!   transaction, so it exists exactly when the change committed. `seq` is
//!   an `AUTOINCREMENT` key: it only grows, is never reused, and since
//!   SQLite commits one writer at a time it is exactly the commit order.
//! * Dispatching inserts the jobs (`ON CONFLICT (queue, event_id, target)
//!   DO NOTHING`, so two dispatchers enqueue each job once) and marks the
//!   events, in one transaction.
//! * A claim is one `UPDATE ... RETURNING` in a write transaction: it picks
//!   the due, unleased pending jobs of a queue that no older pending job of
//!   the same booking and target precedes, and leases them. The write lock
//!   serializes claims of every connection and process, so a job is never
//!   leased to two workers at once (SQLite needs no `SKIP LOCKED`: a
//!   claim is a few index reads and writes, and claimers take turns).

use booking_core::event::{BookingEventKind, EventId, EventRecord, StoredEvent};
use booking_core::organizer::OrganizerId;
use booking_core::queue::{Job, JobId, JobResult, JobStatus, NewJob};
use chrono::{DateTime, Utc};
use rusqlite::{Connection, Row, params};

use crate::convert::{micros_floor, parse_text, read_instant, read_unsigned};
use crate::error::{Failure, corrupt};
use crate::sql;

/// Writes `event` inside the caller's transaction (that of its change).
pub(crate) fn write_event(tx: &Connection, event: &EventRecord) -> Result<(), Failure> {
    tx.prepare_cached(sql::INSERT_EVENT)?.execute(params![
        event.id.to_string(),
        event.organizer_id.to_string(),
        event.booking_id.to_string(),
        event.kind.name(),
        micros_floor(event.occurred_at),
        event.payload,
    ])?;
    Ok(())
}

/// Events numbered above `after`, ascending, at most `limit`.
pub(crate) fn events_after(
    conn: &Connection,
    after: u64,
    limit: u32,
) -> Result<Vec<StoredEvent>, Failure> {
    // A number beyond i64 is beyond every stored one.
    let Ok(after) = i64::try_from(after) else {
        return Ok(Vec::new());
    };
    let mut stmt = conn.prepare_cached(sql::EVENTS_AFTER)?;
    let rows = stmt.query_map(params![after, i64::from(limit)], EventRow::read)?;
    rows.map(|row| row?.into_stored()).collect()
}

/// Up to `limit` undispatched events, oldest first (a partial index holds
/// exactly those).
pub(crate) fn undispatched(conn: &Connection, limit: u32) -> Result<Vec<StoredEvent>, Failure> {
    let mut stmt = conn.prepare_cached(sql::UNDISPATCHED_EVENTS)?;
    let rows = stmt.query_map([i64::from(limit)], EventRow::read)?;
    rows.map(|row| row?.into_stored()).collect()
}

/// Inserts the jobs that do not exist yet and marks the events dispatched,
/// inside the caller's write transaction; how many events were still
/// undispatched.
pub(crate) fn dispatch(
    tx: &Connection,
    dispatched: &[EventId],
    jobs: Vec<NewJob>,
) -> Result<usize, Failure> {
    let mut insert = tx.prepare_cached(sql::INSERT_JOB)?;
    for job in jobs {
        insert.execute(params![
            job.id.to_string(),
            job.queue,
            job.organizer_id.to_string(),
            job.event_id.to_string(),
            job.booking_id.to_string(),
            job.target,
            job.payload,
            micros_floor(job.run_at),
        ])?;
    }
    let mut mark = tx.prepare_cached(sql::MARK_DISPATCHED)?;
    let mut marked = 0;
    for id in dispatched {
        marked += mark.execute([id.to_string()])?;
    }
    Ok(marked)
}

/// Leases up to `limit` claimable jobs of `queue` until `lease_until`, in
/// one statement inside the caller's write transaction; in enqueue order.
pub(crate) fn claim(
    tx: &Connection,
    queue: &str,
    now: DateTime<Utc>,
    limit: u32,
    lease_until: DateTime<Utc>,
) -> Result<Vec<Job>, Failure> {
    let mut stmt = tx.prepare_cached(sql::CLAIM_JOBS)?;
    let rows = stmt.query_map(
        params![
            queue,
            micros_floor(now),
            micros_floor(lease_until),
            i64::from(limit)
        ],
        JobRow::read,
    )?;
    let mut claimed = rows.collect::<Result<Vec<JobRow>, _>>()?;
    // RETURNING gives rows in no promised order.
    claimed.sort_by_key(|row| row.seq);
    claimed.into_iter().map(JobRow::into_job).collect()
}

/// Records an attempt's outcome and ends the lease; a job that does not
/// exist is reported as corrupt state, as booking-core's reference store
/// does.
pub(crate) fn finish(
    tx: &Connection,
    id: JobId,
    result: JobResult,
    now: DateTime<Utc>,
) -> Result<(), Failure> {
    let now = micros_floor(now);
    let (status, run_at, error, last_status) = match result {
        JobResult::Done { status } => (JobStatus::Done, now, None, status),
        JobResult::Retry { at, error, status } => {
            (JobStatus::Pending, micros_floor(at), Some(error), status)
        }
        JobResult::Dead { error, status } => (JobStatus::Dead, now, Some(error), status),
        other => {
            return Err(crate::error::Unstorable::Unsupported(format!("{other:?}")).into());
        }
    };
    let changed = tx.prepare_cached(sql::FINISH_JOB)?.execute(params![
        id.to_string(),
        status.name(),
        run_at,
        error,
        last_status,
        now
    ])?;
    if changed == 0 {
        return Err(corrupt(format!("no job {id}")));
    }
    Ok(())
}

/// An organizer's jobs of `queue` (of `target` only, when given), newest
/// first, at most `limit`.
pub(crate) fn list(
    conn: &Connection,
    organizer: OrganizerId,
    queue: &str,
    target: Option<&str>,
    limit: u32,
) -> Result<Vec<Job>, Failure> {
    let mut stmt = conn.prepare_cached(sql::JOBS_OF)?;
    let rows = stmt.query_map(
        params![organizer.to_string(), queue, target, i64::from(limit)],
        JobRow::read,
    )?;
    rows.map(|row| row?.into_job()).collect()
}

/// A `booking_events` row, before validation.
struct EventRow {
    seq: i64,
    id: String,
    organizer_id: String,
    booking_id: String,
    kind: String,
    occurred_at: i64,
    payload: String,
}

impl EventRow {
    /// Reads the columns of `event_columns!()` (see `sql`).
    fn read(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(EventRow {
            seq: row.get(0)?,
            id: row.get(1)?,
            organizer_id: row.get(2)?,
            booking_id: row.get(3)?,
            kind: row.get(4)?,
            occurred_at: row.get(5)?,
            payload: row.get(6)?,
        })
    }

    fn into_stored(self) -> Result<StoredEvent, Failure> {
        Ok(StoredEvent {
            seq: read_unsigned("booking_events.seq", self.seq)?,
            record: EventRecord {
                id: parse_text("booking_events.id", &self.id)?,
                organizer_id: parse_text("booking_events.organizer_id", &self.organizer_id)?,
                booking_id: parse_text("booking_events.booking_id", &self.booking_id)?,
                kind: parse_text::<BookingEventKind>("booking_events.kind", &self.kind)?,
                occurred_at: read_instant("booking_events.occurred_at", self.occurred_at)?,
                payload: self.payload,
            },
        })
    }
}

/// A `jobs` row, before validation.
struct JobRow {
    seq: i64,
    id: String,
    queue: String,
    organizer_id: String,
    event_id: String,
    booking_id: String,
    target: String,
    payload: String,
    status: String,
    attempts: i64,
    run_at: i64,
    last_error: Option<String>,
    last_status: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

impl JobRow {
    /// Reads the columns of `job_columns!()` (see `sql`).
    fn read(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(JobRow {
            seq: row.get(0)?,
            id: row.get(1)?,
            queue: row.get(2)?,
            organizer_id: row.get(3)?,
            event_id: row.get(4)?,
            booking_id: row.get(5)?,
            target: row.get(6)?,
            payload: row.get(7)?,
            status: row.get(8)?,
            attempts: row.get(9)?,
            run_at: row.get(10)?,
            last_error: row.get(11)?,
            last_status: row.get(12)?,
            created_at: row.get(13)?,
            updated_at: row.get(14)?,
        })
    }

    fn into_job(self) -> Result<Job, Failure> {
        let status = JobStatus::from_name(&self.status).ok_or_else(|| {
            corrupt(format!(
                "job {}: status {:?} is not a job status",
                self.id, self.status
            ))
        })?;
        Ok(Job {
            id: parse_text("jobs.id", &self.id)?,
            queue: self.queue,
            organizer_id: parse_text("jobs.organizer_id", &self.organizer_id)?,
            event_id: parse_text("jobs.event_id", &self.event_id)?,
            booking_id: parse_text("jobs.booking_id", &self.booking_id)?,
            target: self.target,
            payload: self.payload,
            status,
            attempts: read_unsigned("jobs.attempts", self.attempts)?,
            run_at: read_instant("jobs.run_at", self.run_at)?,
            last_error: self.last_error,
            last_status: self
                .last_status
                .map(|s| read_unsigned("jobs.last_status", s))
                .transpose()?,
            created_at: read_instant("jobs.created_at", self.created_at)?,
            updated_at: read_instant("jobs.updated_at", self.updated_at)?,
        })
    }
}
