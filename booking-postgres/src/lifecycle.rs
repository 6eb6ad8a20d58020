//! A booking's life after its insert: moved by one `UPDATE` that the
//! exclusion constraint checks, cancelled by one `UPDATE`, each writing its
//! event in the same statement.

use booking_core::booking::Booking;
use booking_core::store::{Cancellation, Reschedule, StoreError};
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;

use crate::contention::{Attempt, Contended, RACE_TRIES, lost_race};
use crate::encode::{bind_event, limit_arrays, stored};
use crate::error::store_error;
use crate::insert::limit_numbered;
use crate::{PostgresStore, decode, sql};

impl PostgresStore {
    /// Moves a booking: see [`sql::bookings::RESCHEDULE`]; with limits, in a
    /// transaction after the lock of the booking's event type.
    pub(crate) async fn reschedule(&self, change: &Reschedule) -> Result<Booking, StoreError> {
        let contended = Contended {
            organizer: change.organizer_id,
            occupied: stored(
                change
                    .time
                    .widened(change.buffer_before, change.buffer_after),
            ),
            now: change.at,
            except: Some(change.id.to_string()),
        };
        let moved = match self.try_move(change).await? {
            Attempt::Done(moved) => moved,
            Attempt::Unexplained => {
                self.clear_for_retry(&contended).await?;
                self.try_move(change).await?.or_conflict()?
            }
        };
        decode::booking(&moved)
    }

    async fn try_move(&self, change: &Reschedule) -> Result<Attempt<PgRow>, StoreError> {
        let result = if change.limits.is_empty() {
            bind_move(change).fetch_one(&self.pool).await
        } else {
            let mut tx = self
                .pool
                .begin_with(sql::BEGIN)
                .await
                .map_err(store_error)?;
            // No row: a booking that is not the organizer's or has no event
            // type any more; the statement says which, and counts nothing.
            sqlx::query(sql::bookings::LOCK_EVENT_TYPE_OF_BOOKING)
                .bind(change.id.to_string())
                .bind(change.organizer_id.to_string())
                .fetch_optional(&mut *tx)
                .await
                .map_err(store_error)?;
            let result = bind_move(change).fetch_one(&mut *tx).await;
            let moved = match &result {
                Ok(row) => decode::get::<Option<String>>(row, "id")?.is_some(),
                Err(_) => false,
            };
            if moved {
                tx.commit().await.map_err(store_error)?;
            } else {
                // After a failed statement the rollback's own error does not
                // matter.
                let _ = tx.rollback().await;
            }
            result
        };
        match result {
            Ok(row) => move_outcome(row, change),
            Err(error) if lost_race(&error) => Ok(Attempt::Unexplained),
            Err(error) => Err(store_error(error)),
        }
    }

    /// Cancels a booking in one statement; only when the booking changed
    /// between that statement's snapshot and its row lock is it tried again.
    pub(crate) async fn cancel(&self, cancel: &Cancellation) -> Result<Booking, StoreError> {
        let id = cancel.id;
        for _ in 0..RACE_TRIES {
            let query = sqlx::query(sql::bookings::CANCEL)
                .bind(id.to_string())
                .bind(cancel.organizer_id.to_string())
                .bind(cancel.at)
                .bind(cancel.expected_sequence.map(i64::from));
            let row = match bind_event(query, cancel.event.as_ref())
                .fetch_one(&self.pool)
                .await
            {
                Ok(row) => row,
                Err(error) if lost_race(&error) => continue,
                Err(error) => return Err(store_error(error)),
            };
            if decode::get::<Option<String>>(&row, "id")?.is_some() {
                return decode::booking(&row);
            }
            if !decode::get::<bool>(&row, "found")? {
                return Err(StoreError::BookingNotFound(id));
            }
            if let Some(cancelled_at) = decode::get::<Option<DateTime<Utc>>>(&row, "cancelled_at")?
            {
                return Err(StoreError::AlreadyCancelled { id, cancelled_at });
            }
            let current = decode::current_sequence(&row)?;
            if cancel
                .expected_sequence
                .is_some_and(|expected| Some(expected) != current)
            {
                return Err(StoreError::BookingChanged(id));
            }
        }
        Err(StoreError::BookingChanged(id))
    }
}

fn bind_move(
    change: &Reschedule,
) -> sqlx::query::Query<'static, sqlx::Postgres, sqlx::postgres::PgArguments> {
    let time = stored(change.time);
    let occupied = stored(
        change
            .time
            .widened(change.buffer_before, change.buffer_after),
    );
    let (from, before, max) = limit_arrays(&change.limits);
    let query = sqlx::query(sql::bookings::RESCHEDULE)
        .bind(change.id.to_string())
        .bind(change.organizer_id.to_string())
        .bind(i64::from(change.expected_sequence))
        .bind(time.start())
        .bind(time.end())
        .bind(change.buffer_before)
        .bind(change.buffer_after)
        .bind(occupied.start())
        .bind(occupied.end())
        .bind(change.at)
        .bind(from)
        .bind(before)
        .bind(max);
    bind_event(query, change.event.as_ref())
}

/// What the move statement's row says.
fn move_outcome(row: PgRow, change: &Reschedule) -> Result<Attempt<PgRow>, StoreError> {
    let id = change.id;
    if decode::get::<Option<String>>(&row, "id")?.is_some() {
        return Ok(Attempt::Done(row));
    }
    if !decode::get::<bool>(&row, "found")? {
        return Err(StoreError::BookingNotFound(id));
    }
    if let Some(cancelled_at) = decode::get::<Option<DateTime<Utc>>>(&row, "cancelled_at")? {
        return Err(StoreError::AlreadyCancelled { id, cancelled_at });
    }
    if decode::current_sequence(&row)? != Some(change.expected_sequence) {
        return Err(StoreError::BookingChanged(id));
    }
    if decode::get::<bool>(&row, "blocked")? {
        return Err(StoreError::Conflict);
    }
    if let Some(number) = decode::get::<Option<i64>>(&row, "full_limit")? {
        return Err(StoreError::LimitReached(
            limit_numbered(&change.limits, number)?.period,
        ));
    }
    // The booking changed after this statement's snapshot, or the
    // constraint saw what the snapshot did not.
    Ok(Attempt::Unexplained)
}
