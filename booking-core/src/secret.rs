//! Secret tokens: organizers' API tokens and attendees' cancel tokens.
//!
//! A token is 256 random bits from the operating system, shown to its owner
//! once as 64 hex characters. Only its SHA-256 [`TokenHash`] is stored, so a
//! leaked database does not leak credentials, and a presented token is checked
//! by hashing it and comparing the hashes in constant time.

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A freshly generated secret, to be handed to its owner exactly once.
///
/// `Debug` does not print the secret, so it never ends up in logs by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretToken(String);

/// The operating system's random source failed; nothing can be issued safely.
#[derive(Debug, thiserror::Error)]
#[error("the operating system's random number generator failed: {0}")]
pub struct RandomnessError(String);

impl SecretToken {
    /// 256 fresh random bits, hex encoded.
    pub fn generate() -> Result<Self, RandomnessError> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| RandomnessError(e.to_string()))?;
        Ok(SecretToken(hex::encode(bytes)))
    }

    /// A token made from 32 bytes computed elsewhere (a derivation), hex
    /// encoded like a random one.
    pub(crate) fn from_derived(bytes: &[u8; 32]) -> Self {
        SecretToken(hex::encode(bytes))
    }

    /// The secret text to give to its owner.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The hash to store in place of the secret.
    pub fn hash(&self) -> TokenHash {
        TokenHash::of(&self.0)
    }
}

impl fmt::Debug for SecretToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretToken(..)")
    }
}

/// The SHA-256 hash of a secret token: what stores keep instead of the token.
///
/// Serialized (and stored by adapters) as 64 lowercase hex characters.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TokenHash([u8; 32]);

/// Stored text that is not a 64-character hex hash.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a token hash must be 64 hex characters")]
pub struct InvalidTokenHash;

impl TokenHash {
    /// The hash of `presented`, a token as a client sent it.
    pub fn of(presented: &str) -> Self {
        TokenHash(Sha256::digest(presented.as_bytes()).into())
    }

    /// Whether `presented` is the token this hash was made from, compared in
    /// constant time so response timing reveals nothing about the hash.
    pub fn verify(&self, presented: &str) -> bool {
        let candidate = TokenHash::of(presented);
        self.0.ct_eq(&candidate.0).into()
    }

    /// The 32 raw bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Rebuilds a hash from its 32 raw bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        TokenHash(bytes)
    }

    /// The hash as 64 lowercase hex characters.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses 64 hex characters.
    pub fn from_hex(text: &str) -> Result<Self, InvalidTokenHash> {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(text, &mut bytes).map_err(|_| InvalidTokenHash)?;
        Ok(TokenHash(bytes))
    }
}

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenHash({}..)", &self.to_hex()[..8])
    }
}

impl TryFrom<String> for TokenHash {
    type Error = InvalidTokenHash;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        TokenHash::from_hex(&value)
    }
}

impl From<TokenHash> for String {
    fn from(value: TokenHash) -> Self {
        value.to_hex()
    }
}

/// Encrypts small secrets a service must be able to read back (a CalDAV
/// password, a webhook signing secret) before they are stored, with a key
/// from the service's configuration (for example `BOOKING_SECRET_KEY`):
/// ChaCha20-Poly1305 with a random nonce per value, so a database dump
/// reveals nothing without the key, and a value altered in the database is
/// refused rather than decrypted to garbage.
///
/// ```
/// use booking_core::secret::SecretBox;
///
/// let key = SecretBox::new(b"a long, random server key from the environment");
/// let sealed = key.seal(b"caldav password")?;
/// assert_ne!(sealed.as_bytes(), b"caldav password");
/// assert_eq!(key.open(&sealed)?, b"caldav password");
/// assert!(SecretBox::new(b"another key").open(&sealed).is_err());
/// # Ok::<(), booking_core::secret::SecretBoxError>(())
/// ```
#[derive(Clone)]
pub struct SecretBox {
    cipher: chacha20poly1305::ChaCha20Poly1305,
}

/// A value could not be sealed or opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SecretBoxError {
    /// No randomness for a nonce.
    #[error("no secure randomness for a nonce")]
    Randomness,
    /// The sealed text is not one this key sealed (wrong key, or altered).
    #[error("the stored secret cannot be decrypted with this key (wrong key, or altered data)")]
    Open,
}

impl SecretBox {
    /// A box whose 256-bit key is the SHA-256 of `key` (any length; use a
    /// long random value).
    pub fn new(key: &[u8]) -> Self {
        use chacha20poly1305::KeyInit as _;
        let digest: [u8; 32] = Sha256::digest(key).into();
        SecretBox {
            cipher: chacha20poly1305::ChaCha20Poly1305::new(&digest.into()),
        }
    }

    /// `plaintext` encrypted and authenticated, as hex text (nonce, then
    /// ciphertext and tag).
    pub fn seal(&self, plaintext: &[u8]) -> Result<String, SecretBoxError> {
        use chacha20poly1305::aead::Aead as _;
        let mut nonce = [0u8; 12];
        getrandom::fill(&mut nonce).map_err(|_| SecretBoxError::Randomness)?;
        let sealed = self
            .cipher
            .encrypt(&nonce.into(), plaintext)
            .map_err(|_| SecretBoxError::Open)?;
        let mut out = nonce.to_vec();
        out.extend(sealed);
        Ok(hex::encode(out))
    }

    /// The plaintext of a value [`seal`](Self::seal) made with this key.
    pub fn open(&self, sealed: &str) -> Result<Vec<u8>, SecretBoxError> {
        use chacha20poly1305::aead::Aead as _;
        let bytes = hex::decode(sealed).map_err(|_| SecretBoxError::Open)?;
        if bytes.len() < 12 {
            return Err(SecretBoxError::Open);
        }
        let (nonce, ciphertext) = bytes.split_at(12);
        let nonce: [u8; 12] = nonce.try_into().map_err(|_| SecretBoxError::Open)?;
        self.cipher
            .decrypt(&nonce.into(), ciphertext)
            .map_err(|_| SecretBoxError::Open)
    }
}

impl fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretBox(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_verifies_against_its_own_hash_only() {
        let token = SecretToken::generate().unwrap();
        let other = SecretToken::generate().unwrap();
        assert_eq!(token.expose().len(), 64);
        assert_ne!(token, other);
        let hash = token.hash();
        assert!(hash.verify(token.expose()));
        assert!(!hash.verify(other.expose()));
        assert!(!hash.verify(""));
    }

    #[test]
    fn hashes_round_trip_through_hex() {
        let hash = TokenHash::of("hello");
        assert_eq!(TokenHash::from_hex(&hash.to_hex()).unwrap(), hash);
        assert!(TokenHash::from_hex("abc").is_err());
        assert!(!format!("{:?}", SecretToken::generate().unwrap()).contains('0'));
    }
}
