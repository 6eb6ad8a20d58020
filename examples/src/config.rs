//! Configuration from environment variables: where to listen, which store
//! and which lock.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `BOOKING_ADDR` | listen address | `127.0.0.1:3000` |
//! | `DATABASE_URL` | `sqlite://PATH`, `postgres://...` or `memory://` | `sqlite://booking.db` |
//! | `REDIS_URL` | a Redis server for the slot lock; unset: in-process lock | unset |
//!
//! Parsing only reads and checks text; nothing is connected here, so a
//! configuration can be tested without servers. Whether this build can serve
//! a URL (its cargo feature) is decided at start-up by
//! [`build`](crate::startup::build), which says which feature is missing.

use std::net::SocketAddr;
use std::path::PathBuf;

/// The listen address used when `BOOKING_ADDR` is unset: loopback only, so a
/// newcomer's first run is not exposed to the network.
pub const DEFAULT_ADDR: &str = "127.0.0.1:3000";

/// The store used when `DATABASE_URL` is unset: a SQLite file in the working
/// directory, created and migrated on start, so the service runs on a machine
/// with no database server.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://booking.db";

/// Everything the service is configured with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Where the HTTP server listens.
    pub addr: SocketAddr,
    /// Which store keeps organizers, settings and bookings.
    pub database: DatabaseUrl,
    /// The Redis server for the slot lock; `None` for the in-process lock.
    pub redis_url: Option<String>,
}

/// A parsed `DATABASE_URL`: which store it selects.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// `sqlite://PATH` (or `sqlite:PATH`): a SQLite file, created if missing.
    /// `sqlite::memory:` and `sqlite://:memory:` give a private in-memory
    /// database.
    Sqlite(PathBuf),
    /// `postgres://...` or `postgresql://...`, passed to the driver as is
    /// (so `?options=-c search_path=myschema` and TLS parameters work).
    Postgres(String),
    /// `memory://`: booking-core's in-memory store; everything is lost when
    /// the process exits. Needs no cargo feature at all.
    Memory,
}

impl std::fmt::Debug for DatabaseUrl {
    /// Never prints a password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DatabaseUrl::Sqlite(path) => f.debug_tuple("Sqlite").field(path).finish(),
            DatabaseUrl::Postgres(url) => {
                f.debug_tuple("Postgres").field(&redact_url(url)).finish()
            }
            DatabaseUrl::Memory => f.write_str("Memory"),
        }
    }
}

impl DatabaseUrl {
    /// Parses a `DATABASE_URL` value by its scheme.
    pub fn parse(url: &str) -> Result<Self, ConfigError> {
        let trimmed = url.trim();
        let lower = trimmed.to_ascii_lowercase();
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(trimmed.to_owned()));
        }
        if lower == "memory://" || lower == "memory:" {
            return Ok(DatabaseUrl::Memory);
        }
        if lower.starts_with("sqlite:") {
            let rest = &trimmed["sqlite:".len()..];
            let path = rest.strip_prefix("//").unwrap_or(rest);
            if path.is_empty() {
                return Err(ConfigError::Invalid {
                    variable: "DATABASE_URL",
                    value: trimmed.to_owned(),
                    reason: "a SQLite URL needs a file path, e.g. sqlite://booking.db".to_owned(),
                });
            }
            return Ok(DatabaseUrl::Sqlite(PathBuf::from(path)));
        }
        Err(ConfigError::Invalid {
            variable: "DATABASE_URL",
            value: redact_url(trimmed),
            reason: "unsupported scheme: use sqlite://PATH, postgres://... or memory://".to_owned(),
        })
    }
}

/// A configuration value that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A variable is set to something unusable.
    #[error("{variable}={value:?} is invalid: {reason}")]
    Invalid {
        /// The environment variable.
        variable: &'static str,
        /// Its value (with any password hidden).
        value: String,
        /// What is wrong and what is expected.
        reason: String,
    },
}

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup` (name to value), so tests and
    /// embedders can configure the service without touching the process
    /// environment. Empty values count as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        let addr_text = get("BOOKING_ADDR").unwrap_or_else(|| DEFAULT_ADDR.to_owned());
        let addr = addr_text
            .trim()
            .parse::<SocketAddr>()
            .map_err(|_| ConfigError::Invalid {
                variable: "BOOKING_ADDR",
                value: addr_text.clone(),
                reason: "expected IP:PORT, e.g. 127.0.0.1:3000 or 0.0.0.0:8080".to_owned(),
            })?;
        let database = DatabaseUrl::parse(
            &get("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned()),
        )?;
        let redis_url = match get("REDIS_URL") {
            None => None,
            Some(url) => {
                let url = url.trim().to_owned();
                let lower = url.to_ascii_lowercase();
                if !(lower.starts_with("redis://")
                    || lower.starts_with("rediss://")
                    || lower.starts_with("redis+unix://")
                    || lower.starts_with("unix://"))
                {
                    return Err(ConfigError::Invalid {
                        variable: "REDIS_URL",
                        value: redact_url(&url),
                        reason: "expected redis://HOST:PORT (or rediss://, unix://)".to_owned(),
                    });
                }
                Some(url)
            }
        };
        Ok(Config {
            addr,
            database,
            redis_url,
        })
    }
}

/// `url` with the password of its `user:password@` part replaced by `***`,
/// for logs and error messages.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_owned();
    };
    let authority_start = scheme_end + 3;
    let rest = &url[authority_start..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let Some(at) = authority.rfind('@') else {
        return url.to_owned();
    };
    let userinfo = &authority[..at];
    match userinfo.find(':') {
        Some(colon) => format!(
            "{}{}:***{}",
            &url[..authority_start],
            &userinfo[..colon],
            &url[authority_start + at..]
        ),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_are_an_embedded_service_on_loopback() {
        let config = config(&[]).unwrap();
        assert_eq!(config.addr, "127.0.0.1:3000".parse().unwrap());
        assert_eq!(
            config.database,
            DatabaseUrl::Sqlite(PathBuf::from("booking.db"))
        );
        assert_eq!(config.redis_url, None);
    }

    #[test]
    fn urls_select_backends_by_scheme() {
        let parse = |url| DatabaseUrl::parse(url).unwrap();
        assert_eq!(
            parse("sqlite:///var/lib/b.db"),
            DatabaseUrl::Sqlite("/var/lib/b.db".into())
        );
        assert_eq!(
            parse("sqlite:data/b.db"),
            DatabaseUrl::Sqlite("data/b.db".into())
        );
        assert_eq!(
            parse("sqlite::memory:"),
            DatabaseUrl::Sqlite(":memory:".into())
        );
        assert_eq!(parse("memory://"), DatabaseUrl::Memory);
        assert_eq!(
            parse("postgresql://u:p@db/x?options=-c%20search_path%3Dbk"),
            DatabaseUrl::Postgres("postgresql://u:p@db/x?options=-c%20search_path%3Dbk".into())
        );
        assert!(DatabaseUrl::parse("mysql://root@db/x").is_err());
        assert!(DatabaseUrl::parse("sqlite://").is_err());
    }

    #[test]
    fn bad_values_are_refused_with_the_variable_named() {
        let error = config(&[("BOOKING_ADDR", "localhost")]).unwrap_err();
        assert!(error.to_string().starts_with("BOOKING_ADDR="), "{error}");
        let error = config(&[("REDIS_URL", "http://x")]).unwrap_err();
        assert!(error.to_string().starts_with("REDIS_URL="), "{error}");
        let error = config(&[("DATABASE_URL", "mysql://root:hunter2@db/x")]).unwrap_err();
        assert!(!error.to_string().contains("hunter2"), "{error}");
        let ok = config(&[
            ("REDIS_URL", "redis://127.0.0.1:6379"),
            ("BOOKING_ADDR", "0.0.0.0:8080"),
        ])
        .unwrap();
        assert_eq!(ok.redis_url.as_deref(), Some("redis://127.0.0.1:6379"));
        assert_eq!(ok.addr.port(), 8080);
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact_url("redis://:secret@h:6379"), "redis://:***@h:6379");
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_url("postgres://h/db?x=a@b"), "postgres://h/db?x=a@b");
        assert!(
            !format!("{:?}", DatabaseUrl::parse("postgres://u:pw@h/d").unwrap()).contains("pw")
        );
    }
}
