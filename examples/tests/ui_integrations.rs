//! The dashboard's integrations page at the HTTP level, without a browser:
//! the whole service's router (`http::app_router`, over the in-memory
//! store, built as the program builds it), requests sent straight to it,
//! replies read as text. The page shows the feed address and makes a new
//! one, connects, lists and removes calendars (never showing a password),
//! creates, lists and deletes webhook endpoints (the signing secret shown
//! once), through the same calls as the JSON API, which sees the same
//! state; refusals come back in plain words with 422.

mod ui_support;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use booking_core::NewOrganizer;
use booking_examples::App;
use tower::ServiceExt as _;
use ui_support::pages::{Reply, get, hidden_value, post};

const KEY: &str = "test-secret-key-0123456789abcdef0123456789";
const PAGE: &str = "/dashboard/integrations";

/// The service as the program builds it from `vars` (on `memory://`), its
/// router, and a signed-in organizer `ada`: (app, router, cookie, form
/// token, API token).
async fn service(vars: &[(&str, &str)]) -> (App, Router, String, String, String) {
    let mut all = vec![("DATABASE_URL", "memory://")];
    all.extend_from_slice(vars);
    let config = booking_examples::Config::from_lookup(|name| {
        all.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    })
    .expect("valid configuration");
    let (app, _) = booking_examples::build(&config)
        .await
        .unwrap_or_else(|error| panic!("{}", error.one_line()));
    let router = booking_examples::http::app_router(app.clone(), &config.http);
    let (_, api_token) = app
        .service
        .register_organizer(NewOrganizer::new(
            "ada",
            "ada@example.com",
            "Ada Lovelace",
            chrono_tz::UTC,
        ))
        .await
        .expect("registered");
    let session = app
        .service
        .start_session(api_token.expose())
        .await
        .expect("a session");
    let cookie = format!("booking_session={}", session.token.expose());
    let page = get(&router, PAGE, Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.shown());
    let csrf = hidden_value(&page.body, "csrf").expect("the page's forms carry a token");
    (app, router, cookie, csrf, api_token.expose().to_owned())
}

/// A JSON API call with the organizer's bearer token: status and body.
async fn api(router: &Router, uri: &str, bearer: &str) -> (StatusCode, serde_json::Value) {
    let request = Request::get(uri)
        .header(header::AUTHORIZATION, format!("Bearer {bearer}"))
        .body(Body::empty())
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, serde_json::from_slice(&bytes).unwrap_or_default())
}

async fn act(router: &Router, cookie: &str, csrf: &str, fields: &[(&str, &str)]) -> Reply {
    let mut form = vec![("csrf", csrf)];
    form.extend_from_slice(fields);
    post(router, PAGE, &form, Some(cookie)).await
}

/// The feed address the page shows.
fn feed_url(page: &Reply) -> String {
    let marker = r#"id="feed-url" type="text" readonly value=""#;
    let at = page.body.find(marker).expect("the feed address is shown") + marker.len();
    let end = page.body[at..].find('"').expect("a closed value");
    page.body[at..at + end].replace("&amp;", "&")
}

#[tokio::test]
async fn the_dashboard_links_the_page_which_shows_the_feed_and_makes_a_new_address() {
    let (app, router, cookie, csrf, api_token) = service(&[("BOOKING_SECRET_KEY", KEY)]).await;
    let home = get(&router, "/dashboard", Some(&cookie)).await;
    home.assert_contains(&format!(r#"href="{PAGE}""#));

    let page = get(&router, PAGE, Some(&cookie)).await;
    let first = feed_url(&page);
    let (_, by_api) = api(&router, "/api/feed-token", &api_token).await;
    assert_eq!(first, by_api["url"].as_str().unwrap(), "the API's feed URL");
    let path = first.trim_start_matches("http://127.0.0.1:3000").to_owned();
    let feed = get(&router, &path, None).await;
    assert_eq!(feed.status, StatusCode::OK, "the shown address works");
    assert!(feed.body.contains("BEGIN:VCALENDAR"));

    // The button needs the form token.
    let forged = act(&router, &cookie, "forged", &[("action", "rotate-feed")]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(feed_url(&get(&router, PAGE, Some(&cookie)).await), first);

    let rotated = act(&router, &cookie, &csrf, &[("action", "rotate-feed")]).await;
    assert_eq!(rotated.status, StatusCode::SEE_OTHER, "{}", rotated.shown());
    let page = get(&router, rotated.location(), Some(&cookie)).await;
    page.assert_contains("the old one no longer works");
    let second = feed_url(&page);
    assert_ne!(second, first);
    assert_eq!(
        get(&router, &path, None).await.status,
        StatusCode::UNAUTHORIZED
    );
    let new_path = second
        .trim_start_matches("http://127.0.0.1:3000")
        .to_owned();
    assert_eq!(get(&router, &new_path, None).await.status, StatusCode::OK);
    drop(app);
}

#[tokio::test]
async fn calendars_are_connected_listed_and_removed_and_a_password_is_never_shown() {
    let (_app, router, cookie, csrf, api_token) = service(&[
        ("BOOKING_SECRET_KEY", KEY),
        ("BOOKING_ALLOW_PRIVATE_URLS", "1"),
    ])
    .await;
    let page = get(&router, PAGE, Some(&cookie)).await;
    page.assert_contains("No calendar connected.");

    let ics = act(
        &router,
        &cookie,
        &csrf,
        &[
            ("action", "connect-calendar"),
            ("kind", "ics"),
            ("url", "http://127.0.0.1:9/work.ics"),
            ("name", "Work <calendar>"),
        ],
    )
    .await;
    assert_eq!(ics.status, StatusCode::SEE_OTHER, "{}", ics.shown());
    let password = "hunter2-never-shown";
    let caldav = act(
        &router,
        &cookie,
        &csrf,
        &[
            ("action", "connect-calendar"),
            ("kind", "caldav"),
            ("url", "http://127.0.0.1:9/dav/ada/"),
            ("username", "ada"),
            ("password", password),
        ],
    )
    .await;
    assert_eq!(caldav.status, StatusCode::SEE_OTHER, "{}", caldav.shown());
    let page = get(&router, caldav.location(), Some(&cookie)).await;
    page.assert_contains("Calendar connected.");
    page.assert_contains("Work &lt;calendar&gt;");
    page.assert_contains("http://127.0.0.1:9/dav/ada/");
    page.assert_lacks(password);
    let (status, listed) = api(&router, "/api/calendars", &api_token).await;
    assert_eq!(status, StatusCode::OK);
    let calendars = listed["calendars"].as_array().unwrap();
    assert_eq!(calendars.len(), 2, "the API sees what the page connected");

    // Refusals in plain words, what was typed kept, never the password.
    let missing = act(
        &router,
        &cookie,
        &csrf,
        &[
            ("action", "connect-calendar"),
            ("kind", "caldav"),
            ("url", "http://127.0.0.1:9/dav/other/"),
            ("username", "ada"),
        ],
    )
    .await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    missing.assert_contains("needs its user name and password");
    missing.assert_contains("http://127.0.0.1:9/dav/other/");
    let bad_url = act(
        &router,
        &cookie,
        &csrf,
        &[
            ("action", "connect-calendar"),
            ("kind", "caldav"),
            ("url", "ftp://calendar.example.com/"),
            ("username", "ada"),
            ("password", password),
        ],
    )
    .await;
    assert_eq!(bad_url.status, StatusCode::UNPROCESSABLE_ENTITY);
    bad_url.assert_contains("That address cannot be used");
    bad_url.assert_lacks(password);

    let id = calendars[0]["id"].as_str().unwrap();
    let removed = act(
        &router,
        &cookie,
        &csrf,
        &[("action", "remove-calendar"), ("id", id)],
    )
    .await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);
    let (_, listed) = api(&router, "/api/calendars", &api_token).await;
    assert_eq!(listed["calendars"].as_array().unwrap().len(), 1);
    let again = act(
        &router,
        &cookie,
        &csrf,
        &[("action", "remove-calendar"), ("id", id)],
    )
    .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    again.assert_contains("no longer connected");
}

#[tokio::test]
async fn webhooks_are_created_with_the_secret_shown_once_and_deleted() {
    let (_app, router, cookie, csrf, api_token) = service(&[
        ("BOOKING_SECRET_KEY", KEY),
        ("BOOKING_ALLOW_PRIVATE_URLS", "1"),
    ])
    .await;
    let created = act(
        &router,
        &cookie,
        &csrf,
        &[
            ("action", "create-webhook"),
            ("url", "http://127.0.0.1:9/hooks"),
            ("events", "booking.created"),
            ("events", "booking.cancelled"),
        ],
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.shown());
    created.assert_contains("not shown again");
    let secret = {
        let marker = r#"id="new-secret" type="text" readonly value=""#;
        let at = created.body.find(marker).expect("the secret is shown") + marker.len();
        created.body[at..at + created.body[at..].find('"').unwrap()].to_owned()
    };
    assert!(secret.starts_with("whsec_"), "{secret}");
    let page = get(&router, PAGE, Some(&cookie)).await;
    page.assert_lacks(&secret);
    page.assert_contains("http://127.0.0.1:9/hooks");
    page.assert_contains("booking.created, booking.cancelled");
    let (_, listed) = api(&router, "/api/webhooks", &api_token).await;
    let webhooks = listed["webhooks"].as_array().unwrap();
    assert_eq!(webhooks.len(), 1, "the API sees the endpoint");
    assert!(!listed.to_string().contains(&secret));

    for (fields, says) in [
        (
            vec![("url", "not a url"), ("events", "booking.created")],
            "Address:",
        ),
        (
            vec![("url", "http://127.0.0.1:9/hooks")],
            "at least one event",
        ),
        (
            vec![
                ("url", "http://127.0.0.1:9/hooks"),
                ("events", "booking.paid"),
            ],
            "Events:",
        ),
    ] {
        let mut form = vec![("action", "create-webhook")];
        form.extend(fields);
        let refused = act(&router, &cookie, &csrf, &form).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{says}");
        refused.assert_contains(says);
    }

    let id = webhooks[0]["id"].as_str().unwrap();
    let deleted = act(
        &router,
        &cookie,
        &csrf,
        &[("action", "delete-webhook"), ("id", id)],
    )
    .await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    let (_, listed) = api(&router, "/api/webhooks", &api_token).await;
    assert!(listed["webhooks"].as_array().unwrap().is_empty());
    let unknown = act(
        &router,
        &cookie,
        &csrf,
        &[("action", "delete-webhook"), ("id", "not-an-id")],
    )
    .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    unknown.assert_contains("no longer exists");
}

#[tokio::test]
async fn without_the_secret_key_or_private_urls_the_page_says_why_in_plain_words() {
    let (_app, router, cookie, csrf, _) = service(&[]).await;
    let page = get(&router, PAGE, Some(&cookie)).await;
    page.assert_contains("BOOKING_SECRET_KEY");
    page.assert_lacks(r#"id="feed-url""#);
    let rotate = act(&router, &cookie, &csrf, &[("action", "rotate-feed")]).await;
    assert_eq!(rotate.status, StatusCode::UNPROCESSABLE_ENTITY);
    let caldav = act(
        &router,
        &cookie,
        &csrf,
        &[
            ("action", "connect-calendar"),
            ("kind", "caldav"),
            ("url", "https://calendar.example.com/dav/"),
            ("username", "ada"),
            ("password", "secret"),
        ],
    )
    .await;
    assert_eq!(caldav.status, StatusCode::UNPROCESSABLE_ENTITY);
    caldav.assert_contains("CalDAV passwords can only be stored");
    let private = act(
        &router,
        &cookie,
        &csrf,
        &[
            ("action", "connect-calendar"),
            ("kind", "ics"),
            ("url", "http://127.0.0.1:9/work.ics"),
        ],
    )
    .await;
    assert_eq!(private.status, StatusCode::UNPROCESSABLE_ENTITY);
    private.assert_contains("That address cannot be used");
}

#[tokio::test]
async fn signed_out_visitors_and_a_router_without_integrations_get_no_page() {
    let (_app, router, _, _, _) = service(&[]).await;
    let anonymous = get(&router, PAGE, None).await;
    assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
    assert_eq!(anonymous.location(), "/dashboard");
    let forged = post(&router, PAGE, &[("action", "rotate-feed")], None).await;
    assert!(
        forged.status == StatusCode::SEE_OTHER || forged.status == StatusCode::FORBIDDEN,
        "{}",
        forged.status
    );

    let fixture = ui_support::fixture().await;
    let pages_only: Router = booking_examples::ui::router_with(
        fixture.service.clone(),
        booking_examples::ui::UiOptions::default(),
    );
    let cookie = ui_support::pages::session(&fixture).await;
    let page = get(&pages_only, PAGE, Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    page.assert_contains("not set up");
}
