//! The service on PostgreSQL with the Redis slot lock, started from
//! configuration (`DATABASE_URL` with a `search_path` option, `REDIS_URL`),
//! over real HTTP. Needs both servers; fails, never skips, without them.
#![cfg(all(feature = "postgres", feature = "redis"))]

mod common;

use std::sync::Arc;

use common::pg;
use sqlx::AssertSqlSafe;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_redis_full_flow_over_http() {
    let (server, schema) = pg::server().await;
    common::flow::full_flow(&server).await;

    // The data is where an operator looks for it: the seed's `bookings`
    // table, with its column names, in the schema the search_path selected.
    let mut admin = pg::admin().await;
    let (active, cancelled): (i64, i64) = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT count(*) FILTER (WHERE deleted_at IS NULL), count(*) FILTER (WHERE deleted_at IS NOT NULL) \
         FROM \"{}\".bookings",
        schema.name()
    )))
    .fetch_one(&mut admin)
    .await
    .expect("query the bookings table");
    assert_eq!((active, cancelled), (1, 2));
    let columns: Vec<String> = sqlx::query_scalar(
        "SELECT column_name::text FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'bookings'",
    )
    .bind(schema.name())
    .fetch_all(&mut admin)
    .await
    .expect("columns");
    for column in [
        "id",
        "organizer_id",
        "attendant_name",
        "attendant_email",
        "metadata",
        "title",
        "description",
        "start_time",
        "end_time",
        "created_at",
        "updated_at",
        "deleted_at",
    ] {
        assert!(
            columns.iter().any(|c| c == column),
            "bookings.{column} in {columns:?}"
        );
    }
    drop(server);
    pg::drop_schema(schema).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_redis_event_types_and_schedules_over_http() {
    let (server, schema) = pg::server().await;
    common::event_types::walk(&server).await;
    drop(server);
    pg::drop_schema(schema).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_redis_fifty_clients_race_for_one_slot() {
    let (server, schema) = pg::server().await;
    let server = Arc::new(server);
    common::flow::race(Arc::clone(&server)).await;
    drop(server);
    pg::drop_schema(schema).await;
}
