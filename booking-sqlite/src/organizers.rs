//! Organizers: their rows, registration with case-insensitive usernames,
//! and the lookups by id, username and token hash.
//!
//! A username's key is its ASCII-lowercased spelling, unique across
//! organizers, so `ADA` cannot register after `ada`. Databases upgraded from
//! level 2 may hold legacy case-duplicates; the migration gave the later ones
//! the key `lower(username) || '#' || id`, so they stay reachable by their
//! exact spelling, and a lookup prefers the exact spelling before the key.

use booking_core::organizer::{NewOrganizer, Organizer, OrganizerId, OrganizerRef};
use booking_core::secret::TokenHash;
use booking_core::store::StoreError;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension as _, Row, params};

use crate::convert::{
    micros_floor, parse_text, parse_zone, read_instant, read_unsigned, stored_instant,
};
use crate::error::{Failure, corrupt};
use crate::sql;

/// The key that makes usernames unique regardless of ASCII case.
pub(crate) fn username_key(username: &str) -> String {
    username.to_ascii_lowercase()
}

/// An `organizers` row before validation, with the configuration version.
pub(crate) struct OrganizerRow {
    id: String,
    username: String,
    email: String,
    display_name: String,
    time_zone: String,
    api_token_hash: String,
    created_at: i64,
    config_version: i64,
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
            config_version: row.get(7)?,
        })
    }

    /// The organizer and their configuration version; anything that does not
    /// parse is [`StoreError::Corrupt`].
    pub(crate) fn into_parts(self) -> Result<(Organizer, u64), Failure> {
        let version = read_unsigned("config_version", self.config_version)?;
        let organizer = Organizer {
            id: parse_text("organizers.id", &self.id)?,
            time_zone: parse_zone(&self.time_zone)?,
            api_token_hash: TokenHash::from_hex(&self.api_token_hash)
                .map_err(|e| corrupt(format!("organizer {}: api_token_hash: {e}", self.id)))?,
            created_at: read_instant("created_at", self.created_at)?,
            username: self.username,
            email: self.email,
            display_name: self.display_name,
        };
        Ok((organizer, version))
    }
}

/// The organizer and configuration version found by one of the
/// `sql::ORGANIZER_BY_*` lookups.
fn organizer_where(
    conn: &Connection,
    query: &str,
    params: impl rusqlite::Params,
) -> Result<Option<(Organizer, u64)>, Failure> {
    conn.prepare_cached(query)?
        .query_row(params, OrganizerRow::read)
        .optional()?
        .map(OrganizerRow::into_parts)
        .transpose()
}

/// The organizer named by `organizer`, with their configuration version.
pub(crate) fn find(
    conn: &Connection,
    organizer: &OrganizerRef,
) -> Result<Option<(Organizer, u64)>, Failure> {
    match organizer {
        OrganizerRef::Id(id) => by_id(conn, *id),
        OrganizerRef::Username(name) => by_username(conn, name),
    }
}

pub(crate) fn by_id(
    conn: &Connection,
    id: OrganizerId,
) -> Result<Option<(Organizer, u64)>, Failure> {
    organizer_where(conn, sql::ORGANIZER_BY_ID, [id.to_string()])
}

pub(crate) fn by_username(
    conn: &Connection,
    username: &str,
) -> Result<Option<(Organizer, u64)>, Failure> {
    organizer_where(
        conn,
        sql::ORGANIZER_BY_USERNAME,
        params![username, username_key(username)],
    )
}

pub(crate) fn by_token_hash(
    conn: &Connection,
    hash: &TokenHash,
) -> Result<Option<(Organizer, u64)>, Failure> {
    organizer_where(conn, sql::ORGANIZER_BY_TOKEN_HASH, [hash.to_hex()])
}

/// The organizer's configuration version; `None` for an unknown organizer.
pub(crate) fn config_version(conn: &Connection, id: OrganizerId) -> Result<Option<u64>, Failure> {
    conn.prepare_cached(sql::CONFIG_VERSION)?
        .query_row([id.to_string()], |row| row.get::<_, i64>(0))
        .optional()?
        .map(|v| read_unsigned("config_version", v))
        .transpose()
}

/// Registers an organizer, inside the caller's write transaction: the
/// username key is checked under the same write lock it is inserted under.
pub(crate) fn create(
    conn: &Connection,
    id: OrganizerId,
    new: NewOrganizer,
    api_token_hash: TokenHash,
    created_at: DateTime<Utc>,
) -> Result<Organizer, Failure> {
    let key = username_key(&new.username);
    let taken: bool = conn
        .prepare_cached(sql::USERNAME_KEY_TAKEN)?
        .query_row([&key], |row| row.get(0))?;
    if taken {
        return Err(StoreError::UsernameTaken(new.username).into());
    }
    let created_us = micros_floor(created_at);
    let created_at = stored_instant(created_us)?;
    conn.prepare_cached(sql::INSERT_ORGANIZER)?
        .execute(params![
            id.to_string(),
            new.username,
            key,
            new.email,
            new.display_name,
            new.time_zone.name(),
            api_token_hash.to_hex(),
            created_us,
        ])?;
    Ok(Organizer::from_new(id, new, api_token_hash, created_at))
}

/// Replaces the organizer's API token hash (token rotation), inside the
/// caller's write transaction.
pub(crate) fn set_api_token_hash(
    tx: &Connection,
    id: OrganizerId,
    hash: TokenHash,
) -> Result<(), Failure> {
    let changed = tx
        .prepare_cached(sql::SET_API_TOKEN_HASH)?
        .execute(params![id.to_string(), hash.to_hex()])?;
    if changed == 0 {
        return Err(StoreError::OrganizerNotFound(id).into());
    }
    Ok(())
}
