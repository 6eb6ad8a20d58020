//! Signing secrets and signatures, per the Standard Webhooks scheme.
//!
//! A secret is `whsec_` followed by the base64 of 32 random bytes (the
//! scheme asks for 24 to 64). A signature is
//! `v1,<base64 HMAC-SHA256 of "{webhook-id}.{webhook-timestamp}.{body}">`,
//! computed by the `standardwebhooks` crate, so receivers verify with any
//! Standard Webhooks library. During a rotation the header carries one
//! signature per live secret, separated by spaces; a receiver accepts the
//! delivery if any of them verifies with the secret it knows.

use std::fmt;

use base64::Engine as _;
use booking_core::chrono::{DateTime, Utc};
use booking_core::secret::SecretBox;
use serde::{Deserialize, Serialize};

use crate::error::WebhookError;

/// The prefix of every signing secret.
pub const SECRET_PREFIX: &str = "whsec_";

/// How many random bytes a secret holds.
const SECRET_BYTES: usize = 32;

/// A signing secret, `whsec_...`: shown to the organizer once (at creation
/// and rotation), kept by the service to sign deliveries. Its `Debug` does
/// not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningSecret(String);

impl SigningSecret {
    /// A new random secret.
    pub fn generate() -> Result<Self, WebhookError> {
        let mut bytes = [0u8; SECRET_BYTES];
        getrandom::fill(&mut bytes).map_err(|_| WebhookError::Randomness)?;
        Ok(SigningSecret(format!(
            "{SECRET_PREFIX}{}",
            base64::engine::general_purpose::STANDARD.encode(bytes)
        )))
    }

    /// The secret's text, `whsec_...`, to show its owner.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The `v1,...` signature of one delivery.
    pub fn sign(
        &self,
        webhook_id: &str,
        timestamp: i64,
        body: &str,
    ) -> Result<String, WebhookError> {
        standardwebhooks::Webhook::new(&self.0)
            .and_then(|key| key.sign(webhook_id, timestamp, body.as_bytes()))
            .map_err(WebhookError::Signing)
    }
}

impl fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningSecret(whsec_..)")
    }
}

/// The `webhook-signature` header's value: the signatures of every secret,
/// space-separated.
pub fn signature_header(
    secrets: &[SigningSecret],
    webhook_id: &str,
    timestamp: i64,
    body: &str,
) -> Result<String, WebhookError> {
    let signatures = secrets
        .iter()
        .map(|secret| secret.sign(webhook_id, timestamp, body))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(signatures.join(" "))
}

/// A secret as an endpoint's record keeps it: in the clear, or sealed with
/// the service's [`SecretBox`] when it has one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum StoredValue {
    Plain(String),
    Sealed(String),
}

/// One of an endpoint's secrets with its validity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StoredSecret {
    pub value: StoredValue,
    pub created_at: DateTime<Utc>,
    /// When it stops signing: set on the old secret by a rotation.
    pub expires_at: Option<DateTime<Utc>>,
}

impl StoredSecret {
    /// `secret` as stored, sealed when there is a box.
    pub fn seal(
        secret: &SigningSecret,
        key: Option<&SecretBox>,
        now: DateTime<Utc>,
    ) -> Result<Self, WebhookError> {
        let value = match key {
            Some(key) => StoredValue::Sealed(
                key.seal(secret.expose().as_bytes())
                    .map_err(WebhookError::Seal)?,
            ),
            None => StoredValue::Plain(secret.expose().to_owned()),
        };
        Ok(StoredSecret {
            value,
            created_at: now,
            expires_at: None,
        })
    }

    /// Whether it still signs at `now`.
    pub fn is_live_at(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_none_or(|end| now < end)
    }

    /// The secret itself.
    pub fn open(&self, key: Option<&SecretBox>) -> Result<SigningSecret, WebhookError> {
        match (&self.value, key) {
            (StoredValue::Plain(text), _) => Ok(SigningSecret(text.clone())),
            (StoredValue::Sealed(sealed), Some(key)) => {
                let bytes = key
                    .open(sealed)
                    .map_err(|e| WebhookError::SecretUnreadable(e.to_string()))?;
                String::from_utf8(bytes)
                    .map(SigningSecret)
                    .map_err(|_| WebhookError::SecretUnreadable("not text".into()))
            }
            (StoredValue::Sealed(_), None) => Err(WebhookError::SecretUnreadable(
                "it is sealed and the service has no secret key".into(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_prefixed_random_and_hidden_from_debug() {
        let a = SigningSecret::generate().unwrap();
        let b = SigningSecret::generate().unwrap();
        assert!(a.expose().starts_with(SECRET_PREFIX));
        assert_ne!(a, b);
        let key = base64::engine::general_purpose::STANDARD
            .decode(&a.expose()[SECRET_PREFIX.len()..])
            .unwrap();
        assert_eq!(key.len(), SECRET_BYTES);
        assert!(!format!("{a:?}").contains(&a.expose()[6..]));
    }

    #[test]
    fn signatures_follow_the_standard_webhooks_test_vector() {
        // The vector of the `standardwebhooks` crate's own tests.
        let secret = SigningSecret("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD".into());
        let body = r#"{"email":"test@example.com","username":"test_user"}"#;
        assert_eq!(
            secret
                .sign("msg_27UH4WbU6Z5A5EzD8u03UvzRbpk", 1649367553, body)
                .unwrap(),
            "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw="
        );
        let other = SigningSecret::generate().unwrap();
        let header = signature_header(
            &[secret, other],
            "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
            1649367553,
            body,
        )
        .unwrap();
        let parts: Vec<&str> = header.split(' ').collect();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0], "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=");
        assert!(parts[1].starts_with("v1,"));
    }

    #[test]
    fn sealed_secrets_open_only_with_their_key() {
        let now = Utc::now();
        let secret = SigningSecret::generate().unwrap();
        let key = SecretBox::new(b"server key");
        let stored = StoredSecret::seal(&secret, Some(&key), now).unwrap();
        let StoredValue::Sealed(text) = &stored.value else {
            panic!("sealed when there is a key")
        };
        assert!(!text.contains(secret.expose()));
        assert_eq!(stored.open(Some(&key)).unwrap(), secret);
        assert!(matches!(
            stored.open(Some(&SecretBox::new(b"other key"))),
            Err(WebhookError::SecretUnreadable(_))
        ));
        assert!(matches!(
            stored.open(None),
            Err(WebhookError::SecretUnreadable(_))
        ));
        let plain = StoredSecret::seal(&secret, None, now).unwrap();
        assert_eq!(plain.open(None).unwrap(), secret);
    }
}
