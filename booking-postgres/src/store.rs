//! `impl BookingStore for PostgresStore`: each method runs the statements of
//! [`sql`] and maps driver errors to domain errors.

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
use sqlx::error::ErrorKind;
use sqlx::postgres::PgRow;

use crate::error::store_error;
use crate::insert::NewRow;
use crate::{PostgresStore, constraints, decode, sql};

/// What `username_key` holds for a new organizer: the username in ASCII
/// lowercase (usernames are ASCII), unique, so uniqueness ignores case.
fn username_key(username: &str) -> String {
    username.to_ascii_lowercase()
}

fn is_username_taken(error: &sqlx::Error) -> bool {
    error.as_database_error().is_some_and(|db| {
        db.kind() == ErrorKind::UniqueViolation
            && matches!(
                db.constraint(),
                Some(constraints::USERNAME_UNIQUE | constraints::USERNAME_KEY_UNIQUE)
            )
    })
}

#[async_trait]
impl BookingStore for PostgresStore {
    async fn check_health(&self) -> Result<(), StoreError> {
        sqlx::query(sql::HEALTH_CHECK)
            .execute(&self.pool)
            .await
            .map(drop)
            .map_err(store_error)
    }

    async fn create_organizer(
        &self,
        id: OrganizerId,
        organizer: NewOrganizer,
        api_token_hash: TokenHash,
        created_at: DateTime<Utc>,
    ) -> Result<Organizer, StoreError> {
        let result = sqlx::query(sql::INSERT_ORGANIZER)
            .bind(id.to_string())
            .bind(&organizer.username)
            .bind(&organizer.email)
            .bind(&organizer.display_name)
            .bind(organizer.time_zone.name())
            .bind(api_token_hash.to_hex())
            .bind(created_at)
            .bind(username_key(&organizer.username))
            .fetch_one(&self.pool)
            .await;
        match result {
            Ok(row) => decode::organizer(&row),
            Err(error) if is_username_taken(&error) => {
                Err(StoreError::UsernameTaken(organizer.username))
            }
            Err(error) => Err(store_error(error)),
        }
    }

    async fn organizer_by_id(&self, id: OrganizerId) -> Result<Option<Organizer>, StoreError> {
        let row = sqlx::query(sql::ORGANIZER_BY_ID)
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(store_error)?;
        row.as_ref().map(decode::organizer).transpose()
    }

    async fn organizer_by_username(&self, username: &str) -> Result<Option<Organizer>, StoreError> {
        let row = sqlx::query(sql::ORGANIZER_BY_USERNAME)
            .bind(username)
            .bind(username_key(username))
            .fetch_optional(&self.pool)
            .await
            .map_err(store_error)?;
        row.as_ref().map(decode::organizer).transpose()
    }

    async fn organizer_by_token_hash(
        &self,
        hash: &TokenHash,
    ) -> Result<Option<Organizer>, StoreError> {
        let row = sqlx::query(sql::ORGANIZER_BY_TOKEN_HASH)
            .bind(hash.to_hex())
            .fetch_optional(&self.pool)
            .await
            .map_err(store_error)?;
        row.as_ref().map(decode::organizer).transpose()
    }

    async fn organizer_config(
        &self,
        organizer: OrganizerId,
    ) -> Result<Option<OrganizerConfig>, StoreError> {
        self.read_config(organizer).await
    }

    async fn update_config(
        &self,
        organizer: OrganizerId,
        expected_version: u64,
        changes: Vec<ConfigChange>,
    ) -> Result<u64, StoreError> {
        self.write_config(organizer, expected_version, changes)
            .await
    }

    async fn booking_context(
        &self,
        query: &ContextQuery,
    ) -> Result<Option<BookingContext>, StoreError> {
        let statement = match &query.organizer {
            OrganizerRef::Id(_) => sql::BOOKING_CONTEXT_BY_ID,
            OrganizerRef::Username(_) => sql::BOOKING_CONTEXT_BY_USERNAME,
        };
        let statement = sqlx::query(statement)
            .bind(query.event_type.as_str())
            .bind(query.occupied_within.start())
            .bind(query.occupied_within.end())
            .bind(query.counted_within.start())
            .bind(query.counted_within.end())
            .bind(query.now);
        let statement = match &query.organizer {
            OrganizerRef::Id(id) => statement.bind(id.to_string()),
            OrganizerRef::Username(username) => {
                statement.bind(username).bind(username_key(username))
            }
        };
        let Some(row) = statement
            .fetch_optional(&self.pool)
            .await
            .map_err(store_error)?
        else {
            return Ok(None);
        };
        let organizer = decode::organizer(&row)?;
        let event_type = decode::event_type(&row, organizer.id)?;
        let schedule = decode::schedule(&row, organizer.id)?;
        Ok(Some(BookingContext {
            config_version: decode::version(&row)?,
            occupied: decode::occupied(
                decode::get(&row, "occupied_starts")?,
                decode::get(&row, "occupied_ends")?,
            )?,
            booked: decode::get(&row, "booked_starts")?,
            organizer,
            event_type,
            schedule,
        }))
    }

    async fn insert_booking(&self, booking: NewBooking) -> Result<Booking, StoreError> {
        let row = NewRow::booking(&booking);
        let inserted = match self.insert_row(&row).await {
            // Its event type was deleted since the caller read it: stored
            // without an event type id (as that event type's bookings are),
            // keeping its slug. No limit applies: no booking counts for an
            // event type that does not exist. (A booking decided on a
            // configuration version is refused instead: deleting its event
            // type moved the version on.)
            Err(StoreError::ConfigChanged) if booking.config_version.is_none() => {
                let orphan = NewRow {
                    event_type_id: None,
                    limits: &[],
                    ..row
                };
                self.insert_row(&orphan).await?
            }
            other => other?,
        };
        decode::booking(&inserted)
    }

    async fn reschedule_booking(&self, change: Reschedule) -> Result<Booking, StoreError> {
        self.reschedule(&change).await
    }

    async fn insert_hold(&self, hold: NewHold) -> Result<Hold, StoreError> {
        self.hold(&hold).await
    }

    async fn hold_by_token_hash(&self, hash: &TokenHash) -> Result<Option<Hold>, StoreError> {
        self.hold_by_token(hash).await
    }

    async fn release_hold(
        &self,
        id: HoldId,
        token_hash: &TokenHash,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.release(id, token_hash, at).await
    }

    async fn claim_idempotency_key(
        &self,
        claim: &IdempotencyClaim,
    ) -> Result<ClaimOutcome, StoreError> {
        self.claim(claim).await
    }

    async fn complete_idempotency_key(
        &self,
        completion: &IdempotencyCompletion,
    ) -> Result<(), StoreError> {
        self.complete(completion).await
    }

    async fn abandon_idempotency_key(&self, scope: &IdempotencyScope) -> Result<(), StoreError> {
        self.abandon(scope).await
    }

    async fn purge_expired(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        self.purge(now).await
    }

    async fn booking(&self, id: BookingId) -> Result<Option<Booking>, StoreError> {
        let row = sqlx::query(sql::bookings::BOOKING_BY_ID)
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(store_error)?;
        row.as_ref().map(decode::booking).transpose()
    }

    async fn list_bookings(
        &self,
        organizer: OrganizerId,
        query: BookingQuery,
    ) -> Result<BookingPage, StoreError> {
        let limit = i64::from(query.limit);
        let offset = i64::try_from(query.offset).unwrap_or(i64::MAX);
        let statement = match query.starts_within {
            None => sqlx::query(sql::bookings::LIST_ALL),
            Some(_) => sqlx::query(sql::bookings::LIST_RANGE),
        }
        .bind(organizer.to_string())
        .bind(limit)
        .bind(offset)
        .bind(query.cancelled_since);
        let statement = match query.starts_within {
            None => statement,
            Some(range) => statement.bind(range.start()).bind(range.end()),
        };
        let rows: Vec<PgRow> = statement.fetch_all(&self.pool).await.map_err(store_error)?;
        let mut total: u64 = 0;
        let mut bookings = Vec::with_capacity(rows.len());
        for row in &rows {
            let count: i64 = decode::get(row, "total")?;
            total = u64::try_from(count)
                .map_err(|_| StoreError::Corrupt(format!("negative count {count}")))?;
            let id: Option<String> = decode::get(row, "id")?;
            if id.is_some() {
                bookings.push(decode::booking(row)?);
            }
        }
        Ok(BookingPage { bookings, total })
    }

    async fn occupied_intervals(
        &self,
        organizer: OrganizerId,
        range: TimeRange,
        now: DateTime<Utc>,
    ) -> Result<Vec<TimeRange>, StoreError> {
        let rows = sqlx::query(sql::OCCUPIED)
            .bind(organizer.to_string())
            .bind(range.start())
            .bind(range.end())
            .bind(now)
            .fetch_all(&self.pool)
            .await
            .map_err(store_error)?;
        let mut starts = Vec::with_capacity(rows.len());
        let mut ends = Vec::with_capacity(rows.len());
        for row in &rows {
            starts.push(decode::get(row, "occupied_start")?);
            ends.push(decode::get(row, "occupied_end")?);
        }
        decode::occupied(starts, ends)
    }

    async fn booked_starts(
        &self,
        organizer: OrganizerId,
        event_type: EventTypeId,
        range: TimeRange,
        now: DateTime<Utc>,
    ) -> Result<Vec<DateTime<Utc>>, StoreError> {
        sqlx::query_scalar(sql::BOOKED_STARTS)
            .bind(organizer.to_string())
            .bind(event_type.to_string())
            .bind(range.start())
            .bind(range.end())
            .bind(now)
            .fetch_all(&self.pool)
            .await
            .map_err(store_error)
    }

    async fn cancel_booking(&self, cancel: Cancellation) -> Result<Booking, StoreError> {
        self.cancel(&cancel).await
    }

    async fn set_api_token_hash(
        &self,
        organizer: OrganizerId,
        hash: TokenHash,
    ) -> Result<(), StoreError> {
        let updated = sqlx::query(sql::SET_API_TOKEN_HASH)
            .bind(organizer.to_string())
            .bind(hash.to_hex())
            .execute(&self.pool)
            .await
            .map_err(store_error)?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::OrganizerNotFound(organizer));
        }
        Ok(())
    }

    async fn events_after(&self, after: u64, limit: u32) -> Result<Vec<StoredEvent>, StoreError> {
        self.events_after_seq(after, limit).await
    }

    async fn undispatched_events(&self, limit: u32) -> Result<Vec<StoredEvent>, StoreError> {
        self.undispatched(limit).await
    }

    async fn dispatch_events(
        &self,
        dispatched: &[EventId],
        jobs: Vec<NewJob>,
    ) -> Result<usize, StoreError> {
        self.dispatch(dispatched, &jobs).await
    }

    async fn claim_jobs(
        &self,
        queue: &str,
        now: DateTime<Utc>,
        limit: u32,
        lease_until: DateTime<Utc>,
    ) -> Result<Vec<Job>, StoreError> {
        self.claim_due(queue, now, limit, lease_until).await
    }

    async fn finish_job(
        &self,
        id: JobId,
        result: JobResult,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.finish(id, &result, now).await
    }

    async fn jobs(
        &self,
        organizer: OrganizerId,
        queue: &str,
        target: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Job>, StoreError> {
        self.jobs_of(organizer, queue, target, limit).await
    }

    async fn put_record(&self, record: Record) -> Result<(), StoreError> {
        self.put(&record).await
    }

    async fn record(&self, kind: &str, id: &str) -> Result<Option<Record>, StoreError> {
        self.record_by_id(kind, id).await
    }

    async fn record_by_lookup(
        &self,
        kind: &str,
        lookup: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Record>, StoreError> {
        self.record_looked_up(kind, lookup, now).await
    }

    async fn records(
        &self,
        organizer: OrganizerId,
        kind: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<Record>, StoreError> {
        self.records_of(organizer, kind, now).await
    }

    async fn delete_record(&self, kind: &str, id: &str) -> Result<bool, StoreError> {
        self.delete(kind, id).await
    }
}
