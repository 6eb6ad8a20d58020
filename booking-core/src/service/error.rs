//! [`ServiceError`]: every way a [`BookingService`](super::BookingService)
//! operation can fail, each with a stable code.

use chrono::{DateTime, Utc};

use crate::availability::SlotRefusal;
use crate::event_type::LimitPeriod;
use crate::provider::ProviderError;
use crate::secret::RandomnessError;
use crate::settings::SettingsError;
use crate::store::StoreError;
use crate::time::InvalidTimeRange;
use crate::validation::ValidationErrors;

/// Everything that can go wrong in a [`BookingService`](super::BookingService)
/// operation. Each variant has a stable snake_case [`code`](ServiceError::code)
/// for APIs, and a message for people.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceError {
    /// One or more input fields are malformed; each is named.
    #[error(transparent)]
    Validation(ValidationErrors),
    /// An end time is not after its start time.
    #[error("end time must be after start time")]
    InvalidTimeRange(#[source] InvalidTimeRange),
    /// A slots window longer than the service accepts.
    #[error("the time window is too long: at most {max_days} days can be asked at once")]
    WindowTooLong {
        /// The longest window accepted, in days.
        max_days: i64,
    },
    /// Settings were refused.
    #[error("invalid settings: {0}")]
    InvalidSettings(#[from] SettingsError),
    /// No organizer has this username or id.
    #[error("organizer not found")]
    OrganizerNotFound,
    /// The organizer has not configured their availability yet (no default
    /// event type, or no schedule for it).
    #[error("the organizer has not set up their availability yet")]
    SettingsNotFound,
    /// The organizer has no active event type with this slug.
    #[error("event type not found")]
    EventTypeNotFound,
    /// The organizer has no schedule with this id.
    #[error("schedule not found")]
    ScheduleNotFound,
    /// Another event type of the organizer has this slug.
    #[error("the slug {0:?} is already used by another event type")]
    SlugTaken(String),
    /// The schedule cannot be deleted: an event type uses it, or it is the
    /// default.
    #[error("{0}")]
    ScheduleInUse(String),
    /// The event type's bookings reached a per-day or per-week limit.
    #[error("this event type takes no more bookings this {0}")]
    BookingLimitReached(LimitPeriod),
    /// The requested time is not an offered slot (any more).
    #[error("this time slot is not available: {0}")]
    SlotUnavailable(#[source] SlotRefusal),
    /// Another request is booking this slot right now; try again shortly.
    #[error("this time slot is currently being booked by another user; please try again")]
    SlotBeingBooked,
    /// No booking has this id (or it was cancelled and is no longer shown).
    #[error("booking not found")]
    NotFound,
    /// The credential does not allow this action on this booking.
    #[error("you don't have permission to access this booking")]
    PermissionDenied,
    /// The API token is unknown.
    #[error("unknown or invalid API token")]
    Unauthorized,
    /// The booking was already cancelled; nothing changed.
    #[error("this booking was already cancelled at {cancelled_at}")]
    AlreadyCancelled {
        /// When it was cancelled.
        cancelled_at: DateTime<Utc>,
    },
    /// The username is in use (ignoring ASCII case).
    #[error("the username {0:?} is already taken")]
    UsernameTaken(String),
    /// The booking has already started (or ended): it can no longer move.
    #[error("this booking has already started and can no longer be rescheduled")]
    BookingStarted,
    /// The event type takes no holds (its hold duration is zero).
    #[error("this event type does not hold slots; book the slot directly")]
    HoldsDisabled,
    /// The client already keeps the most holds allowed on this organizer.
    #[error("you already hold {max} slots with this organizer; book or release one first")]
    TooManyHolds {
        /// The cap.
        max: u32,
    },
    /// No active hold has this id and token.
    #[error("hold not found (it may have expired)")]
    HoldNotFound,
    /// The idempotency key was used before for a different request.
    #[error("this idempotency key was already used for a different request; use a new key")]
    IdempotencyKeyReused,
    /// A request with this idempotency key is still being processed.
    #[error("a request with this idempotency key is still being processed; retry shortly")]
    IdempotencyInProgress,
    /// The replayed refusal of the first request made with an idempotency
    /// key, with its code and message as they were.
    #[error("{message}")]
    Replayed {
        /// The first request's error code.
        code: String,
        /// The first request's error message.
        message: String,
    },
    /// The organizer's configuration kept changing under this update; nothing
    /// was written. Try again.
    #[error("the configuration was changed by another request at the same time; please try again")]
    ConcurrentUpdate,
    /// An external calendar of the organizer cannot be read and no fresh
    /// copy exists, so no booking is made over time nobody could see. Try
    /// again later.
    #[error(
        "the organizer's calendar {calendar:?} cannot be read right now; please try again later"
    )]
    CalendarUnavailable {
        /// The calendar's name.
        calendar: String,
    },
    /// The store failed.
    #[error("storage failed")]
    Store(#[source] StoreError),
    /// The external availability provider failed.
    #[error("the availability provider failed")]
    Provider(#[source] ProviderError),
    /// No secure randomness for a token.
    #[error("could not generate a secret token")]
    Randomness(#[source] RandomnessError),
}

impl ServiceError {
    /// A stable snake_case identifier for clients, e.g. `slot_unavailable`.
    pub fn code(&self) -> &str {
        match self {
            ServiceError::Replayed { code, .. } => code,
            ServiceError::BookingStarted => "booking_started",
            ServiceError::HoldsDisabled => "holds_disabled",
            ServiceError::TooManyHolds { .. } => "too_many_holds",
            ServiceError::HoldNotFound => "hold_not_found",
            ServiceError::IdempotencyKeyReused => "idempotency_key_reused",
            ServiceError::IdempotencyInProgress => "idempotency_in_progress",
            ServiceError::Validation(_)
            | ServiceError::InvalidSettings(_)
            | ServiceError::WindowTooLong { .. } => "validation_error",
            ServiceError::InvalidTimeRange(_) => "invalid_time_range",
            ServiceError::OrganizerNotFound => "organizer_not_found",
            ServiceError::SettingsNotFound => "settings_not_found",
            ServiceError::EventTypeNotFound => "event_type_not_found",
            ServiceError::ScheduleNotFound => "schedule_not_found",
            ServiceError::SlugTaken(_) => "slug_taken",
            ServiceError::ScheduleInUse(_) => "schedule_in_use",
            ServiceError::BookingLimitReached(_) => "booking_limit_reached",
            ServiceError::SlotUnavailable(_) => "slot_unavailable",
            ServiceError::SlotBeingBooked => "slot_being_booked",
            ServiceError::NotFound => "not_found",
            ServiceError::PermissionDenied => "permission_denied",
            ServiceError::Unauthorized => "unauthorized",
            ServiceError::AlreadyCancelled { .. } => "already_cancelled",
            ServiceError::UsernameTaken(_) => "username_taken",
            ServiceError::ConcurrentUpdate => "concurrent_update",
            ServiceError::CalendarUnavailable { .. } => "calendar_unavailable",
            ServiceError::Store(_) | ServiceError::Provider(_) | ServiceError::Randomness(_) => {
                "internal"
            }
        }
    }

    /// Whether the caller's input (not the service or what it depends on)
    /// is at fault: everything but [`Store`](Self::Store),
    /// [`Provider`](Self::Provider), [`CalendarUnavailable`](Self::CalendarUnavailable)
    /// and [`Randomness`](Self::Randomness).
    pub fn is_client_error(&self) -> bool {
        !matches!(self.code(), "internal" | "calendar_unavailable")
    }
}

impl From<StoreError> for ServiceError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict => ServiceError::SlotUnavailable(SlotRefusal::Busy),
            StoreError::LimitReached(period) => ServiceError::BookingLimitReached(period),
            StoreError::UsernameTaken(name) => ServiceError::UsernameTaken(name),
            StoreError::OrganizerNotFound(_) => ServiceError::OrganizerNotFound,
            StoreError::BookingNotFound(_) => ServiceError::NotFound,
            StoreError::AlreadyCancelled { cancelled_at, .. } => {
                ServiceError::AlreadyCancelled { cancelled_at }
            }
            StoreError::SlugTaken(slug) => ServiceError::SlugTaken(slug),
            StoreError::ScheduleInUse(id) => {
                ServiceError::ScheduleInUse(format!("schedule {id} is used by an event type"))
            }
            StoreError::ConfigChanged | StoreError::BookingChanged(_) => {
                ServiceError::ConcurrentUpdate
            }
            StoreError::TooManyHolds(max) => ServiceError::TooManyHolds { max },
            StoreError::HoldNotFound(_) => ServiceError::HoldNotFound,
            other => ServiceError::Store(other),
        }
    }
}

impl From<SlotRefusal> for ServiceError {
    fn from(refusal: SlotRefusal) -> Self {
        match refusal {
            SlotRefusal::LimitReached(period) => ServiceError::BookingLimitReached(period),
            other => ServiceError::SlotUnavailable(other),
        }
    }
}

impl From<ValidationErrors> for ServiceError {
    fn from(errors: ValidationErrors) -> Self {
        ServiceError::Validation(errors)
    }
}
