//! Webhook endpoints: where an organizer wants to hear about which events.
//!
//! Each endpoint is a booking-core [record](booking_core::record) of kind
//! [`RECORD_KIND`], owned by its organizer, holding its URL, the event
//! kinds it subscribes to, its signing secrets (with their validity) and,
//! once a receiver answered `410 Gone`, why it is disabled.

use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;

use booking_core::chrono::{DateTime, Utc};
use booking_core::ids::InvalidId;
use booking_core::record::Record;
use booking_core::validation::ValidationErrors;
use booking_core::{BookingEventKind, OrganizerId};
use booking_net::{UrlError, UrlPolicy};
use serde::{Deserialize, Serialize};
use ulid::Ulid;

use crate::error::{WebhookError, WebhookField};
use crate::signing::StoredSecret;

/// The kind of the records that hold endpoints.
pub const RECORD_KIND: &str = "webhook";

/// Identifies a webhook endpoint (a ULID); it is also the target of the
/// endpoint's jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EndpointId(Ulid);

impl EndpointId {
    /// A new id.
    pub fn generate() -> Self {
        EndpointId(Ulid::generate())
    }
}

impl FromStr for EndpointId {
    type Err = InvalidId;
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        Ulid::from_string(input)
            .map(EndpointId)
            .map_err(|_| InvalidId {
                input: input.to_owned(),
            })
    }
}

impl fmt::Display for EndpointId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// What an organizer asks for: a URL and the event names to receive, as
/// they come from a form or a JSON body (checked by
/// [`Webhooks::create_endpoint`](crate::Webhooks::create_endpoint)).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct EndpointDraft {
    /// Where to POST deliveries: `http` or `https`, a public host unless the
    /// service's [`UrlPolicy`] allows private ones, at most
    /// [`booking_net::MAX_URL_LEN`] characters.
    pub url: String,
    /// Event names (`booking.created`, `booking.rescheduled`,
    /// `booking.cancelled`): at least one, each once.
    pub events: Vec<String>,
}

impl EndpointDraft {
    /// An endpoint at `url` for `events`.
    pub fn new<E: Into<String>>(
        url: impl Into<String>,
        events: impl IntoIterator<Item = E>,
    ) -> Self {
        EndpointDraft {
            url: url.into(),
            events: events.into_iter().map(Into::into).collect(),
        }
    }

    /// The URL (normalized) and event kinds, or every refused field.
    pub(crate) fn validate(
        &self,
        policy: &UrlPolicy,
    ) -> Result<(String, Vec<BookingEventKind>), ValidationErrors<WebhookField>> {
        let mut errors = ValidationErrors::new();
        let url = errors.check(
            WebhookField::Url,
            policy.check(&self.url).map_err(url_message),
        );
        let events = errors.check(WebhookField::Events, event_kinds(&self.events));
        match (url, events) {
            (Some(url), Some(events)) => Ok((url.to_string(), events)),
            _ => Err(errors),
        }
    }
}

fn url_message(error: UrlError) -> String {
    match error {
        // The parser's own words ("relative URL without a base") help less
        // than saying what is expected.
        UrlError::Malformed(_) => "must be an absolute http or https URL".to_owned(),
        other => other.to_string(),
    }
}

fn event_kinds(names: &[String]) -> Result<Vec<BookingEventKind>, String> {
    if names.is_empty() {
        return Err(format!(
            "name at least one event: {}",
            all_event_names().join(", ")
        ));
    }
    let mut seen = HashSet::new();
    let mut kinds = Vec::with_capacity(names.len());
    for name in names {
        let kind: BookingEventKind = name
            .parse()
            .map_err(|e: booking_core::event::UnknownEventKind| e.to_string())?;
        if !seen.insert(kind) {
            return Err(format!("{name:?} is listed more than once"));
        }
        kinds.push(kind);
    }
    Ok(kinds)
}

fn all_event_names() -> Vec<&'static str> {
    BookingEventKind::ALL.iter().map(|k| k.name()).collect()
}

/// Why an endpoint no longer receives deliveries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Disabled {
    /// When.
    pub at: DateTime<Utc>,
    /// Why, for people (e.g. the receiver answered `410 Gone`).
    pub reason: String,
}

/// An endpoint as its organizer sees it: never its secrets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Endpoint {
    /// Its id.
    pub id: EndpointId,
    /// Whose it is.
    pub organizer_id: OrganizerId,
    /// Where deliveries go.
    pub url: String,
    /// What it receives.
    pub events: Vec<BookingEventKind>,
    /// Set once it stopped receiving deliveries, with the reason.
    pub disabled: Option<Disabled>,
    /// When it was created; it receives events that happen from then on.
    pub created_at: DateTime<Utc>,
    /// While a rotated-out secret still signs (24 hours after a rotation),
    /// until when.
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
}

/// An endpoint's record data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct EndpointData {
    pub url: String,
    pub events: Vec<BookingEventKind>,
    /// Newest first.
    pub secrets: Vec<StoredSecret>,
    pub disabled: Option<Disabled>,
}

/// An endpoint read back from its record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StoredEndpoint {
    pub id: EndpointId,
    pub organizer_id: OrganizerId,
    pub created_at: DateTime<Utc>,
    pub data: EndpointData,
}

impl StoredEndpoint {
    pub fn from_record(record: &Record) -> Result<Self, WebhookError> {
        let corrupt = |reason: String| WebhookError::Corrupt {
            id: record.id.clone(),
            reason,
        };
        let id = record
            .id
            .parse()
            .map_err(|e: InvalidId| corrupt(e.to_string()))?;
        let data = serde_json::from_str(&record.data).map_err(|e| corrupt(e.to_string()))?;
        Ok(StoredEndpoint {
            id,
            organizer_id: record.organizer_id,
            created_at: record.created_at,
            data,
        })
    }

    pub fn to_record(&self) -> Record {
        Record {
            kind: RECORD_KIND.to_owned(),
            id: self.id.to_string(),
            organizer_id: self.organizer_id,
            lookup: None,
            // Serializing plain data cannot fail.
            data: serde_json::to_string(&self.data).unwrap_or_default(),
            created_at: self.created_at,
            expires_at: None,
        }
    }

    /// Whether it should hear about `kind` events.
    pub fn wants(&self, kind: BookingEventKind) -> bool {
        self.data.disabled.is_none() && self.data.events.contains(&kind)
    }

    /// The secrets that sign at `now`, newest first.
    pub fn live_secrets(&self, now: DateTime<Utc>) -> impl Iterator<Item = &StoredSecret> {
        self.data.secrets.iter().filter(move |s| s.is_live_at(now))
    }

    pub fn view(&self, now: DateTime<Utc>) -> Endpoint {
        Endpoint {
            id: self.id,
            organizer_id: self.organizer_id,
            url: self.data.url.clone(),
            events: self.data.events.clone(),
            disabled: self.data.disabled.clone(),
            created_at: self.created_at,
            previous_secret_expires_at: self.live_secrets(now).filter_map(|s| s.expires_at).max(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(draft: EndpointDraft, policy: UrlPolicy) -> Vec<(WebhookField, String)> {
        draft
            .validate(&policy)
            .unwrap_err()
            .errors()
            .iter()
            .map(|e| (e.field, e.message.clone()))
            .collect()
    }

    #[test]
    fn events_are_known_distinct_and_not_empty() {
        let policy = UrlPolicy::public_only();
        let ok = EndpointDraft::new(
            "https://hooks.example.com/booking",
            ["booking.cancelled", "booking.created"],
        )
        .validate(&policy)
        .unwrap();
        assert_eq!(ok.0, "https://hooks.example.com/booking");
        assert_eq!(
            ok.1,
            [BookingEventKind::Cancelled, BookingEventKind::Created]
        );
        for (events, says) in [
            (vec![], "at least one"),
            (vec!["booking.moved"], "booking.moved"),
            (vec!["booking.created", "booking.created"], "more than once"),
        ] {
            let errors = refused(
                EndpointDraft::new("https://hooks.example.com/", events),
                policy,
            );
            assert_eq!(errors.len(), 1);
            assert_eq!(errors[0].0, WebhookField::Events);
            assert!(errors[0].1.contains(says), "{}", errors[0].1);
        }
    }

    #[test]
    fn every_refused_field_is_named() {
        let errors = refused(
            EndpointDraft::new("/relative", ["nope"]),
            UrlPolicy::public_only(),
        );
        let fields: Vec<WebhookField> = errors.iter().map(|e| e.0).collect();
        assert_eq!(fields, [WebhookField::Url, WebhookField::Events]);
        assert!(errors[0].1.contains("absolute http or https URL"));
    }
}
