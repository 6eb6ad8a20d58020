//! Slot holds: rows of `bookings` with status `held`, inserted like a
//! booking (see [`insert`](crate::insert)), found by their token, ended
//! early by their token, deleted once expired.

use booking_core::hold::{Hold, HoldId, NewHold};
use booking_core::secret::TokenHash;
use booking_core::store::StoreError;
use chrono::{DateTime, Utc};

use crate::error::store_error;
use crate::insert::NewRow;
use crate::{PostgresStore, decode, sql};

impl PostgresStore {
    /// Inserts a hold with the checks of a booking of its slot, plus the
    /// per-client cap. An event type deleted since the caller read it is
    /// [`StoreError::ConfigChanged`]: a hold always names its event type.
    pub(crate) async fn hold(&self, new: &NewHold) -> Result<Hold, StoreError> {
        let row = self.insert_row(&NewRow::hold(new)).await?;
        decode::hold(&row)
    }

    pub(crate) async fn hold_by_token(&self, hash: &TokenHash) -> Result<Option<Hold>, StoreError> {
        let row = sqlx::query(sql::bookings::HOLD_BY_TOKEN_HASH)
            .bind(hash.to_hex())
            .fetch_optional(&self.pool)
            .await
            .map_err(store_error)?;
        row.as_ref().map(decode::hold).transpose()
    }

    /// Deletes the hold if it is live at `at` and the token matches.
    pub(crate) async fn release(
        &self,
        id: HoldId,
        token_hash: &TokenHash,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let released = sqlx::query(sql::bookings::RELEASE_HOLD)
            .bind(id.to_string())
            .bind(token_hash.to_hex())
            .bind(at)
            .execute(&self.pool)
            .await
            .map_err(store_error)?;
        if released.rows_affected() == 0 {
            return Err(StoreError::HoldNotFound(id));
        }
        Ok(())
    }

    /// Deletes expired idempotency records and holds, in one statement.
    pub(crate) async fn purge(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let purged: i64 = sqlx::query_scalar(sql::bookings::PURGE_EXPIRED)
            .bind(now)
            .fetch_one(&self.pool)
            .await
            .map_err(store_error)?;
        u64::try_from(purged).map_err(|_| StoreError::Corrupt(format!("negative count {purged}")))
    }
}
