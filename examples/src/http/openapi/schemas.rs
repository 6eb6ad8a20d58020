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
    /// `too_many_holds`, `secret_key_missing`, `too_many_calendars`,
    /// `too_many_endpoints`, `rate_limited`, `payload_too_large`,
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
#[schema(rename_all = "camelCase")]
pub struct SlotList {
    /// The offered slots, by start.
    pub slots: Vec<Slot>,
    /// Present only when some connected calendar could not be refreshed:
    /// the names of those read from their last copy.
    #[schema(nullable = false)]
    pub stale_calendars: Option<Vec<String>>,
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
    /// The booking as cancelled (its `sequence` one higher).
    pub booking: BookingDto,
}

/// `POST /api/bookings/{id}/reschedule` reply.
#[derive(Debug, ToSchema)]
pub struct Rescheduled {
    /// Always `true`.
    pub success: bool,
    /// The booking as moved: same id, new times, `sequence` one higher,
    /// `rescheduledFrom` the old time.
    pub booking: BookingDto,
}

/// `GET` and `POST /api/feed-token` reply.
#[derive(Debug, ToSchema)]
pub struct FeedToken {
    /// The organizer's feed token.
    pub token: String,
    /// The feed's URL with the token, for calendar programs to subscribe to.
    pub url: String,
}

/// What kind of calendar a connection reads.
#[derive(Debug, ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum CalendarKind {
    /// An iCalendar feed fetched with `GET`.
    Ics,
    /// A CalDAV calendar collection.
    Caldav,
}

/// A connected calendar (never its password).
#[derive(Debug, ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct Calendar {
    /// Its id.
    pub id: String,
    /// ICS feed or CalDAV.
    pub kind: CalendarKind,
    /// The name shown to people.
    pub name: String,
    /// The feed's or collection's URL.
    pub url: String,
    /// The CalDAV user name; `null` for an ICS feed.
    pub username: Option<String>,
    /// When it was connected.
    #[schema(format = DateTime)]
    pub created_at: String,
}

/// `GET /api/calendars` reply.
#[derive(Debug, ToSchema)]
pub struct CalendarList {
    /// The caller's connected calendars.
    pub calendars: Vec<Calendar>,
}

/// `POST /api/calendars` body: `{"kind": "ics", "url"}` or
/// `{"kind": "caldav", "url", "username", "password"}`, each with an
/// optional `name`. Fields the endpoint does not know are ignored.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"kind": "ics", "url": "https://calendar.example.com/ada.ics", "name": "Work"}))]
pub struct ConnectCalendarBody {
    /// `ics` or `caldav`.
    pub kind: Option<CalendarKind>,
    /// The feed's or collection's URL: `http` or `https` on a public
    /// address.
    pub url: Option<String>,
    /// A name for people.
    pub name: Option<String>,
    /// CalDAV only (required there): the user name.
    pub username: Option<String>,
    /// CalDAV only (required there): the password, encrypted with the
    /// server's secret key and never shown again.
    pub password: Option<String>,
}

/// An event a webhook endpoint can receive.
#[derive(Debug, ToSchema)]
pub enum WebhookEvent {
    /// A booking was made.
    #[schema(rename = "booking.created")]
    Created,
    /// A booking was moved.
    #[schema(rename = "booking.rescheduled")]
    Rescheduled,
    /// A booking was cancelled.
    #[schema(rename = "booking.cancelled")]
    Cancelled,
}

/// `POST /api/webhooks` body.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"url": "https://hooks.example.com/booking", "events": ["booking.created", "booking.cancelled"]}))]
pub struct CreateWebhookBody {
    /// Where deliveries are POSTed: `http` or `https` on a public address,
    /// at most 2048 characters, without credentials.
    pub url: Option<String>,
    /// The events to receive: at least one, each once.
    pub events: Option<Vec<WebhookEvent>>,
}

/// Why an endpoint no longer receives deliveries.
#[derive(Debug, ToSchema)]
pub struct WebhookDisabled {
    /// When.
    #[schema(format = DateTime)]
    pub at: String,
    /// Why, for people (e.g. the receiver answered `410 Gone`).
    pub reason: String,
}

/// A webhook endpoint (never its secrets).
#[derive(Debug, ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct WebhookEndpoint {
    /// Its id.
    pub id: String,
    /// Whose it is.
    pub organizer_id: String,
    /// Where deliveries go.
    pub url: String,
    /// What it receives.
    pub events: Vec<WebhookEvent>,
    /// Set once it stopped receiving deliveries.
    pub disabled: Option<WebhookDisabled>,
    /// When it was created.
    #[schema(format = DateTime)]
    pub created_at: String,
    /// Until when the previous secret still signs, for 24 hours after a
    /// rotation.
    #[schema(format = DateTime)]
    pub previous_secret_expires_at: Option<String>,
}

/// `POST /api/webhooks` reply: the endpoint and its signing secret.
#[derive(Debug, ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct WebhookCreated {
    /// Its id.
    pub id: String,
    /// Whose it is.
    pub organizer_id: String,
    /// Where deliveries go.
    pub url: String,
    /// What it receives.
    pub events: Vec<WebhookEvent>,
    /// `null` for a new endpoint.
    pub disabled: Option<WebhookDisabled>,
    /// When it was created.
    #[schema(format = DateTime)]
    pub created_at: String,
    /// `null` for a new endpoint.
    #[schema(format = DateTime)]
    pub previous_secret_expires_at: Option<String>,
    /// The signing secret (`whsec_...`), shown in this reply only.
    pub secret: String,
}

/// `GET /api/webhooks` reply.
#[derive(Debug, ToSchema)]
pub struct WebhookList {
    /// The caller's endpoints.
    pub webhooks: Vec<WebhookEndpoint>,
}

/// `POST /api/webhooks/{id}/rotate-secret` reply.
#[derive(Debug, ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct RotatedSecret {
    /// The endpoint's id.
    pub id: String,
    /// The new signing secret, shown in this reply only.
    pub secret: String,
    /// Until when the previous secret still signs.
    #[schema(format = DateTime)]
    pub previous_secret_expires_at: Option<String>,
}

/// Where a delivery stands.
#[derive(Debug, ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum DeliveryStatus {
    /// Waiting for an attempt.
    Pending,
    /// Delivered.
    Done,
    /// Given up on.
    Dead,
}

/// One event's delivery to one endpoint.
#[derive(Debug, ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct Delivery {
    /// The event's id: the `webhook-id` header, the same on every attempt.
    pub event_id: String,
    /// The event's kind.
    pub event_type: Option<WebhookEvent>,
    /// The booking.
    pub booking_id: String,
    /// Where it stands.
    pub status: DeliveryStatus,
    /// Attempts so far.
    pub attempts: u32,
    /// The receiver's status code at the last attempt, if it answered.
    pub last_response_code: Option<u16>,
    /// What went wrong at the last attempt, if it failed.
    pub last_error: Option<String>,
    /// When the next attempt is due, while pending.
    #[schema(format = DateTime)]
    pub next_attempt_at: Option<String>,
    /// When the event was queued for this endpoint.
    #[schema(format = DateTime)]
    pub created_at: String,
    /// When the delivery last changed.
    #[schema(format = DateTime)]
    pub updated_at: String,
}

/// `GET /api/webhooks/{id}/deliveries` reply.
#[derive(Debug, ToSchema)]
pub struct DeliveryList {
    /// The latest deliveries, newest first.
    pub deliveries: Vec<Delivery>,
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
