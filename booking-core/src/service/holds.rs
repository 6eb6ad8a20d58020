//! Holding a slot while a visitor fills in the form, and letting it go.

use crate::availability::counted_range_for;
use crate::hold::{CreatedHold, Hold, HoldId, HoldRequest, MAX_CLIENT_LEN, NewHold};
use crate::lock::SlotKey;
use crate::secret::{SecretToken, TokenHash};
use crate::validation::{Field, ValidationErrors};

use super::bookings::{meeting, probe};
use super::{BookingService, ServiceError, WIDEST_REACH};

impl BookingService {
    /// Holds an offered slot for the event type's hold duration (5 minutes
    /// unless the organizer set another, at most 15): until it expires or is
    /// released, nobody else is offered or can book or hold the slot, and
    /// booking it with the returned token turns the hold into the booking.
    ///
    /// Refusals: as for a booking of the slot, plus
    /// [`ServiceError::HoldsDisabled`] and [`ServiceError::TooManyHolds`]
    /// (at most [`ServiceConfig::max_holds_per_client`](super::ServiceConfig::max_holds_per_client)
    /// unexpired holds per client on one organizer).
    pub async fn hold_slot(&self, request: HoldRequest) -> Result<CreatedHold, ServiceError> {
        if let Some(client) = &request.client
            && (client.len() > MAX_CLIENT_LEN || client.contains('\0'))
        {
            return Err(ValidationErrors::single(
                Field::HoldToken,
                format!("a client identifier must be at most {MAX_CLIENT_LEN} characters"),
            )
            .into());
        }
        let organizer_id = self.organizer_id(&request.organizer).await?;
        let lock_key = SlotKey {
            organizer_id,
            start: request.time.start(),
        };
        let held = self.acquire_slot_lock(&lock_key).await?;
        let result = self.check_and_hold(request).await;
        held.release().await;
        result
    }

    async fn check_and_hold(&self, request: HoldRequest) -> Result<CreatedHold, ServiceError> {
        let now = self.now();
        let around = probe(request.time)?;
        let resolved = self
            .resolve(
                &request.organizer,
                request.event_type.as_deref(),
                around.widened(WIDEST_REACH, WIDEST_REACH),
                counted_range_for(around),
                now,
            )
            .await?;
        let event_type = &resolved.event_type;
        if event_type.hold_duration <= chrono::Duration::zero() {
            return Err(ServiceError::HoldsDisabled);
        }
        let time = meeting(request.time, event_type.duration)?;
        let rules = self.check_slot(&resolved, time, now).await?;
        let token = SecretToken::generate().map_err(ServiceError::Randomness)?;
        let hold = Hold {
            id: HoldId::generate(),
            organizer_id: resolved.organizer.id,
            event_type_id: event_type.id,
            time,
            buffer_before: event_type.buffer_before,
            buffer_after: event_type.buffer_after,
            token_hash: token.hash(),
            client: request.client,
            created_at: now,
            expires_at: now + event_type.hold_duration,
        };
        let hold = self
            .store
            .insert_hold(NewHold {
                hold,
                limits: rules.limit_checks(time.start()),
                max_per_client: self.config.max_holds_per_client,
            })
            .await?;
        Ok(CreatedHold { hold, token })
    }

    /// Releases a hold early, with its token, so its slot is offered again.
    /// [`ServiceError::HoldNotFound`] when no unexpired hold has this id and
    /// token.
    pub async fn release_hold(&self, id: HoldId, token: &str) -> Result<(), ServiceError> {
        self.store
            .release_hold(id, &TokenHash::of(token), self.now())
            .await?;
        Ok(())
    }

    /// Deletes expired holds and idempotency records (never needed for
    /// correctness: expired ones count for nothing; it keeps tables small).
    /// Returns how many went.
    pub async fn purge_expired(&self) -> Result<u64, ServiceError> {
        Ok(self.store.purge_expired(self.now()).await?)
    }
}
