//! Domain values as the column values the statements of [`sql`](crate::sql)
//! bind: the booking window spread over its columns, limits as integers,
//! weekdays as ISO day numbers, JSON in booking-core's serde shape.

use booking_core::event_type::{BookingLimits, BookingWindow, EventType};
use booking_core::store::StoreError;
use chrono::{Duration, NaiveDate, Weekday};

/// The columns of an event type that are not one of its fields as is.
#[derive(Debug)]
pub(crate) struct EventTypeColumns {
    pub window: WindowColumns,
    pub limit_per_day: Option<i32>,
    pub limit_per_week: Option<i32>,
    pub limit_week_starts_on: i16,
}

/// Encodes before any statement runs, so a value the columns cannot hold
/// is refused without touching the database.
pub(crate) fn event_type(event_type: &EventType) -> Result<EventTypeColumns, StoreError> {
    let (limit_per_day, limit_per_week, limit_week_starts_on) = limits(&event_type.limits)?;
    Ok(EventTypeColumns {
        window: window(&event_type.booking_window)?,
        limit_per_day,
        limit_per_week,
        limit_week_starts_on,
    })
}

/// A [`BookingWindow`] over the `booking_window_*` columns: the kind and the
/// one or two columns that kind uses.
#[derive(Debug, Default)]
pub(crate) struct WindowColumns {
    pub kind: &'static str,
    pub horizon: Option<Duration>,
    pub days: Option<i32>,
    pub first: Option<NaiveDate>,
    pub last: Option<NaiveDate>,
}

fn window(window: &BookingWindow) -> Result<WindowColumns, StoreError> {
    match *window {
        BookingWindow::Rolling { horizon } => Ok(WindowColumns {
            kind: "rolling",
            horizon: Some(horizon),
            ..WindowColumns::default()
        }),
        BookingWindow::RollingBusinessDays { days } => Ok(WindowColumns {
            kind: "rolling_business_days",
            days: Some(count(days, "a number of business days")?),
            ..WindowColumns::default()
        }),
        BookingWindow::Range { first, last } => Ok(WindowColumns {
            kind: "range",
            first: Some(first),
            last: Some(last),
            ..WindowColumns::default()
        }),
        // A kind added to core later than this crate knows of.
        _ => Err(StoreError::backend(format!(
            "booking-postgres cannot store the booking window {window:?}"
        ))),
    }
}

/// [`BookingLimits`] as `limit_per_day`, `limit_per_week` and
/// `limit_week_starts_on`.
pub(crate) fn limits(
    limits: &BookingLimits,
) -> Result<(Option<i32>, Option<i32>, i16), StoreError> {
    Ok((
        limits
            .per_day
            .map(|v| count(v, "a per-day limit"))
            .transpose()?,
        limits
            .per_week
            .map(|v| count(v, "a per-week limit"))
            .transpose()?,
        iso_day(limits.week_starts_on),
    ))
}

/// The ISO number of `day`: 1 for Monday to 7 for Sunday.
fn iso_day(day: Weekday) -> i16 {
    match day {
        Weekday::Mon => 1,
        Weekday::Tue => 2,
        Weekday::Wed => 3,
        Weekday::Thu => 4,
        Weekday::Fri => 5,
        Weekday::Sat => 6,
        Weekday::Sun => 7,
    }
}

/// A count as PostgreSQL's `integer`.
fn count(value: u32, what: &str) -> Result<i32, StoreError> {
    i32::try_from(value).map_err(|_| {
        StoreError::backend(format!("{what} of {value} does not fit an integer column"))
    })
}
