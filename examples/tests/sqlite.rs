//! The service on SQLite (the default), started from configuration, over
//! real HTTP.
#![cfg(feature = "sqlite")]

mod common;

use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_full_flow_over_http() {
    let server = common::sqlite_server().await;
    common::flow::full_flow(&server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_event_types_and_schedules_over_http() {
    let server = common::sqlite_server().await;
    common::event_types::walk(&server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_fifty_clients_race_for_one_slot() {
    let server = Arc::new(common::sqlite_server().await);
    common::flow::race(server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_data_survives_a_restart_on_the_same_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("keep.db").display());
    let username = common::unique("keeper");
    {
        let server = common::start_with_env(&[("DATABASE_URL", url.clone())], None).await;
        let token = server.register(&username, "UTC").await;
        server.open_all_week(&token, "UTC").await;
    }
    let server = common::start_with_env(&[("DATABASE_URL", url)], Some(dir)).await;
    let day = common::tomorrow(chrono_tz::UTC);
    let slots = server
        .slot_starts(&username, common::whole_day(chrono_tz::UTC, day))
        .await;
    assert_eq!(slots.len(), 24);
}
