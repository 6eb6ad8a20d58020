//! Errors: [`Error`] for opening and migrating a database, `Unstorable`
//! for values the stored format cannot hold, and the crate-internal
//! [`Failure`] that every blocking closure returns and that becomes a
//! [`StoreError`] at the trait boundary.

use booking_core::store::StoreError;

/// Why a database could not be opened, migrated or checked: the one error
/// type of [`SqliteStore::open`](crate::SqliteStore::open),
/// [`SqliteStore::migrate`](crate::SqliteStore::migrate) and [`migrate`](crate::migrate).
/// (The [`BookingStore`](booking_core::BookingStore) methods report
/// [`StoreError`], with this as the source of a
/// [`StoreError::Backend`] where it applies.)
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
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
    /// The file is at an older schema level than this build works with;
    /// [`SqliteStore::migrate`](crate::SqliteStore::migrate) brings it up to
    /// date. Reported by the store's health check.
    #[error(
        "the database is at schema level {found}, older than the {expected} this build needs; \
         run SqliteStore::migrate() first"
    )]
    NotMigrated {
        /// The level found in the file.
        found: i64,
        /// The level this build needs.
        expected: i64,
    },
    /// After the migration's steps, a row refers to a row that does not
    /// exist (only possible if the file was edited by hand, since every
    /// earlier version enforced its foreign keys). Nothing was changed.
    #[error(
        "migrating left {count} row(s) whose foreign key points nowhere (first: table {table}, rowid {rowid}, \
         referring to {parent}); the file was left as it was"
    )]
    ForeignKeyViolation {
        /// How many rows break a foreign key.
        count: usize,
        /// The table of the first of them.
        table: String,
        /// Its rowid.
        rowid: i64,
        /// The table it refers to.
        parent: String,
    },
    /// The blocking task that opens or migrates the database panicked or
    /// was cancelled.
    #[error("the task opening or migrating the database failed: {0}")]
    Task(#[source] tokio::task::JoinError),
}

impl From<Error> for StoreError {
    /// A failed open (for example of a reader connection opened lazily) is a
    /// backend failure; the source is kept.
    fn from(error: Error) -> Self {
        StoreError::backend(error)
    }
}

/// A value this store cannot hold, reported as
/// [`StoreError::Unstorable`] with this text (the message names the bound
/// and the value). Nothing is written, and retrying cannot help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Unstorable {
    /// An instant or duration with no representation in the stored format
    /// (microseconds since the epoch in a signed 64-bit integer, after
    /// rounding). Only instants within a microsecond of chrono's limits can
    /// hit this.
    #[error("{0} cannot be stored: it is outside the representable range")]
    OutOfRange(String),
    /// A configuration duration (event type length, step, buffer, notice,
    /// window) that is not a whole number of seconds; booking-core's
    /// validation only accepts whole minutes.
    #[error("{field} = {value} cannot be stored: configuration durations are whole seconds")]
    NotWholeSeconds {
        /// The field.
        field: &'static str,
        /// The value, as chrono prints it.
        value: String,
    },
    /// A booking or hold whose occupied interval (meeting plus buffers) is
    /// longer than the 72 hours booking-core allows (a meeting and each
    /// buffer at most 24 hours). The overlap check relies on that bound, so
    /// a longer one is refused rather than stored.
    #[error(
        "the meeting with its buffers would occupy {occupied_secs} s, longer than the {max_secs} s (meeting and \
         buffers of at most 24 hours each) the store's overlap check is bounded by"
    )]
    OccupiedTooLong {
        /// The occupied interval's length, in seconds (rounded down).
        occupied_secs: i64,
        /// The longest accepted, in seconds.
        max_secs: i64,
    },
    /// A value of a kind newer than this build knows (booking-core's enums
    /// are non-exhaustive), such as a new booking-window kind or
    /// configuration change.
    #[error(
        "{0} is of a kind this build of booking-sqlite cannot store; use a newer booking-sqlite"
    )]
    Unsupported(String),
}

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

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        Failure::Store(error.into())
    }
}

impl From<Unstorable> for Failure {
    fn from(error: Unstorable) -> Self {
        Failure::Store(StoreError::Unstorable(error.to_string()))
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

/// Which constraint a failed statement broke, when it broke one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Broken {
    /// A UNIQUE or PRIMARY KEY constraint.
    Unique,
    /// A FOREIGN KEY constraint.
    ForeignKey,
}

/// The constraint `error` reports as broken, if any.
pub(crate) fn broken_constraint(error: &rusqlite::Error) -> Option<Broken> {
    match error {
        rusqlite::Error::SqliteFailure(e, _) => match e.extended_code {
            rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
            | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY => Some(Broken::Unique),
            rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY => Some(Broken::ForeignKey),
            _ => None,
        },
        _ => None,
    }
}
