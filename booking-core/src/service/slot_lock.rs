//! The slot lock around a booking: taking it, releasing it even when the
//! request is abandoned, and the username-to-id cache its key needs.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::lock::{LockError, LockGuard, Release, SlotKey, SlotLock};
use crate::organizer::OrganizerId;

use super::{BookingService, ServiceError};

/// A slot lock held by one request. Released explicitly on every normal
/// path, and from `Drop` when the request's future is abandoned (client gone,
/// a timeout around the call) or unwinds, so an abandoned request does not
/// block the slot for the whole TTL.
pub(super) struct HeldSlot {
    lock: Arc<dyn SlotLock>,
    /// `None` when the lock backend failed and the booking went on without it.
    guard: Option<LockGuard>,
}

impl HeldSlot {
    pub(super) async fn release(mut self) {
        if let Some(guard) = self.guard.take() {
            release_logged(self.lock.as_ref(), &guard).await;
        }
    }
}

impl Drop for HeldSlot {
    fn drop(&mut self) {
        let Some(guard) = self.guard.take() else {
            return;
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                let lock = self.lock.clone();
                runtime.spawn(async move { release_logged(lock.as_ref(), &guard).await });
            }
            Err(_) => tracing::warn!(
                key = guard.key(),
                "slot lock left to expire: no runtime to release it on"
            ),
        }
    }
}

async fn release_logged(lock: &dyn SlotLock, guard: &LockGuard) {
    match lock.release(guard).await {
        Ok(Release::Released) => {}
        Ok(_) => tracing::warn!(key = guard.key(), "slot lock expired before release"),
        Err(error) => {
            tracing::warn!(key = guard.key(), error = %error, "could not release slot lock; it expires by itself")
        }
    }
}

impl BookingService {
    /// Takes the slot lock. When the lock backend fails the booking proceeds
    /// without it (logged), since the store is the guarantee.
    pub(super) async fn acquire_slot_lock(&self, key: &SlotKey) -> Result<HeldSlot, ServiceError> {
        let guard = match self.lock.acquire(key, self.config.lock_ttl).await {
            Ok(guard) => Some(guard),
            Err(LockError::Held { .. }) => return Err(ServiceError::SlotBeingBooked),
            Err(LockError::Unavailable(error)) => {
                tracing::debug!(%key, %error, "slot lock skipped: its backend is known to be down");
                None
            }
            Err(error) => {
                tracing::warn!(
                    %key, error = %error,
                    "slot lock unavailable; booking without it (the store still refuses overlaps)"
                );
                None
            }
        };
        Ok(HeldSlot {
            lock: self.lock.clone(),
            guard,
        })
    }
}

/// Usernames already resolved to organizer ids, so the slot lock (keyed by
/// organizer id) can be taken *before* the one read of the booking path. Ids
/// never change; a stale entry (a username re-used after its organizer was
/// deleted) only means one lock on the wrong key, which the store's own
/// guarantee makes harmless, and the read corrects the entry.
#[derive(Debug, Default)]
pub(super) struct OrganizerIds {
    by_username: RwLock<HashMap<String, OrganizerId>>,
}

/// Entries kept before the cache starts over; bounds memory per process.
const ORGANIZER_ID_CACHE_LIMIT: usize = 10_000;

impl OrganizerIds {
    pub(super) fn get(&self, username: &str) -> Option<OrganizerId> {
        let map = self.by_username.read().unwrap_or_else(|p| p.into_inner());
        map.get(username).copied()
    }

    pub(super) fn remember(&self, username: &str, id: OrganizerId) {
        let mut map = self.by_username.write().unwrap_or_else(|p| p.into_inner());
        if map.get(username) == Some(&id) {
            return;
        }
        if map.len() >= ORGANIZER_ID_CACHE_LIMIT {
            map.clear();
        }
        map.insert(username.to_owned(), id);
    }
}
