//! The organizer's integrations page, `/dashboard/integrations`: the
//! calendar feed address (with its token, and a button for a new one), the
//! connected calendars (ICS feeds and CalDAV; a password is never shown
//! back) and the webhook endpoints (the signing secret shown once, right
//! after creation). Everything goes through the same [`Integrations`] calls
//! as the JSON API (`/api/feed-token`, `/api/calendars`, `/api/webhooks`),
//! so the rules and refusals are the same; refusals are shown in plain
//! words next to the form.
//!
//! One route: `GET` shows the page, `POST` acts on the form's `action`
//! (`rotate-feed`, `connect-calendar`, `remove-calendar`,
//! `create-webhook`, `delete-webhook`). Every post passes the origin check
//! and carries the session's form token. The page exists only where the
//! service runs with its integrations ([`crate::http::app_router`]); a
//! router of the pages alone answers it with 404.

use axum::Extension;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use booking_calendar::connections::{ConnectionKind, NewConnection};
use booking_calendar::{Connection, ConnectionError};
use booking_core::{BookingEventKind, Organizer};
use booking_net::Url;
use booking_webhooks::{Endpoint, EndpointDraft, EndpointId, WebhookError};
use maud::{Markup, html};
use serde::Deserialize;

use super::super::Ui;
use super::super::form::FormFields;
use super::super::format::url_with;
use super::super::layout::{
    Shell, csrf_field, document, internal_error, message_page, post_button, respond,
};
use crate::integrations::Integrations;

/// Where the page lives.
pub(in crate::ui) const URL: &str = "/dashboard/integrations";

/// `?notice=` after an action that redirects back.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(in crate::ui) struct PageParams {
    notice: String,
}

/// What the page says besides its lists.
#[derive(Default)]
struct Outcome {
    /// A message at the top; `true` when it is a refusal.
    notice: Option<(String, bool)>,
    /// A new webhook's signing secret, shown this once.
    new_secret: Option<String>,
    /// A refusal of the calendar form, and what was typed (never the
    /// password).
    calendar_error: Option<String>,
    calendar_kind: String,
    calendar_url: String,
    calendar_name: String,
    calendar_username: String,
    /// A refusal of the webhook form, and what was typed.
    webhook_error: Option<String>,
    webhook_url: String,
    webhook_events: Vec<String>,
}

fn unavailable() -> Response {
    message_page(
        StatusCode::NOT_FOUND,
        "Integrations unavailable",
        "Calendars and webhooks are not set up in this service.",
    )
}

fn back(notice: &str) -> Response {
    Redirect::to(&url_with(URL, &[("notice", notice)])).into_response()
}

/// `GET /dashboard/integrations`.
pub(in crate::ui) async fn page(
    State(ui): State<Ui>,
    integrations: Option<Extension<Integrations>>,
    headers: HeaderMap,
    params: Result<Query<PageParams>, QueryRejection>,
) -> Response {
    let (organizer, key) = match ui.require_organizer(&headers).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let Some(Extension(integrations)) = integrations else {
        return unavailable();
    };
    let params = params.map(|Query(p)| p).unwrap_or_default();
    let notice = match params.notice.as_str() {
        "feed_rotated" => Some("A new feed address was made; the old one no longer works."),
        "calendar_connected" => Some("Calendar connected. Its busy times now block your slots."),
        "calendar_removed" => Some("Calendar removed."),
        "webhook_deleted" => Some("Webhook endpoint deleted."),
        _ => None,
    };
    let outcome = Outcome {
        notice: notice.map(|n| (n.to_owned(), false)),
        ..Outcome::default()
    };
    render(
        &integrations,
        &organizer,
        &ui.form_token(&key),
        outcome,
        StatusCode::OK,
    )
    .await
}

/// `POST /dashboard/integrations`: the form's `action`.
pub(in crate::ui) async fn act(
    State(ui): State<Ui>,
    integrations: Option<Extension<Integrations>>,
    headers: HeaderMap,
    form: Result<Form<FormFields>, FormRejection>,
) -> Response {
    let (organizer, key, fields) = match ui.signed_in_post(&headers, form).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let Some(Extension(integrations)) = integrations else {
        return unavailable();
    };
    let form_token = ui.form_token(&key);
    let refused = |outcome: Outcome| {
        render(
            &integrations,
            &organizer,
            &form_token,
            outcome,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
    };
    match fields.first("action") {
        "rotate-feed" => match &integrations.feed_tokens {
            None => {
                refused(Outcome {
                    notice: Some((NO_KEY_FEED.to_owned(), true)),
                    ..Outcome::default()
                })
                .await
            }
            Some(tokens) => match tokens.rotate(organizer.id).await {
                Ok(_) => {
                    tracing::info!(organizer = %organizer.id, "feed token rotated");
                    back("feed_rotated")
                }
                Err(error) => internal_error(&error),
            },
        },
        "connect-calendar" => {
            let kind = fields.first("kind").trim().to_owned();
            let url = fields.first("url").trim().to_owned();
            let name = Some(fields.first("name").trim().to_owned()).filter(|n| !n.is_empty());
            let username = fields.first("username").trim().to_owned();
            let password = fields.first("password").to_owned();
            let mut outcome = Outcome {
                calendar_kind: kind.clone(),
                calendar_url: url.clone(),
                calendar_name: name.clone().unwrap_or_default(),
                calendar_username: username.clone(),
                ..Outcome::default()
            };
            let new = match kind.as_str() {
                "caldav" => {
                    if username.is_empty() || password.is_empty() {
                        outcome.calendar_error =
                            Some("A CalDAV calendar needs its user name and password.".to_owned());
                        return refused(outcome).await;
                    }
                    NewConnection::Caldav {
                        url,
                        username,
                        password,
                        name,
                    }
                }
                _ => NewConnection::Ics { url, name },
            };
            match integrations.connections.connect(organizer.id, new).await {
                Ok(connected) => {
                    tracing::info!(organizer = %organizer.id, calendar = %connected.id, "calendar connected");
                    back("calendar_connected")
                }
                Err(ConnectionError::Store(error)) => internal_error(&error),
                Err(error) => {
                    outcome.calendar_error = Some(calendar_refusal(&error));
                    refused(outcome).await
                }
            }
        }
        "remove-calendar" => {
            let id = fields.first("id");
            match integrations.connections.delete(organizer.id, id).await {
                Ok(()) => {
                    tracing::info!(organizer = %organizer.id, calendar = %id, "calendar disconnected");
                    back("calendar_removed")
                }
                Err(ConnectionError::Store(error)) => internal_error(&error),
                Err(_) => {
                    refused(Outcome {
                        notice: Some(("That calendar is no longer connected.".to_owned(), true)),
                        ..Outcome::default()
                    })
                    .await
                }
            }
        }
        "create-webhook" => {
            let url = fields.first("url").trim().to_owned();
            let events: Vec<String> = fields.all("events").to_vec();
            let mut outcome = Outcome {
                webhook_url: url.clone(),
                webhook_events: events.clone(),
                ..Outcome::default()
            };
            if events.is_empty() {
                outcome.webhook_error =
                    Some("Choose at least one event to be told about.".to_owned());
                return refused(outcome).await;
            }
            let draft = EndpointDraft::new(url, events);
            match integrations
                .webhooks
                .create_endpoint(organizer.id, &draft)
                .await
            {
                Ok(created) => {
                    tracing::info!(organizer = %organizer.id, endpoint = %created.endpoint.id, "webhook endpoint created");
                    render(
                        &integrations,
                        &organizer,
                        &form_token,
                        Outcome {
                            notice: Some((
                                "Webhook endpoint created. Copy its signing secret now: it is not shown again."
                                    .to_owned(),
                                false,
                            )),
                            new_secret: Some(created.secret.expose().to_owned()),
                            ..Outcome::default()
                        },
                        StatusCode::CREATED,
                    )
                    .await
                }
                Err(error @ (WebhookError::Invalid(_) | WebhookError::TooManyEndpoints(_))) => {
                    outcome.webhook_error = Some(webhook_refusal(&error));
                    refused(outcome).await
                }
                Err(error) => internal_error(&error),
            }
        }
        "delete-webhook" => {
            let deleted = match fields.first("id").parse::<EndpointId>() {
                Ok(id) => integrations
                    .webhooks
                    .delete_endpoint(organizer.id, id)
                    .await
                    .map(Some),
                Err(_) => Ok(None),
            };
            match deleted {
                Ok(Some(())) => back("webhook_deleted"),
                Ok(None) | Err(WebhookError::NotFound(_)) => {
                    refused(Outcome {
                        notice: Some(("That webhook endpoint no longer exists.".to_owned(), true)),
                        ..Outcome::default()
                    })
                    .await
                }
                Err(error) => internal_error(&error),
            }
        }
        _ => {
            refused(Outcome {
                notice: Some(("That action is not known here.".to_owned(), true)),
                ..Outcome::default()
            })
            .await
        }
    }
}

const NO_KEY_FEED: &str =
    "Calendar feeds need the server's secret key: the operator has to set BOOKING_SECRET_KEY.";

/// A refused calendar connection in plain words.
fn calendar_refusal(error: &ConnectionError) -> String {
    match error {
        ConnectionError::InvalidUrl(cause) => format!("That address cannot be used: {cause}."),
        ConnectionError::NoSecretKey => "CalDAV passwords can only be stored when the operator has set BOOKING_SECRET_KEY; an ICS address works without it.".to_owned(),
        ConnectionError::TooMany => format!("{error}; remove one first."),
        other => {
            let text = other.to_string();
            let mut chars = text.chars();
            match chars.next() {
                Some(first) => format!("{}{}.", first.to_uppercase(), chars.as_str()),
                None => text,
            }
        }
    }
}

/// A refused webhook endpoint in plain words.
fn webhook_refusal(error: &WebhookError) -> String {
    match error {
        WebhookError::Invalid(errors) => errors
            .errors()
            .iter()
            .map(|e| {
                let field = match e.field.name() {
                    "url" => "Address",
                    "events" => "Events",
                    other => other,
                };
                format!("{field}: {}.", e.message.trim_end_matches('.'))
            })
            .collect::<Vec<_>>()
            .join(" "),
        other => format!("{other}."),
    }
}

/// The page, with `outcome` shown.
async fn render(
    integrations: &Integrations,
    organizer: &Organizer,
    form_token: &str,
    outcome: Outcome,
    status: StatusCode,
) -> Response {
    let feed_url = match &integrations.feed_tokens {
        None => None,
        Some(tokens) => match tokens.token(organizer.id).await {
            Ok(token) => Url::parse_with_params(
                &format!(
                    "{}/api/organizers/{}/calendar.ics",
                    integrations.public_url, organizer.username
                ),
                [("token", token.expose())],
            )
            .ok()
            .map(String::from),
            Err(error) => return internal_error(&error),
        },
    };
    let calendars = match integrations.connections.list(organizer.id).await {
        Ok(found) => found,
        Err(error) => return internal_error(&error),
    };
    let endpoints = match integrations.webhooks.endpoints(organizer.id).await {
        Ok(found) => found,
        Err(error) => return internal_error(&error),
    };
    let body = html! {
        section.dashboard-head {
            h1 { "Calendars and webhooks" }
            p.muted { "Your bookings in your calendar app, your other calendars' busy times, and notices to your own systems." }
            @if let Some((message, is_error)) = &outcome.notice {
                p.notice.error[*is_error] #notice role="status" { (message) }
            }
        }
        (feed_section(feed_url.as_deref(), form_token))
        (calendar_section(&calendars, form_token, &outcome))
        (webhook_section(&endpoints, form_token, &outcome))
    };
    respond(
        status,
        document("Calendars and webhooks", Shell::organizer(form_token), body),
    )
}

fn feed_section(feed_url: Option<&str>, form_token: &str) -> Markup {
    html! {
        section.card #feed {
            h2 { "Your bookings as a calendar" }
            @match feed_url {
                Some(url) => {
                    p { "Subscribe to this address in Google Calendar, Apple Calendar or Thunderbird. Keep it private: anyone with it sees your bookings." }
                    div.field {
                        label for="feed-url" { "Feed address" }
                        input #feed-url type="text" readonly value=(url);
                    }
                    (post_button(URL, form_token, &[("action", "rotate-feed")], "secondary", "New feed address",
                        Some("Make a new feed address? The current one stops working at once.")))
                }
                None => { p.muted #feed-unavailable { (NO_KEY_FEED) } }
            }
        }
    }
}

fn calendar_section(calendars: &[Connection], form_token: &str, outcome: &Outcome) -> Markup {
    let caldav = outcome.calendar_kind == "caldav";
    html! {
        section.card #calendars {
            h2 { "Connected calendars" }
            p.muted { "Busy times in these calendars are not offered to people booking you." }
            @if calendars.is_empty() {
                p.muted #no-calendars { "No calendar connected." }
            } @else {
                table.bookings #calendar-list {
                    thead { tr { th { "Calendar" } th { "Kind" } th { "Address" } th { span.visually-hidden { "Actions" } } } }
                    tbody {
                        @for calendar in calendars {
                            tr data-calendar-id=(calendar.id) {
                                td data-label="Calendar" { (calendar.name) }
                                td data-label="Kind" {
                                    @match calendar.kind {
                                        ConnectionKind::Ics => "ICS feed",
                                        ConnectionKind::Caldav => "CalDAV",
                                    }
                                    @if let Some(user) = &calendar.username { " · " (user) }
                                }
                                td data-label="Address" { span.pre { (calendar.url) } }
                                td.actions {
                                    (post_button(URL, form_token, &[("action", "remove-calendar"), ("id", &calendar.id)],
                                        "danger", "Remove", Some("Remove this calendar? Its busy times stop blocking your slots.")))
                                }
                            }
                        }
                    }
                }
            }
            h3 { "Connect a calendar" }
            @if let Some(error) = &outcome.calendar_error {
                p.field-error #calendar-error role="alert" { (error) }
            }
            form #calendar-form method="post" action=(URL) novalidate {
                (csrf_field(form_token))
                input type="hidden" name="action" value="connect-calendar";
                div.field {
                    label for="calendar-kind" { "Kind" }
                    select #calendar-kind name="kind" {
                        option value="ics" selected[!caldav] { "ICS feed (a calendar's secret iCal address)" }
                        option value="caldav" selected[caldav] { "CalDAV (address, user name and password)" }
                    }
                }
                div.field {
                    label for="calendar-url" { "Address" }
                    input #calendar-url name="url" type="url" required value=(outcome.calendar_url);
                }
                div.field {
                    label for="calendar-name" { "Name (optional)" }
                    input #calendar-name name="name" type="text" value=(outcome.calendar_name);
                }
                div.field {
                    label for="calendar-username" { "User name (CalDAV only)" }
                    input #calendar-username name="username" type="text" autocomplete="off" value=(outcome.calendar_username);
                }
                div.field {
                    label for="calendar-password" { "Password (CalDAV only)" }
                    input #calendar-password name="password" type="password" autocomplete="new-password";
                    span.help { "Stored encrypted and never shown again." }
                }
                button.primary #connect-calendar type="submit" { "Connect" }
            }
        }
    }
}

fn webhook_section(endpoints: &[Endpoint], form_token: &str, outcome: &Outcome) -> Markup {
    let chosen = |kind: BookingEventKind| {
        outcome.webhook_events.is_empty() && outcome.webhook_url.is_empty()
            || outcome.webhook_events.iter().any(|e| e == kind.name())
    };
    html! {
        section.card #webhooks {
            h2 { "Webhooks" }
            p.muted { "Each booking, reschedule and cancellation is sent to these addresses, signed (Standard Webhooks) and retried for a day." }
            @if let Some(secret) = &outcome.new_secret {
                div.field #new-secret-box {
                    label for="new-secret" { "Signing secret (shown only now)" }
                    input #new-secret type="text" readonly value=(secret);
                }
            }
            @if endpoints.is_empty() {
                p.muted #no-webhooks { "No webhook endpoint." }
            } @else {
                table.bookings #webhook-list {
                    thead { tr { th { "Address" } th { "Events" } th { "State" } th { span.visually-hidden { "Actions" } } } }
                    tbody {
                        @for endpoint in endpoints {
                            @let id = endpoint.id.to_string();
                            tr data-webhook-id=(id) {
                                td data-label="Address" { span.pre { (endpoint.url) } }
                                td data-label="Events" {
                                    (endpoint.events.iter().map(|e| e.name()).collect::<Vec<_>>().join(", "))
                                }
                                td data-label="State" {
                                    @match &endpoint.disabled {
                                        Some(disabled) => { "Disabled: " (disabled.reason) }
                                        None => "Active",
                                    }
                                }
                                td.actions {
                                    (post_button(URL, form_token, &[("action", "delete-webhook"), ("id", &id)],
                                        "danger", "Delete", Some("Delete this webhook endpoint? Pending deliveries are not sent.")))
                                }
                            }
                        }
                    }
                }
            }
            h3 { "Add an endpoint" }
            @if let Some(error) = &outcome.webhook_error {
                p.field-error #webhook-error role="alert" { (error) }
            }
            form #webhook-form method="post" action=(URL) novalidate {
                (csrf_field(form_token))
                input type="hidden" name="action" value="create-webhook";
                div.field {
                    label for="webhook-url" { "Address" }
                    input #webhook-url name="url" type="url" required value=(outcome.webhook_url);
                }
                fieldset.field {
                    legend { "Events" }
                    @for kind in BookingEventKind::ALL {
                        label {
                            input type="checkbox" name="events" value=(kind.name()) checked[chosen(kind)];
                            " " (kind.name())
                        }
                    }
                }
                button.primary #create-webhook type="submit" { "Add endpoint" }
            }
        }
    }
}
