//! Field-by-field validation of what callers send, with every failure naming
//! its [`Field`] so a form can show the message next to the right input.

use std::fmt;

use chrono::Weekday;
use serde::Serialize;

/// A field of the library's inputs, named in an error so the caller can show
/// the message next to the right input. The HTTP layer maps each to its own
/// JSON name (`AttendeeEmail` is `attendantEmail` in the example service).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Field {
    /// An organizer's username.
    Username,
    /// An organizer's email address.
    Email,
    /// An organizer's display name.
    Name,
    /// A time zone.
    TimeZone,
    /// The organizer a request names.
    Organizer,
    /// The event type a request names (its slug).
    EventType,
    /// An event type's slug.
    Slug,
    /// A title (of a booking or an event type).
    Title,
    /// A description (of a booking or an event type).
    Description,
    /// The attendee's name.
    AttendeeName,
    /// The attendee's email address.
    AttendeeEmail,
    /// A booking's or window's start.
    StartTime,
    /// A booking's or window's end.
    EndTime,
    /// The meeting length the attendee chose.
    Duration,
    /// A booking's free-form metadata.
    Metadata,
    /// A list's page number.
    Page,
    /// A list's page size.
    Limit,
    /// A list's first local date.
    StartDate,
    /// A list's last local date.
    EndDate,
    /// A schedule's name.
    ScheduleName,
    /// A schedule's hours on one weekday.
    WeeklyHours(Weekday),
    /// A schedule's date overrides.
    DateOverrides,
    /// The schedule an event type uses.
    Schedule,
    /// An event type's default length.
    DefaultDuration,
    /// An event type's list of allowed lengths.
    DurationOptions,
    /// The distance between slot starts.
    SlotStep,
    /// The free time kept before a meeting.
    BufferBefore,
    /// The free time kept after a meeting.
    BufferAfter,
    /// The minimum notice before a meeting.
    MinNotice,
    /// An event type's booking window.
    BookingWindow,
    /// The most bookings per day.
    LimitPerDay,
    /// The most bookings per week.
    LimitPerWeek,
    /// An event type's location.
    Location,
    /// How long a hold on an event type's slot lasts.
    HoldDuration,
    /// A hold's token.
    HoldToken,
    /// An idempotency key.
    IdempotencyKey,
}

impl Field {
    /// The field's name in Rust (snake_case), e.g. `attendee_email`.
    pub fn name(self) -> &'static str {
        match self {
            Field::Username => "username",
            Field::Email => "email",
            Field::Name => "name",
            Field::TimeZone => "time_zone",
            Field::Organizer => "organizer",
            Field::EventType => "event_type",
            Field::Slug => "slug",
            Field::Title => "title",
            Field::Description => "description",
            Field::AttendeeName => "attendee_name",
            Field::AttendeeEmail => "attendee_email",
            Field::StartTime => "start_time",
            Field::EndTime => "end_time",
            Field::Duration => "duration",
            Field::Metadata => "metadata",
            Field::Page => "page",
            Field::Limit => "limit",
            Field::StartDate => "start_date",
            Field::EndDate => "end_date",
            Field::ScheduleName => "schedule_name",
            Field::WeeklyHours(_) => "weekly_hours",
            Field::DateOverrides => "date_overrides",
            Field::Schedule => "schedule",
            Field::DefaultDuration => "default_duration",
            Field::DurationOptions => "duration_options",
            Field::SlotStep => "slot_step",
            Field::BufferBefore => "buffer_before",
            Field::BufferAfter => "buffer_after",
            Field::MinNotice => "min_notice",
            Field::BookingWindow => "booking_window",
            Field::LimitPerDay => "limit_per_day",
            Field::LimitPerWeek => "limit_per_week",
            Field::Location => "location",
            Field::HoldDuration => "hold_duration",
            Field::HoldToken => "hold_token",
            Field::IdempotencyKey => "idempotency_key",
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Field::WeeklyHours(day) => {
                write!(f, "weekly_hours.{}", crate::schedule::weekday_name(*day))
            }
            other => f.write_str(other.name()),
        }
    }
}

/// One refused field and a message for people saying what is wrong and
/// what is expected. `F` is how fields are named: [`Field`] in the library,
/// JSON names (`String`) in an HTTP layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError<F = Field> {
    /// The refused field.
    pub field: F,
    /// What is wrong and what is expected.
    pub message: String,
}

/// Every field an input got wrong, in the order they were checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
pub struct ValidationErrors<F = Field> {
    errors: Vec<FieldError<F>>,
}

impl<F> Default for ValidationErrors<F> {
    fn default() -> Self {
        ValidationErrors { errors: Vec::new() }
    }
}

impl<F> ValidationErrors<F> {
    /// No errors yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// A single error.
    pub fn single(field: impl Into<F>, message: impl Into<String>) -> Self {
        let mut errors = Self::new();
        errors.add(field, message);
        errors
    }

    /// Records that `field` is wrong.
    pub fn add(&mut self, field: impl Into<F>, message: impl Into<String>) {
        self.errors.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }

    /// Records `result`'s error, if any, against `field`, and passes the value on.
    pub fn check<T, E: fmt::Display>(
        &mut self,
        field: impl Into<F>,
        result: Result<T, E>,
    ) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(error) => {
                self.add(field, error.to_string());
                None
            }
        }
    }

    /// Whether nothing was refused.
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// The refused fields.
    pub fn errors(&self) -> &[FieldError<F>] {
        &self.errors
    }

    /// The message for `field`, if it was refused.
    pub fn message_for<Q: ?Sized>(&self, field: &Q) -> Option<&str>
    where
        F: PartialEq<Q>,
    {
        self.errors
            .iter()
            .find(|e| e.field == *field)
            .map(|e| e.message.as_str())
    }

    /// `Ok(value)` when nothing was refused, else `Err(self)`.
    pub fn into_result<T>(self, value: T) -> Result<T, Self> {
        if self.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }

    /// The same errors with each field renamed by `name`, e.g. from
    /// [`Field`] to the JSON names of an API.
    pub fn map_fields<G>(self, mut name: impl FnMut(F) -> G) -> ValidationErrors<G> {
        ValidationErrors {
            errors: self
                .errors
                .into_iter()
                .map(|e| FieldError {
                    field: name(e.field),
                    message: e.message,
                })
                .collect(),
        }
    }

    /// Adds every error of `other`.
    pub fn extend(&mut self, other: ValidationErrors<F>) {
        self.errors.extend(other.errors);
    }
}

impl<F: fmt::Display> fmt::Display for ValidationErrors<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid input: ")?;
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{}: {}", e.field, e.message)?;
        }
        Ok(())
    }
}

/// Checks a required text field: not blank, at most `max` characters.
/// The text itself is kept verbatim; only the check ignores surrounding spaces.
pub fn required_text(value: &str, min: usize, max: usize, what: &str) -> Result<(), String> {
    let chars = value.chars().count();
    if value.contains('\0') {
        Err(format!("{what} must not contain NUL characters"))
    } else if value.trim().is_empty() {
        Err(format!("{what} is required"))
    } else if chars < min {
        Err(format!("{what} must be at least {min} characters"))
    } else if chars > max {
        Err(format!(
            "{what} must be at most {max} characters (got {chars})"
        ))
    } else {
        Ok(())
    }
}

/// Checks an optional text field's length.
pub fn optional_text(value: Option<&str>, max: usize, what: &str) -> Result<(), String> {
    match value {
        Some(text) if text.chars().count() > max => {
            Err(format!("{what} must be at most {max} characters"))
        }
        Some(text) if text.contains('\0') => Err(format!("{what} must not contain NUL characters")),
        _ => Ok(()),
    }
}

/// Whether any string or key inside `value` contains a NUL character, which
/// databases (PostgreSQL's `text` and `jsonb`) cannot store.
pub fn json_contains_nul(value: &serde_json::Value) -> bool {
    use serde_json::Value;
    match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(json_contains_nul),
        Value::Object(map) => map
            .iter()
            .any(|(k, v)| k.contains('\0') || json_contains_nul(v)),
        _ => false,
    }
}

/// The longest email address SMTP can carry (RFC 5321: 254 octets).
pub const MAX_EMAIL_LEN: usize = 254;

/// Checks an email address with the WHATWG HTML definition of a valid email
/// address (what browsers' `type=email` accepts), plus a dot in the domain and
/// RFC 5321's length limits: `local@label.label`, no spaces, no quoting.
pub fn email(value: &str) -> Result<(), String> {
    let refuse = || Err(format!("{value:?} is not a valid email address"));
    if value.len() > MAX_EMAIL_LEN {
        return Err(format!(
            "an email address must be at most {MAX_EMAIL_LEN} characters"
        ));
    }
    let Some((local, domain)) = value.split_once('@') else {
        return refuse();
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".!#$%&'*+/=?^_`{|}~-".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if local_ok && domain_ok {
        Ok(())
    } else {
        refuse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        for good in [
            "a@b.co",
            "first.last+tag@example.com",
            "x_y@sub.example.org",
        ] {
            assert!(email(good).is_ok(), "{good}");
        }
        let long = format!("{}@example.com", "a".repeat(300));
        for bad in [
            "",
            "plain",
            "@example.com",
            "a@",
            "a@b",
            "a b@example.com",
            "a@-x.com",
            "a@x..com",
            "<script>@x.com",
            long.as_str(),
        ] {
            assert!(email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn text_limits() {
        assert!(required_text("  ", 1, 10, "Name").is_err());
        assert!(required_text("ab", 3, 10, "Username").is_err());
        assert!(required_text(&"x".repeat(11), 1, 10, "Name").is_err());
        assert!(required_text(" Ada ", 1, 10, "Name").is_ok());
        assert!(optional_text(Some("abc"), 2, "Description").is_err());
        assert!(optional_text(None, 2, "Description").is_ok());
        assert!(required_text("a\0b", 1, 10, "Name").is_err());
        assert!(optional_text(Some("a\0"), 10, "Description").is_err());
        assert!(json_contains_nul(&serde_json::json!({"a": ["x\0"]})));
        assert!(!json_contains_nul(&serde_json::json!({"a": ["x"]})));
    }
}
