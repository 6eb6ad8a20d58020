//! Idempotency keys: the claim (one upsert that takes a free, expired or
//! stale key, then one read of what it found when it did not), completion,
//! abandonment, and the purge of expired keys.
//!
//! A claim runs in a `BEGIN IMMEDIATE` transaction like every write, so
//! claims of one key from any number of connections and processes are
//! applied one after the other: the first inserts the row, every later one
//! finds it pending.

use booking_core::idempotency::{
    ClaimOutcome, IdempotencyClaim, IdempotencyCompletion, IdempotencyScope,
};
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension as _, params};

use crate::convert::{micros_ceil, micros_floor};
use crate::error::{Failure, corrupt};
use crate::sql;

/// The key's identity as stored: organizer, operation, key hash.
fn key(scope: &IdempotencyScope) -> (String, &str, String) {
    (
        scope.organizer_id.to_string(),
        scope.operation.as_str(),
        scope.key_hash.to_hex(),
    )
}

/// Claims the key inside the caller's write transaction (see
/// [`sql::CLAIM_KEY`]). Stored instants are whole microseconds, so "claimed
/// before `stale_before`" is `claimed_at < ceil(stale_before)` and "expired
/// at `now`" is `expires_at <= floor(now)`.
pub(crate) fn claim(tx: &Connection, claim: &IdempotencyClaim) -> Result<ClaimOutcome, Failure> {
    let (organizer, operation, key_hash) = key(&claim.scope);
    let fingerprint = claim.fingerprint.to_hex();
    let claimed = tx
        .prepare_cached(sql::CLAIM_KEY)?
        .query_row(
            params![
                organizer,
                operation,
                key_hash,
                fingerprint,
                micros_floor(claim.now),
                micros_floor(claim.expires_at),
                micros_ceil(claim.stale_before),
            ],
            |_| Ok(()),
        )
        .optional()?;
    if claimed.is_some() {
        return Ok(ClaimOutcome::Claimed);
    }
    let (stored, outcome): (String, Option<String>) = tx
        .prepare_cached(sql::KEY_STATE)?
        .query_row(params![organizer, operation, key_hash], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?
        .ok_or_else(|| corrupt("an idempotency key neither claimed nor stored"))?;
    Ok(if stored != fingerprint {
        ClaimOutcome::Mismatch
    } else if let Some(outcome) = outcome {
        ClaimOutcome::Done(outcome)
    } else {
        ClaimOutcome::InProgress
    })
}

/// Records the outcome of a claimed key; run in the transaction of the
/// write it completes, when there is one.
pub(crate) fn complete(tx: &Connection, completion: &IdempotencyCompletion) -> Result<(), Failure> {
    let (organizer, operation, key_hash) = key(&completion.scope);
    tx.prepare_cached(sql::COMPLETE_KEY)?.execute(params![
        organizer,
        operation,
        key_hash,
        completion.outcome
    ])?;
    Ok(())
}

/// Forgets a pending claim (a finished one stays).
pub(crate) fn abandon(tx: &Connection, scope: &IdempotencyScope) -> Result<(), Failure> {
    let (organizer, operation, key_hash) = key(scope);
    tx.prepare_cached(sql::ABANDON_KEY)?
        .execute(params![organizer, operation, key_hash])?;
    Ok(())
}

/// Deletes the keys expired at `now`, through the `expires_at` index; how
/// many went.
pub(crate) fn purge_expired(tx: &Connection, now: DateTime<Utc>) -> Result<u64, Failure> {
    let purged = tx
        .prepare_cached(sql::PURGE_KEYS)?
        .execute([micros_floor(now)])?;
    Ok(purged as u64)
}
