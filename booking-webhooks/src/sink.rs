//! [`WebhookSink`]: turns each booking event into one delivery job per
//! endpoint that wants it.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use booking_core::queue::NewJob;
use booking_core::service::job_for;
use booking_core::store::BoxError;
use booking_core::{BookingEvent, BookingService, BookingStore, EventSink};

use crate::endpoint::{RECORD_KIND, StoredEndpoint};
use crate::payload::{BookingRenderer, webhook_body};

/// The queue webhook jobs go to.
pub const QUEUE: &str = "webhook";

/// The [`EventSink`] of webhooks: for each booking event, one job on the
/// queue [`QUEUE`] per endpoint of the booking's organizer that is enabled,
/// subscribed to the event's kind and existed when the event happened; the
/// job's target is the endpoint's id and its payload the delivery body
/// (rendered here, once, so every retry sends the same bytes).
///
/// Register it on every [`BookingService`] that shares the store:
///
/// ```
/// use std::sync::Arc;
/// use booking_core::{BookingService, BookingStore, MemoryStore};
/// use booking_webhooks::{WebhookSink, default_booking_json};
///
/// let store: Arc<dyn BookingStore> = Arc::new(MemoryStore::new());
/// let service = BookingService::new(store.clone())
///     .with_event_sink(WebhookSink::new(store, default_booking_json));
/// ```
#[derive(Clone)]
pub struct WebhookSink {
    store: Arc<dyn BookingStore>,
    renderer: Arc<dyn BookingRenderer>,
}

impl WebhookSink {
    /// A sink reading endpoints from `store` (the service's own) and
    /// rendering bookings with `renderer`.
    pub fn new(store: Arc<dyn BookingStore>, renderer: impl BookingRenderer + 'static) -> Self {
        WebhookSink {
            store,
            renderer: Arc::new(renderer),
        }
    }
}

impl fmt::Debug for WebhookSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookSink").finish_non_exhaustive()
    }
}

#[async_trait]
impl EventSink for WebhookSink {
    async fn jobs_for(
        &self,
        service: &BookingService,
        event: &BookingEvent,
    ) -> Result<Vec<NewJob>, BoxError> {
        let records = self
            .store
            .records(event.booking.organizer_id, RECORD_KIND, service.now())
            .await?;
        let mut body = None;
        let mut jobs = Vec::new();
        for record in &records {
            let endpoint = match StoredEndpoint::from_record(record) {
                Ok(endpoint) => endpoint,
                Err(error) => {
                    // One broken record must not hold every other
                    // endpoint's events back.
                    tracing::error!(%error, "a webhook endpoint cannot be read; it is skipped");
                    continue;
                }
            };
            if !endpoint.wants(event.kind) || endpoint.created_at > event.occurred_at {
                continue;
            }
            let body = body
                .get_or_insert_with(|| webhook_body(event, self.renderer.as_ref()))
                .clone();
            jobs.push(job_for(event, QUEUE, &endpoint.id.to_string(), body));
        }
        Ok(jobs)
    }
}
