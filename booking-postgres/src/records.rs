//! Organizer records: one table, one upsert, lookups by key or by lookup.

use booking_core::organizer::OrganizerId;
use booking_core::record::Record;
use booking_core::store::StoreError;
use chrono::{DateTime, Utc};
use sqlx::error::ErrorKind;

use crate::error::store_error;
use crate::{PostgresStore, constraints, decode, sql};

impl PostgresStore {
    /// Upserts a record; another record of its kind with its lookup key is
    /// [`StoreError::Conflict`].
    pub(crate) async fn put(&self, record: &Record) -> Result<(), StoreError> {
        let result = sqlx::query(sql::records::PUT_RECORD)
            .bind(&record.kind)
            .bind(&record.id)
            .bind(record.organizer_id.to_string())
            .bind(record.lookup.as_deref())
            .bind(&record.data)
            .bind(record.created_at)
            .bind(record.expires_at)
            .execute(&self.pool)
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(error)
                if error.as_database_error().is_some_and(|db| {
                    db.kind() == ErrorKind::UniqueViolation
                        && db.constraint() == Some(constraints::RECORD_LOOKUP_UNIQUE)
                }) =>
            {
                Err(StoreError::Conflict)
            }
            Err(error) => Err(store_error(error)),
        }
    }

    pub(crate) async fn record_by_id(
        &self,
        kind: &str,
        id: &str,
    ) -> Result<Option<Record>, StoreError> {
        let row = sqlx::query(sql::records::RECORD)
            .bind(kind)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(store_error)?;
        row.as_ref().map(decode::record).transpose()
    }

    pub(crate) async fn record_looked_up(
        &self,
        kind: &str,
        lookup: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Record>, StoreError> {
        let row = sqlx::query(sql::records::RECORD_BY_LOOKUP)
            .bind(kind)
            .bind(lookup)
            .bind(now)
            .fetch_optional(&self.pool)
            .await
            .map_err(store_error)?;
        row.as_ref().map(decode::record).transpose()
    }

    pub(crate) async fn records_of(
        &self,
        organizer: OrganizerId,
        kind: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<Record>, StoreError> {
        let rows = sqlx::query(sql::records::RECORDS)
            .bind(organizer.to_string())
            .bind(kind)
            .bind(now)
            .fetch_all(&self.pool)
            .await
            .map_err(store_error)?;
        rows.iter().map(decode::record).collect()
    }

    pub(crate) async fn delete(&self, kind: &str, id: &str) -> Result<bool, StoreError> {
        let deleted = sqlx::query(sql::records::DELETE_RECORD)
            .bind(kind)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(store_error)?;
        Ok(deleted.rows_affected() > 0)
    }
}
