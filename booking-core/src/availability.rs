//! The availability engine: which slots an organizer offers, and whether one
//! requested range is bookable. Pure functions of their arguments, no I/O and
//! no clock: callers pass `now`.

use chrono::{DateTime, Duration, Utc};

use crate::organizer::OrganizerSettings;
use crate::time::{TimeRange, local_date, resolve_local};

/// The slots an organizer offers in `window`, given what keeps them busy.
///
/// `busy` holds *occupied* intervals: for each active booking its meeting
/// widened by the buffers it was booked with, plus external busy intervals
/// (from an [`AvailabilityProvider`](crate::provider::AvailabilityProvider))
/// as they are. The semantics, exactly:
///
/// 1. Every organizer-local date whose day intersects `window` is expanded:
///    the date's override if there is one, else its weekday's hours. A day's
///    intervals are sorted and merged where they overlap or touch.
/// 2. Wall-clock bounds become instants in the organizer's zone with the
///    "compatible" rule ([`resolve_local`]): an ambiguous time takes the
///    earlier instant, a time in a gap moves forward by the gap's length, and
///    `24:00` is the next day's `00:00`, resolved the same way. An interval
///    that DST shrinks to nothing offers nothing.
/// 3. Candidates start at each interval's start and step by `slot_step` in
///    absolute time, kept while `start + slot_duration <= interval end`.
/// 4. A candidate `[s, s + slot_duration)` is offered when `s` lies in
///    `window`; `s >= now + min_notice` (so never in the past);
///    `s < now + max_advance`; and its occupied interval
///    `[s - buffer_before, s + slot_duration + buffer_after)` overlaps no
///    interval of `busy`. Buffers need not fit inside working hours.
/// 5. The result is sorted by start, without duplicates.
///
/// Cost: the busy list is sorted and merged once, then swept together with
/// the candidates (which come out in order), so it is linear in candidates
/// plus busy intervals after one sort.
///
/// ```
/// use booking_core::availability::available_slots;
/// use booking_core::organizer::{OrganizerSettings, SettingsDraft, WeeklyHours};
/// use booking_core::time::{LocalInterval, TimeRange};
/// use chrono::{Duration, TimeZone, Utc};
///
/// let settings = OrganizerSettings::try_from(SettingsDraft {
///     time_zone: chrono_tz::America::New_York,
///     weekly_hours: WeeklyHours::weekdays(vec![LocalInterval::parse("09:00", "11:00")?]),
///     slot_duration: Duration::minutes(60),
///     ..SettingsDraft::default()
/// })?;
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
/// let slots = available_slots(&settings, &[taken], day, now);
/// // 10:00 New York time (EST, UTC-5) is 15:00 UTC, and it overlaps the buffer.
/// assert!(slots.is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn available_slots(
    settings: &OrganizerSettings,
    busy: &[TimeRange],
    window: TimeRange,
    now: DateTime<Utc>,
) -> Vec<TimeRange> {
    let Some(bookable) = bookable_starts(settings, window, now) else {
        return Vec::new();
    };
    let mut sweep = BusySweep::new(busy);
    let mut slots = candidate_slots(settings, bookable);
    slots.retain(|slot| !sweep.overlaps(&occupied_by(settings, slot)));
    slots
}

/// Why [`check_booking`] refused a requested range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SlotRefusal {
    /// The range is not one slot long.
    #[error("a booking must last exactly {expected_minutes} minutes")]
    WrongLength {
        /// The organizer's slot length, in minutes.
        expected_minutes: i64,
    },
    /// The start is in the past or closer to now than the minimum notice.
    #[error("this slot is too soon: the earliest bookable start is {earliest}")]
    TooSoon {
        /// `now + min_notice`.
        earliest: DateTime<Utc>,
    },
    /// The start is beyond how far ahead the organizer takes bookings.
    #[error("this slot is too far ahead: bookings are taken for starts before {latest}")]
    TooFarAhead {
        /// `now + max_advance`; starts must be before it.
        latest: DateTime<Utc>,
    },
    /// The range is not one of the organizer's slots (outside working hours,
    /// or not on the slot grid).
    #[error("this time is not one of the organizer's slots")]
    NotOffered,
    /// The slot, with its buffers, overlaps a booking or a busy interval.
    #[error("this slot is no longer available")]
    Busy,
}

/// Applies [`available_slots`]' rules to one requested range and says which
/// rule refused it. It accepts a range exactly when `available_slots` would
/// offer it (for any window containing its start): a booking must match an
/// offered slot exactly, as in the seed.
pub fn check_booking(
    settings: &OrganizerSettings,
    requested: TimeRange,
    busy: &[TimeRange],
    now: DateTime<Utc>,
) -> Result<(), SlotRefusal> {
    if requested.duration() != settings.slot_duration() {
        return Err(SlotRefusal::WrongLength {
            expected_minutes: settings.slot_duration().num_minutes(),
        });
    }
    let start = requested.start();
    let earliest = earliest_start(settings, now);
    if start < earliest {
        return Err(SlotRefusal::TooSoon { earliest });
    }
    let latest = latest_start_bound(settings, now);
    if start >= latest {
        return Err(SlotRefusal::TooFarAhead { latest });
    }
    let just_this_start = TimeRange::starting_at(start, Duration::nanoseconds(1))
        .map_err(|_| SlotRefusal::NotOffered)?;
    if !candidate_slots(settings, just_this_start).contains(&requested) {
        return Err(SlotRefusal::NotOffered);
    }
    let occupied = occupied_by(settings, &requested);
    if busy.iter().any(|b| b.overlaps(&occupied)) {
        return Err(SlotRefusal::Busy);
    }
    Ok(())
}

/// The interval a slot would occupy if booked now: the slot widened by the
/// organizer's current buffers.
pub fn occupied_by(settings: &OrganizerSettings, slot: &TimeRange) -> TimeRange {
    slot.widened(settings.buffer_before(), settings.buffer_after())
}

/// The range of busy time that can affect slots starting in `window`: fetch
/// occupied intervals overlapping it and nothing outside it matters. `None`
/// when no slot can start in `window` at all (for example it is entirely in
/// the past).
pub fn busy_range_for(
    settings: &OrganizerSettings,
    window: TimeRange,
    now: DateTime<Utc>,
) -> Option<TimeRange> {
    let starts = bookable_starts(settings, window, now)?;
    let last_end = starts.end().checked_add_signed(settings.slot_duration())?;
    let span = TimeRange::new(starts.start(), last_end).ok()?;
    Some(span.widened(settings.buffer_before(), settings.buffer_after()))
}

/// `now + min_notice`: no slot may start earlier.
fn earliest_start(settings: &OrganizerSettings, now: DateTime<Utc>) -> DateTime<Utc> {
    now.checked_add_signed(settings.min_notice())
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// `now + max_advance`: every slot must start before it.
fn latest_start_bound(settings: &OrganizerSettings, now: DateTime<Utc>) -> DateTime<Utc> {
    now.checked_add_signed(settings.max_advance())
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// The starts rule 4 allows: `window ∩ [now + min_notice, now + max_advance)`.
fn bookable_starts(
    settings: &OrganizerSettings,
    window: TimeRange,
    now: DateTime<Utc>,
) -> Option<TimeRange> {
    let start = window.start().max(earliest_start(settings, now));
    let end = window.end().min(latest_start_bound(settings, now));
    TimeRange::new(start, end).ok()
}

/// Rules 1 to 3, keeping candidates whose start lies in `starts`; sorted by
/// start, without duplicates.
fn candidate_slots(settings: &OrganizerSettings, starts: TimeRange) -> Vec<TimeRange> {
    let zone = settings.time_zone();
    let duration = settings.slot_duration();
    let step = settings.slot_step();
    let mut slots = Vec::new();
    // One local day before the first, as a margin: a day's slots can never
    // start before its own midnight, so extra days only cost a little work.
    let (Some(first), Some(last)) = (
        local_date(zone, starts.start()),
        local_date(zone, starts.end()),
    ) else {
        return slots;
    };
    let mut date = first.pred_opt().unwrap_or(first);
    while date <= last {
        for interval in settings.hours_on(date) {
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
