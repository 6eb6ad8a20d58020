//! The whole path on one machine: an organizer registers a webhook endpoint
//! (a receiver on loopback that verifies signatures with the
//! `standardwebhooks` crate), an attendee books, and the worker delivers
//! the signed `booking.created` event.
//!
//! ```text
//! cargo run -p booking-webhooks --example receive
//! ```

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use booking_core::chrono::{Duration, DurationRound as _};
use booking_core::{
    Attendee, BookingRequest, BookingService, BookingStore, LocalInterval, MemoryStore,
    NewOrganizer, SettingsDraft, TimeRange, Tz, WeeklyHours,
};
use booking_net::UrlPolicy;
use booking_webhooks::{EndpointDraft, WebhookSink, Webhooks, default_booking_json};
use tokio::sync::mpsc;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The service, with the webhook sink, and its webhooks. Loopback is
    // allowed only because the receiver runs here.
    let store: Arc<dyn BookingStore> = Arc::new(MemoryStore::new());
    let service = BookingService::new(store.clone())
        .with_event_sink(WebhookSink::new(store.clone(), default_booking_json));
    let webhooks = Webhooks::new(service.clone(), store, UrlPolicy::allow_private())?;

    let (organizer, _api_token) = service
        .register_organizer(NewOrganizer::new("ada", "ada@example.com", "Ada", Tz::UTC))
        .await?;
    let hours = WeeklyHours::every_day(vec![LocalInterval::parse("00:00", "24:00")?]);
    service
        .put_settings(
            &organizer,
            SettingsDraft {
                weekly_hours: hours,
                ..SettingsDraft::default()
            },
        )
        .await?;

    // The receiver: verifies each delivery with the secret and passes on
    // what it got.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hooks/booking", listener.local_addr()?);
    let created = webhooks
        .create_endpoint(organizer.id, &EndpointDraft::new(&url, ["booking.created"]))
        .await?;
    println!("endpoint {} at {url}", created.endpoint.id);
    println!("signing secret (shown once): {}", created.secret.expose());
    let verifier = Arc::new(standardwebhooks::Webhook::new(created.secret.expose())?);
    let (got, mut deliveries) = mpsc::unbounded_channel::<String>();
    let app = Router::new().route(
        "/hooks/booking",
        post(move |headers: HeaderMap, body: String| {
            let verifier = verifier.clone();
            let got = got.clone();
            async move {
                if verifier.verify(body.as_bytes(), &headers).is_err() {
                    return StatusCode::UNAUTHORIZED;
                }
                let id = headers
                    .get("webhook-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                let _ = got.send(format!("verified delivery {id}: {body}"));
                StatusCode::NO_CONTENT
            }
        }),
    );
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    // An attendee books tomorrow at the next full hour.
    let start = (service.now() + Duration::days(1)).duration_trunc(Duration::hours(1))?;
    service
        .create_booking(
            BookingRequest::new(
                "ada",
                TimeRange::starting_at(start, Duration::minutes(30))?,
                Attendee::new("Grace Hopper", "grace@example.com"),
            )
            .title("Intro call"),
        )
        .await?;

    // One worker step: dispatch the event, deliver it.
    let report = webhooks.worker().run_once().await?;
    println!("worker: {report:?}");
    if let Some(line) = deliveries.recv().await {
        println!("{line}");
    }
    for delivery in webhooks
        .deliveries(organizer.id, created.endpoint.id, 10)
        .await?
    {
        println!(
            "delivery of {}: {:?} after {} attempt(s), last answer {:?}",
            delivery.event_id, delivery.status, delivery.attempts, delivery.last_response_code
        );
    }
    server.abort();
    Ok(())
}
