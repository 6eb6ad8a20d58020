//! Organizers: the people whose time is booked, and how a call names one
//! ([`OrganizerRef`]: by id or by username, whichever the caller has).

use std::fmt;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

pub use crate::ids::OrganizerId;
use crate::secret::TokenHash;
use crate::validation::{self, Field, ValidationErrors};

/// Shortest username accepted, as in the seed's schema.
pub const MIN_USERNAME_LEN: usize = 3;
/// Longest username accepted.
pub const MAX_USERNAME_LEN: usize = 64;
/// Longest display name accepted.
pub const MAX_DISPLAY_NAME_LEN: usize = 200;

/// Someone whose time can be booked (the seed's `users` row).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organizer {
    /// Stable id.
    pub id: OrganizerId,
    /// Unique public handle used in booking links, e.g. `ada`; unique
    /// regardless of ASCII case (`Ada` cannot register after `ada`).
    pub username: String,
    /// Contact address.
    pub email: String,
    /// Name shown to attendees.
    pub display_name: String,
    /// The organizer's home time zone: the zone of schedules created
    /// without one, and of dates they type (such as a list's date range)
    /// until they have a default schedule.
    pub time_zone: Tz,
    /// SHA-256 of the organizer's API token; the token itself is never stored.
    pub api_token_hash: TokenHash,
    /// When the organizer registered.
    pub created_at: DateTime<Utc>,
}

impl Organizer {
    /// The organizer a store records for `new`, with the id, token hash and
    /// creation instant the service chose.
    pub fn from_new(
        id: OrganizerId,
        new: NewOrganizer,
        api_token_hash: TokenHash,
        created_at: DateTime<Utc>,
    ) -> Self {
        Organizer {
            id,
            username: new.username,
            email: new.email,
            display_name: new.display_name,
            time_zone: new.time_zone,
            api_token_hash,
            created_at,
        }
    }
}

/// What a new organizer registers with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewOrganizer {
    /// Unique handle: 3 to 64 characters of letters, digits, `_`, `-` or `.`.
    pub username: String,
    /// Contact address.
    pub email: String,
    /// Name shown to attendees.
    pub display_name: String,
    /// Home time zone.
    pub time_zone: Tz,
}

impl NewOrganizer {
    /// An organizer to register with these details.
    pub fn new(
        username: impl Into<String>,
        email: impl Into<String>,
        display_name: impl Into<String>,
        time_zone: Tz,
    ) -> Self {
        NewOrganizer {
            username: username.into(),
            email: email.into(),
            display_name: display_name.into(),
            time_zone,
        }
    }

    /// Checks every field; errors name [`Field::Username`],
    /// [`Field::Email`] and [`Field::Name`]. A reserved username (one a
    /// service uses for its own pages, see [`RESERVED_USERNAMES`]) is
    /// refused here.
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let username = validate_username(&self.username).and_then(|()| {
            if is_reserved_username(&self.username) {
                Err(format!(
                    "{:?} is reserved for the service's own pages; pick another username",
                    self.username
                ))
            } else {
                Ok(())
            }
        });
        errors.check(Field::Username, username);
        errors.check(Field::Email, validation::email(&self.email));
        errors.check(
            Field::Name,
            validation::required_text(&self.display_name, 1, MAX_DISPLAY_NAME_LEN, "Name"),
        );
        errors.into_result(())
    }
}

/// A username is part of public URLs, so it is restricted to URL-safe ASCII.
pub fn validate_username(username: &str) -> Result<(), String> {
    validation::required_text(username, MIN_USERNAME_LEN, MAX_USERNAME_LEN, "Username")?;
    if username
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        Ok(())
    } else {
        Err("Username may contain only letters, digits, '_', '-' and '.'".to_owned())
    }
}

/// Usernames new organizers cannot take, compared ignoring ASCII case:
/// the paths a web front end needs for itself next to `/{username}`.
pub const RESERVED_USERNAMES: &[&str] = &[
    ".well-known",
    "admin",
    "api",
    "assets",
    "bookings",
    "dashboard",
    "favicon.ico",
    "healthz",
    "holds",
    "login",
    "logout",
    "metrics",
    "openapi.json",
    "readyz",
    "robots.txt",
    "sign-up",
    "signup",
    "static",
];

/// Whether `username` is one of [`RESERVED_USERNAMES`], ignoring ASCII case.
pub fn is_reserved_username(username: &str) -> bool {
    RESERVED_USERNAMES
        .iter()
        .any(|reserved| reserved.eq_ignore_ascii_case(username))
}

/// How a call names an organizer: by id (after authenticating them) or by
/// username (from a public booking link). Every [`BookingService`] method
/// that takes an organizer takes `impl Into<OrganizerRef>`, so either works:
///
/// ```
/// use booking_core::{OrganizerId, OrganizerRef};
///
/// let by_name: OrganizerRef = "ada".into();
/// let by_id: OrganizerRef = OrganizerId::generate().into();
/// assert!(matches!(by_name, OrganizerRef::Username(_)));
/// assert!(matches!(by_id, OrganizerRef::Id(_)));
/// ```
///
/// [`BookingService`]: crate::BookingService
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum OrganizerRef {
    /// By id.
    Id(OrganizerId),
    /// By username (compared ignoring ASCII case).
    Username(String),
}

impl From<OrganizerId> for OrganizerRef {
    fn from(id: OrganizerId) -> Self {
        OrganizerRef::Id(id)
    }
}

impl From<&Organizer> for OrganizerRef {
    fn from(organizer: &Organizer) -> Self {
        OrganizerRef::Id(organizer.id)
    }
}

impl From<&str> for OrganizerRef {
    fn from(username: &str) -> Self {
        OrganizerRef::Username(username.to_owned())
    }
}

impl From<String> for OrganizerRef {
    fn from(username: String) -> Self {
        OrganizerRef::Username(username)
    }
}

impl From<&String> for OrganizerRef {
    fn from(username: &String) -> Self {
        OrganizerRef::Username(username.clone())
    }
}

impl fmt::Display for OrganizerRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OrganizerRef::Id(id) => write!(f, "organizer {id}"),
            OrganizerRef::Username(name) => write!(f, "organizer {name:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_organizers_are_validated_field_by_field() {
        let bad = NewOrganizer::new("a b", "nope", " ", Tz::UTC);
        let errors = bad.validate().unwrap_err();
        let fields: Vec<Field> = errors.errors().iter().map(|e| e.field).collect();
        assert_eq!(fields, [Field::Username, Field::Email, Field::Name]);
    }

    #[test]
    fn reserved_usernames_are_refused_in_any_case() {
        for name in ["dashboard", "API", "Healthz", "sign-up"] {
            let errors = NewOrganizer::new(name, "a@example.com", "A", Tz::UTC)
                .validate()
                .unwrap_err();
            assert!(errors.message_for(&Field::Username).is_some(), "{name}");
        }
        assert!(
            NewOrganizer::new("dashboards", "a@example.com", "A", Tz::UTC)
                .validate()
                .is_ok()
        );
    }
}
