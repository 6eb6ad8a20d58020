//! Test harness: a real PostgreSQL, one fresh schema per test (made by
//! `booking_postgres::testing`, dropped when the test's `TestDb` goes); the
//! data comes from `booking_core::testkit::fixtures`.
//!
//! The server comes from `DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`). A server that cannot be
//! reached fails the test with a message saying so; nothing is skipped.
#![allow(dead_code)]

use booking_core::organizer::Organizer;
use booking_core::store::BookingStore;
use booking_core::testkit::TestStore;
use booking_postgres::testing::{self, IsolatedSchema, PoolSettings, SchemaGuard, TestingError};
use booking_postgres::{Layout, MigrateOptions, PostgresStore, migrator};
use sqlx::postgres::{PgConnection, PgPool};

/// Test schemas are named `bk_test_<unix secs>_<random>`.
const SCHEMA_PREFIX: &str = "bk_test";

/// The value, or a failed test whose message says what is missing (an
/// unreachable server says so, and how to provide one).
fn or_fail<T>(result: Result<T, TestingError>) -> T {
    result.unwrap_or_else(|error| panic!("{error}"))
}

/// A plain connection to the database itself (default search_path).
pub async fn admin_connection() -> PgConnection {
    or_fail(testing::connect(&testing::database_url()).await)
}

/// A pool whose connections see only `schema` (tables are created and
/// queried unqualified, so they land there).
pub async fn pool_for(schema: &str, size: u32, application_name: &str) -> PgPool {
    let settings = PoolSettings {
        max_connections: size,
        application_name: application_name.to_owned(),
    };
    or_fail(testing::schema_pool(&testing::database_url(), schema, &settings).await)
}

/// How many partitions the suites' partitioned runs use.
pub const PARTITIONS: u16 = 8;

/// What this test binary migrates its schemas with. The store suites run
/// twice: as their own binaries (the default layout), and included as a
/// module named `partitioned` by `tests/*_partitioned.rs`, whose schemas get
/// [`PARTITIONS`] hash partitions. This module, declared inside the suite's
/// file, sees in its own path which of the two it is part of.
pub fn migrate_options() -> MigrateOptions {
    // The first part is the test binary's own name.
    if module_path!()
        .split("::")
        .skip(1)
        .any(|module| module == "partitioned")
    {
        MigrateOptions::default().partitions(PARTITIONS)
    } else {
        MigrateOptions::default()
    }
}

/// The name of `test` (a function at the top of its suite file) as the
/// test harness knows it, for running it alone in another process:
/// `partitioned::test` when the suite is included by its partitioned twin.
pub fn test_path(test: &str) -> String {
    match module_path!().rsplit_once("::") {
        // `crate::common` or `crate::partitioned::common`: drop both ends.
        Some((outer, _)) => match outer.split_once("::") {
            Some((_, module)) => format!("{module}::{test}"),
            None => test.to_owned(),
        },
        None => test.to_owned(),
    }
}

/// A fresh schema with a pool and a store on it, dropped (schema and all)
/// when the `TestDb` is dropped, whether the test passed or panicked.
pub struct TestDb {
    pub schema: String,
    pub url_with_search_path: String,
    pub pool: PgPool,
    pub store: PostgresStore,
    /// Last, so the pool handles above go first.
    guard: SchemaGuard,
}

impl TestDb {
    /// Migrated to the current schema, with a pool of 8.
    pub async fn new() -> Self {
        Self::with_pool_size(8).await
    }

    /// Migrated to the current schema, in this binary's layout (see
    /// [`migrate_options`]).
    pub async fn with_pool_size(size: u32) -> Self {
        Self::with_options(size, migrate_options()).await
    }

    /// Migrated to the current schema with `options`.
    pub async fn with_options(size: u32, options: MigrateOptions) -> Self {
        let db = Self::unmigrated(size).await;
        db.store
            .migrate_with(options.clone())
            .await
            .expect("migrations apply to a fresh schema");
        // Every test of a partitioned run checks that it runs on partitions.
        let expected = match options.partitions {
            Some(partitions) => Layout::HashPartitioned { partitions },
            None => Layout::Single,
        };
        assert_eq!(db.store.layout().await.unwrap(), Some(expected));
        db
    }

    /// Migrated only up to `version` (1: the schema before booking-core 2),
    /// recorded in the migration history as a real deployment would be.
    pub async fn at_version(version: i64) -> Self {
        let db = Self::unmigrated(8).await;
        let mut conn = db.pool.acquire().await.expect("a connection");
        migrator()
            .run_to(version, &mut *conn)
            .await
            .unwrap_or_else(|e| panic!("migrating to version {version}: {e}"));
        drop(conn);
        db
    }

    /// An empty schema: nothing migrated.
    pub async fn unmigrated(size: u32) -> Self {
        let settings = PoolSettings {
            max_connections: size,
            ..PoolSettings::default()
        };
        let isolated = or_fail(
            IsolatedSchema::create_with(&testing::database_url(), SCHEMA_PREFIX, &settings).await,
        );
        let pool = isolated.pool().clone();
        TestDb {
            schema: isolated.name().to_owned(),
            url_with_search_path: isolated.url_with_search_path(),
            store: PostgresStore::from_pool(pool.clone()),
            pool,
            guard: isolated.into_guard(),
        }
    }

    /// The store with the schema as its guard, as the conformance suite
    /// takes it.
    pub fn into_test_store(self) -> TestStore {
        TestStore::with_guard(self.store, self.guard)
    }
}

/// Zero when no two rows of one organizer that the exclusion constraint
/// keeps apart (active bookings and holds not marked ended) overlap.
/// Recomputes the occupied intervals from meeting and buffers, so it does
/// not trust the stored bounds, and checks those too.
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

/// Active bookings of an event type starting in `[from, to)`, counted by
/// SQL: what a limit allows.
pub async fn active_bookings_of(
    pool: &PgPool,
    event_type: &str,
    from: chrono::DateTime<chrono::Utc>,
    to: chrono::DateTime<chrono::Utc>,
) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM bookings WHERE event_type_id = $1 AND deleted_at IS NULL \
         AND start_time >= $2 AND start_time < $3",
    )
    .bind(event_type)
    .bind(from)
    .bind(to)
    .fetch_one(pool)
    .await
    .expect("count an event type's bookings")
}

/// The organizers of these tests live in Berlin, an hour ahead of UTC in
/// winter, so late bookings fall on the next local day (see
/// `list_ranges_are_half_open_utc`).
pub async fn organizer(store: &dyn BookingStore, username: &str) -> Organizer {
    booking_core::testkit::fixtures::organizer_in(store, username, chrono_tz::Europe::Berlin).await
}

/// The SQLSTATE and constraint of a raw statement the database refused.
pub fn refusal(result: Result<sqlx::postgres::PgQueryResult, sqlx::Error>) -> (String, String) {
    let error = result.expect_err("the database must refuse this");
    let db = error.as_database_error().expect("a database error");
    (
        db.code().unwrap_or_default().into_owned(),
        db.constraint().unwrap_or_default().to_owned(),
    )
}

/// The migrations the history table records, in order.
pub async fn migration_versions(pool: &PgPool) -> Vec<i64> {
    sqlx::query_scalar("SELECT version FROM booking_postgres_migrations ORDER BY version")
        .fetch_all(pool)
        .await
        .expect("the migration history")
}

/// The event of kind `kind` about `booking` (a new id, occurring at the
/// fixtures' creation instant), as the service writes it with a change.
pub fn event_of(
    booking: &booking_core::booking::Booking,
    kind: booking_core::event::BookingEventKind,
) -> booking_core::event::EventRecord {
    booking_core::event::BookingEvent {
        seq: 0,
        id: booking_core::event::EventId::generate(),
        kind,
        occurred_at: booking_core::testkit::fixtures::created(),
        booking: booking.clone(),
        previous_time: None,
        cancelled_by: None,
    }
    .to_record()
}

/// A claim of the idempotency key `key` for creating a booking of
/// `organizer`, at the fixtures' creation instant, with the lifetime and
/// staleness the service uses.
pub fn claim_of(
    organizer: booking_core::organizer::OrganizerId,
    key: &str,
) -> booking_core::idempotency::IdempotencyClaim {
    use booking_core::idempotency::{
        IdempotencyClaim, IdempotencyScope, KEY_LIFETIME, STALE_CLAIM,
    };
    let now = booking_core::testkit::fixtures::created();
    IdempotencyClaim {
        scope: IdempotencyScope {
            organizer_id: organizer,
            operation: "create".into(),
            key_hash: booking_core::secret::TokenHash::of(key),
        },
        fingerprint: booking_core::secret::TokenHash::of("request"),
        now,
        expires_at: now + KEY_LIFETIME,
        stale_before: now - STALE_CLAIM,
    }
}

/// Another client's open transaction holding a lock (taken by the statement
/// it was made with) until [`Blocker::release`]: a statement of the store
/// that needs the lock waits inside the database meanwhile.
pub struct Blocker {
    connection: PgConnection,
}

impl Blocker {
    /// A transaction on a connection of its own that ran `statement`.
    pub async fn holding(statement: String) -> Self {
        let mut connection = admin_connection().await;
        sqlx::query("BEGIN")
            .execute(&mut connection)
            .await
            .expect("begin the blocking transaction");
        sqlx::query(sqlx::AssertSqlSafe(statement))
            .execute(&mut connection)
            .await
            .expect("take the blocking lock");
        Blocker { connection }
    }

    /// Holding `schema`'s `bookings` table in EXCLUSIVE mode: every insert
    /// waits (reads do not).
    pub async fn bookings_of(schema: &str) -> Self {
        Self::holding(format!(
            "LOCK TABLE \"{schema}\".bookings IN EXCLUSIVE MODE"
        ))
        .await
    }

    /// Rolls the transaction back, which lets the waiting statements on.
    pub async fn release(mut self) {
        sqlx::query("ROLLBACK")
            .execute(&mut self.connection)
            .await
            .expect("roll the blocking transaction back");
    }
}

/// `probe`'s first `Some`, tried every 25 ms for up to 30 s; `None` if it
/// never came.
pub async fn poll<T, F, Fut>(mut probe: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    for _ in 0..1200 {
        if let Some(found) = probe().await {
            return Some(found);
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    None
}

/// A backend of `application_name` that waits on a lock now, other than
/// those in `except`.
pub async fn lock_waiter(pool: &PgPool, application_name: &str, except: &[i32]) -> Option<i32> {
    sqlx::query_scalar(
        "SELECT pid FROM pg_stat_activity WHERE application_name = $1 \
         AND wait_event_type = 'Lock' AND NOT (pid = ANY($2)) LIMIT 1",
    )
    .bind(application_name)
    .bind(except)
    .fetch_optional(pool)
    .await
    .expect("read pg_stat_activity")
}

/// Whether backend `pid` still exists.
pub async fn backend_alive(pool: &PgPool, pid: i32) -> bool {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1)")
        .bind(pid)
        .fetch_one(pool)
        .await
        .expect("read pg_stat_activity")
}
