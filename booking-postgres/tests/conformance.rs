//! booking-core's conformance suite against [`PostgresStore`], each test in
//! its own fresh schema of a real PostgreSQL (`DATABASE_URL`).

mod common;

use std::sync::Arc;

use booking_core::store::BookingStore;

/// A brand-new, migrated, empty schema. The schema outlives the test (the
/// suite owns the store); the next run's harness drops stale ones.
async fn fresh_store() -> Arc<dyn BookingStore> {
    common::TestDb::new().await.shared()
}

booking_core::store_conformance_tests!(fresh_store);
