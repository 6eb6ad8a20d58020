//! Between domain values and their stored form.
//!
//! * Instants are `INTEGER` microseconds since 1970-01-01T00:00:00Z. Integers
//!   compare exactly and cheaply in SQL, so `occupied_start < ?` is a correct
//!   range test (text would only be correct at one fixed width and format),
//!   microseconds are PostgreSQL's `timestamptz` precision (both stores give
//!   back the same values), and a signed 64-bit count of microseconds spans
//!   all of chrono's years (±262 143), so nothing overflows.
//! * A finer instant is rounded **outward**: a start down, an end up, to the
//!   microsecond. A stored interval therefore always contains the requested
//!   one and is never empty, so rounding can hide no overlap. Creation and
//!   cancellation instants are truncated. What is returned is always what
//!   was stored, so a booking read back equals the one the insert returned.
//! * Durations are whole seconds. A booking's buffers are rounded **up** to
//!   the second (negative ones count as zero, as in
//!   [`TimeRange::widened`](booking_core::time::TimeRange::widened));
//!   configuration durations are whole minutes by validation, so they are
//!   stored exactly, and one that is not a whole second is refused
//!   ([`Unstorable::NotWholeSeconds`]) rather than silently changed.
//! * Text that must parse into a domain type (ids, zones, slugs, JSON) is
//!   parsed on the way out; what does not parse is
//!   [`StoreError::Corrupt`](booking_core::store::StoreError::Corrupt).

use std::str::FromStr;

use booking_core::schedule::{ALL_WEEKDAYS, weekday_name};
use chrono::{DateTime, Duration, Utc, Weekday};
use chrono_tz::Tz;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Failure, Unstorable, corrupt};

pub(crate) const MICROS_PER_SEC: i64 = 1_000_000;

/// Microseconds since the epoch, rounded down.
pub(crate) fn micros_floor(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

/// Microseconds since the epoch, rounded up.
pub(crate) fn micros_ceil(t: DateTime<Utc>) -> i64 {
    let floor = t.timestamp_micros();
    if t.timestamp_subsec_nanos().is_multiple_of(1000) {
        floor
    } else {
        floor.saturating_add(1)
    }
}

/// The instant `micros` microseconds after the epoch.
pub(crate) fn from_micros(micros: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_micros(micros)
}

/// The instant as stored, or an error for one past chrono's limit after
/// rounding.
pub(crate) fn stored_instant(micros: i64) -> Result<DateTime<Utc>, Failure> {
    from_micros(micros).ok_or_else(|| Unstorable::OutOfRange(format!("{micros} µs")).into())
}

/// Reads a stored instant; out of range means the row was edited by hand.
pub(crate) fn read_instant(column: &str, micros: i64) -> Result<DateTime<Utc>, Failure> {
    from_micros(micros).ok_or_else(|| {
        corrupt(format!(
            "{column} = {micros} is not a representable instant"
        ))
    })
}

/// The smallest and largest microsecond counts that are valid instants.
pub(crate) fn micros_bounds() -> (i64, i64) {
    (
        micros_ceil(DateTime::<Utc>::MIN_UTC),
        micros_floor(DateTime::<Utc>::MAX_UTC),
    )
}

/// A buffer as stored: whole seconds, rounded up, never negative.
pub(crate) fn buffer_secs(d: Duration) -> i64 {
    if d <= Duration::zero() {
        return 0;
    }
    let secs = d.num_seconds();
    if d.subsec_nanos() > 0 {
        secs.saturating_add(1)
    } else {
        secs
    }
}

/// A configuration duration as stored: its whole seconds, or
/// [`Unstorable::NotWholeSeconds`].
pub(crate) fn exact_secs(field: &'static str, d: Duration) -> Result<i64, Failure> {
    if d.subsec_nanos() == 0 {
        Ok(d.num_seconds())
    } else {
        Err(Unstorable::NotWholeSeconds {
            field,
            value: d.to_string(),
        }
        .into())
    }
}

/// Reads a stored duration.
pub(crate) fn read_secs(column: &str, secs: i64) -> Result<Duration, Failure> {
    Duration::try_seconds(secs)
        .ok_or_else(|| corrupt(format!("{column} = {secs} is not a representable duration")))
}

/// Parses a stored IANA zone name.
pub(crate) fn parse_zone(name: &str) -> Result<Tz, Failure> {
    name.parse::<Tz>()
        .map_err(|_| corrupt(format!("{name:?} is not an IANA time zone")))
}

/// Parses a stored id, slug or other text that has a `FromStr` domain type.
pub(crate) fn parse_text<T>(column: &str, text: &str) -> Result<T, Failure>
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    text.parse::<T>()
        .map_err(|e| corrupt(format!("{column} = {text:?}: {e}")))
}

/// Serializes a value into a JSON column.
pub(crate) fn to_json<T: Serialize + ?Sized>(value: &T) -> Result<String, Failure> {
    serde_json::to_string(value)
        .map_err(|e| Failure::Store(booking_core::store::StoreError::backend(e)))
}

/// Parses a JSON column into its domain type.
pub(crate) fn from_json<T: DeserializeOwned>(column: &str, text: &str) -> Result<T, Failure> {
    serde_json::from_str(text).map_err(|e| corrupt(format!("{column}: {e}")))
}

/// A weekday as stored: its lowercase English name (`monday`).
pub(crate) fn weekday_text(day: Weekday) -> &'static str {
    weekday_name(day)
}

/// Reads a weekday stored by [`weekday_text`].
pub(crate) fn read_weekday(column: &str, text: &str) -> Result<Weekday, Failure> {
    ALL_WEEKDAYS
        .into_iter()
        .find(|day| weekday_name(*day) == text)
        .ok_or_else(|| corrupt(format!("{column} = {text:?} is not a weekday")))
}

/// Reads a stored non-negative count (`0`/`1` flags, limits, versions) into
/// an unsigned type.
pub(crate) fn read_unsigned<T: TryFrom<i64>>(column: &str, value: i64) -> Result<T, Failure> {
    T::try_from(value).map_err(|_| corrupt(format!("{column} = {value} is out of range")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn rounding_is_outward_and_exact_on_the_microsecond_grid() {
        let t = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap();
        assert_eq!(micros_floor(t), micros_ceil(t));
        let fine = t + Duration::nanoseconds(1);
        assert_eq!(micros_floor(fine), micros_floor(t));
        assert_eq!(micros_ceil(fine), micros_floor(t) + 1);
        let before_epoch =
            Utc.with_ymd_and_hms(1900, 1, 1, 0, 0, 0).unwrap() - Duration::nanoseconds(1500);
        assert_eq!(micros_ceil(before_epoch) - micros_floor(before_epoch), 1);
        assert!(from_micros(micros_floor(before_epoch)).unwrap() <= before_epoch);
        // chrono's whole range fits.
        let (min, max) = micros_bounds();
        assert!(from_micros(min).is_some() && from_micros(max).is_some());
    }

    #[test]
    fn buffers_round_up_and_never_go_negative() {
        assert_eq!(buffer_secs(Duration::minutes(15)), 900);
        assert_eq!(buffer_secs(Duration::milliseconds(1500)), 2);
        assert_eq!(buffer_secs(Duration::minutes(-5)), 0);
        assert_eq!(buffer_secs(Duration::zero()), 0);
    }

    #[test]
    fn configuration_durations_are_exact_or_refused() {
        assert_eq!(exact_secs("d", Duration::minutes(45)).unwrap(), 2700);
        assert!(matches!(
            exact_secs("d", Duration::milliseconds(1500)),
            Err(Failure::Store(_))
        ));
    }

    #[test]
    fn weekdays_round_trip_by_name() {
        for day in ALL_WEEKDAYS {
            assert_eq!(read_weekday("w", weekday_text(day)).unwrap(), day);
        }
        assert!(read_weekday("w", "Mon").is_err());
    }
}
