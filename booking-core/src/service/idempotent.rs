//! Running an operation under an idempotency key: claim, replay, record.
//! The rules are in [`crate::idempotency`].

use std::time::Duration as StdDuration;

use crate::idempotency::{
    ClaimOutcome, IdempotencyClaim, IdempotencyCompletion, IdempotencyKey, IdempotencyScope,
    KEY_LIFETIME, Recorded, STALE_CLAIM,
};
use crate::organizer::OrganizerId;
use crate::secret::TokenHash;

use super::{BookingService, ServiceError};

/// What a claim gave the caller.
pub(super) enum Claimed {
    /// The caller runs the operation and must then [`finish`](BookingService::finish_key).
    Fresh(IdempotencyScope),
    /// The operation ran before; its outcome.
    Replay(Box<Recorded>),
}

/// The first pause while another request with the same key runs; doubled up
/// to [`MAX_PAUSE`].
const FIRST_PAUSE: StdDuration = StdDuration::from_millis(5);
const MAX_PAUSE: StdDuration = StdDuration::from_millis(200);

impl BookingService {
    /// Claims `key` for `operation` on `organizer`'s data. A request still
    /// running under the same key is waited for, up to
    /// [`ServiceConfig::idempotency_wait`](super::ServiceConfig::idempotency_wait),
    /// then replayed.
    pub(super) async fn claim_key(
        &self,
        organizer: OrganizerId,
        operation: String,
        key: &IdempotencyKey,
        fingerprint: TokenHash,
    ) -> Result<Claimed, ServiceError> {
        let scope = IdempotencyScope {
            organizer_id: organizer,
            operation,
            key_hash: key.hash(),
        };
        let deadline = tokio::time::Instant::now() + self.config.idempotency_wait;
        let mut pause = FIRST_PAUSE;
        loop {
            let now = self.now();
            let claim = IdempotencyClaim {
                scope: scope.clone(),
                fingerprint,
                now,
                expires_at: now + KEY_LIFETIME,
                stale_before: now - STALE_CLAIM,
            };
            match self.store.claim_idempotency_key(&claim).await? {
                ClaimOutcome::Claimed => return Ok(Claimed::Fresh(scope)),
                ClaimOutcome::Mismatch => return Err(ServiceError::IdempotencyKeyReused),
                ClaimOutcome::Done(text) => {
                    return Recorded::from_text(&text)
                        .map(|recorded| Claimed::Replay(Box::new(recorded)))
                        .ok_or_else(|| {
                            ServiceError::Store(crate::store::StoreError::Corrupt(
                                "an idempotency record's outcome cannot be read".to_owned(),
                            ))
                        });
                }
                _ => {
                    if tokio::time::Instant::now() + pause > deadline {
                        return Err(ServiceError::IdempotencyInProgress);
                    }
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(MAX_PAUSE);
                }
            }
        }
    }

    /// Records how a claimed operation ended: its outcome when it succeeded
    /// (see [`fail_key`](Self::fail_key) for failures). A failure to record
    /// is logged: the operation's own result stands.
    pub(super) async fn finish_key<T>(
        &self,
        scope: &IdempotencyScope,
        result: &Result<T, ServiceError>,
        record: impl FnOnce(&T) -> Recorded,
    ) {
        match result {
            Ok(value) => self.record_key(scope, record(value)).await,
            Err(error) => self.fail_key(scope, error).await,
        }
    }

    /// Records a failed operation: its refusal when the caller's request was
    /// at fault (replayed as it was); nothing when the service failed or the
    /// refusal was transient (the claim is abandoned, so a retry runs again).
    pub(super) async fn fail_key(&self, scope: &IdempotencyScope, error: &ServiceError) {
        if error.is_client_error() && !is_transient(error) {
            let refused = Recorded::Refused {
                code: error.code().to_owned(),
                message: error.to_string(),
            };
            self.record_key(scope, refused).await;
        } else if let Err(error) = self.store.abandon_idempotency_key(scope).await {
            tracing::warn!(%error, "could not abandon an idempotency claim; it goes stale by itself");
        }
    }

    async fn record_key(&self, scope: &IdempotencyScope, outcome: Recorded) {
        let completion = IdempotencyCompletion {
            scope: scope.clone(),
            outcome: outcome.to_text(),
        };
        if let Err(error) = self.store.complete_idempotency_key(&completion).await {
            tracing::warn!(%error, "could not record an idempotency outcome; a retry will run again");
        }
    }
}

/// Refusals that ask the client to try the same request again: another
/// booking of the slot was in progress, or the organizer's configuration
/// changed under the request. Replaying them would turn "try again" into
/// "refused for a day".
fn is_transient(error: &ServiceError) -> bool {
    matches!(
        error,
        ServiceError::SlotBeingBooked | ServiceError::ConcurrentUpdate
    )
}

/// A replayed refusal, as the error it was.
pub(super) fn replayed_error(code: String, message: String) -> ServiceError {
    ServiceError::Replayed { code, message }
}
