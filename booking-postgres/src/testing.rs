//! Isolated PostgreSQL schemas for tests (feature `testing`).
//!
//! Tests that share one PostgreSQL server must not see each other's rows,
//! and many run in parallel. [`IsolatedSchema::create`] gives each test a
//! brand-new schema named `{prefix}_{unix seconds}_{random}` and a pool whose
//! connections have it as their `search_path`, so a [`PostgresStore`]
//! (whose tables are unqualified) migrates into it and works only there:
//!
//! ```
//! use booking_core::store::BookingStore;
//! use booking_postgres::PostgresStore;
//! use booking_postgres::testing::{IsolatedSchema, database_url};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let schema = IsolatedSchema::create(&database_url(), "bk_doctest").await?;
//! let store = PostgresStore::from_pool(schema.pool().clone());
//! store.migrate().await?;
//! assert!(store.organizer_by_username("ada").await?.is_none());
//! schema.drop().await?;
//! # Ok(()) }
//! ```
//!
//! A test that hands its store away (to booking-core's conformance suite,
//! as a `TestStore::with_guard(store, guard)`) cannot await the drop at its
//! end: [`IsolatedSchema::into_guard`] turns the schema into a
//! [`SchemaGuard`] that drops it when the guard is dropped, panicking test
//! or not.
//!
//! The first schema a process creates for a prefix also prepares the
//! database, under an advisory lock so that test processes running at the
//! same time do it one after the other: it makes sure `btree_gist` exists in
//! `public` (so it outlives every test schema; creating it needs rights a
//! migration in a test schema may not have, and two migrations creating it at
//! once can collide), and drops schemas of that prefix older than
//! [`STALE_AFTER`], which tests that could not clean up after themselves (a
//! killed process) left behind.
//!
//! Every failure is a [`TestingError`]; a server that cannot be reached says
//! so plainly, so a test can fail with that message instead of skipping.
//!
//! [`PostgresStore`]: crate::PostgresStore

use std::collections::HashSet;
use std::str::FromStr;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool};
use sqlx::{AssertSqlSafe, Connection};

/// The server tests use when `DATABASE_URL` is unset: a local PostgreSQL
/// with trust authentication, as CI starts it.
pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// Schemas of a prefix older than this are dropped when a process first
/// creates a schema with that prefix: long enough that no test still running
/// uses them.
pub const STALE_AFTER: Duration = Duration::from_secs(15 * 60);

/// How long a pool waits for a free connection before giving up; generous,
/// because tests racing many tasks over a few connections are slow on small
/// machines.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(60);

/// Serializes the preparation across processes (and crates) sharing a server.
const PREPARE_LOCK: &str = "SELECT pg_advisory_xact_lock(hashtext('booking-postgres testing'))";

/// The `DATABASE_URL` environment variable, or [`DEFAULT_DATABASE_URL`], so
/// every test suite finds the same server the same way.
pub fn database_url() -> String {
    std::env::var("DATABASE_URL").unwrap_or_else(|_| DEFAULT_DATABASE_URL.to_owned())
}

/// What went wrong while setting up or tearing down a test schema. Server
/// addresses in messages never include the password.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TestingError {
    /// The URL is not a PostgreSQL connection URL.
    #[error("DATABASE_URL is not a PostgreSQL URL: {source}")]
    InvalidUrl {
        /// What sqlx said about it.
        #[source]
        source: sqlx::Error,
    },
    /// No connection could be made (server down, wrong port, login refused).
    #[error(
        "cannot reach PostgreSQL at {server}: {source}\n\
         These tests need a real PostgreSQL with the btree_gist extension available \
         (Debian: postgresql-15). Start it, or point DATABASE_URL at one."
    )]
    Unreachable {
        /// `user@host:port/database`.
        server: String,
        /// What the driver said.
        #[source]
        source: sqlx::Error,
    },
    /// A statement of the setup or the clean-up failed.
    #[error("cannot {action} on PostgreSQL at {server}: {source}")]
    Setup {
        /// What was being done, e.g. `create the schema "bk_test_..."`.
        action: String,
        /// `user@host:port/database`.
        server: String,
        /// What the server said.
        #[source]
        source: sqlx::Error,
    },
    /// The schema prefix would not make a plain, short PostgreSQL name.
    #[error(
        "schema prefix {0:?} must be 1 to 40 characters of lowercase ASCII letters, digits and '_', \
         starting with a letter"
    )]
    InvalidPrefix(String),
}

/// How the pools made here are built.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    /// The most connections the pool opens.
    pub max_connections: u32,
    /// Shown in `pg_stat_activity`, so a test can find its own sessions.
    pub application_name: String,
}

impl Default for PoolSettings {
    /// Eight connections named `booking-postgres-test`.
    fn default() -> Self {
        PoolSettings {
            max_connections: 8,
            application_name: "booking-postgres-test".to_owned(),
        }
    }
}

/// A schema of its own on a shared server, and a pool whose connections see
/// only it. Not dropped automatically: call [`drop`](Self::drop), or turn it
/// into a [`SchemaGuard`] with [`into_guard`](Self::into_guard), or leave it
/// to a later run's clean-up of stale schemas.
#[derive(Debug)]
pub struct IsolatedSchema {
    url: String,
    name: String,
    pool: PgPool,
}

impl IsolatedSchema {
    /// Creates `{prefix}_{unix seconds}_{random}` on the server at `url`
    /// (preparing the database first, once per process and prefix; see the
    /// [module docs](self)) and a pool of [`PoolSettings::default`] on it.
    pub async fn create(url: &str, prefix: &str) -> Result<Self, TestingError> {
        Self::create_with(url, prefix, &PoolSettings::default()).await
    }

    /// As [`create`](Self::create), with a pool built from `settings`.
    pub async fn create_with(
        url: &str,
        prefix: &str,
        settings: &PoolSettings,
    ) -> Result<Self, TestingError> {
        if !valid_prefix(prefix) {
            return Err(TestingError::InvalidPrefix(prefix.to_owned()));
        }
        let options = parse(url)?;
        prepare_once(&options, prefix).await?;
        let name = format!("{prefix}_{}_{:08x}", unix_now(), rand::random::<u32>());
        let mut admin = connect_with(&options).await?;
        sqlx::query(AssertSqlSafe(format!("CREATE SCHEMA {}", quoted(&name))))
            .execute(&mut admin)
            .await
            .map_err(setup(&options, format!("create the schema {name:?}")))?;
        let pool = schema_pool(url, &name, settings).await?;
        Ok(IsolatedSchema {
            url: url.to_owned(),
            name,
            pool,
        })
    }

    /// The schema's name, for queries that qualify tables with it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The pool whose connections have the schema as their `search_path`.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The server's URL with `options=-c search_path=<schema>` added, for
    /// code that connects by itself from a URL, as an operator would point an
    /// application at a schema. Assumes the URL carries no `options`
    /// parameter of its own.
    pub fn url_with_search_path(&self) -> String {
        let separator = if self.url.contains('?') { '&' } else { '?' };
        format!(
            "{}{separator}options=-c%20search_path%3D{}",
            self.url, self.name
        )
    }

    /// Closes the pool and drops the schema with everything in it.
    pub async fn drop(self) -> Result<(), TestingError> {
        self.pool.close().await;
        drop_schema(&self.url, &self.name).await
    }

    /// A guard that drops the schema when it is dropped. The pool handle
    /// held here is released; clones of it (a store's) keep working until
    /// the guard goes.
    pub fn into_guard(self) -> SchemaGuard {
        SchemaGuard {
            url: self.url,
            name: self.name,
        }
    }
}

/// Drops its schema, with everything in it, when dropped: made by
/// [`IsolatedSchema::into_guard`], to be kept alive as long as the test
/// uses the schema (for instance as the guard of booking-core's
/// `TestStore::with_guard`).
///
/// A destructor cannot await, so the drop runs on a thread of its own, with
/// a runtime of its own and a fresh connection, and the destructor waits
/// for it; it gives up after [`GUARD_LOCK_TIMEOUT`] if a lock keeps the
/// schema busy. A failure is printed to stderr (a destructor cannot return
/// it) and the schema is left to the clean-up of stale schemas.
#[derive(Debug)]
pub struct SchemaGuard {
    url: String,
    name: String,
}

/// How long a [`SchemaGuard`] waits for locks on its schema's tables.
pub const GUARD_LOCK_TIMEOUT: Duration = Duration::from_secs(10);

impl SchemaGuard {
    /// The schema's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for SchemaGuard {
    fn drop(&mut self) {
        let url = std::mem::take(&mut self.url);
        let name = std::mem::take(&mut self.name);
        let dropper = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| format!("cannot start a runtime to drop {name:?}: {e}"))?;
            runtime
                .block_on(drop_schema_within(&url, &name, GUARD_LOCK_TIMEOUT))
                .map_err(|e| e.to_string())
        });
        match dropper.join() {
            Ok(Ok(())) => {}
            Ok(Err(message)) => eprintln!("booking-postgres testing: {message}"),
            Err(_) => eprintln!("booking-postgres testing: the thread dropping a schema panicked"),
        }
    }
}

/// A plain connection to the server at `url` (default `search_path`), for
/// statements outside any test schema: locks, `pg_stat_activity`, catalog
/// queries.
pub async fn connect(url: &str) -> Result<PgConnection, TestingError> {
    connect_with(&parse(url)?).await
}

/// A pool on the server at `url` whose connections have `schema` as their
/// `search_path` (tables created and queried unqualified land there), opened
/// now so an unreachable server is reported here. For a second pool on an
/// [`IsolatedSchema`], e.g. in another process.
pub async fn schema_pool(
    url: &str,
    schema: &str,
    settings: &PoolSettings,
) -> Result<PgPool, TestingError> {
    let options = parse(url)?;
    crate::pool_options()
        .max_connections(settings.max_connections)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_with(
            crate::session_options(options.clone())
                .options([("search_path", schema)])
                .application_name(&settings.application_name),
        )
        .await
        .map_err(|source| TestingError::Unreachable {
            server: server(&options),
            source,
        })
}

/// Drops `schema` and everything in it, if it exists.
pub async fn drop_schema(url: &str, schema: &str) -> Result<(), TestingError> {
    drop_schema_within(url, schema, Duration::ZERO).await
}

/// [`drop_schema`], giving up after `lock_timeout` waiting for a lock
/// (`Duration::ZERO`: waits as long as it takes).
async fn drop_schema_within(
    url: &str,
    schema: &str,
    lock_timeout: Duration,
) -> Result<(), TestingError> {
    let options = parse(url)?;
    let mut admin = connect_with(&options).await?;
    sqlx::query(AssertSqlSafe(format!(
        "SET lock_timeout = {}",
        lock_timeout.as_millis()
    )))
    .execute(&mut admin)
    .await
    .map_err(setup(&options, "set lock_timeout".to_owned()))?;
    sqlx::query(AssertSqlSafe(format!(
        "DROP SCHEMA IF EXISTS {} CASCADE",
        quoted(schema)
    )))
    .execute(&mut admin)
    .await
    .map_err(setup(&options, format!("drop the schema {schema:?}")))?;
    Ok(())
}

/// Runs [`prepare`] the first time this process asks for `prefix` on the
/// server; a failed preparation is retried by the next call. Two tasks
/// asking at once may both prepare, which is harmless.
async fn prepare_once(options: &PgConnectOptions, prefix: &str) -> Result<(), TestingError> {
    static PREPARED: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
    let key = format!("{}\n{prefix}", server(options));
    let prepared = PREPARED.get_or_init(Mutex::default);
    let done = |set: &Mutex<HashSet<String>>| {
        set.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .contains(&key)
    };
    if done(prepared) {
        return Ok(());
    }
    prepare(options, prefix).await?;
    prepared
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .insert(key);
    Ok(())
}

/// Under the advisory lock: `btree_gist` in `public`, and stale schemas of
/// `prefix` dropped.
async fn prepare(options: &PgConnectOptions, prefix: &str) -> Result<(), TestingError> {
    let mut conn = connect_with(options).await?;
    let mut tx = conn
        .begin()
        .await
        .map_err(setup(options, "begin a transaction".to_owned()))?;
    sqlx::query(PREPARE_LOCK)
        .execute(&mut *tx)
        .await
        .map_err(setup(options, "take the advisory lock".to_owned()))?;
    sqlx::query("CREATE EXTENSION IF NOT EXISTS btree_gist WITH SCHEMA public")
        .execute(&mut *tx)
        .await
        .map_err(setup(
            options,
            "create the btree_gist extension (Debian: postgresql-15 ships it)".to_owned(),
        ))?;
    // A valid prefix has no `%` or `\`; only `_` needs escaping in LIKE.
    let pattern = format!("{}\\_%", prefix.replace('_', "\\_"));
    let schemas: Vec<String> =
        sqlx::query_scalar("SELECT nspname::text FROM pg_namespace WHERE nspname LIKE $1")
            .bind(pattern)
            .fetch_all(&mut *tx)
            .await
            .map_err(setup(options, format!("list the {prefix}_ schemas")))?;
    let now = unix_now();
    for schema in schemas {
        let created: Option<u64> = schema
            .strip_prefix(prefix)
            .and_then(|rest| rest.strip_prefix('_'))
            .and_then(|rest| rest.split('_').next())
            .and_then(|secs| secs.parse().ok());
        if created.is_some_and(|t| t.saturating_add(STALE_AFTER.as_secs()) < now) {
            sqlx::query(AssertSqlSafe(format!(
                "DROP SCHEMA IF EXISTS {} CASCADE",
                quoted(&schema)
            )))
            .execute(&mut *tx)
            .await
            .map_err(setup(options, format!("drop the stale schema {schema:?}")))?;
        }
    }
    tx.commit()
        .await
        .map_err(setup(options, "commit the preparation".to_owned()))
}

fn parse(url: &str) -> Result<PgConnectOptions, TestingError> {
    PgConnectOptions::from_str(url).map_err(|source| TestingError::InvalidUrl { source })
}

async fn connect_with(options: &PgConnectOptions) -> Result<PgConnection, TestingError> {
    PgConnection::connect_with(options)
        .await
        .map_err(|source| TestingError::Unreachable {
            server: server(options),
            source,
        })
}

/// Maps a failed statement to [`TestingError::Setup`].
fn setup(options: &PgConnectOptions, action: String) -> impl FnOnce(sqlx::Error) -> TestingError {
    let server = server(options);
    move |source| TestingError::Setup {
        action,
        server,
        source,
    }
}

/// `user@host:port/database`: where, without the password.
fn server(options: &PgConnectOptions) -> String {
    format!(
        "{}@{}:{}/{}",
        options.get_username(),
        options.get_host(),
        options.get_port(),
        options.get_database().unwrap_or("")
    )
}

/// `name` as a quoted identifier, whatever it contains.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn valid_prefix(prefix: &str) -> bool {
    (1..=40).contains(&prefix.len())
        && prefix.starts_with(|c: char| c.is_ascii_lowercase())
        && prefix
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The statements that insert a booking or a hold, by name: the one run in
/// a transaction after the locks (limits, a hold to replace, a client cap)
/// and the one run alone on the hot path. Both take the same 36
/// parameters, typed as [`INSERT_PARAMETER_TYPES`] says. For tests that look
/// at how PostgreSQL runs them (`EXPLAIN` of a generic plan).
pub fn insert_statements() -> [(&'static str, &'static str); 2] {
    [
        ("INSERT", crate::sql::bookings::INSERT),
        ("INSERT_PLAIN", crate::sql::bookings::INSERT_PLAIN),
    ]
}

/// The SQL types of the insert statements' parameters `$1` to `$36`, in
/// order, as a `PREPARE name (…)` list.
pub const INSERT_PARAMETER_TYPES: &str = "text, text, text, text, text, text, jsonb, text, text, \
     timestamptz, timestamptz, timestamptz, interval, interval, timestamptz, timestamptz, text, \
     text, timestamptz, text, timestamptz[], timestamptz[], bigint[], text, bigint, text, text, \
     text, text, timestamptz, text, text, text, text, text, bigint";

/// How many booking inserts wait in `store`'s queue for a batch statement
/// (see [`PostgresOptions::insert_batches`](crate::PostgresOptions::insert_batches)):
/// for tests that compose a batch (hold the store's writers busy, start
/// bookings, wait until they are all queued, let the writers go).
pub fn queued_inserts(store: &crate::PostgresStore) -> usize {
    store.batches.queued()
}
