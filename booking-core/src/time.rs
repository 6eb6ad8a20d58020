//! Time primitives: UTC ranges, wall-clock times of day, and the one rule that
//! turns an organizer's local wall-clock time into an instant.
//!
//! Everything the rest of the crate stores or compares is a [`DateTime<Utc>`].
//! Local times exist only at the edge, inside working hours, and are resolved
//! with [`resolve_local`], the "compatible" rule that calendar software (and
//! JavaScript's Temporal) uses around daylight-saving changes.

use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;

use chrono::{
    DateTime, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset as _, TimeZone,
    Utc,
};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// A half-open span of absolute time, `[start, end)`, with `start < end`.
///
/// Two ranges that merely touch (`a.end == b.start`) do not overlap, so
/// back-to-back meetings are allowed. The constructor refuses empty and
/// inverted ranges, so every `TimeRange` you hold is non-empty.
///
/// ```
/// use booking_core::time::TimeRange;
/// use chrono::{TimeZone, Utc};
///
/// let nine = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
/// let ten = Utc.with_ymd_and_hms(2026, 3, 2, 10, 0, 0).unwrap();
/// let meeting = TimeRange::new(nine, ten)?;
/// assert_eq!(meeting.duration(), chrono::Duration::hours(1));
/// assert!(TimeRange::new(ten, nine).is_err());
/// # Ok::<(), booking_core::time::InvalidTimeRange>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "RawTimeRange")]
pub struct TimeRange {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

#[derive(Deserialize)]
struct RawTimeRange {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

impl TryFrom<RawTimeRange> for TimeRange {
    type Error = InvalidTimeRange;
    fn try_from(raw: RawTimeRange) -> Result<Self, Self::Error> {
        TimeRange::new(raw.start, raw.end)
    }
}

/// A range whose end is not after its start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("end time {end} must be after start time {start}")]
pub struct InvalidTimeRange {
    /// The start that was given.
    pub start: DateTime<Utc>,
    /// The end that was given, not after `start`.
    pub end: DateTime<Utc>,
}

impl TimeRange {
    /// A range `[start, end)`; refuses `start >= end`.
    pub fn new(start: DateTime<Utc>, end: DateTime<Utc>) -> Result<Self, InvalidTimeRange> {
        if start < end {
            Ok(Self { start, end })
        } else {
            Err(InvalidTimeRange { start, end })
        }
    }

    /// A range of `length` starting at `start`; refuses a non-positive length.
    pub fn starting_at(start: DateTime<Utc>, length: Duration) -> Result<Self, InvalidTimeRange> {
        let end = start
            .checked_add_signed(length)
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        Self::new(start, end)
    }

    /// The first instant inside the range.
    pub fn start(&self) -> DateTime<Utc> {
        self.start
    }

    /// The first instant after the range.
    pub fn end(&self) -> DateTime<Utc> {
        self.end
    }

    /// `end - start`, always positive.
    pub fn duration(&self) -> Duration {
        self.end - self.start
    }

    /// Whether the two ranges share at least one instant (touching ranges do not).
    pub fn overlaps(&self, other: &TimeRange) -> bool {
        self.start < other.end && other.start < self.end
    }

    /// Whether `instant` lies in `[start, end)`.
    pub fn contains(&self, instant: DateTime<Utc>) -> bool {
        self.start <= instant && instant < self.end
    }

    /// Whether `other` lies entirely inside this range.
    pub fn encloses(&self, other: &TimeRange) -> bool {
        self.start <= other.start && other.end <= self.end
    }

    /// The range widened by `before` at the start and `after` at the end.
    ///
    /// This is how a booking's *occupied* interval is derived from its meeting
    /// time and buffers. Negative widths are treated as zero, so the result is
    /// never narrower than `self`; it saturates at chrono's representable limits.
    pub fn widened(&self, before: Duration, after: Duration) -> TimeRange {
        if before <= Duration::zero() && after <= Duration::zero() {
            return *self;
        }
        let before = before.max(Duration::zero());
        let after = after.max(Duration::zero());
        TimeRange {
            start: self
                .start
                .checked_sub_signed(before)
                .unwrap_or(DateTime::<Utc>::MIN_UTC),
            end: self
                .end
                .checked_add_signed(after)
                .unwrap_or(DateTime::<Utc>::MAX_UTC),
        }
    }

    /// The range widened to whole multiples of `unit` (start rounded down, end
    /// up), for storage that keeps less precision than chrono: the stored
    /// range always encloses this one, so rounding can never hide an overlap.
    /// Unchanged when `unit` is not positive or rounding would overflow.
    ///
    /// ```
    /// use booking_core::time::TimeRange;
    /// use chrono::{Duration, TimeZone, Utc};
    ///
    /// let t = Utc.with_ymd_and_hms(2026, 1, 1, 9, 0, 0).unwrap();
    /// let r = TimeRange::new(t + Duration::nanoseconds(1500), t + Duration::nanoseconds(2500))?;
    /// let micros = r.rounded_outward(Duration::microseconds(1));
    /// assert_eq!(micros.start(), t + Duration::microseconds(1));
    /// assert_eq!(micros.end(), t + Duration::microseconds(3));
    /// # Ok::<(), booking_core::time::InvalidTimeRange>(())
    /// ```
    pub fn rounded_outward(&self, unit: Duration) -> TimeRange {
        use chrono::DurationRound as _;
        let start = self.start.duration_trunc(unit).unwrap_or(self.start);
        let end = match self.end.duration_trunc(unit) {
            Ok(down) if down == self.end => down,
            Ok(down) => down.checked_add_signed(unit).unwrap_or(self.end),
            Err(_) => self.end,
        };
        TimeRange::new(start, end).unwrap_or(*self)
    }

    /// The overlap of the two ranges, if any.
    pub fn intersection(&self, other: &TimeRange) -> Option<TimeRange> {
        TimeRange::new(self.start.max(other.start), self.end.min(other.end)).ok()
    }
}

impl fmt::Display for TimeRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[{}, {})",
            self.start.to_rfc3339(),
            self.end.to_rfc3339()
        )
    }
}

/// A wall-clock time of day with minute precision, from `00:00` to `24:00`.
///
/// `24:00` means "the end of the day" (the next day's `00:00`) and is only
/// meaningful as the end of a [`LocalInterval`]. Parsed from and written as
/// `"HH:MM"`.
///
/// ```
/// use booking_core::time::WallTime;
///
/// let t: WallTime = "09:30".parse()?;
/// assert_eq!(t.minutes_since_midnight(), 570);
/// assert_eq!("24:00".parse::<WallTime>()?, WallTime::END_OF_DAY);
/// assert!("24:30".parse::<WallTime>().is_err());
/// assert!("25:00".parse::<WallTime>().is_err());
/// # Ok::<(), booking_core::time::WallTimeError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct WallTime(u16);

/// A time of day that is not `HH:MM` between `00:00` and `24:00`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input:?} is not a time of day: use \"HH:MM\" from 00:00 to 24:00")]
pub struct WallTimeError {
    /// The text that was refused.
    pub input: String,
}

impl WallTime {
    /// Midnight at the start of the day, `00:00`.
    pub const MIDNIGHT: WallTime = WallTime(0);
    /// The end of the day, `24:00`.
    pub const END_OF_DAY: WallTime = WallTime(24 * 60);

    /// `hour:minute`; `24:00` is the only time with hour 24.
    pub fn from_hm(hour: u32, minute: u32) -> Result<Self, WallTimeError> {
        let valid = (hour < 24 && minute < 60) || (hour == 24 && minute == 0);
        if valid {
            // Both factors are bounded above, so this fits in u16.
            Ok(WallTime((hour * 60 + minute) as u16))
        } else {
            Err(WallTimeError {
                input: format!("{hour:02}:{minute:02}"),
            })
        }
    }

    /// Minutes since the start of the day, `0..=1440`.
    pub fn minutes_since_midnight(self) -> u32 {
        u32::from(self.0)
    }

    /// This time of day on `date`, as a naive local date-time. `24:00` gives the
    /// next day's midnight; `None` only past chrono's last representable date.
    pub fn on(self, date: NaiveDate) -> Option<NaiveDateTime> {
        let (date, minutes) = if self == Self::END_OF_DAY {
            (date.succ_opt()?, 0)
        } else {
            (date, self.minutes_since_midnight())
        };
        let time = NaiveTime::from_hms_opt(minutes / 60, minutes % 60, 0)?;
        Some(date.and_time(time))
    }
}

impl FromStr for WallTime {
    type Err = WallTimeError;
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let refuse = || WallTimeError {
            input: input.to_owned(),
        };
        let (h, m) = input.split_once(':').ok_or_else(refuse)?;
        let two_digits = |s: &str| s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit());
        if !two_digits(h) || !two_digits(m) {
            return Err(refuse());
        }
        let hour = h.parse().map_err(|_| refuse())?;
        let minute = m.parse().map_err(|_| refuse())?;
        WallTime::from_hm(hour, minute).map_err(|_| refuse())
    }
}

impl TryFrom<String> for WallTime {
    type Error = WallTimeError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl From<WallTime> for String {
    fn from(value: WallTime) -> Self {
        value.to_string()
    }
}

impl fmt::Display for WallTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

/// Local working hours on one day: `[start, end)` in wall-clock time, with
/// `start < end` and `end` at most `24:00`.
///
/// ```
/// use booking_core::time::LocalInterval;
///
/// let morning = LocalInterval::parse("09:00", "12:30")?;
/// assert_eq!(morning.to_string(), "09:00-12:30");
/// assert!(LocalInterval::parse("17:00", "09:00").is_err());
/// # Ok::<(), booking_core::time::LocalIntervalError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "RawLocalInterval")]
pub struct LocalInterval {
    start: WallTime,
    end: WallTime,
}

#[derive(Deserialize)]
struct RawLocalInterval {
    start: WallTime,
    end: WallTime,
}

impl TryFrom<RawLocalInterval> for LocalInterval {
    type Error = LocalIntervalError;
    fn try_from(raw: RawLocalInterval) -> Result<Self, Self::Error> {
        LocalInterval::new(raw.start, raw.end)
    }
}

/// Why a [`LocalInterval`] was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LocalIntervalError {
    /// The start is not a valid time of day.
    #[error("invalid start: {0}")]
    Start(#[source] WallTimeError),
    /// The end is not a valid time of day.
    #[error("invalid end: {0}")]
    End(#[source] WallTimeError),
    /// The end is not after the start.
    #[error("the end {end} must be after the start {start}")]
    EndNotAfterStart {
        /// The interval's start.
        start: WallTime,
        /// The interval's end, not after `start`.
        end: WallTime,
    },
}

impl LocalInterval {
    /// `[start, end)`; refuses `end <= start` (which also refuses a start of `24:00`).
    pub fn new(start: WallTime, end: WallTime) -> Result<Self, LocalIntervalError> {
        if start < end {
            Ok(Self { start, end })
        } else {
            Err(LocalIntervalError::EndNotAfterStart { start, end })
        }
    }

    /// Parses `"HH:MM"` bounds.
    pub fn parse(start: &str, end: &str) -> Result<Self, LocalIntervalError> {
        let start = start.parse().map_err(LocalIntervalError::Start)?;
        let end = end.parse().map_err(LocalIntervalError::End)?;
        Self::new(start, end)
    }

    /// The first wall-clock minute of the interval.
    pub fn start(&self) -> WallTime {
        self.start
    }

    /// The first wall-clock minute after the interval (`24:00` allowed).
    pub fn end(&self) -> WallTime {
        self.end
    }
}

impl fmt::Display for LocalInterval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.start, self.end)
    }
}

/// Sorts intervals and merges those that overlap or touch, so `09:00-12:00`
/// and `12:00-17:00` become one `09:00-17:00`.
pub fn merge_intervals(intervals: &[LocalInterval]) -> Vec<LocalInterval> {
    let mut sorted = intervals.to_vec();
    sorted.sort();
    let mut merged: Vec<LocalInterval> = Vec::with_capacity(sorted.len());
    for interval in sorted {
        match merged.last_mut() {
            Some(last) if interval.start <= last.end => last.end = last.end.max(interval.end),
            _ => merged.push(interval),
        }
    }
    merged
}

/// Turns a wall-clock time in `zone` into an instant, with the "compatible"
/// rule:
///
/// * a time that exists once maps to that instant;
/// * an ambiguous time (clocks went back, so it happened twice) takes the
///   **earlier** instant;
/// * a time in a gap (clocks went forward, so it never happened) is shifted
///   **forward by the gap's length**: `02:30` on a US spring-forward day becomes
///   `03:30` daylight time.
///
/// Returns `None` only for dates beyond what chrono can represent.
///
/// ```
/// use booking_core::time::resolve_local;
/// use chrono::{NaiveDate, TimeZone, Utc};
/// use chrono_tz::America::New_York;
///
/// let spring = NaiveDate::from_ymd_opt(2026, 3, 8).unwrap();
/// let in_gap = spring.and_hms_opt(2, 30, 0).unwrap();
/// // 02:30 does not exist; it resolves to 03:30 EDT = 07:30 UTC.
/// assert_eq!(
///     resolve_local(New_York, in_gap),
///     Some(Utc.with_ymd_and_hms(2026, 3, 8, 7, 30, 0).unwrap())
/// );
/// ```
pub fn resolve_local(zone: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    match zone.from_local_datetime(&local) {
        LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(earlier, _later) => Some(earlier.with_timezone(&Utc)),
        LocalResult::None => resolve_in_gap(zone, local),
    }
}

/// A wall-clock time inside a gap, read with the UTC offset in force just
/// before the gap: that lands exactly "gap length" later on the new offset.
fn resolve_in_gap(zone: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    // Walk back to the last wall-clock time before the gap. Real gaps are at
    // most a day long (Pacific/Apia skipped 2011-12-30), so 49 half-hour steps
    // are always enough.
    let step = Duration::minutes(30);
    let mut probe = local;
    for _ in 0..49 {
        probe = probe.checked_sub_signed(step)?;
        let before = match zone.from_local_datetime(&probe) {
            LocalResult::Single(t) => t,
            LocalResult::Ambiguous(_, later) => later,
            LocalResult::None => continue,
        };
        let offset = before.offset().fix();
        let instant =
            local.checked_sub_signed(Duration::seconds(i64::from(offset.local_minus_utc())))?;
        return Some(Utc.from_utc_datetime(&instant));
    }
    None
}

/// The local calendar date of `instant` in `zone`; `None` only within a day
/// of chrono's representable limits.
pub fn local_date(zone: Tz, instant: DateTime<Utc>) -> Option<NaiveDate> {
    let utc = instant.naive_utc();
    let offset = zone.offset_from_utc_datetime(&utc).fix();
    utc.checked_add_offset(offset).map(|local| local.date())
}

/// The UTC range covering whole local days `first..=last` in `zone`: from the
/// start of `first` to the start of the day after `last`, each resolved with
/// [`resolve_local`]. This is what "from date A to date B, inclusive" means for
/// an organizer, whatever their offset and whatever DST does on those days.
pub fn local_days_range(zone: Tz, first: NaiveDate, last: NaiveDate) -> Option<TimeRange> {
    let start = resolve_local(zone, WallTime::MIDNIGHT.on(first)?)?;
    let end = resolve_local(zone, WallTime::END_OF_DAY.on(last)?)?;
    TimeRange::new(start, end).ok()
}

/// A time zone name that is not in the IANA database.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown time zone {0:?}: use an IANA name such as \"Europe/London\"")]
pub struct UnknownTimeZone(pub String);

/// Parses an IANA time zone name such as `Europe/London`.
pub fn parse_time_zone(name: &str) -> Result<Tz, UnknownTimeZone> {
    name.parse::<Tz>()
        .map_err(|_| UnknownTimeZone(name.to_owned()))
}

/// Serde helpers writing a [`Duration`] as whole seconds.
pub(crate) mod serde_seconds {
    use chrono::Duration;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_i64(value.num_seconds())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        let secs = i64::deserialize(deserializer)?;
        Duration::try_seconds(secs).ok_or_else(|| serde::de::Error::custom("duration out of range"))
    }
}

/// Serde helpers writing an optional [`Duration`] as whole seconds or null.
pub(crate) mod serde_optional_seconds {
    use chrono::Duration;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(
        value: &Option<Duration>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(d) => serializer.serialize_some(&d.num_seconds()),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Duration>, D::Error> {
        match Option::<i64>::deserialize(deserializer)? {
            Some(secs) => Duration::try_seconds(secs)
                .map(Some)
                .ok_or_else(|| serde::de::Error::custom("duration out of range")),
            None => Ok(None),
        }
    }
}

/// Serde helpers writing a list of [`Duration`]s as whole seconds.
pub(crate) mod serde_seconds_list {
    use chrono::Duration;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &[Duration], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(value.iter().map(Duration::num_seconds))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<Duration>, D::Error> {
        Vec::<i64>::deserialize(deserializer)?
            .into_iter()
            .map(|secs| {
                Duration::try_seconds(secs)
                    .ok_or_else(|| serde::de::Error::custom("duration out of range"))
            })
            .collect()
    }
}

/// A source of "now", injectable so tests control time.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;
}

/// The real clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that stands still until told to move; for tests and simulations.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<DateTime<Utc>>,
}

impl ManualClock {
    /// A clock showing `now`.
    pub fn new(now: DateTime<Utc>) -> Self {
        Self {
            now: Mutex::new(now),
        }
    }

    /// Moves the clock to `now`.
    pub fn set(&self, now: DateTime<Utc>) {
        *self
            .now
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = now;
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let mut now = self
            .now
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *now += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self
            .now
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::{America, Asia, Australia, Europe};

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    fn local(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, mo, d)
            .unwrap()
            .and_hms_opt(h, mi, 0)
            .unwrap()
    }

    #[test]
    fn unknown_zone_is_a_typed_error() {
        assert_eq!(
            parse_time_zone("Mars/Olympus"),
            Err(UnknownTimeZone("Mars/Olympus".into()))
        );
        assert_eq!(
            parse_time_zone("Australia/Lord_Howe"),
            Ok(chrono_tz::Australia::Lord_Howe)
        );
    }

    #[test]
    fn ambiguous_time_takes_the_earlier_instant() {
        // New York falls back on 2026-11-01: 01:30 happens in EDT then in EST.
        let t = resolve_local(America::New_York, local(2026, 11, 1, 1, 30)).unwrap();
        assert_eq!(t, utc(2026, 11, 1, 5, 30));
        // London falls back on 2026-10-25: 01:30 BST is 00:30 UTC.
        let t = resolve_local(Europe::London, local(2026, 10, 25, 1, 30)).unwrap();
        assert_eq!(t, utc(2026, 10, 25, 0, 30));
    }

    #[test]
    fn gap_time_moves_forward_by_the_gap() {
        // London springs forward on 2026-03-29: 01:30 does not exist -> 02:30 BST.
        let t = resolve_local(Europe::London, local(2026, 3, 29, 1, 30)).unwrap();
        assert_eq!(t, utc(2026, 3, 29, 1, 30));
        // Lord Howe moves by 30 minutes on 2026-10-04 at 02:00: 02:15 -> 02:45 (+11).
        let t = resolve_local(Australia::Lord_Howe, local(2026, 10, 4, 2, 15)).unwrap();
        assert_eq!(t, utc(2026, 10, 3, 15, 45));
    }

    #[test]
    fn midnight_gap_resolves_to_one_in_the_morning() {
        // Havana springs forward at midnight on 2026-03-08: 00:00 -> 01:00 CDT (UTC-4).
        let t = resolve_local(America::Havana, local(2026, 3, 8, 0, 0)).unwrap();
        assert_eq!(t, utc(2026, 3, 8, 5, 0));
        // Beirut springs forward at midnight on 2026-03-29: 00:00 -> 01:00 (UTC+3).
        let t = resolve_local(Asia::Beirut, local(2026, 3, 29, 0, 0)).unwrap();
        assert_eq!(t, utc(2026, 3, 28, 22, 0));
    }

    #[test]
    fn whole_local_days_span_23_and_25_hours_on_dst_days() {
        let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
        let spring = local_days_range(America::New_York, d(3, 8), d(3, 8)).unwrap();
        assert_eq!(spring.duration(), Duration::hours(23));
        let autumn = local_days_range(America::New_York, d(11, 1), d(11, 1)).unwrap();
        assert_eq!(autumn.duration(), Duration::hours(25));
        let week = local_days_range(Europe::London, d(3, 23), d(3, 29)).unwrap();
        assert_eq!(week.duration(), Duration::hours(7 * 24 - 1));
    }

    #[test]
    fn wall_times_parse_strictly() {
        for bad in [
            "24:30", "25:00", "9:00", "09:60", "0900", "", "aa:bb", "-1:00", "09:00:00",
        ] {
            assert!(bad.parse::<WallTime>().is_err(), "{bad} should be refused");
        }
        assert_eq!("00:00".parse::<WallTime>().unwrap(), WallTime::MIDNIGHT);
        assert_eq!(
            "23:59"
                .parse::<WallTime>()
                .unwrap()
                .minutes_since_midnight(),
            1439
        );
    }

    #[test]
    fn intervals_merge_when_overlapping_or_touching() {
        let i = |a, b| LocalInterval::parse(a, b).unwrap();
        let merged = merge_intervals(&[
            i("13:00", "17:00"),
            i("09:00", "12:00"),
            i("12:00", "13:30"),
            i("18:00", "24:00"),
        ]);
        assert_eq!(merged, vec![i("09:00", "17:00"), i("18:00", "24:00")]);
    }

    #[test]
    fn time_range_refuses_empty_and_inverted() {
        let a = utc(2026, 1, 1, 9, 0);
        assert!(TimeRange::new(a, a).is_err());
        assert!(TimeRange::new(a, a - Duration::minutes(1)).is_err());
        let json =
            serde_json::json!({"start": "2026-01-01T10:00:00Z", "end": "2026-01-01T09:00:00Z"});
        assert!(serde_json::from_value::<TimeRange>(json).is_err());
    }

    #[test]
    fn touching_ranges_do_not_overlap() {
        let a = TimeRange::new(utc(2026, 1, 1, 9, 0), utc(2026, 1, 1, 10, 0)).unwrap();
        let b = TimeRange::new(utc(2026, 1, 1, 10, 0), utc(2026, 1, 1, 11, 0)).unwrap();
        assert!(!a.overlaps(&b));
        assert!(
            a.widened(Duration::zero(), Duration::minutes(1))
                .overlaps(&b)
        );
    }
}
