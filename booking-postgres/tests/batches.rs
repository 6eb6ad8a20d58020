//! Booking inserts made together (`PostgresOptions::insert_batches`). A
//! batch is composed here on purpose: a first booking waits in the
//! database (the `bookings` table is held by another transaction) with the
//! store's one writer permit, so every booking started meanwhile queues;
//! once they are all queued the table is let go, and the next caller takes
//! them all into one statement. Each row of that statement must get the
//! answer it would get alone, and write what it would write alone.

mod common;

use std::future::Future;

use booking_core::booking::{Booking, NewBooking};
use booking_core::event::BookingEventKind;
use booking_core::event_type::EventTypeId;
use booking_core::hold::NewHold;
use booking_core::idempotency::IdempotencyCompletion;
use booking_core::store::{BookingStore, StoreError};
use booking_core::testkit::fixtures::{at, created, new_booking, new_hold, range};
use booking_postgres::{PostgresStore, testing};
use chrono::Duration;
use common::{Blocker, TestDb, organizer};
use tokio::task::JoinHandle;

/// A store on `db` with one writer permit, and a batch being composed on
/// it: the first booking (at `at(6, 0)` of `organizer`) waits in the
/// database until [`Composing::run`].
struct Composing {
    store: PostgresStore,
    blocker: Blocker,
    first: JoinHandle<Result<Booking, StoreError>>,
    started: Vec<JoinHandle<Result<String, StoreError>>>,
}

impl Composing {
    async fn start(db: &TestDb, organizer: booking_core::organizer::OrganizerId) -> Self {
        let application_name = format!("bk-batch-{:08x}", rand::random::<u32>());
        let store =
            PostgresStore::from_pool(common::pool_for(&db.schema, 4, &application_name).await)
                .with_insert_batches(1);
        let blocker = Blocker::bookings_of(&db.schema).await;
        let first = tokio::spawn({
            let store = store.clone();
            async move {
                store
                    .insert_booking(new_booking(organizer, range(at(6, 0), 30), 0, 0))
                    .await
            }
        });
        common::poll(|| common::lock_waiter(&db.pool, &application_name, &[]))
            .await
            .expect("the first booking waits for the table");
        Composing {
            store,
            blocker,
            first,
            started: Vec::new(),
        }
    }

    /// Starts `insert` (on its own task), which queues for the batch.
    fn add<F, Fut>(&mut self, insert: F)
    where
        F: FnOnce(PostgresStore) -> Fut,
        Fut: Future<Output = Result<String, StoreError>> + Send + 'static,
    {
        self.started.push(tokio::spawn(insert(self.store.clone())));
    }

    fn add_booking(&mut self, booking: NewBooking) {
        self.add(|store| async move {
            store
                .insert_booking(booking)
                .await
                .map(|b| b.id.to_string())
        });
    }

    /// Waits until every started insert is queued (an abandoned one stays
    /// in the queue until a batch takes it), lets the first booking go,
    /// and returns what each started insert returned, in order.
    async fn run(self) -> Vec<Result<String, StoreError>> {
        let queued = self.started.len();
        common::poll(|| async { (testing::queued_inserts(&self.store) >= queued).then_some(()) })
            .await
            .expect("every insert queues behind the first");
        self.blocker.release().await;
        self.first
            .await
            .unwrap()
            .expect("the first booking is booked");
        let mut results = Vec::new();
        for started in self.started {
            results.push(started.await.unwrap());
        }
        assert_eq!(testing::queued_inserts(&self.store), 0);
        results
    }
}

/// Rows of `bookings` with these ids.
async fn rows_with_ids(db: &TestDb, ids: &[&str]) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM bookings WHERE id = ANY($1)")
        .bind(ids.iter().map(|id| (*id).to_owned()).collect::<Vec<_>>())
        .fetch_one(&db.pool)
        .await
        .unwrap()
}

/// One batch with a row of every kind: each is inserted or refused as it
/// would be alone, and only inserted rows leave anything behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_row_of_a_batch_gets_its_own_answer() {
    let db = TestDb::new().await;
    let ada = organizer(&db.store, "ada").await;
    let bob = organizer(&db.store, "bob").await;
    db.store
        .insert_booking(new_booking(ada.id, range(at(8, 0), 60), 0, 0))
        .await
        .unwrap();
    // A hold that expired before the batch's bookings were made, still
    // in the table: the exclusion constraint sees it.
    let mut expired = new_hold(
        ada.id,
        range(at(15, 0), 30),
        0,
        0,
        created() - Duration::minutes(1),
        None,
    );
    expired.created_at = created() - Duration::minutes(10);
    db.store
        .insert_hold(NewHold {
            hold: expired,
            limits: Vec::new(),
            max_per_client: 3,
        })
        .await
        .unwrap();
    let claim = common::claim_of(ada.id, "batch-key");
    db.store.claim_idempotency_key(&claim).await.unwrap();

    let mut batch = Composing::start(&db, ada.id).await;
    let free = new_booking(ada.id, range(at(10, 0), 30), 0, 0);
    let overlapping_free = new_booking(ada.id, range(at(10, 15), 30), 0, 0);
    let other_organizer = new_booking(bob.id, range(at(10, 0), 30), 0, 0);
    let taken = new_booking(ada.id, range(at(8, 30), 30), 0, 0);
    let stale = NewBooking {
        config_version: Some(0),
        ..new_booking(ada.id, range(at(12, 0), 30), 0, 0)
    };
    let mut current = NewBooking {
        config_version: Some(1),
        ..new_booking(ada.id, range(at(13, 0), 30), 0, 0)
    };
    current.event = Some(common::event_of(
        &Booking::from_new(current.clone()),
        BookingEventKind::Created,
    ));
    current.idempotency = Some(IdempotencyCompletion {
        scope: claim.scope.clone(),
        outcome: "booked".into(),
    });
    let behind_expired_hold = new_booking(ada.id, range(at(15, 0), 30), 0, 0);
    let hold = new_hold(
        bob.id,
        range(at(11, 0), 30),
        0,
        0,
        created() + Duration::minutes(5),
        None,
    );
    let rows = [
        &free,
        &overlapping_free,
        &other_organizer,
        &taken,
        &stale,
        &current,
        &behind_expired_hold,
    ];
    for booking in rows {
        batch.add_booking(booking.clone());
    }
    batch.add({
        let hold = hold.clone();
        |store| async move {
            store
                .insert_hold(NewHold {
                    hold,
                    limits: Vec::new(),
                    max_per_client: 3,
                })
                .await
                .map(|h| h.id.to_string())
        }
    });
    let results = batch.run().await;

    let ok = |i: usize| match &results[i] {
        Ok(id) => id.clone(),
        Err(error) => panic!("row {i} refused: {error:?}"),
    };
    assert_eq!(ok(0), free.id.to_string());
    assert!(
        matches!(results[1], Err(StoreError::Conflict)),
        "an earlier row of the same batch overlaps: {:?}",
        results[1]
    );
    assert_eq!(ok(2), other_organizer.id.to_string());
    assert!(
        matches!(results[3], Err(StoreError::Conflict)),
        "{:?}",
        results[3]
    );
    assert!(
        matches!(results[4], Err(StoreError::ConfigChanged)),
        "decided on version 0, the organizer is at 1: {:?}",
        results[4]
    );
    assert_eq!(ok(5), current.id.to_string());
    assert_eq!(ok(6), behind_expired_hold.id.to_string());
    assert_eq!(ok(7), hold.id.to_string());

    let refused = [
        overlapping_free.id.to_string(),
        taken.id.to_string(),
        stale.id.to_string(),
    ];
    let refused: Vec<&str> = refused.iter().map(String::as_str).collect();
    assert_eq!(rows_with_ids(&db, &refused).await, 0);
    let events: Vec<String> =
        sqlx::query_scalar("SELECT booking_id FROM booking_events ORDER BY seq")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    assert_eq!(
        events,
        vec![current.id.to_string()],
        "only the row with an event wrote one"
    );
    let outcome: Option<String> =
        sqlx::query_scalar("SELECT outcome FROM idempotency_keys WHERE key_hash = $1")
            .bind(claim.scope.key_hash.to_hex())
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(outcome.as_deref(), Some("booked"));
    assert_eq!(common::overlapping_active_pairs(&db.pool).await, 0);
}

/// A batch whose statement fails (here: one row's event type does not
/// exist, a foreign-key violation that aborts the whole statement) writes
/// nothing; every row is then tried alone and gets the answer it would get
/// alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_batch_leaves_each_row_to_be_tried_alone() {
    let db = TestDb::new().await;
    let ada = organizer(&db.store, "ada").await;

    let mut batch = Composing::start(&db, ada.id).await;
    let first = new_booking(ada.id, range(at(10, 0), 30), 0, 0);
    let orphan = NewBooking {
        event_type_id: EventTypeId::generate(),
        ..new_booking(ada.id, range(at(11, 0), 30), 0, 0)
    };
    let last = new_booking(ada.id, range(at(12, 0), 30), 0, 0);
    for booking in [&first, &orphan, &last] {
        batch.add_booking(booking.clone());
    }
    let results = batch.run().await;

    assert_eq!(
        results[0].as_deref().ok(),
        Some(first.id.to_string().as_str())
    );
    assert_eq!(
        results[2].as_deref().ok(),
        Some(last.id.to_string().as_str())
    );
    // Alone, as without batching: its event type was deleted since the
    // caller read it, so it is stored without one.
    assert_eq!(
        results[1].as_deref().ok(),
        Some(orphan.id.to_string().as_str())
    );
    let event_types: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT id, event_type_id FROM bookings WHERE id = ANY($1) ORDER BY id")
            .bind(vec![first.id.to_string(), orphan.id.to_string()])
            .fetch_all(&db.pool)
            .await
            .unwrap();
    let mut expected = vec![
        (first.id.to_string(), Some(first.event_type_id.to_string())),
        (orphan.id.to_string(), None),
    ];
    expected.sort();
    assert_eq!(event_types, expected);
}

/// A booking whose caller stopped waiting while it was queued is not
/// written; the rest of its batch is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_booking_abandoned_while_queued_is_not_written() {
    let db = TestDb::new().await;
    let ada = organizer(&db.store, "ada").await;

    let mut batch = Composing::start(&db, ada.id).await;
    let abandoned = new_booking(ada.id, range(at(10, 0), 30), 0, 0);
    let kept = new_booking(ada.id, range(at(11, 0), 30), 0, 0);
    batch.add_booking(abandoned.clone());
    batch.add_booking(kept.clone());
    common::poll(|| async { (testing::queued_inserts(&batch.store) == 2).then_some(()) })
        .await
        .expect("both queued");
    let gone = batch.started.remove(0);
    gone.abort();
    assert!(gone.await.unwrap_err().is_cancelled());
    let results = batch.run().await;

    assert_eq!(
        results[0].as_deref().ok(),
        Some(kept.id.to_string().as_str())
    );
    let abandoned_id = abandoned.id.to_string();
    assert_eq!(rows_with_ids(&db, &[abandoned_id.as_str()]).await, 0);
}
