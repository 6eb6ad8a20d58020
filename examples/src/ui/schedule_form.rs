//! A schedule as a form: its name, its time zone from a list, its hours in
//! the [`HoursEditor`] (the one the settings page uses), and whether it is
//! the default; read back into a [`ScheduleDraft`].

use booking_core::{Schedule, ScheduleDraft, WeeklyHours};
use chrono_tz::Tz;
use maud::{Markup, html};

use super::form::FormFields;
use super::hours_editor::{Edit, HoursEditor};
use super::layout::{csrf_field, described_by, field_error};
use super::zones;
use crate::http::fields::FieldErrors;

/// The form's fields, as typed.
#[derive(Debug, Clone)]
pub(super) struct ScheduleForm {
    name: String,
    time_zone: String,
    hours: HoursEditor,
    is_default: bool,
}

impl ScheduleForm {
    /// A new schedule's suggestions: weekdays 09:00-17:00 in `zone`.
    pub(super) fn starting_point(zone: Tz) -> Self {
        let nine_to_five = booking_core::LocalInterval::parse("09:00", "17:00")
            .map(|hours| vec![hours])
            .unwrap_or_default();
        ScheduleForm {
            name: String::new(),
            time_zone: zone.name().to_owned(),
            hours: HoursEditor::new(&WeeklyHours::weekdays(nine_to_five), &Default::default()),
            is_default: false,
        }
    }

    /// The form showing `schedule`.
    pub(super) fn from_schedule(schedule: &Schedule) -> Self {
        ScheduleForm {
            name: schedule.name.clone(),
            time_zone: schedule.time_zone.name().to_owned(),
            hours: HoursEditor::new(&schedule.weekly_hours, &schedule.date_overrides),
            is_default: schedule.is_default,
        }
    }

    /// The form as sent.
    pub(super) fn from_form(fields: &FormFields) -> Self {
        ScheduleForm {
            name: fields.first("name").to_owned(),
            time_zone: fields.first("timeZone").to_owned(),
            hours: HoursEditor::from_form(fields),
            is_default: fields.first("isDefault") == "on",
        }
    }

    /// Applies an Add or Remove button of the hours editor.
    pub(super) fn apply(&mut self, edit: Edit) {
        self.hours.apply(edit);
    }

    /// Reads the form; every field that cannot be read is named.
    pub(super) fn to_draft(&self) -> Result<ScheduleDraft, FieldErrors> {
        let mut errors = FieldErrors::new();
        let time_zone = zones::read(&self.time_zone, &mut errors);
        let hours = self.hours.read().map_err(|found| errors.extend(found)).ok();
        match (time_zone, hours) {
            (Some(time_zone), Some((weekly_hours, date_overrides))) if errors.is_empty() => {
                Ok(ScheduleDraft {
                    name: self.name.clone(),
                    time_zone: Some(time_zone),
                    weekly_hours,
                    date_overrides,
                    is_default: self.is_default,
                })
            }
            _ => Err(errors),
        }
    }

    /// booking-core's refusals (named as in the API) next to the form's
    /// fields: a weekday's hours next to its day, overrides next to the
    /// date list.
    pub(super) fn errors_for(refused: FieldErrors) -> FieldErrors {
        let mut errors = FieldErrors::new();
        for error in refused.errors() {
            let field = match error.field.as_str() {
                "name" => "name".to_owned(),
                "dateOverrides" => "overrides".to_owned(),
                other => match other.strip_prefix("weeklyHours.") {
                    Some(day) => day.to_owned(),
                    None => "form".to_owned(),
                },
            };
            errors.add(field, error.message.clone());
        }
        errors
    }
}

/// The form; `action` is where it posts, `form_token` the session's CSRF
/// token.
pub(super) fn render(
    values: &ScheduleForm,
    errors: &FieldErrors,
    action: &str,
    form_token: &str,
    submit: &str,
) -> Markup {
    html! {
        form.card.settings #schedule-form method="post" action=(action) novalidate {
            (csrf_field(form_token))
            // Enter in a field presses the first submit button: Save, not an
            // editor's Add or Remove.
            button.visually-hidden type="submit" name="action" value="save" tabindex="-1" aria-hidden="true" { (submit) }
            (field_error(errors, "form"))
            fieldset {
                legend { "Schedule" }
                div.field {
                    label for="name" { "Name" }
                    input #name name="name" type="text" value=(values.name) required
                        aria-invalid=[errors.message_for("name").map(|_| "true")]
                        aria-describedby=[described_by(errors, "name")];
                    span.help { "Such as “Working hours” or “Evenings”." }
                    (field_error(errors, "name"))
                }
                (zones::field("The hours are in", &values.time_zone, errors))
                div.field.checkbox {
                    label for="isDefault" {
                        input #isDefault type="checkbox" name="isDefault" value="on" checked[values.is_default];
                        " The default schedule (event types without their own use it)"
                    }
                }
            }
            (values.hours.render(errors, action))
            button.primary #save-schedule type="submit" name="action" value="save" { (submit) }
        }
    }
}
