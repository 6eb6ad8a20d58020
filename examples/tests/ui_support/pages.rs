//! Pages at the HTTP level, without a browser: requests sent straight to
//! the router, replies read as text, and signing in as a browser would.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use booking_examples::ui::UiOptions;
use tower::ServiceExt as _;

use super::{Fixture, form_body};

/// A page's reply.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    pub fn set_cookie(&self) -> &str {
        self.headers
            .get(header::SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// The page without its long zone list, for failure messages.
    pub fn shown(&self) -> String {
        let main = self
            .body
            .find("<main")
            .map_or(&self.body[..], |at| &self.body[at..]);
        let mut text = String::new();
        let mut in_select = false;
        for part in main.split_inclusive('>') {
            if part.starts_with("<select") || part.contains("<select") {
                in_select = true;
                text.push_str(part);
                text.push_str("...");
            } else if part.contains("</select>") {
                in_select = false;
                text.push_str("</select>");
            } else if !in_select {
                text.push_str(part);
            }
        }
        text
    }

    #[track_caller]
    pub fn assert_contains(&self, needle: &str) {
        assert!(
            self.body.contains(needle),
            "expected {needle:?} in the page (status {}):\n{}",
            self.status,
            self.shown()
        );
    }

    #[track_caller]
    pub fn assert_lacks(&self, needle: &str) {
        assert!(
            !self.body.contains(needle),
            "did not expect {needle:?} in the page:\n{}",
            self.shown()
        );
    }
}

pub fn app(fixture: &Fixture) -> Router {
    booking_examples::ui::router_with(fixture.service.clone(), UiOptions::default())
}

pub async fn send(app: &Router, request: Request<Body>) -> Reply {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    Reply {
        status,
        headers,
        body: String::from_utf8(bytes.to_vec()).unwrap(),
    }
}

pub async fn get(app: &Router, uri: &str, cookie: Option<&str>) -> Reply {
    let mut request = Request::get(uri);
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    send(app, request.body(Body::empty()).unwrap()).await
}

pub async fn post(app: &Router, uri: &str, form: &[(&str, &str)], cookie: Option<&str>) -> Reply {
    let mut request =
        Request::post(uri).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    send(app, request.body(Body::from(form_body(form))).unwrap()).await
}

/// A session cookie of the fixture's organizer (a session started with
/// their API token, as signing in does), as a browser on plain HTTP sends
/// it.
pub async fn session(fixture: &Fixture) -> String {
    session_of(fixture, &fixture.api_token).await
}

/// A session cookie for the organizer whose API token is `api_token`.
pub async fn session_of(fixture: &Fixture, api_token: &str) -> String {
    let started = fixture.service.start_session(api_token).await.unwrap();
    format!("booking_session={}", started.token.expose())
}

/// The value of a `name=value` cookie pair.
pub fn cookie_value(pair: &str) -> &str {
    pair.split_once('=').map_or("", |(_, value)| value)
}

/// A signed-in organizer: the cookie, and the form token their pages carry.
pub struct SignedIn {
    pub cookie: String,
    pub csrf: String,
}

/// Reads the form token from the settings page, as a browser would.
pub async fn signed_in(app: &Router, cookie: String) -> SignedIn {
    let page = get(app, "/dashboard/settings", Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.shown());
    let csrf = hidden_value(&page.body, "csrf").expect("the page's forms carry a token");
    SignedIn { cookie, csrf }
}

/// The fixture's organizer, signed in.
pub async fn signed_in_from(app: &Router, fixture: &Fixture) -> SignedIn {
    signed_in(app, session(fixture).await).await
}

/// The value the first `Set-Cookie` of `reply` gives, as `name=value`.
pub fn cookie_pair(reply: &Reply) -> String {
    reply
        .set_cookie()
        .split(';')
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// The value of the hidden input `name` in `page`.
pub fn hidden_value(page: &str, name: &str) -> Option<String> {
    let marker = format!(r#"name="{name}" value=""#);
    let at = page.find(&marker)? + marker.len();
    let end = page[at..].find('"')?;
    Some(page[at..at + end].to_owned())
}

pub async fn post_owned(app: &Router, uri: &str, form: &[(String, String)], cookie: &str) -> Reply {
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    post(app, uri, &pairs, Some(cookie)).await
}
