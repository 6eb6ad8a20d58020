//! Turning rows back into booking-core's domain values, refusing anything the
//! core would not have produced (reported as [`StoreError::Corrupt`]).

use std::collections::BTreeMap;
use std::str::FromStr;

use booking_core::booking::{Booking, BookingId};
use booking_core::organizer::{
    Organizer, OrganizerId, OrganizerSettings, SettingsDraft, WeeklyHours,
};
use booking_core::secret::TokenHash;
use booking_core::store::StoreError;
use booking_core::time::{LocalInterval, TimeRange};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use serde_json::Value;
use sqlx::postgres::types::PgInterval;
use sqlx::postgres::{PgRow, Postgres};
use sqlx::{Decode, Row, Type};

/// Reads column `column`, telling a value that does not decode (corrupt data)
/// from a driver failure.
pub(crate) fn get<'r, T>(row: &'r PgRow, column: &str) -> Result<T, StoreError>
where
    T: Decode<'r, Postgres> + Type<Postgres>,
{
    row.try_get::<T, _>(column).map_err(|error| match error {
        sqlx::Error::ColumnDecode { index, source } => {
            StoreError::Corrupt(format!("column {index} does not decode: {source}"))
        }
        other => StoreError::backend(other),
    })
}

fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

pub(crate) fn parse_id<T: FromStr>(text: &str, what: &str) -> Result<T, StoreError>
where
    T::Err: std::fmt::Display,
{
    text.parse::<T>()
        .map_err(|e| corrupt(format_args!("{what}: {e}")))
}

fn parse_zone(text: &str, what: &str) -> Result<Tz, StoreError> {
    text.parse::<Tz>()
        .map_err(|_| corrupt(format_args!("{what}: unknown time zone {text:?}")))
}

fn parse_hash(text: &str, what: &str) -> Result<TokenHash, StoreError> {
    TokenHash::from_hex(text).map_err(|e| corrupt(format_args!("{what}: {e}")))
}

/// An `interval` as a [`Duration`]; months have no fixed length, so an
/// interval with months is refused.
pub(crate) fn duration(interval: PgInterval, what: &str) -> Result<Duration, StoreError> {
    if interval.months != 0 {
        return Err(corrupt(format_args!(
            "{what}: intervals with months are not supported"
        )));
    }
    Duration::try_days(i64::from(interval.days))
        .and_then(|days| days.checked_add(&Duration::microseconds(interval.microseconds)))
        .ok_or_else(|| corrupt(format_args!("{what}: interval out of range")))
}

fn range(start: DateTime<Utc>, end: DateTime<Utc>, what: &str) -> Result<TimeRange, StoreError> {
    TimeRange::new(start, end).map_err(|e| corrupt(format_args!("{what}: {e}")))
}

/// An organizer from columns `id, username, email, display_name, time_zone,
/// api_token_hash, created_at`.
pub(crate) fn organizer(row: &PgRow) -> Result<Organizer, StoreError> {
    let id: String = get(row, "id")?;
    let time_zone: String = get(row, "time_zone")?;
    let hash: String = get(row, "api_token_hash")?;
    Ok(Organizer {
        id: parse_id::<OrganizerId>(&id, "organizers.id")?,
        username: get(row, "username")?,
        email: get(row, "email")?,
        display_name: get(row, "display_name")?,
        time_zone: parse_zone(&time_zone, "organizers.time_zone")?,
        api_token_hash: parse_hash(&hash, "organizers.api_token_hash")?,
        created_at: get(row, "created_at")?,
    })
}

/// Settings from columns `settings_time_zone, weekly_hours, date_overrides,
/// slot_duration, slot_step, buffer_before, buffer_after, min_notice,
/// max_advance`, validated by booking-core exactly as on the way in.
pub(crate) fn settings(row: &PgRow) -> Result<OrganizerSettings, StoreError> {
    let time_zone: String = get(row, "settings_time_zone")?;
    let weekly_hours: Value = get(row, "weekly_hours")?;
    let date_overrides: Value = get(row, "date_overrides")?;
    let weekly_hours: WeeklyHours = serde_json::from_value(weekly_hours)
        .map_err(|e| corrupt(format_args!("organizer_settings.weekly_hours: {e}")))?;
    let date_overrides: BTreeMap<NaiveDate, Vec<LocalInterval>> =
        serde_json::from_value(date_overrides)
            .map_err(|e| corrupt(format_args!("organizer_settings.date_overrides: {e}")))?;
    let slot_step: Option<PgInterval> = get(row, "slot_step")?;
    let draft = SettingsDraft {
        time_zone: parse_zone(&time_zone, "organizer_settings.time_zone")?,
        weekly_hours,
        date_overrides,
        slot_duration: duration(
            get(row, "slot_duration")?,
            "organizer_settings.slot_duration",
        )?,
        slot_step: slot_step
            .map(|step| duration(step, "organizer_settings.slot_step"))
            .transpose()?,
        buffer_before: duration(
            get(row, "buffer_before")?,
            "organizer_settings.buffer_before",
        )?,
        buffer_after: duration(get(row, "buffer_after")?, "organizer_settings.buffer_after")?,
        min_notice: duration(get(row, "min_notice")?, "organizer_settings.min_notice")?,
        max_advance: duration(get(row, "max_advance")?, "organizer_settings.max_advance")?,
    };
    OrganizerSettings::try_from(draft).map_err(|e| corrupt(format_args!("organizer_settings: {e}")))
}

/// A booking from the columns listed in `store::booking_columns!`.
pub(crate) fn booking(row: &PgRow) -> Result<Booking, StoreError> {
    let id: String = get(row, "id")?;
    let organizer_id: String = get(row, "organizer_id")?;
    let metadata: Option<Value> = get(row, "metadata")?;
    let metadata = match metadata {
        None | Some(Value::Null) => None,
        Some(Value::Object(map)) => Some(map),
        Some(_) => return Err(corrupt("bookings.metadata: not a JSON object")),
    };
    let hash: String = get(row, "cancel_token_hash")?;
    Ok(Booking {
        id: parse_id::<BookingId>(&id, "bookings.id")?,
        organizer_id: parse_id::<OrganizerId>(&organizer_id, "bookings.organizer_id")?,
        attendant_name: get(row, "attendant_name")?,
        attendant_email: get(row, "attendant_email")?,
        metadata,
        title: get(row, "title")?,
        description: get(row, "description")?,
        time: range(
            get(row, "start_time")?,
            get(row, "end_time")?,
            "bookings.start_time/end_time",
        )?,
        buffer_before: duration(get(row, "buffer_before")?, "bookings.buffer_before")?,
        buffer_after: duration(get(row, "buffer_after")?, "bookings.buffer_after")?,
        cancel_token_hash: parse_hash(&hash, "bookings.cancel_token_hash")?,
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
        deleted_at: get(row, "deleted_at")?,
    })
}

/// Occupied intervals from two parallel arrays of bounds.
pub(crate) fn occupied(
    starts: Vec<DateTime<Utc>>,
    ends: Vec<DateTime<Utc>>,
) -> Result<Vec<TimeRange>, StoreError> {
    if starts.len() != ends.len() {
        return Err(corrupt("occupied bounds arrays differ in length"));
    }
    starts
        .into_iter()
        .zip(ends)
        .map(|(start, end)| range(start, end, "bookings.occupied_start/occupied_end"))
        .collect()
}
