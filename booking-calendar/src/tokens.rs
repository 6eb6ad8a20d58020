//! Feed tokens: the secret in an organizer's feed URL
//! (`.../calendar.ics?token=...`), separate from their API token so a
//! leaked feed URL (calendar apps show and sync it) grants nothing else.
//!
//! A token is derived, not stored: `HMAC-SHA256(server key, organizer id,
//! generation)`, 64 hex characters. The store keeps a
//! [record](booking_core::record) of kind [`FEED_TOKEN_RECORD`] per
//! organizer with the generation and the token's SHA-256 as its lookup key,
//! so
//!
//! * the token can be shown again whenever the organizer asks (a dashboard,
//!   `GET /api/feed-token`) without being stored: a database dump alone
//!   does not reveal it;
//! * a presented token is found with one indexed lookup of its hash;
//! * rotating picks a new random generation: the old token stops working at
//!   once.
//!
//! The first token of an organizer is generation zero, so two first asks
//! at the same time agree. Changing the server key changes every token.

use std::sync::Arc;

use booking_core::chrono::Utc;
use booking_core::record::Record;
use booking_core::secret::TokenHash;
use booking_core::{BookingStore, OrganizerId, StoreError};
use hmac::{Hmac, Mac as _};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// The record kind of feed tokens.
pub const FEED_TOKEN_RECORD: &str = "feed_token";

/// An organizer's feed token, to put in their feed URL. `Debug` does not
/// print it.
#[derive(Clone, PartialEq, Eq)]
pub struct FeedToken(String);

impl FeedToken {
    /// The token's text.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for FeedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FeedToken(..)")
    }
}

/// A feed token could not be made or checked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FeedTokenError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// No randomness for a new generation.
    #[error("no secure randomness for a new feed token")]
    Randomness,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct TokenData {
    /// 0 for the first token, random after a rotation.
    generation: u64,
}

/// Issues, rotates and checks feed tokens. Cheap to clone.
///
/// ```
/// use std::sync::Arc;
/// use booking_calendar::tokens::FeedTokens;
/// use booking_core::{BookingStore, MemoryStore, OrganizerId};
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let store: Arc<dyn BookingStore> = Arc::new(MemoryStore::new());
/// let tokens = FeedTokens::new(store, b"a long random server key");
/// let ada = OrganizerId::generate();
/// let token = tokens.token(ada).await?;
/// assert_eq!(tokens.token(ada).await?, token, "shown again, unchanged");
/// assert_eq!(tokens.organizer_for(token.expose()).await?, Some(ada));
/// let rotated = tokens.rotate(ada).await?;
/// assert_eq!(tokens.organizer_for(token.expose()).await?, None);
/// assert_eq!(tokens.organizer_for(rotated.expose()).await?, Some(ada));
/// # Ok::<(), booking_calendar::tokens::FeedTokenError>(())
/// # }).unwrap();
/// ```
#[derive(Clone)]
pub struct FeedTokens {
    store: Arc<dyn BookingStore>,
    key: Arc<[u8]>,
}

impl std::fmt::Debug for FeedTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FeedTokens").finish_non_exhaustive()
    }
}

impl FeedTokens {
    /// Feed tokens kept in `store`, derived with the server's secret `key`
    /// (for example `BOOKING_SECRET_KEY`; any length, use a long random
    /// value).
    pub fn new(store: Arc<dyn BookingStore>, key: impl AsRef<[u8]>) -> Self {
        FeedTokens {
            store,
            key: Arc::from(key.as_ref()),
        }
    }

    /// The organizer's current feed token, made on the first ask.
    pub async fn token(&self, organizer: OrganizerId) -> Result<FeedToken, FeedTokenError> {
        let id = organizer.to_string();
        let Some(record) = self.store.record(FEED_TOKEN_RECORD, &id).await? else {
            return self.issue(organizer, 0).await;
        };
        let generation = serde_json::from_str::<TokenData>(&record.data)
            .map(|data| data.generation)
            .unwrap_or(0);
        let token = self.derive(organizer, generation);
        if record.lookup.as_deref() == Some(TokenHash::of(token.expose()).to_hex().as_str()) {
            return Ok(token);
        }
        // The server key changed since the token was issued: the stored
        // hash is of a token nobody can derive any more; issue this one.
        self.issue(organizer, generation).await
    }

    /// A new feed token for the organizer; the previous one stops working.
    pub async fn rotate(&self, organizer: OrganizerId) -> Result<FeedToken, FeedTokenError> {
        let mut bytes = [0u8; 8];
        getrandom::fill(&mut bytes).map_err(|_| FeedTokenError::Randomness)?;
        // Never 0 again: that generation is the first token's.
        let generation = u64::from_le_bytes(bytes).max(1);
        self.issue(organizer, generation).await
    }

    /// The organizer whose feed token `presented` is, if any.
    pub async fn organizer_for(
        &self,
        presented: &str,
    ) -> Result<Option<OrganizerId>, FeedTokenError> {
        let presented = presented.trim();
        if presented.is_empty() {
            return Ok(None);
        }
        let hash = TokenHash::of(presented).to_hex();
        Ok(self
            .store
            .record_by_lookup(FEED_TOKEN_RECORD, &hash, Utc::now())
            .await?
            .map(|record| record.organizer_id))
    }

    async fn issue(
        &self,
        organizer: OrganizerId,
        generation: u64,
    ) -> Result<FeedToken, FeedTokenError> {
        let token = self.derive(organizer, generation);
        let data = serde_json::to_string(&TokenData { generation }).map_err(StoreError::backend)?;
        self.store
            .put_record(Record {
                kind: FEED_TOKEN_RECORD.to_owned(),
                id: organizer.to_string(),
                organizer_id: organizer,
                lookup: Some(TokenHash::of(token.expose()).to_hex()),
                data,
                created_at: Utc::now(),
                expires_at: None,
            })
            .await?;
        Ok(token)
    }

    fn derive(&self, organizer: OrganizerId, generation: u64) -> FeedToken {
        // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
        let mut mac = match Hmac::<Sha256>::new_from_slice(&self.key) {
            Ok(mac) => mac,
            Err(_) => unreachable_hmac(),
        };
        mac.update(b"booking-calendar feed token\0");
        mac.update(organizer.to_string().as_bytes());
        mac.update(b"\0");
        mac.update(&generation.to_le_bytes());
        FeedToken(hex::encode(mac.finalize().into_bytes()))
    }
}

/// HMAC accepts every key length (RFC 2104), so this is never reached.
#[cold]
fn unreachable_hmac() -> ! {
    unreachable!("HMAC-SHA256 accepts keys of any length")
}
