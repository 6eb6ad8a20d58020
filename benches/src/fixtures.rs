//! The workloads, fixed so every run measures the same thing: the engine's
//! organizer (New York, weekdays 09:00–17:00, 30-minute slots, a window that
//! crosses a DST change) and the load program's organizers (every day
//! 00:00–24:00, 15-minute slots, bookings that never overlap).

use std::time::Duration as StdDuration;

use booking_core::availability::{SlotRefusal, SlotRules, Taken};
use booking_core::event_type::{EventType, EventTypeId};
use booking_core::organizer::OrganizerId;
use booking_core::schedule::{Schedule, ScheduleId};
use booking_core::settings::SettingsError;
use booking_core::time::{LocalInterval, LocalIntervalError, TimeRange};
use booking_core::{
    Attendee, BookingRequest, NewOrganizer, OrganizerSettings, SettingsDraft, ValidationErrors,
    WeeklyHours,
};
use chrono::{DateTime, Duration, NaiveDate, Utc};

/// A fixture could not be built (only possible if booking-core's rules
/// changed under the benchmarks).
#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    /// A working-hours interval was refused.
    #[error("bad fixture interval")]
    Interval(#[from] LocalIntervalError),
    /// The settings were refused.
    #[error("bad fixture settings")]
    Settings(#[from] SettingsError),
    /// The event type the settings amount to was refused.
    #[error("bad fixture event type: {0}")]
    EventType(#[from] ValidationErrors),
    /// The engine refused the fixture's rules.
    #[error("bad fixture rules: {0}")]
    Rules(#[from] SlotRefusal),
    /// A range was empty or reversed.
    #[error("bad fixture range")]
    Range(#[from] booking_core::time::InvalidTimeRange),
    /// The engine window offers no slot.
    #[error("the fixture window offers no slot")]
    NoSlot,
}

/// `y-m-d h:mi` UTC, for constants (a bad date fails the build).
const fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    let Some(date) = NaiveDate::from_ymd_opt(y, mo, d) else {
        panic!("invalid fixture date")
    };
    let Some(time) = date.and_hms_opt(h, mi, 0) else {
        panic!("invalid fixture time")
    };
    time.and_utc()
}

/// "Now" for the engine workloads: Sunday 1 February 2026, 00:00 UTC.
pub const ENGINE_NOW: DateTime<Utc> = utc(2026, 2, 1, 0, 0);

/// Start of every engine window: Monday 16 February 2026, 00:00 in New York
/// (05:00 UTC). A 62-day window from here ends on 19 April and crosses the
/// spring-forward change of 8 March 2026; a 366-day one crosses both changes.
pub const ENGINE_WINDOW_START: DateTime<Utc> = utc(2026, 2, 16, 5, 0);

/// The engine's organizer: America/New_York, Monday to Friday 09:00–17:00,
/// 30-minute slots every 30 minutes, no buffers, no notice, and bookable far
/// enough ahead (400 days) that a 366-day window is offered entirely.
pub fn engine_settings() -> Result<OrganizerSettings, FixtureError> {
    Ok(OrganizerSettings::try_from(SettingsDraft {
        time_zone: Some(chrono_tz::America::New_York),
        weekly_hours: WeeklyHours::weekdays(vec![LocalInterval::parse("09:00", "17:00")?]),
        slot_duration: Duration::minutes(30),
        slot_step: Some(Duration::minutes(30)),
        max_advance: Duration::days(400),
        ..SettingsDraft::default()
    })?)
}

/// What the engine works on: a schedule and an event type, here the default
/// schedule and default event type that [`engine_settings`] amount to (as
/// `BookingService::put_settings` would store them). The engine borrows
/// both through [`SlotRules`], so this owns them and lends the rules.
#[derive(Debug, Clone)]
pub struct EngineOrganizer {
    /// The working hours.
    pub schedule: Schedule,
    /// What is booked: lengths, step, buffers, notice, window.
    pub event_type: EventType,
}

impl EngineOrganizer {
    /// The default schedule and event type of `settings`, with fresh ids.
    pub fn from_settings(settings: &OrganizerSettings) -> Result<Self, FixtureError> {
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
            .build(EventTypeId::generate(), organizer)?;
        Ok(EngineOrganizer {
            schedule,
            event_type,
        })
    }

    /// The rules of the event type's default length on the schedule.
    pub fn rules(&self) -> Result<SlotRules<'_>, FixtureError> {
        Ok(SlotRules::new(&self.schedule, &self.event_type, None)?)
    }
}

/// The engine's organizer ([`engine_settings`]) as the engine sees it.
pub fn engine_organizer() -> Result<EngineOrganizer, FixtureError> {
    EngineOrganizer::from_settings(&engine_settings()?)
}

/// The engine window of `days` days from [`ENGINE_WINDOW_START`].
pub fn engine_window(days: i64) -> Result<TimeRange, FixtureError> {
    Ok(TimeRange::starting_at(
        ENGINE_WINDOW_START,
        Duration::days(days),
    )?)
}

/// `count` busy intervals spread evenly over `window`, disjoint (each half
/// its share of the window, at most 45 minutes), in a fixed shuffled order:
/// stores return occupied intervals sorted by start, but an external
/// calendar may not, so the engine's sort is part of what is measured (the
/// engine table also times the same lists sorted).
pub fn busy_intervals(count: usize, window: TimeRange) -> Result<Vec<TimeRange>, FixtureError> {
    if count == 0 {
        return Ok(Vec::new());
    }
    let total = window.duration().num_seconds();
    let share = total / i64::try_from(count).unwrap_or(i64::MAX);
    let length = Duration::seconds((share / 2).clamp(1, 45 * 60));
    let mut busy = Vec::with_capacity(count);
    for i in 0..count {
        let offset = Duration::seconds(share * i64::try_from(i).unwrap_or(0) + share / 4);
        busy.push(TimeRange::starting_at(window.start() + offset, length)?);
    }
    shuffle(&mut busy, 0x5eed_1234_abcd_0001);
    Ok(busy)
}

/// A free slot in the middle of the 62-day engine window, and `count` busy
/// intervals spread over the window, none overlapping that slot: the input
/// for `check_booking`, which then has to look at every interval.
pub fn busy_around_free_slot(count: usize) -> Result<(TimeRange, Vec<TimeRange>), FixtureError> {
    let organizer = engine_organizer()?;
    let window = engine_window(62)?;
    let slots = booking_core::availability::available_slots(
        &organizer.rules()?,
        Taken::default(),
        window,
        ENGINE_NOW,
    );
    let slot = slots
        .get(slots.len() / 2)
        .copied()
        .ok_or(FixtureError::NoSlot)?;
    let mut busy: Vec<TimeRange> = busy_intervals(count + count / 10 + 10, window)?
        .into_iter()
        .filter(|b| !b.overlaps(&slot))
        .collect();
    busy.truncate(count);
    Ok((slot, busy))
}

/// Fisher–Yates with a fixed xorshift generator: the same order every run,
/// no dependency on a random-number crate.
pub fn shuffle<T>(items: &mut [T], mut seed: u64) {
    for i in (1..items.len()).rev() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let j = usize::try_from(seed % (i as u64 + 1)).unwrap_or(0);
        items.swap(i, j);
    }
}

/// "Now" for the load program (a fixed `ManualClock`, so runs do not depend
/// on the date): 1 January 2030, 00:00 UTC.
pub const LOAD_NOW: DateTime<Utc> = utc(2030, 1, 1, 0, 0);

/// First slot the load program books: one day after [`LOAD_NOW`].
pub const LOAD_FIRST_SLOT: DateTime<Utc> = utc(2030, 1, 2, 0, 0);

/// Length of every load-program slot.
pub const LOAD_SLOT_MINUTES: i64 = 15;

/// Distance between two bookings of one organizer in the load program: 8
/// bookings a day, so the booking path reads a realistic handful of
/// occupied intervals (those within two days of the slot), not thousands.
pub const LOAD_SPACING: Duration = Duration::hours(3);

/// How far ahead load-program organizers take bookings (the longest horizon
/// booking-core allows is 3660 days).
pub const LOAD_MAX_ADVANCE_DAYS: i64 = 3650;

/// The most bookings the load program can make on one organizer before its
/// slots run past the horizon.
pub const LOAD_SLOTS_PER_ORGANIZER: u64 = (LOAD_MAX_ADVANCE_DAYS as u64 - 2) * 8;

/// The load program's organizers' settings: UTC, every day 00:00–24:00,
/// 15-minute slots, no buffers, no notice, 3650 days ahead.
pub fn load_settings() -> Result<SettingsDraft, FixtureError> {
    Ok(SettingsDraft {
        time_zone: Some(chrono_tz::UTC),
        weekly_hours: WeeklyHours::every_day(vec![LocalInterval::parse("00:00", "24:00")?]),
        slot_duration: Duration::minutes(LOAD_SLOT_MINUTES),
        max_advance: Duration::days(LOAD_MAX_ADVANCE_DAYS),
        ..SettingsDraft::default()
    })
}

/// The `index`-th load organizer of a run tagged `run`.
pub fn load_organizer(run: &str, index: usize) -> NewOrganizer {
    let username = organizer_username(run, index);
    NewOrganizer::new(
        username.clone(),
        format!("{username}@example.com"),
        format!("Load organizer {index}"),
        chrono_tz::UTC,
    )
}

/// The username of the `index`-th load organizer of run `run`.
pub fn organizer_username(run: &str, index: usize) -> String {
    format!("{run}o{index}")
}

/// The `slot`-th slot of a load organizer: `LOAD_FIRST_SLOT + slot * LOAD_SPACING`.
pub fn load_slot(slot: u64) -> Result<TimeRange, FixtureError> {
    let hours = i64::try_from(slot)
        .unwrap_or(i64::MAX / 4)
        .saturating_mul(LOAD_SPACING.num_hours());
    Ok(TimeRange::starting_at(
        LOAD_FIRST_SLOT + Duration::hours(hours),
        Duration::minutes(LOAD_SLOT_MINUTES),
    )?)
}

/// The attendee of every load-program booking.
pub const ATTENDEE_NAME: &str = "Grace Hopper";
/// Their email address.
pub const ATTENDEE_EMAIL: &str = "grace@example.com";
/// The title of every load-program booking.
pub const BOOKING_TITLE: &str = "Load test";
/// The description of every load-program booking.
pub const BOOKING_DESCRIPTION: &str = "Booked by the benches load program";

/// A booking request for `range` on `username`'s default event type (the
/// one `put_settings` made: a request that names no event type books it),
/// shaped like a real one (name, email, title, a short description, no
/// metadata).
pub fn booking_request(username: &str, range: TimeRange) -> BookingRequest {
    BookingRequest::new(
        username,
        range,
        Attendee::new(ATTENDEE_NAME, ATTENDEE_EMAIL),
    )
    .title(BOOKING_TITLE)
    .description(BOOKING_DESCRIPTION)
}

/// How a run's bookings are laid out: each of `tasks` tasks owns
/// `organizers_per_task` organizers and books them in turn, one
/// [`LOAD_SPACING`] further each round, so no two bookings of a run ever
/// overlap and no two tasks ever touch the same organizer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// Concurrent tasks.
    pub tasks: usize,
    /// Organizers each task owns.
    pub organizers_per_task: usize,
}

impl Layout {
    /// How many organizers the run registers.
    pub fn organizers(&self) -> usize {
        self.tasks * self.organizers_per_task
    }

    /// The organizer of task `task`'s `n`-th operation: its organizers in
    /// turn, with no horizon (a slots query books nothing).
    pub fn organizer(&self, task: usize, n: u64) -> usize {
        let per = self.organizers_per_task.max(1) as u64;
        // `n % per` is below `organizers_per_task`, a `usize`.
        task * self.organizers_per_task + usize::try_from(n % per).unwrap_or(0)
    }

    /// Organizer index and slot number of task `task`'s `n`-th booking
    /// (`n` counted from 0); `None` past the organizers' horizon.
    pub fn booking(&self, task: usize, n: u64) -> Option<(usize, u64)> {
        let per = self.organizers_per_task.max(1) as u64;
        let organizer = task * self.organizers_per_task + usize::try_from(n % per).ok()?;
        let slot = n / per;
        (slot < LOAD_SLOTS_PER_ORGANIZER).then_some((organizer, slot))
    }
}

/// How long one measured phase runs: for a time or for a number of
/// operations (whichever the command line asked for).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// Run for this long.
    Time(StdDuration),
    /// Run this many operations in all (across tasks).
    Count(u64),
}

#[cfg(test)]
mod tests {
    use super::*;
    use booking_core::availability::{available_slots, check_booking};

    #[test]
    fn the_62_day_window_crosses_a_dst_change_and_offers_weekday_slots() {
        let organizer = engine_organizer().unwrap();
        let window = engine_window(62).unwrap();
        let slots = available_slots(
            &organizer.rules().unwrap(),
            Taken::default(),
            window,
            ENGINE_NOW,
        );
        // 45 weekdays from Monday 16 Feb to Saturday 18 Apr 2026, 16 slots each.
        assert_eq!(slots.len(), 45 * 16);
        // 09:00 New York is 14:00 UTC before 8 March and 13:00 UTC after.
        assert_eq!(slots[0].start(), utc(2026, 2, 16, 14, 0));
        assert_eq!(slots.last().unwrap().start(), utc(2026, 4, 17, 20, 30));
    }

    #[test]
    fn busy_intervals_are_disjoint_and_inside_the_window() {
        let window = engine_window(62).unwrap();
        for count in [1, 100, 1_000, 10_000] {
            let mut busy = busy_intervals(count, window).unwrap();
            assert_eq!(busy.len(), count);
            busy.sort();
            assert!(busy.windows(2).all(|w| w[0].end() <= w[1].start()));
            assert!(busy.iter().all(|b| window.encloses(b)));
        }
    }

    #[test]
    fn the_check_booking_input_keeps_its_slot_free() {
        let organizer = engine_organizer().unwrap();
        let (slot, busy) = busy_around_free_slot(10_000).unwrap();
        assert_eq!(busy.len(), 10_000);
        let taken = Taken {
            busy: &busy,
            booked: &[],
        };
        check_booking(&organizer.rules().unwrap(), slot, taken, ENGINE_NOW).unwrap();
    }

    #[test]
    fn a_layout_never_gives_two_tasks_the_same_organizer_and_slot() {
        let layout = Layout {
            tasks: 3,
            organizers_per_task: 2,
        };
        let mut seen = std::collections::HashSet::new();
        for task in 0..3 {
            for n in 0..50 {
                assert!(seen.insert(layout.booking(task, n).unwrap()));
            }
        }
        assert_eq!(layout.booking(0, LOAD_SLOTS_PER_ORGANIZER * 2), None);
    }

    #[test]
    fn load_slots_are_bookable_under_the_load_settings() {
        let settings = OrganizerSettings::try_from(load_settings().unwrap()).unwrap();
        let organizer = EngineOrganizer::from_settings(&settings).unwrap();
        let rules = organizer.rules().unwrap();
        for slot in [0, 1, 7, 8, LOAD_SLOTS_PER_ORGANIZER - 1] {
            let range = load_slot(slot).unwrap();
            check_booking(&rules, range, Taken::default(), LOAD_NOW).unwrap();
        }
    }
}
