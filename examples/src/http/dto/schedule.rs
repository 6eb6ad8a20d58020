//! Schedules as JSON: named working hours in one zone, with the shapes of
//! `PUT /api/settings` for the hours.

use std::collections::BTreeMap;

use booking_core::time::parse_time_zone;
use booking_core::{LocalInterval, Schedule, ScheduleDraft};
use serde::{Deserialize, Serialize};

use super::hours::{
    OverrideBody, OverrideDto, WeeklyHoursBody, overrides_dto, read_overrides, read_weekly_hours,
    weekly_hours_dto,
};
use crate::http::error::ApiError;
use crate::http::extract::RequestBody;
use crate::http::fields::FieldErrors;
use crate::http::unknown_fields::UnknownFields;

/// `POST /api/schedules` and `PUT /api/schedules/{id}` body; a `PUT`
/// replaces the whole schedule.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"name": "Evenings", "timeZone": "Europe/London", "weeklyHours": {"monday": [{"start": "18:00", "end": "21:00"}]}}))]
pub struct ScheduleBody {
    /// A name for people (required).
    pub name: Option<String>,
    /// IANA zone of the hours; the organizer's own when absent.
    pub time_zone: Option<String>,
    /// Weekday name to intervals; a weekday left out is a day off (required).
    #[schema(value_type = Option<BTreeMap<String, Vec<super::IntervalBody>>>)]
    pub weekly_hours: Option<WeeklyHoursBody>,
    /// Dates whose hours replace their weekday's.
    #[serde(default)]
    pub date_overrides: Vec<OverrideBody>,
    /// Make it the default schedule (the previous default stops being it).
    /// The first schedule is always the default, and the default stays so
    /// until another is made default.
    pub is_default: Option<bool>,
}

impl RequestBody for ScheduleBody {
    const UNKNOWN_FIELDS: UnknownFields = UnknownFields::Refuse;
}

impl ScheduleBody {
    /// The draft to save, or every field that could not be read.
    pub fn into_draft(self) -> Result<ScheduleDraft, ApiError> {
        let mut errors = FieldErrors::new();
        if self.name.is_none() {
            errors.add("name", "name is required");
        }
        let time_zone = self
            .time_zone
            .as_deref()
            .and_then(|name| errors.check("timeZone", parse_time_zone(name)));
        let weekly_hours = match &self.weekly_hours {
            None => {
                errors.add(
                    "weeklyHours",
                    "weeklyHours is required ({\"monday\": [{\"start\": \"09:00\", \"end\": \"17:00\"}], ...}; a day left out is a day off)",
                );
                Default::default()
            }
            Some(days) => read_weekly_hours("weeklyHours", days, &mut errors),
        };
        let date_overrides = read_overrides(&self.date_overrides, &mut errors);
        if !errors.is_empty() {
            return Err(ApiError::validation(&errors));
        }
        Ok(ScheduleDraft {
            name: self.name.unwrap_or_default(),
            time_zone,
            weekly_hours,
            date_overrides,
            is_default: self.is_default.unwrap_or(false),
        })
    }
}

/// A schedule as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleDto {
    id: String,
    name: String,
    time_zone: String,
    #[schema(value_type = BTreeMap<String, Vec<super::IntervalBody>>)]
    weekly_hours: BTreeMap<&'static str, Vec<LocalInterval>>,
    date_overrides: Vec<OverrideDto>,
    is_default: bool,
}

impl From<&Schedule> for ScheduleDto {
    fn from(schedule: &Schedule) -> Self {
        ScheduleDto {
            id: schedule.id.to_string(),
            name: schedule.name.clone(),
            time_zone: schedule.time_zone.name().to_owned(),
            weekly_hours: weekly_hours_dto(&schedule.weekly_hours),
            date_overrides: overrides_dto(&schedule.date_overrides),
            is_default: schedule.is_default,
        }
    }
}
