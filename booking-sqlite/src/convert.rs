//! Between domain values and their stored form.
//!
//! * Instants are `INTEGER` microseconds since 1970-01-01T00:00:00Z. Integers
//!   compare exactly and cheaply in SQL, so `occupied_start < ?` is a correct
//!   range test (text would only be correct at one fixed width and format),
//!   microseconds are PostgreSQL's `timestamptz` precision (both stores give
//!   back the same values), and a signed 64-bit count of microseconds spans
//!   all of chrono's years (±262 143), so nothing overflows.
//! * A finer instant is rounded **outward**: a start down, an end up, to the
//!   microsecond. A stored interval therefore always contains the requested
//!   one and is never empty, so rounding can hide no overlap. Creation and
//!   cancellation instants are truncated. What is returned is always what
//!   was stored, so a booking read back equals the one the insert returned.
//! * Durations are whole seconds; a booking's buffers are rounded **up** to
//!   the second (negative ones count as zero, as in
//!   [`TimeRange::widened`]). Settings durations are whole minutes by
//!   validation, so they are stored exactly.

use std::collections::BTreeMap;
use std::str::FromStr;

use booking_core::booking::{Booking, BookingId, NewBooking};
use booking_core::organizer::{
    Organizer, OrganizerId, OrganizerSettings, SettingsDraft, WeeklyHours,
};
use booking_core::secret::TokenHash;
use booking_core::store::StoreError;
use booking_core::time::{LocalInterval, TimeRange};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use rusqlite::Row;
use serde_json::{Map, Value};

use crate::error::{Failure, OutOfRange, corrupt};

const MICROS_PER_SEC: i64 = 1_000_000;

/// Microseconds since the epoch, rounded down.
pub(crate) fn micros_floor(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

/// Microseconds since the epoch, rounded up.
pub(crate) fn micros_ceil(t: DateTime<Utc>) -> i64 {
    let floor = t.timestamp_micros();
    if t.timestamp_subsec_nanos().is_multiple_of(1000) {
        floor
    } else {
        floor.saturating_add(1)
    }
}

/// The instant `micros` microseconds after the epoch.
pub(crate) fn from_micros(micros: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_micros(micros)
}

/// The instant as stored, or an error for one past chrono's limit after
/// rounding.
fn stored_instant(micros: i64) -> Result<DateTime<Utc>, Failure> {
    from_micros(micros)
        .ok_or_else(|| Failure::Store(StoreError::backend(OutOfRange(format!("{micros} µs")))))
}

/// Reads a stored instant; out of range means the row was edited by hand.
fn read_instant(column: &str, micros: i64) -> Result<DateTime<Utc>, Failure> {
    from_micros(micros).ok_or_else(|| {
        corrupt(format!(
            "{column} = {micros} is not a representable instant"
        ))
    })
}

/// A buffer as stored: whole seconds, rounded up, never negative.
pub(crate) fn buffer_secs(d: Duration) -> i64 {
    if d <= Duration::zero() {
        return 0;
    }
    let secs = d.num_seconds();
    if d.subsec_nanos() > 0 {
        secs.saturating_add(1)
    } else {
        secs
    }
}

/// Whole seconds of a validated settings duration.
fn setting_secs(d: Duration) -> i64 {
    d.num_seconds()
}

fn read_secs(column: &str, secs: i64) -> Result<Duration, Failure> {
    Duration::try_seconds(secs)
        .ok_or_else(|| corrupt(format!("{column} = {secs} is not a representable duration")))
}

/// The smallest and largest microsecond counts that are valid instants.
fn micros_bounds() -> (i64, i64) {
    (
        micros_ceil(DateTime::<Utc>::MIN_UTC),
        micros_floor(DateTime::<Utc>::MAX_UTC),
    )
}

/// A booking about to be inserted, in stored form, together with the booking
/// the store will return (built from the stored values, so it equals what a
/// later read gives back).
pub(crate) struct BookingInsert {
    pub start_us: i64,
    pub end_us: i64,
    pub buffer_before_secs: i64,
    pub buffer_after_secs: i64,
    pub occupied_start_us: i64,
    pub occupied_end_us: i64,
    pub created_us: i64,
    pub metadata: Option<String>,
    pub booking: Booking,
}

impl BookingInsert {
    pub(crate) fn new(new: NewBooking) -> Result<Self, Failure> {
        let start_us = micros_floor(new.time.start());
        let end_us = micros_ceil(new.time.end());
        let time = TimeRange::new(stored_instant(start_us)?, stored_instant(end_us)?)
            .map_err(|e| Failure::Store(StoreError::backend(OutOfRange(e.to_string()))))?;
        let buffer_before_secs = buffer_secs(new.buffer_before);
        let buffer_after_secs = buffer_secs(new.buffer_after);
        let (min, max) = micros_bounds();
        let occupied_start_us = start_us
            .saturating_sub(buffer_before_secs.saturating_mul(MICROS_PER_SEC))
            .max(min);
        let occupied_end_us = end_us
            .saturating_add(buffer_after_secs.saturating_mul(MICROS_PER_SEC))
            .min(max)
            .max(end_us);
        let created_us = micros_floor(new.created_at);
        let created_at = stored_instant(created_us)?;
        let metadata = match &new.metadata {
            Some(map) => Some(
                serde_json::to_string(map).map_err(|e| Failure::Store(StoreError::backend(e)))?,
            ),
            None => None,
        };
        let booking = Booking {
            id: new.id,
            organizer_id: new.organizer_id,
            attendant_name: new.attendant_name,
            attendant_email: new.attendant_email,
            metadata: new.metadata,
            title: new.title,
            description: new.description,
            time,
            buffer_before: read_secs("buffer_before_secs", buffer_before_secs)?,
            buffer_after: read_secs("buffer_after_secs", buffer_after_secs)?,
            cancel_token_hash: new.cancel_token_hash,
            created_at,
            updated_at: created_at,
            deleted_at: None,
        };
        Ok(BookingInsert {
            start_us,
            end_us,
            buffer_before_secs,
            buffer_after_secs,
            occupied_start_us,
            occupied_end_us,
            created_us,
            metadata,
            booking,
        })
    }
}

/// A `bookings` row as SQLite hands it over, before validation.
pub(crate) struct BookingRow {
    id: String,
    organizer_id: String,
    attendant_name: String,
    attendant_email: String,
    metadata: Option<String>,
    title: String,
    description: Option<String>,
    start_time: i64,
    end_time: i64,
    buffer_before_secs: i64,
    buffer_after_secs: i64,
    cancel_token_hash: String,
    created_at: i64,
    updated_at: i64,
    deleted_at: Option<i64>,
}

impl BookingRow {
    /// Reads the columns of `booking_columns!()` (see `sql`).
    pub(crate) fn read(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(BookingRow {
            id: row.get(0)?,
            organizer_id: row.get(1)?,
            attendant_name: row.get(2)?,
            attendant_email: row.get(3)?,
            metadata: row.get(4)?,
            title: row.get(5)?,
            description: row.get(6)?,
            start_time: row.get(7)?,
            end_time: row.get(8)?,
            buffer_before_secs: row.get(9)?,
            buffer_after_secs: row.get(10)?,
            cancel_token_hash: row.get(11)?,
            created_at: row.get(12)?,
            updated_at: row.get(13)?,
            deleted_at: row.get(14)?,
        })
    }

    /// The domain value; anything that does not parse is [`StoreError::Corrupt`].
    pub(crate) fn into_booking(self) -> Result<Booking, Failure> {
        let metadata = match self.metadata {
            None => None,
            Some(text) => Some(
                serde_json::from_str::<Map<String, Value>>(&text).map_err(|e| {
                    corrupt(format!(
                        "booking {}: metadata is not a JSON object: {e}",
                        self.id
                    ))
                })?,
            ),
        };
        let time = TimeRange::new(
            read_instant("start_time", self.start_time)?,
            read_instant("end_time", self.end_time)?,
        )
        .map_err(|e| corrupt(format!("booking {}: {e}", self.id)))?;
        Ok(Booking {
            id: BookingId::from_str(&self.id).map_err(corrupt)?,
            organizer_id: OrganizerId::from_str(&self.organizer_id).map_err(corrupt)?,
            attendant_name: self.attendant_name,
            attendant_email: self.attendant_email,
            metadata,
            title: self.title,
            description: self.description,
            time,
            buffer_before: read_secs("buffer_before_secs", self.buffer_before_secs)?,
            buffer_after: read_secs("buffer_after_secs", self.buffer_after_secs)?,
            cancel_token_hash: TokenHash::from_hex(&self.cancel_token_hash)
                .map_err(|e| corrupt(format!("booking {}: cancel_token_hash: {e}", self.id)))?,
            created_at: read_instant("created_at", self.created_at)?,
            updated_at: read_instant("updated_at", self.updated_at)?,
            deleted_at: self
                .deleted_at
                .map(|t| read_instant("deleted_at", t))
                .transpose()?,
        })
    }
}

/// Reads an occupied interval from `occupied_start, occupied_end`.
pub(crate) fn read_occupied(start: i64, end: i64) -> Result<TimeRange, Failure> {
    TimeRange::new(
        read_instant("occupied_start", start)?,
        read_instant("occupied_end", end)?,
    )
    .map_err(|e| corrupt(format!("occupied interval: {e}")))
}

/// An `organizers` row before validation.
pub(crate) struct OrganizerRow {
    id: String,
    username: String,
    email: String,
    display_name: String,
    time_zone: String,
    api_token_hash: String,
    created_at: i64,
}

impl OrganizerRow {
    /// Reads the columns of `organizer_columns!()` (see `sql`).
    pub(crate) fn read(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(OrganizerRow {
            id: row.get(0)?,
            username: row.get(1)?,
            email: row.get(2)?,
            display_name: row.get(3)?,
            time_zone: row.get(4)?,
            api_token_hash: row.get(5)?,
            created_at: row.get(6)?,
        })
    }

    /// The domain value; anything that does not parse is [`StoreError::Corrupt`].
    pub(crate) fn into_organizer(self) -> Result<Organizer, Failure> {
        Ok(Organizer {
            id: OrganizerId::from_str(&self.id).map_err(corrupt)?,
            time_zone: parse_zone(&self.time_zone)?,
            api_token_hash: TokenHash::from_hex(&self.api_token_hash)
                .map_err(|e| corrupt(format!("organizer {}: api_token_hash: {e}", self.id)))?,
            created_at: read_instant("created_at", self.created_at)?,
            username: self.username,
            email: self.email,
            display_name: self.display_name,
        })
    }
}

fn parse_zone(name: &str) -> Result<Tz, Failure> {
    name.parse::<Tz>()
        .map_err(|_| corrupt(format!("{name:?} is not an IANA time zone")))
}

/// Settings in stored form, both for writing and for reading back.
pub(crate) struct SettingsRow {
    pub time_zone: String,
    pub weekly_hours: String,
    pub date_overrides: String,
    pub slot_duration_secs: i64,
    pub slot_step_secs: Option<i64>,
    pub buffer_before_secs: i64,
    pub buffer_after_secs: i64,
    pub min_notice_secs: i64,
    pub max_advance_secs: i64,
}

impl SettingsRow {
    /// The stored form of validated settings.
    pub(crate) fn from_settings(settings: &OrganizerSettings) -> Result<Self, StoreError> {
        Ok(SettingsRow {
            time_zone: settings.time_zone().name().to_owned(),
            weekly_hours: serde_json::to_string(settings.weekly_hours())
                .map_err(StoreError::backend)?,
            date_overrides: serde_json::to_string(settings.date_overrides())
                .map_err(StoreError::backend)?,
            slot_duration_secs: setting_secs(settings.slot_duration()),
            slot_step_secs: settings.configured_slot_step().map(setting_secs),
            buffer_before_secs: setting_secs(settings.buffer_before()),
            buffer_after_secs: setting_secs(settings.buffer_after()),
            min_notice_secs: setting_secs(settings.min_notice()),
            max_advance_secs: setting_secs(settings.max_advance()),
        })
    }

    /// Reads the columns of `settings_columns!()` (see `sql`), starting at column `at`.
    pub(crate) fn read(row: &Row<'_>, at: usize) -> rusqlite::Result<Self> {
        Ok(SettingsRow {
            time_zone: row.get(at)?,
            weekly_hours: row.get(at + 1)?,
            date_overrides: row.get(at + 2)?,
            slot_duration_secs: row.get(at + 3)?,
            slot_step_secs: row.get(at + 4)?,
            buffer_before_secs: row.get(at + 5)?,
            buffer_after_secs: row.get(at + 6)?,
            min_notice_secs: row.get(at + 7)?,
            max_advance_secs: row.get(at + 8)?,
        })
    }

    /// Rebuilds validated settings through
    /// `OrganizerSettings::try_from(SettingsDraft)`, so a row that breaks a
    /// rule (edited by hand, or written by a build with other limits) is
    /// reported as [`StoreError::Corrupt`] rather than trusted.
    pub(crate) fn into_settings(self) -> Result<OrganizerSettings, Failure> {
        let weekly_hours: WeeklyHours = serde_json::from_str(&self.weekly_hours)
            .map_err(|e| corrupt(format!("settings weekly_hours: {e}")))?;
        let date_overrides: BTreeMap<NaiveDate, Vec<LocalInterval>> =
            serde_json::from_str(&self.date_overrides)
                .map_err(|e| corrupt(format!("settings date_overrides: {e}")))?;
        let draft = SettingsDraft {
            time_zone: parse_zone(&self.time_zone)?,
            weekly_hours,
            date_overrides,
            slot_duration: read_secs("slot_duration_secs", self.slot_duration_secs)?,
            slot_step: self
                .slot_step_secs
                .map(|s| read_secs("slot_step_secs", s))
                .transpose()?,
            buffer_before: read_secs("buffer_before_secs", self.buffer_before_secs)?,
            buffer_after: read_secs("buffer_after_secs", self.buffer_after_secs)?,
            min_notice: read_secs("min_notice_secs", self.min_notice_secs)?,
            max_advance: read_secs("max_advance_secs", self.max_advance_secs)?,
        };
        OrganizerSettings::try_from(draft).map_err(|e| corrupt(format!("settings: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn rounding_is_outward_and_exact_on_the_microsecond_grid() {
        let t = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap();
        assert_eq!(micros_floor(t), micros_ceil(t));
        let fine = t + Duration::nanoseconds(1);
        assert_eq!(micros_floor(fine), micros_floor(t));
        assert_eq!(micros_ceil(fine), micros_floor(t) + 1);
        let before_epoch =
            Utc.with_ymd_and_hms(1900, 1, 1, 0, 0, 0).unwrap() - Duration::nanoseconds(1500);
        assert_eq!(micros_ceil(before_epoch) - micros_floor(before_epoch), 1);
        assert!(from_micros(micros_floor(before_epoch)).unwrap() <= before_epoch);
        // chrono's whole range fits.
        let (min, max) = micros_bounds();
        assert!(from_micros(min).is_some() && from_micros(max).is_some());
    }

    #[test]
    fn buffers_round_up_and_never_go_negative() {
        assert_eq!(buffer_secs(Duration::minutes(15)), 900);
        assert_eq!(buffer_secs(Duration::milliseconds(1500)), 2);
        assert_eq!(buffer_secs(Duration::minutes(-5)), 0);
        assert_eq!(buffer_secs(Duration::zero()), 0);
    }
}
