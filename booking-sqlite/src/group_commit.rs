//! Group commit: the bookings this process is asked for at the same time
//! are written in one `BEGIN IMMEDIATE` transaction, each in its own
//! savepoint, and each caller is answered after that transaction's
//! `COMMIT`.
//!
//! Why: on SQLite a booking's rows are cheap and its commit is not. In WAL
//! mode every commit appends each page it changed to the WAL (the
//! `bookings` leaf, its index leaves, the event row's leaf and its
//! indexes), and the WAL is checkpointed back into the file every thousand
//! pages; a profile of single-booking transactions spent more time in
//! `pwrite`, `pread` and `fsync` for those pages, and in handing each
//! booking to a blocking thread, than in SQLite's own work. Bookings
//! committed together share their pages and their hand-off.
//!
//! What does not change: every booking is checked and written exactly as
//! alone ([`BookingInsert::insert`]), inside the one write transaction
//! SQLite allows, so the bookings before it in the batch are seen by its
//! overlap and limit checks just as committed ones would be; a refused
//! booking's savepoint is rolled back, so it leaves nothing behind and the
//! others go on; nobody is told "booked" before the `COMMIT` that makes it
//! durable. When the shared transaction itself fails (`COMMIT` fails, or a
//! statement error makes SQLite roll the transaction back, as a full disk
//! can), nothing of the batch was written and each booking is run again in
//! a transaction of its own, so each caller gets the answer it would have
//! had alone. When `BEGIN IMMEDIATE` fails (another process held the write
//! lock past the busy timeout), every caller gets that error.
//!
//! How: a caller queues its booking, then waits for either its answer or
//! the writer connection; whoever gets the connection takes everything
//! queued (up to [`MAX_BATCH`]) and writes it on the blocking pool. Alone,
//! a booking is a batch of one, written in a plain transaction as before.
//! A caller that went away before its batch began is left out.

use std::sync::{Arc, Mutex, PoisonError};

use booking_core::booking::Booking;
use booking_core::store::StoreError;
use rusqlite::{Connection, TransactionBehavior};
use tokio::sync::oneshot;

use crate::bookings::BookingInsert;
use crate::connection::immediate;
use crate::error::Failure;

/// The most bookings one transaction takes: enough for every request a busy
/// service has in flight at once, few enough that the first of them does
/// not wait long for the last.
pub(crate) const MAX_BATCH: usize = 64;

/// What a queued booking's caller is told.
pub(crate) type Answer = Result<Booking, StoreError>;

/// A booking waiting for the writer connection, with the way back to its
/// caller.
pub(crate) struct Queued {
    insert: BookingInsert,
    reply: oneshot::Sender<Answer>,
}

/// The bookings of this store waiting for the writer connection, oldest
/// first.
#[derive(Default)]
pub(crate) struct BookingQueue {
    waiting: Mutex<Vec<Queued>>,
}

impl BookingQueue {
    /// Queues `insert`; the receiver gets its answer once a batch holding
    /// it has been written.
    pub(crate) fn push(&self, insert: BookingInsert) -> oneshot::Receiver<Answer> {
        let (reply, answer) = oneshot::channel();
        self.lock().push(Queued { insert, reply });
        answer
    }

    /// Takes the oldest [`MAX_BATCH`] bookings waiting (all of them when
    /// fewer wait); empty when another caller already took them.
    pub(crate) fn take(&self) -> Vec<Queued> {
        let mut waiting = self.lock();
        let end = waiting.len().min(MAX_BATCH);
        waiting.drain(..end).collect()
    }

    /// How many bookings wait.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }

    /// The queue; a panic while it was held cannot leave it inconsistent
    /// (every change is one `Vec` call), so a poisoned lock is used as is.
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Queued>> {
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// How the shared transaction of a batch ended.
enum Shared {
    /// Committed: each booking's own result, in batch order.
    Committed(Vec<Result<Booking, Failure>>),
    /// `BEGIN IMMEDIATE` failed: nothing was tried.
    NotBegun(rusqlite::Error),
    /// The transaction was lost after it began (its `COMMIT` failed, or
    /// SQLite rolled it back after a statement error): nothing was written.
    Lost,
}

/// Writes `batch` on `conn` (the writer connection, on the blocking pool)
/// and answers each caller still waiting.
pub(crate) fn write(conn: &mut Connection, batch: Vec<Queued>) {
    let mut batch: Vec<Queued> = batch.into_iter().filter(|q| !q.reply.is_closed()).collect();
    if batch.len() <= 1 {
        for queued in batch {
            let result = immediate(conn, |tx| queued.insert.insert(tx));
            answer(queued.reply, result);
        }
        return;
    }
    match shared(conn, &batch) {
        Shared::Committed(results) => {
            for (queued, result) in batch.into_iter().zip(results) {
                answer(queued.reply, result);
            }
        }
        Shared::NotBegun(error) => {
            let error = Arc::new(error);
            for queued in batch {
                let _ = queued
                    .reply
                    .send(Err(StoreError::backend(Arc::clone(&error))));
            }
        }
        Shared::Lost => {
            tracing::debug!(
                bookings = batch.len(),
                "a group commit's transaction was lost; writing each booking alone"
            );
            for queued in batch.drain(..) {
                let result = immediate(conn, |tx| queued.insert.insert(tx));
                answer(queued.reply, result);
            }
        }
    }
}

/// One transaction for the whole batch, one savepoint per booking.
fn shared(conn: &mut Connection, batch: &[Queued]) -> Shared {
    let tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(error) => return Shared::NotBegun(error),
    };
    let mut results = Vec::with_capacity(batch.len());
    for queued in batch {
        if run(&tx, SAVEPOINT).is_err() {
            return Shared::Lost;
        }
        let result = queued.insert.insert(&tx);
        // Kept (`RELEASE`), or undone (`ROLLBACK TO`, then `RELEASE`).
        let ended = match &result {
            Ok(_) => run(&tx, RELEASE),
            Err(_) => run(&tx, ROLLBACK_TO).and_then(|()| run(&tx, RELEASE)),
        };
        if ended.is_err() || tx.is_autocommit() {
            return Shared::Lost;
        }
        results.push(result);
    }
    match tx.commit() {
        Ok(()) => Shared::Committed(results),
        Err(_) => Shared::Lost,
    }
}

/// Each booking's savepoint (one at a time, so one name), as cached
/// statements: rusqlite's `Transaction::savepoint` parses its SQL anew each
/// time, three statements per booking.
const SAVEPOINT: &str = "SAVEPOINT booking";
const RELEASE: &str = "RELEASE booking";
const ROLLBACK_TO: &str = "ROLLBACK TO booking";

fn run(conn: &Connection, statement: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(statement)?.execute([]).map(drop)
}

/// Tells the caller; one who went away meanwhile is not told (its booking
/// stands, as it would had it gone away during a write of its own).
fn answer(reply: oneshot::Sender<Answer>, result: Result<Booking, Failure>) {
    let _ = reply.send(result.map_err(Failure::into_store));
}

/// The batch itself, driven deterministically: the test holds the writer
/// connection while bookings queue, so the next caller to get it takes
/// them all as one batch.
#[cfg(test)]
mod tests {
    use std::sync::Mutex as StdMutex;
    use std::time::Duration as StdDuration;

    use booking_core::booking::NewBooking;
    use booking_core::hold::NewHold;
    use booking_core::store::BookingStore;
    use booking_core::testkit::fixtures::{
        all_active, assert_no_overlaps, at, created, new_booking, new_hold, organizer, range,
    };
    use chrono::Duration;
    use rusqlite::trace::{TraceEvent, TraceEventCodes};
    use tokio::task::JoinHandle;

    use super::*;
    use crate::{SqliteOptions, SqliteStore};

    /// Taken by the tests that trace, so their statements do not mix.
    static TRACING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

    /// The statements the traced writer ran that shape transactions.
    static TRANSACTION_STATEMENTS: StdMutex<Vec<String>> = StdMutex::new(Vec::new());

    fn record(event: TraceEvent<'_>) {
        if let TraceEvent::Stmt(statement, _) = event {
            let sql = statement.sql();
            let word = sql
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_ascii_uppercase();
            if matches!(
                word.as_str(),
                "BEGIN" | "COMMIT" | "ROLLBACK" | "SAVEPOINT" | "RELEASE"
            ) {
                TRANSACTION_STATEMENTS
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(
                        sql.split_whitespace().next().unwrap_or("").to_owned()
                            + if sql.contains(" TO ") { " TO" } else { "" },
                    );
            }
        }
    }

    fn traced() -> Vec<String> {
        std::mem::take(
            &mut *TRANSACTION_STATEMENTS
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        )
    }

    fn count(statements: &[String], word: &str) -> usize {
        statements.iter().filter(|s| *s == word).count()
    }

    async fn store() -> SqliteStore {
        let store = SqliteStore::open_in_memory(SqliteOptions::default())
            .await
            .unwrap();
        store.migrate().await.unwrap();
        store
    }

    /// Starts one task per booking while the test holds the writer, waits
    /// until all are queued, and returns the tasks with the writer still
    /// held (dropping it lets the batch run).
    async fn queue_all(
        store: &SqliteStore,
        bookings: Vec<NewBooking>,
    ) -> (
        tokio::sync::OwnedMutexGuard<Connection>,
        Vec<JoinHandle<Result<Booking, StoreError>>>,
    ) {
        let writer = store.writer().lock_owned().await;
        let expected = bookings.len();
        let tasks = bookings
            .into_iter()
            .map(|booking| {
                let store = store.clone();
                tokio::spawn(async move { store.insert_booking(booking).await })
            })
            .collect();
        while store.queued_bookings() < expected {
            tokio::time::sleep(StdDuration::from_millis(1)).await;
        }
        (writer, tasks)
    }

    async fn results(
        tasks: Vec<JoinHandle<Result<Booking, StoreError>>>,
    ) -> Vec<Result<Booking, StoreError>> {
        let mut results = Vec::new();
        for task in tasks {
            results.push(task.await.unwrap());
        }
        results
    }

    #[tokio::test]
    async fn concurrent_bookings_share_one_commit_and_overlapping_ones_still_lose() {
        let _tracing = TRACING.lock().await;
        let store = store().await;
        let ada = organizer(&store, "ada").await;
        // Six slots, each asked for twice (the second 15 minutes later, so
        // the two overlap without being equal).
        let bookings: Vec<NewBooking> = (0..6)
            .flat_map(|i| {
                [
                    new_booking(ada.id, range(at(9 + i, 0), 30), 0, 0),
                    new_booking(ada.id, range(at(9 + i, 15), 30), 0, 0),
                ]
            })
            .collect();
        let (writer, tasks) = queue_all(&store, bookings).await;
        writer.trace_v2(TraceEventCodes::SQLITE_TRACE_STMT, Some(record));
        traced();
        drop(writer);
        let results = results(tasks).await;

        let won = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(won, 6, "one booking per slot: {results:?}");
        for result in &results {
            assert!(
                matches!(result, Ok(_) | Err(StoreError::Conflict)),
                "a booking of the batch failed otherwise: {result:?}"
            );
        }
        let statements = traced();
        assert_eq!(count(&statements, "BEGIN"), 1, "{statements:?}");
        assert_eq!(count(&statements, "COMMIT"), 1, "{statements:?}");
        assert_eq!(count(&statements, "SAVEPOINT"), 12, "{statements:?}");
        assert_eq!(count(&statements, "ROLLBACK TO"), 6, "{statements:?}");
        let stored = all_active(&store, ada.id).await;
        assert_eq!(stored.len(), 6);
        assert_no_overlaps(&stored);
    }

    /// A booking refused after it wrote (here: its id is taken, found by
    /// the INSERT after the hold it replaces was deleted) leaves nothing
    /// behind: its savepoint is rolled back, the hold is still there, and
    /// the other bookings of the batch are written.
    #[tokio::test]
    async fn a_booking_refused_after_writing_leaves_nothing_and_the_others_stand() {
        let store = store().await;
        let ada = organizer(&store, "ada").await;
        let existing = store
            .insert_booking(new_booking(ada.id, range(at(8, 0), 30), 0, 0))
            .await
            .unwrap();
        let hold = new_hold(
            ada.id,
            range(at(12, 0), 30),
            0,
            0,
            created() + Duration::minutes(10),
            None,
        );
        let hold_hash = hold.token_hash;
        store
            .insert_hold(NewHold {
                hold: hold.clone(),
                limits: Vec::new(),
                max_per_client: 0,
            })
            .await
            .unwrap();

        let mut reused_id = new_booking(ada.id, range(at(12, 0), 30), 0, 0);
        reused_id.id = existing.id;
        reused_id.replaces_hold = Some(hold.id);
        let bookings = vec![
            new_booking(ada.id, range(at(9, 0), 30), 0, 0),
            reused_id,
            new_booking(ada.id, range(at(10, 0), 30), 0, 0),
        ];
        let (writer, tasks) = queue_all(&store, bookings).await;
        drop(writer);
        let results = results(tasks).await;

        assert!(results[0].is_ok(), "{:?}", results[0]);
        assert!(
            results[1].is_err(),
            "a taken id must be refused: {:?}",
            results[1]
        );
        assert!(results[2].is_ok(), "{:?}", results[2]);
        assert!(
            store
                .hold_by_token_hash(&hold_hash)
                .await
                .unwrap()
                .is_some(),
            "the refused booking's deletion of its hold was not rolled back"
        );
        let stored = all_active(&store, ada.id).await;
        assert_eq!(stored.len(), 3, "{stored:?}");
    }

    /// A `COMMIT` that fails loses the whole batch; each booking is then
    /// written alone and gets its own answer.
    #[tokio::test]
    async fn a_lost_commit_writes_each_booking_alone() {
        let _tracing = TRACING.lock().await;
        let store = store().await;
        let ada = organizer(&store, "ada").await;
        let bookings = vec![
            new_booking(ada.id, range(at(9, 0), 30), 0, 0),
            new_booking(ada.id, range(at(9, 0), 30), 0, 0),
            new_booking(ada.id, range(at(10, 0), 30), 0, 0),
        ];
        let (writer, tasks) = queue_all(&store, bookings).await;
        // The first COMMIT becomes a ROLLBACK; the later ones commit.
        let mut first = true;
        writer
            .commit_hook(Some(move || std::mem::replace(&mut first, false)))
            .unwrap();
        writer.trace_v2(TraceEventCodes::SQLITE_TRACE_STMT, Some(record));
        traced();
        drop(writer);
        let results = results(tasks).await;

        assert!(results[0].is_ok(), "{:?}", results[0]);
        assert!(
            matches!(results[1], Err(StoreError::Conflict)),
            "{:?}",
            results[1]
        );
        assert!(results[2].is_ok(), "{:?}", results[2]);
        let statements = traced();
        // The batch's transaction, then one per booking.
        assert_eq!(count(&statements, "BEGIN"), 4, "{statements:?}");
        let stored = all_active(&store, ada.id).await;
        assert_eq!(stored.len(), 2, "{stored:?}");
        assert_no_overlaps(&stored);
        store
            .writer()
            .lock()
            .await
            .commit_hook(None::<fn() -> bool>)
            .unwrap();
    }

    /// A caller that went away before its batch began is left out: its
    /// booking is not written.
    #[tokio::test]
    async fn a_caller_gone_before_its_batch_is_left_out() {
        let store = store().await;
        let ada = organizer(&store, "ada").await;
        let (writer, mut tasks) = queue_all(
            &store,
            vec![
                new_booking(ada.id, range(at(9, 0), 30), 0, 0),
                new_booking(ada.id, range(at(10, 0), 30), 0, 0),
            ],
        )
        .await;
        let gone = tasks.remove(0);
        gone.abort();
        assert!(gone.await.unwrap_err().is_cancelled());
        drop(writer);
        let kept = tasks.remove(0).await.unwrap().unwrap();
        let stored = all_active(&store, ada.id).await;
        assert_eq!(stored, vec![kept]);
    }
}
