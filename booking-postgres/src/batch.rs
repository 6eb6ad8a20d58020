//! Booking inserts made together: under concurrent load, the hot-path
//! inserts (no limit, no hold to replace, no client cap: what
//! [`INSERT_PLAIN`](crate::sql::bookings::INSERT_PLAIN) takes) waiting at
//! the same moment share one statement,
//! [`INSERT_BATCH`](crate::sql::bookings::INSERT_BATCH).
//!
//! Most of a one-row statement's server CPU is not the row: it is the
//! statement's protocol messages, executor start-up, snapshot and commit.
//! A batch pays those once for all its rows (measured in
//! `benches/README.md`: a statement of 8 bookings inserts about twice as
//! many bookings per second as single-row statements on the same server).
//!
//! How a batch forms (the leader pattern, as group commit in databases):
//!
//! * a caller queues its row, then waits for whichever comes first: its
//!   answer, or one of the store's writer permits
//!   ([`PostgresOptions::insert_batches`](crate::PostgresOptions::insert_batches)
//!   of them; at most that many batch statements run at once);
//! * the caller that gets a permit takes every queued row (up to
//!   [`MAX_BATCH`]) and runs them: a row alone, when it is the caller's own,
//!   as the single statement (so a booking with nothing to share its
//!   statement with costs what it did before batching, one round trip with
//!   its refusal explained), otherwise as one batch statement, and answers
//!   each caller. Rows queue while a batch runs, so batches grow with load
//!   and no caller waits for a timer;
//! * a row the batch did not insert is tried again alone, with the single
//!   statement, which says why (a taken slot, a changed configuration, an
//!   expired hold in the way) exactly as without batching; so does every
//!   row of a batch whose statement failed (a deleted event type's foreign
//!   key, a deadlock between two batches, a lost connection), after which
//!   a row that the failed statement did commit is recognized as the
//!   caller's own (same id, organizer, start and token hash).
//!
//! Nothing about the guarantees changes: the exclusion constraint refuses
//! an overlapping row whether it comes alone or in a batch (an overlap
//! between two rows of one batch included), the configuration version is
//! checked under the same `FOR SHARE` lock, and each row's event and
//! idempotency key are written only with it, in the same statement. A row
//! whose caller stopped waiting before its batch was taken is dropped
//! unwritten.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use chrono::{DateTime, Duration, Utc};
use serde_json::{Map, Value};
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use tokio::sync::{Semaphore, oneshot};

use crate::encode::EventColumns;
use crate::insert::{KeyColumns, NewRow, RowColumns};
use crate::lanes::permit_count;
use crate::{PostgresStore, decode, sql};

/// How many batch statements a store runs at once when not told otherwise
/// (see [`PostgresOptions::insert_batches`](crate::PostgresOptions::insert_batches)).
pub const DEFAULT_INSERT_BATCHES: u32 = 2;

/// The most rows one statement inserts; more wait for the next.
pub const MAX_BATCH: usize = 64;

/// The queue of rows waiting for a statement, and the writer permits.
pub(crate) struct Batches {
    writers: Semaphore,
    count: usize,
    queue: Mutex<Vec<Queued>>,
}

impl std::fmt::Debug for Batches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batches")
            .field("count", &self.count)
            .field("queued", &self.queue().len())
            .finish()
    }
}

/// A row waiting for a statement, and where its answer goes.
struct Queued {
    columns: RowColumns,
    answer: oneshot::Sender<Answer>,
}

/// What a batch did with a row.
enum Answer {
    /// Inserted: the row as the statement returned it.
    Inserted(PgRow),
    /// Refused, for a reason the single statement tells.
    NotInserted,
    /// The batch statement failed; it may have committed before its answer
    /// was lost.
    Failed,
}

impl Batches {
    /// Up to `count` batch statements at once; `0` turns batching off.
    pub(crate) fn new(count: u32) -> Self {
        let count = permit_count(count);
        Batches {
            writers: Semaphore::new(count),
            count,
            queue: Mutex::new(Vec::new()),
        }
    }

    /// Whether every insert runs alone.
    pub(crate) fn is_off(&self) -> bool {
        self.count == 0
    }

    fn queue(&self) -> std::sync::MutexGuard<'_, Vec<Queued>> {
        // Only pushed to and drained; a panic elsewhere while it was locked
        // leaves it consistent.
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How many rows wait for a statement.
    #[cfg(feature = "testing")]
    pub(crate) fn queued(&self) -> usize {
        self.queue().len()
    }

    /// The oldest queued rows, up to [`MAX_BATCH`], those whose caller
    /// stopped waiting left out.
    fn take(&self) -> Vec<Queued> {
        let mut queue = self.queue();
        let end = queue.len().min(MAX_BATCH);
        let mut taken: Vec<Queued> = queue.drain(..end).collect();
        drop(queue);
        taken.retain(|queued| !queued.answer.is_closed());
        taken
    }
}

impl PostgresStore {
    /// Inserts `row` (one [`INSERT_PLAIN`](sql::bookings::INSERT_PLAIN)
    /// takes) together with the others waiting at the same moment, as the
    /// module docs say; answers as that statement does.
    pub(crate) async fn insert_batched(&self, row: &NewRow<'_>) -> Result<PgRow, sqlx::Error> {
        let (sender, mut receiver) = oneshot::channel();
        self.batches.queue().push(Queued {
            columns: RowColumns::of(row),
            answer: sender,
        });
        let answer = loop {
            let permit = tokio::select! {
                biased;
                answer = &mut receiver => break answer,
                // The semaphore is never closed.
                permit = self.batches.writers.acquire() => permit.ok(),
            };
            let mut taken = self.batches.take();
            if taken.is_empty() {
                // Another caller's batch took this row: its answer is on
                // the way.
                drop(permit);
                break receiver.await;
            }
            if let [only] = taken.as_slice()
                && only.columns.id == row.id
                && let Some(own) = taken.pop()
            {
                let inserted = self.insert_single_encoded(row, own.columns).await;
                drop(permit);
                return inserted;
            }
            // Answers this row too, unless it was queued behind MAX_BATCH
            // others: then the next turn of the loop takes it.
            self.run_batch(taken).await;
            drop(permit);
        };
        match answer {
            Ok(Answer::Inserted(inserted)) => Ok(inserted),
            Ok(Answer::NotInserted) => self.insert_single(row).await,
            // A sender dropped unanswered: its batch's caller stopped
            // waiting half-way, so the statement may have run.
            Ok(Answer::Failed) | Err(_) => self.insert_after_failed_batch(row).await,
        }
    }

    /// `row` alone after its batch failed. When the single statement finds
    /// a row with its id, that is the failed batch's doing if the row is
    /// this very one (it committed and only the answer was lost).
    async fn insert_after_failed_batch(&self, row: &NewRow<'_>) -> Result<PgRow, sqlx::Error> {
        let answer = self.insert_single(row).await?;
        let duplicate = decode::get::<Option<bool>>(&answer, "duplicate")
            .ok()
            .flatten();
        if duplicate == Some(true)
            && let Some(own) = self.find_own_row(row).await?
        {
            return Ok(own);
        }
        Ok(answer)
    }

    /// Runs `taken` as one statement and answers each caller.
    async fn run_batch(&self, taken: Vec<Queued>) {
        let mut columns = Columns::default();
        let mut waiting: Waiting = Vec::with_capacity(taken.len());
        for queued in taken {
            waiting.push((queued.columns.id.clone(), queued.answer));
            columns.push(queued.columns);
        }
        match self.insert_together(columns).await {
            Ok(rows) => {
                let mut inserted = HashMap::with_capacity(rows.len());
                for row in rows {
                    match decode::get::<String>(&row, "id") {
                        Ok(id) => {
                            inserted.insert(id, row);
                        }
                        Err(error) => {
                            // Committed, but not readable: each caller
                            // finds its own row (or none) again.
                            tracing::warn!(%error, "a batch insert's answer could not be read");
                            answer_all(waiting, || Answer::Failed);
                            return;
                        }
                    }
                }
                for (id, answer) in waiting {
                    let _ = answer.send(match inserted.remove(&id) {
                        Some(row) => Answer::Inserted(row),
                        None => Answer::NotInserted,
                    });
                }
            }
            Err(error) => {
                tracing::debug!(
                    %error,
                    rows = waiting.len(),
                    "a batch of booking inserts failed; each is tried alone"
                );
                answer_all(waiting, || Answer::Failed);
            }
        }
    }

    /// [`INSERT_BATCH`](sql::bookings::INSERT_BATCH) for `columns`, on a
    /// booking connection or, when there are none, through the pool.
    async fn insert_together(&self, columns: Columns) -> Result<Vec<PgRow>, sqlx::Error> {
        let statement = columns.bind(sqlx::query(sql::bookings::INSERT_BATCH));
        self.on_booking_connection(async |connection| statement.fetch_all(connection).await)
            .await
    }
}

/// Where each row of a batch waits for its answer, by id.
type Waiting = Vec<(String, oneshot::Sender<Answer>)>;

fn answer_all(waiting: Waiting, answer: impl Fn() -> Answer) {
    for (_, sender) in waiting {
        let _ = sender.send(answer());
    }
}

/// The rows of a batch as [`INSERT_BATCH`](sql::bookings::INSERT_BATCH)'s
/// parameters: one array per column, one element per row.
#[derive(Default)]
struct Columns {
    id: Vec<String>,
    organizer_id: Vec<String>,
    event_type_id: Vec<Option<String>>,
    slug: Vec<Option<String>>,
    attendant_name: Vec<Option<String>>,
    attendant_email: Vec<Option<String>>,
    metadata: Vec<Option<Json<Map<String, Value>>>>,
    title: Vec<Option<String>>,
    description: Vec<Option<String>>,
    start_time: Vec<DateTime<Utc>>,
    end_time: Vec<DateTime<Utc>>,
    created_at: Vec<DateTime<Utc>>,
    buffer_before: Vec<Duration>,
    buffer_after: Vec<Duration>,
    occupied_start: Vec<DateTime<Utc>>,
    occupied_end: Vec<DateTime<Utc>>,
    token_hash: Vec<String>,
    status: Vec<&'static str>,
    hold_expires_at: Vec<Option<DateTime<Utc>>>,
    hold_client: Vec<Option<String>>,
    event_id: Vec<Option<String>>,
    event_organizer_id: Vec<Option<String>>,
    event_booking_id: Vec<Option<String>>,
    event_kind: Vec<Option<&'static str>>,
    event_occurred_at: Vec<Option<DateTime<Utc>>>,
    event_payload: Vec<Option<String>>,
    key_organizer_id: Vec<Option<String>>,
    key_operation: Vec<Option<String>>,
    key_hash: Vec<Option<String>>,
    key_outcome: Vec<Option<String>>,
    config_version: Vec<Option<i64>>,
}

impl Columns {
    /// Appends `row`'s values, one to each array.
    fn push(&mut self, row: RowColumns) {
        self.id.push(row.id);
        self.organizer_id.push(row.organizer_id);
        self.event_type_id.push(row.event_type_id);
        self.slug.push(row.slug);
        self.attendant_name.push(row.attendant_name);
        self.attendant_email.push(row.attendant_email);
        self.metadata.push(row.metadata);
        self.title.push(row.title);
        self.description.push(row.description);
        self.start_time.push(row.time.start());
        self.end_time.push(row.time.end());
        self.created_at.push(row.created_at);
        self.buffer_before.push(row.buffer_before);
        self.buffer_after.push(row.buffer_after);
        self.occupied_start.push(row.occupied.start());
        self.occupied_end.push(row.occupied.end());
        self.token_hash.push(row.token_hash);
        self.status.push(row.status);
        self.hold_expires_at.push(row.hold_expires_at);
        self.hold_client.push(row.hold_client);
        let (id, organizer_id, booking_id, kind, occurred_at, payload) =
            EventColumns::split(row.event);
        self.event_id.push(id);
        self.event_organizer_id.push(organizer_id);
        self.event_booking_id.push(booking_id);
        self.event_kind.push(kind);
        self.event_occurred_at.push(occurred_at);
        self.event_payload.push(payload);
        let (key_organizer, operation, key_hash, outcome) = KeyColumns::split(row.key);
        self.key_organizer_id.push(key_organizer);
        self.key_operation.push(operation);
        self.key_hash.push(key_hash);
        self.key_outcome.push(outcome);
        self.config_version.push(row.config_version);
    }

    fn bind<'q>(
        self,
        query: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
    ) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
        query
            .bind(self.id)
            .bind(self.organizer_id)
            .bind(self.event_type_id)
            .bind(self.slug)
            .bind(self.attendant_name)
            .bind(self.attendant_email)
            .bind(self.metadata)
            .bind(self.title)
            .bind(self.description)
            .bind(self.start_time)
            .bind(self.end_time)
            .bind(self.created_at)
            .bind(self.buffer_before)
            .bind(self.buffer_after)
            .bind(self.occupied_start)
            .bind(self.occupied_end)
            .bind(self.token_hash)
            .bind(self.status)
            .bind(self.hold_expires_at)
            .bind(self.hold_client)
            .bind(self.event_id)
            .bind(self.event_organizer_id)
            .bind(self.event_booking_id)
            .bind(self.event_kind)
            .bind(self.event_occurred_at)
            .bind(self.event_payload)
            .bind(self.key_organizer_id)
            .bind(self.key_operation)
            .bind(self.key_hash)
            .bind(self.key_outcome)
            .bind(self.config_version)
    }
}
