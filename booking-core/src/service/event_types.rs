//! Event types: create, read, change, delete.

use crate::event_type::{EventType, EventTypeDraft, EventTypeId, MAX_EVENT_TYPES};
use crate::organizer::{Organizer, OrganizerRef};
use crate::schedule::{Schedule, ScheduleId, WeeklyHours};
use crate::settings::DEFAULT_SCHEDULE_NAME;
use crate::store::{ConfigChange, OrganizerConfig};
use crate::time::LocalInterval;
use crate::validation::{Field, ValidationErrors};

use super::{BookingService, ServiceError};

/// Monday to Friday, 09:00 to 17:00: the hours of the default schedule made
/// for an organizer whose first event type arrives before any schedule.
fn office_hours() -> WeeklyHours {
    WeeklyHours::weekdays(LocalInterval::parse("09:00", "17:00").into_iter().collect())
}

/// Checks what only the configuration can tell: the slug is free (ignoring
/// `except`, the event type being replaced), the schedule exists.
fn check_against(
    config: &OrganizerConfig,
    draft: &EventTypeDraft,
    except: Option<EventTypeId>,
) -> Result<(), ServiceError> {
    if config
        .event_types
        .iter()
        .any(|e| e.slug == *draft.slug.as_str() && Some(e.id) != except)
    {
        return Err(ServiceError::SlugTaken(draft.slug.clone()));
    }
    if let Some(id) = draft.schedule_id
        && config.schedule(id).is_none()
    {
        return Err(ValidationErrors::single(
            Field::Schedule,
            format!("the organizer has no schedule {id}"),
        )
        .into());
    }
    Ok(())
}

/// The default schedule to create alongside the first event type, when the
/// organizer has no schedule yet: office hours in their zone.
fn default_schedule_if_missing(
    organizer: &Organizer,
    config: &OrganizerConfig,
) -> Option<ConfigChange> {
    config.default_schedule().is_none().then(|| {
        ConfigChange::PutSchedule(Schedule {
            id: ScheduleId::generate(),
            organizer_id: organizer.id,
            name: DEFAULT_SCHEDULE_NAME.to_owned(),
            time_zone: organizer.time_zone,
            weekly_hours: office_hours(),
            date_overrides: Default::default(),
            is_default: true,
        })
    })
}

impl BookingService {
    /// Every event type of the organizer, active or not, oldest first.
    pub async fn event_types(
        &self,
        organizer: impl Into<OrganizerRef>,
    ) -> Result<Vec<EventType>, ServiceError> {
        Ok(self.organizer_config(organizer).await?.event_types)
    }

    /// The event types attendees can book, oldest first.
    pub async fn active_event_types(
        &self,
        organizer: impl Into<OrganizerRef>,
    ) -> Result<Vec<EventType>, ServiceError> {
        let mut event_types = self.event_types(organizer).await?;
        event_types.retain(|e| e.active);
        Ok(event_types)
    }

    /// One event type of the organizer by slug, active or not.
    pub async fn event_type(
        &self,
        organizer: impl Into<OrganizerRef>,
        slug: &str,
    ) -> Result<EventType, ServiceError> {
        self.organizer_config(organizer)
            .await?
            .event_type(slug)
            .cloned()
            .ok_or(ServiceError::EventTypeNotFound)
    }

    /// Creates an event type. An organizer without any schedule gets a
    /// default one (Monday to Friday, 09:00 to 17:00, in their zone) in the
    /// same change, so the new event type is bookable at once.
    pub async fn create_event_type(
        &self,
        organizer: impl Into<OrganizerRef>,
        draft: EventTypeDraft,
    ) -> Result<EventType, ServiceError> {
        draft.validate()?;
        let organizer = self.organizer(organizer).await?;
        let id = EventTypeId::generate();
        self.update_config(&organizer, |config| {
            if config.event_types.len() >= MAX_EVENT_TYPES {
                return Err(ValidationErrors::single(
                    Field::EventType,
                    format!("an organizer may keep at most {MAX_EVENT_TYPES} event types"),
                )
                .into());
            }
            check_against(config, &draft, None)?;
            let event_type = draft.clone().build(id, organizer.id)?;
            let mut changes: Vec<ConfigChange> = default_schedule_if_missing(&organizer, config)
                .into_iter()
                .collect();
            changes.push(ConfigChange::PutEventType(event_type.clone()));
            Ok((changes, event_type))
        })
        .await
    }

    /// Replaces the event type now named `slug` with `draft` (which may
    /// rename it). Existing bookings keep the buffers and slug they were
    /// made with.
    pub async fn update_event_type(
        &self,
        organizer: impl Into<OrganizerRef>,
        slug: &str,
        draft: EventTypeDraft,
    ) -> Result<EventType, ServiceError> {
        draft.validate()?;
        let organizer = self.organizer(organizer).await?;
        self.update_config(&organizer, |config| {
            let current = config
                .event_type(slug)
                .ok_or(ServiceError::EventTypeNotFound)?;
            check_against(config, &draft, Some(current.id))?;
            let event_type = draft.clone().build(current.id, organizer.id)?;
            Ok((
                vec![ConfigChange::PutEventType(event_type.clone())],
                event_type,
            ))
        })
        .await
    }

    /// Deletes the event type named `slug`. Its bookings stay (and keep
    /// blocking time) with the slug they were booked under.
    pub async fn delete_event_type(
        &self,
        organizer: impl Into<OrganizerRef>,
        slug: &str,
    ) -> Result<(), ServiceError> {
        let organizer = self.organizer(organizer).await?;
        self.update_config(&organizer, |config| {
            let current = config
                .event_type(slug)
                .ok_or(ServiceError::EventTypeNotFound)?;
            Ok((vec![ConfigChange::DeleteEventType(current.id)], ()))
        })
        .await
    }
}
