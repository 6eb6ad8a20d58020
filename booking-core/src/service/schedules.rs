//! Schedules: create, read, change, delete, with exactly one default.

use crate::organizer::OrganizerRef;
use crate::schedule::{MAX_SCHEDULES, Schedule, ScheduleDraft, ScheduleId};
use crate::store::{ConfigChange, OrganizerConfig};
use crate::validation::{Field, ValidationErrors};

use super::{BookingService, ServiceError};

/// The changes that make `schedule` the only default: every other default
/// schedule stops being one first (stores may enforce one default per
/// organizer statement by statement), then `schedule` is written.
fn put_schedule(config: &OrganizerConfig, schedule: Schedule) -> Vec<ConfigChange> {
    let mut changes = Vec::new();
    if schedule.is_default {
        for other in config
            .schedules
            .iter()
            .filter(|s| s.is_default && s.id != schedule.id)
        {
            changes.push(ConfigChange::PutSchedule(Schedule {
                is_default: false,
                ..other.clone()
            }));
        }
    }
    changes.push(ConfigChange::PutSchedule(schedule));
    changes
}

impl BookingService {
    /// The organizer's schedules, oldest first.
    pub async fn schedules(
        &self,
        organizer: impl Into<OrganizerRef>,
    ) -> Result<Vec<Schedule>, ServiceError> {
        Ok(self.organizer_config(organizer).await?.schedules)
    }

    /// One of the organizer's schedules.
    pub async fn schedule(
        &self,
        organizer: impl Into<OrganizerRef>,
        id: ScheduleId,
    ) -> Result<Schedule, ServiceError> {
        self.organizer_config(organizer)
            .await?
            .schedule(id)
            .cloned()
            .ok_or(ServiceError::ScheduleNotFound)
    }

    /// Creates a schedule. Without a zone it takes the organizer's; the
    /// organizer's first schedule is always the default, and a draft marked
    /// default replaces the previous default.
    pub async fn create_schedule(
        &self,
        organizer: impl Into<OrganizerRef>,
        draft: ScheduleDraft,
    ) -> Result<Schedule, ServiceError> {
        draft.validate()?;
        let organizer = self.organizer(organizer).await?;
        let id = ScheduleId::generate();
        self.update_config(&organizer, |config| {
            if config.schedules.len() >= MAX_SCHEDULES {
                return Err(ValidationErrors::single(
                    Field::ScheduleName,
                    format!("an organizer may keep at most {MAX_SCHEDULES} schedules"),
                )
                .into());
            }
            let schedule = Schedule {
                id,
                organizer_id: organizer.id,
                name: draft.name.clone(),
                time_zone: draft.time_zone.unwrap_or(organizer.time_zone),
                weekly_hours: draft.weekly_hours.clone(),
                date_overrides: draft.date_overrides.clone(),
                is_default: draft.is_default || config.default_schedule().is_none(),
            };
            Ok((put_schedule(config, schedule.clone()), schedule))
        })
        .await
    }

    /// Replaces a schedule's name, zone (the organizer's when `None`), hours
    /// and overrides. Marking it default replaces the previous default; the
    /// default schedule stays the default until another one is made default.
    pub async fn update_schedule(
        &self,
        organizer: impl Into<OrganizerRef>,
        id: ScheduleId,
        draft: ScheduleDraft,
    ) -> Result<Schedule, ServiceError> {
        draft.validate()?;
        let organizer = self.organizer(organizer).await?;
        self.update_config(&organizer, |config| {
            let current = config.schedule(id).ok_or(ServiceError::ScheduleNotFound)?;
            let schedule = Schedule {
                id,
                organizer_id: organizer.id,
                name: draft.name.clone(),
                time_zone: draft.time_zone.unwrap_or(organizer.time_zone),
                weekly_hours: draft.weekly_hours.clone(),
                date_overrides: draft.date_overrides.clone(),
                is_default: draft.is_default || current.is_default,
            };
            Ok((put_schedule(config, schedule.clone()), schedule))
        })
        .await
    }

    /// Deletes a schedule no event type uses. The default schedule cannot be
    /// deleted (event types without a schedule of their own use it): make
    /// another schedule the default first.
    pub async fn delete_schedule(
        &self,
        organizer: impl Into<OrganizerRef>,
        id: ScheduleId,
    ) -> Result<(), ServiceError> {
        let organizer = self.organizer(organizer).await?;
        self.update_config(&organizer, |config| {
            let schedule = config.schedule(id).ok_or(ServiceError::ScheduleNotFound)?;
            if schedule.is_default {
                return Err(ServiceError::ScheduleInUse(
                    "the default schedule cannot be deleted; make another schedule the default first"
                        .to_owned(),
                ));
            }
            if let Some(user) = config.event_types.iter().find(|e| e.schedule_id == Some(id)) {
                return Err(ServiceError::ScheduleInUse(format!(
                    "the event type {:?} uses this schedule; give it another schedule first",
                    user.slug.as_str()
                )));
            }
            Ok((vec![ConfigChange::DeleteSchedule(id)], ()))
        })
        .await
    }
}
