//! The conformance suite against [`MemoryStore`].

use std::sync::Arc;

use booking_core::memory::MemoryStore;
use booking_core::store::BookingStore;

async fn fresh_store() -> Arc<dyn BookingStore> {
    Arc::new(MemoryStore::new())
}

booking_core::store_conformance_tests!(fresh_store);
