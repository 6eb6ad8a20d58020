//! [`MemoryLock`]: the in-process slot lock.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::lock_state;
use crate::lock::{LockError, LockGuard, Release, SlotKey, SlotLock};
use crate::secret::SecretToken;

/// A [`SlotLock`] inside one process: enough when a single process serves all
/// bookings (the embedded default). Expired entries are replaced on the next
/// acquisition of their key and swept when the table grows.
#[derive(Debug, Default)]
pub struct MemoryLock {
    held: Mutex<HashMap<String, (String, Instant)>>,
}

impl MemoryLock {
    /// A lock table with nothing held.
    pub fn new() -> Self {
        Self::default()
    }
}

/// Stands in for TTLs too long to add to an `Instant` (about 30 years).
const FOREVER: Duration = Duration::from_secs(60 * 60 * 24 * 365 * 30);

/// Above this many entries, an acquisition first drops expired ones.
const SWEEP_THRESHOLD: usize = 1024;

#[async_trait]
impl SlotLock for MemoryLock {
    async fn acquire(&self, key: &SlotKey, ttl: Duration) -> Result<LockGuard, LockError> {
        let key = key.to_string();
        let token = SecretToken::generate().map_err(LockError::backend)?;
        let now = Instant::now();
        let mut held = lock_state(&self.held);
        if held.len() > SWEEP_THRESHOLD {
            held.retain(|_, (_, expires)| *expires > now);
        }
        if held.get(&key).is_some_and(|(_, expires)| *expires > now) {
            return Err(LockError::Held { key });
        }
        // A TTL too long to represent means "until released".
        let expires = now.checked_add(ttl).unwrap_or(now + FOREVER);
        held.insert(key.clone(), (token.expose().to_owned(), expires));
        Ok(LockGuard::new(key, token.expose()))
    }

    async fn release(&self, guard: &LockGuard) -> Result<Release, LockError> {
        let now = Instant::now();
        let mut held = lock_state(&self.held);
        let ours = held
            .get(guard.key())
            .is_some_and(|(token, expires)| token == guard.token() && *expires > now);
        if ours {
            held.remove(guard.key());
            Ok(Release::Released)
        } else {
            Ok(Release::NotHeld)
        }
    }
}
