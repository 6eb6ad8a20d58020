//! The one place where booking-core's [`Field`]s get the names clients know:
//! the JSON names of request bodies (`attendantEmail`, `startTime`,
//! `limits.perDay`) and the parameters of query strings (`start`,
//! `duration`).
//!
//! booking-core names a refused input with a [`Field`]; this service has
//! kept the design document's JSON names (the attendee is an "attendant"
//! here), so every validation error passes through [`json_name`] on its way
//! out, and nowhere else is a field renamed.

use booking_core::Field;
use booking_core::schedule::weekday_name;
use booking_core::settings::DurationSetting;
use booking_core::validation::ValidationErrors;

/// Validation errors keyed by the names clients use (JSON field paths or
/// query parameters), as [`ApiError::validation`](super::ApiError::validation)
/// reports them and the pages show them.
pub type FieldErrors = ValidationErrors<String>;

/// Where a field arrived: a JSON body, or a query string, whose parameters
/// are shorter (`?start=&end=&duration=` next to the body's `startTime`,
/// `endTime` and `durationMinutes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    /// A JSON request body.
    Body,
    /// A query string.
    Query,
}

/// The client-facing name of `field` on `surface`.
pub fn json_name(field: Field, surface: Surface) -> String {
    let query = surface == Surface::Query;
    let name = match field {
        Field::Username => "username",
        Field::Email => "email",
        Field::Name | Field::ScheduleName => "name",
        Field::TimeZone => "timeZone",
        Field::Organizer => "organizerUsername",
        Field::EventType => "eventType",
        Field::Slug => "slug",
        Field::Title => "title",
        Field::Description => "description",
        Field::AttendeeName => "attendantName",
        Field::AttendeeEmail => "attendantEmail",
        Field::StartTime if query => "start",
        Field::StartTime => "startTime",
        Field::EndTime if query => "end",
        Field::EndTime => "endTime",
        Field::Duration if query => "duration",
        Field::Duration | Field::DefaultDuration => "durationMinutes",
        Field::Metadata => "metadata",
        Field::Page => "page",
        Field::Limit => "limit",
        Field::StartDate => "startDate",
        Field::EndDate => "endDate",
        Field::WeeklyHours(day) => return format!("weeklyHours.{}", weekday_name(day)),
        Field::DateOverrides => "dateOverrides",
        Field::Schedule => "scheduleId",
        Field::DurationOptions => "durationOptions",
        Field::SlotStep => "slotStepMinutes",
        Field::BufferBefore => "bufferBeforeMinutes",
        Field::BufferAfter => "bufferAfterMinutes",
        Field::MinNotice => "minNoticeMinutes",
        Field::BookingWindow => "bookingWindow",
        Field::LimitPerDay => "limits.perDay",
        Field::LimitPerWeek => "limits.perWeek",
        Field::Location => "location",
        Field::HoldDuration => "holdMinutes",
        Field::HoldToken => "holdToken",
        Field::IdempotencyKey => "Idempotency-Key",
        // A field added to booking-core later: its Rust name in camelCase.
        other => return camel_case(other.name()),
    };
    name.to_owned()
}

/// The JSON name of a duration of the settings (`PUT /api/settings`) and
/// the unit it is given in (`minutes` or `days`).
pub fn setting_name(which: DurationSetting) -> (&'static str, &'static str) {
    match which {
        DurationSetting::SlotDuration => ("slotMinutes", "minutes"),
        DurationSetting::SlotStep => ("slotStepMinutes", "minutes"),
        DurationSetting::BufferBefore => ("bufferBeforeMinutes", "minutes"),
        DurationSetting::BufferAfter => ("bufferAfterMinutes", "minutes"),
        DurationSetting::MinNotice => ("minNoticeMinutes", "minutes"),
        DurationSetting::MaxAdvance => ("maxAdvanceDays", "days"),
        _ => ("settings", "minutes"),
    }
}

/// `errors` with every field given its client-facing name on `surface`.
pub fn renamed(errors: ValidationErrors<Field>, surface: Surface) -> FieldErrors {
    errors.map_fields(|field| json_name(field, surface))
}

fn camel_case(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len());
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Weekday;

    #[test]
    fn fields_keep_the_names_clients_know() {
        let body = |field| json_name(field, Surface::Body);
        assert_eq!(body(Field::AttendeeName), "attendantName");
        assert_eq!(body(Field::AttendeeEmail), "attendantEmail");
        assert_eq!(body(Field::Organizer), "organizerUsername");
        assert_eq!(body(Field::StartTime), "startTime");
        assert_eq!(body(Field::EndTime), "endTime");
        assert_eq!(body(Field::Duration), "durationMinutes");
        assert_eq!(body(Field::LimitPerDay), "limits.perDay");
        assert_eq!(
            body(Field::WeeklyHours(Weekday::Tue)),
            "weeklyHours.tuesday"
        );
        assert_eq!(body(Field::Schedule), "scheduleId");
        assert_eq!(body(Field::HoldDuration), "holdMinutes");
        let query = |field| json_name(field, Surface::Query);
        assert_eq!(query(Field::StartTime), "start");
        assert_eq!(query(Field::EndTime), "end");
        assert_eq!(query(Field::Duration), "duration");
        assert_eq!(query(Field::EventType), "eventType");
        assert_eq!(camel_case("limit_per_month"), "limitPerMonth");
    }

    #[test]
    fn whole_error_lists_are_renamed() {
        let mut errors = ValidationErrors::new();
        errors.add(Field::AttendeeEmail, "bad");
        errors.add(Field::Duration, "not offered");
        let renamed = renamed(errors, Surface::Query);
        assert_eq!(renamed.message_for("attendantEmail"), Some("bad"));
        assert_eq!(renamed.message_for("duration"), Some("not offered"));
    }
}
