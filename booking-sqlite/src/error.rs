//! Errors: [`OpenError`] for opening and migrating a database, and the
//! crate-internal [`Failure`] that every blocking closure returns and that
//! becomes a [`StoreError`] at the trait boundary.

use booking_core::store::StoreError;

/// Why a database could not be opened or migrated.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// SQLite itself failed: the file cannot be created or read, it is not a
    /// database, another process held the write lock longer than the busy
    /// timeout, a migration failed (and was rolled back), ...
    #[error("SQLite failed: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The file was migrated by a newer version of this crate. It is left
    /// untouched: an older build must not guess what newer tables mean.
    #[error(
        "the database is at schema level {found}, newer than the {supported} this build of booking-sqlite knows; \
         use a newer booking-sqlite"
    )]
    NewerSchema {
        /// The level found in the file (`PRAGMA user_version`).
        found: i64,
        /// The newest level this build ships.
        supported: i64,
    },
    /// The blocking task that opens the database panicked or was cancelled.
    #[error("the task opening the database failed: {0}")]
    Task(#[source] tokio::task::JoinError),
}

impl From<OpenError> for StoreError {
    /// A failed open (for example of a reader connection opened lazily) is a
    /// backend failure; the source is kept.
    fn from(error: OpenError) -> Self {
        StoreError::backend(error)
    }
}

/// An instant or duration that has no representation in the stored format
/// (microseconds since the epoch in a signed 64-bit integer, after rounding).
/// Only instants within a microsecond of chrono's limits can hit this.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0} cannot be stored: it is outside the representable range")]
pub struct OutOfRange(pub(crate) String);

/// What a blocking database closure can fail with: a driver error, still to
/// be classified, or an already decided [`StoreError`].
#[derive(Debug)]
pub(crate) enum Failure {
    Sqlite(rusqlite::Error),
    Store(StoreError),
}

impl From<rusqlite::Error> for Failure {
    fn from(error: rusqlite::Error) -> Self {
        Failure::Sqlite(error)
    }
}

impl From<StoreError> for Failure {
    fn from(error: StoreError) -> Self {
        Failure::Store(error)
    }
}

impl From<OpenError> for Failure {
    fn from(error: OpenError) -> Self {
        Failure::Store(error.into())
    }
}

impl Failure {
    /// The error to report. A value SQLite holds but that does not have the
    /// type the schema promises (possible only if the file was edited by
    /// hand) is [`StoreError::Corrupt`]; every other driver error is
    /// [`StoreError::Backend`], source kept.
    pub(crate) fn into_store(self) -> StoreError {
        match self {
            Failure::Store(error) => error,
            Failure::Sqlite(error) => match error {
                rusqlite::Error::InvalidColumnType(..)
                | rusqlite::Error::FromSqlConversionFailure(..)
                | rusqlite::Error::IntegralValueOutOfRange(..)
                | rusqlite::Error::Utf8Error(..) => StoreError::Corrupt(error.to_string()),
                other => StoreError::backend(other),
            },
        }
    }
}

/// Shorthand for [`StoreError::Corrupt`] inside closures.
pub(crate) fn corrupt(what: impl std::fmt::Display) -> Failure {
    Failure::Store(StoreError::Corrupt(what.to_string()))
}
