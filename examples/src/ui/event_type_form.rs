//! An event type as a form: every field of the API's event type with inputs
//! a person can fill in (numbers of minutes and days, date pickers, a choice
//! of window, location and schedule), read back into an [`EventTypeDraft`].
//! Mistakes the form can see (a word where a number goes) are named here;
//! everything else is booking-core's to refuse, and its refusals come back
//! next to the same fields, which carry the API's JSON names
//! (`durationMinutes`, `limits.perDay`, ...).

use booking_core::event_type::DEFAULT_HOLD_DURATION;
use booking_core::schedule::{ALL_WEEKDAYS, weekday_name};
use booking_core::{
    BookingLimits, BookingWindow, EventType, EventTypeDraft, Location, Schedule, ScheduleId,
};
use chrono::{Duration, Weekday};
use maud::{Markup, html};

use super::calendar::parse_date;
use super::form::{FormFields, number};
use super::layout::{csrf_field, described_by, field_error, input_field};
use crate::http::dto::{minutes, weekday_of};
use crate::http::fields::FieldErrors;

/// The form's fields, as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct EventTypeForm {
    title: String,
    slug: String,
    description: String,
    duration: String,
    /// Other lengths offered, `30, 60`.
    other_lengths: String,
    slot_step: String,
    buffer_before: String,
    buffer_after: String,
    min_notice: String,
    /// `rollingDays`, `rollingBusinessDays` or `range`.
    window_kind: String,
    window_days: String,
    window_start: String,
    window_end: String,
    per_day: String,
    per_week: String,
    week_starts_on: String,
    /// Empty, `inPerson`, `phone` or `video`.
    location_kind: String,
    location_detail: String,
    /// A schedule id, or empty for the default schedule.
    schedule: String,
    hold_minutes: String,
    active: bool,
}

/// Minutes as the form shows them.
fn shown(duration: Duration) -> String {
    duration.num_minutes().to_string()
}

impl EventTypeForm {
    /// A new event type's suggestions: 30 minutes, 60 days ahead, active.
    pub(super) fn starting_point() -> Self {
        EventTypeForm::of(&EventTypeDraft::new("", "", Duration::minutes(30)))
    }

    /// The form showing `event_type`.
    pub(super) fn from_event_type(event_type: &EventType) -> Self {
        EventTypeForm::of(&event_type.to_draft())
    }

    fn of(draft: &EventTypeDraft) -> Self {
        let (window_kind, window_days, window_start, window_end) = match draft.booking_window {
            BookingWindow::RollingBusinessDays { days } => (
                "rollingBusinessDays",
                days.to_string(),
                String::new(),
                String::new(),
            ),
            BookingWindow::Range { first, last } => (
                "range",
                String::new(),
                first.format("%Y-%m-%d").to_string(),
                last.format("%Y-%m-%d").to_string(),
            ),
            BookingWindow::Rolling { horizon } => (
                "rollingDays",
                horizon.num_days().to_string(),
                String::new(),
                String::new(),
            ),
            _ => ("rollingDays", String::new(), String::new(), String::new()),
        };
        let (location_kind, location_detail) = match &draft.location {
            None => ("", String::new()),
            Some(Location::InPerson { address }) => ("inPerson", address.clone()),
            Some(Location::Phone { number }) => ("phone", number.clone()),
            Some(Location::Video { url }) => ("video", url.clone()),
            Some(other) => ("", other.detail().to_owned()),
        };
        let optional = |value: Option<u32>| value.map(|v| v.to_string()).unwrap_or_default();
        EventTypeForm {
            title: draft.title.clone(),
            slug: draft.slug.clone(),
            description: draft.description.clone().unwrap_or_default(),
            duration: shown(draft.duration),
            other_lengths: draft
                .duration_options
                .iter()
                .filter(|length| **length != draft.duration)
                .map(|length| shown(*length))
                .collect::<Vec<_>>()
                .join(", "),
            slot_step: draft.slot_step.map(shown).unwrap_or_default(),
            buffer_before: shown(draft.buffer_before),
            buffer_after: shown(draft.buffer_after),
            min_notice: shown(draft.min_notice),
            window_kind: window_kind.to_owned(),
            window_days,
            window_start,
            window_end,
            per_day: optional(draft.limits.per_day),
            per_week: optional(draft.limits.per_week),
            week_starts_on: weekday_name(draft.limits.week_starts_on).to_owned(),
            location_kind: location_kind.to_owned(),
            location_detail,
            schedule: draft
                .schedule_id
                .map(|id| id.to_string())
                .unwrap_or_default(),
            hold_minutes: shown(draft.hold_duration),
            active: draft.active,
        }
    }

    /// The form as sent.
    pub(super) fn from_form(fields: &FormFields) -> Self {
        let text = |name: &str| fields.first(name).to_owned();
        EventTypeForm {
            title: text("title"),
            slug: text("slug").trim().to_owned(),
            description: text("description"),
            duration: text("durationMinutes"),
            other_lengths: text("durationOptions"),
            slot_step: text("slotStepMinutes"),
            buffer_before: text("bufferBeforeMinutes"),
            buffer_after: text("bufferAfterMinutes"),
            min_notice: text("minNoticeMinutes"),
            window_kind: text("windowKind"),
            window_days: text("windowDays"),
            window_start: text("windowStart"),
            window_end: text("windowEnd"),
            per_day: text("limits.perDay"),
            per_week: text("limits.perWeek"),
            week_starts_on: text("weekStartsOn"),
            location_kind: text("locationKind"),
            location_detail: text("location"),
            schedule: text("scheduleId"),
            hold_minutes: text("holdMinutes"),
            active: fields.first("active") == "on",
        }
    }

    /// Reads the form into a draft; every field that cannot be read is
    /// named. The rules are booking-core's ([`EventTypeDraft::validate`]).
    pub(super) fn to_draft(&self) -> Result<EventTypeDraft, FieldErrors> {
        let mut errors = FieldErrors::new();
        let length = |text: &str, field: &str, errors: &mut FieldErrors, required: bool| {
            number(text, field, errors, required).map(minutes)
        };
        let duration = length(&self.duration, "durationMinutes", &mut errors, true);
        let mut others = Vec::new();
        for part in self
            .other_lengths
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|part| !part.is_empty())
        {
            match part.parse::<i64>() {
                Ok(value) if value > 0 => others.push(minutes(value)),
                _ => {
                    errors.add(
                        "durationOptions",
                        "Enter lengths in minutes separated by commas, such as 15, 60.",
                    );
                    break;
                }
            }
        }
        let slot_step = length(&self.slot_step, "slotStepMinutes", &mut errors, false);
        let buffer_before = length(
            &self.buffer_before,
            "bufferBeforeMinutes",
            &mut errors,
            true,
        );
        let buffer_after = length(&self.buffer_after, "bufferAfterMinutes", &mut errors, true);
        let min_notice = length(&self.min_notice, "minNoticeMinutes", &mut errors, true);
        let hold = length(&self.hold_minutes, "holdMinutes", &mut errors, false);
        let booking_window = self.window(&mut errors);
        let limit = |text: &str, field: &str, errors: &mut FieldErrors| {
            number(text, field, errors, false).map(crate::http::dto::count)
        };
        let week_starts_on = match self.week_starts_on.as_str() {
            "" => Some(Weekday::Mon),
            name => weekday_of(name).or_else(|| {
                errors.add("limits.weekStartsOn", "Pick a weekday from the list.");
                None
            }),
        };
        let limits = BookingLimits {
            per_day: limit(&self.per_day, "limits.perDay", &mut errors),
            per_week: limit(&self.per_week, "limits.perWeek", &mut errors),
            week_starts_on: week_starts_on.unwrap_or(Weekday::Mon),
        };
        let detail = self.location_detail.trim().to_owned();
        let location = match self.location_kind.as_str() {
            "" => None,
            "inPerson" => Some(Location::InPerson { address: detail }),
            "phone" => Some(Location::Phone { number: detail }),
            "video" => Some(Location::Video { url: detail }),
            _ => {
                errors.add("location", "Pick a kind of place from the list.");
                None
            }
        };
        let schedule_id = match self.schedule.as_str() {
            "" => None,
            text => text.parse::<ScheduleId>().ok().or_else(|| {
                errors.add("scheduleId", "Pick a schedule from the list.");
                None
            }),
        };
        let description = Some(self.description.clone()).filter(|d| !d.trim().is_empty());
        match (
            duration,
            buffer_before,
            buffer_after,
            min_notice,
            booking_window,
        ) {
            (
                Some(duration),
                Some(buffer_before),
                Some(buffer_after),
                Some(min_notice),
                Some(booking_window),
            ) if errors.is_empty() => {
                let duration_options = if others.is_empty() {
                    Vec::new()
                } else {
                    let mut all = others;
                    all.push(duration);
                    all.sort();
                    all.dedup();
                    all
                };
                Ok(EventTypeDraft {
                    description,
                    duration_options,
                    slot_step,
                    buffer_before,
                    buffer_after,
                    min_notice,
                    booking_window,
                    limits,
                    schedule_id,
                    location,
                    active: self.active,
                    hold_duration: hold.unwrap_or(DEFAULT_HOLD_DURATION),
                    ..EventTypeDraft::new(self.slug.clone(), self.title.clone(), duration)
                })
            }
            _ => Err(errors),
        }
    }

    fn window(&self, errors: &mut FieldErrors) -> Option<BookingWindow> {
        match self.window_kind.as_str() {
            "rollingDays" | "" => {
                number(&self.window_days, "bookingWindow", errors, true).map(|days| {
                    BookingWindow::Rolling {
                        horizon: crate::http::dto::days(days),
                    }
                })
            }
            "rollingBusinessDays" => {
                number(&self.window_days, "bookingWindow", errors, true).map(|days| {
                    BookingWindow::RollingBusinessDays {
                        days: crate::http::dto::count(days),
                    }
                })
            }
            "range" => {
                let date = |text: &str, errors: &mut FieldErrors| match text.trim() {
                    "" => {
                        errors.add("bookingWindow", "Pick the first and the last date.");
                        None
                    }
                    text => errors.check("bookingWindow", parse_date(text)),
                };
                let first = date(&self.window_start, errors);
                let last = date(&self.window_end, errors);
                Some(BookingWindow::Range {
                    first: first?,
                    last: last?,
                })
            }
            _ => {
                errors.add("bookingWindow", "Pick how far ahead people can book.");
                None
            }
        }
    }
}

/// What the form needs besides its values.
pub(super) struct FormContext<'a> {
    /// Where it posts.
    pub(super) action: &'a str,
    /// The session's CSRF token.
    pub(super) form_token: &'a str,
    /// The organizer's schedules, to pick one.
    pub(super) schedules: &'a [Schedule],
    /// The Save button's words.
    pub(super) submit: &'a str,
}

/// The form.
pub(super) fn render(
    values: &EventTypeForm,
    errors: &FieldErrors,
    context: &FormContext<'_>,
) -> Markup {
    html! {
        form.card.event-type-form #event-type-form method="post" action=(context.action) novalidate {
            (csrf_field(context.form_token))
            (field_error(errors, "form"))
            fieldset {
                legend { "What people book" }
                (input_field("title", "Title", "text", &values.title, errors, None))
                (input_field("slug", "Link name", "text", &values.slug, errors,
                    Some("Its address: lowercase letters, digits and “-”, such as intro-call.")))
                div.field {
                    label for="description" { "Description " span.muted { "(optional)" } }
                    textarea #description name="description" rows="3"
                        aria-invalid=[errors.message_for("description").map(|_| "true")]
                        aria-describedby=[described_by(errors, "description")] { (values.description) }
                    (field_error(errors, "description"))
                }
                div.field.checkbox {
                    label for="active" {
                        input #active type="checkbox" name="active" value="on" checked[values.active];
                        " Bookable (shown on your booking page)"
                    }
                }
            }
            fieldset {
                legend { "Length" }
                div.grid-fields {
                    (input_field("durationMinutes", "Meeting length (minutes)", "number", &values.duration, errors, None))
                    (input_field("durationOptions", "Other lengths to choose from (minutes)", "text", &values.other_lengths, errors,
                        Some("Optional, such as 15, 60. The visitor picks one.")))
                    (input_field("slotStepMinutes", "A slot starts every (minutes)", "number", &values.slot_step, errors, Some("Empty: the meeting length.")))
                    (input_field("bufferBeforeMinutes", "Free time before (minutes)", "number", &values.buffer_before, errors, None))
                    (input_field("bufferAfterMinutes", "Free time after (minutes)", "number", &values.buffer_after, errors, None))
                }
            }
            fieldset #booking-window {
                legend { "When people can book" }
                div.grid-fields {
                    (input_field("minNoticeMinutes", "Minimum notice (minutes)", "number", &values.min_notice, errors, None))
                }
                div.field role="radiogroup" aria-label="How far ahead"
                    aria-describedby=[described_by(errors, "bookingWindow")] {
                    label { input type="radio" name="windowKind" value="rollingDays" checked[values.window_kind == "rollingDays" || values.window_kind.is_empty()]; " The next N days" }
                    label { input type="radio" name="windowKind" value="rollingBusinessDays" checked[values.window_kind == "rollingBusinessDays"]; " The next N working days" }
                    label { input type="radio" name="windowKind" value="range" checked[values.window_kind == "range"]; " Between two dates" }
                }
                div.grid-fields {
                    div.field {
                        label for="windowDays" { "N (days)" }
                        input #windowDays name="windowDays" type="number" min="1" step="1" inputmode="numeric" value=(values.window_days);
                    }
                    div.field {
                        label for="windowStart" { "From" }
                        input #windowStart name="windowStart" type="date" value=(values.window_start);
                    }
                    div.field {
                        label for="windowEnd" { "Until" }
                        input #windowEnd name="windowEnd" type="date" value=(values.window_end);
                    }
                }
                (field_error(errors, "bookingWindow"))
            }
            fieldset {
                legend { "Limits" }
                div.grid-fields {
                    (input_field("limits.perDay", "At most per day", "number", &values.per_day, errors, Some("Empty: no limit.")))
                    (input_field("limits.perWeek", "At most per week", "number", &values.per_week, errors, Some("Empty: no limit.")))
                    div.field {
                        label for="weekStartsOn" { "Weeks start on" }
                        select #weekStartsOn name="weekStartsOn" {
                            @for day in ALL_WEEKDAYS {
                                @let name = weekday_name(day);
                                option value=(name) selected[values.week_starts_on == name] { (capitalized(name)) }
                            }
                        }
                        (field_error(errors, "limits.weekStartsOn"))
                    }
                    (input_field("holdMinutes", "Keep a picked time for (minutes)", "number", &values.hold_minutes, errors,
                        Some("While the visitor fills in the form; 0 to 15, 0: not kept.")))
                }
            }
            fieldset {
                legend { "Where" }
                div.grid-fields {
                    div.field {
                        label for="locationKind" { "Place" }
                        select #locationKind name="locationKind" {
                            option value="" selected[values.location_kind.is_empty()] { "Not said" }
                            option value="inPerson" selected[values.location_kind == "inPerson"] { "In person" }
                            option value="phone" selected[values.location_kind == "phone"] { "Phone call" }
                            option value="video" selected[values.location_kind == "video"] { "Video call" }
                        }
                    }
                    (input_field("location", "Address, phone number or video link", "text", &values.location_detail, errors, None))
                }
            }
            fieldset {
                legend { "Hours" }
                div.field {
                    label for="scheduleId" { "Offer the hours of" }
                    select #scheduleId name="scheduleId"
                        aria-invalid=[errors.message_for("scheduleId").map(|_| "true")]
                        aria-describedby=[described_by(errors, "scheduleId")] {
                        option value="" selected[values.schedule.is_empty()] { "The default schedule" }
                        @for schedule in context.schedules {
                            @let id = schedule.id.to_string();
                            option value=(id) selected[values.schedule == id] {
                                (schedule.name) " (" (schedule.time_zone.name()) ")"
                            }
                        }
                    }
                    (field_error(errors, "scheduleId"))
                }
            }
            button.primary #save-event-type type="submit" { (context.submit) }
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
    use booking_core::{EventTypeId, OrganizerId};

    #[test]
    fn an_event_type_round_trips_through_the_form() {
        let draft = EventTypeDraft {
            description: Some("Talk".into()),
            duration_options: vec![Duration::minutes(30), Duration::minutes(60)],
            slot_step: Some(Duration::minutes(15)),
            buffer_after: Duration::minutes(10),
            booking_window: BookingWindow::RollingBusinessDays { days: 10 },
            limits: BookingLimits {
                per_day: Some(3),
                per_week: None,
                week_starts_on: Weekday::Sun,
            },
            location: Some(Location::Video {
                url: "https://meet.example.com/x".into(),
            }),
            active: false,
            hold_duration: Duration::zero(),
            ..EventTypeDraft::new("intro", "Intro", Duration::minutes(30))
        };
        let stored = draft
            .clone()
            .build(EventTypeId::generate(), OrganizerId::generate())
            .unwrap();
        let form = EventTypeForm::from_event_type(&stored);
        assert_eq!(form.other_lengths, "60");
        assert_eq!(form.to_draft().unwrap(), draft);
    }

    #[test]
    fn unreadable_inputs_are_named() {
        let form = EventTypeForm::from_form(&FormFields::from_pairs([
            ("durationMinutes", "half an hour"),
            ("durationOptions", "15, x"),
            ("bufferBeforeMinutes", "-5"),
            ("bufferAfterMinutes", "0"),
            ("minNoticeMinutes", "0"),
            ("windowKind", "range"),
            ("windowStart", "2027-02-30"),
            ("limits.perDay", "many"),
            ("locationKind", "moon"),
            ("scheduleId", "nope"),
        ]));
        let errors = form.to_draft().unwrap_err();
        for field in [
            "durationMinutes",
            "durationOptions",
            "bufferBeforeMinutes",
            "bookingWindow",
            "limits.perDay",
            "location",
            "scheduleId",
        ] {
            assert!(errors.message_for(field).is_some(), "{field}: {errors}");
        }
    }
}
