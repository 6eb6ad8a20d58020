//! Sign-in sessions for front ends, and API token rotation.
//!
//! A front end that signs an organizer in with their API token should not
//! keep the token itself in a cookie: [`BookingService::start_session`]
//! issues a separate random session token instead. Only its SHA-256 is
//! stored (a [record](crate::record) of kind `session`), with the API
//! token's hash at the time: rotating the API token
//! ([`BookingService::rotate_api_token`]) therefore ends every session at
//! once, even before their records are cleaned up. A session ends when
//! idle longer than [`SessionPolicy::idle`] or older than
//! [`SessionPolicy::absolute`], on sign-out, or on "sign out everywhere".

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::organizer::{Organizer, OrganizerRef};
use crate::record::Record;
use crate::secret::{SecretToken, TokenHash};

use super::{BookingService, ServiceError};

const SESSION: &str = "session";

/// How long sessions last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    /// A session unused this long ends (default 2 hours).
    pub idle: Duration,
    /// A session ends this long after sign-in, used or not (default 7 days).
    pub absolute: Duration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        SessionPolicy {
            idle: Duration::hours(2),
            absolute: Duration::days(7),
        }
    }
}

/// What a session record holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct SessionData {
    /// The API token's hash at sign-in: a rotated token ends the session.
    api_token_hash: TokenHash,
    last_seen: DateTime<Utc>,
    ends_at: DateTime<Utc>,
}

/// A session just started.
#[derive(Debug, Clone)]
pub struct StartedSession {
    /// Who signed in.
    pub organizer: Organizer,
    /// The session's secret, for the cookie; only its hash is stored.
    pub token: SecretToken,
    /// When it ends at the latest.
    pub ends_at: DateTime<Utc>,
}

impl BookingService {
    /// Uses `policy` for session lifetimes.
    pub fn with_session_policy(mut self, policy: SessionPolicy) -> Self {
        self.sessions = policy;
        self
    }

    /// Signs an organizer in with their API token and starts a session.
    /// [`ServiceError::Unauthorized`] for an unknown token.
    pub async fn start_session(&self, api_token: &str) -> Result<StartedSession, ServiceError> {
        let organizer = self.authenticate(api_token).await?;
        let token = SecretToken::generate().map_err(ServiceError::Randomness)?;
        let now = self.now();
        let ends_at = now + self.sessions.absolute;
        let data = SessionData {
            api_token_hash: organizer.api_token_hash,
            last_seen: now,
            ends_at,
        };
        self.store
            .put_record(session_record(&organizer, &token.hash(), &data, now))
            .await?;
        Ok(StartedSession {
            organizer,
            token,
            ends_at,
        })
    }

    /// The organizer of a live session; [`ServiceError::Unauthorized`] when
    /// the token is unknown, or the session ended (idle, too old, signed
    /// out, or the API token was rotated). Each use keeps it alive.
    pub async fn session(&self, token: &str) -> Result<Organizer, ServiceError> {
        let now = self.now();
        let hash = TokenHash::of(token);
        let Some(record) = self
            .store
            .record_by_lookup(SESSION, &hash.to_hex(), now)
            .await?
        else {
            return Err(ServiceError::Unauthorized);
        };
        let Ok(mut data) = serde_json::from_str::<SessionData>(&record.data) else {
            return Err(ServiceError::Unauthorized);
        };
        let organizer = self
            .store
            .organizer_by_id(record.organizer_id)
            .await?
            .ok_or(ServiceError::Unauthorized)?;
        let live = organizer.api_token_hash == data.api_token_hash
            && now < data.ends_at
            && now < data.last_seen + self.sessions.idle;
        if !live {
            self.store.delete_record(SESSION, &record.id).await?;
            return Err(ServiceError::Unauthorized);
        }
        // Refresh at most once a minute, not on every request.
        if now - data.last_seen >= Duration::minutes(1) {
            data.last_seen = now;
            self.store
                .put_record(session_record(&organizer, &hash, &data, record.created_at))
                .await?;
        }
        Ok(organizer)
    }

    /// Ends one session (sign-out). Ending an unknown session is not an
    /// error.
    pub async fn end_session(&self, token: &str) -> Result<(), ServiceError> {
        self.store
            .delete_record(SESSION, &TokenHash::of(token).to_hex())
            .await?;
        Ok(())
    }

    /// Ends every session of an organizer ("sign out everywhere"); returns
    /// how many there were.
    pub async fn end_all_sessions(
        &self,
        organizer: impl Into<OrganizerRef>,
    ) -> Result<usize, ServiceError> {
        let organizer = self.organizer(organizer).await?;
        let sessions = self
            .store
            .records(organizer.id, SESSION, self.now())
            .await?;
        for session in &sessions {
            self.store.delete_record(SESSION, &session.id).await?;
        }
        Ok(sessions.len())
    }

    /// Replaces an organizer's API token with a new one (shown only now):
    /// the old one stops working at once, and so does every session started
    /// with it.
    pub async fn rotate_api_token(
        &self,
        organizer: impl Into<OrganizerRef>,
    ) -> Result<SecretToken, ServiceError> {
        let organizer = self.organizer(organizer).await?;
        let token = SecretToken::generate().map_err(ServiceError::Randomness)?;
        self.store
            .set_api_token_hash(organizer.id, token.hash())
            .await?;
        // Sessions already fail their token check; removing them is tidying.
        if let Err(error) = self.end_all_sessions(organizer.id).await {
            tracing::warn!(%error, "could not remove old sessions; they no longer count anyway");
        }
        Ok(token)
    }
}

fn session_record(
    organizer: &Organizer,
    token_hash: &TokenHash,
    data: &SessionData,
    created_at: DateTime<Utc>,
) -> Record {
    Record {
        kind: SESSION.to_owned(),
        id: token_hash.to_hex(),
        organizer_id: organizer.id,
        lookup: Some(token_hash.to_hex()),
        data: serde_json::to_string(data).unwrap_or_default(),
        created_at,
        expires_at: Some(data.ends_at),
    }
}
