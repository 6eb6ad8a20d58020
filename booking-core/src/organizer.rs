//! Organizers (the people whose time is booked) and their settings: time
//! zone, weekly working hours, date overrides and the slot rules.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

pub use crate::ids::OrganizerId;
use crate::secret::TokenHash;
use crate::time::{LocalInterval, merge_intervals};
use crate::validation::{self, ValidationErrors};

/// Shortest username accepted, as in the seed's schema.
pub const MIN_USERNAME_LEN: usize = 3;
/// Longest username accepted.
pub const MAX_USERNAME_LEN: usize = 64;
/// Longest display name accepted.
pub const MAX_DISPLAY_NAME_LEN: usize = 200;

/// Someone whose time can be booked (the seed's `users` row).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organizer {
    /// Stable id.
    pub id: OrganizerId,
    /// Unique public handle used in booking links, e.g. `ada`.
    pub username: String,
    /// Contact address.
    pub email: String,
    /// Name shown to attendees.
    pub display_name: String,
    /// The organizer's home time zone, used to read dates they type (such as
    /// a list's date range) until settings say otherwise.
    pub time_zone: Tz,
    /// SHA-256 of the organizer's API token; the token itself is never stored.
    pub api_token_hash: TokenHash,
    /// When the organizer registered.
    pub created_at: DateTime<Utc>,
}

impl Organizer {
    /// The organizer a store records for `new`, with the id, token hash and
    /// creation instant the service chose.
    pub fn from_new(
        id: OrganizerId,
        new: NewOrganizer,
        api_token_hash: TokenHash,
        created_at: DateTime<Utc>,
    ) -> Self {
        Organizer {
            id,
            username: new.username,
            email: new.email,
            display_name: new.display_name,
            time_zone: new.time_zone,
            api_token_hash,
            created_at,
        }
    }
}

/// What a new organizer registers with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewOrganizer {
    /// Unique handle: 3 to 64 characters of letters, digits, `_`, `-` or `.`.
    pub username: String,
    /// Contact address.
    pub email: String,
    /// Name shown to attendees.
    pub display_name: String,
    /// Home time zone.
    pub time_zone: Tz,
}

impl NewOrganizer {
    /// Checks every field; errors are named `username`, `email` and `name`.
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        errors.check("username", validate_username(&self.username));
        errors.check("email", validation::email(&self.email));
        errors.check(
            "name",
            validation::required_text(&self.display_name, 1, MAX_DISPLAY_NAME_LEN, "Name"),
        );
        errors.into_result(())
    }
}

/// A username is part of public URLs, so it is restricted to URL-safe ASCII.
pub fn validate_username(username: &str) -> Result<(), String> {
    validation::required_text(username, MIN_USERNAME_LEN, MAX_USERNAME_LEN, "Username")?;
    if username
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        Ok(())
    } else {
        Err("Username may contain only letters, digits, '_', '-' and '.'".to_owned())
    }
}

/// Parses an IANA time zone name such as `Europe/London`.
pub fn parse_time_zone(name: &str) -> Result<Tz, SettingsError> {
    name.parse::<Tz>()
        .map_err(|_| SettingsError::UnknownTimeZone(name.to_owned()))
}

/// Working hours for each day of the week, in the organizer's local time.
/// A day with no intervals is a day off. Intervals may be given unsorted,
/// overlapping or touching; they are merged when slots are computed.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WeeklyHours {
    /// Monday's working intervals.
    pub monday: Vec<LocalInterval>,
    /// Tuesday's working intervals.
    pub tuesday: Vec<LocalInterval>,
    /// Wednesday's working intervals.
    pub wednesday: Vec<LocalInterval>,
    /// Thursday's working intervals.
    pub thursday: Vec<LocalInterval>,
    /// Friday's working intervals.
    pub friday: Vec<LocalInterval>,
    /// Saturday's working intervals.
    pub saturday: Vec<LocalInterval>,
    /// Sunday's working intervals.
    pub sunday: Vec<LocalInterval>,
}

impl WeeklyHours {
    /// The same hours Monday to Friday, weekends off.
    pub fn weekdays(hours: Vec<LocalInterval>) -> Self {
        let mut week = WeeklyHours::default();
        for day in [
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
        ] {
            *week.day_mut(day) = hours.clone();
        }
        week
    }

    /// The same hours every day of the week.
    pub fn every_day(hours: Vec<LocalInterval>) -> Self {
        let mut week = WeeklyHours::default();
        for day in ALL_WEEKDAYS {
            *week.day_mut(day) = hours.clone();
        }
        week
    }

    /// The hours of `day`.
    pub fn day(&self, day: Weekday) -> &[LocalInterval] {
        match day {
            Weekday::Mon => &self.monday,
            Weekday::Tue => &self.tuesday,
            Weekday::Wed => &self.wednesday,
            Weekday::Thu => &self.thursday,
            Weekday::Fri => &self.friday,
            Weekday::Sat => &self.saturday,
            Weekday::Sun => &self.sunday,
        }
    }

    /// The hours of `day`, to change them.
    pub fn day_mut(&mut self, day: Weekday) -> &mut Vec<LocalInterval> {
        match day {
            Weekday::Mon => &mut self.monday,
            Weekday::Tue => &mut self.tuesday,
            Weekday::Wed => &mut self.wednesday,
            Weekday::Thu => &mut self.thursday,
            Weekday::Fri => &mut self.friday,
            Weekday::Sat => &mut self.saturday,
            Weekday::Sun => &mut self.sunday,
        }
    }
}

/// Monday to Sunday.
pub const ALL_WEEKDAYS: [Weekday; 7] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
    Weekday::Sun,
];

/// The lowercase English name of `day`, as used in [`WeeklyHours`]' fields.
pub fn weekday_name(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "monday",
        Weekday::Tue => "tuesday",
        Weekday::Wed => "wednesday",
        Weekday::Thu => "thursday",
        Weekday::Fri => "friday",
        Weekday::Sat => "saturday",
        Weekday::Sun => "sunday",
    }
}

/// The duration-valued settings, to name one in an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DurationSetting {
    /// [`SettingsDraft::slot_duration`].
    SlotDuration,
    /// [`SettingsDraft::slot_step`].
    SlotStep,
    /// [`SettingsDraft::buffer_before`].
    BufferBefore,
    /// [`SettingsDraft::buffer_after`].
    BufferAfter,
    /// [`SettingsDraft::min_notice`].
    MinNotice,
    /// [`SettingsDraft::max_advance`].
    MaxAdvance,
}

impl DurationSetting {
    /// The field's Rust name, e.g. `slot_duration`.
    pub fn name(self) -> &'static str {
        match self {
            DurationSetting::SlotDuration => "slot_duration",
            DurationSetting::SlotStep => "slot_step",
            DurationSetting::BufferBefore => "buffer_before",
            DurationSetting::BufferAfter => "buffer_after",
            DurationSetting::MinNotice => "min_notice",
            DurationSetting::MaxAdvance => "max_advance",
        }
    }

    /// Whether zero is allowed (buffers and notice may be zero; a slot may not).
    fn allows_zero(self) -> bool {
        matches!(
            self,
            DurationSetting::BufferBefore
                | DurationSetting::BufferAfter
                | DurationSetting::MinNotice
        )
    }

    /// The largest accepted value.
    pub fn max(self) -> Duration {
        match self {
            DurationSetting::SlotDuration
            | DurationSetting::SlotStep
            | DurationSetting::BufferBefore
            | DurationSetting::BufferAfter => Duration::hours(24),
            DurationSetting::MinNotice | DurationSetting::MaxAdvance => MAX_HORIZON,
        }
    }
}

/// The furthest notice or advance horizon accepted: ten years and a few days.
pub const MAX_HORIZON: Duration = Duration::days(3660);
/// The most intervals accepted on one day (weekday or override).
pub const MAX_INTERVALS_PER_DAY: usize = 48;
/// The most date overrides accepted.
pub const MAX_DATE_OVERRIDES: usize = 1000;

/// Why settings were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SettingsError {
    /// Not an IANA time zone name.
    #[error("unknown time zone {0:?}: use an IANA name such as \"Europe/London\"")]
    UnknownTimeZone(String),
    /// A duration is zero where it must be positive, or negative.
    #[error("{} must be {}", .0.name(), if .0.allows_zero() { "zero or more" } else { "positive" })]
    DurationTooSmall(DurationSetting),
    /// A duration is longer than accepted.
    #[error("{} must be at most {} minutes", .0.name(), .0.max().num_minutes())]
    DurationTooLarge(DurationSetting),
    /// A duration is not a whole number of minutes.
    #[error("{} must be a whole number of minutes", .0.name())]
    NotWholeMinutes(DurationSetting),
    /// Too many intervals on one weekday.
    #[error("{} has {count} intervals; at most {MAX_INTERVALS_PER_DAY} are accepted", weekday_name(*.day))]
    TooManyWeekdayIntervals {
        /// The crowded day.
        day: Weekday,
        /// How many it had.
        count: usize,
    },
    /// Too many intervals on one overridden date.
    #[error("{date} has {count} intervals; at most {MAX_INTERVALS_PER_DAY} are accepted")]
    TooManyOverrideIntervals {
        /// The crowded date.
        date: NaiveDate,
        /// How many it had.
        count: usize,
    },
    /// Too many date overrides.
    #[error("{0} date overrides; at most {MAX_DATE_OVERRIDES} are accepted")]
    TooManyOverrides(usize),
}

/// Settings as written by a person or read from storage, before validation.
/// Turn it into [`OrganizerSettings`] with `OrganizerSettings::try_from`.
///
/// Durations are [`chrono::Duration`]s; in serialized form they are whole
/// seconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsDraft {
    /// IANA zone the working hours are written in.
    pub time_zone: Tz,
    /// Hours for each weekday.
    pub weekly_hours: WeeklyHours,
    /// Dates whose hours replace the weekday's; an empty list is a day off.
    #[serde(default)]
    pub date_overrides: BTreeMap<NaiveDate, Vec<LocalInterval>>,
    /// Length of one meeting.
    #[serde(with = "seconds")]
    pub slot_duration: Duration,
    /// Distance between consecutive slot starts; `None` means `slot_duration`.
    #[serde(default, with = "optional_seconds")]
    pub slot_step: Option<Duration>,
    /// Free time kept before each meeting.
    #[serde(default, with = "seconds")]
    pub buffer_before: Duration,
    /// Free time kept after each meeting.
    #[serde(default, with = "seconds")]
    pub buffer_after: Duration,
    /// How long before a slot it can still be booked.
    #[serde(default, with = "seconds")]
    pub min_notice: Duration,
    /// How far ahead slots are offered.
    #[serde(with = "seconds")]
    pub max_advance: Duration,
}

impl Default for SettingsDraft {
    /// UTC, no working hours yet, 30-minute slots, no buffers, no notice,
    /// 60 days ahead.
    fn default() -> Self {
        SettingsDraft {
            time_zone: Tz::UTC,
            weekly_hours: WeeklyHours::default(),
            date_overrides: BTreeMap::new(),
            slot_duration: Duration::minutes(30),
            slot_step: None,
            buffer_before: Duration::zero(),
            buffer_after: Duration::zero(),
            min_notice: Duration::zero(),
            max_advance: Duration::days(60),
        }
    }
}

/// Validated settings: every duration a whole number of minutes and in
/// range, every list bounded. The only
/// way to get one is `OrganizerSettings::try_from(draft)` (or deserializing,
/// which validates the same way), so the availability engine can trust it.
///
/// ```
/// use booking_core::organizer::{OrganizerSettings, SettingsDraft, WeeklyHours};
/// use booking_core::time::LocalInterval;
/// use chrono::Duration;
///
/// let draft = SettingsDraft {
///     time_zone: chrono_tz::Europe::London,
///     weekly_hours: WeeklyHours::weekdays(vec![LocalInterval::parse("09:00", "17:00")?]),
///     slot_duration: Duration::minutes(45),
///     buffer_after: Duration::minutes(15),
///     ..SettingsDraft::default()
/// };
/// let settings = OrganizerSettings::try_from(draft)?;
/// assert_eq!(settings.slot_step(), Duration::minutes(45));
///
/// let broken = SettingsDraft { slot_duration: Duration::zero(), ..SettingsDraft::default() };
/// assert!(OrganizerSettings::try_from(broken).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "SettingsDraft", into = "SettingsDraft")]
pub struct OrganizerSettings {
    draft: SettingsDraft,
}

impl TryFrom<SettingsDraft> for OrganizerSettings {
    type Error = SettingsError;

    fn try_from(draft: SettingsDraft) -> Result<Self, Self::Error> {
        check_duration(DurationSetting::SlotDuration, draft.slot_duration)?;
        if let Some(step) = draft.slot_step {
            check_duration(DurationSetting::SlotStep, step)?;
        }
        check_duration(DurationSetting::BufferBefore, draft.buffer_before)?;
        check_duration(DurationSetting::BufferAfter, draft.buffer_after)?;
        check_duration(DurationSetting::MinNotice, draft.min_notice)?;
        check_duration(DurationSetting::MaxAdvance, draft.max_advance)?;
        for day in ALL_WEEKDAYS {
            let count = draft.weekly_hours.day(day).len();
            if count > MAX_INTERVALS_PER_DAY {
                return Err(SettingsError::TooManyWeekdayIntervals { day, count });
            }
        }
        if draft.date_overrides.len() > MAX_DATE_OVERRIDES {
            return Err(SettingsError::TooManyOverrides(draft.date_overrides.len()));
        }
        for (date, hours) in &draft.date_overrides {
            if hours.len() > MAX_INTERVALS_PER_DAY {
                return Err(SettingsError::TooManyOverrideIntervals {
                    date: *date,
                    count: hours.len(),
                });
            }
        }
        Ok(OrganizerSettings { draft })
    }
}

impl From<OrganizerSettings> for SettingsDraft {
    fn from(settings: OrganizerSettings) -> Self {
        settings.draft
    }
}

fn check_duration(which: DurationSetting, value: Duration) -> Result<(), SettingsError> {
    let too_small = if which.allows_zero() {
        value < Duration::zero()
    } else {
        value <= Duration::zero()
    };
    if too_small {
        Err(SettingsError::DurationTooSmall(which))
    } else if value > which.max() {
        Err(SettingsError::DurationTooLarge(which))
    } else if value.subsec_nanos() != 0 || value.num_seconds() % 60 != 0 {
        Err(SettingsError::NotWholeMinutes(which))
    } else {
        Ok(())
    }
}

impl OrganizerSettings {
    /// The zone working hours are written in.
    pub fn time_zone(&self) -> Tz {
        self.draft.time_zone
    }

    /// The weekly hours, as given.
    pub fn weekly_hours(&self) -> &WeeklyHours {
        &self.draft.weekly_hours
    }

    /// The date overrides, as given.
    pub fn date_overrides(&self) -> &BTreeMap<NaiveDate, Vec<LocalInterval>> {
        &self.draft.date_overrides
    }

    /// The working intervals of local `date`, sorted and merged: the date's
    /// override if it has one, else its weekday's hours.
    pub fn hours_on(&self, date: NaiveDate) -> Vec<LocalInterval> {
        use chrono::Datelike as _;
        match self.draft.date_overrides.get(&date) {
            Some(hours) => merge_intervals(hours),
            None => merge_intervals(self.draft.weekly_hours.day(date.weekday())),
        }
    }

    /// Length of one meeting.
    pub fn slot_duration(&self) -> Duration {
        self.draft.slot_duration
    }

    /// Distance between consecutive slot starts (defaults to the duration).
    pub fn slot_step(&self) -> Duration {
        self.draft.slot_step.unwrap_or(self.draft.slot_duration)
    }

    /// The step as configured: `None` when it follows the duration.
    pub fn configured_slot_step(&self) -> Option<Duration> {
        self.draft.slot_step
    }

    /// Free time kept before each meeting.
    pub fn buffer_before(&self) -> Duration {
        self.draft.buffer_before
    }

    /// Free time kept after each meeting.
    pub fn buffer_after(&self) -> Duration {
        self.draft.buffer_after
    }

    /// How long before its start a slot can still be booked.
    pub fn min_notice(&self) -> Duration {
        self.draft.min_notice
    }

    /// How far ahead of now slots are offered.
    pub fn max_advance(&self) -> Duration {
        self.draft.max_advance
    }

    /// The settings as an editable draft.
    pub fn to_draft(&self) -> SettingsDraft {
        self.draft.clone()
    }
}

/// Serde helpers writing a [`Duration`] as whole seconds.
pub(crate) mod seconds {
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
pub(crate) mod optional_seconds {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_checked() {
        let cases: Vec<(SettingsDraft, SettingsError)> = vec![
            (
                SettingsDraft {
                    slot_duration: Duration::zero(),
                    ..Default::default()
                },
                SettingsError::DurationTooSmall(DurationSetting::SlotDuration),
            ),
            (
                SettingsDraft {
                    slot_step: Some(Duration::minutes(-5)),
                    ..Default::default()
                },
                SettingsError::DurationTooSmall(DurationSetting::SlotStep),
            ),
            (
                SettingsDraft {
                    buffer_before: Duration::minutes(-1),
                    ..Default::default()
                },
                SettingsError::DurationTooSmall(DurationSetting::BufferBefore),
            ),
            (
                SettingsDraft {
                    max_advance: Duration::zero(),
                    ..Default::default()
                },
                SettingsError::DurationTooSmall(DurationSetting::MaxAdvance),
            ),
            (
                SettingsDraft {
                    buffer_after: Duration::hours(25),
                    ..Default::default()
                },
                SettingsError::DurationTooLarge(DurationSetting::BufferAfter),
            ),
            (
                SettingsDraft {
                    slot_duration: Duration::seconds(90),
                    ..Default::default()
                },
                SettingsError::NotWholeMinutes(DurationSetting::SlotDuration),
            ),
        ];
        for (draft, expected) in cases {
            assert_eq!(OrganizerSettings::try_from(draft), Err(expected));
        }
        let ok = SettingsDraft {
            min_notice: Duration::minutes(525_600),
            max_advance: Duration::days(3650),
            ..Default::default()
        };
        assert!(OrganizerSettings::try_from(ok).is_ok());
    }

    #[test]
    fn unknown_zone_is_a_typed_error() {
        assert_eq!(
            parse_time_zone("Mars/Olympus"),
            Err(SettingsError::UnknownTimeZone("Mars/Olympus".into()))
        );
        assert_eq!(
            parse_time_zone("Australia/Lord_Howe"),
            Ok(chrono_tz::Australia::Lord_Howe)
        );
    }

    #[test]
    fn settings_round_trip_through_json_and_validate_on_the_way_in() {
        let draft = SettingsDraft {
            weekly_hours: WeeklyHours::weekdays(vec![
                LocalInterval::parse("09:00", "24:00").unwrap(),
            ]),
            date_overrides: BTreeMap::from([(
                NaiveDate::from_ymd_opt(2026, 12, 24).unwrap(),
                vec![],
            )]),
            ..Default::default()
        };
        let settings = OrganizerSettings::try_from(draft).unwrap();
        let json = serde_json::to_value(&settings).unwrap();
        assert_eq!(
            serde_json::from_value::<OrganizerSettings>(json.clone()).unwrap(),
            settings
        );
        let mut bad = json;
        bad["slot_duration"] = serde_json::json!(0);
        assert!(serde_json::from_value::<OrganizerSettings>(bad).is_err());
    }

    #[test]
    fn new_organizers_are_validated_field_by_field() {
        let bad = NewOrganizer {
            username: "a b".into(),
            email: "nope".into(),
            display_name: " ".into(),
            time_zone: Tz::UTC,
        };
        let errors = bad.validate().unwrap_err();
        let fields: Vec<&str> = errors.errors().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["username", "email", "name"]);
    }
}
