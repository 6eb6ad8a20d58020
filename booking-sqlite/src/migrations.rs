//! Embedded schema migrations, applied in order, with SQLite's own
//! `PRAGMA user_version` as the schema level.
//!
//! Why `user_version` rather than a history table or a migration crate: it
//! lives in the database header, costs one integer read on every open, is
//! changed transactionally together with the schema, and is the standard
//! SQLite idiom, so `sqlite3 app.db 'PRAGMA user_version'` tells an operator
//! the level. It also never collides with a host application's own
//! migration table. The price is that the level is a single number, so
//! migrations are strictly linear, which suits a library that ships its
//! schema with its code.
//!
//! Each migration is a plain `.sql` file in `booking-sqlite/migrations/`,
//! compiled in with `include_str!`. A migration, once released, is never
//! edited; changes come as a new file with the next number.

use rusqlite::{Connection, TransactionBehavior};

use crate::error::Error;

/// One step of the schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Migration {
    /// The schema level this migration brings the database to (1, 2, ...).
    pub level: i64,
    /// A short name, the file's name without its number.
    pub name: &'static str,
    /// The SQL, run as one batch.
    pub sql: &'static str,
}

/// Every migration, in order; `MIGRATIONS[i].level == i + 1`.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        level: 1,
        name: "base",
        sql: include_str!("../migrations/0001_base.sql"),
    },
    Migration {
        level: 2,
        name: "active_booking_indexes",
        sql: include_str!("../migrations/0002_active_booking_indexes.sql"),
    },
    Migration {
        level: 3,
        name: "schedules_event_types",
        sql: include_str!("../migrations/0003_schedules_event_types.sql"),
    },
    Migration {
        level: 4,
        name: "lifecycle_outbox",
        sql: include_str!("../migrations/0004_lifecycle_outbox.sql"),
    },
];

/// The schema level this build of the crate writes and expects.
pub const SCHEMA_LEVEL: i64 = MIGRATIONS.len() as i64;

/// The schema level recorded in the database (`PRAGMA user_version`); 0 for
/// a new, empty file.
pub fn schema_level(conn: &Connection) -> Result<i64, rusqlite::Error> {
    conn.query_row("PRAGMA user_version", [], |row| row.get(0))
}

/// Brings the database up to [`SCHEMA_LEVEL`] and returns the level it was
/// at before. [`SqliteStore::migrate`] runs it on the store's writer
/// connection; call it yourself only to migrate a connection you manage.
///
/// All pending migrations run in **one** `BEGIN IMMEDIATE` transaction
/// together with the level update, so a migration that fails leaves the file
/// exactly as it was, and two processes migrating the same old file at once
/// cannot both migrate it: the second waits for the write lock (up to the
/// connection's busy timeout), then re-reads the level inside its own
/// transaction and finds nothing left to do.
///
/// Some steps change a table's definition, which SQLite does by creating the
/// new table, copying the rows, dropping the old one and renaming the new
/// one. That is only safe with foreign key enforcement off (dropping the old
/// `organizers` table would otherwise cascade into every booking), and the
/// setting cannot change inside a transaction: so this function switches
/// `PRAGMA foreign_keys` off for the upgrade, runs `PRAGMA
/// foreign_key_check` before committing (any dangling reference aborts the
/// whole upgrade with [`Error::ForeignKeyViolation`]), and restores the
/// setting the connection had.
///
/// A database at a level newer than this build knows is refused with
/// [`Error::NewerSchema`] and not touched.
///
/// [`SqliteStore::migrate`]: crate::SqliteStore::migrate
pub fn migrate(conn: &mut Connection) -> Result<i64, Error> {
    // Cheap check first, so an up-to-date database is migrated without
    // taking the write lock.
    let seen = schema_level(conn)?;
    if seen == SCHEMA_LEVEL {
        return Ok(seen);
    }
    check_not_newer(seen)?;
    let enforced: bool = conn.query_row("PRAGMA foreign_keys", [], |row| row.get(0))?;
    conn.execute_batch("PRAGMA foreign_keys = OFF")?;
    let result = migrate_unenforced(conn);
    if enforced {
        conn.execute_batch("PRAGMA foreign_keys = ON")?;
    }
    result
}

fn check_not_newer(found: i64) -> Result<(), Error> {
    if found > SCHEMA_LEVEL {
        Err(Error::NewerSchema {
            found,
            supported: SCHEMA_LEVEL,
        })
    } else {
        Ok(())
    }
}

/// The upgrade itself, on a connection with foreign key enforcement off.
fn migrate_unenforced(conn: &mut Connection) -> Result<i64, Error> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let before = schema_level(&tx)?;
    check_not_newer(before)?;
    for migration in MIGRATIONS.iter().filter(|m| m.level > before) {
        tracing::info!(
            level = migration.level,
            name = migration.name,
            "applying booking-sqlite migration"
        );
        tx.execute_batch(migration.sql)?;
    }
    check_foreign_keys(&tx)?;
    tx.pragma_update(None, "user_version", SCHEMA_LEVEL)?;
    tx.commit()?;
    Ok(before)
}

/// Refuses the upgrade if any row refers to a row that does not exist.
fn check_foreign_keys(conn: &Connection) -> Result<(), Error> {
    let mut stmt = conn.prepare("PRAGMA foreign_key_check")?;
    let violations: Vec<(String, Option<i64>, String)> = stmt
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?
        .collect::<Result<_, _>>()?;
    match violations.first() {
        None => Ok(()),
        Some((table, rowid, parent)) => Err(Error::ForeignKeyViolation {
            count: violations.len(),
            table: table.clone(),
            rowid: rowid.unwrap_or_default(),
            parent: parent.clone(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_numbered_from_one_without_gaps() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(
                m.level,
                i as i64 + 1,
                "migration {} is out of order",
                m.name
            );
        }
    }

    #[test]
    fn migrating_twice_is_a_no_op_and_a_newer_file_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        assert_eq!(migrate(&mut conn).unwrap(), 0);
        assert_eq!(schema_level(&conn).unwrap(), SCHEMA_LEVEL);
        assert_eq!(migrate(&mut conn).unwrap(), SCHEMA_LEVEL);

        conn.pragma_update(None, "user_version", SCHEMA_LEVEL + 1)
            .unwrap();
        let err = migrate(&mut conn).unwrap_err();
        assert!(
            matches!(err, Error::NewerSchema { found, .. } if found == SCHEMA_LEVEL + 1),
            "{err}"
        );
    }

    #[test]
    fn a_failing_migration_leaves_nothing_behind() {
        let mut conn = Connection::open_in_memory().unwrap();
        // A table the base migration also creates makes it fail half-way.
        conn.execute_batch("CREATE TABLE bookings (x INTEGER)")
            .unwrap();
        assert!(migrate(&mut conn).is_err());
        assert_eq!(schema_level(&conn).unwrap(), 0);
        let tables: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM sqlite_schema WHERE name = 'organizers'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(
            tables, 0,
            "the organizers table created before the failure was rolled back"
        );
    }
}
