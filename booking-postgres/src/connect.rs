//! [`PostgresStore`] and how it is made: from a URL with
//! [`PostgresOptions`], or from a pool the application built; and the
//! schema's migrations, which only run when asked.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use crate::Error;
use crate::batch::{Batches, DEFAULT_INSERT_BATCHES};
use crate::lanes::{DEFAULT_BOOKING_CONNECTIONS, Lanes};

/// The table in which this crate's migrations record what they applied,
/// instead of sqlx's default `_sqlx_migrations`: an application embedding this
/// store in its own database keeps its own sqlx migration history untouched.
pub const MIGRATIONS_TABLE: &str = "booking_postgres_migrations";

/// The embedded migrations (the `.sql` files in this crate's `migrations/`
/// folder), set to record their history in [`MIGRATIONS_TABLE`]. Use it to
/// inspect or run them yourself; [`PostgresStore::migrate`] runs them all.
pub fn migrator() -> Migrator {
    let mut migrator = sqlx::migrate!("./migrations");
    migrator.dangerous_set_table_name(MIGRATIONS_TABLE);
    migrator
}

/// How [`PostgresStore::connect`] builds its pool. The defaults suit one
/// service process; start from them and change what differs:
///
/// ```
/// use std::time::Duration;
/// use booking_postgres::PostgresOptions;
///
/// let options = PostgresOptions::default()
///     .max_connections(32)
///     .acquire_timeout(Duration::from_secs(2));
/// assert_eq!(options.connect_timeout, Duration::from_secs(5));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PostgresOptions {
    /// The most connections the pool opens (default 10).
    pub max_connections: u32,
    /// The longest an operation waits for a free connection before failing
    /// with a backend error (default 5 s).
    pub acquire_timeout: Duration,
    /// The longest [`PostgresStore::connect`] waits for the server to accept
    /// its first connection (default 5 s).
    pub connect_timeout: Duration,
    /// How many connections the store keeps apart from the pool for
    /// bookings (default [`DEFAULT_BOOKING_CONNECTIONS`]), opened as they
    /// are needed. A booking without limits is one statement; on one of
    /// these it is also one round trip, where a pooled connection costs a
    /// second one (sqlx tests each connection it takes back). `0` sends
    /// bookings through the pool. The store opens at most
    /// `max_connections + booking_connections` connections.
    pub booking_connections: u32,
    /// How many statements inserting several bookings at once the store
    /// runs at the same time (default [`DEFAULT_INSERT_BATCHES`]). Under
    /// concurrent load, bookings without limits waiting at the same moment
    /// share one insert statement (up to [`MAX_BATCH`] rows), which costs
    /// the server far less per booking than one statement each; a booking
    /// with nothing to share with runs alone, as before. More batches at
    /// once use more server cores on a large server, each with fewer rows.
    /// `0` inserts every booking with its own statement.
    ///
    /// [`MAX_BATCH`]: crate::MAX_BATCH
    pub insert_batches: u32,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        PostgresOptions {
            max_connections: 10,
            acquire_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(5),
            booking_connections: DEFAULT_BOOKING_CONNECTIONS,
            insert_batches: DEFAULT_INSERT_BATCHES,
        }
    }
}

impl PostgresOptions {
    /// Sets [`max_connections`](Self::max_connections).
    pub fn max_connections(mut self, max_connections: u32) -> Self {
        self.max_connections = max_connections;
        self
    }

    /// Sets [`acquire_timeout`](Self::acquire_timeout).
    pub fn acquire_timeout(mut self, timeout: Duration) -> Self {
        self.acquire_timeout = timeout;
        self
    }

    /// Sets [`connect_timeout`](Self::connect_timeout).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets [`booking_connections`](Self::booking_connections).
    pub fn booking_connections(mut self, count: u32) -> Self {
        self.booking_connections = count;
        self
    }

    /// Sets [`insert_batches`](Self::insert_batches).
    pub fn insert_batches(mut self, count: u32) -> Self {
        self.insert_batches = count;
        self
    }
}

/// How long a connection may sit idle in the pool before it is tested
/// (one empty round trip) when it is lent again.
pub const IDLE_BEFORE_PING: std::time::Duration = std::time::Duration::from_secs(1);

/// The pool settings [`PostgresStore::connect`] uses (size and timeouts
/// apart): a connection is tested before it is lent only after it sat idle
/// for [`IDLE_BEFORE_PING`], not before every lend as sqlx does by default,
/// which would double the round trips of a booking under load. A connection
/// that died while in use or recently used (a server restart, a failover)
/// is found out by the statement that uses it; a booking's insert is then
/// tried once more on a fresh connection (it is idempotent by booking id).
pub fn pool_options() -> PgPoolOptions {
    PgPoolOptions::new()
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for >= IDLE_BEFORE_PING {
                    sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        })
}

/// `options` with the session settings [`PostgresStore::connect`] gives
/// its own connections: `plan_cache_mode=force_generic_plan`. The store's
/// statements are prepared once per connection and run with new parameters
/// each time; PostgreSQL would otherwise plan the booking insert (one
/// statement with several `WITH` parts) anew on every execution, which
/// cost more server CPU than the insert itself (measured in
/// `benches/README.md`: a booking's server CPU went from 1,466 µs to
/// 580 µs). Every statement of the store is an index lookup by organizer,
/// which a generic plan serves as well as a custom one.
///
/// Use it on the options of a pool passed to [`PostgresStore::from_pool`]
/// to get the same. The setting travels in the connection's startup packet
/// (the `options` parameter); a connection pooler that refuses unknown
/// startup parameters (PgBouncer without `ignore_startup_parameters =
/// options`) needs that line, or the setting made on the database
/// (`ALTER ROLE … SET plan_cache_mode = force_generic_plan`) and a pool
/// built without this function.
pub fn session_options(options: PgConnectOptions) -> PgConnectOptions {
    options.options([("plan_cache_mode", "force_generic_plan")])
}

/// `url` as connect options; sqlx reads any URL's host and port, so the
/// scheme is checked here (a `mysql://` URL is a mistake, not a server).
fn parse_url(url: &str) -> Result<PgConnectOptions, Error> {
    let scheme = url.split_once("://").map(|(scheme, _)| scheme);
    if !matches!(scheme, Some("postgres" | "postgresql")) {
        return Err(Error::InvalidUrl {
            source: sqlx::Error::Configuration(
                "expected a postgres:// or postgresql:// URL".into(),
            ),
        });
    }
    PgConnectOptions::from_str(url).map_err(|source| Error::InvalidUrl { source })
}

/// A [`BookingStore`](booking_core::store::BookingStore) on PostgreSQL.
/// Cheap to clone (it is a pool handle, and a handle on the connections it
/// keeps for bookings; see [`PostgresOptions::booking_connections`]).
///
/// See the [crate documentation](crate) for the schema and the guarantees.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pub(crate) pool: PgPool,
    pub(crate) lanes: Arc<Lanes>,
    pub(crate) batches: Arc<Batches>,
}

impl PostgresStore {
    /// Connects a pool to `url`, such as
    /// `postgres://postgres@127.0.0.1:5432/postgres`, and waits until the
    /// server accepted a first connection. Does not migrate: call
    /// [`migrate`](Self::migrate) when the application decides to.
    pub async fn connect(url: &str, options: PostgresOptions) -> Result<Self, Error> {
        let connect_options = session_options(parse_url(url)?);
        let pool = pool_options()
            .max_connections(options.max_connections)
            .acquire_timeout(options.acquire_timeout)
            .connect_with(connect_options);
        match tokio::time::timeout(options.connect_timeout, pool).await {
            Ok(Ok(pool)) => Ok(PostgresStore::from_pool(pool)
                .with_booking_connections(options.booking_connections)
                .with_insert_batches(options.insert_batches)),
            Ok(Err(source)) => Err(Error::Connect { source }),
            Err(_) => Err(Error::ConnectTimeout {
                timeout: options.connect_timeout,
            }),
        }
    }

    /// A store over a pool the caller configured (size, timeouts,
    /// `search_path`, TLS). Nothing is checked or migrated here. It keeps
    /// [`DEFAULT_BOOKING_CONNECTIONS`] of the pool's connections apart for
    /// bookings, as they are needed (see
    /// [`with_booking_connections`](Self::with_booking_connections)).
    pub fn from_pool(pool: PgPool) -> Self {
        PostgresStore {
            pool,
            lanes: Arc::new(Lanes::new(DEFAULT_BOOKING_CONNECTIONS)),
            batches: Arc::new(Batches::new(DEFAULT_INSERT_BATCHES)),
        }
    }

    /// This store keeping up to `count` connections apart from its pool for
    /// bookings (see [`PostgresOptions::booking_connections`]); `0` sends
    /// bookings through the pool. The connections are taken from the pool
    /// (with its connect options and hooks) and detached from it, so the
    /// pool may open as many again.
    pub fn with_booking_connections(self, count: u32) -> Self {
        PostgresStore {
            pool: self.pool,
            lanes: Arc::new(Lanes::new(count)),
            batches: self.batches,
        }
    }

    /// This store running up to `count` batched booking inserts at once
    /// (see [`PostgresOptions::insert_batches`]); `0` inserts each booking
    /// with its own statement.
    pub fn with_insert_batches(self, count: u32) -> Self {
        PostgresStore {
            pool: self.pool,
            lanes: self.lanes,
            batches: Arc::new(Batches::new(count)),
        }
    }

    /// Brings the schema in the connection's `search_path` up to date by
    /// applying the embedded migrations ([`migrator`]) not applied yet.
    ///
    /// Safe to call from many processes at once: sqlx serializes migrations
    /// of one database with an advisory lock, and each migration runs in a
    /// transaction. Call it once at start-up, before serving; the store never
    /// migrates on its own, so the application stays in charge of when its
    /// database changes. The table layout stays as it is (see
    /// [`migrate_with`](Self::migrate_with) for the partitioned one).
    pub async fn migrate(&self) -> Result<(), Error> {
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(|source| Error::Connect { source })?;
        let result = migrator().run(&mut *conn).await;
        if result.is_err() {
            // sqlx does not release its session-level advisory lock when a
            // migration fails; closing the connection does, so later
            // migrations elsewhere are not left waiting.
            conn.close_on_drop();
        }
        result.map_err(|source| Error::Migrate { source })
    }

    /// The pool, for the application's own queries.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}
