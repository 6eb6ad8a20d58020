//! The organizer's settings as a form: text for the hours (`09:00-12:00,
//! 13:00-17:00`), one line per date override, whole minutes and days for the
//! rest; read back into a [`SettingsDraft`] with every mistake named by field.

use std::collections::BTreeMap;

use booking_core::organizer::{
    ALL_WEEKDAYS, DurationSetting, SettingsDraft, SettingsError, WeeklyHours, weekday_name,
};
use booking_core::time::LocalInterval;
use booking_core::validation::ValidationErrors;
use chrono::{Duration, NaiveDate};
use chrono_tz::Tz;
use maud::{Markup, html};
use serde::Deserialize;

use super::layout::{described_by, field_error};
use super::zones;

/// The settings form's fields, as text, exactly as typed.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct SettingsForm {
    time_zone: String,
    monday: String,
    tuesday: String,
    wednesday: String,
    thursday: String,
    friday: String,
    saturday: String,
    sunday: String,
    overrides: String,
    slot_minutes: String,
    slot_step_minutes: String,
    buffer_before_minutes: String,
    buffer_after_minutes: String,
    min_notice_minutes: String,
    max_advance_days: String,
}

/// The most a number field accepts before the settings' own limits apply;
/// keeps the arithmetic far from overflow.
const LARGEST_NUMBER: i64 = 100_000_000;

impl SettingsForm {
    fn day(&self, name: &str) -> &str {
        match name {
            "monday" => &self.monday,
            "tuesday" => &self.tuesday,
            "wednesday" => &self.wednesday,
            "thursday" => &self.thursday,
            "friday" => &self.friday,
            "saturday" => &self.saturday,
            _ => &self.sunday,
        }
    }

    fn day_mut(&mut self, name: &str) -> &mut String {
        match name {
            "monday" => &mut self.monday,
            "tuesday" => &mut self.tuesday,
            "wednesday" => &mut self.wednesday,
            "thursday" => &mut self.thursday,
            "friday" => &mut self.friday,
            "saturday" => &mut self.saturday,
            _ => &mut self.sunday,
        }
    }

    /// The form showing saved settings.
    pub(super) fn from_draft(draft: &SettingsDraft) -> Self {
        let mut form = SettingsForm {
            time_zone: draft.time_zone.name().to_owned(),
            overrides: draft
                .date_overrides
                .iter()
                .map(|(date, hours)| {
                    if hours.is_empty() {
                        format!("{date} off")
                    } else {
                        format!("{date} {}", hours_text(hours))
                    }
                })
                .collect::<Vec<_>>()
                .join("\n"),
            slot_minutes: draft.slot_duration.num_minutes().to_string(),
            slot_step_minutes: draft
                .slot_step
                .map(|step| step.num_minutes().to_string())
                .unwrap_or_default(),
            buffer_before_minutes: draft.buffer_before.num_minutes().to_string(),
            buffer_after_minutes: draft.buffer_after.num_minutes().to_string(),
            min_notice_minutes: draft.min_notice.num_minutes().to_string(),
            max_advance_days: draft.max_advance.num_days().to_string(),
            ..SettingsForm::default()
        };
        for day in ALL_WEEKDAYS {
            *form.day_mut(weekday_name(day)) = hours_text(draft.weekly_hours.day(day));
        }
        form
    }

    /// A suggestion for an organizer without settings: weekdays 09:00-17:00
    /// in their home zone, 30-minute meetings.
    pub(super) fn starting_point(zone: Tz) -> Self {
        let nine_to_five = LocalInterval::parse("09:00", "17:00")
            .map(|hours| vec![hours])
            .unwrap_or_default();
        SettingsForm::from_draft(&SettingsDraft {
            time_zone: zone,
            weekly_hours: WeeklyHours::weekdays(nine_to_five),
            ..SettingsDraft::default()
        })
    }

    /// Reads the form; every field that cannot be read is named.
    pub(super) fn to_draft(&self) -> Result<SettingsDraft, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let time_zone = zones::parse(&self.time_zone);
        if time_zone.is_none() {
            errors.add("timeZone", "Pick a time zone from the list.");
        }
        let mut weekly_hours = WeeklyHours::default();
        for day in ALL_WEEKDAYS {
            let name = weekday_name(day);
            if let Some(hours) = errors.check(name, parse_hours(self.day(name))) {
                *weekly_hours.day_mut(day) = hours;
            }
        }
        let date_overrides = errors
            .check("overrides", parse_overrides(&self.overrides))
            .unwrap_or_default();
        let slot_duration = number(&self.slot_minutes, "slotMinutes", &mut errors, true)
            .and_then(Duration::try_minutes);
        let slot_step = number(
            &self.slot_step_minutes,
            "slotStepMinutes",
            &mut errors,
            false,
        )
        .and_then(Duration::try_minutes);
        let buffer_before = number(
            &self.buffer_before_minutes,
            "bufferBeforeMinutes",
            &mut errors,
            true,
        )
        .and_then(Duration::try_minutes);
        let buffer_after = number(
            &self.buffer_after_minutes,
            "bufferAfterMinutes",
            &mut errors,
            true,
        )
        .and_then(Duration::try_minutes);
        let min_notice = number(
            &self.min_notice_minutes,
            "minNoticeMinutes",
            &mut errors,
            true,
        )
        .and_then(Duration::try_minutes);
        let max_advance = number(&self.max_advance_days, "maxAdvanceDays", &mut errors, true)
            .and_then(Duration::try_days);
        match (
            time_zone,
            slot_duration,
            buffer_before,
            buffer_after,
            min_notice,
            max_advance,
        ) {
            (
                Some(time_zone),
                Some(slot_duration),
                Some(buffer_before),
                Some(buffer_after),
                Some(min_notice),
                Some(max_advance),
            ) if errors.is_empty() => Ok(SettingsDraft {
                time_zone,
                weekly_hours,
                date_overrides,
                slot_duration,
                slot_step,
                buffer_before,
                buffer_after,
                min_notice,
                max_advance,
            }),
            _ => Err(errors),
        }
    }
}

/// `09:00-12:00, 13:00-17:00`; empty for a day off.
fn hours_text(hours: &[LocalInterval]) -> String {
    hours
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// `9:00` becomes `09:00`, so people need not type the leading zero.
fn wall_clock(text: &str) -> String {
    let text = text.trim();
    match text.split_once(':') {
        Some((hour, minute)) if hour.len() == 1 => format!("0{hour}:{minute}"),
        _ => text.to_owned(),
    }
}

/// Reads `09:00-12:00, 13:00-17:00`; empty, `off` or `closed` is a day off.
fn parse_hours(text: &str) -> Result<Vec<LocalInterval>, String> {
    let text = text.trim();
    if text.is_empty() || matches!(text.to_ascii_lowercase().as_str(), "off" | "closed" | "-") {
        return Ok(Vec::new());
    }
    text.split([',', ';', '\n'])
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| {
            let (start, end) = part
                .split_once(['-', '–'])
                .ok_or_else(|| format!("“{part}” is not a time range such as 09:00-17:00."))?;
            LocalInterval::parse(&wall_clock(start), &wall_clock(end))
                .map_err(|error| format!("“{part}”: {error}."))
        })
        .collect()
}

/// Reads one override per line: `2026-12-24 off` or
/// `2026-12-31 09:00-12:00, 14:00-16:00`.
fn parse_overrides(text: &str) -> Result<BTreeMap<NaiveDate, Vec<LocalInterval>>, String> {
    let mut overrides = BTreeMap::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let line_no = number + 1;
        let (date, hours) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        let date = date.trim_end_matches(':');
        let date = NaiveDate::parse_from_str(date, "%Y-%m-%d")
            .map_err(|_| format!("Line {line_no}: “{date}” is not a date such as 2026-12-24."))?;
        let hours = parse_hours(hours.trim().trim_start_matches(':'))
            .map_err(|error| format!("Line {line_no}: {error}"))?;
        if overrides.insert(date, hours).is_some() {
            return Err(format!("Line {line_no}: {date} is listed twice."));
        }
    }
    Ok(overrides)
}

/// A whole, non-negative number; empty is an error when `required`.
fn number(text: &str, field: &str, errors: &mut ValidationErrors, required: bool) -> Option<i64> {
    let text = text.trim();
    if text.is_empty() {
        if required {
            errors.add(field, "This field is required.");
        }
        return None;
    }
    match text.parse::<i64>() {
        Ok(value) if value < 0 => {
            errors.add(field, "Must be zero or more.");
            None
        }
        Ok(value) if value > LARGEST_NUMBER => {
            errors.add(field, "This number is too large.");
            None
        }
        Ok(value) => Some(value),
        Err(_) => {
            errors.add(field, "Enter a whole number.");
            None
        }
    }
}

fn field_of(setting: DurationSetting) -> &'static str {
    match setting {
        DurationSetting::SlotDuration => "slotMinutes",
        DurationSetting::SlotStep => "slotStepMinutes",
        DurationSetting::BufferBefore => "bufferBeforeMinutes",
        DurationSetting::BufferAfter => "bufferAfterMinutes",
        DurationSetting::MinNotice => "minNoticeMinutes",
        DurationSetting::MaxAdvance => "maxAdvanceDays",
        _ => "form",
    }
}

/// The settings' own refusal, placed next to the field it is about.
pub(super) fn errors_for(error: &SettingsError) -> ValidationErrors {
    let (field, message) = match error {
        SettingsError::UnknownTimeZone(_) => ("timeZone", error.to_string()),
        SettingsError::DurationTooSmall(which) => (
            field_of(*which),
            match which {
                DurationSetting::BufferBefore
                | DurationSetting::BufferAfter
                | DurationSetting::MinNotice => "Must be zero or more.".to_owned(),
                _ => "Must be more than zero.".to_owned(),
            },
        ),
        SettingsError::DurationTooLarge(which) => (
            field_of(*which),
            match which {
                DurationSetting::MaxAdvance => {
                    format!("Must be at most {} days.", which.max().num_days())
                }
                _ => format!("Must be at most {} minutes.", which.max().num_minutes()),
            },
        ),
        SettingsError::NotWholeMinutes(which) => (
            field_of(*which),
            "Must be a whole number of minutes.".to_owned(),
        ),
        SettingsError::TooManyWeekdayIntervals { day, .. } => {
            (weekday_name(*day), format!("{error}."))
        }
        SettingsError::TooManyOverrideIntervals { .. } | SettingsError::TooManyOverrides(_) => {
            ("overrides", format!("{error}."))
        }
        _ => ("form", error.to_string()),
    };
    ValidationErrors::single(field, message)
}

/// The form.
pub(super) fn render(values: &SettingsForm, errors: &ValidationErrors) -> Markup {
    let zone = zones::parse(&values.time_zone).unwrap_or(Tz::UTC);
    html! {
        form.card.settings #settings-form method="post" action="/dashboard/settings" novalidate {
            (field_error(errors, "form"))
            fieldset {
                legend { "Time zone" }
                div.field {
                    label for="timeZone" { "Your hours are in" }
                    select #timeZone name="timeZone"
                        aria-invalid=[errors.message_for("timeZone").map(|_| "true")]
                        aria-describedby=[described_by(errors, "timeZone")] {
                        @for option in zones::options_with(zone) {
                            option value=(option.name()) selected[option.name() == values.time_zone] { (option.name()) }
                        }
                    }
                    (field_error(errors, "timeZone"))
                }
            }
            fieldset {
                legend { "Weekly hours" }
                p.help { "Write each day’s hours like " code { "09:00-12:00, 13:00-17:00" } ". Leave a day empty for a day off." }
                div.week {
                    @for day in ALL_WEEKDAYS {
                        @let name = weekday_name(day);
                        div.field.day-row {
                            label for=(name) { (capitalized(name)) }
                            input id=(name) name=(name) type="text" value=(values.day(name)) placeholder="day off"
                                aria-invalid=[errors.message_for(name).map(|_| "true")]
                                aria-describedby=[described_by(errors, name)];
                            (field_error(errors, name))
                        }
                    }
                }
            }
            fieldset {
                legend { "Date overrides" }
                p.help { "One date per line, replacing that day’s usual hours: " code { "2026-12-24 off" } " or " code { "2026-12-31 09:00-12:00" } "." }
                div.field {
                    label for="overrides" { "Overrides" }
                    textarea #overrides name="overrides" rows="4"
                        aria-invalid=[errors.message_for("overrides").map(|_| "true")]
                        aria-describedby=[described_by(errors, "overrides")] { (values.overrides) }
                    (field_error(errors, "overrides"))
                }
            }
            fieldset {
                legend { "Meetings" }
                div.grid-fields {
                    (number_field("slotMinutes", "Meeting length (minutes)", &values.slot_minutes, errors, None))
                    (number_field("slotStepMinutes", "A slot starts every (minutes)", &values.slot_step_minutes, errors, Some("Empty: the meeting length.")))
                    (number_field("bufferBeforeMinutes", "Free time before (minutes)", &values.buffer_before_minutes, errors, None))
                    (number_field("bufferAfterMinutes", "Free time after (minutes)", &values.buffer_after_minutes, errors, None))
                }
            }
            fieldset {
                legend { "Limits" }
                div.grid-fields {
                    (number_field("minNoticeMinutes", "Minimum notice (minutes)", &values.min_notice_minutes, errors, None))
                    (number_field("maxAdvanceDays", "Bookable up to (days ahead)", &values.max_advance_days, errors, None))
                }
            }
            button.primary #save-settings type="submit" { "Save settings" }
        }
    }
}

fn number_field(
    name: &str,
    label: &str,
    value: &str,
    errors: &ValidationErrors,
    help: Option<&str>,
) -> Markup {
    html! {
        div.field {
            label for=(name) { (label) }
            input id=(name) name=(name) type="number" min="0" step="1" inputmode="numeric" value=(value)
                aria-invalid=[errors.message_for(name).map(|_| "true")]
                aria-describedby=[described_by(errors, name)];
            @if let Some(help) = help { span.help { (help) } }
            (field_error(errors, name))
        }
    }
}

fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_are_read_leniently_and_refused_in_plain_words() {
        assert_eq!(parse_hours(" off ").unwrap(), vec![]);
        assert_eq!(parse_hours("").unwrap(), vec![]);
        let hours = parse_hours("9:00-12:00, 13:00 – 17:30").unwrap();
        assert_eq!(hours_text(&hours), "09:00-12:00, 13:00-17:30");
        let error = parse_hours("17:00-09:00").unwrap_err();
        assert!(error.contains("must be after"), "{error}");
        assert!(
            parse_hours("morning")
                .unwrap_err()
                .contains("not a time range")
        );
    }

    #[test]
    fn overrides_are_one_per_line() {
        let overrides =
            parse_overrides("2026-12-24 off\n\n2026-12-31: 09:00-12:00\n2027-01-02").unwrap();
        assert_eq!(overrides.len(), 3);
        assert!(overrides[&NaiveDate::from_ymd_opt(2026, 12, 24).unwrap()].is_empty());
        assert_eq!(
            hours_text(&overrides[&NaiveDate::from_ymd_opt(2026, 12, 31).unwrap()]),
            "09:00-12:00"
        );
        assert!(
            parse_overrides("2026-12-24 off\n2026-12-24 off")
                .unwrap_err()
                .contains("Line 2")
        );
        assert!(
            parse_overrides("24/12/2026 off")
                .unwrap_err()
                .contains("Line 1")
        );
    }

    #[test]
    fn a_draft_round_trips_through_the_form() {
        let mut form = SettingsForm::starting_point(chrono_tz::Europe::Paris);
        form.overrides = "2026-12-24 off".into();
        form.slot_step_minutes = "15".into();
        let draft = form.to_draft().unwrap();
        assert_eq!(draft.time_zone, chrono_tz::Europe::Paris);
        assert_eq!(draft.slot_step, Some(Duration::minutes(15)));
        let again = SettingsForm::from_draft(&draft);
        assert_eq!(again.to_draft().unwrap(), draft);
    }

    #[test]
    fn every_unreadable_field_is_named() {
        let form = SettingsForm {
            time_zone: "Mars/Olympus".into(),
            monday: "nine to five".into(),
            slot_minutes: "".into(),
            buffer_before_minutes: "-5".into(),
            max_advance_days: "lots".into(),
            ..SettingsForm::default()
        };
        let errors = form.to_draft().unwrap_err();
        for field in [
            "timeZone",
            "monday",
            "slotMinutes",
            "bufferBeforeMinutes",
            "bufferAfterMinutes",
            "maxAdvanceDays",
        ] {
            assert!(errors.message_for(field).is_some(), "{field}: {errors}");
        }
        assert!(errors.message_for("slotStepMinutes").is_none());
    }
}
