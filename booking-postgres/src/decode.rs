//! Turning rows back into booking-core's domain values, refusing anything the
//! core could not have produced (reported as [`StoreError::Corrupt`], never a
//! panic).
//!
//! Event types are checked for shape (a valid slug, positive lengths, a
//! consistent booking window, positive limits), not against the limits core
//! puts on new input: lengths under 5 minutes carried over from older
//! settings stay readable.

use std::str::FromStr;

use booking_core::booking::{Attendee, Booking, BookingId};
use booking_core::event::{BookingEventKind, EventId, EventRecord, StoredEvent};
use booking_core::event_type::{
    BookingLimits, BookingWindow, EventType, EventTypeId, Location, Slug,
};
use booking_core::hold::{Hold, HoldId};
use booking_core::organizer::{Organizer, OrganizerId};
use booking_core::queue::{Job, JobId, JobStatus};
use booking_core::record::Record;
use booking_core::schedule::{DateOverrides, Schedule, ScheduleId, WeeklyHours};
use booking_core::secret::TokenHash;
use booking_core::store::StoreError;
use booking_core::time::TimeRange;
use chrono::{DateTime, Duration, NaiveDate, Utc, Weekday};
use chrono_tz::Tz;
use serde::de::DeserializeOwned;
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

fn parse_json<T: DeserializeOwned>(value: Value, what: &str) -> Result<T, StoreError> {
    serde_json::from_value(value).map_err(|e| corrupt(format_args!("{what}: {e}")))
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

/// A duration that must be positive (a length, a step, a horizon).
fn positive(interval: PgInterval, what: &str) -> Result<Duration, StoreError> {
    let value = duration(interval, what)?;
    if value > Duration::zero() {
        Ok(value)
    } else {
        Err(corrupt(format_args!("{what}: must be positive")))
    }
}

/// A duration that must not be negative (a buffer, a notice).
fn not_negative(interval: PgInterval, what: &str) -> Result<Duration, StoreError> {
    let value = duration(interval, what)?;
    if value >= Duration::zero() {
        Ok(value)
    } else {
        Err(corrupt(format_args!("{what}: must not be negative")))
    }
}

/// A count that must be positive and fit a `u32`.
fn positive_count(value: i32, what: &str) -> Result<u32, StoreError> {
    u32::try_from(value)
        .ok()
        .filter(|v| *v > 0)
        .ok_or_else(|| corrupt(format_args!("{what}: {value} is not a positive count")))
}

fn range(start: DateTime<Utc>, end: DateTime<Utc>, what: &str) -> Result<TimeRange, StoreError> {
    TimeRange::new(start, end).map_err(|e| corrupt(format_args!("{what}: {e}")))
}

/// An organizer from the columns of `sql::organizer_columns!`.
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

/// A configuration version (a `bigint` that is never negative).
pub(crate) fn version(row: &PgRow) -> Result<u64, StoreError> {
    let version: i64 = get(row, "config_version")?;
    u64::try_from(version).map_err(|_| {
        corrupt(format_args!(
            "organizers.config_version: {version} is negative"
        ))
    })
}

/// The schedule in the `sc_` columns of `sql::schedule_columns!`, or `None`
/// when they are NULL (an outer join found none). It must pass the checks
/// core puts on new schedules (a name, bounded hours).
pub(crate) fn schedule(
    row: &PgRow,
    organizer_id: OrganizerId,
) -> Result<Option<Schedule>, StoreError> {
    let Some(id) = get::<Option<String>>(row, "sc_id")? else {
        return Ok(None);
    };
    let time_zone: String = get(row, "sc_time_zone")?;
    let weekly_hours: WeeklyHours =
        parse_json(get(row, "sc_weekly_hours")?, "schedules.weekly_hours")?;
    let date_overrides: DateOverrides =
        parse_json(get(row, "sc_date_overrides")?, "schedules.date_overrides")?;
    let schedule = Schedule {
        id: parse_id::<ScheduleId>(&id, "schedules.id")?,
        organizer_id,
        name: get(row, "sc_name")?,
        time_zone: parse_zone(&time_zone, "schedules.time_zone")?,
        weekly_hours,
        date_overrides,
        is_default: get(row, "sc_is_default")?,
    };
    schedule
        .to_draft()
        .validate()
        .map_err(|e| corrupt(format_args!("schedule {}: {e}", schedule.id)))?;
    Ok(Some(schedule))
}

/// The event type in the `et_` columns of `sql::event_type_columns!`, or
/// `None` when they are NULL (an outer join found none).
pub(crate) fn event_type(
    row: &PgRow,
    organizer_id: OrganizerId,
) -> Result<Option<EventType>, StoreError> {
    let Some(id) = get::<Option<String>>(row, "et_id")? else {
        return Ok(None);
    };
    let slug: String = get(row, "et_slug")?;
    let options: Vec<PgInterval> = get(row, "et_duration_options")?;
    let duration_options = options
        .into_iter()
        .map(|option| positive(option, "event_types.duration_options"))
        .collect::<Result<Vec<_>, _>>()?;
    let slot_step: Option<PgInterval> = get(row, "et_slot_step")?;
    let schedule_id: Option<String> = get(row, "et_schedule_id")?;
    let location: Option<Value> = get(row, "et_location")?;
    Ok(Some(EventType {
        id: parse_id::<EventTypeId>(&id, "event_types.id")?,
        organizer_id,
        slug: parse_id::<Slug>(&slug, "event_types.slug")?,
        title: get(row, "et_title")?,
        description: get(row, "et_description")?,
        duration: positive(get(row, "et_duration")?, "event_types.duration")?,
        duration_options,
        slot_step: slot_step
            .map(|step| positive(step, "event_types.slot_step"))
            .transpose()?,
        buffer_before: not_negative(get(row, "et_buffer_before")?, "event_types.buffer_before")?,
        buffer_after: not_negative(get(row, "et_buffer_after")?, "event_types.buffer_after")?,
        min_notice: not_negative(get(row, "et_min_notice")?, "event_types.min_notice")?,
        booking_window: booking_window(row)?,
        limits: limits(row)?,
        schedule_id: schedule_id
            .map(|id| parse_id::<ScheduleId>(&id, "event_types.schedule_id"))
            .transpose()?,
        location: location
            .map(|value| parse_json::<Location>(value, "event_types.location"))
            .transpose()?,
        active: get(row, "et_active")?,
        hold_duration: not_negative(get(row, "et_hold_duration")?, "event_types.hold_duration")?,
    }))
}

fn booking_window(row: &PgRow) -> Result<BookingWindow, StoreError> {
    let kind: String = get(row, "et_booking_window_kind")?;
    let missing = |column: &str| {
        corrupt(format_args!(
            "event_types.{column} is NULL for a {kind:?} booking window"
        ))
    };
    match kind.as_str() {
        "rolling" => {
            let horizon: Option<PgInterval> = get(row, "et_booking_window_horizon")?;
            let horizon = horizon.ok_or_else(|| missing("booking_window_horizon"))?;
            Ok(BookingWindow::Rolling {
                horizon: positive(horizon, "event_types.booking_window_horizon")?,
            })
        }
        "rolling_business_days" => {
            let days: Option<i32> = get(row, "et_booking_window_days")?;
            let days = days.ok_or_else(|| missing("booking_window_days"))?;
            Ok(BookingWindow::RollingBusinessDays {
                days: positive_count(days, "event_types.booking_window_days")?,
            })
        }
        "range" => {
            let first: Option<NaiveDate> = get(row, "et_booking_window_first")?;
            let last: Option<NaiveDate> = get(row, "et_booking_window_last")?;
            let first = first.ok_or_else(|| missing("booking_window_first"))?;
            let last = last.ok_or_else(|| missing("booking_window_last"))?;
            if last < first {
                return Err(corrupt(
                    "event_types.booking_window_last is before its first",
                ));
            }
            Ok(BookingWindow::Range { first, last })
        }
        other => Err(corrupt(format_args!(
            "event_types.booking_window_kind: unknown kind {other:?}"
        ))),
    }
}

fn limits(row: &PgRow) -> Result<BookingLimits, StoreError> {
    let per_day: Option<i32> = get(row, "et_limit_per_day")?;
    let per_week: Option<i32> = get(row, "et_limit_per_week")?;
    let week_starts_on: i16 = get(row, "et_limit_week_starts_on")?;
    Ok(BookingLimits {
        per_day: per_day
            .map(|v| positive_count(v, "event_types.limit_per_day"))
            .transpose()?,
        per_week: per_week
            .map(|v| positive_count(v, "event_types.limit_per_week"))
            .transpose()?,
        week_starts_on: weekday(week_starts_on)?,
    })
}

/// An ISO day number (1 = Monday ... 7 = Sunday), as stored.
fn weekday(iso: i16) -> Result<Weekday, StoreError> {
    Ok(match iso {
        1 => Weekday::Mon,
        2 => Weekday::Tue,
        3 => Weekday::Wed,
        4 => Weekday::Thu,
        5 => Weekday::Fri,
        6 => Weekday::Sat,
        7 => Weekday::Sun,
        other => {
            return Err(corrupt(format_args!(
                "event_types.limit_week_starts_on: {other} is not an ISO day (1 to 7)"
            )));
        }
    })
}

/// What a booking and a hold share, from the columns listed in
/// `sql::booking_columns!`: whose time, the meeting, its buffers and the
/// token's hash.
struct Occupying {
    organizer_id: OrganizerId,
    time: TimeRange,
    buffer_before: Duration,
    buffer_after: Duration,
    token_hash: TokenHash,
}

fn occupying(row: &PgRow) -> Result<Occupying, StoreError> {
    let organizer_id: String = get(row, "organizer_id")?;
    let hash: String = get(row, "cancel_token_hash")?;
    Ok(Occupying {
        organizer_id: parse_id::<OrganizerId>(&organizer_id, "bookings.organizer_id")?,
        time: range(
            get(row, "start_time")?,
            get(row, "end_time")?,
            "bookings.start_time/end_time",
        )?,
        buffer_before: duration(get(row, "buffer_before")?, "bookings.buffer_before")?,
        buffer_after: duration(get(row, "buffer_after")?, "bookings.buffer_after")?,
        token_hash: parse_hash(&hash, "bookings.cancel_token_hash")?,
    })
}

/// A booking from the columns listed in `sql::booking_columns!`.
pub(crate) fn booking(row: &PgRow) -> Result<Booking, StoreError> {
    let id: String = get(row, "id")?;
    let event_type_id: Option<String> = get(row, "event_type_id")?;
    let slug: String = get(row, "event_type_slug")?;
    let metadata: Option<Value> = get(row, "metadata")?;
    let metadata = match metadata {
        None | Some(Value::Null) => None,
        Some(Value::Object(map)) => Some(map),
        Some(_) => return Err(corrupt("bookings.metadata: not a JSON object")),
    };
    let shared = occupying(row)?;
    Ok(Booking {
        id: parse_id::<BookingId>(&id, "bookings.id")?,
        organizer_id: shared.organizer_id,
        event_type_id: event_type_id
            .map(|id| parse_id::<EventTypeId>(&id, "bookings.event_type_id"))
            .transpose()?,
        event_type_slug: parse_id::<Slug>(&slug, "bookings.event_type_slug")?,
        attendee: Attendee {
            name: get(row, "attendant_name")?,
            email: get(row, "attendant_email")?,
        },
        metadata,
        title: get(row, "title")?,
        description: get(row, "description")?,
        time: shared.time,
        buffer_before: shared.buffer_before,
        buffer_after: shared.buffer_after,
        cancel_token_hash: shared.token_hash,
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
        deleted_at: get(row, "deleted_at")?,
        sequence: sequence(get(row, "sequence")?)?,
        rescheduled_from: rescheduled_from(row)?,
    })
}

/// A sequence number (an `integer` that is never negative).
fn sequence(value: i32) -> Result<u32, StoreError> {
    u32::try_from(value)
        .map_err(|_| corrupt(format_args!("bookings.sequence: {value} is negative")))
}

/// The `sequence` column of a row that describes a booking's state (it may
/// be NULL: no such booking).
pub(crate) fn current_sequence(row: &PgRow) -> Result<Option<u32>, StoreError> {
    get::<Option<i32>>(row, "current_sequence")?
        .map(sequence)
        .transpose()
}

fn rescheduled_from(row: &PgRow) -> Result<Option<TimeRange>, StoreError> {
    let start: Option<DateTime<Utc>> = get(row, "rescheduled_from_start")?;
    let end: Option<DateTime<Utc>> = get(row, "rescheduled_from_end")?;
    match (start, end) {
        (None, None) => Ok(None),
        (Some(start), Some(end)) => {
            range(start, end, "bookings.rescheduled_from_start/end").map(Some)
        }
        _ => Err(corrupt(
            "bookings.rescheduled_from_start/end: only one is set",
        )),
    }
}

/// A hold from the columns listed in `sql::booking_columns!` of a row whose
/// status is `held`.
pub(crate) fn hold(row: &PgRow) -> Result<Hold, StoreError> {
    let id: String = get(row, "id")?;
    let event_type_id: Option<String> = get(row, "event_type_id")?;
    let event_type_id =
        event_type_id.ok_or_else(|| corrupt("bookings.event_type_id: NULL for a hold"))?;
    let expires_at: Option<DateTime<Utc>> = get(row, "hold_expires_at")?;
    let shared = occupying(row)?;
    Ok(Hold {
        id: parse_id::<HoldId>(&id, "bookings.id")?,
        organizer_id: shared.organizer_id,
        event_type_id: parse_id::<EventTypeId>(&event_type_id, "bookings.event_type_id")?,
        time: shared.time,
        buffer_before: shared.buffer_before,
        buffer_after: shared.buffer_after,
        token_hash: shared.token_hash,
        client: get(row, "hold_client")?,
        created_at: get(row, "created_at")?,
        expires_at: expires_at
            .ok_or_else(|| corrupt("bookings.hold_expires_at: NULL for a hold"))?,
    })
}

/// A sequence number of `booking_events` or `jobs` (a positive `bigint`).
fn seq(row: &PgRow, what: &str) -> Result<u64, StoreError> {
    let value: i64 = get(row, "seq")?;
    u64::try_from(value).map_err(|_| corrupt(format_args!("{what}.seq: {value} is negative")))
}

/// An event from the columns of `sql::outbox::event_columns!`.
pub(crate) fn event(row: &PgRow) -> Result<StoredEvent, StoreError> {
    let id: String = get(row, "id")?;
    let organizer_id: String = get(row, "organizer_id")?;
    let booking_id: String = get(row, "booking_id")?;
    let kind: String = get(row, "kind")?;
    Ok(StoredEvent {
        seq: seq(row, "booking_events")?,
        record: EventRecord {
            id: parse_id::<EventId>(&id, "booking_events.id")?,
            organizer_id: parse_id::<OrganizerId>(&organizer_id, "booking_events.organizer_id")?,
            booking_id: parse_id::<BookingId>(&booking_id, "booking_events.booking_id")?,
            kind: parse_id::<BookingEventKind>(&kind, "booking_events.kind")?,
            occurred_at: get(row, "occurred_at")?,
            payload: get(row, "payload")?,
        },
    })
}

/// A job and its `seq` from the columns of `sql::outbox::job_columns!`.
pub(crate) fn job(row: &PgRow) -> Result<(u64, Job), StoreError> {
    let id: String = get(row, "id")?;
    let organizer_id: String = get(row, "organizer_id")?;
    let event_id: String = get(row, "event_id")?;
    let booking_id: String = get(row, "booking_id")?;
    let status: String = get(row, "status")?;
    let attempts: i32 = get(row, "attempts")?;
    let last_status: Option<i32> = get(row, "last_status")?;
    let job = Job {
        id: parse_id::<JobId>(&id, "jobs.id")?,
        queue: get(row, "queue")?,
        organizer_id: parse_id::<OrganizerId>(&organizer_id, "jobs.organizer_id")?,
        event_id: parse_id::<EventId>(&event_id, "jobs.event_id")?,
        booking_id: parse_id::<BookingId>(&booking_id, "jobs.booking_id")?,
        target: get(row, "target")?,
        payload: get(row, "payload")?,
        status: JobStatus::from_name(&status)
            .ok_or_else(|| corrupt(format_args!("jobs.status: unknown status {status:?}")))?,
        attempts: u32::try_from(attempts)
            .map_err(|_| corrupt(format_args!("jobs.attempts: {attempts} is negative")))?,
        run_at: get(row, "run_at")?,
        last_error: get(row, "last_error")?,
        last_status: last_status
            .map(|code| {
                u16::try_from(code)
                    .map_err(|_| corrupt(format_args!("jobs.last_status: {code} is no status")))
            })
            .transpose()?,
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
    };
    Ok((seq(row, "jobs")?, job))
}

/// A record from the columns of `sql::records::record_columns!`.
pub(crate) fn record(row: &PgRow) -> Result<Record, StoreError> {
    let organizer_id: String = get(row, "organizer_id")?;
    Ok(Record {
        kind: get(row, "kind")?,
        id: get(row, "id")?,
        organizer_id: parse_id::<OrganizerId>(&organizer_id, "records.organizer_id")?,
        lookup: get(row, "lookup")?,
        data: get(row, "data")?,
        created_at: get(row, "created_at")?,
        expires_at: get(row, "expires_at")?,
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
