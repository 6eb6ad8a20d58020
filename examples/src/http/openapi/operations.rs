//! One operation per route and method: what it takes and every reply it
//! can give. Each function here only carries its operation's description
//! (`#[utoipa::path]`, with the doc comment as summary and description) and
//! is never called; the handler it describes is linked from its doc. The
//! replies every operation of a kind shares (400/408/413 for a body, 401
//! for a bearer token, 429 for rate limits) are added by
//! [`super::CommonReplies`], so an operation lists only its own.
#![allow(
    dead_code,
    reason = "each function only carries its operation's description"
)]

use crate::http::dto::{
    CancelBody, CreateBookingBody, EventTypeBody, EventTypeDto, HoldBody, HoldDto, RegisterBody,
    ReleaseHoldBody, RescheduleBody, ScheduleBody, ScheduleDto, SettingsBody, SettingsDto,
};

use super::schemas::{
    ApiToken, BookingCreated, BookingList, BookingReply, Calendar, CalendarList, Cancelled,
    ConnectCalendarBody, CreateWebhookBody, DeliveryList, ErrorBody, EventTypeList, FeedToken,
    Liveness, PublicEventTypeList, Readiness, Registered, Rescheduled, RotatedSecret, ScheduleList,
    SlotList, WebhookCreated, WebhookList,
};

/// Liveness: the process serves HTTP.
///
/// Always 200 while the process runs.
// Handler: `handlers::healthz`.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "operations",
    operation_id = "healthz",
    responses((status = 200, description = "The process serves", body = Liveness)),
)]
fn healthz() {}

/// Readiness: the store and the lock backend answer.
///
/// 200 when the store answers (`degraded` when only the lock backend does
/// not), 503 when the store does not.
// Handler: `health::readyz`.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "operations",
    operation_id = "readyz",
    responses(
        (status = 200, description = "The store answers", body = Readiness),
        (status = 503, description = "The store does not answer", body = Readiness),
    ),
)]
fn readyz() {}

/// Metrics in the Prometheus text format.
///
/// Requests by route and status, booking outcomes, latencies and backend
/// health.
// Handler: `metrics::scrape`.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    operation_id = "metrics",
    responses(
        (status = 200, description = "Prometheus text exposition format 0.0.4", body = String, content_type = "text/plain"),
        (status = 404, description = "`not_found`: the embedding program records no metrics", body = ErrorBody),
    ),
)]
fn metrics() {}

/// This description of the API (OpenAPI 3.1).
// Handler: `openapi::serve`.
#[utoipa::path(
    get,
    path = "/api/openapi.json",
    tag = "operations",
    operation_id = "openapi",
    responses((status = 200, description = "The OpenAPI 3.1 document", body = serde_json::Value)),
)]
fn openapi() {}

/// Registers an organizer.
///
/// The API token is in this reply only; only its hash is stored. Fields the
/// endpoint does not know are accepted and named in `Ignored-Fields`.
// Handler: `handlers::register`.
#[utoipa::path(
    post,
    path = "/api/organizers",
    tag = "organizers",
    operation_id = "register",
    request_body = RegisterBody,
    responses(
        (status = 201, description = "Registered", body = Registered, headers(
            ("Ignored-Fields" = String, description = "The body's fields this endpoint does not know, when there were any"),
        )),
        (status = 409, description = "`username_taken` (usernames are unique regardless of case)", body = ErrorBody),
    ),
)]
fn register() {}

/// Replaces the caller's API token.
///
/// The new token is in this reply only; the old one stops working at once,
/// and so does every sign-in session started with it.
// Handler: `handlers::rotate_token`.
#[utoipa::path(
    post,
    path = "/api/token/rotate",
    tag = "organizers",
    operation_id = "rotateToken",
    responses((status = 200, description = "The new token", body = ApiToken)),
    security(("bearerAuth" = [])),
)]
fn rotate_token() {}

/// The caller's settings (version 1's single schedule and meeting kind).
// Handler: `handlers::get_settings`.
#[utoipa::path(
    get,
    path = "/api/settings",
    tag = "settings",
    operation_id = "getSettings",
    responses(
        (status = 200, description = "The settings", body = SettingsDto),
        (status = 409, description = "`settings_not_found`: none saved yet", body = ErrorBody),
    ),
    security(("bearerAuth" = [])),
)]
fn get_settings() {}

/// Replaces the caller's settings.
///
/// Unknown fields are refused.
// Handler: `handlers::put_settings`.
#[utoipa::path(
    put,
    path = "/api/settings",
    tag = "settings",
    operation_id = "putSettings",
    request_body = SettingsBody,
    responses(
        (status = 200, description = "The settings as stored", body = SettingsDto),
        (status = 409, description = "`concurrent_update`: the configuration changed meanwhile; retry", body = ErrorBody),
    ),
    security(("bearerAuth" = [])),
)]
fn put_settings() {}

/// The caller's event types, active or not.
// Handler: `handlers::event_types::list`.
#[utoipa::path(
    get,
    path = "/api/event-types",
    tag = "event types",
    operation_id = "listEventTypes",
    responses((status = 200, description = "The event types", body = EventTypeList)),
    security(("bearerAuth" = [])),
)]
fn list_event_types() {}

/// Creates an event type.
///
/// Unknown fields are refused.
// Handler: `handlers::event_types::create`.
#[utoipa::path(
    post,
    path = "/api/event-types",
    tag = "event types",
    operation_id = "createEventType",
    request_body = EventTypeBody,
    responses(
        (status = 201, description = "The event type as stored", body = EventTypeDto),
        (status = 404, description = "`schedule_not_found`: `scheduleId` names none of the caller's schedules", body = ErrorBody),
        (status = 409, description = "`slug_taken`, `concurrent_update` or `settings_not_found` (no default schedule to use yet)", body = ErrorBody),
    ),
    security(("bearerAuth" = [])),
)]
fn create_event_type() {}

/// One of the caller's event types, active or not.
// Handler: `handlers::event_types::read`.
#[utoipa::path(
    get,
    path = "/api/event-types/{slug}",
    tag = "event types",
    operation_id = "getEventType",
    params(("slug" = String, Path, description = "The event type's slug")),
    responses(
        (status = 200, description = "The event type", body = EventTypeDto),
        (status = 404, description = "`event_type_not_found`", body = ErrorBody),
    ),
    security(("bearerAuth" = [])),
)]
fn get_event_type() {}

/// Replaces one of the caller's event types.
///
/// Fields left out take their defaults; `slug` defaults to the path's
/// (another one renames it). Unknown fields are refused.
// Handler: `handlers::event_types::replace`.
#[utoipa::path(
    put,
    path = "/api/event-types/{slug}",
    tag = "event types",
    operation_id = "replaceEventType",
    params(("slug" = String, Path, description = "The event type's slug")),
    request_body = EventTypeBody,
    responses(
        (status = 200, description = "The event type as stored", body = EventTypeDto),
        (status = 404, description = "`event_type_not_found` or `schedule_not_found`", body = ErrorBody),
        (status = 409, description = "`slug_taken` or `concurrent_update`", body = ErrorBody),
    ),
    security(("bearerAuth" = [])),
)]
fn replace_event_type() {}

/// Deletes one of the caller's event types; its bookings stay.
// Handler: `handlers::event_types::delete`.
#[utoipa::path(
    delete,
    path = "/api/event-types/{slug}",
    tag = "event types",
    operation_id = "deleteEventType",
    params(("slug" = String, Path, description = "The event type's slug")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "`event_type_not_found`", body = ErrorBody),
        (status = 409, description = "`concurrent_update`", body = ErrorBody),
    ),
    security(("bearerAuth" = [])),
)]
fn delete_event_type() {}

/// The caller's schedules.
// Handler: `handlers::schedules::list`.
#[utoipa::path(
    get,
    path = "/api/schedules",
    tag = "schedules",
    operation_id = "listSchedules",
    responses((status = 200, description = "The schedules", body = ScheduleList)),
    security(("bearerAuth" = [])),
)]
fn list_schedules() {}

/// Creates a schedule.
///
/// Unknown fields are refused.
// Handler: `handlers::schedules::create`.
#[utoipa::path(
    post,
    path = "/api/schedules",
    tag = "schedules",
    operation_id = "createSchedule",
    request_body = ScheduleBody,
    responses(
        (status = 201, description = "The schedule as stored", body = ScheduleDto),
        (status = 409, description = "`concurrent_update`", body = ErrorBody),
    ),
    security(("bearerAuth" = [])),
)]
fn create_schedule() {}

/// One of the caller's schedules.
// Handler: `handlers::schedules::read`.
#[utoipa::path(
    get,
    path = "/api/schedules/{id}",
    tag = "schedules",
    operation_id = "getSchedule",
    params(("id" = String, Path, description = "The schedule's id")),
    responses(
        (status = 200, description = "The schedule", body = ScheduleDto),
        (status = 404, description = "`schedule_not_found`", body = ErrorBody),
    ),
    security(("bearerAuth" = [])),
)]
fn get_schedule() {}

/// Replaces one of the caller's schedules.
///
/// Unknown fields are refused.
// Handler: `handlers::schedules::replace`.
#[utoipa::path(
    put,
    path = "/api/schedules/{id}",
    tag = "schedules",
    operation_id = "replaceSchedule",
    params(("id" = String, Path, description = "The schedule's id")),
    request_body = ScheduleBody,
    responses(
        (status = 200, description = "The schedule as stored", body = ScheduleDto),
        (status = 404, description = "`schedule_not_found`", body = ErrorBody),
        (status = 409, description = "`concurrent_update`", body = ErrorBody),
    ),
    security(("bearerAuth" = [])),
)]
fn replace_schedule() {}

/// Deletes one of the caller's schedules.
// Handler: `handlers::schedules::delete`.
#[utoipa::path(
    delete,
    path = "/api/schedules/{id}",
    tag = "schedules",
    operation_id = "deleteSchedule",
    params(("id" = String, Path, description = "The schedule's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "`schedule_not_found`", body = ErrorBody),
        (status = 409, description = "`schedule_in_use`: the default schedule, or one an event type uses; or `concurrent_update`", body = ErrorBody),
    ),
    security(("bearerAuth" = [])),
)]
fn delete_schedule() {}

/// An organizer's active event types, as attendees see them.
// Handler: `handlers::event_types::public`.
#[utoipa::path(
    get,
    path = "/api/organizers/{username}/event-types",
    tag = "booking",
    operation_id = "publicEventTypes",
    params(("username" = String, Path, description = "The organizer's username")),
    responses(
        (status = 200, description = "The active event types", body = PublicEventTypeList),
        (status = 404, description = "`organizer_not_found`", body = ErrorBody),
    ),
)]
fn public_event_types() {}

/// The slots an organizer offers whose start lies in `[start, end)`.
///
/// Of the event type named (the default one when absent) and of the length
/// chosen (its default length when absent); the window may be at most 62
/// days long.
// Handler: `handlers::slots`.
#[utoipa::path(
    get,
    path = "/api/organizers/{username}/slots",
    tag = "booking",
    operation_id = "slots",
    params(
        ("username" = String, Path, description = "The organizer's username"),
        ("start" = String, Query, format = DateTime, description = "The window's first instant (RFC 3339)", example = "2026-12-01T00:00:00Z"),
        ("end" = String, Query, format = DateTime, description = "The window's end, exclusive (RFC 3339)", example = "2026-12-08T00:00:00Z"),
        ("eventType" = Option<String>, Query, description = "The event type's slug; the default event type when absent"),
        ("duration" = Option<i64>, Query, description = "The length in minutes, one the event type offers; its default length when absent"),
    ),
    responses(
        (status = 200, description = "The offered slots", body = SlotList),
        (status = 400, description = "`validation_error` naming the parameter, or `invalid_time_range` (end not after start)", body = ErrorBody),
        (status = 404, description = "`organizer_not_found` or `event_type_not_found`", body = ErrorBody),
        (status = 409, description = "`settings_not_found`: the organizer has no working hours yet", body = ErrorBody),
        (status = 503, description = "`calendar_unavailable`: a connected calendar does not answer", body = ErrorBody),
    ),
)]
fn slots() {}

/// Books an offered slot for an attendee.
///
/// Fields the endpoint does not know are accepted and named in
/// `Ignored-Fields`. With the `holdToken` of a hold on exactly this slot,
/// the hold becomes the booking. With an `Idempotency-Key`, a retry of the
/// same request gets the first reply again (marked `Idempotent-Replayed`).
// Handler: `handlers::lifecycle::create_booking`.
#[utoipa::path(
    post,
    path = "/api/bookings",
    tag = "booking",
    operation_id = "createBooking",
    params(
        ("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, pattern = "^[!-~]+$", description = "1 to 255 visible ASCII characters: the same key with the same request again gets the first outcome again (for 24 hours)"),
    ),
    request_body = CreateBookingBody,
    responses(
        (status = 201, description = "Booked", body = BookingCreated, headers(
            ("Ignored-Fields" = String, description = "The body's fields this endpoint does not know, when there were any"),
            ("Idempotent-Replayed" = String, description = "`true` when this is the recorded reply to an earlier request with the same `Idempotency-Key`; absent otherwise"),
        )),
        (status = 400, description = "`validation_error` naming every refused field (`Idempotency-Key` too), or `invalid_time_range`", body = ErrorBody),
        (status = 404, description = "`organizer_not_found`, `event_type_not_found` or `hold_not_found`", body = ErrorBody),
        (status = 409, description = "`slot_unavailable`, `slot_being_booked`, `booking_limit_reached`, `settings_not_found`, `concurrent_update` or `idempotency_in_progress` (a request with this key still runs)", body = ErrorBody),
        (status = 422, description = "`idempotency_key_reused`: this `Idempotency-Key` came with another request", body = ErrorBody),
        (status = 503, description = "`calendar_unavailable`: a connected calendar does not answer", body = ErrorBody),
    ),
)]
fn create_booking() {}

/// The caller's active bookings by start, a page at a time.
///
/// Dates are whole local days in the organizer's zone.
// Handler: `handlers::list_bookings`.
#[utoipa::path(
    get,
    path = "/api/bookings",
    tag = "bookings",
    operation_id = "listBookings",
    params(
        ("page" = Option<u128>, Query, minimum = 1, description = "The page, from 1 (default 1; any number of digits)"),
        ("limit" = Option<u128>, Query, minimum = 1, description = "Bookings per page (default 20; more than 100 is taken as 100)"),
        ("startDate" = Option<String>, Query, format = Date, description = "First local date (YYYY-MM-DD)"),
        ("endDate" = Option<String>, Query, format = Date, description = "Last local date, inclusive (YYYY-MM-DD)"),
    ),
    responses(
        (status = 200, description = "A page of bookings", body = BookingList),
        (status = 400, description = "`validation_error` naming the parameter", body = ErrorBody),
    ),
    security(("bearerAuth" = [])),
)]
fn list_bookings() {}

/// One booking, for its organizer or with its cancel token.
// Handler: `handlers::get_booking`.
#[utoipa::path(
    get,
    path = "/api/bookings/{id}",
    tag = "bookings",
    operation_id = "getBooking",
    params(
        ("id" = String, Path, description = "The booking's id"),
        ("cancelToken" = Option<String>, Query, description = "The attendee's cancel token, instead of the organizer's bearer token"),
    ),
    responses(
        (status = 200, description = "The booking", body = BookingReply),
        (status = 400, description = "`validation_error`: a malformed query string", body = ErrorBody),
        (status = 401, description = "`unauthorized`: neither a bearer token nor a cancel token, or an unknown bearer token", body = ErrorBody),
        (status = 403, description = "`permission_denied`: the token is not this booking's", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
    ),
    security((), ("bearerAuth" = [])),
)]
fn get_booking() {}

/// Cancels a booking, for its organizer or with its cancel token.
///
/// The body is optional with a bearer token. With an `Idempotency-Key`, a
/// retry gets the first reply again (marked `Idempotent-Replayed`) instead
/// of 409 `already_cancelled`.
// Handler: `handlers::lifecycle::cancel_booking`.
#[utoipa::path(
    post,
    path = "/api/bookings/{id}/cancel",
    tag = "bookings",
    operation_id = "cancelBooking",
    params(("id" = String, Path, description = "The booking's id"),
        ("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, pattern = "^[!-~]+$", description = "1 to 255 visible ASCII characters: the same key with the same request again gets the first outcome again (for 24 hours)"),
    ),
    request_body(content = Option<CancelBody>, description = "`{cancelToken}`; optional with a bearer token"),
    responses(
        (status = 200, description = "Cancelled", body = Cancelled, headers(
            ("Ignored-Fields" = String, description = "The body's fields this endpoint does not know, when there were any"),
            ("Idempotent-Replayed" = String, description = "`true` when this is the recorded reply to an earlier request with the same `Idempotency-Key`; absent otherwise"),
        )),
        (status = 401, description = "`unauthorized`: neither a bearer token nor a cancel token, or an unknown bearer token", body = ErrorBody),
        (status = 403, description = "`permission_denied`: the token is not this booking's", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`already_cancelled`, `concurrent_update` or `idempotency_in_progress` (a request with this key still runs)", body = ErrorBody),
        (status = 422, description = "`idempotency_key_reused`: this `Idempotency-Key` came with another request", body = ErrorBody),
    ),
    security((), ("bearerAuth" = [])),
)]
fn cancel_booking() {}

/// Moves a booking to another offered slot, for its organizer or with its
/// cancel token.
///
/// The booking keeps its id and cancel token; its `sequence` goes up by
/// one and `rescheduledFrom` is the old time. The length stays the
/// booking's unless `endTime` or `durationMinutes` says otherwise. With an
/// `Idempotency-Key`, a retry gets the first reply again (marked
/// `Idempotent-Replayed`).
// Handler: `handlers::lifecycle::reschedule`.
#[utoipa::path(
    post,
    path = "/api/bookings/{id}/reschedule",
    tag = "bookings",
    operation_id = "rescheduleBooking",
    params(("id" = String, Path, description = "The booking's id"),
        ("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, pattern = "^[!-~]+$", description = "1 to 255 visible ASCII characters: the same key with the same request again gets the first outcome again (for 24 hours)"),
    ),
    request_body = RescheduleBody,
    responses(
        (status = 200, description = "Moved", body = Rescheduled, headers(
            ("Ignored-Fields" = String, description = "The body's fields this endpoint does not know, when there were any"),
            ("Idempotent-Replayed" = String, description = "`true` when this is the recorded reply to an earlier request with the same `Idempotency-Key`; absent otherwise"),
        )),
        (status = 400, description = "`validation_error` naming every refused field (`Idempotency-Key` too), or `invalid_time_range`", body = ErrorBody),
        (status = 401, description = "`unauthorized`: neither a bearer token nor a cancel token, or an unknown bearer token", body = ErrorBody),
        (status = 403, description = "`permission_denied`: the token is not this booking's", body = ErrorBody),
        (status = 404, description = "`not_found`, `organizer_not_found` or `event_type_not_found`", body = ErrorBody),
        (status = 409, description = "`already_cancelled`, `booking_started`, `slot_unavailable`, `slot_being_booked`, `booking_limit_reached`, `settings_not_found`, `concurrent_update` or `idempotency_in_progress`", body = ErrorBody),
        (status = 422, description = "`idempotency_key_reused`: this `Idempotency-Key` came with another request", body = ErrorBody),
        (status = 503, description = "`calendar_unavailable`: a connected calendar does not answer", body = ErrorBody),
    ),
    security((), ("bearerAuth" = [])),
)]
fn reschedule_booking() {}

/// Holds an offered slot while a visitor fills in the form.
///
/// For the event type's hold time (5 minutes unless the organizer set
/// another, at most 15): nobody else is offered, books or holds it until
/// the hold expires or is released. Booking it with `holdToken` turns the
/// hold into the booking.
// Handler: `handlers::lifecycle::hold`.
#[utoipa::path(
    post,
    path = "/api/organizers/{username}/holds",
    tag = "booking",
    operation_id = "holdSlot",
    params(("username" = String, Path, description = "The organizer's username")),
    request_body = HoldBody,
    responses(
        (status = 201, description = "Held", body = HoldDto, headers(
            ("Ignored-Fields" = String, description = "The body's fields this endpoint does not know, when there were any"),
        )),
        (status = 400, description = "`validation_error` naming every refused field, or `invalid_time_range`", body = ErrorBody),
        (status = 404, description = "`organizer_not_found` or `event_type_not_found`", body = ErrorBody),
        (status = 409, description = "`slot_unavailable`, `slot_being_booked`, `holds_disabled` (the event type holds no slots), `booking_limit_reached`, `settings_not_found` or `concurrent_update`", body = ErrorBody),
        (status = 429, description = "`too_many_holds`: this client holds too many slots of this organizer already; or `rate_limited`", body = ErrorBody),
        (status = 503, description = "`calendar_unavailable`: a connected calendar does not answer", body = ErrorBody),
    ),
)]
fn hold_slot() {}

/// Releases a hold early, with its token in the body or the `Hold-Token`
/// header.
// Handler: `handlers::lifecycle::release_hold`.
#[utoipa::path(
    delete,
    path = "/api/holds/{id}",
    tag = "booking",
    operation_id = "releaseHold",
    params(
        ("id" = String, Path, description = "The hold's id"),
        ("Hold-Token" = Option<String>, Header, description = "The hold's token, instead of `holdToken` in the body"),
    ),
    request_body(content = Option<ReleaseHoldBody>, description = "`{holdToken}`; optional with the `Hold-Token` header"),
    responses(
        (status = 204, description = "Released"),
        (status = 400, description = "`validation_error`: no `holdToken` in the body nor the header", body = ErrorBody),
        (status = 404, description = "`hold_not_found`: no unexpired hold has this id and token", body = ErrorBody),
    ),
)]
fn release_hold() {}

/// A booking's invitation as iCalendar, for its organizer or with its
/// cancel token.
///
/// One `VEVENT` whose `UID` never changes; `METHOD:REQUEST`, or
/// `METHOD:CANCEL` once cancelled (the `method` parameter of the content
/// type says which).
// Handler: `handlers::calendar::booking_ics`.
#[utoipa::path(
    get,
    path = "/api/bookings/{id}/ics",
    tag = "calendars",
    operation_id = "bookingIcs",
    params(
        ("id" = String, Path, description = "The booking's id"),
        ("cancelToken" = Option<String>, Query, description = "The attendee's cancel token, instead of the organizer's bearer token"),
    ),
    responses(
        (status = 200, description = "The invitation (`text/calendar; charset=utf-8; method=REQUEST` or `method=CANCEL`)", body = String, content_type = "text/calendar", headers(
            ("Content-Disposition" = String, description = "`attachment; filename=\"booking-<id>.ics\"`"),
        )),
        (status = 400, description = "`validation_error`: a malformed query string", body = ErrorBody),
        (status = 401, description = "`unauthorized`: neither a bearer token nor a cancel token, or an unknown bearer token", body = ErrorBody),
        (status = 403, description = "`permission_denied`: the token is not this booking's", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
    ),
    security((), ("bearerAuth" = [])),
)]
fn booking_ics() {}

/// An organizer's subscribable calendar feed.
///
/// Active and recently cancelled bookings (`METHOD:PUBLISH`), for the
/// holder of the organizer's feed token (`GET /api/feed-token`).
// Handler: `handlers::calendar::feed`.
#[utoipa::path(
    get,
    path = "/api/organizers/{username}/calendar.ics",
    tag = "calendars",
    operation_id = "calendarFeed",
    params(
        ("username" = String, Path, description = "The organizer's username"),
        ("token" = String, Query, description = "The organizer's feed token"),
    ),
    responses(
        (status = 200, description = "The feed (`text/calendar; charset=utf-8`)", body = String, content_type = "text/calendar"),
        (status = 400, description = "`validation_error`: a malformed query string", body = ErrorBody),
        (status = 401, description = "`unauthorized`: no token, or not this organizer's (also when the server has no secret key)", body = ErrorBody),
    ),
)]
fn calendar_feed() {}

/// The caller's feed token and feed URL.
// Handler: `handlers::calendar::feed_token`.
#[utoipa::path(
    get,
    path = "/api/feed-token",
    tag = "calendars",
    operation_id = "getFeedToken",
    responses(
        (status = 200, description = "The feed token", body = FeedToken),
        (status = 409, description = "`secret_key_missing`: the server has no `BOOKING_SECRET_KEY`", body = ErrorBody),
    ),
    security(("bearerAuth" = [])),
)]
fn get_feed_token() {}

/// A new feed token for the caller; the old one stops working at once.
// Handler: `handlers::calendar::rotate_feed_token`.
#[utoipa::path(
    post,
    path = "/api/feed-token",
    tag = "calendars",
    operation_id = "rotateFeedToken",
    responses(
        (status = 200, description = "The new feed token", body = FeedToken),
        (status = 409, description = "`secret_key_missing`: the server has no `BOOKING_SECRET_KEY`", body = ErrorBody),
    ),
    security(("bearerAuth" = [])),
)]
fn rotate_feed_token() {}

/// The caller's connected calendars.
// Handler: `handlers::calendar::list_calendars`.
#[utoipa::path(
    get,
    path = "/api/calendars",
    tag = "calendars",
    operation_id = "listCalendars",
    responses((status = 200, description = "The connected calendars", body = CalendarList)),
    security(("bearerAuth" = [])),
)]
fn list_calendars() {}

/// Connects a calendar whose busy time then blocks the caller's slots.
///
/// An ICS feed or a CalDAV collection; a CalDAV password is encrypted with
/// the server's secret key and never returned. Fields the endpoint does
/// not know are accepted and named in `Ignored-Fields`.
// Handler: `handlers::calendar::connect_calendar`.
#[utoipa::path(
    post,
    path = "/api/calendars",
    tag = "calendars",
    operation_id = "connectCalendar",
    request_body = ConnectCalendarBody,
    responses(
        (status = 201, description = "Connected", body = Calendar, headers(
            ("Ignored-Fields" = String, description = "The body's fields this endpoint does not know, when there were any"),
        )),
        (status = 409, description = "`secret_key_missing` (a CalDAV password needs `BOOKING_SECRET_KEY`) or `too_many_calendars`", body = ErrorBody),
    ),
    security(("bearerAuth" = [])),
)]
fn connect_calendar() {}

/// Disconnects one of the caller's calendars.
// Handler: `handlers::calendar::delete_calendar`.
#[utoipa::path(
    delete,
    path = "/api/calendars/{id}",
    tag = "calendars",
    operation_id = "deleteCalendar",
    params(("id" = String, Path, description = "The calendar's id")),
    responses(
        (status = 204, description = "Disconnected"),
        (status = 404, description = "`not_found`", body = ErrorBody),
    ),
    security(("bearerAuth" = [])),
)]
fn delete_calendar() {}

/// Creates a webhook endpoint, with its signing secret (shown only here).
///
/// Fields the endpoint does not know are accepted and named in
/// `Ignored-Fields`.
// Handler: `handlers::webhooks::create`.
#[utoipa::path(
    post,
    path = "/api/webhooks",
    tag = "webhooks",
    operation_id = "createWebhook",
    request_body = CreateWebhookBody,
    responses(
        (status = 201, description = "Created", body = WebhookCreated, headers(
            ("Ignored-Fields" = String, description = "The body's fields this endpoint does not know, when there were any"),
        )),
        (status = 400, description = "`validation_error` naming `url` (not `http`/`https`, too long, with credentials, or a loopback or private address) or `events` (missing, empty, unknown or repeated)", body = ErrorBody),
        (status = 409, description = "`too_many_endpoints`", body = ErrorBody),
    ),
    security(("bearerAuth" = [])),
)]
fn create_webhook() {}

/// The caller's webhook endpoints, without their secrets.
// Handler: `handlers::webhooks::list`.
#[utoipa::path(
    get,
    path = "/api/webhooks",
    tag = "webhooks",
    operation_id = "listWebhooks",
    responses((status = 200, description = "The endpoints", body = WebhookList)),
    security(("bearerAuth" = [])),
)]
fn list_webhooks() {}

/// Deletes one of the caller's webhook endpoints; its pending deliveries
/// are not sent.
// Handler: `handlers::webhooks::delete`.
#[utoipa::path(
    delete,
    path = "/api/webhooks/{id}",
    tag = "webhooks",
    operation_id = "deleteWebhook",
    params(("id" = String, Path, description = "The endpoint's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "`not_found`", body = ErrorBody),
    ),
    security(("bearerAuth" = [])),
)]
fn delete_webhook() {}

/// A new signing secret for a webhook endpoint (shown only here); the
/// previous one keeps signing for 24 hours.
// Handler: `handlers::webhooks::rotate_secret`.
#[utoipa::path(
    post,
    path = "/api/webhooks/{id}/rotate-secret",
    tag = "webhooks",
    operation_id = "rotateWebhookSecret",
    params(("id" = String, Path, description = "The endpoint's id")),
    responses(
        (status = 200, description = "The new secret", body = RotatedSecret),
        (status = 404, description = "`not_found`", body = ErrorBody),
    ),
    security(("bearerAuth" = [])),
)]
fn rotate_webhook_secret() {}

/// A webhook endpoint's latest deliveries, newest first.
// Handler: `handlers::webhooks::deliveries`.
#[utoipa::path(
    get,
    path = "/api/webhooks/{id}/deliveries",
    tag = "webhooks",
    operation_id = "webhookDeliveries",
    params(
        ("id" = String, Path, description = "The endpoint's id"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 100, description = "How many (default 20, at most 100)"),
    ),
    responses(
        (status = 200, description = "The deliveries", body = DeliveryList),
        (status = 400, description = "`validation_error` naming `limit`, or a malformed query string", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
    ),
    security(("bearerAuth" = [])),
)]
fn webhook_deliveries() {}
