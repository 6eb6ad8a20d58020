//! booking-core's conformance suite, against a temporary file per test and
//! against an in-memory database.

mod common;

mod file {
    use std::sync::Arc;

    use booking_core::store::BookingStore;

    /// A new database file in its own temporary directory.
    async fn fresh_store() -> Arc<dyn BookingStore> {
        super::common::temp_store().await
    }

    booking_core::store_conformance_tests!(fresh_store);
}

mod in_memory {
    use std::sync::Arc;

    use booking_core::store::BookingStore;
    use booking_sqlite::SqliteStore;

    /// A new `:memory:` database (single connection).
    async fn fresh_store() -> Arc<dyn BookingStore> {
        Arc::new(SqliteStore::open_in_memory().await.expect("open :memory:"))
    }

    booking_core::store_conformance_tests!(fresh_store);
}
