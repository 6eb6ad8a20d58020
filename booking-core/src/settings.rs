//! The one-call setup of earlier versions: [`SettingsDraft`] describes an
//! organizer's working hours and one kind of meeting together, and
//! [`put_settings`](crate::BookingService::put_settings) turns it into their
//! default [`Schedule`] and their default [`EventType`] (slug
//! [`DEFAULT_SLUG`]). Requests that name no event type book the default
//! one, so applications written for settings keep working unchanged.

use chrono::{Duration, NaiveDate, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::event_type::{
    BookingWindow, DEFAULT_SLUG, EventType, EventTypeDraft, MAX_HORIZON, MIN_SLOT_LENGTH,
};
use crate::schedule::{
    ALL_WEEKDAYS, DateOverrides, MAX_DATE_OVERRIDES, MAX_INTERVALS_PER_DAY, Schedule,
    ScheduleDraft, WeeklyHours, weekday_name,
};
use crate::time::UnknownTimeZone;

/// The name given to the default schedule that settings create.
pub const DEFAULT_SCHEDULE_NAME: &str = "Working hours";
/// The title given to the default event type that settings create.
pub const DEFAULT_EVENT_TITLE: &str = "Meeting";

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
    pub fn allows_zero(self) -> bool {
        self.min() == Duration::zero()
    }

    /// The smallest accepted value: [`MIN_SLOT_LENGTH`] for the slot length
    /// and step, one minute for the advance window, zero for the rest.
    pub fn min(self) -> Duration {
        match self {
            DurationSetting::SlotDuration | DurationSetting::SlotStep => MIN_SLOT_LENGTH,
            DurationSetting::MaxAdvance => Duration::minutes(1),
            DurationSetting::BufferBefore
            | DurationSetting::BufferAfter
            | DurationSetting::MinNotice => Duration::zero(),
        }
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

/// Why settings were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SettingsError {
    /// Not an IANA time zone name.
    #[error("unknown time zone {0:?}: use an IANA name such as \"Europe/London\"")]
    UnknownTimeZone(String),
    /// No time zone was given and none could be filled in.
    #[error("time_zone is required (an IANA name such as \"Europe/London\")")]
    TimeZoneRequired,
    /// A duration is below its minimum ([`DurationSetting::min`]).
    #[error("{} must be {}", .0.name(), if .0.allows_zero() { "zero or more".to_owned() } else { format!("at least {} minutes", .0.min().num_minutes()) })]
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

impl From<UnknownTimeZone> for SettingsError {
    fn from(error: UnknownTimeZone) -> Self {
        SettingsError::UnknownTimeZone(error.0)
    }
}

/// Settings as written by a person, before validation. Turn it into
/// [`OrganizerSettings`] with `OrganizerSettings::try_from`, or save it with
/// [`put_settings`](crate::BookingService::put_settings).
///
/// Durations are [`chrono::Duration`]s; in serialized form they are whole
/// seconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsDraft {
    /// IANA zone the working hours are written in; `None` means the
    /// organizer's own zone (`put_settings` fills it in; it is never
    /// silently UTC).
    #[serde(default)]
    pub time_zone: Option<Tz>,
    /// Hours for each weekday.
    pub weekly_hours: WeeklyHours,
    /// Dates whose hours replace the weekday's; an empty list is a day off.
    #[serde(default)]
    pub date_overrides: DateOverrides,
    /// Length of one meeting.
    #[serde(with = "crate::time::serde_seconds")]
    pub slot_duration: Duration,
    /// Distance between consecutive slot starts; `None` means `slot_duration`.
    #[serde(default, with = "crate::time::serde_optional_seconds")]
    pub slot_step: Option<Duration>,
    /// Free time kept before each meeting.
    #[serde(default, with = "crate::time::serde_seconds")]
    pub buffer_before: Duration,
    /// Free time kept after each meeting.
    #[serde(default, with = "crate::time::serde_seconds")]
    pub buffer_after: Duration,
    /// How long before a slot it can still be booked.
    #[serde(default, with = "crate::time::serde_seconds")]
    pub min_notice: Duration,
    /// How far ahead slots are offered.
    #[serde(with = "crate::time::serde_seconds")]
    pub max_advance: Duration,
}

impl Default for SettingsDraft {
    /// The organizer's zone, no working hours yet, 30-minute slots, no
    /// buffers, no notice, 60 days ahead.
    fn default() -> Self {
        SettingsDraft {
            time_zone: None,
            weekly_hours: WeeklyHours::default(),
            date_overrides: DateOverrides::new(),
            slot_duration: Duration::minutes(30),
            slot_step: None,
            buffer_before: Duration::zero(),
            buffer_after: Duration::zero(),
            min_notice: Duration::zero(),
            max_advance: Duration::days(60),
        }
    }
}

/// Validated settings: a time zone, every duration a whole number of
/// minutes and in range, every list bounded. Made with
/// `OrganizerSettings::try_from(draft)` (or by deserializing, which
/// validates the same way).
///
/// ```
/// use booking_core::{LocalInterval, OrganizerSettings, SettingsDraft, WeeklyHours};
/// use chrono::Duration;
///
/// let draft = SettingsDraft {
///     time_zone: Some(chrono_tz::Europe::London),
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
        if draft.time_zone.is_none() {
            return Err(SettingsError::TimeZoneRequired);
        }
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
    if value < which.min() {
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
        self.draft.time_zone.unwrap_or(Tz::UTC)
    }

    /// The weekly hours, as given.
    pub fn weekly_hours(&self) -> &WeeklyHours {
        &self.draft.weekly_hours
    }

    /// The date overrides, as given.
    pub fn date_overrides(&self) -> &DateOverrides {
        &self.draft.date_overrides
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

    /// The settings an organizer's default schedule and default event type
    /// amount to. A booking window other than a rolling one reads as its
    /// length in days (business days as days), since settings know only
    /// rolling windows; a list of lengths reads as its default.
    pub fn from_parts(schedule: &Schedule, event_type: &EventType) -> Self {
        let max_advance = match event_type.booking_window {
            BookingWindow::Rolling { horizon } => horizon,
            BookingWindow::RollingBusinessDays { days } => Duration::days(i64::from(days)),
            BookingWindow::Range { first, last } => (last - first) + Duration::days(1),
        };
        OrganizerSettings {
            draft: SettingsDraft {
                time_zone: Some(schedule.time_zone),
                weekly_hours: schedule.weekly_hours.clone(),
                date_overrides: schedule.date_overrides.clone(),
                slot_duration: event_type.duration,
                slot_step: event_type.slot_step,
                buffer_before: event_type.buffer_before,
                buffer_after: event_type.buffer_after,
                min_notice: event_type.min_notice,
                max_advance,
            },
        }
    }

    /// The default schedule these settings describe.
    pub fn schedule_draft(&self) -> ScheduleDraft {
        ScheduleDraft {
            name: DEFAULT_SCHEDULE_NAME.to_owned(),
            time_zone: self.draft.time_zone,
            weekly_hours: self.draft.weekly_hours.clone(),
            date_overrides: self.draft.date_overrides.clone(),
            is_default: true,
        }
    }

    /// `base` (the current default event type, or a new one) with the
    /// lengths, step, buffers, notice and window of these settings; its
    /// title, description, limits, location and schedule stay as they are.
    pub fn event_type_draft(&self, base: Option<EventTypeDraft>) -> EventTypeDraft {
        let base = base.unwrap_or_else(|| {
            EventTypeDraft::new(DEFAULT_SLUG, DEFAULT_EVENT_TITLE, self.draft.slot_duration)
        });
        EventTypeDraft {
            duration: self.draft.slot_duration,
            duration_options: Vec::new(),
            slot_step: self.draft.slot_step,
            buffer_before: self.draft.buffer_before,
            buffer_after: self.draft.buffer_after,
            min_notice: self.draft.min_notice,
            booking_window: BookingWindow::Rolling {
                horizon: self.draft.max_advance,
            },
            ..base
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::LocalInterval;

    fn draft() -> SettingsDraft {
        SettingsDraft {
            time_zone: Some(Tz::UTC),
            ..SettingsDraft::default()
        }
    }

    #[test]
    fn a_zone_is_required_and_never_assumed() {
        assert_eq!(
            OrganizerSettings::try_from(SettingsDraft::default()),
            Err(SettingsError::TimeZoneRequired)
        );
    }

    #[test]
    fn durations_are_checked() {
        let cases: Vec<(SettingsDraft, SettingsError)> = vec![
            (
                SettingsDraft {
                    slot_duration: Duration::minutes(4),
                    ..draft()
                },
                SettingsError::DurationTooSmall(DurationSetting::SlotDuration),
            ),
            (
                SettingsDraft {
                    slot_step: Some(Duration::minutes(-5)),
                    ..draft()
                },
                SettingsError::DurationTooSmall(DurationSetting::SlotStep),
            ),
            (
                SettingsDraft {
                    buffer_before: Duration::minutes(-1),
                    ..draft()
                },
                SettingsError::DurationTooSmall(DurationSetting::BufferBefore),
            ),
            (
                SettingsDraft {
                    max_advance: Duration::zero(),
                    ..draft()
                },
                SettingsError::DurationTooSmall(DurationSetting::MaxAdvance),
            ),
            (
                SettingsDraft {
                    buffer_after: Duration::hours(25),
                    ..draft()
                },
                SettingsError::DurationTooLarge(DurationSetting::BufferAfter),
            ),
            (
                SettingsDraft {
                    slot_duration: Duration::seconds(390),
                    ..draft()
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
            ..draft()
        };
        assert!(OrganizerSettings::try_from(ok).is_ok());
    }

    #[test]
    fn settings_round_trip_through_json_and_validate_on_the_way_in() {
        let draft = SettingsDraft {
            weekly_hours: WeeklyHours::weekdays(vec![
                LocalInterval::parse("09:00", "24:00").unwrap(),
            ]),
            date_overrides: DateOverrides::from([(
                NaiveDate::from_ymd_opt(2026, 12, 24).unwrap(),
                vec![],
            )]),
            ..draft()
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
}
