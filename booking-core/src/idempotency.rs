//! Idempotent requests: a client that sends the same request again with the
//! same [`IdempotencyKey`] (after a timeout, a dropped connection, a crash)
//! gets the first outcome again instead of a second booking, in the manner
//! of the IETF `Idempotency-Key` draft and Stripe's API.
//!
//! # How it works
//!
//! 1. The service *claims* the key in the store
//!    ([`BookingStore::claim_idempotency_key`](crate::BookingStore::claim_idempotency_key)),
//!    with a fingerprint of the request (SHA-256 of its canonical form).
//!    A key is scoped to one organizer and one operation (`create`, or
//!    `reschedule`/`cancel` of one booking), and kept for 24 hours.
//! 2. The first claimer processes the request. A booking completes the claim
//!    **in the same atomic step** that inserts it, so a process that dies
//!    right after the insert leaves a finished record, never a second
//!    booking on retry. Refusals (the slot was taken, ...) are recorded too,
//!    and replayed as they were; a server failure, or a refusal that asks
//!    the client to try again (`slot_being_booked`, `concurrent_update`),
//!    abandons the claim so a retry runs again.
//! 3. A request arriving while the first is still running waits a little for
//!    it to finish, then replays its outcome; if it is still running after
//!    that, it is refused with `IdempotencyInProgress`. A claim whose holder
//!    died (no completion after [`STALE_CLAIM`]) can be taken over.
//! 4. The same key with a different request is `IdempotencyKeyReused`.
//!
//! # Cancel tokens are never stored
//!
//! A replayed booking must carry a working cancel token, yet the store only
//! ever holds token hashes. So a booking made under an idempotency key gets
//! a *derived* cancel token: `HMAC-SHA256(key = idempotency key, message =
//! booking id [‖ the service's secret, when one is configured])`, hex
//! encoded. The store keeps the key's SHA-256 and the token's SHA-256 only:
//! a database dump yields neither. Whoever presents the key (and the same
//! request) gets the token again, which is exactly what a retry needs; with
//! a service secret ([`BookingService::with_secret`](crate::BookingService::with_secret))
//! even a leaked key is not enough without the server.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::booking::{Booking, BookingId};
use crate::organizer::OrganizerId;
use crate::secret::{SecretToken, TokenHash};

/// How long a finished key is remembered.
pub const KEY_LIFETIME: Duration = Duration::hours(24);
/// After this long without completion, a claim is taken to be abandoned (its
/// holder crashed) and may be taken over.
pub const STALE_CLAIM: Duration = Duration::seconds(60);

/// A client's idempotency key: 1 to 255 visible ASCII characters (`!` to
/// `~`), as the `Idempotency-Key` header carries it.
///
/// ```
/// use booking_core::idempotency::IdempotencyKey;
///
/// assert!("8e03978e-40d5-43e8-bc93-6894a57f9324".parse::<IdempotencyKey>().is_ok());
/// assert!("".parse::<IdempotencyKey>().is_err());
/// assert!("with space".parse::<IdempotencyKey>().is_err());
/// assert!("x".repeat(256).parse::<IdempotencyKey>().is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

/// Text that is not a valid [`IdempotencyKey`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "an idempotency key must be 1 to 255 visible ASCII characters (no spaces or control characters)"
)]
pub struct InvalidIdempotencyKey;

impl IdempotencyKey {
    /// The longest key accepted.
    pub const MAX_LEN: usize = 255;

    /// The key as the client sent it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The SHA-256 of the key: what a store keeps.
    pub fn hash(&self) -> TokenHash {
        TokenHash::of(&self.0)
    }
}

impl FromStr for IdempotencyKey {
    type Err = InvalidIdempotencyKey;
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let valid = !input.is_empty()
            && input.len() <= Self::MAX_LEN
            && input.bytes().all(|b| b.is_ascii_graphic());
        if valid {
            Ok(IdempotencyKey(input.to_owned()))
        } else {
            Err(InvalidIdempotencyKey)
        }
    }
}

impl fmt::Debug for IdempotencyKey {
    /// Keys can unlock a replayed cancel token, so they are not printed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IdempotencyKey(..)")
    }
}

/// Which key of which operation: the identity of an idempotency record.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyScope {
    /// The organizer the request is for.
    pub organizer_id: OrganizerId,
    /// The operation: `create`, `reschedule:{booking id}` or
    /// `cancel:{booking id}`.
    pub operation: String,
    /// The key's SHA-256.
    pub key_hash: TokenHash,
}

/// A request to claim a key (see the [module docs](self)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyClaim {
    /// The key and what it applies to.
    pub scope: IdempotencyScope,
    /// SHA-256 of the request's canonical form: the same key with another
    /// fingerprint is a reuse.
    pub fingerprint: TokenHash,
    /// The claim's instant.
    pub now: DateTime<Utc>,
    /// When the record may be forgotten (`now + KEY_LIFETIME`).
    pub expires_at: DateTime<Utc>,
    /// A pending claim made before this instant is abandoned and may be
    /// taken over (`now - STALE_CLAIM`).
    pub stale_before: DateTime<Utc>,
}

/// What [`claim_idempotency_key`](crate::BookingStore::claim_idempotency_key) found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClaimOutcome {
    /// The caller now holds the key (it was free, expired, or abandoned) and
    /// must complete or abandon it.
    Claimed,
    /// Another request with this key and the same fingerprint is running.
    InProgress,
    /// The key was used for a different request.
    Mismatch,
    /// The same request finished before; its recorded outcome, as written.
    Done(String),
}

/// What completes a claim atomically with a write: the scope and the
/// recorded outcome (opaque text to the store).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyCompletion {
    /// The claimed key.
    pub scope: IdempotencyScope,
    /// The outcome to record.
    pub outcome: String,
}

/// The outcome the service records for a key, replayed as it was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum Recorded {
    /// A booking was made (its cancel token is derived again on replay).
    Created { booking: Booking },
    /// A booking was moved.
    Rescheduled { booking: Booking },
    /// A booking was cancelled.
    Cancelled {
        booking: Booking,
        cancelled_at: DateTime<Utc>,
    },
    /// The request was refused with this error.
    Refused { code: String, message: String },
}

impl Recorded {
    pub(crate) fn to_text(&self) -> String {
        // Serializing plain data cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    pub(crate) fn from_text(text: &str) -> Option<Self> {
        serde_json::from_str(text).ok()
    }
}

/// The SHA-256 of `parts`, each length-prefixed so that no two different
/// requests share a canonical form.
pub(crate) fn fingerprint(parts: &[&str]) -> TokenHash {
    let mut canonical = String::new();
    for part in parts {
        canonical.push_str(&part.len().to_string());
        canonical.push(':');
        canonical.push_str(part);
    }
    TokenHash::of(&canonical)
}

/// The cancel token of a booking made under `key` (see the
/// [module docs](self)).
pub(crate) fn derived_cancel_token(
    key: &IdempotencyKey,
    booking: BookingId,
    secret: Option<&[u8]>,
) -> SecretToken {
    type HmacSha256 = Hmac<Sha256>;
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = match HmacSha256::new_from_slice(key.as_str().as_bytes()) {
        Ok(mac) => mac,
        Err(_) => return SecretToken::from_derived(&[0; 32]),
    };
    mac.update(booking.to_string().as_bytes());
    if let Some(secret) = secret {
        mac.update(b"|");
        mac.update(secret);
    }
    let bytes: [u8; 32] = mac.finalize().into_bytes().into();
    SecretToken::from_derived(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_tokens_depend_on_key_booking_and_secret() {
        let key: IdempotencyKey = "key-1".parse().unwrap();
        let other: IdempotencyKey = "key-2".parse().unwrap();
        let booking = BookingId::generate();
        let token = derived_cancel_token(&key, booking, None);
        assert_eq!(token, derived_cancel_token(&key, booking, None));
        assert_ne!(token, derived_cancel_token(&other, booking, None));
        assert_ne!(
            token,
            derived_cancel_token(&key, BookingId::generate(), None)
        );
        assert_ne!(token, derived_cancel_token(&key, booking, Some(b"pepper")));
        assert_eq!(token.expose().len(), 64);
    }

    #[test]
    fn fingerprints_separate_their_parts() {
        assert_ne!(fingerprint(&["ab", "c"]), fingerprint(&["a", "bc"]));
        assert_eq!(fingerprint(&["a", "b"]), fingerprint(&["a", "b"]));
    }

    #[test]
    fn keys_are_visible_ascii_and_not_printed() {
        for bad in ["", " ", "a\tb", "é", "a\u{0}"] {
            assert!(bad.parse::<IdempotencyKey>().is_err(), "{bad:?}");
        }
        let key: IdempotencyKey = "secret-key".parse().unwrap();
        assert!(!format!("{key:?}").contains("secret"));
    }
}
