//! booking-core's conformance suite against [`PostgresStore`], each test in
//! its own fresh schema of a real PostgreSQL (`DATABASE_URL`), dropped when
//! the test ends.

mod common;

use booking_core::testkit::TestStore;

/// A brand-new, migrated, empty schema; the suite holds the schema's guard
/// with the store, so the schema goes when the check ends.
async fn fresh_store() -> TestStore {
    common::TestDb::new().await.into_test_store()
}

booking_core::store_conformance_tests!(fresh_store);
