//! Inserting a booking: the overlap guarantee (the exclusion constraint) and,
//! for an event type with limits, the exact limit check. See the crate docs'
//! "Limits" section for why the count is exact.

use booking_core::booking::{Booking, NewBooking};
use booking_core::store::StoreError;
use chrono::{DateTime, Duration, Utc};
use sqlx::error::ErrorKind;
use sqlx::postgres::PgArguments;
use sqlx::query::Query;
use sqlx::types::Json;
use sqlx::{Executor, Postgres};

use crate::{PostgresStore, decode, sql};

/// timestamptz keeps microseconds.
const STORAGE_PRECISION: Duration = Duration::microseconds(1);

impl PostgresStore {
    pub(crate) async fn insert(&self, booking: NewBooking) -> Result<Booking, StoreError> {
        if booking.limits.is_empty() {
            self.insert_unlimited(&booking).await
        } else {
            self.insert_limited(&booking).await
        }
    }

    /// One statement, no transaction: the fast path.
    async fn insert_unlimited(&self, booking: &NewBooking) -> Result<Booking, StoreError> {
        let result = bind_booking(sqlx::query(sql::INSERT_BOOKING), booking)
            .fetch_optional(&self.pool)
            .await;
        match result {
            Ok(Some(row)) => decode::booking(&row),
            // The exclusion constraint found an overlapping active booking.
            Ok(None) => Err(StoreError::Conflict),
            Err(error) if is_foreign_key_violation(&error) => {
                Err(missing_reference(booking, &self.pool).await)
            }
            Err(error) => Err(StoreError::backend(error)),
        }
    }

    /// Lock the event type's row, then count and insert in one statement,
    /// in one READ COMMITTED transaction.
    async fn insert_limited(&self, booking: &NewBooking) -> Result<Booking, StoreError> {
        let mut tx = self
            .pool
            .begin_with(sql::BEGIN)
            .await
            .map_err(StoreError::backend)?;
        let locked = sqlx::query(sql::LOCK_EVENT_TYPE)
            .bind(booking.organizer_id.to_string())
            .bind(booking.event_type_id.to_string())
            .fetch_optional(&mut *tx)
            .await
            .map_err(StoreError::backend)?;
        if locked.is_none() {
            let error = missing_reference(booking, &mut *tx).await;
            tx.rollback().await.map_err(StoreError::backend)?;
            return Err(error);
        }
        let mut starts_from: Vec<DateTime<Utc>> = Vec::with_capacity(booking.limits.len());
        let mut starts_before: Vec<DateTime<Utc>> = Vec::with_capacity(booking.limits.len());
        let mut maxima: Vec<i64> = Vec::with_capacity(booking.limits.len());
        for check in &booking.limits {
            starts_from.push(check.starts_within.start());
            starts_before.push(check.starts_within.end());
            maxima.push(i64::from(check.max));
        }
        let row = bind_booking(sqlx::query(sql::INSERT_LIMITED_BOOKING), booking)
            .bind(starts_from)
            .bind(starts_before)
            .bind(maxima)
            .fetch_one(&mut *tx)
            .await
            .map_err(StoreError::backend)?;
        let inserted: Option<String> = decode::get(&row, "id")?;
        if inserted.is_some() {
            let stored = decode::booking(&row)?;
            tx.commit().await.map_err(StoreError::backend)?;
            return Ok(stored);
        }
        let full_limit: Option<i64> = decode::get(&row, "full_limit")?;
        let overlaps: bool = decode::get(&row, "overlaps")?;
        tx.rollback().await.map_err(StoreError::backend)?;
        match full_limit {
            Some(number) if !overlaps => {
                let check = usize::try_from(number - 1)
                    .ok()
                    .and_then(|index| booking.limits.get(index))
                    .ok_or_else(|| {
                        StoreError::Corrupt(format!("limit number {number} out of range"))
                    })?;
                Err(StoreError::LimitReached(check.period))
            }
            // Nothing full, so the exclusion constraint refused it; or it
            // overlaps as well, and a taken slot is reported as such first.
            _ => Err(StoreError::Conflict),
        }
    }
}

/// Why a reference of `booking` failed: its organizer does not exist, or
/// its event type does not (any more: deleted since the caller read the
/// configuration, which [`StoreError::ConfigChanged`] tells it to read
/// again).
async fn missing_reference<'e, E>(booking: &NewBooking, executor: E) -> StoreError
where
    E: Executor<'e, Database = Postgres>,
{
    let exists = sqlx::query_scalar::<_, bool>(sql::ORGANIZER_EXISTS)
        .bind(booking.organizer_id.to_string())
        .fetch_one(executor)
        .await;
    match exists {
        Ok(true) => StoreError::ConfigChanged,
        Ok(false) => StoreError::OrganizerNotFound(booking.organizer_id),
        Err(error) => StoreError::backend(error),
    }
}

/// Binds `$1` to `$17` of [`sql::INSERT_BOOKING`] and
/// [`sql::INSERT_LIMITED_BOOKING`]. Instants are rounded outward to the
/// microsecond (sqlx would truncate finer ones), so a stored range always
/// encloses the requested one and truncation can never hide an overlap.
fn bind_booking<'q>(
    query: Query<'q, Postgres, PgArguments>,
    booking: &NewBooking,
) -> Query<'q, Postgres, PgArguments> {
    let time = booking.time.rounded_outward(STORAGE_PRECISION);
    let occupied = booking.occupied().rounded_outward(STORAGE_PRECISION);
    query
        .bind(booking.id.to_string())
        .bind(booking.organizer_id.to_string())
        .bind(booking.event_type_id.to_string())
        .bind(booking.event_type_slug.as_str())
        .bind(&booking.attendee.name)
        .bind(&booking.attendee.email)
        .bind(booking.metadata.as_ref().map(Json))
        .bind(&booking.title)
        .bind(booking.description.as_deref())
        .bind(time.start())
        .bind(time.end())
        .bind(booking.created_at)
        .bind(booking.buffer_before)
        .bind(booking.buffer_after)
        .bind(occupied.start())
        .bind(occupied.end())
        .bind(booking.cancel_token_hash.to_hex())
}

fn is_foreign_key_violation(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .is_some_and(|db| db.kind() == ErrorKind::ForeignKeyViolation)
}
