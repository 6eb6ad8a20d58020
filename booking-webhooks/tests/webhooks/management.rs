//! The management API: validation naming the field, listing without
//! secrets, ownership.

use booking_core::NewOrganizer;
use booking_core::Tz;
use booking_net::UrlPolicy;
use booking_webhooks::{EndpointDraft, MAX_ENDPOINTS, WebhookError, WebhookField, Webhooks};

use crate::{ALL_EVENTS, world, world_with};

/// The fields `draft` is refused for, with their messages.
async fn refusal(
    webhooks: &Webhooks,
    ada: booking_core::OrganizerId,
    draft: EndpointDraft,
) -> Vec<(WebhookField, String)> {
    match webhooks.create_endpoint(ada, &draft).await {
        Err(WebhookError::Invalid(errors)) => {
            let error = WebhookError::Invalid(errors.clone());
            assert_eq!(error.code(), "validation_error");
            assert!(error.is_client_error());
            errors
                .errors()
                .iter()
                .map(|e| (e.field, e.message.clone()))
                .collect()
        }
        other => panic!("{draft:?} should be refused, got {other:?}"),
    }
}

#[tokio::test]
async fn bad_inputs_are_refused_naming_the_field() {
    let w = world().await;
    let long = format!("https://hooks.example.com/{}", "a".repeat(10_000));
    for (url, events, field, says) in [
        (
            "ftp://hooks.example.com/",
            vec!["booking.created"],
            WebhookField::Url,
            "http and https",
        ),
        (
            "not a url",
            vec!["booking.created"],
            WebhookField::Url,
            "absolute",
        ),
        (
            long.as_str(),
            vec!["booking.created"],
            WebhookField::Url,
            "at most 2048",
        ),
        (
            "https://hooks.example.com/",
            vec!["booking.exploded"],
            WebhookField::Events,
            "booking.exploded",
        ),
        (
            "https://hooks.example.com/",
            vec![],
            WebhookField::Events,
            "at least one",
        ),
        (
            "https://hooks.example.com/",
            vec!["booking.created", "booking.created"],
            WebhookField::Events,
            "more than once",
        ),
    ] {
        let errors = refusal(&w.webhooks, w.ada.id, EndpointDraft::new(url, events)).await;
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].0, field);
        assert!(
            errors[0].1.contains(says),
            "{:?} should say {says:?}",
            errors[0].1
        );
    }
    // Both fields wrong: both named.
    let errors = refusal(
        &w.webhooks,
        w.ada.id,
        EndpointDraft::new("gopher://x", ["nope"]),
    )
    .await;
    assert_eq!(
        errors.iter().map(|e| e.0.name()).collect::<Vec<_>>(),
        ["url", "events"]
    );
    assert!(
        w.webhooks.endpoints(w.ada.id).await.unwrap().is_empty(),
        "nothing stored"
    );
}

#[tokio::test]
async fn loopback_and_private_urls_need_the_setting() {
    let w = world_with(|service, store| {
        Webhooks::new(service, store, UrlPolicy::public_only()).unwrap()
    })
    .await;
    for url in [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://[::1]/hook",
        "http://10.0.0.5/hook",
        "http://169.254.169.254/latest/meta-data/",
    ] {
        let errors = refusal(&w.webhooks, w.ada.id, EndpointDraft::new(url, ALL_EVENTS)).await;
        assert_eq!(errors[0].0, WebhookField::Url, "{url}");
        assert!(
            errors[0].1.contains("not a public address"),
            "{}",
            errors[0].1
        );
    }
    w.webhooks
        .create_endpoint(
            w.ada.id,
            &EndpointDraft::new("https://hooks.example.com/x", ALL_EVENTS),
        )
        .await
        .expect("a public URL is fine");
    // The same loopback URL is accepted where private addresses are allowed.
    let allowed = world().await;
    allowed
        .webhooks
        .create_endpoint(
            allowed.ada.id,
            &EndpointDraft::new("http://127.0.0.1:8080/hook", ALL_EVENTS),
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn endpoints_are_listed_without_secrets_and_only_to_their_organizer() {
    let w = world().await;
    let created = w
        .endpoint("https://hooks.example.com/a", &["booking.cancelled"])
        .await;
    assert!(created.secret.expose().starts_with("whsec_"));
    assert_eq!(created.endpoint.url, "https://hooks.example.com/a");
    assert_eq!(created.endpoint.created_at, w.now());
    assert_eq!(created.endpoint.disabled, None);
    // Listed by creation time (ties within a millisecond in any order).
    w.advance(booking_core::chrono::Duration::milliseconds(1));
    let second = w.endpoint("https://hooks.example.com/b", &ALL_EVENTS).await;

    let listed = w.webhooks.endpoints(w.ada.id).await.unwrap();
    assert_eq!(listed, [created.endpoint.clone(), second.endpoint.clone()]);
    let json = serde_json::to_string(&listed).unwrap();
    assert!(!json.contains(&created.secret.expose()["whsec_".len()..]));
    assert!(!json.contains("whsec_"));
    assert!(json.contains(r#""events":["booking.cancelled"]"#), "{json}");
    assert!(!format!("{created:?}").contains(&created.secret.expose()["whsec_".len()..]));

    // Another organizer sees none of it and can touch none of it.
    let (bob, _) = w
        .service
        .register_organizer(NewOrganizer::new("bob", "bob@example.com", "Bob", Tz::UTC))
        .await
        .unwrap();
    let id = created.endpoint.id;
    assert!(w.webhooks.endpoints(bob.id).await.unwrap().is_empty());
    for result in [
        w.webhooks.endpoint(bob.id, id).await.map(|_| ()),
        w.webhooks.delete_endpoint(bob.id, id).await,
        w.webhooks.rotate_secret(bob.id, id).await.map(|_| ()),
        w.webhooks.deliveries(bob.id, id, 10).await.map(|_| ()),
    ] {
        let error = result.unwrap_err();
        assert!(matches!(error, WebhookError::NotFound(_)), "{error}");
        assert_eq!(error.code(), "not_found");
    }

    w.webhooks.delete_endpoint(w.ada.id, id).await.unwrap();
    assert_eq!(
        w.webhooks.endpoints(w.ada.id).await.unwrap(),
        [second.endpoint]
    );
    assert!(matches!(
        w.webhooks.delete_endpoint(w.ada.id, id).await,
        Err(WebhookError::NotFound(_))
    ));
}

#[tokio::test]
async fn an_organizer_has_a_bounded_number_of_endpoints() {
    let w = world().await;
    for i in 0..MAX_ENDPOINTS {
        w.endpoint(&format!("https://hooks.example.com/{i}"), &ALL_EVENTS)
            .await;
    }
    let error = w
        .webhooks
        .create_endpoint(
            w.ada.id,
            &EndpointDraft::new("https://hooks.example.com/x", ALL_EVENTS),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(error, WebhookError::TooManyEndpoints(_)),
        "{error}"
    );
    assert!(error.is_client_error());
}
