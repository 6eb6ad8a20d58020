//! The table layout: one table each (the default), or `bookings` and
//! `idempotency_keys` hash-partitioned by `organizer_id`, chosen with
//! [`MigrateOptions`] when migrating. See the crate docs ("Partitioned
//! layout").

use sqlx::postgres::{PgConnection, PgRow};
use sqlx::{AssertSqlSafe, Row};

use crate::{Error, PostgresStore, sql};

/// The most partitions [`MigrateOptions::partitions`] accepts.
pub const MAX_PARTITIONS: u16 = 1024;

/// The tables the partitioned layout partitions, in the order they are
/// converted: the per-organizer tables of the hot path. Every other table
/// stays one table (see the crate docs for why).
pub const PARTITIONED_TABLES: [&str; 2] = ["bookings", "idempotency_keys"];

/// How the per-organizer tables of the hot path ([`PARTITIONED_TABLES`])
/// are laid out, as [`PostgresStore::layout`] finds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Layout {
    /// One plain table each, with the exclusion constraint
    /// `bookings_no_overlap` on `bookings`: the default.
    Single,
    /// Hash-partitioned by `organizer_id` into `partitions` partitions
    /// (`bookings_p0`, `bookings_p1`, ...), each partition of `bookings`
    /// with its own exclusion constraint (`bookings_p0_no_overlap`, ...).
    HashPartitioned {
        /// How many partitions each table has.
        partitions: u16,
    },
}

/// How [`PostgresStore::migrate_with`] migrates. The default keeps the
/// layout the database has (a fresh schema gets [`Layout::Single`]), which
/// is what [`PostgresStore::migrate`] does:
///
/// ```
/// use booking_postgres::MigrateOptions;
///
/// let options = MigrateOptions::default().partitions(8);
/// assert_eq!(options.partitions, Some(8));
/// assert_eq!(MigrateOptions::default().partitions, None);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct MigrateOptions {
    /// `None` (the default): the layout stays as it is. `Some(n)`: after the
    /// migrations, the tables are hash-partitioned into `n` partitions
    /// (1 to [`MAX_PARTITIONS`]); unpartitioned tables are converted, data
    /// included, and tables already partitioned into `n` are left alone.
    /// Tables partitioned into another number are
    /// [`Error::PartitionCountMismatch`]: the number cannot change.
    pub partitions: Option<u16>,
}

impl MigrateOptions {
    /// Sets [`partitions`](Self::partitions).
    pub fn partitions(mut self, partitions: u16) -> Self {
        self.partitions = Some(partitions);
        self
    }
}

/// `table`'s kind (`r` plain, `p` partitioned) and partition count, in the
/// connection's `search_path`; no row when it does not exist.
const LAYOUT_OF: &str = "\
    SELECT c.relkind::text AS kind, \
        (SELECT count(*) FROM pg_inherits i WHERE i.inhparent = c.oid) AS partitions \
    FROM pg_class c WHERE c.oid = to_regclass($1)";

/// Serializes layout changes of one schema across processes (the lock ends
/// with the transaction).
const LAYOUT_LOCK: &str =
    "SELECT pg_advisory_xact_lock(hashtext('booking-postgres layout'), hashtext(current_schema()))";

/// Waits for every statement on the tables to finish and keeps new ones
/// out until the conversion commits.
const LOCK_TABLES: &str = "LOCK TABLE bookings, idempotency_keys IN ACCESS EXCLUSIVE MODE";

/// The layout of `table`, `None` when it does not exist. (On a connection
/// rather than any executor: a generic executor would make the futures
/// that call it not `Send`, a known limit of rustc's lifetime inference.)
async fn layout_of(conn: &mut PgConnection, table: &str) -> Result<Option<Layout>, Error> {
    let row: Option<PgRow> = sqlx::query(LAYOUT_OF)
        .bind(table)
        .fetch_optional(conn)
        .await
        .map_err(|source| Error::Layout { source })?;
    let Some(row) = row else {
        return Ok(None);
    };
    let kind: String = row
        .try_get("kind")
        .map_err(|source| Error::Layout { source })?;
    let partitions: i64 = row
        .try_get("partitions")
        .map_err(|source| Error::Layout { source })?;
    Ok(Some(if kind == "p" {
        Layout::HashPartitioned {
            // More than u16::MAX partitions were not made by this crate.
            partitions: u16::try_from(partitions).unwrap_or(u16::MAX),
        }
    } else {
        Layout::Single
    }))
}

/// What to do with `table`, found in `found`, to get `partitions`: `true`
/// to convert it, `false` when it already is so.
fn needs_conversion(table: &str, found: Option<Layout>, partitions: u16) -> Result<bool, Error> {
    match found {
        Some(Layout::HashPartitioned { partitions: n }) if n == partitions => Ok(false),
        Some(Layout::HashPartitioned { partitions: found }) => Err(Error::PartitionCountMismatch {
            table: table.to_owned(),
            found,
            requested: partitions,
        }),
        Some(Layout::Single) => Ok(true),
        None => Err(Error::MissingTable {
            table: table.to_owned(),
        }),
    }
}

impl PostgresStore {
    /// Migrates as [`migrate`](Self::migrate) does, then applies `options`:
    /// with [`MigrateOptions::partitions`], `bookings` and
    /// `idempotency_keys` end up hash-partitioned by `organizer_id` (see the
    /// crate docs, "Partitioned layout"). Converting existing tables copies
    /// their rows in one transaction under an `ACCESS EXCLUSIVE` lock, so
    /// every read and write of bookings waits until it commits; running
    /// store processes keep working afterwards (no statement differs
    /// between the layouts). Safe to call from many processes at once.
    pub async fn migrate_with(&self, options: MigrateOptions) -> Result<(), Error> {
        let Some(partitions) = options.partitions else {
            return self.migrate().await;
        };
        if !(1..=MAX_PARTITIONS).contains(&partitions) {
            return Err(Error::InvalidPartitions { partitions });
        }
        self.migrate().await?;
        let layout_error = |source| Error::Layout { source };
        // Already so (every start-up after the first): no lock at all.
        let mut conn = self.pool.acquire().await.map_err(layout_error)?;
        let mut done = true;
        for table in PARTITIONED_TABLES {
            done &= !needs_conversion(table, layout_of(&mut conn, table).await?, partitions)?;
        }
        drop(conn);
        if done {
            return Ok(());
        }
        let mut tx = self
            .pool
            .begin_with(sql::BEGIN)
            .await
            .map_err(layout_error)?;
        sqlx::query(LAYOUT_LOCK)
            .execute(&mut *tx)
            .await
            .map_err(layout_error)?;
        sqlx::query(LOCK_TABLES)
            .execute(&mut *tx)
            .await
            .map_err(layout_error)?;
        // Looked at again under the locks: another process may have
        // converted them meanwhile.
        for table in PARTITIONED_TABLES {
            if needs_conversion(table, layout_of(&mut tx, table).await?, partitions)? {
                sqlx::raw_sql(AssertSqlSafe(conversion(table, partitions)))
                    .execute(&mut *tx)
                    .await
                    .map_err(layout_error)?;
            }
        }
        tx.commit().await.map_err(layout_error)
    }

    /// The layout of the schema in the connection's `search_path`, as
    /// `bookings` has it; `None` before the first migration.
    pub async fn layout(&self) -> Result<Option<Layout>, Error> {
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(|source| Error::Layout { source })?;
        layout_of(&mut conn, "bookings").await
    }
}

/// The script that converts the plain `table` into `partitions` hash
/// partitions, data included. The columns (with their defaults, NOT NULLs,
/// CHECKs and comments) come from the table itself (`LIKE`), so columns
/// added by later migrations come along; keys, foreign keys and indexes are
/// those of the migrations, re-declared for a partitioned table (the
/// tests compare both layouts' catalogs, so a migration that adds one
/// without adding it here fails them).
fn conversion(table: &str, partitions: u16) -> String {
    let old = format!("{table}_unpartitioned");
    // The old table's indexes (and with them its key and constraint
    // names) are renamed out of the way: index names are unique per schema.
    let mut script = format!(
        "ALTER TABLE {table} RENAME TO {old};
        DO $rename$ DECLARE r record; BEGIN
            FOR r IN SELECT n.nspname, c.relname FROM pg_index i
                JOIN pg_class c ON c.oid = i.indexrelid
                JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE i.indrelid = '{old}'::regclass
            LOOP
                EXECUTE format('ALTER INDEX %I.%I RENAME TO %I', r.nspname, r.relname,
                    left(r.relname, 40) || '_unpartitioned');
            END LOOP;
        END $rename$;
        CREATE TABLE {table} (LIKE {old} INCLUDING DEFAULTS INCLUDING CONSTRAINTS
            INCLUDING COMMENTS INCLUDING STORAGE INCLUDING COMPRESSION)
            PARTITION BY HASH (organizer_id);
        "
    );
    script.push_str(match table {
        "bookings" => BOOKINGS_KEYS,
        _ => IDEMPOTENCY_KEYS_KEYS,
    });
    for remainder in 0..partitions {
        let partition = format!("{table}_p{remainder}");
        script.push_str(&format!(
            "CREATE TABLE {partition} PARTITION OF {table} \
                FOR VALUES WITH (MODULUS {partitions}, REMAINDER {remainder});\n"
        ));
        if table == "bookings" {
            script.push_str(&format!(
                "ALTER TABLE {partition} ADD CONSTRAINT {partition}_no_overlap {NO_OVERLAP};\n"
            ));
        }
    }
    script.push_str(&format!(
        "INSERT INTO {table} SELECT * FROM {old};\nDROP TABLE {old};\n"
    ));
    script
}

/// The exclusion constraint of every partition of `bookings`: the
/// definition of `bookings_no_overlap` (migration 0001). One organizer's
/// rows all hash to one partition, so one constraint per partition keeps
/// them apart exactly as the single table's does.
const NO_OVERLAP: &str = "EXCLUDE USING gist ( \
        organizer_id WITH =, \
        tstzrange(occupied_start, occupied_end, '[)') WITH && \
    ) WHERE (deleted_at IS NULL)";

/// The keys and indexes of `bookings` (migrations 0001 to 0003), the
/// primary key widened to include the partition key, plus an index on
/// `id` alone for the lookups by id alone (a booking, a hold's release).
const BOOKINGS_KEYS: &str = "
    ALTER TABLE bookings
        ADD CONSTRAINT bookings_pkey PRIMARY KEY (organizer_id, id),
        ADD CONSTRAINT bookings_organizer_id_fkey FOREIGN KEY (organizer_id)
            REFERENCES organizers (id) ON DELETE CASCADE,
        ADD CONSTRAINT bookings_event_type_fkey FOREIGN KEY (organizer_id, event_type_id)
            REFERENCES event_types (organizer_id, id) ON DELETE SET NULL (event_type_id);
    CREATE INDEX bookings_id_idx ON bookings (id);
    CREATE INDEX bookings_organizer_id_idx ON bookings (organizer_id);
    CREATE INDEX bookings_organizer_start_time_idx ON bookings (organizer_id, start_time);
    CREATE INDEX bookings_event_type_start_idx ON bookings (organizer_id, event_type_id, start_time);
    CREATE INDEX bookings_hold_token_idx ON bookings (cancel_token_hash) WHERE status = 'held';
    CREATE INDEX bookings_hold_client_idx ON bookings (organizer_id, hold_client)
        WHERE status = 'held' AND deleted_at IS NULL;
    CREATE INDEX bookings_hold_expiry_idx ON bookings (hold_expires_at) WHERE status = 'held';
";

/// The keys and indexes of `idempotency_keys` (migration 0003), whose
/// primary key already starts with the partition key.
const IDEMPOTENCY_KEYS_KEYS: &str = "
    ALTER TABLE idempotency_keys
        ADD CONSTRAINT idempotency_keys_pkey PRIMARY KEY (organizer_id, operation, key_hash),
        ADD CONSTRAINT idempotency_keys_organizer_id_fkey FOREIGN KEY (organizer_id)
            REFERENCES organizers (id) ON DELETE CASCADE;
    CREATE INDEX idempotency_keys_expiry_idx ON idempotency_keys (expires_at);
";
