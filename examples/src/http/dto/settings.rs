//! `GET`/`PUT /api/settings`: one set of hours and one kind of meeting, as
//! version 1 of the API has it (booking-core keeps them as the default
//! schedule and the default event type).

use booking_core::time::parse_time_zone;
use booking_core::{OrganizerSettings, SettingsDraft};
use chrono::Duration;
use serde::{Deserialize, Serialize};

use super::hours::{
    OverrideBody, OverrideDto, WeeklyHoursBody, overrides_dto, read_overrides, read_weekly_hours,
    weekly_hours_dto,
};
use super::{days, minutes};
use crate::http::error::ApiError;
use crate::http::extract::RequestBody;
use crate::http::fields::FieldErrors;
use crate::http::unknown_fields::UnknownFields;

/// `PUT /api/settings` body. Unknown fields are refused, so a typo is never
/// silently ignored.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"timeZone": "Europe/London", "weeklyHours": {"monday": [{"start": "09:00", "end": "17:00"}]}, "slotMinutes": 30, "maxAdvanceDays": 60}))]
pub struct SettingsBody {
    /// IANA zone the hours are written in (required).
    pub time_zone: Option<String>,
    /// Weekday name to intervals; a weekday left out is a day off (required).
    #[schema(value_type = Option<std::collections::BTreeMap<String, Vec<super::IntervalBody>>>)]
    pub weekly_hours: Option<WeeklyHoursBody>,
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

impl RequestBody for SettingsBody {
    const UNKNOWN_FIELDS: UnknownFields = UnknownFields::Refuse;
}

/// `value`, or a "required" error against `field`.
fn required(field: &str, value: Option<i64>, errors: &mut FieldErrors) -> Option<i64> {
    if value.is_none() {
        errors.add(field, format!("{field} is required"));
    }
    value
}

impl SettingsBody {
    /// The draft to validate and save, or every malformed field.
    pub fn into_draft(self) -> Result<SettingsDraft, ApiError> {
        let mut errors = FieldErrors::new();
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
        let weekly_hours = match &self.weekly_hours {
            None => {
                errors.add(
                    "weeklyHours",
                    "weeklyHours is required ({\"monday\": [{\"start\": \"09:00\", \"end\": \"17:00\"}], ...}; a day left out is a day off)",
                );
                None
            }
            Some(days) => Some(read_weekly_hours("weeklyHours", days, &mut errors)),
        };
        let date_overrides = read_overrides(&self.date_overrides, &mut errors);
        let slot_duration = required("slotMinutes", self.slot_minutes, &mut errors).map(minutes);
        let max_advance = required("maxAdvanceDays", self.max_advance_days, &mut errors).map(days);
        let or_zero = |value: Option<i64>| value.map_or(Duration::zero(), minutes);
        match (time_zone, weekly_hours, slot_duration, max_advance) {
            (Some(time_zone), Some(weekly_hours), Some(slot_duration), Some(max_advance))
                if errors.is_empty() =>
            {
                Ok(SettingsDraft {
                    time_zone: Some(time_zone),
                    weekly_hours,
                    date_overrides,
                    slot_duration,
                    slot_step: self.slot_step_minutes.map(minutes),
                    buffer_before: or_zero(self.buffer_before_minutes),
                    buffer_after: or_zero(self.buffer_after_minutes),
                    min_notice: or_zero(self.min_notice_minutes),
                    max_advance,
                })
            }
            _ => Err(ApiError::validation(&errors)),
        }
    }
}

/// Settings as the API shows them: every weekday present, intervals as
/// given (not merged), overrides sorted by date.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SettingsDto {
    time_zone: String,
    #[schema(value_type = std::collections::BTreeMap<String, Vec<super::IntervalBody>>)]
    weekly_hours: std::collections::BTreeMap<&'static str, Vec<booking_core::LocalInterval>>,
    date_overrides: Vec<OverrideDto>,
    slot_minutes: i64,
    slot_step_minutes: Option<i64>,
    buffer_before_minutes: i64,
    buffer_after_minutes: i64,
    min_notice_minutes: i64,
    max_advance_days: i64,
}

impl From<&OrganizerSettings> for SettingsDto {
    fn from(settings: &OrganizerSettings) -> Self {
        SettingsDto {
            time_zone: settings.time_zone().name().to_owned(),
            weekly_hours: weekly_hours_dto(settings.weekly_hours()),
            date_overrides: overrides_dto(settings.date_overrides()),
            slot_minutes: settings.slot_duration().num_minutes(),
            slot_step_minutes: settings.configured_slot_step().map(|s| s.num_minutes()),
            buffer_before_minutes: settings.buffer_before().num_minutes(),
            buffer_after_minutes: settings.buffer_after().num_minutes(),
            min_notice_minutes: settings.min_notice().num_minutes(),
            max_advance_days: settings.max_advance().num_days(),
        }
    }
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
    fn huge_numbers_are_clamped_for_the_rules_to_refuse() {
        let draft = settings(serde_json::json!({
            "timeZone": "UTC", "weeklyHours": {}, "slotMinutes": i64::MAX, "maxAdvanceDays": i64::MIN
        }))
        .unwrap();
        assert!(OrganizerSettings::try_from(draft).is_err());
        let error =
            settings(serde_json::json!({"timeZone": "UTC", "weeklyHours": {}})).unwrap_err();
        assert!(error.fields.contains_key("slotMinutes"));
        assert!(error.fields.contains_key("maxAdvanceDays"));
    }
}
