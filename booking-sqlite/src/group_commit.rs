//! Group commit: the bookings and holds this process is asked for at the
//! same time are written in one `BEGIN IMMEDIATE` transaction, one after
//! the other, and each caller is answered after that transaction's
//! `COMMIT`.
//!
//! Why: on SQLite a booking's rows are cheap and its commit is not. In WAL
//! mode every commit appends each page it changed to the WAL (the
//! `bookings` leaf, its index leaves, the event row's leaf and its
//! indexes), and the WAL is checkpointed back into the file every thousand
//! pages; a profile of single-booking transactions spent more time in
//! `pwrite`, `pread` and `fsync` for those pages, and in handing each
//! booking to a blocking thread, than in SQLite's own work. Writes
//! committed together share their commit and their hand-off.
//!
//! What does not change: every write is checked and written exactly as
//! alone ([`GroupWrite::check`], then [`GroupWrite::write`]), inside the one
//! write transaction SQLite allows, so the writes before it in the batch
//! are seen by its overlap, limit and cap checks just as committed ones
//! would be; nobody is told "booked" or "held" before the `COMMIT` that
//! makes it durable. A write refused by its checks wrote nothing (the
//! checks only read), so the others go on. When anything else fails (a
//! write's statements, the `COMMIT`, or a statement error after which
//! SQLite rolled the transaction back, as a full disk can), nothing of the
//! batch is kept and each write is made again in a transaction of its own,
//! so each caller gets the answer it would have had alone. When `BEGIN
//! IMMEDIATE` fails (another process held the write lock past the busy
//! timeout), every caller gets that error.
//!
//! How: a caller queues its write, then waits for either its answer or the
//! writer connection; whoever gets the connection takes everything queued
//! (up to [`MAX_BATCH`]) and writes it on the blocking pool. Alone, a write
//! is a batch of one, written in a plain transaction as before. A caller
//! that went away before its batch began is left out.

use std::sync::{Arc, Mutex, PoisonError};

use booking_core::store::StoreError;
use rusqlite::{Connection, TransactionBehavior};
use tokio::sync::oneshot;

use crate::connection::immediate;
use crate::error::Failure;

/// The most writes one transaction takes: enough for every request a busy
/// service has in flight at once, few enough that the first of them does
/// not wait long for the last.
pub(crate) const MAX_BATCH: usize = 64;

/// A write that can share a transaction: a booking's or a hold's insert,
/// in two steps inside the caller's `BEGIN IMMEDIATE` transaction. Both
/// take `&self`: a lost batch runs them again, alone.
pub(crate) trait GroupWrite: Send + 'static {
    /// What the caller gets back when it is written.
    type Output: Send + 'static;
    /// What the checks found that the writes need.
    type Checked;

    /// The checks, **reads only**: every refusal comes from here, so a
    /// refused write leaves the shared transaction as it found it (no
    /// savepoint needed).
    fn check(&self, tx: &Connection) -> Result<Self::Checked, Failure>;

    /// The writes, after `check` passed in the same transaction. A failure
    /// here may leave rows half-written, so it makes the whole batch be
    /// written again, each write alone.
    fn write(&self, tx: &Connection, checked: Self::Checked) -> Result<Self::Output, Failure>;
}

/// Both steps of a [`GroupWrite`], as a write alone does them.
fn check_and_write<W: GroupWrite>(write: &W, tx: &Connection) -> Result<W::Output, Failure> {
    let checked = write.check(tx)?;
    write.write(tx, checked)
}

/// How a write went in the batch's transaction.
enum Ran {
    /// Written.
    Written,
    /// Refused by its checks: nothing written.
    Refused,
    /// Its writes failed: the transaction may hold part of them.
    Failed,
}

/// What a queued write's caller is told.
pub(crate) type Answer<T> = Result<T, StoreError>;

/// A queued write of any kind, with the way back to its caller.
trait Queued: Send {
    /// Whether its caller went away (it is then left out).
    fn abandoned(&self) -> bool;
    /// Runs it in the batch's transaction and keeps the result.
    fn run(&mut self, tx: &Connection) -> Ran;
    /// Tells the caller the kept result.
    fn answer(self: Box<Self>);
    /// Writes it in a transaction of its own and tells the caller.
    fn answer_alone(self: Box<Self>, conn: &mut Connection);
    /// Tells the caller `error`.
    fn fail(self: Box<Self>, error: StoreError);
}

struct Entry<W: GroupWrite> {
    write: W,
    reply: oneshot::Sender<Answer<W::Output>>,
    result: Option<Result<W::Output, Failure>>,
}

impl<W: GroupWrite> Queued for Entry<W> {
    fn abandoned(&self) -> bool {
        self.reply.is_closed()
    }

    fn run(&mut self, tx: &Connection) -> Ran {
        let checked = match self.write.check(tx) {
            Ok(checked) => checked,
            Err(refused) => {
                self.result = Some(Err(refused));
                return Ran::Refused;
            }
        };
        match self.write.write(tx, checked) {
            Ok(output) => {
                self.result = Some(Ok(output));
                Ran::Written
            }
            Err(_) => Ran::Failed,
        }
    }

    fn answer(self: Box<Self>) {
        let Entry { reply, result, .. } = *self;
        // Every entry of a committed batch was run; one that was not
        // (impossible) is told so rather than left waiting.
        let result = result.unwrap_or_else(|| {
            Err(Failure::Store(StoreError::backend(
                "a group commit answered a write it had not run",
            )))
        });
        let _ = reply.send(result.map_err(Failure::into_store));
    }

    fn answer_alone(self: Box<Self>, conn: &mut Connection) {
        let result = immediate(conn, |tx| check_and_write(&self.write, tx));
        let _ = self.reply.send(result.map_err(Failure::into_store));
    }

    fn fail(self: Box<Self>, error: StoreError) {
        let _ = self.reply.send(Err(error));
    }
}

/// The writes of this store waiting for the writer connection, oldest
/// first.
#[derive(Default)]
pub(crate) struct WriteQueue {
    waiting: Mutex<Vec<Box<dyn Queued>>>,
}

impl WriteQueue {
    /// Queues `write`; the receiver gets its answer once a batch holding
    /// it has been written. A caller that drops the receiver before its
    /// batch begins is left out (nothing of it is written).
    pub(crate) fn push<W: GroupWrite>(&self, write: W) -> oneshot::Receiver<Answer<W::Output>> {
        let (reply, answer) = oneshot::channel();
        self.lock().push(Box::new(Entry {
            write,
            reply,
            result: None,
        }));
        answer
    }

    /// Takes the oldest [`MAX_BATCH`] writes waiting (all of them when
    /// fewer wait); empty when another caller already took them.
    pub(crate) fn take(&self) -> Batch {
        let mut waiting = self.lock();
        let end = waiting.len().min(MAX_BATCH);
        Batch(waiting.drain(..end).collect())
    }

    /// How many writes wait.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }

    /// The queue; a panic while it was held cannot leave it inconsistent
    /// (every change is one `Vec` call), so a poisoned lock is used as is.
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Box<dyn Queued>>> {
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Writes taken off the queue together.
pub(crate) struct Batch(Vec<Box<dyn Queued>>);

impl Batch {
    /// Whether another caller took everything first.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Writes the batch on `conn` (the writer connection, on the blocking
    /// pool) and answers each caller still waiting.
    pub(crate) fn write(self, conn: &mut Connection) {
        let mut batch: Vec<Box<dyn Queued>> =
            self.0.into_iter().filter(|q| !q.abandoned()).collect();
        if batch.len() <= 1 {
            for queued in batch {
                queued.answer_alone(conn);
            }
            return;
        }
        match shared(conn, &mut batch) {
            Shared::Committed => {
                for queued in batch {
                    queued.answer();
                }
            }
            Shared::NotBegun(error) => {
                let error = Arc::new(error);
                for queued in batch {
                    queued.fail(StoreError::backend(Arc::clone(&error)));
                }
            }
            Shared::Lost => {
                tracing::debug!(
                    writes = batch.len(),
                    "a group commit's transaction was lost; writing each alone"
                );
                for queued in batch {
                    queued.answer_alone(conn);
                }
            }
        }
    }
}

/// How the shared transaction of a batch ended.
enum Shared {
    /// Committed: each write keeps its own result.
    Committed,
    /// `BEGIN IMMEDIATE` failed: nothing was tried.
    NotBegun(rusqlite::Error),
    /// The transaction was lost after it began (its `COMMIT` failed, or
    /// SQLite rolled it back after a statement error): nothing was written.
    Lost,
}

/// One transaction for the whole batch. No savepoints: a refusal comes
/// from the checks, which only read, and a failed write loses the batch.
/// (A savepoint per write cost a fifth of a booking's CPU: SQLite copies
/// every page first changed under a savepoint into a statement journal.)
fn shared(conn: &mut Connection, batch: &mut [Box<dyn Queued>]) -> Shared {
    let tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(error) => return Shared::NotBegun(error),
    };
    for queued in batch.iter_mut() {
        match queued.run(&tx) {
            Ran::Written => {}
            // A read that failed on I/O may have made SQLite roll back.
            Ran::Refused if !tx.is_autocommit() => {}
            Ran::Refused | Ran::Failed => return Shared::Lost,
        }
    }
    match tx.commit() {
        Ok(()) => Shared::Committed,
        Err(_) => Shared::Lost,
    }
}

/// The batch itself, driven deterministically: the test holds the writer
/// connection while bookings queue, so the next caller to get it takes
/// them all as one batch.
#[cfg(test)]
mod tests {
    use std::sync::Mutex as StdMutex;
    use std::time::Duration as StdDuration;

    use booking_core::booking::{Booking, NewBooking};
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
        while store.queued_writes() < expected {
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
        // One transaction; the refused bookings wrote nothing, so nothing
        // needed undoing.
        let statements = traced();
        assert_eq!(statements, ["BEGIN", "COMMIT"], "{statements:?}");
        let stored = all_active(&store, ada.id).await;
        assert_eq!(stored.len(), 6);
        assert_no_overlaps(&stored);
    }

    /// A booking whose writes fail half-way (here: its id is taken, found
    /// by the INSERT after the hold it replaces was deleted) leaves nothing
    /// behind: the batch is lost and each booking written alone, so the
    /// hold is still there, that booking is refused, and the other
    /// bookings of the batch are written.
    #[tokio::test]
    async fn a_booking_whose_writes_fail_leaves_nothing_and_the_others_stand() {
        let _tracing = TRACING.lock().await;
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
        writer.trace_v2(TraceEventCodes::SQLITE_TRACE_STMT, Some(record));
        traced();
        drop(writer);
        let results = results(tasks).await;
        // The batch, rolled back; then each alone: two commits, one
        // rollback (the taken id).
        let statements = traced();
        assert_eq!(
            statements,
            [
                "BEGIN", "ROLLBACK", "BEGIN", "COMMIT", "BEGIN", "ROLLBACK", "BEGIN", "COMMIT"
            ],
            "{statements:?}"
        );

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

    /// Holds share the batch with bookings: a hold and a booking of one
    /// slot, queued together, give one winner; a client's cap counts the
    /// holds written before it in the same batch.
    #[tokio::test]
    async fn holds_share_the_batch_with_bookings_and_see_each_other() {
        let store = store().await;
        let ada = organizer(&store, "ada").await;
        let hold_at = |h: u32, client: &str| NewHold {
            hold: new_hold(
                ada.id,
                range(at(h, 0), 30),
                0,
                0,
                created() + Duration::minutes(10),
                Some(client),
            ),
            limits: Vec::new(),
            max_per_client: 2,
        };
        let writer = store.writer().lock_owned().await;
        let mut holds = Vec::new();
        // 09:00 held and booked at once; then three more holds by the same
        // client, whose cap is 2.
        for ask in [
            hold_at(9, "other"),
            hold_at(10, "capped"),
            hold_at(11, "capped"),
            hold_at(12, "capped"),
        ] {
            let store = store.clone();
            holds.push(tokio::spawn(async move { store.insert_hold(ask).await }));
        }
        let booking = {
            let store = store.clone();
            let new = new_booking(ada.id, range(at(9, 0), 30), 0, 0);
            tokio::spawn(async move { store.insert_booking(new).await })
        };
        while store.queued_writes() < 5 {
            tokio::time::sleep(StdDuration::from_millis(1)).await;
        }
        drop(writer);
        let mut outcomes = Vec::new();
        for hold in holds {
            outcomes.push(hold.await.unwrap().map(drop));
        }
        let booked = booking.await.unwrap();

        // The queue keeps order: the 09:00 hold went first and took the slot.
        assert!(outcomes[0].is_ok(), "{outcomes:?}");
        assert!(matches!(booked, Err(StoreError::Conflict)), "{booked:?}");
        assert!(outcomes[1].is_ok() && outcomes[2].is_ok(), "{outcomes:?}");
        assert!(
            matches!(outcomes[3], Err(StoreError::TooManyHolds(2))),
            "the third hold of a client capped at 2: {:?}",
            outcomes[3]
        );
        let occupied = store
            .occupied_intervals(ada.id, range(at(0, 0), 24 * 60), created())
            .await
            .unwrap();
        assert_eq!(
            occupied,
            vec![
                range(at(9, 0), 30),
                range(at(10, 0), 30),
                range(at(11, 0), 30)
            ]
        );
    }
}
