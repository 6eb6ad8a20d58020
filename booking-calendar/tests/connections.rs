//! The management API of connected calendars: every bad input refused
//! with its own error, passwords sealed and never returned, organizers
//! kept apart.

use std::sync::Arc;

use booking_calendar::connections::{CONNECTION_RECORD, MAX_CONNECTIONS};
use booking_calendar::{ConnectionError, Connections, NewConnection};
use booking_core::chrono::Utc;
use booking_core::secret::SecretBox;
use booking_core::{BookingStore, MemoryStore, OrganizerId};
use booking_net::{UrlError, UrlPolicy};

const PASSWORD: &str = "correct horse battery staple";

fn caldav(url: &str, username: &str, password: &str) -> NewConnection {
    NewConnection::Caldav {
        url: url.to_owned(),
        username: username.to_owned(),
        password: password.to_owned(),
        name: None,
    }
}

fn ics(url: &str) -> NewConnection {
    NewConnection::Ics {
        url: url.to_owned(),
        name: None,
    }
}

fn setup(key: bool) -> (Arc<dyn BookingStore>, Connections) {
    let store: Arc<dyn BookingStore> = Arc::new(MemoryStore::new());
    let secrets = key.then(|| SecretBox::new(b"server key"));
    let connections = Connections::new(store.clone(), UrlPolicy::public_only(), secrets);
    (store, connections)
}

#[tokio::test]
async fn a_caldav_password_is_sealed_and_never_returned() {
    let (store, connections) = setup(true);
    let ada = OrganizerId::generate();
    let connected = connections
        .connect(
            ada,
            caldav("https://dav.example.com/ada/work/", "ada", PASSWORD),
        )
        .await
        .unwrap();
    assert_eq!(connected.username.as_deref(), Some("ada"));
    assert_eq!(connected.name, "dav.example.com");

    let listed = connections.list(ada).await.unwrap();
    assert_eq!(listed, vec![connected.clone()]);
    let json = serde_json::to_string(&listed).unwrap();
    assert!(
        !json.contains(PASSWORD) && !json.contains("password"),
        "{json}"
    );
    assert!(!format!("{listed:?}").contains(PASSWORD));
    assert!(!format!("{:?}", caldav("https://x.example.com/", "u", PASSWORD)).contains(PASSWORD));

    let stored = store
        .records(ada, CONNECTION_RECORD, Utc::now())
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert!(
        !stored[0].data.contains(PASSWORD),
        "stored in clear: {}",
        stored[0].data
    );
}

#[tokio::test]
async fn without_a_server_key_no_password_is_stored_but_feeds_are() {
    let (store, connections) = setup(false);
    let ada = OrganizerId::generate();
    let refused = connections
        .connect(ada, caldav("https://dav.example.com/ada/", "ada", PASSWORD))
        .await
        .unwrap_err();
    assert!(
        matches!(refused, ConnectionError::NoSecretKey),
        "{refused:?}"
    );
    assert_eq!(refused.code(), "secret_key_missing");
    assert!(
        store
            .records(ada, CONNECTION_RECORD, Utc::now())
            .await
            .unwrap()
            .is_empty()
    );
    connections
        .connect(ada, ics("https://calendar.example.com/basic.ics"))
        .await
        .unwrap();
}

#[tokio::test]
async fn every_bad_input_has_its_own_error() {
    let (_, connections) = setup(true);
    let ada = OrganizerId::generate();
    let cases: Vec<(NewConnection, &str)> = vec![
        (ics(""), "validation_failed"),
        (ics("not a url"), "invalid_url"),
        (ics("ftp://calendar.example.com/a.ics"), "invalid_url"),
        (
            ics("https://user:pw@calendar.example.com/a.ics"),
            "invalid_url",
        ),
        (ics("http://127.0.0.1:8080/a.ics"), "invalid_url"),
        (
            ics("http://169.254.169.254/latest/meta-data/"),
            "invalid_url",
        ),
        (ics("http://[::1]/a.ics"), "invalid_url"),
        (
            caldav("https://dav.example.com/", "", PASSWORD),
            "validation_failed",
        ),
        (
            caldav("https://dav.example.com/", "ada", ""),
            "validation_failed",
        ),
        (
            caldav("https://dav.example.com/", "a\nb", PASSWORD),
            "validation_failed",
        ),
        (
            caldav("https://dav.example.com/", &"u".repeat(201), PASSWORD),
            "validation_failed",
        ),
        (
            NewConnection::Ics {
                url: "https://calendar.example.com/a.ics".to_owned(),
                name: Some("n".repeat(201)),
            },
            "validation_failed",
        ),
    ];
    for (input, code) in cases {
        let shown = format!("{input:?}");
        let error = connections.connect(ada, input).await.unwrap_err();
        assert_eq!(error.code(), code, "{shown}: {error}");
        assert!(error.is_client_error(), "{shown}");
        assert!(!error.to_string().is_empty());
    }
    let private = connections
        .connect(ada, ics("http://10.0.0.5/a.ics"))
        .await
        .unwrap_err();
    assert!(matches!(
        private,
        ConnectionError::InvalidUrl(UrlError::PrivateAddress(_))
    ));
    assert!(
        connections.list(ada).await.unwrap().is_empty(),
        "nothing was stored"
    );
}

#[tokio::test]
async fn json_input_takes_both_kinds_and_refuses_others() {
    let feed: NewConnection =
        serde_json::from_str(r#"{"kind": "ics", "url": "https://c.example.com/a.ics"}"#).unwrap();
    assert!(matches!(feed, NewConnection::Ics { .. }));
    let dav: NewConnection = serde_json::from_str(
        r#"{"kind": "caldav", "url": "https://d.example.com/", "username": "u", "password": "p", "name": "Work"}"#,
    )
    .unwrap();
    assert!(
        matches!(dav, NewConnection::Caldav { ref name, .. } if name.as_deref() == Some("Work"))
    );
    for bad in [
        r#"{"kind": "google", "url": "https://c.example.com/"}"#,
        r#"{"url": "https://c.example.com/"}"#,
        r#"{"kind": "caldav", "url": "https://d.example.com/"}"#,
        r#"{"kind": "ics", "url": "https://c.example.com/", "password": "x"}"#,
    ] {
        assert!(serde_json::from_str::<NewConnection>(bad).is_err(), "{bad}");
    }
}

#[tokio::test]
async fn organizers_only_see_and_delete_their_own_and_have_a_limit() {
    let (_, connections) = setup(true);
    let ada = OrganizerId::generate();
    let bob = OrganizerId::generate();
    let mine = connections
        .connect(ada, ics("https://calendar.example.com/ada.ics"))
        .await
        .unwrap();
    assert!(connections.list(bob).await.unwrap().is_empty());
    assert!(matches!(
        connections.delete(bob, &mine.id).await,
        Err(ConnectionError::NotFound)
    ));
    assert!(matches!(
        connections.delete(ada, "no-such-id").await,
        Err(ConnectionError::NotFound)
    ));
    connections.delete(ada, &mine.id).await.unwrap();
    assert!(connections.list(ada).await.unwrap().is_empty());
    assert!(matches!(
        connections.delete(ada, &mine.id).await,
        Err(ConnectionError::NotFound)
    ));

    for n in 0..MAX_CONNECTIONS {
        connections
            .connect(ada, ics(&format!("https://calendar.example.com/{n}.ics")))
            .await
            .unwrap();
    }
    let over = connections
        .connect(ada, ics("https://calendar.example.com/more.ics"))
        .await
        .unwrap_err();
    assert_eq!(over.code(), "too_many_calendars");
    assert_eq!(connections.list(ada).await.unwrap().len(), MAX_CONNECTIONS);
}
