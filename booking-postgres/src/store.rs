//! [`PostgresStore`]: the queries, and how driver errors map to domain errors.

use async_trait::async_trait;
use booking_core::booking::{Booking, BookingId, NewBooking};
use booking_core::organizer::{NewOrganizer, Organizer, OrganizerId, OrganizerSettings};
use booking_core::secret::TokenHash;
use booking_core::store::{BookingContext, BookingPage, BookingQuery, BookingStore, StoreError};
use booking_core::time::TimeRange;
use chrono::{DateTime, Utc};
use sqlx::error::ErrorKind;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgPool, PgPoolOptions, PgRow};
use sqlx::types::Json;

use crate::constraints;
use crate::decode;

/// The table in which this crate's migrations record what they applied,
/// instead of sqlx's default `_sqlx_migrations`: an application embedding this
/// store in its own database keeps its own sqlx migration history untouched.
pub const MIGRATIONS_TABLE: &str = "booking_postgres_migrations";

/// The embedded migrations (the `.sql` files in this crate's `migrations/`
/// folder), set to record their history in [`MIGRATIONS_TABLE`]. Use it to
/// inspect or run them yourself; [`migrate`] runs them.
pub fn migrator() -> Migrator {
    let mut migrator = sqlx::migrate!("./migrations");
    migrator.dangerous_set_table_name(MIGRATIONS_TABLE);
    migrator
}

/// Brings the schema in the connection's `search_path` up to date.
///
/// Safe to call from many processes at once: sqlx serializes migrations of
/// one database with an advisory lock. Call it once at start-up, before
/// serving; the store never migrates on its own, so the application stays in
/// charge of when its database changes.
pub async fn migrate(pool: &PgPool) -> Result<(), StoreError> {
    let mut conn = pool.acquire().await.map_err(StoreError::backend)?;
    let result = migrator().run(&mut *conn).await;
    if result.is_err() {
        // sqlx does not release its session-level advisory lock when a
        // migration fails; closing the connection does, so later migrations
        // elsewhere are not left waiting.
        conn.close_on_drop();
    }
    result.map_err(StoreError::backend)
}

/// A [`BookingStore`] on PostgreSQL. Cheap to clone (it is a pool handle).
///
/// See the [crate documentation](crate) for the schema and the guarantee.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// A store over a pool the caller configured (size, timeouts,
    /// `search_path`, TLS). Nothing is checked or migrated here.
    pub fn new(pool: PgPool) -> Self {
        PostgresStore { pool }
    }

    /// Connects a pool of up to 10 connections to `url`, such as
    /// `postgres://postgres@127.0.0.1:5432/postgres`. Fails if the server
    /// cannot be reached within 5 seconds (also the longest a query waits for
    /// a free connection); pass your own pool to [`new`](Self::new) to choose
    /// other limits.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(10)
            .acquire_timeout(std::time::Duration::from_secs(5))
            .connect(url)
            .await
            .map_err(StoreError::backend)?;
        Ok(PostgresStore { pool })
    }

    /// Applies the embedded migrations; see [`migrate`].
    pub async fn migrate(&self) -> Result<(), StoreError> {
        migrate(&self.pool).await
    }

    /// The pool, for the application's own queries or health checks.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

/// Every column a booking is read from, in the order of the table.
macro_rules! booking_columns {
    () => {
        "id, organizer_id, attendant_name, attendant_email, metadata, title, description, \
         start_time, end_time, created_at, updated_at, deleted_at, \
         buffer_before, buffer_after, cancel_token_hash"
    };
}

/// Every column an organizer is read from.
macro_rules! organizer_columns {
    () => {
        "id, username, email, display_name, time_zone, api_token_hash, created_at"
    };
}

const INSERT_ORGANIZER: &str = concat!(
    "INSERT INTO organizers (id, username, email, display_name, time_zone, api_token_hash, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7) \
     RETURNING ",
    organizer_columns!()
);

const ORGANIZER_BY_ID: &str = concat!(
    "SELECT ",
    organizer_columns!(),
    " FROM organizers WHERE id = $1"
);
const ORGANIZER_BY_USERNAME: &str = concat!(
    "SELECT ",
    organizer_columns!(),
    " FROM organizers WHERE username = $1"
);
const ORGANIZER_BY_TOKEN_HASH: &str = concat!(
    "SELECT ",
    organizer_columns!(),
    " FROM organizers WHERE api_token_hash = $1"
);

const PUT_SETTINGS: &str = "\
    INSERT INTO organizer_settings (organizer_id, time_zone, weekly_hours, date_overrides, slot_duration, \
        slot_step, buffer_before, buffer_after, min_notice, max_advance, updated_at) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, now()) \
    ON CONFLICT (organizer_id) DO UPDATE SET \
        time_zone = EXCLUDED.time_zone, weekly_hours = EXCLUDED.weekly_hours, \
        date_overrides = EXCLUDED.date_overrides, slot_duration = EXCLUDED.slot_duration, \
        slot_step = EXCLUDED.slot_step, buffer_before = EXCLUDED.buffer_before, \
        buffer_after = EXCLUDED.buffer_after, min_notice = EXCLUDED.min_notice, \
        max_advance = EXCLUDED.max_advance, updated_at = EXCLUDED.updated_at";

const SETTINGS: &str = "\
    SELECT time_zone AS settings_time_zone, weekly_hours, date_overrides, slot_duration, slot_step, \
        buffer_before, buffer_after, min_notice, max_advance \
    FROM organizer_settings WHERE organizer_id = $1";

/// Organizer, settings and occupied intervals in one row. The occupied
/// condition is written with `&&` on the same range expression as the
/// exclusion constraint, so the constraint's GiST index serves it.
const BOOKING_CONTEXT: &str = "\
    SELECT o.id, o.username, o.email, o.display_name, o.time_zone, o.api_token_hash, o.created_at, \
        s.organizer_id IS NOT NULL AS has_settings, \
        s.time_zone AS settings_time_zone, s.weekly_hours, s.date_overrides, s.slot_duration, s.slot_step, \
        s.buffer_before, s.buffer_after, s.min_notice, s.max_advance, \
        COALESCE(b.starts, '{}') AS occupied_starts, COALESCE(b.ends, '{}') AS occupied_ends \
    FROM organizers o \
    LEFT JOIN organizer_settings s ON s.organizer_id = o.id \
    CROSS JOIN LATERAL ( \
        SELECT array_agg(bk.occupied_start ORDER BY bk.occupied_start, bk.occupied_end) AS starts, \
            array_agg(bk.occupied_end ORDER BY bk.occupied_start, bk.occupied_end) AS ends \
        FROM bookings bk \
        WHERE bk.organizer_id = o.id AND bk.deleted_at IS NULL \
          AND tstzrange(bk.occupied_start, bk.occupied_end, '[)') && tstzrange($2, $3, '[)') \
    ) b \
    WHERE o.username = $1";

const OCCUPIED: &str = "\
    SELECT occupied_start, occupied_end FROM bookings \
    WHERE organizer_id = $1 AND deleted_at IS NULL \
      AND tstzrange(occupied_start, occupied_end, '[)') && tstzrange($2, $3, '[)') \
    ORDER BY occupied_start, occupied_end";

/// The one statement that inserts a booking. `DO NOTHING` on the exclusion
/// constraint: a conflicting row makes it return nothing instead of raising
/// 23P01, and speculative insertion does not deadlock under contention.
const INSERT_BOOKING: &str = concat!(
    "INSERT INTO bookings (id, organizer_id, attendant_name, attendant_email, metadata, title, description, \
        start_time, end_time, created_at, updated_at, buffer_before, buffer_after, \
        occupied_start, occupied_end, cancel_token_hash) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11, $12, $13, $14, $15) \
     ON CONFLICT ON CONSTRAINT bookings_no_overlap DO NOTHING \
     RETURNING ",
    booking_columns!()
);

const BOOKING_BY_ID: &str = concat!(
    "SELECT ",
    booking_columns!(),
    " FROM bookings WHERE id = $1"
);

/// A page and the total in one round trip: the count row is always there,
/// the page joined to it (NULL columns when the page is empty).
const LIST_ALL: &str = concat!(
    "WITH matching AS ( \
        SELECT ",
    booking_columns!(),
    " FROM bookings WHERE organizer_id = $1 AND deleted_at IS NULL \
     ) \
     SELECT t.total, p.* \
     FROM (SELECT count(*) AS total FROM matching) t \
     LEFT JOIN LATERAL (SELECT * FROM matching ORDER BY start_time, id LIMIT $2 OFFSET $3) p ON true \
     ORDER BY p.start_time, p.id"
);

/// As [`LIST_ALL`], for bookings starting in `[$4, $5)` (UTC instants).
const LIST_RANGE: &str = concat!(
    "WITH matching AS ( \
        SELECT ",
    booking_columns!(),
    " FROM bookings WHERE organizer_id = $1 AND deleted_at IS NULL \
         AND start_time >= $4 AND start_time < $5 \
     ) \
     SELECT t.total, p.* \
     FROM (SELECT count(*) AS total FROM matching) t \
     LEFT JOIN LATERAL (SELECT * FROM matching ORDER BY start_time, id LIMIT $2 OFFSET $3) p ON true \
     ORDER BY p.start_time, p.id"
);

const CANCEL: &str = concat!(
    "UPDATE bookings SET deleted_at = $2, updated_at = $2 \
     WHERE id = $1 AND deleted_at IS NULL \
     RETURNING ",
    booking_columns!()
);

const CANCELLED_AT: &str = "SELECT deleted_at FROM bookings WHERE id = $1";

/// The database error's kind and constraint name, when the driver error is
/// one the server raised.
fn violation(error: &sqlx::Error) -> Option<(ErrorKind, Option<&str>)> {
    let db = error.as_database_error()?;
    Some((db.kind(), db.constraint()))
}

fn is_foreign_key_violation(error: &sqlx::Error) -> bool {
    matches!(violation(error), Some((ErrorKind::ForeignKeyViolation, _)))
}

#[async_trait]
impl BookingStore for PostgresStore {
    /// One `SELECT 1` round trip through the pool.
    async fn check_health(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(StoreError::backend)
    }

    async fn create_organizer(
        &self,
        id: OrganizerId,
        organizer: NewOrganizer,
        api_token_hash: TokenHash,
        created_at: DateTime<Utc>,
    ) -> Result<Organizer, StoreError> {
        let result = sqlx::query(INSERT_ORGANIZER)
            .bind(id.to_string())
            .bind(&organizer.username)
            .bind(&organizer.email)
            .bind(&organizer.display_name)
            .bind(organizer.time_zone.name())
            .bind(api_token_hash.to_hex())
            .bind(created_at)
            .fetch_one(&self.pool)
            .await;
        match result {
            Ok(row) => decode::organizer(&row),
            Err(error)
                if violation(&error)
                    == Some((
                        ErrorKind::UniqueViolation,
                        Some(constraints::USERNAME_UNIQUE),
                    )) =>
            {
                Err(StoreError::UsernameTaken(organizer.username))
            }
            Err(error) => Err(StoreError::backend(error)),
        }
    }

    async fn organizer_by_id(&self, id: OrganizerId) -> Result<Option<Organizer>, StoreError> {
        let row = sqlx::query(ORGANIZER_BY_ID)
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::backend)?;
        row.as_ref().map(decode::organizer).transpose()
    }

    async fn organizer_by_username(&self, username: &str) -> Result<Option<Organizer>, StoreError> {
        let row = sqlx::query(ORGANIZER_BY_USERNAME)
            .bind(username)
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::backend)?;
        row.as_ref().map(decode::organizer).transpose()
    }

    async fn organizer_by_token_hash(
        &self,
        hash: &TokenHash,
    ) -> Result<Option<Organizer>, StoreError> {
        let row = sqlx::query(ORGANIZER_BY_TOKEN_HASH)
            .bind(hash.to_hex())
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::backend)?;
        row.as_ref().map(decode::organizer).transpose()
    }

    async fn put_settings(
        &self,
        organizer: OrganizerId,
        settings: &OrganizerSettings,
    ) -> Result<(), StoreError> {
        let result = sqlx::query(PUT_SETTINGS)
            .bind(organizer.to_string())
            .bind(settings.time_zone().name())
            .bind(Json(settings.weekly_hours()))
            .bind(Json(settings.date_overrides()))
            .bind(settings.slot_duration())
            .bind(settings.configured_slot_step())
            .bind(settings.buffer_before())
            .bind(settings.buffer_after())
            .bind(settings.min_notice())
            .bind(settings.max_advance())
            .execute(&self.pool)
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(error) if is_foreign_key_violation(&error) => {
                Err(StoreError::OrganizerNotFound(organizer))
            }
            Err(error) => Err(StoreError::backend(error)),
        }
    }

    async fn settings(
        &self,
        organizer: OrganizerId,
    ) -> Result<Option<OrganizerSettings>, StoreError> {
        let row = sqlx::query(SETTINGS)
            .bind(organizer.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::backend)?;
        row.as_ref().map(decode::settings).transpose()
    }

    async fn booking_context(
        &self,
        username: &str,
        range: TimeRange,
    ) -> Result<Option<BookingContext>, StoreError> {
        let Some(row) = sqlx::query(BOOKING_CONTEXT)
            .bind(username)
            .bind(range.start())
            .bind(range.end())
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::backend)?
        else {
            return Ok(None);
        };
        let organizer = decode::organizer(&row)?;
        let has_settings: bool = decode::get(&row, "has_settings")?;
        let settings = if has_settings {
            Some(decode::settings(&row)?)
        } else {
            None
        };
        let occupied = decode::occupied(
            decode::get(&row, "occupied_starts")?,
            decode::get(&row, "occupied_ends")?,
        )?;
        Ok(Some(BookingContext {
            organizer,
            settings,
            occupied,
        }))
    }

    async fn insert_booking(&self, booking: NewBooking) -> Result<Booking, StoreError> {
        // timestamptz keeps microseconds and sqlx truncates finer instants:
        // round outward ourselves so a stored range always encloses the
        // requested one and truncation can never hide an overlap.
        let micro = chrono::Duration::microseconds(1);
        let time = booking.time.rounded_outward(micro);
        let occupied = booking.occupied().rounded_outward(micro);
        let result = sqlx::query(INSERT_BOOKING)
            .bind(booking.id.to_string())
            .bind(booking.organizer_id.to_string())
            .bind(&booking.attendant_name)
            .bind(&booking.attendant_email)
            .bind(booking.metadata.as_ref().map(Json))
            .bind(&booking.title)
            .bind(booking.description.as_deref())
            .bind(time.start())
            .bind(time.end())
            .bind(booking.created_at)
            .bind(booking.buffer_before)
            .bind(booking.buffer_after)
            .bind(occupied.start())
            .bind(occupied.end())
            .bind(booking.cancel_token_hash.to_hex())
            .fetch_optional(&self.pool)
            .await;
        match result {
            Ok(Some(row)) => decode::booking(&row),
            // The exclusion constraint found an overlapping active booking.
            Ok(None) => Err(StoreError::Conflict),
            Err(error) if is_foreign_key_violation(&error) => {
                Err(StoreError::OrganizerNotFound(booking.organizer_id))
            }
            Err(error) => Err(StoreError::backend(error)),
        }
    }

    async fn booking(&self, id: BookingId) -> Result<Option<Booking>, StoreError> {
        let row = sqlx::query(BOOKING_BY_ID)
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::backend)?;
        row.as_ref().map(decode::booking).transpose()
    }

    async fn list_bookings(
        &self,
        organizer: OrganizerId,
        query: BookingQuery,
    ) -> Result<BookingPage, StoreError> {
        let limit = i64::from(query.limit);
        let offset = i64::try_from(query.offset).unwrap_or(i64::MAX);
        let statement = match query.starts_within {
            None => sqlx::query(LIST_ALL)
                .bind(organizer.to_string())
                .bind(limit)
                .bind(offset),
            Some(range) => sqlx::query(LIST_RANGE)
                .bind(organizer.to_string())
                .bind(limit)
                .bind(offset)
                .bind(range.start())
                .bind(range.end()),
        };
        let rows: Vec<PgRow> = statement
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::backend)?;
        let mut total: u64 = 0;
        let mut bookings = Vec::with_capacity(rows.len());
        for row in &rows {
            let count: i64 = decode::get(row, "total")?;
            total = u64::try_from(count)
                .map_err(|_| StoreError::Corrupt(format!("negative count {count}")))?;
            let id: Option<String> = decode::get(row, "id")?;
            if id.is_some() {
                bookings.push(decode::booking(row)?);
            }
        }
        Ok(BookingPage { bookings, total })
    }

    async fn occupied_intervals(
        &self,
        organizer: OrganizerId,
        range: TimeRange,
    ) -> Result<Vec<TimeRange>, StoreError> {
        let rows = sqlx::query(OCCUPIED)
            .bind(organizer.to_string())
            .bind(range.start())
            .bind(range.end())
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::backend)?;
        let mut starts = Vec::with_capacity(rows.len());
        let mut ends = Vec::with_capacity(rows.len());
        for row in &rows {
            starts.push(decode::get(row, "occupied_start")?);
            ends.push(decode::get(row, "occupied_end")?);
        }
        decode::occupied(starts, ends)
    }

    async fn cancel_booking(
        &self,
        id: BookingId,
        at: DateTime<Utc>,
    ) -> Result<Booking, StoreError> {
        // The second statement runs only when the first changed nothing. An
        // active row found by it can only be a booking whose insert committed
        // between the two statements; cancelling is then tried again.
        for _ in 0..3 {
            let updated = sqlx::query(CANCEL)
                .bind(id.to_string())
                .bind(at)
                .fetch_optional(&self.pool)
                .await
                .map_err(StoreError::backend)?;
            if let Some(row) = updated {
                return decode::booking(&row);
            }
            let cancelled_at: Option<Option<DateTime<Utc>>> = sqlx::query_scalar(CANCELLED_AT)
                .bind(id.to_string())
                .fetch_optional(&self.pool)
                .await
                .map_err(StoreError::backend)?;
            match cancelled_at {
                None => return Err(StoreError::BookingNotFound(id)),
                Some(Some(cancelled_at)) => {
                    return Err(StoreError::AlreadyCancelled { id, cancelled_at });
                }
                Some(None) => continue,
            }
        }
        Err(StoreError::Corrupt(format!(
            "booking {id} keeps changing between cancelled and active"
        )))
    }
}
