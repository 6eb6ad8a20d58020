//! [`Error`]: what can go wrong while connecting to PostgreSQL or migrating
//! the schema. Operations of the store itself report
//! [`StoreError`], as every store does.

use std::time::Duration;

use booking_core::store::StoreError;

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
    /// [`MigrateOptions::partitions`](crate::MigrateOptions::partitions)
    /// is outside 1 to [`MAX_PARTITIONS`](crate::MAX_PARTITIONS).
    #[error(
        "cannot hash-partition into {partitions} partitions: 1 to {} are allowed",
        crate::MAX_PARTITIONS
    )]
    InvalidPartitions {
        /// The number asked for.
        partitions: u16,
    },
    /// The table is already hash-partitioned into another number of
    /// partitions than [`MigrateOptions::partitions`](crate::MigrateOptions::partitions)
    /// asks for; the number cannot be changed in place.
    #[error(
        "table {table} is hash-partitioned into {found} partitions, not {requested}: \
         the number of partitions cannot be changed"
    )]
    PartitionCountMismatch {
        /// The table.
        table: String,
        /// How many partitions it has.
        found: u16,
        /// How many were asked for.
        requested: u16,
    },
    /// A table of the schema is missing although the migrations ran (it was
    /// dropped, or the `search_path` changed between connections).
    #[error("table {table} does not exist after migrating")]
    MissingTable {
        /// The table.
        table: String,
    },
    /// Reading or changing the table layout failed; nothing of a failed
    /// conversion was kept (it runs in one transaction).
    #[error("changing the table layout failed: {source}")]
    Layout {
        /// What the driver said.
        #[source]
        source: sqlx::Error,
    },
}

/// A driver error as a store operation reports it: a value the columns
/// cannot hold (a value sqlx cannot encode, such as an interval with
/// nanoseconds; or a data exception of SQLSTATE class 22, such as an instant
/// outside PostgreSQL's range or a NUL character in text) is
/// [`StoreError::Unstorable`], which retrying cannot help; anything else
/// (connection lost, timeout, ...) is [`StoreError::Backend`], with the
/// driver's error as its source.
pub(crate) fn store_error(error: sqlx::Error) -> StoreError {
    match &error {
        sqlx::Error::Encode(source) => StoreError::Unstorable(source.to_string()),
        sqlx::Error::Database(db) if db.code().is_some_and(|code| code.starts_with("22")) => {
            StoreError::Unstorable(db.message().to_owned())
        }
        _ => StoreError::backend(error),
    }
}

/// The SQLSTATE of a database error, if `error` is one.
pub(crate) fn sqlstate(error: &sqlx::Error) -> Option<String> {
    error
        .as_database_error()
        .and_then(|db| db.code().map(|code| code.into_owned()))
}
