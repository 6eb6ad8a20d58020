//! The availability engine: which slots an event type offers, and whether
//! one requested range is bookable. Pure functions of their arguments, no
//! I/O and no clock: callers pass `now`.

use chrono::{DateTime, Duration, Utc};

use crate::event_type::LimitPeriod;
use crate::time::{TimeRange, local_date, resolve_local};

mod grid;
mod limits;
mod rules;

use limits::LimitCounts;
pub use rules::SlotRules;

/// What is already taken when slots are computed or a booking is checked.
#[derive(Debug, Clone, Copy, Default)]
pub struct Taken<'a> {
    /// *Occupied* intervals: for each active booking of the organizer (of
    /// any event type) its meeting widened by the buffers it was booked
    /// with, plus external busy intervals (from an
    /// [`AvailabilityProvider`](crate::provider::AvailabilityProvider)) as
    /// they are.
    pub busy: &'a [TimeRange],
    /// Starts of the active bookings of this event type, counted against its
    /// limits. Only needed when the event type has limits; it must cover the
    /// local weeks around the window (see [`counted_range_for`]).
    pub booked: &'a [DateTime<Utc>],
}

/// The slots an event type offers in `window`, given what is taken.
///
/// The semantics, exactly:
///
/// 1. Every local date of the schedule's zone whose day intersects `window`
///    is expanded: the date's override if there is one, else its weekday's
///    hours. A day's intervals are sorted and merged where they overlap or
///    touch.
/// 2. Wall-clock bounds become instants in the schedule's zone with the
///    "compatible" rule ([`resolve_local`]): an ambiguous time takes the
///    earlier instant, a time in a gap moves forward by the gap's length, and
///    `24:00` is the next day's `00:00`, resolved the same way. An interval
///    that DST shrinks to nothing offers nothing.
/// 3. Candidates start at each interval's start and step by the slot step in
///    absolute time, kept while `start + duration <= interval end`.
/// 4. A candidate `[s, s + duration)` is offered when `s` lies in `window`
///    and in the starts the notice and booking window allow
///    ([`SlotRules::bookable_starts`]: never in the past); its occupied
///    interval `[s - buffer_before, s + duration + buffer_after)` overlaps no
///    interval of `taken.busy` (buffers need not fit inside working hours);
///    and the local day and week of `s` are below the event type's limits,
///    counting `taken.booked`.
/// 5. The result is sorted by start, without duplicates.
///
/// Cost: the busy list is sorted and merged once, then swept together with
/// the candidates (which come out in order), so it is linear in candidates
/// plus busy intervals after one sort.
///
/// ```
/// use booking_core::availability::{SlotRules, Taken, available_slots};
/// use booking_core::{EventTypeDraft, EventTypeId, LocalInterval, OrganizerId, Schedule, ScheduleId, TimeRange, WeeklyHours};
/// use chrono::{Duration, TimeZone, Utc};
///
/// let organizer = OrganizerId::generate();
/// let schedule = Schedule {
///     id: ScheduleId::generate(),
///     organizer_id: organizer,
///     name: "Hours".into(),
///     time_zone: chrono_tz::America::New_York,
///     weekly_hours: WeeklyHours::weekdays(vec![LocalInterval::parse("09:00", "11:00")?]),
///     date_overrides: Default::default(),
///     is_default: true,
/// };
/// let intro = EventTypeDraft::new("intro", "Intro", Duration::minutes(60))
///     .build(EventTypeId::generate(), organizer)?;
/// let rules = SlotRules::new(&schedule, &intro, None)?;
/// let now = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
/// // Wednesday 2 December 2026, as a UTC day.
/// let day = TimeRange::new(
///     Utc.with_ymd_and_hms(2026, 12, 2, 0, 0, 0).unwrap(),
///     Utc.with_ymd_and_hms(2026, 12, 3, 0, 0, 0).unwrap(),
/// )?;
/// // The 09:00 slot is taken (with a 10-minute buffer after it).
/// let taken = TimeRange::new(
///     Utc.with_ymd_and_hms(2026, 12, 2, 14, 0, 0).unwrap(),
///     Utc.with_ymd_and_hms(2026, 12, 2, 15, 10, 0).unwrap(),
/// )?;
/// let slots = available_slots(&rules, Taken { busy: &[taken], booked: &[] }, day, now);
/// // 10:00 New York time (EST, UTC-5) is 15:00 UTC, and it overlaps the buffer.
/// assert!(slots.is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn available_slots(
    rules: &SlotRules<'_>,
    taken: Taken<'_>,
    window: TimeRange,
    now: DateTime<Utc>,
) -> Vec<TimeRange> {
    let Some(bookable) = rules
        .bookable_starts(now)
        .and_then(|allowed| allowed.intersection(&window))
    else {
        return Vec::new();
    };
    // The whole-second path checks busy time in seconds when it can;
    // otherwise (or with nothing busy) candidates come out as ranges.
    let seconds = match grid::buffers(rules) {
        Some(buffers) if !taken.busy.is_empty() => grid::candidates(rules, bookable)
            .map(|seconds| grid::clear_of(&seconds, buffers, taken.busy)),
        _ => None,
    };
    let mut slots = match seconds {
        Some(slots) => slots,
        None => {
            let mut slots = grid::candidates(rules, bookable)
                .unwrap_or_else(|| candidate_slots(rules, bookable));
            if !taken.busy.is_empty() {
                let mut sweep = BusySweep::new(taken.busy);
                slots.retain(|slot| !sweep.overlaps(&rules.occupied_by(slot)));
            }
            slots
        }
    };
    if rules.limits().any() {
        let counts = LimitCounts::new(rules, taken.booked);
        slots.retain(|slot| counts.reached(rules, slot.start()).is_none());
    }
    slots
}

/// Why [`check_booking`] refused a requested range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SlotRefusal {
    /// The range's length is not one the event type offers.
    #[error("a booking must last {}", minutes_list(.allowed_minutes))]
    WrongLength {
        /// The lengths offered, in minutes.
        allowed_minutes: Vec<i64>,
    },
    /// The start is in the past, closer to now than the minimum notice, or
    /// before the booking window opens.
    #[error("this slot is too soon: the earliest bookable start is {earliest}")]
    TooSoon {
        /// The earliest start allowed.
        earliest: DateTime<Utc>,
    },
    /// The start is beyond the booking window.
    #[error("this slot is too far ahead: bookings are taken for starts before {latest}")]
    TooFarAhead {
        /// Starts must be before it.
        latest: DateTime<Utc>,
    },
    /// The range is not one of the offered slots (outside working hours,
    /// or not on the slot grid).
    #[error("this time is not one of the organizer's slots")]
    NotOffered,
    /// The slot, with its buffers, overlaps a booking or a busy interval.
    #[error("this slot is no longer available")]
    Busy,
    /// The event type's bookings already reached a limit on that local day
    /// or week.
    #[error("the most bookings allowed per {0} has been reached")]
    LimitReached(LimitPeriod),
}

fn minutes_list(minutes: &[i64]) -> String {
    match minutes {
        [only] => format!("exactly {only} minutes"),
        many => {
            let text: Vec<String> = many.iter().map(i64::to_string).collect();
            format!("one of {} minutes", text.join(", "))
        }
    }
}

/// Applies [`available_slots`]' rules to one requested range and says which
/// rule refused it. It accepts a range exactly when `available_slots` would
/// offer it (for any window containing its start): a booking must match an
/// offered slot exactly.
pub fn check_booking(
    rules: &SlotRules<'_>,
    requested: TimeRange,
    taken: Taken<'_>,
    now: DateTime<Utc>,
) -> Result<(), SlotRefusal> {
    if requested.duration() != rules.duration() {
        return Err(SlotRefusal::WrongLength {
            allowed_minutes: vec![rules.duration().num_minutes()],
        });
    }
    let start = requested.start();
    let Some(allowed) = rules.bookable_starts(now) else {
        return Err(SlotRefusal::TooFarAhead {
            latest: rules.earliest_start(now),
        });
    };
    if start < allowed.start() {
        return Err(SlotRefusal::TooSoon {
            earliest: allowed.start(),
        });
    }
    if start >= allowed.end() {
        return Err(SlotRefusal::TooFarAhead {
            latest: allowed.end(),
        });
    }
    let just_this_start = TimeRange::starting_at(start, Duration::nanoseconds(1))
        .map_err(|_| SlotRefusal::NotOffered)?;
    let offered = grid::candidates(rules, just_this_start)
        .unwrap_or_else(|| candidate_slots(rules, just_this_start));
    if !offered.contains(&requested) {
        return Err(SlotRefusal::NotOffered);
    }
    let occupied = rules.occupied_by(&requested);
    if taken.busy.iter().any(|b| b.overlaps(&occupied)) {
        return Err(SlotRefusal::Busy);
    }
    if rules.limits().any()
        && let Some(period) = LimitCounts::new(rules, taken.booked).reached(rules, start)
    {
        return Err(SlotRefusal::LimitReached(period));
    }
    Ok(())
}

/// The range of busy time that can affect slots starting in `window`: fetch
/// occupied intervals overlapping it and nothing outside it matters. `None`
/// when no slot can start in `window` at all (for example it is entirely in
/// the past).
pub fn busy_range_for(
    rules: &SlotRules<'_>,
    window: TimeRange,
    now: DateTime<Utc>,
) -> Option<TimeRange> {
    let starts = rules.bookable_starts(now)?.intersection(&window)?;
    let last_end = starts.end().checked_add_signed(rules.duration())?;
    let span = TimeRange::new(starts.start(), last_end).ok()?;
    Some(rules.occupied_by(&span))
}

/// The range whose bookings of the event type must be counted for limits
/// on slots starting in `window`: every local week touching it, in any zone
/// (eight days each side covers a week plus any UTC offset).
pub fn counted_range_for(window: TimeRange) -> TimeRange {
    window.widened(Duration::days(8), Duration::days(8))
}

/// Rules 1 to 3, keeping candidates whose start lies in `starts`; sorted by
/// start, without duplicates. The general path, in chrono's arithmetic:
/// [`grid::candidates`] computes the same in whole seconds whenever the
/// lengths are whole seconds.
fn candidate_slots(rules: &SlotRules<'_>, starts: TimeRange) -> Vec<TimeRange> {
    let zone = rules.zone();
    let duration = rules.duration();
    let step = rules.step();
    let mut slots = Vec::new();
    if duration <= Duration::zero() {
        return slots;
    }
    // One local day of margin on each side, because a day's slots need not
    // start on that day by the clock. Before: a gap across midnight moves the
    // day's late times, read on the new offset, into the next date.
    // After: a fall-back across midnight returns the clock to the previous
    // date once the day has begun (St John's until 2011, at 00:01 back to
    // 23:01: Sunday's 00:00 is 02:30Z, and 03:00Z reads Saturday 23:30).
    // Extra days only cost a little work: their slots are filtered by start.
    let (Some(first), Some(last)) = (
        local_date(zone, starts.start()),
        local_date(zone, starts.end()),
    ) else {
        return slots;
    };
    let last = last.succ_opt().unwrap_or(last);
    let mut date = first.pred_opt().unwrap_or(first);
    while date <= last {
        for interval in rules.schedule().hours_on(date) {
            let (Some(open), Some(close)) = (
                interval
                    .start()
                    .on(date)
                    .and_then(|t| resolve_local(zone, t)),
                interval.end().on(date).and_then(|t| resolve_local(zone, t)),
            ) else {
                continue;
            };
            push_interval_slots(&mut slots, open, close, duration, step, starts);
        }
        match date.succ_opt() {
            Some(next) => date = next,
            None => break,
        }
    }
    // Intervals of one day come out in order, but DST can make a later local
    // interval resolve earlier than the end of the previous one.
    slots.sort();
    slots.dedup();
    slots
}

/// Rule 3 for one resolved interval `[open, close)`.
fn push_interval_slots(
    slots: &mut Vec<TimeRange>,
    open: DateTime<Utc>,
    close: DateTime<Utc>,
    duration: Duration,
    step: Duration,
    starts: TimeRange,
) {
    let mut start = skip_to(open, step, starts.start());
    while start < starts.end() {
        let Some(end) = start.checked_add_signed(duration) else {
            return;
        };
        if end > close {
            return;
        }
        if let Ok(slot) = TimeRange::new(start, end) {
            slots.push(slot);
        }
        match start.checked_add_signed(step) {
            Some(next) => start = next,
            None => return,
        }
    }
}

/// The first grid point `open + k * step` (k >= 0) at or after `target`.
fn skip_to(open: DateTime<Utc>, step: Duration, target: DateTime<Utc>) -> DateTime<Utc> {
    if target <= open {
        return open;
    }
    let (Some(gap), Some(step_ns)) = ((target - open).num_nanoseconds(), step.num_nanoseconds())
    else {
        return open;
    };
    if step_ns <= 0 {
        return open;
    }
    let steps = (gap + step_ns - 1) / step_ns;
    steps
        .checked_mul(step_ns)
        .and_then(|ns| open.checked_add_signed(Duration::nanoseconds(ns)))
        .unwrap_or(target)
}

/// Busy intervals merged into a sorted, disjoint list, checked against
/// queries that arrive in increasing start order.
struct BusySweep {
    merged: Vec<TimeRange>,
    next: usize,
}

impl BusySweep {
    fn new(busy: &[TimeRange]) -> Self {
        let mut sorted = busy.to_vec();
        sorted.sort();
        let mut merged: Vec<TimeRange> = Vec::with_capacity(sorted.len());
        for range in sorted {
            match merged.last_mut() {
                Some(last) if range.start() <= last.end() => {
                    if range.end() > last.end() {
                        *last = TimeRange::new(last.start(), range.end()).unwrap_or(*last);
                    }
                }
                _ => merged.push(range),
            }
        }
        BusySweep { merged, next: 0 }
    }

    /// Whether `query` overlaps a busy interval. Queries must come with
    /// non-decreasing starts.
    fn overlaps(&mut self, query: &TimeRange) -> bool {
        while self
            .merged
            .get(self.next)
            .is_some_and(|busy| busy.end() <= query.start())
        {
            self.next += 1;
        }
        self.merged
            .get(self.next)
            .is_some_and(|busy| busy.start() < query.end())
    }
}

#[cfg(test)]
mod tests;
