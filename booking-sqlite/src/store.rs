//! [`SqliteStore`]: opening, migrating, the threading model and the
//! [`BookingStore`] implementation, each method one blocking call into the
//! module that owns its rows.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use booking_core::booking::{Booking, BookingId, NewBooking};
use booking_core::event::{EventId, StoredEvent};
use booking_core::event_type::EventTypeId;
use booking_core::hold::{Hold, HoldId, NewHold};
use booking_core::idempotency::{
    ClaimOutcome, IdempotencyClaim, IdempotencyCompletion, IdempotencyScope,
};
use booking_core::organizer::{NewOrganizer, Organizer, OrganizerId, OrganizerRef};
use booking_core::queue::{Job, JobId, JobResult, NewJob};
use booking_core::record::Record;
use booking_core::secret::TokenHash;
use booking_core::store::{
    BookingContext, BookingPage, BookingQuery, BookingStore, Cancellation, ConfigChange,
    ContextQuery, OrganizerConfig, Reschedule, StoreError,
};
use booking_core::time::TimeRange;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, TransactionBehavior};
use tokio::sync::Mutex as AsyncMutex;

use crate::bookings::{self, BookingInsert};
use crate::connection::{
    ReaderPool, Role, SqliteOptions, immediate, is_private_database, open_connection, open_private,
    snapshot,
};
use crate::error::{Error, Failure};
use crate::group_commit::{GroupWrite, WriteQueue};
use crate::holds::{self, HoldInsert};
use crate::migrations::{SCHEMA_LEVEL, migrate, schema_level};
use crate::{config, context, idempotency, occupancy, organizers, outbox, records};

/// A [`BookingStore`] in one SQLite database file (or in memory).
///
/// Cheap to clone: clones share the same connections. See the
/// [crate documentation](crate) for the storage format, the threading model
/// and why concurrent writers, in this process or others, can never create
/// overlapping bookings or exceed a limit.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use booking_core::BookingStore;
/// use booking_sqlite::{SqliteOptions, SqliteStore};
///
/// let dir = tempfile::tempdir()?;
/// let store = SqliteStore::open(dir.path().join("bookings.db"), SqliteOptions::default()).await?;
/// store.migrate().await?;
/// assert!(store.organizer_by_username("ada").await?.is_none());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    /// The file, or `None` in memory.
    path: Option<PathBuf>,
    /// The one connection that writes (and, in memory, also reads). A tokio
    /// mutex, so writers of this process queue without holding a thread.
    writer: Arc<AsyncMutex<Connection>>,
    /// Read-only connections for a file database.
    readers: Option<Arc<ReaderPool>>,
    /// Bookings and holds waiting for the writer, written together (see
    /// [`crate::group_commit`]).
    writes: WriteQueue,
}

impl SqliteStore {
    /// Opens (creating it if needed) the database file at `path` and
    /// switches it to WAL mode. It does **not** migrate: call
    /// [`migrate`](Self::migrate) once before use (at start-up, or from a
    /// deployment step).
    ///
    /// A file at a schema level newer than this build knows is refused with
    /// [`Error::NewerSchema`]. Safe to call from several processes at once
    /// on the same file. `":memory:"` gives the same as
    /// [`open_in_memory`](Self::open_in_memory).
    pub async fn open(path: impl AsRef<Path>, options: SqliteOptions) -> Result<Self, Error> {
        let path = path.as_ref().to_path_buf();
        if is_private_database(&path) {
            return Self::open_private(path, options).await;
        }
        tokio::task::spawn_blocking(move || {
            let writer = open_connection(&path, &options, Role::Writer)?;
            refuse_newer(&writer)?;
            let readers = ReaderPool::new(path.clone(), options);
            Ok(SqliteStore {
                inner: Arc::new(Inner {
                    path: Some(path),
                    writer: Arc::new(AsyncMutex::new(writer)),
                    readers: Some(Arc::new(readers)),
                    writes: WriteQueue::default(),
                }),
            })
        })
        .await
        .map_err(Error::Task)?
    }

    /// A new, empty database in memory (call [`migrate`](Self::migrate)
    /// before use), gone when the last clone of the store is dropped. It has
    /// a single connection (every connection to `:memory:` is a separate
    /// database), so all operations take turns; right for tests and demos.
    pub async fn open_in_memory(options: SqliteOptions) -> Result<Self, Error> {
        Self::open_private(PathBuf::from(":memory:"), options).await
    }

    async fn open_private(path: PathBuf, options: SqliteOptions) -> Result<Self, Error> {
        tokio::task::spawn_blocking(move || {
            let conn = open_private(&path, &options)?;
            Ok(SqliteStore {
                inner: Arc::new(Inner {
                    path: None,
                    writer: Arc::new(AsyncMutex::new(conn)),
                    readers: None,
                    writes: WriteQueue::default(),
                }),
            })
        })
        .await
        .map_err(Error::Task)?
    }

    /// Brings the database to the schema this build needs ([`SCHEMA_LEVEL`])
    /// and returns the level it was at before; nothing to do (and no write
    /// lock taken) when it is current. All pending steps run in one
    /// transaction on the writer connection, so a failure leaves the file as
    /// it was, and several processes may call it at once: one migrates, the
    /// others find nothing left to do. See [`crate::migrate`].
    pub async fn migrate(&self) -> Result<i64, Error> {
        let mut conn = Arc::clone(&self.inner.writer).lock_owned().await;
        tokio::task::spawn_blocking(move || migrate(&mut conn))
            .await
            .map_err(Error::Task)?
    }

    /// The database file, `None` for an in-memory store.
    pub fn path(&self) -> Option<&Path> {
        self.inner.path.as_deref()
    }

    /// Runs `f` on the writer connection, on tokio's blocking pool. Writers
    /// of this process queue on the async mutex (FIFO) without holding a
    /// thread; writers of other processes are waited for by SQLite's busy
    /// handler inside `f`.
    async fn with_writer<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, Failure> + Send + 'static,
    {
        let mut conn = Arc::clone(&self.inner.writer).lock_owned().await;
        match tokio::task::spawn_blocking(move || f(&mut conn)).await {
            Ok(result) => result.map_err(Failure::into_store),
            Err(join) => Err(StoreError::backend(join)),
        }
    }

    /// Queues `write` for the next group commit ([`crate::group_commit`]) and
    /// waits for its answer, writing the batch itself when it gets the
    /// writer connection first.
    async fn group_write<W: GroupWrite>(&self, write: W) -> Result<W::Output, StoreError> {
        let mut answer = self.inner.writes.push(write);
        loop {
            tokio::select! {
                biased;
                answered = &mut answer => {
                    return answered.unwrap_or_else(|_| {
                        Err(StoreError::backend(
                            "the blocking task writing this batch ended before answering (it panicked or the runtime is shutting down)",
                        ))
                    });
                }
                conn = Arc::clone(&self.inner.writer).lock_owned() => {
                    // Empty when another caller's batch took this write:
                    // its answer is then already sent.
                    let batch = self.inner.writes.take();
                    if !batch.is_empty() {
                        let mut conn = conn;
                        // A panic drops the batch's senders, which the
                        // answer above reports.
                        let _ = tokio::task::spawn_blocking(move || batch.write(&mut conn)).await;
                    }
                }
            }
        }
    }

    /// Runs `f` on a reader connection (the writer, in memory), on tokio's
    /// blocking pool.
    async fn with_reader<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, Failure> + Send + 'static,
    {
        let Some(pool) = &self.inner.readers else {
            return self.with_writer(f).await;
        };
        let pool = Arc::clone(pool);
        let permit = Arc::clone(&pool.permits)
            .acquire_owned()
            .await
            .map_err(StoreError::backend)?;
        let task = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let mut conn = pool.take()?;
            let result = f(&mut conn);
            pool.give_back(conn);
            result
        });
        match task.await {
            Ok(result) => result.map_err(Failure::into_store),
            Err(join) => Err(StoreError::backend(join)),
        }
    }

    /// The writer connection, for tests that hold it or trace it.
    #[cfg(test)]
    pub(crate) fn writer(&self) -> Arc<AsyncMutex<Connection>> {
        Arc::clone(&self.inner.writer)
    }

    /// How many writes wait for a group commit, for tests.
    #[cfg(test)]
    pub(crate) fn queued_writes(&self) -> usize {
        self.inner.writes.len()
    }

    /// One organizer lookup on a reader, without the configuration version.
    async fn organizer_with(
        &self,
        find: impl FnOnce(&Connection) -> Result<Option<(Organizer, u64)>, Failure> + Send + 'static,
    ) -> Result<Option<Organizer>, StoreError> {
        self.with_reader(move |conn| Ok(find(conn)?.map(|(organizer, _)| organizer)))
            .await
    }
}

/// Refuses a file migrated by a newer build, before anything reads it.
fn refuse_newer(conn: &Connection) -> Result<(), Error> {
    let found = schema_level(conn)?;
    if found > SCHEMA_LEVEL {
        return Err(Error::NewerSchema {
            found,
            supported: SCHEMA_LEVEL,
        });
    }
    Ok(())
}

/// The health probe: takes the write lock, checks the schema level, and
/// rewrites the level (a real write to the database header) before rolling
/// back, so a file that cannot be written (read-only, full disk's
/// permissions, another process holding the lock past the busy timeout)
/// fails here rather than on the first booking.
fn probe_writable(conn: &mut Connection) -> Result<(), Failure> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let level = schema_level(&tx)?;
    if level != SCHEMA_LEVEL {
        return Err(if level > SCHEMA_LEVEL {
            Error::NewerSchema {
                found: level,
                supported: SCHEMA_LEVEL,
            }
        } else {
            Error::NotMigrated {
                found: level,
                expected: SCHEMA_LEVEL,
            }
        }
        .into());
    }
    tx.pragma_update(None, "user_version", level)?;
    tx.rollback()?;
    Ok(())
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.inner.path)
            .field("pooled_readers", &self.inner.readers.is_some())
            .finish()
    }
}

#[async_trait]
impl BookingStore for SqliteStore {
    /// A write-lock probe on the writer connection (see the crate docs):
    /// fails on a file that cannot be written or is not migrated.
    async fn check_health(&self) -> Result<(), StoreError> {
        self.with_writer(probe_writable).await
    }

    /// The username key is checked and the organizer inserted in one
    /// `BEGIN IMMEDIATE` transaction.
    async fn create_organizer(
        &self,
        id: OrganizerId,
        organizer: NewOrganizer,
        api_token_hash: TokenHash,
        created_at: DateTime<Utc>,
    ) -> Result<Organizer, StoreError> {
        self.with_writer(move |conn| {
            immediate(conn, |tx| {
                organizers::create(tx, id, organizer, api_token_hash, created_at)
            })
        })
        .await
    }

    async fn organizer_by_id(&self, id: OrganizerId) -> Result<Option<Organizer>, StoreError> {
        self.organizer_with(move |conn| organizers::by_id(conn, id))
            .await
    }

    async fn organizer_by_username(&self, username: &str) -> Result<Option<Organizer>, StoreError> {
        let username = username.to_owned();
        self.organizer_with(move |conn| organizers::by_username(conn, &username))
            .await
    }

    async fn organizer_by_token_hash(
        &self,
        hash: &TokenHash,
    ) -> Result<Option<Organizer>, StoreError> {
        let hash = *hash;
        self.organizer_with(move |conn| organizers::by_token_hash(conn, &hash))
            .await
    }

    async fn organizer(&self, organizer: &OrganizerRef) -> Result<Option<Organizer>, StoreError> {
        let organizer = organizer.clone();
        self.organizer_with(move |conn| organizers::find(conn, &organizer))
            .await
    }

    /// Version, schedules and event types in one read snapshot.
    async fn organizer_config(
        &self,
        organizer: OrganizerId,
    ) -> Result<Option<OrganizerConfig>, StoreError> {
        self.with_reader(move |conn| snapshot(conn, |tx| config::read(tx, organizer)))
            .await
    }

    /// One `BEGIN IMMEDIATE` transaction: the version's compare-and-set,
    /// then the changes in order; any refusal rolls back all of it.
    async fn update_config(
        &self,
        organizer: OrganizerId,
        expected_version: u64,
        changes: Vec<ConfigChange>,
    ) -> Result<u64, StoreError> {
        self.with_writer(move |conn| {
            immediate(conn, |tx| {
                config::update(tx, organizer, expected_version, changes)
            })
        })
        .await
    }

    /// One blocking call and one read snapshot for organizer, version, event
    /// type, schedule, occupied intervals and counted starts.
    async fn booking_context(
        &self,
        query: &ContextQuery,
    ) -> Result<Option<BookingContext>, StoreError> {
        let query = query.clone();
        self.with_reader(move |conn| snapshot(conn, |tx| context::read(tx, &query)))
            .await
    }

    /// The checks and the writes (the replaced hold, the idempotency key,
    /// the booking, its event) run in one `BEGIN IMMEDIATE` transaction, so
    /// no other writer, in any process, can commit in between. Bookings
    /// and holds asked for at the same time share that transaction and are
    /// answered after its `COMMIT` (see "Threading model" in the crate
    /// docs).
    async fn insert_booking(&self, booking: NewBooking) -> Result<Booking, StoreError> {
        let insert = BookingInsert::new(booking).map_err(Failure::into_store)?;
        self.group_write(insert).await
    }

    async fn booking(&self, id: BookingId) -> Result<Option<Booking>, StoreError> {
        self.with_reader(move |conn| bookings::by_id(conn, id))
            .await
    }

    /// Count and page are two queries in one read snapshot; both are bounded
    /// in SQL (`COUNT(*)`, `LIMIT`/`OFFSET`) and served by the partial index
    /// on `(organizer_id, start_time, id)`.
    async fn list_bookings(
        &self,
        organizer: OrganizerId,
        query: BookingQuery,
    ) -> Result<BookingPage, StoreError> {
        self.with_reader(move |conn| snapshot(conn, |tx| bookings::page(tx, organizer, query)))
            .await
    }

    /// Bookings and holds unexpired at `now`, in one statement (each table
    /// through its occupied index, merged in order).
    async fn occupied_intervals(
        &self,
        organizer: OrganizerId,
        range: TimeRange,
        now: DateTime<Utc>,
    ) -> Result<Vec<TimeRange>, StoreError> {
        self.with_reader(move |conn| occupancy::occupied(conn, organizer, range, now))
            .await
    }

    async fn booked_starts(
        &self,
        organizer: OrganizerId,
        event_type: EventTypeId,
        range: TimeRange,
        now: DateTime<Utc>,
    ) -> Result<Vec<DateTime<Utc>>, StoreError> {
        self.with_reader(move |conn| {
            occupancy::booked_starts(conn, organizer, &event_type.to_string(), range, now)
        })
        .await
    }

    /// The read, checks and `UPDATE` of the move and its event in one
    /// `BEGIN IMMEDIATE` transaction.
    async fn reschedule_booking(&self, change: Reschedule) -> Result<Booking, StoreError> {
        self.with_writer(move |conn| immediate(conn, |tx| bookings::reschedule(tx, change)))
            .await
    }

    /// The same checks as a booking's, plus the client's cap, and the
    /// insert, in one `BEGIN IMMEDIATE` transaction, shared with the
    /// bookings and holds asked for at the same time (see "Threading model" in the crate docs).
    async fn insert_hold(&self, hold: NewHold) -> Result<Hold, StoreError> {
        let insert = HoldInsert::new(hold).map_err(Failure::into_store)?;
        self.group_write(insert).await
    }

    /// A global lookup (the visitor holds only the token).
    async fn hold_by_token_hash(&self, hash: &TokenHash) -> Result<Option<Hold>, StoreError> {
        let hash = *hash;
        self.with_reader(move |conn| holds::by_token_hash(conn, &hash))
            .await
    }

    async fn release_hold(
        &self,
        id: HoldId,
        token_hash: &TokenHash,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let hash = *token_hash;
        self.with_writer(move |conn| immediate(conn, |tx| holds::release(tx, id, &hash, at)))
            .await
    }

    /// One upsert (and, when it did not claim, one read) in a
    /// `BEGIN IMMEDIATE` transaction, so claims from every process take
    /// turns.
    async fn claim_idempotency_key(
        &self,
        claim: &IdempotencyClaim,
    ) -> Result<ClaimOutcome, StoreError> {
        let claim = claim.clone();
        self.with_writer(move |conn| immediate(conn, |tx| idempotency::claim(tx, &claim)))
            .await
    }

    async fn complete_idempotency_key(
        &self,
        completion: &IdempotencyCompletion,
    ) -> Result<(), StoreError> {
        let completion = completion.clone();
        self.with_writer(move |conn| immediate(conn, |tx| idempotency::complete(tx, &completion)))
            .await
    }

    async fn abandon_idempotency_key(&self, scope: &IdempotencyScope) -> Result<(), StoreError> {
        let scope = scope.clone();
        self.with_writer(move |conn| immediate(conn, |tx| idempotency::abandon(tx, &scope)))
            .await
    }

    async fn purge_expired(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        self.with_writer(move |conn| {
            immediate(conn, |tx| {
                Ok(idempotency::purge_expired(tx, now)? + holds::purge_expired(tx, now)?)
            })
        })
        .await
    }

    /// The update, the refusal's reason when it changed nothing, and the
    /// event, in one `BEGIN IMMEDIATE` transaction.
    async fn cancel_booking(&self, cancel: Cancellation) -> Result<Booking, StoreError> {
        self.with_writer(move |conn| immediate(conn, |tx| bookings::cancel(tx, cancel)))
            .await
    }

    async fn set_api_token_hash(
        &self,
        organizer: OrganizerId,
        hash: TokenHash,
    ) -> Result<(), StoreError> {
        self.with_writer(move |conn| {
            immediate(conn, |tx| {
                organizers::set_api_token_hash(tx, organizer, hash)
            })
        })
        .await
    }

    async fn events_after(&self, after: u64, limit: u32) -> Result<Vec<StoredEvent>, StoreError> {
        self.with_reader(move |conn| outbox::events_after(conn, after, limit))
            .await
    }

    async fn undispatched_events(&self, limit: u32) -> Result<Vec<StoredEvent>, StoreError> {
        self.with_reader(move |conn| outbox::undispatched(conn, limit))
            .await
    }

    /// The jobs and the events' marks in one `BEGIN IMMEDIATE` transaction.
    async fn dispatch_events(
        &self,
        dispatched: &[EventId],
        jobs: Vec<NewJob>,
    ) -> Result<usize, StoreError> {
        let dispatched = dispatched.to_vec();
        self.with_writer(move |conn| immediate(conn, |tx| outbox::dispatch(tx, &dispatched, jobs)))
            .await
    }

    /// One `UPDATE ... RETURNING` in a `BEGIN IMMEDIATE` transaction.
    async fn claim_jobs(
        &self,
        queue: &str,
        now: DateTime<Utc>,
        limit: u32,
        lease_until: DateTime<Utc>,
    ) -> Result<Vec<Job>, StoreError> {
        let queue = queue.to_owned();
        self.with_writer(move |conn| {
            immediate(conn, |tx| {
                outbox::claim(tx, &queue, now, limit, lease_until)
            })
        })
        .await
    }

    async fn finish_job(
        &self,
        id: JobId,
        result: JobResult,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.with_writer(move |conn| immediate(conn, |tx| outbox::finish(tx, id, result, now)))
            .await
    }

    async fn jobs(
        &self,
        organizer: OrganizerId,
        queue: &str,
        target: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Job>, StoreError> {
        let queue = queue.to_owned();
        let target = target.map(str::to_owned);
        self.with_reader(move |conn| {
            outbox::list(conn, organizer, &queue, target.as_deref(), limit)
        })
        .await
    }

    async fn put_record(&self, record: Record) -> Result<(), StoreError> {
        self.with_writer(move |conn| immediate(conn, |tx| records::put(tx, record)))
            .await
    }

    async fn record(&self, kind: &str, id: &str) -> Result<Option<Record>, StoreError> {
        let (kind, id) = (kind.to_owned(), id.to_owned());
        self.with_reader(move |conn| records::by_id(conn, &kind, &id))
            .await
    }

    /// A global lookup by the record's unique key.
    async fn record_by_lookup(
        &self,
        kind: &str,
        lookup: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Record>, StoreError> {
        let (kind, lookup) = (kind.to_owned(), lookup.to_owned());
        self.with_reader(move |conn| records::by_lookup(conn, &kind, &lookup, now))
            .await
    }

    async fn records(
        &self,
        organizer: OrganizerId,
        kind: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<Record>, StoreError> {
        let kind = kind.to_owned();
        self.with_reader(move |conn| records::of_organizer(conn, organizer, &kind, now))
            .await
    }

    async fn delete_record(&self, kind: &str, id: &str) -> Result<bool, StoreError> {
        let (kind, id) = (kind.to_owned(), id.to_owned());
        self.with_writer(move |conn| immediate(conn, |tx| records::delete(tx, &kind, &id)))
            .await
    }
}

/// The statements each operation runs, recorded by SQLite's own tracing on
/// the store's connection: the booking path must stay as short as the crate
/// docs say, whatever the refactoring.
#[cfg(test)]
mod statements {
    use std::sync::Mutex;

    use booking_core::booking::{LimitCheck, NewBooking};
    use booking_core::event::{BookingEventKind, EventId, EventRecord};
    use booking_core::event_type::{LimitPeriod, Slug};
    use booking_core::idempotency::{IdempotencyClaim, IdempotencyCompletion, IdempotencyScope};
    use booking_core::organizer::OrganizerRef;
    use booking_core::store::{BookingStore, Cancellation, ContextQuery, Reschedule};
    use booking_core::testkit::fixtures::{at, created, new_booking, new_hold, organizer, range};
    use chrono::Duration;
    use rusqlite::trace::{TraceEvent, TraceEventCodes};

    use super::*;
    use crate::sql;

    /// What the traced connection ran since the last [`take`].
    static STATEMENTS: Mutex<Vec<String>> = Mutex::new(Vec::new());

    fn record(event: TraceEvent<'_>) {
        if let TraceEvent::Stmt(statement, _) = event {
            let sql = statement.sql();
            // Trigger bodies are reported as comments: not statements.
            if !sql.starts_with("--") {
                STATEMENTS
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push(sql.into_owned());
            }
        }
    }

    fn take() -> Vec<String> {
        std::mem::take(
            &mut *STATEMENTS
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }

    fn expect(what: &str, statements: &[&str]) {
        let mut expected = vec!["BEGIN IMMEDIATE"];
        expected.extend_from_slice(statements);
        expected.push("COMMIT");
        assert_eq!(take(), expected, "{what}");
    }

    /// An event about `booking` (the store keeps its payload opaque).
    fn event(booking: &Booking, kind: BookingEventKind) -> EventRecord {
        EventRecord {
            id: EventId::generate(),
            organizer_id: booking.organizer_id,
            booking_id: booking.id,
            kind,
            occurred_at: created(),
            payload: "{}".into(),
        }
    }

    #[tokio::test]
    async fn each_operation_runs_the_statements_the_docs_list() {
        let store = SqliteStore::open_in_memory(SqliteOptions::default())
            .await
            .unwrap();
        store.migrate().await.unwrap();
        let ada = organizer(&store, "ada").await;
        store
            .inner
            .writer
            .lock()
            .await
            .trace_v2(TraceEventCodes::SQLITE_TRACE_STMT, Some(record));
        take();

        // A booking without limits, as the service sends it (with its
        // event): the fast path.
        let mut plain = new_booking(ada.id, range(at(9, 0), 30), 0, 0);
        plain.event = Some(event(
            &Booking::from_new(plain.clone()),
            BookingEventKind::Created,
        ));
        let booking = store.insert_booking(plain).await.unwrap();
        expect(
            "a booking without limits",
            &[
                sql::BOOKING_TARGETS,
                sql::OVERLAP_EXISTS,
                sql::INSERT_BOOKING,
                sql::INSERT_EVENT,
            ],
        );

        // With a day limit: one count per limit.
        let limited = NewBooking {
            limits: vec![LimitCheck {
                period: LimitPeriod::Day,
                starts_within: range(at(0, 0), 24 * 60),
                max: 5,
            }],
            ..new_booking(ada.id, range(at(10, 0), 30), 0, 0)
        };
        store.insert_booking(limited).await.unwrap();
        expect(
            "a booking with a limit",
            &[
                sql::BOOKING_TARGETS,
                sql::OVERLAP_EXISTS,
                sql::COUNT_STARTS,
                sql::INSERT_BOOKING,
            ],
        );

        // A hold with the client cap.
        let hold = new_hold(
            ada.id,
            range(at(11, 0), 30),
            0,
            0,
            created() + Duration::minutes(5),
            Some("client"),
        );
        let hold_id = hold.id;
        store
            .insert_hold(NewHold {
                hold,
                limits: Vec::new(),
                max_per_client: 3,
            })
            .await
            .unwrap();
        expect(
            "a hold",
            &[
                sql::ORGANIZER_EXISTS,
                sql::OVERLAP_EXISTS,
                sql::CLIENT_HOLDS,
                sql::INSERT_HOLD,
            ],
        );

        // An idempotency claim: one statement when it takes the key, two
        // when it finds it taken.
        let scope = IdempotencyScope {
            organizer_id: ada.id,
            operation: "create".into(),
            key_hash: TokenHash::of("key"),
        };
        let claim = IdempotencyClaim {
            scope: scope.clone(),
            fingerprint: TokenHash::of("request"),
            now: created(),
            expires_at: created() + Duration::hours(24),
            stale_before: created() - Duration::seconds(60),
        };
        store.claim_idempotency_key(&claim).await.unwrap();
        expect("a claim that takes the key", &[sql::CLAIM_KEY]);
        store.claim_idempotency_key(&claim).await.unwrap();
        expect(
            "a claim that finds the key taken",
            &[sql::CLAIM_KEY, sql::KEY_STATE],
        );

        // The booking that turns the hold into itself and completes the key.
        let from_hold = NewBooking {
            replaces_hold: Some(hold_id),
            idempotency: Some(IdempotencyCompletion {
                scope,
                outcome: "booked".into(),
            }),
            ..new_booking(ada.id, range(at(11, 0), 30), 0, 0)
        };
        store.insert_booking(from_hold).await.unwrap();
        expect(
            "a booking from a hold, under an idempotency key",
            &[
                sql::BOOKING_TARGETS,
                sql::OVERLAP_EXISTS,
                sql::END_HOLD,
                sql::COMPLETE_KEY,
                sql::INSERT_BOOKING,
            ],
        );

        // A move and a cancellation, each with its event.
        let moved = store
            .reschedule_booking(Reschedule {
                id: booking.id,
                organizer_id: ada.id,
                expected_sequence: 0,
                time: range(at(12, 0), 30),
                buffer_before: Duration::zero(),
                buffer_after: Duration::zero(),
                limits: Vec::new(),
                at: created(),
                event: Some(event(&booking, BookingEventKind::Rescheduled)),
            })
            .await
            .unwrap();
        expect(
            "a move",
            &[
                sql::BOOKING_TO_MOVE,
                sql::OVERLAP_EXISTS,
                sql::MOVE_BOOKING,
                sql::INSERT_EVENT,
            ],
        );
        store
            .cancel_booking(Cancellation {
                expected_sequence: Some(1),
                event: Some(event(&moved, BookingEventKind::Cancelled)),
                ..Cancellation::new(booking.id, booking.organizer_id, created())
            })
            .await
            .unwrap();
        expect(
            "a cancellation",
            &[sql::CANCEL_RETURNING, sql::INSERT_EVENT],
        );

        // A job claim is one statement.
        store
            .claim_jobs("q", created(), 10, created() + Duration::seconds(60))
            .await
            .unwrap();
        expect("a job claim", &[sql::CLAIM_JOBS]);

        // The booking context: one read transaction.
        store
            .booking_context(&ContextQuery {
                organizer: OrganizerRef::Username("ada".into()),
                event_type: Slug::default_slug(),
                occupied_within: range(at(0, 0), 24 * 60),
                counted_within: range(at(0, 0), 24 * 60),
                now: created(),
            })
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            take(),
            [
                "BEGIN DEFERRED",
                sql::ORGANIZER_BY_USERNAME,
                sql::EVENT_TYPE_BY_SLUG,
                sql::DEFAULT_SCHEDULE,
                sql::OCCUPIED_IN_RANGE,
                "COMMIT"
            ],
            "the booking context"
        );
    }
}
