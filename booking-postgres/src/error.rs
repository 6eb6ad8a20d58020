//! [`Error`]: what can go wrong while connecting to PostgreSQL or migrating
//! the schema. Operations of the store itself report
//! [`StoreError`](booking_core::store::StoreError), as every store does.

use std::time::Duration;

/// Why [`PostgresStore::connect`](crate::PostgresStore::connect) or
/// [`PostgresStore::migrate`](crate::PostgresStore::migrate) failed. The
/// driver's error is kept as the source.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The URL is not a PostgreSQL connection URL.
    #[error("not a PostgreSQL connection URL: {source}")]
    InvalidUrl {
        /// What sqlx said about it.
        #[source]
        source: sqlx::Error,
    },
    /// No connection could be made: server down, wrong address, login refused.
    #[error("cannot connect to PostgreSQL: {source}")]
    Connect {
        /// What the driver said.
        #[source]
        source: sqlx::Error,
    },
    /// The server did not answer within
    /// [`PostgresOptions::connect_timeout`](crate::PostgresOptions::connect_timeout).
    #[error("PostgreSQL did not accept a connection within {timeout:?}")]
    ConnectTimeout {
        /// How long was waited.
        timeout: Duration,
    },
    /// Applying the embedded migrations failed; nothing of the failed
    /// migration was kept (each runs in a transaction).
    #[error("migrating the booking schema failed: {source}")]
    Migrate {
        /// What sqlx's migrator said.
        #[source]
        source: sqlx::migrate::MigrateError,
    },
}
