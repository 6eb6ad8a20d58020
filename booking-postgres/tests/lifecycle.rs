//! PostgreSQL-specific behaviour of the lifecycle beyond the conformance
//! suite: holds are rows of `bookings` that the one exclusion constraint
//! keeps apart from bookings (even for raw SQL), expired holds never block
//! anything and are marked ended on the way, and a booking whose event type
//! was deleted meanwhile is stored without it, with its event and its
//! idempotency key.

mod common;

use booking_core::booking::{BookingId, LimitCheck, NewBooking};
use booking_core::event::BookingEventKind;
use booking_core::event_type::{EventType, EventTypeId, LimitPeriod};
use booking_core::hold::{Hold, NewHold};
use booking_core::idempotency::{ClaimOutcome, IdempotencyCompletion};
use booking_core::organizer::OrganizerId;
use booking_core::secret::TokenHash;
use booking_core::store::{BookingStore, ConfigChange, Reschedule, StoreError};
use booking_core::testkit::fixtures::{
    all_active, at, created, default_event_type_id, event_type, new_booking, new_hold, range,
};
use booking_core::time::TimeRange;
use booking_postgres::PostgresStore;
use chrono::{DateTime, Duration, Utc};
use common::{TestDb, organizer, refusal};

/// A hold of `time` with its own token `token`, expiring at `expires_at`.
fn hold(organizer: OrganizerId, time: TimeRange, token: &str, expires_at: DateTime<Utc>) -> Hold {
    Hold {
        token_hash: TokenHash::of(token),
        ..new_hold(organizer, time, 0, 0, expires_at, None)
    }
}

fn unlimited(hold: Hold) -> NewHold {
    NewHold {
        hold,
        limits: Vec::new(),
        max_per_client: 3,
    }
}

/// The day's limit of 10, as the service would send it.
fn day_limit() -> Vec<LimitCheck> {
    vec![LimitCheck {
        period: LimitPeriod::Day,
        starts_within: TimeRange::new(at(0, 0), at(24, 0)).unwrap(),
        max: 10,
    }]
}

#[tokio::test(flavor = "multi_thread")]
async fn holds_and_bookings_are_kept_apart_by_one_constraint_even_from_raw_sql() {
    let db = TestDb::new().await;
    let ada = organizer(&db.store, "ada").await;
    let ada_id = ada.id.to_string();
    db.store
        .insert_booking(new_booking(ada.id, range(at(10, 0), 60), 0, 0))
        .await
        .unwrap();
    let expires = created() + Duration::minutes(5);
    let held = db
        .store
        .insert_hold(unlimited(hold(ada.id, range(at(14, 0), 30), "h1", expires)))
        .await
        .unwrap();

    // A hold written by hand over the booking, a booking written by hand
    // over the hold: the exclusion constraint refuses both.
    let raw_hold = sqlx::query(
        "INSERT INTO bookings (id, organizer_id, event_type_id, start_time, end_time, \
            occupied_start, occupied_end, cancel_token_hash, status, hold_expires_at) \
         VALUES ($1, $2, $2, $3, $4, $3, $4, 'x', 'held', $5)",
    )
    .bind(BookingId::generate().to_string())
    .bind(&ada_id)
    .bind(at(10, 30))
    .bind(at(11, 30))
    .bind(expires)
    .execute(&db.pool)
    .await;
    assert_eq!(
        refusal(raw_hold),
        ("23P01".to_owned(), "bookings_no_overlap".to_owned())
    );
    let raw_booking = sqlx::query(
        "INSERT INTO bookings (id, organizer_id, event_type_slug, attendant_name, attendant_email, \
            title, start_time, end_time, occupied_start, occupied_end, cancel_token_hash) \
         VALUES ($1, $2, 'default', 'Mallory', 'm@example.com', 'Sneaky', $3, $4, $3, $4, 'x')",
    )
    .bind(BookingId::generate().to_string())
    .bind(&ada_id)
    .bind(at(14, 15))
    .bind(at(14, 45))
    .execute(&db.pool)
    .await;
    assert_eq!(
        refusal(raw_booking),
        ("23P01".to_owned(), "bookings_no_overlap".to_owned())
    );

    // A row is a booking or a hold, never something in between.
    let hold_with_attendee = sqlx::query(
        "INSERT INTO bookings (id, organizer_id, event_type_id, attendant_name, start_time, \
            end_time, occupied_start, occupied_end, cancel_token_hash, status, hold_expires_at) \
         VALUES ($1, $2, $2, 'Grace', $3, $4, $3, $4, 'x', 'held', $5)",
    )
    .bind(BookingId::generate().to_string())
    .bind(&ada_id)
    .bind(at(20, 0))
    .bind(at(20, 30))
    .bind(expires)
    .execute(&db.pool)
    .await;
    assert_eq!(
        refusal(hold_with_attendee),
        ("23514".to_owned(), "bookings_status_shape".to_owned())
    );
    let booking_without_attendee = sqlx::query(
        "INSERT INTO bookings (id, organizer_id, event_type_slug, title, start_time, end_time, \
            occupied_start, occupied_end, cancel_token_hash) \
         VALUES ($1, $2, 'default', 'Nobody', $3, $4, $3, $4, 'x')",
    )
    .bind(BookingId::generate().to_string())
    .bind(&ada_id)
    .bind(at(21, 0))
    .bind(at(21, 30))
    .execute(&db.pool)
    .await;
    assert_eq!(
        refusal(booking_without_attendee),
        ("23514".to_owned(), "bookings_status_shape".to_owned())
    );

    // The stored hold, as an operator sees it, and never as a booking.
    let (status, token, expiry, name): (String, String, DateTime<Utc>, Option<String>) =
        sqlx::query_as(
            "SELECT status, cancel_token_hash, hold_expires_at, attendant_name \
             FROM bookings WHERE id = $1",
        )
        .bind(held.id.to_string())
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(
        (status.as_str(), token, expiry, name),
        ("held", TokenHash::of("h1").to_hex(), expires, None)
    );
    let hold_as_booking: BookingId = held.id.to_string().parse().unwrap();
    assert_eq!(db.store.booking(hold_as_booking).await.unwrap(), None);
    assert_eq!(all_active(&db.store, ada.id).await.len(), 1);
    assert_eq!(common::overlapping_active_pairs(&db.pool).await, 0);
}

/// Every kind of write over holds that expired at its instant: the hold
/// blocked it while it lasted, blocks nothing from its expiry on, and is
/// marked ended on the way (still found by its token until purged).
#[tokio::test(flavor = "multi_thread")]
async fn an_expired_hold_never_blocks_an_insert_a_move_or_a_hold() {
    let db = TestDb::new().await;
    let ada = organizer(&db.store, "ada").await;
    let expires = created() + Duration::minutes(5);
    let slots = [
        ("insert", range(at(9, 0), 30)),
        ("limited", range(at(11, 0), 30)),
        ("hold", range(at(13, 0), 30)),
        ("move", range(at(15, 0), 30)),
    ];
    for (token, slot) in slots {
        db.store
            .insert_hold(unlimited(hold(ada.id, slot, token, expires)))
            .await
            .unwrap();
    }
    let mover = db
        .store
        .insert_booking(new_booking(ada.id, range(at(17, 0), 30), 0, 0))
        .await
        .unwrap();

    let writes = |at_instant: DateTime<Utc>| {
        let store = db.store.clone();
        let mover = mover.clone();
        async move {
            let insert = store
                .insert_booking(NewBooking {
                    created_at: at_instant,
                    ..new_booking(ada.id, slots[0].1, 0, 0)
                })
                .await
                .map(drop);
            let limited = store
                .insert_booking(NewBooking {
                    created_at: at_instant,
                    limits: day_limit(),
                    ..new_booking(ada.id, slots[1].1, 0, 0)
                })
                .await
                .map(drop);
            let hold = store
                .insert_hold(unlimited(Hold {
                    created_at: at_instant,
                    ..hold(ada.id, slots[2].1, "new", at_instant + Duration::minutes(5))
                }))
                .await
                .map(drop);
            let moved = store
                .reschedule_booking(Reschedule {
                    id: mover.id,
                    organizer_id: ada.id,
                    expected_sequence: 0,
                    time: slots[3].1,
                    buffer_before: Duration::zero(),
                    buffer_after: Duration::zero(),
                    limits: day_limit(),
                    at: at_instant,
                    event: None,
                })
                .await
                .map(drop);
            [insert, limited, hold, moved]
        }
    };
    for (what, outcome) in ["insert", "limited insert", "hold", "move"]
        .iter()
        .zip(writes(expires - Duration::seconds(1)).await)
    {
        assert!(
            matches!(outcome, Err(StoreError::Conflict)),
            "a live hold blocks the {what}: {outcome:?}"
        );
    }
    for (what, outcome) in ["insert", "limited insert", "hold", "move"]
        .iter()
        .zip(writes(expires).await)
    {
        assert!(
            outcome.is_ok(),
            "an expired hold blocks no {what}: {outcome:?}"
        );
    }

    // The expired holds are marked ended at their expiry, not deleted.
    let ended: Vec<(String, Option<DateTime<Utc>>)> = sqlx::query_as(
        "SELECT cancel_token_hash, deleted_at FROM bookings WHERE status = 'held' \
         AND hold_expires_at = $1 ORDER BY start_time",
    )
    .bind(expires)
    .fetch_all(&db.pool)
    .await
    .unwrap();
    let expected: Vec<_> = slots
        .iter()
        .map(|(token, _)| (TokenHash::of(token).to_hex(), Some(expires)))
        .collect();
    assert_eq!(ended, expected);
    let found = db
        .store
        .hold_by_token_hash(&TokenHash::of("insert"))
        .await
        .unwrap()
        .expect("an expired hold is still found by its token");
    assert_eq!(found.expires_at, expires);
    assert_eq!(common::overlapping_active_pairs(&db.pool).await, 0);
    assert_eq!(
        db.store.purge_expired(expires).await.unwrap(),
        4,
        "the four expired holds go; the new one lasts"
    );
}

/// The contract: a booking whose event type no longer exists when it is
/// inserted is stored without an event type id, keeping its slug, with its
/// event and idempotency completion, with or without limits. A hold of it
/// cannot be (a hold always names its event type); deleting an event type
/// ends its holds.
#[tokio::test(flavor = "multi_thread")]
async fn a_booking_of_a_deleted_event_type_is_stored_without_it() {
    let db = TestDb::new().await;
    let ada = organizer(&db.store, "ada").await;
    for (hour, limits) in [(9, Vec::new()), (11, day_limit())] {
        let claim = common::claim_of(ada.id, &format!("key-{hour}"));
        let scope = claim.scope.clone();
        assert_eq!(
            db.store.claim_idempotency_key(&claim).await.unwrap(),
            ClaimOutcome::Claimed
        );
        let mut booking = NewBooking {
            event_type_id: EventTypeId::generate(),
            event_type_slug: "gone".parse().unwrap(),
            limits,
            idempotency: Some(IdempotencyCompletion {
                scope,
                outcome: format!("booked at {hour}"),
            }),
            ..new_booking(ada.id, range(at(hour, 0), 60), 0, 0)
        };
        let event = common::event_of(
            &booking_core::booking::Booking::from_new(booking.clone()),
            BookingEventKind::Created,
        );
        booking.event = Some(event.clone());
        let stored = db.store.insert_booking(booking).await.unwrap();
        assert_eq!(stored.event_type_id, None);
        assert_eq!(stored.event_type_slug.as_str(), "gone");
        assert_eq!(db.store.booking(stored.id).await.unwrap(), Some(stored));
        let events = db.store.events_after(0, 100).await.unwrap();
        assert_eq!(events.last().map(|e| &e.record), Some(&event));
        assert_eq!(
            db.store.claim_idempotency_key(&claim).await.unwrap(),
            ClaimOutcome::Done(format!("booked at {hour}"))
        );
    }

    // Holds: of an event type that does not exist, of an organizer that
    // does not exist (with and without a client cap).
    let stray = Hold {
        event_type_id: EventTypeId::generate(),
        ..hold(
            ada.id,
            range(at(13, 0), 30),
            "stray",
            created() + Duration::minutes(5),
        )
    };
    let refused = db.store.insert_hold(unlimited(stray)).await;
    assert!(
        matches!(refused, Err(StoreError::ConfigChanged)),
        "{refused:?}"
    );
    let ghost = OrganizerId::generate();
    for client in [None, Some("client".to_owned())] {
        let orphan = Hold {
            client,
            ..hold(
                ghost,
                range(at(13, 0), 30),
                "orphan",
                created() + Duration::minutes(5),
            )
        };
        let refused = db.store.insert_hold(unlimited(orphan)).await;
        assert!(
            matches!(refused, Err(StoreError::OrganizerNotFound(id)) if id == ghost),
            "{refused:?}"
        );
    }

    // Deleting an event type ends its holds (its slot is free at once).
    let other = EventType {
        id: EventTypeId::generate(),
        slug: "other".parse().unwrap(),
        ..event_type(ada.id)
    };
    db.store
        .update_config(ada.id, 1, vec![ConfigChange::PutEventType(other.clone())])
        .await
        .unwrap();
    let expires = created() + Duration::minutes(5);
    db.store
        .insert_hold(unlimited(Hold {
            event_type_id: other.id,
            ..hold(ada.id, range(at(15, 0), 30), "other", expires)
        }))
        .await
        .unwrap();
    db.store
        .update_config(ada.id, 2, vec![ConfigChange::DeleteEventType(other.id)])
        .await
        .unwrap();
    assert_eq!(
        db.store
            .hold_by_token_hash(&TokenHash::of("other"))
            .await
            .unwrap(),
        None
    );
    db.store
        .insert_booking(new_booking(ada.id, range(at(15, 0), 30), 0, 0))
        .await
        .expect("the deleted event type's hold no longer blocks");
    assert_eq!(
        db.store
            .booked_starts(
                ada.id,
                default_event_type_id(ada.id),
                TimeRange::new(at(0, 0), at(24, 0)).unwrap(),
                created()
            )
            .await
            .unwrap(),
        [at(15, 0)]
    );
}

/// Waits (bounded) until a backend of `application_name` waits on a lock,
/// or `task` ended (without waiting: the caller then sees why).
async fn waiting_on_a_lock<T>(
    db: &TestDb,
    application_name: &str,
    task: &tokio::task::JoinHandle<T>,
) {
    let ended_or_waiting = common::poll(|| async {
        if task.is_finished() {
            return Some(());
        }
        common::lock_waiter(&db.pool, application_name, &[])
            .await
            .map(|_| ())
    })
    .await;
    assert!(
        ended_or_waiting.is_some(),
        "{application_name} never waited on a lock"
    );
}

/// A move that PostgreSQL fails with a deadlock (40P01) is tried once more,
/// and then ends as the slot does: moved when the other writer rolled back,
/// a conflict when it committed. The deadlock is made certain: an open
/// transaction holds an uncommitted booking in the target slot, the move
/// waits for it inside the exclusion check, and the transaction then waits
/// for the moved row, closing the cycle; the move, which waited first, is
/// the one PostgreSQL fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_move_that_deadlocks_inside_postgresql_is_tried_once_more() {
    let db = TestDb::new().await;
    let ada = organizer(&db.store, "ada").await;
    for (round, commit) in [false, true].into_iter().enumerate() {
        let day = Duration::days(round as i64);
        let booking = db
            .store
            .insert_booking(new_booking(ada.id, range(at(9, 0) + day, 30), 0, 0))
            .await
            .unwrap();
        let target = range(at(12, 0) + day, 30);
        let application_name = format!("bk-deadlock-{:08x}", rand::random::<u32>());
        let mover =
            PostgresStore::from_pool(common::pool_for(&db.schema, 1, &application_name).await);
        let other_pool = common::pool_for(&db.schema, 1, "bk-deadlock-other").await;
        // PostgreSQL looks for a deadlock once per waiter, `deadlock_timeout`
        // after that waiter began to wait, and fails the waiter that finds
        // it. With the default (1 s) on both sides, a loaded machine can let
        // the move's one look happen before the cycle is closed, and the
        // transaction's later look then makes the transaction the victim.
        // The move looks after 5 s (the cycle is closed long before), the
        // transaction only after a minute, so the move is always the victim.
        sqlx::query("SET deadlock_timeout = '5s'")
            .execute(mover.pool())
            .await
            .unwrap();
        let mut other = other_pool.begin().await.unwrap();
        sqlx::query("SET LOCAL deadlock_timeout = '60s'")
            .execute(&mut *other)
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO bookings (id, organizer_id, event_type_slug, attendant_name, \
                attendant_email, title, start_time, end_time, occupied_start, occupied_end, \
                cancel_token_hash) \
             VALUES ($1, $2, 'default', 'Other', 'o@example.com', 'Other', $3, $4, $3, $4, 'x')",
        )
        .bind(BookingId::generate().to_string())
        .bind(ada.id.to_string())
        .bind(target.start())
        .bind(target.end())
        .execute(&mut *other)
        .await
        .unwrap();

        let moving = tokio::spawn({
            let change = Reschedule {
                id: booking.id,
                organizer_id: ada.id,
                expected_sequence: 0,
                time: target,
                buffer_before: Duration::zero(),
                buffer_after: Duration::zero(),
                limits: Vec::new(),
                at: created(),
                event: None,
            };
            async move { mover.reschedule_booking(change).await }
        });
        waiting_on_a_lock(&db, &application_name, &moving).await;
        // Closes the cycle; granted once PostgreSQL failed the move.
        sqlx::query("SELECT 1 FROM bookings WHERE id = $1 FOR UPDATE")
            .bind(booking.id.to_string())
            .execute(&mut *other)
            .await
            .expect("the transaction that waited last is not the deadlock's victim");
        // The move's second try now waits for the transaction's booking.
        waiting_on_a_lock(&db, &application_name, &moving).await;
        if commit {
            other.commit().await.unwrap();
        } else {
            other.rollback().await.unwrap();
        }
        let moved = moving.await.unwrap();
        if commit {
            assert!(matches!(moved, Err(StoreError::Conflict)), "{moved:?}");
            let unchanged = db.store.booking(booking.id).await.unwrap().unwrap();
            assert_eq!(unchanged, booking);
        } else {
            let moved = moved.expect("tried once more, the move takes the freed slot");
            assert_eq!((moved.time, moved.sequence), (target, 1));
        }
        other_pool.close().await;
    }
    assert_eq!(common::overlapping_active_pairs(&db.pool).await, 0);
}
