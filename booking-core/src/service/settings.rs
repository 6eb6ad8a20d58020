//! The one-call setup of earlier versions: settings are the default schedule
//! plus the default event type.

use crate::event_type::{DEFAULT_SLUG, EventTypeId};
use crate::organizer::OrganizerRef;
use crate::schedule::{Schedule, ScheduleId};
use crate::settings::{OrganizerSettings, SettingsDraft};
use crate::store::ConfigChange;

use super::{BookingService, ServiceError};

impl BookingService {
    /// Validates settings and saves them as the organizer's default schedule
    /// (created if needed) and default event type, slug
    /// [`DEFAULT_SLUG`] (created if needed; its title, description, limits
    /// and location are kept). A draft without a zone takes the organizer's.
    pub async fn put_settings(
        &self,
        organizer: impl Into<OrganizerRef>,
        mut draft: SettingsDraft,
    ) -> Result<OrganizerSettings, ServiceError> {
        let organizer = self.organizer(organizer).await?;
        draft.time_zone.get_or_insert(organizer.time_zone);
        let settings = OrganizerSettings::try_from(draft)?;
        let new_schedule_id = ScheduleId::generate();
        let new_event_type_id = EventTypeId::generate();
        self.update_config(&organizer, |config| {
            let schedule_draft = settings.schedule_draft();
            let schedule = Schedule {
                id: config.default_schedule().map_or(new_schedule_id, |s| s.id),
                organizer_id: organizer.id,
                name: config
                    .default_schedule()
                    .map_or(schedule_draft.name, |s| s.name.clone()),
                time_zone: settings.time_zone(),
                weekly_hours: schedule_draft.weekly_hours,
                date_overrides: schedule_draft.date_overrides,
                is_default: true,
            };
            let current = config.event_type(DEFAULT_SLUG);
            let mut event_draft = settings.event_type_draft(current.map(|e| e.to_draft()));
            event_draft.schedule_id = None;
            let event_type =
                event_draft.build(current.map_or(new_event_type_id, |e| e.id), organizer.id)?;
            Ok((
                vec![
                    ConfigChange::PutSchedule(schedule),
                    ConfigChange::PutEventType(event_type),
                ],
                settings.clone(),
            ))
        })
        .await
    }

    /// The organizer's settings: their default event type on its schedule;
    /// [`ServiceError::SettingsNotFound`] if they have neither.
    pub async fn settings(
        &self,
        organizer: impl Into<OrganizerRef>,
    ) -> Result<OrganizerSettings, ServiceError> {
        let config = self.organizer_config(organizer).await?;
        let event_type = config
            .event_type(DEFAULT_SLUG)
            .ok_or(ServiceError::SettingsNotFound)?;
        let schedule = config
            .schedule_of(event_type)
            .ok_or(ServiceError::SettingsNotFound)?;
        Ok(OrganizerSettings::from_parts(schedule, event_type))
    }
}
