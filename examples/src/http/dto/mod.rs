//! The JSON shapes of the API (camelCase, instants as RFC 3339 UTC strings
//! with milliseconds, like JavaScript's `toISOString()`), and their
//! conversion to and from booking-core's types. Parsing text (instants,
//! dates, times of day, zone names) happens here; every rule about the
//! values is booking-core's, whose refusals are renamed to these JSON names
//! in [`super::fields`].
//!
//! Numbers of minutes or days far outside anything accepted are clamped
//! ([`minutes`], [`days`], [`count`]) before booking-core checks them, so an
//! absurd value gets booking-core's message naming the field and its bounds,
//! never an overflow.

use chrono::{DateTime, Duration, NaiveDate, SecondsFormat, Utc};

mod booking;
mod event_type;
mod hold;
mod hours;
mod organizer;
mod schedule;
mod settings;
mod slots;

pub use booking::{
    BookingDto, CancelBody, CreateBookingBody, RangeDto, RescheduleBody, requested_time,
};
pub use event_type::{
    EventTypeBody, EventTypeDto, LimitsBody, LocationBody, LocationDto, PublicEventTypeDto,
    WindowBody, WindowDto,
};
pub use hold::{HoldBody, HoldDto, ReleaseHoldBody};
pub use hours::{IntervalBody, OverrideBody, OverrideDto, WeeklyHoursBody};
pub use organizer::{OrganizerDto, RegisterBody};
pub use schedule::{ScheduleBody, ScheduleDto};
pub use settings::{SettingsBody, SettingsDto};
pub use slots::{slots_body, write_instant};

/// An instant as the API writes it: `2026-12-01T09:00:00.000Z`.
pub fn instant(value: DateTime<Utc>) -> String {
    value.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A date as `YYYY-MM-DD`.
pub fn parse_date(text: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| format!("{text:?} is not a date such as 2026-12-24 (YYYY-MM-DD)"))
}

/// The largest number of minutes taken as given; larger ones (a billion
/// minutes is 1,900 years) are clamped for booking-core to refuse.
const MINUTES_BOUND: i64 = 1_000_000_000;

/// `value` minutes, clamped to ± a billion minutes.
pub fn minutes(value: i64) -> Duration {
    Duration::minutes(value.clamp(-MINUTES_BOUND, MINUTES_BOUND))
}

/// `value` days, clamped like [`minutes`].
pub fn days(value: i64) -> Duration {
    let bound = MINUTES_BOUND / (24 * 60);
    Duration::days(value.clamp(-bound, bound))
}

/// A count (a limit, a number of business days) as booking-core takes it:
/// negative numbers become 0 and huge ones `u32::MAX`, both refused there.
pub fn count(value: i64) -> u32 {
    u32::try_from(value.clamp(0, i64::from(u32::MAX))).unwrap_or(u32::MAX)
}

/// The JSON name of a weekday and back, as `weeklyHours` and `weekStartsOn`
/// write them.
pub fn weekday_of(name: &str) -> Option<chrono::Weekday> {
    booking_core::schedule::ALL_WEEKDAYS
        .into_iter()
        .find(|day| booking_core::schedule::weekday_name(*day) == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absurd_numbers_are_clamped_not_overflowed() {
        assert_eq!(minutes(i64::MAX), Duration::minutes(MINUTES_BOUND));
        assert_eq!(minutes(i64::MIN), Duration::minutes(-MINUTES_BOUND));
        assert!(days(i64::MAX) > Duration::days(3660));
        assert_eq!(count(-3), 0);
        assert_eq!(count(i64::MAX), u32::MAX);
        assert_eq!(count(7), 7);
    }
}
