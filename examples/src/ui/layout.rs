//! The page shell shared by every page, and small building blocks.

use crate::http::fields::FieldErrors;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};

/// Options of the page shell.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Shell<'a> {
    /// Ask the script to add the browser's time zone to the URL (only on a
    /// booking page reached without `?tz=`).
    pub detect_time_zone: bool,
    /// Show the organizer's navigation (bookings, settings, sign out); the
    /// value is the session's form token, which the sign-out form carries.
    pub organizer_nav: Option<&'a str>,
}

impl<'a> Shell<'a> {
    /// The shell of a signed-in organizer's page; `form_token` goes into the
    /// sign-out form.
    pub(super) fn organizer(form_token: &'a str) -> Self {
        Shell {
            detect_time_zone: false,
            organizer_nav: Some(form_token),
        }
    }
}

/// The hidden field carrying a form's CSRF token.
pub(super) fn csrf_field(token: &str) -> Markup {
    html! { input type="hidden" name=(super::csrf::FIELD) value=(token); }
}

/// A whole HTML document around `body`.
pub(super) fn document(title: &str, shell: Shell<'_>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Booking" }
                link rel="stylesheet" href="/assets/app.css";
                @if shell.detect_time_zone {
                    meta name="detect-time-zone" content="tz";
                }
                script src="/assets/app.js" {}
            }
            body {
                header.site {
                    div.site-inner {
                        a.brand href="/" { "Booking" }
                        @if let Some(form_token) = shell.organizer_nav {
                            nav.site-nav aria-label="Organizer" {
                                a href="/dashboard" { "Bookings" }
                                a href="/dashboard/event-types" id="nav-event-types" { "Event types" }
                                a href="/dashboard/schedules" id="nav-schedules" { "Schedules" }
                                a href="/dashboard/settings" { "Settings" }
                                form method="post" action="/dashboard/logout" {
                                    (csrf_field(form_token))
                                    button.link type="submit" id="logout" { "Sign out" }
                                }
                                form method="post" action="/dashboard/logout-everywhere"
                                    data-confirm="Sign out in every browser, this one included?" {
                                    (csrf_field(form_token))
                                    button.link type="submit" id="logout-everywhere" { "Sign out everywhere" }
                                }
                            }
                        }
                    }
                }
                main.site-inner { (body) }
            }
        }
    }
}

/// An HTML response.
pub(super) fn respond(status: StatusCode, markup: Markup) -> Response {
    (status, Html(markup.into_string())).into_response()
}

/// A page that only says what went wrong, in plain words.
pub(super) fn message_page(status: StatusCode, title: &str, message: &str) -> Response {
    respond(
        status,
        document(
            title,
            Shell::default(),
            html! {
                section.card.message {
                    h1 { (title) }
                    p { (message) }
                }
            },
        ),
    )
}

/// The page shown when the service failed; the cause is logged, not shown.
pub(super) fn internal_error(error: &dyn std::error::Error) -> Response {
    tracing::error!(error = %error, source = ?error.source().map(ToString::to_string), "page failed");
    message_page(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong",
        "Something went wrong on our side. Please try again in a moment.",
    )
}

/// The error message for `field`, as a paragraph the field points to with
/// `aria-describedby`, or nothing.
pub(super) fn field_error(errors: &FieldErrors, field: &str) -> Markup {
    html! {
        @if let Some(message) = errors.message_for(field) {
            p.field-error id=(format!("error-{field}")) role="alert" { (message) }
        }
    }
}

/// The `aria-describedby` value for `field` when it has an error.
pub(super) fn described_by(errors: &FieldErrors, field: &str) -> Option<String> {
    errors.message_for(field).map(|_| format!("error-{field}"))
}

/// A labelled, required text input with its help and its error next to it.
pub(super) fn text_field(
    name: &str,
    label: &str,
    kind: &str,
    value: &str,
    errors: &FieldErrors,
    autocomplete: &str,
    help: Option<&str>,
) -> Markup {
    html! {
        div.field {
            label for=(name) { (label) }
            input id=(name) name=(name) type=(kind) value=(value) required autocomplete=(autocomplete)
                aria-invalid=[errors.message_for(name).map(|_| "true")]
                aria-describedby=[described_by(errors, name)];
            @if let Some(help) = help { span.help { (help) } }
            (field_error(errors, name))
        }
    }
}

/// A labelled optional input with its help and its error next to it;
/// `kind` is `text` or `number` (whole numbers of 0 or more).
pub(super) fn input_field(
    name: &str,
    label: &str,
    kind: &str,
    value: &str,
    errors: &FieldErrors,
    help: Option<&str>,
) -> Markup {
    let number = kind == "number";
    html! {
        div.field {
            label for=(name) { (label) }
            input id=(name) name=(name) type=(kind) min=[number.then_some("0")]
                step=[number.then_some("1")] inputmode=[number.then_some("numeric")] value=(value)
                aria-invalid=[errors.message_for(name).map(|_| "true")]
                aria-describedby=[described_by(errors, name)];
            @if let Some(help) = help { span.help { (help) } }
            (field_error(errors, name))
        }
    }
}

/// A one-button form that posts to `action` with the session's form token
/// and `hidden` fields; `class` is the button's (`secondary`, `danger`),
/// `confirm` the question the script asks first.
pub(super) fn post_button(
    action: &str,
    form_token: &str,
    hidden: &[(&str, &str)],
    class: &str,
    label: &str,
    confirm: Option<&str>,
) -> Markup {
    html! {
        form method="post" action=(action) data-confirm=[confirm] {
            (csrf_field(form_token))
            @for (name, value) in hidden {
                input type="hidden" name=(name) value=(value);
            }
            button class=(format!("{class} small")) type="submit" { (label) }
        }
    }
}
