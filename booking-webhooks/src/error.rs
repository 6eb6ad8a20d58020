//! What can go wrong, and which input field was refused.

use std::fmt;

use booking_core::secret::SecretBoxError;
use booking_core::validation::ValidationErrors;
use booking_core::{ServiceError, StoreError};
use serde::Serialize;

use crate::endpoint::EndpointId;

/// A field of an endpoint's input, named in a validation error so an HTTP
/// layer can answer `400` with the field (`url`, `events`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum WebhookField {
    /// The endpoint's URL.
    Url,
    /// The event names it subscribes to.
    Events,
}

impl WebhookField {
    /// The field's name, the same in Rust and in JSON: `url` or `events`.
    pub fn name(self) -> &'static str {
        match self {
            WebhookField::Url => "url",
            WebhookField::Events => "events",
        }
    }
}

impl fmt::Display for WebhookField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An error of the webhook API or worker.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// The input was refused; every refused field is named (a client's
    /// mistake: `400`).
    #[error(transparent)]
    Invalid(#[from] ValidationErrors<WebhookField>),
    /// The organizer has no endpoint with this id (someone else's endpoint
    /// is reported the same way, so ids cannot be probed).
    #[error("no webhook endpoint {0}")]
    NotFound(EndpointId),
    /// The organizer already has the most endpoints allowed.
    #[error("at most {0} webhook endpoints per organizer")]
    TooManyEndpoints(usize),
    /// A stored signing secret cannot be read: it was sealed with a
    /// [`SecretBox`](booking_core::secret::SecretBox) and the service has
    /// none, or a different key.
    #[error("a stored webhook signing secret cannot be read: {0}")]
    SecretUnreadable(String),
    /// A stored endpoint cannot be read back (edited by hand, or written by
    /// an incompatible version).
    #[error("stored webhook endpoint {id} is invalid: {reason}")]
    Corrupt {
        /// The endpoint.
        id: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Sealing a new secret failed.
    #[error("a webhook signing secret cannot be sealed: {0}")]
    Seal(#[source] SecretBoxError),
    /// No secure randomness for a new secret.
    #[error("no secure randomness for a webhook signing secret")]
    Randomness,
    /// Signing a delivery failed.
    #[error("a webhook delivery cannot be signed: {0}")]
    Signing(#[source] standardwebhooks::WebhookError),
    /// A delivery header could not be built.
    #[error("a webhook header cannot be built: {0}")]
    Header(#[source] reqwest::header::InvalidHeaderValue),
    /// The HTTP client could not be set up.
    #[error(transparent)]
    Client(#[from] booking_net::FetchError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The booking service failed (claiming or finishing jobs).
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl WebhookError {
    /// A stable code for the error, as the example service's API uses:
    /// `validation_error`, `not_found`, `too_many_endpoints`, or `internal`.
    pub fn code(&self) -> &'static str {
        match self {
            WebhookError::Invalid(_) => "validation_error",
            WebhookError::NotFound(_) => "not_found",
            WebhookError::TooManyEndpoints(_) => "too_many_endpoints",
            _ => "internal",
        }
    }

    /// Whether the caller is at fault (`4xx`), not the service.
    pub fn is_client_error(&self) -> bool {
        self.code() != "internal"
    }
}
