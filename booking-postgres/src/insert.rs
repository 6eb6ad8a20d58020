//! Inserting a row of `bookings`, a booking or a hold: the overlap guarantee
//! (the exclusion constraint), the exact limit check (the event type's row
//! lock), the per-client cap of holds (the organizer's row lock), the hold a
//! booking replaces, its event and its idempotency key, all in one
//! statement. See the crate docs ("Inserting") for why it is exact.

use booking_core::booking::{Attendee, LimitCheck, NewBooking};
use booking_core::event::EventRecord;
use booking_core::event_type::EventTypeId;
use booking_core::hold::{HoldId, NewHold};
use booking_core::idempotency::IdempotencyCompletion;
use booking_core::organizer::OrganizerId;
use booking_core::secret::TokenHash;
use booking_core::store::StoreError;
use booking_core::time::TimeRange;
use chrono::{DateTime, Duration, Utc};
use serde_json::{Map, Value};
use sqlx::error::ErrorKind;
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::query::Query;
use sqlx::types::Json;
use sqlx::{Executor, Postgres};

use crate::contention::{Attempt, Contended, lost_race};
use crate::encode::{EventColumns, bind_event_columns, expiry, limit_arrays, stored};
use crate::error::store_error;
use crate::{PostgresStore, decode, sql};

/// What only a hold has: when it ends and who took it.
#[derive(Clone, Copy)]
pub(crate) struct HoldColumns<'a> {
    pub expires_at: DateTime<Utc>,
    pub client: Option<&'a str>,
}

/// A row of `bookings` to insert, and what must be checked and written in
/// the same atomic step.
#[derive(Clone)]
pub(crate) struct NewRow<'a> {
    pub id: String,
    pub organizer_id: OrganizerId,
    pub event_type_id: Option<EventTypeId>,
    pub slug: Option<&'a str>,
    pub attendee: Option<&'a Attendee>,
    pub metadata: Option<&'a Map<String, Value>>,
    pub title: Option<&'a str>,
    pub description: Option<&'a str>,
    pub time: TimeRange,
    pub buffer_before: Duration,
    pub buffer_after: Duration,
    pub token_hash: TokenHash,
    pub created_at: DateTime<Utc>,
    /// `Some` for a hold.
    pub hold: Option<HoldColumns<'a>>,
    pub limits: &'a [LimitCheck],
    pub replaces_hold: Option<HoldId>,
    /// The per-client cap, checked when the hold has a client.
    pub max_per_client: Option<u32>,
    pub event: Option<&'a EventRecord>,
    pub idempotency: Option<&'a IdempotencyCompletion>,
    /// The configuration version a booking was decided on, checked in the
    /// same statement; `None` checks nothing.
    pub config_version: Option<u64>,
}

impl<'a> NewRow<'a> {
    pub(crate) fn booking(booking: &'a NewBooking) -> Self {
        NewRow {
            id: booking.id.to_string(),
            organizer_id: booking.organizer_id,
            event_type_id: Some(booking.event_type_id),
            slug: Some(booking.event_type_slug.as_str()),
            attendee: Some(&booking.attendee),
            metadata: booking.metadata.as_ref(),
            title: Some(&booking.title),
            description: booking.description.as_deref(),
            time: booking.time,
            buffer_before: booking.buffer_before,
            buffer_after: booking.buffer_after,
            token_hash: booking.cancel_token_hash,
            created_at: booking.created_at,
            hold: None,
            limits: &booking.limits,
            replaces_hold: booking.replaces_hold,
            max_per_client: None,
            event: booking.event.as_ref(),
            idempotency: booking.idempotency.as_ref(),
            config_version: booking.config_version,
        }
    }

    pub(crate) fn hold(new: &'a NewHold) -> Self {
        let hold = &new.hold;
        NewRow {
            id: hold.id.to_string(),
            organizer_id: hold.organizer_id,
            event_type_id: Some(hold.event_type_id),
            slug: None,
            attendee: None,
            metadata: None,
            title: None,
            description: None,
            time: hold.time,
            buffer_before: hold.buffer_before,
            buffer_after: hold.buffer_after,
            token_hash: hold.token_hash,
            created_at: hold.created_at,
            hold: Some(HoldColumns {
                expires_at: hold.expires_at,
                client: hold.client.as_deref(),
            }),
            limits: &new.limits,
            replaces_hold: None,
            max_per_client: hold.client.as_ref().map(|_| new.max_per_client),
            event: None,
            idempotency: None,
            config_version: None,
        }
    }

    fn occupied(&self) -> TimeRange {
        stored(self.time.widened(self.buffer_before, self.buffer_after))
    }

    /// Limits apply to an event type that exists; without one, nothing is
    /// counted.
    fn has_limits(&self) -> bool {
        !self.limits.is_empty() && self.event_type_id.is_some()
    }
}

impl PostgresStore {
    /// Inserts `row`, trying once more after ending expired holds in its
    /// way. [`StoreError::ConfigChanged`] when its event type does not exist
    /// (any more) or the configuration moved on from the row's version.
    ///
    /// The pool does not ping a connection before lending it (see
    /// [`PostgresStore::connect`]), so a connection that died while idle (a
    /// server restart, a failover) is found out by the statement itself.
    /// Such an insert is tried once more on a fresh connection: it is
    /// idempotent by the row's id. When the first try did commit and only
    /// its answer was lost, the second finds the row with its id: if it is
    /// this very row (same organizer, start and token hash), that is the
    /// answer.
    pub(crate) async fn insert_row(&self, row: &NewRow<'_>) -> Result<PgRow, StoreError> {
        match self.insert_row_once(row).await {
            Err(StoreError::Backend(source)) if connection_lost(source.as_ref()) => {
                tracing::warn!(
                    error = %source,
                    id = %row.id,
                    "PostgreSQL connection lost during an insert; trying once more"
                );
                match self.insert_row_once(row).await {
                    Err(StoreError::Corrupt(reason)) => match self.own_row(row).await? {
                        Some(inserted) => Ok(inserted),
                        None => Err(StoreError::Corrupt(reason)),
                    },
                    other => other,
                }
            }
            other => other,
        }
    }

    /// The stored row with `row`'s id, if it is `row` itself (the first of
    /// two tries committed it).
    async fn own_row(&self, row: &NewRow<'_>) -> Result<Option<PgRow>, StoreError> {
        self.find_own_row(row).await.map_err(store_error)
    }

    /// [`own_row`](Self::own_row) with the driver's error.
    pub(crate) async fn find_own_row(
        &self,
        row: &NewRow<'_>,
    ) -> Result<Option<PgRow>, sqlx::Error> {
        sqlx::query(sql::bookings::ROW_BY_ID)
            .bind(&row.id)
            .bind(row.organizer_id.to_string())
            .bind(stored(row.time).start())
            .bind(row.token_hash.to_hex())
            .fetch_optional(&self.pool)
            .await
    }

    /// [`insert_row`](Self::insert_row) on one connection: the try, and
    /// the second after an unexplained refusal.
    async fn insert_row_once(&self, row: &NewRow<'_>) -> Result<PgRow, StoreError> {
        let contended = Contended {
            organizer: row.organizer_id,
            occupied: row.occupied(),
            now: row.created_at,
            except: row.replaces_hold.map(|hold| hold.to_string()),
        };
        if let Attempt::Done(inserted) = self.try_insert(row).await? {
            return Ok(inserted);
        }
        self.clear_for_retry(&contended).await?;
        self.try_insert(row).await?.or_conflict()
    }

    /// One try: the statement alone, or in a transaction after the locks.
    async fn try_insert(&self, row: &NewRow<'_>) -> Result<Attempt<PgRow>, StoreError> {
        let needs_transaction =
            row.has_limits() || row.replaces_hold.is_some() || row.max_per_client.is_some();
        if !needs_transaction {
            let result = self.insert_alone(row).await;
            return match result {
                Ok(inserted) => outcome(inserted, row),
                Err(error) => self.failure(error, row).await,
            };
        }
        let mut tx = self
            .pool
            .begin_with(sql::BEGIN)
            .await
            .map_err(store_error)?;
        if let Some(expected) = row.config_version {
            let version: Option<i64> = sqlx::query_scalar(sql::bookings::LOCK_CONFIG_VERSION)
                .bind(row.organizer_id.to_string())
                .fetch_optional(&mut *tx)
                .await
                .map_err(store_error)?;
            let refusal = match version {
                None => Some(StoreError::OrganizerNotFound(row.organizer_id)),
                Some(version) if u64::try_from(version).ok() != Some(expected) => {
                    Some(StoreError::ConfigChanged)
                }
                Some(_) => None,
            };
            if let Some(refusal) = refusal {
                tx.rollback().await.map_err(store_error)?;
                return Err(refusal);
            }
        }
        if row.max_per_client.is_some() {
            let locked = sqlx::query(sql::bookings::LOCK_ORGANIZER)
                .bind(row.organizer_id.to_string())
                .fetch_optional(&mut *tx)
                .await
                .map_err(store_error)?;
            if locked.is_none() {
                tx.rollback().await.map_err(store_error)?;
                return Err(StoreError::OrganizerNotFound(row.organizer_id));
            }
        }
        if let (true, Some(event_type)) = (row.has_limits(), row.event_type_id) {
            let locked = sqlx::query(sql::bookings::LOCK_EVENT_TYPE)
                .bind(row.organizer_id.to_string())
                .bind(event_type.to_string())
                .fetch_optional(&mut *tx)
                .await
                .map_err(store_error)?;
            if locked.is_none() {
                let refusal = missing_reference(row.organizer_id, &mut *tx).await;
                tx.rollback().await.map_err(store_error)?;
                return Err(refusal);
            }
        }
        let result = bind_row(sqlx::query(sql::bookings::INSERT), row, RowColumns::of(row))
            .fetch_one(&mut *tx)
            .await;
        match result {
            Ok(inserted) => {
                let outcome = outcome(inserted, row);
                if matches!(outcome, Ok(Attempt::Done(_))) {
                    tx.commit().await.map_err(store_error)?;
                } else {
                    // Undoes the replaced hold's deletion.
                    tx.rollback().await.map_err(store_error)?;
                }
                outcome
            }
            Err(error) => {
                // The failed statement aborted the transaction; the error
                // that matters is the statement's.
                let _ = tx.rollback().await;
                self.failure(error, row).await
            }
        }
    }

    /// The insert statement alone, autocommitted: on one of the
    /// connections kept for bookings (one round trip; see `lanes`), or
    /// through the pool when there are none; under concurrent load,
    /// together with other such inserts (see `batch`). Only a row with no
    /// limit, no hold to replace and no client cap comes here, so it is the
    /// statement without those parts.
    async fn insert_alone(&self, row: &NewRow<'_>) -> Result<PgRow, sqlx::Error> {
        if self.batches.is_off() {
            return self.insert_single(row).await;
        }
        self.insert_batched(row).await
    }

    /// [`sql::bookings::INSERT_PLAIN`] for `row`, on a booking connection
    /// (see `lanes`) or, when there are none, through the pool.
    pub(crate) async fn insert_single(&self, row: &NewRow<'_>) -> Result<PgRow, sqlx::Error> {
        self.insert_single_encoded(row, RowColumns::of(row)).await
    }

    /// [`insert_single`](Self::insert_single) with `row` already encoded.
    pub(crate) async fn insert_single_encoded(
        &self,
        row: &NewRow<'_>,
        columns: RowColumns,
    ) -> Result<PgRow, sqlx::Error> {
        let statement = bind_row(sqlx::query(sql::bookings::INSERT_PLAIN), row, columns);
        self.on_booking_connection(async |connection| statement.fetch_one(connection).await)
            .await
    }

    /// What a failed insert statement means.
    async fn failure(
        &self,
        error: sqlx::Error,
        row: &NewRow<'_>,
    ) -> Result<Attempt<PgRow>, StoreError> {
        let kind = error.as_database_error().map(|db| db.kind());
        if kind == Some(ErrorKind::ForeignKeyViolation) {
            return Err(missing_reference(row.organizer_id, &self.pool).await);
        }
        if kind == Some(ErrorKind::UniqueViolation) {
            return Err(duplicate_id(row));
        }
        if lost_race(&error) {
            return Ok(Attempt::Unexplained);
        }
        Err(store_error(error))
    }
}

/// What the insert statement's row says.
fn outcome(inserted: PgRow, row: &NewRow<'_>) -> Result<Attempt<PgRow>, StoreError> {
    if decode::get::<Option<String>>(&inserted, "id")?.is_some() {
        return Ok(Attempt::Done(inserted));
    }
    if decode::get::<bool>(&inserted, "organizer_missing")? {
        return Err(StoreError::OrganizerNotFound(row.organizer_id));
    }
    if decode::get::<bool>(&inserted, "config_changed")? {
        return Err(StoreError::ConfigChanged);
    }
    if decode::get::<bool>(&inserted, "hold_missing")?
        && let Some(hold) = row.replaces_hold
    {
        return Err(StoreError::HoldNotFound(hold));
    }
    // A taken slot is reported first, as by every store.
    if decode::get::<Option<bool>>(&inserted, "blocked")? == Some(true) {
        return Err(StoreError::Conflict);
    }
    // A row with this id: the primary key was the arbiter that refused it
    // (see `sql::bookings::INSERT`).
    if decode::get::<Option<bool>>(&inserted, "duplicate")? == Some(true) {
        return Err(duplicate_id(row));
    }
    if let Some(number) = decode::get::<Option<i64>>(&inserted, "full_limit")? {
        return Err(StoreError::LimitReached(
            limit_numbered(row.limits, number)?.period,
        ));
    }
    if decode::get::<bool>(&inserted, "too_many_holds")?
        && let Some(max) = row.max_per_client
    {
        return Err(StoreError::TooManyHolds(max));
    }
    Ok(Attempt::Unexplained)
}

/// Whether a failed statement failed because its connection was gone: an
/// I/O error, sqlx's connection worker gone, or the server ending the
/// session (SQLSTATE class 08, or 57P01 to 57P03 on shutdown and restart).
/// Nothing the statement did was committed, unless the commit's answer was
/// what got lost.
pub(crate) fn connection_lost(error: &(dyn std::error::Error + 'static)) -> bool {
    let Some(error) = error.downcast_ref::<sqlx::Error>() else {
        return false;
    };
    match error {
        sqlx::Error::Io(_) | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|code| code.starts_with("08") || code.starts_with("57P0")),
        _ => false,
    }
}

/// A row of `bookings` with the id of `row` exists already: ids are
/// generated, so this is a bug or a corrupt database, not a client's
/// mistake.
fn duplicate_id(row: &NewRow<'_>) -> StoreError {
    StoreError::Corrupt(format!(
        "a booking or hold with id {} already exists",
        row.id
    ))
}

/// The limit a statement reported by its 1-based number.
pub(crate) fn limit_numbered(
    limits: &[LimitCheck],
    number: i64,
) -> Result<&LimitCheck, StoreError> {
    usize::try_from(number - 1)
        .ok()
        .and_then(|index| limits.get(index))
        .ok_or_else(|| StoreError::Corrupt(format!("limit number {number} out of range")))
}

/// Why a reference of a row to insert failed: its organizer does not exist,
/// or its event type does not (any more): [`StoreError::ConfigChanged`],
/// which the caller turns into what the contract asks for.
async fn missing_reference<'e, E>(organizer: OrganizerId, executor: E) -> StoreError
where
    E: Executor<'e, Database = Postgres>,
{
    let exists = sqlx::query_scalar::<_, bool>(sql::ORGANIZER_EXISTS)
        .bind(organizer.to_string())
        .fetch_one(executor)
        .await;
    match exists {
        Ok(true) => StoreError::ConfigChanged,
        Ok(false) => StoreError::OrganizerNotFound(organizer),
        Err(error) => store_error(error),
    }
}

/// A row's values as the insert statements bind them, owned (so that a
/// row can wait in a batch; see `batch`): its `bookings` columns, its
/// event, its idempotency key and the configuration version it was decided
/// on. The one place a [`NewRow`] is encoded: the meeting and the occupied
/// interval are rounded outward to the microsecond, a hold's expiry up to
/// it.
pub(crate) struct RowColumns {
    pub id: String,
    pub organizer_id: String,
    pub event_type_id: Option<String>,
    pub slug: Option<String>,
    pub attendant_name: Option<String>,
    pub attendant_email: Option<String>,
    pub metadata: Option<Json<Map<String, Value>>>,
    pub title: Option<String>,
    pub description: Option<String>,
    /// The meeting, as stored.
    pub time: TimeRange,
    pub created_at: DateTime<Utc>,
    pub buffer_before: Duration,
    pub buffer_after: Duration,
    /// The occupied interval, as stored.
    pub occupied: TimeRange,
    pub token_hash: String,
    /// `confirmed` or `held`.
    pub status: &'static str,
    pub hold_expires_at: Option<DateTime<Utc>>,
    pub hold_client: Option<String>,
    pub event: Option<EventColumns>,
    pub key: Option<KeyColumns>,
    /// A version beyond `bigint` was never stored: `-1`, which never matches.
    pub config_version: Option<i64>,
}

/// The idempotency key a row completes: organizer, operation, key hash,
/// outcome.
pub(crate) struct KeyColumns {
    pub organizer_id: String,
    pub operation: String,
    pub key_hash: String,
    pub outcome: String,
}

impl KeyColumns {
    /// The four columns of `key`, all `None` for none.
    pub(crate) fn split(
        key: Option<Self>,
    ) -> (
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    ) {
        match key {
            Some(k) => (
                Some(k.organizer_id),
                Some(k.operation),
                Some(k.key_hash),
                Some(k.outcome),
            ),
            None => (None, None, None, None),
        }
    }
}

impl RowColumns {
    pub(crate) fn of(row: &NewRow<'_>) -> Self {
        RowColumns {
            id: row.id.clone(),
            organizer_id: row.organizer_id.to_string(),
            event_type_id: row.event_type_id.map(|id| id.to_string()),
            slug: row.slug.map(str::to_owned),
            attendant_name: row.attendee.map(|a| a.name.clone()),
            attendant_email: row.attendee.map(|a| a.email.clone()),
            metadata: row.metadata.map(|m| Json(m.clone())),
            title: row.title.map(str::to_owned),
            description: row.description.map(str::to_owned),
            time: stored(row.time),
            created_at: row.created_at,
            buffer_before: row.buffer_before,
            buffer_after: row.buffer_after,
            occupied: row.occupied(),
            token_hash: row.token_hash.to_hex(),
            status: if row.hold.is_some() {
                "held"
            } else {
                "confirmed"
            },
            hold_expires_at: row.hold.map(|hold| expiry(hold.expires_at)),
            hold_client: row.hold.and_then(|hold| hold.client).map(str::to_owned),
            event: row.event.map(EventColumns::of),
            key: row.idempotency.map(|c| KeyColumns {
                organizer_id: c.scope.organizer_id.to_string(),
                operation: c.scope.operation.as_str().to_owned(),
                key_hash: c.scope.key_hash.to_hex(),
                outcome: c.outcome.clone(),
            }),
            config_version: row.config_version.map(|v| i64::try_from(v).unwrap_or(-1)),
        }
    }
}

/// Binds `$1` to `$36` of [`sql::bookings::INSERT`] (and of
/// `INSERT_PLAIN`), from [`RowColumns`] and the row's limits, hold to
/// replace and client cap.
fn bind_row<'q>(
    query: Query<'q, Postgres, PgArguments>,
    row: &NewRow<'_>,
    columns: RowColumns,
) -> Query<'q, Postgres, PgArguments> {
    let (from, before, max) = limit_arrays(row.limits);
    let query = query
        .bind(columns.id)
        .bind(columns.organizer_id)
        .bind(columns.event_type_id)
        .bind(columns.slug)
        .bind(columns.attendant_name)
        .bind(columns.attendant_email)
        .bind(columns.metadata)
        .bind(columns.title)
        .bind(columns.description)
        .bind(columns.time.start())
        .bind(columns.time.end())
        .bind(columns.created_at)
        .bind(columns.buffer_before)
        .bind(columns.buffer_after)
        .bind(columns.occupied.start())
        .bind(columns.occupied.end())
        .bind(columns.token_hash)
        .bind(columns.status)
        .bind(columns.hold_expires_at)
        .bind(columns.hold_client)
        .bind(from)
        .bind(before)
        .bind(max)
        .bind(row.replaces_hold.map(|hold| hold.to_string()))
        .bind(row.max_per_client.map(i64::from));
    let (key_organizer, operation, key_hash, outcome) = KeyColumns::split(columns.key);
    bind_event_columns(query, columns.event)
        .bind(key_organizer)
        .bind(operation)
        .bind(key_hash)
        .bind(outcome)
        .bind(columns.config_version)
}
