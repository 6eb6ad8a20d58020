//! Schedules: named, reusable working hours (a time zone, hours for each
//! weekday and date overrides). An organizer has one or more; exactly one is
//! their default, used by every event type that names no schedule of its own.

use std::collections::BTreeMap;

use chrono::{Datelike as _, NaiveDate, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

pub use crate::ids::{OrganizerId, ScheduleId};
use crate::time::{LocalInterval, merge_intervals};
use crate::validation::{self, Field, ValidationErrors};

/// The most intervals accepted on one day (weekday or override).
pub const MAX_INTERVALS_PER_DAY: usize = 48;
/// The most date overrides accepted on one schedule.
pub const MAX_DATE_OVERRIDES: usize = 1000;
/// Longest schedule name accepted.
pub const MAX_SCHEDULE_NAME_LEN: usize = 100;
/// The most schedules one organizer may keep.
pub const MAX_SCHEDULES: usize = 50;

/// Dates whose hours replace their weekday's; an empty list is a day off.
pub type DateOverrides = BTreeMap<NaiveDate, Vec<LocalInterval>>;

/// Working hours for each day of the week, in the schedule's local time.
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
        for day in &ALL_WEEKDAYS[..5] {
            *week.day_mut(*day) = hours.clone();
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

/// A stored schedule: named working hours in one time zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    /// Stable id.
    pub id: ScheduleId,
    /// Whose schedule it is.
    pub organizer_id: OrganizerId,
    /// A name for people, e.g. "Working hours" or "Evenings".
    pub name: String,
    /// The IANA zone the hours are written in.
    pub time_zone: Tz,
    /// Hours for each weekday.
    pub weekly_hours: WeeklyHours,
    /// Dates whose hours replace their weekday's.
    pub date_overrides: DateOverrides,
    /// Whether event types without a schedule of their own use this one.
    /// Exactly one schedule of an organizer is the default.
    pub is_default: bool,
}

impl Schedule {
    /// The working intervals of local `date`, sorted and merged: the date's
    /// override if it has one, else its weekday's hours.
    pub fn hours_on(&self, date: NaiveDate) -> Vec<LocalInterval> {
        merge_intervals(self.raw_hours_on(date))
    }

    /// Whether local `date` has any working hours (a business day).
    pub fn works_on(&self, date: NaiveDate) -> bool {
        !self.raw_hours_on(date).is_empty()
    }

    fn raw_hours_on(&self, date: NaiveDate) -> &[LocalInterval] {
        match self.date_overrides.get(&date) {
            Some(hours) => hours,
            None => self.weekly_hours.day(date.weekday()),
        }
    }

    /// The schedule as an editable draft.
    pub fn to_draft(&self) -> ScheduleDraft {
        ScheduleDraft {
            name: self.name.clone(),
            time_zone: Some(self.time_zone),
            weekly_hours: self.weekly_hours.clone(),
            date_overrides: self.date_overrides.clone(),
            is_default: self.is_default,
        }
    }
}

/// What an organizer writes to create or replace a schedule.
///
/// ```
/// use booking_core::{LocalInterval, ScheduleDraft, WeeklyHours};
///
/// let draft = ScheduleDraft::new(
///     "Working hours",
///     WeeklyHours::weekdays(vec![LocalInterval::parse("09:00", "17:00")?]),
/// );
/// assert!(draft.validate().is_ok());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ScheduleDraft {
    /// A name for people (1 to 100 characters).
    pub name: String,
    /// The zone the hours are written in; `None` means the organizer's own
    /// zone (it is never silently UTC).
    pub time_zone: Option<Tz>,
    /// Hours for each weekday.
    pub weekly_hours: WeeklyHours,
    /// Dates whose hours replace their weekday's; an empty list is a day off.
    pub date_overrides: DateOverrides,
    /// Make this the organizer's default schedule (the previous default
    /// stops being it). An organizer's first schedule is always the default.
    pub is_default: bool,
}

impl ScheduleDraft {
    /// A schedule called `name` with `weekly_hours`, in the organizer's
    /// zone, with no overrides.
    pub fn new(name: impl Into<String>, weekly_hours: WeeklyHours) -> Self {
        ScheduleDraft {
            name: name.into(),
            weekly_hours,
            ..ScheduleDraft::default()
        }
    }

    /// Checks every field; all problems are reported together.
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        errors.check(
            Field::ScheduleName,
            validation::required_text(&self.name, 1, MAX_SCHEDULE_NAME_LEN, "Name"),
        );
        check_hours(&self.weekly_hours, &self.date_overrides, &mut errors);
        errors.into_result(())
    }
}

/// The size limits every set of hours obeys, so one organizer's hours can
/// never make slot computation expensive.
pub(crate) fn check_hours(
    weekly_hours: &WeeklyHours,
    date_overrides: &DateOverrides,
    errors: &mut ValidationErrors,
) {
    for day in ALL_WEEKDAYS {
        let count = weekly_hours.day(day).len();
        if count > MAX_INTERVALS_PER_DAY {
            errors.add(
                Field::WeeklyHours(day),
                format!("{count} intervals; at most {MAX_INTERVALS_PER_DAY} are accepted"),
            );
        }
    }
    if date_overrides.len() > MAX_DATE_OVERRIDES {
        errors.add(
            Field::DateOverrides,
            format!(
                "{} date overrides; at most {MAX_DATE_OVERRIDES} are accepted",
                date_overrides.len()
            ),
        );
    }
    for (date, hours) in date_overrides {
        if hours.len() > MAX_INTERVALS_PER_DAY {
            errors.add(
                Field::DateOverrides,
                format!(
                    "{date} has {} intervals; at most {MAX_INTERVALS_PER_DAY} are accepted",
                    hours.len()
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hours(a: &str, b: &str) -> LocalInterval {
        LocalInterval::parse(a, b).unwrap()
    }

    #[test]
    fn overrides_replace_the_weekday_and_an_empty_one_is_a_day_off() {
        let christmas = NaiveDate::from_ymd_opt(2026, 12, 25).unwrap(); // a Friday
        let saturday = NaiveDate::from_ymd_opt(2026, 12, 26).unwrap();
        let schedule = Schedule {
            id: ScheduleId::generate(),
            organizer_id: OrganizerId::generate(),
            name: "Hours".into(),
            time_zone: chrono_tz::Europe::London,
            weekly_hours: WeeklyHours::weekdays(vec![
                hours("13:00", "17:00"),
                hours("09:00", "13:00"),
            ]),
            date_overrides: [
                (christmas, vec![]),
                (saturday, vec![hours("10:00", "11:00")]),
            ]
            .into(),
            is_default: true,
        };
        assert!(!schedule.works_on(christmas));
        assert!(schedule.works_on(saturday));
        assert_eq!(schedule.hours_on(saturday), [hours("10:00", "11:00")]);
        let monday = NaiveDate::from_ymd_opt(2026, 12, 28).unwrap();
        assert_eq!(schedule.hours_on(monday), [hours("09:00", "17:00")]);
    }

    #[test]
    fn drafts_name_each_bad_field() {
        let mut draft = ScheduleDraft::new(" ", WeeklyHours::default());
        draft.weekly_hours.monday = vec![hours("09:00", "10:00"); MAX_INTERVALS_PER_DAY + 1];
        let errors = draft.validate().unwrap_err();
        let fields: Vec<Field> = errors.errors().iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            [Field::ScheduleName, Field::WeeklyHours(Weekday::Mon)]
        );
    }
}
