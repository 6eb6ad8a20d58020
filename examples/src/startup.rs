//! Start-up: turning a [`Config`] into a running [`BookingService`] with its
//! calendars, emails and webhooks ([`App`]), and serving it.
//!
//! Every backend is reached once before the service is handed back, so a
//! server that is down, a wrong password, a SQLite file that cannot be
//! written or a missing cargo feature stops the process at start with one
//! clear line ([`StartupError`]) instead of failing the first request.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use booking_core::store::BoxError;
use booking_core::{BookingService, BookingStore, MemoryLock, MemoryStore, SlotLock};
use tokio::net::TcpListener;

use crate::config::{Config, ConfigError, DatabaseUrl};
use crate::integrations::{self, App, Background, IntegrationError};

/// How long start-up waits for a database or Redis server before giving up:
/// long enough for a server that is starting, short enough that a wrong host
/// does not look like a hang.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Which store and lock a service runs on, in words, for the start-up log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backends {
    /// The store, e.g. `SQLite file booking.db`.
    pub store: String,
    /// The lock, e.g. `in-process lock`.
    pub lock: String,
}

impl std::fmt::Display for Backends {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "store: {}; lock: {}", self.store, self.lock)
    }
}

/// Why the service could not start. Its [`Display`](std::fmt::Display) form
/// is one line meant for the operator; [`StartupError::one_line`] adds the
/// causes.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartupError {
    /// The configuration is unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The configuration needs a backend this build was compiled without.
    #[error(
        "{variable} selects {backend}, but this build has no {backend} support: \
         rebuild with `--features {feature}` (it is on by default)"
    )]
    FeatureDisabled {
        /// The variable that asked for it.
        variable: &'static str,
        /// The backend, e.g. `PostgreSQL`.
        backend: &'static str,
        /// The cargo feature of `booking-examples` that provides it.
        feature: &'static str,
    },
    /// The SQLite file could not be opened, created or migrated.
    #[error("cannot open the SQLite database {path}")]
    Sqlite {
        /// The file.
        path: String,
        /// What SQLite said.
        #[source]
        source: BoxError,
    },
    /// The SQLite file opened but cannot take a write (read-only file,
    /// directory or file system), so no booking could ever be stored.
    #[error("the SQLite database {path} is not writable")]
    SqliteNotWritable {
        /// The file.
        path: String,
        /// What SQLite said.
        #[source]
        source: BoxError,
    },
    /// The PostgreSQL server could not be reached or refused the login.
    #[error("cannot reach PostgreSQL at {url}")]
    PostgresConnect {
        /// The URL, password hidden.
        url: String,
        /// What the driver said.
        #[source]
        source: BoxError,
    },
    /// The PostgreSQL schema could not be migrated.
    #[error("cannot migrate the PostgreSQL database at {url}")]
    PostgresMigrate {
        /// The URL, password hidden.
        url: String,
        /// What failed.
        #[source]
        source: BoxError,
    },
    /// The Redis server could not be reached.
    #[error("cannot reach Redis at {url}")]
    Redis {
        /// The URL, password hidden.
        url: String,
        /// What the client said.
        #[source]
        source: BoxError,
    },
    /// Calendars, emails or webhooks could not be set up.
    #[error(transparent)]
    Integrations(#[from] IntegrationError),
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}")]
    Listen {
        /// The address from `BOOKING_ADDR`.
        addr: std::net::SocketAddr,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
}

impl StartupError {
    /// The error and all its causes on one line, e.g. `cannot reach
    /// PostgreSQL at postgres://postgres@127.0.0.1:5433/postgres: ...:
    /// Connection refused (os error 111)`.
    pub fn one_line(&self) -> String {
        let mut line = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            let text = cause.to_string();
            // Drivers often repeat their cause in their own message.
            if !line.contains(&text) {
                line.push_str(": ");
                line.push_str(&text);
            }
            source = cause.source();
        }
        line.replace(['\n', '\r'], " ")
    }
}

/// Connects the store and the lock `config` names, migrating the store, and
/// returns the service with its calendars, emails and webhooks
/// ([`integrations::assemble`]) and a description of what was chosen.
///
/// * `DATABASE_URL=sqlite://PATH` (default `sqlite://booking.db`): the file is
///   created if missing, migrated, and must take a write lock (feature
///   `sqlite`).
/// * `DATABASE_URL=postgres://...`: connected (pool of 16, 5 s acquire
///   timeout) and migrated; tables land in the first schema of the
///   connection's `search_path` (feature `postgres`).
/// * `DATABASE_URL=memory://`: the in-memory store, nothing kept.
/// * `REDIS_URL` set: the Redis slot lock, checked with one round trip
///   (feature `redis`); unset: booking-core's in-process lock.
pub async fn build(config: &Config) -> Result<(App, Backends), StartupError> {
    let (store, store_name) = connect_store(&config.database).await?;
    let (lock, lock_name) = connect_lock(config.redis_url.as_deref()).await?;
    let app = integrations::assemble(store, lock, &config.integrations)?;
    Ok((
        app,
        Backends {
            store: store_name,
            lock: lock_name,
        },
    ))
}

/// A service over a store and lock the caller built (tests, embedders),
/// without calendars, emails or webhooks ([`integrations::assemble`] adds
/// them).
pub fn build_with(store: Arc<dyn BookingStore>, lock: Arc<dyn SlotLock>) -> BookingService {
    BookingService::new(store).with_lock(lock)
}

async fn connect_store(
    database: &DatabaseUrl,
) -> Result<(Arc<dyn BookingStore>, String), StartupError> {
    match database {
        DatabaseUrl::Memory => Ok((
            Arc::new(MemoryStore::new()),
            "in-memory store (nothing is kept after exit)".to_owned(),
        )),
        DatabaseUrl::Sqlite(path) => open_sqlite(path).await,
        DatabaseUrl::Postgres(url) => connect_postgres(url).await,
    }
}

#[cfg(feature = "sqlite")]
async fn open_sqlite(
    path: &std::path::Path,
) -> Result<(Arc<dyn BookingStore>, String), StartupError> {
    use booking_sqlite::{SqliteOptions, SqliteStore};

    let shown = path.display().to_string();
    let open_error = |error: booking_sqlite::Error| StartupError::Sqlite {
        path: shown.clone(),
        source: error.into(),
    };
    let store = SqliteStore::open(path, SqliteOptions::default())
        .await
        .map_err(open_error)?;
    store.migrate().await.map_err(open_error)?;
    // A read-only file opens (read-only) and migrates when it is already
    // migrated; only a write shows it, and the store's health check writes.
    store
        .check_health()
        .await
        .map_err(|error| StartupError::SqliteNotWritable {
            path: shown.clone(),
            source: error.into(),
        })?;
    let name = match store.path() {
        Some(_) => format!("SQLite file {shown} (created and migrated if needed)"),
        None => "SQLite in memory (nothing is kept after exit)".to_owned(),
    };
    Ok((Arc::new(store), name))
}

#[cfg(not(feature = "sqlite"))]
async fn open_sqlite(
    _path: &std::path::Path,
) -> Result<(Arc<dyn BookingStore>, String), StartupError> {
    Err(StartupError::FeatureDisabled {
        variable: "DATABASE_URL",
        backend: "SQLite",
        feature: "sqlite",
    })
}

#[cfg(feature = "postgres")]
async fn connect_postgres(url: &str) -> Result<(Arc<dyn BookingStore>, String), StartupError> {
    use std::str::FromStr as _;

    use booking_postgres::{PostgresOptions, PostgresStore};
    use sqlx::Connection as _;
    use sqlx::postgres::{PgConnectOptions, PgConnection};

    let shown = crate::config::redact_url(url);
    let connect_error = |source: BoxError| StartupError::PostgresConnect {
        url: shown.clone(),
        source,
    };
    let options = PgConnectOptions::from_str(url).map_err(|error| connect_error(error.into()))?;
    // One plain connection first: a pool only reports "timed out" when the
    // server is down, while a connection says why (refused, bad password...).
    match tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect_with(&options)).await {
        Ok(Ok(probe)) => {
            let _ = probe.close().await;
        }
        Ok(Err(error)) => return Err(connect_error(error.into())),
        Err(_) => {
            return Err(connect_error(
                format!("no answer within {} s", CONNECT_TIMEOUT.as_secs()).into(),
            ));
        }
    }
    let pool_options = PostgresOptions::default()
        .max_connections(16)
        .acquire_timeout(Duration::from_secs(5))
        .connect_timeout(CONNECT_TIMEOUT);
    let store = PostgresStore::connect(url, pool_options)
        .await
        .map_err(|error| connect_error(error.into()))?;
    store
        .migrate()
        .await
        .map_err(|error| StartupError::PostgresMigrate {
            url: shown.clone(),
            source: error.into(),
        })?;
    Ok((Arc::new(store), format!("PostgreSQL at {shown} (migrated)")))
}

#[cfg(not(feature = "postgres"))]
async fn connect_postgres(_url: &str) -> Result<(Arc<dyn BookingStore>, String), StartupError> {
    Err(StartupError::FeatureDisabled {
        variable: "DATABASE_URL",
        backend: "PostgreSQL",
        feature: "postgres",
    })
}

async fn connect_lock(
    redis_url: Option<&str>,
) -> Result<(Arc<dyn SlotLock>, String), StartupError> {
    match redis_url {
        None => Ok((
            Arc::new(MemoryLock::new()),
            "in-process lock (set REDIS_URL to share slot locks between processes)".to_owned(),
        )),
        Some(url) => connect_redis(url).await,
    }
}

#[cfg(feature = "redis")]
async fn connect_redis(url: &str) -> Result<(Arc<dyn SlotLock>, String), StartupError> {
    use booking_redis_lock::{RedisLock, RedisLockConfig};

    let shown = crate::config::redact_url(url);
    let connect = RedisLock::connect(url, RedisLockConfig::default());
    let lock = match tokio::time::timeout(CONNECT_TIMEOUT, connect).await {
        Ok(Ok(lock)) => lock,
        Ok(Err(error)) => {
            return Err(StartupError::Redis {
                url: shown,
                source: error.into(),
            });
        }
        Err(elapsed) => {
            return Err(StartupError::Redis {
                url: shown,
                source: format!(
                    "no answer within {}s ({elapsed})",
                    CONNECT_TIMEOUT.as_secs()
                )
                .into(),
            });
        }
    };
    let prefix = lock.config().prefix.clone();
    Ok((
        Arc::new(lock),
        format!("Redis lock at {shown} (keys {prefix}:...)"),
    ))
}

#[cfg(not(feature = "redis"))]
async fn connect_redis(_url: &str) -> Result<(Arc<dyn SlotLock>, String), StartupError> {
    Err(StartupError::FeatureDisabled {
        variable: "REDIS_URL",
        backend: "Redis",
        feature: "redis",
    })
}

/// Binds `config.addr`; a taken port or a foreign address becomes
/// [`StartupError::Listen`].
pub async fn bind(config: &Config) -> Result<TcpListener, StartupError> {
    TcpListener::bind(config.addr)
        .await
        .map_err(|source| StartupError::Listen {
            addr: config.addr,
            source,
        })
}

/// Serves [`app_router`](crate::http::app_router) for `app` on `listener`
/// with `config`'s limits ([`crate::serve`](mod@crate::serve)) and runs its
/// background work (event dispatch, webhook and email delivery:
/// [`Background`]) until `shutdown` completes; then lets requests in
/// flight finish within the shutdown deadline and stops the workers after
/// the step each is in.
pub async fn serve(
    listener: TcpListener,
    app: App,
    config: &Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let background = Background::start(&app.integrations);
    let router = crate::http::app_router(app, &config.http);
    let served = crate::serve::serve(listener, router, &config.server, shutdown).await;
    background.stop().await;
    served
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_joins_causes_without_newlines() {
        let error = StartupError::Redis {
            url: "redis://127.0.0.1:1".to_owned(),
            source: "connection refused\nretry later".into(),
        };
        assert_eq!(
            error.one_line(),
            "cannot reach Redis at redis://127.0.0.1:1: connection refused retry later"
        );
    }

    #[tokio::test]
    async fn memory_backends_need_no_feature_and_no_server() {
        let config = Config {
            addr: "127.0.0.1:0".parse().unwrap(),
            database: DatabaseUrl::Memory,
            ..Config::default()
        };
        let (app, backends) = build(&config).await.unwrap();
        assert!(app.integrations.email.is_none());
        assert!(app.integrations.feed_tokens.is_none());
        assert!(backends.store.contains("in-memory"), "{backends}");
        assert!(backends.lock.contains("in-process"), "{backends}");
    }

    #[cfg(not(feature = "postgres"))]
    #[tokio::test]
    async fn a_postgres_url_without_the_feature_says_which_feature() {
        let config = Config {
            addr: "127.0.0.1:0".parse().unwrap(),
            database: DatabaseUrl::Postgres("postgres://postgres@127.0.0.1/postgres".into()),
            ..Config::default()
        };
        let error = build(&config).await.unwrap_err();
        assert!(
            error.one_line().contains("--features postgres"),
            "{}",
            error.one_line()
        );
    }

    #[cfg(not(feature = "redis"))]
    #[tokio::test]
    async fn a_redis_url_without_the_feature_says_which_feature() {
        let config = Config {
            addr: "127.0.0.1:0".parse().unwrap(),
            database: DatabaseUrl::Memory,
            redis_url: Some("redis://127.0.0.1:6379".into()),
            ..Config::default()
        };
        let error = build(&config).await.unwrap_err();
        assert!(
            error.one_line().contains("--features redis"),
            "{}",
            error.one_line()
        );
    }
}
