//! The conformance suite against [`MemoryStore`].

use booking_core::MemoryStore;
use booking_core::testkit::TestStore;

async fn fresh_store() -> TestStore {
    TestStore::new(MemoryStore::new())
}

booking_core::store_conformance_tests!(fresh_store);
