//! The organizer's event types: the list (each with its link, lengths,
//! place, schedule, and buttons to edit, switch on or off, and delete), and
//! the form to create or edit one.
//!
//! | page | what it does |
//! |---|---|
//! | `GET /dashboard/event-types` | the list |
//! | `GET`/`POST /dashboard/event-types/new` | creates one |
//! | `GET`/`POST /dashboard/event-types/{slug}/edit` | changes one (a new link name renames it) |
//! | `POST /dashboard/event-types/{slug}/active` | `active=on` or `off`: bookable or not |
//! | `POST /dashboard/event-types/{slug}/delete` | deletes it; its bookings stay |

use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use booking_core::{EventType, Organizer, Schedule, ServiceError};
use maud::html;
use serde::Deserialize;

use super::super::Ui;
use super::super::booking::lengths_text;
use super::super::event_type_form::{self, EventTypeForm, FormContext};
use super::super::form::FormFields;
use super::super::format::url_with;
use super::super::layout::{Shell, document, internal_error, post_button, respond};
use super::super::location;
use super::super::session::SessionKey;
use crate::http::fields::{FieldErrors, Surface, renamed};

/// Where the list lives.
pub(in crate::ui) const URL: &str = "/dashboard/event-types";

/// `?notice=` of the list.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(in crate::ui) struct ListParams {
    notice: String,
}

/// `GET /dashboard/event-types`.
pub(in crate::ui) async fn list(
    State(ui): State<Ui>,
    headers: HeaderMap,
    params: Result<Query<ListParams>, QueryRejection>,
) -> Response {
    let (organizer, key) = match ui.require_organizer(&headers).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let (event_types, schedules) = match config(&ui, &organizer).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    let notice = params.map(|Query(p)| p.notice).unwrap_or_default();
    let notice = match notice.as_str() {
        "created" => Some(("Event type created.", false)),
        "saved" => Some(("Event type saved.", false)),
        "deleted" => Some(("Event type deleted. Its bookings stay in your list.", false)),
        "activated" => Some(("The event type can be booked again.", false)),
        "deactivated" => Some(("The event type is hidden; nobody can book it now.", false)),
        "not_found" => Some(("That event type no longer exists.", true)),
        _ => None,
    };
    let form_token = ui.form_token(&key);
    let schedule_name = |event_type: &EventType| -> String {
        match event_type.schedule_id {
            None => "Default schedule".to_owned(),
            Some(id) => schedules
                .iter()
                .find(|s| s.id == id)
                .map_or_else(|| "Default schedule".to_owned(), |s| s.name.clone()),
        }
    };
    let body = html! {
        section.dashboard-head {
            h1 { "Event types" }
            p.muted { "What people can book with you, each at its own link." }
            @if let Some((message, is_error)) = notice {
                p.notice.error[is_error] #notice role="status" { (message) }
            }
            p { a.button.primary #new-event-type href=(format!("{URL}/new")) { "+ New event type" } }
        }
        @if event_types.is_empty() {
            p.card.muted #no-event-types { "No event types yet. Create one, or save your settings to get a default one." }
        } @else {
            table.bookings #event-types {
                thead { tr { th { "Event type" } th { "Length" } th { "Where" } th { "Hours" } th { span.visually-hidden { "Actions" } } } }
                tbody {
                    @for event_type in &event_types {
                        @let slug = event_type.slug.as_str();
                        tr data-slug=(slug) {
                            td data-label="Event type" {
                                a.event-type-title href=(format!("{URL}/{slug}/edit")) { (event_type.title) }
                                br;
                                a.muted href=(format!("/{}/{slug}", organizer.username)) { "/" (organizer.username) "/" (slug) }
                                @if !event_type.active { " " span.badge.inactive { "Hidden" } }
                            }
                            td data-label="Length" { (lengths_text(event_type)) " min" }
                            td data-label="Where" {
                                @if let Some(place) = &event_type.location {
                                    (location::inline(place))
                                } @else {
                                    span.muted { "Not said" }
                                }
                            }
                            td data-label="Hours" { (schedule_name(event_type)) }
                            td.actions {
                                @let (switch, label) = if event_type.active { ("off", "Hide") } else { ("on", "Show") };
                                (post_button(&format!("{URL}/{slug}/active"), &form_token, &[("active", switch)], "secondary", label, None))
                                (post_button(&format!("{URL}/{slug}/delete"), &form_token, &[], "danger", "Delete",
                                    Some(&format!("Delete “{}”? Its bookings stay.", event_type.title))))
                            }
                        }
                    }
                }
            }
        }
    };
    respond(
        StatusCode::OK,
        document("Event types", Shell::organizer(&form_token), body),
    )
}

/// The organizer's event types and schedules.
async fn config(
    ui: &Ui,
    organizer: &Organizer,
) -> Result<(Vec<EventType>, Vec<Schedule>), Response> {
    let config = ui
        .service
        .organizer_config(organizer.id)
        .await
        .map_err(|error| internal_error(&error))?;
    Ok((config.event_types, config.schedules))
}

/// The form page around its form.
struct FormPage<'a> {
    title: &'a str,
    action: String,
    form_token: String,
    schedules: Vec<Schedule>,
}

impl FormPage<'_> {
    fn respond(
        &self,
        values: &EventTypeForm,
        errors: &FieldErrors,
        status: StatusCode,
    ) -> Response {
        let context = FormContext {
            action: &self.action,
            form_token: &self.form_token,
            schedules: &self.schedules,
            submit: "Save event type",
        };
        let body = html! {
            section.dashboard-head {
                h1 { (self.title) }
                p.muted { a href=(URL) { "‹ All event types" } }
                @if !errors.is_empty() {
                    p.notice.error #form-errors role="alert" { "Nothing was saved: please correct the fields marked below." }
                }
            }
            (event_type_form::render(values, errors, &context))
        };
        respond(
            status,
            document(self.title, Shell::organizer(&self.form_token), body),
        )
    }
}

/// What a page of this module starts with: the organizer, their session,
/// and their schedules for the form.
async fn form_page(
    ui: &Ui,
    headers: &HeaderMap,
    title: &'static str,
    action: String,
) -> Result<(Organizer, SessionKey, Vec<EventType>, FormPage<'static>), Response> {
    let (organizer, key) = ui.require_organizer(headers).await?;
    let (event_types, schedules) = config(ui, &organizer).await?;
    let page = FormPage {
        title,
        action,
        form_token: ui.form_token(&key),
        schedules,
    };
    Ok((organizer, key, event_types, page))
}

/// `GET /dashboard/event-types/new`.
pub(in crate::ui) async fn new_page(State(ui): State<Ui>, headers: HeaderMap) -> Response {
    match form_page(&ui, &headers, "New event type", format!("{URL}/new")).await {
        Ok((_, _, _, page)) => page.respond(
            &EventTypeForm::starting_point(),
            &FieldErrors::new(),
            StatusCode::OK,
        ),
        Err(page) => page,
    }
}

/// `GET /dashboard/event-types/{slug}/edit`.
pub(in crate::ui) async fn edit_page(
    State(ui): State<Ui>,
    headers: HeaderMap,
    Path(slug): Path<String>,
) -> Response {
    let (_, _, event_types, page) = match form_page(
        &ui,
        &headers,
        "Edit event type",
        format!("{URL}/{slug}/edit"),
    )
    .await
    {
        Ok(found) => found,
        Err(page) => return page,
    };
    match event_types.iter().find(|e| e.slug == *slug.as_str()) {
        Some(event_type) => page.respond(
            &EventTypeForm::from_event_type(event_type),
            &FieldErrors::new(),
            StatusCode::OK,
        ),
        None => Redirect::to(&url_with(URL, &[("notice", "not_found")])).into_response(),
    }
}

/// A refusal of booking-core as the form shows it, with its status; `None`
/// for failures that are not about the form.
fn refusal(error: ServiceError) -> Result<(FieldErrors, StatusCode), ServiceError> {
    match error {
        ServiceError::Validation(refused) => Ok((
            renamed(refused, Surface::Body),
            StatusCode::UNPROCESSABLE_ENTITY,
        )),
        ServiceError::SlugTaken(slug) => Ok((
            FieldErrors::single(
                "slug",
                format!("You already have an event type at “{slug}”; pick another link name."),
            ),
            StatusCode::CONFLICT,
        )),
        other => Err(other),
    }
}

/// `POST /dashboard/event-types/new`: creates the event type.
pub(in crate::ui) async fn create(
    State(ui): State<Ui>,
    headers: HeaderMap,
    form: Result<Form<FormFields>, FormRejection>,
) -> Response {
    let (organizer, _, fields) = match ui.signed_in_post(&headers, form).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    save(&ui, &headers, &organizer, None, &fields).await
}

/// `POST /dashboard/event-types/{slug}/edit`: saves the event type.
pub(in crate::ui) async fn update(
    State(ui): State<Ui>,
    headers: HeaderMap,
    Path(slug): Path<String>,
    form: Result<Form<FormFields>, FormRejection>,
) -> Response {
    let (organizer, _, fields) = match ui.signed_in_post(&headers, form).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    save(&ui, &headers, &organizer, Some(&slug), &fields).await
}

/// Creates (`current` is `None`) or replaces the event type the form
/// describes; errors come back next to their fields, everything typed kept.
async fn save(
    ui: &Ui,
    headers: &HeaderMap,
    organizer: &Organizer,
    current: Option<&str>,
    fields: &FormFields,
) -> Response {
    let values = EventTypeForm::from_form(fields);
    let (title, action) = match current {
        None => ("New event type", format!("{URL}/new")),
        Some(slug) => ("Edit event type", format!("{URL}/{slug}/edit")),
    };
    let (_, _, _, page) = match form_page(ui, headers, title, action).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    let draft = match values.to_draft() {
        Ok(draft) => draft,
        Err(errors) => return page.respond(&values, &errors, StatusCode::UNPROCESSABLE_ENTITY),
    };
    let saved = match current {
        None => ui.service.create_event_type(organizer.id, draft).await,
        Some(slug) => {
            ui.service
                .update_event_type(organizer.id, slug, draft)
                .await
        }
    };
    match saved {
        Ok(event_type) => {
            tracing::info!(organizer = %organizer.id, slug = %event_type.slug, "event type saved on the page");
            let notice = if current.is_none() {
                "created"
            } else {
                "saved"
            };
            Redirect::to(&url_with(URL, &[("notice", notice)])).into_response()
        }
        Err(ServiceError::EventTypeNotFound) => {
            Redirect::to(&url_with(URL, &[("notice", "not_found")])).into_response()
        }
        Err(error) => match refusal(error) {
            Ok((errors, status)) => page.respond(&values, &errors, status),
            Err(error) => internal_error(&error),
        },
    }
}

/// `POST /dashboard/event-types/{slug}/active`: `active=on` shows the event
/// type on the booking page, `off` hides it.
pub(in crate::ui) async fn set_active(
    State(ui): State<Ui>,
    headers: HeaderMap,
    Path(slug): Path<String>,
    form: Result<Form<FormFields>, FormRejection>,
) -> Response {
    let (organizer, _, fields) = match ui.signed_in_post(&headers, form).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    let active = fields.first("active") == "on";
    let current = match ui.service.event_type(organizer.id, &slug).await {
        Ok(found) => found,
        Err(ServiceError::EventTypeNotFound) => {
            return Redirect::to(&url_with(URL, &[("notice", "not_found")])).into_response();
        }
        Err(error) => return internal_error(&error),
    };
    let draft = booking_core::EventTypeDraft {
        active,
        ..current.to_draft()
    };
    match ui
        .service
        .update_event_type(organizer.id, &slug, draft)
        .await
    {
        Ok(_) => {
            let notice = if active { "activated" } else { "deactivated" };
            Redirect::to(&url_with(URL, &[("notice", notice)])).into_response()
        }
        Err(ServiceError::EventTypeNotFound) => {
            Redirect::to(&url_with(URL, &[("notice", "not_found")])).into_response()
        }
        Err(error) => internal_error(&error),
    }
}

/// `POST /dashboard/event-types/{slug}/delete`.
pub(in crate::ui) async fn delete(
    State(ui): State<Ui>,
    headers: HeaderMap,
    Path(slug): Path<String>,
    form: Result<Form<FormFields>, FormRejection>,
) -> Response {
    let (organizer, _, _) = match ui.signed_in_post(&headers, form).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    let notice = match ui.service.delete_event_type(organizer.id, &slug).await {
        Ok(()) => "deleted",
        Err(ServiceError::EventTypeNotFound) => "not_found",
        Err(error) => return internal_error(&error),
    };
    Redirect::to(&url_with(URL, &[("notice", notice)])).into_response()
}
