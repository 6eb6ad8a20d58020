//! Event types as JSON: the body of `POST`/`PUT /api/event-types`, the
//! organizer's view, and the public view attendees get.
//!
//! ```json
//! {"slug": "intro", "title": "Introduction", "description": "…",
//!  "durationMinutes": 30, "durationOptions": [30, 60], "slotStepMinutes": 15,
//!  "bufferBeforeMinutes": 0, "bufferAfterMinutes": 10, "minNoticeMinutes": 120,
//!  "bookingWindow": {"kind": "rollingBusinessDays", "days": 10},
//!  "limits": {"perDay": 3, "perWeek": 10, "weekStartsOn": "monday"},
//!  "location": {"kind": "video", "url": "https://meet.example.com/ada"},
//!  "scheduleId": "01J…", "active": true, "holdMinutes": 5}
//! ```
//!
//! Booking windows: `{"kind": "rollingDays", "days": N}` (N 24-hour days
//! ahead), `{"kind": "rollingBusinessDays", "days": N}` (the next N days
//! with working hours in the schedule) or `{"kind": "range", "start":
//! "2027-01-01", "end": "2027-03-31"}` (inclusive local dates). Locations:
//! `{"kind": "inPerson", "address": …}`, `{"kind": "phone", "number": …}`,
//! `{"kind": "video", "url": …}`.

use booking_core::event_type::DEFAULT_HOLD_DURATION;
use booking_core::schedule::weekday_name;
use booking_core::{BookingLimits, BookingWindow, EventType, EventTypeDraft, Location, ScheduleId};
use chrono::{Duration, Weekday};
use serde::{Deserialize, Serialize};

use super::{count, days, minutes, parse_date, weekday_of};
use crate::http::error::ApiError;
use crate::http::extract::RequestBody;
use crate::http::fields::FieldErrors;
use crate::http::unknown_fields::UnknownFields;

/// `POST /api/event-types` and `PUT /api/event-types/{slug}` body. A `PUT`
/// replaces the whole event type: fields left out take their defaults, and
/// `slug` defaults to the one in the path (another slug renames it).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"slug": "intro", "title": "Introduction", "durationMinutes": 30, "durationOptions": [30, 60], "bookingWindow": {"kind": "rollingDays", "days": 30}}))]
pub struct EventTypeBody {
    /// Its name in booking links (required when creating).
    pub slug: Option<String>,
    /// Title shown to attendees (required).
    pub title: Option<String>,
    /// Optional description.
    pub description: Option<String>,
    /// The default length in minutes (required).
    pub duration_minutes: Option<i64>,
    /// Every length offered, `durationMinutes` included.
    pub duration_options: Option<Vec<i64>>,
    /// Distance between slot starts; the chosen length when absent.
    pub slot_step_minutes: Option<i64>,
    /// Free time before each meeting (default 0).
    pub buffer_before_minutes: Option<i64>,
    /// Free time after each meeting (default 0).
    pub buffer_after_minutes: Option<i64>,
    /// Minimum notice (default 0).
    pub min_notice_minutes: Option<i64>,
    /// How far ahead (default 60 days).
    pub booking_window: Option<WindowBody>,
    /// Per-day and per-week limits (default none).
    pub limits: Option<LimitsBody>,
    /// Where it takes place (default: not said).
    pub location: Option<LocationBody>,
    /// The schedule it uses; the default schedule when absent.
    pub schedule_id: Option<String>,
    /// Whether attendees can see and book it (default true).
    pub active: Option<bool>,
    /// How long a visitor may hold a slot, 0 to 15 minutes (default 5; 0
    /// disables holds).
    pub hold_minutes: Option<i64>,
}

impl RequestBody for EventTypeBody {
    const UNKNOWN_FIELDS: UnknownFields = UnknownFields::Refuse;
}

/// `bookingWindow`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WindowBody {
    /// `rollingDays`, `rollingBusinessDays` or `range`.
    pub kind: Option<String>,
    /// Days, for the rolling kinds.
    pub days: Option<i64>,
    /// First date, for `range`.
    pub start: Option<String>,
    /// Last date (inclusive), for `range`.
    pub end: Option<String>,
}

/// `limits`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LimitsBody {
    /// At most this many bookings per local day.
    pub per_day: Option<i64>,
    /// At most this many per local week.
    pub per_week: Option<i64>,
    /// The weekday weeks start on (default `monday`).
    pub week_starts_on: Option<String>,
}

/// `location`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LocationBody {
    /// `inPerson`, `phone` or `video`.
    pub kind: Option<String>,
    /// The address, for `inPerson`.
    pub address: Option<String>,
    /// The number, for `phone`.
    pub number: Option<String>,
    /// The link, for `video`.
    pub url: Option<String>,
}

/// `value` for `field`, or a "required" error.
fn present<T>(field: &str, value: Option<T>, errors: &mut FieldErrors) -> Option<T> {
    if value.is_none() {
        errors.add(field, format!("{field} is required"));
    }
    value
}

impl WindowBody {
    fn read(&self, errors: &mut FieldErrors) -> Option<BookingWindow> {
        let rolling_days =
            |errors: &mut FieldErrors| present("bookingWindow.days", self.days, errors);
        match self.kind.as_deref() {
            Some("rollingDays") => {
                rolling_days(errors).map(|n| BookingWindow::Rolling { horizon: days(n) })
            }
            Some("rollingBusinessDays") => {
                rolling_days(errors).map(|n| BookingWindow::RollingBusinessDays { days: count(n) })
            }
            Some("range") => {
                let date = |field: &str, text: &Option<String>, errors: &mut FieldErrors| {
                    present(field, text.as_deref(), errors)
                        .and_then(|text| errors.check(field, parse_date(text)))
                };
                let first = date("bookingWindow.start", &self.start, errors);
                let last = date("bookingWindow.end", &self.end, errors);
                Some(BookingWindow::Range {
                    first: first?,
                    last: last?,
                })
            }
            None => {
                errors.add("bookingWindow.kind", "bookingWindow.kind is required");
                None
            }
            Some(other) => {
                errors.add(
                    "bookingWindow.kind",
                    format!("{other:?} is not a kind of window: use rollingDays, rollingBusinessDays or range"),
                );
                None
            }
        }
    }
}

impl LimitsBody {
    fn read(&self, errors: &mut FieldErrors) -> BookingLimits {
        let week_starts_on = match self.week_starts_on.as_deref() {
            None => Weekday::Mon,
            Some(name) => weekday_of(&name.to_ascii_lowercase()).unwrap_or_else(|| {
                errors.add(
                    "limits.weekStartsOn",
                    format!("{name:?} is not a weekday: use monday, tuesday, ... or sunday"),
                );
                Weekday::Mon
            }),
        };
        BookingLimits {
            per_day: self.per_day.map(count),
            per_week: self.per_week.map(count),
            week_starts_on,
        }
    }
}

impl LocationBody {
    fn read(&self, errors: &mut FieldErrors) -> Option<Location> {
        let detail = |field: &str, value: &Option<String>, errors: &mut FieldErrors| {
            present(field, value.clone(), errors)
        };
        match self.kind.as_deref() {
            Some("inPerson") => detail("location.address", &self.address, errors)
                .map(|address| Location::InPerson { address }),
            Some("phone") => detail("location.number", &self.number, errors)
                .map(|number| Location::Phone { number }),
            Some("video") => {
                detail("location.url", &self.url, errors).map(|url| Location::Video { url })
            }
            None => {
                errors.add("location.kind", "location.kind is required");
                None
            }
            Some(other) => {
                errors.add(
                    "location.kind",
                    format!("{other:?} is not a kind of location: use inPerson, phone or video"),
                );
                None
            }
        }
    }
}

impl EventTypeBody {
    /// The draft to save, or every field that could not be read;
    /// `current_slug` is the path's slug of a `PUT`. Whether the values obey
    /// the rules is booking-core's to say.
    pub fn into_draft(self, current_slug: Option<&str>) -> Result<EventTypeDraft, ApiError> {
        let mut errors = FieldErrors::new();
        let slug = match (self.slug, current_slug) {
            (Some(slug), _) => Some(slug),
            (None, Some(current)) => Some(current.to_owned()),
            (None, None) => present::<String>("slug", None, &mut errors),
        };
        let title = present("title", self.title, &mut errors);
        let duration = present("durationMinutes", self.duration_minutes, &mut errors).map(minutes);
        let booking_window = match &self.booking_window {
            None => Some(BookingWindow::default()),
            Some(window) => window.read(&mut errors),
        };
        let limits = self
            .limits
            .as_ref()
            .map_or_else(BookingLimits::default, |limits| limits.read(&mut errors));
        let location = self.location.as_ref().and_then(|l| l.read(&mut errors));
        let schedule_id = self.schedule_id.as_deref().and_then(|text| {
            errors.check(
                "scheduleId",
                text.parse::<ScheduleId>()
                    .map_err(|_| format!("{text:?} is not the id of one of your schedules")),
            )
        });
        let or_zero = |value: Option<i64>| value.map_or(Duration::zero(), minutes);
        match (slug, title, duration, booking_window) {
            (Some(slug), Some(title), Some(duration), Some(booking_window))
                if errors.is_empty() =>
            {
                Ok(EventTypeDraft {
                    description: self.description,
                    duration_options: self
                        .duration_options
                        .unwrap_or_default()
                        .into_iter()
                        .map(minutes)
                        .collect(),
                    slot_step: self.slot_step_minutes.map(minutes),
                    buffer_before: or_zero(self.buffer_before_minutes),
                    buffer_after: or_zero(self.buffer_after_minutes),
                    min_notice: or_zero(self.min_notice_minutes),
                    booking_window,
                    limits,
                    schedule_id,
                    location,
                    active: self.active.unwrap_or(true),
                    hold_duration: self.hold_minutes.map_or(DEFAULT_HOLD_DURATION, minutes),
                    ..EventTypeDraft::new(slug, title, duration)
                })
            }
            _ => Err(ApiError::validation(&errors)),
        }
    }
}

/// A booking window as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum WindowDto {
    /// `days` 24-hour days ahead (whole days; a window set through the
    /// library to a part of a day shows the whole days in it).
    RollingDays {
        /// How many.
        days: i64,
    },
    /// The next `days` business days.
    RollingBusinessDays {
        /// How many.
        days: u32,
    },
    /// Local dates from `start` to `end`, inclusive.
    Range {
        /// The first date.
        start: String,
        /// The last date.
        end: String,
    },
}

impl From<&BookingWindow> for WindowDto {
    fn from(window: &BookingWindow) -> Self {
        match *window {
            BookingWindow::RollingBusinessDays { days } => WindowDto::RollingBusinessDays { days },
            BookingWindow::Range { first, last } => WindowDto::Range {
                start: first.to_string(),
                end: last.to_string(),
            },
            BookingWindow::Rolling { horizon } => WindowDto::RollingDays {
                days: horizon.num_days(),
            },
            // A kind added to booking-core later: its nearest reading.
            _ => WindowDto::RollingDays { days: 0 },
        }
    }
}

/// A location as the API (and the pages) show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum LocationDto {
    /// In person.
    InPerson {
        /// Where.
        address: String,
    },
    /// By phone.
    Phone {
        /// The number to call.
        number: String,
    },
    /// A video call.
    Video {
        /// The link.
        url: String,
    },
    /// A kind added to booking-core later.
    Other {
        /// Its address, number or link.
        detail: String,
    },
}

impl From<&Location> for LocationDto {
    fn from(location: &Location) -> Self {
        match location {
            Location::InPerson { address } => LocationDto::InPerson {
                address: address.clone(),
            },
            Location::Phone { number } => LocationDto::Phone {
                number: number.clone(),
            },
            Location::Video { url } => LocationDto::Video { url: url.clone() },
            other => LocationDto::Other {
                detail: other.detail().to_owned(),
            },
        }
    }
}

/// `limits` as shown.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct LimitsDto {
    per_day: Option<u32>,
    per_week: Option<u32>,
    #[schema(value_type = String)]
    week_starts_on: &'static str,
}

/// An event type as its organizer sees it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventTypeDto {
    id: String,
    slug: String,
    title: String,
    description: Option<String>,
    duration_minutes: i64,
    duration_options: Vec<i64>,
    slot_step_minutes: Option<i64>,
    buffer_before_minutes: i64,
    buffer_after_minutes: i64,
    min_notice_minutes: i64,
    booking_window: WindowDto,
    limits: LimitsDto,
    location: Option<LocationDto>,
    schedule_id: Option<String>,
    active: bool,
    hold_minutes: i64,
}

fn lengths(event_type: &EventType) -> Vec<i64> {
    event_type
        .durations()
        .iter()
        .map(Duration::num_minutes)
        .collect()
}

impl From<&EventType> for EventTypeDto {
    fn from(event_type: &EventType) -> Self {
        EventTypeDto {
            id: event_type.id.to_string(),
            slug: event_type.slug.to_string(),
            title: event_type.title.clone(),
            description: event_type.description.clone(),
            duration_minutes: event_type.duration.num_minutes(),
            duration_options: lengths(event_type),
            slot_step_minutes: event_type.slot_step.map(|s| s.num_minutes()),
            buffer_before_minutes: event_type.buffer_before.num_minutes(),
            buffer_after_minutes: event_type.buffer_after.num_minutes(),
            min_notice_minutes: event_type.min_notice.num_minutes(),
            booking_window: WindowDto::from(&event_type.booking_window),
            limits: LimitsDto {
                per_day: event_type.limits.per_day,
                per_week: event_type.limits.per_week,
                week_starts_on: weekday_name(event_type.limits.week_starts_on),
            },
            location: event_type.location.as_ref().map(LocationDto::from),
            schedule_id: event_type.schedule_id.map(|id| id.to_string()),
            active: event_type.active,
            hold_minutes: event_type.hold_duration.num_minutes(),
        }
    }
}

/// An event type as attendees see it: what it is, how long, and where;
/// none of the organizer's settings.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PublicEventTypeDto {
    slug: String,
    title: String,
    description: Option<String>,
    duration_minutes: i64,
    duration_options: Vec<i64>,
    location: Option<LocationDto>,
}

impl From<&EventType> for PublicEventTypeDto {
    fn from(event_type: &EventType) -> Self {
        PublicEventTypeDto {
            slug: event_type.slug.to_string(),
            title: event_type.title.clone(),
            description: event_type.description.clone(),
            duration_minutes: event_type.duration.num_minutes(),
            duration_options: lengths(event_type),
            location: event_type.location.as_ref().map(LocationDto::from),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn draft(body: serde_json::Value) -> Result<EventTypeDraft, ApiError> {
        serde_json::from_value::<EventTypeBody>(body)
            .unwrap()
            .into_draft(None)
    }

    #[test]
    fn every_part_is_read() {
        let draft = draft(json!({
            "slug": "intro", "title": "Intro", "durationMinutes": 30, "durationOptions": [30, 60],
            "bookingWindow": {"kind": "range", "start": "2027-01-01", "end": "2027-03-31"},
            "limits": {"perDay": 3, "weekStartsOn": "sunday"},
            "location": {"kind": "inPerson", "address": "1 Main St"},
            "active": false, "holdMinutes": 0
        }))
        .unwrap();
        assert_eq!(
            draft.duration_options,
            [Duration::minutes(30), Duration::minutes(60)]
        );
        assert!(matches!(draft.booking_window, BookingWindow::Range { .. }));
        assert_eq!(draft.limits.per_day, Some(3));
        assert_eq!(draft.limits.week_starts_on, Weekday::Sun);
        assert_eq!(
            draft.location,
            Some(Location::InPerson {
                address: "1 Main St".into()
            })
        );
        assert!(!draft.active);
        assert_eq!(draft.hold_duration, Duration::zero());
        draft.validate().unwrap();
    }

    #[test]
    fn unreadable_parts_are_named() {
        let error = draft(json!({
            "title": "Intro",
            "bookingWindow": {"kind": "weekly"},
            "limits": {"weekStartsOn": "someday"},
            "location": {"kind": "video"},
            "scheduleId": "nope"
        }))
        .unwrap_err();
        let fields: Vec<&str> = error.fields.keys().map(String::as_str).collect();
        assert_eq!(
            fields,
            [
                "bookingWindow.kind",
                "durationMinutes",
                "limits.weekStartsOn",
                "location.url",
                "scheduleId",
                "slug"
            ]
        );
    }

    #[test]
    fn windows_show_as_they_are_written() {
        let shown = |window: BookingWindow| serde_json::to_value(WindowDto::from(&window)).unwrap();
        assert_eq!(
            shown(BookingWindow::rolling_days(60)),
            json!({"kind": "rollingDays", "days": 60})
        );
        assert_eq!(
            shown(BookingWindow::RollingBusinessDays { days: 10 }),
            json!({"kind": "rollingBusinessDays", "days": 10})
        );
    }
}
