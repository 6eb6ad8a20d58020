//! Registering, authenticating and looking up organizers.

use chrono_tz::Tz;

use crate::organizer::{NewOrganizer, Organizer, OrganizerId, OrganizerRef};
use crate::secret::{SecretToken, TokenHash};

use super::{BookingService, ServiceError};

impl BookingService {
    /// Registers an organizer and returns them with their API token, which is
    /// shown only now: only its hash is stored. The username must be free,
    /// ignoring ASCII case, and not reserved.
    pub async fn register_organizer(
        &self,
        new: NewOrganizer,
    ) -> Result<(Organizer, SecretToken), ServiceError> {
        new.validate()?;
        let token = SecretToken::generate().map_err(ServiceError::Randomness)?;
        let organizer = self
            .store
            .create_organizer(OrganizerId::generate(), new, token.hash(), self.now())
            .await?;
        Ok((organizer, token))
    }

    /// The organizer whose API token is `token`; [`ServiceError::Unauthorized`]
    /// for any unknown or malformed token.
    pub async fn authenticate(&self, token: &str) -> Result<Organizer, ServiceError> {
        let hash = TokenHash::of(token);
        match self.store.organizer_by_token_hash(&hash).await? {
            Some(organizer) if organizer.api_token_hash.verify(token) => Ok(organizer),
            _ => Err(ServiceError::Unauthorized),
        }
    }

    /// The organizer named by id or username;
    /// [`ServiceError::OrganizerNotFound`] if there is none.
    pub async fn organizer(
        &self,
        organizer: impl Into<OrganizerRef>,
    ) -> Result<Organizer, ServiceError> {
        self.store
            .organizer(&organizer.into())
            .await?
            .ok_or(ServiceError::OrganizerNotFound)
    }

    /// The zone in which to show an organizer's dates and times: their
    /// default schedule's zone, or their home zone before they have one.
    pub async fn display_zone(
        &self,
        organizer: impl Into<OrganizerRef>,
    ) -> Result<Tz, ServiceError> {
        let organizer = self.organizer(organizer).await?;
        let config = self.store.organizer_config(organizer.id).await?;
        Ok(config
            .as_ref()
            .and_then(|c| c.default_schedule())
            .map_or(organizer.time_zone, |s| s.time_zone))
    }

    /// The organizer's id, from the cache when the username was seen before.
    pub(super) async fn organizer_id(
        &self,
        organizer: &OrganizerRef,
    ) -> Result<OrganizerId, ServiceError> {
        match organizer {
            OrganizerRef::Id(id) => Ok(*id),
            OrganizerRef::Username(name) => match self.organizer_ids.get(name) {
                Some(id) => Ok(id),
                None => {
                    let found = self.organizer(organizer.clone()).await?;
                    self.organizer_ids.remember(name, found.id);
                    Ok(found.id)
                }
            },
        }
    }
}
