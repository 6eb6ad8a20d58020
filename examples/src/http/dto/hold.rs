//! Slot holds: the hold body, how a hold is shown, and the release body.

use booking_core::{CreatedHold, HoldRequest};
use serde::{Deserialize, Serialize};

use super::booking::requested_time;
use super::instant;
use crate::http::error::ApiError;
use crate::http::extract::RequestBody;

/// `POST /api/organizers/{username}/holds` body: the slot, as for a booking.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"startTime": "2026-12-01T09:00:00Z", "durationMinutes": 30}))]
pub struct HoldBody {
    /// RFC 3339 start.
    pub start_time: Option<String>,
    /// RFC 3339 end; may be left out when `durationMinutes` is given.
    pub end_time: Option<String>,
    /// The length chosen, in minutes (one the event type offers).
    pub duration_minutes: Option<i64>,
    /// The event type's slug; the default event type when absent.
    pub event_type: Option<String>,
}

impl RequestBody for HoldBody {}

impl HoldBody {
    /// The request for the service, holding `username`'s slot for `client`
    /// (the client's address, for the per-client cap), or 400 naming the
    /// field.
    pub fn into_request(
        self,
        username: String,
        client: Option<String>,
    ) -> Result<HoldRequest, ApiError> {
        let time = requested_time(
            self.start_time.as_deref(),
            self.end_time.as_deref(),
            self.duration_minutes,
            false,
        )?;
        if let Some(slug) = &self.event_type
            && let Err(error) = slug.parse::<booking_core::event_type::Slug>()
        {
            return Err(ApiError::field("eventType", error.to_string()));
        }
        let mut request = HoldRequest::new(username, time);
        request.event_type = self.event_type;
        request.client = client;
        Ok(request)
    }
}

/// A hold just taken: `{holdId, holdToken, expiresAt, startTime, endTime}`.
/// The token is shown only here.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HoldDto {
    /// The hold's id (for `DELETE /api/holds/{id}`).
    hold_id: String,
    /// The hold's secret token: `holdToken` when booking the slot or
    /// releasing the hold. Shown in this reply only.
    hold_token: String,
    /// When the hold lapses unless booked or released.
    #[schema(format = DateTime)]
    expires_at: String,
    /// The held slot's start.
    #[schema(format = DateTime)]
    start_time: String,
    /// The held slot's end (exclusive).
    #[schema(format = DateTime)]
    end_time: String,
}

impl From<&CreatedHold> for HoldDto {
    fn from(created: &CreatedHold) -> Self {
        HoldDto {
            hold_id: created.hold.id.to_string(),
            hold_token: created.token.expose().to_owned(),
            expires_at: instant(created.hold.expires_at),
            start_time: instant(created.hold.time.start()),
            end_time: instant(created.hold.time.end()),
        }
    }
}

/// `DELETE /api/holds/{id}` body (optional when the `Hold-Token` header
/// carries the token).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseHoldBody {
    /// The hold's token.
    pub hold_token: Option<String>,
}

impl RequestBody for ReleaseHoldBody {}
