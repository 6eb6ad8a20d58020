//! `booking_context`: everything one booking decision or slot list needs,
//! read in one blocking call and one read snapshot.

use booking_core::store::{BookingContext, ContextQuery};
use rusqlite::Connection;

use crate::error::Failure;
use crate::{config, occupancy, organizers};

/// Organizer (by id or username) and configuration version, the event type
/// by slug, its schedule (own or default), the organizer's occupied
/// intervals (bookings and holds unexpired at the query's `now`), and, when
/// the event type has limits, its counted starts (holds included). Run
/// inside one read transaction, so all of it is one committed state.
pub(crate) fn read(
    conn: &Connection,
    query: &ContextQuery,
) -> Result<Option<BookingContext>, Failure> {
    let Some((organizer, config_version)) = organizers::find(conn, &query.organizer)? else {
        return Ok(None);
    };
    let event_type = config::event_type_by_slug(conn, organizer.id, &query.event_type)?;
    let schedule = match &event_type {
        Some(e) => config::schedule_of(conn, organizer.id, e.schedule_id)?,
        None => None,
    };
    let occupied = occupancy::occupied(conn, organizer.id, query.occupied_within, query.now)?;
    let booked = match &event_type {
        Some(e) if e.limits.any() => occupancy::booked_starts(
            conn,
            organizer.id,
            &e.id.to_string(),
            query.counted_within,
            query.now,
        )?,
        _ => Vec::new(),
    };
    Ok(Some(BookingContext {
        organizer,
        config_version,
        event_type,
        schedule,
        occupied,
        booked,
    }))
}
