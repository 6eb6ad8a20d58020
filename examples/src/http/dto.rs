//! The JSON shapes of the API (camelCase, instants as RFC 3339 UTC strings
//! with milliseconds, like JavaScript's `toISOString()`), and their
//! conversion to and from booking-core's types with field-named errors.

use std::collections::BTreeMap;

use booking_core::booking::{Booking, BookingRequest, RequestError};
use booking_core::organizer::{
    ALL_WEEKDAYS, NewOrganizer, Organizer, OrganizerSettings, SettingsDraft, WeeklyHours,
    parse_time_zone, weekday_name,
};
use booking_core::time::{LocalInterval, TimeRange, WallTime};
use booking_core::validation::ValidationErrors;
use chrono::{DateTime, Duration, NaiveDate, SecondsFormat, Utc, Weekday};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::error::ApiError;

/// An instant as the API writes it: `2026-12-01T09:00:00.000Z`.
pub fn instant(value: DateTime<Utc>) -> String {
    value.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// `POST /api/organizers` body.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegisterBody {
    /// Unique handle.
    pub username: Option<String>,
    /// Contact address.
    pub email: Option<String>,
    /// Display name.
    pub name: Option<String>,
    /// IANA zone.
    pub time_zone: Option<String>,
}

impl RegisterBody {
    /// The organizer to register, or every refused field.
    pub fn into_new_organizer(self) -> Result<NewOrganizer, ApiError> {
        let mut missing = ValidationErrors::new();
        let zone = match self.time_zone.as_deref() {
            None => None,
            Some(name) => missing.check("timeZone", parse_time_zone(name)),
        };
        if self.time_zone.is_none() {
            missing.add(
                "timeZone",
                "timeZone is required (an IANA name such as Europe/London)",
            );
        }
        let new = NewOrganizer {
            username: self.username.clone().unwrap_or_default(),
            email: self.email.clone().unwrap_or_default(),
            display_name: self.name.clone().unwrap_or_default(),
            time_zone: zone.unwrap_or(chrono_tz::Tz::UTC),
        };
        let mut errors = ValidationErrors::new();
        let absent = [
            ("username", self.username.is_none()),
            ("email", self.email.is_none()),
            ("name", self.name.is_none()),
        ];
        for (field, is_absent) in absent {
            if is_absent {
                errors.add(field, format!("{field} is required"));
            }
        }
        if let Err(found) = new.validate() {
            for error in found.errors() {
                if !absent.iter().any(|(f, a)| *a && *f == error.field) {
                    errors.add(error.field.clone(), error.message.clone());
                }
            }
        }
        for error in missing.errors() {
            errors.add(error.field.clone(), error.message.clone());
        }
        errors
            .into_result(new)
            .map_err(|e| ApiError::validation(&e))
    }
}

/// An organizer as the API shows it (never the token or its hash).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrganizerDto {
    id: String,
    username: String,
    email: String,
    name: String,
    time_zone: String,
}

impl From<&Organizer> for OrganizerDto {
    fn from(organizer: &Organizer) -> Self {
        OrganizerDto {
            id: organizer.id.to_string(),
            username: organizer.username.clone(),
            email: organizer.email.clone(),
            name: organizer.display_name.clone(),
            time_zone: organizer.time_zone.name().to_owned(),
        }
    }
}

/// One `{start: "HH:MM", end: "HH:MM"}` working interval.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct IntervalBody {
    /// First minute, `HH:MM`.
    pub start: String,
    /// First minute after, `HH:MM` up to `24:00`.
    pub end: String,
}

/// One `{date: "YYYY-MM-DD", hours: [...]}` date override.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OverrideBody {
    /// The local date.
    pub date: String,
    /// Its hours; empty for a day off.
    pub hours: Vec<IntervalBody>,
}

/// `PUT /api/settings` body. Unknown fields are refused, so a typo is never
/// silently ignored.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SettingsBody {
    /// IANA zone the hours are written in (required).
    pub time_zone: Option<String>,
    /// Weekday name to intervals; a weekday left out is a day off (required).
    pub weekly_hours: Option<BTreeMap<String, Vec<IntervalBody>>>,
    /// Dates whose hours replace their weekday's.
    #[serde(default)]
    pub date_overrides: Vec<OverrideBody>,
    /// Meeting length (required).
    pub slot_minutes: Option<i64>,
    /// Distance between slot starts; defaults to `slotMinutes`.
    pub slot_step_minutes: Option<i64>,
    /// Free time before each meeting (default 0).
    pub buffer_before_minutes: Option<i64>,
    /// Free time after each meeting (default 0).
    pub buffer_after_minutes: Option<i64>,
    /// How long before a slot it can still be booked (default 0).
    pub min_notice_minutes: Option<i64>,
    /// How far ahead slots are offered (required).
    pub max_advance_days: Option<i64>,
}

fn weekday_of(name: &str) -> Option<Weekday> {
    ALL_WEEKDAYS
        .into_iter()
        .find(|day| weekday_name(*day) == name)
}

/// Parses one interval, reporting under `path.start` / `path.end`.
fn interval(
    path: &str,
    body: &IntervalBody,
    errors: &mut ValidationErrors,
) -> Option<LocalInterval> {
    let start = errors.check(&format!("{path}.start"), body.start.parse::<WallTime>());
    let end = errors.check(&format!("{path}.end"), body.end.parse::<WallTime>());
    let (start, end) = (start?, end?);
    errors.check(&format!("{path}.end"), LocalInterval::new(start, end))
}

fn minutes(
    field: &str,
    value: Option<i64>,
    default: Option<i64>,
    unit: fn(i64) -> Option<Duration>,
    errors: &mut ValidationErrors,
) -> Option<Duration> {
    let Some(value) = value.or(default) else {
        errors.add(field, format!("{field} is required"));
        return None;
    };
    let duration = unit(value);
    if duration.is_none() {
        errors.add(field, format!("{field} is out of range"));
    }
    duration
}

impl SettingsBody {
    /// The draft to validate and save, or every malformed field.
    pub fn into_draft(self) -> Result<SettingsDraft, ApiError> {
        let mut errors = ValidationErrors::new();
        let time_zone = match &self.time_zone {
            Some(name) => errors.check("timeZone", parse_time_zone(name)),
            None => {
                errors.add(
                    "timeZone",
                    "timeZone is required (an IANA name such as Europe/London)",
                );
                None
            }
        };
        let mut weekly_hours = WeeklyHours::default();
        match &self.weekly_hours {
            None => errors.add(
                "weeklyHours",
                "weeklyHours is required ({\"monday\": [{\"start\": \"09:00\", \"end\": \"17:00\"}], ...}; a day left out is a day off)",
            ),
            Some(days) => {
                for (name, intervals) in days {
                    let Some(day) = weekday_of(name) else {
                        errors.add(
                            format!("weeklyHours.{name}"),
                            "not a weekday: use monday, tuesday, wednesday, thursday, friday, saturday or sunday",
                        );
                        continue;
                    };
                    for (i, body) in intervals.iter().enumerate() {
                        if let Some(parsed) = interval(&format!("weeklyHours.{name}[{i}]"), body, &mut errors) {
                            weekly_hours.day_mut(day).push(parsed);
                        }
                    }
                }
            }
        }
        let mut date_overrides = BTreeMap::new();
        for (i, entry) in self.date_overrides.iter().enumerate() {
            let path = format!("dateOverrides[{i}]");
            let date = errors.check(&format!("{path}.date"), parse_date(&entry.date));
            let mut hours = Vec::new();
            for (j, body) in entry.hours.iter().enumerate() {
                if let Some(parsed) = interval(&format!("{path}.hours[{j}]"), body, &mut errors) {
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
        let slot_duration = minutes(
            "slotMinutes",
            self.slot_minutes,
            None,
            Duration::try_minutes,
            &mut errors,
        );
        let slot_step = match self.slot_step_minutes {
            None => Some(None),
            Some(step) => minutes(
                "slotStepMinutes",
                Some(step),
                None,
                Duration::try_minutes,
                &mut errors,
            )
            .map(Some),
        };
        let buffer_before = minutes(
            "bufferBeforeMinutes",
            self.buffer_before_minutes,
            Some(0),
            Duration::try_minutes,
            &mut errors,
        );
        let buffer_after = minutes(
            "bufferAfterMinutes",
            self.buffer_after_minutes,
            Some(0),
            Duration::try_minutes,
            &mut errors,
        );
        let min_notice = minutes(
            "minNoticeMinutes",
            self.min_notice_minutes,
            Some(0),
            Duration::try_minutes,
            &mut errors,
        );
        let max_advance = minutes(
            "maxAdvanceDays",
            self.max_advance_days,
            None,
            Duration::try_days,
            &mut errors,
        );
        match (
            time_zone,
            slot_duration,
            slot_step,
            buffer_before,
            buffer_after,
            min_notice,
            max_advance,
        ) {
            (
                Some(time_zone),
                Some(slot_duration),
                Some(slot_step),
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
            _ => Err(ApiError::validation(&errors)),
        }
    }
}

/// Settings as the API shows them: every weekday present, intervals as
/// given (not merged), overrides sorted by date.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SettingsDto {
    time_zone: String,
    weekly_hours: BTreeMap<&'static str, Vec<LocalInterval>>,
    date_overrides: Vec<OverrideDto>,
    slot_minutes: i64,
    slot_step_minutes: Option<i64>,
    buffer_before_minutes: i64,
    buffer_after_minutes: i64,
    min_notice_minutes: i64,
    max_advance_days: i64,
}

#[derive(Debug, Serialize)]
struct OverrideDto {
    date: String,
    hours: Vec<LocalInterval>,
}

impl From<&OrganizerSettings> for SettingsDto {
    fn from(settings: &OrganizerSettings) -> Self {
        SettingsDto {
            time_zone: settings.time_zone().name().to_owned(),
            weekly_hours: ALL_WEEKDAYS
                .into_iter()
                .map(|day| (weekday_name(day), settings.weekly_hours().day(day).to_vec()))
                .collect(),
            date_overrides: settings
                .date_overrides()
                .iter()
                .map(|(date, hours)| OverrideDto {
                    date: date.to_string(),
                    hours: hours.clone(),
                })
                .collect(),
            slot_minutes: settings.slot_duration().num_minutes(),
            slot_step_minutes: settings.configured_slot_step().map(|s| s.num_minutes()),
            buffer_before_minutes: settings.buffer_before().num_minutes(),
            buffer_after_minutes: settings.buffer_after().num_minutes(),
            min_notice_minutes: settings.min_notice().num_minutes(),
            max_advance_days: settings.max_advance().num_days(),
        }
    }
}

/// A date as `YYYY-MM-DD`.
pub fn parse_date(text: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| format!("{text:?} is not a date such as 2026-12-24 (YYYY-MM-DD)"))
}

/// One offered slot.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SlotDto {
    start_time: String,
    end_time: String,
}

impl From<&TimeRange> for SlotDto {
    fn from(range: &TimeRange) -> Self {
        SlotDto {
            start_time: instant(range.start()),
            end_time: instant(range.end()),
        }
    }
}

/// `POST /api/bookings` body: the seed's `createBookingSchema`. Fields are
/// optional here only so that every missing one is reported at once.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateBookingBody {
    /// The organizer's username.
    pub organizer_username: Option<String>,
    /// The attendee's name.
    pub attendant_name: Option<String>,
    /// The attendee's email.
    pub attendant_email: Option<String>,
    /// Meeting title.
    pub title: Option<String>,
    /// Optional description.
    pub description: Option<String>,
    /// RFC 3339 start.
    pub start_time: Option<String>,
    /// RFC 3339 end.
    pub end_time: Option<String>,
    /// Optional JSON object.
    pub metadata: Option<Value>,
}

impl CreateBookingBody {
    /// The request for the service, or 400 naming every missing field
    /// together with every malformed one.
    pub fn into_request(self) -> Result<BookingRequest, ApiError> {
        let required = [
            ("organizerUsername", self.organizer_username.is_none()),
            ("attendantName", self.attendant_name.is_none()),
            ("attendantEmail", self.attendant_email.is_none()),
            ("title", self.title.is_none()),
            ("startTime", self.start_time.is_none()),
            ("endTime", self.end_time.is_none()),
        ];
        let request = BookingRequest {
            organizer_username: self.organizer_username.unwrap_or_default(),
            attendant_name: self.attendant_name.unwrap_or_default(),
            attendant_email: self.attendant_email.unwrap_or_default(),
            title: self.title.unwrap_or_default(),
            description: self.description,
            start_time: self.start_time.unwrap_or_default(),
            end_time: self.end_time.unwrap_or_default(),
            metadata: self.metadata,
        };
        if required.iter().all(|(_, absent)| !absent) {
            return Ok(request);
        }
        let found = match request.validate() {
            Err(RequestError::Invalid(errors)) => errors,
            _ => ValidationErrors::new(),
        };
        let mut errors = ValidationErrors::new();
        for (field, absent) in required {
            if absent {
                errors.add(field, format!("{field} is required"));
            }
        }
        for error in found.errors() {
            if !required
                .iter()
                .any(|(f, absent)| *absent && *f == error.field)
            {
                errors.add(error.field.clone(), error.message.clone());
            }
        }
        Err(ApiError::validation(&errors))
    }
}

/// A booking as the API shows it (never the cancel token's hash).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BookingDto {
    id: String,
    organizer_id: String,
    attendant_name: String,
    attendant_email: String,
    title: String,
    description: Option<String>,
    metadata: Option<serde_json::Map<String, Value>>,
    start_time: String,
    end_time: String,
    created_at: String,
    updated_at: String,
}

impl From<&Booking> for BookingDto {
    fn from(booking: &Booking) -> Self {
        BookingDto {
            id: booking.id.to_string(),
            organizer_id: booking.organizer_id.to_string(),
            attendant_name: booking.attendant_name.clone(),
            attendant_email: booking.attendant_email.clone(),
            title: booking.title.clone(),
            description: booking.description.clone(),
            metadata: booking.metadata.clone(),
            start_time: instant(booking.start_time()),
            end_time: instant(booking.end_time()),
            created_at: instant(booking.created_at),
            updated_at: instant(booking.updated_at),
        }
    }
}

/// `POST /api/bookings/{id}/cancel` body (optional with a bearer token).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelBody {
    /// The attendee's cancel token.
    pub cancel_token: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(json: serde_json::Value) -> Result<SettingsDraft, ApiError> {
        serde_json::from_value::<SettingsBody>(json)
            .unwrap()
            .into_draft()
    }

    #[test]
    fn interval_errors_name_their_json_path() {
        let error = settings(serde_json::json!({
            "timeZone": "Europe/Berlin",
            "weeklyHours": {
                "monday": [{"start": "09:00", "end": "25:00"}, {"start": "10:00", "end": "09:00"}],
                "tuesday": [{"start": "9:00", "end": "24:30"}],
                "funday": []
            },
            "dateOverrides": [{"date": "2026-02-30", "hours": []}],
            "slotMinutes": 30,
            "maxAdvanceDays": 30
        }))
        .unwrap_err();
        let fields: Vec<&str> = error.fields.keys().map(String::as_str).collect();
        assert_eq!(
            fields,
            [
                "dateOverrides[0].date",
                "weeklyHours.funday",
                "weeklyHours.monday[0].end",
                "weeklyHours.monday[1].end",
                "weeklyHours.tuesday[0].end",
                "weeklyHours.tuesday[0].start",
            ]
        );
    }

    #[test]
    fn good_settings_merge_nothing_and_default_buffers() {
        let draft = settings(serde_json::json!({
            "timeZone": "America/New_York",
            "weeklyHours": {"friday": [{"start": "13:00", "end": "24:00"}, {"start": "09:00", "end": "13:00"}]},
            "dateOverrides": [{"date": "2026-12-24", "hours": []}],
            "slotMinutes": 45,
            "minNoticeMinutes": 525600,
            "maxAdvanceDays": 3650
        }))
        .unwrap();
        assert_eq!(draft.weekly_hours.friday.len(), 2);
        assert_eq!(draft.buffer_before, Duration::zero());
        assert_eq!(draft.max_advance, Duration::days(3650));
        assert!(OrganizerSettings::try_from(draft).is_ok());
    }

    #[test]
    fn huge_numbers_are_field_errors_not_overflows() {
        let error = settings(serde_json::json!({
            "timeZone": "UTC", "weeklyHours": {}, "slotMinutes": i64::MAX, "maxAdvanceDays": i64::MIN
        }))
        .unwrap_err();
        assert!(error.fields.contains_key("slotMinutes"));
        assert!(error.fields.contains_key("maxAdvanceDays"));
    }

    #[test]
    fn missing_booking_fields_are_reported_with_malformed_ones() {
        let body: CreateBookingBody = serde_json::from_value(serde_json::json!({
            "organizerUsername": "ada", "attendantEmail": "nope", "title": "Intro",
            "startTime": "2026-12-01T09:00:00Z"
        }))
        .unwrap();
        let error = body.into_request().unwrap_err();
        let fields: Vec<&str> = error.fields.keys().map(String::as_str).collect();
        assert_eq!(fields, ["attendantEmail", "attendantName", "endTime"]);
        assert_eq!(error.fields["endTime"], "endTime is required");
    }
}
