//! Working hours as JSON, shared by settings and schedules: weekly hours
//! (`{"monday": [{"start": "09:00", "end": "17:00"}], ...}`, a weekday left
//! out being a day off) and date overrides (`[{"date": "2026-12-24",
//! "hours": []}]`).

use std::collections::BTreeMap;

use booking_core::WeeklyHours;
use booking_core::schedule::{ALL_WEEKDAYS, DateOverrides, weekday_name};
use booking_core::time::{LocalInterval, WallTime};
use serde::{Deserialize, Serialize};

use super::{parse_date, weekday_of};
use crate::http::fields::FieldErrors;

/// One `{start: "HH:MM", end: "HH:MM"}` working interval.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct IntervalBody {
    /// First minute, `HH:MM`.
    pub start: String,
    /// First minute after, `HH:MM` up to `24:00`.
    pub end: String,
}

/// One `{date: "YYYY-MM-DD", hours: [...]}` date override.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct OverrideBody {
    /// The local date.
    pub date: String,
    /// Its hours; empty for a day off.
    pub hours: Vec<IntervalBody>,
}

/// Weekday name to intervals, as sent.
pub type WeeklyHoursBody = BTreeMap<String, Vec<IntervalBody>>;

/// A date override as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OverrideDto {
    date: String,
    #[schema(value_type = Vec<IntervalBody>)]
    hours: Vec<LocalInterval>,
}

/// Parses one interval, reporting under `path.start` / `path.end`.
fn interval(path: &str, body: &IntervalBody, errors: &mut FieldErrors) -> Option<LocalInterval> {
    let start = errors.check(format!("{path}.start"), body.start.parse::<WallTime>());
    let end = errors.check(format!("{path}.end"), body.end.parse::<WallTime>());
    let (start, end) = (start?, end?);
    errors.check(format!("{path}.end"), LocalInterval::new(start, end))
}

/// The weekly hours of `days` (under `field`, e.g. `weeklyHours`), every
/// malformed weekday or interval named.
pub fn read_weekly_hours(
    field: &str,
    days: &WeeklyHoursBody,
    errors: &mut FieldErrors,
) -> WeeklyHours {
    let mut weekly_hours = WeeklyHours::default();
    for (name, intervals) in days {
        let Some(day) = weekday_of(name) else {
            errors.add(
                format!("{field}.{name}"),
                "not a weekday: use monday, tuesday, wednesday, thursday, friday, saturday or sunday",
            );
            continue;
        };
        for (i, body) in intervals.iter().enumerate() {
            if let Some(parsed) = interval(&format!("{field}.{name}[{i}]"), body, errors) {
                weekly_hours.day_mut(day).push(parsed);
            }
        }
    }
    weekly_hours
}

/// The date overrides of `entries` (under `dateOverrides`), every malformed
/// date or interval named; a date given twice is refused.
pub fn read_overrides(entries: &[OverrideBody], errors: &mut FieldErrors) -> DateOverrides {
    let mut date_overrides = DateOverrides::new();
    for (i, entry) in entries.iter().enumerate() {
        let path = format!("dateOverrides[{i}]");
        let date = errors.check(format!("{path}.date"), parse_date(&entry.date));
        let mut hours = Vec::new();
        for (j, body) in entry.hours.iter().enumerate() {
            if let Some(parsed) = interval(&format!("{path}.hours[{j}]"), body, errors) {
                hours.push(parsed);
            }
        }
        if let Some(date) = date
            && date_overrides.insert(date, hours).is_some()
        {
            errors.add(
                format!("{path}.date"),
                format!("{date} is overridden more than once"),
            );
        }
    }
    date_overrides
}

/// Weekly hours as the API shows them: every weekday present, intervals as
/// given (not merged).
pub fn weekly_hours_dto(hours: &WeeklyHours) -> BTreeMap<&'static str, Vec<LocalInterval>> {
    ALL_WEEKDAYS
        .into_iter()
        .map(|day| (weekday_name(day), hours.day(day).to_vec()))
        .collect()
}

/// Date overrides as the API shows them, sorted by date.
pub fn overrides_dto(overrides: &DateOverrides) -> Vec<OverrideDto> {
    overrides
        .iter()
        .map(|(date, hours)| OverrideDto {
            date: date.to_string(),
            hours: hours.clone(),
        })
        .collect()
}
