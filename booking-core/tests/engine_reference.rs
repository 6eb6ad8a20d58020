//! The availability engine against a straightforward reference kept here, in
//! every IANA zone, on dates around their UTC offset changes.
//!
//! The reference walks every local date near the window (three days either
//! side, far more than any offset change moves a day), builds each date's
//! working intervals with `resolve_local`, steps slots from each interval's
//! start, and keeps those starting in the window and the bookable starts,
//! clear of busy time and below the limits. `available_slots` must return
//! exactly that list, every slot it offers must pass `check_booking`, and
//! `check_booking` must refuse every start the reference does not offer.

use booking_core::availability::{SlotRefusal, SlotRules, Taken, available_slots, check_booking};
use booking_core::chrono::Weekday;
use booking_core::chrono::{DateTime, Datelike, Duration, NaiveDate, Offset, TimeZone, Utc};
use booking_core::chrono_tz::{self, TZ_VARIANTS, Tz};
use booking_core::time::{local_date, resolve_local};
use booking_core::{
    BookingLimits, BookingWindow, EventType, EventTypeDraft, EventTypeId, LocalInterval,
    OrganizerId, Schedule, ScheduleId, TimeRange, WallTime, WeeklyHours,
};
use proptest::prelude::*;
use std::collections::{BTreeMap, HashMap};

// ---------------------------------------------------------------------------
// The reference.

/// What the engine gets, spelled out.
struct Inputs<'a> {
    schedule: &'a Schedule,
    event_type: &'a EventType,
    busy: &'a [TimeRange],
    booked: &'a [DateTime<Utc>],
    now: DateTime<Utc>,
}

/// The starts the booking window and the notice allow, by the definitions in
/// `BookingWindow`'s docs (rolling and date-range windows only).
fn reference_bookable(inputs: &Inputs<'_>) -> Option<TimeRange> {
    let zone = inputs.schedule.time_zone;
    let earliest = inputs.now + inputs.event_type.min_notice;
    let (first, bound) = match inputs.event_type.booking_window {
        BookingWindow::Rolling { horizon } => (earliest, inputs.now + horizon),
        BookingWindow::Range { first, last } => {
            let open = resolve_local(zone, first.and_hms_opt(0, 0, 0)?)?;
            let close = resolve_local(zone, last.succ_opt()?.and_hms_opt(0, 0, 0)?)?;
            (earliest.max(open), close)
        }
        other => panic!("the reference does not model {other:?}"),
    };
    TimeRange::new(first, bound).ok()
}

/// The first local date of the week holding `date`.
fn week_start(date: NaiveDate, first: Weekday) -> NaiveDate {
    let back = (7 + date.weekday().num_days_from_monday() - first.num_days_from_monday()) % 7;
    date - Duration::days(i64::from(back))
}

/// The slots offered in `window`, computed the slow and obvious way.
fn reference_slots(inputs: &Inputs<'_>, window: TimeRange) -> Vec<TimeRange> {
    let zone = inputs.schedule.time_zone;
    let event = inputs.event_type;
    let duration = event.duration;
    let step = event.slot_step.unwrap_or(duration);
    let Some(bookable) = reference_bookable(inputs).and_then(|b| b.intersection(&window)) else {
        return Vec::new();
    };
    let first = local_date(zone, window.start()).unwrap() - Duration::days(3);
    let last = local_date(zone, window.end()).unwrap() + Duration::days(3);
    let mut slots = Vec::new();
    let mut date = first;
    while date <= last {
        for interval in inputs.schedule.hours_on(date) {
            let open = resolve_local(zone, interval.start().on(date).unwrap()).unwrap();
            let close = resolve_local(zone, interval.end().on(date).unwrap()).unwrap();
            let mut start = open;
            while start + duration <= close {
                if bookable.contains(start) {
                    slots.push(TimeRange::new(start, start + duration).unwrap());
                }
                start += step;
            }
        }
        date = date.succ_opt().unwrap();
    }
    slots.sort();
    slots.dedup();
    slots.retain(|slot| {
        let occupied = slot.widened(event.buffer_before, event.buffer_after);
        inputs.busy.iter().all(|busy| !busy.overlaps(&occupied))
    });
    let limits = event.limits;
    let mut per_day: HashMap<NaiveDate, u32> = HashMap::new();
    let mut per_week: HashMap<NaiveDate, u32> = HashMap::new();
    for start in inputs.booked {
        let date = local_date(zone, *start).unwrap();
        *per_day.entry(date).or_default() += 1;
        *per_week
            .entry(week_start(date, limits.week_starts_on))
            .or_default() += 1;
    }
    slots.retain(|slot| {
        let date = local_date(zone, slot.start()).unwrap();
        let day = per_day.get(&date).copied().unwrap_or(0);
        let week = per_week
            .get(&week_start(date, limits.week_starts_on))
            .copied()
            .unwrap_or(0);
        limits.per_day.is_none_or(|max| day < max) && limits.per_week.is_none_or(|max| week < max)
    });
    slots
}

// ---------------------------------------------------------------------------
// Finding offset changes.

fn offset_at(zone: Tz, instant: DateTime<Utc>) -> i32 {
    zone.offset_from_utc_datetime(&instant.naive_utc())
        .fix()
        .local_minus_utc()
}

/// The instants in `year` (UTC) at which `zone`'s offset changes, to the
/// second: offsets sampled every three hours, each change bisected.
fn transitions(zone: Tz, year: i32) -> Vec<DateTime<Utc>> {
    let mut found = Vec::new();
    let mut at = Utc.with_ymd_and_hms(year, 1, 1, 0, 0, 0).unwrap();
    let end = Utc.with_ymd_and_hms(year + 1, 1, 1, 0, 0, 0).unwrap();
    let mut offset = offset_at(zone, at);
    while at < end {
        let next = at + Duration::hours(3);
        let next_offset = offset_at(zone, next);
        if next_offset != offset {
            // Whole seconds: every offset change in the database is on one.
            let (mut lo, mut hi) = (at.timestamp(), next.timestamp());
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                if offset_at(zone, DateTime::from_timestamp(mid, 0).unwrap()) == offset {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            found.push(DateTime::from_timestamp(hi, 0).unwrap());
        }
        at = next;
        offset = next_offset;
    }
    found
}

// ---------------------------------------------------------------------------
// Cases.

/// Zones and years with unusual changes, picked half the time: changes at
/// 00:01 that fall back across midnight (St John's, Goose Bay and Moncton
/// until 2011, 2010 and 2006), at midnight (Havana, Beirut, Asunción,
/// Santiago), by half an hour (Lord Howe), by two hours (Troll), by a whole
/// day (Apia 2011, Kwajalein 1993, Manila 1844 forward; Sitka 1867 back), Chatham's
/// 02:45 changes, and Morocco's double changes around Ramadan.
const NOTABLE: [(Tz, i32); 19] = [
    (chrono_tz::America::St_Johns, 2010),
    (chrono_tz::America::St_Johns, 2007),
    (chrono_tz::America::St_Johns, 1995),
    (chrono_tz::America::Goose_Bay, 2009),
    (chrono_tz::America::Moncton, 2005),
    (chrono_tz::America::Havana, 2026),
    (chrono_tz::Asia::Beirut, 2026),
    (chrono_tz::America::Asuncion, 2020),
    (chrono_tz::America::Santiago, 2026),
    (chrono_tz::Australia::Lord_Howe, 2026),
    (chrono_tz::Antarctica::Troll, 2026),
    (chrono_tz::Pacific::Apia, 2011),
    (chrono_tz::Pacific::Kwajalein, 1993),
    (chrono_tz::America::Sitka, 1867),
    (chrono_tz::Asia::Manila, 1844),
    (chrono_tz::Pacific::Chatham, 2026),
    (chrono_tz::Africa::Casablanca, 2019),
    (chrono_tz::America::New_York, 2026),
    (chrono_tz::Europe::London, 2026),
];

/// A wall-clock minute of the day, often one of the edges DST plays with.
fn arb_minute() -> impl Strategy<Value = u32> {
    prop_oneof![
        3 => prop::sample::select(vec![0u32, 1, 30, 59, 60, 61, 90, 120, 150, 165, 180, 1380, 1410, 1439]),
        2 => (0u32..288).prop_map(|five| five * 5),
        1 => 0u32..1440,
    ]
}

/// Working hours of one day: `start` plus a length, often up to `24:00`.
fn arb_interval() -> impl Strategy<Value = LocalInterval> {
    (
        arb_minute(),
        prop_oneof![
            2 => Just(None),
            3 => (1u32..=600).prop_map(Some),
            1 => prop::sample::select(vec![1u32, 2, 60]).prop_map(Some),
        ],
    )
        .prop_map(|(start, length)| {
            let end = length.map_or(1440, |l| (start + l).min(1440));
            let wall = |m: u32| WallTime::from_hm(m / 60, m % 60).unwrap();
            LocalInterval::new(wall(start), wall(end)).unwrap()
        })
}

/// One generated case: where, what, and when.
#[derive(Debug, Clone)]
struct Case {
    zone: Tz,
    year: i32,
    /// Picks one of the year's offset changes (or a plain date without any).
    pick: usize,
    week: Vec<Vec<LocalInterval>>,
    /// Overrides on dates relative to the change's local date.
    overrides: Vec<(i64, Vec<LocalInterval>)>,
    duration: i64,
    step: Option<i64>,
    buffers: (i64, i64),
    notice: i64,
    /// `None`: a date range from two days before to two after the change;
    /// else a rolling horizon in hours.
    horizon_hours: Option<i64>,
    limits: (Option<u32>, Option<u32>, Weekday),
    /// Window start before the change, and length, in minutes.
    window: (i64, i64),
    /// How long before the window "now" is, in minutes.
    now_before: i64,
    /// Busy intervals: start and length in minutes from the window's start.
    busy: Vec<(i64, i64)>,
    /// Booked starts, in minutes from the window's start.
    booked: Vec<i64>,
    /// Starts probed with `check_booking`, in minutes from the window's start.
    probes: Vec<i64>,
    /// Nanoseconds added to the window's start and end, "now", and the busy
    /// intervals' starts and ends: zero most of the time, else a fraction of
    /// a second or a whole second, to try the engine's rounding of instants
    /// to whole seconds.
    nanos: [i64; 5],
}

fn arb_zone_year() -> impl Strategy<Value = (Tz, i32)> {
    prop_oneof![
        1 => prop::sample::select(NOTABLE.to_vec()),
        1 => (prop::sample::select(TZ_VARIANTS.to_vec()), arb_year()),
    ]
}

/// A year, most often one with today's rules.
fn arb_year() -> impl Strategy<Value = i32> {
    prop_oneof![
        4 => 1970i32..2040,
        1 => 1850i32..1970,
    ]
}

/// A shift of an instant: none, part of a second, or a second.
fn arb_nanos() -> impl Strategy<Value = i64> {
    prop_oneof![
        4 => Just(0i64),
        1 => prop::sample::select(vec![1i64, 500_000_000, 999_999_999, 1_000_000_000, -1, -999_999_999]),
    ]
}

fn arb_case() -> impl Strategy<Value = Case> {
    arb_case_in(arb_zone_year())
}

/// A case in a zone and year `zone_year` picks.
fn arb_case_in(zone_year: impl Strategy<Value = (Tz, i32)>) -> impl Strategy<Value = Case> {
    let hours = (
        prop::collection::vec(prop::collection::vec(arb_interval(), 0..3), 7),
        prop::collection::vec(
            (-2i64..=2, prop::collection::vec(arb_interval(), 0..3)),
            0..3,
        ),
    );
    let lengths = (
        prop::sample::select(vec![5i64, 15, 20, 30, 45, 60, 90, 120, 1440]),
        prop::option::of(prop::sample::select(vec![5i64, 7, 10, 15, 30, 60])),
        (0i64..=4, 0i64..=4),
        prop_oneof![Just(0i64), 0i64..=(3 * 1440)],
        prop::option::of(1i64..=(10 * 24)),
        (
            prop::option::of(1u32..=3),
            prop::option::of(1u32..=6),
            prop::sample::select(vec![Weekday::Mon, Weekday::Sat, Weekday::Sun]),
        ),
    );
    let when = (
        (0i64..(3 * 1440), 1i64..(4 * 1440)),
        0i64..(3 * 1440),
        prop::collection::vec((-600i64..(5 * 1440), 5i64..300), 0..4),
        prop::collection::vec(-(3 * 1440)..(7 * 1440i64), 0..6),
        prop::collection::vec(-60i64..(5 * 1440), 0..30),
    );
    let nanos = prop::array::uniform5(arb_nanos());
    (zone_year, any::<usize>(), hours, lengths, when, nanos).prop_map(
        |(
            (zone, year),
            pick,
            (week, overrides),
            (duration, step, buffers, notice, horizon_hours, limits),
            (window, now_before, busy, booked, probes),
            nanos,
        )| Case {
            zone,
            year,
            pick,
            week,
            overrides,
            duration,
            step,
            buffers: (buffers.0 * 15, buffers.1 * 15),
            notice,
            horizon_hours,
            limits,
            window,
            now_before,
            busy,
            booked,
            probes,
            nanos,
        },
    )
}

/// The schedule, event type, and instants a case describes.
struct Built {
    schedule: Schedule,
    event_type: EventType,
    window: TimeRange,
    now: DateTime<Utc>,
    busy: Vec<TimeRange>,
    booked: Vec<DateTime<Utc>>,
    probes: Vec<DateTime<Utc>>,
}

fn build(case: &Case) -> Built {
    let changes = transitions(case.zone, case.year);
    let around = if changes.is_empty() {
        Utc.with_ymd_and_hms(case.year, 1, 1, 0, 0, 0).unwrap()
            + Duration::days((case.pick % 365) as i64)
    } else {
        changes[case.pick % changes.len()]
    };
    let change_date = local_date(case.zone, around).unwrap();
    let mut weekly_hours = WeeklyHours::default();
    for (day, hours) in [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
        Weekday::Sun,
    ]
    .into_iter()
    .zip(&case.week)
    {
        *weekly_hours.day_mut(day) = hours.clone();
    }
    let date_overrides: BTreeMap<NaiveDate, Vec<LocalInterval>> = case
        .overrides
        .iter()
        .map(|(days, hours)| (change_date + Duration::days(*days), hours.clone()))
        .collect();
    let organizer = OrganizerId::generate();
    let schedule = Schedule {
        id: ScheduleId::generate(),
        organizer_id: organizer,
        name: "Hours".into(),
        time_zone: case.zone,
        weekly_hours,
        date_overrides,
        is_default: true,
    };
    let mut draft = EventTypeDraft::new("probe", "Probe", Duration::minutes(case.duration));
    draft.slot_step = case.step.map(Duration::minutes);
    draft.buffer_before = Duration::minutes(case.buffers.0);
    draft.buffer_after = Duration::minutes(case.buffers.1);
    draft.min_notice = Duration::minutes(case.notice);
    draft.booking_window = match case.horizon_hours {
        Some(hours) => BookingWindow::Rolling {
            horizon: Duration::hours(hours),
        },
        None => BookingWindow::Range {
            first: change_date - Duration::days(2),
            last: change_date + Duration::days(2),
        },
    };
    draft.limits = BookingLimits {
        per_day: case.limits.0,
        per_week: case.limits.1,
        week_starts_on: case.limits.2,
    };
    let event_type = draft.build(EventTypeId::generate(), organizer).unwrap();
    let start = around - Duration::minutes(case.window.0);
    let [window_start, window_end, now, busy_start, busy_end] =
        case.nanos.map(Duration::nanoseconds);
    let window = TimeRange::new(
        start + window_start,
        start + Duration::minutes(case.window.1) + window_end,
    )
    .unwrap();
    let at = |minutes: i64| start + Duration::minutes(minutes);
    Built {
        schedule,
        event_type,
        window,
        now: start - Duration::minutes(case.now_before) + now,
        busy: case
            .busy
            .iter()
            .map(|(from, length)| {
                TimeRange::new(
                    at(*from) + busy_start,
                    at(*from) + Duration::minutes(*length) + busy_end,
                )
                .unwrap()
            })
            .collect(),
        booked: case.booked.iter().map(|m| at(*m)).collect(),
        probes: case.probes.iter().map(|m| at(*m)).collect(),
    }
}

/// Compares the engine with the reference on one case.
fn compare(built: &Built) -> Result<(), TestCaseError> {
    let inputs = Inputs {
        schedule: &built.schedule,
        event_type: &built.event_type,
        busy: &built.busy,
        booked: &built.booked,
        now: built.now,
    };
    let rules = SlotRules::new(&built.schedule, &built.event_type, None).unwrap();
    let taken = Taken {
        busy: &built.busy,
        booked: &built.booked,
    };
    let expected = reference_slots(&inputs, built.window);
    let offered = available_slots(&rules, taken, built.window, built.now);
    prop_assert_eq!(&offered, &expected, "available_slots in {}", built.window);
    for slot in &offered {
        prop_assert_eq!(
            check_booking(&rules, *slot, taken, built.now),
            Ok(()),
            "check_booking refuses the offered slot {}",
            slot
        );
    }
    // Each probe, and each instant a minute either side of an offered start.
    // The reference filters by start alone, so one list over a window
    // holding them all says which of them it offers.
    let near_offered = offered
        .iter()
        .flat_map(|slot| [-1, 1].map(|minutes| slot.start() + Duration::minutes(minutes)));
    let probes: Vec<DateTime<Utc>> = built.probes.iter().copied().chain(near_offered).collect();
    let (Some(first), Some(last)) = (probes.iter().min(), probes.iter().max()) else {
        return Ok(());
    };
    let around = TimeRange::new(*first, *last + Duration::nanoseconds(1)).unwrap();
    let reference = reference_slots(&inputs, around);
    for start in probes {
        let requested = TimeRange::starting_at(start, built.event_type.duration).unwrap();
        let verdict = check_booking(&rules, requested, taken, built.now);
        prop_assert_eq!(
            verdict.is_ok(),
            reference.binary_search(&requested).is_ok(),
            "check_booking({}) = {:?}",
            requested,
            verdict
        );
    }
    Ok(())
}

/// 256 cases, a few seconds in a debug build; `PROPTEST_CASES` asks for more.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(256);
    ProptestConfig::with_cases(cases)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn the_engine_matches_the_reference_around_offset_changes(case in arb_case()) {
        compare(&build(&case))?;
    }
}

/// Cases per zone in [`every_zone_matches_the_reference`]; `ZONE_CASES`
/// asks for more.
fn zone_cases() -> u32 {
    std::env::var("ZONE_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(2)
}

/// The property above in every zone of the database, not just those the
/// sampling picks: a few random cases each (new ones on every run), around
/// one of its offset changes in a random year.
#[test]
fn every_zone_matches_the_reference() {
    let config = ProptestConfig {
        cases: zone_cases(),
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    for zone in TZ_VARIANTS {
        let mut runner = proptest::test_runner::TestRunner::new(config.clone());
        let cases = arb_case_in(arb_year().prop_map(move |year| (zone, year)));
        if let Err(failure) = runner.run(&cases, |case| compare(&build(&case))) {
            panic!("{zone}: {failure}");
        }
    }
}

// ---------------------------------------------------------------------------
// Fixed cases.

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
}

/// St John's on Sunday 7 November 2010: at 00:01 NDT (02:31Z) clocks went
/// back to 23:01 NST of Saturday. Sunday's `00:00` is ambiguous and takes the
/// earlier instant, 02:30Z, so Sunday's slots run from 02:30Z while the local
/// date is Saturday again from 02:31Z to 03:30Z.
fn st_johns_2010() -> (Schedule, EventType) {
    let organizer = OrganizerId::generate();
    let weekly_hours = WeeklyHours {
        sunday: vec![LocalInterval::parse("00:00", "02:00").unwrap()],
        ..WeeklyHours::default()
    };
    let schedule = Schedule {
        id: ScheduleId::generate(),
        organizer_id: organizer,
        name: "Hours".into(),
        time_zone: chrono_tz::America::St_Johns,
        weekly_hours,
        date_overrides: BTreeMap::new(),
        is_default: true,
    };
    let mut draft = EventTypeDraft::new("half-hour", "Half an hour", Duration::minutes(30));
    draft.booking_window = BookingWindow::Rolling {
        horizon: Duration::days(3650),
    };
    let event_type = draft.build(EventTypeId::generate(), organizer).unwrap();
    (schedule, event_type)
}

#[test]
fn st_johns_fall_back_at_one_past_midnight_keeps_sundays_first_slots() {
    let (schedule, event_type) = st_johns_2010();
    let rules = SlotRules::new(&schedule, &event_type, None).unwrap();
    let now = utc(2010, 1, 1, 0, 0);
    let none = Taken::default();
    // Sunday 00:00 NDT is 02:30Z; Sunday 02:00 NST is 05:30Z: a 3-hour day.
    let sunday: Vec<TimeRange> = (0..6)
        .map(|half_hours| {
            TimeRange::starting_at(
                utc(2010, 11, 7, 2, 30) + Duration::minutes(30 * half_hours),
                Duration::minutes(30),
            )
            .unwrap()
        })
        .collect();
    let whole = TimeRange::new(utc(2010, 11, 6, 0, 0), utc(2010, 11, 8, 0, 0)).unwrap();
    assert_eq!(available_slots(&rules, none, whole, now), sunday);
    // A window ending at 03:15Z ends on Saturday 23:45 NST, local time.
    let to_saturday_night =
        TimeRange::new(utc(2010, 11, 6, 12, 0), utc(2010, 11, 7, 3, 15)).unwrap();
    assert_eq!(
        available_slots(&rules, none, to_saturday_night, now),
        sunday[..2].to_vec()
    );
    // The 03:00Z slot (Saturday 23:30 NST by the clock) is Sunday's second.
    assert_eq!(check_booking(&rules, sunday[1], none, now), Ok(()));
    for slot in &sunday {
        assert_eq!(check_booking(&rules, *slot, none, now), Ok(()), "{slot}");
    }
    let off_grid = TimeRange::starting_at(utc(2010, 11, 7, 3, 10), Duration::minutes(30)).unwrap();
    assert_eq!(
        check_booking(&rules, off_grid, none, now),
        Err(SlotRefusal::NotOffered)
    );
}

#[test]
fn st_johns_regression_matches_the_reference() {
    let (schedule, event_type) = st_johns_2010();
    let change = utc(2010, 11, 7, 2, 31);
    for window_end_minutes in [1, 29, 30, 31, 59, 60, 90, 180] {
        let window = TimeRange::new(
            utc(2010, 11, 6, 12, 0),
            change + Duration::minutes(window_end_minutes),
        )
        .unwrap();
        let built = Built {
            schedule: schedule.clone(),
            event_type: event_type.clone(),
            window,
            now: utc(2010, 1, 1, 0, 0),
            busy: Vec::new(),
            booked: Vec::new(),
            probes: (0..40)
                .map(|five| utc(2010, 11, 7, 2, 0) + Duration::minutes(5 * five))
                .collect(),
        };
        compare(&built).unwrap();
    }
}

#[test]
fn transitions_are_found_to_the_second() {
    let changes = transitions(chrono_tz::America::St_Johns, 2010);
    assert_eq!(
        changes,
        vec![utc(2010, 3, 14, 3, 31), utc(2010, 11, 7, 2, 31)]
    );
}

/// Every notable zone and year, each change, windows from twelve hours
/// before it ending on every half hour up to twelve hours after it:
/// exhaustive where the property test samples.
#[test]
fn notable_changes_match_the_reference_at_every_half_hour() {
    let hours = vec![
        LocalInterval::parse("00:00", "02:00").unwrap(),
        LocalInterval::parse("22:30", "24:00").unwrap(),
    ];
    for (zone, year) in NOTABLE {
        let organizer = OrganizerId::generate();
        let schedule = Schedule {
            id: ScheduleId::generate(),
            organizer_id: organizer,
            name: "Hours".into(),
            time_zone: zone,
            weekly_hours: WeeklyHours::every_day(hours.clone()),
            date_overrides: BTreeMap::new(),
            is_default: true,
        };
        let mut draft = EventTypeDraft::new("half-hour", "Half an hour", Duration::minutes(30));
        draft.booking_window = BookingWindow::Rolling {
            horizon: Duration::days(3650),
        };
        let event_type = draft.build(EventTypeId::generate(), organizer).unwrap();
        for change in transitions(zone, year) {
            let start = change - Duration::hours(12);
            for half_hours in 1..=48 {
                let window =
                    TimeRange::starting_at(start, Duration::minutes(30 * half_hours)).unwrap();
                let built = Built {
                    schedule: schedule.clone(),
                    event_type: event_type.clone(),
                    window,
                    now: start - Duration::days(1),
                    busy: Vec::new(),
                    booked: Vec::new(),
                    probes: Vec::new(),
                };
                if let Err(e) = compare(&built) {
                    panic!("{zone} around {change}: {e}");
                }
            }
        }
    }
}
