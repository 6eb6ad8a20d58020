//! The shapes of replies that the handlers build as JSON envelopes around
//! the DTOs of [`crate::http::dto`] (`{"slots": [...]}`, `{"booking": ...}`,
//! the error reply): described here for the API description only. Each
//! mirrors the `json!` of its handler field for field; the description's
//! test and the schemathesis run (`examples/scripts/fuzz-api.sh`) check the
//! replies against them.

use std::collections::BTreeMap;

use utoipa::ToSchema;

use crate::http::dto::{BookingDto, EventTypeDto, OrganizerDto, PublicEventTypeDto, ScheduleDto};

/// Every error reply: a message for people, a
/// stable code for programs and, for `validation_error`, the refused fields.
#[derive(Debug, ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody {
    /// What went wrong, in words for people.
    pub error: String,
    /// The stable snake_case code clients branch on: `validation_error`,
    /// `invalid_time_range`, `unauthorized`, `permission_denied`,
    /// `not_found`, `organizer_not_found`, `event_type_not_found`,
    /// `schedule_not_found`, `hold_not_found`, `settings_not_found`,
    /// `slot_unavailable`, `slot_being_booked`, `already_cancelled`,
    /// `username_taken`, `slug_taken`, `schedule_in_use`,
    /// `booking_limit_reached`, `concurrent_update`, `booking_started`,
    /// `holds_disabled`, `idempotency_in_progress`, `idempotency_key_reused`,
    /// `too_many_holds`, `rate_limited`, `payload_too_large`,
    /// `request_timeout`, `method_not_allowed`, `calendar_unavailable`,
    /// `unavailable`, `internal`. New codes may be added.
    #[schema(pattern = "^[a-z0-9_]+$", example = "validation_error")]
    pub code: String,
    /// For `validation_error`: each refused field by its JSON path
    /// (`attendantEmail`, `weeklyHours.monday[0].end`) with the reason.
    /// Absent otherwise.
    pub fields: Option<BTreeMap<String, String>>,
}

/// `POST /api/organizers` reply.
#[derive(Debug, ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct Registered {
    /// The organizer as stored.
    pub organizer: OrganizerDto,
    /// The API token, shown in this reply only (only its hash is kept).
    pub api_token: String,
}

/// `POST /api/token/rotate` reply.
#[derive(Debug, ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct ApiToken {
    /// The new API token, shown in this reply only.
    pub api_token: String,
}

/// One offered slot.
#[derive(Debug, ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct Slot {
    /// Its start, RFC 3339 UTC with milliseconds.
    #[schema(format = DateTime, example = "2026-12-01T09:00:00.000Z")]
    pub start_time: String,
    /// Its end (exclusive).
    #[schema(format = DateTime, example = "2026-12-01T09:30:00.000Z")]
    pub end_time: String,
}

/// `GET /api/organizers/{username}/slots` reply.
#[derive(Debug, ToSchema)]
pub struct SlotList {
    /// The offered slots, by start.
    pub slots: Vec<Slot>,
}

/// `GET /api/event-types` reply.
#[derive(Debug, ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct EventTypeList {
    /// The caller's event types, active or not.
    pub event_types: Vec<EventTypeDto>,
}

/// `GET /api/organizers/{username}/event-types` reply.
#[derive(Debug, ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct PublicEventTypeList {
    /// The organizer's active event types, without private fields.
    pub event_types: Vec<PublicEventTypeDto>,
}

/// `GET /api/schedules` reply.
#[derive(Debug, ToSchema)]
pub struct ScheduleList {
    /// The caller's schedules.
    pub schedules: Vec<ScheduleDto>,
}

/// `POST /api/bookings` reply.
#[derive(Debug, ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct BookingCreated {
    /// Always `true`.
    pub success: bool,
    /// The booking as stored.
    pub booking: BookingDto,
    /// The attendee's cancel token, shown in this reply only.
    pub cancel_token: String,
}

/// A page of a list.
#[derive(Debug, ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct Pagination {
    /// This page's number, from 1.
    pub page: u64,
    /// Bookings per page (at most 100).
    pub limit: u64,
    /// Bookings in all pages.
    pub total: u64,
    /// Number of pages.
    pub total_pages: u64,
}

/// `GET /api/bookings` reply.
#[derive(Debug, ToSchema)]
pub struct BookingList {
    /// The caller's active bookings on this page, by start.
    pub bookings: Vec<BookingDto>,
    /// Where this page is.
    pub pagination: Pagination,
}

/// `GET /api/bookings/{id}` reply.
#[derive(Debug, ToSchema)]
pub struct BookingReply {
    /// The booking.
    pub booking: BookingDto,
}

/// `POST /api/bookings/{id}/cancel` reply.
#[derive(Debug, ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct Cancelled {
    /// Always `true`.
    pub success: bool,
    /// `Booking cancelled successfully`.
    pub message: String,
    /// When it was cancelled.
    #[schema(format = DateTime)]
    pub cancelled_at: String,
}

/// `GET /healthz` reply.
#[derive(Debug, ToSchema)]
pub struct Liveness {
    /// Always `ok`.
    #[schema(example = "ok")]
    pub status: String,
}

/// `GET /readyz` reply.
#[derive(Debug, ToSchema)]
pub struct Readiness {
    /// `ok`, `degraded` (the lock backend is down; bookings go on) or
    /// `unavailable` (the store is down; 503).
    pub status: ReadinessStatus,
    /// Whether the store answered.
    pub store: BackendState,
    /// Whether the lock backend answered (`unknown` when the check timed
    /// out).
    pub lock: BackendState,
    /// What is wrong, when something is.
    pub message: Option<String>,
}

/// The overall readiness.
#[derive(Debug, ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum ReadinessStatus {
    /// Everything answers.
    Ok,
    /// Only the lock backend is down.
    Degraded,
    /// The store is down.
    Unavailable,
}

/// What a backend's check found.
#[derive(Debug, ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum BackendState {
    /// It answered.
    Ok,
    /// It did not.
    Down,
    /// Not known (the check timed out).
    Unknown,
}
