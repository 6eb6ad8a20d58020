//! The backend combinations the load program drives, each built fresh for a
//! run (a new PostgreSQL schema, a new SQLite file, a new Redis key prefix)
//! and cleaned up afterwards, plus the after-run double-booking check.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration as StdDuration, SystemTime, UNIX_EPOCH};

use booking_core::event_type::{DEFAULT_SLUG, EventTypeId};
use booking_core::lock::SlotLock;
use booking_core::memory::{MemoryLock, MemoryStore};
use booking_core::organizer::OrganizerId;
use booking_core::service::{BookingService, ServiceError};
use booking_core::store::{BookingQuery, BookingStore, StoreError};
use booking_core::time::{ManualClock, TimeRange};
use booking_postgres::PostgresStore;
use booking_redis_lock::{RedisLock, RedisLockConfig};
use booking_sqlite::{SqliteOptions, SqliteStore};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::{AssertSqlSafe, Connection as _};

use crate::fixtures::{self, FixtureError, LOAD_NOW};
use crate::nolock::NoLock;

/// Everything that can stop the load program.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// PostgreSQL could not be reached or refused a setup statement.
    #[error("PostgreSQL ({url}): {source}")]
    Postgres {
        /// The server's URL.
        url: String,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
    /// Redis could not be reached or refused a command.
    #[error("Redis ({url}): {message}")]
    Redis {
        /// The server's URL.
        url: String,
        /// What failed.
        message: String,
    },
    /// The SQLite store could not be opened.
    #[error("SQLite: {0}")]
    Sqlite(String),
    /// A service call during setup failed.
    #[error("setting up: {0}")]
    Service(#[from] ServiceError),
    /// A store call during setup or checking failed.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// A fixture could not be built.
    #[error(transparent)]
    Fixture(#[from] FixtureError),
    /// Local I/O (temporary files, sockets) failed.
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    /// Anything else, described.
    #[error("{0}")]
    Other(String),
}

impl LoadError {
    /// A PostgreSQL error for the server at `url`.
    pub fn postgres(url: &str) -> impl FnOnce(sqlx::Error) -> LoadError + '_ {
        move |source| LoadError::Postgres {
            url: url.to_owned(),
            source,
        }
    }

    /// A Redis error for the server at `url`.
    pub fn redis(url: &str) -> impl FnOnce(String) -> LoadError + '_ {
        move |message| LoadError::Redis {
            url: url.to_owned(),
            message,
        }
    }
}

/// One backend combination: a store and a slot lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BackendKind {
    /// `MemoryStore` + `MemoryLock`: no I/O at all.
    Memory,
    /// `SqliteStore` on a temporary file + `MemoryLock` (the embedded default).
    Sqlite,
    /// `PostgresStore` + `MemoryLock` (one process).
    Postgres,
    /// `PostgresStore` + `RedisLock` (several processes).
    PostgresRedis,
    /// `SqliteStore` with no lock, so every racer reaches the store.
    SqliteNoLock,
    /// `PostgresStore` with no lock, so every racer reaches the exclusion
    /// constraint.
    PostgresNoLock,
}

impl BackendKind {
    /// Every kind, in report order.
    pub const ALL: [BackendKind; 6] = [
        BackendKind::Memory,
        BackendKind::Sqlite,
        BackendKind::Postgres,
        BackendKind::PostgresRedis,
        BackendKind::SqliteNoLock,
        BackendKind::PostgresNoLock,
    ];

    /// The name used on the command line and in the report.
    pub fn name(self) -> &'static str {
        match self {
            BackendKind::Memory => "memory",
            BackendKind::Sqlite => "sqlite",
            BackendKind::Postgres => "postgres",
            BackendKind::PostgresRedis => "postgres+redis",
            BackendKind::SqliteNoLock => "sqlite+nolock",
            BackendKind::PostgresNoLock => "postgres+nolock",
        }
    }

    /// Whether the store is PostgreSQL.
    pub fn is_postgres(self) -> bool {
        matches!(
            self,
            BackendKind::Postgres | BackendKind::PostgresRedis | BackendKind::PostgresNoLock
        )
    }

    /// Whether the store is SQLite.
    pub fn is_sqlite(self) -> bool {
        matches!(self, BackendKind::Sqlite | BackendKind::SqliteNoLock)
    }

    /// Which lock the service uses, in words.
    pub fn lock_name(self) -> &'static str {
        match self {
            BackendKind::PostgresRedis => "RedisLock",
            BackendKind::SqliteNoLock | BackendKind::PostgresNoLock => "none",
            _ => "MemoryLock",
        }
    }
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for BackendKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        BackendKind::ALL
            .into_iter()
            .find(|k| k.name() == s.trim())
            .ok_or_else(|| {
                let names: Vec<_> = BackendKind::ALL.iter().map(|k| k.name()).collect();
                format!(
                    "unknown backend {s:?}; expected one of {}",
                    names.join(", ")
                )
            })
    }
}

/// Where the servers are and how to talk to them.
#[derive(Debug, Clone)]
pub struct Env {
    /// PostgreSQL URL (`DATABASE_URL`).
    pub database_url: String,
    /// Redis URL (`REDIS_URL`).
    pub redis_url: String,
    /// Connections in the service's PostgreSQL pool.
    pub pool_size: u32,
    /// Whether the PostgreSQL pool pings a connection before lending it
    /// (sqlx's default, and what `PostgresStore::connect` gets).
    pub pool_ping: bool,
}

/// The default PostgreSQL URL: the local server CI starts, trust auth.
pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
/// The default Redis URL.
pub const DEFAULT_REDIS_URL: &str = "redis://127.0.0.1:6379";

/// A short unique tag for names made by one run (`r` + 10 lowercase base-32
/// characters of a fresh ULID's random part).
pub fn run_tag() -> String {
    let ulid = ulid::Ulid::generate().to_string().to_lowercase();
    format!("r{}", &ulid[16..])
}

/// The store behind an [`Instance`], kept for checking and cleanup.
pub enum StoreHandle {
    /// In memory.
    Memory,
    /// A SQLite file in a temporary directory (removed on drop).
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// Keeps the directory alive.
        dir: tempfile::TempDir,
    },
    /// A fresh PostgreSQL schema.
    Postgres {
        /// The service's pool (search_path = the schema).
        pool: PgPool,
        /// The schema's name.
        schema: String,
    },
}

/// A ready backend: the service over a fresh store, and what is needed to
/// check and clean it up.
pub struct Instance {
    /// Which combination.
    pub kind: BackendKind,
    /// The service under test (fixed clock at [`LOAD_NOW`]).
    pub service: BookingService,
    /// The store (the service's own).
    pub store: Arc<dyn BookingStore>,
    /// The lock (the service's own).
    pub lock: Arc<dyn SlotLock>,
    /// The store's resources.
    pub handle: StoreHandle,
    /// Prefix of the Redis keys, for [`BackendKind::PostgresRedis`].
    pub redis_prefix: Option<String>,
}

impl Instance {
    /// Builds `kind` from scratch.
    pub async fn create(kind: BackendKind, env: &Env, run: &str) -> Result<Instance, LoadError> {
        let (store, handle): (Arc<dyn BookingStore>, StoreHandle) = match kind {
            BackendKind::Memory => (Arc::new(MemoryStore::new()), StoreHandle::Memory),
            BackendKind::Sqlite | BackendKind::SqliteNoLock => {
                let dir = tempfile::Builder::new().prefix("bk_load_").tempdir()?;
                let path = dir.path().join("bookings.db");
                let store = SqliteStore::open(&path, SqliteOptions::default())
                    .await
                    .map_err(|e| LoadError::Sqlite(format!("opening {}: {e}", path.display())))?;
                store
                    .migrate()
                    .await
                    .map_err(|e| LoadError::Sqlite(format!("migrating {}: {e}", path.display())))?;
                (Arc::new(store), StoreHandle::Sqlite { path, dir })
            }
            _ => {
                let schema = create_schema(&env.database_url).await?;
                let pool = schema_pool(env, &schema, env.pool_size, env.pool_ping).await?;
                let store = PostgresStore::from_pool(pool.clone());
                store
                    .migrate()
                    .await
                    .map_err(|e| LoadError::Other(format!("migrating schema {schema}: {e}")))?;
                (Arc::new(store), StoreHandle::Postgres { pool, schema })
            }
        };
        let mut redis_prefix = None;
        let lock: Arc<dyn SlotLock> = match kind {
            BackendKind::PostgresRedis => {
                let prefix = format!("bk_load:{run}:lock:booking");
                let config = RedisLockConfig::default().with_prefix(prefix.clone());
                let lock = RedisLock::connect(&env.redis_url, config)
                    .await
                    .map_err(|e| LoadError::redis(&env.redis_url)(e.to_string()))?;
                redis_prefix = Some(prefix);
                Arc::new(lock)
            }
            BackendKind::SqliteNoLock | BackendKind::PostgresNoLock => Arc::new(NoLock),
            _ => Arc::new(MemoryLock::new()),
        };
        let service = service_over(Arc::clone(&store), Arc::clone(&lock));
        Ok(Instance {
            kind,
            service,
            store,
            lock,
            handle,
            redis_prefix,
        })
    }

    /// Registers `count` load organizers named after `run`, with
    /// [`fixtures::load_settings`]; returns them in index order.
    pub async fn register_organizers(
        &self,
        run: &str,
        count: usize,
    ) -> Result<Vec<LoadOrganizer>, LoadError> {
        register_organizers(&self.service, run, count).await
    }

    /// How many pairs of active bookings of one organizer overlap (must be
    /// 0), and how many active bookings there are. Occupied intervals are
    /// recomputed from meeting and buffers rather than read from the stored
    /// bounds. SQL stores answer with one query each; the memory store is
    /// listed organizer by organizer (`organizers`).
    pub async fn check(&self, organizers: &[LoadOrganizer]) -> Result<CheckResult, LoadError> {
        match &self.handle {
            StoreHandle::Memory => {
                let mut result = CheckResult::default();
                for organizer in organizers {
                    let page = self
                        .store
                        .list_bookings(
                            organizer.id,
                            BookingQuery {
                                starts_within: None,
                                cancelled_since: None,
                                limit: u32::MAX,
                                offset: 0,
                            },
                        )
                        .await?;
                    let occupied: Vec<TimeRange> =
                        page.bookings.iter().map(|b| b.occupied()).collect();
                    result.active += occupied.len() as u64;
                    result.overlapping += overlapping_in_start_order(occupied);
                }
                Ok(result)
            }
            StoreHandle::Sqlite { path, .. } => {
                let path = path.clone();
                tokio::task::spawn_blocking(move || sqlite_check(&path))
                    .await
                    .map_err(|e| LoadError::Other(e.to_string()))?
            }
            StoreHandle::Postgres { pool, .. } => postgres_check(pool).await,
        }
    }

    /// A second service over the same database through a store of its own
    /// (its own pool or file connections, its own in-process lock and
    /// caches), as another process of the application would have; `None`
    /// for the memory store, which no other process can share.
    pub async fn second_service(&self, env: &Env) -> Result<Option<SecondService>, LoadError> {
        match &self.handle {
            StoreHandle::Memory => Ok(None),
            StoreHandle::Sqlite { path, .. } => {
                let store = SqliteStore::open(path, SqliteOptions::default())
                    .await
                    .map_err(|e| LoadError::Sqlite(format!("opening {}: {e}", path.display())))?;
                Ok(Some(SecondService {
                    service: service_over(Arc::new(store), Arc::new(MemoryLock::new())),
                    pool: None,
                }))
            }
            StoreHandle::Postgres { schema, .. } => {
                let pool = schema_pool(env, schema, 2, env.pool_ping).await?;
                let store = PostgresStore::from_pool(pool.clone());
                Ok(Some(SecondService {
                    service: service_over(Arc::new(store), Arc::new(MemoryLock::new())),
                    pool: Some(pool),
                }))
            }
        }
    }

    /// Closes connections and drops the schema or file.
    pub async fn cleanup(self, env: &Env) -> Result<(), LoadError> {
        drop(self.service);
        drop(self.store);
        match self.handle {
            StoreHandle::Memory => Ok(()),
            StoreHandle::Sqlite { dir, .. } => Ok(dir.close()?),
            StoreHandle::Postgres { pool, schema } => {
                pool.close().await;
                drop_schema(&env.database_url, &schema).await
            }
        }
    }
}

/// Another process's view of an [`Instance`]'s database (see
/// [`Instance::second_service`]).
pub struct SecondService {
    /// The service, over a store of its own.
    pub service: BookingService,
    /// Its PostgreSQL pool, closed by [`close`](Self::close).
    pool: Option<PgPool>,
}

impl SecondService {
    /// Closes its connections.
    pub async fn close(self) {
        drop(self.service);
        if let Some(pool) = self.pool {
            pool.close().await;
        }
    }
}

/// A service over `store` and `lock` with the load program's fixed clock.
pub fn service_over(store: Arc<dyn BookingStore>, lock: Arc<dyn SlotLock>) -> BookingService {
    BookingService::new(store)
        .with_lock(lock)
        .with_clock(Arc::new(ManualClock::new(LOAD_NOW)))
}

/// A registered load organizer: its id, and the id of the default event
/// type its settings made (what its bookings are of).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadOrganizer {
    /// The organizer.
    pub id: OrganizerId,
    /// Its default event type (slug `default`).
    pub event_type_id: EventTypeId,
}

/// Registers `count` organizers `{run}o{i}` with the load settings (saved
/// with `put_settings`, which makes the default schedule and the default
/// event type), and reads back each one's default event type.
pub async fn register_organizers(
    service: &BookingService,
    run: &str,
    count: usize,
) -> Result<Vec<LoadOrganizer>, LoadError> {
    let draft = fixtures::load_settings()?;
    let mut organizers = Vec::with_capacity(count);
    for index in 0..count {
        let (organizer, _token) = service
            .register_organizer(fixtures::load_organizer(run, index))
            .await?;
        service.put_settings(organizer.id, draft.clone()).await?;
        let event_type = service.event_type(organizer.id, DEFAULT_SLUG).await?;
        organizers.push(LoadOrganizer {
            id: organizer.id,
            event_type_id: event_type.id,
        });
    }
    Ok(organizers)
}

/// The result of the double-booking check.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CheckResult {
    /// Active bookings that overlap an earlier-starting active booking of
    /// the same organizer (0 means no double booking).
    pub overlapping: u64,
    /// Active bookings in the store.
    pub active: u64,
}

/// Counts intervals that start before the latest end of the intervals
/// sorted before them: zero exactly when no two overlap (half-open).
pub fn overlapping_in_start_order(mut occupied: Vec<TimeRange>) -> u64 {
    occupied.sort();
    let mut latest_end = None;
    let mut overlapping = 0;
    for range in occupied {
        if latest_end.is_some_and(|end| range.start() < end) {
            overlapping += 1;
        }
        latest_end = Some(
            latest_end.map_or(range.end(), |end: chrono::DateTime<chrono::Utc>| {
                end.max(range.end())
            }),
        );
    }
    overlapping
}

/// The same rule in SQL: each active booking against the latest end of the
/// active bookings of its organizer that start before it (window function,
/// so it stays O(n log n) on large runs where a self-join would be
/// quadratic per organizer). PostgreSQL keeps holds in `bookings` too
/// (`status = 'held'`); the load program takes none, and only confirmed
/// rows are bookings.
const POSTGRES_OVERLAPS: &str = "\
    SELECT count(*) FILTER (WHERE s < prev_end), count(*) FROM ( \
        SELECT start_time - buffer_before AS s, \
               max(end_time + buffer_after) OVER ( \
                   PARTITION BY organizer_id ORDER BY start_time - buffer_before, id \
                   ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_end \
        FROM bookings WHERE deleted_at IS NULL AND status = 'confirmed') t";

const SQLITE_OVERLAPS: &str = "\
    SELECT coalesce(sum(s < prev_end), 0), count(*) FROM ( \
        SELECT start_time - buffer_before_secs * 1000000 AS s, \
               max(end_time + buffer_after_secs * 1000000) OVER ( \
                   PARTITION BY organizer_id ORDER BY start_time - buffer_before_secs * 1000000, id \
                   ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_end \
        FROM bookings WHERE deleted_at IS NULL)";

async fn postgres_check(pool: &PgPool) -> Result<CheckResult, LoadError> {
    let (overlapping, active): (i64, i64) = sqlx::query_as(POSTGRES_OVERLAPS)
        .fetch_one(pool)
        .await
        .map_err(|e| LoadError::Other(format!("overlap check: {e}")))?;
    Ok(CheckResult {
        overlapping: u64::try_from(overlapping).unwrap_or(u64::MAX),
        active: u64::try_from(active).unwrap_or(0),
    })
}

fn sqlite_check(path: &std::path::Path) -> Result<CheckResult, LoadError> {
    let conn = rusqlite::Connection::open(path).map_err(|e| LoadError::Sqlite(e.to_string()))?;
    conn.busy_timeout(StdDuration::from_secs(5))
        .map_err(|e| LoadError::Sqlite(e.to_string()))?;
    let (overlapping, active): (i64, i64) = conn
        .query_row(SQLITE_OVERLAPS, [], |row| Ok((row.get(0)?, row.get(1)?)))
        .map_err(|e| LoadError::Sqlite(format!("overlap check: {e}")))?;
    Ok(CheckResult {
        overlapping: u64::try_from(overlapping).unwrap_or(u64::MAX),
        active: u64::try_from(active).unwrap_or(0),
    })
}

// ------------------------------------------------------------- PostgreSQL

/// Schemas made by load runs start with this.
pub const SCHEMA_PREFIX: &str = "bk_load_";

/// Load schemas older than this are dropped by the next run (a run that
/// was killed cannot drop its own).
const STALE_SCHEMA_SECS: u64 = 60 * 60;

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Connection options for `env.database_url`.
pub fn pg_options(url: &str) -> Result<PgConnectOptions, LoadError> {
    PgConnectOptions::from_str(url).map_err(LoadError::postgres(url))
}

/// A plain connection (default search_path).
pub async fn admin_connection(url: &str) -> Result<PgConnection, LoadError> {
    PgConnection::connect_with(&pg_options(url)?)
        .await
        .map_err(LoadError::postgres(url))
}

/// Creates `bk_load_{unix secs}_{random}` (making sure `btree_gist` exists,
/// in `public`), after dropping load schemas left by runs more than an hour
/// old. Returns its name.
pub async fn create_schema(url: &str) -> Result<String, LoadError> {
    let mut admin = admin_connection(url).await?;
    let err = LoadError::postgres;
    sqlx::query("SET client_min_messages = warning")
        .execute(&mut admin)
        .await
        .map_err(err(url))?;
    sqlx::query("CREATE EXTENSION IF NOT EXISTS btree_gist WITH SCHEMA public")
        .execute(&mut admin)
        .await
        .map_err(err(url))?;
    let schemas: Vec<String> = sqlx::query_scalar(
        "SELECT nspname::text FROM pg_namespace WHERE nspname LIKE 'bk\\_load\\_%'",
    )
    .fetch_all(&mut admin)
    .await
    .map_err(err(url))?;
    let now = unix_now();
    for schema in schemas {
        let created: Option<u64> = schema
            .strip_prefix(SCHEMA_PREFIX)
            .and_then(|rest| rest.split('_').next())
            .and_then(|secs| secs.parse().ok());
        if created.is_some_and(|t| t + STALE_SCHEMA_SECS < now) {
            sqlx::query(AssertSqlSafe(format!(
                "DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"
            )))
            .execute(&mut admin)
            .await
            .map_err(err(url))?;
        }
    }
    let schema = format!("{SCHEMA_PREFIX}{now}_{}", run_tag());
    sqlx::query(AssertSqlSafe(format!("CREATE SCHEMA \"{schema}\"")))
        .execute(&mut admin)
        .await
        .map_err(err(url))?;
    Ok(schema)
}

/// Connection options whose connections see only `schema`.
pub fn schema_options(url: &str, schema: &str) -> Result<PgConnectOptions, LoadError> {
    Ok(booking_postgres::session_options(pg_options(url)?)
        .options([("search_path", schema)])
        .application_name("booking-benches"))
}

/// A pool of `size` connections on `schema` (opened now), built like
/// `PostgresStore::connect` builds its own (`booking_postgres::pool_options`,
/// `session_options`) except for the size and, when `ping` is true, sqlx's
/// default ping before every lend.
pub async fn schema_pool(
    env: &Env,
    schema: &str,
    size: u32,
    ping: bool,
) -> Result<PgPool, LoadError> {
    let url = &env.database_url;
    let options = if ping {
        PgPoolOptions::new()
    } else {
        booking_postgres::pool_options()
    };
    options
        .max_connections(size.max(1))
        .min_connections(size.max(1))
        .acquire_timeout(StdDuration::from_secs(30))
        .connect_with(schema_options(url, schema)?)
        .await
        .map_err(LoadError::postgres(url))
}

/// Drops `schema` and everything in it.
pub async fn drop_schema(url: &str, schema: &str) -> Result<(), LoadError> {
    let mut admin = admin_connection(url).await?;
    sqlx::query(AssertSqlSafe(format!(
        "DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"
    )))
    .execute(&mut admin)
    .await
    .map_err(LoadError::postgres(url))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone, Utc};

    fn r(start_min: i64, end_min: i64) -> TimeRange {
        let base = Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap();
        TimeRange::new(
            base + Duration::minutes(start_min),
            base + Duration::minutes(end_min),
        )
        .unwrap()
    }

    #[test]
    fn overlaps_are_found_in_any_order_and_touching_is_fine() {
        assert_eq!(
            overlapping_in_start_order(vec![r(30, 60), r(0, 30), r(60, 90)]),
            0
        );
        assert_eq!(
            overlapping_in_start_order(vec![r(0, 100), r(40, 50), r(60, 70)]),
            2
        );
        assert_eq!(overlapping_in_start_order(vec![r(10, 20), r(0, 15)]), 1);
        assert_eq!(overlapping_in_start_order(vec![]), 0);
    }

    #[test]
    fn backend_names_round_trip() {
        for kind in BackendKind::ALL {
            assert_eq!(kind.name().parse::<BackendKind>().unwrap(), kind);
        }
        assert!("mysql".parse::<BackendKind>().is_err());
    }
}
