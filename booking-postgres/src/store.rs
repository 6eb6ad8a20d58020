//! `impl BookingStore for PostgresStore`: each method runs the statements of
//! [`sql`](crate::sql) and maps driver errors to domain errors.

use async_trait::async_trait;
use booking_core::booking::{Booking, BookingId, NewBooking};
use booking_core::event_type::EventTypeId;
use booking_core::organizer::{NewOrganizer, Organizer, OrganizerId, OrganizerRef};
use booking_core::secret::TokenHash;
use booking_core::store::{
    BookingContext, BookingPage, BookingQuery, BookingStore, ConfigChange, ContextQuery,
    OrganizerConfig, StoreError,
};
use booking_core::time::TimeRange;
use chrono::{DateTime, Utc};
use sqlx::error::ErrorKind;
use sqlx::postgres::PgRow;

use crate::{PostgresStore, constraints, decode, sql};

/// What `username_key` holds for a new organizer: the username in ASCII
/// lowercase (usernames are ASCII), unique, so uniqueness ignores case.
fn username_key(username: &str) -> String {
    username.to_ascii_lowercase()
}

fn is_username_taken(error: &sqlx::Error) -> bool {
    error.as_database_error().is_some_and(|db| {
        db.kind() == ErrorKind::UniqueViolation
            && matches!(
                db.constraint(),
                Some(constraints::USERNAME_UNIQUE | constraints::USERNAME_KEY_UNIQUE)
            )
    })
}

#[async_trait]
impl BookingStore for PostgresStore {
    async fn check_health(&self) -> Result<(), StoreError> {
        sqlx::query(sql::HEALTH_CHECK)
            .execute(&self.pool)
            .await
            .map(drop)
            .map_err(StoreError::backend)
    }

    async fn create_organizer(
        &self,
        id: OrganizerId,
        organizer: NewOrganizer,
        api_token_hash: TokenHash,
        created_at: DateTime<Utc>,
    ) -> Result<Organizer, StoreError> {
        let result = sqlx::query(sql::INSERT_ORGANIZER)
            .bind(id.to_string())
            .bind(&organizer.username)
            .bind(&organizer.email)
            .bind(&organizer.display_name)
            .bind(organizer.time_zone.name())
            .bind(api_token_hash.to_hex())
            .bind(created_at)
            .bind(username_key(&organizer.username))
            .fetch_one(&self.pool)
            .await;
        match result {
            Ok(row) => decode::organizer(&row),
            Err(error) if is_username_taken(&error) => {
                Err(StoreError::UsernameTaken(organizer.username))
            }
            Err(error) => Err(StoreError::backend(error)),
        }
    }

    async fn organizer_by_id(&self, id: OrganizerId) -> Result<Option<Organizer>, StoreError> {
        let row = sqlx::query(sql::ORGANIZER_BY_ID)
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::backend)?;
        row.as_ref().map(decode::organizer).transpose()
    }

    async fn organizer_by_username(&self, username: &str) -> Result<Option<Organizer>, StoreError> {
        let row = sqlx::query(sql::ORGANIZER_BY_USERNAME)
            .bind(username)
            .bind(username_key(username))
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::backend)?;
        row.as_ref().map(decode::organizer).transpose()
    }

    async fn organizer_by_token_hash(
        &self,
        hash: &TokenHash,
    ) -> Result<Option<Organizer>, StoreError> {
        let row = sqlx::query(sql::ORGANIZER_BY_TOKEN_HASH)
            .bind(hash.to_hex())
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::backend)?;
        row.as_ref().map(decode::organizer).transpose()
    }

    async fn organizer_config(
        &self,
        organizer: OrganizerId,
    ) -> Result<Option<OrganizerConfig>, StoreError> {
        self.read_config(organizer).await
    }

    async fn update_config(
        &self,
        organizer: OrganizerId,
        expected_version: u64,
        changes: Vec<ConfigChange>,
    ) -> Result<u64, StoreError> {
        self.write_config(organizer, expected_version, changes)
            .await
    }

    async fn booking_context(
        &self,
        query: &ContextQuery,
    ) -> Result<Option<BookingContext>, StoreError> {
        let statement = match &query.organizer {
            OrganizerRef::Id(_) => sql::BOOKING_CONTEXT_BY_ID,
            OrganizerRef::Username(_) => sql::BOOKING_CONTEXT_BY_USERNAME,
        };
        let statement = sqlx::query(statement)
            .bind(query.event_type.as_str())
            .bind(query.occupied_within.start())
            .bind(query.occupied_within.end())
            .bind(query.counted_within.start())
            .bind(query.counted_within.end());
        let statement = match &query.organizer {
            OrganizerRef::Id(id) => statement.bind(id.to_string()),
            OrganizerRef::Username(username) => {
                statement.bind(username).bind(username_key(username))
            }
        };
        let Some(row) = statement
            .fetch_optional(&self.pool)
            .await
            .map_err(StoreError::backend)?
        else {
            return Ok(None);
        };
        let organizer = decode::organizer(&row)?;
        let event_type = decode::event_type(&row, organizer.id)?;
        let schedule = decode::schedule(&row, organizer.id)?;
        Ok(Some(BookingContext {
            config_version: decode::version(&row)?,
            occupied: decode::occupied(
                decode::get(&row, "occupied_starts")?,
                decode::get(&row, "occupied_ends")?,
            )?,
            booked: decode::get(&row, "booked_starts")?,
            organizer,
            event_type,
            schedule,
        }))
    }

    async fn insert_booking(&self, booking: NewBooking) -> Result<Booking, StoreError> {
        self.insert(booking).await
    }

    async fn booking(&self, id: BookingId) -> Result<Option<Booking>, StoreError> {
        let row = sqlx::query(sql::BOOKING_BY_ID)
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
            None => sqlx::query(sql::LIST_ALL)
                .bind(organizer.to_string())
                .bind(limit)
                .bind(offset),
            Some(range) => sqlx::query(sql::LIST_RANGE)
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
        let rows = sqlx::query(sql::OCCUPIED)
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

    async fn booked_starts(
        &self,
        organizer: OrganizerId,
        event_type: EventTypeId,
        range: TimeRange,
    ) -> Result<Vec<DateTime<Utc>>, StoreError> {
        sqlx::query_scalar(sql::BOOKED_STARTS)
            .bind(organizer.to_string())
            .bind(event_type.to_string())
            .bind(range.start())
            .bind(range.end())
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::backend)
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
            let updated = sqlx::query(sql::CANCEL)
                .bind(id.to_string())
                .bind(at)
                .fetch_optional(&self.pool)
                .await
                .map_err(StoreError::backend)?;
            if let Some(row) = updated {
                return decode::booking(&row);
            }
            let cancelled_at: Option<Option<DateTime<Utc>>> = sqlx::query_scalar(sql::CANCELLED_AT)
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
