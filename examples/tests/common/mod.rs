//! Test harness: the real service on an ephemeral port, reached over real
//! HTTP with reqwest; SQLite in a temporary directory, or PostgreSQL (a fresh
//! schema per test) with Redis.
#![allow(dead_code)]

use std::collections::HashMap;

use booking_core::time::{local_days_range, resolve_local};
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

pub mod event_types;
pub mod flow;
pub mod proxy;
pub mod wire;

/// A running service and a client for it.
pub struct Server {
    pub base: String,
    pub client: reqwest::Client,
    task: tokio::task::JoinHandle<()>,
    _dir: Option<tempfile::TempDir>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A reply: status, parsed JSON (Null if not JSON) and raw text.
pub struct Reply {
    pub status: StatusCode,
    pub json: Value,
    pub text: String,
}

impl Reply {
    pub fn code(&self) -> &str {
        self.json["code"].as_str().unwrap_or("")
    }
}

impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text: String = self.text.chars().take(600).collect();
        write!(f, "{} {}", self.status, text)
    }
}

/// Starts the service exactly as the program does: configuration read
/// through `Config::from_lookup` (the code path of the program's settings),
/// backends built and migrated by `build`, the address bound by `bind`, the
/// configured router served by `serve`. Rate limits are off unless the test
/// sets `BOOKING_RATE_LIMIT`, so tests that make many requests from one
/// address are not throttled.
pub async fn start_with_env(vars: &[(&str, String)], dir: Option<tempfile::TempDir>) -> Server {
    let mut map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    map.entry("BOOKING_ADDR".to_owned())
        .or_insert_with(|| "127.0.0.1:0".to_owned());
    map.entry("BOOKING_RATE_LIMIT".to_owned())
        .or_insert_with(|| "off".to_owned());
    let config = booking_examples::Config::from_lookup(|name| map.get(name).cloned())
        .expect("valid configuration");
    let (service, backends) = booking_examples::build(&config)
        .await
        .unwrap_or_else(|error| panic!("the service must start: {}", error.one_line()));
    eprintln!("test service: {backends}");
    let listener = booking_examples::startup::bind(&config)
        .await
        .expect("bind an ephemeral port");
    let addr = listener.local_addr().expect("local address");
    let task = tokio::spawn(async move {
        let _ = booking_examples::serve(listener, service, &config, std::future::pending()).await;
    });
    Server {
        base: format!("http://{addr}"),
        client: reqwest::Client::builder()
            .pool_max_idle_per_host(64)
            .build()
            .expect("http client"),
        task,
        _dir: dir,
    }
}

/// The service on `memory://` with the settings `vars` on top.
pub async fn memory_server(vars: &[(&str, &str)]) -> Server {
    let mut all: Vec<(&str, String)> = vec![("DATABASE_URL", "memory://".to_owned())];
    all.extend(vars.iter().map(|(k, v)| (*k, (*v).to_owned())));
    start_with_env(&all, None).await
}

/// The service on a fresh SQLite file (`DATABASE_URL=sqlite://...`).
pub async fn sqlite_server() -> Server {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("booking.db").display());
    start_with_env(&[("DATABASE_URL", url)], Some(dir)).await
}

impl Server {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// The socket address the service listens on.
    pub fn addr(&self) -> std::net::SocketAddr {
        self.base
            .trim_start_matches("http://")
            .parse()
            .expect("the base URL is http://IP:PORT")
    }

    /// Sends `body` (raw bytes, if any) and reads the reply.
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        bearer: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> Reply {
        let mut request = self.client.request(method, self.url(path));
        if let Some(token) = bearer {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        if let Some(body) = body {
            request = request
                .header("Content-Type", "application/json")
                .body(body);
        }
        let response = request.send().await.expect("the service answers");
        let status = response.status();
        let text = response.text().await.expect("a body");
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply { status, json, text }
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        bearer: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        self.raw(
            method,
            path,
            bearer,
            body.map(|b| serde_json::to_vec(&b).expect("json")),
        )
        .await
    }

    pub async fn get(&self, path: &str, bearer: Option<&str>) -> Reply {
        self.call(Method::GET, path, bearer, None).await
    }

    pub async fn post(&self, path: &str, bearer: Option<&str>, body: Value) -> Reply {
        self.call(Method::POST, path, bearer, Some(body)).await
    }

    /// Registers `username` in `zone`; returns the API token.
    pub async fn register(&self, username: &str, zone: &str) -> String {
        let reply = self
            .post(
                "/api/organizers",
                None,
                json!({"username": username, "email": format!("{username}@example.com"), "name": format!("Organizer {username}"), "timeZone": zone}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{reply:?}");
        reply.json["apiToken"]
            .as_str()
            .expect("apiToken")
            .to_owned()
    }

    /// Every day 00:00-24:00 in `zone`, 60-minute slots, no buffers, no
    /// notice, 30 days ahead.
    pub async fn open_all_week(&self, token: &str, zone: &str) -> Reply {
        let day = json!([{"start": "00:00", "end": "24:00"}]);
        let reply = self
            .call(
                Method::PUT,
                "/api/settings",
                Some(token),
                Some(json!({
                    "timeZone": zone,
                    "weeklyHours": {"monday": day, "tuesday": day, "wednesday": day, "thursday": day,
                                    "friday": day, "saturday": day, "sunday": day},
                    "dateOverrides": [],
                    "slotMinutes": 60,
                    "bufferBeforeMinutes": 0,
                    "bufferAfterMinutes": 0,
                    "minNoticeMinutes": 0,
                    "maxAdvanceDays": 30
                })),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
        reply
    }

    /// The slot starts offered in `[start, end)`.
    pub async fn slot_starts(
        &self,
        username: &str,
        window: (DateTime<Utc>, DateTime<Utc>),
    ) -> Vec<String> {
        let reply = self
            .get(
                &format!(
                    "/api/organizers/{username}/slots?start={}&end={}",
                    iso(window.0),
                    iso(window.1)
                ),
                None,
            )
            .await;
        starts_of(&reply)
    }

    /// Books `[start, start + 1h)` with `username`.
    pub async fn book(&self, username: &str, start: DateTime<Utc>, title: &str) -> Reply {
        self.post(
            "/api/bookings",
            None,
            booking_body(username, start, start + Duration::hours(1), title),
        )
        .await
    }
}

/// The slot starts of a `200 {slots}` reply.
pub fn starts_of(reply: &Reply) -> Vec<String> {
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    reply.json["slots"]
        .as_array()
        .expect("slots")
        .iter()
        .map(|slot| slot["startTime"].as_str().expect("startTime").to_owned())
        .collect()
}

pub fn booking_body(
    username: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    title: &str,
) -> Value {
    json!({
        "organizerUsername": username,
        "attendantName": "Grace Hopper",
        "attendantEmail": "grace@example.com",
        "title": title,
        "startTime": iso(start),
        "endTime": iso(end),
    })
}

/// An instant as the API writes it.
pub fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A username nobody else in this test run uses.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}_{:08x}", rand::random::<u32>())
}

/// Tomorrow's date in `zone`: always in the future and within any
/// reasonable advance window, whatever today is.
pub fn tomorrow(zone: Tz) -> NaiveDate {
    Utc::now().with_timezone(&zone).date_naive() + Duration::days(1)
}

/// `date` at `hour:00` local time in `zone`, as UTC.
pub fn local(zone: Tz, date: NaiveDate, hour: u32) -> DateTime<Utc> {
    resolve_local(
        zone,
        date.and_time(NaiveTime::from_hms_opt(hour, 0, 0).expect("hour")),
    )
    .expect("resolvable")
}

/// The UTC range of the whole local day `date` in `zone`.
pub fn whole_day(zone: Tz, date: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
    let range = local_days_range(zone, date, date).expect("a day");
    (range.start(), range.end())
}

#[cfg(all(feature = "postgres", feature = "redis"))]
pub mod pg {
    //! PostgreSQL + Redis: a fresh schema per test (from
    //! `booking_postgres::testing`), selected through the `DATABASE_URL`'s
    //! `options=-c search_path=...` as an operator would.

    use booking_postgres::testing::{self, IsolatedSchema, PoolSettings, TestingError};
    use sqlx::postgres::PgConnection;

    use super::Server;

    pub const DEFAULT_REDIS_URL: &str = "redis://127.0.0.1:6379";

    /// Schemas are named `bk_e2e_<unix secs>_<random>`.
    const SCHEMA_PREFIX: &str = "bk_e2e";

    pub fn redis_url() -> String {
        std::env::var("REDIS_URL").unwrap_or_else(|_| DEFAULT_REDIS_URL.to_owned())
    }

    /// The value, or a failed test whose message says what is missing.
    fn or_fail<T>(result: Result<T, TestingError>) -> T {
        result.unwrap_or_else(|error| {
            panic!("{error}\nThese tests also need Redis; start it or point REDIS_URL at it.")
        })
    }

    /// A plain connection to the database (default search_path).
    pub async fn admin() -> PgConnection {
        or_fail(testing::connect(&testing::database_url()).await)
    }

    /// The service on PostgreSQL (a fresh schema chosen by the URL's
    /// `search_path` option) with the Redis lock, started from
    /// configuration, and the schema, to inspect and drop afterwards.
    pub async fn server() -> (Server, IsolatedSchema) {
        // The service connects by itself; the schema's own pool is only for
        // the test, so one connection is plenty.
        let settings = PoolSettings {
            max_connections: 1,
            application_name: "booking-examples-test".to_owned(),
        };
        let schema = or_fail(
            IsolatedSchema::create_with(&testing::database_url(), SCHEMA_PREFIX, &settings).await,
        );
        let server = super::start_with_env(
            &[
                ("DATABASE_URL", schema.url_with_search_path()),
                ("REDIS_URL", redis_url()),
            ],
            None,
        )
        .await;
        (server, schema)
    }

    /// Drops the test schema.
    pub async fn drop_schema(schema: IsolatedSchema) {
        or_fail(schema.drop().await);
    }
}
