//! The connections a store keeps apart from its pool for bookings
//! (`PostgresOptions::booking_connections`): lent without a test, so they
//! must be replaced when they die while idle, and never lent again after a
//! statement abandoned half-way.

mod common;

use std::time::Duration as StdDuration;

use booking_core::store::BookingStore;
use booking_core::testkit::fixtures::{at, new_booking, range};
use booking_postgres::PostgresStore;
use common::{Blocker, TestDb, organizer};

/// Every backend of `application_name`, terminated; how many there were.
async fn terminate_all(db: &TestDb, application_name: &str) -> usize {
    let killed: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
    )
    .bind(application_name)
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert!(killed.iter().all(|&k| k));
    killed.len()
}

/// A server restart (here: every backend of the store terminated) while
/// the store's connections sit idle: the next booking finds its connection
/// dead, and succeeds on a new one, once, with no error to its caller.
#[tokio::test(flavor = "multi_thread")]
async fn a_booking_after_its_connections_died_while_idle_succeeds() {
    let db = TestDb::new().await;
    let ada = organizer(&db.store, "ada").await;
    let application_name = format!("bk-lanes-{:08x}", rand::random::<u32>());
    let store = PostgresStore::from_pool(common::pool_for(&db.schema, 2, &application_name).await)
        .with_booking_connections(2);
    store
        .insert_booking(new_booking(ada.id, range(at(9, 0), 30), 0, 0))
        .await
        .unwrap();
    assert!(terminate_all(&db, &application_name).await >= 1);

    let next = new_booking(ada.id, range(at(10, 0), 30), 0, 0);
    let booked = store
        .insert_booking(next.clone())
        .await
        .expect("booked on a new connection");
    assert_eq!(booked.id, next.id);
    assert_eq!(common::booking_rows(&db.pool).await, 2);
    // And the one after that is booked as usual.
    store
        .insert_booking(new_booking(ada.id, range(at(11, 0), 30), 0, 0))
        .await
        .unwrap();
    assert_eq!(common::overlapping_active_pairs(&db.pool).await, 0);
    store.pool().close().await;
}

/// A booking abandoned while its statement waits in the database (its
/// caller gave up): its connection is closed, not lent to the next booking
/// in an unknown state. The next booking gets its own answer, and the
/// abandoned connection's backend is gone once the statement ends.
#[tokio::test(flavor = "multi_thread")]
async fn a_connection_abandoned_mid_statement_is_not_lent_again() {
    let db = TestDb::new().await;
    let ada = organizer(&db.store, "ada").await;
    let application_name = format!("bk-lanes-{:08x}", rand::random::<u32>());
    let store = PostgresStore::from_pool(common::pool_for(&db.schema, 1, &application_name).await)
        .with_booking_connections(1);
    store
        .insert_booking(new_booking(ada.id, range(at(8, 0), 30), 0, 0))
        .await
        .unwrap();
    let lane_pid: i32 = sqlx::query_scalar(
        "SELECT pid FROM pg_stat_activity WHERE application_name = $1 \
         AND query LIKE 'WITH settings AS%'",
    )
    .bind(&application_name)
    .fetch_one(&db.pool)
    .await
    .unwrap();

    let blocker = Blocker::bookings_of(&db.schema).await;
    let abandoned = tokio::time::timeout(
        StdDuration::from_millis(300),
        store.insert_booking(new_booking(ada.id, range(at(9, 0), 30), 0, 0)),
    )
    .await;
    assert!(abandoned.is_err(), "the insert waits on the lock");
    blocker.release().await;

    let next = new_booking(ada.id, range(at(10, 0), 30), 0, 0);
    let booked = store.insert_booking(next.clone()).await.unwrap();
    assert_eq!(booked.id, next.id, "its own answer");
    assert_eq!(booked.time, next.time);
    let new_pid: i32 = sqlx::query_scalar(
        "SELECT pid FROM pg_stat_activity WHERE application_name = $1 \
         AND query LIKE 'WITH settings AS%' AND pid <> $2",
    )
    .bind(&application_name)
    .bind(lane_pid)
    .fetch_one(&db.pool)
    .await
    .expect("the next booking ran on another connection");
    assert_ne!(new_pid, lane_pid);
    // The abandoned backend finishes its statement, finds its client gone
    // and exits.
    let gone =
        common::poll(|| async { (!common::backend_alive(&db.pool, lane_pid).await).then_some(()) })
            .await;
    assert!(gone.is_some(), "the abandoned connection was closed");
    assert_eq!(common::overlapping_active_pairs(&db.pool).await, 0);
    store.pool().close().await;
}

/// When every booking connection stays busy for longer than the pool's
/// acquire timeout, the next booking fails as the pool would (a backend
/// error) and writes nothing, instead of waiting without end; the busy one
/// still completes.
#[tokio::test(flavor = "multi_thread")]
async fn a_booking_waits_for_a_connection_no_longer_than_the_pool_would() {
    let db = TestDb::new().await;
    let ada = organizer(&db.store, "ada").await;
    let application_name = format!("bk-lanes-{:08x}", rand::random::<u32>());
    let url: sqlx::postgres::PgConnectOptions =
        booking_postgres::testing::database_url().parse().unwrap();
    let pool = booking_postgres::pool_options()
        .max_connections(2)
        .acquire_timeout(StdDuration::from_millis(300))
        .connect_with(
            booking_postgres::session_options(url)
                .options([("search_path", db.schema.as_str())])
                .application_name(&application_name),
        )
        .await
        .unwrap();
    let store = PostgresStore::from_pool(pool).with_booking_connections(1);

    let blocker = Blocker::bookings_of(&db.schema).await;
    let first = tokio::spawn({
        let store = store.clone();
        async move {
            store
                .insert_booking(new_booking(ada.id, range(at(9, 0), 30), 0, 0))
                .await
        }
    });
    let waiting = common::poll(|| common::lock_waiter(&db.pool, &application_name, &[])).await;
    assert!(
        waiting.is_some(),
        "the first booking waits on the lock, on the one booking connection"
    );

    let second = tokio::time::timeout(
        StdDuration::from_secs(30),
        store.insert_booking(new_booking(ada.id, range(at(10, 0), 30), 0, 0)),
    )
    .await
    .expect("the second booking gives up after the acquire timeout");
    assert!(
        matches!(second, Err(booking_core::store::StoreError::Backend(_))),
        "{second:?}"
    );
    blocker.release().await;
    first.await.unwrap().expect("the first booking completes");
    assert_eq!(common::booking_rows(&db.pool).await, 1);
    store.pool().close().await;
}
