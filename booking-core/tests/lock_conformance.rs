//! The lock conformance suite against [`MemoryLock`].

use std::sync::Arc;

use booking_core::memory::MemoryLock;
use booking_core::testkit::lock::LockPair;

/// One `MemoryLock` as both handles: in one process, another "process" is
/// another task on the same lock table.
async fn fresh_locks() -> LockPair {
    LockPair::shared(Arc::new(MemoryLock::new()))
}

booking_core::lock_conformance_tests!(fresh_locks);
