//! `SafeClient` against a real HTTP server on loopback.

use std::time::Duration;

use axum::Router;
use axum::response::Redirect;
use axum::routing::get;
use booking_net::{FetchError, SafeClient, SafeClientOptions, UrlError, UrlPolicy};
use reqwest::header::HeaderMap;

async fn serve() -> String {
    let app = Router::new()
        .route("/small", get(|| async { "hello" }))
        .route("/big", get(|| async { "x".repeat(64 * 1024) }))
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(30)).await;
                "late"
            }),
        )
        .route("/loop", get(|| async { Redirect::temporary("/loop") }))
        .route("/to-small", get(|| async { Redirect::temporary("/small") }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

fn client(policy: UrlPolicy) -> SafeClient {
    SafeClient::new(
        policy,
        SafeClientOptions {
            timeout: Duration::from_secs(2),
            max_body_bytes: 1024,
            ..SafeClientOptions::default()
        },
    )
    .unwrap()
}

#[tokio::test]
async fn a_private_target_is_refused_unless_allowed() {
    let base = serve().await;
    let refused = client(UrlPolicy::public_only())
        .get(&format!("{base}/small"), HeaderMap::new())
        .await;
    assert!(
        matches!(
            refused,
            Err(FetchError::Refused(UrlError::PrivateAddress(_)))
        ),
        "{refused:?}"
    );
    let allowed = client(UrlPolicy::allow_private())
        .get(&format!("{base}/small"), HeaderMap::new())
        .await
        .unwrap();
    assert_eq!(&allowed.body[..], b"hello");
}

/// The machine's own name, which resolves (through /etc/hosts) to a
/// loopback or private address on any machine: a host *name* that passes
/// the form check, while the address it resolves to does not.
fn own_host_name() -> String {
    std::fs::read_to_string("/etc/hostname")
        .expect("/etc/hostname names this machine")
        .trim()
        .to_owned()
}

#[tokio::test]
async fn a_name_resolving_to_loopback_is_refused_at_connect_time() {
    let base = serve().await;
    let port = base.rsplit(':').next().unwrap();
    let name = own_host_name();
    let resolved: Vec<_> = tokio::net::lookup_host((name.as_str(), 0))
        .await
        .unwrap()
        .collect();
    assert!(
        resolved.iter().all(|a| !booking_net::is_public(a.ip())),
        "{name} must resolve to a non-public address for this test: {resolved:?}"
    );
    let policy = UrlPolicy::public_only();
    let url = format!("http://{name}:{port}/small");
    assert!(policy.check(&url).is_ok(), "the name itself passes");
    let refused = client(policy).get(&url, HeaderMap::new()).await;
    assert!(matches!(refused, Err(FetchError::Http(_))), "{refused:?}");
    let source = format!("{:?}", refused.unwrap_err());
    assert!(source.contains("PrivateAddress"), "{source}");
}

#[tokio::test]
async fn bodies_over_the_cap_and_slow_servers_are_cut_off() {
    let base = serve().await;
    let client = client(UrlPolicy::allow_private());
    assert!(matches!(
        client.get(&format!("{base}/big"), HeaderMap::new()).await,
        Err(FetchError::TooLarge(1024))
    ));
    let slow = client.get(&format!("{base}/slow"), HeaderMap::new()).await;
    assert!(slow.as_ref().is_err_and(FetchError::is_timeout), "{slow:?}");
}

#[tokio::test]
async fn redirects_are_followed_a_few_times_only() {
    let base = serve().await;
    let client = client(UrlPolicy::allow_private());
    let followed = client
        .get(&format!("{base}/to-small"), HeaderMap::new())
        .await
        .unwrap();
    assert_eq!(&followed.body[..], b"hello");
    assert!(matches!(
        client.get(&format!("{base}/loop"), HeaderMap::new()).await,
        Err(FetchError::Http(_))
    ));
}

#[tokio::test]
async fn a_client_that_does_not_follow_redirects_returns_the_redirect() {
    let base = serve().await;
    let client = SafeClient::new(
        UrlPolicy::allow_private(),
        SafeClientOptions {
            follow_redirects: false,
            ..SafeClientOptions::default()
        },
    )
    .unwrap();
    let answer = client
        .get(&format!("{base}/to-small"), HeaderMap::new())
        .await
        .unwrap();
    assert_eq!(answer.status, 307);
}
