//! Configuration: where to listen, which store and lock, how connections,
//! requests and clients are bounded, and how to log. Every setting is an
//! environment variable and a command-line flag of the service program
//! (flags win); [`SETTINGS`] lists them all, and `booking-service --help`
//! prints that list.
//!
//! | variable | flag | default |
//! |---|---|---|
//! | `BOOKING_ADDR` | `--addr` | `127.0.0.1:3000` (`IP:PORT` or `localhost:PORT`) |
//! | `DATABASE_URL` | `--database-url` | `sqlite://booking.db` (`sqlite://PATH`, `postgres://...` or `memory://`) |
//! | `REDIS_URL` | `--redis-url` | unset: the in-process lock |
//! | `RUST_LOG` | `--log` | `info` |
//! | `LOG_FORMAT` | `--log-format` | `text` (or `json`) |
//! | `BOOKING_HEADER_TIMEOUT_SECS` | `--header-timeout-secs` | 10 |
//! | `BOOKING_IDLE_TIMEOUT_SECS` | `--idle-timeout-secs` | 5 |
//! | `BOOKING_BODY_TIMEOUT_SECS` | `--body-timeout-secs` | 30 |
//! | `BOOKING_MAX_CONNECTIONS` | `--max-connections` | 512 |
//! | `BOOKING_SHUTDOWN_TIMEOUT_SECS` | `--shutdown-timeout-secs` | 10 |
//! | `BOOKING_READINESS_TIMEOUT_SECS` | `--readiness-timeout-secs` | 3 |
//! | `BOOKING_RATE_LIMIT` | `--rate-limit` | `on` (`off` turns every limit off) |
//! | `BOOKING_RATE_LIMIT_READS` | `--rate-limit-reads` | `120/min` |
//! | `BOOKING_RATE_LIMIT_BOOKINGS` | `--rate-limit-bookings` | `10/min` |
//! | `BOOKING_RATE_LIMIT_REGISTRATIONS` | `--rate-limit-registrations` | `5/h` |
//! | `BOOKING_RATE_LIMIT_AUTH_FAILURES` | `--rate-limit-auth-failures` | `10/min` |
//! | `BOOKING_TRUSTED_PROXIES` | `--trusted-proxies` | unset (comma-separated IPs or CIDRs) |
//! | `BOOKING_PUBLIC_URL` | `--public-url` | unset: `http://` and the listen address (`localhost` for `0.0.0.0`) |
//! | `SMTP_URL` | `--smtp-url` | unset: no email (logged once at start) |
//! | `SMTP_FROM` | `--smtp-from` | `Bookings <bookings@HOST>`, HOST from the public URL (`localhost` for an address) |
//! | `BOOKING_SECRET_KEY` | `--secret-key` | unset: CalDAV passwords and feed tokens refused, webhook secrets stored unsealed |
//! | `BOOKING_ALLOW_PRIVATE_URLS` | `--allow-private-urls` | `0` (`1`: calendars and webhooks may be on loopback or private addresses) |
//! | `BOOKING_PUBLIC_ORIGIN` | `--public-origin` | unset: a page's form post must come from the host it was sent to |
//! | `BOOKING_COOKIE_SECURE` | `--cookie-secure` | `auto` (or `true`, `false`) |
//! | `BOOKING_CSRF_KEY` | `--csrf-key` | unset: a random key per process |
//!
//! **`BOOKING_PUBLIC_URL` and `BOOKING_PUBLIC_ORIGIN`.** The first is the
//! base of every link the service sends out (emails, calendar entries,
//! the feed URL) and may carry a path; the second is the one origin the
//! pages' form posts must come from (the CSRF check, see
//! [`crate::ui`]). Setting only the origin also makes it the public URL,
//! so links point where people reach the service. Setting only the URL
//! does **not** make it the origin: an explicit origin makes the check
//! strict (posts from any other address, such as the service's own
//! `http://127.0.0.1:3000` reached directly, are refused), while without
//! it the check compares the post's `Origin` with the request's `Host`,
//! which stays right wherever the pages are reached unless a proxy
//! rewrites `Host`; then set `BOOKING_PUBLIC_ORIGIN` too.
//! Parsing only reads and checks text; nothing is connected here, so a
//! configuration can be tested without servers. Whether this build can serve
//! a URL (its cargo feature) is decided at start-up by
//! [`build`](crate::startup::build), which says which feature is missing.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use ipnet::IpNet;

use crate::http::{HttpConfig, Rate, RateLimits};
use crate::serve::ServerLimits;

/// One setting: its environment variable, its flag and what it means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setting {
    /// The environment variable, e.g. `BOOKING_ADDR`.
    pub variable: &'static str,
    /// The long flag without dashes, e.g. `addr`.
    pub flag: &'static str,
    /// What the value looks like in `--help`, e.g. `IP:PORT`.
    pub value_name: &'static str,
    /// The default, as text; `None` for unset.
    pub default: Option<&'static str>,
    /// One sentence for `--help`.
    pub help: &'static str,
}

/// Every setting of the service, in the order `--help` lists them.
pub const SETTINGS: &[Setting] = &[
    Setting {
        variable: "BOOKING_ADDR",
        flag: "addr",
        value_name: "IP:PORT",
        default: Some(DEFAULT_ADDR),
        help: "Listen address; localhost:PORT means 127.0.0.1:PORT, 0.0.0.0:PORT accepts other machines",
    },
    Setting {
        variable: "DATABASE_URL",
        flag: "database-url",
        value_name: "URL",
        default: Some(DEFAULT_DATABASE_URL),
        help: "The store: sqlite://PATH (created and migrated), postgres://USER:PASSWORD@HOST:PORT/DB (migrated) or memory:// (nothing kept)",
    },
    Setting {
        variable: "REDIS_URL",
        flag: "redis-url",
        value_name: "URL",
        default: None,
        help: "redis://HOST:PORT for slot locks shared by every process of the service; unset: the in-process lock",
    },
    Setting {
        variable: "RUST_LOG",
        flag: "log",
        value_name: "FILTER",
        default: Some(DEFAULT_LOG_FILTER),
        help: "Log filter, e.g. debug or info,booking_core=debug",
    },
    Setting {
        variable: "LOG_FORMAT",
        flag: "log-format",
        value_name: "text|json",
        default: Some("text"),
        help: "text: lines for people (colours only on a terminal); json: one JSON object per line",
    },
    Setting {
        variable: "BOOKING_HEADER_TIMEOUT_SECS",
        flag: "header-timeout-secs",
        value_name: "SECS",
        default: Some("10"),
        help: "A request head must arrive within this many seconds, or the connection is closed",
    },
    Setting {
        variable: "BOOKING_IDLE_TIMEOUT_SECS",
        flag: "idle-timeout-secs",
        value_name: "SECS",
        default: Some("5"),
        help: "A connection silent this long with no request in progress is closed",
    },
    Setting {
        variable: "BOOKING_BODY_TIMEOUT_SECS",
        flag: "body-timeout-secs",
        value_name: "SECS",
        default: Some("30"),
        help: "A request body must arrive within this many seconds (else 408)",
    },
    Setting {
        variable: "BOOKING_MAX_CONNECTIONS",
        flag: "max-connections",
        value_name: "COUNT",
        default: Some("512"),
        help: "Most connections at once; at the cap the idlest connection is closed for a new one (503 when all are busy). Keep it below the file limit",
    },
    Setting {
        variable: "BOOKING_SHUTDOWN_TIMEOUT_SECS",
        flag: "shutdown-timeout-secs",
        value_name: "SECS",
        default: Some("10"),
        help: "On SIGTERM or Ctrl-C, requests in progress get this long to finish; then the process exits",
    },
    Setting {
        variable: "BOOKING_READINESS_TIMEOUT_SECS",
        flag: "readiness-timeout-secs",
        value_name: "SECS",
        default: Some("3"),
        help: "How long /readyz and /metrics wait for the store and the lock to answer",
    },
    Setting {
        variable: "BOOKING_RATE_LIMIT",
        flag: "rate-limit",
        value_name: "on|off",
        default: Some("on"),
        help: "off turns every per-client rate limit off (load tests, benchmarks)",
    },
    Setting {
        variable: "BOOKING_RATE_LIMIT_READS",
        flag: "rate-limit-reads",
        value_name: "N/UNIT",
        default: Some("120/min"),
        help: "Slot queries, calendar feed fetches and public booking pages per client address (UNIT: s, min or h)",
    },
    Setting {
        variable: "BOOKING_RATE_LIMIT_BOOKINGS",
        flag: "rate-limit-bookings",
        value_name: "N/UNIT",
        default: Some("10/min"),
        help: "Booking requests per client address",
    },
    Setting {
        variable: "BOOKING_RATE_LIMIT_REGISTRATIONS",
        flag: "rate-limit-registrations",
        value_name: "N/UNIT",
        default: Some("5/h"),
        help: "Organizer registrations per client address",
    },
    Setting {
        variable: "BOOKING_RATE_LIMIT_AUTH_FAILURES",
        flag: "rate-limit-auth-failures",
        value_name: "N/UNIT",
        default: Some("10/min"),
        help: "Failed authentications (wrong API token, cancel token, feed token or sign-in) per client address; beyond it, its credentials are refused unchecked",
    },
    Setting {
        variable: "BOOKING_TRUSTED_PROXIES",
        flag: "trusted-proxies",
        value_name: "LIST",
        default: None,
        help: "Comma-separated IPs or CIDRs of reverse proxies whose X-Forwarded-For names the client; unset: the header is ignored",
    },
    Setting {
        variable: "BOOKING_PUBLIC_URL",
        flag: "public-url",
        value_name: "URL",
        default: None,
        help: "Where people reach the service, e.g. https://booking.example.com: links in emails and calendar entries, and the host of calendar UIDs; unset: http:// and the listen address",
    },
    Setting {
        variable: "SMTP_URL",
        flag: "smtp-url",
        value_name: "URL",
        default: None,
        help: "smtp://HOST:PORT (?tls=required for STARTTLS) or smtps://USER:PASSWORD@HOST for invitation emails to attendees and organizers; unset: no email",
    },
    Setting {
        variable: "SMTP_FROM",
        flag: "smtp-from",
        value_name: "MAILBOX",
        default: None,
        help: "The sender of invitation emails, e.g. \"Bookings <bookings@example.com>\"; unset: bookings@ the public URL's host",
    },
    Setting {
        variable: "BOOKING_SECRET_KEY",
        flag: "secret-key",
        value_name: "SECRET",
        default: None,
        help: "A long random secret (32 characters or more) that encrypts CalDAV passwords and webhook signing secrets, derives calendar feed tokens, and is mixed into the cancel tokens of bookings made with an Idempotency-Key (so the key alone does not give one); keep it stable. Unset: CalDAV calendars and feed tokens are refused. Prefer the variable to the flag",
    },
    Setting {
        variable: "BOOKING_ALLOW_PRIVATE_URLS",
        flag: "allow-private-urls",
        value_name: "0|1",
        default: Some("0"),
        help: "1 lets calendar and webhook URLs reach loopback, private and link-local addresses (tests and local development only)",
    },
    Setting {
        variable: crate::ui::PUBLIC_ORIGIN_VAR,
        flag: "public-origin",
        value_name: "ORIGIN",
        default: None,
        help: "The origin people reach the pages at, e.g. https://booking.example.com: form posts must come from it (needed behind a proxy that rewrites Host); also the public URL when BOOKING_PUBLIC_URL is unset; unset: a post's Origin must match its Host",
    },
    Setting {
        variable: crate::ui::COOKIE_SECURE_VAR,
        flag: "cookie-secure",
        value_name: "auto|true|false",
        default: Some("auto"),
        help: "Whether the sign-in cookie is Secure with the __Host- prefix: auto (when a proxy says X-Forwarded-Proto: https), true (always; for HTTPS) or false (plain-HTTP local use)",
    },
    Setting {
        variable: crate::ui::CSRF_KEY_VAR,
        flag: "csrf-key",
        value_name: "SECRET",
        default: None,
        help: "The key the pages' form tokens are signed with (32 characters or more; give every process behind one address the same); unset: a random key per process, so open forms go stale on restart. Prefer the variable to the flag",
    },
];

/// The shortest `BOOKING_SECRET_KEY` accepted.
pub const MIN_SECRET_KEY_LEN: usize = 32;

/// The listen address used when `BOOKING_ADDR` is unset: loopback only, so a
/// newcomer's first run is not exposed to the network.
pub const DEFAULT_ADDR: &str = "127.0.0.1:3000";

/// The store used when `DATABASE_URL` is unset: a SQLite file in the working
/// directory, created and migrated on start, so the service runs on a machine
/// with no database server.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://booking.db";

/// The log filter used when `RUST_LOG` is unset.
pub const DEFAULT_LOG_FILTER: &str = "info";

/// Everything the service is configured with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Where the HTTP server listens.
    pub addr: SocketAddr,
    /// Which store keeps organizers, settings and bookings.
    pub database: DatabaseUrl,
    /// The Redis server for the slot lock; `None` for the in-process lock.
    pub redis_url: Option<String>,
    /// Connection limits and the shutdown deadline.
    pub server: ServerLimits,
    /// Request timeouts and per-client rate limits.
    pub http: HttpConfig,
    /// How the program logs.
    pub log: LogConfig,
    /// Calendars, emails and webhooks.
    pub integrations: IntegrationsConfig,
}

impl Default for Config {
    /// Every documented default.
    fn default() -> Self {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, 3000));
        Config {
            addr,
            database: DatabaseUrl::Sqlite(PathBuf::from("booking.db")),
            redis_url: None,
            server: ServerLimits::default(),
            http: HttpConfig {
                ui: Some(crate::ui::UiOptions::default()),
                ..HttpConfig::default()
            },
            log: LogConfig::default(),
            integrations: IntegrationsConfig::for_addr(addr),
        }
    }
}

/// What calendars, invitation emails and webhooks need: where the service
/// is reached, the SMTP server, the server's secret key and whether
/// user-given URLs may reach private addresses.
#[derive(Clone, PartialEq, Eq)]
pub struct IntegrationsConfig {
    /// Where people reach the service (`BOOKING_PUBLIC_URL`), without a
    /// trailing slash: the base of links in emails and calendar entries.
    pub public_url: String,
    /// The host of [`public_url`](Self::public_url): calendar UIDs are
    /// `{booking id}@{host}`.
    pub host: String,
    /// The SMTP server (`SMTP_URL`); `None`: no email.
    pub smtp_url: Option<String>,
    /// The sender of invitation emails (`SMTP_FROM`).
    pub email_from: String,
    /// The server's secret key (`BOOKING_SECRET_KEY`).
    pub secret_key: Option<String>,
    /// Whether calendar and webhook URLs may reach loopback and private
    /// addresses (`BOOKING_ALLOW_PRIVATE_URLS=1`).
    pub allow_private_urls: bool,
}

impl std::fmt::Debug for IntegrationsConfig {
    /// Never prints the secret key or an SMTP password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IntegrationsConfig")
            .field("public_url", &self.public_url)
            .field("host", &self.host)
            .field("smtp_url", &self.smtp_url.as_deref().map(redact_url))
            .field("email_from", &self.email_from)
            .field("secret_key", &self.secret_key.as_ref().map(|_| "***"))
            .field("allow_private_urls", &self.allow_private_urls)
            .finish()
    }
}

impl IntegrationsConfig {
    /// The defaults for a service listening on `addr`: public URL
    /// `http://{addr}` (`localhost` for an unspecified address), no email,
    /// no secret key, public URLs only.
    pub fn for_addr(addr: SocketAddr) -> Self {
        let host = if addr.ip().is_unspecified() {
            "localhost".to_owned()
        } else {
            addr.ip().to_string()
        };
        let authority = match addr {
            SocketAddr::V6(_) if !addr.ip().is_unspecified() => format!("[{host}]:{}", addr.port()),
            _ => format!("{host}:{}", addr.port()),
        };
        IntegrationsConfig {
            public_url: format!("http://{authority}"),
            email_from: default_sender(&host),
            host,
            smtp_url: None,
            secret_key: None,
            allow_private_urls: false,
        }
    }
}

impl IntegrationsConfig {
    /// Makes `origin` (`scheme://host[:port]`, as `BOOKING_PUBLIC_ORIGIN`
    /// holds it) the public URL, its host the host of calendar UIDs and of
    /// the default sender.
    fn use_public_origin(&mut self, origin: &str) {
        let Ok(url) = booking_net::Url::parse(origin) else {
            return;
        };
        let Some(host) = url.host_str().filter(|host| !host.is_empty()) else {
            return;
        };
        self.host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        self.email_from = default_sender(&self.host);
        self.public_url = origin.trim_end_matches('/').to_owned();
    }
}

/// `Bookings <bookings@HOST>`, or `bookings@localhost` when the host is an
/// address rather than a name.
fn default_sender(host: &str) -> String {
    let named = host.chars().any(|c| c.is_ascii_alphabetic()) && !host.contains(':');
    let domain = if named { host } else { "localhost" };
    format!("Bookings <bookings@{domain}>")
}

/// How the program logs (`RUST_LOG`, `LOG_FORMAT`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogConfig {
    /// A `tracing` filter, e.g. `info,booking_core=debug`.
    pub filter: String,
    /// Lines for people, or JSON objects.
    pub format: LogFormat,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            filter: DEFAULT_LOG_FILTER.to_owned(),
            format: LogFormat::Text,
        }
    }
}

/// The shape of log lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One line per event for people; coloured only on a terminal.
    Text,
    /// One JSON object per line (`timestamp`, `level`, `fields`, `target`,
    /// `span`), for log collectors.
    Json,
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
        let get = |name: &str| {
            lookup(name)
                .map(|value| value.trim().to_owned())
                .filter(|value| !value.is_empty())
        };
        let invalid = |variable: &'static str, value: &str, reason: &str| ConfigError::Invalid {
            variable,
            value: value.to_owned(),
            reason: reason.to_owned(),
        };
        let addr = match get("BOOKING_ADDR") {
            None => SocketAddr::from((Ipv4Addr::LOCALHOST, 3000)),
            Some(text) => parse_addr(&text).ok_or_else(|| {
                invalid(
                    "BOOKING_ADDR",
                    &text,
                    "expected IP:PORT or localhost:PORT, e.g. 127.0.0.1:3000 or 0.0.0.0:8080",
                )
            })?,
        };
        let database = DatabaseUrl::parse(
            &get("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned()),
        )?;
        let redis_url = match get("REDIS_URL") {
            None => None,
            Some(url) => {
                let lower = url.to_ascii_lowercase();
                if !(lower.starts_with("redis://")
                    || lower.starts_with("rediss://")
                    || lower.starts_with("redis+unix://")
                    || lower.starts_with("unix://"))
                {
                    return Err(invalid(
                        "REDIS_URL",
                        &redact_url(&url),
                        "expected redis://HOST:PORT (or rediss://, unix://)",
                    ));
                }
                Some(url)
            }
        };
        let log = LogConfig {
            filter: get("RUST_LOG").unwrap_or_else(|| DEFAULT_LOG_FILTER.to_owned()),
            format: match get("LOG_FORMAT").map(|v| v.to_ascii_lowercase()).as_deref() {
                None | Some("text") => LogFormat::Text,
                Some("json") => LogFormat::Json,
                Some(other) => return Err(invalid("LOG_FORMAT", other, "expected text or json")),
            },
        };
        let seconds =
            |variable: &'static str, default: Duration| -> Result<Duration, ConfigError> {
                match get(variable) {
                    None => Ok(default),
                    Some(text) => match text.parse::<u64>() {
                        Ok(secs) if (1..=86_400).contains(&secs) => Ok(Duration::from_secs(secs)),
                        _ => Err(invalid(
                            variable,
                            &text,
                            "expected whole seconds from 1 to 86400",
                        )),
                    },
                }
            };
        let max_connections = match get("BOOKING_MAX_CONNECTIONS") {
            None => ServerLimits::DEFAULT_MAX_CONNECTIONS,
            Some(text) => match text.parse::<usize>() {
                Ok(count) if (1..=1_000_000).contains(&count) => count,
                _ => {
                    return Err(invalid(
                        "BOOKING_MAX_CONNECTIONS",
                        &text,
                        "expected a whole number from 1 to 1000000",
                    ));
                }
            },
        };
        let server = ServerLimits {
            header_timeout: seconds(
                "BOOKING_HEADER_TIMEOUT_SECS",
                ServerLimits::DEFAULT_HEADER_TIMEOUT,
            )?,
            idle_timeout: seconds(
                "BOOKING_IDLE_TIMEOUT_SECS",
                ServerLimits::DEFAULT_IDLE_TIMEOUT,
            )?,
            max_connections,
            shutdown_timeout: seconds(
                "BOOKING_SHUTDOWN_TIMEOUT_SECS",
                ServerLimits::DEFAULT_SHUTDOWN_TIMEOUT,
            )?,
        };
        let rate = |variable: &'static str, default: Rate| -> Result<Rate, ConfigError> {
            match get(variable) {
                None => Ok(default),
                Some(text) => {
                    Rate::parse(&text).map_err(|reason| invalid(variable, &text, &reason))
                }
            }
        };
        let enabled = match get("BOOKING_RATE_LIMIT")
            .map(|v| v.to_ascii_lowercase())
            .as_deref()
        {
            None | Some("on") => true,
            Some("off") => false,
            Some(other) => return Err(invalid("BOOKING_RATE_LIMIT", other, "expected on or off")),
        };
        let trusted_proxies = match get("BOOKING_TRUSTED_PROXIES") {
            None => Vec::new(),
            Some(text) => parse_networks(&text)
                .map_err(|reason| invalid("BOOKING_TRUSTED_PROXIES", &text, &reason))?,
        };
        let http = HttpConfig {
            body_timeout: seconds(
                "BOOKING_BODY_TIMEOUT_SECS",
                HttpConfig::DEFAULT_BODY_TIMEOUT,
            )?,
            readiness_timeout: seconds(
                "BOOKING_READINESS_TIMEOUT_SECS",
                crate::http::health::DEFAULT_READINESS_TIMEOUT,
            )?,
            rate_limits: RateLimits {
                enabled,
                reads: rate("BOOKING_RATE_LIMIT_READS", RateLimits::DEFAULT_READS)?,
                bookings: rate("BOOKING_RATE_LIMIT_BOOKINGS", RateLimits::DEFAULT_BOOKINGS)?,
                registrations: rate(
                    "BOOKING_RATE_LIMIT_REGISTRATIONS",
                    RateLimits::DEFAULT_REGISTRATIONS,
                )?,
                auth_failures: rate(
                    "BOOKING_RATE_LIMIT_AUTH_FAILURES",
                    RateLimits::DEFAULT_AUTH_FAILURES,
                )?,
                trusted_proxies,
            },
            ui: None,
        };
        let ui = crate::ui::UiOptions::from_lookup(get).map_err(ui_error)?;
        let integrations = integrations(addr, ui.public_origin.as_deref(), &get)?;
        let http = HttpConfig {
            ui: Some(ui),
            ..http
        };
        Ok(Config {
            addr,
            database,
            redis_url,
            server,
            http,
            log,
            integrations,
        })
    }
}

/// A page setting that cannot be used, as the configuration's error (the
/// service refuses to start, like for any other invalid setting).
fn ui_error(error: crate::ui::UiOptionsError) -> ConfigError {
    use crate::ui::{COOKIE_SECURE_VAR, CSRF_KEY_VAR, PUBLIC_ORIGIN_VAR, UiOptionsError};
    let (variable, value) = match &error {
        UiOptionsError::CookieSecure(value) => (COOKIE_SECURE_VAR, value.clone()),
        UiOptionsError::CsrfKeyTooShort(_) => (CSRF_KEY_VAR, "***".to_owned()),
        UiOptionsError::PublicOrigin(value) => (PUBLIC_ORIGIN_VAR, value.clone()),
    };
    ConfigError::Invalid {
        variable,
        value,
        reason: error.to_string(),
    }
}

/// The calendar, email and webhook settings.
fn integrations(
    addr: SocketAddr,
    public_origin: Option<&str>,
    get: &dyn Fn(&str) -> Option<String>,
) -> Result<IntegrationsConfig, ConfigError> {
    let invalid = |variable: &'static str, value: &str, reason: String| ConfigError::Invalid {
        variable,
        value: value.to_owned(),
        reason,
    };
    let mut config = IntegrationsConfig::for_addr(addr);
    if let Some(text) = get("BOOKING_PUBLIC_URL") {
        let reason = "expected http(s)://HOST[:PORT][/PATH], e.g. https://booking.example.com";
        let url = booking_net::Url::parse(&text)
            .map_err(|_| invalid("BOOKING_PUBLIC_URL", &text, reason.to_owned()))?;
        let host = url
            .host_str()
            .filter(|host| !host.is_empty())
            .filter(|_| matches!(url.scheme(), "http" | "https"))
            .filter(|_| url.username().is_empty() && url.password().is_none())
            .filter(|_| url.query().is_none() && url.fragment().is_none())
            .ok_or_else(|| invalid("BOOKING_PUBLIC_URL", &text, reason.to_owned()))?;
        config.host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        config.email_from = default_sender(&config.host);
        config.public_url = url.as_str().trim_end_matches('/').to_owned();
    } else if let Some(origin) = public_origin {
        // Only the pages' origin is set: links go there too.
        config.use_public_origin(origin);
    }
    if let Some(from) = get("SMTP_FROM") {
        config.email_from = from;
    }
    if let Some(url) = get("SMTP_URL") {
        // Checked now (it only parses), so a typo stops the start.
        booking_calendar::email::EmailConfig::from_url(&url, &config.email_from).map_err(
            |error| match error {
                booking_calendar::email::EmailConfigError::From(_) => {
                    invalid("SMTP_FROM", &config.email_from, error.to_string())
                }
                _ => invalid("SMTP_URL", &redact_url(&url), error.to_string()),
            },
        )?;
        config.smtp_url = Some(url);
    }
    if let Some(key) = get("BOOKING_SECRET_KEY") {
        if key.chars().count() < MIN_SECRET_KEY_LEN {
            return Err(invalid(
                "BOOKING_SECRET_KEY",
                "***",
                format!(
                    "it must be at least {MIN_SECRET_KEY_LEN} characters long (a long random value, e.g. from `openssl rand -hex 32`)"
                ),
            ));
        }
        config.secret_key = Some(key);
    }
    config.allow_private_urls = match get("BOOKING_ALLOW_PRIVATE_URLS")
        .map(|v| v.to_ascii_lowercase())
        .as_deref()
    {
        None | Some("0" | "false" | "off") => false,
        Some("1" | "true" | "on") => true,
        Some(other) => {
            return Err(invalid(
                "BOOKING_ALLOW_PRIVATE_URLS",
                other,
                "expected 0 or 1".to_owned(),
            ));
        }
    };
    Ok(config)
}

/// `IP:PORT`, or `localhost:PORT` as `127.0.0.1:PORT` (IPv4 loopback:
/// "localhost" may also name `::1`, but one listener binds one address).
fn parse_addr(text: &str) -> Option<SocketAddr> {
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Some(addr);
    }
    let (host, port) = text.rsplit_once(':')?;
    let port = port.parse::<u16>().ok()?;
    host.eq_ignore_ascii_case("localhost")
        .then_some(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
}

/// A comma-separated list of IPs (`10.0.0.1`) and networks (`10.0.0.0/8`).
fn parse_networks(text: &str) -> Result<Vec<IpNet>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| {
            item.parse::<IpNet>()
                .or_else(|_| item.parse::<std::net::IpAddr>().map(IpNet::from))
                .map_err(|_| format!("{item:?} is not an IP address or CIDR network"))
        })
        .collect()
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
    fn the_pages_settings_are_read_with_the_others() {
        let defaults = config(&[]).unwrap();
        assert_eq!(defaults.http.ui, Some(crate::ui::UiOptions::default()));
        let set = config(&[
            ("BOOKING_COOKIE_SECURE", "true"),
            ("BOOKING_CSRF_KEY", "0123456789abcdef0123456789abcdef"),
            ("BOOKING_PUBLIC_ORIGIN", "https://Booking.Example.com"),
        ])
        .unwrap();
        let ui = set.http.ui.unwrap();
        assert_eq!(ui.cookie_security, crate::ui::CookieSecurity::Always);
        assert!(ui.csrf_key.is_some());
        assert_eq!(
            ui.public_origin.as_deref(),
            Some("https://booking.example.com")
        );
        for (variable, value) in [
            ("BOOKING_COOKIE_SECURE", "sometimes"),
            ("BOOKING_CSRF_KEY", "short"),
            ("BOOKING_PUBLIC_ORIGIN", "https://x/path"),
        ] {
            let error = config(&[(variable, value)]).unwrap_err();
            assert!(error.to_string().contains(variable), "{error}");
        }
        assert!(
            !config(&[("BOOKING_CSRF_KEY", "short-secret")])
                .unwrap_err()
                .to_string()
                .contains("short-secret"),
            "the key is not printed"
        );
    }

    #[test]
    fn the_public_origin_alone_is_also_the_public_url_but_not_the_reverse() {
        let origin_only =
            config(&[("BOOKING_PUBLIC_ORIGIN", "https://booking.example.com")]).unwrap();
        assert_eq!(
            origin_only.integrations.public_url,
            "https://booking.example.com"
        );
        assert_eq!(origin_only.integrations.host, "booking.example.com");
        assert_eq!(
            origin_only.integrations.email_from,
            "Bookings <bookings@booking.example.com>"
        );
        let url_only =
            config(&[("BOOKING_PUBLIC_URL", "https://booking.example.com/book")]).unwrap();
        assert_eq!(
            url_only.integrations.public_url,
            "https://booking.example.com/book"
        );
        assert_eq!(url_only.http.ui.unwrap().public_origin, None);
        let both = config(&[
            ("BOOKING_PUBLIC_URL", "https://links.example.com"),
            ("BOOKING_PUBLIC_ORIGIN", "https://pages.example.com"),
            ("SMTP_FROM", "Team <team@example.com>"),
        ])
        .unwrap();
        assert_eq!(both.integrations.public_url, "https://links.example.com");
        assert_eq!(both.integrations.email_from, "Team <team@example.com>");
        assert_eq!(
            both.http.ui.unwrap().public_origin.as_deref(),
            Some("https://pages.example.com")
        );
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
    fn localhost_means_the_ipv4_loopback() {
        let config = config(&[("BOOKING_ADDR", "localhost:8081")]).unwrap();
        assert_eq!(config.addr, "127.0.0.1:8081".parse().unwrap());
        assert_eq!(
            self::config(&[("BOOKING_ADDR", "LOCALHOST:80")])
                .unwrap()
                .addr
                .port(),
            80
        );
        assert!(self::config(&[("BOOKING_ADDR", "example.com:80")]).is_err());
    }

    #[test]
    fn defaults_match_the_settings_table() {
        assert_eq!(config(&[]).unwrap(), Config::default());
        let mut from_table = HashMap::new();
        for setting in SETTINGS {
            if let Some(default) = setting.default {
                from_table.insert(setting.variable.to_owned(), default.to_owned());
            }
        }
        assert_eq!(
            Config::from_lookup(|name| from_table.get(name).cloned()).unwrap(),
            Config::default()
        );
    }

    #[test]
    fn limits_and_timeouts_are_read() {
        let config = config(&[
            ("BOOKING_HEADER_TIMEOUT_SECS", "3"),
            ("BOOKING_IDLE_TIMEOUT_SECS", "4"),
            ("BOOKING_BODY_TIMEOUT_SECS", "6"),
            ("BOOKING_MAX_CONNECTIONS", "7"),
            ("BOOKING_SHUTDOWN_TIMEOUT_SECS", "8"),
            ("BOOKING_READINESS_TIMEOUT_SECS", "1"),
            ("BOOKING_RATE_LIMIT", "OFF"),
            ("BOOKING_RATE_LIMIT_READS", "9/s"),
            ("BOOKING_TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.1"),
            ("LOG_FORMAT", "json"),
        ])
        .unwrap();
        assert_eq!(config.server.header_timeout, Duration::from_secs(3));
        assert_eq!(config.server.idle_timeout, Duration::from_secs(4));
        assert_eq!(config.http.body_timeout, Duration::from_secs(6));
        assert_eq!(config.server.max_connections, 7);
        assert_eq!(config.server.shutdown_timeout, Duration::from_secs(8));
        assert_eq!(config.http.readiness_timeout, Duration::from_secs(1));
        assert!(!config.http.rate_limits.enabled);
        assert_eq!(config.http.rate_limits.reads.to_string(), "9/s");
        assert_eq!(config.http.rate_limits.trusted_proxies.len(), 2);
        assert_eq!(config.log.format, LogFormat::Json);
        for (variable, value) in [
            ("BOOKING_IDLE_TIMEOUT_SECS", "0"),
            ("BOOKING_IDLE_TIMEOUT_SECS", "5s"),
            ("BOOKING_MAX_CONNECTIONS", "0"),
            ("BOOKING_RATE_LIMIT", "maybe"),
            ("BOOKING_RATE_LIMIT_BOOKINGS", "10"),
            ("BOOKING_TRUSTED_PROXIES", "proxy.local"),
            ("LOG_FORMAT", "xml"),
        ] {
            let error = self::config(&[(variable, value)]).unwrap_err();
            assert!(
                error.to_string().starts_with(&format!("{variable}=")),
                "{error}"
            );
        }
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
    fn integrations_are_read_and_checked() {
        let defaults = config(&[]).unwrap().integrations;
        assert_eq!(defaults.public_url, "http://127.0.0.1:3000");
        assert_eq!(defaults.host, "127.0.0.1");
        assert_eq!(defaults.email_from, "Bookings <bookings@localhost>");
        assert_eq!(defaults.smtp_url, None);
        assert!(!defaults.allow_private_urls);
        let open = config(&[("BOOKING_ADDR", "0.0.0.0:8080")]).unwrap();
        assert_eq!(open.integrations.public_url, "http://localhost:8080");
        let key = "k".repeat(MIN_SECRET_KEY_LEN);
        let set = config(&[
            ("BOOKING_PUBLIC_URL", "https://booking.example.com/"),
            ("SMTP_URL", "smtps://user:hunter2@mail.example.com"),
            ("BOOKING_SECRET_KEY", &key),
            ("BOOKING_ALLOW_PRIVATE_URLS", "1"),
        ])
        .unwrap()
        .integrations;
        assert_eq!(set.public_url, "https://booking.example.com");
        assert_eq!(set.host, "booking.example.com");
        assert_eq!(set.email_from, "Bookings <bookings@booking.example.com>");
        assert!(set.allow_private_urls);
        let shown = format!("{set:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains(&key),
            "{shown}"
        );
        for (variable, value) in [
            ("BOOKING_PUBLIC_URL", "ftp://example.com"),
            ("BOOKING_PUBLIC_URL", "booking.example.com"),
            ("SMTP_URL", "http://mail.example.com"),
            ("SMTP_FROM", "not an address"),
            ("BOOKING_SECRET_KEY", "short"),
            ("BOOKING_ALLOW_PRIVATE_URLS", "yes please"),
        ] {
            let mut vars = vec![(variable, value)];
            if variable == "SMTP_FROM" {
                vars.push(("SMTP_URL", "smtp://127.0.0.1:2525"));
            }
            let error = self::config(&vars).unwrap_err();
            assert!(
                error.to_string().starts_with(&format!("{variable}=")),
                "{error}"
            );
            assert!(!error.to_string().contains("short"), "{error}");
        }
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
