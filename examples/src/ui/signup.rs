//! The sign-up page: creates an organizer without curl, shows their API
//! token once, and signs them in.

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use booking_core::{NewOrganizer, Organizer, ServiceError};
use chrono_tz::Tz;
use maud::html;
use serde::Deserialize;

use super::Ui;
use super::layout::{
    Shell, csrf_field, described_by, document, field_error, internal_error, respond, text_field,
};
use super::session::NotStarted;
use super::zones;
use crate::http::fields::{FieldErrors, Surface, renamed};

/// Where the sign-up form lives and posts.
pub(super) const URL: &str = "/dashboard/signup";

/// The sign-up form's fields, named as in `POST /api/organizers`.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct SignUpForm {
    csrf: String,
    username: String,
    email: String,
    name: String,
    time_zone: String,
}

/// `GET /dashboard/signup`: the empty form; the script preselects the
/// browser's time zone.
pub(super) async fn page(State(ui): State<Ui>, headers: HeaderMap) -> Response {
    form_page(
        &ui,
        &headers,
        &SignUpForm::default(),
        &FieldErrors::new(),
        StatusCode::OK,
    )
}

/// `POST /dashboard/signup`: registers the organizer. Refusals come back next
/// to their fields in the service's words; success shows the API token once
/// and starts a session.
pub(super) async fn sign_up(
    State(ui): State<Ui>,
    headers: HeaderMap,
    form: Result<Form<SignUpForm>, FormRejection>,
) -> Response {
    let form = form.map(|Form(f)| f).unwrap_or_default();
    if let Err(refused) = ui.check_sign_in_form(&headers, &form.csrf) {
        return refused.into_response();
    }
    let mut errors = FieldErrors::new();
    let zone = zones::read(&form.time_zone, &mut errors);
    let new = NewOrganizer::new(
        form.username.trim(),
        form.email.trim(),
        form.name.trim(),
        zone.unwrap_or(Tz::UTC),
    );
    if let Err(refused) = new.validate() {
        add_refusals(&mut errors, refused);
    }
    if !errors.is_empty() {
        return form_page(
            &ui,
            &headers,
            &form,
            &errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    match ui.service.register_organizer(new).await {
        Ok((organizer, token)) => {
            tracing::info!(organizer = %organizer.id, username = %organizer.username, "organizer signed up on the page");
            welcome(&ui, &headers, token.expose()).await
        }
        Err(ServiceError::Validation(refused)) => {
            add_refusals(&mut errors, refused);
            form_page(
                &ui,
                &headers,
                &form,
                &errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
        Err(error @ ServiceError::UsernameTaken(_)) => {
            errors.add("username", sentence(&error.to_string()));
            form_page(&ui, &headers, &form, &errors, StatusCode::CONFLICT)
        }
        Err(error) => internal_error(&error),
    }
}

/// booking-core's refusals, next to the form's fields (named as in
/// `POST /api/organizers`).
fn add_refusals(errors: &mut FieldErrors, refused: booking_core::ValidationErrors) {
    for error in renamed(refused, Surface::Body).errors() {
        errors.add(error.field.clone(), sentence(&error.message));
    }
}

/// The service's messages are phrases (`Username is required`); the page
/// writes sentences.
fn sentence(message: &str) -> String {
    let mut chars = message.chars();
    let mut text: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => return String::new(),
    };
    if !text.ends_with('.') {
        text.push('.');
    }
    text
}

fn form_page(
    ui: &Ui,
    headers: &HeaderMap,
    form: &SignUpForm,
    errors: &FieldErrors,
    status: StatusCode,
) -> Response {
    let (pre_session, new_cookie) = match ui.pre_session(headers) {
        Ok(found) => found,
        Err(refused) => return refused.into_response(),
    };
    let chosen = zones::parse(&form.time_zone);
    let body = html! {
        section.card.narrow {
            h1 { "Create an organizer account" }
            p { "People book meetings with you at your own page. You will set your hours next." }
            form #signup-form method="post" action=(URL) novalidate {
                (csrf_field(&ui.sign_in_token(&pre_session)))
                (text_field("username", "Username", "text", &form.username, errors, "username",
                    Some("Your booking page's address: 3 to 64 letters, digits, “_”, “-” or “.”.")))
                (text_field("name", "Your name", "text", &form.name, errors, "name", Some("Shown to the people who book you.")))
                (text_field("email", "Email", "email", &form.email, errors, "email", None))
                div.field {
                    label for="timeZone" { "Your time zone" }
                    // Without a choice yet, the script picks the browser's zone.
                    select #timeZone name="timeZone" data-detect-zone[chosen.is_none()]
                        aria-invalid=[errors.message_for("timeZone").map(|_| "true")]
                        aria-describedby=[described_by(errors, "timeZone")] {
                        @for option in zones::options_with(chosen.unwrap_or(Tz::UTC)) {
                            option value=(option.name()) selected[Some(option) == chosen || (chosen.is_none() && option == Tz::UTC)] { (option.name()) }
                        }
                    }
                    (field_error(errors, "timeZone"))
                }
                button.primary #signup-button type="submit" { "Create account" }
            }
            p.muted { "Already have an account? " a href="/dashboard" { "Sign in" } "." }
        }
    };
    let mut page = respond(status, document("Sign up", Shell::default(), body));
    if let Some(cookie) = new_cookie {
        page.headers_mut().append(header::SET_COOKIE, cookie);
    }
    page
}

/// The page after signing up: the token, once, and the way on.
async fn welcome(ui: &Ui, headers: &HeaderMap, api_token: &str) -> Response {
    let (organizer, key, cookie) = match ui.start_session(headers, api_token).await {
        Ok(started) => started,
        Err(NotStarted::Page(page)) => return page,
        Err(NotStarted::WrongToken) => {
            return internal_error(&ServiceError::Unauthorized);
        }
    };
    let organizer: &Organizer = &organizer;
    let form_token = ui.form_token(&key);
    let body = html! {
        section.card.narrow #welcome {
            p.eyebrow { "Account created" }
            h1 { "Welcome, " (organizer.display_name) }
            div.notice.warning role="alert" {
                p { strong { "Copy your API token now: it is shown only this once." } }
                p { "You need it to sign in on another browser or after signing out, and for the API. Only a fingerprint of it is kept, so nobody can show it to you again." }
            }
            div.field {
                label for="api-token" { "Your API token" }
                div.copy-row {
                    input #api-token.token type="text" readonly value=(api_token) autocomplete="off" spellcheck="false";
                    button.secondary.js-only #copy-token type="button" data-copy="api-token" { "Copy" }
                }
                span.help.js-only #copy-status role="status" aria-live="polite" {}
            }
            p { "You are signed in. Next, set the hours people can book you; your page will be "
                a href=(format!("/{}", organizer.username)) { "/" (organizer.username) } "." }
            p.next-steps {
                a.button.primary #set-hours href="/dashboard/settings" { "Set your hours" }
                " "
                a.button.secondary href="/dashboard" { "Your bookings" }
            }
        }
    };
    let mut page = respond(
        StatusCode::CREATED,
        document("Account created", Shell::organizer(&form_token), body),
    );
    page.headers_mut().append(header::SET_COOKIE, cookie);
    page
}
