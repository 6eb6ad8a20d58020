//! [`Credential`]: who asks to read, cancel or change a booking.

use crate::organizer::{Organizer, OrganizerId};
use crate::secret::SecretToken;

/// Who is asking to read or cancel a booking.
///
/// ```
/// use booking_core::{Credential, OrganizerId, SecretToken};
///
/// let token = SecretToken::generate()?;
/// let attendee = Credential::from(&token);
/// let organizer = Credential::from(OrganizerId::generate());
/// assert!(matches!(attendee, Credential::CancelToken(_)));
/// assert!(matches!(organizer, Credential::Organizer(_)));
/// # Ok::<(), booking_core::secret::RandomnessError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Credential {
    /// An organizer the caller has authenticated (for example with
    /// [`BookingService::authenticate`](super::BookingService::authenticate));
    /// may act on their own bookings.
    Organizer(OrganizerId),
    /// The cancel token the attendee received when booking.
    CancelToken(String),
}

impl Credential {
    /// The attendee's cancel token, as they presented it.
    pub fn cancel_token(token: impl Into<String>) -> Self {
        Credential::CancelToken(token.into())
    }
}

impl From<&SecretToken> for Credential {
    /// The cancel token just handed out, e.g. `CreatedBooking::cancel_token`.
    fn from(token: &SecretToken) -> Self {
        Credential::CancelToken(token.expose().to_owned())
    }
}

impl From<OrganizerId> for Credential {
    fn from(id: OrganizerId) -> Self {
        Credential::Organizer(id)
    }
}

impl From<&Organizer> for Credential {
    fn from(organizer: &Organizer) -> Self {
        Credential::Organizer(organizer.id)
    }
}
