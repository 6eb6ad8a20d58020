//! In-memory backends: `MemoryStore` (feature `memory`, on by default) and
//! [`MemoryLock`] (always: it is the service's default lock), for tests,
//! demos and single-process applications that need no persistence.
//!
//! Both keep all state behind one `std::sync::Mutex` and never hold it across
//! an `.await`, so every operation is one critical section: in particular the
//! overlap check, the limit checks and the insert of
//! [`MemoryStore::insert_booking`](crate::store::BookingStore::insert_booking)
//! cannot be interleaved with another write. Every critical section checks
//! everything before it changes anything, so a panic elsewhere cannot leave a
//! half-done write, and a poisoned mutex is safely recovered.

use std::sync::{Mutex, MutexGuard};

mod lock;
#[cfg(feature = "memory")]
mod store;

pub use lock::MemoryLock;
#[cfg(feature = "memory")]
pub use store::MemoryStore;

/// Locks `mutex`, recovering the state of a poisoned one: every critical
/// section validates before it writes, so the state is consistent.
fn lock_state<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
