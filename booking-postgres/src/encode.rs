//! Domain values as the column values the statements of [`sql`](crate::sql)
//! bind: the booking window spread over its columns, limits as integers and
//! arrays, weekdays as ISO day numbers, JSON in booking-core's serde shape,
//! instants rounded to what `timestamptz` keeps, events as their columns.

use booking_core::booking::LimitCheck;
use booking_core::event::EventRecord;
use booking_core::event_type::{BookingLimits, BookingWindow, EventType};
use booking_core::store::StoreError;
use booking_core::time::TimeRange;
use chrono::{DateTime, Duration, NaiveDate, Utc, Weekday};
use sqlx::Postgres;
use sqlx::postgres::PgArguments;
use sqlx::query::Query;

/// `timestamptz` keeps microseconds.
const STORAGE_PRECISION: Duration = Duration::microseconds(1);

/// `range` as stored: rounded outward to the microsecond (sqlx would
/// truncate finer instants), so a stored range always encloses the one
/// asked for and truncation can never hide an overlap.
pub(crate) fn stored(range: TimeRange) -> TimeRange {
    range.rounded_outward(STORAGE_PRECISION)
}

/// An expiry as stored: rounded up to the microsecond, so what is held is
/// never released early by truncation.
pub(crate) fn expiry(at: DateTime<Utc>) -> DateTime<Utc> {
    use chrono::DurationRound as _;
    match at.duration_trunc(STORAGE_PRECISION) {
        Ok(down) if down < at => down.checked_add_signed(STORAGE_PRECISION).unwrap_or(at),
        _ => at,
    }
}

/// Limit checks as the three parallel arrays the statements unnest: range
/// starts, range ends, maxima.
pub(crate) fn limit_arrays(
    limits: &[LimitCheck],
) -> (Vec<DateTime<Utc>>, Vec<DateTime<Utc>>, Vec<i64>) {
    let mut from = Vec::with_capacity(limits.len());
    let mut before = Vec::with_capacity(limits.len());
    let mut max = Vec::with_capacity(limits.len());
    for check in limits {
        from.push(check.starts_within.start());
        before.push(check.starts_within.end());
        max.push(i64::from(check.max));
    }
    (from, before, max)
}

/// An event's six columns of `booking_events`: id, organizer, booking,
/// kind, instant, payload.
#[derive(Debug)]
pub(crate) struct EventColumns {
    pub id: String,
    pub organizer_id: String,
    pub booking_id: String,
    pub kind: &'static str,
    pub occurred_at: DateTime<Utc>,
    pub payload: String,
}

/// [`EventColumns`] as six nullable values, as the statements bind them.
pub(crate) type NullableEvent = (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<&'static str>,
    Option<DateTime<Utc>>,
    Option<String>,
);

impl EventColumns {
    /// The six columns of `event`, all `None` for none.
    pub(crate) fn split(event: Option<Self>) -> NullableEvent {
        match event {
            Some(e) => (
                Some(e.id),
                Some(e.organizer_id),
                Some(e.booking_id),
                Some(e.kind),
                Some(e.occurred_at),
                Some(e.payload),
            ),
            None => (None, None, None, None, None, None),
        }
    }

    pub(crate) fn of(event: &EventRecord) -> Self {
        EventColumns {
            id: event.id.to_string(),
            organizer_id: event.organizer_id.to_string(),
            booking_id: event.booking_id.to_string(),
            kind: event.kind.name(),
            occurred_at: event.occurred_at,
            payload: event.payload.clone(),
        }
    }
}

/// Binds an optional event's six columns ([`EventColumns`]), all NULL for
/// none: the statements write the event only when its id is not NULL.
pub(crate) fn bind_event<'q>(
    query: Query<'q, Postgres, PgArguments>,
    event: Option<&EventRecord>,
) -> Query<'q, Postgres, PgArguments> {
    bind_event_columns(query, event.map(EventColumns::of))
}

/// [`bind_event`] for columns already encoded.
pub(crate) fn bind_event_columns<'q>(
    query: Query<'q, Postgres, PgArguments>,
    event: Option<EventColumns>,
) -> Query<'q, Postgres, PgArguments> {
    let (id, organizer_id, booking_id, kind, occurred_at, payload) = EventColumns::split(event);
    query
        .bind(id)
        .bind(organizer_id)
        .bind(booking_id)
        .bind(kind)
        .bind(occurred_at)
        .bind(payload)
}

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
        _ => Err(StoreError::Unstorable(format!(
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
        StoreError::Unstorable(format!("{what} of {value} does not fit an integer column"))
    })
}
