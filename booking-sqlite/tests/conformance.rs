//! booking-core's conformance suite, against a temporary file per test and
//! against an in-memory database. The suite gets the store itself (with the
//! temporary directory as its guard), so every method it calls, including
//! the `booking_context` override, is the store's own.

mod common;

mod file {
    use booking_core::testkit::TestStore;

    /// A new, migrated database file in its own temporary directory.
    async fn fresh_store() -> TestStore {
        super::common::TempDb::new().await.into_test_store()
    }

    booking_core::store_conformance_tests!(fresh_store);
}

mod in_memory {
    use booking_core::testkit::TestStore;

    /// A new, migrated `:memory:` database (single connection).
    async fn fresh_store() -> TestStore {
        TestStore::new(super::common::memory_store().await)
    }

    booking_core::store_conformance_tests!(fresh_store);
}
