//! [`NoLock`]: a slot lock that grants everything, so that in the contended
//! scenario every racer reaches the store and the store alone arbitrates.

use std::time::Duration;

use async_trait::async_trait;
use booking_core::lock::{LockError, LockGuard, Release, SlotKey, SlotLock};

/// Grants every acquisition at once and releases nothing. Not a lock at all:
/// it exists to show that the stores refuse double bookings by themselves,
/// whatever happens in front of them.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoLock;

#[async_trait]
impl SlotLock for NoLock {
    async fn acquire(&self, key: &SlotKey, _ttl: Duration) -> Result<LockGuard, LockError> {
        Ok(LockGuard::new(key.to_string(), ""))
    }

    async fn release(&self, _guard: &LockGuard) -> Result<Release, LockError> {
        Ok(Release::Released)
    }
}
