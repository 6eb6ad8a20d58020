//! An organizer's configuration (schedules and event types): read in one
//! statement, changed in one transaction that starts with a compare-and-set
//! on the organizer's `config_version`.

use booking_core::event_type::{EventType, EventTypeId};
use booking_core::organizer::OrganizerId;
use booking_core::schedule::Schedule;
use booking_core::store::{ConfigChange, OrganizerConfig, StoreError};
use sqlx::error::ErrorKind;
use sqlx::postgres::PgConnection;
use sqlx::types::Json;

use crate::encode::{self, EventTypeColumns};
use crate::error::store_error;
use crate::{PostgresStore, constraints, decode, sql};

impl PostgresStore {
    /// One statement, so the version and the rows come from one snapshot.
    pub(crate) async fn read_config(
        &self,
        organizer: OrganizerId,
    ) -> Result<Option<OrganizerConfig>, StoreError> {
        let rows = sqlx::query(sql::ORGANIZER_CONFIG)
            .bind(organizer.to_string())
            .fetch_all(&self.pool)
            .await
            .map_err(store_error)?;
        let Some(first) = rows.first() else {
            return Ok(None);
        };
        let mut config = OrganizerConfig {
            version: decode::version(first)?,
            ..OrganizerConfig::default()
        };
        for row in &rows {
            if let Some(schedule) = decode::schedule(row, organizer)? {
                config.schedules.push(schedule);
            }
            if let Some(event_type) = decode::event_type(row, organizer)? {
                config.event_types.push(event_type);
            }
        }
        Ok(Some(config))
    }

    /// The compare-and-set, then every change in order, in one transaction:
    /// a failure anywhere rolls back all of it, the version included.
    pub(crate) async fn write_config(
        &self,
        organizer: OrganizerId,
        expected_version: u64,
        changes: Vec<ConfigChange>,
    ) -> Result<u64, StoreError> {
        // A version beyond bigint was never stored, so it cannot match.
        let expected = i64::try_from(expected_version).unwrap_or(-1);
        let mut tx = self
            .pool
            .begin_with(sql::BEGIN)
            .await
            .map_err(store_error)?;
        let bumped: Option<i64> = sqlx::query_scalar(sql::BUMP_CONFIG_VERSION)
            .bind(organizer.to_string())
            .bind(expected)
            .fetch_optional(&mut *tx)
            .await
            .map_err(store_error)?;
        let Some(version) = bumped else {
            let exists: bool = sqlx::query_scalar(sql::ORGANIZER_EXISTS)
                .bind(organizer.to_string())
                .fetch_one(&mut *tx)
                .await
                .map_err(store_error)?;
            tx.rollback().await.map_err(store_error)?;
            return Err(if exists {
                StoreError::ConfigChanged
            } else {
                StoreError::OrganizerNotFound(organizer)
            });
        };
        for change in &changes {
            if let Err(error) = apply(&mut tx, organizer, change).await {
                // Dropping the transaction would roll back too; doing it
                // here returns the connection clean. The change's own error
                // is the one that matters.
                let _ = tx.rollback().await;
                return Err(error);
            }
        }
        tx.commit().await.map_err(store_error)?;
        u64::try_from(version).map_err(|_| {
            StoreError::Corrupt(format!("organizers.config_version: {version} is negative"))
        })
    }
}

/// Runs one change; constraint violations become the domain's errors.
async fn apply(
    conn: &mut PgConnection,
    organizer: OrganizerId,
    change: &ConfigChange,
) -> Result<(), StoreError> {
    let result = match change {
        ConfigChange::PutSchedule(schedule) => put_schedule(conn, organizer, schedule).await,
        ConfigChange::DeleteSchedule(id) => sqlx::query(sql::DELETE_SCHEDULE)
            .bind(organizer.to_string())
            .bind(id.to_string())
            .execute(conn)
            .await
            .map(drop),
        ConfigChange::PutEventType(event_type) => {
            let columns = encode::event_type(event_type)?;
            put_event_type(conn, organizer, event_type, &columns).await
        }
        ConfigChange::DeleteEventType(id) => delete_event_type(conn, organizer, *id).await,
        // A change added to core later than this crate knows of.
        other => {
            return Err(StoreError::Unstorable(format!(
                "booking-postgres cannot apply the configuration change {other:?}"
            )));
        }
    };
    result.map_err(|error| refusal(&error, change).unwrap_or_else(|| store_error(error)))
}

/// The domain error a constraint violation of `change` stands for, if any:
/// a slug used twice, a schedule still in use (or, for an event type, a
/// schedule that does not exist: the same foreign key).
fn refusal(error: &sqlx::Error, change: &ConfigChange) -> Option<StoreError> {
    let db = error.as_database_error()?;
    match (db.kind(), db.constraint(), change) {
        (
            ErrorKind::UniqueViolation,
            Some(constraints::SLUG_UNIQUE),
            ConfigChange::PutEventType(event_type),
        ) => Some(StoreError::SlugTaken(event_type.slug.to_string())),
        (
            ErrorKind::ForeignKeyViolation,
            Some(constraints::SCHEDULE_IN_USE),
            ConfigChange::DeleteSchedule(id),
        ) => Some(StoreError::ScheduleInUse(*id)),
        (
            ErrorKind::ForeignKeyViolation,
            Some(constraints::SCHEDULE_IN_USE),
            ConfigChange::PutEventType(EventType {
                schedule_id: Some(id),
                ..
            }),
        ) => Some(StoreError::ScheduleInUse(*id)),
        (ErrorKind::UniqueViolation, Some(constraints::ONE_DEFAULT_SCHEDULE), _) => Some(
            StoreError::Unstorable("an organizer has at most one default schedule".to_owned()),
        ),
        _ => None,
    }
}

async fn put_schedule(
    conn: &mut PgConnection,
    organizer: OrganizerId,
    schedule: &Schedule,
) -> Result<(), sqlx::Error> {
    sqlx::query(sql::PUT_SCHEDULE)
        .bind(organizer.to_string())
        .bind(schedule.id.to_string())
        .bind(&schedule.name)
        .bind(schedule.time_zone.name())
        .bind(Json(&schedule.weekly_hours))
        .bind(Json(&schedule.date_overrides))
        .bind(schedule.is_default)
        .execute(conn)
        .await
        .map(drop)
}

async fn put_event_type(
    conn: &mut PgConnection,
    organizer: OrganizerId,
    event_type: &EventType,
    columns: &EventTypeColumns,
) -> Result<(), sqlx::Error> {
    sqlx::query(sql::PUT_EVENT_TYPE)
        .bind(organizer.to_string())
        .bind(event_type.id.to_string())
        .bind(event_type.slug.as_str())
        .bind(&event_type.title)
        .bind(event_type.description.as_deref())
        .bind(event_type.duration)
        .bind(&event_type.duration_options)
        .bind(event_type.slot_step)
        .bind(event_type.buffer_before)
        .bind(event_type.buffer_after)
        .bind(event_type.min_notice)
        .bind(columns.window.kind)
        .bind(columns.window.horizon)
        .bind(columns.window.days)
        .bind(columns.window.first)
        .bind(columns.window.last)
        .bind(columns.limit_per_day)
        .bind(columns.limit_per_week)
        .bind(columns.limit_week_starts_on)
        .bind(event_type.schedule_id.map(|id| id.to_string()))
        .bind(event_type.location.as_ref().map(Json))
        .bind(event_type.active)
        .bind(event_type.hold_duration)
        .execute(conn)
        .await
        .map(drop)
}

/// Ends the event type's holds, then deletes it (its bookings stay, with no
/// event type id).
async fn delete_event_type(
    conn: &mut PgConnection,
    organizer: OrganizerId,
    id: EventTypeId,
) -> Result<(), sqlx::Error> {
    sqlx::query(sql::DELETE_HOLDS_OF_EVENT_TYPE)
        .bind(organizer.to_string())
        .bind(id.to_string())
        .execute(&mut *conn)
        .await?;
    sqlx::query(sql::DELETE_EVENT_TYPE)
        .bind(organizer.to_string())
        .bind(id.to_string())
        .execute(conn)
        .await
        .map(drop)
}
