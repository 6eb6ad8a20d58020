//! booking-webhooks against a real HTTP receiver on loopback.

mod delivery;
mod management;
mod receiver;

use receiver::Receiver;

use std::sync::Arc;

use booking_core::chrono::{DateTime, Duration, DurationRound as _, Utc};
use booking_core::{
    Attendee, BookingRequest, BookingService, BookingStore, CreatedBooking, LocalInterval,
    ManualClock, MemoryStore, NewOrganizer, Organizer, SettingsDraft, TimeRange, Tz, WeeklyHours,
};
use booking_net::UrlPolicy;
use booking_webhooks::{
    CreatedEndpoint, Delivery, EndpointDraft, RunReport, WebhookSink, WebhookWorker, Webhooks,
    default_booking_json,
};

/// One process of the service: a booking service with the webhook sink,
/// and its webhooks.
pub struct Node {
    /// The service, with the sink.
    pub service: BookingService,
    /// Its webhooks.
    pub webhooks: Webhooks,
}

/// A node over `store` with `clock`.
pub fn node(store: Arc<dyn BookingStore>, clock: Arc<ManualClock>, policy: UrlPolicy) -> Node {
    let service = BookingService::new(store.clone())
        .with_clock(clock)
        .with_event_sink(WebhookSink::new(store.clone(), default_booking_json));
    let webhooks = Webhooks::new(service.clone(), store, policy).unwrap();
    Node { service, webhooks }
}

/// A store, a clock, one node and an organizer, Ada, who works around the
/// clock in UTC.
pub struct World {
    /// The shared store.
    pub store: Arc<dyn BookingStore>,
    /// Starts at the real time: receivers verify timestamps against it
    /// (five minutes' tolerance), so tests step it by seconds only where
    /// they verify.
    pub clock: Arc<ManualClock>,
    /// The first node's service.
    pub service: BookingService,
    /// The first node's webhooks.
    pub webhooks: Webhooks,
    /// The organizer.
    pub ada: Organizer,
}

/// A world whose webhooks may reach loopback (the receiver).
pub async fn world() -> World {
    world_with(|service, store| Webhooks::new(service, store, UrlPolicy::allow_private()).unwrap())
        .await
}

/// A world whose webhooks `make` builds.
pub async fn world_with(
    make: impl FnOnce(BookingService, Arc<dyn BookingStore>) -> Webhooks,
) -> World {
    let now = Utc::now().duration_trunc(Duration::seconds(1)).unwrap();
    let clock = Arc::new(ManualClock::new(now));
    let store: Arc<dyn BookingStore> = Arc::new(MemoryStore::new());
    let service = BookingService::new(store.clone())
        .with_clock(clock.clone())
        .with_event_sink(WebhookSink::new(store.clone(), default_booking_json));
    let webhooks = make(service.clone(), store.clone());
    let (ada, _) = service
        .register_organizer(NewOrganizer::new("ada", "ada@example.com", "Ada", Tz::UTC))
        .await
        .unwrap();
    let hours = WeeklyHours::every_day(vec![LocalInterval::parse("00:00", "24:00").unwrap()]);
    service
        .put_settings(
            &ada,
            SettingsDraft {
                weekly_hours: hours,
                ..SettingsDraft::default()
            },
        )
        .await
        .unwrap();
    World {
        store,
        clock,
        service,
        webhooks,
        ada,
    }
}

impl World {
    /// A 30-minute slot `hours` whole hours after the next full hour, two
    /// days from now.
    pub fn slot(&self, hours: i64) -> TimeRange {
        let base = (self.service.now() + Duration::days(2))
            .duration_trunc(Duration::hours(1))
            .unwrap();
        TimeRange::starting_at(base + Duration::hours(hours), Duration::minutes(30)).unwrap()
    }

    /// Books `slot(hours)` for Grace.
    pub async fn book(&self, hours: i64) -> CreatedBooking {
        self.service
            .create_booking(
                BookingRequest::new(
                    "ada",
                    self.slot(hours),
                    Attendee::new("Grace", "grace@example.com"),
                )
                .title("Intro call"),
            )
            .await
            .unwrap()
    }

    /// An endpoint of Ada's at `url` for `events`.
    pub async fn endpoint(&self, url: &str, events: &[&str]) -> CreatedEndpoint {
        self.webhooks
            .create_endpoint(
                self.ada.id,
                &EndpointDraft::new(url, events.iter().copied()),
            )
            .await
            .unwrap()
    }

    /// A receiver, and an endpoint of Ada's at it for `events` whose
    /// secret the receiver trusts (index 0).
    pub async fn receiving(&self, events: &[&str]) -> (Receiver, CreatedEndpoint) {
        let receiver = Receiver::start().await;
        let endpoint = self.endpoint(&receiver.url, events).await;
        receiver.trust(endpoint.secret.expose());
        (receiver, endpoint)
    }

    /// The endpoint's deliveries, newest first.
    pub async fn deliveries(&self, endpoint: &CreatedEndpoint) -> Vec<Delivery> {
        self.webhooks
            .deliveries(self.ada.id, endpoint.endpoint.id, 10)
            .await
            .unwrap()
    }

    /// Moves the clock.
    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }

    /// The service's time.
    pub fn now(&self) -> DateTime<Utc> {
        self.service.now()
    }
}

/// Every event name.
pub const ALL_EVENTS: [&str; 3] = [
    "booking.created",
    "booking.rescheduled",
    "booking.cancelled",
];

/// Runs `worker` until a step finds nothing to do; the reports of every
/// step.
pub async fn drain(worker: &WebhookWorker) -> Vec<RunReport> {
    let mut reports = Vec::new();
    for _ in 0..50 {
        let report = worker.run_once().await.unwrap();
        if report.attempted == 0 && report.dispatched == 0 {
            return reports;
        }
        reports.push(report);
    }
    panic!("the worker never ran out of work: {reports:?}");
}
