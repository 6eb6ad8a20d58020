//! [`SlotRules`]: one event type on its schedule, for one meeting length.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;

use super::SlotRefusal;
use crate::booking::LimitCheck;
use crate::event_type::{BookingLimits, BookingWindow, EventType, LimitPeriod};
use crate::schedule::Schedule;
use crate::time::{TimeRange, WallTime, local_date, local_days_range, resolve_local};

/// The farthest a rolling business-day window looks for business days, so a
/// schedule with few working days costs bounded work.
const BUSINESS_DAY_SEARCH: i64 = 3660;

/// Everything that decides which slots an event type offers: the event type,
/// the schedule whose hours it uses, and the meeting length chosen (one of
/// the event type's lengths).
///
/// The engine's functions take it by reference; it borrows, so building one
/// per request costs nothing.
#[derive(Debug, Clone, Copy)]
pub struct SlotRules<'a> {
    schedule: &'a Schedule,
    event_type: &'a EventType,
    duration: Duration,
}

impl<'a> SlotRules<'a> {
    /// The rules of `event_type` on `schedule` for `duration`, or its
    /// default length when `None`. A length the event type does not offer is
    /// refused with [`SlotRefusal::WrongLength`].
    pub fn new(
        schedule: &'a Schedule,
        event_type: &'a EventType,
        duration: Option<Duration>,
    ) -> Result<Self, SlotRefusal> {
        let duration = duration.unwrap_or(event_type.duration);
        if !event_type.offers_duration(duration) {
            return Err(SlotRefusal::WrongLength {
                allowed_minutes: event_type
                    .durations()
                    .iter()
                    .map(Duration::num_minutes)
                    .collect(),
            });
        }
        Ok(SlotRules {
            schedule,
            event_type,
            duration,
        })
    }

    /// The schedule whose hours are offered.
    pub fn schedule(&self) -> &'a Schedule {
        self.schedule
    }

    /// The event type.
    pub fn event_type(&self) -> &'a EventType {
        self.event_type
    }

    /// The zone hours, dates and limits are read in.
    pub fn zone(&self) -> Tz {
        self.schedule.time_zone
    }

    /// The meeting length.
    pub fn duration(&self) -> Duration {
        self.duration
    }

    /// Distance between slot starts: the event type's step, else the length.
    /// Never less than a minute, whatever was stored.
    pub fn step(&self) -> Duration {
        self.event_type
            .slot_step
            .unwrap_or(self.duration)
            .max(Duration::minutes(1))
    }

    /// The limits.
    pub fn limits(&self) -> &BookingLimits {
        &self.event_type.limits
    }

    /// The interval a slot occupies once booked: the slot widened by the
    /// event type's buffers.
    pub fn occupied_by(&self, slot: &TimeRange) -> TimeRange {
        slot.widened(self.event_type.buffer_before, self.event_type.buffer_after)
    }

    /// `now + min_notice`: no slot may start earlier.
    pub fn earliest_start(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let notice = self.event_type.min_notice;
        if notice.is_zero() {
            return now;
        }
        now.checked_add_signed(notice)
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    /// The starts the booking window and the notice allow at `now`:
    /// `[first, bound)`. `None` when nothing can be booked at all (a date
    /// range in the past, a schedule without a single business day ahead).
    ///
    /// * rolling: `[now + notice, now + horizon)`;
    /// * rolling business days: from `now + notice` to the local midnight
    ///   after the `days`-th local date with working hours, counting today;
    /// * date range: from the later of `now + notice` and the first date's
    ///   local midnight, to the local midnight after the last date.
    pub fn bookable_starts(&self, now: DateTime<Utc>) -> Option<TimeRange> {
        let earliest = self.earliest_start(now);
        let (first, bound) = match self.event_type.booking_window {
            BookingWindow::Rolling { horizon } => (
                earliest,
                now.checked_add_signed(horizon)
                    .unwrap_or(DateTime::<Utc>::MAX_UTC),
            ),
            BookingWindow::RollingBusinessDays { days } => {
                (earliest, self.business_days_end(now, days)?)
            }
            BookingWindow::Range { first, last } => {
                let dates = local_days_range(self.zone(), first, last)?;
                (earliest.max(dates.start()), dates.end())
            }
        };
        TimeRange::new(first, bound).ok()
    }

    /// The local midnight after the `days`-th business day from today.
    fn business_days_end(&self, now: DateTime<Utc>, days: u32) -> Option<DateTime<Utc>> {
        let zone = self.zone();
        let today = local_date(zone, now)?;
        let mut found = 0;
        let mut date = today;
        for _ in 0..BUSINESS_DAY_SEARCH {
            if self.schedule.works_on(date) {
                found += 1;
                if found >= days {
                    return resolve_local(zone, WallTime::END_OF_DAY.on(date)?);
                }
            }
            date = date.succ_opt()?;
        }
        // Fewer business days than asked within the search: all of them.
        if found == 0 {
            return None;
        }
        resolve_local(zone, WallTime::MIDNIGHT.on(date)?)
    }

    /// The local date a slot starting at `start` counts on.
    pub fn local_date(&self, start: DateTime<Utc>) -> Option<NaiveDate> {
        local_date(self.zone(), start)
    }

    /// The first local date of the week holding `date`.
    pub fn week_start(&self, date: NaiveDate) -> NaiveDate {
        use chrono::Datelike as _;
        let first = self.event_type.limits.week_starts_on.num_days_from_monday();
        let today = date.weekday().num_days_from_monday();
        let back = (7 + today - first) % 7;
        date.checked_sub_signed(Duration::days(i64::from(back)))
            .unwrap_or(date)
    }

    /// The limit checks a booking starting at `start` must pass in the
    /// store, atomically with its insert: for each limit set, the UTC range
    /// of the local day or week holding `start` and the most bookings of
    /// this event type allowed to start in it. Empty when no limit is set.
    pub fn limit_checks(&self, start: DateTime<Utc>) -> Vec<LimitCheck> {
        let mut checks = Vec::new();
        let Some(date) = self.local_date(start) else {
            return checks;
        };
        let limits = self.event_type.limits;
        if let Some(max) = limits.per_day
            && let Some(range) = local_days_range(self.zone(), date, date)
        {
            checks.push(LimitCheck {
                period: LimitPeriod::Day,
                starts_within: range,
                max,
            });
        }
        if let Some(max) = limits.per_week {
            let first = self.week_start(date);
            let last = first.checked_add_signed(Duration::days(6)).unwrap_or(first);
            if let Some(range) = local_days_range(self.zone(), first, last) {
                checks.push(LimitCheck {
                    period: LimitPeriod::Week,
                    starts_within: range,
                    max,
                });
            }
        }
        checks
    }
}
