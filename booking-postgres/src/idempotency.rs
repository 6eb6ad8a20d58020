//! Idempotency keys: claimed by one `INSERT ... ON CONFLICT DO UPDATE ...
//! WHERE` (free, expired or stale keys), else read back; completed in the
//! same statement as the booking they record (see
//! [`insert`](crate::insert)) or on their own.

use booking_core::idempotency::{
    ClaimOutcome, IdempotencyClaim, IdempotencyCompletion, IdempotencyScope,
};
use booking_core::store::StoreError;
use chrono::{DateTime, Utc};
use sqlx::Postgres;
use sqlx::postgres::PgArguments;
use sqlx::query::Query;

use crate::contention::{RACE_TRIES, lost_race};
use crate::error::store_error;
use crate::{PostgresStore, decode, sql};

/// Binds a key's `$1` to `$3`.
fn bind_scope<'q>(
    query: Query<'q, Postgres, PgArguments>,
    scope: &IdempotencyScope,
) -> Query<'q, Postgres, PgArguments> {
    query
        .bind(scope.organizer_id.to_string())
        .bind(&scope.operation)
        .bind(scope.key_hash.to_hex())
}

impl PostgresStore {
    pub(crate) async fn claim(&self, claim: &IdempotencyClaim) -> Result<ClaimOutcome, StoreError> {
        // The record may change between the two statements (abandoned, expired,
        // gone stale): then the claim looks again.
        for _ in 0..RACE_TRIES {
            let claimed = bind_scope(sqlx::query(sql::keys::CLAIM_KEY), &claim.scope)
                .bind(claim.fingerprint.to_hex())
                .bind(claim.now)
                .bind(claim.expires_at)
                .bind(claim.stale_before)
                .fetch_optional(&self.pool)
                .await;
            match claimed {
                Ok(Some(_)) => return Ok(ClaimOutcome::Claimed),
                Ok(None) => {}
                // A REPEATABLE READ session meeting a record committed after
                // its snapshot: read it.
                Err(error) if lost_race(&error) => {}
                Err(error) => return Err(store_error(error)),
            }
            let row = bind_scope(sqlx::query(sql::keys::READ_KEY), &claim.scope)
                .fetch_optional(&self.pool)
                .await
                .map_err(store_error)?;
            let Some(row) = row else {
                // Abandoned in between: claim it again.
                continue;
            };
            let fingerprint: String = decode::get(&row, "fingerprint")?;
            let claimed_at: DateTime<Utc> = decode::get(&row, "claimed_at")?;
            let outcome: Option<String> = decode::get(&row, "outcome")?;
            let expires_at: DateTime<Utc> = decode::get(&row, "expires_at")?;
            if expires_at <= claim.now {
                continue;
            }
            if fingerprint != claim.fingerprint.to_hex() {
                return Ok(ClaimOutcome::Mismatch);
            }
            match outcome {
                Some(outcome) => return Ok(ClaimOutcome::Done(outcome)),
                None if claimed_at < claim.stale_before => continue,
                None => return Ok(ClaimOutcome::InProgress),
            }
        }
        // The record keeps changing: someone else is working on it.
        Ok(ClaimOutcome::InProgress)
    }

    pub(crate) async fn complete(
        &self,
        completion: &IdempotencyCompletion,
    ) -> Result<(), StoreError> {
        bind_scope(sqlx::query(sql::keys::COMPLETE_KEY), &completion.scope)
            .bind(&completion.outcome)
            .execute(&self.pool)
            .await
            .map(drop)
            .map_err(store_error)
    }

    pub(crate) async fn abandon(&self, scope: &IdempotencyScope) -> Result<(), StoreError> {
        bind_scope(sqlx::query(sql::keys::ABANDON_KEY), scope)
            .execute(&self.pool)
            .await
            .map(drop)
            .map_err(store_error)
    }
}
