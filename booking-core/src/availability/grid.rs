//! The engine's fast path: rules 1 to 4 in whole seconds since the epoch.
//!
//! Every slot bound is a working-hours bound resolved in the zone plus whole
//! multiples of the step and the duration. When the duration, the step and
//! the buffers are whole seconds (always, for stored event types), every
//! candidate is a whole second too, so the engine resolves each local day's
//! bounds once with one offset lookup each, steps in `i64` seconds, checks
//! busy time in seconds, and builds `DateTime`s only for the slots it
//! returns. Anything else (sub-second lengths, instants far beyond any real
//! calendar) takes the general path in `availability.rs`, which this one
//! must match exactly: `tests/engine_reference.rs` holds both to a
//! reference in every zone.

use std::borrow::Cow;

use chrono::{
    DateTime, Datelike as _, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime,
    Offset as _, TimeZone as _, Utc,
};
use chrono_tz::Tz;

use super::SlotRules;
use crate::time::{LocalInterval, TimeRange, merge_intervals, resolve_local};

const DAY: i64 = 86_400;

/// No UTC offset reaches a day (chrono's `FixedOffset` refuses it), so a wall
/// time `l` (as seconds, read as if UTC) resolves to an instant within
/// `MAX_OFFSET` of `l`, whichever rule resolves it.
const MAX_OFFSET: i64 = DAY - 1;

/// The fast path only runs between these timestamps (about 100,000 years
/// either side of 1970), far inside chrono's range, so no date arithmetic in
/// it can fail.
const SAFE: i64 = 100_000 * 366 * DAY;

/// Candidates as `(start, end)` in seconds since the epoch, sorted, without
/// duplicates.
pub(super) type Seconds = Vec<(i64, i64)>;

/// `d` in whole seconds, or `None` when it has a fraction of a second.
fn whole_seconds(d: Duration) -> Option<i64> {
    (d.subsec_nanos() == 0).then(|| d.num_seconds())
}

/// The first whole second at or after `t`: a whole second `s` is at or
/// after `t` exactly when `s >= ceil(t)`, and before `t` exactly when
/// `s < ceil(t)`.
fn ceil_seconds(t: DateTime<Utc>) -> i64 {
    t.timestamp() + i64::from(t.timestamp_subsec_nanos() > 0)
}

/// A candidate as the fast path hands it out: in seconds, for the busy
/// check, or directly as a range when there is nothing to check.
pub(super) trait Candidate: Ord + Sized {
    /// `[start, end)`, with `start < end`.
    fn new(instants: &mut Instants, start: i64, end: i64) -> Option<Self>;

    /// Pushes `[s, s + duration)` for `s = start, start + step, …` before
    /// `until` (`duration > 0`, `step > 0`).
    #[inline(always)]
    fn push_run(
        slots: &mut Vec<Self>,
        instants: &mut Instants,
        mut start: i64,
        until: i64,
        step: i64,
        duration: i64,
    ) {
        while start < until {
            if let Some(slot) = Self::new(instants, start, start + duration) {
                slots.push(slot);
            }
            start += step;
        }
    }
}

impl Candidate for (i64, i64) {
    fn new(_: &mut Instants, start: i64, end: i64) -> Option<Self> {
        Some((start, end))
    }
}

impl Candidate for TimeRange {
    #[inline(always)]
    fn new(instants: &mut Instants, start: i64, end: i64) -> Option<Self> {
        instants.range(start, end)
    }

    /// As the default, with the same ranges, but the slots that start and
    /// end on the UTC day already cached are read off it directly.
    #[inline(always)]
    fn push_run(
        slots: &mut Vec<Self>,
        instants: &mut Instants,
        mut start: i64,
        until: i64,
        step: i64,
        duration: i64,
    ) {
        while start < until {
            // One slot the general way, which caches the UTC day of `start`…
            if let Some(slot) = instants.range(start, start + duration) {
                slots.push(slot);
            }
            start += step;
            if !instants.cached || start < instants.from {
                continue;
            }
            // …then every slot that ends before that day does.
            let (from, date) = (instants.from, instants.date);
            let run_until = until.min(from + DAY - duration);
            while start < run_until {
                let seconds = start - from;
                if let (Ok(open), Ok(close)) =
                    (u32::try_from(seconds), u32::try_from(seconds + duration))
                    && let (Some(open), Some(close)) = (
                        NaiveTime::from_num_seconds_from_midnight_opt(open, 0),
                        NaiveTime::from_num_seconds_from_midnight_opt(close, 0),
                    )
                    && let Ok(slot) = TimeRange::new(
                        NaiveDateTime::new(date, open).and_utc(),
                        NaiveDateTime::new(date, close).and_utc(),
                    )
                {
                    slots.push(slot);
                }
                start += step;
            }
        }
    }
}

/// Rules 1 to 3 for starts in `starts`, like `candidate_slots`, or `None`
/// when the fast path does not apply.
pub(super) fn candidates<T: Candidate>(rules: &SlotRules<'_>, starts: TimeRange) -> Option<Vec<T>> {
    let duration = whole_seconds(rules.duration())?;
    let step = whole_seconds(rules.step())?;
    if duration <= 0 || step <= 0 {
        return None;
    }
    let from = ceil_seconds(starts.start());
    let until = ceil_seconds(starts.end());
    if from < -SAFE || until > SAFE {
        return None;
    }
    let zone = rules.zone();
    // The local dates whose hours can offer a start in the window, found
    // without looking up an offset: every date the bounds checks below
    // would not rule out (a date's intervals close by `midnight + DAY` and
    // open from `midnight`). These include every date of `candidate_slots`
    // that offers any.
    let first_day = (from - MAX_OFFSET - DAY).div_euclid(DAY) + 1;
    let last_day = (until + MAX_OFFSET - 1).div_euclid(DAY);
    let mut date = epoch_date(first_day)?;
    let schedule = rules.schedule();
    // Each weekday's hours, sorted and merged the first time it comes up.
    let mut weekly: [Option<Cow<'_, [LocalInterval]>>; 7] = Default::default();
    let overrides = &schedule.date_overrides;
    let grid = Grid {
        duration,
        step,
        from,
        until,
        // No more than one candidate per step of the window, within reason.
        most: usize::try_from((until - from) / step + 1).map_or(0, |n| n.min(4096)),
    };
    let mut out = Out {
        slots: Vec::new(),
        last: None,
        ordered: true,
        instants: Instants::default(),
    };
    // Local midnight of `date`, in seconds as if the wall clock were UTC.
    let mut midnight = first_day * DAY;
    let mut weekday = date.weekday();
    for _ in first_day..=last_day {
        let override_hours = if overrides.is_empty() {
            None
        } else {
            overrides.get(&date).map(|hours| merged(hours))
        };
        let hours: &[LocalInterval] = match &override_hours {
            Some(hours) => hours,
            None => weekly
                .get_mut(weekday.num_days_from_monday() as usize)
                .map_or(&[], |hours| {
                    hours.get_or_insert_with(|| merged(schedule.weekly_hours.day(weekday)))
                }),
        };
        for interval in hours {
            let open_minutes = interval.start().minutes_since_midnight();
            let close_minutes = interval.end().minutes_since_midnight();
            let open_wall = midnight + 60 * i64::from(open_minutes);
            let close_wall = midnight + 60 * i64::from(close_minutes);
            // Bounds any resolution allows: the interval opens after
            // `open_wall - MAX_OFFSET` and closes before `close_wall +
            // MAX_OFFSET`. Later intervals of the day open later still.
            if open_wall - MAX_OFFSET >= until {
                break;
            }
            if close_wall + MAX_OFFSET <= from {
                continue;
            }
            // Near the window's end, the open alone may show that no start
            // is early enough; elsewhere the close may show none is late
            // enough. Either spares the other lookup.
            let (open, close) = if open_wall >= until {
                let Some(open) = resolve(zone, date, open_wall, open_minutes) else {
                    continue;
                };
                if open >= until {
                    continue;
                }
                (Some(open), resolve(zone, date, close_wall, close_minutes))
            } else {
                let Some(close) = resolve(zone, date, close_wall, close_minutes) else {
                    continue;
                };
                if close - duration < from {
                    continue;
                }
                (resolve(zone, date, open_wall, open_minutes), Some(close))
            };
            let (Some(open), Some(close)) = (open, close) else {
                continue;
            };
            grid.push(&mut out, open, close);
        }
        date = date.succ_opt()?;
        midnight += DAY;
        weekday = weekday.succ();
    }
    let Out {
        mut slots, ordered, ..
    } = out;
    // Intervals of one day come out in order, but DST can make a later
    // local interval resolve earlier than the end of the previous one.
    if !ordered {
        slots.sort_unstable();
        slots.dedup();
    }
    Some(slots)
}

/// The date `days` days after 1 January 1970.
fn epoch_date(days: i64) -> Option<NaiveDate> {
    /// Days from 1 January of year 1 (day 1) to 1 January 1970.
    const EPOCH_FROM_CE: i64 = 719_163;
    NaiveDate::from_num_days_from_ce_opt(i32::try_from(days + EPOCH_FROM_CE).ok()?)
}

/// A day's intervals sorted and merged, borrowed when they already are.
fn merged(hours: &[LocalInterval]) -> Cow<'_, [LocalInterval]> {
    if hours.windows(2).all(|pair| pair[0].end() < pair[1].start()) {
        Cow::Borrowed(hours)
    } else {
        Cow::Owned(merge_intervals(hours))
    }
}

/// `minutes` past midnight on `date` (`wall`: the same, in seconds as if
/// UTC), resolved like [`resolve_local`]: one offset lookup, and the gap
/// rule only inside a gap.
fn resolve(zone: Tz, date: NaiveDate, wall: i64, minutes: u32) -> Option<i64> {
    let local = if minutes >= 24 * 60 {
        date.succ_opt()?.and_time(NaiveTime::MIN)
    } else {
        date.and_time(NaiveTime::from_num_seconds_from_midnight_opt(
            minutes * 60,
            0,
        )?)
    };
    match zone.offset_from_local_datetime(&local) {
        LocalResult::Single(offset) | LocalResult::Ambiguous(offset, _) => {
            Some(wall - i64::from(offset.fix().local_minus_utc()))
        }
        LocalResult::None => resolve_local(zone, local).map(|t| t.timestamp()),
    }
}

/// Rule 3's stepping, in seconds.
struct Grid {
    duration: i64,
    step: i64,
    /// Starts must be at or after this…
    from: i64,
    /// …and before this.
    until: i64,
    /// The most candidates the window can hold, within reason.
    most: usize,
}

/// Candidates so far, the last one in seconds, and whether each came after
/// the one before.
struct Out<T> {
    slots: Vec<T>,
    last: Option<(i64, i64)>,
    ordered: bool,
    instants: Instants,
}

impl Grid {
    /// The candidates of one resolved interval `[open, close)`.
    fn push<T: Candidate>(&self, out: &mut Out<T>, open: i64, close: i64) {
        // The first grid point `open + k * step` (k >= 0) at or after `from`.
        let start = if self.from <= open {
            open
        } else {
            open + (self.from - open + self.step - 1) / self.step * self.step
        };
        let last_start = close - self.duration;
        let until = self.until.min(last_start.saturating_add(1));
        if start >= until {
            return;
        }
        if out
            .last
            .is_some_and(|previous| previous >= (start, start + self.duration))
        {
            out.ordered = false;
        }
        let count = (until - start - 1) / self.step + 1;
        let mut room = usize::try_from(count).unwrap_or(0);
        if out.slots.capacity() == 0 {
            // The first interval with candidates: room for as many on each
            // day left in the window (reserving grows it if more come).
            let days = usize::try_from((self.until - start) / DAY + 1).unwrap_or(1);
            room = room.saturating_mul(days).clamp(room, self.most.max(room));
        }
        out.slots.reserve(room);
        T::push_run(
            &mut out.slots,
            &mut out.instants,
            start,
            until,
            self.step,
            self.duration,
        );
        let last = start + (count - 1) * self.step;
        out.last = Some((last, last + self.duration));
    }
}

/// The buffers in whole seconds, as [`TimeRange::widened`] applies them
/// (negative ones count as zero), or `None` when one has a fraction of a
/// second.
pub(super) fn buffers(rules: &SlotRules<'_>) -> Option<(i64, i64)> {
    let event_type = rules.event_type();
    let before = whole_seconds(event_type.buffer_before)?.max(0);
    let after = whole_seconds(event_type.buffer_after)?.max(0);
    Some((before, after))
}

/// Rule 4's busy check on candidates in seconds, then the survivors as
/// ranges. `buffers` from [`buffers`].
pub(super) fn clear_of(slots: &Seconds, buffers: (i64, i64), busy: &[TimeRange]) -> Vec<TimeRange> {
    let (before, after) = buffers;
    // A whole-second occupied interval `[a, b)` overlaps a busy `[s, e)`
    // exactly when `floor(s) < b` and `a < ceil(e)`.
    let mut merged: Vec<(i64, i64)> = busy
        .iter()
        .map(|range| (range.start().timestamp(), ceil_seconds(range.end())))
        .collect();
    merged.sort_unstable();
    merged.dedup_by(|next, last| {
        if next.0 <= last.1 {
            last.1 = last.1.max(next.1);
            true
        } else {
            false
        }
    });
    let mut next = 0;
    let mut instants = Instants::default();
    let mut offered = Vec::with_capacity(slots.len());
    for &(start, end) in slots {
        if !merged.is_empty() {
            let occupied = (start.saturating_sub(before), end.saturating_add(after));
            while merged.get(next).is_some_and(|busy| busy.1 <= occupied.0) {
                next += 1;
            }
            if merged.get(next).is_some_and(|busy| busy.0 < occupied.1) {
                continue;
            }
        }
        if let Some(slot) = instants.range(start, end) {
            offered.push(slot);
        }
    }
    offered
}

/// Turns timestamps that mostly increase into `DateTime`s, computing the
/// calendar date only when the UTC day changes.
pub(super) struct Instants {
    /// The UTC day cached: `[from, from + DAY)` is `date`.
    from: i64,
    date: NaiveDate,
    /// Whether `from` and `date` hold a day yet.
    cached: bool,
}

impl Default for Instants {
    fn default() -> Self {
        Instants {
            from: 0,
            date: NaiveDate::MIN,
            cached: false,
        }
    }
}

impl Instants {
    #[inline(always)]
    fn at(&mut self, t: i64) -> Option<DateTime<Utc>> {
        let mut seconds = t.wrapping_sub(self.from);
        if !self.cached || !(0..DAY).contains(&seconds) {
            if self.cached && (DAY..2 * DAY).contains(&seconds) {
                self.date = self.date.succ_opt()?;
                self.from += DAY;
            } else {
                let day = t.div_euclid(DAY) * DAY;
                self.date = DateTime::from_timestamp(day, 0)?.date_naive();
                self.from = day;
                self.cached = true;
            }
            seconds = t - self.from;
        }
        self.on_cached_day(seconds)
    }

    /// `[start, end)`, with `start < end`.
    #[inline(always)]
    fn range(&mut self, start: i64, end: i64) -> Option<TimeRange> {
        let start_at = self.at(start)?;
        // Mostly the same UTC day: no second lookup.
        let end_seconds = end - self.from;
        let end_at = if end_seconds < DAY {
            self.on_cached_day(end_seconds)?
        } else {
            let mut other = Instants::default();
            other.at(end)?
        };
        TimeRange::new(start_at, end_at).ok()
    }

    /// `seconds` (`0..DAY`) into the cached day.
    #[inline(always)]
    fn on_cached_day(&self, seconds: i64) -> Option<DateTime<Utc>> {
        let time = NaiveTime::from_num_seconds_from_midnight_opt(u32::try_from(seconds).ok()?, 0)?;
        Some(NaiveDateTime::new(self.date, time).and_utc())
    }
}
