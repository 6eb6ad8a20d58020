//! The organizer's settings as a form: the time zone from a list, the
//! hours in the [`HoursEditor`], whole minutes and days for the rest; read
//! back into a [`SettingsDraft`] with every mistake named by field.

use booking_core::schedule::weekday_name;
use booking_core::settings::{DurationSetting, SettingsError};
use booking_core::time::LocalInterval;
use booking_core::{SettingsDraft, WeeklyHours};
use chrono::Duration;

use crate::http::fields::FieldErrors;
use chrono_tz::Tz;
use maud::{Markup, html};

use super::form::{FormFields, number};
use super::hours_editor::{Edit, HoursEditor};
use super::layout::{csrf_field, field_error, input_field};
use super::zones;

/// Where the settings form posts.
pub(super) const URL: &str = "/dashboard/settings";

/// The settings form's fields, as typed.
#[derive(Debug, Clone)]
pub(super) struct SettingsForm {
    time_zone: String,
    hours: HoursEditor,
    slot_minutes: String,
    slot_step_minutes: String,
    buffer_before_minutes: String,
    buffer_after_minutes: String,
    min_notice_minutes: String,
    max_advance_days: String,
}

impl SettingsForm {
    /// The form showing saved settings.
    pub(super) fn from_draft(draft: &SettingsDraft) -> Self {
        SettingsForm {
            time_zone: draft
                .time_zone
                .map(|zone| zone.name().to_owned())
                .unwrap_or_default(),
            hours: HoursEditor::new(&draft.weekly_hours, &draft.date_overrides),
            slot_minutes: draft.slot_duration.num_minutes().to_string(),
            slot_step_minutes: draft
                .slot_step
                .map(|step| step.num_minutes().to_string())
                .unwrap_or_default(),
            buffer_before_minutes: draft.buffer_before.num_minutes().to_string(),
            buffer_after_minutes: draft.buffer_after.num_minutes().to_string(),
            min_notice_minutes: draft.min_notice.num_minutes().to_string(),
            max_advance_days: draft.max_advance.num_days().to_string(),
        }
    }

    /// A suggestion for an organizer without settings: weekdays 09:00-17:00
    /// in their home zone, 30-minute meetings.
    pub(super) fn starting_point(zone: Tz) -> Self {
        let nine_to_five = LocalInterval::parse("09:00", "17:00")
            .map(|hours| vec![hours])
            .unwrap_or_default();
        SettingsForm::from_draft(&SettingsDraft {
            time_zone: Some(zone),
            weekly_hours: WeeklyHours::weekdays(nine_to_five),
            ..SettingsDraft::default()
        })
    }

    /// The form as sent.
    pub(super) fn from_form(fields: &FormFields) -> Self {
        let text = |name: &str| fields.first(name).to_owned();
        SettingsForm {
            time_zone: text("timeZone"),
            hours: HoursEditor::from_form(fields),
            slot_minutes: text("slotMinutes"),
            slot_step_minutes: text("slotStepMinutes"),
            buffer_before_minutes: text("bufferBeforeMinutes"),
            buffer_after_minutes: text("bufferAfterMinutes"),
            min_notice_minutes: text("minNoticeMinutes"),
            max_advance_days: text("maxAdvanceDays"),
        }
    }

    /// Applies an Add or Remove button of the hours editor.
    pub(super) fn apply(&mut self, edit: Edit) {
        self.hours.apply(edit);
    }

    /// Reads the form; every field that cannot be read is named.
    pub(super) fn to_draft(&self) -> Result<SettingsDraft, FieldErrors> {
        let mut errors = FieldErrors::new();
        let time_zone = zones::read(&self.time_zone, &mut errors);
        let hours = match self.hours.read() {
            Ok(hours) => Some(hours),
            Err(found) => {
                for error in found.errors() {
                    errors.add(error.field.clone(), error.message.clone());
                }
                None
            }
        };
        let minutes = |text: &str, field: &str, errors: &mut FieldErrors, required: bool| {
            number(text, field, errors, required).and_then(Duration::try_minutes)
        };
        let slot_duration = minutes(&self.slot_minutes, "slotMinutes", &mut errors, true);
        let slot_step = minutes(
            &self.slot_step_minutes,
            "slotStepMinutes",
            &mut errors,
            false,
        );
        let buffer_before = minutes(
            &self.buffer_before_minutes,
            "bufferBeforeMinutes",
            &mut errors,
            true,
        );
        let buffer_after = minutes(
            &self.buffer_after_minutes,
            "bufferAfterMinutes",
            &mut errors,
            true,
        );
        let min_notice = minutes(
            &self.min_notice_minutes,
            "minNoticeMinutes",
            &mut errors,
            true,
        );
        let max_advance = number(&self.max_advance_days, "maxAdvanceDays", &mut errors, true)
            .and_then(Duration::try_days);
        match (
            time_zone,
            hours,
            slot_duration,
            buffer_before,
            buffer_after,
            min_notice,
            max_advance,
        ) {
            (
                Some(time_zone),
                Some((weekly_hours, date_overrides)),
                Some(slot_duration),
                Some(buffer_before),
                Some(buffer_after),
                Some(min_notice),
                Some(max_advance),
            ) if errors.is_empty() => Ok(SettingsDraft {
                time_zone: Some(time_zone),
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

    /// The settings' own refusal, placed next to the field it is about.
    pub(super) fn errors_for(&self, error: &SettingsError) -> FieldErrors {
        let (field, message) = match error {
            SettingsError::UnknownTimeZone(_) => ("timeZone".to_owned(), error.to_string()),
            SettingsError::DurationTooSmall(which) => (
                field_of(*which).to_owned(),
                match which.min() {
                    min if min == Duration::zero() => "Must be zero or more.".to_owned(),
                    min if *which == DurationSetting::MaxAdvance => {
                        format!("Must be at least {} day.", min.num_days().max(1))
                    }
                    min => format!("Must be at least {} minutes.", min.num_minutes()),
                },
            ),
            SettingsError::DurationTooLarge(which) => (
                field_of(*which).to_owned(),
                match which {
                    DurationSetting::MaxAdvance => {
                        format!("Must be at most {} days.", which.max().num_days())
                    }
                    _ => format!("Must be at most {} minutes.", which.max().num_minutes()),
                },
            ),
            SettingsError::NotWholeMinutes(which) => (
                field_of(*which).to_owned(),
                "Must be a whole number of minutes.".to_owned(),
            ),
            SettingsError::TooManyWeekdayIntervals { day, .. } => {
                (weekday_name(*day).to_owned(), format!("{error}."))
            }
            SettingsError::TooManyOverrideIntervals { date, .. } => (
                self.hours
                    .override_field(*date)
                    .unwrap_or_else(|| "overrides".to_owned()),
                format!("{error}."),
            ),
            SettingsError::TooManyOverrides(_) => ("overrides".to_owned(), format!("{error}.")),
            _ => ("form".to_owned(), error.to_string()),
        };
        FieldErrors::single(field, message)
    }
}

/// Refusals of the default event type the settings become, next to the
/// settings' fields (an event type's `durationMinutes` is `slotMinutes`
/// here; fields settings do not have go to the top of the form).
pub(super) fn event_type_errors(refused: FieldErrors) -> FieldErrors {
    let mut errors = FieldErrors::new();
    for error in refused.errors() {
        let field = match error.field.as_str() {
            "durationMinutes" => "slotMinutes",
            "bookingWindow" => "maxAdvanceDays",
            same @ ("slotStepMinutes"
            | "bufferBeforeMinutes"
            | "bufferAfterMinutes"
            | "minNoticeMinutes") => same,
            _ => "form",
        };
        errors.add(field, error.message.clone());
    }
    errors
}

/// The form's field of a duration setting: named as in the API.
fn field_of(setting: DurationSetting) -> &'static str {
    crate::http::fields::setting_name(setting).0
}

/// The form; `form_token` is the session's CSRF token.
pub(super) fn render(values: &SettingsForm, errors: &FieldErrors, form_token: &str) -> Markup {
    html! {
        form.card.settings #settings-form method="post" action=(URL) novalidate {
            (csrf_field(form_token))
            // Enter in a field presses the first submit button: Save, not an
            // editor's Add or Remove.
            button.visually-hidden type="submit" name="action" value="save" tabindex="-1" aria-hidden="true" { "Save settings" }
            (field_error(errors, "form"))
            fieldset {
                legend { "Time zone" }
                (zones::field("Your hours are in", &values.time_zone, errors))
            }
            (values.hours.render(errors, URL))
            fieldset {
                legend { "Meetings" }
                div.grid-fields {
                    (input_field("slotMinutes", "Meeting length (minutes)", "number", &values.slot_minutes, errors, None))
                    (input_field("slotStepMinutes", "A slot starts every (minutes)", "number", &values.slot_step_minutes, errors, Some("Empty: the meeting length.")))
                    (input_field("bufferBeforeMinutes", "Free time before (minutes)", "number", &values.buffer_before_minutes, errors, None))
                    (input_field("bufferAfterMinutes", "Free time after (minutes)", "number", &values.buffer_after_minutes, errors, None))
                }
            }
            fieldset {
                legend { "Limits" }
                div.grid-fields {
                    (input_field("minNoticeMinutes", "Minimum notice (minutes)", "number", &values.min_notice_minutes, errors, None))
                    (input_field("maxAdvanceDays", "Bookable up to (days ahead)", "number", &values.max_advance_days, errors, None))
                }
            }
            button.primary #save-settings type="submit" name="action" value="save" { "Save settings" }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_draft_round_trips_through_the_starting_point() {
        let form = SettingsForm::starting_point(chrono_tz::Europe::Paris);
        let draft = form.to_draft().unwrap();
        assert_eq!(draft.time_zone, Some(chrono_tz::Europe::Paris));
        assert_eq!(draft.weekly_hours.monday.len(), 1);
        assert!(draft.weekly_hours.sunday.is_empty());
        assert_eq!(SettingsForm::from_draft(&draft).to_draft().unwrap(), draft);
    }

    #[test]
    fn every_unreadable_field_is_named() {
        let form = SettingsForm::from_form(&FormFields::from_pairs([
            ("timeZone", "Mars/Olympus"),
            ("monday-open", "on"),
            ("monday-start", "nine"),
            ("monday-end", "five"),
            ("slotMinutes", ""),
            ("bufferBeforeMinutes", "-5"),
            ("maxAdvanceDays", "lots"),
        ]));
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
