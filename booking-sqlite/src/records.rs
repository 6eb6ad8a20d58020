//! Records: an organizer's satellite data (sessions, webhook endpoints,
//! ...) in one table and one shape, `data` opaque. The lookup key is unique
//! within its kind (`UNIQUE (kind, lookup)`): a record whose key another
//! record of the kind already has is refused as
//! [`StoreError::Conflict`].
//! Expired records are ignored by the reads that take a `now`.

use booking_core::organizer::OrganizerId;
use booking_core::record::Record;
use booking_core::store::StoreError;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension as _, Row, params};

use crate::convert::{micros_floor, parse_text, read_instant};
use crate::error::{Broken, Failure, broken_constraint};
use crate::sql;

/// Inserts or replaces the record of its kind and id, inside the caller's
/// write transaction; a record of an unknown organizer is
/// [`StoreError::OrganizerNotFound`].
pub(crate) fn put(tx: &Connection, record: Record) -> Result<(), Failure> {
    let organizer = record.organizer_id;
    tx.prepare_cached(sql::UPSERT_RECORD)?
        .execute(params![
            record.kind,
            record.id,
            record.organizer_id.to_string(),
            record.lookup,
            record.data,
            micros_floor(record.created_at),
            record.expires_at.map(micros_floor),
        ])
        .map_err(|e| match broken_constraint(&e) {
            Some(Broken::Unique) => StoreError::Conflict.into(),
            Some(Broken::ForeignKey) => StoreError::OrganizerNotFound(organizer).into(),
            None => Failure::from(e),
        })?;
    Ok(())
}

/// The record of this kind and id, expired or not.
pub(crate) fn by_id(conn: &Connection, kind: &str, id: &str) -> Result<Option<Record>, Failure> {
    conn.prepare_cached(sql::RECORD_BY_ID)?
        .query_row(params![kind, id], RecordRow::read)
        .optional()?
        .map(RecordRow::into_record)
        .transpose()
}

/// The record of this kind with this lookup key, unless expired at `now`.
pub(crate) fn by_lookup(
    conn: &Connection,
    kind: &str,
    lookup: &str,
    now: DateTime<Utc>,
) -> Result<Option<Record>, Failure> {
    conn.prepare_cached(sql::RECORD_BY_LOOKUP)?
        .query_row(params![kind, lookup, micros_floor(now)], RecordRow::read)
        .optional()?
        .map(RecordRow::into_record)
        .transpose()
}

/// The organizer's records of this kind not expired at `now`, oldest first.
pub(crate) fn of_organizer(
    conn: &Connection,
    organizer: OrganizerId,
    kind: &str,
    now: DateTime<Utc>,
) -> Result<Vec<Record>, Failure> {
    let mut stmt = conn.prepare_cached(sql::RECORDS_OF)?;
    let rows = stmt.query_map(
        params![organizer.to_string(), kind, micros_floor(now)],
        RecordRow::read,
    )?;
    rows.map(|row| row?.into_record()).collect()
}

/// Deletes the record; whether there was one.
pub(crate) fn delete(tx: &Connection, kind: &str, id: &str) -> Result<bool, Failure> {
    Ok(tx
        .prepare_cached(sql::DELETE_RECORD)?
        .execute(params![kind, id])?
        > 0)
}

/// A `records` row, before validation.
struct RecordRow {
    kind: String,
    id: String,
    organizer_id: String,
    lookup: Option<String>,
    data: String,
    created_at: i64,
    expires_at: Option<i64>,
}

impl RecordRow {
    /// Reads the columns of `record_columns!()` (see `sql`).
    fn read(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(RecordRow {
            kind: row.get(0)?,
            id: row.get(1)?,
            organizer_id: row.get(2)?,
            lookup: row.get(3)?,
            data: row.get(4)?,
            created_at: row.get(5)?,
            expires_at: row.get(6)?,
        })
    }

    fn into_record(self) -> Result<Record, Failure> {
        Ok(Record {
            organizer_id: parse_text("records.organizer_id", &self.organizer_id)?,
            created_at: read_instant("records.created_at", self.created_at)?,
            expires_at: self
                .expires_at
                .map(|t| read_instant("records.expires_at", t))
                .transpose()?,
            kind: self.kind,
            id: self.id,
            lookup: self.lookup,
            data: self.data,
        })
    }
}
