//! An organizer's configuration: schedules and event types, their rows, and
//! `update_config`'s compare-and-set followed by the changes, in order.
//!
//! The store holds no configuration rules (the service does); what it
//! enforces is what only it can decide atomically: the version has not
//! moved, slugs are unique per organizer (`UNIQUE (organizer_id, slug)`), a
//! schedule in use is not deleted (the `(organizer_id, schedule_id)` foreign
//! key), at most one schedule per organizer is the default (a partial
//! unique index). SQLite checks each constraint as each change is applied,
//! so changes must be ordered to be valid one by one (the service writes
//! the old default's demotion before the new default, for example).

use booking_core::event_type::{
    BookingLimits, BookingWindow, EventType, EventTypeId, Location, Slug,
};
use booking_core::organizer::OrganizerId;
use booking_core::schedule::{DateOverrides, Schedule, ScheduleId, WeeklyHours};
use booking_core::store::{ConfigChange, OrganizerConfig, StoreError};
use chrono::{Duration, NaiveDate};
use rusqlite::{Connection, OptionalExtension as _, Row, params};

use crate::convert::{
    exact_secs, from_json, parse_text, parse_zone, read_secs, read_unsigned, read_weekday, to_json,
    weekday_text,
};
use crate::error::{Broken, Failure, Unstorable, broken_constraint, corrupt};
use crate::organizers;
use crate::sql;

// ------------------------------------------------------------------- reads

/// The organizer's configuration at its current version; `None` for an
/// unknown organizer. Run it in one read transaction for a consistent view.
pub(crate) fn read(
    conn: &Connection,
    organizer: OrganizerId,
) -> Result<Option<OrganizerConfig>, Failure> {
    let Some(version) = organizers::config_version(conn, organizer)? else {
        return Ok(None);
    };
    let id = organizer.to_string();
    let schedules = conn
        .prepare_cached(sql::SCHEDULES_OF)?
        .query_map([&id], ScheduleRow::read)?
        .map(|row| row?.into_schedule())
        .collect::<Result<_, _>>()?;
    let event_types = conn
        .prepare_cached(sql::EVENT_TYPES_OF)?
        .query_map([&id], EventTypeRow::read)?
        .map(|row| row?.into_event_type())
        .collect::<Result<_, _>>()?;
    Ok(Some(OrganizerConfig {
        version,
        schedules,
        event_types,
    }))
}

/// The organizer's event type with this slug.
pub(crate) fn event_type_by_slug(
    conn: &Connection,
    organizer: OrganizerId,
    slug: &Slug,
) -> Result<Option<EventType>, Failure> {
    conn.prepare_cached(sql::EVENT_TYPE_BY_SLUG)?
        .query_row(
            params![organizer.to_string(), slug.as_str()],
            EventTypeRow::read,
        )
        .optional()?
        .map(EventTypeRow::into_event_type)
        .transpose()
}

/// The schedule an event type uses: `schedule` if it names one, else the
/// organizer's default.
pub(crate) fn schedule_of(
    conn: &Connection,
    organizer: OrganizerId,
    schedule: Option<ScheduleId>,
) -> Result<Option<Schedule>, Failure> {
    let found = match schedule {
        Some(id) => conn
            .prepare_cached(sql::SCHEDULE_BY_ID)?
            .query_row(
                params![organizer.to_string(), id.to_string()],
                ScheduleRow::read,
            )
            .optional()?,
        None => conn
            .prepare_cached(sql::DEFAULT_SCHEDULE)?
            .query_row([organizer.to_string()], ScheduleRow::read)
            .optional()?,
    };
    found.map(ScheduleRow::into_schedule).transpose()
}

// ------------------------------------------------------------------ writes

/// `update_config` inside the caller's `BEGIN IMMEDIATE` transaction: the
/// compare-and-set on the version first (so a stale change writes nothing
/// and costs one statement), then each change in order. Any failure
/// returns before the commit, and the transaction's drop rolls back all of
/// it, the version bump included.
pub(crate) fn update(
    tx: &Connection,
    organizer: OrganizerId,
    expected_version: u64,
    changes: Vec<ConfigChange>,
) -> Result<u64, Failure> {
    let id = organizer.to_string();
    // A version beyond i64 cannot be stored, so it cannot be current.
    let bumped = match i64::try_from(expected_version) {
        Ok(expected) => tx
            .prepare_cached(sql::BUMP_CONFIG_VERSION)?
            .execute(params![id, expected])?,
        Err(_) => 0,
    };
    if bumped == 0 {
        return Err(match organizers::config_version(tx, organizer)? {
            None => StoreError::OrganizerNotFound(organizer),
            Some(_) => StoreError::ConfigChanged,
        }
        .into());
    }
    for change in changes {
        apply(tx, &id, change)?;
    }
    Ok(expected_version + 1)
}

/// Writes one change, naming the rule a broken constraint stands for.
fn apply(tx: &Connection, organizer: &str, change: ConfigChange) -> Result<(), Failure> {
    match change {
        ConfigChange::PutSchedule(schedule) => {
            let row = ScheduleRow::from_schedule(organizer, &schedule)?;
            // The primary key cannot clash (an upsert), so a unique index
            // refusing is the one-default index.
            row.upsert(tx).map_err(|e| match broken_constraint(&e) {
                Some(Broken::Unique) => StoreError::Unstorable(
                    "an organizer has at most one default schedule".to_owned(),
                )
                .into(),
                _ => Failure::from(e),
            })?;
        }
        ConfigChange::DeleteSchedule(id) => {
            tx.prepare_cached(sql::DELETE_SCHEDULE)?
                .execute(params![organizer, id.to_string()])
                .map_err(|e| match broken_constraint(&e) {
                    Some(Broken::ForeignKey) => StoreError::ScheduleInUse(id).into(),
                    _ => Failure::from(e),
                })?;
        }
        ConfigChange::PutEventType(event_type) => {
            let row = EventTypeRow::from_event_type(organizer, &event_type)?;
            row.upsert(tx).map_err(|e| match broken_constraint(&e) {
                Some(Broken::Unique) => StoreError::SlugTaken(event_type.slug.to_string()).into(),
                Some(Broken::ForeignKey) => match event_type.schedule_id {
                    Some(schedule) => StoreError::ScheduleInUse(schedule).into(),
                    None => Failure::from(e),
                },
                None => Failure::from(e),
            })?;
        }
        ConfigChange::DeleteEventType(id) => {
            tx.prepare_cached(sql::DELETE_EVENT_TYPE)?
                .execute(params![organizer, id.to_string()])?;
        }
        other => return Err(Unstorable::Unsupported(format!("{other:?}")).into()),
    }
    Ok(())
}

// -------------------------------------------------------------------- rows

/// A `schedules` row, for writing and before validation when read.
pub(crate) struct ScheduleRow {
    organizer_id: String,
    id: String,
    name: String,
    time_zone: String,
    weekly_hours: String,
    date_overrides: String,
    is_default: bool,
}

impl ScheduleRow {
    fn from_schedule(organizer: &str, schedule: &Schedule) -> Result<Self, Failure> {
        Ok(ScheduleRow {
            organizer_id: organizer.to_owned(),
            id: schedule.id.to_string(),
            name: schedule.name.clone(),
            time_zone: schedule.time_zone.name().to_owned(),
            weekly_hours: to_json(&schedule.weekly_hours)?,
            date_overrides: to_json(&schedule.date_overrides)?,
            is_default: schedule.is_default,
        })
    }

    fn upsert(&self, tx: &Connection) -> rusqlite::Result<usize> {
        tx.prepare_cached(sql::UPSERT_SCHEDULE)?.execute(params![
            self.organizer_id,
            self.id,
            self.name,
            self.time_zone,
            self.weekly_hours,
            self.date_overrides,
            self.is_default,
        ])
    }

    /// Reads the columns of `schedule_columns!()` (see `sql`).
    fn read(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(ScheduleRow {
            organizer_id: row.get(0)?,
            id: row.get(1)?,
            name: row.get(2)?,
            time_zone: row.get(3)?,
            weekly_hours: row.get(4)?,
            date_overrides: row.get(5)?,
            is_default: row.get(6)?,
        })
    }

    fn into_schedule(self) -> Result<Schedule, Failure> {
        let weekly_hours: WeeklyHours = from_json("schedules.weekly_hours", &self.weekly_hours)?;
        let date_overrides: DateOverrides =
            from_json("schedules.date_overrides", &self.date_overrides)?;
        Ok(Schedule {
            id: parse_text("schedules.id", &self.id)?,
            organizer_id: parse_text("schedules.organizer_id", &self.organizer_id)?,
            name: self.name,
            time_zone: parse_zone(&self.time_zone)?,
            weekly_hours,
            date_overrides,
            is_default: self.is_default,
        })
    }
}

/// An `event_types` row, for writing and before validation when read.
///
/// Read back, an event type is rebuilt field by field, each parsed into its
/// domain type; it is not re-validated through `EventTypeDraft`, because
/// event types migrated from older settings may keep lengths that new input
/// may no longer have (under 5 minutes), which the engine handles.
pub(crate) struct EventTypeRow {
    organizer_id: String,
    id: String,
    slug: String,
    title: String,
    description: Option<String>,
    duration_secs: i64,
    duration_options: String,
    slot_step_secs: Option<i64>,
    buffer_before_secs: i64,
    buffer_after_secs: i64,
    min_notice_secs: i64,
    window_kind: String,
    window_horizon_secs: Option<i64>,
    window_days: Option<i64>,
    window_first: Option<String>,
    window_last: Option<String>,
    limit_per_day: Option<i64>,
    limit_per_week: Option<i64>,
    week_starts_on: String,
    schedule_id: Option<String>,
    location: Option<String>,
    active: bool,
    hold_duration_secs: i64,
}

const ROLLING: &str = "rolling";
const ROLLING_BUSINESS_DAYS: &str = "rolling_business_days";
const RANGE: &str = "range";

impl EventTypeRow {
    fn from_event_type(organizer: &str, e: &EventType) -> Result<Self, Failure> {
        let options: Vec<i64> = e
            .duration_options
            .iter()
            .map(|d| exact_secs("duration_options", *d))
            .collect::<Result<_, _>>()?;
        let mut row = EventTypeRow {
            organizer_id: organizer.to_owned(),
            id: e.id.to_string(),
            slug: e.slug.to_string(),
            title: e.title.clone(),
            description: e.description.clone(),
            duration_secs: exact_secs("duration", e.duration)?,
            duration_options: to_json(&options)?,
            slot_step_secs: e
                .slot_step
                .map(|d| exact_secs("slot_step", d))
                .transpose()?,
            buffer_before_secs: exact_secs("buffer_before", e.buffer_before)?,
            buffer_after_secs: exact_secs("buffer_after", e.buffer_after)?,
            min_notice_secs: exact_secs("min_notice", e.min_notice)?,
            window_kind: String::new(),
            window_horizon_secs: None,
            window_days: None,
            window_first: None,
            window_last: None,
            limit_per_day: e.limits.per_day.map(i64::from),
            limit_per_week: e.limits.per_week.map(i64::from),
            week_starts_on: weekday_text(e.limits.week_starts_on).to_owned(),
            schedule_id: e.schedule_id.map(|id| id.to_string()),
            location: e.location.as_ref().map(to_json).transpose()?,
            active: e.active,
            hold_duration_secs: exact_secs("hold_duration", e.hold_duration)?,
        };
        match e.booking_window {
            BookingWindow::Rolling { horizon } => {
                row.window_kind = ROLLING.to_owned();
                row.window_horizon_secs = Some(exact_secs("booking_window.horizon", horizon)?);
            }
            BookingWindow::RollingBusinessDays { days } => {
                row.window_kind = ROLLING_BUSINESS_DAYS.to_owned();
                row.window_days = Some(i64::from(days));
            }
            BookingWindow::Range { first, last } => {
                row.window_kind = RANGE.to_owned();
                row.window_first = Some(first.to_string());
                row.window_last = Some(last.to_string());
            }
            other => return Err(Unstorable::Unsupported(format!("{other:?}")).into()),
        }
        Ok(row)
    }

    fn upsert(&self, tx: &Connection) -> rusqlite::Result<usize> {
        tx.prepare_cached(sql::UPSERT_EVENT_TYPE)?.execute(params![
            self.organizer_id,
            self.id,
            self.slug,
            self.title,
            self.description,
            self.duration_secs,
            self.duration_options,
            self.slot_step_secs,
            self.buffer_before_secs,
            self.buffer_after_secs,
            self.min_notice_secs,
            self.window_kind,
            self.window_horizon_secs,
            self.window_days,
            self.window_first,
            self.window_last,
            self.limit_per_day,
            self.limit_per_week,
            self.week_starts_on,
            self.schedule_id,
            self.location,
            self.active,
            self.hold_duration_secs,
        ])
    }

    /// Reads the columns of `event_type_columns!()` (see `sql`).
    fn read(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(EventTypeRow {
            organizer_id: row.get(0)?,
            id: row.get(1)?,
            slug: row.get(2)?,
            title: row.get(3)?,
            description: row.get(4)?,
            duration_secs: row.get(5)?,
            duration_options: row.get(6)?,
            slot_step_secs: row.get(7)?,
            buffer_before_secs: row.get(8)?,
            buffer_after_secs: row.get(9)?,
            min_notice_secs: row.get(10)?,
            window_kind: row.get(11)?,
            window_horizon_secs: row.get(12)?,
            window_days: row.get(13)?,
            window_first: row.get(14)?,
            window_last: row.get(15)?,
            limit_per_day: row.get(16)?,
            limit_per_week: row.get(17)?,
            week_starts_on: row.get(18)?,
            schedule_id: row.get(19)?,
            location: row.get(20)?,
            active: row.get(21)?,
            hold_duration_secs: row.get(22)?,
        })
    }

    fn into_event_type(self) -> Result<EventType, Failure> {
        let id: EventTypeId = parse_text("event_types.id", &self.id)?;
        let duration_options = from_json::<Vec<i64>>("duration_options", &self.duration_options)?
            .into_iter()
            .map(|secs| read_secs("duration_options", secs))
            .collect::<Result<Vec<Duration>, _>>()?;
        let location: Option<Location> = self
            .location
            .as_deref()
            .map(|text| from_json("event_types.location", text))
            .transpose()?;
        let booking_window = self.booking_window(id)?;
        Ok(EventType {
            id,
            organizer_id: parse_text("event_types.organizer_id", &self.organizer_id)?,
            slug: parse_text("event_types.slug", &self.slug)?,
            title: self.title,
            description: self.description,
            duration: read_secs("duration_secs", self.duration_secs)?,
            duration_options,
            slot_step: self
                .slot_step_secs
                .map(|secs| read_secs("slot_step_secs", secs))
                .transpose()?,
            buffer_before: read_secs("buffer_before_secs", self.buffer_before_secs)?,
            buffer_after: read_secs("buffer_after_secs", self.buffer_after_secs)?,
            min_notice: read_secs("min_notice_secs", self.min_notice_secs)?,
            booking_window,
            limits: BookingLimits {
                per_day: self
                    .limit_per_day
                    .map(|n| read_unsigned("limit_per_day", n))
                    .transpose()?,
                per_week: self
                    .limit_per_week
                    .map(|n| read_unsigned("limit_per_week", n))
                    .transpose()?,
                week_starts_on: read_weekday("week_starts_on", &self.week_starts_on)?,
            },
            schedule_id: self
                .schedule_id
                .as_deref()
                .map(|text| parse_text("event_types.schedule_id", text))
                .transpose()?,
            location,
            active: self.active,
            hold_duration: read_secs("hold_duration_secs", self.hold_duration_secs)?,
        })
    }

    fn booking_window(&self, id: EventTypeId) -> Result<BookingWindow, Failure> {
        let broken = || corrupt(format!("event type {id}: incomplete booking window"));
        match self.window_kind.as_str() {
            ROLLING => Ok(BookingWindow::Rolling {
                horizon: read_secs(
                    "window_horizon_secs",
                    self.window_horizon_secs.ok_or_else(broken)?,
                )?,
            }),
            ROLLING_BUSINESS_DAYS => Ok(BookingWindow::RollingBusinessDays {
                days: read_unsigned("window_days", self.window_days.ok_or_else(broken)?)?,
            }),
            RANGE => {
                let date = |column: &str, text: &Option<String>| -> Result<NaiveDate, Failure> {
                    parse_text(column, text.as_deref().ok_or_else(broken)?)
                };
                Ok(BookingWindow::Range {
                    first: date("window_first", &self.window_first)?,
                    last: date("window_last", &self.window_last)?,
                })
            }
            other => Err(corrupt(format!(
                "event type {id}: window_kind {other:?} is not a booking window kind"
            ))),
        }
    }
}
