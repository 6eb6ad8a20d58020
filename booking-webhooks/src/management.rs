//! [`Webhooks`]: an organizer's endpoints (create, list, delete, rotate the
//! secret, see deliveries), and the handle the [worker](crate::worker)
//! delivers with.

use std::fmt;
use std::sync::Arc;

use booking_core::chrono::Duration;
use booking_core::secret::SecretBox;
use booking_core::{BookingService, BookingStore, OrganizerId};
use booking_net::{SafeClient, SafeClientOptions, UrlPolicy};

use crate::delivery::Delivery;
use crate::endpoint::{
    Endpoint, EndpointData, EndpointDraft, EndpointId, RECORD_KIND, StoredEndpoint,
};
use crate::error::WebhookError;
use crate::signing::{SigningSecret, StoredSecret};
use crate::sink::QUEUE;
use crate::worker::WebhookWorker;

/// The most endpoints one organizer may have.
pub const MAX_ENDPOINTS: usize = 20;
/// How long a rotated-out secret keeps signing, so receivers can switch
/// without missing a delivery.
pub const SECRET_OVERLAP: Duration = Duration::hours(24);
/// How long a delivery may take before it counts as failed.
pub const DELIVERY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// The most deliveries [`Webhooks::deliveries`] returns.
pub const MAX_DELIVERIES: u32 = 100;

/// A receiver's answer is read only to be dropped; this bounds it.
const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// An endpoint just created, with its signing secret: the only time the
/// secret is shown.
#[derive(Debug, Clone)]
pub struct CreatedEndpoint {
    /// The endpoint.
    pub endpoint: Endpoint,
    /// Its signing secret, `whsec_...`.
    pub secret: SigningSecret,
}

/// Webhooks of one booking service: the management API for organizers'
/// endpoints, and [`worker`](Self::worker) for delivery. Cheap to clone.
///
/// `service` must be the application's complete service: the one with the
/// [`WebhookSink`](crate::WebhookSink) (and every other sink) registered,
/// because the worker dispatches its events. `store` is the store that
/// service uses.
#[derive(Clone)]
pub struct Webhooks {
    pub(crate) service: BookingService,
    pub(crate) store: Arc<dyn BookingStore>,
    policy: UrlPolicy,
    pub(crate) client: SafeClient,
    pub(crate) key: Option<SecretBox>,
}

impl fmt::Debug for Webhooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Webhooks")
            .field("policy", &self.policy)
            .field("sealed_secrets", &self.key.is_some())
            .finish_non_exhaustive()
    }
}

impl Webhooks {
    /// Webhooks over `service` and its `store`, reaching only URLs `policy`
    /// allows (at creation, and again at every delivery, after DNS), each
    /// delivery limited to [`DELIVERY_TIMEOUT`]. Redirects are not followed:
    /// a `3xx` answer is a failed delivery (retried), since following it
    /// would turn the `POST` into a bodyless `GET`.
    pub fn new(
        service: BookingService,
        store: Arc<dyn BookingStore>,
        policy: UrlPolicy,
    ) -> Result<Self, WebhookError> {
        let client = SafeClient::new(
            policy,
            SafeClientOptions {
                timeout: DELIVERY_TIMEOUT,
                max_body_bytes: MAX_RESPONSE_BYTES,
                user_agent: concat!("booking-webhooks/", env!("CARGO_PKG_VERSION")).to_owned(),
                follow_redirects: false,
                ..SafeClientOptions::default()
            },
        )?;
        Ok(Webhooks {
            service,
            store,
            policy,
            client,
            key: None,
        })
    }

    /// Seals signing secrets with `key` before storing them (a service with
    /// a secret key configured should always do this). Secrets stored in
    /// the clear earlier stay readable.
    pub fn with_secret_box(mut self, key: SecretBox) -> Self {
        self.key = Some(key);
        self
    }

    /// The service.
    pub fn service(&self) -> &BookingService {
        &self.service
    }

    /// A worker that delivers this service's webhooks.
    pub fn worker(&self) -> WebhookWorker {
        WebhookWorker::new(self.clone())
    }

    /// Creates an endpoint for `organizer`: the URL is checked against the
    /// policy (scheme, length, no credentials, no private address literal),
    /// the events must be known, distinct and at least one. Every refused
    /// field is named in [`WebhookError::Invalid`]. Returns the endpoint
    /// with its new secret (shown only now).
    pub async fn create_endpoint(
        &self,
        organizer: OrganizerId,
        draft: &EndpointDraft,
    ) -> Result<CreatedEndpoint, WebhookError> {
        let (url, events) = draft.validate(&self.policy)?;
        let now = self.service.now();
        let existing = self.store.records(organizer, RECORD_KIND, now).await?;
        if existing.len() >= MAX_ENDPOINTS {
            return Err(WebhookError::TooManyEndpoints(MAX_ENDPOINTS));
        }
        let secret = SigningSecret::generate()?;
        let endpoint = StoredEndpoint {
            id: EndpointId::generate(),
            organizer_id: organizer,
            created_at: now,
            data: EndpointData {
                url,
                events,
                secrets: vec![StoredSecret::seal(&secret, self.key.as_ref(), now)?],
                disabled: None,
            },
        };
        self.store.put_record(endpoint.to_record()).await?;
        Ok(CreatedEndpoint {
            endpoint: endpoint.view(now),
            secret,
        })
    }

    /// The organizer's endpoints, oldest first (endpoints created in the
    /// same millisecond in any order), without their secrets.
    pub async fn endpoints(&self, organizer: OrganizerId) -> Result<Vec<Endpoint>, WebhookError> {
        let now = self.service.now();
        self.store
            .records(organizer, RECORD_KIND, now)
            .await?
            .iter()
            .map(|record| StoredEndpoint::from_record(record).map(|e| e.view(now)))
            .collect()
    }

    /// One of the organizer's endpoints.
    pub async fn endpoint(
        &self,
        organizer: OrganizerId,
        id: EndpointId,
    ) -> Result<Endpoint, WebhookError> {
        Ok(self.owned(organizer, id).await?.view(self.service.now()))
    }

    /// Deletes one of the organizer's endpoints. Its pending deliveries are
    /// not sent (they end as dead when a worker reaches them).
    pub async fn delete_endpoint(
        &self,
        organizer: OrganizerId,
        id: EndpointId,
    ) -> Result<(), WebhookError> {
        self.owned(organizer, id).await?;
        if self
            .store
            .delete_record(RECORD_KIND, &id.to_string())
            .await?
        {
            Ok(())
        } else {
            Err(WebhookError::NotFound(id))
        }
    }

    /// Gives the endpoint a new signing secret and returns it (shown only
    /// now). The secrets in use so far keep signing for
    /// [`SECRET_OVERLAP`] more, so for a day every delivery carries both
    /// signatures and the receiver can switch at any time.
    pub async fn rotate_secret(
        &self,
        organizer: OrganizerId,
        id: EndpointId,
    ) -> Result<SigningSecret, WebhookError> {
        let mut endpoint = self.owned(organizer, id).await?;
        let now = self.service.now();
        let overlap_end = now + SECRET_OVERLAP;
        let secret = SigningSecret::generate()?;
        let mut secrets = vec![StoredSecret::seal(&secret, self.key.as_ref(), now)?];
        for mut old in endpoint
            .data
            .secrets
            .into_iter()
            .filter(|s| s.is_live_at(now))
        {
            old.expires_at = Some(
                old.expires_at
                    .map_or(overlap_end, |end| end.min(overlap_end)),
            );
            secrets.push(old);
        }
        endpoint.data.secrets = secrets;
        self.store.put_record(endpoint.to_record()).await?;
        Ok(secret)
    }

    /// The endpoint's latest deliveries (at most `limit`, up to
    /// [`MAX_DELIVERIES`]), newest first: their status, attempts, last
    /// response code and next attempt.
    pub async fn deliveries(
        &self,
        organizer: OrganizerId,
        id: EndpointId,
        limit: u32,
    ) -> Result<Vec<Delivery>, WebhookError> {
        self.owned(organizer, id).await?;
        let jobs = self
            .store
            .jobs(
                organizer,
                QUEUE,
                Some(&id.to_string()),
                limit.clamp(1, MAX_DELIVERIES),
            )
            .await?;
        Ok(jobs.iter().map(Delivery::from_job).collect())
    }

    /// The endpoint, if it is the organizer's.
    async fn owned(
        &self,
        organizer: OrganizerId,
        id: EndpointId,
    ) -> Result<StoredEndpoint, WebhookError> {
        match self.store.record(RECORD_KIND, &id.to_string()).await? {
            Some(record) if record.organizer_id == organizer => {
                StoredEndpoint::from_record(&record)
            }
            _ => Err(WebhookError::NotFound(id)),
        }
    }
}
