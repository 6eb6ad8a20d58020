use std::collections::BTreeMap;

use chrono::{NaiveDate, TimeZone, Weekday};
use chrono_tz::{America, Asia, Australia, Europe, Tz};
use proptest::prelude::*;

use super::*;
use crate::event_type::EventType;
use crate::ids::{EventTypeId, OrganizerId, ScheduleId};
use crate::schedule::{Schedule, WeeklyHours};
use crate::settings::{OrganizerSettings, SettingsDraft};
use crate::time::LocalInterval;

// The engine's rules were first written against one set of settings per
// organizer; these tests still describe cases that way, and run each through
// the default schedule and event type the settings amount to.

fn parts(settings: &OrganizerSettings) -> (Schedule, EventType) {
    let organizer = OrganizerId::generate();
    let draft = settings.schedule_draft();
    let schedule = Schedule {
        id: ScheduleId::generate(),
        organizer_id: organizer,
        name: draft.name,
        time_zone: settings.time_zone(),
        weekly_hours: draft.weekly_hours,
        date_overrides: draft.date_overrides,
        is_default: true,
    };
    let event_type = settings
        .event_type_draft(None)
        .build(EventTypeId::generate(), organizer)
        .unwrap();
    (schedule, event_type)
}

fn available_slots(
    settings: &OrganizerSettings,
    busy: &[TimeRange],
    window: TimeRange,
    now: DateTime<Utc>,
) -> Vec<TimeRange> {
    let (schedule, event_type) = parts(settings);
    let rules = SlotRules::new(&schedule, &event_type, None).unwrap();
    super::available_slots(&rules, Taken { busy, booked: &[] }, window, now)
}

fn check_booking(
    settings: &OrganizerSettings,
    requested: TimeRange,
    busy: &[TimeRange],
    now: DateTime<Utc>,
) -> Result<(), SlotRefusal> {
    let (schedule, event_type) = parts(settings);
    let rules = SlotRules::new(&schedule, &event_type, None).unwrap();
    super::check_booking(&rules, requested, Taken { busy, booked: &[] }, now)
}

fn busy_range_for(
    settings: &OrganizerSettings,
    window: TimeRange,
    now: DateTime<Utc>,
) -> Option<TimeRange> {
    let (schedule, event_type) = parts(settings);
    let rules = SlotRules::new(&schedule, &event_type, None).unwrap();
    super::busy_range_for(&rules, window, now)
}

fn occupied_by(settings: &OrganizerSettings, slot: &TimeRange) -> TimeRange {
    slot.widened(settings.buffer_before(), settings.buffer_after())
}

fn hours_on(settings: &OrganizerSettings, date: NaiveDate) -> Vec<LocalInterval> {
    parts(settings).0.hours_on(date)
}

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
}

fn range(a: DateTime<Utc>, b: DateTime<Utc>) -> TimeRange {
    TimeRange::new(a, b).unwrap()
}

fn hours(a: &str, b: &str) -> LocalInterval {
    LocalInterval::parse(a, b).unwrap()
}

fn every_day(zone: Tz, intervals: Vec<LocalInterval>, minutes: i64) -> OrganizerSettings {
    OrganizerSettings::try_from(SettingsDraft {
        time_zone: Some(zone),
        weekly_hours: WeeklyHours::every_day(intervals),
        slot_duration: Duration::minutes(minutes),
        max_advance: Duration::days(3650),
        ..SettingsDraft::default()
    })
    .unwrap()
}

fn with(settings: &OrganizerSettings, edit: impl FnOnce(&mut SettingsDraft)) -> OrganizerSettings {
    let mut draft = settings.to_draft();
    edit(&mut draft);
    OrganizerSettings::try_from(draft).unwrap()
}

fn starts(slots: &[TimeRange]) -> Vec<DateTime<Utc>> {
    slots.iter().map(|s| s.start()).collect()
}

/// A year before the DST days tested, so notice and advance never interfere.
fn long_ago() -> DateTime<Utc> {
    utc(2026, 1, 1, 0, 0)
}

fn whole_utc_day(y: i32, mo: u32, d: u32) -> TimeRange {
    range(utc(y, mo, d, 0, 0), utc(y, mo, d, 0, 0) + Duration::days(1))
}

#[test]
fn new_york_spring_forward_day_is_an_hour_shorter() {
    // 2026-03-08: 02:00 EST jumps to 03:00 EDT. Hours 01:00-04:00 last two real hours.
    let s = every_day(America::New_York, vec![hours("01:00", "04:00")], 30);
    let slots = available_slots(&s, &[], whole_utc_day(2026, 3, 8), long_ago());
    assert_eq!(
        starts(&slots),
        [
            utc(2026, 3, 8, 6, 0),
            utc(2026, 3, 8, 6, 30),
            utc(2026, 3, 8, 7, 0),
            utc(2026, 3, 8, 7, 30)
        ]
    );
}

#[test]
fn new_york_fall_back_day_is_an_hour_longer_and_ambiguous_start_is_the_earlier() {
    // 2026-11-01: 01:00-02:00 happens twice; 01:00 is taken as EDT (05:00Z).
    let s = every_day(America::New_York, vec![hours("01:00", "03:00")], 60);
    let slots = available_slots(&s, &[], whole_utc_day(2026, 11, 1), long_ago());
    assert_eq!(
        starts(&slots),
        [
            utc(2026, 11, 1, 5, 0),
            utc(2026, 11, 1, 6, 0),
            utc(2026, 11, 1, 7, 0)
        ]
    );
}

#[test]
fn london_gap_at_one_in_the_morning() {
    // 2026-03-29: 01:00 GMT jumps to 02:00 BST. 00:00-03:00 local is two real hours.
    let s = every_day(Europe::London, vec![hours("00:00", "03:00")], 60);
    let slots = available_slots(
        &s,
        &[],
        range(utc(2026, 3, 28, 23, 0), utc(2026, 3, 29, 23, 0)),
        long_ago(),
    );
    assert_eq!(
        starts(&slots),
        [utc(2026, 3, 29, 0, 0), utc(2026, 3, 29, 1, 0)]
    );
    // A start inside the gap is shifted forward: 01:30 local becomes 02:30 BST.
    let s = every_day(Europe::London, vec![hours("01:30", "03:30")], 60);
    let slots = available_slots(&s, &[], whole_utc_day(2026, 3, 29), long_ago());
    assert_eq!(starts(&slots), [utc(2026, 3, 29, 1, 30)]);
}

#[test]
fn lord_howe_half_hour_shift() {
    // 2026-10-04 02:00 (+10:30) jumps to 02:30 (+11). 01:00-03:00 local is 90 minutes.
    let s = every_day(Australia::Lord_Howe, vec![hours("01:00", "03:00")], 30);
    let slots = available_slots(
        &s,
        &[],
        range(utc(2026, 10, 3, 12, 0), utc(2026, 10, 3, 18, 0)),
        long_ago(),
    );
    assert_eq!(
        starts(&slots),
        [
            utc(2026, 10, 3, 14, 30),
            utc(2026, 10, 3, 15, 0),
            utc(2026, 10, 3, 15, 30)
        ]
    );
    // In April it falls back by 30 minutes: 01:30-02:00 happens twice; 01:00-03:00 is 2.5 h.
    let slots = available_slots(
        &s,
        &[],
        range(utc(2026, 4, 4, 12, 0), utc(2026, 4, 4, 18, 0)),
        long_ago(),
    );
    assert_eq!(slots.len(), 5);
    assert_eq!(slots[0].start(), utc(2026, 4, 4, 14, 0));
}

#[test]
fn havana_midnight_gap_and_end_of_day() {
    // Cuba springs forward at midnight on Sunday 2026-03-08: 00:00 becomes 01:00 CDT.
    let week = WeeklyHours {
        saturday: vec![hours("22:00", "24:00")],
        sunday: vec![hours("00:00", "02:00")],
        ..WeeklyHours::default()
    };
    let s = OrganizerSettings::try_from(SettingsDraft {
        time_zone: Some(America::Havana),
        weekly_hours: week,
        slot_duration: Duration::minutes(60),
        max_advance: Duration::days(365),
        ..SettingsDraft::default()
    })
    .unwrap();
    let slots = available_slots(
        &s,
        &[],
        range(utc(2026, 3, 8, 0, 0), utc(2026, 3, 8, 12, 0)),
        long_ago(),
    );
    // Saturday 22:00 CST = 03:00Z, its 24:00 resolves to 05:00Z; Sunday 00:00 (gap) = 05:00Z to 02:00 CDT = 06:00Z.
    assert_eq!(
        starts(&slots),
        [
            utc(2026, 3, 8, 3, 0),
            utc(2026, 3, 8, 4, 0),
            utc(2026, 3, 8, 5, 0)
        ]
    );
}

#[test]
fn beirut_midnight_fall_back() {
    // Lebanon falls back at 00:00 on Sunday 2026-10-25 to 23:00 Saturday: 23:00-24:00 repeats.
    let week = WeeklyHours {
        saturday: vec![hours("22:00", "24:00")],
        ..WeeklyHours::default()
    };
    let s = OrganizerSettings::try_from(SettingsDraft {
        time_zone: Some(Asia::Beirut),
        weekly_hours: week,
        slot_duration: Duration::minutes(60),
        max_advance: Duration::days(365),
        ..SettingsDraft::default()
    })
    .unwrap();
    let slots = available_slots(&s, &[], whole_utc_day(2026, 10, 24), long_ago());
    // 22:00 EEST = 19:00Z; 24:00 = Sunday 00:00 EET = 22:00Z: three real hours.
    assert_eq!(
        starts(&slots),
        [
            utc(2026, 10, 24, 19, 0),
            utc(2026, 10, 24, 20, 0),
            utc(2026, 10, 24, 21, 0)
        ]
    );
}

#[test]
fn date_override_replaces_the_weekday_and_empty_means_day_off() {
    let base = every_day(Tz::UTC, vec![hours("09:00", "11:00")], 60);
    let christmas_eve = NaiveDate::from_ymd_opt(2026, 12, 24).unwrap();
    let boxing_day = NaiveDate::from_ymd_opt(2026, 12, 26).unwrap();
    let s = with(&base, |d| {
        d.date_overrides = BTreeMap::from([
            (christmas_eve, vec![]),
            (boxing_day, vec![hours("14:00", "15:00")]),
        ]);
    });
    let now = utc(2026, 12, 1, 0, 0);
    assert!(available_slots(&s, &[], whole_utc_day(2026, 12, 24), now).is_empty());
    assert_eq!(
        starts(&available_slots(&s, &[], whole_utc_day(2026, 12, 25), now)).len(),
        2
    );
    assert_eq!(
        starts(&available_slots(&s, &[], whole_utc_day(2026, 12, 26), now)),
        [utc(2026, 12, 26, 14, 0)]
    );
}

#[test]
fn a_day_off_in_the_week_offers_nothing() {
    let s = OrganizerSettings::try_from(SettingsDraft {
        time_zone: Some(Tz::UTC),
        weekly_hours: WeeklyHours::weekdays(vec![hours("09:00", "17:00")]),
        ..SettingsDraft::default()
    })
    .unwrap();
    let saturday = NaiveDate::from_ymd_opt(2026, 12, 5).unwrap();
    assert_eq!(chrono::Datelike::weekday(&saturday), Weekday::Sat);
    assert!(
        available_slots(&s, &[], whole_utc_day(2026, 12, 5), utc(2026, 12, 1, 0, 0)).is_empty()
    );
    assert_eq!(
        available_slots(&s, &[], whole_utc_day(2026, 12, 7), utc(2026, 12, 1, 0, 0)).len(),
        16
    );
}

#[test]
fn overlapping_and_touching_intervals_merge_before_stepping() {
    // 09:00-10:00 and 10:00-11:00 merge, so a 90-minute slot fits at 09:00.
    let s = every_day(
        Tz::UTC,
        vec![
            hours("10:00", "11:00"),
            hours("09:00", "10:00"),
            hours("09:30", "10:15"),
        ],
        90,
    );
    let slots = available_slots(&s, &[], whole_utc_day(2026, 12, 2), utc(2026, 12, 1, 0, 0));
    assert_eq!(starts(&slots), [utc(2026, 12, 2, 9, 0)]);
}

#[test]
fn step_shorter_than_duration_offers_overlapping_candidates() {
    let s = with(
        &every_day(Tz::UTC, vec![hours("09:00", "10:30")], 60),
        |d| {
            d.slot_step = Some(Duration::minutes(15));
        },
    );
    let slots = available_slots(&s, &[], whole_utc_day(2026, 12, 2), utc(2026, 12, 1, 0, 0));
    assert_eq!(
        starts(&slots),
        [
            utc(2026, 12, 2, 9, 0),
            utc(2026, 12, 2, 9, 15),
            utc(2026, 12, 2, 9, 30)
        ]
    );
}

#[test]
fn never_in_the_past_and_min_notice_is_respected() {
    let s = with(
        &every_day(Tz::UTC, vec![hours("09:00", "17:00")], 60),
        |d| {
            d.min_notice = Duration::minutes(90);
        },
    );
    let now = utc(2026, 12, 2, 10, 15);
    let slots = available_slots(&s, &[], whole_utc_day(2026, 12, 2), now);
    assert_eq!(slots.first().unwrap().start(), utc(2026, 12, 2, 12, 0));
    assert!(matches!(
        check_booking(
            &s,
            range(utc(2026, 12, 2, 11, 0), utc(2026, 12, 2, 12, 0)),
            &[],
            now
        ),
        Err(SlotRefusal::TooSoon { .. })
    ));
    assert!(matches!(
        check_booking(
            &s,
            range(utc(2026, 12, 2, 9, 0), utc(2026, 12, 2, 10, 0)),
            &[],
            now
        ),
        Err(SlotRefusal::TooSoon { .. })
    ));
}

#[test]
fn max_advance_is_exclusive() {
    let s = with(
        &every_day(Tz::UTC, vec![hours("09:00", "17:00")], 60),
        |d| {
            d.max_advance = Duration::days(1);
        },
    );
    let now = utc(2026, 12, 2, 12, 0);
    let slots = available_slots(&s, &[], range(now, now + Duration::days(3)), now);
    assert_eq!(slots.last().unwrap().start(), utc(2026, 12, 3, 11, 0));
    assert!(matches!(
        check_booking(
            &s,
            range(utc(2026, 12, 3, 12, 0), utc(2026, 12, 3, 13, 0)),
            &[],
            now
        ),
        Err(SlotRefusal::TooFarAhead { .. })
    ));
}

#[test]
fn buffers_stack_and_may_lie_outside_working_hours() {
    // 30-minute slots, 15 minutes before and after each.
    let s = with(
        &every_day(Tz::UTC, vec![hours("09:00", "12:00")], 30),
        |d| {
            d.buffer_before = Duration::minutes(15);
            d.buffer_after = Duration::minutes(15);
        },
    );
    let now = utc(2026, 12, 1, 0, 0);
    // A booking 10:00-10:30 with the same buffers occupies 09:45-10:45.
    let booked = range(utc(2026, 12, 2, 10, 0), utc(2026, 12, 2, 10, 30))
        .widened(Duration::minutes(15), Duration::minutes(15));
    let slots = available_slots(&s, &[booked], whole_utc_day(2026, 12, 2), now);
    // 09:00 occupies 08:45-09:45 (touches: fine); 09:30 would occupy 09:15-10:00 (overlap);
    // 10:30 occupies 10:15-11:00 (overlap); 11:00 occupies 10:45-11:30 (touches: fine).
    assert_eq!(
        starts(&slots),
        [
            utc(2026, 12, 2, 9, 0),
            utc(2026, 12, 2, 11, 0),
            utc(2026, 12, 2, 11, 30)
        ]
    );
}

#[test]
fn external_busy_blocks_its_own_time_and_the_candidates_buffers() {
    let s = with(
        &every_day(Tz::UTC, vec![hours("09:00", "12:00")], 60),
        |d| {
            d.buffer_after = Duration::minutes(10);
        },
    );
    let now = utc(2026, 12, 1, 0, 0);
    let external = range(utc(2026, 12, 2, 11, 0), utc(2026, 12, 2, 11, 30));
    let slots = available_slots(&s, &[external], whole_utc_day(2026, 12, 2), now);
    // 10:00 + 60 min + 10 min buffer reaches 11:10: it overlaps the external event.
    assert_eq!(starts(&slots), [utc(2026, 12, 2, 9, 0)]);
    assert_eq!(
        check_booking(
            &s,
            range(utc(2026, 12, 2, 10, 0), utc(2026, 12, 2, 11, 0)),
            &[external],
            now
        ),
        Err(SlotRefusal::Busy)
    );
}

#[test]
fn back_to_back_bookings_are_allowed() {
    let s = every_day(Tz::UTC, vec![hours("09:00", "12:00")], 60);
    let now = utc(2026, 12, 1, 0, 0);
    let booked = range(utc(2026, 12, 2, 10, 0), utc(2026, 12, 2, 11, 0));
    let slots = available_slots(&s, &[booked], whole_utc_day(2026, 12, 2), now);
    assert_eq!(
        starts(&slots),
        [utc(2026, 12, 2, 9, 0), utc(2026, 12, 2, 11, 0)]
    );
}

#[test]
fn window_filters_by_start_only() {
    let s = every_day(Tz::UTC, vec![hours("09:00", "12:00")], 60);
    let now = utc(2026, 12, 1, 0, 0);
    let window = range(utc(2026, 12, 2, 9, 30), utc(2026, 12, 2, 11, 0));
    assert_eq!(
        starts(&available_slots(&s, &[], window, now)),
        [utc(2026, 12, 2, 10, 0)]
    );
}

#[test]
fn end_of_day_interval_reaches_midnight() {
    let s = every_day(Europe::London, vec![hours("23:00", "24:00")], 60);
    let now = utc(2026, 12, 1, 0, 0);
    assert_eq!(
        starts(&available_slots(&s, &[], whole_utc_day(2026, 12, 2), now)),
        [utc(2026, 12, 2, 23, 0)]
    );
}

#[test]
fn check_booking_names_the_rule() {
    let s = every_day(Tz::UTC, vec![hours("09:00", "12:00")], 60);
    let now = utc(2026, 12, 1, 0, 0);
    let ok = range(utc(2026, 12, 2, 9, 0), utc(2026, 12, 2, 10, 0));
    assert_eq!(check_booking(&s, ok, &[], now), Ok(()));
    let long = range(utc(2026, 12, 2, 9, 0), utc(2026, 12, 2, 10, 30));
    assert_eq!(
        check_booking(&s, long, &[], now),
        Err(SlotRefusal::WrongLength {
            allowed_minutes: vec![60]
        })
    );
    let off_grid = range(utc(2026, 12, 2, 9, 10), utc(2026, 12, 2, 10, 10));
    assert_eq!(
        check_booking(&s, off_grid, &[], now),
        Err(SlotRefusal::NotOffered)
    );
    let evening = range(utc(2026, 12, 2, 18, 0), utc(2026, 12, 2, 19, 0));
    assert_eq!(
        check_booking(&s, evening, &[], now),
        Err(SlotRefusal::NotOffered)
    );
    assert_eq!(check_booking(&s, ok, &[ok], now), Err(SlotRefusal::Busy));
}

#[test]
fn busy_range_covers_every_buffer_that_can_matter() {
    let s = with(
        &every_day(Tz::UTC, vec![hours("09:00", "12:00")], 60),
        |d| {
            d.buffer_before = Duration::minutes(5);
            d.buffer_after = Duration::minutes(7);
        },
    );
    let now = utc(2026, 12, 1, 0, 0);
    let window = whole_utc_day(2026, 12, 2);
    let busy = busy_range_for(&s, window, now).unwrap();
    assert_eq!(busy.start(), window.start() - Duration::minutes(5));
    assert_eq!(busy.end(), window.end() + Duration::minutes(67));
    assert_eq!(
        busy_range_for(&s, range(utc(2020, 1, 1, 0, 0), utc(2020, 1, 2, 0, 0)), now),
        None
    );
}

// ---------------------------------------------------------------- properties

const ZONES: [Tz; 8] = [
    Tz::UTC,
    America::New_York,
    Europe::London,
    Australia::Lord_Howe,
    America::Havana,
    Asia::Beirut,
    Asia::Kolkata,
    America::St_Johns,
];

fn arb_interval() -> impl Strategy<Value = LocalInterval> {
    (0u32..=95, 1u32..=24).prop_map(|(start_q, len_q)| {
        let start = start_q * 15;
        let end = (start + len_q * 15).min(1440);
        let t = |m: u32| crate::time::WallTime::from_hm(m / 60, m % 60).unwrap();
        LocalInterval::new(t(start), t(end)).unwrap()
    })
}

fn arb_settings() -> impl Strategy<Value = OrganizerSettings> {
    (
        0..ZONES.len(),
        proptest::collection::vec(proptest::collection::vec(arb_interval(), 0..3), 7),
        proptest::collection::vec(
            (0i64..20, proptest::collection::vec(arb_interval(), 0..2)),
            0..3,
        ),
        prop_oneof![Just(15i64), Just(30), Just(45), Just(60), Just(90)],
        proptest::option::of(prop_oneof![Just(10i64), Just(15), Just(30), Just(60)]),
        (0i64..4, 0i64..4),
        prop_oneof![Just(0i64), Just(60), Just(24 * 60)],
        1i64..30,
    )
        .prop_map(
            |(zone, days, overrides, duration, step, (bb, ba), notice, advance)| {
                let mut week = WeeklyHours::default();
                for (day, hours) in crate::schedule::ALL_WEEKDAYS.into_iter().zip(days) {
                    *week.day_mut(day) = hours;
                }
                let base = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
                let date_overrides = overrides
                    .into_iter()
                    .map(|(offset, hours)| (base + Duration::days(offset), hours))
                    .collect();
                OrganizerSettings::try_from(SettingsDraft {
                    time_zone: Some(ZONES[zone]),
                    weekly_hours: week,
                    date_overrides,
                    slot_duration: Duration::minutes(duration),
                    slot_step: step.map(Duration::minutes),
                    buffer_before: Duration::minutes(bb * 10),
                    buffer_after: Duration::minutes(ba * 10),
                    min_notice: Duration::minutes(notice),
                    max_advance: Duration::days(advance),
                })
                .unwrap()
            },
        )
}

/// Instants around the DST changes of March 2026, on a 5-minute grid.
fn arb_instant() -> impl Strategy<Value = DateTime<Utc>> {
    (0i64..(40 * 24 * 12))
        .prop_map(|five_minutes| utc(2026, 2, 25, 0, 0) + Duration::minutes(five_minutes * 5))
}

fn arb_busy() -> impl Strategy<Value = Vec<TimeRange>> {
    proptest::collection::vec(
        (arb_instant(), 1i64..36).prop_map(|(start, len)| {
            TimeRange::starting_at(start, Duration::minutes(len * 10)).unwrap()
        }),
        0..12,
    )
}

fn arb_window() -> impl Strategy<Value = TimeRange> {
    (arb_instant(), 1i64..(10 * 24))
        .prop_map(|(start, hours)| TimeRange::starting_at(start, Duration::hours(hours)).unwrap())
}

/// Whether `slot` lies inside one resolved working interval of a local day.
fn inside_working_hours(settings: &OrganizerSettings, slot: &TimeRange) -> bool {
    let zone = settings.time_zone();
    let day = local_date(zone, slot.start()).unwrap();
    [day.pred_opt().unwrap(), day].into_iter().any(|date| {
        hours_on(settings, date).iter().any(|interval| {
            let open = resolve_local(zone, interval.start().on(date).unwrap()).unwrap();
            let close = resolve_local(zone, interval.end().on(date).unwrap()).unwrap();
            open <= slot.start() && slot.end() <= close
        })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn offered_slots_obey_every_rule(
        settings in arb_settings(),
        busy in arb_busy(),
        window in arb_window(),
        now in arb_instant(),
    ) {
        let slots = available_slots(&settings, &busy, window, now);
        for pair in slots.windows(2) {
            prop_assert!(pair[0].start() < pair[1].start(), "sorted without duplicates");
        }
        for slot in &slots {
            prop_assert_eq!(slot.duration(), settings.slot_duration());
            prop_assert!(window.contains(slot.start()));
            prop_assert!(slot.start() >= now + settings.min_notice());
            prop_assert!(slot.start() < now + settings.max_advance());
            let occupied = occupied_by(&settings, slot);
            prop_assert!(busy.iter().all(|b| !b.overlaps(&occupied)), "{slot} overlaps busy time");
            prop_assert!(inside_working_hours(&settings, slot), "{slot} outside working hours");
            prop_assert_eq!(check_booking(&settings, *slot, &busy, now), Ok(()));
        }
    }

    #[test]
    fn check_booking_accepts_exactly_the_offered_slots(
        settings in arb_settings(),
        busy in arb_busy(),
        now in arb_instant(),
        probes in proptest::collection::vec(arb_instant(), 1..40),
    ) {
        let window = TimeRange::new(utc(2026, 2, 24, 0, 0), utc(2026, 4, 10, 0, 0)).unwrap();
        let offered = available_slots(&settings, &busy, window, now);
        for start in probes {
            let requested = TimeRange::starting_at(start, settings.slot_duration()).unwrap();
            let accepted = check_booking(&settings, requested, &busy, now).is_ok();
            prop_assert_eq!(accepted, offered.binary_search(&requested).is_ok(), "disagree on {}", requested);
        }
    }

    #[test]
    fn offered_slots_do_not_depend_on_how_the_window_is_cut(
        settings in arb_settings(),
        busy in arb_busy(),
        window in arb_window(),
        now in arb_instant(),
        cut_hours in 1i64..200,
    ) {
        let whole = available_slots(&settings, &busy, window, now);
        let cut = (window.start() + Duration::hours(cut_hours)).min(window.end() - Duration::minutes(1));
        let mut parts = available_slots(&settings, &busy, TimeRange::new(window.start(), cut).unwrap(), now);
        parts.extend(available_slots(&settings, &busy, TimeRange::new(cut, window.end()).unwrap(), now));
        prop_assert_eq!(whole, parts);
    }
}
