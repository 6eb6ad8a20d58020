//! Reading an organizer's configuration and changing it safely against
//! concurrent changes (compare-and-set on its version).

use crate::organizer::{Organizer, OrganizerRef};
use crate::store::{ConfigChange, OrganizerConfig, StoreError};

use super::{BookingService, ServiceError};

/// How often a change is recomputed when other changes keep winning.
const MAX_ATTEMPTS: usize = 5;

impl BookingService {
    /// An organizer's schedules and event types, with their version.
    pub async fn organizer_config(
        &self,
        organizer: impl Into<OrganizerRef>,
    ) -> Result<OrganizerConfig, ServiceError> {
        let organizer = self.organizer(organizer).await?;
        self.config_of(&organizer).await
    }

    pub(super) async fn config_of(
        &self,
        organizer: &Organizer,
    ) -> Result<OrganizerConfig, ServiceError> {
        self.store
            .organizer_config(organizer.id)
            .await?
            .ok_or(ServiceError::OrganizerNotFound)
    }

    /// Reads the configuration, lets `plan` decide the changes (and the
    /// value to return) on that version, and writes them only if nobody
    /// changed the configuration meanwhile; otherwise plans again on the new
    /// version. `plan` holds the rules; the store only compares versions.
    pub(super) async fn update_config<T>(
        &self,
        organizer: &Organizer,
        mut plan: impl FnMut(&OrganizerConfig) -> Result<(Vec<ConfigChange>, T), ServiceError>,
    ) -> Result<T, ServiceError> {
        for _ in 0..MAX_ATTEMPTS {
            let config = self.config_of(organizer).await?;
            let (changes, value) = plan(&config)?;
            if changes.is_empty() {
                return Ok(value);
            }
            match self
                .store
                .update_config(organizer.id, config.version, changes)
                .await
            {
                Ok(_) => {
                    // This process's kept copies are stale now; others find
                    // out by their next booking's version check.
                    self.decisions.forget(organizer.id);
                    return Ok(value);
                }
                Err(StoreError::ConfigChanged) => continue,
                Err(other) => return Err(other.into()),
            }
        }
        Err(ServiceError::ConcurrentUpdate)
    }
}
