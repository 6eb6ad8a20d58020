//! Building blocks for backend-specific tests: the instants, organizers,
//! schedules, event types and bookings the conformance checks use, and their way of
//! racing inserts, public so a backend's own tests (races, SQL-level
//! checks, migrations) build their data and races the same way instead
//! of keeping copies.
//!
//! Like the checks, these panic with a message when the store fails.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use chrono_tz::Tz;

use crate::booking::{Attendee, Booking, BookingId, NewBooking};
use crate::event_type::{BookingLimits, BookingWindow, EventType, EventTypeId, Slug};
use crate::hold::{Hold, HoldId};
use crate::idempotency::{IdempotencyClaim, IdempotencyScope};
use crate::organizer::{NewOrganizer, Organizer, OrganizerId};
use crate::schedule::{Schedule, ScheduleId, WeeklyHours};
use crate::secret::TokenHash;
use crate::store::{BookingQuery, BookingStore, ConfigChange, Reschedule, StoreError};
use crate::time::{LocalInterval, TimeRange};

/// Monday 7 December 2026 at `h:m` UTC (`at(24, 0)` is the next
/// midnight): the day every fixture booking is on.
pub fn at(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 7, 0, 0, 0).unwrap() + Duration::minutes(i64::from(h * 60 + m))
}

/// `minutes` long from `start`.
pub fn range(start: DateTime<Utc>, minutes: i64) -> TimeRange {
    TimeRange::starting_at(start, Duration::minutes(minutes)).unwrap()
}

/// Tuesday 1 December 2026, 08:00 UTC: when fixture organizers and
/// bookings are created, before every booked time.
pub fn created() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap()
}

/// Creates `username` (home zone Europe/London, email and display name
/// derived from it, API token hash `TokenHash::of(username)`) with a
/// configuration at version 1: the default [`schedule`] and the default
/// [`event_type`], whose ids are the organizer's own ULID (as the database
/// migrations give organizers that had settings).
pub async fn organizer(store: &dyn BookingStore, username: &str) -> Organizer {
    organizer_in(store, username, chrono_tz::Europe::London).await
}

/// As [`organizer`], with home zone `time_zone`.
pub async fn organizer_in(store: &dyn BookingStore, username: &str, time_zone: Tz) -> Organizer {
    let organizer = bare_organizer(store, username, time_zone).await;
    store
        .update_config(
            organizer.id,
            0,
            vec![
                ConfigChange::PutSchedule(schedule(organizer.id)),
                ConfigChange::PutEventType(event_type(organizer.id)),
            ],
        )
        .await
        .expect("update_config must accept a fresh organizer's first configuration");
    organizer
}

/// Creates `username` with no configuration at all (version 0).
pub async fn bare_organizer(store: &dyn BookingStore, username: &str, time_zone: Tz) -> Organizer {
    store
        .create_organizer(
            OrganizerId::generate(),
            NewOrganizer::new(
                username,
                format!("{username}@example.com"),
                format!("Organizer {username}"),
                time_zone,
            ),
            TokenHash::of(username),
            created(),
        )
        .await
        .expect("create_organizer must succeed for a fresh username")
}

/// The id of the default event type (and schedule) [`organizer`] creates.
pub fn default_event_type_id(organizer: OrganizerId) -> EventTypeId {
    EventTypeId::from(organizer.as_ulid())
}

/// A booking of `time` for `organizer`'s default event type with buffers of
/// `before` and `after` minutes (a new id each call, cancel token hash
/// `TokenHash::of("cancel")`, no limits).
pub fn new_booking(organizer: OrganizerId, time: TimeRange, before: i64, after: i64) -> NewBooking {
    NewBooking {
        config_version: None,
        id: BookingId::generate(),
        organizer_id: organizer,
        event_type_id: default_event_type_id(organizer),
        event_type_slug: Slug::default_slug(),
        attendee: Attendee::new("Grace", "grace@example.com"),
        metadata: None,
        title: "Intro".into(),
        description: None,
        time,
        buffer_before: Duration::minutes(before),
        buffer_after: Duration::minutes(after),
        cancel_token_hash: TokenHash::of("cancel"),
        created_at: created(),
        limits: Vec::new(),
        replaces_hold: None,
        idempotency: None,
        event: None,
    }
}

/// A hold of `time` on `organizer`'s default event type with buffers of
/// `before` and `after` minutes, taken at [`created`] and ending at
/// `expires_at`, for `client`; its token hash is unique (the hash of its
/// id), as a random token's would be.
pub fn new_hold(
    organizer: OrganizerId,
    time: TimeRange,
    before: i64,
    after: i64,
    expires_at: DateTime<Utc>,
    client: Option<&str>,
) -> Hold {
    let id = HoldId::generate();
    Hold {
        id,
        organizer_id: organizer,
        event_type_id: default_event_type_id(organizer),
        time,
        buffer_before: Duration::minutes(before),
        buffer_after: Duration::minutes(after),
        token_hash: TokenHash::of(&id.to_string()),
        client: client.map(str::to_owned),
        created_at: created(),
        expires_at,
    }
}

/// A schedule that uses every field: New York, weekdays 09:00-12:00 and
/// 13:00-24:00, Christmas Eve off; the organizer's default, with the
/// organizer's ULID as its id.
pub fn schedule(organizer: OrganizerId) -> Schedule {
    Schedule {
        id: ScheduleId::from(organizer.as_ulid()),
        organizer_id: organizer,
        name: "Working hours".into(),
        time_zone: chrono_tz::America::New_York,
        weekly_hours: WeeklyHours::weekdays(vec![
            LocalInterval::parse("09:00", "12:00").unwrap(),
            LocalInterval::parse("13:00", "24:00").unwrap(),
        ]),
        date_overrides: [(
            chrono::NaiveDate::from_ymd_opt(2026, 12, 24).unwrap(),
            vec![],
        )]
        .into(),
        is_default: true,
    }
}

/// The default event type (slug `default`, the organizer's ULID as id):
/// 45-minute meetings every 15 minutes, buffers of 5 and 10 minutes, 2
/// hours' notice, 90 days ahead, no limits, on the default schedule.
pub fn event_type(organizer: OrganizerId) -> EventType {
    EventType {
        id: default_event_type_id(organizer),
        organizer_id: organizer,
        slug: Slug::default_slug(),
        title: "Meeting".into(),
        description: None,
        duration: Duration::minutes(45),
        duration_options: Vec::new(),
        slot_step: Some(Duration::minutes(15)),
        buffer_before: Duration::minutes(5),
        buffer_after: Duration::minutes(10),
        min_notice: Duration::minutes(120),
        booking_window: BookingWindow::rolling_days(90),
        limits: BookingLimits::default(),
        schedule_id: None,
        location: None,
        active: true,
        hold_duration: crate::event_type::DEFAULT_HOLD_DURATION,
    }
}

/// Every active booking of `organizer` (one page of up to 10,000).
pub async fn all_active(store: &dyn BookingStore, organizer: OrganizerId) -> Vec<Booking> {
    store
        .list_bookings(
            organizer,
            BookingQuery {
                starts_within: None,
                cancelled_since: None,
                limit: 10_000,
                offset: 0,
            },
        )
        .await
        .expect("list_bookings")
        .bookings
}

/// Panics if two of `bookings` of one organizer overlap, buffers
/// included.
pub fn assert_no_overlaps(bookings: &[Booking]) {
    for (i, a) in bookings.iter().enumerate() {
        for b in &bookings[i + 1..] {
            assert!(
                a.organizer_id != b.organizer_id || !a.occupied().overlaps(&b.occupied()),
                "double booking: {} and {} overlap",
                a.occupied(),
                b.occupied()
            );
        }
    }
}

/// Makes every insert at once: one task per attempt, all released
/// together by a barrier, each inserting through the store paired with
/// it. Returns each attempt's key with whether it won. Any outcome other
/// than success, `Conflict` or `LimitReached` panics: a racing insert must never fail
/// otherwise (no deadlock, no serialization error reaching the caller).
pub async fn race_inserts<K: Send + 'static>(
    attempts: Vec<(K, Arc<dyn BookingStore>, NewBooking)>,
) -> Vec<(K, bool)> {
    let barrier = Arc::new(tokio::sync::Barrier::new(attempts.len()));
    let tasks: Vec<_> = attempts
        .into_iter()
        .map(|(key, store, booking)| {
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                (key, store.insert_booking(booking).await)
            })
        })
        .collect();
    let mut outcomes = Vec::with_capacity(tasks.len());
    for task in tasks {
        let (key, result) = task.await.expect("insert task panicked");
        let won = match result {
            Ok(_) => true,
            Err(StoreError::Conflict | StoreError::LimitReached(_)) => false,
            Err(other) => {
                panic!("a racing insert must win or be refused, got: {other} ({other:?})")
            }
        };
        outcomes.push((key, won));
    }
    outcomes
}

/// How many attempts of each group won, from [`race_inserts`]'
/// outcomes keyed by group; a group nobody won is absent.
pub fn winners_per_group<K: Eq + Hash + Clone>(outcomes: &[(K, bool)]) -> HashMap<K, usize> {
    let mut winners = HashMap::new();
    for (group, _) in outcomes.iter().filter(|(_, won)| *won) {
        *winners.entry(group.clone()).or_default() += 1;
    }
    winners
}

/// A move of `booking` to `time` with no buffers and no limits, decided on
/// its current sequence.
pub fn move_to(booking: &Booking, time: TimeRange) -> Reschedule {
    Reschedule {
        id: booking.id,
        organizer_id: booking.organizer_id,
        expected_sequence: booking.sequence,
        time,
        buffer_before: Duration::zero(),
        buffer_after: Duration::zero(),
        limits: Vec::new(),
        at: created() + Duration::minutes(1),
        event: None,
    }
}

/// A claim of `scope` at `now` for a request with `fingerprint`, kept 24
/// hours, stale after 60 seconds.
pub fn claim(
    scope: &IdempotencyScope,
    fingerprint: &str,
    now: chrono::DateTime<Utc>,
) -> IdempotencyClaim {
    IdempotencyClaim {
        scope: scope.clone(),
        fingerprint: TokenHash::of(fingerprint),
        now,
        expires_at: now + Duration::hours(24),
        stale_before: now - Duration::seconds(60),
    }
}

/// The record of a new event of `kind` about `booking`, at [`created`].
pub fn event_record(
    booking: &Booking,
    kind: crate::event::BookingEventKind,
) -> crate::event::EventRecord {
    crate::event::BookingEvent {
        seq: 0,
        id: crate::event::EventId::generate(),
        kind,
        occurred_at: created(),
        booking: booking.clone(),
        previous_time: None,
        cancelled_by: None,
    }
    .to_record()
}

/// A job of `queue` for `target` delivering `event`, due at [`created`].
pub fn job(event: &crate::event::StoredEvent, queue: &str, target: &str) -> crate::queue::NewJob {
    crate::queue::NewJob {
        id: crate::queue::JobId::generate(),
        queue: queue.into(),
        organizer_id: event.record.organizer_id,
        event_id: event.record.id,
        booking_id: event.record.booking_id,
        target: target.into(),
        payload: format!("{}:{target}", event.record.kind),
        run_at: created(),
    }
}
