//! Test harness: a real PostgreSQL, one fresh schema per test.
//!
//! The server comes from `DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`). A server that cannot be
//! reached fails the test with a message saying so; nothing is skipped.
#![allow(dead_code)]

use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration as StdDuration, SystemTime, UNIX_EPOCH};

use booking_core::booking::{BookingId, NewBooking};
use booking_core::organizer::{NewOrganizer, Organizer, OrganizerId};
use booking_core::secret::TokenHash;
use booking_core::store::BookingStore;
use booking_core::time::TimeRange;
use booking_postgres::PostgresStore;
use chrono::{DateTime, Duration, TimeZone, Utc};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::{AssertSqlSafe, Connection};

/// The default server: the local PostgreSQL CI starts, trust auth.
pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// Test schemas older than this are dropped by the next test run (tests that
/// hand an `Arc<dyn BookingStore>` to the conformance suite cannot drop their
/// own schema afterwards).
const STALE_SCHEMA_AGE_SECS: u64 = 15 * 60;

pub fn database_url() -> String {
    std::env::var("DATABASE_URL").unwrap_or_else(|_| DEFAULT_DATABASE_URL.to_owned())
}

fn connect_failure(url: &str, error: impl std::fmt::Display) -> ! {
    panic!(
        "cannot reach PostgreSQL at {url}: {error}\n\
         These tests need a real PostgreSQL with the btree_gist extension available \
         (Debian: postgresql-15). Start it, or point DATABASE_URL at one."
    )
}

/// A plain connection to the database itself (default search_path).
pub async fn admin_connection() -> PgConnection {
    let url = database_url();
    match PgConnection::connect(&url).await {
        Ok(conn) => conn,
        Err(error) => connect_failure(&url, error),
    }
}

/// A pool whose connections see only `schema` (tables are created and
/// queried unqualified, so they land there).
pub async fn pool_for(schema: &str, size: u32, application_name: &str) -> PgPool {
    let url = database_url();
    let options = PgConnectOptions::from_str(&url)
        .unwrap_or_else(|e| panic!("DATABASE_URL {url:?} is not a PostgreSQL URL: {e}"))
        .options([("search_path", schema)])
        .application_name(application_name);
    match PgPoolOptions::new()
        .max_connections(size)
        .acquire_timeout(StdDuration::from_secs(60))
        .connect_with(options)
        .await
    {
        Ok(pool) => pool,
        Err(error) => connect_failure(&url, error),
    }
}

static PREPARED: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();

/// Once per test process: make sure btree_gist exists (in `public`, so it
/// outlives every test schema) and drop test schemas left by earlier runs.
/// Serialized across processes by an advisory lock.
async fn prepare_database() {
    PREPARED
        .get_or_init(|| async {
            let mut conn = admin_connection().await;
            let mut tx = conn.begin().await.expect("begin");
            sqlx::query("SELECT pg_advisory_xact_lock(hashtext('booking-postgres tests'))")
                .execute(&mut *tx)
                .await
                .expect("advisory lock");
            sqlx::query("CREATE EXTENSION IF NOT EXISTS btree_gist WITH SCHEMA public")
                .execute(&mut *tx)
                .await
                .expect(
                    "the btree_gist extension must be available (Debian: postgresql-15 ships it)",
                );
            let schemas: Vec<String> = sqlx::query_scalar(
                "SELECT nspname::text FROM pg_namespace WHERE nspname LIKE 'bk\\_test\\_%'",
            )
            .fetch_all(&mut *tx)
            .await
            .expect("list test schemas");
            let now = unix_now();
            for schema in schemas {
                let created: Option<u64> = schema.split('_').nth(2).and_then(|s| s.parse().ok());
                if created.is_some_and(|t| t + STALE_SCHEMA_AGE_SECS < now) {
                    sqlx::query(AssertSqlSafe(format!(
                        "DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"
                    )))
                    .execute(&mut *tx)
                    .await
                    .expect("drop a stale test schema");
                }
            }
            tx.commit().await.expect("commit");
        })
        .await;
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A fresh, migrated schema with a pool and a store on it.
pub struct TestDb {
    pub schema: String,
    pub pool: PgPool,
    pub store: PostgresStore,
}

impl TestDb {
    pub async fn new() -> Self {
        Self::with_pool_size(8).await
    }

    pub async fn with_pool_size(size: u32) -> Self {
        prepare_database().await;
        let schema = format!("bk_test_{}_{:08x}", unix_now(), rand::random::<u32>());
        let mut admin = admin_connection().await;
        sqlx::query(AssertSqlSafe(format!("CREATE SCHEMA \"{schema}\"")))
            .execute(&mut admin)
            .await
            .expect("create the test schema");
        let pool = pool_for(&schema, size, "booking-postgres-test").await;
        let store = PostgresStore::new(pool.clone());
        store
            .migrate()
            .await
            .expect("migrations apply to a fresh schema");
        TestDb {
            schema,
            pool,
            store,
        }
    }

    /// The store, as the conformance suite wants it.
    pub fn shared(&self) -> Arc<dyn BookingStore> {
        Arc::new(self.store.clone())
    }

    /// Closes the pool and drops the schema.
    pub async fn drop_schema(self) {
        self.pool.close().await;
        let mut admin = admin_connection().await;
        sqlx::query(AssertSqlSafe(format!(
            "DROP SCHEMA IF EXISTS \"{}\" CASCADE",
            self.schema
        )))
        .execute(&mut admin)
        .await
        .expect("drop the test schema");
    }
}

/// Zero when no two active bookings of one organizer overlap. Recomputes the
/// occupied intervals from meeting and buffers, so it does not trust the
/// stored bounds, and checks those too.
pub async fn overlapping_active_pairs(pool: &PgPool) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM bookings a JOIN bookings b \
           ON a.organizer_id = b.organizer_id AND a.id < b.id \
         WHERE a.deleted_at IS NULL AND b.deleted_at IS NULL \
           AND (a.start_time - a.buffer_before) < (b.end_time + b.buffer_after) \
           AND (b.start_time - b.buffer_before) < (a.end_time + a.buffer_after)",
    )
    .fetch_one(pool)
    .await
    .expect("overlap query")
}

/// Rows whose stored occupied bounds disagree with meeting and buffers.
pub async fn inconsistent_occupied_bounds(pool: &PgPool) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM bookings \
         WHERE occupied_start <> start_time - greatest(buffer_before, interval '0') \
            OR occupied_end <> end_time + greatest(buffer_after, interval '0')",
    )
    .fetch_one(pool)
    .await
    .expect("bounds query")
}

pub async fn booking_rows(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM bookings")
        .fetch_one(pool)
        .await
        .expect("count bookings")
}

/// 2030-01-07 (a Monday) at `h:m` UTC.
pub fn at(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2030, 1, 7, 0, 0, 0).unwrap() + Duration::minutes(i64::from(h * 60 + m))
}

pub fn span(start: DateTime<Utc>, minutes: i64) -> TimeRange {
    TimeRange::starting_at(start, Duration::minutes(minutes)).unwrap()
}

pub async fn organizer(store: &dyn BookingStore, username: &str) -> Organizer {
    store
        .create_organizer(
            OrganizerId::generate(),
            NewOrganizer {
                username: username.to_owned(),
                email: format!("{username}@example.com"),
                display_name: format!("Organizer {username}"),
                time_zone: chrono_tz::Europe::Berlin,
            },
            TokenHash::of(username),
            Utc.with_ymd_and_hms(2029, 12, 1, 8, 0, 0).unwrap(),
        )
        .await
        .expect("create organizer")
}

pub fn new_booking(organizer: OrganizerId, time: TimeRange, before: i64, after: i64) -> NewBooking {
    NewBooking {
        id: BookingId::generate(),
        organizer_id: organizer,
        attendant_name: "Grace".into(),
        attendant_email: "grace@example.com".into(),
        metadata: None,
        title: "Intro".into(),
        description: None,
        time,
        buffer_before: Duration::minutes(before),
        buffer_after: Duration::minutes(after),
        cancel_token_hash: TokenHash::of("cancel"),
        created_at: Utc.with_ymd_and_hms(2029, 12, 1, 9, 0, 0).unwrap(),
    }
}
