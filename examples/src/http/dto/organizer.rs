//! Organizers: the registration body and how an organizer is shown.

use booking_core::time::parse_time_zone;
use booking_core::{NewOrganizer, Organizer};
use serde::{Deserialize, Serialize};

use crate::http::error::ApiError;
use crate::http::extract::RequestBody;
use crate::http::fields::{FieldErrors, Surface, renamed};

/// `POST /api/organizers` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"username": "ada", "email": "ada@example.com", "name": "Ada Lovelace", "timeZone": "Europe/London"}))]
pub struct RegisterBody {
    /// Unique handle.
    pub username: Option<String>,
    /// Contact address.
    pub email: Option<String>,
    /// Display name.
    pub name: Option<String>,
    /// IANA zone.
    pub time_zone: Option<String>,
}

impl RequestBody for RegisterBody {}

impl RegisterBody {
    /// The organizer to register, or every refused field.
    pub fn into_new_organizer(self) -> Result<NewOrganizer, ApiError> {
        let mut errors = FieldErrors::new();
        let absent = [
            ("username", self.username.is_none()),
            ("email", self.email.is_none()),
            ("name", self.name.is_none()),
        ];
        for (field, is_absent) in absent {
            if is_absent {
                errors.add(field, format!("{field} is required"));
            }
        }
        let zone = match self.time_zone.as_deref() {
            None => {
                errors.add(
                    "timeZone",
                    "timeZone is required (an IANA name such as Europe/London)",
                );
                None
            }
            Some(name) => errors.check("timeZone", parse_time_zone(name)),
        };
        let new = NewOrganizer::new(
            self.username.unwrap_or_default(),
            self.email.unwrap_or_default(),
            self.name.unwrap_or_default(),
            zone.unwrap_or(chrono_tz::Tz::UTC),
        );
        if let Err(found) = new.validate() {
            for error in renamed(found, Surface::Body).errors() {
                if !absent.iter().any(|(f, a)| *a && *f == error.field) {
                    errors.add(error.field.clone(), error.message.clone());
                }
            }
        }
        errors
            .into_result(new)
            .map_err(|e| ApiError::validation(&e))
    }
}

/// An organizer as the API shows it (never the token or its hash).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrganizerDto {
    id: String,
    username: String,
    email: String,
    name: String,
    time_zone: String,
}

impl From<&Organizer> for OrganizerDto {
    fn from(organizer: &Organizer) -> Self {
        OrganizerDto {
            id: organizer.id.to_string(),
            username: organizer.username.clone(),
            email: organizer.email.clone(),
            name: organizer.display_name.clone(),
            time_zone: organizer.time_zone.name().to_owned(),
        }
    }
}
