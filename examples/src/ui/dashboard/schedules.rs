//! The organizer's schedules: the list (each with its zone, whether it is
//! the default, which event types use it, and buttons to edit, make
//! default and delete), and the form to create or edit one with the hours
//! editor.
//!
//! | page | what it does |
//! |---|---|
//! | `GET /dashboard/schedules` | the list |
//! | `GET`/`POST /dashboard/schedules/new` | creates one |
//! | `GET`/`POST /dashboard/schedules/{id}/edit` | changes one |
//! | `POST /dashboard/schedules/{id}/default` | makes it the default |
//! | `POST /dashboard/schedules/{id}/delete` | deletes it (not the default, nor one in use) |

use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use booking_core::{Schedule, ScheduleId, ServiceError};
use maud::html;
use serde::Deserialize;

use super::super::Ui;
use super::super::form::FormFields;
use super::super::format::url_with;
use super::super::hours_editor::{ACTION_FIELD, Edit};
use super::super::layout::{Shell, document, internal_error, post_button, respond};
use super::super::schedule_form::{self, ScheduleForm};
use super::super::session::SessionKey;
use crate::http::fields::{FieldErrors, Surface, renamed};

/// Where the list lives.
pub(in crate::ui) const URL: &str = "/dashboard/schedules";

/// `?notice=` of the list, and the message of a refused deletion.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(in crate::ui) struct ListParams {
    notice: String,
    /// The slug of the event type that keeps a schedule in use.
    slug: String,
}

fn back(notice: &str) -> Response {
    Redirect::to(&url_with(URL, &[("notice", notice)])).into_response()
}

/// `GET /dashboard/schedules`.
pub(in crate::ui) async fn list(
    State(ui): State<Ui>,
    headers: HeaderMap,
    params: Result<Query<ListParams>, QueryRejection>,
) -> Response {
    let (organizer, key) = match ui.require_organizer(&headers).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let config = match ui.service.organizer_config(organizer.id).await {
        Ok(config) => config,
        Err(error) => return internal_error(&error),
    };
    let params = params.map(|Query(p)| p).unwrap_or_default();
    let notice = match params.notice.as_str() {
        "created" => Some(("Schedule created.".to_owned(), false)),
        "saved" => Some(("Schedule saved.".to_owned(), false)),
        "deleted" => Some(("Schedule deleted.".to_owned(), false)),
        "default" => Some(("That schedule is now the default.".to_owned(), false)),
        "is_default" => Some((
            "The default schedule cannot be deleted: make another schedule the default first."
                .to_owned(),
            true,
        )),
        "in_use" => Some((
            format!(
                "That schedule is used by the event type “{}”: give it another schedule first.",
                params.slug
            ),
            true,
        )),
        "not_found" => Some(("That schedule no longer exists.".to_owned(), true)),
        _ => None,
    };
    let form_token = ui.form_token(&key);
    let users = |schedule: &Schedule| -> Vec<String> {
        config
            .event_types
            .iter()
            .filter(|e| {
                e.schedule_id == Some(schedule.id)
                    || (e.schedule_id.is_none() && schedule.is_default)
            })
            .map(|e| e.title.clone())
            .collect()
    };
    let body = html! {
        section.dashboard-head {
            h1 { "Schedules" }
            p.muted { "Your working hours, by name. Each event type offers the hours of one schedule, the default one unless it says otherwise." }
            @if let Some((message, is_error)) = &notice {
                p.notice.error[*is_error] #notice role="status" { (message) }
            }
            p { a.button.primary #new-schedule href=(format!("{URL}/new")) { "+ New schedule" } }
        }
        @if config.schedules.is_empty() {
            p.card.muted #no-schedules { "No schedules yet." }
        } @else {
            table.bookings #schedules {
                thead { tr { th { "Schedule" } th { "Time zone" } th { "Used by" } th { span.visually-hidden { "Actions" } } } }
                tbody {
                    @for schedule in &config.schedules {
                        @let id = schedule.id.to_string();
                        tr data-schedule-id=(id) {
                            td data-label="Schedule" {
                                a.schedule-name href=(format!("{URL}/{id}/edit")) { (schedule.name) }
                                @if schedule.is_default { " " span.badge #default-badge { "Default" } }
                            }
                            td data-label="Time zone" { (schedule.time_zone.name()) }
                            td data-label="Used by" {
                                @let used = users(schedule);
                                @if used.is_empty() { span.muted { "No event type" } } @else { (used.join(", ")) }
                            }
                            td.actions {
                                @if !schedule.is_default {
                                    (post_button(&format!("{URL}/{id}/default"), &form_token, &[], "secondary", "Make default", None))
                                    (post_button(&format!("{URL}/{id}/delete"), &form_token, &[], "danger", "Delete",
                                        Some(&format!("Delete the schedule “{}”?", schedule.name))))
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    respond(
        StatusCode::OK,
        document("Schedules", Shell::organizer(&form_token), body),
    )
}

/// The form page around its form.
struct FormPage {
    title: &'static str,
    action: String,
    form_token: String,
    notice: Option<&'static str>,
}

impl FormPage {
    fn respond(&self, values: &ScheduleForm, errors: &FieldErrors, status: StatusCode) -> Response {
        let body = html! {
            section.dashboard-head {
                h1 { (self.title) }
                p.muted { a href=(URL) { "‹ All schedules" } }
                @if let Some(notice) = self.notice {
                    p.notice.warning #notice role="status" { (notice) }
                }
                @if !errors.is_empty() {
                    p.notice.error #form-errors role="alert" { "Nothing was saved: please correct the fields marked below." }
                }
            }
            (schedule_form::render(values, errors, &self.action, &self.form_token, "Save schedule"))
        };
        respond(
            status,
            document(self.title, Shell::organizer(&self.form_token), body),
        )
    }
}

fn form_page(ui: &Ui, key: &SessionKey, id: Option<ScheduleId>) -> FormPage {
    let (title, action) = match id {
        None => ("New schedule", format!("{URL}/new")),
        Some(id) => ("Edit schedule", format!("{URL}/{id}/edit")),
    };
    FormPage {
        title,
        action,
        form_token: ui.form_token(key),
        notice: None,
    }
}

/// `GET /dashboard/schedules/new`: a suggestion in the organizer's zone.
pub(in crate::ui) async fn new_page(State(ui): State<Ui>, headers: HeaderMap) -> Response {
    let (organizer, key) = match ui.require_organizer(&headers).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let zone = match super::organizer_zone(&ui, &organizer).await {
        Ok(zone) => zone,
        Err(page) => return page,
    };
    form_page(&ui, &key, None).respond(
        &ScheduleForm::starting_point(zone),
        &FieldErrors::new(),
        StatusCode::OK,
    )
}

/// `GET /dashboard/schedules/{id}/edit`.
pub(in crate::ui) async fn edit_page(
    State(ui): State<Ui>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let (organizer, key) = match ui.require_organizer(&headers).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let Ok(id) = id.parse::<ScheduleId>() else {
        return back("not_found");
    };
    match ui.service.schedule(organizer.id, id).await {
        Ok(schedule) => form_page(&ui, &key, Some(id)).respond(
            &ScheduleForm::from_schedule(&schedule),
            &FieldErrors::new(),
            StatusCode::OK,
        ),
        Err(ServiceError::ScheduleNotFound) => back("not_found"),
        Err(error) => internal_error(&error),
    }
}

/// `POST /dashboard/schedules/new`.
pub(in crate::ui) async fn create(
    State(ui): State<Ui>,
    headers: HeaderMap,
    form: Result<Form<FormFields>, FormRejection>,
) -> Response {
    save(ui, headers, None, form).await
}

/// `POST /dashboard/schedules/{id}/edit`.
pub(in crate::ui) async fn update(
    State(ui): State<Ui>,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: Result<Form<FormFields>, FormRejection>,
) -> Response {
    let Ok(id) = id.parse::<ScheduleId>() else {
        return back("not_found");
    };
    save(ui, headers, Some(id), form).await
}

/// An Add or Remove button of the hours editor shows the form again with
/// the change and nothing saved; Save validates and saves.
async fn save(
    ui: Ui,
    headers: HeaderMap,
    id: Option<ScheduleId>,
    form: Result<Form<FormFields>, FormRejection>,
) -> Response {
    let (organizer, key, fields) = match ui.signed_in_post(&headers, form).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    let mut values = ScheduleForm::from_form(&fields);
    let mut page = form_page(&ui, &key, id);
    let action = fields.first(ACTION_FIELD);
    if !action.is_empty() && action != "save" {
        if let Some(edit) = Edit::parse(action) {
            values.apply(edit);
        }
        page.notice = Some("Not saved yet: press Save schedule when you are done.");
        return page.respond(&values, &FieldErrors::new(), StatusCode::OK);
    }
    let draft = match values.to_draft() {
        Ok(draft) => draft,
        Err(errors) => return page.respond(&values, &errors, StatusCode::UNPROCESSABLE_ENTITY),
    };
    let saved = match id {
        None => ui.service.create_schedule(organizer.id, draft).await,
        Some(id) => ui.service.update_schedule(organizer.id, id, draft).await,
    };
    match saved {
        Ok(_) => back(if id.is_none() { "created" } else { "saved" }),
        Err(ServiceError::ScheduleNotFound) => back("not_found"),
        Err(ServiceError::Validation(refused)) => page.respond(
            &values,
            &ScheduleForm::errors_for(renamed(refused, Surface::Body)),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(error) => internal_error(&error),
    }
}

/// `POST /dashboard/schedules/{id}/default`.
pub(in crate::ui) async fn make_default(
    State(ui): State<Ui>,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: Result<Form<FormFields>, FormRejection>,
) -> Response {
    let (organizer, _, _) = match ui.signed_in_post(&headers, form).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    let Ok(id) = id.parse::<ScheduleId>() else {
        return back("not_found");
    };
    let schedule = match ui.service.schedule(organizer.id, id).await {
        Ok(schedule) => schedule,
        Err(ServiceError::ScheduleNotFound) => return back("not_found"),
        Err(error) => return internal_error(&error),
    };
    let draft = booking_core::ScheduleDraft {
        is_default: true,
        ..schedule.to_draft()
    };
    match ui.service.update_schedule(organizer.id, id, draft).await {
        Ok(_) => back("default"),
        Err(ServiceError::ScheduleNotFound) => back("not_found"),
        Err(error) => internal_error(&error),
    }
}

/// `POST /dashboard/schedules/{id}/delete`.
pub(in crate::ui) async fn delete(
    State(ui): State<Ui>,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: Result<Form<FormFields>, FormRejection>,
) -> Response {
    let (organizer, _, _) = match ui.signed_in_post(&headers, form).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    let Ok(id) = id.parse::<ScheduleId>() else {
        return back("not_found");
    };
    match ui.service.delete_schedule(organizer.id, id).await {
        Ok(()) => back("deleted"),
        Err(ServiceError::ScheduleNotFound) => back("not_found"),
        Err(ServiceError::ScheduleInUse(_)) => {
            // Which event type keeps it, for the message.
            let user = ui
                .service
                .event_types(organizer.id)
                .await
                .ok()
                .and_then(|types| {
                    types
                        .into_iter()
                        .find(|e| e.schedule_id == Some(id))
                        .map(|e| e.title)
                });
            match user {
                Some(title) => {
                    Redirect::to(&url_with(URL, &[("notice", "in_use"), ("slug", &title)]))
                        .into_response()
                }
                None => back("is_default"),
            }
        }
        Err(error) => internal_error(&error),
    }
}
