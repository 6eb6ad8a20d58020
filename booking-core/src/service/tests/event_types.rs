//! Event types and schedules through the service: the rules of the model,
//! each checked against instants worked out by hand.

use chrono::{NaiveDate, Weekday};
use chrono_tz::{America, Asia, Tz};

use super::*;
use crate::event_type::{BookingLimits, BookingWindow, EventTypeDraft, LimitPeriod};
use crate::schedule::ScheduleDraft;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn hours(a: &str, b: &str) -> LocalInterval {
    LocalInterval::parse(a, b).unwrap()
}

fn starts(slots: &[TimeRange]) -> Vec<DateTime<Utc>> {
    slots.iter().map(TimeRange::start).collect()
}

/// A service at `now` with organizer "ada" in `zone` and one schedule of
/// `week` in that zone.
async fn ada_at(now: DateTime<Utc>, zone: Tz, week: WeeklyHours) -> (BookingService, Organizer) {
    let service =
        BookingService::new(MemoryStore::new()).with_clock(Arc::new(ManualClock::new(now)));
    let (ada, _) = service
        .register_organizer(NewOrganizer::new("ada", "ada@example.com", "Ada", zone))
        .await
        .unwrap();
    service
        .create_schedule(&ada, ScheduleDraft::new("Hours", week))
        .await
        .unwrap();
    (service, ada)
}

fn attendee() -> Attendee {
    Attendee::new("Grace", "grace@example.com")
}

async fn book(
    service: &BookingService,
    slug: &str,
    start: DateTime<Utc>,
    minutes: i64,
) -> Result<CreatedBooking, ServiceError> {
    let time = TimeRange::starting_at(start, Duration::minutes(minutes)).unwrap();
    service
        .create_booking(BookingRequest::new("ada", time, attendee()).event_type(slug))
        .await
}

async fn slots(
    service: &BookingService,
    slug: &str,
    from: DateTime<Utc>,
    days: i64,
) -> Vec<DateTime<Utc>> {
    let window = TimeRange::starting_at(from, Duration::days(days)).unwrap();
    starts(
        &service
            .available_slots(SlotQuery::new("ada", window).event_type(slug))
            .await
            .unwrap(),
    )
}

#[tokio::test]
async fn a_business_day_window_skips_weekends_and_days_off_across_a_dst_change() {
    // London leaves summer time on Sunday 25 October 2026. Thursday 22
    // October, 08:00 UTC is 09:00 BST.
    let now = utc(2026, 10, 22, 8, 0);
    let (service, ada) = ada_at(
        now,
        Europe::London,
        WeeklyHours::weekdays(vec![hours("09:00", "10:00")]),
    )
    .await;
    let draft = EventTypeDraft {
        booking_window: BookingWindow::RollingBusinessDays { days: 3 },
        ..EventTypeDraft::new("call", "Call", Duration::minutes(60))
    };
    service.create_event_type(&ada, draft).await.unwrap();
    // Thursday and Friday at 09:00 BST (08:00Z), Monday at 09:00 GMT (09:00Z);
    // the window ends at Tuesday's local midnight.
    assert_eq!(
        slots(&service, "call", now, 10).await,
        [
            utc(2026, 10, 22, 8, 0),
            utc(2026, 10, 23, 8, 0),
            utc(2026, 10, 26, 9, 0)
        ]
    );
    assert!(matches!(
        book(&service, "call", utc(2026, 10, 27, 9, 0), 60).await,
        Err(ServiceError::SlotUnavailable(SlotRefusal::TooFarAhead { latest })) if latest == utc(2026, 10, 27, 0, 0)
    ));
    // With Friday off, the third business day is Tuesday.
    let schedule = service.schedules(&ada).await.unwrap().remove(0);
    let mut draft = schedule.to_draft();
    draft.date_overrides.insert(date(2026, 10, 23), vec![]);
    service
        .update_schedule(&ada, schedule.id, draft)
        .await
        .unwrap();
    assert_eq!(
        slots(&service, "call", now, 10).await,
        [
            utc(2026, 10, 22, 8, 0),
            utc(2026, 10, 26, 9, 0),
            utc(2026, 10, 27, 9, 0)
        ]
    );
    assert!(
        service
            .bookable_range(&ada, Some("call"))
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn a_date_range_window_opens_and_closes_at_local_midnights() {
    let now = utc(2026, 12, 1, 8, 0);
    let (service, ada) = ada_at(
        now,
        America::New_York,
        WeeklyHours::every_day(vec![hours("09:00", "10:00")]),
    )
    .await;
    let draft = EventTypeDraft {
        booking_window: BookingWindow::Range {
            first: date(2026, 12, 10),
            last: date(2026, 12, 11),
        },
        ..EventTypeDraft::new("workshop", "Workshop", Duration::minutes(60))
    };
    service.create_event_type(&ada, draft).await.unwrap();
    // 09:00 EST is 14:00Z.
    assert_eq!(
        slots(&service, "workshop", now, 30).await,
        [utc(2026, 12, 10, 14, 0), utc(2026, 12, 11, 14, 0)]
    );
    assert!(matches!(
        book(&service, "workshop", utc(2026, 12, 9, 14, 0), 60).await,
        Err(ServiceError::SlotUnavailable(SlotRefusal::TooSoon { earliest })) if earliest == utc(2026, 12, 10, 5, 0)
    ));
    assert!(matches!(
        book(&service, "workshop", utc(2026, 12, 12, 14, 0), 60).await,
        Err(ServiceError::SlotUnavailable(SlotRefusal::TooFarAhead { latest })) if latest == utc(2026, 12, 12, 5, 0)
    ));
    assert_eq!(
        service
            .bookable_range(&ada, Some("workshop"))
            .await
            .unwrap(),
        Some(TimeRange::new(utc(2026, 12, 10, 5, 0), utc(2026, 12, 12, 5, 0)).unwrap())
    );
}

#[tokio::test]
async fn a_daily_limit_counts_the_organizers_local_day_not_the_utc_day() {
    // Tokyo is UTC+9: 08:00-12:00 there is 23:00Z (the day before) to 03:00Z.
    let now = utc(2026, 12, 1, 0, 0);
    let (service, ada) = ada_at(
        now,
        Asia::Tokyo,
        WeeklyHours::every_day(vec![hours("08:00", "12:00")]),
    )
    .await;
    let draft = EventTypeDraft {
        limits: BookingLimits {
            per_day: Some(2),
            ..BookingLimits::default()
        },
        ..EventTypeDraft::new("chat", "Chat", Duration::minutes(60))
    };
    service.create_event_type(&ada, draft).await.unwrap();
    // Two bookings on Thursday 3 December in Tokyo, on two different UTC dates.
    let first = book(&service, "chat", utc(2026, 12, 2, 23, 0), 60)
        .await
        .unwrap();
    book(&service, "chat", utc(2026, 12, 3, 0, 0), 60)
        .await
        .unwrap();
    // Tokyo's 3 December is full; its 4 December (from 23:00Z on the 3rd) is not.
    assert_eq!(
        slots(&service, "chat", utc(2026, 12, 2, 22, 0), 2).await,
        [
            utc(2026, 12, 3, 23, 0),
            utc(2026, 12, 4, 0, 0),
            utc(2026, 12, 4, 1, 0),
            utc(2026, 12, 4, 2, 0)
        ],
    );
    assert!(matches!(
        book(&service, "chat", utc(2026, 12, 3, 1, 0), 60).await,
        Err(ServiceError::BookingLimitReached(LimitPeriod::Day))
    ));
    // A cancelled booking does not count.
    service
        .cancel_booking(first.booking.id, &Credential::from(&first.cancel_token))
        .await
        .unwrap();
    book(&service, "chat", utc(2026, 12, 3, 1, 0), 60)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_weekly_limit_counts_weeks_from_monday_unless_configured() {
    let now = utc(2026, 12, 1, 0, 0);
    let (service, ada) = ada_at(
        now,
        Europe::London,
        WeeklyHours::every_day(vec![hours("09:00", "10:00")]),
    )
    .await;
    let draft = EventTypeDraft {
        limits: BookingLimits {
            per_week: Some(2),
            ..BookingLimits::default()
        },
        ..EventTypeDraft::new("weekly", "Weekly", Duration::minutes(60))
    };
    service
        .create_event_type(&ada, draft.clone())
        .await
        .unwrap();
    // Sunday 6 December ends one Monday week; Monday 7 and Tuesday 8 fill the next.
    for day in [6, 7, 8] {
        book(&service, "weekly", utc(2026, 12, day, 9, 0), 60)
            .await
            .unwrap();
    }
    let next_days = slots(&service, "weekly", utc(2026, 12, 5, 0, 0), 10).await;
    assert_eq!(
        next_days,
        [utc(2026, 12, 5, 9, 0), utc(2026, 12, 14, 9, 0)],
        "Saturday 5 shares Sunday 6's week (one booking); 9-13 December is full"
    );
    assert!(matches!(
        book(&service, "weekly", utc(2026, 12, 10, 9, 0), 60).await,
        Err(ServiceError::BookingLimitReached(LimitPeriod::Week))
    ));
    // Weeks from Sunday: 6-12 December holds three bookings, 29 Nov-5 Dec none.
    let from_sunday = EventTypeDraft {
        limits: BookingLimits {
            per_week: Some(2),
            week_starts_on: Weekday::Sun,
            ..BookingLimits::default()
        },
        ..draft
    };
    service
        .update_event_type(&ada, "weekly", from_sunday)
        .await
        .unwrap();
    assert_eq!(
        slots(&service, "weekly", utc(2026, 12, 5, 0, 0), 10).await,
        [
            utc(2026, 12, 5, 9, 0),
            utc(2026, 12, 13, 9, 0),
            utc(2026, 12, 14, 9, 0)
        ],
    );
}

#[tokio::test]
async fn event_types_block_each_other_with_each_bookings_own_buffers() {
    let now = utc(2026, 12, 1, 0, 0);
    let (service, ada) = ada_at(
        now,
        Tz::UTC,
        WeeklyHours::every_day(vec![hours("09:00", "13:00")]),
    )
    .await;
    let short = EventTypeDraft {
        buffer_after: Duration::minutes(30),
        ..EventTypeDraft::new("short", "Short", Duration::minutes(30))
    };
    let long = EventTypeDraft {
        buffer_before: Duration::minutes(15),
        ..EventTypeDraft::new("long", "Long", Duration::minutes(60))
    };
    service.create_event_type(&ada, short).await.unwrap();
    service.create_event_type(&ada, long).await.unwrap();
    // "short" at 10:00 occupies 10:00-11:00 with its buffer after.
    book(&service, "short", utc(2026, 12, 2, 10, 0), 30)
        .await
        .unwrap();
    // "long" at 09:00 occupies 08:45-10:00 (touches: fine); 10:00 is taken;
    // 11:00 would occupy 10:45-12:00 (into the buffer); 12:00 is free.
    assert_eq!(
        slots(&service, "long", utc(2026, 12, 2, 0, 0), 1).await,
        [utc(2026, 12, 2, 9, 0), utc(2026, 12, 2, 12, 0)]
    );
    assert!(matches!(
        book(&service, "long", utc(2026, 12, 2, 11, 0), 60).await,
        Err(ServiceError::SlotUnavailable(SlotRefusal::Busy))
    ));
}

#[tokio::test]
async fn an_attendee_picks_one_of_the_lengths_offered() {
    let now = utc(2026, 12, 1, 0, 0);
    let (service, ada) = ada_at(
        now,
        Tz::UTC,
        WeeklyHours::every_day(vec![hours("09:00", "11:00")]),
    )
    .await;
    let draft = EventTypeDraft {
        duration_options: vec![Duration::minutes(30), Duration::minutes(60)],
        ..EventTypeDraft::new("consult", "Consult", Duration::minutes(30))
    };
    service.create_event_type(&ada, draft).await.unwrap();
    let day = TimeRange::starting_at(utc(2026, 12, 2, 0, 0), Duration::days(1)).unwrap();
    let query = SlotQuery::new("ada", day).event_type("consult");
    assert_eq!(
        service.available_slots(query.clone()).await.unwrap().len(),
        4
    );
    let hour_long = service
        .available_slots(query.clone().duration(Duration::minutes(60)))
        .await
        .unwrap();
    assert_eq!(
        starts(&hour_long),
        [utc(2026, 12, 2, 9, 0), utc(2026, 12, 2, 10, 0)]
    );
    let Err(ServiceError::Validation(errors)) = service
        .available_slots(query.duration(Duration::minutes(45)))
        .await
    else {
        panic!("a length not offered is a field error")
    };
    assert!(errors.message_for(&Field::Duration).is_some());
    // No length given: the default one.
    let default_length = service
        .create_booking(
            BookingRequest::new(
                "ada",
                BookingTime::Start {
                    start: utc(2026, 12, 2, 9, 0),
                    duration: None,
                },
                attendee(),
            )
            .event_type("consult"),
        )
        .await
        .unwrap();
    assert_eq!(
        default_length.booking.time.duration(),
        Duration::minutes(30)
    );
    assert_eq!(default_length.booking.title, "Consult");
    book(&service, "consult", utc(2026, 12, 2, 10, 0), 60)
        .await
        .unwrap();
    assert!(matches!(
        book(&service, "consult", utc(2026, 12, 3, 10, 0), 45).await,
        Err(ServiceError::SlotUnavailable(
            SlotRefusal::WrongLength { .. }
        ))
    ));
}

#[tokio::test]
async fn schedules_keep_exactly_one_default_and_refuse_deletion_in_use() {
    let now = utc(2026, 12, 1, 0, 0);
    let (service, ada) = ada_at(
        now,
        Europe::London,
        WeeklyHours::weekdays(vec![hours("09:00", "17:00")]),
    )
    .await;
    let first = service.schedules(&ada).await.unwrap().remove(0);
    assert!(first.is_default, "the first schedule is the default");
    assert_eq!(
        first.time_zone,
        Europe::London,
        "no zone given: the organizer's"
    );
    let evenings = service
        .create_schedule(
            &ada,
            ScheduleDraft {
                time_zone: Some(America::New_York),
                ..ScheduleDraft::new(
                    "Evenings",
                    WeeklyHours::every_day(vec![hours("18:00", "21:00")]),
                )
            },
        )
        .await
        .unwrap();
    assert!(!evenings.is_default);
    let late = EventTypeDraft {
        schedule_id: Some(evenings.id),
        ..EventTypeDraft::new("late", "Late", Duration::minutes(30))
    };
    service.create_event_type(&ada, late).await.unwrap();
    assert!(matches!(
        service.delete_schedule(&ada, evenings.id).await,
        Err(ServiceError::ScheduleInUse(_))
    ));
    assert!(matches!(
        service.delete_schedule(&ada, first.id).await,
        Err(ServiceError::ScheduleInUse(_))
    ));
    // Making "Evenings" the default takes it from the first.
    let promoted = service
        .update_schedule(
            &ada,
            evenings.id,
            ScheduleDraft {
                is_default: true,
                ..evenings.to_draft()
            },
        )
        .await
        .unwrap();
    assert!(promoted.is_default);
    let all = service.schedules(&ada).await.unwrap();
    assert_eq!(all.iter().filter(|s| s.is_default).count(), 1);
    service.delete_schedule(&ada, first.id).await.unwrap();
    assert!(matches!(
        service.delete_schedule(&ada, first.id).await,
        Err(ServiceError::ScheduleNotFound)
    ));
    let ghost = EventTypeDraft {
        schedule_id: Some(first.id),
        ..EventTypeDraft::new("ghost", "Ghost", Duration::minutes(30))
    };
    let Err(ServiceError::Validation(errors)) = service.create_event_type(&ada, ghost).await else {
        panic!("an unknown schedule is a field error")
    };
    assert!(errors.message_for(&Field::Schedule).is_some());
}

#[tokio::test]
async fn racing_schedule_changes_never_leave_two_defaults() {
    let now = utc(2026, 12, 1, 0, 0);
    let (service, ada) = ada_at(now, Europe::London, WeeklyHours::default()).await;
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let service = service.clone();
            let ada = ada.clone();
            tokio::spawn(async move {
                let draft = ScheduleDraft {
                    is_default: true,
                    ..ScheduleDraft::new(format!("Schedule {i}"), WeeklyHours::default())
                };
                service.create_schedule(&ada, draft).await
            })
        })
        .collect();
    let mut created = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => created += 1,
            Err(ServiceError::ConcurrentUpdate) => {}
            Err(other) => panic!("unexpected {other}"),
        }
    }
    let schedules = service.schedules(&ada).await.unwrap();
    assert_eq!(schedules.len(), 1 + created);
    assert_eq!(schedules.iter().filter(|s| s.is_default).count(), 1);
}

#[tokio::test]
async fn slugs_are_unique_renames_keep_the_id_and_inactive_types_are_hidden() {
    let now = utc(2026, 12, 1, 0, 0);
    let service =
        BookingService::new(MemoryStore::new()).with_clock(Arc::new(ManualClock::new(now)));
    let (ada, _) = service
        .register_organizer(NewOrganizer::new(
            "ada",
            "ada@example.com",
            "Ada",
            Europe::London,
        ))
        .await
        .unwrap();
    // No schedule yet: the first event type brings office hours with it.
    let intro = service
        .create_event_type(
            &ada,
            EventTypeDraft::new("intro", "Intro", Duration::minutes(30)),
        )
        .await
        .unwrap();
    let schedules = service.schedules(&ada).await.unwrap();
    assert_eq!(schedules.len(), 1);
    assert_eq!(
        schedules[0].hours_on(date(2026, 12, 7)),
        [hours("09:00", "17:00")]
    );
    assert!(matches!(
        service
            .create_event_type(&ada, EventTypeDraft::new("intro", "Again", Duration::minutes(30)))
            .await,
        Err(ServiceError::SlugTaken(slug)) if slug == "intro"
    ));
    let renamed = service
        .update_event_type(
            &ada,
            "intro",
            EventTypeDraft {
                active: false,
                ..EventTypeDraft::new("hello", "Hello", Duration::minutes(30))
            },
        )
        .await
        .unwrap();
    assert_eq!(renamed.id, intro.id);
    assert!(matches!(
        service.event_type(&ada, "intro").await,
        Err(ServiceError::EventTypeNotFound)
    ));
    assert_eq!(service.event_types(&ada).await.unwrap().len(), 1);
    assert!(service.active_event_types(&ada).await.unwrap().is_empty());
    let day = TimeRange::starting_at(utc(2026, 12, 7, 0, 0), Duration::days(1)).unwrap();
    assert!(matches!(
        service
            .available_slots(SlotQuery::new("ada", day).event_type("hello"))
            .await,
        Err(ServiceError::EventTypeNotFound)
    ));
    assert!(matches!(
        book(&service, "hello", utc(2026, 12, 7, 9, 0), 30).await,
        Err(ServiceError::EventTypeNotFound)
    ));
    service.delete_event_type(&ada, "hello").await.unwrap();
    assert!(service.event_types(&ada).await.unwrap().is_empty());
}

#[tokio::test]
async fn settings_are_the_default_schedule_and_event_type() {
    let f = super::fixture().await;
    let default = f.service.event_type(&f.ada, "default").await.unwrap();
    assert_eq!(default.duration, Duration::minutes(30));
    assert_eq!(default.buffer_after, Duration::minutes(15));
    assert_eq!(default.booking_window, BookingWindow::rolling_days(60));
    let schedules = f.service.schedules(&f.ada).await.unwrap();
    assert_eq!(schedules.len(), 1);
    assert!(schedules[0].is_default);
    // Settings saved again change the same schedule and event type.
    let mut draft = super::settings_draft();
    draft.slot_duration = Duration::minutes(45);
    f.service.put_settings(&f.ada, draft).await.unwrap();
    let again = f.service.event_type(&f.ada, "default").await.unwrap();
    assert_eq!(
        (again.id, again.duration),
        (default.id, Duration::minutes(45))
    );
    assert_eq!(f.service.schedules(&f.ada).await.unwrap().len(), 1);
    assert_eq!(
        f.service.settings(&f.ada).await.unwrap().slot_duration(),
        Duration::minutes(45)
    );
    assert_eq!(
        f.service.display_zone(&f.ada).await.unwrap(),
        Europe::London
    );
}
