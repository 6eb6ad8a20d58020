//! Delivery: signed, in order, retried, 410, rotation, several workers.

use std::collections::HashSet;
use std::time::Duration as StdDuration;

use booking_core::chrono::Duration;
use booking_core::queue::JobStatus;
use booking_core::secret::SecretBox;
use booking_core::{BookingEventKind, Credential, RescheduleRequest};
use booking_net::UrlPolicy;
use booking_webhooks::{RunReport, Webhooks};
use serde_json::json;

use crate::receiver::Receiver;
use crate::{ALL_EVENTS, drain, node, world, world_with};

fn instant(at: booking_core::chrono::DateTime<booking_core::chrono::Utc>) -> String {
    at.to_rfc3339_opts(booking_core::chrono::SecondsFormat::Millis, true)
}

#[tokio::test]
async fn create_reschedule_and_cancel_arrive_in_order_signed_with_their_payloads() {
    let w = world().await;
    let (receiver, all) = w.receiving(&ALL_EVENTS).await;
    let (only_cancelled, _) = w.receiving(&["booking.cancelled"]).await;

    let created = w.book(0).await;
    let token = Credential::from(&created.cancel_token);
    let moved = w
        .service
        .reschedule(
            RescheduleRequest::new(created.booking.id, w.slot(3)),
            &token,
        )
        .await
        .unwrap();
    let cancelled = w
        .service
        .cancel_booking(created.booking.id, &token)
        .await
        .unwrap();
    let events = w.service.events_after(0, 10).await.unwrap();
    assert_eq!(events.len(), 3);

    drain(&w.webhooks.worker()).await;

    let got = receiver.received();
    assert_eq!(got.len(), 3, "one request per event: {got:?}");
    for (request, event) in got.iter().zip(&events) {
        assert_eq!(
            request.id,
            event.id.to_string(),
            "webhook-id is the event id"
        );
        assert!(request.all_verified(), "{request:?}");
        assert_eq!(request.signatures.len(), 1);
        assert_eq!(request.content_type, "application/json");
        assert_eq!(request.answered, 200);
        let body = request.json();
        assert_eq!(body["type"], event.kind.name());
        assert_eq!(body["timestamp"], instant(event.occurred_at));
        let booking = &body["data"]["booking"];
        assert_eq!(booking["id"], created.booking.id.to_string());
        assert_eq!(
            booking["eventType"],
            created.booking.event_type_slug.as_str()
        );
        assert_eq!(
            booking["attendee"],
            json!({"name": "Grace", "email": "grace@example.com"})
        );
        // Never the cancel token, nor its hash.
        assert!(!request.body.contains(created.cancel_token.expose()));
        assert!(
            !request
                .body
                .contains(&created.booking.cancel_token_hash.to_hex())
        );
        assert!(!request.body.to_lowercase().contains("canceltoken"));
    }
    let kinds: Vec<String> = got
        .iter()
        .map(|r| r.json()["type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(kinds, ALL_EVENTS);

    let [first, second, third] = [got[0].json(), got[1].json(), got[2].json()];
    assert_eq!(first["data"]["booking"]["sequence"], 0);
    assert_eq!(
        first["data"]["booking"]["startTime"],
        instant(w.slot(0).start())
    );
    assert_eq!(second["data"]["booking"]["sequence"], 1);
    assert_eq!(
        second["data"]["previousTime"],
        json!({"start": instant(w.slot(0).start()), "end": instant(w.slot(0).end())})
    );
    assert_eq!(
        second["data"]["time"],
        json!({"start": instant(moved.booking.start_time()), "end": instant(moved.booking.end_time())})
    );
    assert_eq!(
        third["data"]["booking"]["sequence"],
        cancelled.booking.sequence
    );
    assert_eq!(third["data"]["booking"]["status"], "cancelled");
    assert_eq!(third["data"]["cancelledBy"], "attendee");

    // The cancellation-only endpoint heard of the cancellation alone.
    let cancels_got = only_cancelled.received();
    assert_eq!(cancels_got.len(), 1);
    assert_eq!(cancels_got[0].id, events[2].id.to_string());
    assert!(cancels_got[0].all_verified());

    let deliveries = w.deliveries(&all).await;
    assert_eq!(deliveries.len(), 3);
    assert_eq!(
        deliveries[0].event_type,
        Some(BookingEventKind::Cancelled),
        "newest first"
    );
    for delivery in &deliveries {
        assert_eq!(delivery.status, JobStatus::Done);
        assert_eq!(delivery.attempts, 1);
        assert_eq!(delivery.last_response_code, Some(200));
        assert_eq!(delivery.next_attempt_at, None);
    }
}

#[tokio::test]
async fn a_500_then_a_200_is_two_attempts_of_the_same_event_and_one_success() {
    let w = world().await;
    let (receiver, endpoint) = w.receiving(&["booking.created"]).await;
    receiver.answer_next([500]);
    w.book(0).await;
    let worker = w.webhooks.worker();

    let first = worker.run_once().await.unwrap();
    assert_eq!(
        (first.attempted, first.retrying, first.delivered),
        (1, 1, 0)
    );
    let deliveries = w.deliveries(&endpoint).await;
    assert_eq!(deliveries[0].status, JobStatus::Pending);
    assert_eq!(deliveries[0].attempts, 1);
    assert_eq!(deliveries[0].last_response_code, Some(500));
    let next = deliveries[0].next_attempt_at.expect("a retry is scheduled");
    assert!(
        next > w.now() && next <= w.now() + Duration::seconds(5),
        "the first retry is about 5 s later (jittered): {next} vs {}",
        w.now()
    );

    // Not due yet: nothing is sent.
    assert_eq!(worker.run_once().await.unwrap().attempted, 0);
    w.advance(Duration::seconds(5));
    let second = worker.run_once().await.unwrap();
    assert_eq!((second.attempted, second.delivered), (1, 1));
    assert_eq!(drain(&worker).await, Vec::<RunReport>::new());

    let got = receiver.received();
    assert_eq!(
        got.iter().map(|r| r.answered).collect::<Vec<_>>(),
        [500, 200]
    );
    assert_eq!(got[0].id, got[1].id, "the same webhook-id on every attempt");
    assert_eq!(got[0].body, got[1].body, "the same body on every attempt");
    assert_eq!(
        got[1].timestamp - got[0].timestamp,
        5,
        "each attempt's own time"
    );
    assert!(got.iter().all(|r| r.all_verified()));
    let deliveries = w.deliveries(&endpoint).await;
    assert_eq!(deliveries.len(), 1);
    assert_eq!(deliveries[0].status, JobStatus::Done);
    assert_eq!(deliveries[0].attempts, 2);
    assert_eq!(deliveries[0].last_response_code, Some(200));
}

#[tokio::test]
async fn a_410_disables_the_endpoint_and_nothing_more_is_sent_to_it() {
    let w = world().await;
    let (receiver, endpoint) = w.receiving(&ALL_EVENTS).await;
    receiver.answer_next([410]);
    // Two events of one booking: the second waits for the first.
    let created = w.book(0).await;
    w.service
        .reschedule(
            RescheduleRequest::new(created.booking.id, w.slot(2)),
            &Credential::from(&w.ada),
        )
        .await
        .unwrap();

    let reports = drain(&w.webhooks.worker()).await;
    let total = |f: fn(&RunReport) -> usize| reports.iter().map(f).sum::<usize>();
    assert_eq!(total(|r| r.disabled), 1);
    assert_eq!(total(|r| r.dead), 2, "the queued second event ends too");
    assert_eq!(
        receiver.received().len(),
        1,
        "only the first request was sent"
    );

    let listed = w.webhooks.endpoints(w.ada.id).await.unwrap();
    let disabled = listed[0].disabled.as_ref().expect("disabled");
    assert!(disabled.reason.contains("410"), "{}", disabled.reason);
    let deliveries = w.deliveries(&endpoint).await;
    assert_eq!(deliveries.len(), 2);
    assert!(deliveries.iter().all(|d| d.status == JobStatus::Dead));
    assert_eq!(deliveries[1].last_response_code, Some(410));
    assert!(
        deliveries[0]
            .last_error
            .as_deref()
            .unwrap()
            .contains("disabled")
    );

    // Later events are not even queued for it.
    w.book(4).await;
    assert!(
        drain(&w.webhooks.worker())
            .await
            .iter()
            .all(|r| r.attempted == 0)
    );
    assert_eq!(receiver.received().len(), 1);
    assert_eq!(w.deliveries(&endpoint).await.len(), 2);
}

#[tokio::test]
async fn a_receiver_that_was_down_gets_the_event_after_a_retry() {
    let w = world().await;
    // A free port with nobody listening yet.
    let addr = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let endpoint = w
        .endpoint(&format!("http://{addr}/hook"), &["booking.created"])
        .await;
    w.book(0).await;
    let worker = w.webhooks.worker();
    let down = worker.run_once().await.unwrap();
    assert_eq!((down.attempted, down.retrying), (1, 1));
    let deliveries = w.deliveries(&endpoint).await;
    assert_eq!(deliveries[0].last_response_code, None, "no answer");
    let error = deliveries[0].last_error.clone().unwrap();
    assert!(error.contains("request failed"), "{error}");

    let receiver = Receiver::start_on(addr).await;
    receiver.trust(endpoint.secret.expose());
    w.advance(Duration::seconds(5));
    let up = worker.run_once().await.unwrap();
    assert_eq!((up.attempted, up.delivered), (1, 1));
    let got = receiver.received();
    assert_eq!(got.len(), 1);
    assert!(got[0].all_verified());
    let events = w.service.events_after(0, 10).await.unwrap();
    assert_eq!(got[0].id, events[0].id.to_string());
}

#[tokio::test]
async fn during_a_rotation_both_secrets_sign_and_a_day_later_only_the_new_one() {
    let w = world().await;
    let (receiver, endpoint) = w.receiving(&ALL_EVENTS).await;
    let old = 0;
    let rotated = w
        .webhooks
        .rotate_secret(w.ada.id, endpoint.endpoint.id)
        .await
        .unwrap();
    assert_ne!(rotated, endpoint.secret);
    let new = receiver.trust(rotated.expose());
    let listed = w
        .webhooks
        .endpoint(w.ada.id, endpoint.endpoint.id)
        .await
        .unwrap();
    assert_eq!(
        listed.previous_secret_expires_at,
        Some(w.now() + Duration::hours(24))
    );

    let created = w.book(0).await;
    drain(&w.webhooks.worker()).await;
    let got = receiver.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].signatures.len(), 2, "{:?}", got[0].signatures);
    assert_eq!(
        got[0].verified_by,
        [Some(new), Some(old)],
        "each verifies with its secret"
    );

    // A day (and a second) later the old secret no longer signs. (The
    // clock is now a day ahead of real time, so the verifier's timestamp
    // tolerance would refuse it: the signature is compared with the
    // crate's own signer instead.)
    w.advance(Duration::hours(24) + Duration::seconds(1));
    w.service
        .cancel_booking(created.booking.id, &Credential::from(&w.ada))
        .await
        .unwrap();
    drain(&w.webhooks.worker()).await;
    let got = receiver.received();
    assert_eq!(got.len(), 2);
    assert_eq!(got[1].signed_by, [Some(new)]);
    assert_eq!(got[1].json()["data"]["cancelledBy"], "organizer");
    let listed = w
        .webhooks
        .endpoint(w.ada.id, endpoint.endpoint.id)
        .await
        .unwrap();
    assert_eq!(listed.previous_secret_expires_at, None);
}

#[tokio::test]
async fn two_workers_on_one_store_deliver_each_event_exactly_once() {
    let w = world().await;
    let (receiver, _) = w.receiving(&ALL_EVENTS).await;
    let other = node(w.store.clone(), w.clock.clone(), UrlPolicy::allow_private());
    for hour in 0..6 {
        w.book(hour).await;
    }
    let a = w.webhooks.worker().with_batch_size(1);
    let b = other.webhooks.worker().with_batch_size(1);
    let (mut by_a, mut by_b) = (0, 0);
    for _ in 0..20 {
        let (ra, rb) = tokio::join!(a.run_once(), b.run_once());
        let (ra, rb) = (ra.unwrap(), rb.unwrap());
        by_a += ra.delivered;
        by_b += rb.delivered;
        if ra.attempted + rb.attempted + ra.dispatched + rb.dispatched == 0 {
            break;
        }
    }
    assert_eq!(by_a + by_b, 6);
    assert!(
        by_a > 0 && by_b > 0,
        "both workers took part: {by_a} and {by_b}"
    );
    let got = receiver.received();
    let ids: HashSet<&str> = got.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(got.len(), 6, "each event once");
    assert_eq!(ids.len(), 6);
    let events: HashSet<String> = w
        .service
        .events_after(0, 100)
        .await
        .unwrap()
        .iter()
        .map(|e| e.id.to_string())
        .collect();
    assert_eq!(ids, events.iter().map(String::as_str).collect());
    assert!(got.iter().all(|r| r.all_verified()));
}

#[tokio::test]
async fn an_endpoint_hears_only_of_events_after_its_creation() {
    let w = world().await;
    let receiver = Receiver::start().await;
    w.book(0).await;
    w.advance(Duration::seconds(1));
    let endpoint = w.endpoint(&receiver.url, &ALL_EVENTS).await;
    receiver.trust(endpoint.secret.expose());
    w.book(2).await;
    drain(&w.webhooks.worker()).await;
    let got = receiver.received();
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].json()["data"]["booking"]["startTime"],
        instant(w.slot(2).start())
    );
}

#[tokio::test]
async fn deliveries_of_a_deleted_endpoint_are_not_sent() {
    let w = world().await;
    let receiver = Receiver::start().await;
    let endpoint = w.endpoint(&receiver.url, &ALL_EVENTS).await;
    w.book(0).await;
    w.service.dispatch_events(10).await.unwrap();
    w.webhooks
        .delete_endpoint(w.ada.id, endpoint.endpoint.id)
        .await
        .unwrap();
    let reports = drain(&w.webhooks.worker()).await;
    assert_eq!(reports.iter().map(|r| r.dead).sum::<usize>(), 1);
    assert!(receiver.received().is_empty());
}

#[tokio::test]
async fn sealed_secrets_are_stored_encrypted_and_still_sign() {
    let key = SecretBox::new(b"a long random server key");
    let w = world_with(|service, store| {
        Webhooks::new(service, store, UrlPolicy::allow_private())
            .unwrap()
            .with_secret_box(key)
    })
    .await;
    let (receiver, endpoint) = w.receiving(&ALL_EVENTS).await;
    let record = w
        .store
        .record("webhook", &endpoint.endpoint.id.to_string())
        .await
        .unwrap()
        .unwrap();
    let key_part = &endpoint.secret.expose()["whsec_".len()..];
    assert!(!record.data.contains(key_part), "{}", record.data);
    w.book(0).await;
    drain(&w.webhooks.worker()).await;
    let got = receiver.received();
    assert_eq!(got.len(), 1);
    assert!(got[0].all_verified());
}

#[tokio::test]
async fn the_worker_loop_delivers_until_it_is_told_to_stop() {
    let w = world().await;
    let (receiver, _) = w.receiving(&ALL_EVENTS).await;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let worker = w
        .webhooks
        .worker()
        .with_poll_interval(StdDuration::from_millis(20));
    let running = tokio::spawn(worker.run(async {
        let _ = stopped.await;
    }));
    w.book(0).await;
    // Wait for the delivery (a guard against hanging, not a timing check).
    for _ in 0..500 {
        if !receiver.received().is_empty() {
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(20)).await;
    }
    assert_eq!(receiver.received().len(), 1);
    assert!(receiver.received()[0].all_verified());
    stop.send(()).unwrap();
    running.await.unwrap();
}

#[tokio::test]
async fn a_redirect_is_a_failed_delivery_not_a_success() {
    let w = world().await;
    let (receiver, endpoint) = w.receiving(&["booking.created"]).await;
    receiver.answer_next([303]);
    w.book(0).await;
    let worker = w.webhooks.worker();
    let first = worker.run_once().await.unwrap();
    assert_eq!(
        (first.attempted, first.retrying, first.delivered),
        (1, 1, 0),
        "a 303 would turn the POST into a bodyless GET; it must be retried"
    );
    let deliveries = w.deliveries(&endpoint).await;
    assert_eq!(deliveries[0].last_response_code, Some(303));
    assert_eq!(deliveries[0].status, JobStatus::Pending);
}
